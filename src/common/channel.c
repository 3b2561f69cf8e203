/*! \file channel.c
 *  The channel vocabulary: names and classes. */

#include <errno.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/channel.h>

const struct value_string uigw_channel_names[] = {
	{ UIGW_CHAN_MAP, "map" },
	{ UIGW_CHAN_GSUP, "gsup" },
	{ UIGW_CHAN_SMPP_USSD, "smpp-ussd" },
	{ UIGW_CHAN_SMPP_SMS, "smpp-sms" },
	{ UIGW_CHAN_IMS_MSG, "ims-msg" },
	{ UIGW_CHAN_USSI, "ussi" },
	{ UIGW_CHAN_VTY, "vty" },
	{ UIGW_CHAN_API, "api" },
	{ 0, NULL }
};

int uigw_channel_by_name(const char *name)
{
	int rc = get_string_value(uigw_channel_names, name);
	return rc < 0 ? -ENOENT : rc;
}

enum uigw_chan_class uigw_channel_class(enum uigw_channel ch)
{
	switch (ch) {
	case UIGW_CHAN_SMPP_SMS:
		return UIGW_CLASS_SMS;
	case UIGW_CHAN_IMS_MSG:
	case UIGW_CHAN_API:
		return UIGW_CLASS_IMS;
	default:
		return UIGW_CLASS_USSD;
	}
}
