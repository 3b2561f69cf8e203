/*! \file tcap.h
 *  TCAP (ITU-T Q.773) messages as the SS7 MAP channel uses them: Unidirectional, Begin, Continue, End and Abort
 *  (P-Abort cause or a dialogue portion), the dialogue portion with AARQ / AARE / ABRT (and AUDT) inside an
 *  EXTERNAL, and the component portion as the encoded components (see ss_codec.h for one component).
 *  Pure functions on ber.h: bytes <-> structs, no sockets, no allocation, no globals. Decoded pointers point
 *  into the input buffer. */
#pragma once

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

/*! TCMessage choices (APPLICATION tags). */
enum uigw_tcap_type {
	UIGW_TCAP_UNI = 0x61,
	UIGW_TCAP_BEGIN = 0x62,
	UIGW_TCAP_END = 0x64,
	UIGW_TCAP_CONTINUE = 0x65,
	UIGW_TCAP_ABORT = 0x67,
};

/*! P-AbortCause (Q.773 §3.2). */
enum uigw_tcap_pabort {
	UIGW_TCAP_PA_UNRECOGNIZED_MSG_TYPE = 0,
	UIGW_TCAP_PA_UNRECOGNIZED_TID = 1,
	UIGW_TCAP_PA_BADLY_FORMATTED_TP = 2,
	UIGW_TCAP_PA_INCORRECT_TP = 3,
	UIGW_TCAP_PA_RESOURCE_LIMITATION = 4,
};

/*! Dialogue APDUs (APPLICATION tags inside the EXTERNAL's single-ASN1-type). */
enum uigw_tcap_apdu {
	UIGW_TCAP_APDU_NONE = 0,
	UIGW_TCAP_AARQ = 0x60,		/*!< also AUDT (unidialogue-as) */
	UIGW_TCAP_AARE = 0x61,
	UIGW_TCAP_ABRT = 0x64,
};

/*! AARE result-source-diagnostic sources. */
#define UIGW_TCAP_DIAG_USER		0xa1	/*!< dialogue-service-user */
#define UIGW_TCAP_DIAG_PROVIDER		0xa2	/*!< dialogue-service-provider */
/*! dialogue-service-user diagnostics */
#define UIGW_TCAP_DIAG_NULL		0
#define UIGW_TCAP_DIAG_NO_REASON	1
#define UIGW_TCAP_DIAG_ACN_NOT_SUPPORTED 2	/*!< (user); no-common-dialogue-portion (provider) */

/*! Longest object identifier (contents octets) kept. */
#define UIGW_TCAP_OID_MAX	16

/*! The dialogue portion. */
struct uigw_tcap_dialogue {
	enum uigw_tcap_apdu apdu;
	bool uni;			/*!< AUDT: the EXTERNAL named the unidialogue-as */
	uint8_t acn[UIGW_TCAP_OID_MAX];	/*!< application-context-name: OID contents octets (AARQ, AARE) */
	uint8_t acn_len;
	uint8_t result;			/*!< AARE: 0 accepted, 1 reject-permanent */
	uint8_t diag_source;		/*!< AARE: UIGW_TCAP_DIAG_USER or _PROVIDER */
	uint8_t diag;			/*!< AARE: the diagnostic */
	uint8_t abort_source;		/*!< ABRT: 0 dialogue-service-user, 1 dialogue-service-provider */
	/*! user-information: the contents of [30] (a SEQUENCE OF EXTERNAL), NULL/0 if absent. Encoding copies
	 *  these octets as they are. */
	const uint8_t *user_info;
	size_t user_info_len;
};

/*! A transaction id: 1..4 octets, kept as the octets so that an answer echoes the peer's exactly. */
struct uigw_tcap_tid {
	uint8_t len;			/*!< 0: absent */
	uint8_t b[4];
};

/*! One TCAP message. */
struct uigw_tcap_msg {
	enum uigw_tcap_type type;
	struct uigw_tcap_tid otid;	/*!< Begin, Continue */
	struct uigw_tcap_tid dtid;	/*!< Continue, End, Abort */
	bool has_pabort;		/*!< Abort with a P-AbortCause */
	uint8_t pabort;
	bool has_dialogue;		/*!< Begin/Continue/End/Uni, or Abort with a U-ABORT dialogue portion */
	struct uigw_tcap_dialogue dlg;
	/*! the component portion's contents (concatenated components), NULL/0 if absent */
	const uint8_t *comps;
	size_t comps_len;
};

/*! What a receiver should answer a message that did not decode (Q.774 §3.2.1.2). */
struct uigw_tcap_err {
	bool abort;			/*!< a P-Abort is due (to err.dtid = the message's otid) */
	uint8_t cause;			/*!< enum uigw_tcap_pabort */
	bool dialogue;			/*!< the dialogue portion was bad: answer with ABRT, abort-source provider */
	struct uigw_tcap_tid dtid;	/*!< whom to answer: the otid if it could be read, else len 0 */
	const char *what;		/*!< for the log: which part was wrong */
};

/*! Decode a TCAP message.
 *  \param[in] buf, len  the SCCP user data
 *  \param[out] m        the message (zeroed first)
 *  \param[out] err      if not NULL and decoding fails: what to answer and why
 *  \returns 0, or -EINVAL (malformed) / -ENOTSUP (unknown message type, unsupported encoding) */
int uigw_tcap_decode(const uint8_t *buf, size_t len, struct uigw_tcap_msg *m, struct uigw_tcap_err *err);

/*! Encode a TCAP message: the fields its type needs (a Begin its otid, a Continue otid and dtid, an End or
 *  Abort its dtid), the dialogue portion if has_dialogue, the components in m->comps (already encoded, copied).
 *  \returns octets written, -ENOSPC if buf is too small, -EINVAL for an invalid message */
int uigw_tcap_encode(uint8_t *buf, size_t size, const struct uigw_tcap_msg *m);

/*! Walk the component portion: decode the next component's TLV (not its contents).
 *  \param[in,out] pos, rem  cursor, start at m->comps / m->comps_len
 *  \param[out] c, c_len     the whole component (tag included)
 *  \returns 1 if one was found, 0 at the end, -EINVAL if the portion is malformed */
int uigw_tcap_comp_next(const uint8_t **pos, size_t *rem, const uint8_t **c, size_t *c_len);

/*! Transaction id as a number (big-endian octets), for logs and lookups. */
uint32_t uigw_tcap_tid_val(const struct uigw_tcap_tid *t);
/*! A 4-octet transaction id of value v. */
void uigw_tcap_tid_set(struct uigw_tcap_tid *t, uint32_t v);
/*! Name of a message type ("Begin") or "unknown"; of a P-Abort cause. */
const char *uigw_tcap_type_name(enum uigw_tcap_type t);
const char *uigw_tcap_pabort_name(uint8_t cause);
