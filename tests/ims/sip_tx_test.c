/* sip_tx_test: the gateway's own SIP transactions on the fake clock, against a UE played by the test over UDP
 * on 127.0.0.1: a pushed MESSAGE retransmitted after T1 (timer E) until its 200, and given up after 64*T1
 * (timer F: the owner counts a failure); an incoming MESSAGE answered once and its retransmission answered
 * again from the completed transaction, byte for byte, without a second dialog step; a USSI session as the UE
 * sees it (200 retransmitted until the ACK, the question in INFO, the answer in INFO, the last text in BYE). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <osmocom/core/select.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/application.h>
#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/chan.h>
#include <osmocom/uigw/core/trigger.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/chan/sip.h>
#include "common/fixture.h"
#include "../src/chan/sip/sip_priv.h"	/* white box: the channel's counters */

static struct uigw_fixture fx;
static struct uigw *gw;
static int ue = -1;
static uint16_t ue_port, gw_port;

static uint16_t free_udp_port(int *fd_out)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	if (fd_out)
		*fd_out = fd;
	else
		close(fd);
	return ntohs(a.sin_port);
}

static void pump(void)
{
	int i;

	for (i = 0; i < 10; i++)
		osmo_select_main(1);
	uigw_fx_settle(gw);
}

/* the next datagram to the UE, or 0 if none came within ~0.5 s of loop runs */
static int ue_recv(char *buf, size_t size)
{
	int i, n;

	for (i = 0; i < 100; i++) {
		struct pollfd p = { .fd = ue, .events = POLLIN };

		pump();
		if (poll(&p, 1, 5) == 1) {
			n = recv(ue, buf, size - 1, 0);
			assert_true(n > 0);
			buf[n] = '\0';
			return n;
		}
	}
	return 0;
}

static void ue_send(const char *text)
{
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(gw_port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	assert_int_equal(sendto(ue, text, strlen(text), 0, (struct sockaddr *)&dst, sizeof(dst)), (ssize_t)strlen(text));
	pump();
}

/* a header's value ("Via") of a message, into out */
static void hdr(const char *msg, const char *name, char *out, size_t size)
{
	char key[32];
	const char *p, *e;

	snprintf(key, sizeof(key), "\r\n%s:", name);
	p = strstr(msg, key);
	assert_non_null(p);
	p += strlen(key);
	while (*p == ' ')
		p++;
	e = strstr(p, "\r\n");
	snprintf(out, size, "%.*s", (int)(e - p), p);
}

/* 200 OK to a request of the gateway */
static void ue_answer(const char *req)
{
	char via[256], from[256], to[256], cid[128], cseq[64], resp[2048];

	hdr(req, "Via", via, sizeof(via));
	hdr(req, "From", from, sizeof(from));
	hdr(req, "To", to, sizeof(to));
	hdr(req, "Call-ID", cid, sizeof(cid));
	hdr(req, "CSeq", cseq, sizeof(cseq));
	snprintf(resp, sizeof(resp), "SIP/2.0 200 OK\r\nVia: %s\r\nFrom: %s\r\nTo: %s;tag=ue1\r\nCall-ID: %s\r\n"
		 "CSeq: %s\r\nContent-Length: 0\r\n\r\n", via, from, to, cid, cseq);
	ue_send(resp);
}

static uint64_t sip_ctr(int c)
{
	return rate_ctr_group_get_ctr(gw->chan[UIGW_CHAN_IMS_MSG]->ctrs, c)->current;
}

static void push(const char *msisdn)
{
	struct uigw_trigger t;
	struct uigw_trigger_res res;
	char to[96], w[128];

	uigw_trigger_init(&t, "note", msisdn);
	t.via = UIGW_CHAN_IMS_MSG;
	snprintf(to, sizeof(to), "sip:%s@127.0.0.1:%u", msisdn, ue_port);
	snprintf(w, sizeof(w), "to=%s", to);
	assert_int_equal(uigw_trigger_add_arg(&t, w, false), 0);
	assert_int_equal(uigw_trigger(gw, &t, &res), 0);
}

static int setup(void **state)
{
	struct uigw_sip *sip;
	struct uigw_sip_peer *p;

	uigw_fx_init(&fx, "siptx");
	uigw_fx_campaign(&fx, "note.conf", "name = \"note\";\nentry = { sip = [\"7790\"]; };\n"
			 "nodes = ( { id = \"i\"; type = \"info\"; text = \"Hello\"; } );\n");
	uigw_fx_campaign(&fx, "uq.conf", "name = \"uq\";\nentry = { ussd = [\"*7792#\"]; };\n"
			 "nodes = ( { id = \"q\"; type = \"yesno\"; question = \"ok\"; text = \"All fine?\"; next = \"e\"; },\n"
			 " { id = \"e\"; type = \"info\"; text = \"Bye now\"; } );\n");
	uigw_fx_clock_set(100);
	ue_port = free_udp_port(&ue);
	gw_port = free_udp_port(NULL);
	gw = uigw_fx_gw(&fx, true);
	assert_int_equal(uigw_sip_init(gw), 0);
	sip = uigw_chan_priv(gw, UIGW_CHAN_IMS_MSG);
	sip->cfg.configured = true;
	sip->cfg.local_port = gw_port;
	sip->cfg.tcp = false;
	p = talloc_zero(sip, struct uigw_sip_peer);
	p->ip = talloc_strdup(p, "127.0.0.1");
	llist_add_tail(&p->list, &sip->cfg.peers);
	assert_int_equal(uigw_chans_open(gw), 0);
	return 0;
}

static int teardown(void **state)
{
	uigw_chans_close(gw);
	uigw_fx_teardown(&fx);
	gw = NULL;
	close(ue);
	return 0;
}

/* timer E: the request again after T1, then nothing once the 200 came */
static void test_nict_retransmit_until_200(void **state)
{
	char req[4096], again[4096];

	push("+491720000501");
	assert_true(ue_recv(req, sizeof(req)) > 0);
	assert_true(!strncmp(req, "MESSAGE sip:+491720000501@127.0.0.1:", 36));
	assert_non_null(strstr(req, "\r\n\r\nHello"));
	/* nothing before T1 (500 ms) */
	uigw_fx_clock_advance(0);
	assert_int_equal(ue_recv(again, sizeof(again)), 0);
	uigw_fx_clock_advance(1);
	assert_true(ue_recv(again, sizeof(again)) > 0);
	assert_string_equal(again, req);
	ue_answer(again);
	uigw_fx_clock_advance(5);
	assert_int_equal(ue_recv(again, sizeof(again)), 0);
	assert_int_equal(sip_ctr(SIP_CTR_MSG_OUT_FAIL), 0);
}

/* timer F: after 64*T1 (32 s) without an answer the transaction ends and the owner counts a failure */
static void test_nict_timeout(void **state)
{
	char req[4096];
	int n = 0, i;

	push("+491720000502");
	for (i = 0; i < 40; i++) {
		while (ue_recv(req, sizeof(req)) > 0)
			n++;
		uigw_fx_clock_advance(1);
	}
	/* the first and its retransmissions at 0.5, 1.5, 3.5, 7.5, then every T2 (4 s) up to 32 s */
	assert_true(n >= 8 && n <= 12);
	assert_int_equal(sip_ctr(SIP_CTR_MSG_OUT_FAIL), 1);
}

/* an incoming MESSAGE: answered once; its retransmission gets the same response from the completed
 * transaction and is not a second input */
static void test_nist_retransmission(void **state)
{
	char msg[1024], resp1[4096], resp2[4096], reply[4096];

	snprintf(msg, sizeof(msg), "MESSAGE sip:7790@127.0.0.1 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKnist1\r\n"
		 "From: <sip:+491720000503@ims.test>;tag=u1\r\nTo: <sip:7790@ims.test>\r\n"
		 "Call-ID: nist1@127.0.0.1\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n"
		 "P-Asserted-Identity: <sip:+491720000503@127.0.0.1:%u>\r\n"
		 "Content-Type: text/plain\r\nContent-Length: 4\r\n\r\nnote", ue_port, ue_port);
	ue_send(msg);
	/* the response and the dialog's one screen (a MESSAGE to the asserted URI), in either order */
	assert_true(ue_recv(resp1, sizeof(resp1)) > 0);
	assert_true(ue_recv(reply, sizeof(reply)) > 0);
	if (!strncmp(resp1, "MESSAGE ", 8)) {
		char t[4096];
		memcpy(t, resp1, sizeof(t));
		memcpy(resp1, reply, sizeof(t));
		memcpy(reply, t, sizeof(t));
	}
	assert_true(!strncmp(resp1, "SIP/2.0 2", 9));
	assert_true(!strncmp(reply, "MESSAGE ", 8));
	assert_non_null(strstr(reply, "Hello"));
	ue_answer(reply);
	assert_int_equal(sip_ctr(SIP_CTR_MSG_IN), 1);
	/* the same request again: the same response, byte for byte, and nothing else */
	ue_send(msg);
	assert_true(ue_recv(resp2, sizeof(resp2)) > 0);
	assert_string_equal(resp2, resp1);
	assert_int_equal(ue_recv(reply, sizeof(reply)), 0);
	assert_int_equal(sip_ctr(SIP_CTR_MSG_IN), 1);
}

/* the next datagram that is not a provisional response */
static int ue_recv_final(char *buf, size_t size)
{
	int n;

	do {
		n = ue_recv(buf, size);
	} while (n > 0 && !strncmp(buf, "SIP/2.0 1", 9));
	return n;
}

/* the value of a URI in angle brackets of header \a name */
static void hdr_uri(const char *msg, const char *name, char *out, size_t size)
{
	char v[256], *a, *b;

	hdr(msg, name, v, sizeof(v));
	a = strchr(v, '<');
	b = a ? strchr(a, '>') : NULL;
	assert_non_null(b);
	snprintf(out, size, "%.*s", (int)(b - a - 1), a + 1);
}

#define UE "+491720000504"
#define USSD_XML(s) "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ussd-data><language>en</language>" \
		    "<ussd-string>" s "</ussd-string></ussd-data>"

static void ue_in_dialog(const char *method, unsigned int cseq, const char *target, const char *to,
			 const char *body)
{
	char req[2048];

	snprintf(req, sizeof(req), "%s %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKu%s%u\r\n"
		 "From: <sip:" UE "@ims.test>;tag=ue9\r\nTo: %s\r\nCall-ID: ussi1@127.0.0.1\r\nCSeq: %u %s\r\n"
		 "Max-Forwards: 70\r\n%sContent-Length: %zu\r\n\r\n%s", method, target, ue_port, method, cseq, to,
		 cseq, !strcmp(method, "ACK") ? "INVITE" : method,
		 body ? "Info-Package: g.3gpp.ussd\r\nContent-Disposition: info-package\r\n"
			"Content-Type: application/vnd.3gpp.ussd+xml\r\n" : "", body ? strlen(body) : 0, body ? body : "");
	ue_send(req);
}

static void test_ussi_session(void **state)
{
	struct uigw_sip *sip = uigw_chan_priv(gw, UIGW_CHAN_IMS_MSG);
	char inv[2048], ok[4096], ok2[4096], m[4096], to[256], target[256];

	snprintf(inv, sizeof(inv), "INVITE sip:*7792%%23@ims.test;user=dialstring SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKinv1\r\n"
		 "From: <sip:" UE "@ims.test>;tag=ue9\r\nTo: <sip:*7792%%23@ims.test>\r\n"
		 "Call-ID: ussi1@127.0.0.1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
		 "Contact: <sip:" UE "@127.0.0.1:%u>\r\nP-Asserted-Identity: <sip:" UE "@ims.test>\r\n"
		 "Recv-Info: g.3gpp.ussd\r\nContent-Type: application/vnd.3gpp.ussd+xml\r\n"
		 "Content-Length: %zu\r\n\r\n%s", ue_port, ue_port, strlen(USSD_XML("*7792#")), USSD_XML("*7792#"));
	ue_send(inv);
	assert_true(ue_recv_final(ok, sizeof(ok)) > 0);
	assert_true(!strncmp(ok, "SIP/2.0 200", 11));
	assert_non_null(strstr(ok, "Recv-Info: g.3gpp.ussd"));
	assert_int_equal(sip->n_ussi, 1);
	/* no ACK: the 200 again after T1, the same */
	uigw_fx_clock_advance(1);
	assert_true(ue_recv_final(ok2, sizeof(ok2)) > 0);
	assert_string_equal(ok2, ok);
	hdr(ok, "To", to, sizeof(to));
	hdr_uri(ok, "Contact", target, sizeof(target));
	ue_in_dialog("ACK", 1, target, to, NULL);
	/* the question in an INFO (UnstructuredSS-Request); the 200 is not sent again */
	assert_true(ue_recv_final(m, sizeof(m)) > 0);
	assert_true(!strncmp(m, "INFO ", 5));
	assert_non_null(strstr(m, "All fine?"));
	assert_non_null(strstr(m, "UnstructuredSS-Request"));
	ue_answer(m);
	uigw_fx_clock_advance(3);
	assert_int_equal(ue_recv(m, sizeof(m)), 0);
	/* the answer in an INFO: its 200, and the last text in the BYE */
	ue_in_dialog("INFO", 2, target, to, USSD_XML("1"));
	assert_true(ue_recv_final(m, sizeof(m)) > 0);
	if (!strncmp(m, "SIP/2.0 200", 11))
		assert_true(ue_recv_final(m, sizeof(m)) > 0);
	assert_true(!strncmp(m, "BYE ", 4));
	assert_non_null(strstr(m, "Bye now"));
	ue_answer(m);
	assert_int_equal(sip->n_ussi, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_nict_retransmit_until_200, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nict_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nist_retransmission, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ussi_session, setup, teardown),
	};
	uigw_fx_process_init("sip_tx_test");	/* logging, and the VTY the adapter installs its node in */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
