/*! \file store_cdr_db.c
 *  The charging records' own database and thread.
 *
 *  One record per dialog is one more row per dialog, and the writer of the answers is what bounds the dialog
 *  rate: in the same transaction the records took 9-10 % of its time (contrib/bench/engine, phase c). So they
 *  live in a database file of their own beside the main one (PATH.db -> PATH-cdr.db), written by a thread of
 *  their own with its own group commit, and the CSV files for the mediation are made there after each commit
 *  (store_cdr.c). SQLite takes one writer per file: two files, two writers, in parallel.
 *
 *  The loop thread puts the records into a log job of their own (uigw_store_log_row), submitted here; so are the
 *  charging parts of an erasure (the pseudonym and the number: records may name either) and of a purge asked
 *  for. Completions go through the store's, so a drain and the store's depth cover these jobs too. A commit that
 *  fails (a full disk) keeps its jobs and is tried again every second; the dialogs are not held up by it, and
 *  records that never make it are made from the dialog rows at the next start (store_cdr.c, recovered = 1).
 *
 *  The loop's read connection attaches this file as "charging": the charging records are read, exported and
 *  shown with the same SQL as before (table cdr). The main writer's connection does not attach it: its BEGIN
 *  IMMEDIATE would take this file's write lock with every batch.
 *
 *  Schema version 9 of the main database renamed its cdr tables to cdr_v8 / cdr_export_v8; their rows are taken
 *  over here at open (idempotent) before the main database drops them. */

#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/store/store.h>
#include "store_priv.h"

#define CDR_SCHEMA_VERSION	1
#define BUSY_TIMEOUT_MS		5000
#define CACHE_KIB		8192
#define RETRY_MS		1000	/* a failed commit is tried again after this */
/* a commit (and its fdatasync) at most this often: the records are no hurry, and each sync of this file delays
 * the main database's on the same disk (at 50 commits/s the records cost the engine 13-24 %, at 5/s 2-3 %) */
#define COMMIT_INTERVAL_MS	200
#define CLOSE_TRIES		3	/* ... and, while the store closes, given up after this many */
#define PURGE_INTERVAL_MS	(3600 * 1000LL)
#define PURGE_BUSY_GAP_MS	1000

static const char *const cdr_schema_v1[] = {
	/* the tables of schema 8 of the main database, unchanged (the same column order: taken over as they are) */
	UIGW_STORE_CDR_TABLES_SQL,
	NULL
};

static const char cdr_insert_sql[] =
	"INSERT INTO cdr (id, dialog, started, ended, channel, campaign, tenant, subscriber, roaming, visited, screens,"
	" mt_messages, outcome, refusal, charge_class, zero_rated, test)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)";
/* records name the subscriber by pseudonym, or by number (cdr-subscriber msisdn) */
static const char cdr_erase_sql[] = "DELETE FROM cdr WHERE subscriber = ?1 OR subscriber = ?2";
/* no index on ended: the oldest records by id (ids follow the commits), those of them past it */
static const char cdr_purge_sql[] =
	"DELETE FROM cdr WHERE id IN (SELECT id FROM cdr ORDER BY id LIMIT " OSMO_STRINGIFY_VAL(UIGW_STORE_PURGE_BATCH)
	") AND ended < ?1";

/* ---------------------------------------------------------------------------------------------------------- */
/* opening */

/* PATH.db -> PATH-cdr.db, anything else -> PATH-cdr */
static char *cdr_db_path(void *ctx, const char *path)
{
	size_t n = strlen(path);

	if (n > 3 && !strcmp(path + n - 3, ".db"))
		return talloc_asprintf(ctx, "%.*s-cdr.db", (int)(n - 3), path);
	return talloc_asprintf(ctx, "%s-cdr", path);
}

static int exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		LOGP(DSTORE, LOGL_ERROR, "charging database: %s: %s\n", err ? err : sqlite3_errmsg(db), sql);
		sqlite3_free(err);
		return -EIO;
	}
	return 0;
}

int64_t uigw_store_query_int(sqlite3 *db, int64_t dflt, const char *sql)
{
	sqlite3_stmt *s;
	int64_t v = dflt;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return dflt;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* PRAGMA journal_mode = WAL, and did it take? */
static bool journal_wal(sqlite3 *db)
{
	sqlite3_stmt *s;
	bool wal = false;

	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &s, NULL) != SQLITE_OK)
		return false;
	if (sqlite3_step(s) == SQLITE_ROW)
		wal = !strcmp((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	return wal;
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **s)
{
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, s, NULL) != SQLITE_OK) {
		LOGP(DSTORE, LOGL_ERROR, "charging database: cannot prepare (%s): %s\n", sqlite3_errmsg(db), sql);
		return -EIO;
	}
	return 0;
}

static int schema(struct uigw_store *st)
{
	sqlite3 *db = st->cdr.db;
	int64_t version = uigw_store_query_int(db, -1, "PRAGMA user_version");
	const char *const *sql;
	char pragma[64];

	if (version < 0)
		return -EIO;
	if (version > CDR_SCHEMA_VERSION) {
		LOGP(DSTORE, LOGL_ERROR, "%s has schema version %" PRId64 ", newer than this program's %d: refusing it\n",
		     st->cdr.db_path, version, CDR_SCHEMA_VERSION);
		return -EPROTO;
	}
	if (version == CDR_SCHEMA_VERSION)
		return 0;
	if (exec(db, "BEGIN IMMEDIATE") < 0)
		return -EIO;
	for (sql = cdr_schema_v1; *sql; sql++) {
		if (exec(db, *sql) < 0)
			goto rollback;
	}
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", CDR_SCHEMA_VERSION);
	if (exec(db, pragma) < 0 || exec(db, "COMMIT") < 0)
		goto rollback;
	LOGP(DSTORE, LOGL_NOTICE, "charging database %s created\n", st->cdr.db_path);
	return 0;

rollback:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -EIO;
}

/* The records schema 8 kept in the main database (renamed by its step 9), taken over once. */
static int take_over_v8(struct uigw_store *st)
{
	sqlite3 *db = st->cdr.db;
	int n;

	if (uigw_store_query_int(db, 0, "SELECT count(*) FROM gw.sqlite_master WHERE type = 'table'"
				 " AND name = 'cdr_v8'") <= 0)
		return 0;
	if (exec(db, "BEGIN IMMEDIATE") < 0)
		return -EIO;
	if (exec(db, "INSERT OR IGNORE INTO cdr SELECT * FROM gw.cdr_v8") < 0)
		goto rollback;
	n = sqlite3_changes(db);
	if (exec(db, "UPDATE cdr_export SET last_id = max(last_id, coalesce((SELECT last_id FROM gw.cdr_export_v8"
		 " WHERE id = 1), 0)) WHERE id = 1") < 0 || exec(db, "COMMIT") < 0)
		goto rollback;
	LOGP(DSTORE, LOGL_NOTICE, "%d charging records moved from %s to %s\n", n, st->cfg.path, st->cdr.db_path);
	return 1;

rollback:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -EIO;
}

static int attach(sqlite3 *db, const char *path, const char *name)
{
	sqlite3_stmt *s;
	char sql[64];
	int rc;

	snprintf(sql, sizeof(sql), "ATTACH DATABASE ?1 AS %s", name);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		LOGP(DSTORE, LOGL_ERROR, "cannot attach %s: %s\n", path, sqlite3_errmsg(db));
		return -EIO;
	}
	return 0;
}

int uigw_store_cdr_open(struct uigw_store *st)
{
	struct uigw_store_cdr *c = &st->cdr;
	char sync[48], jl[64];
	int rc;

	c->db_path = cdr_db_path(st, st->cfg.path);
	if (!c->db_path)
		return -ENOMEM;
	rc = sqlite3_open_v2(c->db_path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		LOGP(DSTORE, LOGL_ERROR, "cannot open %s: %s\n", c->db_path, c->db ? sqlite3_errmsg(c->db) :
		     sqlite3_errstr(rc));
		return -EIO;
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
	snprintf(sync, sizeof(sync), "PRAGMA synchronous = %s", st->cfg.sync_full ? "FULL" : "NORMAL");
	snprintf(jl, sizeof(jl), "PRAGMA journal_size_limit = %llu", st->cfg.wal_max_mb * 1048576ULL);
	if (!journal_wal(c->db)) {
		LOGP(DSTORE, LOGL_ERROR, "%s: cannot use the WAL\n", c->db_path);
		return -EIO;
	}
	if (exec(c->db, sync) < 0 || exec(c->db, jl) < 0 ||
	    exec(c->db, "PRAGMA cache_size = -" OSMO_STRINGIFY_VAL(CACHE_KIB)) < 0)
		return -EIO;
	rc = schema(st);
	if (rc < 0)
		return rc;
	if (prepare(c->db, cdr_insert_sql, &c->ins) < 0 || prepare(c->db, cdr_erase_sql, &c->erase) < 0 ||
	    prepare(c->db, "UPDATE cdr_export SET last_id = $id WHERE id = 1", &c->cursor_upd) < 0 ||
	    prepare(c->db, "BEGIN IMMEDIATE", &c->begin) < 0 || prepare(c->db, "COMMIT", &c->commit) < 0 ||
	    prepare(c->db, "ROLLBACK", &c->rollback) < 0)
		return -EIO;
	/* the main database, for the records of schema 8 and the recovery from dialog rows; detached before the
	 * thread runs (it writes this file only) */
	if (attach(c->db, st->cfg.path, "gw") < 0)
		return -EIO;
	rc = take_over_v8(st);
	if (rc >= 0)
		rc = uigw_store_cdr_files_open(st);
	exec(c->db, "DETACH DATABASE gw");
	return rc < 0 ? rc : 0;
}

void uigw_store_cdr_close(struct uigw_store *st)
{
	struct uigw_store_cdr *c = &st->cdr;

	if (!c->db)
		return;
	if (c->cursor_upd)
		uigw_store_cdr_files_close(st);
	sqlite3_finalize(c->ins);
	sqlite3_finalize(c->erase);
	sqlite3_finalize(c->cursor_upd);
	sqlite3_finalize(c->begin);
	sqlite3_finalize(c->commit);
	sqlite3_finalize(c->rollback);
	c->ins = c->erase = c->cursor_upd = c->begin = c->commit = c->rollback = NULL;
	sqlite3_close(c->db);
	c->db = NULL;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* the charging thread */

static void bind_text(sqlite3_stmt *s, int i, const char *t)
{
	/* SQLITE_STATIC: the strings live in the job until its completion */
	if (t)
		sqlite3_bind_text(s, i, t, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

static int insert(struct uigw_store *st, const struct uigw_store_row *r, int64_t id)
{
	sqlite3_stmt *s = st->cdr.ins;

	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, (int64_t)r->dialog);
	sqlite3_bind_int64(s, 3, r->u.cdr.started_ms);
	sqlite3_bind_int64(s, 4, r->time_ms);
	bind_text(s, 5, r->channel);
	bind_text(s, 6, r->campaign);
	bind_text(s, 7, r->owner);
	bind_text(s, 8, r->subscriber);
	sqlite3_bind_int(s, 9, r->u.cdr.roaming);
	bind_text(s, 10, r->u.cdr.visited);
	sqlite3_bind_int(s, 11, r->u.cdr.screens);
	sqlite3_bind_int(s, 12, r->u.cdr.mt_messages);
	/* get_value_string() would use a static buffer for unknown values: not on this thread */
	bind_text(s, 13, get_value_string_or_null(uigw_outcome_names, r->u.cdr.outcome));
	bind_text(s, 14, r->u.cdr.refusal);
	bind_text(s, 15, r->u.cdr.charge_class);
	sqlite3_bind_int(s, 16, r->u.cdr.zero_rated);
	sqlite3_bind_int(s, 17, r->u.cdr.test);
	return uigw_store_step_done(st->cdr.db, s);
}

static int erase(struct uigw_store *st, const struct uigw_store_row *r)
{
	sqlite3_stmt *s = st->cdr.erase;
	int rc;

	if (!r->subscriber)
		return 0;
	bind_text(s, 1, r->subscriber);
	bind_text(s, 2, r->u.subscriber.msisdn ? r->u.subscriber.msisdn : r->subscriber);
	rc = uigw_store_step_done(st->cdr.db, s);
	if (rc == 0)
		LOGP(DSTORE, LOGL_NOTICE, "subscriber %s erased: %d charging records\n", r->subscriber,
		     sqlite3_changes(st->cdr.db));
	return rc;
}

/* The batch in one transaction. A record the database refuses is logged and left out (it is made again from
 * the dialog row at the next start). \returns 0, or -EIO when the transaction failed (the jobs are tried again) */
static int write_batch(struct uigw_store *st, struct llist_head *batch)
{
	struct uigw_store_cdr *c = &st->cdr;
	struct uigw_store_job *job;
	int64_t cursor;
	bool cursor_kept;
	unsigned int i;
	int rc;

	uigw_store_cdr_begin(st);
	if (uigw_store_step_done(st->cdr.db, c->begin) < 0)
		return -EIO;
	llist_for_each_entry(job, batch, list) {
		for (i = 0; i < job->n_rows; i++) {
			const struct uigw_store_row *r = &job->rows[i];

			switch (r->kind) {
			case UIGW_ROW_CDR:
				rc = insert(st, r, c->next_id);
				if (rc == 0)
					uigw_store_cdr_inserted(st, r, c->next_id++);
				break;
			case UIGW_ROW_ERASE:
				rc = erase(st, r);
				break;
			case UIGW_ROW_PURGE:
				c->purge_now = true;
				rc = 0;
				break;
			default:
				LOGP(DSTORE, LOGL_ERROR, "charging database: a row of kind %d is not its own\n", r->kind);
				rc = 0;
			}
			if (rc == -EIO)
				goto fail;
		}
	}
	cursor = c->exported;
	rc = uigw_store_cdr_save_cursor(st);
	if (rc < 0)
		goto fail;
	cursor_kept = rc > 0;
	if (uigw_store_step_done(st->cdr.db, c->commit) < 0)
		goto fail;
	/* only a cursor this transaction wrote is the database's now */
	if (cursor_kept)
		c->saved = cursor;
	c->committed_next = c->next_id;
	return 0;

fail:
	if (!sqlite3_get_autocommit(c->db))
		uigw_store_step_done(st->cdr.db, c->rollback);
	uigw_store_cdr_begin(st);	/* its records are not in the table: no lines, their numbers given back */
	return -EIO;
}

/* One batch of records past their retention period. \returns true if more are due */
static bool purge(struct uigw_store *st)
{
	struct uigw_store_cdr *c = &st->cdr;
	unsigned int days = st->cfg.retention[UIGW_RET_CDRS];
	int64_t now = uigw_wall_ms();
	sqlite3_stmt *s;
	int n;

	c->last_purge_ms = now;
	c->purge_now = false;
	if (!days)
		return false;
	if (sqlite3_prepare_v2(c->db, cdr_purge_sql, -1, &s, NULL) != SQLITE_OK) {
		LOGP(DSTORE, LOGL_ERROR, "charging database: %s: %s\n", sqlite3_errmsg(c->db), cdr_purge_sql);
		return false;
	}
	sqlite3_bind_int64(s, 1, now - (int64_t)days * 86400000LL);
	if (sqlite3_step(s) != SQLITE_DONE) {
		LOGP(DSTORE, LOGL_ERROR, "purge of cdrs failed: %s\n", sqlite3_errmsg(c->db));
		sqlite3_finalize(s);
		return true;
	}
	sqlite3_finalize(s);
	n = sqlite3_changes(c->db);
	if (n) {
		LOGP(DSTORE, LOGL_INFO, "purged %d rows of cdrs older than %u days\n", n, days);
		pthread_mutex_lock(&st->lock);
		st->stats.purged += n;
		pthread_mutex_unlock(&st->lock);
	}
	return n >= UIGW_STORE_PURGE_BATCH;
}

/* Between batches (and when idle): a purge that is due, a file whose interval is over, a failed append again. */
static void housekeeping(struct uigw_store *st, bool busy)
{
	struct uigw_store_cdr *c = &st->cdr;
	int64_t since = uigw_wall_ms() - c->last_purge_ms;

	if (c->purge_now || (c->purge_more && (!busy || since >= PURGE_BUSY_GAP_MS)) || since >= PURGE_INTERVAL_MS)
		c->purge_more = purge(st);
	if (c->written || uigw_store_cdr_due_ms(st) == 0 || c->file_failing)
		uigw_store_cdr_export(st);
}

static void timeout_in(struct timespec *ts, int64_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

static void *cdr_main(void *arg)
{
	struct uigw_store *st = arg;
	struct uigw_store_cdr *c = &st->cdr;
	struct uigw_store_job *job;
	unsigned int tries = 0;
	uint64_t one = 1;
	int64_t mem;

	uigw_store_cdr_thread_init();
	pthread_mutex_lock(&st->lock);
	for (;;) {
		LLIST_HEAD(batch);
		struct timespec ts;
		unsigned int n;
		int64_t due;
		int rc;

		if (c->release_mem) {
			c->release_mem = false;
			pthread_mutex_unlock(&st->lock);
			sqlite3_db_release_memory(c->db);
			mem = uigw_store_conn_mem(c->db);
			pthread_mutex_lock(&st->lock);
			st->mem_cdr = mem;
			continue;
		}
		if (llist_empty(&c->queue)) {
			if (c->stop)
				break;
			due = uigw_store_cdr_due_ms(st);
			if (c->purge_more || c->file_failing)
				due = 1000;
			else if (due < 0 || due > 60000)
				due = 60000;
			timeout_in(&ts, due + 1);
			if (pthread_cond_timedwait(&c->wake, &st->lock, &ts) == ETIMEDOUT) {
				pthread_mutex_unlock(&st->lock);
				housekeeping(st, false);
				pthread_mutex_lock(&st->lock);
			}
			continue;
		}
		/* no sooner than COMMIT_INTERVAL_MS after the last one began while the main writer has work; at once when
		 * it is idle, or a drain or the stop waits */
		due = c->last_commit_us + COMMIT_INTERVAL_MS * 1000 - uigw_mono_us();
		if (due > 0 && !c->stop && !st->n_flush && !c->release_mem &&
		    (!llist_empty(&st->queue) || st->n_in_flight)) {
			timeout_in(&ts, (due + 999) / 1000);
			pthread_cond_timedwait(&c->wake, &st->lock, &ts);
			continue;
		}
		c->last_commit_us = uigw_mono_us();
		/* everything queued: one transaction, one sync */
		llist_splice_init(&c->queue, &batch);
		n = c->n_queued;
		c->n_queued = 0;
		c->n_in_flight = n;
		pthread_mutex_unlock(&st->lock);

		rc = write_batch(st, &batch);
		pthread_mutex_lock(&st->lock);
		if (rc < 0 && !(st->closing && ++tries >= CLOSE_TRIES)) {
			/* back to the head of the queue, tried again in a second: a full disk may be freed */
			if (!c->failing)
				LOGP(DSTORE, LOGL_ERROR, "charging records not written (%s): tried again every second\n",
				     c->db_path);
			c->failing = true;
			llist_splice_init(&batch, &c->queue);
			c->n_queued += n;
			c->n_in_flight = 0;
			pthread_cond_broadcast(&st->idle);
			timeout_in(&ts, RETRY_MS);
			while (!c->stop && !c->release_mem &&
			       pthread_cond_timedwait(&c->wake, &st->lock, &ts) != ETIMEDOUT)
				;
			continue;
		}
		if (rc < 0) {
			LOGP(DSTORE, LOGL_ERROR, "charging records of %u jobs given up at the stop: made from the dialog "
			     "rows at the next start\n", n);
			llist_for_each_entry(job, &batch, list)
				job->rc = -EIO;
		} else if (c->failing) {
			LOGP(DSTORE, LOGL_NOTICE, "charging records written again\n");
		}
		c->failing = false;
		tries = 0;
		pthread_mutex_unlock(&st->lock);

		if (rc == 0)
			housekeeping(st, true);

		mem = uigw_store_conn_mem_batch(c->db, &st->mem_probe_cdr);
		pthread_mutex_lock(&st->lock);
		st->mem_cdr = mem;
		llist_splice_init(&batch, st->done.prev);
		c->n_in_flight = 0;
		pthread_cond_broadcast(&st->idle);
		pthread_mutex_unlock(&st->lock);
		if (write(st->efd.fd, &one, sizeof(one)) != sizeof(one))
			LOGP(DSTORE, LOGL_ERROR, "cannot signal the loop: errno %d\n", errno);
		pthread_mutex_lock(&st->lock);
	}
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

int uigw_store_cdr_start(struct uigw_store *st)
{
	if (pthread_create(&st->cdr.thread, NULL, cdr_main, st)) {
		LOGP(DSTORE, LOGL_ERROR, "cannot start the charging thread\n");
		return -EIO;
	}
	st->cdr.thread_running = true;
	return 0;
}

void uigw_store_cdr_stop(struct uigw_store *st)
{
	struct uigw_store_cdr *c = &st->cdr;

	if (!c->thread_running)
		return;
	pthread_mutex_lock(&st->lock);
	c->stop = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&st->lock);
	pthread_join(c->thread, NULL);
	c->thread_running = false;
}

int uigw_store_cdr_submit(struct uigw_store_job *job)
{
	struct uigw_store *st;
	struct uigw_store_cdr *c;

	if (!job || !job->st)
		return -EINVAL;
	st = job->st;
	c = &st->cdr;
	if (!c->thread_running)
		return -ESHUTDOWN;
	pthread_mutex_lock(&st->lock);
	if (c->stop) {
		pthread_mutex_unlock(&st->lock);
		return -ESHUTDOWN;
	}
	if (c->n_queued >= st->cfg.queue_max_jobs) {
		pthread_mutex_unlock(&st->lock);
		return -EBUSY;
	}
	job->rc = 0;
	llist_add_tail(&job->list, &c->queue);
	c->n_queued++;
	if (!c->failing)
		pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&st->lock);
	if (!st->depth)
		st->pending_since_us = uigw_real_mono_us();
	st->depth++;
	return 0;
}

bool uigw_store_cdr_busy(const struct uigw_store *st)
{
	const struct uigw_store_cdr *c = &st->cdr;

	if (!c->thread_running)
		return false;
	if (c->n_in_flight)
		return true;
	return !llist_empty(&c->queue) && !c->failing;
}
