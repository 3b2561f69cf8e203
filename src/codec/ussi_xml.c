/*! \file ussi_xml.c
 *  application/vnd.3gpp.ussd+xml: parse with expat (limits on size, depth, entities), build with escaping. */

#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <expat.h>
#include <osmocom/core/talloc.h>
#include <osmocom/uigw/codec/ussi_xml.h>

enum field { F_NONE, F_LANG, F_STRING, F_ERROR };

struct pstate {
	XML_Parser p;
	struct uigw_ussi_data *out;
	unsigned int depth;
	bool root_ok;
	bool in_anyext;
	bool failed;
	enum field field;
	size_t flen;
	char errbuf[8];
};

static void fail(struct pstate *st)
{
	st->failed = true;
	XML_StopParser(st->p, XML_FALSE);
}

/* the local name of a possibly prefixed element name */
static const char *local(const char *name)
{
	const char *c = strrchr(name, ':');

	return c ? c + 1 : name;
}

static void start_el(void *data, const XML_Char *name, const XML_Char **attrs)
{
	struct pstate *st = data;
	const char *n = local(name);

	if (st->failed)
		return;
	if (++st->depth > UIGW_USSI_XML_DEPTH) {
		fail(st);
		return;
	}
	st->field = F_NONE;
	st->flen = 0;
	if (st->depth == 1) {
		if (strcmp(n, "ussd-data"))
			fail(st);
		else
			st->root_ok = true;
		return;
	}
	if (st->depth == 2) {
		if (!strcmp(n, "language")) {
			st->field = F_LANG;
			st->out->language[0] = '\0';
		} else if (!strcmp(n, "ussd-string")) {
			st->field = F_STRING;
			st->out->ussd_string[0] = '\0';
			st->out->has_string = true;
		} else if (!strcmp(n, "error-code")) {
			st->field = F_ERROR;
			st->errbuf[0] = '\0';
		} else if (!strcmp(n, "anyExt")) {
			st->in_anyext = true;
		}
		return;
	}
	if (st->depth == 3 && st->in_anyext) {
		if (!strcmp(n, "UnstructuredSS-Request"))
			st->out->kind = UIGW_USSI_REQUEST;
		else if (!strcmp(n, "UnstructuredSS-Notify"))
			st->out->kind = UIGW_USSI_NOTIFY;
	}
}

static void end_el(void *data, const XML_Char *name)
{
	struct pstate *st = data;

	if (st->failed)
		return;
	if (st->depth == 2 && st->field == F_ERROR) {
		char *end;
		long v = strtol(st->errbuf, &end, 10);
		while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
			end++;
		if (end == st->errbuf || *end || v < 0 || v > 255) {
			fail(st);
			return;
		}
		st->out->error_code = v;
	}
	if (st->depth == 2 && !strcmp(local(name), "anyExt"))
		st->in_anyext = false;
	st->field = F_NONE;
	st->depth--;
}

static void chars(void *data, const XML_Char *s, int len)
{
	struct pstate *st = data;
	char *dst;
	size_t cap;

	if (st->failed || st->depth != 2 || len <= 0)
		return;
	switch (st->field) {
	case F_LANG:
		dst = st->out->language;
		cap = sizeof(st->out->language);
		break;
	case F_STRING:
		dst = st->out->ussd_string;
		cap = sizeof(st->out->ussd_string);
		break;
	case F_ERROR:
		dst = st->errbuf;
		cap = sizeof(st->errbuf);
		break;
	default:
		return;
	}
	if (st->flen + len >= cap) {
		fail(st);
		return;
	}
	memcpy(dst + st->flen, s, len);
	st->flen += len;
	dst[st->flen] = '\0';
}

/* no DTDs at all: that rules out entity declarations and expansion attacks */
static void doctype(void *data, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid, int internal)
{
	fail(data);
}

static void entity_decl(void *data, const XML_Char *name, int is_param, const XML_Char *value, int value_len,
			const XML_Char *base, const XML_Char *sysid, const XML_Char *pubid, const XML_Char *notation)
{
	fail(data);
}

int uigw_ussi_xml_parse(const char *buf, size_t len, struct uigw_ussi_data *out)
{
	struct pstate st = { .out = out };
	enum XML_Status rc;

	memset(out, 0, sizeof(*out));
	if (!buf || !len || len > UIGW_USSI_XML_MAX)
		return -EINVAL;
	st.p = XML_ParserCreate("UTF-8");
	if (!st.p)
		return -ENOMEM;
	XML_SetUserData(st.p, &st);
	XML_SetElementHandler(st.p, start_el, end_el);
	XML_SetCharacterDataHandler(st.p, chars);
	XML_SetStartDoctypeDeclHandler(st.p, doctype);
	XML_SetEntityDeclHandler(st.p, entity_decl);
	XML_SetParamEntityParsing(st.p, XML_PARAM_ENTITY_PARSING_NEVER);
	rc = XML_Parse(st.p, buf, len, XML_TRUE);
	XML_ParserFree(st.p);
	if (rc != XML_STATUS_OK || st.failed || !st.root_ok) {
		memset(out, 0, sizeof(*out));
		return -EINVAL;
	}
	return 0;
}

static char *append_escaped(char *s, const char *in)
{
	for (; s && *in; in++) {
		switch (*in) {
		case '<':
			s = talloc_strdup_append_buffer(s, "&lt;");
			break;
		case '>':
			s = talloc_strdup_append_buffer(s, "&gt;");
			break;
		case '&':
			s = talloc_strdup_append_buffer(s, "&amp;");
			break;
		case '"':
			s = talloc_strdup_append_buffer(s, "&quot;");
			break;
		case '\'':
			s = talloc_strdup_append_buffer(s, "&apos;");
			break;
		default:
			/* control characters other than tab / newline / CR are not allowed in XML 1.0 */
			if ((unsigned char)*in < 0x20 && *in != '\t' && *in != '\n' && *in != '\r')
				break;
			s = talloc_strndup_append_buffer(s, in, 1);
			break;
		}
	}
	return s;
}

char *uigw_ussi_xml_build(void *ctx, const char *lang, const char *text, int error_code, enum uigw_ussi_kind kind)
{
	char *s = talloc_strdup(ctx, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ussd-data>\n");

	if (lang && lang[0]) {
		s = talloc_strdup_append_buffer(s, "  <language>");
		s = append_escaped(s, lang);
		s = talloc_strdup_append_buffer(s, "</language>\n");
	}
	if (text) {
		s = talloc_strdup_append_buffer(s, "  <ussd-string>");
		s = append_escaped(s, text);
		s = talloc_strdup_append_buffer(s, "</ussd-string>\n");
	}
	if (error_code > 0 && s)
		s = talloc_asprintf_append_buffer(s, "  <error-code>%d</error-code>\n", error_code);
	if (kind == UIGW_USSI_REQUEST)
		s = talloc_strdup_append_buffer(s, "  <anyExt><UnstructuredSS-Request/></anyExt>\n");
	else if (kind == UIGW_USSI_NOTIFY)
		s = talloc_strdup_append_buffer(s, "  <anyExt><UnstructuredSS-Notify/></anyExt>\n");
	if (s)
		s = talloc_strdup_append_buffer(s, "</ussd-data>\n");
	return s;
}
