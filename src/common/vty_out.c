/*! \file vty_out.c
 *  Printing helpers every layer's VTY commands share. */

#include <string.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>
#include <osmocom/uigw/common/vty_nodes.h>

void uigw_vty_out_lines(struct vty *vty, const char *text)
{
	const char *p = text, *nl;

	while ((nl = strchr(p, '\n'))) {
		vty_out(vty, "%.*s%s", (int)(nl - p), p, VTY_NEWLINE);
		p = nl + 1;
	}
	vty_out(vty, "%s%s", p, VTY_NEWLINE);
}

int uigw_vty_set_words(void *ctx, char **dst, int argc, const char **argv, int from)
{
	char *w = argv_concat(argv, argc, from);

	if (!w)
		return CMD_WARNING;
	osmo_talloc_replace_string(ctx, dst, w);
	talloc_free(w);
	return CMD_SUCCESS;
}
