#!/bin/sh
# The HTTP client with a DNS server that never answers (issue 19, found by the api fuzz target): a request cancelled
# and a client freed while a host name is being resolved must return at once, not after the resolver's timeout
# (libcurl's threaded resolver joins its thread unless CURLOPT_QUICK_EXIT). Runs http_client_test in private mount
# and network namespaces whose /etc/resolv.conf names 127.0.0.1:53, where a socket swallows every query.
# Root only (namespaces, a bind mount); skips (77) otherwise.
srcdir=$(cd "$(dirname "$0")" && pwd)
top_builddir=${top_builddir:-$(cd "$srcdir/.." && pwd)}
t="$top_builddir/tests/http_client_test"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
[ -x "$t" ] || { echo "FAIL: $t not built"; exit 1; }
[ -e /etc/resolv.conf ] || { echo "SKIP: no /etc/resolv.conf to mount over"; exit 77; }
command -v python3 >/dev/null || { echo "FAIL: python3 missing"; exit 1; }
tmp=$(mktemp -d /tmp/uigw-dns-stall.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
printf 'nameserver 127.0.0.1\noptions timeout:3 attempts:1\n' >"$tmp/resolv.conf"
UIGW_TEST_DNS_STALL=1 unshare -m -n --propagation private sh -c '
	ip link set lo up
	mount --bind "$1/resolv.conf" /etc/resolv.conf || { echo "FAIL: cannot mount over /etc/resolv.conf"; exit 1; }
	python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((\"127.0.0.1\", 53))
open(\"$1/ready\", \"w\").close()
t = time.time() + 60
while time.time() < t:
    s.settimeout(1)
    try:
        s.recv(512)
    except OSError:
        pass
" & dns=$!
	i=0; until [ -e "$1/ready" ] || [ $i -gt 50 ]; do sleep 0.1; i=$((i + 1)); done
	"$2"; rc=$?
	kill $dns 2>/dev/null
	exit $rc
' sh "$tmp" "$t"
