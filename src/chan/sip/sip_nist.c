/*! \file sip_nist.c
 *  Non-INVITE server transactions (RFC 3261 17.2.2) of our own: the MESSAGEs, INFOs, BYEs and OPTIONS the
 *  gateway receives. Every one of them is answered before its request's handler returns (the channels never
 *  defer a response), so the transaction needs no state while it is "Trying":
 *
 *  - the request goes to the dispatch (sip.c) with a struct sip_tx that lives as long as that call;
 *  - a provisional response is sent and forgotten (none of the handlers sends one);
 *  - the final response goes to the top Via's received address and rport (else its sent-by port), or back over
 *    the TCP connection, and over UDP is kept 64*T1 in the completed-transaction cache (sip_tx.c), which
 *    answers the request's retransmissions: the "Completed" state. Over TCP timer J is zero. Responses to
 *    untrusted sources (403) are not kept: a flood of them must not fill the memory, and a retransmission is
 *    refused again just as cheaply;
 *  - a handler that returns without a final response is a bug: the request gets a 500, and a log line.
 *
 *  libosip2's NIST allocates ~15 KB per transaction and keeps it on a list walked at every insert and timer run;
 *  at thousands of MESSAGEs a second that was a sixth of the gateway's time. Requests without an RFC 3261
 *  branch (magic cookie z9hG4bK) still go to libosip2, whose RFC 2543 matching this does not repeat. */

#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/logging.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/common/logging.h>
#include "sip_priv.h"

/* the key is "s <branch> <method>": an RFC 3261 branch starts with the magic cookie */
bool sip_nist_takes(const osip_message_t *req, const char *key)
{
	return !MSG_IS_INVITE(req) && !MSG_IS_ACK(req) && !strncmp(key + 2, "z9hG4bK", 7);
}

/* RFC 3261 18.2.2 (with RFC 3581): the received address, the rport, else the sent-by port */
static int via_dst(struct uigw_sip *sip, const osip_message_t *resp, struct sockaddr_in *dst)
{
	osip_via_t *via = osip_list_get(&resp->vias, 0);
	osip_generic_param_t *received = NULL, *rport = NULL;
	const char *host;
	int port;

	if (!via || !via->host)
		return -EINVAL;
	osip_via_param_get_byname(via, "received", &received);
	osip_via_param_get_byname(via, "rport", &rport);
	host = received && received->gvalue ? received->gvalue : via->host;
	if (rport && rport->gvalue && *rport->gvalue)
		port = atoi(rport->gvalue);
	else
		port = via->port ? atoi(via->port) : 5060;
	return sip_resolve(sip, host, port, dst);
}

void sip_nist_respond(struct uigw_sip *sip, struct sip_tx *tx, osip_message_t *resp)
{
	struct sockaddr_in dst = {};
	char *buf = NULL;
	size_t len = 0;
	bool final = resp->status_code >= 200;
	int rc;

	if (tx->done) {
		LOGP(DSIP, LOGL_ERROR, "a second final response (%d) to one request dropped\n", resp->status_code);
		goto out;
	}
	if (!tx->conn && via_dst(sip, resp, &dst) < 0) {
		LOGP(DSIP, LOGL_ERROR, "cannot answer: the Via is no numeric IPv4 address\n");
		sip_ctr_inc(sip, SIP_CTR_TX_ERR);
		tx->done = final;
		goto out;
	}
	if (osip_message_to_str(resp, &buf, &len) != 0 || !buf) {
		sip_ctr_inc(sip, SIP_CTR_TX_ERR);
		goto out;
	}
	tx->done = final;
	LOGP(DSIP, LOGL_DEBUG, "tx to %s:%u%s:\n%s\n", inet_ntoa(dst.sin_addr), ntohs(dst.sin_port),
	     tx->conn ? " (tcp)" : "", buf);
	rc = sip_send_to(sip, buf, len, &dst, tx->conn);
	if (rc < 0)
		sip_ctr_inc(sip, SIP_CTR_TX_ERR);
	/* "Completed": even if this send failed, a retransmitted request gets the same response */
	if (final && !tx->src.tcp && tx->nist_key && !tx->stateless)
		sip_done_add(sip, tx->nist_key, buf, len, &dst);
	osip_free(buf);
out:
	osip_message_free(resp);
}

void sip_nist_rx(struct uigw_sip *sip, osip_message_t *req, const char *key, const struct sockaddr_in *src,
		 struct sip_conn *conn)
{
	struct sip_tx tx = {
		.sip = sip,
		.src = { .tcp = !!conn, .sin = *src },
		.conn = conn,
		.nist_key = key,
	};
	struct sip_tx *prev = sip->cur_nist;

	/* a connection closed while the request is handled (a failed write) must not leave tx.conn dangling */
	sip->cur_nist = &tx;
	sip_dispatch(sip, &tx, req);
	if (!tx.done) {
		LOGP(DSIP, LOGL_ERROR, "%s handled without a final response: 500\n", req->sip_method);
		sip_reply(sip, &tx, req, 500);
	}
	sip->cur_nist = prev;
}
