/*! \file store.h
 *  The feedback store: SQLite in WAL mode behind a narrow interface, written by one writer thread that
 *  commits in groups. The event loop builds a job (rows to write + contextual queries to read after the
 *  commit), submits it, and gets its completion callback on the loop once the rows are durable.
 *
 *  Threading contract: a job is allocated and filled on the loop thread; after uigw_store_submit() the loop
 *  does not touch it until its completion callback, which runs on the loop thread; the writer thread only reads
 *  the rows and writes the result fields, never allocates with talloc. */
#pragma once

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/uigw/store/query.h>

struct uigw_store;
struct uigw_store_job;

/*! Where the store keeps its rows (node `store`: `backend sqlite|postgresql`). */
enum uigw_store_backend {
	UIGW_STORE_SQLITE,		/*!< one file, one gateway (the default) */
	UIGW_STORE_POSTGRESQL,		/*!< a PostgreSQL database that several gateways share (store_pg.c) */
};

/*! Store settings (VTY node `store`). */
struct uigw_store_cfg {
	enum uigw_store_backend backend;
	const char *path;		/*!< SQLite file; default "osmo-uigw.db" in the working folder */
	const char *conninfo;		/*!< PostgreSQL: libpq connection string (default: libpq's own defaults) */
	const char *instance;		/*!< PostgreSQL: this gateway's name among those sharing the database, unique
					 *   (default "uigw") */
	bool sync_full;			/*!< PRAGMA synchronous=FULL (default) vs NORMAL */
	unsigned int batch_max_rows;	/*!< rows per transaction at most (default 8192) */
	unsigned int queue_max_jobs;	/*!< submitted jobs waiting at most; past it submit fails -EBUSY (100000) */
	unsigned int commit_interval_ms;	/*!< a commit starts at least this long after the previous one began,
						 *   unless batch_max_rows are waiting (default 5; 0: at once) */
	unsigned int checkpoint_pages;	/*!< the WAL is copied into the database when it holds this many pages
					 *   (default 10000, ~40 MB; SQLite's own: 1000), or half of wal_max_mb */
	unsigned int checkpoint_interval_ms;	/*!< ... and at the latest this long after a commit (default 1000;
						 *   0: only by checkpoint_pages) */
	unsigned int wal_max_mb;	/*!< MiB: the WAL file is cut back to this size when it restarts, and
					 *   truncated by a checkpoint when it holds more (PRAGMA journal_size_limit; 64) */
	unsigned int hold_s;		/*!< a failed commit (disk full, I/O error, locked) is retried for up to this
					 *   long, the jobs held in memory, before they fail (default 30; 0: fail at once) */
	unsigned int spam_window;	/*!< seconds: a second report of the same number by the same reporter
					 *   within it does not count (default 86400) */
	unsigned int retention_days;	/*!< subscriber_map rows older than this are purged (default 90, 0 = keep) */
	unsigned int cache_mb;		/*!< MiB: the writer's page cache (PRAGMA cache_size; default 64) */
	unsigned int map_delay_s;	/*!< a new subscriber's mapping waits in the journal (subscriber_new) at most
					 *   this long before it is merged into subscriber_map in key order (default
					 *   10; 0: after every commit) */
	unsigned int retention[8];	/*!< days per enum uigw_retention kind but the mapping (0 = keep, default) */
	/* charging records as CSV files (store_cdr.c); the cdr table is written whatever these say */
	const char *cdr_dir;		/*!< folder of the CSV files, NULL: none (default) */
	unsigned int cdr_interval;	/*!< seconds: a file is closed this long after it was opened (default 3600) */
	unsigned int cdr_max_kb;	/*!< ... or when it holds this many KiB (default 10240) */
	bool cdr_off;			/*!< no charging records at all (node store: cdr-records off) */
	bool test_results;		/*!< the test drive's answers go to webhooks too (node uigw:
					 *   test-drive-results include; set by the core) */
	bool cdr_msisdn;		/*!< records name the subscriber by MSISDN, not by pseudonym (the core fills
					 *   it in; the store only reads it) */
};

/*! What a retention period applies to (node `store`: `retention KIND DAYS`). Purged by the writer in batches of
 *  UIGW_STORE_PURGE_BATCH rows per table, hourly, and again after every group commit while more is due. */
enum uigw_retention {
	UIGW_RET_MAPPING,	/*!< the operator's pseudonym -> MSISDN mapping, by last_seen (= retention_days) */
	UIGW_RET_ANSWERS,	/*!< answers, reactions, app ratings, flags, offers */
	UIGW_RET_DIALOGS,	/*!< dialogs and their trigger parameters, by end */
	UIGW_RET_REPORTERS,	/*!< who reported a spam number: the report and its count stay, the reporter goes */
	UIGW_RET_PUSH,		/*!< the log of network-initiated interactions (frequency caps look back less) */
	UIGW_RET_RECEIPTS,	/*!< SMS delivery receipts */
	UIGW_RET_AUDIT,		/*!< the API's audit log */
	UIGW_RET_CDRS,		/*!< charging records (the CSV files handed over are the mediation's) */
	_UIGW_RET_NUM
};
extern const struct value_string uigw_retention_names[];
#define UIGW_STORE_PURGE_BATCH	2000

/*! Dialog outcome as stored. */
enum uigw_outcome {
	UIGW_OUTCOME_COMPLETED,
	UIGW_OUTCOME_ABANDONED,
	UIGW_OUTCOME_TIMED_OUT,
	UIGW_OUTCOME_REJECTED,
	_UIGW_OUTCOME_NUM
};
extern const struct value_string uigw_outcome_names[];	/*!< "completed","abandoned","timed-out","rejected" */

/*! Row kinds a job can carry. Strings are owned by the job's talloc tree (or are static). */
enum uigw_row_kind {
	UIGW_ROW_RESPONSE,
	UIGW_ROW_DIALOG,
	UIGW_ROW_SPAM,
	UIGW_ROW_REACTION,
	UIGW_ROW_APP_RATING,
	UIGW_ROW_FLAG,
	UIGW_ROW_OFFER,
	UIGW_ROW_OPTOUT,
	UIGW_ROW_SUBSCRIBER,	/*!< pseudonym -> MSISDN mapping (operator only), upserted with last_seen */
	UIGW_ROW_MT,		/*!< an MT the user must get enters the persistent MT queue (u.mt) */
	UIGW_ROW_MT_DONE,	/*!< it left the queue: accepted by the SMSC, or dropped (u.mt.id) */
	UIGW_ROW_MT_SENDING,	/*!< it may be handed to a link from now on (u.mt.id): after a restart it is in doubt */
	UIGW_ROW_PUSH,		/*!< a network-initiated interaction was attempted (u.push; frequency caps) */
	UIGW_ROW_MT_SUBMITTED,	/*!< the SMSC accepted an MT with a receipt requested (u.receipt, state ENROUTE) */
	UIGW_ROW_MT_RECEIPT,	/*!< its delivery receipt came (u.receipt: message_id, state) */
	UIGW_ROW_PARAM,		/*!< a parameter a triggered dialog started with (u.param; dialog, campaign) */
	UIGW_ROW_API_KEY,	/*!< an API key was created (u.api_key), or revoked (u.api_key.revoke: id only) */
	UIGW_ROW_API_KEY_USED,	/*!< an API key's last use (u.api_key.id, time_ms) */
	UIGW_ROW_AUDIT,		/*!< one call of the HTTP API (u.audit, time_ms) */
	UIGW_ROW_REFUSED,	/*!< a trigger was refused (u.refused): only the webhooks' outbox keeps it */
	UIGW_ROW_WEBHOOK,	/*!< a webhook was created (u.webhook), or deleted with its outbox (u.webhook.remove) */
	UIGW_ROW_WH_DONE,	/*!< an outbox entry was delivered: it leaves the outbox (u.wh.webhook, u.wh.id) */
	UIGW_ROW_WH_RETRY,	/*!< a delivery attempt failed (u.wh.webhook, u.wh.id, u.wh.status; time_ms) */
	UIGW_ROW_WH_DEAD,	/*!< dead-letter entry u.wh.id, or (id 0) every pending entry of webhook u.wh.webhook
				 *   above u.wh.after that has waited since before u.wh.cutoff_ms */
	UIGW_ROW_WH_RESEND,	/*!< dead letters of webhook u.wh.webhook (all, or u.wh.id) are pending again */
	UIGW_ROW_ERASE,		/*!< everything held about the pseudonym `subscriber` is deleted (store_subscriber.c);
				 *   u.subscriber.msisdn, if set, names the records kept under the number as well */
	UIGW_ROW_PURGE,		/*!< run the retention purge now (VTY `store purge`, tests) */
	UIGW_ROW_CDR,		/*!< the charging record of a dialog that is over (u.cdr; one per dialog id) */
	UIGW_ROW_DEFER,		/*!< a push put off until u.defer.due_ms (u.defer; campaign, time_ms common) */
	UIGW_ROW_DEFER_DONE,	/*!< it was sent, refused or dropped (u.defer.id) */
	UIGW_ROW_DLG_STATE,	/*!< where a subscriber's dialog stands (u.state; subscriber, campaign, version, time_ms
				 *   common), for another gateway on a shared store to go on with it; a store of one
				 *   gateway ignores it */
};

/*! What a webhook can be told about. A row of the matching kind adds one outbox entry per webhook that listens
 *  to the event and may see the row's campaign (its owner's, or every campaign for the operator's), in the
 *  transaction of the row itself: an answer is never committed without its notifications, nor the reverse. */
enum uigw_webhook_event {
	UIGW_WH_ANSWER,			/*!< "answer": a UIGW_ROW_RESPONSE */
	UIGW_WH_DIALOG_ENDED,		/*!< "dialog.ended": a UIGW_ROW_DIALOG */
	UIGW_WH_SPAM_REPORT,		/*!< "spam.report": a UIGW_ROW_SPAM */
	UIGW_WH_TRIGGER_REFUSED,	/*!< "trigger.refused": a UIGW_ROW_REFUSED */
	_UIGW_WH_NUM
};
extern const struct value_string uigw_webhook_event_names[];

/*! One row to write. Common fields first; kind-specific ones after. */
struct uigw_store_row {
	enum uigw_row_kind kind;
	int64_t time_ms;		/*!< wall clock, ms since epoch */
	const char *subscriber;		/*!< pseudonym (32 hex chars) */
	const char *campaign;
	unsigned int version;
	const char *channel;		/*!< channel name */
	uint64_t dialog;		/*!< dialog id */
	const char *owner;		/*!< tenant that owns the campaign, NULL: the operator (only webhooks use it) */
	union {
		struct {
			const char *node, *question, *kind;	/*!< kind: node kind name */
			const char *value;	/*!< canonical value */
			const char *raw;	/*!< what the user typed */
			const char *language;
			bool roaming;
		} response;
		struct {
			int64_t started_ms;
			enum uigw_outcome outcome;
			unsigned int steps;
			const char *last_node;
			bool roaming;
			const char *visited;	/*!< the visited network the channel named, or NULL */
			bool test;		/*!< the operator's test drive */
		} dialog;
		struct {
			int64_t started_ms;	/*!< time_ms is the end */
			enum uigw_outcome outcome;
			const char *refusal;	/*!< enum uigw_refusal's name, NULL: not refused */
			bool roaming;
			const char *visited;
			unsigned int screens;	/*!< screens (pages) the subscriber was sent */
			unsigned int mt_messages;	/*!< MT messages that took: SMS parts, SIP MESSAGEs; 0 on USSD */
			const char *charge_class;	/*!< the campaign's charging class */
			bool zero_rated;
			bool test;
		} cdr;			/*!< dialog, campaign, owner (the tenant), channel, subscriber are the common
					 *   fields; subscriber is the MSISDN when cdr_msisdn is set, else the pseudonym */
		struct {
			const char *cls;	/*!< "ussd", "sms", "ims": one state per subscriber and class */
			const char *node;	/*!< the node the dialog waits at (its id), NULL: it is over */
			const char *hist;	/*!< the Back history: node ids, space-separated */
			const char *vars;	/*!< its variables as name=value lines (uigw_params_encode()) */
		} state;
		struct {
			const char *number;	/*!< reported E.164 number */
		} spam;
		struct {
			const char *content;
			const char *reaction;	/*!< "like","dislike","subscribe" */
		} reaction;
		struct {
			const char *app;
			int rating;
		} app_rating;
		struct {
			const char *content;
			const char *reason;
		} flag;
		struct {
			const char *service;
			const char *uri;
		} offer;
		struct {
			bool opt_out;		/*!< true: opt out; false: opt back in */
			const char *scope;	/*!< "campaign:NAME", "tenant:NAME"; NULL: every push (opting back
						 *   in with NULL also ends every scoped opt-out) */
		} optout;
		struct {
			const char *msisdn;
		} subscriber;
		struct {
			int64_t id;		/*!< chosen by the core (unique) */
			int64_t due_ms;
			const char *reason;	/*!< "quiet_hours", "pacing" */
			const char *msisdn;	/*!< E.164: where the push goes */
			int via;		/*!< enum uigw_channel, -1: chosen when sent */
			const char *to, *language;	/*!< or NULL */
			const char *params;	/*!< name=value lines (uigw_defer_params_*), or NULL */
		} defer;
		struct {
			int64_t id;		/*!< queue id, chosen by the caller (unique, increasing) */
			int64_t expires_ms;	/*!< past this it is dropped, never sent */
			bool restart;		/*!< still sent after a restart (a final SMS, a USSN notice) */
			const char *link;	/*!< link it must go out on, or NULL: any */
			const uint8_t *pdu;	/*!< the encoded submit_sm */
			size_t pdu_len;
			bool sending;		/*!< read back: an UIGW_ROW_MT_SENDING of it was committed */
		} mt;			/*!< channel, dialog and time_ms (created) are the common fields */
		struct {
			const char *result;	/*!< "sent", "opted-out", "capped" */
		} push;			/*!< subscriber, campaign, channel, time_ms are the common fields */
		struct {
			const char *message_id;	/*!< the SMSC's message_id */
			const char *state;	/*!< "ENROUTE", or the receipt's stat: ("DELIVRD", "UNDELIV", ...) */
		} receipt;		/*!< subscriber, channel, dialog, time_ms are the common fields */
		struct {
			const char *name, *value;
		} param;		/*!< dialog and campaign are the common fields */
		struct {
			int64_t id;
			const char *tenant;
			const char *hash;	/*!< hex SHA-256 of the key: the key itself is never stored */
			const char *scopes;	/*!< space-separated */
			bool revoke;		/*!< revoke key id at time_ms (the other fields unused) */
		} api_key;
		struct {
			const char *tenant;
			int64_t key_id;		/*!< 0: no valid key */
			const char *method, *path;
			int status;
			const char *remote;	/*!< client address */
		} audit;
		struct {
			const char *refusal;	/*!< enum uigw_refusal's name */
			const char *detail;	/*!< or NULL */
		} refused;		/*!< campaign, channel, subscriber, owner, time_ms are the common fields */
		struct {
			int64_t id;
			const char *tenant;
			bool all_campaigns;	/*!< the operator's: every campaign's events */
			const char *url, *secret;
			uint32_t events;	/*!< bits of enum uigw_webhook_event */
			bool remove;		/*!< delete webhook id and its outbox (the other fields unused) */
		} webhook;		/*!< time_ms: created */
		struct {
			int64_t webhook;	/*!< every kind: the entries' webhook */
			int64_t id;		/*!< outbox entry (DEAD, RESEND: 0 = every one) */
			int status;		/*!< RETRY: the HTTP status, 0: no answer */
			int64_t cutoff_ms, after;	/*!< DEAD with id 0 */
		} wh;
	} u;
};

/*! A contextual query run after the job's rows are committed. */
struct uigw_store_query {
	enum uigw_query query;
	const char *campaign;		/*!< ANSWERS/AVERAGE: campaign name */
	const char *arg;		/*!< number / content / app / question */
	/* results, written by the writer thread: */
	int64_t count;			/*!< counts; for averages: number of values */
	double value;			/*!< averages (0 when count == 0) */
	int rc;				/*!< 0 or negative errno */
	char *text;			/*!< UIGW_Q_DLG_STATE on PostgreSQL: "VERSION\x1fNODE\x1fHIST\x1fVARS" (a talloc
					 *   child of the job), NULL: none */
};

typedef void (*uigw_store_done_cb)(struct uigw_store_job *job, void *data);

struct uigw_store_job {
	struct llist_head list;		/*!< internal */
	struct uigw_store *st;
	struct uigw_store_row *rows;
	unsigned int n_rows, max_rows;
	struct uigw_store_query *queries;
	unsigned int n_queries, max_queries;
	int rc;				/*!< 0: every row committed; negative: the transaction failed (rows lost) */
	int64_t held_since_us;		/*!< internal: its first failed commit (monotonic), 0: none */
	int64_t submitted_us;		/*!< internal: when uigw_store_submit() took it (uigw_real_mono_us()); 0: a log job of
					 *   the charging thread (no one waits for it) */
	uigw_store_done_cb done;
	void *data;
};

/*! Open (create or upgrade) the database and start the writer thread.
 *  \param[in] ctx  talloc parent
 *  \param[in] cfg  copied
 *  \returns the store or NULL (logged) */
struct uigw_store *uigw_store_open(void *ctx, const struct uigw_store_cfg *cfg);
/*! Commit everything queued, run the remaining completions, stop the thread and close the database. */
void uigw_store_close(struct uigw_store *st);
/*! Defaults for cfg. */
void uigw_store_cfg_defaults(struct uigw_store_cfg *cfg);

/*! Allocate a job; its talloc tree holds the strings of its rows. Freed by the completion callback
 *  (talloc_free(job)). */
struct uigw_store_job *uigw_store_job_alloc(struct uigw_store *st, uigw_store_done_cb done, void *data);
/*! Append a row (zeroed, kind set) and return it for filling, or NULL on OOM. The rows array may move on the
 *  next append: fill the row before appending another. */
struct uigw_store_row *uigw_store_job_row(struct uigw_store_job *job, enum uigw_row_kind kind);
/*! Append a query; \returns it for filling, or NULL. The array may move on the next append: after it, find
 *  the query by index in job->queries. */
struct uigw_store_query *uigw_store_job_query(struct uigw_store_job *job, enum uigw_query q,
					      const char *campaign, const char *arg);
/*! Hand the job to the writer. The completion callback runs later on the loop thread (never from inside this
 *  call), after the commit and the queries, with job->rc set.
 *  \returns 0, or -EBUSY when the queue is full (the job is not taken: the caller still owns it) */
int uigw_store_submit(struct uigw_store_job *job);
/*! A row nobody waits for (the API's audit log, a key's last use): it joins the store's log job, which is
 *  submitted when it holds UIGW_STORE_LOG_ROWS rows, UIGW_STORE_LOG_DELAY_MS after its first row, or at the next
 *  drain or close. One job for many rows spares the loop an allocation, a lock and a completion per row.
 *  \param[out] ctx  talloc parent for the row's strings (the log job)
 *  \returns the row (zeroed, kind set; fill it before the next call) or NULL (OOM: counted in log_rows_lost) */
struct uigw_store_row *uigw_store_log_row(struct uigw_store *st, enum uigw_row_kind kind, void **ctx);
#define UIGW_STORE_LOG_ROWS		512
#define UIGW_STORE_LOG_DELAY_MS		20
/*! Block until every submitted job is committed, then run the pending completions. For operator commands and
 *  tests only — never on the hot path. */
void uigw_store_drain(struct uigw_store *st);
/*! Jobs submitted and not yet completed. */
unsigned int uigw_store_queue_depth(const struct uigw_store *st);
/*! How long a job submitted now would wait for its completion, ms: a batch's fixed part and the jobs pending at
 *  the cost per job that the batches showed, and at least the time since the last completion while jobs pend (a
 *  stalled writer shows). 0 when none pend, and while the store fails to commit (uigw_store_failing()). */
unsigned int uigw_store_delay_ms(const struct uigw_store *st);

/*! What the writer thread did since the store opened, and what waits now (uigw_store_stats()). */
struct uigw_store_stats {
	uint64_t commits;		/*!< transactions (batches) written */
	uint64_t jobs, rows;		/*!< in them */
	uint64_t failed_jobs;		/*!< jobs completed with an error */
	uint64_t busy_us;		/*!< time spent writing and committing, in total */
	uint32_t max_commit_us;		/*!< the longest batch */
	unsigned int last_rows;		/*!< rows of the last batch */
	unsigned int queued;		/*!< jobs waiting for the writer */
	unsigned int in_flight;		/*!< jobs of the batch being written */
	unsigned int depth;		/*!< submitted, completion not yet run */
	uint64_t optout_checks;		/*!< uigw_store_is_opted_out() calls ... */
	uint64_t optout_reads;		/*!< ... that the opt-out filter could not answer alone (database read) */
	uint64_t log_rows_lost;		/*!< log rows (uigw_store_log_row) not stored: refused, queue full, OOM */
	uint64_t purged;		/*!< rows deleted (or reporters cleared) by the retention purge */
	uint64_t cdr_exported;		/*!< charging records appended to CSV files */
	uint64_t cdr_files;		/*!< CSV files closed (handed over) */
	uint64_t cdr_errors;		/*!< appends that failed (retried with the next commit) */
	int64_t cdr_last;		/*!< the last record in a file */
	uint64_t failures;		/*!< times the store began to fail (a commit failed after working) */
	uint64_t retries;		/*!< batches written again after a failed commit */
	uint64_t checkpoints;		/*!< WAL checkpoints by the timer or the bound (not SQLite's automatic ones) */
	uint64_t truncations;		/*!< ... of them that truncated the WAL file */
	uint64_t ckpt_us;		/*!< the writer's time in those checkpoints (no commit meanwhile), in all */
	uint64_t ckpt_max_us;		/*!< ... the longest one */
	uint64_t map_passes;		/*!< merges of the mapping's journal into subscriber_map (store_mapping.c) */
	uint64_t map_rows;		/*!< ... the mappings they wrote (new or updated) */
	uint64_t map_us;		/*!< ... the writer's time in them, in all */
	uint64_t map_max_us;		/*!< ... the longest step (one key range, one transaction) */
	uint64_t map_yields;		/*!< ... steps put off after a commit: jobs waited (the merge is upkeep) */
	uint64_t map_deferrals;		/*!< ... overload episodes that put it off (uigw_store_defer_upkeep()) */
	bool map_deferred;		/*!< ... put off now */
	unsigned int map_waiting;	/*!< mappings in the journal not yet taken by a pass */
	bool failing;			/*!< the last commit failed: jobs are held and retried */
	int64_t failing_since_ms;	/*!< wall clock of the failure that began it */
	unsigned int held;		/*!< jobs waiting for a retry (part of queued) */
	/* the charging records' own database and thread (store_cdr_db.c) */
	unsigned int cdr_queued;	/*!< jobs of records waiting for it (or being written) */
	bool cdr_failing;		/*!< its last commit failed: they wait and are retried every second */
	const char *cdr_db;		/*!< its file (valid while the store is open) */
	/* PostgreSQL (NULL / 0 on SQLite) */
	const char *pg_state;		/*!< the connection: "ready", "down", "connecting", ... */
	const char *pg_instance;	/*!< this gateway's name */
	int64_t pg_seq;			/*!< its last transaction number */
};
/*! The settings \a st runs with (those of node `store` at its opening). */
const struct uigw_store_cfg *uigw_store_cfg_of(const struct uigw_store *st);
/*! Does the store fail to commit right now (disk full, I/O error)? Jobs submitted are held and retried for up to
 *  hold_s; new dialogs should be refused meanwhile. Any thread. */
bool uigw_store_failing(const struct uigw_store *st);
/*! What the store's SQLite connections hold in memory now and at most (bytes): their page caches (cache_size
 *  each) and statements; the writer's and the charging thread's as of their last batch. 0 on PostgreSQL. Loop
 *  thread. */
void uigw_store_memory(struct uigw_store *st, int64_t *used, int64_t *highwater);
/*! Give back what SQLite's page caches hold beyond what is in use (sqlite3_db_release_memory()): the read
 *  connection's now, the write connection's by the writer thread before its next batch, which then trims the heap.
 *  After a burst (the end of an overload episode) the caches hold the pages it wrote, up to cache_size each. Loop
 *  thread. */
void uigw_store_release_memory(struct uigw_store *st);
/*! An overload episode begins (\a on) or ends: while on, the merge of the mapping's journal waits (a pass under way
 *  too) unless 2 x 65,536 mappings wait (its copy in memory is bounded), so that the writer's share of the CPU goes
 *  to the answers; off, a merge that is due goes on at once. The merge is upkeep, and the later it runs, the more
 *  rows share each page it writes. Loop thread. */
void uigw_store_defer_upkeep(struct uigw_store *st, bool on);
/*! A snapshot of \a st's counters (loop thread). */
void uigw_store_stats(struct uigw_store *st, struct uigw_store_stats *out);


/* Synchronous reads for VTY views, on a read-only connection of the loop thread (WAL: never blocked by the
 * writer). Each returns 0 or a negative errno; callbacks are called once per row. */

/*! Top numbers by counted spam reports, highest first. */
int uigw_store_spam_top(struct uigw_store *st, unsigned int n,
			void (*cb)(const char *number, int64_t reports, int64_t last_ms, void *data), void *data);
/*! A charging record as read back (strings valid during the callback only; NULL when empty). */
struct uigw_cdr_view {
	int64_t id, dialog, started_ms, ended_ms;
	const char *channel, *campaign, *tenant, *subscriber, *visited, *outcome, *refusal, *charge_class;
	bool roaming, zero_rated, test, recovered;
	int screens, mt_messages;	/*!< -1: unknown (a recovered record) */
};
/*! Every deferred push, by due time (at start: the core keeps them in memory). */
int uigw_store_deferred_load(struct uigw_store *st,
			     void (*cb)(int64_t id, int64_t due_ms, int64_t created_ms, const char *reason,
					const char *campaign, const char *msisdn, int via, const char *to,
					const char *language, const char *params, void *data), void *data);
/*! The last \a n charging records, oldest first. */
int uigw_store_cdr_last(struct uigw_store *st, unsigned int n,
			void (*cb)(const struct uigw_cdr_view *r, void *data), void *data);
/*! Distribution of answers for a campaign (all versions): one callback per (question, channel, value). */
int uigw_store_feedback(struct uigw_store *st, const char *campaign,
			void (*cb)(const char *question, const char *channel, const char *value, int64_t count,
				   void *data), void *data);
/*! Dialog counts per outcome for a campaign (index by enum uigw_outcome) and its response count. */
int uigw_store_campaign_counts(struct uigw_store *st, const char *campaign, int64_t outcomes[_UIGW_OUTCOME_NUM],
			       int64_t *responses, bool test);
/*! Run one contextual query synchronously (fills q's results). */
int uigw_store_query_sync(struct uigw_store *st, struct uigw_store_query *q);
/*! \returns 1 if the pseudonym opted out, 0 if not, negative errno */
int uigw_store_is_opted_out(struct uigw_store *st, const char *subscriber);
/*! Has \a subscriber opted out of every push, or of \a campaign, or of the campaigns of \a tenant (either NULL:
 *  not asked)? \returns 1, 0, or negative errno */
int uigw_store_opted_out_of(struct uigw_store *st, const char *subscriber, const char *campaign, const char *tenant);
/*! A subscriber's scoped opt-outs ("campaign:NAME", "tenant:NAME"), one callback each. \returns 0 or errno */
int uigw_store_optout_scopes(struct uigw_store *st, const char *subscriber,
			     void (*cb)(const char *scope, int64_t time_ms, const char *channel, void *data),
			     void *data);

/*! Everything the store holds about a pseudonym, committed rows only: one member per table, an array of its rows
 *  as objects, added to \a out (a JSON object; jansson's json_t). A UIGW_ROW_ERASE removes exactly these rows.
 *  \returns the number of rows, or negative errno */
struct json_t;
int uigw_store_subscriber_export(struct uigw_store *st, const char *pseudonym, struct json_t *out);

/*! Count the pushes that went out to \a subscriber since \a since_ms (wall clock), of campaign \a campaign or of
 *  every campaign (NULL), from the committed rows. \returns the count or negative errno */
int uigw_store_push_count(struct uigw_store *st, const char *subscriber, const char *campaign, int64_t since_ms);

/*! Count a push to \a subscriber of \a campaign now, if it fits under both caps (\a c_count pushes of the campaign
 *  within \a c_per seconds, \a g_count of every campaign within \a g_per; a count of 0: no such cap): one
 *  transaction on the database, serialised per subscriber across every gateway that shares it, commits its
 *  `sent` row. PostgreSQL only (SQLite has one gateway: uigw_store_push_count() and the pending pushes suffice).
 *  \returns 0 (counted), 1 (the campaign's cap is reached), 2 (the gateway-wide cap), -ENOTSUP (SQLite), or a
 *  negative errno */
int uigw_store_push_reserve(struct uigw_store *st, const char *subscriber, const char *campaign, const char *channel,
			    int64_t now_ms, unsigned int c_count, unsigned int c_per, unsigned int g_count,
			    unsigned int g_per);

/*! Do several gateways share this store (PostgreSQL)? Then a dialog's state is kept in it, and caps, opt-outs and
 *  counts are the database's. */
bool uigw_store_shared(const struct uigw_store *st);
/*! The number the shared database gave this gateway's instance name (1..4095, the same at every start), for ids
 *  no other gateway makes; 0 on SQLite. */
int uigw_store_instance_num(const struct uigw_store *st);
/*! Take the state of \a subscriber's dialog of class \a cls ("ussd", "sms", "ims") and \a campaign (NULL: any)
 *  written since \a since_ms by any gateway (UIGW_ROW_DLG_STATE), removing it in the same statement, so that one
 *  gateway only goes on with it; \a cb gets it (strings valid during the call).
 *  \returns 1 (taken), 0 (none), negative errno */
int uigw_store_dialog_state_take(struct uigw_store *st, const char *subscriber, const char *cls,
				 const char *campaign, int64_t since_ms,
				 void (*cb)(const char *campaign, unsigned int version, const char *node, const char *hist,
					    const char *vars, void *data), void *data);

/*! Count the recorded MT messages per receipt state (ENROUTE: no receipt yet), for `show smpp`.
 *  \returns the number of states or negative errno */
int uigw_store_receipt_counts(struct uigw_store *st, void (*cb)(const char *state, int64_t n, void *data),
			      void *data);

/*! Called by uigw_store_mt_load() for each row of the MT queue, oldest first. The row's strings and PDU are
 *  valid during the call only. 
eturns 0 to go on, negative to stop */
typedef int (*uigw_store_mt_cb)(const struct uigw_store_row *row, void *data);
/*! Read the persistent MT queue on the loop thread (at start-up, before new MTs are queued).
 *  \param[out] max_id  the highest id found (0 if none), so new ids continue above it
 *  
eturns the number of rows read or negative errno */
int uigw_store_mt_load(struct uigw_store *st, uigw_store_mt_cb cb, void *data, int64_t *max_id);

/*! One API key as stored (uigw_store_api_keys()). */
struct uigw_store_api_key {
	int64_t id;
	const char *tenant, *hash, *scopes;
	int64_t created_ms, last_used_ms, revoked_ms;	/*!< 0: never / not revoked */
};
/*! Read every API key, revoked ones included, by id. 
eturns the number read or negative errno */
int uigw_store_api_keys(struct uigw_store *st, void (*cb)(const struct uigw_store_api_key *k, void *data),
			void *data);

/*! One answer as the results API shows it (uigw_store_results()). Strings valid during the callback only. */
struct uigw_store_result {
	int64_t id;			/*!< cursor: pass the last one as \a after for the next page */
	const char *subscriber, *channel, *question, *value, *node;
	unsigned int version;
	uint64_t dialog;
	int64_t time_ms;
	const char *params_json;	/*!< the dialog's trigger parameters as a JSON object, or NULL */
};
/*! Answers of \a campaign with id > \a after, oldest first, at most \a limit.
 *  \returns the number of rows or negative errno */
int uigw_store_results(struct uigw_store *st, const char *campaign, int64_t after, unsigned int limit, bool test,
		       void (*cb)(const struct uigw_store_result *r, void *data), void *data);

/*! One ended dialog as stored. */
struct uigw_store_dialog {
	const char *campaign, *channel, *outcome, *last_node;
	int64_t started_ms, ended_ms;
	unsigned int steps;
};
/*! Look up an ended dialog by id. \returns 1 (found, \a cb called once), 0 (not found), negative errno */
int uigw_store_dialog_get(struct uigw_store *st, uint64_t id,
			  void (*cb)(const struct uigw_store_dialog *d, void *data), void *data);

/*! Reported numbers with at least \a min_reports counted reports, the last one at or after \a since_ms,
 *  most reported first, at most \a limit; only \a number if not NULL. \a reporters: distinct reporters.
 *  \returns rows or negative errno */
int uigw_store_spam_numbers(struct uigw_store *st, const char *number, int64_t min_reports, int64_t since_ms,
			    unsigned int limit,
			    void (*cb)(const char *number, int64_t reports, int64_t reporters, int64_t last_ms,
				       void *data), void *data);
/*! The reports of one number, newest first, at most \a limit: channel and campaign they came by, time, and
 *  whether each counted (not a repeat by the same reporter within the spam window).
 *  \returns rows or negative errno */
int uigw_store_spam_reports(struct uigw_store *st, const char *number, unsigned int limit,
			    void (*cb)(const char *channel, const char *campaign, int64_t time_ms, bool counted,
				       void *data), void *data);

/*! A webhook as stored. */
struct uigw_store_webhook {
	int64_t id;
	const char *tenant, *url, *secret;
	bool all_campaigns;
	uint32_t events;		/*!< bits of enum uigw_webhook_event */
	int64_t created_ms;
};
/*! Read every webhook, by id. \returns the number read or negative errno */
int uigw_store_webhooks(struct uigw_store *st, void (*cb)(const struct uigw_store_webhook *w, void *data),
			void *data);

/*! One outbox entry: an event for one webhook. Strings valid during the callback only. */
struct uigw_store_wh_entry {
	int64_t id;			/*!< increasing in the order the events were committed */
	const char *delivery;		/*!< the delivery id: 32 hex digits, the same on every attempt */
	const char *event;		/*!< "answer", ... */
	const char *data;		/*!< the event's fields as a JSON object */
	int64_t created_ms;		/*!< when the event happened */
	int64_t since_ms;		/*!< when it became pending (created, or re-sent) */
	unsigned int attempts;		/*!< failed attempts so far */
	int last_status;		/*!< of the last failed attempt (0: no answer) */
};
/*! Outbox entries of \a webhook with id > \a after, oldest first, at most \a limit; the pending ones, or the
 *  dead letters. \returns the number of rows or negative errno */
int uigw_store_wh_entries(struct uigw_store *st, int64_t webhook, bool dead, int64_t after, unsigned int limit,
			  void (*cb)(const struct uigw_store_wh_entry *e, void *data), void *data);
/*! Count the outbox entries of \a webhook: pending, dead letters, and pending ones with id > \a after waiting
 *  since before \a cutoff_ms (each pointer may be NULL). \returns 0 or negative errno */
int uigw_store_wh_counts(struct uigw_store *st, int64_t webhook, int64_t cutoff_ms, int64_t after,
			 int64_t *pending, int64_t *dead, int64_t *older);

/*! Is an answer's value a number, as the store judges it for averages (is_number() in SQL): a whole finite
 *  decimal ("7", "-2.5", "1e3"), not "", "abc", "12abc", " 3", "0x10", "nan", "inf".
 *  \param[out] value  the number, if it is one (may be NULL) */
bool uigw_store_is_number(const char *s, double *value);

/*! Schema version this code writes (PRAGMA user_version). */
#define UIGW_SCHEMA_VERSION 11
/*! Apply the schema steps of versions (from, to] to an open database, for tests of the upgrade path.
 *  \returns 0 or negative errno */
struct sqlite3;
int uigw_store_schema_upgrade(struct sqlite3 *db, int from, int to);
