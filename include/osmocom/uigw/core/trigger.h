/*! \file trigger.h
 *  The one network-initiated path: `trigger CAMPAIGN MSISDN [via CHANNEL] [NAME=VALUE ...]` from the VTY,
 *  `SET trigger` from CTRL, and (next) the HTTP API all end in uigw_trigger(). */
#pragma once

#include <stdint.h>
#include <stddef.h>
#include <osmocom/uigw/common/channel.h>
#include <osmocom/uigw/core/chan.h>

struct uigw;

#define UIGW_TRIGGER_MAX_PARAMS	16

/*! What starts a network-initiated dialog. Strings are the caller's; the core copies what it keeps. */
struct uigw_trigger {
	const char *campaign;		/*!< campaign name */
	const char *msisdn;		/*!< the subscriber as given: normalised to E.164 by the core */
	int via;			/*!< enum uigw_channel, or -1: the core chooses (uigw_trigger()) */
	const char *to;			/*!< the channel's own address of the subscriber (a SIP URI), or NULL */
	const char *language;		/*!< ISO 639-1, or NULL: the gateway's default */
	unsigned int n_params;		/*!< campaign parameters, e.g. caller=+4930123456 */
	const char *param_names[UIGW_TRIGGER_MAX_PARAMS];
	const char *param_values[UIGW_TRIGGER_MAX_PARAMS];
	bool paced;			/*!< a push the campaign's pacing put off: not paced again */
};

/*! What became of a trigger. */
struct uigw_trigger_res {
	enum uigw_refusal refusal;	/*!< NONE if the dialog started */
	int channel;			/*!< the channel it went to (or was refused on), -1 if none */
	uint64_t dialog;		/*!< the dialog's id */
	char msisdn[UIGW_MSISDN_MAXLEN];	/*!< the subscriber, normalised */
	char detail[160];		/*!< a refusal's detail for operators ("frequency cap of campaign x ...") */
	bool deferred;			/*!< put off (returned 0, no dialog yet): quiet hours or pacing */
	int64_t deferred_until_ms;	/*!< when it goes out */
	const char *deferred_reason;	/*!< "quiet_hours" or "pacing" */
};

/*! \a n names and values as name=value lines (%, = and line breaks in values %-escaped), as the store keeps a
 *  deferred push's parameters and a dialog's variables. \returns a talloc string of \a ctx, or NULL */
char *uigw_params_encode(void *ctx, unsigned int n, const char *const *names, const char *const *values);
/*! Back from such lines: names and values point into \a buf, which is changed. \returns how many (at most
 *  \a max) */
unsigned int uigw_params_decode(char *buf, unsigned int max, const char **names, const char **values);

/*! An empty trigger: no channel chosen, no parameters. */
void uigw_trigger_init(struct uigw_trigger *t, const char *campaign, const char *msisdn);

/*! Take one argument word of the VTY / CTRL syntax: `via=CH` (or the two words `via CH`, fed one after the
 *  other), `to=URI`, `lang=xx`, else a campaign parameter NAME=VALUE. The word is split in place.
 *  \returns 0; 1 if the word was `via` and the next word names the channel; -EINVAL (not NAME=VALUE, unknown
 *  channel), -E2BIG (too many parameters) */
int uigw_trigger_add_arg(struct uigw_trigger *t, char *word, bool want_channel);

/*! Start campaign \a t->campaign for \a t->msisdn. Checks, in this order: the number, the campaign, its
 *  parameters, the channel (given by `via`, else the first channel in the campaign's `channels` order that
 *  reaches the subscriber: an IMS channel only if the subscriber was seen on IMS within timer X4, USSD and
 *  SMS channels when their link is up), max-dialogs, opt-out, frequency caps. Then the channel prepares its
 *  state (ops->push) and the first screen is rendered and delivered.
 *  \returns 0 (started; it may already have ended with a notice), a positive enum uigw_refusal (nothing was
 *  sent; \a res says why), or negative errno */
int uigw_trigger(struct uigw *gw, const struct uigw_trigger *t, struct uigw_trigger_res *res);
