/*! \file http_client.c
 *  Outgoing HTTP on the osmo_select loop with libcurl's multi socket interface (http_client.h).
 *
 *  libcurl tells which sockets to watch (socket_cb: each one an osmo_fd, the struct assigned to the socket with
 *  curl_multi_assign) and when to call it back at the latest (timer_cb: one osmo_timer); the loop hands every
 *  readiness and the timer's expiry to curl_multi_socket_action(), then the finished transfers are collected from
 *  curl_multi_info_read() and their callbacks run. libcurl keeps the connections alive and reuses them per host;
 *  no thread, no blocking call (names resolve through libcurl's own threaded resolver, invisible here). */

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <curl/curl.h>
#include <talloc.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/select.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/http_client.h>
#include <osmocom/uigw/common/logging.h>

#include "config.h"

struct uigw_http_client {
	CURLM *multi;
	struct osmo_timer_list timer;
	struct llist_head xfers;
	struct uigw_http_stats stats;
};

struct uigw_http_xfer {
	struct llist_head list;
	struct uigw_http_client *cl;
	CURL *easy;
	struct curl_slist *hdrs;
	char *resp;			/*!< the answer's body so far (talloc, NUL-terminated) */
	size_t resp_len;
	bool too_big;
	uigw_http_done_cb cb;
	void *data;
	char errbuf[CURL_ERROR_SIZE];
};

/* a socket libcurl wants watched */
struct http_sock {
	struct osmo_fd ofd;
	struct uigw_http_client *cl;
};

static bool curl_ready;

static void xfer_free(struct uigw_http_xfer *x)
{
	llist_del(&x->list);
	curl_multi_remove_handle(x->cl->multi, x->easy);
	curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->hdrs);
	x->cl->stats.in_flight--;
	talloc_free(x);
}

static int map_err(CURLcode rc, bool too_big)
{
	switch (rc) {
	case CURLE_OK:
		return 0;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_WRITE_ERROR:
		return too_big ? -EMSGSIZE : -EIO;
	default:
		return -EIO;
	}
}

/* the finished transfers: their callbacks, then free */
static void collect(struct uigw_http_client *cl)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(cl->multi, &left))) {
		struct uigw_http_xfer *x = NULL;
		struct uigw_http_result res = { 0 };
		long n_conn = 0;
		double t = 0;
		char *ctype = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		if (!x)
			continue;
		res.err = map_err(m->data.result, x->too_big);
		res.err_str = res.err ? (x->errbuf[0] ? x->errbuf : curl_easy_strerror(m->data.result)) : "";
		if (!res.err)
			curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &res.status);
		curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ctype);
		curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &t);
		curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &n_conn);
		res.content_type = ctype;
		res.elapsed_ms = (unsigned int)(t * 1000);
		res.body = x->resp ? x->resp : "";
		res.body_len = x->resp_len;
		cl->stats.connects += n_conn;
		if (res.err)
			cl->stats.failed++;
		else
			cl->stats.answered++;
		/* off the multi handle before the callback, which may start new transfers */
		curl_multi_remove_handle(cl->multi, x->easy);
		if (x->cb)
			x->cb(&res, x->data);
		xfer_free(x);
	}
}

static void act(struct uigw_http_client *cl, curl_socket_t s, int ev)
{
	int running;
	CURLMcode rc = curl_multi_socket_action(cl->multi, s, ev, &running);

	if (rc != CURLM_OK)
		LOGP(DMAIN, LOGL_ERROR, "HTTP client: %s\n", curl_multi_strerror(rc));
	collect(cl);
}

static int sock_cb(struct osmo_fd *ofd, unsigned int what)
{
	struct http_sock *hs = ofd->data;
	int ev = (what & OSMO_FD_READ ? CURL_CSELECT_IN : 0) | (what & OSMO_FD_WRITE ? CURL_CSELECT_OUT : 0) |
		 (what & OSMO_FD_EXCEPT ? CURL_CSELECT_ERR : 0);

	/* hs may be gone when this returns (CURL_POLL_REMOVE inside) */
	act(hs->cl, ofd->fd, ev);
	return 0;
}

static void timer_fired(void *data)
{
	act(data, CURL_SOCKET_TIMEOUT, 0);
}

/* libcurl: watch socket s for what (or stop watching it) */
static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct uigw_http_client *cl = userp;
	struct http_sock *hs = socketp;

	if (what == CURL_POLL_REMOVE) {
		if (hs) {
			osmo_fd_unregister(&hs->ofd);	/* libcurl closes the socket itself */
			curl_multi_assign(cl->multi, s, NULL);
			talloc_free(hs);
		}
		return 0;
	}
	if (!hs) {
		hs = talloc_zero(cl, struct http_sock);
		if (!hs)
			return -1;
		hs->cl = cl;
		osmo_fd_setup(&hs->ofd, s, 0, sock_cb, hs, 0);
		if (osmo_fd_register(&hs->ofd) < 0) {
			talloc_free(hs);
			return -1;
		}
		curl_multi_assign(cl->multi, s, hs);
	}
	hs->ofd.when = (what == CURL_POLL_IN || what == CURL_POLL_INOUT ? OSMO_FD_READ : 0) |
		       (what == CURL_POLL_OUT || what == CURL_POLL_INOUT ? OSMO_FD_WRITE : 0);
	return 0;
}

/* libcurl: call curl_multi_socket_action(CURL_SOCKET_TIMEOUT) in timeout_ms (-1: no timer) */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct uigw_http_client *cl = userp;

	if (timeout_ms < 0)
		osmo_timer_del(&cl->timer);
	else
		osmo_timer_schedule(&cl->timer, timeout_ms / 1000, (timeout_ms % 1000) * 1000);
	return 0;
}

static size_t write_cb(char *ptr, size_t size, size_t n, void *userdata)
{
	struct uigw_http_xfer *x = userdata;
	size_t len = size * n;
	char *b;

	if (x->resp_len + len > UIGW_HTTP_MAX_BODY) {
		x->too_big = true;
		return 0;	/* aborts the transfer: CURLE_WRITE_ERROR */
	}
	b = talloc_realloc_size(x, x->resp, x->resp_len + len + 1);
	if (!b)
		return 0;
	memcpy(b + x->resp_len, ptr, len);
	x->resp = b;
	x->resp_len += len;
	b[x->resp_len] = '\0';
	return len;
}

struct uigw_http_client *uigw_http_client_alloc(void *ctx, unsigned int max_per_host)
{
	struct uigw_http_client *cl;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			LOGP(DMAIN, LOGL_ERROR, "HTTP client: curl_global_init failed\n");
			return NULL;
		}
		curl_ready = true;
	}
	cl = talloc_zero(ctx, struct uigw_http_client);
	if (!cl)
		return NULL;
	INIT_LLIST_HEAD(&cl->xfers);
	osmo_timer_setup(&cl->timer, timer_fired, cl);
	cl->multi = curl_multi_init();
	if (!cl->multi) {
		LOGP(DMAIN, LOGL_ERROR, "HTTP client: curl_multi_init failed\n");
		talloc_free(cl);
		return NULL;
	}
	curl_multi_setopt(cl->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(cl->multi, CURLMOPT_SOCKETDATA, cl);
	curl_multi_setopt(cl->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(cl->multi, CURLMOPT_TIMERDATA, cl);
	curl_multi_setopt(cl->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)(max_per_host ? max_per_host : 8));
	return cl;
}

void uigw_http_client_free(struct uigw_http_client *cl)
{
	struct uigw_http_xfer *x, *tmp;

	if (!cl)
		return;
	llist_for_each_entry_safe(x, tmp, &cl->xfers, list)
		xfer_free(x);
	/* closes the kept connections: their sockets' CURL_POLL_REMOVE free the osmo_fds */
	curl_multi_cleanup(cl->multi);
	osmo_timer_del(&cl->timer);
	talloc_free(cl);
}

struct uigw_http_xfer *uigw_http_send(struct uigw_http_client *cl, const struct uigw_http_req *req,
				      uigw_http_done_cb cb, void *data)
{
	struct uigw_http_xfer *x;
	const char *method;
	char ua[64];
	unsigned int i;

	if (!cl || !req || !req->url || (strncmp(req->url, "http://", 7) && strncmp(req->url, "https://", 8))) {
		LOGP(DMAIN, LOGL_ERROR, "HTTP client: not an http(s) URL: %s\n", req && req->url ? req->url : "");
		return NULL;
	}
	method = req->method ? req->method : (req->body ? "POST" : "GET");
	x = talloc_zero(cl, struct uigw_http_xfer);
	if (!x)
		return NULL;
	x->cl = cl;
	x->cb = cb;
	x->data = data;
	INIT_LLIST_HEAD(&x->list);
	x->easy = curl_easy_init();
	if (!x->easy)
		goto fail;
	snprintf(ua, sizeof(ua), "osmo-uigw/%s", PACKAGE_VERSION);
	x->hdrs = curl_slist_append(NULL, "Expect:");	/* no 100-continue round trip */
	if (req->content_type) {
		char ct[256];

		snprintf(ct, sizeof(ct), "Content-Type: %s", req->content_type);
		x->hdrs = curl_slist_append(x->hdrs, ct);
	}
	for (i = 0; req->headers && req->headers[i]; i++)
		x->hdrs = curl_slist_append(x->hdrs, req->headers[i]);
	if (!x->hdrs)
		goto fail;
	if (curl_easy_setopt(x->easy, CURLOPT_URL, req->url) != CURLE_OK ||
	    curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    /* a transfer removed while its host name is being resolved: libcurl's threaded resolver would join
	     * the resolver thread in curl_multi_remove_handle(), blocking the whole event loop until getaddrinfo()
	     * gives up (seconds, with a silent DNS server). With QUICK_EXIT (7.87) it leaves the thread to end on
	     * its own. Found by the api fuzz target: a webhook deleted during its first delivery stalled it. */
	    curl_easy_setopt(x->easy, CURLOPT_QUICK_EXIT, 1L) != CURLE_OK ||
	    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, (long)(req->timeout_ms ? req->timeout_ms : 10000)) != CURLE_OK ||
	    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs) != CURLE_OK ||
	    curl_easy_setopt(x->easy, CURLOPT_USERAGENT, ua) != CURLE_OK ||
	    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, write_cb) != CURLE_OK ||
	    curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x) != CURLE_OK ||
	    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x) != CURLE_OK ||
	    curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf) != CURLE_OK)
		goto fail;
	if (req->body) {
		if (curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len) != CURLE_OK ||
		    curl_easy_setopt(x->easy, CURLOPT_COPYPOSTFIELDS, req->body) != CURLE_OK)
			goto fail;
	}
	if (strcmp(method, req->body ? "POST" : "GET") &&
	    curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK)
		goto fail;
	if (curl_multi_add_handle(cl->multi, x->easy) != CURLM_OK)
		goto fail;
	llist_add_tail(&x->list, &cl->xfers);
	cl->stats.sent++;
	cl->stats.in_flight++;
	return x;
fail:
	LOGP(DMAIN, LOGL_ERROR, "HTTP client: cannot start %s %s\n", method, req->url);
	if (x->easy)
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->hdrs);
	talloc_free(x);
	return NULL;
}

void uigw_http_cancel(struct uigw_http_xfer *x)
{
	if (x)
		xfer_free(x);
}

void uigw_http_client_stats(const struct uigw_http_client *cl, struct uigw_http_stats *out)
{
	*out = cl->stats;
}
