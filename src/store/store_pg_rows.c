/*! \file store_pg_rows.c
 *  The PostgreSQL backend's rows as statements: which prepared statement (store_pg_schema.c) each part of a row
 *  is, with its parameters as text, the same rows written or skipped as by the SQLite writer (store_write.c).
 *  Pure: no connection; store_pg.c sends what this makes. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/store/store.h>
#include "store_priv.h"

void uigw_store_pg_p_text(struct pgp *p, const char *s)
{
	if (!p)
		return;	/* only whether the row is written was asked */
	p->v[p->n] = s;
	p->len[p->n] = 0;
	p->fmt[p->n] = 0;
	p->n++;
}

/* decimal, without printf: a group commit formats some ten integers per row */
void uigw_store_pg_p_int(struct pgp *p, int64_t v)
{
	if (!p)
		return;
	uigw_store_dec(p->buf[p->n], v);
	uigw_store_pg_p_text(p, p->buf[p->n]);
}

void uigw_store_pg_p_bool(struct pgp *p, bool b)
{
	uigw_store_pg_p_text(p, b ? "t" : "f");
}

void uigw_store_pg_p_blob(struct pgp *p, const uint8_t *data, size_t len)
{
	if (!p)
		return;
	p->v[p->n] = (const char *)data;
	p->len[p->n] = (int)len;
	p->fmt[p->n] = 1;
	p->n++;
}

/* Part \a part (0, 1) of row \a r as a statement and its parameters, the same rows written or skipped as by the
 * SQLite writer (store_write.c). \returns 1 (a statement), 0 (none for this part), -EPROTO (a row refused),
 * -ENOTSUP (a kind this backend does not know) */

/* short names for the table below */
#define p_text uigw_store_pg_p_text
#define p_int uigw_store_pg_p_int
#define p_bool uigw_store_pg_p_bool
#define p_blob uigw_store_pg_p_blob

int uigw_store_pg_row_stmt(const struct uigw_store_cfg *cfg, const char *instance, const struct uigw_store_row *r,
			   int part, int *stmt, struct pgp *p)
{

	if (p)
		p->n = 0;
	switch (r->kind) {
	case UIGW_ROW_RESPONSE:
		if (part)
			return 0;
		*stmt = PG_RESPONSE;
		p_text(p, r->campaign);
		p_int(p, r->version);
		p_text(p, r->u.response.node);
		p_text(p, r->u.response.question);
		p_text(p, r->u.response.kind);
		p_text(p, r->u.response.value);
		p_text(p, r->u.response.raw);
		p_text(p, r->channel);
		p_text(p, r->subscriber);
		p_int(p, (int64_t)r->dialog);
		p_int(p, r->time_ms);
		p_bool(p, r->u.response.roaming);
		p_text(p, r->u.response.language);
		return 1;
	case UIGW_ROW_DIALOG:
		if (part)
			return 0;
		*stmt = PG_DIALOG;
		p_int(p, (int64_t)r->dialog);
		p_text(p, r->campaign);
		p_int(p, r->version);
		p_text(p, r->channel);
		p_text(p, r->subscriber);
		p_int(p, r->u.dialog.started_ms);
		p_int(p, r->time_ms);
		p_text(p, get_value_string_or_null(uigw_outcome_names, r->u.dialog.outcome));
		p_int(p, r->u.dialog.steps);
		p_text(p, r->u.dialog.last_node);
		p_bool(p, r->u.dialog.roaming);
		p_text(p, r->u.dialog.visited);
		p_bool(p, r->u.dialog.test);
		return 1;
	case UIGW_ROW_SPAM:
		if (part || !r->u.spam.number || !r->u.spam.number[0])
			return 0;
		*stmt = PG_SPAM;
		p_text(p, r->subscriber);
		p_text(p, r->u.spam.number);
		p_int(p, r->time_ms);
		p_text(p, r->channel);
		p_text(p, r->campaign);
		p_int(p, r->time_ms - (int64_t)cfg->spam_window * 1000);
		return 1;
	case UIGW_ROW_REACTION: {
		const char *reaction = r->u.reaction.reaction, *other = NULL;

		if (!reaction || !r->u.reaction.content)
			return 0;
		if (!strcmp(reaction, "like"))
			other = "dislike";
		else if (!strcmp(reaction, "dislike"))
			other = "like";
		else if (strcmp(reaction, "subscribe"))
			return 0;
		if (part == 0) {
			/* like and dislike exclude each other */
			if (!other)
				return 0;
			*stmt = PG_REACTION_DEL;
			p_text(p, r->subscriber);
			p_text(p, r->u.reaction.content);
			p_text(p, other);
			return 1;
		}
		*stmt = PG_REACTION_INS;
		p_text(p, r->subscriber);
		p_text(p, r->u.reaction.content);
		p_text(p, reaction);
		p_int(p, r->time_ms);
		p_text(p, r->campaign);
		p_text(p, r->channel);
		return 1;
	}
	case UIGW_ROW_APP_RATING:
		if (part || r->u.app_rating.rating < 1 || r->u.app_rating.rating > 10 || !r->u.app_rating.app)
			return 0;
		*stmt = PG_APP_RATING;
		p_text(p, r->subscriber);
		p_text(p, r->u.app_rating.app);
		p_int(p, r->u.app_rating.rating);
		p_int(p, r->time_ms);
		p_text(p, r->campaign);
		p_text(p, r->channel);
		return 1;
	case UIGW_ROW_FLAG:
		if (part)
			return 0;
		*stmt = PG_FLAG;
		p_text(p, r->subscriber);
		p_text(p, r->u.flag.content);
		p_text(p, r->u.flag.reason);
		p_int(p, r->time_ms);
		p_text(p, r->campaign);
		p_text(p, r->channel);
		return 1;
	case UIGW_ROW_OFFER:
		if (part)
			return 0;
		*stmt = PG_OFFER;
		p_text(p, r->subscriber);
		p_text(p, r->campaign);
		p_text(p, r->u.offer.service);
		p_text(p, r->u.offer.uri);
		p_int(p, r->time_ms);
		return 1;
	case UIGW_ROW_OPTOUT:
		if (!r->subscriber)
			return 0;
		if (r->u.optout.scope) {
			if (part)
				return 0;
			p_text(p, r->subscriber);
			p_text(p, r->u.optout.scope);
			if (!r->u.optout.opt_out) {
				*stmt = PG_OPTIN_SCOPE;
				return 1;
			}
			*stmt = PG_OPTOUT_SCOPE;
			p_int(p, r->time_ms);
			p_text(p, r->channel);
			return 1;
		}
		if (part == 0) {
			/* back in: into everything */
			if (r->u.optout.opt_out)
				return 0;
			*stmt = PG_OPTIN_ALL;
			p_text(p, r->subscriber);
			return 1;
		}
		*stmt = PG_OPTOUT;
		p_text(p, r->subscriber);
		p_bool(p, r->u.optout.opt_out);
		p_int(p, r->time_ms);
		p_text(p, r->channel);
		return 1;
	case UIGW_ROW_SUBSCRIBER:
		if (part || !r->subscriber)
			return 0;
		*stmt = PG_SUBSCRIBER;
		p_text(p, r->subscriber);
		p_text(p, r->u.subscriber.msisdn);
		p_int(p, r->time_ms);
		return 1;
	case UIGW_ROW_MT:
		if (!r->u.mt.pdu || !r->u.mt.pdu_len || !r->channel)
			return -EPROTO;
		if (part)
			return 0;
		*stmt = PG_MT_INSERT;
		p_text(p, instance);
		p_int(p, r->u.mt.id);
		p_text(p, r->channel);
		p_int(p, (int64_t)r->dialog);
		p_int(p, r->time_ms);
		p_int(p, r->u.mt.expires_ms);
		p_bool(p, r->u.mt.restart);
		p_text(p, r->u.mt.link);
		p_blob(p, r->u.mt.pdu, r->u.mt.pdu_len);
		return 1;
	case UIGW_ROW_MT_DONE:
	case UIGW_ROW_MT_SENDING:
		if (part)
			return 0;
		*stmt = r->kind == UIGW_ROW_MT_DONE ? PG_MT_DELETE : PG_MT_SENDING;
		p_text(p, instance);
		p_int(p, r->u.mt.id);
		return 1;
	case UIGW_ROW_MT_SUBMITTED:
	case UIGW_ROW_MT_RECEIPT:
		if (!r->u.receipt.message_id || !r->u.receipt.state)
			return -EPROTO;
		if (part)
			return 0;
		p_text(p, r->u.receipt.message_id);
		if (r->kind == UIGW_ROW_MT_SUBMITTED) {
			*stmt = PG_RECEIPT_INS;
			p_text(p, r->channel);
			p_int(p, (int64_t)r->dialog);
			p_text(p, r->subscriber);
			p_int(p, r->time_ms);
			p_text(p, r->u.receipt.state);
		} else {
			*stmt = PG_RECEIPT_UPD;
			p_text(p, r->u.receipt.state);
			p_int(p, r->time_ms);
		}
		return 1;
	case UIGW_ROW_DEFER:
		if (!r->campaign || !r->u.defer.msisdn || !r->u.defer.reason)
			return -EPROTO;
		if (part)
			return 0;
		*stmt = PG_DEFER;
		p_text(p, instance);
		p_int(p, r->u.defer.id);
		p_int(p, r->u.defer.due_ms);
		p_int(p, r->time_ms);
		p_text(p, r->u.defer.reason);
		p_text(p, r->campaign);
		p_text(p, r->u.defer.msisdn);
		p_int(p, r->u.defer.via);
		p_text(p, r->u.defer.to);
		p_text(p, r->u.defer.language);
		p_text(p, r->u.defer.params);
		return 1;
	case UIGW_ROW_DEFER_DONE:
		if (part)
			return 0;
		*stmt = PG_DEFER_DONE;
		p_text(p, instance);
		p_int(p, r->u.defer.id);
		return 1;
	case UIGW_ROW_PUSH:
		if (!r->subscriber || !r->campaign || !r->u.push.result)
			return -EPROTO;
		if (part)
			return 0;
		*stmt = PG_PUSH;
		p_text(p, r->subscriber);
		p_text(p, r->campaign);
		p_text(p, r->channel);
		p_int(p, r->time_ms);
		p_text(p, r->u.push.result);
		return 1;
	case UIGW_ROW_PARAM:
		if (!r->dialog || !r->u.param.name)
			return -EPROTO;
		if (part)
			return 0;
		*stmt = PG_PARAM;
		p_int(p, (int64_t)r->dialog);
		p_text(p, r->u.param.name);
		p_text(p, r->u.param.value);
		p_text(p, r->campaign);
		return 1;
	case UIGW_ROW_API_KEY:
		if (!r->u.api_key.revoke && (!r->u.api_key.tenant || !r->u.api_key.hash || !r->u.api_key.scopes))
			return -EPROTO;
		if (part)
			return 0;
		p_int(p, r->u.api_key.id);
		if (r->u.api_key.revoke) {
			*stmt = PG_API_KEY_REVOKE;
			p_int(p, r->time_ms);
			return 1;
		}
		*stmt = PG_API_KEY;
		p_text(p, r->u.api_key.tenant);
		p_text(p, r->u.api_key.hash);
		p_text(p, r->u.api_key.scopes);
		p_int(p, r->time_ms);
		return 1;
	case UIGW_ROW_API_KEY_USED:
		if (part)
			return 0;
		*stmt = PG_API_KEY_USED;
		p_int(p, r->u.api_key.id);
		p_int(p, r->time_ms);
		return 1;
	case UIGW_ROW_AUDIT:
		if (part)
			return 0;
		*stmt = PG_AUDIT;
		p_int(p, r->time_ms);
		p_text(p, r->u.audit.tenant);
		p_int(p, r->u.audit.key_id);
		p_text(p, r->u.audit.method);
		p_text(p, r->u.audit.path);
		p_int(p, r->u.audit.status);
		p_text(p, r->u.audit.remote);
		return 1;
	case UIGW_ROW_DLG_STATE:
		if (part || !r->subscriber)
			return 0;
		*stmt = PG_DLG_STATE;
		p_text(p, r->subscriber);
		p_text(p, r->u.state.cls ? r->u.state.cls : "ussd");
		p_text(p, r->campaign);
		p_int(p, r->version);
		p_text(p, r->u.state.node);
		p_text(p, r->u.state.hist);
		p_text(p, r->u.state.vars);
		p_text(p, instance);
		p_int(p, r->time_ms);
		p_int(p, (int64_t)r->dialog);
		return 1;
	case UIGW_ROW_CDR:
		if (part || cfg->cdr_off)
			return 0;
		*stmt = PG_CDR;
		p_int(p, (int64_t)r->dialog);
		p_int(p, r->u.cdr.started_ms);
		p_int(p, r->time_ms);
		p_text(p, r->channel);
		p_text(p, r->campaign);
		p_text(p, r->owner);
		p_text(p, r->subscriber);
		p_bool(p, r->u.cdr.roaming);
		p_text(p, r->u.cdr.visited);
		p_int(p, r->u.cdr.screens);
		p_int(p, r->u.cdr.mt_messages);
		p_text(p, get_value_string_or_null(uigw_outcome_names, r->u.cdr.outcome));
		p_text(p, r->u.cdr.refusal);
		p_text(p, r->u.cdr.charge_class);
		p_bool(p, r->u.cdr.zero_rated);
		p_bool(p, r->u.cdr.test);
		p_text(p, instance);
		return 1;
	case UIGW_ROW_ERASE:
		/* every place the subscriber is in, one statement each */
		if (!r->subscriber)
			return 0;
		*stmt = PG_E_FIRST + part;
		p_text(p, r->subscriber);
		p_text(p, r->u.subscriber.msisdn);
		return 1;
	case UIGW_ROW_PURGE: {
		/* one batch of each table whose kind has a retention period */
		enum uigw_retention k = uigw_store_pg_purges[part].kind;
		unsigned int days = k == UIGW_RET_MAPPING ? cfg->retention_days :
				    k == UIGW_PG_RET_STATES ? 1 : cfg->retention[k];

		if (!days)
			return 0;
		*stmt = PG_P_FIRST + part;
		p_int(p, uigw_wall_ms() - (int64_t)days * 86400000LL);
		return 1;
	}
	case UIGW_ROW_REFUSED:
		/* only the outbox keeps it, if a webhook listens */
		if (part)
			return 0;
		*stmt = PG_REFUSED;
		p_text(p, r->campaign);
		p_text(p, r->channel);
		p_text(p, r->subscriber);
		p_text(p, r->u.refused.refusal);
		p_text(p, r->u.refused.detail);
		p_int(p, r->time_ms);
		p_text(p, r->owner);
		return 1;
	case UIGW_ROW_WEBHOOK:
		if (r->u.webhook.remove) {
			/* its outbox, then the webhook */
			*stmt = part ? PG_WEBHOOK_DEL : PG_WEBHOOK_PURGE;
			p_int(p, r->u.webhook.id);
			return 1;
		}
		if (part)
			return 0;
		if (!r->u.webhook.tenant || !r->u.webhook.url || !r->u.webhook.secret)
			return -EPROTO;
		*stmt = PG_WEBHOOK;
		p_int(p, r->u.webhook.id);
		p_text(p, r->u.webhook.tenant);
		p_bool(p, r->u.webhook.all_campaigns);
		p_text(p, r->u.webhook.url);
		p_int(p, r->u.webhook.events);
		p_text(p, r->u.webhook.secret);
		p_int(p, r->time_ms);
		return 1;
	case UIGW_ROW_WH_DONE:
		if (part)
			return 0;
		*stmt = PG_WH_DONE;
		p_int(p, r->u.wh.webhook);
		p_int(p, r->u.wh.id);
		return 1;
	case UIGW_ROW_WH_RETRY:
		if (part)
			return 0;
		*stmt = PG_WH_RETRY;
		p_int(p, r->u.wh.webhook);
		p_int(p, r->u.wh.id);
		p_int(p, r->u.wh.status);
		p_int(p, r->time_ms);
		return 1;
	case UIGW_ROW_WH_DEAD:
		if (part)
			return 0;
		p_int(p, r->u.wh.webhook);
		if (r->u.wh.id) {
			*stmt = PG_WH_DEAD;
			p_int(p, r->u.wh.id);
		} else {
			*stmt = PG_WH_DEAD_OLD;
			p_int(p, r->u.wh.after);
			p_int(p, r->u.wh.cutoff_ms);
		}
		p_int(p, r->time_ms);
		if (!r->u.wh.id)
			p_text(p, instance);
		return 1;
	case UIGW_ROW_WH_RESEND:
		if (part)
			return 0;
		*stmt = r->u.wh.id ? PG_WH_RESEND : PG_WH_RESEND_ALL;
		p_int(p, r->u.wh.webhook);
		if (r->u.wh.id)
			p_int(p, r->u.wh.id);
		p_int(p, r->time_ms);
		p_text(p, instance);
		return 1;
	default:
		return -ENOTSUP;
	}
}

/* statements a row of \a kind may take (row_stmt()'s parts) */
int uigw_store_pg_row_parts(enum uigw_row_kind kind)
{
	switch (kind) {
	case UIGW_ROW_ERASE:
		return UIGW_PG_N_PLACES;
	case UIGW_ROW_PURGE:
		return UIGW_PG_N_PURGES;
	case UIGW_ROW_REACTION:
	case UIGW_ROW_OPTOUT:
	case UIGW_ROW_WEBHOOK:
		return 2;
	default:
		return 1;
	}
}

/* \returns 0, or why the job cannot be written (its first bad row, logged) */
int uigw_store_pg_job_check(const struct uigw_store_cfg *cfg, const char *instance, const struct uigw_store_job *job)
{
	unsigned int i;
	int stmt, rc;

	for (i = 0; i < job->n_rows; i++) {
		rc = uigw_store_pg_row_stmt(cfg, instance, &job->rows[i], 0, &stmt, NULL);
		if (rc < 0) {
			LOGP(DSTORE, LOGL_ERROR, "PostgreSQL: row kind %d %s\n", job->rows[i].kind,
			     rc == -ENOTSUP ? "is not known to this backend" : "refused (fields missing)");
			return rc;
		}
	}
	return 0;
}

int uigw_store_pg_batch_of(enum uigw_row_kind kind)
{
	int b;

	for (b = 0; b < (int)UIGW_PG_N_BATCH; b++) {
		if (uigw_store_pg_batches[b].kind == kind)
			return b;
	}
	return -1;
}
