/*! \file store_outbox.c
 *  The webhooks' outbox, as the writer thread fills it: for a row that reports an event (an answer, a dialog's
 *  end, a spam report, a refused trigger), one outbox entry per webhook that listens to the event and may see
 *  the row's campaign, in the transaction of the row itself.
 *
 *  This is on the path of every answer, so it costs as little as it can: the writer keeps the webhooks in
 *  memory (read again after a batch that changed them) and does nothing when none listens; otherwise it inserts
 *  a small row per webhook — a reference to the row it reports (the event's JSON is made from that row when the
 *  entry is read for delivery, store_read.c), a nonce from its own generator (seeded by getrandom()) and an id
 *  from its own counter. Only a refused trigger, which has no row of its own, keeps its JSON (built here in C). */

#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/store/store.h>
#include "store_priv.h"

/* ---------------------------------------------------------------------------------------------------------- */
/* the webhooks, as the writer knows them */

/* a webhook created in the batch being written listens from its row on (the list is read again afterwards) */
void uigw_store_wh_target_add(struct uigw_store *st, int64_t id, const char *tenant, bool all, uint32_t events)
{
	struct uigw_store_wh_target *t;

	st->wh_dirty = true;
	if (st->n_wh == st->wh_cap) {
		size_t cap = st->wh_cap ? st->wh_cap * 2 : 8;
		struct uigw_store_wh_target *n = realloc(st->wh, cap * sizeof(*n));

		if (!n)
			return;
		st->wh = n;
		st->wh_cap = cap;
	}
	t = &st->wh[st->n_wh++];
	t->id = id;
	osmo_strlcpy(t->tenant, tenant ? tenant : "", sizeof(t->tenant));
	t->all = all;
	t->events = events;
	st->wh_events |= events;
}

void uigw_store_wh_target_del(struct uigw_store *st, int64_t id)
{
	unsigned int i;

	st->wh_dirty = true;
	for (i = 0; i < st->n_wh; i++) {
		if (st->wh[i].id == id) {
			st->wh[i] = st->wh[--st->n_wh];
			return;
		}
	}
}

int uigw_store_wh_load(struct uigw_store *st)
{
	sqlite3_stmt *s = st->wstmt[WSTMT_WEBHOOK_LOAD];
	int rc;

	if (!st->wh_rng[0] && !st->wh_rng[1]) {
		if (getrandom(st->wh_rng, sizeof(st->wh_rng), 0) != sizeof(st->wh_rng) || (!st->wh_rng[0] && !st->wh_rng[1])) {
			LOGP(DSTORE, LOGL_ERROR, "no random numbers for the webhooks' delivery ids\n");
			return -EIO;
		}
	}
	st->n_wh = 0;
	st->wh_events = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		uigw_store_wh_target_add(st, sqlite3_column_int64(s, 0), (const char *)sqlite3_column_text(s, 1),
					 sqlite3_column_int64(s, 2) != 0, (uint32_t)sqlite3_column_int64(s, 3));
	uigw_store_stmt_done(s);
	if (rc != SQLITE_DONE)
		goto fail;
	s = st->wstmt[WSTMT_WH_MAX_ID];
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_int64(s, 0) >= st->wh_next_id)
		st->wh_next_id = sqlite3_column_int64(s, 0) + 1;
	uigw_store_stmt_done(s);
	if (rc != SQLITE_ROW)
		goto fail;
	st->wh_dirty = false;
	return 0;
fail:
	LOGP(DSTORE, LOGL_ERROR, "cannot read the webhooks: %s\n", sqlite3_errmsg(st->wdb));
	return -EIO;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* the event as JSON */

struct jb {
	char *p;
	size_t len, cap;
	bool heap, oom;
	char first;
	char stack[1024];
};

static void jb_init(struct jb *b)
{
	b->p = b->stack;
	b->cap = sizeof(b->stack);
	b->len = 0;
	b->heap = b->oom = false;
	b->p[b->len++] = '{';
}

static bool jb_room(struct jb *b, size_t n)
{
	char *np;
	size_t cap;

	if (b->len + n + 1 <= b->cap)
		return true;
	if (b->oom)
		return false;
	cap = (b->len + n + 1) * 2;
	np = b->heap ? realloc(b->p, cap) : malloc(cap);
	if (!np) {
		b->oom = true;
		return false;
	}
	if (!b->heap)
		memcpy(np, b->p, b->len);
	b->p = np;
	b->cap = cap;
	b->heap = true;
	return true;
}

static void jb_raw(struct jb *b, const char *s, size_t n)
{
	if (!jb_room(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* a JSON string: quotes, backslashes and control characters escaped; other bytes as they are (UTF-8) */
static void jb_string(struct jb *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u;

	jb_raw(b, "\"", 1);
	for (u = (const unsigned char *)s; *u; u++) {
		if (*u == '"' || *u == '\\') {
			char e[2] = { '\\', (char)*u };
			jb_raw(b, e, 2);
		} else if (*u < 0x20) {
			char e[6] = { '\\', 'u', '0', '0', hex[*u >> 4], hex[*u & 0xf] };
			jb_raw(b, e, 6);
		} else {
			const unsigned char *run = u;

			while (u[1] && u[1] != '"' && u[1] != '\\' && u[1] >= 0x20)
				u++;
			jb_raw(b, (const char *)run, u - run + 1);
		}
	}
	jb_raw(b, "\"", 1);
}

static void jb_key(struct jb *b, const char *key)
{
	if (b->len > 1)
		jb_raw(b, ",", 1);
	jb_string(b, key);
	jb_raw(b, ":", 1);
}

static void jb_str(struct jb *b, const char *key, const char *v)
{
	jb_key(b, key);
	if (v)
		jb_string(b, v);
	else
		jb_raw(b, "null", 4);
}

static void jb_int(struct jb *b, const char *key, int64_t v)
{
	char buf[24];

	jb_key(b, key);
	jb_raw(b, buf, snprintf(buf, sizeof(buf), "%" PRId64, v));
}

static void jb_id(struct jb *b, const char *key, uint64_t v)
{
	char buf[24];

	jb_key(b, key);
	jb_raw(b, buf, snprintf(buf, sizeof(buf), "\"%" PRIu64 "\"", v));
}

static void jb_bool(struct jb *b, const char *key, bool v)
{
	jb_key(b, key);
	jb_raw(b, v ? "true" : "false", v ? 4 : 5);
}

/* RFC 3339 UTC with milliseconds, as the HTTP API writes times */
static void jb_time(struct jb *b, const char *key, int64_t ms)
{
	time_t secs = (time_t)(ms / 1000);
	char buf[40];
	struct tm tm;
	size_t n;

	jb_key(b, key);
	if (ms < 0 || !gmtime_r(&secs, &tm)) {
		jb_raw(b, "null", 4);
		return;
	}
	n = strftime(buf, sizeof(buf), "\"%Y-%m-%dT%H:%M:%S", &tm);
	n += snprintf(buf + n, sizeof(buf) - n, ".%03dZ\"", (int)(ms % 1000));
	jb_raw(b, buf, n);
}

static void jb_free(struct jb *b)
{
	if (b->heap)
		free(b->p);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* the entries */

/* xorshift128+: fast, and 128 bits of seed from getrandom() make two gateways' ids collide as good as never */
static uint64_t rng_next(uint64_t s[2])
{
	uint64_t x = s[0], y = s[1];

	s[0] = y;
	x ^= x << 23;
	s[1] = x ^ y ^ (x >> 17) ^ (y >> 26);
	return s[1] + y;
}

static bool sees(const struct uigw_store_wh_target *t, enum uigw_webhook_event ev, const char *owner)
{
	if (!(t->events & (1u << ev)))
		return false;
	return t->all || (owner && !strcmp(owner, t->tenant));
}

int uigw_store_outbox_add(struct uigw_store *st, enum uigw_webhook_event ev, const struct uigw_store_row *r,
			  int64_t ref)
{
	sqlite3_stmt *s = st->wstmt[WSTMT_WH_INSERT];
	const char *ref_text = NULL;
	bool inline_json = false, built = false;
	struct jb b;
	unsigned int i;
	int rc = 0;

	if (!(st->wh_events & (1u << ev)))
		return 0;
	/* the operator's test drive reaches no webhook unless asked (test-drive-results include) */
	if (!st->cfg.test_results && r->channel && !strcmp(r->channel, "vty"))
		return 0;
	switch (ev) {
	case UIGW_WH_ANSWER:
		/* the answer row is found again by (dialog, question); one without a dialog carries its JSON */
		ref = (int64_t)r->dialog;
		ref_text = r->u.response.question;
		inline_json = !r->dialog || !ref_text;
		break;
	case UIGW_WH_DIALOG_ENDED:
		ref = (int64_t)r->dialog;
		break;
	case UIGW_WH_SPAM_REPORT:
		break;
	case UIGW_WH_TRIGGER_REFUSED:
		inline_json = true;	/* no row of its own */
		break;
	default:
		return 0;
	}
	for (i = 0; i < st->n_wh && rc == 0; i++) {
		const struct uigw_store_wh_target *t = &st->wh[i];

		if (!sees(t, ev, r->owner))
			continue;
		if (inline_json && !built) {
			jb_init(&b);
			built = true;
			if (ev == UIGW_WH_ANSWER) {
				jb_str(&b, "campaign", r->campaign);
				jb_int(&b, "version", r->version);
				jb_id(&b, "dialog", r->dialog);
				jb_str(&b, "channel", r->channel);
				jb_str(&b, "subscriber", r->subscriber);
				jb_str(&b, "node", r->u.response.node);
				jb_str(&b, "question", r->u.response.question);
				jb_str(&b, "value", r->u.response.value);
				jb_str(&b, "language", r->u.response.language);
				jb_bool(&b, "roaming", r->u.response.roaming);
				jb_time(&b, "time", r->time_ms);
			} else {
				jb_str(&b, "campaign", r->campaign);
				jb_str(&b, "channel", r->channel);
				jb_str(&b, "subscriber", r->subscriber);
				jb_str(&b, "refusal", r->u.refused.refusal);
				jb_str(&b, "detail", r->u.refused.detail);
				jb_time(&b, "time", r->time_ms);
			}
			jb_raw(&b, "}", 1);
			if (b.oom) {
				jb_free(&b);
				return -EIO;
			}
		}
		if (sqlite3_bind_int64(s, 1, st->wh_next_id) != SQLITE_OK ||
		    sqlite3_bind_int64(s, 2, t->id) != SQLITE_OK ||
		    sqlite3_bind_int64(s, 3, (int64_t)(rng_next(st->wh_rng) >> 1)) != SQLITE_OK ||
		    sqlite3_bind_int64(s, 4, ev) != SQLITE_OK ||
		    (ref && sqlite3_bind_int64(s, 5, ref) != SQLITE_OK) ||
		    (ref_text && sqlite3_bind_text(s, 6, ref_text, -1, SQLITE_STATIC) != SQLITE_OK) ||
		    (built && sqlite3_bind_text(s, 7, b.p, (int)b.len, SQLITE_STATIC) != SQLITE_OK) ||
		    sqlite3_bind_int64(s, 8, r->time_ms) != SQLITE_OK) {
			uigw_store_stmt_done(s);
			rc = -EIO;
			break;
		}
		rc = sqlite3_step(s);
		if (rc != SQLITE_DONE)
			LOGP(DSTORE, LOGL_ERROR, "outbox entry not written: %s\n", sqlite3_errmsg(st->wdb));
		uigw_store_stmt_done(s);
		rc = rc == SQLITE_DONE ? 0 : -EIO;
		st->wh_next_id++;
	}
	if (built)
		jb_free(&b);
	return rc;
}
