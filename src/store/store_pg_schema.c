/*! \file store_pg_schema.c
 *  The PostgreSQL backend's schema and statements. The tables are those of the SQLite schema (store_schema.c) at
 *  its version 10, in PostgreSQL's types, with what several gateways on one database need beside them: a row per
 *  instance (uigw_instance: the last transaction it committed, for a commit whose answer a lost connection took),
 *  and the instance in the keys of what each gateway numbers itself (its MT queue, its deferred pushes).
 *
 *  Versions are steps inside one DO block, run at every connection under a transaction-level advisory lock, so
 *  that gateways starting together upgrade once; uigw_schema holds the version. Never edit a released step: add
 *  one and raise UIGW_PG_SCHEMA_VERSION. */

#include <talloc.h>
#include <osmocom/uigw/store/store.h>
#include "store_priv.h"

/* The counts of answers and dialog outcomes per campaign (as SQLite's triggers of schema 6 and 8 keep them), by
 * statement-level triggers: a group commit's answers are one INSERT (store_pg.c), counted by one upsert of their
 * sums per key, in key order (two gateways counting the same keys lock them in the same order). An update counts
 * -1 for the old row and +1 for the new one; keys whose sum is 0 are not touched. */
#define PG_COUNT_FUNCTIONS \
	" CREATE FUNCTION uigw_response_count() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN" \
	"  IF TG_OP = 'INSERT' THEN" \
	"   INSERT INTO answer_count (campaign, question, channel, value, n)" \
	"    SELECT campaign, question, coalesce(channel, ''), coalesce(value, ''), count(*) FROM new_rows" \
	"    WHERE campaign IS NOT NULL AND question IS NOT NULL GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4" \
	"    ON CONFLICT (campaign, question, channel, value) DO UPDATE SET n = answer_count.n + excluded.n;" \
	"  ELSIF TG_OP = 'UPDATE' THEN" \
	"   INSERT INTO answer_count (campaign, question, channel, value, n)" \
	"    SELECT c, q, ch, v, sum(d) FROM (" \
	"     SELECT campaign c, question q, coalesce(channel, '') ch, coalesce(value, '') v, -1 d FROM old_rows" \
	"      WHERE campaign IS NOT NULL AND question IS NOT NULL" \
	"     UNION ALL SELECT campaign, question, coalesce(channel, ''), coalesce(value, ''), 1 FROM new_rows" \
	"      WHERE campaign IS NOT NULL AND question IS NOT NULL) x" \
	"    GROUP BY 1, 2, 3, 4 HAVING sum(d) <> 0 ORDER BY 1, 2, 3, 4" \
	"    ON CONFLICT (campaign, question, channel, value) DO UPDATE SET n = answer_count.n + excluded.n;" \
	"  ELSE" \
	"   UPDATE answer_count a SET n = a.n - o.n FROM (SELECT campaign, question, coalesce(channel, '') ch," \
	"    coalesce(value, '') v, count(*) n FROM old_rows WHERE campaign IS NOT NULL AND question IS NOT NULL" \
	"    GROUP BY 1, 2, 3, 4) o" \
	"    WHERE a.campaign = o.campaign AND a.question = o.question AND a.channel = o.ch AND a.value = o.v;" \
	"  END IF;" \
	"  RETURN NULL;" \
	" END $f$;" \
	" CREATE TRIGGER response_counted AFTER INSERT ON response REFERENCING NEW TABLE AS new_rows" \
	"  FOR EACH STATEMENT EXECUTE FUNCTION uigw_response_count();" \
	" CREATE TRIGGER response_recounted AFTER UPDATE ON response REFERENCING OLD TABLE AS old_rows" \
	"  NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION uigw_response_count();" \
	" CREATE TRIGGER response_uncounted AFTER DELETE ON response REFERENCING OLD TABLE AS old_rows" \
	"  FOR EACH STATEMENT EXECUTE FUNCTION uigw_response_count();" \
	" CREATE FUNCTION uigw_dialog_count() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN" \
	"  IF TG_OP = 'INSERT' THEN" \
	"   INSERT INTO dialog_count (campaign, outcome, n)" \
	"    SELECT campaign, CASE WHEN test THEN 'test:' ELSE '' END || outcome, count(*) FROM new_rows" \
	"    WHERE campaign IS NOT NULL AND outcome IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2" \
	"    ON CONFLICT (campaign, outcome) DO UPDATE SET n = dialog_count.n + excluded.n;" \
	"  ELSIF TG_OP = 'UPDATE' THEN" \
	"   INSERT INTO dialog_count (campaign, outcome, n)" \
	"    SELECT c, o, sum(d) FROM (" \
	"     SELECT campaign c, CASE WHEN test THEN 'test:' ELSE '' END || outcome o, -1 d FROM old_rows" \
	"      WHERE campaign IS NOT NULL AND outcome IS NOT NULL" \
	"     UNION ALL SELECT campaign, CASE WHEN test THEN 'test:' ELSE '' END || outcome, 1 FROM new_rows" \
	"      WHERE campaign IS NOT NULL AND outcome IS NOT NULL) x" \
	"    GROUP BY 1, 2 HAVING sum(d) <> 0 ORDER BY 1, 2" \
	"    ON CONFLICT (campaign, outcome) DO UPDATE SET n = dialog_count.n + excluded.n;" \
	"  ELSE" \
	"   UPDATE dialog_count a SET n = a.n - o.n FROM (SELECT campaign," \
	"    CASE WHEN test THEN 'test:' ELSE '' END || outcome oc, count(*) n FROM old_rows" \
	"    WHERE campaign IS NOT NULL AND outcome IS NOT NULL GROUP BY 1, 2) o" \
	"    WHERE a.campaign = o.campaign AND a.outcome = o.oc;" \
	"  END IF;" \
	"  RETURN NULL;" \
	" END $f$;" \
	" CREATE TRIGGER dialog_counted AFTER INSERT ON dialog REFERENCING NEW TABLE AS new_rows" \
	"  FOR EACH STATEMENT EXECUTE FUNCTION uigw_dialog_count();" \
	" CREATE TRIGGER dialog_recounted AFTER UPDATE ON dialog REFERENCING OLD TABLE AS old_rows" \
	"  NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION uigw_dialog_count();" \
	" CREATE TRIGGER dialog_uncounted AFTER DELETE ON dialog REFERENCING OLD TABLE AS old_rows" \
	"  FOR EACH STATEMENT EXECUTE FUNCTION uigw_dialog_count();"

/* A push counted against the frequency caps of every gateway on the database: under a transaction-level lock per
 * subscriber, the counts read after the lock see every push committed before it (each statement of a function
 * takes its snapshot when it starts), and the `sent` row commits before the lock is let go. 0: counted; 1: the
 * campaign's cap, 2: the gateway-wide cap is reached. */
#define PG_PUSH_RESERVE \
	" CREATE FUNCTION uigw_push_reserve(sub text, camp text, chan text, now bigint, c_count integer, c_per bigint," \
	"  g_count integer, g_per bigint) RETURNS integer LANGUAGE plpgsql AS $f$ BEGIN" \
	"  PERFORM pg_advisory_xact_lock(" OSMO_STRINGIFY_VAL(UIGW_PG_PUSH_LOCK) ", hashtext(sub));" \
	"  IF c_count > 0 AND (SELECT count(*) FROM push WHERE subscriber = sub AND campaign = camp" \
	"   AND result = 'sent' AND time > now - c_per * 1000) >= c_count THEN RETURN 1; END IF;" \
	"  IF g_count > 0 AND (SELECT count(*) FROM push WHERE subscriber = sub" \
	"   AND result = 'sent' AND time > now - g_per * 1000) >= g_count THEN RETURN 2; END IF;" \
	"  INSERT INTO push (subscriber, campaign, channel, time, result) VALUES (sub, camp, chan, now, 'sent');" \
	"  RETURN 0;" \
	" END $f$;"

/* Version 1: everything SQLite's version 10 has. Times are ms since the epoch (bigint); flags are booleans. Two of
 * SQLite's indexes are left out: no read looks answers up by (campaign, question, value) nor dialogs by (campaign,
 * outcome) since the counts are kept in answer_count and dialog_count, and every index costs each answer's insert. */
#define PG_SCHEMA_V1 \
	" CREATE TABLE uigw_instance (name text PRIMARY KEY," \
	"  seq bigint NOT NULL DEFAULT 0,"	/* the instance's last committed transaction */ \
	"  started bigint, seen bigint);" \
	" CREATE TABLE dialog (id bigint PRIMARY KEY, campaign text, version integer, channel text, subscriber text," \
	"  started bigint, ended bigint, outcome text, steps integer, last_node text," \
	"  roaming boolean NOT NULL DEFAULT false, visited text, test boolean NOT NULL DEFAULT false);" \
	" CREATE TABLE response (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, campaign text, version integer," \
	"  node text, question text, kind text, value text, raw text, channel text, subscriber text, dialog bigint," \
	"  time bigint, roaming boolean, language text);" \
	" CREATE UNIQUE INDEX response_dialog_question ON response (dialog, question) WHERE dialog > 0;" \
	" CREATE INDEX response_campaign ON response (campaign, id);" \
	" CREATE TABLE spam_report (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, reporter text, number text," \
	"  time bigint, counted boolean, channel text, campaign text);" \
	" CREATE INDEX spam_report_number ON spam_report (number, reporter, time);" \
	" CREATE TABLE spam_number (number text PRIMARY KEY, reports bigint NOT NULL DEFAULT 0, last_time bigint);" \
	" CREATE INDEX spam_number_reports ON spam_number (reports);" \
	" CREATE TABLE reaction (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, subscriber text, content text," \
	"  reaction text, time bigint, campaign text, channel text, UNIQUE (subscriber, content, reaction));" \
	" CREATE INDEX reaction_content ON reaction (content, reaction);" \
	" CREATE TABLE app_rating (subscriber text, app text, rating integer, time bigint, campaign text," \
	"  channel text, UNIQUE (subscriber, app));" \
	" CREATE INDEX app_rating_app ON app_rating (app);" \
	" CREATE TABLE flag (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, subscriber text, content text," \
	"  reason text, time bigint, campaign text, channel text);" \
	" CREATE INDEX flag_content ON flag (content);" \
	" CREATE TABLE offer (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, subscriber text, campaign text," \
	"  service text, uri text, time bigint);" \
	" CREATE TABLE optout (subscriber text PRIMARY KEY, opted_out boolean, time bigint, channel text);" \
	" CREATE TABLE optout_scope (subscriber text NOT NULL, scope text NOT NULL, time bigint, channel text," \
	"  PRIMARY KEY (subscriber, scope));" \
	" CREATE TABLE subscriber_map (pseudonym text PRIMARY KEY, msisdn text, first_seen bigint, last_seen bigint);" \
	" CREATE INDEX subscriber_map_last_seen ON subscriber_map (last_seen);" \
	" CREATE TABLE mt_queue (instance text NOT NULL, id bigint NOT NULL, channel text NOT NULL," \
	"  dialog bigint NOT NULL DEFAULT 0, created bigint NOT NULL, expires bigint NOT NULL," \
	"  final boolean NOT NULL DEFAULT false, link text, pdu bytea NOT NULL," \
	"  sending boolean NOT NULL DEFAULT false, PRIMARY KEY (instance, id));" \
	" CREATE TABLE push (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, subscriber text NOT NULL," \
	"  campaign text NOT NULL, channel text, time bigint NOT NULL, result text NOT NULL);" \
	" CREATE INDEX push_subscriber ON push (subscriber, time);" \
	" CREATE TABLE mt_receipt (message_id text PRIMARY KEY, channel text, dialog bigint, subscriber text," \
	"  submitted bigint, state text NOT NULL, updated bigint);" \
	" CREATE TABLE dialog_param (dialog bigint NOT NULL, name text NOT NULL, value text, campaign text," \
	"  PRIMARY KEY (dialog, name));" \
	" CREATE TABLE api_key (id bigint PRIMARY KEY, tenant text NOT NULL, hash text NOT NULL UNIQUE," \
	"  scopes text NOT NULL, created bigint NOT NULL, last_used bigint, revoked bigint);" \
	" CREATE TABLE audit (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, time bigint NOT NULL, tenant text," \
	"  key_id bigint, method text, path text, status integer, remote text);" \
	" CREATE TABLE answer_count (campaign text NOT NULL, question text NOT NULL, channel text NOT NULL," \
	"  value text NOT NULL, n bigint NOT NULL, PRIMARY KEY (campaign, question, channel, value));" \
	" CREATE TABLE dialog_count (campaign text NOT NULL, outcome text NOT NULL, n bigint NOT NULL," \
	"  PRIMARY KEY (campaign, outcome));" \
	PG_COUNT_FUNCTIONS \
	PG_PUSH_RESERVE \
	" CREATE TABLE webhook (id bigint PRIMARY KEY, tenant text NOT NULL, all_campaigns boolean NOT NULL DEFAULT false," \
	"  url text NOT NULL, events integer NOT NULL, secret text NOT NULL, created bigint NOT NULL);" \
	" CREATE TABLE webhook_outbox (webhook bigint NOT NULL, dead boolean NOT NULL DEFAULT false, id bigint NOT NULL," \
	"  nonce bigint NOT NULL, event integer NOT NULL, ref bigint, ref_text text, data text, created bigint NOT NULL," \
	"  since bigint NOT NULL, attempts integer NOT NULL DEFAULT 0, last_try bigint, last_status integer," \
	"  PRIMARY KEY (webhook, dead, id));" \
	" CREATE TABLE deferred (instance text NOT NULL, id bigint NOT NULL, due bigint NOT NULL, created bigint NOT NULL," \
	"  reason text NOT NULL, campaign text NOT NULL, msisdn text NOT NULL, via integer NOT NULL, to_uri text," \
	"  language text, params text, PRIMARY KEY (instance, id));" \
	" CREATE INDEX deferred_due ON deferred (due);" \
	" CREATE TABLE cdr (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, dialog bigint NOT NULL, started bigint," \
	"  ended bigint NOT NULL, channel text, campaign text, tenant text, subscriber text," \
	"  roaming boolean NOT NULL DEFAULT false, visited text, screens integer, mt_messages integer, outcome text," \
	"  refusal text, charge_class text, zero_rated boolean NOT NULL DEFAULT false, test boolean NOT NULL DEFAULT false," \
	"  recovered boolean NOT NULL DEFAULT false, instance text);" \
	/* where a subscriber's dialog stands: written at every step, so not WAL-logged (an unlogged table is emptied \
	 * by a crash of the server and not replicated: the dialogs of that moment cannot be resumed then) */ \
	" CREATE UNLOGGED TABLE dialog_state (pseudonym text NOT NULL," \
	"  class text NOT NULL,"	/* ussd, sms, ims: one dialog per subscriber and class */ \
	"  campaign text, version integer, node text,"		/* node NULL: over, nothing to go on with */ \
	"  hist text, vars text, instance text, updated bigint NOT NULL, PRIMARY KEY (pseudonym, class));"

/* Version 2: the webhooks' outbox filled by the database, and the charging files' cursors (cdr_export). An entry is written by statement-level triggers on the
 * rows it reports (answers inserted or changed, dialogs ended, spam reports), in their statement, for every webhook
 * that listens and may see the row's campaign: a webhook another gateway created is seen by the next statement,
 * with no list in memory. Which tenant a campaign belongs to the gateways write into campaign_owner (the first time
 * each sees a campaign with an owner, store_pg.c). An entry belongs to the instance that wrote it (the session's
 * uigw.instance): that instance delivers it, so entry ids (a sequence) follow the commits of its deliverer. The
 * event's JSON is made by one function per kind, for an entry that keeps its own (an answer without a dialog) and
 * when an entry that refers to its row is read for delivery; times as RFC 3339 UTC with milliseconds. */
#define PG_JSON_TIME(ms) "to_char(timestamp 'epoch' + " ms " * interval '1 millisecond'," \
	" 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
#define PG_OUTBOX_TRIGGER(name, table, time, event, ref, ref_text, data) \
	" CREATE FUNCTION uigw_outbox_" name "() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN" \
	"  IF NOT EXISTS (SELECT 1 FROM webhook WHERE (events & (1 << " event ")) <> 0) THEN RETURN NULL; END IF;" \
	"  INSERT INTO webhook_outbox (webhook, nonce, event, ref, ref_text, data, created, since, instance)" \
	"   SELECT w.id, floor(random() * 4611686018427387904)::bigint, " event ", " ref ", " ref_text ", " data "," \
	"    coalesce(n." time ", 0), coalesce(n." time ", 0), current_setting('uigw.instance', true)" \
	"   FROM new_rows n LEFT JOIN campaign_owner c ON c.campaign = n.campaign" \
	"   JOIN webhook w ON (w.events & (1 << " event ")) <> 0 AND (w.all_campaigns OR w.tenant = c.tenant)" \
	"   WHERE n.channel IS DISTINCT FROM 'vty' OR current_setting('uigw.test_results', true) = 'on'" \
	"   ORDER BY n." time ", w.id;" \
	"  RETURN NULL;" \
	" END $f$;" \
	" CREATE TRIGGER " name "_outbox AFTER INSERT ON " table " REFERENCING NEW TABLE AS new_rows" \
	"  FOR EACH STATEMENT EXECUTE FUNCTION uigw_outbox_" name "();"
#define PG_SCHEMA_V2 \
	" CREATE SEQUENCE webhook_outbox_id;" \
	" PERFORM setval('webhook_outbox_id', (SELECT coalesce(max(id), 0) + 1 FROM webhook_outbox), false);" \
	" ALTER TABLE webhook_outbox ALTER COLUMN id SET DEFAULT nextval('webhook_outbox_id')," \
	"  ADD COLUMN instance text;" \
	" CREATE TABLE campaign_owner (campaign text PRIMARY KEY, tenant text NOT NULL);" \
	/* each instance's number, the top bits of its dialog ids (unique across the gateways of the database) */ \
	" CREATE SEQUENCE uigw_instance_num MAXVALUE 4095;" \
	" ALTER TABLE uigw_instance ADD COLUMN num integer UNIQUE;" \
	/* the dialog a state is of: a completed or rejected dialog's row ends it (no row of its own at the end) */ \
	" ALTER TABLE dialog_state ADD COLUMN dialog bigint;" \
	/* a state is rewritten at every step: room on its page makes that a HOT update (no new index entry); an
	 * older state never replaces a newer one (a group commit sent again after a later one committed) */ \
	" ALTER TABLE dialog_state SET (fillfactor = 40);" \
	/* how far each gateway's charging CSV files got (store_pg_cdr.c) */ \
	" CREATE TABLE cdr_export (instance text PRIMARY KEY, last_id bigint NOT NULL);" \
	" CREATE FUNCTION uigw_answer_json(r response) RETURNS text LANGUAGE sql STABLE AS $f$" \
	"  SELECT json_build_object('campaign', r.campaign, 'version', r.version, 'dialog', coalesce(r.dialog, 0)::text," \
	"   'channel', r.channel, 'subscriber', r.subscriber, 'node', r.node, 'question', r.question, 'value', r.value," \
	"   'language', r.language, 'roaming', coalesce(r.roaming, false), 'time', " PG_JSON_TIME("r.time") ")::text" \
	" $f$;" \
	" CREATE FUNCTION uigw_dialog_json(d dialog) RETURNS text LANGUAGE sql STABLE AS $f$" \
	"  SELECT json_build_object('campaign', d.campaign, 'version', d.version, 'dialog', d.id::text," \
	"   'channel', d.channel, 'subscriber', d.subscriber, 'outcome', d.outcome, 'steps', d.steps," \
	"   'last_node', d.last_node, 'started', " PG_JSON_TIME("d.started") ", 'ended', " PG_JSON_TIME("d.ended") ")::text" \
	" $f$;" \
	" CREATE FUNCTION uigw_spam_json(s spam_report) RETURNS text LANGUAGE sql STABLE AS $f$" \
	"  SELECT json_build_object('number', s.number, 'counted', coalesce(s.counted, false), 'campaign', s.campaign," \
	"   'channel', s.channel, 'subscriber', s.reporter, 'time', " PG_JSON_TIME("s.time") ")::text" \
	" $f$;" \
	/* an answer is found again by (dialog, question); one without a dialog keeps its JSON */ \
	PG_OUTBOX_TRIGGER("answer", "response", "time", "0", \
			  "CASE WHEN n.dialog > 0 AND n.question IS NOT NULL THEN n.dialog END", \
			  "CASE WHEN n.dialog > 0 AND n.question IS NOT NULL THEN n.question END", \
			  "CASE WHEN n.dialog > 0 AND n.question IS NOT NULL THEN NULL ELSE uigw_answer_json(n) END") \
	" CREATE TRIGGER answer_outbox_again AFTER UPDATE ON response REFERENCING NEW TABLE AS new_rows" \
	"  FOR EACH STATEMENT EXECUTE FUNCTION uigw_outbox_answer();" \
	PG_OUTBOX_TRIGGER("dialog", "dialog", "ended", "1", "n.id", "NULL", "NULL") \
	" CREATE TRIGGER dialog_outbox_again AFTER UPDATE ON dialog REFERENCING NEW TABLE AS new_rows" \
	"  FOR EACH STATEMENT EXECUTE FUNCTION uigw_outbox_dialog();" \
	PG_OUTBOX_TRIGGER("spam", "spam_report", "time", "2", "n.id", "NULL", "NULL")

static const char *const pg_schema_steps[UIGW_PG_SCHEMA_VERSION] = { PG_SCHEMA_V1, PG_SCHEMA_V2 };

char *uigw_store_pg_schema_sql(void *ctx, int to_version)
{
	char *sql = talloc_strdup(ctx, "DO $uigw$ DECLARE v integer; BEGIN"
				  " PERFORM pg_advisory_xact_lock(" OSMO_STRINGIFY_VAL(UIGW_PG_SCHEMA_LOCK) ");"
				  " CREATE TABLE IF NOT EXISTS uigw_schema (version integer NOT NULL);"
				  " SELECT version INTO v FROM uigw_schema;"
				  " IF v IS NULL THEN INSERT INTO uigw_schema (version) VALUES (0); v := 0; END IF;");
	int i;

	for (i = 1; sql && i <= to_version && i <= UIGW_PG_SCHEMA_VERSION; i++)
		sql = talloc_asprintf_append(sql, " IF v < %d THEN%s UPDATE uigw_schema SET version = %d; END IF;", i,
					     pg_schema_steps[i - 1], i);
	return sql ? talloc_strdup_append(sql, " END $uigw$") : NULL;
}

/* a state that can be gone on with: its dialog did not end completed or rejected (its row says so) */
#define PG_STATE_OPEN(s) "NOT EXISTS (SELECT 1 FROM dialog x WHERE x.id = " s ".dialog" \
	" AND x.outcome IN ('completed', 'rejected'))"

const struct uigw_store_pg_stmt uigw_store_pg_stmts[_PG_NUM] = {
	[PG_INSTANCE] = { 3, "UPDATE uigw_instance SET seq = $2, seen = $3 WHERE name = $1" },
	[PG_RESPONSE] = { 13,
		"INSERT INTO response (campaign, version, node, question, kind, value, raw, channel, subscriber, dialog,"
		" time, roaming, language) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
		" ON CONFLICT (dialog, question) WHERE dialog > 0 DO UPDATE SET version = excluded.version,"
		" node = excluded.node, kind = excluded.kind, value = excluded.value, raw = excluded.raw,"
		" channel = excluded.channel, time = excluded.time, roaming = excluded.roaming,"
		" language = excluded.language" },
	[PG_DIALOG] = { 13,
		"INSERT INTO dialog (id, campaign, version, channel, subscriber, started, ended, outcome, steps,"
		" last_node, roaming, visited, test) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
		" ON CONFLICT (id) DO UPDATE SET campaign = excluded.campaign, version = excluded.version,"
		" channel = excluded.channel, subscriber = excluded.subscriber, started = excluded.started,"
		" ended = excluded.ended, outcome = excluded.outcome, steps = excluded.steps,"
		" last_node = excluded.last_node, roaming = excluded.roaming, visited = excluded.visited,"
		" test = excluded.test" },
	/* one statement: whether it counts (no counted report of the same reporter within the window), the report,
	 * and the number's count, which two instances increment without losing one */
	[PG_SPAM] = { 6,
		"WITH prev AS (SELECT EXISTS (SELECT 1 FROM spam_report WHERE number = $2 AND reporter = $1"
		"  AND time > $6 AND counted) AS seen),"
		" ins AS (INSERT INTO spam_report (reporter, number, time, counted, channel, campaign)"
		"  SELECT $1, $2, $3, NOT prev.seen, $4, $5 FROM prev RETURNING counted)"
		" INSERT INTO spam_number (number, reports, last_time) SELECT $2, 1, $3 FROM ins WHERE ins.counted"
		" ON CONFLICT (number) DO UPDATE SET reports = spam_number.reports + 1,"
		" last_time = greatest(coalesce(spam_number.last_time, 0), excluded.last_time)" },
	[PG_REACTION_DEL] = { 3, "DELETE FROM reaction WHERE subscriber = $1 AND content = $2 AND reaction = $3" },
	[PG_REACTION_INS] = { 6,
		"INSERT INTO reaction (subscriber, content, reaction, time, campaign, channel)"
		" VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING" },
	[PG_APP_RATING] = { 6,
		"INSERT INTO app_rating (subscriber, app, rating, time, campaign, channel) VALUES ($1, $2, $3, $4, $5, $6)"
		" ON CONFLICT (subscriber, app) DO UPDATE SET rating = excluded.rating, time = excluded.time,"
		" campaign = excluded.campaign, channel = excluded.channel" },
	[PG_FLAG] = { 6,
		"INSERT INTO flag (subscriber, content, reason, time, campaign, channel) VALUES ($1, $2, $3, $4, $5, $6)" },
	[PG_OFFER] = { 5, "INSERT INTO offer (subscriber, campaign, service, uri, time) VALUES ($1, $2, $3, $4, $5)" },
	[PG_OPTOUT] = { 4,
		"INSERT INTO optout (subscriber, opted_out, time, channel) VALUES ($1, $2, $3, $4)"
		" ON CONFLICT (subscriber) DO UPDATE SET opted_out = excluded.opted_out, time = excluded.time,"
		" channel = excluded.channel" },
	[PG_OPTOUT_SCOPE] = { 4,
		"INSERT INTO optout_scope (subscriber, scope, time, channel) VALUES ($1, $2, $3, $4)"
		" ON CONFLICT (subscriber, scope) DO UPDATE SET time = excluded.time, channel = excluded.channel" },
	[PG_OPTIN_SCOPE] = { 2, "DELETE FROM optout_scope WHERE subscriber = $1 AND scope = $2" },
	[PG_OPTIN_ALL] = { 1, "DELETE FROM optout_scope WHERE subscriber = $1" },
	[PG_SUBSCRIBER] = { 3,
		"INSERT INTO subscriber_map (pseudonym, msisdn, first_seen, last_seen) VALUES ($1, $2, $3, $3)"
		" ON CONFLICT (pseudonym) DO UPDATE SET msisdn = excluded.msisdn,"
		" last_seen = greatest(coalesce(subscriber_map.last_seen, 0), excluded.last_seen)" },
	[PG_MT_INSERT] = { 9,
		"INSERT INTO mt_queue (instance, id, channel, dialog, created, expires, final, link, pdu)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (instance, id) DO UPDATE SET"
		" channel = excluded.channel, dialog = excluded.dialog, created = excluded.created,"
		" expires = excluded.expires, final = excluded.final, link = excluded.link, pdu = excluded.pdu,"
		" sending = false" },
	[PG_MT_DELETE] = { 2, "DELETE FROM mt_queue WHERE instance = $1 AND id = $2" },
	[PG_MT_SENDING] = { 2, "UPDATE mt_queue SET sending = true WHERE instance = $1 AND id = $2" },
	[PG_PUSH] = { 5, "INSERT INTO push (subscriber, campaign, channel, time, result) VALUES ($1, $2, $3, $4, $5)" },
	[PG_RECEIPT_INS] = { 6,
		"INSERT INTO mt_receipt (message_id, channel, dialog, subscriber, submitted, state, updated)"
		" VALUES ($1, $2, $3, $4, $5, $6, $5) ON CONFLICT (message_id) DO UPDATE SET channel = excluded.channel,"
		" dialog = excluded.dialog, subscriber = excluded.subscriber, submitted = excluded.submitted,"
		" state = excluded.state, updated = excluded.updated" },
	[PG_RECEIPT_UPD] = { 3, "UPDATE mt_receipt SET state = $2, updated = $3 WHERE message_id = $1" },
	[PG_PARAM] = { 4,
		"INSERT INTO dialog_param (dialog, name, value, campaign) VALUES ($1, $2, $3, $4)"
		" ON CONFLICT (dialog, name) DO UPDATE SET value = excluded.value, campaign = excluded.campaign" },
	[PG_API_KEY] = { 5,
		"INSERT INTO api_key (id, tenant, hash, scopes, created) VALUES ($1, $2, $3, $4, $5)" },
	[PG_API_KEY_REVOKE] = { 2, "UPDATE api_key SET revoked = $2 WHERE id = $1 AND revoked IS NULL" },
	[PG_API_KEY_USED] = { 2,
		"UPDATE api_key SET last_used = greatest(coalesce(last_used, 0), $2) WHERE id = $1" },
	[PG_AUDIT] = { 7,
		"INSERT INTO audit (time, tenant, key_id, method, path, status, remote)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7)" },
	[PG_DEFER] = { 11,
		"INSERT INTO deferred (instance, id, due, created, reason, campaign, msisdn, via, to_uri, language, params)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (instance, id) DO UPDATE SET"
		" due = excluded.due, created = excluded.created, reason = excluded.reason, campaign = excluded.campaign,"
		" msisdn = excluded.msisdn, via = excluded.via, to_uri = excluded.to_uri, language = excluded.language,"
		" params = excluded.params" },
	[PG_DEFER_DONE] = { 2, "DELETE FROM deferred WHERE instance = $1 AND id = $2" },
	[PG_DLG_STATE] = { 10,
		"INSERT INTO dialog_state (pseudonym, class, campaign, version, node, hist, vars, instance, updated, dialog)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (pseudonym, class) DO UPDATE SET"
		" campaign = excluded.campaign, version = excluded.version, node = excluded.node, hist = excluded.hist,"
		" vars = excluded.vars, instance = excluded.instance, updated = excluded.updated, dialog = excluded.dialog"
		" WHERE dialog_state.updated <= excluded.updated" },
	[PG_WEBHOOK] = { 7,
		"INSERT INTO webhook (id, tenant, all_campaigns, url, events, secret, created)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7)" },
	[PG_WEBHOOK_PURGE] = { 1, "DELETE FROM webhook_outbox WHERE webhook = $1" },
	[PG_WEBHOOK_DEL] = { 1, "DELETE FROM webhook WHERE id = $1" },
	[PG_WH_DONE] = { 2, "DELETE FROM webhook_outbox WHERE webhook = $1 AND NOT dead AND id = $2" },
	[PG_WH_RETRY] = { 4,
		"UPDATE webhook_outbox SET attempts = attempts + 1, last_try = $4, last_status = $3"
		" WHERE webhook = $1 AND NOT dead AND id = $2" },
	[PG_WH_DEAD] = { 3,
		"UPDATE webhook_outbox SET dead = true, last_try = coalesce(last_try, $3)"
		" WHERE webhook = $1 AND NOT dead AND id = $2" },
	/* what this instance delivers: its own entries */
	[PG_WH_DEAD_OLD] = { 5,
		"UPDATE webhook_outbox SET dead = true, last_try = coalesce(last_try, $4)"
		" WHERE webhook = $1 AND NOT dead AND id > $2 AND since < $3 AND instance = $5" },
	/* a dead letter sent again is the re-sending instance's to deliver */
	[PG_WH_RESEND] = { 4,
		"UPDATE webhook_outbox SET dead = false, attempts = 0, since = $3, instance = $4"
		" WHERE webhook = $1 AND dead AND id = $2" },
	[PG_WH_RESEND_ALL] = { 3,
		"UPDATE webhook_outbox SET dead = false, attempts = 0, since = $2, instance = $3"
		" WHERE webhook = $1 AND dead" },
	/* $1 campaign, $2 channel, $3 subscriber, $4 refusal, $5 detail, $6 time, $7 the campaign's tenant */
	[PG_REFUSED] = { 7,
		"INSERT INTO webhook_outbox (webhook, nonce, event, data, created, since, instance)"
		" SELECT id, floor(random() * 4611686018427387904)::bigint, 3, json_build_object('campaign', $1::text,"
		" 'channel', $2::text, 'subscriber', $3::text, 'refusal', $4::text, 'detail', $5::text,"
		" 'time', " PG_JSON_TIME("$6::bigint") ")::text, $6, $6, current_setting('uigw.instance', true)"
		" FROM webhook WHERE (events & (1 << 3)) <> 0 AND (all_campaigns OR tenant = $7)"
		" AND ($2 IS DISTINCT FROM 'vty' OR current_setting('uigw.test_results', true) = 'on') ORDER BY id" },
	/* $1 campaigns, $2 their tenants ('': the operator's) */
	[PG_OWNERS] = { 2,
		"INSERT INTO campaign_owner (campaign, tenant) SELECT DISTINCT ON (c) c, t"
		" FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(c, t, o) ORDER BY c, o DESC"
		" ON CONFLICT (campaign) DO UPDATE SET tenant = excluded.tenant"
		" WHERE campaign_owner.tenant <> excluded.tenant" },
	/* $1 campaigns, $2 "PSEUDONYM SINCE_MS": the states of USSD dialogs to resume, taken as they are read */
	[PG_TAKES] = { 2,
		"DELETE FROM dialog_state d USING (SELECT c, split_part(a, ' ', 1) AS p, split_part(a, ' ', 2)::bigint AS s"
		" FROM unnest($1::text[], $2::text[]) AS u(c, a)) u WHERE d.pseudonym = u.p AND d.class = 'ussd'"
		" AND d.campaign = u.c AND d.node IS NOT NULL AND d.updated > u.s AND " PG_STATE_OPEN("d")
		" RETURNING d.pseudonym, d.campaign, d.version, d.node, coalesce(d.hist, ''), coalesce(d.vars, '')" },
	[PG_CDR] = { 17,
		"INSERT INTO cdr (dialog, started, ended, channel, campaign, tenant, subscriber, roaming, visited, screens,"
		" mt_messages, outcome, refusal, charge_class, zero_rated, test, instance)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)" },
	/* the contextual queries ($1 campaign, $2 argument, both declared text: either may go unused), as store_read.c's */
	[PG_Q_FIRST + UIGW_Q_SPAM_REPORTS] = { 2,
		"SELECT coalesce((SELECT reports FROM spam_number WHERE number = $2), 0), 0" },
	[PG_Q_FIRST + UIGW_Q_LIKES] = { 2,
		"SELECT count(*), 0 FROM reaction WHERE content = $2 AND reaction = 'like'" },
	[PG_Q_FIRST + UIGW_Q_DISLIKES] = { 2,
		"SELECT count(*), 0 FROM reaction WHERE content = $2 AND reaction = 'dislike'" },
	[PG_Q_FIRST + UIGW_Q_SUBSCRIBES] = { 2,
		"SELECT count(*), 0 FROM reaction WHERE content = $2 AND reaction = 'subscribe'" },
	[PG_Q_FIRST + UIGW_Q_APP_RATING] = { 2,
		"SELECT count(*), coalesce(avg(rating), 0) FROM app_rating WHERE app = $2" },
	[PG_Q_FIRST + UIGW_Q_APP_RATINGS] = { 2,
		"SELECT count(*), coalesce(avg(rating), 0) FROM app_rating WHERE app = $2" },
	[PG_Q_FIRST + UIGW_Q_FLAGS] = { 2,
		"SELECT count(*), 0 FROM flag WHERE content = $2" },
	[PG_Q_FIRST + UIGW_Q_ANSWERS] = { 2,
		"SELECT coalesce(sum(n), 0), 0 FROM answer_count WHERE campaign = $1 AND question = $2" },
	/* a USSD dialog's state to resume, taken in the statement that reads it: count 1 and the state, or no row */
	[PG_Q_FIRST + UIGW_Q_DLG_STATE] = { 2,
		"DELETE FROM dialog_state s WHERE pseudonym = split_part($2, ' ', 1) AND class = 'ussd' AND campaign = $1"
		" AND node IS NOT NULL AND updated > split_part($2, ' ', 2)::bigint AND " PG_STATE_OPEN("s")
		" RETURNING 1, 0, version, node, coalesce(hist, ''), coalesce(vars, '')" },
	/* is_number(): uigw_store_is_number()'s characters, and a number strtod reads (no "inf", "nan") */
	[PG_Q_FIRST + UIGW_Q_AVERAGE] = { 2,
		"SELECT coalesce(sum(n), 0), coalesce(sum(value::float8 * n) / sum(n), 0) FROM answer_count"
		" WHERE campaign = $1 AND question = $2 AND n > 0"
		" AND value ~ '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$'" },
	/* the batched inserts: the parameters of the statements above, each an array (PG_B_FIRST + index of
	 * uigw_store_pg_batches) */
	[PG_B_FIRST + 0] = { 13,
		"INSERT INTO response (campaign, version, node, question, kind, value, raw, channel, subscriber, dialog,"
		" time, roaming, language) SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::text[],"
		" $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[], $11::bigint[],"
		" $12::boolean[], $13::text[])"
		" ON CONFLICT (dialog, question) WHERE dialog > 0 DO UPDATE SET version = excluded.version,"
		" node = excluded.node, kind = excluded.kind, value = excluded.value, raw = excluded.raw,"
		" channel = excluded.channel, time = excluded.time, roaming = excluded.roaming,"
		" language = excluded.language" },
	[PG_B_FIRST + 1] = { 13,
		"INSERT INTO dialog (id, campaign, version, channel, subscriber, started, ended, outcome, steps,"
		" last_node, roaming, visited, test) SELECT * FROM unnest($1::bigint[], $2::text[], $3::integer[],"
		" $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::text[], $9::integer[], $10::text[],"
		" $11::boolean[], $12::text[], $13::boolean[])"
		" ON CONFLICT (id) DO UPDATE SET campaign = excluded.campaign, version = excluded.version,"
		" channel = excluded.channel, subscriber = excluded.subscriber, started = excluded.started,"
		" ended = excluded.ended, outcome = excluded.outcome, steps = excluded.steps,"
		" last_node = excluded.last_node, roaming = excluded.roaming, visited = excluded.visited,"
		" test = excluded.test" },
	[PG_B_FIRST + 2] = { 5,
		"INSERT INTO push (subscriber, campaign, channel, time, result) SELECT * FROM unnest($1::text[],"
		" $2::text[], $3::text[], $4::bigint[], $5::text[])" },
	[PG_B_FIRST + 3] = { 3,
		/* a pseudonym seen twice: its first time, its last time and number */
		"INSERT INTO subscriber_map (pseudonym, msisdn, first_seen, last_seen)"
		" SELECT p, (array_agg(m ORDER BY o DESC))[1], min(t), max(t) FROM"
		" unnest($1::text[], $2::text[], $3::bigint[]) WITH ORDINALITY AS u(p, m, t, o) GROUP BY p"
		" ON CONFLICT (pseudonym) DO UPDATE SET msisdn = excluded.msisdn,"
		" last_seen = greatest(coalesce(subscriber_map.last_seen, 0), excluded.last_seen)" },
	[PG_B_FIRST + 4] = { 17,
		"INSERT INTO cdr (dialog, started, ended, channel, campaign, tenant, subscriber, roaming, visited, screens,"
		" mt_messages, outcome, refusal, charge_class, zero_rated, test, instance) SELECT * FROM"
		" unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],"
		" $8::boolean[], $9::text[], $10::integer[], $11::integer[], $12::text[], $13::text[], $14::text[],"
		" $15::boolean[], $16::boolean[], $17::text[])" },
	[PG_B_FIRST + 5] = { 7,
		"INSERT INTO audit (time, tenant, key_id, method, path, status, remote) SELECT * FROM unnest($1::bigint[],"
		" $2::text[], $3::bigint[], $4::text[], $5::text[], $6::integer[], $7::text[])" },
	[PG_B_FIRST + 7] = { 10,
		"INSERT INTO dialog_state (pseudonym, class, campaign, version, node, hist, vars, instance, updated, dialog)"
		" SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::integer[], $5::text[], $6::text[],"
		" $7::text[], $8::text[], $9::bigint[], $10::bigint[]) ON CONFLICT (pseudonym, class) DO UPDATE SET"
		" campaign = excluded.campaign, version = excluded.version, node = excluded.node, hist = excluded.hist,"
		" vars = excluded.vars, instance = excluded.instance, updated = excluded.updated, dialog = excluded.dialog"
		" WHERE dialog_state.updated <= excluded.updated" },
	[PG_B_FIRST + 6] = { 4,
		"INSERT INTO dialog_param (dialog, name, value, campaign) SELECT * FROM unnest($1::bigint[], $2::text[],"
		" $3::text[], $4::text[])"
		" ON CONFLICT (dialog, name) DO UPDATE SET value = excluded.value, campaign = excluded.campaign" },
};

/* in the order of the batched statements above; the parameters are those of the row's own statement */
const struct uigw_store_pg_batch uigw_store_pg_batches[UIGW_PG_N_BATCH] = {
	{ UIGW_ROW_RESPONSE, { 9, 3 }, true },		/* (dialog, question) when dialog > 0 */
	{ UIGW_ROW_DIALOG, { 0, -1 }, false },		/* id */
	{ UIGW_ROW_PUSH, { -1, -1 }, false },
	{ UIGW_ROW_SUBSCRIBER, { -1, -1 }, false },	/* grouped by pseudonym in the statement */
	{ UIGW_ROW_CDR, { -1, -1 }, false },
	{ UIGW_ROW_AUDIT, { -1, -1 }, false },
	{ UIGW_ROW_PARAM, { 0, 1 }, false },		/* (dialog, name) */
	{ UIGW_ROW_DLG_STATE, { 0, 1 }, false },	/* (pseudonym, class): the last state of a batch */
};

/* as store_subscriber.c's list, what refers to a dialog or a report before the dialog or the report */
const struct uigw_store_pg_place uigw_store_pg_places[UIGW_PG_N_PLACES] = {
	{ "webhook_outbox",
	  "(event IN (0, 1) AND ref IN (SELECT id FROM dialog WHERE subscriber = $1))"
	  " OR (event = 2 AND ref IN (SELECT id FROM spam_report WHERE reporter = $1))"
	  " OR (data IS NOT NULL AND strpos(data, '\"subscriber\":\"' || $1 || '\"') > 0)" },
	{ "dialog_param", "dialog IN (SELECT id FROM dialog WHERE subscriber = $1)" },
	{ "response", "subscriber = $1" },
	{ "dialog", "subscriber = $1" },
	{ "reaction", "subscriber = $1" },
	{ "app_rating", "subscriber = $1" },
	{ "flag", "subscriber = $1" },
	{ "offer", "subscriber = $1" },
	{ "push", "subscriber = $1" },
	{ "mt_receipt", "subscriber = $1" },
	/* charging records name the subscriber by pseudonym, or by number (cdr-subscriber msisdn) */
	{ "cdr", "subscriber = $1 OR subscriber = $2 OR subscriber IN (SELECT msisdn FROM subscriber_map"
		 " WHERE pseudonym = $1)" },
	{ "spam_report", "reporter = $1" },
	{ "optout", "subscriber = $1" },
	{ "optout_scope", "subscriber = $1" },
	/* pushes put off keep the number they go to */
	{ "deferred", "msisdn = $2 OR msisdn IN (SELECT msisdn FROM subscriber_map WHERE pseudonym = $1)" },
	{ "dialog_state", "pseudonym = $1" },
	{ "subscriber_map", "pseudonym = $1" },
};

#define PG_LIMIT OSMO_STRINGIFY_VAL(UIGW_STORE_PURGE_BATCH)
#define PG_OLDER(table, key, col) \
	"DELETE FROM " table " WHERE " key " IN (SELECT " key " FROM " table " WHERE " col " < $1 LIMIT " PG_LIMIT ")"

/* as store_retention.c's list (and the charging records' purge of store_cdr_db.c) */
const struct uigw_store_pg_purge uigw_store_pg_purges[UIGW_PG_N_PURGES] = {
	{ UIGW_RET_MAPPING, PG_OLDER("subscriber_map", "pseudonym", "last_seen") },
	{ UIGW_RET_ANSWERS, PG_OLDER("response", "id", "time") },
	{ UIGW_RET_ANSWERS, PG_OLDER("reaction", "id", "time") },
	{ UIGW_RET_ANSWERS, PG_OLDER("app_rating", "ctid", "time") },
	{ UIGW_RET_ANSWERS, PG_OLDER("flag", "id", "time") },
	{ UIGW_RET_ANSWERS, PG_OLDER("offer", "id", "time") },
	/* the parameters first: they are found through their dialog */
	{ UIGW_RET_DIALOGS, "DELETE FROM dialog_param WHERE dialog IN (SELECT id FROM dialog WHERE ended < $1"
			    " LIMIT " PG_LIMIT ")" },
	{ UIGW_RET_DIALOGS, PG_OLDER("dialog", "id", "ended") },
	{ UIGW_RET_REPORTERS, "UPDATE spam_report SET reporter = NULL WHERE id IN (SELECT id FROM spam_report"
			      " WHERE reporter IS NOT NULL AND time < $1 LIMIT " PG_LIMIT ")" },
	{ UIGW_RET_PUSH, PG_OLDER("push", "id", "time") },
	{ UIGW_RET_RECEIPTS, PG_OLDER("mt_receipt", "message_id", "submitted") },
	{ UIGW_RET_AUDIT, PG_OLDER("audit", "id", "time") },
	/* the records' ids follow the commits: the oldest first */
	{ UIGW_RET_CDRS, "DELETE FROM cdr WHERE id IN (SELECT id FROM cdr WHERE ended < $1 ORDER BY id"
			 " LIMIT " PG_LIMIT ")" },
	/* a state left by a gateway that died, or by a dialog cut off nobody dialled again */
	{ UIGW_PG_RET_STATES, "DELETE FROM dialog_state WHERE (pseudonym, class) IN (SELECT pseudonym, class"
			      " FROM dialog_state WHERE updated < $1 LIMIT " PG_LIMIT ")" },
};
