/*! \file fixture.h
 *  What the C unit tests share (tests/common/): a temporary folder, campaign files written into it, a gateway
 *  over them with or without a store, the fake clock, and a clean teardown that checks talloc. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

struct uigw;

struct uigw_fixture {
	char dir[64];		/*!< the temporary folder; campaigns/ inside */
	void *root;		/*!< talloc parent of the gateway: empty again after uigw_fx_teardown() */
	struct uigw *gw;
};

/*! Once per test program that runs channel adapters: logging (errors only, no file names) and the VTY, in which
 *  the adapters install their nodes. */
void uigw_fx_process_init(const char *name);

/*! A temporary folder /tmp/uigw-NAME-XXXXXX with an empty campaigns/ inside; asserts on failure. */
void uigw_fx_init(struct uigw_fixture *fx, const char *name);
/*! Write campaigns/FILE with TEXT. */
void uigw_fx_campaign(struct uigw_fixture *fx, const char *file, const char *text);
/*! A gateway over the campaigns folder (loaded) and, with \a store, a store in DIR/test.db (synchronous
 *  normal: the tests check behaviour, not durability); started. */
struct uigw *uigw_fx_gw(struct uigw_fixture *fx, bool store);
/*! Free the gateway, assert that nothing is left under root, remove the folder, stop the fake clock. */
void uigw_fx_teardown(struct uigw_fixture *fx);
/*! Let the store commit everything queued, run the completions and deliver what the outbox holds back. */
void uigw_fx_settle(struct uigw *gw);

/*! The fake clock: libosmocore's overrides of CLOCK_MONOTONIC and CLOCK_REALTIME (common/clock.h; the wall
 *  clock starts at 1700000000 + secs) and of osmo_gettimeofday() (libosmocore 1.7's timers), set and advanced
 *  together; advancing runs due timers. */
void uigw_fx_clock_set(long secs);
void uigw_fx_clock_advance(long secs);

/*! Hex with optional spaces and "quoted strings" (copied as they are; "\0" is a NUL) -> bytes; a malformed
 *  string or one longer than size fails the test. \returns the number of bytes */
size_t uigw_fx_unhex(const char *hex, uint8_t *out, size_t size);
/*! Fail the test unless got[0..got_len) are the bytes that hex (as uigw_fx_unhex) describes. */
void uigw_fx_assert_bytes(const uint8_t *got, long got_len, const char *hex);
