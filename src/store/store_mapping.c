/*! \file store_mapping.c
 *  The operator's pseudonym -> MSISDN mapping, written in key order. A dialog's transaction appends its new
 *  subscriber's mapping to a journal (subscriber_new: no index, so an append) and the writer keeps a copy in memory;
 *  every few seconds (store mapping-delay) it sorts what it holds by pseudonym and upserts it into subscriber_map,
 *  about UIGW_STORE_MAP_STEP_ROWS rows per transaction between its group commits, and deletes what it merged from
 *  the journal with the last of them.
 *
 *  Why: pseudonyms are keyed hashes, so each new subscriber's row lands on a random page of subscriber_map's key
 *  index. Written with its dialog, every commit dirtied about one index page per new subscriber (4 KiB into the
 *  WAL and again at the checkpoint), and once the index outgrew a commit's rows that was a page per dialog: the
 *  gateway's capacity fell as the mapping grew. Merged in key order, thousands of rows share the pages they land
 *  on. Nothing is less durable: the journal row commits with its dialog; a merge cut short by a crash is done again
 *  at the next open from the journal (the merge is an upsert). Lookups by pseudonym read both tables
 *  (store_subscriber.c).
 *
 *  The copy in memory is the journal's rows up to st->map.last_rowid, as long as no transaction that added to it
 *  was rolled back and no erase ran; else (st->map.reload) the next merge reads the journal back instead. */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/store/store.h>
#include "store_priv.h"

/* Append to the copy. \returns false if it cannot hold the row (too long, out of memory) */
static bool hold(struct uigw_store_map *m, const char *pseudonym, const char *msisdn, int64_t time_ms)
{
	struct uigw_store_map_row *e;

	if (strlen(pseudonym) >= sizeof(e->pseudonym) || (msisdn && strlen(msisdn) >= sizeof(e->msisdn)))
		return false;
	if (m->n == m->cap) {
		unsigned int cap = m->cap ? m->cap * 2 : 1024;
		struct uigw_store_map_row *grown = realloc(m->rows, cap * sizeof(*grown));

		if (!grown)
			return false;
		m->rows = grown;
		m->cap = cap;
	}
	e = &m->rows[m->n++];
	strcpy(e->pseudonym, pseudonym);
	e->has_msisdn = msisdn != NULL;
	strcpy(e->msisdn, msisdn ? msisdn : "");
	e->time_ms = time_ms;
	return true;
}

void uigw_store_map_added(struct uigw_store *st, const char *pseudonym, const char *msisdn, int64_t time_ms)
{
	st->map.last_rowid = sqlite3_last_insert_rowid(st->wdb);
	if (!st->map.pending++)
		st->map.first_us = uigw_mono_us();
	if (!st->map.reload && !hold(&st->map.held, pseudonym, msisdn, time_ms))
		st->map.reload = true;
}

void uigw_store_map_mark(struct uigw_store *st)
{
	st->map.mark = st->map.held.n;
	st->map.mark_pending = st->map.pending;
}

void uigw_store_map_rolled_back(struct uigw_store *st)
{
	/* the rows since the transaction began are not in the journal */
	if (st->map.held.n >= st->map.mark)
		st->map.held.n = st->map.mark;
	st->map.pending = st->map.mark_pending;
	st->map.last_rowid = 0;	/* unknown now: the next merge reads the journal */
	st->map.reload = true;
}

void uigw_store_map_forget(struct uigw_store *st)
{
	/* an erase: what is held may name the subscriber; the journal (erased in the same transaction) does not */
	st->map.reload = true;
	st->map.pass.n = st->map.pass.i = 0;
	st->map.upto = 0;
}

void uigw_store_map_init(struct uigw_store *st)
{
	sqlite3_stmt *s = st->wstmt[WSTMT_MAP_LAST];

	st->map.pending = 0;
	st->map.first_us = 0;
	st->map.upto = 0;
	st->map.retry_us = 0;
	st->map.reload = false;
	if (s && sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 1) > 0) {
		st->map.pending = (unsigned int)sqlite3_column_int64(s, 1);
		st->map.first_us = uigw_mono_us() - (int64_t)st->cfg.map_delay_s * 1000000;	/* due at once */
		st->map.reload = true;
		LOGP(DSTORE, LOGL_INFO, "%u subscriber mappings wait in the journal\n", st->map.pending);
	}
	if (s)
		uigw_store_stmt_done(s);
}

void uigw_store_map_free(struct uigw_store *st)
{
	free(st->map.held.rows);
	free(st->map.pass.rows);
	memset(&st->map.held, 0, sizeof(st->map.held));
	memset(&st->map.pass, 0, sizeof(st->map.pass));
}

/* Overload puts the merge off (uigw_store_defer_upkeep()), until what waits reaches the bound of its copy in memory
 * (contrib/bench/sip, 5x at R = 3,000/s: each merge of the 10 s before, about 30,000 rows, came with two to three
 * seconds of the capped gateway's goodput at 1,960-2,620/s between seconds at 3,300-4,200/s, the limit cut behind
 * it; doc/store.md) */
static bool deferred(const struct uigw_store *st)
{
	return __atomic_load_n(&st->upkeep_deferred, __ATOMIC_RELAXED) &&
	       st->map.pending < UIGW_STORE_MAP_HELD_MAX;
}

int64_t uigw_store_map_due_ms(const struct uigw_store *st)
{
	int64_t left;

	if (deferred(st))
		return -1;
	if (st->map.retry_us) {
		left = st->map.retry_us - uigw_mono_us();
		return left > 0 ? (left + 999) / 1000 : 0;
	}
	if (st->map.upto)
		return 0;
	if (!st->map.pending)
		return -1;
	if (st->map.pending >= UIGW_STORE_MAP_PASS_ROWS)
		return 0;
	left = st->map.first_us + (int64_t)st->cfg.map_delay_s * 1000000 - uigw_mono_us();
	return left > 0 ? (left + 999) / 1000 : 0;
}

static int cmp_row(const void *a, const void *b)
{
	const struct uigw_store_map_row *x = a, *y = b;
	int c = strcmp(x->pseudonym, y->pseudonym);

	if (c)
		return c;
	return x->time_ms < y->time_ms ? -1 : x->time_ms > y->time_ms;
}

/* The journal read back into the pass (after a rollback, an erase, a crash). \returns 0 or -EIO */
static int read_journal(struct uigw_store *st)
{
	sqlite3_stmt *s = st->wstmt[WSTMT_MAP_READ];
	int rc;

	st->map.pass.n = 0;
	st->map.upto = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(s, 1);
		const char *msisdn = (const char *)sqlite3_column_text(s, 2);

		st->map.upto = sqlite3_column_int64(s, 0);
		if (!p || !hold(&st->map.pass, p, msisdn, sqlite3_column_int64(s, 3)))
			LOGP(DSTORE, LOGL_ERROR, "mapping journal: row %" PRId64 " cannot be merged: dropped\n",
			     st->map.upto);
	}
	uigw_store_stmt_done(s);
	if (rc != SQLITE_DONE) {
		LOGP(DSTORE, LOGL_ERROR, "mapping journal: cannot read: %s\n", sqlite3_errmsg(st->wdb));
		st->map.pass.n = 0;
		st->map.upto = 0;
		return -EIO;
	}
	return 0;
}

/* Begin a merge: what is held (or the journal) becomes the pass, sorted. \returns false if there is nothing */
static bool pass_begin(struct uigw_store *st)
{
	struct uigw_store_map held;

	if (st->map.reload) {
		st->map.held.n = 0;
		if (read_journal(st) < 0) {
			st->map.retry_us = uigw_mono_us() + 1000000;	/* again in a second, not in a loop */
			return false;
		}
		st->map.reload = false;
	} else if (!st->map.held.n) {
		/* the copy is the journal: nothing waits (a stop, or only rows of a rolled-back batch counted) */
		st->map.pending = 0;
		st->map.first_us = 0;
		return false;
	} else {
		/* swap: the pass's array, emptied, takes the rows that come from now on */
		held = st->map.held;
		st->map.held = st->map.pass;
		st->map.held.n = 0;
		st->map.pass = held;
		st->map.upto = st->map.last_rowid;
	}
	st->map.pending = 0;
	st->map.first_us = 0;
	st->map.pass.i = 0;
	if (!st->map.upto) {
		st->map.pass.n = 0;
		return false;
	}
	if (st->map.pass.n > 1)
		qsort(st->map.pass.rows, st->map.pass.n, sizeof(*st->map.pass.rows), cmp_row);
	return true;
}

/* Upsert the pass's next rows in one transaction; the last one deletes what the pass merged from the journal.
 * \returns 0, or -EIO (the pass stays where it is) */
static int pass_step(struct uigw_store *st)
{
	struct uigw_store_map *p = &st->map.pass;
	sqlite3_stmt *u = st->wstmt[WSTMT_MAP_UPSERT], *c = st->wstmt[WSTMT_MAP_CLEAR];
	unsigned int i, end = p->i + UIGW_STORE_MAP_STEP_ROWS;
	int64_t t0 = uigw_real_mono_us(), dt;
	int ip = sqlite3_bind_parameter_index(u, "$pseudonym"), im = sqlite3_bind_parameter_index(u, "$msisdn"),
	    it = sqlite3_bind_parameter_index(u, "$time");
	bool last;

	/* a subscriber's rows are sorted together: not split between two transactions */
	if (end >= p->n)
		end = p->n;
	while (end < p->n && !strcmp(p->rows[end].pseudonym, p->rows[end - 1].pseudonym))
		end++;
	last = end == p->n;
	if (sqlite3_exec(st->wdb, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	for (i = p->i; i < end; i++) {
		struct uigw_store_map_row *e = &p->rows[i];

		sqlite3_bind_text(u, ip, e->pseudonym, -1, SQLITE_STATIC);
		if (e->has_msisdn)
			sqlite3_bind_text(u, im, e->msisdn, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(u, im);
		sqlite3_bind_int64(u, it, e->time_ms);
		if (uigw_store_step_done(st->wdb, u) < 0)
			goto rollback;
	}
	if (last) {
		sqlite3_bind_int64(c, sqlite3_bind_parameter_index(c, "$upto"), st->map.upto);
		if (uigw_store_step_done(st->wdb, c) < 0)
			goto rollback;
	}
	if (sqlite3_exec(st->wdb, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto rollback;
	uigw_store_checkpoint_if_due(st);
	dt = uigw_real_mono_us() - t0;
	LOGP(DSTORE, LOGL_DEBUG, "mapping journal: rows %u-%u of %u merged in %" PRId64 " us\n", p->i, end, p->n, dt);
	pthread_mutex_lock(&st->lock);
	st->stats.map_passes += last;
	st->stats.map_rows += end - p->i;
	st->stats.map_us += dt;
	if ((uint64_t)dt > st->stats.map_max_us)
		st->stats.map_max_us = dt;
	pthread_mutex_unlock(&st->lock);
	p->i = end;
	if (last) {
		/* the array is freed after each pass (a burst's 65,536 rows are 4.7 MB): the next pass's is grown anew */
		st->map.upto = 0;
		free(p->rows);
		memset(p, 0, sizeof(*p));
	}
	return 0;

rollback:
	LOGP(DSTORE, LOGL_ERROR, "mapping journal: merge of rows %u-%u failed: %s\n", p->i, end, sqlite3_errmsg(st->wdb));
	if (!sqlite3_get_autocommit(st->wdb))
		sqlite3_exec(st->wdb, "ROLLBACK", NULL, NULL, NULL);
	return -EIO;
fail:
	LOGP(DSTORE, LOGL_ERROR, "mapping journal: cannot begin: %s\n", sqlite3_errmsg(st->wdb));
	return -EIO;
}

bool uigw_store_map_step(struct uigw_store *st, bool now)
{
	if (!now && deferred(st))
		return false;
	if (!now && st->map.retry_us && uigw_mono_us() < st->map.retry_us)
		return false;
	if (!st->map.upto) {
		if (!now && uigw_store_map_due_ms(st) != 0)
			return false;
		if (!pass_begin(st))
			return false;
	}
	if (pass_step(st) < 0) {
		/* the store is failing (disk full, I/O error): the answers' retries come first; again in a second */
		st->map.retry_us = uigw_mono_us() + 1000000;
		return false;
	}
	st->map.retry_us = 0;
	return st->map.upto != 0;
}
