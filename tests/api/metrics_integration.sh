#!/bin/sh
# GET /metrics: Debian's promtool checks the exposition, a real Prometheus (Debian's) scrapes the daemon. Debian's
# python3 runs it (standard library only).
srcdir=$(cd "$(dirname "$0")" && pwd)
top_builddir=${top_builddir:-$(cd "$srcdir/../.." && pwd)}
top_srcdir=${top_srcdir:-$(cd "$srcdir/../.." && pwd)}
. "$top_srcdir/tests/lib.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
for t in promtool prometheus; do
	command -v $t >/dev/null || { echo "FAIL: $t missing (contrib/deps.sh test: package prometheus)"; exit 1; }
done
exec timeout 300 "$PY" "$srcdir/metrics_integration.py" --daemon "$UIGW_BIN" --top-srcdir "$top_srcdir"
