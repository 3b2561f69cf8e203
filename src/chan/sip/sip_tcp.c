/*! \file sip_tcp.c
 *  SIP over TCP: accepted connections and the ones the gateway opens, framing by Content-Length,
 *  buffered writes while connecting. */

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
#include <osmocom/uigw/common/logging.h>
#include "sip_priv.h"

int sip_conn_write(struct sip_conn *c, const char *buf, size_t len)
{
	ssize_t rc;

	if (c->connecting) {
		char *n = talloc_realloc(c, c->wbuf, char, c->wlen + len);

		if (!n)
			return -ENOMEM;
		memcpy(n + c->wlen, buf, len);
		c->wbuf = n;
		c->wlen += len;
		return 0;
	}
	/* SIP messages are small: a short blocking write is acceptable; a stuck peer is dropped */
	while (len) {
		rc = write(c->ofd.fd, buf, len);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			return -EIO;
		buf += rc;
		len -= rc;
	}
	return 0;
}


/* \returns the length of the first complete message in buf, 0 if incomplete, -1 if unframable */
static ssize_t tcp_frame(const char *buf, size_t len)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	size_t hlen, clen = 0;
	const char *p;

	if (!end)
		return len > SIP_MAX_MSG ? -1 : 0;
	hlen = end - buf + 4;
	for (p = buf; p && p < end; p = memmem(p, end - p, "\r\n", 2), p = p ? p + 2 : NULL) {
		if (!strncasecmp(p, "Content-Length:", 15) || !strncasecmp(p, "l:", 2)) {
			const char *v = p + (p[1] == ':' ? 2 : 15);
			char *e;
			unsigned long cl = strtoul(v, &e, 10);
			if (cl > SIP_MAX_MSG)
				return -1;
			clen = cl;
			break;
		}
	}
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
	talloc_free(c);
}

static int conn_cb(struct osmo_fd *ofd, unsigned int what)
{
	struct sip_conn *c = ofd->data;
	char rbuf[16384];
	ssize_t n, fl;

	if (c->connecting && (what & OSMO_FD_WRITE)) {
		int err = 0, fl2;
		socklen_t el = sizeof(err);

		if (getsockopt(ofd->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
			LOGP(DSIP, LOGL_NOTICE, "TCP connect to %s:%u failed: %s\n", inet_ntoa(c->peer.sin_addr),
			     ntohs(c->peer.sin_port), strerror(err ? err : errno));
			sip_conn_close(c);
			return 0;
		}
		/* connected: from now on short blocking writes, like on an accepted connection */
		c->connecting = false;
		osmo_fd_write_disable(ofd);
		fl2 = fcntl(ofd->fd, F_GETFL);
		if (fl2 >= 0)
			fcntl(ofd->fd, F_SETFL, fl2 & ~O_NONBLOCK);
		LOGP(DSIP, LOGL_INFO, "TCP connection to %s:%u up\n", inet_ntoa(c->peer.sin_addr),
		     ntohs(c->peer.sin_port));
		if (c->wlen && sip_conn_write(c, c->wbuf, c->wlen) < 0) {
			sip_conn_close(c);
			return 0;
		}
		TALLOC_FREE(c->wbuf);
		c->wlen = 0;
		if (!(what & OSMO_FD_READ))
			return 0;
	}
	if (!(what & OSMO_FD_READ))
		return 0;
	n = read(ofd->fd, rbuf, sizeof(rbuf));
	if (n <= 0) {
		sip_conn_close(c);
		return 0;
	}
	if (c->len + n > SIP_TCP_MAX_BUF) {
		LOGP(DSIP, LOGL_NOTICE, "TCP peer %s sends unframable data: closing\n", inet_ntoa(c->peer.sin_addr));
		sip_conn_close(c);
		return 0;
	}
	c->buf = talloc_realloc(c, c->buf, char, c->len + n + 1);
	if (!c->buf) {
		sip_conn_close(c);
		return 0;
	}
	memcpy(c->buf + c->len, rbuf, n);
	c->len += n;
	c->buf[c->len] = '\0';
	for (;;) {
		/* skip keep-alive CRLFs between messages */
		size_t skip = 0;
		while (skip < c->len && (c->buf[skip] == '\r' || c->buf[skip] == '\n'))
			skip++;
		if (skip) {
			memmove(c->buf, c->buf + skip, c->len - skip + 1);
			c->len -= skip;
		}
		fl = tcp_frame(c->buf, c->len);
		if (fl < 0) {
			sip_conn_close(c);
			return 0;
		}
		if (fl == 0)
			break;
		sip_rx_msg(c->sip, c->buf, fl, &c->peer, c);
		/* rx_msg never closes the connection it came on */
		memmove(c->buf, c->buf + fl, c->len - fl + 1);
		c->len -= fl;
	}
	return 0;
}

struct sip_conn *sip_conn_to(struct uigw_sip *sip, const struct sockaddr_in *dst)
{
	struct sip_conn *c;
	int fd;

	llist_for_each_entry(c, &sip->conns, list) {
		if (c->peer.sin_addr.s_addr == dst->sin_addr.s_addr && c->peer.sin_port == dst->sin_port)
			return c;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TCP);
	if (fd < 0)
		return NULL;
	if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) < 0 && errno != EINPROGRESS) {
		LOGP(DSIP, LOGL_NOTICE, "TCP connect to %s:%u: %s\n", inet_ntoa(dst->sin_addr), ntohs(dst->sin_port),
		     strerror(errno));
		close(fd);
		return NULL;
	}
	c = talloc_zero(sip, struct sip_conn);
	if (!c) {
		close(fd);
		return NULL;
	}
	c->sip = sip;
	c->peer = *dst;
	c->connecting = true;
	osmo_fd_setup(&c->ofd, fd, OSMO_FD_READ | OSMO_FD_WRITE, conn_cb, c, 0);
	if (osmo_fd_register(&c->ofd) < 0) {
		close(fd);
		talloc_free(c);
		return NULL;
	}
	llist_add_tail(&c->list, &sip->conns);
	return c;
}

int sip_tcp_accept_cb(struct osmo_fd *ofd, unsigned int what)
{
	struct uigw_sip *sip = ofd->data;
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	struct sip_conn *c;
	int fd;

	fd = accept(ofd->fd, (struct sockaddr *)&peer, &plen);
	if (fd < 0)
		return 0;
	c = talloc_zero(sip, struct sip_conn);
	if (!c) {
		close(fd);
		return 0;
	}
	c->sip = sip;
	c->peer = peer;
	osmo_fd_setup(&c->ofd, fd, OSMO_FD_READ, conn_cb, c, 0);
	if (osmo_fd_register(&c->ofd) < 0) {
		close(fd);
		talloc_free(c);
		return 0;
	}
	llist_add_tail(&c->list, &sip->conns);
	LOGP(DSIP, LOGL_INFO, "TCP connection from %s:%u\n", inet_ntoa(peer.sin_addr), ntohs(peer.sin_port));
	return 0;
}

