#!/bin/sh
# Runs every VTY transcript in tests/vty/ against the real daemon, and the write-file round trip.
set -e
srcdir=$(cd "$(dirname "$0")" && pwd)
top_builddir=${top_builddir:-$(cd "$srcdir/.." && pwd)}
top_srcdir=${top_srcdir:-$(cd "$srcdir/.." && pwd)}
exec python3 "$srcdir/vty_transcript.py" --daemon "$top_builddir/src/osmo-uigw/osmo-uigw" --top-srcdir "$top_srcdir" \
	--srcdir "$srcdir" --port 42900 --ctrl-port 42901 --roundtrip --ctrl "$srcdir"/vty/*.vty
