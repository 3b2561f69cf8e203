/*! \file sip_nict.c
 *  Non-INVITE client transactions (RFC 3261 17.1.2) of our own: the MESSAGEs, INFOs and BYEs the gateway
 *  sends. libosip2 keeps every transaction in a linked list that it walks on each insert, removal and timer run,
 *  and allocates ~15 KB per transaction; at thousands of replies a second that walk is what limits the gateway
 *  (contrib/bench/sip). Here a transaction is a struct sip_tx found through the branch index (sip_tx.c) and
 *  driven by one osmo timer:
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
#include <osmocom/core/utils.h>
#include <osmocom/core/logging.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/common/logging.h>
#include "sip_priv.h"

static void nict_end(struct sip_tx *tx, const osip_message_t *resp, int code)
{
	struct uigw_sip *sip = tx->sip;
	sip_resp_cb cb = tx->cb;
	void *owner = tx->owner;

	/* the owner's pointer to this tx goes first: the callback may free the owner or send a new request */
	if (tx->owner_ref && *tx->owner_ref == tx)
		*tx->owner_ref = NULL;
	osmo_timer_del(&tx->nict_timer);
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

static void nict_schedule(struct sip_tx *tx, int64_t now)
{
	int64_t wait = tx->deadline_ms - now;

	/* over TCP only timer F */
	if (!tx->conn && tx->interval_ms && tx->interval_ms < wait)
		wait = tx->interval_ms;
	if (wait < 0)
		wait = 0;
	osmo_timer_schedule(&tx->nict_timer, wait / 1000, (wait % 1000) * 1000);
}

static void nict_timer_cb(void *data)
{
	struct sip_tx *tx = data;
	int64_t now = uigw_mono_ms();

	if (!tx->interval_ms) {
		/* the first transmission failed */
		nict_end(tx, NULL, 503);
		return;
	}
	if (now >= tx->deadline_ms) {
		sip_ctr_inc(tx->sip, SIP_CTR_TIMEOUT);
		nict_end(tx, NULL, 408);
		return;
	}
	if (!tx->conn) {
		if (nict_send(tx) < 0) {
			sip_ctr_inc(tx->sip, SIP_CTR_TX_ERR);
			nict_end(tx, NULL, 503);
			return;
		}
		tx->interval_ms = OSMO_MIN(2 * tx->interval_ms, tx->sip->t2->val);
	}
	nict_schedule(tx, now);
}

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
	osmo_timer_setup(&tx->nict_timer, nict_timer_cb, tx);
	sip_tx_index_branch(sip, tx, ri->branch, ri->cseq_method);
	if (!tx->key) {
		/* without a branch no response could find it: every request we build has one */
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
		tx->interval_ms = 0;
		osmo_timer_schedule(&tx->nict_timer, 0, 0);
		return 0;
	}
	nict_schedule(tx, now);
	return 0;
}

void sip_nict_response(struct uigw_sip *sip, struct sip_tx *tx, const osip_message_t *resp)
{
	if (resp->status_code < 200) {
		/* "Proceeding": retransmit every T2 */
		if (resp->status_code >= 100 && tx->interval_ms) {
			tx->interval_ms = sip->t2->val;
			nict_schedule(tx, uigw_mono_ms());
		}
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
		tx->interval_ms = 0;
		osmo_timer_schedule(&tx->nict_timer, 0, 0);
	}
}

void sip_nict_stop(struct uigw_sip *sip)
{
	struct sip_tx *tx, *t;

	llist_for_each_entry_safe(tx, t, &sip->nicts, nict_list) {
		if (tx->owner_ref && *tx->owner_ref == tx)
			*tx->owner_ref = NULL;
		osmo_timer_del(&tx->nict_timer);
		llist_del(&tx->nict_list);
		sip->n_nict--;
		talloc_free(tx);
	}
}
