/* libFuzzer target: builds a screen from the bytes and renders every page of it; aborts when a page does not
 * fit the budget of its coding, counts disagree, or the pages do not cover the options in order.
 *
 * Input: byte 0 profile (low 2 bits), sanitize flag (bit 2: make the strings valid UTF-8), byte 1 page,
 * byte 2 number of options, byte 3 number of footer lines; the rest is NUL-separated strings:
 * header, more key, more label, then key/label pairs of the options and the footer lines. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/application.h>
#include <osmocom/core/logging.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/render/render.h>

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define MAX_STR 64

static const struct uigw_profile *const profiles[] = {
	&uigw_profile_ussd, &uigw_profile_ussi, &uigw_profile_sms, &uigw_profile_ims,
};

/* replace every byte that is not part of valid UTF-8 by '?' */
static void sanitize(char *s, size_t len)
{
	size_t i = 0;
	uint32_t cp;
	int rc;

	while (i < len) {
		rc = uigw_utf8_next(s + i, len - i, &cp);
		if (rc < 0) {
			s[i++] = '?';
		} else {
			i += rc;
		}
	}
}

static void check_page(const struct uigw_profile *p, const struct uigw_render_in *in,
		       const struct uigw_render_out *out)
{
	size_t len = strlen(out->text);

	CHECK(uigw_utf8_valid(out->text, len));
	CHECK(out->page < out->n_pages);
	CHECK(out->first_item <= in->n_items && out->n_page_items <= in->n_items - out->first_item);
	switch (out->coding) {
	case UIGW_CODING_GSM7:
		CHECK(p->kind != UIGW_PROF_IMS);
		CHECK(uigw_gsm7_count(out->text, len) == (int)out->units);
		if (p->kind == UIGW_PROF_SMS)
			CHECK(out->units <= p->gsm7_budget || out->parts <= p->max_parts);
		else
			CHECK(out->units <= p->gsm7_budget);
		break;
	case UIGW_CODING_UCS2:
		CHECK(p->kind != UIGW_PROF_IMS);
		CHECK(uigw_gsm7_count(out->text, len) == -ERANGE);
		CHECK(uigw_ucs2_count(out->text, len) == (int)out->units);
		if (p->kind == UIGW_PROF_SMS)
			CHECK(out->units <= p->ucs2_budget || out->parts <= p->max_parts);
		else
			CHECK(out->units <= p->ucs2_budget);
		break;
	case UIGW_CODING_UTF8:
		CHECK(p->kind == UIGW_PROF_IMS);
		CHECK(out->units == len && len <= p->utf8_budget);
		break;
	default:
		abort();
	}
	CHECK(out->parts == (p->kind == UIGW_PROF_SMS ? uigw_sms_parts(p, out->text, out->coding) : 1));
	CHECK(out->parts >= 1 && out->parts <= p->max_parts);
}

/* the renderer logs what it cuts (a footer that cannot fit, a page cut): without a log target each such line went to
 * stderr, a third of the target's time on inputs that page a lot */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	osmo_init_logging2(talloc_named_const(NULL, 0, "fuzz_render"), &uigw_log_info);
	log_set_log_level(osmo_stderr_target, LOGL_FATAL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uigw_render_item items[16], footer[4];
	struct uigw_render_in in = { 0 };
	struct uigw_render_out out;
	const struct uigw_profile *p;
	char *buf, *strs[2 + 2 * 16 + 2 * 4 + 1];
	unsigned int n_strs = 0, i, next_item, n_pages;
	size_t pos, start;
	void *ctx;
	int rc;

	if (size < 4 || size > 8192)
		return 0;
	p = profiles[data[0] & 3];
	in.page = data[1];
	in.n_items = data[2] % 17;
	in.n_footer = data[3] % 5;

	ctx = talloc_named_const(NULL, 0, "fuzz_render");
	buf = talloc_size(ctx, size - 4 + 1);
	memcpy(buf, data + 4, size - 4);
	buf[size - 4] = '\0';
	if (data[0] & 4)
		sanitize(buf, size - 4);
	/* NUL-separated strings; missing ones are "" */
	for (pos = 0, start = 0; pos <= size - 4 && n_strs < sizeof(strs) / sizeof(strs[0]); pos++) {
		if (buf[pos] == '\0') {
			strs[n_strs++] = buf + start;
			start = pos + 1;
		}
	}
	while (n_strs < sizeof(strs) / sizeof(strs[0]))
		strs[n_strs++] = "";
	in.header = strs[0];
	in.more.key = strs[1];
	in.more.label = strs[2];
	for (i = 0; i < in.n_items; i++) {
		items[i].key = strs[3 + 2 * i];
		items[i].label = strs[4 + 2 * i];
	}
	for (i = 0; i < in.n_footer; i++) {
		footer[i].key = strs[35 + 2 * i];
		footer[i].label = strs[36 + 2 * i];
	}
	in.items = items;
	in.footer = footer;

	rc = uigw_render(ctx, p, &in, &out);
	if (rc < 0) {
		CHECK(rc == -EINVAL && !out.text);
		goto out;
	}
	check_page(p, &in, &out);
	CHECK(out.page == (in.page < out.n_pages ? in.page : out.n_pages - 1));
	n_pages = out.n_pages;
	talloc_free(out.text);

	/* every page: options in order, none lost, more line on all but the last */
	for (i = 0, next_item = 0; i < n_pages && i < 64; i++) {
		in.page = i;
		CHECK(uigw_render(ctx, p, &in, &out) == 0);
		check_page(p, &in, &out);
		CHECK(out.page == i && out.n_pages == n_pages);
		CHECK(out.first_item == next_item);
		CHECK(out.has_more == (i + 1 < n_pages));
		next_item += out.n_page_items;
		talloc_free(out.text);
	}
	if (n_pages <= 64)
		CHECK(next_item == in.n_items);
out:
	talloc_free(ctx);
	return 0;
}
