/*! \file api.h
 *  The HTTP API v1 (doc/api.md, doc/api.yaml): third parties and the network's own systems read campaigns,
 *  trigger dialogs and read results over HTTP/JSON. libmicrohttpd runs on the osmo_select loop (its epoll fd is
 *  an osmo_fd, its timeouts an osmo_timer), so the handlers call the core directly, like the VTY and CTRL.
 *
 *  The handlers see a request as a struct uigw_api_req and answer in a struct uigw_api_resp, without sockets:
 *  the unit tests and the fuzz target call uigw_api_handle() the same way the server does. */
#pragma once

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

struct uigw;
struct uigw_api;

/*! Bodies larger than this are refused with 413. */
#define UIGW_API_MAX_BODY	(64 * 1024)
/*! Query arguments a handler sees at most (the rest are ignored). */
#define UIGW_API_MAX_ARGS	16

/*! Scopes of a key: what it may call. */
enum uigw_api_scope {
	UIGW_SCOPE_CAMPAIGNS,	/*!< read own campaigns, propose campaigns */
	UIGW_SCOPE_TRIGGER,	/*!< trigger dialogs, read their state */
	UIGW_SCOPE_EVENTS,	/*!< post network events */
	UIGW_SCOPE_RESULTS,	/*!< read answers and summaries of own campaigns */
	UIGW_SCOPE_SPAM,	/*!< read the spam feed */
	UIGW_SCOPE_ADMIN,	/*!< approve and reject proposals */
	UIGW_SCOPE_METRICS,	/*!< GET /metrics (the operator's keys) */
	_UIGW_SCOPE_NUM
};
/*! "campaigns", "trigger", "events", "results", "spam", "admin" */
const char *uigw_api_scope_name(enum uigw_api_scope s);
/*! \returns the scope of a name, or -1 */
int uigw_api_scope_by_name(const char *name);

/*! One HTTP request as the handlers see it. */
struct uigw_api_req {
	const char *method;		/*!< "GET", "POST", ... */
	const char *path;		/*!< URL path, percent-decoded, without the query */
	unsigned int n_args;		/*!< query arguments, percent-decoded */
	struct { const char *name, *value; } args[UIGW_API_MAX_ARGS];
	const char *authorization;	/*!< the Authorization header, or NULL */
	const char *content_type;	/*!< the Content-Type header, or NULL */
	const char *remote;		/*!< client address, for the audit log */
	const char *body;		/*!< request body (not NUL-terminated), or NULL */
	size_t body_len;
	bool body_too_large;		/*!< more than UIGW_API_MAX_BODY arrived (body holds nothing) */
};

/*! The answer. */
struct uigw_api_resp {
	unsigned int status;		/*!< HTTP status */
	char *body;			/*!< JSON text (talloc child of the handler's ctx), or NULL */
	const char *allow;		/*!< 405: the methods the path allows */
	unsigned int retry_after;	/*!< 429, 503: seconds */
	const char *content_type;	/*!< of body; NULL: application/json */
};

/*! Create the API object of \a gw with its defaults (bind 127.0.0.1 8090, the built-in tenant `operator`) and
 *  install its VTY nodes. Once, before the configuration is read. \returns 0 or -ENOMEM */
int uigw_api_init(struct uigw *gw);
/*! Load the API keys from the store and start listening (if enabled). After uigw_start().
 *  \returns 0, or negative errno (logged) when the listener cannot open */
int uigw_api_start(struct uigw *gw);
/*! Stop listening and drop open connections (shutdown, before uigw_free()). */
void uigw_api_stop(struct uigw *gw);
/*! The API object of \a gw, or NULL. */
struct uigw_api *uigw_api_of(struct uigw *gw);

/*! Answer one request. Every call is audited in the store. \a ctx is the talloc parent of resp->body. */
void uigw_api_handle(struct uigw_api *api, void *ctx, const struct uigw_api_req *req, struct uigw_api_resp *resp);

/*! Create a key for \a tenant with \a scopes (bits of enum uigw_api_scope); the key is written to \a key_out
 *  (shown once, never stored: the store keeps its SHA-256) and its id to \a id_out (if not NULL).
 *  \returns 0, -ENOENT (no such tenant), -EINVAL, -EIO (the store refused it) */
int uigw_api_key_create(struct uigw_api *api, const char *tenant, uint32_t scopes, char *key_out, size_t key_len,
			int64_t *id_out);
/*! Revoke key \a id of \a tenant. \returns 0, -ENOENT */
int uigw_api_key_revoke(struct uigw_api *api, const char *tenant, int64_t id);
/*! Ensure a third-party tenant exists (as the VTY's `tenant NAME` does). \returns 0, -EINVAL, -ENOMEM */
int uigw_api_tenant_add(struct uigw_api *api, const char *name);
