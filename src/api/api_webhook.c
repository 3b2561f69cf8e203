/*! \file api_webhook.c
 *  Webhooks: a tenant names a URL and the events it wants (answer, dialog.ended, spam.report, trigger.refused)
 *  of its own campaigns; the gateway POSTs each event there, signed, at least once.
 *
 *  The outbox is a table of the store: the writer thread adds an entry for every listening webhook in the
 *  transaction that commits the answer (store_write.c), so an event exists exactly when its answer does, and it
 *  survives restarts. Here, on the loop, each webhook reads its oldest pending entries (a window, in id order),
 *  sends them through the libcurl multi client (common/http_client.c, no thread) and reports each outcome to
 *  the store as a log row: delivered (the entry leaves the outbox), failed (attempts + 1), dead-lettered. A
 *  failure backs the webhook off (min * 2^(n-1), at most max, with jitter) and then sends one entry at a time
 *  until one succeeds; entries older than the maximum age are dead-lettered, listed, and can be re-sent.
 *
 *  Body: {"id": DELIVERY, "event": ..., "created": RFC 3339, "webhook": ID, "attempt": N, "data": {...}}, the
 *  same id on every attempt. Headers: X-UIGW-Timestamp (Unix seconds) and X-UIGW-Signature:
 *  sha256=HEX(HMAC-SHA256(secret, timestamp "." body)). */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <nettle/hmac.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/vty/vty.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/common/http_client.h>
#include <osmocom/uigw/store/store.h>
#include <osmocom/uigw/core/uigw.h>
#include "api_call.h"
#include "config.h"

/*! Pending entries a webhook holds in memory at most (its window on the outbox). */
#define WH_WINDOW	64
#define WH_SWEEP_US	1000000
#define WH_URL_MAX	1024

/*! One pending outbox entry in memory. */
struct uigw_wh_entry {
	struct llist_head list;		/*!< in wh->entries, by id */
	struct uigw_webhook *wh;
	int64_t id;
	char delivery[33];
	char *event, *data;
	int64_t created_ms, since_ms;
	unsigned int attempts;
	struct uigw_http_xfer *xfer;	/*!< an attempt in flight, or NULL */
};

static void wh_schedule(struct uigw_api *api, unsigned int ms);
static void entry_dead(struct uigw_wh_entry *e);

void uigw_api_webhook_cfg_defaults(struct uigw_api *api)
{
	api->cfg.wh = (struct uigw_webhook_cfg){
		.timeout_ms = 5000,
		.max_age_s = 86400,
		.backoff_min_ms = 1000,
		.backoff_max_ms = 600000,
		.max_in_flight = 16,
		.max_per_tenant = 10,
		.poll_ms = 100,
	};
}

/* ---------------------------------------------------------------------------------------------------------- */
/* the webhooks in memory */

static struct uigw_webhook *wh_find(struct uigw_api *api, int64_t id)
{
	struct uigw_webhook *wh;

	llist_for_each_entry(wh, &api->webhooks, list)
		if (wh->id == id)
			return wh;
	return NULL;
}

static void entry_free(struct uigw_wh_entry *e)
{
	if (e->xfer) {
		uigw_http_cancel(e->xfer);
		e->xfer = NULL;
		e->wh->in_flight--;
	}
	llist_del(&e->list);
	e->wh->n_entries--;
	talloc_free(e);
}

/* Forget the entries in memory (they stay in the store) and read the outbox from its start again. */
static void wh_forget(struct uigw_webhook *wh)
{
	struct uigw_wh_entry *e, *n;

	llist_for_each_entry_safe(e, n, &wh->entries, list)
		entry_free(e);
	wh->fetched = 0;
}

static int wh_destructor(struct uigw_webhook *wh)
{
	wh_forget(wh);
	llist_del(&wh->list);
	return 0;
}

static struct uigw_webhook *wh_add(struct uigw_api *api, const struct uigw_store_webhook *sw)
{
	struct uigw_webhook *wh = talloc_zero(api, struct uigw_webhook), *w;

	if (!wh)
		return NULL;
	wh->api = api;
	wh->id = sw->id;
	osmo_strlcpy(wh->tenant, sw->tenant, sizeof(wh->tenant));
	wh->all_campaigns = sw->all_campaigns;
	wh->url = talloc_strdup(wh, sw->url);
	wh->secret = talloc_strdup(wh, sw->secret);
	wh->events = sw->events;
	wh->created_ms = sw->created_ms;
	INIT_LLIST_HEAD(&wh->entries);
	if (!wh->url || !wh->secret) {
		talloc_free(wh);
		return NULL;
	}
	/* by id */
	llist_for_each_entry(w, &api->webhooks, list)
		if (w->id > wh->id)
			break;
	llist_add_tail(&wh->list, &w->list);
	talloc_set_destructor(wh, wh_destructor);
	if (sw->id > api->max_webhook_id)
		api->max_webhook_id = sw->id;
	return wh;
}

static void load_cb(const struct uigw_store_webhook *sw, void *data)
{
	struct uigw_api *api = data;
	struct uigw_webhook *wh = wh_find(api, sw->id);

	if (!wh) {
		wh = wh_add(api, sw);
		if (!wh) {
			LOGP(DAPI, LOGL_ERROR, "webhook %" PRId64 ": out of memory\n", sw->id);
			return;
		}
		if (api->wh_running)
			LOGP(DAPI, LOGL_NOTICE, "tenant %s: webhook %" PRId64 " created by another gateway, for %s\n",
			     wh->tenant, wh->id, wh->url);
	}
	wh->synced = true;
}

int uigw_api_webhooks_sync(struct uigw_api *api)
{
	struct uigw_webhook *wh, *n;
	int rc;

	if (!api->wh_running)
		return 0;
	llist_for_each_entry(wh, &api->webhooks, list)
		wh->synced = false;
	rc = uigw_store_webhooks(api->gw->store, load_cb, api);
	if (rc < 0)
		return rc;
	/* deleted by another gateway (with its outbox) */
	llist_for_each_entry_safe(wh, n, &api->webhooks, list) {
		if (wh->synced)
			continue;
		LOGP(DAPI, LOGL_NOTICE, "tenant %s: webhook %" PRId64 " deleted by another gateway\n", wh->tenant, wh->id);
		talloc_free(wh);
	}
	if (!llist_empty(&api->webhooks))
		wh_schedule(api, 0);
	return 0;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* outcomes, as log rows of the store */

static void log_outcome(struct uigw_webhook *wh, enum uigw_row_kind kind, int64_t id, int status, int64_t cutoff,
			int64_t after)
{
	struct uigw_store *st = wh->api->gw->store;
	struct uigw_store_row *r;
	void *ctx;

	if (!st)
		return;
	r = uigw_store_log_row(st, kind, &ctx);
	if (!r) {
		LOGP(DAPI, LOGL_ERROR, "webhook %" PRId64 ": outcome of outbox entry %" PRId64 " not stored (it may be"
		     " sent again)\n", wh->id, id);
		return;
	}
	r->time_ms = uigw_wall_ms();
	r->u.wh.webhook = wh->id;
	r->u.wh.id = id;
	r->u.wh.status = status;
	r->u.wh.cutoff_ms = cutoff;
	r->u.wh.after = after;
}

static unsigned int backoff_ms(const struct uigw_webhook_cfg *cfg, unsigned int failures)
{
	uint64_t ms = cfg->backoff_min_ms;
	uint32_t rnd = 0;

	while (--failures && ms < cfg->backoff_max_ms)
		ms *= 2;
	if (ms > cfg->backoff_max_ms)
		ms = cfg->backoff_max_ms;
	/* +-20 %: webhooks that failed together do not come back together */
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) == sizeof(rnd))
		ms = ms * 80 / 100 + (uint64_t)rnd % (ms * 40 / 100 + 1);
	return (unsigned int)ms;
}

static void attempt_done(const struct uigw_http_result *res, void *data)
{
	struct uigw_wh_entry *e = data;
	struct uigw_webhook *wh = e->wh;
	struct uigw_api *api = wh->api;
	const struct uigw_webhook_cfg *cfg = &api->cfg.wh;
	int64_t now = uigw_wall_ms();
	unsigned int ms;

	e->xfer = NULL;
	wh->in_flight--;
	wh->last_status = res->err ? 0 : res->status;
	if (!res->err && res->status >= 200 && res->status < 300) {
		wh->delivered++;
		wh->failures = 0;
		wh->retry_at_us = 0;
		wh->last_ok_ms = now;
		rate_ctr_inc2(api->ctrs, API_CTR_WH_DELIVERED);
		log_outcome(wh, UIGW_ROW_WH_DONE, e->id, 0, 0, 0);
		entry_free(e);
		wh_schedule(api, 0);
		return;
	}

	e->attempts++;
	wh->failed++;
	wh->failures++;
	wh->last_fail_ms = now;
	if (res->err)
		snprintf(wh->last_error, sizeof(wh->last_error), "%s", res->err_str && res->err_str[0] ? res->err_str
			 : strerror(-res->err));
	else
		snprintf(wh->last_error, sizeof(wh->last_error), "HTTP %ld", res->status);
	rate_ctr_inc2(api->ctrs, API_CTR_WH_FAILED);
	ms = backoff_ms(cfg, wh->failures);
	wh->retry_at_us = uigw_mono_us() + (int64_t)ms * 1000;
	LOGP(DAPI, LOGL_INFO, "webhook %" PRId64 ": delivery %s (%s) failed: %s (attempt %u); retrying in %u ms\n",
	     wh->id, e->delivery, e->event, wh->last_error, e->attempts, ms);
	if (now - e->since_ms >= (int64_t)cfg->max_age_s * 1000)
		entry_dead(e);
	else
		log_outcome(wh, UIGW_ROW_WH_RETRY, e->id, (int)wh->last_status, 0, 0);
	wh_schedule(api, ms);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* sending */

/*! HMAC-SHA256(secret, timestamp "." body) in hex into out[65]. */
static void sign(const char *secret, const char *timestamp, const char *body, size_t body_len, char out[65])
{
	struct hmac_sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];

	hmac_sha256_set_key(&ctx, strlen(secret), (const uint8_t *)secret);
	hmac_sha256_update(&ctx, strlen(timestamp), (const uint8_t *)timestamp);
	hmac_sha256_update(&ctx, 1, (const uint8_t *)".");
	hmac_sha256_update(&ctx, body_len, (const uint8_t *)body);
	hmac_sha256_digest(&ctx, sizeof(digest), digest);
	osmo_strlcpy(out, osmo_hexdump_nospc(digest, sizeof(digest)), 65);
}

static int attempt(struct uigw_wh_entry *e)
{
	struct uigw_webhook *wh = e->wh;
	struct uigw_api *api = wh->api;
	void *tmp = talloc_new(NULL);
	char created[40], ts[24], sig[65];
	const char *headers[6];
	struct uigw_http_req req;
	char *body;
	int rc = 0;

	/* the envelope around the data the store wrote: JSON by construction, no parsing */
	body = talloc_asprintf(tmp, "{\"id\":\"%s\",\"event\":\"%s\",\"created\":\"%s\",\"webhook\":%" PRId64
			       ",\"attempt\":%u,\"data\":%s}", e->delivery, e->event,
			       uigw_api_time_str(e->created_ms, created, sizeof(created)), wh->id, e->attempts + 1,
			       e->data);
	snprintf(ts, sizeof(ts), "%" PRId64, uigw_wall_ms() / 1000);
	if (!body) {
		rc = -ENOMEM;
		goto out;
	}
	sign(wh->secret, ts, body, strlen(body), sig);
	headers[0] = talloc_asprintf(tmp, "X-UIGW-Timestamp: %s", ts);
	headers[1] = talloc_asprintf(tmp, "X-UIGW-Signature: sha256=%s", sig);
	headers[2] = talloc_asprintf(tmp, "X-UIGW-Delivery: %s", e->delivery);
	headers[3] = talloc_asprintf(tmp, "X-UIGW-Event: %s", e->event);
	headers[4] = "User-Agent: osmo-uigw/" PACKAGE_VERSION;
	headers[5] = NULL;
	req = (struct uigw_http_req){
		.method = "POST",
		.url = wh->url,
		.content_type = "application/json",
		.body = body,
		.body_len = strlen(body),
		.headers = headers,
		.timeout_ms = api->cfg.wh.timeout_ms,
	};
	e->xfer = uigw_http_send(api->http, &req, attempt_done, e);
	if (!e->xfer) {
		rc = -EIO;
		goto out;
	}
	wh->in_flight++;
out:
	talloc_free(tmp);
	return rc;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* reading the outbox */

static void fetch_cb(const struct uigw_store_wh_entry *se, void *data)
{
	struct uigw_webhook *wh = data;
	struct uigw_wh_entry *e, *pos;

	if (se->id > wh->fetched)
		wh->fetched = se->id;
	/* after a re-send the read starts over: what is in memory stays as it is */
	llist_for_each_entry_reverse(pos, &wh->entries, list) {
		if (pos->id == se->id)
			return;
		if (pos->id < se->id)
			break;
	}
	e = talloc_zero(wh, struct uigw_wh_entry);
	if (!e)
		return;
	e->wh = wh;
	e->id = se->id;
	osmo_strlcpy(e->delivery, se->delivery, sizeof(e->delivery));
	e->event = talloc_strdup(e, se->event);
	e->data = talloc_strdup(e, se->data);
	e->created_ms = se->created_ms;
	e->since_ms = se->since_ms;
	e->attempts = se->attempts;
	if (!e->event || !e->data) {
		talloc_free(e);
		return;
	}
	llist_add(&e->list, &pos->list);	/* after pos (or first, when pos is the head) */
	wh->n_entries++;
}

/* The entry waited longer than the maximum age: it becomes a dead letter. */
static void entry_dead(struct uigw_wh_entry *e)
{
	struct uigw_webhook *wh = e->wh;

	LOGP(DAPI, LOGL_NOTICE, "webhook %" PRId64 ": delivery %s (%s) dead-lettered after %u attempts\n",
	     wh->id, e->delivery, e->event, e->attempts);
	wh->dead++;
	rate_ctr_inc2(wh->api->ctrs, API_CTR_WH_DEAD);
	log_outcome(wh, UIGW_ROW_WH_DEAD, e->id, 0, 0, 0);
	entry_free(e);
}

/* Backing off with nothing in flight: dead-letter what has waited longer than the maximum age, once a second:
 * the entries in memory one by one, those the window has not read yet (ids above wh->fetched) in one go. */
static void wh_sweep(struct uigw_webhook *wh, int64_t now_us)
{
	struct uigw_api *api = wh->api;
	int64_t cutoff = uigw_wall_ms() - (int64_t)api->cfg.wh.max_age_s * 1000, older = 0;
	struct uigw_wh_entry *e, *n;

	wh->last_sweep_us = now_us;
	llist_for_each_entry_safe(e, n, &wh->entries, list)
		if (!e->xfer && e->since_ms < cutoff)
			entry_dead(e);
	if (uigw_store_wh_counts(api->gw->store, wh->id, cutoff, wh->fetched, NULL, NULL, &older) < 0 || !older)
		return;
	LOGP(DAPI, LOGL_NOTICE, "webhook %" PRId64 ": %" PRId64 " more events dead-lettered (older than %u s, %s)\n",
	     wh->id, older, api->cfg.wh.max_age_s, wh->last_error);
	wh->dead += older;
	rate_ctr_add(rate_ctr_group_get_ctr(api->ctrs, API_CTR_WH_DEAD), older);
	log_outcome(wh, UIGW_ROW_WH_DEAD, 0, 0, cutoff, wh->fetched);
}

/* Read what is new, send what is due. \returns true if the webhook may have more to read at once */
static bool wh_pump(struct uigw_webhook *wh, int64_t now_us)
{
	struct uigw_api *api = wh->api;
	struct uigw_wh_entry *e;
	unsigned int limit;
	int n = 0;

	if (wh->retry_at_us > now_us) {
		if (!wh->in_flight && now_us - wh->last_sweep_us >= WH_SWEEP_US)
			wh_sweep(wh, now_us);
		return false;
	}
	if (wh->n_entries < WH_WINDOW / 2) {
		unsigned int want = WH_WINDOW - wh->n_entries;

		n = uigw_store_wh_entries(api->gw->store, wh->id, false, wh->fetched, want, fetch_cb, wh);
		if (n < 0)
			LOGP(DAPI, LOGL_ERROR, "webhook %" PRId64 ": cannot read the outbox (%d)\n", wh->id, n);
		else if ((unsigned int)n < want)
			n = 0;	/* read to the end */
	}
	/* after a failure, one at a time until one gets through */
	limit = wh->failures ? 1 : api->cfg.wh.max_in_flight;
	llist_for_each_entry(e, &wh->entries, list) {
		if (wh->in_flight >= limit)
			break;
		if (e->xfer)
			continue;
		if (attempt(e) < 0) {
			LOGP(DAPI, LOGL_ERROR, "webhook %" PRId64 ": cannot send to %s\n", wh->id, wh->url);
			wh->failures++;
			wh->retry_at_us = now_us + (int64_t)backoff_ms(&api->cfg.wh, wh->failures) * 1000;
			break;
		}
	}
	return n > 0;
}

static void wh_timer_cb(void *data)
{
	struct uigw_api *api = data;
	struct uigw_webhook *wh;
	int64_t now = uigw_mono_us();
	bool more = false;

	llist_for_each_entry(wh, &api->webhooks, list)
		more |= wh_pump(wh, now);
	if (!llist_empty(&api->webhooks))
		wh_schedule(api, more ? 1 : api->cfg.wh.poll_ms);
}

/* run the pump within \a ms (sooner if it is already due sooner) */
static void wh_schedule(struct uigw_api *api, unsigned int ms)
{
	struct timeval rem;

	if (!api->wh_running)
		return;
	if (osmo_timer_pending(&api->wh_timer) && osmo_timer_remaining(&api->wh_timer, NULL, &rem) == 0 &&
	    (uint64_t)rem.tv_sec * 1000 + rem.tv_usec / 1000 <= ms)
		return;
	osmo_timer_schedule(&api->wh_timer, ms / 1000, (ms % 1000) * 1000);
}

int uigw_api_webhooks_start(struct uigw_api *api)
{
	int rc;

	if (api->wh_running || !api->gw->store)
		return 0;
	rc = uigw_store_webhooks(api->gw->store, load_cb, api);
	if (rc < 0) {
		LOGP(DAPI, LOGL_ERROR, "cannot load the webhooks from the store\n");
		return rc;
	}
	api->http = uigw_http_client_alloc(api, api->cfg.wh.max_in_flight);
	if (!api->http)
		return -EIO;
	osmo_timer_setup(&api->wh_timer, wh_timer_cb, api);
	api->wh_running = true;
	if (rc)
		LOGP(DAPI, LOGL_NOTICE, "%d webhooks loaded\n", rc);
	wh_schedule(api, 0);
	return 0;
}

void uigw_api_webhooks_stop(struct uigw_api *api)
{
	struct uigw_webhook *wh, *n;

	if (!api->wh_running)
		return;
	api->wh_running = false;
	osmo_timer_del(&api->wh_timer);
	llist_for_each_entry_safe(wh, n, &api->webhooks, list)
		talloc_free(wh);
	uigw_http_client_free(api->http);
	api->http = NULL;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* changes: written and committed before the answer (operator and tenant commands, rare) */

static void wh_job_done(struct uigw_store_job *job, void *data)
{
	*(int *)data = job->rc;
	talloc_free(job);
}

/* Write \a row (its strings the caller's) and wait for the commit. \returns 0, -ENOMEM, -EIO */
static int wh_store(struct uigw_api *api, const struct uigw_store_row *row)
{
	struct uigw_store *st = api->gw->store;
	struct uigw_store_job *job;
	struct uigw_store_row *r;
	int rc = 1;

	job = uigw_store_job_alloc(st, wh_job_done, &rc);
	if (!job)
		return -ENOMEM;
	r = uigw_store_job_row(job, row->kind);
	if (!r) {
		talloc_free(job);
		return -ENOMEM;
	}
	*r = *row;
	if (uigw_store_submit(job) < 0) {
		talloc_free(job);
		return -EIO;
	}
	/* the outcomes of deliveries still in the log job are committed too: the outbox is as memory knows it */
	uigw_store_drain(st);
	return rc == 0 ? 0 : -EIO;
}

int uigw_api_webhook_resend(struct uigw_api *api, int64_t id, int64_t entry)
{
	struct uigw_webhook *wh = wh_find(api, id);
	int64_t before = 0, after = 0;
	struct uigw_store_row row;
	int rc;

	if (!wh || !api->gw->store)
		return -ENOENT;
	if (uigw_store_wh_counts(api->gw->store, id, 0, 0, NULL, &before, NULL) < 0)
		return -EIO;
	row = (struct uigw_store_row){ .kind = UIGW_ROW_WH_RESEND, .time_ms = uigw_wall_ms(),
				       .u.wh = { .webhook = id, .id = entry } };
	rc = wh_store(api, &row);
	if (rc < 0)
		return rc;
	if (uigw_store_wh_counts(api->gw->store, id, 0, 0, NULL, &after, NULL) < 0)
		return -EIO;
	/* read the outbox from its start: the re-sent entries are older than what was read */
	wh_forget(wh);
	wh->failures = 0;
	wh->retry_at_us = 0;
	wh_schedule(api, 0);
	LOGP(DAPI, LOGL_NOTICE, "webhook %" PRId64 ": %" PRId64 " dead letters re-sent\n", id, before - after);
	return (int)(before - after);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* the HTTP API: /v1/webhooks */

static bool wh_visible(const struct call *c, const struct uigw_webhook *wh)
{
	return c->tenant->is_operator || !strcmp(wh->tenant, c->tenant->name);
}

static json_t *events_json(uint32_t events)
{
	json_t *a = json_array();
	unsigned int i;

	for (i = 0; i < _UIGW_WH_NUM; i++)
		if (events & (1u << i))
			json_array_append_new(a, json_string(get_value_string(uigw_webhook_event_names, i)));
	return a;
}

static json_t *time_or_null(struct call *c, int64_t ms)
{
	return ms ? json_string(api_time_str(c, ms)) : json_null();
}

static json_t *wh_json(struct call *c, const struct uigw_webhook *wh)
{
	int64_t pending = 0, dead = 0, retry_ms = 0;

	uigw_store_wh_counts(c->api->gw->store, wh->id, 0, 0, &pending, &dead, NULL);
	if (wh->retry_at_us > uigw_mono_us())
		retry_ms = uigw_wall_ms() + (wh->retry_at_us - uigw_mono_us()) / 1000;
	return json_pack("{s:I, s:s, s:s, s:o, s:s, s:{s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o}}",
			 "id", (json_int_t)wh->id, "tenant", wh->tenant, "url", wh->url,
			 "events", events_json(wh->events), "created", api_time_str(c, wh->created_ms),
			 "delivery", "pending", (json_int_t)pending, "dead", (json_int_t)dead,
			 "delivered", (json_int_t)wh->delivered, "failed_attempts", (json_int_t)wh->failed,
			 "last_status", wh->last_ok_ms || wh->last_fail_ms ? json_integer(wh->last_status) : json_null(),
			 "last_error", wh->last_fail_ms ? json_string(wh->last_error) : json_null(),
			 "last_success", time_or_null(c, wh->last_ok_ms),
			 "last_failure", time_or_null(c, wh->last_fail_ms),
			 "retry_at", time_or_null(c, retry_ms));
}

/* The webhook of segment 2 if the tenant may see it; else 404 sent and NULL. */
static struct uigw_webhook *own_webhook(struct call *c)
{
	struct uigw_webhook *wh = NULL;
	char *end;
	long long id;

	errno = 0;
	id = strtoll(c->seg[2], &end, 10);
	if (!errno && !*end && id > 0)
		wh = wh_find(c->api, id);
	if (!wh || !wh_visible(c, wh)) {
		ERR(c, 404, "not_found", "no webhook '%s'", c->seg[2]);
		return NULL;
	}
	return wh;
}

static bool store_ok(struct call *c)
{
	if (c->api->gw->store && c->api->wh_running)
		return true;
	c->resp->retry_after = 10;
	ERR(c, 503, "unavailable", "webhooks need the feedback store");
	return false;
}

void api_h_webhooks(struct call *c)
{
	struct uigw_webhook *wh;
	json_t *list = json_array();

	if (!store_ok(c)) {
		json_decref(list);
		return;
	}
	llist_for_each_entry(wh, &c->api->webhooks, list)
		if (wh_visible(c, wh))
			json_array_append_new(list, wh_json(c, wh));
	api_reply(c, 200, json_pack("{s:o}", "webhooks", list));
}

void api_h_webhook(struct call *c)
{
	struct uigw_webhook *wh;

	if (!store_ok(c) || !(wh = own_webhook(c)))
		return;
	api_reply(c, 200, wh_json(c, wh));
}

static bool url_ok(const char *url, bool https_only)
{
	size_t n = strlen(url), i;

	if (n > WH_URL_MAX)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)url[i] <= ' ' || (unsigned char)url[i] >= 0x7f)
			return false;
	if (!strncasecmp(url, "https://", 8))
		return n > 8;
	return !https_only && !strncasecmp(url, "http://", 7) && n > 7;
}

void api_h_webhook_create(struct call *c)
{
	struct uigw_api *api = c->api;
	const struct uigw_webhook_cfg *cfg = &api->cfg.wh;
	struct uigw_store_webhook sw = { 0 };
	struct uigw_store_row row;
	struct uigw_webhook *wh;
	struct verr v = { 0 };
	const char *key;
	char secret[80];
	bool generated = false;
	unsigned int n = 0;
	json_t *body, *j, *val;
	int rc = -EIO, attempt;
	size_t i;

	if (!store_ok(c) || !(body = api_body_object(c)))
		return;
	json_object_foreach(body, key, val)
		if (strcmp(key, "url") && strcmp(key, "events") && strcmp(key, "secret"))
			api_verr_add(&v, talloc_asprintf(c->ctx, "/%s", key), "unknown field");
	j = json_object_get(body, "url");
	if (!json_is_string(j))
		api_verr_add(&v, "/url", "required: a string");
	else if (!url_ok(json_string_value(j), cfg->require_https))
		api_verr_add(&v, "/url", cfg->require_https ? "an https:// URL of at most 1024 characters" :
			     "an http:// or https:// URL of at most 1024 characters, without spaces");
	else
		sw.url = json_string_value(j);
	j = json_object_get(body, "events");
	if (!json_is_array(j) || !json_array_size(j)) {
		api_verr_add(&v, "/events", "required: a list of answer, dialog.ended, spam.report, trigger.refused");
	} else {
		json_array_foreach(j, i, val) {
			int ev = json_is_string(val) ? get_string_value(uigw_webhook_event_names, json_string_value(val))
				 : -1;
			if (ev < 0)
				api_verr_add(&v, talloc_asprintf(c->ctx, "/events/%zu", i),
					     "one of answer, dialog.ended, spam.report, trigger.refused");
			else
				sw.events |= 1u << ev;
		}
	}
	j = json_object_get(body, "secret");
	if (j) {
		const char *s = json_string_value(j);
		size_t len = s ? strlen(s) : 0;

		if (!s || len < 16 || len > 64 || strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
							 "0123456789_-.~+/=") != len)
			api_verr_add(&v, "/secret", "16 to 64 characters of A-Z a-z 0-9 _ - . ~ + / =");
		else
			osmo_strlcpy(secret, s, sizeof(secret));
	} else {
		uint8_t rnd[24];

		if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
			json_decref(body);
			ERR(c, 500, "internal", "no random numbers");
			return;
		}
		memcpy(secret, "whsec_", 6);
		osmo_strlcpy(secret + 6, osmo_hexdump_nospc(rnd, sizeof(rnd)), sizeof(secret) - 6);
		generated = true;
	}
	if (api_verr_send(c, &v)) {
		json_decref(body);
		return;
	}
	/* what the other gateways of a shared store created counts too */
	if (uigw_store_shared(api->gw->store))
		uigw_api_sync(api, true);
	llist_for_each_entry(wh, &api->webhooks, list)
		n += !strcmp(wh->tenant, c->tenant->name);
	if (n >= cfg->max_per_tenant) {
		json_decref(body);
		ERR(c, 409, "conflict", "tenant %s has %u webhooks, the most it may have", c->tenant->name, n);
		return;
	}

	sw.tenant = c->tenant->name;
	sw.all_campaigns = c->tenant->is_operator;
	sw.secret = secret;
	sw.created_ms = uigw_wall_ms();
	/* on a shared store the next id is the database's: another gateway's webhook may have taken the one memory
	 * has (its row refused: read again, once) */
	for (attempt = 0; attempt < 2; attempt++) {
		if (attempt)
			uigw_api_sync(api, true);
		sw.id = api->max_webhook_id + 1;
		row = (struct uigw_store_row){ .kind = UIGW_ROW_WEBHOOK, .time_ms = sw.created_ms,
					       .u.webhook = { .id = sw.id, .tenant = sw.tenant,
							      .all_campaigns = sw.all_campaigns, .url = sw.url,
							      .secret = sw.secret, .events = sw.events } };
		rc = wh_store(api, &row);
		if (rc == 0 || !uigw_store_shared(api->gw->store))
			break;
	}
	if (rc < 0) {
		json_decref(body);
		ERR(c, 500, "internal", "the store did not take the webhook");
		return;
	}
	wh = wh_add(api, &sw);
	json_decref(body);
	if (!wh) {
		ERR(c, 500, "internal", "out of memory");
		return;
	}
	LOGP(DAPI, LOGL_NOTICE, "tenant %s: webhook %" PRId64 " created for %s\n", wh->tenant, wh->id, wh->url);
	j = wh_json(c, wh);
	/* a secret the gateway made is shown this once */
	if (generated)
		json_object_set_new(j, "secret", json_string(secret));
	wh_schedule(api, 0);
	api_reply(c, 201, j);
}

void api_h_webhook_delete(struct call *c)
{
	struct uigw_store_row row;
	struct uigw_webhook *wh;

	if (!store_ok(c) || !(wh = own_webhook(c)))
		return;
	row = (struct uigw_store_row){ .kind = UIGW_ROW_WEBHOOK, .time_ms = uigw_wall_ms(),
				       .u.webhook = { .id = wh->id, .remove = true } };
	if (wh_store(c->api, &row) < 0) {
		ERR(c, 500, "internal", "the store did not take the change");
		return;
	}
	LOGP(DAPI, LOGL_NOTICE, "tenant %s: webhook %" PRId64 " deleted\n", c->tenant->name, wh->id);
	talloc_free(wh);
	c->resp->status = 204;
}

struct dead_ctx {
	struct call *c;
	json_t *list;
	int64_t last;
};

static void dead_cb(const struct uigw_store_wh_entry *e, void *data)
{
	struct dead_ctx *d = data;
	json_t *payload = json_loads(e->data, 0, NULL);

	json_array_append_new(d->list, json_pack("{s:I, s:s, s:s, s:s, s:I, s:o, s:o}", "entry", (json_int_t)e->id,
						 "id", e->delivery, "event", e->event, "created",
						 api_time_str(d->c, e->created_ms), "attempts", (json_int_t)e->attempts,
						 "last_status", e->last_status ? json_integer(e->last_status) : json_null(),
						 "data", payload ? payload : json_null()));
	d->last = e->id;
}

void api_h_webhook_dead(struct call *c)
{
	struct dead_ctx d = { .c = c };
	struct uigw_webhook *wh;
	int64_t after, limit;
	int n;

	if (!store_ok(c) || !(wh = own_webhook(c)))
		return;
	if (api_arg_int(c, "after", 0, INT64_MAX, 0, &after) < 0 ||
	    api_arg_int(c, "limit", 1, MAX_LIMIT, DEFAULT_LIMIT, &limit) < 0)
		return;
	d.list = json_array();
	n = uigw_store_wh_entries(c->api->gw->store, wh->id, true, after, limit, dead_cb, &d);
	if (n < 0) {
		json_decref(d.list);
		ERR(c, 500, "internal", "cannot read the dead letters");
		return;
	}
	api_reply(c, 200, json_pack("{s:I, s:o, s:o}", "webhook", (json_int_t)wh->id, "dead", d.list,
				    "next", n == limit ? json_integer(d.last) : json_null()));
}

void api_h_webhook_resend(struct call *c)
{
	struct uigw_webhook *wh;
	int64_t entry;
	int n;

	if (!store_ok(c) || !(wh = own_webhook(c)))
		return;
	if (api_arg_int(c, "entry", 1, INT64_MAX, 0, &entry) < 0)
		return;
	n = uigw_api_webhook_resend(c->api, wh->id, entry);
	if (n < 0) {
		ERR(c, 500, "internal", "the store did not take the change");
		return;
	}
	api_reply(c, 200, json_pack("{s:I, s:i}", "webhook", (json_int_t)wh->id, "resent", n));
}

/* ---------------------------------------------------------------------------------------------------------- */
/* VTY */

void uigw_api_webhooks_vty_show(struct vty *vty, struct uigw_api *api)
{
	const struct uigw_webhook_cfg *cfg = &api->cfg.wh;
	struct uigw_http_stats hs = { 0 };
	struct uigw_webhook *wh;
	char t[40];

	if (api->http)
		uigw_http_client_stats(api->http, &hs);
	vty_out(vty, "Webhooks: %s; timeout %u ms, max-age %u s, backoff %u..%u ms, %u in flight at most each%s",
		api->wh_running ? "delivering" : "stopped (no store)", cfg->timeout_ms, cfg->max_age_s,
		cfg->backoff_min_ms, cfg->backoff_max_ms, cfg->max_in_flight, VTY_NEWLINE);
	vty_out(vty, " HTTP: %" PRIu64 " sent, %" PRIu64 " answered, %" PRIu64 " without answer, %" PRIu64
		" connections opened, %u in flight%s", hs.sent, hs.answered, hs.failed, hs.connects, hs.in_flight,
		VTY_NEWLINE);
	llist_for_each_entry(wh, &api->webhooks, list) {
		int64_t pending = 0, dead = 0;
		unsigned int i;

		uigw_store_wh_counts(api->gw->store, wh->id, 0, 0, &pending, &dead, NULL);
		vty_out(vty, " webhook %" PRId64 " of %s%s: %s%s", wh->id, wh->tenant,
			wh->all_campaigns ? " (every campaign)" : "", wh->url, VTY_NEWLINE);
		vty_out(vty, "  events:");
		for (i = 0; i < _UIGW_WH_NUM; i++)
			if (wh->events & (1u << i))
				vty_out(vty, " %s", get_value_string(uigw_webhook_event_names, i));
		vty_out(vty, "%s", VTY_NEWLINE);
		vty_out(vty, "  outbox: %" PRId64 " pending, %" PRId64 " dead letters; since start: %" PRIu64
			" delivered, %" PRIu64 " failed attempts, %" PRIu64 " dead-lettered; %u in flight%s",
			pending, dead, wh->delivered, wh->failed, wh->dead, wh->in_flight, VTY_NEWLINE);
		if (wh->last_fail_ms)
			vty_out(vty, "  last failure %s: %s%s", uigw_api_time_str(wh->last_fail_ms, t, sizeof(t)),
				wh->last_error, VTY_NEWLINE);
		if (wh->last_ok_ms)
			vty_out(vty, "  last success %s%s", uigw_api_time_str(wh->last_ok_ms, t, sizeof(t)),
				VTY_NEWLINE);
		if (wh->retry_at_us > uigw_mono_us())
			vty_out(vty, "  backing off after %u failures: next attempt in %" PRId64 " ms%s", wh->failures,
				(wh->retry_at_us - uigw_mono_us()) / 1000, VTY_NEWLINE);
	}
}
