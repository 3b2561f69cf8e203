/*! \file gsup_vty.c
 *  VTY of channel `gsup`: node `gsup` (remote-ip, remote-port, euse-name, msisdn-fallback, enable/disable),
 *  and `show gsup`. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/common/vty_nodes.h>
#include <osmocom/uigw/core/chan.h>
#include <osmocom/uigw/chan/gsup.h>

/* the adapter of the gateway the VTY acts on */
static struct uigw_gsup *root_gsup(void)
{
	return uigw_vty_root ? uigw_chan_priv(uigw_vty_root, UIGW_CHAN_GSUP) : NULL;
}

static struct cmd_node gsup_node = {
	.node = GSUP_NODE,
	.prompt = "%s(config-gsup)# ",
	.vtysh = 1,
};

/* settings apply at once when the link is running */
static void apply(struct vty *vty)
{
	if (vty->type != VTY_FILE && uigw_gsup_restart(vty->index) < 0)
		vty_out(vty, "%% Cannot (re)start the GSUP link%s", VTY_NEWLINE);
}

DEFUN(cfg_gsup, cfg_gsup_cmd, "gsup", "Configure the GSUP channel (osmo-uigw as an OsmoHLR external USSD entity)\n")
{
	struct uigw_gsup *g = root_gsup();

	if (!g) {
		vty_out(vty, "%% No GSUP channel in this gateway%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	uigw_gsup_cfg(g)->configured = true;
	vty->index = g;
	vty->node = GSUP_NODE;
	return CMD_SUCCESS;
}

DEFUN(cfg_gsup_remote_ip, cfg_gsup_remote_ip_cmd, "remote-ip A.B.C.D",
      "Address of OsmoHLR's GSUP server\n" "IPv4 address\n")
{
	struct uigw_gsup_cfg *cfg = uigw_gsup_cfg(vty->index);

	osmo_talloc_replace_string(vty->index, &cfg->remote_ip, argv[0]);
	apply(vty);
	return CMD_SUCCESS;
}

DEFUN(cfg_gsup_remote_port, cfg_gsup_remote_port_cmd, "remote-port <1-65535>",
      "TCP port of OsmoHLR's GSUP server (default 4222)\n" "Port\n")
{
	uigw_gsup_cfg(vty->index)->remote_port = atoi(argv[0]);
	apply(vty);
	return CMD_SUCCESS;
}

DEFUN(cfg_gsup_euse_name, cfg_gsup_euse_name_cmd, "euse-name NAME",
      "EUSE name: the same as in OsmoHLR's 'euse NAME' (we identify as EUSE-NAME)\n" "Name\n")
{
	struct uigw_gsup_cfg *cfg = uigw_gsup_cfg(vty->index);
	const char *p;

	for (p = argv[0]; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_' || *p == '.')) {
			vty_out(vty, "%% EUSE names use letters, digits, '-', '_' and '.'%s", VTY_NEWLINE);
			return CMD_WARNING;
		}
	}
	if (strlen(argv[0]) > 60) {
		vty_out(vty, "%% EUSE name too long%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	osmo_talloc_replace_string(vty->index, &cfg->euse_name, argv[0]);
	apply(vty);
	return CMD_SUCCESS;
}

DEFUN(cfg_gsup_fallback, cfg_gsup_fallback_cmd, "msisdn-fallback (imsi|reject)",
      "What a session without an MSISDN (none in the USSD argument nor the GSUP message) becomes\n"
      "Use +IMSI as an IMSI-keyed pseudo-number (default)\n"
      "Refuse the session with ReturnError dataMissing\n")
{
	uigw_gsup_cfg(vty->index)->msisdn_fallback = !strcmp(argv[0], "imsi") ? UIGW_GSUP_MSISDN_IMSI :
										  UIGW_GSUP_MSISDN_REJECT;
	return CMD_SUCCESS;
}

DEFUN(cfg_gsup_budget, cfg_gsup_budget_cmd, "screen-budget (osmo-hlr|full)",
      "Largest USSD screen sent on this channel\n"
      "128 septets / 56 UCS-2 characters: what osmo-hlr 1.5.0 relays (default)\n"
      "182 septets / 80 UCS-2 characters (160 octets): for an HLR that parses long-form BER lengths\n")
{
	uigw_gsup_cfg(vty->index)->full_screens = !strcmp(argv[0], "full");
	return CMD_SUCCESS;
}

DEFUN(cfg_gsup_home_vlr, cfg_gsup_home_vlr_cmd, "home-vlr .PREFIXES",
      "The home network's VLR / MSC names: a subscriber whose BEGIN names another serving VLR (Source Name IE, as a "
      "GSUP proxy adds it) is roaming there\n" "IPA name prefixes, e.g. MSC-262-01\n")
{
	return uigw_vty_set_words(vty->index, &uigw_gsup_cfg(vty->index)->home_vlrs, argc, argv, 0);
}

DEFUN(cfg_gsup_no_home_vlr, cfg_gsup_no_home_vlr_cmd, "no home-vlr",
      NO_STR "Do not tell roaming subscribers on this channel (default)\n")
{
	TALLOC_FREE(uigw_gsup_cfg(vty->index)->home_vlrs);
	return CMD_SUCCESS;
}

DEFUN(cfg_gsup_enable, cfg_gsup_enable_cmd, "enable", "Connect to OsmoHLR (default)\n")
{
	uigw_gsup_cfg(vty->index)->enabled = true;
	apply(vty);
	return CMD_SUCCESS;
}

DEFUN(cfg_gsup_disable, cfg_gsup_disable_cmd, "disable", "Do not connect to OsmoHLR; running sessions end\n")
{
	uigw_gsup_cfg(vty->index)->enabled = false;
	apply(vty);
	return CMD_SUCCESS;
}

static int config_write_gsup(struct vty *vty)
{
	struct uigw_gsup *g = root_gsup();
	struct uigw_gsup_cfg *cfg = g ? uigw_gsup_cfg(g) : NULL;

	if (!cfg || !cfg->configured)
		return CMD_SUCCESS;
	vty_out(vty, "gsup%s", VTY_NEWLINE);
	if (strcmp(cfg->remote_ip, "127.0.0.1"))
		vty_out(vty, " remote-ip %s%s", cfg->remote_ip, VTY_NEWLINE);
	if (cfg->remote_port != 4222)
		vty_out(vty, " remote-port %u%s", cfg->remote_port, VTY_NEWLINE);
	if (strcmp(cfg->euse_name, "uigw"))
		vty_out(vty, " euse-name %s%s", cfg->euse_name, VTY_NEWLINE);
	if (cfg->msisdn_fallback != UIGW_GSUP_MSISDN_IMSI)
		vty_out(vty, " msisdn-fallback reject%s", VTY_NEWLINE);
	if (cfg->full_screens)
		vty_out(vty, " screen-budget full%s", VTY_NEWLINE);
	if (cfg->home_vlrs)
		vty_out(vty, " home-vlr %s%s", cfg->home_vlrs, VTY_NEWLINE);
	if (!cfg->enabled)
		vty_out(vty, " disable%s", VTY_NEWLINE);
	return CMD_SUCCESS;
}

DEFUN(show_gsup, show_gsup_cmd, "show gsup", SHOW_STR "GSUP channel: HLR link, sessions, counters\n")
{
	uigw_gsup_vty_show(vty, root_gsup());
	return CMD_SUCCESS;
}

void uigw_gsup_vty_init(void)
{
	static bool installed;

	/* the commands are process-wide; they act on uigw_vty_root's channel */
	if (installed)
		return;
	installed = true;
	install_element(CONFIG_NODE, &cfg_gsup_cmd);
	install_node(&gsup_node, config_write_gsup);
	install_element(GSUP_NODE, &cfg_gsup_remote_ip_cmd);
	install_element(GSUP_NODE, &cfg_gsup_remote_port_cmd);
	install_element(GSUP_NODE, &cfg_gsup_euse_name_cmd);
	install_element(GSUP_NODE, &cfg_gsup_fallback_cmd);
	install_element(GSUP_NODE, &cfg_gsup_budget_cmd);
	install_element(GSUP_NODE, &cfg_gsup_home_vlr_cmd);
	install_element(GSUP_NODE, &cfg_gsup_no_home_vlr_cmd);
	install_element(GSUP_NODE, &cfg_gsup_enable_cmd);
	install_element(GSUP_NODE, &cfg_gsup_disable_cmd);
	install_element_ve(&show_gsup_cmd);
}
