/*! \file store_read.c
 *  Synchronous reads of the feedback store for the VTY views and uigw_store_query_sync(), on the loop
 *  thread's read-only connection (WAL: a reader sees the last commit and never waits for the writer). Also
 *  the contextual query SQL that the writer runs after each commit, and the SQL helper functions. */

#include <errno.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/utils.h>
#include <talloc.h>
#include <osmocom/uigw/common/hash.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/store/store.h>
#include "store_priv.h"

/* Every query returns (count, value); parameters $campaign and $arg where used. */
const char *const uigw_store_query_sql[_UIGW_Q_NUM] = {
	[UIGW_Q_SPAM_REPORTS] =
		"SELECT coalesce((SELECT reports FROM spam_number WHERE number = $arg), 0), 0",
	[UIGW_Q_LIKES] =
		"SELECT count(*), 0 FROM reaction WHERE content = $arg AND reaction = 'like'",
	[UIGW_Q_DISLIKES] =
		"SELECT count(*), 0 FROM reaction WHERE content = $arg AND reaction = 'dislike'",
	[UIGW_Q_SUBSCRIBES] =
		"SELECT count(*), 0 FROM reaction WHERE content = $arg AND reaction = 'subscribe'",
	[UIGW_Q_APP_RATING] =
		"SELECT count(*), coalesce(avg(rating), 0) FROM app_rating WHERE app = $arg",
	[UIGW_Q_APP_RATINGS] =
		"SELECT count(*), coalesce(avg(rating), 0) FROM app_rating WHERE app = $arg",
	[UIGW_Q_FLAGS] =
		"SELECT count(*), 0 FROM flag WHERE content = $arg",
	/* from the counts the triggers keep (store_schema.c, version 6), not from every answer */
	[UIGW_Q_ANSWERS] =
		"SELECT coalesce(sum(n), 0), 0 FROM answer_count WHERE campaign = $campaign AND question = $arg",
	[UIGW_Q_AVERAGE] =
		("SELECT coalesce(sum(n), 0), coalesce(sum(CAST(value AS REAL) * n) / sum(n), 0) FROM answer_count"
		 " WHERE campaign = $campaign AND question = $arg AND n > 0 AND is_number(value)"),
	/* one gateway: its resume records are in memory (dialog_resume.c); never asked */
	[UIGW_Q_DLG_STATE] = "SELECT 0, 0 WHERE $campaign IS NULL AND $arg IS NULL",
};

/* Times in the webhooks' JSON as RFC 3339 UTC with milliseconds, as the HTTP API writes them */
#define WH_TIME(ms) "(strftime('%Y-%m-%dT%H:%M:%S', " ms " / 1000, 'unixepoch') || printf('.%03dZ', " ms " % 1000))"
/* An outbox entry as it is delivered: the delivery id (nonce and id in hex), the event's name, and its JSON made
 * from the row it refers to (store_outbox.c); a refused trigger's JSON is kept in the entry */
#define WH_ENTRY_SQL(dead) \
	"SELECT o.id, printf('%016x%016x', o.nonce, o.id)," \
	" CASE o.event WHEN 0 THEN 'answer' WHEN 1 THEN 'dialog.ended' WHEN 2 THEN 'spam.report'" \
	"  ELSE 'trigger.refused' END," \
	" CASE WHEN o.data IS NOT NULL THEN o.data" \
	"  WHEN o.event = 0 THEN (SELECT json_object('campaign', r.campaign, 'version', r.version," \
	"   'dialog', CAST(r.dialog AS TEXT), 'channel', r.channel, 'subscriber', r.subscriber, 'node', r.node," \
	"   'question', r.question, 'value', r.value, 'language', r.language," \
	"   'roaming', json(CASE WHEN r.roaming THEN 'true' ELSE 'false' END), 'time', " WH_TIME("r.time") ")" \
	"   FROM response r WHERE r.dialog = o.ref AND r.question = o.ref_text AND r.dialog > 0)" \
	"  WHEN o.event = 1 THEN (SELECT json_object('campaign', d.campaign, 'version', d.version," \
	"   'dialog', CAST(d.id AS TEXT), 'channel', d.channel, 'subscriber', d.subscriber, 'outcome', d.outcome," \
	"   'steps', d.steps, 'last_node', d.last_node, 'started', " WH_TIME("d.started") "," \
	"   'ended', " WH_TIME("d.ended") ") FROM dialog d WHERE d.id = o.ref)" \
	"  WHEN o.event = 2 THEN (SELECT json_object('number', s.number," \
	"   'counted', json(CASE WHEN s.counted THEN 'true' ELSE 'false' END), 'campaign', s.campaign," \
	"   'channel', s.channel, 'subscriber', s.reporter, 'time', " WH_TIME("s.time") ")" \
	"   FROM spam_report s WHERE s.rowid = o.ref)" \
	" END, o.created, o.since, o.attempts, coalesce(o.last_status, 0) FROM webhook_outbox o" \
	" WHERE o.webhook = $webhook AND o.dead = " dead " AND o.id > $after ORDER BY o.id LIMIT $limit"

static const char *const rstmt_sql[_RSTMT_NUM] = {
	[RSTMT_SPAM_TOP] =
		"SELECT number, reports, last_time FROM spam_number ORDER BY reports DESC, last_time DESC, number"
		" LIMIT $n",
	[RSTMT_FEEDBACK] =
		"SELECT question, nullif(channel, ''), value, n FROM answer_count WHERE campaign = $campaign AND n > 0"
		" ORDER BY question, channel, value",
	[RSTMT_OUTCOMES] =
		"SELECT outcome, n FROM dialog_count WHERE campaign = $campaign AND n > 0",
	[RSTMT_RESPONSES] =
		"SELECT coalesce(sum(n), 0) FROM answer_count WHERE campaign = $campaign AND ($test OR channel <> 'vty')",
	[RSTMT_OPTED_OUT] =
		"SELECT coalesce((SELECT opted_out FROM optout WHERE subscriber = $subscriber), 0)"
		" OR EXISTS (SELECT 1 FROM optout_scope WHERE subscriber = $subscriber AND scope IN ($campaign, $tenant))",
	[RSTMT_API_KEYS] =
		"SELECT id, tenant, hash, scopes, created, coalesce(last_used, 0), coalesce(revoked, 0) FROM api_key"
		" ORDER BY id",
	[RSTMT_RESULTS] =
		"SELECT r.id, r.subscriber, r.channel, r.question, r.value, r.node, r.version, r.dialog, r.time,"
		" (SELECT json_group_object(p.name, p.value) FROM dialog_param p WHERE p.dialog = r.dialog"
		"  HAVING count(*) > 0)"
		" FROM response r WHERE r.campaign = $campaign AND r.id > $after AND ($test OR r.channel <> 'vty')"
		" ORDER BY r.id LIMIT $limit",
	[RSTMT_CDR_LAST] =
		"SELECT * FROM (SELECT id, dialog, started, ended, channel, campaign, tenant, subscriber, roaming,"
		" visited, screens, mt_messages, outcome, refusal, charge_class, zero_rated, test, recovered FROM cdr"
		" ORDER BY id DESC LIMIT $n) ORDER BY id",
	[RSTMT_DIALOG] =
		"SELECT campaign, channel, outcome, last_node, started, ended, steps FROM dialog WHERE id = $id",
	[RSTMT_SPAM_NUMBERS] =
		"SELECT n.number, n.reports, n.last_time,"
		" (SELECT count(DISTINCT s.reporter) FROM spam_report s WHERE s.number = n.number AND s.counted = 1)"
		" FROM spam_number n WHERE n.reports >= $min AND coalesce(n.last_time, 0) >= $since"
		" AND ($number IS NULL OR n.number = $number)"
		" ORDER BY n.reports DESC, n.last_time DESC, n.number LIMIT $limit",
	[RSTMT_SPAM_REPORTS] =
		"SELECT channel, campaign, time, counted FROM spam_report WHERE number = $number"
		" ORDER BY time DESC, rowid DESC LIMIT $limit",
	[RSTMT_WEBHOOKS] =
		"SELECT id, tenant, all_campaigns, url, events, secret, created FROM webhook ORDER BY id",
	[RSTMT_WH_PENDING] = WH_ENTRY_SQL("0"),
	[RSTMT_WH_DEAD] = WH_ENTRY_SQL("1"),
	[RSTMT_WH_COUNTS] =
		"SELECT coalesce(sum(dead = 0), 0), coalesce(sum(dead = 1), 0), coalesce(sum(dead = 0 AND since < $cutoff AND id > $after), 0)"
		" FROM webhook_outbox WHERE webhook = $webhook",
};

/* is_number(x): 1 if x is an INTEGER or REAL, or TEXT that is a whole finite decimal number ("7", "-2.5",
 * "1e3"); 0 otherwise ("", "abc", "12abc", " 3", "0x10", "nan", "inf"). */
static void sql_is_number(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	switch (sqlite3_value_type(argv[0])) {
	case SQLITE_INTEGER:
	case SQLITE_FLOAT:
		sqlite3_result_int(ctx, 1);
		return;
	case SQLITE_TEXT:
		break;
	default:
		sqlite3_result_int(ctx, 0);
		return;
	}
	sqlite3_result_int(ctx, uigw_store_is_number((const char *)sqlite3_value_text(argv[0]), NULL));
}

bool uigw_store_is_number(const char *s, double *value)
{
	char *end;
	double d;

	if (!s || !s[0] || strspn(s, "0123456789+-.eE") != strlen(s))
		return false;
	d = strtod(s, &end);
	if (end == s || *end || !isfinite(d))
		return false;
	if (value)
		*value = d;
	return true;
}

int uigw_store_sql_functions(sqlite3 *db)
{
	return sqlite3_create_function(db, "is_number", 1,
				       SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
				       sql_is_number, NULL, NULL);
}

static int bind_opt(sqlite3_stmt *stmt, const char *name, const char *text)
{
	int idx = sqlite3_bind_parameter_index(stmt, name);

	if (idx <= 0)
		return 0;
	return sqlite3_bind_text(stmt, idx, text, -1, SQLITE_STATIC) == SQLITE_OK ? 0 : -EIO;
}

int uigw_store_run_query(sqlite3_stmt *stmt, struct uigw_store_query *q)
{
	int rc;

	q->count = 0;
	q->value = 0;
	if (!stmt) {
		q->rc = -EINVAL;
		return q->rc;
	}
	if (bind_opt(stmt, "$campaign", q->campaign) < 0 || bind_opt(stmt, "$arg", q->arg) < 0) {
		uigw_store_stmt_done(stmt);
		q->rc = -EIO;
		return q->rc;
	}
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		q->count = sqlite3_column_int64(stmt, 0);
		q->value = sqlite3_column_double(stmt, 1);
		q->rc = 0;
	} else {
		LOGP(DSTORE, LOGL_ERROR, "query %d failed: %s\n", q->query, sqlite3_errmsg(sqlite3_db_handle(stmt)));
		q->rc = -EIO;
	}
	uigw_store_stmt_done(stmt);
	return q->rc;
}

int uigw_store_read_prepare(struct uigw_store *st)
{
	unsigned int i;

	for (i = 0; i < _RSTMT_NUM; i++) {
		if (sqlite3_prepare_v3(st->rdb, rstmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->rstmt[i], NULL)
		    != SQLITE_OK)
			goto fail;
	}
	for (i = 0; i < _UIGW_Q_NUM; i++) {
		if (sqlite3_prepare_v3(st->rdb, uigw_store_query_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->rq[i],
				       NULL) != SQLITE_OK)
			goto fail;
	}
	return 0;
fail:
	LOGP(DSTORE, LOGL_ERROR, "cannot prepare a read statement: %s\n", sqlite3_errmsg(st->rdb));
	return -EIO;
}

void uigw_store_read_finalize(struct uigw_store *st)
{
	unsigned int i;

	for (i = 0; i < _RSTMT_NUM; i++) {
		sqlite3_finalize(st->rstmt[i]);
		st->rstmt[i] = NULL;
	}
	for (i = 0; i < _UIGW_Q_NUM; i++) {
		sqlite3_finalize(st->rq[i]);
		st->rq[i] = NULL;
	}
}

/* Step to the end of a result set; \returns 0, or -EIO (logged) if it stopped on an error. */
static int finish(struct uigw_store *st, sqlite3_stmt *s, int rc)
{
	uigw_store_stmt_done(s);
	if (rc != SQLITE_DONE) {
		LOGP(DSTORE, LOGL_ERROR, "read failed: %s\n", sqlite3_errmsg(st->rdb));
		return -EIO;
	}
	return 0;
}

int uigw_store_spam_top(struct uigw_store *st, unsigned int n,
			void (*cb)(const char *number, int64_t reports, int64_t last_ms, void *data), void *data)
{
	sqlite3_stmt *s;
	int rc;

	if (!st || !cb)
		return -EINVAL;
	if (st->pg)
		return uigw_store_pg_spam_top(st, n, cb, data);
	s = st->rstmt[RSTMT_SPAM_TOP];
	if (uigw_store_bind_int64(s, "$n", n) < 0) {
		uigw_store_stmt_done(s);
		return -EIO;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		cb((const char *)sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2),
		   data);
	return finish(st, s, rc);
}

int uigw_store_deferred_load(struct uigw_store *st,
			     void (*cb)(int64_t id, int64_t due_ms, int64_t created_ms, const char *reason,
					const char *campaign, const char *msisdn, int via, const char *to,
					const char *language, const char *params, void *data), void *data)
{
	sqlite3_stmt *s;
	int rc;

	if (!st || !cb)
		return -EINVAL;
	if (st->pg)
		return uigw_store_pg_deferred_load(st, cb, data);
	if (sqlite3_prepare_v2(st->rdb, "SELECT id, due, created, reason, campaign, msisdn, via, to_uri, language,"
			       " params FROM deferred ORDER BY due, id", -1, &s, NULL) != SQLITE_OK) {
		LOGP(DSTORE, LOGL_ERROR, "cannot read the deferred pushes: %s\n", sqlite3_errmsg(st->rdb));
		return -EIO;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
#define T(i) ((const char *)sqlite3_column_text(s, i))
		cb(sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2), T(3), T(4),
		   T(5), sqlite3_column_int(s, 6), T(7), T(8), T(9), data);
#undef T
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		LOGP(DSTORE, LOGL_ERROR, "cannot read the deferred pushes: %s\n", sqlite3_errmsg(st->rdb));
		return -EIO;
	}
	return 0;
}

int uigw_store_cdr_last(struct uigw_store *st, unsigned int n,
			void (*cb)(const struct uigw_cdr_view *r, void *data), void *data)
{
	sqlite3_stmt *s;
	int rc;

	if (!st || !cb)
		return -EINVAL;
	if (st->pg)
		return uigw_store_pg_cdr_last(st, n, cb, data);
	s = st->rstmt[RSTMT_CDR_LAST];
	if (uigw_store_bind_int64(s, "$n", n) < 0) {
		uigw_store_stmt_done(s);
		return -EIO;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
#define T(i) ((const char *)sqlite3_column_text(s, i))
		struct uigw_cdr_view r = {
			.id = sqlite3_column_int64(s, 0), .dialog = sqlite3_column_int64(s, 1),
			.started_ms = sqlite3_column_int64(s, 2), .ended_ms = sqlite3_column_int64(s, 3),
			.channel = T(4), .campaign = T(5), .tenant = T(6), .subscriber = T(7),
			.roaming = sqlite3_column_int(s, 8), .visited = T(9),
			.screens = sqlite3_column_type(s, 10) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 10),
			.mt_messages = sqlite3_column_type(s, 11) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 11),
			.outcome = T(12), .refusal = T(13), .charge_class = T(14),
			.zero_rated = sqlite3_column_int(s, 15), .test = sqlite3_column_int(s, 16),
			.recovered = sqlite3_column_int(s, 17),
		};
#undef T
		cb(&r, data);
	}
	return finish(st, s, rc);
}

int uigw_store_feedback(struct uigw_store *st, const char *campaign,
			void (*cb)(const char *question, const char *channel, const char *value, int64_t count,
				   void *data), void *data)
{
	sqlite3_stmt *s;
	int rc;

	if (!st || !campaign || !cb)
		return -EINVAL;
	if (st->pg)
		return uigw_store_pg_feedback(st, campaign, cb, data);
	s = st->rstmt[RSTMT_FEEDBACK];
	if (uigw_store_bind_text(s, "$campaign", campaign) < 0) {
		uigw_store_stmt_done(s);
		return -EIO;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		cb((const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
		   (const char *)sqlite3_column_text(s, 2), sqlite3_column_int64(s, 3), data);
	return finish(st, s, rc);
}

void uigw_store_outcome_add(int64_t outcomes[_UIGW_OUTCOME_NUM], const char *name, int64_t n, bool test)
{
	int o;

	/* the test drive's, counted apart */
	if (name && !strncmp(name, "test:", 5)) {
		if (!test)
			return;
		name += 5;
	}
	o = name ? get_string_value(uigw_outcome_names, name) : -1;
	if (o >= 0 && o < _UIGW_OUTCOME_NUM)
		outcomes[o] += n;
}

int uigw_store_campaign_counts(struct uigw_store *st, const char *campaign, int64_t outcomes[_UIGW_OUTCOME_NUM],
			       int64_t *responses, bool test)
{
	sqlite3_stmt *s;
	int rc;

	if (!st || !campaign || !outcomes || !responses)
		return -EINVAL;
	memset(outcomes, 0, sizeof(int64_t) * _UIGW_OUTCOME_NUM);
	*responses = 0;
	if (st->pg)
		return uigw_store_pg_campaign_counts(st, campaign, outcomes, responses, test);

	s = st->rstmt[RSTMT_OUTCOMES];
	if (uigw_store_bind_text(s, "$campaign", campaign) < 0) {
		uigw_store_stmt_done(s);
		return -EIO;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		uigw_store_outcome_add(outcomes, (const char *)sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1),
				       test);
	rc = finish(st, s, rc);
	if (rc < 0)
		return rc;

	s = st->rstmt[RSTMT_RESPONSES];
	if (uigw_store_bind_text(s, "$campaign", campaign) < 0 || uigw_store_bind_int64(s, "$test", test) < 0) {
		uigw_store_stmt_done(s);
		return -EIO;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*responses = sqlite3_column_int64(s, 0);
		rc = SQLITE_DONE;
	}
	return finish(st, s, rc);
}

int uigw_store_query_sync(struct uigw_store *st, struct uigw_store_query *q)
{
	if (!st || !q)
		return -EINVAL;
	if ((unsigned int)q->query >= _UIGW_Q_NUM) {
		q->rc = -EINVAL;
		return q->rc;
	}
	if (st->pg)
		return uigw_store_pg_query_sync(st, q);
	return uigw_store_run_query(st->rq[q->query], q);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* The opt-out filter: a Bloom filter of every pseudonym that opted out (loaded at open, added to when an opt-out
 * row is submitted, never removed from: an opt-in back leaves a false "maybe"). "No" is certain and spares the
 * trigger path a read of the database; "maybe" reads it. Sized for 20 bits per opt-out at open (at least 1 MiB):
 * with 4 probes about 0.1 % of the others read the database, ~1 % once the opt-outs have doubled since the
 * start; the next start sizes it again. Only this process writes the database, so nothing bypasses it. */
#define OPTOUT_PROBES		4
#define OPTOUT_MIN_BITS		(1u << 23)
#define OPTOUT_MAX_BITS		(1u << 31)

static bool optout_probe(struct uigw_store *st, const char *subscriber, bool set)
{
	uint32_t h1 = uigw_hash32(subscriber, 0), h2 = uigw_hash32(subscriber, 0x9e3779b9u) | 1;
	unsigned int i;
	bool all = true;

	for (i = 0; i < OPTOUT_PROBES; i++) {
		uint32_t b = (h1 + i * h2) & st->optout_mask;

		if (set)
			st->optout_bits[b >> 3] |= 1u << (b & 7);
		else if (!(st->optout_bits[b >> 3] & (1u << (b & 7))))
			all = false;
	}
	return all;
}

void uigw_store_optout_note(struct uigw_store *st, const char *subscriber)
{
	if (!st->optout_bits || !subscriber)
		return;
	optout_probe(st, subscriber, true);
	if (++st->optout_n == (st->optout_mask + 1) / 10)
		LOGP(DSTORE, LOGL_NOTICE, "opt-out filter: %u opt-outs, about 1 %% of the checks read the database "
		     "(it is sized again at the next start)\n", st->optout_n);
}

int uigw_store_optout_load(struct uigw_store *st)
{
	sqlite3_stmt *s;
	uint64_t bits = OPTOUT_MIN_BITS;
	int64_t n = 0;
	int rc;

	if (sqlite3_prepare_v2(st->rdb, "SELECT (SELECT count(*) FROM optout WHERE opted_out = 1)"
			       " + (SELECT count(*) FROM optout_scope)", -1, &s, NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	while (bits < (uint64_t)n * 20 && bits < OPTOUT_MAX_BITS)
		bits <<= 1;
	st->optout_bits = talloc_zero_size(st, bits / 8);
	if (!st->optout_bits)
		goto fail;
	st->optout_mask = (uint32_t)(bits - 1);
	st->optout_n = 0;
	if (sqlite3_prepare_v2(st->rdb, "SELECT subscriber FROM optout WHERE opted_out = 1"
			       " UNION ALL SELECT subscriber FROM optout_scope", -1, &s, NULL) != SQLITE_OK)
		goto fail;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *sub = (const char *)sqlite3_column_text(s, 0);

		if (sub) {
			optout_probe(st, sub, true);
			st->optout_n++;
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		goto fail;
	return 0;
fail:
	LOGP(DSTORE, LOGL_ERROR, "cannot build the opt-out filter (%s): every opt-out check reads the database\n",
	     sqlite3_errmsg(st->rdb));
	TALLOC_FREE(st->optout_bits);
	return -EIO;
}

/* an opt-out / opt-in submitted, not yet committed */
struct optout_pending {
	struct llist_head list;
	struct uigw_store_job *job;
	char subscriber[33];
	char scope[64];			/* "" : every push */
	bool out;
};

void uigw_store_optout_pending_add(struct uigw_store *st, struct uigw_store_job *job, const struct uigw_store_row *r)
{
	struct optout_pending *p;

	if (!r->subscriber)
		return;
	p = talloc_zero(st, struct optout_pending);
	if (!p)
		return;	/* the check reads the database alone: right once the row is committed */
	p->job = job;
	OSMO_STRLCPY_ARRAY(p->subscriber, r->subscriber);
	OSMO_STRLCPY_ARRAY(p->scope, r->u.optout.scope ? r->u.optout.scope : "");
	p->out = r->u.optout.opt_out;
	llist_add_tail(&p->list, &st->optout_pending);
}

void uigw_store_optout_pending_done(struct uigw_store *st, struct uigw_store_job *job)
{
	struct optout_pending *p, *tmp;

	llist_for_each_entry_safe(p, tmp, &st->optout_pending, list) {
		if (p->job != job)
			continue;
		llist_del(&p->list);
		talloc_free(p);
	}
}

/* The newest pending row about \a subscriber that concerns this check: \returns 1 (out), 0 (in), -1 (none) */
static int optout_pending(struct uigw_store *st, const char *subscriber, const char *cscope, const char *tscope)
{
	struct optout_pending *p;

	llist_for_each_entry_reverse(p, &st->optout_pending, list) {
		if (strcmp(p->subscriber, subscriber))
			continue;
		if (!p->scope[0] || (cscope && !strcmp(p->scope, cscope)) || (tscope && !strcmp(p->scope, tscope))) {
			/* a scoped opt-in says nothing of the other scopes or of the whole list */
			if (!p->out && p->scope[0])
				continue;
			return p->out ? 1 : 0;
		}
	}
	return -1;
}

int uigw_store_is_opted_out(struct uigw_store *st, const char *subscriber)
{
	return uigw_store_opted_out_of(st, subscriber, NULL, NULL);
}

int uigw_store_opted_out_of(struct uigw_store *st, const char *subscriber, const char *campaign, const char *tenant)
{
	char cscope[64], tscope[64];
	sqlite3_stmt *s;
	int rc, out = 0;

	if (!st || !subscriber)
		return -EINVAL;
	st->optout_checks++;
	snprintf(cscope, sizeof(cscope), "campaign:%s", campaign ? campaign : "");
	snprintf(tscope, sizeof(tscope), "tenant:%s", tenant ? tenant : "");
	/* what was just submitted decides before the database has it */
	if (!llist_empty(&st->optout_pending)) {
		out = optout_pending(st, subscriber, campaign ? cscope : NULL, tenant ? tscope : NULL);
		if (out >= 0)
			return out;
		out = 0;
	}
	if (st->optout_bits && !optout_probe(st, subscriber, false))
		return 0;
	st->optout_reads++;
	if (st->pg)
		return uigw_store_pg_opted_out(st, subscriber, campaign ? cscope : NULL, tenant ? tscope : NULL);
	s = st->rstmt[RSTMT_OPTED_OUT];
	if (uigw_store_bind_text(s, "$subscriber", subscriber) < 0 ||
	    (campaign && uigw_store_bind_text(s, "$campaign", cscope) < 0) ||
	    (tenant && uigw_store_bind_text(s, "$tenant", tscope) < 0)) {
		uigw_store_stmt_done(s);
		return -EIO;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out = sqlite3_column_int(s, 0) ? 1 : 0;
		rc = SQLITE_DONE;
	}
	rc = finish(st, s, rc);
	return rc < 0 ? rc : out;
}

int uigw_store_optout_scopes(struct uigw_store *st, const char *subscriber,
			     void (*cb)(const char *scope, int64_t time_ms, const char *channel, void *data), void *data)
{
	sqlite3_stmt *s;
	int rc;

	if (!st || !subscriber || !cb)
		return -EINVAL;
	if (st->pg)
		return uigw_store_pg_optout_scopes(st, subscriber, cb, data);
	if (sqlite3_prepare_v2(st->rdb, "SELECT scope, time, channel FROM optout_scope WHERE subscriber = ?1"
			       " ORDER BY scope", -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(s, 1, subscriber, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		cb((const char *)sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1),
		   (const char *)sqlite3_column_text(s, 2), data);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int uigw_store_mt_load(struct uigw_store *st, uigw_store_mt_cb cb, void *data, int64_t *max_id)
{
	static const char sql[] = "SELECT id, channel, dialog, created, expires, final, link, pdu, sending FROM mt_queue"
				  " ORDER BY id";
	sqlite3_stmt *s;
	int rc, n = 0;

	if (max_id)
		*max_id = 0;
	if (!st || !cb)
		return -EINVAL;
	if (st->pg)
		return uigw_store_pg_mt_load(st, cb, data, max_id);
	if (sqlite3_prepare_v2(st->rdb, sql, -1, &s, NULL) != SQLITE_OK) {
		LOGP(DSTORE, LOGL_ERROR, "cannot read the MT queue: %s\n", sqlite3_errmsg(st->rdb));
		return -EIO;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct uigw_store_row r = {
			.kind = UIGW_ROW_MT,
			.channel = (const char *)sqlite3_column_text(s, 1),
			.dialog = (uint64_t)sqlite3_column_int64(s, 2),
			.time_ms = sqlite3_column_int64(s, 3),
		};

		r.u.mt.id = sqlite3_column_int64(s, 0);
		r.u.mt.expires_ms = sqlite3_column_int64(s, 4);
		r.u.mt.restart = sqlite3_column_int(s, 5) != 0;
		r.u.mt.link = (const char *)sqlite3_column_text(s, 6);
		r.u.mt.pdu = sqlite3_column_blob(s, 7);
		r.u.mt.pdu_len = sqlite3_column_bytes(s, 7);
		r.u.mt.sending = sqlite3_column_int(s, 8) != 0;
		if (max_id && r.u.mt.id > *max_id)
			*max_id = r.u.mt.id;
		n++;
		if (cb(&r, data) < 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		LOGP(DSTORE, LOGL_ERROR, "reading the MT queue failed: %s\n", sqlite3_errmsg(st->rdb));
		return -EIO;
	}
	return n;
}

int uigw_store_push_count(struct uigw_store *st, const char *subscriber, const char *campaign, int64_t since_ms)
{
	static const char sql_all[] =
		"SELECT count(*) FROM push WHERE subscriber = $subscriber AND time > $since AND result = 'sent'";
	static const char sql_one[] =
		"SELECT count(*) FROM push WHERE subscriber = $subscriber AND time > $since AND result = 'sent'"
		" AND campaign = $campaign";
	sqlite3_stmt *s;
	int rc, n = 0;

	if (!st || !subscriber)
		return -EINVAL;
	if (st->pg)
		return uigw_store_pg_push_count(st, subscriber, campaign, since_ms);
	if (sqlite3_prepare_v2(st->rdb, campaign ? sql_one : sql_all, -1, &s, NULL) != SQLITE_OK) {
		LOGP(DSTORE, LOGL_ERROR, "cannot count pushes: %s\n", sqlite3_errmsg(st->rdb));
		return -EIO;
	}
	if (sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, "$subscriber"), subscriber, -1, SQLITE_STATIC) ||
	    sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, "$since"), since_ms) ||
	    (campaign && sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, "$campaign"), campaign, -1,
					   SQLITE_STATIC))) {
		sqlite3_finalize(s);
		return -EIO;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		n = sqlite3_column_int(s, 0);
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		LOGP(DSTORE, LOGL_ERROR, "counting pushes failed: %s\n", sqlite3_errmsg(st->rdb));
		return -EIO;
	}
	return n;
}

bool uigw_store_shared(const struct uigw_store *st)
{
	return st && st->pg;
}

int uigw_store_dialog_state_take(struct uigw_store *st, const char *subscriber, const char *cls,
				 const char *campaign, int64_t since_ms,
				 void (*cb)(const char *campaign, unsigned int version, const char *node, const char *hist,
					    const char *vars, void *data), void *data)
{
	if (!st || !subscriber || !cls || !cb)
		return -EINVAL;
	if (!st->pg)
		return 0;
	return uigw_store_pg_dialog_state_take(st, subscriber, cls, campaign, since_ms, cb, data);
}

int uigw_store_push_reserve(struct uigw_store *st, const char *subscriber, const char *campaign, const char *channel,
			    int64_t now_ms, unsigned int c_count, unsigned int c_per, unsigned int g_count,
			    unsigned int g_per)
{
	if (!st || !subscriber || !campaign)
		return -EINVAL;
	if (!st->pg)
		return -ENOTSUP;
	return uigw_store_pg_push_reserve(st, subscriber, campaign, channel, now_ms, c_count, c_per, g_count, g_per);
}

int uigw_store_receipt_counts(struct uigw_store *st, void (*cb)(const char *state, int64_t n, void *data),
			      void *data)
{
	static const char sql[] = "SELECT state, count(*) FROM mt_receipt GROUP BY state ORDER BY state";
	sqlite3_stmt *s;
	int rc, n = 0;

	if (!st || !cb)
		return -EINVAL;
	if (st->pg)
		return uigw_store_pg_receipt_counts(st, cb, data);
	if (sqlite3_prepare_v2(st->rdb, sql, -1, &s, NULL) != SQLITE_OK)
		return -EIO;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		cb((const char *)sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1), data);
		n++;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? n : -EIO;
}

int uigw_store_api_keys(struct uigw_store *st, void (*cb)(const struct uigw_store_api_key *k, void *data),
			void *data)
{
	struct uigw_store_api_key k;
	sqlite3_stmt *s;
	int rc, n = 0;

	if (!st || !cb)
		return -EINVAL;
	if (st->pg)
		return uigw_store_pg_api_keys(st, cb, data);
	s = st->rstmt[RSTMT_API_KEYS];
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		k = (struct uigw_store_api_key){
			.id = sqlite3_column_int64(s, 0),
			.tenant = (const char *)sqlite3_column_text(s, 1),
			.hash = (const char *)sqlite3_column_text(s, 2),
			.scopes = (const char *)sqlite3_column_text(s, 3),
			.created_ms = sqlite3_column_int64(s, 4),
			.last_used_ms = sqlite3_column_int64(s, 5),
			.revoked_ms = sqlite3_column_int64(s, 6),
		};
		if (!k.tenant || !k.hash || !k.scopes)
			continue;
		cb(&k, data);
		n++;
	}
	rc = finish(st, s, rc);
	return rc < 0 ? rc : n;
}

int uigw_store_results(struct uigw_store *st, const char *campaign, int64_t after, unsigned int limit, bool test,
		       void (*cb)(const struct uigw_store_result *r, void *data), void *data)
{
	struct uigw_store_result r;
	sqlite3_stmt *s;
	int rc, n = 0;

	if (!st || !campaign || !cb)
		return -EINVAL;
	if (st->pg)
		return uigw_store_pg_results(st, campaign, after, limit, test, cb, data);
	s = st->rstmt[RSTMT_RESULTS];
	if (uigw_store_bind_text(s, "$campaign", campaign) < 0 || uigw_store_bind_int64(s, "$after", after) < 0
	    || uigw_store_bind_int64(s, "$limit", limit) < 0 || uigw_store_bind_int64(s, "$test", test) < 0) {
		uigw_store_stmt_done(s);
		return -EIO;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r = (struct uigw_store_result){
			.id = sqlite3_column_int64(s, 0),
			.subscriber = (const char *)sqlite3_column_text(s, 1),
			.channel = (const char *)sqlite3_column_text(s, 2),
			.question = (const char *)sqlite3_column_text(s, 3),
			.value = (const char *)sqlite3_column_text(s, 4),
			.node = (const char *)sqlite3_column_text(s, 5),
			.version = (unsigned int)sqlite3_column_int64(s, 6),
			.dialog = (uint64_t)sqlite3_column_int64(s, 7),
			.time_ms = sqlite3_column_int64(s, 8),
			.params_json = (const char *)sqlite3_column_text(s, 9),
		};
		cb(&r, data);
		n++;
	}
	rc = finish(st, s, rc);
	return rc < 0 ? rc : n;
}

int uigw_store_dialog_get(struct uigw_store *st, uint64_t id,
			  void (*cb)(const struct uigw_store_dialog *d, void *data), void *data)
{
	struct uigw_store_dialog d;
	sqlite3_stmt *s;
	int rc, n = 0;

	if (!st || !cb)
		return -EINVAL;
	if (st->pg)
		return uigw_store_pg_dialog_get(st, id, cb, data);
	s = st->rstmt[RSTMT_DIALOG];
	if (uigw_store_bind_int64(s, "$id", (int64_t)id) < 0) {
		uigw_store_stmt_done(s);
		return -EIO;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		d = (struct uigw_store_dialog){
			.campaign = (const char *)sqlite3_column_text(s, 0),
			.channel = (const char *)sqlite3_column_text(s, 1),
			.outcome = (const char *)sqlite3_column_text(s, 2),
			.last_node = (const char *)sqlite3_column_text(s, 3),
			.started_ms = sqlite3_column_int64(s, 4),
			.ended_ms = sqlite3_column_int64(s, 5),
			.steps = (unsigned int)sqlite3_column_int64(s, 6),
		};
		cb(&d, data);
		n++;
	}
	rc = finish(st, s, rc);
	return rc < 0 ? rc : n > 0;
}

int uigw_store_spam_numbers(struct uigw_store *st, const char *number, int64_t min_reports, int64_t since_ms,
			    unsigned int limit,
			    void (*cb)(const char *number, int64_t reports, int64_t reporters, int64_t last_ms,
				       void *data), void *data)
{
	sqlite3_stmt *s;
	int rc, n = 0;

	if (!st || !cb)
		return -EINVAL;
	if (st->pg)
		return uigw_store_pg_spam_numbers(st, number, min_reports, since_ms, limit, cb, data);
	s = st->rstmt[RSTMT_SPAM_NUMBERS];
	if (uigw_store_bind_int64(s, "$min", min_reports) < 0 || uigw_store_bind_int64(s, "$since", since_ms) < 0
	    || uigw_store_bind_int64(s, "$limit", limit) < 0
	    || (number && uigw_store_bind_text(s, "$number", number) < 0)) {
		uigw_store_stmt_done(s);
		return -EIO;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		cb((const char *)sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 3),
		   sqlite3_column_int64(s, 2), data);
		n++;
	}
	rc = finish(st, s, rc);
	return rc < 0 ? rc : n;
}

int uigw_store_spam_reports(struct uigw_store *st, const char *number, unsigned int limit,
			    void (*cb)(const char *channel, const char *campaign, int64_t time_ms, bool counted,
				       void *data), void *data)
{
	sqlite3_stmt *s;
	int rc, n = 0;

	if (!st || !number || !cb)
		return -EINVAL;
	if (st->pg)
		return uigw_store_pg_spam_reports(st, number, limit, cb, data);
	s = st->rstmt[RSTMT_SPAM_REPORTS];
	if (uigw_store_bind_text(s, "$number", number) < 0 || uigw_store_bind_int64(s, "$limit", limit) < 0) {
		uigw_store_stmt_done(s);
		return -EIO;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		cb((const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
		   sqlite3_column_int64(s, 2), sqlite3_column_int(s, 3) != 0, data);
		n++;
	}
	rc = finish(st, s, rc);
	return rc < 0 ? rc : n;
}

int uigw_store_webhooks(struct uigw_store *st, void (*cb)(const struct uigw_store_webhook *w, void *data),
			void *data)
{
	struct uigw_store_webhook w;
	sqlite3_stmt *s;
	int rc, n = 0;

	if (!st || !cb)
		return -EINVAL;
	if (st->pg)
		return uigw_store_pg_webhooks(st, cb, data);
	s = st->rstmt[RSTMT_WEBHOOKS];
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		w = (struct uigw_store_webhook){
			.id = sqlite3_column_int64(s, 0),
			.tenant = (const char *)sqlite3_column_text(s, 1),
			.all_campaigns = sqlite3_column_int64(s, 2) != 0,
			.url = (const char *)sqlite3_column_text(s, 3),
			.events = (uint32_t)sqlite3_column_int64(s, 4),
			.secret = (const char *)sqlite3_column_text(s, 5),
			.created_ms = sqlite3_column_int64(s, 6),
		};
		if (!w.tenant || !w.url || !w.secret)
			continue;
		cb(&w, data);
		n++;
	}
	rc = finish(st, s, rc);
	return rc < 0 ? rc : n;
}

int uigw_store_wh_entries(struct uigw_store *st, int64_t webhook, bool dead, int64_t after, unsigned int limit,
			  void (*cb)(const struct uigw_store_wh_entry *e, void *data), void *data)
{
	struct uigw_store_wh_entry e;
	sqlite3_stmt *s;
	int rc, n = 0;

	if (!st || !cb)
		return -EINVAL;
	if (st->pg)
		return uigw_store_pg_wh_entries(st, webhook, dead, after, limit, cb, data);
	s = st->rstmt[dead ? RSTMT_WH_DEAD : RSTMT_WH_PENDING];
	if (uigw_store_bind_int64(s, "$webhook", webhook) < 0 || uigw_store_bind_int64(s, "$after", after) < 0
	    || uigw_store_bind_int64(s, "$limit", limit) < 0) {
		uigw_store_stmt_done(s);
		return -EIO;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		e = (struct uigw_store_wh_entry){
			.id = sqlite3_column_int64(s, 0),
			.delivery = (const char *)sqlite3_column_text(s, 1),
			.event = (const char *)sqlite3_column_text(s, 2),
			.data = (const char *)sqlite3_column_text(s, 3),
			.created_ms = sqlite3_column_int64(s, 4),
			.since_ms = sqlite3_column_int64(s, 5),
			.attempts = (unsigned int)sqlite3_column_int64(s, 6),
			.last_status = (int)sqlite3_column_int64(s, 7),
		};
		if (!e.delivery || !e.event)
			continue;
		if (!e.data)
			e.data = "null";	/* the row it reported is gone: delivered without its fields */
		cb(&e, data);
		n++;
	}
	rc = finish(st, s, rc);
	return rc < 0 ? rc : n;
}

int uigw_store_wh_counts(struct uigw_store *st, int64_t webhook, int64_t cutoff_ms, int64_t after,
			 int64_t *pending, int64_t *dead, int64_t *older)
{
	sqlite3_stmt *s;
	int rc;

	if (!st)
		return -EINVAL;
	if (st->pg)
		return uigw_store_pg_wh_counts(st, webhook, cutoff_ms, after, pending, dead, older);
	s = st->rstmt[RSTMT_WH_COUNTS];
	if (uigw_store_bind_int64(s, "$webhook", webhook) < 0 || uigw_store_bind_int64(s, "$cutoff", cutoff_ms) < 0
	    || uigw_store_bind_int64(s, "$after", after) < 0) {
		uigw_store_stmt_done(s);
		return -EIO;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (pending)
			*pending = sqlite3_column_int64(s, 0);
		if (dead)
			*dead = sqlite3_column_int64(s, 1);
		if (older)
			*older = sqlite3_column_int64(s, 2);
		rc = sqlite3_step(s);
	}
	return finish(st, s, rc);
}
