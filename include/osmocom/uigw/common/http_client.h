/*! \file http_client.h
 *  Outgoing HTTP on the osmo_select loop: libcurl's multi interface driven by its socket callbacks (each socket
 *  an osmo_fd, libcurl's timeout an osmo_timer; no thread), connections kept alive and reused per host. For the
 *  webhooks and the external applications (issue 15). */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct uigw_http_client;
struct uigw_http_xfer;

/*! One request. Everything is copied by uigw_http_send(): the caller's strings may go at once. */
struct uigw_http_req {
	const char *method;		/*!< "GET", "POST" (default: POST with a body, else GET) */
	const char *url;		/*!< http:// or https:// only */
	const char *content_type;	/*!< of body, or NULL */
	const void *body;
	size_t body_len;
	const char *const *headers;	/*!< "Name: value" lines, NULL-terminated, or NULL */
	unsigned int timeout_ms;	/*!< the whole transfer, connecting included (0: 10000) */
};

/*! What came back. Valid during the callback only. */
struct uigw_http_result {
	int err;			/*!< 0: an HTTP answer came (any status); else -ETIMEDOUT, -ECONNREFUSED,
					 *   -EHOSTUNREACH, -EMSGSIZE (body over the limit), -EIO (anything else) */
	const char *err_str;		/*!< libcurl's words for err, or "" */
	long status;			/*!< HTTP status (0 when err) */
	const char *body;		/*!< NUL-terminated, at most UIGW_HTTP_MAX_BODY bytes */
	size_t body_len;
	const char *content_type;	/*!< of the answer, or NULL */
	unsigned int elapsed_ms;
};

#define UIGW_HTTP_MAX_BODY	(64 * 1024)

/*! Called once per request on the loop (never from inside uigw_http_send()), unless it was cancelled. */
typedef void (*uigw_http_done_cb)(const struct uigw_http_result *res, void *data);

/*! \param max_per_host  connections to one host at most (0: 8); more requests wait for one
 *  \returns the client, or NULL (curl_global_init or the multi handle failed; logged) */
struct uigw_http_client *uigw_http_client_alloc(void *ctx, unsigned int max_per_host);
/*! Abort what is in flight (no callbacks) and free. */
void uigw_http_client_free(struct uigw_http_client *cl);
/*! Start a request. \returns its handle (for uigw_http_cancel()), or NULL (bad URL or method, OOM; logged) */
struct uigw_http_xfer *uigw_http_send(struct uigw_http_client *cl, const struct uigw_http_req *req,
				      uigw_http_done_cb cb, void *data);
/*! Abort one request; its callback is not called. */
void uigw_http_cancel(struct uigw_http_xfer *x);

/*! Counters of a client. */
struct uigw_http_stats {
	uint64_t sent;			/*!< requests started */
	uint64_t answered;		/*!< an HTTP answer came */
	uint64_t failed;		/*!< no answer: timeout, refused, ... */
	uint64_t connects;		/*!< new connections opened (the rest reused one) */
	unsigned int in_flight;
};
void uigw_http_client_stats(const struct uigw_http_client *cl, struct uigw_http_stats *out);
