#!/bin/bash
# GSUP integration test: the real osmo-hlr (Debian), the real osmo-uigw daemon and a test MSC (gsup_test_msc,
# a GSUP client). Scenarios: the spam-report menu stored in the feedback database, a UCS-2 menu, a full
# 182-character GSM 7-bit screen, the user aborting mid-menu (outcome abandoned), osmo-hlr restarted in the
# middle of a dialog (the gateway reconnects and the next dialog works), the refused push. With tshark (as
# root) the GSUP traffic is captured and checked: expected operations and strings, no malformed packets.
# Exit 77 (skip) only if osmo-hlr is not installed. Every process is stopped by its PID; every wait is bounded.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/lib.sh"
UIGW=$UIGW_BIN
MSC="$top_builddir/tests/gsup/gsup_test_msc"

if ! command -v osmo-hlr >/dev/null || ! command -v osmo-hlr-db-tool >/dev/null; then
	echo "SKIP: osmo-hlr is not installed (contrib/deps.sh test installs it)"
	exit 77
fi
for f in "$UIGW" "$MSC"; do
	[ -x "$f" ] || { echo "FAIL: $f not built (make check builds it)"; exit 1; }
done
for t in nc sqlite3; do
	command -v $t >/dev/null || { echo "FAIL: $t missing (contrib/deps.sh test)"; exit 1; }
done

T=$(mktemp -d /tmp/gsup_it.XXXXXX)
BASE=$((20000 + $$ % 20000))
HLR_VTY=$BASE
UIGW_VTY=$((BASE + 1))
UIGW_CTRL=$((BASE + 2))
HLR_PID=""
UIGW_PID=""
CAP_PID=""
fails=0

log() { echo "--- $*"; }
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

stop_pid() {	# PID: TERM, wait up to 5 s, then KILL
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

cleanup() {
	stop_pid "$UIGW_PID"
	stop_pid "$HLR_PID"
	stop_pid "$CAP_PID"
	if [ $fails -eq 0 ] && [ -z "${KEEP:-}" ]; then
		rm -rf "$T"
	else
		echo "logs kept in $T"
	fi
}
trap cleanup EXIT

wait_for() {	# FILE PATTERN SECONDS
	local i
	for i in $(seq $(($3 * 10))); do
		grep -aq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

port_busy() { nc -z 127.0.0.1 "$1" 2>/dev/null; }

vty() {	# PORT [enable] COMMANDS...: run commands on a VTY (tests/lib.sh), print the session
	local port=$1
	shift
	[ "${1:-}" = enable ] && shift
	uigw_vty "$port" "$@"
}

sql() { timeout 10 sqlite3 -cmd '.timeout 3000' "$T/uigw.db" "$1"; }

if port_busy 4222; then
	echo "FAIL: something already listens on 127.0.0.1:4222 (osmo-hlr's fixed GSUP port)"
	exit 1
fi

# --- configuration ------------------------------------------------------------------------------------------
mkdir -p "$T/campaigns"
cp "$top_srcdir"/etc/campaigns/*.conf "$top_srcdir"/tests/gsup/*.conf "$T/campaigns/"

cat >"$T/osmo-hlr.cfg" <<EOF
log stderr
 logging filter all 1
 logging color 0
 logging print category 1
 logging level ss debug
line vty
 bind 127.0.0.1 $HLR_VTY
ctrl
 bind 127.0.0.1
hlr
 subscriber-create-on-demand 5 cs+ps
 gsup
  bind ip 127.0.0.1
 ncss-guard-timeout 30
 euse uigw
 ussd route prefix *77 external uigw
 ussd route prefix *#101# internal own-imsi
EOF

cat >"$T/osmo-uigw.cfg" <<EOF
log stderr
 logging filter all 1
 logging color 0
 logging print category 1
 logging print level 1
 logging level set-all notice
 logging level gsup debug
 logging level dlg info
line vty
 bind 127.0.0.1 $UIGW_VTY
ctrl
 bind 127.0.0.1
uigw
 campaigns-dir $T/campaigns
 country-code 49
 national-prefix 0
 pseudonym-secret gsup-integration-test
 timer dialog X1 5
store
 path $T/uigw.db
gsup
 remote-ip 127.0.0.1
 remote-port 4222
 euse-name uigw
EOF

start_hlr() {
	osmo-hlr -c "$T/osmo-hlr.cfg" -l "$T/hlr.db" >>"$T/hlr.log" 2>&1 &
	HLR_PID=$!
	local i
	for i in $(seq 50); do
		port_busy 4222 && return 0
		kill -0 $HLR_PID 2>/dev/null || break
		sleep 0.1
	done
	echo "FAIL: osmo-hlr did not start"; tail -20 "$T/hlr.log"
	exit 1
}

# --- capture ------------------------------------------------------------------------------------------------
uigw_capture_start 'tcp port 4222' "$T/gsup.pcap"
CAP_PID=$UIGW_CAP_PID

osmo-hlr-db-tool -l "$T/hlr.db" create >"$T/hlr-db.log" 2>&1 || { echo "FAIL: osmo-hlr-db-tool"; exit 1; }
start_hlr
log "osmo-hlr up (GSUP 4222, VTY $HLR_VTY)"

(cd "$T" && exec "$UIGW" -c "$T/osmo-uigw.cfg" -C $UIGW_CTRL) >"$T/uigw.log" 2>&1 &
UIGW_PID=$!
wait_for "$T/uigw.log" "HLR link up" 10 || { bad "osmo-uigw did not connect to osmo-hlr"; tail -20 "$T/uigw.log"; exit 1; }
# the HLR learns our EUSE name from the IPA ID exchange that follows the TCP connect
sleep 0.3
log "osmo-uigw connected as EUSE-uigw"

msc() {	# NAME ARGS...: run the test MSC, output in $T/NAME.out
	local name=$1
	shift
	timeout 20 "$MSC" -t 15 "$@" >"$T/$name.out" 2>"$T/$name.err"
	local rc=$?
	sed "s/^/  [$name] /" "$T/$name.out"
	return $rc
}

expect() {	# NAME PATTERN DESCRIPTION
	if grep -aq -- "$2" "$T/$1.out"; then ok "$3"; else bad "$3 (no '$2' in $1.out)"; fi
}

# --- 1. the spam-report menu: BEGIN, three CONTINUE rounds, END; the report is stored -------------------------
log "1. spam report menu"
msc spam -i 901700000000001 -s 0x20000001 -n 491720000123 '*7726#' 1 01721234567 1 || bad "spam: test MSC exit $?"
expect spam "^CONTINUE dcs=0x0f .*text=Spam report|1. Report a number|2. Check a number" "spam: main menu"
expect spam "^CONTINUE dcs=0x0f .*text=Number that called you?" "spam: number prompt"
expect spam "^CONTINUE dcs=0x0f .*text=Report +491721234567? Reports so far: 0." "spam: confirmation"
expect spam "^END dcs=0x0f .*text=Thank you. Reports of +491721234567 so far: 1." "spam: final text in END"
n=$(sql "select count(*) from spam_report")
[ "$n" = 1 ] && ok "spam: one report in the store" || bad "spam: $n reports in the store"
out=$(vty $UIGW_VTY "show spam top 5")
echo "$out" | grep -aq "+491721234567" && ok "spam: 'show spam top 5' lists the number" || bad "spam: show spam top: $out"
n=$(sql "select count(*) from dialog where channel='gsup' and outcome='completed' and campaign='spam'")
[ "$n" = 1 ] && ok "spam: dialog completed" || bad "spam: $n completed dialogs"
# the MSISDN came from the GSUP message
# (in the mapping's journal until the merge, mapping-delay: 10 s by default)
n=$(sql "select count(*) from (select msisdn from subscriber_map union select msisdn from subscriber_new)
         where msisdn='+491720000123'" 2>/dev/null)
[ "$n" = 1 ] && ok "spam: MSISDN taken from the GSUP message" || bad "spam: subscriber_map has no +491720000123 ($n)"

# --- 2. a UCS-2 menu, the answer in UCS-2 too ---------------------------------------------------------------
log "2. UCS-2 menu"
msc ucs2 -i 901700000000002 -s 0x20000002 '*7790#' '@ucs2:2' || bad "ucs2: test MSC exit $?"
expect ucs2 "^CONTINUE dcs=0x48 .*text=Выберите цвет|1. Красный|2. Синий" "ucs2: menu in UCS-2"
expect ucs2 "^END dcs=0x48 .*text=Спасибо!" "ucs2: final text in UCS-2"
n=$(sql "select count(*) from response where value='blue'" 2>/dev/null)
[ "$n" = 1 ] && ok "ucs2: UCS-2 answer stored as 'blue'" || bad "ucs2: response 'blue' count $n"

# --- 3. a full 182-character GSM 7-bit screen (160 octets, long-form BER lengths) ----------------------------
# osmo-hlr 1.5.0 parses relayed components with libosmocore's short-length-only parser and silently drops
# longer ones, so by default the channel sends at most 128 septets per screen: the 182 characters arrive on two
# pages. With "screen-budget full" the whole screen goes out in one END (checked on the wire with tshark), but
# this osmo-hlr does not relay it to the MSC.
log "3. 182-character text"
LONG="GSUP full screen test. abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
LONG="${LONG}abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxy END"
msc long -i 901700000000003 -s 0x20000003 '*7791#' 00 00 00 || bad "long: test MSC exit $?"
# every page within 112 octets (128 septets), the pages together hold the whole text
if awk '/^(CONTINUE|END) dcs=0x0f/ { split($3, a, "="); if (a[2] > 112) bad = 1; n++ } END { exit bad || n < 2 }' \
	"$T/long.out"; then
	ok "long: $(grep -ac '^CONTINUE\|^END' "$T/long.out") pages of at most 112 octets"
else
	bad "long: pages too long or missing"
fi
all=$(grep -a "^CONTINUE\|^END" "$T/long.out" | sed 's/^[^=]*=[^=]*=[^=]*=//; s/|00\. More$//' | tr -d ' |\n')
[ "$all" = "$(echo "$LONG" | tr -d ' ')" ] && ok "long: the 182 characters arrive complete over the pages" ||
	bad "long: pages do not add up: '$all'"
vty $UIGW_VTY "enable" "configure terminal" "gsup" "screen-budget full" "end" >/dev/null
msc longfull -i 901700000000013 -s 0x20000013 '*7791#'
rc=$?
wait_for "$T/uigw.log" "0x20000013: END with the last screen (gsm7, 182 units)" 5 &&
	ok "long: full screen sent as one END of 182 septets" || bad "long: no 182-septet END"
[ $rc = 2 ] && grep -aq TIMEOUT "$T/longfull.out" && ok "long: osmo-hlr 1.5.0 does not relay it (known, doc/gsup.md)" ||
	echo "note: osmo-hlr relayed the 182-character screen (rc $rc): the HLR was fixed, consider screen-budget full"
vty $UIGW_VTY "enable" "configure terminal" "gsup" "screen-budget osmo-hlr" "end" >/dev/null

# --- 4. the user aborts mid-menu ---------------------------------------------------------------------------
# osmo-hlr 1.5.0 relays neither an END without component (it just frees its session) nor one with a ReturnError
# or Reject ("Structured SS requests are not supported"): the gateway learns nothing and the dialog ends when
# timer X1 (5 s here) expires, as timed-out, resumable like an abandoned one.
log "4. user abort mid-menu"
msc abort -i 901700000000004 -s 0x20000004 '*7726#' 1 @abort || bad "abort: test MSC exit $?"
expect abort "^CONTINUE .*Number that called you?" "abort: second screen reached"
for i in $(seq 100); do
	n=$(sql "select count(*) from dialog where channel='gsup' and outcome in ('abandoned','timed-out') and last_node='number'")
	[ "$n" = 1 ] && break
	sleep 0.1
done
outcome=$(sql "select outcome from dialog where channel='gsup' and last_node='number'")
[ "$n" = 1 ] && ok "abort: dialog ended ($outcome) at node 'number'" || bad "abort: dialog not ended ($n)"
grep -aq "0x20000004: Structured SS requests are not supported" "$T/hlr.log" && outcome_note="(osmo-hlr did not relay)"
echo "  abort outcome: $outcome ${outcome_note:-}"

# --- 5. osmo-hlr restarted in the middle of a dialog -------------------------------------------------------
log "5. osmo-hlr restart mid-dialog"
msc restart1 -i 901700000000005 -s 0x20000005 '*7726#' @stay || bad "restart: test MSC exit $?"
expect restart1 "^CONTINUE .*Spam report" "restart: first menu before the restart"
stop_pid "$HLR_PID"
HLR_PID=""
wait_for "$T/uigw.log" "HLR link down" 10 && ok "restart: gateway saw the link go down" || bad "restart: no link down"
sessions=$(vty $UIGW_VTY "show gsup" | grep -a "Sessions:")
echo "$sessions" | grep -aq "Sessions: 0" && ok "restart: sessions dropped ($sessions)" || bad "restart: $sessions"
n=$(sql "select count(*) from dialog where channel='gsup' and outcome='abandoned' and last_node='main'")
[ "$n" = 1 ] && ok "restart: the cut dialog ended as abandoned" || bad "restart: abandoned dialogs at main: $n"
ups=$(grep -ac "HLR link up" "$T/uigw.log")
start_hlr
for i in $(seq 100); do
	[ "$(grep -ac "HLR link up" "$T/uigw.log")" -gt "$ups" ] && break
	sleep 0.1
done
[ "$(grep -ac "HLR link up" "$T/uigw.log")" -gt "$ups" ] && ok "restart: gateway reconnected" || bad "restart: no reconnect"
sleep 0.5
# same subscriber within the resume window: the dialog resumes where the cut one stood
msc restart2 -i 901700000000005 -s 0x20000006 '*7726#' 2 01721234567 || bad "restart: second MSC exit $?"
expect restart2 "^CONTINUE .*text=Welcome back.|Spam report" "restart: next dialog resumes after the restart"
expect restart2 "^END .*Reports of +491721234567 so far: 1." "restart: next dialog completes"

# --- 6. push refused, show gsup ----------------------------------------------------------------------------
log "6. VTY"
out=$(vty $UIGW_VTY "enable" "trigger spam +491720000123 via gsup")
echo "$out" | grep -aq "Refused: push_not_offered .*osmo-hlr 1.5.0 crashes" && ok "trigger via gsup refused with its reason" ||
	bad "trigger via gsup: $out"
out=$(vty $UIGW_VTY "show gsup")
echo "$out" | grep -aq "Link: up" && ok "show gsup: link up" || bad "show gsup: $out"
echo "$out" | grep -aqE "rx:begin +7 " && ok "show gsup: 7 sessions begun" || bad "show gsup counters: $out"
echo "$out" | sed 's/^/  /' | grep -a -E "Link|rx:|tx:|link:"

# --- capture check -----------------------------------------------------------------------------------------
if [ -n "$CAP_PID" ]; then
	sleep 0.5
	uigw_capture_stop
	CAP_PID=""
	log "tshark"
	tshark -r "$T/gsup.pcap" -d tcp.port==4222,gsm_ipa -Y gsup -T fields -e gsup.session_state \
		-e gsm_old.localValue -e gsm_map.ussd_string >"$T/tshark.txt" 2>"$T/tshark.err"
	sed 's/^/  /' "$T/tshark.txt" | cut -c1-150 | head -40
	grep -aq "Thank you. Reports of +491721234567 so far: 1." "$T/tshark.txt" && ok "tshark: final spam text" ||
		bad "tshark: no final spam text"
	grep -aq "Выберите цвет" "$T/tshark.txt" && ok "tshark: UCS-2 menu decoded" || bad "tshark: UCS-2 menu"
	grep -aq "$LONG" "$T/tshark.txt" && ok "tshark: 182-character screen decoded" ||
		bad "tshark: 182-character screen"
	grep -aqP "\t60\t" "$T/tshark.txt" && ok "tshark: unstructuredSS-Request operations" || bad "tshark: no op 60"
	tshark -r "$T/gsup.pcap" -d tcp.port==4222,gsm_ipa -z expert,warn -q >"$T/expert.txt" 2>&1
	if grep -aqiE "malformed|Errors \(" "$T/expert.txt"; then
		bad "tshark: malformed packets"
		cat "$T/expert.txt"
	else
		ok "tshark: no malformed packets"
	fi
fi

stop_pid "$UIGW_PID"
UIGW_PID=""
grep -aq "shut down cleanly" "$T/uigw.log" && ok "osmo-uigw shut down cleanly" || bad "osmo-uigw shutdown not clean"
if [ $fails -ne 0 ]; then
	echo "$fails check(s) failed"
	exit 1
fi
echo "all GSUP integration checks passed"
exit 0
