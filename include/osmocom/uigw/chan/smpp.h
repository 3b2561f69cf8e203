/*! \file smpp.h
 *  Channels `smpp-sms` and `smpp-ussd`: osmo-uigw as an SMPP 3.4 ESME. Links to one or more SMSCs (each an
 *  osmo_fsm: connect, bind_transceiver, enquire_link, reconnect with backoff), one MT queue shared by the links
 *  (window per link, response timer per request, THROTTLED/MSGQFUL answered by backing off and retrying), and
 *  the SMS channel on top (see doc/smpp.md). */
#pragma once

#include <stdint.h>
#include <stdbool.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/write_queue.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/common/vty_nodes.h>
#include <osmocom/uigw/codec/smpp_codec.h>

struct uigw;
struct uigw_smpp;
struct uigw_smpp_link;
struct vty;

/*! VTY nodes `smpp` and its `smsc NAME` sub-nodes (after the core's and gsup's nodes). */

/*! How USSD sessions are told apart and ended (per link). */
enum uigw_smpp_dialect {
	UIGW_SMPP_DIALECT_STD,		/*!< ussd_service_op 2 continue / 17 end + its_session_info correlation */
	UIGW_SMPP_DIALECT_ITS_END,	/*!< end-of-session only in its_session_info bit 0; op always 2 */
};

/*! What data_coding 0 (SMSC default alphabet) means on a link. */
enum uigw_smpp_alphabet {
	UIGW_SMPP_ALPHA_GSM7,	/*!< GSM 03.38, one septet per octet */
	UIGW_SMPP_ALPHA_LATIN1,	/*!< ISO 8859-1 */
	UIGW_SMPP_ALPHA_IA5,	/*!< ASCII */
};

/*! How a reply longer than one SMS is sent. */
enum uigw_smpp_long_mode {
	UIGW_SMPP_LONG_UDH,	/*!< one submit_sm per part, UDH concatenation (default) */
	UIGW_SMPP_LONG_SAR,	/*!< one submit_sm per part, SAR TLVs */
	UIGW_SMPP_LONG_PAYLOAD,	/*!< one submit_sm with message_payload */
};

/*! Link states (osmo_fsm). */
enum uigw_smpp_link_state {
	SMPP_ST_DOWN,		/*!< not connected; waiting for the reconnect backoff */
	SMPP_ST_CONNECTING,	/*!< TCP connect in progress */
	SMPP_ST_BINDING,	/*!< bind_transceiver sent */
	SMPP_ST_BOUND,		/*!< bound: submits flow */
};

/*! Counters per link: a rate_ctr group "smpp_link" per link, named after it (reach statsd and CTRL like every
 *  other counter: rate_ctr.abs.smpp_link.N.submit:ok). */
enum uigw_smpp_link_ctr {
	SMPP_LINK_CTR_CONNECTS,
	SMPP_LINK_CTR_BINDS,
	SMPP_LINK_CTR_BIND_FAILS,
	SMPP_LINK_CTR_DISCONNECTS,
	SMPP_LINK_CTR_TX_SUBMIT,
	SMPP_LINK_CTR_TX_SUBMIT_OK,
	SMPP_LINK_CTR_TX_SUBMIT_ERR,
	SMPP_LINK_CTR_TX_THROTTLED,
	SMPP_LINK_CTR_TX_TIMEOUT,
	SMPP_LINK_CTR_RX_DELIVER,
	SMPP_LINK_CTR_RX_BAD,
	SMPP_LINK_CTR_TX_NACK,
	SMPP_LINK_CTR_RX_NACK,
};

/*! A link's receive buffer: one read() takes at most one largest PDU's worth (~30 short PDUs). Larger reads (16 and
 *  64 KiB) cut the loop's system calls in a burst by 45-60 %, but began hundreds of dialogs in one callback: after
 *  a reconnect the SMSC's backlog came in at once, the store's backlog jumped and overload control refused new
 *  dialogs (chaos.sh's kill -9 phase, smpp_faults' burst in CI; doc/smpp.md "Overload"). */
#define UIGW_SMPP_RX_BUF	UIGW_SMPP_MAX_PDU

/*! One SMSC link. */
struct uigw_smpp_link {
	struct llist_head list;		/*!< in smpp->links, by priority */
	struct uigw_smpp *smpp;
	struct osmo_fsm_inst *fi;
	char *name;
	/* configuration */
	char *remote_ip;
	uint16_t remote_port;
	char *system_id;
	char *password;
	char *system_type;
	unsigned int priority;		/*!< lower is preferred */
	unsigned int window;		/*!< outstanding requests */
	unsigned int enquire_interval;	/*!< seconds; 0: none */
	unsigned int rate;		/*!< submit_sm per second; 0: unlimited */
	enum uigw_smpp_dialect dialect;
	enum uigw_smpp_alphabet alphabet;
	bool enabled;
	/* state */
	struct osmo_wqueue wq;		/*!< socket + write queue */
	uint8_t rx[UIGW_SMPP_RX_BUF];	/*!< one read takes up to this much: many PDUs when the link is behind */
	unsigned int rx_len;
	uint32_t next_seq;
	struct llist_head inflight;	/*!< struct uigw_smpp_req awaiting a response */
	unsigned int n_inflight;
	unsigned int backoff;		/*!< current reconnect delay, ms */
	struct osmo_timer_list enquire_timer;
	struct osmo_timer_list pace_timer;	/*!< rate limit / throttle backoff: no submit before it fires */
	bool paced;
	int64_t last_rx_ms;
	int64_t behind_since_ms;	/*!< monotonic: the socket has held unread data since (0: read empty) */
	uint64_t rx_bytes;		/*!< read since rx_rate_ms ... */
	int64_t rx_rate_ms;		/*!< monotonic: ... */
	unsigned int rx_rate;		/*!< bytes per second read, smoothed (0: not known yet) */
	int64_t bound_ms;		/*!< monotonic: bound since */
	int64_t wait_ms;		/*!< the queue delay at the last read: what a deliver_sm read now waited and
					 *   what its reply will wait (the input's delay, or the MT queue's if longer) */
	unsigned int tokens;		/*!< submits left in the current second */
	int64_t tokens_sec;
	struct rate_ctr_group *ctrs;	/*!< enum uigw_smpp_link_ctr */
};

struct uigw_smpp_req;
/*! A queued submit_sm is done (status 0: accepted by the SMSC with message_id; else a permanent error). */
typedef void (*uigw_smpp_done_cb)(struct uigw_smpp_req *req, uint32_t status, const char *message_id);

/*! One MT request in the shared queue or in a link's window. talloc child of the smpp object. */
struct uigw_smpp_req {
	struct llist_head list;
	struct uigw_smpp_link *link;	/*!< link it is in flight on, or NULL while queued */
	struct uigw_smpp_pdu pdu;	/*!< sequence is set when sent */
	struct osmo_timer_list timer;	/*!< response timer */
	unsigned int attempts;
	uigw_smpp_done_cb done;
	void *priv;
	/* the persistent MT queue (smpp_mtq.c) */
	int64_t mt_id;			/*!< row in mt_queue, 0: not persistent */
	uint64_t dialog;		/*!< dialog it belongs to, 0: none */
	int64_t expires_ms;		/*!< wall clock; past it the request is dropped, 0: never */
	bool last;			/*!< the dialog's last message: its end does not drop it */
	bool dead;			/*!< its dialog ended while it was in flight: drop it if it comes back */
	bool restart;			/*!< sent again after a restart (a final SMS, a USSN notice) */
	bool marking, marked;		/*!< mt-in-doubt drop: its "may be sent" mark is being / was committed */
	int64_t queued_ms;		/*!< monotonic: first queued */
};

/*! How an MT is kept until the SMSC accepted it. */
struct uigw_smpp_mt {
	enum uigw_channel channel;
	uint64_t dialog;		/*!< 0: not part of a dialog */
	bool last;			/*!< the dialog's last message (sent even though the dialog ends) */
	bool restart;			/*!< still sent after a restart (a final SMS, a USSN notice) */
	unsigned int ttl_s;		/*!< seconds it may wait for a link before it is dropped */
};

/*! A deliver_sm arrived (already answered with deliver_sm_resp by the link unless the handler returns a
 *  non-zero command_status to put into it). */
typedef uint32_t (*uigw_smpp_rx_cb)(struct uigw_smpp_link *link, const struct uigw_smpp_pdu *pdu);

/*! The SMPP adapter. */
struct uigw_smpp {
	struct uigw *gw;
	struct llist_head links;
	struct llist_head queue;	/*!< struct uigw_smpp_req not yet sent, oldest first */
	unsigned int queue_len;
	uint64_t mt_sent;		/*!< submit_sm sent since mt_rate_ms ... */
	int64_t mt_rate_ms;		/*!< monotonic: ... */
	unsigned int mt_rate;		/*!< submit_sm sent per second, smoothed (0: not known yet) */
	bool started;
	unsigned int next_link_idx;	/*!< index of the next link's rate_ctr group */
	enum uigw_smpp_long_mode long_mode;
	char *sms_source;		/*!< source address of replies when none is known: default short code */
	uint16_t roaming_tlv;		/*!< the vendor TLV in which the SMSC tells the sender's location (VLR / MSC
					 *   number or network name), 0: none */
	char *roaming_home;		/*!< space-separated prefixes of home locations; NULL: the TLV's presence
					 *   alone says roaming */
	bool request_dlr;		/*!< registered_delivery 1 on MT */
	bool overload_screen;		/*!< an SMS that would begin a dialog while the gateway takes no new ones gets
					 *   the busy text, not deliver_sm_resp ESME_RTHROTTLED (default) */
	unsigned long mo_throttled;	/*!< SMS refused with ESME_RTHROTTLED for it */
	unsigned int max_attempts;	/*!< submits of one MT before it is dropped (THROTTLED does not count) */
	struct osmo_tdef *tdefs;
	uigw_smpp_rx_cb rx_cb;
	struct uigw_smpp_sms *sms;	/*!< the SMS channel state */
	unsigned long mt_dropped, mt_dropped_ended, dlr_rx;
	unsigned long optouts, optins, ussd_mo, ussd_mt, ussd_bad;	/*!< opt-out keywords: node uigw (core/optout.h) */
	/* the persistent MT queue (smpp_mtq.c) */
	int64_t next_mt_id;
	bool mt_loaded;			/*!< the rows of the last run were read */
	unsigned long mt_stored, mt_store_err, mt_restored, mt_dropped_restart, mt_expired;
	/* mt-in-doubt drop: an MT that a restart would send again is marked in the store before it goes to a link;
	 * after a restart the marked ones are in doubt (the SMSC may have taken them) and dropped, not sent twice */
	bool mt_in_doubt_drop;
	bool mt_marking;		/*!< a job of marks is out (one at a time: the queue waits behind it) */
	struct osmo_timer_list mt_mark_timer;	/*!< marks again after a failed job */
	unsigned long mt_in_doubt, mt_marks;	/*!< dropped in doubt after a restart; marks committed */
};

/*! Timers (osmo_tdef of the smpp adapter, configured with `timer` in node smpp). */
enum uigw_smpp_timer {
	SMPP_T_CONNECT = -101,	/*!< TCP connect, ms */
	SMPP_T_BIND = -102,	/*!< bind response, ms */
	SMPP_T_RESP = -103,	/*!< submit_sm / enquire_link response, ms */
	SMPP_T_RECONNECT = -104,	/*!< first reconnect delay, ms (doubles up to 30 s) */
	SMPP_T_THROTTLE = -105,	/*!< pause after THROTTLED / MSGQFUL, ms */
	SMPP_T_INACTIVITY = -106,	/*!< no PDU from the SMSC for this long: drop the link, ms */
	SMPP_T_MT_VALIDITY = -107,	/*!< a dialog's last message waits at most this long for a link, s */
};

/*! Allocate the adapter, register channels smpp-sms (and smpp-ussd), install VTY nodes. Call after
 *  uigw_vty_init() and before the configuration is read. \returns 0 or -ENOMEM */
int uigw_smpp_init(struct uigw *gw);
/*! Start every enabled link (channel smpp-sms's open(), after uigw_start()). Links without an SMSC retry.
 *  \returns 0 */
int uigw_smpp_open(struct uigw_smpp *smpp);
/*! Stop every link, drop queued requests (channel smpp-sms's close(), at shutdown). */
void uigw_smpp_close(struct uigw_smpp *smpp);
/* The adapter is the priv of both channels: uigw_chan_priv(gw, UIGW_CHAN_SMPP_SMS). */

/*! Find or create a link by name (VTY). */
struct uigw_smpp_link *uigw_smpp_link_get(struct uigw_smpp *smpp, const char *name, bool create);
/*! Restart a link after its settings changed (drop, reconnect if enabled and started). */
void uigw_smpp_link_restart(struct uigw_smpp_link *link);
/*! Start a link (connect). */
void uigw_smpp_link_start(struct uigw_smpp_link *link);
/*! \returns true if the link is bound */
bool uigw_smpp_link_bound(const struct uigw_smpp_link *link);

/*! Queue a submit_sm (the pdu is copied; command_id and sequence are set by the link). The request is retried
 *  on link loss, timeout and THROTTLED until accepted; done() is called once with the final status.
 *  \returns the request (talloc child of smpp) or NULL */
struct uigw_smpp_req *uigw_smpp_submit(struct uigw_smpp *smpp, const struct uigw_smpp_pdu *pdu,
				       uigw_smpp_done_cb done, void *priv);
/*! Queue a request allocated by the caller (talloc child of smpp, pdu filled) at the tail of the MT queue. */
void uigw_smpp_req_queue(struct uigw_smpp *smpp, struct uigw_smpp_req *req);
/*! Forget the callback of a queued/in-flight request (its owner went away); it is still sent. */
void uigw_smpp_req_orphan(struct uigw_smpp_req *req);

/*! Queue an MT the user must get (reply, push, confirmation): like uigw_smpp_submit(), and also written to the
 *  persistent MT queue (the store's mt_queue table) until the SMSC accepted it or it was dropped, so that it
 *  survives a link loss and, if \a mt->restart, a restart. Nothing waits for the write: the request goes out
 *  at once. \returns the request or NULL */
struct uigw_smpp_req *uigw_smpp_submit_mt(struct uigw_smpp *smpp, const struct uigw_smpp_pdu *pdu,
					  const struct uigw_smpp_mt *mt);
/*! A dialog ended without its screens (timeout, abort, release, replaced): its queued messages are dropped and
 *  counted (mt_dropped_ended), the ones in flight are dropped if they come back. The dialog's last message
 *  stays. \returns how many were dropped at once */
unsigned int uigw_smpp_mt_drop_dialog(struct uigw_smpp *smpp, uint64_t dialog);
/*! The request left the queue for good (accepted, dropped): delete its row (smpp_link.c calls it). */
void uigw_smpp_mt_forget(struct uigw_smpp *smpp, struct uigw_smpp_req *req);
/*! \returns true if the request must not be sent any more (expired, or its dialog ended); it is then freed
 *  and counted (smpp_link.c calls it before each send). */
bool uigw_smpp_mt_stale(struct uigw_smpp *smpp, struct uigw_smpp_req *req);
/*! mt-in-doubt drop: must \a req (at the head of the queue) wait before it is handed to a link, because its mark
 *  is not committed yet? Then the marks of the queue's unmarked requests go to the store in one job (unless one
 *  is out already) and the queue waits; their commit kicks it again (smpp_link.c calls it before each send). */
bool uigw_smpp_mt_hold(struct uigw_smpp *smpp, struct uigw_smpp_req *req);
/*! Move queued requests onto the links (smpp_link.c). */
void uigw_smpp_kick(struct uigw_smpp *smpp);
/*! Read the MT queue of the last run (uigw_smpp_start()): messages to send after a restart are queued again,
 *  the others (expired, or questions of dialogs that ended with the restart) deleted and counted.
 *  \returns the number queued again or negative errno */
int uigw_smpp_mt_restore(struct uigw_smpp *smpp);

/*! The SMS channel (smpp_sms.c): handle a deliver_sm. \returns the command_status for deliver_sm_resp */
uint32_t uigw_smpp_sms_rx(struct uigw_smpp *smpp, struct uigw_smpp_link *link, const struct uigw_smpp_pdu *pdu);
/*! Register the SMS channel. \returns 0 or -ENOMEM */
int uigw_smpp_sms_init(struct uigw_smpp *smpp);
/*! Free the reassembly state (shutdown). */
void uigw_smpp_sms_fini(struct uigw_smpp *smpp);

/*! The USSD channel (smpp_sms.c): handle a deliver_sm with service_type USSD or a ussd_service_op.
 *  \returns the command_status for deliver_sm_resp */
uint32_t uigw_smpp_ussd_rx(struct uigw_smpp *smpp, struct uigw_smpp_link *link, const struct uigw_smpp_pdu *pdu);
/*! Print every link (show smpp). */
void uigw_smpp_vty_show(struct vty *vty, struct uigw_smpp *smpp);
/*! VTY part (smpp_vty.c). */
void uigw_smpp_vty_init(struct uigw_smpp *smpp);

extern const struct value_string uigw_smpp_dialect_names[];
extern const struct value_string uigw_smpp_alphabet_names[];
extern const struct value_string uigw_smpp_long_mode_names[];
extern const struct value_string uigw_smpp_link_state_names[];
