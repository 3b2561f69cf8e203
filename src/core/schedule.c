/*! \file schedule.c
 *  When a network-initiated interaction may go out (core/schedule.h).
 *
 *  Quiet hours are minutes of the day in the subscriber's time zone: a `time-zone visited` rule while they roam
 *  (their last dialog on a channel that tells it, within a day), else the longest `time-zone number` prefix of
 *  their number, else `time-zone default`. A push inside them is put off to the minute they end, or refused, as
 *  configured (the campaign's own quiet_hours win over node uigw's). A campaign's pacing gives each push a slot
 *  1/N s after the previous one; a push whose slot is later waits for it. The pushes put off are kept in memory
 *  in due order and in the store (table deferred), and go out through uigw_trigger() again when due, with every
 *  check made anew (an opt-out in between refuses them). A push that then finds the subscriber unreachable or
 *  the gateway busy tries again a minute later, for a day. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/hash.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/campaign.h>
#include <osmocom/uigw/core/trigger.h>
#include <osmocom/uigw/core/schedule.h>
#include <osmocom/uigw/store/store.h>

#define ROAM_VALID_MS	(86400 * 1000LL)	/* what a dialog told about roaming holds this long */
#define RETRY_MS	(60 * 1000LL)		/* a deferred push that found nobody tries again after */
#define RETRY_MAX	(24 * 60)		/* ... for a day */
#define BATCH		256			/* pushes sent per run of the timer */

bool uigw_zone_valid(const char *zone)
{
	char path[256];

	if (!zone || !zone[0] || strstr(zone, "..") || zone[0] == '/')
		return false;
	if (!strcmp(zone, "UTC"))
		return true;
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zone);
	return access(path, R_OK) == 0;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* time zones */

/* libc knows one zone at a time (TZ): the offsets of the zones in use are cached for a minute */
static struct zone_cache {
	char zone[64];
	int64_t t;
	long off;
} zcache[16];
static unsigned int zcache_next;

long uigw_zone_offset(const char *zone, int64_t t)
{
	static char *local_tz;
	static bool local_saved;
	time_t tt = t;
	struct tm tm;
	unsigned int i;
	long off;

	if (!zone) {
		localtime_r(&tt, &tm);
		return tm.tm_gmtoff;
	}
	for (i = 0; i < ARRAY_SIZE(zcache); i++) {
		if (!strcmp(zcache[i].zone, zone) && llabs(zcache[i].t - t) < 60)
			return zcache[i].off;
	}
	if (!local_saved) {
		const char *tz = getenv("TZ");

		local_tz = tz ? strdup(tz) : NULL;
		local_saved = true;
	}
	setenv("TZ", zone, 1);
	tzset();
	localtime_r(&tt, &tm);
	off = tm.tm_gmtoff;
	if (local_tz)
		setenv("TZ", local_tz, 1);
	else
		unsetenv("TZ");
	tzset();
	i = zcache_next++ % ARRAY_SIZE(zcache);
	osmo_strlcpy(zcache[i].zone, zone, sizeof(zcache[i].zone));
	zcache[i].t = t;
	zcache[i].off = off;
	return off;
}

static struct uigw_roam *roam_slot(struct uigw *gw, const char *msisdn, uint32_t *key)
{
	*key = uigw_hash32(msisdn, 0x726f616d) | 1;
	return gw->roam ? &gw->roam[*key & (gw->roam_size - 1)] : NULL;
}

void uigw_subscriber_roaming_note(struct uigw *gw, const char *msisdn, bool roaming, const char *visited)
{
	uint32_t key;
	struct uigw_roam *r = roam_slot(gw, msisdn, &key);

	if (!r || (!roaming && r->key != key))
		return;	/* a subscriber at home is the default: only a change needs the slot */
	r->key = key;
	r->roaming = roaming;
	osmo_strlcpy(r->visited, roaming && visited ? visited : "", sizeof(r->visited));
	r->time_ms = uigw_wall_ms();
}

bool uigw_subscriber_roaming(struct uigw *gw, const char *msisdn, const char **visited)
{
	uint32_t key;
	struct uigw_roam *r = roam_slot(gw, msisdn, &key);

	if (!r || r->key != key || !r->roaming || uigw_wall_ms() - r->time_ms >= ROAM_VALID_MS)
		return false;
	if (visited)
		*visited = r->visited;
	return true;
}

int uigw_camp_roaming(const struct uigw *gw, const struct uigw_campaign *c)
{
	return c->roaming != UIGW_ROAM_GATEWAY ? (int)c->roaming : gw->cfg.roaming_policy;
}

const char *uigw_subscriber_zone(struct uigw *gw, const char *msisdn)
{
	const struct uigw_tz_rule *rule, *best = NULL;
	const char *digits = msisdn[0] == '+' ? msisdn + 1 : msisdn;
	const char *visited = NULL;
	size_t best_len = 0;
	/* roaming: the visited network's rules; else the number's */
	bool by_visited = uigw_subscriber_roaming(gw, msisdn, &visited) && visited && visited[0];

	llist_for_each_entry(rule, &gw->cfg.tz_rules, list) {
		size_t n = strlen(rule->key);

		if (rule->visited != by_visited || n <= best_len)
			continue;
		if (by_visited ? !strncasecmp(visited, rule->key, n) : !strncmp(digits, rule->key, n)) {
			best = rule;
			best_len = n;
		}
	}
	/* a roaming subscriber whose network has no rule: by their number */
	if (!best && by_visited) {
		llist_for_each_entry(rule, &gw->cfg.tz_rules, list) {
			size_t n = strlen(rule->key);

			if (!rule->visited && n > best_len && !strncmp(digits, rule->key, n)) {
				best = rule;
				best_len = n;
			}
		}
	}
	return best ? best->zone : gw->cfg.tz_default;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* the policy */

bool uigw_quiet_inside(int from, int to, int m)
{
	if (from < 0 || to < 0 || from == to)
		return false;
	return from < to ? (m >= from && m < to) : (m >= from || m < to);
}

int uigw_schedule_check(struct uigw *gw, struct uigw_campaign *c, const char *msisdn, bool paced, int64_t now_ms,
			int64_t *due_ms, const char **reason)
{
	int from = gw->cfg.quiet_from, to = gw->cfg.quiet_to;
	bool refuse = gw->cfg.quiet_refuse;

	if (c->quiet == UIGW_QUIET_OWN) {
		from = c->quiet_from;
		to = c->quiet_to;
		refuse = c->quiet_refuse;
	} else if (c->quiet == UIGW_QUIET_NONE) {
		from = to = -1;
	}
	if (from >= 0 && to >= 0 && from != to) {
		int64_t now_s = now_ms / 1000;
		long off = uigw_zone_offset(uigw_subscriber_zone(gw, msisdn), now_s);
		int64_t local_min = (now_s + off) / 60;
		int m = (int)(local_min % 1440);

		if (uigw_quiet_inside(from, to, m)) {
			int delta = (to - m + 1440) % 1440;

			/* the minute they end, in UTC (a change of the zone's offset on the way is found when it fires) */
			*due_ms = ((local_min + delta) * 60 - off) * 1000;
			*reason = "quiet_hours";
			return refuse ? UIGW_REFUSAL_QUIET_HOURS : 1;
		}
	}
	if (c->pacing && !paced) {
		int64_t now_us = now_ms * 1000, slot = c->pace_next_us > now_us ? c->pace_next_us : now_us;

		c->pace_next_us = slot + 1000000 / c->pacing;
		if (slot > now_us + 500) {
			*due_ms = (slot + 999) / 1000;
			*reason = "pacing";
			return 1;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* the queue */

static void defer_timer_cb(void *data);

static void timer_update(struct uigw *gw)
{
	struct uigw_deferred *d;
	int64_t wait;

	if (llist_empty(&gw->deferred)) {
		osmo_timer_del(&gw->defer_timer);
		return;
	}
	d = llist_first_entry(&gw->deferred, struct uigw_deferred, list);
	wait = d->due_ms - uigw_wall_ms();
	if (wait < 0)
		wait = 0;
	if (wait > 3600 * 1000)
		wait = 3600 * 1000;	/* the wall clock may jump: look again within the hour */
	osmo_timer_setup(&gw->defer_timer, defer_timer_cb, gw);
	osmo_timer_schedule(&gw->defer_timer, wait / 1000, (wait % 1000) * 1000);
}

/* in due order; a later one with the same due time goes after (pacing appends at the end: O(1)) */
static void queue(struct uigw *gw, struct uigw_deferred *d)
{
	struct uigw_deferred *pos;

	llist_for_each_entry_reverse(pos, &gw->deferred, list) {
		if (pos->due_ms <= d->due_ms) {
			llist_add(&d->list, &pos->list);
			goto added;
		}
	}
	llist_add(&d->list, &gw->deferred);
added:
	gw->n_deferred++;
	if (llist_first_entry(&gw->deferred, struct uigw_deferred, list) == d)
		timer_update(gw);
}

static void store_row(struct uigw *gw, const struct uigw_deferred *d)
{
	struct uigw_store_row *r;
	void *ctx;

	if (!gw->store)
		return;
	r = uigw_store_log_row(gw->store, UIGW_ROW_DEFER, &ctx);
	if (!r) {
		LOGP(DDLG, LOGL_ERROR, "deferred push %" PRId64 " not stored: lost at a restart\n", d->id);
		return;
	}
	r->time_ms = d->created_ms;
	r->campaign = talloc_strdup(ctx, d->campaign);
	r->u.defer.id = d->id;
	r->u.defer.due_ms = d->due_ms;
	r->u.defer.reason = talloc_strdup(ctx, d->reason);
	r->u.defer.msisdn = talloc_strdup(ctx, d->msisdn);
	r->u.defer.via = d->via;
	r->u.defer.to = d->to ? talloc_strdup(ctx, d->to) : NULL;
	r->u.defer.language = d->language ? talloc_strdup(ctx, d->language) : NULL;
	r->u.defer.params = d->params ? talloc_strdup(ctx, d->params) : NULL;
}

static void store_done(struct uigw *gw, int64_t id)
{
	struct uigw_store_row *r;
	void *ctx;

	if (!gw->store)
		return;
	r = uigw_store_log_row(gw->store, UIGW_ROW_DEFER_DONE, &ctx);
	if (r)
		r->u.defer.id = id;
}

static void dequeue(struct uigw *gw, struct uigw_deferred *d)
{
	llist_del(&d->list);
	gw->n_deferred--;
}

static bool param_escaped(char c)
{
	return c == '%' || c == '=' || c == '\n' || c == '\r';
}

/* one allocation of the exact size (a dialog's state is encoded at every step on a shared store) */
char *uigw_params_encode(void *ctx, unsigned int n, const char *const *names, const char *const *values)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len = 1;
	unsigned int i;
	const char *v;
	char *out, *o;

	for (i = 0; i < n; i++) {
		len += strlen(names[i]) + 2;
		for (v = values[i] ? values[i] : ""; *v; v++)
			len += param_escaped(*v) ? 3 : 1;
	}
	out = talloc_size(ctx, len);
	if (!out)
		return NULL;
	talloc_set_name_const(out, "params");
	o = out;
	for (i = 0; i < n; i++) {
		size_t nl = strlen(names[i]);

		memcpy(o, names[i], nl);
		o += nl;
		*o++ = '=';
		for (v = values[i] ? values[i] : ""; *v; v++) {
			if (param_escaped(*v)) {
				*o++ = '%';
				*o++ = hex[(unsigned char)*v >> 4];
				*o++ = hex[(unsigned char)*v & 0xf];
			} else {
				*o++ = *v;
			}
		}
		*o++ = '\n';
	}
	*o = '\0';
	return out;
}

unsigned int uigw_params_decode(char *buf, unsigned int max, const char **names, const char **values)
{
	char *line, *save = NULL, *eq, *r, *w;
	unsigned int n = 0;

	for (line = strtok_r(buf, "\n", &save); line && n < max; line = strtok_r(NULL, "\n", &save)) {
		eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq++ = '\0';
		for (r = w = eq; *r; r++) {
			unsigned int c;

			if (*r == '%' && sscanf(r + 1, "%2x", &c) == 1) {
				*w++ = (char)c;
				r += 2;
			} else {
				*w++ = *r;
			}
		}
		*w = '\0';
		names[n] = line;
		values[n++] = eq;
	}
	return n;
}

int uigw_defer(struct uigw *gw, const struct uigw_trigger *t, const struct uigw_trigger_res *res, int64_t due_ms,
	       const char *reason)
{
	struct uigw_deferred *d;

	if (gw->n_deferred >= gw->cfg.defer_max)
		return -ENOSPC;
	d = talloc_zero(gw, struct uigw_deferred);
	if (!d)
		return -ENOMEM;
	d->id = gw->defer_next_id++;
	d->due_ms = due_ms;
	d->created_ms = uigw_wall_ms();
	OSMO_STRLCPY_ARRAY(d->reason, reason);
	d->campaign = talloc_strdup(d, t->campaign);
	d->msisdn = talloc_strdup(d, res->msisdn);
	d->to = t->to ? talloc_strdup(d, t->to) : NULL;
	d->language = t->language ? talloc_strdup(d, t->language) : NULL;
	d->params = t->n_params ? uigw_params_encode(d, t->n_params, t->param_names, t->param_values) : NULL;
	d->via = t->via;
	if (!d->campaign || !d->msisdn || (t->to && !d->to) || (t->language && !d->language) ||
	    (t->n_params && !d->params)) {
		talloc_free(d);
		return -ENOMEM;
	}
	store_row(gw, d);
	queue(gw, d);
	return 0;
}

/* send one that is due: the trigger path with every check anew */
static void send_one(struct uigw *gw, struct uigw_deferred *d)
{
	struct uigw_trigger t;
	struct uigw_trigger_res res;
	char *params = d->params ? talloc_strdup(d, d->params) : NULL;
	int rc;

	uigw_trigger_init(&t, d->campaign, d->msisdn);
	t.via = d->via;
	t.to = d->to;
	t.language = d->language;
	t.paced = !strcmp(d->reason, "pacing");
	if (params)
		t.n_params = uigw_params_decode(params, UIGW_TRIGGER_MAX_PARAMS, t.param_names, t.param_values);
	rc = uigw_trigger(gw, &t, &res);
	if (rc == 0 && res.deferred) {
		/* put off again (pacing after quiet hours, a zone that changed): a new entry took its place */
		LOGP(DDLG, LOGL_INFO, "deferred push of %s to %s: put off again (%s)\n", d->campaign, d->msisdn,
		     res.deferred_reason);
	} else if (rc == 0) {
		LOGP(DDLG, LOGL_INFO, "deferred push of %s to %s (%s) sent: dialog %" PRIu64 "\n", d->campaign, d->msisdn,
		     d->reason, res.dialog);
	} else if ((rc == UIGW_REFUSAL_UNREACHABLE || rc == UIGW_REFUSAL_BUSY || rc < 0) && d->retries < RETRY_MAX) {
		d->retries++;
		d->due_ms = uigw_wall_ms() + RETRY_MS;
		store_row(gw, d);
		queue(gw, d);
		talloc_free(params);
		return;
	} else {
		LOGP(DDLG, LOGL_NOTICE, "deferred push of %s to %s dropped: %s\n", d->campaign, d->msisdn,
		     rc > 0 ? uigw_refusal_name(rc) : "error");
	}
	store_done(gw, d->id);
	talloc_free(d);
}

static void defer_timer_cb(void *data)
{
	struct uigw *gw = data;
	int64_t now = uigw_wall_ms();
	unsigned int n = 0;

	while (!llist_empty(&gw->deferred) && n++ < BATCH) {
		struct uigw_deferred *d = llist_first_entry(&gw->deferred, struct uigw_deferred, list);

		if (d->due_ms > now)
			break;
		dequeue(gw, d);
		send_one(gw, d);
	}
	timer_update(gw);
}

static void load_one(int64_t id, int64_t due_ms, int64_t created_ms, const char *reason, const char *campaign,
		     const char *msisdn, int via, const char *to, const char *language, const char *params, void *data)
{
	struct uigw *gw = data;
	struct uigw_deferred *d = talloc_zero(gw, struct uigw_deferred);

	if (!d || !campaign || !msisdn)
		goto fail;
	d->id = id;
	d->due_ms = due_ms;
	d->created_ms = created_ms;
	OSMO_STRLCPY_ARRAY(d->reason, reason ? reason : "quiet_hours");
	d->campaign = talloc_strdup(d, campaign);
	d->msisdn = talloc_strdup(d, msisdn);
	d->to = to ? talloc_strdup(d, to) : NULL;
	d->language = language ? talloc_strdup(d, language) : NULL;
	d->params = params ? talloc_strdup(d, params) : NULL;
	d->via = via;
	if (id >= gw->defer_next_id)
		gw->defer_next_id = id + 1;
	/* loaded in due order: each goes to the end */
	llist_add_tail(&d->list, &gw->deferred);
	gw->n_deferred++;
	return;
fail:
	talloc_free(d);
	LOGP(DDLG, LOGL_ERROR, "deferred push %" PRId64 " unreadable, dropped\n", id);
	store_done(gw, id);
}

void uigw_schedule_start(struct uigw *gw)
{
	int64_t now = uigw_wall_ms();

	/* ids unique across restarts without reading the database, as the dialogs' */
	if (!gw->defer_next_id)
		gw->defer_next_id = ((now / 1000) << 20) + (now % 1000) * 1024;
	if (gw->store && uigw_store_deferred_load(gw->store, load_one, gw) == 0 && gw->n_deferred)
		LOGP(DDLG, LOGL_NOTICE, "%u deferred pushes waiting (the first due in %" PRId64 " s)\n", gw->n_deferred,
		     (llist_first_entry(&gw->deferred, struct uigw_deferred, list)->due_ms - now) / 1000);
	timer_update(gw);
}

void uigw_schedule_stop(struct uigw *gw)
{
	struct uigw_deferred *d, *tmp;

	osmo_timer_del(&gw->defer_timer);
	llist_for_each_entry_safe(d, tmp, &gw->deferred, list) {
		dequeue(gw, d);
		talloc_free(d);
	}
}

unsigned int uigw_defer_drop_subscriber(struct uigw *gw, const char *msisdn)
{
	struct uigw_deferred *d, *tmp;
	unsigned int n = 0;

	llist_for_each_entry_safe(d, tmp, &gw->deferred, list) {
		if (strcmp(d->msisdn, msisdn))
			continue;
		dequeue(gw, d);
		store_done(gw, d->id);
		talloc_free(d);
		n++;
	}
	if (n)
		timer_update(gw);
	return n;
}
