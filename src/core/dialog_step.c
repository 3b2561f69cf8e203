/*! \file dialog_step.c
 *  One step of the dialog engine: validating an input against the current node, recording the answer, running
 *  actions and moving through the campaign graph (Back, Home, More, jumps). Sending and the FSM are in dialog.c. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <osmocom/core/fsm.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/common/number.h>
#include <osmocom/uigw/core/optout.h>
#include "dialog_priv.h"

/* ---------------------------------------------------------------------------------------------------------- */
/* walking the graph */

static void hist_push(struct uigw_dialog *dlg, int node)
{
	if (dlg->n_hist == ARRAY_SIZE(dlg->hist)) {
		memmove(dlg->hist, dlg->hist + 1, sizeof(dlg->hist) - sizeof(dlg->hist[0]));
		dlg->n_hist--;
	}
	dlg->hist[dlg->n_hist++] = node;
}

static void run_actions(struct uigw_dialog *dlg, const struct uigw_action *acts, unsigned int n);

/* Enter node idx: on-entry actions of menus and info nodes, the queries of its screen, ending if it is final. */
void uigw_dlg_enter(struct uigw_dialog *dlg, int idx)
{
	const struct uigw_node *node;

	dlg->node = idx;
	dlg->page = 0;
	dlg->retries = 0;
	node = &dlg->camp->nodes[idx];
	if (node->kind == UIGW_NODE_MENU || node->kind == UIGW_NODE_INFO)
		run_actions(dlg, node->actions, node->n_actions);
	/* a jump action may have switched campaign and node */
	node = &dlg->camp->nodes[dlg->node];
	if (node->kind == UIGW_NODE_INFO && node->next < 0)
		dlg->ending = true;
	if (dlg->ending && dlg->gw->store)
		uigw_dlg_write_end(dlg, UIGW_OUTCOME_COMPLETED, uigw_dlg_job(dlg));
}

/* End after an answer with no next node: goodbye text after the commit. */
static void dlg_end_goodbye(struct uigw_dialog *dlg);

static void dlg_goto(struct uigw_dialog *dlg, int next)
{
	if (next < 0) {
		dlg_end_goodbye(dlg);
		return;
	}
	hist_push(dlg, dlg->node);
	uigw_dlg_enter(dlg, next);
}

static void dlg_jump(struct uigw_dialog *dlg, const char *name)
{
	struct uigw_campaign *c = uigw_campaign_set_find(dlg->gw->campaigns, name);
	unsigned int i;

	if (!c || !c->enabled) {
		LOGPDLG(dlg, LOGL_ERROR, "jump to campaign '%s' not possible\n", name);
		return;
	}
	LOGPDLG(dlg, LOGL_INFO, "jumps to campaign %s\n", name);
	/* variable names point into the old campaign */
	for (i = 0; i < dlg->n_vars; i++)
		talloc_free(dlg->vars[i].value);
	TALLOC_FREE(dlg->vars);
	dlg->n_vars = 0;
	uigw_campaign_get(c);
	uigw_campaign_put(dlg->camp);
	dlg->camp = c;
	for (i = 0; i < c->n_params; i++)
		uigw_dlg_var_set(dlg, c->params[i].name, c->params[i].def);
	dlg->n_hist = 0;
	dlg->node = c->start;
	dlg->page = 0;
}

static void run_actions(struct uigw_dialog *dlg, const struct uigw_action *acts, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		const struct uigw_action *a = &acts[i];
		struct uigw_store_job *job = dlg->gw->store ? uigw_dlg_job(dlg) : NULL;
		struct uigw_store_row *r;
		const char *subj = NULL, *val = NULL;
		char nr[UIGW_MSISDN_MAXLEN];

		if (a->kind == UIGW_ACT_JUMP) {
			void *tmp = talloc_new(dlg->gw->ctx);
			const char *name = uigw_dlg_eval(dlg, tmp, a->subject);
			if (name)
				dlg_jump(dlg, name);
			talloc_free(tmp);
			/* the rest of this list belongs to the campaign we left */
			return;
		}
		if (a->kind == UIGW_ACT_OFFER) {
			void *tmp = talloc_new(dlg->gw->ctx);
			const char *t = uigw_dlg_label(dlg, &a->text, "", tmp);
			const char *uri = uigw_dlg_eval(dlg, tmp, a->value);
			char *s = talloc_asprintf(tmp, "%s%s%s", t ? t : "", t && t[0] && uri && uri[0] ? " " : "",
						  uri ? uri : "");
			uigw_dlg_add_notice(dlg, s);
			talloc_free(tmp);
		}
		if (!job)
			continue;
		if (a->subject)
			subj = uigw_dlg_eval(dlg, job, a->subject);
		if (a->value)
			val = uigw_dlg_eval(dlg, job, a->value);
		switch (a->kind) {
		case UIGW_ACT_RECORD:
			if (!val || !val[0])
				break;	/* nothing to record (e.g. a trigger parameter that was not passed) */
			r = uigw_dlg_row(dlg, job, UIGW_ROW_RESPONSE);
			if (!r)
				break;
			r->u.response.node = dlg->camp->nodes[dlg->node].id;
			r->u.response.question = subj;
			r->u.response.kind = "record";
			r->u.response.value = val;
			r->u.response.raw = val;
			r->u.response.language = uigw_dlg_lang(dlg, job);
			r->u.response.roaming = dlg->roaming;
			rate_ctr_inc2(dlg->gw->ctrs, UIGW_CTR_RESPONSES);
			uigw_dlg_count(dlg, UIGW_DCTR_RESPONSES);
			break;
		case UIGW_ACT_SPAM_REPORT:
			if (!subj || uigw_e164_normalize(subj, dlg->gw->cfg.country_code, dlg->gw->cfg.national_prefix,
							 nr, sizeof(nr)) < 0) {
				LOGPDLG(dlg, LOGL_NOTICE, "spam report of '%s' is not an E.164 number: skipped\n",
					subj ? subj : "");
				break;
			}
			r = uigw_dlg_row(dlg, job, UIGW_ROW_SPAM);
			if (r)
				r->u.spam.number = talloc_strdup(job, nr);
			break;
		case UIGW_ACT_REACTION:
			r = uigw_dlg_row(dlg, job, UIGW_ROW_REACTION);
			if (!r)
				break;
			r->u.reaction.content = subj;
			r->u.reaction.reaction = get_value_string(uigw_reaction_names, a->reaction);
			break;
		case UIGW_ACT_APP_RATING:
			r = uigw_dlg_row(dlg, job, UIGW_ROW_APP_RATING);
			if (!r)
				break;
			r->u.app_rating.app = subj;
			r->u.app_rating.rating = val ? atoi(val) : 0;
			break;
		case UIGW_ACT_FLAG:
			r = uigw_dlg_row(dlg, job, UIGW_ROW_FLAG);
			if (!r)
				break;
			r->u.flag.content = subj;
			r->u.flag.reason = val;
			break;
		case UIGW_ACT_OFFER:
			r = uigw_dlg_row(dlg, job, UIGW_ROW_OFFER);
			if (!r)
				break;
			r->u.offer.service = subj;
			r->u.offer.uri = val;
			break;
		case UIGW_ACT_OPTOUT:
		case UIGW_ACT_OPTIN:
			r = uigw_dlg_row(dlg, job, UIGW_ROW_OPTOUT);
			if (!r)
				break;
			r->u.optout.opt_out = a->kind == UIGW_ACT_OPTOUT;
			if (a->scope != UIGW_SCOPE_ALL)
				r->u.optout.scope = talloc_asprintf(job, "%s:%s", a->scope == UIGW_SCOPE_CAMPAIGN ?
								    "campaign" : "tenant", subj ? subj : "");
			LOGPDLG(dlg, LOGL_NOTICE, "the subscriber opts %s pushes%s%s\n", r->u.optout.opt_out ? "out of" :
				"back into", r->u.optout.scope ? " of " : "", r->u.optout.scope ? r->u.optout.scope : "");
			break;
		default:
			break;
		}
	}
}

/* Record the answer to a question node. */
static void record_answer(struct uigw_dialog *dlg, const struct uigw_node *node, const char *value, const char *raw)
{
	struct uigw_store_job *job;
	struct uigw_store_row *r;

	uigw_dlg_var_set(dlg, node->var ? node->var : node->id, value);
	uigw_dlg_var_set(dlg, "answer", value);
	if (!node->record || !dlg->gw->store)
		return;
	job = uigw_dlg_job(dlg);
	if (!job)
		return;
	r = uigw_dlg_row(dlg, job, UIGW_ROW_RESPONSE);
	if (!r)
		return;
	r->u.response.node = node->id;
	r->u.response.question = node->question ? node->question : node->id;
	r->u.response.kind = get_value_string(uigw_node_kind_names, node->kind);
	r->u.response.value = talloc_strdup(job, value);
	r->u.response.raw = talloc_strdup(job, raw);
	r->u.response.language = uigw_dlg_lang(dlg, job);
	r->u.response.roaming = dlg->roaming;
	rate_ctr_inc2(dlg->gw->ctrs, UIGW_CTR_RESPONSES);
	uigw_dlg_count(dlg, UIGW_DCTR_RESPONSES);
}

static void dlg_end_goodbye(struct uigw_dialog *dlg)
{
	/* show the goodbye label as the final screen: render it after the commit */
	dlg->ending = true;
	if (dlg->gw->store)
		uigw_dlg_write_end(dlg, UIGW_OUTCOME_COMPLETED, uigw_dlg_job(dlg));
	dlg->node = -1;
}

static bool word_eq(const char *in, const char *w)
{
	return !strcasecmp(in, w);
}

/* Match input against an option: its key, or its label in the dialog's language (case-insensitive). */
static int match_option(struct uigw_dialog *dlg, const struct uigw_node *node, const char *in)
{
	unsigned int i;

	for (i = 0; i < node->n_options; i++) {
		if (!strcasecmp(node->options[i].key, in))
			return i;
	}
	for (i = 0; i < node->n_options; i++) {
		const struct uigw_tmpl *t = uigw_i18n_get(&node->options[i].label, dlg->lang);
		if (t && t->n_seg == 1 && t->seg[0].kind == UIGW_SEG_LIT && !strcasecmp(t->seg[0].text, in))
			return i;
	}
	return -1;
}

/* Invalid input: re-prompt with a reason (returns true: show), or end after max_retries (false). */
static bool dlg_invalid(struct uigw_dialog *dlg, const char *reason)
{
	rate_ctr_inc2(dlg->gw->ctrs, UIGW_CTR_INVALID_INPUT);
	dlg->retries++;
	LOGPDLG(dlg, LOGL_INFO, "invalid input (%u/%u): %s\n", dlg->retries, dlg->gw->cfg.max_retries, reason);
	if (dlg->retries >= dlg->gw->cfg.max_retries) {
		uigw_dlg_end_with_text(dlg, uigw_dlg_label(dlg, &dlg->camp->labels.too_many,
							   "Too many invalid answers. Goodbye.", dlg), UIGW_OUTCOME_REJECTED);
		return false;
	}
	uigw_dlg_set_notice(dlg, reason);
	dlg->page = 0;
	return true;
}

static bool is_more(const char *in)
{
	return !strcmp(in, UIGW_KEY_MORE) || word_eq(in, "MORE");
}

static bool is_back(const char *in)
{
	return !strcmp(in, UIGW_KEY_BACK) || word_eq(in, "BACK");
}

static bool is_home(const char *in)
{
	return !strcmp(in, UIGW_KEY_HOME) || word_eq(in, "HOME") || word_eq(in, "MENU");
}

bool uigw_dlg_push_stop_offered(const struct uigw_dialog *dlg)
{
	return dlg->network_initiated && dlg->gw->cfg.push_stop_key && dlg->profile->kind == UIGW_PROF_USSD &&
	       dlg->camp && !dlg->camp->ext_url;
}

/* the subscriber chose "stop these messages" in a pushed dialog: the opt-out is written with the dialog's job,
 * the confirmation is the final screen (shown after the commit, like every screen) */
static void push_stop(struct uigw_dialog *dlg)
{
	struct uigw_store_row *r;

	LOGPDLG(dlg, LOGL_NOTICE, "the subscriber stops network-initiated interactions (option %s)\n",
		dlg->gw->cfg.push_stop_key);
	if (dlg->gw->store) {
		r = uigw_dlg_row(dlg, uigw_dlg_job(dlg), UIGW_ROW_OPTOUT);
		if (r)
			r->u.optout.opt_out = true;
	}
	uigw_dlg_end_with_text(dlg, dlg->gw->cfg.stop_reply ? dlg->gw->cfg.stop_reply : UIGW_STOP_REPLY,
			       UIGW_OUTCOME_REJECTED);
}

/* Process one input in WAIT_INPUT: validate, record, move. \returns true if the (new) screen is to be
 * committed and shown, false if the dialog already ended. */
bool uigw_dlg_process_input(struct uigw_dialog *dlg, const char *raw)
{
	const struct uigw_node *node = &dlg->camp->nodes[dlg->node];
	const struct uigw_labels *lb = &dlg->camp->labels;
	char in[1024], nr[UIGW_MSISDN_MAXLEN], val[16];
	size_t len;
	const char *p = raw;
	long v;
	char *end;
	int i;

	dlg->steps++;
	rate_ctr_inc2(dlg->gw->ctrs, UIGW_CTR_STEPS);
	uigw_dlg_count(dlg, UIGW_DCTR_STEPS);
	while (*p && isspace((unsigned char)*p))
		p++;
	OSMO_STRLCPY_ARRAY(in, p);
	len = strlen(in);
	while (len && isspace((unsigned char)in[len - 1]))
		in[--len] = '\0';

	/* an external application's dialog: its own navigation */
	if (dlg->camp->ext_url)
		return uigw_extapp_input(dlg, in, false);

	/* navigation first */
	if (is_more(in)) {
		dlg->page++;	/* the renderer clamps to the last page */
		return true;
	}
	if (is_back(in) && dlg->n_hist > 0) {
		uigw_dlg_enter(dlg, dlg->hist[--dlg->n_hist]);
		return true;
	}
	if (is_home(in) && dlg->node != dlg->camp->start) {
		dlg->n_hist = 0;
		uigw_dlg_enter(dlg, dlg->camp->start);
		return true;
	}
	/* the stop option of pushed dialogs, unless the screen has an option of that key itself */
	if (uigw_dlg_push_stop_offered(dlg) && !strcasecmp(in, dlg->gw->cfg.push_stop_key) &&
	    !((node->kind == UIGW_NODE_MENU || node->kind == UIGW_NODE_CHOICE) && match_option(dlg, node, in) >= 0)) {
		push_stop(dlg);
		return false;
	}

	switch (node->kind) {
	case UIGW_NODE_MENU:
	case UIGW_NODE_CHOICE: {
		const struct uigw_option *o;
		int next;

		i = match_option(dlg, node, in);
		if (i < 0) {
			return dlg_invalid(dlg, uigw_dlg_label(dlg, &lb->invalid, "Invalid choice.", dlg));
		}
		o = &node->options[i];
		if (node->kind == UIGW_NODE_CHOICE)
			record_answer(dlg, node, o->value ? o->value : o->key, in);
		else
			uigw_dlg_var_set(dlg, node->var ? node->var : node->id, o->value ? o->value : o->key);
		next = o->next >= 0 ? o->next : node->next;
		{
			const struct uigw_campaign *before = dlg->camp;
			run_actions(dlg, o->actions, o->n_actions);
			if (node->kind == UIGW_NODE_CHOICE)
				run_actions(dlg, node->actions, node->n_actions);
			if (dlg->camp != before) {
				/* jumped: start of the other campaign */
				uigw_dlg_enter(dlg, dlg->camp->start);
				break;
			}
		}
		dlg_goto(dlg, next);
		break;
	}
	case UIGW_NODE_RATING:
		v = strtol(in, &end, 10);
		if ((!in[0] || *end) && node->scale_labels) {
			/* "Great" as well as "5" */
			unsigned int k;
			for (k = 0; k < node->scale; k++) {
				const struct uigw_tmpl *t = uigw_i18n_get(&node->scale_labels[k], dlg->lang);
				if (t && t->n_seg == 1 && t->seg[0].kind == UIGW_SEG_LIT && word_eq(in, t->seg[0].text)) {
					v = k + 1;
					end = (char *)"";
					break;
				}
			}
		}
		if (!in[0] || *end || v < 1 || v > (long)node->scale) {
			char def[48], scale[12];

			/* the campaign's label in the dialog's language; ${scale} names N */
			snprintf(scale, sizeof(scale), "%u", node->scale);
			uigw_dlg_var_set(dlg, "scale", scale);
			snprintf(def, sizeof(def), "Please answer 1-%u.", node->scale);
			return dlg_invalid(dlg, uigw_dlg_label(dlg, &lb->invalid_rating, def, dlg));
		}
		snprintf(val, sizeof(val), "%ld", v);
		record_answer(dlg, node, val, in);
		run_actions(dlg, node->actions, node->n_actions);
		dlg_goto(dlg, node->next);
		break;
	case UIGW_NODE_YESNO: {
		bool yes;
		const struct uigw_tmpl *ty = uigw_i18n_get(&lb->yes, dlg->lang);
		const struct uigw_tmpl *tn = uigw_i18n_get(&lb->no, dlg->lang);

		if (!strcmp(in, "1") || word_eq(in, "yes") || word_eq(in, "y") ||
		    (ty && ty->n_seg == 1 && word_eq(in, ty->seg[0].text)))
			yes = true;
		else if (!strcmp(in, "2") || word_eq(in, "no") || word_eq(in, "n") ||
			 (tn && tn->n_seg == 1 && word_eq(in, tn->seg[0].text)))
			yes = false;
		else {
			return dlg_invalid(dlg, uigw_dlg_label(dlg, &lb->invalid, "Invalid choice.", dlg));
		}
		record_answer(dlg, node, yes ? "yes" : "no", in);
		run_actions(dlg, node->actions, node->n_actions);
		dlg_goto(dlg, yes ? node->yes : node->no);
		break;
	}
	case UIGW_NODE_NUMBER:
		if (uigw_e164_normalize(in, dlg->gw->cfg.country_code, dlg->gw->cfg.national_prefix,
					nr, sizeof(nr)) < 0) {
			return dlg_invalid(dlg, uigw_dlg_label(dlg, &lb->invalid_number, "Not a valid phone number.", dlg));
		}
		record_answer(dlg, node, nr, in);
		run_actions(dlg, node->actions, node->n_actions);
		dlg_goto(dlg, node->next);
		break;
	case UIGW_NODE_TEXT:
		if (!in[0] || !uigw_utf8_valid(in, len))
			return dlg_invalid(dlg, uigw_dlg_label(dlg, &lb->invalid, "Please enter a text.", dlg));
		if (uigw_utf8_chars(in, len) > node->max_len) {
			char def[48];
			snprintf(def, sizeof(def), "Too long: at most %u characters.", node->max_len);
			return dlg_invalid(dlg, uigw_dlg_label(dlg, &lb->too_long, def, dlg));
		}
		record_answer(dlg, node, in, in);
		run_actions(dlg, node->actions, node->n_actions);
		dlg_goto(dlg, node->next);
		break;
	case UIGW_NODE_INFO:
		dlg_goto(dlg, node->next);
		break;
	}
	return true;
}

