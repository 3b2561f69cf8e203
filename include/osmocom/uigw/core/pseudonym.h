/*! \file pseudonym.h
 *  Keyed subscriber pseudonyms: what the store keeps instead of a raw MSISDN. */
#pragma once

/*! Keyed pseudonym of a subscriber: hex of the first 16 octets of HMAC-SHA256(secret, msisdn).
 *  \param[out] out  33 bytes */
void uigw_pseudonym(const char *secret, const char *msisdn, char out[33]);

struct uigw;

/*! The key the gateway hashes subscribers with (gw->pseudonym_key), set at start: the configured
 *  `pseudonym-secret`, else the key file beside the database (\a db_path + ".key"), made at the first start from
 *  getrandom() with mode 0600 and read at every later one; without a store, a random key for this run only.
 *  \returns 0, or a negative errno (the file cannot be made or read, or others may read it). */
int uigw_pseudonym_key_load(struct uigw *gw, const char *db_path);

/*! Replace the key at run time (VTY `pseudonym-secret`): new pseudonyms for everyone from now on. */
void uigw_pseudonym_key_set(struct uigw *gw, const char *secret);
