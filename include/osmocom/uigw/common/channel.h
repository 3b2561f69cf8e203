/*! \file channel.h
 *  The channel vocabulary every layer shares: which bearer a subscriber uses, and its class. */
#pragma once

#include <osmocom/core/utils.h>

/*! One bearer a subscriber reaches the gateway by (DESIGN.md "channel"). */
enum uigw_channel {
	UIGW_CHAN_MAP,		/*!< SS7 MAP USSD */
	UIGW_CHAN_GSUP,		/*!< OsmoHLR external USSD entity */
	UIGW_CHAN_SMPP_USSD,	/*!< USSD over SMPP */
	UIGW_CHAN_SMPP_SMS,	/*!< SMS over SMPP */
	UIGW_CHAN_IMS_MSG,	/*!< SIP MESSAGE */
	UIGW_CHAN_USSI,		/*!< USSD over IMS (TS 24.390) */
	UIGW_CHAN_VTY,		/*!< operator test drive */
	UIGW_CHAN_API,		/*!< third-party push */
	_UIGW_CHAN_NUM
};

/*! Channel classes: they share timers, screen budgets and input conventions. */
enum uigw_chan_class {
	UIGW_CLASS_USSD,	/*!< map, gsup, smpp-ussd, ussi: session-bound, short screens */
	UIGW_CLASS_SMS,		/*!< smpp-sms: long-lived, keyword replies */
	UIGW_CLASS_IMS,		/*!< ims-msg: free text, large budget */
	_UIGW_CLASS_NUM
};

extern const struct value_string uigw_channel_names[];
static inline const char *uigw_channel_name(enum uigw_channel ch)
{ return get_value_string(uigw_channel_names, ch); }
/*! \returns channel for a name ("smpp-sms"), or negative if unknown */
int uigw_channel_by_name(const char *name);
/*! \returns the class a channel belongs to */
enum uigw_chan_class uigw_channel_class(enum uigw_channel ch);

#define UIGW_CHAN_MASK_ALL	((1u << _UIGW_CHAN_NUM) - 1)

/*! Maximum length of an E.164 number in international form incl. '+' and NUL */
#define UIGW_MSISDN_MAXLEN	17
