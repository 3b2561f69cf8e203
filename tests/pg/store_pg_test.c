/* The store's PostgreSQL backend against a real server (tests/pg/store_pg.sh starts it): the schema, every row
 * kind it writes and the contextual queries, a refused row failing its own job only, the server stopped and
 * restarted in the middle of a load (nothing acknowledged lost, nothing written twice, the store failing while it
 * is gone), two gateways on one database (exact counts, one name each, the webhooks' outbox entries each delivers),
 * each gateway's charging CSV files, the upgrade of a database of schema 1.
 * Environment: UIGW_TEST_PG (libpq connection string), UIGW_TEST_PG_SERVER and UIGW_TEST_PG_DIR (the server's
 * script and folder, to stop and restart it). UIGW_TEST_LOG=1 shows the store's log. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/wait.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <talloc.h>
#include <osmocom/core/application.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/select.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/store/store.h>
#include "../../src/store/store_priv.h"	/* white box: the schema's steps, for the upgrade */

static void *ctx;
static const char *conninfo;
static PGconn *check;		/* the test's own connection, to look at what was committed */

static int64_t sql_int(const char *fmt, ...)
{
	char sql[1024];
	PGresult *res;
	int64_t v = -1;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	res = PQexec(check, sql);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	else
		fprintf(stderr, "%s: %s\n", sql, PQresultErrorMessage(res));
	PQclear(res);
	return v;
}

static void sql_exec(const char *sql)
{
	PGresult *res = PQexec(check, sql);

	assert_true(PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK);
	PQclear(res);
}

static void wake_cb(void *data)
{
}

/* run the loop until *flag or timeout_ms passed; \returns whether the flag was set */
static bool spin(const bool *flag, int timeout_ms)
{
	struct osmo_timer_list wake = {};
	int64_t until = uigw_mono_ms() + timeout_ms;

	osmo_timer_setup(&wake, wake_cb, NULL);
	while (!*flag && uigw_mono_ms() < until) {
		osmo_timer_schedule(&wake, 0, 20000);
		osmo_select_main(0);
	}
	osmo_timer_del(&wake);
	return *flag;
}

static bool up_flag;

static bool wait_up(struct uigw_store *st, int timeout_ms)
{
	int64_t until = uigw_mono_ms() + timeout_ms;

	while (uigw_store_failing(st) && uigw_mono_ms() < until) {
		up_flag = false;
		spin(&up_flag, 20);
	}
	return !uigw_store_failing(st);
}

/* a store on the test's server as \a instance: the defaults, a one-hour spam window, and the charging files in
 * \a cdr_dir (NULL: none) */
static struct uigw_store *open_pg_cdr(const char *instance, const char *cdr_dir)
{
	struct uigw_store_cfg cfg;
	struct uigw_store *st;

	uigw_store_cfg_defaults(&cfg);
	cfg.backend = UIGW_STORE_POSTGRESQL;
	cfg.conninfo = conninfo;
	cfg.instance = instance;
	cfg.spam_window = 3600;
	cfg.cdr_dir = cdr_dir;
	cfg.cdr_max_kb = 1;	/* a few records per file: the rotation too */
	st = uigw_store_open(ctx, &cfg);
	assert_non_null(st);
	assert_true(wait_up(st, 10000));
	return st;
}

static struct uigw_store *open_pg(const char *instance)
{
	return open_pg_cdr(instance, NULL);
}

static void server(const char *what)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "sh %s %s %s", getenv("UIGW_TEST_PG_SERVER"), what, getenv("UIGW_TEST_PG_DIR"));
	assert_int_equal(system(cmd), 0);
}

static void reconnect_check(void)
{
	int i;

	PQfinish(check);
	for (i = 0; i < 100; i++) {
		check = PQconnectdb(conninfo);
		if (PQstatus(check) == CONNECTION_OK)
			return;
		PQfinish(check);
		usleep(100000);
	}
	fail_msg("cannot connect to %s", conninfo);
}

/* --- jobs ------------------------------------------------------------------------------------------------ */

struct rec {
	int calls, rc;
	int64_t count;
	double value;
	bool done;
};

static void rec_done(struct uigw_store_job *job, void *data)
{
	struct rec *r = data;

	r->calls++;
	r->rc = job->rc;
	if (job->n_queries) {
		r->count = job->queries[0].count;
		r->value = job->queries[0].value;
	}
	r->done = true;
	talloc_free(job);
}

static struct uigw_store_row *row(struct uigw_store_job *job, enum uigw_row_kind kind, const char *sub,
				  const char *campaign, int64_t time_ms)
{
	struct uigw_store_row *r = uigw_store_job_row(job, kind);

	assert_non_null(r);
	r->subscriber = sub;
	r->campaign = campaign;
	r->channel = "ussi";
	r->time_ms = time_ms;
	return r;
}

static void response(struct uigw_store_job *job, uint64_t dialog, const char *question, const char *value)
{
	struct uigw_store_row *r = row(job, UIGW_ROW_RESPONSE, "p1", "poll", 1000);

	r->dialog = dialog;
	r->u.response.question = question;
	r->u.response.node = question;
	r->u.response.kind = "choice";
	r->u.response.value = value;
	r->u.response.raw = value;
}

static int submit_wait(struct uigw_store_job *job, struct rec *rec)
{
	memset(rec, 0, sizeof(*rec));
	job->done = rec_done;
	job->data = rec;
	assert_int_equal(uigw_store_submit(job), 0);
	assert_false(rec->done);	/* never from inside the submit */
	assert_true(spin(&rec->done, 10000));
	assert_int_equal(rec->calls, 1);
	return rec->rc;
}

/* Every kind the backend writes, as the SQLite writer would: the counts the triggers keep, the spam window, like
 * and dislike excluding each other, opting out and back in, the MT queue's PDU bytes; the contextual queries
 * read what the same commit wrote. */
static void test_rows_and_queries(void **state)
{
	struct uigw_store *st = open_pg("rows");
	static const uint8_t pdu[] = { 0x00, 0x01, 0xff, 0x00, 0x7f };
	struct uigw_store_job *job;
	struct uigw_store_row *r;
	struct rec rec;

	/* answers and dialogs, an answer changed by Back; the average reads the counts */
	job = uigw_store_job_alloc(st, NULL, NULL);
	response(job, 11, "q1", "4");
	response(job, 12, "q1", "2");
	response(job, 13, "q1", "x");
	response(job, 13, "q1", "3");	/* Back: replaces "x" */
	r = row(job, UIGW_ROW_DIALOG, "p1", "poll", 2000);
	r->dialog = 11;
	r->u.dialog.outcome = UIGW_OUTCOME_COMPLETED;
	r->u.dialog.steps = 2;
	r = row(job, UIGW_ROW_DIALOG, "p1", "poll", 2000);
	r->dialog = 12;
	r->u.dialog.outcome = UIGW_OUTCOME_COMPLETED;
	r->u.dialog.test = true;
	uigw_store_job_query(job, UIGW_Q_AVERAGE, "poll", "q1");
	assert_int_equal(submit_wait(job, &rec), 0);
	assert_int_equal(rec.count, 3);
	assert_true(rec.value > 2.99 && rec.value < 3.01);
	assert_int_equal(sql_int("SELECT count(*) FROM response"), 3);
	assert_int_equal(sql_int("SELECT n FROM answer_count WHERE campaign = 'poll' AND value = '3'"), 1);
	assert_int_equal(sql_int("SELECT coalesce(sum(n), 0) FROM answer_count WHERE campaign = 'poll' AND value = 'x'"),
			 0);
	assert_int_equal(sql_int("SELECT n FROM dialog_count WHERE outcome = 'completed'"), 1);
	assert_int_equal(sql_int("SELECT n FROM dialog_count WHERE outcome = 'test:completed'"), 1);

	/* spam: the same reporter twice within the window counts once; another reporter counts */
	job = uigw_store_job_alloc(st, NULL, NULL);
	row(job, UIGW_ROW_SPAM, "rA", "spam", 10000)->u.spam.number = "+4930123";
	row(job, UIGW_ROW_SPAM, "rA", "spam", 20000)->u.spam.number = "+4930123";
	row(job, UIGW_ROW_SPAM, "rB", "spam", 30000)->u.spam.number = "+4930123";
	row(job, UIGW_ROW_SPAM, "rA", "spam", 30000)->u.spam.number = "";	/* skipped */
	uigw_store_job_query(job, UIGW_Q_SPAM_REPORTS, "spam", "+4930123");
	assert_int_equal(submit_wait(job, &rec), 0);
	assert_int_equal(rec.count, 2);
	assert_int_equal(sql_int("SELECT count(*) FROM spam_report"), 3);
	assert_int_equal(sql_int("SELECT count(*) FROM spam_report WHERE counted"), 2);
	assert_int_equal(sql_int("SELECT last_time FROM spam_number WHERE number = '+4930123'"), 30000);

	/* reactions: dislike replaces like, subscribe stays; a rating replaces the subscriber's earlier one */
	job = uigw_store_job_alloc(st, NULL, NULL);
	r = row(job, UIGW_ROW_REACTION, "p1", "crs", 1);
	r->u.reaction.content = "video1";
	r->u.reaction.reaction = "like";
	r = row(job, UIGW_ROW_REACTION, "p1", "crs", 2);
	r->u.reaction.content = "video1";
	r->u.reaction.reaction = "subscribe";
	r = row(job, UIGW_ROW_REACTION, "p1", "crs", 3);
	r->u.reaction.content = "video1";
	r->u.reaction.reaction = "dislike";
	r = row(job, UIGW_ROW_APP_RATING, "p1", "dc", 4);
	r->u.app_rating.app = "game";
	r->u.app_rating.rating = 3;
	r = row(job, UIGW_ROW_APP_RATING, "p1", "dc", 5);
	r->u.app_rating.app = "game";
	r->u.app_rating.rating = 9;
	r = row(job, UIGW_ROW_APP_RATING, "p2", "dc", 5);
	r->u.app_rating.app = "game";
	r->u.app_rating.rating = 11;	/* out of range: skipped */
	uigw_store_job_query(job, UIGW_Q_APP_RATING, NULL, "game");
	assert_int_equal(submit_wait(job, &rec), 0);
	assert_int_equal(rec.count, 1);
	assert_true(rec.value > 8.99 && rec.value < 9.01);
	assert_int_equal(sql_int("SELECT count(*) FROM reaction WHERE reaction = 'like'"), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM reaction"), 2);

	/* opting out of one campaign, of everything, back in (which ends the scoped ones too) */
	job = uigw_store_job_alloc(st, NULL, NULL);
	r = row(job, UIGW_ROW_OPTOUT, "p3", NULL, 1);
	r->u.optout.opt_out = true;
	r->u.optout.scope = "campaign:poll";
	r = row(job, UIGW_ROW_OPTOUT, "p3", NULL, 2);
	r->u.optout.opt_out = true;
	assert_int_equal(submit_wait(job, &rec), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM optout_scope WHERE subscriber = 'p3'"), 1);
	assert_int_equal(sql_int("SELECT count(*) FROM optout WHERE subscriber = 'p3' AND opted_out"), 1);
	job = uigw_store_job_alloc(st, NULL, NULL);
	row(job, UIGW_ROW_OPTOUT, "p3", NULL, 3)->u.optout.opt_out = false;
	assert_int_equal(submit_wait(job, &rec), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM optout_scope WHERE subscriber = 'p3'"), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM optout WHERE subscriber = 'p3' AND NOT opted_out"), 1);

	/* the MT queue keeps the PDU's bytes; its rows are the instance's own */
	job = uigw_store_job_alloc(st, NULL, NULL);
	r = row(job, UIGW_ROW_MT, NULL, NULL, 5);
	r->channel = "smpp-sms";
	r->u.mt.id = 7;
	r->u.mt.expires_ms = 99;
	r->u.mt.pdu = pdu;
	r->u.mt.pdu_len = sizeof(pdu);
	r = row(job, UIGW_ROW_MT_SENDING, NULL, NULL, 6);
	r->u.mt.id = 7;
	r = row(job, UIGW_ROW_PUSH, "p1", "poll", 7);
	r->u.push.result = "sent";
	r = row(job, UIGW_ROW_CDR, "p1", "poll", 8);
	r->dialog = 11;
	r->u.cdr.outcome = UIGW_OUTCOME_COMPLETED;
	r->u.cdr.zero_rated = true;
	r->u.cdr.screens = 3;
	r = row(job, UIGW_ROW_PARAM, NULL, "poll", 8);
	r->dialog = 11;
	r->u.param.name = "caller";
	r->u.param.value = "+4930";
	assert_int_equal(submit_wait(job, &rec), 0);
	assert_int_equal(sql_int("SELECT length(pdu) FROM mt_queue WHERE instance = 'rows' AND id = 7 AND sending"),
			 sizeof(pdu));
	assert_int_equal(sql_int("SELECT get_byte(pdu, 2) FROM mt_queue WHERE id = 7"), 0xff);
	assert_int_equal(sql_int("SELECT count(*) FROM push WHERE result = 'sent'"), 1);
	assert_int_equal(sql_int("SELECT screens FROM cdr WHERE dialog = 11 AND zero_rated AND instance = 'rows'"), 3);
	assert_int_equal(sql_int("SELECT count(*) FROM dialog_param WHERE dialog = 11"), 1);

	uigw_store_close(st);
}

/* A job the database refuses (a second API key with the same hash) fails alone; the jobs of the same group commit
 * are written. A row without what it needs (a webhook without tenant, URL, secret) fails its job at once, with a
 * log line. */
static void test_bad_job_alone(void **state)
{
	struct uigw_store *st = open_pg("bad");
	struct uigw_store_job *job;
	struct uigw_store_row *r;
	struct rec recs[12];
	unsigned int i;
	bool all = false;

	for (i = 0; i < ARRAY_SIZE(recs); i++) {
		memset(&recs[i], 0, sizeof(recs[i]));
		job = uigw_store_job_alloc(st, rec_done, &recs[i]);
		if (i == 5 || i == 6) {
			r = row(job, UIGW_ROW_API_KEY, NULL, NULL, 1);
			r->u.api_key.id = 100 + i;
			r->u.api_key.tenant = "t";
			r->u.api_key.hash = "samehash";
			r->u.api_key.scopes = "read";
		} else if (i == 9) {
			r = row(job, UIGW_ROW_WEBHOOK, NULL, NULL, 1);
			r->u.webhook.id = 1;
		} else {
			r = row(job, UIGW_ROW_PUSH, "bad", "poll", 1000 + i);
			r->u.push.result = "sent";
		}
		assert_int_equal(uigw_store_submit(job), 0);
	}
	for (i = 0; i < 1000 && !all; i++) {
		unsigned int j;

		spin(&all, 20);
		all = true;
		for (j = 0; j < ARRAY_SIZE(recs); j++)
			all &= recs[j].done;
	}
	assert_true(all);
	for (i = 0; i < ARRAY_SIZE(recs); i++) {
		if (i == 6)
			assert_int_equal(recs[i].rc, -EPROTO);
		else if (i == 9)
			assert_int_equal(recs[i].rc, -EPROTO);
		else
			assert_int_equal(recs[i].rc, 0);
	}
	assert_int_equal(sql_int("SELECT count(*) FROM push WHERE subscriber = 'bad'"), 9);
	assert_int_equal(sql_int("SELECT id FROM api_key WHERE hash = 'samehash'"), 105);
	assert_false(uigw_store_failing(st));
	uigw_store_close(st);
}

/* The server stopped (immediately: a crash for its clients) and started again while a load goes on: the store
 * fails meanwhile, every job completes once it is back, each acknowledged row is there exactly once. */
#define LOAD_JOBS 3000
static struct rec load[LOAD_JOBS];

static void test_restart_under_load(void **state)
{
	struct uigw_store *st = open_pg("load");
	struct uigw_store_job *job;
	struct uigw_store_row *r;
	bool seen_failing = false, flag = false, asks_done = false;
	static struct rec asks[LOAD_JOBS / 50];
	unsigned int i, done = 0, ok = 0;
	int64_t until;

	sql_exec("DELETE FROM push WHERE subscriber = 'load'");
	for (i = 0; i < LOAD_JOBS; i++) {
		memset(&load[i], 0, sizeof(load[i]));
		job = uigw_store_job_alloc(st, rec_done, &load[i]);
		r = row(job, UIGW_ROW_PUSH, "load", "poll", i);
		r->u.push.result = "sent";
		r = row(job, UIGW_ROW_SPAM, "load", "spam", i);
		r->u.spam.number = "+4999";
		assert_int_equal(uigw_store_submit(job), 0);
		if (i % 50 == 0) {
			/* and a job that only asks, while the group commits go on */
			struct rec *a = &asks[i / 50];

			memset(a, 0, sizeof(*a));
			a->count = -1;
			job = uigw_store_job_alloc(st, rec_done, a);
			uigw_store_job_query(job, UIGW_Q_SPAM_REPORTS, "spam", "+4999");
			assert_int_equal(uigw_store_submit(job), 0);
			spin(&flag, 1);
		}
		if (i == LOAD_JOBS / 3)
			server("stop");
		if (uigw_store_failing(st))
			seen_failing = true;
		if (i == 2 * LOAD_JOBS / 3) {
			assert_true(seen_failing);
			server("restart");
		}
	}
	until = uigw_mono_ms() + 30000;
	while ((done < LOAD_JOBS || !asks_done) && uigw_mono_ms() < until) {
		spin(&flag, 20);
		for (done = 0, i = 0; i < LOAD_JOBS; i++)
			done += load[i].done;
		for (asks_done = true, i = 0; i < ARRAY_SIZE(asks); i++)
			asks_done &= asks[i].done;
	}
	assert_int_equal(done, LOAD_JOBS);
	for (i = 0; i < LOAD_JOBS; i++)
		ok += load[i].rc == 0;
	assert_int_equal(ok, LOAD_JOBS);
	/* the jobs that only asked (sent at once, not in a group commit) were answered, those the stop cut off
	 * again on the next connection: each once */
	assert_true(asks_done);
	for (i = 0; i < ARRAY_SIZE(asks); i++) {
		assert_int_equal(asks[i].calls, 1);
		assert_int_equal(asks[i].rc, 0);
		assert_true(asks[i].count >= 0);
	}
	assert_false(uigw_store_failing(st));
	reconnect_check();
	/* each once: no loss, no duplicate (a commit whose answer the crash took was not sent again) */
	assert_int_equal(sql_int("SELECT count(*) FROM push WHERE subscriber = 'load'"), LOAD_JOBS);
	assert_int_equal(sql_int("SELECT count(DISTINCT time) FROM push WHERE subscriber = 'load'"), LOAD_JOBS);
	assert_int_equal(sql_int("SELECT count(*) FROM spam_report WHERE reporter = 'load'"), LOAD_JOBS);
	uigw_store_close(st);
}

/* Two gateways on one database: the counts both increment are exact; a name is held by one gateway at a time. */
static void test_instances(void **state)
{
	struct uigw_store *a = open_pg("A"), *b = open_pg("B"), *twin;
	struct uigw_store_cfg cfg;
	int num_a;
	struct uigw_store_job *job;
	struct uigw_store_row *r;
	static struct rec recs[2000];
	bool all = false, flag = false;
	char *reporter;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(recs); i++) {
		memset(&recs[i], 0, sizeof(recs[i]));
		job = uigw_store_job_alloc(i % 2 ? a : b, rec_done, &recs[i]);
		reporter = talloc_asprintf(job, "r%u", i);
		r = row(job, UIGW_ROW_SPAM, reporter, "spam", 1000 + i);
		r->u.spam.number = "+4977";
		response(job, 100000 + i, "q", i % 3 ? "yes" : "no");
		job->rows[1].campaign = "shared";
		assert_int_equal(uigw_store_submit(job), 0);
		if (i % 100 == 0)
			spin(&flag, 1);
	}
	for (i = 0; i < 1500 && !all; i++) {
		unsigned int j;

		spin(&flag, 20);
		all = true;
		for (j = 0; j < ARRAY_SIZE(recs); j++)
			all &= recs[j].done && recs[j].rc == 0;
	}
	assert_true(all);
	assert_int_equal(sql_int("SELECT reports FROM spam_number WHERE number = '+4977'"), ARRAY_SIZE(recs));
	assert_int_equal(sql_int("SELECT sum(n) FROM answer_count WHERE campaign = 'shared'"), ARRAY_SIZE(recs));
	assert_int_equal(sql_int("SELECT n FROM answer_count WHERE campaign = 'shared' AND value = 'no'"),
			 (ARRAY_SIZE(recs) + 2) / 3);

	/* a second gateway named A cannot start while A is connected (it waits hold-on-failure for the name), and
	 * can once A is gone */
	uigw_store_cfg_defaults(&cfg);
	cfg.backend = UIGW_STORE_POSTGRESQL;
	cfg.conninfo = conninfo;
	cfg.instance = "A";
	cfg.hold_s = 1;
	assert_null(uigw_store_open(ctx, &cfg));
	/* each name has a number of its own (the top bits of its dialog ids), the same at every start */
	num_a = uigw_store_instance_num(a);
	assert_true(num_a > 0 && uigw_store_instance_num(b) > 0 && num_a != uigw_store_instance_num(b));
	uigw_store_close(a);
	twin = uigw_store_open(ctx, &cfg);
	assert_non_null(twin);
	assert_false(uigw_store_failing(twin));
	assert_int_equal(uigw_store_instance_num(twin), num_a);
	uigw_store_close(twin);
	uigw_store_close(b);
}

/* A subscriber's export holds every row of theirs, the erasure removes exactly those (the charging record under the
 * number and the deferred push to it too), another subscriber's stay; the retention purge deletes what is older. */
static void subscriber_rows(struct uigw_store_job *job, const char *sub, const char *msisdn, int64_t t)
{
	struct uigw_store_row *r;

	response(job, 0, "q9", "5");
	job->rows[job->n_rows - 1].subscriber = sub;
	job->rows[job->n_rows - 1].time_ms = t;
	r = row(job, UIGW_ROW_DIALOG, sub, "poll", t);
	r->dialog = (uint64_t)t;
	r->u.dialog.outcome = UIGW_OUTCOME_COMPLETED;
	row(job, UIGW_ROW_PUSH, sub, "poll", t)->u.push.result = "sent";
	row(job, UIGW_ROW_SPAM, sub, "spam", t)->u.spam.number = "+4911";
	row(job, UIGW_ROW_OPTOUT, sub, NULL, t)->u.optout.opt_out = true;
	row(job, UIGW_ROW_SUBSCRIBER, sub, NULL, t)->u.subscriber.msisdn = msisdn;
	r = row(job, UIGW_ROW_CDR, msisdn, "poll", t);	/* cdr-subscriber msisdn */
	r->dialog = (uint64_t)t;
	r = row(job, UIGW_ROW_DEFER, NULL, "poll", t);
	r->u.defer.id = t;
	r->u.defer.due_ms = t + 1000;
	r->u.defer.reason = "quiet_hours";
	r->u.defer.msisdn = msisdn;
}

static int json_rows(json_t *o)
{
	const char *k;
	json_t *v;
	int n = 0;

	json_object_foreach(o, k, v)
		n += json_array_size(v);
	return n;
}

static void test_erase_export_purge(void **state)
{
	struct uigw_store *st;
	struct uigw_store_cfg cfg;
	struct uigw_store_job *job;
	struct uigw_store_row *r;
	int64_t now = uigw_wall_ms();
	struct rec rec;
	json_t *x;
	int i;

	uigw_store_cfg_defaults(&cfg);
	cfg.backend = UIGW_STORE_POSTGRESQL;
	cfg.conninfo = conninfo;
	cfg.instance = "privacy";
	cfg.retention[UIGW_RET_PUSH] = 2;
	st = uigw_store_open(ctx, &cfg);
	assert_non_null(st);
	job = uigw_store_job_alloc(st, NULL, NULL);
	subscriber_rows(job, "e1", "+4917000001", now - 1000);
	subscriber_rows(job, "e2", "+4917000002", now - 3 * 86400000LL);
	assert_int_equal(submit_wait(job, &rec), 0);

	x = json_object();
	assert_int_equal(uigw_store_subscriber_export(st, "e1", x), 8);
	assert_int_equal(json_array_size(json_object_get(x, "response")), 1);
	assert_int_equal(json_array_size(json_object_get(x, "cdr")), 1);
	assert_int_equal(json_array_size(json_object_get(x, "deferred")), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(x, "subscriber_map"), 0),
							      "msisdn")), "+4917000001");
	json_decref(x);

	job = uigw_store_job_alloc(st, NULL, NULL);
	r = row(job, UIGW_ROW_ERASE, "e1", NULL, now);
	r->u.subscriber.msisdn = "+4917000001";
	assert_int_equal(submit_wait(job, &rec), 0);
	x = json_object();
	assert_int_equal(uigw_store_subscriber_export(st, "e1", x), 0);
	assert_int_equal(json_rows(x), 0);
	json_decref(x);
	x = json_object();
	assert_int_equal(uigw_store_subscriber_export(st, "e2", x), 8);
	json_decref(x);

	/* pushes past two days go (e2's, and the 3,000 of the load test, in batches of 2,000: a purge job each, as
	 * `store purge`); the rest stays. A dialog's state a day old goes whatever the retention settings say. */
	sql_exec("INSERT INTO dialog_state (pseudonym, class, node, updated) VALUES ('old-state', 'ussd', 'q1',"
		 " (extract(epoch FROM now()) * 1000)::bigint - 86400000 - 60000),"
		 " ('new-state', 'ussd', 'q1', (extract(epoch FROM now()) * 1000)::bigint - 86400000 + 60000)");
	for (i = 0; i < 3; i++) {
		job = uigw_store_job_alloc(st, NULL, NULL);
		uigw_store_job_row(job, UIGW_ROW_PURGE);
		assert_int_equal(submit_wait(job, &rec), 0);
	}
	assert_int_equal(sql_int("SELECT count(*) FROM push"), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM push WHERE subscriber = 'e2'"), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM response WHERE subscriber = 'e2'"), 1);
	assert_int_equal(sql_int("SELECT count(*) FROM dialog_state WHERE pseudonym = 'old-state'"), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM dialog_state WHERE pseudonym = 'new-state'"), 1);
	uigw_store_close(st);
}

/* Two gateways count pushes to one subscriber at the same time, each from its own process: of 2 x 500 attempts
 * exactly the cap's 3 are counted, on either; the campaign's own cap and the gateway-wide one each bind. */
static int reserve_many(const char *instance, int n, int *capped)
{
	struct uigw_store_cfg cfg;
	struct uigw_store *st;
	int i, ok = 0, rc;

	uigw_store_cfg_defaults(&cfg);
	cfg.backend = UIGW_STORE_POSTGRESQL;
	cfg.conninfo = conninfo;
	cfg.instance = instance;
	st = uigw_store_open(ctx, &cfg);
	if (!st)
		return -1;
	*capped = 0;
	for (i = 0; i < n; i++) {
		rc = uigw_store_push_reserve(st, "capped-sub", "poll", "vty", uigw_wall_ms(), 0, 0, 3, 86400);
		if (rc == 0)
			ok++;
		else if (rc == 2)
			(*capped)++;
	}
	uigw_store_close(st);
	return ok;
}

static void test_push_caps_across_instances(void **state)
{
	struct uigw_store *st;
	struct uigw_store_cfg cfg;
	int fds[2], ok_a, ok_b = -1, capped_a, capped_b = -1, status;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int r[2];

		close(fds[0]);
		r[0] = reserve_many("capB", 500, &r[1]);
		_exit(write(fds[1], r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	close(fds[1]);
	ok_a = reserve_many("capA", 500, &capped_a);
	{
		int r[2];

		assert_int_equal(read(fds[0], r, sizeof(r)), sizeof(r));
		ok_b = r[0];
		capped_b = r[1];
	}
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(ok_a + ok_b, 3);
	assert_int_equal(capped_a + capped_b, 997);
	assert_int_equal(sql_int("SELECT count(*) FROM push WHERE subscriber = 'capped-sub' AND result = 'sent'"), 3);

	/* the campaign's cap binds first when it is the smaller */
	uigw_store_cfg_defaults(&cfg);
	cfg.backend = UIGW_STORE_POSTGRESQL;
	cfg.conninfo = conninfo;
	cfg.instance = "capA";
	st = uigw_store_open(ctx, &cfg);
	assert_non_null(st);
	assert_int_equal(uigw_store_push_reserve(st, "sub-c", "poll", "vty", uigw_wall_ms(), 1, 60, 3, 86400), 0);
	assert_int_equal(uigw_store_push_reserve(st, "sub-c", "poll", "vty", uigw_wall_ms(), 1, 60, 3, 86400), 1);
	assert_int_equal(uigw_store_push_reserve(st, "sub-c", "other", "vty", uigw_wall_ms(), 1, 60, 3, 86400), 0);
	uigw_store_close(st);
}

/* A database that cannot be reached at the start: the open fails after hold-on-failure seconds (the start reads
 * the MT queue there). One that goes away later: the jobs wait in memory up to queue-max-jobs, the next is refused
 * (-EBUSY: the busy screen), and all of them are written once it is back. */
static void test_unreachable_and_queue_bound(void **state)
{
	struct uigw_store_cfg cfg;
	struct uigw_store *st;
	struct uigw_store_job *job;
	struct rec recs[8];
	bool flag = false;
	int64_t t0;
	unsigned int i, n, done;
	int rc = 0;

	uigw_store_cfg_defaults(&cfg);
	cfg.backend = UIGW_STORE_POSTGRESQL;
	cfg.conninfo = "host=/nonexistent-uigw-dir dbname=x";
	cfg.instance = "nowhere";
	cfg.hold_s = 1;
	t0 = uigw_mono_ms();
	assert_null(uigw_store_open(ctx, &cfg));
	assert_in_range(uigw_mono_ms() - t0, 900, 5000);

	cfg.conninfo = conninfo;
	cfg.instance = "bound";
	cfg.queue_max_jobs = 3;
	st = uigw_store_open(ctx, &cfg);
	assert_non_null(st);
	server("stop");
	/* three wait in the queue (a first one may be in flight, in doubt, when the loss is noticed); the next is
	 * refused */
	for (n = 0; n < ARRAY_SIZE(recs); n++) {
		memset(&recs[n], 0, sizeof(recs[n]));
		job = uigw_store_job_alloc(st, rec_done, &recs[n]);
		row(job, UIGW_ROW_PUSH, "bound", "poll", 5000 + n)->u.push.result = "sent";
		rc = uigw_store_submit(job);
		if (rc < 0) {
			talloc_free(job);
			break;
		}
		spin(&flag, 50);
	}
	assert_int_equal(rc, -EBUSY);
	assert_in_range(n, 3, 4);
	assert_true(uigw_store_failing(st));
	server("restart");
	for (i = 0, done = 0; i < 500 && done < n; i++) {
		spin(&flag, 20);
		for (done = 0, rc = 0; rc < (int)n; rc++)
			done += recs[rc].done && recs[rc].rc == 0;
	}
	assert_int_equal(done, n);
	assert_false(uigw_store_failing(st));
	reconnect_check();
	assert_int_equal(sql_int("SELECT count(*) FROM push WHERE subscriber = 'bound'"), n);
	uigw_store_close(st);
}

/* --- webhooks ------------------------------------------------------------------------------------------- */

struct wh_list {
	int n;
	int64_t id[8];
	char event[8][24];
	char data[8][400];
};

static void wh_cb(const struct uigw_store_wh_entry *e, void *data)
{
	struct wh_list *l = data;

	if (l->n < 8) {
		l->id[l->n] = e->id;
		osmo_strlcpy(l->event[l->n], e->event, sizeof(l->event[0]));
		osmo_strlcpy(l->data[l->n], e->data, sizeof(l->data[0]));
	}
	l->n++;
}

static struct wh_list wh_list(struct uigw_store *st, int64_t webhook, bool dead)
{
	struct wh_list l = {};
	int n = uigw_store_wh_entries(st, webhook, dead, 0, 50, wh_cb, &l);

	assert_int_equal(n, l.n);
	return l;
}

static void wh_row(struct uigw_store *st, enum uigw_row_kind kind, int64_t webhook, int64_t id)
{
	struct uigw_store_job *job = uigw_store_job_alloc(st, NULL, NULL);
	struct uigw_store_row *r = uigw_store_job_row(job, kind);
	struct rec rec;

	r->time_ms = 7000;
	if (kind == UIGW_ROW_WEBHOOK) {
		r->u.webhook.id = webhook;
		r->u.webhook.tenant = "acme";
		r->u.webhook.url = "http://127.0.0.1:1/hook";
		r->u.webhook.secret = "0123456789abcdef";
		r->u.webhook.events = 1 << UIGW_WH_ANSWER | 1 << UIGW_WH_TRIGGER_REFUSED;
	} else {
		r->u.wh.webhook = webhook;
		r->u.wh.id = id;
	}
	assert_int_equal(submit_wait(job, &rec), 0);
}

/* A webhook one gateway creates hears what the other commits at once (the triggers read the table, not a list in
 * memory), of the campaigns its tenant owns as the gateways wrote them; an entry is delivered by the gateway that
 * wrote it; dead letters are everyone's, and a re-send gives them to the gateway that re-sends. */
static void test_webhooks_across_instances(void **state)
{
	struct uigw_store *a = open_pg("A"), *b = open_pg("B");
	struct uigw_store_job *job;
	struct uigw_store_row *r;
	struct wh_list la, lb;
	int64_t pending, dead;
	struct rec rec;

	wh_row(a, UIGW_ROW_WEBHOOK, 7, 0);
	job = uigw_store_job_alloc(b, NULL, NULL);
	r = row(job, UIGW_ROW_RESPONSE, "p9", "acme-poll", 5000);
	r->owner = "acme";
	r->dialog = 9001;
	r->u.response.question = r->u.response.node = "q1";
	r->u.response.value = r->u.response.raw = "2";
	r = row(job, UIGW_ROW_RESPONSE, "p9", "op-poll", 5000);	/* the operator's: not acme's to see */
	r->dialog = 9002;
	r->u.response.question = r->u.response.node = "q1";
	r->u.response.value = r->u.response.raw = "3";
	r = row(job, UIGW_ROW_REFUSED, "p9", "acme-poll", 5001);
	r->owner = "acme";
	r->u.refused.refusal = "capped";
	assert_int_equal(submit_wait(job, &rec), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM campaign_owner WHERE campaign = 'acme-poll' AND tenant = 'acme'"),
			 1);

	lb = wh_list(b, 7, false);
	assert_int_equal(lb.n, 2);
	la = wh_list(a, 7, false);
	assert_int_equal(la.n, 0);	/* B's to deliver */
	assert_int_equal(uigw_store_wh_counts(a, 7, 0, 0, &pending, &dead, NULL), 0);
	assert_int_equal(pending, 2);
	assert_int_equal(dead, 0);
	assert_string_equal(lb.event[0], "trigger.refused");	/* a statement of its own, before the batch */
	assert_non_null(strstr(lb.data[0], "\"refusal\" : \"capped\""));
	assert_string_equal(lb.event[1], "answer");
	assert_non_null(strstr(lb.data[1], "\"dialog\" : \"9001\""));
	assert_non_null(strstr(lb.data[1], "\"time\" : \"1970-01-01T00:00:05.000Z\""));

	/* B gives up on the refusal; A lists it and sends it again: A's now */
	wh_row(b, UIGW_ROW_WH_DEAD, 7, lb.id[0]);
	la = wh_list(a, 7, true);
	assert_int_equal(la.n, 1);
	wh_row(a, UIGW_ROW_WH_RESEND, 7, 0);
	la = wh_list(a, 7, false);
	assert_int_equal(la.n, 1);
	assert_int_equal(la.id[0], lb.id[0]);
	lb = wh_list(b, 7, false);
	assert_int_equal(lb.n, 1);
	wh_row(b, UIGW_ROW_WH_DONE, 7, lb.id[0]);
	wh_row(a, UIGW_ROW_WH_DONE, 7, la.id[0]);
	assert_int_equal(sql_int("SELECT count(*) FROM webhook_outbox WHERE webhook = 7"), 0);

	/* the campaign passes to another tenant: acme hears no more of it */
	job = uigw_store_job_alloc(a, NULL, NULL);
	r = row(job, UIGW_ROW_RESPONSE, "p9", "acme-poll", 6000);
	r->owner = "globex";
	r->dialog = 9003;
	r->u.response.question = r->u.response.node = "q1";
	r->u.response.value = r->u.response.raw = "1";
	assert_int_equal(submit_wait(job, &rec), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM webhook_outbox WHERE webhook = 7"), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM campaign_owner WHERE campaign = 'acme-poll' AND tenant = 'globex'"),
			 1);

	/* deleted on B: its outbox and itself, for both */
	job = uigw_store_job_alloc(b, NULL, NULL);
	r = uigw_store_job_row(job, UIGW_ROW_WEBHOOK);
	r->u.webhook.id = 7;
	r->u.webhook.remove = true;
	assert_int_equal(submit_wait(job, &rec), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM webhook"), 0);
	uigw_store_close(a);
	uigw_store_close(b);
}

/* --- dialogs' states ------------------------------------------------------------------------------------ */

static void take_cb(const char *campaign, unsigned int version, const char *node, const char *hist, const char *vars,
		    void *data)
{
	osmo_strlcpy(data, node, 16);
}

/* A state is gone on with while its dialog has no row saying it completed or was rejected (a completed dialog
 * writes no state of its own at its end); it is taken once, by the first to ask. */
static void test_dialog_states(void **state)
{
	struct uigw_store *st = open_pg("states");
	struct uigw_store_job *job;
	struct uigw_store_row *r;
	char arg[64], node[16] = "";
	int64_t now = uigw_wall_ms();
	struct rec rec;
	int i;

	job = uigw_store_job_alloc(st, NULL, NULL);
	for (i = 0; i < 3; i++) {
		r = row(job, UIGW_ROW_DLG_STATE, i == 0 ? "s-done" : i == 1 ? "s-cut" : "s-sms", "poll", now);
		r->dialog = 700 + i;
		r->version = 1;
		r->u.state.cls = i == 2 ? "sms" : "ussd";
		r->u.state.node = "q2";
		r->u.state.hist = "q1";
	}
	r = row(job, UIGW_ROW_DIALOG, "s-done", "poll", now);
	r->dialog = 700;
	r->u.dialog.outcome = UIGW_OUTCOME_COMPLETED;
	r = row(job, UIGW_ROW_DIALOG, "s-cut", "poll", now);
	r->dialog = 701;
	r->u.dialog.outcome = UIGW_OUTCOME_ABANDONED;
	assert_int_equal(submit_wait(job, &rec), 0);

	/* with a commit (the USSD begin's question) */
	job = uigw_store_job_alloc(st, NULL, NULL);
	snprintf(arg, sizeof(arg), "s-done %" PRId64, now - 60000);
	uigw_store_job_query(job, UIGW_Q_DLG_STATE, "poll", talloc_strdup(job, arg));
	assert_int_equal(submit_wait(job, &rec), 0);
	assert_int_equal(rec.count, 0);	/* completed: nothing to go on with */
	job = uigw_store_job_alloc(st, NULL, NULL);
	snprintf(arg, sizeof(arg), "s-cut %" PRId64, now - 60000);
	uigw_store_job_query(job, UIGW_Q_DLG_STATE, "poll", talloc_strdup(job, arg));
	assert_int_equal(submit_wait(job, &rec), 0);
	assert_int_equal(rec.count, 1);	/* cut off: taken */
	job = uigw_store_job_alloc(st, NULL, NULL);
	uigw_store_job_query(job, UIGW_Q_DLG_STATE, "poll", talloc_strdup(job, arg));
	assert_int_equal(submit_wait(job, &rec), 0);
	assert_int_equal(rec.count, 0);	/* once */
	/* an older state written after a newer one (a group commit sent again after a later one) leaves the newer */
	for (i = 0; i < 2; i++) {
		job = uigw_store_job_alloc(st, NULL, NULL);
		r = row(job, UIGW_ROW_DLG_STATE, "s-late", "poll", i ? now - 5000 : now);
		r->dialog = 710;
		r->u.state.cls = "ussd";
		r->u.state.node = i ? "q1" : "q3";
		assert_int_equal(submit_wait(job, &rec), 0);
	}
	assert_int_equal(sql_int("SELECT count(*) FROM dialog_state WHERE pseudonym = 's-late' AND node = 'q3'"), 1);
	/* a read (an SMS that starts no campaign) */
	assert_int_equal(uigw_store_dialog_state_take(st, "s-sms", "sms", NULL, now - 60000, take_cb, node), 1);
	assert_string_equal(node, "q2");
	assert_int_equal(uigw_store_dialog_state_take(st, "s-sms", "sms", NULL, now - 60000, take_cb, node), 0);
	uigw_store_close(st);
}

/* --- charging files ------------------------------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* the record numbers in the closed CSV files of \a dir, sorted (each file's lines in id order is checked here);
 * \returns how many */
static int csv_records(const char *dir, int64_t *ids, int max)
{
	struct dirent **names;
	int n_files, i, n = 0, ids_in_file = 0;

	n_files = scandir(dir, &names, NULL, alphasort);
	assert_true(n_files >= 0);
	for (i = 0; i < n_files; i++) {
		const char *name = names[i]->d_name;
		size_t len = strlen(name);
		char path[512], line[1024];
		FILE *f;

		if (strncmp(name, "osmo-uigw-cdr-", 14) || len < 4 || strcmp(name + len - 4, ".csv")) {
			free(names[i]);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		free(names[i]);
		f = fopen(path, "r");
		assert_non_null(f);
		assert_non_null(fgets(line, sizeof(line), f));
		assert_int_equal(strncmp(line, "record,timestamp,dialog,", 24), 0);
		while (fgets(line, sizeof(line), f)) {
			int64_t id = strtoll(line, NULL, 10);

			assert_true(id > 0);
			if (n < max) {
				/* in id order within a file (a new file per second may sort before the one it follows) */
				if (ids_in_file++)
					assert_true(id > ids[n - 1]);
				ids[n] = id;
			}
			n++;
		}
		ids_in_file = 0;
		fclose(f);
	}
	free(names);
	qsort(ids, n < max ? n : max, sizeof(*ids), cmp_i64);
	return n;
}

static void cdr_rows(struct uigw_store *st, int n, int64_t first_dialog)
{
	struct uigw_store_job *job = uigw_store_job_alloc(st, NULL, NULL);
	struct uigw_store_row *r;
	struct rec rec;
	int i;

	for (i = 0; i < n; i++) {
		r = row(job, UIGW_ROW_CDR, "p-cdr", "poll", 100000 + i);
		r->dialog = first_dialog + i;
		r->u.cdr.started_ms = 99000 + i;
		r->u.cdr.outcome = UIGW_OUTCOME_COMPLETED;
		r->u.cdr.screens = 2;
		r->u.cdr.mt_messages = 1;
		r->u.cdr.charge_class = "free";
	}
	assert_int_equal(submit_wait(job, &rec), 0);
}

/* Each gateway makes the CSV files of the records its own transactions wrote: every one of them once, in id order,
 * none of the other's; a gateway started again goes on after its cursor. */
static void test_cdr_files_across_instances(void **state)
{
	char dir_a[] = "/tmp/uigw-pgcdr-a-XXXXXX", dir_b[] = "/tmp/uigw-pgcdr-b-XXXXXX";
	struct uigw_store *a, *b;
	int64_t ids[200];
	char cmd[128];
	int n, i;

	assert_non_null(mkdtemp(dir_a));
	assert_non_null(mkdtemp(dir_b));
	a = open_pg_cdr("CA", dir_a);
	b = open_pg_cdr("CB", dir_b);
	for (i = 0; i < 5; i++) {
		cdr_rows(a, 6, 1000 + 10 * i);
		cdr_rows(b, 4, 2000 + 10 * i);
	}
	uigw_store_close(a);
	uigw_store_close(b);

	n = csv_records(dir_a, ids, ARRAY_SIZE(ids));
	assert_int_equal(n, 30);
	for (i = 0; i < n; i++) {
		assert_true(i == 0 || ids[i] > ids[i - 1]);	/* each once */
		assert_int_equal(sql_int("SELECT count(*) FROM cdr WHERE id = %" PRId64 " AND instance = 'CA'", ids[i]), 1);
	}
	assert_int_equal(sql_int("SELECT last_id FROM cdr_export WHERE instance = 'CA'"), ids[n - 1]);
	assert_true(sql_int("SELECT count(*) FROM cdr_export WHERE instance = 'CA'") == 1);
	n = csv_records(dir_b, ids, ARRAY_SIZE(ids));
	assert_int_equal(n, 20);
	assert_int_equal(sql_int("SELECT count(*) FROM cdr WHERE instance = 'CB' AND dialog >= 2000 AND dialog < 2100"), 20);
	/* more than one file each (1 kB at most) */
	snprintf(cmd, sizeof(cmd), "test $(ls %s | wc -l) -gt 1", dir_a);
	assert_int_equal(system(cmd), 0);

	/* A again: after its cursor, nothing twice */
	a = open_pg_cdr("CA", dir_a);
	cdr_rows(a, 3, 3000);
	uigw_store_close(a);
	n = csv_records(dir_a, ids, ARRAY_SIZE(ids));
	assert_int_equal(n, 33);
	for (i = 1; i < n; i++)
		assert_true(ids[i] > ids[i - 1]);
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", dir_a, dir_b);
	assert_int_equal(system(cmd), 0);
}

/* A database of schema 1 (as the first release made it) is upgraded at the first connection: its outbox entries
 * stay, the new ones number after them. */
static void test_schema_upgrade(void **state)
{
	char *v1 = uigw_store_pg_schema_sql(ctx, 1), *ci;
	struct uigw_store_cfg cfg;
	struct uigw_store *st;
	struct rec rec;

	assert_non_null(v1);
	sql_exec("DROP SCHEMA IF EXISTS up CASCADE");
	sql_exec("CREATE SCHEMA up");
	sql_exec("SET search_path TO up");
	sql_exec(v1);
	assert_int_equal(sql_int("SELECT version FROM uigw_schema"), 1);
	sql_exec("INSERT INTO webhook (id, tenant, url, events, secret, created)"
		 " VALUES (3, 'acme', 'http://127.0.0.1:1/', 9, '0123456789abcdef', 1)");
	sql_exec("INSERT INTO webhook_outbox (webhook, id, nonce, event, data, created, since)"
		 " VALUES (3, 41, 5, 3, '{}', 1, 1)");
	talloc_free(v1);

	ci = talloc_asprintf(ctx, "%s options=-csearch_path=up", conninfo);
	uigw_store_cfg_defaults(&cfg);
	cfg.backend = UIGW_STORE_POSTGRESQL;
	cfg.conninfo = ci;
	cfg.instance = "U";
	st = uigw_store_open(ctx, &cfg);
	assert_non_null(st);
	assert_true(wait_up(st, 10000));
	assert_int_equal(sql_int("SELECT version FROM uigw_schema"), UIGW_PG_SCHEMA_VERSION);
	wh_row(st, UIGW_ROW_WH_RESEND, 3, 0);	/* nothing dead: a no-op, but a commit */
	{
		struct uigw_store_job *job = uigw_store_job_alloc(st, NULL, NULL);
		struct uigw_store_row *r = row(job, UIGW_ROW_REFUSED, "p1", "c", 2);

		r->owner = "acme";
		r->u.refused.refusal = "capped";
		assert_int_equal(submit_wait(job, &rec), 0);
	}
	assert_int_equal(sql_int("SELECT count(*) FROM webhook_outbox WHERE webhook = 3"), 2);
	assert_int_equal(sql_int("SELECT min(id) FROM webhook_outbox WHERE instance = 'U'"), 42);
	uigw_store_close(st);
	talloc_free(ci);
	sql_exec("SET search_path TO public");
	sql_exec("DROP SCHEMA up CASCADE");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_and_queries),
		cmocka_unit_test(test_bad_job_alone),
		cmocka_unit_test(test_restart_under_load),
		cmocka_unit_test(test_instances),
		cmocka_unit_test(test_erase_export_purge),
		cmocka_unit_test(test_push_caps_across_instances),
		cmocka_unit_test(test_unreachable_and_queue_bound),
		cmocka_unit_test(test_webhooks_across_instances),
		cmocka_unit_test(test_cdr_files_across_instances),
		cmocka_unit_test(test_dialog_states),
		cmocka_unit_test(test_schema_upgrade),
	};
	int rc;

	conninfo = getenv("UIGW_TEST_PG");
	if (!conninfo) {
		fprintf(stderr, "UIGW_TEST_PG is not set: run tests/pg/store_pg.sh\n");
		return 77;
	}
	ctx = talloc_named_const(NULL, 0, "store_pg_test");
	osmo_init_logging2(ctx, &uigw_log_info);
	log_set_print_category(osmo_stderr_target, 1);
	log_set_log_level(osmo_stderr_target, getenv("UIGW_TEST_LOG") ? LOGL_DEBUG : LOGL_FATAL);
	check = PQconnectdb(conninfo);
	if (PQstatus(check) != CONNECTION_OK) {
		fprintf(stderr, "cannot connect to %s: %s", conninfo, PQerrorMessage(check));
		return 1;
	}
	/* the server is the test's own: a run begins on an empty database (the schema made by the first open) */
	sql_exec("SET client_min_messages = warning");
	sql_exec("DROP SCHEMA public CASCADE");
	sql_exec("CREATE SCHEMA public");
	rc = cmocka_run_group_tests_name("store_pg", tests, NULL, NULL);
	PQfinish(check);
	talloc_free(ctx);
	return rc;
}
