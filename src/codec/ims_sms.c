/*! \file ims_sms.c
 *  SMS over IP (3GPP TS 24.341, bodies application/vnd.3gpp.sms): the RP layer (TS 24.011 7.3) and the
 *  TPDUs (TS 23.040) the ims-msg channel needs: RP-DATA with SMS-SUBMIT in, RP-ACK back, RP-DATA with
 *  SMS-DELIVER out (concatenated when a screen needs several parts), RP-ACK / RP-ERROR from the UE. No state. */

#include <errno.h>
#include <string.h>
#include <time.h>
#include <osmocom/core/utils.h>
#include <osmocom/gsm/gsm0411_utils.h>
#include <osmocom/gsm/gsm48_ie.h>
#include <osmocom/gsm/protocol/gsm_04_11.h>
#include <osmocom/uigw/codec/sms_ip.h>
#include <osmocom/uigw/codec/charset.h>

/* An address (TS 24.011 RP-address, TS 23.040 TP-address): type of address \a toa, \a n_octets of BCD digits
 * (libosmocore's gsm48_decode_bcd_number2() reads them, 0-9 * # a b c, up to the F filler), at most
 * \a max_digits of them; '+' in front of an international number. \returns 0 or -EINVAL */
static int addr_to_str(uint8_t toa, const uint8_t *bcd, unsigned int n_octets, unsigned int max_digits, char *out,
		       size_t out_len)
{
	uint8_t lv[2 + 16];
	bool intl = ((toa >> 4) & 0x7) == 1;

	if (out_len < 2 || n_octets > sizeof(lv) - 2)
		return -EINVAL;
	lv[0] = 1 + n_octets;
	lv[1] = toa;
	memcpy(lv + 2, bcd, n_octets);
	if (intl)
		*out++ = '+', out_len--;
	if (gsm48_decode_bcd_number2(out, out_len, lv, 2 + n_octets, 1) < 0)
		return -EINVAL;
	if (strlen(out) > max_digits)
		out[max_digits] = '\0';
	return 0;
}

int uigw_sms_rp_parse(const uint8_t *buf, size_t len, struct uigw_sms_rp *rp)
{
	size_t p = 2;
	uint8_t l;

	memset(rp, 0, sizeof(*rp));
	if (!buf || len < 2)
		return -EINVAL;
	rp->mti = buf[0] & 0x07;
	rp->ref = buf[1];
	switch (rp->mti) {
	case GSM411_MT_RP_DATA_MO:
		/* RP-OA: empty from the MS */
		if (p >= len)
			return -EINVAL;
		l = buf[p++];
		if (p + l > len)
			return -EINVAL;
		p += l;
		/* RP-DA: the service centre */
		if (p >= len)
			return -EINVAL;
		l = buf[p++];
		if (p + l > len || l > 11)
			return -EINVAL;
		if (l >= 2 && addr_to_str(buf[p], buf + p + 1, l - 1, 20, rp->sc, sizeof(rp->sc)) < 0)
			return -EINVAL;
		p += l;
		/* RP-User-Data: the TPDU */
		if (p >= len)
			return -EINVAL;
		l = buf[p++];
		if (p + l > len || !l)
			return -EINVAL;
		rp->tpdu = buf + p;
		rp->tpdu_len = l;
		return 0;
	case GSM411_MT_RP_ACK_MO:
	case GSM411_MT_RP_ERROR_MO:
		if (rp->mti == GSM411_MT_RP_ERROR_MO && len >= 4)
			rp->cause = buf[3];
		return 0;
	default:
		return -EINVAL;
	}
}

int uigw_sms_submit_parse(const uint8_t *t, size_t len, char *da, size_t da_len, char *text, size_t text_len)
{
	size_t p = 0;
	uint8_t fo, vpf, dal, dcs, udl;
	bool udhi;
	unsigned int udh_octets = 0;

	if (!t || len < 7 || !da_len || !text_len)
		return -EINVAL;
	fo = t[p++];
	if ((fo & 0x03) != 0x01)	/* SMS-SUBMIT */
		return -EINVAL;
	vpf = (fo >> 3) & 0x03;
	udhi = fo & 0x40;
	p++;				/* TP-MR */
	dal = t[p++];			/* digits */
	if (dal > 20 || p + 1 + (dal + 1) / 2 > len)
		return -EINVAL;
	if (addr_to_str(t[p], t + p + 1, (dal + 1) / 2, dal, da, da_len) < 0)
		return -EINVAL;
	p += 1 + (dal + 1) / 2;
	if (p + 2 > len)
		return -EINVAL;
	p++;				/* TP-PID */
	dcs = t[p++];
	p += vpf == 0 ? 0 : vpf == 2 ? 1 : 7;
	if (p >= len)
		return -EINVAL;
	udl = t[p++];
	switch (gsm338_get_sms_alphabet(dcs)) {
	case DCS_7BIT_DEFAULT: {
		uint8_t septets[200];
		size_t octets = (udl * 7 + 7) / 8, skip = 0;
		int n;
		if (udl > 160 || p + octets > len)
			return -EINVAL;
		if (udhi) {
			if (p >= len || !udl)
				return -EINVAL;	/* a UDH announced in no user data */
			udh_octets = t[p] + 1;
			skip = (udh_octets * 8 + 6) / 7;
			if (skip > udl)
				return -EINVAL;
		}
		n = uigw_gsm7_unpack(septets, sizeof(septets), t + p, octets, false);
		if (n < 0)
			return -EINVAL;
		if (n > udl)
			n = udl;
		if (uigw_gsm7_to_utf8(text, text_len, septets + skip, n - skip) < 0)
			return -ENOSPC;
		return 0;
	}
	case DCS_UCS2:
	case DCS_8BIT_DATA:
		if (udl > 140 || p + udl > len)
			return -EINVAL;
		if (udhi) {
			if (p >= len || !udl)
				return -EINVAL;
			udh_octets = t[p] + 1;
			if (udh_octets > udl)
				return -EINVAL;
		}
		if (gsm338_get_sms_alphabet(dcs) == DCS_UCS2)
			return uigw_ucs2_to_utf8(text, text_len, t + p + udh_octets, udl - udh_octets) < 0 ? -ENOSPC : 0;
		return uigw_latin1_to_utf8(text, text_len, t + p + udh_octets, udl - udh_octets) < 0 ? -ENOSPC : 0;
	default:
		return -EINVAL;
	}
}

int uigw_sms_submit_concat(const uint8_t *t, size_t len, uint16_t *ref, uint8_t *total, uint8_t *seq)
{
	size_t p = 0, udh_end;
	uint8_t fo, vpf, dal;

	if (!t || len < 7)
		return -EINVAL;
	fo = t[p++];
	if ((fo & 0x03) != 0x01)
		return -EINVAL;
	if (!(fo & 0x40))
		return 0;			/* no UDH */
	vpf = (fo >> 3) & 0x03;
	p++;				/* TP-MR */
	dal = t[p++];
	p += 1 + (dal + 1) / 2;		/* TP-DA */
	p += 2;				/* TP-PID, TP-DCS */
	p += vpf == 0 ? 0 : vpf == 2 ? 1 : 7;
	p++;				/* TP-UDL */
	if (dal > 20 || p >= len)
		return -EINVAL;
	udh_end = p + 1 + t[p];
	if (udh_end > len)
		return -EINVAL;
	for (p++; p + 2 <= udh_end; ) {
		uint8_t iei = t[p], iel = t[p + 1];
		const uint8_t *v = t + p + 2;

		if (p + 2 + iel > udh_end)
			return -EINVAL;
		if (iei == 0x00 && iel == 3 && v[1] && v[2] && v[2] <= v[1]) {
			*ref = v[0];
			*total = v[1];
			*seq = v[2];
			return *total > 1 ? 1 : 0;
		}
		if (iei == 0x08 && iel == 4 && v[2] && v[3] && v[3] <= v[2]) {
			*ref = (uint16_t)v[0] << 8 | v[1];
			*total = v[2];
			*seq = v[3];
			return *total > 1 ? 1 : 0;
		}
		p += 2 + iel;
	}
	return 0;
}

int uigw_sms_rp_ack(uint8_t *out, size_t out_len, uint8_t ref)
{
	if (out_len < 2)
		return -ENOSPC;
	out[0] = GSM411_MT_RP_ACK_MT;
	out[1] = ref;
	return 2;
}

/* an address field (TS 23.040 9.1.2.5 / TS 24.011 8.2.5.1): international if it starts with '+' */
static int gen_addr(uint8_t *out, size_t out_len, const char *number, bool rp)
{
	bool intl = number[0] == '+';
	int n;

	if (intl)
		number++;
	if (strlen(number) > 20 || strspn(number, "0123456789") != strlen(number) || out_len < 12)
		return -EINVAL;
	/* gsm340_gen_oa: [digits][toa][bcd...] */
	n = gsm340_gen_oa(out, out_len, intl ? 1 : 0, 1, number);
	if (n < 2)
		return -EINVAL;
	if (rp)
		out[0] = n - 1;	/* RP addresses count octets (TOA + BCD), TP addresses digits */
	return n;
}

int uigw_sms_deliver(const char *sc, const char *oa, const char *utf8, uint8_t rp_ref, uint8_t concat_ref,
		     struct uigw_sms_pdu *pdus, unsigned int max_pdus)
{
	uint8_t units[2 * 4 * 160];
	unsigned int n_units, per_part, n_parts, i, max_unit_part;
	unsigned int bounds[17];
	bool ucs2 = false;
	int n;

	n = uigw_utf8_to_gsm7(units, sizeof(units), utf8, strlen(utf8));
	if (n == -ERANGE) {
		ucs2 = true;
		n = uigw_utf8_to_ucs2(units, sizeof(units), utf8, strlen(utf8));
	}
	if (n < 0)
		return n;
	n_units = n;	/* septets, or UCS-2 octets */
	max_unit_part = ucs2 ? 140 : 160;
	per_part = ucs2 ? 134 : 153;
	/* part boundaries: never split a GSM escape pair or a UTF-16 surrogate pair */
	n_parts = 0;
	if (n_units <= max_unit_part) {
		bounds[0] = 0;
		bounds[1] = n_units;
		n_parts = 1;
	} else {
		unsigned int start = 0;
		while (start < n_units) {
			unsigned int cnt = OSMO_MIN(per_part, n_units - start);
			if (start + cnt < n_units) {
				if (!ucs2 && units[start + cnt - 1] == 0x1b)
					cnt--;
				if (ucs2 && (units[start + cnt - 2] & 0xfc) == 0xd8)
					cnt -= 2;
			}
			if (n_parts >= max_pdus || n_parts >= ARRAY_SIZE(bounds) - 1)
				return -ENOSPC;
			bounds[n_parts++] = start;
			start += cnt;
		}
		bounds[n_parts] = n_units;
	}

	for (i = 0; i < n_parts; i++) {
		struct uigw_sms_pdu *pdu = &pdus[i];
		unsigned int start = bounds[i], cnt = bounds[i + 1] - bounds[i];
		uint8_t *b = pdu->data;
		size_t p = 0, ud_len_pos, rp_ud_len_pos;
		int a;

		b[p++] = GSM411_MT_RP_DATA_MT;
		b[p++] = rp_ref + i;
		a = gen_addr(b + p, sizeof(pdu->data) - p, sc, true);	/* RP-OA: the service centre */
		if (a < 0)
			return a;
		p += a;
		b[p++] = 0;			/* RP-DA: empty towards the MS */
		rp_ud_len_pos = p++;
		/* SMS-DELIVER */
		b[p++] = 0x04 | (n_parts > 1 ? 0x40 : 0);	/* MTI deliver, MMS (no more), UDHI */
		a = gen_addr(b + p, sizeof(pdu->data) - p, oa, false);
		if (a < 0)
			return a;
		p += a;
		b[p++] = 0x00;			/* PID */
		b[p++] = ucs2 ? 0x08 : 0x00;	/* DCS */
		gsm340_gen_scts(b + p, time(NULL));
		p += 7;
		ud_len_pos = p++;
		if (!ucs2) {
			uint8_t sept[7 + 160];
			unsigned int off = n_parts > 1 ? 7 : 0;
			memset(sept, 0, off);
			memcpy(sept + off, units + start, cnt);
			n = uigw_gsm7_pack(b + p, sizeof(pdu->data) - p, sept, off + cnt, false);
			if (n < 0)
				return n;
			if (off) {
				uint8_t udh[6] = { 5, 0x00, 3, concat_ref, n_parts, i + 1 };
				memcpy(b + p, udh, 6);
			}
			b[ud_len_pos] = off + cnt;
			p += n;
		} else {
			if (n_parts > 1) {
				uint8_t udh[6] = { 5, 0x00, 3, concat_ref, n_parts, i + 1 };
				memcpy(b + p, udh, 6);
				p += 6;
			}
			memcpy(b + p, units + start, cnt);
			p += cnt;
			b[ud_len_pos] = (n_parts > 1 ? 6 : 0) + cnt;
		}
		b[rp_ud_len_pos] = p - rp_ud_len_pos - 1;
		pdu->len = p;
	}
	return n_parts;
}
