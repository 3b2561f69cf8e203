/*! \file sip_msg.c
 *  What the SIP channels read out of a request: the subscriber's asserted identity, the Request-URI user part,
 *  bodies by content type. No state: also the fuzz target's entry. */

#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <osip2/osip.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/codec/sip_msg.h>
#include <osmocom/uigw/common/number.h>
#include <osmocom/uigw/common/logging.h>
#include <stdio.h>
#include <stdarg.h>

/* the number in a sip:/tel: URI, or NULL */
static const char *uri_number(const osip_uri_t *u, char *buf, size_t len)
{
	const char *src = NULL;
	char *semi;

	if (!u || !u->scheme)
		return NULL;
	if (!strcasecmp(u->scheme, "tel"))
		src = u->string;
	else if (!strcasecmp(u->scheme, "sip") || !strcasecmp(u->scheme, "sips"))
		src = u->username;
	if (!src || !src[0])
		return NULL;
	osmo_strlcpy(buf, src, len);
	semi = strchr(buf, ';');
	if (semi)
		*semi = '\0';
	return buf;
}

static int try_name_addr(const char *value, const char *cc, const char *np, char *msisdn, size_t msisdn_len,
			 char *uri, size_t uri_len, bool *got_sip)
{
	osip_from_t *f = NULL;
	char num[64];
	char *s = NULL;
	int rc = -ENOENT;

	if (osip_from_init(&f) != 0)
		return -ENOMEM;
	if (osip_from_parse(f, value) != 0 || !f->url)
		goto out;
	if (!uri_number(f->url, num, sizeof(num)))
		goto out;
	if (uigw_e164_normalize(num, cc, np, msisdn, msisdn_len) < 0) {
		rc = -EINVAL;
		goto out;
	}
	rc = 0;
	if (uri && uri_len && osip_uri_to_str(f->url, &s) == 0 && s) {
		osmo_strlcpy(uri, s, uri_len);
		osip_free(s);
	}
	*got_sip = f->url->scheme && strcasecmp(f->url->scheme, "tel");
out:
	osip_from_free(f);
	return rc;
}

int uigw_sip_identity(const struct osip_message *msg, bool from_allowed, const char *cc, const char *np,
		      char *msisdn, size_t msisdn_len, char *uri, size_t uri_len)
{
	osip_header_t *h = NULL;
	char one[256], tmp_msisdn[32], tmp_uri[256];
	bool found = false, got_sip = false, sip_uri;
	int pos, rc = -ENOENT;

	if (uri && uri_len)
		uri[0] = '\0';
	/* P-Asserted-Identity: one or two name-addrs (sip: and tel:), in one header or several */
	for (pos = 0; osip_message_header_get_byname(msg, "p-asserted-identity", pos, &h) >= 0 && h; pos++) {
		const char *v = h->hvalue, *start;
		int depth = 0;
		if (!v)
			continue;
		for (start = v;; v++) {
			if (*v == '<')
				depth++;
			else if (*v == '>' && depth)
				depth--;
			if ((*v == ',' && !depth) || !*v) {
				size_t l = v - start;
				if (l && l < sizeof(one)) {
					memcpy(one, start, l);
					one[l] = '\0';
					rc = try_name_addr(one, cc, np, tmp_msisdn, sizeof(tmp_msisdn), tmp_uri,
							   sizeof(tmp_uri), &sip_uri);
					if (rc == 0 && (!found || (sip_uri && !got_sip))) {
						osmo_strlcpy(msisdn, tmp_msisdn, msisdn_len);
						if (uri && uri_len)
							osmo_strlcpy(uri, tmp_uri, uri_len);
						found = true;
						got_sip = sip_uri;
					}
				}
				if (!*v)
					break;
				start = v + 1;
			}
		}
		h = NULL;
	}
	if (found)
		return 0;
	if (!from_allowed || !msg->from || !msg->from->url)
		return rc == -EINVAL ? -EINVAL : -ENOENT;
	{
		char num[64];
		char *s = NULL;
		if (!uri_number(msg->from->url, num, sizeof(num)))
			return -ENOENT;
		if (uigw_e164_normalize(num, cc, np, msisdn, msisdn_len) < 0)
			return -EINVAL;
		if (uri && uri_len && osip_uri_to_str(msg->from->url, &s) == 0 && s) {
			osmo_strlcpy(uri, s, uri_len);
			osip_free(s);
		}
	}
	return 0;
}

int uigw_sip_to_identity(const struct osip_message *msg, const char *cc, const char *np, char *msisdn,
			 size_t msisdn_len)
{
	char num[64];

	if (!msg->to || !msg->to->url || !uri_number(msg->to->url, num, sizeof(num)))
		return -ENOENT;
	if (uigw_e164_normalize(num, cc, np, msisdn, msisdn_len) < 0)
		return -EINVAL;
	return 0;
}

int uigw_sip_ruri_user(const struct osip_message *msg, char *out, size_t len)
{
	char *semi;

	if (!msg->req_uri || !msg->req_uri->username || !msg->req_uri->username[0] || !len)
		return -EINVAL;
	/* osip has percent-decoded the user part already: "*7730#;phone-context=..." */
	osmo_strlcpy(out, msg->req_uri->username, len);
	semi = strchr(out, ';');
	if (semi)
		*semi = '\0';
	return out[0] ? 0 : -EINVAL;
}

static bool ctype_is(const osip_content_type_t *ct, const char *want)
{
	const char *slash = strchr(want, '/');

	if (!ct || !ct->type || !ct->subtype || !slash)
		return false;
	return strlen(ct->type) == (size_t)(slash - want) && !strncasecmp(ct->type, want, slash - want) &&
	       !strcasecmp(ct->subtype, slash + 1);
}

int uigw_sip_body(const struct osip_message *msg, const char *ctype, const char **buf, size_t *len)
{
	osip_body_t *b = NULL;
	int pos;

	for (pos = 0; osip_message_get_body(msg, pos, &b) >= 0 && b; pos++) {
		/* a part's own Content-Type, else (single body) the message's */
		const osip_content_type_t *ct = b->content_type ? b->content_type : msg->content_type;
		if (ctype_is(ct, ctype) && b->body) {
			*buf = b->body;
			*len = b->length;
			return 0;
		}
		b = NULL;
	}
	return -ENOENT;
}

/* libosip2 traces (parse errors of every malformed packet) go to our log at debug level, not to stderr */
static void osip_trace_cb(const char *fi, int li, osip_trace_level_t level, const char *chfr, va_list ap)
{
	char buf[256];

	if (!osmo_log_info || !log_check_level(DSIP, LOGL_DEBUG))
		return;
	vsnprintf(buf, sizeof(buf), chfr, ap);
	LOGP(DSIP, LOGL_DEBUG, "osip %s:%d: %s%s", fi, li, buf, buf[0] && buf[strlen(buf) - 1] == '\n' ? "" : "\n");
}

/*! Route libosip2's traces into the DSIP log (also for tests and fuzz targets). */
void uigw_sip_osip_quiet(void)
{
	int i;

	for (i = 0; i < END_TRACE_LEVEL; i++)
		osip_trace_disable_level(i);
	osip_trace_initialize_func(OSIP_INFO4, osip_trace_cb);
	for (i = 0; i < END_TRACE_LEVEL; i++)
		osip_trace_disable_level(i);
	osip_trace_enable_level(OSIP_ERROR);
	osip_trace_enable_level(OSIP_WARNING);
}

/* the next line of [p, end): returns its length without the line break, advances *p past it */
static size_t next_line(const char **p, const char *end)
{
	const char *s = *p, *nl = memchr(s, '\n', end - s);
	size_t l;

	if (!nl) {
		*p = end;
		return end - s;
	}
	*p = nl + 1;
	l = nl - s;
	if (l && s[l - 1] == '\r')
		l--;
	return l;
}

static bool hdr_is(const char *line, size_t l, const char *name, const char **val, size_t *vlen)
{
	size_t n = strlen(name);

	if (l <= n || strncasecmp(line, name, n) || line[n] != ':')
		return false;
	line += n + 1;
	l -= n + 1;
	while (l && (*line == ' ' || *line == '\t')) {
		line++;
		l--;
	}
	*val = line;
	*vlen = l;
	return true;
}

static void copy_val(char *dst, size_t dlen, const char *v, size_t vl)
{
	if (vl >= dlen)
		vl = dlen - 1;
	memcpy(dst, v, vl);
	dst[vl] = '\0';
}

int uigw_sip_cpim_parse(const char *buf, size_t len, struct uigw_cpim *out)
{
	const char *p = buf, *end = buf + len, *v;
	size_t l, vl;
	bool blank = false;

	memset(out, 0, sizeof(*out));
	if (!buf)
		return -EINVAL;
	/* CPIM message headers */
	while (p < end) {
		const char *line = p;
		l = next_line(&p, end);
		if (!l) {
			blank = true;
			break;
		}
		if (hdr_is(line, l, "imdn.Message-ID", &v, &vl))
			copy_val(out->message_id, sizeof(out->message_id), v, vl);
		else if (hdr_is(line, l, "imdn.Disposition-Notification", &v, &vl)) {
			char tmp[128];
			copy_val(tmp, sizeof(tmp), v, vl);
			out->want_delivery = strcasestr(tmp, "positive-delivery") != NULL;
		}
	}
	if (!blank)
		return -EINVAL;
	/* MIME headers of the encapsulated body */
	blank = false;
	while (p < end) {
		const char *line = p;
		l = next_line(&p, end);
		if (!l) {
			blank = true;
			break;
		}
		if (hdr_is(line, l, "Content-Type", &v, &vl))
			copy_val(out->content_type, sizeof(out->content_type), v, vl);
	}
	if (!blank)
		return -EINVAL;
	out->body = p;
	out->body_len = end - p;
	return 0;
}

/* ---- requests of our own: what the transport needs, without libosip2's parse ---- */

static int copy_tok(char *dst, size_t dlen, const char *v, size_t vl)
{
	if (!vl || vl >= dlen || memchr(v, '\0', vl))
		return -EINVAL;
	memcpy(dst, v, vl);
	dst[vl] = '\0';
	return 0;
}

/* host and port of a SIP URI "sip:[user@]host[:port][;params][?headers]", inside <> or bare */
static int scan_uri(const char *v, size_t vl, struct uigw_sip_req_info *ri)
{
	const char *end = v + vl, *p, *at, *h, *he;

	p = memchr(v, '<', vl);
	if (p) {
		v = p + 1;
		p = memchr(v, '>', end - v);
		if (!p)
			return -EINVAL;
		end = p;
	}
	if (end - v > 4 && !strncasecmp(v, "sip:", 4))
		v += 4;
	else if (end - v > 5 && !strncasecmp(v, "sips:", 5))
		v += 5;
	else
		return -EINVAL;
	/* the userinfo ends at the last '@' before any parameter or header */
	for (p = v, at = NULL; p < end && *p != ';' && *p != '?'; p++)
		if (*p == '@')
			at = p;
	h = at ? at + 1 : v;
	for (he = h; he < end && *he != ':' && *he != ';' && *he != '?' && *he != ' '; he++)
		;
	if (copy_tok(ri->host, sizeof(ri->host), h, he - h) < 0)
		return -EINVAL;
	ri->port = 0;
	if (he < end && *he == ':') {
		const char *d = he + 1;
		long port = 0;

		/* bounded by end: the text need not be NUL-terminated */
		for (; d < end && *d >= '0' && *d <= '9' && port <= 65535; d++)
			port = port * 10 + (*d - '0');
		if (d == he + 1 || port <= 0 || port > 65535)
			return -EINVAL;
		ri->port = port;
	}
	return 0;
}

int uigw_sip_scan_request(const char *text, size_t len, struct uigw_sip_req_info *ri)
{
	const char *p = text, *end = text + len, *line, *v, *sp, *sp2;
	bool via = false, cseq = false, route = false;
	size_t l, vl;

	memset(ri, 0, sizeof(*ri));
	/* METHOD SP Request-URI SP SIP/2.0 */
	line = p;
	l = next_line(&p, end);
	sp = memchr(line, ' ', l);
	sp2 = sp ? memchr(sp + 1, ' ', line + l - sp - 1) : NULL;
	if (!sp2 || copy_tok(ri->method, sizeof(ri->method), line, sp - line) < 0 ||
	    scan_uri(sp + 1, sp2 - sp - 1, ri) < 0 || line + l - sp2 - 1 != 7 || strncmp(sp2 + 1, "SIP/2.0", 7))
		return -EINVAL;
	while (p < end) {
		line = p;
		l = next_line(&p, end);
		if (!l)
			break;
		if (!via && (hdr_is(line, l, "Via", &v, &vl) || hdr_is(line, l, "v", &v, &vl))) {
			const char *b = NULL, *be, *q;
			via = true;
			for (q = v; q + 8 <= v + vl && *q != ','; q++)
				if (!strncasecmp(q, ";branch=", 8)) {
					b = q + 8;
					break;
				}
			if (!b)
				return -EINVAL;
			for (be = b; be < v + vl && *be != ';' && *be != ',' && *be != ' '; be++)
				;
			if (copy_tok(ri->branch, sizeof(ri->branch), b, be - b) < 0)
				return -EINVAL;
		} else if (!cseq && hdr_is(line, l, "CSeq", &v, &vl)) {
			const char *m = memchr(v, ' ', vl);
			cseq = true;
			if (!m)
				return -EINVAL;
			while (m < v + vl && *m == ' ')
				m++;
			if (copy_tok(ri->cseq_method, sizeof(ri->cseq_method), m, v + vl - m) < 0)
				return -EINVAL;
		} else if (!route && hdr_is(line, l, "Route", &v, &vl)) {
			route = true;
			if (scan_uri(v, vl, ri) < 0)
				return -EINVAL;
		}
	}
	return via && cseq ? 0 : -EINVAL;
}

const char *uigw_sip_reason(int code)
{
	switch (code) {
	case 100: return "Trying";
	case 200: return "OK";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 415: return "Unsupported Media Type";
	case 481: return "Call/Transaction Does Not Exist";
	case 486: return "Busy Here";
	case 469: return "Bad Info Package";
	case 488: return "Not Acceptable Here";
	case 500: return "Server Internal Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}
