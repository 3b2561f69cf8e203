/* map_ipa_test: the batched reads and writes of channel map's IPA links (src/chan/map/map_ipa.c) on
 * libosmo-sigtran's real IPA client ASP and SCCP, against a bare IPA server in the test on 127.0.0.1 (a port the
 * kernel picks). After the CCM handshake the server sends SCCP UDT messages split at every byte, hundreds in one
 * write, and a frame longer than libosmocore takes; every message must reach the SCCP user once, whole and in
 * order, the link must be dropped (and come back) where the library drops it, and what the user sends in a burst
 * must come out whole and in order. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/msgb.h>
#include <osmocom/core/prim.h>
#include <osmocom/core/select.h>
#include <osmocom/core/application.h>
#include <osmocom/core/timer.h>
#include <osmocom/netif/stream.h>
#include <osmocom/sigtran/osmo_ss7.h>
#include <osmocom/sigtran/sccp_sap.h>
#include <osmocom/sigtran/sccp_helpers.h>
#include <osmocom/uigw/common/logging.h>
#include "../src/chan/map/map_priv.h"	/* white box: map_ipa_tune() and the tx count it reads */

#define SSN_US	147
#define SSN_PEER 8
#define N_MANY	300

static void *ctx;
static struct uigw_map *m;
static struct osmo_sccp_instance *sccp;
static struct osmo_sccp_user *scu;
static struct osmo_ss7_asp *asp;
static int lfd = -1, sfd = -1;
static int (*installed_cb)(struct osmo_fd *ofd, unsigned int what);	/* map_ipa.c's */
static uint8_t srx[64 * 1024];	/* what the server read and has not taken as frames yet */
static size_t srx_len;

/* what reached the SCCP user: the first data byte of each UNITDATA, in order */
static uint8_t got[4096];
static unsigned int n_got;

static int user_cb(struct osmo_prim_hdr *oph, void *_scu)
{
	if (OSMO_PRIM_HDR(oph) == OSMO_PRIM(OSMO_SCU_PRIM_N_UNITDATA, PRIM_OP_INDICATION)) {
		const uint8_t *d = msgb_l2(oph->msg);

		assert_true(msgb_l2len(oph->msg) >= 2);
		/* data: sequence number, then its complement (a message cut or joined wrongly fails here) */
		assert_int_equal(d[1], (uint8_t)~d[0]);
		if (n_got < sizeof(got))
			got[n_got] = d[0];
		n_got++;
	}
	msgb_free(oph->msg);
	return 0;
}

static void pump(int ms)
{
	int i;

	for (i = 0; i < ms; i++) {
		while (osmo_select_main(1) > 0)
			;
		usleep(1000);
	}
}

/* Runs the loop until \a cond holds, at most 3 s. */
#define PUMP_UNTIL(cond) do { \
		int _i; \
		for (_i = 0; _i < 3000 && !(cond); _i++) \
			pump(1); \
	} while (0)

static void srv_accept(void)
{
	int one = 1;

	sfd = -1;
	PUMP_UNTIL((sfd = accept(lfd, NULL, NULL)) >= 0);
	assert_true(sfd >= 0);
	assert_int_equal(setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	srx_len = 0;
}

static void srv_send(const uint8_t *b, size_t len)
{
	assert_int_equal(send(sfd, b, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Reads what the client sent; \returns false on EOF */
static bool srv_poll(void)
{
	ssize_t n = recv(sfd, srx + srx_len, sizeof(srx) - srx_len, MSG_DONTWAIT);

	if (n == 0)
		return false;
	if (n > 0)
		srx_len += n;
	return true;
}

/* The next IPA frame from the client (header included) into \a f; \returns its length, 0 on EOF or after 3 s */
static size_t srv_frame(uint8_t *f, size_t max)
{
	int i;

	for (i = 0; i < 3000; i++) {
		size_t flen = srx_len >= 3 ? 3 + ((srx[0] << 8) | srx[1]) : 0;

		if (flen && srx_len >= flen) {
			assert_true(flen <= max);
			memcpy(f, srx, flen);
			memmove(srx, srx + flen, srx_len - flen);
			srx_len -= flen;
			return flen;
		}
		if (!srv_poll())
			return 0;
		pump(1);
	}
	return 0;
}

/* The CCM handshake, the server's side: ID_GET, the ASP's ID_RESP, ID_ACK, the ASP's ID_ACK. */
static void srv_handshake(void)
{
	static const uint8_t id_get[] = { 0x00, 0x03, 0xfe, 0x04, 0x01, 0x08 };
	static const uint8_t id_ack[] = { 0x00, 0x01, 0xfe, 0x06 };
	uint8_t f[1300];
	size_t n;

	srv_send(id_get, sizeof(id_get));
	n = srv_frame(f, sizeof(f));
	assert_true(n >= 4);
	assert_int_equal(f[2], 0xfe);
	assert_int_equal(f[3], 0x05);	/* ID_RESP */
	srv_send(id_ack, sizeof(id_ack));
	n = srv_frame(f, sizeof(f));
	assert_int_equal(n, 4);
	assert_int_equal(f[3], 0x06);	/* ID_ACK */
	PUMP_UNTIL(osmo_ss7_asp_active(asp));
	assert_true(osmo_ss7_asp_active(asp));
	/* installed and kept across reconnects (libosmo-netif sets the link's fd up again with its callback) */
	assert_ptr_equal(osmo_stream_cli_get_ofd(asp->client)->cb, installed_cb);
}

/* An IPA frame with an SCCP UDT from SSN 8 to our SSN carrying { seq, ~seq, pad... }; \returns its length */
static size_t udt_frame(uint8_t *b, uint8_t seq, size_t pad)
{
	size_t dlen = 2 + pad, n = 3;

	assert_true(dlen <= 255);

	b[n++] = 0x09;			/* UDT */
	b[n++] = 0x00;			/* class 0 */
	b[n++] = 3;			/* -> called party */
	b[n++] = 5;			/* -> calling party */
	b[n++] = 7;			/* -> data */
	b[n++] = 2; b[n++] = 0x42; b[n++] = SSN_US;	/* route on SSN, SSN present */
	b[n++] = 2; b[n++] = 0x42; b[n++] = SSN_PEER;
	b[n++] = dlen;
	b[n++] = seq;
	b[n++] = (uint8_t)~seq;
	memset(b + n, 0xa5, pad);
	n += pad;
	b[0] = (n - 3) >> 8;
	b[1] = (n - 3) & 0xff;
	b[2] = 0xfd;			/* SCCP */
	return n;
}

static int setup_link(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int one = 1;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(lfd >= 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);

	m = talloc_zero(ctx, struct uigw_map);
	sccp = osmo_sccp_simple_client_on_ss7_id(ctx, 0, "ipa-test", osmo_ss7_pointcode_parse(NULL, "0.23.2"),
						 OSMO_SS7_ASP_PROT_IPA, 0, NULL, ntohs(sa.sin_port), "127.0.0.1");
	assert_non_null(sccp);
	scu = osmo_sccp_user_bind(sccp, "ipa-test", user_cb, SSN_US);
	assert_non_null(scu);
	asp = llist_first_entry(&osmo_sccp_get_ss7(sccp)->asp_list, struct osmo_ss7_asp, list);
	osmo_stream_cli_set_reconnect_timeout(asp->client, 1);
	installed_cb = osmo_stream_cli_get_ofd(asp->client)->cb;
	map_ipa_tune(m, osmo_sccp_get_ss7(sccp));
	assert_ptr_not_equal(osmo_stream_cli_get_ofd(asp->client)->cb, installed_cb);
	installed_cb = osmo_stream_cli_get_ofd(asp->client)->cb;
	srv_accept();
	srv_handshake();
	return 0;
}

/* Messages split at every byte, then hundreds in one write, of mixed sizes: all of them, once, in order. */
static void test_rx_split_and_batched(void **state)
{
	static uint8_t b[N_MANY * 400];
	uint8_t f[1300];
	size_t n, i, len = 0;

	n_got = 0;
	n = udt_frame(f, 1, 30);
	for (i = 0; i < n; i++) {
		srv_send(f + i, 1);
		pump(1);
		/* not before its last byte */
		assert_int_equal(n_got, i + 1 == n ? n_got : 0);
	}
	PUMP_UNTIL(n_got == 1);
	assert_int_equal(n_got, 1);
	assert_int_equal(got[0], 1);

	n_got = 0;
	for (i = 0; i < N_MANY; i++)
		len += udt_frame(b + len, (uint8_t)i, (i * 37) % 250);
	srv_send(b, len);
	PUMP_UNTIL(n_got >= N_MANY);
	pump(20);
	assert_int_equal(n_got, N_MANY);
	for (i = 0; i < N_MANY; i++)
		assert_int_equal(got[i], (uint8_t)i);

	/* two messages with the second cut in its header: the first at once, the second when the rest comes */
	n_got = 0;
	len = udt_frame(b, 7, 0);
	n = udt_frame(b + len, 8, 200);
	srv_send(b, len + 2);
	PUMP_UNTIL(n_got == 1);
	pump(20);
	assert_int_equal(n_got, 1);
	srv_send(b + len + 2, n - 2);
	PUMP_UNTIL(n_got == 2);
	assert_int_equal(n_got, 2);
	assert_int_equal(got[1], 8);
}

/* A burst from the SCCP user: every message whole and in order at the server. */
static void test_tx_burst(void **state)
{
	struct osmo_sccp_addr us, peer;
	uint8_t f[1300];
	unsigned int i;

	osmo_sccp_make_addr_pc_ssn(&us, osmo_ss7_pointcode_parse(NULL, "0.23.2"), SSN_US);
	osmo_sccp_make_addr_pc_ssn(&peer, osmo_ss7_pointcode_parse(NULL, "0.23.1"), SSN_PEER);
	for (i = 0; i < N_MANY; i++) {
		uint8_t d[64];

		memset(d, (uint8_t)i, sizeof(d));
		assert_int_equal(osmo_sccp_tx_unitdata(scu, &us, &peer, d, sizeof(d)), 0);
		m->tx_queued++;
	}
	for (i = 0; i < N_MANY; i++) {
		size_t n = srv_frame(f, sizeof(f));

		assert_true(n > 3 + 64);
		assert_int_equal(f[2], 0xfd);
		/* the UDT's data are its last 64 bytes */
		assert_int_equal(f[n - 1], (uint8_t)i);
		assert_int_equal(f[n - 64], (uint8_t)i);
	}
	pump(20);
	assert_false(srv_poll() && srx_len);
}

/* The link's next connection: accepted, the handshake, and message \a seq delivered as the n-th since n_got was
 * reset (nothing of the old connection came after it). */
static void reconnected_delivers(uint8_t seq, unsigned int nth)
{
	uint8_t b[64];
	size_t n;

	srv_accept();
	srv_handshake();
	n = udt_frame(b, seq, 0);
	srv_send(b, n);
	PUMP_UNTIL(n_got == nth);
	assert_int_equal(n_got, nth);
	assert_int_equal(got[nth - 1], seq);
}

/* A frame longer than libosmocore takes: the library drops the link as it always did; nothing of what followed
 * on the old connection is delivered, and the new one works. Then the server closes: the same again. */
static void test_bad_frame_and_eof(void **state)
{
	static const uint8_t too_long[] = { 0x05, 0x14, 0xfd, 0x09, 0x00 };	/* 1300 bytes announced */
	uint8_t b[64];
	size_t n;

	n_got = 0;
	srv_send(too_long, sizeof(too_long));
	n = udt_frame(b, 9, 0);
	srv_send(b, n);
	PUMP_UNTIL(!srv_poll());
	assert_false(srv_poll());
	close(sfd);
	assert_int_equal(n_got, 0);
	reconnected_delivers(10, 1);

	/* a message in flight, then the server's close: the message, then a new connection */
	n_got = 0;
	n = udt_frame(b, 11, 0);
	srv_send(b, n);
	close(sfd);
	PUMP_UNTIL(n_got == 1);
	assert_int_equal(got[0], 11);
	reconnected_delivers(12, 2);
}

/* The channel's state freed before the link (the daemon shutting down): the link takes libosmo-netif's own path
 * and still delivers. */
static void test_map_freed(void **state)
{
	uint8_t b[64];
	size_t n;

	talloc_free(m);
	m = NULL;
	n_got = 0;
	n = udt_frame(b, 13, 0);
	srv_send(b, n);
	PUMP_UNTIL(n_got == 1);
	assert_int_equal(n_got, 1);
	assert_int_equal(got[0], 13);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rx_split_and_batched),
		cmocka_unit_test(test_tx_burst),
		cmocka_unit_test(test_bad_frame_and_eof),
		cmocka_unit_test(test_map_freed),
	};

	ctx = talloc_named_const(NULL, 0, "map_ipa_test");
	osmo_init_logging2(ctx, &uigw_log_info);
	log_set_log_level(osmo_stderr_target, LOGL_FATAL);
	assert_int_equal(osmo_ss7_init(), 0);
	return cmocka_run_group_tests(tests, setup_link, NULL);
}
