/* map_chan_test: channel map (src/chan/map) against the real dialog engine, with libosmo-sigtran's SCCP user
 * replaced (-Wl,--wrap): TCAP messages "from the network" are fed to the channel's primitive callback, what it
 * sends is decoded with the TCAP codec and checked. The cases the integration test cannot reach in time or at
 * all: a busy gateway (ussd-Busy), the timers X202/X203 and the dialog's own input timeout, SCCP refusing to
 * send, shutdown with transactions running, a refused push. The fake clock drives the timers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/msgb.h>
#include <osmocom/core/prim.h>
#include <osmocom/core/tdef.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/application.h>
#include <osmocom/sigtran/osmo_ss7.h>
#include <osmocom/sigtran/sccp_sap.h>
#include <osmocom/vty/vty.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/core/dialog.h>
#include <osmocom/uigw/core/chan.h>
#include <osmocom/uigw/core/trigger.h>
#include <osmocom/uigw/codec/map.h>
#include <osmocom/uigw/codec/ss_codec.h>
#include <osmocom/uigw/codec/tcap.h>
#include <osmocom/uigw/chan/map.h>
#include "common/fixture.h"

/* ------------------------------------------------------------------------------------------------------------ */
/* the fake SCCP user */

static char fake_sccp, fake_scu;
static struct osmo_ss7_instance fake_ss7;
static struct osmo_ss7_as fake_as;
static struct osmo_ss7_asp fake_asp, fake_asp_server;	/* a client ASP (to the STP) and one without a client */
static char fake_cli;
static int reconnect_secs, reconnect_calls;
static bool as_active;
static osmo_prim_cb scu_cb;
static void *scu_priv;
static int tx_rc;

#define W(ret, name, args) ret __wrap_##name args; ret __wrap_##name args
W(int, osmo_ss7_init, (void)) { return 0; }
W(void, osmo_ss7_vty_init_asp, (void *ctx)) { }
W(void, osmo_sccp_vty_init, (void)) { }
W(struct osmo_sccp_instance *, osmo_sccp_simple_client_on_ss7_id, (void *ctx, uint32_t id, const char *name,
  uint32_t pc, enum osmo_ss7_asp_protocol prot, int lport, const char *lip, int rport, const char *rip))
{
	return (struct osmo_sccp_instance *)&fake_sccp;
}
W(struct osmo_sccp_user *, osmo_sccp_user_bind, (struct osmo_sccp_instance *inst, const char *name, osmo_prim_cb cb,
  uint16_t ssn))
{
	assert_int_equal(ssn, 147);
	scu_cb = cb;
	return (struct osmo_sccp_user *)&fake_scu;
}
W(void, osmo_sccp_user_unbind, (struct osmo_sccp_user *scu)) { scu_cb = NULL; }
W(void, osmo_sccp_user_set_priv, (struct osmo_sccp_user *scu, void *priv)) { scu_priv = priv; }
W(void *, osmo_sccp_user_get_priv, (struct osmo_sccp_user *scu)) { return scu_priv; }
W(struct osmo_ss7_instance *, osmo_sccp_get_ss7, (const struct osmo_sccp_instance *sccp)) { return &fake_ss7; }
W(bool, osmo_ss7_as_active, (const struct osmo_ss7_as *as)) { return as_active; }
W(void, osmo_stream_cli_set_reconnect_timeout, (struct osmo_stream_cli *cli, int timeout))
{
	assert_ptr_equal(cli, &fake_cli);
	reconnect_secs = timeout;
	reconnect_calls++;
}
W(char *, osmo_sccp_addr_name, (const struct osmo_ss7_instance *ss7, const struct osmo_sccp_addr *addr))
{
	return "addr";
}
W(void, osmo_sccp_local_addr_by_instance, (struct osmo_sccp_addr *addr, const struct osmo_sccp_instance *inst,
  uint32_t ssn))
{
	memset(addr, 0, sizeof(*addr));
	addr->ssn = ssn;
}
int __real_osmo_ss7_pointcode_parse(struct osmo_ss7_instance *inst, const char *str);
W(int, osmo_ss7_pointcode_parse, (struct osmo_ss7_instance *inst, const char *str))
{
	return __real_osmo_ss7_pointcode_parse(NULL, str);
}

/* what the channel sent last */
static struct {
	unsigned int n;
	struct osmo_sccp_addr called;
	uint8_t buf[1024];
	size_t len;
	struct uigw_tcap_msg m;
	bool has_comp;
	struct uigw_ss_comp comp;
	char text[UIGW_USSD_UTF8_MAX];
	struct uigw_map_dlg md;
} tx;

W(int, osmo_sccp_tx_unitdata, (struct osmo_sccp_user *scu, const struct osmo_sccp_addr *calling,
  const struct osmo_sccp_addr *called, const uint8_t *data, unsigned int len))
{
	const uint8_t *pos, *c;
	size_t rem, clen;

	if (tx_rc)
		return tx_rc;
	tx.n++;
	tx.called = *called;
	assert_true(len <= sizeof(tx.buf));
	tx.len = len;
	memcpy(tx.buf, data, len);
	assert_int_equal(uigw_tcap_decode(tx.buf, tx.len, &tx.m, NULL), 0);
	memset(&tx.md, 0, sizeof(tx.md));
	tx.md.kind = UIGW_MAP_DLG_NONE;
	if (tx.m.has_dialogue && tx.m.dlg.user_info)
		assert_int_equal(uigw_map_dlg_decode(tx.m.dlg.user_info, tx.m.dlg.user_info_len, &tx.md), 0);
	pos = tx.m.comps;
	rem = tx.m.comps_len;
	tx.has_comp = uigw_tcap_comp_next(&pos, &rem, &c, &clen) == 1;
	tx.text[0] = '\0';
	if (tx.has_comp) {
		assert_int_equal(uigw_ss_comp_decode(c, clen, &tx.comp), 0);
		if (tx.comp.has_ussd)
			assert_true(uigw_ussd_text_decode(&tx.comp.ussd, tx.text, sizeof(tx.text), NULL) >= 0);
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* feeding the channel */

static struct uigw *gw;
static const char *rx_gt;	/* the calling party's global title of the next message, or NULL */

static void rx_tcap(const struct uigw_tcap_msg *m)
{
	struct msgb *msg = msgb_alloc(2048, "test rx");
	struct osmo_scu_prim *prim = (struct osmo_scu_prim *)msgb_put(msg, sizeof(*prim));
	int n;

	msg->l2h = msg->tail;
	n = uigw_tcap_encode(msg->tail, msgb_tailroom(msg), m);
	assert_true(n > 0);
	msgb_put(msg, n);
	memset(prim, 0, sizeof(*prim));
	osmo_prim_init(&prim->oph, SCCP_SAP_USER, OSMO_SCU_PRIM_N_UNITDATA, PRIM_OP_INDICATION, msg);
	prim->u.unitdata.calling_addr.ssn = 8;
	prim->u.unitdata.calling_addr.pc = 185;
	if (rx_gt) {
		prim->u.unitdata.calling_addr.presence |= OSMO_SCCP_ADDR_T_GT;
		OSMO_STRLCPY_ARRAY(prim->u.unitdata.calling_addr.gt.digits, rx_gt);
	}
	assert_non_null(scu_cb);
	scu_cb(&prim->oph, &fake_scu);
	/* the next run of the event loop: the screens the core held back */
	uigw_dialog_outbox_run(gw);
}

static size_t comp_enc(uint8_t *buf, enum uigw_ss_comp_type type, int8_t iid, int op, const char *text,
		       const char *msisdn)
{
	struct uigw_ss_comp c = { .type = type, .has_invoke_id = true, .invoke_id = iid, .has_opcode = op > 0,
				  .opcode = op, .has_ussd = text != NULL };
	int rc;

	if (type == UIGW_SS_RETURN_ERROR)
		c.error_code = op;
	if (text)
		assert_int_equal(uigw_ussd_text_encode(&c.ussd, text), 0);
	if (msisdn) {
		c.ussd.has_msisdn = true;
		OSMO_STRLCPY_ARRAY(c.ussd.msisdn, msisdn);
	}
	rc = uigw_ss_comp_encode(buf, 256, &c);
	assert_true(rc > 0);
	return rc;
}

static void begin(uint32_t otid, const char *dial, const char *msisdn)
{
	uint8_t comp[256];
	struct uigw_tcap_msg m = { .type = UIGW_TCAP_BEGIN, .has_dialogue = true };

	uigw_tcap_tid_set(&m.otid, otid);
	uigw_map_dialogue_v2(&m.dlg, UIGW_TCAP_AARQ);
	m.comps = comp;
	m.comps_len = comp_enc(comp, UIGW_SS_INVOKE, 1, UIGW_SS_OP_PROCESS_USS_REQ, dial, msisdn);
	rx_tcap(&m);
}

/* the network's Continue (or End) with a ReturnResultLast of our last request; text NULL: no result */
static void answer(enum uigw_tcap_type type, uint32_t otid, const char *text, bool aare)
{
	uint8_t comp[256];
	struct uigw_tcap_msg m = { .type = type };
	uint32_t ours = uigw_tcap_tid_val(&tx.m.otid);	/* our Begin's or Continue's */

	uigw_tcap_tid_set(&m.otid, otid);
	uigw_tcap_tid_set(&m.dtid, ours);
	if (aare) {
		m.has_dialogue = true;
		uigw_map_dialogue_v2(&m.dlg, UIGW_TCAP_AARE);
		m.dlg.diag_source = UIGW_TCAP_DIAG_USER;
	}
	m.comps = comp;
	m.comps_len = comp_enc(comp, UIGW_SS_RETURN_RESULT, tx.comp.invoke_id, text ? tx.comp.opcode : 0, text, NULL);
	rx_tcap(&m);
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
static const char *camp_notice =
	"name = \"notice\";\n"
	"network_only = true;\n"
	"nodes = ( { id = \"i\"; type = \"info\"; text = \"Maintenance tonight.\"; } );\n";

static struct osmo_tdef *map_tdefs(void)
{
	unsigned int i;

	for (i = 0; gw->tdef_groups[i].name; i++)
		if (!strcmp(gw->tdef_groups[i].name, "map"))
			return gw->tdef_groups[i].tdefs;
	fail();
	return NULL;
}

static uint64_t ctr(const char *name)
{
	struct uigw_chan *ch = uigw_chan_get(gw, UIGW_CHAN_MAP);
	unsigned int i;

	for (i = 0; i < ch->ctrs->desc->num_ctr; i++)
		if (!strcmp(ch->ctrs->desc->ctr_desc[i].name, name))
			return rate_ctr_group_get_ctr(ch->ctrs, i)->current;
	fail();
	return 0;
}

static int setup(void **state)
{
	memset(&tx, 0, sizeof(tx));
	tx_rc = 0;
	INIT_LLIST_HEAD(&fake_ss7.as_list);
	llist_add(&fake_as.list, &fake_ss7.as_list);
	INIT_LLIST_HEAD(&fake_ss7.asp_list);
	fake_asp.client = (struct osmo_stream_cli *)&fake_cli;
	llist_add(&fake_asp.list, &fake_ss7.asp_list);
	llist_add_tail(&fake_asp_server.list, &fake_ss7.asp_list);
	reconnect_secs = reconnect_calls = 0;
	as_active = true;
	uigw_fx_init(&fx, "map");
	uigw_fx_clock_set(1000);	/* the timers run on the fake clock */
	uigw_fx_campaign(&fx, "quiz.conf", camp);
	uigw_fx_campaign(&fx, "notice.conf", camp_notice);
	gw = uigw_fx_gw(&fx, false);
	assert_int_equal(uigw_map_init(gw, gw), 0);
	uigw_map_cfg(uigw_chan_priv(gw, UIGW_CHAN_MAP))->configured = true;	/* as a `map` node does */
	osmo_talloc_replace_string(gw, &uigw_map_cfg(uigw_chan_priv(gw, UIGW_CHAN_MAP))->gsmscf_number,
				   "+491720000999");
	assert_int_equal(uigw_chans_open(gw), 0);
	assert_non_null(scu_cb);
	return 0;
}

static int teardown(void **state)
{
	uigw_fx_teardown(&fx);
	gw = NULL;
	return 0;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* tests */

static void test_menu_to_end(void **state)
{
	begin(0x11, "*7726#", "+491720000123");
	assert_int_equal(tx.n, 1);
	assert_int_equal(tx.m.type, UIGW_TCAP_CONTINUE);
	assert_int_equal(uigw_tcap_tid_val(&tx.m.dtid), 0x11);
	assert_int_equal(tx.called.ssn, 8);	/* answered to the calling party */
	assert_true(tx.m.has_dialogue);
	assert_int_equal(tx.m.dlg.apdu, UIGW_TCAP_AARE);
	assert_int_equal(tx.comp.type, UIGW_SS_INVOKE);
	assert_int_equal(tx.comp.opcode, UIGW_SS_OP_USS_REQ);
	assert_string_equal(tx.text, "Colour?\n1. Red\n2. Blue");
	assert_non_null(uigw_dialog_find(gw, "+491720000123", UIGW_CHAN_MAP));

	answer(UIGW_TCAP_CONTINUE, 0x11, "2", false);
	assert_int_equal(tx.n, 2);
	assert_int_equal(tx.m.type, UIGW_TCAP_END);
	assert_false(tx.m.has_dialogue);	/* the AARE went with the first answer */
	assert_int_equal(tx.comp.type, UIGW_SS_RETURN_RESULT);
	assert_int_equal(tx.comp.opcode, UIGW_SS_OP_PROCESS_USS_REQ);
	assert_int_equal(tx.comp.invoke_id, 1);
	assert_string_equal(tx.text, "Thanks.");
	assert_int_equal(gw->n_dialogs, 0);
	/* the same Continue again: the transaction is gone */
	answer(UIGW_TCAP_CONTINUE, 0x11, "2", false);
	assert_int_equal(tx.m.type, UIGW_TCAP_ABORT);
	assert_true(tx.m.has_pabort);
	assert_int_equal(tx.m.pabort, UIGW_TCAP_PA_UNRECOGNIZED_TID);
	assert_int_equal(ctr("rx:unknown-tid"), 1);
}

/* home-gt: a TC-BEGIN from a calling GT of another network (an MSC that reaches the gsmSCF directly) is a
 * roaming subscriber's; the GT is their visited network */
static void test_roaming_gt(void **state)
{
	struct uigw_map_cfg *cfg = uigw_map_cfg(uigw_chan_priv(gw, UIGW_CHAN_MAP));
	struct uigw_dialog *dlg;

	cfg->home_gts = talloc_strdup(gw, "4917 4930");
	rx_gt = "491720000001";
	begin(0x31, "*7726#", "+491720000141");
	dlg = uigw_dialog_find(gw, "+491720000141", UIGW_CHAN_MAP);
	assert_non_null(dlg);
	assert_false(dlg->roaming);
	rx_gt = "33609000001";
	begin(0x32, "*7726#", "+491720000142");
	dlg = uigw_dialog_find(gw, "+491720000142", UIGW_CHAN_MAP);
	assert_non_null(dlg);
	assert_true(dlg->roaming);
	assert_string_equal(dlg->visited, "33609000001");
	rx_gt = NULL;
	TALLOC_FREE(cfg->home_gts);
}

static void test_msisdn_sources(void **state)
{
	uint8_t comp[256], ui[96];
	struct uigw_tcap_msg m = { .type = UIGW_TCAP_BEGIN, .has_dialogue = true };
	struct uigw_map_dlg md = { .kind = UIGW_MAP_DLG_OPEN, .has_dest = true };
	int n;

	/* no msisdn in USSD-Arg: the IMSI of MAP-OpenInfo becomes +IMSI */
	md.dest.ton_npi = UIGW_MAP_TON_NPI_E212;
	strcpy(md.dest.digits, "262019876543210");
	n = uigw_map_dlg_encode(ui, sizeof(ui), &md);
	uigw_tcap_tid_set(&m.otid, 0x21);
	uigw_map_dialogue_v2(&m.dlg, UIGW_TCAP_AARQ);
	m.dlg.user_info = ui;
	m.dlg.user_info_len = n;
	m.comps = comp;
	m.comps_len = comp_enc(comp, UIGW_SS_INVOKE, 5, UIGW_SS_OP_PROCESS_USS_REQ, "*7726#", NULL);
	rx_tcap(&m);
	assert_int_equal(tx.m.type, UIGW_TCAP_CONTINUE);
	assert_non_null(uigw_dialog_find(gw, "+262019876543210", UIGW_CHAN_MAP));
	/* msisdn-fallback reject: ReturnError dataMissing for the 59 (its invoke id 5) */
	uigw_map_cfg(uigw_chan_priv(gw, UIGW_CHAN_MAP))->msisdn_fallback = UIGW_MAP_MSISDN_REJECT;
	uigw_tcap_tid_set(&m.otid, 0x22);
	rx_tcap(&m);
	assert_int_equal(tx.m.type, UIGW_TCAP_END);
	assert_int_equal(tx.comp.type, UIGW_SS_RETURN_ERROR);
	assert_int_equal(tx.comp.invoke_id, 5);
	assert_int_equal(tx.comp.error_code, UIGW_SS_ERR_DATA_MISSING);
}

static void test_busy(void **state)
{
	gw->cfg.max_dialogs = 1;
	begin(0x31, "*7726#", "+491720000131");
	assert_int_equal(tx.m.type, UIGW_TCAP_CONTINUE);
	begin(0x32, "*7726#", "+491720000132");
	assert_int_equal(tx.m.type, UIGW_TCAP_END);
	assert_int_equal(uigw_tcap_tid_val(&tx.m.dtid), 0x32);
	assert_true(tx.m.has_dialogue);	/* the dialogue is confirmed, the operation refused */
	assert_int_equal(tx.comp.type, UIGW_SS_RETURN_ERROR);
	assert_int_equal(tx.comp.error_code, UIGW_SS_ERR_USSD_BUSY);
	assert_int_equal(gw->n_dialogs, 1);
}

static void test_timeouts(void **state)
{
	/* the dialog's own input timeout (dialog X1, 60 s) comes before X201 (120 s): TC-U-ABORT */
	begin(0x41, "*7726#", "+491720000141");
	uigw_fx_clock_advance(61);
	assert_int_equal(tx.m.type, UIGW_TCAP_ABORT);
	assert_int_equal(uigw_tcap_tid_val(&tx.m.dtid), 0x41);
	assert_int_equal(tx.m.dlg.apdu, UIGW_TCAP_ABRT);
	assert_int_equal(tx.md.kind, UIGW_MAP_DLG_USER_ABORT);
	assert_int_equal(gw->n_dialogs, 0);
	assert_int_equal(ctr("timeout:answer"), 1);

	/* X201 shorter than the dialog's timeout */
	osmo_tdef_set(map_tdefs(), UIGW_MAP_T_ANSWER, 5, OSMO_TDEF_S);
	begin(0x42, "*7726#", "+491720000142");
	uigw_fx_clock_advance(6);
	assert_int_equal(tx.m.type, UIGW_TCAP_ABORT);
	assert_int_equal(uigw_tcap_tid_val(&tx.m.dtid), 0x42);
	assert_int_equal(ctr("timeout:answer"), 2);
	assert_int_equal(gw->n_dialogs, 0);

	/* X203 bounds a transaction whatever happens in it */
	osmo_tdef_set(map_tdefs(), UIGW_MAP_T_ANSWER, 120, OSMO_TDEF_S);
	osmo_tdef_set(map_tdefs(), UIGW_MAP_T_GUARD, 10, OSMO_TDEF_S);
	begin(0x43, "*7726#", "+491720000143");
	uigw_fx_clock_advance(5);
	answer(UIGW_TCAP_CONTINUE, 0x43, "9", false);	/* an invalid choice: asked again */
	assert_int_equal(tx.m.type, UIGW_TCAP_CONTINUE);
	uigw_fx_clock_advance(6);
	assert_int_equal(tx.m.type, UIGW_TCAP_ABORT);
	assert_int_equal(uigw_tcap_tid_val(&tx.m.dtid), 0x43);
	assert_int_equal(ctr("timeout:guard"), 1);
	assert_int_equal(gw->n_dialogs, 0);
}

/* X204: the ASP's reconnect interval, set at the start (libosmo-sigtran's own is 5 s) and once a second after, so
 * that a change applies at once; an ASP without a stream client (a server ASP) is left alone */
static void test_reconnect_timer(void **state)
{
	assert_int_equal(reconnect_secs, 1);
	assert_true(reconnect_calls >= 1);
	osmo_tdef_set(map_tdefs(), UIGW_MAP_T_RECONNECT, 3, OSMO_TDEF_S);
	uigw_fx_clock_advance(1);
	assert_int_equal(reconnect_secs, 3);
	/* out of its range: the tdef refuses it, the ASP keeps 3 s */
	assert_true(osmo_tdef_set(map_tdefs(), UIGW_MAP_T_RECONNECT, 0, OSMO_TDEF_S) < 0);
	uigw_fx_clock_advance(1);
	assert_int_equal(reconnect_secs, 3);
}

static void test_push(void **state)
{
	struct uigw_trigger t;
	struct uigw_trigger_res res;
	unsigned int n;

	/* the STP link down: no push */
	as_active = false;
	uigw_trigger_init(&t, "quiz", "+491720000151");
	t.via = UIGW_CHAN_MAP;
	assert_int_equal(uigw_trigger(gw, &t, &res), UIGW_REFUSAL_UNREACHABLE);
	assert_int_equal(tx.n, 0);
	as_active = true;

	uigw_trigger_init(&t, "quiz", "+491720000151");
	t.via = UIGW_CHAN_MAP;
	assert_int_equal(uigw_trigger(gw, &t, &res), 0);
	uigw_dialog_outbox_run(gw);
	assert_int_equal(tx.m.type, UIGW_TCAP_BEGIN);
	assert_int_equal(tx.called.ssn, 6);	/* the HLR */
	assert_int_equal(tx.m.dlg.apdu, UIGW_TCAP_AARQ);
	assert_int_equal(tx.md.kind, UIGW_MAP_DLG_OPEN);
	assert_string_equal(tx.md.dest.digits, "491720000151");
	assert_string_equal(tx.md.orig.digits, "491720000999");
	assert_int_equal(tx.comp.opcode, UIGW_SS_OP_USS_REQ);
	/* the HLR accepts and answers: the last screen is a notice in a Continue, closed after its ack */
	answer(UIGW_TCAP_CONTINUE, 0x51, "1", true);
	assert_int_equal(tx.m.type, UIGW_TCAP_CONTINUE);
	assert_int_equal(uigw_tcap_tid_val(&tx.m.dtid), 0x51);
	assert_int_equal(tx.comp.opcode, UIGW_SS_OP_USS_NOTIFY);
	assert_string_equal(tx.text, "Thanks.");
	assert_int_equal(gw->n_dialogs, 0);
	answer(UIGW_TCAP_CONTINUE, 0x51, NULL, false);
	assert_int_equal(tx.m.type, UIGW_TCAP_END);
	assert_false(tx.has_comp);
	assert_int_equal(ctr("push:delivered"), 2);

	/* no first answer within X202: the push ends without a message (there is no dtid to address) */
	uigw_trigger_init(&t, "notice", "+491720000152");
	t.via = UIGW_CHAN_MAP;
	assert_int_equal(uigw_trigger(gw, &t, &res), 0);
	uigw_dialog_outbox_run(gw);
	assert_int_equal(tx.comp.opcode, UIGW_SS_OP_USS_NOTIFY);
	n = tx.n;
	uigw_fx_clock_advance(31);
	assert_int_equal(tx.n, n);
	assert_int_equal(ctr("timeout:push"), 1);

	/* the network refuses: absentSubscriber in a TC-END */
	uigw_trigger_init(&t, "notice", "+491720000153");
	t.via = UIGW_CHAN_MAP;
	assert_int_equal(uigw_trigger(gw, &t, &res), 0);
	uigw_dialog_outbox_run(gw);
	{
		uint8_t comp[32];
		struct uigw_tcap_msg m = { .type = UIGW_TCAP_END };

		uigw_tcap_tid_set(&m.dtid, uigw_tcap_tid_val(&tx.m.otid));
		m.comps = comp;
		m.comps_len = comp_enc(comp, UIGW_SS_RETURN_ERROR, 1, UIGW_SS_ERR_ABSENT_SUBSCRIBER, NULL, NULL);
		n = tx.n;
		rx_tcap(&m);
		assert_int_equal(tx.n, n);	/* nothing answers an End */
	}
	assert_int_equal(ctr("push:failed"), 1);
	assert_int_equal(ctr("rx:return-error"), 1);
}

static void test_alphabet_and_restart(void **state)
{
	uint8_t comp[64];
	struct uigw_tcap_msg m = { .type = UIGW_TCAP_BEGIN, .has_dialogue = true };
	struct uigw_ss_comp c = { .type = UIGW_SS_INVOKE, .has_invoke_id = true, .invoke_id = 3, .has_opcode = true,
				  .opcode = UIGW_SS_OP_PROCESS_USS_REQ, .has_ussd = true };
	int n;

	/* a ussd-String in a coding the gateway cannot read (DCS 0x24: compressed): ReturnError unknownAlphabet */
	c.ussd.dcs = 0x24;
	c.ussd.data_len = 3;
	memcpy(c.ussd.data, "\x2a\x37\x23", 3);
	n = uigw_ss_comp_encode(comp, sizeof(comp), &c);
	assert_true(n > 0);
	uigw_tcap_tid_set(&m.otid, 0x71);
	uigw_map_dialogue_v2(&m.dlg, UIGW_TCAP_AARQ);
	m.comps = comp;
	m.comps_len = n;
	rx_tcap(&m);
	assert_int_equal(tx.m.type, UIGW_TCAP_END);
	assert_int_equal(tx.comp.type, UIGW_SS_RETURN_ERROR);
	assert_int_equal(tx.comp.invoke_id, 3);
	assert_int_equal(tx.comp.error_code, UIGW_SS_ERR_UNKNOWN_ALPHABET);
	assert_int_equal(gw->n_dialogs, 0);

	/* the subscriber dials again while a dialog runs: the old transaction is closed (TC-END + ReturnError),
	 * the new one gets its first screen */
	begin(0x72, "*7726#", "+491720000172");
	assert_int_equal(tx.m.type, UIGW_TCAP_CONTINUE);
	n = tx.n;
	begin(0x73, "*7726#", "+491720000172");
	assert_int_equal(tx.n, n + 2);
	assert_int_equal(tx.m.type, UIGW_TCAP_CONTINUE);
	assert_int_equal(uigw_tcap_tid_val(&tx.m.dtid), 0x73);
	assert_int_equal(gw->n_dialogs, 1);
	assert_int_equal(ctr("tx:end"), 2);
}

static void test_sccp_refuses_and_shutdown(void **state)
{
	unsigned int n;

	/* SCCP does not take our answer: the dialog ends, counted */
	tx_rc = -EIO;
	begin(0x61, "*7726#", "+491720000161");
	assert_int_equal(gw->n_dialogs, 0);
	assert_int_equal(ctr("tx:failed"), 1);
	tx_rc = 0;

	/* shutdown with a transaction running: TC-U-ABORT to the peer */
	begin(0x62, "*7726#", "+491720000162");
	n = tx.n;
	uigw_chans_close(gw);
	assert_int_equal(tx.n, n + 1);
	assert_int_equal(tx.m.type, UIGW_TCAP_ABORT);
	assert_int_equal(uigw_tcap_tid_val(&tx.m.dtid), 0x62);
	assert_int_equal(gw->n_dialogs, 0);
}

int main(void)
{
	void *ctx = talloc_named_const(NULL, 0, "map_chan_test main");
	static struct vty_app_info info = { .name = "map_chan_test" };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_menu_to_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msisdn_sources, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roaming_gt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeouts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconnect_timer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_push, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alphabet_and_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sccp_refuses_and_shutdown, setup, teardown),
	};

	osmo_init_logging2(ctx, &uigw_log_info);
	log_set_log_level(osmo_stderr_target, LOGL_FATAL);
	info.tall_ctx = ctx;
	vty_init(&info);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
