/*! \file store_privacy_test.c
 *  Everything held about a subscriber (store_subscriber.c): the export lists every table that can hold a
 *  subscriber (checked against the schema itself, so a new table cannot be forgotten), and an erase removes
 *  exactly those rows of one pseudonym and nothing of another's. Retention (store_retention.c): each kind of
 *  record past its period is purged, in batches, and nothing younger. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <osmocom/uigw/common/clock.h>
#include <jansson.h>
#include <sqlite3.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/application.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/store/store.h>
#include "common/fixture.h"

static struct uigw_fixture fx;

#define A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static int setup(void **state)
{
	uigw_fx_init(&fx, "erase");
	uigw_fx_gw(&fx, true);
	return 0;
}

static int teardown(void **state)
{
	uigw_fx_teardown(&fx);
	return 0;
}

static struct uigw_store_row *put(struct uigw_store_job *job, enum uigw_row_kind kind, const char *sub,
				  uint64_t dialog)
{
	struct uigw_store_row *r = uigw_store_job_row(job, kind);

	assert_non_null(r);
	r->subscriber = sub;
	r->dialog = dialog;
	r->time_ms = 1000;
	r->campaign = "c1";
	r->version = 1;
	r->channel = "ussi";
	return r;
}

static void commit(struct uigw_store_job *job)
{
	assert_int_equal(uigw_store_submit(job), 0);
	uigw_store_drain(fx.gw->store);
}

static void done_free(struct uigw_store_job *job, void *data)
{
	talloc_free(job);
}

/* every kind of row that names a subscriber, for one pseudonym, its dialog numbered \a dlg, into \a job */
static void add_rows(struct uigw_store_job *job, const char *sub, uint64_t dlg, const char *msisdn,
		     const char *message_id)
{
	struct uigw_store_row *r;

	r = put(job, UIGW_ROW_RESPONSE, sub, dlg);
	r->u.response.node = r->u.response.question = "q1";
	r->u.response.kind = "rating";
	r->u.response.value = r->u.response.raw = "4";
	r = put(job, UIGW_ROW_DIALOG, sub, dlg);
	r->u.dialog.outcome = UIGW_OUTCOME_COMPLETED;
	r->u.dialog.last_node = "end";
	r = put(job, UIGW_ROW_CDR, sub, dlg);
	r->u.cdr.outcome = UIGW_OUTCOME_COMPLETED;
	r->u.cdr.charge_class = "free";
	r = put(job, UIGW_ROW_PARAM, sub, dlg);
	r->u.param.name = "caller";
	r->u.param.value = "+4930999001";
	put(job, UIGW_ROW_SPAM, sub, dlg)->u.spam.number = "+4930123456";
	r = put(job, UIGW_ROW_REACTION, sub, dlg);
	r->u.reaction.content = "video-1";
	r->u.reaction.reaction = "like";
	r = put(job, UIGW_ROW_APP_RATING, sub, dlg);
	r->u.app_rating.app = "game";
	r->u.app_rating.rating = 5;
	r = put(job, UIGW_ROW_FLAG, sub, dlg);
	r->u.flag.content = "song";
	r->u.flag.reason = "abuse";
	r = put(job, UIGW_ROW_OFFER, sub, dlg);
	r->u.offer.service = "tv";
	r->u.offer.uri = "https://example.net/tv";
	put(job, UIGW_ROW_OPTOUT, sub, 0)->u.optout.opt_out = true;
	r = put(job, UIGW_ROW_OPTOUT, sub, 0);
	r->u.optout.opt_out = true;
	r->u.optout.scope = "campaign:survey";
	put(job, UIGW_ROW_SUBSCRIBER, sub, 0)->u.subscriber.msisdn = msisdn;
	r = put(job, UIGW_ROW_PUSH, sub, dlg);
	r->u.push.result = "sent";
	r = put(job, UIGW_ROW_MT_SUBMITTED, sub, dlg);
	r->u.receipt.message_id = message_id;
	r->u.receipt.state = "ENROUTE";
}

static void rows_of(const char *sub, uint64_t dlg, const char *msisdn, const char *message_id)
{
	struct uigw_store_job *job = uigw_store_job_alloc(fx.gw->store, done_free, NULL);
	struct uigw_store_row *r;

	add_rows(job, sub, dlg, msisdn, message_id);
	r = put(job, UIGW_ROW_REFUSED, sub, 0);
	r->u.refused.refusal = "capped";
	commit(job);
}

static int export_rows(const char *sub, json_t **tables)
{
	json_t *o = json_object();
	int n;

	assert_non_null(o);
	n = uigw_store_subscriber_export(fx.gw->store, sub, o);
	if (tables)
		*tables = o;
	else
		json_decref(o);
	return n;
}

/* the charging records are in a database of their own beside the main one (store_cdr_db.c): PATH.db ->
 * PATH-cdr.db, attached as "charging" */
static void attach_charging(sqlite3 *db, const char *path)
{
	char cdr[200], sql[260];

	snprintf(cdr, sizeof(cdr), "%.*s-cdr.db", (int)strlen(path) - 3, path);
	snprintf(sql, sizeof(sql), "ATTACH DATABASE '%s' AS charging", cdr);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

static int64_t count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	int64_t n;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

static void test_export_covers_the_schema_and_erase_one(void **state)
{
	struct uigw_store_job *job;
	struct uigw_store_row *r;
	json_t *tables, *t;
	sqlite3 *db;
	sqlite3_stmt *s, *cols;
	char path[160], sql[256];
	int a, b, covered = 0;

	/* the operator's webhook listens to everything: the outbox holds entries about both */
	job = uigw_store_job_alloc(fx.gw->store, done_free, NULL);
	r = uigw_store_job_row(job, UIGW_ROW_WEBHOOK);
	r->time_ms = 500;
	r->u.webhook.id = 1;
	r->u.webhook.tenant = "operator";
	r->u.webhook.all_campaigns = true;
	r->u.webhook.url = "http://127.0.0.1/h";
	r->u.webhook.secret = "0123456789abcdef";
	r->u.webhook.events = 1 << UIGW_WH_ANSWER | 1 << UIGW_WH_DIALOG_ENDED | 1 << UIGW_WH_SPAM_REPORT |
			      1 << UIGW_WH_TRIGGER_REFUSED;
	commit(job);
	rows_of(A, 11, "+491720000001", "m-a");
	rows_of(B, 22, "+491720000002", "m-b");

	a = export_rows(A, &tables);
	b = export_rows(B, NULL);
	/* 14 rows (a refused trigger has no table of its own) and 4 webhook deliveries about them: the answer, the
	 * dialog's end, the spam report, the refused trigger */
	assert_int_equal(a, 18);
	assert_int_equal(b, a);

	/* every table with a column that can name a subscriber is in the export, with this subscriber's rows */
	snprintf(path, sizeof(path), "%s/test.db", fx.dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	attach_charging(db, path);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table' UNION ALL"
					    " SELECT name FROM charging.sqlite_master WHERE type = 'table'", -1, &s, NULL),
			 SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(s, 0);
		bool names_sub = false;

		snprintf(sql, sizeof(sql), "SELECT name FROM pragma_table_info('%s')", name);
		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &cols, NULL), SQLITE_OK);
		while (sqlite3_step(cols) == SQLITE_ROW) {
			const char *c = (const char *)sqlite3_column_text(cols, 0);

			names_sub |= !strcmp(c, "subscriber") || !strcmp(c, "reporter") || !strcmp(c, "pseudonym");
		}
		sqlite3_finalize(cols);
		if (!names_sub && strcmp(name, "dialog_param") && strcmp(name, "webhook_outbox"))
			continue;
		t = json_object_get(tables, name);
		if (!t)
			fail_msg("table %s can hold a subscriber but is not exported", name);
		/* the mapping is in its journal until the merge (mapping-delay, 10 s here): in one of the two */
		if (!json_array_size(t) && !(!strcmp(name, "subscriber_map") &&
					     json_array_size(json_object_get(tables, "subscriber_new"))))
			fail_msg("table %s: nothing exported", name);
		covered++;
	}
	sqlite3_finalize(s);
	assert_int_equal(covered, 16);
	json_decref(tables);

	/* erase A: nothing of A anywhere, everything of B still there, the counts follow */
	assert_int_equal(count(db, "SELECT n FROM answer_count WHERE value = '4'"), 2);
	job = uigw_store_job_alloc(fx.gw->store, done_free, NULL);
	uigw_store_job_row(job, UIGW_ROW_ERASE)->subscriber = A;
	commit(job);
	assert_int_equal(export_rows(A, NULL), 0);
	assert_int_equal(export_rows(B, NULL), b);
	assert_int_equal(count(db, "SELECT count(*) FROM subscriber_map WHERE msisdn = '+491720000001'"), 0);
	assert_int_equal(count(db, "SELECT count(*) FROM subscriber_new WHERE msisdn = '+491720000001'"), 0);
	assert_int_equal(count(db, "SELECT count(*) FROM subscriber_new WHERE msisdn = '+491720000002'"), 1);
	assert_int_equal(count(db, "SELECT count(*) FROM webhook_outbox WHERE instr(coalesce(data, ''), '" A "')"),
			 0);
	assert_int_equal(count(db, "SELECT n FROM answer_count WHERE value = '4'"), 1);
	assert_int_equal(count(db, "SELECT reports FROM spam_number WHERE number = '+4930123456'"), 2);
	sqlite3_close(db);
}

/* ---- retention ---- */

/* the rows of add_rows(), an audit row and \a pushes pushes in all, every one of them \a t old */
static void aged_rows(struct uigw_store *st, const char *sub, uint64_t dlg, int64_t t, unsigned int pushes)
{
	struct uigw_store_job *job = uigw_store_job_alloc(st, done_free, NULL);
	struct uigw_store_row *r;
	unsigned int i;

	add_rows(job, sub, dlg, "+491720000009", sub);
	r = put(job, UIGW_ROW_AUDIT, NULL, 0);
	r->u.audit.tenant = "acme";
	r->u.audit.method = "GET";
	r->u.audit.path = "/v1/campaigns";
	r->u.audit.status = 200;
	for (i = 1; i < pushes; i++)
		put(job, UIGW_ROW_PUSH, sub, dlg)->u.push.result = "sent";
	for (i = 0; i < job->n_rows; i++)
		job->rows[i].time_ms = t;
	job->rows[1].u.dialog.started_ms = t;
	assert_int_equal(uigw_store_submit(job), 0);
	uigw_store_drain(st);
}

static void purge(struct uigw_store *st)
{
	struct uigw_store_job *job = uigw_store_job_alloc(st, done_free, NULL);

	assert_non_null(uigw_store_job_row(job, UIGW_ROW_PURGE));
	assert_int_equal(uigw_store_submit(job), 0);
	uigw_store_drain(st);
}

static void test_retention_per_kind(void **state)
{
	static const char *const tables[] = { "response", "dialog", "dialog_param", "reaction", "app_rating", "flag",
					      "offer", "subscriber_map", "mt_receipt", "audit", "cdr" };
	struct uigw_store_cfg cfg;
	struct uigw_store *st;
	struct uigw_store_stats stats;
	int64_t now = uigw_wall_ms();
	char path[160], sql[160];
	unsigned int i;
	sqlite3 *db;

	uigw_store_cfg_defaults(&cfg);
	snprintf(path, sizeof(path), "%s/retention.db", fx.dir);
	cfg.path = path;
	cfg.sync_full = false;
	cfg.map_delay_s = 0;	/* each commit's mappings merged after it: purged from subscriber_map */
	cfg.retention_days = 1;
	for (i = 1; i < _UIGW_RET_NUM; i++)
		cfg.retention[i] = 1;
	st = uigw_store_open(fx.root, &cfg);
	assert_non_null(st);
	/* three days old: every kind, and more pushes than one purge batch; an hour old: one of each */
	aged_rows(st, A, 1, now - 3 * 86400000LL, UIGW_STORE_PURGE_BATCH + 500);
	aged_rows(st, B, 2, now - 3600000LL, 1);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	attach_charging(db, path);

	purge(st);
	for (i = 0; i < ARRAY_SIZE(tables); i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", tables[i]);
		if (count(db, sql) != 1)
			fail_msg("%s: %" PRId64 " rows after the purge, 1 expected", tables[i], count(db, sql));
	}
	/* the reports stay, counted; the old one without its reporter */
	assert_int_equal(count(db, "SELECT count(*) FROM spam_report"), 2);
	assert_int_equal(count(db, "SELECT count(*) FROM spam_report WHERE reporter IS NULL"), 1);
	assert_int_equal(count(db, "SELECT count(*) FROM spam_report WHERE reporter = '" B "'"), 1);
	assert_int_equal(count(db, "SELECT reports FROM spam_number"), 2);
	/* one batch of the old pushes per purge: the rest with the next, none of the young one */
	assert_int_equal(count(db, "SELECT count(*) FROM push"), 500 + 1);
	purge(st);
	assert_int_equal(count(db, "SELECT count(*) FROM push"), 1);
	assert_int_equal(count(db, "SELECT count(*) FROM push WHERE subscriber = '" B "'"), 1);
	uigw_store_stats(st, &stats);
	assert_true(stats.purged >= 10 + 1 + UIGW_STORE_PURGE_BATCH + 500);
	sqlite3_close(db);
	uigw_store_close(st);
}

static void optout_row(const char *sub, bool out, const char *scope)
{
	struct uigw_store_job *job = uigw_store_job_alloc(fx.gw->store, done_free, NULL);
	struct uigw_store_row *r = put(job, UIGW_ROW_OPTOUT, sub, 0);

	r->u.optout.opt_out = out;
	r->u.optout.scope = scope;
	commit(job);
}

/* scoped opt-outs: one campaign, one tenant's campaigns; opting back into everything ends them too */
static void test_scoped_optout(void **state)
{
	struct uigw_store *st = fx.gw->store;

	assert_int_equal(uigw_store_opted_out_of(st, A, "survey", "operator"), 0);
	optout_row(A, true, "campaign:survey");
	optout_row(A, true, "tenant:bank");
	assert_int_equal(uigw_store_opted_out_of(st, A, "survey", "operator"), 1);
	assert_int_equal(uigw_store_opted_out_of(st, A, "crs", "operator"), 0);
	assert_int_equal(uigw_store_opted_out_of(st, A, "loan", "bank"), 1);
	assert_int_equal(uigw_store_is_opted_out(st, A), 0);
	assert_int_equal(uigw_store_opted_out_of(st, B, "survey", "operator"), 0);
	/* back into one */
	optout_row(A, false, "tenant:bank");
	assert_int_equal(uigw_store_opted_out_of(st, A, "loan", "bank"), 0);
	assert_int_equal(uigw_store_opted_out_of(st, A, "survey", "operator"), 1);
	/* out of everything, then back into everything: the scoped one is gone as well */
	optout_row(A, true, NULL);
	assert_int_equal(uigw_store_opted_out_of(st, A, "crs", "operator"), 1);
	optout_row(A, false, NULL);
	assert_int_equal(uigw_store_opted_out_of(st, A, "crs", "operator"), 0);
	assert_int_equal(uigw_store_opted_out_of(st, A, "survey", "operator"), 0);

	/* submitted, not committed yet: the checks see it at once, and after the commit from the database */
	{
		struct uigw_store_job *job = uigw_store_job_alloc(st, done_free, NULL);
		struct uigw_store_row *r = put(job, UIGW_ROW_OPTOUT, B, 0);

		r->u.optout.opt_out = true;
		assert_int_equal(uigw_store_submit(job), 0);
		assert_int_equal(uigw_store_is_opted_out(st, B), 1);
		assert_int_equal(uigw_store_opted_out_of(st, B, "crs", "operator"), 1);
		uigw_store_drain(st);
		assert_int_equal(uigw_store_is_opted_out(st, B), 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_export_covers_the_schema_and_erase_one, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_per_kind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scoped_optout, setup, teardown),
	};
	void *log_ctx = talloc_named_const(NULL, 0, "log");

	osmo_init_logging2(log_ctx, &uigw_log_info);
	log_set_print_filename2(osmo_stderr_target, LOG_FILENAME_NONE);
	log_set_log_level(osmo_stderr_target, LOGL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
