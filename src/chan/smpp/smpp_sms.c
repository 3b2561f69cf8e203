/*! \file smpp_sms.c
 *  Channel `smpp-sms`: a deliver_sm to a short code is the input of the subscriber's running smpp-sms dialog,
 *  else the start of one (short code + keyword). Concatenated MO messages (UDH or SAR) are reassembled first.
 *  Replies go out as submit_sm from the short code the subscriber wrote to: GSM 7-bit (data_coding 0, one
 *  septet per octet) or UCS-2 (0x08), long ones in parts with UDH or SAR concatenation, or in one
 *  message_payload, as configured.
 *  Also channel `smpp-ussd` (USSD over SMPP: ussd_service_op + its_session_info, dialects standard and
 *  its-session-end), the SMS opt-out keywords (STOP) and network-initiated pushes on both channels. */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/tdef.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/core/dialog.h>
#include <osmocom/uigw/core/trigger.h>
#include <osmocom/core/fsm.h>
#include <osmocom/uigw/core/campaign.h>
#include <osmocom/uigw/codec/charset.h>
#include <osmocom/uigw/common/number.h>
#include <osmocom/uigw/render/render.h>
#include <osmocom/uigw/store/store.h>
#include <osmocom/uigw/core/pseudonym.h>
#include <osmocom/uigw/core/optout.h>
#include <osmocom/uigw/chan/smpp.h>
#include <osmocom/uigw/codec/sms_concat.h>

#define REASM_MAX	256	/*!< concatenated messages being reassembled at once */
#define REASM_TIMEOUT	120	/*!< seconds to wait for the missing parts */
#define TEXT_MAX	(UIGW_SMPP_MAX_MSG * 16)

/*! Per-dialog state: where the subscriber wrote to. */
struct sms_dlg {
	char short_code[21];
};

struct uigw_smpp_sms {
	struct uigw_smpp *smpp;
	struct uigw_concat *reasm;	/*!< concatenated MO being reassembled */
	uint8_t next_ref;
	unsigned long mo, mt, mt_parts;
	uint8_t next_session;		/*!< USSD its_session_info session number of the next push */
};

/* ---- text <-> octets ---- */

/* user data in a data_coding -> UTF-8 */
static int ud_to_utf8(struct uigw_smpp_link *link, uint8_t dcs, const uint8_t *ud, size_t len, char *out,
		      size_t out_size)
{
	if (dcs == UIGW_SMPP_DC_UCS2 || (dcs & 0xcc) == 0x48)
		return uigw_ucs2_to_utf8(out, out_size, ud, len);
	if (dcs == UIGW_SMPP_DC_LATIN1 || dcs == UIGW_SMPP_DC_IA5 || dcs == UIGW_SMPP_DC_8BIT ||
	    (dcs == UIGW_SMPP_DC_DEFAULT && link && link->alphabet != UIGW_SMPP_ALPHA_GSM7))
		return uigw_latin1_to_utf8(out, out_size, ud, len);
	/* SMSC default = GSM 7-bit, or 0xF0..0xF3 (GSM DCS, 7-bit): one septet per octet */
	return uigw_gsm7_to_utf8(out, out_size, ud, len);
}

/* ---- MO ---- */

static void receipt_row(struct uigw_smpp *smpp, enum uigw_row_kind kind, const char *message_id, const char *state,
			const char *msisdn, enum uigw_channel ch, uint64_t dialog);

static void store_job_free(struct uigw_store_job *job, void *data)
{
	if (job->rc < 0)
		LOGP(DSMPP, LOGL_ERROR, "SMPP store row not written (%d)\n", job->rc);
	talloc_free(job);
}

/* The message id and state of a receipt: the receipted_message_id TLV, else "id:" of the SMPP 3.4 Appendix B
 * text; the state from "stat:" (DELIVRD, EXPIRED, DELETED, UNDELIV, ACCEPTD, UNKNOWN, REJECTD). */
static void receipt_parse(const struct uigw_smpp_pdu *pdu, char *id, size_t id_len, char *state, size_t state_len)
{
	char text[256];
	const char *p;
	size_t n = OSMO_MIN((size_t)pdu->msg_len, sizeof(text) - 1), i;

	memcpy(text, pdu->msg, n);
	text[n] = '\0';
	if (pdu->receipted_msg_id[0]) {
		osmo_strlcpy(id, pdu->receipted_msg_id, id_len);
	} else if ((p = strstr(text, "id:"))) {
		for (p += 3, i = 0; *p && *p != ' ' && i + 1 < id_len; p++)
			id[i++] = *p;
		id[i] = '\0';
	}
	if ((p = strstr(text, "stat:"))) {
		for (p += 5, i = 0; *p && *p != ' ' && i + 1 < state_len; p++)
			state[i++] = *p;
		state[i] = '\0';
	}
}

static int sub_msisdn(struct uigw *gw, const struct uigw_smpp_pdu *pdu, char *out, size_t out_len)
{
	char tmp[24];

	if (pdu->src_ton == 1 && pdu->src_addr[0] != '+') {
		snprintf(tmp, sizeof(tmp), "+%s", pdu->src_addr);
		return uigw_e164_normalize(tmp, gw->cfg.country_code, gw->cfg.national_prefix, out, out_len);
	}
	return uigw_e164_normalize(pdu->src_addr, gw->cfg.country_code, gw->cfg.national_prefix, out, out_len);
}

/* ---- opt-out and opt-in keywords (node uigw, core/optout.h) ---- */

struct optout_ctx {
	struct uigw_smpp *smpp;
	bool out;
	char *reply;			/*!< the confirmation, in the language of the keyword */
	char msisdn[UIGW_MSISDN_MAXLEN];
	char src[21];
};

static int sms_submit_text(struct uigw_smpp *smpp, const char *src, const char *msisdn, const char *text, bool ucs2,
			   const struct uigw_profile *p, const struct uigw_smpp_mt *mt);

/* Roaming, where the SMSC tells the sender's location in the configured vendor TLV: a location none of the home
 * prefixes begins (or, without them, any). \returns the location (in buf) then, else NULL */
static const char *roaming_location(const struct uigw_smpp *smpp, const struct uigw_smpp_pdu *pdu, char *buf,
				    size_t len)
{
	unsigned int i, n;

	if (!smpp->roaming_tlv)
		return NULL;
	for (i = 0; i < pdu->n_vendor; i++) {
		if (pdu->vendor[i].tag == smpp->roaming_tlv)
			break;
	}
	if (i == pdu->n_vendor)
		return NULL;
	/* printable up to a NUL (a C-octet string, or digits as octets) */
	for (n = 0; n < pdu->vendor[i].len && n + 1 < len; n++) {
		uint8_t c = pdu->vendor[i].v[n];

		if (!c)
			break;
		if (c < 0x20 || c > 0x7e)
			return NULL;
		buf[n] = c;
	}
	buf[n] = '\0';
	if (!n)
		return NULL;
	return uigw_prefix_list_match(smpp->roaming_home, buf) ? NULL : buf;
}
static unsigned int mt_ttl(struct uigw_smpp *smpp, int T);

/* the OPTOUT row is committed: now confirm (a push right after an opt-out's confirmation is refused) */
static void optout_done(struct uigw_store_job *job, void *data)
{
	struct optout_ctx *o = data;
	struct uigw_smpp *smpp = o->smpp;
	const char *t = o->reply;

	if (job->rc < 0) {
		LOGP(DSMPP, LOGL_ERROR, "opt-%s of %s not recorded (%d): no confirmation\n", o->out ? "out" : "in",
		     o->msisdn, job->rc);
	} else if (t && t[0]) {
		struct uigw_smpp_mt mt = {
			.channel = UIGW_CHAN_SMPP_SMS,
			.last = true,
			.restart = true,
			.ttl_s = mt_ttl(smpp, SMPP_T_MT_VALIDITY),
		};

		if (o->out)
			smpp->optouts++;
		else
			smpp->optins++;
		if (sms_submit_text(smpp, o->src, o->msisdn, t, uigw_gsm7_count(t, strlen(t)) < 0,
				    &uigw_profile_sms, &mt) < 0)
			LOGP(DSMPP, LOGL_ERROR, "opt-%s confirmation to %s not sent\n", o->out ? "out" : "in",
			     o->msisdn);
	}
	talloc_free(job);
}

/* STOP & co (out) or START & co (back in): end the subscriber's smpp-sms dialog, write the OPTOUT row (one list
 * for every channel, core/optout.h), confirm once it is committed */
static uint32_t sms_optout(struct uigw_smpp *smpp, const char *msisdn, const char *short_code, bool out,
			   const char *reply)
{
	struct uigw *gw = smpp->gw;
	struct uigw_store_job *job;
	struct uigw_dialog *dlg;
	struct optout_ctx *o;

	dlg = uigw_dialog_find(gw, msisdn, UIGW_CHAN_SMPP_SMS);
	if (dlg) {
		talloc_free(dlg->chan_priv);
		dlg->chan_priv = NULL;
		uigw_smpp_mt_drop_dialog(smpp, dlg->id);
		uigw_dialog_abort(dlg, UIGW_OUTCOME_ABANDONED);
	}
	o = talloc_zero(smpp, struct optout_ctx);
	if (!o)
		return UIGW_SMPP_RX_T_APPN;
	o->smpp = smpp;
	o->out = out;
	o->reply = reply ? talloc_strdup(o, reply) : NULL;
	osmo_strlcpy(o->msisdn, msisdn, sizeof(o->msisdn));
	osmo_strlcpy(o->src, short_code && short_code[0] ? short_code : smpp->sms_source, sizeof(o->src));
	job = uigw_optout_submit(gw, msisdn, out, UIGW_CHAN_SMPP_SMS, optout_done, o);
	if (!job) {
		talloc_free(o);
		return UIGW_SMPP_RX_T_APPN;
	}
	talloc_steal(job, o);
	return UIGW_SMPP_ROK;
}

uint32_t uigw_smpp_sms_rx(struct uigw_smpp *smpp, struct uigw_smpp_link *link, const struct uigw_smpp_pdu *pdu)
{
	struct uigw_smpp_sms *sms = smpp->sms;
	struct uigw *gw = smpp->gw;
	char msisdn[UIGW_MSISDN_MAXLEN];
	void *tmp = talloc_new(sms);
	const uint8_t *ud = pdu->msg;
	uint8_t *whole = NULL;
	size_t ud_len = pdu->msg_len;
	struct uigw_dialog *dlg;
	char *text;
	const char *reply = NULL;
	int rc, kw;
	uint32_t status = UIGW_SMPP_ROK;

	if (pdu->esm_class & UIGW_SMPP_ESM_TYPE_MASK) {
		/* a delivery receipt (or an SME/user acknowledgement): recorded on its message */
		char id[65] = "", state[16] = "";

		smpp->dlr_rx++;
		receipt_parse(pdu, id, sizeof(id), state, sizeof(state));
		LOGP(DSMPP, LOGL_INFO, "receipt for message '%s' from %s: %s\n", id, pdu->src_addr,
		     state[0] ? state : "(no state)");
		if (id[0])
			receipt_row(smpp, UIGW_ROW_MT_RECEIPT, id, state[0] ? state : "UNKNOWN", NULL,
				    UIGW_CHAN_SMPP_SMS, 0);
		goto out;
	}
	if (sub_msisdn(gw, pdu, msisdn, sizeof(msisdn)) < 0) {
		LOGP(DSMPP, LOGL_NOTICE, "deliver_sm from '%s': not an E.164 number\n", pdu->src_addr);
		status = 0x0a;	/* ESME_RINVSRCADR */
		goto out;
	}
	if (pdu->concat && pdu->concat_total > 1) {
		struct uigw_concat_part part = {
			.src = pdu->src_addr,
			.dst = pdu->dst_addr,
			.ref = pdu->concat_ref,
			.total = pdu->concat_total,
			.seq = pdu->concat_seq,
			.kind = pdu->concat_udh ? 0 : 1,
			.data = pdu->msg,
			.len = pdu->msg_len,
		};

		rc = uigw_concat_add(sms->reasm, &part, time(NULL), tmp, &whole, &ud_len);
		if (rc <= 0) {
			/* a part is taken over (deliver_sm_resp OK) once it is kept; only a refused one is an error */
			if (rc < 0)
				status = rc == -ENOMEM ? UIGW_SMPP_RX_T_APPN : UIGW_SMPP_RX_R_APPN;
			goto out;
		}
		ud = whole;
	}
	sms->mo++;
	text = talloc_size(tmp, ud_len * 4 + 1);
	if (!text || ud_to_utf8(link, pdu->data_coding, ud, ud_len, text, ud_len * 4 + 1) < 0) {
		status = UIGW_SMPP_RX_T_APPN;
		goto out;
	}
	kw = uigw_optout_keyword_reply(gw, text, &reply);
	if (kw) {
		status = sms_optout(smpp, msisdn, pdu->dst_addr, kw > 0, reply);
		goto out;
	}
	dlg = uigw_dialog_find(gw, msisdn, UIGW_CHAN_SMPP_SMS);
	if (dlg) {
		if (uigw_dialog_input(dlg, text) < 0)
			LOGP(DSMPP, LOGL_NOTICE, "input while the dialog is still answering: dropped\n");
	} else if (!smpp->overload_screen && uigw_admit_waited(gw, link->wait_ms) != UIGW_REFUSAL_NONE) {
		/* nothing new now: the SMSC keeps the message and delivers it again later (SMPP 3.4 5.1.3); also when
		 * the link's queue delay is past max-wait (this message waited that long, or its reply would) */
		smpp->mo_throttled++;
		status = 0x58;	/* ESME_RTHROTTLED */
	} else {
		struct sms_dlg *sd = talloc_zero(sms, struct sms_dlg);
		char where[65];
		struct uigw_begin b = {
			.channel = UIGW_CHAN_SMPP_SMS,
			.msisdn = msisdn,
			.text = text,
			.short_code = pdu->dst_addr,
			.chan_priv = sd,
			.visited = roaming_location(smpp, pdu, where, sizeof(where)),
			.admitted = !smpp->overload_screen,	/* asked above */
		};

		b.roaming = b.visited != NULL;
		if (!sd) {
			status = UIGW_SMPP_RX_T_APPN;
			goto out;
		}
		osmo_strlcpy(sd->short_code, pdu->dst_addr, sizeof(sd->short_code));
		/* the adapter state is freed by send(end) / release / abort below */
		if (!uigw_dialog_begin(gw, &b)) {
			/* refused or done at once: send(end) already freed it */
		}
	}
out:
	talloc_free(tmp);
	return status;
}

/* ---- MT ---- */

/* a receipt row: the SMSC accepted an MT with a receipt requested (state ENROUTE), or its receipt came */
static void receipt_row(struct uigw_smpp *smpp, enum uigw_row_kind kind, const char *message_id, const char *state,
			const char *msisdn, enum uigw_channel ch, uint64_t dialog)
{
	struct uigw *gw = smpp->gw;
	struct uigw_store_job *job;
	struct uigw_store_row *r;
	char pseudo[33];

	if (!gw->store || !message_id || !message_id[0])
		return;
	job = uigw_store_job_alloc(gw->store, store_job_free, NULL);
	r = job ? uigw_store_job_row(job, kind) : NULL;
	if (!r)
		goto fail;
	r->time_ms = uigw_wall_ms();
	r->channel = uigw_channel_name(ch);
	r->dialog = dialog;
	if (msisdn) {
		char e164[UIGW_MSISDN_MAXLEN];

		snprintf(e164, sizeof(e164), "%s%s", msisdn[0] == '+' ? "" : "+", msisdn);
		uigw_pseudonym(gw->pseudonym_key, e164, pseudo);
		r->subscriber = talloc_strdup(job, pseudo);
	}
	r->u.receipt.message_id = talloc_strdup(job, message_id);
	r->u.receipt.state = talloc_strdup(job, state);
	if (!r->u.receipt.message_id || !r->u.receipt.state || uigw_store_submit(job) < 0)
		goto fail;
	return;
fail:
	LOGP(DSMPP, LOGL_ERROR, "receipt of message '%s' not recorded\n", message_id);
	talloc_free(job);
}

static void mt_done(struct uigw_smpp_req *req, uint32_t status, const char *message_id)
{
	struct uigw_smpp *smpp = req->priv;

	if (status) {
		LOGP(DSMPP, LOGL_ERROR, "reply to %s not accepted by the SMSC (0x%x)\n", req->pdu.dst_addr, status);
		return;
	}
	LOGP(DSMPP, LOGL_DEBUG, "reply to %s accepted as '%s'\n", req->pdu.dst_addr, message_id);
	if (smpp && req->pdu.registered_delivery & 1)
		receipt_row(smpp, UIGW_ROW_MT_SUBMITTED, message_id, "ENROUTE", req->pdu.dst_addr,
			    strcmp(req->pdu.service_type, "USSD") ? UIGW_CHAN_SMPP_SMS : UIGW_CHAN_SMPP_USSD,
			    req->dialog);
}

/* cut points of a text into parts of at most \a per units (GSM septets or UCS-2 octets pairs) */
static unsigned int split(const uint8_t *ud, size_t len, bool ucs2, unsigned int per, size_t *cuts,
			  unsigned int max_cuts)
{
	unsigned int n = 0;
	size_t pos = 0, unit = ucs2 ? 2 : 1;

	while (pos < len && n < max_cuts) {
		size_t end = pos + per * unit;

		if (end >= len) {
			end = len;
		} else if (!ucs2 && ud[end - 1] == 0x1b) {
			end--;	/* never split an escape from its code */
		} else if (ucs2 && (ud[end - 2] & 0xfc) == 0xd8) {
			end -= 2;	/* never split a surrogate pair */
		}
		cuts[n++] = end;
		pos = end;
	}
	return n;
}

/* seconds of a timer of the smpp adapter (SMPP_T_MT_VALIDITY) or of the core (a dialog's answer timer) */
static unsigned int mt_ttl(struct uigw_smpp *smpp, int T)
{
	struct osmo_tdef *tdefs = T == SMPP_T_MT_VALIDITY ? smpp->tdefs : smpp->gw->tdefs;

	return osmo_tdef_get(tdefs, T, OSMO_TDEF_S, 3600);
}

/* submit a text from \a src to \a msisdn, in parts as needed, kept in the MT queue as \a mt says */
static int sms_submit_text(struct uigw_smpp *smpp, const char *src, const char *msisdn, const char *text, bool ucs2,
			   const struct uigw_profile *p, const struct uigw_smpp_mt *mt)
{
	struct uigw_smpp_req *req;
	struct uigw_smpp_sms *sms = smpp->sms;
	struct uigw_smpp_pdu pdu;
	uint8_t ud[TEXT_MAX];
	size_t cuts[255];
	unsigned int n, i, single;
	int len, rc = 0;

	if (ucs2)
		len = uigw_utf8_to_ucs2(ud, TEXT_MAX, text, strlen(text));
	else
		len = uigw_utf8_to_gsm7(ud, TEXT_MAX, text, strlen(text));
	if (len < 0) {
		rc = len;
		goto out;
	}
	uigw_smpp_pdu_init(&pdu, UIGW_SMPP_SUBMIT_SM, 0);
	osmo_strlcpy(pdu.src_addr, src, sizeof(pdu.src_addr));
	pdu.src_ton = 0;	/* unknown: a short code */
	pdu.src_npi = 1;
	osmo_strlcpy(pdu.dst_addr, msisdn[0] == '+' ? msisdn + 1 : msisdn, sizeof(pdu.dst_addr));
	pdu.dst_ton = 1;
	pdu.dst_npi = 1;
	pdu.data_coding = ucs2 ? UIGW_SMPP_DC_UCS2 : UIGW_SMPP_DC_DEFAULT;
	pdu.registered_delivery = smpp->request_dlr ? 1 : 0;

	single = ucs2 ? (p->ucs2_budget ? p->ucs2_budget : 70) * 2 : (p->gsm7_budget ? p->gsm7_budget : 160);
	if ((size_t)len <= single || smpp->long_mode == UIGW_SMPP_LONG_PAYLOAD) {
		if ((size_t)len > UIGW_SMPP_MAX_MSG) {
			rc = -EMSGSIZE;
			goto out;
		}
		memcpy(pdu.msg, ud, len);
		pdu.msg_len = len;
		pdu.payload = (size_t)len > single;
		req = uigw_smpp_submit_mt(smpp, &pdu, mt);
		if (req) {
			req->done = mt_done;
			req->priv = smpp;
		} else
			rc = -ENOMEM;
		sms->mt++;
		sms->mt_parts++;
		goto out;
	}
	n = split(ud, len, ucs2, ucs2 ? (p->ucs2_part ? p->ucs2_part : 67) : (p->gsm7_part ? p->gsm7_part : 153),
		  cuts, ARRAY_SIZE(cuts));
	pdu.concat = true;
	pdu.concat_udh = smpp->long_mode == UIGW_SMPP_LONG_UDH;
	pdu.concat_ref = ++sms->next_ref;
	pdu.concat_total = n;
	for (i = 0; i < n; i++) {
		size_t from = i ? cuts[i - 1] : 0;

		pdu.concat_seq = i + 1;
		pdu.msg_len = cuts[i] - from;
		memcpy(pdu.msg, ud + from, pdu.msg_len);
		req = uigw_smpp_submit_mt(smpp, &pdu, mt);
		if (!req) {
			rc = -ENOMEM;
			break;
		}
		req->done = mt_done;
		sms->mt_parts++;
	}
	sms->mt++;
out:
	return rc;
}

static int sms_send(struct uigw_dialog *dlg, const struct uigw_render_out *s, bool end)
{
	struct uigw_smpp *smpp = uigw_chan_priv(dlg->gw, UIGW_CHAN_SMPP_SMS);
	struct sms_dlg *sd = dlg->chan_priv;
	struct uigw_smpp_mt mt = {
		.channel = UIGW_CHAN_SMPP_SMS,
		.dialog = dlg->id,
		.last = end,
		.restart = end,
		.ttl_s = mt_ttl(smpp, end ? SMPP_T_MT_VALIDITY : UIGW_T_SMS),
	};
	int rc;

	if (end && dlg->refusal && dlg->network_initiated) {
		/* a refused push: nothing goes to the subscriber */
		talloc_free(dlg->chan_priv);
		dlg->chan_priv = NULL;
		return 0;
	}
	rc = sms_submit_text(smpp, sd && sd->short_code[0] ? sd->short_code : smpp->sms_source, dlg->msisdn,
			     s->text, s->coding == UIGW_CODING_UCS2, dlg->profile, &mt);
	if (end) {
		talloc_free(dlg->chan_priv);
		dlg->chan_priv = NULL;
	}
	return rc;
}

static void sms_release(struct uigw_dialog *dlg, enum uigw_outcome outcome)
{
	struct uigw_smpp *smpp = uigw_chan_priv(dlg->gw, dlg->channel);

	/* timeout, operator, replaced by a new dialog, shutdown: its questions still queued are void */
	if (smpp)
		uigw_smpp_mt_drop_dialog(smpp, dlg->id);
	talloc_free(dlg->chan_priv);
	dlg->chan_priv = NULL;
}

/* ---- USSD over SMPP (smpp-ussd) ---- */

/*! Per-dialog USSD state. */
struct ussd_dlg {
	char service[21];	/*!< the service code dialled: source address of the replies */
	uint8_t session;	/*!< its_session_info session number */
	uint8_t seq;		/*!< its_session_info sequence number of the last message */
	enum uigw_smpp_dialect dialect;
};

static enum uigw_smpp_dialect default_dialect(struct uigw_smpp *smpp)
{
	struct uigw_smpp_link *l;

	llist_for_each_entry(l, &smpp->links, list) {
		if (l->enabled)
			return l->dialect;
	}
	return UIGW_SMPP_DIALECT_STD;
}

uint32_t uigw_smpp_ussd_rx(struct uigw_smpp *smpp, struct uigw_smpp_link *link, const struct uigw_smpp_pdu *pdu)
{
	struct uigw_smpp_sms *sms = smpp->sms;
	struct uigw *gw = smpp->gw;
	char msisdn[UIGW_MSISDN_MAXLEN];
	struct uigw_dialog *dlg;
	struct ussd_dlg *ud;
	bool end = pdu->has_its_session && (pdu->its_session_info & 1);
	uint8_t session = pdu->its_session_info >> 8;
	size_t tlen = pdu->msg_len * 4 + 1;
	char *text = talloc_size(sms, tlen);
	uint32_t status = UIGW_SMPP_ROK;

	if (!text)
		return UIGW_SMPP_RX_T_APPN;
	smpp->ussd_mo++;
	if (sub_msisdn(gw, pdu, msisdn, sizeof(msisdn)) < 0) {
		LOGP(DSMPP, LOGL_NOTICE, "USSD from '%s': not an E.164 number\n", pdu->src_addr);
		status = 0x0a;	/* ESME_RINVSRCADR */
		goto out;
	}
	if (ud_to_utf8(link, pdu->data_coding, pdu->msg, pdu->msg_len, text, tlen) < 0) {
		status = UIGW_SMPP_RX_T_APPN;
		goto out;
	}
	dlg = uigw_dialog_find(gw, msisdn, UIGW_CHAN_SMPP_USSD);
	if (pdu->ussd_service_op == UIGW_USSD_OP_PSSR_IND || (pdu->ussd_service_op < 0 && !dlg && !end)) {
		/* a new session: the text is the dial string */
		char where[65];
		struct uigw_begin b = {
			.channel = UIGW_CHAN_SMPP_USSD,
			.msisdn = msisdn,
			.text = text,
			.visited = roaming_location(smpp, pdu, where, sizeof(where)),
		};

		b.roaming = b.visited != NULL;
		ud = talloc_zero(sms, struct ussd_dlg);
		if (!ud) {
			status = UIGW_SMPP_RX_T_APPN;
			goto out;
		}
		osmo_strlcpy(ud->service, pdu->dst_addr, sizeof(ud->service));
		ud->session = pdu->has_its_session ? session : sms->next_session++;
		ud->seq = pdu->has_its_session ? (pdu->its_session_info >> 1) & 0x7f : 0;
		ud->dialect = link ? link->dialect : default_dialect(smpp);
		b.chan_priv = ud;
		uigw_dialog_begin(gw, &b);	/* send(end) frees ud if it ends at once */
		goto out;
	}
	if (!dlg) {
		/* a confirmation or a release of a session that already ended: nothing to do */
		if (end || pdu->ussd_service_op == UIGW_USSD_OP_USSN_CONF)
			goto out;
		LOGP(DSMPP, LOGL_NOTICE, "USSD op %d from %s for no running session: refused\n",
		     pdu->ussd_service_op, pdu->src_addr);
		smpp->ussd_bad++;
		status = 0x66;	/* ESME_RX_R_APPN */
		goto out;
	}
	ud = dlg->chan_priv;
	if (ud && pdu->has_its_session && session != ud->session) {
		LOGP(DSMPP, LOGL_NOTICE, "USSD from %s: session %u, but %u is running: refused\n", pdu->src_addr,
		     session, ud->session);
		smpp->ussd_bad++;
		status = 0x66;
		goto out;
	}
	if (ud && pdu->has_its_session)
		ud->seq = (pdu->its_session_info >> 1) & 0x7f;
	if (end) {
		/* the subscriber (or the network) released the session */
		talloc_free(dlg->chan_priv);
		dlg->chan_priv = NULL;
		uigw_smpp_mt_drop_dialog(smpp, dlg->id);
		uigw_dialog_abort(dlg, UIGW_OUTCOME_ABANDONED);
		goto out;
	}
	if (uigw_dialog_input(dlg, text) < 0)
		LOGP(DSMPP, LOGL_NOTICE, "USSD input while the dialog is still answering: dropped\n");
out:
	talloc_free(text);
	return status;
}

static int ussd_send(struct uigw_dialog *dlg, const struct uigw_render_out *s, bool end)
{
	struct uigw_smpp *smpp = uigw_chan_priv(dlg->gw, UIGW_CHAN_SMPP_USSD);
	struct ussd_dlg *ud = dlg->chan_priv;
	struct uigw_smpp_pdu pdu;
	enum uigw_smpp_dialect dialect;
	bool ucs2 = s->coding == UIGW_CODING_UCS2;
	bool notice = dlg->network_initiated && end;
	/* a USSD session does not outlive the gateway, nor wait longer than the dialog: only a notice (USSN) is
	 * sent after a restart */
	struct uigw_smpp_mt mt = {
		.channel = UIGW_CHAN_SMPP_USSD,
		.dialog = dlg->id,
		.last = end,
		.restart = notice,
		.ttl_s = mt_ttl(smpp, notice ? SMPP_T_MT_VALIDITY : UIGW_T_USSD),
	};
	struct uigw_smpp_req *req;
	int len, rc = 0;

	if (end && dlg->refusal && dlg->network_initiated)
		goto out;	/* a refused push: nothing goes to the subscriber */
	uigw_smpp_pdu_init(&pdu, UIGW_SMPP_SUBMIT_SM, 0);
	if (ucs2)
		len = uigw_utf8_to_ucs2(pdu.msg, sizeof(pdu.msg), s->text, strlen(s->text));
	else
		len = uigw_utf8_to_gsm7(pdu.msg, sizeof(pdu.msg), s->text, strlen(s->text));
	if (len < 0) {
		rc = len;
		goto out;
	}
	pdu.msg_len = len;
	osmo_strlcpy(pdu.service_type, "USSD", sizeof(pdu.service_type));
	osmo_strlcpy(pdu.src_addr, ud && ud->service[0] ? ud->service : smpp->sms_source, sizeof(pdu.src_addr));
	pdu.src_ton = 0;
	pdu.src_npi = 1;
	osmo_strlcpy(pdu.dst_addr, dlg->msisdn[0] == '+' ? dlg->msisdn + 1 : dlg->msisdn, sizeof(pdu.dst_addr));
	pdu.dst_ton = 1;
	pdu.dst_npi = 1;
	pdu.data_coding = ucs2 ? UIGW_SMPP_DC_UCS2 : UIGW_SMPP_DC_DEFAULT;
	dialect = ud ? ud->dialect : default_dialect(smpp);
	if (dlg->network_initiated && end)
		pdu.ussd_service_op = UIGW_USSD_OP_USSN_REQ;	/* a notice */
	else if (dialect == UIGW_SMPP_DIALECT_STD && end)
		pdu.ussd_service_op = UIGW_USSD_OP_PSSR_RESP;
	else
		pdu.ussd_service_op = UIGW_USSD_OP_USSR_REQ;
	pdu.has_its_session = true;
	if (ud)
		ud->seq = (ud->seq + 1) & 0x7f;
	pdu.its_session_info = ((ud ? ud->session : 0) << 8) | ((ud ? ud->seq : 0) << 1) | (end ? 1 : 0);
	req = uigw_smpp_submit_mt(smpp, &pdu, &mt);
	if (!req) {
		rc = -ENOMEM;
		goto out;
	}
	req->done = mt_done;
	req->priv = smpp;
	smpp->ussd_mt++;
out:
	if (end) {
		talloc_free(dlg->chan_priv);
		dlg->chan_priv = NULL;
	}
	return rc;
}

/* ---- network-initiated ---- */

/* The protocol state of a pushed dialog; the core delivers its first screen after this returns. */
static int smpp_push(struct uigw_chan *ch, struct uigw_dialog *dlg, const struct uigw_trigger *t)
{
	struct uigw_smpp *smpp = ch->priv;
	struct uigw_smpp_sms *sms = smpp->sms;

	if (ch->ops->channel == UIGW_CHAN_SMPP_SMS) {
		struct sms_dlg *sd = talloc_zero(sms, struct sms_dlg);
		const struct uigw_campaign *c = uigw_campaign_set_find(smpp->gw->campaigns, t->campaign);

		if (!sd)
			return -ENOMEM;
		/* from the campaign's own short code, so that a reply to it reaches the campaign also after the
		 * dialog ended; default-source-address for a campaign without one */
		osmo_strlcpy(sd->short_code, c && c->entry.n_sms && c->entry.sms[0].short_code ?
			     c->entry.sms[0].short_code : smpp->sms_source, sizeof(sd->short_code));
		dlg->chan_priv = sd;
	} else {
		struct ussd_dlg *ud = talloc_zero(sms, struct ussd_dlg);

		if (!ud)
			return -ENOMEM;
		osmo_strlcpy(ud->service, smpp->sms_source, sizeof(ud->service));
		ud->session = sms->next_session++;
		ud->dialect = default_dialect(smpp);
		dlg->chan_priv = ud;
	}
	return 0;
}

/* smpp-sms: a persistent MT queue holds messages while the links are down, so the channel reaches a
 * subscriber as long as it has links; smpp-ussd needs a bound link now (a USSD session does not wait). */
static enum uigw_reach smpp_reach(struct uigw_chan *ch, const char *msisdn)
{
	struct uigw_smpp *smpp = ch->priv;
	struct uigw_smpp_link *l;

	if (!smpp->started || llist_empty(&smpp->links))
		return UIGW_REACH_NO;
	if (ch->ops->channel == UIGW_CHAN_SMPP_SMS)
		return UIGW_REACH_UP;
	llist_for_each_entry(l, &smpp->links, list)
		if (l->fi && l->fi->state == SMPP_ST_BOUND)
			return UIGW_REACH_UP;
	return UIGW_REACH_NO;
}

static int smpp_open(struct uigw_chan *ch)
{
	return uigw_smpp_open(ch->priv);
}

static void smpp_close(struct uigw_chan *ch)
{
	uigw_smpp_close(ch->priv);
}

static void smpp_show(struct uigw_chan *ch, struct vty *vty)
{
	uigw_smpp_vty_show(vty, ch->priv);
}

static const struct uigw_chan_ops ussd_ops = {
	.channel = UIGW_CHAN_SMPP_USSD,
	.profile = &uigw_profile_ussd,
	.reach = smpp_reach,
	.push = smpp_push,
	.deliver = ussd_send,
	.end = sms_release,
	.show = smpp_show,
};

/* smpp-sms opens and closes the links both channels share */
static const struct uigw_chan_ops sms_ops = {
	.channel = UIGW_CHAN_SMPP_SMS,
	.profile = &uigw_profile_sms,
	.open = smpp_open,
	.close = smpp_close,
	.reach = smpp_reach,
	.push = smpp_push,
	.deliver = sms_send,
	.end = sms_release,
	.show = smpp_show,
};

int uigw_smpp_sms_init(struct uigw_smpp *smpp)
{
	smpp->sms = talloc_zero(smpp, struct uigw_smpp_sms);
	if (!smpp->sms)
		return -ENOMEM;
	smpp->sms->smpp = smpp;
	smpp->sms->reasm = uigw_concat_alloc(smpp->sms, REASM_MAX, REASM_TIMEOUT, DSMPP);
	if (!smpp->sms->reasm)
		return -ENOMEM;
	if (!uigw_chan_register(smpp->gw, &sms_ops, smpp) || !uigw_chan_register(smpp->gw, &ussd_ops, smpp))
		return -ENOMEM;
	return 0;
}

void uigw_smpp_sms_fini(struct uigw_smpp *smpp)
{
	if (!smpp->sms)
		return;
	TALLOC_FREE(smpp->sms->reasm);
}
