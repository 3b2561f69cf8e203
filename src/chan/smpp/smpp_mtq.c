/*! \file smpp_mtq.c
 *  The persistent MT queue of the SMPP channels. Every MT the user must get (a reply, a push, an opt-out
 *  confirmation) is written to the store's mt_queue table while it goes out, and deleted once the SMSC accepted
 *  it (submit_sm_resp OK) or it was dropped. The write does not delay the submit: both happen at once, the
 *  writer thread commits in groups.
 *
 *  Rules:
 *  - a link loss, a response timeout, THROTTLED: the request goes back to the head of the queue (smpp_link.c);
 *  - a dialog that ends without its screens (timeout, abort, user release, replaced by a new dialog) drops its
 *    queued questions (counted as "dialog ended"); its last message is never dropped that way;
 *  - every request has an expiry: a question the dialog's own timer, a last message `mt-validity`; past it,
 *    it is dropped and counted, never sent late;
 *  - after a restart the rows of the last run are read: a final SMS and a USSN notice are sent again (once a
 *    link is bound) until their expiry; questions and USSD session messages are dropped and counted, since their
 *    dialog (and the network's USSD session) ended with the restart and an answer could reach nothing.
 *  A request in flight when the gateway stops (or its link drops) is sent again: SMPP 3.4 has no idempotency
 *  key, so an SMSC that accepted it without its response reaching us sees it twice — the only case of a
 *  duplicate, and the SMSC's own duplicate check is the remedy. With `mt-in-doubt drop` (node smpp) such a
 *  message is dropped instead (at most once): before a message a restart would send again goes to a link, a mark
 *  is committed on its row (the queue waits for it: one job marks every unmarked message queued), and after a
 *  restart the marked rows are in doubt — dropped and counted — while the unmarked ones were never sent and go
 *  out. A link loss within one run still sends the in-flight request again (the run knows no more than SMPP
 *  tells it). */

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/tdef.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/store/store.h>
#include <osmocom/uigw/chan/smpp.h>

static void mt_job_done(struct uigw_store_job *job, void *data)
{
	struct uigw_smpp *smpp = data;

	if (job->rc < 0) {
		LOGP(DSMPP, LOGL_ERROR, "MT queue write failed (%d): a restart would lose or repeat a message\n",
		     job->rc);
		if (smpp)
			smpp->mt_store_err++;
	}
	talloc_free(job);
}

static int64_t next_id(struct uigw_smpp *smpp)
{
	if (!smpp->next_mt_id) {
		smpp->next_mt_id = ((uigw_wall_ms() / 1000) << 20) + 1;
	}
	return smpp->next_mt_id++;
}

/* write the request's row (insert) */
static int mt_write(struct uigw_smpp *smpp, struct uigw_smpp_req *req, const struct uigw_smpp_mt *mt)
{
	struct uigw_store *st = smpp->gw->store;
	struct uigw_store_job *job;
	struct uigw_store_row *r;
	struct uigw_smpp_pdu pdu;
	uint8_t enc[UIGW_SMPP_MAX_PDU];
	int len;

	if (!st)
		return -ENODEV;
	job = uigw_store_job_alloc(st, mt_job_done, smpp);
	if (!job)
		return -ENOMEM;
	r = uigw_store_job_row(job, UIGW_ROW_MT);
	if (!r)
		goto fail;
	pdu = req->pdu;
	pdu.command_id = UIGW_SMPP_SUBMIT_SM;
	pdu.sequence = 1;	/* 0 is not a valid sequence number; the link sets its own */
	len = uigw_smpp_encode(enc, sizeof(enc), &pdu);
	if (len <= 0) {
		LOGP(DSMPP, LOGL_ERROR, "MT to %s does not encode (%d)\n", pdu.dst_addr, len);
		goto fail;
	}
	r->u.mt.pdu = talloc_memdup(job, enc, len);
	if (!r->u.mt.pdu)
		goto fail;
	req->mt_id = next_id(smpp);
	r->time_ms = uigw_wall_ms();
	r->channel = uigw_channel_name(mt->channel);
	r->dialog = mt->dialog;
	r->u.mt.id = req->mt_id;
	r->u.mt.expires_ms = req->expires_ms;
	r->u.mt.restart = mt->restart;
	r->u.mt.pdu_len = len;
	if (uigw_store_submit(job) < 0) {
		req->mt_id = 0;
		goto fail;
	}
	smpp->mt_stored++;
	return 0;
fail:
	smpp->mt_store_err++;
	talloc_free(job);
	return -EIO;
}

struct uigw_smpp_req *uigw_smpp_submit_mt(struct uigw_smpp *smpp, const struct uigw_smpp_pdu *pdu,
					  const struct uigw_smpp_mt *mt)
{
	struct uigw_smpp_req *req = talloc_zero(smpp, struct uigw_smpp_req);

	if (!req)
		return NULL;
	req->pdu = *pdu;
	req->dialog = mt->dialog;
	req->last = mt->last;
	req->restart = mt->restart;
	if (mt->ttl_s)
		req->expires_ms = uigw_wall_ms() + (int64_t)mt->ttl_s * 1000;
	if (mt_write(smpp, req, mt) < 0)
		LOGP(DSMPP, LOGL_ERROR, "MT to %s not kept in the store: it goes out, but would not survive a "
		     "restart\n", pdu->dst_addr);
	uigw_smpp_req_queue(smpp, req);
	return req;
}

void uigw_smpp_mt_forget(struct uigw_smpp *smpp, struct uigw_smpp_req *req)
{
	struct uigw_store *st = smpp->gw->store;
	struct uigw_store_job *job;
	struct uigw_store_row *r;

	if (!req->mt_id || !st)
		return;
	job = uigw_store_job_alloc(st, mt_job_done, smpp);
	r = job ? uigw_store_job_row(job, UIGW_ROW_MT_DONE) : NULL;
	if (r) {
		r->u.mt.id = req->mt_id;
		if (uigw_store_submit(job) == 0)
			job = NULL;
	}
	if (job) {
		/* the row stays: after a restart it is sent again (or dropped as stale) */
		smpp->mt_store_err++;
		talloc_free(job);
	}
	req->mt_id = 0;
}

/* drop a request that is in no list */
static void req_drop(struct uigw_smpp *smpp, struct uigw_smpp_req *req)
{
	uigw_smpp_mt_forget(smpp, req);
	if (req->done)
		req->done(req, UIGW_SMPP_RSYSERR, NULL);
	talloc_free(req);
}

bool uigw_smpp_mt_stale(struct uigw_smpp *smpp, struct uigw_smpp_req *req)
{
	if (req->dead) {
		LOGP(DSMPP, LOGL_INFO, "MT to %s dropped: its dialog ended\n", req->pdu.dst_addr);
		smpp->mt_dropped_ended++;
	} else if (req->expires_ms && uigw_wall_ms() > req->expires_ms) {
		LOGP(DSMPP, LOGL_NOTICE, "MT to %s dropped: no link for it before it expired\n", req->pdu.dst_addr);
		smpp->mt_expired++;
	} else {
		return false;
	}
	req_drop(smpp, req);
	return true;
}

unsigned int uigw_smpp_mt_drop_dialog(struct uigw_smpp *smpp, uint64_t dialog)
{
	struct uigw_smpp_req *req, *tmp;
	struct uigw_smpp_link *link;
	unsigned int n = 0;

	if (!dialog)
		return 0;
	llist_for_each_entry_safe(req, tmp, &smpp->queue, list) {
		if (req->dialog != dialog || req->last)
			continue;
		llist_del(&req->list);
		smpp->queue_len--;
		smpp->mt_dropped_ended++;
		req_drop(smpp, req);
		n++;
	}
	/* in flight: it may be delivered already; if it comes back (link loss, timeout), it is dropped then */
	llist_for_each_entry(link, &smpp->links, list) {
		llist_for_each_entry(req, &link->inflight, list) {
			if (req->dialog == dialog && !req->last)
				req->dead = true;
		}
	}
	if (n)
		LOGP(DSMPP, LOGL_INFO, "dialog %" PRIu64 " ended: %u queued message(s) dropped\n", dialog, n);
	return n;
}

/* ---- marks (mt-in-doubt drop) ---- */

#define MARKS_PER_JOB	512

static bool needs_mark(const struct uigw_smpp *smpp, const struct uigw_smpp_req *req)
{
	return smpp->mt_in_doubt_drop && req->mt_id && req->restart && !req->marked;
}

static void mark_queue(struct uigw_smpp *smpp);

static void mark_done(struct uigw_store_job *job, void *data)
{
	struct uigw_smpp *smpp = data;
	struct uigw_smpp_req *req;
	bool ok = job->rc == 0;

	talloc_free(job);
	smpp->mt_marking = false;
	llist_for_each_entry(req, &smpp->queue, list) {
		if (!req->marking)
			continue;
		req->marking = false;
		req->marked = ok;
		smpp->mt_marks += ok;
	}
	if (!ok) {
		/* the store fails: nothing goes out that a restart could not tell apart; tried again in a second */
		LOGP(DSMPP, LOGL_ERROR, "MT marks not committed: the messages wait (mt-in-doubt drop)\n");
		osmo_timer_schedule(&smpp->mt_mark_timer, 1, 0);
		return;
	}
	uigw_smpp_kick(smpp);
}

static void mark_timer_cb(void *data)
{
	uigw_smpp_kick(data);
}

/* one job with the marks of every unmarked request queued (at most MARKS_PER_JOB) */
static void mark_queue(struct uigw_smpp *smpp)
{
	struct uigw_store *st = smpp->gw->store;
	struct uigw_store_job *job;
	struct uigw_smpp_req *req;
	unsigned int n = 0;

	if (smpp->mt_marking || osmo_timer_pending(&smpp->mt_mark_timer))
		return;
	job = uigw_store_job_alloc(st, mark_done, smpp);
	if (!job)
		goto retry;
	llist_for_each_entry(req, &smpp->queue, list) {
		struct uigw_store_row *r;

		if (!needs_mark(smpp, req) || req->marking)
			continue;
		r = uigw_store_job_row(job, UIGW_ROW_MT_SENDING);
		if (!r)
			break;
		r->u.mt.id = req->mt_id;
		req->marking = true;
		if (++n == MARKS_PER_JOB)
			break;
	}
	if (uigw_store_submit(job) == 0) {
		smpp->mt_marking = true;
		return;
	}
	llist_for_each_entry(req, &smpp->queue, list)
		req->marking = false;
	talloc_free(job);
retry:
	LOGP(DSMPP, LOGL_ERROR, "MT marks cannot be queued: the messages wait (mt-in-doubt drop)\n");
	osmo_timer_schedule(&smpp->mt_mark_timer, 1, 0);
}

bool uigw_smpp_mt_hold(struct uigw_smpp *smpp, struct uigw_smpp_req *req)
{
	if (!needs_mark(smpp, req) || !smpp->gw->store)
		return false;
	if (!osmo_timer_pending(&smpp->mt_mark_timer) && !smpp->mt_mark_timer.cb)
		osmo_timer_setup(&smpp->mt_mark_timer, mark_timer_cb, smpp);
	mark_queue(smpp);
	return true;
}

/* ---- restart ---- */

static void delete_row(struct uigw_smpp *smpp, int64_t id)
{
	struct uigw_smpp_req tmp = { .mt_id = id };

	uigw_smpp_mt_forget(smpp, &tmp);
}

static int restore_row(const struct uigw_store_row *row, void *data)
{
	struct uigw_smpp *smpp = data;
	struct uigw_smpp_req *req;
	int64_t now = uigw_wall_ms();

	if (!row->u.mt.restart) {
		smpp->mt_dropped_restart++;
		delete_row(smpp, row->u.mt.id);
		return 0;
	}
	if (row->u.mt.expires_ms && now > row->u.mt.expires_ms) {
		smpp->mt_expired++;
		delete_row(smpp, row->u.mt.id);
		return 0;
	}
	if (row->u.mt.sending && smpp->mt_in_doubt_drop) {
		/* it may have reached the SMSC before the restart: at most once */
		LOGP(DSMPP, LOGL_NOTICE, "MT queue row %" PRId64 " in doubt (it may have reached the SMSC): dropped "
		     "(mt-in-doubt drop)\n", row->u.mt.id);
		smpp->mt_in_doubt++;
		delete_row(smpp, row->u.mt.id);
		return 0;
	}
	req = talloc_zero(smpp, struct uigw_smpp_req);
	if (!req)
		return -ENOMEM;
	if (uigw_smpp_decode(&req->pdu, row->u.mt.pdu, row->u.mt.pdu_len) < 0 ||
	    req->pdu.command_id != UIGW_SMPP_SUBMIT_SM) {
		LOGP(DSMPP, LOGL_ERROR, "MT queue row %" PRId64 " does not decode: deleted\n", row->u.mt.id);
		talloc_free(req);
		smpp->mt_dropped_restart++;
		delete_row(smpp, row->u.mt.id);
		return 0;
	}
	req->mt_id = row->u.mt.id;
	req->dialog = row->dialog;
	req->last = true;
	req->restart = true;
	req->marked = row->u.mt.sending;
	req->expires_ms = row->u.mt.expires_ms;
	smpp->mt_restored++;
	uigw_smpp_req_queue(smpp, req);
	return 0;
}

int uigw_smpp_mt_restore(struct uigw_smpp *smpp)
{
	unsigned long before = smpp->mt_restored, dropped = smpp->mt_dropped_restart, expired = smpp->mt_expired;
	unsigned long doubt = smpp->mt_in_doubt;
	int64_t max_id = 0;
	int rc;

	if (!smpp->gw->store)
		return 0;
	rc = uigw_store_mt_load(smpp->gw->store, restore_row, smpp, &max_id);
	if (rc < 0)
		return rc;
	if (max_id >= next_id(smpp))
		smpp->next_mt_id = max_id + 1;
	if (rc)
		LOGP(DSMPP, LOGL_NOTICE, "MT queue of the last run: %lu to send, %lu dropped (their dialog ended "
		     "with the restart), %lu expired, %lu dropped in doubt\n", smpp->mt_restored - before,
		     smpp->mt_dropped_restart - dropped, smpp->mt_expired - expired, smpp->mt_in_doubt - doubt);
	return smpp->mt_restored - before;
}
