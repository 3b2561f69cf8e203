#!/bin/sh
# The results dashboard (/ui/) in Debian's headless Chromium (chromium, chromium-driver, python3-selenium), with
# answers seeded over SMS through node-smpp (tests/smpp) and the VTY test drive.
srcdir=$(cd "$(dirname "$0")" && pwd)
top_builddir=${top_builddir:-$(cd "$srcdir/../.." && pwd)}
top_srcdir=${top_srcdir:-$(cd "$srcdir/../.." && pwd)}
. "$top_srcdir/tests/lib.sh"
uigw_need_node_smpp "$top_srcdir/tests/smpp"
for t in chromium chromedriver; do
	command -v $t >/dev/null || { echo "FAIL: $t missing (contrib/deps.sh test: chromium chromium-driver)"; exit 1; }
done
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
"$PY" -c 'import selenium' 2>/dev/null || { echo "FAIL: python3-selenium missing (contrib/deps.sh test)"; exit 1; }
[ -f "$top_builddir/src/ui/chart.umd.js" ] || { echo "FAIL: $top_builddir/src/ui/chart.umd.js not built"; exit 1; }
# Chromium wants a writable home for its profile
HOME=$(mktemp -d /tmp/uigw-ui-home.XXXXXX)
export HOME
trap 'rm -rf "$HOME"' EXIT
timeout 300 "$PY" "$srcdir/ui_integration.py" --daemon "$UIGW_BIN" --top-srcdir "$top_srcdir" \
	--top-builddir "$top_builddir" ${UI_SCREENSHOT:+--screenshot "$UI_SCREENSHOT"}
