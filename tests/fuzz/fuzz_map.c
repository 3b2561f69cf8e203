/* fuzz_map: the MAP USSD decoders of channel map on their own: a MAP dialogue PDU (the user information of an
 * AARQ/AARE/ABRT), an AddressString, a USSD component with its text; what decodes re-encodes and decodes the
 * same. The input's first octet picks the decoder. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>
#include <osmocom/uigw/codec/ber.h>
#include <osmocom/uigw/codec/map.h>
#include <osmocom/uigw/codec/ss_codec.h>

static void dlg_path(const uint8_t *data, size_t size)
{
	struct uigw_map_dlg d, e;
	uint8_t out[512];
	int n;

	if (uigw_map_dlg_decode(data, size, &d) < 0)
		return;
	if (d.kind != UIGW_MAP_DLG_OPEN && d.kind != UIGW_MAP_DLG_USER_ABORT && d.kind != UIGW_MAP_DLG_REFUSE)
		return;
	n = uigw_map_dlg_encode(out, sizeof(out), &d);
	if (n < 0)
		return;
	if (uigw_map_dlg_decode(out, n, &e) < 0 || e.kind != d.kind || e.has_dest != d.has_dest ||
	    (d.has_dest && strcmp(e.dest.digits, d.dest.digits)))
		abort();
}

static void addr_path(const uint8_t *data, size_t size)
{
	struct uigw_map_addr a;
	char s[UIGW_MAP_ADDR_DIGITS + 2];

	if (uigw_map_addr_dec(data, size, &a) < 0)
		return;
	uigw_map_addr_str(&a, s, sizeof(s));
	if (strlen(s) > UIGW_MAP_ADDR_DIGITS + 1)
		abort();
}

static void comp_path(const uint8_t *data, size_t size)
{
	struct uigw_ss_comp c, d;
	char text[UIGW_USSD_UTF8_MAX];
	uint8_t out[512];
	int n;

	if (uigw_ss_comp_decode(data, size, &c) < 0)
		return;
	if (c.has_ussd && uigw_ussd_text_decode(&c.ussd, text, sizeof(text), NULL) >= 0) {
		struct uigw_ussd_arg a;

		/* a decoded text codes again (if it fits a USSD string) */
		if (uigw_ussd_text_encode(&a, text) == 0 && a.data_len > UIGW_USSD_MAX_OCTETS)
			abort();
	}
	n = uigw_ss_comp_encode(out, sizeof(out), &c);
	if (n >= 0 && (uigw_ss_comp_decode(out, n, &d) < 0 || d.type != c.type))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		dlg_path(data + 1, size - 1);
		break;
	case 1:
		addr_path(data + 1, size - 1);
		break;
	default:
		comp_path(data + 1, size - 1);
		break;
	}
	return 0;
}
