/*! \file api_propose.c
 *  Campaign proposals over the API: the JSON form of a campaign file turned into campaign text (libconfig), so
 *  that the one validator of the files (core/campaign_load.c) judges it, with every setting on a line of its own
 *  so that a validator's "line N: reason" maps back to the JSON pointer of what the client sent; then the
 *  tenant's restrictions (channels, node types, actions, nodes, push cap); then core/proposal.c keeps it. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/channel.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/campaign.h>
#include <osmocom/uigw/core/proposal.h>
#include "api_priv.h"

struct gen {
	void *ctx;
	char *text;
	unsigned int line;		/*!< the line being written, from 1 */
	char **where;			/*!< JSON pointer of what begins on each line (index: line) */
	unsigned int n_where;
	json_t *errors;
};

static void gen_err(struct gen *g, const char *path, const char *reason)
{
	json_array_append_new(g->errors, json_pack("{s:s, s:s}", "path", path, "reason", reason));
}

static void put(struct gen *g, const char *s)
{
	const char *p;

	g->text = talloc_strdup_append_buffer(g->text, s);
	for (p = s; *p; p++)
		if (*p == '\n')
			g->line++;
}

/* what begins on the current line */
static void mark(struct gen *g, const char *path)
{
	if (g->line >= g->n_where) {
		unsigned int n = g->line + 64;
		char **w = talloc_realloc(g->ctx, g->where, char *, n);
		if (!w)
			return;
		memset(w + g->n_where, 0, (n - g->n_where) * sizeof(*w));
		g->where = w;
		g->n_where = n;
	}
	if (!g->where[g->line])
		g->where[g->line] = talloc_strdup(g->ctx, path);
}

static bool setting_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 64 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

static void put_string(struct gen *g, const char *s)
{
	char esc[8];

	put(g, "\"");
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = c;
			esc[2] = '\0';
			put(g, esc);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x", c);
			put(g, esc);
		} else {
			esc[0] = c;
			esc[1] = '\0';
			put(g, esc);
		}
	}
	put(g, "\"");
}

static void put_value(struct gen *g, json_t *v, const char *path, int depth);

static void put_members(struct gen *g, json_t *o, const char *path, int depth)
{
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v) {
		char *p = talloc_asprintf(g->ctx, "%s/%s", path, key);

		put(g, "\n");
		mark(g, p);
		if (!setting_name_ok(key)) {
			gen_err(g, p, "not a setting name");
			continue;
		}
		put(g, key);
		put(g, " = ");
		put_value(g, v, p, depth + 1);
		put(g, ";");
	}
}

/* an array of scalars of one type is a libconfig array [ ]; anything else a list ( ) */
static bool plain_array(json_t *a)
{
	size_t i;
	json_t *v;
	int t = -1;

	json_array_foreach(a, i, v) {
		int vt = json_is_true(v) || json_is_false(v) ? JSON_TRUE : json_typeof(v);
		if (vt == JSON_OBJECT || vt == JSON_ARRAY || vt == JSON_NULL)
			return false;
		if (t >= 0 && vt != t)
			return false;
		t = vt;
	}
	return true;
}

static void put_value(struct gen *g, json_t *v, const char *path, int depth)
{
	char buf[64];
	size_t i;
	json_t *e;
	bool plain;

	if (depth > 16) {
		gen_err(g, path, "nested too deep");
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		put(g, "{");
		put_members(g, v, path, depth);
		put(g, " }");
		break;
	case JSON_ARRAY:
		plain = plain_array(v);
		put(g, plain ? "[" : "(");
		json_array_foreach(v, i, e) {
			char *p = talloc_asprintf(g->ctx, "%s/%zu", path, i);

			if (!plain) {
				put(g, "\n");
				mark(g, p);
			}
			if (i && plain)
				put(g, ", ");
			put_value(g, e, p, depth + 1);
			if (!plain && i + 1 < json_array_size(v))
				put(g, ",");
		}
		put(g, plain ? "]" : " )");
		break;
	case JSON_STRING:
		put_string(g, json_string_value(v));
		break;
	case JSON_INTEGER:
		if (json_integer_value(v) >= INT32_MIN && json_integer_value(v) <= INT32_MAX)
			snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		else
			snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT "L", json_integer_value(v));
		put(g, buf);
		break;
	case JSON_REAL:
		snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
		if (!strpbrk(buf, ".eE"))
			strcat(buf, ".0");
		put(g, buf);
		break;
	case JSON_TRUE:
		put(g, "true");
		break;
	case JSON_FALSE:
		put(g, "false");
		break;
	default:
		gen_err(g, path, "null is not a value of a campaign");
		put(g, "0");
		break;
	}
}

/* "proposal:12: node 'x': ..." -> the JSON pointer of line 12 and the reason */
static void loader_err(struct gen *g, const char *err)
{
	const char *p = strchr(err, ':'), *reason = err;
	unsigned long line = 0;
	char *end;

	if (p && p[1] >= '0' && p[1] <= '9') {
		line = strtoul(p + 1, &end, 10);
		if (*end == ':') {
			reason = end + 1;
			while (*reason == ' ')
				reason++;
		}
	} else if (p) {
		reason = p + 1;
		while (*reason == ' ')
			reason++;
	}
	while (line && line < g->n_where && !g->where[line])
		line--;
	gen_err(g, line && line < g->n_where && g->where[line] ? g->where[line] : "", reason);
}

static const char *restriction(const struct uigw_api_tenant *t, const struct uigw_campaign *c, char *buf,
			       size_t len, const char **path)
{
	unsigned int i, k;
	uint32_t chans = c->channels & ~(1u << UIGW_CHAN_API);

	if (chans & ~t->channels) {
		*path = "/channels";
		for (i = 0; i < _UIGW_CHAN_NUM; i++)
			if ((chans & ~t->channels) & (1u << i))
				break;
		snprintf(buf, len, "the tenant may not use channel %s (list the channels explicitly)",
			 uigw_channel_name(i));
		return buf;
	}
	if (c->n_nodes > t->max_nodes) {
		*path = "/nodes";
		snprintf(buf, len, "%u nodes, the tenant may propose at most %u", c->n_nodes, t->max_nodes);
		return buf;
	}
	for (i = 0; i < c->n_nodes; i++) {
		const struct uigw_node *n = &c->nodes[i];

		if (!(t->node_kinds & (1u << n->kind))) {
			*path = "/nodes";
			snprintf(buf, len, "node %s: the tenant may not use node type %s", n->id,
				 get_value_string(uigw_node_kind_names, n->kind));
			return buf;
		}
		for (k = 0; k < n->n_actions; k++)
			if (!(t->actions & (1u << n->actions[k].kind)))
				goto bad_action;
		for (k = 0; k < n->n_options; k++) {
			unsigned int a;
			for (a = 0; a < n->options[k].n_actions; a++)
				if (!(t->actions & (1u << n->options[k].actions[a].kind))) {
					k = a;
					goto bad_option_action;
				}
		}
		continue;
bad_action:
		*path = "/nodes";
		snprintf(buf, len, "node %s: the tenant may not use action %s", n->id,
			 get_value_string(uigw_action_kind_names, n->actions[k].kind));
		return buf;
bad_option_action:
		*path = "/nodes";
		snprintf(buf, len, "node %s: the tenant may not use action type in an option", n->id);
		return buf;
	}
	if (t->push_cap_per && (!c->push_cap_per ||
				(uint64_t)c->push_cap_count * t->push_cap_per > (uint64_t)t->push_cap_count * c->push_cap_per)) {
		*path = "/push_cap";
		snprintf(buf, len, "the tenant's campaigns need a push_cap of at most %u per %u s", t->push_cap_count,
			 t->push_cap_per);
		return buf;
	}
	if (c->n_on_event && !t->may_push) {
		*path = "/on_event";
		snprintf(buf, len, "the tenant may not start dialogs");
		return buf;
	}
	return NULL;
}

int uigw_api_propose(struct uigw_api *api, void *ctx, const struct uigw_api_tenant *t, json_t *body,
		     struct uigw_proposal **out, json_t **errors, char *conflict, size_t conflict_len)
{
	struct gen g = { .ctx = ctx, .line = 1 };
	struct uigw_campaign *c = NULL;
	const char *owner = json_string_value(json_object_get(body, "owner"));
	const char *path = "";
	char err[512], buf[256];
	int rc;

	g.errors = json_array();
	*errors = g.errors;
	if (!t->is_operator) {
		struct uigw_proposal *p;
		unsigned int n = 0;

		llist_for_each_entry(p, &api->gw->proposals, list)
			n += p->camp->owner && !strcmp(p->camp->owner, t->name);
		if (n >= t->max_proposals) {
			snprintf(conflict, conflict_len, "%u proposals of tenant %s wait for approval already (max-proposals)",
				 n, t->name);
			return -EEXIST;
		}
	}
	g.text = talloc_asprintf(ctx, "# proposed over the HTTP API by tenant %s", t->name);
	if (json_object_get(body, "owner") && (!owner || strcmp(owner, t->name)))
		gen_err(&g, "/owner", "a tenant proposes its own campaigns only (omit owner)");
	/* the campaign belongs to the tenant that proposes it */
	json_object_del(body, "owner");
	put_members(&g, body, "", 0);
	if (!t->is_operator) {
		put(&g, "\n");
		mark(&g, "/owner");
		put(&g, "owner = ");
		put_string(&g, t->name);
		put(&g, ";");
	}
	put(&g, "\n");
	if (json_array_size(g.errors))
		return -EINVAL;
	rc = uigw_campaign_load_string(NULL, g.text, "proposal", &c, err, sizeof(err));
	if (rc < 0) {
		loader_err(&g, err);
		return -EINVAL;
	}
	if (!t->is_operator && restriction(t, c, buf, sizeof(buf), &path)) {
		gen_err(&g, path, buf);
		uigw_campaign_put(c);
		return -EINVAL;
	}
	talloc_steal(api->gw, c);
	rc = uigw_proposal_add(api->gw, g.text, c, out, conflict, conflict_len);
	return rc;
}
