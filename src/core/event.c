/*! \file event.c
 *  Network events -> campaigns (core/event.h): match the type, check the conditions, sample, map the
 *  parameters, then the one trigger path. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/campaign.h>
#include <osmocom/uigw/core/event.h>

const struct value_string uigw_event_result_names[] = {
	{ UIGW_EVENT_TRIGGERED, "triggered" },
	{ UIGW_EVENT_REFUSED, "refused" },
	{ UIGW_EVENT_CONDITION, "condition" },
	{ UIGW_EVENT_SAMPLED_OUT, "sampled_out" },
	{ UIGW_EVENT_FAILED, "failed" },
	{ 0, NULL }
};

void uigw_event_seed(struct uigw *gw, uint64_t seed)
{
	gw->rng = seed ? seed : 0x9e3779b97f4a7c15ULL;
}

/* xorshift64*: uniform in [0, 1) */
static double rand01(struct uigw *gw)
{
	uint64_t x;

	if (!gw->rng) {
		if (getrandom(&x, sizeof(x), 0) != sizeof(x))
			x = (uint64_t)(uintptr_t)gw ^ 0x2545f4914f6cdd1dULL;
		uigw_event_seed(gw, x);
	}
	x = gw->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	gw->rng = x;
	return (double)((x * 0x2545f4914f6cdd1dULL) >> 11) / (double)(1ULL << 53);
}

static const char *ev_param(const struct uigw_event *ev, const char *name)
{
	unsigned int i;

	for (i = 0; i < ev->n_params; i++)
		if (!strcmp(ev->param_names[i], name))
			return ev->param_values[i];
	return NULL;
}

static bool conditions_hold(const struct uigw_on_event *oe, const struct uigw_event *ev)
{
	unsigned int i;

	for (i = 0; i < oe->n_min; i++) {
		const char *v = ev_param(ev, oe->min[i].name);
		char *end;
		double d;

		if (!v || !*v)
			return false;
		d = strtod(v, &end);
		if (*end || d != d || d < oe->min[i].min)
			return false;
	}
	for (i = 0; i < oe->n_equals; i++) {
		const char *v = ev_param(ev, oe->equals[i].name);

		if (!v || strcmp(v, oe->equals[i].value))
			return false;
	}
	return true;
}

static const struct uigw_on_event *listens(const struct uigw_campaign *c, const char *type)
{
	unsigned int i;

	for (i = 0; i < c->n_on_event; i++)
		if (!strcmp(c->on_event[i].type, type))
			return &c->on_event[i];
	return NULL;
}

int uigw_event(struct uigw *gw, const struct uigw_event *ev, uigw_event_cb cb, void *data)
{
	const struct uigw_campaign_set *set = gw->campaigns;
	unsigned int i, k, m;
	int started = 0, rc;

	if (!ev->type || !ev->msisdn)
		return -EINVAL;
	for (i = 0; set && i < set->n; i++) {
		const struct uigw_campaign *c = set->c[i];
		const struct uigw_on_event *oe = listens(c, ev->type);
		struct uigw_event_hit hit = { .campaign = c };
		struct uigw_trigger t;

		if (!oe)
			continue;
		if (ev->owner && (!c->owner || strcmp(c->owner, ev->owner)))
			continue;
		if (!conditions_hold(oe, ev)) {
			hit.result = UIGW_EVENT_CONDITION;
			goto report;
		}
		if (oe->sample < 1.0 && rand01(gw) >= oe->sample) {
			hit.result = UIGW_EVENT_SAMPLED_OUT;
			goto report;
		}
		uigw_trigger_init(&t, c->name, ev->msisdn);
		t.via = ev->via;
		/* the campaign's declared parameters, from the event's (renamed where the entry says so) */
		for (k = 0; k < c->n_params; k++) {
			const char *from = c->params[k].name, *v;

			for (m = 0; m < oe->n_map; m++)
				if (!strcmp(oe->map[m].param, c->params[k].name))
					from = oe->map[m].from;
			v = ev_param(ev, from);
			if (v && t.n_params < UIGW_TRIGGER_MAX_PARAMS) {
				t.param_names[t.n_params] = c->params[k].name;
				t.param_values[t.n_params++] = v;
			}
		}
		rc = uigw_trigger(gw, &t, &hit.res);
		if (rc == 0) {
			hit.result = UIGW_EVENT_TRIGGERED;
			started++;
		} else {
			hit.result = rc > 0 ? UIGW_EVENT_REFUSED : UIGW_EVENT_FAILED;
		}
report:
		LOGP(DDLG, LOGL_INFO, "event %s for %s: campaign %s %s\n", ev->type, ev->msisdn, c->name,
		     get_value_string(uigw_event_result_names, hit.result));
		if (cb)
			cb(&hit, data);
	}
	return started;
}
