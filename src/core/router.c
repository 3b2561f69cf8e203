/*! \file router.c
 *  Routing of a subscriber's first message to a campaign: USSD service codes (longest prefix of '*'-separated
 *  components wins, the rest are direct-dial inputs), SMS short code + keyword, SIP Request-URI user part. */

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/core/router.h>
#include <osmocom/uigw/core/campaign.h>

bool uigw_is_dial_string(const char *text)
{
	size_t len;

	if (!text)
		return false;
	len = strlen(text);
	return len >= 2 && (text[0] == '*' || text[0] == '#') && text[len - 1] == '#';
}

/* Split "*7726*1*2#" into components {"7726","1","2"} in buf; returns count or -EINVAL */
static int split_dial(const char *text, char *buf, size_t buf_len, const char **comp, unsigned int max_comp)
{
	size_t len = strlen(text);
	unsigned int n = 0;
	char *p, *start;

	if (len + 1 > buf_len || len < 2)
		return -EINVAL;
	memcpy(buf, text, len + 1);
	buf[len - 1] = '\0';	/* strip the final '#' */
	p = buf + 1;		/* skip the leading '*' or '#' */
	start = p;
	for (;; p++) {
		if (*p == '*' || *p == '\0') {
			bool end = (*p == '\0');
			if (n >= max_comp)
				return -EINVAL;
			*p = '\0';
			comp[n++] = start;
			start = p + 1;
			if (end)
				break;
		}
	}
	return n;
}

/* Does service code `code` ("*7726#", "*123*4#") match the first k components? returns k, or 0 */
static unsigned int code_match(const char *code, char lead, const char **comp, unsigned int n_comp)
{
	char tmp[64];
	const char *c[UIGW_ROUTE_MAX_INPUTS + 8];
	int n, i;

	if (code[0] != lead)
		return 0;
	n = split_dial(code, tmp, sizeof(tmp), c, ARRAY_SIZE(c));
	if (n <= 0 || (unsigned int)n > n_comp)
		return 0;
	for (i = 0; i < n; i++) {
		if (strcmp(c[i], comp[i]))
			return 0;
	}
	return n;
}

static int route_ussd(const struct uigw_campaign_set *set, const char *text, struct uigw_route *r)
{
	const char *comp[UIGW_ROUTE_MAX_INPUTS + 8];
	unsigned int best_len = 0, i, j;
	struct uigw_campaign *best = NULL;
	int n;

	n = split_dial(text, r->buf, sizeof(r->buf), comp, ARRAY_SIZE(comp));
	if (n <= 0)
		return -ENOENT;
	for (i = 0; i < set->n; i++) {
		struct uigw_campaign *c = set->c[i];
		for (j = 0; j < c->entry.n_ussd; j++) {
			unsigned int k = code_match(c->entry.ussd[j], text[0], comp, n);
			if (k > best_len) {
				best_len = k;
				best = c;
			}
		}
	}
	if (!best)
		return -ENOENT;
	if (n - best_len > UIGW_ROUTE_MAX_INPUTS)
		return -ENOENT;
	r->camp = best;
	for (i = best_len; i < (unsigned int)n; i++) {
		if (comp[i][0] == '\0')
			continue;	/* "*7726**1#": empty components are skipped */
		r->inputs[r->n_inputs++] = comp[i];
	}
	return 0;
}

/* First word of text (upper-cased) into kw; returns pointer to the rest (spaces skipped) */
static const char *first_word(const char *text, char *kw, size_t kw_len)
{
	size_t n = 0;

	while (*text && isspace((unsigned char)*text))
		text++;
	while (*text && !isspace((unsigned char)*text)) {
		if (n + 1 < kw_len)
			kw[n++] = toupper((unsigned char)*text);
		text++;
	}
	kw[n] = '\0';
	while (*text && isspace((unsigned char)*text))
		text++;
	return text;
}

static int set_rest(struct uigw_route *r, const char *rest)
{
	size_t len = strlen(rest);

	while (len && isspace((unsigned char)rest[len - 1]))
		len--;
	if (!len)
		return 0;
	if (len >= sizeof(r->buf))
		len = sizeof(r->buf) - 1;
	memcpy(r->buf, rest, len);
	r->buf[len] = '\0';
	r->inputs[r->n_inputs++] = r->buf;
	return 0;
}

static int route_sms(const struct uigw_campaign_set *set, const char *text, const char *short_code,
		     struct uigw_route *r)
{
	char kw[24];
	const char *rest = first_word(text ? text : "", kw, sizeof(kw));
	struct uigw_campaign *only = NULL;
	unsigned int i, j, k, n_on_code = 0;

	for (i = 0; i < set->n; i++) {
		struct uigw_campaign *c = set->c[i];
		for (j = 0; j < c->entry.n_sms; j++) {
			const struct uigw_sms_entry *e = &c->entry.sms[j];
			if (short_code && strcmp(e->short_code, short_code))
				continue;
			n_on_code++;
			only = c;
			for (k = 0; k < e->n_keywords; k++) {
				if (!strcmp(e->keywords[k], kw)) {
					r->camp = c;
					r->start = e->start;
					return set_rest(r, rest);
				}
			}
		}
	}
	/* A short code served by one campaign needs no keyword: the whole text is its first input */
	if (n_on_code == 1 && short_code) {
		r->camp = only;
		return set_rest(r, text ? text : "");
	}
	return -ENOENT;
}

static int route_sip(const struct uigw_campaign_set *set, const char *text, const char *user,
		     struct uigw_route *r)
{
	unsigned int i, j;

	if (!user)
		return -ENOENT;
	for (i = 0; i < set->n; i++) {
		struct uigw_campaign *c = set->c[i];
		for (j = 0; j < c->entry.n_sip; j++) {
			if (!strcasecmp(c->entry.sip[j], user)) {
				char kw[24];
				const char *rest = first_word(text ? text : "", kw, sizeof(kw));
				unsigned int k, l;
				r->camp = c;
				/* "SPAM +49..." to sip:7726: the keyword is optional, what follows is input */
				for (k = 0; k < c->entry.n_sms; k++)
					for (l = 0; l < c->entry.sms[k].n_keywords; l++)
						if (!strcmp(c->entry.sms[k].keywords[l], kw)) {
							r->start = c->entry.sms[k].start;
							return set_rest(r, rest);
						}
				return set_rest(r, text ? text : "");
			}
		}
	}
	return -ENOENT;
}

int uigw_route(const struct uigw_campaign_set *set, enum uigw_channel ch, const char *text, const char *short_code,
	       struct uigw_route *r)
{
	memset(r, 0, sizeof(*r));
	r->start = -1;
	if (!set)
		return -ENOENT;
	if (uigw_is_dial_string(text) && ch != UIGW_CHAN_SMPP_SMS && ch != UIGW_CHAN_IMS_MSG)
		return route_ussd(set, text, r);
	switch (ch) {
	case UIGW_CHAN_SMPP_SMS:
		return route_sms(set, text, short_code, r);
	case UIGW_CHAN_IMS_MSG:
		if (route_sip(set, text, short_code, r) == 0)
			return 0;
		/* a message to a short code number works like SMS */
		return route_sms(set, text, short_code, r);
	case UIGW_CHAN_VTY:
	case UIGW_CHAN_API:
		return route_sms(set, text, short_code, r);
	default:
		if (short_code && route_sip(set, NULL, short_code, r) == 0)
			return 0;
		return -ENOENT;
	}
}
