/*! \file overload_vty.c
 *  Overload control (core/overload.h): its marks in node `uigw` and `show overload`. */

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/utils.h>
#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/store/store.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/overload.h>
#include <osmocom/uigw/vty/vty.h>
#include <osmocom/uigw/common/vty_nodes.h>

#define g_gw uigw_vty_root
#define OVL_STR "Overload control: new dialogs and pushes are refused while an input is past its high mark, until " \
	"every input is under its low mark for a second (takes effect at once)\n"

static int set_marks(struct vty *vty, unsigned int *high, unsigned int *low, const char *h, const char *l)
{
	unsigned int hi = atoi(h), lo = atoi(l);

	if (hi && lo >= hi) {
		vty_out(vty, "%% The low mark must be under the high one%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	*high = hi;
	*low = lo;
	return CMD_SUCCESS;
}

DEFUN(cfg_ovl_store, cfg_ovl_store_cmd, "overload store-backlog <0-10000000> <0-10000000>",
      OVL_STR "The store's backlog: answers and records submitted and not yet committed\n"
      "High mark, jobs (default 20000; 0: not an input)\n" "Low mark, jobs (default 5000)\n")
{
	return set_marks(vty, &g_gw->overload.cfg.store_high, &g_gw->overload.cfg.store_low, argv[0], argv[1]);
}

DEFUN(cfg_ovl_store_delay, cfg_ovl_store_delay_cmd, "overload store-delay <0-60000> <0-60000>",
      OVL_STR "What an answer submitted now would wait for its commit, which every next screen waits for (a batch's "
      "fixed part and the jobs pending at the writer's cost per job; at least the time none completed)\n"
      "High mark, ms (default 500; 0: not an input)\n" "Low mark, ms (default 200)\n")
{
	return set_marks(vty, &g_gw->overload.cfg.store_delay_high_ms, &g_gw->overload.cfg.store_delay_low_ms, argv[0],
			 argv[1]);
}

DEFUN(cfg_ovl_lag, cfg_ovl_lag_cmd, "overload loop-lag <0-60000> <0-60000>",
      OVL_STR "How late the event loop runs a 100 ms timer (smoothed): how long it was too busy for anything else\n"
      "High mark, ms (default 250; 0: not an input)\n" "Low mark, ms (default 50)\n")
{
	return set_marks(vty, &g_gw->overload.cfg.lag_high_ms, &g_gw->overload.cfg.lag_low_ms, argv[0], argv[1]);
}

DEFUN(cfg_ovl_delay, cfg_ovl_delay_cmd, "overload queue-delay <0-60000> <0-60000>",
      OVL_STR "How long requests waited before the gateway read them (SIP over UDP: the datagrams' receive time; "
      "SMPP: how long the socket held unread data without a pause), the least over the window\n"
      "High mark, ms (default 200; 0: not an input)\n" "Low mark, ms (default 50)\n")
{
	return set_marks(vty, &g_gw->overload.cfg.delay_high_ms, &g_gw->overload.cfg.delay_low_ms, argv[0], argv[1]);
}

DEFUN(cfg_ovl_window, cfg_ovl_window_cmd, "overload window <100-5000>",
      OVL_STR "A delay (queue delay, store delay) is past its high mark only when it stayed there this long: a "
      "queue that stays, not one that a stall of the process (or a WAL checkpoint) left and the gateway works off\n"
      "Milliseconds, in steps of 100 (default 300)\n")
{
	g_gw->overload.cfg.window_ms = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_ovl_retry, cfg_ovl_retry_cmd, "overload retry-after <1-3600>",
      OVL_STR "What a refused peer is told to wait (SIP and HTTP Retry-After)\n" "Seconds (default 5)\n")
{
	g_gw->overload.cfg.retry_after_s = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_ovl_max_wait, cfg_ovl_max_wait_cmd, "overload max-wait <0-60000>",
      OVL_STR "Refuse at once a request that would begin a dialog and waited this long in the kernel (SIP over UDP; "
      "SMPP: its link's queue delay), whatever the overload limit\n" "Milliseconds (default 300; 0: off)\n")
{
	g_gw->overload.cfg.max_wait_ms = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_ovl_rx_drops, cfg_ovl_rx_drops_cmd, "overload receive-drops <0-1000000>",
      OVL_STR "Datagrams the kernel dropped at a channel's socket because its receive buffer was full (SIP over "
      "UDP): requests lost before the gateway could read them, which come again late\n"
      "High mark, datagrams per second, counted over a tick of 100 ms (default 1: any; 0: not an input)\n")
{
	g_gw->overload.cfg.rx_drops_high = atoi(argv[0]);
	return CMD_SUCCESS;
}

void uigw_overload_vty_write(struct vty *vty)
{
	const struct uigw_overload_cfg *c = &g_gw->overload.cfg;
	struct uigw_overload_cfg def;

	uigw_overload_defaults(&def);
	if (c->store_high != def.store_high || c->store_low != def.store_low)
		vty_out(vty, " overload store-backlog %u %u%s", c->store_high, c->store_low, VTY_NEWLINE);
	if (c->store_delay_high_ms != def.store_delay_high_ms || c->store_delay_low_ms != def.store_delay_low_ms)
		vty_out(vty, " overload store-delay %u %u%s", c->store_delay_high_ms, c->store_delay_low_ms, VTY_NEWLINE);
	if (c->lag_high_ms != def.lag_high_ms || c->lag_low_ms != def.lag_low_ms)
		vty_out(vty, " overload loop-lag %u %u%s", c->lag_high_ms, c->lag_low_ms, VTY_NEWLINE);
	if (c->delay_high_ms != def.delay_high_ms || c->delay_low_ms != def.delay_low_ms)
		vty_out(vty, " overload queue-delay %u %u%s", c->delay_high_ms, c->delay_low_ms, VTY_NEWLINE);
	if (c->window_ms != def.window_ms)
		vty_out(vty, " overload window %u%s", c->window_ms, VTY_NEWLINE);
	if (c->retry_after_s != def.retry_after_s)
		vty_out(vty, " overload retry-after %u%s", c->retry_after_s, VTY_NEWLINE);
	if (c->max_wait_ms != def.max_wait_ms)
		vty_out(vty, " overload max-wait %u%s", c->max_wait_ms, VTY_NEWLINE);
	if (c->rx_drops_high != def.rx_drops_high)
		vty_out(vty, " overload receive-drops %u%s", c->rx_drops_high, VTY_NEWLINE);
}

DEFUN(show_overload, show_overload_cmd, "show overload",
      SHOW_STR "Overload control: state, inputs and their marks, refusals\n")
{
	struct uigw_overload *o = &g_gw->overload;
	char since[32];
	bool active = uigw_overloaded(g_gw);

	if (active)
		vty_out(vty, "Overloaded since %s (began by %s): new dialogs limited to %u/s (%u/s offered in the last "
			"tick: %.1f %% admitted), %" PRIu64 " refused so far%s",
			uigw_utc_str(since, sizeof(since), o->since_ms, "%Y-%m-%d %H:%M:%SZ"), o->why, o->limit,
			o->offered_rate, o->admit_pm / 10.0, o->refused_now, VTY_NEWLINE);
	else if (o->episodes)
		vty_out(vty, "Not overloaded; the last episode (began by %s) ended %s, %" PRIu64 " refused in it%s",
			o->why, uigw_utc_str(since, sizeof(since), o->since_ms, "%Y-%m-%d %H:%M:%SZ"), o->refused_now,
			VTY_NEWLINE);
	else
		vty_out(vty, "Not overloaded (never since the start)%s", VTY_NEWLINE);
	if (o->draining)
		vty_out(vty, " DRAINING since %s: every new dialog refused, %u under way%s",
			uigw_utc_str(since, sizeof(since), o->drain_since_ms, "%Y-%m-%d %H:%M:%SZ"), g_gw->n_dialogs,
			VTY_NEWLINE);
	vty_out(vty, " Store backlog: %u jobs (high %u, low %u%s)%s", uigw_store_queue_depth(g_gw->store),
		o->cfg.store_high, o->cfg.store_low, o->cfg.store_high ? "" : ": not an input", VTY_NEWLINE);
	vty_out(vty, " Store delay: %u ms, at least %u ms over the last %u ms (high %u, low %u%s)%s",
		uigw_store_delay_ms(g_gw->store), o->sdelay.standing_ms, o->cfg.window_ms, o->cfg.store_delay_high_ms,
		o->cfg.store_delay_low_ms, o->cfg.store_delay_high_ms ? "" : ": not an input", VTY_NEWLINE);
	vty_out(vty, " Loop lag: %u ms smoothed, %u ms at most since the last look (high %u, low %u%s)%s", o->lag_ms,
		o->lag_peak_ms, o->cfg.lag_high_ms, o->cfg.lag_low_ms, o->cfg.lag_high_ms ? "" : ": not an input",
		VTY_NEWLINE);
	vty_out(vty, " Queue delay: at least %u ms over the last %u ms, %u ms smoothed, %u ms at most since the last "
		"look (high %u, low %u%s)%s", o->qdelay.standing_ms, o->cfg.window_ms, o->delay_ms, o->delay_peak_ms,
		o->cfg.delay_high_ms, o->cfg.delay_low_ms, o->cfg.delay_high_ms ? "" : ": not an input", VTY_NEWLINE);
	vty_out(vty, " Receive drops: %u/s in the last tick, %" PRIu64 " in all (high %u/s%s)%s", o->rx_drops_rate,
		o->rx_drops, o->cfg.rx_drops_high, o->cfg.rx_drops_high ? "" : ": not an input", VTY_NEWLINE);
	vty_out(vty, " Episodes: %" PRIu64 ", refused in all: %" PRIu64 "; retry-after %u s%s", o->episodes,
		o->refused, o->cfg.retry_after_s, VTY_NEWLINE);
	vty_out(vty, " Requests refused for their wait in the kernel (max-wait %u ms%s): %" PRIu64 "%s",
		o->cfg.max_wait_ms, o->cfg.max_wait_ms ? "" : ": off",
		rate_ctr_group_get_ctr(g_gw->ctrs, UIGW_CTR_BUSY_LATE)->current, VTY_NEWLINE);
	vty_out(vty, " Free heap given back to the system: %" PRIu64 " times, %" PRId64 " KiB of RSS%s", o->trims,
		o->trimmed_kb, VTY_NEWLINE);
	o->lag_peak_ms = 0;
	o->delay_peak_ms = 0;
	return CMD_SUCCESS;
}

DEFUN(drain, drain_cmd, "drain",
      "Refuse every new dialog and push (each channel's busy answer), let those under way finish: maintenance\n")
{
	uigw_drain(g_gw, true);
	vty_out(vty, "Draining: %u dialogs under way; new ones are refused until 'no drain'%s", g_gw->n_dialogs,
		VTY_NEWLINE);
	return CMD_SUCCESS;
}

DEFUN(no_drain, no_drain_cmd, "no drain",
      NO_STR "Admit new dialogs again\n")
{
	uigw_drain(g_gw, false);
	return CMD_SUCCESS;
}

void uigw_overload_vty_init(void)
{
	install_element(ENABLE_NODE, &drain_cmd);
	install_element(ENABLE_NODE, &no_drain_cmd);
	install_element(UIGW_NODE, &cfg_ovl_store_cmd);
	install_element(UIGW_NODE, &cfg_ovl_store_delay_cmd);
	install_element(UIGW_NODE, &cfg_ovl_lag_cmd);
	install_element(UIGW_NODE, &cfg_ovl_delay_cmd);
	install_element(UIGW_NODE, &cfg_ovl_window_cmd);
	install_element(UIGW_NODE, &cfg_ovl_retry_cmd);
	install_element(UIGW_NODE, &cfg_ovl_max_wait_cmd);
	install_element(UIGW_NODE, &cfg_ovl_rx_drops_cmd);
	install_element_ve(&show_overload_cmd);
}
