/*! \file extapp_parse.c
 *  An external application's answer, "CON text" or "END text" (extapp.h): apart from extapp.c so that the
 *  fuzz target (tests/fuzz/fuzz_extapp.c) builds it alone. */

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <osmocom/uigw/core/extapp.h>

int uigw_extapp_parse(const char *body, size_t len, const char **text, size_t *text_len)
{
	const char *b = body, *end = body + len;
	size_t n;

	while (b < end && (*b == ' ' || *b == '\r' || *b == '\n' || *b == '\t'))
		b++;
	if (end - b < 3 || (memcmp(b, "CON", 3) && memcmp(b, "END", 3)))
		return -EPROTO;
	if (end - b > 3 && b[3] != ' ' && b[3] != '\n' && b[3] != '\r')
		return -EPROTO;	/* "CONTINUE", "ENDING": not the convention */
	*text = end - b > 3 ? b + 4 : end;
	if (*text > end)
		*text = end;
	n = end - *text;
	if (memchr(*text, '\0', n))
		return -EPROTO;
	if (n > UIGW_EXTAPP_TEXT_MAX) {
		/* cut at a character's start, not inside its UTF-8 bytes */
		n = UIGW_EXTAPP_TEXT_MAX;
		while (n && ((unsigned char)(*text)[n] & 0xc0) == 0x80)
			n--;
	}
	while (n && isspace((unsigned char)(*text)[n - 1]))
		n--;
	*text_len = n;
	return b[0] == 'C' ? 0 : 1;
}
