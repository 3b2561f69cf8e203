/*! \file campaign_tmpl.c
 *  Campaign text templates: literal runs, ${variable} and ${function(argument)} substitutions. */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <talloc.h>
#include <osmocom/uigw/core/campaign.h>
#include <osmocom/uigw/store/query.h>

/*! Longest variable or function name in a template */
#define TMPL_NAME_MAX	32
/*! Longest "literal" function argument */
#define TMPL_LIT_MAX	64

static bool is_name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
}

/* Strict UTF-8 check (no overlongs, no surrogates, at most U+10FFFF). */
static bool utf8_ok(const unsigned char *s)
{
	while (*s) {
		unsigned int n, i;
		uint32_t cp;

		if (*s < 0x80) {
			s++;
			continue;
		} else if ((*s & 0xe0) == 0xc0) {
			n = 1;
			cp = *s & 0x1f;
		} else if ((*s & 0xf0) == 0xe0) {
			n = 2;
			cp = *s & 0x0f;
		} else if ((*s & 0xf8) == 0xf0) {
			n = 3;
			cp = *s & 0x07;
		} else {
			return false;
		}
		for (i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		s += n + 1;
	}
	return true;
}

/* Compiler state. */
struct tc {
	struct uigw_tmpl *t;
	const char *p;			/* read position */
	char *lit;			/* pending literal run (talloc, child of t) */
	char *err;
	size_t err_len;
};

static int tc_err(struct tc *tc, const char *fmt, ...)
{
	va_list ap;

	if (tc->err && tc->err_len) {
		va_start(ap, fmt);
		vsnprintf(tc->err, tc->err_len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int bad_char(struct tc *tc)
{
	unsigned char ch = (unsigned char)*tc->p;

	if (ch == '\0')
		return tc_err(tc, "unbalanced '${'");
	if (ch >= 0x20 && ch < 0x7f)
		return tc_err(tc, "bad character '%c' in '${...}'", ch);
	return tc_err(tc, "bad character 0x%02x in '${...}'", ch);
}

static struct uigw_tmpl_seg *seg_add(struct tc *tc, enum uigw_seg_kind kind)
{
	struct uigw_tmpl *t = tc->t;
	struct uigw_tmpl_seg *seg = talloc_realloc(t, t->seg, struct uigw_tmpl_seg, t->n_seg + 1);

	if (!seg)
		return NULL;
	t->seg = seg;
	seg = &t->seg[t->n_seg++];
	memset(seg, 0, sizeof(*seg));
	seg->kind = kind;
	return seg;
}

static int lit_flush(struct tc *tc)
{
	struct uigw_tmpl_seg *seg;

	if (!tc->lit)
		return 0;
	seg = seg_add(tc, UIGW_SEG_LIT);
	if (!seg)
		return -ENOMEM;
	seg->text = tc->lit;
	tc->lit = NULL;
	return 0;
}

static int lit_add(struct tc *tc, const char *s, size_t n)
{
	char *l = tc->lit ? talloc_strndup_append_buffer(tc->lit, s, n) : talloc_strndup(tc->t, s, n);

	if (!l)
		return -ENOMEM;
	tc->lit = l;
	return 0;
}

static void skip_ws(struct tc *tc)
{
	while (*tc->p == ' ' || *tc->p == '\t')
		tc->p++;
}

/* Read a [a-z0-9_]+ name at tc->p into buf. \returns its length (0: none there) or -EINVAL if too long */
static int read_name(struct tc *tc, char *buf)
{
	size_t n = 0;

	while (is_name_char(tc->p[n]))
		n++;
	if (n > TMPL_NAME_MAX)
		return tc_err(tc, "name '%.*s...' is too long", TMPL_NAME_MAX, tc->p);
	memcpy(buf, tc->p, n);
	buf[n] = '\0';
	tc->p += n;
	return n;
}

/* Parse one "${...}" with tc->p just after "${". */
static int subst(struct tc *tc)
{
	char name[TMPL_NAME_MAX + 1], arg[TMPL_LIT_MAX + 1];
	struct uigw_tmpl_seg *seg;
	bool literal = false;
	int rc, q;

	skip_ws(tc);
	rc = read_name(tc, name);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		if (*tc->p == '}')
			return tc_err(tc, "empty '${}'");
		return bad_char(tc);
	}
	skip_ws(tc);
	if (*tc->p == '}') {
		tc->p++;
		seg = seg_add(tc, UIGW_SEG_VAR);
		if (!seg || !(seg->text = talloc_strdup(tc->t, name)))
			return -ENOMEM;
		return 0;
	}
	if (*tc->p != '(')
		return bad_char(tc);
	tc->p++;
	q = uigw_query_by_name(name);
	if (q < 0)
		return tc_err(tc, "unknown function '%s'", name);
	skip_ws(tc);
	if (*tc->p == '"') {
		const char *end = strchr(tc->p + 1, '"');

		if (!end)
			return tc_err(tc, "unbalanced '${'");
		if (end == tc->p + 1)
			return tc_err(tc, "empty argument of '%s'", name);
		if (end - tc->p - 1 > TMPL_LIT_MAX)
			return tc_err(tc, "argument of '%s' is too long", name);
		memcpy(arg, tc->p + 1, end - tc->p - 1);
		arg[end - tc->p - 1] = '\0';
		if (strchr(arg, '}') || strchr(arg, '\n'))
			return tc_err(tc, "bad argument of '%s'", name);
		tc->p = end + 1;
		literal = true;
	} else {
		rc = read_name(tc, arg);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			if (*tc->p == ')')
				return tc_err(tc, "empty argument of '%s'", name);
			return bad_char(tc);
		}
	}
	skip_ws(tc);
	if (*tc->p != ')')
		return bad_char(tc);
	tc->p++;
	skip_ws(tc);
	if (*tc->p != '}')
		return bad_char(tc);
	tc->p++;
	seg = seg_add(tc, UIGW_SEG_QUERY);
	if (!seg || !(seg->text = talloc_strdup(tc->t, arg)))
		return -ENOMEM;
	seg->query = q;
	seg->arg_is_literal = literal;
	tc->t->n_queries++;
	return 0;
}

int uigw_tmpl_compile(void *ctx, const char *src, struct uigw_tmpl **out, char *err, size_t err_len)
{
	struct tc tc = { .err = err, .err_len = err_len };
	const char *run;
	int rc;

	*out = NULL;
	if (!src)
		return tc_err(&tc, "no text");
	if (!utf8_ok((const unsigned char *)src))
		return tc_err(&tc, "not valid UTF-8");
	tc.t = talloc_zero(ctx, struct uigw_tmpl);
	if (!tc.t)
		return -ENOMEM;
	tc.t->src = talloc_strdup(tc.t, src);
	if (!tc.t->src) {
		rc = -ENOMEM;
		goto fail;
	}

	tc.p = src;
	while (*tc.p) {
		/* copy the literal run up to the next '$' */
		run = tc.p;
		while (*tc.p && *tc.p != '$')
			tc.p++;
		if (tc.p > run && (rc = lit_add(&tc, run, tc.p - run)) < 0)
			goto fail;
		if (!*tc.p)
			break;
		if (tc.p[1] == '$') {
			rc = lit_add(&tc, "$", 1);
			tc.p += 2;
		} else if (tc.p[1] == '{') {
			tc.p += 2;
			rc = lit_flush(&tc);
			if (rc == 0)
				rc = subst(&tc);
		} else {
			/* a lone '$' ("costs 5$") is literal */
			rc = lit_add(&tc, "$", 1);
			tc.p++;
		}
		if (rc < 0)
			goto fail;
	}
	rc = lit_flush(&tc);
	if (rc < 0)
		goto fail;
	*out = tc.t;
	return 0;
fail:
	if (rc == -ENOMEM)
		tc_err(&tc, "out of memory");
	talloc_free(tc.t);
	return rc;
}
