#!/bin/sh
# Install what osmo-uigw needs from Debian 12 (bookworm), only what is missing. Run as root.
# Usage: contrib/deps.sh [build|test]
set -e
BUILD="autoconf automake libtool make gcc pkg-config tzdata
	libosmocore-dev libosmo-sigtran-dev libosmo-netif-dev libosmo-gsup-client-dev libsmpp34-dev
	libsqlite3-dev libconfig-dev nettle-dev libtalloc-dev
	libosip2-dev libexpat1-dev libmicrohttpd-dev libjansson-dev libcurl4-gnutls-dev libpq-dev ca-certificates"
# netbase: /etc/protocols and /etc/services (kamailio cannot open TCP without them); llvm: llvm-symbolizer, without
# which sanitizer reports have no function names and the fuzz runs' leak suppressions cannot match;
# ca-certificates: npm fetches node-smpp over TLS; osmo-stp and asn1c: the STP and the TCAP/MAP peer of the map tests;
# curl, python3-jsonschema, python3-yaml, openssl: the API tests' client, their OpenAPI check, a TLS certificate;
# prometheus: promtool checks GET /metrics and a real Prometheus scrapes the daemon; chromium, chromium-driver,
# python3-selenium: the dashboard's test in a real browser; asciidoc-base, mscgen: the user manual as HTML, whose VTY
# reference make check compares with the binary. The build needs ca-certificates: npm fetches the
# dashboard's chart library over TLS. postgresql-15: the store tests start a PostgreSQL server of their own in a
# temporary folder (tests/pg_server.sh); libpq-dev: the PostgreSQL backend.
TEST="$BUILD libcmocka-dev clang libclang-rt-14-dev llvm python3 sqlite3 osmo-hlr tshark netcat-openbsd sip-tester
	kamailio netbase ca-certificates bzip2 iproute2 osmo-stp asn1c curl python3-jsonschema python3-yaml openssl
	prometheus chromium chromium-driver python3-selenium asciidoc-base mscgen postgresql-15"

case "${1:-build}" in
build) want="$BUILD" ;;
test) want="$TEST" ;;
*) echo "usage: $0 [build|test]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# node and npm (the node-smpp SMSC of the tests): any installation will do; Debian's packages only if there is
# none, since they conflict with a node that came with its own npm
# npm: the build fetches the dashboard's chart library (src/ui), the tests the SMPP test's SMSC
if ! { command -v node && command -v npm; } >/dev/null 2>&1; then
	missing="$missing nodejs npm"
fi
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "Missing Debian packages:$missing (run as root to install them)" >&2
		exit 1
	fi
	echo "Installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends $missing
fi
