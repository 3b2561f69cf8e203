/*! \file tcap.c
 *  TCAP messages (ITU-T Q.773) on the BER codec: see tcap.h. The decoder is strict about the transaction
 *  portion (order, presence and size of the transaction ids), because that decides which P-Abort a receiver
 *  owes (Q.774 §3.2.1.2); inside the dialogue portion it accepts the elements in any order. */

#include <errno.h>
#include <string.h>
#include <osmocom/uigw/codec/ber.h>
#include <osmocom/uigw/codec/tcap.h>

#define TAG_OTID	0x48
#define TAG_DTID	0x49
#define TAG_PABORT	0x4a
#define TAG_DIALOGUE	0x6b
#define TAG_COMPS	0x6c
#define TAG_EXTERNAL	0x28
#define TAG_SINGLE_ASN1	0xa0	/* EXTERNAL encoding: single-ASN1-type [0] */
#define TAG_PROTO_VER	0x80	/* AARQ/AARE protocol-version [0] IMPLICIT BIT STRING; ABRT abort-source [0] */
#define TAG_ACN		0xa1	/* application-context-name [1] OBJECT IDENTIFIER (explicit) */
#define TAG_RESULT	0xa2	/* AARE result [2] INTEGER (explicit) */
#define TAG_DIAG	0xa3	/* AARE result-source-diagnostic [3] CHOICE (explicit) */
#define TAG_USER_INFO	0xbe	/* user-information [30] IMPLICIT SEQUENCE OF EXTERNAL */

/* dialogue-as-id { itu-t recommendation q 773 as(1) dialogue-as(1) version1(1) } and the unidialogue-as */
static const uint8_t dialogue_as_id[] = { 0x00, 0x11, 0x86, 0x05, 0x01, 0x01, 0x01 };
static const uint8_t uni_dialogue_as_id[] = { 0x00, 0x11, 0x86, 0x05, 0x01, 0x02, 0x01 };
/* protocol-version BIT STRING { version1 }: 7 unused bits, 0x80 */
static const uint8_t proto_version1[] = { 0x07, 0x80 };

const char *uigw_tcap_type_name(enum uigw_tcap_type t)
{
	switch (t) {
	case UIGW_TCAP_UNI:
		return "Unidirectional";
	case UIGW_TCAP_BEGIN:
		return "Begin";
	case UIGW_TCAP_END:
		return "End";
	case UIGW_TCAP_CONTINUE:
		return "Continue";
	case UIGW_TCAP_ABORT:
		return "Abort";
	default:
		return "unknown";
	}
}

const char *uigw_tcap_pabort_name(uint8_t cause)
{
	switch (cause) {
	case UIGW_TCAP_PA_UNRECOGNIZED_MSG_TYPE:
		return "unrecognizedMessageType";
	case UIGW_TCAP_PA_UNRECOGNIZED_TID:
		return "unrecognizedTransactionID";
	case UIGW_TCAP_PA_BADLY_FORMATTED_TP:
		return "badlyFormattedTransactionPortion";
	case UIGW_TCAP_PA_INCORRECT_TP:
		return "incorrectTransactionPortion";
	case UIGW_TCAP_PA_RESOURCE_LIMITATION:
		return "resourceLimitation";
	default:
		return "unknown";
	}
}

uint32_t uigw_tcap_tid_val(const struct uigw_tcap_tid *t)
{
	uint32_t v = 0;
	unsigned int i;

	for (i = 0; i < t->len && i < 4; i++)
		v = (v << 8) | t->b[i];
	return v;
}

void uigw_tcap_tid_set(struct uigw_tcap_tid *t, uint32_t v)
{
	t->len = 4;
	t->b[0] = v >> 24;
	t->b[1] = v >> 16;
	t->b[2] = v >> 8;
	t->b[3] = v;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* decoding */

static int dec_tid(const struct uigw_ber_tlv *t, struct uigw_tcap_tid *tid)
{
	if (t->len < 1 || t->len > 4)
		return -EINVAL;
	tid->len = t->len;
	memcpy(tid->b, t->val, t->len);
	return 0;
}

static int dec_small_uint(const struct uigw_ber_tlv *t, uint8_t tag, uint8_t *v)
{
	int64_t i;

	if (t->tag != tag || uigw_ber_get_int(t, &i) < 0 || i < 0 || i > 255)
		return -EINVAL;
	*v = i;
	return 0;
}

/* an explicitly tagged element holding exactly one inner element of tag inner_tag */
static int dec_explicit(const struct uigw_ber_tlv *outer, uint8_t inner_tag, struct uigw_ber_tlv *inner)
{
	if (uigw_ber_dec(outer->val, outer->len, inner) != (int)outer->len || inner->tag != inner_tag)
		return -EINVAL;
	return 0;
}

static int dec_apdu(const struct uigw_ber_tlv *apdu, struct uigw_tcap_dialogue *d)
{
	const uint8_t *p = apdu->val;
	size_t rem = apdu->len;
	struct uigw_ber_tlv t, in;
	bool have_acn = false, have_result = false, have_diag = false, have_src = false;
	int rc;

	if (apdu->tag != UIGW_TCAP_AARQ && apdu->tag != UIGW_TCAP_AARE && apdu->tag != UIGW_TCAP_ABRT)
		return -EINVAL;
	d->apdu = apdu->tag;
	while ((rc = uigw_ber_next(&p, &rem, &t)) > 0) {
		switch (t.tag) {
		case TAG_PROTO_VER:
			if (d->apdu == UIGW_TCAP_ABRT) {
				if (have_src || dec_small_uint(&t, TAG_PROTO_VER, &d->abort_source) < 0 ||
				    d->abort_source > 1)
					return -EINVAL;
				have_src = true;
			} else if (t.len < 1) {
				return -EINVAL;	/* a BIT STRING has at least its unused-bits octet */
			}
			break;
		case TAG_ACN:
			if (d->apdu == UIGW_TCAP_ABRT || have_acn || dec_explicit(&t, 0x06, &in) < 0 ||
			    in.len < 1 || in.len > UIGW_TCAP_OID_MAX)
				return -EINVAL;
			memcpy(d->acn, in.val, in.len);
			d->acn_len = in.len;
			have_acn = true;
			break;
		case TAG_RESULT:
			if (d->apdu != UIGW_TCAP_AARE || have_result || dec_explicit(&t, UIGW_BER_INTEGER, &in) < 0 ||
			    dec_small_uint(&in, UIGW_BER_INTEGER, &d->result) < 0 || d->result > 1)
				return -EINVAL;
			have_result = true;
			break;
		case TAG_DIAG:
			if (d->apdu != UIGW_TCAP_AARE || have_diag || uigw_ber_dec(t.val, t.len, &in) != (int)t.len ||
			    (in.tag != UIGW_TCAP_DIAG_USER && in.tag != UIGW_TCAP_DIAG_PROVIDER))
				return -EINVAL;
			d->diag_source = in.tag;
			{
				struct uigw_ber_tlv v;

				if (dec_explicit(&in, UIGW_BER_INTEGER, &v) < 0 ||
				    dec_small_uint(&v, UIGW_BER_INTEGER, &d->diag) < 0)
					return -EINVAL;
			}
			have_diag = true;
			break;
		case TAG_USER_INFO:
			if (d->user_info)
				return -EINVAL;
			d->user_info = t.val;
			d->user_info_len = t.len;
			break;
		default:
			return -EINVAL;
		}
	}
	if (rc != -ENODATA)
		return -EINVAL;
	switch (d->apdu) {
	case UIGW_TCAP_AARQ:
		return have_acn ? 0 : -EINVAL;
	case UIGW_TCAP_AARE:
		return have_acn && have_result && have_diag ? 0 : -EINVAL;
	default:
		return have_src ? 0 : -EINVAL;
	}
}

/* DialoguePortion ::= [APPLICATION 11] EXTERNAL { direct-reference OID, [indirect-reference],
 * single-ASN1-type [0] DialoguePDU } */
static int dec_dialogue(const struct uigw_ber_tlv *dp, struct uigw_tcap_dialogue *d)
{
	const uint8_t *p;
	size_t rem;
	struct uigw_ber_tlv ext, t, apdu;
	bool have_oid = false;
	int rc;

	if (uigw_ber_dec(dp->val, dp->len, &ext) != (int)dp->len || ext.tag != TAG_EXTERNAL)
		return -EINVAL;
	p = ext.val;
	rem = ext.len;
	while ((rc = uigw_ber_next(&p, &rem, &t)) > 0) {
		if (t.tag == UIGW_BER_OID && !have_oid) {
			if (t.len == sizeof(dialogue_as_id) && !memcmp(t.val, dialogue_as_id, t.len))
				d->uni = false;
			else if (t.len == sizeof(uni_dialogue_as_id) && !memcmp(t.val, uni_dialogue_as_id, t.len))
				d->uni = true;
			else
				return -EINVAL;
			have_oid = true;
		} else if (t.tag == UIGW_BER_INTEGER && have_oid && !d->apdu) {
			continue;	/* indirect-reference: not used by TCAP, tolerated */
		} else if (t.tag == TAG_SINGLE_ASN1 && have_oid && !d->apdu) {
			if (uigw_ber_dec(t.val, t.len, &apdu) != (int)t.len || dec_apdu(&apdu, d) < 0)
				return -EINVAL;
			if (d->uni && d->apdu != UIGW_TCAP_AARQ)
				return -EINVAL;
		} else {
			return -EINVAL;
		}
	}
	if (rc != -ENODATA || !d->apdu)
		return -EINVAL;
	return 0;
}

/* A Begin or Continue whose outer length is wrong: if its otid can still be read where it must be, the sender
 * can be told (P-Abort badlyFormattedTransactionPortion) instead of waiting for its timer. */
static void salvage_otid(const uint8_t *buf, size_t len, struct uigw_tcap_err *err)
{
	size_t hdr;

	if (!err || len < 2 || (buf[0] != UIGW_TCAP_BEGIN && buf[0] != UIGW_TCAP_CONTINUE))
		return;
	hdr = buf[1] < 0x80 ? 2 : 2 + (buf[1] & 0x7f);
	if (buf[1] == 0x80 || hdr > 6 || len < hdr + 2 || buf[hdr] != TAG_OTID || buf[hdr + 1] < 1 ||
	    buf[hdr + 1] > 4 || len < hdr + 2 + buf[hdr + 1])
		return;
	err->dtid.len = buf[hdr + 1];
	memcpy(err->dtid.b, buf + hdr + 2, err->dtid.len);
	err->abort = true;
}

static void set_err(struct uigw_tcap_err *err, bool abort, uint8_t cause, const char *what)
{
	if (!err)
		return;
	err->abort = abort;
	err->cause = cause;
	err->what = what;
}

int uigw_tcap_decode(const uint8_t *buf, size_t len, struct uigw_tcap_msg *m, struct uigw_tcap_err *err)
{
	struct uigw_ber_tlv top, t;
	const uint8_t *p;
	size_t rem;
	int rc, n = 0;
	bool dlg_seen = false, comps_seen = false, reason_seen = false;

	memset(m, 0, sizeof(*m));
	if (err)
		memset(err, 0, sizeof(*err));
	rc = uigw_ber_dec(buf, len, &top);
	if (rc < 0 || (size_t)rc != len || !uigw_ber_is_constructed(top.tag)) {
		set_err(err, false, UIGW_TCAP_PA_BADLY_FORMATTED_TP, rc == (int)len ? "not a constructed message"
			: "malformed message length");
		salvage_otid(buf, len, err);
		return rc == -ENOTSUP ? -ENOTSUP : -EINVAL;
	}
	m->type = top.tag;
	switch (m->type) {
	case UIGW_TCAP_UNI:
	case UIGW_TCAP_BEGIN:
	case UIGW_TCAP_END:
	case UIGW_TCAP_CONTINUE:
	case UIGW_TCAP_ABORT:
		break;
	default:
		/* an unknown message type: answer the otid if one is where a Begin has it */
		if (err && uigw_ber_dec(top.val, top.len, &t) > 0 && t.tag == TAG_OTID)
			dec_tid(&t, &err->dtid);
		set_err(err, true, UIGW_TCAP_PA_UNRECOGNIZED_MSG_TYPE, "unknown message type");
		return -ENOTSUP;
	}

	/* the transaction ids first: they say whom an error goes to */
	p = top.val;
	rem = top.len;
	while ((rc = uigw_ber_next(&p, &rem, &t)) > 0) {
		n++;
		if (t.tag == TAG_OTID && n == 1 && (m->type == UIGW_TCAP_BEGIN || m->type == UIGW_TCAP_CONTINUE)) {
			if (dec_tid(&t, &m->otid) < 0)
				goto bad_tp;
			if (err)
				err->dtid = m->otid;
		} else if (t.tag == TAG_DTID && ((n == 1 && (m->type == UIGW_TCAP_END || m->type == UIGW_TCAP_ABORT))
						 || (n == 2 && m->type == UIGW_TCAP_CONTINUE && m->otid.len))) {
			if (dec_tid(&t, &m->dtid) < 0)
				goto bad_tp;
		} else if (t.tag == TAG_OTID || t.tag == TAG_DTID) {
			set_err(err, true, UIGW_TCAP_PA_INCORRECT_TP, "transaction id out of place");
			return -EINVAL;
		} else if (t.tag == TAG_PABORT && m->type == UIGW_TCAP_ABORT && !reason_seen) {
			if (dec_small_uint(&t, TAG_PABORT, &m->pabort) < 0)
				goto bad_tp;
			m->has_pabort = true;
			reason_seen = true;
		} else if (t.tag == TAG_DIALOGUE && !dlg_seen && !comps_seen && !reason_seen) {
			dlg_seen = true;
			if (m->type == UIGW_TCAP_ABORT)
				reason_seen = true;
			if (dec_dialogue(&t, &m->dlg) < 0) {
				if (m->type == UIGW_TCAP_ABORT)
					continue;	/* an abort is an abort, whatever its reason says */
				set_err(err, true, 0, "malformed dialogue portion");
				if (err)
					err->dialogue = true;
				return -EINVAL;
			}
			m->has_dialogue = true;
		} else if (t.tag == TAG_COMPS && !comps_seen && m->type != UIGW_TCAP_ABORT) {
			comps_seen = true;
			m->comps = t.val;
			m->comps_len = t.len;
		} else {
			set_err(err, true, UIGW_TCAP_PA_INCORRECT_TP, "unexpected element");
			return -EINVAL;
		}
	}
	if (rc != -ENODATA)
		goto bad_tp;
	if ((m->type == UIGW_TCAP_BEGIN && !m->otid.len) || (m->type == UIGW_TCAP_CONTINUE && !m->dtid.len) ||
	    ((m->type == UIGW_TCAP_END || m->type == UIGW_TCAP_ABORT) && !m->dtid.len) ||
	    (m->type == UIGW_TCAP_UNI && !m->comps)) {
		set_err(err, true, UIGW_TCAP_PA_INCORRECT_TP, "mandatory element missing");
		return -EINVAL;
	}
	if ((m->type == UIGW_TCAP_UNI) != (m->has_dialogue && m->dlg.uni) && m->has_dialogue) {
		set_err(err, true, 0, "dialogue portion of the wrong abstract syntax");
		if (err)
			err->dialogue = true;
		return -EINVAL;
	}
	return 0;

bad_tp:
	set_err(err, true, UIGW_TCAP_PA_BADLY_FORMATTED_TP, "malformed transaction portion");
	return -EINVAL;
}

int uigw_tcap_comp_next(const uint8_t **pos, size_t *rem, const uint8_t **c, size_t *c_len)
{
	struct uigw_ber_tlv t;
	const uint8_t *start = *pos;
	int rc = uigw_ber_next(pos, rem, &t);

	if (rc == -ENODATA)
		return 0;
	if (rc < 0) {
		*rem = 0;	/* the rest cannot be split into components */
		return -EINVAL;
	}
	*c = start;
	*c_len = rc;
	return 1;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* encoding */

static void enc_dialogue(struct uigw_ber_enc *e, const struct uigw_tcap_dialogue *d)
{
	size_t m_dp, m_ext, m_single, m_apdu, m;

	m_dp = uigw_ber_open(e, TAG_DIALOGUE);
	m_ext = uigw_ber_open(e, TAG_EXTERNAL);
	if (d->uni)
		uigw_ber_put(e, UIGW_BER_OID, uni_dialogue_as_id, sizeof(uni_dialogue_as_id));
	else
		uigw_ber_put(e, UIGW_BER_OID, dialogue_as_id, sizeof(dialogue_as_id));
	m_single = uigw_ber_open(e, TAG_SINGLE_ASN1);
	m_apdu = uigw_ber_open(e, d->apdu);
	switch (d->apdu) {
	case UIGW_TCAP_AARQ:
	case UIGW_TCAP_AARE:
		if (!d->acn_len || d->acn_len > UIGW_TCAP_OID_MAX) {
			e->err = -EINVAL;
			return;
		}
		uigw_ber_put(e, TAG_PROTO_VER, proto_version1, sizeof(proto_version1));
		m = uigw_ber_open(e, TAG_ACN);
		uigw_ber_put(e, UIGW_BER_OID, d->acn, d->acn_len);
		uigw_ber_close(e, m);
		if (d->apdu == UIGW_TCAP_AARE) {
			size_t m2;

			m = uigw_ber_open(e, TAG_RESULT);
			uigw_ber_put_int(e, UIGW_BER_INTEGER, d->result);
			uigw_ber_close(e, m);
			m = uigw_ber_open(e, TAG_DIAG);
			m2 = uigw_ber_open(e, d->diag_source == UIGW_TCAP_DIAG_PROVIDER ? UIGW_TCAP_DIAG_PROVIDER
					   : UIGW_TCAP_DIAG_USER);
			uigw_ber_put_int(e, UIGW_BER_INTEGER, d->diag);
			uigw_ber_close(e, m2);
			uigw_ber_close(e, m);
		}
		break;
	case UIGW_TCAP_ABRT:
		uigw_ber_put_int(e, TAG_PROTO_VER, d->abort_source);
		break;
	default:
		e->err = -EINVAL;
		return;
	}
	if (d->user_info_len)
		uigw_ber_put(e, TAG_USER_INFO, d->user_info, d->user_info_len);
	uigw_ber_close(e, m_apdu);
	uigw_ber_close(e, m_single);
	uigw_ber_close(e, m_ext);
	uigw_ber_close(e, m_dp);
}

static bool tid_ok(const struct uigw_tcap_tid *t)
{
	return t->len >= 1 && t->len <= 4;
}

int uigw_tcap_encode(uint8_t *buf, size_t size, const struct uigw_tcap_msg *m)
{
	struct uigw_ber_enc e;
	size_t top;

	uigw_ber_enc_init(&e, buf, size);
	switch (m->type) {
	case UIGW_TCAP_UNI:
		if (!m->comps_len)
			return -EINVAL;
		break;
	case UIGW_TCAP_BEGIN:
		if (!tid_ok(&m->otid))
			return -EINVAL;
		break;
	case UIGW_TCAP_CONTINUE:
		if (!tid_ok(&m->otid) || !tid_ok(&m->dtid))
			return -EINVAL;
		break;
	case UIGW_TCAP_END:
	case UIGW_TCAP_ABORT:
		if (!tid_ok(&m->dtid))
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	top = uigw_ber_open(&e, m->type);
	if (m->type == UIGW_TCAP_BEGIN || m->type == UIGW_TCAP_CONTINUE)
		uigw_ber_put(&e, TAG_OTID, m->otid.b, m->otid.len);
	if (m->type != UIGW_TCAP_BEGIN && m->type != UIGW_TCAP_UNI)
		uigw_ber_put(&e, TAG_DTID, m->dtid.b, m->dtid.len);
	if (m->type == UIGW_TCAP_ABORT) {
		if (m->has_pabort)
			uigw_ber_put_int(&e, TAG_PABORT, m->pabort);
		else if (m->has_dialogue)
			enc_dialogue(&e, &m->dlg);
	} else {
		if (m->has_dialogue)
			enc_dialogue(&e, &m->dlg);
		if (m->comps_len)
			uigw_ber_put(&e, TAG_COMPS, m->comps, m->comps_len);
	}
	uigw_ber_close(&e, top);
	return uigw_ber_enc_finish(&e);
}
