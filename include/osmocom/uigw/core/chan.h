/*! \file chan.h
 *  A channel as the core sees it: an instance (struct uigw_chan) with an operations table, hung off the
 *  gateway (gw->chan[]), and the one typed vocabulary of refusals every channel and interface answers with.
 *
 *  Direction of calls: a channel calls the core (uigw_dialog_begin/input/abort) from its own event handlers;
 *  the core calls a channel only through its ops, and never while that channel is inside a call into the
 *  core for the same dialog's network-initiated start (uigw_trigger() prepares the channel's state with
 *  push() and only then renders and delivers the first screen). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/channel.h>

struct uigw;
struct uigw_chan;
struct uigw_dialog;
struct uigw_trigger;
struct uigw_render_out;
struct uigw_profile;
struct rate_ctr_group;
struct vty;
enum uigw_outcome;

/*! Why the core refused a dialog or a trigger. The same names on every channel and interface (VTY, CTRL,
 *  logs); adapters map them to their protocol's error (USSD error codes, SMPP texts, SIP statuses). */
enum uigw_refusal {
	UIGW_REFUSAL_NONE = 0,
	UIGW_REFUSAL_BUSY,			/*!< max-dialogs reached, or the store fails (uigw_admit()) */
	UIGW_REFUSAL_UNROUTED,			/*!< no campaign for that service code / keyword / URI */
	UIGW_REFUSAL_NO_CAMPAIGN,		/*!< no campaign of that name */
	UIGW_REFUSAL_CAMPAIGN_DISABLED,		/*!< the operator disabled the campaign */
	UIGW_REFUSAL_CHANNEL_NOT_ALLOWED,	/*!< the campaign does not allow that channel */
	UIGW_REFUSAL_NETWORK_ONLY,		/*!< the campaign is only started by the network */
	UIGW_REFUSAL_OPTED_OUT,			/*!< the subscriber opted out of network-initiated interactions */
	UIGW_REFUSAL_CAPPED,			/*!< a frequency cap (campaign or gateway-wide) */
	UIGW_REFUSAL_QUIET_HOURS,		/*!< not now: the subscriber's quiet hours */
	UIGW_REFUSAL_UNREACHABLE,		/*!< no channel the campaign allows reaches the subscriber now */
	UIGW_REFUSAL_PUSH_NOT_OFFERED,		/*!< the channel starts no network-initiated dialogs */
	UIGW_REFUSAL_INVALID_NUMBER,		/*!< not an E.164 number */
	UIGW_REFUSAL_UNKNOWN_PARAMETER,		/*!< a trigger parameter the campaign does not declare */
	UIGW_REFUSAL_ERROR,			/*!< internal error: store queue full, out of memory */
	UIGW_REFUSAL_NOT_APPROVED,		/*!< the campaign is proposed, not approved by the operator yet */
	UIGW_REFUSAL_ROAMING,			/*!< the campaign is not offered to roaming subscribers */
	_UIGW_REFUSAL_NUM
};

/*! "busy", "opted_out", ... */
extern const struct value_string uigw_refusal_names[];
/*! One sentence per refusal, for operators. */
extern const struct value_string uigw_refusal_descs[];
static inline const char *uigw_refusal_name(enum uigw_refusal r)
{ return get_value_string(uigw_refusal_names, r); }

struct uigw;
/*! May a new dialog (user- or network-initiated) begin now? The one admission check of every channel and of the
 *  trigger path: UIGW_REFUSAL_BUSY while the operator drains the gateway, max-dialogs are active, the store fails
 *  to commit or overload control refuses (counted per reason), else UIGW_REFUSAL_NONE. Established dialogs are
 *  not affected. */
enum uigw_refusal uigw_admit(struct uigw *gw);
/*! uigw_admit() for a request that waited \a waited_ms in the kernel before it was read (-1: not known): past
 *  `overload max-wait` it is refused at once (counter dialog:busy-late), whatever the admitted share
 *  (uigw_overload_late(), core/overload.h). */
enum uigw_refusal uigw_admit_waited(struct uigw *gw, int64_t waited_ms);
/*! Might uigw_admit() refuse now (drain, max-dialogs, a failing store, overload)? Draws nothing, counts nothing:
 *  a channel that can refuse more cheaply than it can begin a dialog (SIP's raw fast path) asks it first. */
bool uigw_refusing(const struct uigw *gw);
static inline const char *uigw_refusal_desc(enum uigw_refusal r)
{ return get_value_string(uigw_refusal_descs, r); }

/*! How well a channel reaches a subscriber now (ops->reach). */
enum uigw_reach {
	UIGW_REACH_NO = 0,	/*!< the channel is down or not configured */
	UIGW_REACH_UP,		/*!< the channel is up; nothing is known of the subscriber on it */
	UIGW_REACH_SEEN,	/*!< the subscriber was seen on this channel recently (IMS registration, request) */
};

/*! What a channel registers with the core. Every pointer but deliver may be NULL. */
struct uigw_chan_ops {
	enum uigw_channel channel;
	const struct uigw_profile *profile;	/*!< default screen profile of the channel */
	const char *no_push_why;		/*!< without push(): why the channel offers none (for operators) */
	/*! Open the channel after the configuration was read (listeners, links). \returns 0 or negative errno:
	 *  fatal for the daemon, so a channel that merely waits for its peer returns 0 */
	int (*open)(struct uigw_chan *ch);
	/*! Close it at shutdown, before the core ends the remaining dialogs. */
	void (*close)(struct uigw_chan *ch);
	/*! Can the channel reach \a msisdn now? NULL: UIGW_REACH_UP. */
	enum uigw_reach (*reach)(struct uigw_chan *ch, const char *msisdn);
	/*! Prepare a network-initiated dialog: set up the protocol state and hang it on dlg->chan_priv. Send
	 *  nothing yet: the core delivers the first screen through deliver() after this returned. NULL: the channel
	 *  offers no pushes (UIGW_REFUSAL_PUSH_NOT_OFFERED).
	 *  \returns 0, a positive enum uigw_refusal (nothing was sent, nothing is kept), or negative errno */
	int (*push)(struct uigw_chan *ch, struct uigw_dialog *dlg, const struct uigw_trigger *t);
	/*! Send one screen. With \a end the dialog is over once this returns: the core frees the dialog right
	 *  after, so the adapter drops its pointer. dlg->refusal tells why a refused dialog ends.
	 *  \returns 0, or negative errno if it could not be sent (the dialog then ends as abandoned) */
	int (*deliver)(struct uigw_dialog *dlg, const struct uigw_render_out *screen, bool end);
	/*! The core ends the dialog without a screen (timeout, operator, shutdown, a failed start): release the
	 *  protocol state. The dialog is freed right after. */
	void (*end)(struct uigw_dialog *dlg, enum uigw_outcome outcome);
	/*! Print the channel's state and counters (VTY `show channel NAME`). */
	void (*show)(struct uigw_chan *ch, struct vty *vty);
};

/*! One channel of one gateway. Allocated by uigw_chan_register() as a child of the gateway. */
struct uigw_chan {
	const struct uigw_chan_ops *ops;
	void *priv;			/*!< the adapter's state (shared by the channels of one adapter) */
	struct uigw *gw;
	struct rate_ctr_group *ctrs;	/*!< the channel's counters, or NULL */
	bool open;			/*!< ops->open succeeded */
};

/*! Register a channel with the gateway. \returns the channel, or NULL (out of memory) */
struct uigw_chan *uigw_chan_register(struct uigw *gw, const struct uigw_chan_ops *ops, void *priv);
/*! The channel \a ch of the gateway, or NULL if none registered. */
struct uigw_chan *uigw_chan_get(struct uigw *gw, enum uigw_channel ch);
/*! The adapter state of channel \a ch, or NULL. */
void *uigw_chan_priv(struct uigw *gw, enum uigw_channel ch);
/*! Open every registered channel in the order of enum uigw_channel. \returns 0, or the first failure */
int uigw_chans_open(struct uigw *gw);
/*! Close every open channel. */
void uigw_chans_close(struct uigw *gw);
