/*! \file store_fault.c
 *  The writer's side of a disk that fills or fails (see doc/store.md "Failed commits and the WAL's size"): the
 *  checkpoints of the timer and of the WAL's bound, holding a failed batch's jobs for a retry, the backoff between
 *  attempts, and the way back. Writer thread only. */

#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include <sys/stat.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/store/store.h>
#include "store_priv.h"

/* checkpoints and failed commits: timed by the real clock (a test's fake clock drives the dialogs, not the disk) */
/* The timer's checkpoint (PASSIVE: never waits for a reader), and a truncating one when the WAL holds more than
 * its bound (SQLite's automatic checkpoint only counts pages, and only after a commit that worked). */
/* the -wal file's size in bytes, -1 if unknown */
static int64_t wal_size(const struct uigw_store *st)
{
	char path[4200];
	struct stat sb;

	snprintf(path, sizeof(path), "%s-wal", st->cfg.path);
	return stat(path, &sb) == 0 ? (int64_t)sb.st_size : -1;
}

void uigw_store_checkpoint(struct uigw_store *st, bool truncate)
{
	int n_log = -1, n_ckpt = -1, rc;
	int64_t t0 = uigw_real_mono_us(), dt;

	rc = sqlite3_wal_checkpoint_v2(st->wdb, NULL, truncate ? SQLITE_CHECKPOINT_TRUNCATE :
				       SQLITE_CHECKPOINT_PASSIVE, &n_log, &n_ckpt);
	st->ckpt_us = uigw_real_mono_us();
	dt = st->ckpt_us - t0;
	st->stats.checkpoints++;
	st->stats.ckpt_us += dt;
	if ((uint64_t)dt > st->stats.ckpt_max_us)
		st->stats.ckpt_max_us = dt;
	if (rc != SQLITE_OK) {
		if (!st->failing_since_us)
			LOGP(DSTORE, LOGL_NOTICE, "checkpoint: %s\n", sqlite3_errmsg(st->wdb));
		return;
	}
	st->ckpt_dirty = false;
	if (truncate) {
		st->stats.truncations++;
		return;
	}
	/* past the bound, in frames or in the file's size (it keeps the size of its largest burst until a
	 * restart cuts it back, which needs a write after the checkpoint): truncate it now */
	if ((n_log > 0 && (uint64_t)n_log * (st->page_size + 24) > st->cfg.wal_max_mb * 1048576ULL) ||
	    wal_size(st) > (int64_t)st->cfg.wal_max_mb * 1048576) {
		LOGP(DSTORE, LOGL_INFO, "the WAL (%d pages, %" PRId64 " bytes) is past wal-max-size: truncating it\n",
		     n_log, wal_size(st));
		uigw_store_checkpoint(st, true);
	}
}

/* SQLite calls it after each commit with the WAL's frames (it replaces the automatic checkpoint) */
int uigw_store_wal_hook(void *data, sqlite3 *db, const char *name, int frames)
{
	struct uigw_store *st = data;

	(void)db;
	(void)name;
	st->wal_frames = frames;
	return SQLITE_OK;
}

/* After a commit that worked: a checkpoint when checkpoint-interval has passed since the last, when the WAL
 * holds checkpoint-pages frames, or half of wal-max-size. By time alone, a WAL filled at 8 MB/s for a second
 * between two checkpoints would pass a bound of a few MiB and, on a small disk, take the space the database needs
 * to take its frames back (a checkpoint writes into the database file before the WAL can shrink). */
void uigw_store_checkpoint_if_due(struct uigw_store *st)
{
	uint64_t wal_bytes = (uint64_t)st->wal_frames * (st->page_size + 24);

	st->ckpt_dirty = true;
	if ((st->cfg.checkpoint_interval_ms &&
	     uigw_real_mono_us() - st->ckpt_us >= (int64_t)st->cfg.checkpoint_interval_ms * 1000) ||
	    (st->cfg.checkpoint_pages && st->wal_frames >= (int)st->cfg.checkpoint_pages) ||
	    wal_bytes * 2 > st->cfg.wal_max_mb * 1048576ULL)
		uigw_store_checkpoint(st, false);
}

/* A batch's commit failed (-EIO): the jobs not held for longer than hold_s go back to the head of the queue, the
 * others fail. \returns the jobs held again. Called without the lock. */
unsigned int uigw_store_hold_batch(struct uigw_store *st, struct llist_head *batch, unsigned int *rows_held)
{
	struct uigw_store_job *job, *tmp;
	LLIST_HEAD(held);
	int64_t now = uigw_real_mono_us(), hold_us = (int64_t)st->cfg.hold_s * 1000000;
	unsigned int n = 0;

	*rows_held = 0;
	if (!st->failing_since_us) {
		st->failing_since_us = now;
		st->stats.failures++;
		st->stats.failing_since_ms = uigw_wall_ms();
		st->backoff_ms = 0;
		__atomic_store_n(&st->failing, 1, __ATOMIC_RELAXED);
		LOGP(DSTORE, LOGL_ERROR, "store %s fails to commit (%s): answers held in memory for up to %u s and "
		     "retried, new dialogs refused until it works again\n", st->cfg.path, sqlite3_errmsg(st->wdb),
		     st->cfg.hold_s);
	}
	pthread_mutex_lock(&st->lock);
	if (st->closing && hold_us > 5000000)
		hold_us = 5000000;
	pthread_mutex_unlock(&st->lock);
	llist_for_each_entry_safe(job, tmp, batch, list) {
		if (!job->held_since_us)
			job->held_since_us = now;
		if (job->rc != -EIO || now - job->held_since_us >= hold_us)
			continue;	/* refused alone, or held long enough: it fails */
		job->rc = 0;
		llist_del(&job->list);
		llist_add_tail(&job->list, &held);
		*rows_held += job->n_rows;
		n++;
	}
	if (n) {
		pthread_mutex_lock(&st->lock);
		llist_splice(&held, &st->queue);	/* in their order, before anything submitted since */
		st->n_queued += n;
		st->rows_queued += *rows_held;
		st->stats.held = n;
		st->stats.retries++;
		pthread_mutex_unlock(&st->lock);
	}
	return n;
}

/* Wait before the next attempt (100 ms, doubling up to 1 s; a stop ends it), trying to give space back first:
 * a WAL that grew before the disk filled is most of what a checkpoint can free. Called with the lock held. */
void uigw_store_backoff(struct uigw_store *st)
{
	struct timespec ts;
	int64_t due;

	pthread_mutex_unlock(&st->lock);
	uigw_store_checkpoint(st, true);
	pthread_mutex_lock(&st->lock);
	st->backoff_ms = st->backoff_ms ? st->backoff_ms * 2 : 100;
	if (st->backoff_ms > 1000)
		st->backoff_ms = 1000;
	due = uigw_real_mono_us() + st->backoff_ms * 1000LL;
	ts = (struct timespec){ .tv_sec = due / 1000000, .tv_nsec = (due % 1000000) * 1000 };
	while (!st->stop && uigw_real_mono_us() < due) {
		if (pthread_cond_timedwait(&st->wake, &st->lock, &ts) == ETIMEDOUT)
			break;
	}
}

/* a commit worked: a failing store works again */
void uigw_store_commit_worked(struct uigw_store *st)
{
	if (!st->failing_since_us)
		return;
	LOGP(DSTORE, LOGL_NOTICE, "store %s commits again after %.1f s of failures (%u jobs held were written)\n",
	     st->cfg.path, (uigw_real_mono_us() - st->failing_since_us) / 1e6, st->stats.held);
	st->failing_since_us = 0;
	st->backoff_ms = 0;
	st->stats.held = 0;
	__atomic_store_n(&st->failing, 0, __ATOMIC_RELAXED);
}

