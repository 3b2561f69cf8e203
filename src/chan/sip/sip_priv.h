/*! \file sip_priv.h
 *  Internals shared by the SIP transport (sip.c, sip_route.c, sip_tx.c, sip_nict.c, sip_nist.c, sip_tcp.c), its VTY
 *  (sip_vty.c), channel ims-msg (ims_msg.c) and channel ussi (ussi.c). */
#pragma once

#include <sys/time.h>
#include <time.h>
#include <netinet/in.h>
#include <osip2/osip.h>
#include <osmocom/core/select.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/hashtable.h>
#include <osmocom/uigw/chan/sip.h>
#include <osmocom/uigw/core/chan.h>
#include <osmocom/uigw/core/trigger.h>
#include <osmocom/uigw/codec/sip_msg.h>
#include <osmocom/uigw/codec/sms_ip.h>

struct uigw_dialog;

enum sip_ctr {
	SIP_CTR_RX_REQ,
	SIP_CTR_RX_RESP,
	SIP_CTR_RX_MALFORMED,
	SIP_CTR_UNTRUSTED,
	SIP_CTR_NO_IDENTITY,
	SIP_CTR_TX_REQ,
	SIP_CTR_TX_ERR,
	SIP_CTR_TIMEOUT,
	SIP_CTR_MSG_IN,
	SIP_CTR_MSG_OUT,
	SIP_CTR_MSG_OUT_FAIL,
	SIP_CTR_USSI_BEGIN,
	SIP_CTR_USSI_INFO_IN,
	SIP_CTR_USSI_INFO_OUT,
	SIP_CTR_USSI_469,
	SIP_CTR_USSI_END,
	SIP_CTR_TCP_ACCEPTED,
	SIP_CTR_TCP_REFUSED,
	SIP_CTR_TCP_IDLE,
	SIP_CTR_TCP_SLOW,
	SIP_CTR_TCP_OVERSIZE,
	SIP_CTR_TCP_STUCK,
	SIP_CTR_MSG_503,
	SIP_CTR_MSG_503_RAW,
	SIP_CTR_RX_KERNEL_DROP,
};

/*! Where a message came from / goes to. */
struct sip_addr {
	bool tcp;
	struct sockaddr_in sin;
};

/*! A TCP connection (accepted, or opened by the gateway to send a request). */
struct sip_conn {
	struct llist_head list;
	struct uigw_sip *sip;
	struct osmo_fd ofd;
	struct sockaddr_in peer;
	char *buf;			/*!< received, not yet framed */
	size_t len;
	bool connecting;		/*!< opened by us, connect() not finished: writes wait in wbuf */
	bool accepted;			/*!< the peer opened it (counts against tcp_max_per_peer) */
	char *wbuf;			/*!< not yet written: while connecting, or what the socket did not take */
	size_t wlen;
	int64_t last_rx_ms;		/*!< monotonic: the last bytes received (idle timeout) */
	int64_t msg_start_ms;		/*!< monotonic: the first bytes of the incomplete message in buf, 0: none */
	bool in_rx;			/*!< its messages are being handled: a close waits until they are */
	bool close_pending;
};

/*! Called once with the final response to a request we sent (resp NULL: timeout / transport error). */
typedef void (*sip_resp_cb)(struct uigw_sip *sip, void *owner, const osip_message_t *resp, int code);

/*! Our data on every osip transaction (its "instance"). */
struct sip_tx {
	struct uigw_sip *sip;
	struct sip_addr src;		/*!< incoming request: where it came from */
	struct sip_conn *conn;		/*!< TCP connection to answer on / send over, or NULL */
	sip_resp_cb cb;			/*!< outgoing request: its final response */
	void *owner;			/*!< NULL once the owner went away */
	void **owner_ref;		/*!< the owner's pointer to this tx, cleared when the tx dies */
	bool done;			/*!< a final response went out / came in */
	const char *nist_key;		/*!< our own NIST (sip_nist.c): its request's key, for the kept response */
	bool stateless;			/*!< its response is not kept for retransmissions (untrusted source) */
	/* the transaction index (sip.c): Via branch + method, so that a message finds its transaction without a
	 * walk over every live one */
	osip_transaction_t *tr;
	struct hlist_node hnode;
	uint32_t hkey;
	char *key;			/*!< "c|s" branch method; NULL: not indexed */
	/* a non-INVITE client transaction of our own (sip_nict.c; tr is NULL): the request as sent, where to,
	 * the retransmission interval (timer E) and the end (timer F) */
	struct llist_head nict_list;
	char *buf;
	size_t len;
	struct sockaddr_in dst;
	struct osmo_fsm_inst *nict_fi;	/*!< "SIP_NICT" (a talloc child of the tx); its timer is E or F */
	uint32_t interval_ms;
	int64_t deadline_ms;
};

#define SIP_OSIP_POOL	2
#define SIP_MAX_MSG	65535
/*! The UDP socket's receive buffer by default, KiB: at 5x the capped gateway's capacity (~15,000 requests/s in
 *  contrib/bench/sip) 4 MiB filled during the process's stalls and the kernel dropped 6,000-63,000 requests a 30-s
 *  burst, each back 500 ms later from its client; 16 MiB dropped none (doc/ims.md "Overload") */
#define SIP_UDP_RCVBUF_KIB	16384
#define SIP_DONE_MAX	1000000	/*!< kept responses at most (~500 MB): 64*T1 of 31,000 requests/s */

struct uigw_sip {
	struct uigw *gw;
	struct uigw_sip_cfg cfg;
	bool started;
	osip_t *osip;
	struct osmo_fd udp;
	struct osmo_fd tcp;
	struct llist_head conns;	/*!< struct sip_conn */
	unsigned int n_conns;
	struct osmo_timer_list tcp_timer;	/*!< idle and slow connections, every 250 ms while any is open */
	struct osmo_timer_list timer;	/*!< drives osip's transaction timers */
	bool running;			/*!< inside sip_run(): no re-entry */
	bool idle_tick;			/*!< no transaction lives: the timer ticks slowly until the next event */
	osip_transaction_t **dead;	/*!< killed transactions, freed after the run */
	unsigned int n_dead, dead_cap;
	struct rate_ctr_group *ctrs;
	struct llist_head ussi_sessions;	/*!< struct ussi_sess (ussi.c) */
	unsigned int n_ussi;
	struct llist_head msg_sessions;	/*!< struct ims_sess (ims_msg.c) */
	unsigned int n_msg;
	uint32_t seq;			/*!< for tags, branches, Call-IDs */
	/* the fast path's refusals (sip_udp.c): the last sender's address as text, the Retry-After line */
	uint32_t raw_ip_addr;
	char raw_ip[INET_ADDRSTRLEN];
	unsigned int raw_retry_s;
	char raw_retry[32];
	DECLARE_HASHTABLE(tx_by_key, 14);	/*!< struct sip_tx by its key */
	/*! libosip2 instances: [0] (= osip) for the INVITE server transactions (and RFC 2543 requests without a
	 *  branch), [1] for the INVITE client ones (the non-INVITE transactions are sip_nict.c's and
	 *  sip_nist.c's). libosip2 walks a transaction list on every insert and
	 *  removal, so the two kinds do not share one. */
	osip_t *pool[SIP_OSIP_POOL];
	struct sip_pending {
		osip_transaction_t *tr;
		osip_event_t *evt;
	} *pending;			/*!< events to execute, in order (see sip_exec()) */
	unsigned int n_pending, pending_cap, pending_head;
	/* final responses of non-INVITE server transactions over UDP, kept 64*T1 to answer retransmitted
	 * requests (RFC 3261 17.2.2 "Completed"; sip_nist.c) */
	/*! 64*T1 of requests: ~600,000 at 20,000/s. 2^19 heads (4 MiB): a new request's lookup (every refusal under
	 *  overload makes one) walks about one entry, where 2^17 made it walk four, each a cache miss */
	DECLARE_HASHTABLE(done_by_key, 19);
	struct llist_head done_fifo;	/*!< struct sip_done, oldest first */
	unsigned int n_done;
	unsigned long done_hits;	/*!< retransmitted requests answered from it */
	unsigned long done_dropped;	/*!< kept responses dropped early: cfg.kept_max reached */
	unsigned long stale_dropped;	/*!< requests dropped unread: older than cfg.stale_ms in the kernel */
	bool udp_gso;			/*!< the fast path's refusals may go in UDP GSO groups (off once refused) */
	unsigned long gso_sent;		/*!< refusals sent as segments of a UDP GSO group */
	uint32_t rx_drops_seen;		/*!< the UDP socket's drop count as the kernel last told it (SO_RXQ_OVFL) */
	bool rx_admitted;		/*!< the message being handled was admitted by the fast path's uigw_admit()
					 *   (sip_udp.c): ims_msg_rx() does not draw again */
	int64_t rx_waited_ms;		/*!< how long the message being handled waited in the kernel (UDP), -1: not
					 *   known (overload max-wait) */
	struct uigw_concat *sms_concat;	/*!< concatenated SMS over IP being reassembled (ims_msg.c) */
	struct llist_head nicts;	/*!< struct sip_tx of our own non-INVITE client transactions (sip_nict.c) */
	unsigned int n_nict;
	struct sip_tx *cur_nist;	/*!< the own NIST whose request is being handled (sip_nist.c), or NULL */
	struct sockaddr_in proxy_addr;	/*!< cfg.proxy_host looked up (uigw_sip_proxy_resolve()) */
	bool proxy_resolved;
	struct osmo_tdef *tdefs;	/*!< T1, T2 (timer group sip) */
	struct osmo_tdef *t1, *t2;	/*!< into tdefs: read on every transaction, so no lookup */
	struct uigw_chan *chan_msg;	/*!< channel ims-msg */
	struct uigw_chan *chan_ussi;	/*!< channel ussi */
	/*! Subscribers seen on IMS (a request from them, a third-party REGISTER): direct-mapped by a hash of the
	 *  MSISDN; a collision forgets one. A trigger without `via` reaches a subscriber seen here over IMS. */
	struct sip_seen {
		uint64_t key;		/*!< hash of the MSISDN, 0: free */
		int64_t until;		/*!< monotonic seconds */
	} *seen;
	unsigned int seen_size;		/*!< power of two */
};

/*! The owner's side of a client transaction: where it goes and who hears its final response. */
static inline void sip_tx_set_client(struct sip_tx *tx, struct uigw_sip *sip, struct sip_conn *conn, sip_resp_cb cb,
				     void *owner, void **owner_ref)
{
	tx->sip = sip;
	tx->conn = conn;
	tx->cb = cb;
	tx->owner = owner;
	tx->owner_ref = owner_ref;
}

static inline void sip_ctr_inc(struct uigw_sip *sip, enum sip_ctr c)
{
	rate_ctr_inc2(sip->ctrs, c);
}

/* sip.c */
/*! Send a response (built by sip_response(); consumed) to the request of server transaction \a tx: our own
 *  NIST's, or queued on libosip2's transaction. */
void sip_respond(struct uigw_sip *sip, struct sip_tx *tx, osip_message_t *resp);
/*! A request that reached its server transaction (\a tx): to its channel, or answered here. */
void sip_dispatch(struct uigw_sip *sip, struct sip_tx *tx, osip_message_t *req);
/*! Build a response to \a req: copies Via, From, To (adds \a to_tag if To has none), Call-ID, CSeq;
 *  Record-Route too for 2xx to INVITE. \returns the message or NULL */
osip_message_t *sip_response(const osip_message_t *req, int code, const char *to_tag);
/*! A message from UDP or a TCP connection (\a conn): to its transaction, a new one, or the dialog layer. */
/*! The overload fast path (sip_udp.c): a MESSAGE that would begin a dialog while the gateway refuses new ones
 *  gets its 503 (Retry-After) built from the raw bytes into \a out, to go to \a dst (UDP) or back on its
 *  connection (TCP) — no libosip2 parse, no transaction. The full path keeps requests of a dialog under way,
 *  retransmissions, untrusted sources, anything the raw scan does not take, and busy-screen mode.
 *  \returns the response's length; 0: the full path's (with *admitted set if uigw_admit() admitted it, drawn
 *  once); -1: a retransmission already answered again (UDP). \a waited_ms: how long it waited in the kernel (-1:
 *  not known); past `overload max-wait` a new dialog's request is refused even while the gateway admits. */
int sip_fast_refusal(struct uigw_sip *sip, const char *buf, size_t len, const struct sockaddr_in *src, bool tcp,
		     int64_t waited_ms, char *out, size_t out_len, struct sockaddr_in *dst, bool *admitted);
void sip_rx_msg(struct uigw_sip *sip, const char *buf, size_t len, const struct sockaddr_in *src,
		struct sip_conn *conn);
/*! Every transaction list of every libosip2 instance into \a lists (room for 4 * SIP_OSIP_POOL).
 *  \returns how many */
int sip_osip_lists(struct uigw_sip *sip, osip_list_t **lists);
/*! Respond \a code with no body. */
void sip_reply(struct uigw_sip *sip, struct sip_tx *tx, const osip_message_t *req, int code);
/*! Answer 503 Service Unavailable with Retry-After (overload control). */
void sip_reply_busy(struct uigw_sip *sip, struct sip_tx *tx, const osip_message_t *req, unsigned int retry_after_s);
/*! Send a request (text of a full SIP request) in a new client transaction. \a owner_ref (may be NULL) is set to
 *  the tx and cleared when it ends. \returns 0 or negative errno */
int sip_send_request(struct uigw_sip *sip, const char *text, struct sip_conn *conn, sip_resp_cb cb, void *owner,
		     void **owner_ref);
/*! The same for a request with a binary body: \a len bytes. */
int sip_send_request_len(struct uigw_sip *sip, const char *text, size_t len, struct sip_conn *conn, sip_resp_cb cb,
			 void *owner, void **owner_ref);
/*! Send a message outside any transaction (ACK to a 2xx). \returns 0 or negative errno */
int sip_send_raw(struct uigw_sip *sip, const char *text, struct sip_conn *conn);
/*! Send bytes to an address (UDP) or over \a conn (TCP), outside any transaction (2xx retransmissions). */
int sip_send_to(struct uigw_sip *sip, const char *buf, size_t len, const struct sockaddr_in *dst,
		struct sip_conn *conn);
/*! A new random token for tags, branches and Call-IDs (talloc child of ctx). */
char *sip_token(void *ctx, struct uigw_sip *sip);
#define SIP_TOKEN_LEN	24	/*!< 12 hex digits and a sequence number */
/*! The same into \a buf (SIP_TOKEN_LEN), without an allocation */
void sip_token_buf(struct uigw_sip *sip, char *buf, size_t len);
/*! \returns whether the source of \a tx may send requests; *from_identity: whether From may identify */
bool sip_trusted(struct uigw_sip *sip, const struct sip_tx *tx, bool *from_identity);
/*! Value of a header, or NULL. */
const char *sip_header(const osip_message_t *msg, const char *name);
/* a request that carries P-Visited-Network-ID (TS 24.229 7.2A.3) comes from a roaming subscriber */
bool sip_roaming(const osip_message_t *req);
/*! The visited network a roaming subscriber's request names (P-Visited-Network-ID without its quotes), or NULL.
 *  Valid until the next call. */
const char *sip_visited_network(const osip_message_t *req);

/* sip_tx.c: the transaction index and the completed non-INVITE server transactions */
/*! Index \a tx (of transaction \a tr, request \a m) by Via branch + method; client or server side. */
void sip_tx_index(struct uigw_sip *sip, struct sip_tx *tx, osip_transaction_t *tr, const osip_message_t *m,
		  bool client);
/*! Index our own client transaction \a tx by the \a branch and CSeq \a method of its request. */
void sip_tx_index_branch(struct uigw_sip *sip, struct sip_tx *tx, const char *branch, const char *method);
/*! The transaction key of \a m: "c"lient or "s"erver, the top Via's branch, the CSeq method (ACK: INVITE).
 *  \returns 0, or negative errno if \a m has no branch */
int sip_msg_key(const osip_message_t *m, bool client, char *out, size_t len);
/*! \returns the live transaction of key \a key, NULL if none */
struct sip_tx *sip_tx_find_key(struct uigw_sip *sip, const char *key);
/*! \returns the live transaction of message \a m, NULL if none; *indexed false when \a m has no branch */
struct sip_tx *sip_tx_find(struct uigw_sip *sip, const osip_message_t *m, bool client, bool *indexed);
/*! A final response of a UDP NIST went out: keep it 64*T1 for retransmissions of the request keyed \a key. */
void sip_done_add(struct uigw_sip *sip, const char *key, const char *buf, size_t len, const struct sockaddr_in *dst);
/*! A retransmitted request (key \a key) whose transaction completed: answered again. \returns true if it was one */
bool sip_done_answer(struct uigw_sip *sip, const char *key);
/*! Drop the kept responses past their time (all of them with \a all). */
void sip_done_expire(struct uigw_sip *sip, bool all);

/* sip_nict.c: non-INVITE client transactions (RFC 3261 17.1.2) without libosip2's lists */
/* RFC 3261 T1 and T2 of the gateway's own transactions are sip->t1->val and sip->t2->val (ms; group `sip` of
 * the `timer` command: timer sip T1 500); timers B, F, H and J are 64*T1. libosip2's INVITE transactions keep
 * libosip2's own defaults. */
/*! Send request \a text (\a len bytes; scanned into \a ri) in a new non-INVITE client transaction.
 *  \returns 0 or negative errno */
int sip_nict_start(struct uigw_sip *sip, const struct uigw_sip_req_info *ri, const char *text, size_t len,
		   struct sip_conn *conn, sip_resp_cb cb, void *owner, void **owner_ref);
/*! A response to our own NICT \a tx: a final one ends it (the owner's callback runs). */
void sip_nict_response(struct uigw_sip *sip, struct sip_tx *tx, const osip_message_t *resp);
/*! Connection \a c closes: its transactions lose it. */
void sip_nict_conn_closed(struct uigw_sip *sip, struct sip_conn *c);
/*! End every NICT (shutdown): no callback. */
void sip_nict_stop(struct uigw_sip *sip);

/* sip_nist.c: non-INVITE server transactions (RFC 3261 17.2.2), answered while their request is handled */
/*! \returns whether a request keyed \a key (sip_msg_key()) goes to an own NIST: non-INVITE, not ACK, with an
 *  RFC 3261 branch */
bool sip_nist_takes(const osip_message_t *req, const char *key);
/*! A new request \a req (no retransmission; key \a key) from \a src / over \a conn: handled and answered. */
void sip_nist_rx(struct uigw_sip *sip, osip_message_t *req, const char *key, const struct sockaddr_in *src,
		 struct sip_conn *conn);
/*! Send response \a resp (consumed) of own NIST \a tx. */
void sip_nist_respond(struct uigw_sip *sip, struct sip_tx *tx, osip_message_t *resp);

/* sip_tcp.c: TCP connections */
/*! Write to a connection (queued while it is still connecting). \returns 0 or negative errno */
int sip_conn_write(struct sip_conn *c, const char *buf, size_t len);
/*! Close a connection; transactions that would answer on it fall back to UDP. */
void sip_conn_close(struct sip_conn *c);
/*! The TCP listener's callback: accept connections (within node sip's `tcp` bounds). */
int sip_tcp_accept_cb(struct osmo_fd *ofd, unsigned int what);
/*! Stop the idle / slow-sender timer (the channel closes). */
void sip_tcp_stop(struct uigw_sip *sip);
/*! A TCP connection to \a dst: an open one (accepted or ours) to that address and port, else a new one
 *  (non-blocking connect; what is written before it is up waits). \returns it or NULL */
struct sip_conn *sip_conn_to(struct uigw_sip *sip, const struct sockaddr_in *dst);

/* sip_route.c: where requests and responses go */
/*! Numeric IPv4 \a host, "localhost", or the outbound proxy's name, and \a port (<= 0: 5060).
 *  \returns 0 or negative errno */
int sip_resolve(struct uigw_sip *sip, const char *host, int port, struct sockaddr_in *sin);
/*! Where a request goes: the first Route (an outbound proxy's loose route), else the Request-URI.
 *  \returns 0 or negative errno (a host that is no numeric IPv4 address) */
int sip_request_dst(struct uigw_sip *sip, const osip_message_t *msg, struct sockaddr_in *dst);
/*! "sip:host:port;transport=..." of our listener, for Contact headers (static buffer). */
const char *sip_local_uri(struct uigw_sip *sip, bool tcp);
/*! Via header value for a request we send (with a new branch; talloc child of ctx). */
char *sip_via(void *ctx, struct uigw_sip *sip, bool tcp);
/*! Route header line ("Route: <sip:proxy;lr>\r\n") if an outbound proxy is set, else "". */
char *sip_proxy_route(void *ctx, struct uigw_sip *sip);
/*! With `outbound-proxy ... tcp`: the TCP connection to the proxy (opened if needed), else NULL (UDP). */
struct sip_conn *sip_proxy_conn(struct uigw_sip *sip);
/*! The TCP connection a request to \a target goes over (opened if needed): the proxy's with `outbound-proxy
 *  ... tcp`; without a proxy, when \a target asks for TCP (";transport=tcp", numeric IPv4 host) and the gateway
 *  listens on TCP. NULL: UDP. */
struct sip_conn *sip_target_conn(struct uigw_sip *sip, const char *target);

/*! The subscriber was seen on IMS: reachable there for \a secs (0: forget, a de-registration). */
void sip_seen(struct uigw_sip *sip, const char *msisdn, unsigned int secs);
/*! A request from the subscriber: reachable on IMS for timer X4. */
void sip_seen_now(struct uigw_sip *sip, const char *msisdn);
/*! \returns true if \a msisdn was seen on IMS and that has not expired */
bool sip_is_seen(struct uigw_sip *sip, const char *msisdn);
/*! The address of a pushed dialog: the trigger's `to`, else sip:MSISDN@domain (through the outbound proxy) */
const char *sip_push_target(struct uigw_sip *sip, const char *msisdn, const char *to, char *buf, size_t len);
/*! Channel ops shared by ims-msg and ussi (the listeners open and close with ims-msg). */
int sip_chan_open(struct uigw_chan *ch);
/*! Open and register the UDP listener (sip_udp.c). \returns 0 or a negative errno */
int sip_udp_open(struct uigw_sip *sip);
void sip_chan_close(struct uigw_chan *ch);
/*! A third-party REGISTER (TS 24.229 5.4.1.7) from the S-CSCF: the registered identity is reachable on IMS
 *  for its Expires (de-registration: no longer). Answered 200. */
void sip_rx_register(struct uigw_sip *sip, struct sip_tx *tx, osip_message_t *req);
enum uigw_reach sip_chan_reach(struct uigw_chan *ch, const char *msisdn);
void sip_chan_show(struct uigw_chan *ch, struct vty *vty);

/* ims_msg.c */
int ims_msg_init(struct uigw_sip *sip);
void ims_msg_rx(struct uigw_sip *sip, struct sip_tx *tx, osip_message_t *req);

/* ussi.c */
int ussi_init(struct uigw_sip *sip);
void ussi_rx_invite(struct uigw_sip *sip, struct sip_tx *tx, osip_message_t *req);
/*! In-dialog request (INFO, BYE) or ACK (tx NULL). \returns true if it belonged to a USSI session */
bool ussi_rx_in_dialog(struct uigw_sip *sip, struct sip_tx *tx, osip_message_t *req);
/*! A 2xx to an INVITE without a transaction: if it is a retransmission of the UE's 2xx to our INVITE, our ACK
 *  goes out again. \returns true if it was one */
bool ussi_rx_2xx_again(struct uigw_sip *sip, const osip_message_t *resp);
void ussi_conn_closed(struct uigw_sip *sip, struct sip_conn *c);
void ussi_vty_show(struct vty *vty, struct uigw_sip *sip);
void ussi_shutdown(struct uigw_sip *sip);
void ims_msg_shutdown(struct uigw_sip *sip);
