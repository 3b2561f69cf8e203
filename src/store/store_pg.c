/*! \file store_pg.c
 *  The PostgreSQL backend of the store: one libpq connection in non-blocking pipeline mode, its socket an osmo_fd of
 *  the loop (no thread). The jobs queued while a group commit is in flight go out together as the next one: every
 *  row a prepared statement, one Sync (one implicit transaction, one round trip, one WAL flush on the server), then
 *  the jobs' contextual queries after another Sync. A statement the database refuses fails the whole transaction:
 *  its jobs are sent again one transaction each, so that only the job with the bad row fails.
 *
 *  Several gateways share one database. Each has a name (cfg.instance), held as a session advisory lock while it
 *  is connected, and a row in uigw_instance whose seq each of its transactions sets: when the connection is lost
 *  after a Sync was sent and before its answer came, the next connection reads seq and knows whether the
 *  transaction committed (its jobs complete) or not (they are sent again): nothing is lost, nothing written twice.
 *  While the database cannot be reached the store is failing (new dialogs get the busy screen), the jobs wait in
 *  memory up to queue-max-jobs, and the connection is tried again with a growing pause (100 ms to 5 s). */

#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libpq-fe.h>
#include <talloc.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/select.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/store/store.h>
#include "store_priv.h"

#define PG_BACKOFF_MIN_MS	100
#define PG_BACKOFF_MAX_MS	5000
#define TEXTOID			25

enum pg_state {
	PG_DOWN,		/*!< no connection; the timer tries again */
	PG_CONNECTING,		/*!< PQconnectPoll() */
	PG_SETUP,		/*!< the schema, the instance's lock and seq (one simple query) */
	PG_PREPARING,		/*!< pipeline mode entered, the statements being prepared */
	PG_READY,
};

static const struct value_string pg_state_names[] = {
	{ PG_DOWN, "down" },
	{ PG_CONNECTING, "connecting" },
	{ PG_SETUP, "setting up" },
	{ PG_PREPARING, "preparing" },
	{ PG_READY, "ready" },
	{ 0, NULL }
};

/* one transaction of a group commit: jobs[first .. first + n) */
struct pg_seg {
	unsigned int first, n;
	int64_t seq;		/*!< the instance's transaction number it writes */
	bool synced;		/*!< its Sync's answer came: committed unless failed */
	bool failed;
	char sqlstate[6];
};

/* what each result of the pipeline answers, in the order they were sent */
enum pg_expect_kind { EX_STMT, EX_QUERY, EX_SYNC, EX_PURGE, EX_ERASE, EX_TAKES };
struct pg_expect {
	uint8_t kind;
	uint8_t fl;		/*!< the flight it belongs to (index of pg->fl) */
	bool last;		/*!< its flight's last answer: the flight is over */
	struct uigw_store_job *job;	/*!< EX_QUERY: the job it belongs to (a state's text is its child) */
	int seg;		/*!< EX_STMT, EX_SYNC, EX_PURGE, EX_ERASE: its transaction, -1: none (preparing, the
				 *   queries); a purge's or an erasure's statement counts the rows it changed */
	struct uigw_store_query *q;	/*!< EX_QUERY */
};

/* the flight's questions for a state to resume (UIGW_Q_DLG_STATE), asked in one statement (EX_TAKES) */
struct pg_take {
	struct uigw_store_query *q;
	struct uigw_store_job *job;
};

/* A group commit sent and not answered yet (or in doubt while the connection is down). Two may be in flight: the
 * server writes one while the gateway builds and sends the next, each one transaction (or one per job while a
 * refused row is searched for), answered in the order they were sent. */
#define PG_FLIGHTS	2
struct pg_flight {
	struct uigw_store_job **jobs;
	unsigned int n_jobs, jobs_cap;
	struct pg_seg *segs;
	unsigned int n_segs, segs_cap;
	int64_t sent_us;		/*!< when it was sent (monotonic) */
	bool cdr;			/*!< it has charging records */
	unsigned int erased;		/*!< rows an erasure deleted in it */
	struct pg_take *takes;
	unsigned int n_takes, takes_cap;
};

struct uigw_store_pg {
	struct uigw_store *st;
	PGconn *conn;
	struct osmo_fd ofd;
	enum pg_state state;
	struct osmo_timer_list retry;	/*!< the next connection attempt */
	struct osmo_timer_list done;	/*!< completions of jobs that never went out (a bad row) */
	unsigned int backoff_ms;
	const char *conninfo, *instance;
	int64_t seq;			/*!< the last transaction number used */
	int setup_result;		/*!< PG_SETUP: results seen */
	int setup_version, setup_locked;
	int64_t setup_seq;
	int num;			/*!< the instance's number (uigw_instance.num), 0: not read yet */
	bool setup_failed;
	bool logged_down;		/*!< the loss of the database was logged (once until it is back) */

	/* the group commits in flight, oldest first from fl_head (or in doubt while the connection is down) */
	struct pg_flight fl[PG_FLIGHTS];
	unsigned int fl_head, n_fl;
	unsigned int fl_sending;	/*!< index of the flight whose statements are being sent (expect()) */
	struct pg_expect *ex;
	unsigned int n_ex, i_ex, ex_cap;
	unsigned int split;		/*!< jobs at the head of the queue to send one per transaction */
	struct llist_head *rq_pos;	/*!< where requeue() puts the next job back (after those before it) */

	PGconn *rconn;			/*!< the reads' connection (store_pg_read.c), NULL: made when needed */
	struct pg_rprep {
		const char *sql;	/*!< a read's SQL (a string constant): prepared on rconn as "r<index>" */
	} rprep[48];
	unsigned int n_rprep;
	struct osmo_timer_list purge;	/*!< the retention purge: hourly, every second while more is due */
	bool purge_more;		/*!< a purge statement deleted a full batch */
	bool purging;			/*!< the purge's own job is queued */

	/* the rows of the batched kinds of the transaction being sent (send_flight()), and its arrays */
	struct pg_bref {
		const struct uigw_store_row *r;
		uint32_t key;		/*!< offset of its key in keys, UINT32_MAX: none */
		bool drop;		/*!< its key comes again later: left out */
	} *bref[UIGW_PG_N_BATCH];
	unsigned int n_bref[UIGW_PG_N_BATCH], bref_cap[UIGW_PG_N_BATCH];
	unsigned int *order;
	unsigned int order_cap;
	struct pg_buf {
		char *p;
		size_t len, cap;
	} col[PG_MAX_PARAMS], keys;
	/* the campaigns' tenants this instance wrote (campaign_owner: the webhooks' triggers read it) */
	struct pg_owner {
		char *campaign, *tenant;	/*!< tenant "": the operator's */
		int64_t seq;		/*!< the transaction that wrote it */
		bool committed;		/*!< ... committed: later flights need not write it again */
	} *owners;
	unsigned int n_owners, owners_cap, owner_hit;
};

/* the \a k-th flight in flight, oldest first (k == n_fl: the next one's slot) */
static struct pg_flight *fl_at(struct uigw_store_pg *pg, unsigned int k)
{
	return &pg->fl[(pg->fl_head + k) % PG_FLIGHTS];
}

/* the rows as statements (store_pg_rows.c), with this connection's settings and name */
static int row_stmt(const struct uigw_store_pg *pg, const struct uigw_store_row *r, int part, int *stmt,
		    struct pgp *p)
{
	return uigw_store_pg_row_stmt(&pg->st->cfg, pg->instance, r, part, stmt, p);
}

#define row_parts uigw_store_pg_row_parts
#define batch_of uigw_store_pg_batch_of
#define p_text uigw_store_pg_p_text
#define p_int uigw_store_pg_p_int

/* ---------------------------------------------------------------------------------------------------------- */
/* the flight's bookkeeping */

static int grow(void *ctx, void **array, unsigned int *cap, unsigned int need, size_t size)
{
	unsigned int n = *cap ? *cap : 64;
	void *a;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	a = talloc_realloc_size(ctx, *array, n * size);
	if (!a)
		return -ENOMEM;
	*array = a;
	*cap = n;
	return 0;
}

static int expect_q(struct uigw_store_pg *pg, enum pg_expect_kind kind, int seg, struct uigw_store_query *q,
		    struct uigw_store_job *job)
{
	if (grow(pg, (void **)&pg->ex, &pg->ex_cap, pg->n_ex + 1, sizeof(*pg->ex)) < 0)
		return -ENOMEM;
	pg->ex[pg->n_ex++] = (struct pg_expect){ .kind = kind, .seg = seg, .q = q, .job = job,
						 .fl = (uint8_t)pg->fl_sending };
	return 0;
}

static int expect(struct uigw_store_pg *pg, enum pg_expect_kind kind, int seg, struct uigw_store_query *q)
{
	return expect_q(pg, kind, seg, q, NULL);
}

static void set_failing(struct uigw_store_pg *pg, bool failing)
{
	struct uigw_store *st = pg->st;

	if (failing && !uigw_store_failing(st)) {
		st->stats.failures++;
		st->stats.failing_since_ms = uigw_wall_ms();
	}
	__atomic_store_n(&st->failing, failing, __ATOMIC_RELAXED);
}

/* A job is over (rc set): its completion runs from the loop soon (never from inside a submit). */
static void job_done(struct uigw_store_pg *pg, struct uigw_store_job *job)
{
	struct uigw_store *st = pg->st;

	if (job->rc < 0)
		st->stats.failed_jobs++;
	pthread_mutex_lock(&st->lock);
	llist_add_tail(&job->list, &st->done);
	pthread_mutex_unlock(&st->lock);
	if (!osmo_timer_pending(&pg->done))
		osmo_timer_schedule(&pg->done, 0, 0);
}

static void done_cb(void *data)
{
	struct uigw_store_pg *pg = data;

	uigw_store_run_completions(pg->st);
}

/* Jobs back at the head of the queue, in their order. */
static void requeue(struct uigw_store_pg *pg, struct uigw_store_job **jobs, unsigned int n)
{
	struct uigw_store *st = pg->st;
	unsigned int i;

	pthread_mutex_lock(&st->lock);
	if (!pg->rq_pos)
		pg->rq_pos = &st->queue;
	for (i = 0; i < n; i++) {
		/* after the jobs put back before (an older flight's): the order they were submitted in */
		llist_add(&jobs[i]->list, pg->rq_pos);
		pg->rq_pos = &jobs[i]->list;
		st->n_queued++;
		st->rows_queued += jobs[i]->n_rows;
	}
	pthread_mutex_unlock(&st->lock);
}

static bool sqlstate_retry(const char *s)
{
	/* serialization failure, deadlock (class 40), lock not available, the server going away (57), resources (53) */
	return !strncmp(s, "40", 2) || !strcmp(s, "55P03") || !strncmp(s, "57", 2) || !strncmp(s, "53", 2) ||
	       !strncmp(s, "08", 2);
}

/* The flight is over: every transaction answered (\a stored < 0), or the connection was lost and \a stored is the
 * instance's last committed transaction as the next connection read it. */
static void owners_forget(struct uigw_store_pg *pg)
{
	unsigned int i;

	for (i = 0; i < pg->n_owners; i++) {
		talloc_free(pg->owners[i].campaign);
		talloc_free(pg->owners[i].tenant);
	}
	pg->n_owners = pg->owner_hit = 0;
}

/* The oldest flight is over: its answers came, or (\a stored: the instance's seq the next connection read) it was
 * in doubt. */
static void flight_end(struct uigw_store_pg *pg, int64_t stored)
{
	struct uigw_store *st = pg->st;
	struct pg_flight *f = fl_at(pg, 0);
	unsigned int s, i, j, k, rows = 0, committed = 0;
	int64_t took;

	for (s = 0; s < f->n_segs; s++) {
		struct pg_seg *seg = &f->segs[s];
		struct uigw_store_job **jobs = &f->jobs[seg->first];
		bool ok;

		if (seg->synced)
			ok = !seg->failed;
		else
			ok = stored >= seg->seq;	/* in doubt: the seq the transaction set tells */
		if (ok) {
			for (i = 0; i < seg->n; i++) {
				jobs[i]->rc = 0;
				rows += jobs[i]->n_rows;
				if (!seg->synced) {
					/* its queries were not answered */
					for (j = 0; j < jobs[i]->n_queries; j++)
						jobs[i]->queries[j].rc = -EIO;
				}
				job_done(pg, jobs[i]);
			}
			for (k = 0; k < pg->n_owners; k++)
				pg->owners[k].committed |= pg->owners[k].seq == seg->seq;
			committed++;
			continue;
		}
		if (!seg->synced || sqlstate_retry(seg->sqlstate)) {
			requeue(pg, jobs, seg->n);
			if (seg->synced)
				LOGP(DSTORE, LOGL_NOTICE, "PostgreSQL: a transaction of %u jobs failed (%s), sent "
				     "again\n",
				     seg->n, seg->sqlstate);
			continue;
		}
		if (seg->n > 1) {
			/* one of the jobs has a row the database refuses: each alone, to find it */
			requeue(pg, jobs, seg->n);
			pg->split += seg->n;
			continue;
		}
		jobs[0]->rc = (!strncmp(seg->sqlstate, "22", 2) || !strncmp(seg->sqlstate, "23", 2)) ? -EPROTO : -EIO;
		job_done(pg, jobs[0]);
	}
	if (f->erased && committed)
		LOGP(DSTORE, LOGL_NOTICE, "PostgreSQL: erasure: %u rows deleted\n", f->erased);
	f->erased = 0;
	if (committed < f->n_segs)
		owners_forget(pg);	/* what the flight wrote of campaign_owner may be lost */
	if (committed && f->cdr)
		uigw_store_pg_cdr_kick(st);	/* its records into the CSV files */
	f->cdr = false;
	took = uigw_mono_us() - f->sent_us;
	if (committed) {
		st->stats.commits += committed;
		st->stats.rows += rows;
		st->stats.last_rows = rows;
	}
	st->stats.busy_us += took;
	if (took > st->stats.max_commit_us)
		st->stats.max_commit_us = took > UINT32_MAX ? UINT32_MAX : (uint32_t)took;
	st->n_in_flight -= OSMO_MIN(st->n_in_flight, f->n_jobs);
	f->n_jobs = f->n_segs = f->n_takes = 0;
	pg->fl_head = (pg->fl_head + 1) % PG_FLIGHTS;
	pg->n_fl--;
}

/* every flight in doubt, oldest first, by the seq the new connection read (or INT64_MIN: none committed) */
static void flights_end(struct uigw_store_pg *pg, int64_t stored)
{
	pg->rq_pos = NULL;
	while (pg->n_fl)
		flight_end(pg, stored);
	pg->rq_pos = NULL;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* the connection */

static void conn_lost(struct uigw_store_pg *pg, const char *what);
static void pg_connect(struct uigw_store_pg *pg);

static void want_write(struct uigw_store_pg *pg, bool on)
{
	if (on)
		osmo_fd_write_enable(&pg->ofd);
	else
		osmo_fd_write_disable(&pg->ofd);
}

/* after a batch of sends: what libpq could not write waits for the socket */
static int flush(struct uigw_store_pg *pg)
{
	int rc = PQflush(pg->conn);

	if (rc < 0) {
		conn_lost(pg, "flush");
		return -EIO;
	}
	want_write(pg, rc == 1);
	return 0;
}

static int send_stmt(struct uigw_store_pg *pg, int stmt, const struct pgp *p)
{
	char name[8];

	snprintf(name, sizeof(name), "u%d", stmt);
	if (!PQsendQueryPrepared(pg->conn, name, p->n, p->v, p->len, p->fmt, 0))
		return -EIO;
	return 0;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* batched kinds: one statement per kind and transaction, one array per column */

/* room for \a n more bytes and a NUL */
static int buf_room(void *ctx, struct pg_buf *b, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = talloc_realloc_size(ctx, b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	return 0;
}

static int buf_add(void *ctx, struct pg_buf *b, const char *s, size_t n)
{
	if (buf_room(ctx, b, n) < 0)
		return -ENOMEM;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* one element of an array literal: NULL, or the value quoted (\ and " escaped), in one pass over the value */
static int array_elem(void *ctx, struct pg_buf *b, const char *v, bool first)
{
	size_t n;
	char *o;

	if (!v)
		return buf_add(ctx, b, first ? "NULL" : ",NULL", first ? 4 : 5);
	n = strlen(v);
	if (buf_room(ctx, b, 2 * n + 3) < 0)
		return -ENOMEM;
	o = b->p + b->len;
	if (!first)
		*o++ = ',';
	*o++ = '"';
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			*o++ = '\\';
		*o++ = *v;
	}
	*o++ = '"';
	*o = '\0';
	b->len = o - b->p;
	return 0;
}

static int cmp_key(const void *a, const void *b, void *arg)
{
	struct uigw_store_pg *pg = ((void **)arg)[0];
	const struct pg_bref *br = ((void **)arg)[1];
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;
	int c = strcmp(pg->keys.p + br[x].key, pg->keys.p + br[y].key);

	return c ? c : (x > y) - (x < y);
}

/* Rows of batch \a b whose conflict key comes again later in it are left out: one statement cannot upsert a row
 * twice, and the later row is what the sequence of upserts would have left. */
static int dedupe(struct uigw_store_pg *pg, int b)
{
	const struct uigw_store_pg_batch *d = &uigw_store_pg_batches[b];
	struct pg_bref *br = pg->bref[b];
	unsigned int n = pg->n_bref[b], i, k = 0;
	void *arg[2] = { pg, br };
	struct pgp p;
	int stmt;

	pg->keys.len = 0;
	if (grow(pg, (void **)&pg->order, &pg->order_cap, n, sizeof(*pg->order)) < 0)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const char *k0, *k1;

		br[i].key = UINT32_MAX;
		row_stmt(pg, br[i].r, 0, &stmt, &p);
		k0 = p.v[d->key[0]];
		k1 = d->key[1] >= 0 ? p.v[d->key[1]] : "";
		/* NULL never conflicts; answers outside a dialog have no key */
		if (!k0 || !k1 || (d->key_positive && strtoll(k0, NULL, 10) <= 0))
			continue;
		br[i].key = pg->keys.len;
		if (buf_add(pg, &pg->keys, k0, strlen(k0)) < 0 || buf_add(pg, &pg->keys, "\x1f", 1) < 0 ||
		    buf_add(pg, &pg->keys, k1, strlen(k1) + 1) < 0)
			return -ENOMEM;
		pg->order[k++] = i;
	}
	qsort_r(pg->order, k, sizeof(*pg->order), cmp_key, arg);
	for (i = 0; i + 1 < k; i++) {
		if (!strcmp(pg->keys.p + br[pg->order[i]].key, pg->keys.p + br[pg->order[i + 1]].key))
			br[pg->order[i]].drop = true;
	}
	return 0;
}

/* the collected rows of each batched kind as one statement of transaction \a seg */
static int send_batches(struct uigw_store_pg *pg, int seg)
{
	const char *values[PG_MAX_PARAMS];
	struct pgp p;
	unsigned int i;
	int b, c, stmt, rc = 0;

	for (b = 0; b < (int)UIGW_PG_N_BATCH; b++) {
		int bs = PG_B_FIRST + b, n_cols = uigw_store_pg_stmts[bs].n_params;
		bool first = true;
		char name[8];

		if (!pg->n_bref[b])
			continue;
		if (uigw_store_pg_batches[b].key[0] >= 0 && pg->n_bref[b] > 1 && dedupe(pg, b) < 0)
			return -ENOMEM;
		for (c = 0; c < n_cols; c++) {
			pg->col[c].len = 0;
			rc |= buf_add(pg, &pg->col[c], "{", 1);
		}
		for (i = 0; i < pg->n_bref[b]; i++) {
			if (pg->bref[b][i].drop)
				continue;
			row_stmt(pg, pg->bref[b][i].r, 0, &stmt, &p);
			for (c = 0; c < n_cols; c++)
				rc |= array_elem(pg, &pg->col[c], p.v[c], first);
			first = false;
		}
		for (c = 0; c < n_cols; c++) {
			rc |= buf_add(pg, &pg->col[c], "}", 1);
			values[c] = pg->col[c].p;
		}
		pg->n_bref[b] = 0;
		if (rc)
			return -ENOMEM;
		snprintf(name, sizeof(name), "u%d", bs);
		if (!PQsendQueryPrepared(pg->conn, name, n_cols, values, NULL, NULL, 0) ||
		    expect(pg, EX_STMT, seg, NULL) < 0)
			return -EIO;
	}
	return 0;
}

/* A row of the transaction being built: collected if its kind is batched, else sent as its own statements. */
static int send_row(struct uigw_store_pg *pg, const struct uigw_store_row *r, int seg)
{
	int b = batch_of(r->kind), part, stmt;
	struct pgp p;

	if (b >= 0) {
		if (row_stmt(pg, r, 0, &stmt, NULL) <= 0)
			return 0;	/* skipped (its parameters are made in send_batches()) */
		if (grow(pg, (void **)&pg->bref[b], &pg->bref_cap[b], pg->n_bref[b] + 1, sizeof(*pg->bref[b])) < 0)
			return -ENOMEM;
		pg->bref[b][pg->n_bref[b]++] = (struct pg_bref){ .r = r };
		pg->fl[pg->fl_sending].cdr |= r->kind == UIGW_ROW_CDR;
		return 0;
	}
	for (part = 0; part < row_parts(r->kind); part++) {
		enum pg_expect_kind ex = r->kind == UIGW_ROW_PURGE ? EX_PURGE :
					 r->kind == UIGW_ROW_ERASE ? EX_ERASE : EX_STMT;

		if (row_stmt(pg, r, part, &stmt, &p) <= 0)
			continue;
		if (send_stmt(pg, stmt, &p) < 0 || expect(pg, ex, seg, NULL) < 0)
			return -EIO;
	}
	return 0;
}

/* The owners of the flight's campaigns that this instance has not written to campaign_owner yet (or that changed),
 * as one statement before the rows, so that the webhooks' triggers know which tenant may see them. */
static int send_owners(struct uigw_store_pg *pg, struct pg_flight *f)
{
	const char *values[2];
	unsigned int i, r, o, n = 0;
	int rc = 0;
	char name[8];

	for (i = 0; i < f->n_jobs; i++) {
		const struct uigw_store_job *job = f->jobs[i];

		for (r = 0; r < job->n_rows; r++) {
			const struct uigw_store_row *row = &job->rows[r];
			const char *tenant = row->owner ? row->owner : "";
			struct pg_owner *ow = NULL;

			if ((row->kind != UIGW_ROW_RESPONSE && row->kind != UIGW_ROW_DIALOG && row->kind != UIGW_ROW_SPAM) ||
			    !row->campaign)
				continue;
			if (pg->owner_hit < pg->n_owners && !strcmp(pg->owners[pg->owner_hit].campaign, row->campaign))
				ow = &pg->owners[pg->owner_hit];
			for (o = 0; !ow && o < pg->n_owners; o++) {
				if (!strcmp(pg->owners[o].campaign, row->campaign)) {
					ow = &pg->owners[o];
					pg->owner_hit = o;
				}
			}
			/* written by a committed transaction; one still in flight may fail: this one writes it too */
			if (ow && ow->committed && !strcmp(ow->tenant, tenant))
				continue;
			if (ow && ow->seq == pg->seq && !strcmp(ow->tenant, tenant))
				continue;	/* in this statement already */
			if (!ow) {
				if (grow(pg, (void **)&pg->owners, &pg->owners_cap, pg->n_owners + 1, sizeof(*pg->owners)) < 0)
					return -ENOMEM;
				ow = &pg->owners[pg->n_owners++];
				ow->campaign = talloc_strdup(pg, row->campaign);
				ow->tenant = NULL;
			}
			talloc_free(ow->tenant);
			ow->tenant = talloc_strdup(pg, tenant);
			ow->seq = pg->seq;
			ow->committed = false;
			if (!ow->campaign || !ow->tenant) {
				owners_forget(pg);
				return -ENOMEM;
			}
			if (!n) {
				pg->col[0].len = pg->col[1].len = 0;
				rc |= buf_add(pg, &pg->col[0], "{", 1);
				rc |= buf_add(pg, &pg->col[1], "{", 1);
			}
			rc |= array_elem(pg, &pg->col[0], row->campaign, !n);
			rc |= array_elem(pg, &pg->col[1], tenant, !n);
			n++;
		}
	}
	if (!n)
		return 0;
	for (i = 0; i < 2; i++) {
		rc |= buf_add(pg, &pg->col[i], "}", 1);
		values[i] = pg->col[i].p;
	}
	if (rc)
		return -ENOMEM;
	snprintf(name, sizeof(name), "u%d", PG_OWNERS);
	if (!PQsendQueryPrepared(pg->conn, name, 2, values, NULL, NULL, 0) || expect(pg, EX_STMT, 0, NULL) < 0)
		return -EIO;
	return 0;
}

/* The flight's questions for a state to resume, as one statement: the arrays of campaigns and of "PSEUDONYM
 * SINCE_MS" (the queries' arguments); the rows it took come back with their pseudonym and campaign. */
static int send_takes(struct uigw_store_pg *pg, struct pg_flight *f)
{
	const char *values[2];
	unsigned int i;
	int rc = 0;
	char name[8];

	for (i = 0; i < 2; i++) {
		pg->col[i].len = 0;
		rc |= buf_add(pg, &pg->col[i], "{", 1);
	}
	for (i = 0; i < f->n_takes; i++) {
		rc |= array_elem(pg, &pg->col[0], f->takes[i].q->campaign, i == 0);
		rc |= array_elem(pg, &pg->col[1], f->takes[i].q->arg, i == 0);
	}
	for (i = 0; i < 2; i++) {
		rc |= buf_add(pg, &pg->col[i], "}", 1);
		values[i] = pg->col[i].p;
	}
	if (rc)
		return -ENOMEM;
	snprintf(name, sizeof(name), "u%d", PG_TAKES);
	if (!PQsendQueryPrepared(pg->conn, name, 2, values, NULL, NULL, 0) || expect(pg, EX_TAKES, -1, NULL) < 0)
		return -EIO;
	return 0;
}

/* Send the next group commit: the queued jobs (at most batch-max-rows rows; at least one job), in one transaction,
 * or one transaction each while some must go alone; then their queries. */
static void send_flight(struct uigw_store_pg *pg)
{
	struct uigw_store *st = pg->st;
	struct uigw_store_job *job;
	unsigned int rows = 0, i, r;
	bool queries = false;
	struct pg_flight *f;
	struct pgp p;

again:
	if (pg->state != PG_READY || pg->n_fl >= PG_FLIGHTS)
		return;
	f = fl_at(pg, pg->n_fl);
	f->n_jobs = f->n_segs = f->n_takes = 0;
	f->erased = 0;
	f->cdr = false;
	memset(pg->n_bref, 0, sizeof(pg->n_bref));	/* what a failed send left */
	/* take the jobs */
	pthread_mutex_lock(&st->lock);
	while (!llist_empty(&st->queue)) {
		job = llist_first_entry(&st->queue, struct uigw_store_job, list);
		if (f->n_jobs && rows + job->n_rows > st->cfg.batch_max_rows)
			break;
		if (grow(pg, (void **)&f->jobs, &f->jobs_cap, f->n_jobs + 1, sizeof(*f->jobs)) < 0)
			break;
		llist_del(&job->list);
		INIT_LLIST_HEAD(&job->list);
		st->n_queued--;
		st->rows_queued -= job->n_rows;
		f->jobs[f->n_jobs++] = job;
		rows += job->n_rows;
		if (pg->split)
			break;	/* alone */
	}
	pthread_mutex_unlock(&st->lock);

	/* jobs with rows this backend cannot write fail at once, without the others */
	for (i = 0; i < f->n_jobs;) {
		job = f->jobs[i];
		job->rc = uigw_store_pg_job_check(&pg->st->cfg, pg->instance, job);
		if (job->rc < 0) {
			rows -= job->n_rows;
			memmove(&f->jobs[i], &f->jobs[i + 1], (f->n_jobs - i - 1) * sizeof(*f->jobs));
			f->n_jobs--;
			if (pg->split)
				pg->split--;
			job_done(pg, job);
			continue;
		}
		i++;
	}
	if (!f->n_jobs) {
		if (!llist_empty(&st->queue))
			goto again;
		return;
	}
	if (pg->split)
		pg->split--;

	if (grow(pg, (void **)&f->segs, &f->segs_cap, 1, sizeof(*f->segs)) < 0)
		goto lost;
	f->segs[0] = (struct pg_seg){ .first = 0, .n = f->n_jobs, .seq = ++pg->seq };
	f->n_segs = 1;
	f->sent_us = uigw_mono_us();
	pg->fl_sending = f - pg->fl;
	pg->n_fl++;	/* in flight (in doubt if the connection breaks from here on) */
	st->n_in_flight += f->n_jobs;
	st->stats.jobs += f->n_jobs;

	p.n = 0;
	p_text(&p, pg->instance);
	p_int(&p, pg->seq);
	p_int(&p, uigw_wall_ms());
	if (send_stmt(pg, PG_INSTANCE, &p) < 0 || expect(pg, EX_STMT, 0, NULL) < 0 || send_owners(pg, f) < 0)
		goto lost;
	for (i = 0; i < f->n_jobs; i++) {
		job = f->jobs[i];
		queries |= job->n_queries > 0;
		for (r = 0; r < job->n_rows; r++) {
			if (send_row(pg, &job->rows[r], 0) < 0)
				goto lost;
		}
	}
	if (send_batches(pg, 0) < 0)
		goto lost;
	if (!PQpipelineSync(pg->conn) || expect(pg, EX_SYNC, 0, NULL) < 0)
		goto lost;
	if (queries) {
		for (i = 0; i < f->n_jobs; i++) {
			job = f->jobs[i];
			for (r = 0; r < job->n_queries; r++) {
				struct uigw_store_query *q = &job->queries[r];

				q->rc = -EIO;
				q->text = NULL;
				if (q->query == UIGW_Q_DLG_STATE) {
					/* together, below */
					if (grow(pg, (void **)&f->takes, &f->takes_cap, f->n_takes + 1,
						 sizeof(*f->takes)) < 0)
						goto lost;
					f->takes[f->n_takes++] = (struct pg_take){ .q = q, .job = job };
					continue;
				}
				p.n = 0;
				p_text(&p, q->campaign);
				p_text(&p, q->arg);
				if (q->query >= _UIGW_Q_NUM || send_stmt(pg, PG_Q_FIRST + q->query, &p) < 0 ||
				    expect_q(pg, EX_QUERY, -1, q, job) < 0)
					goto lost;
			}
		}
		if (f->n_takes && send_takes(pg, f) < 0)
			goto lost;
		if (!PQpipelineSync(pg->conn) || expect(pg, EX_SYNC, -1, NULL) < 0)
			goto lost;
	}
	pg->ex[pg->n_ex - 1].last = true;	/* the flight is over with this answer */
	flush(pg);
	/* the next one goes at once if jobs wait: the server writes this one meanwhile */
	if (!llist_empty(&st->queue) && pg->n_fl < PG_FLIGHTS) {
		rows = 0;
		queries = false;
		goto again;
	}
	return;
lost:
	conn_lost(pg, PQerrorMessage(pg->conn));
}

void uigw_store_pg_kick(struct uigw_store *st)
{
	send_flight(st->pg);
}

/* one result of the pipeline */
static void on_result(struct uigw_store_pg *pg, PGresult *res)
{
	ExecStatusType rs = PQresultStatus(res);
	struct pg_flight *f;
	struct pg_expect *e;
	struct pg_seg *seg;

	if (pg->i_ex >= pg->n_ex) {
		LOGP(DSTORE, LOGL_ERROR, "PostgreSQL: an answer nothing was sent for (%s)\n", PQresStatus(rs));
		return;
	}
	e = &pg->ex[pg->i_ex++];
	f = &pg->fl[e->fl];
	seg = e->seg >= 0 && (unsigned int)e->seg < f->n_segs ? &f->segs[e->seg] : NULL;
	switch (e->kind) {
	case EX_SYNC:
		if (rs != PGRES_PIPELINE_SYNC)
			LOGP(DSTORE, LOGL_ERROR, "PostgreSQL: %s where a sync was expected\n", PQresStatus(rs));
		if (seg)
			seg->synced = true;
		return;
	case EX_QUERY:
		if (rs == PGRES_TUPLES_OK && e->q->query == UIGW_Q_DLG_STATE) {
			/* no row: nothing to resume */
			e->q->count = PQntuples(res);
			e->q->rc = 0;
			if (PQntuples(res) == 1 && PQnfields(res) >= 6 && e->job)
				e->q->text = talloc_asprintf(e->job, "%s\x1f%s\x1f%s\x1f%s", PQgetvalue(res, 0, 2),
							     PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 4),
							     PQgetvalue(res, 0, 5));
		} else if (rs == PGRES_TUPLES_OK && PQntuples(res) == 1 && PQnfields(res) >= 2) {
			e->q->count = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
			e->q->value = strtod(PQgetvalue(res, 0, 1), NULL);
			e->q->rc = 0;
		} else if (rs == PGRES_FATAL_ERROR) {
			LOGP(DSTORE, LOGL_ERROR, "PostgreSQL: a query failed: %s", PQresultErrorMessage(res));
		}
		return;
	case EX_TAKES: {
		unsigned int t;
		int row;

		if (rs != PGRES_TUPLES_OK) {
			if (rs == PGRES_FATAL_ERROR)
				LOGP(DSTORE, LOGL_ERROR, "PostgreSQL: taking dialog states failed: %s",
				     PQresultErrorMessage(res));
			return;	/* their rc stays -EIO: no resume */
		}
		for (t = 0; t < f->n_takes; t++) {
			f->takes[t].q->rc = 0;
			f->takes[t].q->count = 0;
		}
		/* each row: pseudonym, campaign, version, node, hist, vars */
		for (row = 0; row < PQntuples(res); row++) {
			const char *sub = PQgetvalue(res, row, 0), *camp = PQgetvalue(res, row, 1);
			size_t sl = strlen(sub);

			for (t = 0; t < f->n_takes; t++) {
				struct uigw_store_query *q = f->takes[t].q;

				if (q->count || !q->arg || strncmp(q->arg, sub, sl) || q->arg[sl] != ' ' ||
				    !q->campaign || strcmp(q->campaign, camp))
					continue;
				q->count = 1;
				q->text = talloc_asprintf(f->takes[t].job, "%s\x1f%s\x1f%s\x1f%s",
							  PQgetvalue(res, row, 2), PQgetvalue(res, row, 3),
							  PQgetvalue(res, row, 4), PQgetvalue(res, row, 5));
				break;
			}
		}
		return;
	}
	case EX_PURGE:
	case EX_ERASE:
		if (rs == PGRES_COMMAND_OK) {
			unsigned int n = atoi(PQcmdTuples(res));

			if (e->kind == EX_ERASE) {
				f->erased += n;
			} else {
				pg->st->stats.purged += n;
				pg->purge_more |= n >= UIGW_STORE_PURGE_BATCH;
			}
			return;
		}
		/* fall through */
	case EX_STMT:
		if (rs != PGRES_FATAL_ERROR)
			return;
		if (seg && !seg->failed) {
			const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

			seg->failed = true;
			osmo_strlcpy(seg->sqlstate, state ? state : "XX000", sizeof(seg->sqlstate));
			LOGP(DSTORE, LOGL_ERROR, "PostgreSQL: %s", PQresultErrorMessage(res));
		} else if (!seg) {
			LOGP(DSTORE, LOGL_ERROR, "PostgreSQL: cannot prepare: %s", PQresultErrorMessage(res));
			pg->setup_failed = true;
		}
		return;
	}
}

static void ready(struct uigw_store_pg *pg)
{
	pg->state = PG_READY;
	pg->backoff_ms = 0;
	if (pg->logged_down)
		LOGP(DSTORE, LOGL_NOTICE, "PostgreSQL: connected again as instance %s\n", pg->instance);
	else
		LOGP(DSTORE, LOGL_NOTICE, "PostgreSQL: connected as instance %s (schema %d)\n", pg->instance,
		     UIGW_PG_SCHEMA_VERSION);
	pg->logged_down = false;
	set_failing(pg, false);
	send_flight(pg);
}

/* pipeline mode, the statements prepared (the answers come as a flight without jobs) */
static void prepare(struct uigw_store_pg *pg)
{
	static const Oid text2[2] = { TEXTOID, TEXTOID };
	char name[8];
	int i;

	pg->state = PG_PREPARING;
	pg->setup_failed = false;
	if (!PQenterPipelineMode(pg->conn))
		goto lost;
	for (i = 0; i < _PG_NUM; i++) {
		const char *sql = uigw_store_pg_stmts[i].sql;
		int n_params = uigw_store_pg_stmts[i].n_params;
		const Oid *types = NULL;
		char erase[512];

		if (i >= PG_E_FIRST && i < PG_P_FIRST) {
			/* the erasure: the places' list, shared with the export */
			const struct uigw_store_pg_place *pl = &uigw_store_pg_places[i - PG_E_FIRST];

			snprintf(erase, sizeof(erase), "DELETE FROM %s WHERE %s", pl->table, pl->where);
			sql = erase;
			n_params = 2;
			types = text2;
		} else if (i >= PG_P_FIRST) {
			sql = uigw_store_pg_purges[i - PG_P_FIRST].sql;
			n_params = 1;
		} else if (i >= PG_Q_FIRST && i < PG_B_FIRST) {
			types = text2;
		}
		snprintf(name, sizeof(name), "u%d", i);
		if (!PQsendPrepare(pg->conn, name, sql, n_params, types) || expect(pg, EX_STMT, -1, NULL) < 0)
			goto lost;
	}
	if (!PQpipelineSync(pg->conn) || expect(pg, EX_SYNC, -1, NULL) < 0)
		goto lost;
	flush(pg);
	return;
lost:
	conn_lost(pg, PQerrorMessage(pg->conn));
}

/* what goes wrong in the setup is logged once until it works; the retries are quiet */
static int setup_level(const struct uigw_store_pg *pg)
{
	return pg->logged_down ? LOGL_DEBUG : LOGL_ERROR;
}

/* the results of the setup query, in order: DO, version, lock, the instance's row, its number, its seq and number,
 * the settings */
static void setup_result(struct uigw_store_pg *pg, PGresult *res)
{
	ExecStatusType rs = PQresultStatus(res);
	int n = pg->setup_result++;

	if (rs == PGRES_FATAL_ERROR) {
		LOGP(DSTORE, setup_level(pg), "PostgreSQL: setting up the database failed: %s", PQresultErrorMessage(res));
		pg->setup_failed = true;
		return;
	}
	if (rs != PGRES_TUPLES_OK || PQntuples(res) < 1)
		return;
	switch (n) {
	case 1:
		pg->setup_version = atoi(PQgetvalue(res, 0, 0));
		break;
	case 2:
		pg->setup_locked = PQgetvalue(res, 0, 0)[0] == 't';
		break;
	case 5:
		pg->setup_seq = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		pg->num = atoi(PQgetvalue(res, 0, 1));
		break;
	}
}

static void setup_done(struct uigw_store_pg *pg)
{
	if (pg->setup_failed || pg->setup_result < 7) {
		conn_lost(pg, "the setup failed");
		return;
	}
	if (pg->setup_version != UIGW_PG_SCHEMA_VERSION) {
		LOGP(DSTORE, setup_level(pg), "PostgreSQL: the database's schema is version %d, this gateway's %d\n",
		     pg->setup_version, UIGW_PG_SCHEMA_VERSION);
		conn_lost(pg, "schema version");
		return;
	}
	if (!pg->setup_locked) {
		LOGP(DSTORE, setup_level(pg), "PostgreSQL: instance name %s is held by another connected gateway: each "
		     "needs a name of its own (node store: instance NAME)\n", pg->instance);
		conn_lost(pg, "instance name in use");
		return;
	}
	if (pg->setup_seq > pg->seq)
		pg->seq = pg->setup_seq;
	/* a group commit the lost connection left in doubt: the instance's seq tells whether it committed */
	flights_end(pg, pg->setup_seq);
	prepare(pg);
}

static void setup(struct uigw_store_pg *pg)
{
	char *lit, *sql, *schema;
	int ok;

	pg->state = PG_SETUP;
	pg->setup_result = 0;
	pg->setup_failed = false;
	pg->setup_version = -1;
	pg->setup_locked = 0;
	pg->setup_seq = 0;
	if (PQsetnonblocking(pg->conn, 1) < 0)
		goto lost;
	lit = PQescapeLiteral(pg->conn, pg->instance, strlen(pg->instance));
	if (!lit)
		goto lost;
	schema = uigw_store_pg_schema_sql(pg, UIGW_PG_SCHEMA_VERSION);
	sql = schema ? talloc_asprintf(pg, "%s; SELECT version FROM uigw_schema;"
			      " SELECT pg_try_advisory_lock(" OSMO_STRINGIFY_VAL(UIGW_PG_SCHEMA_LOCK) ", hashtext(%s));"
			      " INSERT INTO uigw_instance (name, started, seen) VALUES (%s, %" PRId64 ", %" PRId64 ")"
			      " ON CONFLICT (name) DO UPDATE SET started = excluded.started;"
			      " UPDATE uigw_instance SET num = nextval('uigw_instance_num') WHERE name = %s AND num IS NULL;"
			      " SELECT seq, num FROM uigw_instance WHERE name = %s;"
			      /* for the webhooks' triggers: whose entries, and whether the test drive's count */
			      " SELECT set_config('uigw.instance', %s, false), set_config('uigw.test_results', '%s', false)",
			      schema, lit, lit, uigw_wall_ms(), uigw_wall_ms(), lit, lit, lit,
			      pg->st->cfg.test_results ? "on" : "off") : NULL;
	talloc_free(schema);
	PQfreemem(lit);
	ok = sql && PQsendQuery(pg->conn, sql);
	talloc_free(sql);
	if (!ok)
		goto lost;
	flush(pg);
	return;
lost:
	conn_lost(pg, PQerrorMessage(pg->conn));
}

static void read_results(struct uigw_store_pg *pg)
{
	PGresult *res;
	int nulls = 0;

	if (!PQconsumeInput(pg->conn)) {
		conn_lost(pg, PQerrorMessage(pg->conn));
		return;
	}
	while (pg->conn && !PQisBusy(pg->conn)) {
		res = PQgetResult(pg->conn);
		if (!res) {
			if (pg->state == PG_SETUP) {
				setup_done(pg);
				return;
			}
			/* between the results of two statements; twice: nothing more has come */
			if (++nulls > 1 || pg->i_ex >= pg->n_ex)
				break;
			continue;
		}
		nulls = 0;
		if (pg->state == PG_SETUP)
			setup_result(pg, res);
		else
			on_result(pg, res);
		PQclear(res);
		if (pg->state == PG_PREPARING && pg->n_ex && pg->i_ex == pg->n_ex) {
			pg->n_ex = pg->i_ex = 0;
			if (pg->setup_failed) {
				conn_lost(pg, "preparing the statements failed");
				return;
			}
			ready(pg);
		} else if (pg->state == PG_READY && pg->i_ex && pg->ex[pg->i_ex - 1].last) {
			/* the oldest flight's last answer: over; what the next one expects moves to the front */
			memmove(pg->ex, pg->ex + pg->i_ex, (pg->n_ex - pg->i_ex) * sizeof(*pg->ex));
			pg->n_ex -= pg->i_ex;
			pg->i_ex = 0;
			pg->rq_pos = NULL;
			flight_end(pg, -1);
			pg->rq_pos = NULL;
			send_flight(pg);
		}
	}
	if (pg->conn && PQstatus(pg->conn) == CONNECTION_BAD)
		conn_lost(pg, PQerrorMessage(pg->conn));
}

static void poll_connect(struct uigw_store_pg *pg)
{
	PostgresPollingStatusType ps = PQconnectPoll(pg->conn);
	int fd = PQsocket(pg->conn);

	/* the socket may change while libpq tries the hosts of the connection string */
	if (fd != pg->ofd.fd) {
		if (osmo_fd_is_registered(&pg->ofd))
			osmo_fd_unregister(&pg->ofd);
		pg->ofd.fd = fd;
		if (fd >= 0 && osmo_fd_register(&pg->ofd) < 0) {
			conn_lost(pg, "cannot register the socket");
			return;
		}
	}
	switch (ps) {
	case PGRES_POLLING_READING:
		pg->ofd.when = OSMO_FD_READ;
		break;
	case PGRES_POLLING_WRITING:
		pg->ofd.when = OSMO_FD_READ | OSMO_FD_WRITE;
		break;
	case PGRES_POLLING_OK:
		pg->ofd.when = OSMO_FD_READ;
		setup(pg);
		break;
	default:
		conn_lost(pg, PQerrorMessage(pg->conn));
		break;
	}
}

static int pg_fd_cb(struct osmo_fd *ofd, unsigned int what)
{
	struct uigw_store_pg *pg = ofd->data;

	if (pg->state == PG_CONNECTING) {
		poll_connect(pg);
		return 0;
	}
	if ((what & OSMO_FD_WRITE) && flush(pg) < 0)
		return 0;
	if (what & OSMO_FD_READ)
		read_results(pg);
	return 0;
}

static void disconnect(struct uigw_store_pg *pg)
{
	if (osmo_fd_is_registered(&pg->ofd))
		osmo_fd_unregister(&pg->ofd);
	pg->ofd.fd = -1;
	if (pg->conn) {
		PQfinish(pg->conn);
		pg->conn = NULL;
	}
}

/* The connection is gone (or could not be made): the store fails until it is back; a group commit in flight waits
 * for the next connection to tell whether it committed. */
static void conn_lost(struct uigw_store_pg *pg, const char *what)
{
	if (!pg->logged_down) {
		LOGP(DSTORE, LOGL_ERROR, "PostgreSQL: the database cannot be used (%s: %s)%s\n",
		     get_value_string(pg_state_names, pg->state), what ? what : "",
		     pg->n_fl ? "; the group commits in flight wait for the next connection" : "");
		pg->logged_down = true;
	}
	disconnect(pg);
	pg->state = PG_DOWN;
	pg->n_ex = pg->i_ex = 0;
	set_failing(pg, true);
	pg->backoff_ms = pg->backoff_ms ? OSMO_MIN(pg->backoff_ms * 2, PG_BACKOFF_MAX_MS) : PG_BACKOFF_MIN_MS;
	osmo_timer_schedule(&pg->retry, pg->backoff_ms / 1000, (pg->backoff_ms % 1000) * 1000);
}

/* the server's notices and warnings ("relation ... already exists, skipping", "terminating connection due to
 * administrator command") into the log, not onto stderr */
static void notice_cb(void *arg, const char *message)
{
	LOGP(DSTORE, LOGL_INFO, "PostgreSQL says: %s", message);
}

static void pg_connect(struct uigw_store_pg *pg)
{
	disconnect(pg);
	pg->conn = PQconnectStart(pg->conninfo);
	if (!pg->conn || PQstatus(pg->conn) == CONNECTION_BAD) {
		conn_lost(pg, pg->conn ? PQerrorMessage(pg->conn) : "out of memory");
		return;
	}
	PQsetNoticeProcessor(pg->conn, notice_cb, pg);
	pg->state = PG_CONNECTING;
	osmo_fd_setup(&pg->ofd, -1, OSMO_FD_READ | OSMO_FD_WRITE, pg_fd_cb, pg, 0);
	poll_connect(pg);
}

static void retry_cb(void *data)
{
	pg_connect(data);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* the retention purge: a job of one purge row, hourly, and every second while a table had a full batch due */

#define PG_PURGE_INTERVAL_S	3600
#define PG_PURGE_AGAIN_S	1

static void purge_done(struct uigw_store_job *job, void *data)
{
	struct uigw_store_pg *pg = data;

	if (job->rc < 0)
		LOGP(DSTORE, LOGL_ERROR, "PostgreSQL: the retention purge failed: %s\n", strerror(-job->rc));
	talloc_free(job);
	pg->purging = false;
	osmo_timer_schedule(&pg->purge, pg->purge_more ? PG_PURGE_AGAIN_S : PG_PURGE_INTERVAL_S, 0);
	pg->purge_more = false;
}

static void purge_cb(void *data)
{
	struct uigw_store_pg *pg = data;
	struct uigw_store_job *job;

	if (pg->purging)
		return;
	job = uigw_store_job_alloc(pg->st, purge_done, pg);
	if (!job || !uigw_store_job_row(job, UIGW_ROW_PURGE) || uigw_store_submit(job) < 0) {
		talloc_free(job);
		osmo_timer_schedule(&pg->purge, PG_PURGE_AGAIN_S, 0);
		return;
	}
	pg->purging = true;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* the reads' connection (blocking, as the SQLite reads) */

struct pg_conn *uigw_store_pg_rconn(struct uigw_store *st)
{
	struct uigw_store_pg *pg = st->pg;
	/* a connect_timeout before the connection string: the string's own, if it has one, wins */
	const char *const keys[] = { "connect_timeout", "dbname", NULL };
	const char *const vals[] = { "2", pg->conninfo, NULL };

	if (pg->rconn && PQstatus(pg->rconn) == CONNECTION_OK)
		return pg->rconn;
	if (pg->rconn)
		PQfinish(pg->rconn);
	pg->n_rprep = 0;	/* a new connection has no prepared statements */
	pg->rconn = PQconnectdbParams(keys, vals, 1);
	if (pg->rconn && PQstatus(pg->rconn) == CONNECTION_OK) {
		PQsetNoticeProcessor(pg->rconn, notice_cb, pg);
		return pg->rconn;
	}
	LOGP(DSTORE, LOGL_ERROR, "PostgreSQL: cannot read: %s", pg->rconn ? PQerrorMessage(pg->rconn) : "no memory\n");
	if (pg->rconn)
		PQfinish(pg->rconn);
	pg->rconn = NULL;
	return NULL;
}

PGresult *uigw_store_pg_read_exec(struct uigw_store *st, const char *sql, int n, const Oid *types,
				   const char *const *values, bool constant)
{
	struct uigw_store_pg *pg = st->pg;
	PGconn *c = uigw_store_pg_rconn(st);
	unsigned int i;
	char name[8];

	if (!c)
		return NULL;
	if (!constant)
		return PQexecParams(c, sql, n, types, values, NULL, NULL, 0);
	/* a read of the hot paths (a push's checks, a dialog's begin) is parsed and planned once per connection */
	for (i = 0; i < pg->n_rprep && pg->rprep[i].sql != sql; i++)
		;
	snprintf(name, sizeof(name), "r%u", i);
	if (i == pg->n_rprep) {
		PGresult *res;

		if (i == ARRAY_SIZE(pg->rprep))
			return PQexecParams(c, sql, n, types, values, NULL, NULL, 0);
		res = PQprepare(c, name, sql, n, types);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			return res;	/* the caller logs the error */
		PQclear(res);
		pg->rprep[pg->n_rprep++].sql = sql;
	}
	return PQexecPrepared(c, name, n, values, NULL, NULL, 0);
}

void uigw_store_pg_rconn_failed(struct uigw_store *st)
{
	struct uigw_store_pg *pg = st->pg;

	if (pg->rconn && PQstatus(pg->rconn) != CONNECTION_OK) {
		PQfinish(pg->rconn);
		pg->rconn = NULL;
		pg->n_rprep = 0;
	}
}

void uigw_store_pg_stats(struct uigw_store *st, struct uigw_store_stats *out)
{
	out->pg_state = get_value_string(pg_state_names, st->pg->state);
	out->pg_instance = st->pg->instance;
	out->pg_seq = st->pg->seq;
}

int uigw_store_instance_num(const struct uigw_store *st)
{
	return st && st->pg ? st->pg->num : 0;
}

const char *uigw_store_pg_instance(const struct uigw_store *st)
{
	return st->pg->instance;
}

/* ---------------------------------------------------------------------------------------------------------- */

int uigw_store_pg_open(struct uigw_store *st)
{
	struct uigw_store_pg *pg = talloc_zero(st, struct uigw_store_pg);

	if (!pg)
		return -ENOMEM;
	pg->st = st;
	pg->ofd.fd = -1;
	pg->conninfo = talloc_strdup(pg, st->cfg.conninfo ? st->cfg.conninfo : "");
	pg->instance = talloc_strdup(pg, st->cfg.instance && st->cfg.instance[0] ? st->cfg.instance : "uigw");
	if (!pg->conninfo || !pg->instance) {
		talloc_free(pg);
		return -ENOMEM;
	}
	osmo_timer_setup(&pg->retry, retry_cb, pg);
	osmo_timer_setup(&pg->done, done_cb, pg);
	osmo_timer_setup(&pg->purge, purge_cb, pg);
	/* a backlog goes on in batches from the start, not only an hour later (the dialogs' states are purged
	 * whatever the retention settings) */
	osmo_timer_schedule(&pg->purge, PG_PURGE_AGAIN_S, 0);
	st->pg = pg;
	__atomic_store_n(&st->failing, 1, __ATOMIC_RELAXED);
	pg_connect(pg);
	return 0;
}

/* One round of the loop for the backend alone: its socket and its retry timer. */
static void step(struct uigw_store_pg *pg, int timeout_ms);

int uigw_store_pg_wait_up(struct uigw_store *st)
{
	struct uigw_store_pg *pg = st->pg;
	/* what the start reads (the MT queue, the deferred pushes) needs the schema: the first connection is waited
	 * for, hold-on-failure seconds at most (at least one attempt) */
	int64_t deadline = uigw_mono_us() + (int64_t)OSMO_MAX(st->cfg.hold_s, 1) * 1000000;

	while (pg->state != PG_READY && uigw_mono_us() < deadline)
		step(pg, 50);
	if (pg->state == PG_READY)
		return 0;
	LOGP(DSTORE, LOGL_ERROR, "PostgreSQL: no usable connection within %u s (%s)\n", OSMO_MAX(st->cfg.hold_s, 1),
	     pg->conninfo[0] ? pg->conninfo : "libpq's defaults");
	return -EIO;
}

static void step(struct uigw_store_pg *pg, int timeout_ms)
{
	struct pollfd pfd = { .fd = pg->ofd.fd, .events = 0 };
	unsigned int what = 0;

	if (pg->state == PG_DOWN) {
		struct timeval left;

		if (!osmo_timer_pending(&pg->retry) || osmo_timer_remaining(&pg->retry, NULL, &left) < 0) {
			osmo_timer_del(&pg->retry);
			pg_connect(pg);
		} else {
			usleep(10000);
		}
		return;
	}
	if (pfd.fd < 0)
		return;
	if (pg->ofd.when & OSMO_FD_READ)
		pfd.events |= POLLIN;
	if (pg->ofd.when & OSMO_FD_WRITE)
		pfd.events |= POLLOUT;
	if (poll(&pfd, 1, timeout_ms) <= 0)
		return;
	if (pfd.revents & (POLLIN | POLLERR | POLLHUP))
		what |= OSMO_FD_READ;
	if (pfd.revents & POLLOUT)
		what |= OSMO_FD_WRITE;
	pg_fd_cb(&pg->ofd, what);
}

void uigw_store_pg_drain(struct uigw_store *st)
{
	struct uigw_store_pg *pg = st->pg;
	/* a database out of reach holds the loop a moment only (at close: for hold-on-failure, at most 30 s) */
	int64_t wait_ms = st->closing ? OSMO_MIN(OSMO_MAX(st->cfg.hold_s, 1), 30) * 1000 : 2000;
	int64_t deadline = uigw_mono_us() + (uigw_store_failing(st) ? wait_ms : 60000) * 1000;

	send_flight(pg);
	while ((pg->n_fl || !llist_empty(&st->queue)) && uigw_mono_us() < deadline)
		step(pg, 50);
	osmo_timer_del(&pg->done);
	uigw_store_run_completions(st);
}

void uigw_store_pg_close(struct uigw_store *st)
{
	struct uigw_store_pg *pg = st->pg;
	struct uigw_store_job *job;

	if (!pg)
		return;
	uigw_store_pg_drain(st);
	pthread_mutex_lock(&st->lock);
	st->stop = true;	/* the completions below cannot queue more */
	pthread_mutex_unlock(&st->lock);
	/* what could not be written in time fails: its completion says so */
	flights_end(pg, INT64_MIN);
	while (!llist_empty(&st->queue)) {
		job = llist_first_entry(&st->queue, struct uigw_store_job, list);
		llist_del(&job->list);
		st->n_queued--;
		job->rc = -EIO;
		job_done(pg, job);
	}
	osmo_timer_del(&pg->done);
	uigw_store_run_completions(st);
	/* the charging files: the records committed, then the cursor (the thread uses the instance's name) */
	uigw_store_pg_cdr_stop(st);
	osmo_timer_del(&pg->retry);
	osmo_timer_del(&pg->purge);
	disconnect(pg);
	if (pg->rconn)
		PQfinish(pg->rconn);
	st->pg = NULL;
	talloc_free(pg);
}
