/*! \file api_vty.c
 *  VTY of the HTTP API: node `api` (listener, limits, TLS) with its `tenant NAME` nodes (what a third party may
 *  do), the enable-node commands that create and revoke keys, and `show api`. */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>
#include <osmocom/vty/misc.h>
#include <osmocom/uigw/common/channel.h>
#include <osmocom/uigw/common/vty_nodes.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/campaign.h>
#include "api_priv.h"

static struct uigw_api *root_api(void)
{
	return uigw_vty_root ? uigw_vty_root->api : NULL;
}

static struct cmd_node api_node = {
	.node = API_NODE,
	.prompt = "%s(config-api)# ",
	.vtysh = 1,
};

static struct cmd_node tenant_node = {
	.node = API_TENANT_NODE,
	.prompt = "%s(config-api-tenant)# ",
	.vtysh = 1,
};

static void next_start(struct vty *vty)
{
	if (vty->type != VTY_FILE)
		vty_out(vty, "%% Applies at the next start of osmo-uigw%s", VTY_NEWLINE);
}

DEFUN(cfg_api, cfg_api_cmd, "api",
      "Configure the HTTP API (third parties, the network's systems); without this node no HTTP is served\n")
{
	struct uigw_api *api = root_api();

	if (!api) {
		vty_out(vty, "%% No HTTP API in this gateway%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	api->cfg.configured = true;
	vty->index = api;
	vty->node = API_NODE;
	return CMD_SUCCESS;
}

DEFUN(cfg_api_bind, cfg_api_bind_cmd, "bind ADDR <1-65535>",
      "Address and TCP port to listen on (default 127.0.0.1 8090)\n" "IPv4 or IPv6 address\n" "Port\n")
{
	struct uigw_api *api = vty->index;

	osmo_talloc_replace_string(api, &api->cfg.bind_addr, argv[0]);
	api->cfg.port = atoi(argv[1]);
	next_start(vty);
	return CMD_SUCCESS;
}

DEFUN(cfg_api_tls, cfg_api_tls_cmd, "tls certificate FILE key FILE",
      "Serve HTTPS (GnuTLS through libmicrohttpd)\n" "PEM certificate (chain)\n" "File\n" "PEM private key\n"
      "File\n")
{
	struct uigw_api *api = vty->index;

	osmo_talloc_replace_string(api, &api->cfg.tls_cert, argv[0]);
	osmo_talloc_replace_string(api, &api->cfg.tls_key, argv[1]);
	next_start(vty);
	return CMD_SUCCESS;
}

DEFUN(cfg_api_no_tls, cfg_api_no_tls_cmd, "no tls", NO_STR "Serve plain HTTP (default)\n")
{
	struct uigw_api *api = vty->index;

	TALLOC_FREE(api->cfg.tls_cert);
	TALLOC_FREE(api->cfg.tls_key);
	next_start(vty);
	return CMD_SUCCESS;
}

DEFUN(cfg_api_maxconn, cfg_api_maxconn_cmd, "max-connections <1-65535>",
      "Open connections at most; more are refused (default 1024)\n" "Connections\n")
{
	((struct uigw_api *)vty->index)->cfg.max_connections = atoi(argv[0]);
	next_start(vty);
	return CMD_SUCCESS;
}

DEFUN(cfg_api_maxconn_ip, cfg_api_maxconn_ip_cmd, "max-connections-per-ip <0-65535>",
      "Open connections from one address at most (default 0: no limit of its own)\n" "Connections\n")
{
	((struct uigw_api *)vty->index)->cfg.max_connections_per_ip = atoi(argv[0]);
	next_start(vty);
	return CMD_SUCCESS;
}

DEFUN(cfg_api_metrics_public, cfg_api_metrics_public_cmd, "metrics public",
      "GET /metrics (Prometheus)\n" "Answer it without a key (bind the API to an interface only the monitoring reaches)\n")
{
	((struct uigw_api *)vty->index)->cfg.metrics_public = true;
	return CMD_SUCCESS;
}

DEFUN(cfg_api_no_metrics_public, cfg_api_no_metrics_public_cmd, "no metrics public",
      NO_STR "GET /metrics (Prometheus)\n" "Only the operator's keys with scope metrics (default)\n")
{
	((struct uigw_api *)vty->index)->cfg.metrics_public = false;
	return CMD_SUCCESS;
}

DEFUN(cfg_api_idle, cfg_api_idle_cmd, "idle-timeout <1-3600>",
      "Close a connection that sent nothing for this long, a slow client included (default 10)\n" "Seconds\n")
{
	((struct uigw_api *)vty->index)->cfg.idle_timeout = atoi(argv[0]);
	next_start(vty);
	return CMD_SUCCESS;
}

DEFUN(cfg_api_summary_cache, cfg_api_summary_cache_cmd, "summary-cache <0-60000>",
      "Serve a campaign's summary computed at most this long ago (default 1000; 0: compute for every request)\n"
      "Milliseconds\n")
{
	((struct uigw_api *)vty->index)->summary_cache_ms = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_api_ui_dir, cfg_api_ui_dir_cmd, "ui-dir PATH",
      "Folder of the dashboard's files served at /ui/ (default: the installed ones)\n" "Path\n")
{
	struct uigw_api *api = vty->index;

	osmo_talloc_replace_string(api, &api->cfg.ui_dir, argv[0]);
	return CMD_SUCCESS;
}

#define WEBHOOK_STR "Delivery of webhooks (POST /v1/webhooks)\n"

DEFUN(cfg_api_wh_timeout, cfg_api_wh_timeout_cmd, "webhook timeout <100-60000>",
      WEBHOOK_STR "One delivery attempt at most, connecting included (default 5000)\n" "Milliseconds\n")
{
	((struct uigw_api *)vty->index)->cfg.wh.timeout_ms = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_api_wh_max_age, cfg_api_wh_max_age_cmd, "webhook max-age <1-2592000>",
      WEBHOOK_STR "Retry an event this long, then dead-letter it (default 86400)\n" "Seconds\n")
{
	((struct uigw_api *)vty->index)->cfg.wh.max_age_s = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_api_wh_backoff, cfg_api_wh_backoff_cmd, "webhook backoff <10-600000> <10-86400000>",
      WEBHOOK_STR "Wait after failed attempts: MIN, doubled per failure, at most MAX (default 1000 600000)\n"
      "Milliseconds after the first failure\n" "Milliseconds at most\n")
{
	struct uigw_api *api = vty->index;
	unsigned int min = atoi(argv[0]), max = atoi(argv[1]);

	if (max < min) {
		vty_out(vty, "%% MAX must not be less than MIN%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	api->cfg.wh.backoff_min_ms = min;
	api->cfg.wh.backoff_max_ms = max;
	return CMD_SUCCESS;
}

DEFUN(cfg_api_wh_in_flight, cfg_api_wh_in_flight_cmd, "webhook max-in-flight <1-256>",
      WEBHOOK_STR "Attempts at once per webhook (default 16; read at start)\n" "Requests\n")
{
	((struct uigw_api *)vty->index)->cfg.wh.max_in_flight = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_api_wh_per_tenant, cfg_api_wh_per_tenant_cmd, "webhook max-per-tenant <0-1000>",
      WEBHOOK_STR "Webhooks one tenant may create (default 10)\n" "Webhooks\n")
{
	((struct uigw_api *)vty->index)->cfg.wh.max_per_tenant = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_api_wh_poll, cfg_api_wh_poll_cmd, "webhook poll-interval <10-10000>",
      WEBHOOK_STR "Read the outbox for new events this often (default 100)\n" "Milliseconds\n")
{
	((struct uigw_api *)vty->index)->cfg.wh.poll_ms = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_api_wh_https, cfg_api_wh_https_cmd, "webhook require-https",
      WEBHOOK_STR "Refuse http:// URLs in new webhooks\n")
{
	((struct uigw_api *)vty->index)->cfg.wh.require_https = true;
	return CMD_SUCCESS;
}

DEFUN(cfg_api_no_wh_https, cfg_api_no_wh_https_cmd, "no webhook require-https",
      NO_STR WEBHOOK_STR "Allow http:// URLs too (default)\n")
{
	((struct uigw_api *)vty->index)->cfg.wh.require_https = false;
	return CMD_SUCCESS;
}

DEFUN(cfg_api_shutdown, cfg_api_shutdown_cmd, "shutdown", "Do not listen for HTTP requests\n")
{
	((struct uigw_api *)vty->index)->cfg.enabled = false;
	next_start(vty);
	return CMD_SUCCESS;
}

DEFUN(cfg_api_no_shutdown, cfg_api_no_shutdown_cmd, "no shutdown", NO_STR "Listen for HTTP requests (default)\n")
{
	((struct uigw_api *)vty->index)->cfg.enabled = true;
	next_start(vty);
	return CMD_SUCCESS;
}

#define TENANT_STR "A party that uses the API: operator (built in) or a third party\n" "Tenant name (a-z 0-9 _ -)\n"

DEFUN(cfg_api_tenant, cfg_api_tenant_cmd, "tenant NAME", TENANT_STR)
{
	struct uigw_api *api = vty->index;
	struct uigw_api_tenant *t = uigw_api_tenant_get(api, argv[0]);

	if (!t) {
		vty_out(vty, "%% Bad tenant name '%s' (1..32 of a-z 0-9 _ -)%s", argv[0], VTY_NEWLINE);
		return CMD_WARNING;
	}
	vty->index = t;
	vty->node = API_TENANT_NODE;
	return CMD_SUCCESS;
}

DEFUN(cfg_api_no_tenant, cfg_api_no_tenant_cmd, "no tenant NAME", NO_STR TENANT_STR)
{
	struct uigw_api *api = vty->index;
	struct uigw_api_tenant *t = uigw_api_tenant_find(api, argv[0]);

	if (!t) {
		vty_out(vty, "%% No tenant '%s'%s", argv[0], VTY_NEWLINE);
		return CMD_WARNING;
	}
	if (t->is_operator) {
		vty_out(vty, "%% The operator tenant is built in%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	/* its keys stay in the store, but authenticate no one while the tenant is gone */
	uigw_api_tenant_del(api, t);
	return CMD_SUCCESS;
}

DEFUN(cfg_tenant_push, cfg_tenant_push_cmd, "push (allowed|forbidden)",
      "May the tenant trigger network-initiated dialogs\n" "Yes (default)\n" "No\n")
{
	struct uigw_api_tenant *t = vty->index;

	t->may_push = !strcmp(argv[0], "allowed");
	return CMD_SUCCESS;
}

DEFUN(cfg_tenant_channels, cfg_tenant_channels_cmd, "channels .CHANNEL",
      "The channels the tenant may name in a trigger's via (default: all)\n"
      "Channel names (map gsup smpp-ussd smpp-sms ims-msg ussi vty), or all\n")
{
	struct uigw_api_tenant *t = vty->index;
	uint32_t mask = 0;
	int i, ch;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "all")) {
			mask = UIGW_CHAN_MASK_ALL;
			continue;
		}
		ch = uigw_channel_by_name(argv[i]);
		if (ch < 0) {
			vty_out(vty, "%% Unknown channel '%s'%s", argv[i], VTY_NEWLINE);
			return CMD_WARNING;
		}
		mask |= 1u << ch;
	}
	t->channels = mask;
	return CMD_SUCCESS;
}

DEFUN(cfg_tenant_rate, cfg_tenant_rate_cmd, "rate-limit <0-1000000>",
      "Requests per second per key, bursts of twice that; more get 429 (default 50; operator 0)\n"
      "Requests per second (0: no limit)\n")
{
	struct uigw_api_tenant *t = vty->index;

	t->rate_limit = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_tenant_max_nodes, cfg_tenant_max_nodes_cmd, "max-nodes <1-200>",
      "Nodes a proposed campaign may have at most (default 20)\n" "Nodes\n")
{
	((struct uigw_api_tenant *)vty->index)->max_nodes = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_tenant_max_proposals, cfg_tenant_max_proposals_cmd, "max-proposals <1-1000>",
      "Proposals of the tenant that may wait for approval at once (default 10); more get 409\n" "Proposals\n")
{
	((struct uigw_api_tenant *)vty->index)->max_proposals = atoi(argv[0]);
	return CMD_SUCCESS;
}

static int kinds_mask(struct vty *vty, const struct value_string *names, int argc, const char **argv, uint32_t *out)
{
	uint32_t mask = 0;
	int i, k;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "all")) {
			mask = 0xffffffff;
			continue;
		}
		k = get_string_value(names, argv[i]);
		if (k < 0) {
			vty_out(vty, "%% Unknown '%s'%s", argv[i], VTY_NEWLINE);
			return CMD_WARNING;
		}
		mask |= 1u << k;
	}
	*out = mask;
	return CMD_SUCCESS;
}

DEFUN(cfg_tenant_node_types, cfg_tenant_node_types_cmd, "node-types .TYPE",
      "Node types a proposed campaign may use (default all)\n"
      "menu choice rating yesno number text info, or all\n")
{
	return kinds_mask(vty, uigw_node_kind_names, argc, argv, &((struct uigw_api_tenant *)vty->index)->node_kinds);
}

DEFUN(cfg_tenant_actions, cfg_tenant_actions_cmd, "actions .ACTION",
      "Actions a proposed campaign may use (default: record reaction app_rating flag)\n"
      "record spam_report reaction app_rating flag jump offer optout, or all\n")
{
	return kinds_mask(vty, uigw_action_kind_names, argc, argv, &((struct uigw_api_tenant *)vty->index)->actions);
}

DEFUN(cfg_tenant_push_cap, cfg_tenant_push_cap_cmd, "push-cap <1-1000> per <1-31536000>",
      "The loosest push_cap a proposed campaign may have (default 1 per 86400)\n" "Pushes\n" "Within\n"
      "Seconds\n")
{
	struct uigw_api_tenant *t = vty->index;

	t->push_cap_count = atoi(argv[0]);
	t->push_cap_per = atoi(argv[1]);
	return CMD_SUCCESS;
}

DEFUN(cfg_tenant_no_push_cap, cfg_tenant_no_push_cap_cmd, "no push-cap",
      NO_STR "Proposed campaigns need no push_cap of their own\n")
{
	struct uigw_api_tenant *t = vty->index;

	t->push_cap_count = t->push_cap_per = 0;
	return CMD_SUCCESS;
}

#define DEFAULT_ACTIONS (1u << UIGW_ACT_RECORD | 1u << UIGW_ACT_REACTION | 1u << UIGW_ACT_APP_RATING | \
			 1u << UIGW_ACT_FLAG)

static void write_mask(struct vty *vty, const char *cmd, const struct value_string *names, uint32_t mask)
{
	const struct value_string *v;

	vty_out(vty, "  %s", cmd);
	for (v = names; v->str; v++)
		if (mask & (1u << v->value))
			vty_out(vty, " %s", v->str);
	vty_out(vty, "%s", VTY_NEWLINE);
}

static int config_write_api(struct vty *vty)
{
	struct uigw_api *api = root_api();
	struct uigw_api_tenant *t;
	unsigned int ch;

	if (!api || !api->cfg.configured)
		return CMD_SUCCESS;
	vty_out(vty, "api%s", VTY_NEWLINE);
	vty_out(vty, " bind %s %u%s", api->cfg.bind_addr, api->cfg.port, VTY_NEWLINE);
	if (api->cfg.tls_cert)
		vty_out(vty, " tls certificate %s key %s%s", api->cfg.tls_cert, api->cfg.tls_key, VTY_NEWLINE);
	if (api->cfg.max_connections != 1024)
		vty_out(vty, " max-connections %u%s", api->cfg.max_connections, VTY_NEWLINE);
	if (api->cfg.max_connections_per_ip)
		vty_out(vty, " max-connections-per-ip %u%s", api->cfg.max_connections_per_ip, VTY_NEWLINE);
	if (api->cfg.idle_timeout != 10)
		vty_out(vty, " idle-timeout %u%s", api->cfg.idle_timeout, VTY_NEWLINE);
	if (api->cfg.metrics_public)
		vty_out(vty, " metrics public%s", VTY_NEWLINE);
	if (api->summary_cache_ms != 1000)
		vty_out(vty, " summary-cache %u%s", api->summary_cache_ms, VTY_NEWLINE);
	if (strcmp(api->cfg.ui_dir, UIGW_UI_DIR))
		vty_out(vty, " ui-dir %s%s", api->cfg.ui_dir, VTY_NEWLINE);
	if (api->cfg.wh.timeout_ms != 5000)
		vty_out(vty, " webhook timeout %u%s", api->cfg.wh.timeout_ms, VTY_NEWLINE);
	if (api->cfg.wh.max_age_s != 86400)
		vty_out(vty, " webhook max-age %u%s", api->cfg.wh.max_age_s, VTY_NEWLINE);
	if (api->cfg.wh.backoff_min_ms != 1000 || api->cfg.wh.backoff_max_ms != 600000)
		vty_out(vty, " webhook backoff %u %u%s", api->cfg.wh.backoff_min_ms, api->cfg.wh.backoff_max_ms,
			VTY_NEWLINE);
	if (api->cfg.wh.max_in_flight != 16)
		vty_out(vty, " webhook max-in-flight %u%s", api->cfg.wh.max_in_flight, VTY_NEWLINE);
	if (api->cfg.wh.max_per_tenant != 10)
		vty_out(vty, " webhook max-per-tenant %u%s", api->cfg.wh.max_per_tenant, VTY_NEWLINE);
	if (api->cfg.wh.poll_ms != 100)
		vty_out(vty, " webhook poll-interval %u%s", api->cfg.wh.poll_ms, VTY_NEWLINE);
	if (api->cfg.wh.require_https)
		vty_out(vty, " webhook require-https%s", VTY_NEWLINE);
	if (!api->cfg.enabled)
		vty_out(vty, " shutdown%s", VTY_NEWLINE);
	llist_for_each_entry(t, &api->tenants, list) {
		bool dflt = t->may_push && t->channels == UIGW_CHAN_MASK_ALL &&
			    t->rate_limit == (t->is_operator ? 0u : 50u) && t->max_nodes == 20 && t->max_proposals == 10 &&
			    t->node_kinds == 0xffffffff && t->actions == DEFAULT_ACTIONS &&
			    t->push_cap_per == (t->is_operator ? 0u : 86400u) &&
			    t->push_cap_count == (t->is_operator ? 0u : 1u);
		if (t->is_operator && dflt)
			continue;
		vty_out(vty, " tenant %s%s", t->name, VTY_NEWLINE);
		if (!t->may_push)
			vty_out(vty, "  push forbidden%s", VTY_NEWLINE);
		if (t->channels != UIGW_CHAN_MASK_ALL) {
			vty_out(vty, "  channels");
			for (ch = 0; ch < _UIGW_CHAN_NUM; ch++)
				if (t->channels & (1u << ch))
					vty_out(vty, " %s", uigw_channel_name(ch));
			vty_out(vty, "%s", VTY_NEWLINE);
		}
		if (t->rate_limit != (t->is_operator ? 0u : 50u))
			vty_out(vty, "  rate-limit %u%s", t->rate_limit, VTY_NEWLINE);
		if (t->max_nodes != 20)
			vty_out(vty, "  max-nodes %u%s", t->max_nodes, VTY_NEWLINE);
		if (t->max_proposals != 10)
			vty_out(vty, "  max-proposals %u%s", t->max_proposals, VTY_NEWLINE);
		if (t->node_kinds != 0xffffffff)
			write_mask(vty, "node-types", uigw_node_kind_names, t->node_kinds);
		if (t->actions != DEFAULT_ACTIONS)
			write_mask(vty, "actions", uigw_action_kind_names, t->actions);
		if (!t->push_cap_per && !t->is_operator)
			vty_out(vty, "  no push-cap%s", VTY_NEWLINE);
		else if (t->push_cap_per && (t->push_cap_count != 1 || t->push_cap_per != 86400))
			vty_out(vty, "  push-cap %u per %u%s", t->push_cap_count, t->push_cap_per, VTY_NEWLINE);
	}
	return CMD_SUCCESS;
}

static int config_write_tenant(struct vty *vty)
{
	return CMD_SUCCESS;
}

#define API_KEY_STR "HTTP API\n" "A tenant's keys\n" "Tenant name\n" "API keys\n"

DEFUN(api_key_create, api_key_create_cmd, "api tenant NAME key create .SCOPE",
      API_KEY_STR "Create a key; it is printed once, only its hash is kept\n"
      "Scopes: campaigns trigger events results spam admin metrics, or all\n")
{
	struct uigw_api *api = root_api();
	uint32_t scopes = 0;
	char key[128], sc[128];
	int64_t id;
	int i, s, rc;

	if (!api)
		return CMD_WARNING;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "all")) {
			scopes = (1u << _UIGW_SCOPE_NUM) - 1;
			continue;
		}
		s = uigw_api_scope_by_name(argv[i]);
		if (s < 0) {
			vty_out(vty, "%% Unknown scope '%s' (campaigns trigger events results spam admin metrics all)%s",
				argv[i], VTY_NEWLINE);
			return CMD_WARNING;
		}
		scopes |= 1u << s;
	}
	rc = uigw_api_key_create(api, argv[0], scopes, key, sizeof(key), &id);
	if (rc == -ENOENT) {
		vty_out(vty, "%% No tenant '%s' (configure it in node api first)%s", argv[0], VTY_NEWLINE);
		return CMD_WARNING;
	}
	if (rc < 0) {
		vty_out(vty, "%% Cannot create the key: %s%s", strerror(-rc), VTY_NEWLINE);
		return CMD_WARNING;
	}
	vty_out(vty, "key %s%s", key, VTY_NEWLINE);
	vty_out(vty, "id %" PRId64 " tenant %s scopes %s%s", id, argv[0], uigw_api_scopes_str(scopes, sc, sizeof(sc)),
		VTY_NEWLINE);
	return CMD_SUCCESS;
}

DEFUN(api_key_revoke, api_key_revoke_cmd, "api tenant NAME key revoke <1-2000000000>",
      API_KEY_STR "Revoke a key: it authenticates no one from now on\n" "Key id (show api)\n")
{
	struct uigw_api *api = root_api();
	int rc;

	if (!api)
		return CMD_WARNING;
	rc = uigw_api_key_revoke(api, argv[0], atoll(argv[1]));
	if (rc == -ENOENT) {
		vty_out(vty, "%% Tenant %s has no key %s%s", argv[0], argv[1], VTY_NEWLINE);
		return CMD_WARNING;
	}
	if (rc < 0) {
		vty_out(vty, "%% The revocation is in effect but was not stored: %s%s", strerror(-rc), VTY_NEWLINE);
		return CMD_WARNING;
	}
	return CMD_SUCCESS;
}

DEFUN(show_api_webhooks, show_api_webhooks_cmd, "show api webhooks",
      SHOW_STR "HTTP API\n" "Webhooks: their outbox, deliveries, failures and dead letters\n")
{
	struct uigw_api *api = root_api();

	if (api)
		uigw_api_webhooks_vty_show(vty, api);
	return CMD_SUCCESS;
}

DEFUN(api_webhook_resend, api_webhook_resend_cmd, "api webhook <1-2000000000> resend [<1-9000000000000000000>]",
      "HTTP API\n" "A webhook\n" "Webhook id (show api webhooks)\n"
      "Deliver its dead letters again (all, or one outbox entry)\n" "Outbox entry (GET /v1/webhooks/ID/dead)\n")
{
	struct uigw_api *api = root_api();
	int n;

	if (!api)
		return CMD_WARNING;
	n = uigw_api_webhook_resend(api, atoll(argv[0]), argc > 1 ? atoll(argv[1]) : 0);
	if (n == -ENOENT) {
		vty_out(vty, "%% No webhook %s%s", argv[0], VTY_NEWLINE);
		return CMD_WARNING;
	}
	if (n < 0) {
		vty_out(vty, "%% The store did not take the change: %s%s", strerror(-n), VTY_NEWLINE);
		return CMD_WARNING;
	}
	vty_out(vty, "%d dead letters of webhook %s are pending again%s", n, argv[0], VTY_NEWLINE);
	return CMD_SUCCESS;
}

void uigw_api_vty_show(struct vty *vty, struct uigw_api *api)
{
	struct uigw_api_tenant *t;
	struct uigw_api_key *k;
	char buf[40], sc[128];

	if (!api->cfg.configured) {
		vty_out(vty, "HTTP API: not configured (no node api)%s", VTY_NEWLINE);
		return;
	}
	vty_out(vty, "HTTP API: %s %s:%u%s, %u connections open%s",
		api->mhd ? "listening on" : api->cfg.enabled ? "not listening on" : "shut down,", api->cfg.bind_addr,
		api->cfg.port, api->cfg.tls_cert ? " (TLS)" : "", api->n_conns, VTY_NEWLINE);
	llist_for_each_entry(t, &api->tenants, list) {
		unsigned int n = 0;

		llist_for_each_entry(k, &api->keys, list)
			n += !strcmp(k->tenant, t->name) && !k->revoked_ms;
		vty_out(vty, " tenant %s: push %s, rate-limit %u/s, %u active keys%s", t->name,
			t->may_push ? "allowed" : "forbidden", t->rate_limit, n, VTY_NEWLINE);
		llist_for_each_entry(k, &api->keys, list) {
			if (strcmp(k->tenant, t->name))
				continue;
			vty_out(vty, "  key %" PRId64 ": %s, created %s", k->id,
				uigw_api_scopes_str(k->scopes, sc, sizeof(sc)),
				uigw_api_time_str(k->created_ms, buf, sizeof(buf)));
			if (k->last_used_ms)
				vty_out(vty, ", last used %s", uigw_api_time_str(k->last_used_ms, buf, sizeof(buf)));
			if (k->revoked_ms)
				vty_out(vty, ", revoked %s", uigw_api_time_str(k->revoked_ms, buf, sizeof(buf)));
			vty_out(vty, "%s", VTY_NEWLINE);
		}
	}
	vty_out_rate_ctr_group(vty, " ", api->ctrs);
}

DEFUN(show_api, show_api_cmd, "show api", SHOW_STR "HTTP API: listener, tenants, keys (ids only), counters\n")
{
	struct uigw_api *api = root_api();

	if (api)
		uigw_api_vty_show(vty, api);
	return CMD_SUCCESS;
}

void uigw_api_vty_init(void)
{
	static bool installed;

	if (installed)
		return;
	installed = true;
	install_element(CONFIG_NODE, &cfg_api_cmd);
	install_node(&api_node, config_write_api);
	install_element(API_NODE, &cfg_api_bind_cmd);
	install_element(API_NODE, &cfg_api_metrics_public_cmd);
	install_element(API_NODE, &cfg_api_no_metrics_public_cmd);
	install_element(API_NODE, &cfg_api_tls_cmd);
	install_element(API_NODE, &cfg_api_no_tls_cmd);
	install_element(API_NODE, &cfg_api_maxconn_cmd);
	install_element(API_NODE, &cfg_api_maxconn_ip_cmd);
	install_element(API_NODE, &cfg_api_idle_cmd);
	install_element(API_NODE, &cfg_api_summary_cache_cmd);
	install_element(API_NODE, &cfg_api_ui_dir_cmd);
	install_element(API_NODE, &cfg_api_wh_timeout_cmd);
	install_element(API_NODE, &cfg_api_wh_max_age_cmd);
	install_element(API_NODE, &cfg_api_wh_backoff_cmd);
	install_element(API_NODE, &cfg_api_wh_in_flight_cmd);
	install_element(API_NODE, &cfg_api_wh_per_tenant_cmd);
	install_element(API_NODE, &cfg_api_wh_poll_cmd);
	install_element(API_NODE, &cfg_api_wh_https_cmd);
	install_element(API_NODE, &cfg_api_no_wh_https_cmd);
	install_element(API_NODE, &cfg_api_shutdown_cmd);
	install_element(API_NODE, &cfg_api_no_shutdown_cmd);
	install_element(API_NODE, &cfg_api_tenant_cmd);
	install_element(API_NODE, &cfg_api_no_tenant_cmd);
	install_node(&tenant_node, config_write_tenant);
	install_element(API_TENANT_NODE, &cfg_tenant_push_cmd);
	install_element(API_TENANT_NODE, &cfg_tenant_channels_cmd);
	install_element(API_TENANT_NODE, &cfg_tenant_rate_cmd);
	install_element(API_TENANT_NODE, &cfg_tenant_max_nodes_cmd);
	install_element(API_TENANT_NODE, &cfg_tenant_max_proposals_cmd);
	install_element(API_TENANT_NODE, &cfg_tenant_node_types_cmd);
	install_element(API_TENANT_NODE, &cfg_tenant_actions_cmd);
	install_element(API_TENANT_NODE, &cfg_tenant_push_cap_cmd);
	install_element(API_TENANT_NODE, &cfg_tenant_no_push_cap_cmd);
	install_element(ENABLE_NODE, &api_key_create_cmd);
	install_element(ENABLE_NODE, &api_key_revoke_cmd);
	install_element_ve(&show_api_cmd);
	install_element_ve(&show_api_webhooks_cmd);
	install_element(ENABLE_NODE, &api_webhook_resend_cmd);
}
