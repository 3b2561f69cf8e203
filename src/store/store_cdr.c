/*! \file store_cdr.c
 *  Charging records as CSV files for a mediation system, in the manner of the Osmocom CDR files: one header
 *  line, then one line per record, comma-separated, times as YYYYMMDDhhmmssmmm (UTC).
 *
 *  The cdr table (in the charging database, store_cdr_db.c) is the truth; the files are made from it. After
 *  each commit that wrote records the charging thread appends the records after its cursor to the open file,
 *  OUT_DIR/osmo-uigw-cdr-YYYYMMDDhhmmss.csv.part, and renames it to .csv (the mediation takes only those) when it
 *  is older than cdr_interval or bigger than cdr_max_kb. The cursor (the last record in a file) is kept in
 *  cdr_export with a transaction at most once a second, after the open file was synced (synchronous full); at
 *  open, a file a crash left open is cut back to its last whole line, its last record number raises the cursor,
 *  and it is closed. So a record reaches the files once; only a crash between a rename and the next commit can
 *  write the records of the renamed file's last append again (the record number tells them apart).
 *
 *  A dialog's record is written when the dialog is over, by its own thread into its own file, a little after the
 *  dialog row; a crash in between loses it. At open, every dialog that ended up to ten minutes before the last
 *  record and has none gets one made from its dialog row (recovered = 1; screens and MT messages unknown), so the
 *  table and the files hold
 *  exactly one record per dialog. */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/store/store.h>
#include "store_priv.h"

#define CDR_PREFIX	"osmo-uigw-cdr-"
#define CDR_PART	".csv.part"
#define CDR_CHUNK	1000		/* records per read */
#define RECOVER_MS	(600 * 1000LL)	/* dialogs this long before the last record are looked at */
#define CURSOR_EVERY_US	1000000		/* the cursor (and the sync of the open file) at most once a second */

static const char cdr_header[] =
	"record,timestamp,dialog,start,duration_ms,channel,campaign,tenant,subscriber,roaming,visited_network,"
	"screens,mt_messages,outcome,refusal,charge_class,zero_rated,test,recovered\n";

static const char cdr_read_sql[] =
	"SELECT id, ended, dialog, started, channel, campaign, tenant, subscriber, roaming, visited, screens,"
	" mt_messages, outcome, refusal, charge_class, zero_rated, test, recovered FROM cdr WHERE id > ?1"
	" ORDER BY id LIMIT " OSMO_STRINGIFY_VAL(CDR_CHUNK);

/* The dialogs that ended from ?1 on and have no record: one made from the dialog row. The tenant is unknown
 * there (the dialog row does not keep the owner). */
static const char cdr_recover_sql[] =
	"INSERT INTO cdr (id, dialog, started, ended, channel, campaign, subscriber, roaming, visited, outcome,"
	" test, recovered) SELECT ?4 + row_number() OVER (ORDER BY d.ended, d.id), d.id, d.started, d.ended,"
	" d.channel, d.campaign, d.subscriber, d.roaming, d.visited, d.outcome, d.test, 1 FROM gw.dialog d"
	" WHERE d.id >= ?3 AND d.ended >= ?1 AND d.id NOT IN (SELECT dialog FROM cdr WHERE id >= ?2)";

/* ---------------------------------------------------------------------------------------------------------- */
/* a line */

#define buf uigw_cdr_buf

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 65536;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* a text field: quoted (RFC 4180) when it holds a comma, a quote or a line break */
static void buf_field(struct buf *b, const char *s)
{
	const char *q;

	buf_add(b, ",", 1);
	if (!s)
		return;
	if (!strpbrk(s, ",\"\r\n")) {
		buf_str(b, s);
		return;
	}
	buf_add(b, "\"", 1);
	while ((q = strchr(s, '"'))) {
		buf_add(b, s, q - s + 1);
		buf_add(b, "\"", 1);
		s = q + 1;
	}
	buf_str(b, s);
	buf_add(b, "\"", 1);
}

static void buf_int(struct buf *b, bool comma, int64_t v)
{
	char t[24];
	size_t n = 0;

	if (comma)
		t[n++] = ',';
	n += uigw_store_dec(t + n, v);
	buf_add(b, t, n);
}

size_t uigw_store_dec(char *out, int64_t v)
{
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	char tmp[20];
	size_t n = 0, i = 0;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		out[i++] = '-';
	while (n)
		out[i++] = tmp[--n];
	out[i] = '\0';
	return i;
}

/* \a width digits of \a v, zeros in front */
static void digits(char *out, unsigned int width, uint64_t v)
{
	while (width--) {
		out[width] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* The proleptic Gregorian date of a day count since 1970-01-01 (the usual era arithmetic: a 400-year era has
 * 146,097 days; a year counted from March puts the leap day last) */
static void civil(int64_t days, int64_t *y, unsigned int *m, unsigned int *d)
{
	int64_t z = days + 719468;	/* days since 0000-03-01 */
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned int doe = (unsigned int)(z - era * 146097);			/* [0, 146096] */
	unsigned int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;	/* [0, 399] */
	unsigned int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);		/* [0, 365], from March 1 */
	unsigned int mp = (5 * doy + 2) / 153;				/* [0, 11], March = 0 */

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* YYYYMMDDhhmmssmmm, UTC, as the Osmocom CDR files. Arithmetic, not gmtime_r() + snprintf(): two per record were
 * most of the charging thread's CPU (glibc's gmtime_r takes its time zone lock, too). */
size_t uigw_store_cdr_time(char out[18], int64_t ms)
{
	int64_t days = ms / 86400000, y;
	int64_t in_day = ms % 86400000;
	unsigned int m, d;

	if (in_day < 0) {
		in_day += 86400000;
		days--;
	}
	civil(days, &y, &m, &d);
	digits(out, 4, (uint64_t)(y < 0 ? 0 : y % 10000));
	digits(out + 4, 2, m);
	digits(out + 6, 2, d);
	digits(out + 8, 2, (uint64_t)in_day / 3600000);
	digits(out + 10, 2, (uint64_t)in_day / 60000 % 60);
	digits(out + 12, 2, (uint64_t)in_day / 1000 % 60);
	digits(out + 14, 3, (uint64_t)in_day % 1000);
	out[17] = '\0';
	return 17;
}

static void buf_time(struct buf *b, int64_t ms)
{
	char t[19];

	t[0] = ',';
	buf_add(b, t, 1 + uigw_store_cdr_time(t + 1, ms));
}

static const char *col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

#define cdr_fields uigw_cdr_fields

static void buf_fields(struct buf *b, const struct cdr_fields *f)
{
	buf_int(b, false, f->id);
	buf_time(b, f->ended);				/* timestamp: the end */
	buf_int(b, true, f->dialog);
	buf_time(b, f->started);
	buf_int(b, true, f->ended - f->started);
	buf_field(b, f->channel);
	buf_field(b, f->campaign);
	buf_field(b, f->tenant);
	buf_field(b, f->subscriber);
	buf_int(b, true, f->roaming);
	buf_field(b, f->visited);
	if (f->screens < 0)
		buf_field(b, NULL);
	else
		buf_int(b, true, f->screens);
	if (f->mt_messages < 0)
		buf_field(b, NULL);
	else
		buf_int(b, true, f->mt_messages);
	buf_field(b, f->outcome);
	buf_field(b, f->refusal);
	buf_field(b, f->charge_class);
	buf_int(b, true, f->zero_rated);
	buf_int(b, true, f->test);
	buf_int(b, true, f->recovered);
	buf_add(b, "\n", 1);
}

/* one record's fields (the columns of cdr_read_sql) */
static void fields_of(sqlite3_stmt *s, struct cdr_fields *out)
{
	struct cdr_fields f = {
		.id = sqlite3_column_int64(s, 0), .ended = sqlite3_column_int64(s, 1),
		.dialog = sqlite3_column_int64(s, 2), .started = sqlite3_column_int64(s, 3),
		.channel = col_text(s, 4), .campaign = col_text(s, 5), .tenant = col_text(s, 6),
		.subscriber = col_text(s, 7), .roaming = sqlite3_column_int64(s, 8), .visited = col_text(s, 9),
		.screens = sqlite3_column_type(s, 10) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 10),
		.mt_messages = sqlite3_column_type(s, 11) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 11),
		.outcome = col_text(s, 12), .refusal = col_text(s, 13), .charge_class = col_text(s, 14),
		.zero_rated = sqlite3_column_int64(s, 15), .test = sqlite3_column_int64(s, 16),
		.recovered = sqlite3_column_int64(s, 17),
	};

	*out = f;
}

void uigw_store_cdr_begin(struct uigw_store *st)
{
	st->cdr.next_id = st->cdr.committed_next;
	st->cdr.written = false;
	st->cdr.pend.len = 0;
	st->cdr.pend.oom = false;
	st->cdr.pend_n = 0;
}

void uigw_store_cdr_inserted(struct uigw_store *st, const struct uigw_store_row *r, int64_t id)
{
	struct uigw_store_cdr *c = &st->cdr;
	struct cdr_fields f = {
		.id = id, .ended = r->time_ms, .dialog = (int64_t)r->dialog, .started = r->u.cdr.started_ms,
		.channel = r->channel, .campaign = r->campaign, .tenant = r->owner, .subscriber = r->subscriber,
		.roaming = r->u.cdr.roaming, .visited = r->u.cdr.visited, .screens = r->u.cdr.screens,
		.mt_messages = r->u.cdr.mt_messages,
		.outcome = get_value_string_or_null(uigw_outcome_names, r->u.cdr.outcome),
		.refusal = r->u.cdr.refusal, .charge_class = r->u.cdr.charge_class,
		.zero_rated = r->u.cdr.zero_rated, .test = r->u.cdr.test,
	};

	c->written = true;
	if (!st->cfg.cdr_dir)
		return;
	if (!c->pend_n)
		c->pend_first = id;
	c->pend_last = id;
	c->pend_n++;
	buf_fields(&c->pend, &f);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* files */

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= w;
	}
	return 0;
}

static void count(struct uigw_store *st, uint64_t exported, uint64_t files, uint64_t errors)
{
	pthread_mutex_lock(&st->lock);
	st->stats.cdr_exported += exported;
	st->stats.cdr_files += files;
	st->stats.cdr_errors += errors;
	st->stats.cdr_last = st->cdr.exported;
	pthread_mutex_unlock(&st->lock);
}

/* Close the open file: synced, renamed to .csv (or removed when it holds no record). */
void uigw_store_cdr_file_close(struct uigw_store *st)
{
	struct uigw_store_cdr *c = &st->cdr;
	char done[sizeof(c->path)];
	size_t n;

	if (c->fd < 0)
		return;
	if (fsync(c->fd) < 0)
		LOGP(DSTORE, LOGL_ERROR, "CDR file %s: fsync: %s\n", c->path, strerror(errno));
	close(c->fd);
	c->fd = -1;
	if (!c->records) {
		unlink(c->path);
		return;
	}
	n = strlen(c->path) - strlen(".part");
	memcpy(done, c->path, n);
	done[n] = '\0';
	if (rename(c->path, done) < 0) {
		LOGP(DSTORE, LOGL_ERROR, "CDR file %s: cannot rename to %s: %s\n", c->path, done, strerror(errno));
		return;
	}
	LOGP(DSTORE, LOGL_INFO, "CDR file %s closed: %u records\n", done, c->records);
	count(st, 0, 1, 0);
}

/* Open a new file with its header. \returns 0 or negative errno */
static int file_open(struct uigw_store *st)
{
	struct uigw_store_cdr *c = &st->cdr;
	int64_t now = uigw_wall_ms();
	char stamp[64];
	unsigned int i;
	int rc;

	uigw_store_cdr_time(stamp, now);
	stamp[14] = '\0';	/* to the second */
	for (i = 0; i < 100; i++) {
		struct stat sb;
		char done[sizeof(c->path)];

		if (i)
			snprintf(c->path, sizeof(c->path), "%s/" CDR_PREFIX "%s-%u" CDR_PART, st->cfg.cdr_dir, stamp, i);
		else
			snprintf(c->path, sizeof(c->path), "%s/" CDR_PREFIX "%s" CDR_PART, st->cfg.cdr_dir, stamp);
		osmo_strlcpy(done, c->path, strlen(c->path) - strlen(".part") + 1);
		if (stat(done, &sb) < 0 && errno == ENOENT)
			break;
	}
	c->fd = open(c->path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
	if (c->fd < 0) {
		rc = -errno;
		if (!c->file_failing)
			LOGP(DSTORE, LOGL_ERROR, "cannot create CDR file %s: %s\n", c->path, strerror(errno));
		return rc;
	}
	rc = write_all(c->fd, cdr_header, sizeof(cdr_header) - 1);
	if (rc < 0) {
		close(c->fd);
		c->fd = -1;
		unlink(c->path);
		return rc;
	}
	c->opened_ms = now;
	c->bytes = sizeof(cdr_header) - 1;
	c->records = 0;
	LOGP(DSTORE, LOGL_DEBUG, "CDR file %s opened\n", c->path);
	return 0;
}

static bool file_due(const struct uigw_store *st)
{
	const struct uigw_store_cdr *c = &st->cdr;

	if (c->fd < 0 || !c->records)
		return false;
	if (st->cfg.cdr_max_kb && c->bytes >= (uint64_t)st->cfg.cdr_max_kb * 1024)
		return true;
	return st->cfg.cdr_interval && uigw_wall_ms() - c->opened_ms >= (int64_t)st->cfg.cdr_interval * 1000;
}

int64_t uigw_store_cdr_due_ms(const struct uigw_store *st)
{
	const struct uigw_store_cdr *c = &st->cdr;
	int64_t left;

	if (c->fd < 0 || !c->records || !st->cfg.cdr_interval)
		return -1;
	left = c->opened_ms + (int64_t)st->cfg.cdr_interval * 1000 - uigw_wall_ms();
	return left > 0 ? left : 0;
}

/* Append the lines in b; on failure the file is cut back to where it was. \returns 0 or negative errno */
static int file_append(struct uigw_store *st, const struct buf *b, unsigned int records)
{
	struct uigw_store_cdr *c = &st->cdr;
	int rc;

	if (c->fd < 0) {
		rc = file_open(st);
		if (rc < 0)
			return rc;
	}
	/* no sync here: uigw_store_cdr_save_cursor() syncs before the cursor is kept (once a second) */
	rc = write_all(c->fd, b->p, b->len);
	if (rc < 0) {
		if (!c->file_failing)
			LOGP(DSTORE, LOGL_ERROR, "cannot append to CDR file %s: %s\n", c->path, strerror(-rc));
		if (ftruncate(c->fd, c->bytes) < 0)
			LOGP(DSTORE, LOGL_ERROR, "CDR file %s: cannot cut back a failed append: %s\n", c->path,
			     strerror(errno));
		return rc;
	}
	c->bytes += b->len;
	c->records += records;
	return 0;
}

/* ---------------------------------------------------------------------------------------------------------- */

/* Append what b holds (records up to \a last) and move the cursor. \returns 0 or negative errno (logged) */
static int flush(struct uigw_store *st, struct buf *b, unsigned int n, int64_t last, uint64_t *exported)
{
	struct uigw_store_cdr *c = &st->cdr;

	if (!n)
		return 0;
	if (b->oom || file_append(st, b, n) < 0) {
		if (!c->file_failing)
			LOGP(DSTORE, LOGL_ERROR, "charging records after %" PRId64 " not in a CSV file yet: "
			     "tried again after the next commit\n", c->exported);
		c->file_failing = true;
		return -EIO;
	}
	if (c->file_failing)
		LOGP(DSTORE, LOGL_NOTICE, "CDR files written again\n");
	c->file_failing = false;
	c->exported = last;
	*exported += n;
	b->len = 0;
	return 0;
}

void uigw_store_cdr_x_begin(struct uigw_store *st, struct uigw_cdr_export *x)
{
	if (file_due(st))
		uigw_store_cdr_file_close(st);
	x->b.len = 0;
	x->n = 0;
	x->last = st->cdr.exported;
}

int uigw_store_cdr_x_record(struct uigw_store *st, struct uigw_cdr_export *x, const struct uigw_cdr_fields *f)
{
	uint64_t max = (uint64_t)st->cfg.cdr_max_kb * 1024;

	buf_fields(&x->b, f);
	x->last = f->id;
	x->n++;
	/* a file is closed at its size: a big batch spreads over several */
	if (max && (st->cdr.fd < 0 ? sizeof(cdr_header) - 1 : st->cdr.bytes) + x->b.len >= max) {
		if (flush(st, &x->b, x->n, x->last, &x->exported) < 0)
			return -EIO;
		x->n = 0;
		uigw_store_cdr_file_close(st);
	}
	return 0;
}

int uigw_store_cdr_x_flush(struct uigw_store *st, struct uigw_cdr_export *x)
{
	int rc = flush(st, &x->b, x->n, x->last, &x->exported);

	x->n = 0;
	return rc;
}

void uigw_store_cdr_x_end(struct uigw_store *st, struct uigw_cdr_export *x)
{
	if (st->cdr.file_failing)
		count(st, x->exported, 0, 1);
	else {
		if (file_due(st))
			uigw_store_cdr_file_close(st);
		count(st, x->exported, 0, 0);
	}
	free(x->b.p);
	*x = (struct uigw_cdr_export){};
}

void uigw_store_cdr_export(struct uigw_store *st)
{
	struct uigw_store_cdr *c = &st->cdr;
	uint64_t max = (uint64_t)st->cfg.cdr_max_kb * 1024;
	struct uigw_cdr_export x = {};
	bool more = true;

	c->written = false;
	if (!st->cfg.cdr_dir || !c->read)
		return;
	/* the lines of this commit, made as its rows were written, when they follow the cursor: no read back */
	if (c->pend_n && !c->pend.oom && c->pend_first == c->exported + 1 &&
	    c->pend_last - c->pend_first + 1 == c->pend_n) {
		if (file_due(st))
			uigw_store_cdr_file_close(st);
		if (max && (c->fd < 0 ? sizeof(cdr_header) - 1 : c->bytes) + c->pend.len >= max) {
			/* a file fills: line by line on the slow path below */
		} else if (flush(st, &c->pend, c->pend_n, c->pend_last, &x.exported) == 0) {
			more = false;
		}
	}
	c->pend_n = 0;
	c->pend.len = 0;
	while (more) {
		unsigned int rows = 0;
		int rc;

		uigw_store_cdr_x_begin(st, &x);
		sqlite3_bind_int64(c->read, 1, c->exported);
		while ((rc = sqlite3_step(c->read)) == SQLITE_ROW) {
			struct cdr_fields f;

			rows++;
			fields_of(c->read, &f);
			if (uigw_store_cdr_x_record(st, &x, &f) < 0)
				break;
		}
		sqlite3_reset(c->read);
		if (c->file_failing)
			break;
		if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
			LOGP(DSTORE, LOGL_ERROR, "cannot read charging records: %s\n", sqlite3_errmsg(st->cdr.db));
			break;
		}
		if (uigw_store_cdr_x_flush(st, &x) < 0)
			break;
		more = rows == CDR_CHUNK;
	}
	uigw_store_cdr_x_end(st, &x);
}

/* The charging thread's start (SQLite or PostgreSQL): its name for top -H, perf and gdb, and its class. It is
 * background work with slack (a commit every 200 ms, a file sync a second): as SCHED_BATCH its wake-ups do not
 * preempt the loop, which otherwise waited for a core ~5 % of the time beside it (contrib/bench/engine, phase c,
 * "runnable-waiting"); its share of the CPU stays that of any thread (no starvation, unlike a higher nice value). */
void uigw_store_cdr_thread_init(void)
{
	/* the class first: a thread seen by its name has its class (tests/store_cdr_test.c looks it up by name) */
	if (pthread_setschedparam(pthread_self(), SCHED_BATCH, &(struct sched_param){ 0 }))
		LOGP(DSTORE, LOGL_NOTICE, "charging thread: SCHED_BATCH refused\n");
	pthread_setname_np(pthread_self(), "uigw-cdr");
}

int uigw_store_cdr_save_cursor(struct uigw_store *st)
{
	sqlite3_stmt *s = st->cdr.cursor_upd;
	int64_t now = uigw_mono_us();
	int rc;

	if (st->cdr.exported == st->cdr.saved || now - st->cdr.synced_us < CURSOR_EVERY_US)
		return 0;
	/* the lines the cursor counts must be on disk before it: a power loss then loses neither */
	if (st->cdr.fd >= 0 && st->cfg.sync_full && fdatasync(st->cdr.fd) < 0) {
		LOGP(DSTORE, LOGL_ERROR, "CDR file %s: fdatasync: %s\n", st->cdr.path, strerror(errno));
		return 0;	/* the cursor stays behind: those records are written again after a power loss */
	}
	st->cdr.synced_us = now;
	sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, "$id"), st->cdr.exported);
	rc = sqlite3_step(s);
	uigw_store_stmt_done(s);
	if (rc != SQLITE_DONE) {
		LOGP(DSTORE, LOGL_ERROR, "cannot keep the CDR cursor: %s\n", sqlite3_errmsg(st->cdr.db));
		return -EIO;
	}
	/* in the transaction: st->cdr.saved follows once it committed (see write_batch) */
	return 1;
}

/* A file a crash left open: cut back to its last whole line; \returns the last record number in it (0: none) and
 * closes it (renamed, or removed when it holds none) */
static int64_t repair_part(struct uigw_store *st, const char *path)
{
	struct uigw_store_cdr *c = &st->cdr;
	char tail[4096];
	int64_t last = 0;
	off_t size, from, cut;
	ssize_t n;
	char *nl, *line;
	int fd;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		LOGP(DSTORE, LOGL_ERROR, "CDR file %s: %s\n", path, strerror(errno));
		return 0;
	}
	size = lseek(fd, 0, SEEK_END);
	from = size > (off_t)sizeof(tail) - 1 ? size - (off_t)sizeof(tail) + 1 : 0;
	n = pread(fd, tail, sizeof(tail) - 1, from);
	if (n < 0)
		n = 0;
	tail[n] = '\0';
	/* a partial last line goes */
	nl = memrchr(tail, '\n', n);
	cut = nl ? from + (nl - tail) + 1 : 0;
	if (cut != size) {
		LOGP(DSTORE, LOGL_NOTICE, "CDR file %s: partial last line removed (%lld bytes)\n", path,
		     (long long)(size - cut));
		if (ftruncate(fd, cut) < 0)
			LOGP(DSTORE, LOGL_ERROR, "CDR file %s: %s\n", path, strerror(errno));
	}
	if (nl) {
		*nl = '\0';
		line = memrchr(tail, '\n', nl - tail);
		line = line ? line + 1 : tail;
		if (strncmp(line, "record,", 7))
			last = strtoll(line, NULL, 10);
	}
	fsync(fd);
	close(fd);
	/* close it as the writer would */
	osmo_strlcpy(c->path, path, sizeof(c->path));
	c->fd = open(path, O_RDONLY | O_CLOEXEC);
	c->records = last > 0;
	uigw_store_cdr_file_close(st);
	return last;
}

int64_t uigw_store_cdr_scan_parts(struct uigw_store *st)
{
	DIR *d = opendir(st->cfg.cdr_dir);
	struct dirent *e;
	int64_t last = 0, l;

	if (!d) {
		if (errno == ENOENT && mkdir(st->cfg.cdr_dir, 0700) == 0) {
			LOGP(DSTORE, LOGL_NOTICE, "CDR folder %s created\n", st->cfg.cdr_dir);
			return 0;
		}
		LOGP(DSTORE, LOGL_ERROR, "CDR folder %s: %s\n", st->cfg.cdr_dir, strerror(errno));
		return 0;
	}
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		char path[sizeof(st->cdr.path)];

		if (strncmp(e->d_name, CDR_PREFIX, strlen(CDR_PREFIX)) || len < strlen(CDR_PART) ||
		    strcmp(e->d_name + len - strlen(CDR_PART), CDR_PART))
			continue;
		snprintf(path, sizeof(path), "%s/%s", st->cfg.cdr_dir, e->d_name);
		l = repair_part(st, path);
		if (l > last)
			last = l;
	}
	closedir(d);
	return last;
}

/* The first record that ended at \a since or later, by bisection over the ids (they follow the commits, and so,
 * within a commit interval, the ends): the table has no index on ended, nor on dialog. */
static int64_t first_id_since(struct uigw_store *st, int64_t since)
{
	int64_t lo = uigw_store_query_int(st->cdr.db, -1, "SELECT coalesce(min(id), 0) FROM cdr");
	int64_t hi = uigw_store_query_int(st->cdr.db, -1, "SELECT coalesce(max(id), 0) FROM cdr");
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(st->cdr.db, "SELECT ended FROM cdr WHERE id >= ?1 ORDER BY id LIMIT 1", -1, &s, NULL) !=
	    SQLITE_OK)
		return lo;
	while (lo < hi) {
		int64_t mid = lo + (hi - lo) / 2, ended = INT64_MAX;

		sqlite3_bind_int64(s, 1, mid);
		if (sqlite3_step(s) == SQLITE_ROW)
			ended = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		if (ended < since)
			lo = mid + 1;
		else
			hi = mid;
	}
	sqlite3_finalize(s);
	return lo;
}

/* the records a crash lost (see the file's comment), numbered from \a last_id + 1 */
static void recover(struct uigw_store *st, int64_t last_id)
{
	/* the newest record (ids follow the commits; no index on ended: one less per record) */
	int64_t last_end = uigw_store_query_int(st->cdr.db, -1,
						"SELECT coalesce((SELECT ended FROM cdr ORDER BY id DESC LIMIT 1), 0)");
	sqlite3_stmt *s;
	int n;

	if (last_end <= 0)
		return;	/* no record yet: the dialogs before charging existed get none */
	/* the records of the dialogs looked at are among those an hour before them (a long dialog's record is
	 * written at its end, which is what counts) */
	if (sqlite3_prepare_v2(st->cdr.db, cdr_recover_sql, -1, &s, NULL) != SQLITE_OK) {
		LOGP(DSTORE, LOGL_ERROR, "cannot recover charging records: %s\n", sqlite3_errmsg(st->cdr.db));
		return;
	}
	sqlite3_bind_int64(s, 1, last_end - RECOVER_MS);
	sqlite3_bind_int64(s, 2, first_id_since(st, last_end - RECOVER_MS - 3600 * 1000LL));
	/* dialog ids begin with their gateway's start second (core/gw.c): those of the last hours, by the primary
	 * key, without an index on ended */
	sqlite3_bind_int64(s, 3, ((last_end - RECOVER_MS) / 1000 - 6 * 3600) << 20);
	sqlite3_bind_int64(s, 4, last_id);
	if (sqlite3_step(s) != SQLITE_DONE)
		LOGP(DSTORE, LOGL_ERROR, "cannot recover charging records: %s\n", sqlite3_errmsg(st->cdr.db));
	else if ((n = sqlite3_changes(st->cdr.db)))
		LOGP(DSTORE, LOGL_NOTICE, "%d charging records made from dialogs whose record was lost\n", n);
	sqlite3_finalize(s);
}

int uigw_store_cdr_files_open(struct uigw_store *st)
{
	struct uigw_store_cdr *c = &st->cdr;
	int64_t in_files, max_id;

	c->fd = -1;
	c->saved = c->exported = uigw_store_query_int(st->cdr.db, -1, "SELECT last_id FROM cdr_export WHERE id = 1");
	if (c->saved < 0)
		return -EIO;
	if (st->cfg.cdr_dir) {
		if (sqlite3_prepare_v2(st->cdr.db, cdr_read_sql, -1, &c->read, NULL) != SQLITE_OK) {
			LOGP(DSTORE, LOGL_ERROR, "%s: %s\n", sqlite3_errmsg(st->cdr.db), cdr_read_sql);
			return -EIO;
		}
		in_files = uigw_store_cdr_scan_parts(st);
		if (in_files > c->exported)
			c->exported = in_files;
	}
	/* past every record there is and every one a file had (records deleted since are not numbered again);
	 * the recovered records take the next numbers */
	max_id = uigw_store_query_int(st->cdr.db, -1, "SELECT coalesce(max(id), 0) FROM cdr");
	recover(st, max_id > c->exported ? max_id : c->exported);
	max_id = uigw_store_query_int(st->cdr.db, -1, "SELECT coalesce(max(id), 0) FROM cdr");
	c->next_id = (max_id > c->exported ? max_id : c->exported) + 1;
	c->committed_next = c->next_id;
	if (c->read)
		uigw_store_cdr_export(st);
	return 0;
}

void uigw_store_cdr_files_close(struct uigw_store *st)
{
	struct uigw_store_cdr *c = &st->cdr;

	if (c->read) {
		uigw_store_cdr_export(st);
		free(c->pend.p);
		c->pend.p = NULL;
		/* the open file is handed over (synced) before the cursor says its records are in a file */
		uigw_store_cdr_file_close(st);
		if (c->exported != c->saved) {
			sqlite3_stmt *s = st->cdr.cursor_upd;

			sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, "$id"), c->exported);
			if (sqlite3_step(s) == SQLITE_DONE)
				c->saved = c->exported;
			uigw_store_stmt_done(s);
		}
		sqlite3_finalize(c->read);
		c->read = NULL;
	}
	/* the open file is handed over at a clean stop */
	uigw_store_cdr_file_close(st);
}
