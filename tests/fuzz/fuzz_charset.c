/* libFuzzer target: every conversion of src/codec/charset.c on arbitrary bytes; round trips checked where they must
 * hold. Aborts on any violated property. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <osmocom/uigw/codec/charset.h>

#define MAX_IN 2048

static uint8_t sept[2 * MAX_IN + 2], sept2[2 * MAX_IN + 2], oct[2 * MAX_IN + 2], ucs2[4 * MAX_IN];
static char utf8[4 * MAX_IN + 8], utf8b[4 * MAX_IN + 8];

#define CHECK(x) do { if (!(x)) abort(); } while (0)

/* UTF-8 decoding is consistent with validation, counting and encoding */
static void check_utf8(const char *s, size_t len)
{
	size_t i = 0, chars = 0;
	bool valid = true;
	uint32_t cp;
	char buf[4];
	int rc;

	while (i < len) {
		rc = uigw_utf8_next(s + i, len - i, &cp);
		if (rc < 0) {
			CHECK(rc == -EINVAL);
			valid = false;
			i++;
		} else {
			CHECK(rc >= 1 && rc <= 4 && (size_t)rc <= len - i);
			CHECK(cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff));
			CHECK(uigw_utf8_put(cp, buf) == rc && !memcmp(buf, s + i, rc));
			CHECK(uigw_gsm7_cp_septets(cp) <= 2);
			i += rc;
		}
		chars++;
	}
	CHECK(uigw_utf8_valid(s, len) == valid);
	CHECK(uigw_utf8_chars(s, len) == chars);
	if (!valid) {
		CHECK(uigw_gsm7_count(s, len) == -EINVAL || uigw_gsm7_count(s, len) == -ERANGE);
		CHECK(uigw_ucs2_count(s, len) == -EINVAL);
		CHECK(uigw_utf8_to_ucs2(ucs2, sizeof(ucs2), s, len) == -EINVAL);
	}
}

/* valid UTF-8: GSM and UCS-2 round trips */
static void check_valid_utf8(const char *s, size_t len)
{
	int n, g, o, u, m;

	/* UCS-2 always round-trips */
	u = uigw_ucs2_count(s, len);
	CHECK(u >= 0);
	n = uigw_utf8_to_ucs2(ucs2, sizeof(ucs2), s, len);
	CHECK(n == 2 * u);
	m = uigw_ucs2_to_utf8(utf8b, sizeof(utf8b), ucs2, n);
	CHECK(m == (int)len && !memcmp(utf8b, s, len));

	/* GSM 7-bit when every character fits */
	g = uigw_gsm7_count(s, len);
	n = uigw_utf8_to_gsm7(sept, sizeof(sept), s, len);
	CHECK(n == g);
	CHECK(uigw_coding_for(s, len) == (g >= 0 ? UIGW_CODING_GSM7 : UIGW_CODING_UCS2));
	if (g < 0) {
		CHECK(g == -ERANGE);
		return;
	}
	m = uigw_gsm7_to_utf8(utf8b, sizeof(utf8b), sept, n);
	CHECK(m == (int)len && !memcmp(utf8b, s, len));
	if (n > 0)	/* too small by one septet */
		CHECK(uigw_utf8_to_gsm7(sept2, n - 1, s, len) == -ENOSPC);

	/* packing with the USSD rules: unpack gives the septets back; a text of 8k+1 septets ending in CR CR is
	 * indistinguishable from 8k ending in CR plus the added CR (CR CR means CR, TS 23.038 6.1.2.3.1) */
	o = uigw_gsm7_pack(oct, sizeof(oct), sept, n, true);
	CHECK(o >= 0 && o >= (n * 7 + 7) / 8 && o <= (n * 7 + 7) / 8 + 1);
	m = uigw_gsm7_unpack(sept2, sizeof(sept2), oct, o, true);
	if (n % 8 == 1 && n >= 2 && sept[n - 1] == '\r' && sept[n - 2] == '\r')
		CHECK(m == n - 1 && !memcmp(sept2, sept, m));
	else
		CHECK(m == n && !memcmp(sept2, sept, n));
	if (o > 0)
		CHECK(uigw_gsm7_pack(oct, o - 1, sept, n, true) == -ENOSPC);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	size_t n, i;
	int rc, o;

	if (size > MAX_IN)
		size = MAX_IN;

	check_utf8(s, size);
	if (uigw_utf8_valid(s, size))
		check_valid_utf8(s, size);

	/* raw septets: decode gives valid UTF-8; pack/unpack without USSD rules keeps every septet */
	for (i = 0; i < size; i++)
		sept[i] = data[i] & 0x7f;
	rc = uigw_gsm7_to_utf8(utf8, sizeof(utf8), data, size);
	CHECK(rc >= 0 && utf8[rc] == '\0' && uigw_utf8_valid(utf8, rc));
	o = uigw_gsm7_pack(oct, sizeof(oct), sept, size, false);
	CHECK(o == (int)((size * 7 + 7) / 8));
	rc = uigw_gsm7_unpack(sept2, sizeof(sept2), oct, o, false);
	CHECK(rc >= (int)size && rc <= (int)size + 1 && !memcmp(sept2, sept, size));
	/* unpacking arbitrary octets never overruns, with or without USSD rules */
	rc = uigw_gsm7_unpack(sept2, sizeof(sept2), data, size, true);
	CHECK(rc >= 0 && rc <= (int)(size * 8 / 7));
	rc = uigw_gsm7_unpack(sept2, 3, data, size, false);
	CHECK(rc == -ENOSPC || rc == (int)(size * 8 / 7));

	/* raw UTF-16BE and Latin-1 always give valid UTF-8 */
	rc = uigw_ucs2_to_utf8(utf8, sizeof(utf8), data, size);
	CHECK(rc >= 0 && uigw_utf8_valid(utf8, rc));
	rc = uigw_latin1_to_utf8(utf8, sizeof(utf8), data, size);
	CHECK(rc >= 0 && uigw_utf8_valid(utf8, rc) && uigw_utf8_chars(utf8, rc) == size);
	/* -ENOSPC paths with small buffers */
	n = size % 7;
	rc = uigw_latin1_to_utf8(utf8, n, data, size);
	CHECK(rc == -ENOSPC || (rc >= 0 && (size_t)rc < n));
	rc = uigw_ucs2_to_utf8(utf8, n, data, size);
	CHECK(rc == -ENOSPC || (rc >= 0 && (size_t)rc < n));
	rc = uigw_gsm7_to_utf8(utf8, n, data, size);
	CHECK(rc == -ENOSPC || (rc >= 0 && (size_t)rc < n));
	return 0;
}
