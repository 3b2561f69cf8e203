/* cmocka tests of the common layer's helpers: the fake clock through common/clock.h, the hash, and the
 * millisecond FSM timer that works around libosmocore 1.7.0 (which drops the sub-second part). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fsm_timer_ms),
		cmocka_unit_test(test_clock),
		cmocka_unit_test(test_hash),
	};

	uigw_fx_process_init("common_test");
	OSMO_ASSERT(osmo_fsm_register(&t_fsm) == 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
