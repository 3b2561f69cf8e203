/*! \file ctrl.h
 *  The CTRL interface: commands for operators' scripts and monitoring (doc/vty.md, "CTRL"). */
#pragma once

/*! Install the CTRL commands; the CTRL handle's data is the struct uigw. \returns 0 or negative errno */
int uigw_ctrl_init(void);
