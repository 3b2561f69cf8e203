/*! \file render.c
 *  Renderer: lays a channel-neutral screen (header + options + footer) out on the pages a channel profile
 *  can carry. Per page the coding is GSM 7-bit when every character fits, else UCS-2 (UTF-8 for IMS).
 *
 *  Cost: every render plans all pages from page 0 (so page k is always the same), counting each line once
 *  as it is appended; only the footer and "more" lines are recounted per candidate item, and every count
 *  stops as soon as the page can no longer fit. The only allocation is the output text. */

#include <errno.h>
#include <string.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/render/render.h>
#include <osmocom/uigw/common/logging.h>

const struct uigw_profile uigw_profile_ussd = {
	.name = "ussd", .kind = UIGW_PROF_USSD, .gsm7_budget = 182, .ucs2_budget = 80,
	.gsm7_part = 182, .ucs2_part = 80, .max_parts = 1,
};
const struct uigw_profile uigw_profile_ussi = {
	.name = "ussi", .kind = UIGW_PROF_USSD, .gsm7_budget = 182, .ucs2_budget = 80,
	.gsm7_part = 182, .ucs2_part = 80, .max_parts = 1,
};
const struct uigw_profile uigw_profile_sms = {
	.name = "sms", .kind = UIGW_PROF_SMS, .gsm7_budget = 160, .ucs2_budget = 70,
	.gsm7_part = 153, .ucs2_part = 67, .max_parts = 4,
};
const struct uigw_profile uigw_profile_ims = {
	.name = "ims", .kind = UIGW_PROF_IMS, .max_parts = 1, .utf8_budget = 1300,
};

static const struct uigw_profile *const builtin_profiles[] = {
	&uigw_profile_ussd, &uigw_profile_ussi, &uigw_profile_sms, &uigw_profile_ims,
};

const struct uigw_profile *uigw_profile_by_name(const char *name)
{
	unsigned int i;

	if (!name)
		return NULL;
	for (i = 0; i < ARRAY_SIZE(builtin_profiles); i++) {
		if (!strcmp(builtin_profiles[i]->name, name))
			return builtin_profiles[i];
	}
	return NULL;
}

#define ELLIPSIS	"\xe2\x80\xa6"	/* U+2026 "…" */
#define ELLIPSIS_LEN	3

/* Running size of a text in every coding a page may take. */
struct cnt {
	bool gsm;		/* every character so far has a GSM 7-bit form */
	bool over;		/* the text can no longer fit, whatever is appended */
	unsigned int sept;	/* GSM septets (a character without GSM form counts one) */
	unsigned int ucs2;	/* UTF-16 units */
	unsigned int bytes;	/* UTF-8 bytes */
	unsigned int g_parts, g_fill;	/* SMS concatenation, GSM 7-bit: parts started, septets in the last */
	unsigned int u_parts, u_fill;	/* same for UCS-2 */
};

static const struct cnt cnt_empty = { .gsm = true, .g_parts = 1, .u_parts = 1 };

static inline unsigned int part_size(unsigned int part)
{
	return part ? part : 1;
}

static bool fits_gsm(const struct cnt *c, const struct uigw_profile *p)
{
	if (!c->gsm)
		return false;
	return c->sept <= p->gsm7_budget || (p->kind == UIGW_PROF_SMS && c->g_parts <= p->max_parts);
}

static bool fits_ucs2(const struct cnt *c, const struct uigw_profile *p)
{
	return c->ucs2 <= p->ucs2_budget || (p->kind == UIGW_PROF_SMS && c->u_parts <= p->max_parts);
}

/* does the text counted in c fit one page of p, in the coding it would take? */
static bool fits(const struct cnt *c, const struct uigw_profile *p)
{
	if (c->over)
		return false;
	if (p->kind == UIGW_PROF_IMS)
		return c->bytes <= p->utf8_budget;
	return c->gsm ? fits_gsm(c, p) : fits_ucs2(c, p);
}

/* appending can only grow every count: once neither coding fits, nothing will */
static bool hopeless(const struct cnt *c, const struct uigw_profile *p)
{
	if (p->kind == UIGW_PROF_IMS)
		return c->bytes > p->utf8_budget;
	return !fits_gsm(c, p) && !fits_ucs2(c, p);
}

static inline void cnt_cp(struct cnt *c, const struct uigw_profile *p, uint32_t cp, unsigned int nbytes)
{
	unsigned int s, u, gp, up;

	c->bytes += nbytes;
	if (p->kind == UIGW_PROF_IMS)
		return;
	s = uigw_gsm7_cp_septets(cp);
	if (!s) {
		c->gsm = false;
		s = 1;
	}
	u = cp > 0xffff ? 2 : 1;
	c->sept += s;
	c->ucs2 += u;
	if (p->kind != UIGW_PROF_SMS)
		return;
	/* an extension character (ESC + code) or a surrogate pair never straddles two parts */
	gp = part_size(p->gsm7_part);
	if (c->g_fill + s > gp) {
		c->g_parts++;
		c->g_fill = s;
	} else {
		c->g_fill += s;
	}
	up = part_size(p->ucs2_part);
	if (c->u_fill + u > up) {
		c->u_parts++;
		c->u_fill = u;
	} else {
		c->u_fill += u;
	}
}

/* Count s[0..len) into c. With stop, give up (c->over) once the text cannot fit any more. Invalid UTF-8
 * (rejected before rendering) counts as U+FFFD per byte. */
static void cnt_add(struct cnt *c, const struct uigw_profile *p, const char *s, size_t len, bool stop)
{
	size_t i = 0, j;
	uint32_t cp;
	int rc;

	if (c->over)
		return;
	if (p->kind == UIGW_PROF_IMS) {
		c->bytes += len;
		if (stop && hopeless(c, p))
			c->over = true;
		return;
	}
	while (i < len) {
		if (p->kind != UIGW_PROF_SMS && (uint8_t)s[i] < 0x80) {
			/* USSD: sizes simply add up, count a run of ASCII at once (bounded, to stop early) */
			for (j = i + 1; j < len && j - i < 64 && (uint8_t)s[j] < 0x80; j++)
				;
			rc = uigw_gsm7_count(s + i, j - i);
			if (rc < 0) {
				c->gsm = false;
				rc = j - i;
			}
			c->sept += rc;
			c->ucs2 += j - i;
			c->bytes += j - i;
			i = j;
		} else {
			if ((uint8_t)s[i] < 0x80) {
				cp = (uint8_t)s[i];
				rc = 1;
			} else {
				rc = uigw_utf8_next(s + i, len - i, &cp);
				if (rc < 0) {
					cp = 0xfffd;
					rc = 1;
				}
			}
			i += rc;
			cnt_cp(c, p, cp, rc);
		}
		if (stop && hopeless(c, p)) {
			c->over = true;
			return;
		}
	}
}

static inline const char *str0(const char *s)
{
	return s ? s : "";
}

/* The page being planned: what goes on it and the running count. */
struct page {
	size_t h_off, h_len;		/* header chunk on this page (h_len 0: none) */
	unsigned int first_item, n_items;
	bool trunc;			/* the last item's label is cut to trunc_len bytes + "…" */
	size_t trunc_len;
	bool more;
};

struct plan_ctx {
	const struct uigw_profile *p;
	const struct uigw_render_in *in;
	const char *hdr;
	size_t hdr_len;
	unsigned int n_footer;		/* footer lines used (0 if they cannot fit a page) */
	bool has_more_line;
	struct cnt tail[2];		/* footer lines [+ more line], counted once per render */
	unsigned int tail_lines[2];
};

static void cnt_item(struct cnt *c, const struct uigw_profile *p, bool *nl, const struct uigw_render_item *it)
{
	const char *key = str0(it->key), *label = str0(it->label);

	if (*nl)
		cnt_add(c, p, "\n", 1, true);
	*nl = true;
	if (*key) {
		cnt_add(c, p, key, strlen(key), true);
		cnt_add(c, p, ". ", 2, true);
	}
	cnt_add(c, p, label, strlen(label), true);
}

/* count footer (and more) lines, as they follow the page body */
static void count_tails(struct plan_ctx *pc)
{
	unsigned int more, i;
	bool nl;

	for (more = 0; more < 2; more++) {
		pc->tail[more] = cnt_empty;
		pc->tail_lines[more] = 0;
		nl = false;
		for (i = 0; i < pc->n_footer; i++, pc->tail_lines[more]++)
			cnt_item(&pc->tail[more], pc->p, &nl, &pc->in->footer[i]);
		if (more && pc->has_more_line) {
			cnt_item(&pc->tail[more], pc->p, &nl, &pc->in->more);
			pc->tail_lines[more]++;
		}
	}
}

/* Would c plus footer (plus the more line) fit? Sizes add up, except SMS parts: those are simulated over the
 * tail only when the sum lies between a single SMS and max_parts full parts. */
static bool fits_tail(const struct plan_ctx *pc, const struct cnt *c, bool nl, bool more)
{
	const struct uigw_profile *p = pc->p;
	const struct cnt *tl = &pc->tail[more];
	unsigned int sep = nl ? 1 : 0, n, i;
	struct cnt t;

	if (c->over || tl->over)
		return false;
	if (!pc->tail_lines[more])
		return fits(c, p);
	if (p->kind == UIGW_PROF_IMS)
		return c->bytes + sep + tl->bytes <= p->utf8_budget;
	if (c->gsm && tl->gsm) {
		n = c->sept + sep + tl->sept;
		if (n <= p->gsm7_budget)
			return true;
		if (p->kind != UIGW_PROF_SMS || n > p->max_parts * part_size(p->gsm7_part))
			return false;
	} else {
		n = c->ucs2 + sep + tl->ucs2;
		if (n <= p->ucs2_budget)
			return true;
		if (p->kind != UIGW_PROF_SMS || n > p->max_parts * part_size(p->ucs2_part))
			return false;
	}
	t = *c;
	for (i = 0; i < pc->n_footer && !t.over; i++)
		cnt_item(&t, p, &nl, &pc->in->footer[i]);
	if (more && pc->has_more_line)
		cnt_item(&t, p, &nl, &pc->in->more);
	return fits(&t, p);
}

/* do footer and more line fit a page by themselves, whatever its coding? */
static bool tail_fits_alone(const struct plan_ctx *pc)
{
	const struct cnt *t = &pc->tail[1];

	if (t->over)
		return false;
	if (pc->p->kind == UIGW_PROF_IMS)
		return t->bytes <= pc->p->utf8_budget;
	return fits_ucs2(t, pc->p);
}

static inline bool is_space(char ch)
{
	return ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r';
}

/* Split the header rest at *hoff onto a page ending with the more line: at the last space that fits, else
 * (one over-long word) at the last character that fits, and at least one character. A split that leaves
 * nothing (only white space, or a footer so long that one character is all that goes) with no items left
 * makes this the last page: no more line. */
static void split_header(const struct plan_ctx *pc, size_t *hoff, struct page *pg, bool items_left)
{
	const char *s = pc->hdr + *hoff;
	size_t len = pc->hdr_len - *hoff, i = 0, word_end = 0, best = 0;
	struct cnt c = cnt_empty, at_word_end = cnt_empty;
	uint32_t cp;
	int rc;

	while (i < len && !c.over) {
		if (is_space(s[i]) && word_end > 0) {
			if (!fits_tail(pc, &at_word_end, true, true))
				break;
			best = word_end;
		}
		rc = uigw_utf8_next(s + i, len - i, &cp);
		if (rc < 0)
			rc = 1;
		cnt_add(&c, pc->p, s + i, rc, true);
		i += rc;
		if (!is_space(s[i - 1])) {
			word_end = i;
			at_word_end = c;
		}
	}
	if (!best) {
		/* no space to split at: cut the word at a character boundary */
		c = cnt_empty;
		for (i = 0; i < len;) {
			rc = uigw_utf8_next(s + i, len - i, &cp);
			if (rc < 0)
				rc = 1;
			cnt_add(&c, pc->p, s + i, rc, true);
			if (best && !fits_tail(pc, &c, true, true))
				break;
			i += rc;
			best = i;
		}
	}
	pg->h_off = *hoff;
	pg->h_len = best;
	pg->more = true;
	*hoff += best;
	while (*hoff < pc->hdr_len && is_space(pc->hdr[*hoff]))
		(*hoff)++;
	if (*hoff >= pc->hdr_len && !items_left)
		pg->more = false;
}

/* Largest prefix of the item's label (bytes, at a character boundary) such that "key. <prefix>…" + tail fits
 * an empty page. */
static size_t truncate_item(const struct plan_ctx *pc, const struct uigw_render_item *it, bool more)
{
	const char *key = str0(it->key), *label = str0(it->label);
	size_t len = strlen(label), i = 0, best = 0;
	struct cnt c = cnt_empty, t;
	uint32_t cp;
	int rc;

	if (*key) {
		cnt_add(&c, pc->p, key, strlen(key), true);
		cnt_add(&c, pc->p, ". ", 2, true);
	}
	while (i < len && !c.over) {
		rc = uigw_utf8_next(label + i, len - i, &cp);
		if (rc < 0)
			rc = 1;
		cnt_add(&c, pc->p, label + i, rc, true);
		t = c;
		cnt_add(&t, pc->p, ELLIPSIS, ELLIPSIS_LEN, true);
		if (!fits_tail(pc, &t, true, more))
			break;
		i += rc;
		best = i;
	}
	return best;
}

/* Plan the page starting at header offset *hoff and item *item; advance both past it. */
static void plan_page(const struct plan_ctx *pc, size_t *hoff, unsigned int *item, struct page *pg)
{
	const struct uigw_render_in *in = pc->in;
	struct cnt c = cnt_empty, next;
	bool nl = false, nl_next;
	unsigned int j, k_more = 0;

	memset(pg, 0, sizeof(*pg));
	pg->first_item = *item;

	if (*hoff < pc->hdr_len) {
		bool items_left = *item < in->n_items;

		cnt_add(&c, pc->p, pc->hdr + *hoff, pc->hdr_len - *hoff, true);
		if (!fits_tail(pc, &c, true, items_left)) {
			split_header(pc, hoff, pg, items_left);
			return;
		}
		pg->h_off = *hoff;
		pg->h_len = pc->hdr_len - *hoff;
		*hoff = pc->hdr_len;
		nl = true;
	}

	for (j = *item; j < in->n_items; j++) {
		bool last = j + 1 == in->n_items;

		next = c;
		nl_next = nl;
		cnt_item(&next, pc->p, &nl_next, &in->items[j]);
		if (next.over)
			break;
		if (fits_tail(pc, &next, nl_next, true)) {
			k_more = j - *item + 1;
		} else if (!fits_tail(pc, &next, nl_next, false)) {
			break;
		}
		if (last && fits_tail(pc, &next, nl_next, false)) {
			/* everything left fits: last page, no more line */
			pg->n_items = in->n_items - *item;
			*item = in->n_items;
			return;
		}
		c = next;
		nl = nl_next;
	}

	if (*item >= in->n_items)
		return;		/* header (or nothing) only, last page */
	if (k_more) {
		pg->n_items = k_more;
		pg->more = true;
	} else if (pg->h_len) {
		pg->more = true;	/* header page; the items follow */
	} else {
		/* one item too long even alone: truncate it */
		pg->more = *item + 1 < in->n_items;
		pg->n_items = 1;
		pg->trunc = true;
		pg->trunc_len = truncate_item(pc, &in->items[*item], pg->more);
	}
	*item += pg->n_items;
}

/* text output helpers */
static size_t item_len(const struct uigw_render_item *it, bool trunc, size_t trunc_len)
{
	const char *key = str0(it->key);
	size_t n = *key ? strlen(key) + 2 : 0;

	return n + (trunc ? trunc_len + ELLIPSIS_LEN : strlen(str0(it->label)));
}

static char *put(char *o, const char *s, size_t len)
{
	memcpy(o, s, len);
	return o + len;
}

static char *put_item(char *o, const struct uigw_render_item *it, bool trunc, size_t trunc_len)
{
	const char *key = str0(it->key), *label = str0(it->label);

	if (*key) {
		o = put(o, key, strlen(key));
		o = put(o, ". ", 2);
	}
	if (trunc)
		return put(put(o, label, trunc_len), ELLIPSIS, ELLIPSIS_LEN);
	return put(o, label, strlen(label));
}

static char *build_text(void *ctx, const struct plan_ctx *pc, const struct page *pg, size_t *len_out)
{
	const struct uigw_render_in *in = pc->in;
	size_t len = 0;
	unsigned int lines = 0, i;
	char *text, *o;

	if (pg->h_len) {
		len += pg->h_len;
		lines++;
	}
	for (i = 0; i < pg->n_items; i++, lines++)
		len += item_len(&in->items[pg->first_item + i], pg->trunc && i + 1 == pg->n_items, pg->trunc_len);
	for (i = 0; i < pc->n_footer; i++, lines++)
		len += item_len(&in->footer[i], false, 0);
	if (pg->more && pc->has_more_line) {
		len += item_len(&in->more, false, 0);
		lines++;
	}
	len += lines ? lines - 1 : 0;

	text = talloc_size(ctx, len + 1);
	if (!text)
		return NULL;
	o = text;
	if (pg->h_len)
		o = put(o, pc->hdr + pg->h_off, pg->h_len);
	for (i = 0; i < pg->n_items; i++) {
		if (o != text || pg->h_len)
			*o++ = '\n';
		o = put_item(o, &in->items[pg->first_item + i], pg->trunc && i + 1 == pg->n_items, pg->trunc_len);
	}
	lines = pg->h_len || pg->n_items;	/* from here: is a '\n' needed before the next line */
	for (i = 0; i < pc->n_footer; i++, lines = 1) {
		if (lines)
			*o++ = '\n';
		o = put_item(o, &in->footer[i], false, 0);
	}
	if (pg->more && pc->has_more_line) {
		if (lines)
			*o++ = '\n';
		o = put_item(o, &in->more, false, 0);
	}
	*o = '\0';
	*len_out = o - text;
	return text;
}

/* Last resort for a page that still does not fit (e.g. a footer longer than the budget): cut the text to the
 * longest prefix that fits with "…". */
static char *clamp_text(void *ctx, const struct uigw_profile *p, char *text, size_t *len)
{
	struct cnt c = cnt_empty, t;
	size_t i = 0, best = 0;
	uint32_t cp;
	char *cut;
	int rc;

	while (i < *len) {
		rc = uigw_utf8_next(text + i, *len - i, &cp);
		if (rc < 0)
			rc = 1;
		cnt_add(&c, p, text + i, rc, true);
		t = c;
		cnt_add(&t, p, ELLIPSIS, ELLIPSIS_LEN, true);
		if (!fits(&t, p))
			break;
		i += rc;
		best = i;
	}
	t = cnt_empty;
	cnt_add(&t, p, ELLIPSIS, ELLIPSIS_LEN, true);
	cut = talloc_size(ctx, best + ELLIPSIS_LEN + 1);
	if (!cut)
		return text;
	memcpy(cut, text, best);
	if (fits(&t, p)) {
		memcpy(cut + best, ELLIPSIS, ELLIPSIS_LEN);
		best += ELLIPSIS_LEN;
	}
	cut[best] = '\0';
	*len = best;
	talloc_free(text);
	return cut;
}

static bool item_valid(const struct uigw_render_item *it)
{
	return (!it->key || uigw_utf8_valid(it->key, strlen(it->key)))
		&& (!it->label || uigw_utf8_valid(it->label, strlen(it->label)));
}

int uigw_render(void *ctx, const struct uigw_profile *p, const struct uigw_render_in *in,
		struct uigw_render_out *out)
{
	struct plan_ctx pc = { .p = p, .in = in };
	struct page pg, chosen;
	unsigned int page = 0, item = 0, i;
	size_t hoff = 0, len;
	struct cnt c = cnt_empty;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	memset(&chosen, 0, sizeof(chosen));
	if (!p || !in || (in->n_items && !in->items) || (in->n_footer && !in->footer))
		return -EINVAL;

	pc.hdr = str0(in->header);
	pc.hdr_len = strlen(pc.hdr);
	if (!uigw_utf8_valid(pc.hdr, pc.hdr_len) || !item_valid(&in->more))
		goto inval;
	for (i = 0; i < in->n_items; i++)
		if (!item_valid(&in->items[i]))
			goto inval;
	for (i = 0; i < in->n_footer; i++)
		if (!item_valid(&in->footer[i]))
			goto inval;
	while (pc.hdr_len && is_space(pc.hdr[pc.hdr_len - 1]))
		pc.hdr_len--;
	pc.has_more_line = *str0(in->more.key) || *str0(in->more.label);
	pc.n_footer = in->n_footer;
	count_tails(&pc);
	/* a misconfigured screen whose footer and more line alone overflow a page (in the tighter UCS-2 budget,
	 * as any page may need UCS-2): leave them out rather than cutting every page */
	if (pc.n_footer && !tail_fits_alone(&pc)) {
		LOGP(DREND, LOGL_NOTICE, "footer lines do not fit a %s page, left out\n", p->name);
		pc.n_footer = 0;
		count_tails(&pc);
	}
	if (pc.has_more_line && !tail_fits_alone(&pc)) {
		LOGP(DREND, LOGL_NOTICE, "more line does not fit a %s page, left out\n", p->name);
		pc.has_more_line = false;
		count_tails(&pc);
	}

	/* plan every page from page 0; each consumes at least one header character or one item */
	do {
		plan_page(&pc, &hoff, &item, &pg);
		if (page <= in->page) {	/* past the end: clamp to the last page */
			chosen = pg;
			out->page = page;
		}
		page++;
	} while (hoff < pc.hdr_len || item < in->n_items);

	out->n_pages = page;
	out->first_item = chosen.first_item;
	out->n_page_items = chosen.n_items;
	out->has_more = chosen.more;
	out->text = build_text(ctx, &pc, &chosen, &len);
	if (!out->text)
		return -ENOMEM;

	cnt_add(&c, p, out->text, len, false);
	if (!fits(&c, p)) {
		LOGP(DREND, LOGL_NOTICE, "%s page %u does not fit even after paging (footer too long?), cutting\n",
		     p->name, out->page);
		out->text = clamp_text(ctx, p, out->text, &len);
		c = cnt_empty;
		cnt_add(&c, p, out->text, len, false);
	}
	if (p->kind == UIGW_PROF_IMS) {
		out->coding = UIGW_CODING_UTF8;
		out->units = c.bytes;
		out->parts = 1;
	} else if (c.gsm) {
		out->coding = UIGW_CODING_GSM7;
		out->units = c.sept;
		out->parts = p->kind == UIGW_PROF_SMS && c.sept > p->gsm7_budget ? c.g_parts : 1;
	} else {
		out->coding = UIGW_CODING_UCS2;
		out->units = c.ucs2;
		out->parts = p->kind == UIGW_PROF_SMS && c.ucs2 > p->ucs2_budget ? c.u_parts : 1;
	}
	return 0;

inval:
	LOGP(DREND, LOGL_ERROR, "invalid UTF-8 in the screen to render\n");
	return -EINVAL;
}

unsigned int uigw_sms_parts(const struct uigw_profile *p, const char *utf8, enum uigw_coding coding)
{
	struct cnt c = cnt_empty;

	if (!p || !utf8 || p->kind != UIGW_PROF_SMS)
		return 1;
	cnt_add(&c, p, utf8, strlen(utf8), false);
	switch (coding) {
	case UIGW_CODING_GSM7:
		return c.sept <= p->gsm7_budget ? 1 : c.g_parts;
	case UIGW_CODING_UCS2:
		return c.ucs2 <= p->ucs2_budget ? 1 : c.u_parts;
	default:
		return 1;
	}
}
