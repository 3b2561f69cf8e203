/*! \file ussi.c
 *  Channel `ussi`: USSD over IMS (3GPP TS 24.390). UE-initiated INVITE with application/vnd.3gpp.ussd+xml
 *  (bare or in multipart/mixed with SDP) -> 200 OK with Recv-Info: g.3gpp.ussd -> ACK; every menu goes out as
 *  an INFO (Info-Package g.3gpp.ussd) carrying UnstructuredSS-Request, the user's answers come back in INFO, the
 *  final text (or an error-code) goes out in the BYE. MAP mapping: TC-BEGIN = INVITE, TC-CONTINUE = INFO,
 *  TC-END = BYE. */

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/fsm.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/logging.h>
#include <osmocom/vty/vty.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/dialog.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/render/render.h>
#include <osmocom/uigw/core/router.h>
#include <osmocom/uigw/core/campaign.h>
#include <osmocom/uigw/codec/ussi_xml.h>

#include "sip_priv.h"

#define USSD_CT "application/vnd.3gpp.ussd+xml"
#define PKG "g.3gpp.ussd"

/*! The life of one USSI session (osmo_fsm "USSI", `show fsm-instances USSI`). The order matters: a state
 *  at or past USSI_ST_CONFIRMED has a confirmed SIP dialog, one at or past USSI_ST_BYE_SENT is ending. */
enum ussi_state {
	USSI_ST_PREPARED,	/*!< UAC (pushed): set up, the INVITE waits for the first screen */
	USSI_ST_INVITING,	/*!< UAC: our INVITE is out, no 2xx yet */
	USSI_ST_WAIT_ACK,	/*!< UAS: our 200 is out (retransmitted over UDP) until the ACK */
	USSI_ST_CONFIRMED,	/*!< the dialog is confirmed: screens go out in INFO (info_tx while one is out) */
	USSI_ST_BYE_SENT,	/*!< our BYE is out (with the last text or an error-code) */
	USSI_ST_DONE,		/*!< over: gone once no call into the core is on the stack for it */
};

enum ussi_event {
	USSI_EV_INVITE_SENT,
	USSI_EV_CONFIRMED,	/*!< the ACK of our 200, or the UE's 2xx to our INVITE (which we ACK) */
	USSI_EV_BYE_SENT,
	USSI_EV_DONE,
};

/*! Protocol state of one USSI session (one SIP dialog). A talloc child of its FSM instance. */
struct ussi_sess {
	struct llist_head list;
	struct osmo_fsm_inst *fi;
	struct uigw_sip *sip;
	struct uigw_dialog *dlg;	/*!< NULL once the core is done with it */
	char msisdn[UIGW_MSISDN_MAXLEN];
	char lang[8];
	char *call_id;
	char *local;		/*!< our name-addr with our tag (From of our requests) */
	char *remote;		/*!< theirs with their tag (To of our requests) */
	char *target;		/*!< remote target: the Contact of the INVITE */
	char *routes;		/*!< "Route: ...\r\n" lines from Record-Route, or the outbound proxy */
	unsigned int cseq;
	struct sip_conn *conn;	/*!< TCP connection the INVITE came on, or NULL */
	bool uac;		/*!< network-initiated: we sent the INVITE */
	bool notify_only;	/*!< UAC: the INVITE carried the only (final) screen: BYE right after the ACK */
	unsigned int invite_cseq;
	char *ack_text;		/*!< UAC: our ACK to the UE's 2xx, sent again for every retransmission of that 2xx
				 *  (RFC 3261 13.2.2.4: the ICT ended with the first one) */
	void *invite_tx;
	void *info_tx;		/*!< our INFO waiting for its response */
	void *bye_tx;		/*!< our BYE waiting for its response */
	/* the next screen, waiting for the ACK or for our previous INFO's 200 */
	bool have_pending;
	char *pending_text;
	bool pending_end;
	int pending_err;
	/* our 200 OK to the INVITE: the TU retransmits it until the ACK (RFC 3261 13.3.1.4) */
	char *ok_text;
	struct sockaddr_in ok_dst;
	struct osmo_timer_list ok_timer;
	unsigned int ok_interval_ms, ok_elapsed_ms;
	bool in_core_call;	/*!< inside a call into the core: sess_free() only marks it DONE */
	int64_t started;
};

#define ST(s)		((s)->fi->state)
#define ACKED(s)	(ST(s) == USSI_ST_CONFIRMED || ST(s) == USSI_ST_BYE_SENT)	/* UAS: our 200 ACKed;
								 * UAC: the UE's 2xx came and we ACKed it */
#define BYE_SENT(s)	(ST(s) >= USSI_ST_BYE_SENT)
#define INVITE_SENT(s)	(ST(s) != USSI_ST_PREPARED)
#define ENDED(s)	(ST(s) == USSI_ST_DONE)

#define S(x) (1 << (x))

static const struct value_string ussi_event_names[] = {
	{ USSI_EV_INVITE_SENT, "INVITE_SENT" },
	{ USSI_EV_CONFIRMED, "CONFIRMED" },
	{ USSI_EV_BYE_SENT, "BYE_SENT" },
	{ USSI_EV_DONE, "DONE" },
	{ 0, NULL }
};

/* the handlers below do the protocol work and dispatch the event that describes it */
static void ussi_fsm_action(struct osmo_fsm_inst *fi, uint32_t event, void *data)
{
	static const uint8_t next[] = {
		[USSI_EV_INVITE_SENT] = USSI_ST_INVITING,
		[USSI_EV_CONFIRMED] = USSI_ST_CONFIRMED,
		[USSI_EV_BYE_SENT] = USSI_ST_BYE_SENT,
		[USSI_EV_DONE] = USSI_ST_DONE,
	};

	osmo_fsm_inst_state_chg(fi, next[event], 0, 0);
}

static void ussi_fsm_cleanup(struct osmo_fsm_inst *fi, enum osmo_fsm_term_cause cause)
{
	struct ussi_sess *s = fi->priv;

	osmo_timer_del(&s->ok_timer);
	llist_del(&s->list);
	s->sip->n_ussi--;
	sip_ctr_inc(s->sip, SIP_CTR_USSI_END);
}

static const struct osmo_fsm_state ussi_fsm_states[] = {
	[USSI_ST_PREPARED] = {
		/* every instance starts here; a UE's INVITE moves on to WAIT_ACK at once (sess_alloc()) */
		.name = "PREPARED",
		.in_event_mask = S(USSI_EV_INVITE_SENT) | S(USSI_EV_DONE),
		.out_state_mask = S(USSI_ST_INVITING) | S(USSI_ST_WAIT_ACK) | S(USSI_ST_DONE),
		.action = ussi_fsm_action,
	},
	[USSI_ST_INVITING] = {
		.name = "INVITING",
		.in_event_mask = S(USSI_EV_CONFIRMED) | S(USSI_EV_BYE_SENT) | S(USSI_EV_DONE),
		.out_state_mask = S(USSI_ST_CONFIRMED) | S(USSI_ST_BYE_SENT) | S(USSI_ST_DONE),
		.action = ussi_fsm_action,
	},
	[USSI_ST_WAIT_ACK] = {
		.name = "WAIT_ACK",
		.in_event_mask = S(USSI_EV_CONFIRMED) | S(USSI_EV_BYE_SENT) | S(USSI_EV_DONE),
		.out_state_mask = S(USSI_ST_CONFIRMED) | S(USSI_ST_BYE_SENT) | S(USSI_ST_DONE),
		.action = ussi_fsm_action,
	},
	[USSI_ST_CONFIRMED] = {
		.name = "CONFIRMED",
		.in_event_mask = S(USSI_EV_BYE_SENT) | S(USSI_EV_DONE),
		.out_state_mask = S(USSI_ST_BYE_SENT) | S(USSI_ST_DONE),
		.action = ussi_fsm_action,
	},
	[USSI_ST_BYE_SENT] = {
		.name = "BYE_SENT",
		.in_event_mask = S(USSI_EV_DONE),
		.out_state_mask = S(USSI_ST_DONE),
		.action = ussi_fsm_action,
	},
	[USSI_ST_DONE] = {
		.name = "DONE",
	},
};

static struct osmo_fsm ussi_fsm = {
	.name = "USSI",
	.states = ussi_fsm_states,
	.num_states = ARRAY_SIZE(ussi_fsm_states),
	.event_names = ussi_event_names,
	.cleanup = ussi_fsm_cleanup,
	.log_subsys = DSIP,
};

/* A session in state \a st (UAS: WAIT_ACK, UAC: PREPARED), in the list of \a sip. */
static struct ussi_sess *sess_alloc(struct uigw_sip *sip, enum ussi_state st)
{
	static bool registered;
	struct osmo_fsm_inst *fi;
	struct ussi_sess *s;

	if (!registered) {
		if (osmo_fsm_register(&ussi_fsm) < 0)
			return NULL;
		registered = true;
	}
	fi = osmo_fsm_inst_alloc(&ussi_fsm, sip, NULL, LOGL_DEBUG, NULL);
	if (!fi)
		return NULL;
	s = talloc_zero(fi, struct ussi_sess);
	if (!s) {
		osmo_fsm_inst_free(fi);
		return NULL;
	}
	fi->priv = s;
	s->fi = fi;
	s->sip = sip;
	if (st != USSI_ST_PREPARED)
		osmo_fsm_inst_state_chg(fi, st, 0, 0);
	llist_add_tail(&s->list, &sip->ussi_sessions);
	sip->n_ussi++;
	sip_ctr_inc(sip, SIP_CTR_USSI_BEGIN);
	return s;
}

static void sess_free(struct ussi_sess *s)
{
	struct sip_tx *tx;

	if (s->in_core_call) {
		if (!ENDED(s))
			osmo_fsm_inst_dispatch(s->fi, USSI_EV_DONE, NULL);
		return;
	}
	tx = s->info_tx;
	if (tx) {
		tx->owner = NULL;
		tx->owner_ref = NULL;
	}
	tx = s->bye_tx;
	if (tx) {
		tx->owner = NULL;
		tx->owner_ref = NULL;
	}
	tx = s->invite_tx;
	if (tx) {
		tx->owner = NULL;
		tx->owner_ref = NULL;
	}
	if (s->dlg)
		s->dlg->chan_priv = NULL;
	osmo_fsm_inst_term(s->fi, OSMO_FSM_TERM_REGULAR, NULL);
}

static struct ussi_sess *sess_by_call_id(struct uigw_sip *sip, const osip_message_t *m)
{
	struct ussi_sess *s;

	if (!m->call_id || !m->call_id->number)
		return NULL;
	llist_for_each_entry(s, &sip->ussi_sessions, list) {
		const char *cid = s->call_id;
		size_t nl = strlen(m->call_id->number);
		if (strncmp(cid, m->call_id->number, nl))
			continue;
		if (m->call_id->host ? (cid[nl] == '@' && !strcmp(cid + nl + 1, m->call_id->host)) : !cid[nl])
			return s;
	}
	return NULL;
}

static void resp_cb(struct uigw_sip *sip, void *owner, const osip_message_t *resp, int code);
static void abort_core(struct ussi_sess *s);

/* an in-dialog request towards the UE */
static int send_in_dialog(struct ussi_sess *s, const char *method, const char *xml, void **ref)
{
	struct uigw_sip *sip = s->sip;
	void *tmp = talloc_new(s);
	bool tcp = !!s->conn;
	char *req;
	int rc;

	req = talloc_asprintf(tmp, "%s %s SIP/2.0\r\n"
			      "Via: %s\r\n"
			      "Max-Forwards: 70\r\n"
			      "%s"
			      "From: %s\r\n"
			      "To: %s\r\n"
			      "Call-ID: %s\r\n"
			      "CSeq: %u %s\r\n"
			      "Contact: <%s>\r\n"
			      "%s"
			      "Content-Length: %zu\r\n\r\n%s",
			      method, s->target, sip_via(tmp, sip, tcp), s->routes, s->local, s->remote, s->call_id,
			      ++s->cseq, method, sip_local_uri(sip, tcp),
			      !xml ? "" : !strcmp(method, "INFO") ?
				"Info-Package: " PKG "\r\nContent-Disposition: info-package\r\n"
				"Content-Type: " USSD_CT "\r\n" : "Content-Type: " USSD_CT "\r\n",
			      xml ? strlen(xml) : 0, xml ? xml : "");
	rc = req ? sip_send_request(sip, req, s->conn, resp_cb, s, ref) : -ENOMEM;
	talloc_free(tmp);
	return rc;
}

static void send_bye(struct ussi_sess *s, const char *text, int err)
{
	char *xml = NULL;

	if (BYE_SENT(s))
		return;
	osmo_fsm_inst_dispatch(s->fi, USSI_EV_BYE_SENT, NULL);
	s->have_pending = false;
	if (text || err)
		xml = uigw_ussi_xml_build(s, s->lang, text, err, UIGW_USSI_NONE);
	if (send_in_dialog(s, "BYE", xml, &s->bye_tx) < 0)
		sess_free(s);
	talloc_free(xml);
}

/* network-initiated: the INVITE carries the first screen (TS 24.390 5.2.3), SDP with no media beside it */
static int send_invite(struct ussi_sess *s)
{
	struct uigw_sip *sip = s->sip;
	void *tmp = talloc_new(s);
	char *xml, *req;
	const char *sdp;
	int rc;

	xml = uigw_ussi_xml_build(tmp, s->lang, s->pending_text, 0,
				  s->pending_end ? UIGW_USSI_NOTIFY : UIGW_USSI_REQUEST);
	sdp = talloc_asprintf(tmp, "v=0\r\no=uigw 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n",
			      sip->cfg.local_ip, sip->cfg.local_ip);
	s->notify_only = s->pending_end;
	s->have_pending = false;
	osmo_fsm_inst_dispatch(s->fi, USSI_EV_INVITE_SENT, NULL);
	s->invite_cseq = ++s->cseq;
	req = talloc_asprintf(tmp, "--uigw-ussd\r\nContent-Type: application/sdp\r\n\r\n%s\r\n"
			      "--uigw-ussd\r\nContent-Type: " USSD_CT "\r\n\r\n%s\r\n--uigw-ussd--\r\n", sdp, xml);
	req = talloc_asprintf(tmp, "INVITE %s SIP/2.0\r\n"
			      "Via: %s\r\n"
			      "Max-Forwards: 70\r\n"
			      "%s"
			      "From: %s\r\n"
			      "To: %s\r\n"
			      "Call-ID: %s\r\n"
			      "CSeq: %u INVITE\r\n"
			      "Contact: <%s>\r\n"
			      "Recv-Info: " PKG "\r\n"
			      "Content-Type: multipart/mixed;boundary=uigw-ussd\r\n"
			      "Content-Length: %zu\r\n\r\n%s",
			      s->target, sip_via(tmp, sip, !!s->conn), s->routes, s->local, s->remote, s->call_id,
			      s->invite_cseq, sip_local_uri(sip, !!s->conn), strlen(req), req);
	rc = req ? sip_send_request(sip, req, s->conn, resp_cb, s, &s->invite_tx) : -ENOMEM;
	talloc_free(tmp);
	return rc;
}

/* UAC: the UE's 2xx to our INVITE: take its tag, Contact and route set, ACK it */
static int confirm_uac(struct ussi_sess *s, const osip_message_t *resp)
{
	struct uigw_sip *sip = s->sip;
	osip_contact_t *ct = NULL;
	char *str = NULL, *ack;
	void *tmp;
	int i, rc;

	if (osip_to_to_str(resp->to, &str) == 0 && str) {
		osmo_talloc_replace_string(s, &s->remote, str);
		osip_free(str);
	}
	osip_message_get_contact(resp, 0, &ct);
	if (ct && ct->url && osip_uri_to_str(ct->url, &str) == 0 && str) {
		osmo_talloc_replace_string(s, &s->target, str);
		osip_free(str);
	}
	if (osip_list_size(&resp->record_routes) > 0) {
		/* UAC: the route set is the Record-Route in reverse order */
		char *r = talloc_strdup(s, "");
		for (i = osip_list_size(&resp->record_routes) - 1; i >= 0 && r; i--) {
			osip_record_route_t *rr = osip_list_get(&resp->record_routes, i);
			if (osip_record_route_to_str(rr, &str) == 0 && str) {
				r = talloc_asprintf_append(r, "Route: %s\r\n", str);
				osip_free(str);
			}
		}
		if (r) {
			talloc_free(s->routes);
			s->routes = r;
		}
	}
	tmp = talloc_new(s);
	ack = talloc_asprintf(tmp, "ACK %s SIP/2.0\r\nVia: %s\r\nMax-Forwards: 70\r\n%sFrom: %s\r\nTo: %s\r\n"
			      "Call-ID: %s\r\nCSeq: %u ACK\r\nContent-Length: 0\r\n\r\n", s->target,
			      sip_via(tmp, sip, !!s->conn), s->routes, s->local, s->remote, s->call_id, s->invite_cseq);
	rc = ack ? sip_send_raw(sip, ack, s->conn) : -ENOMEM;
	if (ack) {
		talloc_free(s->ack_text);
		s->ack_text = talloc_steal(s, ack);
	}
	talloc_free(tmp);
	osmo_fsm_inst_dispatch(s->fi, USSI_EV_CONFIRMED, NULL);
	return rc;
}

bool ussi_rx_2xx_again(struct uigw_sip *sip, const osip_message_t *resp)
{
	struct ussi_sess *s;

	if (resp->status_code < 200 || resp->status_code >= 300 || !resp->cseq || !resp->cseq->method ||
	    strcasecmp(resp->cseq->method, "INVITE") || !resp->cseq->number)
		return false;
	s = sess_by_call_id(sip, resp);
	if (!s || !s->uac || !s->ack_text || strtoul(resp->cseq->number, NULL, 10) != s->invite_cseq)
		return false;
	LOGP(DSIP, LOGL_INFO, "USSI %s: the 2xx to our INVITE again: ACK again\n", s->call_id);
	if (sip_send_raw(sip, s->ack_text, s->conn) < 0)
		sip_ctr_inc(sip, SIP_CTR_TX_ERR);
	return true;
}

/* send what is waiting, if the dialog state allows */
static void flush(struct ussi_sess *s)
{
	char *xml;
	int rc;

	if (s->uac && !INVITE_SENT(s) && s->have_pending) {
		if (send_invite(s) < 0) {
			abort_core(s);
			sess_free(s);
		}
		return;
	}
	if (!s->have_pending || !ACKED(s) || s->info_tx || BYE_SENT(s))
		return;
	if (s->pending_end) {
		send_bye(s, s->pending_text, s->pending_err);
		return;
	}
	xml = uigw_ussi_xml_build(s, s->lang, s->pending_text, 0, UIGW_USSI_REQUEST);
	s->have_pending = false;
	rc = send_in_dialog(s, "INFO", xml, &s->info_tx);
	talloc_free(xml);
	if (rc < 0) {
		if (s->dlg) {
			struct uigw_dialog *dlg = s->dlg;
			s->dlg = NULL;
			dlg->chan_priv = NULL;
			uigw_dialog_abort(dlg, UIGW_OUTCOME_ABANDONED);
		}
		send_bye(s, NULL, 1);
		return;
	}
	sip_ctr_inc(s->sip, SIP_CTR_USSI_INFO_OUT);
}

static void resp_cb(struct uigw_sip *sip, void *owner, const osip_message_t *resp, int code)
{
	struct ussi_sess *s = owner;
	bool is_bye = resp ? (resp->cseq && resp->cseq->method && !strcasecmp(resp->cseq->method, "BYE"))
			   : BYE_SENT(s);

	bool is_invite = resp ? (resp->cseq && resp->cseq->method && !strcasecmp(resp->cseq->method, "INVITE"))
			      : (s->uac && !ACKED(s));

	/* the tx already cleared s->info_tx / s->bye_tx / s->invite_tx */
	if (is_invite) {
		if (code >= 200 && code < 300 && resp) {
			confirm_uac(s, resp);
			if (s->notify_only)
				send_bye(s, NULL, 0);
			else
				flush(s);
			return;
		}
		LOGP(DSIP, LOGL_NOTICE, "USSI to %s: INVITE answered %d\n", s->msisdn, code);
		abort_core(s);
		sess_free(s);
		return;
	}
	if (is_bye) {
		sess_free(s);
		return;
	}
	if (BYE_SENT(s))
		return;
	if (code >= 200 && code < 300) {
		flush(s);
		return;
	}
	LOGP(DSIP, LOGL_NOTICE, "USSI INFO answered %d: ending the session\n", code);
	if (s->dlg) {
		struct uigw_dialog *dlg = s->dlg;
		s->dlg = NULL;
		dlg->chan_priv = NULL;
		uigw_dialog_abort(dlg, UIGW_OUTCOME_ABANDONED);
	}
	send_bye(s, NULL, 1);
}

static int err_of(enum uigw_refusal r)
{
	switch (r) {
	case UIGW_REFUSAL_BUSY:
		return 4;	/* USSD busy */
	case UIGW_REFUSAL_UNROUTED:
		return 3;	/* unexpected data value: no such service code */
	case UIGW_REFUSAL_NONE:
		return 0;
	default:
		return 1;	/* unspecified */
	}
}

static int ussi_send(struct uigw_dialog *dlg, const struct uigw_render_out *screen, bool end)
{
	struct ussi_sess *s = dlg->chan_priv;
	bool outer;

	if (!s)
		return -ENODEV;
	if (s->uac && !INVITE_SENT(s) && end && dlg->refusal != UIGW_REFUSAL_NONE) {
		/* a refused push: nothing goes to the subscriber */
		dlg->chan_priv = NULL;
		s->dlg = NULL;
		return 0;
	}
	if (s->have_pending && !s->pending_end) {
		/* cannot happen with one input at a time; the newer screen wins */
		TALLOC_FREE(s->pending_text);
	}
	s->dlg = end ? NULL : dlg;
	s->have_pending = true;
	s->pending_end = end;
	s->pending_err = end ? err_of(dlg->refusal) : 0;
	talloc_free(s->pending_text);
	s->pending_text = talloc_strdup(s, screen->text);
	if (end)
		dlg->chan_priv = NULL;
	/* a send that fails at once ends the session inside flush(): free it only once flush() returned */
	outer = s->in_core_call;
	s->in_core_call = true;
	flush(s);
	s->in_core_call = outer;
	if (!outer && ENDED(s))
		sess_free(s);
	return 0;
}

static void ussi_release(struct uigw_dialog *dlg, enum uigw_outcome outcome)
{
	struct ussi_sess *s = dlg->chan_priv;

	if (!s)
		return;
	s->dlg = NULL;
	dlg->chan_priv = NULL;
	if (s->uac && !INVITE_SENT(s)) {
		/* a push that ended before its first screen went out: nothing to tear down */
		sess_free(s);
		return;
	}
	if (!ACKED(s)) {
		/* the BYE follows the ACK */
		s->have_pending = true;
		s->pending_end = true;
		s->pending_err = 1;
		TALLOC_FREE(s->pending_text);
		return;
	}
	send_bye(s, NULL, outcome == UIGW_OUTCOME_TIMED_OUT ? 1 : 0);
}

static int ussi_push(struct uigw_chan *ch, struct uigw_dialog *dlg, const struct uigw_trigger *t);

static const struct uigw_chan_ops ussi_ops = {
	.channel = UIGW_CHAN_USSI,
	.profile = &uigw_profile_ussi,
	.reach = sip_chan_reach,
	.push = ussi_push,
	.deliver = ussi_send,
	.end = ussi_release,
	.show = sip_chan_show,
};

int ussi_init(struct uigw_sip *sip)
{
	sip->chan_ussi = uigw_chan_register(sip->gw, &ussi_ops, sip);
	if (!sip->chan_ussi)
		return -ENOMEM;
	sip->chan_ussi->ctrs = sip->ctrs;
	return 0;
}

void ussi_shutdown(struct uigw_sip *sip)
{
	struct ussi_sess *s, *t;

	llist_for_each_entry_safe(s, t, &sip->ussi_sessions, list) {
		s->in_core_call = false;
		sess_free(s);
	}
}


static void ok_timer_cb(void *data)
{
	struct ussi_sess *s = data;

	if (ACKED(s) || !s->ok_text)
		return;
	s->ok_elapsed_ms += s->ok_interval_ms;
	if (s->ok_elapsed_ms >= 64 * s->sip->t1->val) {
		LOGP(DSIP, LOGL_NOTICE, "USSI %s: no ACK for the 200 OK: ending the session\n", s->call_id);
		abort_core(s);
		/* the dialog is confirmed for us anyway: end it with a BYE */
		osmo_fsm_inst_dispatch(s->fi, USSI_EV_CONFIRMED, NULL);
		send_bye(s, NULL, 1);
		return;
	}
	sip_send_to(s->sip, s->ok_text, strlen(s->ok_text), &s->ok_dst, s->conn);
	s->ok_interval_ms = OSMO_MIN(2 * s->ok_interval_ms, s->sip->t2->val);
	osmo_timer_schedule(&s->ok_timer, s->ok_interval_ms / 1000, (s->ok_interval_ms % 1000) * 1000);
}

static const char *sdp_answer(struct uigw_sip *sip)
{
	static char buf[256];

	/* no media: the session exists for its signalling only */
	snprintf(buf, sizeof(buf), "v=0\r\no=uigw 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
		 "m=audio 0 RTP/AVP 0\r\n", sip->cfg.local_ip, sip->cfg.local_ip);
	return buf;
}

static char *routes_from(void *ctx, struct uigw_sip *sip, const osip_message_t *req)
{
	char *r = talloc_strdup(ctx, "");
	int i;

	for (i = 0; i < osip_list_size(&req->record_routes) && r; i++) {
		osip_record_route_t *rr = osip_list_get(&req->record_routes, i);
		char *s = NULL;
		if (osip_record_route_to_str(rr, &s) == 0 && s) {
			r = talloc_asprintf_append(r, "Route: %s\r\n", s);
			osip_free(s);
		}
	}
	if (r && !r[0]) {
		talloc_free(r);
		r = sip_proxy_route(ctx, sip);
	}
	return r;
}

void ussi_rx_invite(struct uigw_sip *sip, struct sip_tx *tx, osip_message_t *req)
{
	struct uigw *gw = sip->gw;
	struct uigw_ussi_data ud;
	char msisdn[UIGW_MSISDN_MAXLEN], user[64];
	const char *xml, *sdp;
	size_t xml_len, sdp_len;
	osip_generic_param_t *tag = NULL;
	osip_contact_t *ct = NULL;
	osip_message_t *resp;
	struct ussi_sess *s;
	struct uigw_dialog *dlg;
	char *str = NULL;
	const char *dial;
	bool from_ok;

	osip_to_get_tag(req->to, &tag);
	if (tag) {
		/* re-INVITE: nothing to change in a USSI session */
		sip_reply(sip, tx, req, 488);
		return;
	}
	sip_trusted(sip, tx, &from_ok);
	if (uigw_sip_identity(req, from_ok, gw->cfg.country_code, gw->cfg.national_prefix, msisdn, sizeof(msisdn),
			      NULL, 0) < 0) {
		sip_ctr_inc(sip, SIP_CTR_NO_IDENTITY);
		sip_reply(sip, tx, req, 403);
		return;
	}
	sip_seen_now(sip, msisdn);
	if (uigw_sip_body(req, USSD_CT, &xml, &xml_len) < 0) {
		sip_reply(sip, tx, req, 415);
		return;
	}
	if (uigw_ussi_xml_parse(xml, xml_len, &ud) < 0) {
		sip_reply(sip, tx, req, 400);
		return;
	}
	/* the service code: the ussd-string if it is a dial string, else the Request-URI's dialstring user part */
	if (ud.has_string && uigw_is_dial_string(ud.ussd_string))
		dial = ud.ussd_string;
	else if (uigw_sip_ruri_user(req, user, sizeof(user)) == 0 && uigw_is_dial_string(user))
		dial = user;
	else {
		sip_reply(sip, tx, req, 404);
		return;
	}
	osip_message_get_contact(req, 0, &ct);
	if (!ct || !ct->url || osip_uri_to_str(ct->url, &str) != 0 || !str) {
		sip_reply(sip, tx, req, 400);
		return;
	}

	s = sess_alloc(sip, USSI_ST_WAIT_ACK);
	if (!s) {
		osip_free(str);
		sip_reply(sip, tx, req, 500);
		return;
	}
	s->target = talloc_strdup(s, str);
	osip_free(str);
	osmo_strlcpy(s->msisdn, msisdn, sizeof(s->msisdn));
	osmo_strlcpy(s->lang, ud.language, sizeof(s->lang));
	s->conn = tx ? tx->conn : NULL;
	s->routes = routes_from(s, sip, req);
	s->call_id = req->call_id->host ? talloc_asprintf(s, "%s@%s", req->call_id->number, req->call_id->host)
					: talloc_strdup(s, req->call_id->number);
	osmo_fsm_inst_update_id_f_sanitize(s->fi, '-', "%s", s->call_id);
	s->started = time(NULL);

	{
		char *tagv = sip_token(s, sip);
		resp = sip_response(req, 200, tagv);
		talloc_free(tagv);
	}
	if (!resp || osip_to_to_str(resp->to, &str) != 0) {
		if (resp)
			osip_message_free(resp);
		sess_free(s);
		sip_reply(sip, tx, req, 500);
		return;
	}
	s->local = talloc_strdup(s, str);
	osip_free(str);
	if (osip_from_to_str(req->from, &str) == 0) {
		s->remote = talloc_strdup(s, str);
		osip_free(str);
	}
	osip_message_set_contact(resp, sip_local_uri(sip, !!s->conn));
	osip_message_set_header(resp, "Recv-Info", PKG);
	osip_message_set_header(resp, "Allow", "INVITE, ACK, BYE, INFO, MESSAGE, OPTIONS");
	if (uigw_sip_body(req, "application/sdp", &sdp, &sdp_len) == 0) {
		osip_message_set_content_type(resp, "application/sdp");
		osip_message_set_body(resp, sdp_answer(sip), strlen(sdp_answer(sip)));
	}
	/* over UDP, keep the 200 for its retransmissions until the ACK (TCP is reliable) */
	if (!s->conn && tx) {
		size_t len;
		if (osip_message_to_str(resp, &str, &len) == 0 && str) {
			s->ok_text = talloc_strdup(s, str);
			osip_free(str);
			s->ok_dst = tx->src.sin;
			/* responses follow the Via: received / rport, which osip set from the source */
			s->ok_interval_ms = s->sip->t1->val;
			osmo_timer_setup(&s->ok_timer, ok_timer_cb, s);
			osmo_timer_schedule(&s->ok_timer, 0, s->sip->t1->val * 1000);
		}
	}
	sip_respond(sip, tx, resp);

	{
		struct uigw_begin b = {
			.channel = UIGW_CHAN_USSI,
			.msisdn = msisdn,
			.text = dial,
			.language = s->lang[0] ? s->lang : NULL,
			.roaming = sip_roaming(req),
			.visited = sip_visited_network(req),
			.chan_priv = s,
		};
		s->in_core_call = true;
		dlg = uigw_dialog_begin(gw, &b);
		s->in_core_call = false;
		if (ENDED(s)) {
			sess_free(s);
			return;
		}
		if (dlg && !s->pending_end)
			s->dlg = dlg;
	}
}

static void abort_core(struct ussi_sess *s)
{
	struct uigw_dialog *dlg = s->dlg;

	if (!dlg)
		return;
	s->dlg = NULL;
	dlg->chan_priv = NULL;
	uigw_dialog_abort(dlg, UIGW_OUTCOME_ABANDONED);
}

static void rx_info(struct ussi_sess *s, struct sip_tx *tx, osip_message_t *req)
{
	struct uigw_sip *sip = s->sip;
	const char *pkg = sip_header(req, "info-package"), *xml;
	struct uigw_ussi_data ud;
	osip_message_t *resp;
	size_t len;

	sip_ctr_inc(sip, SIP_CTR_USSI_INFO_IN);
	if (!pkg || strcasecmp(pkg, PKG)) {
		sip_ctr_inc(sip, SIP_CTR_USSI_469);
		resp = sip_response(req, 469, NULL);
		if (resp)
			osip_message_set_header(resp, "Recv-Info", PKG);
		sip_respond(sip, tx, resp);
		return;
	}
	if (uigw_sip_body(req, USSD_CT, &xml, &len) < 0 || uigw_ussi_xml_parse(xml, len, &ud) < 0) {
		sip_reply(sip, tx, req, 400);
		return;
	}
	sip_reply(sip, tx, req, 200);
	if (ud.error_code) {
		LOGP(DSIP, LOGL_NOTICE, "USSI: the UE reports error-code %d: ending the session\n", ud.error_code);
		abort_core(s);
		send_bye(s, NULL, 0);
		return;
	}
	if (!s->dlg) {
		LOGP(DSIP, LOGL_INFO, "USSI: INFO after the dialog ended: ignored\n");
		return;
	}
	if (uigw_dialog_input(s->dlg, ud.ussd_string) < 0)
		LOGP(DSIP, LOGL_NOTICE, "USSI: input while the previous one is being answered: dropped\n");
}

bool ussi_rx_in_dialog(struct uigw_sip *sip, struct sip_tx *tx, osip_message_t *req)
{
	struct ussi_sess *s = sess_by_call_id(sip, req);

	if (!s)
		return false;
	if (!tx) {
		/* ACK of our 2xx */
		if (MSG_IS_ACK(req) && ST(s) == USSI_ST_WAIT_ACK) {
			osmo_fsm_inst_dispatch(s->fi, USSI_EV_CONFIRMED, NULL);
			osmo_timer_del(&s->ok_timer);
			TALLOC_FREE(s->ok_text);
			flush(s);
		}
		return true;
	}
	if (MSG_IS_BYE(req)) {
		sip_reply(sip, tx, req, 200);
		abort_core(s);
		if (!BYE_SENT(s))
			sess_free(s);
		return true;
	}
	if (MSG_IS_INFO(req)) {
		rx_info(s, tx, req);
		return true;
	}
	return false;
}

/* a pushed dialog: the session (UAC) is set up here; its INVITE carries the first screen, which the core
 * delivers after this returns */
static int ussi_push(struct uigw_chan *ch, struct uigw_dialog *dlg, const struct uigw_trigger *t)
{
	struct uigw_sip *sip = ch->priv;
	const char *domain = sip->cfg.domain ? sip->cfg.domain : sip->cfg.local_ip;
	const char *uri;
	struct ussi_sess *s;
	char buf[256];
	char *tag;

	s = sess_alloc(sip, USSI_ST_PREPARED);
	if (!s)
		return -ENOMEM;
	uri = sip_push_target(sip, dlg->msisdn, t->to, buf, sizeof(buf));
	s->uac = true;
	s->started = time(NULL);
	osmo_strlcpy(s->msisdn, dlg->msisdn, sizeof(s->msisdn));
	tag = sip_token(s, sip);
	s->call_id = talloc_asprintf(s, "%s@%s", tag, sip->cfg.local_ip);
	talloc_free(tag);
	osmo_fsm_inst_update_id_f_sanitize(s->fi, '-', "%s", s->call_id);
	tag = sip_token(s, sip);
	s->local = talloc_asprintf(s, "<sip:uigw@%s>;tag=%s", domain, tag);
	talloc_free(tag);
	s->remote = talloc_asprintf(s, "<%s>", uri);
	s->target = talloc_strdup(s, uri);
	s->routes = sip_proxy_route(s, sip);
	s->conn = sip_target_conn(sip, uri);	/* NULL: UDP */
	s->dlg = dlg;
	dlg->chan_priv = s;
	return 0;
}

void ussi_conn_closed(struct uigw_sip *sip, struct sip_conn *c)
{
	struct ussi_sess *s;

	llist_for_each_entry(s, &sip->ussi_sessions, list)
		if (s->conn == c)
			s->conn = NULL;
}

void ussi_vty_show(struct vty *vty, struct uigw_sip *sip)
{
	struct ussi_sess *s;
	time_t now = time(NULL);

	vty_out(vty, "USSI sessions: %u%s", sip->n_ussi, VTY_NEWLINE);
	llist_for_each_entry(s, &sip->ussi_sessions, list) {
		vty_out(vty, " %s %s %s, %lds, %s%s%s", s->msisdn, s->call_id,
			s->dlg && s->dlg->camp ? s->dlg->camp->name : "-", (long)(now - s->started),
			BYE_SENT(s) ? "ending" : !ACKED(s) ? "wait-ack" : s->info_tx ? "info-out" : "wait-user",
			s->conn ? " tcp" : "", VTY_NEWLINE);
	}
}
