/*! \file sms_ip.h
 *  SMS over IP (3GPP TS 24.341, application/vnd.3gpp.sms): the RP layer (TS 24.011 7.3) and the TPDUs
 *  (TS 23.040) the ims-msg channel needs. No state. */
#pragma once

#include <stdint.h>
#include <stddef.h>

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
