/* cmocka tests of the common layer's helpers: the fake clock through common/clock.h, the hash, and the
 * millisecond FSM timer that works around libosmocore 1.7.0 (which drops the sub-second part). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <osmocom/core/select.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/fsm.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/application.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/hash.h>
#include <osmocom/uigw/common/fsm.h>
#include <osmocom/uigw/common/logging.h>
#include "common/fixture.h"

static int fired;

static int t_cb(struct osmo_fsm_inst *fi)
{
	fired++;
	return 0;
}

static void t_action(struct osmo_fsm_inst *fi, uint32_t event, void *data)
{
}

static const struct value_string t_events[] = { { 0, "E" }, { 0, NULL } };
static const struct osmo_fsm_state t_states[] = {
	{ .name = "A", .in_event_mask = 1, .out_state_mask = 1, .action = t_action },
};
static struct osmo_fsm t_fsm = {
	.name = "COMMON_TEST", .states = t_states, .num_states = 1, .event_names = t_events, .timer_cb = t_cb,
	.log_subsys = DMAIN,
};

static void advance_ms(long ms)
{
	osmo_clock_override_add(CLOCK_MONOTONIC, ms / 1000, (ms % 1000) * 1000000);
	osmo_clock_override_add(CLOCK_REALTIME, ms / 1000, (ms % 1000) * 1000000);
	osmo_gettimeofday_override_add(ms / 1000, (ms % 1000) * 1000);
	osmo_timers_prepare();
	osmo_timers_update();
}

static void test_fsm_timer_ms(void **state)
{
	struct osmo_fsm_inst *fi = osmo_fsm_inst_alloc(&t_fsm, NULL, NULL, LOGL_DEBUG, NULL);

	uigw_fx_clock_set(1000);
	/* 1500 ms: libosmocore 1.7.0's own call would fire after 1 s */
	fired = 0;
	assert_int_equal(uigw_fsm_state_chg_ms(fi, 0, 1500, -1), 0);
	advance_ms(1000);
	assert_int_equal(fired, 0);
	advance_ms(499);
	assert_int_equal(fired, 0);
	advance_ms(2);
	assert_int_equal(fired, 1);
	/* 500 ms: not at once */
	assert_int_equal(uigw_fsm_state_chg_ms(fi, 0, 500, -1), 0);
	advance_ms(400);
	assert_int_equal(fired, 1);
	advance_ms(101);
	assert_int_equal(fired, 2);
	osmo_fsm_inst_free(fi);
	osmo_clock_override_enable(CLOCK_MONOTONIC, false);
	osmo_clock_override_enable(CLOCK_REALTIME, false);
	osmo_gettimeofday_override = false;
}

static void test_clock(void **state)
{
	uigw_fx_clock_set(1000);
	assert_int_equal(uigw_mono_s(), 1000);
	assert_int_equal(uigw_mono_ms(), 1000000);
	assert_int_equal(uigw_wall_ms(), (1700000000LL + 1000) * 1000);
	advance_ms(1234);
	assert_int_equal(uigw_mono_ms(), 1001234);
	assert_int_equal(uigw_mono_us(), 1001234000LL);
	osmo_clock_override_enable(CLOCK_MONOTONIC, false);
	osmo_clock_override_enable(CLOCK_REALTIME, false);
	osmo_gettimeofday_override = false;
}

static void test_hash(void **state)
{
	/* FNV-1a test vectors (the empty string; "a") */
	assert_int_equal(uigw_hash32("", 0), 2166136261u);
	assert_int_equal(uigw_hash32("a", 0), 0xe40c292cu);
	assert_true(uigw_hash64("a") == 0xaf63dc4c8601ec8cull);
	assert_true(uigw_hash64_mem("a", 1) == 0xaf63dc4c8601ec8cull);
	assert_int_equal(uigw_hash32_mem(UIGW_HASH32_INIT, "a", 1), 0xe40c292cu);
	/* never 0: 0 marks a free slot */
	assert_true(uigw_hash64("") != 0);
	assert_true(uigw_hash32("+491720000001", 1) != uigw_hash32("+491720000001", 2));
}

/* ---- log lines of other threads (the store's writer) ---- */

#define LT_THREADS 2
#define LT_LINES 20000
static volatile int lt_done;

static void *lt_thread(void *arg)
{
	int t = (int)(intptr_t)arg, i;

	for (i = 0; i < LT_LINES; i++)
		LOGP(DSTORE, LOGL_NOTICE, "thread %d line %d\n", t, i);
	__atomic_add_fetch(&lt_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *lt_flood(void *arg)
{
	int i;

	(void)arg;
	/* 3 MiB while the main loop does not look: the queue keeps its bound, the rest is counted */
	for (i = 0; i < 30000; i++)
		LOGP(DSTORE, LOGL_NOTICE, "flood %05d %0*d\n", i, 80, 0);
	return NULL;
}

/* A file target with a write queue (what `log file` or `log stderr` without blocking-io configure) while two
 * threads log 20,000 lines each and the main loop logs and polls: libosmocore 1.7 drains that queue on the main
 * loop only, so a thread's line written there itself raced it (a talloc pool and a list shared without a lock:
 * the gateway died under ASan in tests/smpp/disk_full.sh). Every line arrives once, whole, in each thread's order;
 * a flood past the bound is dropped, counted and told. */
static void test_log_threads(void **state)
{
	char path[] = "/tmp/uigw-logthr.XXXXXX";
	struct log_target *t;
	pthread_t th[LT_THREADS + 1];
	int fd, i, next[LT_THREADS] = { 0 }, main_lines = 0, n_main = 0, bad = 0;
	size_t queued;
	unsigned long dropped;
	char line[512];
	FILE *f;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	t = log_target_create_file(path);
	assert_non_null(t);
	log_set_print_filename2(t, LOG_FILENAME_NONE);
	log_set_print_category(t, 0);
	log_set_print_category_hex(t, 0);
	log_set_use_color(t, 0);
	log_set_print_level(t, 0);
	log_set_log_level(t, LOGL_NOTICE);
	log_add_target(t);
	assert_true(log_target_file_switch_to_wqueue(t) >= 0);
	assert_non_null(t->tgt_file.wqueue);
	assert_int_equal(uigw_log_threads_init(), 0);

	lt_done = 0;
	for (i = 0; i < LT_THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, lt_thread, (void *)(intptr_t)i), 0);
	while (__atomic_load_n(&lt_done, __ATOMIC_ACQUIRE) < LT_THREADS) {
		LOGP(DMAIN, LOGL_NOTICE, "main line %d\n", n_main++);
		osmo_select_main(1);
	}
	for (i = 0; i < LT_THREADS; i++)
		pthread_join(th[i], NULL);
	/* the main loop's turn: what waits is logged */
	osmo_select_main(1);
	uigw_log_threads_counts(&queued, &dropped);
	assert_int_equal(queued, 0);
	assert_int_equal(dropped, 0);

	/* a flood while the main loop does not poll */
	assert_int_equal(pthread_create(&th[LT_THREADS], NULL, lt_flood, NULL), 0);
	pthread_join(th[LT_THREADS], NULL);
	uigw_log_threads_counts(&queued, &dropped);
	assert_true(queued > 1000 && queued * 93 <= UIGW_LOG_THREAD_MAX_BYTES);
	assert_true(dropped > 0 && queued + dropped == 30000);
	uigw_log_threads_exit();
	uigw_log_threads_counts(&queued, &dropped);
	assert_int_equal(queued, 0);
	/* written out, and the target back to what the other tests expect */
	assert_int_equal(log_target_file_switch_to_stream(t), 0);
	log_target_destroy(t);	/* deletes it from the targets too */

	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		int a, b;

		if (sscanf(line, "thread %d line %d", &a, &b) == 2 && a >= 0 && a < LT_THREADS) {
			if (b != next[a])
				bad++;
			next[a] = b + 1;
		} else if (sscanf(line, "main line %d", &a) == 1) {
			if (a != main_lines)
				bad++;
			main_lines = a + 1;
		} else if (!strncmp(line, "flood ", 6)) {
			continue;
		} else if (strstr(line, "log lines of the store's threads dropped")) {
			assert_int_equal(strtoul(line, NULL, 10), dropped);
		} else {
			fprintf(stderr, "unexpected: %s", line);
			bad++;
		}
	}
	fclose(f);
	unlink(path);
	assert_int_equal(bad, 0);
	for (i = 0; i < LT_THREADS; i++)
		assert_int_equal(next[i], LT_LINES);
	assert_int_equal(main_lines, n_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fsm_timer_ms),
		cmocka_unit_test(test_clock),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_log_threads),
	};

	uigw_fx_process_init("common_test");
	OSMO_ASSERT(osmo_fsm_register(&t_fsm) == 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
