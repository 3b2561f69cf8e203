/*! \file store_pg_read.c
 *  The PostgreSQL backend's reads: the same answers as store_read.c's, from a second connection of the loop
 *  (blocking, as the SQLite reads are: for VTY views, the API's pages, a push's checks). It sees what every
 *  instance committed. Opened at the first read and again after a failure, with a connect timeout of 2 s unless
 *  the connection string names one. Ordering of text is bytewise (COLLATE "C"), as SQLite's. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/store/store.h>
#include "store_pg_priv.h"

#define MAX_PARAMS 8

struct pgq {
	int n;
	const char *v[MAX_PARAMS];
	char buf[MAX_PARAMS][24];
	const Oid *types;	/*!< or NULL: inferred (a parameter the SQL may leave unused needs its type) */
	bool built;		/*!< the SQL was built for this call (not a constant: not prepared) */
};

static void q_text(struct pgq *q, const char *s)
{
	q->v[q->n++] = s;
}

static void q_int(struct pgq *q, int64_t v)
{
	snprintf(q->buf[q->n], sizeof(q->buf[0]), "%" PRId64, v);
	q_text(q, q->buf[q->n]);
}

/* Run a read. \returns its rows (PQclear() them) or NULL (logged; a broken connection is made again next time) */
static PGresult *run(struct uigw_store *st, const char *what, const char *sql, const struct pgq *q)
{
	PGresult *res = uigw_store_pg_read_exec(st, sql, q ? q->n : 0, q ? q->types : NULL, q ? q->v : NULL,
						 !q || !q->built);

	if (!res)
		return NULL;
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		return res;
	LOGP(DSTORE, LOGL_ERROR, "PostgreSQL: reading %s failed: %s", what, PQresultErrorMessage(res));
	PQclear(res);
	uigw_store_pg_rconn_failed(st);
	return NULL;
}

#define T(i) (PQgetisnull(res, row, i) ? NULL : PQgetvalue(res, row, i))
#define I(i) strtoll(PQgetvalue(res, row, i), NULL, 10)
#define B(i) (PQgetvalue(res, row, i)[0] == 't')
#define FOR_ROWS for (row = 0; row < PQntuples(res); row++)

/* ---------------------------------------------------------------------------------------------------------- */
/* the reads' connection (blocking, as the SQLite reads) */

struct pg_conn *uigw_store_pg_rconn(struct uigw_store *st)
{
	struct uigw_store_pg *pg = st->pg;
	/* a connect_timeout before the connection string: the string's own, if it has one, wins */
	const char *const keys[] = { "connect_timeout", "dbname", NULL };
	const char *const vals[] = { "2", pg->conninfo, NULL };

	if (pg->rconn && PQstatus(pg->rconn) == CONNECTION_OK)
		return pg->rconn;
	if (pg->rconn)
		PQfinish(pg->rconn);
	pg->n_rprep = 0;	/* a new connection has no prepared statements */
	pg->rconn = PQconnectdbParams(keys, vals, 1);
	if (pg->rconn && PQstatus(pg->rconn) == CONNECTION_OK) {
		PQsetNoticeProcessor(pg->rconn, uigw_store_pg_notice_cb, pg);
		return pg->rconn;
	}
	LOGP(DSTORE, LOGL_ERROR, "PostgreSQL: cannot read: %s", pg->rconn ? PQerrorMessage(pg->rconn) : "no memory\n");
	if (pg->rconn)
		PQfinish(pg->rconn);
	pg->rconn = NULL;
	return NULL;
}

PGresult *uigw_store_pg_read_exec(struct uigw_store *st, const char *sql, int n, const Oid *types,
				   const char *const *values, bool constant)
{
	struct uigw_store_pg *pg = st->pg;
	PGconn *c = uigw_store_pg_rconn(st);
	unsigned int i;
	char name[8];

	if (!c)
		return NULL;
	if (!constant)
		return PQexecParams(c, sql, n, types, values, NULL, NULL, 0);
	/* a read of the hot paths (a push's checks, a dialog's begin) is parsed and planned once per connection */
	for (i = 0; i < pg->n_rprep && pg->rprep[i].sql != sql; i++)
		;
	snprintf(name, sizeof(name), "r%u", i);
	if (i == pg->n_rprep) {
		PGresult *res;

		if (i == ARRAY_SIZE(pg->rprep))
			return PQexecParams(c, sql, n, types, values, NULL, NULL, 0);
		res = PQprepare(c, name, sql, n, types);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			return res;	/* the caller logs the error */
		PQclear(res);
		pg->rprep[pg->n_rprep++].sql = sql;
	}
	return PQexecPrepared(c, name, n, values, NULL, NULL, 0);
}

void uigw_store_pg_rconn_failed(struct uigw_store *st)
{
	struct uigw_store_pg *pg = st->pg;

	if (pg->rconn && PQstatus(pg->rconn) != CONNECTION_OK) {
		PQfinish(pg->rconn);
		pg->rconn = NULL;
		pg->n_rprep = 0;
	}
}

int uigw_store_pg_spam_top(struct uigw_store *st, unsigned int n,
			   void (*cb)(const char *number, int64_t reports, int64_t last_ms, void *data), void *data)
{
	struct pgq q = {};
	PGresult *res;
	int row;

	q_int(&q, n);
	res = run(st, "the spam top list", "SELECT number, reports, coalesce(last_time, 0) FROM spam_number"
		  " ORDER BY reports DESC, last_time DESC NULLS LAST, number COLLATE \"C\" LIMIT $1", &q);
	if (!res)
		return -EIO;
	FOR_ROWS
		cb(T(0), I(1), I(2), data);
	PQclear(res);
	return 0;
}

int uigw_store_pg_deferred_load(struct uigw_store *st,
				void (*cb)(int64_t id, int64_t due_ms, int64_t created_ms, const char *reason,
					   const char *campaign, const char *msisdn, int via, const char *to,
					   const char *language, const char *params, void *data), void *data)
{
	struct pgq q = {};
	PGresult *res;
	int row;

	/* this instance's own */
	q_text(&q, uigw_store_pg_instance(st));
	res = run(st, "the deferred pushes", "SELECT id, due, created, reason, campaign, msisdn, via, to_uri, language,"
		  " params FROM deferred WHERE instance = $1 ORDER BY due, id", &q);
	if (!res)
		return -EIO;
	FOR_ROWS
		cb(I(0), I(1), I(2), T(3), T(4), T(5), (int)I(6), T(7), T(8), T(9), data);
	PQclear(res);
	return 0;
}

int uigw_store_pg_cdr_last(struct uigw_store *st, unsigned int n,
			   void (*cb)(const struct uigw_cdr_view *r, void *data), void *data)
{
	struct pgq q = {};
	PGresult *res;
	int row;

	q_int(&q, n);
	res = run(st, "the charging records", "SELECT * FROM (SELECT id, dialog, started, ended, channel, campaign,"
		  " tenant, subscriber, roaming, visited, screens, mt_messages, outcome, refusal, charge_class, zero_rated,"
		  " test, recovered FROM cdr ORDER BY id DESC LIMIT $1) c ORDER BY id", &q);
	if (!res)
		return -EIO;
	FOR_ROWS {
		struct uigw_cdr_view r = {
			.id = I(0), .dialog = I(1), .started_ms = I(2), .ended_ms = I(3),
			.channel = T(4), .campaign = T(5), .tenant = T(6), .subscriber = T(7),
			.roaming = B(8), .visited = T(9),
			.screens = PQgetisnull(res, row, 10) ? -1 : (int)I(10),
			.mt_messages = PQgetisnull(res, row, 11) ? -1 : (int)I(11),
			.outcome = T(12), .refusal = T(13), .charge_class = T(14),
			.zero_rated = B(15), .test = B(16), .recovered = B(17),
		};
		cb(&r, data);
	}
	PQclear(res);
	return 0;
}

int uigw_store_pg_feedback(struct uigw_store *st, const char *campaign,
			   void (*cb)(const char *question, const char *channel, const char *value, int64_t count,
				      void *data), void *data)
{
	struct pgq q = {};
	PGresult *res;
	int row;

	q_text(&q, campaign);
	res = run(st, "the feedback", "SELECT question, nullif(channel, ''), value, n FROM answer_count"
		  " WHERE campaign = $1 AND n > 0 ORDER BY question COLLATE \"C\", channel COLLATE \"C\","
		  " value COLLATE \"C\"", &q);
	if (!res)
		return -EIO;
	FOR_ROWS
		cb(T(0), T(1), T(2), I(3), data);
	PQclear(res);
	return 0;
}

int uigw_store_pg_campaign_counts(struct uigw_store *st, const char *campaign, int64_t outcomes[_UIGW_OUTCOME_NUM],
				  int64_t *responses, bool test)
{
	struct pgq q = {};
	PGresult *res;
	int row;

	q_text(&q, campaign);
	res = run(st, "the outcomes", "SELECT outcome, n FROM dialog_count WHERE campaign = $1 AND n > 0", &q);
	if (!res)
		return -EIO;
	FOR_ROWS
		uigw_store_outcome_add(outcomes, T(0), I(1), test);
	PQclear(res);
	q_text(&q, test ? "t" : "f");
	res = run(st, "the answer count", "SELECT coalesce(sum(n), 0) FROM answer_count WHERE campaign = $1"
		  " AND ($2::boolean OR channel <> 'vty')", &q);
	if (!res)
		return -EIO;
	row = 0;
	if (PQntuples(res) == 1)
		*responses = I(0);
	PQclear(res);
	return 0;
}

int uigw_store_pg_query_sync(struct uigw_store *st, struct uigw_store_query *q)
{
	static const Oid text2[2] = { 25, 25 };
	const char *v[2] = { q->campaign, q->arg };
	PGconn *c = uigw_store_pg_rconn(st);
	PGresult *res;

	q->rc = -EIO;
	if (!c)
		return q->rc;
	res = PQexecParams(c, uigw_store_pg_stmts[PG_Q_FIRST + q->query].sql, 2, text2, v, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		q->count = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		q->value = strtod(PQgetvalue(res, 0, 1), NULL);
		q->rc = 0;
	} else {
		LOGP(DSTORE, LOGL_ERROR, "PostgreSQL: a query failed: %s", PQresultErrorMessage(res));
		uigw_store_pg_rconn_failed(st);
	}
	PQclear(res);
	return q->rc;
}

int uigw_store_pg_opted_out(struct uigw_store *st, const char *subscriber, const char *cscope, const char *tscope)
{
	struct pgq q = {};
	PGresult *res;
	int row = 0, out;

	q_text(&q, subscriber);
	q_text(&q, cscope);
	q_text(&q, tscope);
	res = run(st, "an opt-out", "SELECT coalesce((SELECT opted_out FROM optout WHERE subscriber = $1), false)"
		  " OR EXISTS (SELECT 1 FROM optout_scope WHERE subscriber = $1 AND scope IN ($2, $3))", &q);
	if (!res)
		return -EIO;
	out = PQntuples(res) == 1 && B(0);
	PQclear(res);
	return out;
}

int uigw_store_pg_optout_scopes(struct uigw_store *st, const char *subscriber,
				void (*cb)(const char *scope, int64_t time_ms, const char *channel, void *data),
				void *data)
{
	struct pgq q = {};
	PGresult *res;
	int row;

	q_text(&q, subscriber);
	res = run(st, "the opt-out scopes", "SELECT scope, coalesce(time, 0), channel FROM optout_scope"
		  " WHERE subscriber = $1 ORDER BY scope COLLATE \"C\"", &q);
	if (!res)
		return -EIO;
	FOR_ROWS
		cb(T(0), I(1), T(2), data);
	PQclear(res);
	return 0;
}

int uigw_store_pg_mt_load(struct uigw_store *st, uigw_store_mt_cb cb, void *data, int64_t *max_id)
{
	struct pgq q = {};
	PGresult *res;
	int row, n = 0;

	/* this instance's own queue */
	q_text(&q, uigw_store_pg_instance(st));
	res = run(st, "the MT queue", "SELECT id, channel, dialog, created, expires, final, link, pdu, sending"
		  " FROM mt_queue WHERE instance = $1 ORDER BY id", &q);
	if (!res)
		return -EIO;
	FOR_ROWS {
		struct uigw_store_row r = {
			.kind = UIGW_ROW_MT,
			.channel = T(1),
			.dialog = (uint64_t)I(2),
			.time_ms = I(3),
		};
		size_t len = 0;
		unsigned char *pdu = PQunescapeBytea((const unsigned char *)PQgetvalue(res, row, 7), &len);
		int stop;

		if (!pdu) {
			PQclear(res);
			return -ENOMEM;
		}
		r.u.mt.id = I(0);
		r.u.mt.expires_ms = I(4);
		r.u.mt.restart = B(5);
		r.u.mt.link = T(6);
		r.u.mt.pdu = pdu;
		r.u.mt.pdu_len = len;
		r.u.mt.sending = B(8);
		if (max_id && r.u.mt.id > *max_id)
			*max_id = r.u.mt.id;
		n++;
		stop = cb(&r, data) < 0;
		PQfreemem(pdu);
		if (stop)
			break;
	}
	PQclear(res);
	return n;
}

int uigw_store_pg_push_count(struct uigw_store *st, const char *subscriber, const char *campaign, int64_t since_ms)
{
	struct pgq q = {};
	PGresult *res;
	int row = 0, n;

	q_text(&q, subscriber);
	q_int(&q, since_ms);
	q_text(&q, campaign);
	res = run(st, "the pushes", "SELECT count(*) FROM push WHERE subscriber = $1 AND time > $2 AND result = 'sent'"
		  " AND ($3::text IS NULL OR campaign = $3)", &q);
	if (!res)
		return -EIO;
	n = PQntuples(res) == 1 ? (int)I(0) : 0;
	PQclear(res);
	return n;
}

int uigw_store_pg_receipt_counts(struct uigw_store *st, void (*cb)(const char *state, int64_t n, void *data),
				 void *data)
{
	PGresult *res = run(st, "the receipts", "SELECT state, count(*) FROM mt_receipt GROUP BY state"
			    " ORDER BY state COLLATE \"C\"", NULL);
	int row;

	if (!res)
		return -EIO;
	FOR_ROWS
		cb(T(0), I(1), data);
	row = PQntuples(res);
	PQclear(res);
	return row;
}

int uigw_store_pg_api_keys(struct uigw_store *st, void (*cb)(const struct uigw_store_api_key *k, void *data),
			   void *data)
{
	PGresult *res = run(st, "the API keys", "SELECT id, tenant, hash, scopes, created, coalesce(last_used, 0),"
			    " coalesce(revoked, 0) FROM api_key ORDER BY id", NULL);
	int row, n = 0;

	if (!res)
		return -EIO;
	FOR_ROWS {
		struct uigw_store_api_key k = {
			.id = I(0), .tenant = T(1), .hash = T(2), .scopes = T(3),
			.created_ms = I(4), .last_used_ms = I(5), .revoked_ms = I(6),
		};

		cb(&k, data);
		n++;
	}
	PQclear(res);
	return n;
}

int uigw_store_pg_results(struct uigw_store *st, const char *campaign, int64_t after, unsigned int limit, bool test,
			  void (*cb)(const struct uigw_store_result *r, void *data), void *data)
{
	struct pgq q = {};
	PGresult *res;
	int row, n = 0;

	q_text(&q, campaign);
	q_int(&q, after);
	q_int(&q, limit);
	q_text(&q, test ? "t" : "f");
	res = run(st, "the results", "SELECT r.id, r.subscriber, r.channel, r.question, r.value, r.node, r.version,"
		  " r.dialog, r.time, (SELECT json_object_agg(p.name, p.value ORDER BY p.name)::text FROM dialog_param p"
		  " WHERE p.dialog = r.dialog HAVING count(*) > 0)"
		  " FROM response r WHERE r.campaign = $1 AND r.id > $2 AND ($4::boolean OR r.channel <> 'vty')"
		  " ORDER BY r.id LIMIT $3", &q);
	if (!res)
		return -EIO;
	FOR_ROWS {
		struct uigw_store_result r = {
			.id = I(0), .subscriber = T(1), .channel = T(2), .question = T(3), .value = T(4), .node = T(5),
			.version = (unsigned int)I(6), .dialog = (uint64_t)I(7), .time_ms = I(8), .params_json = T(9),
		};

		cb(&r, data);
		n++;
	}
	PQclear(res);
	return n;
}

int uigw_store_pg_dialog_get(struct uigw_store *st, uint64_t id,
			     void (*cb)(const struct uigw_store_dialog *d, void *data), void *data)
{
	struct pgq q = {};
	PGresult *res;
	int row, n = 0;

	q_int(&q, (int64_t)id);
	res = run(st, "a dialog", "SELECT campaign, channel, outcome, last_node, started, ended, steps FROM dialog"
		  " WHERE id = $1", &q);
	if (!res)
		return -EIO;
	FOR_ROWS {
		struct uigw_store_dialog d = {
			.campaign = T(0), .channel = T(1), .outcome = T(2), .last_node = T(3),
			.started_ms = I(4), .ended_ms = I(5), .steps = (unsigned int)I(6),
		};

		cb(&d, data);
		n++;
	}
	PQclear(res);
	return n > 0;
}

int uigw_store_pg_spam_numbers(struct uigw_store *st, const char *number, int64_t min_reports, int64_t since_ms,
			       unsigned int limit,
			       void (*cb)(const char *number, int64_t reports, int64_t reporters, int64_t last_ms,
					  void *data), void *data)
{
	struct pgq q = {};
	PGresult *res;
	int row, n = 0;

	q_int(&q, min_reports);
	q_int(&q, since_ms);
	q_text(&q, number);
	q_int(&q, limit);
	res = run(st, "the spam numbers", "SELECT n.number, n.reports, coalesce(n.last_time, 0),"
		  " (SELECT count(DISTINCT s.reporter) FROM spam_report s WHERE s.number = n.number AND s.counted)"
		  " FROM spam_number n WHERE n.reports >= $1 AND coalesce(n.last_time, 0) >= $2"
		  " AND ($3::text IS NULL OR n.number = $3)"
		  " ORDER BY n.reports DESC, n.last_time DESC NULLS LAST, n.number COLLATE \"C\" LIMIT $4", &q);
	if (!res)
		return -EIO;
	FOR_ROWS {
		cb(T(0), I(1), I(3), I(2), data);
		n++;
	}
	PQclear(res);
	return n;
}

int uigw_store_pg_spam_reports(struct uigw_store *st, const char *number, unsigned int limit,
			       void (*cb)(const char *channel, const char *campaign, int64_t time_ms, bool counted,
					  void *data), void *data)
{
	struct pgq q = {};
	PGresult *res;
	int row, n = 0;

	q_text(&q, number);
	q_int(&q, limit);
	res = run(st, "the spam reports", "SELECT channel, campaign, time, counted FROM spam_report WHERE number = $1"
		  " ORDER BY time DESC, id DESC LIMIT $2", &q);
	if (!res)
		return -EIO;
	FOR_ROWS {
		cb(T(0), T(1), I(2), B(3), data);
		n++;
	}
	PQclear(res);
	return n;
}

int uigw_store_pg_webhooks(struct uigw_store *st, void (*cb)(const struct uigw_store_webhook *w, void *data),
			   void *data)
{
	PGresult *res = run(st, "the webhooks", "SELECT id, tenant, all_campaigns, url, events, secret, created"
			    " FROM webhook ORDER BY id", NULL);
	int row, n = 0;

	if (!res)
		return -EIO;
	FOR_ROWS {
		struct uigw_store_webhook w = {
			.id = I(0), .tenant = T(1), .all_campaigns = B(2), .url = T(3), .events = (uint32_t)I(4),
			.secret = T(5), .created_ms = I(6),
		};

		cb(&w, data);
		n++;
	}
	PQclear(res);
	return n;
}

/* An instance delivers the entries it wrote (the triggers of schema 2) and those it sent again; the dead letters
 * are every instance's. The event's JSON is made from the row the entry refers to, as the trigger makes it for
 * an entry that keeps its own. */
int uigw_store_pg_wh_entries(struct uigw_store *st, int64_t webhook, bool dead, int64_t after, unsigned int limit,
			     void (*cb)(const struct uigw_store_wh_entry *e, void *data), void *data)
{
	struct pgq q = {};
	PGresult *res;
	int row, n = 0;

	q_int(&q, webhook);
	q_text(&q, dead ? "t" : "f");
	q_int(&q, after);
	q_int(&q, limit);
	q_text(&q, uigw_store_pg_instance(st));
	res = run(st, "the outbox", "SELECT o.id, lpad(to_hex(o.nonce), 16, '0') || lpad(to_hex(o.id), 16, '0'),"
		  " CASE o.event WHEN 0 THEN 'answer' WHEN 1 THEN 'dialog.ended' WHEN 2 THEN 'spam.report'"
		  "  ELSE 'trigger.refused' END,"
		  " coalesce(o.data, CASE o.event"
		  "  WHEN 0 THEN (SELECT uigw_answer_json(r) FROM response r WHERE r.dialog = o.ref"
		  "   AND r.question = o.ref_text AND r.dialog > 0)"
		  "  WHEN 1 THEN (SELECT uigw_dialog_json(d) FROM dialog d WHERE d.id = o.ref)"
		  "  WHEN 2 THEN (SELECT uigw_spam_json(s) FROM spam_report s WHERE s.id = o.ref) END, 'null'),"
		  " o.created, o.since, o.attempts, coalesce(o.last_status, 0) FROM webhook_outbox o"
		  " WHERE o.webhook = $1 AND o.dead = $2::boolean AND o.id > $3 AND (o.dead OR o.instance = $5)"
		  " ORDER BY o.id LIMIT $4", &q);
	if (!res)
		return -EIO;
	FOR_ROWS {
		struct uigw_store_wh_entry e = {
			.id = I(0), .delivery = T(1), .event = T(2), .data = T(3), .created_ms = I(4), .since_ms = I(5),
			.attempts = (unsigned int)I(6), .last_status = (int)I(7),
		};

		cb(&e, data);
		n++;
	}
	PQclear(res);
	return n;
}

int uigw_store_pg_wh_counts(struct uigw_store *st, int64_t webhook, int64_t cutoff_ms, int64_t after,
			    int64_t *pending, int64_t *dead, int64_t *older)
{
	struct pgq q = {};
	PGresult *res;
	int row = 0;

	q_int(&q, webhook);
	q_int(&q, cutoff_ms);
	q_int(&q, after);
	q_text(&q, uigw_store_pg_instance(st));
	/* pending and dead: every instance's; older: what this one delivers (its sweep dead-letters them) */
	res = run(st, "the outbox counts", "SELECT count(*) FILTER (WHERE NOT dead), count(*) FILTER (WHERE dead),"
		  " count(*) FILTER (WHERE NOT dead AND since < $2 AND id > $3 AND instance = $4) FROM webhook_outbox"
		  " WHERE webhook = $1", &q);
	if (!res)
		return -EIO;
	if (pending)
		*pending = I(0);
	if (dead)
		*dead = I(1);
	if (older)
		*older = I(2);
	PQclear(res);
	return 0;
}

int uigw_store_pg_export(struct uigw_store *st, const char *pseudonym, json_t *out)
{
	char sql[512];
	unsigned int i;
	int row, n = 0;

	for (i = 0; i < UIGW_PG_N_PLACES; i++) {
		const struct uigw_store_pg_place *pl = &uigw_store_pg_places[i];
		struct pgq q = {};
		json_t *rows = json_array();
		PGresult *res;

		/* the same places as the erasure; by pseudonym only, as on SQLite ($2 names no number) */
		snprintf(sql, sizeof(sql), "SELECT row_to_json(t)::text FROM %s t WHERE %s", pl->table, pl->where);
		static const Oid text2[2] = { 25, 25 };

		q.types = text2;
		q.built = true;
		q_text(&q, pseudonym);
		q_text(&q, NULL);
		res = rows ? run(st, pl->table, sql, &q) : NULL;
		if (!res) {
			json_decref(rows);
			return -EIO;
		}
		FOR_ROWS {
			json_t *j = json_loads(PQgetvalue(res, row, 0), 0, NULL);

			if (!j || json_array_append_new(rows, j) < 0) {
				PQclear(res);
				json_decref(rows);
				return -ENOMEM;
			}
			n++;
		}
		PQclear(res);
		if (json_object_set_new(out, pl->table, rows) < 0)
			return -ENOMEM;
	}
	return n;
}

int uigw_store_pg_push_reserve(struct uigw_store *st, const char *subscriber, const char *campaign,
			       const char *channel, int64_t now_ms, unsigned int c_count, unsigned int c_per,
			       unsigned int g_count, unsigned int g_per)
{
	struct pgq q = {};
	PGresult *res;
	int row = 0, rc;

	q_text(&q, subscriber);
	q_text(&q, campaign);
	q_text(&q, channel);
	q_int(&q, now_ms);
	q_int(&q, c_count);
	q_int(&q, c_per);
	q_int(&q, g_count);
	q_int(&q, g_per);
	res = run(st, "a push against the caps", "SELECT uigw_push_reserve($1, $2, $3, $4, $5, $6, $7, $8)", &q);
	if (!res)
		return -EIO;
	rc = PQntuples(res) == 1 ? (int)I(0) : -EIO;
	PQclear(res);
	return rc;
}

int uigw_store_pg_dialog_state_take(struct uigw_store *st, const char *subscriber, const char *cls,
				    const char *campaign, int64_t since_ms,
				    void (*cb)(const char *campaign, unsigned int version, const char *node,
					       const char *hist, const char *vars, void *data), void *data)
{
	static const Oid types[4] = { 25, 25, 25, 20 };
	struct pgq q = { .types = types };
	PGresult *res;
	int row = 0, n;

	q_text(&q, subscriber);
	q_text(&q, cls);
	q_text(&q, campaign);
	q_int(&q, since_ms);
	/* taken and removed in one statement: two gateways cannot both go on with it */
	res = run(st, "a dialog's state", "DELETE FROM dialog_state WHERE pseudonym = $1 AND class = $2"
		  " AND ($3::text IS NULL OR campaign = $3) AND node IS NOT NULL AND updated > $4"
		  " AND NOT EXISTS (SELECT 1 FROM dialog x WHERE x.id = dialog_state.dialog"
		  "  AND x.outcome IN ('completed', 'rejected'))"
		  " RETURNING campaign, version, node, coalesce(hist, ''), coalesce(vars, '')", &q);
	if (!res)
		return -EIO;
	n = PQntuples(res);
	if (n == 1)
		cb(T(0), (unsigned int)I(1), T(2), T(3), PQgetvalue(res, 0, 4), data);
	PQclear(res);
	return n == 1;
}
