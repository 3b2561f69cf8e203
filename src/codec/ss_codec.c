/*! \file ss_codec.c
 *  USSD components (TS 24.080 / TS 29.002) on top of the BER codec, and the USSD text coding (TS 23.038).
 *  See ss_codec.h for the contracts. */

#include <errno.h>
#include <string.h>
#include <osmocom/uigw/codec/ber.h>
#include <osmocom/uigw/codec/charset.h>
#include <osmocom/uigw/codec/map.h>
#include <osmocom/uigw/codec/ss_codec.h>

#define TAG_LINKED_ID	0x80	/* [0] IMPLICIT InvokeIdType */
#define TAG_MSISDN	0x80	/* msisdn [0] ISDN-AddressString in USSD-Arg */
#define GSM7_CR		0x0d

const char *uigw_ss_op_name(int opcode)
{
	switch (opcode) {
	case UIGW_SS_OP_PROCESS_USS_REQ:
		return "processUnstructuredSS-Request";
	case UIGW_SS_OP_USS_REQ:
		return "unstructuredSS-Request";
	case UIGW_SS_OP_USS_NOTIFY:
		return "unstructuredSS-Notify";
	default:
		return "unknown";
	}
}

const char *uigw_ss_comp_type_name(enum uigw_ss_comp_type t)
{
	switch (t) {
	case UIGW_SS_INVOKE:
		return "invoke";
	case UIGW_SS_RETURN_RESULT:
		return "returnResultLast";
	case UIGW_SS_RETURN_ERROR:
		return "returnError";
	case UIGW_SS_REJECT:
		return "reject";
	case UIGW_SS_RETURN_RESULT_NL:
		return "returnResultNotLast";
	default:
		return "unknown";
	}
}

static bool is_ussd_op(int op)
{
	return op == UIGW_SS_OP_PROCESS_USS_REQ || op == UIGW_SS_OP_USS_REQ || op == UIGW_SS_OP_USS_NOTIFY;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* decoding */

static int dec_small_int(const struct uigw_ber_tlv *t, int64_t min, int64_t max, int64_t *v)
{
	if (uigw_ber_get_int(t, v) < 0 || *v < min || *v > max)
		return -EINVAL;
	return 0;
}

/* ISDN-AddressString (at most 9 octets) as "+<digits>" or bare digits */
static int dec_msisdn(const struct uigw_ber_tlv *t, char *out, size_t out_size)
{
	struct uigw_map_addr a;

	if (t->len > 9 || uigw_map_addr_dec(t->val, t->len, &a) < 0)
		return -EINVAL;
	uigw_map_addr_str(&a, out, out_size);
	return 0;
}

/* USSD-Arg / USSD-Res: SEQUENCE { dcs OCTET STRING (1), string OCTET STRING (1..160), ..., alertingPattern
 * OCTET STRING (1) OPTIONAL, msisdn [0] OPTIONAL }; unknown extension elements are skipped */
static int dec_ussd_arg(const struct uigw_ber_tlv *seq, struct uigw_ussd_arg *a)
{
	const uint8_t *p = seq->val;
	size_t rem = seq->len;
	struct uigw_ber_tlv t;
	int rc;

	if (seq->tag != UIGW_BER_SEQUENCE)
		return -EINVAL;
	rc = uigw_ber_next(&p, &rem, &t);
	if (rc < 0)
		return rc == -ENOTSUP ? rc : -EINVAL;
	if (t.tag != UIGW_BER_OCTET_STRING || t.len != 1)
		return -EINVAL;
	a->dcs = t.val[0];
	rc = uigw_ber_next(&p, &rem, &t);
	if (rc < 0)
		return rc == -ENOTSUP ? rc : -EINVAL;
	if (t.tag != UIGW_BER_OCTET_STRING || t.len < 1 || t.len > UIGW_USSD_MAX_OCTETS)
		return -EINVAL;
	memcpy(a->data, t.val, t.len);
	a->data_len = t.len;
	while ((rc = uigw_ber_next(&p, &rem, &t)) > 0) {
		if (t.tag == UIGW_BER_OCTET_STRING && !a->has_alerting && !a->has_msisdn) {
			if (t.len != 1)
				return -EINVAL;
			a->has_alerting = true;
			a->alerting = t.val[0];
		} else if (t.tag == TAG_MSISDN && !a->has_msisdn) {
			if (dec_msisdn(&t, a->msisdn, sizeof(a->msisdn)) < 0)
				return -EINVAL;
			a->has_msisdn = true;
		}
		/* else: an extension we do not know, skipped */
	}
	if (rc != -ENODATA)
		return rc == -ENOTSUP ? rc : -EINVAL;
	return 0;
}

static int dec_invoke_id(const struct uigw_ber_tlv *t, struct uigw_ss_comp *c)
{
	int64_t v;

	if (t->tag != UIGW_BER_INTEGER || dec_small_int(t, -128, 127, &v) < 0)
		return -EINVAL;
	c->has_invoke_id = true;
	c->invoke_id = v;
	return 0;
}

/* opcode: local INTEGER; a global (OID) opcode is not used by MAP */
static int dec_opcode(const struct uigw_ber_tlv *t, struct uigw_ss_comp *c)
{
	int64_t v;

	if (t->tag == UIGW_BER_OID)
		return -ENOTSUP;
	if (t->tag != UIGW_BER_INTEGER || dec_small_int(t, -32768, 32767, &v) < 0)
		return -EINVAL;
	c->has_opcode = true;
	c->opcode = v;
	return 0;
}

static int dec_invoke(const uint8_t *p, size_t rem, struct uigw_ss_comp *c)
{
	struct uigw_ber_tlv t;
	int64_t v;
	int rc;

	if (uigw_ber_next(&p, &rem, &t) < 0 || dec_invoke_id(&t, c) < 0)
		return -EINVAL;
	if (uigw_ber_next(&p, &rem, &t) < 0)
		return -EINVAL;
	if (t.tag == TAG_LINKED_ID) {
		if (dec_small_int(&t, -128, 127, &v) < 0)
			return -EINVAL;
		c->has_linked_id = true;
		c->linked_id = v;
		if (uigw_ber_next(&p, &rem, &t) < 0)
			return -EINVAL;
	}
	rc = dec_opcode(&t, c);
	if (rc < 0)
		return rc;
	rc = uigw_ber_next(&p, &rem, &t);
	if (rc == -ENODATA) {
		/* USSD operations need their argument */
		return is_ussd_op(c->opcode) ? -EINVAL : 0;
	}
	if (rc < 0)
		return rc == -ENOTSUP ? rc : -EINVAL;
	c->has_param = true;
	if (rem)
		return -EINVAL;	/* one parameter only */
	if (is_ussd_op(c->opcode)) {
		rc = dec_ussd_arg(&t, &c->ussd);
		if (rc < 0)
			return rc;
		c->has_ussd = true;
	}
	return 0;
}

static int dec_result(const uint8_t *p, size_t rem, struct uigw_ss_comp *c)
{
	struct uigw_ber_tlv t, seq;
	int rc;

	if (uigw_ber_next(&p, &rem, &t) < 0 || dec_invoke_id(&t, c) < 0)
		return -EINVAL;
	rc = uigw_ber_next(&p, &rem, &seq);
	if (rc == -ENODATA)
		return 0;	/* no result */
	if (rc < 0)
		return rc == -ENOTSUP ? rc : -EINVAL;
	if (seq.tag != UIGW_BER_SEQUENCE || rem)
		return -EINVAL;
	p = seq.val;
	rem = seq.len;
	if (uigw_ber_next(&p, &rem, &t) < 0)
		return -EINVAL;
	rc = dec_opcode(&t, c);
	if (rc < 0)
		return rc;
	rc = uigw_ber_next(&p, &rem, &t);
	if (rc == -ENODATA)
		return 0;	/* e.g. unstructuredSS-Notify: empty result */
	if (rc < 0)
		return rc == -ENOTSUP ? rc : -EINVAL;
	c->has_param = true;
	if (rem)
		return -EINVAL;
	if (c->opcode == UIGW_SS_OP_PROCESS_USS_REQ || c->opcode == UIGW_SS_OP_USS_REQ) {
		rc = dec_ussd_arg(&t, &c->ussd);
		if (rc < 0)
			return rc;
		c->has_ussd = true;
	}
	return 0;
}

static int dec_error(const uint8_t *p, size_t rem, struct uigw_ss_comp *c)
{
	struct uigw_ber_tlv t;
	int64_t v;
	int rc;

	if (uigw_ber_next(&p, &rem, &t) < 0 || dec_invoke_id(&t, c) < 0)
		return -EINVAL;
	if (uigw_ber_next(&p, &rem, &t) < 0)
		return -EINVAL;
	if (t.tag == UIGW_BER_OID)
		return -ENOTSUP;
	if (t.tag != UIGW_BER_INTEGER || dec_small_int(&t, -32768, 32767, &v) < 0)
		return -EINVAL;
	c->error_code = v;
	rc = uigw_ber_next(&p, &rem, &t);
	if (rc == -ENODATA)
		return 0;
	if (rc < 0)
		return rc == -ENOTSUP ? rc : -EINVAL;
	c->has_param = true;
	return rem ? -EINVAL : 0;
}

static int dec_reject(const uint8_t *p, size_t rem, struct uigw_ss_comp *c)
{
	struct uigw_ber_tlv t;
	int64_t v;

	if (uigw_ber_next(&p, &rem, &t) < 0)
		return -EINVAL;
	if (t.tag == UIGW_BER_NULL) {
		if (t.len != 0)
			return -EINVAL;
	} else if (dec_invoke_id(&t, c) < 0) {
		return -EINVAL;
	}
	if (uigw_ber_next(&p, &rem, &t) < 0 || rem)
		return -EINVAL;
	if (t.tag < UIGW_SS_PROB_GENERAL || t.tag > UIGW_SS_PROB_RETURN_ERROR || dec_small_int(&t, 0, 255, &v) < 0)
		return -EINVAL;
	c->problem_tag = t.tag;
	c->problem_code = v;
	return 0;
}

int uigw_ss_comp_decode(const uint8_t *buf, size_t len, struct uigw_ss_comp *c)
{
	struct uigw_ber_tlv comp;
	int rc;

	memset(c, 0, sizeof(*c));
	rc = uigw_ber_dec(buf, len, &comp);
	if (rc < 0)
		return rc == -ENOTSUP ? rc : -EINVAL;
	if ((size_t)rc != len)
		return -EINVAL;	/* trailing octets */
	c->type = comp.tag;
	switch (comp.tag) {
	case UIGW_SS_INVOKE:
		return dec_invoke(comp.val, comp.len, c);
	case UIGW_SS_RETURN_RESULT:
	case UIGW_SS_RETURN_RESULT_NL:
		return dec_result(comp.val, comp.len, c);
	case UIGW_SS_RETURN_ERROR:
		return dec_error(comp.val, comp.len, c);
	case UIGW_SS_REJECT:
		return dec_reject(comp.val, comp.len, c);
	default:
		return -EINVAL;
	}
}

/* ---------------------------------------------------------------------------------------------------------- */
/* encoding */

static void enc_msisdn(struct uigw_ber_enc *e, const char *msisdn)
{
	struct uigw_map_addr a;

	/* ISDN-AddressString: 8 TBCD octets at most */
	if (uigw_map_addr_from_str(&a, msisdn) < 0 || strlen(a.digits) > 16) {
		e->err = -EINVAL;
		return;
	}
	uigw_map_addr_put(e, TAG_MSISDN, &a);
}

static void enc_ussd_arg(struct uigw_ber_enc *e, const struct uigw_ussd_arg *a, bool res)
{
	size_t m;

	if (a->data_len < 1 || a->data_len > UIGW_USSD_MAX_OCTETS) {
		e->err = -EINVAL;
		return;
	}
	m = uigw_ber_open(e, UIGW_BER_SEQUENCE);
	uigw_ber_put(e, UIGW_BER_OCTET_STRING, &a->dcs, 1);
	uigw_ber_put(e, UIGW_BER_OCTET_STRING, a->data, a->data_len);
	if (!res && a->has_alerting)
		uigw_ber_put(e, UIGW_BER_OCTET_STRING, &a->alerting, 1);
	if (!res && a->has_msisdn)
		enc_msisdn(e, a->msisdn);
	uigw_ber_close(e, m);
}

int uigw_ss_comp_encode(uint8_t *buf, size_t size, const struct uigw_ss_comp *c)
{
	struct uigw_ber_enc e;
	size_t m, m2;

	uigw_ber_enc_init(&e, buf, size);
	switch (c->type) {
	case UIGW_SS_INVOKE:
		if (!c->has_opcode)
			return -EINVAL;
		m = uigw_ber_open(&e, UIGW_SS_INVOKE);
		uigw_ber_put_int(&e, UIGW_BER_INTEGER, c->invoke_id);
		if (c->has_linked_id)
			uigw_ber_put_int(&e, TAG_LINKED_ID, c->linked_id);
		uigw_ber_put_int(&e, UIGW_BER_INTEGER, c->opcode);
		if (c->has_ussd)
			enc_ussd_arg(&e, &c->ussd, false);
		uigw_ber_close(&e, m);
		break;
	case UIGW_SS_RETURN_RESULT:
		m = uigw_ber_open(&e, UIGW_SS_RETURN_RESULT);
		uigw_ber_put_int(&e, UIGW_BER_INTEGER, c->invoke_id);
		if (c->has_opcode) {
			m2 = uigw_ber_open(&e, UIGW_BER_SEQUENCE);
			uigw_ber_put_int(&e, UIGW_BER_INTEGER, c->opcode);
			if (c->has_ussd)
				enc_ussd_arg(&e, &c->ussd, true);
			uigw_ber_close(&e, m2);
		}
		uigw_ber_close(&e, m);
		break;
	case UIGW_SS_RETURN_ERROR:
		m = uigw_ber_open(&e, UIGW_SS_RETURN_ERROR);
		uigw_ber_put_int(&e, UIGW_BER_INTEGER, c->invoke_id);
		uigw_ber_put_int(&e, UIGW_BER_INTEGER, c->error_code);
		uigw_ber_close(&e, m);
		break;
	case UIGW_SS_REJECT:
		if (c->problem_tag < UIGW_SS_PROB_GENERAL || c->problem_tag > UIGW_SS_PROB_RETURN_ERROR)
			return -EINVAL;
		m = uigw_ber_open(&e, UIGW_SS_REJECT);
		if (c->has_invoke_id)
			uigw_ber_put_int(&e, UIGW_BER_INTEGER, c->invoke_id);
		else
			uigw_ber_put(&e, UIGW_BER_NULL, NULL, 0);
		uigw_ber_put_int(&e, c->problem_tag, c->problem_code);
		uigw_ber_close(&e, m);
		break;
	default:
		return -EINVAL;
	}
	return uigw_ber_enc_finish(&e);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* text */

int uigw_ussd_text_encode(struct uigw_ussd_arg *arg, const char *utf8)
{
	uint8_t septets[UIGW_USSD_MAX_SEPTETS];
	size_t len = strlen(utf8);
	int n, rc;

	n = uigw_gsm7_count(utf8, len);
	if (n == -EINVAL)
		return -EINVAL;
	if (n > 0 && n <= UIGW_USSD_MAX_SEPTETS) {
		rc = uigw_utf8_to_gsm7(septets, sizeof(septets), utf8, len);
		if (rc < 0)
			return rc;
		rc = uigw_gsm7_pack(arg->data, sizeof(arg->data), septets, rc, true);
		if (rc < 0)
			return -EMSGSIZE;
		arg->dcs = UIGW_USSD_DCS_GSM7;
		arg->data_len = rc;
		return 0;
	}
	if (n == 0) {
		/* an empty text is not allowed on the wire (SIZE 1..160): one space */
		arg->dcs = UIGW_USSD_DCS_GSM7;
		septets[0] = ' ';
		arg->data_len = uigw_gsm7_pack(arg->data, sizeof(arg->data), septets, 1, true);
		return 0;
	}
	n = uigw_ucs2_count(utf8, len);
	if (n < 0)
		return n;
	if (n > UIGW_USSD_MAX_UCS2)
		return -EMSGSIZE;
	rc = uigw_utf8_to_ucs2(arg->data, sizeof(arg->data), utf8, len);
	if (rc < 0)
		return rc == -ENOSPC ? -EMSGSIZE : rc;
	arg->dcs = UIGW_USSD_DCS_UCS2;
	arg->data_len = rc;
	return 0;
}

static const char *const lang_group0[] = {
	"de", "en", "it", "fr", "es", "nl", "sv", "da", "pt", "fi", "no", "el", "tr", "hu", "pl",
};

enum alphabet { ALPHA_GSM7, ALPHA_8BIT, ALPHA_UCS2, ALPHA_NONE };

static enum alphabet dcs_alphabet(uint8_t dcs)
{
	if (dcs <= 0x0f || dcs == 0x10)
		return ALPHA_GSM7;
	if (dcs == 0x11)
		return ALPHA_UCS2;
	if (dcs >= 0x40 && dcs <= 0x5f) {
		switch ((dcs >> 2) & 3) {
		case 0:
			return ALPHA_GSM7;
		case 1:
			return ALPHA_8BIT;
		case 2:
			return ALPHA_UCS2;
		default:
			return ALPHA_NONE;
		}
	}
	if (dcs >= 0xf0 && dcs <= 0xf7)
		return (dcs & 0x04) ? ALPHA_8BIT : ALPHA_GSM7;
	return ALPHA_NONE;
}

static void lang_from_septets(const uint8_t *s, char *lang)
{
	if (!lang)
		return;
	lang[0] = lang[1] = lang[2] = '\0';
	/* only letters; anything else means the prefix is not a language code */
	if (((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z') && ((s[1] | 0x20) >= 'a' && (s[1] | 0x20) <= 'z')) {
		lang[0] = s[0] | 0x20;
		lang[1] = s[1] | 0x20;
	}
}

int uigw_ussd_text_decode(const struct uigw_ussd_arg *arg, char *utf8, size_t size, char *lang)
{
	uint8_t septets[UIGW_USSD_MAX_SEPTETS + 1];
	size_t skip = 0;
	int n;

	if (lang)
		lang[0] = '\0';
	if (!size)
		return -ENOSPC;
	if (arg->data_len > UIGW_USSD_MAX_OCTETS)
		return -EINVAL;
	if (arg->dcs <= 0x0e && lang)
		strcpy(lang, lang_group0[arg->dcs]);

	switch (dcs_alphabet(arg->dcs)) {
	case ALPHA_GSM7:
		n = uigw_gsm7_unpack(septets, sizeof(septets), arg->data, arg->data_len, true);
		if (n < 0)
			return n;
		if (arg->dcs == 0x10) {
			/* two letters of ISO 639 and a CR before the text */
			if (n < 3 || septets[2] != GSM7_CR)
				return -EINVAL;
			lang_from_septets(septets, lang);
			skip = 3;
		}
		return uigw_gsm7_to_utf8(utf8, size, septets + skip, n - skip);
	case ALPHA_UCS2:
		if (arg->dcs == 0x11) {
			/* the language as two packed 7-bit characters in the first two octets */
			if (arg->data_len < 2)
				return -EINVAL;
			n = uigw_gsm7_unpack(septets, sizeof(septets), arg->data, 2, false);
			if (n >= 2)
				lang_from_septets(septets, lang);
			skip = 2;
		}
		return uigw_ucs2_to_utf8(utf8, size, arg->data + skip, arg->data_len - skip);
	case ALPHA_8BIT:
		return uigw_latin1_to_utf8(utf8, size, arg->data, arg->data_len);
	default:
		utf8[0] = '\0';
		return -ENOTSUP;
	}
}
