/*! \file campaign_cfg.c
 *  Reading a campaign file's libconfig settings: typed getters that check names, types and ranges, texts in
 *  several languages, template compilation with known variables, and the "file:line: reason" messages. */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <ctype.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <talloc.h>
#include <libconfig.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/campaign.h>
#include <osmocom/uigw/core/schedule.h>

#include "campaign_priv.h"

/*! Variables every campaign text can use. */
const char *const ld_builtin_vars[] = { "msisdn", "campaign", "language", "answer", "scale", NULL };

/*
 * Messages
 */

static void ld_msg(struct ld *ld, unsigned int line, const char *fmt, va_list ap)
{
	int n;

	if (!ld->err || !ld->err_len)
		return;
	n = snprintf(ld->err, ld->err_len, "%s:%u: %s", ld->fname, line ? line : 1, ld->where);
	if (n >= 0 && (size_t)n < ld->err_len)
		vsnprintf(ld->err + n, ld->err_len - n, fmt, ap);
}

/* Report a problem at setting s (NULL: line 1). \returns -EINVAL */
int ld_err(struct ld *ld, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ld_msg(ld, s ? config_setting_source_line(s) : 1, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int ld_nomem(struct ld *ld)
{
	ld_err(ld, NULL, "out of memory");
	return -ENOMEM;
}

size_t ld_where_push(struct ld *ld, const char *fmt, ...)
{
	size_t old = strlen(ld->where);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ld->where + old, sizeof(ld->where) - old, fmt, ap);
	va_end(ap);
	return old;
}

void ld_where_pop(struct ld *ld, size_t old)
{
	ld->where[old] = '\0';
}

/*
 * Checks of names and values
 */

bool ld_chars_in(const char *s, const char *set, size_t min, size_t max)
{
	size_t n = strlen(s);

	return n >= min && n <= max && strspn(s, set) == n;
}


/*! [a-z0-9_]{1,32}: node ids, variables, question keys */
bool ld_valid_ident(const char *s)
{
	return ld_chars_in(s, LOWER_DIGITS "_", 1, NAME_LEN);
}

/*! [a-z0-9_-]{1,32}: campaign names */
bool ld_valid_campaign_name(const char *s)
{
	return ld_chars_in(s, LOWER_DIGITS "_-", 1, NAME_LEN);
}

/* '*' or '#', digit groups separated by '*', final '#': "*7726#", "*123*4#", "#100#" */
bool ld_valid_ussd_code(const char *s)
{
	size_t n = strlen(s), i;
	bool digit = false;

	if (n < 3 || n > 32 || (s[0] != '*' && s[0] != '#') || s[n - 1] != '#')
		return false;
	for (i = 1; i < n - 1; i++) {
		if (isdigit((unsigned char)s[i]))
			digit = true;
		else if (s[i] == '*' && digit)
			digit = false;
		else
			return false;
	}
	return digit;
}

/* Levenshtein distance of two short strings (for "did you mean"). */
unsigned int ld_edit_distance(const char *a, const char *b)
{
	unsigned int d[NAME_LEN + 1], i, j, la = strlen(a), lb = strlen(b);

	if (la > NAME_LEN || lb > NAME_LEN)
		return NAME_LEN;
	for (j = 0; j <= lb; j++)
		d[j] = j;
	for (i = 1; i <= la; i++) {
		unsigned int diag = d[0], up;

		d[0] = i;
		for (j = 1; j <= lb; j++) {
			up = d[j];
			d[j] = OSMO_MIN(OSMO_MIN(d[j] + 1, d[j - 1] + 1), diag + (a[i - 1] != b[j - 1]));
			diag = up;
		}
	}
	return d[lb];
}

/* Every member of group g must be one of names[]: the operator's typo is reported, with a hint. */
int ld_check_names(struct ld *ld, const config_setting_t *g, const char *const *names)
{
	int i, n = config_setting_length(g);

	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, i);
		const char *name = config_setting_name(s);
		const char *best = NULL;
		unsigned int j, d, best_d = 3;

		if (!name)
			continue;
		for (j = 0; names[j]; j++) {
			if (!strcmp(names[j], name))
				break;
			d = ld_edit_distance(name, names[j]);
			if (d < best_d) {
				best_d = d;
				best = names[j];
			}
		}
		if (names[j])
			continue;
		if (best)
			return ld_err(ld, s, "unknown setting '%s' (did you mean '%s'?)", name, best);
		return ld_err(ld, s, "unknown setting '%s'", name);
	}
	return 0;
}

/*
 * Typed getters: \returns 1 if the setting is there, 0 if absent, negative on a type error
 */

int ld_get_str(struct ld *ld, const config_setting_t *g, const char *name, const config_setting_t **sp,
		   const char **out)
{
	const config_setting_t *s = config_setting_get_member(g, name);

	if (sp)
		*sp = s;
	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return ld_err(ld, s, "%s must be a string", name);
	*out = config_setting_get_string(s);
	return 1;
}

int ld_get_bool(struct ld *ld, const config_setting_t *g, const char *name, bool *out)
{
	const config_setting_t *s = config_setting_get_member(g, name);

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return ld_err(ld, s, "%s must be true or false", name);
	*out = config_setting_get_bool(s);
	return 1;
}

int ld_get_uint(struct ld *ld, const config_setting_t *g, const char *name, unsigned int min, unsigned int max,
		    unsigned int *out)
{
	const config_setting_t *s = config_setting_get_member(g, name);
	long long v;

	if (!s)
		return 0;
	if (config_setting_type(s) == CONFIG_TYPE_INT)
		v = config_setting_get_int(s);
	else if (config_setting_type(s) == CONFIG_TYPE_INT64)
		v = config_setting_get_int64(s);
	else
		return ld_err(ld, s, "%s must be a number", name);
	if (v < min || v > max)
		return ld_err(ld, s, "%s must be %u..%u", name, min, max);
	*out = v;
	return 1;
}

int ld_get_group(struct ld *ld, const config_setting_t *g, const char *name, const config_setting_t **out)
{
	const config_setting_t *s = config_setting_get_member(g, name);

	if (!s)
		return 0;
	if (!config_setting_is_group(s))
		return ld_err(ld, s, "%s must be a group { ... }", name);
	*out = s;
	return 1;
}

/* A list ( ... ) of groups; an empty array [] is accepted as an empty list. \returns 1, 0 or negative */
int ld_get_group_list(struct ld *ld, const config_setting_t *g, const char *name, unsigned int max,
			  const config_setting_t **out)
{
	const config_setting_t *s = config_setting_get_member(g, name);
	int i, n;

	if (!s)
		return 0;
	n = config_setting_length(s);
	if (!config_setting_is_list(s) && !(config_setting_is_array(s) && n == 0))
		return ld_err(ld, s, "%s must be a list ( { ... }, ... )", name);
	if (n > (int)max)
		return ld_err(ld, s, "%s: more than %u entries", name, max);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		if (!config_setting_is_group(e))
			return ld_err(ld, e, "%s: entry %d must be a group { ... }", name, i + 1);
	}
	*out = s;
	return 1;
}

/* A list or array of strings, copied under ctx. \returns 1, 0 or negative */
int ld_get_strlist(struct ld *ld, void *ctx, const config_setting_t *g, const char *name, unsigned int max,
		       const config_setting_t **sp, char ***out, unsigned int *n_out)
{
	const config_setting_t *s = config_setting_get_member(g, name);
	char **v = NULL;
	int i, n;

	*out = NULL;
	*n_out = 0;
	if (sp)
		*sp = s;
	if (!s)
		return 0;
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return ld_err(ld, s, "%s must be a list of strings", name);
	n = config_setting_length(s);
	if (n > (int)max)
		return ld_err(ld, s, "%s: more than %u entries", name, max);
	if (n > 0 && !(v = talloc_zero_array(ctx, char *, n)))
		return ld_nomem(ld);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return ld_err(ld, e, "%s must be a list of strings", name);
		if (!(v[i] = talloc_strdup(v, config_setting_get_string(e))))
			return ld_nomem(ld);
	}
	*out = v;
	*n_out = n;
	return 1;
}

/*
 * Templates and texts
 */

bool ld_var_known(const struct ld *ld, const char *name)
{
	unsigned int i;

	for (i = 0; ld_builtin_vars[i]; i++)
		if (!strcmp(ld_builtin_vars[i], name))
			return true;
	for (i = 0; i < ld->n_vars; i++)
		if (!strcmp(ld->vars[i], name))
			return true;
	return false;
}

int ld_var_add(struct ld *ld, const char *name)
{
	const char **v;

	if (ld_var_known(ld, name))
		return 0;
	v = talloc_realloc(ld->tmp, ld->vars, const char *, ld->n_vars + 1);
	if (!v)
		return ld_nomem(ld);
	ld->vars = v;
	v[ld->n_vars++] = name;
	return 0;
}

/* Compile src (from setting s, called what in messages) and check that every variable it names exists. */
int ld_compile(struct ld *ld, const config_setting_t *s, const char *what, const char *src,
		   struct uigw_tmpl **out)
{
	char e[128];
	unsigned int i;
	int rc;

	rc = uigw_tmpl_compile(ld->c, src, out, e, sizeof(e));
	if (rc == -ENOMEM)
		return ld_nomem(ld);
	if (rc < 0)
		return ld_err(ld, s, "%s: %s", what, e);
	for (i = 0; i < (*out)->n_seg; i++) {
		const struct uigw_tmpl_seg *seg = &(*out)->seg[i];

		if (seg->kind == UIGW_SEG_LIT || (seg->kind == UIGW_SEG_QUERY && seg->arg_is_literal))
			continue;
		if (!ld_var_known(ld, seg->text))
			return ld_err(ld, s, "%s: unknown variable '%s'", what, seg->text);
	}
	return 0;
}

int ld_i18n_add(struct ld *ld, const config_setting_t *s, const char *what, struct uigw_i18n *t,
		    const char *lang, const char *src)
{
	struct uigw_i18n_str *v = &t->v[t->n];
	int rc;

	OSMO_STRLCPY_ARRAY(v->lang, lang);
	rc = ld_compile(ld, s, what, src, &v->tmpl);
	if (rc < 0)
		return rc;
	t->n++;
	return 0;
}

/* A Text: a string in the default language, or a group { en = "..."; de = "..."; }. */
int ld_parse_text(struct ld *ld, const config_setting_t *s, const char *what, struct uigw_i18n *out)
{
	struct uigw_campaign *c = ld->c;
	const char *def = c->languages[0];
	const config_setting_t *m;
	unsigned int i, j;
	int rc, n;

	memset(out, 0, sizeof(*out));
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		if (!(out->v = talloc_zero_array(c, struct uigw_i18n_str, 1)))
			return ld_nomem(ld);
		return ld_i18n_add(ld, s, what, out, def, config_setting_get_string(s));
	}
	if (!config_setting_is_group(s))
		return ld_err(ld, s, "%s must be a string or a group of languages { %s = \"...\"; }", what, def);

	n = config_setting_length(s);
	for (i = 0; i < (unsigned int)n; i++) {
		m = config_setting_get_elem(s, i);
		for (j = 0; j < c->n_languages; j++)
			if (!strcmp(c->languages[j], config_setting_name(m)))
				break;
		if (j == c->n_languages)
			return ld_err(ld, m, "%s: language '%s' is not in languages", what, config_setting_name(m));
		if (config_setting_type(m) != CONFIG_TYPE_STRING)
			return ld_err(ld, m, "%s: %s must be a string", what, config_setting_name(m));
	}
	m = config_setting_get_member(s, def);
	if (!m)
		return ld_err(ld, s, "%s: missing the default language '%s'", what, def);
	if (!(out->v = talloc_zero_array(c, struct uigw_i18n_str, n)))
		return ld_nomem(ld);
	/* v[0] is the default language, the others follow in the order of the file */
	rc = ld_i18n_add(ld, m, what, out, def, config_setting_get_string(m));
	for (i = 0; rc == 0 && i < (unsigned int)n; i++) {
		m = config_setting_get_elem(s, i);
		if (strcmp(config_setting_name(m), def))
			rc = ld_i18n_add(ld, m, what, out, config_setting_name(m), config_setting_get_string(m));
	}
	return rc;
}

/* The Text named 'name' in group g. \returns 1, 0 (absent) or negative */
int ld_get_text(struct ld *ld, const config_setting_t *g, const char *name, struct uigw_i18n *out)
{
	const config_setting_t *s = config_setting_get_member(g, name);
	int rc;

	if (!s)
		return 0;
	rc = ld_parse_text(ld, s, name, out);
	return rc < 0 ? rc : 1;
}

/* (core/schedule.h; here, with the campaign files that use it too) */
int uigw_hhmm_parse(const char *s)
{
	unsigned int h, m;
	char tail;

	if (!s || strlen(s) != 5 || sscanf(s, "%2u:%2u%c", &h, &m, &tail) != 2 || h > 23 || m > 59)
		return -1;
	return h * 60 + m;
}
