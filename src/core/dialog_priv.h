/*! \file dialog_priv.h
 *  Internal interface between the dialog engine (dialog.c) and its text side (dialog_text.c). */
#pragma once

#include <osmocom/uigw/core/dialog.h>
#include <osmocom/uigw/core/campaign.h>
#include <osmocom/uigw/store/store.h>

/*! \returns the value of a dialog variable or builtin, or NULL if unset */
const char *uigw_dlg_var_get(const struct uigw_dialog *dlg, const char *name);
/*! Set (or replace) a dialog variable; name must outlive the dialog's campaign reference. */
int uigw_dlg_var_set(struct uigw_dialog *dlg, const char *name, const char *value);

/*! Evaluate a template with dialog variables only (actions): query segments evaluate to "".
 *  \returns the text: a template without substitutions returns its own text (valid while its campaign is
 *  referenced), otherwise a talloc string under ctx. Never NULL except on OOM; the caller frees nothing. */
const char *uigw_dlg_eval(const struct uigw_dialog *dlg, void *ctx, const struct uigw_tmpl *t);

/*! Add to \a job the store queries that the current node's screen needs (text and option labels).
 *  \returns number of queries added, or negative errno */
int uigw_dlg_collect_queries(struct uigw_dialog *dlg, struct uigw_store_job *job);

/*! Render the current node's screen (page dlg->page) with the notice above it.
 *  \param[in] job  the completed job whose queries uigw_dlg_collect_queries() added, or NULL
 *  \param[in] final  render as last screen: no Back footer
 *  \returns 0 or negative errno */
int uigw_dlg_render_node(struct uigw_dialog *dlg, const struct uigw_store_job *job, void *ctx,
			 struct uigw_render_out *out);

/*! Render a plain text (refusals, goodbye) for the dialog's profile, first page only. */
int uigw_dlg_render_text(struct uigw_dialog *dlg, void *ctx, const char *text, struct uigw_render_out *out);

/*! Text of an i18n label in the dialog's language, with the engine's English default (same ownership as
 *  uigw_dlg_eval()). */
const char *uigw_dlg_label(const struct uigw_dialog *dlg, const struct uigw_i18n *t, const char *def, void *ctx);

/* Shared between dialog.c (FSM, sending, table) and dialog_step.c (one step through the graph). */

/*! Append a row to the dialog's pending job with the common fields filled. The job takes a reference on the
 *  dialog's campaign, so rows may point to the campaign's strings (node ids, questions, literal values). */
struct uigw_store_row *uigw_dlg_row(struct uigw_dialog *dlg, struct uigw_store_job *job, enum uigw_row_kind k);
/*! The dialog's language for a row of \a job (no copy when the campaign offers it). */
const char *uigw_dlg_lang(struct uigw_dialog *dlg, struct uigw_store_job *job);
/*! The dialog's pending job, allocated on first use. */
struct uigw_store_job *uigw_dlg_job(struct uigw_dialog *dlg);
/*! Replace / append the one-shot notice shown above the next screen. */
void uigw_dlg_set_notice(struct uigw_dialog *dlg, const char *text);
void uigw_dlg_add_notice(struct uigw_dialog *dlg, const char *text);
/*! Add the closing rows (dialog, subscriber mapping) to \a job, or to a job of their own if NULL. */
void uigw_dlg_write_end(struct uigw_dialog *dlg, enum uigw_outcome outcome, struct uigw_store_job *job);
/*! Count an outcome in the rate counters. */
void uigw_dlg_count_outcome(struct uigw_dialog *dlg, enum uigw_outcome o);
/*! Count on the dialog's channel and campaign counters. */
void uigw_dlg_count(struct uigw_dialog *dlg, enum uigw_dctr c);
/*! A last text, then the end (pending rows still commit). Frees the dialog. */
void uigw_dlg_end_with_text(struct uigw_dialog *dlg, const char *text, enum uigw_outcome outcome);
/* does this dialog's screen offer the "stop these messages" option (push-stop-option: pushed USSD and USSI)? */
bool uigw_dlg_push_stop_offered(const struct uigw_dialog *dlg);
/*! Enter node idx: on-entry actions of menus and info nodes; marks the dialog ending at a final node. */
void uigw_dlg_enter(struct uigw_dialog *dlg, int idx);
/*! Validate, record and move for one input. \returns true if the new screen is to be committed and shown,
 *  false if the dialog already ended. */
bool uigw_dlg_process_input(struct uigw_dialog *dlg, const char *raw);

/* Shared between dialog.c (the engine) and trigger.c (the network-initiated path). */

/*! A dialog not yet started or linked: no screen, no rows. Free it with osmo_fsm_inst_term(dlg->fi, ...). */
struct uigw_dialog *uigw_dlg_alloc(struct uigw *gw, enum uigw_channel ch, const char *msisdn,
				   const struct uigw_profile *profile, const char *lang, void *chan_priv);
/*! Start \a dlg on \a camp at node \a start (-1: the campaign's start), feed \a inputs as if typed, show the
 *  first screen. \returns the dialog if it still runs, NULL if it ended (freed) */
struct uigw_dialog *uigw_dlg_start(struct uigw_dialog *dlg, struct uigw_campaign *camp, int start,
				   const char * const *inputs, unsigned int n_inputs, bool try_resume);
/*! End without a screen: record, tell the channel (ops->end) if \a release, free. */
void uigw_dlg_finish(struct uigw_dialog *dlg, enum uigw_outcome outcome, bool release);
/*! May campaign \a c run on channel \a ch (\a network: started by the network)? \returns NONE or why not */
enum uigw_refusal uigw_dlg_camp_allows(const struct uigw_campaign *c, enum uigw_channel ch, bool network);

/* dialog_resume.c: a USSD dialog cut off by the network, kept for resume-window seconds */
/*! Keep what the dialog needs to continue (USSD, started by the subscriber, resume-window set). */
void uigw_dlg_resume_save(struct uigw_dialog *dlg);
/*! Take over the subscriber's record if it is of campaign \a camp. \returns true if the dialog was resumed */
bool uigw_dlg_resume_take(struct uigw_dialog *dlg, struct uigw_campaign *camp);
/*! A shared store: where the dialog stands now (\a over: nothing to resume any more) goes to the database, for
 *  another gateway to resume it when this one is gone. */
void uigw_dlg_state_note(struct uigw_dialog *dlg, bool over);
/*! A shared store: ask, with \a job (the first screen's commit), for the state of a USSD dialog of the same
 *  subscriber and campaign to resume (UIGW_Q_DLG_STATE). */
void uigw_dlg_state_ask(struct uigw_dialog *dlg, struct uigw_store_job *job);
/*! \a job came back: if it found such a state, the dialog is now at its node, with its history and variables,
 *  welcomed back. \returns true if it was resumed (its screen is to be made again) */
bool uigw_dlg_state_apply(struct uigw_dialog *dlg, const struct uigw_store_job *job);
/*! An SMS or IMS message that starts no campaign, on a shared store: the subscriber's dialog of that class another
 *  gateway held (within the input wait, X2 / X3), taken from the database into \a dlg (node, history, variables).
 *  \returns its campaign (in service here, same version; not referenced), or NULL */
struct uigw_campaign *uigw_dlg_state_take_any(struct uigw_dialog *dlg);
/*! Go on with a dialog whose state was taken into \a dlg (uigw_dlg_state_take_any()): \a text is its input. */
struct uigw_dialog *uigw_dlg_continue(struct uigw_dialog *dlg, struct uigw_campaign *camp, const char *text);

/* extapp.c: dialogs with an external application */
struct uigw_http_result;
/*! An input of such a dialog: "More" pages, the rest is recorded and goes to the application (\a first: what
 *  came with the first message, never paging). \returns true */
bool uigw_extapp_input(struct uigw_dialog *dlg, const char *in, bool first);
/*! Ask the application (dlg->ext_text so far); uigw_dlg_app_done() follows. \returns 0 or negative errno */
int uigw_extapp_send(struct uigw_dialog *dlg);
/*! Abandon the request in flight, if any (no callback). */
void uigw_extapp_cancel(struct uigw_dialog *dlg);
/*! The application's answer: \returns 0 (CON: show the "app" node), 1 (END: the "end" node), negative
 *  (no answer, not 2xx, neither CON nor END); the text is the dialog's variable app_text */
int uigw_extapp_answer(struct uigw_dialog *dlg, const struct uigw_http_result *res, const char **text);
/*! dialog.c: the answer of the application came. */
void uigw_dlg_app_done(struct uigw_dialog *dlg, const struct uigw_http_result *res);

/* dialog_outbox.c: calls into the channel, held back while the channel is inside a call into the core */

/*! Hand a screen to the channel: now, or after the channel's own call into the core returned. With \a end the
 *  dialog is freed after the delivery (now or then). \returns 0, or negative if a non-final screen could not
 *  be sent now (the dialog ended and is freed) */
int uigw_dlg_deliver(struct uigw_dialog *dlg, const struct uigw_render_out *out, bool end);
/*! ops->end() and free: now, or after the channel's call returned. */
void uigw_dlg_release(struct uigw_dialog *dlg, enum uigw_outcome outcome);
/*! Render the current screen (no store queries) and hand it over at once (the outbox's SHOW). \returns true
 *  if the dialog still runs */
bool uigw_dlg_show_now(struct uigw_dialog *dlg);
/*! Show the current screen on the loop's next run: nothing is rendered or kept until then. */
void uigw_dlg_show_later(struct uigw_dialog *dlg);
/*! Forget what is held back for \a dlg (it ends without it). */
void uigw_dlg_outbox_drop(struct uigw_dialog *dlg);
/*! \returns true if the dialog's last screen or end is held back: it takes no more input */
bool uigw_dlg_ending(const struct uigw_dialog *dlg);

/* dialog_table.c: the running dialogs' index */
/*! The tables at their smallest (uigw_dialog_init()). \returns 0 or -ENOMEM */
int uigw_dlg_tables_init(struct uigw *gw);
/*! Into gw->dialogs and the tables (grown when they hold two dialogs a chain). */
void uigw_dlg_link(struct uigw_dialog *dlg);
/*! Out of them (shrunk below one in eight); an ended dialog with a campaign is remembered for
 *  uigw_dialog_status(). Nothing if it was not linked. */
void uigw_dlg_unlink(struct uigw_dialog *dlg);
