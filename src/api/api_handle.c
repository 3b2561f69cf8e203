/*! \file api_handle.c
 *  The routes of the HTTP API v1 (doc/api.md): authentication, rate limit, routing, scopes, the shared checks,
 *  campaigns and proposals, the audit log. Triggers, events and dialogs are in api_dialogs.c, the store's reads
 *  (results, summaries, the spam feed) in api_read.c. No sockets here: api.c feeds requests in, the tests and
 *  the fuzz target do the same.
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
#include "api_call.h"

typedef void (*handler_fn)(struct call *c);

/* "*" matches one segment */
static const struct route {
	const char *method;
	const char *pattern;
	enum uigw_api_scope scope;
	handler_fn fn;
} routes[] = {
	{ "GET", "/v1/campaigns", UIGW_SCOPE_CAMPAIGNS, api_h_campaigns },
	{ "POST", "/v1/campaigns", UIGW_SCOPE_CAMPAIGNS, api_h_propose },
	{ "POST", "/v1/campaigns/*/approve", UIGW_SCOPE_ADMIN, api_h_approve },
	{ "POST", "/v1/campaigns/*/reject", UIGW_SCOPE_ADMIN, api_h_approve },
	{ "GET", "/v1/campaigns/*", UIGW_SCOPE_CAMPAIGNS, api_h_campaign },
	{ "GET", "/v1/campaigns/*/results", UIGW_SCOPE_RESULTS, api_h_results },
	{ "GET", "/v1/campaigns/*/summary", UIGW_SCOPE_RESULTS, api_h_summary },
	{ "POST", "/v1/triggers", UIGW_SCOPE_TRIGGER, api_h_trigger },
	{ "GET", "/v1/dialogs/*", UIGW_SCOPE_TRIGGER, api_h_dialog },
	{ "POST", "/v1/events", UIGW_SCOPE_EVENTS, api_h_event },
	{ "GET", "/v1/spam/numbers", UIGW_SCOPE_SPAM, api_h_spam_numbers },
	{ "GET", "/v1/spam/numbers/*", UIGW_SCOPE_SPAM, api_h_spam_number },
	{ "GET", "/metrics", UIGW_SCOPE_METRICS, api_h_metrics },
	{ "GET", "/v1/webhooks", UIGW_SCOPE_RESULTS, api_h_webhooks },
	{ "POST", "/v1/webhooks", UIGW_SCOPE_RESULTS, api_h_webhook_create },
	{ "GET", "/v1/webhooks/*", UIGW_SCOPE_RESULTS, api_h_webhook },
	{ "DELETE", "/v1/webhooks/*", UIGW_SCOPE_RESULTS, api_h_webhook_delete },
	{ "GET", "/v1/webhooks/*/dead", UIGW_SCOPE_RESULTS, api_h_webhook_dead },
	{ "POST", "/v1/webhooks/*/resend", UIGW_SCOPE_RESULTS, api_h_webhook_resend },
};

/* ---------------------------------------------------------------------------------------------------------- */
/* helpers */

void api_reply(struct call *c, unsigned int status, json_t *j)
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

const char *api_arg(const struct call *c, const char *name)
{
	unsigned int i;

	for (i = 0; i < c->req->n_args; i++)
		if (!strcmp(c->req->args[i].name, name))
			return c->req->args[i].value ? c->req->args[i].value : "";
	return NULL;
}

/* a query argument as an integer in [min, max]; \returns 0 (absent: *v = def), -1 (400 sent) */
int api_arg_int(struct call *c, const char *name, int64_t min, int64_t max, int64_t def, int64_t *v)
{
	const char *s = api_arg(c, name);
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

bool api_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 32 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

bool api_e164_ok(const char *s)
{
	size_t n;

	if (!s || s[0] != '+' || s[1] < '1' || s[1] > '9')
		return false;
	n = strlen(s + 1);
	return n >= 6 && n <= 15 && strspn(s + 1, "0123456789") == n;
}

/* The campaign named by segment \a i if the tenant may see it, else a 404 was sent and NULL returned. */
struct uigw_campaign *api_own_campaign(struct call *c, unsigned int i)
{
	const char *name = c->seg[i];
	struct uigw_campaign *camp = api_name_ok(name) ? uigw_campaign_set_find(c->api->gw->campaigns, name) : NULL;

	if (!camp || !uigw_api_owns(c->tenant, camp)) {
		ERR(c, 404, "not_found", "no campaign '%s'", api_name_ok(name) ? name : "?");
		return NULL;
	}
	return camp;
}

/* The request body as a JSON object; NULL if an error was sent. */
json_t *api_body_object(struct call *c)
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

void api_verr_add(struct verr *v, const char *path, const char *reason)
{
	if (!v->list)
		v->list = json_array();
	json_array_append_new(v->list, json_pack("{s:s, s:s}", "path", path, "reason", reason));
}

/* \returns true if errors were sent */
bool api_verr_send(struct call *c, struct verr *v)
{
	if (!v->list)
		return false;
	api_reply(c, 422, json_pack("{s:s, s:s, s:o}", "error", "invalid", "message", "the request has invalid fields",
				"errors", v->list));
	return true;
}

const char *api_time_str(struct call *c, int64_t ms)
{
	char buf[40];

	return talloc_strdup(c->ctx, uigw_api_time_str(ms, buf, sizeof(buf)));
}

json_t *api_id_json(uint64_t id)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, id);
	return json_string(buf);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* campaigns */

void api_h_campaigns(struct call *c)
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
	api_reply(c, 200, json_pack("{s:o}", "campaigns", list));
}

/* a proposal of the tenant's (the operator sees all), or NULL */
struct uigw_proposal *api_own_proposal(struct call *c, const char *name)
{
	struct uigw_proposal *p = api_name_ok(name) ? uigw_proposal_find(c->api->gw, name) : NULL;

	return p && uigw_api_owns(c->tenant, p->camp) ? p : NULL;
}

void api_h_campaign(struct call *c)
{
	struct uigw_proposal *p = api_own_proposal(c, c->seg[2]);
	struct uigw_campaign *camp;

	if (p) {
		api_reply(c, 200, uigw_api_campaign_json(p->camp, true, "proposed"));
		return;
	}
	camp = api_own_campaign(c, 2);
	if (camp)
		api_reply(c, 200, uigw_api_campaign_json(camp, true, NULL));
}

void api_h_propose(struct call *c)
{
	struct uigw_proposal *p = NULL;
	json_t *body, *errors = NULL;
	char conflict[256] = "";
	int rc;

	if (!(body = api_body_object(c)))
		return;
	rc = uigw_api_propose(c->api, c->ctx, c->tenant, body, &p, &errors, conflict, sizeof(conflict));
	json_decref(body);
	if (rc == -EINVAL) {
		api_reply(c, 422, json_pack("{s:s, s:s, s:o}", "error", "invalid", "message",
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
	api_reply(c, 201, uigw_api_campaign_json(p->camp, true, "proposed"));
}

void api_h_approve(struct call *c)
{
	const char *name = c->seg[2];
	struct uigw_campaign *camp;
	char err[512] = "";
	int rc;

	if (!c->tenant->is_operator) {
		ERR(c, 403, "forbidden", "only the operator approves or rejects proposals");
		return;
	}
	if (!api_own_proposal(c, name)) {
		ERR(c, 404, "not_found", "no proposed campaign '%s'", api_name_ok(name) ? name : "?");
		return;
	}
	if (!strcmp(c->seg[3], "reject")) {
		rc = uigw_proposal_reject(c->api->gw, name);
		if (rc < 0)
			ERR(c, 500, "internal", "rejected, but the file could not be moved or deleted");
		else
			api_reply(c, 200, json_pack("{s:s, s:s}", "name", name, "state", "rejected"));
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
	api_reply(c, 200, uigw_api_campaign_json(camp, true, NULL));
}

/* ---------------------------------------------------------------------------------------------------------- */
/* the entry */

/* One audit row per call (and the key's last use, at most once a minute), fire and forget: the store's log
 * rows, committed in groups (a store that refuses them counts them in `show store`). */
static void audit(struct uigw_api *api, const struct uigw_api_req *req, const struct uigw_api_tenant *t,
		  struct uigw_api_key *k, unsigned int status)
{
	struct uigw_store *st = api->gw->store;
	struct uigw_store_row *r;
	int64_t now = uigw_wall_ms();
	void *ctx;

	if (!st)
		return;
	r = uigw_store_log_row(st, UIGW_ROW_AUDIT, &ctx);
	if (!r)
		goto lost;
	r->time_ms = now;
	r->u.audit.tenant = t ? talloc_strdup(ctx, t->name) : NULL;
	r->u.audit.key_id = k ? k->id : 0;
	r->u.audit.method = talloc_strndup(ctx, req->method ? req->method : "", 16);
	r->u.audit.path = talloc_strndup(ctx, req->path ? req->path : "", 512);
	r->u.audit.status = status;
	r->u.audit.remote = req->remote ? talloc_strdup(ctx, req->remote) : NULL;
	if (k && now - k->last_used_written_ms >= 60000) {
		r = uigw_store_log_row(st, UIGW_ROW_API_KEY_USED, &ctx);
		if (!r)
			goto lost;
		r->time_ms = now;
		r->u.api_key.id = k->id;
		k->last_used_written_ms = now;
	}
	return;
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

	/* `metrics public`: Prometheus may scrape without a key */
	if (api->cfg.metrics_public && req->method && !strcmp(req->method, "GET") && req->path &&
	    !strcmp(req->path, "/metrics")) {
		api_h_metrics(&c);
		goto out;
	}
	c.key = uigw_api_key_find(api, req->authorization);
	if (!c.key && req->authorization && api->gw->store && uigw_store_shared(api->gw->store)) {
		/* a key another gateway created a moment ago (read again at most once a second) */
		uigw_api_sync(api, false);
		c.key = uigw_api_key_find(api, req->authorization);
	}
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
