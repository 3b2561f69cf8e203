/*! \file charset.h
 *  UTF-8 <-> GSM 03.38 (default alphabet + extension table), UCS-2 (UTF-16BE) and Latin-1.
 *  Pure functions: no allocation, no globals, safe on any input (they never read past len). */
#pragma once

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

/*! How a text travels on the wire. */
enum uigw_coding {
	UIGW_CODING_GSM7,	/*!< GSM 03.38 default alphabet, extension characters as ESC + code */
	UIGW_CODING_UCS2,	/*!< UTF-16BE (non-BMP characters as surrogate pairs) */
	UIGW_CODING_UTF8,	/*!< UTF-8 (IMS) */
};

extern const char *uigw_coding_names[];	/*!< "gsm7", "ucs2", "utf8" */

/*! Decode one UTF-8 code point.
 *  \param[in] s, len  input
 *  \param[out] cp     code point
 *  \returns bytes consumed (1..4), or -EINVAL on an invalid/overlong/truncated sequence or a surrogate */
int uigw_utf8_next(const char *s, size_t len, uint32_t *cp);
/*! Encode one code point as UTF-8 into out[4]. \returns bytes written (1..4), -EINVAL for invalid cp */
int uigw_utf8_put(uint32_t cp, char *out);
/*! \returns true if s[0..len) is valid UTF-8 */
bool uigw_utf8_valid(const char *s, size_t len);
/*! Number of code points in valid UTF-8 (invalid bytes count one each) */
size_t uigw_utf8_chars(const char *s, size_t len);

/*! GSM 03.38 septets a code point takes: 1 (default alphabet), 2 (extension table: ^ { } \ [ ~ ] | € FF),
 *  or 0 when it cannot be represented. */
unsigned int uigw_gsm7_cp_septets(uint32_t cp);
/*! Septets the UTF-8 text takes in GSM 7-bit. \returns count, or -ERANGE if a character has no GSM 7-bit form,
 *  -EINVAL on invalid UTF-8 */
int uigw_gsm7_count(const char *utf8, size_t len);
/*! UTF-16 code units the UTF-8 text takes in UCS-2 (non-BMP = 2). \returns count or -EINVAL */
int uigw_ucs2_count(const char *utf8, size_t len);
/*! GSM 7-bit if every character fits, else UCS-2. */
enum uigw_coding uigw_coding_for(const char *utf8, size_t len);

/*! UTF-8 -> unpacked GSM septets (one per octet, ESC 0x1B before extension codes).
 *  \returns septets written, -ERANGE if a character does not fit GSM 7-bit, -ENOSPC if out is too small,
 *  -EINVAL on invalid UTF-8 */
int uigw_utf8_to_gsm7(uint8_t *out, size_t out_size, const char *utf8, size_t len);
/*! Unpacked GSM septets -> UTF-8, NUL-terminated. Unknown extension codes decode as the base character
 *  (3GPP TS 23.038 6.2.1.1), values > 0x7f as '?'.
 *  \returns bytes written excluding NUL, -ENOSPC if out is too small */
int uigw_gsm7_to_utf8(char *out, size_t out_size, const uint8_t *septets, size_t n);

/*! Pack septets into octets (LSB first, TS 23.038 6.1.2.1).
 *  \param[in] ussd_pad  USSD rules (TS 23.038 6.1.2.3.1): 7 spare bits in the last octet get CR; a text
 *                       ending in CR on an octet boundary gets one more CR
 *  \returns octets written or -ENOSPC */
int uigw_gsm7_pack(uint8_t *out, size_t out_size, const uint8_t *septets, size_t n, bool ussd_pad);
/*! Unpack n_octets into septets. With ussd_pad, a trailing CR that is padding is removed.
 *  \returns septets written or -ENOSPC */
int uigw_gsm7_unpack(uint8_t *septets, size_t out_size, const uint8_t *octets, size_t n_octets, bool ussd_pad);

/*! UTF-8 -> UTF-16BE. \returns octets written, -ENOSPC, -EINVAL */
int uigw_utf8_to_ucs2(uint8_t *out, size_t out_size, const char *utf8, size_t len);
/*! UTF-16BE -> UTF-8 NUL-terminated; unpaired surrogates become U+FFFD, an odd trailing octet is ignored.
 *  \returns bytes written excluding NUL, -ENOSPC */
int uigw_ucs2_to_utf8(char *out, size_t out_size, const uint8_t *in, size_t len);
/*! ISO 8859-1 -> UTF-8 NUL-terminated. \returns bytes written excluding NUL, -ENOSPC */
int uigw_latin1_to_utf8(char *out, size_t out_size, const uint8_t *in, size_t len);
