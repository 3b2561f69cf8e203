/*! \file gsup_chan.c
 *  Channel `gsup`: osmo-uigw as an OsmoHLR external USSD entity. The HLR forwards the MSC's PROC_SS_REQUEST
 *  messages whose USSD code routes to our EUSE name; each (IMSI, session id) is one session bound to one dialog.
 *
 *  Mapping (doc/gsup.md):
 *  - BEGIN + Invoke processUnstructuredSS-Request (59)  -> uigw_dialog_begin() with the dial string
 *  - a menu screen                                      -> CONTINUE + Invoke unstructuredSS-Request (60)
 *  - CONTINUE + ReturnResult(60) with the user's text   -> uigw_dialog_input()
 *  - the last screen (or a refusal text)                -> END + ReturnResultLast(59) with USSD-Res
 *  - END (with or without component), PROC_SS_ERROR    -> uigw_dialog_abort(ABANDONED)
 *  - the engine ends a dialog (timeout, shutdown)       -> END + ReturnError systemFailure for the MS's 59
 *  - another operation                                  -> END + Reject (unrecognizedOperation)
 *  - a malformed component                              -> END + Reject (badlyStructuredComponent)
 *  - a ussd-String in an unknown coding                 -> END + ReturnError unknownAlphabet
 *  - the HLR link goes down                             -> every session's dialog ends as abandoned */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/fsm.h>
#include <osmocom/core/msgb.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/stats.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/core/utils.h>
#include <osmocom/gsm/gsup.h>
#include <osmocom/gsm/gsm48_ie.h>
#include <osmocom/gsm/ipa.h>
#include <osmocom/gsupclient/gsup_client.h>
#include <osmocom/vty/vty.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/dialog.h>
#include <osmocom/uigw/core/campaign.h>
#include <osmocom/uigw/render/render.h>
#include <osmocom/uigw/common/number.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/codec/ss_codec.h>
#include <osmocom/uigw/chan/gsup.h>

enum gsup_ctr {
	GSUP_CTR_LINK_UP,
	GSUP_CTR_LINK_DOWN,
	GSUP_CTR_RX_BEGIN,
	GSUP_CTR_RX_CONTINUE,
	GSUP_CTR_RX_END,
	GSUP_CTR_RX_ERROR,
	GSUP_CTR_RX_MALFORMED,
	GSUP_CTR_RX_UNKNOWN_SESSION,
	GSUP_CTR_RX_IGNORED,
	GSUP_CTR_TX_CONTINUE,
	GSUP_CTR_TX_END,
	GSUP_CTR_TX_REJECT,
	GSUP_CTR_TX_RETURN_ERROR,
	GSUP_CTR_TX_FAILED,
	GSUP_CTR_TIMEOUT,
};

static const struct rate_ctr_desc gsup_ctr_desc[] = {
	[GSUP_CTR_LINK_UP] = { "link:up", "HLR link came up" },
	[GSUP_CTR_LINK_DOWN] = { "link:down", "HLR link went down" },
	[GSUP_CTR_RX_BEGIN] = { "rx:begin", "sessions begun by the network (BEGIN)" },
	[GSUP_CTR_RX_CONTINUE] = { "rx:continue", "CONTINUE received" },
	[GSUP_CTR_RX_END] = { "rx:end", "END received (release by the user or the network)" },
	[GSUP_CTR_RX_ERROR] = { "rx:error", "PROC_SS_ERROR received" },
	[GSUP_CTR_RX_MALFORMED] = { "rx:malformed", "undecodable GSUP messages or components" },
	[GSUP_CTR_RX_UNKNOWN_SESSION] = { "rx:unknown-session", "messages for no known session" },
	[GSUP_CTR_RX_IGNORED] = { "rx:ignored", "GSUP messages of other types" },
	[GSUP_CTR_TX_CONTINUE] = { "tx:continue", "menus sent (CONTINUE + unstructuredSS-Request)" },
	[GSUP_CTR_TX_END] = { "tx:end", "sessions ended by us (END)" },
	[GSUP_CTR_TX_REJECT] = { "tx:reject", "Reject components sent" },
	[GSUP_CTR_TX_RETURN_ERROR] = { "tx:return-error", "ReturnError components sent" },
	[GSUP_CTR_TX_FAILED] = { "tx:failed", "messages that could not be sent (link down)" },
	[GSUP_CTR_TIMEOUT] = { "session:timeout", "sessions ended by the gateway (timeout, shutdown)" },
};

static const struct rate_ctr_group_desc gsup_ctrg_desc = {
	.group_name_prefix = "uigw:gsup",
	.group_description = "osmo-uigw GSUP (OsmoHLR EUSE) channel",
	.class_id = OSMO_STATS_CLASS_GLOBAL,
	.num_ctr = ARRAY_SIZE(gsup_ctr_desc),
	.ctr_desc = gsup_ctr_desc,
};

/*! The life of one session (osmo_fsm "GSUP_SS", `show fsm-instances GSUP_SS`). */
enum gsup_sess_state {
	SESS_ST_WAIT_SCREEN,	/*!< the MS spoke (BEGIN or an answer): the gateway's next screen is due */
	SESS_ST_WAIT_ANSWER,	/*!< our unstructuredSS-Request went out: the MS's answer is due */
	SESS_ST_DONE,		/*!< END sent or received: gone once no call into the core is on the stack */
};

enum gsup_sess_event {
	SESS_EV_SCREEN_SENT,	/*!< a CONTINUE with our question went out */
	SESS_EV_ANSWER,		/*!< the MS's ReturnResult with its text */
	SESS_EV_END,		/*!< the session ends (either side) */
};

/*! One USSD session of the HLR, bound to one dialog. A talloc child of its FSM instance. */
struct gsup_sess {
	struct llist_head list;
	struct osmo_fsm_inst *fi;
	struct uigw_gsup *g;
	char imsi[OSMO_IMSI_BUF_SIZE];
	uint32_t session_id;
	int8_t ms_invoke_id;		/*!< invoke id of the MS's processUnstructuredSS-Request */
	int8_t our_invoke_id;		/*!< invoke id of our last unstructuredSS-Request */
	struct uigw_dialog *dlg;	/*!< running dialog, or NULL */
	bool in_core;			/*!< inside a call into the dialog engine: free later */
};

#define SESS_DONE(s) ((s)->fi->state == SESS_ST_DONE)

struct uigw_gsup {
	struct uigw *gw;
	struct uigw_chan *chan;		/*!< channel gsup, registered with the gateway */
	struct uigw_gsup_cfg cfg;
	struct osmo_gsup_client *client;
	struct ipaccess_unit *ipa_dev;
	bool started;			/*!< uigw_gsup_start() ran */
	bool link_up;
	struct llist_head sessions;
	unsigned int n_sessions;
	struct rate_ctr_group *ctrs;
};


/*! Screens osmo-hlr 1.5.0 relays: it parses our components with libosmocore's gsm0480_parse_facility_ie(),
 *  which reads short-form BER lengths only, so a component must stay under 128 octets: a ReturnResultLast
 *  with up to 112 ussd-String octets = 128 septets or 56 UCS-2 characters (an Invoke of 60 allows 114). */
static const struct uigw_profile gsup_profile_hlr = {
	.name = "ussd", .kind = UIGW_PROF_USSD, .gsm7_budget = 128, .ucs2_budget = 56,
	.gsm7_part = 128, .ucs2_part = 56, .max_parts = 1,
};

#define LOGPSES(s, level, fmt, args...) \
	LOGP(DGSUP, level, "%s/0x%08x: " fmt, (s)->imsi, (s)->session_id, ## args)

static void ctr_inc(struct uigw_gsup *g, enum gsup_ctr c)
{
	rate_ctr_inc2(g->ctrs, c);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* sessions */

static struct gsup_sess *sess_find(struct uigw_gsup *g, const char *imsi, uint32_t id)
{
	struct gsup_sess *s;

	llist_for_each_entry(s, &g->sessions, list) {
		if (s->session_id == id && !strcmp(s->imsi, imsi))
			return s;
	}
	return NULL;
}

#define S(x) (1 << (x))

static const struct value_string sess_event_names[] = {
	{ SESS_EV_SCREEN_SENT, "SCREEN_SENT" },
	{ SESS_EV_ANSWER, "ANSWER" },
	{ SESS_EV_END, "END" },
	{ 0, NULL }
};

/* Every transition is made by the handlers below with the event that causes it; the states only allow them. */
static void sess_fsm_action(struct osmo_fsm_inst *fi, uint32_t event, void *data)
{
	switch (event) {
	case SESS_EV_SCREEN_SENT:
		osmo_fsm_inst_state_chg(fi, SESS_ST_WAIT_ANSWER, 0, 0);
		break;
	case SESS_EV_ANSWER:
		osmo_fsm_inst_state_chg(fi, SESS_ST_WAIT_SCREEN, 0, 0);
		break;
	case SESS_EV_END:
		osmo_fsm_inst_state_chg(fi, SESS_ST_DONE, 0, 0);
		break;
	}
}

static void sess_fsm_cleanup(struct osmo_fsm_inst *fi, enum osmo_fsm_term_cause cause)
{
	struct gsup_sess *s = fi->priv;

	llist_del(&s->list);
	s->g->n_sessions--;
}

static const struct osmo_fsm_state sess_fsm_states[] = {
	[SESS_ST_WAIT_SCREEN] = {
		.name = "WAIT_SCREEN",
		/* an answer may come before the screen (the engine keeps one) */
		.in_event_mask = S(SESS_EV_SCREEN_SENT) | S(SESS_EV_ANSWER) | S(SESS_EV_END),
		.out_state_mask = S(SESS_ST_WAIT_SCREEN) | S(SESS_ST_WAIT_ANSWER) | S(SESS_ST_DONE),
		.action = sess_fsm_action,
	},
	[SESS_ST_WAIT_ANSWER] = {
		.name = "WAIT_ANSWER",
		.in_event_mask = S(SESS_EV_SCREEN_SENT) | S(SESS_EV_ANSWER) | S(SESS_EV_END),
		.out_state_mask = S(SESS_ST_WAIT_SCREEN) | S(SESS_ST_WAIT_ANSWER) | S(SESS_ST_DONE),
		.action = sess_fsm_action,
	},
	[SESS_ST_DONE] = {
		.name = "DONE",
		.in_event_mask = S(SESS_EV_END),
		.action = sess_fsm_action,
	},
};

static struct osmo_fsm gsup_sess_fsm = {
	.name = "GSUP_SS",
	.states = sess_fsm_states,
	.num_states = ARRAY_SIZE(sess_fsm_states),
	.event_names = sess_event_names,
	.cleanup = sess_fsm_cleanup,
	.log_subsys = DGSUP,
};

static struct gsup_sess *sess_alloc(struct uigw_gsup *g, const char *imsi, uint32_t id)
{
	struct osmo_fsm_inst *fi;
	struct gsup_sess *s;
	char name[48];

	fi = osmo_fsm_inst_alloc(&gsup_sess_fsm, g, NULL, LOGL_DEBUG, NULL);
	if (!fi)
		return NULL;
	s = talloc_zero(fi, struct gsup_sess);
	if (!s) {
		osmo_fsm_inst_free(fi);
		return NULL;
	}
	fi->priv = s;
	s->fi = fi;
	s->g = g;
	OSMO_STRLCPY_ARRAY(s->imsi, imsi);
	s->session_id = id;
	snprintf(name, sizeof(name), "%s-%08x", imsi, id);
	osmo_fsm_inst_update_id(fi, name);
	llist_add_tail(&s->list, &g->sessions);
	g->n_sessions++;
	return s;
}

/* Gone: the FSM instance and the session with it. */
static void sess_free(struct gsup_sess *s)
{
	osmo_fsm_inst_term(s->fi, OSMO_FSM_TERM_REGULAR, NULL);
}

/* Ended (state DONE); freed unless a call into the engine is still on the stack for it. */
static void sess_done(struct gsup_sess *s)
{
	s->dlg = NULL;
	osmo_fsm_inst_dispatch(s->fi, SESS_EV_END, NULL);
	if (!s->in_core)
		sess_free(s);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* sending */

/* Send one PROC_SS_RESULT with an optional component. \returns 0 or negative errno */
static int tx_ss(struct uigw_gsup *g, const char *imsi, uint32_t id, enum osmo_gsup_session_state state,
		 const struct uigw_ss_comp *comp)
{
	struct osmo_gsup_message gm = {
		.message_type = OSMO_GSUP_MSGT_PROC_SS_RESULT,
		.session_state = state,
		.session_id = id,
		.message_class = OSMO_GSUP_MESSAGE_CLASS_USSD,
	};
	uint8_t buf[256];
	int rc;

	OSMO_STRLCPY_ARRAY(gm.imsi, imsi);
	if (comp) {
		rc = uigw_ss_comp_encode(buf, sizeof(buf), comp);
		if (rc < 0) {
			LOGP(DGSUP, LOGL_ERROR, "%s/0x%08x: cannot encode %s: %d\n", imsi, id,
			     uigw_ss_comp_type_name(comp->type), rc);
			return rc;
		}
		gm.ss_info = buf;
		gm.ss_info_len = rc;
	}
	if (!g->client || !g->link_up) {
		ctr_inc(g, GSUP_CTR_TX_FAILED);
		LOGP(DGSUP, LOGL_NOTICE, "%s/0x%08x: HLR link down, cannot send\n", imsi, id);
		return -ENOTCONN;
	}
	rc = osmo_gsup_client_enc_send(g->client, &gm);
	if (rc < 0) {
		ctr_inc(g, GSUP_CTR_TX_FAILED);
		LOGP(DGSUP, LOGL_ERROR, "%s/0x%08x: send failed: %d\n", imsi, id, rc);
		return rc;
	}
	ctr_inc(g, state == OSMO_GSUP_SESSION_STATE_END ? GSUP_CTR_TX_END : GSUP_CTR_TX_CONTINUE);
	return 0;
}

static int tx_end_error(struct uigw_gsup *g, const char *imsi, uint32_t id, int8_t invoke_id, int err)
{
	struct uigw_ss_comp c = { .type = UIGW_SS_RETURN_ERROR, .has_invoke_id = true, .invoke_id = invoke_id,
				  .error_code = err };

	LOGP(DGSUP, LOGL_INFO, "%s/0x%08x: END with ReturnError %d\n", imsi, id, err);
	ctr_inc(g, GSUP_CTR_TX_RETURN_ERROR);
	return tx_ss(g, imsi, id, OSMO_GSUP_SESSION_STATE_END, &c);
}

static int tx_end_reject(struct uigw_gsup *g, const char *imsi, uint32_t id, bool has_invoke_id, int8_t invoke_id,
			 uint8_t tag, uint8_t code)
{
	struct uigw_ss_comp c = { .type = UIGW_SS_REJECT, .has_invoke_id = has_invoke_id, .invoke_id = invoke_id,
				  .problem_tag = tag, .problem_code = code };

	LOGP(DGSUP, LOGL_INFO, "%s/0x%08x: END with Reject 0x%02x/%u\n", imsi, id, tag, code);
	ctr_inc(g, GSUP_CTR_TX_REJECT);
	return tx_ss(g, imsi, id, OSMO_GSUP_SESSION_STATE_END, &c);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* channel operations (called by the dialog engine) */

static int gsup_send(struct uigw_dialog *dlg, const struct uigw_render_out *screen, bool end)
{
	struct gsup_sess *s = dlg->chan_priv;
	struct uigw_gsup *g = uigw_chan_priv(dlg->gw, UIGW_CHAN_GSUP);
	struct uigw_ss_comp c = { .has_invoke_id = true, .has_opcode = true, .has_ussd = true };
	int rc;

	/* every dialog of this channel has a session: the channel registers no push() (doc/gsup.md) */
	if (!s)
		return -ENODEV;
	rc = uigw_ussd_text_encode(&c.ussd, screen->text);
	if (rc < 0) {
		LOGPSES(s, LOGL_ERROR, "screen does not fit a ussd-String (%d)\n", rc);
		tx_end_error(g, s->imsi, s->session_id, s->ms_invoke_id, UIGW_SS_ERR_SYSTEM_FAILURE);
		sess_done(s);
		return rc;
	}
	if (end) {
		/* the final text answers the MS's processUnstructuredSS-Request */
		c.type = UIGW_SS_RETURN_RESULT;
		c.invoke_id = s->ms_invoke_id;
		c.opcode = UIGW_SS_OP_PROCESS_USS_REQ;
		rc = tx_ss(g, s->imsi, s->session_id, OSMO_GSUP_SESSION_STATE_END, &c);
		LOGPSES(s, LOGL_DEBUG, "END with the last screen (%s, %u units)%s\n",
			uigw_coding_names[screen->coding], screen->units, rc < 0 ? ": not sent" : "");
		sess_done(s);
		return rc;
	}
	c.type = UIGW_SS_INVOKE;
	c.invoke_id = ++s->our_invoke_id;
	c.opcode = UIGW_SS_OP_USS_REQ;
	s->dlg = dlg;
	rc = tx_ss(g, s->imsi, s->session_id, OSMO_GSUP_SESSION_STATE_CONTINUE, &c);
	if (rc < 0) {
		/* the engine ends the dialog as abandoned; the session goes with it */
		sess_done(s);
		return rc;
	}
	osmo_fsm_inst_dispatch(s->fi, SESS_EV_SCREEN_SENT, NULL);
	LOGPSES(s, LOGL_DEBUG, "CONTINUE with a menu (%s, %u units)\n", uigw_coding_names[screen->coding],
		screen->units);
	return 0;
}

static void gsup_release(struct uigw_dialog *dlg, enum uigw_outcome outcome)
{
	struct gsup_sess *s = dlg->chan_priv;
	struct uigw_gsup *g = uigw_chan_priv(dlg->gw, UIGW_CHAN_GSUP);

	if (!s || SESS_DONE(s))
		return;
	/* osmo-hlr forwards an END to the MSC only when it carries a component: a ReturnError for the MS's
	 * operation closes the session on the handset too */
	LOGPSES(s, LOGL_INFO, "dialog ended by the gateway (%s)\n", get_value_string(uigw_outcome_names, outcome));
	ctr_inc(g, GSUP_CTR_TIMEOUT);
	tx_end_error(g, s->imsi, s->session_id, s->ms_invoke_id, UIGW_SS_ERR_SYSTEM_FAILURE);
	sess_done(s);
}

static int gsup_open(struct uigw_chan *ch);
static void gsup_close(struct uigw_chan *ch);
static enum uigw_reach gsup_reach(struct uigw_chan *ch, const char *msisdn);
static void gsup_show(struct uigw_chan *ch, struct vty *vty);

/* No push: osmo-hlr 1.5.0 crashes when the MSC answers a session an EUSE started (doc/gsup.md); a trigger via
 * gsup is refused by the core as push_not_offered with this reason. */
static const struct uigw_chan_ops gsup_ops = {
	.channel = UIGW_CHAN_GSUP,
	.profile = &uigw_profile_ussd,
	.no_push_why = "osmo-hlr 1.5.0 crashes when the MSC answers a session an EUSE started; use map, smpp-ussd "
		       "or ussi for network-initiated USSD (doc/gsup.md)",
	.open = gsup_open,
	.close = gsup_close,
	.reach = gsup_reach,
	.deliver = gsup_send,
	.end = gsup_release,
	.show = gsup_show,
};

/* ---------------------------------------------------------------------------------------------------------- */
/* receiving */

/* The subscriber's E.164 number: the USSD-Arg msisdn, else the GSUP MSISDN IE, else the fallback. */
static int sess_msisdn(struct uigw_gsup *g, const struct osmo_gsup_message *gm, const struct uigw_ss_comp *c,
		       char *out, size_t out_len)
{
	struct uigw_config *cfg = &g->gw->cfg;
	char digits[32], tmp[40];

	if (c->ussd.has_msisdn &&
	    uigw_e164_normalize(c->ussd.msisdn, cfg->country_code, cfg->national_prefix, out, out_len) == 0)
		return 0;
	if (gm->msisdn_enc && gm->msisdn_enc_len &&
	    gsm48_decode_bcd_number2(digits, sizeof(digits), gm->msisdn_enc, gm->msisdn_enc_len, 0) == 0 &&
	    digits[0]) {
		/* OsmoHLR keeps MSISDNs as digits without '+': international if they start with the country
		 * code, else national */
		if (digits[0] != '+' && cfg->country_code && !strncmp(digits, cfg->country_code,
									 strlen(cfg->country_code))) {
			snprintf(tmp, sizeof(tmp), "+%s", digits);
			if (uigw_e164_normalize(tmp, cfg->country_code, cfg->national_prefix, out, out_len) == 0)
				return 0;
		}
		if (uigw_e164_normalize(digits, cfg->country_code, cfg->national_prefix, out, out_len) == 0)
			return 0;
	}
	if (g->cfg.msisdn_fallback == UIGW_GSUP_MSISDN_IMSI) {
		snprintf(tmp, sizeof(tmp), "+%s", gm->imsi);
		if (uigw_e164_normalize(tmp, cfg->country_code, cfg->national_prefix, out, out_len) == 0)
			return 0;
	}
	return -ENOENT;
}

/* Roaming, where the message names the serving VLR / MSC (a Source Name IE, as a GSUP proxy adds it; osmo-hlr
 * relays the VLR's message as it came): not one of home-vlr's prefixes. \returns the name then (in buf) */
static const char *roaming_source(const struct uigw_gsup *g, const struct osmo_gsup_message *gm, char *buf,
				  size_t len)
{
	const char *w;
	size_t n;

	if (!g->cfg.home_vlrs || !gm->source_name || !gm->source_name_len)
		return NULL;
	n = gm->source_name_len < len ? gm->source_name_len : len - 1;
	memcpy(buf, gm->source_name, n);
	buf[n] = '\0';
	/* printable only: it becomes a column of the store and of the CSV files */
	for (w = buf; *w; w++) {
		if (*w < 0x20 || *w > 0x7e)
			return NULL;
	}
	return buf[0] && !uigw_prefix_list_match(g->cfg.home_vlrs, buf) ? buf : NULL;
}

static void rx_begin(struct uigw_gsup *g, const struct osmo_gsup_message *gm)
{
	char source[64];
	struct uigw_ss_comp c;
	struct gsup_sess *s;
	char text[UIGW_USSD_UTF8_MAX], lang[3], msisdn[UIGW_MSISDN_MAXLEN];
	struct uigw_begin b = { .channel = UIGW_CHAN_GSUP };
	struct uigw_dialog *dlg;
	int rc;

	ctr_inc(g, GSUP_CTR_RX_BEGIN);
	if (sess_find(g, gm->imsi, gm->session_id)) {
		LOGP(DGSUP, LOGL_ERROR, "%s/0x%08x: BEGIN for a session that exists: ignored\n", gm->imsi,
		     gm->session_id);
		ctr_inc(g, GSUP_CTR_RX_MALFORMED);
		return;
	}
	rc = uigw_ss_comp_decode(gm->ss_info, gm->ss_info_len, &c);
	if (rc < 0 || c.type != UIGW_SS_INVOKE) {
		LOGP(DGSUP, LOGL_NOTICE, "%s/0x%08x: BEGIN without a valid Invoke (%d): %s\n", gm->imsi,
		     gm->session_id, rc, osmo_hexdump_nospc(gm->ss_info, gm->ss_info_len));
		ctr_inc(g, GSUP_CTR_RX_MALFORMED);
		tx_end_reject(g, gm->imsi, gm->session_id, c.has_invoke_id, c.invoke_id, UIGW_SS_PROB_GENERAL,
			      rc == 0 ? UIGW_SS_PROB_GEN_UNRECOGNIZED_COMP : UIGW_SS_PROB_GEN_BADLY_STRUCTURED);
		return;
	}
	if (c.opcode != UIGW_SS_OP_PROCESS_USS_REQ) {
		LOGP(DGSUP, LOGL_NOTICE, "%s/0x%08x: BEGIN with operation %d: not supported\n", gm->imsi,
		     gm->session_id, c.opcode);
		tx_end_reject(g, gm->imsi, gm->session_id, true, c.invoke_id, UIGW_SS_PROB_INVOKE,
			      UIGW_SS_PROB_INV_UNRECOGNIZED_OP);
		return;
	}
	rc = uigw_ussd_text_decode(&c.ussd, text, sizeof(text), lang);
	if (rc < 0) {
		LOGP(DGSUP, LOGL_NOTICE, "%s/0x%08x: ussd-String with DCS 0x%02x not decodable\n", gm->imsi,
		     gm->session_id, c.ussd.dcs);
		tx_end_error(g, gm->imsi, gm->session_id, c.invoke_id, UIGW_SS_ERR_UNKNOWN_ALPHABET);
		return;
	}
	if (sess_msisdn(g, gm, &c, msisdn, sizeof(msisdn)) < 0) {
		LOGP(DGSUP, LOGL_NOTICE, "%s/0x%08x: no MSISDN and no fallback: refused\n", gm->imsi, gm->session_id);
		tx_end_error(g, gm->imsi, gm->session_id, c.invoke_id, UIGW_SS_ERR_DATA_MISSING);
		return;
	}
	s = sess_alloc(g, gm->imsi, gm->session_id);
	if (!s) {
		tx_end_error(g, gm->imsi, gm->session_id, c.invoke_id, UIGW_SS_ERR_SYSTEM_FAILURE);
		return;
	}
	s->ms_invoke_id = c.invoke_id;
	s->our_invoke_id = c.invoke_id;
	LOGPSES(s, LOGL_INFO, "BEGIN '%s'\n", text);

	b.msisdn = msisdn;
	b.text = text;
	b.language = lang[0] ? lang : NULL;
	b.chan_priv = s;
	b.profile = g->cfg.full_screens ? &uigw_profile_ussd : &gsup_profile_hlr;
	b.visited = roaming_source(g, gm, source, sizeof(source));
	b.roaming = b.visited != NULL;
	if (b.roaming)
		LOGPSES(s, LOGL_INFO, "roaming: served by %s\n", b.visited);
	s->in_core = true;
	dlg = uigw_dialog_begin(g->gw, &b);
	s->in_core = false;
	if (SESS_DONE(s)) {
		sess_free(s);
		return;
	}
	if (!dlg) {
		/* no screen was sent (out of memory): tell the MS */
		tx_end_error(g, s->imsi, s->session_id, s->ms_invoke_id, UIGW_SS_ERR_SYSTEM_FAILURE);
		sess_free(s);
		return;
	}
	s->dlg = dlg;
}

/* END / ERROR / a component that ends the session: the dialog is abandoned */
static void sess_abandon(struct gsup_sess *s, const char *why)
{
	LOGPSES(s, LOGL_INFO, "released: %s\n", why);
	if (s->dlg)
		uigw_dialog_abort(s->dlg, UIGW_OUTCOME_ABANDONED);
	sess_done(s);
}

static void rx_continue(struct uigw_gsup *g, struct gsup_sess *s, const struct osmo_gsup_message *gm)
{
	struct uigw_ss_comp c;
	char text[UIGW_USSD_UTF8_MAX];
	int rc;

	ctr_inc(g, GSUP_CTR_RX_CONTINUE);
	rc = uigw_ss_comp_decode(gm->ss_info, gm->ss_info_len, &c);
	if (rc < 0) {
		ctr_inc(g, GSUP_CTR_RX_MALFORMED);
		LOGPSES(s, LOGL_NOTICE, "malformed component (%d): %s\n", rc,
			osmo_hexdump_nospc(gm->ss_info, gm->ss_info_len));
		tx_end_reject(g, s->imsi, s->session_id, c.has_invoke_id, c.invoke_id, UIGW_SS_PROB_GENERAL,
			      UIGW_SS_PROB_GEN_BADLY_STRUCTURED);
		sess_abandon(s, "malformed component");
		return;
	}
	switch (c.type) {
	case UIGW_SS_RETURN_RESULT:
	case UIGW_SS_RETURN_RESULT_NL:
		if (!c.has_ussd) {
			tx_end_reject(g, s->imsi, s->session_id, true, c.invoke_id, UIGW_SS_PROB_RETURN_RESULT,
				      2 /* mistypedParameter */);
			sess_abandon(s, "result without USSD-Res");
			return;
		}
		if (c.invoke_id != s->our_invoke_id)
			LOGPSES(s, LOGL_NOTICE, "result for invoke %d, expected %d\n", c.invoke_id, s->our_invoke_id);
		rc = uigw_ussd_text_decode(&c.ussd, text, sizeof(text), NULL);
		if (rc < 0) {
			tx_end_error(g, s->imsi, s->session_id, s->ms_invoke_id, UIGW_SS_ERR_UNKNOWN_ALPHABET);
			sess_abandon(s, "answer in an unknown coding");
			return;
		}
		if (!s->dlg) {
			tx_end_error(g, s->imsi, s->session_id, s->ms_invoke_id, UIGW_SS_ERR_SYSTEM_FAILURE);
			sess_done(s);
			return;
		}
		LOGPSES(s, LOGL_DEBUG, "input '%s'\n", text);
		osmo_fsm_inst_dispatch(s->fi, SESS_EV_ANSWER, NULL);
		s->in_core = true;
		rc = uigw_dialog_input(s->dlg, text);
		s->in_core = false;
		if (rc < 0)
			LOGPSES(s, LOGL_NOTICE, "input while the previous one is still answered: dropped\n");
		if (SESS_DONE(s))
			sess_free(s);
		return;
	case UIGW_SS_RETURN_ERROR:
	case UIGW_SS_REJECT:
		/* the MS refused our request: close the session on the HLR too */
		tx_ss(g, s->imsi, s->session_id, OSMO_GSUP_SESSION_STATE_END, NULL);
		sess_abandon(s, c.type == UIGW_SS_REJECT ? "Reject from the MS" : "ReturnError from the MS");
		return;
	case UIGW_SS_INVOKE:
	default:
		tx_end_reject(g, s->imsi, s->session_id, true, c.invoke_id, UIGW_SS_PROB_INVOKE,
			      UIGW_SS_PROB_INV_UNRECOGNIZED_OP);
		sess_abandon(s, "unexpected invoke");
		return;
	}
}

static int gsup_read_cb(struct osmo_gsup_client *gsupc, struct msgb *msg)
{
	struct uigw_gsup *g = gsupc->data;
	struct osmo_gsup_message gm;
	struct gsup_sess *s;
	int rc;

	rc = osmo_gsup_decode(msgb_l2(msg), msgb_l2len(msg), &gm);
	if (rc < 0) {
		ctr_inc(g, GSUP_CTR_RX_MALFORMED);
		LOGP(DGSUP, LOGL_ERROR, "undecodable GSUP message (%d): %s\n", rc, msgb_hexdump_l2(msg));
		goto out;
	}
	if (gm.message_type != OSMO_GSUP_MSGT_PROC_SS_REQUEST && gm.message_type != OSMO_GSUP_MSGT_PROC_SS_ERROR &&
	    gm.message_type != OSMO_GSUP_MSGT_PROC_SS_RESULT) {
		ctr_inc(g, GSUP_CTR_RX_IGNORED);
		LOGP(DGSUP, LOGL_INFO, "%s: %s ignored\n", gm.imsi, osmo_gsup_message_type_name(gm.message_type));
		goto out;
	}
	LOGP(DGSUP, LOGL_DEBUG, "%s/0x%08x: rx %s %s\n", gm.imsi, gm.session_id,
	     osmo_gsup_message_type_name(gm.message_type), osmo_gsup_session_state_name(gm.session_state));
	if (gm.message_type == OSMO_GSUP_MSGT_PROC_SS_ERROR) {
		ctr_inc(g, GSUP_CTR_RX_ERROR);
		s = sess_find(g, gm.imsi, gm.session_id);
		if (s)
			sess_abandon(s, "PROC_SS_ERROR");
		else
			ctr_inc(g, GSUP_CTR_RX_UNKNOWN_SESSION);
		goto out;
	}
	switch (gm.session_state) {
	case OSMO_GSUP_SESSION_STATE_BEGIN:
		rx_begin(g, &gm);
		break;
	case OSMO_GSUP_SESSION_STATE_CONTINUE:
		s = sess_find(g, gm.imsi, gm.session_id);
		if (!s) {
			int8_t iid = 1;
			struct uigw_ss_comp c;
			ctr_inc(g, GSUP_CTR_RX_UNKNOWN_SESSION);
			LOGP(DGSUP, LOGL_NOTICE, "%s/0x%08x: CONTINUE for no session: ending it\n", gm.imsi,
			     gm.session_id);
			if (uigw_ss_comp_decode(gm.ss_info, gm.ss_info_len, &c) == 0 && c.has_invoke_id)
				iid = c.invoke_id;
			tx_end_error(g, gm.imsi, gm.session_id, iid, UIGW_SS_ERR_SYSTEM_FAILURE);
			break;
		}
		rx_continue(g, s, &gm);
		break;
	case OSMO_GSUP_SESSION_STATE_END:
		ctr_inc(g, GSUP_CTR_RX_END);
		s = sess_find(g, gm.imsi, gm.session_id);
		if (!s) {
			ctr_inc(g, GSUP_CTR_RX_UNKNOWN_SESSION);
			break;
		}
		sess_abandon(s, gm.ss_info_len ? "END with a component" : "END");
		break;
	default:
		ctr_inc(g, GSUP_CTR_RX_MALFORMED);
		LOGP(DGSUP, LOGL_NOTICE, "%s/0x%08x: SS message without a session state\n", gm.imsi, gm.session_id);
		break;
	}
out:
	msgb_free(msg);
	return 0;
}

/* Every session dies with the link: the HLR forgets them on restart and cannot route them meanwhile. */
static void abandon_all(struct uigw_gsup *g, const char *why)
{
	struct gsup_sess *s, *tmp;

	llist_for_each_entry_safe(s, tmp, &g->sessions, list) {
		if (!s->in_core)
			sess_abandon(s, why);
	}
}

static bool gsup_up_down_cb(struct osmo_gsup_client *gsupc, bool up)
{
	struct uigw_gsup *g = gsupc->data;

	if (up == g->link_up)
		return true;
	g->link_up = up;
	if (up) {
		ctr_inc(g, GSUP_CTR_LINK_UP);
		LOGP(DGSUP, LOGL_NOTICE, "HLR link up: %s:%u as EUSE-%s\n", g->cfg.remote_ip, g->cfg.remote_port,
		     g->cfg.euse_name);
	} else {
		ctr_inc(g, GSUP_CTR_LINK_DOWN);
		LOGP(DGSUP, LOGL_NOTICE, "HLR link down (%u sessions lost); reconnecting\n", g->n_sessions);
		abandon_all(g, "HLR link down");
	}
	return true;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* link management */

static void link_stop(struct uigw_gsup *g)
{
	if (g->client) {
		osmo_gsup_client_destroy(g->client);
		g->client = NULL;
	}
	TALLOC_FREE(g->ipa_dev);
	if (g->link_up) {
		g->link_up = false;
		ctr_inc(g, GSUP_CTR_LINK_DOWN);
	}
	abandon_all(g, "GSUP link disabled");
}

static int link_start(struct uigw_gsup *g)
{
	struct osmo_gsup_client_config cfg = {
		.ip_addr = g->cfg.remote_ip,
		.tcp_port = g->cfg.remote_port,
		.read_cb = gsup_read_cb,
		.up_down_cb = gsup_up_down_cb,
		.data = g,
	};
	char *name;

	g->ipa_dev = talloc_zero(g, struct ipaccess_unit);
	if (!g->ipa_dev)
		return -ENOMEM;
	/* osmo-hlr names a GSUP peer by the serial number tag: EUSE-<name> is the EUSE <name> */
	name = talloc_asprintf(g->ipa_dev, "EUSE-%s", g->cfg.euse_name);
	g->ipa_dev->unit_name = name;
	g->ipa_dev->serno = name;
	g->ipa_dev->swversion = "osmo-uigw";
	cfg.ipa_dev = g->ipa_dev;
	g->client = osmo_gsup_client_create3(g, &cfg);
	if (!g->client) {
		LOGP(DGSUP, LOGL_ERROR, "cannot create the GSUP client to %s:%u\n", g->cfg.remote_ip,
		     g->cfg.remote_port);
		TALLOC_FREE(g->ipa_dev);
		return -EIO;
	}
	LOGP(DGSUP, LOGL_NOTICE, "connecting to OsmoHLR %s:%u as EUSE-%s\n", g->cfg.remote_ip, g->cfg.remote_port,
	     g->cfg.euse_name);
	return 0;
}

int uigw_gsup_restart(struct uigw_gsup *g)
{
	link_stop(g);
	if (g->started && g->cfg.configured && g->cfg.enabled)
		return link_start(g);
	return 0;
}

static int gsup_destructor(struct uigw_gsup *g)
{
	struct gsup_sess *sess, *tmp;

	/* FSM instances live in libosmocore's list as well: terminate, never just free them */
	llist_for_each_entry_safe(sess, tmp, &g->sessions, list)
		sess_free(sess);
	if (g->client) {
		osmo_gsup_client_destroy(g->client);
		g->client = NULL;
	}
	if (g->ctrs)
		rate_ctr_group_free(g->ctrs);
	return 0;
}

int uigw_gsup_init(struct uigw *gw)
{
	static bool registered;
	struct uigw_gsup *g = talloc_zero(gw, struct uigw_gsup);

	if (!g)
		return -ENOMEM;
	g->gw = gw;
	INIT_LLIST_HEAD(&g->sessions);
	g->cfg.remote_ip = talloc_strdup(g, "127.0.0.1");
	g->cfg.remote_port = 4222;
	g->cfg.euse_name = talloc_strdup(g, "uigw");
	g->cfg.enabled = true;
	g->cfg.msisdn_fallback = UIGW_GSUP_MSISDN_IMSI;
	g->ctrs = rate_ctr_group_alloc(g, &gsup_ctrg_desc, 0);
	if (!g->ctrs || !g->cfg.remote_ip || !g->cfg.euse_name) {
		talloc_free(g);
		return -ENOMEM;
	}
	if (!registered) {
		if (osmo_fsm_register(&gsup_sess_fsm) < 0) {
			talloc_free(g);
			return -EINVAL;
		}
		registered = true;
	}
	talloc_set_destructor(g, gsup_destructor);
	g->chan = uigw_chan_register(gw, &gsup_ops, g);
	if (!g->chan) {
		talloc_free(g);
		return -ENOMEM;
	}
	g->chan->ctrs = g->ctrs;
	uigw_gsup_vty_init();
	return 0;
}

static void gsup_close(struct uigw_chan *ch)
{
	struct uigw_gsup *g = ch->priv;

	g->started = false;
	link_stop(g);
}

static enum uigw_reach gsup_reach(struct uigw_chan *ch, const char *msisdn)
{
	struct uigw_gsup *g = ch->priv;

	return g->link_up ? UIGW_REACH_UP : UIGW_REACH_NO;
}

static void gsup_show(struct uigw_chan *ch, struct vty *vty)
{
	uigw_gsup_vty_show(vty, ch->priv);
}

static int gsup_open(struct uigw_chan *ch)
{
	struct uigw_gsup *g = ch->priv;

	g->started = true;
	if (!g->cfg.configured) {
		LOGP(DGSUP, LOGL_INFO, "no gsup node in the configuration: GSUP channel off\n");
		return 0;
	}
	if (!g->cfg.enabled) {
		LOGP(DGSUP, LOGL_NOTICE, "GSUP channel disabled in the configuration\n");
		return 0;
	}
	/* without an HLR the client library retries; a client that cannot even be created is logged, not fatal */
	link_start(g);
	return 0;
}

struct uigw_gsup_cfg *uigw_gsup_cfg(struct uigw_gsup *g)
{
	return &g->cfg;
}

void uigw_gsup_vty_show(struct vty *vty, struct uigw_gsup *g)
{
	struct gsup_sess *s;
	unsigned int i;

	vty_out(vty, "GSUP channel (OsmoHLR EUSE): %s%s", g->cfg.enabled ? "enabled" : "disabled", VTY_NEWLINE);
	vty_out(vty, " HLR %s:%u, EUSE name '%s' (IPA unit/serno EUSE-%s)%s", g->cfg.remote_ip, g->cfg.remote_port,
		g->cfg.euse_name, g->cfg.euse_name, VTY_NEWLINE);
	vty_out(vty, " Link: %s%s", !g->client ? "not started" : g->link_up ? "up" : "down (retrying every second)",
		VTY_NEWLINE);
	vty_out(vty, " MSISDN fallback: %s%s",
		g->cfg.msisdn_fallback == UIGW_GSUP_MSISDN_IMSI ? "imsi (+IMSI pseudo-number)" : "reject",
		VTY_NEWLINE);
	vty_out(vty, " Screen budget: %s%s", g->cfg.full_screens ? "full (182 septets / 80 UCS-2)" :
		"osmo-hlr (128 septets / 56 UCS-2)", VTY_NEWLINE);
	vty_out(vty, " Sessions: %u%s", g->n_sessions, VTY_NEWLINE);
	i = 0;
	llist_for_each_entry(s, &g->sessions, list) {
		if (i++ >= 20) {
			vty_out(vty, "  ...%s", VTY_NEWLINE);
			break;
		}
		vty_out(vty, "  %s/0x%08x %s dialog %llu%s", s->imsi, s->session_id, osmo_fsm_inst_state_name(s->fi),
			s->dlg ? (unsigned long long)s->dlg->id : 0ULL, VTY_NEWLINE);
	}
	vty_out(vty, " Counters:%s", VTY_NEWLINE);
	for (i = 0; i < g->ctrs->desc->num_ctr; i++)
		vty_out(vty, "  %-20s %8" PRIu64 "  %s%s", g->ctrs->desc->ctr_desc[i].name,
			rate_ctr_group_get_ctr(g->ctrs, i)->current, g->ctrs->desc->ctr_desc[i].description,
			VTY_NEWLINE);
}
