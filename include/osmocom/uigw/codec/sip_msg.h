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
