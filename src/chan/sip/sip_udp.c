/*! \file sip_udp.c
 *  The SIP channels' UDP transport: the listener; the reader, which takes datagrams in batches (recvmmsg) with
 *  their kernel receive time (the queue delay of overload control; requests that waited past stale-request-ms are
 *  dropped unread); and the fast path that refuses a new MESSAGE from its raw bytes while the gateway refuses new
 *  dialogs — no libosip2 parse, no transaction, no allocation, the 503s of one batch sent with one sendmmsg(), those
 *  of one length to one address as one UDP GSO send.
 *  The TCP reader (sip_tcp.c) uses the same refusal for each message it frames.
 *  A refusal must cost little next to a dialog, or refusing the excess of a burst eats what the admitted
 *  dialogs need (doc/ims.md "Overload"). */

#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <arpa/inet.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/select.h>
#include <osmocom/core/socket.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/common/number.h>
#include <osmocom/uigw/codec/sip_msg.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/chan.h>
#include <osmocom/uigw/core/dialog.h>
#include "sip_priv.h"

#define RX_BATCH	32	/* datagrams per recvmmsg() */
#define RX_ROUNDS	2	/* batches per wake-up, then the other file descriptors get their turn */
#define TX_SLOT		2048	/* a refusal that does not fit goes the full way */

/* 2 MiB of bss: a page is touched only as far as a datagram reaches */
static char rx_buf[RX_BATCH][SIP_MAX_MSG + 1];

/* the refusals of one batch, sent together */
static struct {
	struct mmsghdr mm[RX_BATCH];
	struct iovec iov[RX_BATCH];
	struct sockaddr_in dst[RX_BATCH];
	char buf[RX_BATCH][TX_SLOT];
	unsigned int n;
} txb;

/* Refusals of one length to one address leave as one UDP GSO send (UDP_SEGMENT, Linux 4.18): the kernel takes them
 * through its stack once and cuts them into datagrams at the end, where each datagram alone costs a pass. The 503s
 * of a batch go to the IMS core's few addresses and most are of one length (the same UE software, Call-IDs and
 * branches of one length); each group is one message of the sendmmsg(), its segments the datagrams in order. */
#ifndef UDP_SEGMENT
#define UDP_SEGMENT	103
#endif
#define GSO_SEGS_MAX	64		/* the kernel's UDP_MAX_SEGMENTS */
#define GSO_BYTES_MAX	60000		/* an IP packet's payload, with room for the headers */
/* a segment must fit the route's MTU, or the kernel refuses the group (EINVAL) and GSO would be off for good: a 503
 * longer than an Ethernet frame's payload (long Via chains) goes alone */
#define GSO_SEG_MAX	1400

static struct {
	struct mmsghdr mm[RX_BATCH];
	struct iovec iov[RX_BATCH];
	union {
		char b[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} ctl[RX_BATCH];
	unsigned int segs[RX_BATCH];
	unsigned int n;
} gso;

/* the batch into groups of one destination and one length; \returns false when there is nothing to gain (no group
 * of two) */
static bool gso_group(void)
{
	bool taken[RX_BATCH] = { false }, any = false;
	unsigned int i, j, k = 0, g;

	gso.n = 0;
	for (i = 0; i < txb.n; i++) {
		size_t len = txb.iov[i].iov_len, bytes = len;

		if (taken[i])
			continue;
		if (len > GSO_SEG_MAX)
			bytes = GSO_BYTES_MAX;	/* no partner */
		g = gso.n++;
		gso.segs[g] = 1;
		gso.iov[k] = txb.iov[i];
		gso.mm[g] = (struct mmsghdr){ .msg_hdr = { .msg_name = &txb.dst[i], .msg_namelen = sizeof(txb.dst[i]),
							   .msg_iov = &gso.iov[k++], .msg_iovlen = 1 } };
		for (j = i + 1; j < txb.n && gso.segs[g] < GSO_SEGS_MAX && bytes + len <= GSO_BYTES_MAX; j++) {
			if (taken[j] || txb.iov[j].iov_len != len ||
			    txb.dst[j].sin_addr.s_addr != txb.dst[i].sin_addr.s_addr ||
			    txb.dst[j].sin_port != txb.dst[i].sin_port)
				continue;
			taken[j] = true;
			gso.iov[k++] = txb.iov[j];
			gso.mm[g].msg_hdr.msg_iovlen++;
			gso.segs[g]++;
			bytes += len;
		}
		if (gso.segs[g] > 1) {
			struct msghdr *mh = &gso.mm[g].msg_hdr;
			struct cmsghdr *cm;
			uint16_t seg = len;

			mh->msg_control = gso.ctl[g].b;
			mh->msg_controllen = sizeof(gso.ctl[g].b);
			cm = CMSG_FIRSTHDR(mh);
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(seg));
			memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
			any = true;
		}
	}
	return any;
}

/* \returns true if the batch went out in groups (else it goes one datagram each) */
static bool tx_flush_gso(struct uigw_sip *sip)
{
	unsigned int done = 0, i;
	int rc;

	if (!sip->udp_gso || txb.n < 2 || !gso_group())
		return false;
	while (done < gso.n && sip->udp.fd >= 0) {
		const struct sockaddr_in *dst;

		rc = sendmmsg(sip->udp.fd, gso.mm + done, gso.n - done, 0);
		if (rc > 0) {
			for (i = done; i < done + (unsigned int)rc; i++)
				sip->gso_sent += gso.segs[i] > 1 ? gso.segs[i] : 0;
			done += rc;
			continue;
		}
		if (rc < 0 && errno == EINTR)
			continue;
		dst = gso.mm[done].msg_hdr.msg_name;
		if (rc < 0 && gso.segs[done] > 1 && (errno == EIO || errno == EINVAL || errno == ENOPROTOOPT)) {
			/* no GSO on this route (no checksum offload, an MTU too small): one datagram each from now on;
			 * this group's datagrams go that way too (a refusal costs more, nothing is lost) */
			LOGP(DSIP, LOGL_NOTICE, "UDP GSO to %s:%u: %s: refusals go one datagram each\n",
			     inet_ntoa(dst->sin_addr), ntohs(dst->sin_port), strerror(errno));
			sip->udp_gso = false;
			gso.mm[done].msg_hdr.msg_control = NULL;
			gso.mm[done].msg_hdr.msg_controllen = 0;
			for (i = 0; i < gso.segs[done]; i++) {
				struct msghdr mh = gso.mm[done].msg_hdr;

				mh.msg_iov += i;
				mh.msg_iovlen = 1;
				if (sendmsg(sip->udp.fd, &mh, 0) < 0)
					sip_ctr_inc(sip, SIP_CTR_TX_ERR);
			}
			done++;
			continue;
		}
		/* this one fails (its client sends again, as after a lost datagram): the next ones go on */
		sip_ctr_inc(sip, SIP_CTR_TX_ERR);
		LOGP(DSIP, LOGL_NOTICE, "sendmmsg to %s:%u: %s\n", inet_ntoa(dst->sin_addr), ntohs(dst->sin_port),
		     rc < 0 ? strerror(errno) : "nothing sent");
		done++;
	}
	txb.n = 0;
	return true;
}

static void tx_flush(struct uigw_sip *sip)
{
	unsigned int done = 0;
	int rc;

	if (tx_flush_gso(sip))
		return;
	while (done < txb.n && sip->udp.fd >= 0) {
		rc = sendmmsg(sip->udp.fd, txb.mm + done, txb.n - done, 0);
		if (rc > 0) {
			done += rc;
			continue;
		}
		if (rc < 0 && errno == EINTR)
			continue;
		/* this one fails (its client sends again, as after a lost datagram): the next ones go on */
		sip_ctr_inc(sip, SIP_CTR_TX_ERR);
		LOGP(DSIP, LOGL_NOTICE, "sendmmsg to %s:%u: %s\n", inet_ntoa(txb.dst[done].sin_addr),
		     ntohs(txb.dst[done].sin_port), rc < 0 ? strerror(errno) : "nothing sent");
		done++;
	}
	txb.n = 0;
}

int sip_fast_refusal(struct uigw_sip *sip, const char *buf, size_t len, const struct sockaddr_in *src, bool tcp,
		     int64_t waited_ms, char *out, size_t out_len, struct sockaddr_in *dst, bool *admitted)
{
	struct uigw *gw = sip->gw;
	struct uigw_sip_raw r;
	struct sip_tx from = { .sip = sip, .src = { .tcp = tcp, .sin = *src } };
	char key[256], msisdn[UIGW_MSISDN_MAXLEN], tag[SIP_TOKEN_LEN];
	bool from_ok;
	int n;

	*admitted = false;
	if (sip->cfg.overload_screen || (!uigw_refusing(gw) && !uigw_overload_late(gw, waited_ms)) || len < 8 ||
	    memcmp(buf, "MESSAGE ", 8))
		return 0;
	if (uigw_sip_raw_scan(buf, len, &r) < 0 || r.received || r.branch.len < 7 ||
	    strncmp(r.branch.p, "z9hG4bK", 7) || uigw_sip_raw_key(&r, key, sizeof(key)) < 0)
		return 0;
	if (sip_tx_find_key(sip, key))
		return 0;
	/* a retransmission of a request answered: the kept answer went again (UDP only: over TCP nothing is sent
	 * twice, and the full path does not look either) */
	if (!tcp && sip_done_answer(sip, key))
		return -1;
	if (!sip_trusted(sip, &from, &from_ok) ||
	    uigw_sip_raw_identity(&r, from_ok, gw->cfg.country_code, gw->cfg.national_prefix, msisdn,
				  sizeof(msisdn)) < 0 ||
	    uigw_dialog_find(gw, msisdn, UIGW_CHAN_IMS_MSG))
		return 0;
	sip_seen_now(sip, msisdn);
	if (uigw_admit_waited(gw, waited_ms) == UIGW_REFUSAL_NONE) {
		*admitted = true;
		return 0;
	}
	/* the sender's address and the Retry-After line as the last refusal made them (most come from one peer) */
	if (src->sin_addr.s_addr != sip->raw_ip_addr || !sip->raw_ip[0]) {
		inet_ntop(AF_INET, &src->sin_addr, sip->raw_ip, sizeof(sip->raw_ip));
		sip->raw_ip_addr = src->sin_addr.s_addr;
	}
	if (gw->overload.cfg.retry_after_s != sip->raw_retry_s || !sip->raw_retry[0]) {
		snprintf(sip->raw_retry, sizeof(sip->raw_retry), "Retry-After: %u\r\n", gw->overload.cfg.retry_after_s);
		sip->raw_retry_s = gw->overload.cfg.retry_after_s;
	}
	sip_token_buf(sip, tag, sizeof(tag));
	n = uigw_sip_raw_response(&r, 503, tag, sip->raw_ip, ntohs(src->sin_port), sip->raw_retry, out, out_len);
	if (n <= 0) {
		/* too large: the full path answers it (admitted stays false, and it is refused again) */
		return 0;
	}
	sip_ctr_inc(sip, SIP_CTR_RX_REQ);
	sip_ctr_inc(sip, SIP_CTR_MSG_503);
	sip_ctr_inc(sip, SIP_CTR_MSG_503_RAW);
	/* RFC 3261 18.2.2 with RFC 3581: to the source address (received), at rport's port, else the sent-by one
	 * (over TCP the caller answers on the connection the request came on) */
	*dst = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr = src->sin_addr,
				     .sin_port = r.rport_at ? src->sin_port : htons(r.top_port ? r.top_port : 5060) };
	LOGP(DSIP, LOGL_DEBUG, "tx to %s:%u (fast path, %s):\n%.*s\n", sip->raw_ip, ntohs(dst->sin_port),
	     tcp ? "TCP" : "UDP", n, out);
	return n;
}

/* the UDP reader's refusal into the batch; \returns true if answered here */
static bool fast_refusal(struct uigw_sip *sip, const char *buf, size_t len, const struct sockaddr_in *src,
			 int64_t age, bool *admitted)
{
	unsigned int i = txb.n;
	int n = sip_fast_refusal(sip, buf, len, src, false, age, txb.buf[i], TX_SLOT, &txb.dst[i], admitted);

	if (n <= 0)
		return n < 0;
	txb.iov[i] = (struct iovec){ .iov_base = txb.buf[i], .iov_len = n };
	txb.mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &txb.dst[i], .msg_namelen = sizeof(txb.dst[i]),
						   .msg_iov = &txb.iov[i], .msg_iovlen = 1 } };
	txb.n++;
	return true;
}

/* \returns how long the datagram waited in the kernel (-1: not known); what the kernel had dropped at the socket
 * when it queued this one (SO_RXQ_OVFL: a count since the socket opened, given once it is not 0) into *drops */
static int64_t rx_meta(const struct msghdr *mh, uint32_t *drops, bool *has_drops)
{
	struct cmsghdr *cm;
	struct timespec now, ts;
	int64_t age = -1;

	*has_drops = false;
	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR((struct msghdr *)mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET)
			continue;
		if (cm->cmsg_type == SO_RXQ_OVFL && cm->cmsg_len >= CMSG_LEN(sizeof(*drops))) {
			memcpy(drops, CMSG_DATA(cm), sizeof(*drops));
			*has_drops = true;
		} else if (cm->cmsg_type == SCM_TIMESTAMPNS && cm->cmsg_len >= CMSG_LEN(sizeof(ts))) {
			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			clock_gettime(CLOCK_REALTIME, &now);
			age = ((int64_t)now.tv_sec - ts.tv_sec) * 1000 + (now.tv_nsec - ts.tv_nsec) / 1000000;
		}
	}
	return age;
}

/* one datagram */
static void udp_rx(struct uigw_sip *sip, char *buf, size_t n, const struct sockaddr_in *src, int64_t age)
{
	bool admitted;

	if (n == 0 || src->sin_family != AF_INET)
		return;
	/* a request that waited this long was sent again by its client meanwhile (T1 = 500 ms): the newer copy gets
	 * the answer; working on this one only delays everything behind it (after a burst the queue drains at the
	 * cost of a read) */
	if (sip->cfg.stale_ms && age >= sip->cfg.stale_ms && n > 8 && memcmp(buf, "SIP/2.0 ", 8)) {
		sip->stale_dropped++;
		return;
	}
	buf[n] = '\0';
	/* keep-alive CRLFs */
	if (n <= 4 && strspn(buf, "\r\n") == n)
		return;
	if (fast_refusal(sip, buf, n, src, age, &admitted))
		return;
	sip->rx_admitted = admitted;
	sip->rx_waited_ms = age;
	sip_rx_msg(sip, buf, n, src, NULL);
	sip->rx_admitted = false;
	sip->rx_waited_ms = -1;
}

static int udp_cb(struct osmo_fd *ofd, unsigned int what)
{
	struct uigw_sip *sip = ofd->data;
	static struct mmsghdr mm[RX_BATCH];
	static struct iovec iov[RX_BATCH];
	static struct sockaddr_in src[RX_BATCH];
	static union {
		char b[CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(uint32_t))];
		struct cmsghdr align;
	} ctl[RX_BATCH];
	int i, n, round;

	for (round = 0; round < RX_ROUNDS && sip->udp.fd >= 0; round++) {
		for (i = 0; i < RX_BATCH; i++) {
			iov[i] = (struct iovec){ .iov_base = rx_buf[i], .iov_len = SIP_MAX_MSG };
			mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &src[i], .msg_namelen = sizeof(src[i]),
							       .msg_iov = &iov[i], .msg_iovlen = 1,
							       .msg_control = ctl[i].b,
							       .msg_controllen = sizeof(ctl[i].b) } };
		}
		n = recvmmsg(ofd->fd, mm, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		for (i = 0; i < n && sip->udp.fd >= 0; i++) {
			uint32_t drops;
			bool has_drops;
			int64_t age = rx_meta(&mm[i].msg_hdr, &drops, &has_drops);

			/* datagrams lost before this one: the gateway reads slower than requests come (overload) */
			if (has_drops && (int32_t)(drops - sip->rx_drops_seen) > 0) {
				uint32_t d = drops - sip->rx_drops_seen;

				sip->rx_drops_seen = drops;
				rate_ctr_add(rate_ctr_group_get_ctr(sip->ctrs, SIP_CTR_RX_KERNEL_DROP), d);
				uigw_overload_rx_dropped(sip->gw, d);
				LOGP(DSIP, LOGL_INFO, "the kernel dropped %u datagrams at the UDP socket (receive buffer full), "
				     "%u since it opened\n", d, drops);
			}

			/* the first of a wake-up waited longest: how far behind the gateway is (overload control) */
			if (!round && !i && age >= 0)
				uigw_overload_delay_sample(sip->gw, age > 60000 ? 60000 : age);
			if (mm[i].msg_hdr.msg_namelen < sizeof(src[i]))
				continue;
			udp_rx(sip, rx_buf[i], mm[i].msg_len, &src[i], age);
		}
		tx_flush(sip);
		if (n < RX_BATCH)
			break;
	}
	return 0;
}

int sip_udp_open(struct uigw_sip *sip)
{
	int fd, sz = (int)OSMO_MIN(sip->cfg.udp_rcvbuf_kib, 1048576u) * 1024, got = 0, one = 1;
	socklen_t gl = sizeof(got);

	fd = osmo_sock_init(AF_INET, SOCK_DGRAM, IPPROTO_UDP, sip->cfg.local_ip, sip->cfg.local_port,
			    OSMO_SOCK_F_BIND | OSMO_SOCK_F_NONBLOCK);
	if (fd < 0)
		return fd;
	/* bursts and the process's stalls must not overflow the socket (udp-receive-buffer): beyond
	 * net.core.rmem_max only with CAP_NET_ADMIN; the kernel reports twice what it grants (its bookkeeping) */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &gl) == 0 && got / 2 < sz)
		LOGP(DSIP, LOGL_NOTICE, "UDP receive buffer: %d KiB granted of udp-receive-buffer %d KiB (no CAP_NET_ADMIN: "
		     "raise net.core.rmem_max); requests past it are dropped by the kernel\n", got / 2 / 1024, sz / 1024);
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0)
		LOGP(DSIP, LOGL_NOTICE, "SO_TIMESTAMPNS: %s (no queue delay for overload control)\n", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)) < 0)
		LOGP(DSIP, LOGL_NOTICE, "SO_RXQ_OVFL: %s (no receive drops for overload control)\n", strerror(errno));
	sip->rx_drops_seen = 0;
	sip->udp_gso = true;	/* until the kernel refuses a group (tx_flush_gso()) */
	osmo_fd_setup(&sip->udp, fd, OSMO_FD_READ, udp_cb, sip, 0);
	if (osmo_fd_register(&sip->udp) < 0) {
		close(fd);
		sip->udp.fd = -1;
		return -EIO;
	}
	return 0;
}
