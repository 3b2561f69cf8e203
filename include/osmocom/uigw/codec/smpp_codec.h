/*! \file smpp_codec.h
 *  SMPP 3.4 PDUs <-> a small struct of what the gateway uses. A pure wrapper around libsmpp34 (its allocations
 *  routed to talloc): no sockets, no globals besides libsmpp34's own. Strict: a PDU whose lengths do not add up
 *  exactly, whose strings are not terminated in their field size, or whose TLVs overrun is refused. */
#pragma once

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

/*! Largest PDU the gateway accepts or sends (a short_message PDU with a full message_payload fits). */
#define UIGW_SMPP_MAX_PDU	2048
/*! SMPP header size. */
#define UIGW_SMPP_HDR_LEN	16
/*! Largest text carried (message_payload TLV limit of libsmpp34). */
#define UIGW_SMPP_MAX_MSG	1024

/*! Command ids the codec handles (SMPP 3.4 5.1.2.1). */
enum uigw_smpp_cmd {
	UIGW_SMPP_GENERIC_NACK = 0x80000000,
	UIGW_SMPP_BIND_RX = 0x00000001,
	UIGW_SMPP_BIND_RX_RESP = 0x80000001,
	UIGW_SMPP_BIND_TX = 0x00000002,
	UIGW_SMPP_BIND_TX_RESP = 0x80000002,
	UIGW_SMPP_SUBMIT_SM = 0x00000004,
	UIGW_SMPP_SUBMIT_SM_RESP = 0x80000004,
	UIGW_SMPP_DELIVER_SM = 0x00000005,
	UIGW_SMPP_DELIVER_SM_RESP = 0x80000005,
	UIGW_SMPP_UNBIND = 0x00000006,
	UIGW_SMPP_UNBIND_RESP = 0x80000006,
	UIGW_SMPP_BIND_TRX = 0x00000009,
	UIGW_SMPP_BIND_TRX_RESP = 0x80000009,
	UIGW_SMPP_ENQUIRE_LINK = 0x00000015,
	UIGW_SMPP_ENQUIRE_LINK_RESP = 0x80000015,
};

/*! command_status values the gateway acts on. */
#define UIGW_SMPP_ROK		0x00
#define UIGW_SMPP_RINVMSGLEN	0x01
#define UIGW_SMPP_RINVCMDLEN	0x02
#define UIGW_SMPP_RINVCMDID	0x03
#define UIGW_SMPP_RSYSERR	0x08
#define UIGW_SMPP_RMSGQFUL	0x14
#define UIGW_SMPP_RTHROTTLED	0x58
#define UIGW_SMPP_RX_T_APPN	0x64
#define UIGW_SMPP_RX_R_APPN	0x66	/*!< ESME_RX_R_APPN: rejected by the application, permanent */

/*! esm_class bits. */
#define UIGW_SMPP_ESM_DLR	0x04	/*!< SMSC delivery receipt */
#define UIGW_SMPP_ESM_TYPE_MASK	0x3c
#define UIGW_SMPP_ESM_UDHI	0x40

/*! data_coding values. */
#define UIGW_SMPP_DC_DEFAULT	0x00
#define UIGW_SMPP_DC_IA5	0x01
#define UIGW_SMPP_DC_LATIN1	0x03
#define UIGW_SMPP_DC_8BIT	0x04
#define UIGW_SMPP_DC_UCS2	0x08

/*! ussd_service_op values. */
enum uigw_smpp_ussd_op {
	UIGW_USSD_OP_PSSD_IND = 0,
	UIGW_USSD_OP_PSSR_IND = 1,
	UIGW_USSD_OP_USSR_REQ = 2,
	UIGW_USSD_OP_USSN_REQ = 3,
	UIGW_USSD_OP_PSSD_RESP = 16,
	UIGW_USSD_OP_PSSR_RESP = 17,
	UIGW_USSD_OP_USSR_CONF = 18,
	UIGW_USSD_OP_USSN_CONF = 19,
};

/*! One PDU, as far as the gateway cares. Strings are NUL-terminated. */
struct uigw_smpp_pdu {
	uint32_t command_id;
	uint32_t command_status;
	uint32_t sequence;

	/* bind_* (and system_id of bind_*_resp) */
	char system_id[16];
	char password[9];
	char system_type[13];

	/* submit_sm / deliver_sm */
	char service_type[6];
	uint8_t src_ton, src_npi;
	char src_addr[21];
	uint8_t dst_ton, dst_npi;
	char dst_addr[21];
	uint8_t esm_class;
	uint8_t protocol_id;
	uint8_t registered_delivery;
	uint8_t data_coding;
	/*! The user data: short_message, or the message_payload TLV (payload = true). On decode the UDH (when
	 *  esm_class has UDHI) is removed and described by the concat fields; on encode a UDH is generated from
	 *  them when concat_udh is set. */
	uint8_t msg[UIGW_SMPP_MAX_MSG];
	uint16_t msg_len;
	bool payload;

	/*! Concatenation: part concat_seq (1-based) of concat_total with reference concat_ref. */
	bool concat;
	bool concat_udh;	/*!< from/as a UDH (8-bit ref IE 0, 16-bit ref IE 8), else the SAR TLVs */
	uint16_t concat_ref;
	uint8_t concat_total;
	uint8_t concat_seq;

	int ussd_service_op;	/*!< -1: absent */
	bool has_its_session;
	uint16_t its_session_info;	/*!< (session << 8) | (seq << 1) | end, as on the wire */
	char receipted_msg_id[65];	/*!< deliver_sm receipt TLV, or "" */
	/*! Vendor-specific TLVs (tags 0x1400..0x3fff) the SMSC added, the first UIGW_SMPP_VENDOR_TLVS of them (a
	 *  value longer than its array is cut): where an SMSC tells the sender's location, say. */
	struct uigw_smpp_vendor_tlv {
		uint16_t tag;
		uint8_t len;
		uint8_t v[64];
	} vendor[4];
	unsigned int n_vendor;

	/* submit_sm_resp */
	char message_id[65];
};

#define UIGW_SMPP_VENDOR_TLVS 4

/*! Route libsmpp34's allocations to talloc under \a ctx (call once, before any decode/encode; NULL: a context
 *  of its own). Idempotent. */
void uigw_smpp_codec_init(void *ctx);
/*! Free the codec's talloc context (nothing of libsmpp34 may be alive); a later init starts afresh. */
void uigw_smpp_codec_fini(void);

/*! Framing: from the first octets of a stream, the length of the PDU that starts there.
 *  \returns the command_length (16..UIGW_SMPP_MAX_PDU), 0 if fewer than 4 octets are there yet, or -EBADMSG if
 *  the length is impossible (the stream cannot be resynchronised) */
int uigw_smpp_frame_len(const uint8_t *buf, size_t len);

/*! Decode one complete PDU (buf[0..len) with len == command_length).
 *  Handles bind_*(_resp), unbind(_resp), enquire_link(_resp), generic_nack, submit_sm(_resp),
 *  deliver_sm(_resp). The header fields are filled even when the body is refused.
 *  \returns 0; -EBADMSG on a malformed PDU (wrong lengths, unterminated strings, TLV overrun, UDH overrun,
 *  short_message and message_payload both present); -EMSGSIZE if longer than UIGW_SMPP_MAX_PDU;
 *  -EOPNOTSUPP for a command id the codec does not handle (header fields are still filled) */
int uigw_smpp_decode(struct uigw_smpp_pdu *pdu, const uint8_t *buf, size_t len);

/*! Encode a PDU. Text longer than 254 octets (with UDH) goes into message_payload even without pdu->payload.
 *  \returns octets written, -ENOSPC if buf is too small, -EINVAL for values that do not fit their fields or a
 *  command id the codec does not handle */
int uigw_smpp_encode(uint8_t *buf, size_t size, const struct uigw_smpp_pdu *pdu);
/*! uigw_smpp_decode() / uigw_smpp_encode() with libsmpp34 for every field of deliver_sm, submit_sm and their
 *  responses too: the reference the fast path (the default, which does not format a text per field) is compared
 *  with in the unit tests and the fuzz target. Same contracts. */
int uigw_smpp_decode_ref(struct uigw_smpp_pdu *pdu, const uint8_t *buf, size_t len);
int uigw_smpp_encode_ref(uint8_t *buf, size_t size, const struct uigw_smpp_pdu *pdu);

/*! Initialise a PDU with a command id and sequence number (everything else zero, ussd_service_op absent). */
void uigw_smpp_pdu_init(struct uigw_smpp_pdu *pdu, uint32_t command_id, uint32_t seq);

/*! \returns a name for a command id, e.g. "deliver_sm" */
const char *uigw_smpp_cmd_name(uint32_t command_id);
