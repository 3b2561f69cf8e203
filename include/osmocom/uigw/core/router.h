/*! \file router.h
 *  Which campaign answers a subscriber's first message. */
#pragma once

#include <osmocom/uigw/core/uigw.h>

struct uigw_campaign_set;
struct uigw_campaign;

#define UIGW_ROUTE_MAX_INPUTS 8

/*! The result of routing: the campaign and inputs to feed right away (direct-dial shortcuts, the words after
 *  an SMS keyword). Strings point into \a buf. */
struct uigw_route {
	struct uigw_campaign *camp;
	int start;		/*!< node to start at, -1: the campaign's start (an SMS entry may name another) */
	unsigned int n_inputs;
	const char *inputs[UIGW_ROUTE_MAX_INPUTS];
	char buf[200];
};

/*! Route a first message.
 *  - USSD class (map, gsup, smpp-ussd, ussi, vty with a dial string): the dial string "*7726*1*2#" matches the
 *    entry "*7726#" with the longest prefix of '*'-separated components; the rest ("1", "2") become inputs.
 *  - smpp-sms: short_code + first word (case-insensitive keyword or alias); the rest of the text is one input.
 *  - ims-msg: short_code = Request-URI user part matched against sip entries (one campaign per user part); a
 *    keyword of that campaign at the start of the text is skipped, the rest is one input. A message to a short
 *    code without a sip entry is routed like SMS.
 *  \returns 0, or -ENOENT if nothing matches */
int uigw_route(const struct uigw_campaign_set *set, enum uigw_channel ch, const char *text, const char *short_code,
	       struct uigw_route *r);

/*! \returns true if \a text looks like a USSD dial string (starts with '*' or '#', ends with '#') */
bool uigw_is_dial_string(const char *text);
