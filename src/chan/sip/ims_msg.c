/*! \file ims_msg.c
 *  Channel `ims-msg`: page-mode SIP MESSAGE (RFC 3428) with text/plain bodies. A MESSAGE to sip:7726@domain
 *  starts or continues the subscriber's dialog (202 Accepted at once); every screen goes back as a MESSAGE to the
 *  asserted URI (or through the outbound proxy), in one Call-ID per dialog. */

#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>
#include <time.h>
#include <arpa/inet.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/logging.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/dialog.h>
#include <osmocom/uigw/core/optout.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/render/render.h>
#include <osmocom/gsm/protocol/gsm_04_11.h>

#include <osmocom/uigw/codec/sms_concat.h>
#include "sip_priv.h"

#define IMS_MAX_TEXT	4096

/*! The content family a subscriber used: replies use the same. */
enum ims_family {
	IMS_TEXT,	/*!< text/plain */
	IMS_CPIM,	/*!< message/cpim around text/plain (RFC 3862), IMDN on request (RFC 5438) */
	IMS_SMS,	/*!< application/vnd.3gpp.sms: RP-DATA with SMS-SUBMIT / SMS-DELIVER (TS 24.341) */
};

#define SMS_CT "application/vnd.3gpp.sms"

/*! Protocol state of one ims-msg dialog. */
struct ims_sess {
	struct llist_head list;
	struct uigw_sip *sip;
	struct uigw_dialog *dlg;
	char *target;		/*!< Request-URI of our MESSAGEs: the asserted URI */
	char *from_user;	/*!< user part the subscriber wrote to: our From */
	char *call_id;
	char *tag;
	unsigned int cseq;
	enum ims_family family;
	char sc[24];		/*!< SMS: the service centre address the UE used */
	uint8_t rp_ref;		/*!< SMS: next RP message reference of ours */
	uint8_t concat_ref;	/*!< SMS: next concatenation reference */
	bool in_core_call;	/*!< inside uigw_dialog_begin/push: free after it returns */
	bool ended;
};


static void sess_free(struct ims_sess *s)
{
	llist_del(&s->list);
	s->sip->n_msg--;
	talloc_free(s);
}

static struct ims_sess *sess_alloc(struct uigw_sip *sip, const char *target, const char *from_user)
{
	struct ims_sess *s = talloc_zero(sip, struct ims_sess);

	if (!s)
		return NULL;
	s->sip = sip;
	s->target = talloc_strdup(s, target);
	s->from_user = talloc_strdup(s, from_user);
	s->call_id = sip_token(s, sip);
	s->tag = sip_token(s, sip);
	llist_add_tail(&s->list, &sip->msg_sessions);
	sip->n_msg++;
	return s;
}

/* the session is over for the core: free it now, or after the core call that ended it returns */
static void sess_end(struct ims_sess *s)
{
	s->dlg = NULL;
	if (s->in_core_call)
		s->ended = true;
	else
		sess_free(s);
}

static void msg_resp_cb(struct uigw_sip *sip, void *owner, const osip_message_t *resp, int code)
{
	if (code >= 200 && code < 300)
		return;
	sip_ctr_inc(sip, SIP_CTR_MSG_OUT_FAIL);
	LOGP(DSIP, LOGL_NOTICE, "MESSAGE to a subscriber failed: %d\n", code);
}

static char *now_iso(void *ctx)
{
	char buf[32];
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return talloc_strdup(ctx, buf);
}

/* a CPIM wrapper from us to the subscriber */
static char *cpim_wrap(void *ctx, struct ims_sess *s, const char *ctype, const char *extra, const char *body)
{
	const char *domain = s->sip->cfg.domain ? s->sip->cfg.domain : s->sip->cfg.local_ip;

	return talloc_asprintf(ctx, "From: <sip:%s@%s>\r\nTo: <%s>\r\nDateTime: %s\r\nNS: imdn <urn:ietf:params:imdn>\r\n"
			       "imdn.Message-ID: %s\r\n\r\nContent-Type: %s\r\n%sContent-Length: %zu\r\n\r\n%s",
			       s->from_user, domain, s->target, now_iso(ctx), sip_token(ctx, s->sip), ctype, extra,
			       strlen(body), body);
}

static int send_body(struct ims_sess *s, const char *ctype, const char *body);
static int send_sms(struct ims_sess *s, const char *text);

/* one MESSAGE request over UDP stays within this many bytes (RFC 3261 18.1.1 with headroom) */
#define IMS_UDP_MAX_REQ	1300
/* generous bound on the request line and headers of one of our MESSAGEs, apart from the Request-URI etc. */
#define IMS_HDR_SLACK	420

static int send_one(struct ims_sess *s, const char *text)
{
	void *tmp;
	int rc;

	if (s->family != IMS_CPIM)
		return send_body(s, "text/plain;charset=UTF-8", text);
	tmp = talloc_new(s);
	rc = send_body(s, "message/cpim", cpim_wrap(tmp, s, "text/plain;charset=UTF-8", "", text));
	talloc_free(tmp);
	return rc;
}

/* bytes of one request that are not the text: headers (bounded) plus the CPIM wrapper, if any */
static size_t msg_overhead(struct ims_sess *s)
{
	struct uigw_sip *sip = s->sip;
	const char *domain = sip->cfg.domain ? sip->cfg.domain : sip->cfg.local_ip;
	size_t o = IMS_HDR_SLACK + 2 * strlen(s->target) + strlen(s->from_user) + strlen(domain) + strlen(s->tag) +
		   strlen(s->call_id) + strlen(sip->cfg.local_ip);
	void *tmp;

	if (sip->cfg.proxy_host)
		o += strlen(sip->cfg.proxy_host) + 40;
	if (s->family == IMS_CPIM) {
		tmp = talloc_new(s);
		o += strlen(cpim_wrap(tmp, s, "text/plain;charset=UTF-8", "", "")) + 8;
		talloc_free(tmp);
	}
	return o;
}

/*! Length of the longest prefix of text[0..len) not above max bytes that ends on a UTF-8 character boundary */
static size_t utf8_cut(const char *text, size_t len, size_t max)
{
	size_t n;

	if (len <= max)
		return len;
	n = max;
	while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
		n--;
	return n ? n : max;
}


static int send_message(struct ims_sess *s, const char *text)
{
	size_t len, over, room, n, off = 0;
	char *part;
	int rc = 0;

	if (s->family == IMS_SMS)
		return send_sms(s, text);
	len = text ? strlen(text) : 0;
	over = msg_overhead(s);
	/* over TCP (the contact asks for it) a long text goes in one piece */
	if (over + len <= IMS_UDP_MAX_REQ || sip_target_conn(s->sip, s->target))
		return send_one(s, text);
	room = over + 64 < IMS_UDP_MAX_REQ ? IMS_UDP_MAX_REQ - over : 64;
	LOGP(DSIP, LOGL_INFO, "text of %zu bytes to %s split into MESSAGEs of <= %zu bytes\n", len, s->target, room);
	while (off < len && rc == 0) {
		n = utf8_cut(text + off, len - off, room);
		part = talloc_strndup(s, text + off, n);
		rc = part ? send_one(s, part) : -ENOMEM;
		talloc_free(part);
		off += n;
	}
	return rc;
}

/* IMDN delivery notification (RFC 5438 7.2.1.1) for the subscriber's message */
static int send_imdn(struct ims_sess *s, const char *message_id)
{
	void *tmp = talloc_new(s);
	char *xml, *now = now_iso(tmp);
	int rc;

	xml = talloc_asprintf(tmp, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
			      "<imdn xmlns=\"urn:ietf:params:xml:ns:imdn\">\r\n<message-id>%s</message-id>\r\n"
			      "<datetime>%s</datetime>\r\n<delivery-notification><status><delivered/></status>"
			      "</delivery-notification>\r\n</imdn>\r\n", message_id, now);
	rc = send_body(s, "message/cpim", cpim_wrap(tmp, s, "message/imdn+xml",
						    "Content-Disposition: notification\r\n", xml));
	talloc_free(tmp);
	return rc;
}

static int send_body_len(struct ims_sess *s, const char *ctype, const char *body, size_t len, const char *extra)
{
	struct uigw_sip *sip = s->sip;
	void *tmp;
	const char *domain = sip->cfg.domain ? sip->cfg.domain : sip->cfg.local_ip;
	char *req;
	size_t hl;
	int rc;

	struct sip_conn *conn;

	if (!body)
		return -ENOMEM;
	conn = sip_target_conn(sip, s->target);
	if (!strncasecmp(s->target, "tel:", 4) && !sip->cfg.proxy_host) {
		LOGP(DSIP, LOGL_ERROR, "cannot reach %s without an outbound proxy\n", s->target);
		return -EHOSTUNREACH;
	}
	tmp = talloc_new(sip);
	req = talloc_asprintf(tmp, "MESSAGE %s SIP/2.0\r\n"
			      "Via: %s\r\n"
			      "Max-Forwards: 70\r\n"
			      "%s"
			      "From: <sip:%s@%s>;tag=%s\r\n"
			      "To: <%s>\r\n"
			      "Call-ID: %s@%s\r\n"
			      "CSeq: %u MESSAGE\r\n"
			      "%s"
			      "Content-Type: %s\r\n"
			      "Content-Length: %zu\r\n\r\n",
			      s->target, sip_via(tmp, sip, conn != NULL), sip_proxy_route(tmp, sip), s->from_user, domain,
			      s->tag, s->target, s->call_id, sip->cfg.local_ip, ++s->cseq, extra ? extra : "", ctype, len);
	if (req) {
		hl = strlen(req);
		req = talloc_realloc(tmp, req, char, hl + len + 1);
	}
	if (req) {
		memcpy(req + hl, body, len);
		req[hl + len] = '\0';
		rc = sip_send_request_len(sip, req, hl + len, conn, msg_resp_cb, sip, NULL);
	} else {
		rc = -ENOMEM;
	}
	talloc_free(tmp);
	if (rc == 0)
		sip_ctr_inc(sip, SIP_CTR_MSG_OUT);
	else
		sip_ctr_inc(sip, SIP_CTR_MSG_OUT_FAIL);
	return rc;
}

static int send_body(struct ims_sess *s, const char *ctype, const char *text)
{
	return send_body_len(s, ctype, text, text ? strlen(text) : 0, NULL);
}

/* SMS over IP towards the UE: every RP message is a MESSAGE to the UE's contact, never forked */
#define SMS_MT_HDRS "Accept-Contact: *;+g.3gpp.smsip;require;explicit\r\nRequest-Disposition: no-fork\r\n"

static int send_rp_ack(struct ims_sess *s, uint8_t ref)
{
	uint8_t ack[2];

	uigw_sms_rp_ack(ack, sizeof(ack), ref);
	return send_body_len(s, SMS_CT, (const char *)ack, sizeof(ack), SMS_MT_HDRS);
}

static int send_sms(struct ims_sess *s, const char *text)
{
	struct uigw_sms_pdu pdus[8];
	int n, i, rc = 0;

	n = uigw_sms_deliver(s->sc[0] ? s->sc : "+0", s->from_user, text, s->rp_ref, s->concat_ref, pdus,
			     ARRAY_SIZE(pdus));
	if (n < 0) {
		LOGP(DSIP, LOGL_ERROR, "cannot encode an SMS-DELIVER (%d)\n", n);
		return n;
	}
	s->rp_ref += n;
	s->concat_ref++;
	for (i = 0; i < n && rc == 0; i++)
		rc = send_body_len(s, SMS_CT, (const char *)pdus[i].data, pdus[i].len, SMS_MT_HDRS);
	return rc;
}

static int ims_send(struct uigw_dialog *dlg, const struct uigw_render_out *screen, bool end)
{
	struct ims_sess *s = dlg->chan_priv;
	int rc;

	if (!s)
		return -ENODEV;
	s->dlg = dlg;
	if (dlg->network_initiated && dlg->refusal != UIGW_REFUSAL_NONE && !s->cseq) {
		/* a refused push: nothing goes to the subscriber */
		sess_end(s);
		return 0;
	}
	rc = send_message(s, screen->text);
	if (end || rc < 0)
		sess_end(s);
	return rc;
}

static void ims_release(struct uigw_dialog *dlg, enum uigw_outcome outcome)
{
	struct ims_sess *s = dlg->chan_priv;

	/* page mode: nothing to tear down towards the subscriber */
	if (s)
		sess_end(s);
}

/* a pushed dialog: a page-mode session towards the trigger's `to` or sip:MSISDN@domain; the first MESSAGE
 * goes out when the core delivers the first screen */
static int ims_push(struct uigw_chan *ch, struct uigw_dialog *dlg, const struct uigw_trigger *t)
{
	struct uigw_sip *sip = ch->priv;
	struct ims_sess *s;
	char buf[256];

	s = sess_alloc(sip, sip_push_target(sip, dlg->msisdn, t->to, buf, sizeof(buf)), "uigw");
	if (!s)
		return -ENOMEM;
	s->dlg = dlg;
	dlg->chan_priv = s;
	return 0;
}

/* ims-msg opens and closes the listeners both SIP channels share */
static const struct uigw_chan_ops ims_ops = {
	.channel = UIGW_CHAN_IMS_MSG,
	.profile = &uigw_profile_ims,
	.open = sip_chan_open,
	.close = sip_chan_close,
	.reach = sip_chan_reach,
	.push = ims_push,
	.deliver = ims_send,
	.end = ims_release,
	.show = sip_chan_show,
};

int ims_msg_init(struct uigw_sip *sip)
{
	sip->chan_msg = uigw_chan_register(sip->gw, &ims_ops, sip);
	if (!sip->chan_msg)
		return -ENOMEM;
	sip->chan_msg->ctrs = sip->ctrs;
	return 0;
}

void ims_msg_shutdown(struct uigw_sip *sip)
{
	struct ims_sess *s, *t;

	llist_for_each_entry_safe(s, t, &sip->msg_sessions, list) {
		if (s->dlg)
			s->dlg->chan_priv = NULL;
		sess_free(s);
	}
}

/* NUL-free copy without trailing line breaks */
static char *clean_text(void *ctx, const char *buf, size_t len)
{
	char *t = talloc_size(ctx, len + 1);
	size_t i, o;

	if (!t)
		return NULL;
	for (i = o = 0; i < len; i++)
		if (buf[i])
			t[o++] = buf[i];
	t[o] = '\0';
	while (o && (t[o - 1] == '\n' || t[o - 1] == '\r'))
		t[--o] = '\0';
	return t;
}

/* What the subscriber wrote, and in which family. \returns the text, or NULL with *code the response to give
 * (202 with no text: a notification, nothing to feed) */
static char *get_input(void *ctx, const osip_message_t *req, int *code, enum ims_family *fam, struct uigw_cpim *cpim,
		       struct uigw_sms_rp *rp, char *da, size_t da_len, struct uigw_sip *sip, const char *msisdn,
		       bool *part)
{
	const char *buf;
	size_t len;

	memset(cpim, 0, sizeof(*cpim));
	memset(rp, 0, sizeof(*rp));
	if (uigw_sip_body(req, SMS_CT, &buf, &len) == 0) {
		char text[IMS_MAX_TEXT];
		*fam = IMS_SMS;
		if (uigw_sms_rp_parse((const uint8_t *)buf, len, rp) < 0) {
			*code = 400;
			return NULL;
		}
		if (rp->mti != GSM411_MT_RP_DATA_MO) {
			/* RP-ACK / RP-ERROR for one of our SMS-DELIVERs */
			if (rp->mti == GSM411_MT_RP_ERROR_MO)
				LOGP(DSIP, LOGL_NOTICE, "SMS over IP: the UE refused an SMS (RP-ERROR cause %u)\n",
				     rp->cause);
			*code = 202;
			return NULL;
		}
		if (uigw_sms_submit_parse(rp->tpdu, rp->tpdu_len, da, da_len, text, sizeof(text)) < 0) {
			*code = 400;
			return NULL;
		}
		{
			/* one part of a concatenated SMS: kept until the message is whole (src/codec/sms_concat.c) */
			struct uigw_concat_part cp = { .src = msisdn, .dst = da, .kind = 0 };
			uint8_t *whole;
			size_t wlen;
			int rc = uigw_sms_submit_concat(rp->tpdu, rp->tpdu_len, &cp.ref, &cp.total, &cp.seq);

			if (rc > 0) {
				cp.data = (const uint8_t *)text;
				cp.len = strlen(text);
				rc = uigw_concat_add(sip->sms_concat, &cp, time(NULL), ctx, &whole, &wlen);
				if (rc < 0) {
					*code = 400;
					return NULL;
				}
				if (rc == 0) {
					*part = true;	/* acknowledged, nothing to feed yet */
					*code = 202;
					return NULL;
				}
				return clean_text(ctx, (const char *)whole, wlen);
			}
		}
		return clean_text(ctx, text, strlen(text));
	}
	if (uigw_sip_body(req, "text/plain", &buf, &len) == 0) {
		*fam = IMS_TEXT;
	} else if (uigw_sip_body(req, "message/cpim", &buf, &len) == 0) {
		*fam = IMS_CPIM;
		if (len > IMS_MAX_TEXT || uigw_sip_cpim_parse(buf, len, cpim) < 0) {
			*code = 400;
			return NULL;
		}
		if (!strncasecmp(cpim->content_type, "message/imdn+xml", 16)) {
			/* the UE's own delivery / display notification */
			*code = 202;
			return NULL;
		}
		if (strncasecmp(cpim->content_type, "text/plain", 10)) {
			*code = 415;
			return NULL;
		}
		buf = cpim->body;
		len = cpim->body_len;
	} else {
		*code = 415;
		return NULL;
	}
	if (len > IMS_MAX_TEXT) {
		*code = 413;
		return NULL;
	}
	*code = 500;
	return clean_text(ctx, buf, len);
}

/* ---- opt-out and opt-in keywords over MESSAGE (node uigw, core/optout.h) ---- */

struct msg_optout {
	struct uigw_sip *sip;
	bool out;
	char *reply;			/*!< the confirmation, in the language of the keyword */
	enum ims_family family;
	char *target, *from_user;
	char sc[24];
};

/* the OPTOUT row is committed: confirm in a page-mode MESSAGE of its own, in the family the subscriber wrote in */
static void msg_optout_done(struct uigw_store_job *job, void *data)
{
	struct msg_optout *o = data;
	const char *t = o->reply;
	struct ims_sess *s;

	if (job->rc < 0) {
		LOGP(DSIP, LOGL_ERROR, "opt-%s of %s not recorded (%d): no confirmation\n", o->out ? "out" : "in",
		     o->target, job->rc);
	} else if (!o->sip->chan_msg || !o->sip->chan_msg->open) {
		/* committed while the gateway shuts down: the opt-out holds, the confirmation is not sent */
		LOGP(DSIP, LOGL_NOTICE, "opt-%s of %s recorded, channel closed: no confirmation\n",
		     o->out ? "out" : "in", o->target);
	} else if (t && t[0] && (s = sess_alloc(o->sip, o->target, o->from_user))) {
		s->family = o->family;
		osmo_strlcpy(s->sc, o->sc, sizeof(s->sc));
		if (send_message(s, t) < 0)
			LOGP(DSIP, LOGL_ERROR, "opt-%s confirmation to %s not sent\n", o->out ? "out" : "in", o->target);
		sess_free(s);
	}
	talloc_free(job);
}

/* STOP & co (out) or START & co (back in), whole message: the subscriber's MESSAGE dialog ends, the OPTOUT row is
 * written, the confirmation goes out once it is committed */
static void msg_optout(struct uigw_sip *sip, const char *msisdn, const char *uri, const char *user,
		       enum ims_family fam, const struct uigw_cpim *cpim, const struct uigw_sms_rp *rp, bool out,
		       const char *reply)
{
	struct uigw_dialog *dlg = uigw_dialog_find(sip->gw, msisdn, UIGW_CHAN_IMS_MSG);
	struct ims_sess *s = dlg ? dlg->chan_priv : NULL;
	struct uigw_store_job *job;
	struct msg_optout *o;

	if (dlg) {
		if (s) {
			dlg->chan_priv = NULL;
			s->dlg = NULL;
		}
		uigw_dialog_abort(dlg, UIGW_OUTCOME_ABANDONED);
	}
	if (!s) {
		s = sess_alloc(sip, uri, user);
		if (!s)
			return;
	}
	s->family = fam;
	if (cpim->want_delivery && cpim->message_id[0])
		send_imdn(s, cpim->message_id);
	if (fam == IMS_SMS) {
		osmo_strlcpy(s->sc, rp->sc, sizeof(s->sc));
		send_rp_ack(s, rp->ref);
	}
	o = talloc_zero(sip, struct msg_optout);
	if (o) {
		o->sip = sip;
		o->out = out;
		o->reply = reply ? talloc_strdup(o, reply) : NULL;
		o->family = fam;
		o->target = talloc_strdup(o, uri);
		o->from_user = talloc_strdup(o, s->from_user);
		osmo_strlcpy(o->sc, s->sc, sizeof(o->sc));
	}
	sess_free(s);
	if (!o || !o->target || !o->from_user) {
		talloc_free(o);
		return;
	}
	job = uigw_optout_submit(sip->gw, msisdn, out, UIGW_CHAN_IMS_MSG, msg_optout_done, o);
	if (!job) {
		LOGP(DSIP, LOGL_ERROR, "opt-%s over MESSAGE not recorded\n", out ? "out" : "in");
		talloc_free(o);
		return;
	}
	/* freed with the job, after its completion */
	talloc_steal(job, o);
}

void ims_msg_rx(struct uigw_sip *sip, struct sip_tx *tx, osip_message_t *req)
{
	struct uigw *gw = sip->gw;
	char msisdn[UIGW_MSISDN_MAXLEN], uri[256], user[64];
	struct uigw_dialog *dlg;
	struct ims_sess *s;
	bool from_ok;
	char *text;
	int code = 0;
	enum ims_family fam = IMS_TEXT;
	struct uigw_cpim cpim;
	struct uigw_sms_rp rp;
	char da[24] = "";
	bool part = false;
	const char *reply = NULL;
	bool admitted;
	int kw;

	sip_trusted(sip, tx, &from_ok);
	if (uigw_sip_identity(req, from_ok, gw->cfg.country_code, gw->cfg.national_prefix, msisdn, sizeof(msisdn),
			      uri, sizeof(uri)) < 0) {
		sip_ctr_inc(sip, SIP_CTR_NO_IDENTITY);
		LOGP(DSIP, LOGL_NOTICE, "MESSAGE without a usable asserted identity refused\n");
		sip_reply(sip, tx, req, 403);
		return;
	}
	sip_seen_now(sip, msisdn);
	/* nothing new while the gateway refuses new dialogs: an explicit refusal the UE and the S-CSCF understand,
	 * before any work on the body (the dialogs under way go on) */
	admitted = false;
	if (sip->rx_admitted) {
		admitted = true;	/* asked by the reader's fast path (sip_udp.c, sip_tcp.c) */
		sip->rx_admitted = false;
	} else if (!sip->cfg.overload_screen && !uigw_dialog_find(gw, msisdn, UIGW_CHAN_IMS_MSG)) {
		if (uigw_admit_waited(gw, sip->rx_waited_ms) != UIGW_REFUSAL_NONE) {
			sip_ctr_inc(sip, SIP_CTR_MSG_503);
			/* not kept for retransmissions: a retransmission is refused again (or admitted), and the
			 * refusals of a burst take no memory */
			tx->stateless = true;
			sip_reply_busy(sip, tx, req, gw->overload.cfg.retry_after_s);
			return;
		}
		admitted = true;
	}
	if (uigw_sip_ruri_user(req, user, sizeof(user)) < 0) {
		sip_reply(sip, tx, req, 404);
		return;
	}
	text = get_input(sip, req, &code, &fam, &cpim, &rp, da, sizeof(da), sip, msisdn, &part);
	if (!text) {
		sip_reply(sip, tx, req, code);
		if (part) {
			/* a part of a concatenated SMS: RP-ACK now, through the subscriber's session or a passing one */
			dlg = uigw_dialog_find(gw, msisdn, UIGW_CHAN_IMS_MSG);
			s = dlg && dlg->chan_priv ? dlg->chan_priv : sess_alloc(sip, uri, "uigw");
			if (s) {
				if (!s->sc[0])
					osmo_strlcpy(s->sc, rp.sc, sizeof(s->sc));
				send_rp_ack(s, rp.ref);
				if (!(dlg && dlg->chan_priv))
					sess_free(s);
			}
		}
		return;
	}
	sip_reply(sip, tx, req, 202);
	sip_ctr_inc(sip, SIP_CTR_MSG_IN);
	kw = uigw_optout_keyword_reply(gw, text, &reply);
	if (kw) {
		/* SMS over IP: the short code is the TP-DA */
		if (fam == IMS_SMS)
			osmo_strlcpy(user, da[0] == '+' ? da + 1 : da, sizeof(user));
		msg_optout(sip, msisdn, uri, user, fam, &cpim, &rp, kw > 0, reply);
		talloc_free(text);
		return;
	}

	dlg = uigw_dialog_find(gw, msisdn, UIGW_CHAN_IMS_MSG);
	if (dlg && dlg->chan_priv) {
		s = dlg->chan_priv;
		osmo_talloc_replace_string(s, &s->target, uri);
		s->family = fam;
		if (cpim.want_delivery && cpim.message_id[0])
			send_imdn(s, cpim.message_id);
		if (fam == IMS_SMS) {
			osmo_strlcpy(s->sc, rp.sc, sizeof(s->sc));
			send_rp_ack(s, rp.ref);
		}
		if (uigw_dialog_input(dlg, text) < 0)
			LOGP(DSIP, LOGL_NOTICE, "input while the previous one is still being answered: dropped\n");
		talloc_free(text);
		return;
	}
	/* SMS over IP: the Request-URI is the service centre; the short code is the TP-DA */
	if (fam == IMS_SMS)
		osmo_strlcpy(user, da[0] == '+' ? da + 1 : da, sizeof(user));
	s = sess_alloc(sip, uri, user);
	if (!s) {
		talloc_free(text);
		return;
	}
	s->family = fam;
	if (cpim.want_delivery && cpim.message_id[0])
		send_imdn(s, cpim.message_id);
	if (fam == IMS_SMS) {
		osmo_strlcpy(s->sc, rp.sc, sizeof(s->sc));
		send_rp_ack(s, rp.ref);
	}
	{
		struct uigw_begin b = {
			.channel = UIGW_CHAN_IMS_MSG,
			.msisdn = msisdn,
			.text = text,
			.short_code = user,
			.roaming = sip_roaming(req),
			.visited = sip_visited_network(req),
			.profile = fam == IMS_SMS ? &uigw_profile_sms : NULL,
			.chan_priv = s,
			.admitted = admitted,
		};
		s->in_core_call = true;
		dlg = uigw_dialog_begin(gw, &b);
		s->in_core_call = false;
		if (!dlg || s->ended)
			sess_free(s);
		else
			s->dlg = dlg;
	}
	talloc_free(text);
}

