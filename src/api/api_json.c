/*! \file api_json.c
 *  JSON helpers of the HTTP API: replies and errors, times in RFC 3339, campaigns as JSON. */

#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/logging.h>
#include <osmocom/uigw/common/channel.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/core/campaign.h>
#include "api_priv.h"

void uigw_api_reply(void *ctx, struct uigw_api_resp *resp, unsigned int status, json_t *j)
{
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;

	resp->status = status;
	resp->body = NULL;
	if (text) {
		resp->body = talloc_strdup(ctx, text);
		free(text);
	}
	if (!resp->body) {
		/* json_pack() refused (out of memory, a string that is not UTF-8): never an answer without a body */
		LOGP(DAPI, LOGL_ERROR, "cannot build the JSON answer (status %u)\n", status);
		resp->status = 500;
		resp->body = talloc_strdup(ctx, "{\"error\":\"internal\",\"message\":\"the answer could not be built\"}");
	}
	json_decref(j);
}

void uigw_api_error(void *ctx, struct uigw_api_resp *resp, unsigned int status, const char *code,
		    const char *fmt, ...)
{
	char msg[256], *p;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* messages quote what the client sent (a method, a path): printable ASCII only, so always valid JSON */
	for (p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	uigw_api_reply(ctx, resp, status, json_pack("{s:s, s:s}", "error", code, "message", msg));
}

const char *uigw_api_time_str(int64_t ms, char *buf, size_t len)
{
	time_t s = ms / 1000;
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	return buf;
}

int uigw_api_time_parse(const char *s, int64_t *ms)
{
	struct tm tm = { 0 };
	const char *end;
	char *e;
	long long v;
	int frac = 0, digits = 0;

	if (!s || !*s)
		return -EINVAL;
	if (strspn(s, "0123456789") == strlen(s)) {
		if (strlen(s) > 15)
			return -EINVAL;
		v = strtoll(s, &e, 10);
		*ms = v;
		return 0;
	}
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return -EINVAL;
	if (*end == '.') {
		for (end++; *end >= '0' && *end <= '9'; end++, digits++)
			if (digits < 3)
				frac = frac * 10 + (*end - '0');
		if (!digits)
			return -EINVAL;
		for (; digits < 3; digits++)
			frac *= 10;
	}
	if (strcmp(end, "Z"))
		return -EINVAL;
	*ms = (int64_t)timegm(&tm) * 1000 + frac;
	return 0;
}

static json_t *i18n_json(const struct uigw_i18n *t)
{
	json_t *o = json_object();
	unsigned int i;

	for (i = 0; o && i < t->n; i++)
		json_object_set_new(o, t->v[i].lang, json_string(t->v[i].tmpl ? t->v[i].tmpl->src : ""));
	return o;
}

static json_t *str_array(char *const *v, unsigned int n)
{
	json_t *a = json_array();
	unsigned int i;

	for (i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

json_t *uigw_api_campaign_json(const struct uigw_campaign *c, bool detail, const char *state)
{
	json_t *o, *chans, *entry, *sms, *params;
	unsigned int i;

	chans = json_array();
	for (i = 0; i < c->n_chan_order; i++)
		json_array_append_new(chans, json_string(uigw_channel_name(c->chan_order[i])));
	sms = json_array();
	for (i = 0; i < c->entry.n_sms; i++)
		json_array_append_new(sms, json_pack("{s:s, s:o}", "short_code", c->entry.sms[i].short_code,
						     "keywords", str_array(c->entry.sms[i].keywords,
									   c->entry.sms[i].n_keywords)));
	entry = json_pack("{s:o, s:o, s:o}", "ussd", str_array(c->entry.ussd, c->entry.n_ussd), "sms", sms,
			  "sip", str_array(c->entry.sip, c->entry.n_sip));
	o = json_pack("{s:s, s:i, s:s, s:s?, s:o, s:o, s:o, s:b}", "name", c->name, "version", (json_int_t)c->version,
		      "state", state ? state : c->enabled ? "enabled" : "disabled", "owner", c->owner, "title", i18n_json(&c->title),
		      "channels", chans, "entry", entry, "network_only", c->network_only);
	if (!o)
		return NULL;
	if (detail) {
		params = json_array();
		for (i = 0; i < c->n_params; i++)
			json_array_append_new(params, json_pack("{s:s, s:s}", "name", c->params[i].name, "default",
								c->params[i].def ? c->params[i].def : ""));
		json_object_set_new(o, "params", params);
		json_object_set_new(o, "languages", str_array(c->languages, c->n_languages));
		json_object_set_new(o, "nodes", json_integer(c->n_nodes));
		if (c->n_on_event) {
			json_t *ev = json_array();
			for (i = 0; i < c->n_on_event; i++)
				json_array_append_new(ev, json_pack("{s:s, s:f}", "type", c->on_event[i].type,
								    "sample", c->on_event[i].sample));
			json_object_set_new(o, "on_event", ev);
		}
		if (c->push_cap_per)
			json_object_set_new(o, "push_cap", json_pack("{s:i, s:i}", "count",
								     (json_int_t)c->push_cap_count, "per",
								     (json_int_t)c->push_cap_per));
	}
	return o;
}
