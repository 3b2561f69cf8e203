/*! \file optout.h
 *  What the operator and the subscribers decide about a subscriber's data. One opt-out list for every channel: a subscriber who opts out gets no network-initiated interaction on any
 *  channel (every push path checks it: core/trigger.c), until they opt back in. Written by the SMS keywords,
 *  a campaign's `optout` action and the operator's VTY. */
#pragma once

#include <stdbool.h>
#include <osmocom/uigw/core/chan.h>
#include <osmocom/uigw/store/store.h>

struct uigw;

/*! Queue the OPTOUT row of \a msisdn (E.164 with '+'): opted out (\a out) or back in, told through channel
 *  \a ch. \a done runs on the loop after the commit (job->rc < 0: not recorded); \a data is its job->data.
 *  \returns the submitted job, or NULL (no store, out of memory, the store refused it) */
struct uigw_store_job *uigw_optout_submit(struct uigw *gw, const char *msisdn, bool out, enum uigw_channel ch,
					  uigw_store_done_cb done, void *data);

/*! The same for one campaign (\a scope "campaign:NAME") or one tenant's campaigns ("tenant:NAME"); scope NULL:
 *  every push (and opting back in with NULL ends the scoped opt-outs too). */
struct uigw_store_job *uigw_optout_submit_scope(struct uigw *gw, const char *msisdn, bool out, enum uigw_channel ch,
						const char *scope, uigw_store_done_cb done, void *data);

/*! Defaults of the keywords and their confirmations (node `uigw`). */
#define UIGW_STOP_KEYWORDS	"STOP STOPP UNSUBSCRIBE"
#define UIGW_STOP_REPLY		"You are unsubscribed and will get no more messages from this service."
#define UIGW_START_KEYWORDS	"START"
#define UIGW_START_REPLY	"You are subscribed again to messages from this service."

/*! Is a subscriber's whole message (blanks and a final '.'/'!' aside, any case) one of the opt-out keywords
 *  (\returns 1) or opt-in keywords (\returns -1)? 0: neither. The channels that carry text (SMS, MESSAGE) ask
 *  before anything else, inside a dialog too. */
int uigw_optout_keyword(const struct uigw *gw, const char *text);
/*! The same, across the languages of `keywords LANG ...` too; \a reply (if not NULL) gets the confirmation in
 *  the language of the word (NULL or "": none), valid until the configuration changes. */
int uigw_optout_keyword_reply(const struct uigw *gw, const char *text, const char **reply);

/*! End the subscriber's dialogs on every channel now (outcome rejected, no resume) and forget a cut-off one. */
void uigw_subscriber_end_dialogs(struct uigw *gw, const char *msisdn);

/*! Erase a subscriber (the operator, on request): uigw_subscriber_end_dialogs(), then a UIGW_ROW_ERASE job deletes every row the store holds about them
 *  (uigw_store_subscriber_export() lists the same rows), the opt-out too.
 *  \returns the submitted job (\a done runs after the commit), or NULL (no store, out of memory) */
struct uigw_store_job *uigw_subscriber_erase(struct uigw *gw, const char *msisdn, uigw_store_done_cb done,
					     void *data);
