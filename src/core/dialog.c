/*! \file dialog.c
 *  The dialog engine: one osmo_fsm instance per dialog walks a campaign graph. Input is validated against the
 *  current node, answers and actions become store rows, and a screen that depends on them (contextual
 *  variables, "recorded") is rendered only after the store committed them. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <time.h>
#include <osmocom/core/fsm.h>
#include <osmocom/core/tdef.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/stat_item.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/core/router.h>
#include <osmocom/uigw/core/extapp.h>
#include <osmocom/uigw/core/pseudonym.h>
#include <osmocom/uigw/core/schedule.h>
#include <osmocom/uigw/common/number.h>
#include <osmocom/uigw/common/hash.h>
#include "dialog_priv.h"

enum dlg_state {
	ST_WAIT_INPUT,		/*!< a screen was sent, the subscriber's answer is awaited */
	ST_WAIT_STORE,		/*!< rows/queries are with the store; the next screen follows its completion */
	ST_WAIT_APP,		/*!< an external application was asked; the next screen is its answer */
};

enum dlg_event {
	EV_INPUT,		/*!< data: const char * */
	EV_STORE_DONE,		/*!< data: struct uigw_store_job * */
	EV_APP_DONE,		/*!< data: const struct uigw_http_result * */
};

static const struct value_string dlg_event_names[] = {
	{ EV_INPUT, "INPUT" },
	{ EV_STORE_DONE, "STORE_DONE" },
	{ EV_APP_DONE, "APP_DONE" },
	{ 0, NULL }
};

static struct osmo_fsm dlg_fsm;

#define S(x) (1 << (x))

static void dlg_store_done(struct uigw_store_job *job, void *data);
static bool dlg_show(struct uigw_dialog *dlg, const struct uigw_store_job *job);
static void take_pending(struct uigw_dialog *dlg);

/* ---------------------------------------------------------------------------------------------------------- */
/* helpers */

static int dlg_timer(const struct uigw_dialog *dlg)
{
	switch (dlg->profile->kind) {
	case UIGW_PROF_SMS:
		return UIGW_T_SMS;
	case UIGW_PROF_IMS:
		return UIGW_T_IMS;
	default:
		return UIGW_T_USSD;
	}
}

static void dlg_state_chg(struct uigw_dialog *dlg, enum dlg_state st)
{
	if (st == ST_WAIT_INPUT) {
		int T = dlg_timer(dlg);
		osmo_fsm_inst_state_chg(dlg->fi, ST_WAIT_INPUT, osmo_tdef_get(dlg->gw->tdefs, T, OSMO_TDEF_S, -1), T);
	} else
		osmo_fsm_inst_state_chg(dlg->fi, st, 0, 0);
}

void uigw_dlg_set_notice(struct uigw_dialog *dlg, const char *text)
{
	talloc_free(dlg->notice);
	dlg->notice = text ? talloc_strdup(dlg, text) : NULL;
}

void uigw_dlg_add_notice(struct uigw_dialog *dlg, const char *text)
{
	if (!dlg->notice)
		uigw_dlg_set_notice(dlg, text);
	else
		dlg->notice = talloc_asprintf_append(dlg->notice, "\n%s", text);
}

/*! A job's reference on a campaign whose strings its rows point to: the writer may still read them after the
 *  dialog ended and a reload replaced the campaign. Dropped when the job is freed. */
struct job_camp_ref {
	struct uigw_campaign *camp;
};

static int job_camp_ref_free(struct job_camp_ref *ref)
{
	uigw_campaign_put(ref->camp);
	return 0;
}

struct uigw_store_row *uigw_dlg_row(struct uigw_dialog *dlg, struct uigw_store_job *job, enum uigw_row_kind k)
{
	const struct uigw_store_row *prev = NULL;
	struct uigw_store_row *r;

	r = uigw_store_job_row(job, k);
	if (!r)
		return NULL;
	/* rows of one job belong to one dialog: they share its strings */
	if (job->n_rows > 1)
		prev = &job->rows[job->n_rows - 2];
	r->time_ms = uigw_wall_ms();
	r->subscriber = prev ? prev->subscriber : talloc_strdup(job, dlg->pseudonym);
	r->channel = uigw_channel_name(dlg->channel);
	r->dialog = dlg->id;
	if (!dlg->camp) {
		r->campaign = "-";
		return r;
	}
	r->campaign = dlg->camp->name;
	r->version = dlg->camp->version;
	r->owner = dlg->camp->owner;
	if (!prev || prev->campaign != dlg->camp->name) {
		struct job_camp_ref *ref = talloc(job, struct job_camp_ref);
		if (!ref)
			return NULL;
		ref->camp = dlg->camp;
		uigw_campaign_get(ref->camp);
		talloc_set_destructor(ref, job_camp_ref_free);
	}
	return r;
}

/*! The dialog's language as a string that lives as long as the job: the campaign's own when it offers it. */
const char *uigw_dlg_lang(struct uigw_dialog *dlg, struct uigw_store_job *job)
{
	unsigned int i;

	for (i = 0; dlg->camp && i < dlg->camp->n_languages; i++)
		if (!strcmp(dlg->camp->languages[i], dlg->lang))
			return dlg->camp->languages[i];
	return talloc_strdup(job, dlg->lang);
}

struct uigw_store_job *uigw_dlg_job(struct uigw_dialog *dlg)
{
	if (!dlg->job)
		dlg->job = uigw_store_job_alloc(dlg->gw->store, dlg_store_done, dlg);
	return dlg->job;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* sending */

/* Send a rendered screen (now, or held back in the outbox); \returns 0, or negative if the dialog ended (it is
 * then freed) */
static int dlg_send(struct uigw_dialog *dlg, const struct uigw_render_out *out, bool end)
{
	return uigw_dlg_deliver(dlg, out, end);
}

#define SEEN_REFRESH_S 3600

/* Was this subscriber's pseudonym -> MSISDN row written within the last hour? Marks it written if not. */
static bool mapping_written_recently(struct uigw_dialog *dlg)
{
	struct uigw *gw = dlg->gw;
	struct uigw_seen *e;
	uint64_t key = strtoull(dlg->pseudonym + 16, NULL, 16) ^ (strtoull(dlg->pseudonym, NULL, 16) << 1);
	time_t now = uigw_mono_s();

	if (!gw->seen_size)
		return false;
	e = &gw->seen[key & (gw->seen_size - 1)];
	if (e->key == key && e->written && now - e->written < SEEN_REFRESH_S)
		return true;
	e->key = key;
	e->written = now;
	return false;
}

/* Write the dialog's closing rows (dialog + subscriber mapping) in a fire-and-forget job. */
void uigw_dlg_write_end(struct uigw_dialog *dlg, enum uigw_outcome outcome, struct uigw_store_job *job)
{
	struct uigw_store_row *r;
	bool own = !job;

	if (!dlg->gw->store)
		return;
	if (own)
		job = uigw_store_job_alloc(dlg->gw->store, dlg_store_done, NULL);
	if (!job)
		return;
	r = uigw_dlg_row(dlg, job, UIGW_ROW_DIALOG);
	if (r) {
		r->u.dialog.started_ms = dlg->started_ms;
		r->u.dialog.outcome = outcome;
		r->u.dialog.steps = dlg->steps;
		r->u.dialog.last_node = dlg->camp && dlg->node >= 0 ? dlg->camp->nodes[dlg->node].id : NULL;
		r->u.dialog.roaming = dlg->roaming;
		r->u.dialog.visited = dlg->visited[0] ? talloc_strdup(job, dlg->visited) : NULL;
		r->u.dialog.test = dlg->channel == UIGW_CHAN_VTY;
		dlg->end_written = true;
	}
	/* over: nothing left to resume on another gateway (cut off or timed out: the last state stays). The dialog's
	 * row with this outcome says so already (a state is gone on with only while its dialog has no such row):
	 * a state row of its own only when that row could not be made */
	if ((outcome == UIGW_OUTCOME_COMPLETED || outcome == UIGW_OUTCOME_REJECTED) && !r)
		uigw_dlg_state_note(dlg, true);
	if (dlg->msisdn[0] && !mapping_written_recently(dlg)) {
		r = uigw_dlg_row(dlg, job, UIGW_ROW_SUBSCRIBER);
		if (r)
			r->u.subscriber.msisdn = talloc_strdup(job, dlg->msisdn);
	}
	if (own && uigw_store_submit(job) < 0) {
		rate_ctr_inc2(dlg->gw->ctrs, UIGW_CTR_STORE_ERRORS);
		LOGPDLG(dlg, LOGL_ERROR, "store queue full: dialog record lost\n");
		talloc_free(job);
	}
}

void uigw_dlg_count_outcome(struct uigw_dialog *dlg, enum uigw_outcome o)
{
	static const int ctr[] = {
		[UIGW_OUTCOME_COMPLETED] = UIGW_CTR_DLG_COMPLETED,
		[UIGW_OUTCOME_ABANDONED] = UIGW_CTR_DLG_ABANDONED,
		[UIGW_OUTCOME_TIMED_OUT] = UIGW_CTR_DLG_TIMEOUT,
		[UIGW_OUTCOME_REJECTED] = UIGW_CTR_DLG_REJECTED,
	};
	static const int dctr[] = {
		[UIGW_OUTCOME_COMPLETED] = UIGW_DCTR_COMPLETED,
		[UIGW_OUTCOME_ABANDONED] = UIGW_DCTR_ABANDONED,
		[UIGW_OUTCOME_TIMED_OUT] = UIGW_DCTR_TIMEOUT,
		[UIGW_OUTCOME_REJECTED] = UIGW_DCTR_REJECTED,
	};
	rate_ctr_inc2(dlg->gw->ctrs, ctr[o]);
	uigw_dlg_count(dlg, dctr[o]);
}

void uigw_dlg_count(struct uigw_dialog *dlg, enum uigw_dctr c)
{
	uigw_count(dlg->gw, dlg->channel, dlg->camp, c);
}

/* Too many invalid answers, or a refusal: a last text, then the end. */
void uigw_dlg_end_with_text(struct uigw_dialog *dlg, const char *text, enum uigw_outcome outcome)
{
	struct uigw_render_out out;
	void *tmp = talloc_new(dlg->gw->ctx);	/* not under dlg: the delivery may free it */

	dlg->outcome = outcome;
	if (dlg->job) {
		dlg->job->data = NULL;
		if (uigw_store_submit(dlg->job) < 0)
			talloc_free(dlg->job);
		dlg->job = NULL;
	}
	uigw_dlg_write_end(dlg, outcome, NULL);
	uigw_dlg_count_outcome(dlg, outcome);
	uigw_dlg_unlink(dlg);
	if (uigw_dlg_render_text(dlg, tmp, text, &out) == 0)
		uigw_dlg_deliver(dlg, &out, true);
	else
		osmo_fsm_inst_term(dlg->fi, OSMO_FSM_TERM_REGULAR, NULL);
	talloc_free(tmp);
}

/* End the dialog without a screen: record, optionally tell the adapter, free. */
void uigw_dlg_finish(struct uigw_dialog *dlg, enum uigw_outcome outcome, bool release)
{
	/* a screen held back for it will not go out */
	uigw_dlg_outbox_drop(dlg);
	LOGPDLG(dlg, LOGL_INFO, "ends: %s\n", get_value_string(uigw_outcome_names, outcome));
	dlg->outcome = outcome;
	if (dlg->job) {
		/* in flight: detach it, its rows still commit */
		dlg->job->data = NULL;
		dlg->job = NULL;
	}
	uigw_dlg_write_end(dlg, outcome, NULL);
	uigw_dlg_count_outcome(dlg, outcome);
	if (outcome == UIGW_OUTCOME_ABANDONED || outcome == UIGW_OUTCOME_TIMED_OUT)
		uigw_dlg_resume_save(dlg);
	uigw_dlg_unlink(dlg);
	if (release)
		uigw_dlg_release(dlg, outcome);
	else
		osmo_fsm_inst_term(dlg->fi, OSMO_FSM_TERM_REGULAR, NULL);
}

/* Render the current screen (from job's query results, if any) and send it. Ends the dialog after a final
 * screen. \returns true if the dialog is still running, false if it ended (it is freed then). */
bool uigw_dlg_show_now(struct uigw_dialog *dlg)
{
	return dlg_show(dlg, NULL);
}

static bool dlg_show(struct uigw_dialog *dlg, const struct uigw_store_job *job)
{
	struct uigw_render_out out;
	void *tmp = talloc_new(dlg->gw->ctx);	/* not under dlg: it may end while tmp is in use */
	bool final;
	int rc;

	if (dlg->node < 0) {
		/* goodbye after an answer with no next node */
		const char *t = uigw_dlg_label(dlg, &dlg->camp->labels.goodbye, "Thank you.", tmp);
		if (dlg->notice)
			t = talloc_asprintf(tmp, "%s\n%s", dlg->notice, t);
		rc = uigw_dlg_render_text(dlg, tmp, t, &out);
		final = true;
	} else {
		rc = uigw_dlg_render_node(dlg, job, tmp, &out);
		/* a final text longer than a screen stays open for paging until its last page */
		final = dlg->ending && out.page + 1 >= out.n_pages;
	}
	uigw_dlg_set_notice(dlg, NULL);
	dlg->n_pages = rc < 0 ? 0 : out.n_pages;
	if (rc < 0) {
		LOGPDLG(dlg, LOGL_ERROR, "cannot render node '%s': %d\n", dlg->node >= 0 ?
			dlg->camp->nodes[dlg->node].id : "(goodbye)", rc);
		talloc_free(tmp);
		uigw_dlg_finish(dlg, UIGW_OUTCOME_ABANDONED, true);
		return false;
	}
	if (final) {
		LOGPDLG(dlg, LOGL_INFO, "ends: completed\n");
		dlg->outcome = UIGW_OUTCOME_COMPLETED;
		uigw_dlg_count_outcome(dlg, UIGW_OUTCOME_COMPLETED);
		uigw_dlg_unlink(dlg);
		uigw_dlg_deliver(dlg, &out, true);
		talloc_free(tmp);
		return false;
	}
	dlg_state_chg(dlg, ST_WAIT_INPUT);
	rc = dlg_send(dlg, &out, false);
	talloc_free(tmp);
	return rc == 0;
}

/* Submit the pending job if it has work, else show the screen right away.
 * \returns true if the dialog is still running, false if it ended (freed). */
static bool dlg_commit_and_show(struct uigw_dialog *dlg)
{
	struct uigw_store_job *job;
	int rc;

	if (dlg->ext_call) {
		/* an external application's dialog: its answers are committed on their own, the next screen is
		 * what the application says */
		dlg->ext_call = false;
		job = dlg->job;
		dlg->job = NULL;
		if (job && job->n_rows) {
			job->data = NULL;
			if (uigw_store_submit(job) < 0) {
				rate_ctr_inc2(dlg->gw->ctrs, UIGW_CTR_STORE_ERRORS);
				LOGPDLG(dlg, LOGL_ERROR, "store queue full: answer not recorded, ending\n");
				talloc_free(job);
				dlg->refusal = UIGW_REFUSAL_ERROR;
				uigw_dlg_finish(dlg, UIGW_OUTCOME_ABANDONED, true);
				return false;
			}
		} else {
			talloc_free(job);
		}
		if (uigw_extapp_send(dlg) < 0) {
			rate_ctr_inc2(dlg->gw->ctrs, UIGW_CTR_EXT_ERRORS);
			uigw_dlg_end_with_text(dlg, uigw_dlg_label(dlg, &dlg->camp->labels.error,
					       "Sorry, a technical problem occurred. Please try again later.", dlg),
					       UIGW_OUTCOME_ABANDONED);
			return false;
		}
		dlg_state_chg(dlg, ST_WAIT_APP);
		return true;
	}

	/* the contextual variables of exactly the screen about to be shown */
	if (dlg->job)
		dlg->job->n_queries = 0;
	if (dlg->node >= 0 && dlg->gw->store && dlg->camp->nodes[dlg->node].text.n) {
		job = uigw_dlg_job(dlg);
		if (job && uigw_dlg_collect_queries(dlg, job) < 0)
			LOGPDLG(dlg, LOGL_ERROR, "out of memory for queries\n");
	}
	/* several gateways on one database: a state of the subscriber's to resume comes back with this commit; and
	 * where it stands now, for another to resume it */
	if (dlg->resume_pending) {
		dlg->resume_pending = false;
		if (!dlg->ending && dlg->node >= 0 && (job = uigw_dlg_job(dlg)) != NULL)
			uigw_dlg_state_ask(dlg, job);
	}
	if (!dlg->ending && dlg->node >= 0)
		uigw_dlg_state_note(dlg, false);
	job = dlg->job;

	if (!job || (!job->n_rows && !job->n_queries)) {
		if (job) {
			talloc_free(job);
			dlg->job = NULL;
		}
		/* inside the channel's call: render and hand over the screen on the loop's next run */
		if (dlg->gw->chan_depth) {
			uigw_dlg_show_later(dlg);
			return true;
		}
		return dlg_show(dlg, NULL);
	}
	rc = uigw_store_submit(job);
	if (rc < 0) {
		rate_ctr_inc2(dlg->gw->ctrs, UIGW_CTR_STORE_ERRORS);
		LOGPDLG(dlg, LOGL_ERROR, "store queue full (%d): answer not recorded, ending\n", rc);
		talloc_free(job);
		dlg->job = NULL;
		dlg->refusal = UIGW_REFUSAL_ERROR;
		uigw_dlg_finish(dlg, UIGW_OUTCOME_ABANDONED, true);
		return false;
	}
	dlg_state_chg(dlg, ST_WAIT_STORE);
	return true;
}

static void dlg_store_done(struct uigw_store_job *job, void *data)
{
	struct uigw_dialog *dlg = data;

	if (!dlg) {
		/* fire-and-forget, or its dialog ended meanwhile */
		if (job->rc < 0)
			LOGP(DSTORE, LOGL_ERROR, "a detached job failed: %d\n", job->rc);
		talloc_free(job);
		return;
	}
	osmo_fsm_inst_dispatch(dlg->fi, EV_STORE_DONE, job);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* FSM */

static void st_wait_input(struct osmo_fsm_inst *fi, uint32_t event, void *data)
{
	struct uigw_dialog *dlg = fi->priv;

	switch (event) {
	case EV_INPUT:
		if (uigw_dlg_process_input(dlg, data))
			dlg_commit_and_show(dlg);
		break;
	default:
		OSMO_ASSERT(0);
	}
}

static void st_wait_store(struct osmo_fsm_inst *fi, uint32_t event, void *data)
{
	struct uigw_dialog *dlg = fi->priv;
	struct uigw_store_job *job;
	bool alive;

	switch (event) {
	case EV_INPUT:
		/* answered before we showed the screen: keep one */
		break;
	case EV_STORE_DONE:
		job = data;
		dlg->job = NULL;
		if (job->rc < 0) {
			rate_ctr_inc2(dlg->gw->ctrs, UIGW_CTR_STORE_ERRORS);
			LOGPDLG(dlg, LOGL_ERROR, "store failed (%d): the answer is not recorded\n", job->rc);
			talloc_free(job);
			uigw_dlg_end_with_text(dlg, uigw_dlg_label(dlg, &dlg->camp->labels.error,
					       "Sorry, a technical problem occurred. Please try again later.", dlg),
					       UIGW_OUTCOME_ABANDONED);
			return;
		}
		if (uigw_dlg_state_apply(dlg, job)) {
			/* resumed: the screen of the node it stopped at, with that node's queries */
			talloc_free(job);
			if (!dlg_commit_and_show(dlg))
				return;
			if (dlg->fi->state == ST_WAIT_INPUT)
				take_pending(dlg);
			break;
		}
		alive = dlg_show(dlg, job);
		talloc_free(job);
		if (!alive)
			return;
		take_pending(dlg);
		break;
	default:
		OSMO_ASSERT(0);
	}
}

/* the next input, kept while the previous one is being answered (one at most) */
static void take_pending(struct uigw_dialog *dlg)
{
	char *pending = dlg->pending_input;
	char in[1024];

	dlg->pending_input = NULL;
	if (!pending)
		return;
	OSMO_STRLCPY_ARRAY(in, pending);
	talloc_free(pending);
	osmo_fsm_inst_dispatch(dlg->fi, EV_INPUT, in);
}

void uigw_dlg_app_done(struct uigw_dialog *dlg, const struct uigw_http_result *res)
{
	osmo_fsm_inst_dispatch(dlg->fi, EV_APP_DONE, (void *)res);
}

static void st_wait_app(struct osmo_fsm_inst *fi, uint32_t event, void *data)
{
	struct uigw_dialog *dlg = fi->priv;
	const char *text = NULL;
	int node;

	switch (event) {
	case EV_INPUT:
		break;	/* kept in pending_input by uigw_dialog_input() */
	case EV_APP_DONE:
		node = uigw_extapp_answer(dlg, data, &text);
		if (node < 0) {
			rate_ctr_inc2(dlg->gw->ctrs, UIGW_CTR_EXT_ERRORS);
			uigw_dlg_end_with_text(dlg, uigw_dlg_label(dlg, &dlg->camp->labels.error,
					       "Sorry, a technical problem occurred. Please try again later.", dlg),
					       UIGW_OUTCOME_ABANDONED);
			return;
		}
		/* CON: the question node again, with the application's text; END: the last text (its dialog row
		 * goes with the job, the screen follows the commit) */
		uigw_dlg_enter(dlg, node);
		if (!dlg_commit_and_show(dlg))
			return;
		if (fi->state == ST_WAIT_INPUT)
			take_pending(dlg);
		break;
	default:
		OSMO_ASSERT(0);
	}
}

static int dlg_timer_cb(struct osmo_fsm_inst *fi)
{
	struct uigw_dialog *dlg = fi->priv;

	LOGPDLG(dlg, LOGL_INFO, "no answer within %lu s\n", fi->T ? osmo_tdef_get(dlg->gw->tdefs, fi->T,
		OSMO_TDEF_S, -1) : 0UL);
	uigw_dlg_finish(dlg, UIGW_OUTCOME_TIMED_OUT, true);
	return 0;	/* dlg_finish terminated the instance already */
}

/* The dialog's charging record, once everything it sent is counted: a row of the store's log job (no job of its
 * own per dialog). One per dialog row; a crash in between is made good at the next start (store_cdr.c). */
static void write_cdr(struct uigw_dialog *dlg)
{
	struct uigw_store *st = dlg->gw->store;
	struct uigw_store_row *r;
	void *ctx;

	if (!st || !dlg->end_written || uigw_store_cfg_of(st)->cdr_off)
		return;
	r = uigw_store_log_row(st, UIGW_ROW_CDR, &ctx);
	if (!r) {
		LOGPDLG(dlg, LOGL_ERROR, "charging record lost (made at the next start)\n");
		return;
	}
	r->time_ms = uigw_wall_ms();
	r->dialog = dlg->id;
	r->channel = uigw_channel_name(dlg->channel);
	r->subscriber = talloc_strdup(ctx, uigw_store_cfg_of(st)->cdr_msisdn ? dlg->msisdn : dlg->pseudonym);
	r->campaign = dlg->camp ? talloc_strdup(ctx, dlg->camp->name) : "-";
	r->owner = dlg->camp && dlg->camp->owner ? talloc_strdup(ctx, dlg->camp->owner) : NULL;
	r->u.cdr.started_ms = dlg->started_ms;
	r->u.cdr.outcome = dlg->outcome;
	r->u.cdr.refusal = dlg->refusal != UIGW_REFUSAL_NONE ? uigw_refusal_name(dlg->refusal) : NULL;
	r->u.cdr.roaming = dlg->roaming;
	r->u.cdr.visited = dlg->visited[0] ? talloc_strdup(ctx, dlg->visited) : NULL;
	r->u.cdr.screens = dlg->screens;
	r->u.cdr.mt_messages = dlg->mt_messages;
	r->u.cdr.charge_class = dlg->camp && dlg->camp->charge_class ? talloc_strdup(ctx, dlg->camp->charge_class) :
				"standard";
	r->u.cdr.zero_rated = dlg->camp && dlg->camp->zero_rated;
	r->u.cdr.test = dlg->channel == UIGW_CHAN_VTY;
}

static void dlg_cleanup(struct osmo_fsm_inst *fi, enum osmo_fsm_term_cause cause)
{
	struct uigw_dialog *dlg = fi->priv;

	write_cdr(dlg);
	if (dlg->job) {
		dlg->job->data = NULL;
		talloc_free(dlg->job);	/* never submitted */
		dlg->job = NULL;
	}
	uigw_extapp_cancel(dlg);
	uigw_dlg_unlink(dlg);
	uigw_dlg_outbox_drop(dlg);
	if (dlg->gw->begin_dlg == dlg)
		dlg->gw->begin_dlg = NULL;
	if (dlg->camp)
		uigw_campaign_put(dlg->camp);
	dlg->camp = NULL;
}

static const struct osmo_fsm_state dlg_states[] = {
	[ST_WAIT_INPUT] = {
		.name = "WAIT_INPUT",
		.in_event_mask = S(EV_INPUT),
		.out_state_mask = S(ST_WAIT_INPUT) | S(ST_WAIT_STORE) | S(ST_WAIT_APP),
		.action = st_wait_input,
	},
	[ST_WAIT_STORE] = {
		.name = "WAIT_STORE",
		.in_event_mask = S(EV_INPUT) | S(EV_STORE_DONE),
		.out_state_mask = S(ST_WAIT_INPUT) | S(ST_WAIT_STORE) | S(ST_WAIT_APP),
		.action = st_wait_store,
	},
	[ST_WAIT_APP] = {
		.name = "WAIT_APP",
		.in_event_mask = S(EV_INPUT) | S(EV_APP_DONE),
		.out_state_mask = S(ST_WAIT_INPUT) | S(ST_WAIT_STORE) | S(ST_WAIT_APP),
		.action = st_wait_app,
	},
};

static struct osmo_fsm dlg_fsm = {
	.name = "DIALOG",
	.states = dlg_states,
	.num_states = ARRAY_SIZE(dlg_states),
	.event_names = dlg_event_names,
	.timer_cb = dlg_timer_cb,
	.cleanup = dlg_cleanup,
	.log_subsys = DDLG,
};

int uigw_dialog_init(struct uigw *gw)
{
	static bool registered;

	if (uigw_dlg_tables_init(gw) < 0)
		return -ENOMEM;

	if (!registered) {
		int rc = osmo_fsm_register(&dlg_fsm);
		if (rc < 0)
			return rc;
		registered = true;
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* public entry points */

struct uigw_dialog *uigw_dlg_alloc(struct uigw *gw, enum uigw_channel ch, const char *msisdn,
				   const struct uigw_profile *profile, const char *lang, void *chan_priv)
{
	struct osmo_fsm_inst *fi;
	struct uigw_dialog *dlg;
	const struct uigw_chan_ops *ops = gw->chan[ch] ? gw->chan[ch]->ops : NULL;

	fi = osmo_fsm_inst_alloc(&dlg_fsm, gw->ctx, NULL, LOGL_DEBUG, NULL);
	if (!fi)
		return NULL;
	dlg = talloc_zero(fi, struct uigw_dialog);
	if (!dlg) {
		osmo_fsm_inst_free(fi);
		return NULL;
	}
	fi->priv = dlg;
	dlg->fi = fi;
	dlg->gw = gw;
	INIT_LLIST_HEAD(&dlg->list);
	dlg->id = gw->next_dialog_id++;
	dlg->channel = ch;
	dlg->profile = profile ? profile : (ops && ops->profile ? ops->profile : &uigw_profile_ussd);
	OSMO_STRLCPY_ARRAY(dlg->msisdn, msisdn ? msisdn : "");
	uigw_pseudonym(gw->pseudonym_key, dlg->msisdn, dlg->pseudonym);
	OSMO_STRLCPY_ARRAY(dlg->lang, lang && lang[0] ? lang : gw->cfg.default_language);
	dlg->node = -1;
	dlg->started_ms = uigw_wall_ms();
	dlg->chan_priv = chan_priv;
	return dlg;
}

/* Refuse: a last text on the channel, a dialog row, counters. The dialog is freed. */
static void dlg_reject(struct uigw_dialog *dlg, enum uigw_refusal why, const char *text)
{
	dlg->refusal = why;
	LOGPDLG(dlg, LOGL_NOTICE, "refused: %s\n", uigw_refusal_name(why));
	/* busy: counted by uigw_admit() */
	if (why != UIGW_REFUSAL_BUSY)
		rate_ctr_inc2(dlg->gw->ctrs, why == UIGW_REFUSAL_UNROUTED ? UIGW_CTR_DLG_UNROUTED :
			      UIGW_CTR_DLG_REJECTED);
	/* under overload, write nothing more */
	if (why != UIGW_REFUSAL_BUSY)
		uigw_dlg_end_with_text(dlg, text, UIGW_OUTCOME_REJECTED);
	else {
		struct uigw_render_out out;
		void *tmp = talloc_new(dlg->gw->ctx);	/* not under dlg: the delivery may free it */
		if (uigw_dlg_render_text(dlg, tmp, text, &out) == 0)
			uigw_dlg_deliver(dlg, &out, true);
		else
			osmo_fsm_inst_term(dlg->fi, OSMO_FSM_TERM_REGULAR, NULL);
		talloc_free(tmp);
	}
}

enum uigw_refusal uigw_dlg_camp_allows(const struct uigw_campaign *c, enum uigw_channel ch, bool network)
{
	if (!c->enabled)
		return UIGW_REFUSAL_CAMPAIGN_DISABLED;
	if (!(c->channels & (1u << ch)))
		return UIGW_REFUSAL_CHANNEL_NOT_ALLOWED;
	if (c->network_only && !network)
		return UIGW_REFUSAL_NETWORK_ONLY;
	return UIGW_REFUSAL_NONE;
}

/* Start on camp: params, first node, direct-dial inputs; then the first screen. \a taken: the dialog's state was
 * taken from another gateway into dlg (node, history, variables): it goes on with the inputs. */
static struct uigw_dialog *dlg_start(struct uigw_dialog *dlg, struct uigw_campaign *camp, int start,
				     const char * const *inputs, unsigned int n_inputs, bool try_resume, bool taken)
{
	unsigned int i;
	bool resumed = taken;

	if (taken) {
		dlg->camp = camp;
		uigw_campaign_get(camp);
	} else if (try_resume && n_inputs == 0 && start < 0) {
		resumed = uigw_dlg_resume_take(dlg, camp);
	}
	if (!resumed) {
		dlg->camp = camp;
		uigw_campaign_get(camp);
		for (i = 0; i < camp->n_params; i++)
			if (!uigw_dlg_var_get(dlg, camp->params[i].name))
				uigw_dlg_var_set(dlg, camp->params[i].name, camp->params[i].def);
	}
	uigw_dlg_link(dlg);
	rate_ctr_inc2(dlg->gw->ctrs, UIGW_CTR_DLG_BEGIN);
	uigw_dlg_count(dlg, UIGW_DCTR_BEGIN);
	osmo_fsm_inst_state_chg(dlg->fi, ST_WAIT_INPUT, 0, 0);
	if (resumed) {
		rate_ctr_inc2(dlg->gw->ctrs, UIGW_CTR_DLG_RESUMED);
		LOGPDLG(dlg, LOGL_INFO, "%s at node '%s'\n", taken ? "goes on, another gateway's before," : "resumed",
			dlg->camp->nodes[dlg->node].id);
		/* the subscriber who dialled again is welcomed back; one who answered a message just goes on */
		if (!taken)
			uigw_dlg_set_notice(dlg, uigw_dlg_label(dlg, &dlg->camp->labels.resumed, "Welcome back.", dlg));
	} else {
		LOGPDLG(dlg, LOGL_INFO, "begins\n");
		uigw_dlg_enter(dlg, start >= 0 ? start : camp->start);
	}
	/* direct-dial shortcuts and words after a keyword: fed as if typed, screens in between not shown */
	for (i = 0; i < n_inputs && !dlg->ending && dlg->node >= 0; i++) {
		unsigned int before = dlg->retries;
		if (!uigw_dlg_process_input(dlg, inputs[i]))
			return NULL;
		if (dlg->retries > before)
			break;	/* an invalid shortcut shows that screen with its reason */
	}
	if (!dlg_commit_and_show(dlg))
		return NULL;
	return dlg;
}

struct uigw_dialog *uigw_dlg_start(struct uigw_dialog *dlg, struct uigw_campaign *camp, int start,
				   const char * const *inputs, unsigned int n_inputs, bool try_resume)
{
	return dlg_start(dlg, camp, start, inputs, n_inputs, try_resume, false);
}

struct uigw_dialog *uigw_dlg_continue(struct uigw_dialog *dlg, struct uigw_campaign *camp, const char *text)
{
	const char *inputs[1] = { text };

	return dlg_start(dlg, camp, -1, inputs, 1, false, true);
}

static struct uigw_dialog *dialog_begin(struct uigw *gw, const struct uigw_begin *b);

struct uigw_dialog *uigw_dialog_begin(struct uigw *gw, const struct uigw_begin *b)
{
	struct uigw_dialog *dlg;

	/* the channel is inside this call: what the core has for it waits in the outbox */
	gw->chan_depth++;
	gw->begin_dlg = NULL;
	dlg = dialog_begin(gw, b);
	/* a dialog that ends with its first screen (a refusal, a one-screen campaign) lives until that screen was
	 * delivered: the channel keeps it until then */
	if (!dlg)
		dlg = gw->begin_dlg;
	gw->begin_dlg = NULL;
	gw->chan_depth--;
	return dlg;
}

static struct uigw_dialog *dialog_begin(struct uigw *gw, const struct uigw_begin *b)
{
	struct uigw_dialog *dlg, *old;
	struct uigw_route r;
	int rc;

	enum uigw_refusal why;

	OSMO_ASSERT(gw->chan[b->channel]);
	dlg = uigw_dlg_alloc(gw, b->channel, b->msisdn, b->profile, b->language, b->chan_priv);
	if (!dlg)
		return NULL;
	gw->begin_dlg = dlg;	/* cleared if it is freed before the call returns */
	dlg->roaming = b->roaming;
	if (b->visited)
		OSMO_STRLCPY_ARRAY(dlg->visited, b->visited);
	/* pushes to them later keep the quiet hours of where they are */
	uigw_subscriber_roaming_note(gw, dlg->msisdn, b->roaming, b->visited);

	if (!b->admitted && uigw_admit(gw) != UIGW_REFUSAL_NONE) {
		dlg_reject(dlg, UIGW_REFUSAL_BUSY, gw->cfg.busy_text);
		return NULL;
	}
	rc = uigw_route(gw->campaigns, b->channel, b->text, b->short_code, &r);
	if (rc < 0 && b->text) {
		/* an answer to a dialog another gateway on the shared store held (SMS, IMS messages) */
		struct uigw_campaign *held = uigw_dlg_state_take_any(dlg);

		if (held)
			return uigw_dlg_continue(dlg, held, b->text);
	}
	if (rc < 0) {
		/* no local campaign: an external application's route? */
		char rest[UIGW_EXTAPP_TEXT_MAX < 1024 ? UIGW_EXTAPP_TEXT_MAX : 1024];
		struct uigw_extapp *ext = uigw_extapp_route(gw, b->channel, b->text, b->short_code, rest,
							    sizeof(rest));

		if (!ext) {
			dlg_reject(dlg, UIGW_REFUSAL_UNROUTED, gw->cfg.unrouted_text);
			return NULL;
		}
		old = uigw_dialog_find(gw, dlg->msisdn, b->channel);
		if (old)
			uigw_dlg_finish(old, UIGW_OUTCOME_ABANDONED, true);
		/* the first request goes with the dialog's first screen: what came with the message is its text */
		if (rest[0]) {
			dlg->camp = ext->camp;	/* for the answer row; uigw_dlg_start() takes its own reference */
			uigw_extapp_input(dlg, rest, true);
			dlg->camp = NULL;
		}
		dlg->ext_call = true;
		return uigw_dlg_start(dlg, ext->camp, -1, NULL, 0, false);
	}
	why = uigw_dlg_camp_allows(r.camp, b->channel, false);
	/* deny: not for a roaming subscriber; notice-only runs what they begin themselves (they chose to) */
	if (why == UIGW_REFUSAL_NONE && b->roaming && uigw_camp_roaming(gw, r.camp) == UIGW_ROAM_DENY)
		why = UIGW_REFUSAL_ROAMING;
	if (why != UIGW_REFUSAL_NONE) {
		dlg->camp = r.camp;
		uigw_campaign_get(r.camp);
		dlg_reject(dlg, why, uigw_dlg_label(dlg, &r.camp->labels.unavailable, "This service is not available.",
						     dlg));
		return NULL;
	}
	/* one active dialog per subscriber per channel: a new begin replaces the old one */
	old = uigw_dialog_find(gw, dlg->msisdn, b->channel);
	if (old) {
		LOGPDLG(old, LOGL_INFO, "replaced by a new dialog of the same subscriber\n");
		uigw_dlg_finish(old, UIGW_OUTCOME_ABANDONED, true);
	}
	return uigw_dlg_start(dlg, r.camp, r.start, r.inputs, r.n_inputs, true);
}

int uigw_dialog_input(struct uigw_dialog *dlg, const char *text)
{
	struct uigw *gw = dlg->gw;

	if (uigw_dlg_ending(dlg))
		return -EBUSY;	/* its last screen is on the way */
	if (dlg->fi->state == ST_WAIT_STORE || dlg->fi->state == ST_WAIT_APP) {
		if (dlg->pending_input)
			return -EBUSY;
		dlg->pending_input = talloc_strdup(dlg, text);
		return 0;
	}
	gw->chan_depth++;
	osmo_fsm_inst_dispatch(dlg->fi, EV_INPUT, (void *)text);
	gw->chan_depth--;
	return 0;
}

void uigw_dialog_abort(struct uigw_dialog *dlg, enum uigw_outcome outcome)
{
	if (dlg->in_deliver) {
		/* called back from inside the channel's deliver(): the core ends the dialog when it returns */
		dlg->abort_pending = true;
		dlg->abort_outcome = outcome;
		return;
	}
	uigw_dlg_finish(dlg, outcome, false);
}

void uigw_dialog_terminate(struct uigw_dialog *dlg, enum uigw_outcome outcome)
{
	uigw_dlg_finish(dlg, outcome, true);
}
