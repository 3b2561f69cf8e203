/*! \file api_read.c
 *  The HTTP API's reads of the feedback store: a campaign's answers (cursor-paginated, with the trigger's
 *  parameters), its summary (from the counts the store keeps; computed at most once per summary-cache), and the
 *  spam feed. */

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
		      "dialog", api_id_json(r->dialog), "node", r->node, "question", r->question, "value", r->value,
		      "time", uigw_api_time_str(r->time_ms, t, sizeof(t)),
		      "params", params ? params : json_object());
	if (o)
		json_array_append_new(rc->list, o);
	rc->last = r->id;
}

/* ?include_test=true, or the gateway's test-drive-results include: the test drive's answers count */
static bool include_test(struct call *c)
{
	const char *v = api_arg(c, "include_test");

	return c->api->gw->cfg.test_results || (v && (!strcmp(v, "true") || !strcmp(v, "1")));
}

void api_h_results(struct call *c)
{
	struct results_ctx rc = { .c = c };
	struct uigw_campaign *camp;
	int64_t after, limit;
	int n;

	if (!(camp = api_own_campaign(c, 2)))
		return;
	if (api_arg_int(c, "after", 0, INT64_MAX, 0, &after) < 0 || api_arg_int(c, "limit", 1, MAX_LIMIT, DEFAULT_LIMIT, &limit) < 0)
		return;
	if (!c->api->gw->store) {
		ERR(c, 503, "unavailable", "this gateway runs without a store");
		return;
	}
	rc.list = json_array();
	n = uigw_store_results(c->api->gw->store, camp->name, after, limit, include_test(c), result_cb, &rc);
	if (n < 0) {
		json_decref(rc.list);
		ERR(c, 500, "internal", "the store cannot be read");
		return;
	}
	api_reply(c, 200, json_pack("{s:s, s:o, s:o}", "campaign", camp->name, "results", rc.list, "next",
				n == limit ? json_integer(rc.last) : json_null()));
}

/* per question: count, numeric sum and count, histogram, per channel */
struct summary_ctx {
	json_t *questions;	/* question -> {count, histogram, channels, _sum, _n} */
	json_t *channels;
	int64_t total;
	bool test;		/* the operator's test drive (channel vty) included */
};


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

	if (!question || (!s->test && channel && !strcmp(channel, "vty")))
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
	if (uigw_store_is_number(value, &d)) {
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

void api_h_summary(struct call *c)
{
	struct summary_ctx s = { 0 };
	int64_t outcomes[_UIGW_OUTCOME_NUM] = { 0 }, responses = 0;
	struct summary_cached *sc;
	struct uigw_campaign *camp;
	json_t *qlist, *q, *dialogs;
	struct uigw_dialog *dlg;
	const char *key;
	unsigned int i;
	int active = 0;
	char t[40];

	if (!(camp = api_own_campaign(c, 2)))
		return;
	s.test = include_test(c);
	/* the cache holds the default view */
	if (s.test == c->api->gw->cfg.test_results && (sc = summary_cache_get(c->api, camp))) {
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
	    uigw_store_campaign_counts(c->api->gw->store, camp->name, outcomes, &responses, s.test) < 0) {
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
	/* running now, on any version of the campaign (the summary is cached for summary-cache ms) */
	llist_for_each_entry(dlg, &c->api->gw->dialogs, list)
		active += dlg->camp && !strcmp(dlg->camp->name, camp->name) && (s.test || dlg->channel != UIGW_CHAN_VTY);
	api_reply(c, 200, json_pack("{s:s, s:i, s:I, s:o, s:o, s:o, s:i, s:s}", "campaign", camp->name, "version",
				(json_int_t)camp->version, "responses", (json_int_t)responses, "dialogs", dialogs,
				"channels", s.channels, "questions", qlist, "active_dialogs", active, "as_of",
				uigw_api_time_str(uigw_wall_ms(), t, sizeof(t))));
	if (c->resp->status == 200 && s.test == c->api->gw->cfg.test_results)
		summary_cache_put(c->api, camp, c->resp->body);
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

void api_h_spam_numbers(struct call *c)
{
	struct spam_ctx s = { 0 };
	int64_t min, limit, since = 0;
	const char *since_s = api_arg(c, "since");

	if (api_arg_int(c, "min_reports", 1, INT32_MAX, 1, &min) < 0 ||
	    api_arg_int(c, "limit", 1, MAX_LIMIT, DEFAULT_LIMIT, &limit) < 0)
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
	api_reply(c, 200, json_pack("{s:o}", "numbers", s.list));
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

void api_h_spam_number(struct call *c)
{
	struct spam_ctx s = { 0 };
	struct spam_reports_ctx r = { 0 };
	const char *number = c->seg[3];
	json_t *o;

	if (!api_e164_ok(number)) {
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
	api_reply(c, 200, o);
}
