/*! \file clock.h
 *  The one clock helper: every module reads time through these, so that tests can drive it with
 *  libosmocore's osmo_clock_override_*() (a fake clock) for both clocks. */
#pragma once

#include <stdint.h>
#include <time.h>
#include <osmocom/core/timer_compat.h>
#include <osmocom/core/timer.h>

/*! Milliseconds of the wall clock (CLOCK_REALTIME): times written to the store. */
static inline int64_t uigw_wall_ms(void)
{
	struct timespec ts;

	osmo_clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*! Wall-clock milliseconds \a ms as UTC in strftime() format \a fmt, into \a buf. \returns buf */
static inline const char *uigw_utc_str(char *buf, size_t len, int64_t ms, const char *fmt)
{
	time_t t = ms / 1000;
	struct tm tm;

	gmtime_r(&t, &tm);
	if (!strftime(buf, len, fmt, &tm) && len)
		buf[0] = '\0';
	return buf;
}

/*! Milliseconds of the monotonic clock: timeouts, rates, expiry. */
static inline int64_t uigw_mono_ms(void)
{
	struct timespec ts;

	osmo_clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*! Microseconds of the monotonic clock: commit intervals, latencies. */
static inline int64_t uigw_mono_us(void)
{
	struct timespec ts;

	osmo_clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*! Microseconds of the real monotonic clock, never the tests' fake one: measures of the machine (loop lag, the
 *  store's delay, checkpoints, a failing disk's backoff), which a fake clock's jumps would falsify. */
static inline int64_t uigw_real_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*! Seconds of the monotonic clock. */
static inline int64_t uigw_mono_s(void)
{
	struct timespec ts;

	osmo_clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}
