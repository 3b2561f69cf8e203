/* libFuzzer target: campaign files (src/core/campaign_load.c, src/core/campaign_tmpl.c). Any input must either load or be
 * refused with a message; nothing may crash, leak or read out of bounds. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <talloc.h>
#include <osmocom/uigw/core/campaign.h>

/* libconfig 1.5 (Debian 11/12) loses the value of a string token on some syntax errors ("e={\"\"" is enough):
 * the scanner's string buffer (strbuf_append, called from libconfig_yylex) is handed to the parser, which drops
 * it on the error without a destructor. Its bug, not a misuse: campaign_load.c calls config_destroy() on every
 * path, and config_read_string() has no other cleanup to call. A few bytes per refused file. Only allocations
 * made by its scanner are suppressed: the settings the parser builds, and everything of ours, are still
 * checked. Both names are exported symbols, so they match with any llvm-symbolizer (tests/fuzz/run.sh insists
 * on one: without it no suppression by name matches, which made this run fail at random on a fresh machine). */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\nleak:libconfig_yylex\n";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	void *ctx = talloc_named_const(NULL, 0, "fuzz_campaign");
	char *text = talloc_size(ctx, size + 1);
	struct uigw_campaign *c = NULL;
	char err[256];
	unsigned int i;

	if (!text)
		goto out;
	memcpy(text, data, size);
	text[size] = '\0';
	if (uigw_campaign_load_string(ctx, text, "fuzz.conf", &c, err, sizeof(err)) == 0) {
		/* walk what the engine walks: every index must be in range */
		for (i = 0; i < c->n_nodes; i++) {
			const struct uigw_node *n = &c->nodes[i];
			unsigned int j;

			if (n->next >= (int)c->n_nodes || n->yes >= (int)c->n_nodes || n->no >= (int)c->n_nodes)
				__builtin_trap();
			for (j = 0; j < n->n_options; j++)
				if (n->options[j].next >= (int)c->n_nodes || !n->options[j].key)
					__builtin_trap();
			if (!uigw_i18n_get(&n->text, "xx"))
				__builtin_trap();
		}
		if (c->start < 0 || c->start >= (int)c->n_nodes)
			__builtin_trap();
		uigw_campaign_put(c);
	}
out:
	talloc_free(ctx);
	return 0;
}
