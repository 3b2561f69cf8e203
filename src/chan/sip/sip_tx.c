/*! \file sip_tx.c
 *  The SIP transaction index (a message finds its transaction by Via branch + method without a walk over
 *  libosip2's lists) and the completed non-INVITE server transactions over UDP (their final responses, kept
 *  64*T1 for retransmitted requests: RFC 3261 17.2.2 "Completed") */

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/logging.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/common/hash.h>
#include "sip_priv.h"

/* ---- the transaction index: a message finds its transaction by Via branch and method, in O(1) ---- */

static uint32_t key_hash(const char *k)
{
	return uigw_hash32(k, 0);
}

/* "c"lient or "s"erver, the top Via's branch, the CSeq method (an ACK belongs to its INVITE) */
static int make_key(bool client, const char *branch, const char *method, char *out, size_t len)
{
	int n;

	if (!strcmp(method, "ACK"))
		method = "INVITE";
	n = snprintf(out, len, "%c %s %s", client ? 'c' : 's', branch, method);
	return n > 0 && (size_t)n < len ? 0 : -ENOSPC;
}

int sip_msg_key(const osip_message_t *m, bool client, char *out, size_t len)
{
	osip_via_t *via = osip_list_get(&m->vias, 0);
	osip_generic_param_t *br = NULL;

	if (!via || osip_via_param_get_byname(via, "branch", &br) != 0 || !br || !br->gvalue || !m->cseq ||
	    !m->cseq->method)
		return -EINVAL;
	return make_key(client, br->gvalue, m->cseq->method, out, len);
}

static int tx_destructor(struct sip_tx *tx)
{
	if (tx->key)
		hash_del(&tx->hnode);
	return 0;
}

static void index_key(struct uigw_sip *sip, struct sip_tx *tx, const char *key)
{
	tx->key = talloc_strdup(tx, key);
	if (!tx->key)
		return;
	tx->hkey = key_hash(key);
	hash_add(sip->tx_by_key, &tx->hnode, tx->hkey);
	talloc_set_destructor(tx, tx_destructor);
}

void sip_tx_index(struct uigw_sip *sip, struct sip_tx *tx, osip_transaction_t *tr, const osip_message_t *m,
		  bool client)
{
	char key[256];

	tx->tr = tr;
	if (sip_msg_key(m, client, key, sizeof(key)) < 0)
		return;		/* no branch (RFC 2543): found by libosip2's own walk */
	index_key(sip, tx, key);
}

void sip_tx_index_branch(struct uigw_sip *sip, struct sip_tx *tx, const char *branch, const char *method)
{
	char key[256];

	tx->tr = NULL;
	if (make_key(true, branch, method, key, sizeof(key)) == 0)
		index_key(sip, tx, key);
}

struct sip_tx *sip_tx_find_key(struct uigw_sip *sip, const char *key)
{
	uint32_t h = key_hash(key);
	struct sip_tx *tx;

	hash_for_each_possible(sip->tx_by_key, tx, hnode, h) {
		if (tx->hkey == h && !strcmp(tx->key, key))
			return tx;
	}
	return NULL;
}

/* \returns the live transaction of message \a m, NULL if none; *indexed false when \a m cannot be keyed */
struct sip_tx *sip_tx_find(struct uigw_sip *sip, const osip_message_t *m, bool client, bool *indexed)
{
	char key[256];

	*indexed = sip_msg_key(m, client, key, sizeof(key)) == 0;
	return *indexed ? sip_tx_find_key(sip, key) : NULL;
}

/* ---- completed non-INVITE server transactions (see struct uigw_sip.done_fifo) ---- */

struct sip_done {
	struct llist_head list;
	struct hlist_node hnode;
	uint32_t hkey;
	uint32_t len;
	int64_t expires_ms;
	struct sockaddr_in dst;
	char data[];		/*!< the response as sent (len bytes), then the key: one allocation with the struct */
};

static void done_free(struct uigw_sip *sip, struct sip_done *d)
{
	llist_del(&d->list);
	hash_del(&d->hnode);
	sip->n_done--;
	talloc_free(d);
}

void sip_done_expire(struct uigw_sip *sip, bool all)
{
	int64_t now = uigw_mono_ms();

	while (!llist_empty(&sip->done_fifo)) {
		struct sip_done *d = llist_first_entry(&sip->done_fifo, struct sip_done, list);

		if (!all && d->expires_ms > now)
			break;
		done_free(sip, d);
	}
}

/* a final response of a NIST over UDP went out: keep it for the retransmissions of the request keyed \a key */
void sip_done_add(struct uigw_sip *sip, const char *key, const char *buf, size_t len, const struct sockaddr_in *dst)
{
	size_t klen = strlen(key) + 1;
	struct sip_done *d;

	if (len > SIP_MAX_MSG)
		return;
	/* bounded: past kept-responses-max the oldest goes first (a retransmission of it is then handled anew) */
	if (sip->n_done >= sip->cfg.kept_max) {
		done_free(sip, llist_first_entry(&sip->done_fifo, struct sip_done, list));
		sip->done_dropped++;
	}
	d = talloc_size(sip, sizeof(*d) + len + klen);
	if (!d)
		return;
	memcpy(d->data, buf, len);
	memcpy(d->data + len, key, klen);
	d->len = len;
	d->dst = *dst;
	d->hkey = key_hash(key);
	d->expires_ms = uigw_mono_ms() + 64 * sip->t1->val;
	hash_add(sip->done_by_key, &d->hnode, d->hkey);
	llist_add_tail(&d->list, &sip->done_fifo);
	sip->n_done++;
}

/* a request (key \a key) whose transaction completed: answer it again with the same response.
 * \returns true if it was one */
bool sip_done_answer(struct uigw_sip *sip, const char *key)
{
	struct sip_done *d;
	uint32_t h;

	if (!sip->n_done)
		return false;
	h = key_hash(key);
	hash_for_each_possible(sip->done_by_key, d, hnode, h) {
		if (d->hkey == h && !strcmp(d->data + d->len, key)) {
			sip->done_hits++;
			if (sip_send_to(sip, d->data, d->len, &d->dst, NULL) < 0)
				sip_ctr_inc(sip, SIP_CTR_TX_ERR);
			return true;
		}
	}
	return false;
}
