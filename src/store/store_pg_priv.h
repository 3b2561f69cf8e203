/*! \file store_pg_priv.h
 *  The PostgreSQL backend's own state, shared by its connection and flights (store_pg.c) and the statements a
 *  flight is built of (store_pg_build.c). Nothing outside these two files includes it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <libpq-fe.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/core/select.h>
#include <osmocom/core/timer.h>
#include <osmocom/uigw/store/store.h>
#include "store_priv.h"

enum pg_state {
	PG_DOWN,		/*!< no connection; the timer tries again */
	PG_CONNECTING,		/*!< PQconnectPoll() */
	PG_SETUP,		/*!< the schema, the instance's lock and seq (one simple query) */
	PG_PREPARING,		/*!< pipeline mode entered, the statements being prepared */
	PG_READY,
};


/* one transaction of a group commit: jobs[first .. first + n) */
struct pg_seg {
	unsigned int first, n;
	int64_t seq;		/*!< the instance's transaction number it writes */
	bool synced;		/*!< its Sync's answer came: committed unless failed */
	bool failed;
	char sqlstate[6];
};

/* what each result of the pipeline answers, in the order they were sent */
enum pg_expect_kind { EX_STMT, EX_QUERY, EX_SYNC, EX_PURGE, EX_ERASE, EX_TAKES };
struct pg_expect {
	uint8_t kind;
	uint8_t fl;		/*!< the flight it belongs to (index of pg->fl) */
	bool last;		/*!< its flight's last answer: the flight is over */
	struct uigw_store_job *job;	/*!< EX_QUERY: the job it belongs to (a state's text is its child) */
	int seg;		/*!< EX_STMT, EX_SYNC, EX_PURGE, EX_ERASE: its transaction, -1: none (preparing, the
				 *   queries); a purge's or an erasure's statement counts the rows it changed */
	struct uigw_store_query *q;	/*!< EX_QUERY */
};

/* the flight's questions for a state to resume (UIGW_Q_DLG_STATE), asked in one statement (EX_TAKES) */
struct pg_take {
	struct uigw_store_query *q;
	struct uigw_store_job *job;
};

/* A group commit sent and not answered yet (or in doubt while the connection is down). Two may be in flight: the
 * server writes one while the gateway builds and sends the next, each one transaction (or one per job while a
 * refused row is searched for), answered in the order they were sent. */
#define PG_FLIGHTS	2
struct pg_flight {
	struct uigw_store_job **jobs;
	unsigned int n_jobs, jobs_cap;
	struct pg_seg *segs;
	unsigned int n_segs, segs_cap;
	int64_t sent_us;		/*!< when it was sent (monotonic) */
	int64_t sent_real_us;		/*!< the same on the real clock (the store delay's cost model) */
	bool cdr;			/*!< it has charging records */
	unsigned int erased;		/*!< rows an erasure deleted in it */
	struct pg_take *takes;
	unsigned int n_takes, takes_cap;
};

struct uigw_store_pg {
	struct uigw_store *st;
	PGconn *conn;
	struct osmo_fd ofd;
	enum pg_state state;
	struct osmo_timer_list retry;	/*!< the next connection attempt */
	struct osmo_timer_list done;	/*!< completions of jobs that never went out (a bad row) */
	unsigned int backoff_ms;
	const char *conninfo, *instance;
	int64_t seq;			/*!< the last transaction number used */
	int setup_result;		/*!< PG_SETUP: results seen */
	int setup_version, setup_locked;
	int64_t setup_seq;
	int num;			/*!< the instance's number (uigw_instance.num), 0: not read yet */
	bool setup_failed;
	bool logged_down;		/*!< the loss of the database was logged (once until it is back) */

	/* the group commits in flight, oldest first from fl_head (or in doubt while the connection is down) */
	struct pg_flight fl[PG_FLIGHTS];
	unsigned int fl_head, n_fl;
	unsigned int fl_sending;	/*!< index of the flight whose statements are being sent (expect()) */
	struct pg_expect *ex;
	unsigned int n_ex, i_ex, ex_cap;
	unsigned int split;		/*!< jobs at the head of the queue to send one per transaction */
	struct llist_head *rq_pos;	/*!< where requeue() puts the next job back (after those before it) */

	PGconn *rconn;			/*!< the reads' connection (store_pg_read.c), NULL: made when needed */
	struct pg_rprep {
		const char *sql;	/*!< a read's SQL (a string constant): prepared on rconn as "r<index>" */
	} rprep[48];
	unsigned int n_rprep;
	struct osmo_timer_list purge;	/*!< the retention purge: hourly, every second while more is due */
	bool purge_more;		/*!< a purge statement deleted a full batch */
	bool purging;			/*!< the purge's own job is queued */

	/* the rows of the batched kinds of the transaction being sent (send_flight()), and its arrays */
	struct pg_bref {
		const struct uigw_store_row *r;
		uint32_t key;		/*!< offset of its key in keys, UINT32_MAX: none */
		bool drop;		/*!< its key comes again later: left out */
	} *bref[UIGW_PG_N_BATCH];
	unsigned int n_bref[UIGW_PG_N_BATCH], bref_cap[UIGW_PG_N_BATCH];
	unsigned int *order;
	unsigned int order_cap;
	struct pg_buf {
		char *p;
		size_t len, cap;
	} col[PG_MAX_PARAMS], keys;
	/* the campaigns' tenants this instance wrote (campaign_owner: the webhooks' triggers read it) */
	struct pg_owner {
		char *campaign, *tenant;	/*!< tenant "": the operator's */
		int64_t seq;		/*!< the transaction that wrote it */
		bool committed;		/*!< ... committed: later flights need not write it again */
	} *owners;
	unsigned int n_owners, owners_cap, owner_hit;
};

/* the \a k-th flight in flight, oldest first (k == n_fl: the next one's slot) */
static inline struct pg_flight *fl_at(struct uigw_store_pg *pg, unsigned int k)
{
	return &pg->fl[(pg->fl_head + k) % PG_FLIGHTS];
}

/* the rows as statements (store_pg_rows.c), with this connection's settings and name */
static inline int row_stmt(const struct uigw_store_pg *pg, const struct uigw_store_row *r, int part, int *stmt,
		    struct pgp *p)
{
	return uigw_store_pg_row_stmt(&pg->st->cfg, pg->instance, r, part, stmt, p);
}

#define row_parts uigw_store_pg_row_parts
#define batch_of uigw_store_pg_batch_of
#define p_text uigw_store_pg_p_text
#define p_int uigw_store_pg_p_int

/* store_pg.c: the flight's bookkeeping, for store_pg_build.c */
int uigw_store_pg_grow(void *ctx, void **array, unsigned int *cap, unsigned int need, size_t size);
int uigw_store_pg_expect_q(struct uigw_store_pg *pg, enum pg_expect_kind kind, int seg, struct uigw_store_query *q,
			   struct uigw_store_job *job);
int uigw_store_pg_send_stmt(struct uigw_store_pg *pg, int stmt, const struct pgp *p);
/*! The server's notices and warnings into the log (both connections). */
void uigw_store_pg_notice_cb(void *arg, const char *message);
#define grow uigw_store_pg_grow
#define expect_q uigw_store_pg_expect_q
#define expect(pg, kind, seg, q) uigw_store_pg_expect_q(pg, kind, seg, q, NULL)
#define send_stmt uigw_store_pg_send_stmt

/* store_pg_build.c: a flight's statements from its rows */
/*! Forget which campaigns' tenants were written (a transaction that wrote some failed). */
void uigw_store_pg_owners_forget(struct uigw_store_pg *pg);
/*! The owners of flight \a f's campaigns not written yet, as one statement before its rows. */
int uigw_store_pg_send_owners(struct uigw_store_pg *pg, struct pg_flight *f);
/*! A row of the transaction being built: collected if its kind is batched, else sent as its statements. */
int uigw_store_pg_send_row(struct uigw_store_pg *pg, const struct uigw_store_row *r, int seg);
/*! The collected rows of each batched kind, one statement each, of transaction \a seg. */
int uigw_store_pg_send_batches(struct uigw_store_pg *pg, int seg);
/*! Flight \a f's questions for a state to resume, as one statement. */
int uigw_store_pg_send_takes(struct uigw_store_pg *pg, struct pg_flight *f);
