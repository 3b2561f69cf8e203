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

struct groups {
	void **g;
	unsigned int n, cap;
	void *ctx;
};

static int collect(void *g, void *data)
{
	struct groups *gs = data;

	if (gs->n == gs->cap) {
		unsigned int cap = gs->cap ? gs->cap * 2 : 32;
		void **n = talloc_realloc(gs->ctx, gs->g, void *, cap);

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
	return collect(g, data);
}

static int collect_statg(struct osmo_stat_item_group *g, void *data)
{
	return collect(g, data);
}

/* Is the kind of group i (its desc) labelled: more than one group, a name, or an index other than 0? */
#define KIND_LABELLED(gs, i, T)	({							\
	bool _l = false;								\
	unsigned int _j;								\
	for (_j = 0; _j < (gs)->n; _j++) {						\
		T *_g = (gs)->g[_j];							\
		if (_g->desc == ((T *)(gs)->g[i])->desc && (_j != (i) || _g->name || _g->idx))	\
			_l = true;							\
	}										\
	_l; })

static void counters(struct out *o, struct groups *gs)
{
	unsigned int i, j, k;

	for (i = 0; i < gs->n; i++) {
		struct rate_ctr_group *g = gs->g[i];
		const struct rate_ctr_group_desc *d = g->desc;
		bool first_of_kind = true, labelled;

		for (j = 0; j < i; j++) {
			if (((struct rate_ctr_group *)gs->g[j])->desc == d)
				first_of_kind = false;
		}
		if (!first_of_kind)
			continue;
		labelled = KIND_LABELLED(gs, i, struct rate_ctr_group);
		for (k = 0; k < d->num_ctr; k++) {
			emit(o, "# HELP ");
			emit_family(o, d->group_name_prefix, d->ctr_desc[k].name);
			emit(o, "_total ");
			emit_help(o, d->ctr_desc[k].description);
			emit(o, "\n# TYPE ");
			emit_family(o, d->group_name_prefix, d->ctr_desc[k].name);
			emit(o, "_total counter\n");
			for (j = i; j < gs->n; j++) {
				struct rate_ctr_group *h = gs->g[j];

				if (h->desc != d)
					continue;
				emit_family(o, d->group_name_prefix, d->ctr_desc[k].name);
				emit(o, "_total");
				emit_labels(o, d->group_name_prefix, h->name, h->idx, labelled);
				emit(o, " %" PRIu64 "\n", rate_ctr_group_get_ctr(h, k)->current);
			}
		}
	}
}

static void gauges(struct out *o, struct groups *gs)
{
	unsigned int i, j, k;

	for (i = 0; i < gs->n; i++) {
		struct osmo_stat_item_group *g = gs->g[i];
		const struct osmo_stat_item_group_desc *d = g->desc;
		bool first_of_kind = true, labelled;

		for (j = 0; j < i; j++) {
			if (((struct osmo_stat_item_group *)gs->g[j])->desc == d)
				first_of_kind = false;
		}
		if (!first_of_kind)
			continue;
		labelled = KIND_LABELLED(gs, i, struct osmo_stat_item_group);
		for (k = 0; k < d->num_items; k++) {
			emit(o, "# HELP ");
			emit_family(o, d->group_name_prefix, d->item_desc[k].name);
			emit(o, " ");
			emit_help(o, d->item_desc[k].description);
			emit(o, "\n# TYPE ");
			emit_family(o, d->group_name_prefix, d->item_desc[k].name);
			emit(o, " gauge\n");
			for (j = i; j < gs->n; j++) {
				struct osmo_stat_item_group *h = gs->g[j];

				if (h->desc != d)
					continue;
				emit_family(o, d->group_name_prefix, d->item_desc[k].name);
				emit_labels(o, d->group_name_prefix, h->name, h->idx, labelled);
				emit(o, " %" PRId32 "\n", osmo_stat_item_get_last(osmo_stat_item_group_get_item(h, k)));
			}
		}
	}
}

static void store_totals(struct out *o, struct uigw_store *st)
{
	struct uigw_store_stats s;
	const struct {
		const char *name, *help;
		uint64_t v;
	} *t, tot[] = {
		{ "uigw_store_commits_total", "Transactions (group commits) the store wrote", 0 },
		{ "uigw_store_jobs_total", "Jobs in them", 0 },
		{ "uigw_store_rows_total", "Rows in them", 0 },
		{ "uigw_store_failed_jobs_total", "Jobs completed with an error", 0 },
		{ "uigw_store_log_rows_lost_total", "Log rows (the API's audit) not stored", 0 },
		{ "uigw_store_optout_checks_total", "Opt-out checks", 0 },
		{ "uigw_store_optout_reads_total", "Opt-out checks that read the database", 0 },
	};
	uint64_t v[ARRAY_SIZE(tot)];
	unsigned int i;

	uigw_store_stats(st, &s);
	v[0] = s.commits;
	v[1] = s.jobs;
	v[2] = s.rows;
	v[3] = s.failed_jobs;
	v[4] = s.log_rows_lost;
	v[5] = s.optout_checks;
	v[6] = s.optout_reads;
	for (i = 0; i < ARRAY_SIZE(tot); i++) {
		t = &tot[i];
		emit(o, "# HELP %s %s\n# TYPE %s counter\n%s %" PRIu64 "\n", t->name, t->help, t->name, t->name, v[i]);
	}
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

	if (rate_ctr_for_each_group(collect_ctrg, &gs) < 0)
		o.oom = true;
	counters(&o, &gs);
	TALLOC_FREE(gs.g);
	gs.n = gs.cap = 0;
	if (osmo_stat_item_for_each_group(collect_statg, &gs) < 0)
		o.oom = true;
	gauges(&o, &gs);
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
