/*! \file optout.c
 *  The OPTOUT row of a subscriber, for every channel and the operator, and the erasure of a subscriber
 *  (core/optout.h). */

#include <string.h>
#include <strings.h>
#include <osmocom/core/talloc.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/pseudonym.h>
#include <osmocom/uigw/core/optout.h>
#include <osmocom/uigw/core/schedule.h>
#include <osmocom/uigw/core/dialog.h>

/* the whole text (blanks and a final '.'/'!' aside) is one of the space-separated keywords, in any case */
static bool is_keyword(const char *keywords, const char *text)
{
	const char *b = text, *e, *w;
	size_t n;

	if (!keywords || !text)
		return false;
	while (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n')
		b++;
	e = b + strlen(b);
	while (e > b && strchr(" \t\r\n.!", e[-1]))
		e--;
	n = e - b;
	if (!n)
		return false;
	for (w = keywords; *w; ) {
		size_t wl;

		while (*w == ' ')
			w++;
		wl = strcspn(w, " ");
		if (wl && wl == n && !strncasecmp(w, b, n))
			return true;
		w += wl;
	}
	return false;
}

int uigw_optout_keyword(const struct uigw *gw, const char *text)
{
	return uigw_optout_keyword_reply(gw, text, NULL);
}

int uigw_optout_keyword_reply(const struct uigw *gw, const char *text, const char **reply)
{
	const struct uigw_kw_lang *l;
	const char *r = NULL;
	int kw = 0;

	if (is_keyword(gw->cfg.stop_keywords, text))
		kw = 1;
	else if (is_keyword(gw->cfg.start_keywords, text))
		kw = -1;
	else {
		/* the other languages: the confirmation in the language of the word */
		llist_for_each_entry(l, &gw->cfg.kw_langs, list) {
			if (is_keyword(l->stop, text)) {
				kw = 1;
				r = l->stop_reply;
				break;
			}
			if (is_keyword(l->start, text)) {
				kw = -1;
				r = l->start_reply;
				break;
			}
		}
	}
	if (reply)
		*reply = !kw ? NULL : r ? r : kw > 0 ? gw->cfg.stop_reply : gw->cfg.start_reply;
	return kw;
}

struct uigw_store_job *uigw_optout_submit(struct uigw *gw, const char *msisdn, bool out, enum uigw_channel ch,
					  uigw_store_done_cb done, void *data)
{
	return uigw_optout_submit_scope(gw, msisdn, out, ch, NULL, done, data);
}

struct uigw_store_job *uigw_optout_submit_scope(struct uigw *gw, const char *msisdn, bool out, enum uigw_channel ch,
						const char *scope, uigw_store_done_cb done, void *data)
{
	struct uigw_store_job *job;
	struct uigw_store_row *r;
	char pseudo[33];

	if (!gw->store) {
		LOGP(DMAIN, LOGL_ERROR, "opt-%s of a subscriber: no store to record it\n", out ? "out" : "in");
		return NULL;
	}
	uigw_pseudonym(gw->pseudonym_key, msisdn, pseudo);
	job = uigw_store_job_alloc(gw->store, done, data);
	if (!job)
		return NULL;
	r = uigw_store_job_row(job, UIGW_ROW_OPTOUT);
	if (!r)
		goto fail;
	r->time_ms = uigw_wall_ms();
	r->subscriber = talloc_strdup(job, pseudo);
	r->campaign = "-";
	r->channel = uigw_channel_name(ch);
	r->u.optout.opt_out = out;
	r->u.optout.scope = scope ? talloc_strdup(job, scope) : NULL;
	if (!r->subscriber || (scope && !r->u.optout.scope) || uigw_store_submit(job) < 0)
		goto fail;
	LOGP(DMAIN, LOGL_NOTICE, "subscriber %s opts %s network-initiated interactions%s%s (via %s)\n", pseudo,
	     out ? "out of" : "back into", scope ? " of " : "", scope ? scope : "", uigw_channel_name(ch));
	return job;
fail:
	talloc_free(job);
	return NULL;
}

void uigw_subscriber_end_dialogs(struct uigw *gw, const char *msisdn)
{
	unsigned int ch;

	for (ch = 0; ch < _UIGW_CHAN_NUM; ch++) {
		struct uigw_dialog *dlg = uigw_dialog_find(gw, msisdn, ch);

		if (dlg)
			uigw_dialog_terminate(dlg, UIGW_OUTCOME_REJECTED);
	}
	uigw_dialog_resume_forget(gw, msisdn);
}

struct uigw_store_job *uigw_subscriber_erase(struct uigw *gw, const char *msisdn, uigw_store_done_cb done,
					     void *data)
{
	struct uigw_store_job *job;
	struct uigw_store_row *r;
	char pseudo[33];

	if (!gw->store)
		return NULL;
	/* their dialogs' end rows are queued before the erase, which the writer commits in order */
	uigw_subscriber_end_dialogs(gw, msisdn);
	uigw_defer_drop_subscriber(gw, msisdn);
	uigw_pseudonym(gw->pseudonym_key, msisdn, pseudo);
	job = uigw_store_job_alloc(gw->store, done, data);
	if (!job)
		return NULL;
	r = uigw_store_job_row(job, UIGW_ROW_ERASE);
	/* the charging records may name the number (cdr-subscriber msisdn) */
	if (r)
		r->u.subscriber.msisdn = talloc_strdup(job, msisdn);
	if (!r || !(r->subscriber = talloc_strdup(job, pseudo)) || uigw_store_submit(job) < 0) {
		talloc_free(job);
		return NULL;
	}
	LOGP(DMAIN, LOGL_NOTICE, "subscriber %s: erasure requested by the operator\n", pseudo);
	return job;
}
