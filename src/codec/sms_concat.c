/*! \file sms_concat.c
 *  Reassembly of concatenated mobile-originated SMS (see sms_concat.h). */

#include <errno.h>
#include <string.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/logging.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/codec/sms_concat.h>

struct pending {
	struct llist_head list;
	char src[24], dst[24];
	uint16_t ref;
	uint8_t total, have, kind;
	time_t started;
	size_t bytes;
	uint16_t len[UIGW_CONCAT_MAX_PARTS];
	uint8_t *part[UIGW_CONCAT_MAX_PARTS];
};

struct uigw_concat *uigw_concat_alloc(void *ctx, unsigned int max_pending, unsigned int timeout_s, int log_subsys)
{
	struct uigw_concat *c = talloc_zero(ctx, struct uigw_concat);

	if (!c)
		return NULL;
	INIT_LLIST_HEAD(&c->pending);
	c->max_pending = max_pending ? max_pending : 1;
	c->timeout_s = timeout_s;
	c->log_subsys = log_subsys;
	return c;
}

static void pending_free(struct uigw_concat *c, struct pending *m)
{
	llist_del(&m->list);
	c->n_pending--;
	talloc_free(m);
}

unsigned int uigw_concat_expire(struct uigw_concat *c, time_t now)
{
	struct pending *m, *tmp;
	unsigned int n = 0;

	llist_for_each_entry_safe(m, tmp, &c->pending, list) {
		/* oldest first: the first one still in time ends the walk (a clock set back drops nothing) */
		if (now - m->started <= (time_t)c->timeout_s)
			break;
		LOGP(c->log_subsys, LOGL_NOTICE, "concatenated SMS ref %u from %s: %u of %u parts after %u s, dropped\n",
		     m->ref, m->src, m->have, m->total, c->timeout_s);
		c->st.timed_out++;
		pending_free(c, m);
		n++;
	}
	return n;
}

static struct pending *find(struct uigw_concat *c, const struct uigw_concat_part *p)
{
	struct pending *m;

	llist_for_each_entry(m, &c->pending, list) {
		if (m->ref == p->ref && m->total == p->total && m->kind == p->kind && !strcmp(m->src, p->src) &&
		    !strcmp(m->dst, p->dst))
			return m;
	}
	return NULL;
}

int uigw_concat_add(struct uigw_concat *c, const struct uigw_concat_part *p, time_t now, void *out_ctx,
		    uint8_t **out, size_t *out_len)
{
	struct pending *m;
	unsigned int i;
	size_t o;

	if (!c || !p || !out || !out_len)
		return -EINVAL;
	*out = NULL;
	*out_len = 0;
	if (!p->src || !p->dst || !p->total || !p->seq || p->seq > p->total || (p->len && !p->data) ||
	    p->len > UIGW_CONCAT_MAX_BYTES) {
		c->st.invalid++;
		return -EINVAL;
	}
	uigw_concat_expire(c, now);
	m = find(c, p);
	if (!m) {
		if (c->n_pending >= c->max_pending) {
			struct pending *old = llist_first_entry(&c->pending, struct pending, list);

			LOGP(c->log_subsys, LOGL_NOTICE, "concatenated SMS ref %u from %s dropped: %u messages pending\n",
			     old->ref, old->src, c->n_pending);
			c->st.evicted++;
			pending_free(c, old);
		}
		m = talloc_zero(c, struct pending);
		if (!m)
			return -ENOMEM;
		osmo_strlcpy(m->src, p->src, sizeof(m->src));
		osmo_strlcpy(m->dst, p->dst, sizeof(m->dst));
		m->ref = p->ref;
		m->total = p->total;
		m->kind = p->kind;
		m->started = now;
		llist_add_tail(&m->list, &c->pending);
		c->n_pending++;
	}
	i = p->seq - 1;
	if (m->part[i]) {
		c->st.duplicates++;
		return 0;
	}
	if (m->bytes + p->len > UIGW_CONCAT_MAX_BYTES) {
		c->st.invalid++;
		pending_free(c, m);
		return -EMSGSIZE;
	}
	m->part[i] = talloc_memdup(m, p->len ? p->data : (const uint8_t *)"", p->len ? p->len : 1);
	if (!m->part[i])
		return -ENOMEM;
	m->len[i] = p->len;
	m->bytes += p->len;
	m->have++;
	c->st.parts++;
	if (m->have < m->total)
		return 0;
	*out = talloc_size(out_ctx, m->bytes ? m->bytes : 1);
	if (!*out) {
		pending_free(c, m);
		return -ENOMEM;
	}
	for (i = 0, o = 0; i < m->total; i++) {
		memcpy(*out + o, m->part[i], m->len[i]);
		o += m->len[i];
	}
	*out_len = o;
	c->st.complete++;
	pending_free(c, m);
	return 1;
}
