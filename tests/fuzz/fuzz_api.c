/* libFuzzer target: the HTTP API's request handlers (src/api/api_handle.c, api_auth.c, api_json.c) without
 * sockets, over a real gateway with campaigns and a SQLite store in a temporary folder. An input is
 *   byte 0: key (bits 0-1: none, the operator's, a third party's, garbage), content type (bit 2: JSON or not),
 *           body over the limit (bit 3)
 *   then lines: method, path with ?query (split at & and =), and the rest is the body.
 * Any input must get an answer with a status and a JSON body; nothing may crash, leak or read out of bounds. */
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <talloc.h>
#include <osmocom/core/application.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/select.h>
#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/store/store.h>
#include <osmocom/uigw/api/api.h>

/* A webhook's host name is resolved by libcurl's resolver thread; a transfer cancelled meanwhile leaves that thread
 * to end on its own (CURLOPT_QUICK_EXIT, src/common/http_client.c). glibc keeps the thread's name server addresses
 * (res_send.c: one sockaddr_in6 each, 28 bytes) in its per-thread resolver state, freed when the thread exits;
 * a leak check while such a thread is still under way does not see that state as reachable. Only that allocation
 * is suppressed: libcurl's own and everything of ours are still checked. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:__res_context_send\n";
}

static struct uigw *gw;
static struct uigw_api *api;
static char op_key[128], acme_key[128];

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0)
		abort();
	fclose(f);
}

static void setup(void)
{
	static struct vty_app_info info = { .name = "fuzz_api" };
	static char dir[] = "/tmp/uigw-fuzz-api-XXXXXX";
	char path[256], err[256];
	void *ctx = talloc_named_const(NULL, 0, "fuzz_api");
	int64_t id;

	osmo_init_logging2(ctx, &uigw_log_info);
	log_set_log_level(osmo_stderr_target, LOGL_FATAL);
	info.tall_ctx = ctx;
	vty_init(&info);
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/campaigns", dir);
	mkdir(path, 0700);
	write_file(path, "acme.conf",
		   "name = \"acme\"; owner = \"acme\"; channels = [\"smpp-sms\", \"vty\"]; params = { order = \"\"; };\n"
		   "nodes = ( { id = \"r\"; type = \"rating\"; scale = 5; text = \"Rate ${order}\"; } );\n");
	write_file(path, "spam.conf",
		   "name = \"spam\"; entry = { ussd = [\"*7726#\"]; };\n"
		   "nodes = ( { id = \"n\"; type = \"number\"; text = \"Number?\"; var = \"x\";\n"
		   "            actions = ( { type = \"spam_report\"; number = \"${x}\"; } ); } );\n");
	gw = uigw_alloc(ctx);
	osmo_talloc_replace_string(gw, &gw->cfg.campaigns_dir, path);
	snprintf(path, sizeof(path), "%s/fuzz.db", dir);
	osmo_talloc_replace_string(gw, (char **)&gw->store_cfg->path, path);
	gw->store_cfg->sync_full = false;
	if (uigw_campaigns_reload(gw, err, sizeof(err)) < 0 || uigw_start(gw) < 0 || uigw_api_init(gw) < 0)
		abort();
	api = uigw_api_of(gw);
	if (uigw_api_start(gw) < 0 || uigw_api_tenant_add(api, "acme") < 0 ||
	    uigw_api_key_create(api, "operator", 0x3f, op_key, sizeof(op_key), &id) < 0 ||
	    uigw_api_key_create(api, "acme", 0x3f, acme_key, sizeof(acme_key), &id) < 0)
		abort();
}

/* the next line of [*p, end) as a NUL-terminated copy in ctx */
static char *line(void *ctx, const char **p, const char *end)
{
	const char *nl = memchr(*p, '\n', end - *p);
	const char *e = nl ? nl : end;
	char *s = talloc_strndup(ctx, *p, e - *p);

	*p = nl ? nl + 1 : end;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { NULL, op_key, acme_key, "uk_garbage" };
	struct uigw_api_req req = { .remote = "127.0.0.1" };
	struct uigw_api_resp resp;
	const char *p = (const char *)data + 1, *end = (const char *)data + size;
	char *query, *save = NULL, *a, auth[160];
	void *ctx;

	if (!gw)
		setup();
	if (size < 1)
		return 0;
	ctx = talloc_named_const(NULL, 0, "request");
	if (keys[data[0] & 3]) {
		snprintf(auth, sizeof(auth), "Bearer %s", keys[data[0] & 3]);
		req.authorization = auth;
	}
	req.content_type = data[0] & 4 ? "application/json" : "text/plain";
	req.body_too_large = data[0] & 8;
	req.method = line(ctx, &p, end);
	req.path = line(ctx, &p, end);
	query = strchr(req.path, '?');
	if (query) {
		*query++ = '\0';
		for (a = strtok_r(query, "&", &save); a && req.n_args < UIGW_API_MAX_ARGS; a = strtok_r(NULL, "&", &save)) {
			char *eq = strchr(a, '=');
			if (eq)
				*eq++ = '\0';
			req.args[req.n_args].name = a;
			req.args[req.n_args++].value = eq;
		}
	}
	if (p < end) {
		req.body = p;
		req.body_len = end - p;
	}
	uigw_api_handle(api, ctx, &req, &resp);
	/* every answer is JSON, but a 204's (DELETE), which has no body */
	if (resp.status < 200 || resp.status > 599 || (resp.status == 204 ? resp.body != NULL :
						       !resp.body || resp.body[0] != '{'))
		__builtin_trap();
	talloc_free(ctx);
	/* what the loop does between requests: the store's completions (the audit rows) */
	osmo_select_main_ctx(1);
	return 0;
}
