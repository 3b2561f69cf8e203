/*! \file uigw_ctrl.c
 *  CTRL interface of the core, for operators' scripts and monitoring (the rate counters and stat items are
 *  reachable through libosmocore's own rate_ctr.* and stat_item.* variables):
 *    GET dialogs-active                 number of running dialogs
 *    GET campaigns                      name,version,enabled|disabled;... of the campaigns in service
 *    SET reload-campaigns 1             read the campaign folder again (the reply says why it was refused)
 *    SET campaign-enable NAME / SET campaign-disable NAME
 *    SET trigger CAMPAIGN,MSISDN[,via=CH][,NAME=VALUE...]
 *                                       the one network-initiated path (as the VTY's `trigger`); the reply is
 *                                       "CHANNEL,DIALOG-ID", an error "REFUSAL[: detail]" (uigw_refusal_name) */

#include <errno.h>
#include <string.h>
#include <osmocom/core/talloc.h>
#include <osmocom/ctrl/control_cmd.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/ctrl/ctrl.h>
#include <osmocom/uigw/core/campaign.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/core/trigger.h>

CTRL_CMD_DEFINE_RO(dialogs_active, "dialogs-active");
static int get_dialogs_active(struct ctrl_cmd *cmd, void *data)
{
	struct uigw *gw = data;

	cmd->reply = talloc_asprintf(cmd, "%u", gw->n_dialogs);
	return CTRL_CMD_REPLY;
}

CTRL_CMD_DEFINE_RO(campaigns, "campaigns");
static int get_campaigns(struct ctrl_cmd *cmd, void *data)
{
	struct uigw *gw = data;
	unsigned int i;

	cmd->reply = talloc_strdup(cmd, "");
	for (i = 0; gw->campaigns && i < gw->campaigns->n; i++) {
		const struct uigw_campaign *c = gw->campaigns->c[i];
		ctrl_cmd_reply_printf(cmd, "%s%s,%u,%s", i ? ";" : "", c->name, c->version,
				      c->enabled ? "enabled" : "disabled");
	}
	return CTRL_CMD_REPLY;
}

CTRL_CMD_DEFINE_WO_NOVRF(reload_campaigns, "reload-campaigns");
static int set_reload_campaigns(struct ctrl_cmd *cmd, void *data)
{
	struct uigw *gw = data;
	char err[512];

	if (uigw_campaigns_reload(gw, err, sizeof(err)) < 0) {
		cmd->reply = talloc_asprintf(cmd, "refused, campaigns in service unchanged: %s", err);
		return CTRL_CMD_ERROR;
	}
	cmd->reply = talloc_asprintf(cmd, "%u campaigns", gw->campaigns->n);
	return CTRL_CMD_REPLY;
}

static int set_campaign_state(struct ctrl_cmd *cmd, struct uigw *gw, bool enabled)
{
	struct uigw_campaign *c = uigw_campaign_set_find(gw->campaigns, cmd->value);

	if (!c) {
		cmd->reply = talloc_asprintf(cmd, "no campaign '%s'", cmd->value);
		return CTRL_CMD_ERROR;
	}
	c->enabled = enabled;
	LOGP(DCAMP, LOGL_NOTICE, "campaign %s %s over CTRL\n", c->name, enabled ? "enabled" : "disabled");
	cmd->reply = talloc_strdup(cmd, enabled ? "enabled" : "disabled");
	return CTRL_CMD_REPLY;
}

CTRL_CMD_DEFINE_WO_NOVRF(campaign_enable, "campaign-enable");
static int set_campaign_enable(struct ctrl_cmd *cmd, void *data)
{
	return set_campaign_state(cmd, data, true);
}

CTRL_CMD_DEFINE_WO_NOVRF(campaign_disable, "campaign-disable");
static int set_campaign_disable(struct ctrl_cmd *cmd, void *data)
{
	return set_campaign_state(cmd, data, false);
}

CTRL_CMD_DEFINE_WO_NOVRF(trigger, "trigger");
static int set_trigger(struct ctrl_cmd *cmd, void *data)
{
	struct uigw *gw = data;
	struct uigw_trigger t;
	struct uigw_trigger_res res;
	char *v = talloc_strdup(cmd, cmd->value ? cmd->value : ""), *campaign, *msisdn, *w, *save = NULL;
	int rc;

	campaign = v ? strtok_r(v, ",", &save) : NULL;
	msisdn = campaign ? strtok_r(NULL, ",", &save) : NULL;
	if (!msisdn) {
		cmd->reply = "usage: CAMPAIGN,MSISDN[,via=CHANNEL][,NAME=VALUE...]";
		return CTRL_CMD_ERROR;
	}
	uigw_trigger_init(&t, campaign, msisdn);
	while ((w = strtok_r(NULL, ",", &save))) {
		rc = uigw_trigger_add_arg(&t, w, false);
		if (rc != 0) {
			cmd->reply = talloc_asprintf(cmd, "bad argument '%s': via=CHANNEL or NAME=VALUE", w);
			return CTRL_CMD_ERROR;
		}
	}
	rc = uigw_trigger(gw, &t, &res);
	if (rc < 0) {
		cmd->reply = talloc_asprintf(cmd, "error: %s", strerror(-rc));
		return CTRL_CMD_ERROR;
	}
	if (rc > 0) {
		cmd->reply = talloc_asprintf(cmd, "%s%s%s", uigw_refusal_name(res.refusal), res.detail[0] ? ": " : "",
					     res.detail);
		return CTRL_CMD_ERROR;
	}
	if (res.deferred) {
		cmd->reply = talloc_asprintf(cmd, "deferred,%lld,%s", (long long)(res.deferred_until_ms / 1000),
					     res.deferred_reason);
		return CTRL_CMD_REPLY;
	}
	cmd->reply = talloc_asprintf(cmd, "%s,%llu", uigw_channel_name(res.channel), (unsigned long long)res.dialog);
	return CTRL_CMD_REPLY;
}

/*! Install the core's CTRL commands (the handle's data must be the struct uigw). \returns 0 or negative */
int uigw_ctrl_init(void)
{
	int rc = 0;

	rc |= ctrl_cmd_install(CTRL_NODE_ROOT, &cmd_dialogs_active);
	rc |= ctrl_cmd_install(CTRL_NODE_ROOT, &cmd_campaigns);
	rc |= ctrl_cmd_install(CTRL_NODE_ROOT, &cmd_reload_campaigns);
	rc |= ctrl_cmd_install(CTRL_NODE_ROOT, &cmd_campaign_enable);
	rc |= ctrl_cmd_install(CTRL_NODE_ROOT, &cmd_campaign_disable);
	rc |= ctrl_cmd_install(CTRL_NODE_ROOT, &cmd_trigger);
	return rc ? -EINVAL : 0;
}
