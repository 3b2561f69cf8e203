/*! \file store_subscriber.c
 *  Everything the store holds about one subscriber (a pseudonym): exported as JSON on the loop's read connection,
 *  erased by the writer in the transaction of a UIGW_ROW_ERASE row. One list of where a subscriber can be, for
 *  both, so that an export holds exactly what an erase removes. */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include <sqlite3.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/store/store.h>
#include "store_priv.h"

/* The subscriber's number: in the mapping, or still in its journal (store_mapping.c) */
#define MSISDN_OF "SELECT msisdn FROM subscriber_map WHERE pseudonym = $s" \
		  " UNION SELECT msisdn FROM subscriber_new WHERE pseudonym = $s"

/* In the order the writer deletes: what refers to a dialog or a report before the dialog or the report. */
static const struct {
	const char *table;
	const char *where;
} places[] = {
	/* webhook deliveries about the subscriber: answers and dialog ends refer to the dialog, spam reports to
	 * the report's rowid, a refused trigger carries its JSON with the pseudonym */
	{ "webhook_outbox",
	  "(event IN (0, 1) AND ref IN (SELECT id FROM dialog WHERE subscriber = $s))"
	  " OR (event = 2 AND ref IN (SELECT rowid FROM spam_report WHERE reporter = $s))"
	  " OR (data IS NOT NULL AND instr(data, '\"subscriber\":\"' || $s || '\"') > 0)" },
	{ "dialog_param", "dialog IN (SELECT id FROM dialog WHERE subscriber = $s)" },
	{ "response", "subscriber = $s" },
	{ "dialog", "subscriber = $s" },
	{ "reaction", "subscriber = $s" },
	{ "app_rating", "subscriber = $s" },
	{ "flag", "subscriber = $s" },
	{ "offer", "subscriber = $s" },
	{ "push", "subscriber = $s" },
	{ "mt_receipt", "subscriber = $s" },
	/* charging records name the subscriber by pseudonym, or by number (cdr-subscriber msisdn) */
	{ "cdr", "subscriber = $s OR subscriber IN (" MSISDN_OF ")" },
	{ "spam_report", "reporter = $s" },
	{ "optout", "subscriber = $s" },
	{ "optout_scope", "subscriber = $s" },
	/* pushes put off (quiet hours, pacing) keep the number they go to: found through the mapping */
	{ "deferred", "msisdn IN (" MSISDN_OF ")" },
	{ "subscriber_map", "pseudonym = $s" },
	{ "subscriber_new", "pseudonym = $s" },
};

/* The charging records are in the charging database: read through the read connection's attachment, erased by
 * the charging thread (store_cdr_db.c: the ERASE row goes there too) */
static bool charging(unsigned int i)
{
	return !strcmp(places[i].table, "cdr");
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *verb, unsigned int i, const char *pseudonym)
{
	char sql[512];
	sqlite3_stmt *s;

	snprintf(sql, sizeof(sql), "%s FROM %s WHERE %s", verb, places[i].table, places[i].where);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
		LOGP(DSTORE, LOGL_ERROR, "%s: %s\n", sql, sqlite3_errmsg(db));
		return NULL;
	}
	if (sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, "$s"), pseudonym, -1, SQLITE_STATIC) != SQLITE_OK) {
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

static json_t *column_json(sqlite3_stmt *s, int c)
{
	switch (sqlite3_column_type(s, c)) {
	case SQLITE_INTEGER:
		return json_integer(sqlite3_column_int64(s, c));
	case SQLITE_FLOAT:
		return json_real(sqlite3_column_double(s, c));
	case SQLITE_TEXT:
		return json_stringn((const char *)sqlite3_column_text(s, c), sqlite3_column_bytes(s, c));
	case SQLITE_BLOB:
		/* the MT queue's PDUs are not exported (they leave the store when the SMSC took them) */
		return json_string("(binary)");
	default:
		return json_null();
	}
}

int uigw_store_subscriber_export(struct uigw_store *st, const char *pseudonym, json_t *out)
{
	unsigned int i;
	int rc, c, n = 0;

	if (!st || !pseudonym || !json_is_object(out))
		return -EINVAL;
	if (st->pg)
		return uigw_store_pg_export(st, pseudonym, out);
	for (i = 0; i < ARRAY_SIZE(places); i++) {
		sqlite3_stmt *s = prepare(st->rdb, "SELECT *", i, pseudonym);
		json_t *rows = json_array();

		if (!s || !rows) {
			sqlite3_finalize(s);
			json_decref(rows);
			return -EIO;
		}
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			json_t *row = json_object();

			for (c = 0; row && c < sqlite3_column_count(s); c++)
				json_object_set_new(row, sqlite3_column_name(s, c), column_json(s, c));
			if (!row || json_array_append_new(rows, row) < 0) {
				rc = SQLITE_NOMEM;
				break;
			}
			n++;
		}
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE) {
			LOGP(DSTORE, LOGL_ERROR, "export of %s failed: %s\n", places[i].table, sqlite3_errstr(rc));
			json_decref(rows);
			return -EIO;
		}
		if (json_object_set_new(out, places[i].table, rows) < 0)
			return -ENOMEM;
	}
	return n;
}

int uigw_store_write_erase(struct uigw_store *st, const char *pseudonym)
{
	unsigned int i;
	int n = 0, rc;

	if (!pseudonym) {
		LOGP(DSTORE, LOGL_NOTICE, "erase without a subscriber skipped\n");
		return 0;
	}
	uigw_store_map_forget(st);	/* nothing held of the subscriber goes back into subscriber_map */
	for (i = 0; i < ARRAY_SIZE(places); i++) {
		sqlite3_stmt *s;

		if (charging(i))
			continue;
		s = prepare(st->wdb, "DELETE", i, pseudonym);
		if (!s)
			return -EIO;
		rc = sqlite3_step(s);
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE) {
			LOGP(DSTORE, LOGL_ERROR, "erase in %s failed: %s\n", places[i].table, sqlite3_errmsg(st->wdb));
			return -EIO;
		}
		n += sqlite3_changes(st->wdb);
	}
	LOGP(DSTORE, LOGL_NOTICE, "subscriber %s erased: %d rows\n", pseudonym, n);
	return 0;
}
