/*! \file store.c
 *  The feedback store: opening (PRAGMAs, schema), the jobs the event loop submits to the writer thread
 *  (store_write.c: group commit), and the completion path back to the event loop.
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
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/store/store.h>
#include "store_priv.h"

#define BUSY_TIMEOUT_MS		10000


void uigw_store_cfg_defaults(struct uigw_store_cfg *cfg)
{
	*cfg = (struct uigw_store_cfg){
		.path = "osmo-uigw.db",
		.sync_full = true,
		.batch_max_rows = 8192,
		.queue_max_jobs = 100000,
		.commit_interval_ms = 5,
		.checkpoint_pages = 10000,
		.checkpoint_interval_ms = 1000,
		.wal_max_mb = 64,
		.hold_s = 30,
		.spam_window = 86400,
		.retention_days = 90,
		.map_delay_s = 10,
		.cache_mb = 64,
		.cdr_interval = 3600,
		.cdr_max_kb = 10240,
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

/* ---------------------------------------------------------------------------------------------------------- */
/* completions (loop thread) */

void uigw_store_run_completions(struct uigw_store *st)
{
	struct uigw_store_job *job;
	bool completed = false;
	LLIST_HEAD(list);

	pthread_mutex_lock(&st->lock);
	llist_splice_init(&st->done, &list);
	pthread_mutex_unlock(&st->lock);

	while (!llist_empty(&list)) {
		job = llist_first_entry(&list, struct uigw_store_job, list);
		llist_del(&job->list);
		INIT_LLIST_HEAD(&job->list);
		/* a job of the writer (not a charging log job): the main store completes jobs now (its delay) */
		if (job->submitted_us && !completed) {
			st->completed_us = uigw_real_mono_us();
			completed = true;
		}
		st->depth--;
		uigw_store_optout_pending_done(st, job);
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
	uigw_store_run_completions(st);
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

static void cdr_job_done(struct uigw_store_job *job, void *data)
{
	if (job->rc < 0)
		LOGP(DSTORE, LOGL_ERROR, "charging rows of a job not written: %s\n", strerror(-job->rc));
	talloc_free(job);
}

static void cdr_flush(struct uigw_store *st);

static bool cdr_row(enum uigw_row_kind k)
{
	return k == UIGW_ROW_CDR || k == UIGW_ROW_ERASE || k == UIGW_ROW_PURGE;
}

#define COPY(s) ((s) ? talloc_strdup(cj, s) : NULL)

/* The charging rows of a job (a record submitted with other rows, the charging part of an erasure or of a purge
 * asked for): copied to a job of the charging thread, after the records queued before them. The writer of the
 * main database leaves the records out. */
static void cdr_follow(struct uigw_store *st, const struct uigw_store_job *job)
{
	struct uigw_store_job *cj = NULL;
	unsigned int i;

	for (i = 0; i < job->n_rows; i++) {
		const struct uigw_store_row *r = &job->rows[i];
		struct uigw_store_row *c;

		if (!cdr_row(r->kind))
			continue;
		if (!cj)
			cj = uigw_store_job_alloc(st, cdr_job_done, NULL);
		c = uigw_store_job_row(cj, r->kind);
		if (!c)
			break;
		*c = *r;
		c->subscriber = COPY(r->subscriber);
		if (r->kind == UIGW_ROW_ERASE) {
			c->u.subscriber.msisdn = COPY(r->u.subscriber.msisdn);
		} else if (r->kind == UIGW_ROW_CDR) {
			c->campaign = COPY(r->campaign);
			c->channel = COPY(r->channel);
			c->owner = COPY(r->owner);
			c->u.cdr.refusal = COPY(r->u.cdr.refusal);
			c->u.cdr.visited = COPY(r->u.cdr.visited);
			c->u.cdr.charge_class = COPY(r->u.cdr.charge_class);
		}
	}
	if (!cj)
		return;
	cdr_flush(st);
	if (i < job->n_rows || uigw_store_cdr_submit(cj) < 0) {
		LOGP(DSTORE, LOGL_ERROR, "the charging records' part of an erasure or purge could not be queued\n");
		talloc_free(cj);
	}
}

int uigw_store_submit(struct uigw_store_job *job)
{
	struct uigw_store *st;
	unsigned int i;
	bool cdr = false;

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
	job->submitted_us = uigw_real_mono_us();
	llist_add_tail(&job->list, &st->queue);
	for (i = 0; i < job->n_rows; i++) {
		if (job->rows[i].kind == UIGW_ROW_OPTOUT && job->rows[i].u.optout.opt_out)
			uigw_store_optout_note(st, job->rows[i].subscriber);
		if (job->rows[i].kind == UIGW_ROW_OPTOUT)
			uigw_store_optout_pending_add(st, job, &job->rows[i]);
		cdr |= cdr_row(job->rows[i].kind);
	}
	st->n_queued++;
	st->rows_queued += job->n_rows;
	/* a writer waiting out the commit interval wakes by itself, unless a full batch is waiting */
	if (!st->pausing || st->rows_queued >= st->cfg.batch_max_rows)
		pthread_cond_signal(&st->wake);
	pthread_mutex_unlock(&st->lock);
	if (!st->depth)
		st->pending_since_us = job->submitted_us;
	st->depth++;
	if (st->pg)
		uigw_store_pg_kick(st);	/* PostgreSQL: the records are rows like the others */
	else if (cdr)
		cdr_follow(st, job);
	return 0;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* rows nobody waits for (loop thread) */

static void log_done(struct uigw_store_job *job, void *data)
{
	struct uigw_store *st = data;

	if (job->rc < 0) {
		st->log_rows_lost += job->n_rows;
		LOGP(DSTORE, LOGL_ERROR, "%u log rows (audit) not stored: %s\n", job->n_rows, strerror(-job->rc));
	}
	talloc_free(job);
}

/* Submit a log job, if there is one; what cannot be queued is counted lost. */
static void flush_one(struct uigw_store *st, struct uigw_store_job **slot, int (*submit)(struct uigw_store_job *),
		      const char *what)
{
	struct uigw_store_job *job = *slot;
	int rc;

	if (!job)
		return;
	*slot = NULL;
	rc = submit(job);
	if (rc < 0) {
		st->log_rows_lost += job->n_rows;
		LOGP(DSTORE, LOGL_ERROR, "%u %s not stored: %s\n", job->n_rows, what, strerror(-rc));
		talloc_free(job);
	}
}

/* the charging records' log job, to the charging thread */
static void cdr_flush(struct uigw_store *st)
{
	flush_one(st, &st->cdr_job, uigw_store_cdr_submit,
		  "charging records (made from the dialog rows at the next start)");
}

/* Submit the log jobs, if there are any. */
static void log_flush(struct uigw_store *st)
{
	osmo_timer_del(&st->log_timer);
	cdr_flush(st);
	flush_one(st, &st->log_job, uigw_store_submit, "log rows (audit)");
}

static void log_timer_cb(void *data)
{
	log_flush(data);
}

struct uigw_store_row *uigw_store_log_row(struct uigw_store *st, enum uigw_row_kind kind, void **ctx)
{
	struct uigw_store_job **job;
	struct uigw_store_row *r;

	if (!st)
		return NULL;
	/* the charging records go to their own thread and database (store_cdr_db.c) */
	job = kind == UIGW_ROW_CDR && !st->pg ? &st->cdr_job : &st->log_job;
	if (*job && (*job)->n_rows >= UIGW_STORE_LOG_ROWS)
		log_flush(st);	/* full */
	if (!*job) {
		*job = uigw_store_job_alloc(st, log_done, st);
		if (!*job) {
			st->log_rows_lost++;
			return NULL;
		}
		if (!osmo_timer_pending(&st->log_timer)) {
			osmo_timer_setup(&st->log_timer, log_timer_cb, st);
			osmo_timer_schedule(&st->log_timer, 0, UIGW_STORE_LOG_DELAY_MS * 1000);
		}
	}
	r = uigw_store_job_row(*job, kind);
	if (!r) {
		st->log_rows_lost++;
		return NULL;
	}
	*ctx = *job;
	return r;
}

/* ---------------------------------------------------------------------------------------------------------- */

void uigw_store_drain(struct uigw_store *st)
{
	if (!st)
		return;
	log_flush(st);
	if (st->pg) {
		uigw_store_pg_drain(st);
		return;
	}
	pthread_mutex_lock(&st->lock);
	st->n_flush++;
	pthread_cond_signal(&st->wake);
	pthread_cond_signal(&st->cdr.wake);	/* it commits at once, too */
	/* a failing store holds its jobs for a while: after one attempt the loop goes on (never blocked for long) */
	while ((st->thread_running && (!llist_empty(&st->queue) || st->n_in_flight) &&
		!(st->n_in_flight == 0 && uigw_store_failing(st))) || uigw_store_cdr_busy(st))
		pthread_cond_wait(&st->idle, &st->lock);
	st->n_flush--;
	pthread_mutex_unlock(&st->lock);
	uigw_store_run_completions(st);
}

unsigned int uigw_store_queue_depth(const struct uigw_store *st)
{
	return st ? st->depth : 0;
}

/* Group commit makes a batch's time a fixed part (the sync) plus a part per job: small batches (a few jobs) tell the
 * first, big ones (16 and more) the second once the first is taken off. Smoothed over four batches. The rate
 * jobs complete at is not the writer's capacity: at low load it is the load, and a burst after a quiet spell read
 * as seconds of delay. */
#define EST_SMALL	4
#define EST_BIG		16

void uigw_store_delay_learn(struct uigw_store *st, unsigned int n, int64_t us)
{
	int64_t fixed = __atomic_load_n(&st->est_fixed_us, __ATOMIC_RELAXED);
	int64_t job = __atomic_load_n(&st->est_job_ns, __ATOMIC_RELAXED), per;

	if (!n || us <= 0)
		return;
	if (us > UINT32_MAX / 4)
		us = UINT32_MAX / 4;
	if (n <= EST_SMALL) {
		fixed = fixed ? (3 * fixed + us) / 4 : us;
		__atomic_store_n(&st->est_fixed_us, (uint32_t)fixed, __ATOMIC_RELAXED);
	} else if (n >= EST_BIG) {
		/* without a small batch yet the whole time counts per job: an overestimate that lasts until one */
		per = (us - OSMO_MIN(fixed, us / 2)) * 1000 / n;
		job = job ? (3 * job + per) / 4 : per;
		__atomic_store_n(&st->est_job_ns, (uint32_t)OSMO_MIN(job, (int64_t)UINT32_MAX), __ATOMIC_RELAXED);
	}
}

unsigned int uigw_store_delay_ms(const struct uigw_store *st)
{
	int64_t stalled, ahead = 0, job;

	/* a failing store refuses new dialogs by itself and holds its jobs until it commits again: that wait is
	 * not the writer's pace, and counted here it began an overload episode that outlasted the failure (the
	 * share cut to the trickle while the disk was full; tests/chaos.sh, disk-full: not back within 5 s) */
	if (!st || !st->depth || uigw_store_failing(st))
		return 0;
	/* what a job submitted now waits: a batch's fixed part and the jobs ahead of it at the cost per job the
	 * writer's big batches showed (a leading measure: a job's own wait is known only once it is over; before any
	 * big batch there is no backlog to speak of) ... */
	job = __atomic_load_n(&st->est_job_ns, __ATOMIC_RELAXED);
	if (job)
		ahead = (__atomic_load_n(&st->est_fixed_us, __ATOMIC_RELAXED) + st->depth * job / 1000) / 1000;
	/* ... and at least the time nothing completed while jobs pend (a stalled writer) */
	stalled = (uigw_real_mono_us() - OSMO_MAX(st->completed_us, st->pending_since_us)) / 1000;
	return OSMO_MAX(ahead, stalled);
}

bool uigw_store_failing(const struct uigw_store *st)
{
	return st && __atomic_load_n(&st->failing, __ATOMIC_RELAXED);
}

const struct uigw_store_cfg *uigw_store_cfg_of(const struct uigw_store *st)
{
	return &st->cfg;
}

void uigw_store_stats(struct uigw_store *st, struct uigw_store_stats *out)
{
	pthread_mutex_lock(&st->lock);
	*out = st->stats;
	out->queued = st->n_queued;
	out->in_flight = st->n_in_flight;
	out->failing = uigw_store_failing(st);
	out->cdr_queued = st->cdr.n_queued + st->cdr.n_in_flight;
	out->cdr_failing = st->cdr.failing;
	out->map_deferred = __atomic_load_n(&st->upkeep_deferred, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&st->lock);
	out->cdr_db = st->cdr.db_path;
	out->depth = st->depth;
	out->log_rows_lost = st->log_rows_lost;
	out->optout_checks = st->optout_checks;
	out->optout_reads = st->optout_reads;
	if (st->pg)
		uigw_store_pg_stats(st, out);
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
	char val[32], cp_set[64], cp_want[16], jl_set[64], jl_want[24], cs_set[64], cs_want[24];
	int version;

	snprintf(cp_set, sizeof(cp_set), "PRAGMA wal_autocheckpoint = %u", st->cfg.checkpoint_pages);
	snprintf(cp_want, sizeof(cp_want), "%u", st->cfg.checkpoint_pages);
	/* a WAL that restarts after a checkpoint is cut back to this size: a burst does not keep the disk */
	snprintf(jl_set, sizeof(jl_set), "PRAGMA journal_size_limit = %llu", st->cfg.wal_max_mb * 1048576ULL);
	snprintf(cs_set, sizeof(cs_set), "PRAGMA cache_size = -%u", st->cfg.cache_mb * 1024);
	snprintf(cs_want, sizeof(cs_want), "-%u", st->cfg.cache_mb * 1024);
	snprintf(jl_want, sizeof(jl_want), "%llu", st->cfg.wal_max_mb * 1048576ULL);

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
	    pragma_check(st->wdb, cs_set, "PRAGMA cache_size", cs_want) < 0 ||
	    pragma_check(st->wdb, cp_set, "PRAGMA wal_autocheckpoint", cp_want) < 0 ||
	    pragma_check(st->wdb, jl_set, "PRAGMA journal_size_limit", jl_want) < 0 ||
	    pragma(st->wdb, "PRAGMA page_size", val, sizeof(val)) < 0)
		return -EIO;
	st->page_size = atoi(val) > 0 ? atoi(val) : 4096;
	/* after the PRAGMA's check: this hook takes the place of SQLite's automatic checkpoint, which the writer
	 * does itself (uigw_store_checkpoint_if_due), by pages and by the WAL's bound in bytes */
	sqlite3_wal_hook(st->wdb, uigw_store_wal_hook, st);
	if (version < UIGW_SCHEMA_VERSION) {
		LOGP(DSTORE, LOGL_NOTICE, "%s: schema version %d, upgrading to %d\n", st->cfg.path, version,
		     UIGW_SCHEMA_VERSION);
		if (uigw_store_schema_upgrade(st->wdb, version, UIGW_SCHEMA_VERSION) < 0)
			return -EIO;
	}
	if (prepare_all(st->wdb, uigw_store_wstmt_sql, st->wstmt, _WSTMT_NUM) < 0 ||
	    prepare_all(st->wdb, uigw_store_query_sql, st->wq, _UIGW_Q_NUM) < 0)
		return -EIO;
	return uigw_store_wh_load(st);
}

static int attach_charging(struct uigw_store *st)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->rdb, "ATTACH DATABASE ?1 AS charging", -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(s, 1, st->cdr.db_path, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		LOGP(DSTORE, LOGL_ERROR, "cannot attach %s: %s\n", st->cdr.db_path, sqlite3_errmsg(st->rdb));
		return -EIO;
	}
	return 0;
}

/* Release everything; safe on a partly opened store. The writer thread must not run. */
static void store_free(struct uigw_store *st)
{
	osmo_timer_del(&st->log_timer);
	uigw_store_pg_close(st);
	if (st->efd.fd >= 0) {
		if (osmo_fd_is_registered(&st->efd))
			osmo_fd_unregister(&st->efd);
		close(st->efd.fd);
		st->efd.fd = -1;
	}
	uigw_store_read_finalize(st);
	uigw_store_cdr_close(st);
	finalize_all(st->wstmt, _WSTMT_NUM);
	uigw_store_map_free(st);
	finalize_all(st->wq, _UIGW_Q_NUM);
	free(st->mt_done);
	free(st->wh);
	if (st->rdb)
		sqlite3_close(st->rdb);
	if (st->wdb)
		sqlite3_close(st->wdb);
	pthread_cond_destroy(&st->wake);
	pthread_cond_destroy(&st->cdr.wake);
	pthread_cond_destroy(&st->idle);
	pthread_mutex_destroy(&st->lock);
	talloc_free(st);
}

/* SQLite's global memory count off: with it on, every allocation and free of every connection takes one global
 * mutex (mem0.mutex), and the writer and the charging thread allocate per row. Off, the engine commits ~25 % more
 * answers per second (contrib/bench/engine_bench -p sc: 98,649-106,710 against 78,860-84,266 answers/s). The memory
 * figure of `show store` comes from the connections instead (uigw_store_conn_mem). Before the first connection;
 * a process that used SQLite before keeps the count (harmless, only slower). */
static void sqlite_setup(void)
{
	int rc = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);

	if (rc != SQLITE_OK)
		LOGP(DSTORE, LOGL_NOTICE, "SQLite's memory count stays on (%s): slower commits\n", sqlite3_errstr(rc));
}

struct uigw_store *uigw_store_open(void *ctx, const struct uigw_store_cfg *cfg)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct uigw_store *st;
	pthread_condattr_t ca;
	int fd;

	pthread_once(&once, sqlite_setup);

	st = talloc_zero(ctx, struct uigw_store);
	if (!st)
		return NULL;
	st->cfg = *cfg;
	st->cfg.path = talloc_strdup(st, cfg->path && cfg->path[0] ? cfg->path : "osmo-uigw.db");
	st->cfg.cdr_dir = cfg->cdr_dir && cfg->cdr_dir[0] ? talloc_strdup(st, cfg->cdr_dir) : NULL;
	st->cdr.fd = -1;
	if (!st->cfg.batch_max_rows)
		st->cfg.batch_max_rows = 1;
	if (!st->cfg.cache_mb)
		st->cfg.cache_mb = 64;
	st->efd.fd = -1;
	INIT_LLIST_HEAD(&st->queue);
	INIT_LLIST_HEAD(&st->done);
	INIT_LLIST_HEAD(&st->optout_pending);
	pthread_mutex_init(&st->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&st->wake, &ca);
	pthread_cond_init(&st->cdr.wake, &ca);
	pthread_condattr_destroy(&ca);
	INIT_LLIST_HEAD(&st->cdr.queue);
	pthread_cond_init(&st->idle, NULL);
	if (!st->cfg.path)
		goto fail;

	if (st->cfg.backend == UIGW_STORE_POSTGRESQL) {
		/* no writer thread, no files: the connection is the loop's (store_pg.c) */
		if (uigw_store_pg_open(st) < 0 || uigw_store_pg_wait_up(st) < 0 || uigw_store_pg_cdr_start(st) < 0)
			goto fail;
		LOGP(DSTORE, LOGL_NOTICE, "store on PostgreSQL, instance %s\n",
		     cfg->instance && cfg->instance[0] ? cfg->instance : "uigw");
		return st;
	}
	if (open_writer(st) < 0)
		goto fail;
	/* a backlog goes on in batches between the commits from the start, not only an hour later */
	st->purge_more = uigw_store_purge(st);
	uigw_store_map_init(st);
	if (uigw_store_cdr_open(st) < 0)
		goto fail;
	/* the records of schema 8, taken over by the charging database now */
	if (sqlite3_exec(st->wdb, "DROP TABLE IF EXISTS cdr_v8; DROP TABLE IF EXISTS cdr_export_v8", NULL, NULL, NULL) !=
	    SQLITE_OK)
		LOGP(DSTORE, LOGL_ERROR, "cannot drop the old charging tables: %s\n", sqlite3_errmsg(st->wdb));

	/* the loop's read connection: WAL readers are never blocked by the writer; the charging database attached
	 * (read-only, as the connection), so that its table reads as before */
	if (open_conn(st, &st->rdb, SQLITE_OPEN_READONLY) < 0 || attach_charging(st) < 0 ||
	    uigw_store_read_prepare(st) < 0)
		goto fail;
	uigw_store_optout_load(st);	/* without the filter every check reads: slower, still right */

	fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fd < 0) {
		LOGP(DSTORE, LOGL_ERROR, "eventfd: %s\n", strerror(errno));
		goto fail;
	}
	osmo_fd_setup(&st->efd, fd, OSMO_FD_READ, efd_cb, st, 0);
	if (osmo_fd_register(&st->efd) < 0)
		goto fail;

	if (uigw_store_cdr_start(st) < 0)
		goto fail;
	if (pthread_create(&st->thread, NULL, uigw_store_writer_main, st)) {
		LOGP(DSTORE, LOGL_ERROR, "cannot start the writer thread\n");
		uigw_store_cdr_stop(st);
		goto fail;
	}
	st->thread_running = true;
	LOGP(DSTORE, LOGL_NOTICE, "store %s open (WAL, synchronous=%s, schema %d)\n", st->cfg.path,
	     st->cfg.sync_full ? "FULL" : "NORMAL", UIGW_SCHEMA_VERSION);
	return st;

fail:
	if (cfg->backend == UIGW_STORE_POSTGRESQL)
		LOGP(DSTORE, LOGL_ERROR, "cannot open the store on PostgreSQL (instance %s)\n",
		     cfg->instance ? cfg->instance : "uigw");
	else
		LOGP(DSTORE, LOGL_ERROR, "cannot open the store %s\n", cfg->path ? cfg->path : "");
	store_free(st);
	return NULL;
}

void uigw_store_close(struct uigw_store *st)
{
	if (!st)
		return;
	/* completions may submit follow-up jobs: drain until nothing is left (a failing store holds them for a few
	 * seconds only now) */
	pthread_mutex_lock(&st->lock);
	st->closing = true;
	pthread_mutex_unlock(&st->lock);
	log_flush(st);
	if (st->pg) {
		int64_t until = uigw_mono_us() + 30 * 1000000LL;

		/* completions may submit follow-up jobs; a database out of reach is given one more try */
		while ((st->depth || st->log_job) && uigw_mono_us() < until) {
			uigw_store_pg_drain(st);
			log_flush(st);
			if (uigw_store_failing(st))
				break;
		}
		uigw_store_pg_close(st);
		store_free(st);
		return;
	}
	while (st->depth || st->log_job || st->cdr_job) {
		uigw_store_drain(st);
		log_flush(st);	/* what the completions logged */
		if (st->depth)
			usleep(20000);	/* held jobs: written, or failed after a few seconds */
	}
	pthread_mutex_lock(&st->lock);
	st->stop = true;
	pthread_cond_signal(&st->wake);
	pthread_mutex_unlock(&st->lock);
	if (st->thread_running) {
		pthread_join(st->thread, NULL);
		st->thread_running = false;
	}
	uigw_store_run_completions(st);
	/* the last charging records, then their thread (it writes what is queued before it stops) */
	log_flush(st);
	uigw_store_cdr_stop(st);
	uigw_store_run_completions(st);
	store_free(st);
}

void uigw_store_defer_upkeep(struct uigw_store *st, bool on)
{
	if (!st || __atomic_load_n(&st->upkeep_deferred, __ATOMIC_RELAXED) == (int)on)
		return;
	pthread_mutex_lock(&st->lock);
	__atomic_store_n(&st->upkeep_deferred, (int)on, __ATOMIC_RELAXED);
	st->stats.map_deferrals += on;
	/* off: the writer's wait sees a merge due again */
	pthread_cond_signal(&st->wake);
	pthread_mutex_unlock(&st->lock);
}

void uigw_store_release_memory(struct uigw_store *st)
{
	if (!st)
		return;
	if (st->rdb)
		sqlite3_db_release_memory(st->rdb);
	pthread_mutex_lock(&st->lock);
	st->release_mem = st->cdr.release_mem = true;
	pthread_cond_signal(&st->wake);
	pthread_cond_signal(&st->cdr.wake);
	pthread_mutex_unlock(&st->lock);
}

static int64_t conn_status(sqlite3 *db, int op)
{
	int cur = 0, hi = 0;

	return db && sqlite3_db_status(db, op, &cur, &hi, 0) == SQLITE_OK ? cur : 0;
}

int64_t uigw_store_conn_mem(sqlite3 *db)
{
	return conn_status(db, SQLITE_DBSTATUS_CACHE_USED) + conn_status(db, SQLITE_DBSTATUS_SCHEMA_USED)
		+ conn_status(db, SQLITE_DBSTATUS_STMT_USED);
}

/* Measuring the schema and the statements after every batch took ~5 % of the writer's time in the MAP benchmark
 * (sqlite3_db_status walks them); the page cache is a sum SQLite keeps. */
int64_t uigw_store_conn_mem_batch(sqlite3 *db, struct uigw_store_mem_probe *probe)
{
	int64_t now = uigw_real_mono_us();

	if (!probe->at_us || now - probe->at_us >= 1000000) {
		probe->fixed = conn_status(db, SQLITE_DBSTATUS_SCHEMA_USED) + conn_status(db, SQLITE_DBSTATUS_STMT_USED);
		probe->at_us = now;
	}
	return probe->fixed + conn_status(db, SQLITE_DBSTATUS_CACHE_USED);
}

void uigw_store_memory(struct uigw_store *st, int64_t *used, int64_t *highwater)
{
	*used = *highwater = 0;
	if (!st)
		return;
	pthread_mutex_lock(&st->lock);
	*used = st->mem_writer + st->mem_cdr;
	pthread_mutex_unlock(&st->lock);
	*used += uigw_store_conn_mem(st->rdb);
	if (*used > st->mem_peak)
		st->mem_peak = *used;
	*highwater = st->mem_peak;
}
