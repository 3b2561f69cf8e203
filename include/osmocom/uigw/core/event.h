/*! \file event.h
 *  Network events (a call ended, a ringback video was played, a Data Channel app closed, a number looks like
 *  spam, or a custom type): each campaign that declares the event in `on_event` and whose conditions hold is
 *  started for the subscriber through the one trigger path (uigw_trigger()), subject to sampling, caps and
 *  policy. The HTTP API's POST /v1/events and the VTY's `event` command call uigw_event(). */
#pragma once

#include <stdint.h>
#include <stdbool.h>
#include <osmocom/uigw/core/trigger.h>

struct uigw;
struct uigw_campaign;

#define UIGW_EVENT_MAX_PARAMS	16

struct uigw_event {
	const char *type;		/*!< "call-ended", "crs-played", "dc-app-closed", "spam-suspected", ... */
	const char *msisdn;		/*!< the subscriber */
	int via;			/*!< enum uigw_channel, or -1: each campaign's own choice */
	const char *owner;		/*!< only campaigns of this tenant; NULL: every campaign (the operator) */
	unsigned int n_params;
	const char *param_names[UIGW_EVENT_MAX_PARAMS];
	const char *param_values[UIGW_EVENT_MAX_PARAMS];
};

/*! What an event did to one campaign that listens to its type. */
struct uigw_event_hit {
	const struct uigw_campaign *campaign;
	enum uigw_event_result {
		UIGW_EVENT_TRIGGERED,		/*!< started: res.dialog, res.channel */
		UIGW_EVENT_REFUSED,		/*!< the trigger path refused: res.refusal, res.detail */
		UIGW_EVENT_CONDITION,		/*!< a condition (min, equals) does not hold */
		UIGW_EVENT_SAMPLED_OUT,		/*!< not in the sample */
		UIGW_EVENT_FAILED,		/*!< an internal error */
	} result;
	struct uigw_trigger_res res;
};
extern const struct value_string uigw_event_result_names[];	/*!< "triggered","refused","condition",... */

typedef void (*uigw_event_cb)(const struct uigw_event_hit *hit, void *data);

/*! Offer an event to every campaign in service that listens to its type (the first matching `on_event` entry
 *  of each campaign counts). Parameters the campaign declares are passed on (renamed by the entry's params),
 *  the others are not. \a cb is called once per listening campaign.
 *  \returns the number of campaigns started, or -EINVAL (no type or number) */
int uigw_event(struct uigw *gw, const struct uigw_event *ev, uigw_event_cb cb, void *data);

/*! Seed the sampling's random numbers (tests); the gateway seeds them from getrandom() at start. */
void uigw_event_seed(struct uigw *gw, uint64_t seed);
