/*! \file dialog_resume.c
 *  Resume records: a USSD dialog cut off by the network (not by its end) is kept for resume-window seconds; the
 *  subscriber who dials the same campaign again within it continues at the node where it stopped, with its
 *  variables and Back history, on the campaign version it began on. */

#include <string.h>
#include <time.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/hash.h>
#include <osmocom/uigw/render/render.h>
#include "dialog_priv.h"

/*! A USSD dialog cut off by the network, kept for resume-window seconds. */
struct uigw_resume {
	struct llist_head list;
	struct hlist_node hnode;
	char msisdn[UIGW_MSISDN_MAXLEN];
	struct uigw_campaign *camp;	/*!< referenced */
	int node;
	uint8_t n_hist;
	int16_t hist[15];
	unsigned int n_vars;
	struct uigw_var *vars;
	time_t expires;
};

static void resume_free(struct uigw_resume *r)
{
	llist_del(&r->list);
	hash_del(&r->hnode);
	uigw_campaign_put(r->camp);
	talloc_free(r);
}

void uigw_dialog_resume_expire(struct uigw *gw)
{
	struct uigw_resume *r, *tmp;
	time_t now = uigw_mono_s();

	llist_for_each_entry_safe(r, tmp, &gw->resumables, list) {
		if (r->expires > now)
			break;	/* oldest first */
		resume_free(r);
	}
}

void uigw_dialog_resume_flush(struct uigw *gw)
{
	struct uigw_resume *r, *tmp;

	llist_for_each_entry_safe(r, tmp, &gw->resumables, list)
		resume_free(r);
}

static struct uigw_resume *resume_find(struct uigw *gw, const char *msisdn)
{
	struct uigw_resume *r;

	uigw_dialog_resume_expire(gw);
	hash_for_each_possible(gw->resume_by_sub, r, hnode, uigw_hash32(msisdn, 0)) {
		if (!strcmp(r->msisdn, msisdn))
			return r;
	}
	return NULL;
}

void uigw_dlg_resume_save(struct uigw_dialog *dlg)
{
	struct uigw *gw = dlg->gw;
	struct uigw_resume *r;
	unsigned int i;

	if (!gw->cfg.resume_window || dlg->profile->kind != UIGW_PROF_USSD || !dlg->camp || dlg->network_initiated)
		return;
	r = resume_find(gw, dlg->msisdn);
	if (r)
		resume_free(r);
	r = talloc_zero(gw->ctx, struct uigw_resume);
	if (!r)
		return;
	OSMO_STRLCPY_ARRAY(r->msisdn, dlg->msisdn);
	r->camp = dlg->camp;
	uigw_campaign_get(r->camp);
	r->node = dlg->node;
	r->n_hist = dlg->n_hist;
	memcpy(r->hist, dlg->hist, sizeof(r->hist));
	r->vars = talloc_array(r, struct uigw_var, dlg->n_vars);
	for (i = 0; r->vars && i < dlg->n_vars; i++) {
		r->vars[i].name = dlg->vars[i].name;
		r->vars[i].value = talloc_strdup(r, dlg->vars[i].value);
	}
	r->n_vars = r->vars ? dlg->n_vars : 0;
	r->expires = uigw_mono_s() + gw->cfg.resume_window;
	llist_add_tail(&r->list, &gw->resumables);
	hash_add(gw->resume_by_sub, &r->hnode, uigw_hash32(r->msisdn, 0));
}

bool uigw_dlg_resume_take(struct uigw_dialog *dlg, struct uigw_campaign *camp)
{
	struct uigw_resume *r = resume_find(dlg->gw, dlg->msisdn);
	unsigned int i;

	if (!r || strcmp(r->camp->name, camp->name))
		return false;
	/* the dialog continues on the version it began on */
	dlg->camp = r->camp;
	uigw_campaign_get(dlg->camp);
	dlg->node = r->node;
	dlg->n_hist = r->n_hist;
	memcpy(dlg->hist, r->hist, sizeof(dlg->hist));
	for (i = 0; i < r->n_vars; i++)
		uigw_dlg_var_set(dlg, r->vars[i].name, r->vars[i].value);
	resume_free(r);
	return true;
}

void uigw_dialog_resume_forget(struct uigw *gw, const char *msisdn)
{
	struct uigw_resume *r = resume_find(gw, msisdn);

	if (r)
		resume_free(r);
}
