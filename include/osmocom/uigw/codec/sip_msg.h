/*! \file sip_msg.h
 *  SIP message helpers without state: the subscriber's identity, the Request-URI user, bodies by type,
 *  message/cpim with IMDN, and a scan of the requests the gateway builds itself. */
#pragma once

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

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

/*! A piece of a buffer (not NUL-terminated). */
struct uigw_sip_span {
	const char *p;
	size_t len;
};
#define UIGW_SIP_RAW_MAX_VIA	16
#define UIGW_SIP_RAW_MAX_PAI	4
/*! What a stateless answer to a request copies (RFC 3261 8.2.6.2), and what decides whether to give it, read off
 *  a request from outside without libosip2's parse: the fast path that refuses new requests under overload. The
 *  spans point into the scanned buffer. */
struct uigw_sip_raw {
	struct uigw_sip_span method;		/*!< of the request line */
	struct uigw_sip_span via[UIGW_SIP_RAW_MAX_VIA];	/*!< the values of the Via header lines, in order */
	unsigned int n_via;
	struct uigw_sip_span from, to, call_id, cseq;
	struct uigw_sip_span cseq_method;
	struct uigw_sip_span pai[UIGW_SIP_RAW_MAX_PAI];	/*!< P-Asserted-Identity values */
	unsigned int n_pai;
	struct uigw_sip_span branch;		/*!< of the top Via */
	struct uigw_sip_span top_host;		/*!< its sent-by host */
	uint16_t top_port;			/*!< its sent-by port, 0: none */
	size_t top_via_len;			/*!< the top Via's length in via[0] (up to a comma) */
	size_t rport_at;			/*!< offset in via[0] just after a valueless "rport", 0: none */
	bool received;				/*!< the top Via has a received parameter */
	bool to_tag;				/*!< To has a tag */
};
/*! Scan a request: request line, Via (the top one's host and branch), From, To, Call-ID, CSeq (whose method must
 *  be the request line's), P-Asserted-Identity, up to the blank line. Folded lines, repeated From/To/Call-ID/CSeq,
 *  more Via or P-Asserted-Identity lines than the bounds, a top Via without a branch: -EINVAL (the caller takes the
 *  full parse). 
eturns 0 or -EINVAL */
int uigw_sip_raw_scan(const char *buf, size_t len, struct uigw_sip_raw *r);
/*! The number of one name-addr (a From or P-Asserted-Identity value) as E.164 into \a msisdn; *got_sip: a sip: or
 *  sips: URI, not tel:. \a fast: the plainest forms without libosip2's parse (others take it); false: libosip2's
 *  parse only, the reference the fuzz target holds the fast way to.
 *  \returns 0, -ENOENT (no number) or -EINVAL (not a phone number) */
int uigw_sip_name_addr_number(const char *value, const char *cc, const char *np, char *msisdn, size_t msisdn_len,
			      bool *got_sip, bool fast);
/*! The subscriber's identity of a scanned request, by the rules of uigw_sip_identity(). */
int uigw_sip_raw_identity(const struct uigw_sip_raw *r, bool from_allowed, const char *cc, const char *np,
			  char *msisdn, size_t msisdn_len);
/*! The server transaction's key of a scanned request, as the SIP channel indexes its transactions ("s BRANCH
 *  METHOD", ACK as INVITE). 
eturns 0 or -ENOSPC */
int uigw_sip_raw_key(const struct uigw_sip_raw *r, char *out, size_t len);
/*! A stateless response to a scanned request: status line, the Via lines (the top one with rport's value and
 *  received= as RFC 3261 18.2.1 and RFC 3581 want, for a request from \a src_ip:\a src_port), From, To (with
 *  \a to_tag if it has none), Call-ID, CSeq, \a extra header lines ("Name: value\r\n" each, may be NULL),
 *  Content-Length: 0. \returns the length written (NUL-terminated), or -ENOSPC */
int uigw_sip_raw_response(const struct uigw_sip_raw *r, int code, const char *to_tag, const char *src_ip,
			  uint16_t src_port, const char *extra, char *out, size_t len);

/*! Send libosip2's error traces to the DSIP log (debug level) instead of stderr. Done by uigw_sip_init(). */
void uigw_sip_osip_quiet(void);

/*! Subscriber identity of a request: P-Asserted-Identity (sip: or tel: URI), or From if \a from_allowed.
 *  \param[out] msisdn  E.164 "+49..." \param[out] uri  the asserted URI as written (may be NULL)
 *  \returns 0, -ENOENT (no usable identity) or -EINVAL (not a phone number) */
struct osip_message;
int uigw_sip_identity(const struct osip_message *msg, bool from_allowed, const char *cc, const char *np,
		      char *msisdn, size_t msisdn_len, char *uri, size_t uri_len);
/*! The phone number in the To URI (sip: user part or tel:), as E.164: the identity a REGISTER registers.
 *  \returns 0, -ENOENT (none) or -EINVAL (not a phone number) */
int uigw_sip_to_identity(const struct osip_message *msg, const char *cc, const char *np, char *msisdn,
			 size_t msisdn_len);
/*! User part of the Request-URI, percent-decoded (osip decodes), cut at ';': "7726", "*7730#".
 *  \returns 0 or -EINVAL */
int uigw_sip_ruri_user(const struct osip_message *msg, char *out, size_t len);
/*! The first body of that content type (type/subtype, case-insensitive; multipart parts count).
 *  \returns 0 and sets buf and len, or -ENOENT */
int uigw_sip_body(const struct osip_message *msg, const char *ctype, const char **buf, size_t *len);

/*! The reason phrase of a status code (RFC 3261 21): "OK", "Not Found", ...; "Unknown" for others. */
const char *uigw_sip_reason(int code);
