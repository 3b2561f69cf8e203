/*! \file store_cdr_test.c
 *  Charging records (store_cdr.c): one record per dialog in the table, the same records once each in the CSV
 *  files (header, fields, rotation by size, mode 0600, .part while open); a file a crash left open is cut back
 *  to its last whole line and not written twice; a record a crash lost is made again from its dialog row; the
 *  charging thread runs as SCHED_BATCH. */

#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <sched.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/application.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/store/store.h>
#include "common/fixture.h"
#include "../src/store/store_priv.h"	/* white box: the CSV fields' formatters */

static struct uigw_fixture fx;
static char db_path[128], cdr_db_path[128], cdr_dir[128];

static int setup(void **state)
{
	uigw_fx_init(&fx, "cdr");
	snprintf(db_path, sizeof(db_path), "%s/cdr.db", fx.dir);
	/* the charging records' own database beside it (store_cdr_db.c) */
	snprintf(cdr_db_path, sizeof(cdr_db_path), "%s/cdr-cdr.db", fx.dir);
	snprintf(cdr_dir, sizeof(cdr_dir), "%s/cdr", fx.dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", cdr_dir);
	assert_int_equal(system(cmd), 0);
	uigw_fx_teardown(&fx);
	return 0;
}

static struct uigw_store *open_store(unsigned int max_kb)
{
	struct uigw_store_cfg cfg;
	struct uigw_store *st;

	uigw_store_cfg_defaults(&cfg);
	cfg.path = db_path;
	cfg.cdr_dir = cdr_dir;
	cfg.cdr_max_kb = max_kb;
	st = uigw_store_open(fx.root, &cfg);
	assert_non_null(st);
	return st;
}

static void done_free(struct uigw_store_job *job, void *data)
{
	talloc_free(job);
}

/* the dialog row and (with \a cdr) the record of dialog \a id, ended at \a end_ms */
static void dialog(struct uigw_store *st, uint64_t id, int64_t end_ms, bool cdr)
{
	struct uigw_store_job *job = uigw_store_job_alloc(st, done_free, NULL);
	struct uigw_store_row *r;

	r = uigw_store_job_row(job, UIGW_ROW_DIALOG);
	r->time_ms = end_ms;
	r->subscriber = "0123456789abcdef0123456789abcdef";
	r->campaign = "rbt";
	r->channel = "ussi";
	r->dialog = id;
	r->u.dialog.started_ms = end_ms - 1500;
	r->u.dialog.outcome = UIGW_OUTCOME_COMPLETED;
	r->u.dialog.roaming = true;
	r->u.dialog.visited = "\"vpmn, \"\"x\"\".example\"";
	if (cdr) {
		r = uigw_store_job_row(job, UIGW_ROW_CDR);
		r->time_ms = end_ms;
		r->subscriber = "0123456789abcdef0123456789abcdef";
		r->campaign = "rbt";
		r->owner = "acme";
		r->channel = "ussi";
		r->dialog = id;
		r->u.cdr.started_ms = end_ms - 1500;
		r->u.cdr.outcome = UIGW_OUTCOME_COMPLETED;
		r->u.cdr.roaming = true;
		r->u.cdr.visited = "vpmn, \"x\".example";
		r->u.cdr.screens = 3;
		r->u.cdr.mt_messages = 0;
		r->u.cdr.charge_class = "free";
		r->u.cdr.zero_rated = true;
	}
	assert_int_equal(uigw_store_submit(job), 0);
}

static int64_t count(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	int64_t n;

	assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "ATTACH DATABASE ?1 AS charging", -1, &s, NULL), SQLITE_OK);
	sqlite3_bind_text(s, 1, cdr_db_path, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(s), SQLITE_DONE);
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

struct files {
	unsigned int closed, open;	/* .csv, .csv.part */
	unsigned int records;
	int64_t seen[4096];		/* how often each record number is in a file */
	long last_id;
	char last_line[1024];		/* the line of the highest record number */
};

/* Read every CDR file: each starts with the header; records are counted by their number. */
static void read_files(struct files *f)
{
	DIR *d = opendir(cdr_dir);
	struct dirent *e;

	memset(f, 0, sizeof(*f));
	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[400], line[1024];
		struct stat sb;
		bool part;
		FILE *fp;

		if (e->d_name[0] == '.')
			continue;
		part = strstr(e->d_name, ".csv.part") != NULL;
		assert_true(part || strstr(e->d_name, ".csv"));
		assert_memory_equal(e->d_name, "osmo-uigw-cdr-", 14);
		f->open += part;
		f->closed += !part;
		snprintf(path, sizeof(path), "%s/%s", cdr_dir, e->d_name);
		assert_int_equal(stat(path, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0600);
		fp = fopen(path, "r");
		assert_non_null(fp);
		assert_non_null(fgets(line, sizeof(line), fp));
		assert_string_equal(line, "record,timestamp,dialog,start,duration_ms,channel,campaign,tenant,subscriber,"
				    "roaming,visited_network,screens,mt_messages,outcome,refusal,charge_class,"
				    "zero_rated,test,recovered\n");
		while (fgets(line, sizeof(line), fp)) {
			long id = strtol(line, NULL, 10);

			assert_true(id > 0 && id < 4096);
			assert_int_equal(line[strlen(line) - 1], '\n');
			f->seen[id]++;
			f->records++;
			if (id > f->last_id) {
				f->last_id = id;
				osmo_strlcpy(f->last_line, line, sizeof(f->last_line));
			}
		}
		fclose(fp);
	}
	closedir(d);
}

static void assert_each_once(const struct files *f, unsigned int n)
{
	unsigned int i;

	assert_int_equal(f->records, n);
	for (i = 1; i <= n; i++) {
		if (f->seen[i] != 1)
			fail_msg("record %u is %" PRId64 " times in the files", i, f->seen[i]);
	}
}

static void test_one_record_per_dialog_once_in_the_files(void **state)
{
	struct uigw_store *st = open_store(1);
	struct uigw_store_stats stats;
	struct files f;
	struct stat sb;
	unsigned int i;

	for (i = 1; i <= 300; i++)
		dialog(st, 1000 + i, 1700000000000LL + i * 1000, true);
	uigw_store_drain(st);
	uigw_store_stats(st, &stats);
	assert_int_equal(stats.cdr_exported, 300);
	assert_int_equal(stats.cdr_last, 300);
	/* 1 KiB files: closed as they fill (the last one may be open) */
	read_files(&f);
	assert_true(f.closed >= 10);
	assert_true(f.open <= 1);
	assert_each_once(&f, 300);
	/* the fields as written, the visited network quoted as CSV wants it */
	assert_string_equal(f.last_line + strcspn(f.last_line, ",") + 1 + 17 + 1,
			    "1300,20231114221818500,1500,ussi,rbt,acme,0123456789abcdef0123456789abcdef,1,"
			    "\"vpmn, \"\"x\"\".example\",3,0,completed,,free,1,0,0\n");
	assert_int_equal(stat(db_path, &sb), 0);
	uigw_store_close(st);

	/* a clean stop hands the open file over */
	read_files(&f);
	assert_int_equal(f.open, 0);
	assert_each_once(&f, 300);
	assert_int_equal(count("SELECT count(*) FROM cdr"), 300);
	assert_int_equal(count("SELECT count(DISTINCT dialog) FROM cdr"), 300);
	assert_int_equal(count("SELECT count(*) FROM cdr WHERE recovered = 1"), 0);
	assert_int_equal(count("SELECT last_id FROM cdr_export"), 300);
}

/* the scheduling policy (field 41 of /proc/self/task/TID/stat) of this process's thread named \a comm; -1: none */
static int policy_of(const char *comm)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int policy = -1;

	assert_non_null(d);
	while (policy < 0 && (e = readdir(d))) {
		char path[300], buf[1024], name[32] = "", *p;
		FILE *f;
		int i;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		p = fgets(buf, sizeof(buf), f);
		fclose(f);
		if (!p || sscanf(strchr(buf, '(') + 1, "%31[^)]", name) != 1 || strcmp(name, comm))
			continue;
		/* fields after the name: 3 (state) is the first; 41 is the policy */
		p = strrchr(buf, ')') + 2;
		for (i = 3; i < 41 && p; i++) {
			p = strchr(p, ' ');
			if (p)
				p++;
		}
		if (p)
			policy = atoi(p);
	}
	closedir(d);
	return policy;
}

/* The charging thread is background work: SCHED_BATCH, so that its wake-ups do not preempt the loop (the engine
 * benchmark's phase c); the main writer stays an ordinary thread. */
static void test_charging_thread_in_background(void **state)
{
	struct uigw_store *st = open_store(1024);
	int i, cdr = -1, writer = -1;

	/* the threads name themselves as they start */
	for (i = 0; i < 200 && (cdr < 0 || writer < 0); i++) {
		cdr = policy_of("uigw-cdr");
		writer = policy_of("uigw-store");
		if (cdr < 0 || writer < 0)
			usleep(10000);
	}
	assert_int_equal(cdr, SCHED_BATCH);
	assert_int_equal(writer, SCHED_OTHER);
	uigw_store_close(st);
}

/* dialog ids as the core makes them: the gateway's start second, shifted (core/gw.c) */
#define DLG(i) ((uint64_t)1700000000 << 20 | (i))

static void test_crash_leftovers(void **state)
{
	char want[256];
	struct uigw_store *st = open_store(10240);
	struct files f;
	char path[300];
	sqlite3 *db;
	FILE *fp;
	unsigned int i;

	for (i = 1; i <= 10; i++)
		dialog(st, DLG(2000 + i), 1700000000000LL + i * 1000, true);
	uigw_store_drain(st);
	uigw_store_close(st);
	read_files(&f);
	assert_each_once(&f, 10);
	/* lines made as the rows were written (not read back): the same format */
	snprintf(want, sizeof(want), "10,20231114221330000,%" PRIu64 ",20231114221328500,1500,ussi,rbt,acme,"
		 "0123456789abcdef0123456789abcdef,1,\"vpmn, \"\"x\"\".example\",3,0,completed,,free,1,0,0\n", DLG(2010));
	assert_string_equal(f.last_line, want);

	/* A crash: records 11 and 12 committed; 11 reached a file left open, with half of 12 after it, and the
	 * cursor in the database is still at 10; dialog 2013's record was lost altogether. */
	st = open_store(10240);
	dialog(st, DLG(2011), 1700000000000LL + 11000, true);
	dialog(st, DLG(2012), 1700000000000LL + 12000, true);
	dialog(st, DLG(2013), 1700000000000LL + 13000, false);
	uigw_store_drain(st);
	uigw_store_close(st);
	assert_int_equal(sqlite3_open_v2(cdr_db_path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE cdr_export SET last_id = 10", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	{
		/* the file of the second run holds 11 and 12: it goes, the open one of the crash takes its place */
		DIR *d = opendir(cdr_dir);
		struct dirent *e;

		while ((e = readdir(d))) {
			char p[400], line[1024];
			bool later = false;

			if (e->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", cdr_dir, e->d_name);
			fp = fopen(p, "r");
			while (fgets(line, sizeof(line), fp))
				later |= atoi(line) > 10;
			fclose(fp);
			if (later)
				unlink(p);
		}
		closedir(d);
	}
	snprintf(path, sizeof(path), "%s/osmo-uigw-cdr-20231114221801.csv.part", cdr_dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("record,timestamp,dialog,start,duration_ms,channel,campaign,tenant,subscriber,roaming,visited_network,"
	      "screens,mt_messages,outcome,refusal,charge_class,zero_rated,test,recovered\n", fp);
	fprintf(fp, "11,20231114221811000,%" PRIu64 ",20231114221809500,1500,ussi,rbt,acme,x,1,v,3,0,completed,,free,"
		"1,0,0\n", DLG(2011));
	fputs("12,2023111422181200", fp);
	fclose(fp);
	chmod(path, 0600);

	st = open_store(10240);
	uigw_store_drain(st);
	uigw_store_close(st);
	read_files(&f);
	assert_int_equal(f.open, 0);
	/* 1..12 once each, and the made-up record of dialog 2013 */
	assert_each_once(&f, 13);
	snprintf(want, sizeof(want), "SELECT count(*) FROM cdr WHERE dialog = %" PRIu64 " AND recovered = 1", DLG(2013));
	assert_int_equal(count(want), 1);
	snprintf(want, sizeof(want), "SELECT id FROM cdr WHERE dialog = %" PRIu64, DLG(2013));
	assert_int_equal(count(want), 13);
	assert_int_equal(count("SELECT count(*) FROM cdr"), count("SELECT count(*) FROM dialog"));
}

/* A database of schema 8 kept its records in the main file: the next open moves them to the charging database
 * (numbers, fields and the cursor as they were), drops the old tables, and numbering goes on after them. */
static void test_records_of_schema_8_taken_over(void **state)
{
	struct uigw_store *st;
	sqlite3 *db;
	char sql[512];
	unsigned int i;

	assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL), SQLITE_OK);
	assert_int_equal(uigw_store_schema_upgrade(db, 0, 8), 0);
	for (i = 1; i <= 5; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO dialog (id, campaign, channel, subscriber, started, ended, outcome)"
			 " VALUES (%" PRIu64 ", 'rbt', 'ussi', 's', 1700000000000, %lld, 'completed');"
			 "INSERT INTO cdr (id, dialog, started, ended, channel, campaign, subscriber, screens, outcome,"
			 " charge_class) VALUES (%u, %" PRIu64 ", 1700000000000, %lld, 'ussi', 'rbt', 's', %u, 'completed',"
			 " 'free')", DLG(3000 + i), 1700000001000LL + i, 100 + i, DLG(3000 + i),
			 1700000001000LL + i, i);
		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	}
	assert_int_equal(sqlite3_exec(db, "UPDATE cdr_export SET last_id = 104", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	st = open_store(10240);
	dialog(st, DLG(3006), 1700000002000LL, true);
	uigw_store_drain(st);
	uigw_store_close(st);

	assert_int_equal(count("SELECT count(*) FROM charging.cdr"), 6);
	assert_int_equal(count("SELECT count(*) FROM main.sqlite_master WHERE name LIKE 'cdr%'"), 0);
	assert_int_equal(count("SELECT screens FROM cdr WHERE id = 103"), 3);
	/* the new record after the old ones */
	snprintf(sql, sizeof(sql), "SELECT id FROM cdr WHERE dialog = %" PRIu64, DLG(3006));
	assert_int_equal(count(sql), 106);
	assert_int_equal(count("SELECT count(*) FROM cdr WHERE recovered = 1"), 0);
	assert_int_equal(count("PRAGMA main.user_version"), UIGW_SCHEMA_VERSION);
}

/* The CSV times and integers without libc's formatting: the same text as gmtime_r + snprintf, over the eras,
 * the leap days (2000 is one, 2100 is not), the ends of days and before 1970. */
static void test_formatters_match_libc(void **state)
{
	static const int64_t fixed[] = {
		0, -1, 1, 999, 1000, 86399999, 86400000, -86400000, -86400001, 951782400000LL /* 2000-02-29 */,
		951868800000LL, 4107456000000LL /* 2100-02-28 */, 4107542400000LL, 1700000002123LL,
		253402300799999LL /* 9999-12-31 23:59:59.999 */, -62135596800000LL /* 0001-01-01 */,
	};
	static const int64_t ints[] = { 0, 1, -1, 9, 10, -10, 1234567890123LL, INT64_MAX, INT64_MIN };
	char want[64], got[32];
	uint64_t x = 88172645463325252ULL;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(fixed) + 200000; i++) {
		int64_t ms;
		time_t t;
		struct tm tm;

		if (i < ARRAY_SIZE(fixed)) {
			ms = fixed[i];
		} else {
			x ^= x << 13;	/* xorshift: spread over years 0001..9999 */
			x ^= x >> 7;
			x ^= x << 17;
			ms = (int64_t)(x % 315537897600000ULL) - 62135596800000LL;
		}
		t = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
		assert_non_null(gmtime_r(&t, &tm));
		snprintf(want, sizeof(want), "%04d%02d%02d%02d%02d%02d%03d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms - (int64_t)t * 1000));
		assert_int_equal(uigw_store_cdr_time(got, ms), 17);
		assert_string_equal(got, want);
	}
	for (i = 0; i < ARRAY_SIZE(ints); i++) {
		snprintf(want, sizeof(want), "%" PRId64, ints[i]);
		assert_int_equal(uigw_store_dec(got, ints[i]), strlen(want));
		assert_string_equal(got, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_record_per_dialog_once_in_the_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_leftovers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_records_of_schema_8_taken_over, setup, teardown),
		cmocka_unit_test_setup_teardown(test_charging_thread_in_background, setup, teardown),
		cmocka_unit_test(test_formatters_match_libc),
	};
	void *log_ctx = talloc_named_const(NULL, 0, "log");

	osmo_init_logging2(log_ctx, &uigw_log_info);
	log_set_print_filename2(osmo_stderr_target, LOG_FILENAME_NONE);
	log_set_log_level(osmo_stderr_target, LOGL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
