/*! \file charset.c
 *  UTF-8 <-> GSM 03.38 (default alphabet + extension table, 3GPP TS 23.038 6.2.1), UCS-2 (UTF-16BE) and
 *  Latin-1. Pure functions over caller buffers: no allocation, no globals written, never read past len. */

#include <errno.h>
#include <string.h>
#include <osmocom/uigw/codec/charset.h>

#define GSM7_ESC	0x1b
#define GSM7_CR		0x0d
#define UNI_REPL	0xfffd	/* U+FFFD REPLACEMENT CHARACTER */

/* Code point of each septet of the default alphabet (0x1B is ESC, not a character). */
static const uint16_t gsm7_basic_cp[128] = {
	/* 0x00 */ 0x0040, 0x00a3, 0x0024, 0x00a5, 0x00e8, 0x00e9, 0x00f9, 0x00ec,
		   0x00f2, 0x00c7, 0x000a, 0x00d8, 0x00f8, 0x000d, 0x00c5, 0x00e5,
	/* 0x10 */ 0x0394, 0x005f, 0x03a6, 0x0393, 0x039b, 0x03a9, 0x03a0, 0x03a8,
		   0x03a3, 0x0398, 0x039e, 0x0020 /* ESC, never decoded here */, 0x00c6, 0x00e6, 0x00df, 0x00c9,
	/* 0x20 */ 0x0020, 0x0021, 0x0022, 0x0023, 0x00a4, 0x0025, 0x0026, 0x0027,
		   0x0028, 0x0029, 0x002a, 0x002b, 0x002c, 0x002d, 0x002e, 0x002f,
	/* 0x30 */ 0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037,
		   0x0038, 0x0039, 0x003a, 0x003b, 0x003c, 0x003d, 0x003e, 0x003f,
	/* 0x40 */ 0x00a1, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047,
		   0x0048, 0x0049, 0x004a, 0x004b, 0x004c, 0x004d, 0x004e, 0x004f,
	/* 0x50 */ 0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057,
		   0x0058, 0x0059, 0x005a, 0x00c4, 0x00d6, 0x00d1, 0x00dc, 0x00a7,
	/* 0x60 */ 0x00bf, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067,
		   0x0068, 0x0069, 0x006a, 0x006b, 0x006c, 0x006d, 0x006e, 0x006f,
	/* 0x70 */ 0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077,
		   0x0078, 0x0079, 0x007a, 0x00e4, 0x00f6, 0x00f1, 0x00fc, 0x00e0,
};

/* Code point (U+0000..U+00FF) -> septet: 0 = none, B(s) = default alphabet septet s, X(e) = ESC + e. */
#define B(s) (0x100 | (s))
#define X(e) (0x200 | (e))
static const uint16_t latin1_to_gsm7[256] = {
	[0x0a] = B(0x0a), [0x0c] = X(0x0a), [0x0d] = B(0x0d),
	[' '] = B(0x20), ['!'] = B(0x21), ['"'] = B(0x22), ['#'] = B(0x23), ['$'] = B(0x02), ['%'] = B(0x25),
	['&'] = B(0x26), ['\''] = B(0x27), ['('] = B(0x28), [')'] = B(0x29), ['*'] = B(0x2a), ['+'] = B(0x2b),
	[','] = B(0x2c), ['-'] = B(0x2d), ['.'] = B(0x2e), ['/'] = B(0x2f),
	['0'] = B('0'), ['1'] = B('1'), ['2'] = B('2'), ['3'] = B('3'), ['4'] = B('4'), ['5'] = B('5'),
	['6'] = B('6'), ['7'] = B('7'), ['8'] = B('8'), ['9'] = B('9'),
	[':'] = B(0x3a), [';'] = B(0x3b), ['<'] = B(0x3c), ['='] = B(0x3d), ['>'] = B(0x3e), ['?'] = B(0x3f),
	['@'] = B(0x00),
	['A'] = B('A'), ['B'] = B('B'), ['C'] = B('C'), ['D'] = B('D'), ['E'] = B('E'), ['F'] = B('F'),
	['G'] = B('G'), ['H'] = B('H'), ['I'] = B('I'), ['J'] = B('J'), ['K'] = B('K'), ['L'] = B('L'),
	['M'] = B('M'), ['N'] = B('N'), ['O'] = B('O'), ['P'] = B('P'), ['Q'] = B('Q'), ['R'] = B('R'),
	['S'] = B('S'), ['T'] = B('T'), ['U'] = B('U'), ['V'] = B('V'), ['W'] = B('W'), ['X'] = B('X'),
	['Y'] = B('Y'), ['Z'] = B('Z'),
	['['] = X(0x3c), ['\\'] = X(0x2f), [']'] = X(0x3e), ['^'] = X(0x14), ['_'] = B(0x11),
	['a'] = B('a'), ['b'] = B('b'), ['c'] = B('c'), ['d'] = B('d'), ['e'] = B('e'), ['f'] = B('f'),
	['g'] = B('g'), ['h'] = B('h'), ['i'] = B('i'), ['j'] = B('j'), ['k'] = B('k'), ['l'] = B('l'),
	['m'] = B('m'), ['n'] = B('n'), ['o'] = B('o'), ['p'] = B('p'), ['q'] = B('q'), ['r'] = B('r'),
	['s'] = B('s'), ['t'] = B('t'), ['u'] = B('u'), ['v'] = B('v'), ['w'] = B('w'), ['x'] = B('x'),
	['y'] = B('y'), ['z'] = B('z'),
	['{'] = X(0x28), ['|'] = X(0x40), ['}'] = X(0x29), ['~'] = X(0x3d),
	[0xa1] = B(0x40), [0xa3] = B(0x01), [0xa4] = B(0x24), [0xa5] = B(0x03), [0xa7] = B(0x5f),
	[0xbf] = B(0x60),
	[0xc4] = B(0x5b), [0xc5] = B(0x0e), [0xc6] = B(0x1c), [0xc7] = B(0x09), [0xc9] = B(0x1f),
	[0xd1] = B(0x5d), [0xd6] = B(0x5c), [0xd8] = B(0x0b), [0xdc] = B(0x5e), [0xdf] = B(0x1e),
	[0xe0] = B(0x7f), [0xe4] = B(0x7b), [0xe5] = B(0x0f), [0xe6] = B(0x1d), [0xe8] = B(0x04),
	[0xe9] = B(0x05), [0xec] = B(0x07), [0xf1] = B(0x7d), [0xf2] = B(0x08), [0xf6] = B(0x7c),
	[0xf8] = B(0x0c), [0xf9] = B(0x06), [0xfc] = B(0x7e),
};
#undef B
#undef X

/* code point -> 0 (none), 0x100|septet (default alphabet) or 0x200|code (extension table) */
static inline unsigned int gsm7_lookup(uint32_t cp)
{
	if (cp < 0x100)
		return latin1_to_gsm7[cp];
	switch (cp) {
	case 0x0394: return 0x110;	/* Δ */
	case 0x03a6: return 0x112;	/* Φ */
	case 0x0393: return 0x113;	/* Γ */
	case 0x039b: return 0x114;	/* Λ */
	case 0x03a9: return 0x115;	/* Ω */
	case 0x03a0: return 0x116;	/* Π */
	case 0x03a8: return 0x117;	/* Ψ */
	case 0x03a3: return 0x118;	/* Σ */
	case 0x0398: return 0x119;	/* Θ */
	case 0x039e: return 0x11a;	/* Ξ */
	case 0x20ac: return 0x265;	/* € */
	default: return 0;
	}
}

/* extension code -> code point, 0 if the code is not in the extension table */
static uint32_t gsm7_ext_cp(uint8_t code)
{
	switch (code) {
	case 0x0a: return 0x000c;
	case 0x14: return '^';
	case 0x28: return '{';
	case 0x29: return '}';
	case 0x2f: return '\\';
	case 0x3c: return '[';
	case 0x3d: return '~';
	case 0x3e: return ']';
	case 0x40: return '|';
	case 0x65: return 0x20ac;
	default: return 0;
	}
}

int uigw_utf8_next(const char *s, size_t len, uint32_t *cp)
{
	const uint8_t *u = (const uint8_t *)s;
	uint32_t c;
	size_t n, i;

	if (!s || len == 0)
		return -EINVAL;
	c = u[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		c &= 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		c &= 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		c &= 0x07;
	} else {
		return -EINVAL;	/* continuation byte, overlong 2-byte lead (C0/C1) or > U+10FFFF lead */
	}
	if (len < n)
		return -EINVAL;
	for (i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return -EINVAL;
		c = (c << 6) | (u[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -EINVAL;
	*cp = c;
	return n;
}

int uigw_utf8_put(uint32_t cp, char *out)
{
	uint8_t *o = (uint8_t *)out;

	if (cp < 0x80) {
		o[0] = cp;
		return 1;
	} else if (cp < 0x800) {
		o[0] = 0xc0 | (cp >> 6);
		o[1] = 0x80 | (cp & 0x3f);
		return 2;
	} else if (cp < 0x10000) {
		if (cp >= 0xd800 && cp <= 0xdfff)
			return -EINVAL;
		o[0] = 0xe0 | (cp >> 12);
		o[1] = 0x80 | ((cp >> 6) & 0x3f);
		o[2] = 0x80 | (cp & 0x3f);
		return 3;
	} else if (cp <= 0x10ffff) {
		o[0] = 0xf0 | (cp >> 18);
		o[1] = 0x80 | ((cp >> 12) & 0x3f);
		o[2] = 0x80 | ((cp >> 6) & 0x3f);
		o[3] = 0x80 | (cp & 0x3f);
		return 4;
	}
	return -EINVAL;
}

bool uigw_utf8_valid(const char *s, size_t len)
{
	size_t i = 0;
	uint32_t cp;
	int rc;

	while (i < len) {
		if ((uint8_t)s[i] < 0x80) {
			i++;
			continue;
		}
		rc = uigw_utf8_next(s + i, len - i, &cp);
		if (rc < 0)
			return false;
		i += rc;
	}
	return true;
}

size_t uigw_utf8_chars(const char *s, size_t len)
{
	size_t i = 0, n = 0;
	uint32_t cp;
	int rc;

	while (i < len) {
		rc = uigw_utf8_next(s + i, len - i, &cp);
		i += rc > 0 ? rc : 1;
		n++;
	}
	return n;
}

unsigned int uigw_gsm7_cp_septets(uint32_t cp)
{
	unsigned int v = gsm7_lookup(cp);

	return v ? (v >> 8) : 0;	/* 0x1xx -> 1, 0x2xx -> 2 */
}

int uigw_gsm7_count(const char *utf8, size_t len)
{
	size_t i = 0;
	int n = 0;
	unsigned int v;
	uint32_t cp;
	int rc;

	while (i < len) {
		if ((uint8_t)utf8[i] < 0x80) {
			v = latin1_to_gsm7[(uint8_t)utf8[i++]];	/* the renderer's hot path: mostly ASCII */
		} else {
			rc = uigw_utf8_next(utf8 + i, len - i, &cp);
			if (rc < 0)
				return -EINVAL;
			i += rc;
			v = gsm7_lookup(cp);
		}
		if (!v)
			return -ERANGE;
		n += v >> 8;	/* 0x1xx: 1 septet, 0x2xx: 2 */
	}
	return n;
}

int uigw_ucs2_count(const char *utf8, size_t len)
{
	size_t i = 0;
	int n = 0;
	uint32_t cp;
	int rc;

	while (i < len) {
		rc = uigw_utf8_next(utf8 + i, len - i, &cp);
		if (rc < 0)
			return -EINVAL;
		i += rc;
		n += cp > 0xffff ? 2 : 1;
	}
	return n;
}

enum uigw_coding uigw_coding_for(const char *utf8, size_t len)
{
	return uigw_gsm7_count(utf8, len) >= 0 ? UIGW_CODING_GSM7 : UIGW_CODING_UCS2;
}

int uigw_utf8_to_gsm7(uint8_t *out, size_t out_size, const char *utf8, size_t len)
{
	size_t i = 0, o = 0;
	unsigned int v;
	uint32_t cp;
	int rc;

	while (i < len) {
		rc = uigw_utf8_next(utf8 + i, len - i, &cp);
		if (rc < 0)
			return -EINVAL;
		i += rc;
		v = gsm7_lookup(cp);
		if (!v)
			return -ERANGE;
		if (v & 0x200) {
			if (out_size - o < 2)
				return -ENOSPC;
			out[o++] = GSM7_ESC;
		} else if (o >= out_size) {
			return -ENOSPC;
		}
		out[o++] = v & 0x7f;
	}
	return o;
}

/* append cp as UTF-8 at out[*o], keeping one byte for the NUL */
static int put_cp(char *out, size_t out_size, size_t *o, uint32_t cp)
{
	char buf[4];
	int n = uigw_utf8_put(cp, buf);

	if (n < 0)
		n = uigw_utf8_put(UNI_REPL, buf);
	if (out_size - *o < (size_t)n + 1)
		return -ENOSPC;
	memcpy(out + *o, buf, n);
	*o += n;
	return 0;
}

int uigw_gsm7_to_utf8(char *out, size_t out_size, const uint8_t *septets, size_t n)
{
	size_t i, o = 0;
	uint32_t cp;
	uint8_t s;

	if (!out || out_size == 0)
		return -ENOSPC;
	for (i = 0; i < n; i++) {
		s = septets[i];
		if (s == GSM7_ESC) {
			/* ESC ESC (reserved) and a lone trailing ESC display as a space (TS 23.038 6.2.1.1) */
			if (i + 1 >= n) {
				cp = ' ';
			} else {
				s = septets[++i];
				if (s > 0x7f)
					cp = '?';
				else if (s == GSM7_ESC)
					cp = ' ';
				else if (!(cp = gsm7_ext_cp(s)))
					cp = gsm7_basic_cp[s];	/* unknown extension: the base character */
			}
		} else {
			cp = s > 0x7f ? '?' : gsm7_basic_cp[s];
		}
		if (put_cp(out, out_size, &o, cp) < 0) {
			out[o] = '\0';
			return -ENOSPC;
		}
	}
	out[o] = '\0';
	return o;
}

int uigw_gsm7_pack(uint8_t *out, size_t out_size, const uint8_t *septets, size_t n, bool ussd_pad)
{
	size_t total = n, octets, i, bit;
	bool pad_cr = false;

	if (ussd_pad && n > 0 && n % 8 == 0 && (septets[n - 1] & 0x7f) == GSM7_CR) {
		/* ends with CR on an octet boundary: one more CR (TS 23.038 6.1.2.3.1) */
		total++;
	}
	octets = (total * 7 + 7) / 8;
	if (ussd_pad && total % 8 == 7)
		pad_cr = true;	/* 7 spare bits in the last octet: CR there */
	if (octets > out_size)
		return -ENOSPC;
	memset(out, 0, octets);
	for (i = 0, bit = 0; i < total + pad_cr; i++, bit += 7) {
		unsigned int v = (i < n ? septets[i] : GSM7_CR) & 0x7f;
		size_t byte = bit / 8, shift = bit % 8;

		out[byte] |= v << shift;
		if (shift > 1)
			out[byte + 1] |= v >> (8 - shift);
	}
	return octets;
}

int uigw_gsm7_unpack(uint8_t *septets, size_t out_size, const uint8_t *octets, size_t n_octets, bool ussd_pad)
{
	size_t n = n_octets * 8 / 7, i, bit;

	if (ussd_pad && n > 0) {
		/* last septet is CR padding when it filled 7 spare bits (n_octets % 7 == 0), or when it is the CR
		 * added after a text ending in CR on an octet boundary (n % 8 == 1, preceded by CR) */
		size_t lb = (n - 1) * 7;
		unsigned int last = (octets[lb / 8] >> (lb % 8));

		if (lb % 8 > 1)
			last |= octets[lb / 8 + 1] << (8 - lb % 8);
		last &= 0x7f;
		if (last == GSM7_CR && n_octets % 7 == 0) {
			n--;
		} else if (last == GSM7_CR && n % 8 == 1 && n >= 2) {
			size_t pb = (n - 2) * 7;
			unsigned int prev = octets[pb / 8] >> (pb % 8);

			if (pb % 8 > 1)
				prev |= octets[pb / 8 + 1] << (8 - pb % 8);
			if ((prev & 0x7f) == GSM7_CR)
				n--;
		}
	}
	if (n > out_size)
		return -ENOSPC;
	for (i = 0, bit = 0; i < n; i++, bit += 7) {
		size_t byte = bit / 8, shift = bit % 8;
		unsigned int v = octets[byte] >> shift;

		if (shift > 1)
			v |= octets[byte + 1] << (8 - shift);
		septets[i] = v & 0x7f;
	}
	return n;
}

int uigw_utf8_to_ucs2(uint8_t *out, size_t out_size, const char *utf8, size_t len)
{
	size_t i = 0, o = 0;
	uint32_t cp;
	int rc;

	while (i < len) {
		rc = uigw_utf8_next(utf8 + i, len - i, &cp);
		if (rc < 0)
			return -EINVAL;
		i += rc;
		if (cp > 0xffff) {
			uint32_t v = cp - 0x10000;
			uint16_t hi = 0xd800 | (v >> 10), lo = 0xdc00 | (v & 0x3ff);

			if (out_size - o < 4)
				return -ENOSPC;
			out[o++] = hi >> 8;
			out[o++] = hi & 0xff;
			out[o++] = lo >> 8;
			out[o++] = lo & 0xff;
		} else {
			if (out_size - o < 2)
				return -ENOSPC;
			out[o++] = cp >> 8;
			out[o++] = cp & 0xff;
		}
	}
	return o;
}

int uigw_ucs2_to_utf8(char *out, size_t out_size, const uint8_t *in, size_t len)
{
	size_t i, o = 0, n = len / 2;
	uint32_t cp;

	if (!out || out_size == 0)
		return -ENOSPC;
	for (i = 0; i < n; i++) {
		cp = (in[2 * i] << 8) | in[2 * i + 1];
		if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < n) {
			uint32_t lo = (in[2 * i + 2] << 8) | in[2 * i + 3];

			if (lo >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				i++;
			} else {
				cp = UNI_REPL;
			}
		} else if (cp >= 0xd800 && cp <= 0xdfff) {
			cp = UNI_REPL;
		}
		if (put_cp(out, out_size, &o, cp) < 0) {
			out[o] = '\0';
			return -ENOSPC;
		}
	}
	out[o] = '\0';
	return o;
}

int uigw_latin1_to_utf8(char *out, size_t out_size, const uint8_t *in, size_t len)
{
	size_t i, o = 0;

	if (!out || out_size == 0)
		return -ENOSPC;
	for (i = 0; i < len; i++) {
		if (put_cp(out, out_size, &o, in[i]) < 0) {
			out[o] = '\0';
			return -ENOSPC;
		}
	}
	out[o] = '\0';
	return o;
}

const char *uigw_coding_names[] = { "gsm7", "ucs2", "utf8" };
