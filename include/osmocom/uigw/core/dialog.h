/*! \file dialog.h
 *  The dialog engine: one osmo_fsm instance per subscriber's run through a campaign on one channel.
 *  Channel-neutral: adapters feed events in and get screens out through their struct uigw_chan_ops. */
#pragma once

#include <stdint.h>
#include <stdbool.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/render/render.h>
#include <osmocom/uigw/store/store.h>
#include <osmocom/uigw/core/chan.h>

struct osmo_fsm_inst;
struct uigw_campaign;

/*! A subscriber starts an interaction. */
struct uigw_begin {
	enum uigw_channel channel;
	const char *msisdn;		/*!< E.164 international "+49..." (normalised by the adapter) */
	const char *text;		/*!< USSD: dial string "*7726*1#"; SMS/IMS: message text; UTF-8 */
	const char *short_code;		/*!< SMS: destination short code; SIP: Request-URI user part; else NULL */
	const char *language;		/*!< ISO 639-1 if the channel tells it, else NULL */
	bool roaming;
	const char *visited;		/*!< roaming: the visited network as the channel names it, or NULL */
	const struct uigw_profile *profile;	/*!< NULL: the channel's default */
	void *chan_priv;		/*!< the adapter's protocol state, kept in dlg->chan_priv */
	bool admitted;			/*!< the adapter asked uigw_admit() itself (to refuse in its own protocol):
					 *   not asked again (overload control admits a share: one draw per dialog) */
};

/*! One dialog variable: an answer or a parameter. */
struct uigw_var {
	const char *name;		/*!< points into the campaign (or a talloc copy) */
	char *value;			/*!< talloc child of the dialog */
};

/*! One dialog. Owned by the core; adapters keep a pointer until send(end) / release / abort. */
struct uigw_dialog {
	struct llist_head list;		/*!< in gw->dialogs */
	struct hlist_node hnode;	/*!< in gw->dialogs_by_sub */
	uint32_t sub_key;		/*!< its key there: chains walked without the others' numbers */
	struct hlist_node id_node;	/*!< in gw->dialogs_by_id */
	struct uigw *gw;
	struct osmo_fsm_inst *fi;
	uint64_t id;
	enum uigw_channel channel;
	const struct uigw_profile *profile;
	char msisdn[UIGW_MSISDN_MAXLEN];
	char pseudonym[33];
	char lang[8];
	bool roaming;
	char visited[64];		/*!< the visited network (P-Visited-Network-ID, ...), "" if unknown */
	bool network_initiated;
	enum uigw_refusal refusal;	/*!< why the dialog was refused (its last screen says so), else NONE */
	struct uigw_campaign *camp;	/*!< referenced version it runs on */
	int node;			/*!< current node index */
	unsigned int page;		/*!< current page of the current screen */
	unsigned int retries;		/*!< invalid inputs on the current node */
	uint8_t n_hist;
	int16_t hist[15];		/*!< nodes visited, for Back */
	unsigned int n_vars;
	struct uigw_var *vars;
	int64_t started_ms;
	unsigned int steps;
	char *notice;			/*!< one-shot text shown above the next screen (invalid input, resumed) */
	char *pending_input;		/*!< input that arrived while waiting for the store */
	struct uigw_store_job *job;	/*!< job in flight, or NULL */
	bool ending;			/*!< the screen being prepared is the last one */
	bool state_noted;		/*!< a shared store holds where it stands (dialog_resume.c) */
	bool resume_pending;		/*!< its first screen's commit asks a shared store for a state to resume */
	bool in_deliver;		/*!< inside the channel's deliver(): an abort from there waits for its return */
	/* the outbox (dialog_outbox.c): what waits until the channel's own call into the core returned */
	struct llist_head ob_entry;	/*!< in gw->outbox while ob_queued */
	bool ob_queued;
	enum uigw_ob_kind {
		UIGW_OB_SHOW,		/*!< render the current screen and send it */
		UIGW_OB_FINAL,		/*!< send ob_out as the last screen, then free */
		UIGW_OB_END,		/*!< ops->end(ob_outcome), then free */
	} ob_kind;
	struct uigw_render_out ob_out;	/*!< the last screen (FINAL); its text is a child of the dialog */
	enum uigw_outcome ob_outcome;	/*!< END: the outcome for ops->end() */
	bool abort_pending;		/*!< the channel aborted the dialog from inside deliver() */
	enum uigw_outcome abort_outcome;
	enum uigw_outcome outcome;
	void *chan_priv;
	unsigned int n_pages;		/*!< pages of the screen last shown */
	/* charging (the record written when the dialog is freed) */
	unsigned int screens;		/*!< screens (pages) handed to the channel */
	unsigned int mt_messages;	/*!< MT messages they took: SMS parts, SIP MESSAGEs (not USSD) */
	bool end_written;		/*!< its dialog row went to the store: a charging record follows */
	/* a dialog with an external application (core/extapp.h) */
	char *ext_text;			/*!< the inputs so far, joined by '*' */
	bool ext_call;			/*!< the input is the application's: ask it before the next screen */
	unsigned int ext_steps;		/*!< inputs sent to it so far */
	struct uigw_http_xfer *ext_xfer;	/*!< its request in flight */
};

/*! Start a dialog for a subscriber's first message. Always answers on the channel: the first screen, or
 *  (dlg->refusal set) a refusal, possibly from inside this call.
 *  The first screen (or the refusal) is held back until this call returned (dialog_outbox.c) and reaches the
 *  channel's deliver() on the next run of the event loop.
 *  \returns the dialog, which the channel keeps until deliver(end) / end() (NULL: out of memory, nothing will
 *  be delivered) */
struct uigw_dialog *uigw_dialog_begin(struct uigw *gw, const struct uigw_begin *b);
/*! Frequency caps (push_cap.c): may campaign \a c be pushed to \a subscriber (pseudonym) now?
 *  \returns 0, or -EDQUOT with the reason in \a why */
int uigw_push_cap_check(struct uigw *gw, const struct uigw_campaign *c, const char *subscriber, char *why,
			size_t why_len);
/*! Frequency caps exact across the gateways that share a PostgreSQL store: count the push now, in the database, if
 *  it still fits (its `sent` row is then written: do not log it again). Called right before the push goes out.
 *  \returns 1 (counted and logged), 0 (no cap, or a store of one gateway: log it as usual), -EDQUOT (a cap is
 *  reached, or cannot be checked; \a why says which) */
int uigw_push_cap_reserve(struct uigw *gw, const struct uigw_campaign *c, const char *subscriber,
			   enum uigw_channel ch, char *why, size_t why_len);
/*! Log a push attempt in the store (\a result "sent", "opted-out", "capped"); "sent" ones count towards the caps
 *  at once. */
void uigw_push_log(struct uigw *gw, const char *subscriber, const char *campaign, enum uigw_channel ch,
		   const char *result);
/*! Feed the subscriber's input (UTF-8). Answers through ops->deliver, now or after the store commits.
 *  \returns 0, or -EBUSY if the dialog is still answering the previous input and one is already queued */
int uigw_dialog_input(struct uigw_dialog *dlg, const char *text);
/*! The network or the user ended the dialog. No callback is made; the dialog is freed before return, except
 *  when called from inside the channel's own deliver() for this dialog: then it ends when deliver() returns.
 *  \param[in] outcome  ABANDONED (user/network release, USSD can be resumed) or others */
void uigw_dialog_abort(struct uigw_dialog *dlg, enum uigw_outcome outcome);
/*! The core ends a dialog (operator, shutdown): calls ops->end, frees it. */
void uigw_dialog_terminate(struct uigw_dialog *dlg, enum uigw_outcome outcome);
/*! Forget the subscriber's cut-off USSD dialog, if one waits to be resumed (their data is being erased). */
void uigw_dialog_resume_forget(struct uigw *gw, const char *msisdn);
/*! The running dialog of that subscriber on that channel, or NULL. */
struct uigw_dialog *uigw_dialog_find(struct uigw *gw, const char *msisdn, enum uigw_channel ch);

/*! Where a dialog is, as the HTTP API reports it. */
enum uigw_dialog_state {
	UIGW_DLG_PENDING,	/*!< running, the subscriber has not answered yet */
	UIGW_DLG_RUNNING,	/*!< running, answered at least once */
	UIGW_DLG_ANSWERED,	/*!< ended: completed */
	UIGW_DLG_REFUSED,	/*!< ended: refused (its last screen said why) */
	UIGW_DLG_ENDED,		/*!< ended otherwise: abandoned, timed out */
};
extern const struct value_string uigw_dialog_state_names[];	/*!< "pending","running","answered",... */

struct uigw_dialog_status {
	uint64_t id;
	enum uigw_dialog_state state;
	char campaign[33];
	int channel;			/*!< enum uigw_channel, -1 if unknown */
	enum uigw_outcome outcome;	/*!< ended states only */
	enum uigw_refusal refusal;	/*!< REFUSED: why */
	bool network_initiated;		/*!< known for dialogs of this run only (false from the store) */
	unsigned int steps;
	int64_t started_ms, ended_ms;	/*!< ended_ms 0 while running */
};
/*! Find a dialog by id: running, recently ended, or in the store.
 *  \returns 1 (found, \a out filled), 0 (unknown), negative errno */
int uigw_dialog_status(struct uigw *gw, uint64_t id, struct uigw_dialog_status *out);

/*! Hand the held-back screens and ends to their channels (the outbox's timer does it on the next run of the
 *  loop; tests and the test drive call it to see the screens at once). */
void uigw_dialog_outbox_run(struct uigw *gw);

/*! Register the dialog FSM and timers; once at start-up. */
int uigw_dialog_init(struct uigw *gw);
/*! Drop expired resume records (also done lazily). */
void uigw_dialog_resume_expire(struct uigw *gw);
/*! Drop every resume record (shutdown). */
void uigw_dialog_resume_flush(struct uigw *gw);

/*! Timers (osmo_tdef, shown by "show timer"). */
enum uigw_timer {
	UIGW_T_USSD = -1,	/*!< X1: USSD-class input wait */
	UIGW_T_SMS = -2,	/*!< X2: SMS input wait */
	UIGW_T_IMS = -3,	/*!< X3: IMS message input wait */
	UIGW_T_IMS_SEEN = -4,	/*!< X4: a subscriber seen on IMS within this time is reached there by a trigger */
};

/*! Per-dialog logging: subscriber pseudonym, channel, campaign, dialog id. */
#define LOGPDLG(dlg, level, fmt, args...) \
	LOGP(DDLG, level, "dlg-%llu(%s,%s,%s) " fmt, (unsigned long long)(dlg)->id, \
	     uigw_channel_name((dlg)->channel), (dlg)->camp ? (dlg)->camp->name : "-", (dlg)->pseudonym, ## args)
