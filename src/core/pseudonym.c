/*! \file pseudonym.c
 *  Keyed subscriber pseudonyms: the store never sees a raw MSISDN except in the operator-only mapping. */

#include <string.h>
#include <nettle/hmac.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/store/store.h>
#include <osmocom/uigw/core/pseudonym.h>

void uigw_pseudonym(const char *secret, const char *msisdn, char out[33])
{
	struct hmac_sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];
	static const char hex[] = "0123456789abcdef";
	unsigned int i;

	if (!secret)
		secret = "";
	if (!msisdn)
		msisdn = "";
	hmac_sha256_set_key(&ctx, strlen(secret), (const uint8_t *)secret);
	hmac_sha256_update(&ctx, strlen(msisdn), (const uint8_t *)msisdn);
	hmac_sha256_digest(&ctx, sizeof(digest), digest);
	for (i = 0; i < 16; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 0xf];
	}
	out[32] = '\0';
}
