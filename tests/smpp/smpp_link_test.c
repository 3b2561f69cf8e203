/* smpp_link_test: the SMPP link FSM and the persistent MT queue against an SMSC played by the test itself over a
 * TCP socket on 127.0.0.1 (an ephemeral port), on the fake clock: connect and bind, a pushed SMS with its
 * submit_sm_resp (the MT queue row goes), THROTTLED answered by a pause and a retry, a link loss answered by a
 * reconnect after the backoff and a new bind, the per-link counters, the SMS channel answering a keyword, and the
 * link's queue delay for overload control. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <osmocom/core/select.h>
#include <osmocom/core/fsm.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/application.h>
#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/chan.h>
#include <osmocom/uigw/core/trigger.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/codec/smpp_codec.h>
#include <osmocom/uigw/store/store.h>
#include <osmocom/uigw/chan/smpp.h>
#include "common/fixture.h"

static struct uigw_fixture fx;
static struct uigw *gw;
static struct uigw_smpp *smpp;
static struct uigw_smpp_link *slink;
static int lsock = -1, peer = -1;

/* one step of the event loop, without blocking */
static void pump(void)
{
	int i;

	for (i = 0; i < 20; i++)
		osmo_select_main(1);
	uigw_fx_settle(gw);
}

static void smsc_accept(void)
{
	struct pollfd p = { .fd = lsock, .events = POLLIN };
	int i;

	for (i = 0; i < 200 && peer < 0; i++) {
		pump();
		if (poll(&p, 1, 10) == 1)
			peer = accept(lsock, NULL, NULL);
	}
	assert_true(peer >= 0);
}

/* the next PDU from the gateway (at most 2 s of loop runs) */
static void smsc_read(struct uigw_smpp_pdu *pdu)
{
	uint8_t buf[UIGW_SMPP_MAX_PDU];
	size_t have = 0;
	int i, n, len = -1;

	for (i = 0; i < 400; i++) {
		struct pollfd p = { .fd = peer, .events = POLLIN };

		pump();
		if (poll(&p, 1, 5) != 1)
			continue;
		n = read(peer, buf + have, len > 0 ? (size_t)len - have : UIGW_SMPP_HDR_LEN - have);
		assert_true(n > 0);
		have += n;
		if (len < 0 && have >= UIGW_SMPP_HDR_LEN)
			len = uigw_smpp_frame_len(buf, have);
		if (len > 0 && have >= (size_t)len) {
			assert_int_equal(uigw_smpp_decode(pdu, buf, len), 0);
			return;
		}
	}
	fail_msg("no PDU from the gateway");
}

static void smsc_send(const struct uigw_smpp_pdu *pdu)
{
	uint8_t buf[UIGW_SMPP_MAX_PDU];
	int len = uigw_smpp_encode(buf, sizeof(buf), pdu);

	assert_true(len > 0);
	assert_int_equal(write(peer, buf, len), len);
	pump();
}

static void smsc_answer(const struct uigw_smpp_pdu *req, uint32_t command_id, uint32_t status, const char *msg_id)
{
	struct uigw_smpp_pdu resp;

	uigw_smpp_pdu_init(&resp, command_id, req->sequence);
	resp.command_status = status;
	if (msg_id)
		OSMO_STRLCPY_ARRAY(resp.message_id, msg_id);
	if (command_id == UIGW_SMPP_BIND_TRX_RESP)
		OSMO_STRLCPY_ARRAY(resp.system_id, "testsmsc");
	smsc_send(&resp);
}

static void smsc_bind(void)
{
	struct uigw_smpp_pdu pdu;

	smsc_accept();
	smsc_read(&pdu);
	assert_int_equal(pdu.command_id, UIGW_SMPP_BIND_TRX);
	assert_string_equal(pdu.system_id, "uigw");
	assert_string_equal(pdu.password, "uigw");
	smsc_answer(&pdu, UIGW_SMPP_BIND_TRX_RESP, UIGW_SMPP_ROK, NULL);
	assert_int_equal(slink->fi->state, SMPP_ST_BOUND);
}

static uint64_t ctr(enum uigw_smpp_link_ctr c)
{
	return rate_ctr_group_get_ctr(slink->ctrs, c)->current;
}

/* a count over the persistent MT queue, read by a connection of the test's own */
static int mt_count(const char *sql)
{
	char path[160];
	sqlite3 *db;
	sqlite3_stmt *st;
	int n = -1;

	uigw_fx_settle(gw);
	snprintf(path, sizeof(path), "%s/test.db", fx.dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* rows in the persistent MT queue */
static int mt_rows(void)
{
	return mt_count("SELECT count(*) FROM mt_queue");
}

static void push(const char *msisdn)
{
	struct uigw_trigger t;
	struct uigw_trigger_res res;

	uigw_trigger_init(&t, "note", msisdn);
	t.via = UIGW_CHAN_SMPP_SMS;
	assert_int_equal(uigw_trigger(gw, &t, &res), 0);
	pump();
}

/* rows of the MT queue marked "may be sent" (mt-in-doubt drop) */
static int mt_marked(void)
{
	return mt_count("SELECT count(*) FROM mt_queue WHERE sending");
}

static void done_free(struct uigw_store_job *job, void *data)
{
	talloc_free(job);
}

/* a row of the MT queue as the last run left it: a final SMS to \a dst, marked or not */
static void mt_left(int64_t id, const char *dst, bool marked)
{
	struct uigw_store_job *job = uigw_store_job_alloc(gw->store, done_free, NULL);
	struct uigw_store_row *r = uigw_store_job_row(job, UIGW_ROW_MT);
	struct uigw_smpp_pdu p;
	uint8_t enc[UIGW_SMPP_MAX_PDU];
	int len;

	uigw_smpp_pdu_init(&p, UIGW_SMPP_SUBMIT_SM, 1);
	OSMO_STRLCPY_ARRAY(p.src_addr, "7790");
	OSMO_STRLCPY_ARRAY(p.dst_addr, dst);
	len = uigw_smpp_encode(enc, sizeof(enc), &p);
	assert_true(len > 0);
	r->time_ms = 1000;
	r->channel = "smpp-sms";
	r->u.mt.id = id;
	r->u.mt.restart = true;
	r->u.mt.pdu = talloc_memdup(job, enc, len);
	r->u.mt.pdu_len = len;
	if (marked)
		uigw_store_job_row(job, UIGW_ROW_MT_SENDING)->u.mt.id = id;
	assert_int_equal(uigw_store_submit(job), 0);
	uigw_fx_settle(gw);
}

/* mt-in-doubt drop: a message a restart would send again waits for the commit of its mark before it goes to a
 * link; after a restart a marked row is dropped (the SMSC may have taken it), an unmarked one sent (after its own
 * mark). mt-in-doubt resend: a marked row is sent again. */
static void test_mt_in_doubt(void **state)
{
	struct uigw_smpp_pdu pdu, note;
	struct uigw_smpp_mt mt = { .channel = UIGW_CHAN_SMPP_SMS, .last = true, .restart = true, .ttl_s = 600 };
	uint64_t sent;

	smsc_bind();
	smpp->mt_in_doubt_drop = true;
	sent = ctr(SMPP_LINK_CTR_TX_SUBMIT);
	uigw_smpp_pdu_init(&note, UIGW_SMPP_SUBMIT_SM, 1);
	OSMO_STRLCPY_ARRAY(note.src_addr, "7790");
	OSMO_STRLCPY_ARRAY(note.dst_addr, "491720000501");
	assert_non_null(uigw_smpp_submit_mt(smpp, &note, &mt));
	/* held: queued, its mark on the way to the store, nothing sent yet */
	assert_int_equal(smpp->queue_len, 1);
	assert_true(smpp->mt_marking);
	assert_int_equal(ctr(SMPP_LINK_CTR_TX_SUBMIT), sent);
	smsc_read(&pdu);
	assert_int_equal(pdu.command_id, UIGW_SMPP_SUBMIT_SM);
	assert_string_equal(pdu.dst_addr, "491720000501");
	assert_int_equal(smpp->mt_marks, 1);
	assert_int_equal(mt_marked(), 1);
	smsc_answer(&pdu, UIGW_SMPP_SUBMIT_SM_RESP, UIGW_SMPP_ROK, "m501");
	assert_int_equal(mt_rows(), 0);

	/* what a run killed in the middle left: 901 marked (in doubt), 902 never handed to a link */
	mt_left(901, "491720000502", true);
	mt_left(902, "491720000503", false);
	assert_int_equal(uigw_smpp_mt_restore(smpp), 1);
	assert_int_equal(smpp->mt_in_doubt, 1);
	smsc_read(&pdu);
	assert_string_equal(pdu.dst_addr, "491720000503");
	assert_int_equal(smpp->mt_marks, 2);
	smsc_answer(&pdu, UIGW_SMPP_SUBMIT_SM_RESP, UIGW_SMPP_ROK, "m503");
	assert_int_equal(mt_rows(), 0);

	/* resend: the marked row goes out again, at once (its mark is there) */
	smpp->mt_in_doubt_drop = false;
	mt_left(903, "491720000504", true);
	assert_int_equal(uigw_smpp_mt_restore(smpp), 1);
	smsc_read(&pdu);
	assert_string_equal(pdu.dst_addr, "491720000504");
	assert_int_equal(smpp->mt_in_doubt, 1);
	smsc_answer(&pdu, UIGW_SMPP_SUBMIT_SM_RESP, UIGW_SMPP_ROK, "m504");
	assert_int_equal(mt_rows(), 0);
}

static int setup(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);

	uigw_fx_init(&fx, "smpplink");
	uigw_fx_campaign(&fx, "note.conf", "name = \"note\";\nentry = { sms = ( { short_code = \"7790\"; "
			 "keywords = [\"NOTE\"]; } ); };\nnodes = ( { id = \"i\"; type = \"info\"; text = \"Hello\"; } );\n");
	uigw_fx_clock_set(100);
	lsock = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(lsock >= 0);
	assert_int_equal(bind(lsock, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lsock, 4), 0);
	assert_int_equal(getsockname(lsock, (struct sockaddr *)&a, &alen), 0);
	fcntl(lsock, F_SETFL, O_NONBLOCK);

	gw = uigw_fx_gw(&fx, true);
	assert_int_equal(uigw_smpp_init(gw), 0);
	smpp = uigw_chan_priv(gw, UIGW_CHAN_SMPP_SMS);
	slink = uigw_smpp_link_get(smpp, "t", true);
	assert_non_null(slink);
	slink->remote_port = ntohs(a.sin_port);
	slink->enquire_interval = 0;
	assert_int_equal(uigw_chans_open(gw), 0);
	peer = -1;
	return 0;
}

static int teardown(void **state)
{
	uigw_chans_close(gw);
	uigw_fx_teardown(&fx);
	gw = NULL;
	if (peer >= 0)
		close(peer);
	close(lsock);
	return 0;
}

static void queue_delay(void);

static void test_bind_push_throttle_reconnect(void **state)
{
	struct uigw_smpp_pdu pdu;

	smsc_bind();
	assert_int_equal(ctr(SMPP_LINK_CTR_CONNECTS), 1);
	assert_int_equal(ctr(SMPP_LINK_CTR_BINDS), 1);

	/* a push: the submit_sm comes from the campaign's short code; its MT queue row lives until the resp */
	push("+491720000401");
	smsc_read(&pdu);
	assert_int_equal(pdu.command_id, UIGW_SMPP_SUBMIT_SM);
	assert_string_equal(pdu.src_addr, "7790");
	assert_string_equal(pdu.dst_addr, "491720000401");
	assert_int_equal(pdu.msg_len, 5);
	assert_memory_equal(pdu.msg, "Hello", 5);
	assert_int_equal(mt_rows(), 1);
	smsc_answer(&pdu, UIGW_SMPP_SUBMIT_SM_RESP, UIGW_SMPP_ROK, "m1");
	assert_int_equal(mt_rows(), 0);
	assert_int_equal(ctr(SMPP_LINK_CTR_TX_SUBMIT_OK), 1);

	/* THROTTLED: the slink pauses (timer X105, 1 s) and sends the same message again */
	push("+491720000402");
	smsc_read(&pdu);
	smsc_answer(&pdu, UIGW_SMPP_SUBMIT_SM_RESP, UIGW_SMPP_RTHROTTLED, NULL);
	assert_int_equal(ctr(SMPP_LINK_CTR_TX_THROTTLED), 1);
	assert_int_equal(mt_rows(), 1);
	uigw_fx_clock_advance(2);
	smsc_read(&pdu);
	assert_int_equal(pdu.command_id, UIGW_SMPP_SUBMIT_SM);
	assert_string_equal(pdu.dst_addr, "491720000402");
	smsc_answer(&pdu, UIGW_SMPP_SUBMIT_SM_RESP, UIGW_SMPP_ROK, "m2");
	assert_int_equal(mt_rows(), 0);

	/* the SMSC goes away: the slink is down, a push waits in the MT queue; after the backoff (X104, 1 s) the
	 * slink connects and binds again, and the waiting message goes out */
	close(peer);
	peer = -1;
	pump();
	assert_int_equal(ctr(SMPP_LINK_CTR_DISCONNECTS), 1);
	assert_true(slink->fi->state != SMPP_ST_BOUND);
	push("+491720000403");
	assert_int_equal(mt_rows(), 1);
	uigw_fx_clock_advance(2);
	smsc_bind();
	assert_int_equal(ctr(SMPP_LINK_CTR_BINDS), 2);
	smsc_read(&pdu);
	assert_string_equal(pdu.dst_addr, "491720000403");
	smsc_answer(&pdu, UIGW_SMPP_SUBMIT_SM_RESP, UIGW_SMPP_ROK, "m3");
	assert_int_equal(mt_rows(), 0);
	assert_int_equal(ctr(SMPP_LINK_CTR_TX_SUBMIT_OK), 3);

	/* the SMS channel, mobile-originated: a keyword to the short code is answered (deliver_sm_resp first),
	 * and the reply comes from that short code */
	{
		struct uigw_smpp_pdu mo;
		uint64_t late;

		uigw_smpp_pdu_init(&mo, UIGW_SMPP_DELIVER_SM, 77);
		OSMO_STRLCPY_ARRAY(mo.src_addr, "491720000404");
		mo.src_ton = 1;
		mo.src_npi = 1;
		OSMO_STRLCPY_ARRAY(mo.dst_addr, "7790");
		memcpy(mo.msg, "NOTE", 4);
		mo.msg_len = 4;
		/* not while the link's queue delay (at its last read) is past max-wait: THROTTLED at once, counted */
		late = rate_ctr_group_get_ctr(gw->ctrs, UIGW_CTR_BUSY_LATE)->current;
		slink->wait_ms = 300;
		mo.sequence = 76;
		smsc_send(&mo);
		smsc_read(&pdu);
		assert_int_equal(pdu.command_id, UIGW_SMPP_DELIVER_SM_RESP);
		assert_int_equal(pdu.sequence, 76);
		assert_int_equal(pdu.command_status, UIGW_SMPP_RTHROTTLED);
		assert_int_equal(rate_ctr_group_get_ctr(gw->ctrs, UIGW_CTR_BUSY_LATE)->current, late + 1);
		assert_int_equal(slink->wait_ms, 0);	/* that read's own figure: nothing waits */
		mo.sequence = 77;
		smsc_send(&mo);
		smsc_read(&pdu);
		assert_int_equal(pdu.command_id, UIGW_SMPP_DELIVER_SM_RESP);
		assert_int_equal(pdu.sequence, 77);
		assert_int_equal(pdu.command_status, 0);
		smsc_read(&pdu);
		assert_int_equal(pdu.command_id, UIGW_SMPP_SUBMIT_SM);
		assert_string_equal(pdu.src_addr, "7790");
		assert_string_equal(pdu.dst_addr, "491720000404");
		assert_memory_equal(pdu.msg, "Hello", 5);
		smsc_answer(&pdu, UIGW_SMPP_SUBMIT_SM_RESP, UIGW_SMPP_ROK, "m4");
		assert_int_equal(ctr(SMPP_LINK_CTR_RX_DELIVER), 2);
	}

	/* (one test: the adapter's VTY commands are installed once per process) */
	queue_delay();
}

/* The queue delay of overload control from a TCP link: how long the socket has held unread data without a pause.
 * 10,000 enquire_link PDUs (160,000 octets) written at once take many reads of UIGW_SMPP_RX_BUF: after
 * the first, data is left; a second later (the fake clock) data is still left, so the link reports 1,000 ms; once
 * it is read empty, 0. The gateway's socket is given room for all of it first (its default window is ~64 KiB). */
static void queue_delay(void)
{
	static uint8_t buf[10000 * UIGW_SMPP_HDR_LEN];
	struct uigw_smpp_pdu el;
	int i, len = 0, room = 1 << 20, inq = 0, left = -1;

	for (i = 0; i < 10000; i++) {
		uigw_smpp_pdu_init(&el, UIGW_SMPP_ENQUIRE_LINK, 1000 + i);
		len += uigw_smpp_encode(buf + len, sizeof(buf) - len, &el);
	}
	assert_int_equal(len, (int)sizeof(buf));
	assert_true(len > 2 * UIGW_SMPP_RX_BUF);
	assert_int_equal(setsockopt(slink->wq.bfd.fd, SOL_SOCKET, SO_RCVBUF, &room, sizeof(room)), 0);
	assert_int_equal(setsockopt(peer, SOL_SOCKET, SO_SNDBUF, &room, sizeof(room)), 0);
	gw->overload.delay_ms = 0;
	gw->overload.delay_peak_ms = 0;
	assert_int_equal(write(peer, buf, len), len);
	/* all of it in the gateway's socket before its loop runs (Nagle may hold it until an ACK: up to 1 s) */
	for (i = 0; i < 200; i++) {
		if (ioctl(slink->wq.bfd.fd, FIONREAD, &inq) == 0 && inq >= len)
			break;
		usleep(5000);
	}
	osmo_select_main(1);	/* one read of UIGW_SMPP_RX_BUF, the rest waits */
	assert_true(slink->behind_since_ms > 0);
	/* the read took UIGW_SMPP_RX_BUF, many PDUs (if all of it had arrived by then, as it does on loopback) */
	if (inq >= len) {
		assert_int_equal(ioctl(slink->wq.bfd.fd, FIONREAD, &left), 0);
		assert_int_equal(left, len - UIGW_SMPP_RX_BUF);
	}
	assert_int_equal(gw->overload.delay_peak_ms, 0);
	uigw_fx_clock_advance(1);
	osmo_select_main(1);	/* the second read: still more waiting, for a second now */
	assert_int_equal(gw->overload.delay_peak_ms, 1000);
	assert_true(gw->overload.delay_ms >= 250);
	for (i = 0; i < 400 && slink->behind_since_ms; i++)
		osmo_select_main(1);
	assert_int_equal(slink->behind_since_ms, 0);	/* read empty: no longer behind */
	assert_int_equal(slink->fi->state, SMPP_ST_BOUND);

	/* the replies' wait in the MT queue, when longer: the oldest one's age (here no window: none goes out) */
	slink->window = 0;
	uigw_smpp_pdu_init(&el, UIGW_SMPP_SUBMIT_SM, 1);
	OSMO_STRLCPY_ARRAY(el.dst_addr, "491720000405");
	assert_non_null(uigw_smpp_submit(smpp, &el, NULL, NULL));
	assert_int_equal(smpp->queue_len, 1);
	uigw_fx_clock_advance(2);
	gw->overload.delay_peak_ms = 0;
	uigw_smpp_pdu_init(&el, UIGW_SMPP_ENQUIRE_LINK, 20000);
	len = uigw_smpp_encode(buf, sizeof(buf), &el);
	assert_int_equal(write(peer, buf, len), len);
	for (i = 0; i < 400 && !gw->overload.delay_peak_ms; i++) {	/* (Nagle: until an ACK, up to 1 s) */
		osmo_select_main(1);
		usleep(5000);
	}
	assert_int_equal(gw->overload.delay_peak_ms, 2000);
	/* a link bound after the reply was queued counts from its bind: a queue kept while no link was up is no
	 * overload */
	slink->bound_ms = uigw_mono_ms() - 300;
	gw->overload.delay_peak_ms = 0;
	assert_int_equal(write(peer, buf, len), len);
	for (i = 0; i < 400 && !gw->overload.delay_peak_ms; i++) {	/* (Nagle: until an ACK, up to 1 s) */
		osmo_select_main(1);
		usleep(5000);
	}
	assert_int_equal(gw->overload.delay_peak_ms, 300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bind_push_throttle_reconnect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mt_in_doubt, setup, teardown),
	};
	uigw_fx_process_init("smpp_link_test");	/* logging, and the VTY the adapter installs its node in */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
