/*! \file store_retention.c
 *  Retention periods per kind of record (node `store`: retention-days, retention KIND DAYS): the writer deletes
 *  what is older in batches, so that a purge never holds the writer for long; dialogs keep being served in between. */

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sqlite3.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/store/store.h>
#include "store_priv.h"

const struct value_string uigw_retention_names[] = {
	{ UIGW_RET_MAPPING, "mapping" },
	{ UIGW_RET_ANSWERS, "answers" },
	{ UIGW_RET_DIALOGS, "dialogs" },
	{ UIGW_RET_REPORTERS, "reporters" },
	{ UIGW_RET_PUSH, "push" },
	{ UIGW_RET_RECEIPTS, "receipts" },
	{ UIGW_RET_AUDIT, "audit" },
	{ UIGW_RET_CDRS, "cdrs" },
	{ 0, NULL }
};

#define LIMIT OSMO_STRINGIFY_VAL(UIGW_STORE_PURGE_BATCH)
#define OLDER(table, col) \
	"DELETE FROM " table " WHERE rowid IN (SELECT rowid FROM " table " WHERE " col " < $before LIMIT " LIMIT ")"

/* one kind can span tables: each statement deletes at most one batch */
static const struct {
	enum uigw_retention kind;
	const char *sql;
} purges[] = {
	{ UIGW_RET_MAPPING, OLDER("subscriber_map", "last_seen") },
	{ UIGW_RET_ANSWERS, OLDER("response", "time") },
	{ UIGW_RET_ANSWERS, OLDER("reaction", "time") },
	{ UIGW_RET_ANSWERS, OLDER("app_rating", "time") },
	{ UIGW_RET_ANSWERS, OLDER("flag", "time") },
	{ UIGW_RET_ANSWERS, OLDER("offer", "time") },
	/* the parameters first: they are found through their dialog */
	{ UIGW_RET_DIALOGS, "DELETE FROM dialog_param WHERE dialog IN (SELECT id FROM dialog WHERE ended < $before"
			    " LIMIT " LIMIT ")" },
	{ UIGW_RET_DIALOGS, OLDER("dialog", "ended") },
	{ UIGW_RET_REPORTERS, "UPDATE spam_report SET reporter = NULL WHERE rowid IN (SELECT rowid FROM spam_report"
			      " WHERE reporter IS NOT NULL AND time < $before LIMIT " LIMIT ")" },
	{ UIGW_RET_PUSH, OLDER("push", "time") },
	{ UIGW_RET_RECEIPTS, OLDER("mt_receipt", "submitted") },
	{ UIGW_RET_AUDIT, OLDER("audit", "time") },
	/* UIGW_RET_CDRS: the charging thread's, in its own database (store_cdr_db.c) */
};

static unsigned int days_of(const struct uigw_store *st, enum uigw_retention k)
{
	return k == UIGW_RET_MAPPING ? st->cfg.retention_days : st->cfg.retention[k];
}

/* Delete one batch of what is past its retention, per table (writer thread, or open before the thread starts).
 * \returns true if a table had more than one batch due: the writer calls again after its next commit */
bool uigw_store_purge(struct uigw_store *st)
{
	int64_t now = uigw_wall_ms();
	unsigned int i, days;
	bool more = false;
	sqlite3_stmt *s;
	int n, total = 0;

	st->last_purge_ms = now;
	/* one transaction for the round: one sync, not one per table */
	if (sqlite3_exec(st->wdb, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		LOGP(DSTORE, LOGL_ERROR, "purge: cannot begin: %s\n", sqlite3_errmsg(st->wdb));
		return true;	/* tried again after the next commit */
	}
	for (i = 0; i < ARRAY_SIZE(purges); i++) {
		days = days_of(st, purges[i].kind);
		if (!days)
			continue;
		if (sqlite3_prepare_v2(st->wdb, purges[i].sql, -1, &s, NULL) != SQLITE_OK) {
			LOGP(DSTORE, LOGL_ERROR, "purge: %s: %s\n", purges[i].sql, sqlite3_errmsg(st->wdb));
			continue;
		}
		sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, "$before"), now - (int64_t)days * 86400000LL);
		if (sqlite3_step(s) == SQLITE_DONE) {
			n = sqlite3_changes(st->wdb);
			total += n;
			more |= n >= UIGW_STORE_PURGE_BATCH;
			if (n)
				LOGP(DSTORE, LOGL_INFO, "purged %d rows of %s older than %u days\n", n,
				     get_value_string(uigw_retention_names, purges[i].kind), days);
		} else {
			LOGP(DSTORE, LOGL_ERROR, "purge of %s failed: %s\n",
			     get_value_string(uigw_retention_names, purges[i].kind), sqlite3_errmsg(st->wdb));
		}
		sqlite3_finalize(s);
	}
	if (sqlite3_exec(st->wdb, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		LOGP(DSTORE, LOGL_ERROR, "purge: cannot commit: %s\n", sqlite3_errmsg(st->wdb));
		sqlite3_exec(st->wdb, "ROLLBACK", NULL, NULL, NULL);
		return true;
	}
	pthread_mutex_lock(&st->lock);
	st->stats.purged += total;
	pthread_mutex_unlock(&st->lock);
	return more;
}
