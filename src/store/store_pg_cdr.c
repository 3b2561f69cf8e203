/*! \file store_pg_cdr.c
 *  The charging CSV files on PostgreSQL. Table cdr is the truth, as on SQLite; each gateway makes files of the
 *  records its own transactions wrote (cdr.instance), in its cdr-directory, with the file code of store_cdr.c
 *  (rotation by age and size, a file a crash left open repaired at the start). A thread of its own, with a
 *  blocking connection of its own, reads the records after its cursor in id order (the ids a gateway's serial
 *  group commits get from the table's sequence grow in the order of its commits, so the cursor skips none),
 *  appends them and keeps the cursor in cdr_export (by instance) at most once a second, after the open file was
 *  synced. It wakes after each group commit that wrote records, and every second.
 *
 *  SQLite writes the records through a thread and database of their own, and makes the records a crash lost from
 *  the dialog rows at the next start; on PostgreSQL a record is a row of the group commits like the dialog's, so
 *  nothing is to recover: either both are committed or neither. */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libpq-fe.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/store/store.h>
#include "store_priv.h"

#define CHUNK		1000
#define CURSOR_EVERY_US	1000000

static const char read_sql[] =
	"SELECT id, ended, dialog, started, channel, campaign, tenant, subscriber, roaming, visited, screens,"
	" mt_messages, outcome, refusal, charge_class, zero_rated, test, recovered FROM cdr"
	" WHERE instance = $1 AND id > $2 ORDER BY id LIMIT " OSMO_STRINGIFY_VAL(CHUNK);

struct pg_cdr {
	PGconn *conn;
	const char *instance;
	bool cursor_read;	/*!< the cursor was read on a connection (once) */
	bool down_logged;
};

static PGresult *exec(struct pg_cdr *x, const char *what, const char *sql, int n, const char *const *v,
		      ExecStatusType want)
{
	PGresult *res = PQexecParams(x->conn, sql, n, NULL, v, NULL, NULL, 0);

	if (res && PQresultStatus(res) == want)
		return res;
	LOGP(DSTORE, LOGL_ERROR, "PostgreSQL: charging files: %s failed: %s", what,
	     res ? PQresultErrorMessage(res) : PQerrorMessage(x->conn));
	PQclear(res);
	PQfinish(x->conn);	/* made again on the next round */
	x->conn = NULL;
	return NULL;
}

static bool connected(struct uigw_store *st, struct pg_cdr *x)
{
	const char *const keys[] = { "connect_timeout", "dbname", NULL };
	const char *const vals[] = { "2", st->cfg.conninfo ? st->cfg.conninfo : "", NULL };
	const char *v[1] = { x->instance };
	PGresult *res;

	if (x->conn && PQstatus(x->conn) == CONNECTION_OK)
		return true;
	PQfinish(x->conn);
	x->conn = PQconnectdbParams(keys, vals, 1);
	if (!x->conn || PQstatus(x->conn) != CONNECTION_OK) {
		if (!x->down_logged)
			LOGP(DSTORE, LOGL_ERROR, "PostgreSQL: charging files: cannot connect: %s",
			     x->conn ? PQerrorMessage(x->conn) : "out of memory\n");
		x->down_logged = true;
		PQfinish(x->conn);
		x->conn = NULL;
		return false;
	}
	x->down_logged = false;
	if (x->cursor_read)
		return true;
	/* where the files got: the cursor kept, or further when a file a crash left open has more */
	res = exec(x, "reading the cursor", "SELECT coalesce((SELECT last_id FROM cdr_export WHERE instance = $1), 0)",
		   1, v, PGRES_TUPLES_OK);
	if (!res)
		return false;
	st->cdr.saved = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (st->cdr.saved > st->cdr.exported)
		st->cdr.exported = st->cdr.saved;
	x->cursor_read = true;
	LOGP(DSTORE, LOGL_INFO, "PostgreSQL: charging files of instance %s from record %" PRId64 " on\n", x->instance,
	     st->cdr.exported + 1);
	return true;
}

#define T(i) (PQgetisnull(res, row, i) ? NULL : PQgetvalue(res, row, i))
#define I(i) strtoll(PQgetvalue(res, row, i), NULL, 10)
#define B(i) (PQgetvalue(res, row, i)[0] == 't')

/* every record after the cursor into the files */
static void export(struct uigw_store *st, struct pg_cdr *x)
{
	struct uigw_cdr_export ex = {};
	bool more = true;

	while (more && x->conn) {
		char after[24];
		const char *v[2] = { x->instance, after };
		PGresult *res;
		int row, rows;

		uigw_store_cdr_x_begin(st, &ex);
		snprintf(after, sizeof(after), "%" PRId64, st->cdr.exported);
		res = exec(x, "reading the records", read_sql, 2, v, PGRES_TUPLES_OK);
		if (!res)
			break;
		rows = PQntuples(res);
		for (row = 0; row < rows; row++) {
			struct uigw_cdr_fields f = {
				.id = I(0), .ended = I(1), .dialog = I(2), .started = I(3), .channel = T(4),
				.campaign = T(5), .tenant = T(6), .subscriber = T(7), .roaming = B(8), .visited = T(9),
				.screens = PQgetisnull(res, row, 10) ? -1 : (int)I(10),
				.mt_messages = PQgetisnull(res, row, 11) ? -1 : (int)I(11),
				.outcome = T(12), .refusal = T(13), .charge_class = T(14), .zero_rated = B(15),
				.test = B(16), .recovered = B(17),
			};

			if (uigw_store_cdr_x_record(st, &ex, &f) < 0)
				break;
		}
		PQclear(res);
		if (st->cdr.file_failing || uigw_store_cdr_x_flush(st, &ex) < 0)
			break;
		more = rows == CHUNK;
	}
	uigw_store_cdr_x_end(st, &ex);
}

/* The cursor, once the lines it counts are on disk (at most once a second, unless \a now). */
static void save_cursor(struct uigw_store *st, struct pg_cdr *x, bool now)
{
	struct uigw_store_cdr *c = &st->cdr;
	int64_t t = uigw_mono_us();
	char last[24];
	const char *v[2] = { x->instance, last };
	PGresult *res;

	if (c->exported == c->saved || !x->conn || (!now && t - c->synced_us < CURSOR_EVERY_US))
		return;
	if (c->fd >= 0 && st->cfg.sync_full && fdatasync(c->fd) < 0) {
		LOGP(DSTORE, LOGL_ERROR, "CDR file %s: fdatasync: %m\n", c->path);
		return;	/* the cursor stays behind: those records are written again after a power loss */
	}
	c->synced_us = t;
	snprintf(last, sizeof(last), "%" PRId64, c->exported);
	res = exec(x, "keeping the cursor", "INSERT INTO cdr_export (instance, last_id) VALUES ($1, $2)"
		   " ON CONFLICT (instance) DO UPDATE SET last_id = excluded.last_id", 2, v, PGRES_COMMAND_OK);
	if (!res)
		return;
	PQclear(res);
	c->saved = c->exported;
}

static void *cdr_thread(void *data)
{
	struct uigw_store *st = data;
	struct uigw_store_cdr *c = &st->cdr;
	struct pg_cdr x = { .instance = uigw_store_pg_instance(st) };
	bool stop = false;

	uigw_store_cdr_thread_init();
	while (!stop) {
		struct timespec until;

		pthread_mutex_lock(&st->lock);
		if (!c->stop && !c->pg_kick) {
			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_sec += 1;
			pthread_cond_timedwait(&c->wake, &st->lock, &until);
		}
		stop = c->stop;
		c->pg_kick = false;
		pthread_mutex_unlock(&st->lock);
		if (!connected(st, &x))
			continue;	/* at a stop: the cursor stays, the next start writes the rest */
		export(st, &x);
		if (stop)
			uigw_store_cdr_file_close(st);	/* handed over, synced, before the cursor says so */
		save_cursor(st, &x, stop);
	}
	if (c->exported != c->saved)
		LOGP(DSTORE, LOGL_NOTICE, "PostgreSQL: charging files: the cursor stays at %" PRId64 " (records up to %"
		     PRId64 " are in files): the next start writes those again\n", c->saved, c->exported);
	uigw_store_cdr_file_close(st);
	PQfinish(x.conn);
	return NULL;
}

int uigw_store_pg_cdr_start(struct uigw_store *st)
{
	struct uigw_store_cdr *c = &st->cdr;
	int64_t in_files;

	c->fd = -1;
	if (!st->cfg.cdr_dir)
		return 0;
	/* files a crash left open: closed, their last record the cursor if it is further */
	in_files = uigw_store_cdr_scan_parts(st);
	c->exported = in_files;
	c->stop = false;
	if (pthread_create(&c->thread, NULL, cdr_thread, st)) {
		LOGP(DSTORE, LOGL_ERROR, "cannot start the charging files' thread\n");
		return -EIO;
	}
	c->thread_running = true;
	return 0;
}

void uigw_store_pg_cdr_kick(struct uigw_store *st)
{
	if (!st->cdr.thread_running)
		return;
	pthread_mutex_lock(&st->lock);
	st->cdr.pg_kick = true;
	pthread_cond_signal(&st->cdr.wake);
	pthread_mutex_unlock(&st->lock);
}

void uigw_store_pg_cdr_stop(struct uigw_store *st)
{
	/* the same stop and join as SQLite's charging thread (its last round writes the rest and the cursor) */
	uigw_store_cdr_stop(st);
	free(st->cdr.pend.p);
	st->cdr.pend.p = NULL;
}
