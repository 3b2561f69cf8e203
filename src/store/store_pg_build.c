/*! \file store_pg_build.c
 *  A group commit's statements, built from its jobs' rows for the PostgreSQL backend (store_pg.c sends them and
 *  keeps the flight): the rows of the frequent kinds as one statement per kind with one array literal per column
 *  (a conflict key repeated later in the statement left out), the others a prepared statement each; the tenants of
 *  the campaigns the webhooks' triggers need (campaign_owner) before the rows; a flight's questions for states to
 *  resume as one statement. */

#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <osmocom/core/utils.h>
#include "store_pg_priv.h"

/* ---------------------------------------------------------------------------------------------------------- */
/* the campaigns' tenants */

void uigw_store_pg_owners_forget(struct uigw_store_pg *pg)
{
	unsigned int i;

	for (i = 0; i < pg->n_owners; i++) {
		talloc_free(pg->owners[i].campaign);
		talloc_free(pg->owners[i].tenant);
	}
	pg->n_owners = pg->owner_hit = 0;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* batched kinds: one statement per kind and transaction, one array per column */

/* room for \a n more bytes and a NUL */
static int buf_room(void *ctx, struct pg_buf *b, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = talloc_realloc_size(ctx, b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	return 0;
}

static int buf_add(void *ctx, struct pg_buf *b, const char *s, size_t n)
{
	if (buf_room(ctx, b, n) < 0)
		return -ENOMEM;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* one element of an array literal: NULL, or the value quoted (\ and " escaped), in one pass over the value */
static int array_elem(void *ctx, struct pg_buf *b, const char *v, bool first)
{
	size_t n;
	char *o;

	if (!v)
		return buf_add(ctx, b, first ? "NULL" : ",NULL", first ? 4 : 5);
	n = strlen(v);
	if (buf_room(ctx, b, 2 * n + 3) < 0)
		return -ENOMEM;
	o = b->p + b->len;
	if (!first)
		*o++ = ',';
	*o++ = '"';
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			*o++ = '\\';
		*o++ = *v;
	}
	*o++ = '"';
	*o = '\0';
	b->len = o - b->p;
	return 0;
}

static int cmp_key(const void *a, const void *b, void *arg)
{
	struct uigw_store_pg *pg = ((void **)arg)[0];
	const struct pg_bref *br = ((void **)arg)[1];
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;
	int c = strcmp(pg->keys.p + br[x].key, pg->keys.p + br[y].key);

	return c ? c : (x > y) - (x < y);
}

/* Rows of batch \a b whose conflict key comes again later in it are left out: one statement cannot upsert a row
 * twice, and the later row is what the sequence of upserts would have left. */
static int dedupe(struct uigw_store_pg *pg, int b)
{
	const struct uigw_store_pg_batch *d = &uigw_store_pg_batches[b];
	struct pg_bref *br = pg->bref[b];
	unsigned int n = pg->n_bref[b], i, k = 0;
	void *arg[2] = { pg, br };
	struct pgp p;
	int stmt;

	pg->keys.len = 0;
	if (grow(pg, (void **)&pg->order, &pg->order_cap, n, sizeof(*pg->order)) < 0)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const char *k0, *k1;

		br[i].key = UINT32_MAX;
		row_stmt(pg, br[i].r, 0, &stmt, &p);
		k0 = p.v[d->key[0]];
		k1 = d->key[1] >= 0 ? p.v[d->key[1]] : "";
		/* NULL never conflicts; answers outside a dialog have no key */
		if (!k0 || !k1 || (d->key_positive && strtoll(k0, NULL, 10) <= 0))
			continue;
		br[i].key = pg->keys.len;
		if (buf_add(pg, &pg->keys, k0, strlen(k0)) < 0 || buf_add(pg, &pg->keys, "\x1f", 1) < 0 ||
		    buf_add(pg, &pg->keys, k1, strlen(k1) + 1) < 0)
			return -ENOMEM;
		pg->order[k++] = i;
	}
	qsort_r(pg->order, k, sizeof(*pg->order), cmp_key, arg);
	for (i = 0; i + 1 < k; i++) {
		if (!strcmp(pg->keys.p + br[pg->order[i]].key, pg->keys.p + br[pg->order[i + 1]].key))
			br[pg->order[i]].drop = true;
	}
	return 0;
}

/* the collected rows of each batched kind as one statement of transaction \a seg */
int uigw_store_pg_send_batches(struct uigw_store_pg *pg, int seg)
{
	const char *values[PG_MAX_PARAMS];
	struct pgp p;
	unsigned int i;
	int b, c, stmt, rc = 0;

	for (b = 0; b < (int)UIGW_PG_N_BATCH; b++) {
		int bs = PG_B_FIRST + b, n_cols = uigw_store_pg_stmts[bs].n_params;
		bool first = true;
		char name[8];

		if (!pg->n_bref[b])
			continue;
		if (uigw_store_pg_batches[b].key[0] >= 0 && pg->n_bref[b] > 1 && dedupe(pg, b) < 0)
			return -ENOMEM;
		for (c = 0; c < n_cols; c++) {
			pg->col[c].len = 0;
			rc |= buf_add(pg, &pg->col[c], "{", 1);
		}
		for (i = 0; i < pg->n_bref[b]; i++) {
			if (pg->bref[b][i].drop)
				continue;
			row_stmt(pg, pg->bref[b][i].r, 0, &stmt, &p);
			for (c = 0; c < n_cols; c++)
				rc |= array_elem(pg, &pg->col[c], p.v[c], first);
			first = false;
		}
		for (c = 0; c < n_cols; c++) {
			rc |= buf_add(pg, &pg->col[c], "}", 1);
			values[c] = pg->col[c].p;
		}
		pg->n_bref[b] = 0;
		if (rc)
			return -ENOMEM;
		snprintf(name, sizeof(name), "u%d", bs);
		if (!PQsendQueryPrepared(pg->conn, name, n_cols, values, NULL, NULL, 0) ||
		    expect(pg, EX_STMT, seg, NULL) < 0)
			return -EIO;
	}
	return 0;
}

/* A row of the transaction being built: collected if its kind is batched, else sent as its own statements. */
int uigw_store_pg_send_row(struct uigw_store_pg *pg, const struct uigw_store_row *r, int seg)
{
	int b = batch_of(r->kind), part, stmt;
	struct pgp p;

	if (b >= 0) {
		if (row_stmt(pg, r, 0, &stmt, NULL) <= 0)
			return 0;	/* skipped (its parameters are made in send_batches()) */
		if (grow(pg, (void **)&pg->bref[b], &pg->bref_cap[b], pg->n_bref[b] + 1, sizeof(*pg->bref[b])) < 0)
			return -ENOMEM;
		pg->bref[b][pg->n_bref[b]++] = (struct pg_bref){ .r = r };
		pg->fl[pg->fl_sending].cdr |= r->kind == UIGW_ROW_CDR;
		return 0;
	}
	for (part = 0; part < row_parts(r->kind); part++) {
		enum pg_expect_kind ex = r->kind == UIGW_ROW_PURGE ? EX_PURGE :
					 r->kind == UIGW_ROW_ERASE ? EX_ERASE : EX_STMT;

		if (row_stmt(pg, r, part, &stmt, &p) <= 0)
			continue;
		if (send_stmt(pg, stmt, &p) < 0 || expect(pg, ex, seg, NULL) < 0)
			return -EIO;
	}
	return 0;
}

/* The owners of the flight's campaigns that this instance has not written to campaign_owner yet (or that changed),
 * as one statement before the rows, so that the webhooks' triggers know which tenant may see them. */
int uigw_store_pg_send_owners(struct uigw_store_pg *pg, struct pg_flight *f)
{
	const char *values[2];
	unsigned int i, r, o, n = 0;
	int rc = 0;
	char name[8];

	for (i = 0; i < f->n_jobs; i++) {
		const struct uigw_store_job *job = f->jobs[i];

		for (r = 0; r < job->n_rows; r++) {
			const struct uigw_store_row *row = &job->rows[r];
			const char *tenant = row->owner ? row->owner : "";
			struct pg_owner *ow = NULL;

			if ((row->kind != UIGW_ROW_RESPONSE && row->kind != UIGW_ROW_DIALOG && row->kind != UIGW_ROW_SPAM) ||
			    !row->campaign)
				continue;
			if (pg->owner_hit < pg->n_owners && !strcmp(pg->owners[pg->owner_hit].campaign, row->campaign))
				ow = &pg->owners[pg->owner_hit];
			for (o = 0; !ow && o < pg->n_owners; o++) {
				if (!strcmp(pg->owners[o].campaign, row->campaign)) {
					ow = &pg->owners[o];
					pg->owner_hit = o;
				}
			}
			/* written by a committed transaction; one still in flight may fail: this one writes it too */
			if (ow && ow->committed && !strcmp(ow->tenant, tenant))
				continue;
			if (ow && ow->seq == pg->seq && !strcmp(ow->tenant, tenant))
				continue;	/* in this statement already */
			if (!ow) {
				if (grow(pg, (void **)&pg->owners, &pg->owners_cap, pg->n_owners + 1, sizeof(*pg->owners)) < 0)
					return -ENOMEM;
				ow = &pg->owners[pg->n_owners++];
				ow->campaign = talloc_strdup(pg, row->campaign);
				ow->tenant = NULL;
			}
			talloc_free(ow->tenant);
			ow->tenant = talloc_strdup(pg, tenant);
			ow->seq = pg->seq;
			ow->committed = false;
			if (!ow->campaign || !ow->tenant) {
				uigw_store_pg_owners_forget(pg);
				return -ENOMEM;
			}
			if (!n) {
				pg->col[0].len = pg->col[1].len = 0;
				rc |= buf_add(pg, &pg->col[0], "{", 1);
				rc |= buf_add(pg, &pg->col[1], "{", 1);
			}
			rc |= array_elem(pg, &pg->col[0], row->campaign, !n);
			rc |= array_elem(pg, &pg->col[1], tenant, !n);
			n++;
		}
	}
	if (!n)
		return 0;
	for (i = 0; i < 2; i++) {
		rc |= buf_add(pg, &pg->col[i], "}", 1);
		values[i] = pg->col[i].p;
	}
	if (rc)
		return -ENOMEM;
	snprintf(name, sizeof(name), "u%d", PG_OWNERS);
	if (!PQsendQueryPrepared(pg->conn, name, 2, values, NULL, NULL, 0) || expect(pg, EX_STMT, 0, NULL) < 0)
		return -EIO;
	return 0;
}

/* The flight's questions for a state to resume, as one statement: the arrays of campaigns and of "PSEUDONYM
 * SINCE_MS" (the queries' arguments); the rows it took come back with their pseudonym and campaign. */
int uigw_store_pg_send_takes(struct uigw_store_pg *pg, struct pg_flight *f)
{
	const char *values[2];
	unsigned int i;
	int rc = 0;
	char name[8];

	for (i = 0; i < 2; i++) {
		pg->col[i].len = 0;
		rc |= buf_add(pg, &pg->col[i], "{", 1);
	}
	for (i = 0; i < f->n_takes; i++) {
		rc |= array_elem(pg, &pg->col[0], f->takes[i].q->campaign, i == 0);
		rc |= array_elem(pg, &pg->col[1], f->takes[i].q->arg, i == 0);
	}
	for (i = 0; i < 2; i++) {
		rc |= buf_add(pg, &pg->col[i], "}", 1);
		values[i] = pg->col[i].p;
	}
	if (rc)
		return -ENOMEM;
	snprintf(name, sizeof(name), "u%d", PG_TAKES);
	if (!PQsendQueryPrepared(pg->conn, name, 2, values, NULL, NULL, 0) || expect(pg, EX_TAKES, -1, NULL) < 0)
		return -EIO;
	return 0;
}
