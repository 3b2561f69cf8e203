/*! \file api_priv.h
 *  Internals of the HTTP API: the object, tenants and keys (api_auth.c), the server on the loop (api.c), the
 *  routes (api_handle.c), JSON helpers (api_json.c), the VTY (api_vty.c). */
#pragma once

#include <stdint.h>
#include <stdbool.h>
#include <jansson.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/core/hashtable.h>
#include <osmocom/core/select.h>
#include <osmocom/core/timer.h>
#include <osmocom/uigw/api/api.h>

struct MHD_Daemon;
struct uigw;
struct uigw_campaign;
struct rate_ctr_group;
struct vty;

#define UIGW_API_PORT	8090
#ifndef UIGW_UI_DIR
#define UIGW_UI_DIR	"/usr/local/share/osmo-uigw/ui"	/*!< set by src/api/Makefile.am to $(pkgdatadir)/ui */
#endif
#define UIGW_API_KEY_PREFIX	"uk_"

/*! Settings of node `api`. */
struct uigw_api_cfg {
	bool configured;		/*!< node `api` was entered: without it the daemon serves no HTTP */
	bool enabled;			/*!< `no shutdown` (default) / `shutdown` */
	char *bind_addr;		/*!< default 127.0.0.1 */
	uint16_t port;			/*!< default 8090 */
	char *tls_cert, *tls_key;	/*!< PEM files, both or neither */
	unsigned int max_connections;	/*!< default 1024 */
	unsigned int max_connections_per_ip;	/*!< 0: no limit (default) */
	unsigned int idle_timeout;	/*!< seconds a connection may stay silent (default 10) */
	bool metrics_public;		/*!< `metrics public`: GET /metrics without a key */
	char *ui_dir;			/*!< `ui-dir`: the dashboard's files served at /ui/ (default UIGW_UI_DIR) */
	struct uigw_webhook_cfg {
		unsigned int timeout_ms;	/*!< one delivery attempt at most (default 5000) */
		unsigned int max_age_s;		/*!< an event not delivered within this is dead-lettered (86400) */
		unsigned int backoff_min_ms, backoff_max_ms;	/*!< after failures: min * 2^(n-1), at most max
								 *   (default 1000, 600000) */
		unsigned int max_in_flight;	/*!< attempts at once per webhook (default 16) */
		unsigned int max_per_tenant;	/*!< webhooks a tenant may have (default 10) */
		unsigned int poll_ms;		/*!< how often the outbox is read for new events (default 100) */
		bool require_https;		/*!< refuse http:// URLs (default: allowed) */
	} wh;				/*!< `webhook ...` in node api */
};

/*! A tenant: the operator (built in) or a third party the operator configured in node `api`. */
struct uigw_api_tenant {
	struct llist_head list;		/*!< in api->tenants */
	char *name;
	bool is_operator;		/*!< sees and may do everything its keys' scopes allow */
	bool may_push;			/*!< may trigger network-initiated dialogs (default: yes) */
	uint32_t channels;		/*!< channels it may name in `via` (bit per enum uigw_channel; default all) */
	unsigned int rate_limit;	/*!< requests per second per key (0: none); burst = twice that */
	/* what its proposals may contain (the operator's own are not restricted) */
	unsigned int max_nodes;		/*!< default 20 */
	unsigned int max_proposals;	/*!< proposals waiting for approval at most (default 10) */
	uint32_t node_kinds;		/*!< bits of enum uigw_node_kind (default all) */
	uint32_t actions;		/*!< bits of enum uigw_action_kind (default: record reaction app_rating flag) */
	unsigned int push_cap_count, push_cap_per;	/*!< the loosest push_cap a proposal may have (default 1 per
							 *   86400 s; per 0: none required) */
};

/*! A key as the gateway keeps it: never the key itself, only its SHA-256. */
struct uigw_api_key {
	struct llist_head list;		/*!< in api->keys, by id */
	struct hlist_node hnode;	/*!< in api->keys_by_hash */
	int64_t id;
	char tenant[33];
	uint8_t hash[32];
	uint32_t scopes;		/*!< bits of enum uigw_api_scope */
	int64_t created_ms, last_used_ms, revoked_ms;
	int64_t last_used_written_ms;	/*!< last_used goes to the store at most once a minute */
	double tokens;			/*!< rate limit: a token bucket */
	int64_t tokens_us;		/*!< when it was last filled (monotonic) */
};

/*! Rate counters of the API. */
enum uigw_api_ctr {
	API_CTR_REQUESTS,
	API_CTR_R2XX,
	API_CTR_R4XX,
	API_CTR_R5XX,
	API_CTR_UNAUTHORIZED,
	API_CTR_FORBIDDEN,
	API_CTR_RATE_LIMITED,
	API_CTR_TRIGGERS,
	API_CTR_TRIGGERS_REFUSED,
	API_CTR_AUDIT_LOST,
	API_CTR_WH_DELIVERED,
	API_CTR_WH_FAILED,
	API_CTR_WH_DEAD,
};

struct uigw_http_client;

/*! A webhook: where a tenant wants to be told about the events of its campaigns (api_webhook.c). */
struct uigw_webhook {
	struct llist_head list;		/*!< in api->webhooks, by id */
	struct uigw_api *api;
	int64_t id;
	char tenant[33];
	bool all_campaigns;		/*!< the operator's: every campaign */
	char *url, *secret;
	uint32_t events;		/*!< bits of enum uigw_webhook_event */
	int64_t created_ms;
	bool synced;			/*!< seen in the store's list (uigw_api_webhooks_sync()) */

	/* delivery: the oldest pending outbox entries, read from the store in id order */
	struct llist_head entries;	/*!< struct uigw_wh_entry, by id */
	unsigned int n_entries, in_flight;
	int64_t fetched;		/*!< the highest outbox id read: the next read starts above it */
	unsigned int failures;		/*!< failed attempts since the last success */
	int64_t retry_at_us;		/*!< monotonic: backing off until then (0: not) */
	int64_t last_sweep_us;
	/* since the start, for show api webhooks and GET /v1/webhooks */
	uint64_t delivered, failed, dead;
	long last_status;		/*!< of the last attempt (0: no answer) */
	char last_error[80];
	int64_t last_ok_ms, last_fail_ms;
};

struct uigw_api {
	struct uigw *gw;
	struct uigw_api_cfg cfg;
	struct llist_head tenants;
	struct llist_head keys;
	DECLARE_HASHTABLE(keys_by_hash, 8);
	int64_t max_key_id;
	bool keys_loaded;
	struct rate_ctr_group *ctrs;

	/* summaries computed within the last summary_cache_ms, per campaign (api_handle.c) */
	struct llist_head summaries;
	unsigned int summary_cache_ms;	/*!< `summary-cache` (default 1000; 0: always compute) */

	/* the server (api.c) */
	struct MHD_Daemon *mhd;
	struct osmo_fd ofd;		/*!< MHD's epoll fd */
	struct osmo_timer_list timer;	/*!< MHD's next timeout, or "run again" */
	unsigned int n_conns;		/*!< open connections */

	/* webhooks (api_webhook.c) */
	struct llist_head webhooks;
	int64_t max_webhook_id;
	struct uigw_http_client *http;	/*!< their deliveries */
	struct osmo_timer_list wh_timer;	/*!< reads the outbox, sends what is due */
	bool wh_running;

	/* a store several gateways share: what the others changed (keys, webhooks), read again (api.c) */
	struct osmo_timer_list sync_timer;
	int64_t synced_us;		/*!< the last read (monotonic) */
};

/* api.c */
/*! On a shared store: read the keys and webhooks again (\a now false: unless that was done within the last
 *  second). */
void uigw_api_sync(struct uigw_api *api, bool now);

/* api_auth.c */
/*! Keys another gateway created or revoked (a shared store). \returns 0 or negative errno */
int uigw_api_keys_sync(struct uigw_api *api);
struct uigw_api_tenant *uigw_api_tenant_find(struct uigw_api *api, const char *name);
struct uigw_api_tenant *uigw_api_tenant_get(struct uigw_api *api, const char *name);	/*!< find or create */
void uigw_api_tenant_del(struct uigw_api *api, struct uigw_api_tenant *t);
/*! The key of an "Authorization: Bearer KEY" header, or NULL (revoked keys are found: check revoked_ms). */
struct uigw_api_key *uigw_api_key_find(struct uigw_api *api, const char *authorization);
/*! Take a token of the key's bucket. \returns true if the request may go on */
bool uigw_api_key_take(struct uigw_api *api, struct uigw_api_key *k, const struct uigw_api_tenant *t);
/*! Load the keys from the store (at start). \returns 0 or negative errno */
int uigw_api_keys_load(struct uigw_api *api);
/*! Scopes as "campaigns trigger ..." into buf. */
const char *uigw_api_scopes_str(uint32_t scopes, char *buf, size_t len);

/*! Is \a c visible to tenant \a t (its owner, or the operator)? */
bool uigw_api_owns(const struct uigw_api_tenant *t, const struct uigw_campaign *c);

/* api_metrics.c */
/*! The Prometheus text exposition of every counter and stat item, a talloc string under ctx (NULL: OOM). */
char *uigw_api_metrics_text(void *ctx, struct uigw *gw);

/* api_json.c */
/*! Serialize and free \a j into resp with \a status. */
void uigw_api_reply(void *ctx, struct uigw_api_resp *resp, unsigned int status, json_t *j);
/*! {"error": code, "message": message} */
void uigw_api_error(void *ctx, struct uigw_api_resp *resp, unsigned int status, const char *code,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/*! Milliseconds since the epoch as an RFC 3339 UTC string ("2026-12-03T23:10:30.123Z") into buf. */
const char *uigw_api_time_str(int64_t ms, char *buf, size_t len);
/*! Parse RFC 3339 UTC ("...Z") or integer milliseconds. \returns 0 or -EINVAL */
int uigw_api_time_parse(const char *s, int64_t *ms);
/*! The campaign as JSON (list and detail views); \a state overrides enabled/disabled ("proposed"). */
json_t *uigw_api_campaign_json(const struct uigw_campaign *c, bool detail, const char *state);

/* api_propose.c */
struct uigw_proposal;
/*! Validate a proposal (the JSON form of a campaign file) for tenant \a t and keep it.
 *  \returns 0; -EINVAL with *errors (path, reason) filled; -EEXIST / -EIO with \a conflict */
int uigw_api_propose(struct uigw_api *api, void *ctx, const struct uigw_api_tenant *t, json_t *body,
		     struct uigw_proposal **out, json_t **errors, char *conflict, size_t conflict_len);

/* api_webhook.c */
/*! Defaults of node api's webhook settings. */
void uigw_api_webhook_cfg_defaults(struct uigw_api *api);
/*! Load the webhooks from the store and start delivering. \returns 0 or negative errno */
int uigw_api_webhooks_start(struct uigw_api *api);
/*! Stop delivering (attempts in flight are dropped: they are sent again after the next start). */
void uigw_api_webhooks_stop(struct uigw_api *api);
/*! Webhooks another gateway created or deleted (a shared store). \returns 0 or negative errno */
int uigw_api_webhooks_sync(struct uigw_api *api);
/*! Dead letters of webhook \a id are pending again (all, or only outbox entry \a entry).
 *  \returns the number re-sent, -ENOENT, -EIO */
int uigw_api_webhook_resend(struct uigw_api *api, int64_t id, int64_t entry);
/*! The settings and every webhook with its delivery state, for `show api webhooks`. */
void uigw_api_webhooks_vty_show(struct vty *vty, struct uigw_api *api);

/* api_vty.c */
void uigw_api_vty_init(void);
void uigw_api_vty_show(struct vty *vty, struct uigw_api *api);
