/*! \file map_chan.c
 *  Channel `map`: osmo-uigw as a gsmSCF for USSD over TCAP/SCCP (3GPP TS 29.002, application context
 *  networkUnstructuredSsContext-v2; ITU-T Q.773/Q.774). One TCAP transaction per dialog, an osmo_fsm each.
 *
 *  Mobile-originated (doc/map.md):
 *  - TC-BEGIN + AARQ + Invoke processUnstructuredSS-Request (59)   -> uigw_dialog_begin() with the dial string
 *  - a menu screen     -> TC-CONTINUE (+ AARE the first time) + Invoke unstructuredSS-Request (60)
 *  - TC-CONTINUE + ReturnResultLast(60) with the user's text       -> uigw_dialog_input()
 *  - the last screen   -> TC-END + ReturnResultLast(59) with USSD-Res (a busy gateway: ReturnError ussd-Busy)
 *  Network-initiated (`trigger ... via map`):
 *  - TC-BEGIN to the HLR + AARQ with MAP-OpenInfo (destinationReference = the subscriber, originationReference =
 *    our gsmSCF number) + Invoke 60 (a question) or 61 (a notice)
 *  - the answers come back as ReturnResultLast; a last screen goes as 61 in TC-CONTINUE, then TC-END
 *  Our side gives up (no answer in time, the engine ends the dialog, shutdown): TC-U-ABORT or TC-END with a
 *  ReturnError to the peer, never silence. A message that does not decode gets the P-Abort Q.774 asks for; an
 *  unknown transaction id a P-Abort unrecognizedTransactionID; an unknown operation a Reject. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/fsm.h>
#include <osmocom/core/msgb.h>
#include <osmocom/core/prim.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/stats.h>
#include <osmocom/core/tdef.h>
#include <osmocom/core/hashtable.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/core/utils.h>
#include <osmocom/vty/vty.h>
#include <osmocom/netif/stream.h>
#include <osmocom/sigtran/osmo_ss7.h>
#include <osmocom/sigtran/sccp_sap.h>
#include <osmocom/sigtran/sccp_helpers.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/dialog.h>
#include <osmocom/uigw/render/render.h>
#include <osmocom/uigw/common/number.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/common/fsm.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/codec/map.h>
#include <osmocom/uigw/codec/ss_codec.h>
#include <osmocom/uigw/codec/tcap.h>
#include <osmocom/uigw/chan/map.h>
#include "map_priv.h"

static const struct rate_ctr_desc map_ctr_desc[] = {
	[MAP_CTR_RX_BEGIN] = { "rx:begin", "TC-BEGIN received (mobile-originated dialogs)" },
	[MAP_CTR_RX_CONTINUE] = { "rx:continue", "TC-CONTINUE received" },
	[MAP_CTR_RX_END] = { "rx:end", "TC-END received" },
	[MAP_CTR_RX_ABORT] = { "rx:abort", "TC-U-ABORT / TC-P-ABORT received" },
	[MAP_CTR_RX_MALFORMED] = { "rx:malformed", "TCAP messages or components that did not decode" },
	[MAP_CTR_RX_UNKNOWN_TID] = { "rx:unknown-tid", "messages for no transaction of ours" },
	[MAP_CTR_RX_UNKNOWN_OP] = { "rx:unknown-op", "invokes of operations we do not serve" },
	[MAP_CTR_RX_RETURN_ERROR] = { "rx:return-error", "ReturnError components received" },
	[MAP_CTR_RX_REJECT] = { "rx:reject", "Reject components received" },
	[MAP_CTR_RX_NOTICE] = { "rx:sccp-notice", "messages SCCP returned undelivered (N-NOTICE)" },
	[MAP_CTR_TX_BEGIN] = { "tx:begin", "TC-BEGIN sent (network-initiated dialogs)" },
	[MAP_CTR_TX_CONTINUE] = { "tx:continue", "TC-CONTINUE sent" },
	[MAP_CTR_TX_END] = { "tx:end", "TC-END sent" },
	[MAP_CTR_TX_U_ABORT] = { "tx:u-abort", "TC-U-ABORT sent (we gave up, or refused the context)" },
	[MAP_CTR_TX_P_ABORT] = { "tx:p-abort", "TC-P-ABORT sent (undecodable message, unknown transaction)" },
	[MAP_CTR_TX_REJECT] = { "tx:reject", "Reject components sent" },
	[MAP_CTR_TX_RETURN_ERROR] = { "tx:return-error", "ReturnError components sent" },
	[MAP_CTR_TX_FAILED] = { "tx:failed", "messages SCCP did not take (no route, link down)" },
	[MAP_CTR_ACN_REFUSED] = { "acn:refused", "dialogues refused for their application context" },
	[MAP_CTR_TIMEOUT_ANSWER] = { "timeout:answer", "no answer to our request in time (X201): aborted" },
	[MAP_CTR_TIMEOUT_PUSH] = { "timeout:push", "no first answer to our TC-BEGIN in time (X202)" },
	[MAP_CTR_TIMEOUT_GUARD] = { "timeout:guard", "transactions that outlived X203: aborted" },
	[MAP_CTR_PUSH_DELIVERED] = { "push:delivered", "network-initiated requests the subscriber answered" },
	[MAP_CTR_PUSH_FAILED] = { "push:failed", "network-initiated requests the network refused" },
};

static const struct rate_ctr_group_desc map_ctrg_desc = {
	.group_name_prefix = "uigw:map",
	.group_description = "osmo-uigw SS7 MAP (gsmSCF) channel",
	.class_id = OSMO_STATS_CLASS_GLOBAL,
	.num_ctr = ARRAY_SIZE(map_ctr_desc),
	.ctr_desc = map_ctr_desc,
};

static const struct osmo_tdef map_tdefs_default[] = {
	{ .T = UIGW_MAP_T_ANSWER, .default_val = 120, .unit = OSMO_TDEF_S,
	  .desc = "MAP: the subscriber's answer to our unstructuredSS-Request/-Notify; then TC-U-ABORT" },
	{ .T = UIGW_MAP_T_PUSH, .default_val = 30, .unit = OSMO_TDEF_S,
	  .desc = "MAP: the network's first answer to our TC-BEGIN" },
	{ .T = UIGW_MAP_T_GUARD, .default_val = 600, .unit = OSMO_TDEF_S,
	  .desc = "MAP: longest life of a transaction (TS 29.002: 10 min for processUnstructuredSS-Request)" },
	{ .T = UIGW_MAP_T_RECONNECT, .default_val = 1, .unit = OSMO_TDEF_S, .min_val = 1, .max_val = 60,
	  .desc = "MAP: wait before the ASP connects to the STP again after losing the link (libosmo-sigtran: 5)" },
	{}
};

/* ---------------------------------------------------------------------------------------------------------- */
/* channel operations (called by the dialog engine) */

static void tr_failed_send(struct map_trans *t)
{
	t->dlg = NULL;
	map_tr_done(t);
}

static int map_deliver(struct uigw_dialog *dlg, const struct uigw_render_out *screen, bool end)
{
	struct map_trans *t = dlg->chan_priv;
	struct uigw_map *m;
	struct uigw_ss_comp c = { .has_invoke_id = true, .has_opcode = true, .has_ussd = true };
	int rc;

	if (!t)
		return -ENODEV;
	m = t->m;
	if (end)
		dlg->chan_priv = NULL;	/* the dialog is freed after this call; the transaction may live on */
	if (end && dlg->network_initiated && dlg->refusal) {
		/* a refused push: nothing went out, nothing goes out */
		map_tr_done(t);
		return 0;
	}
	if (t->mo && end && dlg->refusal == UIGW_REFUSAL_BUSY) {
		/* documented in doc/map.md: too many dialogs is ussd-Busy, which handsets show as such */
		rc = map_tx_end_error(t, t->ms_invoke_id, UIGW_SS_ERR_USSD_BUSY);
		map_tr_done(t);
		return rc;
	}
	rc = uigw_ussd_text_encode(&c.ussd, screen->text);
	if (rc < 0) {
		LOGPTR(t, LOGL_ERROR, "screen does not fit a ussd-String (%d)\n", rc);
		if (t->mo)
			map_tx_end_error(t, t->ms_invoke_id, UIGW_SS_ERR_SYSTEM_FAILURE);
		else
			map_tr_abort(t, "screen does not fit");
		map_tr_done(t);
		return rc;
	}
	if (t->mo && end) {
		/* the final text answers the MS's processUnstructuredSS-Request */
		c.type = UIGW_SS_RETURN_RESULT;
		c.invoke_id = t->ms_invoke_id;
		c.opcode = UIGW_SS_OP_PROCESS_USS_REQ;
		rc = map_tx_trans(t, UIGW_TCAP_END, &c);
		LOGPTR(t, LOGL_DEBUG, "TC-END with the last screen (%s, %u units)%s\n",
		       uigw_coding_names[screen->coding], screen->units, rc < 0 ? ": not sent" : "");
		map_tr_done(t);
		return rc;
	}
	c.type = UIGW_SS_INVOKE;
	c.invoke_id = ++t->our_invoke_id;
	/* a question is an unstructuredSS-Request; a push's last screen is a notice (61), closed after its ack */
	c.opcode = end ? UIGW_SS_OP_USS_NOTIFY : UIGW_SS_OP_USS_REQ;
	t->our_op = c.opcode;
	t->final_notice = end;
	t->dlg = end ? NULL : dlg;
	if (t->fi->state == TR_ST_PUSH_READY) {
		struct uigw_tcap_msg tm = { .type = UIGW_TCAP_BEGIN, .has_dialogue = true };
		struct uigw_map_dlg md = { .kind = UIGW_MAP_DLG_OPEN, .has_dest = true };
		uint8_t ui[96], comp[256];
		int n;

		uigw_map_addr_from_str(&md.dest, t->subscriber);
		if (m->cfg.gsmscf_number && uigw_map_addr_from_str(&md.orig, m->cfg.gsmscf_number) == 0)
			md.has_orig = true;
		n = uigw_map_dlg_encode(ui, sizeof(ui), &md);
		rc = n < 0 ? n : uigw_ss_comp_encode(comp, sizeof(comp), &c);
		if (rc < 0) {
			LOGPTR(t, LOGL_ERROR, "cannot encode the TC-BEGIN: %d\n", rc);
			tr_failed_send(t);
			return rc;
		}
		uigw_tcap_tid_set(&tm.otid, t->tid);
		uigw_map_dialogue_v2(&tm.dlg, UIGW_TCAP_AARQ);
		tm.dlg.user_info = ui;
		tm.dlg.user_info_len = n;
		tm.comps = comp;
		tm.comps_len = rc;
		rc = map_tx_tcap(m, &t->peer_addr, &tm);
	} else {
		rc = map_tx_trans(t, UIGW_TCAP_CONTINUE, &c);
	}
	if (rc < 0) {
		tr_failed_send(t);
		return rc;
	}
	LOGPTR(t, LOGL_DEBUG, "%s with %s (%s, %u units)\n", t->peer.len ? "TC-CONTINUE" : "TC-BEGIN",
	       uigw_ss_op_name(c.opcode), uigw_coding_names[screen->coding], screen->units);
	osmo_fsm_inst_dispatch(t->fi, TR_EV_SCREEN_SENT, NULL);
	return 0;
}

static void map_end(struct uigw_dialog *dlg, enum uigw_outcome outcome)
{
	struct map_trans *t = dlg->chan_priv;

	if (!t || TR_DONE(t))
		return;
	dlg->chan_priv = NULL;
	LOGPTR(t, LOGL_INFO, "dialog ended by the gateway (%s)\n", get_value_string(uigw_outcome_names, outcome));
	if (outcome == UIGW_OUTCOME_TIMED_OUT && t->fi->state == TR_ST_WAIT_ANSWER) {
		/* the subscriber did not answer within the dialog's input timeout: as on X201 */
		ctr_inc(t->m, MAP_CTR_TIMEOUT_ANSWER);
		map_tr_abort(t, "no answer within the dialog's input timeout");
	} else if (t->mo) {
		map_tx_end_error(t, t->ms_invoke_id, UIGW_SS_ERR_SYSTEM_FAILURE);
	} else {
		map_tr_abort(t, "dialog ended by the gateway");
	}
	map_tr_done(t);
}

/* The protocol state of a pushed dialog: the first screen goes out in our TC-BEGIN (map_deliver). */
static int map_push(struct uigw_chan *ch, struct uigw_dialog *dlg, const struct uigw_trigger *trig)
{
	struct uigw_map *m = ch->priv;
	struct map_trans *t;

	if (!m->scu)
		return UIGW_REFUSAL_UNREACHABLE;
	t = map_tr_alloc(m, false);
	if (!t)
		return -ENOMEM;
	OSMO_STRLCPY_ARRAY(t->subscriber, dlg->msisdn);
	if (m->cfg.hlr_addr_name) {
		if (!osmo_sccp_addr_by_name_local(&t->peer_addr, m->cfg.hlr_addr_name, osmo_sccp_get_ss7(m->sccp))) {
			/* found */
		} else {
			LOGP(DMAP, LOGL_ERROR, "hlr-address '%s' is not in the cs7 address book\n", m->cfg.hlr_addr_name);
			map_tr_free(t);
			return UIGW_REFUSAL_UNREACHABLE;
		}
	} else {
		int pc = osmo_ss7_pointcode_parse(osmo_sccp_get_ss7(m->sccp), m->cfg.hlr_pc);

		if (pc < 0) {
			map_tr_free(t);
			return UIGW_REFUSAL_UNREACHABLE;
		}
		osmo_sccp_make_addr_pc_ssn(&t->peer_addr, pc, m->cfg.hlr_ssn);
	}
	t->dlg = dlg;
	dlg->chan_priv = t;
	LOGPTR(t, LOGL_INFO, "push to the HLR %s\n", osmo_sccp_addr_name(osmo_sccp_get_ss7(m->sccp), &t->peer_addr));
	return 0;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* receiving */

/* The subscriber's E.164 number: USSD-Arg msisdn, else an E.164 destinationReference, else the fallback for an
 * IMSI. \returns 0 or -ENOENT */
static int mo_subscriber(struct uigw_map *m, const struct uigw_ss_comp *c, const struct uigw_map_dlg *md,
			 char *out, size_t out_len)
{
	struct uigw_config *cfg = &m->gw->cfg;
	char tmp[48];

	if (c->ussd.has_msisdn &&
	    uigw_e164_normalize(c->ussd.msisdn, cfg->country_code, cfg->national_prefix, out, out_len) == 0)
		return 0;
	if (md && md->kind == UIGW_MAP_DLG_OPEN && md->has_dest) {
		if ((md->dest.ton_npi & 0x0f) == 0x01) {
			uigw_map_addr_str(&md->dest, tmp, sizeof(tmp));
			if (uigw_e164_normalize(tmp, cfg->country_code, cfg->national_prefix, out, out_len) == 0)
				return 0;
		} else if ((md->dest.ton_npi & 0x0f) == 0x06 && m->cfg.msisdn_fallback == UIGW_MAP_MSISDN_IMSI) {
			snprintf(tmp, sizeof(tmp), "+%s", md->dest.digits);
			if (uigw_e164_normalize(tmp, cfg->country_code, cfg->national_prefix, out, out_len) == 0)
				return 0;
		}
	}
	return -ENOENT;
}

/* Roaming, where the calling party is the serving MSC / VLR (USSD routed to the gsmSCF directly): a global title
 * none of home-gt's prefixes begins. \returns the GT digits then */
static const char *roaming_gt(const struct uigw_map *m, const struct osmo_sccp_addr *from)
{
	if (!m->cfg.home_gts || !from || !(from->presence & OSMO_SCCP_ADDR_T_GT) || !from->gt.digits[0])
		return NULL;
	return uigw_prefix_list_match(m->cfg.home_gts, from->gt.digits) ? NULL : from->gt.digits;
}

static void rx_begin(struct uigw_map *m, const struct osmo_sccp_addr *from, const struct uigw_tcap_msg *tm)
{
	struct uigw_map_dlg md = { .kind = UIGW_MAP_DLG_NONE };
	struct uigw_ss_comp c;
	const uint8_t *pos = tm->comps, *cp;
	size_t rem = tm->comps_len, clen;
	char text[UIGW_USSD_UTF8_MAX], lang[3];
	struct uigw_begin b = { .channel = UIGW_CHAN_MAP };
	struct uigw_dialog *dlg;
	struct map_trans *t;
	int rc;

	ctr_inc(m, MAP_CTR_RX_BEGIN);
	/* the application context: only networkUnstructuredSsContext-v2 (no dialogue portion = version 1) */
	if (!tm->has_dialogue || tm->dlg.apdu != UIGW_TCAP_AARQ || tm->dlg.acn_len != UIGW_MAP_ACN_LEN ||
	    memcmp(tm->dlg.acn, uigw_map_acn_ussd_v2, UIGW_MAP_ACN_LEN)) {
		struct uigw_tcap_msg ab = { .type = UIGW_TCAP_ABORT, .dtid = tm->otid };

		ctr_inc(m, MAP_CTR_ACN_REFUSED);
		LOGP(DMAP, LOGL_NOTICE, "TC-BEGIN from tid %08x with application context %s: refused (v2 only)\n",
		     uigw_tcap_tid_val(&tm->otid), tm->has_dialogue ? osmo_hexdump_nospc(tm->dlg.acn, tm->dlg.acn_len)
		     : "none (version 1)");
		if (tm->has_dialogue) {
			/* AARE reject-permanent, application-context-name-not-supported, offering v2 */
			map_set_aare(&ab, 1, UIGW_TCAP_DIAG_ACN_NOT_SUPPORTED);
		}
		map_tx_tcap(m, from, &ab);
		return;
	}
	if (tm->dlg.user_info)
		uigw_map_dlg_decode(tm->dlg.user_info, tm->dlg.user_info_len, &md);

	t = map_tr_alloc(m, true);
	if (!t) {
		map_tx_p_abort(m, from, &tm->otid, UIGW_TCAP_PA_RESOURCE_LIMITATION);
		return;
	}
	t->peer = tm->otid;
	t->peer_addr = *from;
	t->aare_due = true;

	rc = uigw_tcap_comp_next(&pos, &rem, &cp, &clen);
	if (rc != 1) {
		ctr_inc(m, MAP_CTR_RX_MALFORMED);
		LOGPTR(t, LOGL_NOTICE, "TC-BEGIN without a component%s\n", rc < 0 ? " that decodes" : "");
		map_tx_end_reject(t, false, 0, UIGW_SS_PROB_GENERAL, UIGW_SS_PROB_GEN_BADLY_STRUCTURED);
		map_tr_done(t);
		return;
	}
	rc = uigw_ss_comp_decode(cp, clen, &c);
	if (rc < 0 || c.type != UIGW_SS_INVOKE) {
		ctr_inc(m, MAP_CTR_RX_MALFORMED);
		LOGPTR(t, LOGL_NOTICE, "TC-BEGIN without a valid Invoke (%d): %s\n", rc, osmo_hexdump_nospc(cp, clen));
		map_tx_end_reject(t, c.has_invoke_id, c.invoke_id, UIGW_SS_PROB_GENERAL,
			      rc == 0 ? UIGW_SS_PROB_GEN_UNRECOGNIZED_COMP : UIGW_SS_PROB_GEN_BADLY_STRUCTURED);
		map_tr_done(t);
		return;
	}
	t->ms_invoke_id = c.invoke_id;
	t->our_invoke_id = c.invoke_id;
	if (c.opcode != UIGW_SS_OP_PROCESS_USS_REQ) {
		ctr_inc(m, MAP_CTR_RX_UNKNOWN_OP);
		LOGPTR(t, LOGL_NOTICE, "TC-BEGIN with operation %d: not served\n", c.opcode);
		map_tx_end_reject(t, true, c.invoke_id, UIGW_SS_PROB_INVOKE, UIGW_SS_PROB_INV_UNRECOGNIZED_OP);
		map_tr_done(t);
		return;
	}
	rc = uigw_ussd_text_decode(&c.ussd, text, sizeof(text), lang);
	if (rc < 0) {
		LOGPTR(t, LOGL_NOTICE, "ussd-String with DCS 0x%02x not decodable\n", c.ussd.dcs);
		map_tx_end_error(t, c.invoke_id, UIGW_SS_ERR_UNKNOWN_ALPHABET);
		map_tr_done(t);
		return;
	}
	if (mo_subscriber(m, &c, &md, t->subscriber, sizeof(t->subscriber)) < 0) {
		LOGPTR(t, LOGL_NOTICE, "no MSISDN and no fallback: refused\n");
		map_tx_end_error(t, c.invoke_id, UIGW_SS_ERR_DATA_MISSING);
		map_tr_done(t);
		return;
	}
	LOGPTR(t, LOGL_INFO, "TC-BEGIN '%s' from %s\n", text, osmo_sccp_addr_name(osmo_sccp_get_ss7(m->sccp), from));
	b.msisdn = t->subscriber;
	b.text = text;
	b.language = lang[0] ? lang : NULL;
	b.chan_priv = t;
	b.visited = roaming_gt(m, from);
	b.roaming = b.visited != NULL;
	t->in_core = true;
	dlg = uigw_dialog_begin(m->gw, &b);
	t->in_core = false;
	if (TR_DONE(t)) {
		map_tr_free(t);
		return;
	}
	if (!dlg) {
		map_tx_end_error(t, t->ms_invoke_id, UIGW_SS_ERR_SYSTEM_FAILURE);
		map_tr_free(t);
		return;
	}
	t->dlg = dlg;
}

/* The dialog is over from the network's side: abandoned (a USSD dialog may be resumed by the core). */
static void tr_abandon(struct map_trans *t, const char *why)
{
	struct uigw_dialog *dlg = t->dlg;

	LOGPTR(t, LOGL_INFO, "released: %s\n", why);
	t->in_core = true;
	if (dlg)
		uigw_dialog_abort(dlg, UIGW_OUTCOME_ABANDONED);
	t->in_core = false;
	map_tr_done(t);
}

/* One component of a Continue/End from the peer. \returns true if the transaction goes on */
static bool rx_comp(struct map_trans *t, const uint8_t *cp, size_t clen, bool is_end)
{
	struct uigw_map *m = t->m;
	struct uigw_ss_comp c;
	char text[UIGW_USSD_UTF8_MAX];
	int rc;

	rc = uigw_ss_comp_decode(cp, clen, &c);
	if (rc < 0) {
		ctr_inc(m, MAP_CTR_RX_MALFORMED);
		LOGPTR(t, LOGL_NOTICE, "malformed component (%d): %s\n", rc, osmo_hexdump_nospc(cp, clen));
		if (!is_end)
			map_tx_end_reject(t, c.has_invoke_id, c.invoke_id, UIGW_SS_PROB_GENERAL,
				      UIGW_SS_PROB_GEN_BADLY_STRUCTURED);
		tr_abandon(t, "malformed component");
		return false;
	}
	switch (c.type) {
	case UIGW_SS_RETURN_RESULT:
	case UIGW_SS_RETURN_RESULT_NL:
		if (c.invoke_id != t->our_invoke_id)
			LOGPTR(t, LOGL_NOTICE, "result for invoke %d, expected %d\n", c.invoke_id, t->our_invoke_id);
		if (t->our_op == UIGW_SS_OP_USS_NOTIFY) {
			/* the notice was shown */
			if (!t->mo)
				ctr_inc(m, MAP_CTR_PUSH_DELIVERED);
			if (t->final_notice) {
				LOGPTR(t, LOGL_DEBUG, "notice acknowledged: closing\n");
				if (!is_end)
					map_tx_trans(t, UIGW_TCAP_END, NULL);
				map_tr_done(t);
				return false;
			}
			return true;
		}
		if (!c.has_ussd) {
			if (!is_end)
				map_tx_end_reject(t, true, c.invoke_id, UIGW_SS_PROB_RETURN_RESULT,
					      2 /* mistypedResult */);
			tr_abandon(t, "result without USSD-Res");
			return false;
		}
		rc = uigw_ussd_text_decode(&c.ussd, text, sizeof(text), NULL);
		if (rc < 0) {
			if (!is_end) {
				if (t->mo)
					map_tx_end_error(t, t->ms_invoke_id, UIGW_SS_ERR_UNKNOWN_ALPHABET);
				else
					map_tr_abort(t, "answer in an unknown alphabet");
			}
			tr_abandon(t, "answer in an unknown coding");
			return false;
		}
		if (!t->mo)
			ctr_inc(m, MAP_CTR_PUSH_DELIVERED);
		if (!t->dlg || is_end) {
			/* an answer nobody waits for, or the peer closed with it: the dialog cannot go on */
			if (!is_end)
				map_tx_end_error(t, t->mo ? t->ms_invoke_id : c.invoke_id, UIGW_SS_ERR_SYSTEM_FAILURE);
			tr_abandon(t, is_end ? "TC-END with the answer" : "answer without a dialog");
			return false;
		}
		LOGPTR(t, LOGL_DEBUG, "input '%s'\n", text);
		osmo_fsm_inst_dispatch(t->fi, TR_EV_ANSWER, NULL);
		t->in_core = true;
		rc = uigw_dialog_input(t->dlg, text);
		t->in_core = false;
		if (rc < 0)
			LOGPTR(t, LOGL_NOTICE, "input while the previous one is still answered: dropped\n");
		if (TR_DONE(t)) {
			map_tr_free(t);
			return false;
		}
		return true;
	case UIGW_SS_RETURN_ERROR:
		ctr_inc(m, MAP_CTR_RX_RETURN_ERROR);
		if (!t->mo)
			ctr_inc(m, MAP_CTR_PUSH_FAILED);
		LOGPTR(t, LOGL_NOTICE, "ReturnError %d for our %s\n", c.error_code, uigw_ss_op_name(t->our_op));
		if (!is_end)
			map_tx_trans(t, UIGW_TCAP_END, NULL);
		tr_abandon(t, "ReturnError from the network");
		return false;
	case UIGW_SS_REJECT:
		ctr_inc(m, MAP_CTR_RX_REJECT);
		if (!t->mo)
			ctr_inc(m, MAP_CTR_PUSH_FAILED);
		LOGPTR(t, LOGL_NOTICE, "Reject 0x%02x/%u\n", c.problem_tag, c.problem_code);
		if (!is_end)
			map_tx_trans(t, UIGW_TCAP_END, NULL);
		tr_abandon(t, "Reject from the network");
		return false;
	case UIGW_SS_INVOKE:
	default:
		ctr_inc(m, MAP_CTR_RX_UNKNOWN_OP);
		if (!is_end)
			map_tx_end_reject(t, true, c.invoke_id, UIGW_SS_PROB_INVOKE, UIGW_SS_PROB_INV_UNRECOGNIZED_OP);
		tr_abandon(t, "unexpected invoke");
		return false;
	}
}

static void rx_backward(struct uigw_map *m, struct map_trans *t, const struct osmo_sccp_addr *from,
			const struct uigw_tcap_msg *tm)
{
	bool is_end = tm->type == UIGW_TCAP_END;
	const uint8_t *pos = tm->comps, *cp;
	size_t rem = tm->comps_len, clen;
	int rc, n = 0;

	if (t->fi->state == TR_ST_PUSH_SENT) {
		/* the network's first answer to our Begin: its tid, and its answer to our AARQ */
		if (!is_end) {
			t->peer = tm->otid;
			t->peer_addr = *from;
		}
		if (tm->has_dialogue && tm->dlg.apdu == UIGW_TCAP_AARE && tm->dlg.result != 0) {
			ctr_inc(m, MAP_CTR_PUSH_FAILED);
			tr_abandon(t, "the network refused the dialogue (AARE reject)");
			return;
		}
		/* the answer itself is still due */
		uigw_fsm_state_chg_ms(t->fi, TR_ST_WAIT_ANSWER, tdef_ms(m, UIGW_MAP_T_ANSWER), UIGW_MAP_T_ANSWER);
	} else if (tm->type == UIGW_TCAP_CONTINUE && (tm->otid.len != t->peer.len ||
						       memcmp(tm->otid.b, t->peer.b, t->peer.len))) {
		LOGPTR(t, LOGL_NOTICE, "TC-CONTINUE with another otid %08x\n", uigw_tcap_tid_val(&tm->otid));
	}
	while ((rc = uigw_tcap_comp_next(&pos, &rem, &cp, &clen)) == 1) {
		n++;
		if (t->fi->state == TR_ST_WAIT_SCREEN && t->dlg) {
			/* two answers in one message: one step at a time */
			LOGPTR(t, LOGL_NOTICE, "a second component while a screen is due: ignored\n");
			continue;
		}
		if (!rx_comp(t, cp, clen, is_end))
			return;
	}
	if (rc < 0) {
		ctr_inc(m, MAP_CTR_RX_MALFORMED);
		if (!is_end)
			map_tx_end_reject(t, false, 0, UIGW_SS_PROB_GENERAL, UIGW_SS_PROB_GEN_BADLY_STRUCTURED);
		tr_abandon(t, "component portion does not decode");
		return;
	}
	if (is_end)
		tr_abandon(t, n ? "TC-END" : "TC-END without components");
}

static void rx_abort(struct uigw_map *m, struct map_trans *t, const struct uigw_tcap_msg *tm)
{
	char why[80];

	if (tm->has_pabort) {
		snprintf(why, sizeof(why), "TC-P-ABORT %s", uigw_tcap_pabort_name(tm->pabort));
	} else if (tm->has_dialogue && tm->dlg.apdu == UIGW_TCAP_AARE) {
		snprintf(why, sizeof(why), "TC-U-ABORT refusing the dialogue (diagnostic %u)", tm->dlg.diag);
	} else {
		struct uigw_map_dlg md;

		if (tm->has_dialogue && tm->dlg.user_info &&
		    uigw_map_dlg_decode(tm->dlg.user_info, tm->dlg.user_info_len, &md) == 0 &&
		    md.kind == UIGW_MAP_DLG_USER_ABORT)
			snprintf(why, sizeof(why), "TC-U-ABORT (MAP user abort %u/%u)", md.uabort, md.reason);
		else
			snprintf(why, sizeof(why), "TC-U-ABORT");
	}
	if (!t->mo)
		ctr_inc(m, MAP_CTR_PUSH_FAILED);
	tr_abandon(t, why);
}

static void rx_tcap(struct uigw_map *m, const struct osmo_sccp_addr *from, const uint8_t *data, size_t len)
{
	struct uigw_tcap_msg tm;
	struct uigw_tcap_err err;
	struct map_trans *t;

	if (uigw_tcap_decode(data, len, &tm, &err) < 0) {
		ctr_inc(m, MAP_CTR_RX_MALFORMED);
		LOGP(DMAP, LOGL_NOTICE, "undecodable TCAP message (%s) from %s: %s\n", err.what,
		     osmo_sccp_addr_name(osmo_sccp_get_ss7(m->sccp), from), osmo_hexdump_nospc(data, len));
		/* never answer an End or an Abort; answer the others if their otid could be read */
		if (!err.abort || !err.dtid.len || tm.type == UIGW_TCAP_END || tm.type == UIGW_TCAP_ABORT)
			return;
		if (err.dialogue) {
			struct uigw_tcap_msg ab = { .type = UIGW_TCAP_ABORT, .dtid = err.dtid, .has_dialogue = true };

			ab.dlg.apdu = UIGW_TCAP_ABRT;
			ab.dlg.abort_source = 1;	/* dialogue-service-provider */
			map_tx_tcap(m, from, &ab);
			return;
		}
		map_tx_p_abort(m, from, &err.dtid, err.cause);
		return;
	}
	switch (tm.type) {
	case UIGW_TCAP_BEGIN:
		rx_begin(m, from, &tm);
		return;
	case UIGW_TCAP_UNI:
		/* nothing of USSD is unidirectional: no answer is possible or due */
		ctr_inc(m, MAP_CTR_RX_UNKNOWN_OP);
		LOGP(DMAP, LOGL_NOTICE, "TC-UNI from %s ignored\n", osmo_sccp_addr_name(osmo_sccp_get_ss7(m->sccp), from));
		return;
	default:
		break;
	}
	ctr_inc(m, tm.type == UIGW_TCAP_CONTINUE ? MAP_CTR_RX_CONTINUE : tm.type == UIGW_TCAP_END ? MAP_CTR_RX_END
		: MAP_CTR_RX_ABORT);
	t = tm.dtid.len == 4 ? map_tr_find(m, uigw_tcap_tid_val(&tm.dtid)) : NULL;
	if (!t || TR_DONE(t)) {
		ctr_inc(m, MAP_CTR_RX_UNKNOWN_TID);
		LOGP(DMAP, LOGL_NOTICE, "TC-%s for unknown tid %08x\n", uigw_tcap_type_name(tm.type),
		     uigw_tcap_tid_val(&tm.dtid));
		if (tm.type == UIGW_TCAP_CONTINUE)
			map_tx_p_abort(m, from, &tm.otid, UIGW_TCAP_PA_UNRECOGNIZED_TID);
		return;
	}
	if (tm.type == UIGW_TCAP_ABORT)
		rx_abort(m, t, &tm);
	else
		rx_backward(m, t, from, &tm);
}

static int map_sccp_cb(struct osmo_prim_hdr *oph, void *_scu)
{
	struct osmo_sccp_user *scu = _scu;
	struct uigw_map *m = osmo_sccp_user_get_priv(scu);
	struct osmo_scu_prim *prim = (struct osmo_scu_prim *)oph;

	switch (OSMO_PRIM_HDR(oph)) {
	case OSMO_PRIM(OSMO_SCU_PRIM_N_UNITDATA, PRIM_OP_INDICATION):
		rx_tcap(m, &prim->u.unitdata.calling_addr, msgb_l2(oph->msg), msgb_l2len(oph->msg));
		break;
	case OSMO_PRIM(OSMO_SCU_PRIM_N_NOTICE, PRIM_OP_INDICATION):
		ctr_inc(m, MAP_CTR_RX_NOTICE);
		LOGP(DMAP, LOGL_NOTICE, "SCCP returned a message to %s undelivered (cause %u)\n",
		     osmo_sccp_addr_name(osmo_sccp_get_ss7(m->sccp), &prim->u.notice.called_addr),
		     prim->u.notice.cause);
		break;
	default:
		LOGP(DMAP, LOGL_DEBUG, "SCCP primitive %s ignored\n", osmo_scu_prim_name(oph));
		break;
	}
	msgb_free(oph->msg);
	return 0;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* link management */

static void abort_all(struct uigw_map *m, const char *why)
{
	struct map_trans *t, *tmp;

	llist_for_each_entry_safe(t, tmp, &m->trans, list) {
		struct uigw_dialog *dlg = t->dlg;

		if (t->in_core || TR_DONE(t))
			continue;
		map_tr_abort(t, why);
		t->in_core = true;
		if (dlg)
			uigw_dialog_abort(dlg, UIGW_OUTCOME_ABANDONED);
		t->in_core = false;
		map_tr_done(t);
	}
}

/* The reconnect interval of the ASPs' stream clients (X204): libosmo-sigtran sets 5 s when it creates them, so an
 * STP restart would cost 5 s of MAP service. Applied once a second (an ASP added or restarted from the VTY
 * gets it too, and a change of X204 takes effect at once), as are the batched reads and writes of the IPA links
 * (map_ipa.c). */
void map_link_tune(struct uigw_map *m)
{
	struct osmo_ss7_instance *inst = m->sccp ? osmo_sccp_get_ss7(m->sccp) : NULL;
	struct osmo_ss7_asp *asp;
	int secs = (int)osmo_tdef_get(m->tdefs, UIGW_MAP_T_RECONNECT, OSMO_TDEF_S, 1);

	if (!inst)
		return;
	llist_for_each_entry(asp, &inst->asp_list, list)
		if (asp->client)
			osmo_stream_cli_set_reconnect_timeout(asp->client, secs);
	map_ipa_tune(m, inst);
}

static int map_open(struct uigw_chan *ch)
{
	struct uigw_map *m = ch->priv;

	m->started = true;
	if (!m->cfg.configured) {
		LOGP(DMAP, LOGL_INFO, "no map node in the configuration: MAP channel off\n");
		return 0;
	}
	/* the cs7 instance of the configuration, else one with the defaults: IPA client ASP to an STP on
	 * 127.0.0.1:5000, point code 0.23.2; without an STP the ASP keeps retrying */
	m->sccp = osmo_sccp_simple_client_on_ss7_id(m->ss7_ctx, m->cfg.cs7_instance, "uigw",
						     osmo_ss7_pointcode_parse(NULL, "0.23.2"), OSMO_SS7_ASP_PROT_IPA,
						     0, NULL, 5000, "127.0.0.1");
	if (!m->sccp) {
		LOGP(DMAP, LOGL_ERROR, "cannot set up SCCP on cs7 instance %u: MAP channel off\n", m->cfg.cs7_instance);
		return 0;
	}
	m->scu = osmo_sccp_user_bind(m->sccp, "uigw-map", map_sccp_cb, m->cfg.local_ssn);
	if (!m->scu) {
		LOGP(DMAP, LOGL_ERROR, "cannot bind SSN %u on cs7 instance %u: MAP channel off\n", m->cfg.local_ssn,
		     m->cfg.cs7_instance);
		return 0;
	}
	osmo_sccp_user_set_priv(m->scu, m);
	osmo_timer_setup(&m->guard, map_guard_sweep_cb, m);
	osmo_timer_schedule(&m->guard, 1, 0);
	map_link_tune(m);
	osmo_sccp_local_addr_by_instance(&m->local_addr, m->sccp, m->cfg.local_ssn);
	if (m->cfg.gsmscf_number) {
		const char *d = m->cfg.gsmscf_number[0] == '+' ? m->cfg.gsmscf_number + 1 : m->cfg.gsmscf_number;

		m->local_addr.presence |= OSMO_SCCP_ADDR_T_GT;
		m->local_addr.gt.gti = OSMO_SCCP_GTI_TT_NPL_ENC_NAI;
		m->local_addr.gt.tt = 0;
		m->local_addr.gt.npi = OSMO_SCCP_NPI_E164_ISDN;
		m->local_addr.gt.nai = OSMO_SCCP_NAI_INTL;
		OSMO_STRLCPY_ARRAY(m->local_addr.gt.digits, d);
	}
	LOGP(DMAP, LOGL_NOTICE, "MAP gsmSCF on cs7 instance %u as %s\n", m->cfg.cs7_instance,
	     osmo_sccp_addr_name(osmo_sccp_get_ss7(m->sccp), &m->local_addr));
	return 0;
}

static void map_close(struct uigw_chan *ch)
{
	struct uigw_map *m = ch->priv;

	abort_all(m, "shutdown");
	osmo_timer_del(&m->guard);
	m->started = false;
	if (m->scu) {
		osmo_sccp_user_unbind(m->scu);
		m->scu = NULL;
	}
}

static enum uigw_reach map_reach(struct uigw_chan *ch, const char *msisdn)
{
	struct uigw_map *m = ch->priv;
	struct osmo_ss7_instance *ss7;
	struct osmo_ss7_as *as;

	if (!m->scu)
		return UIGW_REACH_NO;
	ss7 = osmo_sccp_get_ss7(m->sccp);
	llist_for_each_entry(as, &ss7->as_list, list) {
		if (osmo_ss7_as_active(as))
			return UIGW_REACH_UP;
	}
	return UIGW_REACH_NO;
}

static void map_show(struct uigw_chan *ch, struct vty *vty)
{
	uigw_map_vty_show(vty, ch->priv);
}

static const struct uigw_chan_ops map_ops = {
	.channel = UIGW_CHAN_MAP,
	.profile = &uigw_profile_ussd,
	.open = map_open,
	.close = map_close,
	.reach = map_reach,
	.push = map_push,
	.deliver = map_deliver,
	.end = map_end,
	.show = map_show,
};

static int map_destructor(struct uigw_map *m)
{
	struct map_trans *t, *tmp;

	osmo_timer_del(&m->guard);
	llist_for_each_entry_safe(t, tmp, &m->trans, list)
		map_tr_free(t);
	if (m->scu) {
		osmo_sccp_user_unbind(m->scu);
		m->scu = NULL;
	}
	if (m->ctrs)
		rate_ctr_group_free(m->ctrs);
	return 0;
}

int uigw_map_init(struct uigw *gw, void *ss7_ctx)
{
	static bool registered;
	struct uigw_map *m = talloc_zero(gw, struct uigw_map);

	if (!m)
		return -ENOMEM;
	m->gw = gw;
	m->ss7_ctx = ss7_ctx;
	INIT_LLIST_HEAD(&m->trans);
	hash_init(m->by_tid);
	/* transaction ids differ across restarts, so that a late message of a dead transaction finds none */
	m->next_tid = (uint32_t)uigw_wall_ms() << 8;
	m->cfg.local_ssn = OSMO_SCCP_SSN_gsmSCF_MAP;
	m->cfg.hlr_pc = talloc_strdup(m, "0.23.3");
	m->cfg.hlr_ssn = OSMO_SCCP_SSN_HLR;
	m->cfg.msisdn_fallback = UIGW_MAP_MSISDN_IMSI;
	m->ctrs = rate_ctr_group_alloc(m, &map_ctrg_desc, 0);
	m->tdefs = talloc_memdup(m, map_tdefs_default, sizeof(map_tdefs_default));
	if (!m->ctrs || !m->cfg.hlr_pc || !m->tdefs) {
		talloc_free(m);
		return -ENOMEM;
	}
	osmo_tdefs_reset(m->tdefs);
	if (!registered) {
		if (osmo_ss7_init() < 0 || osmo_fsm_register(&map_tr_fsm) < 0) {
			talloc_free(m);
			return -EINVAL;
		}
		osmo_ss7_vty_init_asp(ss7_ctx);
		osmo_sccp_vty_init();
		uigw_map_vty_init();
		registered = true;
	}
	talloc_set_destructor(m, map_destructor);
	m->chan = uigw_chan_register(gw, &map_ops, m);
	if (!m->chan) {
		talloc_free(m);
		return -ENOMEM;
	}
	m->chan->ctrs = m->ctrs;
	uigw_tdef_group_add(gw, "map", "SS7 MAP: answer, push and guard timers of the TCAP transactions", m->tdefs,
			    false);
	return 0;
}

struct uigw_map_cfg *uigw_map_cfg(struct uigw_map *m)
{
	return &m->cfg;
}

void uigw_map_vty_show(struct vty *vty, struct uigw_map *m)
{
	struct map_trans *t;
	unsigned int i;
	int64_t now = uigw_mono_ms();

	vty_out(vty, "MAP channel (gsmSCF, networkUnstructuredSsContext-v2): %s%s",
		!m->cfg.configured ? "not configured" : m->scu ? "bound" : "not bound", VTY_NEWLINE);
	if (m->sccp) {
		struct osmo_ss7_instance *ss7 = osmo_sccp_get_ss7(m->sccp);
		struct osmo_ss7_as *as;

		vty_out(vty, " cs7 instance %u, local address %s%s", m->cfg.cs7_instance,
			osmo_sccp_addr_name(ss7, &m->local_addr), VTY_NEWLINE);
		llist_for_each_entry(as, &ss7->as_list, list)
			vty_out(vty, " AS %s: %s%s", as->cfg.name, osmo_ss7_as_active(as) ? "active" : "inactive",
				VTY_NEWLINE);
	} else {
		vty_out(vty, " cs7 instance %u, local SSN %u%s", m->cfg.cs7_instance, m->cfg.local_ssn, VTY_NEWLINE);
	}
	if (m->cfg.hlr_addr_name)
		vty_out(vty, " HLR: address-book entry %s%s", m->cfg.hlr_addr_name, VTY_NEWLINE);
	else
		vty_out(vty, " HLR: point code %s, SSN %u%s", m->cfg.hlr_pc, m->cfg.hlr_ssn, VTY_NEWLINE);
	vty_out(vty, " gsmSCF number: %s%s", m->cfg.gsmscf_number ? m->cfg.gsmscf_number : "(none)", VTY_NEWLINE);
	vty_out(vty, " MSISDN fallback: %s%s",
		m->cfg.msisdn_fallback == UIGW_MAP_MSISDN_IMSI ? "imsi (+IMSI pseudo-number)" : "reject", VTY_NEWLINE);
	vty_out(vty, " Transactions: %u%s", m->n_trans, VTY_NEWLINE);
	i = 0;
	llist_for_each_entry(t, &m->trans, list) {
		if (i++ >= 20) {
			vty_out(vty, "  ...%s", VTY_NEWLINE);
			break;
		}
		vty_out(vty, "  %08x peer %08x %s %s %s dialog %llu, %" PRId64 " s%s", t->tid,
			uigw_tcap_tid_val(&t->peer), t->mo ? "MO" : "NI", osmo_fsm_inst_state_name(t->fi),
			t->subscriber, t->dlg ? (unsigned long long)t->dlg->id : 0ULL, (now - t->started_ms) / 1000,
			VTY_NEWLINE);
	}
	vty_out(vty, " Counters:%s", VTY_NEWLINE);
	for (i = 0; i < m->ctrs->desc->num_ctr; i++)
		vty_out(vty, "  %-20s %8" PRIu64 "  %s%s", m->ctrs->desc->ctr_desc[i].name,
			rate_ctr_group_get_ctr(m->ctrs, i)->current, m->ctrs->desc->ctr_desc[i].description,
			VTY_NEWLINE);
}
