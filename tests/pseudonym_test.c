/*! \file pseudonym_test.c
 *  The pseudonym key (core/pseudonym.c): made at the first start beside the database with mode 0600, the same
 *  at every later start, refused when others may read it or it is not a key; a configured secret wins; without a
 *  store a key for the run. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/application.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/pseudonym.h>
#include <osmocom/uigw/store/store.h>
#include "common/fixture.h"

static struct uigw_fixture fx;

static int setup(void **state)
{
	uigw_fx_init(&fx, "pseudonym");
	return 0;
}

static int teardown(void **state)
{
	uigw_fx_teardown(&fx);
	return 0;
}

static void key_path(char *buf, size_t len)
{
	snprintf(buf, len, "%s/test.db.key", fx.dir);
}

static bool is_hex(const char *s, size_t len)
{
	return strlen(s) == len && strspn(s, "0123456789abcdef") == len;
}

static void test_key_made_then_kept(void **state)
{
	char path[160], buf[128], first[65], p1[33], p2[33];
	struct stat st;
	struct uigw *gw;
	FILE *f;

	gw = uigw_fx_gw(&fx, true);
	assert_null(gw->cfg.pseudonym_secret);
	assert_non_null(gw->pseudonym_key);
	assert_true(is_hex(gw->pseudonym_key, 64));
	key_path(path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_int_equal(strlen(buf), 65);
	assert_int_equal(buf[64], '\n');
	buf[64] = '\0';
	assert_string_equal(buf, gw->pseudonym_key);
	memcpy(first, buf, sizeof(first));
	uigw_pseudonym(gw->pseudonym_key, "+491720000001", p1);

	/* the next start reads it: the same subscriber, the same pseudonym */
	uigw_free(gw);
	fx.gw = NULL;
	gw = uigw_fx_gw(&fx, true);
	assert_string_equal(gw->pseudonym_key, first);
	uigw_pseudonym(gw->pseudonym_key, "+491720000001", p2);
	assert_string_equal(p1, p2);
}

static void start_fails(int want)
{
	char path[160];
	struct uigw *gw = uigw_alloc(fx.root);

	assert_non_null(gw);
	snprintf(path, sizeof(path), "%s/campaigns", fx.dir);
	osmo_talloc_replace_string(gw, &gw->cfg.campaigns_dir, path);
	snprintf(path, sizeof(path), "%s/test.db", fx.dir);
	osmo_talloc_replace_string(gw, (char **)&gw->store_cfg->path, path);
	assert_int_equal(uigw_start(gw), want);
	assert_null(gw->store);
	uigw_free(gw);
}

static void test_key_refused(void **state)
{
	char path[160];
	FILE *f;

	/* readable by others: the key of every pseudonym is exposed, the gateway does not start */
	key_path(path, sizeof(path));
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", f);
	fclose(f);
	assert_int_equal(chmod(path, 0644), 0);
	start_fails(-EPERM);

	/* not a key (a truncated or edited file) */
	assert_int_equal(chmod(path, 0600), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("change-me\n", f);
	fclose(f);
	start_fails(-EINVAL);

	/* a valid one is taken as it is */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", f);
	fclose(f);
	assert_string_equal(uigw_fx_gw(&fx, true)->pseudonym_key,
			    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
}

static void test_configured_secret_and_no_store(void **state)
{
	char path[160], p[33], q[33];
	struct uigw *gw = uigw_alloc(fx.root);
	struct uigw *gw2;

	/* a configured secret: used as it is, no key file made */
	assert_non_null(gw);
	snprintf(path, sizeof(path), "%s/campaigns", fx.dir);
	osmo_talloc_replace_string(gw, &gw->cfg.campaigns_dir, path);
	snprintf(path, sizeof(path), "%s/test.db", fx.dir);
	osmo_talloc_replace_string(gw, (char **)&gw->store_cfg->path, path);
	osmo_talloc_replace_string(gw, &gw->cfg.pseudonym_secret, "an operator's own secret");
	assert_int_equal(uigw_start(gw), 0);
	assert_string_equal(gw->pseudonym_key, "an operator's own secret");
	key_path(path, sizeof(path));
	assert_int_equal(access(path, F_OK), -1);
	/* the VTY replaces it at run time */
	uigw_pseudonym(gw->pseudonym_key, "+491720000001", p);
	uigw_pseudonym_key_set(gw, "another secret of the operator");
	uigw_pseudonym(gw->pseudonym_key, "+491720000001", q);
	assert_string_not_equal(p, q);
	uigw_free(gw);

	/* no store: a random key for the run, different each time */
	gw = uigw_fx_gw(&fx, false);
	assert_true(is_hex(gw->pseudonym_key, 64));
	gw2 = uigw_alloc(fx.root);
	gw2->store_cfg = NULL;
	snprintf(path, sizeof(path), "%s/campaigns", fx.dir);
	osmo_talloc_replace_string(gw2, &gw2->cfg.campaigns_dir, path);
	assert_int_equal(uigw_start(gw2), 0);
	assert_true(is_hex(gw2->pseudonym_key, 64));
	assert_string_not_equal(gw->pseudonym_key, gw2->pseudonym_key);
	uigw_free(gw2);
	key_path(path, sizeof(path));
	assert_int_equal(access(path, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_key_made_then_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_configured_secret_and_no_store, setup, teardown),
	};
	void *log_ctx = talloc_named_const(NULL, 0, "log");

	osmo_init_logging2(log_ctx, &uigw_log_info);
	log_set_print_filename2(osmo_stderr_target, LOG_FILENAME_NONE);
	log_set_log_level(osmo_stderr_target, LOGL_FATAL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
