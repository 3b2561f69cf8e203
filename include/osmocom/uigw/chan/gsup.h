/*! \file gsup_chan.h
 *  Channel `gsup`: osmo-uigw as an external USSD entity (EUSE) of OsmoHLR. One GSUP client link to the HLR;
 *  PROC_SS_REQUEST BEGIN / CONTINUE / END sessions map to dialogs (see doc/gsup.md). */
#pragma once

#include <stdint.h>
#include <stdbool.h>
#include <osmocom/uigw/common/vty_nodes.h>

struct uigw;
struct uigw_gsup;
struct vty;


/*! What a BEGIN without any MSISDN becomes. */
enum uigw_gsup_msisdn_fallback {
	UIGW_GSUP_MSISDN_IMSI,		/*!< "+<IMSI>" as an IMSI-keyed pseudo-number (default) */
	UIGW_GSUP_MSISDN_REJECT,	/*!< refuse the session: ReturnError dataMissing */
};

/*! Settings of node `gsup`. */
struct uigw_gsup_cfg {
	char *remote_ip;		/*!< OsmoHLR GSUP address, default 127.0.0.1 */
	uint16_t remote_port;		/*!< default 4222 */
	char *euse_name;		/*!< EUSE name as in the HLR's `euse NAME`, default "uigw" */
	bool configured;		/*!< a `gsup` node is in the configuration; without one the channel is off, so a
					 *   gateway never registers with an HLR it was not configured for */
	bool enabled;			/*!< connect at start (default: yes) */
	enum uigw_gsup_msisdn_fallback msisdn_fallback;
	bool full_screens;		/*!< 182 septets / 80 UCS-2 per screen; default false: 128 / 56, the most
					 *   osmo-hlr 1.5.0 relays (it cannot parse long-form BER lengths) */
	char *home_vlrs;		/*!< space-separated prefixes of the home network's VLR / MSC IPA names; a BEGIN
					 *   whose Source Name IE matches none is a roaming subscriber (NULL: not told) */
};

/*! Allocate the adapter, register channel `gsup` and install node `gsup` and `show gsup`.
 *  Call once after uigw_vty_init() and before the configuration is read.
 *  \returns 0 or -ENOMEM */
int uigw_gsup_init(struct uigw *gw);

/* The channel's open() connects to the HLR if enabled (uigw_chans_open() after uigw_start()); without an HLR
 * the link stays down and the client library retries every second. The adapter is the channel's priv:
 * uigw_chan_priv(gw, UIGW_CHAN_GSUP). */
/*! Its settings. */
struct uigw_gsup_cfg *uigw_gsup_cfg(struct uigw_gsup *g);
/*! Apply changed settings: drop the link and its sessions and reconnect if enabled and started. */
int uigw_gsup_restart(struct uigw_gsup *g);
/*! Print link state, sessions and counters. */
void uigw_gsup_vty_show(struct vty *vty, struct uigw_gsup *g);

/*! VTY part (gsup_vty.c): install the node and commands (once per process). */
void uigw_gsup_vty_init(void);
