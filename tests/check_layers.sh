#!/bin/sh
# contrib/check-layers passes on the tree, and fails (naming the file and the layers) on copies of it where a
# core file includes a channel header, one channel includes another's, a codec includes the store, or a file
# reaches into another folder with a quoted include.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
chk="$top_srcdir/contrib/check-layers"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

if ! out=$("$chk" "$top_srcdir"); then
	echo "FAIL: the tree breaks its layers:"; echo "$out"; fail=1
else
	echo "ok: the tree keeps its layers"
fi

# copy the tree, add one bad line to FILE, expect check-layers to fail with PATTERN in its output
expect_violation() {
	file=$1 line=$2 pattern=$3
	rm -rf "$tmp/t"; mkdir -p "$tmp/t"
	cp -r "$top_srcdir/src" "$top_srcdir/include" "$tmp/t/"
	printf '%s\n' "$line" >>"$tmp/t/$file"
	if out=$("$chk" "$tmp/t"); then
		echo "FAIL: check-layers accepted $file with: $line"; fail=1
	elif ! printf '%s\n' "$out" | grep -q "$pattern"; then
		echo "FAIL: check-layers refused $file but said: $out"; fail=1
	else
		echo "ok: refused $file: $(printf '%s' "$out" | head -n 1)"
	fi
}

expect_violation src/core/dialog.c '#include <osmocom/uigw/chan/sip.h>' 'src/core/dialog.c: layer core includes <osmocom/uigw/chan/sip.h> of layer chan/sip above it'
expect_violation src/chan/smpp/smpp_sms.c '#include <osmocom/uigw/chan/sip.h>' 'peer layer chan/sip'
expect_violation src/codec/ber.c '#include <osmocom/uigw/store/store.h>' 'layer codec includes'
expect_violation src/store/store.c '#include <osmocom/uigw/render/render.h>' 'peer layer render'
expect_violation src/core/gw.c '#include "../chan/sip/sip_priv.h"' 'not a file of its own folder'
expect_violation include/osmocom/uigw/core/dialog.h '#include <osmocom/uigw/vty/vty.h>' 'layer core includes'

if [ "$fail" = 0 ]; then echo "check_layers: 7 passed, 0 failed"; fi
exit $fail
