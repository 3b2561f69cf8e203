/*! \file sip.c
 *  SIP transport of channels ims-msg and ussi: the listeners on the osmo_select loop (UDP: sip_udp.c, TCP:
 *  sip_tcp.c), libosip2's parser and its RFC 3261 INVITE transactions (IST/ICT) whose timers run on an osmo
 *  timer, trusted peers, and the dispatch of requests to the two channels. The non-INVITE transactions are our own (sip_nict.c,
 *  sip_nist.c); where messages go is sip_route.c's. */

#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <stdarg.h>
#include <time.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/tdef.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/stats.h>
#include <osmocom/core/socket.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/common/number.h>
#include <osmocom/uigw/codec/sms_concat.h>

#include "sip_priv.h"



static const struct rate_ctr_desc sip_ctr_desc[] = {
	[SIP_CTR_RX_REQ] = { "rx:request", "SIP requests received" },
	[SIP_CTR_RX_RESP] = { "rx:response", "SIP responses received" },
	[SIP_CTR_RX_MALFORMED] = { "rx:malformed", "Unparsable or incomplete SIP messages dropped" },
	[SIP_CTR_UNTRUSTED] = { "rx:untrusted", "Requests from untrusted sources refused (403)" },
	[SIP_CTR_NO_IDENTITY] = { "rx:no-identity", "Requests without a usable asserted identity (403)" },
	[SIP_CTR_TX_REQ] = { "tx:request", "SIP requests sent" },
	[SIP_CTR_TX_ERR] = { "tx:error", "SIP messages that could not be sent" },
	[SIP_CTR_TIMEOUT] = { "tx:timeout", "Requests sent without a final response (timer B/F)" },
	[SIP_CTR_MSG_IN] = { "msg:in", "MESSAGE requests accepted (202)" },
	[SIP_CTR_MSG_OUT] = { "msg:out", "MESSAGE requests sent to subscribers" },
	[SIP_CTR_MSG_OUT_FAIL] = { "msg:out-fail", "MESSAGE requests to subscribers that failed" },
	[SIP_CTR_USSI_BEGIN] = { "ussi:begin", "USSI sessions started" },
	[SIP_CTR_USSI_INFO_IN] = { "ussi:info-in", "USSI INFO received" },
	[SIP_CTR_USSI_INFO_OUT] = { "ussi:info-out", "USSI INFO sent" },
	[SIP_CTR_USSI_469] = { "ussi:bad-info-package", "INFO refused with 469 Bad Info Package" },
	[SIP_CTR_USSI_END] = { "ussi:end", "USSI sessions ended" },
	[SIP_CTR_TCP_ACCEPTED] = { "tcp:accepted", "TCP connections accepted" },
	[SIP_CTR_TCP_REFUSED] = { "tcp:refused", "TCP connections closed at once: tcp max-connections or max-connections-per-peer" },
	[SIP_CTR_TCP_IDLE] = { "tcp:idle-closed", "TCP connections closed after tcp idle-timeout without data" },
	[SIP_CTR_TCP_SLOW] = { "tcp:slow-closed", "TCP connections closed: a message not complete within tcp message-timeout" },
	[SIP_CTR_TCP_OVERSIZE] = { "tcp:oversize-closed", "TCP connections closed: a message past tcp max-message-size, or unframable" },
	[SIP_CTR_TCP_STUCK] = { "tcp:stuck-closed", "TCP connections closed: the peer did not read what we sent" },
	[SIP_CTR_MSG_503] = { "msg:busy-503", "MESSAGE requests that would begin a dialog refused with 503 + Retry-After (overload, max-dialogs, store failing, drain)" },
	[SIP_CTR_MSG_503_RAW] = { "msg:busy-503-raw", "Of those, refused from the raw bytes over UDP (the fast path: no parse, no transaction)" },
	[SIP_CTR_RX_KERNEL_DROP] = { "rx:kernel-dropped", "Datagrams the kernel dropped at the UDP socket, its receive buffer full (an overload control input)" },
};

static const struct rate_ctr_group_desc sip_ctrg_desc = {
	.group_name_prefix = "uigw:sip",
	.group_description = "SIP channels (ims-msg, ussi)",
	.class_id = OSMO_STATS_CLASS_GLOBAL,
	.num_ctr = ARRAY_SIZE(sip_ctr_desc),
	.ctr_desc = sip_ctr_desc,
};

/* ---------------------------------------------------------------------------------------------------------- */
/* helpers */


const char *sip_header(const osip_message_t *msg, const char *name)
{
	osip_header_t *h = NULL;

	if (osip_message_header_get_byname(msg, name, 0, &h) < 0 || !h)
		return NULL;
	return h->hvalue;
}

const char *sip_visited_network(const osip_message_t *req)
{
	const char *v = sip_header(req, "P-Visited-Network-ID");

	if (!v)
		return NULL;
	/* RFC 7315: a token or a quoted string (its quotes are not part of the name) */
	if (v[0] == '"') {
		static char name[64];
		size_t n = strcspn(v + 1, "\"");

		if (n >= sizeof(name))
			n = sizeof(name) - 1;
		memcpy(name, v + 1, n);
		name[n] = '\0';
		return name;
	}
	return v;
}

bool sip_roaming(const osip_message_t *req)
{
	const char *v = sip_header(req, "P-Visited-Network-ID");

	if (!v)
		return false;
	LOGP(DSIP, LOGL_INFO, "the subscriber is roaming: P-Visited-Network-ID %s\n", v);
	return true;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* sending */


int sip_send_to(struct uigw_sip *sip, const char *buf, size_t len, const struct sockaddr_in *dst,
		struct sip_conn *conn)
{
	int rc;

	if (conn) {
		rc = sip_conn_write(conn, buf, len);
		if (rc < 0) {
			LOGP(DSIP, LOGL_NOTICE, "TCP write to %s failed: closing\n", inet_ntoa(conn->peer.sin_addr));
			sip_conn_close(conn);
		}
		return rc;
	}
	if (sip->udp.fd < 0)
		return -ENOTCONN;
	if (sendto(sip->udp.fd, buf, len, 0, (const struct sockaddr *)dst, sizeof(*dst)) < 0) {
		rc = -errno;
		LOGP(DSIP, LOGL_ERROR, "sendto %s:%u: %s\n", inet_ntoa(dst->sin_addr), ntohs(dst->sin_port),
		     strerror(-rc));
		return rc;
	}
	return 0;
}

static int cb_send(osip_transaction_t *tr, osip_message_t *msg, char *host, int port, int out_socket)
{
	struct sip_tx *tx = osip_transaction_get_your_instance(tr);
	struct sip_conn *conn = tx ? tx->conn : NULL;
	struct uigw_sip *sip = osip_get_application_context(tr->config);
	struct sockaddr_in dst;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (!sip)
		return -1;
	rc = sip_resolve(sip, host, port, &dst);
	if (rc < 0 && !conn) {
		LOGP(DSIP, LOGL_ERROR, "cannot send to '%s': numeric IPv4 addresses only\n", host ? host : "");
		sip_ctr_inc(sip, SIP_CTR_TX_ERR);
		return -1;
	}
	if (osip_message_to_str(msg, &buf, &len) != 0 || !buf)
		return -1;
	LOGP(DSIP, LOGL_DEBUG, "tx to %s:%d:\n%s\n", host, port, buf);
	rc = sip_send_to(sip, buf, len, &dst, conn);
	osip_free(buf);
	if (rc < 0) {
		sip_ctr_inc(sip, SIP_CTR_TX_ERR);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* running osip */

static void sip_run(struct uigw_sip *sip);

static void timer_cb(void *data)
{
	sip_run(data);
}

static void free_dead(struct uigw_sip *sip)
{
	unsigned int i;

	for (i = 0; i < sip->n_dead; i++) {
		osip_transaction_t *tr = sip->dead[i];
		struct sip_tx *tx = osip_transaction_get_your_instance(tr);
		if (tx) {
			if (tx->owner_ref && *tx->owner_ref == tx)
				*tx->owner_ref = NULL;
			talloc_free(tx);
		}
		osip_transaction_free(tr);
	}
	sip->n_dead = 0;
}

/* Execute events directly on their transaction, in order, never from inside another execution (a callback that
 * answers queues its event here). libosip2's osip_*_execute() walk every live transaction — at a few hundred
 * MESSAGEs per second that is tens of thousands (a UDP NIST lives 32 s) per message; they now run only for the
 * timers, every SIP_TICK_MS. */
static void sip_drain(struct uigw_sip *sip)
{
	sip->running = true;
	while (sip->pending_head < sip->n_pending) {
		struct sip_pending p = sip->pending[sip->pending_head++];

		osip_transaction_execute(p.tr, p.evt);
	}
	sip->n_pending = sip->pending_head = 0;
	free_dead(sip);
	sip->running = false;
}

#define SIP_TICK_MS	20
#define SIP_IDLE_TICK_MS	1000

static void sip_exec(struct uigw_sip *sip, osip_transaction_t *tr, osip_event_t *evt)
{
	/* a transaction lives (or is about to): its timers run every SIP_TICK_MS again */
	if (sip->idle_tick) {
		sip->idle_tick = false;
		osmo_timer_schedule(&sip->timer, 0, SIP_TICK_MS * 1000);
	}
	if (sip->n_pending == sip->pending_cap) {
		unsigned int cap = sip->pending_cap ? 2 * sip->pending_cap : 64;
		struct sip_pending *n = talloc_realloc(sip, sip->pending, struct sip_pending, cap);

		if (!n) {
			/* the periodic run takes it from the transaction's fifo */
			osip_transaction_add_event(tr, evt);
			return;
		}
		sip->pending = n;
		sip->pending_cap = cap;
	}
	sip->pending[sip->n_pending++] = (struct sip_pending){ tr, evt };
	if (!sip->running)
		sip_drain(sip);
}

/* no libosip2 transaction lives (ours, the NICTs of sip_nict.c, run on timers of their own) */
static bool sip_idle(struct uigw_sip *sip)
{
	osip_list_t *lists[4 * SIP_OSIP_POOL];
	int i, n = sip_osip_lists(sip, lists);

	for (i = 0; i < n; i++)
		if (osip_list_size(lists[i]) > 0)
			return false;
	return sip->n_pending == 0;
}

/* The transaction timers (and anything in the transactions' fifos), every SIP_TICK_MS while a transaction lives,
 * else every SIP_IDLE_TICK_MS (the kept responses expire then): an idle gateway does not wake 50 times a
 * second, and libosmocore 1.7, which rounds a timer's remaining time down to whole milliseconds, does not spin
 * through the last millisecond before each tick with poll timeouts of 0. */
static void sip_run(struct uigw_sip *sip)
{
	unsigned int i;

	if (!sip->osip || sip->running)
		return;
	sip->running = true;
	for (i = 0; i < SIP_OSIP_POOL; i++) {
		osip_t *o = sip->pool[i];

		if (!o)
			continue;
		osip_timers_ict_execute(o);
		osip_timers_ist_execute(o);
		osip_timers_nict_execute(o);
		osip_timers_nist_execute(o);
		osip_ict_execute(o);
		osip_ist_execute(o);
		osip_nict_execute(o);
		osip_nist_execute(o);
	}
	sip->running = false;
	sip_drain(sip);
	sip_done_expire(sip, false);
	sip->idle_tick = sip_idle(sip);
	if (sip->idle_tick)
		osmo_timer_schedule(&sip->timer, SIP_IDLE_TICK_MS / 1000, (SIP_IDLE_TICK_MS % 1000) * 1000);
	else
		osmo_timer_schedule(&sip->timer, 0, SIP_TICK_MS * 1000);
}

void sip_respond(struct uigw_sip *sip, struct sip_tx *tx, osip_message_t *resp)
{
	osip_event_t *evt;

	if (!resp)
		return;
	if (!tx->tr) {
		sip_nist_respond(sip, tx, resp);
		return;
	}
	evt = osip_new_outgoing_sipmessage(resp);
	if (!evt) {
		osip_message_free(resp);
		return;
	}
	sip_exec(sip, tx->tr, evt);
}

osip_message_t *sip_response(const osip_message_t *req, int code, const char *to_tag)
{
	osip_message_t *resp;
	osip_generic_param_t *tag = NULL;
	int i;

	if (osip_message_init(&resp) != 0)
		return NULL;
	osip_message_set_version(resp, osip_strdup("SIP/2.0"));
	osip_message_set_status_code(resp, code);
	osip_message_set_reason_phrase(resp, osip_strdup(uigw_sip_reason(code)));
	if (osip_list_clone(&req->vias, &resp->vias, (int (*)(void *, void **))osip_via_clone) != 0 ||
	    osip_from_clone(req->from, &resp->from) != 0 || osip_to_clone(req->to, &resp->to) != 0 ||
	    osip_call_id_clone(req->call_id, &resp->call_id) != 0 || osip_cseq_clone(req->cseq, &resp->cseq) != 0) {
		osip_message_free(resp);
		return NULL;
	}
	osip_to_get_tag(resp->to, &tag);
	if (!tag && to_tag && code > 100)
		osip_to_set_tag(resp->to, osip_strdup(to_tag));
	if (MSG_IS_INVITE(req) && code >= 200 && code < 300) {
		for (i = 0; i < osip_list_size(&req->record_routes); i++) {
			osip_record_route_t *rr = osip_list_get(&req->record_routes, i), *copy = NULL;
			if (osip_record_route_clone(rr, &copy) == 0)
				osip_list_add(&resp->record_routes, copy, -1);
		}
	}
	osip_message_set_header(resp, "Server", "osmo-uigw");
	return resp;
}

void sip_reply(struct uigw_sip *sip, struct sip_tx *tx, const osip_message_t *req, int code)
{
	char *tag = sip_token(sip, sip);

	sip_respond(sip, tx, sip_response(req, code, tag));
	talloc_free(tag);
}

void sip_reply_busy(struct uigw_sip *sip, struct sip_tx *tx, const osip_message_t *req, unsigned int retry_after_s)
{
	char *tag = sip_token(sip, sip), ra[16];
	osip_message_t *resp = sip_response(req, 503, tag);

	snprintf(ra, sizeof(ra), "%u", retry_after_s);
	if (resp)
		osip_message_set_header(resp, "Retry-After", ra);
	sip_respond(sip, tx, resp);
	talloc_free(tag);
}

static int parse_text(const char *text, size_t len, osip_message_t **out)
{
	osip_message_t *msg;

	if (osip_message_init(&msg) != 0)
		return -ENOMEM;
	if (osip_message_parse(msg, text, len) != 0) {
		osip_message_free(msg);
		return -EINVAL;
	}
	*out = msg;
	return 0;
}

int sip_send_request(struct uigw_sip *sip, const char *text, struct sip_conn *conn, sip_resp_cb cb, void *owner,
		     void **owner_ref)
{
	return sip_send_request_len(sip, text, strlen(text), conn, cb, owner, owner_ref);
}

int sip_send_request_len(struct uigw_sip *sip, const char *text, size_t len, struct sip_conn *conn, sip_resp_cb cb,
			 void *owner, void **owner_ref)
{
	osip_message_t *msg;
	osip_transaction_t *tr;
	osip_event_t *evt;
	struct sip_tx *tx;
	int rc;

	if (!sip->osip)
		return -ENOTCONN;
	if (len < 7 || strncmp(text, "INVITE ", 7)) {
		/* a non-INVITE request of our own: its transaction needs only what a scan of the text finds */
		struct uigw_sip_req_info ri;

		if (uigw_sip_scan_request(text, len, &ri) < 0) {
			LOGP(DSIP, LOGL_ERROR, "cannot scan our own request:\n%.*s\n", (int)len, text);
			return -EINVAL;
		}
		return sip_nict_start(sip, &ri, text, len, conn, cb, owner, owner_ref);
	}
	rc = parse_text(text, len, &msg);
	if (rc < 0) {
		LOGP(DSIP, LOGL_ERROR, "cannot parse our own request:\n%s\n", text);
		return rc;
	}
	if (osip_transaction_init(&tr, ICT,
				  sip->pool[1], msg) != 0) {
		osip_message_free(msg);
		return -EINVAL;
	}
	tx = talloc_zero(sip, struct sip_tx);
	if (!tx) {
		osip_remove_transaction(tr->config, tr);
		osip_transaction_free(tr);
		osip_message_free(msg);
		return -ENOMEM;
	}
	sip_tx_set_client(tx, sip, conn, cb, owner, owner_ref);
	if (owner_ref)
		*owner_ref = tx;
	osip_transaction_set_your_instance(tr, tx);
	sip_tx_index(sip, tx, tr, msg, true);
	evt = osip_new_outgoing_sipmessage(msg);
	if (!evt) {
		osip_message_free(msg);
		return -ENOMEM;
	}
	sip_ctr_inc(sip, SIP_CTR_TX_REQ);
	sip_exec(sip, tr, evt);
	return 0;
}


int sip_send_raw(struct uigw_sip *sip, const char *text, struct sip_conn *conn)
{
	osip_message_t *msg;
	struct sockaddr_in dst;
	int rc;

	rc = parse_text(text, strlen(text), &msg);
	if (rc < 0)
		return rc;
	rc = sip_request_dst(sip, msg, &dst);
	osip_message_free(msg);
	if (rc < 0 && !conn) {
		LOGP(DSIP, LOGL_ERROR, "cannot send a request: numeric IPv4 destinations only\n");
		return rc;
	}
	return sip_send_to(sip, text, strlen(text), &dst, conn);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* osip callbacks */

static void tx_final(osip_transaction_t *tr, const osip_message_t *resp, int code)
{
	struct sip_tx *tx = osip_transaction_get_your_instance(tr);

	if (!tx || tx->done)
		return;
	tx->done = true;
	/* the owner's pointer to this tx goes first: the callback may free the owner */
	if (tx->owner_ref && *tx->owner_ref == tx)
		*tx->owner_ref = NULL;
	tx->owner_ref = NULL;
	if (tx->cb && tx->owner)
		tx->cb(tx->sip, tx->owner, resp, code);
}

static void cb_client_final(int type, osip_transaction_t *tr, osip_message_t *msg)
{
	tx_final(tr, msg, msg ? msg->status_code : 0);
}

static void cb_2xx_again(int type, osip_transaction_t *tr, osip_message_t *msg)
{
	struct uigw_sip *sip = osip_get_application_context(tr->config);

	if (sip && msg)
		ussi_rx_2xx_again(sip, msg);
}

static void cb_kill(int type, osip_transaction_t *tr)
{
	struct uigw_sip *sip = osip_get_application_context(tr->config);
	osip_transaction_t **n;

	if (!sip)
		return;
	tx_final(tr, NULL, 408);
	osip_remove_transaction(tr->config, tr);
	if (sip->n_dead == sip->dead_cap) {
		n = talloc_realloc(sip, sip->dead, osip_transaction_t *, sip->dead_cap ? 2 * sip->dead_cap : 16);
		if (!n)
			return;	/* leaks one transaction rather than crash */
		sip->dead = n;
		sip->dead_cap = talloc_array_length(n);
	}
	sip->dead[sip->n_dead++] = tr;
}

static void cb_timeout(int type, osip_transaction_t *tr, osip_message_t *msg)
{
	struct uigw_sip *sip = osip_get_application_context(tr->config);

	if (sip)
		sip_ctr_inc(sip, SIP_CTR_TIMEOUT);
	tx_final(tr, NULL, 408);
}

static void cb_transport_error(int type, osip_transaction_t *tr, int error)
{
	tx_final(tr, NULL, 503);
}

void sip_dispatch(struct uigw_sip *sip, struct sip_tx *tx, osip_message_t *req)
{
	bool from_ok;

	sip_ctr_inc(sip, SIP_CTR_RX_REQ);
	if (MSG_IS_CANCEL(req)) {
		/* every INVITE is answered at once: nothing left to cancel */
		sip_reply(sip, tx, req, 481);
		return;
	}
	if (!sip_trusted(sip, tx, &from_ok)) {
		LOGP(DSIP, LOGL_NOTICE, "%s from untrusted %s:%u refused\n", req->sip_method,
		     inet_ntoa(tx->src.sin.sin_addr), ntohs(tx->src.sin.sin_port));
		sip_ctr_inc(sip, SIP_CTR_UNTRUSTED);
		tx->stateless = true;
		sip_reply(sip, tx, req, 403);
		return;
	}
	if (MSG_IS_INVITE(req)) {
		ussi_rx_invite(sip, tx, req);
	} else if (MSG_IS_MESSAGE(req)) {
		ims_msg_rx(sip, tx, req);
	} else if (MSG_IS_INFO(req) || MSG_IS_BYE(req)) {
		if (!ussi_rx_in_dialog(sip, tx, req))
			sip_reply(sip, tx, req, 481);
	} else if (MSG_IS_OPTIONS(req)) {
		sip_reply(sip, tx, req, 200);
	} else if (MSG_IS_REGISTER(req)) {
		sip_rx_register(sip, tx, req);
	} else {
		sip_reply(sip, tx, req, 405);
	}
}

/* every request a libosip2 server transaction got (INVITEs; RFC 2543 requests without a branch) */
static void cb_request(int type, osip_transaction_t *tr, osip_message_t *req)
{
	struct uigw_sip *sip = osip_get_application_context(tr->config);
	struct sip_tx *tx = osip_transaction_get_your_instance(tr);

	if (!sip || !tx || !req || !req->sip_method)
		return;
	sip_dispatch(sip, tx, req);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* receiving */

static bool complete_enough(const osip_message_t *m)
{
	return m->from && m->to && m->call_id && m->call_id->number && m->cseq && m->cseq->method &&
	       m->cseq->number && osip_list_size(&m->vias) > 0 && (!MSG_IS_REQUEST(m) || (m->req_uri && m->req_uri->host));
}

void sip_rx_msg(struct uigw_sip *sip, const char *buf, size_t len, const struct sockaddr_in *src,
		   struct sip_conn *conn)
{
	osip_event_t *evt;
	osip_transaction_t *tr;
	struct sip_tx *tx;
	char key[256];
	bool indexed;

	if (!sip->osip)
		return;
	evt = osip_parse(buf, len);
	if (!evt || !evt->sip || !complete_enough(evt->sip)) {
		sip_ctr_inc(sip, SIP_CTR_RX_MALFORMED);
		LOGP(DSIP, LOGL_INFO, "malformed SIP message from %s dropped\n", inet_ntoa(src->sin_addr));
		if (evt)
			osip_event_free(evt);
		return;
	}
	LOGP(DSIP, LOGL_DEBUG, "rx from %s:%u:\n%.*s\n", inet_ntoa(src->sin_addr), ntohs(src->sin_port), (int)len,
	     buf);
	if (MSG_IS_RESPONSE(evt->sip)) {
		sip_ctr_inc(sip, SIP_CTR_RX_RESP);
		/* every request the gateway sends has a branch: a response without a transaction is stray (or a
		 * 2xx retransmission) */
		tx = sip_tx_find(sip, evt->sip, true, &indexed);
		if (tx && !tx->tr) {
			sip_nict_response(sip, tx, evt->sip);
			osip_event_free(evt);
		} else if (tx) {
			sip_exec(sip, tx->tr, evt);
		} else {
			/* the ICT ended with the first 2xx: its retransmissions are the dialog's (ACK again) */
			if (!ussi_rx_2xx_again(sip, evt->sip))
				LOGP(DSIP, LOGL_DEBUG, "stray response %d dropped\n", evt->sip->status_code);
			osip_event_free(evt);
		}
		return;
	}
	osip_message_fix_last_via_header(evt->sip, inet_ntoa(src->sin_addr), ntohs(src->sin_port));
	/* one key per request: its transaction, the kept response, and the own NIST's kept response */
	indexed = sip_msg_key(evt->sip, false, key, sizeof(key)) == 0;
	tx = indexed ? sip_tx_find_key(sip, key) : NULL;
	tr = tx ? tx->tr : NULL;
	if (!tr && !indexed)
		tr = __osip_find_transaction(sip->osip, evt, 0);	/* no branch: RFC 2543 matching */
	if (tr) {
		sip_exec(sip, tr, evt);
		return;
	}
	if (indexed && !conn && !MSG_IS_ACK(evt->sip) && sip_done_answer(sip, key)) {
		osip_event_free(evt);	/* a retransmission of a request already answered */
		return;
	}
	if (indexed && sip_nist_takes(evt->sip, key)) {
		sip_nist_rx(sip, evt->sip, key, src, conn);
		osip_event_free(evt);
		return;
	}
	if (MSG_IS_ACK(evt->sip)) {
		/* the ACK of a 2xx: dialog level */
		struct sip_tx fake = { .sip = sip, .src = { .tcp = !!conn, .sin = *src } };
		bool from_ok;
		if (sip_trusted(sip, &fake, &from_ok))
			ussi_rx_in_dialog(sip, NULL, evt->sip);
		osip_event_free(evt);
		return;
	}
	tr = osip_create_transaction(sip->osip, evt);
	if (!tr) {
		sip_ctr_inc(sip, SIP_CTR_RX_MALFORMED);
		osip_event_free(evt);
		return;
	}
	tx = talloc_zero(sip, struct sip_tx);
	if (!tx) {
		osip_remove_transaction(tr->config, tr);
		osip_transaction_free(tr);
		osip_event_free(evt);
		return;
	}
	tx->sip = sip;
	tx->src.tcp = !!conn;
	tx->src.sin = *src;
	tx->conn = conn;
	osip_transaction_set_your_instance(tr, tx);
	sip_tx_index(sip, tx, tr, evt->sip, false);
	sip_exec(sip, tr, evt);
}

/* how long the datagram waited in the kernel (its receive timestamp, SO_TIMESTAMPNS), -1: unknown */
/* the callbacks of one libosip2 instance */
static void osip_setup(osip_t *o, struct uigw_sip *sip)
{
	int t;

	osip_set_application_context(o, sip);
	osip_set_cb_send_message(o, cb_send);
	for (t = OSIP_IST_INVITE_RECEIVED; t <= OSIP_IST_INVITE_RECEIVED; t++)
		osip_set_message_callback(o, t, cb_request);
	osip_set_message_callback(o, OSIP_NIST_REGISTER_RECEIVED, cb_request);
	osip_set_message_callback(o, OSIP_NIST_BYE_RECEIVED, cb_request);
	osip_set_message_callback(o, OSIP_NIST_OPTIONS_RECEIVED, cb_request);
	osip_set_message_callback(o, OSIP_NIST_INFO_RECEIVED, cb_request);
	osip_set_message_callback(o, OSIP_NIST_CANCEL_RECEIVED, cb_request);
	osip_set_message_callback(o, OSIP_NIST_NOTIFY_RECEIVED, cb_request);
	osip_set_message_callback(o, OSIP_NIST_SUBSCRIBE_RECEIVED, cb_request);
	osip_set_message_callback(o, OSIP_NIST_UNKNOWN_REQUEST_RECEIVED, cb_request);
	for (t = OSIP_ICT_STATUS_2XX_RECEIVED; t <= OSIP_ICT_STATUS_6XX_RECEIVED; t++)
		osip_set_message_callback(o, t, t == OSIP_ICT_STATUS_2XX_RECEIVED_AGAIN ? cb_2xx_again : cb_client_final);
	for (t = OSIP_NICT_STATUS_2XX_RECEIVED; t <= OSIP_NICT_STATUS_6XX_RECEIVED; t++)
		if (t != OSIP_NICT_STATUS_2XX_RECEIVED_AGAIN)
			osip_set_message_callback(o, t, cb_client_final);
	osip_set_message_callback(o, OSIP_ICT_STATUS_TIMEOUT, cb_timeout);
	osip_set_message_callback(o, OSIP_NICT_STATUS_TIMEOUT, cb_timeout);
	osip_set_kill_transaction_callback(o, OSIP_ICT_KILL_TRANSACTION, cb_kill);
	osip_set_kill_transaction_callback(o, OSIP_IST_KILL_TRANSACTION, cb_kill);
	osip_set_kill_transaction_callback(o, OSIP_NICT_KILL_TRANSACTION, cb_kill);
	osip_set_kill_transaction_callback(o, OSIP_NIST_KILL_TRANSACTION, cb_kill);
	osip_set_transport_error_callback(o, OSIP_ICT_TRANSPORT_ERROR, cb_transport_error);
	osip_set_transport_error_callback(o, OSIP_NICT_TRANSPORT_ERROR, cb_transport_error);
	osip_set_transport_error_callback(o, OSIP_IST_TRANSPORT_ERROR, cb_transport_error);
	osip_set_transport_error_callback(o, OSIP_NIST_TRANSPORT_ERROR, cb_transport_error);
}

/* every transaction list of every instance; \returns how many */
int sip_osip_lists(struct uigw_sip *sip, osip_list_t **lists)
{
	int i, n = 0;

	for (i = 0; i < SIP_OSIP_POOL; i++) {
		if (!sip->pool[i])
			continue;
		lists[n++] = &sip->pool[i]->osip_ict_transactions;
		lists[n++] = &sip->pool[i]->osip_ist_transactions;
		lists[n++] = &sip->pool[i]->osip_nict_transactions;
		lists[n++] = &sip->pool[i]->osip_nist_transactions;
	}
	return n;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* life cycle */

static void sip_stop(struct uigw_sip *sip)
{
	struct sip_conn *c, *ct;
	osip_list_t *lists[4 * SIP_OSIP_POOL];
	int i, n;

	osmo_timer_del(&sip->timer);
	if (sip->udp.fd >= 0) {
		osmo_fd_unregister(&sip->udp);
		close(sip->udp.fd);
		sip->udp.fd = -1;
	}
	if (sip->tcp.fd >= 0) {
		osmo_fd_unregister(&sip->tcp);
		close(sip->tcp.fd);
		sip->tcp.fd = -1;
	}
	if (!sip->osip)
		return;
	llist_for_each_entry_safe(c, ct, &sip->conns, list)
		sip_conn_close(c);
	sip_tcp_stop(sip);
	sip_nict_stop(sip);
	n = sip_osip_lists(sip, lists);
	free_dead(sip);
	sip_done_expire(sip, true);
	for (i = 0; i < n; i++) {
		while (osip_list_size(lists[i]) > 0) {
			osip_transaction_t *tr = osip_list_get(lists[i], 0);
			struct sip_tx *tx = osip_transaction_get_your_instance(tr);
			osip_remove_transaction(tr->config, tr);
			if (tx) {
				if (tx->owner_ref && *tx->owner_ref == tx)
					*tx->owner_ref = NULL;
				talloc_free(tx);
			}
			osip_transaction_free(tr);
		}
	}
	for (i = 0; i < SIP_OSIP_POOL; i++) {
		if (sip->pool[i])
			osip_release(sip->pool[i]);
		sip->pool[i] = NULL;
	}
	sip->osip = NULL;
}

static int sip_destructor(struct uigw_sip *sip)
{
	ussi_shutdown(sip);
	ims_msg_shutdown(sip);
	sip_stop(sip);
	if (sip->ctrs)
		rate_ctr_group_free(sip->ctrs);
	uigw_sip_alloc_trim();
	return 0;
}

static const struct osmo_tdef sip_tdefs_default[] = {
	{ .T = 1, .default_val = 500, .unit = OSMO_TDEF_MS, .min_val = 50, .max_val = 10000,
	  .desc = "RFC 3261 T1: first retransmission of a request over UDP, round-trip estimate" },
	{ .T = 2, .default_val = 4000, .unit = OSMO_TDEF_MS, .min_val = 100, .max_val = 60000,
	  .desc = "RFC 3261 T2: longest retransmission interval of a non-INVITE request or a 2xx" },
	{}
};

int uigw_sip_init(struct uigw *gw)
{
	struct uigw_sip *sip;

	uigw_sip_alloc_init();
	sip = talloc_zero(gw, struct uigw_sip);
	if (!sip)
		return -ENOMEM;
	sip->gw = gw;
	sip->sms_concat = uigw_concat_alloc(sip, 256, 120, DSIP);
	if (!sip->sms_concat) {
		talloc_free(sip);
		return -ENOMEM;
	}
	sip->udp.fd = -1;
	sip->tcp.fd = -1;
	sip->rx_waited_ms = -1;
	INIT_LLIST_HEAD(&sip->conns);
	INIT_LLIST_HEAD(&sip->done_fifo);
	INIT_LLIST_HEAD(&sip->nicts);
	INIT_LLIST_HEAD(&sip->ussi_sessions);
	INIT_LLIST_HEAD(&sip->msg_sessions);
	INIT_LLIST_HEAD(&sip->cfg.peers);
	sip->cfg.local_ip = talloc_strdup(sip, "127.0.0.1");
	sip->cfg.local_port = 5060;
	sip->cfg.udp = true;
	sip->cfg.tcp = true;
	sip->cfg.tcp_max_conns = 4096;
	sip->cfg.tcp_max_per_peer = 512;
	sip->cfg.tcp_idle_s = 300;
	sip->cfg.tcp_msg_timeout_s = 10;
	sip->cfg.tcp_max_msg = SIP_MAX_MSG;
	sip->cfg.stale_ms = 2000;
	sip->cfg.udp_rcvbuf_kib = SIP_UDP_RCVBUF_KIB;
	sip->cfg.kept_max = SIP_DONE_MAX;
	sip->cfg.enabled = true;
	sip->cfg.proxy_port = 5060;
	sip->ctrs = rate_ctr_group_alloc(sip, &sip_ctrg_desc, 0);
	if (!sip->ctrs || !sip->cfg.local_ip) {
		talloc_free(sip);
		return -ENOMEM;
	}
	sip->tdefs = talloc_memdup(sip, sip_tdefs_default, sizeof(sip_tdefs_default));
	if (!sip->tdefs) {
		talloc_free(sip);
		return -ENOMEM;
	}
	osmo_tdefs_reset(sip->tdefs);
	sip->t1 = osmo_tdef_get_entry(sip->tdefs, 1);
	sip->t2 = osmo_tdef_get_entry(sip->tdefs, 2);
	uigw_tdef_group_add(gw, "sip", "SIP: RFC 3261 T1, T2 of the gateway's own transactions (B, F, H, J = 64*T1)",
			    sip->tdefs, false);
	sip->seen_size = 1 << 16;
	sip->seen = talloc_zero_array(sip, struct sip_seen, sip->seen_size);
	if (!sip->seen) {
		talloc_free(sip);
		return -ENOMEM;
	}
	osmo_timer_setup(&sip->timer, timer_cb, sip);
	uigw_sip_osip_quiet();
	talloc_set_destructor(sip, sip_destructor);
	if (ims_msg_init(sip) < 0 || ussi_init(sip) < 0) {
		talloc_free(sip);
		return -ENOMEM;
	}
	uigw_sip_vty_init();
	return 0;
}

static int open_listeners(struct uigw_sip *sip)
{
	int fd;

	if (sip->cfg.udp) {
		int rc = sip_udp_open(sip);

		if (rc < 0)
			return rc;
	}
	if (sip->cfg.tcp) {
		fd = osmo_sock_init(AF_INET, SOCK_STREAM, IPPROTO_TCP, sip->cfg.local_ip, sip->cfg.local_port,
				    OSMO_SOCK_F_BIND | OSMO_SOCK_F_NONBLOCK);
		if (fd < 0)
			return fd;
		/* osmo_sock_init() listens with a backlog of 10: a burst of connects would wait for SYN retries */
		if (listen(fd, SOMAXCONN) < 0)
			LOGP(DSIP, LOGL_ERROR, "listen(SOMAXCONN): %s\n", strerror(errno));
		osmo_fd_setup(&sip->tcp, fd, OSMO_FD_READ, sip_tcp_accept_cb, sip, 0);
		if (osmo_fd_register(&sip->tcp) < 0) {
			close(fd);
			sip->tcp.fd = -1;
			return -EIO;
		}
	}
	return 0;
}

/* channel ims-msg's open(): the listeners both SIP channels share */
int sip_chan_open(struct uigw_chan *ch)
{
	struct uigw_sip *sip = ch->priv;
	int rc, i;

	sip->started = true;
	if (!sip->cfg.enabled || !sip->cfg.configured) {
		LOGP(DSIP, LOGL_NOTICE, "SIP channels %s\n", sip->cfg.configured ? "disabled in the configuration" :
		     "not configured (no node sip)");
		return 0;
	}
	for (i = 0; i < SIP_OSIP_POOL; i++) {
		if (osip_init(&sip->pool[i]) != 0) {
			for (; i > 0; i--) {
				osip_release(sip->pool[i - 1]);
				sip->pool[i - 1] = NULL;
			}
			return -ENOMEM;
		}
		osip_setup(sip->pool[i], sip);
	}
	sip->osip = sip->pool[0];
	if (sip->cfg.proxy_host && !sip->proxy_resolved)
		uigw_sip_proxy_resolve(sip);

	rc = open_listeners(sip);
	if (rc < 0) {
		LOGP(DSIP, LOGL_ERROR, "cannot open SIP on %s:%u: %s\n", sip->cfg.local_ip, sip->cfg.local_port,
		     strerror(-rc));
		sip_stop(sip);
		return rc;
	}
	LOGP(DSIP, LOGL_NOTICE, "SIP on %s:%u (%s%s%s), domain %s, outbound proxy %s\n", sip->cfg.local_ip,
	     sip->cfg.local_port, sip->cfg.udp ? "UDP" : "", sip->cfg.udp && sip->cfg.tcp ? "+" : "",
	     sip->cfg.tcp ? "TCP" : "", sip->cfg.domain ? sip->cfg.domain : sip->cfg.local_ip,
	     sip->cfg.proxy_host ? sip->cfg.proxy_host : "none");
	osmo_timer_schedule(&sip->timer, 0, 500000);
	return 0;
}

void sip_chan_close(struct uigw_chan *ch)
{
	struct uigw_sip *sip = ch->priv;

	sip->started = false;
	sip_stop(sip);
}

struct uigw_sip_cfg *uigw_sip_cfg(struct uigw_sip *s)
{
	return &s->cfg;
}
