/* cmocka tests of E.164 normalisation (src/common/number.c) and routing (src/core/router.c) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>
#include <osmocom/core/talloc.h>
#include <osmocom/uigw/common/number.h>
#include <osmocom/uigw/core/router.h>
#include <osmocom/uigw/core/campaign.h>

static void check(const char *in, const char *exp)
{
	char out[17];
	int rc = uigw_e164_normalize(in, "49", "0", out, sizeof(out));

	if (!exp) {
		assert_int_equal(rc, -EINVAL);
		return;
	}
	assert_int_equal(rc, 0);
	assert_string_equal(out, exp);
}

static void test_e164(void **state)
{
	check("+491720000123", "+491720000123");
	check("00491720000123", "+491720000123");
	check("01720000123", "+491720000123");
	check("0172 000 0123", "+491720000123");
	check("(0172) 000-0123", "+491720000123");
	check(" +44 20 7946 0958", "+442079460958");
	check("+123456789012345", "+123456789012345");	/* 15 digits */
	check("+1234567890123456", NULL);			/* 16 digits */
	check("+123456", NULL);					/* too short */
	check("1720000123", NULL);				/* neither national nor international */
	check("+49 172 abc", NULL);
	check("", NULL);
	check("+", NULL);
	check("+0491720000123", NULL);
	check("0", NULL);
}

static void test_e164_no_trunk_prefix(void **state)
{
	char out[17];

	assert_int_equal(uigw_e164_normalize("01720000123", "49", "", out, sizeof(out)), -EINVAL);
	assert_int_equal(uigw_e164_normalize("0044123456789", "49", NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "+44123456789");
	assert_int_equal(uigw_e164_normalize("+491720000123", "49", "0", out, 10), -EINVAL);
}

static void test_dial_string(void **state)
{
	assert_true(uigw_is_dial_string("*7726#"));
	assert_true(uigw_is_dial_string("#100#"));
	assert_true(uigw_is_dial_string("*7726*1#"));
	assert_false(uigw_is_dial_string("7726"));
	assert_false(uigw_is_dial_string("*7726"));
	assert_false(uigw_is_dial_string("#"));
	assert_false(uigw_is_dial_string("SPAM"));
	assert_false(uigw_is_dial_string(NULL));
}

static const char *camp_a =
	"name = \"spam\";\n"
	"entry = { ussd = [\"*7726#\"]; sms = ( { short_code = \"7726\"; keywords = [\"SPAM\", \"JUNK\"]; } );"
	" sip = [\"7726\"]; };\n"
	"nodes = ( { id = \"main\"; type = \"info\"; text = \"A\"; } );\n";
static const char *camp_b =
	"name = \"spamcheck\";\n"
	"entry = { ussd = [\"*7726*9#\"]; sms = ( { short_code = \"7726\"; keywords = [\"CHECK\"]; } ); };\n"
	"nodes = ( { id = \"main\"; type = \"info\"; text = \"B\"; } );\n";
static const char *camp_c =
	"name = \"survey\";\n"
	"entry = { ussd = [\"#100#\"]; sms = ( { short_code = \"7730\"; keywords = [\"SURVEY\"]; } ); };\n"
	"nodes = ( { id = \"main\"; type = \"info\"; text = \"C\"; } );\n";

static void test_route(void **state)
{
	void *ctx = talloc_named_const(NULL, 0, "test");
	struct uigw_campaign *c[3];
	struct uigw_campaign_set set = { .c = c, .n = 3 };
	struct uigw_route r;
	char err[256];

	assert_int_equal(uigw_campaign_load_string(ctx, camp_a, "a.conf", &c[0], err, sizeof(err)), 0);
	assert_int_equal(uigw_campaign_load_string(ctx, camp_b, "b.conf", &c[1], err, sizeof(err)), 0);
	assert_int_equal(uigw_campaign_load_string(ctx, camp_c, "c.conf", &c[2], err, sizeof(err)), 0);

	/* USSD: exact code, shortcut inputs, longest prefix wins */
	assert_int_equal(uigw_route(&set, UIGW_CHAN_GSUP, "*7726#", NULL, &r), 0);
	assert_ptr_equal(r.camp, c[0]);
	assert_int_equal(r.n_inputs, 0);
	assert_int_equal(uigw_route(&set, UIGW_CHAN_MAP, "*7726*1*+491720000999#", NULL, &r), 0);
	assert_ptr_equal(r.camp, c[0]);
	assert_int_equal(r.n_inputs, 2);
	assert_string_equal(r.inputs[0], "1");
	assert_string_equal(r.inputs[1], "+491720000999");
	assert_int_equal(uigw_route(&set, UIGW_CHAN_MAP, "*7726*9#", NULL, &r), 0);
	assert_ptr_equal(r.camp, c[1]);
	assert_int_equal(r.n_inputs, 0);
	assert_int_equal(uigw_route(&set, UIGW_CHAN_MAP, "*7726*9*3#", NULL, &r), 0);
	assert_ptr_equal(r.camp, c[1]);
	assert_int_equal(r.n_inputs, 1);
	assert_int_equal(uigw_route(&set, UIGW_CHAN_USSI, "#100#", NULL, &r), 0);
	assert_ptr_equal(r.camp, c[2]);
	assert_int_equal(uigw_route(&set, UIGW_CHAN_MAP, "*100#", NULL, &r), -ENOENT);
	assert_int_equal(uigw_route(&set, UIGW_CHAN_MAP, "*772#", NULL, &r), -ENOENT);
	assert_int_equal(uigw_route(&set, UIGW_CHAN_MAP, "*77261#", NULL, &r), -ENOENT);

	/* SMS: keyword and alias case-insensitive, rest is one input; short code must match */
	assert_int_equal(uigw_route(&set, UIGW_CHAN_SMPP_SMS, "spam", "7726", &r), 0);
	assert_ptr_equal(r.camp, c[0]);
	assert_int_equal(r.n_inputs, 0);
	assert_int_equal(uigw_route(&set, UIGW_CHAN_SMPP_SMS, " Junk  +49 172 0000999 ", "7726", &r), 0);
	assert_ptr_equal(r.camp, c[0]);
	assert_int_equal(r.n_inputs, 1);
	assert_string_equal(r.inputs[0], "+49 172 0000999");
	assert_int_equal(uigw_route(&set, UIGW_CHAN_SMPP_SMS, "CHECK", "7726", &r), 0);
	assert_ptr_equal(r.camp, c[1]);
	assert_int_equal(uigw_route(&set, UIGW_CHAN_SMPP_SMS, "SURVEY", "7726", &r), -ENOENT);
	/* a short code with one campaign needs no keyword */
	assert_int_equal(uigw_route(&set, UIGW_CHAN_SMPP_SMS, "hello", "7730", &r), 0);
	assert_ptr_equal(r.camp, c[2]);
	assert_int_equal(r.n_inputs, 1);
	/* SIP: user part, keyword optional */
	assert_int_equal(uigw_route(&set, UIGW_CHAN_IMS_MSG, "SPAM +491720000999", "7726", &r), 0);
	assert_ptr_equal(r.camp, c[0]);
	assert_int_equal(r.n_inputs, 1);
	assert_string_equal(r.inputs[0], "+491720000999");
	assert_int_equal(uigw_route(&set, UIGW_CHAN_IMS_MSG, "hi", "9999", &r), -ENOENT);
	assert_int_equal(uigw_route(NULL, UIGW_CHAN_MAP, "*7726#", NULL, &r), -ENOENT);

	talloc_free(c[0]);
	talloc_free(c[1]);
	talloc_free(c[2]);
	assert_int_equal(talloc_total_blocks(ctx), 1);
	talloc_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_e164),
		cmocka_unit_test(test_e164_no_trunk_prefix),
		cmocka_unit_test(test_dial_string),
		cmocka_unit_test(test_route),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
