/*! \file dialog_text.c
 *  The text side of the dialog engine: dialog variables, template evaluation (with the results of the store
 *  queries of contextual variables) and the assembly of a node's screen for the renderer. */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/render/render.h>
#include "dialog_priv.h"

#define ARENA_SIZE 8192
#define MAX_ITEMS 32

/*! A bump buffer for the strings of one screen: no allocation per string. */
struct arena {
	char buf[ARENA_SIZE];
	size_t used;
};

/* Start a string in the arena; returns its start. Strings are built with arena_put and ended by arena_end. */
static char *arena_begin(struct arena *a)
{
	return a->buf + a->used;
}

static void arena_put(struct arena *a, const char *s, size_t n)
{
	size_t room = sizeof(a->buf) - a->used - 1;	/* keep one byte for the NUL */

	if (n > room)
		n = room;
	memcpy(a->buf + a->used, s, n);
	a->used += n;
}

static const char *arena_end(struct arena *a, char *start)
{
	if (a->used >= sizeof(a->buf))
		a->used = sizeof(a->buf) - 1;
	a->buf[a->used++] = '\0';
	if (a->used > sizeof(a->buf) - 1)
		a->used = sizeof(a->buf) - 1;
	return start;
}

const char *uigw_dlg_var_get(const struct uigw_dialog *dlg, const char *name)
{
	unsigned int i;

	for (i = 0; i < dlg->n_vars; i++) {
		if (!strcmp(dlg->vars[i].name, name))
			return dlg->vars[i].value;
	}
	if (!strcmp(name, "msisdn"))
		return dlg->msisdn;
	if (!strcmp(name, "campaign"))
		return dlg->camp ? dlg->camp->name : "";
	if (!strcmp(name, "language"))
		return dlg->lang;
	return NULL;
}

int uigw_dlg_var_set(struct uigw_dialog *dlg, const char *name, const char *value)
{
	unsigned int i;
	struct uigw_var *v;

	for (i = 0; i < dlg->n_vars; i++) {
		if (!strcmp(dlg->vars[i].name, name)) {
			talloc_free(dlg->vars[i].value);
			dlg->vars[i].value = talloc_strdup(dlg, value);
			return dlg->vars[i].value ? 0 : -ENOMEM;
		}
	}
	v = talloc_realloc(dlg, dlg->vars, struct uigw_var, dlg->n_vars + 1);
	if (!v)
		return -ENOMEM;
	dlg->vars = v;
	v[dlg->n_vars].name = name;
	v[dlg->n_vars].value = talloc_strdup(dlg, value);
	if (!v[dlg->n_vars].value)
		return -ENOMEM;
	dlg->n_vars++;
	return 0;
}

static void put_query_result(struct arena *a, const struct uigw_store_query *q)
{
	char num[32];
	int n;

	if (q->rc < 0) {
		arena_put(a, "?", 1);
		return;
	}
	if (uigw_query_is_average(q->query)) {
		if (q->count == 0) {
			arena_put(a, "-", 1);
			return;
		}
		n = snprintf(num, sizeof(num), "%.1f", q->value);
	} else {
		n = snprintf(num, sizeof(num), "%lld", (long long)q->count);
	}
	arena_put(a, num, n);
}

/* Evaluate t into the arena. With job, query segments take job->queries[*qi] in order. */
static const char *eval_tmpl(const struct uigw_dialog *dlg, const struct uigw_tmpl *t,
			     const struct uigw_store_job *job, unsigned int *qi, struct arena *a)
{
	char *start = arena_begin(a);
	unsigned int i;

	if (!t)
		return arena_end(a, start);
	for (i = 0; i < t->n_seg; i++) {
		const struct uigw_tmpl_seg *s = &t->seg[i];
		const char *v;

		switch (s->kind) {
		case UIGW_SEG_LIT:
			arena_put(a, s->text, strlen(s->text));
			break;
		case UIGW_SEG_VAR:
			v = uigw_dlg_var_get(dlg, s->text);
			if (v)
				arena_put(a, v, strlen(v));
			break;
		case UIGW_SEG_QUERY:
			if (job && qi && *qi < job->n_queries)
				put_query_result(a, &job->queries[(*qi)++]);
			break;
		}
	}
	return arena_end(a, start);
}

/* A template without substitutions is its own text. \returns it, or NULL if it has substitutions. */
static const char *tmpl_literal(const struct uigw_tmpl *t)
{
	if (!t || t->n_seg == 0)
		return "";
	if (t->n_seg == 1 && t->seg[0].kind == UIGW_SEG_LIT)
		return t->seg[0].text;
	return NULL;
}

const char *uigw_dlg_eval(const struct uigw_dialog *dlg, void *ctx, const struct uigw_tmpl *t)
{
	const char *lit = tmpl_literal(t);
	struct arena a;

	if (lit)
		return lit;
	a.used = 0;
	return talloc_strdup(ctx, eval_tmpl(dlg, t, NULL, NULL, &a));
}

static int collect_tmpl(struct uigw_dialog *dlg, const struct uigw_tmpl *t, struct uigw_store_job *job)
{
	unsigned int i;
	int n = 0;

	if (!t || !t->n_queries)
		return 0;
	for (i = 0; i < t->n_seg; i++) {
		const struct uigw_tmpl_seg *s = &t->seg[i];
		const char *arg;

		if (s->kind != UIGW_SEG_QUERY)
			continue;
		arg = s->arg_is_literal ? s->text : uigw_dlg_var_get(dlg, s->text);
		if (!uigw_store_job_query(job, s->query, dlg->camp->name, arg ? arg : ""))
			return -ENOMEM;
		n++;
	}
	return n;
}

/* The templates of a node's screen in the order the renderer evaluates them: text, option labels, scale
 * labels. Both the collection and the evaluation walk this order. */
#define FOR_EACH_SCREEN_TMPL(dlg, node, t, body) do { \
	unsigned int _i; \
	t = uigw_i18n_get(&(node)->text, (dlg)->lang); body; \
	for (_i = 0; _i < (node)->n_options; _i++) { t = uigw_i18n_get(&(node)->options[_i].label, (dlg)->lang); body; } \
	if ((node)->kind == UIGW_NODE_RATING && (node)->scale_labels) \
		for (_i = 0; _i < (node)->scale; _i++) { t = uigw_i18n_get(&(node)->scale_labels[_i], (dlg)->lang); body; } \
} while (0)

int uigw_dlg_collect_queries(struct uigw_dialog *dlg, struct uigw_store_job *job)
{
	const struct uigw_node *node = &dlg->camp->nodes[dlg->node];
	const struct uigw_tmpl *t;
	int n = 0, rc;

	FOR_EACH_SCREEN_TMPL(dlg, node, t, {
		rc = collect_tmpl(dlg, t, job);
		if (rc < 0)
			return rc;
		n += rc;
	});
	return n;
}

const char *uigw_dlg_label(const struct uigw_dialog *dlg, const struct uigw_i18n *t, const char *def, void *ctx)
{
	const struct uigw_tmpl *tm = uigw_i18n_get(t, dlg->lang);

	if (!tm)
		return def;
	return uigw_dlg_eval(dlg, ctx, tm);
}

int uigw_dlg_render_node(struct uigw_dialog *dlg, const struct uigw_store_job *job, void *ctx,
			 struct uigw_render_out *out)
{
	const struct uigw_node *node = &dlg->camp->nodes[dlg->node];
	const struct uigw_labels *lb = &dlg->camp->labels;
	struct uigw_render_item items[MAX_ITEMS], footer[2];
	struct uigw_render_in in = { 0 };
	static const char *const digits[] = { "1", "2", "3", "4", "5", "6", "7", "8", "9", "10" };
	struct arena arena, *a = &arena;
	unsigned int qi = 0, i, n_items = 0;
	const char *text;
	char *hdr;
	bool final = (node->kind == UIGW_NODE_INFO && node->next < 0);

	a->used = 0;

	/* header: one-shot notice, then the node's text */
	text = eval_tmpl(dlg, uigw_i18n_get(&node->text, dlg->lang), job, &qi, a);
	if (dlg->notice && dlg->notice[0]) {
		hdr = arena_begin(a);
		arena_put(a, dlg->notice, strlen(dlg->notice));
		arena_put(a, "\n", 1);
		arena_put(a, text, strlen(text));
		in.header = arena_end(a, hdr);
	} else {
		in.header = text;
	}

	switch (node->kind) {
	case UIGW_NODE_MENU:
	case UIGW_NODE_CHOICE:
		for (i = 0; i < node->n_options && n_items < MAX_ITEMS; i++) {
			items[n_items].key = node->options[i].key;
			items[n_items].label = eval_tmpl(dlg, uigw_i18n_get(&node->options[i].label, dlg->lang),
							 job, &qi, a);
			n_items++;
		}
		break;
	case UIGW_NODE_RATING:
		if (node->scale_labels) {
			for (i = 0; i < node->scale && i < ARRAY_SIZE(digits); i++) {
				items[n_items].key = digits[i];
				items[n_items].label = eval_tmpl(dlg, uigw_i18n_get(&node->scale_labels[i], dlg->lang),
								 job, &qi, a);
				n_items++;
			}
		}
		/* without labels the campaign text tells the range (e.g. "1 = bad, 5 = great") */
		break;
	case UIGW_NODE_YESNO:
		items[0].key = "1";
		items[0].label = uigw_dlg_label(dlg, &lb->yes, "Yes", ctx);
		items[1].key = "2";
		items[1].label = uigw_dlg_label(dlg, &lb->no, "No", ctx);
		n_items = 2;
		break;
	default:
		break;
	}
	in.items = items;
	in.n_items = n_items;
	if (dlg->n_hist > 0 && !final && dlg->profile->kind != UIGW_PROF_IMS) {
		footer[in.n_footer].key = UIGW_KEY_BACK;
		footer[in.n_footer].label = uigw_dlg_label(dlg, &lb->back, "Back", ctx);
		in.n_footer++;
	}
	if (!final && uigw_dlg_push_stop_offered(dlg)) {
		footer[in.n_footer].key = dlg->gw->cfg.push_stop_key;
		footer[in.n_footer].label = dlg->gw->cfg.push_stop_label;
		in.n_footer++;
	}
	if (in.n_footer)
		in.footer = footer;
	in.more.key = UIGW_KEY_MORE;
	in.more.label = uigw_dlg_label(dlg, &lb->more, "More", ctx);
	in.page = dlg->page;

	return uigw_render(ctx, dlg->profile, &in, out);
}

int uigw_dlg_render_text(struct uigw_dialog *dlg, void *ctx, const char *text, struct uigw_render_out *out)
{
	struct uigw_render_in in = {
		.header = text,
		.more = { .key = UIGW_KEY_MORE, .label = "More" },
	};
	return uigw_render(ctx, dlg->profile, &in, out);
}
