/*! \file schedule.h
 *  When a network-initiated interaction may go out (core/schedule.c): quiet hours in the subscriber's time zone
 *  (gateway-wide in node uigw, or the campaign's own), a campaign's pacing (pushes per second), and the queue of
 *  pushes put off until then — kept in the store, so that they are sent after a restart too. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <osmocom/core/linuxlist.h>

struct uigw;
struct uigw_campaign;
struct uigw_trigger;
struct uigw_trigger_res;

/*! A time zone rule of node uigw: `time-zone number PREFIX TZ` (the subscriber's E.164 number starts with
 *  PREFIX) or `time-zone visited NAME TZ` (a roaming subscriber's visited network starts with NAME). */
struct uigw_tz_rule {
	struct llist_head list;		/*!< in gw->cfg.tz_rules */
	bool visited;
	char *key;
	char *zone;			/*!< an IANA name, e.g. "Europe/Berlin" */
};

/*! A push put off (gw->deferred, by due time). */
struct uigw_deferred {
	struct llist_head list;
	int64_t id;
	int64_t due_ms, created_ms;	/*!< wall clock */
	char reason[16];		/*!< "quiet_hours" or "pacing" */
	char *campaign, *msisdn, *to, *language;
	char *params;			/*!< name=value lines, values %-escaped */
	int via;			/*!< enum uigw_channel, -1: chosen when it goes out */
	unsigned int retries;		/*!< sending found the subscriber unreachable or the gateway busy */
};

/*! "HH:MM" -> minutes of the day, or -1. */
int uigw_hhmm_parse(const char *s);
/*! Is \a zone a time zone this machine knows ("UTC", or a file under /usr/share/zoneinfo)? */
bool uigw_zone_valid(const char *zone);
/*! The time zone for a subscriber now: a `visited` rule while they roam (as their last dialog told), else the
 *  longest `number` rule, else `time-zone default` (NULL: the machine's local time). */
const char *uigw_subscriber_zone(struct uigw *gw, const char *msisdn);
/*! Offset of \a zone (NULL: local time) from UTC at \a t, in seconds. */
long uigw_zone_offset(const char *zone, int64_t t);
/*! A subscriber's dialog told whether they roam, and where (channels that know it: USSI, MESSAGE). */
void uigw_subscriber_roaming_note(struct uigw *gw, const char *msisdn, bool roaming, const char *visited);

/*! Is \a msisdn roaming, as their last dialog on a channel that tells it said (within a day)? \a visited (if not
 *  NULL) gets the visited network ("" if unknown), valid until the next dialog of anyone. */
bool uigw_subscriber_roaming(struct uigw *gw, const char *msisdn, const char **visited);
/*! Is minute-of-day \a m inside quiet hours \a from .. \a to (minutes; -1 or from == to: none)? */
bool uigw_quiet_inside(int from, int to, int m);
/*! The roaming policy of campaign \a c: its own, else node uigw's roaming-policy. */
int uigw_camp_roaming(const struct uigw *gw, const struct uigw_campaign *c);

/*! May campaign \a c be pushed to \a msisdn at \a now_ms? Quiet hours first (the campaign's, else the gateway's),
 *  then the campaign's pacing unless \a paced (a push the pacing already put off).
 *  \returns 0: now; 1: put off until *due_ms for *reason; UIGW_REFUSAL_QUIET_HOURS (a positive refusal):
 *  inside quiet hours whose action is refuse (*due_ms: when they end) */
int uigw_schedule_check(struct uigw *gw, struct uigw_campaign *c, const char *msisdn, bool paced, int64_t now_ms,
			int64_t *due_ms, const char **reason);
/*! Put trigger \a t off until \a due_ms (res->msisdn is the normalised number): in memory and in the store.
 *  \returns 0, -ENOSPC (defer-max reached) or -ENOMEM */
int uigw_defer(struct uigw *gw, const struct uigw_trigger *t, const struct uigw_trigger_res *res, int64_t due_ms,
	       const char *reason);
/*! At start: the deferred pushes from the store into memory, and the timer. */
void uigw_schedule_start(struct uigw *gw);
/*! At the end: the timer stops; the store keeps the pushes for the next start. */
void uigw_schedule_stop(struct uigw *gw);
/*! Drop every deferred push to \a msisdn (an erasure, an opt-out). \returns how many */
unsigned int uigw_defer_drop_subscriber(struct uigw *gw, const char *msisdn);
