/*! \file map.c
 *  MAP's part of TCAP for the USSD gsmSCF: AddressString and the MAP dialogue PDU (see map.h). */

#include <errno.h>
#include <string.h>
#include <osmocom/uigw/codec/ber.h>
#include <osmocom/uigw/codec/map.h>

/* map-DialogueAS { itu-t(0) identified-organization(4) etsi(0) mobileDomain(0) gsm-Network(1) as-Id(1)
 * map-DialoguePDU(1) version1(1) } */
static const uint8_t map_dialogue_as[] = { 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x01 };
/* networkUnstructuredSsContext-v2: 0.4.0.0.1.0.19.2 */
const uint8_t uigw_map_acn_ussd_v2[7] = { 0x04, 0x00, 0x00, 0x01, 0x00, 0x13, 0x02 };

static const char tbcd[] = "0123456789*#abc";

void uigw_map_dialogue_v2(struct uigw_tcap_dialogue *d, enum uigw_tcap_apdu apdu)
{
	d->apdu = apdu;
	memcpy(d->acn, uigw_map_acn_ussd_v2, UIGW_MAP_ACN_LEN);
	d->acn_len = UIGW_MAP_ACN_LEN;
}

int uigw_map_addr_dec(const uint8_t *val, size_t len, struct uigw_map_addr *a)
{
	size_t i, o = 0;

	if (len < 1 || len > 1 + UIGW_MAP_ADDR_DIGITS / 2)
		return -EINVAL;
	a->ton_npi = val[0];
	for (i = 1; i < len; i++) {
		uint8_t lo = val[i] & 0x0f, hi = val[i] >> 4;

		if (lo == 0x0f)
			break;	/* filler */
		a->digits[o++] = tbcd[lo];
		if (hi == 0x0f)
			break;
		a->digits[o++] = tbcd[hi];
	}
	a->digits[o] = '\0';
	return 0;
}

void uigw_map_addr_put(struct uigw_ber_enc *e, uint8_t tag, const struct uigw_map_addr *a)
{
	uint8_t b[1 + UIGW_MAP_ADDR_DIGITS / 2];
	size_t n = 1, nd;

	b[0] = a->ton_npi;
	for (nd = 0; a->digits[nd]; nd++) {
		const char *d = strchr(tbcd, a->digits[nd]);
		uint8_t v;

		if (!d || nd >= UIGW_MAP_ADDR_DIGITS) {
			e->err = -EINVAL;
			return;
		}
		v = d - tbcd;
		if (nd & 1)
			b[n - 1] = (b[n - 1] & 0x0f) | (v << 4);
		else
			b[n++] = 0xf0 | v;
	}
	uigw_ber_put(e, tag, b, n);
}

void uigw_map_addr_str(const struct uigw_map_addr *a, char *out, size_t size)
{
	bool intl = ((a->ton_npi >> 4) & 0x07) == 1;
	size_t n = strlen(a->digits);

	if (!size)
		return;
	if (intl && size > 1) {
		*out++ = '+';
		size--;
	}
	if (n >= size)
		n = size - 1;
	memcpy(out, a->digits, n);
	out[n] = '\0';
}

int uigw_map_addr_from_str(struct uigw_map_addr *a, const char *s)
{
	size_t n;

	a->ton_npi = UIGW_MAP_TON_NPI_UNKN_E164;
	if (*s == '+') {
		a->ton_npi = UIGW_MAP_TON_NPI_INTL_E164;
		s++;
	}
	n = strlen(s);
	if (n > UIGW_MAP_ADDR_DIGITS || strspn(s, tbcd) != n)
		return -EINVAL;
	memcpy(a->digits, s, n + 1);
	return 0;
}

/* MAP-OpenInfo ::= SEQUENCE { destinationReference [0] AddressString OPTIONAL, originationReference [1]
 * AddressString OPTIONAL, ..., extensionContainer OPTIONAL } */
static int dec_open(const struct uigw_ber_tlv *t, struct uigw_map_dlg *d)
{
	const uint8_t *p = t->val;
	size_t rem = t->len;
	struct uigw_ber_tlv e;
	int rc;

	while ((rc = uigw_ber_next(&p, &rem, &e)) > 0) {
		if (e.tag == 0x80 && !d->has_dest && !d->has_orig) {
			if (uigw_map_addr_dec(e.val, e.len, &d->dest) < 0)
				return -EINVAL;
			d->has_dest = true;
		} else if (e.tag == 0x81 && !d->has_orig) {
			if (uigw_map_addr_dec(e.val, e.len, &d->orig) < 0)
				return -EINVAL;
			d->has_orig = true;
		}
		/* else: an extension container or a later addition, skipped */
	}
	return rc == -ENODATA ? 0 : -EINVAL;
}

/* the first ENUMERATED / explicit choice inside a constructed value; absent is 0 */
static int dec_first_enum(const struct uigw_ber_tlv *t, uint8_t *v)
{
	struct uigw_ber_tlv e;
	int64_t i;

	*v = 0;
	if (t->len == 0)
		return 0;
	if (uigw_ber_dec(t->val, t->len, &e) < 0)
		return -EINVAL;
	if (e.tag != 0x0a)
		return 0;
	if (uigw_ber_get_int(&e, &i) < 0 || i < 0 || i > 255)
		return -EINVAL;
	*v = i;
	return 0;
}

/* MAP-UserAbortInfo ::= SEQUENCE { map-UserAbortChoice CHOICE { userSpecificReason [0] NULL,
 * userResourceLimitation [1] NULL, resourceUnavailable [2] ENUMERATED, applicationProcedureCancellation [3]
 * ENUMERATED }, ..., extensionContainer OPTIONAL } */
static int dec_uabort(const struct uigw_ber_tlv *t, struct uigw_map_dlg *d)
{
	struct uigw_ber_tlv e;
	int64_t i;

	if (uigw_ber_dec(t->val, t->len, &e) < 0 || e.tag < 0x80 || e.tag > 0x83)
		return -EINVAL;
	d->uabort = e.tag & 0x03;
	if (e.tag >= 0x82) {
		if (uigw_ber_get_int(&e, &i) < 0 || i < 0 || i > 255)
			return -EINVAL;
		d->reason = i;
	}
	return 0;
}

int uigw_map_dlg_decode(const uint8_t *ui, size_t len, struct uigw_map_dlg *d)
{
	const uint8_t *p = ui;
	size_t rem = len;
	struct uigw_ber_tlv ext;
	int rc;

	memset(d, 0, sizeof(*d));
	d->kind = UIGW_MAP_DLG_NONE;
	while ((rc = uigw_ber_next(&p, &rem, &ext)) > 0) {
		const uint8_t *q = ext.val;
		size_t r = ext.len;
		struct uigw_ber_tlv oid, single, pdu;

		if (ext.tag != 0x28)
			return -EINVAL;
		if (uigw_ber_next(&q, &r, &oid) < 0 || oid.tag != UIGW_BER_OID)
			return -EINVAL;
		if (oid.len != sizeof(map_dialogue_as) || memcmp(oid.val, map_dialogue_as, oid.len))
			continue;	/* another abstract syntax */
		if (uigw_ber_next(&q, &r, &single) < 0 || single.tag != 0xa0 || r != 0)
			return -EINVAL;
		if (uigw_ber_dec(single.val, single.len, &pdu) != (int)single.len)
			return -EINVAL;
		switch (pdu.tag) {
		case 0xa0:
			d->kind = UIGW_MAP_DLG_OPEN;
			return dec_open(&pdu, d);
		case 0xa1:
			d->kind = UIGW_MAP_DLG_ACCEPT;
			return 0;
		case 0xa2:
			d->kind = UIGW_MAP_DLG_CLOSE;
			return 0;
		case 0xa3:
			d->kind = UIGW_MAP_DLG_REFUSE;
			return dec_first_enum(&pdu, &d->reason);
		case 0xa4:
			d->kind = UIGW_MAP_DLG_USER_ABORT;
			return dec_uabort(&pdu, d);
		case 0xa5:
			d->kind = UIGW_MAP_DLG_PROVIDER_ABORT;
			return dec_first_enum(&pdu, &d->reason);
		default:
			return -EINVAL;
		}
	}
	return rc == -ENODATA ? -ENOENT : -EINVAL;
}

int uigw_map_dlg_encode(uint8_t *buf, size_t size, const struct uigw_map_dlg *d)
{
	struct uigw_ber_enc e;
	size_t m_ext, m_single, m_pdu;

	uigw_ber_enc_init(&e, buf, size);
	m_ext = uigw_ber_open(&e, 0x28);
	uigw_ber_put(&e, UIGW_BER_OID, map_dialogue_as, sizeof(map_dialogue_as));
	m_single = uigw_ber_open(&e, 0xa0);
	switch (d->kind) {
	case UIGW_MAP_DLG_OPEN:
		m_pdu = uigw_ber_open(&e, 0xa0);
		if (d->has_dest)
			uigw_map_addr_put(&e, 0x80, &d->dest);
		if (d->has_orig)
			uigw_map_addr_put(&e, 0x81, &d->orig);
		uigw_ber_close(&e, m_pdu);
		break;
	case UIGW_MAP_DLG_USER_ABORT:
		m_pdu = uigw_ber_open(&e, 0xa4);
		if (d->uabort >= UIGW_MAP_UABORT_RESOURCE_UNAVAILABLE)
			uigw_ber_put_int(&e, 0x80 | (d->uabort & 0x03), d->reason);
		else
			uigw_ber_put(&e, 0x80 | (d->uabort & 0x03), NULL, 0);
		uigw_ber_close(&e, m_pdu);
		break;
	case UIGW_MAP_DLG_REFUSE:
		m_pdu = uigw_ber_open(&e, 0xa3);
		uigw_ber_put_int(&e, 0x0a, d->reason);
		uigw_ber_close(&e, m_pdu);
		break;
	default:
		return -EINVAL;
	}
	uigw_ber_close(&e, m_single);
	uigw_ber_close(&e, m_ext);
	return uigw_ber_enc_finish(&e);
}
