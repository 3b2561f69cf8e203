/* Group commit under SIGKILL: a child submits jobs of three rows (RESPONSE, SPAM, FLAG) sharing a unique tag
 * and acknowledges each tag on a pipe from the job's completion. The parent kills the child in the middle,
 * then checks with plain SQLite that every acknowledged tag has all three rows, that no tag has only some of
 * them, and that the database is intact. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <sqlite3.h>
#include <talloc.h>
#include <osmocom/core/application.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/select.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/store/store.h>

#define MAX_TAGS	200000	/* the child's bound: far more than it can do before it is killed */
#define KILL_AFTER	2000	/* acknowledgements before the kill */
#define IN_FLIGHT	256	/* jobs the child keeps submitted */
#define TIMEOUT_MS	20000

static char tmpdir[64];
static char path[128];

/* ---- child ---- */

struct child {
	struct uigw_store *st;
	int wfd;
};

static void ack_done(struct uigw_store_job *job, void *data)
{
	struct child *c = data;
	uint32_t tag = (uint32_t)strtoul((const char *)job->rows[0].u.response.raw + 1, NULL, 10);

	if (job->rc == 0 && write(c->wfd, &tag, sizeof(tag)) != sizeof(tag))
		_exit(3);
	talloc_free(job);
}

static int submit_tag(struct child *c, uint32_t tag)
{
	struct uigw_store_job *job = uigw_store_job_alloc(c->st, ack_done, c);
	struct uigw_store_row *r;
	const char *t;

	if (!job)
		return -ENOMEM;
	t = talloc_asprintf(job, "t%u", tag);
	r = uigw_store_job_row(job, UIGW_ROW_RESPONSE);
	r->subscriber = "0123456789abcdef0123456789abcdef";
	r->campaign = "kill";
	r->channel = "ussi";
	r->time_ms = 1000;
	r->u.response.question = "q";
	r->u.response.value = "1";
	r->u.response.raw = t;
	r = uigw_store_job_row(job, UIGW_ROW_SPAM);
	r->subscriber = "0123456789abcdef0123456789abcdef";
	r->time_ms = 1000;
	r->u.spam.number = t;
	r = uigw_store_job_row(job, UIGW_ROW_FLAG);
	r->subscriber = "0123456789abcdef0123456789abcdef";
	r->time_ms = 1000;
	r->u.flag.content = "c";
	r->u.flag.reason = t;
	if (uigw_store_submit(job) < 0) {
		talloc_free(job);
		return -EBUSY;
	}
	return 0;
}

static void child_main(int wfd)
{
	void *ctx = talloc_named_const(NULL, 0, "child");
	struct uigw_store_cfg cfg;
	struct child c = { .wfd = wfd };
	uint32_t next = 0;

	uigw_store_cfg_defaults(&cfg);
	cfg.path = path;
	c.st = uigw_store_open(ctx, &cfg);
	if (!c.st)
		_exit(2);
	while (next < MAX_TAGS || uigw_store_queue_depth(c.st)) {
		while (next < MAX_TAGS && uigw_store_queue_depth(c.st) < IN_FLIGHT) {
			if (submit_tag(&c, next) < 0)
				break;
			next++;
		}
		osmo_select_main(0);
	}
	uigw_store_close(c.st);
	_exit(0);
}

/* ---- parent ---- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Mark bit in seen[tag] for every tag string "t<n>" in the rows of sql. \returns rows read */
static int mark(sqlite3 *db, const char *sql, uint8_t *seen, uint8_t bit)
{
	sqlite3_stmt *s;
	int n = 0;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s, 0);
		unsigned long tag;

		assert_non_null(t);
		assert_int_equal(t[0], 't');
		tag = strtoul(t + 1, NULL, 10);
		assert_true(tag < MAX_TAGS);
		assert_false(seen[tag] & bit);	/* each row once */
		seen[tag] |= bit;
		n++;
	}
	sqlite3_finalize(s);
	return n;
}

static void test_kill(void **state)
{
	uint8_t *acked = calloc(MAX_TAGS, 1), *seen = calloc(MAX_TAGS, 1);
	int fds[2], status, n_acked = 0, n_tags = 0, partial = 0, missing = 0, i;
	int64_t start = now_ms();
	bool killed = false;
	sqlite3 *db;
	sqlite3_stmt *s;
	pid_t pid;

	assert_non_null(acked);
	assert_non_null(seen);
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		child_main(fds[1]);
	}
	close(fds[1]);

	/* read acknowledgements; kill after KILL_AFTER; then read what was written before the kill, to EOF */
	for (;;) {
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		uint32_t tags[256];
		ssize_t rd;

		if (now_ms() - start > TIMEOUT_MS) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			fail_msg("timed out with %d acknowledgements", n_acked);
		}
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		rd = read(fds[0], tags, sizeof(tags));
		if (rd == 0)
			break;
		assert_true(rd > 0);
		assert_int_equal(rd % sizeof(uint32_t), 0);	/* 4-byte writes to a pipe are atomic */
		for (i = 0; i < rd / (ssize_t)sizeof(uint32_t); i++) {
			assert_true(tags[i] < MAX_TAGS);
			assert_int_equal(acked[tags[i]], 0);
			acked[tags[i]] = 1;
			n_acked++;
		}
		if (!killed && n_acked >= KILL_AFTER) {
			assert_int_equal(kill(pid, SIGKILL), 0);
			killed = true;
		}
	}
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(killed);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);	/* killed while still working */
	assert_true(n_acked < MAX_TAGS);

	/* plain SQLite: opening recovers from the WAL */
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "ok");
	sqlite3_finalize(s);
	mark(db, "SELECT raw FROM response", seen, 1);
	mark(db, "SELECT number FROM spam_report", seen, 2);
	mark(db, "SELECT reason FROM flag", seen, 4);
	/* the aggregate is written in the same transactions: every tag's report counted once */
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM spam_report WHERE counted = 1),"
					    " (SELECT coalesce(sum(reports), 0) FROM spam_number)", -1, &s, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1));
	sqlite3_finalize(s);
	sqlite3_close(db);

	for (i = 0; i < MAX_TAGS; i++) {
		if (seen[i] && seen[i] != 7)
			partial++;
		if (acked[i] && seen[i] != 7)
			missing++;
		if (seen[i] == 7)
			n_tags++;
	}
	print_message("acknowledged %d, committed %d tags, in %lld ms\n", n_acked, n_tags,
		      (long long)(now_ms() - start));
	assert_int_equal(missing, 0);
	assert_int_equal(partial, 0);
	assert_true(n_tags >= n_acked);
	free(acked);
	free(seen);
}

static int group_setup(void **state)
{
	osmo_strlcpy(tmpdir, "/tmp/uigw-kill-XXXXXX", sizeof(tmpdir));
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(path, sizeof(path), "%s/kill.db", tmpdir);
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill),
	};
	void *log_ctx = talloc_named_const(NULL, 0, "log");
	int rc;

	osmo_init_logging2(log_ctx, &uigw_log_info);
	log_set_print_filename2(osmo_stderr_target, LOG_FILENAME_NONE);
	if (!getenv("UIGW_TEST_LOG"))
		log_set_log_level(osmo_stderr_target, LOGL_FATAL);
	rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
	log_fini();
	talloc_free(log_ctx);
	return rc;
}
