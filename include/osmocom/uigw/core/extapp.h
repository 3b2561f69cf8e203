/*! \file extapp.h
 *  External applications behind short codes: `route PREFIX external-app URL [timeout MS]` (node uigw). A dialog
 *  on a code that no local campaign serves is relayed step by step to the application as an HTTP POST in the
 *  convention USSD developers know (Africa's Talking): application/x-www-form-urlencoded sessionId, serviceCode,
 *  phoneNumber, text (the inputs so far joined by '*'), channel, networkCode; the application answers
 *  "CON text" (show it, wait for the next input) or "END text" (show it, end). Every channel: USSD (map, gsup,
 *  smpp-ussd, ussi), SMS and MESSAGE (each message a step). The gateway pages long texts with the channel's
 *  budget, stores every input as an answer of the route's campaign ("ext-" and the code), and ends the dialog
 *  with the error text when the application does not answer in time, answers other than 2xx, or answers
 *  neither CON nor END. The requests go through the libcurl client on the loop (common/http_client.h). */
#pragma once

#include <stdbool.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/uigw/common/channel.h>

struct uigw;
struct uigw_dialog;
struct uigw_campaign;
struct uigw_http_result;

#define UIGW_EXTAPP_TIMEOUT_MS	5000	/*!< default of `timeout` */
#define UIGW_EXTAPP_TEXT_MAX	4000	/*!< an application's text is cut here (bytes) */

/*! One route. */
struct uigw_extapp {
	struct llist_head list;		/*!< in gw->extapps */
	char *prefix;			/*!< "*123" (USSD service code) or "7750" (SMS short code, SIP user part) */
	char *url;
	unsigned int timeout_ms;
	struct uigw_campaign *camp;	/*!< the route's campaign (referenced): its dialogs, answers, counters */
};

/*! Add or replace the route of \a prefix. Dialogs running on a replaced route finish on the old one.
 *  \returns 0; -EINVAL (bad prefix or URL: \a err says why), -EEXIST (a campaign of the same name exists),
 *  -ENOMEM */
int uigw_extapp_set(struct uigw *gw, const char *prefix, const char *url, unsigned int timeout_ms, char *err,
		    size_t err_len);
/*! Remove the route of \a prefix. \returns 0 or -ENOENT */
int uigw_extapp_del(struct uigw *gw, const char *prefix);
/*! Remove every route (at shutdown). */
void uigw_extapp_free_all(struct uigw *gw);

/*! The route of a first message that no campaign serves, or NULL. USSD class channels: a dial string that
 *  starts with the prefix's components ("*123*1*2#" for "*123"; the rest, "1*2", into \a rest); SMS and MESSAGE:
 *  a short code (the Request-URI user part) equal to the prefix (the message text into \a rest). */
struct uigw_extapp *uigw_extapp_route(struct uigw *gw, enum uigw_channel ch, const char *text,
				      const char *short_code, char *rest, size_t rest_len);


/*! An application's answer body: "CON text" or "END text" (leading white space skipped, trailing cut, the
 *  text at most UIGW_EXTAPP_TEXT_MAX bytes, cut at a UTF-8 character's start). Pure: the fuzz target's entry.
 *  \returns 0 (CON), 1 (END), -EPROTO (neither, or a NUL in it); \a text points into \a body */
int uigw_extapp_parse(const char *body, size_t len, const char **text, size_t *text_len);
