/*! \file sip.h
 *  Channels `ims-msg` (SIP MESSAGE) and `ussi` (USSD over IMS, TS 24.390): osmo-uigw as an IMS application
 *  server. SIP over UDP and TCP with libosip2's parser and transaction layer, driven by the osmo_select loop
 *  and osmo timers (see doc/ims.md). */
#pragma once

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include <osmocom/core/linuxlist.h>

struct uigw;
struct uigw_sip;
struct vty;

/*! A peer (S-CSCF, test UE) whose requests are accepted. */
struct uigw_sip_peer {
	struct llist_head list;
	char *ip;			/*!< IPv4 address */
	bool from_identity;		/*!< without P-Asserted-Identity, take the subscriber from From */
};

/*! Settings of node `sip`. */
struct uigw_sip_cfg {
	char *local_ip;			/*!< default 127.0.0.1 */
	uint16_t local_port;		/*!< default 5060 */
	bool udp;			/*!< listen on UDP (default yes) */
	bool tcp;			/*!< listen on TCP (default yes) */
	char *domain;			/*!< our SIP domain, used in From of requests we send (default: local_ip) */
	char *proxy_host;		/*!< outbound proxy (S-CSCF): IPv4 address or DNS name, resolved when set and at
					 *   start; NULL: send to the asserted URI */
	uint16_t proxy_port;
	bool proxy_tcp;			/*!< reach the proxy over TCP (one connection, reused) rather than UDP */
	struct llist_head peers;	/*!< struct uigw_sip_peer: trusted sources */
	bool enabled;			/*!< open the listeners at start (default yes) */
	bool configured;		/*!< the configuration has a `sip` node: without one, SIP stays closed */
	/* TCP connections (sip_tcp.c): bounds against floods, idle peers and slow senders */
	unsigned int tcp_max_conns;	/*!< open at most, accepted and our own (default 4096) */
	unsigned int tcp_max_per_peer;	/*!< accepted from one IP address at most (default 512) */
	unsigned int tcp_idle_s;	/*!< a connection silent this long is closed (default 300; 0: never) */
	unsigned int tcp_msg_timeout_s;	/*!< a message begun must be complete within this (default 10) */
	unsigned int tcp_max_msg;	/*!< bytes of one message at most (default and maximum 65535) */
	unsigned int udp_rcvbuf_kib;	/*!< the UDP socket's receive buffer asked of the kernel, KiB (default
					 *   16384; SO_RCVBUFFORCE, else SO_RCVBUF within net.core.rmem_max) */
	unsigned int stale_ms;		/*!< a request that waited this long in the kernel is dropped unread: its
					 *   client has sent it again by then (0: never; default 2000) */
	unsigned int kept_max;		/*!< final responses kept for retransmitted requests at most (UDP, 64*T1;
					 *   default 1000000) */
	bool overload_screen;		/*!< a MESSAGE that would begin a dialog while the gateway refuses new ones
					 *   gets 202 and the busy screen, not 503 + Retry-After (default) */
};

/*! Allocate the adapter, register channels `ims-msg` and `ussi`, install node `sip` and `show sip`.
 *  Call once after uigw_vty_init() and before the configuration is read. \returns 0 or -ENOMEM */
int uigw_sip_init(struct uigw *gw);
/*! Look the outbound proxy's name up (getaddrinfo, IPv4; blocking: configuration time only).
 *  \returns 0, or negative errno with the reason logged */
int uigw_sip_proxy_resolve(struct uigw_sip *s);
/* The listeners open with channel ims-msg (uigw_chans_open() after uigw_start()); the adapter is the priv of
 * both channels: uigw_chan_priv(gw, UIGW_CHAN_IMS_MSG). */
/*! Its settings. */
struct uigw_sip_cfg *uigw_sip_cfg(struct uigw_sip *s);
/*! Print listeners, counters and USSI sessions. */
void uigw_sip_vty_show(struct vty *vty, struct uigw_sip *s);
/*! VTY part (sip_vty.c): node `sip` and `show sip`, once per process. */
void uigw_sip_vty_init(void);

/*! What the allocator behind libosip2 (sip_alloc.c) did. */
struct uigw_sip_alloc_stats {
	uint64_t hits;			/*!< allocations served from a free list */
	uint64_t misses;		/*!< allocations that went to malloc */
	uint64_t cached_bytes;		/*!< bytes on the free lists */
};

void uigw_sip_alloc_init(void);
void uigw_sip_alloc_trim(void);
void uigw_sip_alloc_stats(struct uigw_sip_alloc_stats *st);
