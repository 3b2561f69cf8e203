/*! \file ber.h
 *  A small BER (X.690) TLV codec for the protocols of the USSD channels: 04.80 / MAP components over GSUP,
 *  and TCAP/MAP over SCCP. Single-octet tags (tag numbers 0..30), definite lengths in short and long form
 *  (decoding up to 0x84, encoding up to 0x82 = 65535 octets). Indefinite lengths and multi-octet tags are
 *  refused. Pure functions: no allocation, no globals, never reads or writes past the given buffer. */
#pragma once

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

/*! Tag classes and the constructed bit of a single-octet tag. */
#define UIGW_BER_CLASS_UNIV	0x00
#define UIGW_BER_CLASS_APP	0x40
#define UIGW_BER_CLASS_CTX	0x80
#define UIGW_BER_CLASS_PRIV	0xc0
#define UIGW_BER_CONSTRUCTED	0x20

/*! Universal tags used by the channels. */
#define UIGW_BER_INTEGER	0x02
#define UIGW_BER_OCTET_STRING	0x04
#define UIGW_BER_NULL		0x05
#define UIGW_BER_OID		0x06
#define UIGW_BER_SEQUENCE	0x30

/*! One decoded TLV. val points into the decoded buffer. */
struct uigw_ber_tlv {
	uint8_t tag;		/*!< the identifier octet */
	const uint8_t *val;	/*!< first value octet (inside the input buffer) */
	size_t len;		/*!< value length */
	size_t total;		/*!< tag + length octets + value */
};

/*! \returns true if the tag has the constructed bit set */
static inline bool uigw_ber_is_constructed(uint8_t tag)
{
	return tag & UIGW_BER_CONSTRUCTED;
}

/*! Decode one TLV at the start of buf.
 *  \param[in] buf, len  input; only buf[0..len) is read
 *  \param[out] tlv      the element (val points into buf)
 *  \returns octets the element takes (tlv->total), -ENODATA if len is 0, -EINVAL on a truncated element or
 *  a malformed length, -ENOTSUP for a multi-octet tag or an indefinite length */
int uigw_ber_dec(const uint8_t *buf, size_t len, struct uigw_ber_tlv *tlv);

/*! Decode the next element inside a constructed value and advance the cursor.
 *  \param[in,out] pos, rem  cursor into the contents (start: tlv.val, tlv.len)
 *  \returns as uigw_ber_dec(); -ENODATA when the contents are exhausted */
int uigw_ber_next(const uint8_t **pos, size_t *rem, struct uigw_ber_tlv *tlv);

/*! Decode a signed INTEGER value (1..8 octets, two's complement).
 *  \returns 0, or -EINVAL if the length is 0 or more than 8 octets */
int uigw_ber_get_int(const struct uigw_ber_tlv *tlv, int64_t *v);

/*! Octets a definite length field takes for a value of len octets (1, 2, 3, 4 or 5). */
size_t uigw_ber_len_size(size_t len);

/*! An encoder writing into a caller's buffer. Errors are sticky: check uigw_ber_enc_finish() once. */
struct uigw_ber_enc {
	uint8_t *buf;
	size_t size;
	size_t len;		/*!< octets written so far */
	int err;		/*!< 0 or the first error (-ENOSPC, -EINVAL) */
};

/*! Start encoding into buf[0..size). */
void uigw_ber_enc_init(struct uigw_ber_enc *e, uint8_t *buf, size_t size);
/*! Append a primitive element (or a constructed one whose contents are already encoded in val). */
void uigw_ber_put(struct uigw_ber_enc *e, uint8_t tag, const uint8_t *val, size_t len);
/*! Append an INTEGER (minimal two's complement) with that tag. */
void uigw_ber_put_int(struct uigw_ber_enc *e, uint8_t tag, int64_t v);
/*! Open a constructed element; its contents follow until uigw_ber_close().
 *  \returns a mark to pass to uigw_ber_close() */
size_t uigw_ber_open(struct uigw_ber_enc *e, uint8_t tag);
/*! Close the constructed element opened at mark: writes its definite length (short or long form).
 *  Elements must be closed innermost first. */
void uigw_ber_close(struct uigw_ber_enc *e, size_t mark);
/*! \returns the encoded length, or the first error (negative errno) */
int uigw_ber_enc_finish(const struct uigw_ber_enc *e);
