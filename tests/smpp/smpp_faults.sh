#!/bin/sh
# SMPP fault tests (burst with link drop, dialogs ended, THROTTLED, restart) against node-smpp (npm smpp@0.5.1, installed from package-lock.json into
# tests/smpp/node_modules on first use). Skips (77) only when node/npm are missing or the package cannot be fetched.
srcdir=$(cd "$(dirname "$0")" && pwd)
top_builddir=${top_builddir:-$(cd "$srcdir/../.." && pwd)}
top_srcdir=${top_srcdir:-$(cd "$srcdir/../.." && pwd)}
. "$top_srcdir/tests/lib.sh"
uigw_need_node_smpp "$srcdir"
exec timeout 300 python3 "$srcdir/smpp_faults.py" --daemon "$UIGW_BIN" \
	--top-srcdir "$top_srcdir" --srcdir "$srcdir"
