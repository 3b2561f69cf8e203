#!/bin/sh
# The CTRL interface's bounds (framing, stalled messages) against the real daemon; see ctrl_limits.py.
srcdir=$(cd "$(dirname "$0")" && pwd)
top_builddir=${top_builddir:-$(cd "$srcdir/../.." && pwd)}
top_srcdir=${top_srcdir:-$(cd "$srcdir/../.." && pwd)}
. "$top_srcdir/tests/lib.sh"
exec timeout 120 python3 "$srcdir/ctrl_limits.py" --daemon "$UIGW_BIN" --top-srcdir "$top_srcdir"
