/*! \file store_names.c
 *  Names of the store's vocabulary: contextual queries and dialog outcomes. */

#include <errno.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/store/query.h>
#include <osmocom/uigw/store/store.h>

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

const struct value_string uigw_outcome_names[] = {
	{ UIGW_OUTCOME_COMPLETED, "completed" },
	{ UIGW_OUTCOME_ABANDONED, "abandoned" },
	{ UIGW_OUTCOME_TIMED_OUT, "timed-out" },
	{ UIGW_OUTCOME_REJECTED, "rejected" },
	{ 0, NULL }
};

const struct value_string uigw_webhook_event_names[] = {
	{ UIGW_WH_ANSWER, "answer" },
	{ UIGW_WH_DIALOG_ENDED, "dialog.ended" },
	{ UIGW_WH_SPAM_REPORT, "spam.report" },
	{ UIGW_WH_TRIGGER_REFUSED, "trigger.refused" },
	{ 0, NULL }
};
