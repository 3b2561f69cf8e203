/*! \file schedule_test.c
 *  When pushes go out (core/schedule.c), on the fake clock: a push inside the subscriber's quiet hours is put off
 *  to the minute they end and sent then (also after a restart: the store keeps it), or refused where the action
 *  is refuse; the zone comes from the number, from where a roaming subscriber is, or the default; a campaign may
 *  have its own quiet hours or none; pacing spreads a batch; an erasure drops what waits. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/application.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/chan.h>
#include <osmocom/uigw/core/dialog.h>
#include <osmocom/uigw/core/campaign.h>
#include <osmocom/uigw/core/trigger.h>
#include <osmocom/uigw/core/schedule.h>
#include <osmocom/uigw/render/render.h>
#include <osmocom/uigw/store/store.h>
#include "common/fixture.h"

static struct uigw_fixture fx;
static struct uigw *gw;
static unsigned int n_push, n_sent;
static char last_to[32];

static int rec_send(struct uigw_dialog *dlg, const struct uigw_render_out *s, bool end)
{
	n_sent++;
	return 0;
}

static int rec_push(struct uigw_chan *ch, struct uigw_dialog *dlg, const struct uigw_trigger *t)
{
	n_push++;
	snprintf(last_to, sizeof(last_to), "%s", dlg->msisdn);
	return 0;
}

static const struct uigw_chan_ops rec_ops = {
	.channel = UIGW_CHAN_SMPP_SMS, .profile = &uigw_profile_sms, .deliver = rec_send, .push = rec_push,
};

/* 2023-11-14 22:13:20 UTC: 23:13 in Berlin, 17:13 in New York, 07:13 in Tokyo */
#define T0 1700000000LL

static const char *camp_notice =
	"name = \"notice\";\n"
	"channels = [ \"smpp-sms\" ];\n"
	"network_only = true;\n"
	"params = { day = \"today\"; };\n"
	"nodes = ( { id = \"main\"; type = \"info\"; text = \"Maintenance ${day}.\"; } );\n";
static const char *camp_strict =
	"name = \"strict\";\n"
	"channels = [ \"smpp-sms\" ];\n"
	"network_only = true;\n"
	"quiet_hours = { from = \"20:00\"; to = \"09:30\"; action = \"refuse\"; };\n"
	"nodes = ( { id = \"main\"; type = \"info\"; text = \"Strict.\"; } );\n";
static const char *camp_urgent =
	"name = \"urgent\";\n"
	"channels = [ \"smpp-sms\" ];\n"
	"network_only = true;\n"
	"quiet_hours = false;\n"
	"nodes = ( { id = \"main\"; type = \"info\"; text = \"Outage now.\"; } );\n";
static const char *camp_paced =
	"name = \"paced\";\n"
	"channels = [ \"smpp-sms\" ];\n"
	"network_only = true;\n"
	"quiet_hours = false;\n"
	"pacing = 10;\n"
	"nodes = ( { id = \"main\"; type = \"info\"; text = \"Offer.\"; } );\n";

static const char *camp_ask_roaming =
	"name = \"ask\";\n"
	"channels = [ \"smpp-sms\" ];\n"
	"network_only = true;\n"
	"quiet_hours = false;\n"
	"roaming = \"notice-only\";\n"
	"nodes = ( { id = \"q\"; type = \"rating\"; text = \"How was it?\"; } );\n";
static const char *camp_tell_roaming =
	"name = \"tell\";\n"
	"channels = [ \"smpp-sms\" ];\n"
	"network_only = true;\n"
	"quiet_hours = false;\n"
	"roaming = \"notice-only\";\n"
	"nodes = ( { id = \"main\"; type = \"info\"; text = \"Roaming prices have changed.\"; } );\n";
static const char *camp_home_only =
	"name = \"homeonly\";\n"
	"channels = [ \"smpp-sms\" ];\n"
	"network_only = true;\n"
	"quiet_hours = false;\n"
	"roaming = \"deny\";\n"
	"nodes = ( { id = \"main\"; type = \"info\"; text = \"At home.\"; } );\n";

static void start_gw(void)
{
	struct uigw_tz_rule *r;

	gw = uigw_fx_gw(&fx, true);
	assert_non_null(uigw_chan_register(gw, &rec_ops, NULL));
	assert_int_equal(uigw_chans_open(gw), 0);
	/* node uigw: quiet-hours 21:00 08:00, time-zone default Europe/Berlin, time-zone number 1 America/New_York,
	 * time-zone visited vpmn.jp Asia/Tokyo */
	gw->cfg.quiet_from = 21 * 60;
	gw->cfg.quiet_to = 8 * 60;
	gw->cfg.tz_default = talloc_strdup(gw, "Europe/Berlin");
	r = talloc_zero(gw, struct uigw_tz_rule);
	r->key = talloc_strdup(r, "1");
	r->zone = talloc_strdup(r, "America/New_York");
	llist_add_tail(&r->list, &gw->cfg.tz_rules);
	r = talloc_zero(gw, struct uigw_tz_rule);
	r->visited = true;
	r->key = talloc_strdup(r, "vpmn.jp");
	r->zone = talloc_strdup(r, "Asia/Tokyo");
	llist_add_tail(&r->list, &gw->cfg.tz_rules);
}

static int setup(void **state)
{
	uigw_fx_init(&fx, "schedule");
	uigw_fx_campaign(&fx, "notice.conf", camp_notice);
	uigw_fx_campaign(&fx, "strict.conf", camp_strict);
	uigw_fx_campaign(&fx, "urgent.conf", camp_urgent);
	uigw_fx_campaign(&fx, "paced.conf", camp_paced);
	uigw_fx_campaign(&fx, "ask.conf", camp_ask_roaming);
	uigw_fx_campaign(&fx, "tell.conf", camp_tell_roaming);
	uigw_fx_campaign(&fx, "homeonly.conf", camp_home_only);
	uigw_fx_clock_set(0);
	start_gw();
	n_push = n_sent = 0;
	return 0;
}

static int teardown(void **state)
{
	uigw_fx_teardown(&fx);
	gw = NULL;
	return 0;
}

static int trigger(const char *c, const char *msisdn, struct uigw_trigger_res *res)
{
	struct uigw_trigger t;
	char w[32] = "day=tomorrow";
	int rc;

	uigw_trigger_init(&t, c, msisdn);
	if (!strcmp(c, "notice"))
		assert_int_equal(uigw_trigger_add_arg(&t, w, false), 0);
	rc = uigw_trigger(gw, &t, res);
	uigw_fx_settle(gw);
	return rc;
}

static int64_t count_deferred(void)
{
	char path[160];
	sqlite3 *db;
	sqlite3_stmt *s;
	int64_t n;

	uigw_fx_settle(gw);
	snprintf(path, sizeof(path), "%s/test.db", fx.dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM deferred", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

static void test_quiet_hours_defer_then_send(void **state)
{
	struct uigw_trigger_res res;

	/* 23:13 in Berlin: put off to 08:00 Berlin = 07:00 UTC */
	assert_int_equal(trigger("notice", "+491720000001", &res), 0);
	assert_true(res.deferred);
	assert_string_equal(res.deferred_reason, "quiet_hours");
	assert_int_equal(res.deferred_until_ms, (T0 - 22 * 3600 - 13 * 60 - 20 + 31 * 3600) * 1000);
	assert_int_equal(n_push, 0);
	assert_int_equal(gw->n_deferred, 1);
	assert_int_equal(count_deferred(), 1);

	/* a second before: nothing; at 07:00 UTC: the push goes out, with its parameter, and leaves the store */
	uigw_fx_clock_advance(res.deferred_until_ms / 1000 - T0 - 1);
	assert_int_equal(n_push, 0);
	uigw_fx_clock_advance(2);
	uigw_fx_settle(gw);
	assert_int_equal(n_push, 1);
	assert_string_equal(last_to, "+491720000001");
	assert_int_equal(gw->n_deferred, 0);
	assert_int_equal(count_deferred(), 0);
}

static void test_zones(void **state)
{
	struct uigw_trigger_res res;
	struct uigw_begin b = { .channel = UIGW_CHAN_SMPP_SMS, .msisdn = "+491720000003", .text = "HELLO",
				.short_code = "1", .roaming = true, .visited = "vpmn.jp.example" };

	/* New York: 17:13, not quiet */
	assert_int_equal(trigger("notice", "+12125550100", &res), 0);
	assert_false(res.deferred);
	assert_int_equal(n_push, 1);
	/* a subscriber whose last dialog came from Tokyo (07:13): quiet until 08:00 Tokyo = 23:00 UTC */
	uigw_dialog_begin(gw, &b);
	uigw_fx_settle(gw);
	assert_int_equal(trigger("notice", "+491720000003", &res), 0);
	assert_true(res.deferred);
	assert_int_equal(res.deferred_until_ms, (T0 - 13 * 60 - 20 + 3600) * 1000);
}

static void test_campaign_quiet_hours(void **state)
{
	struct uigw_trigger_res res;

	/* its own hours, action refuse: nothing sent, nothing kept */
	assert_int_equal(trigger("strict", "+491720000004", &res), UIGW_REFUSAL_QUIET_HOURS);
	assert_false(res.deferred);
	assert_non_null(strstr(res.detail, "quiet_hours until 2023-11-15 08:30 UTC"));
	/* none at all: out at once, whatever the gateway's say */
	assert_int_equal(trigger("urgent", "+491720000004", &res), 0);
	assert_false(res.deferred);
	assert_int_equal(n_push, 1);
	assert_int_equal(gw->n_deferred, 0);
	/* the gateway's action refuse */
	gw->cfg.quiet_refuse = true;
	assert_int_equal(trigger("notice", "+491720000004", &res), UIGW_REFUSAL_QUIET_HOURS);
	assert_int_equal(gw->n_deferred, 0);
}

static void test_kept_over_a_restart(void **state)
{
	struct uigw_trigger_res res;

	assert_int_equal(trigger("notice", "+491720000005", &res), 0);
	assert_true(res.deferred);
	uigw_fx_settle(gw);
	uigw_free(gw);
	fx.gw = NULL;
	start_gw();
	assert_int_equal(gw->n_deferred, 1);
	uigw_fx_clock_advance(res.deferred_until_ms / 1000 - T0 + 1);
	uigw_fx_settle(gw);
	assert_int_equal(n_push, 1);
	assert_string_equal(last_to, "+491720000005");
	assert_int_equal(count_deferred(), 0);
}

static void test_pacing(void **state)
{
	struct uigw_trigger_res res;
	unsigned int i, deferred = 0;

	/* 25 at once at 10 per second: one now, the others 100 ms apart */
	for (i = 0; i < 25; i++) {
		char msisdn[20];

		snprintf(msisdn, sizeof(msisdn), "+4917200001%02u", i);
		assert_int_equal(trigger("paced", msisdn, &res), 0);
		deferred += res.deferred;
	}
	assert_int_equal(deferred, 24);
	assert_int_equal(n_push, 1);
	uigw_fx_clock_advance(1);
	assert_int_equal(n_push, 11);
	uigw_fx_clock_advance(1);
	assert_int_equal(n_push, 21);
	uigw_fx_clock_advance(1);
	assert_int_equal(n_push, 25);
	assert_int_equal(count_deferred(), 0);
}

static void test_erasure_drops(void **state)
{
	struct uigw_trigger_res res;

	assert_int_equal(trigger("notice", "+491720000006", &res), 0);
	assert_int_equal(trigger("notice", "+491720000007", &res), 0);
	assert_int_equal(uigw_defer_drop_subscriber(gw, "+491720000006"), 1);
	assert_int_equal(gw->n_deferred, 1);
	assert_int_equal(count_deferred(), 1);
	uigw_fx_clock_advance(9 * 3600);
	uigw_fx_settle(gw);
	assert_int_equal(n_push, 1);
	assert_string_equal(last_to, "+491720000007");
}

/* roaming = deny / notice-only, for pushes: a subscriber whose last dialog came from abroad */
static void test_roaming_policy(void **state)
{
	struct uigw_trigger_res res;
	struct uigw_begin b = { .channel = UIGW_CHAN_SMPP_SMS, .msisdn = "+491720000008", .text = "HELLO",
				.short_code = "1", .roaming = true, .visited = "vpmn.fr.example" };

	/* at home (nothing told): every one goes out */
	assert_int_equal(trigger("homeonly", "+491720000008", &res), 0);
	assert_int_equal(trigger("ask", "+491720000008", &res), 0);
	assert_int_equal(n_push, 2);
	uigw_dialog_begin(gw, &b);
	uigw_fx_settle(gw);
	/* abroad: deny refuses, notice-only refuses a question and sends a notice */
	assert_int_equal(trigger("homeonly", "+491720000008", &res), UIGW_REFUSAL_ROAMING);
	assert_non_null(strstr(res.detail, "vpmn.fr.example"));
	assert_int_equal(trigger("ask", "+491720000008", &res), UIGW_REFUSAL_ROAMING);
	assert_int_equal(trigger("tell", "+491720000008", &res), 0);
	assert_int_equal(n_push, 3);
	/* the gateway's default for campaigns that say nothing */
	gw->cfg.roaming_policy = UIGW_ROAM_DENY;
	assert_int_equal(trigger("urgent", "+491720000008", &res), UIGW_REFUSAL_ROAMING);
	gw->cfg.roaming_policy = UIGW_ROAM_ALLOW;
	assert_int_equal(trigger("urgent", "+491720000008", &res), 0);
	/* back home: their next dialog says so */
	b.roaming = false;
	b.visited = NULL;
	uigw_dialog_begin(gw, &b);
	uigw_fx_settle(gw);
	assert_int_equal(trigger("homeonly", "+491720000008", &res), 0);
}

/* The parameters' text form (deferred pushes, dialogs' states): each name=value on a line, %, =, CR and LF of a value
 * as %XX; decoded back to the same names and values. */
static void test_params_encoding(void **state)
{
	const char *names[] = { "caller", "note", "empty", "u" };
	const char *values[] = { "+4930123", "50% = half\r\nnext", NULL, "\xc3\xa4" };
	const char *dn[8], *dv[8];
	char *enc = uigw_params_encode(NULL, 4, names, values);
	unsigned int n, i;

	assert_non_null(enc);
	assert_string_equal(enc, "caller=+4930123\nnote=50%25 %3D half%0D%0Anext\nempty=\nu=\xc3\xa4\n");
	assert_int_equal(talloc_get_size(enc), strlen(enc) + 1);	/* one allocation of the exact size */
	n = uigw_params_decode(enc, 8, dn, dv);
	assert_int_equal(n, 4);
	for (i = 0; i < n; i++) {
		assert_string_equal(dn[i], names[i]);
		assert_string_equal(dv[i], values[i] ? values[i] : "");
	}
	talloc_free(enc);
	enc = uigw_params_encode(NULL, 0, names, values);
	assert_string_equal(enc, "");
	talloc_free(enc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_quiet_hours_defer_then_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zones, setup, teardown),
		cmocka_unit_test_setup_teardown(test_campaign_quiet_hours, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kept_over_a_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pacing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_erasure_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_roaming_policy, setup, teardown),
		cmocka_unit_test(test_params_encoding),
	};

	uigw_fx_process_init("schedule_test");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
