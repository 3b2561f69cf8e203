/*! \file campaign_names.c
 *  Names of the campaign vocabulary as written in campaign files: node kinds, actions, reactions. */

#include <osmocom/core/utils.h>
#include <osmocom/uigw/core/campaign.h>

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
	{ UIGW_ACT_OPTIN, "optin" },
	{ 0, NULL }
};

const struct value_string uigw_roaming_policy_names[] = {
	{ UIGW_ROAM_GATEWAY, "gateway" },
	{ UIGW_ROAM_ALLOW, "allow" },
	{ UIGW_ROAM_DENY, "deny" },
	{ UIGW_ROAM_NOTICE_ONLY, "notice-only" },
	{ 0, NULL }
};

const struct value_string uigw_reaction_names[] = {
	{ UIGW_REACT_LIKE, "like" },
	{ UIGW_REACT_DISLIKE, "dislike" },
	{ UIGW_REACT_SUBSCRIBE, "subscribe" },
	{ 0, NULL }
};
