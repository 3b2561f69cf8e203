#!/bin/sh
# SMPP fault tests (burst with link drop, dialogs ended, THROTTLED, restart) against node-smpp (npm smpp@0.5.1, installed from package-lock.json into
# tests/smpp/node_modules on first use). Skips (77) only when node/npm are missing or the package cannot be fetched.
srcdir=$(cd "$(dirname "$0")" && pwd)
top_builddir=${top_builddir:-$(cd "$srcdir/../.." && pwd)}
top_srcdir=${top_srcdir:-$(cd "$srcdir/../.." && pwd)}
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "node/npm not installed (contrib/deps.sh test installs them): skipping"
	exit 77
fi
if [ ! -f "$srcdir/node_modules/smpp/package.json" ]; then
	if ! (cd "$srcdir" && timeout 300 npm ci --no-audit --no-fund >/dev/null 2>&1); then
		echo "cannot install npm smpp@0.5.1: skipping"
		exit 77
	fi
fi
exec timeout 300 python3 "$srcdir/smpp_faults.py" --daemon "$top_builddir/src/osmo-uigw/osmo-uigw" \
	--top-srcdir "$top_srcdir" --srcdir "$srcdir"
