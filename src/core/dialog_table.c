/*! \file dialog_table.c
 *  The running dialogs' index: one active dialog per subscriber per channel, found by subscriber (each message)
 *  and by id (the API's status, which also tells the ended ones from a ring of the last and from the store). */

#include <errno.h>
#include <string.h>
#include <osmocom/core/hash.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/core/stat_item.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/hash.h>
#include "dialog_priv.h"

static uint32_t sub_hash(const char *msisdn, unsigned int salt)
{
	return uigw_hash32(msisdn, salt);
}

/* The tables' size follows the dialogs: doubled past two dialogs a chain, halved below one in eight. A fixed 4,096
 * chains walked ~50 dialogs a lookup at max-dialogs' 200,000, a fixed 65,536 missed the cache at 10,000 (the
 * engine_bench figures in doc/dialogs.md). A table that cannot be allocated stays as it is, only slower. */
#define DLG_BITS_MIN	12
#define DLG_BITS_MAX	22

static struct hlist_head *sub_chain(struct uigw *gw, uint32_t key)
{
	return &gw->dialogs_by_sub[hash_32(key, gw->dialog_bits)];
}

static struct hlist_head *id_chain(struct uigw *gw, uint64_t id)
{
	return &gw->dialogs_by_id[hash_64(id, gw->dialog_bits)];
}

static int dlg_tables_size(struct uigw *gw, unsigned int bits)
{
	struct hlist_head *by_sub = talloc_zero_array(gw, struct hlist_head, 1u << bits);
	struct hlist_head *by_id = talloc_zero_array(gw, struct hlist_head, 1u << bits);
	struct uigw_dialog *dlg;

	if (!by_sub || !by_id) {
		talloc_free(by_sub);
		talloc_free(by_id);
		return -ENOMEM;
	}
	talloc_free(gw->dialogs_by_sub);
	talloc_free(gw->dialogs_by_id);
	gw->dialogs_by_sub = by_sub;
	gw->dialogs_by_id = by_id;
	gw->dialog_bits = bits;
	llist_for_each_entry(dlg, &gw->dialogs, list) {
		hlist_add_head(&dlg->hnode, sub_chain(gw, dlg->sub_key));
		hlist_add_head(&dlg->id_node, id_chain(gw, dlg->id));
	}
	return 0;
}

int uigw_dlg_tables_init(struct uigw *gw)
{
	return dlg_tables_size(gw, DLG_BITS_MIN);
}

void uigw_dlg_link(struct uigw_dialog *dlg)
{
	struct uigw *gw = dlg->gw;
	bool resized = false;

	llist_add_tail(&dlg->list, &gw->dialogs);
	dlg->sub_key = sub_hash(dlg->msisdn, dlg->channel);
	gw->n_dialogs++;
	/* a new size links every dialog, this one too */
	if (gw->n_dialogs > 2u << gw->dialog_bits && gw->dialog_bits < DLG_BITS_MAX)
		resized = dlg_tables_size(gw, gw->dialog_bits + 1) == 0;
	if (!resized) {
		hlist_add_head(&dlg->hnode, sub_chain(gw, dlg->sub_key));
		hlist_add_head(&dlg->id_node, id_chain(gw, dlg->id));
	}
	osmo_stat_item_set(osmo_stat_item_group_get_item(gw->stats, UIGW_STAT_DLG_ACTIVE), gw->n_dialogs);
}

void uigw_dlg_unlink(struct uigw_dialog *dlg)
{
	struct uigw *gw = dlg->gw;

	if (llist_empty(&dlg->list))
		return;
	llist_del_init(&dlg->list);
	hlist_del_init(&dlg->hnode);
	hlist_del_init(&dlg->id_node);
	gw->n_dialogs--;
	gw->overload.ended_tick++;
	if (gw->dialog_bits > DLG_BITS_MIN && gw->n_dialogs < (1u << gw->dialog_bits) / 8)
		dlg_tables_size(gw, gw->dialog_bits - 1);
	if (dlg->camp) {
		/* remembered until its dialog row is surely committed (uigw_dialog_status()) */
		struct uigw_dialog_ended *e = &gw->ended[gw->ended_next++ % ARRAY_SIZE(gw->ended)];
		*e = (struct uigw_dialog_ended){
			.id = dlg->id, .channel = dlg->channel, .outcome = dlg->outcome, .refusal = dlg->refusal,
			.network_initiated = dlg->network_initiated, .steps = dlg->steps,
			.started_ms = dlg->started_ms, .ended_ms = uigw_wall_ms(),
		};
		osmo_strlcpy(e->campaign, dlg->camp->name, sizeof(e->campaign));
	}
	osmo_stat_item_set(osmo_stat_item_group_get_item(gw->stats, UIGW_STAT_DLG_ACTIVE), gw->n_dialogs);
}

struct uigw_dialog *uigw_dialog_find(struct uigw *gw, const char *msisdn, enum uigw_channel ch)
{
	uint32_t key = sub_hash(msisdn, ch);
	struct uigw_dialog *dlg;

	hlist_for_each_entry(dlg, sub_chain(gw, key), hnode) {
		if (dlg->sub_key == key && dlg->channel == ch && !strcmp(dlg->msisdn, msisdn))
			return dlg;
	}
	return NULL;
}

const struct value_string uigw_dialog_state_names[] = {
	{ UIGW_DLG_PENDING, "pending" },
	{ UIGW_DLG_RUNNING, "running" },
	{ UIGW_DLG_ANSWERED, "answered" },
	{ UIGW_DLG_REFUSED, "refused" },
	{ UIGW_DLG_ENDED, "ended" },
	{ 0, NULL }
};

static enum uigw_dialog_state ended_state(enum uigw_outcome o, enum uigw_refusal r)
{
	if (r != UIGW_REFUSAL_NONE || o == UIGW_OUTCOME_REJECTED)
		return UIGW_DLG_REFUSED;
	return o == UIGW_OUTCOME_COMPLETED ? UIGW_DLG_ANSWERED : UIGW_DLG_ENDED;
}

static void status_from_store(const struct uigw_store_dialog *d, void *data)
{
	struct uigw_dialog_status *out = data;
	int o = d->outcome ? get_string_value(uigw_outcome_names, d->outcome) : -1;

	osmo_strlcpy(out->campaign, d->campaign ? d->campaign : "", sizeof(out->campaign));
	out->channel = d->channel ? uigw_channel_by_name(d->channel) : -1;
	out->outcome = o < 0 ? UIGW_OUTCOME_ABANDONED : o;
	out->state = ended_state(out->outcome, UIGW_REFUSAL_NONE);
	out->steps = d->steps;
	out->started_ms = d->started_ms;
	out->ended_ms = d->ended_ms;
}

int uigw_dialog_status(struct uigw *gw, uint64_t id, struct uigw_dialog_status *out)
{
	struct uigw_dialog *dlg;
	unsigned int i;

	memset(out, 0, sizeof(*out));
	out->id = id;
	out->channel = -1;
	hlist_for_each_entry(dlg, id_chain(gw, id), id_node) {
		if (dlg->id != id)
			continue;
		out->state = dlg->steps ? UIGW_DLG_RUNNING : UIGW_DLG_PENDING;
		osmo_strlcpy(out->campaign, dlg->camp ? dlg->camp->name : "", sizeof(out->campaign));
		out->channel = dlg->channel;
		out->network_initiated = dlg->network_initiated;
		out->steps = dlg->steps;
		out->started_ms = dlg->started_ms;
		return 1;
	}
	for (i = 0; i < ARRAY_SIZE(gw->ended); i++) {
		const struct uigw_dialog_ended *e = &gw->ended[i];

		if (e->id != id || !id)
			continue;
		osmo_strlcpy(out->campaign, e->campaign, sizeof(out->campaign));
		out->channel = e->channel;
		out->outcome = e->outcome;
		out->refusal = e->refusal;
		out->state = ended_state(e->outcome, e->refusal);
		out->network_initiated = e->network_initiated;
		out->steps = e->steps;
		out->started_ms = e->started_ms;
		out->ended_ms = e->ended_ms;
		return 1;
	}
	if (!gw->store)
		return 0;
	return uigw_store_dialog_get(gw->store, id, status_from_store, out);
}
