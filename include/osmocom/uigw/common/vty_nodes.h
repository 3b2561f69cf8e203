/*! \file vty_nodes.h
 *  The VTY node ids of every layer's configuration nodes (one list, so that no two collide). */
#pragma once

#include <osmocom/vty/command.h>

enum uigw_vty_node {
	UIGW_NODE = _LAST_OSMOVTY_NODE + 1,	/*!< "uigw" */
	STORE_NODE,				/*!< "store" */
	GSUP_NODE,				/*!< "gsup" (src/chan/gsup/gsup_vty.c) */
	SMPP_NODE,				/*!< "smpp" (SMPP adapter) */
	SMSC_NODE,				/*!< "smsc NAME" inside "smpp" */
	SIP_NODE,				/*!< "sip" (SIP MESSAGE / USSI adapter) */
	MAP_NODE,				/*!< "map" (SS7 MAP gsmSCF, src/chan/map) */
	API_NODE,				/*!< "api" (HTTP API, src/api) */
	API_TENANT_NODE,			/*!< "tenant NAME" inside "api" */
};

struct vty;
/*! Print multi-line text line by line with the VTY's newline. */
void uigw_vty_out_lines(struct vty *vty, const char *text);
/*! The command's words argv[from..] joined by spaces into *dst (a talloc string under \a ctx, replaced).
 *  \returns CMD_SUCCESS, or CMD_WARNING (out of memory) */
int uigw_vty_set_words(void *ctx, char **dst, int argc, const char **argv, int from);
