/*! \file map_ipa.c
 *  Channel map: batched reads and writes on the IPA links of libosmo-sigtran's client ASPs.
 *
 *  libosmo-sigtran 1.6 reads an IPA client link with libosmocore's ipa_msg_recv_buffered(): one recv() for the
 *  3-byte header and one for the payload, one message per wake-up of the loop; libosmo-netif 1.2's stream client
 *  sends one queued message per wake-up. Under load that is a poll(), two recv() and a send() per SCCP message,
 *  the largest part of the gateway's CPU per MAP step (doc/map.md "Benchmark").
 *
 *  Here the link's osmo_fd callback is wrapped. On a read, one recv() takes whatever the kernel holds (up to
 *  64 KiB) and the complete IPA frames in it are handed to the library one by one as its pending message
 *  (asp->pending_msg, a public field: ipa_msg_recv_buffered() returns a complete pending frame without reading);
 *  the library's own read path does the rest (CCM, SCCP, routing) as before, and a partial frame waits in the
 *  buffer. On a write (poll() found room), the library's send queue is drained in the same wake-up, up to what
 *  surely fits in the socket's buffer, corked when several messages wait so that they leave in one segment.
 *  Nothing of the library's state is touched besides pending_msg, which is empty between frames; the connecting
 *  state, a closed or failed socket and frames the library refuses take the library's own path. Installed by
 *  map_link_tune() once a second, so an ASP restarted from the VTY gets it too. Client ASPs only (the gateway's
 *  side of an STP link); tests/map/map_ipa_test.c runs it on the real library. */

#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <osmocom/core/bit16gen.h>
#include <osmocom/core/msgb.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/select.h>
#include <osmocom/core/talloc.h>
#include <osmocom/gsm/ipa.h>
#include <osmocom/gsm/protocol/ipaccess.h>
#include <osmocom/netif/stream.h>
#include <osmocom/sigtran/osmo_ss7.h>

#include "map_priv.h"

/* The send buffer asked for (the kernel doubles it, up to net.core.wmem_max): poll() reports the socket writable
 * only with a third of it free, and the burst sent in one wake-up is what surely fits in that third. */
#define MAP_IPA_SNDBUF		(512 * 1024)
#define MAP_IPA_TX_BURST_MAX	64
/* what a queued message can take of the send buffer at most: a frame and the kernel's overhead of its skb */
#define MAP_IPA_TX_COST		(MAP_IPA_FRAME_MAX + 1024)
#define MAP_IPA_RXBUF		(64 * 1024)
/* libosmocore's bound on an IPA frame (IPA_ALLOC_SIZE in ipa.c): a longer one is the library's to refuse */
#define MAP_IPA_FRAME_MAX	1200

struct map_ipa_link {
	struct llist_head list;
	struct uigw_map *owner;
	struct osmo_ss7_asp *asp;
	struct osmo_stream_cli *cli;
	struct osmo_fd *ofd;
	int (*orig_cb)(struct osmo_fd *ofd, unsigned int what);
	int fd;			/*!< the connection the buffer belongs to */
	unsigned int tx_burst;	/*!< queued messages sent in one wake-up at most */
	size_t len;		/*!< bytes in buf */
	uint8_t buf[MAP_IPA_RXBUF];
};

static LLIST_HEAD(map_ipa_links);
/* libosmo-netif's callback of a stream client (one function for all): for a link no longer known here */
static int (*stream_cli_cb)(struct osmo_fd *ofd, unsigned int what);

static struct map_ipa_link *link_by_ofd(struct osmo_fd *ofd)
{
	struct map_ipa_link *l;

	llist_for_each_entry(l, &map_ipa_links, list)
		if (l->ofd == ofd)
			return l;
	return NULL;
}

static bool link_up(struct map_ipa_link *l)
{
	return osmo_stream_cli_is_connected(l->cli) && l->ofd->fd == l->fd;
}

/* A new connection of the link: the buffer was the old one's; a send buffer that a burst of tx_burst
 * messages always fits. */
static void link_new_fd(struct map_ipa_link *l)
{
	int sndbuf = MAP_IPA_SNDBUF;
	socklen_t len = sizeof(sndbuf);

	l->len = 0;
	l->fd = l->ofd->fd;
	l->tx_burst = 1;
	if (l->fd < 0)
		return;
	if (setsockopt(l->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) < 0
	    || getsockopt(l->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len) < 0) {
		LOGP(DMAP, LOGL_NOTICE, "IPA link of ASP %s: send buffer not set (%s), one message a wake-up\n",
		     l->asp->cfg.name, strerror(errno));
		return;
	}
	l->tx_burst = OSMO_MAX(1, OSMO_MIN(MAP_IPA_TX_BURST_MAX, sndbuf / 3 / MAP_IPA_TX_COST));
}

/* Hands the complete frames of the buffer to the library; keeps a partial one. */
static void rx_frames(struct map_ipa_link *l)
{
	size_t off = 0;

	while (l->len - off >= sizeof(struct ipaccess_head) && link_up(l)) {
		const struct ipaccess_head *hh = (const struct ipaccess_head *)(l->buf + off);
		size_t plen = osmo_load16be(&hh->len);
		size_t flen = sizeof(*hh) + plen;
		struct msgb *msg;

		if (flen <= MAP_IPA_FRAME_MAX && l->len - off < flen)
			break;
		/* an SCCP frame's message is only read (its data copied into an xua message): no larger than the frame,
		 * which keeps it in the allocator's per-thread cache; the rest as libosmocore allocates them */
		if (flen <= MAP_IPA_FRAME_MAX && hh->proto == IPAC_PROTO_SCCP)
			msg = msgb_alloc_headroom(flen + sizeof(*hh), sizeof(*hh), "IPA Multiplex");
		else
			msg = ipa_msg_alloc(0);
		if (!msg)
			break;
		msg->l1h = msg->tail;
		if (flen > MAP_IPA_FRAME_MAX) {
			/* the header alone: the library refuses the length and reconnects, as it always did */
			memcpy(msgb_put(msg, sizeof(*hh)), hh, sizeof(*hh));
			msg->l2h = msg->tail;
			off = l->len;
		} else {
			memcpy(msgb_put(msg, flen), hh, flen);
			msg->l2h = msg->l1h + sizeof(*hh);
			off += flen;
		}
		l->asp->pending_msg = msg;
		l->orig_cb(l->ofd, OSMO_FD_READ);
		if (l->asp->pending_msg == msg) {
			/* not taken (cannot happen with libosmocore 1.7's reader): drop it rather than feed it twice */
			l->asp->pending_msg = NULL;
			msgb_free(msg);
		}
	}
	if (!link_up(l)) {
		l->len = 0;
		return;
	}
	if (off) {
		memmove(l->buf, l->buf + off, l->len - off);
		l->len -= off;
	}
}

static int map_ipa_fd_cb(struct osmo_fd *ofd, unsigned int what)
{
	struct map_ipa_link *l = link_by_ofd(ofd);
	static const int one = 1, zero = 0;
	unsigned int n;
	bool cork;

	if (!l)
		return stream_cli_cb(ofd, what);
	if (ofd->fd != l->fd)
		link_new_fd(l);
	if (!osmo_stream_cli_is_connected(l->cli)) {
		/* connecting: the library's own path */
		l->len = 0;
		return l->orig_cb(ofd, what);
	}
	if (what & OSMO_FD_READ) {
		ssize_t rc = recv(ofd->fd, l->buf + l->len, sizeof(l->buf) - l->len, 0);

		if (rc > 0) {
			l->len += rc;
			rx_frames(l);
		} else if (rc == 0 || (errno != EAGAIN && errno != EINTR)) {
			/* closed or failed: the library reads it again and closes the link as it does */
			l->len = 0;
			l->orig_cb(ofd, OSMO_FD_READ);
			return 0;
		}
	}
	/* only when poll() found room: the library drops a message that the socket does not take */
	if (!(what & OSMO_FD_WRITE) || !(ofd->when & OSMO_FD_WRITE) || !link_up(l))
		return 0;
	/* several messages: one segment for them (the corked socket sends when uncorked) */
	cork = l->owner->tx_queued >= 2 && l->tx_burst > 1;
	if (cork)
		setsockopt(ofd->fd, IPPROTO_TCP, TCP_CORK, &one, sizeof(one));
	for (n = 0; n < l->tx_burst && (ofd->when & OSMO_FD_WRITE) && link_up(l); n++)
		l->orig_cb(ofd, OSMO_FD_WRITE);
	if (cork && link_up(l))
		setsockopt(ofd->fd, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero));
	l->owner->tx_queued = 0;
	return 0;
}

/* Out of the list whenever it is freed (its map with it, or the sweep below): the list is the callback's only way
 * to it, and a link not in it takes libosmo-netif's own path. */
static int link_destructor(struct map_ipa_link *l)
{
	llist_del(&l->list);
	return 0;
}

static void link_install(struct uigw_map *m, struct osmo_ss7_asp *asp)
{
	struct osmo_fd *ofd = osmo_stream_cli_get_ofd(asp->client);
	struct map_ipa_link *l = link_by_ofd(ofd);

	if (ofd->cb == map_ipa_fd_cb)
		return;
	/* in the middle of a frame read by the library: next time */
	if (asp->pending_msg)
		return;
	if (!l) {
		l = talloc_zero(m, struct map_ipa_link);
		if (!l)
			return;
		llist_add(&l->list, &map_ipa_links);
		talloc_set_destructor(l, link_destructor);
	}
	l->owner = m;
	l->asp = asp;
	l->cli = asp->client;
	l->ofd = ofd;
	l->orig_cb = ofd->cb;
	stream_cli_cb = ofd->cb;
	link_new_fd(l);
	ofd->cb = map_ipa_fd_cb;
}

void map_ipa_tune(struct uigw_map *m, struct osmo_ss7_instance *inst)
{
	struct osmo_ss7_asp *asp;
	struct map_ipa_link *l, *tmp;

	/* forget the links of ASPs gone or recreated */
	llist_for_each_entry_safe(l, tmp, &map_ipa_links, list) {
		bool found = false;

		if (l->owner != m)
			continue;
		llist_for_each_entry(asp, &inst->asp_list, list)
			if (asp == l->asp && asp->client == l->cli)
				found = true;
		if (!found)
			talloc_free(l);
	}
	llist_for_each_entry(asp, &inst->asp_list, list)
		if (asp->client && asp->cfg.proto == OSMO_SS7_ASP_PROT_IPA)
			link_install(m, asp);
}
