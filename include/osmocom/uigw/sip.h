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
};

/*! Allocate the adapter, register channels `ims-msg` and `ussi`, install node `sip` and `show sip`.
 *  Call once after uigw_vty_init() and before the configuration is read. \returns 0 or -ENOMEM */
int uigw_sip_init(struct uigw *gw);
/*! Open the listeners (call after uigw_start()). \returns 0, or negative errno (logged) */
int uigw_sip_start(struct uigw *gw);
/*! Look the outbound proxy's name up (getaddrinfo, IPv4; blocking: configuration time only).
 *  \returns 0, or negative errno with the reason logged */
int uigw_sip_proxy_resolve(struct uigw_sip *s);
/*! The adapter (NULL before uigw_sip_init()). */
struct uigw_sip *uigw_sip_get(void);
/*! Its settings. */
struct uigw_sip_cfg *uigw_sip_cfg(struct uigw_sip *s);
/*! Print listeners, counters and USSI sessions. */
void uigw_sip_vty_show(struct vty *vty, struct uigw_sip *s);
/*! VTY part (sip_vty.c). */
void uigw_sip_vty_init(struct uigw_sip *s);
/*! Network-initiated dialog: push campaign \a campaign to \a msisdn at \a uri (NULL: sip:MSISDN@domain, through
 *  the outbound proxy), as MESSAGE or (\a ussi) as USSI INVITE with UnstructuredSS-Request / -Notify.
 *  \returns 0, -EPERM (nothing sent: refused or opted out), -ENOTCONN */
int uigw_sip_push(struct uigw_sip *s, const char *msisdn, const char *campaign, const char *uri, bool ussi);

/*! A message/cpim body (RFC 3862) with its IMDN headers (RFC 5438). Pointers go into the parsed buffer. */
struct uigw_cpim {
	char message_id[128];		/*!< imdn.Message-ID, "" if absent */
	bool want_delivery;		/*!< imdn.Disposition-Notification asks for positive-delivery */
	char content_type[128];		/*!< of the inner body, "" if absent */
	const char *body;		/*!< inner body */
	size_t body_len;
};
/*! Parse a message/cpim body: CPIM headers, blank line, MIME headers, blank line, body.
 *  \returns 0 or -EINVAL */
int uigw_sip_cpim_parse(const char *buf, size_t len, struct uigw_cpim *out);

/*! An RP message (TS 24.011 7.3) from the UE. */
struct uigw_sms_rp {
	uint8_t mti;			/*!< GSM411_MT_RP_DATA_MO, _ACK_MO or _ERROR_MO */
	uint8_t ref;
	uint8_t cause;			/*!< RP-ERROR */
	char sc[24];			/*!< RP-DA of an RP-DATA: the service centre ("+49..." or digits) */
	const uint8_t *tpdu;		/*!< RP-DATA's TPDU, into the parsed buffer */
	size_t tpdu_len;
};
/*! Parse an RP message from the UE. \returns 0 or -EINVAL */
int uigw_sms_rp_parse(const uint8_t *buf, size_t len, struct uigw_sms_rp *rp);
/*! Parse an SMS-SUBMIT: destination (the short code) and the text as UTF-8 (GSM 7-bit, UCS-2 or 8-bit data;
 *  a user data header is skipped). \returns 0, -EINVAL or -ENOSPC */
int uigw_sms_submit_parse(const uint8_t *tpdu, size_t len, char *da, size_t da_len, char *text, size_t text_len);
/*! RP-ACK (network to MS) for RP-DATA \a ref. \returns its length */
int uigw_sms_rp_ack(uint8_t *out, size_t out_len, uint8_t ref);
/*! The concatenation IE (0x00 8-bit or 0x08 16-bit reference) in the UDH of an SMS-SUBMIT TPDU.
 *  \returns 1 and the fields if it is one part of several, 0 if the message is not concatenated, -EINVAL if the
 *  TPDU is malformed */
int uigw_sms_submit_concat(const uint8_t *tpdu, size_t len, uint16_t *ref, uint8_t *total, uint8_t *seq);
/*! One RP-DATA (network to MS). */
struct uigw_sms_pdu {
	uint8_t data[200];
	size_t len;
};
/*! RP-DATA with SMS-DELIVER from \a oa (short code) via service centre \a sc, GSM 7-bit if the text fits it,
 *  else UCS-2; concatenated (8-bit reference \a concat_ref) over several PDUs if needed.
 *  \returns the number of PDUs written, or negative errno */
int uigw_sms_deliver(const char *sc, const char *oa, const char *utf8, uint8_t rp_ref, uint8_t concat_ref,
		     struct uigw_sms_pdu *pdus, unsigned int max_pdus);

/*! What the transport needs of a request the gateway built itself, read off its text without a full parse. */
struct uigw_sip_req_info {
	char method[24];		/*!< of the request line */
	char cseq_method[24];
	char branch[128];		/*!< of the top Via */
	char host[64];			/*!< where it goes: the first Route's URI (an outbound proxy), else the
					 *   Request-URI */
	int port;			/*!< 0 if the URI has none */
};
/*! Scan a request of our own (request line, Via, CSeq, Route), up to the blank line.
 *  
eturns 0, or -EINVAL if a part is missing or does not fit */
int uigw_sip_scan_request(const char *text, size_t len, struct uigw_sip_req_info *ri);

/*! Send libosip2's error traces to the DSIP log (debug level) instead of stderr. Done by uigw_sip_init(). */
void uigw_sip_osip_quiet(void);

/*! Subscriber identity of a request: P-Asserted-Identity (sip: or tel: URI), or From if \a from_allowed.
 *  \param[out] msisdn  E.164 "+49..." \param[out] uri  the asserted URI as written (may be NULL)
 *  \returns 0, -ENOENT (no usable identity) or -EINVAL (not a phone number) */
struct osip_message;
int uigw_sip_identity(const struct osip_message *msg, bool from_allowed, const char *cc, const char *np,
		      char *msisdn, size_t msisdn_len, char *uri, size_t uri_len);
/*! User part of the Request-URI, percent-decoded (osip decodes), cut at ';': "7726", "*7730#".
 *  \returns 0 or -EINVAL */
int uigw_sip_ruri_user(const struct osip_message *msg, char *out, size_t len);
/*! The first body of that content type (type/subtype, case-insensitive; multipart parts count).
 *  \returns 0 and sets buf and len, or -ENOENT */
int uigw_sip_body(const struct osip_message *msg, const char *ctype, const char **buf, size_t *len);

/*! What the allocator behind libosip2 (sip_alloc.c) did. */
struct uigw_sip_alloc_stats {
	uint64_t hits;			/*!< allocations served from a free list */
	uint64_t misses;		/*!< allocations that went to malloc */
	uint64_t cached_bytes;		/*!< bytes on the free lists */
};

void uigw_sip_alloc_init(void);
void uigw_sip_alloc_trim(void);
void uigw_sip_alloc_stats(struct uigw_sip_alloc_stats *st);
