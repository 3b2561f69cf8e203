/*! \file ussi.h
 *  application/vnd.3gpp.ussd+xml (3GPP TS 24.390 §7): parsed with expat under limits on size, depth and
 *  entities; built with XML escaping. */
#pragma once

#include <stddef.h>
#include <stdbool.h>

/*! Largest ussd+xml body accepted. */
#define UIGW_USSI_XML_MAX	4096
/*! Deepest element nesting accepted. */
#define UIGW_USSI_XML_DEPTH	8

/*! What anyExt says. */
enum uigw_ussi_kind {
	UIGW_USSI_NONE,		/*!< no anyExt operation */
	UIGW_USSI_REQUEST,	/*!< UnstructuredSS-Request: an answer is expected */
	UIGW_USSI_NOTIFY,	/*!< UnstructuredSS-Notify */
};

/*! A parsed ussd-data document. */
struct uigw_ussi_data {
	char language[8];		/*!< "" if absent */
	char ussd_string[1024];		/*!< UTF-8, "" if absent */
	bool has_string;
	int error_code;			/*!< 0: none; 1..4 TS 24.390 */
	enum uigw_ussi_kind kind;
};

/*! Parse a ussd-data document. Refuses DOCTYPE / entity declarations, bodies above UIGW_USSI_XML_MAX, nesting
 *  deeper than UIGW_USSI_XML_DEPTH, a root other than ussd-data, and ussd-string above its buffer.
 *  \returns 0 or -EINVAL */
int uigw_ussi_xml_parse(const char *buf, size_t len, struct uigw_ussi_data *out);

/*! Build a ussd-data document (talloc string, child of \a ctx).
 *  \param[in] lang  language or NULL \param[in] text  UTF-8 ussd-string or NULL
 *  \param[in] error_code  0 for none \param[in] kind  anyExt operation */
char *uigw_ussi_xml_build(void *ctx, const char *lang, const char *text, int error_code, enum uigw_ussi_kind kind);
