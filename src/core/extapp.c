/*! \file extapp.c
 *  External applications behind short codes (see extapp.h): the routes, the request of each step, the
 *  application's CON/END answer. The dialog engine (dialog.c) runs such a dialog on the route's campaign, two
 *  nodes made here: "app" (a text question whose prompt is the application's text; the n-th input of a dialog is
 *  stored as the answer to question "stepN") and "end" (the last text). */

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/fsm.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/common/http_client.h>
#include <osmocom/uigw/codec/charset.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/campaign.h>
#include <osmocom/uigw/core/router.h>
#include <osmocom/uigw/core/extapp.h>
#include "dialog_priv.h"

#define NODE_APP	0
#define NODE_END	1

static bool prefix_ok(const char *p)
{
	size_t n = strlen(p);

	if (!n || n > 31)
		return false;
	if (p[0] == '*' || p[0] == '#')
		return n > 1 && strspn(p + 1, "0123456789*") == n - 1 && p[n - 1] != '*';
	return strspn(p, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-.+") == n;
}

static bool url_ok(const char *u)
{
	size_t n = strlen(u), i;

	for (i = 0; i < n; i++)
		if ((unsigned char)u[i] <= ' ' || (unsigned char)u[i] >= 0x7f || u[i] == '"' || u[i] == '\\')
			return false;
	return n < 1024 && ((!strncasecmp(u, "http://", 7) && n > 7) || (!strncasecmp(u, "https://", 8) && n > 8));
}

/* "ext-" and the prefix's letters and digits: "*123" -> "ext-123", "7750" -> "ext-7750" */
static void camp_name(const char *prefix, char *out, size_t len)
{
	size_t o = 0;

	o = snprintf(out, len, "ext-");
	for (; *prefix && o + 1 < len && o < 32; prefix++) {
		char c = tolower((unsigned char)*prefix);

		if (isalnum((unsigned char)c) || c == '_' || c == '-')
			out[o++] = c;
		else if (c == '*' && o > 4 && out[o - 1] != '-')
			out[o++] = '-';
	}
	out[o] = '\0';
}

static struct uigw_extapp *find(struct uigw *gw, const char *prefix)
{
	struct uigw_extapp *e;

	llist_for_each_entry(e, &gw->extapps, list)
		if (!strcmp(e->prefix, prefix))
			return e;
	return NULL;
}

static int extapp_destructor(struct uigw_extapp *e)
{
	llist_del(&e->list);
	if (e->camp)
		uigw_campaign_put(e->camp);
	return 0;
}

int uigw_extapp_set(struct uigw *gw, const char *prefix, const char *url, unsigned int timeout_ms, char *err,
		    size_t err_len)
{
	struct uigw_extapp *e, *old;
	struct uigw_campaign *c;
	char name[40], *text;
	int rc;

	if (!prefix_ok(prefix)) {
		snprintf(err, err_len, "bad prefix '%s': a USSD service code (*123, without the closing #), an SMS short"
			 " code or a SIP user part", prefix);
		return -EINVAL;
	}
	if (!url_ok(url)) {
		snprintf(err, err_len, "bad URL '%s': http:// or https://", url);
		return -EINVAL;
	}
	camp_name(prefix, name, sizeof(name));
	if (gw->campaigns && uigw_campaign_set_find(gw->campaigns, name)) {
		snprintf(err, err_len, "a campaign is named %s already", name);
		return -EEXIST;
	}
	/* the route's campaign: the same loader as the files, so it is checked like one */
	text = talloc_asprintf(gw->ctx,
		"name = \"%s\";\n"
		"title = \"External application %s\";\n"
		"params = { app_text = \"\"; };\n"
		"nodes = (\n"
		"  { id = \"app\"; type = \"text\"; question = \"input\"; max_len = 640; text = \"${app_text}\";"
		" next = \"app\"; },\n"
		"  { id = \"end\"; type = \"info\"; text = \"${app_text}\"; }\n"
		");\n", name, url);
	if (!text)
		return -ENOMEM;
	rc = uigw_campaign_load_string(gw->ctx, text, name, &c, err, err_len);
	talloc_free(text);
	if (rc < 0)
		return rc;
	c->ext_url = talloc_strdup(c, url);
	c->ext_code = talloc_strdup(c, prefix);
	c->ext_timeout_ms = timeout_ms ? timeout_ms : UIGW_EXTAPP_TIMEOUT_MS;
	c->version = 1;
	uigw_campaign_get(c);	/* the route's reference (the loader gives none) */

	e = talloc_zero(gw->ctx, struct uigw_extapp);
	if (!e || !c->ext_url || !c->ext_code) {
		talloc_free(e);
		uigw_campaign_put(c);
		return -ENOMEM;
	}
	e->prefix = talloc_strdup(e, prefix);
	e->url = talloc_strdup(e, url);
	e->timeout_ms = c->ext_timeout_ms;
	e->camp = c;
	old = find(gw, prefix);
	if (old) {
		llist_add(&e->list, &old->list);
		talloc_free(old);
	} else {
		llist_add_tail(&e->list, &gw->extapps);
	}
	talloc_set_destructor(e, extapp_destructor);
	LOGP(DCAMP, LOGL_NOTICE, "route %s: external application %s (campaign %s)\n", prefix, url, name);
	return 0;
}

int uigw_extapp_del(struct uigw *gw, const char *prefix)
{
	struct uigw_extapp *e = find(gw, prefix);

	if (!e)
		return -ENOENT;
	talloc_free(e);
	return 0;
}

void uigw_extapp_free_all(struct uigw *gw)
{
	struct uigw_extapp *e, *n;

	llist_for_each_entry_safe(e, n, &gw->extapps, list)
		talloc_free(e);
	if (gw->http) {
		uigw_http_client_free(gw->http);
		gw->http = NULL;
	}
}

struct uigw_extapp *uigw_extapp_route(struct uigw *gw, enum uigw_channel ch, const char *text,
				      const char *short_code, char *rest, size_t rest_len)
{
	struct uigw_extapp *e, *best = NULL;
	size_t best_len = 0;

	rest[0] = '\0';
	if (text && uigw_is_dial_string(text)) {
		size_t tl = strlen(text);

		/* "*123*1*2#" against "*123": the prefix, then '*' (more components) or the closing '#' */
		llist_for_each_entry(e, &gw->extapps, list) {
			size_t pl = strlen(e->prefix);

			if (e->prefix[0] != '*' && e->prefix[0] != '#')
				continue;
			if (pl < tl && !strncmp(text, e->prefix, pl) && (text[pl] == '*' || text[pl] == '#') &&
			    pl > best_len) {
				best = e;
				best_len = pl;
			}
		}
		if (best && text[best_len] == '*') {
			size_t n = tl - best_len - 2;	/* without the '*' and the closing '#' */

			if (n >= rest_len)
				n = rest_len - 1;
			memcpy(rest, text + best_len + 1, n);
			rest[n] = '\0';
		}
		return best;
	}
	if (!short_code)
		return NULL;
	llist_for_each_entry(e, &gw->extapps, list) {
		if (!strcmp(e->prefix, short_code)) {
			osmo_strlcpy(rest, text ? text : "", rest_len);
			return e;
		}
	}
	return NULL;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* the steps */

/* percent-encode for application/x-www-form-urlencoded */
static void form_add(char **body, const char *name, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	*body = talloc_asprintf_append(*body, "%s%s=", (*body)[0] ? "&" : "", name);
	for (p = (const unsigned char *)(value ? value : ""); *p && *body; p++) {
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~')
			*body = talloc_asprintf_append(*body, "%c", *p);
		else if (*p == ' ')
			*body = talloc_strdup_append(*body, "+");
		else
			*body = talloc_asprintf_append(*body, "%%%c%c", hex[*p >> 4], hex[*p & 0xf]);
	}
}

static void step_done(const struct uigw_http_result *res, void *data)
{
	struct uigw_dialog *dlg = data;

	dlg->ext_xfer = NULL;
	uigw_dlg_app_done(dlg, res);
}

int uigw_extapp_send(struct uigw_dialog *dlg)
{
	struct uigw *gw = dlg->gw;
	const struct uigw_campaign *c = dlg->camp;
	struct uigw_http_req req;
	char id[24], *body;
	int rc = 0;

	if (!gw->http) {
		gw->http = uigw_http_client_alloc(gw->ctx, 32);
		if (!gw->http)
			return -EIO;
	}
	body = talloc_strdup(NULL, "");
	snprintf(id, sizeof(id), "%" PRIu64, dlg->id);
	form_add(&body, "sessionId", id);
	form_add(&body, "serviceCode", c->ext_code);
	form_add(&body, "phoneNumber", dlg->msisdn);
	form_add(&body, "text", dlg->ext_text ? dlg->ext_text : "");
	form_add(&body, "channel", uigw_channel_name(dlg->channel));
	form_add(&body, "networkCode", gw->cfg.network_code ? gw->cfg.network_code : "");
	if (!body)
		return -ENOMEM;
	req = (struct uigw_http_req){
		.method = "POST",
		.url = c->ext_url,
		.content_type = "application/x-www-form-urlencoded",
		.body = body,
		.body_len = strlen(body),
		.timeout_ms = c->ext_timeout_ms,
	};
	rate_ctr_inc2(gw->ctrs, UIGW_CTR_EXT_REQUESTS);
	dlg->ext_xfer = uigw_http_send(gw->http, &req, step_done, dlg);
	if (!dlg->ext_xfer)
		rc = -EIO;
	talloc_free(body);
	return rc;
}

void uigw_extapp_cancel(struct uigw_dialog *dlg)
{
	if (dlg->ext_xfer) {
		uigw_http_cancel(dlg->ext_xfer);
		dlg->ext_xfer = NULL;
	}
}

bool uigw_extapp_input(struct uigw_dialog *dlg, const char *in, bool first)
{
	struct uigw_store_job *job;
	struct uigw_store_row *r;

	/* "More" pages the application's text; any other input is the application's */
	if (!first && !strcmp(in, UIGW_KEY_MORE) && dlg->page + 1 < dlg->n_pages) {
		dlg->page++;
		return true;
	}
	if (dlg->ext_text && dlg->ext_text[0])
		dlg->ext_text = talloc_asprintf_append(dlg->ext_text, "*%s", in);
	else {
		talloc_free(dlg->ext_text);
		dlg->ext_text = talloc_strdup(dlg, in);
	}
	if (dlg->gw->store && (job = uigw_dlg_job(dlg)) && (r = uigw_dlg_row(dlg, job, UIGW_ROW_RESPONSE))) {
		/* one answer per step: "step1" is the first input of the dialog, "step2" the next, ... */
		r->u.response.node = "app";
		r->u.response.question = talloc_asprintf(job, "step%u", ++dlg->ext_steps);
		r->u.response.kind = "text";
		r->u.response.value = talloc_strdup(job, in);
		r->u.response.raw = r->u.response.value;
		r->u.response.language = uigw_dlg_lang(dlg, job);
		r->u.response.roaming = dlg->roaming;
		rate_ctr_inc2(dlg->gw->ctrs, UIGW_CTR_RESPONSES);
		uigw_dlg_count(dlg, UIGW_DCTR_RESPONSES);
	}
	dlg->ext_call = true;
	return true;
}

int uigw_extapp_answer(struct uigw_dialog *dlg, const struct uigw_http_result *res, const char **text)
{
	const char *t;
	size_t n;
	char *copy;
	int rc;

	if (res->err) {
		LOGPDLG(dlg, LOGL_NOTICE, "external application %s: no answer (%s)\n", dlg->camp->ext_url,
			res->err_str && res->err_str[0] ? res->err_str : strerror(-res->err));
		return -EIO;
	}
	if (res->status < 200 || res->status > 299) {
		LOGPDLG(dlg, LOGL_NOTICE, "external application %s answered HTTP %ld\n", dlg->camp->ext_url,
			res->status);
		return -EIO;
	}
	rc = uigw_extapp_parse(res->body ? res->body : "", res->body ? res->body_len : 0, &t, &n);
	if (rc < 0 || !uigw_utf8_valid(t, n)) {
		LOGPDLG(dlg, LOGL_NOTICE, "external application %s answered neither CON nor END with UTF-8 text: %s\n",
			dlg->camp->ext_url, osmo_quote_str(res->body ? res->body : "", 40));
		return -EPROTO;
	}
	copy = talloc_strndup(dlg, t, n);
	if (!copy)
		return -ENOMEM;
	uigw_dlg_var_set(dlg, "app_text", copy);
	talloc_free(copy);
	*text = uigw_dlg_var_get(dlg, "app_text");
	return rc == 0 ? NODE_APP : NODE_END;
}
