/*! \file push_cap.c
 *  Frequency caps of network-initiated interactions (pushes, triggers): a gateway-wide cap per subscriber over
 *  every campaign and channel (node uigw `push-cap N per SECONDS`) and a cap per campaign (`push_cap` in the
 *  campaign file). Every push attempt is logged in the store's push table with its result; the caps count the
 *  `sent` rows in the rolling window plus the pushes sent whose row is not committed yet (kept in memory until
 *  their job completes), so that two pushes in the same instant cannot both pass a cap of one. */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/logging.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/core/campaign.h>
#include <osmocom/uigw/store/store.h>
#include <osmocom/uigw/core/dialog.h>

/*! A push whose row is on its way to the store. */
struct push_pending {
	struct llist_head list;
	struct uigw *gw;
	char subscriber[33];
	char *campaign;
	int64_t time_ms;
};

static unsigned int pending_count(struct uigw *gw, const char *subscriber, const char *campaign, int64_t since_ms)
{
	struct push_pending *p;
	unsigned int n = 0;

	llist_for_each_entry(p, &gw->push_pending, list) {
		if (p->time_ms > since_ms && !strcmp(p->subscriber, subscriber) &&
		    (!campaign || !strcmp(p->campaign, campaign)))
			n++;
	}
	return n;
}

/* \returns 1 if \a count pushes within \a per seconds are reached already, 0 if not, negative on error */
static int reached(struct uigw *gw, const char *subscriber, const char *campaign, unsigned int count,
		   unsigned int per, int64_t now)
{
	int64_t since = now - (int64_t)per * 1000;
	int n = uigw_store_push_count(gw->store, subscriber, campaign, since);

	if (n < 0)
		return n;
	return n + pending_count(gw, subscriber, campaign, since) >= count ? 1 : 0;
}

int uigw_push_cap_check(struct uigw *gw, const struct uigw_campaign *c, const char *subscriber, char *why,
			 size_t why_len)
{
	int64_t now = uigw_wall_ms();
	int rc;

	if (!gw->store)
		return 0;
	if (c->push_cap_per) {
		rc = reached(gw, subscriber, c->name, c->push_cap_count, c->push_cap_per, now);
		if (rc) {
			snprintf(why, why_len, rc > 0 ?
				 "frequency cap of campaign %s reached (%u per %u s)" : "frequency cap of campaign %s "
				 "cannot be checked (store error)", c->name, c->push_cap_count, c->push_cap_per);
			return -EDQUOT;
		}
	}
	if (gw->cfg.push_cap_per) {
		rc = reached(gw, subscriber, NULL, gw->cfg.push_cap_count, gw->cfg.push_cap_per, now);
		if (rc) {
			snprintf(why, why_len, rc > 0 ?
				 "frequency cap of the gateway reached (%u per %u s, all campaigns)" : "frequency cap of "
				 "the gateway cannot be checked (store error)", gw->cfg.push_cap_count,
				 gw->cfg.push_cap_per);
			return -EDQUOT;
		}
	}
	return 0;
}

int uigw_push_cap_reserve(struct uigw *gw, const struct uigw_campaign *c, const char *subscriber,
			   enum uigw_channel ch, char *why, size_t why_len)
{
	int rc;

	if (!gw->store || (!c->push_cap_per && !gw->cfg.push_cap_per))
		return 0;
	rc = uigw_store_push_reserve(gw->store, subscriber, c->name, uigw_channel_name(ch), uigw_wall_ms(),
				     c->push_cap_per ? c->push_cap_count : 0, c->push_cap_per,
				     gw->cfg.push_cap_per ? gw->cfg.push_cap_count : 0, gw->cfg.push_cap_per);
	switch (rc) {
	case -ENOTSUP:
		return 0;	/* one gateway on its own database: uigw_push_cap_check() was exact */
	case 0:
		return 1;
	case 1:
		snprintf(why, why_len, "frequency cap of campaign %s reached (%u per %u s), counted on every gateway",
			 c->name, c->push_cap_count, c->push_cap_per);
		return -EDQUOT;
	case 2:
		snprintf(why, why_len, "frequency cap of the gateway reached (%u per %u s, all campaigns), counted on "
			 "every gateway", gw->cfg.push_cap_count, gw->cfg.push_cap_per);
		return -EDQUOT;
	default:
		snprintf(why, why_len, "frequency caps cannot be checked (store error)");
		return -EDQUOT;
	}
}

static void push_done(struct uigw_store_job *job, void *data)
{
	struct push_pending *p = data;

	if (job->rc < 0)
		LOGP(DDLG, LOGL_ERROR, "push log row not written (%d)\n", job->rc);
	if (p) {
		llist_del(&p->list);
		talloc_free(p);
	}
	talloc_free(job);
}

void uigw_push_log(struct uigw *gw, const char *subscriber, const char *campaign, enum uigw_channel ch,
		   const char *result)
{
	struct uigw_store_job *job;
	struct uigw_store_row *r;
	struct push_pending *p = NULL;

	if (!gw->store)
		return;
	job = uigw_store_job_alloc(gw->store, push_done, NULL);
	if (!job)
		return;
	r = uigw_store_job_row(job, UIGW_ROW_PUSH);
	if (!r)
		goto fail;
	r->time_ms = uigw_wall_ms();
	r->subscriber = talloc_strdup(job, subscriber);
	r->campaign = talloc_strdup(job, campaign);
	r->channel = uigw_channel_name(ch);
	r->u.push.result = result;
	if (!r->subscriber || !r->campaign)
		goto fail;
	if (!strcmp(result, "sent")) {
		p = talloc_zero(gw, struct push_pending);
		if (!p)
			goto fail;
		p->gw = gw;
		osmo_strlcpy(p->subscriber, subscriber, sizeof(p->subscriber));
		p->campaign = talloc_strdup(p, campaign);
		p->time_ms = r->time_ms;
		llist_add_tail(&p->list, &gw->push_pending);
	}
	job->data = p;
	if (uigw_store_submit(job) == 0)
		return;
	if (p) {
		llist_del(&p->list);
		talloc_free(p);
	}
fail:
	LOGP(DDLG, LOGL_ERROR, "push of %s to %s not logged: the frequency caps will not count it\n", campaign,
	     subscriber);
	talloc_free(job);
}
