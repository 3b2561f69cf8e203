/*! \file uigw_vty.c
 *  VTY: the `uigw` and `store` configuration nodes and the operator's views and commands on campaigns,
 *  dialogs and feedback. The test-drive channel's commands are in vty_chan.c. */

#include <errno.h>
#include <string.h>
#include <inttypes.h>
#include <time.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/fsm.h>
#include <osmocom/core/tdef.h>
#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>
#include <osmocom/vty/misc.h>
#include <osmocom/vty/tdef_vty.h>
#include <osmocom/sigtran/osmo_ss7.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/pseudonym.h>
#include <osmocom/uigw/vty/vty.h>
#include <osmocom/uigw/common/vty_nodes.h>
#include <osmocom/uigw/core/campaign.h>
#include <osmocom/uigw/store/store.h>
#include <osmocom/uigw/core/dialog.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/core/chan.h>
#include <osmocom/uigw/core/trigger.h>
#include <osmocom/uigw/core/event.h>
#include <osmocom/uigw/core/proposal.h>
#include <osmocom/uigw/core/extapp.h>
#include <osmocom/uigw/chan/vty.h>

/* the one root object the VTY reaches (vty callbacks carry no context): core/uigw.h's uigw_vty_root */
#define g_gw uigw_vty_root

/* ---------------------------------------------------------------------------------------------------------- */
/* node uigw */

static struct cmd_node uigw_node = {
	.node = UIGW_NODE,
	.prompt = "%s(config-uigw)# ",
	.vtysh = 1,
};

DEFUN(cfg_uigw, cfg_uigw_cmd, "uigw", "Configure the gateway core\n")
{
	vty->node = UIGW_NODE;
	return CMD_SUCCESS;
}

static void set_str(char **dst, const char *val)
{
	osmo_talloc_replace_string(g_gw, dst, val);
}

DEFUN(cfg_campaigns_dir, cfg_campaigns_dir_cmd, "campaigns-dir PATH",
      "Folder of the campaign files (*.conf, libconfig)\n" "Path, relative to the working folder or absolute\n")
{
	set_str(&g_gw->cfg.campaigns_dir, argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_country_code, cfg_country_code_cmd, "country-code <1-999>",
      "Country code for numbers typed in national form\n" "Country code digits, e.g. 49\n")
{
	set_str(&g_gw->cfg.country_code, argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_national_prefix, cfg_national_prefix_cmd, "national-prefix <0-99>",
      "Trunk prefix of national numbers\n" "Digits, e.g. 0\n")
{
	set_str(&g_gw->cfg.national_prefix, argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_pseudonym_secret, cfg_pseudonym_secret_cmd, "pseudonym-secret SECRET",
      "Operator secret of the keyed hash that turns subscriber numbers into pseudonyms (default: a key the "
      "gateway makes at its first start, in the file beside the database named like it plus .key)\n"
      "Secret, at least 16 characters (changing it starts new pseudonyms for everyone)\n")
{
	set_str(&g_gw->cfg.pseudonym_secret, argv[0]);
	if (g_gw->pseudonym_key)
		uigw_pseudonym_key_set(g_gw, argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_no_pseudonym_secret, cfg_no_pseudonym_secret_cmd, "no pseudonym-secret",
      NO_STR "Use the key file beside the database again (from the next start)\n")
{
	TALLOC_FREE(g_gw->cfg.pseudonym_secret);
	return CMD_SUCCESS;
}

DEFUN(cfg_default_language, cfg_default_language_cmd, "default-language LANG",
      "Language when the channel does not tell the subscriber's\n" "ISO 639-1 code, e.g. en\n")
{
	if (strlen(argv[0]) != 2) {
		vty_out(vty, "%% language must be a two-letter ISO 639-1 code%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	set_str(&g_gw->cfg.default_language, argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_max_dialogs, cfg_max_dialogs_cmd, "max-dialogs <1-10000000>",
      "Active dialogs past which channels answer busy\n" "Number of dialogs\n")
{
	g_gw->cfg.max_dialogs = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_push_cap, cfg_push_cap_cmd, "push-cap <1-1000> per <1-31536000>",
      "Frequency cap of network-initiated interactions per subscriber, over every campaign and channel\n"
      "At most this many\n" "Within a rolling window of\n" "Seconds\n")
{
	g_gw->cfg.push_cap_count = atoi(argv[0]);
	g_gw->cfg.push_cap_per = atoi(argv[1]);
	return CMD_SUCCESS;
}

DEFUN(cfg_no_push_cap, cfg_no_push_cap_cmd, "no push-cap",
      NO_STR "No gateway-wide frequency cap (the campaigns' own caps still apply)\n")
{
	g_gw->cfg.push_cap_count = 0;
	g_gw->cfg.push_cap_per = 0;
	return CMD_SUCCESS;
}

DEFUN(cfg_resume_window, cfg_resume_window_cmd, "resume-window <0-3600>",
      "Seconds within which a USSD dialog cut off by the network resumes where it stopped\n"
      "Seconds (0: never resume)\n")
{
	g_gw->cfg.resume_window = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_max_retries, cfg_max_retries_cmd, "invalid-input-retries <1-10>",
      "Invalid answers after which a dialog ends\n" "Number of tries\n")
{
	g_gw->cfg.max_retries = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_ctrl_msg_timeout, cfg_ctrl_msg_timeout_cmd, "ctrl-message-timeout <1-3600>",
      "A CTRL message still incomplete after this long closes its connection (a stalled or slow sender)\n"
      "Seconds (default 10)\n")
{
	g_gw->cfg.ctrl_msg_timeout_s = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_busy_text, cfg_busy_text_cmd, "busy-text .TEXT",
      "Answer when max-dialogs is reached\n" "Text\n")
{
	char *s = argv_concat(argv, argc, 0);
	set_str(&g_gw->cfg.busy_text, s);
	talloc_free(s);
	return CMD_SUCCESS;
}

DEFUN(cfg_unrouted_text, cfg_unrouted_text_cmd, "unrouted-text .TEXT",
      "Answer when no campaign matches the code or keyword\n" "Text\n")
{
	char *s = argv_concat(argv, argc, 0);
	set_str(&g_gw->cfg.unrouted_text, s);
	talloc_free(s);
	return CMD_SUCCESS;
}

DEFUN(cfg_network_code, cfg_network_code_cmd, "network-code MCCMNC",
      "The network's code told to external applications (networkCode)\n" "MCC and MNC, e.g. 26201\n")
{
	if (strlen(argv[0]) < 5 || strlen(argv[0]) > 6 || strspn(argv[0], "0123456789") != strlen(argv[0])) {
		vty_out(vty, "%% MCCMNC is 5 or 6 digits%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	set_str(&g_gw->cfg.network_code, argv[0]);
	return CMD_SUCCESS;
}

#define EXT_ROUTE_STR "Relay a code no campaign serves to an external application (CON/END, doc/extapp.md)\n" \
	"A USSD service code (*123), an SMS short code or a SIP user part\n"

static int route_ext(struct vty *vty, const char *prefix, const char *url, unsigned int timeout_ms)
{
	char err[160];
	int rc = uigw_extapp_set(g_gw, prefix, url, timeout_ms, err, sizeof(err));

	if (rc == -EINVAL || rc == -EEXIST) {
		vty_out(vty, "%% %s%s", err, VTY_NEWLINE);
		return CMD_WARNING;
	}
	if (rc < 0) {
		vty_out(vty, "%% Cannot add the route: %s%s", strerror(-rc), VTY_NEWLINE);
		return CMD_WARNING;
	}
	return CMD_SUCCESS;
}

DEFUN(cfg_route_ext, cfg_route_ext_cmd, "route PREFIX external-app URL",
      EXT_ROUTE_STR "An external application\n" "Its URL (http:// or https://)\n")
{
	return route_ext(vty, argv[0], argv[1], 0);
}

DEFUN(cfg_route_ext_timeout, cfg_route_ext_timeout_cmd, "route PREFIX external-app URL timeout <100-60000>",
      EXT_ROUTE_STR "An external application\n" "Its URL (http:// or https://)\n"
      "How long one step may take (default 5000)\n" "Milliseconds\n")
{
	return route_ext(vty, argv[0], argv[1], atoi(argv[2]));
}

DEFUN(cfg_no_route, cfg_no_route_cmd, "no route PREFIX", NO_STR EXT_ROUTE_STR)
{
	if (uigw_extapp_del(g_gw, argv[0]) < 0) {
		vty_out(vty, "%% No route %s%s", argv[0], VTY_NEWLINE);
		return CMD_WARNING;
	}
	return CMD_SUCCESS;
}

DEFUN(show_routes, show_routes_cmd, "show routes",
      SHOW_STR "Routes to external applications, with their campaign\n")
{
	struct uigw_extapp *e;

	if (llist_empty(&g_gw->extapps))
		vty_out(vty, "No routes to external applications%s", VTY_NEWLINE);
	llist_for_each_entry(e, &g_gw->extapps, list)
		vty_out(vty, " %s -> %s (timeout %u ms, campaign %s, %u dialogs running)%s", e->prefix, e->url,
			e->timeout_ms, e->camp->name, e->camp->refcount - 1, VTY_NEWLINE);
	return CMD_SUCCESS;
}

void uigw_vty_write_str(struct vty *vty, const char *name, const char *val, const char *def)
{
	/* NULL: not set, the default */
	if (val && strcmp(val, def))
		vty_out(vty, " %s %s%s", name, val, VTY_NEWLINE);
}

void uigw_vty_write_uint(struct vty *vty, const char *name, unsigned int val, unsigned int def)
{
	if (val != def)
		vty_out(vty, " %s %u%s", name, val, VTY_NEWLINE);
}
#define write_str uigw_vty_write_str
#define write_uint uigw_vty_write_uint


static int config_write_uigw(struct vty *vty)
{
	const struct uigw_config *c = &g_gw->cfg;
	unsigned int i;

	vty_out(vty, "uigw%s", VTY_NEWLINE);
	write_str(vty, "campaigns-dir", c->campaigns_dir, "etc/campaigns");
	write_str(vty, "country-code", c->country_code, "49");
	write_str(vty, "national-prefix", c->national_prefix, "0");
	if (c->pseudonym_secret)
		vty_out(vty, " pseudonym-secret %s%s", c->pseudonym_secret, VTY_NEWLINE);
	write_str(vty, "default-language", c->default_language, "en");
	write_uint(vty, "max-dialogs", c->max_dialogs, 200000);
	write_uint(vty, "resume-window", c->resume_window, 120);
	write_uint(vty, "invalid-input-retries", c->max_retries, 3);
	write_uint(vty, "ctrl-message-timeout", c->ctrl_msg_timeout_s, 10);
	if (c->push_cap_per)
		vty_out(vty, " push-cap %u per %u%s", c->push_cap_count, c->push_cap_per, VTY_NEWLINE);
	write_str(vty, "busy-text", c->busy_text, "The service is busy. Please try again in a few minutes.");
	write_str(vty, "unrouted-text", c->unrouted_text, "Unknown service code or keyword.");
	uigw_privacy_vty_write(vty);
	uigw_schedule_vty_write(vty);
	uigw_overload_vty_write(vty);
	if (c->network_code)
		vty_out(vty, " network-code %s%s", c->network_code, VTY_NEWLINE);
	{
		struct uigw_extapp *e;

		llist_for_each_entry(e, &g_gw->extapps, list) {
			vty_out(vty, " route %s external-app %s", e->prefix, e->url);
			if (e->timeout_ms != UIGW_EXTAPP_TIMEOUT_MS)
				vty_out(vty, " timeout %u", e->timeout_ms);
			vty_out(vty, "%s", VTY_NEWLINE);
		}
	}
	/* the standard `timer GROUP T VAL` lines, except for groups their channel writes in its own node */
	for (i = 0; g_gw->tdef_groups[i].name; i++)
		if (!(g_gw->tdef_groups_own_node & (1u << i)))
			osmo_tdef_vty_write(vty, g_gw->tdef_groups[i].tdefs, " timer %s ", g_gw->tdef_groups[i].name);
	return CMD_SUCCESS;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* views */

static unsigned int active_dialogs_of(const char *campaign)
{
	struct uigw_dialog *dlg;
	unsigned int n = 0;

	llist_for_each_entry(dlg, &g_gw->dialogs, list)
		if (dlg->camp && !strcmp(dlg->camp->name, campaign))
			n++;
	return n;
}

static void entry_summary(const struct uigw_campaign *c, char *buf, size_t len)
{
	struct osmo_strbuf sb = { .buf = buf, .len = len };
	unsigned int i, k;

	buf[0] = '\0';
	for (i = 0; i < c->entry.n_ussd; i++)
		OSMO_STRBUF_PRINTF(sb, "%s%s", sb.chars_needed ? " " : "", c->entry.ussd[i]);
	for (i = 0; i < c->entry.n_sms; i++)
		for (k = 0; k < c->entry.sms[i].n_keywords; k++)
			OSMO_STRBUF_PRINTF(sb, "%s%s@%s", sb.chars_needed ? " " : "", c->entry.sms[i].keywords[k],
					   c->entry.sms[i].short_code);
	for (i = 0; i < c->entry.n_sip; i++)
		OSMO_STRBUF_PRINTF(sb, "%ssip:%s", sb.chars_needed ? " " : "", c->entry.sip[i]);
	/* started by the network only (triggers, events): say so rather than print nothing */
	if (!sb.chars_needed)
		OSMO_STRBUF_PRINTF(sb, "%s", c->n_on_event ? "(network: events, triggers)" : "(network: triggers)");
}

static void show_proposals(struct vty *vty)
{
	struct uigw_proposal *p;

	llist_for_each_entry(p, &g_gw->proposals, list)
		vty_out(vty, "Proposed by %s, waiting for approval: %s (%u nodes; campaign %s approve|reject)%s",
			p->camp->owner ? p->camp->owner : "the operator", p->camp->name, p->camp->n_nodes,
			p->camp->name, VTY_NEWLINE);
}

DEFUN(show_campaigns, show_campaigns_cmd, "show campaigns",
      SHOW_STR "Campaigns in service\n")
{
	const struct uigw_campaign_set *set = g_gw->campaigns;
	char entries[256];
	unsigned int i;

	if (!set || !set->n) {
		vty_out(vty, "No campaigns in service (folder %s)%s", g_gw->cfg.campaigns_dir, VTY_NEWLINE);
		show_proposals(vty);
		return CMD_SUCCESS;
	}
	vty_out(vty, "%-16s %4s %-8s %5s %6s  %s%s", "Campaign", "Ver", "State", "Nodes", "Active", "Entry points",
		VTY_NEWLINE);
	for (i = 0; i < set->n; i++) {
		const struct uigw_campaign *c = set->c[i];
		entry_summary(c, entries, sizeof(entries));
		vty_out(vty, "%-16s %4u %-8s %5u %6u  %s%s", c->name, c->version, c->enabled ? "enabled" : "disabled",
			c->n_nodes, active_dialogs_of(c->name), entries, VTY_NEWLINE);
	}
	show_proposals(vty);
	return CMD_SUCCESS;
}

static void append(char *buf, size_t len, const char *a, const char *b)
{
	size_t l = strlen(buf);

	if (l < len)
		snprintf(buf + l, len - l, "%s%s", a, b);
}

static const char *tmpl_src(const struct uigw_i18n *t)
{
	return t->n ? t->v[0].tmpl->src : "";
}

static const char *node_name(const struct uigw_campaign *c, int idx)
{
	return idx < 0 ? "(end)" : c->nodes[idx].id;
}

DEFUN(show_campaign, show_campaign_cmd, "show campaign NAME",
      SHOW_STR "One campaign: nodes, entry points, live counts\n" "Campaign name\n")
{
	const struct uigw_campaign *c = uigw_campaign_set_find(g_gw->campaigns, argv[0]);
	int64_t outcomes[_UIGW_OUTCOME_NUM] = { 0 }, responses = 0;
	char buf[512];
	unsigned int i, k;

	if (!c) {
		vty_out(vty, "%% No campaign '%s'%s", argv[0], VTY_NEWLINE);
		return CMD_WARNING;
	}
	vty_out(vty, "Campaign %s, version %u, %s, from %s%s", c->name, c->version,
		c->enabled ? "enabled" : "disabled", c->file ? c->file : "-", VTY_NEWLINE);
	vty_out(vty, " Title: %s%s", tmpl_src(&c->title), VTY_NEWLINE);
	buf[0] = '\0';
	for (i = 0; i < c->n_languages; i++)
		append(buf, sizeof(buf), i ? " " : "", c->languages[i]);
	vty_out(vty, " Languages: %s%s", buf, VTY_NEWLINE);
	buf[0] = '\0';
	for (i = 0; i < _UIGW_CHAN_NUM; i++)
		if (c->channels & (1u << i))
			append(buf, sizeof(buf), buf[0] ? " " : "", uigw_channel_name(i));
	vty_out(vty, " Channels: %s%s%s", buf, c->network_only ? " (network-initiated only)" : "", VTY_NEWLINE);
	if (c->push_cap_per)
		vty_out(vty, " Push cap: %u per %u s per subscriber%s", c->push_cap_count, c->push_cap_per,
			VTY_NEWLINE);
	entry_summary(c, buf, sizeof(buf));
	vty_out(vty, " Entry points: %s%s", buf[0] ? buf : "(none: push or jump only)", VTY_NEWLINE);
	for (i = 0; i < c->n_params; i++)
		vty_out(vty, " Parameter %s (default '%s')%s", c->params[i].name, c->params[i].def, VTY_NEWLINE);
	vty_out(vty, " Nodes:%s", VTY_NEWLINE);
	for (i = 0; i < c->n_nodes; i++) {
		const struct uigw_node *n = &c->nodes[i];
		vty_out(vty, "  %s%-12s %-6s", (int)i == c->start ? "*" : " ", n->id,
			get_value_string(uigw_node_kind_names, n->kind));
		switch (n->kind) {
		case UIGW_NODE_MENU:
		case UIGW_NODE_CHOICE:
			for (k = 0; k < n->n_options; k++)
				vty_out(vty, " %s->%s", n->options[k].key,
					node_name(c, n->options[k].next >= 0 ? n->options[k].next : n->next));
			break;
		case UIGW_NODE_YESNO:
			vty_out(vty, " yes->%s no->%s", node_name(c, n->yes), node_name(c, n->no));
			break;
		default:
			vty_out(vty, " ->%s", node_name(c, n->next));
			break;
		}
		if (n->n_actions)
			vty_out(vty, " [%u action%s]", n->n_actions, n->n_actions > 1 ? "s" : "");
		vty_out(vty, "%s", VTY_NEWLINE);
	}
	if (g_gw->store && uigw_store_campaign_counts(g_gw->store, c->name, outcomes, &responses, true) == 0) {
		vty_out(vty, " Dialogs: %u active, %" PRId64 " completed, %" PRId64 " abandoned, %" PRId64
			" timed out, %" PRId64 " rejected%s", active_dialogs_of(c->name),
			outcomes[UIGW_OUTCOME_COMPLETED], outcomes[UIGW_OUTCOME_ABANDONED],
			outcomes[UIGW_OUTCOME_TIMED_OUT], outcomes[UIGW_OUTCOME_REJECTED], VTY_NEWLINE);
		vty_out(vty, " Responses: %" PRId64 "%s", responses, VTY_NEWLINE);
	}
	return CMD_SUCCESS;
}

DEFUN(show_dialogs, show_dialogs_cmd, "show dialogs",
      SHOW_STR "Active dialogs\n")
{
	struct uigw_dialog *dlg;
	int64_t now = uigw_wall_ms();
	vty_out(vty, "%u active dialogs (max %u)%s", g_gw->n_dialogs, g_gw->cfg.max_dialogs, VTY_NEWLINE);
	llist_for_each_entry(dlg, &g_gw->dialogs, list) {
		vty_out(vty, " %llu %-9s %-12s node %-12s %-11s subscriber %s, %lld s%s",
			(unsigned long long)dlg->id, uigw_channel_name(dlg->channel),
			dlg->camp ? dlg->camp->name : "-",
			dlg->camp && dlg->node >= 0 ? dlg->camp->nodes[dlg->node].id : "-",
			osmo_fsm_inst_state_name(dlg->fi), dlg->pseudonym, (long long)(now - dlg->started_ms) / 1000,
			VTY_NEWLINE);
	}
	return CMD_SUCCESS;
}

struct fb_ctx {
	struct vty *vty;
	char question[64];
};

static void fb_cb(const char *question, const char *channel, const char *value, int64_t count, void *data)
{
	struct fb_ctx *f = data;
	struct vty *vty = f->vty;

	if (strcmp(f->question, question)) {
		OSMO_STRLCPY_ARRAY(f->question, question);
		vty_out(vty, " Question %s:%s", question, VTY_NEWLINE);
	}
	vty_out(vty, "  %-10s %-24s %" PRId64 "%s", channel, value, count, VTY_NEWLINE);
}

DEFUN(show_feedback, show_feedback_cmd, "show feedback NAME",
      SHOW_STR "Distribution of answers of a campaign, per question and channel\n" "Campaign name\n")
{
	struct fb_ctx f = { .vty = vty };
	int rc;

	if (!g_gw->store) {
		vty_out(vty, "%% No store%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	uigw_store_drain(g_gw->store);
	vty_out(vty, "Feedback for campaign %s (all versions):%s", argv[0], VTY_NEWLINE);
	rc = uigw_store_feedback(g_gw->store, argv[0], fb_cb, &f);
	if (rc < 0) {
		vty_out(vty, "%% Store error %d%s", rc, VTY_NEWLINE);
		return CMD_WARNING;
	}
	if (!f.question[0])
		vty_out(vty, " No answers yet%s", VTY_NEWLINE);
	return CMD_SUCCESS;
}

struct spam_ctx {
	struct vty *vty;
	unsigned int rank;
};

static void spam_cb(const char *number, int64_t reports, int64_t last_ms, void *data)
{
	struct spam_ctx *s = data;
	struct vty *vty = s->vty;
	time_t t = last_ms / 1000;
	struct tm tm;
	char ts[32];

	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%SZ", &tm);
	vty_out(vty, "%4u %-17s %8" PRId64 "  %s%s", ++s->rank, number, reports, ts, VTY_NEWLINE);
}

DEFUN(show_spam_top, show_spam_top_cmd, "show spam top <1-1000>",
      SHOW_STR "Spam and robocall reports\n" "The most reported numbers\n" "How many\n")
{
	struct spam_ctx s = { .vty = vty };

	if (!g_gw->store) {
		vty_out(vty, "%% No store%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	uigw_store_drain(g_gw->store);
	vty_out(vty, "Rank Number             Reports  Last report%s", VTY_NEWLINE);
	if (uigw_store_spam_top(g_gw->store, atoi(argv[0]), spam_cb, &s) < 0) {
		vty_out(vty, "%% Store error%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	return CMD_SUCCESS;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* operator commands */

DEFUN(campaign_enable, campaign_enable_cmd, "campaign NAME (enable|disable)",
      "Operate on a campaign\n" "Campaign name\n" "Take it in service\n"
      "Take it out of service (running dialogs finish)\n")
{
	struct uigw_campaign *c = uigw_campaign_set_find(g_gw->campaigns, argv[0]);

	if (!c) {
		vty_out(vty, "%% No campaign '%s'%s", argv[0], VTY_NEWLINE);
		return CMD_WARNING;
	}
	c->enabled = !strcmp(argv[1], "enable");
	LOGP(DCAMP, LOGL_NOTICE, "campaign %s %sd by the operator\n", c->name, argv[1]);
	return CMD_SUCCESS;
}

DEFUN(campaign_approve, campaign_approve_cmd, "campaign NAME (approve|reject)",
      "Operate on a campaign\n" "Campaign name\n"
      "Approve a third party's proposal: it moves into the campaigns folder and into service\n"
      "Reject a third party's proposal: it moves to the rejected folder\n")
{
	char err[512];
	int rc;

	if (!uigw_proposal_find(g_gw, argv[0])) {
		vty_out(vty, "%% No proposed campaign '%s'%s", argv[0], VTY_NEWLINE);
		return CMD_WARNING;
	}
	if (!strcmp(argv[1], "reject")) {
		rc = uigw_proposal_reject(g_gw, argv[0]);
		if (rc < 0)
			vty_out(vty, "%% Rejected, but the file could not be moved or deleted%s", VTY_NEWLINE);
		return rc < 0 ? CMD_WARNING : CMD_SUCCESS;
	}
	err[0] = '\0';
	rc = uigw_proposal_approve(g_gw, argv[0], err, sizeof(err));
	if (rc < 0) {
		vty_out(vty, "%% Not approved: %s%s", err, VTY_NEWLINE);
		return CMD_WARNING;
	}
	vty_out(vty, "%% Campaign %s approved and in service%s", argv[0], VTY_NEWLINE);
	return CMD_SUCCESS;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* the one network-initiated path, and the channels */

DEFUN(trigger, trigger_cmd, "trigger NAME MSISDN [.ARGS]",
      "Start a campaign for a subscriber from the network (on every channel the one way to push)\n"
      "Campaign name\n" "Subscriber number (E.164 or national)\n"
      "'via CHANNEL' (else the campaign's channels order picks one that reaches the subscriber), then campaign "
      "parameters NAME=VALUE; to=URI gives the subscriber's SIP URI, lang=xx the language\n")
{
	struct uigw_trigger t;
	struct uigw_trigger_res res;
	bool want_channel = false;
	char *words = NULL;
	int i, rc;

	uigw_trigger_init(&t, argv[0], argv[1]);
	/* the words are split in place: copies that live until the trigger is done */
	for (i = 2; i < argc; i++) {
		char *w = talloc_strdup(tall_vty_ctx, argv[i]);

		if (!w)
			return CMD_WARNING;
		if (!words)
			words = w;
		else
			talloc_steal(words, w);
		rc = uigw_trigger_add_arg(&t, w, want_channel);
		if (rc < 0) {
			vty_out(vty, "%% %s: %s%s", argv[i], want_channel ? "no such channel" : rc == -E2BIG ?
				"too many parameters" : "expected via CHANNEL or NAME=VALUE", VTY_NEWLINE);
			talloc_free(words);
			return CMD_WARNING;
		}
		want_channel = rc == 1;
	}
	if (want_channel) {
		vty_out(vty, "%% via needs a channel%s", VTY_NEWLINE);
		talloc_free(words);
		return CMD_WARNING;
	}
	rc = uigw_trigger(g_gw, &t, &res);
	talloc_free(words);
	if (rc < 0) {
		vty_out(vty, "%% Trigger failed: %s%s", strerror(-rc), VTY_NEWLINE);
		return CMD_WARNING;
	}
	if (rc > 0) {
		vty_out(vty, "%% Refused: %s (%s)%s%s%s", uigw_refusal_name(res.refusal), uigw_refusal_desc(res.refusal),
			res.detail[0] ? ": " : "", res.detail, VTY_NEWLINE);
		return CMD_WARNING;
	}
	if (res.deferred) {
		char until[32];

		vty_out(vty, "%% Deferred %s for %s until %s UTC (%s)%s", argv[0], res.msisdn,
			uigw_utc_str(until, sizeof(until), res.deferred_until_ms, "%Y-%m-%d %H:%M:%S"),
			res.deferred_reason, VTY_NEWLINE);
		return CMD_SUCCESS;
	}
	vty_out(vty, "%% Triggered %s for %s via %s: dialog %llu%s", argv[0], res.msisdn,
		uigw_channel_name(res.channel), (unsigned long long)res.dialog, VTY_NEWLINE);
	/* the test drive: what the subscriber got */
	if (res.channel == UIGW_CHAN_VTY)
		uigw_vty_chan_flush(g_gw, vty);
	return CMD_SUCCESS;
}

static void event_hit_vty(const struct uigw_event_hit *hit, void *data)
{
	struct vty *vty = data;

	switch (hit->result) {
	case UIGW_EVENT_TRIGGERED:
		vty_out(vty, "%% %s: triggered via %s: dialog %llu%s", hit->campaign->name,
			uigw_channel_name(hit->res.channel), (unsigned long long)hit->res.dialog, VTY_NEWLINE);
		break;
	case UIGW_EVENT_REFUSED:
		vty_out(vty, "%% %s: refused: %s%s%s%s", hit->campaign->name, uigw_refusal_name(hit->res.refusal),
			hit->res.detail[0] ? ": " : "", hit->res.detail, VTY_NEWLINE);
		break;
	default:
		vty_out(vty, "%% %s: %s%s", hit->campaign->name, get_value_string(uigw_event_result_names, hit->result),
			VTY_NEWLINE);
		break;
	}
}

DEFUN(event, event_cmd, "event TYPE MSISDN [.ARGS]",
      "Offer a network event to the campaigns that listen to it (on_event), as POST /v1/events does\n"
      "Event type: call-ended, crs-played, dc-app-closed, spam-suspected or a custom one\n"
      "Subscriber number (E.164 or national)\n"
      "'via CHANNEL' (via vty: the test drive), then event parameters NAME=VALUE (caller=+4930123 duration=95)\n")
{
	struct uigw_trigger t;
	struct uigw_event ev = { .type = argv[0], .msisdn = argv[1], .via = -1 };
	bool want_channel = false;
	char *words = talloc_new(tall_vty_ctx);
	unsigned int k;
	int i, rc;

	uigw_trigger_init(&t, NULL, argv[1]);
	for (i = 2; i < argc; i++) {
		char *w = talloc_strdup(words, argv[i]);

		rc = w ? uigw_trigger_add_arg(&t, w, want_channel) : -ENOMEM;
		if (rc < 0) {
			vty_out(vty, "%% %s: %s%s", argv[i], want_channel ? "no such channel" : rc == -E2BIG ?
				"too many parameters" : "expected via CHANNEL or NAME=VALUE", VTY_NEWLINE);
			talloc_free(words);
			return CMD_WARNING;
		}
		want_channel = rc == 1;
	}
	ev.via = t.via;
	for (k = 0; k < t.n_params && k < UIGW_EVENT_MAX_PARAMS; k++) {
		ev.param_names[k] = t.param_names[k];
		ev.param_values[k] = t.param_values[k];
	}
	ev.n_params = k;
	rc = uigw_event(g_gw, &ev, event_hit_vty, vty);
	talloc_free(words);
	if (rc < 0) {
		vty_out(vty, "%% Event failed: %s%s", strerror(-rc), VTY_NEWLINE);
		return CMD_WARNING;
	}
	vty_out(vty, "%% Event %s: %d campaigns started%s", argv[0], rc, VTY_NEWLINE);
	if (ev.via == UIGW_CHAN_VTY)
		uigw_vty_chan_flush(g_gw, vty);
	return CMD_SUCCESS;
}

static void show_one_channel(struct vty *vty, struct uigw_chan *ch)
{
	vty_out(vty, "Channel %s: %s, %s%s", uigw_channel_name(ch->ops->channel), ch->open ? "open" : "closed",
		ch->ops->push ? "pushes offered" : "no pushes", VTY_NEWLINE);
	if (!ch->ops->push && ch->ops->no_push_why)
		vty_out(vty, " (%s)%s", ch->ops->no_push_why, VTY_NEWLINE);
}

DEFUN(show_channels, show_channels_cmd, "show channels",
      SHOW_STR "The channels of this gateway: open or not, whether they start network-initiated dialogs\n")
{
	unsigned int i;

	for (i = 0; i < _UIGW_CHAN_NUM; i++)
		if (g_gw->chan[i])
			show_one_channel(vty, g_gw->chan[i]);
	return CMD_SUCCESS;
}

DEFUN(show_channel, show_channel_cmd, "show channel (map|gsup|smpp-ussd|smpp-sms|ims-msg|ussi|vty|api)",
      SHOW_STR "One channel: state and counters\n" "SS7 MAP USSD\n" "OsmoHLR EUSE\n" "USSD over SMPP\n"
      "SMS over SMPP\n" "SIP MESSAGE\n" "USSD over IMS\n" "Operator test drive\n" "Third-party API\n")
{
	struct uigw_chan *ch = uigw_chan_get(g_gw, uigw_channel_by_name(argv[0]));

	if (!ch) {
		vty_out(vty, "%% Channel %s is not part of this gateway%s", argv[0], VTY_NEWLINE);
		return CMD_WARNING;
	}
	show_one_channel(vty, ch);
	if (ch->ops->show)
		ch->ops->show(ch, vty);
	return CMD_SUCCESS;
}

DEFUN(reload_campaigns, reload_campaigns_cmd, "reload campaigns",
      "Reload\n" "Read the campaign folder again; on any error the campaigns in service stay\n")
{
	char err[512];
	unsigned int i;

	if (uigw_campaigns_reload(g_gw, err, sizeof(err)) < 0) {
		vty_out(vty, "%% Reload refused, campaigns in service unchanged: %s%s", err, VTY_NEWLINE);
		return CMD_WARNING;
	}
	vty_out(vty, "Reloaded %u campaigns:", g_gw->campaigns->n);
	for (i = 0; i < g_gw->campaigns->n; i++)
		vty_out(vty, " %s(v%u)", g_gw->campaigns->c[i]->name, g_gw->campaigns->c[i]->version);
	vty_out(vty, "%s", VTY_NEWLINE);
	return CMD_SUCCESS;
}


int uigw_vty_timers_init(struct uigw *gw)
{
	/* the group names become part of the commands' syntax: call once, after every group was added */
	osmo_tdef_vty_groups_init(UIGW_NODE, gw->tdef_groups);
	return 0;
}

int uigw_vty_init(struct uigw *gw)
{
	if (!uigw_vty_root)
		uigw_vty_root = gw;

	install_element(CONFIG_NODE, &cfg_uigw_cmd);
	install_node(&uigw_node, config_write_uigw);
	install_element(UIGW_NODE, &cfg_campaigns_dir_cmd);
	install_element(UIGW_NODE, &cfg_country_code_cmd);
	install_element(UIGW_NODE, &cfg_national_prefix_cmd);
	install_element(UIGW_NODE, &cfg_pseudonym_secret_cmd);
	install_element(UIGW_NODE, &cfg_no_pseudonym_secret_cmd);
	install_element(UIGW_NODE, &cfg_default_language_cmd);
	install_element(UIGW_NODE, &cfg_max_dialogs_cmd);
	install_element(UIGW_NODE, &cfg_push_cap_cmd);
	install_element(UIGW_NODE, &cfg_no_push_cap_cmd);
	install_element(UIGW_NODE, &cfg_resume_window_cmd);
	install_element(UIGW_NODE, &cfg_max_retries_cmd);
	install_element(UIGW_NODE, &cfg_busy_text_cmd);
	install_element(UIGW_NODE, &cfg_ctrl_msg_timeout_cmd);
	install_element(UIGW_NODE, &cfg_unrouted_text_cmd);
	install_element(UIGW_NODE, &cfg_network_code_cmd);
	install_element(UIGW_NODE, &cfg_route_ext_cmd);
	install_element(UIGW_NODE, &cfg_route_ext_timeout_cmd);
	install_element(UIGW_NODE, &cfg_no_route_cmd);

	uigw_store_vty_init();


	install_element_ve(&show_campaigns_cmd);
	install_element_ve(&show_routes_cmd);
	install_element_ve(&show_campaign_cmd);
	install_element_ve(&show_dialogs_cmd);
	install_element_ve(&show_feedback_cmd);
	install_element_ve(&show_spam_top_cmd);
	uigw_privacy_vty_init();
	uigw_schedule_vty_init();
	uigw_overload_vty_init();
	install_element(ENABLE_NODE, &campaign_enable_cmd);
	install_element(ENABLE_NODE, &campaign_approve_cmd);
	install_element(ENABLE_NODE, &reload_campaigns_cmd);
	install_element(ENABLE_NODE, &trigger_cmd);
	install_element(ENABLE_NODE, &event_cmd);
	install_element_ve(&show_channels_cmd);
	install_element_ve(&show_channel_cmd);
	return 0;
}

int uigw_vty_go_parent(struct vty *vty)
{
	if (vty->node == L_CS7_SCCPADDR_GT_NODE) {
		/* libosmo-sigtran 1.6 clears the index here, and libosmovty's parent stack restores only the node:
		 * the sccp-address node needs its entry, which the global-title node keeps as its index */
		vty->node = L_CS7_SCCPADDR_NODE;
		return vty->node;
	}
	if (osmo_ss7_is_config_node(vty, vty->node))
		return osmo_ss7_vty_go_parent(vty);
	switch (vty->node) {
	case SMSC_NODE:
		vty->node = SMPP_NODE;
		break;
	case API_TENANT_NODE:
		vty->node = API_NODE;
		vty->index = uigw_vty_root ? uigw_vty_root->api : NULL;
		break;
	default:
		vty->node = CONFIG_NODE;
		vty->index = NULL;
		break;
	}
	return vty->node;
}

int uigw_vty_is_config_node(struct vty *vty, int node)
{
	if (osmo_ss7_is_config_node(vty, node))
		return 1;
	return node >= _LAST_OSMOVTY_NODE;
}
