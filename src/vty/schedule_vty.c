/*! \file schedule_vty.c
 *  When pushes may go out (core/schedule.h): quiet hours and time zones in node `uigw`, and `show deferred`. */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/number.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/schedule.h>
#include <osmocom/uigw/core/campaign.h>
#include <osmocom/uigw/vty/vty.h>
#include <osmocom/uigw/common/vty_nodes.h>

#define g_gw uigw_vty_root

DEFUN(cfg_quiet_hours, cfg_quiet_hours_cmd, "quiet-hours HH:MM HH:MM",
      "No network-initiated interaction between these times of the subscriber's day (a campaign's own "
      "quiet_hours win)\n" "From (00:00..23:59)\n" "Until (the first minute allowed again)\n")
{
	int from = uigw_hhmm_parse(argv[0]), to = uigw_hhmm_parse(argv[1]);

	if (from < 0 || to < 0 || from == to) {
		vty_out(vty, "%% Two different times HH:MM expected%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	g_gw->cfg.quiet_from = from;
	g_gw->cfg.quiet_to = to;
	return CMD_SUCCESS;
}

DEFUN(cfg_no_quiet_hours, cfg_no_quiet_hours_cmd, "no quiet-hours",
      NO_STR "Pushes at any time of day (default; campaigns may still have their own)\n")
{
	g_gw->cfg.quiet_from = g_gw->cfg.quiet_to = -1;
	return CMD_SUCCESS;
}

DEFUN(cfg_quiet_action, cfg_quiet_action_cmd, "quiet-hours-action (defer|refuse)",
      "What a push inside the quiet hours gets\n"
      "Put off to the minute they end, kept in the store (default)\n" "Refused (quiet_hours)\n")
{
	g_gw->cfg.quiet_refuse = !strcmp(argv[0], "refuse");
	return CMD_SUCCESS;
}

DEFUN(cfg_defer_max, cfg_defer_max_cmd, "defer-max <1-10000000>",
      "Pushes put off (quiet hours, pacing) at most; more are refused busy (default 100000)\n" "Pushes\n")
{
	g_gw->cfg.defer_max = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_tz_default, cfg_tz_default_cmd, "time-zone default TZ",
      "Time zones of the subscribers, for quiet hours\n"
      "Of a subscriber no rule matches (default: the machine's local time)\n" "IANA name, e.g. Europe/Berlin\n")
{
	if (!uigw_zone_valid(argv[0])) {
		vty_out(vty, "%% Unknown time zone %s (see /usr/share/zoneinfo)%s", argv[0], VTY_NEWLINE);
		return CMD_WARNING;
	}
	osmo_talloc_replace_string(g_gw, &g_gw->cfg.tz_default, argv[0]);
	return CMD_SUCCESS;
}

static struct uigw_tz_rule *rule_find(bool visited, const char *key)
{
	struct uigw_tz_rule *r;

	llist_for_each_entry(r, &g_gw->cfg.tz_rules, list) {
		if (r->visited == visited && !strcmp(r->key, key))
			return r;
	}
	return NULL;
}

DEFUN(cfg_tz_rule, cfg_tz_rule_cmd, "time-zone (number|visited) KEY TZ",
      "Time zones of the subscribers, for quiet hours\n"
      "Subscribers whose number starts with KEY (country code and more digits, without +)\n"
      "Roaming subscribers whose visited network (P-Visited-Network-ID) starts with KEY\n"
      "Number prefix or network name\n" "IANA name, e.g. Europe/Paris\n")
{
	bool visited = !strcmp(argv[0], "visited");
	const char *key = argv[1][0] == '+' && !visited ? argv[1] + 1 : argv[1];
	struct uigw_tz_rule *r;

	if (!uigw_zone_valid(argv[2])) {
		vty_out(vty, "%% Unknown time zone %s (see /usr/share/zoneinfo)%s", argv[2], VTY_NEWLINE);
		return CMD_WARNING;
	}
	if (!visited && (!key[0] || strspn(key, "0123456789") != strlen(key))) {
		vty_out(vty, "%% A number prefix is digits%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	r = rule_find(visited, key);
	if (!r) {
		r = talloc_zero(g_gw, struct uigw_tz_rule);
		if (!r)
			return CMD_WARNING;
		r->visited = visited;
		r->key = talloc_strdup(r, key);
		llist_add_tail(&r->list, &g_gw->cfg.tz_rules);
	}
	osmo_talloc_replace_string(r, &r->zone, argv[2]);
	return CMD_SUCCESS;
}

DEFUN(cfg_no_tz_rule, cfg_no_tz_rule_cmd, "no time-zone (number|visited) KEY",
      NO_STR "Time zones of the subscribers, for quiet hours\n" "A number prefix rule\n" "A visited network rule\n"
      "Its prefix or name\n")
{
	bool visited = !strcmp(argv[0], "visited");
	struct uigw_tz_rule *r = rule_find(visited, argv[1][0] == '+' && !visited ? argv[1] + 1 : argv[1]);

	if (!r) {
		vty_out(vty, "%% No such rule%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	llist_del(&r->list);
	talloc_free(r);
	return CMD_SUCCESS;
}

DEFUN(cfg_roaming_policy, cfg_roaming_policy_cmd, "roaming-policy (allow|deny|notice-only)",
      "Roaming subscribers, for campaigns that say nothing (campaign file: roaming = ...)\n"
      "Served as at home (default)\n" "Refused (roaming): what they begin and what is pushed to them\n"
      "Told, never asked: a push goes out only when the campaign starts with a notice\n")
{
	g_gw->cfg.roaming_policy = get_string_value(uigw_roaming_policy_names, argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_test_results, cfg_test_results_cmd, "test-drive-results (exclude|include)",
      "The dialogs of the operator's test drive (channel vty) in results, summaries, webhooks and campaign "
      "counters (the API's include_test=true asks for them anyway; the VTY always shows them)\n"
      "Left out (default)\n" "Counted like any other channel's (next start for webhooks)\n")
{
	g_gw->cfg.test_results = !strcmp(argv[0], "include");
	return CMD_SUCCESS;
}

void uigw_schedule_vty_write(struct vty *vty)
{
	const struct uigw_config *c = &g_gw->cfg;
	const struct uigw_tz_rule *r;

	if (c->quiet_from >= 0)
		vty_out(vty, " quiet-hours %02d:%02d %02d:%02d%s", c->quiet_from / 60, c->quiet_from % 60,
			c->quiet_to / 60, c->quiet_to % 60, VTY_NEWLINE);
	if (c->quiet_refuse)
		vty_out(vty, " quiet-hours-action refuse%s", VTY_NEWLINE);
	if (c->defer_max != 100000)
		vty_out(vty, " defer-max %u%s", c->defer_max, VTY_NEWLINE);
	if (c->test_results)
		vty_out(vty, " test-drive-results include%s", VTY_NEWLINE);
	if (c->roaming_policy != UIGW_ROAM_ALLOW)
		vty_out(vty, " roaming-policy %s%s", get_value_string(uigw_roaming_policy_names, c->roaming_policy),
			VTY_NEWLINE);
	if (c->tz_default)
		vty_out(vty, " time-zone default %s%s", c->tz_default, VTY_NEWLINE);
	llist_for_each_entry(r, &c->tz_rules, list)
		vty_out(vty, " time-zone %s %s %s%s", r->visited ? "visited" : "number", r->key, r->zone, VTY_NEWLINE);
}

DEFUN(show_deferred, show_deferred_cmd, "show deferred [<1-1000>]",
      SHOW_STR "Pushes put off by quiet hours or pacing, the next ones first\n" "How many to list (default 20)\n")
{
	const struct uigw_deferred *d;
	unsigned int n = argc ? atoi(argv[0]) : 20, i = 0;
	char due[32];

	vty_out(vty, "%u pushes put off (defer-max %u)%s", g_gw->n_deferred, g_gw->cfg.defer_max, VTY_NEWLINE);
	llist_for_each_entry(d, &g_gw->deferred, list) {
		if (i++ >= n)
			break;
		uigw_utc_str(due, sizeof(due), d->due_ms, "%Y-%m-%d %H:%M:%S");
		vty_out(vty, " %s UTC  %-12s %-16s %-11s via %s%s", due, d->campaign, d->msisdn, d->reason,
			d->via >= 0 ? uigw_channel_name(d->via) : "(chosen then)", VTY_NEWLINE);
	}
	return CMD_SUCCESS;
}

DEFUN(show_quiet, show_quiet_cmd, "show quiet-hours MSISDN",
      SHOW_STR "The time zone and local time of a subscriber, and whether a push would go out now\n"
      "Subscriber number (E.164)\n")
{
	char msisdn[UIGW_MSISDN_MAXLEN];
	const char *zone;
	int64_t now = uigw_wall_ms();
	long off;
	int64_t local;
	int m;
	const struct uigw_config *c = &g_gw->cfg;
	bool in;

	if (uigw_e164_normalize(argv[0], c->country_code, c->national_prefix, msisdn, sizeof(msisdn)) < 0) {
		vty_out(vty, "%% Not a subscriber number: %s%s", argv[0], VTY_NEWLINE);
		return CMD_WARNING;
	}
	zone = uigw_subscriber_zone(g_gw, msisdn);
	off = uigw_zone_offset(zone, now / 1000);
	local = now / 1000 + off;
	m = (int)((local / 60) % 1440);
	in = uigw_quiet_inside(c->quiet_from, c->quiet_to, m);
	vty_out(vty, "%s: time zone %s (UTC%+ld:%02ld), local time %02d:%02d, gateway quiet hours %s%s", msisdn,
		zone ? zone : "local", off / 3600, labs(off % 3600) / 60, m / 60, m % 60,
		c->quiet_from < 0 ? "none" : in ? "now" : "not now", VTY_NEWLINE);
	return CMD_SUCCESS;
}

void uigw_schedule_vty_init(void)
{
	install_element(UIGW_NODE, &cfg_quiet_hours_cmd);
	install_element(UIGW_NODE, &cfg_no_quiet_hours_cmd);
	install_element(UIGW_NODE, &cfg_quiet_action_cmd);
	install_element(UIGW_NODE, &cfg_defer_max_cmd);
	install_element(UIGW_NODE, &cfg_roaming_policy_cmd);
	install_element(UIGW_NODE, &cfg_test_results_cmd);
	install_element(UIGW_NODE, &cfg_tz_default_cmd);
	install_element(UIGW_NODE, &cfg_tz_rule_cmd);
	install_element(UIGW_NODE, &cfg_no_tz_rule_cmd);
	install_element_ve(&show_deferred_cmd);
	install_element_ve(&show_quiet_cmd);
}
