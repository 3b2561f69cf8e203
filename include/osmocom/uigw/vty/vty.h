/*! \file vty.h
 *  The VTY: configuration nodes and the operator console. */
#pragma once

#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>

struct uigw;


/*! Install every node and command. */
int uigw_vty_init(struct uigw *gw);
/*! The standard `timer` / `show timer` commands over every timer group: after the channels' init (which add
 *  their groups), before the configuration is read. */
int uigw_vty_timers_init(struct uigw *gw);
