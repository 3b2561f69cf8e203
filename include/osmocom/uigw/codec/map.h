/*! \file map.h
 *  What MAP (3GPP TS 29.002) adds to TCAP for the USSD gsmSCF: the application context, AddressString
 *  (TBCD digits after a nature/numbering-plan octet) and the MAP dialogue PDU carried in the TCAP dialogue
 *  portion's user-information (MAP-OpenInfo with destinationReference / originationReference,
 *  MAP-UserAbortInfo, MAP-RefuseInfo). The USSD components themselves are in ss_codec.h.
 *  Pure functions on ber.h. */
#pragma once

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#include <osmocom/uigw/codec/tcap.h>

struct uigw_ber_enc;

/*! networkUnstructuredSsContext-v2 (0.4.0.0.1.0.19.2), OID contents octets. */
extern const uint8_t uigw_map_acn_ussd_v2[7];
/*! The same context in version 1 (networkFunctionalSsContext-v1 is another context: only the version octet
 *  of this one is compared when a peer proposes an older version). */
#define UIGW_MAP_ACN_LEN 7

/*! Make \a d an AARQ or AARE (\a apdu) for networkUnstructuredSsContext-v2; its other fields are left as
 *  they are. */
void uigw_map_dialogue_v2(struct uigw_tcap_dialogue *d, enum uigw_tcap_apdu apdu);

/*! Nature of address / numbering plan octets (extension bit set). */
#define UIGW_MAP_TON_NPI_INTL_E164	0x91	/*!< international, ISDN/E.164 */
#define UIGW_MAP_TON_NPI_UNKN_E164	0x81	/*!< unknown, ISDN/E.164 */
#define UIGW_MAP_TON_NPI_E212		0x86	/*!< unknown, land mobile E.212 (an IMSI) */

/*! Most digits of an AddressString (20 octets: 1 + 19 TBCD octets; 15 for an IMSI). */
#define UIGW_MAP_ADDR_DIGITS 38

/*! An AddressString. */
struct uigw_map_addr {
	uint8_t ton_npi;				/*!< the first octet */
	char digits[UIGW_MAP_ADDR_DIGITS + 1];		/*!< 0-9 * # a b c, NUL-terminated */
};

/*! Decode an AddressString value (1..20 octets). \returns 0 or -EINVAL */
int uigw_map_addr_dec(const uint8_t *val, size_t len, struct uigw_map_addr *a);
/*! Append an AddressString with that tag. Bad digits or more than 38 of them set e->err = -EINVAL. */
void uigw_map_addr_put(struct uigw_ber_enc *e, uint8_t tag, const struct uigw_map_addr *a);
/*! A number as the gateway writes it: "+<digits>" for international E.164, else the bare digits. */
void uigw_map_addr_str(const struct uigw_map_addr *a, char *out, size_t size);
/*! The reverse: "+491..." becomes international E.164, "491..." unknown E.164.
 *  \returns 0, -EINVAL for a character that is not a TBCD digit or too many digits */
int uigw_map_addr_from_str(struct uigw_map_addr *a, const char *s);

/*! MAP-DialoguePDU choices (TS 29.002 §17.2.3, context tags). */
enum uigw_map_dlg_kind {
	UIGW_MAP_DLG_NONE = -1,
	UIGW_MAP_DLG_OPEN = 0,
	UIGW_MAP_DLG_ACCEPT = 1,
	UIGW_MAP_DLG_CLOSE = 2,
	UIGW_MAP_DLG_REFUSE = 3,
	UIGW_MAP_DLG_USER_ABORT = 4,
	UIGW_MAP_DLG_PROVIDER_ABORT = 5,
};

/*! MAP-UserAbortChoice. */
enum uigw_map_uabort {
	UIGW_MAP_UABORT_USER_SPECIFIC = 0,		/*!< userSpecificReason */
	UIGW_MAP_UABORT_RESOURCE_LIMITATION = 1,	/*!< userResourceLimitation */
	UIGW_MAP_UABORT_RESOURCE_UNAVAILABLE = 2,	/*!< resourceUnavailable, with a reason */
	UIGW_MAP_UABORT_PROCEDURE_CANCELLATION = 3,	/*!< applicationProcedureCancellation, with a reason */
};

/*! A MAP dialogue PDU. */
struct uigw_map_dlg {
	enum uigw_map_dlg_kind kind;
	bool has_dest, has_orig;		/*!< map-open */
	struct uigw_map_addr dest;		/*!< destinationReference */
	struct uigw_map_addr orig;		/*!< originationReference */
	uint8_t uabort;				/*!< map-userAbort: enum uigw_map_uabort */
	uint8_t reason;				/*!< map-userAbort 2/3, map-refuse, map-providerAbort: ENUMERATED */
};

/*! Decode the user-information of a TCAP dialogue APDU (the contents of [30]: EXTERNALs); the first one with
 *  the map-DialogueAS is decoded, others are skipped.
 *  \returns 0, -ENOENT if there is no MAP dialogue PDU, -EINVAL if it is malformed */
int uigw_map_dlg_decode(const uint8_t *ui, size_t len, struct uigw_map_dlg *d);
/*! Encode a MAP dialogue PDU as user-information contents (one EXTERNAL), for uigw_tcap_dialogue.user_info.
 *  Kinds: open (with the references present), userAbort, refuse. \returns octets, or -ENOSPC / -EINVAL */
int uigw_map_dlg_encode(uint8_t *buf, size_t size, const struct uigw_map_dlg *d);
