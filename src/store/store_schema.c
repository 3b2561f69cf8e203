/*! \file store_schema.c
 *  Schema of the feedback store, as upgrade steps keyed on PRAGMA user_version. Step N turns a database of
 *  version N-1 into version N; a fresh database (version 0) runs every step. Each step runs in one transaction
 *  together with its user_version bump, so a crash leaves the database at a whole version.
 *
 *  Never edit a released step: add a new one and raise UIGW_SCHEMA_VERSION. */

#include <errno.h>
#include <stdio.h>
#include <sqlite3.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/store/store.h>
#include "store_priv.h"

/* Version 1: dialogs, responses, spam reports. Times are ms since the epoch. */
static const char *const schema_v1[] = {
	"CREATE TABLE dialog ("
	" id INTEGER PRIMARY KEY,"	/* the dialog id */
	" campaign TEXT, version INTEGER, channel TEXT, subscriber TEXT,"
	" started INTEGER, ended INTEGER, outcome TEXT, steps INTEGER, last_node TEXT)",
	"CREATE TABLE response ("
	" id INTEGER PRIMARY KEY,"
	" campaign TEXT, version INTEGER, node TEXT, question TEXT, kind TEXT, value TEXT, raw TEXT,"
	" channel TEXT, subscriber TEXT, dialog INTEGER, time INTEGER, roaming INTEGER, language TEXT)",
	"CREATE TABLE spam_report ("
	" reporter TEXT, number TEXT, time INTEGER,"
	" counted INTEGER)",		/* 1 if it counts towards the number's reports (spam window) */
	NULL
};

/* Version 2: reactions, app ratings, abuse flags, offers, opt-out, the operator-only pseudonym mapping. */
static const char *const schema_v2[] = {
	"CREATE TABLE reaction ("
	" id INTEGER PRIMARY KEY,"
	" subscriber TEXT, content TEXT, reaction TEXT, time INTEGER, campaign TEXT, channel TEXT,"
	" UNIQUE (subscriber, content, reaction))",
	"CREATE TABLE app_rating ("
	" subscriber TEXT, app TEXT, rating INTEGER, time INTEGER, campaign TEXT, channel TEXT,"
	" PRIMARY KEY (subscriber, app))",
	"CREATE TABLE flag ("
	" id INTEGER PRIMARY KEY,"
	" subscriber TEXT, content TEXT, reason TEXT, time INTEGER, campaign TEXT, channel TEXT)",
	"CREATE TABLE offer ("
	" id INTEGER PRIMARY KEY,"
	" subscriber TEXT, campaign TEXT, service TEXT, uri TEXT, time INTEGER)",
	"CREATE TABLE optout ("
	" subscriber TEXT PRIMARY KEY, opted_out INTEGER, time INTEGER, channel TEXT)",
	"CREATE TABLE subscriber_map ("
	" pseudonym TEXT PRIMARY KEY, msisdn TEXT, first_seen INTEGER, last_seen INTEGER)",
	NULL
};

/* Version 3: the spam_number aggregate (filled from the reports already counted) and the indexes of the
 * contextual queries, the VTY views and the retention purge. */
static const char *const schema_v3[] = {
	"CREATE TABLE spam_number ("
	" number TEXT PRIMARY KEY, reports INTEGER NOT NULL DEFAULT 0, last_time INTEGER)",
	"INSERT INTO spam_number (number, reports, last_time)"
	" SELECT number, count(*), max(time) FROM spam_report"
	" WHERE counted = 1 AND number IS NOT NULL GROUP BY number",
	"CREATE INDEX response_question ON response (campaign, question, value)",
	"CREATE INDEX spam_number_reports ON spam_number (reports)",
	"CREATE INDEX reaction_content ON reaction (content, reaction)",
	"CREATE INDEX app_rating_app ON app_rating (app)",
	"CREATE INDEX flag_content ON flag (content)",
	"CREATE INDEX spam_report_number ON spam_report (number, reporter, time)",
	"CREATE INDEX dialog_campaign ON dialog (campaign, outcome)",
	"CREATE INDEX subscriber_map_last_seen ON subscriber_map (last_seen)",
	NULL
};

/* Version 4: one response per question per dialog. A subscriber who goes Back and answers again changes the
 * answer rather than adding one; existing duplicates keep their latest row. Rows without a dialog (0) are not
 * constrained. */
static const char *const schema_v4[] = {
	"DELETE FROM response WHERE dialog > 0 AND id NOT IN"
	" (SELECT max(id) FROM response WHERE dialog > 0 GROUP BY dialog, question)",
	"CREATE UNIQUE INDEX response_dialog_question ON response (dialog, question) WHERE dialog > 0",
	NULL
};

/* Version 5: the persistent MT queue of the SMPP channels (a message the user must get stays here until the SMSC
 * accepted it; it survives link losses and restarts), the log of network-initiated interactions (the
 * frequency caps count it) and the delivery receipts per message. mt_queue holds the real destination address inside the PDU: operator data, deleted
 * as soon as the SMSC accepted the message or it was dropped. */
static const char *const schema_v5[] = {
	"CREATE TABLE mt_queue ("
	" id INTEGER PRIMARY KEY,"
	" channel TEXT NOT NULL,"	/* smpp-sms / smpp-ussd */
	" dialog INTEGER NOT NULL DEFAULT 0,"	/* 0: not part of a dialog (opt-out confirmation) */
	" created INTEGER NOT NULL, expires INTEGER NOT NULL,"	/* ms; past expires it is dropped, never sent */
	" final INTEGER NOT NULL DEFAULT 0,"	/* 1: the dialog's last message; 0: its dialog still waits */
	" link TEXT,"			/* link it must go out on (USSD session), or NULL: any */
	" pdu BLOB NOT NULL)",		/* the encoded submit_sm (its sequence number means nothing) */
	"CREATE TABLE push ("
	" subscriber TEXT NOT NULL, campaign TEXT NOT NULL, channel TEXT, time INTEGER NOT NULL,"
	" result TEXT NOT NULL)",	/* sent / opted-out / capped / busy / error */
	"CREATE INDEX push_subscriber ON push (subscriber, time)",
	/* delivery receipts, per message the SMSC accepted while receipts were requested */
	"CREATE TABLE mt_receipt ("
	" message_id TEXT PRIMARY KEY, channel TEXT, dialog INTEGER, subscriber TEXT, submitted INTEGER,"
	" state TEXT NOT NULL, updated INTEGER)",	/* state: ENROUTE until the receipt, then its stat: value */
	NULL
};

/* Version 6: the HTTP API. Spam reports keep the channel and campaign they came by (the spam feed shows them);
 * the parameters a triggered dialog started with (the results show them beside the answers); API keys, stored as
 * hashes; the audit log of every API call; answers by campaign in id order (the results' cursor). */
static const char *const schema_v6[] = {
	"ALTER TABLE spam_report ADD COLUMN channel TEXT",
	"ALTER TABLE spam_report ADD COLUMN campaign TEXT",
	"CREATE TABLE dialog_param ("
	" dialog INTEGER NOT NULL, name TEXT NOT NULL, value TEXT, campaign TEXT,"
	" PRIMARY KEY (dialog, name))",
	"CREATE TABLE api_key ("
	" id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, scopes TEXT NOT NULL,"
	" created INTEGER NOT NULL, last_used INTEGER, revoked INTEGER)",
	"CREATE TABLE audit ("
	" id INTEGER PRIMARY KEY, time INTEGER NOT NULL, tenant TEXT, key_id INTEGER, method TEXT, path TEXT,"
	" status INTEGER, remote TEXT)",
	"CREATE INDEX response_campaign ON response (campaign)",
	/* The answers and dialogs per campaign, kept counted by triggers inside the writer's transactions, so that a
	 * summary, `show feedback` and the ${answers()} / ${average()} texts read a few rows instead of every answer.
	 * A response upserted again (Back) moves its count from the old value to the new one. */
	"CREATE TABLE answer_count ("
	" campaign TEXT NOT NULL, question TEXT NOT NULL, channel TEXT NOT NULL, value TEXT NOT NULL,"
	" n INTEGER NOT NULL, PRIMARY KEY (campaign, question, channel, value)) WITHOUT ROWID",
	"INSERT INTO answer_count (campaign, question, channel, value, n)"
	" SELECT campaign, question, coalesce(channel, ''), coalesce(value, ''), count(*) FROM response"
	" WHERE campaign IS NOT NULL AND question IS NOT NULL GROUP BY 1, 2, 3, 4",
	"CREATE TRIGGER response_counted AFTER INSERT ON response"
	" WHEN new.campaign IS NOT NULL AND new.question IS NOT NULL BEGIN"
	" INSERT INTO answer_count (campaign, question, channel, value, n)"
	"  VALUES (new.campaign, new.question, coalesce(new.channel, ''), coalesce(new.value, ''), 1)"
	"  ON CONFLICT (campaign, question, channel, value) DO UPDATE SET n = n + 1;"
	" END",
	"CREATE TRIGGER response_uncounted AFTER DELETE ON response"
	" WHEN old.campaign IS NOT NULL AND old.question IS NOT NULL BEGIN"
	" UPDATE answer_count SET n = n - 1 WHERE campaign = old.campaign AND question = old.question"
	"  AND channel = coalesce(old.channel, '') AND value = coalesce(old.value, '');"
	" END",
	"CREATE TRIGGER response_recounted AFTER UPDATE OF campaign, question, channel, value ON response BEGIN"
	" UPDATE answer_count SET n = n - 1 WHERE old.campaign IS NOT NULL AND old.question IS NOT NULL"
	"  AND campaign = old.campaign AND question = old.question"
	"  AND channel = coalesce(old.channel, '') AND value = coalesce(old.value, '');"
	" INSERT INTO answer_count (campaign, question, channel, value, n)"
	"  SELECT new.campaign, new.question, coalesce(new.channel, ''), coalesce(new.value, ''), 1"
	"  WHERE new.campaign IS NOT NULL AND new.question IS NOT NULL"
	"  ON CONFLICT (campaign, question, channel, value) DO UPDATE SET n = n + 1;"
	" END",
	"CREATE TABLE dialog_count ("
	" campaign TEXT NOT NULL, outcome TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (campaign, outcome))"
	" WITHOUT ROWID",
	"INSERT INTO dialog_count (campaign, outcome, n)"
	" SELECT campaign, outcome, count(*) FROM dialog WHERE campaign IS NOT NULL AND outcome IS NOT NULL"
	" GROUP BY 1, 2",
	"CREATE TRIGGER dialog_counted AFTER INSERT ON dialog"
	" WHEN new.campaign IS NOT NULL AND new.outcome IS NOT NULL BEGIN"
	" INSERT INTO dialog_count (campaign, outcome, n) VALUES (new.campaign, new.outcome, 1)"
	"  ON CONFLICT (campaign, outcome) DO UPDATE SET n = n + 1;"
	" END",
	"CREATE TRIGGER dialog_uncounted AFTER DELETE ON dialog"
	" WHEN old.campaign IS NOT NULL AND old.outcome IS NOT NULL BEGIN"
	" UPDATE dialog_count SET n = n - 1 WHERE campaign = old.campaign AND outcome = old.outcome;"
	" END",
	"CREATE TRIGGER dialog_recounted AFTER UPDATE OF campaign, outcome ON dialog BEGIN"
	" UPDATE dialog_count SET n = n - 1 WHERE campaign = old.campaign AND outcome = old.outcome;"
	" INSERT INTO dialog_count (campaign, outcome, n) SELECT new.campaign, new.outcome, 1"
	"  WHERE new.campaign IS NOT NULL AND new.outcome IS NOT NULL"
	"  ON CONFLICT (campaign, outcome) DO UPDATE SET n = n + 1;"
	" END",
	NULL
};

/* Version 7: webhooks and their outbox. An outbox entry is written in the transaction of the row it reports
 * (an answer, a dialog's end, a spam report, a refused trigger) and leaves the outbox when it was delivered;
 * entries that could not be delivered within the webhook's maximum age stay as dead letters (dead = 1) until
 * re-sent. An entry is small: it refers to the row it reports (ref: the dialog id, or the spam report's rowid;
 * ref_text: the answer's question), whose fields become the event's JSON when it is read for delivery; only a
 * refused trigger, which has no row of its own, keeps its JSON in data. The delivery id is nonce and id in hex.
 * The secret is kept in clear: the gateway signs with it. */
static const char *const schema_v7[] = {
	"CREATE TABLE webhook ("
	" id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, all_campaigns INTEGER NOT NULL DEFAULT 0,"
	" url TEXT NOT NULL, events INTEGER NOT NULL, secret TEXT NOT NULL, created INTEGER NOT NULL)",
	/* one b-tree, in the order the deliverer reads it: an entry costs the answer's transaction one insert at
	 * the end of its webhook's range */
	"CREATE TABLE webhook_outbox ("
	" webhook INTEGER NOT NULL, dead INTEGER NOT NULL DEFAULT 0,"
	" id INTEGER NOT NULL,"	/* the writer's counter: ids grow in commit order, the deliverer's cursor */
	" nonce INTEGER NOT NULL, event INTEGER NOT NULL,"	/* event: enum uigw_webhook_event */
	" ref INTEGER, ref_text TEXT, data TEXT,"
	" created INTEGER NOT NULL, since INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
	" last_try INTEGER, last_status INTEGER,"
	" PRIMARY KEY (webhook, dead, id)) WITHOUT ROWID",
	NULL
};

/* Version 8: charging. One record per dialog (cdr), written once when the dialog is over (no index but the
 * record number: ids follow the commits, and the retention purge and the recovery go by them); the rotating CSV
 * files (store_cdr.c) are made from this table,
 * and cdr_export keeps how far they got. Dialogs keep whether the subscriber was roaming and where, and whether
 * it was the operator's test drive. */
static const char *const schema_v8[] = {
	UIGW_STORE_CDR_TABLES_SQL,
	"ALTER TABLE dialog ADD COLUMN roaming INTEGER NOT NULL DEFAULT 0",
	"ALTER TABLE dialog ADD COLUMN visited TEXT",
	"ALTER TABLE dialog ADD COLUMN test INTEGER NOT NULL DEFAULT 0",
	/* network-initiated interactions put off by quiet hours or a campaign's pacing, sent when due (also after a
	 * restart). The number is kept as given: it is what the push goes to; the row goes when it was sent. */
	"CREATE TABLE deferred ("
	" id INTEGER PRIMARY KEY, due INTEGER NOT NULL, created INTEGER NOT NULL, reason TEXT NOT NULL,"
	" campaign TEXT NOT NULL, msisdn TEXT NOT NULL, via INTEGER NOT NULL, to_uri TEXT, language TEXT,"
	" params TEXT)",	/* name=value lines, values with %, = and line breaks %-escaped */
	"CREATE INDEX deferred_due ON deferred (due)",
	/* opt-outs of one campaign ("campaign:NAME") or of one tenant's campaigns ("tenant:NAME"), beside the
	 * opt-out of every push in optout */
	/* the operator's test drive (dialog.test) is counted apart: its outcomes as "test:OUTCOME", so that summaries
	 * leave it out unless asked (the outcome triggers of version 6, again with that) */
	"DROP TRIGGER dialog_counted",
	"DROP TRIGGER dialog_recounted",
	"CREATE TRIGGER dialog_counted AFTER INSERT ON dialog"
	" WHEN new.campaign IS NOT NULL AND new.outcome IS NOT NULL BEGIN"
	" INSERT INTO dialog_count (campaign, outcome, n)"
	"  VALUES (new.campaign, CASE WHEN new.test THEN 'test:' ELSE '' END || new.outcome, 1)"
	"  ON CONFLICT (campaign, outcome) DO UPDATE SET n = n + 1;"
	" END",
	"DROP TRIGGER dialog_uncounted",
	"CREATE TRIGGER dialog_uncounted AFTER DELETE ON dialog"
	" WHEN old.campaign IS NOT NULL AND old.outcome IS NOT NULL BEGIN"
	" UPDATE dialog_count SET n = n - 1 WHERE campaign = old.campaign"
	"  AND outcome = CASE WHEN old.test THEN 'test:' ELSE '' END || old.outcome;"
	" END",
	"CREATE TRIGGER dialog_recounted AFTER UPDATE OF campaign, outcome, test ON dialog BEGIN"
	" UPDATE dialog_count SET n = n - 1 WHERE campaign = old.campaign"
	"  AND outcome = CASE WHEN old.test THEN 'test:' ELSE '' END || old.outcome;"
	" INSERT INTO dialog_count (campaign, outcome, n)"
	"  SELECT new.campaign, CASE WHEN new.test THEN 'test:' ELSE '' END || new.outcome, 1"
	"  WHERE new.campaign IS NOT NULL AND new.outcome IS NOT NULL"
	"  ON CONFLICT (campaign, outcome) DO UPDATE SET n = n + 1;"
	" END",
	"CREATE TABLE optout_scope ("
	" subscriber TEXT NOT NULL, scope TEXT NOT NULL, time INTEGER, channel TEXT,"
	" PRIMARY KEY (subscriber, scope)) WITHOUT ROWID",
	NULL
};

/* The charging records moved to a database of their own (store_cdr_db.c), written by their own thread: renamed
 * here, taken over there at the same open, then dropped (uigw_store_open). */
static const char *const schema_v9[] = {
	"ALTER TABLE cdr RENAME TO cdr_v8",
	"ALTER TABLE cdr_export RENAME TO cdr_export_v8",
	NULL
};

/* An MT that may have been handed to a link is marked before it is (smpp `mt-in-doubt drop`): after a restart
 * such a row is in doubt, the others were never sent. */
static const char *const schema_v10[] = {
	"ALTER TABLE mt_queue ADD COLUMN sending INTEGER NOT NULL DEFAULT 0",
	NULL
};

/* New subscribers' mappings are appended to a journal in the transaction of their dialog and merged into
 * subscriber_map in key order every few seconds (store_mapping.c): a random-key insert per new subscriber cost a
 * page written per dialog, and the more so the bigger the mapping grew. */
static const char *const schema_v11[] = {
	"CREATE TABLE subscriber_new (pseudonym TEXT NOT NULL, msisdn TEXT, time INTEGER)",
	NULL
};

static const char *const *const schema_steps[UIGW_SCHEMA_VERSION + 1] = {
	[1] = schema_v1,
	[2] = schema_v2,
	[3] = schema_v3,
	[4] = schema_v4,
	[5] = schema_v5,
	[6] = schema_v6,
	[7] = schema_v7,
	[8] = schema_v8,
	[9] = schema_v9,
	[10] = schema_v10,
	[11] = schema_v11,
};

static int exec_logged(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &err);

	if (rc != SQLITE_OK) {
		LOGP(DSTORE, LOGL_ERROR, "SQL failed (%s): %s\n", err ? err : sqlite3_errstr(rc), sql);
		sqlite3_free(err);
		return -EIO;
	}
	return 0;
}

/* One step, one transaction, including the user_version bump. */
static int schema_step(sqlite3 *db, int version)
{
	const char *const *sql;
	char pragma[64];
	int rc;

	rc = exec_logged(db, "BEGIN IMMEDIATE");
	if (rc < 0)
		return rc;
	for (sql = schema_steps[version]; *sql; sql++) {
		rc = exec_logged(db, *sql);
		if (rc < 0)
			goto rollback;
	}
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version);
	rc = exec_logged(db, pragma);
	if (rc < 0)
		goto rollback;
	rc = exec_logged(db, "COMMIT");
	if (rc < 0)
		goto rollback;
	LOGP(DSTORE, LOGL_INFO, "database schema now at version %d\n", version);
	return 0;

rollback:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	LOGP(DSTORE, LOGL_ERROR, "schema upgrade to version %d failed, rolled back\n", version);
	return rc;
}

int uigw_store_schema_upgrade(struct sqlite3 *db, int from, int to)
{
	int v, rc;

	if (!db || from < 0 || to > UIGW_SCHEMA_VERSION || from > to)
		return -EINVAL;
	for (v = from + 1; v <= to; v++) {
		rc = schema_step(db, v);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Statements of the write connection. Named parameters; bound by name, reset and cleared after each use. */
const char *const uigw_store_wstmt_sql[_WSTMT_NUM] = {
	[WSTMT_BEGIN] = "BEGIN IMMEDIATE",
	[WSTMT_COMMIT] = "COMMIT",
	[WSTMT_ROLLBACK] = "ROLLBACK",
	[WSTMT_RESPONSE] =
		"INSERT INTO response (campaign, version, node, question, kind, value, raw, channel, subscriber,"
		" dialog, time, roaming, language) VALUES ($campaign, $version, $node, $question, $kind, $value, $raw,"
		" $channel, $subscriber, $dialog, $time, $roaming, $language)"
		/* answered again in the same dialog (Back): the new answer replaces the old one */
		" ON CONFLICT (dialog, question) WHERE dialog > 0 DO UPDATE SET version = excluded.version,"
		" node = excluded.node, kind = excluded.kind, value = excluded.value, raw = excluded.raw,"
		" channel = excluded.channel, time = excluded.time, roaming = excluded.roaming,"
		" language = excluded.language",
	[WSTMT_DIALOG] =
		"INSERT INTO dialog (id, campaign, version, channel, subscriber, started, ended, outcome,"
		" steps, last_node, roaming, visited, test) VALUES ($id, $campaign, $version, $channel, $subscriber,"
		" $started, $ended, $outcome, $steps, $last_node, $roaming, $visited, $test)"
		/* an upsert, not REPLACE: the counting triggers see an update, not a silent delete */
		" ON CONFLICT (id) DO UPDATE SET campaign = excluded.campaign, version = excluded.version,"
		" channel = excluded.channel, subscriber = excluded.subscriber, started = excluded.started,"
		" ended = excluded.ended, outcome = excluded.outcome, steps = excluded.steps,"
		" last_node = excluded.last_node, roaming = excluded.roaming, visited = excluded.visited,"
		" test = excluded.test",
	[WSTMT_DEFER] =
		"INSERT OR REPLACE INTO deferred (id, due, created, reason, campaign, msisdn, via, to_uri, language, params)"
		" VALUES ($id, $due, $time, $reason, $campaign, $msisdn, $via, $to, $language, $params)",
	[WSTMT_DEFER_DONE] = "DELETE FROM deferred WHERE id = $id",
	[WSTMT_OPTOUT_SCOPE] =
		"INSERT OR REPLACE INTO optout_scope (subscriber, scope, time, channel)"
		" VALUES ($subscriber, $scope, $time, $channel)",
	[WSTMT_OPTIN_SCOPE] = "DELETE FROM optout_scope WHERE subscriber = $subscriber AND scope = $scope",
	[WSTMT_OPTIN_ALL] = "DELETE FROM optout_scope WHERE subscriber = $subscriber",
	[WSTMT_SPAM_RECENT] =
		"SELECT 1 FROM spam_report WHERE number = $number AND reporter = $reporter AND time > $since"
		" AND counted = 1 LIMIT 1",
	[WSTMT_SPAM_INSERT] =
		"INSERT INTO spam_report (reporter, number, time, counted, channel, campaign)"
		" VALUES ($reporter, $number, $time, $counted, $channel, $campaign)",
	[WSTMT_SPAM_COUNT] =
		"INSERT INTO spam_number (number, reports, last_time) VALUES ($number, 1, $time)"
		" ON CONFLICT (number) DO UPDATE SET reports = reports + 1,"
		" last_time = max(coalesce(last_time, 0), excluded.last_time)",
	[WSTMT_REACTION_DEL] =
		"DELETE FROM reaction WHERE subscriber = $subscriber AND content = $content AND reaction = $reaction",
	[WSTMT_REACTION_INS] =
		"INSERT OR IGNORE INTO reaction (subscriber, content, reaction, time, campaign, channel)"
		" VALUES ($subscriber, $content, $reaction, $time, $campaign, $channel)",
	[WSTMT_APP_RATING] =
		"INSERT OR REPLACE INTO app_rating (subscriber, app, rating, time, campaign, channel)"
		" VALUES ($subscriber, $app, $rating, $time, $campaign, $channel)",
	[WSTMT_FLAG] =
		"INSERT INTO flag (subscriber, content, reason, time, campaign, channel)"
		" VALUES ($subscriber, $content, $reason, $time, $campaign, $channel)",
	[WSTMT_OFFER] =
		"INSERT INTO offer (subscriber, campaign, service, uri, time)"
		" VALUES ($subscriber, $campaign, $service, $uri, $time)",
	[WSTMT_OPTOUT] =
		"INSERT INTO optout (subscriber, opted_out, time, channel)"
		" VALUES ($subscriber, $opted_out, $time, $channel)"
		" ON CONFLICT (subscriber) DO UPDATE SET opted_out = excluded.opted_out, time = excluded.time,"
		" channel = excluded.channel",
	[WSTMT_SUBSCRIBER] =
		"INSERT INTO subscriber_new (pseudonym, msisdn, time) VALUES ($pseudonym, $msisdn, $time)",
	/* the merge of the journal (store_mapping.c), in key order */
	[WSTMT_MAP_UPSERT] =
		"INSERT INTO subscriber_map (pseudonym, msisdn, first_seen, last_seen)"
		" VALUES ($pseudonym, $msisdn, $time, $time)"
		" ON CONFLICT (pseudonym) DO UPDATE SET msisdn = excluded.msisdn,"
		" last_seen = max(coalesce(last_seen, 0), excluded.last_seen)",
	[WSTMT_MAP_CLEAR] = "DELETE FROM subscriber_new WHERE rowid <= $upto",
	[WSTMT_MAP_LAST] = "SELECT max(rowid), count(*) FROM subscriber_new",
	[WSTMT_MAP_READ] = "SELECT rowid, pseudonym, msisdn, time FROM subscriber_new ORDER BY rowid",
	[WSTMT_MT_INSERT] =
		"INSERT OR REPLACE INTO mt_queue (id, channel, dialog, created, expires, final, link, pdu)"
		" VALUES ($id, $channel, $dialog, $time, $expires, $final, $link, $pdu)",
	[WSTMT_MT_DELETE] = "DELETE FROM mt_queue WHERE id = $id",
	[WSTMT_MT_SENDING] = "UPDATE mt_queue SET sending = 1 WHERE id = $id",
	[WSTMT_RECEIPT_INS] =
		"INSERT OR REPLACE INTO mt_receipt (message_id, channel, dialog, subscriber, submitted, state, updated)"
		" VALUES ($message_id, $channel, $dialog, $subscriber, $time, $state, $time)",
	[WSTMT_RECEIPT_UPD] =
		"UPDATE mt_receipt SET state = $state, updated = $time WHERE message_id = $message_id",
	[WSTMT_PUSH] =
		"INSERT INTO push (subscriber, campaign, channel, time, result)"
		" VALUES ($subscriber, $campaign, $channel, $time, $result)",
	[WSTMT_PARAM] =
		"INSERT OR REPLACE INTO dialog_param (dialog, name, value, campaign)"
		" VALUES ($dialog, $name, $value, $campaign)",
	[WSTMT_API_KEY] =
		"INSERT INTO api_key (id, tenant, hash, scopes, created) VALUES ($id, $tenant, $hash, $scopes, $time)",
	[WSTMT_API_KEY_REVOKE] =
		"UPDATE api_key SET revoked = $time WHERE id = $id AND revoked IS NULL",
	[WSTMT_API_KEY_USED] =
		"UPDATE api_key SET last_used = max(coalesce(last_used, 0), $time) WHERE id = $id",
	[WSTMT_AUDIT] =
		"INSERT INTO audit (time, tenant, key_id, method, path, status, remote)"
		" VALUES ($time, $tenant, $key_id, $method, $path, $status, $remote)",
	[WSTMT_WEBHOOK] =
		"INSERT INTO webhook (id, tenant, all_campaigns, url, events, secret, created)"
		" VALUES ($id, $tenant, $all, $url, $events, $secret, $time)",
	[WSTMT_WEBHOOK_DEL] = "DELETE FROM webhook WHERE id = $id",
	[WSTMT_WEBHOOK_PURGE] = "DELETE FROM webhook_outbox WHERE webhook = $id",
	[WSTMT_WEBHOOK_LOAD] = "SELECT id, tenant, all_campaigns, events FROM webhook",
	[WSTMT_WH_MAX_ID] = "SELECT coalesce(max(id), 0) FROM webhook_outbox",
	[WSTMT_WH_INSERT] =
		"INSERT INTO webhook_outbox (id, webhook, nonce, event, ref, ref_text, data, created, since)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
	[WSTMT_WH_DONE] = "DELETE FROM webhook_outbox WHERE webhook = $webhook AND dead = 0 AND id = $id",
	[WSTMT_WH_RETRY] =
		"UPDATE webhook_outbox SET attempts = attempts + 1, last_try = $time, last_status = $status"
		" WHERE webhook = $webhook AND dead = 0 AND id = $id",
	[WSTMT_WH_DEAD] =
		"UPDATE webhook_outbox SET dead = 1, last_try = coalesce(last_try, $time)"
		" WHERE webhook = $webhook AND dead = 0 AND id = $id",
	[WSTMT_WH_DEAD_OLD] =
		"UPDATE webhook_outbox SET dead = 1, last_try = coalesce(last_try, $time)"
		" WHERE webhook = $webhook AND dead = 0 AND id > $after AND since < $cutoff",
	[WSTMT_WH_RESEND] =
		"UPDATE webhook_outbox SET dead = 0, attempts = 0, since = $time"
		" WHERE webhook = $webhook AND dead = 1 AND id = $id",
	[WSTMT_WH_RESEND_ALL] =
		"UPDATE webhook_outbox SET dead = 0, attempts = 0, since = $time WHERE webhook = $webhook AND dead = 1",
};
