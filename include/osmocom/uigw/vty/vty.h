/*! \file vty.h
 *  The VTY: configuration nodes and the operator console. */
#pragma once

#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>

struct uigw;


/*! Install every node and command. */
int uigw_vty_init(struct uigw *gw);
/*! The operator's subscriber commands (privacy_vty.c), installed by uigw_vty_init(). */
void uigw_privacy_vty_init(void);
/*! The opt-out keyword settings of node `uigw`, in config_write_uigw(). */
void uigw_privacy_vty_write(struct vty *vty);
/*! Quiet hours and time zones (schedule_vty.c): their commands, and their lines of node `uigw`. */
void uigw_schedule_vty_init(void);
void uigw_schedule_vty_write(struct vty *vty);
/*! Overload control (overload_vty.c): its commands, and its lines of node `uigw`. */
void uigw_overload_vty_init(void);
void uigw_overload_vty_write(struct vty *vty);
/*! Node `store` and `show store` (store_vty.c), installed by uigw_vty_init(). */
void uigw_store_vty_init(void);
/*! A configuration line " NAME VALUE" unless the value is the default (config_write of the gateway's nodes). */
void uigw_vty_write_str(struct vty *vty, const char *name, const char *val, const char *def);
void uigw_vty_write_uint(struct vty *vty, const char *name, unsigned int val, unsigned int def);
/*! The retention periods of node `store`, in its config_write. */
void uigw_privacy_vty_write_store(struct vty *vty);
/*! The standard `timer` / `show timer` commands over every timer group: after the channels' init (which add
 *  their groups), before the configuration is read. */
int uigw_vty_timers_init(struct uigw *gw);
/*! vty_app_info.go_parent_cb: libosmo-sigtran's cs7 nodes return to their parents with the right index (the
 *  node stack of libosmovty restores the rest). */
int uigw_vty_go_parent(struct vty *vty);
/*! vty_app_info.is_config_node: every node of the gateway and of libosmo-sigtran is a configuration node. */
int uigw_vty_is_config_node(struct vty *vty, int node);
