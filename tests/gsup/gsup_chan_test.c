/* gsup_chan_test: the GSUP adapter (src/chan/gsup/gsup_chan.c) against the real dialog engine, with the GSUP client
 * library replaced (-Wl,--wrap): messages from the "HLR" are fed to the adapter's read callback, what it sends
 * is decoded and checked. Covers the session mapping, Reject / ReturnError cases, MSISDN sources, timeouts,
 * link loss and the refused push. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <errno.h>
#include <cmocka.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/msgb.h>
#include <osmocom/core/application.h>
#include <osmocom/gsm/gsup.h>
#include <osmocom/gsm/gsm48_ie.h>
#include <osmocom/gsupclient/gsup_client.h>
#include <osmocom/vty/vty.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/core/dialog.h>
#include <osmocom/uigw/store/store.h>
#include <osmocom/uigw/codec/ss_codec.h>
#include <osmocom/uigw/chan/gsup.h>
#include <osmocom/uigw/core/chan.h>
#include <osmocom/uigw/core/trigger.h>
#include "common/fixture.h"

/* ------------------------------------------------------------------------------------------------------------ */
/* the fake GSUP client */

static struct osmo_gsup_client *fake;
static unsigned int n_created;
static char ipa_serno[64];

struct osmo_gsup_client *__wrap_osmo_gsup_client_create3(void *ctx, struct osmo_gsup_client_config *cfg);
struct osmo_gsup_client *__wrap_osmo_gsup_client_create3(void *ctx, struct osmo_gsup_client_config *cfg)
{
	fake = talloc_zero(ctx, struct osmo_gsup_client);
	fake->read_cb = cfg->read_cb;
	fake->up_down_cb = cfg->up_down_cb;
	fake->data = cfg->data;
	fake->ipa_dev = cfg->ipa_dev;
	snprintf(ipa_serno, sizeof(ipa_serno), "%s", cfg->ipa_dev->serno);
	n_created++;
	return fake;
}

void __wrap_osmo_gsup_client_destroy(struct osmo_gsup_client *gc);
void __wrap_osmo_gsup_client_destroy(struct osmo_gsup_client *gc)
{
	if (gc == fake)
		fake = NULL;
	talloc_free(gc);
}

/* what the adapter sent last */
static struct {
	unsigned int n;
	unsigned int n_end;
	enum osmo_gsup_message_type type;
	enum osmo_gsup_session_state state;
	char imsi[OSMO_IMSI_BUF_SIZE];
	uint32_t session_id;
	bool has_comp;
	struct uigw_ss_comp comp;
	char text[UIGW_USSD_UTF8_MAX];
} tx;

int __wrap_osmo_gsup_client_enc_send(struct osmo_gsup_client *gc, const struct osmo_gsup_message *gm);
int __wrap_osmo_gsup_client_enc_send(struct osmo_gsup_client *gc, const struct osmo_gsup_message *gm)
{
	tx.n++;
	if (gm->session_state == OSMO_GSUP_SESSION_STATE_END)
		tx.n_end++;
	tx.type = gm->message_type;
	tx.state = gm->session_state;
	OSMO_STRLCPY_ARRAY(tx.imsi, gm->imsi);
	tx.session_id = gm->session_id;
	tx.has_comp = gm->ss_info_len > 0;
	tx.text[0] = '\0';
	if (tx.has_comp) {
		assert_int_equal(uigw_ss_comp_decode(gm->ss_info, gm->ss_info_len, &tx.comp), 0);
		if (tx.comp.has_ussd)
			assert_true(uigw_ussd_text_decode(&tx.comp.ussd, tx.text, sizeof(tx.text), NULL) >= 0);
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* feeding the adapter */

static struct uigw *gw;
static const char *rx_source;	/* the Source Name IE of the next message (a GSUP proxy's), or NULL */

static void rx(enum osmo_gsup_message_type type, const char *imsi, uint32_t id, enum osmo_gsup_session_state st,
	       const uint8_t *comp, size_t comp_len, const char *msisdn)
{
	struct osmo_gsup_message gm = {
		.message_type = type, .session_state = st, .session_id = id,
		.message_class = OSMO_GSUP_MESSAGE_CLASS_USSD,
	};
	uint8_t msisdn_enc[OSMO_GSUP_MAX_CALLED_PARTY_BCD_LEN];
	struct msgb *msg = msgb_alloc(1024, "test rx");

	OSMO_STRLCPY_ARRAY(gm.imsi, imsi);
	gm.ss_info = (uint8_t *)comp;
	gm.ss_info_len = comp_len;
	if (msisdn) {
		int rc = gsm48_encode_bcd_number(msisdn_enc, sizeof(msisdn_enc), 0, msisdn);
		assert_true(rc > 0);
		gm.msisdn_enc = msisdn_enc;
		gm.msisdn_enc_len = rc;
	}
	if (rx_source) {
		gm.source_name = (const uint8_t *)rx_source;
		gm.source_name_len = strlen(rx_source) + 1;
	}
	assert_int_equal(osmo_gsup_encode(msg, &gm), 0);
	msg->l2h = msg->data;
	assert_non_null(fake);
	fake->read_cb(fake, msg);
	/* the next run of the event loop: the screens the core held back until the adapter's call returned */
	uigw_dialog_outbox_run(gw);
}

static size_t enc_invoke(uint8_t *buf, int op, const char *text, const char *msisdn)
{
	struct uigw_ss_comp c = { .type = UIGW_SS_INVOKE, .has_invoke_id = true, .invoke_id = 1, .has_opcode = true,
				  .opcode = op, .has_ussd = true };
	int rc;

	assert_int_equal(uigw_ussd_text_encode(&c.ussd, text), 0);
	if (msisdn) {
		c.ussd.has_msisdn = true;
		OSMO_STRLCPY_ARRAY(c.ussd.msisdn, msisdn);
	}
	rc = uigw_ss_comp_encode(buf, 256, &c);
	assert_true(rc > 0);
	return rc;
}

static void begin(const char *imsi, uint32_t id, const char *dial, const char *msisdn_arg, const char *msisdn_ie)
{
	uint8_t b[256];
	size_t n = enc_invoke(b, UIGW_SS_OP_PROCESS_USS_REQ, dial, msisdn_arg);

	rx(OSMO_GSUP_MSGT_PROC_SS_REQUEST, imsi, id, OSMO_GSUP_SESSION_STATE_BEGIN, b, n, msisdn_ie);
}

static void answer(const char *imsi, uint32_t id, const char *text)
{
	struct uigw_ss_comp c = { .type = UIGW_SS_RETURN_RESULT, .has_invoke_id = true, .invoke_id = tx.comp.invoke_id,
				  .has_opcode = true, .opcode = UIGW_SS_OP_USS_REQ, .has_ussd = true };
	uint8_t b[256];
	int rc;

	assert_int_equal(uigw_ussd_text_encode(&c.ussd, text), 0);
	rc = uigw_ss_comp_encode(b, sizeof(b), &c);
	assert_true(rc > 0);
	rx(OSMO_GSUP_MSGT_PROC_SS_REQUEST, imsi, id, OSMO_GSUP_SESSION_STATE_CONTINUE, b, rc, NULL);
}

/* ------------------------------------------------------------------------------------------------------------ */
/* fixture */

static struct uigw_fixture fx;

static const char *camp =
	"name = \"quiz\";\n"
	"entry = { ussd = [\"*7726#\"]; };\n"
	"nodes = (\n"
	" { id = \"q\"; type = \"choice\"; text = \"Colour?\"; next = \"e\";\n"
	"   options = ( { key = \"1\"; label = \"Red\"; value = \"red\"; },\n"
	"               { key = \"2\"; label = \"Blue\"; value = \"blue\"; } ); },\n"
	" { id = \"e\"; type = \"info\"; text = \"Thanks.\"; }\n"
	");\n";

static int setup(void **state)
{
	memset(&tx, 0, sizeof(tx));
	uigw_fx_init(&fx, "gsup");
	uigw_fx_campaign(&fx, "quiz.conf", camp);
	gw = uigw_fx_gw(&fx, false);
	assert_int_equal(uigw_gsup_init(gw), 0);
	uigw_gsup_cfg(uigw_chan_priv(gw, UIGW_CHAN_GSUP))->configured = true;	/* as a `gsup` node does */
	assert_int_equal(uigw_chans_open(gw), 0);
	assert_non_null(fake);
	fake->up_down_cb(fake, true);
	return 0;
}

static int teardown(void **state)
{
	uigw_fx_teardown(&fx);	/* frees the adapter, and with it the GSUP client */
	gw = NULL;
	assert_null(fake);
	return 0;
}

static unsigned int n_dialogs(void)
{
	return gw->n_dialogs;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* tests */

static void test_identity(void **state)
{
	/* the HLR names us by the serial number: EUSE-<name>, no -00-00-.. suffix */
	assert_string_equal(ipa_serno, "EUSE-uigw");
	assert_string_equal(fake->ipa_dev->unit_name, "EUSE-uigw");
}

static void test_menu_to_end(void **state)
{
	begin("901700000000001", 0x20000001, "*7726#", NULL, NULL);
	assert_int_equal(tx.n, 1);
	assert_int_equal(tx.type, OSMO_GSUP_MSGT_PROC_SS_RESULT);
	assert_int_equal(tx.state, OSMO_GSUP_SESSION_STATE_CONTINUE);
	assert_string_equal(tx.imsi, "901700000000001");
	assert_int_equal(tx.session_id, 0x20000001);
	assert_int_equal(tx.comp.type, UIGW_SS_INVOKE);
	assert_int_equal(tx.comp.opcode, UIGW_SS_OP_USS_REQ);
	assert_string_equal(tx.text, "Colour?\n1. Red\n2. Blue");
	/* fallback: +IMSI */
	assert_non_null(uigw_dialog_find(gw, "+901700000000001", UIGW_CHAN_GSUP));

	answer("901700000000001", 0x20000001, "2");
	assert_int_equal(tx.n, 2);
	assert_int_equal(tx.state, OSMO_GSUP_SESSION_STATE_END);
	assert_int_equal(tx.comp.type, UIGW_SS_RETURN_RESULT);
	assert_int_equal(tx.comp.opcode, UIGW_SS_OP_PROCESS_USS_REQ);
	assert_int_equal(tx.comp.invoke_id, 1);	/* answers the MS's invoke */
	assert_string_equal(tx.text, "Thanks.");
	assert_int_equal(n_dialogs(), 0);
	/* a CONTINUE for the finished session: END + ReturnError systemFailure */
	answer("901700000000001", 0x20000001, "1");
	assert_int_equal(tx.n, 3);
	assert_int_equal(tx.state, OSMO_GSUP_SESSION_STATE_END);
	assert_int_equal(tx.comp.type, UIGW_SS_RETURN_ERROR);
	assert_int_equal(tx.comp.error_code, UIGW_SS_ERR_SYSTEM_FAILURE);
}

/* home-vlr: a BEGIN whose Source Name is another network's VLR is a roaming subscriber, the name its visited
 * network; without the IE, or with a home VLR, at home */
static void test_roaming_source(void **state)
{
	struct uigw_gsup_cfg *cfg = uigw_gsup_cfg(uigw_chan_priv(gw, UIGW_CHAN_GSUP));
	struct uigw_dialog *dlg;

	cfg->home_vlrs = talloc_strdup(gw, "MSC-262-01 VLR-HOME");
	begin("901700000000011", 1, "*7726#", "+491720000131", NULL);
	dlg = uigw_dialog_find(gw, "+491720000131", UIGW_CHAN_GSUP);
	assert_non_null(dlg);
	assert_false(dlg->roaming);
	rx_source = "MSC-262-01-A";
	begin("901700000000012", 1, "*7726#", "+491720000132", NULL);
	dlg = uigw_dialog_find(gw, "+491720000132", UIGW_CHAN_GSUP);
	assert_false(dlg->roaming);
	rx_source = "MSC-208-10-PARIS";
	begin("901700000000013", 1, "*7726#", "+491720000133", NULL);
	dlg = uigw_dialog_find(gw, "+491720000133", UIGW_CHAN_GSUP);
	assert_true(dlg->roaming);
	assert_string_equal(dlg->visited, "MSC-208-10-PARIS");
	rx_source = NULL;
	TALLOC_FREE(cfg->home_vlrs);
}

static void test_release_by_user(void **state)
{
	begin("901700000000002", 7, "*7726#", NULL, NULL);
	assert_int_equal(n_dialogs(), 1);
	rx(OSMO_GSUP_MSGT_PROC_SS_REQUEST, "901700000000002", 7, OSMO_GSUP_SESSION_STATE_END, NULL, 0, NULL);
	assert_int_equal(n_dialogs(), 0);
	assert_int_equal(tx.n, 1);	/* no answer to an END */

	/* PROC_SS_ERROR ends it too */
	begin("901700000000002", 8, "*7726#", NULL, NULL);
	assert_int_equal(n_dialogs(), 1);
	rx(OSMO_GSUP_MSGT_PROC_SS_ERROR, "901700000000002", 8, OSMO_GSUP_SESSION_STATE_END, NULL, 0, NULL);
	assert_int_equal(n_dialogs(), 0);

	/* a Reject of our request: END without component */
	begin("901700000000002", 9, "*7726#", NULL, NULL);
	{
		uint8_t b[] = { 0xa4, 0x06, 0x02, 0x01, 0x02, 0x81, 0x01, 0x02 };
		rx(OSMO_GSUP_MSGT_PROC_SS_REQUEST, "901700000000002", 9, OSMO_GSUP_SESSION_STATE_CONTINUE, b,
		   sizeof(b), NULL);
	}
	assert_int_equal(n_dialogs(), 0);
	assert_int_equal(tx.state, OSMO_GSUP_SESSION_STATE_END);
	assert_false(tx.has_comp);
}

static void test_rejects(void **state)
{
	uint8_t b[256];
	size_t n;

	/* another operation (registerSS 10) */
	n = enc_invoke(b, 10, "x", NULL);
	rx(OSMO_GSUP_MSGT_PROC_SS_REQUEST, "901700000000003", 1, OSMO_GSUP_SESSION_STATE_BEGIN, b, n, NULL);
	assert_int_equal(tx.state, OSMO_GSUP_SESSION_STATE_END);
	assert_int_equal(tx.comp.type, UIGW_SS_REJECT);
	assert_int_equal(tx.comp.problem_tag, UIGW_SS_PROB_INVOKE);
	assert_int_equal(tx.comp.problem_code, UIGW_SS_PROB_INV_UNRECOGNIZED_OP);
	/* garbage */
	b[0] = 0xa1; b[1] = 0x05; b[2] = 0x02;
	rx(OSMO_GSUP_MSGT_PROC_SS_REQUEST, "901700000000003", 2, OSMO_GSUP_SESSION_STATE_BEGIN, b, 3, NULL);
	assert_int_equal(tx.comp.type, UIGW_SS_REJECT);
	assert_int_equal(tx.comp.problem_tag, UIGW_SS_PROB_GENERAL);
	assert_false(tx.comp.has_invoke_id);
	/* no component at all */
	rx(OSMO_GSUP_MSGT_PROC_SS_REQUEST, "901700000000003", 3, OSMO_GSUP_SESSION_STATE_BEGIN, NULL, 0, NULL);
	assert_int_equal(tx.comp.type, UIGW_SS_REJECT);
	/* a coding we cannot read (DCS 0x4c reserved) */
	n = enc_invoke(b, UIGW_SS_OP_PROCESS_USS_REQ, "*7726#", NULL);
	b[12] = 0x4c;
	assert_int_equal(b[10], 0x04);	/* the DCS octet string */
	rx(OSMO_GSUP_MSGT_PROC_SS_REQUEST, "901700000000003", 4, OSMO_GSUP_SESSION_STATE_BEGIN, b, n, NULL);
	assert_int_equal(tx.comp.type, UIGW_SS_RETURN_ERROR);
	assert_int_equal(tx.comp.error_code, UIGW_SS_ERR_UNKNOWN_ALPHABET);
	/* unrouted code: a refusal text in END */
	begin("901700000000003", 5, "*999#", NULL, NULL);
	assert_int_equal(tx.state, OSMO_GSUP_SESSION_STATE_END);
	assert_int_equal(tx.comp.type, UIGW_SS_RETURN_RESULT);
	assert_string_equal(tx.text, gw->cfg.unrouted_text);
	assert_int_equal(n_dialogs(), 0);
}

static void test_msisdn(void **state)
{
	struct uigw_gsup_cfg *cfg = uigw_gsup_cfg(uigw_chan_priv(gw, UIGW_CHAN_GSUP));

	/* from the USSD-Arg */
	begin("901700000000004", 1, "*7726#", "+491720000123", NULL);
	assert_non_null(uigw_dialog_find(gw, "+491720000123", UIGW_CHAN_GSUP));
	/* from the GSUP IE, international digits */
	begin("901700000000005", 1, "*7726#", NULL, "491720000124");
	assert_non_null(uigw_dialog_find(gw, "+491720000124", UIGW_CHAN_GSUP));
	/* national digits */
	begin("901700000000006", 1, "*7726#", NULL, "01720000125");
	assert_non_null(uigw_dialog_find(gw, "+491720000125", UIGW_CHAN_GSUP));
	/* a short extension is no E.164 number: the fallback applies */
	begin("901700000000007", 1, "*7726#", NULL, "1001");
	assert_non_null(uigw_dialog_find(gw, "+901700000000007", UIGW_CHAN_GSUP));
	/* fallback reject */
	cfg->msisdn_fallback = UIGW_GSUP_MSISDN_REJECT;
	begin("901700000000008", 1, "*7726#", NULL, NULL);
	assert_int_equal(tx.comp.type, UIGW_SS_RETURN_ERROR);
	assert_int_equal(tx.comp.error_code, UIGW_SS_ERR_DATA_MISSING);
	assert_int_equal(n_dialogs(), 4);
}

static void test_timeout_and_link_loss(void **state)
{
	struct uigw_dialog *dlg;

	begin("901700000000009", 1, "*7726#", NULL, NULL);
	dlg = uigw_dialog_find(gw, "+901700000000009", UIGW_CHAN_GSUP);
	assert_non_null(dlg);
	/* the engine ends it (as on timer expiry): END + ReturnError systemFailure for the MS's invoke */
	uigw_dialog_terminate(dlg, UIGW_OUTCOME_TIMED_OUT);
	assert_int_equal(tx.state, OSMO_GSUP_SESSION_STATE_END);
	assert_int_equal(tx.comp.type, UIGW_SS_RETURN_ERROR);
	assert_int_equal(tx.comp.invoke_id, 1);
	assert_int_equal(tx.comp.error_code, UIGW_SS_ERR_SYSTEM_FAILURE);
	assert_int_equal(n_dialogs(), 0);

	/* the link drops: every dialog ends, nothing can be sent */
	begin("901700000000010", 1, "*7726#", NULL, NULL);
	begin("901700000000011", 1, "*7726#", NULL, NULL);
	assert_int_equal(n_dialogs(), 2);
	fake->up_down_cb(fake, false);
	assert_int_equal(n_dialogs(), 0);
	/* an answer arriving while down is impossible; a BEGIN after the link is back works */
	fake->up_down_cb(fake, true);
	begin("901700000000010", 2, "*7726#", NULL, NULL);
	assert_int_equal(tx.state, OSMO_GSUP_SESSION_STATE_CONTINUE);
	assert_int_equal(n_dialogs(), 1);
	/* a new BEGIN by the same subscriber replaces the old dialog: the old session gets its END */
	{
		unsigned int ends = tx.n_end;
		begin("901700000000010", 3, "*7726#", NULL, NULL);
		assert_int_equal(tx.n_end, ends + 1);
		assert_int_equal(tx.session_id, 3);
		assert_int_equal(tx.state, OSMO_GSUP_SESSION_STATE_CONTINUE);
		assert_int_equal(n_dialogs(), 1);
	}
}

static void test_push_refused(void **state)
{
	struct uigw_trigger t;
	struct uigw_trigger_res res;
	unsigned int before = tx.n;

	/* osmo-hlr 1.5.0 crashes on EUSE-initiated sessions: the channel offers no push, with its reason */
	uigw_trigger_init(&t, "quiz", "+491720000123");
	t.via = UIGW_CHAN_GSUP;
	assert_int_equal(uigw_trigger(gw, &t, &res), UIGW_REFUSAL_PUSH_NOT_OFFERED);
	assert_non_null(strstr(res.detail, "osmo-hlr 1.5.0"));
	assert_int_equal(tx.n, before);
	assert_int_equal(n_dialogs(), 0);
}

static void test_settings_restart(void **state)
{
	struct uigw_gsup *g = uigw_chan_priv(gw, UIGW_CHAN_GSUP);
	unsigned int created = n_created;

	begin("901700000000012", 1, "*7726#", NULL, NULL);
	assert_int_equal(n_dialogs(), 1);
	/* settings change: the link is rebuilt, running sessions end */
	assert_int_equal(uigw_gsup_restart(g), 0);
	assert_int_equal(n_created, created + 1);
	assert_int_equal(n_dialogs(), 0);
	/* disabled: no client */
	uigw_gsup_cfg(g)->enabled = false;
	assert_int_equal(uigw_gsup_restart(g), 0);
	assert_null(fake);
	uigw_gsup_cfg(g)->enabled = true;
	assert_int_equal(uigw_gsup_restart(g), 0);
	assert_non_null(fake);
}

int main(void)
{
	void *ctx = talloc_named_const(NULL, 0, "gsup_chan_test main");
	static struct vty_app_info info = { .name = "gsup_chan_test" };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_menu_to_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_by_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msisdn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roaming_source, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_and_link_loss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_push_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settings_restart, setup, teardown),
	};

	osmo_init_logging2(ctx, &uigw_log_info);
	log_set_log_level(osmo_stderr_target, LOGL_FATAL);
	info.tall_ctx = ctx;
	vty_init(&info);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
