/*! \file store_vty.c
 *  Node `store` (the feedback store's settings, taking effect at the next start) and `show store` (what the
 *  open store runs with, its group commits, faults, WAL and memory). */

#include <inttypes.h>
#include <string.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/vty_nodes.h>
#include <osmocom/uigw/store/store.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/vty/vty.h>

#define g_gw uigw_vty_root
#define write_str uigw_vty_write_str
#define write_uint uigw_vty_write_uint

static struct cmd_node store_node = {
	.node = STORE_NODE,
	.prompt = "%s(config-store)# ",
	.vtysh = 1,
};

DEFUN(cfg_store, cfg_store_cmd, "store", "Configure the feedback store (SQLite, or PostgreSQL)\n")
{
	vty->node = STORE_NODE;
	return CMD_SUCCESS;
}

#define STORE_RESTART " (takes effect at the next start)"

/* a number of node store: the command and its field */
#define STORE_UINT(name, cmd, field, help) \
	DEFUN(cfg_store_##name, cfg_store_##name##_cmd, cmd, help) \
	{ \
		g_gw->store_cfg->field = atoi(argv[0]); \
		return CMD_SUCCESS; \
	}

DEFUN(cfg_store_path, cfg_store_path_cmd, "path PATH",
      "SQLite database file" STORE_RESTART "\n" "Path, relative to the working folder or absolute\n")
{
	osmo_talloc_replace_string(g_gw, (char **)&g_gw->store_cfg->path, argv[0]);
	return CMD_SUCCESS;
}

static void show_cdr_files(struct vty *vty, const struct uigw_store_cfg *c, const struct uigw_store_stats *st)
{
	if (c->cdr_off)
		vty_out(vty, " Charging records: off (cdr-records off)%s", VTY_NEWLINE);
	else if (c->cdr_dir)
		vty_out(vty, " Charging records: %" PRIu64 " written to CSV files in %s (last record %" PRId64 "), %"
			PRIu64 " files closed, %" PRIu64 " appends failed%s", st->cdr_exported, c->cdr_dir, st->cdr_last,
			st->cdr_files, st->cdr_errors, VTY_NEWLINE);
	else
		vty_out(vty, " Charging records: in the table cdr only (no cdr-directory)%s", VTY_NEWLINE);
}

DEFUN(cfg_store_backend, cfg_store_backend_cmd, "backend (sqlite|postgresql)",
      "Where the store keeps its rows" STORE_RESTART "\n"
      "One SQLite file (path), one gateway (the default)\n"
      "A PostgreSQL database (conninfo) that several gateways share, each with an instance name of its own\n")
{
	g_gw->store_cfg->backend = !strcmp(argv[0], "postgresql") ? UIGW_STORE_POSTGRESQL : UIGW_STORE_SQLITE;
	return CMD_SUCCESS;
}

DEFUN(cfg_store_conninfo, cfg_store_conninfo_cmd, "conninfo .CONNINFO",
      "PostgreSQL: how to reach the database" STORE_RESTART "\n"
      "A libpq connection string, e.g. host=/run/postgresql dbname=uigw user=uigw (default: libpq's own "
      "defaults and PG* environment variables)\n")
{
	char *ci = argv_concat(argv, argc, 0);

	osmo_talloc_replace_string(g_gw, (char **)&g_gw->store_cfg->conninfo, ci);
	talloc_free(ci);
	return CMD_SUCCESS;
}

DEFUN(cfg_store_instance, cfg_store_instance_cmd, "instance NAME",
      "PostgreSQL: this gateway's name among those sharing the database; a name is held by one connected gateway "
      "at a time" STORE_RESTART "\n" "Name (default uigw)\n")
{
	osmo_talloc_replace_string(g_gw, (char **)&g_gw->store_cfg->instance, argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_store_sync, cfg_store_sync_cmd, "synchronous (full|normal)",
      "Durability of a commit" STORE_RESTART "\n"
      "Every acknowledged answer survives a power loss (fsync per group commit)\n"
      "Survives a crash of the process, not of the machine\n")
{
	g_gw->store_cfg->sync_full = !strcmp(argv[0], "full");
	return CMD_SUCCESS;
}

STORE_UINT(batch, "batch-max-rows <1-1000000>", batch_max_rows,
      "Rows per group commit at most" STORE_RESTART "\n" "Rows\n")

STORE_UINT(queue, "queue-max-jobs <1-10000000>", queue_max_jobs,
      "Jobs waiting for the writer at most; past it answers are refused, not lost silently" STORE_RESTART "\n"
      "Jobs\n")

STORE_UINT(commit_interval, "commit-interval <0-1000>", commit_interval_ms,
      "Start a group commit no sooner than this after the previous one began: fewer, larger transactions under "
      "load, no wait at low load" STORE_RESTART "\n" "Milliseconds (0: commit as soon as anything waits)\n")

STORE_UINT(checkpoint, "checkpoint-pages <100-1000000>", checkpoint_pages,
      "Copy the write-ahead log into the database when it holds this many pages (4 KiB each): more pages, fewer "
      "copies of the pages every batch touches, a larger WAL file" STORE_RESTART "\n" "Pages (default 10000)\n")

STORE_UINT(checkpoint_interval, "checkpoint-interval <0-3600000>", checkpoint_interval_ms,
      "Checkpoint the write-ahead log at the latest this long after a commit, so that it restarts small after a "
      "quiet moment and a disk is not filled by the log alone" STORE_RESTART "\n"
      "Milliseconds (default 1000; 0: only by checkpoint-pages)\n")

STORE_UINT(wal_max, "wal-max-size <1-65536>", wal_max_mb,
      "Bound of the write-ahead log file: cut back to it when the log restarts, truncated by a checkpoint when it "
      "holds more" STORE_RESTART "\n" "MiB (default 64)\n")

STORE_UINT(hold, "hold-on-failure <0-3600>", hold_s,
      "When a commit fails (disk full, I/O error, database locked): keep the answers in memory and retry for up to "
      "this long, refusing new dialogs with the busy text meanwhile; then the dialogs waiting get the error "
      "text" STORE_RESTART "\n" "Seconds (default 30; 0: fail the waiting answers at once)\n")

STORE_UINT(spam_window, "spam-window <0-31536000>", spam_window,
      "Seconds in which a second report of the same number by the same subscriber does not count"
      STORE_RESTART "\n" "Seconds\n")

STORE_UINT(retention, "retention-days <0-36500>", retention_days,
      "Days the operator-only pseudonym to MSISDN mapping is kept" STORE_RESTART "\n" "Days (0: forever)\n")

STORE_UINT(map_delay, "mapping-delay <0-3600>", map_delay_s,
      "A new subscriber's pseudonym to MSISDN mapping is committed with the dialog into a journal and merged into "
      "subscriber_map in key order at the latest this long after (sooner when 65536 wait or the writer idles 1 s): "
      "fewer pages written than one random insert per dialog" STORE_RESTART "\n"
      "Seconds (default 10; 0: after every commit)\n")

STORE_UINT(cache, "cache-size <1-4096>", cache_mb,
      "The writer's SQLite page cache: the pages of the tables and indexes it writes kept in memory (PRAGMA "
      "cache_size); given back after an overload episode and once the writer is idle for 5 s" STORE_RESTART "\n"
      "MiB (default 64)\n")

static int config_write_store(struct vty *vty)
{
	const struct uigw_store_cfg *c = g_gw->store_cfg;
	struct uigw_store_cfg def;

	uigw_store_cfg_defaults(&def);
	vty_out(vty, "store%s", VTY_NEWLINE);
	if (c->backend == UIGW_STORE_POSTGRESQL)
		vty_out(vty, " backend postgresql%s", VTY_NEWLINE);
	if (c->conninfo && c->conninfo[0])
		vty_out(vty, " conninfo %s%s", c->conninfo, VTY_NEWLINE);
	write_str(vty, "instance", c->instance, "uigw");
	write_str(vty, "path", c->path, "osmo-uigw.db");
	if (c->sync_full != def.sync_full)
		vty_out(vty, " synchronous %s%s", c->sync_full ? "full" : "normal", VTY_NEWLINE);
	write_uint(vty, "batch-max-rows", c->batch_max_rows, def.batch_max_rows);
	write_uint(vty, "queue-max-jobs", c->queue_max_jobs, def.queue_max_jobs);
	write_uint(vty, "commit-interval", c->commit_interval_ms, def.commit_interval_ms);
	write_uint(vty, "checkpoint-pages", c->checkpoint_pages, def.checkpoint_pages);
	write_uint(vty, "checkpoint-interval", c->checkpoint_interval_ms, def.checkpoint_interval_ms);
	write_uint(vty, "wal-max-size", c->wal_max_mb, def.wal_max_mb);
	write_uint(vty, "hold-on-failure", c->hold_s, def.hold_s);
	write_uint(vty, "spam-window", c->spam_window, def.spam_window);
	write_uint(vty, "retention-days", c->retention_days, def.retention_days);
	write_uint(vty, "mapping-delay", c->map_delay_s, def.map_delay_s);
	write_uint(vty, "cache-size", c->cache_mb, def.cache_mb);
	uigw_privacy_vty_write_store(vty);
	return CMD_SUCCESS;
}

/* the lines both backends have: the group commits and what waits */
static void show_commits(struct vty *vty, const struct uigw_store_stats *st)
{
	if (st->commits)
		vty_out(vty, " Per commit: %.1f rows on average, %u in the last; %.2f ms on average, %.2f ms at most%s",
			(double)st->rows / st->commits, st->last_rows, st->busy_us / 1000.0 / st->commits,
			st->max_commit_us / 1000.0, VTY_NEWLINE);
	vty_out(vty, " Now: %u jobs queued, %u being written, %u waiting for their completion%s", st->queued,
		st->in_flight, st->depth, VTY_NEWLINE);
}

DEFUN(show_store, show_store_cmd, "show store",
      SHOW_STR "The feedback store: settings, the writer's group commits, what waits\n")
{
	const struct uigw_store_cfg *c;
	struct uigw_store_stats st;

	if (!g_gw->store) {
		vty_out(vty, "%% No store is open%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	/* what it runs with: node store's settings take effect at the next start */
	c = uigw_store_cfg_of(g_gw->store);
	uigw_store_stats(g_gw->store, &st);
	if (st.pg_state) {
		vty_out(vty, "Store on PostgreSQL, instance %s: connection %s, batch-max-rows %u, queue-max-jobs %u%s",
			st.pg_instance, st.pg_state, c->batch_max_rows, c->queue_max_jobs, VTY_NEWLINE);
		vty_out(vty, " Commits (one round trip each): %" PRIu64 ", jobs %" PRIu64 " (%" PRIu64 " failed), rows %"
			PRIu64 "; the instance's last transaction %" PRId64 "%s", st.commits, st.jobs, st.failed_jobs,
			st.rows, st.pg_seq, VTY_NEWLINE);
		show_commits(vty, &st);
		if (st.failing) {
			char since[32];

			vty_out(vty, " FAILING since %s: the database cannot be reached, the jobs wait in memory (up to "
				"queue-max-jobs), new dialogs get the busy text%s",
				uigw_utc_str(since, sizeof(since), st.failing_since_ms, "%Y-%m-%d %H:%M:%SZ"), VTY_NEWLINE);
		}
		vty_out(vty, " Failures: %" PRIu64 "; opt-out checks: %" PRIu64 " (each reads the database)%s",
			st.failures, st.optout_checks, VTY_NEWLINE);
		vty_out(vty, " Log rows (API audit) lost: %" PRIu64 "%s", st.log_rows_lost, VTY_NEWLINE);
		show_cdr_files(vty, c, &st);
		return CMD_SUCCESS;
	}
	vty_out(vty, "Store %s: synchronous %s, batch-max-rows %u, commit-interval %u ms, queue-max-jobs %u, "
		"checkpoint-pages %u%s", c->path, c->sync_full ? "full" : "normal", c->batch_max_rows,
		c->commit_interval_ms, c->queue_max_jobs, c->checkpoint_pages, VTY_NEWLINE);
	vty_out(vty, " Commits: %" PRIu64 ", jobs %" PRIu64 " (%" PRIu64 " failed), rows %" PRIu64 "%s", st.commits,
		st.jobs, st.failed_jobs, st.rows, VTY_NEWLINE);
	show_commits(vty, &st);
	if (st.failing) {
		char since[32];

		vty_out(vty, " FAILING since %s: %u jobs held for a retry (hold-on-failure %u s), new dialogs get "
			"the busy text%s", uigw_utc_str(since, sizeof(since), st.failing_since_ms, "%Y-%m-%d %H:%M:%SZ"),
			st.held, c->hold_s, VTY_NEWLINE);
	}
	vty_out(vty, " Failures: %" PRIu64 " (batches retried %" PRIu64 "); WAL checkpoints by time or size %" PRIu64
		" (%" PRIu64 " truncating), checkpoint-interval %u ms, wal-max-size %u MiB%s", st.failures,
		st.retries, st.checkpoints, st.truncations, c->checkpoint_interval_ms, c->wal_max_mb, VTY_NEWLINE);
	vty_out(vty, " Time in checkpoints: %.1f s in all, the longest %.1f ms%s", st.ckpt_us / 1e6,
		st.ckpt_max_us / 1e3, VTY_NEWLINE);
	vty_out(vty, " Opt-out checks: %" PRIu64 ", %" PRIu64 " read from the database (the others the filter "
		"answered)%s", st.optout_checks, st.optout_reads, VTY_NEWLINE);
	vty_out(vty, " Log rows (API audit) lost: %" PRIu64 "%s", st.log_rows_lost, VTY_NEWLINE);
	{
		int64_t used, peak;

		uigw_store_memory(g_gw->store, &used, &peak);
		vty_out(vty, " SQLite memory (page caches of the writer and the readers, statements): %.1f MiB, %.1f MiB "
			"at most%s", used / 1048576.0, peak / 1048576.0, VTY_NEWLINE);
	}
	vty_out(vty, " Purged past their retention: %" PRIu64 " rows%s", st.purged, VTY_NEWLINE);
	vty_out(vty, " Mapping journal (mapping-delay %u s): about %u new waiting; %" PRIu64 " merges wrote %" PRIu64
		" mappings in %.1f s, the longest step %.1f ms; %" PRIu64 " steps put off for waiting commits, put off "
		"in %" PRIu64 " overload episodes%s%s", c->map_delay_s, st.map_waiting, st.map_passes, st.map_rows,
		st.map_us / 1e6, st.map_max_us / 1e3, st.map_yields, st.map_deferrals,
		st.map_deferred ? " (now)" : "", VTY_NEWLINE);
	show_cdr_files(vty, c, &st);
	vty_out(vty, " Charging database %s: %u jobs queued%s%s", st.cdr_db ? st.cdr_db : "-", st.cdr_queued,
		st.cdr_failing ? ", FAILING: retried every second" : "", VTY_NEWLINE);
	return CMD_SUCCESS;
}

void uigw_store_vty_init(void)
{
	install_element(CONFIG_NODE, &cfg_store_cmd);
	install_node(&store_node, config_write_store);
	install_element(STORE_NODE, &cfg_store_backend_cmd);
	install_element(STORE_NODE, &cfg_store_conninfo_cmd);
	install_element(STORE_NODE, &cfg_store_instance_cmd);
	install_element(STORE_NODE, &cfg_store_path_cmd);
	install_element(STORE_NODE, &cfg_store_sync_cmd);
	install_element(STORE_NODE, &cfg_store_batch_cmd);
	install_element(STORE_NODE, &cfg_store_queue_cmd);
	install_element(STORE_NODE, &cfg_store_commit_interval_cmd);
	install_element(STORE_NODE, &cfg_store_checkpoint_cmd);
	install_element(STORE_NODE, &cfg_store_checkpoint_interval_cmd);
	install_element(STORE_NODE, &cfg_store_wal_max_cmd);
	install_element(STORE_NODE, &cfg_store_hold_cmd);
	install_element(STORE_NODE, &cfg_store_spam_window_cmd);
	install_element(STORE_NODE, &cfg_store_retention_cmd);
	install_element(STORE_NODE, &cfg_store_map_delay_cmd);
	install_element(STORE_NODE, &cfg_store_cache_cmd);
	install_element_ve(&show_store_cmd);
}
