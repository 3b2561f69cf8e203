/* ss_codec_test: the BER codec and the USSD component codec against the byte vectors of PROTOCOLS.md §2/§3
 * (decoded by tshark / captured from osmo-hlr), long strings, UCS-2 and malformed input. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <osmocom/uigw/codec/ber.h>
#include <osmocom/uigw/codec/charset.h>
#include <osmocom/uigw/codec/ss_codec.h>
#include "common/fixture.h"

/* --- BER ------------------------------------------------------------------------------------------------ */

static void test_ber_lengths(void **state)
{
	uint8_t b[300];
	struct uigw_ber_tlv t;

	/* short form */
	uigw_fx_unhex("04 02 aa bb", b, sizeof(b));
	assert_int_equal(uigw_ber_dec(b, 4, &t), 4);
	assert_int_equal(t.tag, 0x04);
	assert_int_equal(t.len, 2);
	assert_ptr_equal(t.val, b + 2);
	/* long forms 0x81 and 0x82, also non-minimal (BER allows it) */
	b[0] = 0x04; b[1] = 0x81; b[2] = 0xa0;
	assert_int_equal(uigw_ber_dec(b, 3 + 160, &t), 163);
	assert_int_equal(t.len, 160);
	b[1] = 0x82; b[2] = 0x00; b[3] = 0x05;
	assert_int_equal(uigw_ber_dec(b, 9, &t), 9);
	assert_int_equal(t.len, 5);
	b[1] = 0x84; b[2] = 0; b[3] = 0; b[4] = 0; b[5] = 1;
	assert_int_equal(uigw_ber_dec(b, 7, &t), 7);
	/* value past the buffer */
	assert_int_equal(uigw_ber_dec(b, 6, &t), -EINVAL);
	b[1] = 0x81; b[2] = 0xa0;
	assert_int_equal(uigw_ber_dec(b, 3 + 159, &t), -EINVAL);
	/* length octets past the buffer */
	b[1] = 0x82;
	assert_int_equal(uigw_ber_dec(b, 3, &t), -EINVAL);
	/* too many length octets, 0xff */
	b[1] = 0x85;
	assert_int_equal(uigw_ber_dec(b, 100, &t), -EINVAL);
	b[1] = 0xff;
	assert_int_equal(uigw_ber_dec(b, 200, &t), -EINVAL);
	/* a huge 4-octet length must not wrap */
	b[1] = 0x84; b[2] = 0xff; b[3] = 0xff; b[4] = 0xff; b[5] = 0xff;
	assert_int_equal(uigw_ber_dec(b, 200, &t), -EINVAL);
	/* indefinite length and multi-octet tags are refused */
	b[0] = 0x30; b[1] = 0x80;
	assert_int_equal(uigw_ber_dec(b, 10, &t), -ENOTSUP);
	b[0] = 0x1f; b[1] = 0x01;
	assert_int_equal(uigw_ber_dec(b, 10, &t), -ENOTSUP);
	/* empty and one-octet input */
	assert_int_equal(uigw_ber_dec(b, 0, &t), -ENODATA);
	b[0] = 0x04;
	assert_int_equal(uigw_ber_dec(b, 1, &t), -EINVAL);
}

static void test_ber_int(void **state)
{
	static const struct {
		int64_t v;
		const char *hex;
	} cases[] = {
		{ 0, "02 01 00" }, { 1, "02 01 01" }, { 127, "02 01 7f" }, { 128, "02 02 00 80" },
		{ 59, "02 01 3b" }, { -1, "02 01 ff" }, { -128, "02 01 80" }, { -129, "02 02 ff 7f" },
		{ 65535, "02 03 00 ff ff" }, { INT64_MIN, "02 08 80 00 00 00 00 00 00 00" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t b[16];
		struct uigw_ber_enc e;
		struct uigw_ber_tlv t;
		int64_t v;
		int n;

		uigw_ber_enc_init(&e, b, sizeof(b));
		uigw_ber_put_int(&e, 0x02, cases[i].v);
		n = uigw_ber_enc_finish(&e);
		assert_true(n > 0);
		uigw_fx_assert_bytes(b, n, cases[i].hex);
		assert_int_equal(uigw_ber_dec(b, n, &t), n);
		assert_int_equal(uigw_ber_get_int(&t, &v), 0);
		assert_true(v == cases[i].v);
	}
}

static void test_ber_nested_long(void **state)
{
	uint8_t b[400], val[200];
	struct uigw_ber_enc e;
	struct uigw_ber_tlv t, in;
	const uint8_t *p;
	size_t m1, m2, rem;
	int n;

	memset(val, 0x5a, sizeof(val));
	uigw_ber_enc_init(&e, b, sizeof(b));
	m1 = uigw_ber_open(&e, 0xa2);
	uigw_ber_put_int(&e, 0x02, 1);
	m2 = uigw_ber_open(&e, 0x30);
	uigw_ber_put(&e, 0x04, val, 200);
	uigw_ber_close(&e, m2);
	uigw_ber_close(&e, m1);
	n = uigw_ber_enc_finish(&e);
	/* 04 81 c8 + 200 = 203; 30 81 cb = 206; + 02 01 01 = 209; a2 81 d1 = 212 */
	assert_int_equal(n, 212);
	uigw_fx_assert_bytes(b, 9, "a2 81 d1 02 01 01 30 81 cb");
	assert_int_equal(uigw_ber_dec(b, n, &t), n);
	p = t.val;
	rem = t.len;
	assert_int_equal(uigw_ber_next(&p, &rem, &in), 3);
	assert_int_equal(uigw_ber_next(&p, &rem, &in), 206);
	assert_int_equal(in.tag, 0x30);
	assert_int_equal(uigw_ber_next(&p, &rem, &in), -ENODATA);

	/* no room: sticky -ENOSPC, never a write past the buffer (ASan watches) */
	for (size_t sz = 0; sz < 212; sz++) {
		uint8_t *small = sz ? test_malloc(sz) : NULL;
		uigw_ber_enc_init(&e, small, sz);
		m1 = uigw_ber_open(&e, 0xa2);
		uigw_ber_put_int(&e, 0x02, 1);
		m2 = uigw_ber_open(&e, 0x30);
		uigw_ber_put(&e, 0x04, val, 200);
		uigw_ber_close(&e, m2);
		uigw_ber_close(&e, m1);
		assert_int_equal(uigw_ber_enc_finish(&e), -ENOSPC);
		test_free(small);
	}
}

/* --- components ----------------------------------------------------------------------------------------- */

/* PROTOCOLS.md §2: the Invoke inside the worked TC-BEGIN (tshark-decoded) */
#define INVOKE_59_MSISDN "a1 1b 02 01 01 02 01 3b 30 13 04 01 0f 04 05 aa 98 6c 36 02 80 07 91 94 71 02 00 10 32"
/* PROTOCOLS.md §3: SS_INFO of the BEGIN captured from OsmoMSC -> osmo-hlr */
#define INVOKE_59_GSUP "a1 12 02 01 01 02 01 3b 30 0a 04 01 0f 04 05 aa 98 6c 36 02"
/* PROTOCOLS.md §2: ReturnResultLast "Balance: 10 EUR" */
#define RESULT_BALANCE "a2 1d 02 01 01 30 18 02 01 3b 30 13 04 01 0f 04 0e c2 30 3b ec 1e 97 75 a0 18 0c 54 ac 4a 1b"

static void test_decode_invoke(void **state)
{
	uint8_t b[64];
	size_t n = uigw_fx_unhex(INVOKE_59_MSISDN, b, sizeof(b));
	struct uigw_ss_comp c;
	char text[UIGW_USSD_UTF8_MAX], lang[3];

	assert_int_equal(uigw_ss_comp_decode(b, n, &c), 0);
	assert_int_equal(c.type, UIGW_SS_INVOKE);
	assert_true(c.has_invoke_id);
	assert_int_equal(c.invoke_id, 1);
	assert_true(c.has_opcode);
	assert_int_equal(c.opcode, 59);
	assert_true(c.has_ussd);
	assert_int_equal(c.ussd.dcs, 0x0f);
	assert_true(c.ussd.has_msisdn);
	assert_string_equal(c.ussd.msisdn, "+491720000123");
	assert_false(c.ussd.has_alerting);
	assert_int_equal(uigw_ussd_text_decode(&c.ussd, text, sizeof(text), lang), 5);
	assert_string_equal(text, "*123#");
	assert_string_equal(lang, "");

	/* and back to the same bytes */
	{
		uint8_t out[64];
		int rc = uigw_ss_comp_encode(out, sizeof(out), &c);
		assert_true(rc > 0);
		uigw_fx_assert_bytes(out, rc, INVOKE_59_MSISDN);
	}

	n = uigw_fx_unhex(INVOKE_59_GSUP, b, sizeof(b));
	assert_int_equal(uigw_ss_comp_decode(b, n, &c), 0);
	assert_int_equal(c.opcode, UIGW_SS_OP_PROCESS_USS_REQ);
	assert_false(c.ussd.has_msisdn);
	assert_int_equal(uigw_ussd_text_decode(&c.ussd, text, sizeof(text), NULL), 5);
	assert_string_equal(text, "*123#");
}

static void test_encode_invoke_text(void **state)
{
	struct uigw_ss_comp c = {
		.type = UIGW_SS_INVOKE, .invoke_id = 1, .has_opcode = true, .opcode = 59, .has_ussd = true,
	};
	uint8_t out[64];
	int rc;

	assert_int_equal(uigw_ussd_text_encode(&c.ussd, "*123#"), 0);
	rc = uigw_ss_comp_encode(out, sizeof(out), &c);
	uigw_fx_assert_bytes(out, rc, INVOKE_59_GSUP);

	/* unstructuredSS-Request with alertingPattern 0 (PROTOCOLS.md §2 table) */
	c.opcode = 60;
	c.ussd.has_alerting = true;
	c.ussd.alerting = 0;
	assert_int_equal(uigw_ussd_text_encode(&c.ussd, "Balance: 10 EUR"), 0);
	rc = uigw_ss_comp_encode(out, sizeof(out), &c);
	uigw_fx_assert_bytes(out, rc, "a1 1e 02 01 01 02 01 3c 30 16 04 01 0f 04 0e c2 30 3b ec 1e 97 75 a0 18 0c 54 ac 4a 1b"
		     " 04 01 00");
	/* a linked invoke id */
	c.has_linked_id = true;
	c.linked_id = 5;
	c.ussd.has_alerting = false;
	assert_int_equal(uigw_ussd_text_encode(&c.ussd, "1"), 0);
	rc = uigw_ss_comp_encode(out, sizeof(out), &c);
	uigw_fx_assert_bytes(out, rc, "a1 11 02 01 01 80 01 05 02 01 3c 30 06 04 01 0f 04 01 31");
	{
		struct uigw_ss_comp d;
		assert_int_equal(uigw_ss_comp_decode(out, rc, &d), 0);
		assert_true(d.has_linked_id);
		assert_int_equal(d.linked_id, 5);
		assert_int_equal(d.opcode, 60);
	}
}

static void test_result(void **state)
{
	struct uigw_ss_comp c = {
		.type = UIGW_SS_RETURN_RESULT, .invoke_id = 1, .has_opcode = true, .opcode = 59, .has_ussd = true,
	};
	uint8_t out[64], b[64];
	char text[UIGW_USSD_UTF8_MAX];
	size_t n;
	int rc;

	assert_int_equal(uigw_ussd_text_encode(&c.ussd, "Balance: 10 EUR"), 0);
	rc = uigw_ss_comp_encode(out, sizeof(out), &c);
	uigw_fx_assert_bytes(out, rc, RESULT_BALANCE);

	n = uigw_fx_unhex(RESULT_BALANCE, b, sizeof(b));
	assert_int_equal(uigw_ss_comp_decode(b, n, &c), 0);
	assert_int_equal(c.type, UIGW_SS_RETURN_RESULT);
	assert_int_equal(c.opcode, 59);
	assert_true(c.has_ussd);
	/* 15 characters: the CR padding in the last octet is stripped */
	assert_int_equal(uigw_ussd_text_decode(&c.ussd, text, sizeof(text), NULL), 15);
	assert_string_equal(text, "Balance: 10 EUR");

	/* the user's answer to an unstructuredSS-Request (PROTOCOLS.md §2 TC-CONTINUE) */
	n = uigw_fx_unhex("a2 10 02 01 01 30 0b 02 01 3c 30 06 04 01 0f 04 01 31", b, sizeof(b));
	assert_int_equal(uigw_ss_comp_decode(b, n, &c), 0);
	assert_int_equal(c.opcode, 60);
	assert_int_equal(uigw_ussd_text_decode(&c.ussd, text, sizeof(text), NULL), 1);
	assert_string_equal(text, "1");

	/* ReturnResultLast without a result, and for unstructuredSS-Notify */
	n = uigw_fx_unhex("a2 03 02 01 07", b, sizeof(b));
	assert_int_equal(uigw_ss_comp_decode(b, n, &c), 0);
	assert_int_equal(c.invoke_id, 7);
	assert_false(c.has_opcode);
	assert_false(c.has_ussd);
	n = uigw_fx_unhex("a2 08 02 01 07 30 03 02 01 3d", b, sizeof(b));
	assert_int_equal(uigw_ss_comp_decode(b, n, &c), 0);
	assert_int_equal(c.opcode, 61);
	assert_false(c.has_ussd);
	/* ReturnResultNotLast decodes like Last */
	n = uigw_fx_unhex("a7 10 02 01 01 30 0b 02 01 3c 30 06 04 01 0f 04 01 31", b, sizeof(b));
	assert_int_equal(uigw_ss_comp_decode(b, n, &c), 0);
	assert_int_equal(c.type, UIGW_SS_RETURN_RESULT_NL);
	assert_true(c.has_ussd);
}

static void test_error_reject(void **state)
{
	struct uigw_ss_comp c = { .type = UIGW_SS_RETURN_ERROR, .invoke_id = 1,
				  .error_code = UIGW_SS_ERR_UNKNOWN_ALPHABET };
	uint8_t out[32], b[32];
	size_t n;
	int rc;

	rc = uigw_ss_comp_encode(out, sizeof(out), &c);
	uigw_fx_assert_bytes(out, rc, "a3 06 02 01 01 02 01 47");
	assert_int_equal(uigw_ss_comp_decode(out, rc, &c), 0);
	assert_int_equal(c.type, UIGW_SS_RETURN_ERROR);
	assert_int_equal(c.error_code, 71);

	memset(&c, 0, sizeof(c));
	c.type = UIGW_SS_REJECT;
	c.has_invoke_id = true;
	c.invoke_id = 1;
	c.problem_tag = UIGW_SS_PROB_INVOKE;
	c.problem_code = UIGW_SS_PROB_INV_MISTYPED_PARAM;
	rc = uigw_ss_comp_encode(out, sizeof(out), &c);
	uigw_fx_assert_bytes(out, rc, "a4 06 02 01 01 81 01 02");
	assert_int_equal(uigw_ss_comp_decode(out, rc, &c), 0);
	assert_int_equal(c.problem_tag, 0x81);
	assert_int_equal(c.problem_code, 2);

	/* invokeId not derivable: NULL */
	c.has_invoke_id = false;
	c.problem_tag = UIGW_SS_PROB_GENERAL;
	c.problem_code = UIGW_SS_PROB_GEN_BADLY_STRUCTURED;
	rc = uigw_ss_comp_encode(out, sizeof(out), &c);
	uigw_fx_assert_bytes(out, rc, "a4 05 05 00 80 01 02");
	assert_int_equal(uigw_ss_comp_decode(out, rc, &c), 0);
	assert_false(c.has_invoke_id);
	assert_int_equal(c.problem_tag, 0x80);

	/* a ReturnError with a parameter */
	n = uigw_fx_unhex("a3 0a 02 01 02 02 01 22 30 02 05 00", b, sizeof(b));
	assert_int_equal(uigw_ss_comp_decode(b, n, &c), 0);
	assert_int_equal(c.error_code, 34);
	assert_true(c.has_param);
	/* a global error code is not MAP */
	n = uigw_fx_unhex("a3 08 02 01 02 06 03 01 02 03", b, sizeof(b));
	assert_int_equal(uigw_ss_comp_decode(b, n, &c), -ENOTSUP);
	/* a bad problem tag cannot be encoded */
	c.type = UIGW_SS_REJECT;
	c.problem_tag = 0x85;
	assert_int_equal(uigw_ss_comp_encode(out, sizeof(out), &c), -EINVAL);
}

static void test_other_operation(void **state)
{
	/* an Invoke of another operation (registerSS 10) decodes without USSD: the channel rejects it */
	uint8_t b[32];
	size_t n = uigw_fx_unhex("a1 0b 02 01 03 02 01 0a 30 03 04 01 21", b, sizeof(b));
	struct uigw_ss_comp c;

	assert_int_equal(uigw_ss_comp_decode(b, n, &c), 0);
	assert_int_equal(c.opcode, 10);
	assert_false(c.has_ussd);
	assert_true(c.has_param);
	assert_string_equal(uigw_ss_op_name(10), "unknown");
	assert_string_equal(uigw_ss_op_name(60), "unstructuredSS-Request");
	/* without a parameter too */
	n = uigw_fx_unhex("a1 06 02 01 03 02 01 0a", b, sizeof(b));
	assert_int_equal(uigw_ss_comp_decode(b, n, &c), 0);
	assert_false(c.has_param);
	/* a global opcode */
	n = uigw_fx_unhex("a1 08 02 01 03 06 03 01 02 03", b, sizeof(b));
	assert_int_equal(uigw_ss_comp_decode(b, n, &c), -ENOTSUP);
}

static void make_gsm_text(char *s, size_t n, char base)
{
	size_t i;

	for (i = 0; i < n; i++)
		s[i] = base + i % 26;
	s[n] = '\0';
}

static void test_long_gsm7(void **state)
{
	struct uigw_ss_comp c = {
		.type = UIGW_SS_RETURN_RESULT, .invoke_id = 1, .has_opcode = true, .opcode = 59, .has_ussd = true,
	}, d;
	char text[200], back[UIGW_USSD_UTF8_MAX];
	uint8_t out[256];
	size_t len;
	int rc;

	/* a full screen: 182 septets = 160 octets, long-form lengths all the way up */
	make_gsm_text(text, 182, 'a');
	assert_int_equal(uigw_ussd_text_encode(&c.ussd, text), 0);
	assert_int_equal(c.ussd.dcs, 0x0f);
	assert_int_equal(c.ussd.data_len, 160);
	rc = uigw_ss_comp_encode(out, sizeof(out), &c);
	assert_int_equal(rc, 181);
	uigw_fx_assert_bytes(out, 18, "a2 81 b2 02 01 01 30 81 ac 02 01 3b 30 81 a6 04 01 0f");
	uigw_fx_assert_bytes(out + 18, 3, "04 81 a0");
	assert_int_equal(uigw_ss_comp_decode(out, rc, &d), 0);
	assert_int_equal(uigw_ussd_text_decode(&d.ussd, back, sizeof(back), NULL), 182);
	assert_string_equal(back, text);

	/* 129 characters: the length where libosmocore emits 0x80; here 04 71, 30 76, 30 7b, a2 80 is wrong */
	make_gsm_text(text, 129, 'A');
	assert_int_equal(uigw_ussd_text_encode(&c.ussd, text), 0);
	assert_int_equal(c.ussd.data_len, 113);
	rc = uigw_ss_comp_encode(out, sizeof(out), &c);
	uigw_fx_assert_bytes(out, 3, "a2 81 80");
	assert_int_equal(uigw_ss_comp_decode(out, rc, &d), 0);
	assert_int_equal(uigw_ussd_text_decode(&d.ussd, back, sizeof(back), NULL), 129);
	assert_string_equal(back, text);

	/* every length from 1 to 182 round-trips, incl. CR padding and texts ending in CR */
	for (len = 1; len <= 182; len++) {
		make_gsm_text(text, len, 'a');
		if (len % 8 == 0)
			text[len - 1] = '\r';
		assert_int_equal(uigw_ussd_text_encode(&c.ussd, text), 0);
		rc = uigw_ss_comp_encode(out, sizeof(out), &c);
		assert_true(rc > 0);
		assert_int_equal(uigw_ss_comp_decode(out, rc, &d), 0);
		assert_int_equal(uigw_ussd_text_decode(&d.ussd, back, sizeof(back), NULL), len);
		assert_string_equal(back, text);
	}

	/* extension characters count two septets: 91 euro signs fill 182 septets, 92 do not fit GSM 7-bit
	 * (and 92 > 80 UCS-2 units) */
	{
		char euro[92 * 3 + 1] = "";
		for (len = 0; len < 91; len++)
			strcat(euro, "€");
		assert_int_equal(uigw_ussd_text_encode(&c.ussd, euro), 0);
		assert_int_equal(c.ussd.dcs, 0x0f);
		assert_int_equal(c.ussd.data_len, 160);
		strcat(euro, "€");
		assert_int_equal(uigw_ussd_text_encode(&c.ussd, euro), -EMSGSIZE);
	}
	/* 183 plain characters: too long for any coding */
	make_gsm_text(text, 183, 'a');
	assert_int_equal(uigw_ussd_text_encode(&c.ussd, text), -EMSGSIZE);
	/* "1234567": CR padding in the last octet (PROTOCOLS.md §3 pitfall 5) */
	assert_int_equal(uigw_ussd_text_encode(&c.ussd, "1234567"), 0);
	uigw_fx_assert_bytes(c.ussd.data, c.ussd.data_len, "31 d9 8c 56 b3 dd 1a");
}

static void test_ucs2(void **state)
{
	struct uigw_ss_comp c = {
		.type = UIGW_SS_INVOKE, .invoke_id = 2, .has_opcode = true, .opcode = 60, .has_ussd = true,
	}, d;
	char text[81 * 2 + 1] = "", back[UIGW_USSD_UTF8_MAX];
	uint8_t out[256];
	unsigned int i;
	int rc;

	assert_int_equal(uigw_ussd_text_encode(&c.ussd, "1=Да"), 0);
	assert_int_equal(c.ussd.dcs, 0x48);
	uigw_fx_assert_bytes(c.ussd.data, c.ussd.data_len, "0031003d04140430");
	rc = uigw_ss_comp_encode(out, sizeof(out), &c);
	uigw_fx_assert_bytes(out, rc, "a1 15 02 01 02 02 01 3c 30 0d 04 01 48 04 08 00 31 00 3d 04 14 04 30");
	assert_int_equal(uigw_ss_comp_decode(out, rc, &d), 0);
	assert_int_equal(uigw_ussd_text_decode(&d.ussd, back, sizeof(back), NULL), strlen("1=Да"));
	assert_string_equal(back, "1=Да");

	/* 80 Cyrillic characters fill 160 octets; 81 do not fit */
	for (i = 0; i < 80; i++)
		strcat(text, "Ж");
	assert_int_equal(uigw_ussd_text_encode(&c.ussd, text), 0);
	assert_int_equal(c.ussd.data_len, 160);
	rc = uigw_ss_comp_encode(out, sizeof(out), &c);
	assert_int_equal(rc, 178);
	assert_int_equal(uigw_ss_comp_decode(out, rc, &d), 0);
	assert_int_equal(uigw_ussd_text_decode(&d.ussd, back, sizeof(back), NULL), 160);
	assert_string_equal(back, text);
	strcat(text, "Ж");
	assert_int_equal(uigw_ussd_text_encode(&c.ussd, text), -EMSGSIZE);
	/* invalid UTF-8 */
	assert_int_equal(uigw_ussd_text_encode(&c.ussd, "\xc3\x28"), -EINVAL);
}

static void test_dcs_decode(void **state)
{
	struct uigw_ussd_arg a = { 0 };
	char out[UIGW_USSD_UTF8_MAX], lang[3];
	uint8_t sept[8] = { 'e', 'n', '\r', 'H', 'i' };

	/* 0x00..0x0e: 7-bit with a language group */
	assert_int_equal(uigw_ussd_text_encode(&a, "Hallo"), 0);
	a.dcs = 0x00;
	assert_int_equal(uigw_ussd_text_decode(&a, out, sizeof(out), lang), 5);
	assert_string_equal(out, "Hallo");
	assert_string_equal(lang, "de");
	a.dcs = 0x0e;
	assert_int_equal(uigw_ussd_text_decode(&a, out, sizeof(out), lang), 5);
	assert_string_equal(lang, "pl");
	/* 0x40: general coding, 7-bit */
	a.dcs = 0x40;
	assert_int_equal(uigw_ussd_text_decode(&a, out, sizeof(out), lang), 5);
	assert_string_equal(out, "Hallo");
	/* 0x10: "en" CR prefix */
	a.dcs = 0x10;
	a.data_len = uigw_gsm7_pack(a.data, sizeof(a.data), sept, 5, true);
	assert_int_equal(uigw_ussd_text_decode(&a, out, sizeof(out), lang), 2);
	assert_string_equal(out, "Hi");
	assert_string_equal(lang, "en");
	/* 0x11: UCS-2 with a packed 2-letter prefix ("ru" = 72 75 packed -> f2 3a) */
	a.dcs = 0x11;
	a.data_len = uigw_fx_unhex("f2 3a 04 14 04 30", a.data, sizeof(a.data));
	assert_int_equal(uigw_ussd_text_decode(&a, out, sizeof(out), lang), 4);
	assert_string_equal(out, "Да");
	assert_string_equal(lang, "ru");
	/* 0x44: 8-bit, read as Latin-1 */
	a.dcs = 0x44;
	a.data_len = uigw_fx_unhex("48 e9", a.data, sizeof(a.data));
	assert_int_equal(uigw_ussd_text_decode(&a, out, sizeof(out), NULL), 3);
	assert_string_equal(out, "Hé");
	/* 0x48: UCS-2 */
	a.dcs = 0x48;
	a.data_len = uigw_fx_unhex("04 14 04 30", a.data, sizeof(a.data));
	assert_int_equal(uigw_ussd_text_decode(&a, out, sizeof(out), lang), 4);
	assert_string_equal(lang, "");
	/* reserved / compressed / unknown groups */
	a.dcs = 0x4c;
	assert_int_equal(uigw_ussd_text_decode(&a, out, sizeof(out), NULL), -ENOTSUP);
	a.dcs = 0x60;
	assert_int_equal(uigw_ussd_text_decode(&a, out, sizeof(out), NULL), -ENOTSUP);
	a.dcs = 0x20;
	assert_int_equal(uigw_ussd_text_decode(&a, out, sizeof(out), NULL), -ENOTSUP);
	/* 0x10 without the prefix */
	a.dcs = 0x10;
	a.data_len = uigw_fx_unhex("c8 34", a.data, sizeof(a.data));
	assert_int_equal(uigw_ussd_text_decode(&a, out, sizeof(out), NULL), -EINVAL);
	/* a buffer too small */
	a.dcs = 0x0f;
	assert_int_equal(uigw_ussd_text_encode(&a, "Hallo"), 0);
	assert_int_equal(uigw_ussd_text_decode(&a, out, 3, NULL), -ENOSPC);
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"",					/* nothing */
		"a1",					/* tag only */
		"a1 12 02 01 01 02 01 3b",		/* length past the end */
		"a1 80 02 01 01 02 01 3b 00 00",	/* indefinite length */
		"a5 03 02 01 01",			/* unknown component type */
		"a1 03 02 01 01",			/* invoke without opcode */
		"a1 06 02 01 01 02 01 3b",		/* processUSSReq without argument */
		"a1 08 02 01 01 02 01 3b 30 00",	/* empty USSD-Arg */
		"a1 0b 02 01 01 02 01 3b 30 03 04 01 0f",	/* no ussd-String */
		"a1 0e 02 01 01 02 01 3b 30 06 04 02 0f 0f 04 00",	/* DCS of 2 octets, empty string */
		"a1 0d 02 01 01 02 01 3b 30 05 04 01 0f 04 00",	/* empty ussd-String */
		"a1 0e 02 01 01 02 01 3b 30 06 04 01 0f 04 01 31 00",	/* trailing octet inside the arg */
		"a1 0e 02 01 01 02 01 3b 31 06 04 01 0f 04 01 31",	/* SET instead of SEQUENCE */
		"a1 0f 02 01 01 02 01 3b 30 06 04 01 0f 04 01 31 05 00",	/* two parameters */
		"a1 0d 02 00 02 01 3b 30 06 04 01 0f 04 01 31",	/* empty invokeId */
		"a1 0e 02 02 01 00 02 01 3b 30 06 04 01 0f 04 01 31",	/* invokeId 256 */
		"a1 0e 04 01 01 02 01 3b 30 06 04 01 0f 04 01 31",	/* invokeId not an INTEGER */
		"a1 0d 02 01 01 02 01 3b 30 06 04 01 0f 04 01 31 00",	/* octet after the component */
		"a1 11 02 01 01 02 01 3b 30 09 04 01 0f 04 01 31 80 00",	/* empty msisdn, trailing */
		"a1 10 02 01 01 02 01 3b 30 08 04 01 0f 04 01 31 80 00",	/* empty msisdn */
		"a1 11 02 01 01 02 01 3b 30 09 04 01 0f 04 01 31 04 02 00 00",	/* alerting of 2 octets */
		"a2 08 02 01 01 31 03 02 01 3b",	/* result not a SEQUENCE */
		"a2 05 02 01 01 30 00",			/* result without opcode */
		"a2 0a 02 01 01 30 05 02 01 3b 05 00",	/* processUSSReq result not a USSD-Res */
		"a3 03 02 01 01",			/* error without code */
		"a4 03 02 01 01",			/* reject without problem */
		"a4 06 02 01 01 84 01 00",		/* unknown problem tag */
		"a4 07 05 01 00 80 01 00",		/* NULL with content */
		"a4 09 02 01 01 81 01 02 05 00",	/* trailing element in reject */
		"a1 0e 02 01 01 02 01 3b 30 06 04 01 0f 04 84 ff ff ff ff",	/* huge inner length */
	};
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t b[64];
		size_t n = uigw_fx_unhex(bad[i], b, sizeof(b));
		struct uigw_ss_comp c;
		int rc = uigw_ss_comp_decode(b, n, &c);
		if (rc >= 0)
			fail_msg("accepted malformed #%u: %s", i, bad[i]);
		assert_true(rc == -EINVAL || rc == -ENOTSUP);
	}

	/* a ussd-String of 161 octets is too long */
	{
		uint8_t b[200] = { 0xa1, 0x81, 0xb0, 0x02, 0x01, 0x01, 0x02, 0x01, 0x3b, 0x30, 0x81, 0xa7,
				   0x04, 0x01, 0x0f, 0x04, 0x81, 0xa1 };
		struct uigw_ss_comp c;
		assert_int_equal(uigw_ss_comp_decode(b, 18 + 161, &c), -EINVAL);
		/* with 160 it is fine */
		b[2] = 0xaf; b[11] = 0xa6; b[17] = 0xa0;
		memset(b + 18, 0x31, 160);
		assert_int_equal(uigw_ss_comp_decode(b, 18 + 160, &c), 0);
		assert_int_equal(c.ussd.data_len, 160);
	}

	/* every truncation of valid components fails cleanly (ASan checks the reads) */
	{
		const char *good[] = { INVOKE_59_MSISDN, RESULT_BALANCE, "a4 06 02 01 01 81 01 02" };
		for (i = 0; i < 3; i++) {
			uint8_t b[64];
			size_t n = uigw_fx_unhex(good[i], b, sizeof(b)), k;
			for (k = 0; k < n; k++) {
				uint8_t *t = test_malloc(k ? k : 1);
				struct uigw_ss_comp c;
				memcpy(t, b, k);
				assert_true(uigw_ss_comp_decode(t, k, &c) < 0);
				test_free(t);
			}
		}
	}
}

static void test_msisdn(void **state)
{
	struct uigw_ss_comp c = {
		.type = UIGW_SS_INVOKE, .invoke_id = 1, .has_opcode = true, .opcode = 59, .has_ussd = true,
	}, d;
	uint8_t out[64];
	int rc;

	assert_int_equal(uigw_ussd_text_encode(&c.ussd, "*100#"), 0);
	c.ussd.has_msisdn = true;
	strcpy(c.ussd.msisdn, "1001");	/* national/unknown TON: no '+' */
	rc = uigw_ss_comp_encode(out, sizeof(out), &c);
	assert_true(rc > 0);
	assert_int_equal(uigw_ss_comp_decode(out, rc, &d), 0);
	assert_string_equal(d.ussd.msisdn, "1001");
	strcpy(c.ussd.msisdn, "+4917200001234");	/* odd digits: filler */
	rc = uigw_ss_comp_encode(out, sizeof(out), &c);
	assert_int_equal(uigw_ss_comp_decode(out, rc, &d), 0);
	assert_string_equal(d.ussd.msisdn, "+4917200001234");
	strcpy(c.ussd.msisdn, "+12345678901234567");	/* 17 digits: too long */
	assert_int_equal(uigw_ss_comp_encode(out, sizeof(out), &c), -EINVAL);
	strcpy(c.ussd.msisdn, "+49x");
	assert_int_equal(uigw_ss_comp_encode(out, sizeof(out), &c), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ber_lengths),
		cmocka_unit_test(test_ber_int),
		cmocka_unit_test(test_ber_nested_long),
		cmocka_unit_test(test_decode_invoke),
		cmocka_unit_test(test_encode_invoke_text),
		cmocka_unit_test(test_result),
		cmocka_unit_test(test_error_reject),
		cmocka_unit_test(test_other_operation),
		cmocka_unit_test(test_long_gsm7),
		cmocka_unit_test(test_ucs2),
		cmocka_unit_test(test_dcs_decode),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_msisdn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
