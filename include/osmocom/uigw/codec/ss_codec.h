/*! \file ss_codec.h
 *  The USSD component codec shared by the GSUP channel (bare 3GPP TS 24.080 Facility components) and the
 *  SS7 MAP channel (TCAP components, TS 29.002): Invoke / ReturnResultLast / ReturnError / Reject for
 *  processUnstructuredSS-Request (59), unstructuredSS-Request (60) and unstructuredSS-Notify (61) with
 *  USSD-Arg / USSD-Res, and the USSD text coding (TS 23.038: GSM 7-bit with CR padding or UCS-2).
 *  Built on ber.h, so long strings (up to 160 octets = 182 septets) get long-form lengths.
 *  Pure functions: bytes <-> structs, no sockets, no allocation, no globals. */
#pragma once

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

/*! Component types (context-specific constructed tags). */
enum uigw_ss_comp_type {
	UIGW_SS_INVOKE = 0xa1,
	UIGW_SS_RETURN_RESULT = 0xa2,		/*!< ReturnResultLast */
	UIGW_SS_RETURN_ERROR = 0xa3,
	UIGW_SS_REJECT = 0xa4,
	UIGW_SS_RETURN_RESULT_NL = 0xa7,	/*!< ReturnResultNotLast (decoded, never encoded) */
};

/*! MAP operation codes (local). */
enum uigw_ss_op {
	UIGW_SS_OP_PROCESS_USS_REQ = 59,	/*!< processUnstructuredSS-Request (mobile-originated) */
	UIGW_SS_OP_USS_REQ = 60,		/*!< unstructuredSS-Request (the network asks) */
	UIGW_SS_OP_USS_NOTIFY = 61,		/*!< unstructuredSS-Notify */
};

/*! MAP error codes the USSD operations use. */
enum uigw_ss_err {
	UIGW_SS_ERR_ILLEGAL_SUBSCRIBER = 9,
	UIGW_SS_ERR_ILLEGAL_EQUIPMENT = 12,
	UIGW_SS_ERR_CALL_BARRED = 13,
	UIGW_SS_ERR_ABSENT_SUBSCRIBER = 27,
	UIGW_SS_ERR_SYSTEM_FAILURE = 34,
	UIGW_SS_ERR_DATA_MISSING = 35,
	UIGW_SS_ERR_UNEXPECTED_DATA_VALUE = 36,
	UIGW_SS_ERR_UNKNOWN_ALPHABET = 71,
	UIGW_SS_ERR_USSD_BUSY = 72,
};

/*! Reject problem tags (X.880 / Q.773) and the codes used here. */
enum uigw_ss_problem_tag {
	UIGW_SS_PROB_GENERAL = 0x80,
	UIGW_SS_PROB_INVOKE = 0x81,
	UIGW_SS_PROB_RETURN_RESULT = 0x82,
	UIGW_SS_PROB_RETURN_ERROR = 0x83,
};
#define UIGW_SS_PROB_GEN_UNRECOGNIZED_COMP	0	/*!< general: unrecognizedComponent */
#define UIGW_SS_PROB_GEN_MISTYPED_COMP		1	/*!< general: mistypedComponent */
#define UIGW_SS_PROB_GEN_BADLY_STRUCTURED	2	/*!< general: badlyStructuredComponent */
#define UIGW_SS_PROB_INV_UNRECOGNIZED_OP	1	/*!< invoke: unrecognizedOperation */
#define UIGW_SS_PROB_INV_MISTYPED_PARAM		2	/*!< invoke: mistypedParameter */

/*! USSD data coding schemes this codec writes. */
#define UIGW_USSD_DCS_GSM7	0x0f	/*!< GSM 7-bit, language unspecified */
#define UIGW_USSD_DCS_UCS2	0x48	/*!< general coding, UCS-2 */

/*! Largest ussd-String (octets) and texts per coding. */
#define UIGW_USSD_MAX_OCTETS	160
#define UIGW_USSD_MAX_SEPTETS	182
#define UIGW_USSD_MAX_UCS2	80
/*! A buffer large enough for any decoded USSD text in UTF-8 (182 characters of up to 3 bytes, or 80 UCS-2
 *  units of up to 4 bytes) plus NUL. */
#define UIGW_USSD_UTF8_MAX	(UIGW_USSD_MAX_SEPTETS * 3 + 1)

/*! USSD-Arg (Invoke parameter) or USSD-Res (ReturnResult result). */
struct uigw_ussd_arg {
	uint8_t dcs;				/*!< ussd-DataCodingScheme */
	uint8_t data[UIGW_USSD_MAX_OCTETS];	/*!< ussd-String, as on the wire */
	size_t data_len;			/*!< 1..160 */
	bool has_alerting;
	uint8_t alerting;			/*!< alertingPattern (USSD-Arg only) */
	bool has_msisdn;
	char msisdn[24];			/*!< msisdn [0] (USSD-Arg only): "+<digits>" if TON international,
						 *   else the bare digits */
};

/*! One component. Fields not used by a component type are left zero. */
struct uigw_ss_comp {
	enum uigw_ss_comp_type type;
	bool has_invoke_id;		/*!< false only for a Reject with NULL invokeId */
	int8_t invoke_id;
	bool has_linked_id;
	int8_t linked_id;		/*!< Invoke */
	bool has_opcode;		/*!< Invoke always; ReturnResult when it carries a result */
	int opcode;			/*!< local operation code */
	bool has_ussd;			/*!< the Invoke parameter / ReturnResult result is a USSD-Arg/Res */
	struct uigw_ussd_arg ussd;
	bool has_param;			/*!< a parameter/result was present (USSD or not) */
	int error_code;			/*!< ReturnError: local error code */
	uint8_t problem_tag;		/*!< Reject: enum uigw_ss_problem_tag */
	uint8_t problem_code;		/*!< Reject */
};

/*! Decode one component (the SS_INFO of GSUP, or one element of a TCAP component portion).
 *  An Invoke / ReturnResult with opcode 59, 60 or 61 must carry a well-formed USSD-Arg / USSD-Res (a
 *  ReturnResult of 61 has none); other opcodes are decoded with has_ussd false and their parameter skipped.
 *  \param[in] buf, len  the component, starting with its tag; trailing octets after it are an error
 *  \param[out] c        the component (zeroed first)
 *  \returns 0, -EINVAL for malformed input (with a hint of what in *c->type if the tag was readable),
 *  -ENOTSUP for an unsupported encoding (multi-octet tag, indefinite length, global opcode) */
int uigw_ss_comp_decode(const uint8_t *buf, size_t len, struct uigw_ss_comp *c);

/*! Encode one component: Invoke (invokeId, linkedId?, opcode, USSD-Arg if has_ussd), ReturnResultLast
 *  (invokeId, and SEQUENCE {opcode, USSD-Res} if has_opcode), ReturnError (invokeId, errorCode), Reject
 *  (invokeId or NULL, problem).
 *  \returns octets written, -ENOSPC if buf is too small, -EINVAL for an invalid component */
int uigw_ss_comp_encode(uint8_t *buf, size_t size, const struct uigw_ss_comp *c);

/*! Code a UTF-8 text for USSD: GSM 7-bit packed with CR padding (DCS 0x0F) when every character fits and the
 *  text has at most 182 septets, else UCS-2 (DCS 0x48) up to 80 UTF-16 units.
 *  \returns 0, -EMSGSIZE if it fits in neither, -EINVAL on invalid UTF-8 */
int uigw_ussd_text_encode(struct uigw_ussd_arg *arg, const char *utf8);

/*! Decode a ussd-String to UTF-8 per its DCS (TS 23.038 §5): 0x00-0x0F GSM 7-bit (language groups),
 *  0x10 GSM 7-bit with a language prefix, 0x11 UCS-2 with a language prefix, 0x40-0x5F general coding
 *  (7-bit, 8-bit as Latin-1, UCS-2; not compressed), 0xF0-0xF7 (7-bit or 8-bit). One trailing CR that pads
 *  a 7-bit string is removed.
 *  \param[out] utf8, size  output, NUL-terminated (UIGW_USSD_UTF8_MAX is always enough)
 *  \param[out] lang        if not NULL, receives the ISO 639 code of the prefix or the language group
 *                          ("" if none), 3 bytes
 *  \returns bytes written excluding NUL, -ENOTSUP for a DCS it cannot decode, -ENOSPC, -EINVAL */
int uigw_ussd_text_decode(const struct uigw_ussd_arg *arg, char *utf8, size_t size, char *lang);

/*! Name of an operation code ("processUnstructuredSS-Request"), or "unknown". */
const char *uigw_ss_op_name(int opcode);
/*! Name of a component type ("invoke", "returnResultLast", ...). */
const char *uigw_ss_comp_type_name(enum uigw_ss_comp_type t);
