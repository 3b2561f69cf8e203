/*! \file ber.c
 *  A small BER TLV codec (see ber.h): strict bounds checks on decoding, definite lengths in short and long
 *  form on encoding (constructed elements get their length when closed, the contents are moved up if the
 *  length needs the long form). */

#include <errno.h>
#include <string.h>
#include <osmocom/uigw/codec/ber.h>

/* the longest length we encode: 0x82 + 2 octets */
#define BER_ENC_MAX_LEN	0xffff

int uigw_ber_dec(const uint8_t *buf, size_t len, struct uigw_ber_tlv *tlv)
{
	size_t vlen, hdr;
	uint8_t l0;

	if (!buf || len == 0)
		return -ENODATA;
	if ((buf[0] & 0x1f) == 0x1f)
		return -ENOTSUP;	/* multi-octet tag */
	if (len < 2)
		return -EINVAL;
	l0 = buf[1];
	if (l0 < 0x80) {
		vlen = l0;
		hdr = 2;
	} else if (l0 == 0x80) {
		return -ENOTSUP;	/* indefinite length */
	} else {
		unsigned int n = l0 & 0x7f, i;
		if (n > 4)
			return -EINVAL;
		if (len < 2 + n)
			return -EINVAL;
		vlen = 0;
		for (i = 0; i < n; i++)
			vlen = (vlen << 8) | buf[2 + i];
		hdr = 2 + n;
	}
	if (vlen > len - hdr)
		return -EINVAL;
	tlv->tag = buf[0];
	tlv->val = buf + hdr;
	tlv->len = vlen;
	tlv->total = hdr + vlen;
	return (int)tlv->total;
}

int uigw_ber_next(const uint8_t **pos, size_t *rem, struct uigw_ber_tlv *tlv)
{
	int rc;

	if (*rem == 0)
		return -ENODATA;
	rc = uigw_ber_dec(*pos, *rem, tlv);
	if (rc < 0)
		return rc;
	*pos += rc;
	*rem -= rc;
	return rc;
}

int uigw_ber_get_int(const struct uigw_ber_tlv *tlv, int64_t *v)
{
	uint64_t u;
	size_t i;

	if (tlv->len == 0 || tlv->len > 8)
		return -EINVAL;
	/* sign-extend from the first octet */
	u = (tlv->val[0] & 0x80) ? UINT64_MAX : 0;
	for (i = 0; i < tlv->len; i++)
		u = (u << 8) | tlv->val[i];
	*v = (int64_t)u;
	return 0;
}

size_t uigw_ber_len_size(size_t len)
{
	if (len < 0x80)
		return 1;
	if (len <= 0xff)
		return 2;
	if (len <= 0xffff)
		return 3;
	if (len <= 0xffffff)
		return 4;
	return 5;
}

void uigw_ber_enc_init(struct uigw_ber_enc *e, uint8_t *buf, size_t size)
{
	e->buf = buf;
	e->size = buf ? size : 0;
	e->len = 0;
	e->err = 0;
}

/* write a definite length field at p (room checked by the caller) */
static void put_len(uint8_t *p, size_t len)
{
	if (len < 0x80) {
		p[0] = len;
	} else if (len <= 0xff) {
		p[0] = 0x81;
		p[1] = len;
	} else {
		p[0] = 0x82;
		p[1] = len >> 8;
		p[2] = len & 0xff;
	}
}

void uigw_ber_put(struct uigw_ber_enc *e, uint8_t tag, const uint8_t *val, size_t len)
{
	size_t ls;

	if (e->err)
		return;
	if ((tag & 0x1f) == 0x1f || len > BER_ENC_MAX_LEN || (len && !val)) {
		e->err = -EINVAL;
		return;
	}
	ls = uigw_ber_len_size(len);
	if (e->size - e->len < 1 + ls + len) {
		e->err = -ENOSPC;
		return;
	}
	e->buf[e->len] = tag;
	put_len(e->buf + e->len + 1, len);
	if (len)
		memcpy(e->buf + e->len + 1 + ls, val, len);
	e->len += 1 + ls + len;
}

void uigw_ber_put_int(struct uigw_ber_enc *e, uint8_t tag, int64_t v)
{
	uint8_t b[8];
	size_t n = 8, i;
	uint64_t u = (uint64_t)v;

	for (i = 0; i < 8; i++)
		b[7 - i] = (u >> (8 * i)) & 0xff;
	/* drop leading octets that only repeat the sign */
	i = 0;
	while (n > 1 && ((b[i] == 0x00 && !(b[i + 1] & 0x80)) || (b[i] == 0xff && (b[i + 1] & 0x80)))) {
		i++;
		n--;
	}
	uigw_ber_put(e, tag, b + i, n);
}

size_t uigw_ber_open(struct uigw_ber_enc *e, uint8_t tag)
{
	size_t mark;

	if (e->err)
		return 0;
	if ((tag & 0x1f) == 0x1f) {
		e->err = -EINVAL;
		return 0;
	}
	if (e->size - e->len < 2) {
		e->err = -ENOSPC;
		return 0;
	}
	e->buf[e->len] = tag;
	mark = e->len + 1;	/* where the length goes; one octet reserved */
	e->buf[mark] = 0;
	e->len += 2;
	return mark;
}

void uigw_ber_close(struct uigw_ber_enc *e, size_t mark)
{
	size_t clen, ls;

	if (e->err)
		return;
	if (mark == 0 || mark >= e->len) {
		e->err = -EINVAL;
		return;
	}
	clen = e->len - mark - 1;
	if (clen > BER_ENC_MAX_LEN) {
		e->err = -EMSGSIZE;
		return;
	}
	ls = uigw_ber_len_size(clen);
	if (ls > 1) {
		if (e->size - e->len < ls - 1) {
			e->err = -ENOSPC;
			return;
		}
		memmove(e->buf + mark + ls, e->buf + mark + 1, clen);
		e->len += ls - 1;
	}
	put_len(e->buf + mark, clen);
}

int uigw_ber_enc_finish(const struct uigw_ber_enc *e)
{
	return e->err ? e->err : (int)e->len;
}
