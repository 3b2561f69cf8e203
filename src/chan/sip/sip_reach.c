/*! \file sip_reach.c
 *  Who the SIP channels trust and where they reach a subscriber: the trusted peers, the table of subscribers seen
 *  on IMS (their requests, third-party REGISTERs from the S-CSCF), the address of a pushed dialog, the tokens of
 *  our tags, branches and Call-IDs, and the channel ops both SIP channels share. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <arpa/inet.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/tdef.h>
#include <osmocom/vty/vty.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/common/hash.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/dialog.h>
#include "sip_priv.h"

void sip_seen(struct uigw_sip *sip, const char *msisdn, unsigned int secs)
{
	uint64_t key = uigw_hash64(msisdn);
	struct sip_seen *e = &sip->seen[key & (sip->seen_size - 1)];

	if (!secs) {
		if (e->key == key)
			e->key = 0;
		return;
	}
	e->key = key;
	e->until = uigw_mono_s() + secs;
}

void sip_seen_now(struct uigw_sip *sip, const char *msisdn)
{
	sip_seen(sip, msisdn, osmo_tdef_get(sip->gw->tdefs, UIGW_T_IMS_SEEN, OSMO_TDEF_S, 3600));
}

bool sip_is_seen(struct uigw_sip *sip, const char *msisdn)
{
	uint64_t key = uigw_hash64(msisdn);
	const struct sip_seen *e = &sip->seen[key & (sip->seen_size - 1)];

	return e->key == key && e->until > uigw_mono_s();
}

const char *sip_push_target(struct uigw_sip *sip, const char *msisdn, const char *to, char *buf, size_t len)
{
	if (to && to[0])
		return to;
	snprintf(buf, len, "sip:%s@%s", msisdn, sip->cfg.domain ? sip->cfg.domain : sip->cfg.local_ip);
	return buf;
}

enum uigw_reach sip_chan_reach(struct uigw_chan *ch, const char *msisdn)
{
	struct uigw_sip *sip = ch->priv;

	if (!sip->osip)
		return UIGW_REACH_NO;
	return sip_is_seen(sip, msisdn) ? UIGW_REACH_SEEN : UIGW_REACH_UP;
}

void sip_chan_show(struct uigw_chan *ch, struct vty *vty)
{
	uigw_sip_vty_show(vty, ch->priv);
}

void sip_rx_register(struct uigw_sip *sip, struct sip_tx *tx, osip_message_t *req)
{
	struct uigw *gw = sip->gw;
	char msisdn[UIGW_MSISDN_MAXLEN];
	osip_header_t *h = NULL;
	long expires = 3600;

	if (uigw_sip_to_identity(req, gw->cfg.country_code, gw->cfg.national_prefix, msisdn, sizeof(msisdn)) < 0) {
		LOGP(DSIP, LOGL_NOTICE, "REGISTER without a phone number in To: refused\n");
		sip_reply(sip, tx, req, 400);
		return;
	}
	if (osip_message_get_expires(req, 0, &h) >= 0 && h && h->hvalue)
		expires = strtol(h->hvalue, NULL, 10);
	if (expires < 0 || expires > 7 * 86400)
		expires = 3600;
	sip_seen(sip, msisdn, expires);
	LOGP(DSIP, LOGL_INFO, "third-party REGISTER of %s: %s for %ld s\n", msisdn,
	     expires ? "reachable on IMS" : "de-registered", expires);
	sip_reply(sip, tx, req, 200);
}

bool sip_trusted(struct uigw_sip *sip, const struct sip_tx *tx, bool *from_identity)
{
	struct uigw_sip_peer *p;
	char ip[INET_ADDRSTRLEN];

	*from_identity = false;
	if (!tx || !inet_ntop(AF_INET, &tx->src.sin.sin_addr, ip, sizeof(ip)))
		return false;
	llist_for_each_entry(p, &sip->cfg.peers, list) {
		if (!strcmp(p->ip, ip)) {
			*from_identity = p->from_identity;
			return true;
		}
	}
	return false;
}

/* tokens need to be unique and unguessable, not secret keys: 6 random octets each, taken from a pool that one
 * getrandom() fills for 680 of them (a system call per token was 2 % of the gateway's time under load) */
void sip_token_buf(struct uigw_sip *sip, char *buf, size_t len)
{
	static uint8_t pool[4096];
	static size_t used = sizeof(pool);
	uint8_t *rnd;

	if (used + 6 > sizeof(pool)) {
		if (getrandom(pool, sizeof(pool), GRND_NONBLOCK) != sizeof(pool)) {
			unsigned int i;
			for (i = 0; i < sizeof(pool); i++)
				pool[i] = random();
		}
		used = 0;
	}
	rnd = pool + used;
	used += 6;
	/* "%02x" six times and "%x" of the sequence, without snprintf (a tag for each refusal under overload) */
	{
		char t[24], d[8];
		unsigned int seq = ++sip->seq, n = 12;
		int k = 0;

		osmo_hexdump_buf(t, sizeof(t), rnd, 6, "", false);
		do
			d[k++] = "0123456789abcdef"[seq & 15];
		while ((seq >>= 4) && k < 8);
		while (k)
			t[n++] = d[--k];
		t[n] = '\0';
		osmo_strlcpy(buf, t, len);
	}
}

char *sip_token(void *ctx, struct uigw_sip *sip)
{
	char buf[SIP_TOKEN_LEN];

	sip_token_buf(sip, buf, sizeof(buf));
	return talloc_strdup(ctx, buf);
}
