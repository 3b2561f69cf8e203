/* Unit tests of the feedback store: PRAGMAs, every row kind and its semantics, the contextual queries, the
 * synchronous reads, the queue limit, the schema upgrade from every older version, pseudonyms.
 * Set UIGW_TEST_LOG=1 to see the store's log.
 *
 * Two runs: on SQLite (the default), and on PostgreSQL when UIGW_TEST_PG names a database (tests/pg/store_pg.sh
 * starts a server and runs this file again): each store then gets a schema of its own, named as its file would
 * be; the tests of what only SQLite has (PRAGMAs, WAL, file locks, upgrades of SQLite schemas, its memory) are
 * skipped there. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <talloc.h>
#include <osmocom/core/application.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/select.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/store/store.h>
#include <osmocom/uigw/core/pseudonym.h>
#include "../src/store/store_priv.h"	/* white box: the store's own connections, for the per-connection PRAGMAs */

static char tmpdir[64];
static void *ctx;
static size_t blocks_before;
static const char *pg_conninfo;	/* the PostgreSQL run, NULL: SQLite */
static PGconn *pg_check;		/* the test's own connection to look at what was committed */

#define SQLITE_ONLY() do { if (pg_conninfo) skip(); } while (0)

static void pg_exec(const char *fmt, ...)
{
	char sql[512];
	PGresult *res;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	res = PQexec(pg_check, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQresultErrorMessage(res));
	PQclear(res);
}

static void wake_cb(void *data)
{
}

/* PostgreSQL: a store is usable once its connection is up (the loop makes it) */
static void pg_wait_up(struct uigw_store *st)
{
	struct osmo_timer_list wake = {};
	int i;

	osmo_timer_setup(&wake, wake_cb, NULL);
	for (i = 0; i < 500 && uigw_store_failing(st); i++) {
		osmo_timer_schedule(&wake, 0, 20000);
		osmo_select_main(0);
	}
	osmo_timer_del(&wake);
	assert_false(uigw_store_failing(st));
}

/* PostgreSQL: the store named \a name has a schema t_NAME (made empty at the start of the run: a store opened
 * again finds its rows) */
static void pg_cfg(struct uigw_store_cfg *cfg, const char *name)
{
	pg_exec("CREATE SCHEMA IF NOT EXISTS t_%s", name);
	cfg->backend = UIGW_STORE_POSTGRESQL;
	cfg->conninfo = talloc_asprintf(ctx, "%s options='-csearch_path=t_%s'", pg_conninfo, name);
	cfg->instance = name;
}

static const char *db_path(const char *name)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s.db", tmpdir, name);
	return path;
}

/* open with \a cfg: on PostgreSQL in the schema of \a name */
static struct uigw_store *open_cfg(struct uigw_store_cfg *cfg, const char *name)
{
	struct uigw_store_cfg c = *cfg;
	struct uigw_store *st;

	if (pg_conninfo)
		pg_cfg(&c, name);
	st = uigw_store_open(ctx, &c);
	assert_non_null(st);
	if (pg_conninfo) {
		talloc_free((char *)c.conninfo);
		pg_wait_up(st);
	}
	return st;
}

static struct uigw_store *open_store(const char *name, unsigned int spam_window)
{
	struct uigw_store_cfg cfg;
	struct uigw_store *st;

	uigw_store_cfg_defaults(&cfg);
	cfg.path = db_path(name);
	cfg.spam_window = spam_window;
	if (pg_conninfo)
		pg_cfg(&cfg, name);
	st = uigw_store_open(ctx, &cfg);
	assert_non_null(st);
	if (pg_conninfo) {
		talloc_free((char *)cfg.conninfo);
		pg_wait_up(st);
	}
	return st;
}

static int setup(void **state)
{
	ctx = talloc_named_const(NULL, 0, "store_test");
	blocks_before = talloc_total_blocks(ctx);
	return 0;
}

static int teardown(void **state)
{
	assert_int_equal(talloc_total_blocks(ctx), blocks_before);
	talloc_free(ctx);
	ctx = NULL;
	return 0;
}

/* --- jobs ------------------------------------------------------------------------------------------------ */

struct done_rec {
	struct uigw_store_job *job;
	int calls;
};

/* keeps the job for inspection; the test frees it */
static void keep_done(struct uigw_store_job *job, void *data)
{
	struct done_rec *d = data;

	d->job = job;
	d->calls++;
}

static struct uigw_store_row *row(struct uigw_store_job *job, enum uigw_row_kind kind, const char *subscriber,
				  int64_t time_ms)
{
	struct uigw_store_row *r = uigw_store_job_row(job, kind);

	assert_non_null(r);
	r->subscriber = subscriber;
	r->time_ms = time_ms;
	r->campaign = "c1";
	r->version = 2;
	r->channel = "ussi";
	return r;
}

static void response(struct uigw_store_job *job, const char *campaign, const char *question, const char *value,
		     const char *channel)
{
	struct uigw_store_row *r = row(job, UIGW_ROW_RESPONSE, "sub-a", 1000);

	r->campaign = campaign;
	r->channel = channel;
	r->u.response.node = question;
	r->u.response.question = question;
	r->u.response.kind = "number";
	r->u.response.value = value;
	r->u.response.raw = value;
	r->u.response.language = "en";
}

static void spam(struct uigw_store_job *job, const char *reporter, const char *number, int64_t t)
{
	row(job, UIGW_ROW_SPAM, reporter, t)->u.spam.number = number;
}

static void reaction(struct uigw_store_job *job, const char *sub, const char *content, const char *what)
{
	struct uigw_store_row *r = row(job, UIGW_ROW_REACTION, sub, 1000);

	r->u.reaction.content = content;
	r->u.reaction.reaction = what;
}

static void rating(struct uigw_store_job *job, const char *sub, const char *app, int rating)
{
	struct uigw_store_row *r = row(job, UIGW_ROW_APP_RATING, sub, 1000);

	r->u.app_rating.app = app;
	r->u.app_rating.rating = rating;
}

static void dialog(struct uigw_store_job *job, uint64_t id, const char *campaign, enum uigw_outcome o)
{
	struct uigw_store_row *r = row(job, UIGW_ROW_DIALOG, "sub-a", 2000);

	r->dialog = id;
	r->campaign = campaign;
	r->u.dialog.started_ms = 1000;
	r->u.dialog.outcome = o;
	r->u.dialog.steps = 3;
	r->u.dialog.last_node = "end";
}

/* Submit, check the completion does not run inside submit, drain, check it ran once with rc 0. The caller
 * frees the job. */
static struct uigw_store_job *run(struct uigw_store_job *job, struct done_rec *d)
{
	struct uigw_store *st = job->st;

	assert_int_equal(uigw_store_submit(job), 0);
	assert_int_equal(d->calls, 0);
	uigw_store_drain(st);
	assert_int_equal(d->calls, 1);
	assert_ptr_equal(d->job, job);
	assert_int_equal(job->rc, 0);
	assert_int_equal(uigw_store_queue_depth(st), 0);
	return job;
}

/* \returns the query's index: appending may move the array, so pointers do not stay valid */
static unsigned int query(struct uigw_store_job *job, enum uigw_query q, const char *camp, const char *arg)
{
	struct uigw_store_query *qr = uigw_store_job_query(job, q, camp, arg);

	assert_non_null(qr);
	return job->n_queries - 1;
}

#define QR(i) (job->queries[i])

static int64_t sync_count(struct uigw_store *st, enum uigw_query q, const char *camp, const char *arg)
{
	struct uigw_store_query qr = { .query = q, .campaign = camp, .arg = arg };

	assert_int_equal(uigw_store_query_sync(st, &qr), 0);
	return qr.count;
}

static int64_t sql_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int64_t file_int(const char *name, const char *sql)
{
	sqlite3 *db;
	int64_t v;

	if (pg_conninfo) {
		PGresult *res;
		const char *t;

		pg_exec("SET search_path TO t_%s", name);
		res = PQexec(pg_check, sql);
		if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) < 1)
			fail_msg("%s: %s", sql, PQresultErrorMessage(res));
		t = PQgetvalue(res, 0, 0);
		v = !strcmp(t, "t") ? 1 : !strcmp(t, "f") ? 0 : strtoll(t, NULL, 10);
		PQclear(res);
		return v;
	}

	assert_int_equal(sqlite3_open_v2(db_path(name), &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	v = sql_int(db, sql);
	sqlite3_close(db);
	return v;
}

/* --- tests ----------------------------------------------------------------------------------------------- */

static void check_pragmas(bool sync_full)
{
	struct uigw_store_cfg cfg;
	struct uigw_store *st;
	char text[16];
	sqlite3_stmt *s;

	uigw_store_cfg_defaults(&cfg);
	cfg.path = db_path(sync_full ? "pragmas_full" : "pragmas_normal");
	cfg.sync_full = sync_full;
	st = uigw_store_open(ctx, &cfg);
	assert_non_null(st);
	uigw_store_drain(st);	/* the writer is idle: its connection may be read here */
	assert_int_equal(sql_int(st->wdb, "PRAGMA synchronous"), sync_full ? 2 : 1);
	assert_int_equal(sql_int(st->wdb, "PRAGMA foreign_keys"), 0);
	assert_int_equal(sql_int(st->wdb, "PRAGMA temp_store"), 2);
	assert_true(sql_int(st->wdb, "PRAGMA cache_size") < -10000);
	/* the writer checkpoints itself (by time, pages and the WAL's bound): SQLite's own is replaced */
	assert_int_equal(sql_int(st->wdb, "PRAGMA wal_autocheckpoint"), 0);
	assert_int_equal(sql_int(st->wdb, "PRAGMA user_version"), UIGW_SCHEMA_VERSION);
	assert_int_equal(sql_int(st->rdb, "PRAGMA user_version"), UIGW_SCHEMA_VERSION);
	assert_int_equal(sqlite3_prepare_v2(st->wdb, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	osmo_strlcpy(text, (const char *)sqlite3_column_text(s, 0), sizeof(text));
	sqlite3_finalize(s);
	assert_string_equal(text, "wal");
	uigw_store_close(st);
	/* journal_mode WAL persists in the file */
	assert_int_equal(file_int(sync_full ? "pragmas_full" : "pragmas_normal", "SELECT count(*) FROM"
				  " pragma_journal_mode WHERE journal_mode = 'wal'"), 1);
}

static void test_pragmas(void **state)
{
	SQLITE_ONLY();
	check_pragmas(true);
	check_pragmas(false);
}

static void test_spam_window(void **state)
{
	struct uigw_store *st = open_store("spam", 1);
	struct done_rec d = { 0 };
	struct uigw_store_job *job;
	unsigned int q1, q2, q3;

	job = uigw_store_job_alloc(st, keep_done, &d);
	spam(job, "rep-a", "+491701", 10000);
	spam(job, "rep-a", "+491701", 10500);		/* same reporter within 1 s: not counted */
	q1 = query(job, UIGW_Q_SPAM_REPORTS, NULL, "+491701");
	run(job, &d);
	assert_int_equal(QR(q1).rc, 0);
	assert_int_equal(QR(q1).count, 1);
	talloc_free(job);

	d = (struct done_rec){ 0 };
	job = uigw_store_job_alloc(st, keep_done, &d);
	spam(job, "rep-b", "+491701", 10600);		/* another reporter: counted */
	spam(job, "rep-a", "+491701", 10999);		/* still within 1 s of the counted one at 10000 */
	spam(job, "rep-a", "+491701", 11500);		/* past the window: counted again */
	spam(job, "rep-a", "+491702", 11500);		/* another number */
	spam(job, "rep-c", "+491703", 11000);
	spam(job, "rep-d", "+491703", 11000);
	q1 = query(job, UIGW_Q_SPAM_REPORTS, NULL, "+491701");
	q2 = query(job, UIGW_Q_SPAM_REPORTS, NULL, "+491703");
	q3 = query(job, UIGW_Q_SPAM_REPORTS, NULL, "+499999");
	run(job, &d);
	assert_int_equal(QR(q1).count, 3);
	assert_int_equal(QR(q2).count, 2);
	assert_int_equal(QR(q3).count, 0);
	assert_int_equal(QR(q3).rc, 0);
	talloc_free(job);

	assert_int_equal(sync_count(st, UIGW_Q_SPAM_REPORTS, NULL, "+491701"), 3);
	uigw_store_close(st);
	assert_int_equal(file_int("spam", "SELECT count(*) FROM spam_report"), 8);
	assert_int_equal(file_int("spam", "SELECT count(*) FROM spam_report WHERE counted"), 6);
	assert_int_equal(file_int("spam", "SELECT last_time FROM spam_number WHERE number = '+491701'"), 11500);
}

static void test_reactions_ratings_flags(void **state)
{
	struct uigw_store *st = open_store("react", 86400);
	struct done_rec d = { 0 };
	struct uigw_store_job *job;
	unsigned int likes, dislikes, subs, avg, n, flags, none;

	job = uigw_store_job_alloc(st, keep_done, &d);
	reaction(job, "a", "song", "like");
	reaction(job, "a", "song", "like");		/* twice counts once */
	reaction(job, "b", "song", "like");
	reaction(job, "c", "song", "dislike");
	reaction(job, "c", "song", "subscribe");
	reaction(job, "a", "song", "bogus");		/* skipped */
	reaction(job, "a", "other", "like");
	rating(job, "a", "app1", 4);
	rating(job, "b", "app1", 8);
	rating(job, "a", "app1", 6);			/* replaces 4 */
	rating(job, "c", "app1", 11);			/* invalid: skipped, not clamped */
	rating(job, "d", "app1", 0);
	row(job, UIGW_ROW_FLAG, "a", 1000)->u.flag.content = "song";
	row(job, UIGW_ROW_FLAG, "a", 1000)->u.flag.content = "song";	/* every flag counts */
	likes = query(job, UIGW_Q_LIKES, NULL, "song");
	dislikes = query(job, UIGW_Q_DISLIKES, NULL, "song");
	subs = query(job, UIGW_Q_SUBSCRIBES, NULL, "song");
	avg = query(job, UIGW_Q_APP_RATING, NULL, "app1");
	n = query(job, UIGW_Q_APP_RATINGS, NULL, "app1");
	flags = query(job, UIGW_Q_FLAGS, NULL, "song");
	none = query(job, UIGW_Q_APP_RATING, NULL, "nope");
	run(job, &d);
	assert_int_equal(QR(likes).count, 2);
	assert_int_equal(QR(dislikes).count, 1);
	assert_int_equal(QR(subs).count, 1);
	assert_int_equal(QR(n).count, 2);
	assert_float_equal(QR(avg).value, 7.0, 1e-9);
	assert_int_equal(QR(avg).count, 2);
	assert_int_equal(QR(flags).count, 2);
	assert_int_equal(QR(none).count, 0);
	assert_float_equal(QR(none).value, 0.0, 1e-9);
	talloc_free(job);

	/* like and dislike exclude each other; subscribe stays */
	d = (struct done_rec){ 0 };
	job = uigw_store_job_alloc(st, keep_done, &d);
	reaction(job, "c", "song", "like");
	reaction(job, "a", "song", "dislike");
	likes = query(job, UIGW_Q_LIKES, NULL, "song");
	dislikes = query(job, UIGW_Q_DISLIKES, NULL, "song");
	subs = query(job, UIGW_Q_SUBSCRIBES, NULL, "song");
	run(job, &d);
	assert_int_equal(QR(likes).count, 2);	/* b, c */
	assert_int_equal(QR(dislikes).count, 1);	/* a */
	assert_int_equal(QR(subs).count, 1);
	talloc_free(job);

	assert_int_equal(sync_count(st, UIGW_Q_LIKES, NULL, "other"), 1);
	assert_int_equal(sync_count(st, UIGW_Q_DISLIKES, NULL, "song"), 1);
	uigw_store_close(st);
	assert_int_equal(file_int("react", "SELECT count(*) FROM reaction WHERE subscriber = 'c'"), 2);
}

static void test_answers_average(void **state)
{
	struct uigw_store *st = open_store("answers", 86400);
	struct done_rec d = { 0 };
	struct uigw_store_job *job;
	unsigned int ans, avg, ans2, avg_none;
	struct uigw_store_query qs = { .query = UIGW_Q_AVERAGE, .campaign = "poll", .arg = "q1" };

	job = uigw_store_job_alloc(st, keep_done, &d);
	response(job, "poll", "q1", "3", "ussi");
	response(job, "poll", "q1", "5", "smpp-sms");
	response(job, "poll", "q1", "abc", "ussi");	/* not a number: counted as an answer, not averaged */
	response(job, "poll", "q1", "4.0", "ussi");
	response(job, "poll", "q1", "12abc", "ussi");
	response(job, "poll", "q1", "", "ussi");
	response(job, "poll", "q1", "1-2", "ussi");
	response(job, "poll", "q1", "-", "ussi");
	response(job, "poll", "q2", "yes", "ussi");
	response(job, "other", "q1", "100", "ussi");	/* another campaign */
	ans = query(job, UIGW_Q_ANSWERS, "poll", "q1");
	avg = query(job, UIGW_Q_AVERAGE, "poll", "q1");
	ans2 = query(job, UIGW_Q_ANSWERS, "poll", "q2");
	avg_none = query(job, UIGW_Q_AVERAGE, "poll", "q2");
	run(job, &d);
	assert_int_equal(QR(ans).count, 8);
	assert_int_equal(QR(avg).count, 3);
	assert_float_equal(QR(avg).value, 4.0, 1e-9);
	assert_int_equal(QR(ans2).count, 1);
	assert_int_equal(QR(avg_none).count, 0);
	assert_float_equal(QR(avg_none).value, 0.0, 1e-9);
	talloc_free(job);

	assert_int_equal(uigw_store_query_sync(st, &qs), 0);
	assert_int_equal(qs.count, 3);
	assert_float_equal(qs.value, 4.0, 1e-9);
	qs.query = _UIGW_Q_NUM;
	assert_int_equal(uigw_store_query_sync(st, &qs), -EINVAL);
	/* the same judgement outside SQL (the API's summaries) */
	{
		double d = 0;
		assert_true(uigw_store_is_number("-2.5", &d));
		assert_float_equal(d, -2.5, 1e-12);
		assert_true(uigw_store_is_number("1e3", NULL));
		assert_false(uigw_store_is_number("", NULL));
		assert_false(uigw_store_is_number(" 3", NULL));
		assert_false(uigw_store_is_number("12abc", NULL));
		assert_false(uigw_store_is_number("1e400", NULL));
		assert_false(uigw_store_is_number(NULL, NULL));
	}
	uigw_store_close(st);
}

struct fb {
	char text[512];
	int rows;
};

static void fb_cb(const char *question, const char *channel, const char *value, int64_t count, void *data)
{
	struct fb *fb = data;
	size_t len = strlen(fb->text);

	snprintf(fb->text + len, sizeof(fb->text) - len, "%s/%s/%s=%lld;", question, channel, value,
		 (long long)count);
	fb->rows++;
}

static void top_cb(const char *number, int64_t reports, int64_t last_ms, void *data)
{
	struct fb *fb = data;
	size_t len = strlen(fb->text);

	snprintf(fb->text + len, sizeof(fb->text) - len, "%s=%lld@%lld;", number, (long long)reports,
		 (long long)last_ms);
	fb->rows++;
}

static void test_views(void **state)
{
	struct uigw_store *st = open_store("views", 86400);
	struct done_rec d = { 0 };
	struct uigw_store_job *job;
	int64_t outcomes[_UIGW_OUTCOME_NUM], responses;
	struct fb fb = { "", 0 };

	job = uigw_store_job_alloc(st, keep_done, &d);
	response(job, "poll", "q1", "yes", "ussi");
	response(job, "poll", "q1", "yes", "ussi");
	response(job, "poll", "q1", "no", "ussi");
	response(job, "poll", "q1", "yes", "smpp-sms");
	response(job, "other", "q1", "yes", "ussi");
	dialog(job, 7, "poll", UIGW_OUTCOME_ABANDONED);
	dialog(job, 7, "poll", UIGW_OUTCOME_COMPLETED);	/* same dialog: replaced */
	dialog(job, 8, "poll", UIGW_OUTCOME_COMPLETED);
	dialog(job, 9, "poll", UIGW_OUTCOME_TIMED_OUT);
	dialog(job, 10, "other", UIGW_OUTCOME_REJECTED);
	spam(job, "a", "+1", 1000);
	spam(job, "a", "+2", 1000);
	spam(job, "b", "+2", 1000);
	spam(job, "c", "+2", 2000);
	spam(job, "a", "+3", 1000);
	spam(job, "b", "+3", 3000);
	run(job, &d);
	talloc_free(job);

	assert_int_equal(uigw_store_feedback(st, "poll", fb_cb, &fb), 0);
	assert_int_equal(fb.rows, 3);
	assert_string_equal(fb.text, "q1/smpp-sms/yes=1;q1/ussi/no=1;q1/ussi/yes=2;");
	fb = (struct fb){ "", 0 };
	assert_int_equal(uigw_store_feedback(st, "nobody", fb_cb, &fb), 0);
	assert_int_equal(fb.rows, 0);

	assert_int_equal(uigw_store_campaign_counts(st, "poll", outcomes, &responses, true), 0);
	assert_int_equal(outcomes[UIGW_OUTCOME_COMPLETED], 2);
	assert_int_equal(outcomes[UIGW_OUTCOME_ABANDONED], 0);
	assert_int_equal(outcomes[UIGW_OUTCOME_TIMED_OUT], 1);
	assert_int_equal(outcomes[UIGW_OUTCOME_REJECTED], 0);
	assert_int_equal(responses, 4);

	fb = (struct fb){ "", 0 };
	assert_int_equal(uigw_store_spam_top(st, 2, top_cb, &fb), 0);
	assert_string_equal(fb.text, "+2=3@2000;+3=2@3000;");
	fb = (struct fb){ "", 0 };
	assert_int_equal(uigw_store_spam_top(st, 10, top_cb, &fb), 0);
	assert_int_equal(fb.rows, 3);
	uigw_store_close(st);
	assert_int_equal(file_int("views", "SELECT steps FROM dialog WHERE id = 7 AND outcome = 'completed'"), 3);
}

/* The opt-out filter: after a reopen it knows the stored opt-outs; most other subscribers are answered without a
 * read of the database, and an opt-out submitted (not yet committed) counts at once (the store keeps it aside
 * until the commit). */
static void opt_filter_check(void)
{
	struct uigw_store *st = open_store("optout", 86400);
	struct uigw_store_stats stats;
	struct done_rec d = { 0 };
	struct uigw_store_job *job;
	char sub[40];
	int i, opted = 0;

	assert_int_equal(uigw_store_is_opted_out(st, "b"), 1);
	for (i = 0; i < 1000; i++) {
		snprintf(sub, sizeof(sub), "%032x", i);
		opted += uigw_store_is_opted_out(st, sub);
	}
	assert_int_equal(opted, 0);
	uigw_store_stats(st, &stats);
	assert_int_equal(stats.optout_checks, 1001);
	/* "b", and about 0.1 % of the others; PostgreSQL reads every time (other gateways write the list too) */
	if (!pg_conninfo)
		assert_in_range(stats.optout_reads, 1, 11);
	else
		assert_int_equal(stats.optout_reads, 1001);

	job = uigw_store_job_alloc(st, keep_done, &d);
	row(job, UIGW_ROW_OPTOUT, "00000000000000000000000000000007", 3000)->u.optout.opt_out = true;
	assert_int_equal(uigw_store_submit(job), 0);
	uigw_store_stats(st, &stats);
	assert_int_equal(uigw_store_is_opted_out(st, "00000000000000000000000000000007"), 1);	/* not committed */
	uigw_store_drain(st);
	talloc_free(job);
	assert_int_equal(uigw_store_is_opted_out(st, "00000000000000000000000000000007"), 1);
	uigw_store_stats(st, &stats);
	if (!pg_conninfo)
		assert_in_range(stats.optout_reads, 2, 12);	/* the check after the commit read */
	uigw_store_close(st);
}

static void test_optout_offer_subscriber(void **state)
{
	struct uigw_store *st = open_store("optout", 86400);
	struct done_rec d = { 0 };
	struct uigw_store_job *job;
	struct uigw_store_row *r;

	assert_int_equal(uigw_store_is_opted_out(st, "a"), 0);
	job = uigw_store_job_alloc(st, keep_done, &d);
	row(job, UIGW_ROW_OPTOUT, "a", 1000)->u.optout.opt_out = true;
	row(job, UIGW_ROW_OPTOUT, "b", 1000)->u.optout.opt_out = true;
	r = row(job, UIGW_ROW_OFFER, "a", 1000);
	r->u.offer.service = "tones";
	r->u.offer.uri = "https://example.org/t";
	row(job, UIGW_ROW_SUBSCRIBER, "a", 1000)->u.subscriber.msisdn = "491701";
	row(job, UIGW_ROW_SUBSCRIBER, "a", 5000)->u.subscriber.msisdn = "491701";
	run(job, &d);
	talloc_free(job);
	assert_int_equal(uigw_store_is_opted_out(st, "a"), 1);
	assert_int_equal(uigw_store_is_opted_out(st, "b"), 1);
	assert_int_equal(uigw_store_is_opted_out(st, "c"), 0);

	d = (struct done_rec){ 0 };
	job = uigw_store_job_alloc(st, keep_done, &d);
	row(job, UIGW_ROW_OPTOUT, "a", 2000)->u.optout.opt_out = false;	/* back in */
	run(job, &d);
	talloc_free(job);
	assert_int_equal(uigw_store_is_opted_out(st, "a"), 0);
	assert_int_equal(uigw_store_is_opted_out(st, "b"), 1);
	uigw_store_close(st);

	assert_int_equal(file_int("optout", "SELECT count(*) FROM offer WHERE service = 'tones' AND subscriber = 'a'"
				  " AND uri = 'https://example.org/t' AND campaign = 'c1' AND time = 1000"), 1);
	assert_int_equal(file_int("optout", "SELECT count(*) FROM subscriber_map"), 1);
	assert_int_equal(file_int("optout", "SELECT first_seen FROM subscriber_map WHERE msisdn = '491701'"), 1000);
	assert_int_equal(file_int("optout", "SELECT last_seen FROM subscriber_map WHERE pseudonym = 'a'"), 5000);
	assert_int_equal(file_int("optout", "SELECT count(*) FROM optout"), 2);
	opt_filter_check();	/* (its reopen purges the old mapping rows) */
	assert_int_equal(file_int("optout", "SELECT count(*) FROM optout"), 3);
}

/* New subscribers' mappings wait in the journal (subscriber_new) for mapping-delay, then go into subscriber_map in
 * key order (in several steps here: 5,004 rows), first and last seen kept across passes; a rolled-back job's
 * mapping is not merged; a journal left at open (a crash) is merged at once. SQLite only: PostgreSQL writes the
 * mapping itself. */
static int64_t wait_merged(struct uigw_store *st)
{
	int spins;

	for (spins = 0; spins < 400 && sql_int(st->rdb, "SELECT count(*) FROM subscriber_new"); spins++)
		usleep(25000);
	return sql_int(st->rdb, "SELECT count(*) FROM subscriber_new");
}

static void test_mapping_journal(void **state)
{
	static const char *const odd[] = { "a", "!x", "zz", "a" };
	static const int64_t odd_t[] = { 5000, 1000, 1000, 1000 };
	struct uigw_store_cfg cfg;
	struct uigw_store *st;
	struct done_rec d = { 0 };
	struct uigw_store_job *job;
	struct uigw_store_row *r;
	sqlite3 *db;
	char sql[128];
	unsigned int i;
	int64_t t_idle;

	if (pg_conninfo)
		skip();
	uigw_store_cfg_defaults(&cfg);
	cfg.path = db_path("mapjournal");
	cfg.map_delay_s = 2;
	cfg.retention_days = 0;	/* times from 1970: kept */
	st = open_cfg(&cfg, "mapjournal");
	job = uigw_store_job_alloc(st, keep_done, &d);
	for (i = 0; i < 5000; i++) {
		r = row(job, UIGW_ROW_SUBSCRIBER, NULL, 1000 + i);
		r->subscriber = talloc_asprintf(job, "%08x%024x", (uint32_t)(i * 2654435761u), i);
		r->u.subscriber.msisdn = talloc_asprintf(job, "49170%07u", i);
	}
	/* outside the hex digits too (below '0', between '9' and 'a', above 'f'): every key is in a range */
	for (i = 0; i < ARRAY_SIZE(odd); i++)
		row(job, UIGW_ROW_SUBSCRIBER, odd[i], odd_t[i])->u.subscriber.msisdn = "491709";
	run(job, &d);
	talloc_free(job);
	/* committed with the batch, in the journal: not merged before mapping-delay */
	assert_int_equal(sql_int(st->rdb, "SELECT count(*) FROM subscriber_new"), 5004);
	assert_int_equal(sql_int(st->rdb, "SELECT count(*) FROM subscriber_map"), 0);
	assert_int_equal(wait_merged(st), 0);
	assert_int_equal(sql_int(st->rdb, "SELECT count(*) FROM subscriber_map"), 5003);
	/* each its own number and time, whatever range merged it */
	assert_int_equal(sql_int(st->rdb, "SELECT count(*) FROM subscriber_map WHERE first_seen = last_seen"
				 " AND msisdn = '49170' || printf('%07d', first_seen - 1000)"), 5000);
	assert_int_equal(sql_int(st->rdb, "SELECT first_seen * 10000 + last_seen FROM subscriber_map"
				 " WHERE pseudonym = 'a'"), 1000 * 10000 + 5000);
	assert_int_equal(sql_int(st->rdb, "SELECT last_seen FROM subscriber_map WHERE pseudonym = '!x'"), 1000);
	snprintf(sql, sizeof(sql), "SELECT msisdn FROM subscriber_map WHERE pseudonym = '%08x%024x'",
		 (uint32_t)(4999 * 2654435761u), 4999);
	assert_int_equal(sql_int(st->rdb, sql), 491700004999LL);

	/* a returning subscriber in a later pass: first seen stays, last seen moves */
	d = (struct done_rec){ 0 };
	job = uigw_store_job_alloc(st, keep_done, &d);
	row(job, UIGW_ROW_SUBSCRIBER, "a", 9000)->u.subscriber.msisdn = "491709";
	row(job, UIGW_ROW_SUBSCRIBER, "b", 9000)->u.subscriber.msisdn = "491708";
	run(job, &d);
	talloc_free(job);
	assert_int_equal(wait_merged(st), 0);
	assert_int_equal(sql_int(st->rdb, "SELECT first_seen * 10000 + last_seen FROM subscriber_map"
				 " WHERE pseudonym = 'a'"), 1000 * 10000 + 9000);
	assert_int_equal(sql_int(st->rdb, "SELECT count(*) FROM subscriber_map"), 5004);

	/* a job refused in a batch is rolled back: its mapping is not merged, the other job's is */
	{
		struct done_rec d1 = { 0 }, d2 = { 0 };
		struct uigw_store_job *bad = uigw_store_job_alloc(st, keep_done, &d1);
		struct uigw_store_job *good = uigw_store_job_alloc(st, keep_done, &d2);

		row(good, UIGW_ROW_SUBSCRIBER, "g1", 9500)->u.subscriber.msisdn = "491706";
		row(bad, UIGW_ROW_SUBSCRIBER, "r1", 9500)->u.subscriber.msisdn = "491705";
		uigw_store_job_row(bad, (enum uigw_row_kind)99);
		row(good, UIGW_ROW_SUBSCRIBER, "g2", 9500)->u.subscriber.msisdn = "491704";
		assert_int_equal(uigw_store_submit(good), 0);
		assert_int_equal(uigw_store_submit(bad), 0);
		uigw_store_drain(st);
		assert_true(bad->rc < 0);
		assert_int_equal(good->rc, 0);
		talloc_free(bad);
		talloc_free(good);
	}
	assert_int_equal(wait_merged(st), 0);
	assert_int_equal(sql_int(st->rdb, "SELECT count(*) FROM subscriber_map WHERE pseudonym IN ('g1', 'g2')"), 2);
	assert_int_equal(sql_int(st->rdb, "SELECT count(*) FROM subscriber_map WHERE pseudonym = 'r1'"), 0);
	assert_int_equal(sql_int(st->rdb, "SELECT count(*) FROM subscriber_map"), 5006);
	uigw_store_close(st);

	/* what a crash left in the journal is merged at the next open, without waiting for mapping-delay */
	assert_int_equal(sqlite3_open(db_path("mapjournal"), &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO subscriber_new VALUES ('c', '491707', 11000),"
				      " ('a', '491709', 12000)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	cfg.map_delay_s = 3600;
	st = open_cfg(&cfg, "mapjournal");
	assert_int_equal(wait_merged(st), 0);
	assert_int_equal(sql_int(st->rdb, "SELECT count(*) FROM subscriber_map"), 5007);
	assert_int_equal(sql_int(st->rdb, "SELECT last_seen FROM subscriber_map WHERE pseudonym = 'a'"), 12000);

	/* mapping-delay is an hour, but once the writer is idle for a second what waits is merged (and its cache
	 * given back) */
	d = (struct done_rec){ 0 };
	job = uigw_store_job_alloc(st, keep_done, &d);
	row(job, UIGW_ROW_SUBSCRIBER, "idle", 13000)->u.subscriber.msisdn = "491703";
	run(job, &d);
	talloc_free(job);
	assert_int_equal(sql_int(st->rdb, "SELECT count(*) FROM subscriber_new"), 1);
	t_idle = uigw_real_mono_us();
	assert_int_equal(wait_merged(st), 0);
	/* 1 s idle, the writer's wait rounded up to the next second: about 2 s (8 with a loaded machine's slack) */
	assert_true(uigw_real_mono_us() - t_idle < 8000000);
	assert_int_equal(sql_int(st->rdb, "SELECT msisdn FROM subscriber_map WHERE pseudonym = 'idle'"), 491703);
	uigw_store_close(st);

	/* overload puts the merge off: with mapping-delay 0 it is due after every commit, yet the row stays in the
	 * journal while an episode runs (idle or not), and is merged once it ends */
	cfg.map_delay_s = 0;
	st = open_cfg(&cfg, "mapjournal");
	uigw_store_defer_upkeep(st, true);
	d = (struct done_rec){ 0 };
	job = uigw_store_job_alloc(st, keep_done, &d);
	row(job, UIGW_ROW_SUBSCRIBER, "deferred", 14000)->u.subscriber.msisdn = "491702";
	run(job, &d);
	talloc_free(job);
	usleep(1500000);	/* past the idle merge's second */
	assert_int_equal(sql_int(st->rdb, "SELECT count(*) FROM subscriber_new"), 1);
	{
		struct uigw_store_stats s;

		uigw_store_stats(st, &s);
		assert_true(s.map_deferred);
		assert_int_equal(s.map_deferrals, 1);
		uigw_store_defer_upkeep(st, false);
		assert_int_equal(wait_merged(st), 0);
		uigw_store_stats(st, &s);
		assert_false(s.map_deferred);
	}
	assert_int_equal(sql_int(st->rdb, "SELECT msisdn FROM subscriber_map WHERE pseudonym = 'deferred'"), 491702);
	uigw_store_close(st);
}

/* The persistent MT queue: rows in, read back in id order with every field, deleted by id; a row without a PDU
 * fails its job. */
struct mt_seen {
	int n;
	int64_t ids[8];
	bool restart[8];
	bool sending[8];
	char pdu[8][8];
};

static int mt_cb(const struct uigw_store_row *r, void *data)
{
	struct mt_seen *m = data;

	assert_true(m->n < 8);
	assert_int_equal(r->kind, UIGW_ROW_MT);
	m->ids[m->n] = r->u.mt.id;
	m->restart[m->n] = r->u.mt.restart;
	m->sending[m->n] = r->u.mt.sending;
	assert_true(r->u.mt.pdu_len < sizeof(m->pdu[0]));
	memcpy(m->pdu[m->n], r->u.mt.pdu, r->u.mt.pdu_len);
	m->pdu[m->n][r->u.mt.pdu_len] = 0;
	if (r->u.mt.id == 7) {
		assert_string_equal(r->channel, "smpp-sms");
		assert_int_equal(r->dialog, 42);
		assert_int_equal(r->time_ms, 1000);
		assert_int_equal(r->u.mt.expires_ms, 9000);
		assert_null(r->u.mt.link);
	}
	m->n++;
	return 0;
}

static void mt_row(struct uigw_store_job *job, int64_t id, const char *pdu, bool restart)
{
	struct uigw_store_row *r = uigw_store_job_row(job, UIGW_ROW_MT);

	assert_non_null(r);
	r->time_ms = 1000;
	r->channel = "smpp-sms";
	r->dialog = 42;
	r->u.mt.id = id;
	r->u.mt.expires_ms = 9000;
	r->u.mt.restart = restart;
	r->u.mt.pdu = (const uint8_t *)pdu;
	r->u.mt.pdu_len = pdu ? strlen(pdu) : 0;
}

static void test_mt_queue(void **state)
{
	struct uigw_store *st = open_store("mtq", 86400);
	struct done_rec d = { 0 };
	struct uigw_store_job *job;
	struct mt_seen m = { 0 };
	int64_t max_id;

	assert_int_equal(uigw_store_mt_load(st, mt_cb, &m, &max_id), 0);
	assert_int_equal(max_id, 0);
	job = uigw_store_job_alloc(st, keep_done, &d);
	mt_row(job, 9, "second", false);
	mt_row(job, 7, "first", true);
	mt_row(job, 11, "third", true);
	run(job, &d);
	assert_int_equal(job->rc, 0);
	talloc_free(job);

	assert_int_equal(uigw_store_mt_load(st, mt_cb, &m, &max_id), 3);
	assert_int_equal(max_id, 11);
	assert_int_equal(m.ids[0], 7);
	assert_string_equal(m.pdu[0], "first");
	assert_true(m.restart[0]);
	assert_int_equal(m.ids[1], 9);
	assert_false(m.restart[1]);
	assert_string_equal(m.pdu[2], "third");

	assert_false(m.sending[0]);

	/* marked "may be sent" (mt-in-doubt drop): read back as such */
	d = (struct done_rec){ 0 };
	job = uigw_store_job_alloc(st, keep_done, &d);
	uigw_store_job_row(job, UIGW_ROW_MT_SENDING)->u.mt.id = 11;
	run(job, &d);
	assert_int_equal(job->rc, 0);
	talloc_free(job);
	m = (struct mt_seen){ 0 };
	assert_int_equal(uigw_store_mt_load(st, mt_cb, &m, &max_id), 3);
	assert_false(m.sending[0]);
	assert_false(m.sending[1]);
	assert_true(m.sending[2]);

	/* accepted by the SMSC: deleted */
	d = (struct done_rec){ 0 };
	job = uigw_store_job_alloc(st, keep_done, &d);
	uigw_store_job_row(job, UIGW_ROW_MT_DONE)->u.mt.id = 9;
	run(job, &d);
	talloc_free(job);
	m = (struct mt_seen){ 0 };
	assert_int_equal(uigw_store_mt_load(st, mt_cb, &m, &max_id), 2);
	assert_int_equal(m.ids[1], 11);

	/* no PDU: that job fails as a whole, a job in the same batch does not */
	{
		struct done_rec d2 = { 0 };
		struct uigw_store_job *job2;

		d = (struct done_rec){ 0 };
		job = uigw_store_job_alloc(st, keep_done, &d);
		mt_row(job, 12, "ok", true);
		mt_row(job, 13, NULL, true);
		job2 = uigw_store_job_alloc(st, keep_done, &d2);
		mt_row(job2, 14, "fine", true);
		assert_int_equal(uigw_store_submit(job), 0);
		assert_int_equal(uigw_store_submit(job2), 0);
		uigw_store_drain(st);
		assert_int_equal(d.calls, 1);
		assert_true(job->rc < 0);
		assert_int_equal(d2.calls, 1);
		assert_int_equal(job2->rc, 0);
		talloc_free(job);
		talloc_free(job2);
	}
	m = (struct mt_seen){ 0 };
	assert_int_equal(uigw_store_mt_load(st, mt_cb, &m, &max_id), 3);
	assert_int_equal(m.ids[2], 14);

	/* inserted and accepted within one group commit: neither row is written, the others are */
	{
		struct done_rec d2 = { 0 };
		struct uigw_store_job *job2;
		unsigned long elided = st->mt_elided;

		/* one job is one batch for sure (two jobs may or may not share one) */
		d = (struct done_rec){ 0 };
		job = uigw_store_job_alloc(st, keep_done, &d);
		mt_row(job, 20, "gone", true);
		mt_row(job, 21, "stays", true);
		uigw_store_job_row(job, UIGW_ROW_MT_DONE)->u.mt.id = 20;
		uigw_store_job_row(job, UIGW_ROW_MT_DONE)->u.mt.id = 14;	/* written in an earlier batch */
		job2 = uigw_store_job_alloc(st, keep_done, &d2);
		uigw_store_job_row(job2, UIGW_ROW_MT_DONE)->u.mt.id = 99;	/* never inserted: harmless */
		assert_int_equal(uigw_store_submit(job), 0);
		assert_int_equal(uigw_store_submit(job2), 0);
		uigw_store_drain(st);
		assert_int_equal(job->rc, 0);
		assert_int_equal(job2->rc, 0);
		if (!pg_conninfo)
			assert_int_equal(st->mt_elided, elided + 1);	/* SQLite's writer skips both rows */
		talloc_free(job);
		talloc_free(job2);
	}
	m = (struct mt_seen){ 0 };
	assert_int_equal(uigw_store_mt_load(st, mt_cb, &m, &max_id), 3);
	assert_int_equal(m.ids[0], 7);
	assert_int_equal(m.ids[1], 11);
	assert_int_equal(m.ids[2], 21);
	assert_int_equal(uigw_store_mt_load(NULL, mt_cb, &m, &max_id), -EINVAL);
	uigw_store_close(st);
}

/* Retention: purged on open (retention_days 0 keeps everything). */
static void test_purge(void **state)
{
	struct uigw_store_cfg cfg;
	struct uigw_store *st;
	struct done_rec d = { 0 };
	struct uigw_store_job *job;
	int64_t now = (int64_t)time(NULL) * 1000;

	uigw_store_cfg_defaults(&cfg);
	cfg.path = db_path("purge");
	cfg.retention_days = 0;
	st = open_cfg(&cfg, "purge");
	job = uigw_store_job_alloc(st, keep_done, &d);
	row(job, UIGW_ROW_SUBSCRIBER, "old", now - 3 * 86400000LL)->u.subscriber.msisdn = "1";
	row(job, UIGW_ROW_SUBSCRIBER, "new", now - 3600000LL)->u.subscriber.msisdn = "2";
	run(job, &d);
	talloc_free(job);
	uigw_store_close(st);

	st = open_cfg(&cfg, "purge");	/* keep */
	uigw_store_close(st);
	assert_int_equal(file_int("purge", "SELECT count(*) FROM subscriber_map"), 2);

	/* SQLite purges at the open; PostgreSQL a second after it, or when asked (store purge) */
	cfg.retention_days = 2;
	st = open_cfg(&cfg, "purge");
	if (pg_conninfo) {
		d = (struct done_rec){ 0 };
		job = uigw_store_job_alloc(st, keep_done, &d);
		uigw_store_job_row(job, UIGW_ROW_PURGE);
		run(job, &d);
		talloc_free(job);
	}
	uigw_store_close(st);
	assert_int_equal(file_int("purge", "SELECT count(*) FROM subscriber_map"), 1);
	assert_int_equal(file_int("purge", "SELECT count(*) FROM subscriber_map WHERE pseudonym = 'new'"), 1);
}

/* A job with a row the store refuses fails alone and atomically; other jobs are unaffected. */
static void test_refused_row(void **state)
{
	struct uigw_store *st = open_store("refused", 86400);
	struct done_rec d1 = { 0 }, d2 = { 0 };
	struct uigw_store_job *bad, *good;

	bad = uigw_store_job_alloc(st, keep_done, &d1);
	response(bad, "poll", "q1", "bad", "ussi");
	uigw_store_job_row(bad, (enum uigw_row_kind)99);
	good = uigw_store_job_alloc(st, keep_done, &d2);
	response(good, "poll", "q1", "good", "ussi");
	assert_int_equal(uigw_store_submit(bad), 0);
	assert_int_equal(uigw_store_submit(good), 0);
	uigw_store_drain(st);
	assert_int_equal(d1.calls, 1);
	assert_int_equal(d2.calls, 1);
	assert_true(bad->rc < 0);
	assert_int_equal(good->rc, 0);
	talloc_free(bad);
	talloc_free(good);
	assert_int_equal(sync_count(st, UIGW_Q_ANSWERS, "poll", "q1"), 1);
	uigw_store_close(st);
	assert_int_equal(file_int("refused", "SELECT count(*) FROM response WHERE value = 'bad'"), 0);
}

/* Completions arrive through the eventfd on the osmo_select_main loop, in submission order. */
static int order[16], n_order;

static void order_done(struct uigw_store_job *job, void *data)
{
	order[n_order++] = (int)(intptr_t)data;
	talloc_free(job);
}

static void test_loop_completion(void **state)
{
	struct uigw_store *st = open_store("loop", 86400);
	struct uigw_store_job *job;
	int i, spins;

	n_order = 0;
	for (i = 0; i < 10; i++) {
		job = uigw_store_job_alloc(st, order_done, (void *)(intptr_t)i);
		response(job, "poll", "q1", "1", "ussi");
		assert_int_equal(uigw_store_submit(job), 0);
	}
	assert_int_equal(n_order, 0);
	assert_int_equal(uigw_store_queue_depth(st), 10);
	for (spins = 0; n_order < 10 && spins < 1000; spins++)
		osmo_select_main(0);
	assert_int_equal(n_order, 10);
	for (i = 0; i < 10; i++)
		assert_int_equal(order[i], i);
	assert_int_equal(uigw_store_queue_depth(st), 0);

	/* close commits and completes what is still queued */
	n_order = 0;
	job = uigw_store_job_alloc(st, order_done, (void *)(intptr_t)42);
	response(job, "poll", "q1", "2", "ussi");
	assert_int_equal(uigw_store_submit(job), 0);
	uigw_store_close(st);
	assert_int_equal(n_order, 1);
	assert_int_equal(order[0], 42);
	assert_int_equal(file_int("loop", "SELECT count(*) FROM response"), 11);
}

/* Completions run in submission order across batches; close also completes follow-up jobs that completions
 * submit. */
static struct uigw_store *follow_st;

static void follow_done(struct uigw_store_job *job, void *data)
{
	int i = (int)(intptr_t)data;

	order[n_order++] = i;
	talloc_free(job);
	if (i == 100) {
		job = uigw_store_job_alloc(follow_st, order_done, (void *)(intptr_t)101);
		response(job, "poll", "q1", "3", "ussi");
		assert_int_equal(uigw_store_submit(job), 0);
	}
}

static void test_order_and_follow_up(void **state)
{
	struct uigw_store_cfg cfg;
	struct uigw_store_job *job;
	int i;

	uigw_store_cfg_defaults(&cfg);
	cfg.path = db_path("order");
	cfg.batch_max_rows = 1;		/* one job per batch: ten batches */
	if (pg_conninfo)
		pg_cfg(&cfg, "order");
	follow_st = uigw_store_open(ctx, &cfg);
	assert_non_null(follow_st);
	if (pg_conninfo) {
		talloc_free((char *)cfg.conninfo);
		pg_wait_up(follow_st);
	}
	n_order = 0;
	for (i = 0; i < 10; i++) {
		job = uigw_store_job_alloc(follow_st, order_done, (void *)(intptr_t)i);
		response(job, "poll", "q1", "1", "ussi");
		assert_int_equal(uigw_store_submit(job), 0);
	}
	uigw_store_drain(follow_st);	/* every batch is written before the first completion runs */
	assert_int_equal(n_order, 10);
	for (i = 0; i < 10; i++)
		assert_int_equal(order[i], i);

	n_order = 0;
	job = uigw_store_job_alloc(follow_st, follow_done, (void *)(intptr_t)100);
	response(job, "poll", "q1", "2", "ussi");
	assert_int_equal(uigw_store_submit(job), 0);
	uigw_store_close(follow_st);
	assert_int_equal(n_order, 2);
	assert_int_equal(order[0], 100);
	assert_int_equal(order[1], 101);
	assert_int_equal(file_int("order", "SELECT count(*) FROM response"), 12);
}

/* -EBUSY when queue_max_jobs jobs wait: another connection holds the write lock, so the writer blocks in
 * BEGIN IMMEDIATE with at most one job (batch_max_rows 1) and the rest of the queue cannot drain. */
static void test_queue_full(void **state)
{
	struct uigw_store_cfg cfg;
	struct uigw_store *st;
	struct uigw_store_job *jobs[10];
	sqlite3 *lock;
	int i, accepted = 0, rc = 0;

	SQLITE_ONLY();
	uigw_store_cfg_defaults(&cfg);
	cfg.path = db_path("busy");
	cfg.queue_max_jobs = 3;
	cfg.batch_max_rows = 1;
	st = uigw_store_open(ctx, &cfg);
	assert_non_null(st);

	assert_int_equal(sqlite3_open(db_path("busy"), &lock), SQLITE_OK);
	assert_int_equal(sqlite3_exec(lock, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);

	n_order = 0;
	for (i = 0; i < 10; i++) {
		jobs[i] = uigw_store_job_alloc(st, order_done, (void *)(intptr_t)i);
		response(jobs[i], "poll", "q1", "1", "ussi");
		rc = uigw_store_submit(jobs[i]);
		if (rc < 0)
			break;
		accepted++;
	}
	assert_int_equal(rc, -EBUSY);
	/* 3 waiting, plus perhaps the one the writer took */
	assert_in_range(accepted, 3, 4);
	assert_int_equal(uigw_store_queue_depth(st), accepted);
	talloc_free(jobs[i]);	/* refused: still ours */

	assert_int_equal(sqlite3_exec(lock, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(lock);
	uigw_store_drain(st);
	assert_int_equal(n_order, accepted);
	assert_int_equal(uigw_store_queue_depth(st), 0);
	assert_int_equal(sync_count(st, UIGW_Q_ANSWERS, "poll", "q1"), accepted);
	uigw_store_close(st);
}

/* Log rows (the API's audit): one job for many rows, submitted when full, by its timer, at a drain and at close;
 * rows a full queue does not take are counted. */
static void log_rows(struct uigw_store *st, unsigned int n, const char *path)
{
	struct uigw_store_row *r;
	void *rctx;
	unsigned int i;

	for (i = 0; i < n; i++) {
		r = uigw_store_log_row(st, UIGW_ROW_AUDIT, &rctx);
		assert_non_null(r);
		r->time_ms = 1700000000000LL + i;
		r->u.audit.method = "GET";
		r->u.audit.path = talloc_strdup(rctx, path);
		r->u.audit.status = 200;
	}
}

static void test_log_rows(void **state)
{
	struct uigw_store_cfg cfg;
	struct uigw_store_stats stats;
	struct uigw_store *st;
	struct uigw_store_job *job = NULL;
	sqlite3 *lock;
	int spins, rc;

	SQLITE_ONLY();
	st = open_store("log", 86400);
	/* 512 rows wait in one job; the 513th submits them */
	log_rows(st, UIGW_STORE_LOG_ROWS, "/v1/a");
	assert_int_equal(uigw_store_queue_depth(st), 0);
	log_rows(st, 88, "/v1/b");
	assert_int_equal(uigw_store_queue_depth(st), 1);
	uigw_store_drain(st);	/* and the drain the other 88 */
	assert_int_equal(file_int("log", "SELECT count(*) FROM audit"), 600);
	assert_int_equal(file_int("log", "SELECT count(*) FROM audit WHERE path = '/v1/b'"), 88);

	/* the timer */
	log_rows(st, 1, "/v1/c");
	assert_int_equal(uigw_store_queue_depth(st), 0);
	for (spins = 0; spins < 400 && file_int("log", "SELECT count(*) FROM audit") < 601; spins++) {
		osmo_select_main(1);
		usleep(5000);
	}
	assert_int_equal(file_int("log", "SELECT count(*) FROM audit"), 601);

	/* close */
	log_rows(st, 3, "/v1/d");
	uigw_store_close(st);
	assert_int_equal(file_int("log", "SELECT count(*) FROM audit"), 604);

	/* a full queue: counted as lost */
	uigw_store_cfg_defaults(&cfg);
	cfg.path = db_path("log");
	cfg.queue_max_jobs = 1;
	st = uigw_store_open(ctx, &cfg);
	assert_non_null(st);
	assert_int_equal(sqlite3_open(db_path("log"), &lock), SQLITE_OK);
	assert_int_equal(sqlite3_exec(lock, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	/* fill the queue while the writer waits for the lock with the job it took */
	for (spins = 0; spins < 100; spins++) {
		job = uigw_store_job_alloc(st, NULL, NULL);
		response(job, "poll", "q1", "1", "ussi");
		rc = uigw_store_submit(job);
		if (rc < 0) {
			talloc_free(job);
			if (spins >= 2)
				break;
			usleep(20000);
		}
	}
	log_rows(st, 2, "/v1/e");
	uigw_store_stats(st, &stats);
	assert_int_equal(stats.log_rows_lost, 0);
	for (spins = 0; spins < 400; spins++) {
		osmo_select_main(1);
		uigw_store_stats(st, &stats);
		if (stats.log_rows_lost)
			break;
		usleep(5000);
	}
	assert_int_equal(stats.log_rows_lost, 2);
	assert_int_equal(sqlite3_exec(lock, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(lock);
	uigw_store_close(st);
	assert_int_equal(file_int("log", "SELECT count(*) FROM audit"), 604);
}

static void test_open_errors(void **state)
{
	struct uigw_store_cfg cfg;
	sqlite3 *db;

	SQLITE_ONLY();
	uigw_store_cfg_defaults(&cfg);
	cfg.path = "/nonexistent-dir/x/y.db";
	assert_null(uigw_store_open(ctx, &cfg));

	/* a newer schema is refused */
	assert_int_equal(sqlite3_open(db_path("newer"), &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	cfg.path = db_path("newer");
	assert_null(uigw_store_open(ctx, &cfg));
	assert_int_equal(file_int("newer", "PRAGMA user_version"), 99);

	assert_int_equal(uigw_store_schema_upgrade(NULL, 0, 1), -EINVAL);
	assert_int_equal(uigw_store_submit(NULL), -EINVAL);
	assert_null(uigw_store_job_alloc(NULL, NULL, NULL));
}

/* Upgrade from every older schema version, keeping (and counting) the old rows. */
static void exec_ok(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
}

/* The counts the triggers keep (schema version 6) always equal what they count: after inserts, a Back that
 * replaces an answer (the writer's upsert), an update, deletes, and a dialog written twice. */
static void test_counts_follow_rows(void **state)
{
	struct uigw_store *st;
	sqlite3 *db;

	SQLITE_ONLY();
	st = open_store("counts", 86400);
	uigw_store_close(st);
	assert_int_equal(sqlite3_open(db_path("counts"), &db), SQLITE_OK);
	exec_ok(db, "INSERT INTO response (campaign, question, value, channel, dialog, time) VALUES"
		" ('p', 'q1', '3', 'map', 1, 1), ('p', 'q1', '5', 'map', 2, 1), ('p', 'q1', '5', 'ussi', 3, 1),"
		" ('p', 'q2', 'yes', NULL, 0, 1), ('p', 'q2', 'yes', NULL, 0, 1), ('o', 'q1', '1', 'map', 4, 1)");
	/* Back: the same dialog answers q1 again (as WSTMT_RESPONSE does) */
	exec_ok(db, "INSERT INTO response (campaign, question, value, channel, dialog, time)"
		" VALUES ('p', 'q1', '4', 'map', 1, 2) ON CONFLICT (dialog, question) WHERE dialog > 0"
		" DO UPDATE SET value = excluded.value, channel = excluded.channel");
	exec_ok(db, "UPDATE response SET channel = 'gsup' WHERE dialog = 2");
	exec_ok(db, "DELETE FROM response WHERE dialog = 3");
	exec_ok(db, "INSERT INTO dialog (id, campaign, outcome) VALUES (1, 'p', 'completed'), (2, 'p', 'abandoned')");
	exec_ok(db, "INSERT INTO dialog (id, campaign, outcome) VALUES (2, 'p', 'completed') ON CONFLICT (id)"
		" DO UPDATE SET outcome = excluded.outcome");
	exec_ok(db, "DELETE FROM dialog WHERE id = 1");
	sqlite3_close(db);
	assert_int_equal(file_int("counts", "SELECT count(*) FROM ("
				  "SELECT campaign, question, coalesce(channel, ''), coalesce(value, ''), count(*) FROM response"
				  " GROUP BY 1, 2, 3, 4 EXCEPT SELECT campaign, question, channel, value, n FROM answer_count"
				  " WHERE n > 0)"), 0);
	assert_int_equal(file_int("counts", "SELECT count(*) FROM (SELECT campaign, question, channel, value, n"
				  " FROM answer_count WHERE n > 0 EXCEPT SELECT campaign, question, coalesce(channel, ''),"
				  " coalesce(value, ''), count(*) FROM response GROUP BY 1, 2, 3, 4)"), 0);
	assert_int_equal(file_int("counts", "SELECT n FROM answer_count WHERE campaign = 'p' AND question = 'q1'"
				  " AND channel = 'map' AND value = '4'"), 1);
	assert_int_equal(file_int("counts", "SELECT n FROM answer_count WHERE campaign = 'p' AND question = 'q1'"
				  " AND channel = 'map' AND value = '3'"), 0);
	assert_int_equal(file_int("counts", "SELECT count(*) FROM (SELECT campaign, outcome, count(*) FROM dialog"
				  " GROUP BY 1, 2 EXCEPT SELECT campaign, outcome, n FROM dialog_count WHERE n > 0)"), 0);
	assert_int_equal(file_int("counts", "SELECT sum(n) FROM dialog_count WHERE campaign = 'p'"), 1);
	assert_int_equal(file_int("counts", "SELECT n FROM dialog_count WHERE campaign = 'p'"
				  " AND outcome = 'completed'"), 1);
}

/* One commit of 100 answers of 1,000 characters each (100 KB) from subscriber \a sub, dialogs from *id on. */
static void commit_100k(struct uigw_store *st, const char *sub, uint64_t *id)
{
	static char raw[1001];
	struct done_rec d = { 0 };
	struct uigw_store_job *job = uigw_store_job_alloc(st, keep_done, &d);
	int j;

	if (!raw[0])
		memset(raw, 'x', sizeof(raw) - 1);
	for (j = 0; j < 100; j++) {
		struct uigw_store_row *r = row(job, UIGW_ROW_RESPONSE, sub, 1000);

		r->dialog = (*id)++;
		r->u.response.node = r->u.response.question = "q";
		r->u.response.kind = "text";
		r->u.response.value = "v";
		r->u.response.raw = raw;
	}
	talloc_free(run(job, &d));
}

/* The WAL stays within wal-max-size when commits write faster than the timer checkpoints: a checkpoint when it
 * holds half the bound (the timer alone let 8 MB/s pass a 4 MiB bound and fill a small disk). */
static void test_wal_bound(void **state)
{
	struct uigw_store_cfg cfg;
	struct uigw_store *st;
	char wal[160];
	struct stat sb;
	off_t most = 0;
	uint64_t id = 1;
	int i;

	SQLITE_ONLY();
	uigw_store_cfg_defaults(&cfg);
	cfg.path = db_path("walbound");
	cfg.wal_max_mb = 1;
	cfg.checkpoint_interval_ms = 600000;	/* the timer never comes in this test */
	st = uigw_store_open(ctx, &cfg);
	assert_non_null(st);
	snprintf(wal, sizeof(wal), "%s-wal", cfg.path);
	for (i = 0; i < 60; i++) {	/* 60 commits of 100 KB of answers: 6 MB through a WAL of 1 MiB */
		commit_100k(st, "sub-w", &id);
		assert_int_equal(stat(wal, &sb), 0);
		if (sb.st_size > most)
			most = sb.st_size;
	}
	assert_true(st->stats.checkpoints > 0);
	assert_true(most > 0);
	assert_true(most <= 1048576 + 65536);
	uigw_store_close(st);
	assert_int_equal(file_int("walbound", "SELECT count(*) FROM response"), 6000);
}

/* After a burst (the end of an overload episode) the writer gives back what its page cache holds: the pages a burst
 * wrote stay there otherwise, up to cache_size (64 MiB) a connection. */
static void test_release_memory(void **state)
{
	struct uigw_store_cfg cfg;
	struct uigw_store *st;
	int64_t before, after, hw;
	uint64_t id = 1;
	bool pending = true;
	int i;

	SQLITE_ONLY();
	uigw_store_cfg_defaults(&cfg);
	cfg.path = db_path("release");
	st = uigw_store_open(ctx, &cfg);
	assert_non_null(st);
	for (i = 0; i < 40; i++)	/* 4 MB of answers through the writer's cache */
		commit_100k(st, "sub-r", &id);
	uigw_store_memory(st, &before, &hw);
	uigw_store_release_memory(st);
	for (i = 0; i < 200 && pending; i++) {
		usleep(10000);
		pthread_mutex_lock(&st->lock);
		pending = st->release_mem;
		pthread_mutex_unlock(&st->lock);
	}
	assert_false(pending);
	usleep(20000);	/* the writer has taken the flag: let it finish the release */
	uigw_store_memory(st, &after, &hw);
	printf("SQLite memory %" PRId64 " -> %" PRId64 " bytes\n", before, after);
	/* the figure is the connections': SQLite's global count, a mutex on every allocation, is off (store.c) */
	assert_int_equal(sqlite3_memory_used(), 0);
	assert_true(before > 3 << 20);
	assert_true(after < before / 4);
	uigw_store_close(st);
	assert_int_equal(file_int("release", "SELECT count(*) FROM response"), 4000);
}

/* The store's delay (an overload input) from the writer's cost model: a burst after a quiet spell reads as what
 * the writer takes for it, not as the burst over the low rate jobs completed at before (a hundred jobs read as
 * 33 s that way); a saturated writer's backlog reads as its real wait. */
/* The merge of the mapping's journal gives way to commits waiting behind it (>= 100 ms of them at the cost per
 * job), unless the journal is overdue; nothing to give way for or to: it goes on. A store of its fields alone. */
static void test_map_yields(void **state)
{
	struct uigw_store *st = talloc_zero(ctx, struct uigw_store);

	(void)state;
	st->cfg.map_delay_s = 10;
	st->est_job_ns = 100000;		/* 0.1 ms a job */
	st->map.upto = 1;			/* a pass under way */
	st->map.pending = 10;
	st->map.first_us = uigw_mono_us();
	assert_true(uigw_store_map_yields(st, 1000));	/* 100 ms of commits wait */
	assert_false(uigw_store_map_yields(st, 999));	/* under it */
	assert_false(uigw_store_map_yields(st, 0));
	st->est_job_ns = 0;			/* no cost known yet */
	assert_false(uigw_store_map_yields(st, 100000));
	st->est_job_ns = 100000;
	/* overdue: twice a pass's rows waiting, or the oldest three times mapping-delay */
	st->map.pending = UIGW_STORE_MAP_HELD_MAX;
	assert_false(uigw_store_map_yields(st, 100000));
	st->map.pending = 10;
	st->map.first_us = uigw_mono_us() - 30 * 1000000LL;
	assert_false(uigw_store_map_yields(st, 100000));
	st->map.first_us = uigw_mono_us() - 29 * 1000000LL;
	assert_true(uigw_store_map_yields(st, 100000));
	/* no pass under way: a due one waits as well, none due is nothing to put off */
	st->map.upto = 0;
	assert_true(uigw_store_map_yields(st, 100000));
	st->map.first_us = uigw_mono_us();
	assert_false(uigw_store_map_yields(st, 100000));
	/* overload puts a due merge off (a pass under way as well), until twice a pass's rows wait: the bound of the
	 * journal's copy in memory */
	st->map.first_us = uigw_mono_us() - 11 * 1000000LL;
	assert_int_equal(uigw_store_map_due_ms(st), 0);
	st->upkeep_deferred = 1;
	assert_int_equal(uigw_store_map_due_ms(st), -1);
	assert_false(uigw_store_map_step(st, false));
	st->map.upto = 1;
	assert_int_equal(uigw_store_map_due_ms(st), -1);
	assert_false(uigw_store_map_step(st, false));
	assert_false(uigw_store_map_yields(st, 100000));	/* put off, not a step that gave way */
	st->map.pending = UIGW_STORE_MAP_HELD_MAX;
	assert_int_equal(uigw_store_map_due_ms(st), 0);
	talloc_free(st);
}

static void test_delay_cost_model(void **state)
{
	struct uigw_store_cfg cfg;
	struct uigw_store *st;
	unsigned int i;

	uigw_store_cfg_defaults(&cfg);
	cfg.path = db_path("delay");
	st = uigw_store_open(ctx, &cfg);
	assert_non_null(st);
	/* quiet: batches of one job, 2 ms each (the sync); nothing pends */
	for (i = 0; i < 8; i++)
		uigw_store_delay_learn(st, 1, 2000);
	assert_int_equal(uigw_store_delay_ms(st), 0);
	/* a burst of 101 jobs just submitted: no big batch seen, no backlog to speak of */
	st->depth = 101;
	st->pending_since_us = st->completed_us = uigw_real_mono_us();
	assert_true(uigw_store_delay_ms(st) < 50);
	/* the writer's big batches show 2,000 jobs in 400 ms: 199 us a job once the sync is taken off */
	for (i = 0; i < 8; i++)
		uigw_store_delay_learn(st, 2000, 400000);
	assert_true(uigw_store_delay_ms(st) < 50);	/* 101 jobs: 22 ms */
	st->depth = 5000;
	i = uigw_store_delay_ms(st);
	assert_in_range(i, 980, 1010);			/* 2 ms + 5,000 x 199 us */
	/* a stalled writer: nothing completed for 300 ms while jobs pend, whatever the model says */
	st->depth = 1;
	st->pending_since_us = st->completed_us = uigw_real_mono_us() - 300000;
	assert_in_range(uigw_store_delay_ms(st), 300, 400);
	/* ... unless it fails to commit: it refuses by itself then, and holds the jobs */
	__atomic_store_n(&st->failing, 1, __ATOMIC_RELAXED);
	assert_int_equal(uigw_store_delay_ms(st), 0);
	__atomic_store_n(&st->failing, 0, __ATOMIC_RELAXED);
	st->depth = 0;
	uigw_store_close(st);
}

static void test_upgrade(void **state)
{
	int v;

	SQLITE_ONLY();
	for (v = 0; v < UIGW_SCHEMA_VERSION; v++) {
		char name[16];
		struct uigw_store *st;
		struct done_rec d = { 0 };
		struct uigw_store_job *job;
		unsigned int q;
		sqlite3 *db;

		snprintf(name, sizeof(name), "upgrade%d", v);
		assert_int_equal(sqlite3_open(db_path(name), &db), SQLITE_OK);
		assert_int_equal(uigw_store_schema_upgrade(db, 0, v), 0);
		assert_int_equal(sql_int(db, "PRAGMA user_version"), v);
		if (v >= 1) {
			exec_ok(db, "INSERT INTO response (campaign, question, value, time) VALUES"
				" ('poll', 'q1', '2', 1), ('poll', 'q1', '4', 2)");
			exec_ok(db, "INSERT INTO dialog (id, campaign, outcome) VALUES (5, 'poll', 'completed')");
			exec_ok(db, "INSERT INTO spam_report (reporter, number, time, counted) VALUES"
				" ('a', '+1', 1000, 1), ('b', '+1', 2000, 1), ('a', '+1', 1500, 0),"
				" ('c', '+2', 3000, 1)");
		}
		if (v >= 2) {
			exec_ok(db, "INSERT INTO reaction (subscriber, content, reaction)"
				" VALUES ('a', 'song', 'like')");
			exec_ok(db, "INSERT INTO app_rating (subscriber, app, rating) VALUES ('a', 'app', 9)");
			exec_ok(db, "INSERT INTO optout (subscriber, opted_out) VALUES ('x', 1)");
		}
		if (v >= 3) {
			/* from version 3 on the writer keeps the aggregate; rows written by hand must too */
			exec_ok(db, "INSERT INTO spam_number (number, reports, last_time) SELECT number, count(*),"
				" max(time) FROM spam_report WHERE counted = 1 GROUP BY number");
		}
		if (v >= 1 && v < 4) {
			/* the same question answered twice in one dialog (Back): version 4 keeps the latest */
			exec_ok(db, "INSERT INTO response (campaign, question, value, dialog, time) VALUES"
				" ('poll', 'q2', 'old', 7, 1), ('poll', 'q2', 'new', 7, 2)");
		} else if (v >= 4) {
			/* from version 4 on a second answer replaces the first one */
			exec_ok(db, "INSERT INTO response (campaign, question, value, dialog, time) VALUES"
				" ('poll', 'q2', 'new', 7, 2)");
		}
		sqlite3_close(db);

		st = open_store(name, 86400);
		assert_int_equal(sql_int(st->rdb, "PRAGMA user_version"), UIGW_SCHEMA_VERSION);
		/* version 5: the MT queue and the push log exist, empty */
		assert_int_equal(sql_int(st->rdb, "SELECT count(*) FROM mt_queue"), 0);
		assert_int_equal(sql_int(st->rdb, "SELECT count(*) FROM push"), 0);
		assert_int_equal(sync_count(st, UIGW_Q_SPAM_REPORTS, NULL, "+1"), v >= 1 ? 2 : 0);
		assert_int_equal(sync_count(st, UIGW_Q_SPAM_REPORTS, NULL, "+2"), v >= 1 ? 1 : 0);
		assert_int_equal(sync_count(st, UIGW_Q_ANSWERS, "poll", "q1"), v >= 1 ? 2 : 0);
		assert_int_equal(sync_count(st, UIGW_Q_ANSWERS, "poll", "q2"), v >= 1 ? 1 : 0);
		assert_int_equal(sync_count(st, UIGW_Q_LIKES, NULL, "song"), v >= 2 ? 1 : 0);
		assert_int_equal(sync_count(st, UIGW_Q_APP_RATINGS, NULL, "app"), v >= 2 ? 1 : 0);
		assert_int_equal(uigw_store_is_opted_out(st, "x"), v >= 2 ? 1 : 0);

		/* new rows on top of the old ones: the old counted report of 'a' is inside the window */
		job = uigw_store_job_alloc(st, keep_done, &d);
		spam(job, "a", "+1", 5000);
		spam(job, "d", "+1", 5000);
		response(job, "poll", "q1", "6", "ussi");
		q = query(job, UIGW_Q_SPAM_REPORTS, NULL, "+1");
		run(job, &d);
		assert_int_equal(QR(q).count, v >= 1 ? 3 : 2);
		talloc_free(job);
		uigw_store_close(st);
		assert_int_equal(file_int(name, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
					  " AND name = 'response_question'"), 1);
		assert_int_equal(file_int(name, "SELECT count(*) FROM pragma_integrity_check"
					  " WHERE integrity_check = 'ok'"), 1);
	}
	assert_int_equal(uigw_store_schema_upgrade((sqlite3 *)1, 2, 1), -EINVAL);
	assert_int_equal(uigw_store_schema_upgrade((sqlite3 *)1, 0, UIGW_SCHEMA_VERSION + 1), -EINVAL);
}

static void test_pseudonym(void **state)
{
	char out[33];
	char out2[33];

	/* RFC 4231 test case 2: HMAC-SHA-256("Jefe", "what do ya want for nothing?") =
	 * 5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843 */
	uigw_pseudonym("Jefe", "what do ya want for nothing?", out);
	assert_string_equal(out, "5bdcc146bf60754e6a042426089575c7");
	uigw_pseudonym("Jefe", "491701234567", out);
	uigw_pseudonym("Jeff", "491701234567", out2);
	assert_int_equal(strlen(out), 32);
	assert_string_not_equal(out, out2);
}

/* --- webhooks' outbox ------------------------------------------------------------------------------------------ */

static void webhook(struct uigw_store *st, int64_t id, const char *tenant, bool all, uint32_t events, bool remove)
{
	struct done_rec d = { 0 };
	struct uigw_store_job *job = uigw_store_job_alloc(st, keep_done, &d);
	struct uigw_store_row *r = uigw_store_job_row(job, UIGW_ROW_WEBHOOK);

	r->time_ms = 500;
	r->u.webhook.id = id;
	r->u.webhook.tenant = tenant;
	r->u.webhook.all_campaigns = all;
	r->u.webhook.url = "http://127.0.0.1/h";
	r->u.webhook.secret = "0123456789abcdef";
	r->u.webhook.events = events;
	r->u.webhook.remove = remove;
	talloc_free(run(job, &d));
}

struct wh_seen {
	int n;
	int64_t last_id;
	int64_t id[8];
	char delivery[8][33], event[8][20], data[8][512];
};

/* the event's JSON as jansson writes it compact: the backends' spacing and escapes differ, the fields do not */
static void wh_cb(const struct uigw_store_wh_entry *e, void *data)
{
	struct wh_seen *w = data;
	json_t *j;
	char *c;

	assert_true(e->id > w->last_id);	/* oldest first, ids growing */
	w->last_id = e->id;
	j = json_loads(e->data, JSON_DECODE_ANY, NULL);
	assert_non_null(j);
	c = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(j);
	assert_non_null(c);
	if (w->n < 8) {
		w->id[w->n] = e->id;
		osmo_strlcpy(w->delivery[w->n], e->delivery, 33);
		osmo_strlcpy(w->event[w->n], e->event, 20);
		osmo_strlcpy(w->data[w->n], c, 512);
	}
	free(c);
	w->n++;
}

static struct wh_seen wh_read(struct uigw_store *st, int64_t webhook, bool dead)
{
	struct wh_seen w = { 0 };
	int n = uigw_store_wh_entries(st, webhook, dead, 0, 100, wh_cb, &w);

	assert_int_equal(n, w.n);
	return w;
}

/* the entry of \a event whose JSON has \a needle: a transaction's events may come in any order */
static int wh_find(const struct wh_seen *w, const char *event, const char *needle)
{
	int i;

	for (i = 0; i < w->n && i < 8; i++) {
		if (!strcmp(w->event[i], event) && (!needle || strstr(w->data[i], needle)))
			return i;
	}
	fail_msg("no %s event with %s", event, needle ? needle : "anything");
	return -1;
}

static void test_webhook_outbox(void **state)
{
	struct uigw_store *st;
	struct done_rec d = { 0 };
	struct uigw_store_job *job;
	struct uigw_store_row *r;
	int64_t pending, dead, older;
	struct wh_seen w, w2;
	int i_a, i_b, i_d, i_s, i_r;

	st = open_store("outbox", 86400);
	/* nobody listens: an answer leaves no outbox entry */
	job = uigw_store_job_alloc(st, keep_done, &d);
	response(job, "c1", "q1", "3", "ussi");
	talloc_free(run(job, &d));
	assert_int_equal(file_int("outbox", "SELECT count(*) FROM webhook_outbox"), 0);

	/* the operator's webhook 1 sees every campaign's answers and dialog ends; acme's webhook 2 its own answers */
	webhook(st, 1, "operator", true, 1 << UIGW_WH_ANSWER | 1 << UIGW_WH_DIALOG_ENDED | 1 << UIGW_WH_SPAM_REPORT |
		1 << UIGW_WH_TRIGGER_REFUSED, false);
	webhook(st, 2, "acme", false, 1 << UIGW_WH_ANSWER, false);
	d = (struct done_rec){ 0 };
	job = uigw_store_job_alloc(st, keep_done, &d);
	response(job, "c1", "q1", "needs \"quotes\", a \\ and a\ttab", "ussi");	/* operator's campaign */
	r = row(job, UIGW_ROW_RESPONSE, "sub-b", 1234567);
	r->owner = "acme";
	r->campaign = "acme-c";
	r->dialog = 77;
	r->u.response.node = r->u.response.question = "q";
	r->u.response.kind = "rating";
	r->u.response.value = r->u.response.raw = "5";
	r->u.response.roaming = true;
	dialog(job, 42, "c1", UIGW_OUTCOME_COMPLETED);
	spam(job, "sub-c", "+4930123456", 3000);
	r = row(job, UIGW_ROW_REFUSED, NULL, 4000);
	r->campaign = "c1";
	r->u.refused.refusal = "opted_out";
	/* the operator's test drive reaches no webhook (test-drive-results exclude) */
	response(job, "c1", "q9", "1", "vty");
	talloc_free(run(job, &d));

	w = wh_read(st, 1, false);
	assert_int_equal(w.n, 5);
	i_a = wh_find(&w, "answer", "\"campaign\":\"c1\"");
	i_b = wh_find(&w, "answer", "\"campaign\":\"acme-c\"");
	i_d = wh_find(&w, "dialog.ended", NULL);
	i_s = wh_find(&w, "spam.report", NULL);
	i_r = wh_find(&w, "trigger.refused", NULL);
	assert_int_equal(strlen(w.delivery[0]), 32);
	assert_string_not_equal(w.delivery[0], w.delivery[1]);
	/* the entries refer to their rows; only the refusal and the answer without a dialog keep their JSON */
	assert_int_equal(file_int("outbox", "SELECT count(*) FROM webhook_outbox WHERE data IS NOT NULL"), 2);
	assert_int_equal(file_int("outbox", pg_conninfo ? "SELECT count(*) FROM webhook_outbox WHERE data::json IS NOT NULL"
						 : "SELECT count(*) FROM webhook_outbox WHERE json_valid(data)"), 2);
	assert_non_null(strstr(w.data[i_a], "\"value\":\"needs \\\"quotes\\\", a \\\\ and a\\ttab\""));
	assert_non_null(strstr(w.data[i_a], "\"dialog\":\"0\""));
	assert_non_null(strstr(w.data[i_a], "\"language\":\"en\",\"roaming\":false,\"time\":\"1970-01-01T00:00:01.000Z\""));
	assert_non_null(strstr(w.data[i_b], "\"dialog\":\"77\""));
	assert_non_null(strstr(w.data[i_b], "\"roaming\":true"));
	assert_non_null(strstr(w.data[i_b], "\"time\":\"1970-01-01T00:20:34.567Z\""));
	assert_non_null(strstr(w.data[i_d], "\"outcome\":\"completed\""));
	assert_non_null(strstr(w.data[i_d], "\"started\":\"1970-01-01T00:00:01.000Z\",\"ended\":\"1970-01-01T00:00:02.000Z\""));
	assert_non_null(strstr(w.data[i_s], "\"number\":\"+4930123456\",\"counted\":true"));
	assert_non_null(strstr(w.data[i_r], "\"refusal\":\"opted_out\",\"detail\":null"));
	/* acme: its own campaign's answer only */
	w2 = wh_read(st, 2, false);
	assert_int_equal(w2.n, 1);
	assert_non_null(strstr(w2.data[0], "\"campaign\":\"acme-c\""));

	/* outcomes: delivered leaves, a failure counts, a dead letter is listed, a re-send makes it pending */
	d = (struct done_rec){ 0 };
	job = uigw_store_job_alloc(st, keep_done, &d);
	r = uigw_store_job_row(job, UIGW_ROW_WH_DONE);
	r->u.wh.webhook = 1;
	r->u.wh.id = w.id[i_a];
	r = uigw_store_job_row(job, UIGW_ROW_WH_RETRY);
	r->u.wh.webhook = 2;
	r->time_ms = 5000;
	r->u.wh.id = w2.id[0];
	r->u.wh.status = 503;
	r = uigw_store_job_row(job, UIGW_ROW_WH_DEAD);
	r->time_ms = 5000;
	r->u.wh.webhook = 2;
	r->u.wh.id = w2.id[0];
	/* by age: of webhook 1, those waiting since before 3500 (the dialog end, the spam report) */
	r = uigw_store_job_row(job, UIGW_ROW_WH_DEAD);
	r->time_ms = 5000;
	r->u.wh.webhook = 1;
	r->u.wh.cutoff_ms = 3500;
	r->u.wh.after = 0;
	talloc_free(run(job, &d));
	assert_int_equal(uigw_store_wh_counts(st, 1, 0, 0, &pending, &dead, NULL), 0);
	assert_int_equal(pending, 2);
	assert_int_equal(dead, 2);
	assert_int_equal(uigw_store_wh_counts(st, 1, 4500, 0, NULL, NULL, &older), 0);
	assert_int_equal(older, 1);	/* the refusal (4000); the acme answer is at 1234567 */
	w = wh_read(st, 1, true);
	assert_int_equal(w.n, 2);
	wh_find(&w, "dialog.ended", NULL);
	wh_find(&w, "spam.report", NULL);
	w = wh_read(st, 2, true);
	assert_int_equal(w.n, 1);
	assert_int_equal(file_int("outbox", "SELECT attempts * 1000 + last_status FROM webhook_outbox WHERE webhook = 2"),
			 1503);

	d = (struct done_rec){ 0 };
	job = uigw_store_job_alloc(st, keep_done, &d);
	r = uigw_store_job_row(job, UIGW_ROW_WH_RESEND);
	r->time_ms = 9000;
	r->u.wh.webhook = 1;
	talloc_free(run(job, &d));
	assert_int_equal(uigw_store_wh_counts(st, 1, 0, 0, &pending, &dead, NULL), 0);
	assert_int_equal(pending, 4);
	assert_int_equal(dead, 0);
	/* the re-sent ones wait the maximum age anew */
	assert_int_equal(file_int("outbox", "SELECT count(*) FROM webhook_outbox WHERE webhook = 1 AND since = 9000"), 2);

	/* deleted: its outbox goes with it, and it hears nothing more */
	webhook(st, 1, NULL, false, 0, true);
	assert_int_equal(file_int("outbox", "SELECT count(*) FROM webhook_outbox WHERE webhook = 1"), 0);
	d = (struct done_rec){ 0 };
	job = uigw_store_job_alloc(st, keep_done, &d);
	dialog(job, 43, "c1", UIGW_OUTCOME_ABANDONED);
	talloc_free(run(job, &d));
	assert_int_equal(file_int("outbox", "SELECT count(*) FROM webhook_outbox"), 1);
	uigw_store_close(st);

	/* after a restart the writer knows webhook 2, and ids go on growing */
	st = open_store("outbox", 86400);
	d = (struct done_rec){ 0 };
	job = uigw_store_job_alloc(st, keep_done, &d);
	r = row(job, UIGW_ROW_RESPONSE, "sub-b", 9999);
	r->owner = "acme";
	r->campaign = "acme-c";
	r->u.response.node = r->u.response.question = "q2";
	r->u.response.kind = "rating";
	r->u.response.value = r->u.response.raw = "4";
	talloc_free(run(job, &d));
	w = wh_read(st, 2, false);
	assert_int_equal(w.n, 1);	/* the first is a dead letter */
	assert_non_null(strstr(w.data[0], "\"question\":\"q2\""));
	assert_true(w.id[0] > w2.id[0]);
	uigw_store_close(st);
}

static int group_setup(void **state)
{
	osmo_strlcpy(tmpdir, "/tmp/uigw-store-XXXXXX", sizeof(tmpdir));
	if (!mkdtemp(tmpdir))
		return -1;
	pg_conninfo = getenv("UIGW_TEST_PG");
	if (pg_conninfo) {
		pg_check = PQconnectdb(pg_conninfo);
		if (PQstatus(pg_check) != CONNECTION_OK) {
			fprintf(stderr, "cannot connect to %s: %s", pg_conninfo, PQerrorMessage(pg_check));
			return -1;
		}
		pg_exec("SET client_min_messages = warning");
		/* the schemas of an earlier run */
		pg_exec("DO $$ DECLARE n name; BEGIN FOR n IN SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%%'"
			" LOOP EXECUTE format('DROP SCHEMA %%I CASCADE', n); END LOOP; END $$");
		fprintf(stderr, "store_test on PostgreSQL: %s\n", pg_conninfo);
	}
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	if (pg_check)
		PQfinish(pg_check);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pragmas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spam_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reactions_ratings_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answers_average, setup, teardown),
		cmocka_unit_test_setup_teardown(test_views, setup, teardown),
		cmocka_unit_test_setup_teardown(test_optout_offer_subscriber, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mapping_journal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_purge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_row, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loop_completion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_order_and_follow_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counts_follow_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade, setup, teardown),
		cmocka_unit_test(test_pseudonym),
		cmocka_unit_test_setup_teardown(test_mt_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_webhook_outbox, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wal_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delay_cost_model, setup, teardown),
		cmocka_unit_test(test_map_yields),
	};
	void *log_ctx = talloc_named_const(NULL, 0, "log");
	int rc;

	osmo_init_logging2(log_ctx, &uigw_log_info);
	log_set_print_filename2(osmo_stderr_target, LOG_FILENAME_NONE);
	log_set_use_color(osmo_stderr_target, 0);
	if (!getenv("UIGW_TEST_LOG"))
		log_set_log_level(osmo_stderr_target, LOGL_FATAL);
	rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
	log_fini();
	talloc_free(log_ctx);
	return rc;
}
