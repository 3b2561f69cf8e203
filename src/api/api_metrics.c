/*! \file api_metrics.c
 *  GET /metrics: every rate counter group and stat item of the process (the gateway's, its channels', its
 *  links', and libosmocore's own) in Prometheus' text exposition format 0.0.4, plus the store's totals and a
 *  build_info gauge. doc/metrics.md lists the families.
 *
 *  Names: the group's prefix and the counter's name, every character outside [a-zA-Z0-9_] turned into '_',
 *  "uigw_" in front unless the prefix starts with "uigw"; counters end in "_total" and are of TYPE counter,
 *  stat items (their last value) are gauges. Groups of one kind are one family told apart by a label: channel=
 *  (uigw:channel), campaign= (uigw:campaign), link= (smpp_link), group= for any other; its value is the group's
 *  name, or its index when it has none. A kind with a single unnamed group of index 0 has no label. */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <talloc.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/stat_item.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/store/store.h>
#include "api_call.h"

#include "config.h"

#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

static const struct {
	const char *prefix;
	const char *label;
} group_labels[] = {
	{ "uigw:channel", "channel" },
	{ "uigw:campaign", "campaign" },
	{ "smpp_link", "link" },
};

struct out {
	char *s;		/*!< talloc string, appended to */
	bool oom;
};

static void emit(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(struct out *o, const char *fmt, ...)
{
	va_list ap;
	char *n;

	if (o->oom)
		return;
	va_start(ap, fmt);
	n = talloc_vasprintf_append_buffer(o->s, fmt, ap);
	va_end(ap);
	if (!n)
		o->oom = true;
	else
		o->s = n;
}

/* append \a s as a metric name part: [a-zA-Z0-9_] kept, anything else '_' */
static void emit_name(struct out *o, const char *s)
{
	char buf[128];
	size_t i;

	for (i = 0; s[i] && i < sizeof(buf) - 1; i++) {
		char ch = s[i];

		buf[i] = ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')) ? ch : '_';
	}
	buf[i] = '\0';
	emit(o, "%s", buf);
}

static void emit_family(struct out *o, const char *prefix, const char *name)
{
	if (strncmp(prefix, "uigw", 4))
		emit(o, "uigw_");
	emit_name(o, prefix);
	emit(o, "_");
	emit_name(o, name);
}

/* HELP text: backslash and newline escaped */
static void emit_help(struct out *o, const char *text)
{
	for (; text && *text; text++) {
		if (*text == '\\')
			emit(o, "\\\\");
		else if (*text == '\n')
			emit(o, "\\n");
		else
			emit(o, "%c", *text);
	}
}

/* a label value: backslash, double quote and newline escaped */
static void emit_label_value(struct out *o, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			emit(o, "\\%c", *v);
		else if (*v == '\n')
			emit(o, "\\n");
		else
			emit(o, "%c", *v);
	}
}

static const char *label_of(const char *prefix)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(group_labels); i++) {
		if (!strcmp(group_labels[i].prefix, prefix))
			return group_labels[i].label;
	}
	return "group";
}

/* {label="name or idx"} when the kind needs one */
static void emit_labels(struct out *o, const char *prefix, const char *name, unsigned int idx, bool labelled)
{
	char num[16];

	if (!labelled)
		return;
	snprintf(num, sizeof(num), "%u", idx);
	emit(o, "{%s=\"", label_of(prefix));
	emit_label_value(o, name ? name : num);
	emit(o, "\"}");
}

/* ---------------------------------------------------------------------------------------------------------- */
/* the groups, collected so that a family's samples follow one HELP and TYPE */

/* a rate counter group or a stat item group, seen the same way */
struct grp {
	const void *g;
	const void *desc;		/*!< its kind */
	bool counter;			/*!< rate_ctr_group, else osmo_stat_item_group */
	const char *prefix, *name;
	unsigned int idx, n;		/*!< n: counters or items */
};

struct groups {
	struct grp *g;
	unsigned int n, cap;
	void *ctx;
};

static int collect(struct groups *gs, struct grp g)
{
	if (gs->n == gs->cap) {
		unsigned int cap = gs->cap ? gs->cap * 2 : 32;
		struct grp *n = talloc_realloc(gs->ctx, gs->g, struct grp, cap);

		if (!n)
			return -ENOMEM;
		gs->g = n;
		gs->cap = cap;
	}
	gs->g[gs->n++] = g;
	return 0;
}

static int collect_ctrg(struct rate_ctr_group *g, void *data)
{
	return collect(data, (struct grp){ .g = g, .desc = g->desc, .counter = true,
		       .prefix = g->desc->group_name_prefix, .name = g->name, .idx = g->idx, .n = g->desc->num_ctr });
}

static int collect_statg(struct osmo_stat_item_group *g, void *data)
{
	return collect(data, (struct grp){ .g = g, .desc = g->desc, .counter = false,
		       .prefix = g->desc->group_name_prefix, .name = g->name, .idx = g->idx, .n = g->desc->num_items });
}

static void item_desc(const struct grp *g, unsigned int k, const char **name, const char **help)
{
	if (g->counter) {
		const struct rate_ctr_group_desc *d = g->desc;

		*name = d->ctr_desc[k].name;
		*help = d->ctr_desc[k].description;
	} else {
		const struct osmo_stat_item_group_desc *d = g->desc;

		*name = d->item_desc[k].name;
		*help = d->item_desc[k].description;
	}
}

static void emit_value(struct out *o, const struct grp *g, unsigned int k)
{
	if (g->counter)
		emit(o, " %" PRIu64 "\n", rate_ctr_group_get_ctr((struct rate_ctr_group *)g->g, k)->current);
	else
		emit(o, " %" PRId32 "\n", osmo_stat_item_get_last(
			osmo_stat_item_group_get_item((struct osmo_stat_item_group *)g->g, k)));
}

/* One family per (kind, counter or item), its HELP and TYPE once, then a sample per group of the kind. */
static void families(struct out *o, const struct groups *gs)
{
	unsigned int i, j, k;

	for (i = 0; i < gs->n; i++) {
		const struct grp *g = &gs->g[i];
		const char *suffix = g->counter ? "_total" : "";
		bool first_of_kind = true, labelled = false;

		for (j = 0; j < gs->n; j++) {
			if (gs->g[j].desc != g->desc)
				continue;
			if (j < i)
				first_of_kind = false;
			/* labelled: more than one group of the kind, a name, or an index other than 0 */
			if (j != i || gs->g[j].name || gs->g[j].idx)
				labelled = true;
		}
		if (!first_of_kind)
			continue;
		for (k = 0; k < g->n; k++) {
			const char *name, *help;

			item_desc(g, k, &name, &help);
			emit(o, "# HELP ");
			emit_family(o, g->prefix, name);
			emit(o, "%s ", suffix);
			emit_help(o, help);
			emit(o, "\n# TYPE ");
			emit_family(o, g->prefix, name);
			emit(o, "%s %s\n", suffix, g->counter ? "counter" : "gauge");
			for (j = i; j < gs->n; j++) {
				const struct grp *h = &gs->g[j];

				if (h->desc != g->desc)
					continue;
				emit_family(o, g->prefix, name);
				emit(o, "%s", suffix);
				emit_labels(o, g->prefix, h->name, h->idx, labelled);
				emit_value(o, h, k);
			}
		}
	}
}

static void store_totals(struct out *o, struct uigw_store *st)
{
	struct uigw_store_stats s;
	unsigned int i;

	uigw_store_stats(st, &s);
	const struct {
		const char *name, *help;
		uint64_t v;
	} tot[] = {
		{ "uigw_store_commits_total", "Transactions (group commits) the store wrote", s.commits },
		{ "uigw_store_jobs_total", "Jobs in them", s.jobs },
		{ "uigw_store_rows_total", "Rows in them", s.rows },
		{ "uigw_store_failed_jobs_total", "Jobs completed with an error", s.failed_jobs },
		{ "uigw_store_log_rows_lost_total", "Log rows (the API's audit) not stored", s.log_rows_lost },
		{ "uigw_store_optout_checks_total", "Opt-out checks", s.optout_checks },
		{ "uigw_store_optout_reads_total", "Opt-out checks that read the database", s.optout_reads },
	};

	for (i = 0; i < ARRAY_SIZE(tot); i++)
		emit(o, "# HELP %s %s\n# TYPE %s counter\n%s %" PRIu64 "\n", tot[i].name, tot[i].help, tot[i].name,
		     tot[i].name, tot[i].v);
	emit(o, "# HELP uigw_store_busy_seconds_total Time the store writer spent writing and committing\n"
	     "# TYPE uigw_store_busy_seconds_total counter\nuigw_store_busy_seconds_total %.6f\n",
	     s.busy_us / 1e6);
}

char *uigw_api_metrics_text(void *ctx, struct uigw *gw)
{
	struct out o = { .s = talloc_strdup(ctx, "") };
	struct groups gs = { .ctx = ctx };

	if (!o.s)
		return NULL;
	emit(&o, "# HELP uigw_build_info The running osmo-uigw\n# TYPE uigw_build_info gauge\n"
	     "uigw_build_info{version=\"");
	emit_label_value(&o, PACKAGE_VERSION);
	emit(&o, "\"} 1\n");

	/* counters first, then the stat items: the kinds of the two never share a desc */
	if (rate_ctr_for_each_group(collect_ctrg, &gs) < 0 || osmo_stat_item_for_each_group(collect_statg, &gs) < 0)
		o.oom = true;
	families(&o, &gs);
	TALLOC_FREE(gs.g);
	if (gw && gw->store)
		store_totals(&o, gw->store);
	if (o.oom) {
		TALLOC_FREE(o.s);
		return NULL;
	}
	return o.s;
}

/* GET /metrics: the operator's keys with scope metrics, or anyone with `metrics public` */
void api_h_metrics(struct call *c)
{
	char *text;

	if (c->tenant && !c->tenant->is_operator) {
		ERR(c, 403, "forbidden", "the gateway's metrics are the operator's");
		return;
	}
	text = uigw_api_metrics_text(c->ctx, c->api->gw);
	if (!text) {
		ERR(c, 500, "internal", "out of memory");
		return;
	}
	c->resp->status = 200;
	c->resp->body = text;
	c->resp->content_type = METRICS_CONTENT_TYPE;
}
