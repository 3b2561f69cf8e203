/*! \file store.c
 *  The feedback store: opening (PRAGMAs, schema), the writer thread with group commit, and the completion path
 *  back to the event loop.
 *
 *  Threads: the loop thread allocates a job, fills it and submits it onto st->queue (mutex, O(1)). The writer
 *  thread takes everything queued (up to batch_max_rows rows), writes it in one BEGIN IMMEDIATE ... COMMIT,
 *  runs the jobs' contextual queries, moves the jobs to st->done and signals an eventfd. The loop's osmo_fd
 *  callback then runs each job's completion. While one batch commits the next one accumulates: group commit
 *  with no artificial delay. The writer never calls talloc; it only reads rows and writes result fields.
 *
 *  Atomicity: the rows of one job are committed together or not at all. A row the database refuses (a
 *  constraint, a value out of range) fails its own job only: the batch is rolled back and rewritten without
 *  that job. Any other failure (I/O, disk full, lock timeout) fails every job of the batch. Either way each
 *  job gets its completion with rc set — never silently. */

#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <talloc.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/select.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/logging.h>
#include <osmocom/uigw/store.h>
#include "store_priv.h"

#define BUSY_TIMEOUT_MS		10000
#define CACHE_SIZE_KIB		65536		/* PRAGMA cache_size = -65536: 64 MiB */
#define PURGE_INTERVAL_MS	(3600 * 1000LL)


void uigw_store_cfg_defaults(struct uigw_store_cfg *cfg)
{
	*cfg = (struct uigw_store_cfg){
		.path = "osmo-uigw.db",
		.sync_full = true,
		.batch_max_rows = 8192,
		.queue_max_jobs = 100000,
		.spam_window = 86400,
		.retention_days = 90,
	};
}

/* ---------------------------------------------------------------------------------------------------------- */
/* statement helpers (both threads; each statement belongs to one connection, used by one thread) */

static int bind_index(sqlite3_stmt *stmt, const char *name)
{
	int idx = sqlite3_bind_parameter_index(stmt, name);

	if (idx <= 0)
		LOGP(DSTORE, LOGL_ERROR, "no parameter %s in: %s\n", name, sqlite3_sql(stmt));
	return idx;
}

int uigw_store_bind_text(sqlite3_stmt *stmt, const char *name, const char *text)
{
	int idx = bind_index(stmt, name);

	if (idx <= 0)
		return -EINVAL;
	/* SQLITE_STATIC: the strings live in the job (or are static) until its completion */
	if (sqlite3_bind_text(stmt, idx, text, -1, SQLITE_STATIC) != SQLITE_OK)
		return -EIO;
	return 0;
}

int uigw_store_bind_int64(sqlite3_stmt *stmt, const char *name, int64_t v)
{
	int idx = bind_index(stmt, name);

	if (idx <= 0)
		return -EINVAL;
	if (sqlite3_bind_int64(stmt, idx, v) != SQLITE_OK)
		return -EIO;
	return 0;
}

void uigw_store_stmt_done(sqlite3_stmt *stmt)
{
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Step a statement that returns no row. \returns 0, -EPROTO for a row the database refuses (constraint, type,
 * size), -EIO for anything else. Resets it either way. */
static int step_done(sqlite3 *db, sqlite3_stmt *stmt)
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

/* Bind if the statement has the parameter (optional) or log a programming error (required). */
static void wb_text_idx(struct wb *b, const char *name, const char *text, bool required)
{
	int idx = wb_index(b, name);

	if (idx <= 0) {
		if (required) {
			LOGP(DSTORE, LOGL_ERROR, "no parameter %s in: %s\n", name, sqlite3_sql(b->s));
			b->err = -EINVAL;
		}
		return;
	}
	/* SQLITE_STATIC: the strings live in the job (or are static) until its completion */
	if (sqlite3_bind_text(b->s, idx, text, -1, SQLITE_STATIC) != SQLITE_OK)
		b->err = -EIO;
}

static void wb_int_idx(struct wb *b, const char *name, int64_t v, bool required)
{
	int idx = wb_index(b, name);

	if (idx <= 0) {
		if (required) {
			LOGP(DSTORE, LOGL_ERROR, "no parameter %s in: %s\n", name, sqlite3_sql(b->s));
			b->err = -EINVAL;
		}
		return;
	}
	if (sqlite3_bind_int64(b->s, idx, v) != SQLITE_OK)
		b->err = -EIO;
}

static void wb_blob(struct wb *b, const char *name, const uint8_t *data, size_t len)
{
	int idx = wb_index(b, name);

	if (idx <= 0) {
		LOGP(DSTORE, LOGL_ERROR, "no parameter %s in: %s\n", name, sqlite3_sql(b->s));
		b->err = -EINVAL;
		return;
	}
	if (sqlite3_bind_blob(b->s, idx, data, (int)len, SQLITE_STATIC) != SQLITE_OK)
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

/* Step (no result row expected), reset, clear. \returns as step_done() */
static int wb_step(struct wb *b)
{
	if (b->err) {
		uigw_store_stmt_done(b->s);
		return -EIO;
	}
	return step_done(b->st->wdb, b->s);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* writing rows (writer thread) */

static int write_response(struct uigw_store *st, const struct uigw_store_row *r)
{
	struct wb b = wb_start(st, WSTMT_RESPONSE);

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
	return wb_step(&b);
}

static int write_dialog(struct uigw_store *st, const struct uigw_store_row *r)
{
	struct wb b = wb_start(st, WSTMT_DIALOG);

	wb_common(&b, r);
	wb_int(&b, "$id", (int64_t)r->dialog);
	wb_int(&b, "$version", r->version);
	wb_int(&b, "$started", r->u.dialog.started_ms);
	wb_int(&b, "$ended", r->time_ms);
	/* get_value_string() would use a static buffer for unknown values: not on this thread */
	wb_text(&b, "$outcome", get_value_string_or_null(uigw_outcome_names, r->u.dialog.outcome));
	wb_int(&b, "$steps", r->u.dialog.steps);
	wb_text(&b, "$last_node", r->u.dialog.last_node);
	return wb_step(&b);
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
	rc = wb_step(&b);
	if (rc < 0 || !counted)
		return rc;

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
		b = wb_start(st, WSTMT_OPTOUT);
		wb_common(&b, r);
		wb_int(&b, "$opted_out", r->u.optout.opt_out);
		break;
	case UIGW_ROW_SUBSCRIBER:
		if (!r->subscriber) {
			LOGP(DSTORE, LOGL_NOTICE, "subscriber mapping without a pseudonym skipped\n");
			return 0;
		}
		b = wb_start(st, WSTMT_SUBSCRIBER);
		wb_text(&b, "$pseudonym", r->subscriber);
		wb_text(&b, "$msisdn", r->u.subscriber.msisdn);
		wb_int(&b, "$time", r->time_ms);
		break;
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
	case UIGW_ROW_PUSH:
		if (!r->subscriber || !r->campaign || !r->u.push.result) {
			LOGP(DSTORE, LOGL_ERROR, "push row without subscriber, campaign or result refused\n");
			return -EPROTO;
		}
		b = wb_start(st, WSTMT_PUSH);
		wb_common(&b, r);
		wb_text(&b, "$result", r->u.push.result);
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

/* Write a batch in one transaction. A job with a refused row is failed alone and the batch rewritten without
 * it; any other error fails the whole batch. */
static void write_batch(struct uigw_store *st, struct llist_head *batch, unsigned int n_jobs)
{
	struct uigw_store_job *job;
	unsigned int i;
	int rc;

	llist_for_each_entry(job, batch, list)
		job->rc = 0;

	for (;;) {
		bool refused = false;

		mt_pairs_collect(st, batch);
		rc = step_done(st->wdb, st->wstmt[WSTMT_BEGIN]);
		if (rc < 0) {
			LOGP(DSTORE, LOGL_ERROR, "cannot begin a transaction: %u jobs failed\n", n_jobs);
			fail_batch(batch, -EIO);
			return;
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
			step_done(st->wdb, st->wstmt[WSTMT_ROLLBACK]);
			LOGP(DSTORE, LOGL_ERROR, "a job with a refused row failed; rewriting its batch\n");
			continue;
		}
		if (rc == 0)
			rc = step_done(st->wdb, st->wstmt[WSTMT_COMMIT]);
		if (rc < 0) {
			if (!sqlite3_get_autocommit(st->wdb))
				step_done(st->wdb, st->wstmt[WSTMT_ROLLBACK]);
			LOGP(DSTORE, LOGL_ERROR, "transaction failed and rolled back: %u jobs failed\n", n_jobs);
			fail_batch(batch, -EIO);
		}
		return;
	}
}

/* Delete subscriber_map rows past the retention period (writer thread, or open before the thread starts). */
static void purge(struct uigw_store *st)
{
	sqlite3_stmt *s = st->wstmt[WSTMT_PURGE];
	int64_t now = wall_ms();

	st->last_purge_ms = now;
	if (!st->cfg.retention_days)
		return;
	if (uigw_store_bind_int64(s, "$before", now - (int64_t)st->cfg.retention_days * 86400 * 1000) < 0) {
		uigw_store_stmt_done(s);
		return;
	}
	if (step_done(st->wdb, s) == 0 && sqlite3_changes(st->wdb))
		LOGP(DSTORE, LOGL_INFO, "purged %d subscriber mappings older than %u days\n", sqlite3_changes(st->wdb),
		     st->cfg.retention_days);
}

static void *writer_main(void *arg)
{
	struct uigw_store *st = arg;
	struct uigw_store_job *job;
	uint64_t one = 1;
	unsigned int i;

	pthread_setname_np(pthread_self(), "uigw-store");	/* for top -H, perf and gdb */
	pthread_mutex_lock(&st->lock);
	for (;;) {
		LLIST_HEAD(batch);
		unsigned int rows = 0, n_jobs = 0;

		while (!st->stop && llist_empty(&st->queue)) {
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += 60;
			if (pthread_cond_timedwait(&st->wake, &st->lock, &ts) == ETIMEDOUT &&
			    wall_ms() - st->last_purge_ms >= PURGE_INTERVAL_MS) {
				pthread_mutex_unlock(&st->lock);
				purge(st);
				pthread_mutex_lock(&st->lock);
			}
		}
		if (llist_empty(&st->queue))
			break;	/* stop, and nothing left */

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
		st->n_in_flight = n_jobs;
		pthread_mutex_unlock(&st->lock);

		write_batch(st, &batch, n_jobs);
		llist_for_each_entry(job, &batch, list) {
			for (i = 0; i < job->n_queries; i++) {
				struct uigw_store_query *q = &job->queries[i];

				uigw_store_run_query((unsigned int)q->query < _UIGW_Q_NUM ? st->wq[q->query] : NULL, q);
			}
		}
		if (wall_ms() - st->last_purge_ms >= PURGE_INTERVAL_MS)
			purge(st);

		pthread_mutex_lock(&st->lock);
		llist_splice_init(&batch, st->done.prev);
		st->n_in_flight = 0;
		pthread_cond_broadcast(&st->idle);
		pthread_mutex_unlock(&st->lock);
		if (write(st->efd.fd, &one, sizeof(one)) != sizeof(one))
			LOGP(DSTORE, LOGL_ERROR, "cannot signal the loop: errno %d\n", errno);
		pthread_mutex_lock(&st->lock);
	}
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* completions (loop thread) */

static void run_completions(struct uigw_store *st)
{
	struct uigw_store_job *job;
	LLIST_HEAD(list);

	pthread_mutex_lock(&st->lock);
	llist_splice_init(&st->done, &list);
	pthread_mutex_unlock(&st->lock);

	while (!llist_empty(&list)) {
		job = llist_first_entry(&list, struct uigw_store_job, list);
		llist_del(&job->list);
		INIT_LLIST_HEAD(&job->list);
		st->depth--;
		if (job->done)
			job->done(job, job->data);
		else
			talloc_free(job);
	}
}

static int efd_cb(struct osmo_fd *ofd, unsigned int what)
{
	struct uigw_store *st = ofd->data;
	uint64_t n;

	/* non-blocking: a drain may already have consumed the completions */
	if (read(ofd->fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		LOGP(DSTORE, LOGL_ERROR, "eventfd read: %s\n", strerror(errno));
	run_completions(st);
	return 0;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* jobs (loop thread) */

struct uigw_store_job *uigw_store_job_alloc(struct uigw_store *st, uigw_store_done_cb done, void *data)
{
	struct uigw_store_job *job;

	if (!st)
		return NULL;
	job = talloc_zero(st, struct uigw_store_job);
	if (!job)
		return NULL;
	INIT_LLIST_HEAD(&job->list);
	job->st = st;
	job->done = done;
	job->data = data;
	return job;
}

/* Room for one more element of a talloc array under job that starts at 4 and doubles. \returns 0 or -ENOMEM */
static int job_array_grow(struct uigw_store_job *job, void **array, unsigned int n, unsigned int *max, size_t size)
{
	unsigned int m;
	void *a;

	if (n < *max)
		return 0;
	m = *max ? *max * 2 : 4;
	a = talloc_realloc_size(job, *array, m * size);
	if (!a)
		return -ENOMEM;
	*array = a;
	*max = m;
	return 0;
}

struct uigw_store_row *uigw_store_job_row(struct uigw_store_job *job, enum uigw_row_kind kind)
{
	struct uigw_store_row *r;

	if (!job || job_array_grow(job, (void **)&job->rows, job->n_rows, &job->max_rows, sizeof(*r)) < 0)
		return NULL;
	r = &job->rows[job->n_rows++];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	return r;
}

struct uigw_store_query *uigw_store_job_query(struct uigw_store_job *job, enum uigw_query q,
					      const char *campaign, const char *arg)
{
	struct uigw_store_query *qr;

	if (!job || (unsigned int)q >= _UIGW_Q_NUM ||
	    job_array_grow(job, (void **)&job->queries, job->n_queries, &job->max_queries, sizeof(*qr)) < 0)
		return NULL;
	qr = &job->queries[job->n_queries++];
	memset(qr, 0, sizeof(*qr));
	qr->query = q;
	qr->campaign = campaign;
	qr->arg = arg;
	return qr;
}

int uigw_store_submit(struct uigw_store_job *job)
{
	struct uigw_store *st;

	if (!job || !job->st)
		return -EINVAL;
	st = job->st;
	pthread_mutex_lock(&st->lock);
	if (st->stop) {
		pthread_mutex_unlock(&st->lock);
		return -ESHUTDOWN;
	}
	if (st->n_queued >= st->cfg.queue_max_jobs) {
		pthread_mutex_unlock(&st->lock);
		return -EBUSY;
	}
	job->rc = 0;
	llist_add_tail(&job->list, &st->queue);
	st->n_queued++;
	pthread_cond_signal(&st->wake);
	pthread_mutex_unlock(&st->lock);
	st->depth++;
	return 0;
}

void uigw_store_drain(struct uigw_store *st)
{
	if (!st)
		return;
	pthread_mutex_lock(&st->lock);
	while (st->thread_running && (!llist_empty(&st->queue) || st->n_in_flight))
		pthread_cond_wait(&st->idle, &st->lock);
	pthread_mutex_unlock(&st->lock);
	run_completions(st);
}

unsigned int uigw_store_queue_depth(const struct uigw_store *st)
{
	return st ? st->depth : 0;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* open / close */

/* Run a PRAGMA and copy the first column of its first row (if any) into out. */
static int pragma(sqlite3 *db, const char *sql, char *out, size_t out_len)
{
	sqlite3_stmt *s;
	int rc;

	if (out_len)
		out[0] = '\0';
	rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK) {
		LOGP(DSTORE, LOGL_ERROR, "%s: %s\n", sql, sqlite3_errmsg(db));
		return -EIO;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && out_len && sqlite3_column_text(s, 0))
		osmo_strlcpy(out, (const char *)sqlite3_column_text(s, 0), out_len);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		LOGP(DSTORE, LOGL_ERROR, "%s: %s\n", sql, sqlite3_errmsg(db));
		return -EIO;
	}
	return 0;
}

/* Run a PRAGMA assignment, then read it back and compare (a misspelt PRAGMA is silently ignored by SQLite). */
static int pragma_check(sqlite3 *db, const char *set, const char *get, const char *want)
{
	char val[32];

	if (pragma(db, set, val, sizeof(val)) < 0 || pragma(db, get, val, sizeof(val)) < 0)
		return -EIO;
	if (strcasecmp(val, want)) {
		LOGP(DSTORE, LOGL_ERROR, "%s did not take effect: %s is '%s', not '%s'\n", set, get, val, want);
		return -EIO;
	}
	return 0;
}

static int open_conn(struct uigw_store *st, sqlite3 **db, int flags)
{
	int rc = sqlite3_open_v2(st->cfg.path, db, flags | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc != SQLITE_OK) {
		LOGP(DSTORE, LOGL_ERROR, "cannot open %s: %s\n", st->cfg.path, *db ? sqlite3_errmsg(*db) :
		     sqlite3_errstr(rc));
		return -EIO;
	}
	sqlite3_extended_result_codes(*db, 1);
	sqlite3_busy_timeout(*db, BUSY_TIMEOUT_MS);
	if (uigw_store_sql_functions(*db) != SQLITE_OK) {
		LOGP(DSTORE, LOGL_ERROR, "cannot register SQL functions: %s\n", sqlite3_errmsg(*db));
		return -EIO;
	}
	return 0;
}

static int prepare_all(sqlite3 *db, const char *const *sql, sqlite3_stmt **stmts, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &stmts[i], NULL) != SQLITE_OK) {
			LOGP(DSTORE, LOGL_ERROR, "cannot prepare (%s): %s\n", sqlite3_errmsg(db), sql[i]);
			return -EIO;
		}
	}
	return 0;
}

static void finalize_all(sqlite3_stmt **stmts, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		sqlite3_finalize(stmts[i]);
		stmts[i] = NULL;
	}
}

/* Open the write connection: PRAGMAs (each checked), schema, statements. */
static int open_writer(struct uigw_store *st)
{
	char val[32];
	int version;

	if (open_conn(st, &st->wdb, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) < 0)
		return -EIO;
	/* refuse a newer schema before anything changes the file */
	if (pragma(st->wdb, "PRAGMA user_version", val, sizeof(val)) < 0)
		return -EIO;
	version = atoi(val);
	if (version > UIGW_SCHEMA_VERSION) {
		LOGP(DSTORE, LOGL_ERROR, "%s has schema version %d, newer than this program's %d: refusing it\n",
		     st->cfg.path, version, UIGW_SCHEMA_VERSION);
		return -EPROTO;
	}
	if (pragma_check(st->wdb, "PRAGMA journal_mode = WAL", "PRAGMA journal_mode", "wal") < 0 ||
	    pragma_check(st->wdb, st->cfg.sync_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
			 "PRAGMA synchronous", st->cfg.sync_full ? "2" : "1") < 0 ||
	    pragma_check(st->wdb, "PRAGMA foreign_keys = OFF", "PRAGMA foreign_keys", "0") < 0 ||
	    pragma_check(st->wdb, "PRAGMA temp_store = MEMORY", "PRAGMA temp_store", "2") < 0 ||
	    pragma_check(st->wdb, "PRAGMA cache_size = -" OSMO_STRINGIFY_VAL(CACHE_SIZE_KIB), "PRAGMA cache_size",
			 "-" OSMO_STRINGIFY_VAL(CACHE_SIZE_KIB)) < 0)
		return -EIO;
	if (version < UIGW_SCHEMA_VERSION) {
		LOGP(DSTORE, LOGL_NOTICE, "%s: schema version %d, upgrading to %d\n", st->cfg.path, version,
		     UIGW_SCHEMA_VERSION);
		if (uigw_store_schema_upgrade(st->wdb, version, UIGW_SCHEMA_VERSION) < 0)
			return -EIO;
	}
	if (prepare_all(st->wdb, uigw_store_wstmt_sql, st->wstmt, _WSTMT_NUM) < 0 ||
	    prepare_all(st->wdb, uigw_store_query_sql, st->wq, _UIGW_Q_NUM) < 0)
		return -EIO;
	return 0;
}

/* Release everything; safe on a partly opened store. The writer thread must not run. */
static void store_free(struct uigw_store *st)
{
	if (st->efd.fd >= 0) {
		if (osmo_fd_is_registered(&st->efd))
			osmo_fd_unregister(&st->efd);
		close(st->efd.fd);
		st->efd.fd = -1;
	}
	uigw_store_read_finalize(st);
	finalize_all(st->wstmt, _WSTMT_NUM);
	finalize_all(st->wq, _UIGW_Q_NUM);
	free(st->mt_done);
	if (st->rdb)
		sqlite3_close(st->rdb);
	if (st->wdb)
		sqlite3_close(st->wdb);
	pthread_cond_destroy(&st->wake);
	pthread_cond_destroy(&st->idle);
	pthread_mutex_destroy(&st->lock);
	talloc_free(st);
}

struct uigw_store *uigw_store_open(void *ctx, const struct uigw_store_cfg *cfg)
{
	struct uigw_store *st;
	pthread_condattr_t ca;
	int fd;

	st = talloc_zero(ctx, struct uigw_store);
	if (!st)
		return NULL;
	st->cfg = *cfg;
	st->cfg.path = talloc_strdup(st, cfg->path && cfg->path[0] ? cfg->path : "osmo-uigw.db");
	if (!st->cfg.batch_max_rows)
		st->cfg.batch_max_rows = 1;
	st->efd.fd = -1;
	INIT_LLIST_HEAD(&st->queue);
	INIT_LLIST_HEAD(&st->done);
	pthread_mutex_init(&st->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&st->wake, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&st->idle, NULL);
	if (!st->cfg.path)
		goto fail;

	if (open_writer(st) < 0)
		goto fail;
	purge(st);

	/* the loop's read connection: WAL readers are never blocked by the writer */
	if (open_conn(st, &st->rdb, SQLITE_OPEN_READONLY) < 0 || uigw_store_read_prepare(st) < 0)
		goto fail;

	fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fd < 0) {
		LOGP(DSTORE, LOGL_ERROR, "eventfd: %s\n", strerror(errno));
		goto fail;
	}
	osmo_fd_setup(&st->efd, fd, OSMO_FD_READ, efd_cb, st, 0);
	if (osmo_fd_register(&st->efd) < 0)
		goto fail;

	if (pthread_create(&st->thread, NULL, writer_main, st)) {
		LOGP(DSTORE, LOGL_ERROR, "cannot start the writer thread\n");
		goto fail;
	}
	st->thread_running = true;
	LOGP(DSTORE, LOGL_NOTICE, "store %s open (WAL, synchronous=%s, schema %d)\n", st->cfg.path,
	     st->cfg.sync_full ? "FULL" : "NORMAL", UIGW_SCHEMA_VERSION);
	return st;

fail:
	LOGP(DSTORE, LOGL_ERROR, "cannot open the store %s\n", cfg->path ? cfg->path : "");
	store_free(st);
	return NULL;
}

void uigw_store_close(struct uigw_store *st)
{
	if (!st)
		return;
	/* completions may submit follow-up jobs: drain until nothing is left */
	while (st->depth)
		uigw_store_drain(st);
	pthread_mutex_lock(&st->lock);
	st->stop = true;
	pthread_cond_signal(&st->wake);
	pthread_mutex_unlock(&st->lock);
	if (st->thread_running) {
		pthread_join(st->thread, NULL);
		st->thread_running = false;
	}
	run_completions(st);
	store_free(st);
}
