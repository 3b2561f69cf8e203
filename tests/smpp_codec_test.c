/* smpp_codec_test: the SMPP codec against the byte vectors of PROTOCOLS.md §5 (produced by libsmpp34, decoded by
 * tshark), UDH and SAR concatenation, message_payload, and malformed, truncated and oversized PDUs. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/bit32gen.h>
#include <osmocom/uigw/codec/smpp_codec.h>
#include "common/fixture.h"

static void *g_ctx;
static size_t g_blocks;

static int setup(void **state)
{
	g_blocks = talloc_total_blocks(g_ctx);
	return 0;
}

static int teardown(void **state)
{
	assert_int_equal(talloc_total_blocks(g_ctx), g_blocks);
	return 0;
}

#define V_BIND "00000023 00000009 00000000 00000001 \"ussdgw\\0\" \"secret\\0\" \"\\0\" 34 00 00 \"\\0\""
#define V_ENQ "00000010 00000015 00000000 00000002"
#define V_THROTTLED "00000010 80000004 00000058 00000009"
#define V_MO_USSD "00000046 00000005 00000000 00000003 \"USSD\\0\" 01 01 \"491720000123\\0\" 00 01 \"*123#\\0\" " \
	"00 00 00 00 00 00 00 00 00 05 \"*123#\" 1383 0002 2a 03 0501 0001 01"
#define V_MT_USSR_BODY "\"USSD\\0\" 00 01 \"*123#\\0\" 01 01 \"491720000123\\0\" 00 00 00 00 00 00 00 08 00 00 " \
	"020c 0002 1234 0501 0001 02 0424 0008 0031003d04140430"

static void test_bind_vector(void **state)
{
	struct uigw_smpp_pdu p;
	uint8_t buf[256];
	int len;

	uigw_smpp_pdu_init(&p, UIGW_SMPP_BIND_TRX, 1);
	strcpy(p.system_id, "ussdgw");
	strcpy(p.password, "secret");
	len = uigw_smpp_encode(buf, sizeof(buf), &p);
	uigw_fx_assert_bytes(buf, len, V_BIND);

	assert_int_equal(uigw_smpp_decode(&p, buf, len), 0);
	assert_int_equal(p.command_id, UIGW_SMPP_BIND_TRX);
	assert_string_equal(p.system_id, "ussdgw");
	assert_string_equal(p.password, "secret");
	assert_string_equal(p.system_type, "");

	/* a password that does not fit its 9 octets (no NUL inside the field): refused, not read past */
	memset(p.password, '1', sizeof(p.password));
	assert_int_equal(uigw_smpp_encode(buf, sizeof(buf), &p), -EINVAL);
}

static void test_enquire_and_throttled(void **state)
{
	struct uigw_smpp_pdu p;
	uint8_t buf[64];
	int len;

	uigw_smpp_pdu_init(&p, UIGW_SMPP_ENQUIRE_LINK, 2);
	len = uigw_smpp_encode(buf, sizeof(buf), &p);
	uigw_fx_assert_bytes(buf, len, V_ENQ);
	assert_int_equal(uigw_smpp_encode(buf, 15, &p), -ENOSPC);

	len = uigw_fx_unhex(V_THROTTLED, buf, sizeof(buf));
	assert_int_equal(uigw_smpp_decode(&p, buf, len), 0);
	assert_int_equal(p.command_id, UIGW_SMPP_SUBMIT_SM_RESP);
	assert_int_equal(p.command_status, UIGW_SMPP_RTHROTTLED);
	assert_int_equal(p.sequence, 9);
	assert_string_equal(p.message_id, "");

	/* submit_sm_resp OK with a message id */
	uigw_smpp_pdu_init(&p, UIGW_SMPP_SUBMIT_SM_RESP, 7);
	strcpy(p.message_id, "abc123");
	len = uigw_smpp_encode(buf, sizeof(buf), &p);
	uigw_fx_assert_bytes(buf, len, "00000017 80000004 00000000 00000007 \"abc123\\0\"");
	assert_int_equal(uigw_smpp_decode(&p, buf, len), 0);
	assert_string_equal(p.message_id, "abc123");
}

static void test_mo_ussd_vector(void **state)
{
	struct uigw_smpp_pdu p;
	uint8_t buf[256], out[256];
	int len, olen;

	len = uigw_fx_unhex(V_MO_USSD, buf, sizeof(buf));
	assert_int_equal(len, 0x46);
	assert_int_equal(uigw_smpp_decode(&p, buf, len), 0);
	assert_int_equal(p.command_id, UIGW_SMPP_DELIVER_SM);
	assert_int_equal(p.sequence, 3);
	assert_string_equal(p.service_type, "USSD");
	assert_int_equal(p.src_ton, 1);
	assert_int_equal(p.src_npi, 1);
	assert_string_equal(p.src_addr, "491720000123");
	assert_int_equal(p.dst_ton, 0);
	assert_int_equal(p.dst_npi, 1);
	assert_string_equal(p.dst_addr, "*123#");
	assert_int_equal(p.data_coding, 0);
	assert_int_equal(p.msg_len, 5);
	assert_memory_equal(p.msg, "*123#", 5);
	assert_false(p.payload);
	assert_int_equal(p.ussd_service_op, UIGW_USSD_OP_PSSR_IND);
	assert_true(p.has_its_session);
	assert_int_equal(p.its_session_info, 0x2a03);	/* session 42, seq 1, end */
	assert_false(p.concat);

	/* encoding it again gives the same octets (TLV order aside: check by decoding) */
	olen = uigw_smpp_encode(out, sizeof(out), &p);
	assert_int_equal(olen, len);
	{
		struct uigw_smpp_pdu q;

		assert_int_equal(uigw_smpp_decode(&q, out, olen), 0);
		assert_int_equal(q.ussd_service_op, 1);
		assert_int_equal(q.its_session_info, 0x2a03);
		assert_memory_equal(out, buf, 59);	/* everything before the TLVs */
	}
}

/* a vendor-specific TLV (where the SMSC tells the sender's VLR) is kept for the channel; a standard one it does
 * not use is not */
static void test_vendor_tlv(void **state)
{
	struct uigw_smpp_pdu p, q;
	uint8_t buf[300];
	int len = uigw_fx_unhex(V_MO_USSD, buf, sizeof(buf));
	/* 0x1501 "33612000001\0", then source_network_type (0x000e, standard) 1 */
	static const uint8_t extra[] = { 0x15, 0x01, 0x00, 0x0c, '3', '3', '6', '1', '2', '0', '0', '0', '0', '0', '1', 0,
					 0x00, 0x0e, 0x00, 0x01, 0x01 };

	memcpy(buf + len, extra, sizeof(extra));
	len += sizeof(extra);
	osmo_store32be(len, buf);
	assert_int_equal(uigw_smpp_decode(&p, buf, len), 0);
	assert_int_equal(p.n_vendor, 1);
	assert_int_equal(p.vendor[0].tag, 0x1501);
	assert_int_equal(p.vendor[0].len, 12);
	assert_string_equal((const char *)p.vendor[0].v, "33612000001");
	/* the reference path walks the same TLVs */
	assert_int_equal(uigw_smpp_decode_ref(&q, buf, len), 0);
	assert_memory_equal(&p, &q, sizeof(p));
}

static void test_mt_ussr_vector(void **state)
{
	struct uigw_smpp_pdu p;
	uint8_t buf[256], body[256], out[256];
	int len, blen, olen;

	blen = uigw_fx_unhex(V_MT_USSR_BODY, body, sizeof(body));
	len = 16 + blen;
	osmo_store32be(len, buf);
	osmo_store32be(UIGW_SMPP_SUBMIT_SM, buf + 4);
	osmo_store32be(0, buf + 8);
	osmo_store32be(0x10, buf + 12);
	memcpy(buf + 16, body, blen);
	assert_int_equal(uigw_smpp_decode(&p, buf, len), 0);
	assert_string_equal(p.service_type, "USSD");
	assert_string_equal(p.src_addr, "*123#");
	assert_string_equal(p.dst_addr, "491720000123");
	assert_int_equal(p.data_coding, UIGW_SMPP_DC_UCS2);
	assert_true(p.payload);
	assert_int_equal(p.msg_len, 8);
	assert_memory_equal(p.msg, "\x00\x31\x00\x3d\x04\x14\x04\x30", 8);
	assert_int_equal(p.ussd_service_op, UIGW_USSD_OP_USSR_REQ);
	assert_false(p.concat);	/* a lone sar_msg_ref_num is no concatenation */

	/* our own encoding of that message: payload TLV, sm_length 0 */
	p.sequence = 0x10;
	olen = uigw_smpp_encode(out, sizeof(out), &p);
	assert_true(olen > 0);
	assert_int_equal(olen, len - 6);	/* without the sar TLV */
	assert_memory_equal(out + 4, buf + 4, 16 + 38 - 4);	/* the mandatory part */
	assert_int_equal(uigw_smpp_decode(&p, out, olen), 0);
	assert_true(p.payload);
	assert_int_equal(p.ussd_service_op, 2);
}

static void test_concat_udh(void **state)
{
	struct uigw_smpp_pdu p, q;
	uint8_t buf[512];
	int len;

	uigw_smpp_pdu_init(&p, UIGW_SMPP_SUBMIT_SM, 5);
	strcpy(p.src_addr, "7730");
	strcpy(p.dst_addr, "491720000123");
	p.dst_ton = 1;
	p.dst_npi = 1;
	p.data_coding = UIGW_SMPP_DC_UCS2;
	p.msg_len = 134;
	memset(p.msg, 0x41, p.msg_len);
	p.concat = true;
	p.concat_udh = true;
	p.concat_ref = 0x7f;
	p.concat_total = 3;
	p.concat_seq = 2;
	len = uigw_smpp_encode(buf, sizeof(buf), &p);
	assert_true(len > 0);
	assert_int_equal(uigw_smpp_decode(&q, buf, len), 0);
	assert_int_equal(buf[16 + 1 + 2 + 5 + 2 + 13], UIGW_SMPP_ESM_UDHI);	/* esm_class on the wire */
	assert_int_equal(q.esm_class & UIGW_SMPP_ESM_UDHI, 0);	/* the UDH is gone from the struct */
	assert_true(q.concat);
	assert_true(q.concat_udh);
	assert_int_equal(q.concat_ref, 0x7f);
	assert_int_equal(q.concat_total, 3);
	assert_int_equal(q.concat_seq, 2);
	assert_int_equal(q.msg_len, 134);
	assert_memory_equal(q.msg, p.msg, 134);
	assert_false(q.payload);

	/* a 16-bit reference UDH (IE 8) is understood too */
	{
		uint8_t d[] = { 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 1,
				0, 1, 1, '4', '9', '1', 0, 0, 0, '7', '7', '3', '0', 0,
				0x40, 0, 0, 0, 0, 0, 0, 0, 0, 9, 6, 8, 4, 0x12, 0x34, 2, 1, 'h', 'i' };
		osmo_store32be(sizeof(d), d);
		assert_int_equal(uigw_smpp_decode(&q, d, sizeof(d)), 0);
		assert_true(q.concat);
		assert_int_equal(q.concat_ref, 0x1234);
		assert_int_equal(q.concat_total, 2);
		assert_int_equal(q.concat_seq, 1);
		assert_int_equal(q.msg_len, 2);
		assert_memory_equal(q.msg, "hi", 2);
		/* the UDH length past the user data */
		d[sizeof(d) - 10] = 5;
		d[sizeof(d) - 9] = 10;
		assert_int_equal(uigw_smpp_decode(&q, d, sizeof(d)), -EBADMSG);
	}
}

static void test_concat_sar_and_payload(void **state)
{
	struct uigw_smpp_pdu p, q;
	uint8_t buf[2048];
	int len;

	uigw_smpp_pdu_init(&p, UIGW_SMPP_DELIVER_SM, 6);
	strcpy(p.src_addr, "491720000123");
	strcpy(p.dst_addr, "7730");
	p.msg_len = 300;	/* too long for short_message: goes into message_payload */
	memset(p.msg, 'x', p.msg_len);
	p.concat = true;
	p.concat_ref = 0xbeef;
	p.concat_total = 2;
	p.concat_seq = 2;
	len = uigw_smpp_encode(buf, sizeof(buf), &p);
	assert_true(len > 300);
	assert_int_equal(uigw_smpp_decode(&q, buf, len), 0);
	assert_true(q.payload);
	assert_true(q.concat);
	assert_false(q.concat_udh);
	assert_int_equal(q.concat_ref, 0xbeef);
	assert_int_equal(q.concat_total, 2);
	assert_int_equal(q.concat_seq, 2);
	assert_int_equal(q.msg_len, 300);

	/* a receipt */
	uigw_smpp_pdu_init(&p, UIGW_SMPP_DELIVER_SM, 8);
	p.esm_class = UIGW_SMPP_ESM_DLR;
	strcpy(p.receipted_msg_id, "m-42");
	memcpy(p.msg, "id:m-42 stat:DELIVRD", 20);
	p.msg_len = 20;
	len = uigw_smpp_encode(buf, sizeof(buf), &p);
	assert_int_equal(uigw_smpp_decode(&q, buf, len), 0);
	assert_string_equal(q.receipted_msg_id, "m-42");
	assert_int_equal(q.esm_class, UIGW_SMPP_ESM_DLR);

	/* too long even for message_payload */
	p.msg_len = UIGW_SMPP_MAX_MSG + 1;
	assert_int_equal(uigw_smpp_encode(buf, sizeof(buf), &p), -EINVAL);
}

static void test_malformed(void **state)
{
	struct uigw_smpp_pdu p;
	uint8_t buf[4096];
	int len, i;

	len = uigw_fx_unhex(V_MO_USSD, buf, sizeof(buf));
	/* every truncation is refused (with the length field fixed up or not) */
	for (i = 0; i < len; i++) {
		assert_true(uigw_smpp_decode(&p, buf, i) < 0);
		osmo_store32be(i, buf);
		/* cut at a TLV boundary it is a complete PDU */
		if (i == 59 || i == 65)
			assert_int_equal(uigw_smpp_decode(&p, buf, i), 0);
		else
			assert_true(uigw_smpp_decode(&p, buf, i) < 0);
	}
	osmo_store32be(len, buf);
	assert_int_equal(uigw_smpp_decode(&p, buf, len), 0);

	/* TLV length past the end */
	buf[len - 2] = 0x02;
	assert_int_equal(uigw_smpp_decode(&p, buf, len), -EBADMSG);
	buf[len - 2] = 0x01;
	/* its_session_info with 3 octets instead of 2 */
	{
		uint8_t b2[128];
		int l2 = uigw_fx_unhex("00000047 00000005 00000000 00000003 \"USSD\\0\" 01 01 \"491720000123\\0\" 00 01 \"*123#\\0\" "
			       "00 00 00 00 00 00 00 00 00 05 \"*123#\" 1383 0003 2a 03 00 0501 0001 01", b2, sizeof(b2));
		assert_int_equal(uigw_smpp_decode(&p, b2, l2), -EBADMSG);
	}
	/* unterminated service_type */
	memcpy(buf + 16, "USSDXXXXXXXXXX", 14);
	assert_int_equal(uigw_smpp_decode(&p, buf, len), -EBADMSG);
	len = uigw_fx_unhex(V_MO_USSD, buf, sizeof(buf));
	/* sm_length past the end */
	buf[53] = 0x30;
	assert_int_equal(uigw_smpp_decode(&p, buf, len), -EBADMSG);
	buf[53] = 0x05;
	/* short_message and message_payload at once */
	memcpy(buf + len, "\x04\x24\x00\x01\x41", 5);
	osmo_store32be(len + 5, buf);
	assert_int_equal(uigw_smpp_decode(&p, buf, len + 5), -EBADMSG);

	/* oversized */
	memset(buf, 0, sizeof(buf));
	osmo_store32be(3000, buf);
	osmo_store32be(UIGW_SMPP_DELIVER_SM, buf + 4);
	assert_int_equal(uigw_smpp_decode(&p, buf, 3000), -EMSGSIZE);
	assert_int_equal(p.command_id, UIGW_SMPP_DELIVER_SM);
	assert_int_equal(uigw_smpp_frame_len(buf, 4), -EBADMSG);
	osmo_store32be(8, buf);
	assert_int_equal(uigw_smpp_frame_len(buf, 4), -EBADMSG);
	assert_int_equal(uigw_smpp_frame_len(buf, 3), 0);
	osmo_store32be(0x46, buf);
	assert_int_equal(uigw_smpp_frame_len(buf, 4), 0x46);

	/* unknown command id: header is still there for the generic_nack */
	len = uigw_fx_unhex("00000010 00000077 00000000 0000002a", buf, sizeof(buf));
	assert_int_equal(uigw_smpp_decode(&p, buf, len), -EOPNOTSUPP);
	assert_int_equal(p.sequence, 42);
	/* enquire_link with a body */
	len = uigw_fx_unhex("00000011 00000015 00000000 0000002a 00", buf, sizeof(buf));
	assert_int_equal(uigw_smpp_decode(&p, buf, len), -EBADMSG);
	/* submit_sm_resp with trailing octets */
	len = uigw_fx_unhex("00000013 80000004 00000000 0000002a 41 00 41", buf, sizeof(buf));
	assert_int_equal(uigw_smpp_decode(&p, buf, len), -EBADMSG);
}

/* The fast path and the libsmpp34 reference give the same octets and decode them to the same struct, for every
 * kind of deliver_sm / submit_sm the gateway meets (the fuzz target compares them on arbitrary input). */
static void test_fast_path_matches_libsmpp34(void **state)
{
	static const struct {
		uint32_t cmd;
		const char *service_type;
		int ussd_op;
		bool its, payload, concat, udh, dlr;
		uint8_t dc;
	} cases[] = {
		{ UIGW_SMPP_SUBMIT_SM, "", -1, false, false, false, false, false, 0 },
		{ UIGW_SMPP_SUBMIT_SM, "USSD", 2, true, false, false, false, false, 0 },
		{ UIGW_SMPP_SUBMIT_SM, "USSD", 17, true, false, false, false, false, 8 },
		{ UIGW_SMPP_SUBMIT_SM, "", -1, false, true, false, false, true, 8 },
		{ UIGW_SMPP_SUBMIT_SM, "", -1, false, false, true, true, false, 0 },
		{ UIGW_SMPP_SUBMIT_SM, "CMT", -1, false, false, true, false, true, 8 },
		{ UIGW_SMPP_DELIVER_SM, "", -1, false, false, false, false, false, 0 },
		{ UIGW_SMPP_DELIVER_SM, "USSD", 1, true, false, false, false, false, 0 },
		{ UIGW_SMPP_DELIVER_SM, "", -1, false, false, true, false, false, 8 },
		{ UIGW_SMPP_DELIVER_SM, "", -1, false, true, false, false, false, 3 },
		{ UIGW_SMPP_DELIVER_SM, "", -1, false, false, true, true, false, 0 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct uigw_smpp_pdu p, a, b;
		uint8_t fast[UIGW_SMPP_MAX_PDU], ref[UIGW_SMPP_MAX_PDU];
		int lf, lr;

		uigw_smpp_pdu_init(&p, cases[i].cmd, 1000 + i);
		strcpy(p.service_type, cases[i].service_type);
		p.src_ton = 0;
		p.src_npi = 1;
		strcpy(p.src_addr, "7726");
		p.dst_ton = 1;
		p.dst_npi = 1;
		strcpy(p.dst_addr, "491720000123");
		p.data_coding = cases[i].dc;
		p.registered_delivery = cases[i].dlr;
		p.protocol_id = i;
		p.ussd_service_op = cases[i].ussd_op;
		p.has_its_session = cases[i].its;
		p.its_session_info = 0x2a03;
		p.payload = cases[i].payload;
		p.msg_len = cases[i].payload ? 300 : 40;
		memset(p.msg, 'a' + i, p.msg_len);
		p.concat = cases[i].concat;
		p.concat_udh = cases[i].udh;
		p.concat_ref = cases[i].udh ? 0x42 : 0x1234;
		p.concat_total = 3;
		p.concat_seq = 2;
		if (cases[i].cmd == UIGW_SMPP_DELIVER_SM && i == 9)
			strcpy(p.receipted_msg_id, "m42");
		lf = uigw_smpp_encode(fast, sizeof(fast), &p);
		lr = uigw_smpp_encode_ref(ref, sizeof(ref), &p);
		assert_true(lf > 0);
		assert_int_equal(lf, lr);
		assert_memory_equal(fast, ref, lf);
		assert_int_equal(uigw_smpp_decode(&a, fast, lf), 0);
		assert_int_equal(uigw_smpp_decode_ref(&b, fast, lf), 0);
		assert_memory_equal(&a, &b, sizeof(a));
		assert_int_equal(a.msg_len, p.msg_len);
		assert_memory_equal(a.msg, p.msg, p.msg_len);
		assert_int_equal(a.ussd_service_op, p.ussd_service_op);
		assert_int_equal(a.concat, p.concat);
	}
	/* the responses of every step */
	{
		struct uigw_smpp_pdu p, a, b;
		uint8_t fast[64], ref[64];
		int lf, lr;

		uigw_smpp_pdu_init(&p, UIGW_SMPP_DELIVER_SM_RESP, 7);
		lf = uigw_smpp_encode(fast, sizeof(fast), &p);
		lr = uigw_smpp_encode_ref(ref, sizeof(ref), &p);
		assert_int_equal(lf, 17);
		assert_int_equal(lf, lr);
		assert_memory_equal(fast, ref, lf);
		uigw_smpp_pdu_init(&p, UIGW_SMPP_SUBMIT_SM_RESP, 8);
		strcpy(p.message_id, "msg-0001");
		lr = uigw_smpp_encode_ref(ref, sizeof(ref), &p);
		assert_int_equal(uigw_smpp_decode(&a, ref, lr), 0);
		assert_int_equal(uigw_smpp_decode_ref(&b, ref, lr), 0);
		assert_memory_equal(&a, &b, sizeof(a));
		assert_string_equal(a.message_id, "msg-0001");
		/* sequence 0 is refused on both paths */
		p.sequence = 0;
		assert_int_equal(uigw_smpp_encode(fast, sizeof(fast), &p), -EINVAL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bind_vector, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enquire_and_throttled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mo_ussd_vector, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vendor_tlv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mt_ussr_vector, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concat_udh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concat_sar_and_payload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fast_path_matches_libsmpp34, setup, teardown),
	};
	int rc;

	g_ctx = talloc_named_const(NULL, 0, "smpp_codec_test");
	uigw_smpp_codec_init(g_ctx);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	talloc_free(g_ctx);
	return rc;
}
