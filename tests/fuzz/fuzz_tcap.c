/* fuzz_tcap: the receive path of channel map without SCCP: a TCAP message (what uigw_tcap_decode() makes of it,
 * and the P-Abort it would owe), its dialogue portion's MAP dialogue PDU, every component, and the USSD text.
 * What decoded re-encodes, and the re-encoding decodes to the same message. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>
#include <osmocom/uigw/codec/map.h>
#include <osmocom/uigw/codec/ss_codec.h>
#include <osmocom/uigw/codec/tcap.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uigw_tcap_msg m, d;
	struct uigw_tcap_err err;
	struct uigw_map_dlg md;
	struct uigw_ss_comp c;
	const uint8_t *pos, *cp;
	size_t rem, clen;
	char text[UIGW_USSD_UTF8_MAX];
	uint8_t out[4096];
	int n;

	if (uigw_tcap_decode(data, size, &m, &err) < 0) {
		/* the tid to answer was read inside the input */
		if (err.abort && err.dtid.len > 4)
			abort();
		return 0;
	}
	if (m.has_dialogue && m.dlg.user_info)
		uigw_map_dlg_decode(m.dlg.user_info, m.dlg.user_info_len, &md);
	pos = m.comps;
	rem = m.comps_len;
	while (uigw_tcap_comp_next(&pos, &rem, &cp, &clen) == 1) {
		if (cp < data || cp + clen > data + size)
			abort();
		if (uigw_ss_comp_decode(cp, clen, &c) == 0 && c.has_ussd)
			uigw_ussd_text_decode(&c.ussd, text, sizeof(text), NULL);
	}
	n = uigw_tcap_encode(out, sizeof(out), &m);
	if (n < 0)
		return 0;
	if (uigw_tcap_decode(out, n, &d, NULL) < 0)
		abort();
	if (d.type != m.type || d.otid.len != m.otid.len || memcmp(d.otid.b, m.otid.b, m.otid.len) ||
	    d.dtid.len != m.dtid.len || memcmp(d.dtid.b, m.dtid.b, m.dtid.len) || d.comps_len != m.comps_len ||
	    d.has_dialogue != m.has_dialogue || (m.has_dialogue && d.dlg.apdu != m.dlg.apdu))
		abort();
	return 0;
}
