#!/bin/sh
# The store's disk fills under load and is freed again (issue 19): the database lives on a small tmpfs in a
# private mount namespace; the load SMSC of contrib/bench (smpp_load) offers two-step SMS dialogs at a steady rate
# while a filler file takes every free byte for a few seconds. Checks:
#  - while the disk is full, no dialog goes unanswered: each is served or refused explicitly (deliver_sm_resp
#    ESME_RTHROTTLED, smpp overload-response throttled: the SMSC keeps the message; counted at the SMSC), and
#    with overload-response busy-screen (a second run) each refused one gets the busy text; the gateway logs
#    that the store fails and, later, that it works again;
#  - from 5 s after the space returns, >= 99 % of the dialogs are served;
#  - every dialog served is in the database (its answer committed), no answer twice, PRAGMA integrity_check ok;
#  - the WAL is checkpointed and truncated: the -wal file ends below the configured bound (wal-max-size 4);
#  - the gateway stops cleanly afterwards.
# Needs root (mount and network namespaces); skips (77) otherwise.
set -u
srcdir=$(cd "$(dirname "$0")" && pwd)
top_builddir=${top_builddir:-$(cd "$srcdir/../.." && pwd)}
top_srcdir=${top_srcdir:-$(cd "$srcdir/../.." && pwd)}
if [ -z "${UIGW_DISK_FULL_NS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for a tmpfs in a mount namespace"; exit 77; }
	export top_builddir top_srcdir
	# both ways of refusing an SMS while the store fails, each in namespaces of its own
	rc=0
	out=$(mktemp /tmp/uigw-diskfull-out.XXXXXX)
	summary=""
	for mode in throttled busy-screen; do
		echo "=== smpp overload-response $mode"
		env UIGW_DISK_FULL_NS=1 OVERLOAD_RESPONSE=$mode timeout 120 unshare -m -n --propagation private \
			sh "$0" "$@" >"$out" 2>&1
		r=$?
		cat "$out"
		if [ $r -ne 0 ]; then
			rc=1
			summary="$summary
$mode: exit $r
$(grep '^FAIL' "$out")"
		fi
	done
	rm -f "$out"
	# what failed, last, where a log's tail shows it
	[ $rc -eq 0 ] || echo "=== failed:$summary"
	exit $rc
fi
. "$top_srcdir/tests/lib.sh"
ip link set lo up
load="$top_builddir/contrib/bench/smpp_load"
[ -x "$load" ] || { echo "FAIL: no $load"; exit 1; }
RATE=${RATE:-400}	# dialog steps/s: RATE/2 new dialogs a second
SECS=${SECS:-18}
FILL_AT=${FILL_AT:-4}	# seconds after the load starts
FREE_AT=${FREE_AT:-9}
SMSC=42940

tmp=$(mktemp -d /tmp/uigw-diskfull.XXXXXX)
mkdir -p "$tmp/db" "$tmp/campaigns"
mount -t tmpfs -o size=16m,mode=0700 uigw-diskfull "$tmp/db" || { echo "FAIL: cannot mount a tmpfs"; exit 1; }
gw=""
lp=""
cleanup() {
	[ -n "$gw" ] && kill "$gw" 2>/dev/null
	[ -n "$lp" ] && kill "$lp" 2>/dev/null
	sleep 0.3
	umount "$tmp/db" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
rc=0
fail() {
	echo "FAIL: $*"
	rc=1
}

cat >"$tmp/campaigns/rate.conf" <<'C'
name = "rate";
title = { en = "Rate"; };
languages = ["en"];
entry = { sms = ( { short_code = "7791"; keywords = ["RATE"]; } ); };
nodes = (
  { id = "rate"; type = "rating"; question = "call_quality"; scale = 5; text = { en = "How was your last call? 1-5"; };
    next = "thanks"; },
  { id = "thanks"; type = "info"; text = { en = "Thanks, noted."; }; }
);
C
{
	uigw_log_cfg store info
	cat <<CFG
line vty
 bind 127.0.0.1 42948
uigw
 campaigns-dir $tmp/campaigns
 pseudonym-secret disk-full-test-secret
 busy-text Busy now, please try again later.
store
 path $tmp/db/uigw.db
 wal-max-size 4
gsup
 disable
smpp
 overload-response $OVERLOAD_RESPONSE
 timer reconnect 100
 smsc load
  remote-ip 127.0.0.1
  remote-port $SMSC
  system-id uigw
  password uigw
  window 512
  enquire-interval 30
CFG
} >"$tmp/gw.cfg"

SMPP_LOAD_EXPECT="Thanks, noted." SMPP_LOAD_BUSY="Busy now" SMPP_LOAD_TIMELINE="$tmp/timeline" \
	SMPP_LOAD_T0="$tmp/t0" "$load" $SMSC "$RATE" "$SECS" 1 7791 RATE 4 8 >"$tmp/load.out" 2>"$tmp/load.err" &
lp=$!
sleep 0.3
"$UIGW_BIN" -c "$tmp/gw.cfg" -C 42949 >"$tmp/gw.log" 2>&1 &
gw=$!

i=0
until [ -e "$tmp/t0" ] || [ $i -gt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ -e "$tmp/t0" ] || { echo "FAIL: the load did not start"; cat "$tmp/load.err" "$tmp/gw.log"; exit 1; }
sleep "$FILL_AT"
dd if=/dev/zero of="$tmp/db/filler" bs=64k 2>/dev/null
echo "disk full at ${FILL_AT} s: $(df -k "$tmp/db" | tail -1)"
sleep $((FREE_AT - FILL_AT))
rm -f "$tmp/db/filler"
echo "space back at ${FREE_AT} s: $(df -k "$tmp/db" | tail -1)"
i=0
while kill -0 "$lp" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
lp=""
cat "$tmp/load.out"
if ! kill -0 "$gw" 2>/dev/null; then
	# it died under the load: what it said last (a sanitizer's report, an assertion) is the finding
	wait "$gw"
	fail "the gateway died during the load (exit status $?: 128 + a signal's number); the end of its log:"
	tail -c 6000 "$tmp/gw.log" | cat -v
	gw=""
fi
echo "second started served busy other"
cat "$tmp/timeline"
uigw_vty 42948 "show store" | sed -n '/show store/,$p' >"$tmp/show-store"
cat "$tmp/show-store"
# the timer's checkpoint truncates a WAL past the bound at the latest checkpoint-interval (1 s) after the last
# commit: give it up to 3 s (a loaded machine)
i=0
while :; do
	wal=$(stat -c %s "$tmp/db/uigw.db-wal" 2>/dev/null || echo 0)
	[ "$wal" -le $((4 * 1048576 + 65536)) ] || [ $i -ge 30 ] && break
	sleep 0.1
	i=$((i + 1))
done
echo "WAL file at the end of the load: $wal bytes (after $((i * 100)) ms)"

# the SMSC's view: nobody without an answer, the refusals explicit, service back after the space returned
awk -v fill="$FILL_AT" -v free="$FREE_AT" '
	{ started += $2; served += $3; busy += $4; other += $5 }
	$1 >= fill && $1 < free { f_busy += $4 }
	$1 >= free + 2 && $2 > 0 { a_started += $2; a_served += $3 }
	$1 >= free && $2 > 0 && $3 >= 0.99 * $2 && !back { back = $1 }
	END {
		printf "dialogs %d: served %d, busy %d, neither %d\n", started, served, busy, other
		printf "from second %d (2 s after the space returned): %d of %d served; >= 99 %% again from second %d\n",
			free + 2, a_served, a_started, back
		bad = 0
		if (other) { print "FAIL: " other " dialogs neither served nor refused"; bad = 1 }
		if (!f_busy) { print "FAIL: no dialog got the busy text while the disk was full"; bad = 1 }
		if (!a_started || a_served < 0.99 * a_started) { print "FAIL: fewer than 99 % served after the space returned"; bad = 1 }
		if (!back || back > free + 5) { print "FAIL: not back to 99 % within 5 s"; bad = 1 }
		exit bad
	}' "$tmp/timeline" || rc=1
served=$(awk '{ s += $3 } END { print s }' "$tmp/timeline")
grep -q "Failures: [1-9]" "$tmp/show-store" || fail "show store counts no failure: the disk never filled?"
grep -q "FAILING" "$tmp/show-store" && fail "the store still fails after the space returned"
[ "$wal" -le $((4 * 1048576 + 65536)) ] || fail "the WAL file is $wal bytes, past wal-max-size 4"

if [ -n "$gw" ]; then
	kill "$gw"
	i=0
	while kill -0 "$gw" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	kill -0 "$gw" 2>/dev/null && fail "the gateway did not stop within 10 s"
	gw=""
fi
grep -q "fails to commit" "$tmp/gw.log" || fail "no log line when the store began to fail"
grep -q "commits again after" "$tmp/gw.log" || fail "no log line when it worked again"
grep -a "fails to commit\|commits again" "$tmp/gw.log"

# the database: every dialog served has its answer, once; intact
python3 - "$tmp/db/uigw.db" "$served" <<'PY' || rc=1
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
served = int(sys.argv[2])
ok = db.execute("PRAGMA integrity_check").fetchone()[0]
answers = db.execute("SELECT count(*) FROM response WHERE question = 'call_quality'").fetchone()[0]
dups = db.execute("SELECT count(*) FROM (SELECT dialog FROM response GROUP BY dialog, question"
                  " HAVING count(*) > 1)").fetchone()[0]
subs = db.execute("SELECT count(DISTINCT subscriber) FROM response").fetchone()[0]
completed = db.execute("SELECT count(*) FROM dialog WHERE outcome = 'completed'").fetchone()[0]
print(f"database: integrity_check {ok}; {answers} answers for {served} dialogs served, {subs} subscribers, "
      f"{dups} answered twice, {completed} dialog rows completed")
bad = ok != "ok" or answers != served or dups or subs != served or completed != served
if bad:
    print("FAIL: the database does not match what the SMSC saw")
sys.exit(1 if bad else 0)
PY
exit $rc
