/*! \file store_write.c
 *  The store's writer thread: the rows of each kind as SQL, a batch of jobs in one transaction (a refused row
 *  fails its own job only), the contextual queries after the commit, the retention purge, and the thread's
 *  loop that takes what the event loop queued (group commit). See store.c for the threading contract. */

#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/select.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/store/store.h>
#include "store_priv.h"

#define PURGE_INTERVAL_MS	(3600 * 1000LL)
/* the writer idle this long (no batch): what waits in the mapping's journal is merged; and this long, the page cache
 * is given back (once per idle spell: a pause between bursts does not cost the next one a cold cache) */
#define IDLE_MERGE_MS		1000
#define IDLE_RELEASE_MS		5000
#define MAP_YIELD_MS		100	/* the merge gives way to a backlog of commits this long (uigw_store_map_yields()) */
#define PURGE_BUSY_GAP_MS	1000	/* a backlog: one round per second at most while the writer has work */

/* Group commit with a floor: wait until commit_interval_ms after the previous batch began, so that under load
 * each transaction (and its fdatasync) carries more rows. At low load the previous batch is long past and this
 * does not wait. A full batch, a drain or the stop end the wait at once. Called with the lock held. */
static void wait_interval(struct uigw_store *st)
{
	int64_t due = st->last_commit_us + (int64_t)st->cfg.commit_interval_ms * 1000;
	struct timespec ts = { .tv_sec = due / 1000000, .tv_nsec = (due % 1000000) * 1000 };

	if (!st->cfg.commit_interval_ms)
		return;
	st->pausing = true;
	while (!st->stop && !st->n_flush && st->rows_queued < st->cfg.batch_max_rows && uigw_mono_us() < due) {
		if (pthread_cond_timedwait(&st->wake, &st->lock, &ts) == ETIMEDOUT)
			break;
	}
	st->pausing = false;
}

int uigw_store_step_done(sqlite3 *db, sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);

	uigw_store_stmt_done(stmt);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	LOGP(DSTORE, LOGL_ERROR, "%s: %s\n", sqlite3_errmsg(db), sqlite3_sql(stmt));
	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_TOOBIG:
	case SQLITE_RANGE:
		return -EPROTO;
	default:
		return -EIO;
	}
}

/* Binding on the write connection. Parameter names are resolved once per (statement, name) and cached by the
 * name's address (the names are string literals), so a row costs no string comparisons. */
struct wb {
	struct uigw_store *st;
	enum uigw_store_wstmt w;
	sqlite3_stmt *s;
	int err;
};

static struct wb wb_start(struct uigw_store *st, enum uigw_store_wstmt w)
{
	return (struct wb){ .st = st, .w = w, .s = st->wstmt[w] };
}

/* \returns the parameter's index, 0 if the statement has no such parameter */
static int wb_index(struct wb *b, const char *name)
{
	struct uigw_store_wparam *p = b->st->wparam[b->w];
	unsigned int i;
	int idx;

	for (i = 0; i < UIGW_STORE_WPARAM_MAX && p[i].name; i++) {
		if (p[i].name == name)
			return p[i].idx;
	}
	idx = sqlite3_bind_parameter_index(b->s, name);
	if (i < UIGW_STORE_WPARAM_MAX) {
		p[i].name = name;
		p[i].idx = idx;
	}
	return idx;
}

/* The index to bind \a name at: 0 if the statement has no such parameter, which is a programming error
 * (logged, the row fails) when it is \a required */
static int wb_param(struct wb *b, const char *name, bool required)
{
	int idx = wb_index(b, name);

	if (idx <= 0 && required) {
		LOGP(DSTORE, LOGL_ERROR, "no parameter %s in: %s\n", name, sqlite3_sql(b->s));
		b->err = -EINVAL;
	}
	return idx > 0 ? idx : 0;
}

static void wb_text_idx(struct wb *b, const char *name, const char *text, bool required)
{
	int idx = wb_param(b, name, required);

	/* SQLITE_STATIC: the strings live in the job (or are static) until its completion */
	if (idx && sqlite3_bind_text(b->s, idx, text, -1, SQLITE_STATIC) != SQLITE_OK)
		b->err = -EIO;
}

static void wb_int_idx(struct wb *b, const char *name, int64_t v, bool required)
{
	int idx = wb_param(b, name, required);

	if (idx && sqlite3_bind_int64(b->s, idx, v) != SQLITE_OK)
		b->err = -EIO;
}

static void wb_blob(struct wb *b, const char *name, const uint8_t *data, size_t len)
{
	int idx = wb_param(b, name, true);

	if (idx && sqlite3_bind_blob(b->s, idx, data, (int)len, SQLITE_STATIC) != SQLITE_OK)
		b->err = -EIO;
}

#define wb_text(b, name, text) wb_text_idx(b, name, text, true)
#define wb_int(b, name, v) wb_int_idx(b, name, v, true)

/* the common row fields, for the statements that have them */
static void wb_common(struct wb *b, const struct uigw_store_row *r)
{
	wb_text_idx(b, "$campaign", r->campaign, false);
	wb_text_idx(b, "$channel", r->channel, false);
	wb_text_idx(b, "$subscriber", r->subscriber, false);
	wb_int_idx(b, "$time", r->time_ms, false);
}

/* Step (no result row expected), reset, clear. \returns as uigw_store_step_done() */
static int wb_step(struct wb *b)
{
	if (b->err) {
		uigw_store_stmt_done(b->s);
		return -EIO;
	}
	return uigw_store_step_done(b->st->wdb, b->s);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* writing rows (writer thread) */

static int write_response(struct uigw_store *st, const struct uigw_store_row *r)
{
	struct wb b = wb_start(st, WSTMT_RESPONSE);
	int rc;

	wb_common(&b, r);
	wb_int(&b, "$version", r->version);
	wb_text(&b, "$node", r->u.response.node);
	wb_text(&b, "$question", r->u.response.question);
	wb_text(&b, "$kind", r->u.response.kind);
	wb_text(&b, "$value", r->u.response.value);
	wb_text(&b, "$raw", r->u.response.raw);
	wb_int(&b, "$dialog", (int64_t)r->dialog);
	wb_int(&b, "$roaming", r->u.response.roaming);
	wb_text(&b, "$language", r->u.response.language);
	rc = wb_step(&b);
	if (rc < 0)
		return rc;

	return uigw_store_outbox_add(st, UIGW_WH_ANSWER, r, 0);
}

static int write_dialog(struct uigw_store *st, const struct uigw_store_row *r)
{
	struct wb b = wb_start(st, WSTMT_DIALOG);
	/* get_value_string() would use a static buffer for unknown values: not on this thread */
	const char *outcome = get_value_string_or_null(uigw_outcome_names, r->u.dialog.outcome);
	int rc;

	wb_common(&b, r);
	wb_int(&b, "$id", (int64_t)r->dialog);
	wb_int(&b, "$version", r->version);
	wb_int(&b, "$started", r->u.dialog.started_ms);
	wb_int(&b, "$ended", r->time_ms);
	wb_text(&b, "$outcome", outcome);
	wb_int(&b, "$steps", r->u.dialog.steps);
	wb_text(&b, "$last_node", r->u.dialog.last_node);
	wb_int(&b, "$roaming", r->u.dialog.roaming);
	wb_text(&b, "$visited", r->u.dialog.visited);
	wb_int(&b, "$test", r->u.dialog.test);
	rc = wb_step(&b);
	if (rc < 0)
		return rc;

	return uigw_store_outbox_add(st, UIGW_WH_DIALOG_ENDED, r, 0);
}

/* A report counts unless the same reporter has a counted report of the same number within the window before
 * it (judged on the rows' time_ms). A counted report increments spam_number. */
static int write_spam(struct uigw_store *st, const struct uigw_store_row *r)
{
	const char *number = r->u.spam.number;
	bool counted = true;
	struct wb b;
	int rc;

	if (!number || !number[0]) {
		LOGP(DSTORE, LOGL_NOTICE, "spam report without a number skipped\n");
		return 0;
	}
	if (r->subscriber) {
		b = wb_start(st, WSTMT_SPAM_RECENT);
		wb_text(&b, "$number", number);
		wb_text(&b, "$reporter", r->subscriber);
		wb_int(&b, "$since", r->time_ms - (int64_t)st->cfg.spam_window * 1000);
		if (b.err) {
			uigw_store_stmt_done(b.s);
			return -EIO;
		}
		rc = sqlite3_step(b.s);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			LOGP(DSTORE, LOGL_ERROR, "%s: %s\n", sqlite3_errmsg(st->wdb), sqlite3_sql(b.s));
		uigw_store_stmt_done(b.s);
		if (rc == SQLITE_ROW)
			counted = false;
		else if (rc != SQLITE_DONE)
			return -EIO;
	}

	b = wb_start(st, WSTMT_SPAM_INSERT);
	wb_text(&b, "$reporter", r->subscriber);
	wb_text(&b, "$number", number);
	wb_int(&b, "$time", r->time_ms);
	wb_int(&b, "$counted", counted);
	wb_text_idx(&b, "$channel", r->channel, true);
	wb_text_idx(&b, "$campaign", r->campaign, true);
	rc = wb_step(&b);
	if (rc < 0)
		return rc;

	rc = uigw_store_outbox_add(st, UIGW_WH_SPAM_REPORT, r, sqlite3_last_insert_rowid(st->wdb));
	if (rc < 0 || !counted)
		return 0;

	b = wb_start(st, WSTMT_SPAM_COUNT);
	wb_text(&b, "$number", number);
	wb_int(&b, "$time", r->time_ms);
	return wb_step(&b);
}

/* like and dislike exclude each other per (subscriber, content); subscribe is independent; twice counts once */
static int write_reaction(struct uigw_store *st, const struct uigw_store_row *r)
{
	const char *reaction = r->u.reaction.reaction;
	const char *other = NULL;
	struct wb b;
	int rc;

	if (!reaction || !r->u.reaction.content) {
		LOGP(DSTORE, LOGL_NOTICE, "reaction without content or kind skipped\n");
		return 0;
	}
	if (!strcmp(reaction, "like"))
		other = "dislike";
	else if (!strcmp(reaction, "dislike"))
		other = "like";
	else if (strcmp(reaction, "subscribe")) {
		LOGP(DSTORE, LOGL_NOTICE, "unknown reaction '%s' skipped\n", reaction);
		return 0;
	}

	if (other) {
		b = wb_start(st, WSTMT_REACTION_DEL);
		wb_text(&b, "$subscriber", r->subscriber);
		wb_text(&b, "$content", r->u.reaction.content);
		wb_text(&b, "$reaction", other);
		rc = wb_step(&b);
		if (rc < 0)
			return rc;
	}

	b = wb_start(st, WSTMT_REACTION_INS);
	wb_common(&b, r);
	wb_text(&b, "$content", r->u.reaction.content);
	wb_text(&b, "$reaction", reaction);
	return wb_step(&b);
}

static int write_app_rating(struct uigw_store *st, const struct uigw_store_row *r)
{
	struct wb b = wb_start(st, WSTMT_APP_RATING);

	if (r->u.app_rating.rating < 1 || r->u.app_rating.rating > 10 || !r->u.app_rating.app) {
		LOGP(DSTORE, LOGL_NOTICE, "app rating %d (1..10) of app %s skipped\n", r->u.app_rating.rating,
		     r->u.app_rating.app ? r->u.app_rating.app : "(none)");
		return 0;
	}
	wb_common(&b, r);
	wb_text(&b, "$app", r->u.app_rating.app);
	wb_int(&b, "$rating", r->u.app_rating.rating);
	return wb_step(&b);
}

static int write_simple(struct uigw_store *st, const struct uigw_store_row *r)
{
	struct wb b;
	int rc;

	switch (r->kind) {
	case UIGW_ROW_FLAG:
		b = wb_start(st, WSTMT_FLAG);
		wb_common(&b, r);
		wb_text(&b, "$content", r->u.flag.content);
		wb_text(&b, "$reason", r->u.flag.reason);
		break;
	case UIGW_ROW_OFFER:
		b = wb_start(st, WSTMT_OFFER);
		wb_common(&b, r);
		wb_text(&b, "$service", r->u.offer.service);
		wb_text(&b, "$uri", r->u.offer.uri);
		break;
	case UIGW_ROW_OPTOUT:
		if (!r->subscriber) {
			LOGP(DSTORE, LOGL_NOTICE, "opt-out without a subscriber skipped\n");
			return 0;
		}
		if (r->u.optout.scope) {
			b = wb_start(st, r->u.optout.opt_out ? WSTMT_OPTOUT_SCOPE : WSTMT_OPTIN_SCOPE);
			wb_text_idx(&b, "$subscriber", r->subscriber, true);
			wb_text(&b, "$scope", r->u.optout.scope);
			if (r->u.optout.opt_out) {
				wb_int(&b, "$time", r->time_ms);
				wb_text(&b, "$channel", r->channel);
			}
			break;
		}
		if (!r->u.optout.opt_out) {
			/* back in: into everything */
			b = wb_start(st, WSTMT_OPTIN_ALL);
			wb_text(&b, "$subscriber", r->subscriber);
			rc = wb_step(&b);
			if (rc < 0)
				return rc;
		}
		b = wb_start(st, WSTMT_OPTOUT);
		wb_common(&b, r);
		wb_int(&b, "$opted_out", r->u.optout.opt_out);
		break;
	case UIGW_ROW_SUBSCRIBER:
		if (!r->subscriber) {
			LOGP(DSTORE, LOGL_NOTICE, "subscriber mapping without a pseudonym skipped\n");
			return 0;
		}
		/* into the journal, merged in key order within mapping-delay (store_mapping.c) */
		b = wb_start(st, WSTMT_SUBSCRIBER);
		wb_text(&b, "$pseudonym", r->subscriber);
		wb_text(&b, "$msisdn", r->u.subscriber.msisdn);
		wb_int(&b, "$time", r->time_ms);
		rc = wb_step(&b);
		if (rc < 0)
			return rc;
		uigw_store_map_added(st, r->subscriber, r->u.subscriber.msisdn, r->time_ms);
		return 0;
	case UIGW_ROW_MT:
		if (!r->u.mt.pdu || !r->u.mt.pdu_len || !r->channel) {
			LOGP(DSTORE, LOGL_ERROR, "MT without a PDU or channel refused\n");
			return -EPROTO;
		}
		b = wb_start(st, WSTMT_MT_INSERT);
		wb_int(&b, "$id", r->u.mt.id);
		wb_text(&b, "$channel", r->channel);
		wb_int(&b, "$dialog", (int64_t)r->dialog);
		wb_int(&b, "$time", r->time_ms);
		wb_int(&b, "$expires", r->u.mt.expires_ms);
		wb_int(&b, "$final", r->u.mt.restart);
		wb_text(&b, "$link", r->u.mt.link);
		wb_blob(&b, "$pdu", r->u.mt.pdu, r->u.mt.pdu_len);
		break;
	case UIGW_ROW_MT_DONE:
		b = wb_start(st, WSTMT_MT_DELETE);
		wb_int(&b, "$id", r->u.mt.id);
		break;
	case UIGW_ROW_MT_SENDING:
		b = wb_start(st, WSTMT_MT_SENDING);
		wb_int(&b, "$id", r->u.mt.id);
		break;
	case UIGW_ROW_MT_SUBMITTED:
	case UIGW_ROW_MT_RECEIPT:
		if (!r->u.receipt.message_id || !r->u.receipt.state) {
			LOGP(DSTORE, LOGL_ERROR, "receipt row without message_id or state refused\n");
			return -EPROTO;
		}
		if (r->kind == UIGW_ROW_MT_SUBMITTED) {
			b = wb_start(st, WSTMT_RECEIPT_INS);
			wb_text_idx(&b, "$channel", r->channel, true);
			wb_text_idx(&b, "$subscriber", r->subscriber, true);
			wb_int(&b, "$dialog", (int64_t)r->dialog);
		} else {
			b = wb_start(st, WSTMT_RECEIPT_UPD);
		}
		wb_text(&b, "$message_id", r->u.receipt.message_id);
		wb_text(&b, "$state", r->u.receipt.state);
		wb_int(&b, "$time", r->time_ms);
		break;
	case UIGW_ROW_DEFER:
		if (!r->campaign || !r->u.defer.msisdn || !r->u.defer.reason) {
			LOGP(DSTORE, LOGL_ERROR, "deferred push without campaign, number or reason refused\n");
			return -EPROTO;
		}
		b = wb_start(st, WSTMT_DEFER);
		wb_text_idx(&b, "$campaign", r->campaign, true);
		wb_int_idx(&b, "$time", r->time_ms, true);
		wb_int(&b, "$id", r->u.defer.id);
		wb_int(&b, "$due", r->u.defer.due_ms);
		wb_text(&b, "$reason", r->u.defer.reason);
		wb_text(&b, "$msisdn", r->u.defer.msisdn);
		wb_int(&b, "$via", r->u.defer.via);
		wb_text(&b, "$to", r->u.defer.to);
		wb_text(&b, "$language", r->u.defer.language);
		wb_text(&b, "$params", r->u.defer.params);
		break;
	case UIGW_ROW_DLG_STATE:
		return 0;	/* one gateway: its resume records are in memory (dialog_resume.c) */
	case UIGW_ROW_DEFER_DONE:
		b = wb_start(st, WSTMT_DEFER_DONE);
		wb_int(&b, "$id", r->u.defer.id);
		break;
	case UIGW_ROW_PUSH:
		if (!r->subscriber || !r->campaign || !r->u.push.result) {
			LOGP(DSTORE, LOGL_ERROR, "push row without subscriber, campaign or result refused\n");
			return -EPROTO;
		}
		b = wb_start(st, WSTMT_PUSH);
		wb_common(&b, r);
		wb_text(&b, "$result", r->u.push.result);
		break;
	case UIGW_ROW_PARAM:
		if (!r->dialog || !r->u.param.name) {
			LOGP(DSTORE, LOGL_ERROR, "parameter row without dialog or name refused\n");
			return -EPROTO;
		}
		b = wb_start(st, WSTMT_PARAM);
		wb_int(&b, "$dialog", (int64_t)r->dialog);
		wb_text(&b, "$name", r->u.param.name);
		wb_text(&b, "$value", r->u.param.value);
		wb_text_idx(&b, "$campaign", r->campaign, true);
		break;
	case UIGW_ROW_API_KEY:
		if (r->u.api_key.revoke) {
			b = wb_start(st, WSTMT_API_KEY_REVOKE);
		} else {
			if (!r->u.api_key.tenant || !r->u.api_key.hash || !r->u.api_key.scopes) {
				LOGP(DSTORE, LOGL_ERROR, "API key row without tenant, hash or scopes refused\n");
				return -EPROTO;
			}
			b = wb_start(st, WSTMT_API_KEY);
			wb_text(&b, "$tenant", r->u.api_key.tenant);
			wb_text(&b, "$hash", r->u.api_key.hash);
			wb_text(&b, "$scopes", r->u.api_key.scopes);
		}
		wb_int(&b, "$id", r->u.api_key.id);
		wb_int(&b, "$time", r->time_ms);
		break;
	case UIGW_ROW_API_KEY_USED:
		b = wb_start(st, WSTMT_API_KEY_USED);
		wb_int(&b, "$id", r->u.api_key.id);
		wb_int(&b, "$time", r->time_ms);
		break;
	case UIGW_ROW_AUDIT:
		b = wb_start(st, WSTMT_AUDIT);
		wb_int(&b, "$time", r->time_ms);
		wb_text(&b, "$tenant", r->u.audit.tenant);
		wb_int(&b, "$key_id", r->u.audit.key_id);
		wb_text(&b, "$method", r->u.audit.method);
		wb_text(&b, "$path", r->u.audit.path);
		wb_int(&b, "$status", r->u.audit.status);
		wb_text(&b, "$remote", r->u.audit.remote);
		break;
	case UIGW_ROW_REFUSED:
		/* only the outbox keeps it, if a webhook listens */
		return uigw_store_outbox_add(st, UIGW_WH_TRIGGER_REFUSED, r, 0);
	case UIGW_ROW_WEBHOOK:
		if (r->u.webhook.remove) {
			b = wb_start(st, WSTMT_WEBHOOK_PURGE);
			wb_int(&b, "$id", r->u.webhook.id);
			if (wb_step(&b) < 0)
				return -EIO;
			b = wb_start(st, WSTMT_WEBHOOK_DEL);
			wb_int(&b, "$id", r->u.webhook.id);
			uigw_store_wh_target_del(st, r->u.webhook.id);
		} else {
			if (!r->u.webhook.tenant || !r->u.webhook.url || !r->u.webhook.secret) {
				LOGP(DSTORE, LOGL_ERROR, "webhook row without tenant, URL or secret refused\n");
				return -EPROTO;
			}
			b = wb_start(st, WSTMT_WEBHOOK);
			wb_int(&b, "$id", r->u.webhook.id);
			wb_text(&b, "$tenant", r->u.webhook.tenant);
			wb_int(&b, "$all", r->u.webhook.all_campaigns);
			wb_text(&b, "$url", r->u.webhook.url);
			wb_int(&b, "$events", r->u.webhook.events);
			wb_text(&b, "$secret", r->u.webhook.secret);
			wb_int(&b, "$time", r->time_ms);
			/* it listens from the next row on; the list is read again after the batch */
			uigw_store_wh_target_add(st, r->u.webhook.id, r->u.webhook.tenant, r->u.webhook.all_campaigns,
						 r->u.webhook.events);
		}
		break;
	case UIGW_ROW_WH_DONE:
		b = wb_start(st, WSTMT_WH_DONE);
		wb_int(&b, "$webhook", r->u.wh.webhook);
		wb_int(&b, "$id", r->u.wh.id);
		break;
	case UIGW_ROW_WH_RETRY:
		b = wb_start(st, WSTMT_WH_RETRY);
		wb_int(&b, "$webhook", r->u.wh.webhook);
		wb_int(&b, "$id", r->u.wh.id);
		wb_int(&b, "$status", r->u.wh.status);
		wb_int(&b, "$time", r->time_ms);
		break;
	case UIGW_ROW_WH_DEAD:
		if (r->u.wh.id) {
			b = wb_start(st, WSTMT_WH_DEAD);
			wb_int(&b, "$id", r->u.wh.id);
		} else {
			b = wb_start(st, WSTMT_WH_DEAD_OLD);
			wb_int(&b, "$cutoff", r->u.wh.cutoff_ms);
			wb_int(&b, "$after", r->u.wh.after);
		}
		wb_int(&b, "$webhook", r->u.wh.webhook);
		wb_int(&b, "$time", r->time_ms);
		break;
	case UIGW_ROW_ERASE:
		return uigw_store_write_erase(st, r->subscriber);
	case UIGW_ROW_PURGE:
		/* after this commit, before the completions */
		st->purge_more = st->purge_now = true;
		return 0;
	case UIGW_ROW_WH_RESEND:
		b = wb_start(st, r->u.wh.id ? WSTMT_WH_RESEND : WSTMT_WH_RESEND_ALL);
		if (r->u.wh.id)
			wb_int(&b, "$id", r->u.wh.id);
		wb_int(&b, "$webhook", r->u.wh.webhook);
		wb_int(&b, "$time", r->time_ms);
		break;
	default:
		LOGP(DSTORE, LOGL_ERROR, "unknown row kind %d\n", r->kind);
		return -EPROTO;
	}
	return wb_step(&b);
}

/* The MT queue rows deleted in this batch, sorted, so that an MT inserted and accepted by the SMSC within one
 * group commit is written neither way (at load, most of them). */
static int cmp_pair(const void *a, const void *b)
{
	int64_t x = ((const struct mt_pair *)a)->id, y = ((const struct mt_pair *)b)->id;

	return x < y ? -1 : x > y;
}

static void mt_pairs_collect(struct uigw_store *st, struct llist_head *batch)
{
	struct uigw_store_job *job;
	unsigned int i;

	st->n_mt_done = 0;
	llist_for_each_entry(job, batch, list) {
		for (i = 0; i < job->n_rows; i++) {
			if (job->rows[i].kind != UIGW_ROW_MT_DONE)
				continue;
			if (st->n_mt_done == st->mt_done_cap) {
				size_t cap = st->mt_done_cap ? st->mt_done_cap * 2 : 1024;
				struct mt_pair *n = realloc(st->mt_done, cap * sizeof(*n));

				if (!n)
					return;	/* without the list every row is simply written */
				st->mt_done = n;
				st->mt_done_cap = cap;
			}
			st->mt_done[st->n_mt_done++] = (struct mt_pair){ .id = job->rows[i].u.mt.id };
		}
	}
	if (st->n_mt_done > 1)
		qsort(st->mt_done, st->n_mt_done, sizeof(*st->mt_done), cmp_pair);
}

static struct mt_pair *mt_pair_find(struct uigw_store *st, int64_t id)
{
	struct mt_pair key = { .id = id };

	if (!st->n_mt_done)
		return NULL;
	return bsearch(&key, st->mt_done, st->n_mt_done, sizeof(key), cmp_pair);
}

static int write_row(struct uigw_store *st, const struct uigw_store_row *r)
{
	struct mt_pair *pair;

	switch (r->kind) {
	case UIGW_ROW_MT:
		pair = mt_pair_find(st, r->u.mt.id);
		if (pair && r->u.mt.pdu && r->channel) {
			pair->elided = true;
			st->mt_elided++;
			return 0;
		}
		return write_simple(st, r);
	case UIGW_ROW_MT_DONE:
		pair = mt_pair_find(st, r->u.mt.id);
		if (pair && pair->elided)
			return 0;
		return write_simple(st, r);
	case UIGW_ROW_RESPONSE:
		return write_response(st, r);
	case UIGW_ROW_DIALOG:
		return write_dialog(st, r);
	case UIGW_ROW_CDR:
		return 0;	/* copied to the charging thread at the submission (store.c, store_cdr_db.c) */
	case UIGW_ROW_SPAM:
		return write_spam(st, r);
	case UIGW_ROW_REACTION:
		return write_reaction(st, r);
	case UIGW_ROW_APP_RATING:
		return write_app_rating(st, r);
	default:
		return write_simple(st, r);
	}
}

static void fail_batch(struct llist_head *batch, int rc)
{
	struct uigw_store_job *job;

	llist_for_each_entry(job, batch, list) {
		if (job->rc == 0)
			job->rc = rc;
	}
}

/* The merge is upkeep: between group commits it gives way while the jobs already waiting would take the writer
 * MAP_YIELD_MS or more at its cost per job, unless the journal is overdue (twice a pass's rows waiting, or its oldest
 * row three times mapping-delay). A 5x burst's journal merged in steps between the commits of the backlog after it
 * made the admitted dialogs wait for their commits: store delay 571 ms and 3,415 refused 27 s into R after the
 * burst (contrib/bench/smpp, 2026-12-06). The idle wait takes the steps whenever the queue is empty. */
bool uigw_store_map_yields(const struct uigw_store *st, unsigned int waiting)
{
	int64_t job = __atomic_load_n(&st->est_job_ns, __ATOMIC_RELAXED);

	/* nothing due (a pass under way is due; put off by overload or a failed step's wait, it is not) */
	if (!waiting || job <= 0 || uigw_store_map_due_ms(st) != 0)
		return false;
	if (st->map.pending >= UIGW_STORE_MAP_HELD_MAX ||
	    (st->map.pending && uigw_mono_us() - st->map.first_us >= 3LL * st->cfg.map_delay_s * 1000000))
		return false;
	return (int64_t)waiting * job >= (int64_t)MAP_YIELD_MS * 1000000;
}

/* Write a batch in one transaction. A job with a refused row is failed alone and the batch rewritten without
 * it; any other error fails the whole batch. \returns 0, or -EIO when the transaction failed (the store's
 * fault, not a row's: the caller may hold the jobs and retry). */
static int write_batch(struct uigw_store *st, struct llist_head *batch, unsigned int n_jobs)
{
	struct uigw_store_job *job;
	unsigned int i;
	int rc;

	llist_for_each_entry(job, batch, list)
		job->rc = 0;

	for (;;) {
		bool refused = false;

		mt_pairs_collect(st, batch);
		uigw_store_map_mark(st);
		rc = uigw_store_step_done(st->wdb, st->wstmt[WSTMT_BEGIN]);
		if (rc < 0) {
			LOGP(DSTORE, LOGL_ERROR, "cannot begin a transaction (%u jobs)\n", n_jobs);
			fail_batch(batch, -EIO);
			return -EIO;
		}
		llist_for_each_entry(job, batch, list) {
			if (job->rc < 0)
				continue;
			for (i = 0; i < job->n_rows; i++) {
				rc = write_row(st, &job->rows[i]);
				if (rc < 0)
					break;
			}
			if (rc == -EPROTO) {
				/* this job only: roll back and write the others again */
				job->rc = rc;
				refused = true;
				break;
			}
			if (rc < 0)
				break;
		}
		if (refused) {
			uigw_store_step_done(st->wdb, st->wstmt[WSTMT_ROLLBACK]);
			uigw_store_map_rolled_back(st);
			st->wh_dirty = true;	/* a webhook row may have been rolled back */
			LOGP(DSTORE, LOGL_ERROR, "a job with a refused row failed; rewriting its batch\n");
			continue;
		}
		if (rc == 0)
			rc = uigw_store_step_done(st->wdb, st->wstmt[WSTMT_COMMIT]);
		if (rc < 0) {
			if (!sqlite3_get_autocommit(st->wdb))
				uigw_store_step_done(st->wdb, st->wstmt[WSTMT_ROLLBACK]);
			uigw_store_map_rolled_back(st);
			LOGP(DSTORE, st->failing_since_us ? LOGL_INFO : LOGL_ERROR,
			     "transaction of %u jobs failed and rolled back\n", n_jobs);
			st->wh_dirty = true;
			fail_batch(batch, -EIO);
			return -EIO;
		}
		return 0;
	}
}

void *uigw_store_writer_main(void *arg)
{
	struct uigw_store *st = arg;
	struct uigw_store_job *job;
	uint64_t one = 1;
	unsigned int i, n_failed;
	int64_t t0, t0_real, dt, mem, map_due, idle_ms;
	unsigned int waiting;

	pthread_setname_np(pthread_self(), "uigw-store");	/* for top -H, perf and gdb */
	pthread_mutex_lock(&st->lock);
	for (;;) {
		LLIST_HEAD(batch);
		unsigned int rows = 0, n_jobs = 0;

		while (!st->stop && llist_empty(&st->queue) && !st->release_mem) {
			struct timespec ts;
			int64_t due;
			bool map_now;

			/* an absolute deadline for pthread_cond_timedwait(): the real clock, not the one tests drive */
			clock_gettime(CLOCK_MONOTONIC, &ts);
			/* a purge with more due goes on in batches a second apart while nothing else is to do */
			due = -1;
			if (st->ckpt_dirty && st->cfg.checkpoint_interval_ms)
				due = st->cfg.checkpoint_interval_ms;
			map_due = st->failing_since_us ? -1 : uigw_store_map_due_ms(st);
			idle_ms = (uigw_real_mono_us() - st->last_batch_real_us) / 1000;
			/* idle for a while: what waits in the mapping's journal is merged now, then the cache goes back
			 * (the merge's index pages are the whole mapping; under load they stay, else every merge would
			 * read them from the disk again) */
			map_now = map_due > 0 && !st->map.retry_us && idle_ms >= IDLE_MERGE_MS;
			if (map_due == 0 || map_now) {
				/* a merge step while nothing else waits; the queue is looked at again after it */
				pthread_mutex_unlock(&st->lock);
				uigw_store_map_step(st, map_now);
				pthread_mutex_lock(&st->lock);
				continue;
			}
			if (map_due > 0 && (due < 0 || map_due < due))
				due = map_due;
			if (map_due > 0 && !st->map.retry_us && (due < 0 || IDLE_MERGE_MS - idle_ms < due))
				due = IDLE_MERGE_MS - idle_ms;
			if (!st->idle_released && !st->failing_since_us && !st->map.upto) {
				if (idle_ms >= IDLE_RELEASE_MS) {
					st->idle_released = true;
					st->release_mem = true;
					continue;
				}
				if (due < 0 || IDLE_RELEASE_MS - idle_ms < due)
					due = IDLE_RELEASE_MS - idle_ms;
			}
			if (st->purge_more)
				ts.tv_sec += 1;
			else if (due >= 0 && due < 60000)
				ts.tv_sec += due / 1000 + 1;
			else
				ts.tv_sec += 60;
			if (pthread_cond_timedwait(&st->wake, &st->lock, &ts) == ETIMEDOUT) {
				pthread_mutex_unlock(&st->lock);
				if (st->purge_more || uigw_wall_ms() - st->last_purge_ms >= PURGE_INTERVAL_MS)
					st->purge_more = uigw_store_purge(st);
				if (st->ckpt_dirty && st->cfg.checkpoint_interval_ms &&
				    uigw_real_mono_us() - st->ckpt_us >= (int64_t)st->cfg.checkpoint_interval_ms * 1000)
					uigw_store_checkpoint(st, false);	/* quiet now: the WAL restarts from its beginning */
				pthread_mutex_lock(&st->lock);
			}
		}
		if (st->release_mem) {
			/* the pages a burst left in the cache (cache_size) back to the heap, and the heap to the system */
			st->release_mem = false;
			pthread_mutex_unlock(&st->lock);
			sqlite3_db_release_memory(st->wdb);
			malloc_trim(0);
			mem = uigw_store_conn_mem(st->wdb);
			pthread_mutex_lock(&st->lock);
			st->mem_writer = mem;
			continue;
		}
		if (llist_empty(&st->queue)) {
			/* stop, and nothing left: the journal's mappings merged (else at the next open) */
			pthread_mutex_unlock(&st->lock);
			while (!st->failing_since_us && uigw_store_map_step(st, true))
				;
			pthread_mutex_lock(&st->lock);
			break;
		}
		wait_interval(st);

		/* take everything queued, up to batch_max_rows rows (at least one job) */
		while (!llist_empty(&st->queue)) {
			job = llist_first_entry(&st->queue, struct uigw_store_job, list);
			if (n_jobs && rows + job->n_rows > st->cfg.batch_max_rows)
				break;
			llist_del(&job->list);
			llist_add_tail(&job->list, &batch);
			rows += job->n_rows;
			n_jobs++;
		}
		st->n_queued -= n_jobs;
		st->rows_queued -= rows;
		st->n_in_flight = n_jobs;
		pthread_mutex_unlock(&st->lock);

		t0 = st->last_commit_us = uigw_mono_us();
		t0_real = st->last_batch_real_us = uigw_real_mono_us();
		st->idle_released = false;
		if (write_batch(st, &batch, n_jobs) < 0 && st->cfg.hold_s) {
			unsigned int rows_held, n_held = uigw_store_hold_batch(st, &batch, &rows_held);

			n_jobs -= n_held;
			rows -= rows_held;
		} else if (st->failing_since_us) {
			uigw_store_commit_worked(st);
		}
		if (!st->failing_since_us)
			uigw_store_checkpoint_if_due(st);
		if (st->wh_dirty)
			uigw_store_wh_load(st);
		dt = uigw_mono_us() - t0;
		if (!st->failing_since_us)
			uigw_store_delay_learn(st, n_jobs, uigw_real_mono_us() - t0_real);
		llist_for_each_entry(job, &batch, list) {
			for (i = 0; i < job->n_queries; i++) {
				struct uigw_store_query *q = &job->queries[i];

				uigw_store_run_query((unsigned int)q->query < _UIGW_Q_NUM ? st->wq[q->query] : NULL, q);
			}
		}
		/* one batch per table between group commits, at most one round a second while answers come: a long
		 * purge never holds them back for long, nor takes more than a few per cent of the writer */
		if (!st->failing_since_us && (st->purge_now ||
		    (st->purge_more && uigw_wall_ms() - st->last_purge_ms >= PURGE_BUSY_GAP_MS) ||
		    uigw_wall_ms() - st->last_purge_ms >= PURGE_INTERVAL_MS)) {
			st->purge_now = false;
			st->purge_more = uigw_store_purge(st);
		}

		n_failed = 0;
		llist_for_each_entry(job, &batch, list)
			n_failed += job->rc < 0;
		mem = uigw_store_conn_mem_batch(st->wdb, &st->mem_probe_writer);
		pthread_mutex_lock(&st->lock);
		st->mem_writer = mem;
		st->stats.commits += !st->failing_since_us;
		st->stats.jobs += n_jobs;
		st->stats.rows += rows;
		st->stats.failed_jobs += n_failed;
		st->stats.busy_us += dt;
		if (dt > st->stats.max_commit_us)
			st->stats.max_commit_us = dt;
		st->stats.last_rows = rows;
		st->stats.map_waiting = st->map.pending;
		llist_splice_init(&batch, st->done.prev);
		st->n_in_flight = 0;
		waiting = st->n_queued;
		pthread_cond_broadcast(&st->idle);
		pthread_mutex_unlock(&st->lock);
		if (n_jobs && write(st->efd.fd, &one, sizeof(one)) != sizeof(one))
			LOGP(DSTORE, LOGL_ERROR, "cannot signal the loop: errno %d\n", errno);
		/* one key range of the mapping journal's merge between group commits, once the loop has its answers,
		 * unless the jobs waiting come first */
		if (!st->failing_since_us) {
			if (uigw_store_map_yields(st, waiting))
				st->stats.map_yields++;
			else
				uigw_store_map_step(st, false);
		}
		pthread_mutex_lock(&st->lock);
		if (st->failing_since_us)
			uigw_store_backoff(st);
	}
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

