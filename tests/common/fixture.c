/*! \file fixture.c
 *  The shared fixture of the C unit tests (fixture.h). */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/application.h>
#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/store/store.h>
#include <osmocom/uigw/core/dialog.h>
#include "fixture.h"

void uigw_fx_process_init(const char *name)
{
	static struct vty_app_info info;
	void *ctx = talloc_named_const(NULL, 0, name);

	osmo_init_logging2(ctx, &uigw_log_info);
	log_set_print_filename2(osmo_stderr_target, LOG_FILENAME_NONE);
	log_set_log_level(osmo_stderr_target, LOGL_ERROR);
	info.name = name;
	info.tall_ctx = ctx;
	vty_init(&info);
}

void uigw_fx_init(struct uigw_fixture *fx, const char *name)
{
	char path[128];

	memset(fx, 0, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/uigw-%s-XXXXXX", name);
	assert_non_null(mkdtemp(fx->dir));
	snprintf(path, sizeof(path), "%s/campaigns", fx->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	fx->root = talloc_named_const(NULL, 0, name);
	assert_non_null(fx->root);
}

void uigw_fx_campaign(struct uigw_fixture *fx, const char *file, const char *text)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/campaigns/%s", fx->dir, file);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

struct uigw *uigw_fx_gw(struct uigw_fixture *fx, bool store)
{
	char path[160], err[512];
	struct uigw *gw = uigw_alloc(fx->root);

	assert_non_null(gw);
	snprintf(path, sizeof(path), "%s/campaigns", fx->dir);
	osmo_talloc_replace_string(gw, &gw->cfg.campaigns_dir, path);
	if (store) {
		snprintf(path, sizeof(path), "%s/test.db", fx->dir);
		osmo_talloc_replace_string(gw, (char **)&gw->store_cfg->path, path);
		gw->store_cfg->sync_full = false;
	} else {
		gw->store_cfg = NULL;	/* no store: dialogs run, nothing is written */
	}
	if (uigw_campaigns_reload(gw, err, sizeof(err)) < 0)
		fail_msg("campaigns: %s", err);
	assert_int_equal(uigw_start(gw), 0);
	fx->gw = gw;
	return gw;
}

void uigw_fx_settle(struct uigw *gw)
{
	/* what the event loop would do: the store's completions, and the screens held back in the outbox */
	do {
		uigw_dialog_outbox_run(gw);
		if (gw->store)
			uigw_store_drain(gw->store);
		uigw_dialog_outbox_run(gw);
	} while ((gw->store && uigw_store_queue_depth(gw->store)) || !llist_empty(&gw->outbox));
}

void uigw_fx_teardown(struct uigw_fixture *fx)
{
	char cmd[160];

	uigw_free(fx->gw);
	fx->gw = NULL;
	assert_int_equal(talloc_total_blocks(fx->root), 1);
	talloc_free(fx->root);
	fx->root = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	osmo_clock_override_enable(CLOCK_MONOTONIC, false);
	osmo_clock_override_enable(CLOCK_REALTIME, false);
	osmo_gettimeofday_override = false;
}

void uigw_fx_clock_set(long secs)
{
	struct timespec *ts;

	osmo_clock_override_enable(CLOCK_MONOTONIC, true);
	ts = osmo_clock_override_gettimespec(CLOCK_MONOTONIC);
	ts->tv_sec = secs;
	ts->tv_nsec = 0;
	/* the wall clock (times in the store, frequency caps) from 2023-11-14 on */
	osmo_clock_override_enable(CLOCK_REALTIME, true);
	ts = osmo_clock_override_gettimespec(CLOCK_REALTIME);
	ts->tv_sec = 1700000000 + secs;
	ts->tv_nsec = 0;
	osmo_gettimeofday_override = true;
	osmo_gettimeofday_override_time = (struct timeval){ .tv_sec = secs };
}

void uigw_fx_clock_advance(long secs)
{
	osmo_clock_override_add(CLOCK_MONOTONIC, secs, 0);
	osmo_clock_override_add(CLOCK_REALTIME, secs, 0);
	osmo_gettimeofday_override_add(secs, 0);
	osmo_timers_prepare();
	osmo_timers_update();
}

size_t uigw_fx_unhex(const char *s, uint8_t *out, size_t size)
{
	size_t n = 0;
	unsigned int v;

	while (*s) {
		if (*s == ' ' || *s == '\n') {
			s++;
			continue;
		}
		if (*s == '"') {
			for (s++; *s && *s != '"'; s++) {
				assert_true(n < size);
				if (s[0] == '\\' && s[1] == '0') {
					out[n++] = 0;
					s++;
				} else {
					out[n++] = *s;
				}
			}
			assert_int_equal(*s, '"');
			s++;
			continue;
		}
		assert_int_equal(sscanf(s, "%2x", &v), 1);
		assert_true(n < size);
		out[n++] = v;
		s += 2;
	}
	return n;
}

void uigw_fx_assert_bytes(const uint8_t *got, long got_len, const char *hex)
{
	uint8_t want[2048];
	size_t n = uigw_fx_unhex(hex, want, sizeof(want));

	assert_int_equal(got_len, n);
	assert_memory_equal(got, want, n);
}
