#!/bin/sh
# The PostgreSQL backend's tests against a real server: tests/pg/pg_server.sh starts one in a temporary folder, the
# C test (store_pg_test) runs against it and restarts it in the middle of a load, then the store's unit tests
# (store_test, the file SQLite runs) run on it; the server is stopped at the end whatever happened.
set -eu
: "${top_srcdir:?}" "${top_builddir:=$top_srcdir}"
srv="$top_srcdir/tests/pg/pg_server.sh"
dir=$(mktemp -d /tmp/uigw-pg.XXXXXX)
chmod 755 "$dir"
cleanup() {
	sh "$srv" stop "$dir/srv" || true
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM
sh "$srv" start "$dir/srv"
UIGW_TEST_PG=$(sh "$srv" conninfo "$dir/srv")
UIGW_TEST_PG_SERVER="$srv"
UIGW_TEST_PG_DIR="$dir/srv"
export UIGW_TEST_PG UIGW_TEST_PG_SERVER UIGW_TEST_PG_DIR
"$top_builddir/tests/pg/store_pg_test"
# the store's unit tests, the same file as on SQLite
"$top_builddir/tests/store_test"
# two daemons on the database
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
timeout 300 "$PY" "$top_srcdir/tests/pg/pg_instances.py" --daemon "$top_builddir/src/osmo-uigw/osmo-uigw" \
	--top-srcdir "$top_srcdir" --conninfo "$UIGW_TEST_PG"
