#!/bin/sh
# A PostgreSQL server of the tests' own, from Debian's postgresql package, in a temporary folder: no TCP (a Unix
# socket in the folder), trust authentication for the superuser "uigw", nothing left running or installed.
#   pg_server.sh start DIR     initdb into DIR/data and start (DIR is made; as root the server runs as nobody)
#   pg_server.sh stop DIR      immediate stop (a crash as far as the clients can tell)
#   pg_server.sh restart DIR   start again after stop, same data
#   pg_server.sh conninfo DIR  the libpq connection string
# Each step is bounded in time; the server log is DIR/server.log.
set -eu
cmd=$1
dir=$2
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$pgbin/initdb" ] || { echo "pg_server.sh: no PostgreSQL server (Debian package postgresql-15)" >&2; exit 1; }
if [ "$(id -u)" = 0 ]; then
	as="runuser -u nobody --"
else
	as=""
fi
# the server's settings: small, local, fsync on (the durability the tests check is the server's own);
# UIGW_PG_OPTS adds more (the benchmark's larger buffers)
opts="-k $dir -c listen_addresses= -c dynamic_shared_memory_type=mmap -c max_connections=40 -c shared_buffers=32MB"
opts="$opts ${UIGW_PG_OPTS:-}"

pg_start() {
	if ! timeout 60 $as "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 50 -o "$opts" start >/dev/null; then
		tail -n 20 "$dir/server.log" >&2
		exit 1
	fi
}

case $cmd in
start)
	mkdir -p "$dir"
	[ -n "$as" ] && chown nobody "$dir"
	if ! timeout 120 $as "$pgbin/initdb" -D "$dir/data" -U uigw --auth=trust -E UTF8 --no-sync \
		--no-instructions >"$dir/initdb.log" 2>&1; then
		cat "$dir/initdb.log" >&2
		exit 1
	fi
	pg_start
	;;
restart)
	pg_start
	;;
stop)
	timeout 60 $as "$pgbin/pg_ctl" -D "$dir/data" -m immediate -w -t 50 stop >/dev/null 2>&1 || true
	;;
conninfo)
	echo "host=$dir user=uigw dbname=postgres"
	;;
*)
	echo "usage: $0 start|stop|restart|conninfo DIR" >&2
	exit 2
	;;
esac
