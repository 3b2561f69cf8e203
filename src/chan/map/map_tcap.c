/*! \file map_tcap.c
 *  Channel map's transaction layer: one TCAP transaction per dialog as osmo_fsm MAP_TCAP (states and timers),
 *  the tid table, and every message a transaction sends: Continue/End with one component (the AARE with the
 *  first), TC-U-ABORT with MAP user abort, TC-P-ABORT, ReturnError, Reject. X201/X202 are the FSM's state
 *  timers; X203 one sweep a second over the oldest transactions. */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/msgb.h>
#include <osmocom/core/utils.h>
#include <osmocom/sigtran/sccp_helpers.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/dialog.h>
#include <osmocom/uigw/common/fsm.h>
#include <osmocom/uigw/common/clock.h>
#include "map_priv.h"

/* ---------------------------------------------------------------------------------------------------------- */
/* transactions */

#define S(x) (1 << (x))

static const struct value_string tr_event_names[] = {
	{ TR_EV_SCREEN_SENT, "SCREEN_SENT" },
	{ TR_EV_ANSWER, "ANSWER" },
	{ TR_EV_END, "END" },
	{ 0, NULL }
};

static void tr_fsm_action(struct osmo_fsm_inst *fi, uint32_t event, void *data)
{
	struct map_trans *t = fi->priv;

	switch (event) {
	case TR_EV_SCREEN_SENT:
		/* a Begin waits for the network's first answer, a Continue for the subscriber's */
		if (fi->state == TR_ST_PUSH_READY)
			uigw_fsm_state_chg_ms(fi, TR_ST_PUSH_SENT, tdef_ms(t->m, UIGW_MAP_T_PUSH), UIGW_MAP_T_PUSH);
		else
			uigw_fsm_state_chg_ms(fi, TR_ST_WAIT_ANSWER, tdef_ms(t->m, UIGW_MAP_T_ANSWER),
					      UIGW_MAP_T_ANSWER);
		break;
	case TR_EV_ANSWER:
		osmo_fsm_inst_state_chg(fi, TR_ST_WAIT_SCREEN, 0, 0);
		break;
	case TR_EV_END:
		osmo_fsm_inst_state_chg(fi, TR_ST_DONE, 0, 0);
		break;
	}
}

static int tr_fsm_timer_cb(struct osmo_fsm_inst *fi);

static void tr_fsm_cleanup(struct osmo_fsm_inst *fi, enum osmo_fsm_term_cause cause)
{
	struct map_trans *t = fi->priv;

	hash_del(&t->hnode);
	llist_del(&t->list);
	t->m->n_trans--;
}

#define TR_ALL_EVENTS (S(TR_EV_SCREEN_SENT) | S(TR_EV_ANSWER) | S(TR_EV_END))
#define TR_ALL_STATES (S(TR_ST_WAIT_SCREEN) | S(TR_ST_PUSH_READY) | S(TR_ST_PUSH_SENT) | S(TR_ST_WAIT_ANSWER) | \
		       S(TR_ST_DONE))

static const struct osmo_fsm_state tr_fsm_states[] = {
	[TR_ST_WAIT_SCREEN] = {
		.name = "WAIT_SCREEN",
		.in_event_mask = TR_ALL_EVENTS,
		.out_state_mask = TR_ALL_STATES,
		.action = tr_fsm_action,
	},
	[TR_ST_PUSH_READY] = {
		.name = "PUSH_READY",
		.in_event_mask = S(TR_EV_SCREEN_SENT) | S(TR_EV_END),
		.out_state_mask = S(TR_ST_PUSH_SENT) | S(TR_ST_DONE),
		.action = tr_fsm_action,
	},
	[TR_ST_PUSH_SENT] = {
		.name = "PUSH_SENT",
		.in_event_mask = TR_ALL_EVENTS,
		.out_state_mask = TR_ALL_STATES,
		.action = tr_fsm_action,
	},
	[TR_ST_WAIT_ANSWER] = {
		.name = "WAIT_ANSWER",
		.in_event_mask = TR_ALL_EVENTS,
		.out_state_mask = TR_ALL_STATES,
		.action = tr_fsm_action,
	},
	[TR_ST_DONE] = {
		.name = "DONE",
		.in_event_mask = S(TR_EV_END),
		.action = tr_fsm_action,
	},
};

struct osmo_fsm map_tr_fsm = {
	.name = "MAP_TCAP",
	.states = tr_fsm_states,
	.num_states = ARRAY_SIZE(tr_fsm_states),
	.event_names = tr_event_names,
	.cleanup = tr_fsm_cleanup,
	.timer_cb = tr_fsm_timer_cb,
	.log_subsys = DMAP,
};

struct map_trans *map_tr_find(struct uigw_map *m, uint32_t tid)
{
	struct map_trans *t;

	hash_for_each_possible(m->by_tid, t, hnode, tid) {
		if (t->tid == tid)
			return t;
	}
	return NULL;
}

struct map_trans *map_tr_alloc(struct uigw_map *m, bool mo)
{
	struct osmo_fsm_inst *fi;
	struct map_trans *t;
	char name[16];

	fi = osmo_fsm_inst_alloc(&map_tr_fsm, m, NULL, LOGL_DEBUG, NULL);
	if (!fi)
		return NULL;
	t = talloc_zero(fi, struct map_trans);
	if (!t) {
		osmo_fsm_inst_free(fi);
		return NULL;
	}
	fi->priv = t;
	t->fi = fi;
	t->m = m;
	t->mo = mo;
	/* never 0, never one in use */
	do {
		t->tid = ++m->next_tid;
	} while (!t->tid || map_tr_find(m, t->tid));
	snprintf(name, sizeof(name), "%08x", t->tid);
	osmo_fsm_inst_update_id(fi, name);
	if (!mo)
		osmo_fsm_inst_state_chg(fi, TR_ST_PUSH_READY, 0, 0);
	t->started_ms = uigw_mono_ms();
	hash_add(m->by_tid, &t->hnode, t->tid);
	llist_add_tail(&t->list, &m->trans);
	m->n_trans++;
	return t;
}

void map_tr_free(struct map_trans *t)
{
	osmo_fsm_inst_term(t->fi, OSMO_FSM_TERM_REGULAR, NULL);
}

/* Ended (state DONE); freed unless a call into the engine is still on the stack for it. */
void map_tr_done(struct map_trans *t)
{
	t->dlg = NULL;
	osmo_fsm_inst_dispatch(t->fi, TR_EV_END, NULL);
	if (!t->in_core)
		map_tr_free(t);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* sending */

/* One TCAP message to \a called. \returns 0 or negative errno */
int map_tx_tcap(struct uigw_map *m, const struct osmo_sccp_addr *called, const struct uigw_tcap_msg *tm)
{
	/* the encoding on the stack: libosmo-sigtran copies the data into a message of its own (its
	 * osmo_sccp_tx_unitdata_msg() does the same with a msgb and frees it: one large allocation less) */
	uint8_t buf[2048];
	int n, rc;

	if (!m->scu) {
		ctr_inc(m, MAP_CTR_TX_FAILED);
		return -ENOTCONN;
	}
	n = uigw_tcap_encode(buf, sizeof(buf), tm);
	if (n < 0) {
		LOGP(DMAP, LOGL_ERROR, "cannot encode a TCAP %s: %d\n", uigw_tcap_type_name(tm->type), n);
		return n;
	}
	rc = osmo_sccp_tx_unitdata(m->scu, &m->local_addr, called, buf, n);
	if (rc < 0) {
		ctr_inc(m, MAP_CTR_TX_FAILED);
		LOGP(DMAP, LOGL_ERROR, "SCCP did not take a TCAP %s: %d\n", uigw_tcap_type_name(tm->type), rc);
		return rc;
	}
	m->tx_queued++;
	switch (tm->type) {
	case UIGW_TCAP_BEGIN:
		ctr_inc(m, MAP_CTR_TX_BEGIN);
		break;
	case UIGW_TCAP_CONTINUE:
		ctr_inc(m, MAP_CTR_TX_CONTINUE);
		break;
	case UIGW_TCAP_END:
		ctr_inc(m, MAP_CTR_TX_END);
		break;
	case UIGW_TCAP_ABORT:
		ctr_inc(m, tm->has_pabort ? MAP_CTR_TX_P_ABORT : MAP_CTR_TX_U_ABORT);
		break;
	default:
		break;
	}
	return 0;
}

void map_set_aare(struct uigw_tcap_msg *tm, uint8_t result, uint8_t diag)
{
	tm->has_dialogue = true;
	uigw_map_dialogue_v2(&tm->dlg, UIGW_TCAP_AARE);
	tm->dlg.result = result;
	tm->dlg.diag_source = UIGW_TCAP_DIAG_USER;
	tm->dlg.diag = diag;
}

/* A Continue or End of transaction \a t with at most one component (NULL: none). The AARE rides along with
 * the first backward message. */
int map_tx_trans(struct map_trans *t, enum uigw_tcap_type type, const struct uigw_ss_comp *c)
{
	struct uigw_tcap_msg tm = { .type = type };
	uint8_t comp[256];
	int n;

	if (!t->peer.len)
		return -ENOTCONN;	/* the peer never answered our Begin: nothing to address */
	if (c) {
		n = uigw_ss_comp_encode(comp, sizeof(comp), c);
		if (n < 0) {
			LOGPTR(t, LOGL_ERROR, "cannot encode %s: %d\n", uigw_ss_comp_type_name(c->type), n);
			return n;
		}
		tm.comps = comp;
		tm.comps_len = n;
		if (c->type == UIGW_SS_REJECT)
			ctr_inc(t->m, MAP_CTR_TX_REJECT);
		else if (c->type == UIGW_SS_RETURN_ERROR)
			ctr_inc(t->m, MAP_CTR_TX_RETURN_ERROR);
	}
	uigw_tcap_tid_set(&tm.otid, t->tid);
	tm.dtid = t->peer;
	if (t->aare_due) {
		map_set_aare(&tm, 0, UIGW_TCAP_DIAG_NULL);
		t->aare_due = false;
	}
	return map_tx_tcap(t->m, &t->peer_addr, &tm);
}

/* TC-U-ABORT: ABRT from the user with MAP-UserAbortInfo (or an AARE if the dialogue was never accepted). */
int map_tx_u_abort(struct uigw_map *m, const struct osmo_sccp_addr *to, const struct uigw_tcap_tid *dtid,
		      bool aare_due, enum uigw_map_uabort why, uint8_t reason)
{
	struct uigw_tcap_msg tm = { .type = UIGW_TCAP_ABORT, .dtid = *dtid, .has_dialogue = true };
	struct uigw_map_dlg md = { .kind = UIGW_MAP_DLG_USER_ABORT, .uabort = why, .reason = reason };
	uint8_t ui[64];
	int n = uigw_map_dlg_encode(ui, sizeof(ui), &md);

	if (n < 0)
		return n;
	if (aare_due) {
		/* the dialogue was not yet confirmed: confirm and abort in one (Q.774: AARE in the U-ABORT) */
		map_set_aare(&tm, 0, UIGW_TCAP_DIAG_NULL);
	} else {
		tm.dlg.apdu = UIGW_TCAP_ABRT;
		tm.dlg.abort_source = 0;
	}
	tm.dlg.user_info = ui;
	tm.dlg.user_info_len = n;
	return map_tx_tcap(m, to, &tm);
}

void map_tr_abort(struct map_trans *t, const char *why)
{
	if (!t->peer.len) {
		LOGPTR(t, LOGL_NOTICE, "%s: the peer never answered, nothing to abort on the wire\n", why);
		return;
	}
	LOGPTR(t, LOGL_INFO, "TC-U-ABORT: %s\n", why);
	map_tx_u_abort(t->m, &t->peer_addr, &t->peer, t->aare_due, UIGW_MAP_UABORT_USER_SPECIFIC, 0);
	t->aare_due = false;
}

int map_tx_p_abort(struct uigw_map *m, const struct osmo_sccp_addr *to, const struct uigw_tcap_tid *dtid,
		      uint8_t cause)
{
	struct uigw_tcap_msg tm = { .type = UIGW_TCAP_ABORT, .dtid = *dtid, .has_pabort = true, .pabort = cause };

	LOGP(DMAP, LOGL_NOTICE, "TC-P-ABORT %s to tid %08x\n", uigw_tcap_pabort_name(cause), uigw_tcap_tid_val(dtid));
	return map_tx_tcap(m, to, &tm);
}

/* The MS's 59 is answered with an error: TC-END + ReturnError. */
int map_tx_end_error(struct map_trans *t, int8_t invoke_id, int err)
{
	struct uigw_ss_comp c = { .type = UIGW_SS_RETURN_ERROR, .has_invoke_id = true, .invoke_id = invoke_id,
				  .error_code = err };

	LOGPTR(t, LOGL_INFO, "TC-END with ReturnError %d\n", err);
	return map_tx_trans(t, UIGW_TCAP_END, &c);
}

int map_tx_end_reject(struct map_trans *t, bool has_invoke_id, int8_t invoke_id, uint8_t tag, uint8_t code)
{
	struct uigw_ss_comp c = { .type = UIGW_SS_REJECT, .has_invoke_id = has_invoke_id, .invoke_id = invoke_id,
				  .problem_tag = tag, .problem_code = code };

	LOGPTR(t, LOGL_INFO, "TC-END with Reject 0x%02x/%u\n", tag, code);
	return map_tx_trans(t, UIGW_TCAP_END, &c);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* timers */

static int tr_fsm_timer_cb(struct osmo_fsm_inst *fi)
{
	struct map_trans *t = fi->priv;
	struct uigw_dialog *dlg = t->dlg;

	if (fi->state == TR_ST_PUSH_SENT) {
		/* no dtid to address: the transaction ends locally (Q.774 "prearranged end" of a Begin) */
		ctr_inc(t->m, MAP_CTR_TIMEOUT_PUSH);
		LOGPTR(t, LOGL_NOTICE, "no answer to our TC-BEGIN within X202: push ended\n");
	} else {
		ctr_inc(t->m, MAP_CTR_TIMEOUT_ANSWER);
		map_tr_abort(t, "no answer within X201");
	}
	t->in_core = true;
	if (dlg)
		uigw_dialog_abort(dlg, UIGW_OUTCOME_TIMED_OUT);
	t->in_core = false;
	t->dlg = NULL;
	osmo_fsm_inst_state_chg(fi, TR_ST_DONE, 0, 0);
	return 1;	/* terminate */
}

/* X203 bounds every transaction whatever state it is in. One timer for all: m->trans is in the order of
 * allocation, so a sweep looks at the expired ones and the first young one only. */
void map_guard_sweep_cb(void *data)
{
	struct uigw_map *m = data;
	int64_t limit = uigw_mono_ms() - (int64_t)tdef_ms(m, UIGW_MAP_T_GUARD);
	struct map_trans *t, *tmp;

	llist_for_each_entry_safe(t, tmp, &m->trans, list) {
		struct uigw_dialog *dlg = t->dlg;

		if (t->started_ms > limit)
			break;
		if (t->in_core || TR_DONE(t))
			continue;
		ctr_inc(m, MAP_CTR_TIMEOUT_GUARD);
		map_tr_abort(t, "transaction older than X203");
		t->in_core = true;
		if (dlg)
			uigw_dialog_abort(dlg, UIGW_OUTCOME_TIMED_OUT);
		t->in_core = false;
		map_tr_done(t);
	}
	map_link_tune(m);
	osmo_timer_schedule(&m->guard, 1, 0);
}
