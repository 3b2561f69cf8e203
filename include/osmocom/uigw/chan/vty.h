/*! \file vty.h
 *  Channel `vty`: the operator's test drive, a subscriber's view of any campaign from the VTY. */
#pragma once

struct uigw;

/*! Test-drive channel: register its ops (call after uigw_alloc). \returns 0 or -ENOMEM */
int uigw_vty_chan_init(struct uigw *gw);
