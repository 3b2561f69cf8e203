/*! \file campaign_load.c
 *  One campaign file (libconfig syntax) -> one struct uigw_campaign talloc tree. Every setting name, type,
 *  value and reference is checked; the first problem is reported as "file:line: reason" (doc/campaigns.md). */

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
#include <osmocom/uigw/core/schedule.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/campaign.h>
#include <osmocom/uigw/common/hash.h>

#include "campaign_priv.h"

static int parse_languages(struct ld *ld, const config_setting_t *root)
{
	struct uigw_campaign *c = ld->c;
	const config_setting_t *s;
	unsigned int i, j;
	int rc;

	rc = ld_get_strlist(ld, c, root, "languages", MAX_LANGS, &s, &c->languages, &c->n_languages);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		c->languages = talloc_zero_array(c, char *, 1);
		if (!c->languages || !(c->languages[0] = talloc_strdup(c->languages, "en")))
			return ld_nomem(ld);
		c->n_languages = 1;
		return 0;
	}
	if (c->n_languages == 0)
		return ld_err(ld, s, "languages is empty");
	for (i = 0; i < c->n_languages; i++) {
		if (!ld_chars_in(c->languages[i], "abcdefghijklmnopqrstuvwxyz", 2, 2))
			return ld_err(ld, s, "bad language '%s' (two lower-case letters: en, de, ...)",
				      c->languages[i]);
		for (j = 0; j < i; j++)
			if (!strcmp(c->languages[i], c->languages[j]))
				return ld_err(ld, s, "language '%s' listed twice", c->languages[i]);
	}
	return 0;
}

static int parse_channels(struct ld *ld, const config_setting_t *root)
{
	const config_setting_t *s;
	char **v;
	unsigned int i, n;
	int rc, ch;

	/* without a list: every channel, the IMS ones first for the choice of a trigger without `via` */
	static const uint8_t all[] = { UIGW_CHAN_USSI, UIGW_CHAN_IMS_MSG, UIGW_CHAN_MAP, UIGW_CHAN_GSUP,
				       UIGW_CHAN_SMPP_USSD, UIGW_CHAN_SMPP_SMS, UIGW_CHAN_VTY, UIGW_CHAN_API };

	osmo_static_assert(ARRAY_SIZE(all) == _UIGW_CHAN_NUM, all_channels_listed);
	ld->c->channels = UIGW_CHAN_MASK_ALL;
	memcpy(ld->c->chan_order, all, sizeof(all));
	ld->c->n_chan_order = ARRAY_SIZE(all);
	rc = ld_get_strlist(ld, ld->tmp, root, "channels", 2 * _UIGW_CHAN_NUM, &s, &v, &n);
	if (rc <= 0)
		return rc;
	if (n == 0)
		return ld_err(ld, s, "channels is empty");
	ld->c->channels = 0;
	ld->c->n_chan_order = 0;
	for (i = 0; i < n; i++) {
		ch = uigw_channel_by_name(v[i]);
		if (ch < 0)
			return ld_err(ld, s, "unknown channel '%s'", v[i]);
		if (!(ld->c->channels & (1u << ch)))
			ld->c->chan_order[ld->c->n_chan_order++] = ch;
		ld->c->channels |= 1u << ch;
	}
	return 0;
}

static int parse_params(struct ld *ld, const config_setting_t *root)
{
	struct uigw_campaign *c = ld->c;
	const config_setting_t *g = NULL;
	unsigned int i, n;
	int rc;

	rc = ld_get_group(ld, root, "params", &g);
	if (rc <= 0)
		return rc;
	n = config_setting_length(g);
	if (n > MAX_PARAMS)
		return ld_err(ld, g, "params: more than %u entries", MAX_PARAMS);
	if (n && !(c->params = talloc_zero_array(c, struct uigw_param, n)))
		return ld_nomem(ld);
	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, i);
		const char *name = config_setting_name(s);

		if (!ld_valid_ident(name))
			return ld_err(ld, s, "bad param name '%s' (1..32 of a-z 0-9 _)", name);
		if (ld_var_known(ld, name))
			return ld_err(ld, s, "param '%s' is a builtin variable", name);
		if (config_setting_type(s) != CONFIG_TYPE_STRING)
			return ld_err(ld, s, "param %s must be a string", name);
		c->params[i].name = talloc_strdup(c, name);
		c->params[i].def = talloc_strdup(c, config_setting_get_string(s));
		if (!c->params[i].name || !c->params[i].def)
			return ld_nomem(ld);
		c->n_params = i + 1;
		if ((rc = ld_var_add(ld, c->params[i].name)) < 0)
			return rc;
	}
	return 0;
}

static bool event_type_ok(const char *s)
{
	return ld_chars_in(s, LOWER_DIGITS "_-", 1, 32);
}

/* a number of a setting: int, int64 or float */
static bool setting_number(const config_setting_t *s, double *out)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
		*out = config_setting_get_int(s);
		return true;
	case CONFIG_TYPE_INT64:
		*out = (double)config_setting_get_int64(s);
		return true;
	case CONFIG_TYPE_FLOAT:
		*out = config_setting_get_float(s);
		return true;
	default:
		return false;
	}
}

static int parse_one_event(struct ld *ld, const config_setting_t *e, struct uigw_on_event *oe)
{
	static const char *const names[] = { "type", "sample", "min", "equals", "params", NULL };
	struct uigw_campaign *c = ld->c;
	const config_setting_t *s = NULL, *g;
	const char *v = NULL;
	unsigned int i, k, n;
	int rc;

	if ((rc = ld_check_names(ld, e, names)) < 0)
		return rc;
	rc = ld_get_str(ld, e, "type", &s, &v);
	if (rc <= 0)
		return rc < 0 ? rc : ld_err(ld, e, "on_event needs a type (call-ended, crs-played, ...)");
	if (!event_type_ok(v))
		return ld_err(ld, s, "bad event type '%s' (1..32 of a-z 0-9 _ -)", v);
	if (!(oe->type = talloc_strdup(c, v)))
		return ld_nomem(ld);
	oe->sample = 1.0;
	if ((s = config_setting_get_member(e, "sample"))) {
		if (!setting_number(s, &oe->sample) || oe->sample < 0 || oe->sample > 1)
			return ld_err(ld, s, "sample must be a number from 0 to 1");
	}
	if ((rc = ld_get_group(ld, e, "min", &g)) < 0)
		return rc;
	if (rc > 0 && (n = config_setting_length(g))) {
		if (n > MAX_PARAMS)
			return ld_err(ld, g, "min: more than %u entries", MAX_PARAMS);
		if (!(oe->min = talloc_zero_array(c, typeof(*oe->min), n)))
			return ld_nomem(ld);
		for (i = 0; i < n; i++) {
			s = config_setting_get_elem(g, i);
			if (!ld_valid_ident(config_setting_name(s)) || !setting_number(s, &oe->min[i].min))
				return ld_err(ld, s, "min: '%s' must be a parameter name with a number",
					      config_setting_name(s));
			if (!(oe->min[i].name = talloc_strdup(c, config_setting_name(s))))
				return ld_nomem(ld);
			oe->n_min = i + 1;
		}
	}
	if ((rc = ld_get_group(ld, e, "equals", &g)) < 0)
		return rc;
	if (rc > 0 && (n = config_setting_length(g))) {
		if (n > MAX_PARAMS)
			return ld_err(ld, g, "equals: more than %u entries", MAX_PARAMS);
		if (!(oe->equals = talloc_zero_array(c, typeof(*oe->equals), n)))
			return ld_nomem(ld);
		for (i = 0; i < n; i++) {
			s = config_setting_get_elem(g, i);
			if (!ld_valid_ident(config_setting_name(s)) || config_setting_type(s) != CONFIG_TYPE_STRING)
				return ld_err(ld, s, "equals: '%s' must be a parameter name with a string",
					      config_setting_name(s));
			oe->equals[i].name = talloc_strdup(c, config_setting_name(s));
			oe->equals[i].value = talloc_strdup(c, config_setting_get_string(s));
			if (!oe->equals[i].name || !oe->equals[i].value)
				return ld_nomem(ld);
			oe->n_equals = i + 1;
		}
	}
	if ((rc = ld_get_group(ld, e, "params", &g)) < 0)
		return rc;
	if (rc > 0 && (n = config_setting_length(g))) {
		if (n > MAX_PARAMS)
			return ld_err(ld, g, "params: more than %u entries", MAX_PARAMS);
		if (!(oe->map = talloc_zero_array(c, typeof(*oe->map), n)))
			return ld_nomem(ld);
		for (i = 0; i < n; i++) {
			s = config_setting_get_elem(g, i);
			for (k = 0; k < c->n_params; k++)
				if (!strcmp(c->params[k].name, config_setting_name(s)))
					break;
			if (k == c->n_params)
				return ld_err(ld, s, "params: the campaign declares no parameter '%s'",
					      config_setting_name(s));
			if (config_setting_type(s) != CONFIG_TYPE_STRING || !ld_valid_ident(config_setting_get_string(s)))
				return ld_err(ld, s, "params: %s must name an event parameter (a string)",
					      config_setting_name(s));
			oe->map[i].param = c->params[k].name;
			if (!(oe->map[i].from = talloc_strdup(c, config_setting_get_string(s))))
				return ld_nomem(ld);
			oe->n_map = i + 1;
		}
	}
	return 0;
}

/* on_event = ( { type = "call-ended"; min = { duration = 10; }; sample = 0.2; params = { caller = "caller"; }; } ) */
static int parse_on_event(struct ld *ld, const config_setting_t *root)
{
	struct uigw_campaign *c = ld->c;
	const config_setting_t *l = NULL;
	unsigned int i, n;
	int rc;

	rc = ld_get_group_list(ld, root, "on_event", 16, &l);
	if (rc <= 0)
		return rc;
	n = config_setting_length(l);
	if (n && !(c->on_event = talloc_zero_array(c, struct uigw_on_event, n)))
		return ld_nomem(ld);
	for (i = 0; i < n; i++) {
		if ((rc = parse_one_event(ld, config_setting_get_elem(l, i), &c->on_event[i])) < 0)
			return rc;
		c->n_on_event = i + 1;
	}
	return 0;
}

static int parse_sms(struct ld *ld, const config_setting_t *e)
{
	static const char *const names[] = { "short_code", "keywords", "start", NULL };
	struct uigw_entry *en = &ld->c->entry;
	const config_setting_t *l = NULL, *s;
	unsigned int i, j, k, n;
	const char *sc = NULL;
	int rc;

	rc = ld_get_group_list(ld, e, "sms", MAX_ENTRIES, &l);
	if (rc <= 0)
		return rc;
	n = config_setting_length(l);
	if (n && !(en->sms = talloc_zero_array(ld->c, struct uigw_sms_entry, n)))
		return ld_nomem(ld);
	for (i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(l, i);
		struct uigw_sms_entry *se = &en->sms[i];

		if ((rc = ld_check_names(ld, g, names)) < 0)
			return rc;
		rc = ld_get_str(ld, g, "short_code", &s, &sc);
		if (rc <= 0)
			return rc < 0 ? rc : ld_err(ld, g, "sms: missing short_code");
		if (!ld_chars_in(sc, "0123456789", 3, 15))
			return ld_err(ld, s, "bad short code '%s' (3..15 digits)", sc);
		if (!(se->short_code = talloc_strdup(ld->c, sc)))
			return ld_nomem(ld);
		se->line = config_setting_source_line(g);
		se->start = -1;	/* resolved once the nodes are known */
		rc = ld_get_strlist(ld, ld->c, g, "keywords", MAX_ENTRIES, &s, &se->keywords, &se->n_keywords);
		if (rc < 0)
			return rc;
		for (j = 0; j < se->n_keywords; j++) {
			char *kw = se->keywords[j];

			if (!ld_chars_in(kw, ALNUM, 1, 20))
				return ld_err(ld, s, "bad keyword '%s' (1..20 of A-Z 0-9)", kw);
			for (k = 0; kw[k]; k++)
				kw[k] = toupper((unsigned char)kw[k]);
		}
		en->n_sms = i + 1;
		/* a (short code, keyword) pair must be unique */
		for (j = 0; j < i; j++) {
			const struct uigw_sms_entry *o = &en->sms[j];
			unsigned int a, b;

			if (strcmp(o->short_code, se->short_code))
				continue;
			if (!o->n_keywords && !se->n_keywords)
				return ld_err(ld, g, "short code %s listed twice", sc);
			for (a = 0; a < o->n_keywords; a++)
				for (b = 0; b < se->n_keywords; b++)
					if (!strcmp(o->keywords[a], se->keywords[b]))
						return ld_err(ld, g, "keyword %s to %s listed twice",
							      se->keywords[b], sc);
		}
		for (j = 0; j < se->n_keywords; j++)
			for (k = 0; k < j; k++)
				if (!strcmp(se->keywords[j], se->keywords[k]))
					return ld_err(ld, g, "keyword %s to %s listed twice", se->keywords[j], sc);
	}
	return 0;
}

static int parse_entry(struct ld *ld, const config_setting_t *root)
{
	static const char *const names[] = { "ussd", "sms", "sip", NULL };
	struct uigw_entry *en = &ld->c->entry;
	const config_setting_t *e = NULL, *s;
	unsigned int i, j;
	int rc;

	rc = ld_get_group(ld, root, "entry", &e);
	if (rc <= 0)
		return rc;
	if ((rc = ld_check_names(ld, e, names)) < 0)
		return rc;

	rc = ld_get_strlist(ld, ld->c, e, "ussd", MAX_ENTRIES, &s, &en->ussd, &en->n_ussd);
	if (rc < 0)
		return rc;
	en->ussd_line = s ? config_setting_source_line(s) : 0;
	for (i = 0; i < en->n_ussd; i++) {
		if (!ld_valid_ussd_code(en->ussd[i]))
			return ld_err(ld, s, "bad USSD code '%s' (like *7726# or *123*4#)", en->ussd[i]);
		for (j = 0; j < i; j++)
			if (!strcmp(en->ussd[i], en->ussd[j]))
				return ld_err(ld, s, "USSD code %s listed twice", en->ussd[i]);
	}

	if ((rc = parse_sms(ld, e)) < 0)
		return rc;

	rc = ld_get_strlist(ld, ld->c, e, "sip", MAX_ENTRIES, &s, &en->sip, &en->n_sip);
	if (rc < 0)
		return rc;
	en->sip_line = s ? config_setting_source_line(s) : 0;
	for (i = 0; i < en->n_sip; i++) {
		if (!ld_chars_in(en->sip[i], ALNUM "+*#._-", 1, 32))
			return ld_err(ld, s, "bad SIP user part '%s' (1..32 of A-Z a-z 0-9 + * # . _ -)", en->sip[i]);
		for (j = 0; j < i; j++)
			if (!strcasecmp(en->sip[i], en->sip[j]))
				return ld_err(ld, s, "SIP user part %s listed twice", en->sip[i]);
	}
	return 0;
}

static int parse_labels(struct ld *ld, const config_setting_t *root)
{
	static const char *const names[] = {
		"more", "back", "home", "invalid", "yes", "no", "resumed", "goodbye",
		"invalid_number", "invalid_rating", "too_long", "too_many", "error", "unavailable", NULL
	};
	struct uigw_labels *lb = &ld->c->labels;
	struct uigw_i18n *dst[] = {
		&lb->more, &lb->back, &lb->home, &lb->invalid, &lb->yes, &lb->no, &lb->resumed, &lb->goodbye,
		&lb->invalid_number, &lb->invalid_rating, &lb->too_long, &lb->too_many, &lb->error, &lb->unavailable
	};
	const config_setting_t *g = NULL;
	unsigned int i;
	size_t w;
	int rc;

	rc = ld_get_group(ld, root, "labels", &g);
	if (rc <= 0)
		return rc;
	w = ld_where_push(ld, "labels: ");
	rc = ld_check_names(ld, g, names);
	for (i = 0; rc >= 0 && i < ARRAY_SIZE(dst); i++)
		rc = ld_get_text(ld, g, names[i], dst[i]);
	ld_where_pop(ld, w);
	return rc < 0 ? rc : 0;
}

/* An SMS entry may start at another node than the campaign ("SPAM <number>" goes straight to the number). */
static int resolve_sms_starts(struct ld *ld, const config_setting_t *root)
{
	const config_setting_t *e = config_setting_get_member(root, "entry");
	const config_setting_t *l = e ? config_setting_get_member(e, "sms") : NULL;
	unsigned int i;
	int rc;

	for (i = 0; l && i < ld->c->entry.n_sms; i++) {
		rc = uigw_ld_node_ref(ld, config_setting_get_elem(l, i), "start", &ld->c->entry.sms[i].start);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* push_cap = { count = N; per = SECONDS; }: at most N pushes of this campaign per subscriber per SECONDS */
static int parse_push_cap(struct ld *ld, const config_setting_t *root)
{
	static const char *const names[] = { "count", "per", NULL };
	const config_setting_t *g = config_setting_get_member(root, "push_cap");
	int rc;

	if (!g)
		return 0;
	if (!config_setting_is_group(g))
		return ld_err(ld, g, "push_cap must be a group { count = N; per = SECONDS; }");
	if ((rc = ld_check_names(ld, g, names)) < 0)
		return rc;
	rc = ld_get_uint(ld, g, "count", 1, 1000, &ld->c->push_cap_count);
	if (rc <= 0)
		return rc < 0 ? rc : ld_err(ld, g, "push_cap needs count (1..1000)");
	rc = ld_get_uint(ld, g, "per", 1, 31536000, &ld->c->push_cap_per);
	if (rc <= 0)
		return rc < 0 ? rc : ld_err(ld, g, "push_cap needs per (1..31536000 seconds)");
	return 0;
}

/* charging = { zero_rated = true; class = "free"; }: what the charging records of its dialogs say */
static int parse_charging(struct ld *ld, const config_setting_t *root)
{
	static const char *const names[] = { "zero_rated", "class", NULL };
	const config_setting_t *g = config_setting_get_member(root, "charging"), *s;
	const char *v;
	size_t i;
	int rc;

	if (!g)
		return 0;
	if (!config_setting_is_group(g))
		return ld_err(ld, g, "charging must be a group { zero_rated = true; class = \"free\"; }");
	if ((rc = ld_check_names(ld, g, names)) < 0 ||
	    (rc = ld_get_bool(ld, g, "zero_rated", &ld->c->zero_rated)) < 0)
		return rc;
	rc = ld_get_str(ld, g, "class", &s, &v);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		/* a word the mediation can match on: no separator of the CSV files */
		for (i = 0; v[i]; i++) {
			if (!isalnum((unsigned char)v[i]) && !strchr("_-.", v[i]))
				break;
		}
		if (!v[0] || v[i] || i > 32)
			return ld_err(ld, s, "bad charging class '%s' (1..32 of A-Z a-z 0-9 _ - .)", v);
		if (!(ld->c->charge_class = talloc_strdup(ld->c, v)))
			return ld_nomem(ld);
	}
	return 0;
}

/* quiet_hours = { from = "21:00"; to = "08:00"; action = "defer" | "refuse"; } or false: no quiet hours for it
 * (not even the gateway's); pacing = N: at most N pushes per second */
static int parse_quiet(struct ld *ld, const config_setting_t *root)
{
	static const char *const names[] = { "from", "to", "action", NULL };
	const config_setting_t *g = config_setting_get_member(root, "quiet_hours"), *s;
	const char *v;
	int rc, from, to;

	rc = ld_get_uint(ld, root, "pacing", 1, 100000, &ld->c->pacing);
	if (rc < 0)
		return rc;
	if (!g)
		return 0;
	if (config_setting_type(g) == CONFIG_TYPE_BOOL) {
		if (config_setting_get_bool(g))
			return ld_err(ld, g, "quiet_hours = true means nothing: a group { from; to; } or false");
		ld->c->quiet = UIGW_QUIET_NONE;
		return 0;
	}
	if (!config_setting_is_group(g))
		return ld_err(ld, g, "quiet_hours must be a group { from = \"21:00\"; to = \"08:00\"; } or false");
	if ((rc = ld_check_names(ld, g, names)) < 0)
		return rc;
	rc = ld_get_str(ld, g, "from", &s, &v);
	if (rc <= 0 || (from = uigw_hhmm_parse(v)) < 0)
		return rc < 0 ? rc : ld_err(ld, rc ? s : g, "quiet_hours needs from = \"HH:MM\"");
	rc = ld_get_str(ld, g, "to", &s, &v);
	if (rc <= 0 || (to = uigw_hhmm_parse(v)) < 0)
		return rc < 0 ? rc : ld_err(ld, rc ? s : g, "quiet_hours needs to = \"HH:MM\"");
	if (from == to)
		return ld_err(ld, g, "quiet_hours: from and to are the same minute");
	ld->c->quiet = UIGW_QUIET_OWN;
	ld->c->quiet_from = from;
	ld->c->quiet_to = to;
	rc = ld_get_str(ld, g, "action", &s, &v);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		if (!strcmp(v, "refuse"))
			ld->c->quiet_refuse = true;
		else if (strcmp(v, "defer"))
			return ld_err(ld, s, "bad quiet_hours action '%s' (defer or refuse)", v);
	}
	return 0;
}

static int parse_campaign(struct ld *ld, const config_setting_t *root)
{
	static const char *const names[] = {
		"name", "title", "languages", "channels", "network_only", "enabled", "entry", "params", "labels",
		"start", "nodes", "push_cap", "owner", "on_event", "roaming",
		"charging", "quiet_hours", "pacing", NULL
	};
	struct uigw_campaign *c = ld->c;
	const config_setting_t *s, *nodes;
	const char *v = NULL;
	int rc;

	if ((rc = ld_check_names(ld, root, names)) < 0)
		return rc;
	rc = ld_get_str(ld, root, "name", &s, &v);
	if (rc <= 0)
		return rc < 0 ? rc : ld_err(ld, NULL, "missing name");
	if (!ld_valid_campaign_name(v))
		return ld_err(ld, s, "bad name '%s' (1..32 of a-z 0-9 _ -)", v);
	if (!(c->name = talloc_strdup(c, v)))
		return ld_nomem(ld);
	c->name_line = config_setting_source_line(s);

	/* the tenant of the HTTP API that owns it (sees it, triggers it, reads its results); none: the operator's */
	rc = ld_get_str(ld, root, "owner", &s, &v);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		if (!ld_valid_campaign_name(v) || !strcmp(v, "operator"))
			return ld_err(ld, s, "bad owner '%s' (a tenant name: 1..32 of a-z 0-9 _ -, not operator)", v);
		if (!(c->owner = talloc_strdup(c, v)))
			return ld_nomem(ld);
	}

	/* roaming = "allow" | "deny" | "notice-only" (absent: the gateway's roaming-policy) */
	rc = ld_get_str(ld, root, "roaming", &s, &v);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		int p = get_string_value(uigw_roaming_policy_names, v);

		if (p <= UIGW_ROAM_GATEWAY)
			return ld_err(ld, s, "bad roaming '%s' (allow, deny or notice-only)", v);
		c->roaming = p;
	}

	c->enabled = true;
	if ((rc = parse_languages(ld, root)) < 0 ||
	    (rc = parse_channels(ld, root)) < 0 ||
	    (rc = ld_get_bool(ld, root, "network_only", &c->network_only)) < 0 ||
	    (rc = ld_get_bool(ld, root, "enabled", &c->enabled)) < 0 ||
	    (rc = parse_push_cap(ld, root)) < 0 ||
	    (rc = parse_charging(ld, root)) < 0 ||
	    (rc = parse_quiet(ld, root)) < 0 ||
	    (rc = parse_params(ld, root)) < 0 ||
	    (rc = parse_on_event(ld, root)) < 0 ||
	    (rc = parse_entry(ld, root)) < 0)
		return rc;

	nodes = config_setting_get_member(root, "nodes");
	if (!nodes)
		return ld_err(ld, NULL, "missing nodes");
	if (!config_setting_is_list(nodes))
		return ld_err(ld, nodes, "nodes must be a list ( { ... }, ... )");
	if ((rc = uigw_ld_collect_nodes(ld, nodes)) < 0)
		return rc;

	/* the title defaults to the name */
	s = config_setting_get_member(root, "title");
	if (s)
		rc = ld_parse_text(ld, s, "title", &c->title);
	else if (!(c->title.v = talloc_zero_array(c, struct uigw_i18n_str, 1)))
		rc = ld_nomem(ld);
	else
		rc = ld_i18n_add(ld, NULL, "title", &c->title, c->languages[0], c->name);
	if (rc < 0)
		return rc;

	if ((rc = parse_labels(ld, root)) < 0 ||
	    (rc = uigw_ld_parse_nodes(ld, root)) < 0)
		return rc;

	c->start = 0;
	rc = ld_get_str(ld, root, "start", &s, &v);
	if (rc < 0)
		return rc;
	if (rc > 0 && (c->start = uigw_campaign_node_idx(c, v)) < 0)
		return ld_err(ld, s, "start '%s' is not a node of this campaign", v);
	return resolve_sms_starts(ld, root);
}

/*
 * Entry points
 */

/* Before libconfig sees the text: no @include (a campaign is one self-contained file, and the fuzzer must not
 * open files), and no deep nesting (libconfig frees recursively). Strings and comments are skipped. */
static int prescan(struct ld *ld, const char *t)
{
	unsigned int line = 1, depth = 0;
	const char *p;

	for (p = t; *p; p++) {
		switch (*p) {
		case '\n':
			line++;
			break;
		case '"':
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				if (*p == '\n')
					line++;
			}
			if (!*p)
				return 0;	/* libconfig reports the unterminated string */
			break;
		case '/':
			if (p[1] == '*') {
				for (p += 2; *p && !(p[0] == '*' && p[1] == '/'); p++)
					if (*p == '\n')
						line++;
				if (!*p)
					return 0;
				p++;
				break;
			}
			if (p[1] != '/')
				break;
			/* fall through */
		case '#':
			while (p[1] && p[1] != '\n')
				p++;
			break;
		case '@':
			if (!strncmp(p, "@include", 8)) {
				snprintf(ld->err, ld->err_len, "%s:%u: @include is not allowed in campaign files",
					 ld->fname, line);
				return -EINVAL;
			}
			break;
		case '(':
		case '[':
		case '{':
			if (++depth > MAX_DEPTH) {
				snprintf(ld->err, ld->err_len, "%s:%u: nested too deep", ld->fname, line);
				return -EINVAL;
			}
			break;
		case ')':
		case ']':
		case '}':
			if (depth)
				depth--;
			break;
		}
	}
	return 0;
}

static int load_text(void *ctx, const char *text, size_t len, const char *fname, struct uigw_campaign **out,
		     char *err, size_t err_len)
{
	char dummy[1];
	struct ld ld = {
		.fname = fname ? fname : "-",
		.err = err && err_len ? err : dummy,
		.err_len = err && err_len ? err_len : sizeof(dummy),
	};
	config_t cfg;
	int rc;

	*out = NULL;
	ld.err[0] = '\0';
	if (len > MAX_FILE_SIZE) {
		snprintf(ld.err, ld.err_len, "%s: too big (more than %u bytes)", ld.fname, MAX_FILE_SIZE);
		return -EFBIG;
	}
	if (strlen(text) != len) {
		snprintf(ld.err, ld.err_len, "%s: contains a NUL byte", ld.fname);
		return -EINVAL;
	}
	rc = prescan(&ld, text);
	if (rc < 0)
		return rc;

	config_init(&cfg);
	if (config_read_string(&cfg, text) != CONFIG_TRUE) {
		snprintf(ld.err, ld.err_len, "%s:%d: %s", ld.fname, config_error_line(&cfg),
			 config_error_text(&cfg) ? config_error_text(&cfg) : "syntax error");
		config_destroy(&cfg);
		return -EINVAL;
	}

	ld.c = talloc_zero(ctx, struct uigw_campaign);
	if (!ld.c || !(ld.tmp = talloc_new(ld.c))) {
		rc = ld_nomem(&ld);
		goto out;
	}
	rc = parse_campaign(&ld, config_root_setting(&cfg));
	if (rc < 0)
		goto out;
	TALLOC_FREE(ld.tmp);
	ld.c->content_hash = uigw_hash64_mem(text, len);
	if (!(ld.c->file = talloc_strdup(ld.c, ld.fname))) {
		rc = ld_nomem(&ld);
		goto out;
	}
	*out = ld.c;
	ld.c = NULL;
out:
	talloc_free(ld.c);
	config_destroy(&cfg);
	return rc;
}

int uigw_campaign_load_string(void *ctx, const char *text, const char *name_for_errors,
			      struct uigw_campaign **out, char *err, size_t err_len)
{
	return load_text(ctx, text, strnlen(text, MAX_FILE_SIZE + 1), name_for_errors, out, err, err_len);
}

int uigw_campaign_load_file(void *ctx, const char *path, struct uigw_campaign **out, char *err, size_t err_len)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, rc;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		goto sys_err;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto sys_err;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto sys_err;
	}
	if (st.st_size > MAX_FILE_SIZE) {
		rc = -EFBIG;
		goto sys_err;
	}
	buf = talloc_size(ctx, st.st_size + 1);
	if (!buf) {
		rc = -ENOMEM;
		goto sys_err;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto sys_err;
		}
		if (n == 0)
			break;	/* shrank meanwhile: parse what is there */
		got += n;
	}
	buf[got] = '\0';
	close(fd);
	rc = load_text(ctx, buf, got, path, out, err, err_len);
	talloc_free(buf);
	return rc;

sys_err:
	if (fd >= 0)
		close(fd);
	talloc_free(buf);
	if (err && err_len)
		snprintf(err, err_len, "%s: cannot read: %s", path,
			 rc == -EFBIG ? "bigger than 1 MiB" : rc == -EINVAL ? "not a regular file" : strerror(-rc));
	return rc;
}
