/* libFuzzer target: an external application's answer body (core/extapp_parse.c). Aborts when the parser
 * accepts what is not "CON"/"END" and a separator, points outside the body, returns a text over the limit, or
 * one that ends in white space or inside a UTF-8 character. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <osmocom/uigw/core/extapp.h>

#define CHECK(x) do { if (!(x)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data, *text = NULL, *b = body;
	size_t n = 0;
	int rc = uigw_extapp_parse(body, size, &text, &n);

	CHECK(rc == 0 || rc == 1 || rc == -EPROTO);
	if (rc < 0)
		return 0;
	while (b < body + size && (*b == ' ' || *b == '\r' || *b == '\n' || *b == '\t'))
		b++;
	CHECK(body + size - b >= 3 && !memcmp(b, rc ? "END" : "CON", 3));
	CHECK(text >= body && text + n <= body + size);
	CHECK(n <= UIGW_EXTAPP_TEXT_MAX);
	CHECK(!memchr(text, '\0', n));
	if (n) {
		CHECK(!isspace((unsigned char)text[n - 1]));
		/* the cut never splits a character: the byte after the text is not a continuation byte */
		CHECK(text + n == body + size || ((unsigned char)text[n] & 0xc0) != 0x80 ||
		      isspace((unsigned char)text[n - 1]) || n < UIGW_EXTAPP_TEXT_MAX - 8);
	}
	return 0;
}
