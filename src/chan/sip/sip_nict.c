/*! \file sip_nict.c
 *  Non-INVITE client transactions (RFC 3261 17.1.2) of our own: the MESSAGEs, INFOs and BYEs the gateway
 *  sends. libosip2 keeps every transaction in a linked list that it walks on each insert, removal and timer run,
 *  and allocates ~15 KB per transaction; at thousands of replies a second that walk is what limits the gateway
 *  (contrib/bench/sip). Here a transaction is a struct sip_tx found through the branch index (sip_tx.c) with an
 *  osmo_fsm instance "SIP_NICT" (`show fsm-instances SIP_NICT`) whose one timer is E or F, whichever is due:
 *
 *  - "Trying": the request goes out; over UDP it is sent again after T1, 2·T1, … capped at T2 (timer E);
 *  - "Proceeding" (a 1xx came): again every T2;
 *  - a final response (2xx-6xx) ends it: the owner's callback gets the response. Over UDP RFC 3261 keeps the
 *    transaction T4 longer to absorb retransmitted responses; they arrive here without a transaction and are
 *    dropped as stray, which is all that state would do with them;
 *  - 64·T1 without a final response (timer F): the callback gets 408; a transport error: 503.
 *
 *  Over TCP there are no retransmissions, only timer F. The request is sent as the text that was built (no
 *  re-serialisation); INVITE client transactions stay with libosip2. */

#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/fsm.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/logging.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/common/fsm.h>
#include "sip_priv.h"

static bool nict_fsm_registered;

enum nict_state {
	NICT_ST_TRYING,		/*!< sent; over UDP again after T1, 2*T1, ... up to T2 (timer E) */
	NICT_ST_PROCEEDING,	/*!< a provisional response came: again every T2 */
};

enum nict_event {
	NICT_EV_PROVISIONAL,	/*!< a 1xx */
};

/* the instance's timer: which one is due */
#define NICT_T_E	-1	/*!< retransmission */
#define NICT_T_F	-2	/*!< the transaction's end: 64*T1 */
#define NICT_T_FAIL	-3	/*!< the transport failed: the owner hears it on the next loop run */

static void nict_end(struct sip_tx *tx, const osip_message_t *resp, int code)
{
	struct uigw_sip *sip = tx->sip;
	sip_resp_cb cb = tx->cb;
	void *owner = tx->owner;

	/* the owner's pointer to this tx goes first: the callback may free the owner or send a new request */
	if (tx->owner_ref && *tx->owner_ref == tx)
		*tx->owner_ref = NULL;
	osmo_fsm_inst_term(tx->nict_fi, OSMO_FSM_TERM_REGULAR, NULL);
	llist_del(&tx->nict_list);
	sip->n_nict--;
	talloc_free(tx);
	if (cb && owner)
		cb(sip, owner, resp, code);
}

static int nict_send(struct sip_tx *tx)
{
	LOGP(DSIP, LOGL_DEBUG, "tx to %s:%u%s:\n%.*s\n", inet_ntoa(tx->dst.sin_addr), ntohs(tx->dst.sin_port),
	     tx->conn ? " (tcp)" : "", (int)tx->len, tx->buf);
	return sip_send_to(tx->sip, tx->buf, tx->len, &tx->dst, tx->conn);
}

/* (re)start the instance's timer: E or F, whichever is due first (over TCP only F) */
static void nict_schedule(struct sip_tx *tx, int64_t now)
{
	int64_t wait = tx->deadline_ms - now;
	int T = NICT_T_F;

	if (!tx->conn && tx->interval_ms && tx->interval_ms < wait) {
		wait = tx->interval_ms;
		T = NICT_T_E;
	}
	/* 0 would mean no timer at all */
	uigw_fsm_state_chg_ms(tx->nict_fi, tx->nict_fi->state, wait > 0 ? wait : 1, T);
}

/* the owner hears of a failed transport through its callback on the next loop run, not re-entrantly */
static void nict_fail_soon(struct sip_tx *tx)
{
	tx->interval_ms = 0;
	uigw_fsm_state_chg_ms(tx->nict_fi, tx->nict_fi->state, 1, NICT_T_FAIL);
}

static int nict_timer_cb(struct osmo_fsm_inst *fi)
{
	struct sip_tx *tx = fi->priv;
	int64_t now = uigw_mono_ms();

	if (fi->T == NICT_T_FAIL || !tx->interval_ms) {
		nict_end(tx, NULL, 503);
		return 0;
	}
	if (now >= tx->deadline_ms) {
		sip_ctr_inc(tx->sip, SIP_CTR_TIMEOUT);
		nict_end(tx, NULL, 408);
		return 0;
	}
	if (!tx->conn) {
		if (nict_send(tx) < 0) {
			sip_ctr_inc(tx->sip, SIP_CTR_TX_ERR);
			nict_end(tx, NULL, 503);
			return 0;
		}
		tx->interval_ms = OSMO_MIN(2 * tx->interval_ms, tx->sip->t2->val);
	}
	nict_schedule(tx, now);
	return 0;
}

static void nict_action(struct osmo_fsm_inst *fi, uint32_t event, void *data)
{
	struct sip_tx *tx = fi->priv;

	/* "Proceeding": retransmit every T2 */
	if (!tx->interval_ms)
		return;
	tx->interval_ms = tx->sip->t2->val;
	osmo_fsm_inst_state_chg(fi, NICT_ST_PROCEEDING, 0, 0);
	nict_schedule(tx, uigw_mono_ms());
}

static const struct value_string nict_event_names[] = {
	{ NICT_EV_PROVISIONAL, "PROVISIONAL" },
	{ 0, NULL }
};

static const struct osmo_fsm_state nict_states[] = {
	[NICT_ST_TRYING] = {
		.name = "TRYING",
		.in_event_mask = 1 << NICT_EV_PROVISIONAL,
		.out_state_mask = (1 << NICT_ST_TRYING) | (1 << NICT_ST_PROCEEDING),
		.action = nict_action,
	},
	[NICT_ST_PROCEEDING] = {
		.name = "PROCEEDING",
		.in_event_mask = 1 << NICT_EV_PROVISIONAL,
		.out_state_mask = 1 << NICT_ST_PROCEEDING,
		.action = nict_action,
	},
};

static struct osmo_fsm nict_fsm = {
	.name = "SIP_NICT",
	.states = nict_states,
	.num_states = ARRAY_SIZE(nict_states),
	.event_names = nict_event_names,
	.timer_cb = nict_timer_cb,
	.log_subsys = DSIP,
};

int sip_nict_start(struct uigw_sip *sip, const struct uigw_sip_req_info *ri, const char *text, size_t len,
		   struct sip_conn *conn, sip_resp_cb cb, void *owner, void **owner_ref)
{
	struct sip_tx *tx;
	int64_t now = uigw_mono_ms();
	int rc;

	tx = talloc_zero(sip, struct sip_tx);
	if (!tx)
		return -ENOMEM;
	rc = sip_resolve(sip, ri->host, ri->port ? ri->port : 5060, &tx->dst);
	if (rc < 0 && !conn) {
		LOGP(DSIP, LOGL_ERROR, "cannot send %s to '%s': numeric IPv4 destinations only\n", ri->method, ri->host);
		talloc_free(tx);
		return rc;
	}
	tx->buf = talloc_memdup(tx, text, len);
	if (!tx->buf) {
		talloc_free(tx);
		return -ENOMEM;
	}
	tx->len = len;
	sip_tx_set_client(tx, sip, conn, cb, owner, owner_ref);
	tx->interval_ms = sip->t1->val;
	tx->deadline_ms = now + 64 * sip->t1->val;
	if (!nict_fsm_registered) {
		if (osmo_fsm_register(&nict_fsm) < 0) {
			talloc_free(tx);
			return -EINVAL;
		}
		nict_fsm_registered = true;
	}
	tx->nict_fi = osmo_fsm_inst_alloc(&nict_fsm, tx, tx, LOGL_DEBUG, NULL);
	if (!tx->nict_fi) {
		talloc_free(tx);
		return -ENOMEM;
	}
	sip_tx_index_branch(sip, tx, ri->branch, ri->cseq_method);
	if (!tx->key) {
		/* without a branch no response could find it: every request we build has one */
		osmo_fsm_inst_term(tx->nict_fi, OSMO_FSM_TERM_ERROR, NULL);
		talloc_free(tx);
		return -EINVAL;
	}
	llist_add_tail(&tx->nict_list, &sip->nicts);
	sip->n_nict++;
	if (owner_ref)
		*owner_ref = tx;
	sip_ctr_inc(sip, SIP_CTR_TX_REQ);
	if (nict_send(tx) < 0) {
		/* like a transport error in libosip2: the owner hears of it through its callback, not re-entrantly */
		sip_ctr_inc(sip, SIP_CTR_TX_ERR);
		nict_fail_soon(tx);
		return 0;
	}
	nict_schedule(tx, now);
	return 0;
}

void sip_nict_response(struct uigw_sip *sip, struct sip_tx *tx, const osip_message_t *resp)
{
	if (resp->status_code < 200) {
		if (resp->status_code >= 100)
			osmo_fsm_inst_dispatch(tx->nict_fi, NICT_EV_PROVISIONAL, NULL);
		return;
	}
	nict_end(tx, resp, resp->status_code);
}

void sip_nict_conn_closed(struct uigw_sip *sip, struct sip_conn *c)
{
	struct sip_tx *tx, *t;

	/* a request sent over a closed connection cannot be answered on it: the transport failed */
	llist_for_each_entry_safe(tx, t, &sip->nicts, nict_list) {
		if (tx->conn != c)
			continue;
		tx->conn = NULL;
		nict_fail_soon(tx);
	}
}

void sip_nict_stop(struct uigw_sip *sip)
{
	struct sip_tx *tx, *t;

	llist_for_each_entry_safe(tx, t, &sip->nicts, nict_list) {
		if (tx->owner_ref && *tx->owner_ref == tx)
			*tx->owner_ref = NULL;
		osmo_fsm_inst_term(tx->nict_fi, OSMO_FSM_TERM_REGULAR, NULL);
		llist_del(&tx->nict_list);
		sip->n_nict--;
		talloc_free(tx);
	}
}
