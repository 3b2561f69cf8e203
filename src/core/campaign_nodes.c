/*! \file campaign_nodes.c
 *  The graph of a campaign file: nodes, their options and scale labels, and the actions they run. Part of the
 *  loader (campaign_load.c), which parses the rest of the file and calls in here. */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <ctype.h>
#include <talloc.h>
#include <libconfig.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/campaign.h>

#include "campaign_priv.h"

/*
 * Actions
 */

static const char *const act_names[][4] = {
	[UIGW_ACT_RECORD] = { "type", "question", "value", NULL },
	[UIGW_ACT_SPAM_REPORT] = { "type", "number", NULL },
	[UIGW_ACT_REACTION] = { "type", "reaction", "content", NULL },
	[UIGW_ACT_APP_RATING] = { "type", "app", "value", NULL },
	[UIGW_ACT_FLAG] = { "type", "content", "reason", NULL },
	[UIGW_ACT_JUMP] = { "type", "campaign", NULL },
	[UIGW_ACT_OFFER] = { "type", "service", "uri", "text" },
	[UIGW_ACT_OPTOUT] = { "type", "campaign", "tenant", NULL },
	[UIGW_ACT_OPTIN] = { "type", "campaign", "tenant", NULL },
};

/* A template field of an action. */
static int act_tmpl(struct ld *ld, const config_setting_t *g, const char *name, bool required, struct uigw_tmpl **out)
{
	const config_setting_t *s;
	const char *v = NULL;
	int rc = ld_get_str(ld, g, name, &s, &v);

	if (rc < 0)
		return rc;
	if (rc == 0)
		return required ? ld_err(ld, g, "missing %s", name) : 0;
	return ld_compile(ld, s, name, v, out);
}

/* A literal name field of an action (question key, campaign), kept as a one-segment template. */
static int act_name(struct ld *ld, const config_setting_t *g, const char *name, bool (*valid)(const char *),
		    struct uigw_tmpl **out)
{
	const config_setting_t *s;
	const char *v = NULL;
	int rc = ld_get_str(ld, g, name, &s, &v);

	if (rc < 0)
		return rc;
	if (rc == 0)
		return ld_err(ld, g, "missing %s", name);
	if (!valid(v))
		return ld_err(ld, s, "bad %s name '%s'", name, v);
	return ld_compile(ld, s, name, v, out);
}

static int parse_action(struct ld *ld, const config_setting_t *g, struct uigw_action *a)
{
	const config_setting_t *s;
	const char *type = NULL, *v = NULL;
	size_t w;
	int rc, k;

	rc = ld_get_str(ld, g, "type", &s, &type);
	if (rc <= 0)
		return rc < 0 ? rc : ld_err(ld, g, "action without type");
	k = get_string_value(uigw_action_kind_names, type);
	if (k < 0 || k >= (int)ARRAY_SIZE(act_names))
		return ld_err(ld, s, "unknown action type '%s'", type);
	a->kind = k;
	a->line = config_setting_source_line(g);
	w = ld_where_push(ld, "action '%s': ", type);
	rc = ld_check_names(ld, g, act_names[k]);
	if (rc < 0)
		goto out;

	switch (a->kind) {
	case UIGW_ACT_RECORD:
		rc = act_name(ld, g, "question", ld_valid_ident, &a->subject);
		if (rc == 0)
			rc = act_tmpl(ld, g, "value", true, &a->value);
		break;
	case UIGW_ACT_SPAM_REPORT:
		rc = act_tmpl(ld, g, "number", true, &a->subject);
		break;
	case UIGW_ACT_REACTION:
		rc = ld_get_str(ld, g, "reaction", &s, &v);
		if (rc == 0)
			rc = ld_err(ld, g, "missing reaction");
		if (rc < 0)
			break;
		k = get_string_value(uigw_reaction_names, v);
		if (k < 0) {
			rc = ld_err(ld, s, "reaction must be like, dislike or subscribe, not '%s'", v);
			break;
		}
		a->reaction = k;
		rc = act_tmpl(ld, g, "content", true, &a->subject);
		break;
	case UIGW_ACT_APP_RATING:
		rc = act_tmpl(ld, g, "app", true, &a->subject);
		if (rc == 0)
			rc = act_tmpl(ld, g, "value", true, &a->value);
		break;
	case UIGW_ACT_FLAG:
		rc = act_tmpl(ld, g, "content", true, &a->subject);
		if (rc == 0)
			rc = act_tmpl(ld, g, "reason", false, &a->value);
		break;
	case UIGW_ACT_JUMP:
		rc = act_name(ld, g, "campaign", ld_valid_campaign_name, &a->subject);
		break;
	case UIGW_ACT_OFFER:
		rc = act_tmpl(ld, g, "service", true, &a->subject);
		if (rc == 0)
			rc = act_tmpl(ld, g, "uri", false, &a->value);
		if (rc == 0) {
			rc = ld_get_text(ld, g, "text", &a->text);
			if (rc == 0)
				rc = ld_err(ld, g, "missing text");
			else if (rc > 0)
				rc = 0;
		}
		break;
	case UIGW_ACT_OPTOUT:
	case UIGW_ACT_OPTIN:
		/* of everything, of one campaign, or of one tenant's campaigns (the operator's: tenant "operator") */
		if (config_setting_get_member(g, "campaign") && config_setting_get_member(g, "tenant")) {
			rc = ld_err(ld, g, "campaign or tenant, not both");
			break;
		}
		if (config_setting_get_member(g, "campaign")) {
			a->scope = UIGW_SCOPE_CAMPAIGN;
			rc = act_name(ld, g, "campaign", ld_valid_campaign_name, &a->subject);
		} else if (config_setting_get_member(g, "tenant")) {
			a->scope = UIGW_SCOPE_TENANT;
			rc = act_name(ld, g, "tenant", ld_valid_campaign_name, &a->subject);
		}
		break;
	}
out:
	ld_where_pop(ld, w);
	return rc;
}

static int get_actions(struct ld *ld, const config_setting_t *g, struct uigw_action **out, unsigned int *n_out)
{
	const config_setting_t *l = NULL;
	unsigned int i, n;
	int rc;

	rc = ld_get_group_list(ld, g, "actions", MAX_ACTIONS, &l);
	if (rc <= 0)
		return rc;
	n = config_setting_length(l);
	if (!n)
		return 0;
	if (!(*out = talloc_zero_array(ld->c, struct uigw_action, n)))
		return ld_nomem(ld);
	for (i = 0; i < n; i++) {
		rc = parse_action(ld, config_setting_get_elem(l, i), &(*out)[i]);
		if (rc < 0)
			return rc;
		*n_out = i + 1;
	}
	return 0;
}

static bool has_jump(const struct uigw_action *a, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (a[i].kind == UIGW_ACT_JUMP)
			return true;
	return false;
}

/*
 * Nodes
 */

static const char *const node_names[] = {
	"id", "type", "text", "options", "scale", "labels", "max_len", "var", "question", "record",
	"next", "yes", "no", "actions", NULL
};

#define K(x) (1u << UIGW_NODE_##x)
/* Settings that only some node kinds take */
static const struct {
	const char *name;
	uint32_t kinds;
	const char *which;
} node_only[] = {
	{ "options", K(MENU) | K(CHOICE), "menu and choice" },
	{ "scale", K(RATING), "rating" },
	{ "labels", K(RATING), "rating" },
	{ "max_len", K(TEXT), "text" },
	{ "yes", K(YESNO), "yesno" },
	{ "no", K(YESNO), "yesno" },
	{ "var", ~K(INFO), "menu and question" },
	{ "question", ~K(INFO), "menu and question" },
	{ "record", ~K(INFO), "menu and question" },
};

/* A node reference: the setting 'name' of g names a node of this campaign. *out = -1 when absent. */
int uigw_ld_node_ref(struct ld *ld, const config_setting_t *g, const char *name, int *out)
{
	const config_setting_t *s;
	const char *v = NULL;
	int rc = ld_get_str(ld, g, name, &s, &v);

	*out = -1;
	if (rc <= 0)
		return rc;
	*out = uigw_campaign_node_idx(ld->c, v);
	if (*out < 0)
		return ld_err(ld, s, "%s '%s' is not a node of this campaign", name, v);
	return 0;
}

static int parse_option(struct ld *ld, const config_setting_t *g, struct uigw_node *nd, unsigned int idx)
{
	static const char *const names[] = { "key", "label", "value", "next", "actions", NULL };
	struct uigw_option *o = &nd->options[idx];
	const config_setting_t *s;
	const char *key = NULL, *v;
	unsigned int i;
	size_t w;
	int rc;

	rc = ld_get_str(ld, g, "key", &s, &key);
	if (rc <= 0)
		return rc < 0 ? rc : ld_err(ld, g, "option %u: missing key", idx + 1);
	if (!ld_chars_in(key, "0123456789*", 1, 3))
		return ld_err(ld, s, "option key '%s' must be 1..3 of 0-9 and *", key);
	if (!strcmp(key, UIGW_KEY_BACK) || !strcmp(key, UIGW_KEY_MORE) || !strcmp(key, UIGW_KEY_HOME))
		return ld_err(ld, s, "option key '%s' is reserved for navigation", key);
	for (i = 0; i < idx; i++)
		if (!strcmp(nd->options[i].key, key))
			return ld_err(ld, s, "duplicate option key '%s'", key);
	if (!(o->key = talloc_strdup(ld->c, key)))
		return ld_nomem(ld);

	w = ld_where_push(ld, "option '%s': ", key);
	rc = ld_check_names(ld, g, names);
	if (rc < 0)
		goto out;
	rc = ld_get_text(ld, g, "label", &o->label);
	if (rc == 0)
		rc = ld_err(ld, g, "missing label");
	if (rc < 0)
		goto out;
	v = key;
	rc = ld_get_str(ld, g, "value", &s, &v);
	if (rc < 0)
		goto out;
	if (rc > 0 && !ld_chars_in(v, LOWER_DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZ_-.+", 1, 64)) {
		rc = ld_err(ld, s, "value '%s' must be 1..64 of A-Z a-z 0-9 _ - . +", v);
		goto out;
	}
	if (!(o->value = talloc_strdup(ld->c, v))) {
		rc = ld_nomem(ld);
		goto out;
	}
	rc = uigw_ld_node_ref(ld, g, "next", &o->next);
	if (rc < 0)
		goto out;
	rc = get_actions(ld, g, &o->actions, &o->n_actions);
	if (rc < 0)
		goto out;
	if (nd->kind == UIGW_NODE_MENU && o->next < 0 && nd->next < 0 && !has_jump(o->actions, o->n_actions))
		rc = ld_err(ld, g, "leads nowhere: set next or add a jump action");
out:
	ld_where_pop(ld, w);
	return rc;
}

static int parse_options(struct ld *ld, const config_setting_t *g, struct uigw_node *nd)
{
	const config_setting_t *l = NULL;
	unsigned int i, n;
	int rc;

	rc = ld_get_group_list(ld, g, "options", MAX_OPTIONS, &l);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return ld_err(ld, g, "a %s node needs options", get_value_string(uigw_node_kind_names, nd->kind));
	n = config_setting_length(l);
	if (n == 0)
		return ld_err(ld, l, "options is empty");
	if (!(nd->options = talloc_zero_array(ld->c, struct uigw_option, n)))
		return ld_nomem(ld);
	for (i = 0; i < n; i++) {
		rc = parse_option(ld, config_setting_get_elem(l, i), nd, i);
		if (rc < 0)
			return rc;
		nd->n_options = i + 1;
	}
	return 0;
}

static int parse_scale_labels(struct ld *ld, const config_setting_t *g, struct uigw_node *nd)
{
	const config_setting_t *l = config_setting_get_member(g, "labels");
	unsigned int i, n;
	int rc;

	if (!l)
		return 0;
	if (!config_setting_is_list(l) && !config_setting_is_array(l))
		return ld_err(ld, l, "labels must be a list of texts");
	n = config_setting_length(l);
	if (n != nd->scale)
		return ld_err(ld, l, "labels has %u entries, scale is %u", n, nd->scale);
	if (!(nd->scale_labels = talloc_zero_array(ld->c, struct uigw_i18n, n)))
		return ld_nomem(ld);
	for (i = 0; i < n; i++) {
		char what[24];

		snprintf(what, sizeof(what), "label %u", i + 1);
		rc = ld_parse_text(ld, config_setting_get_elem(l, i), what, &nd->scale_labels[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int parse_node(struct ld *ld, const config_setting_t *g, struct uigw_node *nd)
{
	const config_setting_t *s;
	const char *v = NULL;
	unsigned int i;
	int rc, k;

	rc = ld_check_names(ld, g, node_names);
	if (rc < 0)
		return rc;
	rc = ld_get_str(ld, g, "type", &s, &v);
	if (rc <= 0)
		return rc < 0 ? rc : ld_err(ld, g, "missing type");
	k = get_string_value(uigw_node_kind_names, v);
	if (k < 0)
		return ld_err(ld, s, "unknown node type '%s'", v);
	nd->kind = k;
	for (i = 0; i < ARRAY_SIZE(node_only); i++) {
		s = config_setting_get_member(g, node_only[i].name);
		if (s && !(node_only[i].kinds & (1u << nd->kind)))
			return ld_err(ld, s, "%s is only allowed on %s nodes, not on %s", node_only[i].name,
				      node_only[i].which, v);
	}

	/* references first: menu options check where they lead */
	if ((rc = uigw_ld_node_ref(ld, g, "next", &nd->next)) < 0 ||
	    (rc = uigw_ld_node_ref(ld, g, "yes", &nd->yes)) < 0 ||
	    (rc = uigw_ld_node_ref(ld, g, "no", &nd->no)) < 0)
		return rc;
	if (nd->yes < 0)
		nd->yes = nd->next;
	if (nd->no < 0)
		nd->no = nd->next;

	rc = ld_get_text(ld, g, "text", &nd->text);
	if (rc == 0)
		rc = ld_err(ld, g, "missing text");
	if (rc < 0)
		return rc;

	if (nd->kind == UIGW_NODE_MENU || nd->kind == UIGW_NODE_CHOICE) {
		rc = parse_options(ld, g, nd);
		if (rc < 0)
			return rc;
	}
	if (nd->kind == UIGW_NODE_RATING) {
		nd->scale = 5;
		if ((rc = ld_get_uint(ld, g, "scale", 2, 10, &nd->scale)) < 0 ||
		    (rc = parse_scale_labels(ld, g, nd)) < 0)
			return rc;
	}
	if (nd->kind == UIGW_NODE_TEXT) {
		nd->max_len = 160;
		if ((rc = ld_get_uint(ld, g, "max_len", 1, 1000, &nd->max_len)) < 0)
			return rc;
	}

	/* var was checked when the ids were collected */
	nd->record = !(nd->kind == UIGW_NODE_MENU || nd->kind == UIGW_NODE_INFO);
	if ((rc = ld_get_bool(ld, g, "record", &nd->record)) < 0)
		return rc;
	v = nd->id;
	rc = ld_get_str(ld, g, "question", &s, &v);
	if (rc < 0)
		return rc;
	if (rc > 0 && !ld_valid_ident(v))
		return ld_err(ld, s, "bad question name '%s'", v);
	if (!(nd->question = talloc_strdup(ld->c, v)))
		return ld_nomem(ld);

	return get_actions(ld, g, &nd->actions, &nd->n_actions);
}

/* First pass over the nodes: ids (unique) and the variables they set, so that texts can use them anywhere. */
int uigw_ld_collect_nodes(struct ld *ld, const config_setting_t *l)
{
	struct uigw_campaign *c = ld->c;
	unsigned int i, n = config_setting_length(l);
	int rc;

	if (n == 0)
		return ld_err(ld, l, "nodes is empty");
	if (n > MAX_NODES)
		return ld_err(ld, l, "more than %u nodes", MAX_NODES);
	if (!(c->nodes = talloc_zero_array(c, struct uigw_node, n)))
		return ld_nomem(ld);
	for (i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(l, i), *s;
		struct uigw_node *nd = &c->nodes[i];
		const char *id = NULL, *var;
		int dup;

		rc = ld_get_str(ld, g, "id", &s, &id);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return ld_err(ld, g, "node %u: missing id", i + 1);
		if (!ld_valid_ident(id))
			return ld_err(ld, s, "bad node id '%s' (1..32 of a-z 0-9 _)", id);
		dup = uigw_campaign_node_idx(c, id);
		if (dup >= 0)
			return ld_err(ld, s, "duplicate node id '%s'", id);
		if (!(nd->id = talloc_strdup(c, id)))
			return ld_nomem(ld);
		c->n_nodes = i + 1;

		var = id;
		rc = ld_get_str(ld, g, "var", &s, &var);
		if (rc < 0)
			return rc;
		if (rc > 0 && !ld_valid_ident(var))
			return ld_err(ld, s, "node '%s': bad var name '%s'", id, var);
		for (dup = 0; ld_builtin_vars[dup]; dup++)
			if (!strcmp(ld_builtin_vars[dup], var))
				return ld_err(ld, s ? s : g, "node '%s': var '%s' is a builtin variable", id, var);
		if (!(nd->var = talloc_strdup(c, var)))
			return ld_nomem(ld);
		if ((rc = ld_var_add(ld, nd->var)) < 0)
			return rc;
	}
	return 0;
}

int uigw_ld_parse_nodes(struct ld *ld, const config_setting_t *root)
{
	const config_setting_t *l = config_setting_get_member(root, "nodes");
	unsigned int i;
	size_t w;
	int rc;

	for (i = 0; i < ld->c->n_nodes; i++) {
		w = ld_where_push(ld, "node '%s': ", ld->c->nodes[i].id);
		rc = parse_node(ld, config_setting_get_elem(l, i), &ld->c->nodes[i]);
		ld_where_pop(ld, w);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * Campaign settings
 */
