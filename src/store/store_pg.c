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
 *  memory up to queue-max-jobs, and the connection is tried again with a growing pause (100 ms to 5 s).
 *  The statements of a group commit are built in store_pg_build.c. */

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
#include "store_pg_priv.h"

#define PG_BACKOFF_MIN_MS	100
#define PG_BACKOFF_MAX_MS	5000
#define TEXTOID			25

static const struct value_string pg_state_names[] = {
	{ PG_DOWN, "down" },
	{ PG_CONNECTING, "connecting" },
	{ PG_SETUP, "setting up" },
	{ PG_PREPARING, "preparing" },
	{ PG_READY, "ready" },
	{ 0, NULL }
};

/* ---------------------------------------------------------------------------------------------------------- */
/* the flight's bookkeeping */

int uigw_store_pg_grow(void *ctx, void **array, unsigned int *cap, unsigned int need, size_t size)
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

int uigw_store_pg_expect_q(struct uigw_store_pg *pg, enum pg_expect_kind kind, int seg, struct uigw_store_query *q,
		    struct uigw_store_job *job)
{
	if (grow(pg, (void **)&pg->ex, &pg->ex_cap, pg->n_ex + 1, sizeof(*pg->ex)) < 0)
		return -ENOMEM;
	pg->ex[pg->n_ex++] = (struct pg_expect){ .kind = kind, .seg = seg, .q = q, .job = job,
						 .fl = (uint8_t)pg->fl_sending };
	return 0;
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
		uigw_store_pg_owners_forget(pg);	/* what the flight wrote of campaign_owner may be lost */
	if (committed && f->cdr)
		uigw_store_pg_cdr_kick(st);	/* its records into the CSV files */
	f->cdr = false;
	took = uigw_mono_us() - f->sent_us;
	if (committed == f->n_segs)
		uigw_store_delay_learn(st, f->n_jobs, uigw_real_mono_us() - f->sent_real_us);
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

int uigw_store_pg_send_stmt(struct uigw_store_pg *pg, int stmt, const struct pgp *p)
{
	char name[8];

	snprintf(name, sizeof(name), "u%d", stmt);
	if (!PQsendQueryPrepared(pg->conn, name, p->n, p->v, p->len, p->fmt, 0))
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
	f->sent_real_us = uigw_real_mono_us();
	pg->fl_sending = f - pg->fl;
	pg->n_fl++;	/* in flight (in doubt if the connection breaks from here on) */
	st->n_in_flight += f->n_jobs;
	st->stats.jobs += f->n_jobs;

	p.n = 0;
	p_text(&p, pg->instance);
	p_int(&p, pg->seq);
	p_int(&p, uigw_wall_ms());
	if (send_stmt(pg, PG_INSTANCE, &p) < 0 || expect(pg, EX_STMT, 0, NULL) < 0 || uigw_store_pg_send_owners(pg, f) < 0)
		goto lost;
	for (i = 0; i < f->n_jobs; i++) {
		job = f->jobs[i];
		queries |= job->n_queries > 0;
		for (r = 0; r < job->n_rows; r++) {
			if (uigw_store_pg_send_row(pg, &job->rows[r], 0) < 0)
				goto lost;
		}
	}
	if (uigw_store_pg_send_batches(pg, 0) < 0)
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
		if (f->n_takes && uigw_store_pg_send_takes(pg, f) < 0)
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
void uigw_store_pg_notice_cb(void *arg, const char *message)
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
	PQsetNoticeProcessor(pg->conn, uigw_store_pg_notice_cb, pg);
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
