/* fuzz_gsup: the receive path of channel gsup without the socket: osmo_gsup_decode() of a GSUP message, then
 * the 04.80 component in its SS_INFO, then the USSD text; also the component alone, and re-encoding what
 * decoded (which must decode again to the same component). */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>
#include <osmocom/gsm/gsup.h>
#include <osmocom/uigw/codec/ss_codec.h>

static void comp_path(const uint8_t *data, size_t size)
{
	struct uigw_ss_comp c, d;
	char text[UIGW_USSD_UTF8_MAX], lang[3];
	uint8_t out[512];
	int n;

	if (uigw_ss_comp_decode(data, size, &c) < 0)
		return;
	if (c.has_ussd)
		uigw_ussd_text_decode(&c.ussd, text, sizeof(text), lang);
	/* what decoded re-encodes (msisdn digits may not: TBCD filler in the middle) and decodes the same */
	n = uigw_ss_comp_encode(out, sizeof(out), &c);
	if (n < 0)
		return;
	if (uigw_ss_comp_decode(out, n, &d) < 0)
		abort();
	if (d.type != c.type || d.invoke_id != c.invoke_id || d.has_ussd != c.has_ussd ||
	    (c.has_ussd && (d.ussd.data_len != c.ussd.data_len || memcmp(d.ussd.data, c.ussd.data, c.ussd.data_len))))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct osmo_gsup_message gm;

	comp_path(data, size);
	if (osmo_gsup_decode(data, size, &gm) == 0 && gm.ss_info && gm.ss_info_len)
		comp_path(gm.ss_info, gm.ss_info_len);
	return 0;
}
