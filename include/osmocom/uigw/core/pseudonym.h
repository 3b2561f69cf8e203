/*! \file pseudonym.h
 *  Keyed subscriber pseudonyms: what the store keeps instead of a raw MSISDN. */
#pragma once

/*! Keyed pseudonym of a subscriber: hex of the first 16 octets of HMAC-SHA256(secret, msisdn).
 *  \param[out] out  33 bytes */
void uigw_pseudonym(const char *secret, const char *msisdn, char out[33]);
