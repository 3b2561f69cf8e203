/*! \file number.h
 *  E.164 numbers as subscribers and users type them. */
#pragma once

#include <stdbool.h>

#include <stddef.h>

/*! Normalise a number to international form "+<cc><nsn>".
 *  Accepts "+491720000123", "00491720000123", national "01720000123" (with the national prefix) and
 *  separators ' ', '-', '/', '(', ')', '.' between digits.
 *  \param[in] cc          country code digits ("49")
 *  \param[in] nat_prefix  national trunk prefix ("0"), or NULL/"" if none
 *  \param[out] out        at least 17 bytes
 *  \returns 0, or -EINVAL if it is not a plausible E.164 number (7..15 digits, no letters) */
int uigw_e164_normalize(const char *in, const char *cc, const char *nat_prefix, char *out, size_t out_len);

/*! Does \a s begin with one of the space-separated prefixes of \a list (home VLR names, global titles, VLR
 *  numbers)? NULL or empty list: no. */
bool uigw_prefix_list_match(const char *list, const char *s);
