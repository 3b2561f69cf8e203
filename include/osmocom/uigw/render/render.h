/*! \file render.h
 *  Renderer: turns a channel-neutral screen (header text + options) into what one channel profile can carry,
 *  choosing GSM 7-bit or UCS-2 per screen and paginating long screens without splitting an option. */
#pragma once

#include <stdbool.h>
#include <osmocom/uigw/codec/charset.h>

/*! How a profile counts its budget. */
enum uigw_profile_kind {
	UIGW_PROF_USSD,	/*!< one screen: gsm7_budget septets or ucs2_budget UTF-16 units */
	UIGW_PROF_SMS,	/*!< one screen = up to max_parts SMS parts (single: gsm7_budget/ucs2_budget;
			 *   concatenated: gsm7_part/ucs2_part per part) */
	UIGW_PROF_IMS,	/*!< UTF-8, utf8_budget bytes */
};

/*! A channel profile (DESIGN.md "Channel profiles"). */
struct uigw_profile {
	const char *name;		/*!< "ussd", "ussi", "sms", "ims" */
	enum uigw_profile_kind kind;
	unsigned int gsm7_budget;	/*!< USSD 182, SMS 160 */
	unsigned int ucs2_budget;	/*!< USSD 80, SMS 70 */
	unsigned int gsm7_part;		/*!< SMS concatenated part: 153 */
	unsigned int ucs2_part;		/*!< SMS concatenated part: 67 */
	unsigned int max_parts;		/*!< SMS: parts per screen (>= 1) */
	unsigned int utf8_budget;	/*!< IMS: bytes per screen (1300) */
};

/*! Built-in profiles. */
extern const struct uigw_profile uigw_profile_ussd;	/*!< map, gsup, smpp-ussd: 182 / 80 */
extern const struct uigw_profile uigw_profile_ussi;	/*!< ussi: 182 / 80, sent as UTF-8 XML */
extern const struct uigw_profile uigw_profile_sms;	/*!< smpp-sms: 160/70, 153/67 per part, 4 parts */
extern const struct uigw_profile uigw_profile_ims;	/*!< ims-msg: 1300 UTF-8 bytes */
/*! \returns the built-in profile of that name, or NULL */
const struct uigw_profile *uigw_profile_by_name(const char *name);

/*! One selectable line of a screen. Rendered as "<key>. <label>" on a line of its own. */
struct uigw_render_item {
	const char *key;	/*!< what the user types, e.g. "1" */
	const char *label;	/*!< UTF-8 */
};

/*! What the dialog engine wants to show. All strings UTF-8, owned by the caller. */
struct uigw_render_in {
	const char *header;			/*!< prompt text, may contain '\n'; may be NULL or "" */
	const struct uigw_render_item *items;	/*!< options, in order; may be NULL */
	unsigned int n_items;
	const struct uigw_render_item *footer;	/*!< navigation lines shown on every page after the options
						 *   (e.g. "0. Back"); may be NULL */
	unsigned int n_footer;
	struct uigw_render_item more;		/*!< the paging line, e.g. {"00", "More"} */
	unsigned int page;			/*!< 0-based page wanted */
};

/*! One rendered screen. */
struct uigw_render_out {
	char *text;		/*!< talloc'd UTF-8 text of this page, exactly what the user sees */
	enum uigw_coding coding;	/*!< GSM7 or UCS2 (USSD/SMS), UTF8 (IMS) */
	unsigned int units;	/*!< septets (GSM7), UTF-16 units (UCS2) or bytes (UTF8) of text */
	unsigned int parts;	/*!< SMS parts this page takes (1 elsewhere) */
	unsigned int page;	/*!< the page produced (clamped to n_pages-1) */
	unsigned int n_pages;	/*!< total pages */
	unsigned int first_item;	/*!< index of the first item on this page */
	unsigned int n_page_items;	/*!< items on this page */
	bool has_more;		/*!< the page ends with the "more" line */
};

/*! Render page in->page of a screen for profile p.
 *
 *  Layout of a page: [header lines] [item lines] [footer lines] [more line], joined by '\n'.
 *  The header goes on the first page; when the header alone does not fit, it is split at spaces (or, for a
 *  single over-long word, at a character boundary) across pages that end with the more line. Items are never
 *  split; every page but the last ends with the more line; footer lines repeat on every page. Each page is
 *  coded GSM 7-bit when all its characters fit, else UCS-2, and filled up to that coding's budget
 *  (extension characters count two septets). A single item that does not fit even alone is truncated
 *  (with "…") rather than dropped.
 *
 *  \param[in] ctx  talloc parent of out->text
 *  \returns 0, or -EINVAL for invalid UTF-8 in the input */
int uigw_render(void *ctx, const struct uigw_profile *p, const struct uigw_render_in *in,
		struct uigw_render_out *out);

/*! SMS parts a text of that coding and length takes under profile p (1 if it fits a single SMS).
 *  For GSM7, an extension character never straddles two parts, so \a utf8 is needed to count exactly. */
unsigned int uigw_sms_parts(const struct uigw_profile *p, const char *utf8, enum uigw_coding coding);
