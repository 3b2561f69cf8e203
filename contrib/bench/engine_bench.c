/* Benchmark of the core: N concurrent simulated dialogs through the dialog engine, the renderer and the store,
 * in one process. Prints medians of repeated runs and ratios against reference runs measured in the same
 * invocation (bare renderer calls; bare SQLite inserts in one transaction per batch).
 *
 *   engine_bench [-n DIALOGS] [-s STEPS] [-r REPEATS] [-i IDLE_DIALOGS] [-d TMPDIR] [-p PHASES] [-b BACKLOG]
 *                [-P CONNINFO] [-W RESUME_WINDOW_S] [-o]
 *
 * Not a test: it asserts nothing about speed; contrib/bench/engine compares the figures with the targets. */

#include <errno.h>
#include <inttypes.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include <libpq-fe.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/select.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/application.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/core/dialog.h>
#include <osmocom/uigw/render/render.h>
#include <osmocom/uigw/store/store.h>

static const char *survey_conf =
	"name = \"bench\";\n"
	"entry = { ussd = [\"*7730#\"]; };\n"
	"nodes = (\n"
	" { id = \"q1\"; type = \"choice\"; text = \"How did you hear about us?\";\n"
	"   options = ( { key = \"1\"; label = \"TV\"; value = \"tv\"; }, { key = \"2\"; label = \"Radio\"; value = \"radio\"; },\n"
	"               { key = \"3\"; label = \"A friend\"; value = \"friend\"; }, { key = \"4\"; label = \"Online\"; value = \"online\"; } );\n"
	"   next = \"q2\"; },\n"
	" { id = \"q2\"; type = \"rating\"; text = \"How satisfied are you with our network?\"; scale = 5;\n"
	"   labels = [\"Very unhappy\", \"Unhappy\", \"Neutral\", \"Happy\", \"Very happy\"]; next = \"q3\"; },\n"
	" { id = \"q3\"; type = \"yesno\"; text = \"Would you recommend us to a friend?\"; next = \"end\"; },\n"
	" { id = \"end\"; type = \"info\"; text = \"Thank you! Your answers were recorded.\"; }\n"
	");\n";

static const char *inputs[] = { "3", "4", "1" };	/* q1, q2, q3 */

struct bdlg {
	struct llist_head ready;	/* in the ready list: a screen arrived, the next input can go */
	struct uigw_dialog *dlg;
	unsigned int step;
	bool in_ready;
	struct timespec t_in;		/* when the pending input was fed */
};

static struct uigw *gw;
static struct bdlg *bd;
static unsigned int n_dlg;
static LLIST_HEAD(ready);
static uint64_t steps_done, answers_done;
static bool refused_any;
static uint64_t refused_done;	/* screens that refused (busy: the store's queue full or failing): no answer */
static double *lat;		/* step latencies in µs */
static size_t n_lat, max_lat;
static bool measuring;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long pages = 0, rss = 0;

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = -1;
	fclose(f);
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/* the bench channel: a screen arrived for dialog chan_priv */
static int b_send(struct uigw_dialog *dlg, const struct uigw_render_out *s, bool end)
{
	struct bdlg *b = dlg->chan_priv;
	struct timespec t;

	if (!b)
		return 0;
	if (measuring && b->t_in.tv_sec && dlg->refusal != UIGW_REFUSAL_NONE) {
		refused_done++;
	} else if (measuring && b->t_in.tv_sec) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (n_lat < max_lat)
			lat[n_lat++] = (t.tv_sec - b->t_in.tv_sec) * 1e6 + (t.tv_nsec - b->t_in.tv_nsec) / 1e3;
		steps_done++;
		if (b->step <= 3)
			answers_done++;
	}
	b->t_in.tv_sec = 0;
	b->dlg = end ? NULL : dlg;
	if (!b->in_ready) {
		llist_add_tail(&b->ready, &ready);
		b->in_ready = true;
	}
	return 0;
}

static const struct uigw_chan_ops b_ops = {
	.channel = UIGW_CHAN_GSUP,
	.profile = &uigw_profile_ussd,
	.deliver = b_send,
};

static void msisdn_of(unsigned int i, char *buf, size_t len)
{
	snprintf(buf, len, "+4917%09u", i);
}

static void feed(struct bdlg *b)
{
	char msisdn[20];

	clock_gettime(CLOCK_MONOTONIC, &b->t_in);
	if (!b->dlg) {
		struct uigw_begin beg = { .channel = UIGW_CHAN_GSUP, .text = "*7730#", .chan_priv = b };
		msisdn_of(b - bd, msisdn, sizeof(msisdn));
		beg.msisdn = msisdn;
		b->step = 0;
		uigw_dialog_begin(gw, &beg);
	} else {
		b->step++;
		uigw_dialog_input(b->dlg, inputs[(b->step - 1) % 3]);
	}
}

/* CPU time of each thread of this process (utime + stime from /proc), to tell which one bounds a phase */
struct tcpu {
	int n;
	struct { int tid; char comm[20]; unsigned long long ticks, wait_ns; } t[16];
};

static void tcpu_read(struct tcpu *c)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;

	c->n = 0;
	while (d && (e = readdir(d)) && c->n < 16) {
		char path[300], buf[512], *p;
		unsigned long long ut, st;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(buf, sizeof(buf), f) || !(p = strrchr(buf, ')'))
		    || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) {
			fclose(f);
			continue;
		}
		fclose(f);
		c->t[c->n].tid = atoi(e->d_name);
		sscanf(strchr(buf, '(') + 1, "%19[^)]", c->t[c->n].comm);
		c->t[c->n].ticks = ut + st;
		c->t[c->n].wait_ns = 0;
		snprintf(path, sizeof(path), "/proc/self/task/%s/schedstat", e->d_name);
		if ((f = fopen(path, "r"))) {
			if (fscanf(f, "%*u %llu", &c->t[c->n].wait_ns) != 1)
				c->t[c->n].wait_ns = 0;
			fclose(f);
		}
		c->n++;
	}
	if (d)
		closedir(d);
}

/* "engine_bench 48 % (6.15 us/answer, waiting for a core 1.9 %), uigw-store 90 % ..." over \a secs since \a a: which
 * thread bounds a phase, and whether one waited for the CPU (schedstat: runnable but not running) */
static void tcpu_print(const char *phase, const struct tcpu *a, double secs)
{
	struct tcpu b;
	double hz = sysconf(_SC_CLK_TCK);
	int i, j;

	tcpu_read(&b);
	fprintf(stderr, "  phase %s, CPU per thread:", phase);
	for (i = 0; i < b.n; i++) {
		unsigned long long t0 = 0, w0 = 0;

		for (j = 0; j < a->n; j++)
			if (a->t[j].tid == b.t[i].tid) {
				t0 = a->t[j].ticks;
				w0 = a->t[j].wait_ns;
			}
		fprintf(stderr, "%s %s %.0f %% (%.2f us/answer, waiting for a core %.1f %%)", i ? "," : "", b.t[i].comm,
			(b.t[i].ticks - t0) / hz / secs * 100,
			answers_done ? (b.t[i].ticks - t0) / hz * 1e6 / answers_done : 0,
			(b.t[i].wait_ns - w0) / 1e9 / secs * 100);
	}
	fprintf(stderr, "\n");
}

/* Run until `steps` steps were answered; returns elapsed seconds. */
static double run(uint64_t steps)
{
	double t0;
	uint64_t target;

	steps_done = answers_done = refused_done = 0;
	n_lat = 0;
	measuring = true;
	target = steps;
	t0 = now_s();
	while (steps_done + refused_done < target) {
		unsigned int fed = 0;

		while (!llist_empty(&ready) && steps_done + refused_done < target) {
			struct bdlg *b = llist_first_entry(&ready, struct bdlg, ready);
			llist_del(&b->ready);
			b->in_ready = false;
			feed(b);
			/* as the loop would after one socket's worth of messages: hand over what the core held back
			 * while the channel was inside its calls (dialog_outbox.c) */
			if (++fed % 64 == 0)
				uigw_dialog_outbox_run(gw);
		}
		/* the loop also hands over what the core held back while the channel was inside its calls */
		if ((gw->store && uigw_store_queue_depth(gw->store)) || !llist_empty(&gw->outbox))
			osmo_select_main(0);
	}
	if (gw->store) {
		while (uigw_store_queue_depth(gw->store))
			osmo_select_main(0);
	}
	measuring = false;
	if (refused_done) {
		/* a refused dialog's screen is no answer: the figure would not be the store's */
		fprintf(stderr, "%" PRIu64 " screens refused (busy) in this run: not counted as answers\n", refused_done);
		refused_any = true;
	}
	return now_s() - t0;
}

/* Reference 1: bare renderer calls of a screen like the engine's. */
static double ref_render(unsigned int n)
{
	struct uigw_render_item items[] = { { "1", "TV" }, { "2", "Radio" }, { "3", "A friend" }, { "4", "Online" } };
	struct uigw_render_in in = { .header = "How did you hear about us?", .items = items, .n_items = 4,
				     .more = { "00", "More" } };
	struct uigw_render_out out;
	void *ctx = talloc_named_const(NULL, 0, "ref");
	double t0 = now_s();
	unsigned int i;

	for (i = 0; i < n; i++) {
		uigw_render(ctx, &uigw_profile_ussd, &in, &out);
		talloc_free(out.text);
	}
	t0 = now_s() - t0;
	talloc_free(ctx);
	return n / t0;
}

/* Reference 2: bare SQLite inserts of response-like rows, same PRAGMAs, batches of `batch` rows. */
static double ref_sqlite(const char *dir, unsigned int n, unsigned int batch)
{
	char path[400];
	sqlite3 *db;
	sqlite3_stmt *st;
	double t0;
	unsigned int i;

	snprintf(path, sizeof(path), "%s/ref.db", dir);
	unlink(path);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return 0;
	sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
		     "CREATE TABLE r (id INTEGER PRIMARY KEY, campaign, version, node, question, kind, value, raw,"
		     " channel, subscriber, dialog, time, roaming, language);"
		     "CREATE INDEX r_q ON r(campaign, question, value);", NULL, NULL, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO r (campaign, version, node, question, kind, value, raw, channel,"
			   " subscriber, dialog, time, roaming, language) VALUES ('bench', 1, 'q1', 'q1', 'choice',"
			   " ?, ?, 'gsup', 'ab12cd34ef56ab12cd34ef56ab12cd34', ?, ?, 0, 'en')", -1, &st, NULL);
	t0 = now_s();
	for (i = 0; i < n; i++) {
		if (i % batch == 0)
			sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		sqlite3_bind_text(st, 1, "friend", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, "3", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, i);
		sqlite3_bind_int64(st, 4, 1700000000000LL + i);
		sqlite3_step(st);
		sqlite3_reset(st);
		if (i % batch == batch - 1 || i == n - 1)
			sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	}
	t0 = now_s() - t0;
	sqlite3_finalize(st);
	sqlite3_close(db);
	unlink(path);
	return n / t0;
}

/* The policy work a gateway does beside the dialogs (phase c): a purge backlog of old answers the retention
 * deletes in batches between group commits, and one charging record per dialog into the table and CSV files.
 * Phase s runs without both. */
static bool with_policy;
static const char *pg_conninfo;	/* -P: phase g, the store on PostgreSQL */
static unsigned int resume_window;	/* -W: the dialogs keep what resuming needs (on PostgreSQL a row per step) */
static bool on_pg;
static uint64_t pg_answers;	/* of the last run of phase g, and its time */
static double pg_secs;
static int checkpoint_ms = -1;	/* -k: the store's checkpoint-interval (default: the gateway's) */
static unsigned int purge_backlog = 200000;
/* -o: overload control's inputs off. The benchmark's load is a closed loop (each dialog waits for its last
 * step), which cannot overload the gateway as open arrivals do: it only slows down; with the inputs on, the store
 * delay of 10,000 dialogs waiting passes its mark now and then and refuses screens, by amounts that differ
 * between phases */
static bool overload_off;

/* answers \a days old, written straight into a fresh database before the store opens it */
static void old_answers(const char *path, unsigned int n, unsigned int days)
{
	struct uigw_store_cfg cfg;
	struct uigw_store *st;
	sqlite3 *db;
	sqlite3_stmt *ins;
	long long old = (long long)time(NULL) * 1000 - (long long)days * 86400000;
	unsigned int i;

	/* the schema first (the store's own), then the rows in one transaction */
	uigw_store_cfg_defaults(&cfg);
	cfg.path = path;
	cfg.cdr_off = true;
	st = uigw_store_open(NULL, &cfg);
	uigw_store_close(st);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return;
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO response (campaign, version, node, question, kind, value, raw, channel,"
			   " subscriber, dialog, time, roaming, language) VALUES ('old', 1, 'q1', 'q1', 'choice', 'tv',"
			   " '1', 'gsup', 'ab12cd34ef56ab12cd34ef56ab12cd34', ?1, ?2, 0, 'en')", -1, &ins, NULL);
	for (i = 0; i < n; i++) {
		sqlite3_bind_int64(ins, 1, i + 1);
		sqlite3_bind_int64(ins, 2, old + i);
		sqlite3_step(ins);
		sqlite3_reset(ins);
	}
	sqlite3_finalize(ins);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
}

static struct uigw *make_gw(void *ctx, const char *dir, bool with_store, unsigned int max_dialogs)
{
	char path[400], err[512] = "";
	struct uigw *g = uigw_alloc(ctx);

	snprintf(path, sizeof(path), "%s/campaigns", dir);
	osmo_talloc_replace_string(g, &g->cfg.campaigns_dir, path);
	g->cfg.max_dialogs = max_dialogs;
	g->cfg.resume_window = resume_window;
	if (with_store && on_pg) {
		/* a fresh schema each time, on the server of -P */
		PGconn *c = PQconnectdb(pg_conninfo);
		PGresult *res;

		if (PQstatus(c) != CONNECTION_OK) {
			fprintf(stderr, "PostgreSQL: %s", PQerrorMessage(c));
			exit(1);
		}
		res = PQexec(c, "SET client_min_messages = warning; DROP SCHEMA IF EXISTS bench CASCADE; CREATE SCHEMA bench");
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			fprintf(stderr, "PostgreSQL: %s", PQresultErrorMessage(res));
			exit(1);
		}
		PQclear(res);
		PQfinish(c);
		g->store_cfg->backend = UIGW_STORE_POSTGRESQL;
		g->store_cfg->conninfo = talloc_asprintf(g, "%s options='-csearch_path=bench'", pg_conninfo);
		g->store_cfg->instance = "bench";
		g->store_cfg->cdr_off = true;
	} else if (with_store) {
		/* a fresh database each time: the main one and the charging records' one beside it, with their WALs */
		snprintf(path, sizeof(path), "rm -f %s/bench.db %s/bench.db-* %s/bench-cdr.db %s/bench-cdr.db-*", dir, dir,
			 dir, dir);
		if (system(path) != 0)
			exit(1);
		snprintf(path, sizeof(path), "%s/bench.db", dir);
		osmo_talloc_replace_string(g, (char **)&g->store_cfg->path, path);
		if (checkpoint_ms >= 0)
			g->store_cfg->checkpoint_interval_ms = checkpoint_ms;
		/* both phases on a database of the same size: the backlog is 100 days old in phase c (purged, retention
		 * 30 days), 10 days in phase s (kept): what is compared is the purge and the records, not the size */
		if (purge_backlog)
			old_answers(path, purge_backlog, with_policy ? 100 : 10);
		if (with_policy) {
			g->store_cfg->retention[UIGW_RET_ANSWERS] = 30;
			snprintf(path, sizeof(path), "%s/cdr", dir);
			osmo_talloc_replace_string(g, (char **)&g->store_cfg->cdr_dir, path);
		} else {
			g->store_cfg->cdr_off = true;
		}
	} else {
		TALLOC_FREE(g->store_cfg);
	}
	if (uigw_start(g) < 0) {
		fprintf(stderr, "start failed: %s\n", err);
		exit(1);
	}
	uigw_chan_register(g, &b_ops, NULL);
	if (overload_off) {
		g->overload.cfg.store_high = g->overload.cfg.store_delay_high_ms = 0;
		g->overload.cfg.lag_high_ms = g->overload.cfg.delay_high_ms = 0;
	}
	/* PostgreSQL: the connection is made on the loop */
	while (on_pg && g->store && uigw_store_failing(g->store))
		osmo_select_main(0);
	return g;
}

static void setup_dialogs(unsigned int n)
{
	unsigned int i;

	bd = calloc(n, sizeof(*bd));
	n_dlg = n;
	INIT_LLIST_HEAD(&ready);
	for (i = 0; i < n; i++) {
		INIT_LLIST_HEAD(&bd[i].ready);
		llist_add_tail(&bd[i].ready, &ready);
		bd[i].in_ready = true;
	}
}

/* One run of engine + store (phase s), or with the purge and the charging records (phase c, \a policy): on a fresh
 * gateway and database; \returns committed answers/s */
static double store_phase(void *ctx, const char *dir, unsigned int n, uint64_t steps, bool policy, uint64_t *purged,
			  uint64_t *cdrs)
{
	struct uigw_store_stats ss, s0;
	struct tcpu tc;
	double t;
	char path[300];

	with_policy = policy;
	gw = make_gw(ctx, dir, true, n + 10);
	with_policy = false;
	setup_dialogs(n);
	run(n);
	tcpu_read(&tc);
	uigw_store_stats(gw->store, &s0);
	t = run(steps);
	tcpu_print(policy ? "c" : "s", &tc, t);
	/* the writer's WAL checkpoints in the measured run: no commit while one runs */
	uigw_store_stats(gw->store, &ss);
	fprintf(stderr, "  phase %s, WAL checkpoints: %llu, %.0f ms in all (%.1f %% of the run); the longest since "
		"the store opened %.1f ms\n", policy ? "c" : "s", (unsigned long long)(ss.checkpoints - s0.checkpoints),
		(ss.ckpt_us - s0.ckpt_us) / 1e3, t > 0 ? (ss.ckpt_us - s0.ckpt_us) / 1e4 / t : 0.0,
		ss.ckpt_max_us / 1e3);
	if (policy) {
		uigw_store_drain(gw->store);
		uigw_store_stats(gw->store, &ss);
		*purged = ss.purged;
		*cdrs = ss.cdr_exported;
	}
	uigw_free(gw);
	free(bd);
	if (policy) {
		snprintf(path, sizeof(path), "rm -rf %s/cdr", dir);
		if (system(path) != 0)
			exit(1);
	}
	return answers_done / t;
}

int main(int argc, char **argv)
{
	bool c_first;
	unsigned int n = 10000, repeats = 5, idle = 100000, i;
	const char *phases = "escri";	/* e: engine, s: engine + store, c: the same with purge and CDRs, r: references,
					 * i: idle memory */
	uint64_t steps = 300000;
	const char *tmp = "/tmp";
	char dir[256], path[400];
	double *v_steps, *v_ans, *v_p50, *v_p99, *v_ref_r, *v_ref_s, *v_p50s, *v_p99s, *v_pol, *v_ratio;
	double *v_pg, *v_pg50, *v_pg99, *v_pgratio;
	uint64_t purged = 0, cdrs = 0;
	void *ctx;
	FILE *f;
	int c;

	while ((c = getopt(argc, argv, "n:s:r:i:d:p:b:k:P:W:o")) != -1) {
		switch (c) {
		case 'n': n = atoi(optarg); break;
		case 's': steps = atoll(optarg); break;
		case 'r': repeats = atoi(optarg); break;
		case 'i': idle = atoi(optarg); break;
		case 'd': tmp = optarg; break;
		case 'p': phases = optarg; break;
		case 'b': purge_backlog = atoi(optarg); break;
		case 'k': checkpoint_ms = atoi(optarg); break;
		case 'P': pg_conninfo = optarg; break;
		case 'W': resume_window = atoi(optarg); break;
		case 'o': overload_off = true; break;
		default:
			fprintf(stderr, "usage: %s [-n DIALOGS] [-s STEPS] [-r REPEATS] [-i IDLE] [-d TMPDIR] [-p PHASES]\n"
				"  PHASES: letters of e (engine), s (engine + store), c (s with a retention purge of -b old answers and\n"
				"  charging records into CSV files), g (s on PostgreSQL, -P CONNINFO), r (references), i (idle memory)\n"
				"  -W SECONDS: the dialogs' resume window (default 0; on PostgreSQL a state row per step)\n"
				"  -o: overload control's inputs off (a closed loop slows down, not overloaded)\n",
				argv[0]);
			return 2;
		}
	}
	ctx = talloc_named_const(NULL, 0, "bench");
	osmo_init_logging2(ctx, &uigw_log_info);
	log_set_log_level(osmo_stderr_target, LOGL_ERROR);
	snprintf(dir, sizeof(dir), "%s/uigw-bench-XXXXXX", tmp);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/campaigns", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/campaigns/bench.conf", dir);
	f = fopen(path, "w");
	fputs(survey_conf, f);
	fclose(f);

	max_lat = steps;
	lat = malloc(sizeof(double) * max_lat);
	v_steps = calloc(repeats, sizeof(double));
	v_ans = calloc(repeats, sizeof(double));
	v_p50 = calloc(repeats, sizeof(double));
	v_p99 = calloc(repeats, sizeof(double));
	v_p50s = calloc(repeats, sizeof(double));
	v_p99s = calloc(repeats, sizeof(double));
	v_ref_r = calloc(repeats, sizeof(double));
	v_ref_s = calloc(repeats, sizeof(double));
	v_pol = calloc(repeats, sizeof(double));
	v_ratio = calloc(repeats, sizeof(double));
	v_pg = calloc(repeats, sizeof(double));
	v_pg50 = calloc(repeats, sizeof(double));
	v_pg99 = calloc(repeats, sizeof(double));
	v_pgratio = calloc(repeats, sizeof(double));
	if (strchr(phases, 'g') && !pg_conninfo) {
		fprintf(stderr, "phase g needs -P CONNINFO (contrib/bench/engine starts a server)\n");
		return 2;
	}

	printf("osmo-uigw engine benchmark: %u concurrent dialogs, %llu steps per run, %u runs, USSD profile\n",
	       n, (unsigned long long)steps, repeats);
	for (i = 0; i < repeats; i++) {
		double t;

		/* engine + renderer, no store */
		if (!strchr(phases, 'e'))
			goto store;
		gw = make_gw(ctx, dir, false, n + 10);
		setup_dialogs(n);
		run(n);		/* warm-up: every dialog begun */
		t = run(steps);
		v_steps[i] = steps_done / t;
		v_p50[i] = median(lat, n_lat);
		v_p99[i] = lat[(size_t)(n_lat * 0.99)];
		uigw_free(gw);
		free(bd);

store:
		/* engine + renderer + store, group commit, synchronous=FULL; and the same with the retention purge working
		 * off its backlog and a charging record per dialog (phase c). Every other run takes c first: a drift of
		 * the machine, or anything one phase leaves behind for the next, does not favour either side. */
		if (!strchr(phases, 's'))
			goto pg;
		c_first = strchr(phases, 'c') && i % 2;
		if (c_first)
			v_pol[i] = store_phase(ctx, dir, n, steps, true, &purged, &cdrs);
		v_ans[i] = store_phase(ctx, dir, n, steps, false, &purged, &cdrs);
		v_p50s[i] = median(lat, n_lat);
		v_p99s[i] = lat[(size_t)(n_lat * 0.99)];
		if (strchr(phases, 'c') && !c_first)
			v_pol[i] = store_phase(ctx, dir, n, steps, true, &purged, &cdrs);
		v_ratio[i] = v_pol[i] / v_ans[i];

pg:
		/* the same store on PostgreSQL (one connection, pipeline mode, the server's durable commit) */
		if (strchr(phases, 'g')) {
			on_pg = true;
			gw = make_gw(ctx, dir, true, n + 10);
			setup_dialogs(n);
			run(n);
			t = run(steps);
			v_pg[i] = answers_done / t;
			pg_answers = answers_done;
			pg_secs = t;
			v_pg50[i] = median(lat, n_lat);
			v_pg99[i] = lat[(size_t)(n_lat * 0.99)];
			v_pgratio[i] = v_ans[i] > 0 ? v_pg[i] / v_ans[i] : 0;
			uigw_free(gw);
			free(bd);
			on_pg = false;
		}


		if (strchr(phases, 'r')) {
			v_ref_r[i] = ref_render(steps);
			v_ref_s[i] = ref_sqlite(dir, steps, 8192);
		}
		fprintf(stderr, "run %u: %.0f steps/s, %.0f answers/s committed, %.0f with purge and CDRs, %.0f on "
			"PostgreSQL%s\n", i + 1, v_steps[i], v_ans[i], v_pol[i], v_pg[i], refused_any ? " (SOME REFUSED: "
			"see above)" : "");
		refused_any = false;
	}

	/* idle memory: dialogs waiting for input */
	if (strchr(phases, 'i')) {
		long before, after;
		struct uigw *g;

		before = rss_kib();
		gw = g = make_gw(ctx, dir, false, idle + 10);
		setup_dialogs(idle);
		run(idle);	/* begins every dialog: each waits at its first question */
		after = rss_kib();
		printf("idle dialogs:        %u active, RSS +%ld KiB = %.0f bytes per idle dialog "
		       "(%.1f MiB per 100,000)\n", gw->n_dialogs, after - before,
		       (after - before) * 1024.0 / idle, (after - before) * 100000.0 / idle / 1024);
		uigw_free(g);
		free(bd);
	}

	{
		double ms = median(v_steps, repeats), ma = median(v_ans, repeats);
		double rr = median(v_ref_r, repeats), rs = median(v_ref_s, repeats);
		printf("engine, no store:    median %.0f steps/s, p50 %.1f us, p99 %.1f us "
		       "(reference: bare renderer %.0f calls/s, ratio %.2f)\n",
		       ms, median(v_p50, repeats), median(v_p99, repeats), rr, ms / rr);
		printf("engine + store:      median %.0f committed answers/s, step p50 %.1f us, p99 %.1f us "
		       "(reference: bare SQLite inserts %.0f rows/s, ratio %.2f)\n",
		       ma, median(v_p50s, repeats), median(v_p99s, repeats), rs, ma / rs);
		if (strchr(phases, 'c'))
			printf("engine + store + purge + CDRs: median %.0f committed answers/s, ratio to engine + store "
			       "%.3f (median of the runs' ratios; last run: %llu old answers purged, %llu charging records "
			       "in CSV files)\n", median(v_pol, repeats), median(v_ratio, repeats),
			       (unsigned long long)purged, (unsigned long long)cdrs);
		if (strchr(phases, 'g'))
			printf("engine + PostgreSQL: median %.0f committed answers/s, step p50 %.1f us, p99 %.1f us "
			       "(ratio to engine + SQLite %.2f, median of the runs' ratios; last run: %llu answers in %.2f s)\n",
			       median(v_pg, repeats), median(v_pg50, repeats), median(v_pg99, repeats),
			       median(v_pgratio, repeats), (unsigned long long)pg_answers, pg_secs);
	}
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path) != 0)
		return 1;
	return 0;
}
