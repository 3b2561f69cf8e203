/*! \file common.c
 *  Name tables shared by every module (defined once here, declared in the headers). */

#include <errno.h>
#include <string.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/uigw.h>
#include <osmocom/uigw/query.h>
#include <osmocom/uigw/campaign.h>
#include <osmocom/uigw/store.h>
#include <osmocom/uigw/charset.h>

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

const struct value_string uigw_query_names[] = {
	{ UIGW_Q_SPAM_REPORTS, "spam_reports" },
	{ UIGW_Q_LIKES, "likes" },
	{ UIGW_Q_DISLIKES, "dislikes" },
	{ UIGW_Q_SUBSCRIBES, "subscribers" },
	{ UIGW_Q_APP_RATING, "app_rating" },
	{ UIGW_Q_APP_RATINGS, "app_ratings" },
	{ UIGW_Q_FLAGS, "flags" },
	{ UIGW_Q_ANSWERS, "answers" },
	{ UIGW_Q_AVERAGE, "average" },
	{ 0, NULL }
};

int uigw_query_by_name(const char *name)
{
	int rc = get_string_value(uigw_query_names, name);
	return rc < 0 ? -ENOENT : rc;
}

bool uigw_query_is_average(enum uigw_query q)
{
	return q == UIGW_Q_APP_RATING || q == UIGW_Q_AVERAGE;
}

const struct value_string uigw_node_kind_names[] = {
	{ UIGW_NODE_MENU, "menu" },
	{ UIGW_NODE_CHOICE, "choice" },
	{ UIGW_NODE_RATING, "rating" },
	{ UIGW_NODE_YESNO, "yesno" },
	{ UIGW_NODE_NUMBER, "number" },
	{ UIGW_NODE_TEXT, "text" },
	{ UIGW_NODE_INFO, "info" },
	{ 0, NULL }
};

const struct value_string uigw_action_kind_names[] = {
	{ UIGW_ACT_RECORD, "record" },
	{ UIGW_ACT_SPAM_REPORT, "spam_report" },
	{ UIGW_ACT_REACTION, "reaction" },
	{ UIGW_ACT_APP_RATING, "app_rating" },
	{ UIGW_ACT_FLAG, "flag" },
	{ UIGW_ACT_JUMP, "jump" },
	{ UIGW_ACT_OFFER, "offer" },
	{ UIGW_ACT_OPTOUT, "optout" },
	{ 0, NULL }
};

const struct value_string uigw_reaction_names[] = {
	{ UIGW_REACT_LIKE, "like" },
	{ UIGW_REACT_DISLIKE, "dislike" },
	{ UIGW_REACT_SUBSCRIBE, "subscribe" },
	{ 0, NULL }
};

const struct value_string uigw_outcome_names[] = {
	{ UIGW_OUTCOME_COMPLETED, "completed" },
	{ UIGW_OUTCOME_ABANDONED, "abandoned" },
	{ UIGW_OUTCOME_TIMED_OUT, "timed-out" },
	{ UIGW_OUTCOME_REJECTED, "rejected" },
	{ 0, NULL }
};

const char *uigw_coding_names[] = { "gsm7", "ucs2", "utf8" };
