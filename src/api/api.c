/*! \file api.c
 *  The HTTP API's object and its server: libmicrohttpd in "external select" mode with epoll, on the osmo_select
 *  loop. MHD's epoll fd is one osmo_fd; when it is readable MHD_run() serves whatever is ready (accepts, reads,
 *  writes, timeouts) without blocking; after each run an osmo_timer is set to MHD_get_timeout() (0: MHD has
 *  work left, run again on the next loop). No thread besides the loop touches the gateway.
 *
 *  A request's body is collected (at most UIGW_API_MAX_BODY; past that the rest is read and dropped, the answer
 *  is 413), then the whole request goes to uigw_api_handle() (api_handle.c). */

#include <errno.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/stats.h>
#include <osmocom/core/select.h>
#include <osmocom/core/timer.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/store/store.h>
#include <osmocom/uigw/core/uigw.h>
#include "api_priv.h"

/* libmicrohttpd's memory per connection (its default is 32 KiB): the request line and headers must fit (a request
 * whose headers do not gets 431), bodies are streamed to us. MHD zeroes the whole pool before every request on
 * a kept-alive connection; 8 KiB cut the summary's CPU per request measurably (contrib/bench/api). */
#define API_CONN_MEMORY		8192

static const struct rate_ctr_desc api_ctr_desc[] = {
	[API_CTR_REQUESTS] = { "requests", "HTTP requests answered" },
	[API_CTR_R2XX] = { "responses:2xx", "Answers with a 2xx status" },
	[API_CTR_R4XX] = { "responses:4xx", "Answers with a 4xx status" },
	[API_CTR_R5XX] = { "responses:5xx", "Answers with a 5xx status" },
	[API_CTR_UNAUTHORIZED] = { "unauthorized", "Requests without a valid key (401)" },
	[API_CTR_FORBIDDEN] = { "forbidden", "Requests with a key that lacks the scope (403)" },
	[API_CTR_RATE_LIMITED] = { "rate_limited", "Requests over their key's rate limit (429)" },
	[API_CTR_TRIGGERS] = { "triggers", "Dialogs started by POST /v1/triggers" },
	[API_CTR_TRIGGERS_REFUSED] = { "triggers:refused", "Triggers refused (409, 503)" },
	[API_CTR_AUDIT_LOST] = { "audit:lost", "Audit records not queued for the store (out of memory; rows the store refused: show store)" },
	[API_CTR_WH_DELIVERED] = { "webhook:delivered", "Webhook events delivered (a 2xx answer)" },
	[API_CTR_WH_FAILED] = { "webhook:failed", "Webhook delivery attempts that failed (no answer, or not 2xx)" },
	[API_CTR_WH_DEAD] = { "webhook:dead", "Webhook events dead-lettered (not delivered within the maximum age)" },
};

static const struct rate_ctr_group_desc api_ctrg_desc = {
	.group_name_prefix = "uigw:api",
	.group_description = "osmo-uigw HTTP API",
	.class_id = OSMO_STATS_CLASS_GLOBAL,
	.num_ctr = ARRAY_SIZE(api_ctr_desc),
	.ctr_desc = api_ctr_desc,
};

struct uigw_api *uigw_api_of(struct uigw *gw)
{
	return gw ? gw->api : NULL;
}

static int api_free(struct uigw_api *api)
{
	osmo_timer_del(&api->sync_timer);
	uigw_api_webhooks_stop(api);
	if (api->mhd) {
		osmo_fd_unregister(&api->ofd);
		osmo_timer_del(&api->timer);
		MHD_stop_daemon(api->mhd);
		api->mhd = NULL;
	}
	rate_ctr_group_free(api->ctrs);
	if (api->gw && api->gw->api == api)
		api->gw->api = NULL;
	return 0;
}

int uigw_api_init(struct uigw *gw)
{
	struct uigw_api *api = talloc_zero(gw->ctx, struct uigw_api);

	if (!api)
		return -ENOMEM;
	api->gw = gw;
	INIT_LLIST_HEAD(&api->tenants);
	INIT_LLIST_HEAD(&api->keys);
	INIT_LLIST_HEAD(&api->summaries);
	INIT_LLIST_HEAD(&api->webhooks);
	uigw_api_webhook_cfg_defaults(api);
	api->summary_cache_ms = 1000;
	hash_init(api->keys_by_hash);
	api->cfg.enabled = true;
	api->cfg.bind_addr = talloc_strdup(api, "127.0.0.1");
	api->cfg.port = UIGW_API_PORT;
	api->cfg.max_connections = 1024;
	api->cfg.idle_timeout = 10;
	api->cfg.ui_dir = talloc_strdup(api, UIGW_UI_DIR);
	api->ctrs = rate_ctr_group_alloc(api, &api_ctrg_desc, 0);
	if (!api->ctrs || !api->cfg.bind_addr || !uigw_api_tenant_get(api, "operator")) {
		talloc_free(api);
		return -ENOMEM;
	}
	talloc_set_destructor(api, api_free);
	osmo_fd_setup(&api->ofd, -1, OSMO_FD_READ, NULL, api, 0);
	gw->api = api;
	uigw_api_vty_init();
	return 0;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* MHD on the loop */

static void api_schedule(struct uigw_api *api);

static void api_run(struct uigw_api *api)
{
	if (!api->mhd)
		return;
	MHD_run(api->mhd);
	api_schedule(api);
}

static void api_schedule(struct uigw_api *api)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (MHD_get_timeout(api->mhd, &ms) == MHD_YES) {
		if (ms > 3600 * 1000ULL)
			ms = 3600 * 1000ULL;
		osmo_timer_schedule(&api->timer, ms / 1000, (ms % 1000) * 1000);
	} else {
		osmo_timer_del(&api->timer);
	}
}

static int api_fd_cb(struct osmo_fd *ofd, unsigned int what)
{
	api_run(ofd->data);
	return 0;
}

static void api_timer_cb(void *data)
{
	api_run(data);
}

/* per request: the body collected so far */
struct req_state {
	char *body;
	size_t len;
	bool too_large;
	bool answered;		/*!< a response is queued: whatever still arrives is dropped */
};

static enum MHD_Result arg_it(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct uigw_api_req *req = cls;

	if (req->n_args < UIGW_API_MAX_ARGS && key) {
		req->args[req->n_args].name = key;
		req->args[req->n_args].value = value;
		req->n_args++;
	}
	return MHD_YES;
}

static void add_headers(struct MHD_Response *r, const struct uigw_api_resp *resp)
{
	char buf[16];

	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type ? resp->content_type :
				"application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (resp->allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
	if (resp->retry_after) {
		snprintf(buf, sizeof(buf), "%u", resp->retry_after);
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, buf);
	}
	if (resp->status == 401)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"osmo-uigw\"");
}

static enum MHD_Result queue(struct MHD_Connection *conn, const struct uigw_api_resp *resp)
{
	const char *body = resp->body ? resp->body : "";
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	add_headers(r, resp);
	ret = MHD_queue_response(conn, resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

/* The dashboard (/ui/, doc/ui.md): a fixed list of files from ui-dir, no key needed (they are the same for
 * everyone; the page reads the API with the key its user signs in with). Nothing else of the folder is served. */
static const struct {
	const char *name, *type;
} ui_files[] = {
	{ "index.html", "text/html; charset=utf-8" },
	{ "app.js", "text/javascript; charset=utf-8" },
	{ "style.css", "text/css; charset=utf-8" },
	{ "chart.umd.js", "text/javascript; charset=utf-8" },
};

static enum MHD_Result serve_ui(struct uigw_api *api, struct MHD_Connection *conn, const char *url)
{
	const char *name = url[3] == '/' ? url + 4 : "";
	struct MHD_Response *r;
	enum MHD_Result ret;
	char path[1024];
	unsigned int i, status = 200;
	struct stat sb;
	int fd = -1;

	if (!url[3]) {
		/* /ui: the page's relative links need the slash */
		r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
		if (!r)
			return MHD_NO;
		MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, "/ui/");
		ret = MHD_queue_response(conn, 301, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (!name[0])
		name = "index.html";
	for (i = 0; i < ARRAY_SIZE(ui_files); i++)
		if (!strcmp(name, ui_files[i].name))
			break;
	if (i < ARRAY_SIZE(ui_files) && snprintf(path, sizeof(path), "%s/%s", api->cfg.ui_dir, name) < (int)sizeof(path))
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode))) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		static const char nf[] = "Not found\n";

		if (i < ARRAY_SIZE(ui_files))
			LOGP(DAPI, LOGL_ERROR, "dashboard file %s/%s missing (ui-dir)\n", api->cfg.ui_dir, name);
		r = MHD_create_response_from_buffer(strlen(nf), (void *)nf, MHD_RESPMEM_PERSISTENT);
		status = 404;
	} else {
		r = MHD_create_response_from_fd(sb.st_size, fd);	/* MHD closes fd */
	}
	if (!r) {
		if (fd >= 0)
			close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, status == 200 ? ui_files[i].type :
				"text/plain; charset=utf-8");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				 const char *version, const char *upload_data, size_t *upload_data_size,
				 void **con_cls)
{
	struct uigw_api *api = cls;
	struct req_state *rs = *con_cls;
	struct uigw_api_req req = { 0 };
	struct uigw_api_resp resp;
	const union MHD_ConnectionInfo *ci;
	char remote[INET6_ADDRSTRLEN + 8] = "";
	void *tmp;
	enum MHD_Result ret;

	if (!rs) {
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

		rs = talloc_zero(api, struct req_state);
		if (!rs)
			return MHD_NO;
		*con_cls = rs;
		/* a body announced over the limit is answered (413, or 401 without a key) before a byte of it is
		 * read: MHD then closes the connection instead of reading it */
		if (!cl || strtoull(cl, NULL, 10) <= UIGW_API_MAX_BODY)
			return MHD_YES;
		rs->too_large = true;
	} else if (rs->answered) {
		*upload_data_size = 0;
		return MHD_YES;
	} else if (*upload_data_size) {
		if (!rs->too_large && rs->len + *upload_data_size <= UIGW_API_MAX_BODY) {
			char *b = talloc_realloc_size(rs, rs->body, rs->len + *upload_data_size);
			if (!b)
				return MHD_NO;
			memcpy(b + rs->len, upload_data, *upload_data_size);
			rs->body = b;
			rs->len += *upload_data_size;
		} else {
			rs->too_large = true;
			TALLOC_FREE(rs->body);
			rs->len = 0;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}

	if (url && !strncmp(url, "/ui", 3) && (url[3] == '\0' || url[3] == '/') &&
	    (!strcmp(method, "GET") || !strcmp(method, "HEAD"))) {
		rs->answered = true;
		return serve_ui(api, conn, url);
	}

	tmp = talloc_new(api);
	req.method = method;
	req.path = url;
	req.authorization = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	req.content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	req.body = rs->body;
	req.body_len = rs->len;
	req.body_too_large = rs->too_large;
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, arg_it, &req);
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, remote, sizeof(remote));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, remote, sizeof(remote));
		req.remote = remote;
	}
	uigw_api_handle(api, tmp, &req, &resp);
	LOGP(DAPI, LOGL_DEBUG, "%s %s%s -> %u\n", method, url, rs->too_large ? " (body too large)" : "",
	     resp.status);
	ret = queue(conn, &resp);
	rs->answered = true;
	talloc_free(tmp);
	return ret;
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct req_state *rs = *con_cls;

	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && toe != MHD_REQUEST_TERMINATED_CLIENT_ABORT)
		LOGP(DAPI, LOGL_INFO, "request ended early (%d)\n", toe);
	talloc_free(rs);
	*con_cls = NULL;
}

static void conn_cb(void *cls, struct MHD_Connection *conn, void **socket_context,
		    enum MHD_ConnectionNotificationCode toe)
{
	struct uigw_api *api = cls;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		api->n_conns++;
	else if (api->n_conns)
		api->n_conns--;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	LOGP(DAPI, LOGL_NOTICE, "libmicrohttpd: %s%s", buf, buf[0] && buf[strlen(buf) - 1] == '\n' ? "" : "\n");
}

static char *read_file(void *ctx, const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || n > 1024 * 1024 || fseek(f, 0, SEEK_SET) < 0) {
		fclose(f);
		return NULL;
	}
	buf = talloc_size(ctx, n + 1);
	if (buf && fread(buf, 1, n, f) != (size_t)n)
		TALLOC_FREE(buf);
	if (buf)
		buf[n] = '\0';
	fclose(f);
	return buf;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* a store several gateways share: what the others change */

#define API_SYNC_S	5

void uigw_api_sync(struct uigw_api *api, bool now)
{
	int64_t t = uigw_mono_us();

	if (!api->gw->store || !uigw_store_shared(api->gw->store))
		return;
	if (!now && api->synced_us && t - api->synced_us < 1000000)
		return;
	api->synced_us = t;
	if (uigw_api_keys_sync(api) < 0 || uigw_api_webhooks_sync(api) < 0)
		LOGP(DAPI, LOGL_ERROR, "cannot read the keys and webhooks the other gateways changed\n");
}

static void sync_timer_cb(void *data)
{
	struct uigw_api *api = data;

	uigw_api_sync(api, false);
	osmo_timer_schedule(&api->sync_timer, API_SYNC_S, 0);
}

int uigw_api_start(struct uigw *gw)
{
	struct uigw_api *api = gw->api;
	struct sockaddr_in6 a6 = { 0 };
	struct sockaddr_in a4 = { 0 };
	const struct sockaddr *sa;
	const union MHD_DaemonInfo *di;
	unsigned int flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	char *cert = NULL, *key = NULL;
	int rc;

	if (!api)
		return 0;
	rc = uigw_api_keys_load(api);
	if (rc < 0) {
		LOGP(DAPI, LOGL_ERROR, "cannot load the API keys from the store\n");
		return rc;
	}
	/* deliveries go on without the listener: the webhooks of the store are served */
	rc = uigw_api_webhooks_start(api);
	if (rc < 0)
		return rc;
	if (uigw_store_shared(gw->store) && !osmo_timer_pending(&api->sync_timer)) {
		osmo_timer_setup(&api->sync_timer, sync_timer_cb, api);
		osmo_timer_schedule(&api->sync_timer, API_SYNC_S, 0);
	}
	if (!api->cfg.configured || !api->cfg.enabled || api->mhd)
		return 0;
	if (inet_pton(AF_INET, api->cfg.bind_addr, &a4.sin_addr) == 1) {
		a4.sin_family = AF_INET;
		a4.sin_port = htons(api->cfg.port);
		sa = (const struct sockaddr *)&a4;
	} else if (inet_pton(AF_INET6, api->cfg.bind_addr, &a6.sin6_addr) == 1) {
		a6.sin6_family = AF_INET6;
		a6.sin6_port = htons(api->cfg.port);
		sa = (const struct sockaddr *)&a6;
		flags |= MHD_USE_IPv6;
	} else {
		LOGP(DAPI, LOGL_ERROR, "bind address %s is not an IP address\n", api->cfg.bind_addr);
		return -EINVAL;
	}
	if (api->cfg.tls_cert) {
		cert = read_file(api, api->cfg.tls_cert);
		key = read_file(api, api->cfg.tls_key);
		if (!cert || !key) {
			LOGP(DAPI, LOGL_ERROR, "cannot read the TLS certificate %s or key %s\n", api->cfg.tls_cert,
			     api->cfg.tls_key);
			talloc_free(cert);
			talloc_free(key);
			return -ENOENT;
		}
		flags |= MHD_USE_TLS;
	}
	api->mhd = MHD_start_daemon(flags, api->cfg.port, NULL, NULL, access_cb, api,
				    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, api,
				    MHD_OPTION_SOCK_ADDR, sa,
				    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)api->cfg.max_connections,
				    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)api->cfg.max_connections_per_ip,
				    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)api->cfg.idle_timeout,
				    MHD_OPTION_NOTIFY_COMPLETED, completed_cb, api,
				    MHD_OPTION_NOTIFY_CONNECTION, conn_cb, api,
				    MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1,
				    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)API_CONN_MEMORY,
				    cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
				    MHD_OPTION_HTTPS_MEM_KEY, key,
				    MHD_OPTION_END);
	talloc_free(cert);
	talloc_free(key);
	if (!api->mhd) {
		LOGP(DAPI, LOGL_ERROR, "cannot listen on %s:%u%s\n", api->cfg.bind_addr, api->cfg.port,
		     api->cfg.tls_cert ? " (TLS)" : "");
		return -EADDRINUSE;
	}
	di = MHD_get_daemon_info(api->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!di) {
		MHD_stop_daemon(api->mhd);
		api->mhd = NULL;
		return -EIO;
	}
	osmo_fd_setup(&api->ofd, di->epoll_fd, OSMO_FD_READ, api_fd_cb, api, 0);
	if (osmo_fd_register(&api->ofd) < 0) {
		MHD_stop_daemon(api->mhd);
		api->mhd = NULL;
		return -EIO;
	}
	osmo_timer_setup(&api->timer, api_timer_cb, api);
	api_schedule(api);
	LOGP(DAPI, LOGL_NOTICE, "HTTP API listening on %s:%u%s\n", api->cfg.bind_addr, api->cfg.port,
	     api->cfg.tls_cert ? " (TLS)" : "");
	return 0;
}

void uigw_api_stop(struct uigw *gw)
{
	struct uigw_api *api = gw ? gw->api : NULL;

	if (!api)
		return;
	osmo_timer_del(&api->sync_timer);
	uigw_api_webhooks_stop(api);
	if (!api->mhd)
		return;
	osmo_fd_unregister(&api->ofd);
	osmo_timer_del(&api->timer);
	MHD_stop_daemon(api->mhd);
	api->mhd = NULL;
	api->n_conns = 0;
	LOGP(DAPI, LOGL_NOTICE, "HTTP API stopped\n");
}
