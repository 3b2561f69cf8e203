/*! \file chan.c
 *  The channels of a gateway: registration, open/close, and the names of the core's refusals. */

#include <errno.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/chan.h>

const struct value_string uigw_refusal_names[] = {
	{ UIGW_REFUSAL_NONE, "none" },
	{ UIGW_REFUSAL_BUSY, "busy" },
	{ UIGW_REFUSAL_UNROUTED, "unrouted" },
	{ UIGW_REFUSAL_NO_CAMPAIGN, "no_campaign" },
	{ UIGW_REFUSAL_CAMPAIGN_DISABLED, "campaign_disabled" },
	{ UIGW_REFUSAL_CHANNEL_NOT_ALLOWED, "channel_not_allowed" },
	{ UIGW_REFUSAL_NETWORK_ONLY, "network_only" },
	{ UIGW_REFUSAL_OPTED_OUT, "opted_out" },
	{ UIGW_REFUSAL_CAPPED, "capped" },
	{ UIGW_REFUSAL_QUIET_HOURS, "quiet_hours" },
	{ UIGW_REFUSAL_UNREACHABLE, "unreachable" },
	{ UIGW_REFUSAL_PUSH_NOT_OFFERED, "push_not_offered" },
	{ UIGW_REFUSAL_INVALID_NUMBER, "invalid_number" },
	{ UIGW_REFUSAL_UNKNOWN_PARAMETER, "unknown_parameter" },
	{ UIGW_REFUSAL_ERROR, "error" },
	{ UIGW_REFUSAL_NOT_APPROVED, "not_approved" },
	{ UIGW_REFUSAL_ROAMING, "roaming" },
	{ 0, NULL }
};

const struct value_string uigw_refusal_descs[] = {
	{ UIGW_REFUSAL_NONE, "not refused" },
	{ UIGW_REFUSAL_BUSY, "nothing new now: drain, max-dialogs reached, the store failing to commit, or overload" },
	{ UIGW_REFUSAL_UNROUTED, "no campaign for that service code, keyword or URI" },
	{ UIGW_REFUSAL_NO_CAMPAIGN, "no campaign of that name" },
	{ UIGW_REFUSAL_CAMPAIGN_DISABLED, "the campaign is disabled" },
	{ UIGW_REFUSAL_CHANNEL_NOT_ALLOWED, "the campaign does not allow that channel" },
	{ UIGW_REFUSAL_NETWORK_ONLY, "the campaign is only started by the network" },
	{ UIGW_REFUSAL_OPTED_OUT, "the subscriber opted out of network-initiated interactions" },
	{ UIGW_REFUSAL_CAPPED, "a frequency cap is reached" },
	{ UIGW_REFUSAL_QUIET_HOURS, "the subscriber's quiet hours" },
	{ UIGW_REFUSAL_UNREACHABLE, "no channel the campaign allows reaches the subscriber now" },
	{ UIGW_REFUSAL_PUSH_NOT_OFFERED, "the channel starts no network-initiated dialogs" },
	{ UIGW_REFUSAL_INVALID_NUMBER, "not an E.164 number" },
	{ UIGW_REFUSAL_UNKNOWN_PARAMETER, "the campaign declares no such parameter" },
	{ UIGW_REFUSAL_ERROR, "internal error (store queue full, out of memory)" },
	{ UIGW_REFUSAL_NOT_APPROVED, "the campaign is proposed and waits for the operator's approval" },
	{ UIGW_REFUSAL_ROAMING, "the campaign is not offered to roaming subscribers" },
	{ 0, NULL }
};

struct uigw_chan *uigw_chan_register(struct uigw *gw, const struct uigw_chan_ops *ops, void *priv)
{
	struct uigw_chan *ch;

	OSMO_ASSERT(ops->channel < _UIGW_CHAN_NUM && ops->deliver);
	ch = gw->chan[ops->channel];
	if (!ch) {
		ch = talloc_zero(gw, struct uigw_chan);
		if (!ch)
			return NULL;
		gw->chan[ops->channel] = ch;
	}
	ch->ops = ops;
	ch->priv = priv;
	ch->gw = gw;
	return ch;
}

struct uigw_chan *uigw_chan_get(struct uigw *gw, enum uigw_channel ch)
{
	return (unsigned int)ch < _UIGW_CHAN_NUM ? gw->chan[ch] : NULL;
}

void *uigw_chan_priv(struct uigw *gw, enum uigw_channel ch)
{
	struct uigw_chan *c = uigw_chan_get(gw, ch);

	return c ? c->priv : NULL;
}

int uigw_chans_open(struct uigw *gw)
{
	unsigned int i;
	int rc;

	for (i = 0; i < _UIGW_CHAN_NUM; i++) {
		struct uigw_chan *ch = gw->chan[i];
		if (!ch || ch->open)
			continue;
		if (ch->ops->open) {
			rc = ch->ops->open(ch);
			if (rc < 0) {
				LOGP(DMAIN, LOGL_ERROR, "channel %s cannot open: %d\n", uigw_channel_name(i), rc);
				return rc;
			}
		}
		ch->open = true;
	}
	return 0;
}

void uigw_chans_close(struct uigw *gw)
{
	int i;

	for (i = _UIGW_CHAN_NUM - 1; i >= 0; i--) {
		struct uigw_chan *ch = gw->chan[i];
		if (!ch || !ch->open)
			continue;
		if (ch->ops->close)
			ch->ops->close(ch);
		ch->open = false;
	}
}
