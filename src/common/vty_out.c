/*! \file vty_out.c
 *  Printing helpers every layer's VTY commands share. */

#include <string.h>
#include <osmocom/vty/vty.h>
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
