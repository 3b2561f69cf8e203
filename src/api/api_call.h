/*! \file api_call.h
 *  What the route handlers of the HTTP API share (api_handle.c: routing, checks, campaigns, proposals, audit;
 *  api_dialogs.c: triggers, events, dialogs; api_read.c: results, summaries, the spam feed). */
#pragma once

#include <stdint.h>
#include <stdbool.h>
#include <jansson.h>
#include "api_priv.h"

struct uigw_campaign;
struct uigw_proposal;

#define DEFAULT_LIMIT	100
#define MAX_LIMIT	1000
#define MAX_SEGS	6

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

#define ERR(c, status, code, fmt, args...) uigw_api_error((c)->ctx, (c)->resp, status, code, fmt, ## args)

/* 422 validation errors, collected */
struct verr {
	json_t *list;
};

/* api_handle.c: helpers */
void api_reply(struct call *c, unsigned int status, json_t *j);
/*! a query argument, or NULL */
const char *api_arg(const struct call *c, const char *name);
/*! a query argument as an integer in [min, max]; \returns 0 (absent: *v = def), -1 (400 sent) */
int api_arg_int(struct call *c, const char *name, int64_t min, int64_t max, int64_t def, int64_t *v);
bool api_name_ok(const char *s);
bool api_e164_ok(const char *s);
/*! The campaign named by segment \a i if the tenant may see it, else a 404 was sent and NULL returned. */
struct uigw_campaign *api_own_campaign(struct call *c, unsigned int i);
/*! a proposal of the tenant's (the operator sees all), or NULL */
struct uigw_proposal *api_own_proposal(struct call *c, const char *name);
/*! The request body as a JSON object; NULL if an error was sent. */
json_t *api_body_object(struct call *c);
void api_verr_add(struct verr *v, const char *path, const char *reason);
/*! \returns true if errors were sent */
bool api_verr_send(struct call *c, struct verr *v);
const char *api_time_str(struct call *c, int64_t ms);
json_t *api_id_json(uint64_t id);

/* the handlers */
void api_h_metrics(struct call *c);
void api_h_campaigns(struct call *c);
void api_h_campaign(struct call *c);
void api_h_propose(struct call *c);
void api_h_approve(struct call *c);
void api_h_trigger(struct call *c);
void api_h_event(struct call *c);
void api_h_dialog(struct call *c);
void api_h_results(struct call *c);
void api_h_summary(struct call *c);
void api_h_spam_numbers(struct call *c);
void api_h_spam_number(struct call *c);
void api_h_webhooks(struct call *c);
void api_h_webhook_create(struct call *c);
void api_h_webhook(struct call *c);
void api_h_webhook_delete(struct call *c);
void api_h_webhook_dead(struct call *c);
void api_h_webhook_resend(struct call *c);
