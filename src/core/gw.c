/*! \file gw.c
 *  The gateway root object: defaults, counters, timers, campaign (re)loading, start and shutdown. */

#include <errno.h>
#include <string.h>
#include <time.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/stat_item.h>
#include <osmocom/core/stats.h>
#include <osmocom/core/tdef.h>
#include <osmocom/core/fsm.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/schedule.h>
#include <osmocom/uigw/core/extapp.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/core/campaign.h>
#include <osmocom/uigw/core/proposal.h>
#include <osmocom/uigw/store/store.h>
#include <osmocom/uigw/core/dialog.h>
#include <osmocom/uigw/core/pseudonym.h>
#include <osmocom/uigw/core/optout.h>

static const struct rate_ctr_desc uigw_ctr_desc[] = {
	[UIGW_CTR_DLG_BEGIN] = { "dialog:begin", "Dialogs begun" },
	[UIGW_CTR_DLG_COMPLETED] = { "dialog:completed", "Dialogs completed" },
	[UIGW_CTR_DLG_ABANDONED] = { "dialog:abandoned", "Dialogs abandoned by the user or the network" },
	[UIGW_CTR_DLG_TIMEOUT] = { "dialog:timed-out", "Dialogs timed out waiting for input" },
	[UIGW_CTR_DLG_REJECTED] = { "dialog:rejected", "Dialogs refused or ended for invalid input" },
	[UIGW_CTR_DLG_BUSY] = { "dialog:busy", "Dialogs refused because max-dialogs was reached" },
	[UIGW_CTR_DLG_RESUMED] = { "dialog:resumed", "USSD dialogs resumed after a cut-off" },
	[UIGW_CTR_DLG_UNROUTED] = { "dialog:unrouted", "First messages no campaign matched" },
	[UIGW_CTR_STEPS] = { "dialog:steps", "Inputs processed" },
	[UIGW_CTR_INVALID_INPUT] = { "dialog:invalid-input", "Inputs refused by validation" },
	[UIGW_CTR_RESPONSES] = { "store:responses", "Responses handed to the store" },
	[UIGW_CTR_STORE_ERRORS] = { "store:errors", "Store jobs refused or failed" },
	[UIGW_CTR_CAMPAIGN_RELOAD] = { "campaign:reload", "Successful campaign (re)loads" },
	[UIGW_CTR_CAMPAIGN_RELOAD_FAIL] = { "campaign:reload-failed", "Refused campaign reloads" },
	[UIGW_CTR_PUSH_CAPPED] = { "dialog:push-capped", "Pushes refused by a frequency cap" },
	[UIGW_CTR_TRIGGER] = { "trigger:received", "Network-initiated triggers (VTY, CTRL, API)" },
	[UIGW_CTR_TRIGGER_REFUSED] = { "trigger:refused", "Triggers refused (see the log for the reason)" },
	[UIGW_CTR_EXT_REQUESTS] = { "extapp:requests", "Steps relayed to external applications (HTTP requests)" },
	[UIGW_CTR_EXT_ERRORS] = { "extapp:errors", "Steps an external application failed (no answer in time, not 2xx, not CON/END)" },
	[UIGW_CTR_BUSY_STORE] = { "dialog:busy-store", "Dialogs and pushes refused because the store failed to commit (disk full, I/O error)" },
	[UIGW_CTR_BUSY_OVERLOAD] = { "dialog:busy-overload", "Dialogs and pushes refused by overload control (store backlog or event loop lag past its high mark)" },
	[UIGW_CTR_BUSY_DRAIN] = { "dialog:busy-drain", "Dialogs and pushes refused while the operator drains the gateway (VTY drain)" },
	[UIGW_CTR_CTRL_DROPPED] = { "ctrl:dropped", "CTRL connections closed: no IPA CTRL framing, or a message incomplete past ctrl-message-timeout" },
	[UIGW_CTR_BUSY_LATE] = { "dialog:busy-late", "New dialogs refused because their request waited past overload "
				 "max-wait in the kernel (SIP over UDP)" },
};

static const struct rate_ctr_group_desc uigw_ctrg_desc = {
	.group_name_prefix = "uigw",
	.group_description = "osmo-uigw core",
	.class_id = OSMO_STATS_CLASS_GLOBAL,
	.num_ctr = ARRAY_SIZE(uigw_ctr_desc),
	.ctr_desc = uigw_ctr_desc,
};

static const struct rate_ctr_desc uigw_dctr_desc[] = {
	[UIGW_DCTR_BEGIN] = { "dialog:begin", "Dialogs begun" },
	[UIGW_DCTR_COMPLETED] = { "dialog:completed", "Dialogs completed" },
	[UIGW_DCTR_ABANDONED] = { "dialog:abandoned", "Dialogs abandoned by the user or the network" },
	[UIGW_DCTR_TIMEOUT] = { "dialog:timed-out", "Dialogs timed out waiting for input" },
	[UIGW_DCTR_REJECTED] = { "dialog:rejected", "Dialogs refused or ended for invalid input" },
	[UIGW_DCTR_STEPS] = { "dialog:steps", "Inputs processed" },
	[UIGW_DCTR_RESPONSES] = { "store:responses", "Responses handed to the store" },
};

static const struct rate_ctr_group_desc uigw_chan_ctrg_desc = {
	.group_name_prefix = "uigw:channel",
	.group_description = "osmo-uigw dialogs per channel",
	.class_id = OSMO_STATS_CLASS_PEER,
	.num_ctr = ARRAY_SIZE(uigw_dctr_desc),
	.ctr_desc = uigw_dctr_desc,
};

static const struct rate_ctr_group_desc uigw_camp_ctrg_desc = {
	.group_name_prefix = "uigw:campaign",
	.group_description = "osmo-uigw dialogs per campaign",
	.class_id = OSMO_STATS_CLASS_PEER,
	.num_ctr = ARRAY_SIZE(uigw_dctr_desc),
	.ctr_desc = uigw_dctr_desc,
};

struct uigw_camp_ctrs {
	struct llist_head list;
	struct rate_ctr_group *g;	/*!< its name is the campaign's */
};

static const struct osmo_stat_item_desc uigw_stat_desc[] = {
	[UIGW_STAT_DLG_ACTIVE] = { "dialog:active", "Active dialogs", "", 16, 0 },
	[UIGW_STAT_STORE_QUEUE] = { "store:queue", "Store jobs waiting for commit", "", 16, 0 },
	[UIGW_STAT_CAMPAIGNS] = { "campaign:loaded", "Campaigns in service", "", 16, 0 },
	[UIGW_STAT_OVERLOAD] = { "overload:active", "1 while overload control refuses new dialogs", "", 16, 0 },
	[UIGW_STAT_LOOP_LAG] = { "loop:lag", "How late the event loop runs its timers, in milliseconds (smoothed)", "ms", 16, 0 },
	[UIGW_STAT_QUEUE_DELAY] = { "loop:queue-delay", "How long requests waited before they were read, in milliseconds: the least over the overload window (SIP over UDP, SMPP)", "ms", 16, 0 },
};

static const struct osmo_stat_item_group_desc uigw_statg_desc = {
	.group_name_prefix = "uigw",
	.group_description = "osmo-uigw core",
	.class_id = OSMO_STATS_CLASS_GLOBAL,
	.num_items = ARRAY_SIZE(uigw_stat_desc),
	.item_desc = uigw_stat_desc,
};

static const struct osmo_tdef uigw_tdefs_default[] = {
	{ .T = UIGW_T_USSD, .default_val = 60, .unit = OSMO_TDEF_S,
	  .desc = "USSD-class dialogs (map, gsup, smpp-ussd, ussi): wait for the subscriber's answer" },
	{ .T = UIGW_T_SMS, .default_val = 3600, .unit = OSMO_TDEF_S,
	  .desc = "SMS dialogs: wait for the subscriber's reply" },
	{ .T = UIGW_T_IMS, .default_val = 900, .unit = OSMO_TDEF_S,
	  .desc = "IMS message dialogs: wait for the subscriber's reply" },
	{ .T = UIGW_T_IMS_SEEN, .default_val = 3600, .unit = OSMO_TDEF_S,
	  .desc = "a trigger without `via` reaches a subscriber over IMS if seen there (request, registration) "
		  "within this time" },
	{}
};

struct uigw *uigw_vty_root;

enum uigw_refusal uigw_admit(struct uigw *gw)
{
	if (gw->overload.draining) {
		rate_ctr_inc2(gw->ctrs, UIGW_CTR_BUSY_DRAIN);
		return UIGW_REFUSAL_BUSY;
	}
	if (gw->n_dialogs >= gw->cfg.max_dialogs) {
		rate_ctr_inc2(gw->ctrs, UIGW_CTR_DLG_BUSY);
		return UIGW_REFUSAL_BUSY;
	}
	/* answers could not be kept: nobody new is asked (the store holds the running dialogs' answers) */
	if (uigw_store_failing(gw->store)) {
		rate_ctr_inc2(gw->ctrs, UIGW_CTR_BUSY_STORE);
		return UIGW_REFUSAL_BUSY;
	}
	/* the dialogs under way first */
	if (uigw_overload_refuse(gw)) {
		rate_ctr_inc2(gw->ctrs, UIGW_CTR_BUSY_OVERLOAD);
		gw->overload.refused++;
		gw->overload.refused_now++;
		return UIGW_REFUSAL_BUSY;
	}
	return UIGW_REFUSAL_NONE;
}

enum uigw_refusal uigw_admit_waited(struct uigw *gw, int64_t waited_ms)
{
	if (!gw->overload.draining && uigw_overload_late(gw, waited_ms)) {
		rate_ctr_inc2(gw->ctrs, UIGW_CTR_BUSY_LATE);
		return UIGW_REFUSAL_BUSY;
	}
	return uigw_admit(gw);
}

bool uigw_refusing(const struct uigw *gw)
{
	/* the share, not the episode: in an episode's calm second everything is admitted again */
	return gw->overload.draining || gw->n_dialogs >= gw->cfg.max_dialogs || uigw_store_failing(gw->store) ||
	       gw->overload.admit_pm < 1000;
}

struct uigw *uigw_alloc(void *ctx)
{
	struct uigw *gw = talloc_zero(ctx, struct uigw);
	unsigned int i;
	int64_t now;

	if (!gw)
		return NULL;
	gw->ctx = gw;
	gw->cfg.campaigns_dir = talloc_strdup(gw, "etc/campaigns");
	gw->cfg.country_code = talloc_strdup(gw, "49");
	gw->cfg.national_prefix = talloc_strdup(gw, "0");
	gw->cfg.default_language = talloc_strdup(gw, "en");
	gw->cfg.max_dialogs = 200000;
	gw->cfg.resume_window = 120;
	gw->cfg.max_retries = 3;
	gw->cfg.ctrl_msg_timeout_s = 10;
	gw->cfg.busy_text = talloc_strdup(gw, "The service is busy. Please try again in a few minutes.");
	uigw_overload_defaults(&gw->overload.cfg);
	gw->overload.admit_pm = 1000;
	gw->cfg.unrouted_text = talloc_strdup(gw, "Unknown service code or keyword.");
	gw->cfg.stop_keywords = talloc_strdup(gw, UIGW_STOP_KEYWORDS);
	gw->cfg.stop_reply = talloc_strdup(gw, UIGW_STOP_REPLY);
	gw->cfg.start_keywords = talloc_strdup(gw, UIGW_START_KEYWORDS);
	gw->cfg.start_reply = talloc_strdup(gw, UIGW_START_REPLY);
	INIT_LLIST_HEAD(&gw->dialogs);
	INIT_LLIST_HEAD(&gw->proposals);
	INIT_LLIST_HEAD(&gw->extapps);
	INIT_LLIST_HEAD(&gw->push_pending);
	INIT_LLIST_HEAD(&gw->deferred);
	INIT_LLIST_HEAD(&gw->cfg.tz_rules);
	INIT_LLIST_HEAD(&gw->cfg.kw_langs);
	gw->cfg.quiet_from = gw->cfg.quiet_to = -1;
	gw->cfg.defer_max = 100000;
	gw->cfg.roaming_policy = UIGW_ROAM_ALLOW;
	INIT_LLIST_HEAD(&gw->outbox);
	INIT_LLIST_HEAD(&gw->resumables);
	hash_init(gw->resume_by_sub);
	/* dialog ids: unique across restarts without reading the database */
	now = uigw_wall_ms();
	gw->next_dialog_id = ((uint64_t)(now / 1000) << 20) + (uint64_t)(now % 1000) * 1024;

	gw->seen_size = 1 << 16;
	gw->seen = talloc_zero_array(gw, struct uigw_seen, gw->seen_size);
	gw->roam_size = 1 << 14;
	gw->roam = talloc_zero_array(gw, struct uigw_roam, gw->roam_size);
	gw->store_cfg = talloc_zero(gw, struct uigw_store_cfg);
	if (gw->store_cfg) {
		uigw_store_cfg_defaults(gw->store_cfg);
		gw->store_cfg->path = talloc_strdup(gw, "osmo-uigw.db");
	}
	gw->tdefs = talloc_memdup(gw, uigw_tdefs_default, sizeof(uigw_tdefs_default));
	if (gw->tdefs) {
		osmo_tdefs_reset(gw->tdefs);
		uigw_tdef_group_add(gw, "dialog", "Dialog input timeouts per channel class, IMS reachability", gw->tdefs,
				    false);
	}
	gw->ctrs = rate_ctr_group_alloc(gw, &uigw_ctrg_desc, 0);
	gw->stats = osmo_stat_item_group_alloc(gw, &uigw_statg_desc, 0);
	INIT_LLIST_HEAD(&gw->camp_ctrs);
	for (i = 0; i < _UIGW_CHAN_NUM; i++) {
		gw->chan_ctrs[i] = rate_ctr_group_alloc(gw, &uigw_chan_ctrg_desc, i);
		if (!gw->chan_ctrs[i])
			break;
		rate_ctr_group_set_name(gw->chan_ctrs[i], uigw_channel_name(i));
	}
	if (i < _UIGW_CHAN_NUM || !gw->seen || !gw->roam || !gw->store_cfg || !gw->tdefs || !gw->ctrs || !gw->stats || uigw_dialog_init(gw) < 0) {
		uigw_free(gw);
		return NULL;
	}
	if (!uigw_vty_root)
		uigw_vty_root = gw;
	return gw;
}

static struct rate_ctr_group *camp_ctrs(struct uigw *gw, const char *campaign)
{
	struct uigw_camp_ctrs *cc;

	llist_for_each_entry(cc, &gw->camp_ctrs, list) {
		if (!strcmp(cc->g->name, campaign))
			return cc->g;
	}
	cc = talloc_zero(gw, struct uigw_camp_ctrs);
	if (!cc)
		return NULL;
	cc->g = rate_ctr_group_alloc(cc, &uigw_camp_ctrg_desc, gw->camp_ctrs_next++);
	if (!cc->g) {
		talloc_free(cc);
		return NULL;
	}
	rate_ctr_group_set_name(cc->g, campaign);
	llist_add_tail(&cc->list, &gw->camp_ctrs);
	return cc->g;
}

void uigw_count(struct uigw *gw, enum uigw_channel ch, struct uigw_campaign *camp, enum uigw_dctr c)
{
	if ((unsigned int)ch < _UIGW_CHAN_NUM && gw->chan_ctrs[ch])
		rate_ctr_inc2(gw->chan_ctrs[ch], c);
	/* the test drive counts on its channel's counters (channel=vty), not the campaign's, unless asked */
	if (!camp || (ch == UIGW_CHAN_VTY && !gw->cfg.test_results))
		return;
	if (!camp->ctrs)
		camp->ctrs = camp_ctrs(gw, camp->name);
	if (camp->ctrs)
		rate_ctr_inc2(camp->ctrs, c);
}

int uigw_tdef_group_add(struct uigw *gw, const char *name, const char *desc, struct osmo_tdef *tdefs, bool own_node)
{
	unsigned int i;

	for (i = 0; i < UIGW_TDEF_GROUPS_MAX; i++) {
		if (gw->tdef_groups[i].name)
			continue;
		gw->tdef_groups[i] = (struct osmo_tdef_group){ .name = name, .desc = desc, .tdefs = tdefs };
		if (own_node)
			gw->tdef_groups_own_node |= 1u << i;
		return 0;
	}
	return -ENOSPC;
}

int uigw_campaigns_reload(struct uigw *gw, char *err, size_t err_len)
{
	struct uigw_campaign_set *set;
	unsigned int i;
	int rc;

	rc = uigw_campaign_set_load_dir(gw->ctx, gw->cfg.campaigns_dir, gw->campaigns, &set, err, err_len);
	if (rc < 0) {
		rate_ctr_inc2(gw->ctrs, UIGW_CTR_CAMPAIGN_RELOAD_FAIL);
		LOGP(DCAMP, LOGL_ERROR, "campaigns not (re)loaded, the set in service stays: %s\n", err);
		return rc;
	}
	/* an operator's enable/disable outlives a reload */
	if (gw->campaigns) {
		for (i = 0; i < set->n; i++) {
			struct uigw_campaign *old = uigw_campaign_set_find(gw->campaigns, set->c[i]->name);
			if (old) {
				set->c[i]->enabled = old->enabled;
				set->c[i]->pace_next_us = old->pace_next_us;
			}
		}
		uigw_campaign_set_free(gw->campaigns);
	}
	gw->campaigns = set;
	gw->load_generation++;
	rate_ctr_inc2(gw->ctrs, UIGW_CTR_CAMPAIGN_RELOAD);
	osmo_stat_item_set(osmo_stat_item_group_get_item(gw->stats, UIGW_STAT_CAMPAIGNS), set->n);
	for (i = 0; i < set->n; i++)
		LOGP(DCAMP, LOGL_INFO, "campaign %s version %u from %s\n", set->c[i]->name, set->c[i]->version,
		     set->c[i]->file);
	LOGP(DCAMP, LOGL_NOTICE, "%u campaigns in service from %s\n", set->n, gw->cfg.campaigns_dir);
	return 0;
}

#define HOUSEKEEPING_S 1

/* Sample what has no event of its own to update it, and drop expired resume records. */
static void housekeeping_cb(void *data)
{
	struct uigw *gw = data;

	if (gw->store)
		osmo_stat_item_set(osmo_stat_item_group_get_item(gw->stats, UIGW_STAT_STORE_QUEUE),
				   uigw_store_queue_depth(gw->store));
	uigw_dialog_resume_expire(gw);
	uigw_memory_tick(gw);
	osmo_timer_schedule(&gw->housekeeping, HOUSEKEEPING_S, 0);
}

int uigw_start(struct uigw *gw)
{
	struct uigw_store_cfg *scfg = gw->store_cfg;
	char err[512];
	int rc;

	rc = uigw_campaigns_reload(gw, err, sizeof(err));
	if (rc < 0)
		return rc;
	uigw_proposals_load(gw);
	rc = uigw_pseudonym_key_load(gw, scfg ? scfg->path : NULL);
	if (rc < 0)
		return rc;
	if (scfg) {
		scfg->test_results = gw->cfg.test_results;
		gw->store = uigw_store_open(gw, scfg);
		if (!gw->store) {
			LOGP(DMAIN, LOGL_ERROR, "cannot open the store %s\n",
			     scfg->backend == UIGW_STORE_POSTGRESQL ? "on PostgreSQL" : scfg->path);
			return -EIO;
		}
		/* several gateways on one database: the instance's number in the top bits of its dialog ids (the rest,
		 * time and counter, is below 2^51 until 2038), so that no two gateways write the same dialog */
		if (uigw_store_instance_num(gw->store) > 0)
			gw->next_dialog_id = (gw->next_dialog_id & ((1ULL << UIGW_DIALOG_ID_INSTANCE_SHIFT) - 1)) |
					     (uint64_t)uigw_store_instance_num(gw->store) << UIGW_DIALOG_ID_INSTANCE_SHIFT;
	}
	uigw_schedule_start(gw);
	uigw_overload_start(gw);
	osmo_timer_setup(&gw->housekeeping, housekeeping_cb, gw);
	osmo_timer_schedule(&gw->housekeeping, HOUSEKEEPING_S, 0);
	return 0;
}

void uigw_free(struct uigw *gw)
{
	struct uigw_dialog *dlg, *tmp;
	unsigned int i;

	if (!gw)
		return;
	osmo_timer_del(&gw->housekeeping);
	uigw_overload_stop(gw);
	/* what the outbox still holds goes out (a last screen is an answer too), before the dialogs end */
	uigw_dialog_outbox_run(gw);
	osmo_timer_del(&gw->outbox_timer);
	/* no resume records for dialogs the shutdown ends */
	gw->cfg.resume_window = 0;
	llist_for_each_entry_safe(dlg, tmp, &gw->dialogs, list)
		uigw_dialog_terminate(dlg, UIGW_OUTCOME_ABANDONED);
	uigw_dialog_resume_flush(gw);
	uigw_extapp_free_all(gw);
	uigw_schedule_stop(gw);
	if (gw->store) {
		uigw_store_close(gw->store);
		gw->store = NULL;
	}
	uigw_proposals_free(gw);
	if (gw->campaigns) {
		uigw_campaign_set_free(gw->campaigns);
		gw->campaigns = NULL;
	}
	if (gw->ctrs)
		rate_ctr_group_free(gw->ctrs);
	for (i = 0; i < _UIGW_CHAN_NUM; i++) {
		if (gw->chan_ctrs[i])
			rate_ctr_group_free(gw->chan_ctrs[i]);
	}
	if (gw->camp_ctrs.next) {
		struct uigw_camp_ctrs *cc, *tmp;

		llist_for_each_entry_safe(cc, tmp, &gw->camp_ctrs, list) {
			rate_ctr_group_free(cc->g);
			llist_del(&cc->list);
			talloc_free(cc);
		}
	}
	if (gw->stats)
		osmo_stat_item_group_free(gw->stats);
	if (uigw_vty_root == gw)
		uigw_vty_root = NULL;
	talloc_free(gw);
}
