/*! \file vty.h
 *  The VTY: configuration nodes and the operator console. */
#pragma once

#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>

struct uigw;


/*! Install every node and command. */
int uigw_vty_init(struct uigw *gw);
