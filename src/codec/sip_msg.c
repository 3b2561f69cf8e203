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

/* a token's characters (RFC 3261 25.1) */
static bool tok_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("-.!%*_+`'~", c));
}

/* [p, end) is ( ";" token [ "=" token ] )*: parameters libosip2 takes as they are */
static bool plain_params(const char *p, const char *end)
{
	while (p < end) {
		const char *t;

		if (*p++ != ';')
			return false;
		for (t = p; p < end && *p && tok_char(*p) && *p != '%'; p++)
			;
		if (p == t)
			return false;
		if (p < end && *p == '=') {
			for (t = ++p; p < end && *p && tok_char(*p) && *p != '%'; p++)
				;
			if (p == t)
				return false;
		}
	}
	return true;
}

/* The number of a name-addr in its plainest form, without libosip2's parse and its allocations (the identity of
 * every request the overload fast path refuses): [token display-name] "<" sip:user@host[:port][;params] or
 * tel:number[;params] ">" [;params]. What looks any other way (a quoted display name, escapes, a password, an
 * IPv6 host, URI headers, a bare addr-spec...) gives -EAGAIN and libosip2 decides; the fuzz target checks that both
 * agree on every input this takes. */
static int fast_name_addr(const char *v, const char *cc, const char *np, char *msisdn, size_t msisdn_len,
			  bool *got_sip)
{
	const char *p, *lt, *gt, *s, *at, *host, *e;
	char num[64];
	bool tel = false;
	size_t l;

	for (p = v; *p && *p != '<'; p++)
		if (!tok_char(*p) && *p != ' ')		/* libosip2 refuses a tab before the '<' */
			return -EAGAIN;
	if (*p != '<')
		return -EAGAIN;
	lt = p;
	for (gt = lt + 1; *gt && *gt != '>'; gt++)
		if (!(tok_char(*gt) && *gt != '%') && *gt != ':' && *gt != '@' && *gt != ';' && *gt != '=')
			return -EAGAIN;
	if (*gt != '>' || !plain_params(gt + 1, gt + 1 + strlen(gt + 1)))
		return -EAGAIN;
	s = lt + 1;
	if (gt - s > 4 && !strncasecmp(s, "sip:", 4))
		s += 4;
	else if (gt - s > 5 && !strncasecmp(s, "sips:", 5))
		s += 5;
	else if (gt - s > 4 && !strncasecmp(s, "tel:", 4)) {
		s += 4;
		tel = true;
	} else
		return -EAGAIN;
	if (tel) {
		/* tel:number[;params]: the number is the URI's text up to the first ';' */
		if (gt - s < 2 || memchr(s, '@', gt - s) || memchr(s, ':', gt - s) || *s == ';')
			return -EAGAIN;		/* (libosip2 refuses a URI of one character after the scheme) */
		e = memchr(s, ';', gt - s);
		if (e && !plain_params(e, gt))
			return -EAGAIN;
	} else {
		/* user@host[:port][;params]: one '@', no password, a host name or IPv4 address */
		at = memchr(s, '@', gt - s);
		if (!at || at == s || *s == ';' || memchr(at + 1, '@', gt - at - 1) || memchr(s, ':', at - s))
			return -EAGAIN;
		host = at + 1;
		for (e = host; e < gt && ((*e >= 'a' && *e <= 'z') || (*e >= 'A' && *e <= 'Z') ||
					  (*e >= '0' && *e <= '9') || *e == '.' || *e == '-'); e++)
			;
		if (e == host || !((*host >= 'a' && *host <= 'z') || (*host >= 'A' && *host <= 'Z') ||
				   (*host >= '0' && *host <= '9')) || e[-1] == '.' || e[-1] == '-')
			return -EAGAIN;
		if (e < gt && *e == ':') {
			const char *d = ++e;

			while (e < gt && *e >= '0' && *e <= '9')
				e++;
			if (e == d || e - d > 5)
				return -EAGAIN;
		}
		if (!plain_params(e, gt))
			return -EAGAIN;
		e = memchr(s, ';', at - s);
		if (!e)
			e = at;
	}
	if (!e)
		e = gt;
	/* as uri_number(): the user part (tel: the number) cut to the buffer, then at its first ';' */
	l = e - s;
	if (l >= sizeof(num))
		l = sizeof(num) - 1;
	memcpy(num, s, l);
	num[l] = '\0';
	if (uigw_e164_normalize(num, cc, np, msisdn, msisdn_len) < 0)
		return -EINVAL;
	*got_sip = !tel;
	return 0;
}

static int try_name_addr(const char *value, const char *cc, const char *np, char *msisdn, size_t msisdn_len,
			 char *uri, size_t uri_len, bool *got_sip, bool fast)
{
	osip_from_t *f = NULL;
	char num[64];
	char *s = NULL;
	int rc = -ENOENT;

	if (fast && !(uri && uri_len)) {
		rc = fast_name_addr(value, cc, np, msisdn, msisdn_len, got_sip);
		if (rc != -EAGAIN)
			return rc;
		rc = -ENOENT;
	}
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

int uigw_sip_name_addr_number(const char *value, const char *cc, const char *np, char *msisdn, size_t msisdn_len,
			      bool *got_sip, bool fast)
{
	*got_sip = false;
	return try_name_addr(value, cc, np, msisdn, msisdn_len, NULL, 0, got_sip, fast);
}

/* what one or more P-Asserted-Identity values gave so far: the first number, a sip: URI's preferred */
struct pai_best {
	bool found, got_sip;
	int rc;
};

/* one P-Asserted-Identity header value: one or two name-addrs (sip: and tel:), comma-separated */
static void pai_value(const char *v, const char *cc, const char *np, char *msisdn, size_t msisdn_len, char *uri,
		      size_t uri_len, struct pai_best *b)
{
	char one[256], tmp_msisdn[32], tmp_uri[256];
	const char *start;
	bool sip_uri;
	int depth = 0;

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
				b->rc = try_name_addr(one, cc, np, tmp_msisdn, sizeof(tmp_msisdn), uri ? tmp_uri : NULL,
						      uri ? sizeof(tmp_uri) : 0, &sip_uri, true);
				if (b->rc == 0 && (!b->found || (sip_uri && !b->got_sip))) {
					osmo_strlcpy(msisdn, tmp_msisdn, msisdn_len);
					if (uri && uri_len)
						osmo_strlcpy(uri, tmp_uri, uri_len);
					b->found = true;
					b->got_sip = sip_uri;
				}
			}
			if (!*v)
				break;
			start = v + 1;
		}
	}
}

int uigw_sip_identity(const struct osip_message *msg, bool from_allowed, const char *cc, const char *np,
		      char *msisdn, size_t msisdn_len, char *uri, size_t uri_len)
{
	osip_header_t *h = NULL;
	struct pai_best b = { .rc = -ENOENT };
	int pos;

	if (uri && uri_len)
		uri[0] = '\0';
	/* P-Asserted-Identity: in one header or several */
	for (pos = 0; osip_message_header_get_byname(msg, "p-asserted-identity", pos, &h) >= 0 && h; pos++) {
		if (h->hvalue)
			pai_value(h->hvalue, cc, np, msisdn, msisdn_len, uri, uri_len, &b);
		h = NULL;
	}
	if (b.found)
		return 0;
	if (!from_allowed || !msg->from || !msg->from->url)
		return b.rc == -EINVAL ? -EINVAL : -ENOENT;
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

/* a header line "Name [WS] : [WS] value": the name and the value (trailing white space cut); false if it is none */
static bool hdr_split(const char *line, size_t l, const char **name, size_t *nlen, const char **val, size_t *vlen)
{
	size_t i = 0, n;

	while (i < l && line[i] != ':' && line[i] != ' ' && line[i] != '\t')
		i++;
	n = i;
	while (i < l && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (!n || i >= l || line[i] != ':')
		return false;
	i++;
	while (i < l && (line[i] == ' ' || line[i] == '\t'))
		i++;
	while (l > i && (line[l - 1] == ' ' || line[l - 1] == '\t'))
		l--;
	*name = line;
	*nlen = n;
	*val = line + i;
	*vlen = l - i;
	return true;
}

static bool hdr_is(const char *line, size_t l, const char *name, const char **val, size_t *vlen)
{
	const char *nm;
	size_t nl;

	return hdr_split(line, l, &nm, &nl, val, vlen) && nl == strlen(name) && !strncasecmp(nm, name, nl);
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

/* ---- requests from outside, refused before the full parse (overload): the headers a stateless answer copies ---- */

/* the span's text as a C string in buf (cut to fit); "" if it does not fit */
static const char *span_str(const struct uigw_sip_span *sp, char *buf, size_t len)
{
	if (!sp->p || sp->len >= len || memchr(sp->p, '\0', sp->len)) {
		buf[0] = '\0';
		return buf;
	}
	memcpy(buf, sp->p, sp->len);
	buf[sp->len] = '\0';
	return buf;
}

static bool name_is(const char *n, size_t nl, const char *full, const char *compact)
{
	return (nl == strlen(full) && !strncasecmp(n, full, nl)) ||
	       (compact && nl == 1 && (n[0] | 0x20) == compact[0]);
}

/* The top Via value (up to its first comma outside quotes): sent-by host, branch, a valueless rport, received.
 * "SIP/2.0/UDP host[:port] *(;param[=value])" */
static int scan_top_via(const char *v, size_t vl, struct uigw_sip_raw *r)
{
	const char *end = v + vl, *p = v, *q;
	bool quoted = false;

	for (q = v; q < end; q++) {
		if (*q == '"')
			quoted = !quoted;
		else if (*q == ',' && !quoted)
			break;
	}
	end = q;
	r->top_via_len = end - v;
	/* protocol name / version / transport, then white space */
	while (p < end && *p != ' ' && *p != '\t')
		p++;
	if (p - v < 7 || strncasecmp(v, "SIP", 3))
		return -EINVAL;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	q = p;
	if (p < end && *p == '[') {
		while (p < end && *p != ']')
			p++;
		if (p == end)
			return -EINVAL;
		p++;
	} else {
		while (p < end && *p != ':' && *p != ';' && *p != ' ' && *p != '\t')
			p++;
	}
	if (p == q)
		return -EINVAL;
	r->top_host = (struct uigw_sip_span){ q, p - q };
	if (p < end && *p == ':') {
		unsigned int port = 0;

		for (p++; p < end && *p >= '0' && *p <= '9' && port <= 65535; p++)
			port = port * 10 + (*p - '0');
		if (!port || port > 65535)
			return -EINVAL;
		r->top_port = port;
	}
	/* parameters */
	while (p < end) {
		const char *n, *ne, *val = NULL, *ve;

		if (*p != ';') {
			p++;
			continue;
		}
		p++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		n = p;
		while (p < end && *p != '=' && *p != ';' && *p != ' ' && *p != '\t')
			p++;
		ne = p;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p < end && *p == '=') {
			p++;
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			val = p;
			if (p < end && *p == '"') {
				for (p++; p < end && *p != '"'; p++)
					;
				if (p < end)
					p++;
			} else {
				while (p < end && *p != ';' && *p != ' ' && *p != '\t')
					p++;
			}
		}
		ve = p;
		if (ne - n == 6 && !strncasecmp(n, "branch", 6) && val && ve > val)
			r->branch = (struct uigw_sip_span){ val, ve - val };
		else if (ne - n == 5 && !strncasecmp(n, "rport", 5) && !val)
			r->rport_at = ne - v;
		else if (ne - n == 8 && !strncasecmp(n, "received", 8))
			r->received = true;
	}
	return r->branch.len ? 0 : -EINVAL;
}

/* a tag parameter in a From/To value: after the name-addr's '>', or anywhere in a bare addr-spec */
static bool has_tag(const char *v, size_t vl)
{
	const char *end = v + vl, *gt = NULL, *p;

	for (p = v; p < end; p++)
		if (*p == '>')
			gt = p;
	for (p = gt ? gt : v; p + 5 <= end; p++)
		if (*p == ';') {
			const char *q = p + 1;
			while (q < end && (*q == ' ' || *q == '\t'))
				q++;
			if (end - q >= 4 && !strncasecmp(q, "tag", 3) && (q[3] == '=' || q[3] == ' '))
				return true;
		}
	return false;
}

/* a control character in a line (a NUL, a bare CR...): copied into an answer it would change its meaning */
static bool has_ctl(const char *line, size_t l)
{
	size_t i;

	for (i = 0; i < l; i++)
		if (((unsigned char)line[i] < 0x20 && line[i] != '\t') || line[i] == 0x7f)
			return true;
	return false;
}

int uigw_sip_raw_scan(const char *buf, size_t len, struct uigw_sip_raw *r)
{
	const char *p = buf, *end = buf + len, *line, *sp, *sp2, *n, *v;
	size_t l, nl, vl;
	bool blank = false;

	memset(r, 0, sizeof(*r));
	/* METHOD SP Request-URI SP SIP/2.0 */
	line = p;
	l = next_line(&p, end);
	sp = memchr(line, ' ', l);
	sp2 = sp ? memchr(sp + 1, ' ', line + l - sp - 1) : NULL;
	if (!sp2 || sp == line || line + l - sp2 - 1 != 7 || strncmp(sp2 + 1, "SIP/2.0", 7) || has_ctl(line, l))
		return -EINVAL;
	r->method = (struct uigw_sip_span){ line, sp - line };
	while (p < end) {
		line = p;
		l = next_line(&p, end);
		if (!l) {
			blank = true;
			break;
		}
		/* a folded line (RFC 3261 7.3.1), or no header: the full parse knows what it means */
		if (line[0] == ' ' || line[0] == '\t' || !hdr_split(line, l, &n, &nl, &v, &vl) || !vl)
			return -EINVAL;
		/* a control character matters only in the lines below, copied into the answer or read: the others go
		 * unread (checking every byte of every line was a sixth of a refusal's cost) */
		if (name_is(n, nl, "Via", "v")) {
			if (has_ctl(line, l) || r->n_via == UIGW_SIP_RAW_MAX_VIA)
				return -EINVAL;
			if (!r->n_via && scan_top_via(v, vl, r) < 0)
				return -EINVAL;
			r->via[r->n_via++] = (struct uigw_sip_span){ v, vl };
		} else if (name_is(n, nl, "From", "f")) {
			if (has_ctl(line, l) || r->from.p)
				return -EINVAL;
			r->from = (struct uigw_sip_span){ v, vl };
		} else if (name_is(n, nl, "To", "t")) {
			if (has_ctl(line, l) || r->to.p)
				return -EINVAL;
			r->to = (struct uigw_sip_span){ v, vl };
			r->to_tag = has_tag(v, vl);
		} else if (name_is(n, nl, "Call-ID", "i")) {
			if (has_ctl(line, l) || r->call_id.p)
				return -EINVAL;
			r->call_id = (struct uigw_sip_span){ v, vl };
		} else if (name_is(n, nl, "CSeq", NULL)) {
			const char *m = v, *ve = v + vl;
			if (has_ctl(line, l) || r->cseq.p)
				return -EINVAL;
			r->cseq = (struct uigw_sip_span){ v, vl };
			while (m < ve && *m >= '0' && *m <= '9')
				m++;
			if (m == v || m == ve || (*m != ' ' && *m != '\t'))
				return -EINVAL;
			while (m < ve && (*m == ' ' || *m == '\t'))
				m++;
			if (m == ve)
				return -EINVAL;
			r->cseq_method = (struct uigw_sip_span){ m, ve - m };
		} else if (name_is(n, nl, "P-Asserted-Identity", NULL)) {
			if (has_ctl(line, l) || r->n_pai == UIGW_SIP_RAW_MAX_PAI)
				return -EINVAL;
			r->pai[r->n_pai++] = (struct uigw_sip_span){ v, vl };
		}
	}
	if (!blank || !r->n_via || !r->from.p || !r->to.p || !r->call_id.p || !r->cseq.p ||
	    r->cseq_method.len != r->method.len || strncmp(r->cseq_method.p, r->method.p, r->method.len))
		return -EINVAL;
	return 0;
}

int uigw_sip_raw_identity(const struct uigw_sip_raw *r, bool from_allowed, const char *cc, const char *np,
			  char *msisdn, size_t msisdn_len)
{
	struct pai_best b = { .rc = -ENOENT };
	char val[512];
	unsigned int i;
	bool sip_uri;

	for (i = 0; i < r->n_pai; i++)
		if (span_str(&r->pai[i], val, sizeof(val))[0])
			pai_value(val, cc, np, msisdn, msisdn_len, NULL, 0, &b);
	if (b.found)
		return 0;
	if (!from_allowed)
		return b.rc == -EINVAL ? -EINVAL : -ENOENT;
	if (!span_str(&r->from, val, sizeof(val))[0])
		return -ENOENT;
	return try_name_addr(val, cc, np, msisdn, msisdn_len, NULL, 0, &sip_uri, true);
}

int uigw_sip_raw_key(const struct uigw_sip_raw *r, char *out, size_t len)
{
	const char *method = r->cseq_method.p;
	size_t ml = r->cseq_method.len, bl = r->branch.len;

	if (ml == 3 && !strncmp(method, "ACK", 3)) {
		method = "INVITE";
		ml = 6;
	}
	/* "s <branch> <method>", as sip_msg_key() makes it (without snprintf: once per refusal) */
	if (2 + bl + 1 + ml >= len || memchr(r->branch.p, '\0', bl) || memchr(method, '\0', ml))
		return -ENOSPC;
	memcpy(out, "s ", 2);
	memcpy(out + 2, r->branch.p, bl);
	out[2 + bl] = ' ';
	memcpy(out + 3 + bl, method, ml);
	out[3 + bl + ml] = '\0';
	return 0;
}

/* append to out[*o, len); false once it does not fit */
static bool put(char *out, size_t len, size_t *o, const char *s, size_t sl)
{
	if (*o + sl >= len)
		return false;
	memcpy(out + *o, s, sl);
	*o += sl;
	return true;
}

int uigw_sip_raw_response(const struct uigw_sip_raw *r, int code, const char *to_tag, const char *src_ip,
			  uint16_t src_port, const char *extra, char *out, size_t len)
{
	char tmp[96];
	size_t o = 0;
	unsigned int i;
	bool ok;
	int n;

	n = snprintf(tmp, sizeof(tmp), "SIP/2.0 %d %s\r\n", code, uigw_sip_reason(code));
	ok = put(out, len, &o, tmp, n);
	for (i = 0; ok && i < r->n_via; i++) {
		const struct uigw_sip_span *v = &r->via[i];

		ok = put(out, len, &o, "Via: ", 5);
		if (i || (!r->rport_at && (r->received || !src_ip ||
		    (strlen(src_ip) == r->top_host.len && !strncmp(src_ip, r->top_host.p, r->top_host.len))))) {
			ok = ok && put(out, len, &o, v->p, v->len);
		} else {
			/* the top Via as the server fixes it (RFC 3261 18.2.1, RFC 3581): rport's value, received */
			size_t cut = r->rport_at ? r->rport_at : r->top_via_len;

			ok = ok && put(out, len, &o, v->p, cut);
			if (r->rport_at) {
				n = snprintf(tmp, sizeof(tmp), "=%u", src_port);
				ok = ok && put(out, len, &o, tmp, n);
				ok = ok && put(out, len, &o, v->p + cut, r->top_via_len - cut);
			}
			if (!r->received && src_ip && (strlen(src_ip) != r->top_host.len ||
						       strncmp(src_ip, r->top_host.p, r->top_host.len))) {
				n = snprintf(tmp, sizeof(tmp), ";received=%s", src_ip);
				ok = ok && put(out, len, &o, tmp, n);
			}
			ok = ok && put(out, len, &o, v->p + r->top_via_len, v->len - r->top_via_len);
		}
		ok = ok && put(out, len, &o, "\r\n", 2);
	}
	ok = ok && put(out, len, &o, "From: ", 6) && put(out, len, &o, r->from.p, r->from.len) &&
	     put(out, len, &o, "\r\nTo: ", 6) && put(out, len, &o, r->to.p, r->to.len);
	if (ok && !r->to_tag && to_tag && to_tag[0]) {
		ok = put(out, len, &o, ";tag=", 5) && put(out, len, &o, to_tag, strlen(to_tag));
	}
	ok = ok && put(out, len, &o, "\r\nCall-ID: ", 11) && put(out, len, &o, r->call_id.p, r->call_id.len) &&
	     put(out, len, &o, "\r\nCSeq: ", 8) && put(out, len, &o, r->cseq.p, r->cseq.len) &&
	     put(out, len, &o, "\r\n", 2);
	if (ok && extra)
		ok = put(out, len, &o, extra, strlen(extra));
	ok = ok && put(out, len, &o, "Content-Length: 0\r\n\r\n", 21);
	if (!ok)
		return -ENOSPC;
	out[o] = '\0';
	return o;
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
