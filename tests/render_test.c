/* cmocka tests of the renderer (src/render/render.c): budgets at their exact boundaries, coding choice per page,
 * pagination of long menus and headers, truncation and page clamping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/render/render.h>

#define EURO	"\xe2\x82\xac"
#define DE	"\xd0\x94"	/* Cyrillic Д */
#define GRIN	"\xf0\x9f\x98\x80"
#define ELL	"\xe2\x80\xa6"

static void *ctx;	/* parent of rendered texts: back to its start after each test */
static void *tmp;	/* test data */
static size_t blocks_at_start;

static int setup(void **state)
{
	ctx = talloc_named_const(NULL, 0, "render_test");
	tmp = talloc_named_const(NULL, 0, "render_test_data");
	blocks_at_start = talloc_total_blocks(ctx);
	return 0;
}

static int teardown(void **state)
{
	/* every test frees what it rendered */
	assert_int_equal(talloc_total_blocks(ctx), blocks_at_start);
	talloc_free(ctx);
	talloc_free(tmp);
	return 0;
}

static const struct uigw_render_item back_footer[] = { { "0", "Back" } };

/* n copies of the UTF-8 string unit */
static char *rep(const char *unit, unsigned int n)
{
	size_t ul = strlen(unit);
	char *s = talloc_size(tmp, ul * n + 1);
	unsigned int i;

	for (i = 0; i < n; i++)
		memcpy(s + i * ul, unit, ul);
	s[ul * n] = '\0';
	return s;
}

static void render_ok(const struct uigw_profile *p, const struct uigw_render_in *in, struct uigw_render_out *out)
{
	assert_int_equal(uigw_render(ctx, p, in, out), 0);
	assert_non_null(out->text);
	assert_true(out->page < out->n_pages);
}

/* the page text fits the budget of its coding, and units agree with the charset counters */
static void assert_fits(const struct uigw_profile *p, const struct uigw_render_out *out)
{
	size_t len = strlen(out->text);

	switch (out->coding) {
	case UIGW_CODING_GSM7:
		assert_int_not_equal(p->kind, UIGW_PROF_IMS);
		assert_int_equal(uigw_gsm7_count(out->text, len), out->units);
		if (p->kind == UIGW_PROF_SMS)
			assert_true(out->units <= p->gsm7_budget || out->parts <= p->max_parts);
		else
			assert_true(out->units <= p->gsm7_budget);
		break;
	case UIGW_CODING_UCS2:
		assert_int_not_equal(p->kind, UIGW_PROF_IMS);
		assert_int_equal(uigw_gsm7_count(out->text, len), -ERANGE);
		assert_int_equal(uigw_ucs2_count(out->text, len), out->units);
		if (p->kind == UIGW_PROF_SMS)
			assert_true(out->units <= p->ucs2_budget || out->parts <= p->max_parts);
		else
			assert_true(out->units <= p->ucs2_budget);
		break;
	case UIGW_CODING_UTF8:
		assert_int_equal(p->kind, UIGW_PROF_IMS);
		assert_int_equal(len, out->units);
		assert_true(out->units <= p->utf8_budget);
		break;
	}
	if (p->kind == UIGW_PROF_SMS)
		assert_int_equal(out->parts, uigw_sms_parts(p, out->text, out->coding));
	else
		assert_int_equal(out->parts, 1);
}

static void test_profiles(void **state)
{
	assert_ptr_equal(uigw_profile_by_name("ussd"), &uigw_profile_ussd);
	assert_ptr_equal(uigw_profile_by_name("ussi"), &uigw_profile_ussi);
	assert_ptr_equal(uigw_profile_by_name("sms"), &uigw_profile_sms);
	assert_ptr_equal(uigw_profile_by_name("ims"), &uigw_profile_ims);
	assert_null(uigw_profile_by_name("fax"));
	assert_null(uigw_profile_by_name(NULL));
	assert_int_equal(uigw_profile_ussd.gsm7_budget, 182);
	assert_int_equal(uigw_profile_ussd.ucs2_budget, 80);
	assert_int_equal(uigw_profile_ussi.gsm7_budget, 182);
	assert_int_equal(uigw_profile_sms.gsm7_budget, 160);
	assert_int_equal(uigw_profile_sms.ucs2_budget, 70);
	assert_int_equal(uigw_profile_sms.gsm7_part, 153);
	assert_int_equal(uigw_profile_sms.ucs2_part, 67);
	assert_int_equal(uigw_profile_sms.max_parts, 4);
	assert_int_equal(uigw_profile_ims.utf8_budget, 1300);
}

/* "Choose\n1. <label>\n0. Back" is 6 + 1 + 3 + L + 1 + 7 = 18 + L septets */
static void menu_one_item(const struct uigw_profile *p, const char *label, struct uigw_render_out *out,
			  unsigned int page)
{
	struct uigw_render_item items[] = { { "1", label } };
	struct uigw_render_in in = {
		.header = "Choose", .items = items, .n_items = 1, .footer = back_footer, .n_footer = 1,
		.more = { "00", "More" }, .page = page,
	};

	render_ok(p, &in, out);
	assert_fits(p, out);
}

static void test_ussd_gsm7_boundary(void **state)
{
	struct uigw_render_out out;
	char *label = rep("a", 164), *exp;

	/* exactly 182 septets: one page */
	menu_one_item(&uigw_profile_ussd, label, &out, 0);
	assert_int_equal(out.n_pages, 1);
	assert_int_equal(out.coding, UIGW_CODING_GSM7);
	assert_int_equal(out.units, 182);
	assert_false(out.has_more);
	assert_int_equal(out.n_page_items, 1);
	exp = talloc_asprintf(tmp, "Choose\n1. %s\n0. Back", label);
	assert_string_equal(out.text, exp);
	talloc_free(out.text);

	/* 183: the item moves to page 2, page 1 is header + footer + more */
	menu_one_item(&uigw_profile_ussd, rep("a", 165), &out, 0);
	assert_int_equal(out.n_pages, 2);
	assert_true(out.has_more);
	assert_int_equal(out.n_page_items, 0);
	assert_string_equal(out.text, "Choose\n0. Back\n00. More");
	assert_int_equal(out.units, 23);
	talloc_free(out.text);
	menu_one_item(&uigw_profile_ussd, rep("a", 165), &out, 1);
	assert_int_equal(out.page, 1);
	assert_false(out.has_more);
	assert_int_equal(out.first_item, 0);
	assert_int_equal(out.n_page_items, 1);
	assert_int_equal(out.units, 3 + 165 + 1 + 7);
	talloc_free(out.text);

	/* header-only screens: 182 one page, 183 two */
	{
		struct uigw_render_in in = { .header = rep("b", 182), .more = { "00", "More" } };

		render_ok(&uigw_profile_ussd, &in, &out);
		assert_int_equal(out.n_pages, 1);
		assert_int_equal(out.units, 182);
		talloc_free(out.text);
		in.header = rep("b", 183);
		render_ok(&uigw_profile_ussd, &in, &out);
		assert_int_equal(out.n_pages, 2);
		/* one over-long word: cut at a character boundary, 173 + "\n00. More" = 182 */
		assert_int_equal(out.units, 182);
		exp = talloc_asprintf(tmp, "%s\n00. More", rep("b", 173));
		assert_string_equal(out.text, exp);
		talloc_free(out.text);
		in.page = 1;
		render_ok(&uigw_profile_ussd, &in, &out);
		assert_string_equal(out.text, "bbbbbbbbbb");
		talloc_free(out.text);
	}
}

/* one extension character counts two septets: the boundary moves by one */
static void test_ussd_ext_boundary(void **state)
{
	struct uigw_render_out out;
	char *label;

	label = talloc_asprintf(tmp, "%s%s", rep("a", 162), EURO);	/* 162 + 2 = 164 septets */
	menu_one_item(&uigw_profile_ussd, label, &out, 0);
	assert_int_equal(out.n_pages, 1);
	assert_int_equal(out.coding, UIGW_CODING_GSM7);
	assert_int_equal(out.units, 182);
	talloc_free(out.text);

	label = talloc_asprintf(tmp, "%s%s", rep("a", 163), EURO);	/* 164 characters, 165 septets */
	menu_one_item(&uigw_profile_ussd, label, &out, 0);
	assert_int_equal(out.n_pages, 2);
	talloc_free(out.text);
}

/* one Cyrillic character switches the page to UCS-2 and the budget to 80 */
static void test_ussd_ucs2_boundary(void **state)
{
	struct uigw_render_out out;
	char *label;

	label = talloc_asprintf(tmp, "%s%s", DE, rep("a", 61));	/* 18 + 62 = 80 */
	menu_one_item(&uigw_profile_ussd, label, &out, 0);
	assert_int_equal(out.n_pages, 1);
	assert_int_equal(out.coding, UIGW_CODING_UCS2);
	assert_int_equal(out.units, 80);
	talloc_free(out.text);

	label = talloc_asprintf(tmp, "%s%s", DE, rep("a", 62));	/* 81 */
	menu_one_item(&uigw_profile_ussd, label, &out, 0);
	assert_int_equal(out.n_pages, 2);
	assert_int_equal(out.coding, UIGW_CODING_GSM7);	/* "Choose\n0. Back\n00. More" */
	talloc_free(out.text);
	menu_one_item(&uigw_profile_ussd, label, &out, 1);
	assert_int_equal(out.coding, UIGW_CODING_UCS2);
	assert_int_equal(out.units, 3 + 63 + 1 + 7);
	talloc_free(out.text);

	/* a non-BMP character takes two UTF-16 units: 18 + 2 + 60 = 80 fits, one more does not */
	label = talloc_asprintf(tmp, "%s%s", GRIN, rep("a", 60));
	menu_one_item(&uigw_profile_ussd, label, &out, 0);
	assert_int_equal(out.n_pages, 1);
	assert_int_equal(out.units, 80);
	talloc_free(out.text);
	label = talloc_asprintf(tmp, "%s%s", GRIN, rep("a", 61));
	menu_one_item(&uigw_profile_ussd, label, &out, 0);
	assert_int_equal(out.n_pages, 2);
	talloc_free(out.text);
}

static void header_only(const struct uigw_profile *p, const char *header, struct uigw_render_out *out)
{
	struct uigw_render_in in = { .header = header, .more = { "00", "More" } };

	render_ok(p, &in, out);
	assert_fits(p, out);
}

static void test_sms_parts(void **state)
{
	struct uigw_render_out out;
	char *t;

	header_only(&uigw_profile_sms, rep("a", 160), &out);
	assert_int_equal(out.coding, UIGW_CODING_GSM7);
	assert_int_equal(out.parts, 1);
	assert_int_equal(out.n_pages, 1);
	talloc_free(out.text);
	header_only(&uigw_profile_sms, rep("a", 161), &out);
	assert_int_equal(out.parts, 2);	/* 153 + 8 */
	assert_int_equal(out.units, 161);
	assert_int_equal(out.n_pages, 1);
	talloc_free(out.text);
	header_only(&uigw_profile_sms, rep(DE, 70), &out);
	assert_int_equal(out.coding, UIGW_CODING_UCS2);
	assert_int_equal(out.parts, 1);
	talloc_free(out.text);
	header_only(&uigw_profile_sms, rep(DE, 71), &out);
	assert_int_equal(out.parts, 2);	/* 67 + 4 */
	talloc_free(out.text);

	/* a screen holds max_parts (4) parts: 612 septets in one page, 613 in two */
	header_only(&uigw_profile_sms, rep("a", 612), &out);
	assert_int_equal(out.n_pages, 1);
	assert_int_equal(out.parts, 4);
	talloc_free(out.text);
	header_only(&uigw_profile_sms, rep("a", 613), &out);
	assert_int_equal(out.n_pages, 2);
	assert_int_equal(out.parts, 4);
	talloc_free(out.text);
	header_only(&uigw_profile_sms, rep(DE, 268), &out);
	assert_int_equal(out.n_pages, 1);
	assert_int_equal(out.parts, 4);
	talloc_free(out.text);

	assert_int_equal(uigw_sms_parts(&uigw_profile_sms, rep("a", 160), UIGW_CODING_GSM7), 1);
	assert_int_equal(uigw_sms_parts(&uigw_profile_sms, rep("a", 161), UIGW_CODING_GSM7), 2);
	assert_int_equal(uigw_sms_parts(&uigw_profile_sms, rep("a", 306), UIGW_CODING_GSM7), 2);
	assert_int_equal(uigw_sms_parts(&uigw_profile_sms, rep("a", 307), UIGW_CODING_GSM7), 3);
	assert_int_equal(uigw_sms_parts(&uigw_profile_sms, rep(DE, 70), UIGW_CODING_UCS2), 1);
	assert_int_equal(uigw_sms_parts(&uigw_profile_sms, rep(DE, 71), UIGW_CODING_UCS2), 2);
	/* an extension character never straddles two parts: 152 + € + 152 = 306 septets needs 3 parts */
	t = talloc_asprintf(tmp, "%s%s%s", rep("a", 152), EURO, rep("a", 152));
	assert_int_equal(uigw_sms_parts(&uigw_profile_sms, t, UIGW_CODING_GSM7), 3);
	t = talloc_asprintf(tmp, "%s%s%s", rep("a", 151), EURO, rep("a", 153));
	assert_int_equal(uigw_sms_parts(&uigw_profile_sms, t, UIGW_CODING_GSM7), 2);
	/* nor does a surrogate pair */
	t = talloc_asprintf(tmp, "%s%s%s", rep(DE, 66), GRIN, rep(DE, 66));
	assert_int_equal(uigw_sms_parts(&uigw_profile_sms, t, UIGW_CODING_UCS2), 3);
	/* other profiles: one part */
	assert_int_equal(uigw_sms_parts(&uigw_profile_ussd, rep("a", 300), UIGW_CODING_GSM7), 1);
}

static void test_ims_budget(void **state)
{
	struct uigw_render_out out;

	header_only(&uigw_profile_ims, rep("a", 1300), &out);
	assert_int_equal(out.coding, UIGW_CODING_UTF8);
	assert_int_equal(out.units, 1300);
	assert_int_equal(out.n_pages, 1);
	talloc_free(out.text);
	header_only(&uigw_profile_ims, rep("\xc3\xa9", 650), &out);	/* é: 2 bytes */
	assert_int_equal(out.units, 1300);
	assert_int_equal(out.n_pages, 1);
	talloc_free(out.text);
	header_only(&uigw_profile_ims, rep("a", 1301), &out);
	assert_int_equal(out.n_pages, 2);
	assert_int_equal(out.units, 1300);	/* 1291 + "\n00. More" */
	talloc_free(out.text);
	/* never cut inside a multi-byte character */
	header_only(&uigw_profile_ims, rep(EURO, 500), &out);
	assert_int_equal(out.n_pages, 2);
	assert_true(uigw_utf8_valid(out.text, strlen(out.text)));
	assert_int_equal(out.units, 430 * 3 + 9);
	talloc_free(out.text);
}

/* 30 options, "0. Back" footer, "00. More" paging */
static struct uigw_render_item menu30[30];

static void make_menu30(void)
{
	unsigned int i;

	for (i = 0; i < 30; i++) {
		menu30[i].key = talloc_asprintf(tmp, "%u", i + 1);
		menu30[i].label = talloc_asprintf(tmp, "Topic number %u", i + 1);
	}
}

static void test_long_menu(void **state)
{
	struct uigw_render_in in = {
		.header = "Pick a topic", .items = menu30, .n_items = 30, .footer = back_footer, .n_footer = 1,
		.more = { "00", "More" },
	};
	struct uigw_render_out out;
	unsigned int page, next_item = 0, n_pages = 0, i;
	char line[64], *p;

	make_menu30();
	for (page = 0; ; page++) {
		in.page = page;
		render_ok(&uigw_profile_ussd, &in, &out);
		assert_fits(&uigw_profile_ussd, &out);
		assert_int_equal(out.page, page);
		if (!n_pages)
			n_pages = out.n_pages;
		assert_int_equal(out.n_pages, n_pages);
		assert_int_equal(out.first_item, next_item);
		assert_int_equal(out.has_more, page + 1 < n_pages);
		/* header on the first page only */
		assert_int_equal(!strncmp(out.text, "Pick a topic\n", 13), page == 0);
		/* items in order, whole; footer and more line at the end */
		p = out.text + (page == 0 ? 13 : 0);
		for (i = 0; i < out.n_page_items; i++) {
			snprintf(line, sizeof(line), "%u. Topic number %u\n", next_item + 1, next_item + 1);
			assert_int_equal(strncmp(p, line, strlen(line)), 0);
			p += strlen(line);
			next_item++;
		}
		assert_string_equal(p, out.has_more ? "0. Back\n00. More" : "0. Back");
		/* greedy: the next option would not have fitted */
		if (out.has_more) {
			snprintf(line, sizeof(line), "\n%u. Topic number %u", next_item + 1, next_item + 1);
			assert_true(out.units + strlen(line) > 182);
		}
		if (page == 0)
			assert_string_equal(out.text,
				"Pick a topic\n1. Topic number 1\n2. Topic number 2\n3. Topic number 3\n"
				"4. Topic number 4\n5. Topic number 5\n6. Topic number 6\n7. Topic number 7\n"
				"8. Topic number 8\n0. Back\n00. More");
		if (page == 1)
			assert_string_equal(out.text,
				"9. Topic number 9\n10. Topic number 10\n11. Topic number 11\n12. Topic number 12\n"
				"13. Topic number 13\n14. Topic number 14\n15. Topic number 15\n16. Topic number 16\n"
				"0. Back\n00. More");
		talloc_free(out.text);
		if (page + 1 == n_pages)
			break;
		assert_true(page < 30);
	}
	assert_int_equal(next_item, 30);	/* union of pages = all options */
	assert_int_equal(n_pages, 4);

	/* the last page exactly */
	in.page = 3;
	render_ok(&uigw_profile_ussd, &in, &out);
	assert_string_equal(out.text,
		"25. Topic number 25\n26. Topic number 26\n27. Topic number 27\n28. Topic number 28\n"
		"29. Topic number 29\n30. Topic number 30\n0. Back");
	assert_int_equal(out.first_item, 24);
	assert_int_equal(out.n_page_items, 6);
	talloc_free(out.text);

	/* pages past the end clamp to the last page */
	in.page = 99;
	render_ok(&uigw_profile_ussd, &in, &out);
	assert_int_equal(out.page, 3);
	assert_int_equal(out.first_item, 24);
	assert_false(out.has_more);
	assert_string_equal(out.text,
		"25. Topic number 25\n26. Topic number 26\n27. Topic number 27\n28. Topic number 28\n"
		"29. Topic number 29\n30. Topic number 30\n0. Back");
	talloc_free(out.text);

	/* same menu as SMS: 12 + 9 * 18 + 21 * 20 + 8 = 602 septets, one screen of 4 concatenated parts */
	in.page = 0;
	render_ok(&uigw_profile_sms, &in, &out);
	assert_fits(&uigw_profile_sms, &out);
	assert_int_equal(out.n_pages, 1);
	assert_int_equal(out.units, 602);
	assert_int_equal(out.parts, 4);
	talloc_free(out.text);
}

/* a header longer than a screen splits at spaces; the items follow where the header ends */
static void test_long_header(void **state)
{
	struct uigw_render_item items[] = { { "1", "Yes" }, { "2", "No" } };
	struct uigw_render_in in = {
		.items = items, .n_items = 2, .footer = back_footer, .n_footer = 1, .more = { "00", "More" },
	};
	struct uigw_render_out out;
	char *hdr = talloc_strdup(tmp, ""), *joined = talloc_strdup(tmp, ""), *chunk;
	unsigned int i, page, n_pages;

	for (i = 1; i <= 40; i++)
		hdr = talloc_asprintf_append(hdr, "%sword%02u", i > 1 ? " " : "", i);	/* 279 characters */
	in.header = hdr;

	render_ok(&uigw_profile_ussd, &in, &out);
	n_pages = out.n_pages;
	/* page 1: 23 words (160 chars) + "\n0. Back\n00. More" (17) = 177; 24 words would be 167 + 17 */
	assert_int_equal(n_pages, 2);
	assert_true(out.has_more);
	assert_int_equal(out.n_page_items, 0);
	talloc_free(out.text);

	for (page = 0; page < n_pages; page++) {
		char *end;

		in.page = page;
		render_ok(&uigw_profile_ussd, &in, &out);
		assert_fits(&uigw_profile_ussd, &out);
		end = strstr(out.text, page + 1 < n_pages ? "\n0. Back\n00. More" : "\n1. Yes\n2. No\n0. Back");
		assert_non_null(end);
		chunk = talloc_strndup(tmp, out.text, end - out.text);
		/* never a partial word */
		assert_true(strlen(chunk) % 7 == 6);
		joined = talloc_asprintf_append(joined, "%s%s", page ? " " : "", chunk);
		talloc_free(out.text);
	}
	assert_string_equal(joined, hdr);

	in.page = 0;
	render_ok(&uigw_profile_ussd, &in, &out);
	chunk = talloc_strndup(tmp, hdr, 23 * 7 - 1);
	assert_string_equal(out.text, talloc_asprintf(tmp, "%s\n0. Back\n00. More", chunk));
	talloc_free(out.text);
	in.page = 1;
	render_ok(&uigw_profile_ussd, &in, &out);
	assert_string_equal(out.text, talloc_asprintf(tmp, "%s\n1. Yes\n2. No\n0. Back", hdr + 23 * 7));
	assert_int_equal(out.first_item, 0);
	assert_int_equal(out.n_page_items, 2);
	talloc_free(out.text);

	/* the header splits at '\n' too, and continues after a header page with the items */
	in.header = talloc_asprintf(tmp, "%s\n%s", rep("x", 150), rep("y", 100));
	in.page = 0;
	render_ok(&uigw_profile_ussd, &in, &out);
	assert_string_equal(out.text, talloc_asprintf(tmp, "%s\n0. Back\n00. More", rep("x", 150)));
	talloc_free(out.text);
	in.page = 1;
	render_ok(&uigw_profile_ussd, &in, &out);
	assert_string_equal(out.text, talloc_asprintf(tmp, "%s\n1. Yes\n2. No\n0. Back", rep("y", 100)));
	talloc_free(out.text);
}

/* an item too long even alone is cut with "…", which makes the page UCS-2 */
static void test_truncated_item(void **state)
{
	struct uigw_render_item items[] = { { "1", NULL }, { "2", "Short" } };
	struct uigw_render_in in = {
		.header = "Pick", .items = items, .n_items = 1, .footer = back_footer, .n_footer = 1,
		.more = { "00", "More" },
	};
	struct uigw_render_out out;

	items[0].label = rep("x", 300);
	/* page 0: header only (the item does not fit beside it) */
	render_ok(&uigw_profile_ussd, &in, &out);
	assert_int_equal(out.n_pages, 2);
	assert_string_equal(out.text, "Pick\n0. Back\n00. More");
	talloc_free(out.text);
	/* page 1: "1. " + 68 x + "…" + "\n0. Back" = 80 UCS-2 units */
	in.page = 1;
	render_ok(&uigw_profile_ussd, &in, &out);
	assert_fits(&uigw_profile_ussd, &out);
	assert_int_equal(out.coding, UIGW_CODING_UCS2);
	assert_int_equal(out.units, 80);
	assert_int_equal(out.n_page_items, 1);
	assert_false(out.has_more);
	assert_string_equal(out.text, talloc_asprintf(tmp, "1. %s" ELL "\n0. Back", rep("x", 68)));
	talloc_free(out.text);

	/* not the last item: room for the more line too, and the next item on the next page */
	in.n_items = 2;
	render_ok(&uigw_profile_ussd, &in, &out);
	assert_int_equal(out.n_pages, 3);
	assert_true(out.has_more);
	assert_string_equal(out.text, talloc_asprintf(tmp, "1. %s" ELL "\n0. Back\n00. More", rep("x", 59)));
	assert_int_equal(out.units, 80);
	talloc_free(out.text);
	in.page = 2;
	render_ok(&uigw_profile_ussd, &in, &out);
	assert_string_equal(out.text, "2. Short\n0. Back");
	assert_int_equal(out.first_item, 1);
	talloc_free(out.text);

	/* SMS: the cut item fills 4 UCS-2 parts; IMS: 1300 bytes */
	in.n_items = 1;
	in.page = 1;
	items[0].label = rep("x", 1000);
	render_ok(&uigw_profile_sms, &in, &out);
	assert_fits(&uigw_profile_sms, &out);
	assert_int_equal(out.parts, 4);
	assert_int_equal(out.units, 4 * 67);
	talloc_free(out.text);
	items[0].label = rep("x", 2000);
	render_ok(&uigw_profile_ims, &in, &out);
	assert_fits(&uigw_profile_ims, &out);
	assert_int_equal(out.units, 1300);
	talloc_free(out.text);
}

static void test_small_screens(void **state)
{
	struct uigw_render_item items[] = { { "1", "Yes" }, { "2", "No " EURO } };
	struct uigw_render_in in = { .more = { "00", "More" } };
	struct uigw_render_out out;

	/* nothing at all: one empty page */
	render_ok(&uigw_profile_ussd, &in, &out);
	assert_string_equal(out.text, "");
	assert_int_equal(out.n_pages, 1);
	assert_int_equal(out.units, 0);
	assert_int_equal(out.coding, UIGW_CODING_GSM7);
	talloc_free(out.text);

	/* header with newlines, items, no footer; key-less item renders the label only */
	in.header = "Rate us\nplease";
	in.items = items;
	in.n_items = 2;
	render_ok(&uigw_profile_ussd, &in, &out);
	assert_string_equal(out.text, "Rate us\nplease\n1. Yes\n2. No " EURO);
	assert_int_equal(out.units, 14 + 1 + 6 + 1 + 6 + 2);
	assert_int_equal(out.coding, UIGW_CODING_GSM7);
	talloc_free(out.text);
	items[1].key = "";
	render_ok(&uigw_profile_ims, &in, &out);
	assert_string_equal(out.text, "Rate us\nplease\n1. Yes\nNo " EURO);
	assert_int_equal(out.coding, UIGW_CODING_UTF8);
	assert_int_equal(out.units, strlen(out.text));
	talloc_free(out.text);
}

/* footer + more line must fit a page by themselves in UCS-2 (80): else they are left out instead of cutting
 * every page */
static void test_oversized_footer(void **state)
{
	struct uigw_render_item items[] = { { "1", "Yes" }, { "2", "No" } };
	struct uigw_render_item footer[] = { { "0", NULL } };
	struct uigw_render_in in = {
		.header = "Sure?", .items = items, .n_items = 2, .footer = footer, .n_footer = 1,
		.more = { "00", "More" },
	};
	struct uigw_render_out out;

	footer[0].label = rep("b", 69);	/* "0. " + 69 + "\n00. More" = 81 */
	render_ok(&uigw_profile_ussd, &in, &out);
	assert_string_equal(out.text, "Sure?\n1. Yes\n2. No");
	talloc_free(out.text);

	footer[0].label = rep("b", 68);	/* 80: stays */
	render_ok(&uigw_profile_ussd, &in, &out);
	assert_int_equal(out.n_pages, 1);
	assert_string_equal(out.text, talloc_asprintf(tmp, "Sure?\n1. Yes\n2. No\n0. %s", footer[0].label));
	talloc_free(out.text);
	/* a Cyrillic option needs UCS-2: it goes to a page of its own with the footer */
	items[1].label = "\xd0\x9d\xd0\xb5\xd1\x82";	/* Нет */
	render_ok(&uigw_profile_ussd, &in, &out);
	assert_fits(&uigw_profile_ussd, &out);
	assert_int_equal(out.n_pages, 2);
	assert_int_equal(out.coding, UIGW_CODING_GSM7);
	assert_string_equal(out.text, talloc_asprintf(tmp, "Sure?\n1. Yes\n0. %s\n00. More", footer[0].label));
	talloc_free(out.text);
	in.page = 1;
	render_ok(&uigw_profile_ussd, &in, &out);
	assert_fits(&uigw_profile_ussd, &out);
	assert_int_equal(out.coding, UIGW_CODING_UCS2);
	assert_int_equal(out.units, 78);
	assert_string_equal(out.text, talloc_asprintf(tmp, "2. \xd0\x9d\xd0\xb5\xd1\x82\n0. %s", footer[0].label));
	talloc_free(out.text);
}

static void test_invalid(void **state)
{
	struct uigw_render_item items[] = { { "1", "ok" }, { "2", "bad \xc3" } };
	struct uigw_render_in in = { .header = "Hi", .items = items, .n_items = 2, .more = { "00", "More" } };
	struct uigw_render_out out;

	assert_int_equal(uigw_render(ctx, &uigw_profile_ussd, &in, &out), -EINVAL);
	assert_null(out.text);
	in.n_items = 1;
	in.header = "\xed\xa0\x80";
	assert_int_equal(uigw_render(ctx, &uigw_profile_ussd, &in, &out), -EINVAL);
	assert_int_equal(uigw_render(ctx, NULL, &in, &out), -EINVAL);
	assert_int_equal(uigw_render(ctx, &uigw_profile_ussd, NULL, &out), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_profiles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ussd_gsm7_boundary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ussd_ext_boundary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ussd_ucs2_boundary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sms_parts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ims_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_menu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_item, setup, teardown),
		cmocka_unit_test_setup_teardown(test_small_screens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_footer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
