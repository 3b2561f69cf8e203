/*! \file smpp_link.c
 *  SMPP ESME links: one osmo_fsm per SMSC (DOWN -> CONNECTING -> BINDING -> BOUND, back to DOWN with a doubling
 *  reconnect delay), an osmo_fd + write queue per link, and the MT queue all links share. A request leaves the
 *  queue only for a bound link with room in its window and in its submit rate; it comes back to the head of the
 *  queue when the link drops, when its response timer expires, or when the SMSC answers THROTTLED / MSGQFUL
 *  (then the link pauses). So an MT is never dropped for a transient reason. */

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/stats.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/fsm.h>
#include <osmocom/core/msgb.h>
#include <osmocom/core/socket.h>
#include <osmocom/core/select.h>
#include <osmocom/core/tdef.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/common/fsm.h>
#include <osmocom/uigw/codec/charset.h>
#include <osmocom/uigw/chan/smpp.h>

#define LOGPL(link, level, fmt, args...) LOGP(DSMPP, level, "smsc %s: " fmt, (link)->name, ## args)

#define MAX_BACKOFF_MS	30000
#define S(x)	(1 << (x))

enum smpp_link_event {
	SMPP_EV_START,
	SMPP_EV_CONNECTED,
	SMPP_EV_BIND_OK,
	SMPP_EV_BIND_FAIL,
	SMPP_EV_LOST,
	SMPP_EV_STOP,
};

static const struct value_string smpp_link_event_names[] = {
	{ SMPP_EV_START, "START" },
	{ SMPP_EV_CONNECTED, "CONNECTED" },
	{ SMPP_EV_BIND_OK, "BIND_OK" },
	{ SMPP_EV_BIND_FAIL, "BIND_FAIL" },
	{ SMPP_EV_LOST, "LOST" },
	{ SMPP_EV_STOP, "STOP" },
	{ 0, NULL }
};

const struct value_string uigw_smpp_link_state_names[] = {
	{ SMPP_ST_DOWN, "down" },
	{ SMPP_ST_CONNECTING, "connecting" },
	{ SMPP_ST_BINDING, "binding" },
	{ SMPP_ST_BOUND, "bound" },
	{ 0, NULL }
};

static unsigned long tdef_ms(struct uigw_smpp *smpp, int T)
{
	return osmo_tdef_get(smpp->tdefs, T, OSMO_TDEF_MS, 1000);
}

bool uigw_smpp_link_bound(const struct uigw_smpp_link *link)
{
	return link->fi && link->fi->state == SMPP_ST_BOUND;
}

/* ---- sending ---- */

/* PDUs written while the socket is busy share one buffer: at load one write() carries many of them */
#define WQ_CHUNK	16384

static int link_send_pdu(struct uigw_smpp_link *link, const struct uigw_smpp_pdu *pdu)
{
	uint8_t buf[UIGW_SMPP_MAX_PDU];
	struct msgb *msg;
	int len;

	if (link->wq.bfd.fd < 0)
		return -ENOTCONN;
	len = uigw_smpp_encode(buf, sizeof(buf), pdu);
	if (len < 0) {
		LOGPL(link, LOGL_ERROR, "cannot encode %s: %s\n", uigw_smpp_cmd_name(pdu->command_id),
		      strerror(-len));
		return len;
	}
	LOGPL(link, LOGL_DEBUG, "tx %s seq %u\n", uigw_smpp_cmd_name(pdu->command_id), pdu->sequence);
	/* the queue holds only what was not handed to write() yet: the last buffer can take more */
	if (!llist_empty(&link->wq.msg_queue)) {
		msg = llist_last_entry(&link->wq.msg_queue, struct msgb, list);
		if (msgb_tailroom(msg) >= len) {
			memcpy(msgb_put(msg, len), buf, len);
			return 0;
		}
	}
	msg = msgb_alloc(WQ_CHUNK, "smpp");
	if (!msg)
		return -ENOMEM;
	memcpy(msgb_put(msg, len), buf, len);
	if (osmo_wqueue_enqueue(&link->wq, msg) < 0) {
		msgb_free(msg);
		return -ENOBUFS;
	}
	return 0;
}

static int link_send_simple(struct uigw_smpp_link *link, uint32_t cmd, uint32_t status, uint32_t seq)
{
	struct uigw_smpp_pdu pdu;

	uigw_smpp_pdu_init(&pdu, cmd, seq);
	pdu.command_status = status;
	return link_send_pdu(link, &pdu);
}

static uint32_t link_seq(struct uigw_smpp_link *link)
{
	link->next_seq++;
	if (link->next_seq == 0 || link->next_seq > 0x7fffffff)
		link->next_seq = 1;
	return link->next_seq;
}

/* GSM septets of data_coding 0 -> what this link's SMSC default alphabet means by data_coding 0 */
static void adapt_alphabet(struct uigw_smpp_link *link, struct uigw_smpp_pdu *pdu)
{
	char utf8[UIGW_SMPP_MAX_MSG * 4 + 1];
	unsigned int i, o = 0;
	int n;

	if (pdu->data_coding != UIGW_SMPP_DC_DEFAULT || link->alphabet == UIGW_SMPP_ALPHA_GSM7)
		return;
	n = uigw_gsm7_to_utf8(utf8, sizeof(utf8), pdu->msg, pdu->msg_len);
	if (n < 0)
		return;
	for (i = 0; i < (unsigned int)n && o < UIGW_SMPP_MAX_MSG;) {
		uint32_t cp;
		int l = uigw_utf8_next(utf8 + i, n - i, &cp);

		if (l <= 0)
			break;
		i += l;
		if (link->alphabet == UIGW_SMPP_ALPHA_IA5 ? cp > 0x7f : cp > 0xff)
			cp = '?';
		pdu->msg[o++] = cp;
	}
	pdu->msg_len = o;
}

static void req_timeout_cb(void *data);
static void smpp_kick(struct uigw_smpp *smpp);

/* tokens of the per-second submit rate: true if one more submit may go now */
static bool rate_ok(struct uigw_smpp_link *link)
{
	int64_t sec;

	if (!link->rate)
		return true;
	sec = uigw_mono_ms() / 1000;
	if (sec != link->tokens_sec) {
		link->tokens_sec = sec;
		link->tokens = link->rate;
	}
	return link->tokens > 0;
}

static void link_pause(struct uigw_smpp_link *link, unsigned long ms)
{
	link->paced = true;
	osmo_timer_schedule(&link->pace_timer, ms / 1000, (ms % 1000) * 1000);
}

/* Move as many queued requests onto this link as its window, rate and state allow. */
static void link_kick(struct uigw_smpp_link *link)
{
	struct uigw_smpp *smpp = link->smpp;

	while (uigw_smpp_link_bound(link) && !link->paced && link->n_inflight < link->window &&
	       !llist_empty(&smpp->queue)) {
		struct uigw_smpp_req *req;
		struct uigw_smpp_pdu pdu;

		if (!rate_ok(link)) {
			int64_t ms = 1000 - uigw_mono_ms() % 1000;

			link_pause(link, ms ? ms : 1);
			break;
		}
		req = llist_first_entry(&smpp->queue, struct uigw_smpp_req, list);
		if (uigw_smpp_mt_hold(smpp, req))
			break;	/* it and what follows wait for its mark's commit (mt-in-doubt drop) */
		llist_del(&req->list);
		smpp->queue_len--;
		if (uigw_smpp_mt_stale(smpp, req))
			continue;	/* expired, or its dialog ended: freed */
		req->pdu.command_id = UIGW_SMPP_SUBMIT_SM;
		req->pdu.sequence = link_seq(link);
		pdu = req->pdu;
		adapt_alphabet(link, &pdu);
		if (link_send_pdu(link, &pdu) < 0) {
			/* cannot even encode: a permanent error for this request */
			if (req->done)
				req->done(req, UIGW_SMPP_RSYSERR, NULL);
			smpp->mt_dropped++;
			uigw_smpp_mt_forget(smpp, req);
			talloc_free(req);
			continue;
		}
		if (link->rate)
			link->tokens--;
		req->link = link;
		req->attempts++;
		smpp->mt_sent++;
		llist_add_tail(&req->list, &link->inflight);
		link->n_inflight++;
		rate_ctr_inc2(link->ctrs, SMPP_LINK_CTR_TX_SUBMIT);
		osmo_timer_setup(&req->timer, req_timeout_cb, req);
		osmo_timer_schedule(&req->timer, tdef_ms(smpp, SMPP_T_RESP) / 1000,
				    (tdef_ms(smpp, SMPP_T_RESP) % 1000) * 1000);
	}
}

/* Failover: the bound links of the best (lowest) priority carry the traffic, sharing it when several have that
 * priority; the others stand by until every better link is down. smpp->links is sorted by priority. */
static void smpp_kick(struct uigw_smpp *smpp)
{
	struct uigw_smpp_link *link;
	int best = -1;

	llist_for_each_entry(link, &smpp->links, list) {
		if (uigw_smpp_link_bound(link)) {
			best = link->priority;
			break;
		}
	}
	if (best < 0)
		return;
	llist_for_each_entry(link, &smpp->links, list) {
		if (link->priority > (unsigned int)best)
			break;
		link_kick(link);
	}
}

/* a request goes back to the head of the queue (keeps the order of what is requeued together) */
static void req_requeue(struct uigw_smpp_req *req)
{
	struct uigw_smpp *smpp = req->link->smpp;

	osmo_timer_del(&req->timer);
	llist_del(&req->list);
	req->link->n_inflight--;
	req->link = NULL;
	llist_add(&req->list, &smpp->queue);
	smpp->queue_len++;
}

static void req_timeout_cb(void *data)
{
	struct uigw_smpp_req *req = data;
	struct uigw_smpp_link *link = req->link;

	rate_ctr_inc2(link->ctrs, SMPP_LINK_CTR_TX_TIMEOUT);
	LOGPL(link, LOGL_NOTICE, "no submit_sm_resp for seq %u: retrying\n", req->pdu.sequence);
	req_requeue(req);
	smpp_kick(link->smpp);
}

struct uigw_smpp_req *uigw_smpp_submit(struct uigw_smpp *smpp, const struct uigw_smpp_pdu *pdu,
				       uigw_smpp_done_cb done, void *priv)
{
	struct uigw_smpp_req *req = talloc_zero(smpp, struct uigw_smpp_req);

	if (!req)
		return NULL;
	req->pdu = *pdu;
	req->done = done;
	req->priv = priv;
	uigw_smpp_req_queue(smpp, req);
	return req;
}

void uigw_smpp_kick(struct uigw_smpp *smpp)
{
	smpp_kick(smpp);
}

void uigw_smpp_req_queue(struct uigw_smpp *smpp, struct uigw_smpp_req *req)
{
	if (!req->queued_ms)
		req->queued_ms = uigw_mono_ms();
	llist_add_tail(&req->list, &smpp->queue);
	smpp->queue_len++;
	smpp_kick(smpp);
}

void uigw_smpp_req_orphan(struct uigw_smpp_req *req)
{
	req->done = NULL;
	req->priv = NULL;
}

/* ---- receiving ---- */

static struct uigw_smpp_req *inflight_by_seq(struct uigw_smpp_link *link, uint32_t seq)
{
	struct uigw_smpp_req *req;

	llist_for_each_entry(req, &link->inflight, list) {
		if (req->pdu.sequence == seq)
			return req;
	}
	return NULL;
}

static void rx_submit_resp(struct uigw_smpp_link *link, const struct uigw_smpp_pdu *pdu)
{
	struct uigw_smpp *smpp = link->smpp;
	struct uigw_smpp_req *req = inflight_by_seq(link, pdu->sequence);

	if (!req) {
		LOGPL(link, LOGL_NOTICE, "submit_sm_resp for unknown seq %u\n", pdu->sequence);
		return;
	}
	switch (pdu->command_status) {
	case UIGW_SMPP_ROK:
		rate_ctr_inc2(link->ctrs, SMPP_LINK_CTR_TX_SUBMIT_OK);
		osmo_timer_del(&req->timer);
		llist_del(&req->list);
		link->n_inflight--;
		uigw_smpp_mt_forget(smpp, req);
		if (req->done)
			req->done(req, 0, pdu->message_id);
		talloc_free(req);
		break;
	case UIGW_SMPP_RTHROTTLED:
	case UIGW_SMPP_RMSGQFUL:
		rate_ctr_inc2(link->ctrs, SMPP_LINK_CTR_TX_THROTTLED);
		/* not an attempt: the SMSC asks us to wait */
		req->attempts--;
		req_requeue(req);
		if (!link->paced) {
			LOGPL(link, LOGL_INFO, "SMSC busy (0x%02x): pausing %lu ms\n", pdu->command_status,
			      tdef_ms(smpp, SMPP_T_THROTTLE));
			link_pause(link, tdef_ms(smpp, SMPP_T_THROTTLE));
		}
		break;
	default:
		rate_ctr_inc2(link->ctrs, SMPP_LINK_CTR_TX_SUBMIT_ERR);
		if (req->attempts < smpp->max_attempts) {
			LOGPL(link, LOGL_NOTICE, "submit_sm seq %u refused (0x%02x): retrying\n", pdu->sequence,
			      pdu->command_status);
			req_requeue(req);
			break;
		}
		LOGPL(link, LOGL_ERROR, "submit_sm seq %u refused (0x%02x) %u times: dropped\n", pdu->sequence,
		      pdu->command_status, req->attempts);
		osmo_timer_del(&req->timer);
		llist_del(&req->list);
		link->n_inflight--;
		smpp->mt_dropped++;
		uigw_smpp_mt_forget(smpp, req);
		if (req->done)
			req->done(req, pdu->command_status, NULL);
		talloc_free(req);
		break;
	}
	smpp_kick(smpp);
}

static void rx_pdu(struct uigw_smpp_link *link, const uint8_t *buf, size_t len)
{
	struct uigw_smpp *smpp = link->smpp;
	struct uigw_smpp_pdu pdu;
	uint32_t status;
	int rc;

	rc = uigw_smpp_decode(&pdu, buf, len);
	link->last_rx_ms = uigw_mono_ms();
	if (rc < 0) {
		rate_ctr_inc2(link->ctrs, SMPP_LINK_CTR_RX_BAD);
		LOGPL(link, LOGL_NOTICE, "bad PDU (%s, command 0x%08x, seq %u): generic_nack\n", strerror(-rc),
		      pdu.command_id, pdu.sequence);
		/* a malformed response to our request: the request goes back to the queue */
		if (pdu.command_id == UIGW_SMPP_SUBMIT_SM_RESP) {
			struct uigw_smpp_req *req = inflight_by_seq(link, pdu.sequence);

			if (req) {
				req_requeue(req);
				smpp_kick(smpp);
			}
		}
		if (!(pdu.command_id & 0x80000000)) {
			rate_ctr_inc2(link->ctrs, SMPP_LINK_CTR_TX_NACK);
			link_send_simple(link, UIGW_SMPP_GENERIC_NACK,
					 rc == -EOPNOTSUPP ? UIGW_SMPP_RINVCMDID : UIGW_SMPP_RINVCMDLEN, pdu.sequence);
		}
		return;
	}
	LOGPL(link, LOGL_DEBUG, "rx %s seq %u status 0x%x\n", uigw_smpp_cmd_name(pdu.command_id), pdu.sequence,
	      pdu.command_status);

	switch (pdu.command_id) {
	case UIGW_SMPP_BIND_TRX_RESP:
		if (link->fi->state != SMPP_ST_BINDING)
			break;
		osmo_fsm_inst_dispatch(link->fi, pdu.command_status ? SMPP_EV_BIND_FAIL : SMPP_EV_BIND_OK, &pdu);
		break;
	case UIGW_SMPP_ENQUIRE_LINK:
		link_send_simple(link, UIGW_SMPP_ENQUIRE_LINK_RESP, 0, pdu.sequence);
		break;
	case UIGW_SMPP_ENQUIRE_LINK_RESP:
	case UIGW_SMPP_UNBIND_RESP:
		break;
	case UIGW_SMPP_UNBIND:
		link_send_simple(link, UIGW_SMPP_UNBIND_RESP, 0, pdu.sequence);
		osmo_fsm_inst_dispatch(link->fi, SMPP_EV_LOST, NULL);
		break;
	case UIGW_SMPP_SUBMIT_SM_RESP:
		rx_submit_resp(link, &pdu);
		break;
	case UIGW_SMPP_GENERIC_NACK: {
		struct uigw_smpp_req *req = inflight_by_seq(link, pdu.sequence);

		rate_ctr_inc2(link->ctrs, SMPP_LINK_CTR_RX_NACK);
		LOGPL(link, LOGL_NOTICE, "generic_nack 0x%x for seq %u\n", pdu.command_status, pdu.sequence);
		if (req) {
			pdu.command_id = UIGW_SMPP_SUBMIT_SM_RESP;
			if (!pdu.command_status)
				pdu.command_status = UIGW_SMPP_RSYSERR;
			rx_submit_resp(link, &pdu);
		}
		break;
	}
	case UIGW_SMPP_DELIVER_SM:
		rate_ctr_inc2(link->ctrs, SMPP_LINK_CTR_RX_DELIVER);
		if (link->fi->state != SMPP_ST_BOUND) {
			link_send_simple(link, UIGW_SMPP_DELIVER_SM_RESP, 0x04 /* RINVBNDSTS */, pdu.sequence);
			break;
		}
		status = smpp->rx_cb ? smpp->rx_cb(link, &pdu) : UIGW_SMPP_RX_T_APPN;
		/* the handler may have dropped the link (it never frees it) */
		if (link->wq.bfd.fd >= 0)
			link_send_simple(link, UIGW_SMPP_DELIVER_SM_RESP, status, pdu.sequence);
		break;
	default:
		/* a request we do not serve */
		if (!(pdu.command_id & 0x80000000)) {
			rate_ctr_inc2(link->ctrs, SMPP_LINK_CTR_TX_NACK);
			link_send_simple(link, UIGW_SMPP_GENERIC_NACK, UIGW_SMPP_RINVCMDID, pdu.sequence);
		}
		break;
	}
}

/* A count per second into *rate, smoothed over periods of 100 ms and more: *n counted since *since_ms */
static void rate_update(uint64_t *n, int64_t *since_ms, unsigned int *rate, int64_t now)
{
	uint64_t r;

	if (!*since_ms) {
		*since_ms = now;
		return;
	}
	if (now - *since_ms < 100)
		return;
	r = *n * 1000 / (uint64_t)(now - *since_ms);
	r = *rate ? (*rate * 3ULL + r) / 4 : r;
	*rate = r > UINT_MAX ? UINT_MAX : (unsigned int)r;
	*n = 0;
	*since_ms = now;
}

/* The replies wait in the MT queue for the SMSC's window (its responses wait behind our reads): as long as the
 * oldest one has waited, counted from the bind \a bound_ms (a queue kept while no link was up is no overload), or,
 * once that is 50 ms, as long as the queue takes at the rate submit_sm go out if longer (at a burst's onset the queue grows faster than
 * its head ages: in contrib/bench/smpp at 5x, 4,110 replies at ~14,000 a second while the oldest had waited 120 ms) */
static int64_t mt_queue_delay(struct uigw_smpp *smpp, int64_t now, int64_t bound_ms)
{
	struct uigw_smpp_req *head;
	int64_t ms;

	rate_update(&smpp->mt_sent, &smpp->mt_rate_ms, &smpp->mt_rate, now);
	if (llist_empty(&smpp->queue))
		return 0;
	head = llist_first_entry(&smpp->queue, struct uigw_smpp_req, list);
	ms = now - OSMO_MAX(head->queued_ms, bound_ms);
	/* (a few replies behind a small window are no queue to foresee: their head's age says it; nor is a queue whose
	 * head goes out at once, such as the final screens released together by a store that commits again: the rate
	 * before it was the demand's, not the window's) */
	if (smpp->mt_rate && smpp->queue_len >= 64 && ms >= 50)
		ms = OSMO_MAX(ms, OSMO_MIN((int64_t)smpp->queue_len * 1000 / smpp->mt_rate, now - bound_ms));
	return ms;
}

/* The queue delay of overload control for a TCP stream, whose bytes carry no receive time: how long the socket
 * has held unread data without a pause, but no more than its unread bytes take at the rate the link reads. A gateway
 * that keeps up reads it empty again and again (at its sustained rate within the scheduler's period), or at a high
 * rate finds a few PDUs more each time; one that falls behind never does, its receive buffer fills, and the figure
 * grows with the backlog (a deliver_sm then waits behind the others, and the responses to our own submit_sm with
 * them). The time alone read seconds at 5x while each PDU waited a few ms (contrib/bench/smpp, doc/smpp.md). */
static void queue_delay(struct uigw_smpp_link *link)
{
	int pending = 0;
	int64_t now, ms;

	if (ioctl(link->wq.bfd.fd, FIONREAD, &pending) < 0)
		return;
	now = uigw_mono_ms();
	rate_update(&link->rx_bytes, &link->rx_rate_ms, &link->rx_rate, now);
	if (pending <= 0)
		link->behind_since_ms = 0;
	else if (!link->behind_since_ms)
		link->behind_since_ms = now;
	ms = link->behind_since_ms ? now - link->behind_since_ms : 0;
	if (ms && link->rx_rate)
		ms = OSMO_MIN(ms, (int64_t)pending * 1000 / link->rx_rate);
	ms = OSMO_MAX(ms, mt_queue_delay(link->smpp, now, link->bound_ms));
	link->wait_ms = ms;
	uigw_overload_delay_sample(link->smpp->gw, ms);
}

static int link_read_cb(struct osmo_fd *ofd)
{
	struct uigw_smpp_link *link = ofd->data;
	ssize_t n;
	unsigned int off = 0;

	n = read(ofd->fd, link->rx + link->rx_len, sizeof(link->rx) - link->rx_len);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		LOGPL(link, LOGL_NOTICE, "connection closed by the SMSC\n");
		osmo_fsm_inst_dispatch(link->fi, SMPP_EV_LOST, NULL);
		return -EBADF;
	}
	link->rx_len += n;
	link->rx_bytes += n;
	while (link->rx_len - off >= 4) {
		int flen = uigw_smpp_frame_len(link->rx + off, link->rx_len - off);

		if (flen < 0) {
			LOGPL(link, LOGL_ERROR, "PDU length 0x%08x impossible: dropping the link\n",
			      osmo_load32be(link->rx + off));
			rate_ctr_inc2(link->ctrs, SMPP_LINK_CTR_RX_BAD);
			if (link->rx_len - off >= 16 && !(osmo_load32be(link->rx + off + 4) & 0x80000000))
				link_send_simple(link, UIGW_SMPP_GENERIC_NACK, UIGW_SMPP_RINVCMDLEN,
						 osmo_load32be(link->rx + off + 12));
			osmo_fsm_inst_dispatch(link->fi, SMPP_EV_LOST, NULL);
			return -EBADF;
		}
		if ((unsigned int)flen > link->rx_len - off)
			break;
		rx_pdu(link, link->rx + off, flen);
		if (link->wq.bfd.fd < 0)
			return -EBADF;
		off += flen;
	}
	memmove(link->rx, link->rx + off, link->rx_len - off);
	link->rx_len -= off;
	queue_delay(link);
	return 0;
}

static int link_write_cb(struct osmo_fd *ofd, struct msgb *msg)
{
	struct uigw_smpp_link *link = ofd->data;
	ssize_t n = write(ofd->fd, msgb_data(msg), msgb_length(msg));

	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		/* put it back at the head and try again */
		struct msgb *copy = msgb_copy(msg, "smpp-retry");

		if (copy) {
			llist_add(&copy->list, &link->wq.msg_queue);
			link->wq.current_length++;
			osmo_fd_write_enable(ofd);
		}
		return 0;
	}
	if (n != (ssize_t)msgb_length(msg)) {
		if (n >= 0 && n < (ssize_t)msgb_length(msg)) {
			struct msgb *rest = msgb_copy(msg, "smpp-rest");

			if (rest) {
				msgb_pull(rest, n);
				llist_add(&rest->list, &link->wq.msg_queue);
				link->wq.current_length++;
				osmo_fd_write_enable(ofd);
				return 0;
			}
		}
		LOGPL(link, LOGL_NOTICE, "write failed: %s\n", strerror(errno));
		osmo_fsm_inst_dispatch(link->fi, SMPP_EV_LOST, NULL);
		return -EBADF;
	}
	return 0;
}

static int link_fd_cb(struct osmo_fd *ofd, unsigned int what)
{
	struct uigw_smpp_link *link = ofd->data;

	if (link->fi->state == SMPP_ST_CONNECTING) {
		int err = 0;
		socklen_t elen = sizeof(err);

		if (!(what & OSMO_FD_WRITE))
			return 0;
		if (getsockopt(ofd->fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err) {
			LOGPL(link, LOGL_INFO, "connect to %s:%u failed: %s\n", link->remote_ip, link->remote_port,
			      strerror(err ? err : errno));
			osmo_fsm_inst_dispatch(link->fi, SMPP_EV_LOST, NULL);
			return 0;
		}
		osmo_fd_write_disable(ofd);
		osmo_fsm_inst_dispatch(link->fi, SMPP_EV_CONNECTED, NULL);
		return 0;
	}
	return osmo_wqueue_bfd_cb(ofd, what);
}

/* ---- the link FSM ---- */

static void link_close(struct uigw_smpp_link *link)
{
	osmo_timer_del(&link->enquire_timer);
	osmo_timer_del(&link->pace_timer);
	link->paced = false;
	if (link->wq.bfd.fd >= 0) {
		osmo_fd_unregister(&link->wq.bfd);
		close(link->wq.bfd.fd);
		link->wq.bfd.fd = -1;
	}
	osmo_wqueue_clear(&link->wq);
	link->rx_len = 0;
	link->behind_since_ms = 0;
	link->wait_ms = 0;
	link->rx_rate_ms = 0;
	link->rx_rate = 0;
	link->rx_bytes = 0;
	/* what was in flight goes back to the head of the queue, in its order */
	while (!llist_empty(&link->inflight))
		req_requeue(llist_last_entry(&link->inflight, struct uigw_smpp_req, list));
}

static void link_connect(struct uigw_smpp_link *link)
{
	int fd;

	fd = osmo_sock_init2(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, link->remote_ip, link->remote_port,
			     OSMO_SOCK_F_CONNECT | OSMO_SOCK_F_NONBLOCK);
	if (fd < 0) {
		LOGPL(link, LOGL_INFO, "cannot connect to %s:%u\n", link->remote_ip, link->remote_port);
		uigw_fsm_state_chg_ms(link->fi, SMPP_ST_DOWN, link->backoff, SMPP_T_RECONNECT);
		return;
	}
	rate_ctr_inc2(link->ctrs, SMPP_LINK_CTR_CONNECTS);
	osmo_fd_setup(&link->wq.bfd, fd, OSMO_FD_READ | OSMO_FD_WRITE, link_fd_cb, link, 0);
	if (osmo_fd_register(&link->wq.bfd) < 0) {
		close(fd);
		link->wq.bfd.fd = -1;
		uigw_fsm_state_chg_ms(link->fi, SMPP_ST_DOWN, link->backoff, SMPP_T_RECONNECT);
		return;
	}
	uigw_fsm_state_chg_ms(link->fi, SMPP_ST_CONNECTING, tdef_ms(link->smpp, SMPP_T_CONNECT), SMPP_T_CONNECT);
}

static void link_down(struct uigw_smpp_link *link)
{
	if (link->wq.bfd.fd >= 0 || link->fi->state != SMPP_ST_DOWN)
		rate_ctr_inc2(link->ctrs, SMPP_LINK_CTR_DISCONNECTS);
	link_close(link);
	if (!link->enabled || !link->smpp->started) {
		osmo_fsm_inst_state_chg(link->fi, SMPP_ST_DOWN, 0, 0);
		return;
	}
	uigw_fsm_state_chg_ms(link->fi, SMPP_ST_DOWN, link->backoff, SMPP_T_RECONNECT);
	link->backoff = OSMO_MIN(link->backoff * 2, MAX_BACKOFF_MS);
}

static void st_down(struct osmo_fsm_inst *fi, uint32_t event, void *data)
{
	struct uigw_smpp_link *link = fi->priv;

	switch (event) {
	case SMPP_EV_START:
		link->backoff = tdef_ms(link->smpp, SMPP_T_RECONNECT);
		link_connect(link);
		break;
	default:
		break;
	}
}

static void st_connecting(struct osmo_fsm_inst *fi, uint32_t event, void *data)
{
	struct uigw_smpp_link *link = fi->priv;
	struct uigw_smpp_pdu pdu;

	switch (event) {
	case SMPP_EV_CONNECTED:
		LOGPL(link, LOGL_INFO, "connected to %s:%u, binding as '%s'\n", link->remote_ip, link->remote_port,
		      link->system_id);
		link->last_rx_ms = uigw_mono_ms();
		uigw_smpp_pdu_init(&pdu, UIGW_SMPP_BIND_TRX, link_seq(link));
		osmo_strlcpy(pdu.system_id, link->system_id, sizeof(pdu.system_id));
		osmo_strlcpy(pdu.password, link->password, sizeof(pdu.password));
		osmo_strlcpy(pdu.system_type, link->system_type, sizeof(pdu.system_type));
		uigw_fsm_state_chg_ms(fi, SMPP_ST_BINDING, tdef_ms(link->smpp, SMPP_T_BIND), SMPP_T_BIND);
		if (link_send_pdu(link, &pdu) < 0)
			link_down(link);
		break;
	case SMPP_EV_LOST:
		link_down(link);
		break;
	default:
		break;
	}
}

static void enquire_cb(void *data)
{
	struct uigw_smpp_link *link = data;

	if (!uigw_smpp_link_bound(link) || !link->enquire_interval)
		return;
	if (uigw_mono_ms() - link->last_rx_ms > (int64_t)tdef_ms(link->smpp, SMPP_T_INACTIVITY)) {
		LOGPL(link, LOGL_NOTICE, "nothing from the SMSC for %lu ms: dropping the link\n",
		      tdef_ms(link->smpp, SMPP_T_INACTIVITY));
		osmo_fsm_inst_dispatch(link->fi, SMPP_EV_LOST, NULL);
		return;
	}
	link_send_simple(link, UIGW_SMPP_ENQUIRE_LINK, 0, link_seq(link));
	osmo_timer_schedule(&link->enquire_timer, link->enquire_interval, 0);
}

static void pace_cb(void *data)
{
	struct uigw_smpp_link *link = data;

	link->paced = false;
	smpp_kick(link->smpp);
}

static void st_binding(struct osmo_fsm_inst *fi, uint32_t event, void *data)
{
	struct uigw_smpp_link *link = fi->priv;
	const struct uigw_smpp_pdu *pdu = data;

	switch (event) {
	case SMPP_EV_BIND_OK:
		rate_ctr_inc2(link->ctrs, SMPP_LINK_CTR_BINDS);
		LOGPL(link, LOGL_NOTICE, "bound to SMSC '%s'\n", pdu->system_id);
		link->bound_ms = uigw_mono_ms();
		link->backoff = tdef_ms(link->smpp, SMPP_T_RECONNECT);
		osmo_fsm_inst_state_chg(fi, SMPP_ST_BOUND, 0, 0);
		if (link->enquire_interval)
			osmo_timer_schedule(&link->enquire_timer, link->enquire_interval, 0);
		smpp_kick(link->smpp);
		break;
	case SMPP_EV_BIND_FAIL:
		rate_ctr_inc2(link->ctrs, SMPP_LINK_CTR_BIND_FAILS);
		LOGPL(link, LOGL_ERROR, "bind refused: status 0x%x\n", pdu->command_status);
		link_down(link);
		break;
	case SMPP_EV_LOST:
		link_down(link);
		break;
	default:
		break;
	}
}

static void st_bound(struct osmo_fsm_inst *fi, uint32_t event, void *data)
{
	struct uigw_smpp_link *link = fi->priv;

	if (event == SMPP_EV_LOST) {
		LOGPL(link, LOGL_NOTICE, "link lost, %u requests back to the queue\n", link->n_inflight);
		link_down(link);
		/* another link may take them */
		smpp_kick(link->smpp);
	}
}

static void link_allstate(struct osmo_fsm_inst *fi, uint32_t event, void *data)
{
	struct uigw_smpp_link *link = fi->priv;

	if (event == SMPP_EV_STOP) {
		if (uigw_smpp_link_bound(link))
			link_send_simple(link, UIGW_SMPP_UNBIND, 0, link_seq(link));
		link_close(link);
		osmo_fsm_inst_state_chg(fi, SMPP_ST_DOWN, 0, 0);
	}
}

static int link_timer_cb(struct osmo_fsm_inst *fi)
{
	struct uigw_smpp_link *link = fi->priv;

	switch (fi->state) {
	case SMPP_ST_DOWN:
		if (link->enabled && link->smpp->started)
			link_connect(link);
		break;
	case SMPP_ST_CONNECTING:
		LOGPL(link, LOGL_INFO, "connect to %s:%u timed out\n", link->remote_ip, link->remote_port);
		link_down(link);
		break;
	case SMPP_ST_BINDING:
		LOGPL(link, LOGL_NOTICE, "no bind_transceiver_resp\n");
		link_down(link);
		break;
	}
	return 0;
}

static const struct osmo_fsm_state link_states[] = {
	[SMPP_ST_DOWN] = {
		.name = "DOWN",
		.in_event_mask = S(SMPP_EV_START) | S(SMPP_EV_LOST),
		.out_state_mask = S(SMPP_ST_DOWN) | S(SMPP_ST_CONNECTING),
		.action = st_down,
	},
	[SMPP_ST_CONNECTING] = {
		.name = "CONNECTING",
		.in_event_mask = S(SMPP_EV_CONNECTED) | S(SMPP_EV_LOST),
		.out_state_mask = S(SMPP_ST_DOWN) | S(SMPP_ST_BINDING),
		.action = st_connecting,
	},
	[SMPP_ST_BINDING] = {
		.name = "BINDING",
		.in_event_mask = S(SMPP_EV_BIND_OK) | S(SMPP_EV_BIND_FAIL) | S(SMPP_EV_LOST),
		.out_state_mask = S(SMPP_ST_DOWN) | S(SMPP_ST_BOUND),
		.action = st_binding,
	},
	[SMPP_ST_BOUND] = {
		.name = "BOUND",
		.in_event_mask = S(SMPP_EV_LOST),
		.out_state_mask = S(SMPP_ST_DOWN),
		.action = st_bound,
	},
};

static struct osmo_fsm smpp_link_fsm = {
	.name = "smpp_link",
	.states = link_states,
	.num_states = ARRAY_SIZE(link_states),
	.allstate_event_mask = S(SMPP_EV_STOP),
	.allstate_action = link_allstate,
	.timer_cb = link_timer_cb,
	.log_subsys = DSMPP,
	.event_names = smpp_link_event_names,
};

static __attribute__((constructor)) void smpp_link_fsm_register(void)
{
	OSMO_ASSERT(osmo_fsm_register(&smpp_link_fsm) == 0);
}

static const struct rate_ctr_desc link_ctr_desc[] = {
	[SMPP_LINK_CTR_CONNECTS] = { "tcp:connects", "TCP connections to the SMSC" },
	[SMPP_LINK_CTR_BINDS] = { "bind:ok", "bind_transceiver accepted" },
	[SMPP_LINK_CTR_BIND_FAILS] = { "bind:failed", "bind_transceiver refused or timed out" },
	[SMPP_LINK_CTR_DISCONNECTS] = { "tcp:disconnects", "links lost" },
	[SMPP_LINK_CTR_TX_SUBMIT] = { "submit:sent", "submit_sm sent" },
	[SMPP_LINK_CTR_TX_SUBMIT_OK] = { "submit:ok", "submit_sm accepted" },
	[SMPP_LINK_CTR_TX_SUBMIT_ERR] = { "submit:error", "submit_sm refused with a permanent error" },
	[SMPP_LINK_CTR_TX_THROTTLED] = { "submit:throttled", "THROTTLED / MSGQFUL answers (retried)" },
	[SMPP_LINK_CTR_TX_TIMEOUT] = { "submit:timeout", "submit_sm without response in time" },
	[SMPP_LINK_CTR_RX_DELIVER] = { "deliver:received", "deliver_sm received" },
	[SMPP_LINK_CTR_RX_BAD] = { "pdu:bad", "undecodable or unexpected PDUs received" },
	[SMPP_LINK_CTR_TX_NACK] = { "nack:sent", "generic_nack sent" },
	[SMPP_LINK_CTR_RX_NACK] = { "nack:received", "generic_nack received" },
};

static const struct rate_ctr_group_desc link_ctrg_desc = {
	.group_name_prefix = "smpp_link",
	.group_description = "SMPP link to an SMSC",
	.class_id = OSMO_STATS_CLASS_PEER,
	.num_ctr = ARRAY_SIZE(link_ctr_desc),
	.ctr_desc = link_ctr_desc,
};

static int link_destructor(struct uigw_smpp_link *link)
{
	link_close(link);
	if (link->ctrs) {
		rate_ctr_group_free(link->ctrs);
		link->ctrs = NULL;
	}
	if (link->fi) {
		osmo_fsm_inst_free(link->fi);
		link->fi = NULL;
	}
	llist_del(&link->list);
	return 0;
}

struct uigw_smpp_link *uigw_smpp_link_get(struct uigw_smpp *smpp, const char *name, bool create)
{
	struct uigw_smpp_link *link;

	llist_for_each_entry(link, &smpp->links, list) {
		if (!strcmp(link->name, name))
			return link;
	}
	if (!create)
		return NULL;
	link = talloc_zero(smpp, struct uigw_smpp_link);
	if (!link)
		return NULL;
	link->smpp = smpp;
	link->name = talloc_strdup(link, name);
	link->remote_ip = talloc_strdup(link, "127.0.0.1");
	link->remote_port = 2775;
	link->system_id = talloc_strdup(link, "uigw");
	link->password = talloc_strdup(link, "uigw");
	link->system_type = talloc_strdup(link, "");
	link->window = 10;
	link->enquire_interval = 30;
	link->enabled = true;
	INIT_LLIST_HEAD(&link->inflight);
	osmo_wqueue_init(&link->wq, 100000);
	link->wq.bfd.fd = -1;
	link->wq.read_cb = link_read_cb;
	link->wq.write_cb = link_write_cb;
	osmo_timer_setup(&link->enquire_timer, enquire_cb, link);
	osmo_timer_setup(&link->pace_timer, pace_cb, link);
	link->ctrs = rate_ctr_group_alloc(link, &link_ctrg_desc, smpp->next_link_idx++);
	link->fi = osmo_fsm_inst_alloc(&smpp_link_fsm, link, link, LOGL_DEBUG, NULL);
	if (!link->fi || !link->ctrs) {
		if (link->fi)
			osmo_fsm_inst_free(link->fi);
		if (link->ctrs)
			rate_ctr_group_free(link->ctrs);
		talloc_free(link);
		return NULL;
	}
	rate_ctr_group_set_name(link->ctrs, name);
	osmo_fsm_inst_update_id(link->fi, name);
	llist_add_tail(&link->list, &smpp->links);
	talloc_set_destructor(link, link_destructor);
	return link;
}

void uigw_smpp_link_start(struct uigw_smpp_link *link)
{
	if (link->enabled && link->smpp->started && link->fi->state == SMPP_ST_DOWN)
		osmo_fsm_inst_dispatch(link->fi, SMPP_EV_START, NULL);
}

void uigw_smpp_link_restart(struct uigw_smpp_link *link)
{
	osmo_fsm_inst_dispatch(link->fi, SMPP_EV_STOP, NULL);
	uigw_smpp_link_start(link);
	smpp_kick(link->smpp);
}
