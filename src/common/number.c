/*! \file number.c
 *  E.164 normalisation of numbers typed by users. */

#include <errno.h>
#include <string.h>
#include <ctype.h>
#include <stdbool.h>
#include <osmocom/uigw/common/number.h>

static bool is_sep(char c)
{
	return c == ' ' || c == '-' || c == '/' || c == '(' || c == ')' || c == '.';
}

int uigw_e164_normalize(const char *in, const char *cc, const char *nat_prefix, char *out, size_t out_len)
{
	char digits[32];
	size_t nd = 0, cc_len, np_len;
	bool intl = false;
	const char *p = in;

	if (!in || !cc || !out || out_len < 17)
		return -EINVAL;
	while (*p == ' ')
		p++;
	if (*p == '+') {
		intl = true;
		p++;
	}
	for (; *p; p++) {
		if (isdigit((unsigned char)*p)) {
			if (nd >= sizeof(digits) - 1)
				return -EINVAL;
			digits[nd++] = *p;
		} else if (!is_sep(*p)) {
			return -EINVAL;
		}
	}
	digits[nd] = '\0';
	if (nd == 0)
		return -EINVAL;

	cc_len = strlen(cc);
	np_len = nat_prefix ? strlen(nat_prefix) : 0;
	if (!intl && nd > 2 && digits[0] == '0' && digits[1] == '0') {
		/* international prefix 00 */
		memmove(digits, digits + 2, nd - 1);
		nd -= 2;
		intl = true;
	} else if (!intl && np_len && nd > np_len && !strncmp(digits, nat_prefix, np_len)) {
		/* national number with trunk prefix: replace it by the country code */
		if (nd - np_len + cc_len >= sizeof(digits))
			return -EINVAL;
		memmove(digits + cc_len, digits + np_len, nd - np_len + 1);
		memcpy(digits, cc, cc_len);
		nd = nd - np_len + cc_len;
		intl = true;
	}
	if (!intl)
		return -EINVAL;	/* ambiguous: neither international nor national with trunk prefix */
	/* E.164: at most 15 digits; anything below 7 is a short code, not a subscriber number */
	if (nd < 7 || nd > 15 || digits[0] == '0')
		return -EINVAL;
	out[0] = '+';
	memcpy(out + 1, digits, nd + 1);
	return 0;
}

bool uigw_prefix_list_match(const char *list, const char *s)
{
	const char *w = list;

	while (w && *w) {
		size_t wl;

		while (*w == ' ')
			w++;
		wl = strcspn(w, " ");
		if (wl && !strncmp(s, w, wl))
			return true;
		w += wl;
	}
	return false;
}
