#!/bin/sh
# Build the independent TCAP/MAP test peer: asn1c compiles peer.asn (the subset written from Q.773 and
# TS 29.002) into OUT/gen, then map_peer.c is compiled against it and libosmo-sigtran. Nothing generated is
# kept in the source tree. Usage: build_peer.sh SRCDIR OUT  -> OUT/map_peer
set -e
src=$1
out=$2
mkdir -p "$out/gen"
# regenerate only when the ASN.1 or the peer changed
stamp="$out/map_peer.stamp"
sum=$(cat "$src/peer.asn" "$src/map_peer.c" "$0" | md5sum | cut -d' ' -f1)
if [ -x "$out/map_peer" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ]; then
	exit 0
fi
command -v asn1c >/dev/null || { echo "asn1c missing (contrib/deps.sh test installs it)" >&2; exit 1; }
rm -rf "$out/gen"
mkdir -p "$out/gen"
(cd "$out/gen" && asn1c -fcompound-names -pdu=TCMessage -pdu=DialoguePDU -pdu=MAP-DialoguePDU -pdu=USSD-Arg \
	-pdu=USSD-Res "$src/peer.asn" >asn1c.log 2>&1) || { cat "$out/gen/asn1c.log" >&2; exit 1; }
rm -f "$out/gen/converter-sample.c"
# shellcheck disable=SC2046
${CC:-cc} -O1 -w -I"$out/gen" -o "$out/map_peer" "$src/map_peer.c" "$out/gen"/*.c \
	$(pkg-config --cflags --libs libosmo-sigtran libosmo-netif libosmocore)
echo "$sum" >"$stamp"
