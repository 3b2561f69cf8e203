/* Unit tests of the concatenated-SMS reassembly (src/codec/sms_concat.c): order, duplicates, keys, expiry, limits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <osmocom/core/talloc.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/codec/sms_concat.h>

static void *ctx;
static size_t blocks_before;

static int setup(void **state)
{
	ctx = talloc_named_const(NULL, 0, "concat_test");
	blocks_before = talloc_total_blocks(ctx);
	return 0;
}

static int teardown(void **state)
{
	assert_int_equal(talloc_total_blocks(ctx), blocks_before);
	talloc_free(ctx);
	return 0;
}

static int add(struct uigw_concat *c, const char *src, uint16_t ref, uint8_t total, uint8_t seq, uint8_t kind,
	       const char *text, time_t now, char *out, size_t out_size)
{
	struct uigw_concat_part p = {
		.src = src, .dst = "7730", .ref = ref, .total = total, .seq = seq, .kind = kind,
		.data = (const uint8_t *)text, .len = text ? strlen(text) : 0,
	};
	uint8_t *whole;
	size_t len;
	int rc = uigw_concat_add(c, &p, now, ctx, &whole, &len);

	if (rc == 1) {
		assert_non_null(whole);
		assert_true(len < out_size);
		memcpy(out, whole, len);
		out[len] = 0;
		talloc_free(whole);
	} else {
		assert_null(whole);
		assert_int_equal(len, 0);
	}
	return rc;
}

static void test_order_and_duplicates(void **state)
{
	struct uigw_concat *c = uigw_concat_alloc(ctx, 8, 60, DSMPP);
	char out[128];

	/* in order */
	assert_int_equal(add(c, "+491", 7, 2, 1, 0, "SUR", 100, out, sizeof(out)), 0);
	assert_int_equal(add(c, "+491", 7, 2, 2, 0, "VEY", 100, out, sizeof(out)), 1);
	assert_string_equal(out, "SURVEY");
	/* reverse order, a duplicate in between */
	assert_int_equal(add(c, "+491", 8, 3, 3, 0, "C", 100, out, sizeof(out)), 0);
	assert_int_equal(add(c, "+491", 8, 3, 3, 0, "X", 100, out, sizeof(out)), 0);
	assert_int_equal(add(c, "+491", 8, 3, 2, 0, "B", 101, out, sizeof(out)), 0);
	assert_int_equal(c->n_pending, 1);
	assert_int_equal(add(c, "+491", 8, 3, 1, 0, "A", 102, out, sizeof(out)), 1);
	assert_string_equal(out, "ABC");
	assert_int_equal(c->st.duplicates, 1);
	assert_int_equal(c->st.complete, 2);
	assert_int_equal(c->n_pending, 0);
	/* an empty part is a part */
	assert_int_equal(add(c, "+491", 9, 2, 1, 0, NULL, 100, out, sizeof(out)), 0);
	assert_int_equal(add(c, "+491", 9, 2, 2, 0, "Z", 100, out, sizeof(out)), 1);
	assert_string_equal(out, "Z");
	talloc_free(c);
}

static void test_keys(void **state)
{
	struct uigw_concat *c = uigw_concat_alloc(ctx, 8, 60, DSMPP);
	char out[128];

	/* same reference from two senders, and as UDH and SAR from one: four messages */
	assert_int_equal(add(c, "+491", 1, 2, 1, 0, "a1", 0, out, sizeof(out)), 0);
	assert_int_equal(add(c, "+492", 1, 2, 1, 0, "b1", 0, out, sizeof(out)), 0);
	assert_int_equal(add(c, "+491", 1, 2, 1, 1, "s1", 0, out, sizeof(out)), 0);
	assert_int_equal(add(c, "+491", 1, 3, 1, 0, "t1", 0, out, sizeof(out)), 0);
	assert_int_equal(c->n_pending, 4);
	assert_int_equal(add(c, "+492", 1, 2, 2, 0, "b2", 0, out, sizeof(out)), 1);
	assert_string_equal(out, "b1b2");
	assert_int_equal(add(c, "+491", 1, 2, 2, 1, "s2", 0, out, sizeof(out)), 1);
	assert_string_equal(out, "s1s2");
	assert_int_equal(add(c, "+491", 1, 2, 2, 0, "a2", 0, out, sizeof(out)), 1);
	assert_string_equal(out, "a1a2");
	assert_int_equal(c->n_pending, 1);
	talloc_free(c);
}

static void test_expiry_and_eviction(void **state)
{
	struct uigw_concat *c = uigw_concat_alloc(ctx, 2, 60, DSMPP);
	char out[128];

	assert_int_equal(add(c, "+491", 1, 2, 1, 0, "a", 1000, out, sizeof(out)), 0);
	/* within the timeout: kept */
	assert_int_equal(uigw_concat_expire(c, 1060), 0);
	/* past it: the missing part never comes, the late one starts a new message */
	assert_int_equal(uigw_concat_expire(c, 1061), 1);
	assert_int_equal(c->st.timed_out, 1);
	assert_int_equal(add(c, "+491", 1, 2, 2, 0, "b", 1062, out, sizeof(out)), 0);
	assert_int_equal(c->n_pending, 1);
	/* a clock set back drops nothing */
	assert_int_equal(uigw_concat_expire(c, 10), 0);
	/* too many pending: the oldest goes */
	assert_int_equal(add(c, "+492", 2, 2, 1, 0, "x", 1063, out, sizeof(out)), 0);
	assert_int_equal(add(c, "+493", 3, 2, 1, 0, "y", 1064, out, sizeof(out)), 0);
	assert_int_equal(c->st.evicted, 1);
	assert_int_equal(c->n_pending, 2);
	assert_int_equal(add(c, "+491", 1, 2, 1, 0, "a", 1065, out, sizeof(out)), 0);	/* evicted: new */
	assert_int_equal(c->st.evicted, 2);
	assert_int_equal(add(c, "+493", 3, 2, 2, 0, "z", 1066, out, sizeof(out)), 1);
	assert_string_equal(out, "yz");
	talloc_free(c);
}

static void test_invalid_and_limits(void **state)
{
	struct uigw_concat *c = uigw_concat_alloc(ctx, 4, 60, DSMPP);
	struct uigw_concat_part p = { .src = "+491", .dst = "7730", .ref = 1, .total = 255 };
	static uint8_t big[200];
	uint8_t *whole;
	size_t len;
	unsigned int i;
	char out[8];

	assert_int_equal(add(c, "+491", 1, 2, 0, 0, "a", 0, out, sizeof(out)), -EINVAL);
	assert_int_equal(add(c, "+491", 1, 2, 3, 0, "a", 0, out, sizeof(out)), -EINVAL);
	assert_int_equal(add(c, "+491", 1, 0, 1, 0, "a", 0, out, sizeof(out)), -EINVAL);
	assert_int_equal(uigw_concat_add(c, NULL, 0, ctx, &whole, &len), -EINVAL);
	p.seq = 1;
	assert_int_equal(uigw_concat_add(c, &p, 0, ctx, NULL, &len), -EINVAL);
	p.src = NULL;
	assert_int_equal(uigw_concat_add(c, &p, 0, ctx, &whole, &len), -EINVAL);
	assert_int_equal(c->n_pending, 0);
	/* 255 parts of 200 octets exceed the limit: the message is dropped, not kept growing */
	p.src = "+491";
	p.data = big;
	p.len = sizeof(big);
	for (i = 1; i <= 255; i++) {
		int rc;

		p.seq = i;
		rc = uigw_concat_add(c, &p, 0, ctx, &whole, &len);
		if (rc < 0) {
			assert_int_equal(rc, -EMSGSIZE);
			break;
		}
		assert_int_equal(rc, 0);
	}
	assert_true(i <= 255);
	assert_int_equal(c->n_pending, 0);
	/* 255 parts of 100 octets fit */
	p.len = 100;
	for (i = 1; i <= 255; i++) {
		p.seq = i;
		assert_int_equal(uigw_concat_add(c, &p, 0, ctx, &whole, &len), i == 255 ? 1 : 0);
	}
	assert_int_equal(len, 25500);
	talloc_free(whole);
	talloc_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order_and_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_and_eviction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_and_limits, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
