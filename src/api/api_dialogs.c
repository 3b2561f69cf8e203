/*! \file api_dialogs.c
 *  The HTTP API's way into the core's one trigger path: POST /v1/triggers, POST /v1/events, and the dialog's
 *  state at GET /v1/dialogs/{id}. */

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
			api_verr_add(v, path, "unknown field");
		}
	}
	snprintf(path, sizeof(path), "/%s", name_field);
	*name = json_string_value(json_object_get(body, name_field));
	if (!*name) {
		api_verr_add(v, path, "required, a string");
	} else if (!api_name_ok(*name)) {
		snprintf(reason, sizeof(reason), "not %s (1..32 of a-z 0-9 _ -)", name_what);
		api_verr_add(v, path, reason);
	}
	msisdn = json_string_value(json_object_get(body, "msisdn"));
	if (!msisdn)
		api_verr_add(v, "/msisdn", "required, a string");
	else if (!api_e164_ok(msisdn))
		api_verr_add(v, "/msisdn", "not an E.164 number in international form (+ and 7 to 15 digits)");
	*via = -1;
	if ((val = json_object_get(body, "via")) &&
	    (!json_is_string(val) || (*via = uigw_channel_by_name(json_string_value(val))) < 0))
		api_verr_add(v, "/via", "not a channel name");
	return msisdn;
}

void api_h_trigger(struct call *c)
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

	if (!(body = api_body_object(c)))
		return;
	msisdn = common_fields(body, fields, "campaign", "a campaign name", &campaign, &via, &v);
	if ((val = json_object_get(body, "language")) &&
	    (!json_is_string(val) || strlen(json_string_value(val)) != 2 ||
	     strspn(json_string_value(val), "abcdefghijklmnopqrstuvwxyz") != 2))
		api_verr_add(&v, "/language", "not an ISO 639-1 code");
	params = json_object_get(body, "params");
	if (params && !json_is_object(params))
		api_verr_add(&v, "/params", "must be an object of strings");
	else if (params && json_object_size(params) > UIGW_TRIGGER_MAX_PARAMS)
		api_verr_add(&v, "/params", "too many parameters");
	else if (params) {
		json_object_foreach(params, key, val) {
			snprintf(path, sizeof(path), "/params/%.50s", key);
			if (!json_is_string(val) && !json_is_integer(val))
				api_verr_add(&v, path, "must be a string or an integer");
			else if (json_is_string(val) && strlen(json_string_value(val)) > 256)
				api_verr_add(&v, path, "longer than 256 characters");
			else if (!api_name_ok(key))
				api_verr_add(&v, path, "not a parameter name");
		}
	}
	if (api_verr_send(c, &v)) {
		json_decref(body);
		return;
	}
	camp = uigw_campaign_set_find(c->api->gw->campaigns, campaign);
	if (!camp && api_own_proposal(c, campaign)) {
		api_reply(c, 409, json_pack("{s:s, s:s, s:s}", "error", "refused", "refusal",
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
		api_reply(c, 409, json_pack("{s:s, s:s, s:s}", "error", "refused", "refusal",
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
	if (rc == 0 && res.deferred) {
		char until[40];

		rate_ctr_inc2(c->api->ctrs, API_CTR_TRIGGERS);
		uigw_api_time_str(res.deferred_until_ms, until, sizeof(until));
		/* no dialog yet: it starts when the subscriber's quiet hours end (or its pacing slot comes) */
		api_reply(c, 202, json_pack("{s:n, s:s, s:s, s:s}", "id", "state", "deferred", "until", until,
					    "reason", res.deferred_reason));
		return;
	}
	if (rc == 0) {
		rate_ctr_inc2(c->api->ctrs, API_CTR_TRIGGERS);
		api_reply(c, 202, json_pack("{s:o, s:s, s:s}", "id", api_id_json(res.dialog), "channel",
					uigw_channel_name(res.channel), "state", "pending"));
		return;
	}
	rate_ctr_inc2(c->api->ctrs, API_CTR_TRIGGERS_REFUSED);
	if (rc < 0 || rc == UIGW_REFUSAL_ERROR) {
		c->resp->retry_after = 1;
		ERR(c, 503, "unavailable", "the gateway cannot start the dialog now");
		return;
	}
	if (rc == UIGW_REFUSAL_BUSY) {
		/* overload control, max-dialogs or a failing store: come back later (not the request's fault) */
		c->resp->retry_after = c->api->gw->overload.cfg.retry_after_s;
		ERR(c, 503, "unavailable", "busy: the gateway takes no new dialogs now (overload, max-dialogs or a "
		    "failing store); try again after Retry-After");
		return;
	}
	body = json_pack("{s:s, s:s, s:s}", "error", "refused", "refusal", uigw_refusal_name(rc), "message",
			 res.detail[0] ? res.detail : uigw_refusal_desc(rc));
	if (body && res.channel >= 0)
		json_object_set_new(body, "channel", json_string(uigw_channel_name(res.channel)));
	api_reply(c, 409, body);
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
							      api_id_json(hit->res.dialog), "channel",
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

void api_h_event(struct call *c)
{
	static const char *const fields[] = { "type", "msisdn", "via", "params", NULL };
	struct uigw_event ev = { .via = -1 };
	struct event_ctx e = { .c = c };
	struct verr v = { 0 };
	const char *key, *type, *msisdn;
	json_t *body, *val, *params;
	char path[80];
	int rc;

	if (!(body = api_body_object(c)))
		return;
	msisdn = common_fields(body, fields, "type", "an event type", &type, &ev.via, &v);
	if (ev.via >= 0 && !(c->tenant->channels & (1u << ev.via)))
		api_verr_add(&v, "/via", "a channel the tenant may not use");
	params = json_object_get(body, "params");
	if (params && !json_is_object(params))
		api_verr_add(&v, "/params", "must be an object of strings and numbers");
	else if (params && json_object_size(params) > UIGW_EVENT_MAX_PARAMS)
		api_verr_add(&v, "/params", "too many parameters");
	else if (params) {
		json_object_foreach(params, key, val) {
			snprintf(path, sizeof(path), "/params/%.50s", key);
			if (!api_name_ok(key))
				api_verr_add(&v, path, "not a parameter name");
			else if (json_is_string(val) && strlen(json_string_value(val)) <= 256)
				ev.param_values[ev.n_params] = json_string_value(val);
			else if (json_is_integer(val))
				ev.param_values[ev.n_params] = talloc_asprintf(c->ctx, "%" JSON_INTEGER_FORMAT,
									      json_integer_value(val));
			else if (json_is_real(val))
				ev.param_values[ev.n_params] = talloc_asprintf(c->ctx, "%.17g", json_real_value(val));
			else {
				api_verr_add(&v, path, "must be a string (at most 256 characters) or a number");
				continue;
			}
			ev.param_names[ev.n_params++] = key;
		}
	}
	if (api_verr_send(c, &v)) {
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
	api_reply(c, 200, json_pack("{s:s, s:o, s:o, s:o}", "type", type, "triggered", e.triggered, "refused", e.refused,
				"skipped", e.skipped));
	json_decref(body);
}

void api_h_dialog(struct call *c)
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
	o = json_pack("{s:o, s:s, s:s, s:i, s:s}", "id", api_id_json(id), "campaign", st.campaign, "state",
		      get_value_string(uigw_dialog_state_names, st.state), "steps", (json_int_t)st.steps,
		      "started", api_time_str(c, st.started_ms));
	/* a stored dialog of a channel this build does not know has none to show */
	if (o && st.channel >= 0)
		json_object_set_new(o, "channel", json_string(uigw_channel_name(st.channel)));
	if (o && reason)
		json_object_set_new(o, "reason", json_string(reason));
	if (o && st.ended_ms)
		json_object_set_new(o, "ended", json_string(api_time_str(c, st.ended_ms)));
	api_reply(c, 200, o);
}
