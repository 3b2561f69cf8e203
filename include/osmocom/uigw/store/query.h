/*! \file query.h
 *  Contextual variables that campaign texts read live from the store: ${spam_reports(number)} etc. */
#pragma once

#include <osmocom/core/utils.h>

enum uigw_query {
	UIGW_Q_SPAM_REPORTS,	/*!< spam_reports(number): reporters counted for that E.164 number */
	UIGW_Q_LIKES,		/*!< likes(content) */
	UIGW_Q_DISLIKES,	/*!< dislikes(content) */
	UIGW_Q_SUBSCRIBES,	/*!< subscribers(content) */
	UIGW_Q_APP_RATING,	/*!< app_rating(app): average rating, one decimal */
	UIGW_Q_APP_RATINGS,	/*!< app_ratings(app): number of ratings */
	UIGW_Q_FLAGS,		/*!< flags(content): number of abuse flags */
	UIGW_Q_ANSWERS,		/*!< answers(question): responses to that question of this campaign */
	UIGW_Q_AVERAGE,		/*!< average(question): mean numeric answer to that question of this campaign */
	UIGW_Q_DLG_STATE,	/*!< not a text function: a shared store's state of a USSD dialog to resume, taken
				 *   (campaign; arg "PSEUDONYM SINCE_MS"); the result in the query's text */
	_UIGW_Q_NUM
};

/*! Function names as written in campaign texts. */
extern const struct value_string uigw_query_names[];
/*! \returns query for a function name, or -ENOENT */
int uigw_query_by_name(const char *name);
/*! \returns true if the query's result is a mean (printed with one decimal), false for counts */
bool uigw_query_is_average(enum uigw_query q);
