#!/bin/sh
# Webhooks: signed deliveries to a receiver the test runs, at least once across failures and kill -9.
# Debian's python3 runs it (standard library only).
srcdir=$(cd "$(dirname "$0")" && pwd)
top_builddir=${top_builddir:-$(cd "$srcdir/../.." && pwd)}
top_srcdir=${top_srcdir:-$(cd "$srcdir/../.." && pwd)}
. "$top_srcdir/tests/lib.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
exec timeout 300 "$PY" "$srcdir/webhook_integration.py" --daemon "$UIGW_BIN" --top-srcdir "$top_srcdir"
