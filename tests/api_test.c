/* Unit tests of the HTTP API's handlers (src/api/api_handle.c, api_auth.c), without sockets: requests as
 * struct uigw_api_req, a recording SMS channel that the triggered dialogs run on, a store in a temp folder.
 * The order of the checks (401, 429, 404, 405, 403, 413, 415, 400, 422), ownership, the trigger's answers,
 * the dialog's states, results with parameters and a summary, the spam feed, the audit rows and the keys'
 * storage. The server itself (libmicrohttpd on the loop) is covered by tests/api/api_integration.py. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/dialog.h>
#include <osmocom/uigw/core/chan.h>
#include <osmocom/uigw/core/trigger.h>
#include <osmocom/uigw/core/event.h>
#include <osmocom/uigw/core/campaign.h>
#include <osmocom/uigw/store/store.h>
#include <osmocom/uigw/api/api.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/stats.h>
#include "common/fixture.h"
#include "../src/api/api_priv.h"	/* white box: uigw_api_metrics_text() */

static struct uigw_fixture fx;
static struct uigw *gw;
static struct uigw_api *api;
static char op_key[128], acme_key[128], acme_ro[128], spam_key[128];
static int64_t acme_id;

/* the recording SMS channel */
static struct uigw_dialog *rec_dlg;
static char rec_text[1024];

static int rec_send(struct uigw_dialog *dlg, const struct uigw_render_out *s, bool end)
{
	snprintf(rec_text, sizeof(rec_text), "%s", s->text);
	rec_dlg = end ? NULL : dlg;
	return 0;
}

static void rec_end(struct uigw_dialog *dlg, enum uigw_outcome outcome)
{
	rec_dlg = NULL;
}

static int rec_push(struct uigw_chan *ch, struct uigw_dialog *dlg, const struct uigw_trigger *t)
{
	return 0;
}

static const struct uigw_chan_ops rec_sms = {
	.channel = UIGW_CHAN_SMPP_SMS, .profile = &uigw_profile_sms, .deliver = rec_send, .end = rec_end,
	.push = rec_push,
};

static const char *camp_acme =
	"name = \"acme-survey\";\n"
	"owner = \"acme\";\n"
	"channels = [\"smpp-sms\"];\n"
	"network_only = true;\n"
	"params = { order = \"\"; };\n"
	"nodes = (\n"
	" { id = \"delivery\"; type = \"rating\"; scale = 5; next = \"again\"; text = \"Order ${order}: rate 1-5\"; },\n"
	" { id = \"again\"; type = \"yesno\"; next = \"end\"; text = \"Again?\"; },\n"
	" { id = \"end\"; type = \"info\"; text = \"Thanks\"; }\n"
	");\n";

static const char *camp_ping =
	"name = \"ping\";\n"
	"channels = [\"smpp-sms\"];\n"
	"network_only = true;\n"
	"params = { who = \"nobody\"; level = \"0\"; };\n"
	"on_event = ( { type = \"ping\"; sample = 0.5; },\n"
	"             { type = \"pong\"; min = { level = 3; }; equals = { kind = \"loud\"; }; params = { who = \"from\"; }; } );\n"
	"nodes = ( { id = \"q\"; type = \"yesno\"; text = \"Ping from ${who}?\"; } );\n";

static const char *camp_spam =
	"name = \"spam\";\n"
	"channels = [\"smpp-sms\"];\n"
	"entry = { sms = ( { short_code = \"7726\"; keywords = [\"SPAM\"]; start = \"number\"; } ); };\n"
	"nodes = (\n"
	" { id = \"number\"; type = \"number\"; text = \"Number?\"; var = \"reported\"; record = false; next = \"done\";\n"
	"   actions = ( { type = \"spam_report\"; number = \"${reported}\"; } ); },\n"
	" { id = \"done\"; type = \"info\"; text = \"Reported\"; }\n"
	");\n";

/* one request; returns the status and the parsed body in *out (caller decrefs) */
static unsigned int call(const char *method, const char *path, const char *key, const char *ctype,
			 const char *body, json_t **out)
{
	struct uigw_api_req req = { .method = method, .remote = "127.0.0.1", .content_type = ctype };
	struct uigw_api_resp resp;
	char auth[160], pathbuf[256], *q;
	void *ctx = talloc_new(fx.root);

	snprintf(pathbuf, sizeof(pathbuf), "%s", path);
	q = strchr(pathbuf, '?');
	if (q) {
		char *save = NULL, *a;
		*q++ = '\0';
		for (a = strtok_r(q, "&", &save); a && req.n_args < UIGW_API_MAX_ARGS; a = strtok_r(NULL, "&", &save)) {
			char *eq = strchr(a, '=');
			if (eq)
				*eq++ = '\0';
			req.args[req.n_args].name = a;
			req.args[req.n_args++].value = eq;
		}
	}
	req.path = pathbuf;
	if (key) {
		snprintf(auth, sizeof(auth), "Bearer %s", key);
		req.authorization = auth;
	}
	if (body) {
		req.body = body;
		req.body_len = strlen(body);
	}
	uigw_api_handle(api, ctx, &req, &resp);
	if (out) {
		*out = resp.body ? json_loads(resp.body, 0, NULL) : NULL;
		assert_non_null(*out);
	}
	talloc_free(ctx);
	return resp.status;
}

static int setup(void **state)
{
	int64_t id;

	uigw_fx_init(&fx, "api");
	uigw_fx_campaign(&fx, "acme.conf", camp_acme);
	uigw_fx_campaign(&fx, "spam.conf", camp_spam);
	uigw_fx_campaign(&fx, "ping.conf", camp_ping);
	gw = uigw_fx_gw(&fx, true);
	assert_non_null(uigw_chan_register(gw, &rec_sms, NULL));
	uigw_chans_open(gw);
	assert_int_equal(uigw_api_init(gw), 0);
	api = uigw_api_of(gw);
	assert_int_equal(uigw_api_start(gw), 0);	/* no node api: loads the keys, serves no HTTP */
	assert_int_equal(uigw_api_tenant_add(api, "acme"), 0);
	assert_int_equal(uigw_api_tenant_add(api, "Bad!"), -EINVAL);
	assert_int_equal(uigw_api_key_create(api, "operator", 0x3f, op_key, sizeof(op_key), &id), 0);
	assert_int_equal(uigw_api_key_create(api, "acme", 1 << UIGW_SCOPE_CAMPAIGNS | 1 << UIGW_SCOPE_TRIGGER |
					     1 << UIGW_SCOPE_RESULTS, acme_key, sizeof(acme_key), &acme_id), 0);
	assert_int_equal(uigw_api_key_create(api, "acme", 1 << UIGW_SCOPE_CAMPAIGNS, acme_ro, sizeof(acme_ro), &id), 0);
	assert_int_equal(uigw_api_key_create(api, "operator", 1 << UIGW_SCOPE_SPAM, spam_key, sizeof(spam_key), &id),
			 0);
	assert_int_equal(uigw_api_key_create(api, "nosuch", 1, op_key + 100, 28, &id), -ENOENT);
	return 0;
}

/* cmocka does not count a failed group teardown as a failure: main() does */
static bool teardown_ok;

static int teardown(void **state)
{
	uigw_fx_teardown(&fx);
	teardown_ok = true;
	return 0;
}

static void test_order_of_checks(void **state)
{
	json_t *j;

	assert_int_equal(call("GET", "/v1/campaigns", NULL, NULL, NULL, NULL), 401);
	assert_int_equal(call("GET", "/v1/campaigns", "uk_nope", NULL, NULL, NULL), 401);
	assert_int_equal(call("GET", "/v1/nothing", NULL, NULL, NULL, NULL), 401);	/* 401 before 404 */
	assert_int_equal(call("GET", "/v1/nothing", op_key, NULL, NULL, NULL), 404);
	assert_int_equal(call("GET", "/", op_key, NULL, NULL, NULL), 404);
	assert_int_equal(call("GET", "", op_key, NULL, NULL, NULL), 404);
	assert_int_equal(call("GET", "/v1/campaigns/", op_key, NULL, NULL, NULL), 200);	/* one trailing slash */
	assert_int_equal(call("PUT", "/v1/campaigns", op_key, NULL, NULL, &j), 405);
	assert_string_equal(json_string_value(json_object_get(j, "error")), "method_not_allowed");
	json_decref(j);
	/* 405 before 403 before 415 before 400 */
	assert_int_equal(call("GET", "/v1/triggers", acme_ro, NULL, NULL, NULL), 405);
	assert_int_equal(call("POST", "/v1/triggers", acme_ro, NULL, "{", NULL), 403);
	assert_int_equal(call("POST", "/v1/triggers", acme_key, "text/plain", "{}", NULL), 415);
	assert_int_equal(call("POST", "/v1/triggers", acme_key, "application/json; charset=utf-8", "{", &j), 400);
	assert_string_equal(json_string_value(json_object_get(j, "error")), "bad_json");
	json_decref(j);
	assert_int_equal(call("POST", "/v1/triggers", acme_key, "application/json", "", NULL), 400);
	assert_int_equal(call("POST", "/v1/triggers", acme_key, "application/json", "[1]", NULL), 422);
	assert_int_equal(call("POST", "/v1/triggers", acme_key, "application/json", "{\"a\":1,\"a\":2}", NULL), 400);
	assert_int_equal(call("POST", "/v1/triggers", acme_key, "application/json",
			      "{\"campaign\":\"acme-survey\",\"msisdn\":\"+491720000001\",\"x\":1,\"via\":\"nope\","
			      "\"language\":\"eng\",\"params\":{\"order\":[1]}}", &j), 422);
	/* every problem at once */
	assert_int_equal(json_array_size(json_object_get(j, "errors")), 4);
	json_decref(j);
	assert_int_equal(call("GET", "/v1/campaigns/acme-survey/results?limit=5000", acme_key, NULL, NULL, NULL), 400);
	assert_int_equal(call("GET", "/v1/campaigns/acme-survey/results?after=-1", acme_key, NULL, NULL, NULL), 400);
	assert_int_equal(call("GET", "/v1/campaigns/acme-survey/results?limit=1x", acme_key, NULL, NULL, NULL), 400);
}

static void test_body_too_large(void **state)
{
	struct uigw_api_req req = { .method = "POST", .path = "/v1/triggers", .content_type = "application/json",
				    .body_too_large = true };
	struct uigw_api_resp resp;
	void *ctx = talloc_new(fx.root);
	char auth[160];

	snprintf(auth, sizeof(auth), "Bearer %s", acme_key);
	req.authorization = auth;
	uigw_api_handle(api, ctx, &req, &resp);
	assert_int_equal(resp.status, 413);
	talloc_free(ctx);
}

static void test_ownership(void **state)
{
	json_t *j, *j2;

	assert_int_equal(call("GET", "/v1/campaigns", acme_key, NULL, NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "campaigns")), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "campaigns"), 0),
							      "name")), "acme-survey");
	json_decref(j);
	assert_int_equal(call("GET", "/v1/campaigns", op_key, NULL, NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "campaigns")), 3);
	json_decref(j);
	/* the operator's campaign and a missing one look the same to a third party */
	assert_int_equal(call("GET", "/v1/campaigns/spam", acme_key, NULL, NULL, &j), 404);
	assert_int_equal(call("GET", "/v1/campaigns/nosuch", acme_key, NULL, NULL, &j2), 404);
	assert_string_equal(json_string_value(json_object_get(j, "error")),
			    json_string_value(json_object_get(j2, "error")));
	json_decref(j);
	json_decref(j2);
	assert_int_equal(call("GET", "/v1/campaigns/spam/summary", acme_key, NULL, NULL, NULL), 404);
	assert_int_equal(call("GET", "/v1/campaigns/..%2f..%2fetc/results", acme_key, NULL, NULL, NULL), 404);
	assert_int_equal(call("GET", "/v1/campaigns/../../etc", acme_key, NULL, NULL, NULL), 404);
	assert_int_equal(call("POST", "/v1/triggers", acme_key, "application/json",
			      "{\"campaign\":\"spam\",\"msisdn\":\"+491720000001\"}", NULL), 404);
}

static void test_trigger_answer_results(void **state)
{
	struct uigw_dialog_status st;
	json_t *j, *r, *q;
	char path[96], id[32];

	assert_int_equal(call("POST", "/v1/triggers", acme_key, "application/json",
			      "{\"campaign\":\"acme-survey\",\"msisdn\":\"+491720000001\",\"via\":\"smpp-sms\","
			      "\"params\":{\"order\":\"A-7\"}}", &j), 202);
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(j, "id")));
	assert_string_equal(json_string_value(json_object_get(j, "channel")), "smpp-sms");
	json_decref(j);
	assert_non_null(rec_dlg);
	assert_non_null(strstr(rec_text, "Order A-7"));
	snprintf(path, sizeof(path), "/v1/dialogs/%s", id);
	assert_int_equal(call("GET", path, acme_key, NULL, NULL, &j), 200);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "pending");
	json_decref(j);

	assert_int_equal(uigw_dialog_input(rec_dlg, "4"), 0);
	uigw_fx_settle(gw);
	assert_int_equal(call("GET", path, acme_key, NULL, NULL, &j), 200);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "running");
	json_decref(j);
	assert_int_equal(uigw_dialog_input(rec_dlg, "yes"), 0);
	uigw_fx_settle(gw);
	assert_null(rec_dlg);
	/* ended: from the ring of recent ends, then from the store with the same answer */
	assert_int_equal(call("GET", path, acme_key, NULL, NULL, &j), 200);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "answered");
	assert_string_equal(json_string_value(json_object_get(j, "reason")), "completed");
	json_decref(j);
	memset(gw->ended, 0, sizeof(gw->ended));
	assert_int_equal(uigw_dialog_status(gw, strtoull(id, NULL, 10), &st), 1);
	assert_int_equal(st.state, UIGW_DLG_ANSWERED);
	assert_int_equal(call("GET", path, acme_key, NULL, NULL, &j), 200);
	assert_string_equal(json_string_value(json_object_get(j, "state")), "answered");
	json_decref(j);
	assert_int_equal(call("GET", "/v1/dialogs/1", acme_key, NULL, NULL, NULL), 404);
	assert_int_equal(call("GET", "/v1/dialogs/x1", acme_key, NULL, NULL, NULL), 404);
	assert_int_equal(call("GET", "/v1/dialogs/99999999999999999999999", acme_key, NULL, NULL, NULL), 404);

	assert_int_equal(call("GET", "/v1/campaigns/acme-survey/results", acme_key, NULL, NULL, &j), 200);
	r = json_object_get(j, "results");
	assert_int_equal(json_array_size(r), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "question")), "delivery");
	assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "value")), "4");
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(r, 0), "params"),
							      "order")), "A-7");
	assert_string_equal(json_string_value(json_object_get(json_array_get(r, 1), "value")), "yes");
	assert_true(json_is_null(json_object_get(j, "next")));
	json_decref(j);
	assert_int_equal(call("GET", "/v1/campaigns/acme-survey/results?limit=1", acme_key, NULL, NULL, &j), 200);
	assert_true(json_is_integer(json_object_get(j, "next")));
	json_decref(j);

	assert_int_equal(call("GET", "/v1/campaigns/acme-survey/summary", acme_key, NULL, NULL, &j), 200);
	assert_int_equal(json_integer_value(json_object_get(j, "responses")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "dialogs"), "completed")), 1);
	q = json_array_get(json_object_get(j, "questions"), 1);	/* sorted by question: again, delivery */
	assert_string_equal(json_string_value(json_object_get(q, "question")), "delivery");
	assert_true(json_real_value(json_object_get(q, "mean")) == 4.0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(q, "histogram"), "4")), 1);
	q = json_array_get(json_object_get(j, "questions"), 0);
	assert_true(json_is_null(json_object_get(q, "mean")));
	/* within summary-cache the same summary is served: computed once */
	{
		json_t *j2;
		assert_int_equal(call("GET", "/v1/campaigns/acme-survey/summary", acme_key, NULL, NULL, &j2), 200);
		assert_true(json_equal(j, j2));
		json_decref(j2);
	}
	json_decref(j);

	/* refusals: the tenant's channels, the campaign's caps */
	assert_int_equal(call("POST", "/v1/triggers", acme_key, "application/json",
			      "{\"campaign\":\"acme-survey\",\"msisdn\":\"+491720000002\",\"via\":\"map\"}", &j), 409);
	assert_string_equal(json_string_value(json_object_get(j, "refusal")), "channel_not_allowed");
	json_decref(j);
}

static void test_spam_feed(void **state)
{
	struct uigw_begin b = { .channel = UIGW_CHAN_SMPP_SMS, .msisdn = "+491720000009", .text = "SPAM +4930111222",
				.short_code = "7726" };
	json_t *j, *n;

	assert_non_null(uigw_dialog_begin(gw, &b));
	uigw_fx_settle(gw);
	assert_int_equal(call("GET", "/v1/spam/numbers", spam_key, NULL, NULL, &j), 200);
	n = json_array_get(json_object_get(j, "numbers"), 0);
	assert_string_equal(json_string_value(json_object_get(n, "number")), "+4930111222");
	assert_int_equal(json_integer_value(json_object_get(n, "reports")), 1);
	assert_int_equal(json_integer_value(json_object_get(n, "reporters")), 1);
	json_decref(j);
	assert_int_equal(call("GET", "/v1/spam/numbers/+4930111222", spam_key, NULL, NULL, &j), 200);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "by_channel"), "smpp-sms")), 1);
	json_decref(j);
	assert_int_equal(call("GET", "/v1/spam/numbers/4930111222", spam_key, NULL, NULL, NULL), 404);
	assert_int_equal(call("GET", "/v1/spam/numbers?since=2000-01-01T00:00:00.5Z", spam_key, NULL, NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "numbers")), 1);
	json_decref(j);
	assert_int_equal(call("GET", "/v1/spam/numbers?since=2000-01-01", spam_key, NULL, NULL, NULL), 400);
	assert_int_equal(call("GET", "/v1/spam/numbers", acme_key, NULL, NULL, NULL), 403);
}

struct hits {
	unsigned int n[5];
	char last_campaign[40];
};

static void count_hit(const struct uigw_event_hit *hit, void *data)
{
	struct hits *h = data;

	h->n[hit->result]++;
	snprintf(h->last_campaign, sizeof(h->last_campaign), "%s", hit->campaign->name);
}

static void test_events(void **state)
{
	struct uigw_event ev = { .type = "ping", .via = UIGW_CHAN_SMPP_SMS };
	struct hits h = { 0 };
	char msisdn[20];
	json_t *j;
	int i;

	/* sampling: about half of 400 events start the campaign */
	uigw_event_seed(gw, 42);
	for (i = 0; i < 400; i++) {
		snprintf(msisdn, sizeof(msisdn), "+4917230%05d", i);
		ev.msisdn = msisdn;
		assert_true(uigw_event(gw, &ev, count_hit, &h) >= 0);
	}
	assert_int_equal(h.n[UIGW_EVENT_TRIGGERED] + h.n[UIGW_EVENT_SAMPLED_OUT], 400);
	assert_in_range(h.n[UIGW_EVENT_TRIGGERED], 160, 240);
	/* conditions and the renamed parameter */
	memset(&h, 0, sizeof(h));
	ev.type = "pong";
	ev.msisdn = "+491723100001";
	ev.n_params = 2;
	ev.param_names[0] = "level";
	ev.param_values[0] = "2";
	ev.param_names[1] = "kind";
	ev.param_values[1] = "loud";
	assert_int_equal(uigw_event(gw, &ev, count_hit, &h), 0);
	assert_int_equal(h.n[UIGW_EVENT_CONDITION], 1);
	ev.param_values[0] = "3.5";
	ev.param_values[1] = "quiet";
	assert_int_equal(uigw_event(gw, &ev, count_hit, &h), 0);
	assert_int_equal(h.n[UIGW_EVENT_CONDITION], 2);
	ev.param_values[0] = "x3";
	ev.param_values[1] = "loud";
	assert_int_equal(uigw_event(gw, &ev, count_hit, &h), 0);
	assert_int_equal(h.n[UIGW_EVENT_CONDITION], 3);
	ev.param_values[0] = "3";
	ev.n_params = 3;
	ev.param_names[2] = "from";
	ev.param_values[2] = "Alice";
	assert_int_equal(uigw_event(gw, &ev, count_hit, &h), 1);
	assert_string_equal(h.last_campaign, "ping");
	assert_non_null(strstr(rec_text, "Ping from Alice?"));
	/* a third party's events reach only its own campaigns; the operator's reach every one */
	memset(&h, 0, sizeof(h));
	ev.owner = "acme";
	ev.msisdn = "+491723100002";
	assert_int_equal(uigw_event(gw, &ev, count_hit, &h), 0);
	assert_int_equal(h.n[UIGW_EVENT_TRIGGERED] + h.n[UIGW_EVENT_CONDITION], 0);
	/* over the API: the scope events, the answer per campaign */
	assert_int_equal(call("POST", "/v1/events", acme_key, "application/json",
			      "{\"type\":\"pong\",\"msisdn\":\"+491723100003\"}", NULL), 403);
	assert_int_equal(call("POST", "/v1/events", op_key, "application/json",
			      "{\"type\":\"pong\",\"msisdn\":\"+491723100003\",\"via\":\"smpp-sms\","
			      "\"params\":{\"level\":7,\"kind\":\"loud\",\"from\":\"Bob\"}}", &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "triggered")), 1);
	json_decref(j);
	assert_non_null(strstr(rec_text, "Ping from Bob?"));
	assert_int_equal(call("POST", "/v1/events", op_key, "application/json",
			      "{\"type\":\"pong\",\"msisdn\":\"+491723100004\",\"params\":{\"level\":[1]}}", NULL), 422);
}

static void test_revoke_and_audit(void **state)
{
	char path[160];
	sqlite3 *db;
	sqlite3_stmt *s;
	int n = -1;

	assert_int_equal(call("GET", "/v1/campaigns", acme_key, NULL, NULL, NULL), 200);
	assert_int_equal(uigw_api_key_revoke(api, "operator", acme_id), -ENOENT);	/* not its key */
	assert_int_equal(uigw_api_key_revoke(api, "acme", acme_id), 0);
	assert_int_equal(call("GET", "/v1/campaigns", acme_key, NULL, NULL, NULL), 401);
	uigw_fx_settle(gw);
	snprintf(path, sizeof(path), "%s/test.db", fx.dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM api_key WHERE revoked IS NOT NULL", -1, &s, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), 1);
	sqlite3_finalize(s);
	/* audit: one row per call, the 401s without a tenant */
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM audit WHERE status = 401 AND tenant IS NULL", -1,
					    &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	assert_true(n >= 4);
	sqlite3_close(db);
}

/* GET /metrics: one HELP and TYPE per family, its groups told apart by a label (escaped), a kind with a single
 * unnamed group without one; the operator's metrics key only. */
static const struct rate_ctr_desc t_ctr_desc[] = { { "a:b-c", "A \\ test\ncounter" } };
static const struct rate_ctr_group_desc t_kind_desc = {
	.group_name_prefix = "test:kind", .group_description = "test", .class_id = OSMO_STATS_CLASS_PEER,
	.num_ctr = 1, .ctr_desc = t_ctr_desc,
};
static const struct rate_ctr_group_desc t_single_desc = {
	.group_name_prefix = "uigw:single", .group_description = "test", .class_id = OSMO_STATS_CLASS_GLOBAL,
	.num_ctr = 1, .ctr_desc = t_ctr_desc,
};

static void test_metrics(void **state)
{
	struct rate_ctr_group *g1 = rate_ctr_group_alloc(fx.root, &t_kind_desc, 0);
	struct rate_ctr_group *g2 = rate_ctr_group_alloc(fx.root, &t_kind_desc, 1);
	struct rate_ctr_group *g3 = rate_ctr_group_alloc(fx.root, &t_single_desc, 0);
	char *text, *p;
	char key[128];
	int n = 0;

	rate_ctr_group_set_name(g1, "we\"ird\\name");
	rate_ctr_add(rate_ctr_group_get_ctr(g1, 0), 5);
	rate_ctr_inc2(g3, 0);
	text = uigw_api_metrics_text(fx.root, gw);
	assert_non_null(text);
	for (p = text; (p = strstr(p, "# TYPE uigw_test_kind_a_b_c_total counter\n")); p++)
		n++;
	assert_int_equal(n, 1);
	assert_non_null(strstr(text, "# HELP uigw_test_kind_a_b_c_total A \\\\ test\\ncounter\n"));
	assert_non_null(strstr(text, "uigw_test_kind_a_b_c_total{group=\"we\\\"ird\\\\name\"} 5\n"));
	assert_non_null(strstr(text, "uigw_test_kind_a_b_c_total{group=\"1\"} 0\n"));
	assert_non_null(strstr(text, "\nuigw_single_a_b_c_total 1\n"));
	assert_non_null(strstr(text, "\nuigw_dialog_begin_total "));
	assert_non_null(strstr(text, "# TYPE uigw_dialog_active gauge\n"));
	assert_non_null(strstr(text, "\nuigw_store_rows_total "));
	talloc_free(text);
	rate_ctr_group_free(g1);
	rate_ctr_group_free(g2);
	rate_ctr_group_free(g3);

	/* the operator's keys with scope metrics only */
	assert_int_equal(uigw_api_key_create(api, "operator", 1u << UIGW_SCOPE_METRICS, key, sizeof(key), NULL), 0);
	assert_int_equal(call("GET", "/metrics", key, NULL, NULL, NULL), 200);
	assert_int_equal(call("POST", "/metrics", key, NULL, NULL, NULL), 405);
	assert_int_equal(call("GET", "/metrics", NULL, NULL, NULL, NULL), 401);
	assert_int_equal(call("GET", "/metrics", acme_key, NULL, NULL, NULL), 403);
	assert_int_equal(uigw_api_key_create(api, "acme", 1u << UIGW_SCOPE_METRICS, key, sizeof(key), NULL), 0);
	assert_int_equal(call("GET", "/metrics", key, NULL, NULL, NULL), 403);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_of_checks),
		cmocka_unit_test(test_body_too_large),
		cmocka_unit_test(test_ownership),
		cmocka_unit_test(test_trigger_answer_results),
		cmocka_unit_test(test_spam_feed),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_revoke_and_audit),
	};

	int rc;

	uigw_fx_process_init("api_test");
	rc = cmocka_run_group_tests(tests, setup, teardown);
	return rc || !teardown_ok;
}
