/*! \file ctrl.h
 *  The CTRL interface: commands for operators' scripts and monitoring (doc/vty.md, "CTRL"). */
#pragma once

/*! Install the CTRL commands; the CTRL handle's data is the struct uigw. \returns 0 or negative errno */
int uigw_ctrl_init(void);
struct uigw;
struct ctrl_handle;
/*! Bound the CTRL connections (ctrl_guard.c): a stream without IPA CTRL framing is closed at its first header, a
 *  message incomplete for ctrl-message-timeout closes its connection (counter ctrl:dropped). */
void uigw_ctrl_guard(struct uigw *gw, struct ctrl_handle *ctrl);
void uigw_ctrl_guard_stop(void);
