/*! \file dialog_outbox.c
 *  The outbox: calls into a channel that the core holds back while that channel is inside a call into the core
 *  (uigw_dialog_begin / _input / _abort). A screen produced there is queued and handed to ops->deliver() on the
 *  next run of the event loop, after the channel's call returned; so is ops->end() for a dialog that a new one
 *  of the same subscriber replaces. A channel never sees the core call it back in the middle of its own call.
 *  Screens produced elsewhere (the store's completions, timers, the VTY, CTRL) go out at once. */

#include <errno.h>
#include <string.h>
#include <osmocom/core/fsm.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/timer.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/core/uigw.h>
#include "dialog_priv.h"

static const struct uigw_chan_ops *ops_of(const struct uigw_dialog *dlg)
{
	const struct uigw_chan *ch = dlg->gw->chan[dlg->channel];

	return ch ? ch->ops : NULL;
}

/* What a screen costs, for the dialog's charging record: a page, and on the messaging channels its messages. */
static void count_screen(struct uigw_dialog *dlg, const struct uigw_render_out *out)
{
	dlg->screens++;
	if (dlg->profile->kind == UIGW_PROF_SMS || dlg->profile->kind == UIGW_PROF_IMS)
		dlg->mt_messages += out->parts ? out->parts : 1;
}

/* Hand a non-final screen to the channel now. \returns 0, or negative if the dialog ended (it is freed) */
static int deliver_now(struct uigw_dialog *dlg, const struct uigw_render_out *out)
{
	int rc;

	dlg->in_deliver = true;
	count_screen(dlg, out);
	rc = ops_of(dlg)->deliver(dlg, out, false);
	dlg->in_deliver = false;
	if (dlg->abort_pending) {
		/* the channel learnt inside deliver() that the dialog is over (a send that failed at once) */
		uigw_dlg_finish(dlg, dlg->abort_outcome, false);
		return -ECANCELED;
	}
	if (rc < 0) {
		LOGPDLG(dlg, LOGL_ERROR, "channel could not send the screen (%d): ending\n", rc);
		uigw_dlg_finish(dlg, UIGW_OUTCOME_ABANDONED, false);
		return rc;
	}
	return 0;
}

static void outbox_timer_cb(void *data)
{
	uigw_dialog_outbox_run(data);
}

/* queue \a dlg (once) for the next run */
static void enqueue(struct uigw_dialog *dlg)
{
	struct uigw *gw = dlg->gw;

	if (!dlg->ob_queued) {
		llist_add_tail(&dlg->ob_entry, &gw->outbox);
		dlg->ob_queued = true;
	}
	if (!osmo_timer_pending(&gw->outbox_timer)) {
		osmo_timer_setup(&gw->outbox_timer, outbox_timer_cb, gw);
		osmo_timer_schedule(&gw->outbox_timer, 0, 0);
	}
}

int uigw_dlg_deliver(struct uigw_dialog *dlg, const struct uigw_render_out *out, bool end)
{
	const struct uigw_chan_ops *ops = ops_of(dlg);

	if (!dlg->gw->chan_depth) {
		if (!end)
			return deliver_now(dlg, out);
		count_screen(dlg, out);
		ops->deliver(dlg, out, true);
		osmo_fsm_inst_term(dlg->fi, OSMO_FSM_TERM_REGULAR, NULL);
		return 0;
	}
	if (!end) {
		/* the current screen, rendered again when the outbox runs */
		uigw_dlg_show_later(dlg);
		return 0;
	}
	/* the last screen: its text (a talloc chunk of the caller's) moves over, nothing is copied */
	talloc_free(dlg->ob_out.text);
	dlg->ob_out = *out;
	dlg->ob_out.text = out->text ? talloc_steal(dlg, out->text) : talloc_strdup(dlg, "");
	dlg->ob_kind = UIGW_OB_FINAL;
	osmo_timer_del(&dlg->fi->timer);	/* nothing more to wait for */
	enqueue(dlg);
	return 0;
}

void uigw_dlg_show_later(struct uigw_dialog *dlg)
{
	TALLOC_FREE(dlg->ob_out.text);
	dlg->ob_kind = UIGW_OB_SHOW;
	enqueue(dlg);
}

void uigw_dlg_release(struct uigw_dialog *dlg, enum uigw_outcome outcome)
{
	const struct uigw_chan_ops *ops = ops_of(dlg);

	if (!dlg->gw->chan_depth) {
		if (ops && ops->end)
			ops->end(dlg, outcome);
		osmo_fsm_inst_term(dlg->fi, OSMO_FSM_TERM_REGULAR, NULL);
		return;
	}
	TALLOC_FREE(dlg->ob_out.text);
	dlg->ob_kind = UIGW_OB_END;
	dlg->ob_outcome = outcome;
	osmo_timer_del(&dlg->fi->timer);
	enqueue(dlg);
}

void uigw_dlg_outbox_drop(struct uigw_dialog *dlg)
{
	if (!dlg->ob_queued)
		return;
	llist_del(&dlg->ob_entry);
	dlg->ob_queued = false;
	TALLOC_FREE(dlg->ob_out.text);
}

bool uigw_dlg_ending(const struct uigw_dialog *dlg)
{
	return dlg->ob_queued && (dlg->ob_kind == UIGW_OB_FINAL || dlg->ob_kind == UIGW_OB_END);
}

void uigw_dialog_outbox_run(struct uigw *gw)
{
	struct uigw_dialog *dlg;
	const struct uigw_chan_ops *ops;

	while (!llist_empty(&gw->outbox)) {
		dlg = llist_first_entry(&gw->outbox, struct uigw_dialog, ob_entry);
		llist_del(&dlg->ob_entry);
		dlg->ob_queued = false;
		ops = ops_of(dlg);
		switch (dlg->ob_kind) {
		case UIGW_OB_SHOW:
			uigw_dlg_show_now(dlg);
			break;
		case UIGW_OB_FINAL:
			count_screen(dlg, &dlg->ob_out);
			ops->deliver(dlg, &dlg->ob_out, true);
			osmo_fsm_inst_term(dlg->fi, OSMO_FSM_TERM_REGULAR, NULL);
			break;
		case UIGW_OB_END:
			if (ops && ops->end)
				ops->end(dlg, dlg->ob_outcome);
			osmo_fsm_inst_term(dlg->fi, OSMO_FSM_TERM_REGULAR, NULL);
			break;
		}
	}
}
