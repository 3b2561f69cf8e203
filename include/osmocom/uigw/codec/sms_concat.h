/*! \file sms_concat.h
 *  Reassembly of concatenated mobile-originated SMS, shared by the SMPP channel (UDH or SAR parts of deliver_sm)
 *  and SMS over IP (UDH parts of SMS-SUBMIT). Parts are kept as octets, so each channel decodes the whole message
 *  with its own data coding. Parts may come in any order; a repeated part is ignored; a message whose parts do
 *  not all come within the timeout is dropped; so is the oldest one when too many are pending. Time is passed in
 *  by the caller (tests and the fuzz target use their own clock). */
#pragma once

#include <stdint.h>
#include <stddef.h>
#include <time.h>
#include <osmocom/core/linuxlist.h>

/*! Limits of a reassembly table. */
#define UIGW_CONCAT_MAX_PARTS	255
#define UIGW_CONCAT_MAX_BYTES	(255 * 160)	/*!< all parts of one message together */

/*! Counters of a reassembly table. */
struct uigw_concat_stats {
	unsigned long parts;		/*!< parts accepted */
	unsigned long complete;		/*!< messages completed */
	unsigned long duplicates;	/*!< parts received again (ignored) */
	unsigned long invalid;		/*!< parts refused (sequence out of range, too big) */
	unsigned long timed_out;	/*!< messages dropped incomplete after the timeout */
	unsigned long evicted;		/*!< messages dropped incomplete because too many were pending */
};

/*! One part as the channel saw it. Key: sender, destination, reference, total and kind (UDH 8-bit,
 *  UDH 16-bit, SAR: the same reference in two kinds is two messages). */
struct uigw_concat_part {
	const char *src, *dst;
	uint16_t ref;
	uint8_t total;			/*!< 1..255 */
	uint8_t seq;			/*!< 1..total */
	uint8_t kind;			/*!< channel-defined (e.g. 0 UDH, 1 SAR) */
	const uint8_t *data;		/*!< the part's user data without its UDH */
	size_t len;
};

/*! A reassembly table. */
struct uigw_concat {
	struct llist_head pending;	/*!< oldest first */
	unsigned int n_pending;
	unsigned int max_pending;
	unsigned int timeout_s;
	int log_subsys;			/*!< logging category of the channel (DSMPP, DSIP) */
	struct uigw_concat_stats st;
};

/*! Allocate a table (talloc child of \a ctx) that logs in category \a log_subsys. \returns it or NULL */
struct uigw_concat *uigw_concat_alloc(void *ctx, unsigned int max_pending, unsigned int timeout_s, int log_subsys);
/*! Add a part received at \a now. When it completes its message, the whole user data (a talloc child of
 *  \a out_ctx) is returned in \a *out / \a *out_len.
 *  \returns 1 complete, 0 more parts are missing (or a duplicate), -EINVAL for an invalid part, -EMSGSIZE if the
 *  message would exceed UIGW_CONCAT_MAX_BYTES (the message is dropped), -ENOMEM */
int uigw_concat_add(struct uigw_concat *c, const struct uigw_concat_part *p, time_t now, void *out_ctx,
		    uint8_t **out, size_t *out_len);
/*! Drop the messages older than the timeout. \returns how many were dropped */
unsigned int uigw_concat_expire(struct uigw_concat *c, time_t now);
