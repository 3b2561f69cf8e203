/*! \file trigger.c
 *  The one network-initiated path (core/trigger.h): checks in a fixed order, the channel choice, then the
 *  channel's preparation and the first screen. Every refusal is a enum uigw_refusal, logged and counted. */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <inttypes.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/fsm.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/common/number.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/campaign.h>
#include <osmocom/uigw/core/trigger.h>
#include <osmocom/uigw/core/proposal.h>
#include <osmocom/uigw/core/pseudonym.h>
#include <osmocom/uigw/core/schedule.h>
#include "dialog_priv.h"

void uigw_trigger_init(struct uigw_trigger *t, const char *campaign, const char *msisdn)
{
	memset(t, 0, sizeof(*t));
	t->campaign = campaign;
	t->msisdn = msisdn;
	t->via = -1;
}

int uigw_trigger_add_arg(struct uigw_trigger *t, char *word, bool want_channel)
{
	char *eq;
	int ch;

	if (want_channel) {
		ch = uigw_channel_by_name(word);
		if (ch < 0)
			return -EINVAL;
		t->via = ch;
		return 0;
	}
	if (!strcmp(word, "via"))
		return 1;
	eq = strchr(word, '=');
	if (!eq || eq == word)
		return -EINVAL;
	*eq++ = '\0';
	if (!strcmp(word, "via")) {
		ch = uigw_channel_by_name(eq);
		if (ch < 0)
			return -EINVAL;
		t->via = ch;
	} else if (!strcmp(word, "to")) {
		t->to = eq;
	} else if (!strcmp(word, "lang")) {
		t->language = eq;
	} else {
		if (t->n_params >= UIGW_TRIGGER_MAX_PARAMS)
			return -E2BIG;
		t->param_names[t->n_params] = word;
		t->param_values[t->n_params++] = eq;
	}
	return 0;
}

/* How well channel \a ch reaches \a msisdn for a push. */
static enum uigw_reach chan_reach(struct uigw *gw, enum uigw_channel ch, const char *msisdn)
{
	struct uigw_chan *c = gw->chan[ch];

	if (!c || !c->open)
		return UIGW_REACH_NO;
	return c->ops->reach ? c->ops->reach(c, msisdn) : UIGW_REACH_UP;
}

/* The documented rule: the campaign's order; IMS channels need the subscriber seen there, the others a link. */
static int choose_channel(struct uigw *gw, const struct uigw_campaign *c, const char *msisdn)
{
	unsigned int i;

	for (i = 0; i < c->n_chan_order; i++) {
		enum uigw_channel ch = c->chan_order[i];
		enum uigw_reach need = UIGW_REACH_UP;

		/* the test drive and the API are never chosen for a subscriber */
		if (ch == UIGW_CHAN_VTY || ch == UIGW_CHAN_API)
			continue;
		if (!gw->chan[ch] || !gw->chan[ch]->ops->push)
			continue;
		if (ch == UIGW_CHAN_USSI || ch == UIGW_CHAN_IMS_MSG)
			need = UIGW_REACH_SEEN;
		if (chan_reach(gw, ch, msisdn) >= need)
			return ch;
	}
	return -1;
}

/* A refusal goes to the store as a row that only the webhooks' outbox keeps (event trigger.refused): one row of
 * the store's log job, so a storm of refusals costs no job each. */
static void log_refusal(struct uigw *gw, const struct uigw_trigger *t, const struct uigw_trigger_res *res)
{
	const struct uigw_campaign *c;
	struct uigw_store_row *row;
	char pseudonym[33];
	void *ctx;

	if (!gw->store)
		return;
	row = uigw_store_log_row(gw->store, UIGW_ROW_REFUSED, &ctx);
	if (!row)
		return;
	c = t->campaign ? uigw_campaign_set_find(gw->campaigns, t->campaign) : NULL;
	row->time_ms = uigw_wall_ms();
	row->campaign = t->campaign ? talloc_strdup(ctx, t->campaign) : NULL;
	row->owner = c && c->owner ? talloc_strdup(ctx, c->owner) : NULL;
	row->channel = res->channel >= 0 ? uigw_channel_name(res->channel) : NULL;
	if (res->msisdn[0]) {
		uigw_pseudonym(gw->pseudonym_key, res->msisdn, pseudonym);
		row->subscriber = talloc_strdup(ctx, pseudonym);
	}
	row->u.refused.refusal = uigw_refusal_name(res->refusal);
	row->u.refused.detail = res->detail[0] ? talloc_strdup(ctx, res->detail) : NULL;
}

static int refuse(struct uigw *gw, const struct uigw_trigger *t, struct uigw_trigger_res *res, enum uigw_refusal r)
{
	res->refusal = r;
	rate_ctr_inc2(gw->ctrs, UIGW_CTR_TRIGGER_REFUSED);
	log_refusal(gw, t, res);
	LOGP(DDLG, LOGL_NOTICE, "trigger of %s for %s%s%s refused: %s%s%s\n", t->campaign ? t->campaign : "-",
	     res->msisdn[0] ? res->msisdn : t->msisdn ? t->msisdn : "-", res->channel >= 0 ? " via " : "",
	     res->channel >= 0 ? uigw_channel_name(res->channel) : "", uigw_refusal_name(r),
	     res->detail[0] ? ": " : "", res->detail);
	return r;
}

static void params_done(struct uigw_store_job *job, void *data)
{
	if (job->rc < 0)
		LOGP(DDLG, LOGL_ERROR, "the parameters of a triggered dialog were not stored (%d)\n", job->rc);
	talloc_free(job);
}

/* The parameters the dialog starts with (the caller's and the campaign's defaults), kept beside its answers:
 * the results show them (a rating of a call with the other party). Fire and forget. */
static void write_params(struct uigw *gw, struct uigw_dialog *dlg, const struct uigw_campaign *c)
{
	struct uigw_store_job *job;
	struct uigw_store_row *r;
	unsigned int k, i;

	if (!gw->store || !c->n_params)
		return;
	job = uigw_store_job_alloc(gw->store, params_done, NULL);
	if (!job)
		return;
	for (k = 0; k < c->n_params; k++) {
		const char *v = c->params[k].def;

		for (i = 0; i < dlg->n_vars; i++)
			if (!strcmp(dlg->vars[i].name, c->params[k].name))
				v = dlg->vars[i].value;
		r = uigw_store_job_row(job, UIGW_ROW_PARAM);
		if (!r)
			break;
		r->time_ms = uigw_wall_ms();
		r->dialog = dlg->id;
		r->campaign = talloc_strdup(job, c->name);
		r->u.param.name = talloc_strdup(job, c->params[k].name);
		r->u.param.value = talloc_strdup(job, v ? v : "");
	}
	if (uigw_store_submit(job) < 0) {
		rate_ctr_inc2(gw->ctrs, UIGW_CTR_STORE_ERRORS);
		LOGPDLG(dlg, LOGL_ERROR, "store queue full: trigger parameters not stored\n");
		talloc_free(job);
	}
}

int uigw_trigger(struct uigw *gw, const struct uigw_trigger *t, struct uigw_trigger_res *res)
{
	struct uigw_trigger_res local;
	struct uigw_dialog *dlg, *old;
	struct uigw_campaign *c;
	struct uigw_chan *chan;
	unsigned int i, k;
	int ch, rc, reserved;

	if (!res)
		res = &local;
	memset(res, 0, sizeof(*res));
	res->channel = -1;
	rate_ctr_inc2(gw->ctrs, UIGW_CTR_TRIGGER);

	if (!t->msisdn || uigw_e164_normalize(t->msisdn, gw->cfg.country_code, gw->cfg.national_prefix, res->msisdn,
					       sizeof(res->msisdn)) < 0) {
		res->msisdn[0] = '\0';
		return refuse(gw, t, res, UIGW_REFUSAL_INVALID_NUMBER);
	}
	c = t->campaign ? uigw_campaign_set_find(gw->campaigns, t->campaign) : NULL;
	if (!c)
		return refuse(gw, t, res, t->campaign && uigw_proposal_find(gw, t->campaign) ?
			      UIGW_REFUSAL_NOT_APPROVED : UIGW_REFUSAL_NO_CAMPAIGN);
	if (!c->enabled)
		return refuse(gw, t, res, UIGW_REFUSAL_CAMPAIGN_DISABLED);
	for (i = 0; i < t->n_params; i++) {
		for (k = 0; k < c->n_params; k++)
			if (!strcmp(c->params[k].name, t->param_names[i]))
				break;
		if (k == c->n_params) {
			snprintf(res->detail, sizeof(res->detail), "'%s'", t->param_names[i]);
			return refuse(gw, t, res, UIGW_REFUSAL_UNKNOWN_PARAMETER);
		}
	}

	if (t->via >= 0) {
		ch = t->via;
		res->channel = ch;
		if (ch >= _UIGW_CHAN_NUM)
			return refuse(gw, t, res, UIGW_REFUSAL_CHANNEL_NOT_ALLOWED);
		if (!(c->channels & (1u << ch)))
			return refuse(gw, t, res, UIGW_REFUSAL_CHANNEL_NOT_ALLOWED);
		if (gw->chan[ch] && !gw->chan[ch]->ops->push) {
			if (gw->chan[ch]->ops->no_push_why)
				osmo_strlcpy(res->detail, gw->chan[ch]->ops->no_push_why, sizeof(res->detail));
			return refuse(gw, t, res, UIGW_REFUSAL_PUSH_NOT_OFFERED);
		}
		if (chan_reach(gw, ch, res->msisdn) == UIGW_REACH_NO) {
			snprintf(res->detail, sizeof(res->detail), "channel %s is %s", uigw_channel_name(ch),
				 gw->chan[ch] ? "down" : "not part of this gateway");
			return refuse(gw, t, res, UIGW_REFUSAL_UNREACHABLE);
		}
	} else {
		ch = choose_channel(gw, c, res->msisdn);
		if (ch < 0)
			return refuse(gw, t, res, UIGW_REFUSAL_UNREACHABLE);
		res->channel = ch;
	}
	chan = gw->chan[ch];

	if (uigw_admit(gw) != UIGW_REFUSAL_NONE)
		return refuse(gw, t, res, UIGW_REFUSAL_BUSY);
	dlg = uigw_dlg_alloc(gw, ch, res->msisdn, NULL, t->language, NULL);
	if (!dlg)
		return -ENOMEM;
	dlg->network_initiated = true;
	/* a subscriber who opted out gets no network-initiated interaction, on any channel */
	if (gw->store && uigw_store_opted_out_of(gw->store, dlg->pseudonym, c->name, c->owner ? c->owner : "operator")
	    == 1) {
		uigw_push_log(gw, dlg->pseudonym, c->name, ch, "opted-out");
		rate_ctr_inc2(gw->ctrs, UIGW_CTR_DLG_REJECTED);
		osmo_fsm_inst_term(dlg->fi, OSMO_FSM_TERM_REGULAR, NULL);
		return refuse(gw, t, res, UIGW_REFUSAL_OPTED_OUT);
	}
	/* where they roam (as their last dialog told): the campaign's roaming policy */
	{
		const char *visited = NULL;

		if (uigw_subscriber_roaming(gw, res->msisdn, &visited)) {
			int pol = uigw_camp_roaming(gw, c);

			dlg->roaming = true;
			OSMO_STRLCPY_ARRAY(dlg->visited, visited ? visited : "");
			if (pol == UIGW_ROAM_DENY ||
			    (pol == UIGW_ROAM_NOTICE_ONLY && c->nodes[c->start].kind != UIGW_NODE_INFO)) {
				snprintf(res->detail, sizeof(res->detail), "roaming%s%s: %s", visited && visited[0] ?
					 " in " : "", visited ? visited : "", pol == UIGW_ROAM_DENY ? "the campaign "
					 "denies roaming subscribers" : "notice-only, and the campaign asks");
				osmo_fsm_inst_term(dlg->fi, OSMO_FSM_TERM_REGULAR, NULL);
				return refuse(gw, t, res, UIGW_REFUSAL_ROAMING);
			}
		}
	}
	/* nor more than the frequency caps allow */
	if (uigw_push_cap_check(gw, c, dlg->pseudonym, res->detail, sizeof(res->detail)) < 0) {
		uigw_push_log(gw, dlg->pseudonym, c->name, ch, "capped");
		rate_ctr_inc2(gw->ctrs, UIGW_CTR_PUSH_CAPPED);
		osmo_fsm_inst_term(dlg->fi, OSMO_FSM_TERM_REGULAR, NULL);
		return refuse(gw, t, res, UIGW_REFUSAL_CAPPED);
	}
	/* not inside the subscriber's quiet hours, nor faster than the campaign's pacing: put off or refused */
	rc = uigw_schedule_check(gw, c, res->msisdn, t->paced, uigw_wall_ms(), &res->deferred_until_ms,
				 &res->deferred_reason);
	if (rc) {
		osmo_fsm_inst_term(dlg->fi, OSMO_FSM_TERM_REGULAR, NULL);
		if (rc == UIGW_REFUSAL_QUIET_HOURS) {
			char until[32];

			snprintf(res->detail, sizeof(res->detail), "%s until %s", res->deferred_reason,
				 uigw_utc_str(until, sizeof(until), res->deferred_until_ms, "%Y-%m-%d %H:%M UTC"));
			return refuse(gw, t, res, UIGW_REFUSAL_QUIET_HOURS);
		}
		rc = uigw_defer(gw, t, res, res->deferred_until_ms, res->deferred_reason);
		if (rc < 0) {
			snprintf(res->detail, sizeof(res->detail), "%s: %s", res->deferred_reason,
				 rc == -ENOSPC ? "defer-max pushes are waiting already" : "out of memory");
			return refuse(gw, t, res, UIGW_REFUSAL_BUSY);
		}
		res->deferred = true;
		LOGP(DDLG, LOGL_INFO, "trigger of %s for %s put off by %" PRId64 " ms (%s)\n", c->name, res->msisdn,
		     res->deferred_until_ms - uigw_wall_ms(), res->deferred_reason);
		return 0;
	}
	/* several gateways on one PostgreSQL database: the caps are counted there, one push at a time per subscriber */
	reserved = uigw_push_cap_reserve(gw, c, dlg->pseudonym, ch, res->detail, sizeof(res->detail));
	if (reserved < 0) {
		uigw_push_log(gw, dlg->pseudonym, c->name, ch, "capped");
		rate_ctr_inc2(gw->ctrs, UIGW_CTR_PUSH_CAPPED);
		osmo_fsm_inst_term(dlg->fi, OSMO_FSM_TERM_REGULAR, NULL);
		return refuse(gw, t, res, UIGW_REFUSAL_CAPPED);
	}
	/* the channel sets up its protocol state; it sends nothing before the core delivers the first screen */
	rc = chan->ops->push(chan, dlg, t);
	if (rc != 0) {
		osmo_fsm_inst_term(dlg->fi, OSMO_FSM_TERM_REGULAR, NULL);
		if (rc < 0) {
			LOGP(DDLG, LOGL_ERROR, "trigger of %s for %s via %s: the channel failed (%d)\n", c->name,
			     res->msisdn, uigw_channel_name(ch), rc);
			return rc;
		}
		return refuse(gw, t, res, rc);
	}
	if (!reserved)
		uigw_push_log(gw, dlg->pseudonym, c->name, ch, "sent");
	old = uigw_dialog_find(gw, dlg->msisdn, ch);
	if (old)
		uigw_dlg_finish(old, UIGW_OUTCOME_ABANDONED, true);
	/* trigger parameters first: the campaign's defaults fill only what is missing */
	for (i = 0; i < t->n_params; i++)
		for (k = 0; k < c->n_params; k++)
			if (!strcmp(c->params[k].name, t->param_names[i]))
				uigw_dlg_var_set(dlg, c->params[k].name, t->param_values[i]);
	res->dialog = dlg->id;
	write_params(gw, dlg, c);
	LOGPDLG(dlg, LOGL_INFO, "triggered with %u parameters\n", t->n_params);
	uigw_dlg_start(dlg, c, -1, NULL, 0, false);
	return 0;
}
