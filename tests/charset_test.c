/* cmocka tests of the character set conversions (src/codec/charset.c): GSM 03.38 tables, septet packing with the
 * USSD CR padding rules, UTF-8 validation, UCS-2 with surrogates and Latin-1. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>
#include <osmocom/core/utils.h>
#include <osmocom/gsm/gsm_utils.h>
#include <osmocom/uigw/codec/charset.h>

#define S(str) (str), strlen(str)

static const uint8_t ext_codes[] = { 0x0a, 0x14, 0x28, 0x29, 0x2f, 0x3c, 0x3d, 0x3e, 0x40, 0x65 };

/* every septet of the default alphabet decodes to one character that encodes back to that septet */
static void test_basic_table_roundtrip(void **state)
{
	uint8_t s, back[4];
	char utf8[8];
	int rc, n;

	for (s = 0; s < 0x80; s++) {
		if (s == 0x1b)
			continue;
		rc = uigw_gsm7_to_utf8(utf8, sizeof(utf8), &s, 1);
		assert_true(rc >= 1 && rc <= 3);
		assert_int_equal(uigw_utf8_chars(utf8, rc), 1);
		n = uigw_utf8_to_gsm7(back, sizeof(back), utf8, rc);
		assert_int_equal(n, 1);
		assert_int_equal(back[0], s);
		assert_int_equal(uigw_gsm7_count(utf8, rc), 1);
		assert_int_equal(uigw_coding_for(utf8, rc), UIGW_CODING_GSM7);
	}
}

/* every extension code decodes to one character that encodes back to ESC + code and counts 2 septets */
static void test_ext_table_roundtrip(void **state)
{
	static const char *const exp[] = { "\f", "^", "{", "}", "\\", "[", "~", "]", "|", "\xe2\x82\xac" };
	uint8_t in[2], back[4];
	char utf8[8];
	unsigned int i;
	uint32_t cp;
	int rc;

	for (i = 0; i < sizeof(ext_codes); i++) {
		in[0] = 0x1b;
		in[1] = ext_codes[i];
		rc = uigw_gsm7_to_utf8(utf8, sizeof(utf8), in, 2);
		assert_int_equal(rc, strlen(exp[i]));
		assert_string_equal(utf8, exp[i]);
		assert_int_equal(uigw_utf8_to_gsm7(back, sizeof(back), S(utf8)), 2);
		assert_memory_equal(back, in, 2);
		assert_int_equal(uigw_gsm7_count(S(utf8)), 2);
		assert_true(uigw_utf8_next(S(utf8), &cp) > 0);
		assert_int_equal(uigw_gsm7_cp_septets(cp), 2);
	}
	assert_int_equal(uigw_gsm7_count(S("a^b{}\xe2\x82\xac")), 2 + 4 * 2);
}

/* the code point -> septet map is exactly the 127 + 10 table entries and inverts the decoder */
static void test_cp_map_is_bijective(void **state)
{
	unsigned int n1 = 0, n2 = 0, s;
	uint8_t sept[2];
	char utf8[8], back[8];
	uint32_t cp;
	int len, rc;

	for (cp = 0; cp <= 0x10ffff; cp++) {
		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		s = uigw_gsm7_cp_septets(cp);
		if (!s)
			continue;
		assert_true(s <= 2);
		if (s == 1)
			n1++;
		else
			n2++;
		len = uigw_utf8_put(cp, utf8);
		rc = uigw_utf8_to_gsm7(sept, sizeof(sept), utf8, len);
		assert_int_equal(rc, s);
		rc = uigw_gsm7_to_utf8(back, sizeof(back), sept, rc);
		assert_int_equal(rc, len);
		assert_memory_equal(back, utf8, len);
	}
	assert_int_equal(n1, 127);
	assert_int_equal(n2, 10);
	/* a few by hand: ESC is no character, Greek capitals and Latin-1 letters are */
	assert_int_equal(uigw_gsm7_cp_septets(0x1b), 0);
	assert_int_equal(uigw_gsm7_cp_septets('\t'), 0);
	assert_int_equal(uigw_gsm7_cp_septets('`'), 0);
	assert_int_equal(uigw_gsm7_cp_septets(0x03a9), 1);	/* Ω */
	assert_int_equal(uigw_gsm7_cp_septets(0x03c9), 0);	/* ω */
	assert_int_equal(uigw_gsm7_cp_septets(0x00e7), 0);	/* ç: the table has Ç */
	assert_int_equal(uigw_gsm7_cp_septets(0x00c7), 1);
}

/* characters outside GSM 7-bit: -ERANGE, and their UCS-2 size */
static void test_outside_gsm(void **state)
{
	uint8_t out[16];

	assert_int_equal(uigw_gsm7_count(S("\xd0\x94")), -ERANGE);	/* Д */
	assert_int_equal(uigw_ucs2_count(S("\xd0\x94")), 1);
	assert_int_equal(uigw_gsm7_count(S("hi \xf0\x9f\x98\x80")), -ERANGE);	/* 😀 */
	assert_int_equal(uigw_ucs2_count(S("hi \xf0\x9f\x98\x80")), 5);
	assert_int_equal(uigw_coding_for(S("abc\xd0\x94")), UIGW_CODING_UCS2);
	assert_int_equal(uigw_coding_for(S("abc\xe2\x82\xac")), UIGW_CODING_GSM7);
	assert_int_equal(uigw_coding_for(S("")), UIGW_CODING_GSM7);
	assert_int_equal(uigw_utf8_to_gsm7(out, sizeof(out), S("ab\xd0\x94")), -ERANGE);
	assert_int_equal(uigw_utf8_to_gsm7(out, sizeof(out), S("a\tb")), -ERANGE);
	assert_int_equal(uigw_gsm7_cp_septets(0x1f600), 0);
}

static void test_utf8_decode(void **state)
{
	static const struct {
		const char *s;
		int len;
		uint32_t cp;
	} ok[] = {
		{ "\x7f", 1, 0x7f }, { "\xc2\x80", 2, 0x80 }, { "\xdf\xbf", 2, 0x7ff }, { "\xe0\xa0\x80", 3, 0x800 },
		{ "\xed\x9f\xbf", 3, 0xd7ff }, { "\xee\x80\x80", 3, 0xe000 }, { "\xef\xbf\xbf", 3, 0xffff },
		{ "\xf0\x90\x80\x80", 4, 0x10000 }, { "\xf4\x8f\xbf\xbf", 4, 0x10ffff },
	};
	static const char *const bad[] = {
		"\x80", "\xbf", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf", "\xf0\x80\x80\x80",
		"\xf0\x8f\xbf\xbf", "\xed\xa0\x80", "\xed\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",
		"\xff", "\xe2\x82", "\xf0\x9f\x98", "\xc3", "\xc3\x41", "\xe2\x28\xa1",
	};
	char buf[4];
	unsigned int i;
	uint32_t cp;

	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		assert_int_equal(uigw_utf8_next(ok[i].s, strlen(ok[i].s), &cp), ok[i].len);
		assert_int_equal(cp, ok[i].cp);
		assert_int_equal(uigw_utf8_put(cp, buf), ok[i].len);
		assert_memory_equal(buf, ok[i].s, ok[i].len);
		assert_true(uigw_utf8_valid(ok[i].s, ok[i].len));
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		size_t len = strlen(bad[i]);

		assert_int_equal(uigw_utf8_next(bad[i], len, &cp), -EINVAL);
		assert_false(uigw_utf8_valid(bad[i], len));
		assert_int_equal(uigw_gsm7_count(bad[i], len), -EINVAL);
		assert_int_equal(uigw_ucs2_count(bad[i], len), -EINVAL);
	}
	/* truncated by len, although the bytes go on */
	assert_int_equal(uigw_utf8_next("\xe2\x82\xac", 2, &cp), -EINVAL);
	assert_int_equal(uigw_utf8_next("", 0, &cp), -EINVAL);
	assert_int_equal(uigw_utf8_put(0xd800, buf), -EINVAL);
	assert_int_equal(uigw_utf8_put(0x110000, buf), -EINVAL);
	assert_int_equal(uigw_utf8_chars(S("a\xe2\x82\xac\xf0\x9f\x98\x80")), 3);
	assert_int_equal(uigw_utf8_chars(S("a\xff\xfe" "b")), 4);
	assert_int_equal(uigw_utf8_chars(S("\xe2\x82")), 2);
	assert_false(uigw_utf8_valid(S("ok \xd0")));
	assert_true(uigw_utf8_valid(S("ok \xd0\x94")));
	assert_int_equal(uigw_coding_for(S("\xff")), UIGW_CODING_UCS2);
}

/* pack text (GSM 7-bit basic/extension characters) and compare with the expected octets */
static void check_pack(const char *text, bool ussd_pad, const uint8_t *exp, int exp_len)
{
	uint8_t sept[256], oct[256], back[256];
	int n, o, u;

	n = uigw_utf8_to_gsm7(sept, sizeof(sept), S(text));
	assert_true(n >= 0);
	o = uigw_gsm7_pack(oct, sizeof(oct), sept, n, ussd_pad);
	assert_int_equal(o, exp_len);
	assert_memory_equal(oct, exp, exp_len);
	u = uigw_gsm7_unpack(back, sizeof(back), oct, o, ussd_pad);
	/* without USSD rules the septet count comes from elsewhere (SMS UDL): unpack yields every whole septet */
	assert_int_equal(u, ussd_pad ? n : o * 8 / 7);
	assert_memory_equal(back, sept, n);
}

static void test_pack_vectors(void **state)
{
	static const uint8_t v1[] = { 0xaa, 0x98, 0x6c, 0x36, 0x02 };
	static const uint8_t v2[] = { 0x31, 0xd9, 0x8c, 0x56, 0xb3, 0xdd, 0x1a };
	static const uint8_t v2_nopad[] = { 0x31, 0xd9, 0x8c, 0x56, 0xb3, 0xdd, 0x00 };
	static const uint8_t v3[] = { 0xc2, 0x30, 0x3b, 0xec, 0x1e, 0x97, 0x75, 0xa0, 0x18, 0x0c, 0x54, 0xac,
				      0x4a, 0x1b };
	uint8_t sept[8], oct[8];
	char utf8[16];
	int n;

	check_pack("*123#", true, v1, sizeof(v1));
	check_pack("*123#", false, v1, sizeof(v1));
	check_pack("1234567", true, v2, sizeof(v2));
	check_pack("1234567", false, v2_nopad, sizeof(v2_nopad));
	check_pack("Balance: 10 EUR", true, v3, sizeof(v3));
	check_pack("", true, NULL, 0);

	/* without ussd_pad, the padding CR stays */
	n = uigw_gsm7_unpack(sept, sizeof(sept), v2, sizeof(v2), false);
	assert_int_equal(n, 8);
	assert_int_equal(sept[7], 0x0d);
	assert_int_equal(uigw_gsm7_to_utf8(utf8, sizeof(utf8), sept, n), 8);
	assert_string_equal(utf8, "1234567\r");
	/* a packed 8th septet that is not CR is text, padding or not */
	memcpy(oct, v2_nopad, sizeof(v2_nopad));
	oct[6] |= 'A' << 1;
	n = uigw_gsm7_unpack(sept, sizeof(sept), oct, 7, true);
	assert_int_equal(n, 8);
	assert_int_equal(sept[7], 'A');
}

/* the same bytes as libosmocore's gsm_7bit_encode_n_ussd() for GSM text of every length up to 200 */
static void test_pack_like_libosmocore(void **state)
{
	static const char set[] = "abcXYZ 0123456789*#@$!?.,:;-\r\n";
	char text[201];
	uint8_t sept[256], ours[256], theirs[256];
	unsigned int len, i, seed = 1;
	int n, o, octets;

	for (len = 1; len <= 200; len++) {
		for (i = 0; i < len; i++) {
			seed = seed * 1103515245 + 12345;
			text[i] = set[(seed >> 16) % (sizeof(set) - 1)];
		}
		if (len % 8 == 0)
			text[len - 1] = '\r';	/* also the "CR on an octet boundary" case */
		text[len] = '\0';
		n = uigw_utf8_to_gsm7(sept, sizeof(sept), text, len);
		assert_int_equal(n, len);
		o = uigw_gsm7_pack(ours, sizeof(ours), sept, n, true);
		memset(theirs, 0, sizeof(theirs));
		gsm_7bit_encode_n_ussd(theirs, sizeof(theirs), text, &octets);
		assert_int_equal(o, octets);
		assert_memory_equal(ours, theirs, o);
	}
}

/* USSD CR rules: 7 spare bits get CR; 8 septets ending in CR get one more CR (which unpack removes again) */
static void test_ussd_cr_padding(void **state)
{
	static const uint8_t exp8[] = { 0x31, 0xd9, 0x8c, 0x56, 0xb3, 0xdd, 0x1a, 0x0d };
	static const uint8_t exp8_nopad[] = { 0x31, 0xd9, 0x8c, 0x56, 0xb3, 0xdd, 0x1a };
	uint8_t sept[16], oct[16];
	int n;

	check_pack("1234567\r", true, exp8, sizeof(exp8));
	check_pack("1234567\r", false, exp8_nopad, sizeof(exp8_nopad));
	/* 8 septets not ending in CR: no extra octet */
	n = uigw_utf8_to_gsm7(sept, sizeof(sept), S("12345678"));
	assert_int_equal(uigw_gsm7_pack(oct, sizeof(oct), sept, n, true), 7);
	/* 16 septets ending in CR: 15 octets (14 + CR) */
	n = uigw_utf8_to_gsm7(sept, sizeof(sept), S("123456781234567\r"));
	assert_int_equal(n, 16);
	assert_int_equal(uigw_gsm7_pack(oct, sizeof(oct), sept, n, true), 15);
	assert_int_equal(oct[14], 0x0d);
	assert_int_equal(uigw_gsm7_unpack(sept, sizeof(sept), oct, 15, true), 16);
	assert_int_equal(sept[15], 0x0d);
	assert_int_equal(sept[14], '7');
	/* 15 septets ending in CR (not on a boundary) pack normally; padding CR follows and is removed */
	n = uigw_utf8_to_gsm7(sept, sizeof(sept), S("12345678123456\r"));
	assert_int_equal(uigw_gsm7_pack(oct, sizeof(oct), sept, n, true), 14);
	assert_int_equal(uigw_gsm7_unpack(sept, sizeof(sept), oct, 14, true), 15);
	assert_int_equal(sept[14], 0x0d);
}

static void test_182_septets(void **state)
{
	uint8_t sept[200], oct[200], back[200];
	int i, o;

	for (i = 0; i < 182; i++)
		sept[i] = 'a' + i % 26;
	o = uigw_gsm7_pack(oct, sizeof(oct), sept, 182, true);
	assert_int_equal(o, 160);
	assert_int_equal(uigw_gsm7_pack(oct, 160, sept, 182, true), 160);
	assert_int_equal(uigw_gsm7_pack(oct, 159, sept, 182, true), -ENOSPC);
	assert_int_equal(uigw_gsm7_unpack(back, sizeof(back), oct, 160, true), 182);
	assert_memory_equal(back, sept, 182);
	assert_int_equal(uigw_gsm7_pack(oct, sizeof(oct), sept, 183, true), 161);
}

static void test_gsm7_decode_edge(void **state)
{
	static const uint8_t unknown_ext[] = { 'a', 0x1b, 'B', 0x1b, 0x1b, 0x1b };
	static const uint8_t high[] = { 0x80, 'x', 0x1b, 0xff };
	char out[32];

	/* unknown extension code -> base character; ESC ESC and a lone trailing ESC -> space */
	assert_int_equal(uigw_gsm7_to_utf8(out, sizeof(out), unknown_ext, sizeof(unknown_ext)), 4);
	assert_string_equal(out, "aB  ");
	assert_int_equal(uigw_gsm7_to_utf8(out, sizeof(out), high, sizeof(high)), 3);
	assert_string_equal(out, "?x?");
	assert_int_equal(uigw_gsm7_to_utf8(out, sizeof(out), high, 0), 0);
	assert_string_equal(out, "");
}

static void test_ucs2_roundtrip(void **state)
{
	/* a Д € 😀 ß */
	static const char text[] = "a\xd0\x94\xe2\x82\xac\xf0\x9f\x98\x80\xc3\x9f";
	static const uint8_t exp[] = { 0x00, 0x61, 0x04, 0x14, 0x20, 0xac, 0xd8, 0x3d, 0xde, 0x00, 0x00, 0xdf };
	static const uint8_t lone[] = { 0xd8, 0x3d, 0x00, 0x61, 0xdc, 0x00, 0x00, 0x62, 0xd8, 0x00, 0x00 };
	uint8_t ucs2[32];
	char utf8[64];
	int n;

	n = uigw_utf8_to_ucs2(ucs2, sizeof(ucs2), S(text));
	assert_int_equal(n, sizeof(exp));
	assert_memory_equal(ucs2, exp, n);
	assert_int_equal(uigw_ucs2_count(S(text)), n / 2);
	assert_int_equal(uigw_ucs2_to_utf8(utf8, sizeof(utf8), ucs2, n), strlen(text));
	assert_string_equal(utf8, text);
	/* unpaired surrogates -> U+FFFD, odd trailing octet ignored */
	n = uigw_ucs2_to_utf8(utf8, sizeof(utf8), lone, sizeof(lone));
	assert_string_equal(utf8, "\xef\xbf\xbd" "a" "\xef\xbf\xbd" "b" "\xef\xbf\xbd");
	assert_int_equal(n, 11);
	assert_int_equal(uigw_utf8_to_ucs2(ucs2, sizeof(ucs2), S("a\xed\xa0\x80")), -EINVAL);
}

static void test_latin1(void **state)
{
	static const uint8_t in[] = { 'c', 'a', 'f', 0xe9, ' ', 0xa3, 0xff };
	char out[32];

	assert_int_equal(uigw_latin1_to_utf8(out, sizeof(out), in, sizeof(in)), 10);
	assert_string_equal(out, "caf\xc3\xa9 \xc2\xa3\xc3\xbf");
}

static void test_enospc(void **state)
{
	uint8_t buf[16], sept[16];
	char out[16];
	int n;

	/* UTF-8 -> GSM: exact fit, one short, extension character needing 2 with only 1 left */
	assert_int_equal(uigw_utf8_to_gsm7(buf, 3, S("abc")), 3);
	assert_int_equal(uigw_utf8_to_gsm7(buf, 2, S("abc")), -ENOSPC);
	assert_int_equal(uigw_utf8_to_gsm7(buf, 2, S("a\xe2\x82\xac")), -ENOSPC);
	assert_int_equal(uigw_utf8_to_gsm7(buf, 3, S("a\xe2\x82\xac")), 3);
	assert_int_equal(uigw_utf8_to_gsm7(buf, 0, S("")), 0);
	/* GSM -> UTF-8 needs room for the NUL */
	n = uigw_utf8_to_gsm7(sept, sizeof(sept), S("ab\xe2\x82\xac"));
	assert_int_equal(n, 4);
	assert_int_equal(uigw_gsm7_to_utf8(out, 6, sept, n), 5);
	assert_int_equal(uigw_gsm7_to_utf8(out, 5, sept, n), -ENOSPC);
	assert_int_equal(uigw_gsm7_to_utf8(out, 0, sept, n), -ENOSPC);
	/* packing: the extra CR needs its octet */
	n = uigw_utf8_to_gsm7(sept, sizeof(sept), S("1234567\r"));
	assert_int_equal(uigw_gsm7_pack(buf, 7, sept, n, true), -ENOSPC);
	assert_int_equal(uigw_gsm7_pack(buf, 7, sept, n, false), 7);
	assert_int_equal(uigw_gsm7_unpack(sept, 7, buf, 7, false), -ENOSPC);
	assert_int_equal(uigw_gsm7_unpack(sept, 8, buf, 7, false), 8);
	/* UCS-2: a surrogate pair needs 4 octets */
	assert_int_equal(uigw_utf8_to_ucs2(buf, 3, S("\xf0\x9f\x98\x80")), -ENOSPC);
	assert_int_equal(uigw_utf8_to_ucs2(buf, 4, S("\xf0\x9f\x98\x80")), 4);
	assert_int_equal(uigw_utf8_to_ucs2(buf, 1, S("a")), -ENOSPC);
	assert_int_equal(uigw_ucs2_to_utf8(out, 4, buf, 4), -ENOSPC);
	assert_int_equal(uigw_ucs2_to_utf8(out, 5, buf, 4), 4);
	assert_int_equal(uigw_latin1_to_utf8(out, 2, (const uint8_t *)"\xe9", 1), -ENOSPC);
	assert_int_equal(uigw_latin1_to_utf8(out, 3, (const uint8_t *)"\xe9", 1), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_table_roundtrip),
		cmocka_unit_test(test_ext_table_roundtrip),
		cmocka_unit_test(test_cp_map_is_bijective),
		cmocka_unit_test(test_outside_gsm),
		cmocka_unit_test(test_utf8_decode),
		cmocka_unit_test(test_pack_vectors),
		cmocka_unit_test(test_pack_like_libosmocore),
		cmocka_unit_test(test_ussd_cr_padding),
		cmocka_unit_test(test_182_septets),
		cmocka_unit_test(test_gsm7_decode_edge),
		cmocka_unit_test(test_ucs2_roundtrip),
		cmocka_unit_test(test_latin1),
		cmocka_unit_test(test_enospc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
