/* cmocka tests of the campaign loader: templates (src/core/campaign_tmpl.c), files (src/core/campaign_load.c) and sets
 * (src/core/campaign_set.c), including the sample campaigns of etc/campaigns. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <cmocka.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/application.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/campaign.h>

#define DATA TESTS_SRCDIR "/data/campaigns"

static void *ctx;

static int setup(void **state)
{
	ctx = talloc_named_const(NULL, 0, "campaign_test");
	*state = (void *)talloc_total_blocks(ctx);
	return 0;
}

/* every test frees what it allocated */
static int teardown(void **state)
{
	assert_int_equal(talloc_total_blocks(ctx), (size_t)*state);
	talloc_free(ctx);
	ctx = NULL;
	return 0;
}

/* The only segment-level view the tests need: "L:text|V:name|Q:func(arg)|Q:func("lit")" */
static const char *segs(const struct uigw_tmpl *t)
{
	static char buf[512];
	unsigned int i;
	size_t n = 0;

	buf[0] = '\0';
	for (i = 0; t && i < t->n_seg; i++) {
		const struct uigw_tmpl_seg *s = &t->seg[i];

		switch (s->kind) {
		case UIGW_SEG_LIT:
			n += snprintf(buf + n, sizeof(buf) - n, "%sL:%s", i ? "|" : "", s->text);
			break;
		case UIGW_SEG_VAR:
			n += snprintf(buf + n, sizeof(buf) - n, "%sV:%s", i ? "|" : "", s->text);
			break;
		case UIGW_SEG_QUERY:
			n += snprintf(buf + n, sizeof(buf) - n, s->arg_is_literal ? "%sQ:%s(\"%s\")" : "%sQ:%s(%s)",
				      i ? "|" : "", get_value_string(uigw_query_names, s->query), s->text);
			break;
		}
	}
	return buf;
}

/* Text of an i18n in a language, as its source */
static const char *txt(const struct uigw_i18n *t, const char *lang)
{
	const struct uigw_tmpl *tm = uigw_i18n_get(t, lang);

	return tm ? tm->src : NULL;
}

/*
 * Templates
 */

static void tmpl_ok(const char *src, const char *exp, unsigned int n_queries)
{
	struct uigw_tmpl *t;
	char err[128] = "";

	assert_int_equal(uigw_tmpl_compile(ctx, src, &t, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(t->src, src);
	assert_string_equal(segs(t), exp);
	assert_int_equal(t->n_queries, n_queries);
	talloc_free(t);
}

static void tmpl_bad(const char *src, const char *exp)
{
	struct uigw_tmpl *t = (void *)1;
	char err[128] = "";

	assert_int_equal(uigw_tmpl_compile(ctx, src, &t, err, sizeof(err)), -EINVAL);
	assert_null(t);
	assert_string_equal(err, exp);
}

static void test_tmpl(void **state)
{
	tmpl_ok("", "", 0);
	tmpl_ok("plain text", "L:plain text", 0);
	tmpl_ok("${a}", "V:a", 0);
	tmpl_ok("Hi ${name}, $$5 and 3$ ${likes(content)} ${flags(\"vid-1\")}$",
		"L:Hi |V:name|L:, $5 and 3$ |Q:likes(content)|L: |Q:flags(\"vid-1\")|L:$", 2);
	tmpl_ok("${ spam_reports( reported ) }!", "Q:spam_reports(reported)|L:!", 1);
	tmpl_ok("$${x}", "L:${x}", 0);
	tmpl_ok("Grüße ${x}", "L:Grüße |V:x", 0);
	tmpl_ok("${average(\"call_quality\")}${app_rating(app)}${app_ratings(app)}${answers(q)}${subscribers(c)}"
		"${dislikes(c)}",
		"Q:average(\"call_quality\")|Q:app_rating(app)|Q:app_ratings(app)|Q:answers(q)|Q:subscribers(c)|"
		"Q:dislikes(c)", 6);

	tmpl_bad("${", "unbalanced '${'");
	tmpl_bad("abc ${name", "unbalanced '${'");
	tmpl_bad("${likes(x", "unbalanced '${'");
	tmpl_bad("${likes(\"x)}", "unbalanced '${'");
	tmpl_bad("${}", "empty '${}'");
	tmpl_bad("${Name}", "bad character 'N' in '${...}'");
	tmpl_bad("${a b}", "bad character 'b' in '${...}'");
	tmpl_bad("${a-b}", "bad character '-' in '${...}'");
	tmpl_bad("${foo(x)}", "unknown function 'foo'");
	tmpl_bad("${likes()}", "empty argument of 'likes'");
	tmpl_bad("${likes(\"\")}", "empty argument of 'likes'");
	tmpl_bad("${likes(x)x}", "bad character 'x' in '${...}'");
	tmpl_bad("${likes(x y)}", "bad character 'y' in '${...}'");
	tmpl_bad("${\x01}", "bad character 0x01 in '${...}'");
	tmpl_bad("${abcdefghijabcdefghijabcdefghijabc}", "name 'abcdefghijabcdefghijabcdefghijab...' is too long");
	tmpl_bad("bad \xc3 utf-8", "not valid UTF-8");
	tmpl_bad("overlong \xc0\xaf", "not valid UTF-8");
}

/*
 * One file
 */

static const struct uigw_node *node(const struct uigw_campaign *c, const char *id)
{
	int i = uigw_campaign_node_idx(c, id);

	assert_true(i >= 0);
	return &c->nodes[i];
}

static void test_load_all_kinds(void **state)
{
	struct uigw_campaign *c;
	const struct uigw_node *n;
	const struct uigw_action *a;
	char err[256] = "";

	assert_int_equal(uigw_campaign_load_file(ctx, DATA "/all_kinds.conf", &c, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_ptr_equal(talloc_parent(c), ctx);
	assert_string_equal(c->name, "all-kinds");
	assert_string_equal(c->file, DATA "/all_kinds.conf");
	assert_int_equal(c->version, 0);
	assert_int_equal(c->refcount, 0);
	assert_true(c->content_hash != 0);
	assert_int_equal(c->n_languages, 2);
	assert_string_equal(c->languages[0], "en");
	assert_string_equal(c->languages[1], "de");
	assert_int_equal(c->channels, (1u << UIGW_CHAN_MAP) | (1u << UIGW_CHAN_USSI) | (1u << UIGW_CHAN_VTY));
	assert_true(c->network_only);
	assert_false(c->enabled);
	assert_string_equal(txt(&c->title, "de"), "Alle Arten");
	assert_string_equal(txt(&c->title, "fr"), "All kinds");

	/* entry points */
	assert_int_equal(c->entry.n_ussd, 3);
	assert_string_equal(c->entry.ussd[1], "*123*4#");
	assert_string_equal(c->entry.ussd[2], "#55#");
	assert_int_equal(c->entry.n_sms, 2);
	assert_string_equal(c->entry.sms[0].short_code, "1234");
	assert_int_equal(c->entry.sms[0].n_keywords, 2);
	assert_string_equal(c->entry.sms[0].keywords[0], "SPAM");
	assert_string_equal(c->entry.sms[0].keywords[1], "JUNK");
	assert_string_equal(c->entry.sms[1].short_code, "555");
	assert_int_equal(c->entry.sms[1].n_keywords, 0);
	assert_int_equal(c->entry.n_sip, 2);
	assert_string_equal(c->entry.sip[0], "test+1");
	assert_int_equal(c->entry.ussd_line, 9);
	assert_int_equal(c->entry.sms[1].line, 10);

	/* params and labels: unset labels stay empty (the engine has defaults) */
	assert_int_equal(c->n_params, 2);
	assert_string_equal(c->params[0].name, "content");
	assert_string_equal(c->params[0].def, "crs-default");
	assert_string_equal(txt(&c->labels.more, "de"), "Mehr");
	assert_string_equal(txt(&c->labels.goodbye, "de"), "Bye now.");
	assert_int_equal(c->labels.goodbye.n, 1);
	assert_null(uigw_i18n_get(&c->labels.back, "en"));
	assert_int_equal(c->labels.back.n, 0);

	/* nodes */
	assert_int_equal(c->n_nodes, 9);
	assert_int_equal(c->start, 1);
	assert_int_equal(uigw_campaign_node_idx(c, "nope"), -1);

	n = node(c, "first");
	assert_int_equal(n->kind, UIGW_NODE_INFO);
	assert_int_equal(n->next, 1);
	assert_false(n->record);

	n = node(c, "main");
	assert_int_equal(n->kind, UIGW_NODE_MENU);
	assert_false(n->record);
	assert_int_equal(n->next, -1);
	assert_string_equal(segs(uigw_i18n_get(&n->text, "en")), "L:Main |V:msisdn");
	assert_string_equal(txt(&n->text, "de"), "Haupt");
	assert_string_equal(txt(&n->text, NULL), "Main ${msisdn}");
	assert_int_equal(n->n_options, 3);
	assert_string_equal(n->options[0].key, "1");
	assert_string_equal(n->options[0].value, "1");
	assert_int_equal(n->options[0].next, uigw_campaign_node_idx(c, "number"));
	assert_int_equal(n->options[0].n_actions, 0);
	assert_string_equal(txt(&n->options[1].label, "de"), "Prüfen");
	assert_string_equal(txt(&n->options[1].label, "en"), "Check");
	assert_string_equal(txt(&n->options[0].label, "de"), "Report a number");	/* fallback */
	assert_int_equal(n->options[1].n_actions, 1);
	a = &n->options[1].actions[0];
	assert_int_equal(a->kind, UIGW_ACT_REACTION);
	assert_int_equal(a->reaction, UIGW_REACT_SUBSCRIBE);
	assert_string_equal(segs(a->subject), "V:content");
	assert_null(a->value);
	assert_int_equal(a->line, 21);
	assert_string_equal(n->options[2].key, "*9");
	assert_int_equal(n->options[2].next, -1);
	a = &n->options[2].actions[0];
	assert_int_equal(a->kind, UIGW_ACT_JUMP);
	assert_string_equal(segs(a->subject), "L:other");

	n = node(c, "number");
	assert_int_equal(n->kind, UIGW_NODE_NUMBER);
	assert_string_equal(n->var, "reported");
	assert_string_equal(n->question, "number");
	assert_true(n->record);
	assert_int_equal(n->next, uigw_campaign_node_idx(c, "confirm"));

	n = node(c, "confirm");
	assert_int_equal(n->kind, UIGW_NODE_YESNO);
	assert_false(n->record);
	assert_string_equal(n->var, "confirm");
	assert_int_equal(n->next, -1);
	assert_int_equal(n->yes, uigw_campaign_node_idx(c, "done"));
	assert_int_equal(n->no, 1);
	assert_string_equal(segs(uigw_i18n_get(&n->text, "de")),
			    "L:Report |V:reported|L:? |Q:spam_reports(reported)|L: users did.");
	assert_int_equal(uigw_i18n_get(&n->text, "de")->n_queries, 1);

	n = node(c, "done");
	assert_int_equal(n->kind, UIGW_NODE_INFO);
	assert_int_equal(n->next, -1);
	assert_string_equal(segs(uigw_i18n_get(&n->text, "en")), "L:Thanks. $|V:reported");
	assert_int_equal(n->n_actions, 4);
	assert_int_equal(n->actions[0].kind, UIGW_ACT_SPAM_REPORT);
	assert_string_equal(segs(n->actions[0].subject), "V:reported");
	assert_int_equal(n->actions[1].kind, UIGW_ACT_FLAG);
	assert_string_equal(segs(n->actions[1].subject), "V:content");
	assert_string_equal(segs(n->actions[1].value), "L:spam");
	assert_null(n->actions[2].value);
	assert_int_equal(n->actions[3].kind, UIGW_ACT_OPTOUT);
	assert_null(n->actions[3].subject);
	assert_int_equal(n->actions[3].text.n, 0);

	n = node(c, "q");
	assert_int_equal(n->kind, UIGW_NODE_RATING);
	assert_int_equal(n->scale, 3);
	assert_true(n->record);
	assert_string_equal(n->question, "call_quality");
	assert_non_null(n->scale_labels);
	assert_string_equal(txt(&n->scale_labels[0], "de"), "Bad");
	assert_string_equal(txt(&n->scale_labels[1], "de"), "Gut");
	assert_string_equal(txt(&n->scale_labels[2], "en"), "Great");
	assert_int_equal(n->n_options, 0);
	assert_int_equal(n->actions[0].kind, UIGW_ACT_APP_RATING);
	assert_string_equal(segs(n->actions[0].subject), "V:app");
	assert_string_equal(segs(n->actions[0].value), "V:q");
	assert_int_equal(n->actions[1].kind, UIGW_ACT_RECORD);
	assert_string_equal(segs(n->actions[1].subject), "L:extra");
	assert_string_equal(segs(n->actions[1].value), "V:answer|L:!");

	n = node(c, "t");
	assert_int_equal(n->kind, UIGW_NODE_TEXT);
	assert_int_equal(n->max_len, 120);
	assert_string_equal(segs(uigw_i18n_get(&n->text, "en")), "L:Any comment? |Q:average(\"call_quality\")");

	n = node(c, "c");
	assert_int_equal(n->kind, UIGW_NODE_CHOICE);
	assert_true(n->record);
	assert_int_equal(n->next, -1);
	assert_string_equal(n->options[0].value, "a");
	assert_string_equal(n->options[1].value, "2");
	assert_int_equal(n->options[0].next, -1);
	assert_int_equal(n->options[1].next, uigw_campaign_node_idx(c, "end"));

	n = node(c, "end");
	a = &n->actions[0];
	assert_int_equal(a->kind, UIGW_ACT_OFFER);
	assert_string_equal(segs(a->subject), "L:call-summary");
	assert_string_equal(segs(a->value), "L:https://x.example/|V:app");
	assert_string_equal(txt(&a->text, "de"), "Probieren");
	assert_string_equal(a->text.v[0].lang, "en");

	/* a fresh campaign is freed by a put too */
	uigw_campaign_put(c);
}

static void test_defaults(void **state)
{
	const char *text =
		"name = \"d\";\n"
		"nodes = (\n"
		"  { id = \"r\"; type = \"rating\"; text = \"Rate\"; },\n"
		"  { id = \"t\"; type = \"text\"; text = \"Say\"; next = \"r\"; },\n"
		"  { id = \"m\"; type = \"menu\"; text = \"M\"; next = \"t\";\n"
		"    options = ( { key = \"5\"; label = \"x\"; } ); }\n"
		");\n";
	struct uigw_campaign *c, *c2;
	char err[256] = "";

	assert_int_equal(uigw_campaign_load_string(ctx, text, "d.conf", &c, err, sizeof(err)), 0);
	assert_string_equal(c->file, "d.conf");
	assert_int_equal(c->n_languages, 1);
	assert_string_equal(c->languages[0], "en");
	assert_int_equal(c->channels, UIGW_CHAN_MASK_ALL);
	assert_false(c->network_only);
	assert_int_equal(c->roaming, UIGW_ROAM_GATEWAY);
	assert_true(c->enabled);
	assert_string_equal(txt(&c->title, "en"), "d");
	assert_int_equal(c->start, 0);
	assert_int_equal(c->entry.n_ussd + c->entry.n_sms + c->entry.n_sip, 0);
	assert_int_equal(c->nodes[0].scale, 5);
	assert_null(c->nodes[0].scale_labels);
	assert_int_equal(c->nodes[0].next, -1);
	assert_string_equal(c->nodes[0].var, "r");
	assert_string_equal(c->nodes[0].question, "r");
	assert_int_equal(c->nodes[1].max_len, 160);
	assert_int_equal(c->nodes[1].next, 0);
	assert_string_equal(c->nodes[2].options[0].value, "5");
	assert_int_equal(c->nodes[2].options[0].next, -1);	/* the node's next applies */

	/* the hash follows the bytes */
	assert_int_equal(uigw_campaign_load_string(ctx, text, "d.conf", &c2, err, sizeof(err)), 0);
	assert_true(c->content_hash == c2->content_hash);
	talloc_free(c2);
	assert_int_equal(uigw_campaign_load_string(ctx, "# changed\n", "d.conf", &c2, err, sizeof(err)), -EINVAL);
	assert_null(c2);
	talloc_free(c);
}

/* Bad files: the exact message of each. */
struct bad_case {
	const char *text;
	const char *msg;
};

#define N1 "name = \"t\";\n"
#define NODES(x) "nodes = (\n" x ");\n"

static const struct bad_case bad_cases[] = {
	{ N1 NODES("  { id = \"a\"; type = ; text = \"x\"; }\n"), "bad.conf:3: syntax error" },
	{ NODES("  { id = \"a\"; type = \"info\"; text = \"x\"; }\n"), "bad.conf:1: missing name" },
	{ "name = 5;\n", "bad.conf:1: name must be a string" },
	{ "name = \"Spam\";\n", "bad.conf:1: bad name 'Spam' (1..32 of a-z 0-9 _ -)" },
	{ N1, "bad.conf:1: missing nodes" },
	{ N1 "nodes = ();\n", "bad.conf:2: nodes is empty" },
	{ N1 "nodes = { a = 1; };\n", "bad.conf:2: nodes must be a list ( { ... }, ... )" },
	{ N1 NODES("  { id = \"a\"; type = \"infos\"; text = \"x\"; }\n"),
	  "bad.conf:3: node 'a': unknown node type 'infos'" },
	{ N1 NODES("  { id = \"a\"; text = \"x\"; }\n"), "bad.conf:3: node 'a': missing type" },
	{ N1 NODES("  { id = \"a\"; type = \"info\"; }\n"), "bad.conf:3: node 'a': missing text" },
	{ N1 NODES("  { type = \"info\"; text = \"x\"; }\n"), "bad.conf:3: node 1: missing id" },
	{ N1 NODES("  { id = \"a\"; type = \"info\"; text = \"x\"; },\n"
		   "  { id = \"a\"; type = \"info\"; text = \"y\"; }\n"),
	  "bad.conf:4: duplicate node id 'a'" },
	{ N1 NODES("  { id = \"a\"; type = \"info\"; text = \"x\"; next = \"b\"; }\n"),
	  "bad.conf:3: node 'a': next 'b' is not a node of this campaign" },
	{ N1 NODES("  { id = \"a\"; type = \"yesno\"; text = \"x\";\n    no = \"b\"; }\n"),
	  "bad.conf:4: node 'a': no 'b' is not a node of this campaign" },
	{ N1 "start = \"b\";\n" NODES("  { id = \"a\"; type = \"info\"; text = \"x\"; }\n"),
	  "bad.conf:2: start 'b' is not a node of this campaign" },
	{ N1 "entry = { sms = ( { short_code = \"7726\"; keywords = [\"X\"];\n start = \"b\"; } ); };\n"
	  NODES("  { id = \"a\"; type = \"info\"; text = \"x\"; }\n"),
	  "bad.conf:3: start 'b' is not a node of this campaign" },
	/* options */
	{ N1 NODES("  { id = \"m\"; type = \"menu\"; text = \"x\"; next = \"m\";\n"
		   "    options = ( { key = \"1\"; label = \"a\"; },\n"
		   	   "                { key = \"1\"; label = \"b\"; } ); }\n"),
	  "bad.conf:5: node 'm': duplicate option key '1'" },
	{ N1 NODES("  { id = \"m\"; type = \"menu\"; text = \"x\"; next = \"m\";\n"
		   "    options = ( { key = \"0\"; label = \"a\"; } ); }\n"),
	  "bad.conf:4: node 'm': option key '0' is reserved for navigation" },
	{ N1 NODES("  { id = \"m\"; type = \"choice\"; text = \"x\";\n"
		   "    options = ( { key = \"00\"; label = \"a\"; } ); }\n"),
	  "bad.conf:4: node 'm': option key '00' is reserved for navigation" },
	{ N1 NODES("  { id = \"m\"; type = \"choice\"; text = \"x\";\n"
		   "    options = ( { key = \"1#\"; label = \"a\"; } ); }\n"),
	  "bad.conf:4: node 'm': option key '1#' must be 1..3 of 0-9 and *" },
	{ N1 NODES("  { id = \"m\"; type = \"menu\"; text = \"x\";\n"
		   "    options = ( { key = \"1\"; label = \"a\"; } ); }\n"),
	  "bad.conf:4: node 'm': option '1': leads nowhere: set next or add a jump action" },
	{ N1 NODES("  { id = \"m\"; type = \"menu\"; text = \"x\"; }\n"),
	  "bad.conf:3: node 'm': a menu node needs options" },
	{ N1 NODES("  { id = \"m\"; type = \"choice\"; text = \"x\";\n    options = ( { key = \"1\"; } ); }\n"),
	  "bad.conf:4: node 'm': option '1': missing label" },
	{ N1 NODES("  { id = \"y\"; type = \"yesno\"; text = \"x\";\n"
		   "    options = ( { key = \"1\"; label = \"a\"; } ); }\n"),
	  "bad.conf:4: node 'y': options is only allowed on menu and choice nodes, not on yesno" },
	{ N1 NODES("  { id = \"y\"; type = \"info\"; text = \"x\"; record = true; }\n"),
	  "bad.conf:3: node 'y': record is only allowed on menu and question nodes, not on info" },
	/* rating */
	{ N1 NODES("  { id = \"r\"; type = \"rating\"; text = \"x\"; scale = 11; }\n"),
	  "bad.conf:3: node 'r': scale must be 2..10" },
	{ N1 NODES("  { id = \"r\"; type = \"rating\"; text = \"x\"; scale = \"5\"; }\n"),
	  "bad.conf:3: node 'r': scale must be a number" },
	{ N1 NODES("  { id = \"r\"; type = \"rating\"; text = \"x\"; scale = 3;\n    labels = [\"a\", \"b\"]; }\n"),
	  "bad.conf:4: node 'r': labels has 2 entries, scale is 3" },
	{ N1 NODES("  { id = \"r\"; type = \"rating\"; text = \"x\"; scale = 2;\n    labels = ( \"a\", [\"b\"] ); }\n"),
	  "bad.conf:4: node 'r': label 2 must be a string or a group of languages { en = \"...\"; }" },
	{ N1 NODES("  { id = \"t\"; type = \"text\"; text = \"x\"; max_len = 0; }\n"),
	  "bad.conf:3: node 't': max_len must be 1..1000" },
	/* unknown settings */
	{ N1 NODES("  { id = \"m\"; type = \"menu\"; text = \"x\";\n"
		   "    optoins = ( { key = \"1\"; label = \"a\"; } ); }\n"),
	  "bad.conf:4: node 'm': unknown setting 'optoins' (did you mean 'options'?)" },
	{ N1 "colour = \"red\";\n", "bad.conf:2: unknown setting 'colour'" },
	{ N1 NODES("  { id = \"m\"; type = \"choice\"; text = \"x\";\n"
		   "    options = ( { key = \"1\"; label = \"a\"; nxet = \"m\"; } ); }\n"),
	  "bad.conf:4: node 'm': option '1': unknown setting 'nxet' (did you mean 'next'?)" },
	/* templates */
	{ N1 NODES("  { id = \"a\"; type = \"info\"; text = \"${foo(x)}\"; }\n"),
	  "bad.conf:3: node 'a': text: unknown function 'foo'" },
	{ N1 NODES("  { id = \"a\"; type = \"info\"; text = \"${nobody}\"; }\n"),
	  "bad.conf:3: node 'a': text: unknown variable 'nobody'" },
	{ N1 NODES("  { id = \"a\"; type = \"info\"; text = \"${likes(nobody)}\"; }\n"),
	  "bad.conf:3: node 'a': text: unknown variable 'nobody'" },
	{ N1 NODES("  { id = \"a\"; type = \"info\"; text = \"Hello ${name\"; }\n"),
	  "bad.conf:3: node 'a': text: unbalanced '${'" },
	{ N1 "labels = { more = \"${x}\"; };\n" NODES("  { id = \"a\"; type = \"info\"; text = \"\"; }\n"),
	  "bad.conf:2: labels: more: unknown variable 'x'" },
	/* languages */
	{ N1 "languages = [\"en\", \"de\"];\n" NODES("  { id = \"a\"; type = \"info\";\n"
		   "    text = { de = \"x\"; }; }\n"),
	  "bad.conf:5: node 'a': text: missing the default language 'en'" },
	{ N1 NODES("  { id = \"a\"; type = \"info\";\n    text = { en = \"x\"; fr = \"y\"; }; }\n"),
	  "bad.conf:4: node 'a': text: language 'fr' is not in languages" },
	{ N1 "languages = [\"eng\"];\n", "bad.conf:2: bad language 'eng' (two lower-case letters: en, de, ...)" },
	/* entry points and channels */
	{ N1 "entry = { ussd = [\"7726#\"]; };\n", "bad.conf:2: bad USSD code '7726#' (like *7726# or *123*4#)" },
	{ N1 "entry = { ussd = [\"*77**26#\"]; };\n", "bad.conf:2: bad USSD code '*77**26#' (like *7726# or *123*4#)" },
	{ N1 "entry = {\n  sms = ( { short_code = 7726; } ); };\n", "bad.conf:3: short_code must be a string" },
	{ N1 "entry = {\n  sms = ( { short_code = \"7726\"; keywords = [\"SP AM\"]; } ); };\n",
	  "bad.conf:3: bad keyword 'SP AM' (1..20 of A-Z 0-9)" },
	{ N1 "entry = {\n"
		   "  sip = [\"a@b\"]; };\n",
	  "bad.conf:3: bad SIP user part 'a@b' (1..32 of A-Z a-z 0-9 + * # . _ -)" },
	{ N1 "entry = [\"*1#\"];\n", "bad.conf:2: entry must be a group { ... }" },
	{ N1 "channels = [\"map\", \"fax\"];\n", "bad.conf:2: unknown channel 'fax'" },
	{ N1 "network_only = 1;\n", "bad.conf:2: network_only must be true or false" },
	{ N1 "roaming = \"notice\";\n", "bad.conf:2: bad roaming 'notice' (allow, deny or notice-only)" },
	{ N1 "push_cap = 1;\n", "bad.conf:2: push_cap must be a group { count = N; per = SECONDS; }" },
	{ N1 "push_cap = { count = 1; };\n", "bad.conf:2: push_cap needs per (1..31536000 seconds)" },
	{ N1 "push_cap = { per = 60; };\n", "bad.conf:2: push_cap needs count (1..1000)" },
	{ N1 "push_cap = { count = 0; per = 60; };\n", "bad.conf:2: count must be 1..1000" },
	{ N1 "push_cap = { count = 1; per = 60; every = 2; };\n", "bad.conf:2: unknown setting 'every'" },
	/* owner, on_event */
	{ N1 "owner = \"operator\";\n", "bad.conf:2: bad owner 'operator' (a tenant name: 1..32 of a-z 0-9 _ -, not operator)" },
	{ N1 "owner = \"Big Corp\";\n", "bad.conf:2: bad owner 'Big Corp' (a tenant name: 1..32 of a-z 0-9 _ -, not operator)" },
	{ N1 "on_event = { type = \"x\"; };\n", "bad.conf:2: on_event must be a list ( { ... }, ... )" },
	{ N1 "on_event = ( { sample = 1; } );\n", "bad.conf:2: on_event needs a type (call-ended, crs-played, ...)" },
	{ N1 "on_event = ( { type = \"Call Ended\"; } );\n", "bad.conf:2: bad event type 'Call Ended' (1..32 of a-z 0-9 _ -)" },
	{ N1 "on_event = ( { type = \"x\"; sample = 1.5; } );\n", "bad.conf:2: sample must be a number from 0 to 1" },
	{ N1 "on_event = ( { type = \"x\"; min = { duration = \"10\"; }; } );\n",
	  "bad.conf:2: min: 'duration' must be a parameter name with a number" },
	{ N1 "on_event = ( { type = \"x\"; equals = { kind = 1; }; } );\n",
	  "bad.conf:2: equals: 'kind' must be a parameter name with a string" },
	{ N1 "on_event = ( { type = \"x\"; params = { caller = \"from\"; }; } );\n",
	  "bad.conf:2: params: the campaign declares no parameter 'caller'" },
	{ N1 "params = { caller = \"\"; };\non_event = ( { type = \"x\"; params = { caller = 5; }; } );\n",
	  "bad.conf:3: params: caller must name an event parameter (a string)" },
	{ N1 "on_event = ( { type = \"x\"; when = 1; } );\n", "bad.conf:2: unknown setting 'when'" },
	/* actions */
	{ N1 NODES("  { id = \"a\"; type = \"info\"; text = \"x\";\n    actions = ( { type = \"vote\"; } ); }\n"),
	  "bad.conf:4: node 'a': unknown action type 'vote'" },
	{ N1 NODES("  { id = \"a\"; type = \"info\"; text = \"x\";\n"
		   "    actions = ( { type = \"spam_report\"; } ); }\n"),
	  "bad.conf:4: node 'a': action 'spam_report': missing number" },
	{ N1 NODES("  { id = \"a\"; type = \"info\"; text = \"x\";\n"
		   "    actions = ( { type = \"reaction\"; reaction = \"love\"; content = \"c\"; } ); }\n"),
	  "bad.conf:4: node 'a': action 'reaction': reaction must be like, dislike or subscribe, not 'love'" },
	{ N1 NODES("  { id = \"a\"; type = \"info\"; text = \"x\";\n"
		   "    actions = ( { type = \"optout\"; number = \"1\"; } ); }\n"),
	  "bad.conf:4: node 'a': action 'optout': unknown setting 'number'" },
	{ N1 NODES("  { id = \"a\"; type = \"info\"; text = \"x\";\n"
		   "    actions = ( { type = \"jump\"; campaign = \"${x}\"; } ); }\n"),
	  "bad.conf:4: node 'a': action 'jump': bad campaign name '${x}'" },
	{ N1 NODES("  { id = \"a\"; type = \"info\"; text = \"x\";\n    actions = { type = \"optout\"; }; }\n"),
	  "bad.conf:4: node 'a': actions must be a list ( { ... }, ... )" },
	/* names of variables */
	{ N1 "params = { msisdn = \"x\"; };\n", "bad.conf:2: param 'msisdn' is a builtin variable" },
	{ N1 "params = { p = 1; };\n", "bad.conf:2: param p must be a string" },
	{ N1 NODES("  { id = \"answer\"; type = \"text\"; text = \"x\"; }\n"),
	  "bad.conf:3: node 'answer': var 'answer' is a builtin variable" },
	/* what the prescan refuses */
	{ "@include \"/etc/passwd\"\n", "bad.conf:1: @include is not allowed in campaign files" },
	{ N1 "# @include in a comment is fine, \"quotes\" too\nx = ((((((((((((((((((1))))))))))))))))));\n",
	  "bad.conf:3: nested too deep" },
};

static void test_bad(void **state)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		struct uigw_campaign *c = (void *)1;
		char err[256] = "";
		int rc = uigw_campaign_load_string(ctx, bad_cases[i].text, "bad.conf", &c, err, sizeof(err));

		if (rc != -EINVAL || strcmp(err, bad_cases[i].msg))
			fail_msg("case %u: rc %d '%s', expected '%s'", i, rc, err, bad_cases[i].msg);
		assert_null(c);
	}
}

static void test_bad_file(void **state)
{
	struct uigw_campaign *c;
	char err[256];

	assert_int_equal(uigw_campaign_load_file(ctx, DATA "/bad/syntax.conf", &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, DATA "/bad/syntax.conf:3: syntax error");
	assert_null(c);
	assert_int_equal(uigw_campaign_load_file(ctx, DATA "/bad/missing.conf", &c, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, DATA "/bad/missing.conf: cannot read: No such file or directory");
	assert_int_equal(uigw_campaign_load_file(ctx, DATA "/bad", &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, DATA "/bad: cannot read: not a regular file");
	/* no buffer for the message is fine */
	assert_int_equal(uigw_campaign_load_file(ctx, DATA "/bad/syntax.conf", &c, NULL, 0), -EINVAL);
}

static void test_too_big(void **state)
{
	size_t n = 1024 * 1024 + 10;
	char *big = talloc_size(ctx, n + 1);
	struct uigw_campaign *c;
	char err[128];

	memset(big, '#', n);
	big[n] = '\0';
	assert_int_equal(uigw_campaign_load_string(ctx, big, "big.conf", &c, err, sizeof(err)), -EFBIG);
	assert_string_equal(err, "big.conf: too big (more than 1048576 bytes)");
	talloc_free(big);
}

/*
 * Sets
 */

static void test_samples(void **state)
{
	struct uigw_campaign_set *set;
	struct uigw_campaign *c;
	const struct uigw_node *n;
	char err[256] = "";
	unsigned int i;

	assert_int_equal(uigw_campaign_set_load_dir(ctx, TOP_SRCDIR "/etc/campaigns", NULL, &set, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(set->n, 8);
	/* sorted by file name */
	assert_string_equal(set->c[0]->name, "callquality");
	assert_string_equal(set->c[7]->name, "survey");
	for (i = 0; i < set->n; i++) {
		assert_int_equal(set->c[i]->version, 1);
		assert_int_equal(set->c[i]->refcount, 1);
		assert_ptr_equal(talloc_parent(set->c[i]), ctx);
		assert_true(set->c[i]->enabled);
	}

	/* the network's events: who listens to what, with which parameters and conditions */
	c = uigw_campaign_set_find(set, "callquality");
	assert_int_equal(c->n_on_event, 1);
	assert_string_equal(c->on_event[0].type, "call-ended");
	assert_int_equal(c->on_event[0].n_min, 1);
	assert_string_equal(c->on_event[0].min[0].name, "duration");
	assert_true(c->on_event[0].min[0].min == 10);
	assert_true(c->on_event[0].sample == 1.0);
	c = uigw_campaign_set_find(set, "crs");
	assert_string_equal(c->on_event[0].type, "crs-played");
	assert_string_equal(c->on_event[0].map[0].param, "content");
	assert_string_equal(c->on_event[0].map[0].from, "content_id");
	c = uigw_campaign_set_find(set, "dcapp");
	assert_string_equal(c->on_event[0].type, "dc-app-closed");
	c = uigw_campaign_set_find(set, "spamcheck");
	assert_non_null(c);
	assert_true(c->network_only);
	assert_string_equal(c->on_event[0].type, "spam-suspected");
	assert_null(c->owner);

	/* the subscriber's settings: opt-outs of everything, of one campaign, and back in */
	c = uigw_campaign_set_find(set, "settings");
	assert_non_null(c);
	n = &c->nodes[c->start];
	assert_int_equal(n->n_options, 5);
	assert_int_equal(n->options[0].actions[0].kind, UIGW_ACT_OPTOUT);
	assert_int_equal(n->options[0].actions[0].scope, UIGW_SCOPE_ALL);
	assert_int_equal(n->options[1].actions[0].kind, UIGW_ACT_OPTOUT);
	assert_int_equal(n->options[1].actions[0].scope, UIGW_SCOPE_CAMPAIGN);
	assert_int_equal(n->options[4].actions[0].kind, UIGW_ACT_OPTIN);
	assert_int_equal(n->options[4].actions[0].scope, UIGW_SCOPE_ALL);

	/* charging: the spam reports are free */
	c = uigw_campaign_set_find(set, "spam");
	assert_true(c->zero_rated);
	assert_string_equal(c->charge_class, "free");
	assert_false(uigw_campaign_set_find(set, "survey")->zero_rated);

	c = uigw_campaign_set_find(set, "spam");
	assert_non_null(c);
	assert_int_equal(c->n_on_event, 0);
	assert_string_equal(c->file, TOP_SRCDIR "/etc/campaigns/spam.conf");
	assert_string_equal(c->entry.ussd[0], "*7726#");
	assert_string_equal(c->entry.sms[0].short_code, "7726");
	assert_string_equal(c->entry.sms[0].keywords[0], "SPAM");
	assert_string_equal(c->entry.sms[0].keywords[1], "JUNK");
	assert_string_equal(c->entry.sip[0], "7726");
	/* SMS entries that start at other nodes */
	assert_int_equal(c->entry.n_sms, 2);
	assert_string_equal(c->nodes[c->entry.sms[0].start].id, "number");
	assert_string_equal(c->nodes[c->entry.sms[1].start].id, "check");
	n = &c->nodes[c->start];
	assert_string_equal(n->id, "main");
	assert_int_equal(n->kind, UIGW_NODE_MENU);
	assert_string_equal(n->options[0].key, "1");
	n = &c->nodes[n->options[0].next];
	assert_int_equal(n->kind, UIGW_NODE_NUMBER);
	assert_string_equal(n->var, "reported");
	n = &c->nodes[n->next];
	assert_int_equal(n->kind, UIGW_NODE_YESNO);
	assert_string_equal(txt(&n->text, "de"),
			    "${reported} melden? Bisherige Meldungen: ${spam_reports(reported)}.");
	n = &c->nodes[n->yes];
	assert_int_equal(n->kind, UIGW_NODE_INFO);
	assert_int_equal(n->next, -1);
	assert_int_equal(n->n_actions, 1);
	assert_int_equal(n->actions[0].kind, UIGW_ACT_SPAM_REPORT);
	assert_string_equal(txt(&c->labels.yes, "de"), "Ja");

	c = uigw_campaign_set_find(set, "callquality");
	assert_int_equal(c->nodes[0].kind, UIGW_NODE_RATING);
	assert_string_equal(c->nodes[0].question, "call_quality");
	assert_string_equal(c->params[0].name, "caller");
	assert_string_equal(c->params[0].def, "");

	c = uigw_campaign_set_find(set, "crs");
	assert_int_equal(c->nodes[0].options[1].actions[0].reaction, UIGW_REACT_DISLIKE);

	c = uigw_campaign_set_find(set, "offer");
	assert_int_equal(c->nodes[0].options[0].actions[0].kind, UIGW_ACT_OFFER);
	assert_int_equal(c->nodes[0].options[2].actions[0].kind, UIGW_ACT_OPTOUT);

	assert_non_null(uigw_campaign_set_find(set, "dcapp"));
	assert_non_null(uigw_campaign_set_find(set, "survey"));
	assert_null(uigw_campaign_set_find(set, "nope"));
	assert_null(uigw_campaign_set_find(NULL, "spam"));
	uigw_campaign_set_free(set);
}

static void set_bad(const char *dir, int exp_rc, const char *exp_msg)
{
	struct uigw_campaign_set *set = (void *)1;
	size_t blocks = talloc_total_blocks(ctx);
	char err[512] = "";

	assert_int_equal(uigw_campaign_set_load_dir(ctx, dir, NULL, &set, err, sizeof(err)), exp_rc);
	assert_null(set);
	assert_string_equal(err, exp_msg);
	/* everything the failed load allocated is gone */
	assert_int_equal(talloc_total_blocks(ctx), blocks);
}

static void test_set_errors(void **state)
{
	set_bad(DATA "/set_dupname", -EEXIST,
		DATA "/set_dupname/b.conf:2: campaign name 'x' is also used by " DATA "/set_dupname/a.conf:1");
	set_bad(DATA "/set_dupentry", -EEXIST,
		DATA "/set_dupentry/b.conf:3: USSD code *101# is also used by " DATA "/set_dupentry/a.conf:3");
	set_bad(DATA "/set_dupsms", -EEXIST,
		DATA "/set_dupsms/b.conf:4: keyword TWO to 100 is also used by " DATA "/set_dupsms/a.conf:2");
	set_bad(DATA "/set_jump", -ENOENT,
		DATA "/set_jump/b.conf:4: node 'b': jump to unknown campaign 'nowhere'");
	set_bad(DATA "/set_badfile", -EINVAL,
		DATA "/set_badfile/b.conf:2: node 'b': text: unknown variable 'nobody'");
	set_bad(DATA "/no_such_dir", -ENOENT, DATA "/no_such_dir: cannot open folder: No such file or directory");
}

static char *write_file(void *tmp, const char *dir, const char *name, const char *text)
{
	char *path = talloc_asprintf(tmp, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

#define CAMP_A "name = \"a\";\nentry = { ussd = [\"*1#\"]; };\n" \
	"nodes = ( { id = \"a\"; type = \"info\"; text = \"A\"; } );\n"
#define CAMP_A2 "name = \"a\";\nentry = { ussd = [\"*1#\"]; };\n" \
	"nodes = ( { id = \"a\"; type = \"info\"; text = \"A2\"; } );\n"
#define CAMP_B "name = \"b\";\nnodes = ( { id = \"m\"; type = \"menu\"; text = \"B\";\n" \
	"  options = ( { key = \"1\"; label = \"to a\";\n" \
	"                actions = ( { type = \"jump\"; campaign = \"a\"; } ); } ); } );\n"

static void test_set_versions_refs(void **state)
{
	char dir[] = "/tmp/campaign_test.XXXXXX";
	struct uigw_campaign_set *s1, *s2, *s3, *s4;
	struct uigw_campaign *a1, *b1;
	char err[256] = "";
	void *tmp = talloc_named_const(NULL, 0, "paths");	/* not under ctx: teardown counts ctx's blocks */
	char *pa, *pb, *pc;

	assert_non_null(mkdtemp(dir));
	pa = write_file(tmp, dir, "a.conf", CAMP_A);
	pb = write_file(tmp, dir, "b.conf", CAMP_B);
	pc = write_file(tmp, dir, "c.txt", "not a campaign");

	assert_int_equal(uigw_campaign_set_load_dir(ctx, dir, NULL, &s1, err, sizeof(err)), 0);
	assert_int_equal(s1->n, 2);
	a1 = uigw_campaign_set_find(s1, "a");
	b1 = uigw_campaign_set_find(s1, "b");
	assert_int_equal(a1->version, 1);
	assert_int_equal(b1->version, 1);

	/* unchanged: same versions */
	assert_int_equal(uigw_campaign_set_load_dir(ctx, dir, s1, &s2, err, sizeof(err)), 0);
	assert_int_equal(uigw_campaign_set_find(s2, "a")->version, 1);
	assert_int_equal(uigw_campaign_set_find(s2, "b")->version, 1);
	assert_ptr_not_equal(uigw_campaign_set_find(s2, "a"), a1);

	/* a changed: +1, b stays */
	write_file(tmp, dir, "a.conf", CAMP_A2);
	assert_int_equal(uigw_campaign_set_load_dir(ctx, dir, s2, &s3, err, sizeof(err)), 0);
	assert_int_equal(uigw_campaign_set_find(s3, "a")->version, 2);
	assert_int_equal(uigw_campaign_set_find(s3, "b")->version, 1);
	/* and back: still a change against the set in service */
	write_file(tmp, dir, "a.conf", CAMP_A);
	assert_int_equal(uigw_campaign_set_load_dir(ctx, dir, s3, &s4, err, sizeof(err)), 0);
	assert_int_equal(uigw_campaign_set_find(s4, "a")->version, 3);

	/* a dialog holds a1: it survives its set and goes with the last put */
	uigw_campaign_get(a1);
	assert_int_equal(a1->refcount, 2);
	uigw_campaign_set_free(s1);
	assert_int_equal(a1->refcount, 1);
	assert_string_equal(a1->name, "a");
	assert_string_equal(a1->nodes[0].id, "a");
	uigw_campaign_put(a1);

	/* a refused reload leaves nothing behind */
	write_file(tmp, dir, "c.conf", CAMP_A);
	set_bad(dir, -EEXIST, talloc_asprintf(tmp, "%s/c.conf:1: campaign name 'a' is also used by %s/a.conf:1",
					      dir, dir));
	assert_int_equal(unlink(talloc_asprintf(tmp, "%s/c.conf", dir)), 0);

	uigw_campaign_set_free(s2);
	uigw_campaign_set_free(s3);
	uigw_campaign_set_free(s4);
	uigw_campaign_set_free(NULL);
	uigw_campaign_put(NULL);
	assert_int_equal(unlink(pa), 0);
	assert_int_equal(unlink(pb), 0);
	assert_int_equal(unlink(pc), 0);
	assert_int_equal(rmdir(dir), 0);
	talloc_free(tmp);
}

static void test_i18n_get(void **state)
{
	struct uigw_i18n empty = { 0 };

	assert_null(uigw_i18n_get(&empty, "en"));
	assert_null(uigw_i18n_get(NULL, "en"));
	assert_int_equal(uigw_campaign_node_idx(NULL, "a"), -1);
}

int main(void)
{
	void *log_ctx = talloc_named_const(NULL, 0, "log");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tmpl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_all_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_samples, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_versions_refs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_i18n_get, setup, teardown),
	};
	int rc;

	osmo_init_logging2(log_ctx, &uigw_log_info);
	log_set_print_filename2(osmo_stderr_target, LOG_FILENAME_NONE);
	log_set_category_filter(osmo_stderr_target, DCAMP, 1, LOGL_ERROR);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	log_fini();
	talloc_free(log_ctx);
	return rc;
}
