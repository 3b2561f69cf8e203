/* tcap_test: the TCAP message codec and MAP's dialogue PDU against the byte vectors of PROTOCOLS.md §2 (each
 * decoded by tshark 4.0 as TCAP/GSM MAP without errors), and the errors a receiver must tell apart to answer
 * with the right P-Abort (Q.774). */

#define _GNU_SOURCE	/* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <osmocom/uigw/codec/ber.h>
#include <osmocom/uigw/codec/map.h>
#include <osmocom/uigw/codec/ss_codec.h>
#include <osmocom/uigw/codec/tcap.h>
#include "common/fixture.h"

/* VLR->HLR TC-BEGIN, AARQ networkUnstructuredSsContext-v2, processUnstructuredSS-Request "*123#" with msisdn */
#define BEGIN_59 \
	"62 45 48 04 00 00 00 01 6B 1E 28 1C 06 07 00 11 86 05 01 01 01 A0 11 60 0F 80 02 07 80" \
	" A1 09 06 07 04 00 00 01 00 13 02 6C 1D A1 1B 02 01 01 02 01 3B 30 13 04 01 0F 04 05 AA 98 6C 36 02" \
	" 80 07 91 94 71 02 00 10 32"
/* HLR->VLR TC-END, AARE accepted + ReturnResultLast of 59, "Balance: 10 EUR" */
#define END_RRL \
	"64 53 49 04 00 00 00 01 6B 2A 28 28 06 07 00 11 86 05 01 01 01 A0 1D 61 1B 80 02 07 80" \
	" A1 09 06 07 04 00 00 01 00 13 02 A2 03 02 01 00 A3 05 A1 03 02 01 00 6C 1F A2 1D 02 01 01" \
	" 30 18 02 01 3B 30 13 04 01 0F 04 0E C2 30 3B EC 1E 97 75 A0 18 0C 54 AC 4A 1B"
/* MAP-OpenInfo: destinationReference IMSI 262019876543210, originationReference +491720000010 */
#define OPEN_INFO \
	"28 21 06 07 04 00 00 01 01 01 01 A0 16 A0 14 80 09 86 62 02 91 78 56 34 12 F0" \
	" 81 07 91 94 71 02 00 00 01"

static void test_begin(void **state)
{
	uint8_t b[256], out[256];
	size_t n = uigw_fx_unhex(BEGIN_59, b, sizeof(b));
	struct uigw_tcap_msg m;
	struct uigw_ss_comp c;
	const uint8_t *pos, *cp;
	size_t rem, clen;
	char text[UIGW_USSD_UTF8_MAX];

	assert_int_equal(uigw_tcap_decode(b, n, &m, NULL), 0);
	assert_int_equal(m.type, UIGW_TCAP_BEGIN);
	assert_int_equal(m.otid.len, 4);
	assert_int_equal(uigw_tcap_tid_val(&m.otid), 1);
	assert_int_equal(m.dtid.len, 0);
	assert_true(m.has_dialogue);
	assert_int_equal(m.dlg.apdu, UIGW_TCAP_AARQ);
	assert_false(m.dlg.uni);
	assert_int_equal(m.dlg.acn_len, UIGW_MAP_ACN_LEN);
	assert_memory_equal(m.dlg.acn, uigw_map_acn_ussd_v2, UIGW_MAP_ACN_LEN);
	assert_null(m.dlg.user_info);

	/* one component: the invoke of 59 */
	pos = m.comps;
	rem = m.comps_len;
	assert_int_equal(uigw_tcap_comp_next(&pos, &rem, &cp, &clen), 1);
	assert_int_equal(uigw_ss_comp_decode(cp, clen, &c), 0);
	assert_int_equal(c.type, UIGW_SS_INVOKE);
	assert_int_equal(c.opcode, UIGW_SS_OP_PROCESS_USS_REQ);
	assert_string_equal(c.ussd.msisdn, "+491720000123");
	assert_true(uigw_ussd_text_decode(&c.ussd, text, sizeof(text), NULL) > 0);
	assert_string_equal(text, "*123#");
	assert_int_equal(uigw_tcap_comp_next(&pos, &rem, &cp, &clen), 0);

	/* what decoded encodes to the same bytes */
	assert_int_equal(uigw_tcap_encode(out, sizeof(out), &m), n);
	assert_memory_equal(out, b, n);
}

static void test_end_aare(void **state)
{
	uint8_t comp[128], out[256];
	struct uigw_ss_comp c = {
		.type = UIGW_SS_RETURN_RESULT, .has_invoke_id = true, .invoke_id = 1,
		.has_opcode = true, .opcode = UIGW_SS_OP_PROCESS_USS_REQ, .has_ussd = true,
	};
	struct uigw_tcap_msg m = { .type = UIGW_TCAP_END, .has_dialogue = true };
	int n;

	assert_int_equal(uigw_ussd_text_encode(&c.ussd, "Balance: 10 EUR"), 0);
	n = uigw_ss_comp_encode(comp, sizeof(comp), &c);
	assert_true(n > 0);
	uigw_tcap_tid_set(&m.dtid, 1);
	uigw_map_dialogue_v2(&m.dlg, UIGW_TCAP_AARE);
	m.dlg.result = 0;
	m.dlg.diag_source = UIGW_TCAP_DIAG_USER;
	m.dlg.diag = UIGW_TCAP_DIAG_NULL;
	m.comps = comp;
	m.comps_len = n;
	n = uigw_tcap_encode(out, sizeof(out), &m);
	uigw_fx_assert_bytes(out, n, END_RRL);

	/* and back */
	memset(&m, 0xff, sizeof(m));
	assert_int_equal(uigw_tcap_decode(out, n, &m, NULL), 0);
	assert_int_equal(m.type, UIGW_TCAP_END);
	assert_int_equal(m.otid.len, 0);
	assert_int_equal(uigw_tcap_tid_val(&m.dtid), 1);
	assert_int_equal(m.dlg.apdu, UIGW_TCAP_AARE);
	assert_int_equal(m.dlg.result, 0);
	assert_int_equal(m.dlg.diag_source, UIGW_TCAP_DIAG_USER);
	assert_int_equal(m.comps_len, 0x1f);

	/* too small a buffer */
	assert_int_equal(uigw_tcap_encode(out, 40, &m), -ENOSPC);
}

static void test_aborts(void **state)
{
	uint8_t out[128], b[128];
	struct uigw_tcap_msg m = { .type = UIGW_TCAP_ABORT, .has_pabort = true,
				   .pabort = UIGW_TCAP_PA_UNRECOGNIZED_TID };
	struct uigw_tcap_msg d;
	int n;

	m.dtid.len = 4;
	memcpy(m.dtid.b, "\x0a\x0b\x0c\x0d", 4);
	n = uigw_tcap_encode(out, sizeof(out), &m);
	uigw_fx_assert_bytes(out, n, "67 09 49 04 0a 0b 0c 0d 4a 01 01");
	assert_int_equal(uigw_tcap_decode(out, n, &d, NULL), 0);
	assert_true(d.has_pabort);
	assert_int_equal(d.pabort, UIGW_TCAP_PA_UNRECOGNIZED_TID);
	assert_string_equal(uigw_tcap_pabort_name(d.pabort), "unrecognizedTransactionID");

	/* TC-U-ABORT refusing the application context: AARE reject-permanent, acn-not-supported */
	memset(&m, 0, sizeof(m));
	m.type = UIGW_TCAP_ABORT;
	m.dtid.len = 4;
	memcpy(m.dtid.b, "\x0a\x0b\x0c\x0d", 4);
	m.has_dialogue = true;
	uigw_map_dialogue_v2(&m.dlg, UIGW_TCAP_AARE);
	m.dlg.result = 1;
	m.dlg.diag_source = UIGW_TCAP_DIAG_USER;
	m.dlg.diag = UIGW_TCAP_DIAG_ACN_NOT_SUPPORTED;
	n = uigw_tcap_encode(out, sizeof(out), &m);
	assert_int_equal(n, 0x34);
	uigw_fx_unhex("67 32 49 04 0a0b0c0d 6b 2a 28 28", b, sizeof(b));
	assert_memory_equal(out, b, 10);
	uigw_fx_unhex("a2 03 02 01 01 a3 05 a1 03 02 01 02", b, sizeof(b));
	assert_memory_equal(out + n - 12, b, 12);
	assert_int_equal(uigw_tcap_decode(out, n, &d, NULL), 0);
	assert_false(d.has_pabort);
	assert_true(d.has_dialogue);
	assert_int_equal(d.dlg.result, 1);
	assert_int_equal(d.dlg.diag, UIGW_TCAP_DIAG_ACN_NOT_SUPPORTED);

	/* U-ABORT with ABRT (user) and MAP-UserAbortInfo userSpecificReason */
	{
		struct uigw_map_dlg md = { .kind = UIGW_MAP_DLG_USER_ABORT, .uabort = UIGW_MAP_UABORT_USER_SPECIFIC };
		struct uigw_map_dlg got;
		uint8_t ui[64];
		int uin = uigw_map_dlg_encode(ui, sizeof(ui), &md);

		uigw_fx_assert_bytes(ui, uin, "28 0f 06 07 04 00 00 01 01 01 01 a0 04 a4 02 80 00");
		memset(&m.dlg, 0, sizeof(m.dlg));
		m.dlg.apdu = UIGW_TCAP_ABRT;
		m.dlg.abort_source = 0;
		m.dlg.user_info = ui;
		m.dlg.user_info_len = uin;
		n = uigw_tcap_encode(out, sizeof(out), &m);
		assert_true(n > 0);
		assert_int_equal(uigw_tcap_decode(out, n, &d, NULL), 0);
		assert_int_equal(d.dlg.apdu, UIGW_TCAP_ABRT);
		assert_int_equal(d.dlg.abort_source, 0);
		assert_int_equal(uigw_map_dlg_decode(d.dlg.user_info, d.dlg.user_info_len, &got), 0);
		assert_int_equal(got.kind, UIGW_MAP_DLG_USER_ABORT);
		assert_int_equal(got.uabort, UIGW_MAP_UABORT_USER_SPECIFIC);
		/* resourceUnavailable with its reason */
		md.uabort = UIGW_MAP_UABORT_RESOURCE_UNAVAILABLE;
		md.reason = 1;
		uin = uigw_map_dlg_encode(ui, sizeof(ui), &md);
		assert_int_equal(uigw_map_dlg_decode(ui, uin, &got), 0);
		assert_int_equal(got.uabort, UIGW_MAP_UABORT_RESOURCE_UNAVAILABLE);
		assert_int_equal(got.reason, 1);
	}
}

static void test_map_open(void **state)
{
	uint8_t ui[128], out[256];
	struct uigw_map_dlg md = { .kind = UIGW_MAP_DLG_OPEN, .has_dest = true, .has_orig = true }, got;
	struct uigw_tcap_msg m = { .type = UIGW_TCAP_BEGIN, .has_dialogue = true }, d;
	char s[48];
	int n, uin;

	md.dest.ton_npi = UIGW_MAP_TON_NPI_E212;
	strcpy(md.dest.digits, "262019876543210");
	assert_int_equal(uigw_map_addr_from_str(&md.orig, "+491720000010"), 0);
	uin = uigw_map_dlg_encode(ui, sizeof(ui), &md);
	uigw_fx_assert_bytes(ui, uin, OPEN_INFO);

	uigw_tcap_tid_set(&m.otid, 0x11223344);
	uigw_map_dialogue_v2(&m.dlg, UIGW_TCAP_AARQ);
	m.dlg.user_info = ui;
	m.dlg.user_info_len = uin;
	n = uigw_tcap_encode(out, sizeof(out), &m);
	assert_true(n > 0);
	assert_int_equal(uigw_tcap_decode(out, n, &d, NULL), 0);
	assert_int_equal(uigw_tcap_tid_val(&d.otid), 0x11223344);
	/* the AARQ grows to 60 34 with the user information, as in PROTOCOLS.md */
	assert_non_null(memmem(out, n, "\x60\x34\x80\x02\x07\x80", 6));
	assert_int_equal(uigw_map_dlg_decode(d.dlg.user_info, d.dlg.user_info_len, &got), 0);
	assert_int_equal(got.kind, UIGW_MAP_DLG_OPEN);
	assert_true(got.has_dest && got.has_orig);
	assert_int_equal(got.dest.ton_npi, UIGW_MAP_TON_NPI_E212);
	assert_string_equal(got.dest.digits, "262019876543210");
	uigw_map_addr_str(&got.orig, s, sizeof(s));
	assert_string_equal(s, "+491720000010");
	uigw_map_addr_str(&got.dest, s, sizeof(s));
	assert_string_equal(s, "262019876543210");

	/* no MAP dialogue PDU in another abstract syntax; garbage is an error */
	uigw_fx_unhex("28 09 06 07 04 00 00 01 01 01 02", ui, sizeof(ui));
	assert_int_equal(uigw_map_dlg_decode(ui, 11, &got), -ENOENT);
	uigw_fx_unhex("28 0b 06 07 04 00 00 01 01 01 01 a0 00", ui, sizeof(ui));
	assert_int_equal(uigw_map_dlg_decode(ui, 13, &got), -EINVAL);
	assert_int_equal(uigw_map_addr_from_str(&md.orig, "+49x"), -EINVAL);
}

static void test_continue_and_uni(void **state)
{
	uint8_t comp[16], out[128];
	struct uigw_tcap_msg m = { .type = UIGW_TCAP_CONTINUE }, d;
	int n;

	uigw_fx_unhex("a1 06 02 01 02 02 01 3c", comp, sizeof(comp));
	m.otid.len = 2;
	m.otid.b[0] = 0x12;
	m.otid.b[1] = 0x34;
	uigw_tcap_tid_set(&m.dtid, 0xdeadbeef);
	m.comps = comp;
	m.comps_len = 8;
	n = uigw_tcap_encode(out, sizeof(out), &m);
	uigw_fx_assert_bytes(out, n, "65 14 48 02 12 34 49 04 de ad be ef 6c 08 a1 06 02 01 02 02 01 3c");
	assert_int_equal(uigw_tcap_decode(out, n, &d, NULL), 0);
	assert_int_equal(d.otid.len, 2);
	assert_int_equal(uigw_tcap_tid_val(&d.otid), 0x1234);
	assert_int_equal(uigw_tcap_tid_val(&d.dtid), 0xdeadbeef);

	/* Unidirectional: components only */
	memset(&m, 0, sizeof(m));
	m.type = UIGW_TCAP_UNI;
	m.comps = comp;
	m.comps_len = 8;
	n = uigw_tcap_encode(out, sizeof(out), &m);
	uigw_fx_assert_bytes(out, n, "61 0a 6c 08 a1 06 02 01 02 02 01 3c");
	assert_int_equal(uigw_tcap_decode(out, n, &d, NULL), 0);
	assert_int_equal(d.type, UIGW_TCAP_UNI);
	m.comps_len = 0;
	assert_int_equal(uigw_tcap_encode(out, sizeof(out), &m), -EINVAL);

	/* a Continue without its dtid is not encoded */
	memset(&m, 0, sizeof(m));
	m.type = UIGW_TCAP_CONTINUE;
	uigw_tcap_tid_set(&m.otid, 1);
	assert_int_equal(uigw_tcap_encode(out, sizeof(out), &m), -EINVAL);
}

/* one malformed message: the return code, whether a P-Abort is owed, its cause and the tid it goes to */
static void expect_err(const char *hex, int rc, bool abort, uint8_t cause, uint32_t to)
{
	uint8_t b[256];
	size_t n = uigw_fx_unhex(hex, b, sizeof(b));
	struct uigw_tcap_msg m;
	struct uigw_tcap_err err;

	assert_int_equal(uigw_tcap_decode(b, n, &m, &err), rc);
	assert_int_equal(err.abort, abort);
	if (abort) {
		assert_int_equal(err.cause, cause);
		assert_int_equal(uigw_tcap_tid_val(&err.dtid), to);
	}
	assert_non_null(err.what);
}

static void test_errors(void **state)
{
	uint8_t b[256];
	size_t n;
	struct uigw_tcap_msg m;
	struct uigw_tcap_err err;

	/* an unknown message type (APPLICATION 8) whose first element is an otid */
	expect_err("68 06 48 04 00 00 00 07", -ENOTSUP, true, UIGW_TCAP_PA_UNRECOGNIZED_MSG_TYPE, 7);
	/* a 5-octet otid */
	expect_err("62 07 48 05 00 00 00 00 07", -EINVAL, true, UIGW_TCAP_PA_BADLY_FORMATTED_TP, 0);
	/* a Begin without otid */
	expect_err("62 0a 6c 08 a1 06 02 01 02 02 01 3c", -EINVAL, true, UIGW_TCAP_PA_INCORRECT_TP, 0);
	/* a Begin carrying a dtid */
	expect_err("62 0c 48 04 00 00 00 09 49 04 00 00 00 01", -EINVAL, true, UIGW_TCAP_PA_INCORRECT_TP, 9);
	/* a Continue without dtid */
	expect_err("65 06 48 04 00 00 00 09", -EINVAL, true, UIGW_TCAP_PA_INCORRECT_TP, 9);
	/* an element that does not belong */
	expect_err("62 09 48 04 00 00 00 09 04 01 00", -EINVAL, true, UIGW_TCAP_PA_INCORRECT_TP, 9);
	/* the outer length runs past the data: the otid is still where a Begin has it */
	expect_err("62 45 48 04 00 00 00 0b 6c 03", -EINVAL, true, UIGW_TCAP_PA_BADLY_FORMATTED_TP, 0x0b);
	/* trailing garbage inside: an element's length runs past its parent */
	expect_err("62 08 48 04 00 00 00 0c 6c 05", -EINVAL, true, UIGW_TCAP_PA_BADLY_FORMATTED_TP, 0x0c);
	/* nothing readable: no one to answer */
	expect_err("ff ff", -ENOTSUP, false, 0, 0);
	expect_err("62", -EINVAL, false, 0, 0);

	/* a dialogue portion that is not a TCAP dialogue: answered with an ABRT from the provider */
	n = uigw_fx_unhex("62 11 48 04 00 00 00 0d 6b 09 28 07 06 05 01 02 03 04 05", b, sizeof(b));
	assert_int_equal(uigw_tcap_decode(b, n, &m, &err), -EINVAL);
	assert_true(err.abort);
	assert_true(err.dialogue);
	assert_int_equal(uigw_tcap_tid_val(&err.dtid), 0x0d);
	/* an AARQ without its application context */
	n = uigw_fx_unhex("62 17 48 04 00 00 00 0d 6b 0f 28 0d 06 07 00 11 86 05 01 01 01 a0 02 60 00", b, sizeof(b));
	assert_int_equal(uigw_tcap_decode(b, n, &m, &err), -EINVAL);
	assert_true(err.dialogue);

	/* an Abort whose U-ABORT reason does not decode is still an Abort */
	n = uigw_fx_unhex("67 0a 49 04 00 00 00 0e 6b 02 05 00", b, sizeof(b));
	assert_int_equal(uigw_tcap_decode(b, n, &m, &err), 0);
	assert_int_equal(m.type, UIGW_TCAP_ABORT);
	assert_false(m.has_dialogue);

	/* a component portion that cannot be split: the walker says so */
	n = uigw_fx_unhex("62 0d 48 04 00 00 00 0f 6c 05 a1 09 02 01 01", b, sizeof(b));
	assert_int_equal(uigw_tcap_decode(b, n, &m, &err), 0);
	{
		const uint8_t *pos = m.comps, *c;
		size_t rem = m.comps_len, clen;

		assert_int_equal(uigw_tcap_comp_next(&pos, &rem, &c, &clen), -EINVAL);
		assert_int_equal(uigw_tcap_comp_next(&pos, &rem, &c, &clen), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_begin),
		cmocka_unit_test(test_end_aare),
		cmocka_unit_test(test_aborts),
		cmocka_unit_test(test_map_open),
		cmocka_unit_test(test_continue_and_uni),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
