/*! \file api_handle.c
 *  The routes of the HTTP API v1 (doc/api.md): authentication, rate limit, routing, scopes, the handlers, the
 *  audit log. No sockets here: api.c feeds requests in, the tests and the fuzz target do the same.
 *
 *  Order of the checks, the same for every route: key (401), rate limit (429), path (404), method (405),
 *  scope (403), body size (413), content type (415), JSON (400), fields (422), then the campaign, which a tenant
 *  that does not own it cannot tell from a missing one (404). */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/common/channel.h>
#include <osmocom/uigw/store/store.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/campaign.h>
#include <osmocom/uigw/core/chan.h>
#include <osmocom/uigw/core/dialog.h>
#include <osmocom/uigw/core/trigger.h>
#include <osmocom/uigw/core/event.h>
#include <osmocom/uigw/core/proposal.h>
#include "api_priv.h"

#define MAX_SEGS	6
#define DEFAULT_LIMIT	100
#define MAX_LIMIT	1000

/* one request in flight through the handlers */
struct call {
	struct uigw_api *api;
	void *ctx;
	const struct uigw_api_req *req;
	struct uigw_api_resp *resp;
	struct uigw_api_tenant *tenant;
	struct uigw_api_key *key;
	unsigned int n_segs;
	const char *seg[MAX_SEGS];
};

typedef void (*handler_fn)(struct call *c);

static struct uigw_proposal *own_proposal(struct call *c, const char *name);
static void h_campaigns(struct call *c);
static void h_campaign(struct call *c);
static void h_results(struct call *c);
static void h_summary(struct call *c);
static void h_trigger(struct call *c);
static void h_dialog(struct call *c);
static void h_event(struct call *c);
static void h_propose(struct call *c);
static void h_approve(struct call *c);
static void h_spam_numbers(struct call *c);
static void h_spam_number(struct call *c);

/* "*" matches one segment */
static const struct route {
	const char *method;
	const char *pattern;
	enum uigw_api_scope scope;
	handler_fn fn;
} routes[] = {
	{ "GET", "/v1/campaigns", UIGW_SCOPE_CAMPAIGNS, h_campaigns },
	{ "POST", "/v1/campaigns", UIGW_SCOPE_CAMPAIGNS, h_propose },
	{ "POST", "/v1/campaigns/*/approve", UIGW_SCOPE_ADMIN, h_approve },
	{ "POST", "/v1/campaigns/*/reject", UIGW_SCOPE_ADMIN, h_approve },
	{ "GET", "/v1/campaigns/*", UIGW_SCOPE_CAMPAIGNS, h_campaign },
	{ "GET", "/v1/campaigns/*/results", UIGW_SCOPE_RESULTS, h_results },
	{ "GET", "/v1/campaigns/*/summary", UIGW_SCOPE_RESULTS, h_summary },
	{ "POST", "/v1/triggers", UIGW_SCOPE_TRIGGER, h_trigger },
	{ "GET", "/v1/dialogs/*", UIGW_SCOPE_TRIGGER, h_dialog },
	{ "POST", "/v1/events", UIGW_SCOPE_EVENTS, h_event },
	{ "GET", "/v1/spam/numbers", UIGW_SCOPE_SPAM, h_spam_numbers },
	{ "GET", "/v1/spam/numbers/*", UIGW_SCOPE_SPAM, h_spam_number },
};

/* ---------------------------------------------------------------------------------------------------------- */
/* helpers */

#define ERR(c, status, code, fmt, args...) uigw_api_error((c)->ctx, (c)->resp, status, code, fmt, ## args)

static void reply(struct call *c, unsigned int status, json_t *j)
{
	uigw_api_reply(c->ctx, c->resp, status, j);
}

/* split the path into segments in c->seg (copies in c->ctx). \returns 0, or -1 (too many, empty, too long) */
static int split_path(struct call *c, const char *path)
{
	char *p, *save = NULL, *s;
	size_t len = strlen(path);

	if (!len || path[0] != '/' || len > 512)
		return -1;
	p = talloc_strdup(c->ctx, path);
	if (!p)
		return -1;
	/* one trailing slash is tolerated */
	if (len > 1 && p[len - 1] == '/')
		p[len - 1] = '\0';
	for (s = strtok_r(p, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
		if (c->n_segs == MAX_SEGS)
			return -1;
		c->seg[c->n_segs++] = s;
	}
	return 0;
}

static bool match(const struct call *c, const char *pattern)
{
	char tmp[64], *save = NULL, *s;
	unsigned int i = 0;

	osmo_strlcpy(tmp, pattern, sizeof(tmp));
	for (s = strtok_r(tmp, "/", &save); s; s = strtok_r(NULL, "/", &save), i++) {
		if (i >= c->n_segs)
			return false;
		if (strcmp(s, "*") && strcmp(s, c->seg[i]))
			return false;
	}
	return i == c->n_segs;
}

static const char *arg(const struct call *c, const char *name)
{
	unsigned int i;

	for (i = 0; i < c->req->n_args; i++)
		if (!strcmp(c->req->args[i].name, name))
			return c->req->args[i].value ? c->req->args[i].value : "";
	return NULL;
}

/* a query argument as an integer in [min, max]; \returns 0 (absent: *v = def), -1 (400 sent) */
static int arg_int(struct call *c, const char *name, int64_t min, int64_t max, int64_t def, int64_t *v)
{
	const char *s = arg(c, name);
	char *end;
	long long x;

	*v = def;
	if (!s)
		return 0;
	errno = 0;
	x = strtoll(s, &end, 10);
	if (!*s || *end || errno || x < min || x > max) {
		ERR(c, 400, "bad_request", "query argument %s must be an integer from %" PRId64 " to %" PRId64, name,
		    min, max);
		return -1;
	}
	*v = x;
	return 0;
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 32 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static bool e164_ok(const char *s)
{
	size_t n;

	if (!s || s[0] != '+' || s[1] < '1' || s[1] > '9')
		return false;
	n = strlen(s + 1);
	return n >= 6 && n <= 15 && strspn(s + 1, "0123456789") == n;
}

/* The campaign named by segment \a i if the tenant may see it, else a 404 was sent and NULL returned. */
static struct uigw_campaign *own_campaign(struct call *c, unsigned int i)
{
	const char *name = c->seg[i];
	struct uigw_campaign *camp = name_ok(name) ? uigw_campaign_set_find(c->api->gw->campaigns, name) : NULL;

	if (!camp || !uigw_api_owns(c->tenant, camp)) {
		ERR(c, 404, "not_found", "no campaign '%s'", name_ok(name) ? name : "?");
		return NULL;
	}
	return camp;
}

/* The request body as a JSON object; NULL if an error was sent. */
static json_t *body_object(struct call *c)
{
	const struct uigw_api_req *req = c->req;
	json_error_t jerr;
	json_t *j;
	size_t n;

	if (!req->content_type) {
		ERR(c, 415, "unsupported_media_type", "Content-Type must be application/json");
		return NULL;
	}
	n = strcspn(req->content_type, "; \t");
	if (n != strlen("application/json") || strncasecmp(req->content_type, "application/json", n)) {
		ERR(c, 415, "unsupported_media_type", "Content-Type must be application/json");
		return NULL;
	}
	if (!req->body || !req->body_len) {
		ERR(c, 400, "bad_json", "the request needs a JSON body");
		return NULL;
	}
	j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		ERR(c, 400, "bad_json", "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		uigw_api_reply(c->ctx, c->resp, 422, json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "error", "invalid",
							      "message", "the body must be a JSON object", "errors",
							      "path", "", "reason", "not an object"));
		return NULL;
	}
	return j;
}

/* 422 validation errors, collected */
struct verr {
	json_t *list;
};

static void verr_add(struct verr *v, const char *path, const char *reason)
{
	if (!v->list)
		v->list = json_array();
	json_array_append_new(v->list, json_pack("{s:s, s:s}", "path", path, "reason", reason));
}

/* \returns true if errors were sent */
static bool verr_send(struct call *c, struct verr *v)
{
	if (!v->list)
		return false;
	reply(c, 422, json_pack("{s:s, s:s, s:o}", "error", "invalid", "message", "the request has invalid fields",
				"errors", v->list));
	return true;
}

static const char *time_str(struct call *c, int64_t ms)
{
	char buf[40];

	return talloc_strdup(c->ctx, uigw_api_time_str(ms, buf, sizeof(buf)));
}

static json_t *id_json(uint64_t id)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, id);
	return json_string(buf);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* campaigns */

static void h_campaigns(struct call *c)
{
	const struct uigw_campaign_set *set = c->api->gw->campaigns;
	json_t *list = json_array();
	unsigned int i;

	struct uigw_proposal *p;

	for (i = 0; set && i < set->n; i++)
		if (uigw_api_owns(c->tenant, set->c[i]))
			json_array_append_new(list, uigw_api_campaign_json(set->c[i], false, NULL));
	llist_for_each_entry(p, &c->api->gw->proposals, list)
		if (uigw_api_owns(c->tenant, p->camp))
			json_array_append_new(list, uigw_api_campaign_json(p->camp, false, "proposed"));
	reply(c, 200, json_pack("{s:o}", "campaigns", list));
}

/* a proposal of the tenant's (the operator sees all), or NULL */
static struct uigw_proposal *own_proposal(struct call *c, const char *name)
{
	struct uigw_proposal *p = name_ok(name) ? uigw_proposal_find(c->api->gw, name) : NULL;

	return p && uigw_api_owns(c->tenant, p->camp) ? p : NULL;
}

static void h_campaign(struct call *c)
{
	struct uigw_proposal *p = own_proposal(c, c->seg[2]);
	struct uigw_campaign *camp;

	if (p) {
		reply(c, 200, uigw_api_campaign_json(p->camp, true, "proposed"));
		return;
	}
	camp = own_campaign(c, 2);
	if (camp)
		reply(c, 200, uigw_api_campaign_json(camp, true, NULL));
}

static void h_propose(struct call *c)
{
	struct uigw_proposal *p = NULL;
	json_t *body, *errors = NULL;
	char conflict[256] = "";
	int rc;

	if (!(body = body_object(c)))
		return;
	rc = uigw_api_propose(c->api, c->ctx, c->tenant, body, &p, &errors, conflict, sizeof(conflict));
	json_decref(body);
	if (rc == -EINVAL) {
		reply(c, 422, json_pack("{s:s, s:s, s:o}", "error", "invalid", "message",
					"the campaign is not valid, or not allowed for this tenant", "errors", errors));
		return;
	}
	json_decref(errors);
	if (rc == -EEXIST) {
		ERR(c, 409, "conflict", "%s", conflict);
		return;
	}
	if (rc < 0 || !p) {
		ERR(c, 500, "internal", "the proposal could not be kept: %s", conflict);
		return;
	}
	reply(c, 201, uigw_api_campaign_json(p->camp, true, "proposed"));
}

static void h_approve(struct call *c)
{
	const char *name = c->seg[2];
	struct uigw_campaign *camp;
	char err[512] = "";
	int rc;

	if (!c->tenant->is_operator) {
		ERR(c, 403, "forbidden", "only the operator approves or rejects proposals");
		return;
	}
	if (!own_proposal(c, name)) {
		ERR(c, 404, "not_found", "no proposed campaign '%s'", name_ok(name) ? name : "?");
		return;
	}
	if (!strcmp(c->seg[3], "reject")) {
		rc = uigw_proposal_reject(c->api->gw, name);
		if (rc < 0)
			ERR(c, 500, "internal", "rejected, but the file could not be moved or deleted");
		else
			reply(c, 200, json_pack("{s:s, s:s}", "name", name, "state", "rejected"));
		return;
	}
	rc = uigw_proposal_approve(c->api->gw, name, err, sizeof(err));
	if (rc < 0) {
		ERR(c, 409, "conflict", "not approved: %s", err);
		return;
	}
	camp = uigw_campaign_set_find(c->api->gw->campaigns, name);
	if (!camp) {
		ERR(c, 500, "internal", "approved, but not in service");
		return;
	}
	reply(c, 200, uigw_api_campaign_json(camp, true, NULL));
}

/* ---------------------------------------------------------------------------------------------------------- */
/* results */

struct results_ctx {
	struct call *c;
	json_t *list;
	int64_t last;
};

static void result_cb(const struct uigw_store_result *r, void *data)
{
	struct results_ctx *rc = data;
	json_t *params = NULL, *o;
	char t[40];

	if (r->params_json)
		params = json_loads(r->params_json, 0, NULL);
	o = json_pack("{s:I, s:s?, s:s?, s:i, s:o, s:s?, s:s?, s:s?, s:s, s:o}", "id", (json_int_t)r->id,
		      "subscriber", r->subscriber, "channel", r->channel, "version", (json_int_t)r->version,
		      "dialog", id_json(r->dialog), "node", r->node, "question", r->question, "value", r->value,
		      "time", uigw_api_time_str(r->time_ms, t, sizeof(t)),
		      "params", params ? params : json_object());
	if (o)
		json_array_append_new(rc->list, o);
	rc->last = r->id;
}

static void h_results(struct call *c)
{
	struct results_ctx rc = { .c = c };
	struct uigw_campaign *camp;
	int64_t after, limit;
	int n;

	if (!(camp = own_campaign(c, 2)))
		return;
	if (arg_int(c, "after", 0, INT64_MAX, 0, &after) < 0 || arg_int(c, "limit", 1, MAX_LIMIT, DEFAULT_LIMIT, &limit) < 0)
		return;
	if (!c->api->gw->store) {
		ERR(c, 503, "unavailable", "this gateway runs without a store");
		return;
	}
	rc.list = json_array();
	n = uigw_store_results(c->api->gw->store, camp->name, after, limit, result_cb, &rc);
	if (n < 0) {
		json_decref(rc.list);
		ERR(c, 500, "internal", "the store cannot be read");
		return;
	}
	reply(c, 200, json_pack("{s:s, s:o, s:o}", "campaign", camp->name, "results", rc.list, "next",
				n == limit ? json_integer(rc.last) : json_null()));
}

/* per question: count, numeric sum and count, histogram, per channel */
struct summary_ctx {
	json_t *questions;	/* question -> {count, histogram, channels, _sum, _n} */
	json_t *channels;
	int64_t total;
};

static bool number_of(const char *s, double *d)
{
	char *end;

	if (!s || !*s || strspn(s, "0123456789+-.eE") != strlen(s))
		return false;
	*d = strtod(s, &end);
	return end != s && !*end && *d == *d && *d < 1e300 && *d > -1e300;
}

static void add_int(json_t *o, const char *key, int64_t n)
{
	json_t *v = json_object_get(o, key);

	json_object_set_new(o, key, json_integer((v ? json_integer_value(v) : 0) + n));
}

static void summary_cb(const char *question, const char *channel, const char *value, int64_t count, void *data)
{
	struct summary_ctx *s = data;
	json_t *q;
	double d;

	if (!question)
		return;
	q = json_object_get(s->questions, question);
	if (!q) {
		q = json_pack("{s:s, s:i, s:{}, s:{}, s:f, s:i}", "question", question, "count", 0, "histogram",
			      "channels", "_sum", 0.0, "_n", 0);
		if (!q)
			return;
		json_object_set_new(s->questions, question, q);
	}
	add_int(q, "count", count);
	add_int(json_object_get(q, "histogram"), value ? value : "", count);
	add_int(json_object_get(q, "channels"), channel ? channel : "-", count);
	add_int(s->channels, channel ? channel : "-", count);
	s->total += count;
	if (number_of(value, &d)) {
		json_object_set_new(q, "_sum", json_real(json_real_value(json_object_get(q, "_sum")) + d * count));
		add_int(q, "_n", count);
	}
}

/* to three decimals, without libm */
static double round3(double x)
{
	double y = x * 1000;

	return (double)(int64_t)(y < 0 ? y - 0.5 : y + 0.5) / 1000;
}

/* A summary reads every answer of the campaign: under load it is computed at most once per summary_cache_ms
 * per campaign version, and every reader in between gets the same text ("as_of" says when it was computed). */
struct summary_cached {
	struct llist_head list;
	char name[33];
	unsigned int version;
	int64_t at_us;			/*!< monotonic, when computed */
	char *body;
};

static struct summary_cached *summary_cache_get(struct uigw_api *api, const struct uigw_campaign *camp)
{
	struct summary_cached *sc;
	int64_t now = uigw_mono_us();

	llist_for_each_entry(sc, &api->summaries, list) {
		if (strcmp(sc->name, camp->name))
			continue;
		if (sc->version == camp->version && now - sc->at_us < (int64_t)api->summary_cache_ms * 1000)
			return sc;
		return NULL;
	}
	return NULL;
}

static void summary_cache_put(struct uigw_api *api, const struct uigw_campaign *camp, const char *body)
{
	struct summary_cached *sc;

	if (!api->summary_cache_ms)
		return;
	llist_for_each_entry(sc, &api->summaries, list)
		if (!strcmp(sc->name, camp->name))
			break;
	if (&sc->list == &api->summaries) {
		sc = talloc_zero(api, struct summary_cached);
		if (!sc)
			return;
		osmo_strlcpy(sc->name, camp->name, sizeof(sc->name));
		llist_add(&sc->list, &api->summaries);
	}
	talloc_free(sc->body);
	sc->body = talloc_strdup(sc, body);
	sc->version = camp->version;
	sc->at_us = uigw_mono_us();
}

static void h_summary(struct call *c)
{
	struct summary_ctx s = { 0 };
	int64_t outcomes[_UIGW_OUTCOME_NUM] = { 0 }, responses = 0;
	struct summary_cached *sc;
	struct uigw_campaign *camp;
	json_t *qlist, *q, *dialogs;
	const char *key;
	unsigned int i;
	char t[40];

	if (!(camp = own_campaign(c, 2)))
		return;
	if ((sc = summary_cache_get(c->api, camp))) {
		c->resp->status = 200;
		c->resp->body = talloc_strdup(c->ctx, sc->body);
		return;
	}
	if (!c->api->gw->store) {
		ERR(c, 503, "unavailable", "this gateway runs without a store");
		return;
	}
	s.questions = json_object();
	s.channels = json_object();
	if (uigw_store_feedback(c->api->gw->store, camp->name, summary_cb, &s) < 0 ||
	    uigw_store_campaign_counts(c->api->gw->store, camp->name, outcomes, &responses) < 0) {
		json_decref(s.questions);
		json_decref(s.channels);
		ERR(c, 500, "internal", "the store cannot be read");
		return;
	}
	qlist = json_array();
	json_object_foreach(s.questions, key, q) {
		json_int_t n = json_integer_value(json_object_get(q, "_n"));
		double sum = json_real_value(json_object_get(q, "_sum"));

		/* a mean only where every answer is a number (a rating), not for a choice with a few digits */
		json_object_set_new(q, "mean", n && n == json_integer_value(json_object_get(q, "count")) ?
				    json_real(round3(sum / n)) : json_null());
		json_object_del(q, "_n");
		json_object_del(q, "_sum");
		json_array_append(qlist, q);
	}
	json_decref(s.questions);
	dialogs = json_object();
	for (i = 0; i < _UIGW_OUTCOME_NUM; i++)
		json_object_set_new(dialogs, get_value_string(uigw_outcome_names, i), json_integer(outcomes[i]));
	reply(c, 200, json_pack("{s:s, s:i, s:I, s:o, s:o, s:o, s:s}", "campaign", camp->name, "version",
				(json_int_t)camp->version, "responses", (json_int_t)responses, "dialogs", dialogs,
				"channels", s.channels, "questions", qlist, "as_of",
				uigw_api_time_str(uigw_wall_ms(), t, sizeof(t))));
	if (c->resp->status == 200)
		summary_cache_put(c->api, camp, c->resp->body);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* triggers and dialogs */

/* What triggers and events share: no unknown field, a name (a campaign, an event type), an E.164 number, an
 * optional channel. Problems go to v. \returns the number, or NULL */
static const char *common_fields(json_t *body, const char *const *fields, const char *name_field,
				 const char *name_what, const char **name, int *via, struct verr *v)
{
	char path[80], reason[96];
	const char *key, *msisdn;
	unsigned int i;
	json_t *val;

	json_object_foreach(body, key, val) {
		for (i = 0; fields[i]; i++)
			if (!strcmp(fields[i], key))
				break;
		if (!fields[i]) {
			snprintf(path, sizeof(path), "/%.60s", key);
			verr_add(v, path, "unknown field");
		}
	}
	snprintf(path, sizeof(path), "/%s", name_field);
	*name = json_string_value(json_object_get(body, name_field));
	if (!*name) {
		verr_add(v, path, "required, a string");
	} else if (!name_ok(*name)) {
		snprintf(reason, sizeof(reason), "not %s (1..32 of a-z 0-9 _ -)", name_what);
		verr_add(v, path, reason);
	}
	msisdn = json_string_value(json_object_get(body, "msisdn"));
	if (!msisdn)
		verr_add(v, "/msisdn", "required, a string");
	else if (!e164_ok(msisdn))
		verr_add(v, "/msisdn", "not an E.164 number in international form (+ and 7 to 15 digits)");
	*via = -1;
	if ((val = json_object_get(body, "via")) &&
	    (!json_is_string(val) || (*via = uigw_channel_by_name(json_string_value(val))) < 0))
		verr_add(v, "/via", "not a channel name");
	return msisdn;
}

static void h_trigger(struct call *c)
{
	static const char *const fields[] = { "campaign", "msisdn", "via", "params", "language", NULL };
	struct uigw_trigger t;
	struct uigw_trigger_res res;
	struct uigw_campaign *camp;
	struct verr v = { 0 };
	const char *key, *campaign, *msisdn;
	json_t *body, *val, *params;
	char path[80];
	int via = -1, rc;

	if (!(body = body_object(c)))
		return;
	msisdn = common_fields(body, fields, "campaign", "a campaign name", &campaign, &via, &v);
	if ((val = json_object_get(body, "language")) &&
	    (!json_is_string(val) || strlen(json_string_value(val)) != 2 ||
	     strspn(json_string_value(val), "abcdefghijklmnopqrstuvwxyz") != 2))
		verr_add(&v, "/language", "not an ISO 639-1 code");
	params = json_object_get(body, "params");
	if (params && !json_is_object(params))
		verr_add(&v, "/params", "must be an object of strings");
	else if (params && json_object_size(params) > UIGW_TRIGGER_MAX_PARAMS)
		verr_add(&v, "/params", "too many parameters");
	else if (params) {
		json_object_foreach(params, key, val) {
			snprintf(path, sizeof(path), "/params/%.50s", key);
			if (!json_is_string(val) && !json_is_integer(val))
				verr_add(&v, path, "must be a string or an integer");
			else if (json_is_string(val) && strlen(json_string_value(val)) > 256)
				verr_add(&v, path, "longer than 256 characters");
			else if (!name_ok(key))
				verr_add(&v, path, "not a parameter name");
		}
	}
	if (verr_send(c, &v)) {
		json_decref(body);
		return;
	}
	camp = uigw_campaign_set_find(c->api->gw->campaigns, campaign);
	if (!camp && own_proposal(c, campaign)) {
		reply(c, 409, json_pack("{s:s, s:s, s:s}", "error", "refused", "refusal",
					uigw_refusal_name(UIGW_REFUSAL_NOT_APPROVED), "message",
					uigw_refusal_desc(UIGW_REFUSAL_NOT_APPROVED)));
		json_decref(body);
		return;
	}
	if (!camp || !uigw_api_owns(c->tenant, camp)) {
		ERR(c, 404, "not_found", "no campaign '%s'", campaign);
		json_decref(body);
		return;
	}
	if (!c->tenant->may_push) {
		ERR(c, 403, "forbidden", "tenant %s may not trigger dialogs", c->tenant->name);
		json_decref(body);
		return;
	}
	if (via >= 0 && !(c->tenant->channels & (1u << via))) {
		reply(c, 409, json_pack("{s:s, s:s, s:s}", "error", "refused", "refusal",
					uigw_refusal_name(UIGW_REFUSAL_CHANNEL_NOT_ALLOWED), "message",
					"the tenant may not use that channel"));
		json_decref(body);
		return;
	}

	uigw_trigger_init(&t, campaign, msisdn);
	t.via = via;
	t.language = json_string_value(json_object_get(body, "language"));
	if (params) {
		json_object_foreach(params, key, val) {
			t.param_names[t.n_params] = key;
			t.param_values[t.n_params++] = json_is_string(val) ? json_string_value(val) :
				talloc_asprintf(c->ctx, "%" JSON_INTEGER_FORMAT, json_integer_value(val));
		}
	}
	rc = uigw_trigger(c->api->gw, &t, &res);
	json_decref(body);
	if (rc == 0) {
		rate_ctr_inc2(c->api->ctrs, API_CTR_TRIGGERS);
		reply(c, 202, json_pack("{s:o, s:s, s:s}", "id", id_json(res.dialog), "channel",
					uigw_channel_name(res.channel), "state", "pending"));
		return;
	}
	rate_ctr_inc2(c->api->ctrs, API_CTR_TRIGGERS_REFUSED);
	if (rc < 0 || rc == UIGW_REFUSAL_ERROR) {
		c->resp->retry_after = 1;
		ERR(c, 503, "unavailable", "the gateway cannot start the dialog now");
		return;
	}
	body = json_pack("{s:s, s:s, s:s}", "error", "refused", "refusal", uigw_refusal_name(rc), "message",
			 res.detail[0] ? res.detail : uigw_refusal_desc(rc));
	if (body && res.channel >= 0)
		json_object_set_new(body, "channel", json_string(uigw_channel_name(res.channel)));
	reply(c, 409, body);
}

struct event_ctx {
	struct call *c;
	json_t *triggered, *refused, *skipped;
};

static void event_hit(const struct uigw_event_hit *hit, void *data)
{
	struct event_ctx *e = data;
	json_t *o;

	switch (hit->result) {
	case UIGW_EVENT_TRIGGERED:
		json_array_append_new(e->triggered, json_pack("{s:s, s:o, s:s}", "campaign", hit->campaign->name, "id",
							      id_json(hit->res.dialog), "channel",
							      uigw_channel_name(hit->res.channel)));
		break;
	case UIGW_EVENT_REFUSED:
		o = json_pack("{s:s, s:s, s:s}", "campaign", hit->campaign->name, "refusal",
			      uigw_refusal_name(hit->res.refusal), "message",
			      hit->res.detail[0] ? hit->res.detail : uigw_refusal_desc(hit->res.refusal));
		json_array_append_new(e->refused, o);
		break;
	case UIGW_EVENT_FAILED:
		json_array_append_new(e->refused, json_pack("{s:s, s:s, s:s}", "campaign", hit->campaign->name,
							    "refusal", "error", "message", "internal error"));
		break;
	default:
		json_array_append_new(e->skipped, json_pack("{s:s, s:s}", "campaign", hit->campaign->name, "reason",
							    get_value_string(uigw_event_result_names, hit->result)));
		break;
	}
}

static void h_event(struct call *c)
{
	static const char *const fields[] = { "type", "msisdn", "via", "params", NULL };
	struct uigw_event ev = { .via = -1 };
	struct event_ctx e = { .c = c };
	struct verr v = { 0 };
	const char *key, *type, *msisdn;
	json_t *body, *val, *params;
	char path[80];
	int rc;

	if (!(body = body_object(c)))
		return;
	msisdn = common_fields(body, fields, "type", "an event type", &type, &ev.via, &v);
	if (ev.via >= 0 && !(c->tenant->channels & (1u << ev.via)))
		verr_add(&v, "/via", "a channel the tenant may not use");
	params = json_object_get(body, "params");
	if (params && !json_is_object(params))
		verr_add(&v, "/params", "must be an object of strings and numbers");
	else if (params && json_object_size(params) > UIGW_EVENT_MAX_PARAMS)
		verr_add(&v, "/params", "too many parameters");
	else if (params) {
		json_object_foreach(params, key, val) {
			snprintf(path, sizeof(path), "/params/%.50s", key);
			if (!name_ok(key))
				verr_add(&v, path, "not a parameter name");
			else if (json_is_string(val) && strlen(json_string_value(val)) <= 256)
				ev.param_values[ev.n_params] = json_string_value(val);
			else if (json_is_integer(val))
				ev.param_values[ev.n_params] = talloc_asprintf(c->ctx, "%" JSON_INTEGER_FORMAT,
									      json_integer_value(val));
			else if (json_is_real(val))
				ev.param_values[ev.n_params] = talloc_asprintf(c->ctx, "%.17g", json_real_value(val));
			else {
				verr_add(&v, path, "must be a string (at most 256 characters) or a number");
				continue;
			}
			ev.param_names[ev.n_params++] = key;
		}
	}
	if (verr_send(c, &v)) {
		json_decref(body);
		return;
	}
	if (!c->tenant->may_push) {
		ERR(c, 403, "forbidden", "tenant %s may not start dialogs", c->tenant->name);
		json_decref(body);
		return;
	}
	ev.type = type;
	ev.msisdn = msisdn;
	ev.owner = c->tenant->is_operator ? NULL : c->tenant->name;
	e.triggered = json_array();
	e.refused = json_array();
	e.skipped = json_array();
	rc = uigw_event(c->api->gw, &ev, event_hit, &e);
	if (rc > 0)
		rate_ctr_add(rate_ctr_group_get_ctr(c->api->ctrs, API_CTR_TRIGGERS), rc);
	reply(c, 200, json_pack("{s:s, s:o, s:o, s:o}", "type", type, "triggered", e.triggered, "refused", e.refused,
				"skipped", e.skipped));
	json_decref(body);
}

static void h_dialog(struct call *c)
{
	struct uigw_dialog_status st;
	struct uigw_campaign *camp;
	const char *s = c->seg[2];
	const char *reason = NULL;
	unsigned long long id;
	char *end;
	json_t *o;
	int rc;

	errno = 0;
	id = strtoull(s, &end, 10);
	if (!*s || *end || errno || strspn(s, "0123456789") != strlen(s)) {
		ERR(c, 404, "not_found", "no dialog '%.40s'", s);
		return;
	}
	rc = uigw_dialog_status(c->api->gw, id, &st);
	if (rc < 0) {
		ERR(c, 500, "internal", "the store cannot be read");
		return;
	}
	camp = rc ? uigw_campaign_set_find(c->api->gw->campaigns, st.campaign) : NULL;
	if (!rc || (!c->tenant->is_operator && (!camp || !uigw_api_owns(c->tenant, camp)))) {
		ERR(c, 404, "not_found", "no dialog %llu", id);
		return;
	}
	switch (st.state) {
	case UIGW_DLG_REFUSED:
		reason = st.refusal != UIGW_REFUSAL_NONE ? uigw_refusal_name(st.refusal) :
			get_value_string(uigw_outcome_names, st.outcome);
		break;
	case UIGW_DLG_ANSWERED:
	case UIGW_DLG_ENDED:
		reason = get_value_string(uigw_outcome_names, st.outcome);
		break;
	default:
		break;
	}
	o = json_pack("{s:o, s:s, s:s, s:s, s:i, s:s}", "id", id_json(id), "campaign", st.campaign,
		      "channel", st.channel >= 0 ? uigw_channel_name(st.channel) : "api", "state",
		      get_value_string(uigw_dialog_state_names, st.state), "steps", (json_int_t)st.steps,
		      "started", time_str(c, st.started_ms));
	if (o && reason)
		json_object_set_new(o, "reason", json_string(reason));
	if (o && st.ended_ms)
		json_object_set_new(o, "ended", json_string(time_str(c, st.ended_ms)));
	reply(c, 200, o);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* the spam feed */

struct spam_ctx {
	json_t *list;
	char t[40];
};

static void spam_number_cb(const char *number, int64_t reports, int64_t reporters, int64_t last_ms, void *data)
{
	struct spam_ctx *s = data;

	json_array_append_new(s->list, json_pack("{s:s, s:I, s:I, s:s}", "number", number ? number : "",
						 "reports", (json_int_t)reports, "reporters", (json_int_t)reporters,
						 "last_report", uigw_api_time_str(last_ms, s->t, sizeof(s->t))));
}

static void h_spam_numbers(struct call *c)
{
	struct spam_ctx s = { 0 };
	int64_t min, limit, since = 0;
	const char *since_s = arg(c, "since");

	if (arg_int(c, "min_reports", 1, INT32_MAX, 1, &min) < 0 ||
	    arg_int(c, "limit", 1, MAX_LIMIT, DEFAULT_LIMIT, &limit) < 0)
		return;
	if (since_s && uigw_api_time_parse(since_s, &since) < 0) {
		ERR(c, 400, "bad_request", "since must be an RFC 3339 UTC time (2026-12-01T00:00:00Z) or ms");
		return;
	}
	if (!c->api->gw->store) {
		ERR(c, 503, "unavailable", "this gateway runs without a store");
		return;
	}
	s.list = json_array();
	if (uigw_store_spam_numbers(c->api->gw->store, NULL, min, since, limit, spam_number_cb, &s) < 0) {
		json_decref(s.list);
		ERR(c, 500, "internal", "the store cannot be read");
		return;
	}
	reply(c, 200, json_pack("{s:o}", "numbers", s.list));
}

struct spam_reports_ctx {
	json_t *list, *by_channel;
	char t[40];
};

static void spam_report_cb(const char *channel, const char *campaign, int64_t time_ms, bool counted, void *data)
{
	struct spam_reports_ctx *s = data;

	json_array_append_new(s->list, json_pack("{s:s?, s:s?, s:s, s:b}", "channel", channel, "campaign", campaign,
						 "time", uigw_api_time_str(time_ms, s->t, sizeof(s->t)),
						 "counted", counted));
	if (counted)
		add_int(s->by_channel, channel ? channel : "-", 1);
}

static void h_spam_number(struct call *c)
{
	struct spam_ctx s = { 0 };
	struct spam_reports_ctx r = { 0 };
	const char *number = c->seg[3];
	json_t *o;

	if (!e164_ok(number)) {
		ERR(c, 404, "not_found", "no reports of that number (numbers are E.164: +491701234567)");
		return;
	}
	if (!c->api->gw->store) {
		ERR(c, 503, "unavailable", "this gateway runs without a store");
		return;
	}
	s.list = json_array();
	r.list = json_array();
	r.by_channel = json_object();
	if (uigw_store_spam_numbers(c->api->gw->store, number, 1, 0, 1, spam_number_cb, &s) < 0 ||
	    uigw_store_spam_reports(c->api->gw->store, number, MAX_LIMIT, spam_report_cb, &r) < 0) {
		json_decref(s.list);
		json_decref(r.list);
		json_decref(r.by_channel);
		ERR(c, 500, "internal", "the store cannot be read");
		return;
	}
	o = json_array_get(s.list, 0);
	if (!o) {
		json_decref(s.list);
		json_decref(r.list);
		json_decref(r.by_channel);
		ERR(c, 404, "not_found", "no reports of %s", number);
		return;
	}
	json_incref(o);
	json_decref(s.list);
	json_object_set_new(o, "by_channel", r.by_channel);
	json_object_set_new(o, "recent_reports", r.list);
	reply(c, 200, o);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* the entry */

static void audit_done(struct uigw_store_job *job, void *data)
{
	struct uigw_api *api = data;

	if (job->rc < 0) {
		rate_ctr_inc2(api->ctrs, API_CTR_AUDIT_LOST);
		LOGP(DAPI, LOGL_ERROR, "audit records not stored (%d)\n", job->rc);
	}
	talloc_free(job);
}

/* One audit row per call (and the key's last use, at most once a minute), fire and forget. */
static void audit(struct uigw_api *api, const struct uigw_api_req *req, const struct uigw_api_tenant *t,
		  struct uigw_api_key *k, unsigned int status)
{
	struct uigw_store *st = api->gw->store;
	struct uigw_store_job *job;
	struct uigw_store_row *r;
	int64_t now = uigw_wall_ms();

	if (!st)
		return;
	job = uigw_store_job_alloc(st, audit_done, api);
	if (!job)
		goto lost;
	r = uigw_store_job_row(job, UIGW_ROW_AUDIT);
	if (!r)
		goto lost_job;
	r->time_ms = now;
	r->u.audit.tenant = t ? talloc_strdup(job, t->name) : NULL;
	r->u.audit.key_id = k ? k->id : 0;
	r->u.audit.method = talloc_strndup(job, req->method ? req->method : "", 16);
	r->u.audit.path = talloc_strndup(job, req->path ? req->path : "", 512);
	r->u.audit.status = status;
	r->u.audit.remote = req->remote ? talloc_strdup(job, req->remote) : NULL;
	if (k && now - k->last_used_written_ms >= 60000) {
		r = uigw_store_job_row(job, UIGW_ROW_API_KEY_USED);
		if (!r)
			goto lost_job;
		r->time_ms = now;
		r->u.api_key.id = k->id;
		k->last_used_written_ms = now;
	}
	if (uigw_store_submit(job) == 0)
		return;
lost_job:
	talloc_free(job);
lost:
	rate_ctr_inc2(api->ctrs, API_CTR_AUDIT_LOST);
}

void uigw_api_handle(struct uigw_api *api, void *ctx, const struct uigw_api_req *req, struct uigw_api_resp *resp)
{
	struct call c = { .api = api, .ctx = ctx, .req = req, .resp = resp };
	const struct route *rt = NULL;
	char allow[32] = "";
	unsigned int i;

	memset(resp, 0, sizeof(*resp));
	rate_ctr_inc2(api->ctrs, API_CTR_REQUESTS);

	c.key = uigw_api_key_find(api, req->authorization);
	if (c.key && !c.key->revoked_ms)
		c.tenant = uigw_api_tenant_find(api, c.key->tenant);
	if (!c.tenant) {
		rate_ctr_inc2(api->ctrs, API_CTR_UNAUTHORIZED);
		ERR(&c, 401, "unauthorized", req->authorization ? "the key is not valid" :
		    "an Authorization: Bearer KEY header is needed");
		c.key = NULL;
		goto out;
	}
	c.key->last_used_ms = uigw_wall_ms();
	if (!uigw_api_key_take(api, c.key, c.tenant)) {
		rate_ctr_inc2(api->ctrs, API_CTR_RATE_LIMITED);
		resp->retry_after = 1;
		ERR(&c, 429, "rate_limited", "more than %u requests per second", c.tenant->rate_limit);
		goto out;
	}

	if (!req->path || !req->method || split_path(&c, req->path) < 0) {
		ERR(&c, 404, "not_found", "no such resource");
		goto out;
	}
	for (i = 0; i < ARRAY_SIZE(routes); i++) {
		if (!match(&c, routes[i].pattern))
			continue;
		if (!strcmp(routes[i].method, req->method)) {
			rt = &routes[i];
			break;
		}
		snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow), "%s%s", allow[0] ? ", " : "",
			 routes[i].method);
	}
	if (!rt) {
		if (allow[0]) {
			resp->allow = talloc_strdup(ctx, allow);
			ERR(&c, 405, "method_not_allowed", "%s is not allowed here (allowed: %s)", req->method,
			    resp->allow);
		} else {
			ERR(&c, 404, "not_found", "no such resource");
		}
		goto out;
	}
	if (!(c.key->scopes & (1u << rt->scope))) {
		rate_ctr_inc2(api->ctrs, API_CTR_FORBIDDEN);
		ERR(&c, 403, "forbidden", "the key lacks scope %s", uigw_api_scope_name(rt->scope));
		goto out;
	}
	if (req->body_too_large) {
		ERR(&c, 413, "too_large", "the body exceeds %u bytes", UIGW_API_MAX_BODY);
		goto out;
	}
	rt->fn(&c);
	if (!resp->status)
		ERR(&c, 500, "internal", "no answer");
out:
	if (resp->status < 300)
		rate_ctr_inc2(api->ctrs, API_CTR_R2XX);
	else if (resp->status < 500)
		rate_ctr_inc2(api->ctrs, API_CTR_R4XX);
	else
		rate_ctr_inc2(api->ctrs, API_CTR_R5XX);
	audit(api, req, c.tenant, c.key, resp->status);
}
