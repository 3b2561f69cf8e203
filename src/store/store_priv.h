/*! \file store_priv.h
 *  Internals shared by store.c (open, jobs, completions), store_write.c (the writer thread), store_schema.c
 *  (schema steps) and store_read.c (loop-thread reads).
 *  Not part of the interface: include <osmocom/uigw/store.h> instead. */
#pragma once

#include <pthread.h>
#include <stdint.h>
#include <sqlite3.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/core/select.h>
#include <osmocom/core/timer.h>
#include <osmocom/uigw/store/store.h>

/*! The contextual queries: the same SQL on the writer's connection (after a commit) and on the read
 *  connection (uigw_store_query_sync). Parameters: $campaign, $arg. Result columns: count, value. */
extern const char *const uigw_store_query_sql[_UIGW_Q_NUM];

/*! The charging tables as schema 8 of the main database created them; since schema 9 they live in the charging
 *  database (store_cdr_db.c), created there with the same statements. */
#define UIGW_STORE_CDR_TABLES_SQL \
	"CREATE TABLE cdr (" \
	" id INTEGER PRIMARY KEY,"	/* the record number (given by the writer, never reused): the CSV files' first column */ \
	" dialog INTEGER NOT NULL, started INTEGER, ended INTEGER NOT NULL, channel TEXT, campaign TEXT," \
	" tenant TEXT,"			/* the campaign's owner, NULL: the operator */ \
	" subscriber TEXT,"		/* the pseudonym, or the MSISDN (node store: cdr-subscriber msisdn) */ \
	" roaming INTEGER NOT NULL DEFAULT 0, visited TEXT, screens INTEGER, mt_messages INTEGER, outcome TEXT," \
	" refusal TEXT, charge_class TEXT, zero_rated INTEGER NOT NULL DEFAULT 0, test INTEGER NOT NULL DEFAULT 0," \
	" recovered INTEGER NOT NULL DEFAULT 0)",	/* 1: made at start from a dialog row whose record was lost */ \
	"CREATE TABLE cdr_export (id INTEGER PRIMARY KEY CHECK (id = 1), last_id INTEGER NOT NULL)", \
	"INSERT INTO cdr_export (id, last_id) VALUES (1, 0)"

/*! Statements of the read connection (store_read.c), indexed. */
enum uigw_store_rstmt {
	RSTMT_SPAM_TOP,
	RSTMT_FEEDBACK,
	RSTMT_OUTCOMES,
	RSTMT_RESPONSES,
	RSTMT_OPTED_OUT,
	RSTMT_API_KEYS,
	RSTMT_RESULTS,
	RSTMT_DIALOG,
	RSTMT_SPAM_NUMBERS,
	RSTMT_SPAM_REPORTS,
	RSTMT_WEBHOOKS,
	RSTMT_WH_PENDING,
	RSTMT_WH_DEAD,
	RSTMT_WH_COUNTS,
	RSTMT_CDR_LAST,
	_RSTMT_NUM
};

/*! Statements of the write connection (store.c), indexed. */
enum uigw_store_wstmt {
	WSTMT_BEGIN,
	WSTMT_COMMIT,
	WSTMT_ROLLBACK,
	WSTMT_RESPONSE,
	WSTMT_DIALOG,
	WSTMT_DEFER,
	WSTMT_DEFER_DONE,
	WSTMT_OPTOUT_SCOPE,
	WSTMT_OPTIN_SCOPE,
	WSTMT_OPTIN_ALL,
	WSTMT_SPAM_RECENT,
	WSTMT_SPAM_INSERT,
	WSTMT_SPAM_COUNT,
	WSTMT_REACTION_DEL,
	WSTMT_REACTION_INS,
	WSTMT_APP_RATING,
	WSTMT_FLAG,
	WSTMT_OFFER,
	WSTMT_OPTOUT,
	WSTMT_SUBSCRIBER,
	WSTMT_MAP_UPSERT,
	WSTMT_MAP_CLEAR,
	WSTMT_MAP_LAST,
	WSTMT_MAP_READ,
	WSTMT_MT_INSERT,
	WSTMT_MT_DELETE,
	WSTMT_MT_SENDING,
	WSTMT_PUSH,
	WSTMT_RECEIPT_INS,
	WSTMT_RECEIPT_UPD,
	WSTMT_PARAM,
	WSTMT_API_KEY,
	WSTMT_API_KEY_REVOKE,
	WSTMT_API_KEY_USED,
	WSTMT_AUDIT,
	WSTMT_WEBHOOK,
	WSTMT_WEBHOOK_DEL,
	WSTMT_WEBHOOK_PURGE,
	WSTMT_WEBHOOK_LOAD,
	WSTMT_WH_MAX_ID,
	WSTMT_WH_INSERT,		/* positional: ?1 id, ?2 webhook, ?3 nonce, ?4 event, ?5 ref, ?6 ref_text,
				 * ?7 data, ?8 time */
	WSTMT_WH_DONE,
	WSTMT_WH_RETRY,
	WSTMT_WH_DEAD,
	WSTMT_WH_DEAD_OLD,
	WSTMT_WH_RESEND,
	WSTMT_WH_RESEND_ALL,
	_WSTMT_NUM
};

/*! The SQL of the write statements (store_schema.c, next to the tables they write). Named parameters; bound by
 *  name, reset and cleared after each use. */
extern const char *const uigw_store_wstmt_sql[_WSTMT_NUM];

/*! A cached parameter index of a write statement (see store.c). */
#define UIGW_STORE_WPARAM_MAX 16
struct uigw_store_wparam {
	const char *name;
	int idx;
};

struct uigw_store_pg;

/*! A subscriber's mapping as the writer holds it until the merge (store_mapping.c). */
#define UIGW_STORE_MSISDN_MAX	24	/*!< a longer number goes through the journal's read-back */
struct uigw_store_map_row {
	char pseudonym[33];
	char msisdn[UIGW_STORE_MSISDN_MAX];
	bool has_msisdn;
	int64_t time_ms;
};
struct uigw_store_map {
	struct uigw_store_map_row *rows;
	unsigned int n, cap;
	unsigned int i;		/*!< a pass: merged up to here */
};

/* What a connection's schema and statements held when last measured (uigw_store_conn_mem_batch). */
struct uigw_store_mem_probe {
	int64_t fixed;		/*!< schema and statements when last measured */
	int64_t at_us;		/*!< when (monotonic), 0: never */
};

struct uigw_store {
	struct uigw_store_cfg cfg;	/*!< copy; cfg.path points to a talloc child of the store */
	struct uigw_store_pg *pg;	/*!< the PostgreSQL backend (store_pg.c), NULL: SQLite */

	sqlite3 *wdb;			/*!< write connection: owned by the writer thread once it runs */
	sqlite3_stmt *wstmt[_WSTMT_NUM];
	sqlite3_stmt *wq[_UIGW_Q_NUM];	/*!< contextual queries on the write connection */
	struct uigw_store_wparam wparam[_WSTMT_NUM][UIGW_STORE_WPARAM_MAX];	/*!< writer only */
	int64_t last_purge_ms;		/*!< writer only */
	bool purge_more;		/*!< writer only: purge again after the next commit (more due, or asked) */
	bool purge_now;			/*!< writer only: asked (store purge): after this commit, whatever the gap */
	int64_t last_commit_us;		/*!< writer only: when the last batch began (monotonic) */
	int64_t last_batch_real_us;	/*!< writer only: the same by the real clock (idle time) */
	bool idle_released;		/*!< writer only: its cache given back since the last batch (idle) */
	/* writer only: the mapping journal's merge (store_mapping.c) */
	struct {
		struct uigw_store_map held;	/*!< the journal's rows since the last pass began, as written */
		struct uigw_store_map pass;	/*!< the pass under way: sorted, merged up to pass.i */
		unsigned int pending;	/*!< rows appended since the last pass began */
		int64_t first_us;	/*!< when the first of them was (monotonic), 0: none */
		int64_t last_rowid;	/*!< the journal's rowid of the last of them */
		int64_t upto;		/*!< the pass under way deletes the journal up to this rowid at its end, 0: none */
		int64_t retry_us;	/*!< a step failed: not again before this (monotonic), 0: none */
		bool reload;		/*!< held is not the journal (a rollback, an erase, a crash): read it back */
		unsigned int mark, mark_pending;	/*!< held.n and pending when the transaction began */
	} map;
	/* writer only: the webhooks (store_outbox.c) */
	struct uigw_store_wh_target {
		int64_t id;
		char tenant[33];
		bool all;		/*!< every campaign's events (the operator's) */
		uint32_t events;
	} *wh;
	unsigned int n_wh, wh_cap;
	uint32_t wh_events;		/*!< events some webhook listens to */
	bool wh_dirty;			/*!< a webhook row was written: read the list again after the batch */
	int64_t wh_next_id;		/*!< the next outbox entry's id: only grows */
	uint64_t wh_rng[2];		/*!< delivery ids */

	sqlite3 *rdb;			/*!< read connection: loop thread only */
	sqlite3_stmt *rstmt[_RSTMT_NUM];
	sqlite3_stmt *rq[_UIGW_Q_NUM];

	/* shared between loop and writer, under lock */
	pthread_mutex_t lock;
	pthread_cond_t wake;		/*!< signalled to the writer: work queued or stop */
	pthread_cond_t idle;		/*!< signalled by the writer after each batch */
	struct llist_head queue;	/*!< submitted, not yet taken by the writer */
	unsigned int n_queued;
	unsigned int n_in_flight;	/*!< jobs of the batch being written */
	struct llist_head done;		/*!< written, completion not yet run */
	bool stop;
	bool release_mem;		/*!< asked: the writer releases its connection's cache (uigw_store_release_memory) */
	unsigned int rows_queued;	/*!< rows of the queued jobs */
	bool pausing;			/*!< the writer waits out commit_interval_ms: wake it only when it must */
	unsigned int n_flush;		/*!< drains waiting: commit at once */
	struct uigw_store_stats stats;	/*!< written by the writer (commits .. last_rows) */
	/* what the connections hold (uigw_store_conn_mem), each written by its own thread after a batch or a release:
	 * SQLite's global count is off (sqlite_setup in store.c) */
	int64_t mem_writer, mem_cdr;	/*!< under lock */
	struct uigw_store_mem_probe mem_probe_writer, mem_probe_cdr;	/*!< each its thread's */
	int64_t mem_peak;		/*!< loop thread: the most uigw_store_memory() saw */
	/* what a batch costs, for uigw_store_delay_ms(): a fixed part (the commit's sync) and a part per job, learnt
	 * from the batches (uigw_store_delay_learn; real clock); atomic, 0: not learnt yet */
	uint32_t est_fixed_us, est_job_ns;
	bool closing;			/*!< uigw_store_close() runs: retry a failing commit for a few seconds only */
	int failing;			/*!< atomic (uigw_store_failing()); written by the writer */
	int upkeep_deferred;		/*!< atomic: uigw_store_defer_upkeep() */

	/* writer only: checkpoints and failed commits */
	unsigned int page_size;		/*!< of the database, for the WAL's size in bytes */
	int64_t ckpt_us;		/*!< the last checkpoint of the timer (monotonic) */
	bool ckpt_dirty;		/*!< a commit since: the timer checkpoints */
	int wal_frames;			/*!< in the WAL after the last commit (sqlite3_wal_hook) */
	int64_t failing_since_us;	/*!< monotonic, 0: the last commit worked */
	unsigned int backoff_ms;	/*!< before the next retry */

	/* loop thread only */
	unsigned int depth;		/*!< submitted and not yet completed */
	int64_t completed_us;		/*!< loop thread: the last completion of a submitted job (monotonic) */
	int64_t pending_since_us;	/*!< loop thread: the last submission to an empty store (monotonic) */
	pthread_t thread;
	bool thread_running;
	struct osmo_fd efd;		/*!< eventfd: the writer signals finished batches */
	uint8_t *optout_bits;		/*!< Bloom filter of the opted-out pseudonyms, NULL: always read (store_read.c) */
	uint32_t optout_mask;		/*!< its size in bits - 1 (a power of two) */
	unsigned int optout_n;		/*!< pseudonyms added */
	uint64_t optout_checks, optout_reads;	/*!< uigw_store_is_opted_out() calls; those that read the database */
	struct uigw_store_job *log_job;	/*!< rows nobody waits for, not yet submitted (uigw_store_log_row) */
	struct uigw_store_job *cdr_job;	/*!< the same for the charging records (their own thread and file) */
	/*! Opt-outs and opt-ins submitted and not committed yet, oldest first: the checks see them at once (a push
	 *  right after the confirmation of a stop must be refused, whichever path wrote it) */
	struct llist_head optout_pending;
	struct osmo_timer_list log_timer;	/*!< submits log_job UIGW_STORE_LOG_DELAY_MS after its first row */
	uint64_t log_rows_lost;

	/* writer thread only (plain malloc: the writer never uses talloc) */
	struct mt_pair {
		int64_t id;		/*!< an MT queue row deleted in the batch being written */
		bool elided;		/*!< its insert was in the same batch: neither is written */
	} *mt_done;
	size_t n_mt_done, mt_done_cap;
	unsigned long mt_elided;	/*!< insert + delete pairs never written */

	/* The charging records (store_cdr_db.c): their own database file and their own thread, so that one record
	 * per dialog costs the writer of the answers nothing. The queue fields are shared under st->lock; the rest
	 * belongs to the charging thread (before it runs: the opening; after it stopped: the closing), and the CSV
	 * files with it (store_cdr.c). */
	struct uigw_store_cdr {
		char *db_path;		/*!< the charging database (talloc child of the store) */
		sqlite3 *db;		/*!< its connection: the charging thread's */
		sqlite3_stmt *ins, *cursor_upd, *erase, *begin, *commit, *rollback;
		pthread_t thread;
		bool thread_running;	/*!< loop thread only */
		pthread_cond_t wake;	/*!< signalled to the charging thread (with st->lock) */
		struct llist_head queue;	/*!< under st->lock: jobs of charging rows, erasures, purges */
		unsigned int n_queued, n_in_flight;	/*!< under st->lock */
		bool stop, release_mem;	/*!< under st->lock */
		bool failing;		/*!< under st->lock: the last commit failed, its jobs wait to be tried again */
		bool purge_now, purge_more;	/*!< charging thread */
		int64_t last_purge_ms;	/*!< charging thread */
		int64_t last_commit_us;	/*!< charging thread: when the last batch began (monotonic) */
		sqlite3_stmt *read;	/*!< the records after a cursor, in id order */
		/* the lines of the records the batch being written inserted, ids pend_first..pend_last */
		struct uigw_cdr_buf {
			char *p;
			size_t len, cap;
			bool oom;
		} pend;
		int64_t pend_first, pend_last;
		unsigned int pend_n;
		int64_t next_id;	/*!< the next record's number (ids are never reused, not even after a delete) */
		int64_t committed_next;	/*!< next_id as of the last commit (a rolled back batch gives its back) */
		int64_t exported;	/*!< the last record in a CSV file */
		int64_t saved;		/*!< the last record cdr_export says is in one */
		bool written;		/*!< the batch being written has a record */
		int fd;			/*!< the open file (.csv.part), -1: none */
		char path[4096];	/*!< its name */
		int64_t opened_ms;	/*!< wall clock */
		uint64_t bytes;
		unsigned int records;	/*!< in the open file */
		bool file_failing;	/*!< the last append failed (logged once until one works) */
		bool pg_kick;		/*!< under st->lock: PostgreSQL's group commit wrote records */
		int64_t synced_us;	/*!< when the cursor was last kept (monotonic) */
	} cdr;
};

/* store_fault.c (writer thread): checkpoints and failed commits */
/*! A checkpoint: PASSIVE (the timer's), truncating when the WAL (frames or file) is past wal-max-size, or
 *  \a truncate at once. */
void uigw_store_checkpoint(struct uigw_store *st, bool truncate);
/*! After a commit that worked: the timer's checkpoint when checkpoint-interval has passed. */
void uigw_store_checkpoint_if_due(struct uigw_store *st);
int uigw_store_wal_hook(void *data, sqlite3 *db, const char *name, int frames);
/*! A batch's commit failed: the jobs held for less than hold-on-failure go back to the head of the queue (rc
 *  reset), the others fail. Called without the lock. \returns the jobs held again, their rows in *rows_held */
unsigned int uigw_store_hold_batch(struct uigw_store *st, struct llist_head *batch, unsigned int *rows_held);
/*! Wait before the next attempt (a truncating checkpoint first). Called with the lock held. */
void uigw_store_backoff(struct uigw_store *st);
/*! A commit worked: a failing store works again (logged). */
void uigw_store_commit_worked(struct uigw_store *st);

/*! The first column of the first row of \a sql as an integer; \a dflt if it fails or has no row. */
int64_t uigw_store_query_int(sqlite3 *db, int64_t dflt, const char *sql);
/*! Register the SQL helpers (is_number()) on a connection. \returns SQLite result code */
int uigw_store_sql_functions(sqlite3 *db);
/*! Bind helpers by parameter name (osmo-hlr db.c style); a missing name is a programming error (logged). */
int uigw_store_bind_text(sqlite3_stmt *stmt, const char *name, const char *text);
int uigw_store_bind_int64(sqlite3_stmt *stmt, const char *name, int64_t v);
/*! Step a statement that returns no row, then reset and clear it. \returns 0, -EPROTO for a row the database
 *  refuses (constraint, type, size), -EIO for anything else (logged with the SQL) */
int uigw_store_step_done(sqlite3 *db, sqlite3_stmt *stmt);
/*! Reset and clear the bindings of a statement after use. */
void uigw_store_stmt_done(sqlite3_stmt *stmt);
/*! A row of dialog_count: \a n dialogs of outcome \a name ("test:NAME" the test drive's, counted only if \a test)
 *  into \a outcomes (both backends). */
void uigw_store_outcome_add(int64_t outcomes[_UIGW_OUTCOME_NUM], const char *name, int64_t n, bool test);
/*! Run one contextual query on a statement of either connection; fills q's results. */
int uigw_store_run_query(sqlite3_stmt *stmt, struct uigw_store_query *q);
/*! Prepare the read connection's statements / finalize them (store_read.c). */
int uigw_store_read_prepare(struct uigw_store *st);
void uigw_store_read_finalize(struct uigw_store *st);

/*! Build the opt-out filter from the database (at open). \returns 0 or negative errno (then every check reads) */
int uigw_store_optout_load(struct uigw_store *st);
/*! A subscriber opts out (a row submitted): the filter must answer "maybe" for it from now on. */
void uigw_store_optout_note(struct uigw_store *st, const char *subscriber);
/*! An OPTOUT row of \a job was submitted / the job completed (its rows are committed or lost): loop thread. */
void uigw_store_optout_pending_add(struct uigw_store *st, struct uigw_store_job *job, const struct uigw_store_row *r);
void uigw_store_optout_pending_done(struct uigw_store *st, struct uigw_store_job *job);

/* store_write.c */
/*! The writer thread (arg: the store): takes the queued jobs, commits them in groups, signals the loop. */
void *uigw_store_writer_main(void *arg);
/* store_outbox.c (writer thread, or open before it starts) */
/*! Read the webhooks (and the outbox's highest id) into the writer's list. \returns 0 or -EIO */
int uigw_store_wh_load(struct uigw_store *st);
/*! A webhook row in the batch being written: the list follows it at once. */
void uigw_store_wh_target_add(struct uigw_store *st, int64_t id, const char *tenant, bool all, uint32_t events);
void uigw_store_wh_target_del(struct uigw_store *st, int64_t id);
/*! The outbox entries of row \a r for event \a ev, referring to the row's own (\a ref: the spam report's
 *  rowid; answers and dialog ends refer by dialog id). \returns 0 or -EIO */
/* store_subscriber.c: delete everything held about a pseudonym (writer thread, inside its transaction) */
int uigw_store_write_erase(struct uigw_store *st, const char *pseudonym);

int uigw_store_outbox_add(struct uigw_store *st, enum uigw_webhook_event ev, const struct uigw_store_row *r,
			  int64_t ref);
/* store_mapping.c (writer thread, or open before it starts) */
/*! What the journal of new mappings holds (at open: left by a crash); the rows are read back at the first pass. */
void uigw_store_map_init(struct uigw_store *st);
void uigw_store_map_free(struct uigw_store *st);
/*! A row was just appended to the journal (inside the batch's transaction). */
void uigw_store_map_added(struct uigw_store *st, const char *pseudonym, const char *msisdn, int64_t time_ms);
/*! A batch's transaction begins / was rolled back: what it appended is not in the journal. */
void uigw_store_map_mark(struct uigw_store *st);
void uigw_store_map_rolled_back(struct uigw_store *st);
/*! A subscriber is erased in this transaction: nothing held is merged, the next pass reads the journal. */
void uigw_store_map_forget(struct uigw_store *st);
/*! One step of merging the journal into subscriber_map: a pass begins when it is due (store mapping-delay, or
 *  UIGW_STORE_MAP_PASS_ROWS waiting) or \a now; each call upserts about UIGW_STORE_MAP_STEP_ROWS rows in key order
 *  in one transaction. \returns true while a pass is under way (call again), false when none is */
bool uigw_store_map_step(struct uigw_store *st, bool now);
/*! Milliseconds until a step is due, -1: nothing waits. */
int64_t uigw_store_map_due_ms(const struct uigw_store *st);
/*! After a commit with \a waiting jobs queued: true if the merge's step waits (store_write.c; the merge is upkeep). */
bool uigw_store_map_yields(const struct uigw_store *st, unsigned int waiting);
#define UIGW_STORE_MAP_PASS_ROWS	65536	/*!< a pass begins when this many wait, whatever the delay */
#define UIGW_STORE_MAP_STEP_ROWS	2048	/*!< rows per step (a subscriber's rows are not split) */
/*! The bound of the journal's copy in memory: this many waiting, the merge goes on whatever would put it off (commits
 *  waiting, an overload episode) */
#define UIGW_STORE_MAP_HELD_MAX		(2 * UIGW_STORE_MAP_PASS_ROWS)

/*! Delete subscriber_map rows past the retention period (writer thread, or at open before it starts). */
bool uigw_store_purge(struct uigw_store *st);

/*! A batch of \a n jobs took \a us (real clock) from its start to its commit: the cost model of
 *  uigw_store_delay_ms() learns from it. The writer thread (SQLite) or the loop (PostgreSQL's flights). */
void uigw_store_delay_learn(struct uigw_store *st, unsigned int n, int64_t us);
/*! What connection \a db holds in memory (bytes): its page cache, schema and statements. Its own thread. */
int64_t uigw_store_conn_mem(sqlite3 *db);
/*! The same for a thread that asks after every batch: the page cache each time (a sum SQLite keeps), the schema
 *  and the statements (which SQLite walks to measure, and which hardly change once prepared) at most once a
 *  second, else as \a probe last saw them. */
int64_t uigw_store_conn_mem_batch(sqlite3 *db, struct uigw_store_mem_probe *probe);

/* store_cdr.c: charging records as CSV files */
/*! \a v in decimal into \a out (21 bytes suffice), without printf. \returns the length */
size_t uigw_store_dec(char *out, int64_t v);
/*! Wall-clock \a ms as YYYYMMDDhhmmssmmm (UTC), the CDR files' time, into \a out. \returns 17 */
size_t uigw_store_cdr_time(char out[18], int64_t ms);
/*! At open (store_cdr_db.c opened the database, \a gw the main one attached): read the cursor, repair and close
 *  files a crash left open, make the records of dialogs whose record a crash lost, and export what is not in a
 *  file yet. \returns 0 or negative errno */
int uigw_store_cdr_files_open(struct uigw_store *st);
/*! A charging record's fields, from a table or from the row just written. */
struct uigw_cdr_fields {
	int64_t id, ended, dialog, started;
	const char *channel, *campaign, *tenant, *subscriber, *visited, *outcome, *refusal, *charge_class;
	bool roaming, zero_rated, test, recovered;
	int screens, mt_messages;	/*!< -1: unknown */
};
/*! Records after the cursor (st->cdr.exported) into the CSV files, in id order, by the thread that owns them:
 *  x_begin() per chunk read, x_record() per record (a file full is closed), x_flush() at the chunk's end (the
 *  cursor moves), x_end() once (counts; the open file closed when due). Shared by SQLite's charging thread and
 *  PostgreSQL's (store_pg_cdr.c). */
struct uigw_cdr_export {
	struct uigw_cdr_buf b;
	unsigned int n;
	int64_t last;
	uint64_t exported;
};
void uigw_store_cdr_x_begin(struct uigw_store *st, struct uigw_cdr_export *x);
int uigw_store_cdr_x_record(struct uigw_store *st, struct uigw_cdr_export *x, const struct uigw_cdr_fields *f);
int uigw_store_cdr_x_flush(struct uigw_store *st, struct uigw_cdr_export *x);
void uigw_store_cdr_x_end(struct uigw_store *st, struct uigw_cdr_export *x);
/*! Files a crash left open: repaired and closed. \returns the last record number in them (0: none) */
int64_t uigw_store_cdr_scan_parts(struct uigw_store *st);
/*! Close the open CSV file: synced, renamed to .csv (or removed when it holds no record). */
void uigw_store_cdr_file_close(struct uigw_store *st);
/* store_pg_cdr.c: the charging CSV files on PostgreSQL (a thread of their own) */
int uigw_store_pg_cdr_start(struct uigw_store *st);
/*! A group commit wrote records: the thread reads them now. */
void uigw_store_pg_cdr_kick(struct uigw_store *st);
void uigw_store_pg_cdr_stop(struct uigw_store *st);
/*! Charging thread, after a commit that wrote records (or with none, to close a file whose interval is over):
 *  append the records after the cursor to the open file, rotating as configured. */
void uigw_store_cdr_export(struct uigw_store *st);
/*! Writer, inside a transaction: record \a r was inserted as \a id; its line waits for the commit. */
void uigw_store_cdr_inserted(struct uigw_store *st, const struct uigw_store_row *r, int64_t id);
/*! Writer, at the start of a transaction (or its retry): forget the lines of a batch rolled back. */
void uigw_store_cdr_begin(struct uigw_store *st);
/*! Writer, inside a transaction: keep the cursor in cdr_export when it moved (at most once a second, after a sync
 *  of the open file). \returns 1 if it was written (st->cdr.saved follows the commit), 0 if not, or negative errno */
int uigw_store_cdr_save_cursor(struct uigw_store *st);
/*! The charging thread's first call (SQLite or PostgreSQL): its name, and SCHED_BATCH (background work). */
void uigw_store_cdr_thread_init(void);
/*! Milliseconds until the open file must be closed for its interval (-1: no file open). */
int64_t uigw_store_cdr_due_ms(const struct uigw_store *st);
/*! At close, after the charging thread stopped: export the rest, keep the cursor, close the file. */
void uigw_store_cdr_files_close(struct uigw_store *st);

/* store_cdr_db.c: the charging database and its thread */
/*! At open, after the main database (schema upgraded): open or create the charging database, take over the
 *  records an older schema kept in the main one, recover lost records, open the CSV files. \returns 0 or
 *  negative errno */
int uigw_store_cdr_open(struct uigw_store *st);
/*! Start / stop the charging thread (stop: after what is queued was written, or given up on a failing disk). */
int uigw_store_cdr_start(struct uigw_store *st);
void uigw_store_cdr_stop(struct uigw_store *st);
/*! Close the database (the thread stopped, or never ran). */
void uigw_store_cdr_close(struct uigw_store *st);
/*! Loop thread: queue a job of charging rows (UIGW_ROW_CDR, UIGW_ROW_ERASE, UIGW_ROW_PURGE) for the charging
 *  thread; it completes through the store's completions. \returns 0 or negative errno */
int uigw_store_cdr_submit(struct uigw_store_job *job);
/*! Called with st->lock held: are charging jobs queued or being written (and not waiting out a failure)? */
bool uigw_store_cdr_busy(const struct uigw_store *st);

/* store_pg.c, store_pg_schema.c: the PostgreSQL backend (loop thread only: no writer thread) */
#define UIGW_PG_SCHEMA_VERSION	2
#define UIGW_PG_SCHEMA_LOCK	77260001	/*!< the advisory lock of the schema steps (and, with a name's hash, of
						 *   the instance names) */
#define UIGW_PG_PUSH_LOCK	77260002	/*!< with a pseudonym's hash: its pushes are counted one at a time */
/*! Its statements, prepared on each connection by index. */
enum uigw_store_pg_stmt_id {
	PG_INSTANCE,		/*!< the instance's transaction number, in each transaction */
	PG_RESPONSE,
	PG_DIALOG,
	PG_SPAM,
	PG_REACTION_DEL,
	PG_REACTION_INS,
	PG_APP_RATING,
	PG_FLAG,
	PG_OFFER,
	PG_OPTOUT,
	PG_OPTOUT_SCOPE,
	PG_OPTIN_SCOPE,
	PG_OPTIN_ALL,
	PG_SUBSCRIBER,
	PG_MT_INSERT,
	PG_MT_DELETE,
	PG_MT_SENDING,
	PG_PUSH,
	PG_RECEIPT_INS,
	PG_RECEIPT_UPD,
	PG_PARAM,
	PG_API_KEY,
	PG_API_KEY_REVOKE,
	PG_API_KEY_USED,
	PG_AUDIT,
	PG_DEFER,
	PG_DEFER_DONE,
	PG_CDR,
	PG_DLG_STATE,
	PG_WEBHOOK,
	PG_WEBHOOK_PURGE,	/*!< a webhook deleted: its outbox first */
	PG_WEBHOOK_DEL,
	PG_WH_DONE,
	PG_WH_RETRY,
	PG_WH_DEAD,
	PG_WH_DEAD_OLD,
	PG_WH_RESEND,
	PG_WH_RESEND_ALL,
	PG_REFUSED,		/*!< a refused trigger: an outbox entry per listening webhook, nothing else */
	PG_OWNERS,		/*!< campaigns' tenants the instance has not written yet (arrays), before the rows */
	PG_TAKES,		/*!< the flight's questions for a state to resume, in one statement */
	PG_Q_FIRST,		/*!< the contextual queries: PG_Q_FIRST + enum uigw_query */
	PG_B_FIRST = PG_Q_FIRST + _UIGW_Q_NUM,	/*!< the rows of a kind as one statement: PG_B_FIRST + batch index */
	PG_E_FIRST = PG_B_FIRST + 8,	/*!< a subscriber's erasure: PG_E_FIRST + index of uigw_store_pg_places */
	PG_P_FIRST = PG_E_FIRST + 17,	/*!< the retention purge: PG_P_FIRST + index of uigw_store_pg_purges */
	_PG_NUM = PG_P_FIRST + 14
};
/*! Where a subscriber's rows are on PostgreSQL, in the order an erasure deletes them ($1 the pseudonym, $2 the
 *  number if known, else NULL): one list for the erasure and the export. */
struct uigw_store_pg_place {
	const char *table, *where;
};
#define UIGW_PG_N_PLACES	(PG_P_FIRST - PG_E_FIRST)
extern const struct uigw_store_pg_place uigw_store_pg_places[UIGW_PG_N_PLACES];
/*! The purge's kind of the dialogs' states (dialog_state): a day after their last step, whatever the retention
 *  settings (a state is taken within the resume window or the input wait, or never). */
#define UIGW_PG_RET_STATES	((enum uigw_retention)_UIGW_RET_NUM)
/*! The retention purge on PostgreSQL: one batch of one table each ($1: the time before which rows go). */
struct uigw_store_pg_purge {
	enum uigw_retention kind;
	const char *sql;
};
#define UIGW_PG_N_PURGES	(_PG_NUM - PG_P_FIRST)
extern const struct uigw_store_pg_purge uigw_store_pg_purges[UIGW_PG_N_PURGES];
/*! The kinds a group commit writes in one statement each (unnest() of one array per column), so that the server
 *  parses, plans and triggers once per kind, not once per row. */
struct uigw_store_pg_batch {
	enum uigw_row_kind kind;
	int key[2];		/*!< the conflict key's parameters (-1: none): a row whose key comes again later in the
				 *   same statement is left out (the later one is what a sequence of upserts would leave) */
	bool key_positive;	/*!< ... only when key[0] is > 0 (answers without a dialog have no key) */
};
#define UIGW_PG_N_BATCH	(PG_E_FIRST - PG_B_FIRST)
extern const struct uigw_store_pg_batch uigw_store_pg_batches[UIGW_PG_N_BATCH];
struct uigw_store_pg_stmt {
	int n_params;
	const char *sql;
};
extern const struct uigw_store_pg_stmt uigw_store_pg_stmts[_PG_NUM];
/* store_pg_rows.c: a row as statements */
#define PG_MAX_PARAMS	17
/*! A statement's parameters, as text (or binary, fmt 1); integers formatted into buf. */
struct pgp {
	int n;
	const char *v[PG_MAX_PARAMS];
	int len[PG_MAX_PARAMS], fmt[PG_MAX_PARAMS];
	char buf[PG_MAX_PARAMS][24];
};
void uigw_store_pg_p_text(struct pgp *p, const char *s);
void uigw_store_pg_p_int(struct pgp *p, int64_t v);
void uigw_store_pg_p_bool(struct pgp *p, bool b);
void uigw_store_pg_p_blob(struct pgp *p, const uint8_t *data, size_t len);
/*! Part \a part of row \a r as statement *stmt and its parameters (\a p NULL: only whether and which). \returns 1
 *  (a statement), 0 (none for this part), -EPROTO (a row refused), -ENOTSUP (a kind this backend does not know) */
int uigw_store_pg_row_stmt(const struct uigw_store_cfg *cfg, const char *instance, const struct uigw_store_row *r,
			   int part, int *stmt, struct pgp *p);
/*! Statements a row of \a kind may take (row_stmt()'s parts). */
int uigw_store_pg_row_parts(enum uigw_row_kind kind);
/*! \returns 0, or why the job cannot be written (its first bad row, logged) */
int uigw_store_pg_job_check(const struct uigw_store_cfg *cfg, const char *instance, const struct uigw_store_job *job);
/*! The index of \a kind in uigw_store_pg_batches, -1: written a statement per row. */
int uigw_store_pg_batch_of(enum uigw_row_kind kind);

/*! The schema steps up to \a to_version as one DO block (talloc'd from \a ctx; NULL: out of memory); the version is
 *  in table uigw_schema. */
char *uigw_store_pg_schema_sql(void *ctx, int to_version);
/*! Start the backend: the connection is made on the loop (the store is failing until it is up). \returns 0 or
 *  negative errno */
int uigw_store_pg_open(struct uigw_store *st);
/*! Wait (on the backend's socket alone) until the first connection is usable: hold-on-failure seconds at most.
 *  \returns 0 or -EIO (logged) */
int uigw_store_pg_wait_up(struct uigw_store *st);
/*! Drain, give up on what cannot be written, close the connection. */
void uigw_store_pg_close(struct uigw_store *st);
/*! A job was queued on st->queue: send it now if nothing is in flight. */
void uigw_store_pg_kick(struct uigw_store *st);
/*! Block until what is queued is committed, or the database cannot be reached for a moment. */
void uigw_store_pg_drain(struct uigw_store *st);
/*! Everything held about \a pseudonym, as uigw_store_subscriber_export(). */
int uigw_store_pg_export(struct uigw_store *st, const char *pseudonym, struct json_t *out);
/*! Its part of uigw_store_stats(). */
void uigw_store_pg_stats(struct uigw_store *st, struct uigw_store_stats *out);
/*! Run the completions of the jobs on st->done (store.c). */
void uigw_store_run_completions(struct uigw_store *st);

/* store_pg_read.c: the reads of store_read.c on PostgreSQL (the public functions call them when st->pg is set,
 * after their argument checks) */
struct pg_conn;
/*! The read connection, made when needed. \returns NULL if the database cannot be reached now (logged) */
struct pg_conn *uigw_store_pg_rconn(struct uigw_store *st);
/*! Run a read on the reads' connection; \a constant: \a sql is a string constant, prepared once per connection
 *  (else parsed each time). \returns its result (PQclear() it), or NULL when the database cannot be reached */
struct pg_result *uigw_store_pg_read_exec(struct uigw_store *st, const char *sql, int n, const unsigned int *types,
					  const char *const *values, bool constant);
/*! A read failed: if the connection is broken, it is made again at the next read. */
void uigw_store_pg_rconn_failed(struct uigw_store *st);
/*! This gateway's instance name. */
const char *uigw_store_pg_instance(const struct uigw_store *st);
int uigw_store_pg_spam_top(struct uigw_store *st, unsigned int n,
			   void (*cb)(const char *number, int64_t reports, int64_t last_ms, void *data), void *data);
int uigw_store_pg_deferred_load(struct uigw_store *st,
				void (*cb)(int64_t id, int64_t due_ms, int64_t created_ms, const char *reason,
					   const char *campaign, const char *msisdn, int via, const char *to,
					   const char *language, const char *params, void *data), void *data);
int uigw_store_pg_cdr_last(struct uigw_store *st, unsigned int n,
			   void (*cb)(const struct uigw_cdr_view *r, void *data), void *data);
int uigw_store_pg_feedback(struct uigw_store *st, const char *campaign,
			   void (*cb)(const char *question, const char *channel, const char *value, int64_t count,
				      void *data), void *data);
int uigw_store_pg_campaign_counts(struct uigw_store *st, const char *campaign, int64_t outcomes[_UIGW_OUTCOME_NUM],
				  int64_t *responses, bool test);
int uigw_store_pg_query_sync(struct uigw_store *st, struct uigw_store_query *q);
/*! \returns 1 (opted out of everything, or of scope \a cscope or \a tscope; either may be NULL), 0, or -EIO */
int uigw_store_pg_opted_out(struct uigw_store *st, const char *subscriber, const char *cscope, const char *tscope);
int uigw_store_pg_optout_scopes(struct uigw_store *st, const char *subscriber,
				void (*cb)(const char *scope, int64_t time_ms, const char *channel, void *data),
				void *data);
int uigw_store_pg_mt_load(struct uigw_store *st, uigw_store_mt_cb cb, void *data, int64_t *max_id);
int uigw_store_pg_push_count(struct uigw_store *st, const char *subscriber, const char *campaign, int64_t since_ms);
int uigw_store_pg_dialog_state_take(struct uigw_store *st, const char *subscriber, const char *cls,
				    const char *campaign, int64_t since_ms,
				    void (*cb)(const char *campaign, unsigned int version, const char *node,
					       const char *hist, const char *vars, void *data), void *data);
int uigw_store_pg_push_reserve(struct uigw_store *st, const char *subscriber, const char *campaign,
			       const char *channel, int64_t now_ms, unsigned int c_count, unsigned int c_per,
			       unsigned int g_count, unsigned int g_per);
int uigw_store_pg_receipt_counts(struct uigw_store *st, void (*cb)(const char *state, int64_t n, void *data),
				 void *data);
int uigw_store_pg_api_keys(struct uigw_store *st, void (*cb)(const struct uigw_store_api_key *k, void *data),
			   void *data);
int uigw_store_pg_results(struct uigw_store *st, const char *campaign, int64_t after, unsigned int limit, bool test,
			  void (*cb)(const struct uigw_store_result *r, void *data), void *data);
int uigw_store_pg_dialog_get(struct uigw_store *st, uint64_t id,
			     void (*cb)(const struct uigw_store_dialog *d, void *data), void *data);
int uigw_store_pg_spam_numbers(struct uigw_store *st, const char *number, int64_t min_reports, int64_t since_ms,
			       unsigned int limit,
			       void (*cb)(const char *number, int64_t reports, int64_t reporters, int64_t last_ms,
					  void *data), void *data);
int uigw_store_pg_spam_reports(struct uigw_store *st, const char *number, unsigned int limit,
			       void (*cb)(const char *channel, const char *campaign, int64_t time_ms, bool counted,
					  void *data), void *data);
int uigw_store_pg_webhooks(struct uigw_store *st, void (*cb)(const struct uigw_store_webhook *w, void *data),
			   void *data);
int uigw_store_pg_wh_entries(struct uigw_store *st, int64_t webhook, bool dead, int64_t after, unsigned int limit,
			     void (*cb)(const struct uigw_store_wh_entry *e, void *data), void *data);
int uigw_store_pg_wh_counts(struct uigw_store *st, int64_t webhook, int64_t cutoff_ms, int64_t after,
			    int64_t *pending, int64_t *dead, int64_t *older);
