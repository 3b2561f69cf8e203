/*! \file dialog_resume.c
 *  Resume records: a USSD dialog cut off by the network (not by its end) is kept for resume-window seconds; the
 *  subscriber who dials the same campaign again within it continues at the node where it stopped, with its
 *  variables and Back history, on the campaign version it began on.
 *
 *  Several gateways on one PostgreSQL store: the subscriber who dials again may reach another gateway, and the one
 *  that held the dialog may be gone (killed). There the state is in the database instead: each step notes where the
 *  dialog stands (a log row nobody waits for: a gateway killed within UIGW_STORE_LOG_DELAY_MS of a step leaves the
 *  step before it), its end leaves nothing to resume, and a begin takes the state written within resume-window
 *  seconds by any gateway, removing it in the same statement (one gateway resumes it). The campaign must be at the
 *  same version on both. */

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/tdef.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/hash.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/render/render.h>
#include <osmocom/uigw/store/store.h>
#include <osmocom/uigw/core/trigger.h>
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

/* a USSD dialog the subscriber began, with a resume window (its campaign: the caller's concern) */
static bool resumable(const struct uigw_dialog *dlg)
{
	return dlg->gw->cfg.resume_window && dlg->profile->kind == UIGW_PROF_USSD && !dlg->network_initiated;
}

/* one state per subscriber and class of dialog: a USSD dialog and an SMS dialog of one subscriber both run */
static const char *state_class(const struct uigw_dialog *dlg)
{
	switch (dlg->profile->kind) {
	case UIGW_PROF_SMS:
		return "sms";
	case UIGW_PROF_IMS:
		return "ims";
	default:
		return "ussd";
	}
}

/* whose state another gateway may go on with: a resumable USSD dialog; every SMS and IMS message dialog, begun by
 * the subscriber or pushed (the next message may reach another gateway) */
static bool state_kept(const struct uigw_dialog *dlg)
{
	return dlg->profile->kind == UIGW_PROF_USSD ? resumable(dlg) : true;
}

void uigw_dlg_state_note(struct uigw_dialog *dlg, bool over)
{
	struct uigw_store_row *r;
	const char **names, **values;
	unsigned int i;
	size_t len;
	void *ctx;
	char *hist, *o;

	if (!state_kept(dlg) || !dlg->camp || !uigw_store_shared(dlg->gw->store) || !dlg->pseudonym[0])
		return;
	/* over: only a state written before needs replacing; at its first USSD screen a dialog dialled again is the
	 * same as a new one (an SMS dialog's first question, a push's, is worth answering elsewhere) */
	if ((over || dlg->node < 0) ? !dlg->state_noted : (dlg->profile->kind == UIGW_PROF_USSD && !dlg->n_hist))
		return;
	r = uigw_store_log_row(dlg->gw->store, UIGW_ROW_DLG_STATE, &ctx);
	if (!r)
		return;
	r->subscriber = talloc_strdup(ctx, dlg->pseudonym);
	r->campaign = talloc_strdup(ctx, dlg->camp->name);
	r->version = dlg->camp->version;
	r->dialog = dlg->id;
	r->time_ms = uigw_wall_ms();
	r->u.state.cls = state_class(dlg);
	dlg->state_noted = !over && dlg->node >= 0;
	if (over || dlg->node < 0)
		return;	/* node NULL: nothing to go on with */
	r->u.state.node = talloc_strdup(ctx, dlg->camp->nodes[dlg->node].id);
	/* the Back history: node ids separated by spaces, in one allocation */
	for (i = 0, len = 1; i < dlg->n_hist && i < ARRAY_SIZE(dlg->hist); i++) {
		if (dlg->hist[i] >= 0 && (unsigned int)dlg->hist[i] < dlg->camp->n_nodes)
			len += strlen(dlg->camp->nodes[dlg->hist[i]].id) + 1;
	}
	hist = talloc_size(ctx, len);
	if (!hist)
		return;
	for (i = 0, o = hist; i < dlg->n_hist && i < ARRAY_SIZE(dlg->hist); i++) {
		if (dlg->hist[i] >= 0 && (unsigned int)dlg->hist[i] < dlg->camp->n_nodes) {
			const char *id = dlg->camp->nodes[dlg->hist[i]].id;
			size_t n = strlen(id);

			if (i)
				*o++ = ' ';
			memcpy(o, id, n);
			o += n;
		}
	}
	*o = '\0';
	r->u.state.hist = hist;
	names = talloc_array(ctx, const char *, dlg->n_vars + 1);
	values = talloc_array(ctx, const char *, dlg->n_vars + 1);
	if (!names || !values)
		return;
	for (i = 0; i < dlg->n_vars; i++) {
		names[i] = dlg->vars[i].name;
		values[i] = dlg->vars[i].value;
	}
	r->u.state.vars = uigw_params_encode(ctx, dlg->n_vars, names, values);
}

/* the state another gateway wrote, into \a dlg (data): its node, Back history and variables; the campaign is
 * \a camp if given, else the one of that name in service */
struct state_in {
	struct uigw_dialog *dlg;
	struct uigw_campaign *camp;
	bool ok;
};

static void state_cb(const char *campaign, unsigned int version, const char *node, const char *hist,
		     const char *vars, void *data)
{
	struct state_in *in = data;
	struct uigw_dialog *dlg = in->dlg;
	const char *names[64], *values[64];
	char *buf, *id, *save = NULL;
	unsigned int i, n;
	int idx;

	if (!in->camp && campaign)
		in->camp = uigw_campaign_set_find(dlg->gw->campaigns, campaign);
	idx = in->camp ? uigw_campaign_node_idx(in->camp, node) : -1;
	if (!in->camp || version != in->camp->version || idx < 0) {
		LOGPDLG(dlg, LOGL_NOTICE, "the state another gateway kept (%s version %u, node %s) is not in service "
			"here: not taken up\n", campaign ? campaign : "?", version, node);
		in->camp = NULL;
		return;
	}
	dlg->node = idx;
	dlg->n_hist = 0;
	buf = talloc_strdup(dlg, hist);
	for (id = buf ? strtok_r(buf, " ", &save) : NULL; id && dlg->n_hist < ARRAY_SIZE(dlg->hist);
	     id = strtok_r(NULL, " ", &save)) {
		int h = uigw_campaign_node_idx(in->camp, id);

		if (h >= 0)
			dlg->hist[dlg->n_hist++] = h;
	}
	talloc_free(buf);
	/* the variables' names point into the buffer (uigw_dlg_var_set() keeps a name as given): it lives as long as
	 * the dialog */
	buf = talloc_strdup(dlg, vars);
	n = buf ? uigw_params_decode(buf, ARRAY_SIZE(names), names, values) : 0;
	for (i = 0; i < n; i++)
		uigw_dlg_var_set(dlg, names[i], values[i]);
	in->ok = true;
}

void uigw_dlg_state_ask(struct uigw_dialog *dlg, struct uigw_store_job *job)
{
	int64_t since = uigw_wall_ms() - (int64_t)dlg->gw->cfg.resume_window * 1000;

	if (!dlg->camp || !dlg->pseudonym[0])
		return;
	uigw_store_job_query(job, UIGW_Q_DLG_STATE, talloc_strdup(job, dlg->camp->name),
			     talloc_asprintf(job, "%s %" PRId64, dlg->pseudonym, since));
}

bool uigw_dlg_state_apply(struct uigw_dialog *dlg, const struct uigw_store_job *job)
{
	struct state_in in = { .dlg = dlg, .camp = dlg->camp };
	char *f[4], *p;
	unsigned int i, k;

	for (i = 0; i < job->n_queries; i++) {
		if (job->queries[i].query == UIGW_Q_DLG_STATE && job->queries[i].text)
			break;
	}
	if (i == job->n_queries || !dlg->camp)
		return false;
	/* VERSION, NODE, HIST, VARS: the variables last, whatever they hold */
	p = job->queries[i].text;
	for (k = 0; k < 3; k++) {
		f[k] = p;
		p = strchr(p, '\x1f');
		if (!p)
			return false;
		*p++ = '\0';
	}
	f[3] = p;
	state_cb(NULL, (unsigned int)strtoul(f[0], NULL, 10), f[1], f[2], f[3], &in);
	if (!in.ok)
		return false;
	rate_ctr_inc2(dlg->gw->ctrs, UIGW_CTR_DLG_RESUMED);
	LOGPDLG(dlg, LOGL_INFO, "resumed at node '%s', where a dialog of this or another gateway stopped\n",
		dlg->camp->nodes[dlg->node].id);
	uigw_dlg_set_notice(dlg, uigw_dlg_label(dlg, &dlg->camp->labels.resumed, "Welcome back.", dlg));
	return true;
}

struct uigw_campaign *uigw_dlg_state_take_any(struct uigw_dialog *dlg)
{
	struct state_in in = { .dlg = dlg };
	int T = dlg->profile->kind == UIGW_PROF_IMS ? UIGW_T_IMS : UIGW_T_SMS;
	int64_t since = uigw_wall_ms() - (int64_t)osmo_tdef_get(dlg->gw->tdefs, T, OSMO_TDEF_S, -1) * 1000;

	if (dlg->profile->kind == UIGW_PROF_USSD || !uigw_store_shared(dlg->gw->store) || !dlg->pseudonym[0])
		return NULL;
	if (uigw_store_dialog_state_take(dlg->gw->store, dlg->pseudonym, state_class(dlg), NULL, since, state_cb,
					 &in) <= 0 || !in.ok)
		return NULL;
	return in.camp;
}

void uigw_dlg_resume_save(struct uigw_dialog *dlg)
{
	struct uigw *gw = dlg->gw;
	struct uigw_resume *r;
	unsigned int i;

	/* a shared store has it already (uigw_dlg_state_note()) */
	if (!resumable(dlg) || !dlg->camp || uigw_store_shared(gw->store))
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
	struct uigw_resume *r;
	unsigned int i;

	/* a shared store: asked with the first screen's commit (uigw_dlg_state_ask()), no wait on the loop */
	if (uigw_store_shared(dlg->gw->store)) {
		dlg->resume_pending = resumable(dlg);
		return false;
	}
	r = resume_find(dlg->gw, dlg->msisdn);
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
