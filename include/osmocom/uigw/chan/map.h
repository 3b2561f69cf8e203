/*! \file map.h
 *  Channel `map`: osmo-uigw as a gsmSCF for USSD over SS7 (3GPP TS 29.002 networkUnstructuredSsContext-v2,
 *  TCAP over SCCP through libosmo-sigtran). Mobile-originated dialogs come from the HLR (or the MSC/VLR) as
 *  processUnstructuredSS-Request; network-initiated ones go to the HLR as unstructuredSS-Request / -Notify.
 *  See doc/map.md. */
#pragma once

#include <stdint.h>
#include <stdbool.h>
#include <osmocom/uigw/common/vty_nodes.h>

struct uigw;
struct uigw_map;
struct vty;

/*! What a dialog without any MSISDN (none in USSD-Arg, an IMSI in MAP-OpenInfo) becomes. */
enum uigw_map_msisdn_fallback {
	UIGW_MAP_MSISDN_IMSI,		/*!< "+<IMSI>" as an IMSI-keyed pseudo-number (default, as gsup) */
	UIGW_MAP_MSISDN_REJECT,		/*!< refuse: ReturnError dataMissing */
};

/*! Settings of node `map`. */
struct uigw_map_cfg {
	bool configured;		/*!< a `map` node is in the configuration; without one the channel is off */
	uint32_t cs7_instance;		/*!< the `cs7 instance` to use (default 0) */
	uint16_t local_ssn;		/*!< our SSN, default 147 (gsmSCF) */
	char *gsmscf_number;		/*!< our E.164 address: calling GT and MAP-OpenInfo originationReference */
	char *hlr_addr_name;		/*!< an entry of the cs7 address book for the HLR, or NULL: hlr_pc/hlr_ssn */
	char *hlr_pc;			/*!< the HLR's point code (default "0.23.3") */
	uint16_t hlr_ssn;		/*!< the HLR's SSN (default 6) */
	enum uigw_map_msisdn_fallback msisdn_fallback;
	char *home_gts;			/*!< space-separated global title prefixes of the home network's MSC/VLRs: a
					 *   TC-BEGIN whose calling GT matches none is a roaming subscriber's (NULL: not
					 *   told; behind an HLR the calling party is the HLR) */
};

/*! Timers of group `map` (`timer map X201 60`). */
enum uigw_map_timer {
	UIGW_MAP_T_ANSWER = -201,	/*!< our unstructuredSS-Request/-Notify waits this long for the answer, s */
	UIGW_MAP_T_PUSH = -202,		/*!< our TC-BEGIN waits this long for the network's first answer, s */
	UIGW_MAP_T_GUARD = -203,	/*!< no transaction lives longer, s */
	UIGW_MAP_T_RECONNECT = -204,	/*!< the ASP connects to the STP again this long after losing it, s */
};

/*! Allocate the adapter, register channel `map`, install node `map` and `show map`, and libosmo-sigtran's
 *  `cs7 instance` nodes (their objects live under \a ss7_ctx, outside the gateway). Call once after
 *  uigw_vty_init() and before the configuration is read. \returns 0 or -ENOMEM */
int uigw_map_init(struct uigw *gw, void *ss7_ctx);
/*! Its settings. */
struct uigw_map_cfg *uigw_map_cfg(struct uigw_map *m);
/*! Print SCCP state, transactions and counters. */
void uigw_map_vty_show(struct vty *vty, struct uigw_map *m);
/*! VTY part (map_vty.c): install the node and commands (once per process). */
void uigw_map_vty_init(void);
