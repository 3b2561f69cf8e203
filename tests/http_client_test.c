/*! \file http_client_test.c
 *  The outgoing HTTP client (common/http_client.c) against a small HTTP/1.1 server run by the test on the same
 *  osmo_select loop (127.0.0.1, an ephemeral port; a unit test, so a scripted peer): an answer with its status,
 *  body and content type; the method, headers and body as the server received them; a 500; two requests in a row
 *  on one kept-alive connection; a server that never answers (timeout); a body over the limit; a refused
 *  connection; a cancelled request (no callback); freeing the client with requests in flight. */

#define _GNU_SOURCE	/* strcasestr */
#include <errno.h>
#include <inttypes.h>
#include <time.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <osmocom/core/select.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/http_client.h>

/* --- the test's server ---------------------------------------------------------------------------------- */

static struct osmo_fd lfd;
static int port, accepts;

struct conn {
	struct osmo_fd ofd;
	char buf[8192];
	size_t len;
};

static void conn_close(struct conn *c)
{
	osmo_fd_unregister(&c->ofd);
	close(c->ofd.fd);
	talloc_free(c);
}

static void reply(struct conn *c, const char *status, const char *ctype, const char *body, size_t body_len)
{
	char head[256];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n", status,
			 ctype, body_len);

	assert_int_equal(write(c->ofd.fd, head, n), n);
	if (body_len)
		assert_int_equal(write(c->ofd.fd, body, body_len), (ssize_t)body_len);
}

static int conn_cb(struct osmo_fd *ofd, unsigned int what)
{
	struct conn *c = ofd->data;
	ssize_t n = read(ofd->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	char *end, *cl, path[64] = "";
	size_t body_len = 0, have;

	if (n <= 0) {
		conn_close(c);
		return 0;
	}
	c->len += n;
	c->buf[c->len] = '\0';
	end = strstr(c->buf, "\r\n\r\n");
	if (!end)
		return 0;
	cl = strcasestr(c->buf, "Content-Length: ");
	if (cl && cl < end)
		body_len = strtoul(cl + 16, NULL, 10);
	have = c->len - (end + 4 - c->buf);
	if (have < body_len)
		return 0;
	sscanf(c->buf, "%*s %63s", path);
	if (!strcmp(path, "/ok")) {
		reply(c, "200 OK", "text/plain", "hello", 5);
	} else if (!strcmp(path, "/echo")) {
		/* the whole request back */
		reply(c, "201 Created", "text/plain", c->buf, c->len);
	} else if (!strcmp(path, "/err")) {
		reply(c, "500 Internal Server Error", "text/plain", "boom", 4);
	} else if (!strcmp(path, "/big")) {
		char *big = malloc(UIGW_HTTP_MAX_BODY + 100);

		memset(big, 'x', UIGW_HTTP_MAX_BODY + 100);
		reply(c, "200 OK", "text/plain", big, UIGW_HTTP_MAX_BODY + 100);
		free(big);
	} else if (!strcmp(path, "/silent")) {
		c->len = 0;	/* never answers */
		return 0;
	}
	c->len = 0;	/* keep-alive: the next request on this connection */
	return 0;
}

static int listen_cb(struct osmo_fd *ofd, unsigned int what)
{
	struct conn *c = talloc_zero(NULL, struct conn);
	int fd = accept(ofd->fd, NULL, NULL);

	assert_true(fd >= 0);
	accepts++;
	osmo_fd_setup(&c->ofd, fd, OSMO_FD_READ, conn_cb, c, 0);
	assert_int_equal(osmo_fd_register(&c->ofd), 0);
	return 0;
}

static int server_start(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	osmo_fd_setup(&lfd, fd, OSMO_FD_READ, listen_cb, NULL, 0);
	assert_int_equal(osmo_fd_register(&lfd), 0);
	return ntohs(a.sin_port);
}

/* a port nothing listens on */
static int closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* --- the client ------------------------------------------------------------------------------------------- */

struct got {
	int calls;
	int err;
	long status;
	char body[512];
	size_t body_len;
	char ctype[64];
};

static void done_cb(const struct uigw_http_result *res, void *data)
{
	struct got *g = data;

	g->calls++;
	g->err = res->err;
	g->status = res->status;
	g->body_len = res->body_len;
	snprintf(g->body, sizeof(g->body), "%s", res->body);
	snprintf(g->ctype, sizeof(g->ctype), "%s", res->content_type ? res->content_type : "");
}

/* run the loop until every got has its callback, or 5 s */
static void run_until(struct got *g, int n)
{
	int i, spins;

	for (spins = 0; spins < 5000; spins++) {
		bool all = true;

		for (i = 0; i < n; i++)
			all = all && g[i].calls;
		if (all)
			return;
		osmo_select_main(1);
		usleep(1000);
	}
}

static char url[128];

static const char *u(const char *path)
{
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	return url;
}

static void test_http_client(void **state)
{
	void *ctx = talloc_named_const(NULL, 0, "http_client_test");
	struct uigw_http_client *cl = uigw_http_client_alloc(ctx, 2);
	const char *hdrs[] = { "X-UIGW-Signature: sha256=abc", NULL };
	struct uigw_http_req req = { 0 };
	struct uigw_http_stats st;
	struct got g[3] = { 0 };
	struct uigw_http_xfer *x;
	char refused[64];
	int spins;

	assert_non_null(cl);
	port = server_start();

	/* an answer: status, body, content type; the callback never inside the send */
	req.url = u("/ok");
	assert_non_null(uigw_http_send(cl, &req, done_cb, &g[0]));
	assert_int_equal(g[0].calls, 0);
	run_until(g, 1);
	assert_int_equal(g[0].calls, 1);
	assert_int_equal(g[0].err, 0);
	assert_int_equal(g[0].status, 200);
	assert_string_equal(g[0].body, "hello");
	assert_string_equal(g[0].ctype, "text/plain");

	/* the same connection again: POST with headers and a body, as the server saw them */
	memset(g, 0, sizeof(g));
	req = (struct uigw_http_req){ .url = u("/echo"), .content_type = "application/json", .body = "{\"a\":1}",
				      .body_len = 7, .headers = hdrs };
	assert_non_null(uigw_http_send(cl, &req, done_cb, &g[0]));
	run_until(g, 1);
	assert_int_equal(g[0].status, 201);
	assert_non_null(strstr(g[0].body, "POST /echo HTTP/1.1\r\n"));
	assert_non_null(strstr(g[0].body, "Content-Type: application/json\r\n"));
	assert_non_null(strstr(g[0].body, "X-UIGW-Signature: sha256=abc\r\n"));
	assert_non_null(strstr(g[0].body, "User-Agent: osmo-uigw/"));
	assert_null(strstr(g[0].body, "Expect:"));
	assert_non_null(strstr(g[0].body, "\r\n\r\n{\"a\":1}"));
	assert_int_equal(accepts, 1);	/* kept alive, reused */

	/* a 500 is an answer, not an error; a custom method */
	memset(g, 0, sizeof(g));
	req = (struct uigw_http_req){ .url = u("/err"), .method = "DELETE" };
	assert_non_null(uigw_http_send(cl, &req, done_cb, &g[0]));
	run_until(g, 1);
	assert_int_equal(g[0].err, 0);
	assert_int_equal(g[0].status, 500);
	assert_string_equal(g[0].body, "boom");

	/* never answered: timeout; over the limit: -EMSGSIZE; nothing listening: refused -- all three at once */
	memset(g, 0, sizeof(g));
	req = (struct uigw_http_req){ .url = u("/silent"), .timeout_ms = 300 };
	assert_non_null(uigw_http_send(cl, &req, done_cb, &g[0]));
	req = (struct uigw_http_req){ .url = u("/big") };
	assert_non_null(uigw_http_send(cl, &req, done_cb, &g[1]));
	snprintf(refused, sizeof(refused), "http://127.0.0.1:%d/ok", closed_port());
	req = (struct uigw_http_req){ .url = refused };
	assert_non_null(uigw_http_send(cl, &req, done_cb, &g[2]));
	run_until(g, 3);
	assert_int_equal(g[0].err, -ETIMEDOUT);
	assert_int_equal(g[0].status, 0);
	assert_int_equal(g[1].err, -EMSGSIZE);
	assert_int_equal(g[2].err, -ECONNREFUSED);

	/* not http(s): refused at once */
	req = (struct uigw_http_req){ .url = "file:///etc/passwd" };
	assert_null(uigw_http_send(cl, &req, done_cb, &g[0]));

	/* cancelled: no callback */
	memset(g, 0, sizeof(g));
	req = (struct uigw_http_req){ .url = u("/silent") };
	x = uigw_http_send(cl, &req, done_cb, &g[0]);
	assert_non_null(x);
	osmo_select_main(1);
	uigw_http_cancel(x);
	req = (struct uigw_http_req){ .url = u("/ok") };
	assert_non_null(uigw_http_send(cl, &req, done_cb, &g[1]));
	run_until(&g[1], 1);
	assert_int_equal(g[0].calls, 0);
	assert_int_equal(g[1].status, 200);

	uigw_http_client_stats(cl, &st);
	assert_int_equal(st.sent, 8);	/* the file: URL never started */
	assert_int_equal(st.answered, 4);
	assert_int_equal(st.failed, 3);
	assert_int_equal(st.in_flight, 0);

	/* freed with a request in flight: no callback, nothing left */
	memset(g, 0, sizeof(g));
	req = (struct uigw_http_req){ .url = u("/silent") };
	assert_non_null(uigw_http_send(cl, &req, done_cb, &g[0]));
	osmo_select_main(1);
	uigw_http_client_free(cl);
	assert_int_equal(g[0].calls, 0);
	assert_int_equal(talloc_total_blocks(ctx), 1);
	for (spins = 0; spins < 50; spins++)	/* the server sees the connections close */
		osmo_select_main(1);
	talloc_free(ctx);
	osmo_fd_unregister(&lfd);
	close(lfd.fd);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A request cancelled, and a client freed, while the host name is still being resolved: neither may wait for the
 * resolver. Needs a DNS server that never answers: tests/http_dns_stall.sh runs this with one (a namespace whose
 * /etc/resolv.conf names a silent 127.0.0.1:53, timeout 3 s); without UIGW_TEST_DNS_STALL it is skipped. */
static void test_cancel_during_lookup(void **state)
{
	struct uigw_http_req req = { .url = "http://uigw-dns-stall.test:8080/x", .timeout_ms = 10000 };
	struct uigw_http_client *cl;
	struct got g[2] = { 0 };
	struct uigw_http_xfer *x;
	int64_t t0, took;
	void *ctx;
	int i;

	if (!getenv("UIGW_TEST_DNS_STALL"))
		skip();
	ctx = talloc_named_const(NULL, 0, "http_client_test");
	cl = uigw_http_client_alloc(ctx, 2);
	assert_non_null(cl);
	x = uigw_http_send(cl, &req, done_cb, &g[0]);
	assert_non_null(x);
	for (i = 0; i < 20; i++) {	/* the lookup is under way */
		osmo_select_main(1);
		usleep(10000);
	}
	t0 = now_ms();
	uigw_http_cancel(x);
	took = now_ms() - t0;
	printf("cancel during the lookup took %" PRId64 " ms\n", took);
	assert_true(took < 1000);
	assert_int_equal(g[0].calls, 0);

	assert_non_null(uigw_http_send(cl, &req, done_cb, &g[1]));
	for (i = 0; i < 20; i++) {
		osmo_select_main(1);
		usleep(10000);
	}
	t0 = now_ms();
	uigw_http_client_free(cl);
	took = now_ms() - t0;
	printf("client freed during the lookup in %" PRId64 " ms\n", took);
	assert_true(took < 1000);
	assert_int_equal(g[1].calls, 0);
	talloc_free(ctx);
	/* the resolver threads left to end on their own give up after the resolver's timeout (3 s): wait for them,
	 * so that the process does not exit with them still holding their memory (LeakSanitizer would report it) */
	sleep(4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_client),
		cmocka_unit_test(test_cancel_during_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
