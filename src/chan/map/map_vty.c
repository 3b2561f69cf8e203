/*! \file map_vty.c
 *  VTY of channel `map`: node `map` (cs7-instance, local-ssn, gsmscf-number, the HLR's address,
 *  msisdn-fallback) and `show map`. The link itself is libosmo-sigtran's `cs7 instance` node. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>
#include <osmocom/sigtran/osmo_ss7.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/common/vty_nodes.h>
#include <osmocom/uigw/core/chan.h>
#include <osmocom/uigw/chan/map.h>

/* the adapter of the gateway the VTY acts on */
static struct uigw_map *root_map(void)
{
	return uigw_vty_root ? uigw_chan_priv(uigw_vty_root, UIGW_CHAN_MAP) : NULL;
}

static struct cmd_node map_node = {
	.node = MAP_NODE,
	.prompt = "%s(config-map)# ",
	.vtysh = 1,
};

DEFUN(cfg_map, cfg_map_cmd, "map", "Configure the SS7 MAP channel (osmo-uigw as a gsmSCF for USSD)\n")
{
	struct uigw_map *m = root_map();

	if (!m) {
		vty_out(vty, "%% No MAP channel in this gateway%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	uigw_map_cfg(m)->configured = true;
	vty->index = m;
	vty->node = MAP_NODE;
	return CMD_SUCCESS;
}

static void next_start(struct vty *vty)
{
	if (vty->type != VTY_FILE)
		vty_out(vty, "%% Applies at the next start of osmo-uigw%s", VTY_NEWLINE);
}

DEFUN(cfg_map_cs7, cfg_map_cs7_cmd, "cs7-instance <0-15>",
      "The cs7 instance (SCCP link) the channel uses (default 0)\n" "Instance number\n")
{
	uigw_map_cfg(vty->index)->cs7_instance = atoi(argv[0]);
	next_start(vty);
	return CMD_SUCCESS;
}

DEFUN(cfg_map_ssn, cfg_map_ssn_cmd, "local-ssn <2-254>",
      "Our subsystem number (default 147, gsmSCF)\n" "SSN\n")
{
	uigw_map_cfg(vty->index)->local_ssn = atoi(argv[0]);
	next_start(vty);
	return CMD_SUCCESS;
}

static bool e164_ok(const char *s)
{
	if (*s == '+')
		s++;
	return *s && strlen(s) <= 15 && strspn(s, "0123456789") == strlen(s);
}

DEFUN(cfg_map_scf, cfg_map_scf_cmd, "gsmscf-number NUMBER",
      "Our E.164 address: the calling global title and the originationReference of our dialogues\n"
      "International number, e.g. +491720000999\n")
{
	struct uigw_map_cfg *cfg = uigw_map_cfg(vty->index);

	if (!e164_ok(argv[0])) {
		vty_out(vty, "%% Not an E.164 number: %s%s", argv[0], VTY_NEWLINE);
		return CMD_WARNING;
	}
	osmo_talloc_replace_string(vty->index, &cfg->gsmscf_number, argv[0]);
	next_start(vty);
	return CMD_SUCCESS;
}

DEFUN(cfg_map_no_scf, cfg_map_no_scf_cmd, "no gsmscf-number", NO_STR "No global title, no originationReference\n")
{
	TALLOC_FREE(uigw_map_cfg(vty->index)->gsmscf_number);
	next_start(vty);
	return CMD_SUCCESS;
}

DEFUN(cfg_map_hlr_addr, cfg_map_hlr_addr_cmd, "hlr-address NAME",
      "The HLR that network-initiated dialogues go to: an entry of the cs7 address book (sccp-address NAME),\n"
      "so that it may be routed on a global title\n" "Address book entry\n")
{
	osmo_talloc_replace_string(vty->index, &uigw_map_cfg(vty->index)->hlr_addr_name, argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_map_no_hlr_addr, cfg_map_no_hlr_addr_cmd, "no hlr-address",
      NO_STR "Address the HLR by hlr-point-code and hlr-ssn\n")
{
	TALLOC_FREE(uigw_map_cfg(vty->index)->hlr_addr_name);
	return CMD_SUCCESS;
}

DEFUN(cfg_map_hlr_pc, cfg_map_hlr_pc_cmd, "hlr-point-code POINT_CODE",
      "The HLR's point code, routed on SSN (default 0.23.3)\n" "Point code, e.g. 0.23.3\n")
{
	if (osmo_ss7_pointcode_parse(NULL, argv[0]) < 0) {
		vty_out(vty, "%% Not a point code: %s%s", argv[0], VTY_NEWLINE);
		return CMD_WARNING;
	}
	osmo_talloc_replace_string(vty->index, &uigw_map_cfg(vty->index)->hlr_pc, argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_map_hlr_ssn, cfg_map_hlr_ssn_cmd, "hlr-ssn <2-254>", "The HLR's SSN (default 6)\n" "SSN\n")
{
	uigw_map_cfg(vty->index)->hlr_ssn = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_map_fallback, cfg_map_fallback_cmd, "msisdn-fallback (imsi|reject)",
      "What a dialogue without an MSISDN (none in USSD-Arg, an IMSI in MAP-OpenInfo) becomes\n"
      "Use +IMSI as an IMSI-keyed pseudo-number (default)\n"
      "Refuse it with ReturnError dataMissing\n")
{
	uigw_map_cfg(vty->index)->msisdn_fallback = !strcmp(argv[0], "imsi") ? UIGW_MAP_MSISDN_IMSI :
										UIGW_MAP_MSISDN_REJECT;
	return CMD_SUCCESS;
}

DEFUN(cfg_map_home_gt, cfg_map_home_gt_cmd, "home-gt .PREFIXES",
      "The home network's MSC / VLR global titles: a TC-BEGIN from another calling GT is a roaming subscriber's "
      "(where MSCs reach the gsmSCF directly; behind an HLR the caller is the HLR)\n" "GT digit prefixes, e.g. 4917\n")
{
	return uigw_vty_set_words(vty->index, &uigw_map_cfg(vty->index)->home_gts, argc, argv, 0);
}

DEFUN(cfg_map_no_home_gt, cfg_map_no_home_gt_cmd, "no home-gt",
      NO_STR "Do not tell roaming subscribers on this channel (default)\n")
{
	TALLOC_FREE(uigw_map_cfg(vty->index)->home_gts);
	return CMD_SUCCESS;
}

static int config_write_map(struct vty *vty)
{
	struct uigw_map *m = root_map();
	struct uigw_map_cfg *cfg = m ? uigw_map_cfg(m) : NULL;

	if (!cfg || !cfg->configured)
		return CMD_SUCCESS;
	vty_out(vty, "map%s", VTY_NEWLINE);
	if (cfg->cs7_instance)
		vty_out(vty, " cs7-instance %u%s", cfg->cs7_instance, VTY_NEWLINE);
	if (cfg->local_ssn != 147)
		vty_out(vty, " local-ssn %u%s", cfg->local_ssn, VTY_NEWLINE);
	if (cfg->gsmscf_number)
		vty_out(vty, " gsmscf-number %s%s", cfg->gsmscf_number, VTY_NEWLINE);
	if (cfg->hlr_addr_name)
		vty_out(vty, " hlr-address %s%s", cfg->hlr_addr_name, VTY_NEWLINE);
	if (strcmp(cfg->hlr_pc, "0.23.3"))
		vty_out(vty, " hlr-point-code %s%s", cfg->hlr_pc, VTY_NEWLINE);
	if (cfg->hlr_ssn != 6)
		vty_out(vty, " hlr-ssn %u%s", cfg->hlr_ssn, VTY_NEWLINE);
	if (cfg->msisdn_fallback != UIGW_MAP_MSISDN_IMSI)
		vty_out(vty, " msisdn-fallback reject%s", VTY_NEWLINE);
	if (cfg->home_gts)
		vty_out(vty, " home-gt %s%s", cfg->home_gts, VTY_NEWLINE);
	return CMD_SUCCESS;
}

DEFUN(show_map, show_map_cmd, "show map", SHOW_STR "MAP channel: SCCP, transactions, counters\n")
{
	struct uigw_map *m = root_map();

	if (m)
		uigw_map_vty_show(vty, m);
	return CMD_SUCCESS;
}

void uigw_map_vty_init(void)
{
	static bool installed;

	if (installed)
		return;
	installed = true;
	install_element(CONFIG_NODE, &cfg_map_cmd);
	install_node(&map_node, config_write_map);
	install_element(MAP_NODE, &cfg_map_cs7_cmd);
	install_element(MAP_NODE, &cfg_map_ssn_cmd);
	install_element(MAP_NODE, &cfg_map_home_gt_cmd);
	install_element(MAP_NODE, &cfg_map_no_home_gt_cmd);
	install_element(MAP_NODE, &cfg_map_scf_cmd);
	install_element(MAP_NODE, &cfg_map_no_scf_cmd);
	install_element(MAP_NODE, &cfg_map_hlr_addr_cmd);
	install_element(MAP_NODE, &cfg_map_no_hlr_addr_cmd);
	install_element(MAP_NODE, &cfg_map_hlr_pc_cmd);
	install_element(MAP_NODE, &cfg_map_hlr_ssn_cmd);
	install_element(MAP_NODE, &cfg_map_fallback_cmd);
	install_element_ve(&show_map_cmd);
}
