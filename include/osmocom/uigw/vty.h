/*! \file vty.h
 *  The VTY: configuration nodes and the operator console. */
#pragma once

#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>

struct uigw;

enum uigw_vty_node {
	UIGW_NODE = _LAST_OSMOVTY_NODE + 1,	/*!< "uigw" */
	STORE_NODE,				/*!< "store" */
	GSUP_NODE,				/*!< "gsup" (src/gsup_vty.c) */
	SMPP_NODE,				/*!< "smpp" (SMPP adapter) */
	SMSC_NODE,				/*!< "smsc NAME" inside "smpp" */
	SIP_NODE,				/*!< "sip" (SIP MESSAGE / USSI adapter) */
};

/*! Install every node and command. */
int uigw_vty_init(struct uigw *gw);
/*! Test-drive channel: register its ops (call after uigw_alloc). */
int uigw_vty_chan_init(struct uigw *gw);
