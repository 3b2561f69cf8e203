/*! \file optout.h
 *  One opt-out list for every channel: a subscriber who opts out gets no network-initiated interaction on any
 *  channel (every push path checks it: core/trigger.c), until they opt back in. Written by the SMS keywords,
 *  a campaign's `optout` action and the operator's VTY. */
#pragma once

#include <stdbool.h>
#include <osmocom/uigw/core/chan.h>
#include <osmocom/uigw/store/store.h>

struct uigw;

/*! Queue the OPTOUT row of \a msisdn (E.164 with '+'): opted out (\a out) or back in, told through channel
 *  \a ch. \a done runs on the loop after the commit (job->rc < 0: not recorded); \a data is its job->data.
 *  \returns the submitted job, or NULL (no store, out of memory, the store refused it) */
struct uigw_store_job *uigw_optout_submit(struct uigw *gw, const char *msisdn, bool out, enum uigw_channel ch,
					  uigw_store_done_cb done, void *data);
