/*! \file vty.h
 *  Channel `vty`: the operator's test drive, a subscriber's view of any campaign from the VTY. */
#pragma once

struct uigw;
struct vty;

/*! Test-drive channel: register its ops (call after uigw_alloc). \returns 0 or -ENOMEM */
int uigw_vty_chan_init(struct uigw *gw);
/*! Print what the test drive's subscribers got since the last command (the screens of a `trigger ... via vty`),
 *  after letting the store commit what the command caused. */
void uigw_vty_chan_flush(struct uigw *gw, struct vty *vty);
