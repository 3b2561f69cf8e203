/*! \file sip_tcp.c
 *  SIP over TCP: accepted connections and the ones the gateway opens, framing by Content-Length, non-blocking
 *  writes with a bounded buffer, and the bounds of node sip's `tcp ...` commands: connections in total and per
 *  peer address, an idle timeout, a time and a size limit per message (slow or oversized senders). */

#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/logging.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/logging.h>
#include "sip_priv.h"

/* what a peer may leave unread before we give up on it: a few of the largest messages */
#define SIP_TCP_MAX_WBUF	(4 * SIP_MAX_MSG)

static void tcp_timer_arm(struct uigw_sip *sip);

static int wbuf_append(struct sip_conn *c, const char *buf, size_t len)
{
	char *n;

	if (c->wlen + len > SIP_TCP_MAX_WBUF) {
		LOGP(DSIP, LOGL_NOTICE, "TCP peer %s:%u does not read what we send (%zu bytes waiting): closing\n",
		     inet_ntoa(c->peer.sin_addr), ntohs(c->peer.sin_port), c->wlen);
		sip_ctr_inc(c->sip, SIP_CTR_TCP_STUCK);
		return -EIO;
	}
	n = talloc_realloc(c, c->wbuf, char, c->wlen + len);
	if (!n)
		return -ENOMEM;
	memcpy(n + c->wlen, buf, len);
	c->wbuf = n;
	c->wlen += len;
	return 0;
}

/* write what waits in wbuf, as far as the socket takes it */
static int wbuf_flush(struct sip_conn *c)
{
	ssize_t rc;

	while (c->wlen) {
		rc = write(c->ofd.fd, c->wbuf, c->wlen);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (rc <= 0)
			return -EIO;
		memmove(c->wbuf, c->wbuf + rc, c->wlen - rc);
		c->wlen -= rc;
	}
	if (c->wlen)
		osmo_fd_write_enable(&c->ofd);
	else {
		osmo_fd_write_disable(&c->ofd);
		TALLOC_FREE(c->wbuf);
	}
	return 0;
}

int sip_conn_write(struct sip_conn *c, const char *buf, size_t len)
{
	ssize_t rc;

	if (c->close_pending)
		return -EIO;
	/* behind what waits already, or while connecting */
	if (c->connecting || c->wlen)
		return wbuf_append(c, buf, len);
	while (len) {
		rc = write(c->ofd.fd, buf, len);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* the peer reads slower than we send: keep the rest (bounded), the loop writes it later */
			if (wbuf_append(c, buf, len) < 0)
				return -EIO;
			osmo_fd_write_enable(&c->ofd);
			return 0;
		}
		if (rc <= 0)
			return -EIO;
		buf += rc;
		len -= rc;
	}
	return 0;
}


/* \returns the length of the first complete message in buf, 0 if incomplete, -1 if unframable */
static ssize_t tcp_frame(const char *buf, size_t len, size_t max)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	size_t hlen, clen = 0;
	const char *p;

	if (!end)
		return len > max ? -1 : 0;
	hlen = end - buf + 4;
	for (p = buf; p && p < end; p = memmem(p, end - p, "\r\n", 2), p = p ? p + 2 : NULL) {
		if (!strncasecmp(p, "Content-Length:", 15) || !strncasecmp(p, "l:", 2)) {
			const char *v = p + (p[1] == ':' ? 2 : 15);
			char *e;
			unsigned long cl = strtoul(v, &e, 10);
			if (cl > max)
				return -1;
			clen = cl;
			break;
		}
	}
	if (hlen + clen > max)
		return -1;
	if (hlen + clen > len)
		return 0;
	return hlen + clen;
}

void sip_conn_close(struct sip_conn *c)
{
	struct uigw_sip *sip = c->sip;
	osip_transaction_t *tr;
	osip_list_t *lists[4 * SIP_OSIP_POOL];
	int i, j, n;

	/* a write failed while one of its messages is handled: closed when conn_cb() is done with it */
	if (c->in_rx) {
		c->close_pending = true;
		return;
	}

	/* transactions that would answer on it now fall back to UDP (and fail) rather than use a freed pointer */
	n = sip_osip_lists(sip, lists);
	for (i = 0; i < n; i++) {
		osip_list_iterator_t it;

		for (tr = osip_list_get_first(lists[i], &it); tr; tr = osip_list_get_next(&it)) {
			struct sip_tx *tx = osip_transaction_get_your_instance(tr);

			if (tx && tx->conn == c)
				tx->conn = NULL;
		}
	}
	for (j = 0; j < (int)sip->n_dead; j++) {
		struct sip_tx *tx = osip_transaction_get_your_instance(sip->dead[j]);
		if (tx && tx->conn == c)
			tx->conn = NULL;
	}
	if (sip->cur_nist && sip->cur_nist->conn == c)
		sip->cur_nist->conn = NULL;
	sip_nict_conn_closed(sip, c);
	ussi_conn_closed(sip, c);
	osmo_fd_unregister(&c->ofd);
	close(c->ofd.fd);
	c->ofd.fd = -1;
	llist_del(&c->list);
	sip->n_conns--;
	talloc_free(c);
}

/* One framed message: while the gateway refuses new dialogs, a MESSAGE that would begin one gets its 503 from
 * the raw bytes back on this connection (sip_fast_refusal(), as over UDP); everything else the full way. */
static void tcp_rx_msg(struct uigw_sip *sip, struct sip_conn *c, size_t len)
{
	char out[2048];
	struct sockaddr_in dst;
	bool admitted;
	int n = sip_fast_refusal(sip, c->buf, len, &c->peer, true, -1, out, sizeof(out), &dst, &admitted);

	if (n > 0) {
		sip_send_to(sip, out, n, &dst, c);	/* a failed write closes the connection after this read */
		return;
	}
	sip->rx_admitted = admitted;
	sip_rx_msg(sip, c->buf, len, &c->peer, c);
	sip->rx_admitted = false;
}

static int conn_cb(struct osmo_fd *ofd, unsigned int what)
{
	struct sip_conn *c = ofd->data;
	struct uigw_sip *sip = c->sip;
	char rbuf[16384];
	ssize_t n, fl;
	bool framed;

	if (c->connecting && (what & OSMO_FD_WRITE)) {
		int err = 0;
		socklen_t el = sizeof(err);

		if (getsockopt(ofd->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
			LOGP(DSIP, LOGL_NOTICE, "TCP connect to %s:%u failed: %s\n", inet_ntoa(c->peer.sin_addr),
			     ntohs(c->peer.sin_port), strerror(err ? err : errno));
			sip_conn_close(c);
			return 0;
		}
		c->connecting = false;
		LOGP(DSIP, LOGL_INFO, "TCP connection to %s:%u up\n", inet_ntoa(c->peer.sin_addr),
		     ntohs(c->peer.sin_port));
	}
	if (what & OSMO_FD_WRITE) {
		if (wbuf_flush(c) < 0) {
			sip_conn_close(c);
			return 0;
		}
	}
	if (!(what & OSMO_FD_READ))
		return 0;
	n = read(ofd->fd, rbuf, sizeof(rbuf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		sip_conn_close(c);
		return 0;
	}
	/* what stays in buf between reads is at most one incomplete message (tcp_frame() refuses a larger one) */
	c->last_rx_ms = uigw_mono_ms();
	c->buf = talloc_realloc(c, c->buf, char, c->len + n + 1);
	if (!c->buf) {
		sip_conn_close(c);
		return 0;
	}
	memcpy(c->buf + c->len, rbuf, n);
	c->len += n;
	c->buf[c->len] = '\0';
	c->in_rx = true;
	framed = false;
	for (;;) {
		/* skip keep-alive CRLFs between messages */
		size_t skip = 0;
		while (skip < c->len && (c->buf[skip] == '\r' || c->buf[skip] == '\n'))
			skip++;
		if (skip) {
			memmove(c->buf, c->buf + skip, c->len - skip + 1);
			c->len -= skip;
		}
		fl = tcp_frame(c->buf, c->len, sip->cfg.tcp_max_msg);
		if (fl < 0) {
			LOGP(DSIP, LOGL_NOTICE, "TCP peer %s: a message past tcp max-message-size %u or without framing: "
			     "closing\n", inet_ntoa(c->peer.sin_addr), sip->cfg.tcp_max_msg);
			sip_ctr_inc(sip, SIP_CTR_TCP_OVERSIZE);
			c->close_pending = true;
			break;
		}
		if (fl == 0)
			break;
		tcp_rx_msg(sip, c, fl);
		memmove(c->buf, c->buf + fl, c->len - fl + 1);
		c->len -= fl;
		framed = true;
		if (c->close_pending)
			break;
	}
	c->in_rx = false;
	if (c->close_pending) {
		sip_conn_close(c);
		return 0;
	}
	/* a message begun and not complete: it has tcp message-timeout from its first bytes (which came with this
	 * read if a message before it ended in it: a peer that pipelines is not slow) */
	if (!c->len)
		c->msg_start_ms = 0;
	else if (framed || !c->msg_start_ms)
		c->msg_start_ms = c->last_rx_ms;
	return 0;
}

static struct sip_conn *conn_add(struct uigw_sip *sip, int fd, const struct sockaddr_in *peer, bool accepted)
{
	struct sip_conn *c = talloc_zero(sip, struct sip_conn);

	if (!c) {
		close(fd);
		return NULL;
	}
	c->sip = sip;
	c->peer = *peer;
	c->accepted = accepted;
	c->connecting = !accepted;
	c->last_rx_ms = uigw_mono_ms();
	osmo_fd_setup(&c->ofd, fd, OSMO_FD_READ | (accepted ? 0 : OSMO_FD_WRITE), conn_cb, c, 0);
	if (osmo_fd_register(&c->ofd) < 0) {
		close(fd);
		talloc_free(c);
		return NULL;
	}
	llist_add_tail(&c->list, &sip->conns);
	sip->n_conns++;
	tcp_timer_arm(sip);
	return c;
}

struct sip_conn *sip_conn_to(struct uigw_sip *sip, const struct sockaddr_in *dst)
{
	struct sip_conn *c;
	int fd;

	llist_for_each_entry(c, &sip->conns, list) {
		if (c->peer.sin_addr.s_addr == dst->sin_addr.s_addr && c->peer.sin_port == dst->sin_port &&
		    !c->close_pending)
			return c;
	}
	if (sip->n_conns >= sip->cfg.tcp_max_conns) {
		LOGP(DSIP, LOGL_ERROR, "TCP connect to %s:%u: tcp max-connections %u are open\n",
		     inet_ntoa(dst->sin_addr), ntohs(dst->sin_port), sip->cfg.tcp_max_conns);
		return NULL;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0)
		return NULL;
	if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) < 0 && errno != EINPROGRESS) {
		LOGP(DSIP, LOGL_NOTICE, "TCP connect to %s:%u: %s\n", inet_ntoa(dst->sin_addr), ntohs(dst->sin_port),
		     strerror(errno));
		close(fd);
		return NULL;
	}
	return conn_add(sip, fd, dst, false);
}

static unsigned int conns_from(struct uigw_sip *sip, in_addr_t addr)
{
	struct sip_conn *c;
	unsigned int n = 0;

	llist_for_each_entry(c, &sip->conns, list)
		n += c->accepted && c->peer.sin_addr.s_addr == addr;
	return n;
}

/* Accept what the backlog holds (a burst of connects is taken in one go, up to 64 per call); a connection past
 * the bounds is closed at once, counted and logged (rate-limited to one line a second). */
int sip_tcp_accept_cb(struct osmo_fd *ofd, unsigned int what)
{
	struct uigw_sip *sip = ofd->data;
	static int64_t last_log_s;
	int i, fd;

	for (i = 0; i < 64; i++) {
		struct sockaddr_in peer;
		socklen_t plen = sizeof(peer);
		const char *why = NULL;

		fd = accept4(ofd->fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				LOGP(DSIP, LOGL_ERROR, "TCP accept: %s\n", strerror(errno));
			return 0;
		}
		if (sip->n_conns >= sip->cfg.tcp_max_conns)
			why = "tcp max-connections";
		else if (conns_from(sip, peer.sin_addr.s_addr) >= sip->cfg.tcp_max_per_peer)
			why = "tcp max-connections-per-peer";
		if (why) {
			sip_ctr_inc(sip, SIP_CTR_TCP_REFUSED);
			if (uigw_mono_s() != last_log_s) {
				last_log_s = uigw_mono_s();
				LOGP(DSIP, LOGL_NOTICE, "TCP connection from %s:%u refused: %s reached\n",
				     inet_ntoa(peer.sin_addr), ntohs(peer.sin_port), why);
			}
			close(fd);
			continue;
		}
		sip_ctr_inc(sip, SIP_CTR_TCP_ACCEPTED);
		if (conn_add(sip, fd, &peer, true))
			LOGP(DSIP, LOGL_INFO, "TCP connection from %s:%u\n", inet_ntoa(peer.sin_addr),
			     ntohs(peer.sin_port));
	}
	return 0;
}

/* Four times a second while connections are open: close the idle ones and those that began a message and did not
 * finish it in time (a slow sender holds a buffer and a descriptor, nothing else: the loop never waits for it). */
static void tcp_timer_cb(void *data)
{
	struct uigw_sip *sip = data;
	struct sip_conn *c, *tmp;
	int64_t now = uigw_mono_ms();

	llist_for_each_entry_safe(c, tmp, &sip->conns, list) {
		if (c->msg_start_ms && now - c->msg_start_ms >= sip->cfg.tcp_msg_timeout_s * 1000LL) {
			LOGP(DSIP, LOGL_NOTICE, "TCP peer %s:%u: a message not complete after %u s (tcp message-timeout): "
			     "closing\n", inet_ntoa(c->peer.sin_addr), ntohs(c->peer.sin_port),
			     sip->cfg.tcp_msg_timeout_s);
			sip_ctr_inc(sip, SIP_CTR_TCP_SLOW);
			sip_conn_close(c);
		} else if (sip->cfg.tcp_idle_s && now - c->last_rx_ms >= sip->cfg.tcp_idle_s * 1000LL) {
			LOGP(DSIP, LOGL_INFO, "TCP connection %s:%u idle for %u s: closing\n",
			     inet_ntoa(c->peer.sin_addr), ntohs(c->peer.sin_port), sip->cfg.tcp_idle_s);
			sip_ctr_inc(sip, SIP_CTR_TCP_IDLE);
			sip_conn_close(c);
		}
	}
	tcp_timer_arm(sip);
}

static void tcp_timer_arm(struct uigw_sip *sip)
{
	if (!sip->tcp_timer.cb)
		osmo_timer_setup(&sip->tcp_timer, tcp_timer_cb, sip);
	if (sip->n_conns && !osmo_timer_pending(&sip->tcp_timer))
		osmo_timer_schedule(&sip->tcp_timer, 0, 250000);
}

void sip_tcp_stop(struct uigw_sip *sip)
{
	if (sip->tcp_timer.cb)
		osmo_timer_del(&sip->tcp_timer);
}
