#!/bin/sh
# HTTP API integration test: curl against the real daemon, whose dialogs are answered over SMS through node-smpp
# (tests/smpp/smsc.js); every response is validated against doc/api.yaml. Debian's python3 runs it, with
# python3-jsonschema and python3-yaml. Skips (77) only when node/npm are missing or node-smpp cannot be fetched.
srcdir=$(cd "$(dirname "$0")" && pwd)
top_builddir=${top_builddir:-$(cd "$srcdir/../.." && pwd)}
top_srcdir=${top_srcdir:-$(cd "$srcdir/../.." && pwd)}
. "$top_srcdir/tests/lib.sh"
uigw_need_node_smpp "$top_srcdir/tests/smpp"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
for t in curl sqlite3; do
	command -v $t >/dev/null || { echo "FAIL: $t missing (contrib/deps.sh test)"; exit 1; }
done
exec timeout 300 "$PY" "$srcdir/api_integration.py" --daemon "$UIGW_BIN" --top-srcdir "$top_srcdir"
