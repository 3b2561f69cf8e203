/* cmocka tests of the dialog engine (src/core/dialog.c, src/core/dialog_text.c, src/core/gw.c) with a recording channel, real
 * campaigns parsed from text and a real SQLite store in a temporary folder. Time is faked with
 * osmo_clock_override. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <errno.h>
#include <cmocka.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/application.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/core/dialog.h>
#include <osmocom/uigw/core/campaign.h>
#include <osmocom/uigw/store/store.h>
#include <osmocom/uigw/core/pseudonym.h>
#include <osmocom/uigw/core/trigger.h>
#include <osmocom/uigw/core/extapp.h>
#include <osmocom/uigw/core/chan.h>
#include "common/fixture.h"

/* ------------------------------------------------------------------------------------------------------------ */
/* the recording channel */

struct rec {
	char text[4096];	/* last screen */
	bool end;
	unsigned int n_sent;
	unsigned int n_release;
	enum uigw_outcome released;
	enum uigw_refusal refusal;
	enum uigw_coding coding;
	unsigned int page, n_pages;
	struct uigw_dialog *dlg;	/* running dialog, NULL once ended */
};
static struct rec rec;

static int rec_send(struct uigw_dialog *dlg, const struct uigw_render_out *s, bool end)
{
	/* the core never calls a channel while that channel is inside a call into the core */
	assert_int_equal(dlg->gw->chan_depth, 0);
	snprintf(rec.text, sizeof(rec.text), "%s", s->text);
	rec.end = end;
	rec.n_sent++;
	rec.refusal = dlg->refusal;
	rec.coding = s->coding;
	rec.page = s->page;
	rec.n_pages = s->n_pages;
	rec.dlg = end ? NULL : dlg;
	return 0;
}

static void rec_release(struct uigw_dialog *dlg, enum uigw_outcome outcome)
{
	assert_int_equal(dlg->gw->chan_depth, 0);
	rec.n_release++;
	rec.released = outcome;
	rec.dlg = NULL;
}

/* what the recording channels answer to the core's questions */
static enum uigw_reach reach_ussd = UIGW_REACH_UP, reach_sms = UIGW_REACH_UP, reach_ims = UIGW_REACH_UP;
static unsigned int n_push;
static int push_rc;

static int rec_push(struct uigw_chan *ch, struct uigw_dialog *dlg, const struct uigw_trigger *t)
{
	n_push++;
	return push_rc;
}

static enum uigw_reach rec_reach(struct uigw_chan *ch, const char *msisdn)
{
	switch (ch->ops->channel) {
	case UIGW_CHAN_SMPP_SMS:
		return reach_sms;
	case UIGW_CHAN_IMS_MSG:
		return reach_ims;
	default:
		return reach_ussd;
	}
}

static const struct uigw_chan_ops rec_ops_ussd = {
	.channel = UIGW_CHAN_SMPP_USSD, .profile = &uigw_profile_ussd, .deliver = rec_send, .end = rec_release,
	.push = rec_push, .reach = rec_reach,
};
static const struct uigw_chan_ops rec_ops_sms = {
	.channel = UIGW_CHAN_SMPP_SMS, .profile = &uigw_profile_sms, .deliver = rec_send, .end = rec_release,
	.push = rec_push, .reach = rec_reach,
};
static const struct uigw_chan_ops rec_ops_ims = {
	.channel = UIGW_CHAN_IMS_MSG, .profile = &uigw_profile_ims, .deliver = rec_send, .end = rec_release,
	.push = rec_push, .reach = rec_reach,
};
/* a channel without push (as gsup) */
static const struct uigw_chan_ops rec_ops_nopush = {
	.channel = UIGW_CHAN_GSUP, .profile = &uigw_profile_ussd, .deliver = rec_send, .end = rec_release,
	.no_push_why = "not here",
};


/* ------------------------------------------------------------------------------------------------------------ */
/* fixture: a gateway with campaigns written to a temp folder and a store */

static struct uigw_fixture fx;
#define root (fx.root)
static struct uigw *gw;

static const char *camp_spam =
	"name = \"spam\";\n"
	"channels = [ \"gsup\", \"smpp-ussd\", \"smpp-sms\" ];\n"
	"languages = [\"en\", \"de\"];\n"
	"entry = { ussd = [\"*7726#\"]; sms = ( { short_code = \"7726\"; keywords = [\"SPAM\"]; } ); };\n"
	"nodes = (\n"
	" { id = \"main\"; type = \"menu\"; text = { en = \"Spam report\"; de = \"Spam melden\"; };\n"
	"   options = ( { key = \"1\"; label = \"Report a number\"; next = \"number\"; },\n"
	"               { key = \"2\"; label = \"Check a number\"; next = \"check\"; } ); },\n"
	" { id = \"number\"; type = \"number\"; text = \"Number that called you?\"; var = \"reported\";"
	"   next = \"confirm\"; },\n"
	" { id = \"confirm\"; type = \"yesno\"; text = \"Report ${reported}? Reported by ${spam_reports(reported)}.\";\n"
	"   yes = \"done\"; no = \"main\"; record = false; },\n"
	" { id = \"done\"; type = \"info\"; text = \"Thanks. ${reported}: ${spam_reports(reported)} reports.\";\n"
	"   actions = ( { type = \"spam_report\"; number = \"${reported}\"; } ); },\n"
	" { id = \"check\"; type = \"number\"; text = \"Which number?\"; var = \"checked\"; next = \"result\"; },\n"
	" { id = \"result\"; type = \"info\"; text = \"${checked}: ${spam_reports(checked)} reports.\"; }\n"
	");\n";

static const char *camp_kinds =
	"name = \"kinds\";\n"
	"entry = { ussd = [\"*100#\"]; };\n"
	"params = { app = \"app1\"; content = \"vid1\"; };\n"
	"nodes = (\n"
	" { id = \"c\"; type = \"choice\"; text = \"Pick\"; question = \"colour\";\n"
	"   options = ( { key = \"1\"; label = \"Red\"; value = \"red\"; }, { key = \"2\"; label = \"Blue\"; value = \"blue\"; } );\n"
	"   next = \"r\"; },\n"
	" { id = \"r\"; type = \"rating\"; text = \"Rate\"; scale = 5; next = \"rl\";\n"
	"   actions = ( { type = \"app_rating\"; app = \"${app}\"; value = \"${r}\"; } ); },\n"
	" { id = \"rl\"; type = \"rating\"; text = \"Again\"; scale = 3; labels = [\"Bad\", \"OK\", \"Good\"]; next = \"t\"; },\n"
	" { id = \"t\"; type = \"text\"; text = \"Comment?\"; max_len = 10; next = \"m\"; },\n"
	" { id = \"m\"; type = \"menu\"; text = \"React\";\n"
	"   options = ( { key = \"1\"; label = \"Like\"; next = \"i\";"
	"                 actions = ( { type = \"reaction\"; reaction = \"like\"; content = \"${content}\"; } ); },\n"
	"               { key = \"2\"; label = \"Flag\"; next = \"i\";"
	"                 actions = ( { type = \"flag\"; content = \"${content}\"; reason = \"abuse\"; } ); },\n"
	"               { key = \"3\"; label = \"Offer\"; next = \"i\";"
	"                 actions = ( { type = \"offer\"; service = \"sum\"; uri = \"https://x.example/s\";"
	"                               text = \"Try it:\"; } ); },\n"
	"               { key = \"4\"; label = \"Survey\"; actions = ( { type = \"jump\"; campaign = \"yn\"; } ); },\n"
	"               { key = \"5\"; label = \"Stop\"; next = \"i\"; actions = ( { type = \"optout\"; } ); } ); },\n"
	" { id = \"i\"; type = \"info\"; text = \"Likes ${likes(content)} flags ${flags(content)} app ${app_rating(app)}\"; }\n"
	");\n";

static const char *camp_yn =
	"name = \"yn\";\n"
	"entry = { ussd = [\"*101#\"]; sms = ( { short_code = \"7730\"; keywords = [\"YN\"]; } ); };\n"
	"params = { caller = \"nobody\"; };\n"
	"nodes = (\n"
	" { id = \"q\"; type = \"yesno\"; text = \"Call from ${caller} ok?\"; question = \"ok\"; next = \"end\";\n"
	"   actions = ( { type = \"record\"; question = \"extra\"; value = \"${answer}-x\"; } ); },\n"
	" { id = \"end\"; type = \"info\"; text = \"Answers so far: ${answers(\\\"ok\\\")}, avg ${average(\\\"r\\\")}\"; }\n"
	");\n";

static void write_file(const char *name, const char *text)
{
	uigw_fx_campaign(&fx, name, text);
}

static void make_long_menu(char *buf, size_t len)
{
	size_t n;
	int i;

	n = snprintf(buf, len, "name = \"long\";\nentry = { ussd = [\"*102#\"]; };\nnodes = (\n"
		     " { id = \"m\"; type = \"menu\"; text = \"Pick one of many\"; next = \"e\"; options = (\n");
	for (i = 1; i <= 25; i++)
		n += snprintf(buf + n, len - n, "  { key = \"%d\"; label = \"Option number %d with a long label\"; }%s\n",
			      i, i, i < 25 ? "," : "");
	snprintf(buf + n, len - n, " ); },\n { id = \"e\"; type = \"info\"; text = \"Done ${m}\"; }\n);\n");
}

static int setup(void **state)
{
	char longmenu[8192];

	memset(&rec, 0, sizeof(rec));
	uigw_fx_init(&fx, "dialog");
	write_file("spam.conf", camp_spam);
	write_file("kinds.conf", camp_kinds);
	write_file("yn.conf", camp_yn);
	make_long_menu(longmenu, sizeof(longmenu));
	write_file("long.conf", longmenu);
	gw = uigw_fx_gw(&fx, true);
	assert_non_null(uigw_chan_register(gw, &rec_ops_ussd, NULL));
	assert_non_null(uigw_chan_register(gw, &rec_ops_sms, NULL));
	assert_non_null(uigw_chan_register(gw, &rec_ops_ims, NULL));
	assert_non_null(uigw_chan_register(gw, &rec_ops_nopush, NULL));
	assert_int_equal(uigw_chans_open(gw), 0);
	reach_ussd = reach_sms = reach_ims = UIGW_REACH_UP;
	n_push = 0;
	push_rc = 0;
	return 0;
}

static int teardown(void **state)
{
	uigw_fx_teardown(&fx);
	gw = NULL;
	return 0;
}

static void clock_set(long secs)
{
	uigw_fx_clock_set(secs);
}

static void clock_advance(long secs)
{
	uigw_fx_clock_advance(secs);
}

static void settle(void)
{
	uigw_fx_settle(gw);
}

static int trigger(const char *c, const char *msisdn, int via, const char *p1, const char *p2,
		   struct uigw_trigger_res *res)
{
	struct uigw_trigger t;
	char w1[64], w2[64];
	int rc;

	uigw_trigger_init(&t, c, msisdn);
	t.via = via;
	if (p1) {
		snprintf(w1, sizeof(w1), "%s", p1);
		assert_int_equal(uigw_trigger_add_arg(&t, w1, false), 0);
	}
	if (p2) {
		snprintf(w2, sizeof(w2), "%s", p2);
		assert_int_equal(uigw_trigger_add_arg(&t, w2, false), 0);
	}
	rc = uigw_trigger(gw, &t, res);
	settle();
	return rc;
}

static struct uigw_dialog *dial(const char *msisdn, const char *code)
{
	struct uigw_begin b = { .channel = UIGW_CHAN_GSUP, .msisdn = msisdn, .text = code };
	struct uigw_dialog *dlg = uigw_dialog_begin(gw, &b);

	settle();
	return dlg ? rec.dlg : NULL;
}

static void input(const char *text)
{
	assert_non_null(rec.dlg);
	assert_int_equal(uigw_dialog_input(rec.dlg, text), 0);
	settle();
}

static int64_t query(enum uigw_query q, const char *campaign, const char *arg, double *val)
{
	struct uigw_store_query sq = { .query = q, .campaign = campaign, .arg = arg };

	assert_int_equal(uigw_store_query_sync(gw->store, &sq), 0);
	if (val)
		*val = sq.value;
	return sq.count;
}

/* ------------------------------------------------------------------------------------------------------------ */

static void test_spam_report_flow(void **state)
{
	/* first reporter */
	assert_non_null(dial("+491720000001", "*7726#"));
	assert_string_equal(rec.text, "Spam report\n1. Report a number\n2. Check a number");
	assert_false(rec.end);
	assert_int_equal(rec.coding, UIGW_CODING_GSM7);
	input("1");
	assert_string_equal(rec.text, "Number that called you?\n0. Back");
	input("030 1234567");
	assert_string_equal(rec.text, "Report +49301234567? Reported by 0.\n1. Yes\n2. No\n0. Back");
	input("1");
	assert_true(rec.end);
	assert_string_equal(rec.text, "Thanks. +49301234567: 1 reports.");
	assert_int_equal(gw->n_dialogs, 0);

	/* second reporter sees the first report, and his own after the commit */
	dial("+491720000002", "*7726*1#");	/* direct-dial shortcut to option 1 */
	assert_string_equal(rec.text, "Number that called you?\n0. Back");
	input("+49301234567");
	assert_string_equal(rec.text, "Report +49301234567? Reported by 1.\n1. Yes\n2. No\n0. Back");
	input("yes");
	assert_string_equal(rec.text, "Thanks. +49301234567: 2 reports.");

	/* the same reporter again within the window does not count twice */
	dial("+491720000002", "*7726*1*+49301234567*1#");
	assert_true(rec.end);
	assert_string_equal(rec.text, "Thanks. +49301234567: 2 reports.");
	assert_int_equal(query(UIGW_Q_SPAM_REPORTS, "spam", "+49301234567", NULL), 2);

	/* check path; German */
	{
		struct uigw_begin b = { .channel = UIGW_CHAN_GSUP, .msisdn = "+491720000003", .text = "*7726*2#",
					.language = "de" };
		uigw_dialog_begin(gw, &b);
		settle();
	}
	assert_string_equal(rec.text, "Which number?\n0. Back");
	input("+49301234567");
	assert_true(rec.end);
	assert_string_equal(rec.text, "+49301234567: 2 reports.");
}

static void test_node_kinds_and_actions(void **state)
{
	double avg;

	dial("+491720000010", "*100#");
	assert_string_equal(rec.text, "Pick\n1. Red\n2. Blue");
	input("3");
	assert_string_equal(rec.text, "Invalid choice.\nPick\n1. Red\n2. Blue");
	input("blue");	/* label, case-insensitive */
	assert_string_equal(rec.text, "Rate\n0. Back");
	input("6");
	assert_string_equal(rec.text, "Please answer 1-5.\nRate\n0. Back");
	input("4");
	assert_string_equal(rec.text, "Again\n1. Bad\n2. OK\n3. Good\n0. Back");
	input("good");	/* a scale label, case-insensitive */
	assert_string_equal(rec.text, "Comment?\n0. Back");
	input("far too long text");
	assert_string_equal(rec.text, "Too long: at most 10 characters.\nComment?\n0. Back");
	input("nice");
	assert_string_equal(rec.text, "React\n1. Like\n2. Flag\n3. Offer\n4. Survey\n5. Stop\n0. Back");
	input("1");
	assert_true(rec.end);
	assert_string_equal(rec.text, "Likes 1 flags 0 app 4.0");

	/* flag, offer and the app rating average over two subscribers */
	dial("+491720000011", "*100*1*2*3*ok*2#");
	assert_string_equal(rec.text, "Likes 1 flags 1 app 3.0");
	dial("+491720000012", "*100*1*5*3*ok*3#");
	assert_string_equal(rec.text, "Try it: https://x.example/s\nLikes 1 flags 1 app 3.7");
	assert_int_equal(query(UIGW_Q_APP_RATINGS, "kinds", "app1", &avg), 3);
	assert_int_equal(query(UIGW_Q_ANSWERS, "kinds", "colour", NULL), 3);
	assert_int_equal(query(UIGW_Q_ANSWERS, "kinds", "t", NULL), 3);
	assert_int_equal(query(UIGW_Q_AVERAGE, "kinds", "rl", &avg), 3);
	assert_true(avg > 2.99 && avg < 3.01);

	/* opt-out action */
	dial("+491720000013", "*100*1*5*3*ok*5#");
	assert_true(rec.end);
	{
		char pseud[33];
		uigw_pseudonym(gw->pseudonym_key, "+491720000013", pseud);
		assert_int_equal(uigw_store_is_opted_out(gw->store, pseud), 1);
		uigw_pseudonym(gw->pseudonym_key, "+491720000012", pseud);
		assert_int_equal(uigw_store_is_opted_out(gw->store, pseud), 0);
	}
	{
		/* the network may not start anything for that subscriber any more; others are unaffected */
		struct uigw_trigger_res res;
		unsigned int sent = rec.n_sent;
		assert_int_equal(trigger("yn", "+491720000013", UIGW_CHAN_SMPP_USSD, NULL, NULL, &res),
				 UIGW_REFUSAL_OPTED_OUT);
		assert_int_equal(res.refusal, UIGW_REFUSAL_OPTED_OUT);
		assert_int_equal(rec.n_sent, sent);
		assert_int_equal(gw->n_dialogs, 0);
		assert_int_equal(trigger("yn", "+491720000012", UIGW_CHAN_SMPP_USSD, NULL, NULL, &res), 0);
		assert_int_equal(rec.n_sent, sent + 1);
		uigw_dialog_abort(rec.dlg, UIGW_OUTCOME_ABANDONED);
	}

	/* jump into another campaign, record action, answers() and average() of questions */
	dial("+491720000014", "*100*1*5*3*ok*4#");
	assert_string_equal(rec.text, "Call from nobody ok?\n1. Yes\n2. No");
	input("2");
	assert_true(rec.end);
	assert_string_equal(rec.text, "Answers so far: 1, avg -");
	assert_int_equal(query(UIGW_Q_ANSWERS, "yn", "extra", NULL), 1);
}

static void test_back_home_and_paging(void **state)
{
	dial("+491720000020", "*7726#");
	input("1");
	input("0");	/* back */
	assert_string_equal(rec.text, "Spam report\n1. Report a number\n2. Check a number");
	input("2");
	input("#");	/* home */
	assert_string_equal(rec.text, "Spam report\n1. Report a number\n2. Check a number");
	uigw_dialog_abort(rec.dlg, UIGW_OUTCOME_ABANDONED);

	dial("+491720000021", "*102#");
	assert_int_equal(rec.page, 0);
	assert_true(rec.n_pages > 1);
	assert_non_null(strstr(rec.text, "1. Option number 1 "));
	assert_non_null(strstr(rec.text, "\n00. More"));
	{
		unsigned int pages = rec.n_pages, i;
		for (i = 1; i < pages; i++) {
			input("00");
			assert_int_equal(rec.page, i);
		}
		assert_non_null(strstr(rec.text, "25. Option number 25 "));
		assert_null(strstr(rec.text, "00. More"));
	}
	input("25");
	assert_true(rec.end);
	assert_string_equal(rec.text, "Done 25");
}

struct fb {
	int n;
	char value[16];
};

static void fb_cb(const char *q, const char *ch, const char *value, int64_t count, void *data)
{
	struct fb *x = data;

	if (!strcmp(q, "colour")) {
		x->n += count;
		snprintf(x->value, sizeof(x->value), "%s", value);
	}
}

static void test_back_changes_the_answer(void **state)
{
	dial("+491720000025", "*100#");
	input("1");
	input("0");	/* back to the choice */
	input("2");	/* changes red to blue */
	uigw_dialog_abort(rec.dlg, UIGW_OUTCOME_ABANDONED);
	settle();
	assert_int_equal(query(UIGW_Q_ANSWERS, "kinds", "colour", NULL), 1);
	{
		struct fb f = { 0 };
		assert_int_equal(uigw_store_feedback(gw->store, "kinds", fb_cb, &f), 0);
		assert_int_equal(f.n, 1);
		assert_string_equal(f.value, "blue");
	}
}

static void test_invalid_retries_end(void **state)
{
	struct rate_ctr *ctr = rate_ctr_group_get_ctr(gw->ctrs, UIGW_CTR_DLG_REJECTED);
	uint64_t before = ctr->current;

	dial("+491720000030", "*7726#");
	input("9");
	input("9");
	assert_false(rec.end);
	input("9");
	assert_true(rec.end);
	assert_string_equal(rec.text, "Too many invalid answers. Goodbye.");
	assert_int_equal(ctr->current, before + 1);
	assert_int_equal(gw->n_dialogs, 0);
}

static void test_timeout_and_resume(void **state)
{
	struct uigw_dialog *dlg;

	clock_set(1000);
	dlg = dial("+491720000040", "*7726#");
	assert_non_null(dlg);
	input("1");
	/* 59 s: still waiting */
	clock_advance(59);
	assert_int_equal(rec.n_release, 0);
	/* 61 s: timed out (X1 = 60 s) */
	clock_advance(2);
	assert_int_equal(rec.n_release, 1);
	assert_int_equal(rec.released, UIGW_OUTCOME_TIMED_OUT);
	assert_int_equal(gw->n_dialogs, 0);
	settle();

	/* dialing again within the resume window continues at the number prompt */
	dial("+491720000040", "*7726#");
	assert_string_equal(rec.text, "Welcome back.\nNumber that called you?\n0. Back");
	input("0");
	assert_string_equal(rec.text, "Spam report\n1. Report a number\n2. Check a number");
	/* cut off by the network, then after the window: a fresh start */
	uigw_dialog_abort(rec.dlg, UIGW_OUTCOME_ABANDONED);
	clock_advance(121);
	dial("+491720000040", "*7726#");
	assert_string_equal(rec.text, "Spam report\n1. Report a number\n2. Check a number");
	uigw_dialog_abort(rec.dlg, UIGW_OUTCOME_ABANDONED);

	/* a shortcut never resumes */
	dial("+491720000041", "*7726#");
	input("1");
	uigw_dialog_abort(rec.dlg, UIGW_OUTCOME_ABANDONED);
	dial("+491720000041", "*7726*2#");
	assert_string_equal(rec.text, "Which number?\n0. Back");
	uigw_dialog_abort(rec.dlg, UIGW_OUTCOME_ABANDONED);
}

static void test_sms_timer(void **state)
{
	struct uigw_begin b = { .channel = UIGW_CHAN_SMPP_SMS, .msisdn = "+491720000050", .text = "spam",
				.short_code = "7726" };

	clock_set(5000);
	assert_non_null(uigw_dialog_begin(gw, &b));
	settle();
	assert_string_equal(rec.text, "Spam report\n1. Report a number\n2. Check a number");
	clock_advance(3599);
	assert_int_equal(rec.n_release, 0);
	clock_advance(2);
	assert_int_equal(rec.n_release, 1);
	assert_int_equal(rec.released, UIGW_OUTCOME_TIMED_OUT);
}

/* The dialog tables grow with the dialogs and shrink after them (dialog.c): every dialog found by subscriber and
 * by id at each size, none after they ended. */
static void test_dialog_tables(void **state)
{
	enum { N = 20000 };
	struct uigw_dialog **d = talloc_array(NULL, struct uigw_dialog *, N);
	struct uigw_dialog_status st;
	char msisdn[UIGW_MSISDN_MAXLEN];
	unsigned int i;

	assert_non_null(d);
	assert_int_equal(gw->dialog_bits, 12);
	gw->cfg.max_dialogs = N + 1;
	for (i = 0; i < N; i++) {
		struct uigw_begin b = { .channel = UIGW_CHAN_GSUP, .msisdn = msisdn, .text = "*7726#" };

		snprintf(msisdn, sizeof(msisdn), "+4917300%05u", i);
		d[i] = uigw_dialog_begin(gw, &b);
		assert_non_null(d[i]);
	}
	assert_int_equal(gw->n_dialogs, N);
	/* doubled past 8,192 and 16,384 dialogs */
	assert_int_equal(gw->dialog_bits, 14);
	for (i = 0; i < N; i++) {
		snprintf(msisdn, sizeof(msisdn), "+4917300%05u", i);
		assert_ptr_equal(uigw_dialog_find(gw, msisdn, UIGW_CHAN_GSUP), d[i]);
		assert_null(uigw_dialog_find(gw, msisdn, UIGW_CHAN_SMPP_SMS));
		assert_int_equal(uigw_dialog_status(gw, d[i]->id, &st), 1);	/* running */
		assert_int_equal(st.channel, UIGW_CHAN_GSUP);
	}
	/* halved below an eighth: 14 -> 13 under 2,048, 13 -> 12 under 1,024 */
	for (i = 0; i < N; i++) {
		uint64_t id = d[i]->id;

		uigw_dialog_abort(d[i], UIGW_OUTCOME_ABANDONED);
		settle();
		if (i == N - 1500) {
			assert_int_equal(gw->dialog_bits, 13);
			snprintf(msisdn, sizeof(msisdn), "+4917300%05u", N - 1);
			assert_ptr_equal(uigw_dialog_find(gw, msisdn, UIGW_CHAN_GSUP), d[N - 1]);
		}
		snprintf(msisdn, sizeof(msisdn), "+4917300%05u", i);
		assert_null(uigw_dialog_find(gw, msisdn, UIGW_CHAN_GSUP));
		uigw_dialog_status(gw, id, &st);
		assert_int_not_equal(st.state, UIGW_DLG_RUNNING);
	}
	assert_int_equal(gw->n_dialogs, 0);
	assert_int_equal(gw->dialog_bits, 12);
	talloc_free(d);
}

static void test_one_dialog_per_subscriber_busy_unrouted(void **state)
{
	struct uigw_dialog *d1;

	d1 = dial("+491720000060", "*7726#");
	assert_non_null(d1);
	assert_int_equal(gw->n_dialogs, 1);
	assert_ptr_equal(uigw_dialog_find(gw, "+491720000060", UIGW_CHAN_GSUP), d1);
	dial("+491720000060", "*100#");
	assert_int_equal(rec.n_release, 1);	/* the first was released */
	assert_int_equal(rec.released, UIGW_OUTCOME_ABANDONED);
	assert_int_equal(gw->n_dialogs, 1);

	gw->cfg.max_dialogs = 1;
	assert_null(dial("+491720000061", "*7726#"));
	assert_true(rec.end);
	assert_int_equal(rec.refusal, UIGW_REFUSAL_BUSY);
	assert_string_equal(rec.text, "The service is busy. Please try again in a few minutes.");
	gw->cfg.max_dialogs = 100;

	assert_null(dial("+491720000062", "*999#"));
	assert_int_equal(rec.refusal, UIGW_REFUSAL_UNROUTED);
	assert_string_equal(rec.text, "Unknown service code or keyword.");

	uigw_campaign_set_find(gw->campaigns, "spam")->enabled = false;
	assert_null(dial("+491720000063", "*7726#"));
	assert_int_equal(rec.refusal, UIGW_REFUSAL_CAMPAIGN_DISABLED);
	uigw_campaign_set_find(gw->campaigns, "spam")->enabled = true;
}

static void job_done(struct uigw_store_job *job, void *data)
{
	talloc_free(job);
}

/* The operator's drain: every new dialog refused (counted as such), the one under way goes on; uigw_refusing()
 * says so without counting, and says nothing once the drain ends */
static void test_drain(void **state)
{
	struct rate_ctr *drained = rate_ctr_group_get_ctr(gw->ctrs, UIGW_CTR_BUSY_DRAIN);
	struct uigw_dialog *a;

	assert_false(uigw_refusing(gw));
	a = dial("+491720000080", "*7726#");
	assert_non_null(a);
	uigw_drain(gw, true);
	assert_true(uigw_refusing(gw));
	assert_true(uigw_refusing(gw));
	assert_int_equal(drained->current, 0);	/* asking draws and counts nothing */
	assert_null(dial("+491720000081", "*7726#"));
	assert_int_equal(rec.refusal, UIGW_REFUSAL_BUSY);
	assert_int_equal(drained->current, 1);
	assert_int_equal(uigw_dialog_input(a, "1"), 0);	/* under way: goes on */
	uigw_drain(gw, false);
	assert_false(uigw_refusing(gw));
	assert_non_null(dial("+491720000081", "*7726#"));
	assert_int_equal(drained->current, 1);
}

/* overload max-wait: a request that waited past it in the kernel is refused whatever the share (counted apart),
 * one that did not, or whose wait is not known, is asked of uigw_admit() as before; 0 turns it off; a drain
 * counts as a drain */
static void test_admit_waited(void **state)
{
	struct rate_ctr *late = rate_ctr_group_get_ctr(gw->ctrs, UIGW_CTR_BUSY_LATE);
	struct rate_ctr *drained = rate_ctr_group_get_ctr(gw->ctrs, UIGW_CTR_BUSY_DRAIN);

	assert_int_equal(gw->overload.cfg.max_wait_ms, 300);
	assert_false(uigw_refusing(gw));
	assert_false(uigw_overload_late(gw, -1));
	assert_false(uigw_overload_late(gw, 299));
	assert_true(uigw_overload_late(gw, 300));
	assert_int_equal(uigw_admit_waited(gw, -1), UIGW_REFUSAL_NONE);
	assert_int_equal(uigw_admit_waited(gw, 299), UIGW_REFUSAL_NONE);
	assert_int_equal(late->current, 0);
	assert_int_equal(uigw_admit_waited(gw, 300), UIGW_REFUSAL_BUSY);
	assert_int_equal(uigw_admit_waited(gw, 60000), UIGW_REFUSAL_BUSY);
	assert_int_equal(late->current, 2);
	/* the share is overload control's: only the late request is refused */
	assert_false(uigw_overloaded(gw));
	uigw_drain(gw, true);
	assert_int_equal(uigw_admit_waited(gw, 1000), UIGW_REFUSAL_BUSY);
	assert_int_equal(drained->current, 1);
	assert_int_equal(late->current, 2);
	uigw_drain(gw, false);
	gw->overload.cfg.max_wait_ms = 0;
	assert_false(uigw_overload_late(gw, 60000));
	assert_int_equal(uigw_admit_waited(gw, 60000), UIGW_REFUSAL_NONE);
}

/* \a n store jobs submitted, their completions not run: a backlog */
static void submit_jobs(unsigned int n)
{
	struct uigw_store_job *job;

	while (n--) {
		job = uigw_store_job_alloc(gw->store, job_done, NULL);
		assert_non_null(job);
		assert_int_equal(uigw_store_submit(job), 0);
	}
}

/* \a n new dialogs asked for: \returns how many uigw_admit() admitted */
static unsigned int offer(unsigned int n)
{
	unsigned int admitted = 0;

	while (n--)
		admitted += uigw_admit(gw) == UIGW_REFUSAL_NONE;
	return admitted;
}

/* no episode, no limit */
static void overload_reset(struct uigw_overload *o)
{
	o->active = false;
	o->pressed = false;
	o->limit = 0;
	o->admit_pm = 1000;
}

/* Overload control: past a high mark new dialogs and pushes are limited to a rate (refused ones get the busy text,
 * counted), the dialog under way goes on; calm again, the limit climbs back, and the episode ends after a calm
 * second that refused nothing. */
static void test_overload_admission(void **state)
{
	struct uigw_overload *o = &gw->overload;
	struct rate_ctr *busy = rate_ctr_group_get_ctr(gw->ctrs, UIGW_CTR_BUSY_OVERLOAD);
	struct uigw_trigger_res res;
	struct uigw_store_job *job;
	struct uigw_dialog *a;
	unsigned int i, before;
	uint64_t busy_n;

	/* what the last second admitted: 40 in one tick, then the dialog that goes on below; and what ended in it */
	for (i = 0; i < 10; i++)
		uigw_overload_tick(gw);
	assert_int_equal(offer(40), 40);
	uigw_overload_tick(gw);
	o->ended[0] = 40;
	assert_int_equal(o->offered_rate, 400);
	a = dial("+491720000070", "*7726#");
	assert_non_null(a);
	assert_false(uigw_overloaded(gw));
	assert_int_equal(o->admit_pm, 1000);
	assert_int_equal(o->limit, 0);

	/* the store's backlog past its high mark: jobs submitted, their completions not yet run */
	o->cfg.store_high = 3;
	o->cfg.store_low = 1;
	submit_jobs(3);
	/* the first new dialog begins the episode at once: the limit a quarter under what the gateway did in the last
	 * second (40 dialogs ended; where pressure was seen: the 41 admitted), nothing saved up yet: refused */
	assert_null(dial("+491720000071", "*7726#"));
	assert_int_equal(rec.refusal, UIGW_REFUSAL_BUSY);
	assert_string_equal(rec.text, "The service is busy. Please try again in a few minutes.");
	assert_true(uigw_overloaded(gw));
	assert_string_equal(o->why, "store backlog");
	assert_int_equal(busy->current, 1);
	assert_int_equal(o->limit_max, 41);
	assert_int_equal(o->limit, 30);
	/* a rate: 100 ms bring 3 of 30/s, whatever is offered */
	o->tokens_us -= 100000;
	assert_int_equal(offer(100), 3);
	assert_int_equal(o->refused_now, 1 + 97);
	assert_int_equal(busy->current, 1 + 97);
	/* still past the mark (dial() settled the store: a backlog again), but within the hold after the cut (the
	 * window, 300 ms, and the queue's delay): the limit stays; the share is the limit over the tick's 1,020/s */
	submit_jobs(3);
	uigw_overload_tick(gw);
	assert_int_equal(o->limit, 30);
	assert_int_equal(o->offered_rate, 1020);
	assert_int_equal(o->admit_pm, 29);
	/* after it, the backlog no lower than at the cut: cut again, a quarter, and pressure was seen at 41 still (a
	 * cut of a cut) */
	o->cut_us -= 400000;
	uigw_overload_tick(gw);
	assert_int_equal(o->limit, 22);
	assert_int_equal(o->limit_max, 41);
	assert_int_equal(o->admit_pm, 1000);	/* nothing offered in that tick */
	/* of 100 offered in a tick, the limit's share (22 per mille) spread evenly, and no more than 100 ms of it */
	offer(100);
	uigw_overload_tick(gw);
	assert_int_equal(o->admit_pm, 22);
	o->tokens_us -= 1000000;
	o->credit_pm = 0;
	busy_n = busy->current;
	assert_int_equal(offer(100), 2);
	assert_int_equal(busy->current, busy_n + 98);
	assert_int_equal(trigger("yn", "+491720000072", UIGW_CHAN_SMPP_USSD, "caller=+4930999", NULL, &res),
			 UIGW_REFUSAL_BUSY);
	busy_n += 98 + 1;
	assert_int_equal(busy->current, busy_n);

	/* the dialog under way goes on (trigger() settled the store: the backlog is gone) */
	assert_int_equal(uigw_dialog_input(a, "1"), 0);
	settle();
	assert_string_equal(rec.text, "Number that called you?\n0. Back");
	/* calm (trigger() settled the store) while refusing, but not far under the marks (a queue delay of 30 ms, over
	 * half its low mark of 50): up a thirty-second of the way back to where pressure was seen (41), at least 0.5 %
	 * and half the floor: from 22, 27 ... */
	offer(100);
	uigw_overload_delay_sample(gw, 30);
	uigw_overload_tick(gw);
	assert_int_equal(o->limit, 27);
	/* ... of a limit far from it (2,000 of 4,000): 62 ... */
	o->limit = 2000;
	o->limit_max = 4000;
	offer(5000);
	uigw_overload_delay_sample(gw, 30);
	uigw_overload_tick(gw);
	assert_int_equal(o->limit, 2000 + 2000 / 32);
	/* ... far under every mark an eighth of the way ... */
	offer(5000);
	uigw_overload_tick(gw);
	assert_int_equal(o->limit, 2062 + (4000 - 2062) / 8);
	/* ... and beyond it 1.25 % a tick, far under every mark 2.5 % */
	o->limit = 4000;
	offer(5000);
	uigw_overload_delay_sample(gw, 30);
	uigw_overload_tick(gw);
	assert_int_equal(o->limit, 4050);
	offer(5000);
	uigw_overload_tick(gw);
	assert_int_equal(o->limit, 4050 + 4050 / 40);
	o->limit = 42;
	o->limit_max = 41;
	/* between the marks while refusing: down by 2.5 % a tick, at least one */
	o->cfg.store_low = 0;
	submit_jobs(1);
	offer(100);
	uigw_overload_tick(gw);
	assert_int_equal(o->limit, 41);
	settle();
	o->cfg.store_low = 1;
	/* the burst over: a tick offered less than the limit, and from the next one all of it is admitted */
	offer(3);
	uigw_overload_tick(gw);
	assert_int_equal(o->admit_pm, 1000);
	o->tokens_us -= 100000;
	assert_int_equal(offer(3), 3);
	assert_true(busy->current > busy_n);
	assert_true(uigw_overloaded(gw));
	assert_non_null(dial("+491720000073", "*7726#"));
	/* nothing refused in a tick and calm for a second: the episode ends */
	usleep(1100000);
	uigw_overload_tick(gw);
	assert_false(uigw_overloaded(gw));
	assert_int_equal(o->episodes, 1);
	assert_int_equal(o->limit, 0);

	/* the loop's lag as the input: a quarter under what the last second admitted, all of which ended */
	for (i = 0; i < ARRAY_SIZE(o->ended); i++)
		o->ended[i] = 1000;
	o->lag_ms = o->cfg.lag_high_ms;
	uigw_overload_tick(gw);
	assert_true(uigw_overloaded(gw));
	assert_string_equal(o->why, "event loop lag");
	assert_int_equal(o->cut_keep, 750);
	assert_int_equal(o->limit, OSMO_MAX(UIGW_OVERLOAD_MIN_RATE, o->limit_max * 3 / 4));
	o->lag_ms = 0;
	/* the queue delay a channel reports: the least over the window (300 ms, three ticks) counts. A stall's queue,
	 * read empty again within the window, is no overload */
	overload_reset(o);
	uigw_overload_delay_sample(gw, 900);
	assert_int_equal(o->delay_ms, 225);	/* smoothed, shown */
	uigw_overload_tick(gw);
	assert_int_equal(o->qdelay.standing_ms, 0);	/* the ticks before it reported nothing: nothing waited */
	uigw_overload_delay_sample(gw, 400);
	uigw_overload_delay_sample(gw, 0);
	uigw_overload_tick(gw);
	assert_int_equal(o->qdelay.standing_ms, 0);
	assert_false(uigw_overloaded(gw));
	/* a queue that stays: at least 250 ms in every tick of the window */
	for (i = 0; i < 2; i++) {
		uigw_overload_delay_sample(gw, 600);
		uigw_overload_delay_sample(gw, 250);
		uigw_overload_tick(gw);
		assert_false(uigw_overloaded(gw));
	}
	/* 100 admitted and ended in each of the last ten ticks (the rings; the tick that begins the episode puts its
	 * own 0 in) */
	for (i = 0; i < ARRAY_SIZE(o->admitted); i++)
		o->admitted[i] = o->ended[i] = 100;
	uigw_overload_delay_sample(gw, 300);
	uigw_overload_tick(gw);
	assert_int_equal(o->qdelay.standing_ms, 250);
	assert_true(uigw_overloaded(gw));
	assert_string_equal(o->why, "queue delay");
	assert_int_equal(o->limit_max, 900);
	assert_int_equal(o->limit, 675);
	uigw_overload_tick(gw);	/* no sample in that tick: nothing waited, the smoothed figure halved */
	assert_int_equal(o->qdelay.standing_ms, 0);
	assert_true(o->delay_ms < 200);
	/* in an episode the latest tick counts, and a cut is deeper the farther past the mark: a half at twice it */
	o->cut_us -= 1000000;
	uigw_overload_delay_sample(gw, 400);
	uigw_overload_tick(gw);
	assert_int_equal(o->cut_keep, 500);
	assert_int_equal(o->limit, 337);
	/* past the mark, not as far as at that cut: no further cut, whatever the time since */
	o->cut_us -= 1000000;
	uigw_overload_delay_sample(gw, 250);
	uigw_overload_tick(gw);
	assert_int_equal(o->limit, 337);
	/* as far past it again, but the last cut could not show yet: the hold is the window and the queue's delay */
	before = o->limit;
	o->cut_us = uigw_real_mono_us() - 500000;
	uigw_overload_delay_sample(gw, 400);
	uigw_overload_tick(gw);
	assert_int_equal(o->limit, before);	/* 500 ms < 300 + 400 */
	o->cut_us -= 300000;
	uigw_overload_delay_sample(gw, 400);
	uigw_overload_tick(gw);
	assert_int_equal(o->limit, before / 2);
	/* lower than at that cut (250 ms), long after it: no cut */
	before = o->limit;
	o->cut_us -= 3000000;
	uigw_overload_delay_sample(gw, 250);
	uigw_overload_tick(gw);
	assert_int_equal(o->limit, before);
	/* but a queue standing at max-wait (300 ms; nine tenths of it or more) cannot rise past it: cut again all the
	 * same, once twice the hold has passed (the window and the queue's delay: 2 x 590 ms) */
	o->cut_us = uigw_real_mono_us() - 1100000;
	uigw_overload_delay_sample(gw, 290);
	uigw_overload_tick(gw);
	assert_int_equal(o->limit, before);
	o->cut_us -= 200000;
	uigw_overload_delay_sample(gw, 290);
	uigw_overload_tick(gw);
	assert_int_equal(o->cut_keep, 1000000 / 1450);
	assert_int_equal(o->limit, OSMO_MAX(UIGW_OVERLOAD_MIN_RATE, before * (1000000 / 1450) / 1000));
	overload_reset(o);
	/* a window of one tick: that tick's least */
	o->cfg.window_ms = 100;
	uigw_overload_delay_sample(gw, 220);
	uigw_overload_tick(gw);
	assert_int_equal(o->qdelay.standing_ms, 220);
	o->cfg.window_ms = 300;
	/* a surge (offered three times what ended in the last second, at least 30/s): the latest tick's delay counts,
	 * not the window's least (a stall's queue the gateway's pace works off, a surge's it does not) */
	overload_reset(o);
	for (i = 0; i < 3; i++)
		uigw_overload_tick(gw);		/* the window empty again, nothing offered */
	for (i = 0; i < ARRAY_SIZE(o->admitted); i++)
		o->admitted[i] = o->ended[i] = 0;
	uigw_overload_delay_sample(gw, 250);
	uigw_overload_tick(gw);
	assert_int_equal(o->qdelay.last_ms, 250);
	assert_false(uigw_overloaded(gw));	/* no surge: the window's least, 0 */
	offer(10);				/* 100/s in this tick so far */
	assert_true(uigw_overloaded(gw));
	assert_string_equal(o->why, "queue delay");
	/* after a pause the last second says little of what the gateway can do: an episode begins from the most that
	 * ended in one second lately (decaying), up to half again what ended in the last second and what is offered */
	overload_reset(o);
	o->ended_peak = 0;
	for (i = 0; i < 3; i++)
		uigw_overload_tick(gw);
	for (i = 0; i < ARRAY_SIZE(o->admitted); i++)
		o->admitted[i] = o->ended[i] = 100;
	uigw_overload_tick(gw);
	assert_int_equal(o->ended_peak, 1000);	/* 1,000 ended in a second */
	for (i = 0; i < 9; i++)
		uigw_overload_tick(gw);		/* a pause: nothing ended since */
	uigw_overload_delay_sample(gw, 250);
	uigw_overload_tick(gw);
	assert_false(uigw_overloaded(gw));
	assert_true(o->ended_peak < 1000 && o->ended_peak >= 980);
	for (i = 0; i < ARRAY_SIZE(o->admitted); i++) {
		o->admitted[i] = 60;
		o->ended[i] = 40;
	}
	assert_int_equal(offer(130), 119);	/* the surge's onset at the 120th (1,200/s: three times the 400 that ended) */
	assert_true(uigw_overloaded(gw));
	assert_int_equal(o->limit_max, 719);	/* where pressure was seen: what the last second admitted */
	assert_int_equal(o->limit, 450);	/* 3/4 of 600 (400 ended, half again), not of 400 */
	/* never above what is offered: lately 5,000 ended in a second, but 10/s come now (a dropped datagram: an
	 * onset at once) */
	overload_reset(o);
	uigw_overload_tick(gw);
	uigw_overload_tick(gw);			/* nothing offered in the last tick */
	overload_reset(o);
	o->ended_peak = 5000;
	for (i = 0; i < ARRAY_SIZE(o->admitted); i++)
		o->admitted[i] = o->ended[i] = 100;
	uigw_overload_rx_dropped(gw, 1);
	uigw_overload_refuse(gw);
	assert_true(uigw_overloaded(gw));
	assert_int_equal(o->limit, 750);	/* 3/4 of the 1,000 that ended in the last second */
	uigw_overload_tick(gw);			/* the drop read */
	overload_reset(o);
	/* datagrams the kernel dropped at a channel's socket: pressure at once (no window: the requests are lost
	 * already), in the tick that reports them and, between ticks, until the next one */
	overload_reset(o);
	for (i = 0; i < 3; i++)
		uigw_overload_tick(gw);		/* the queue delay's window empty again */
	for (i = 0; i < ARRAY_SIZE(o->admitted); i++)
		o->admitted[i] = o->ended[i] = 100;
	before = o->rx_drops;
	uigw_overload_rx_dropped(gw, 3);
	assert_int_equal(o->rx_drops, before + 3);
	assert_false(uigw_overloaded(gw));
	uigw_overload_refuse(gw);
	assert_true(uigw_overloaded(gw));
	assert_string_equal(o->why, "receive drops");
	assert_int_equal(o->limit, 750);
	o->cut_us -= 1000000;
	uigw_overload_tick(gw);
	assert_int_equal(o->rx_drops_rate, 30);
	assert_true(o->pressed);
	before = o->limit;
	assert_true(before < 750);		/* cut again: the drops stood past the hold */
	/* however far past its mark an input was at the last cut, drops still cut: requests are lost */
	for (i = 0; i < ARRAY_SIZE(o->cut_level); i++)
		o->cut_level[i] = UINT_MAX;
	o->cut_us -= 1000000;
	uigw_overload_rx_dropped(gw, 1);
	uigw_overload_tick(gw);
	assert_true(o->limit < before);
	before = o->limit;
	uigw_overload_tick(gw);			/* none in this tick: calm (nothing offered: calm toward the end) */
	assert_int_equal(o->rx_drops_rate, 0);
	assert_false(o->pressed);
	assert_true(o->calm_since_us > 0);
	/* high mark 0: not an input; over its mark (10/s, one a tick) only */
	o->cfg.rx_drops_high = 0;
	overload_reset(o);
	uigw_overload_rx_dropped(gw, 1000);
	uigw_overload_tick(gw);
	assert_false(uigw_overloaded(gw));
	o->cfg.rx_drops_high = 20;
	uigw_overload_rx_dropped(gw, 1);
	uigw_overload_tick(gw);
	assert_false(uigw_overloaded(gw));
	uigw_overload_rx_dropped(gw, 2);
	uigw_overload_tick(gw);
	assert_true(uigw_overloaded(gw));
	o->cfg.rx_drops_high = 1;
	uigw_overload_tick(gw);
	/* high mark 0: not an input */
	o->cfg.delay_high_ms = 0;
	o->cfg.lag_high_ms = 0;
	overload_reset(o);
	for (i = 0; i < 3; i++) {
		o->lag_ms = 100000;
		uigw_overload_delay_sample(gw, 100000);
		uigw_overload_tick(gw);
	}
	assert_int_equal(o->qdelay.standing_ms, 100000);
	assert_false(uigw_overloaded(gw));
	assert_false(uigw_overload_refuse(gw));
	o->lag_ms = 0;
	for (i = 0; i < 3; i++)
		uigw_overload_tick(gw);
	assert_int_equal(o->qdelay.standing_ms, 0);

	/* the store's delay: what a job submitted now would wait; a job whose completion nothing ran counts by its age
	 * (the loop does not look here while the writer commits it) */
	o->cfg.store_high = 0;
	o->cfg.store_delay_high_ms = 50;
	o->cfg.store_delay_low_ms = 20;
	settle();
	assert_int_equal(uigw_store_delay_ms(gw->store), 0);
	job = uigw_store_job_alloc(gw->store, job_done, NULL);
	assert_non_null(job);
	assert_int_equal(uigw_store_submit(job), 0);
	usleep(60000);
	assert_true(uigw_store_delay_ms(gw->store) >= 60);
	/* past the high mark over the whole window (three ticks) before it counts */
	uigw_overload_tick(gw);
	uigw_overload_tick(gw);
	assert_false(uigw_overloaded(gw));
	uigw_overload_tick(gw);
	assert_true(uigw_overloaded(gw));
	assert_string_equal(o->why, "store delay");
	assert_true(o->sdelay.standing_ms >= 60);
	settle();
	assert_int_equal(uigw_store_delay_ms(gw->store), 0);
	overload_reset(o);
	uigw_dialog_abort(a, UIGW_OUTCOME_ABANDONED);
}

static void test_reload_keeps_running_version(void **state)
{
	char err[512];
	struct uigw_campaign *v1 = uigw_campaign_set_find(gw->campaigns, "spam");
	unsigned int ver = v1->version;
	char *changed;

	dial("+491720000070", "*7726#");
	input("1");
	changed = talloc_strdup(root, camp_spam);
	changed = talloc_asprintf_append(changed, "# changed\n");
	write_file("spam.conf", changed);
	talloc_free(changed);
	assert_int_equal(uigw_campaigns_reload(gw, err, sizeof(err)), 0);
	assert_int_equal(uigw_campaign_set_find(gw->campaigns, "spam")->version, ver + 1);
	/* the running dialog is still on version 1 */
	assert_ptr_equal(rec.dlg->camp, v1);
	input("+49301234567");
	input("1");
	assert_true(rec.end);
	assert_string_equal(rec.text, "Thanks. +49301234567: 1 reports.");

	/* a broken file is refused and the set in service stays */
	write_file("spam.conf", "name = \"spam\";\nnodes = ( { id = \"x\"; type = \"bogus\"; text = \"a\"; } );\n");
	assert_true(uigw_campaigns_reload(gw, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "spam.conf:"));
	assert_non_null(uigw_campaign_set_find(gw->campaigns, "spam"));
}

static void test_push_with_params(void **state)
{
	struct uigw_trigger_res res;

	assert_int_equal(trigger("yn", "+491720000080", UIGW_CHAN_SMPP_USSD, "caller=+4930999", NULL, &res), 0);
	assert_int_equal(res.channel, UIGW_CHAN_SMPP_USSD);
	assert_string_equal(res.msisdn, "+491720000080");
	assert_int_equal(n_push, 1);
	assert_string_equal(rec.text, "Call from +4930999 ok?\n1. Yes\n2. No");
	assert_true(rec.dlg->network_initiated);
	assert_int_equal(rec.dlg->id, res.dialog);
	input("1");
	assert_true(rec.end);
	/* a parameter the campaign does not declare is refused, not dropped */
	assert_int_equal(trigger("yn", "+491720000080", UIGW_CHAN_SMPP_USSD, "caller=+4930999", "unknown=x", &res),
			 UIGW_REFUSAL_UNKNOWN_PARAMETER);
	assert_string_equal(res.detail, "'unknown'");
	assert_int_equal(trigger("nonexistent", "+491720000080", -1, NULL, NULL, &res), UIGW_REFUSAL_NO_CAMPAIGN);
	assert_int_equal(n_push, 1);
}

/* every refusal of the trigger path, in its order, and nothing sent for any of them */
static void test_trigger_refusals(void **state)
{
	struct uigw_trigger_res res;
	unsigned int sent = rec.n_sent;
	struct uigw_trigger t;
	char w[32];

	assert_int_equal(trigger("yn", "not-a-number", -1, NULL, NULL, &res), UIGW_REFUSAL_INVALID_NUMBER);
	assert_string_equal(uigw_refusal_name(res.refusal), "invalid_number");
	assert_int_equal(trigger("nope", "+491720000081", -1, NULL, NULL, &res), UIGW_REFUSAL_NO_CAMPAIGN);
	assert_string_equal(uigw_refusal_name(res.refusal), "no_campaign");
	uigw_campaign_set_find(gw->campaigns, "yn")->enabled = false;
	assert_int_equal(trigger("yn", "+491720000081", -1, NULL, NULL, &res), UIGW_REFUSAL_CAMPAIGN_DISABLED);
	uigw_campaign_set_find(gw->campaigns, "yn")->enabled = true;
	/* "spam" allows gsup, smpp-ussd and smpp-sms only (its channels list) */
	assert_int_equal(trigger("spam", "+491720000081", UIGW_CHAN_IMS_MSG, NULL, NULL, &res),
			 UIGW_REFUSAL_CHANNEL_NOT_ALLOWED);
	assert_string_equal(uigw_refusal_name(res.refusal), "channel_not_allowed");
	assert_int_equal(trigger("yn", "+491720000081", UIGW_CHAN_GSUP, NULL, NULL, &res),
			 UIGW_REFUSAL_PUSH_NOT_OFFERED);
	assert_string_equal(res.detail, "not here");
	assert_int_equal(trigger("yn", "+491720000081", UIGW_CHAN_USSI, NULL, NULL, &res), UIGW_REFUSAL_UNREACHABLE);
	assert_string_equal(res.detail, "channel ussi is not part of this gateway");
	reach_sms = UIGW_REACH_NO;
	assert_int_equal(trigger("yn", "+491720000081", UIGW_CHAN_SMPP_SMS, NULL, NULL, &res),
			 UIGW_REFUSAL_UNREACHABLE);
	reach_sms = UIGW_REACH_UP;
	gw->cfg.max_dialogs = 0;
	assert_int_equal(trigger("yn", "+491720000081", UIGW_CHAN_SMPP_SMS, NULL, NULL, &res), UIGW_REFUSAL_BUSY);
	gw->cfg.max_dialogs = 100;
	/* the channel itself may refuse */
	push_rc = UIGW_REFUSAL_UNREACHABLE;
	assert_int_equal(trigger("yn", "+491720000081", UIGW_CHAN_SMPP_SMS, NULL, NULL, &res),
			 UIGW_REFUSAL_UNREACHABLE);
	push_rc = 0;
	assert_int_equal(rec.n_sent, sent);
	assert_int_equal(gw->n_dialogs, 0);

	/* the argument words of the VTY and CTRL syntax */
	uigw_trigger_init(&t, "yn", "+491720000081");
	snprintf(w, sizeof(w), "via");
	assert_int_equal(uigw_trigger_add_arg(&t, w, false), 1);
	snprintf(w, sizeof(w), "smpp-sms");
	assert_int_equal(uigw_trigger_add_arg(&t, w, true), 0);
	assert_int_equal(t.via, UIGW_CHAN_SMPP_SMS);
	snprintf(w, sizeof(w), "via=ussi");
	assert_int_equal(uigw_trigger_add_arg(&t, w, false), 0);
	assert_int_equal(t.via, UIGW_CHAN_USSI);
	snprintf(w, sizeof(w), "via=pigeon");
	assert_int_equal(uigw_trigger_add_arg(&t, w, false), -EINVAL);
	snprintf(w, sizeof(w), "novalue");
	assert_int_equal(uigw_trigger_add_arg(&t, w, false), -EINVAL);
	snprintf(w, sizeof(w), "to=sip:a@b");
	assert_int_equal(uigw_trigger_add_arg(&t, w, false), 0);
	assert_string_equal(t.to, "sip:a@b");
	assert_int_equal(t.n_params, 0);
}

/* without via: the campaign's channels order, IMS only where the subscriber was seen */
static void test_trigger_channel_choice(void **state)
{
	struct uigw_trigger_res res;

	/* "yn" lists no channels: IMS first, then USSD, then SMS */
	assert_int_equal(trigger("yn", "+491720000082", -1, NULL, NULL, &res), 0);
	assert_int_equal(res.channel, UIGW_CHAN_SMPP_USSD);	/* IMS is up, but the subscriber was not seen there */
	uigw_dialog_abort(rec.dlg, UIGW_OUTCOME_ABANDONED);
	reach_ims = UIGW_REACH_SEEN;
	assert_int_equal(trigger("yn", "+491720000082", -1, NULL, NULL, &res), 0);
	assert_int_equal(res.channel, UIGW_CHAN_IMS_MSG);
	uigw_dialog_abort(rec.dlg, UIGW_OUTCOME_ABANDONED);
	reach_ims = UIGW_REACH_UP;
	reach_ussd = UIGW_REACH_NO;
	assert_int_equal(trigger("yn", "+491720000082", -1, NULL, NULL, &res), 0);
	assert_int_equal(res.channel, UIGW_CHAN_SMPP_SMS);
	uigw_dialog_abort(rec.dlg, UIGW_OUTCOME_ABANDONED);
	reach_sms = UIGW_REACH_NO;
	assert_int_equal(trigger("yn", "+491720000082", -1, NULL, NULL, &res), UIGW_REFUSAL_UNREACHABLE);
	assert_int_equal(res.channel, -1);
	/* "spam" lists gsup (no push) then smpp-ussd */
	reach_ussd = UIGW_REACH_UP;
	assert_int_equal(trigger("spam", "+491720000082", -1, NULL, NULL, &res), 0);
	assert_int_equal(res.channel, UIGW_CHAN_SMPP_USSD);
	uigw_dialog_abort(rec.dlg, UIGW_OUTCOME_ABANDONED);
}

/* frequency caps on the fake wall clock: the campaign's own and the gateway-wide one, rolling windows */
static void test_push_caps(void **state)
{
	struct uigw_trigger_res res;
	char err[512];

	clock_set(1000);
	write_file("capped.conf", "name = \"capped\";\npush_cap = { count = 2; per = 60; };\n"
		   "nodes = ( { id = \"i\"; type = \"info\"; text = \"Note\"; } );\n");
	assert_int_equal(uigw_campaigns_reload(gw, err, sizeof(err)), 0);
	assert_int_equal(trigger("capped", "+491720000097", UIGW_CHAN_SMPP_SMS, NULL, NULL, &res), 0);
	clock_advance(10);
	assert_int_equal(trigger("capped", "+491720000097", UIGW_CHAN_SMPP_SMS, NULL, NULL, &res), 0);
	assert_int_equal(trigger("capped", "+491720000097", UIGW_CHAN_SMPP_SMS, NULL, NULL, &res), UIGW_REFUSAL_CAPPED);
	assert_string_equal(res.detail, "frequency cap of campaign capped reached (2 per 60 s)");
	/* another subscriber is not affected */
	assert_int_equal(trigger("capped", "+491720000098", UIGW_CHAN_SMPP_SMS, NULL, NULL, &res), 0);
	/* 51 s after the first: it left the window, one more fits */
	clock_advance(51);
	assert_int_equal(trigger("capped", "+491720000097", UIGW_CHAN_SMPP_SMS, NULL, NULL, &res), 0);
	assert_int_equal(trigger("capped", "+491720000097", UIGW_CHAN_SMPP_SMS, NULL, NULL, &res), UIGW_REFUSAL_CAPPED);

	/* the gateway-wide cap counts every campaign */
	gw->cfg.push_cap_count = 1;
	gw->cfg.push_cap_per = 3600;
	assert_int_equal(trigger("yn", "+491720000099", UIGW_CHAN_SMPP_SMS, NULL, NULL, &res), 0);
	uigw_dialog_abort(rec.dlg, UIGW_OUTCOME_ABANDONED);
	assert_int_equal(trigger("capped", "+491720000099", UIGW_CHAN_SMPP_SMS, NULL, NULL, &res), UIGW_REFUSAL_CAPPED);
	assert_string_equal(res.detail, "frequency cap of the gateway reached (1 per 3600 s, all campaigns)");
	clock_advance(3601);
	assert_int_equal(trigger("capped", "+491720000099", UIGW_CHAN_SMPP_SMS, NULL, NULL, &res), 0);
	/* only what was sent counts: three of five attempts for that subscriber */
	{
		char p[33];

		uigw_pseudonym(gw->pseudonym_key, "+491720000097", p);
		settle();
		assert_int_equal(uigw_store_push_count(gw->store, p, "capped", 0), 3);
	}
}

/* the engine's own texts come from the campaign's labels in the dialog's language */
static void test_labels_in_language(void **state)
{
	char err[512];
	struct uigw_begin b = { .channel = UIGW_CHAN_GSUP, .msisdn = "+491720000095", .text = "*103#",
				.language = "de" };

	write_file("lbl.conf",
		   "name = \"lbl\";\nlanguages = [\"en\", \"de\"];\nentry = { ussd = [\"*103#\"]; };\n"
		   "labels = { invalid_number = { en = \"Not a number.\"; de = \"Keine gueltige Nummer.\"; };\n"
		   "  invalid_rating = { en = \"1 to ${scale}, please.\"; de = \"Bitte 1-${scale} antworten.\"; };\n"
		   "  unavailable = { en = \"Not available.\"; de = \"Nicht verfuegbar.\"; }; };\n"
		   "nodes = (\n"
		   " { id = \"n\"; type = \"number\"; text = { en = \"Number?\"; de = \"Nummer?\"; }; next = \"r\"; },\n"
		   " { id = \"r\"; type = \"rating\"; scale = 4; question = \"q\";\n"
		   "   text = { en = \"Rate\"; de = \"Bewerten\"; }; }\n"
		   ");\n");
	assert_int_equal(uigw_campaigns_reload(gw, err, sizeof(err)), 0);
	assert_non_null(uigw_dialog_begin(gw, &b));
	settle();
	assert_string_equal(rec.text, "Nummer?");
	input("abc");
	assert_string_equal(rec.text, "Keine gueltige Nummer.\nNummer?");
	input("+4930123456");
	input("9");
	assert_string_equal(rec.text, "Bitte 1-4 antworten.\nBewerten\n0. Back");
	uigw_dialog_abort(rec.dlg, UIGW_OUTCOME_ABANDONED);
	/* an English dialog gets the English labels */
	b.language = "en";
	b.msisdn = "+491720000096";
	assert_non_null(uigw_dialog_begin(gw, &b));
	settle();
	input("abc");
	assert_string_equal(rec.text, "Not a number.\nNumber?");
	input("+4930123456");
	input("7");
	assert_string_equal(rec.text, "1 to 4, please.\nRate\n0. Back");
	uigw_dialog_abort(rec.dlg, UIGW_OUTCOME_ABANDONED);
	/* the refusal of a disabled campaign in its language */
	uigw_campaign_set_find(gw->campaigns, "lbl")->enabled = false;
	b.language = "de";
	rec.text[0] = '\0';
	/* the refusal is held back until the channel's call returned: the dialog lives until it went out */
	assert_non_null(uigw_dialog_begin(gw, &b));
	assert_string_equal(rec.text, "");
	settle();
	assert_string_equal(rec.text, "Nicht verfuegbar.");
	assert_int_equal(rec.refusal, UIGW_REFUSAL_CAMPAIGN_DISABLED);
}

/* at shutdown what the outbox holds still goes out: a refusal held back inside begin reaches the channel */
static void test_shutdown_flushes_outbox(void **state)
{
	struct uigw_begin b = { .channel = UIGW_CHAN_GSUP, .msisdn = "+491720000091", .text = "*999#" };

	setup(state);
	rec.text[0] = '\0';
	assert_non_null(uigw_dialog_begin(gw, &b));
	assert_string_equal(rec.text, "");
	teardown(state);
	assert_string_equal(rec.text, "Unknown service code or keyword.");
	assert_true(rec.end);
}

/* external applications: the routes' checks and matching, the CON/END parser, a route beside a campaign */
static void test_extapp_routes(void **state)
{
	char err[160], rest[64];
	const char *t;
	size_t n;
	char big[UIGW_EXTAPP_TEXT_MAX + 40];
	struct uigw_extapp *e;

	assert_int_equal(uigw_extapp_set(gw, "*77#50", "http://127.0.0.1/x", 0, err, sizeof(err)), -EINVAL);
	assert_int_equal(uigw_extapp_set(gw, "*7750", "ftp://127.0.0.1/x", 0, err, sizeof(err)), -EINVAL);
	assert_int_equal(uigw_extapp_set(gw, "*7750", "http://127.0.0.1/a", 0, err, sizeof(err)), 0);
	assert_int_equal(uigw_extapp_set(gw, "*7750*9", "http://127.0.0.1/b", 700, err, sizeof(err)), 0);
	assert_int_equal(uigw_extapp_set(gw, "7750", "http://127.0.0.1/sms", 0, err, sizeof(err)), 0);
	/* the longest prefix by components; the rest without the closing '#' */
	e = uigw_extapp_route(gw, UIGW_CHAN_GSUP, "*7750#", NULL, rest, sizeof(rest));
	assert_non_null(e);
	assert_string_equal(e->url, "http://127.0.0.1/a");
	assert_string_equal(rest, "");
	e = uigw_extapp_route(gw, UIGW_CHAN_GSUP, "*7750*1*2#", NULL, rest, sizeof(rest));
	assert_string_equal(e->url, "http://127.0.0.1/a");
	assert_string_equal(rest, "1*2");
	e = uigw_extapp_route(gw, UIGW_CHAN_GSUP, "*7750*9*3#", NULL, rest, sizeof(rest));
	assert_string_equal(e->url, "http://127.0.0.1/b");
	assert_int_equal(e->timeout_ms, 700);
	assert_string_equal(rest, "3");
	assert_null(uigw_extapp_route(gw, UIGW_CHAN_GSUP, "*77501#", NULL, rest, sizeof(rest)));
	e = uigw_extapp_route(gw, UIGW_CHAN_SMPP_SMS, "HELLO there", "7750", rest, sizeof(rest));
	assert_string_equal(e->url, "http://127.0.0.1/sms");
	assert_string_equal(rest, "HELLO there");
	assert_null(uigw_extapp_route(gw, UIGW_CHAN_SMPP_SMS, "HELLO", "7751", rest, sizeof(rest)));
	assert_string_equal(e->camp->name, "ext-7750");
	/* a local campaign's code is never relayed: *7726# is the spam campaign's */
	assert_int_equal(uigw_extapp_set(gw, "*7726", "http://127.0.0.1/c", 0, err, sizeof(err)), 0);
	assert_non_null(dial("+491720000777", "*7726#"));
	assert_string_equal(rec.dlg->camp->name, "spam");
	/* replace, delete */
	assert_int_equal(uigw_extapp_set(gw, "*7750", "http://127.0.0.1/new", 0, err, sizeof(err)), 0);
	e = uigw_extapp_route(gw, UIGW_CHAN_GSUP, "*7750#", NULL, rest, sizeof(rest));
	assert_string_equal(e->url, "http://127.0.0.1/new");
	assert_int_equal(uigw_extapp_del(gw, "*7750"), 0);
	assert_int_equal(uigw_extapp_del(gw, "*7750"), -ENOENT);
	assert_null(uigw_extapp_route(gw, UIGW_CHAN_GSUP, "*7750#", NULL, rest, sizeof(rest)));

	/* the answers */
	assert_int_equal(uigw_extapp_parse("CON Menu\n1. A  \n", 16, &t, &n), 0);
	assert_int_equal(n, 9);
	assert_memory_equal(t, "Menu\n1. A", 9);
	assert_int_equal(uigw_extapp_parse("\r\nEND Bye", 9, &t, &n), 1);
	assert_int_equal(n, 3);
	assert_int_equal(uigw_extapp_parse("END", 3, &t, &n), 1);
	assert_int_equal(n, 0);
	assert_int_equal(uigw_extapp_parse("CONTINUE x", 10, &t, &n), -EPROTO);
	assert_int_equal(uigw_extapp_parse("con x", 5, &t, &n), -EPROTO);
	assert_int_equal(uigw_extapp_parse("OK", 2, &t, &n), -EPROTO);
	assert_int_equal(uigw_extapp_parse("CON a\0b", 7, &t, &n), -EPROTO);
	/* a long text is cut at a character's start */
	memcpy(big, "CON ", 4);
	for (n = 4; n + 1 < sizeof(big); n += 2)
		memcpy(big + n, "\xc3\xa4", 2);	/* 'ä' */
	assert_int_equal(uigw_extapp_parse(big, n, &t, &n), 0);
	assert_true(n <= UIGW_EXTAPP_TEXT_MAX);
	assert_int_equal(n % 2, 0);
}

static void test_ucs2_screen(void **state)
{
	struct uigw_begin b = { .channel = UIGW_CHAN_GSUP, .msisdn = "+491720000090", .text = "*100#" };

	assert_non_null(uigw_dialog_begin(gw, &b));
	settle();
	assert_int_equal(rec.coding, UIGW_CODING_GSM7);
	input("Д");	/* invalid, but it shows the engine takes UTF-8 input */
	assert_string_equal(rec.text, "Invalid choice.\nPick\n1. Red\n2. Blue");
	uigw_dialog_abort(rec.dlg, UIGW_OUTCOME_ABANDONED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_spam_report_flow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dialog_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_kinds_and_actions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_back_home_and_paging, setup, teardown),
		cmocka_unit_test_setup_teardown(test_back_changes_the_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_retries_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_and_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sms_timer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_dialog_per_subscriber_busy_unrouted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admit_waited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overload_admission, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_keeps_running_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_push_with_params, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trigger_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trigger_channel_choice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_labels_in_language, setup, teardown),
		cmocka_unit_test_setup_teardown(test_push_caps, setup, teardown),
		cmocka_unit_test(test_shutdown_flushes_outbox),
		cmocka_unit_test_setup_teardown(test_ucs2_screen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extapp_routes, setup, teardown),
	};
	void *log_ctx = talloc_named_const(NULL, 0, "log");

	osmo_init_logging2(log_ctx, &uigw_log_info);
	log_set_print_filename2(osmo_stderr_target, LOG_FILENAME_NONE);
	log_set_log_level(osmo_stderr_target, LOGL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
