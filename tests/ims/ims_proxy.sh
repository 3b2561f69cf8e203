#!/bin/sh
# The IMS channels behind a real proxy: kamailio plays the S-CSCF on 127.0.0.1 and osmo-uigw is configured with
# `outbound-proxy localhost 45461` (a name, looked up when configured).
#  - the UE's spam report over MESSAGE goes UE -> kamailio -> osmo-uigw (202 back the same way); the gateway's
#    three reply MESSAGEs carry `Route: <sip:localhost:45461;lr>` and reach the UE's contact through kamailio
#    (its Via on top of the gateway's; the Route consumed), and their 200s go back through it
#  - a pushed MESSAGE (VTY trigger via ims-msg) to a subscriber goes the same way
#  - then over TCP (outbound-proxy ... tcp, set at run time): a pushed MESSAGE and a pushed USSI survey go to
#    kamailio over one TCP connection (the gateway's Via and Contact say TCP)
#  - show sip names the proxy with its address and transport
#  - without the proxy, a USSI push to a ;transport=tcp contact runs its whole session over TCP
# Ports: gateway SIP 45460, kamailio 45461 (UDP, TCP), SIPp 45462-45466, VTY 45492, CTRL 45493.
# Exits 77 if sipp or kamailio is not installed.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
sc="$top_srcdir/tests/ims"
gw_bin="$top_builddir/src/osmo-uigw/osmo-uigw"	# tests/lib.sh: $UIGW_BIN
SIP=45460
PROXY=45461
VTY=45492
KAM=$(command -v kamailio || echo /usr/sbin/kamailio)

if ! command -v sipp >/dev/null 2>&1 || [ ! -x "$KAM" ]; then
	echo "sipp (sip-tester) or kamailio is not installed: skipped"
	exit 77
fi

tmp=$(mktemp -d /tmp/uigw-imsproxy.XXXXXX)
gw_pid=""
kam_pid=""
uas_pid=""
cleanup() {
	for p in $uas_pid $kam_pid $gw_pid; do kill "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	echo "---- daemon log (tail)"
	tail -n 30 "$tmp/gw.log" 2>/dev/null
	echo "---- kamailio log (tail)"
	tail -n 30 "$tmp/kam.log" 2>/dev/null
	for f in "$tmp"/*.err; do [ -s "$f" ] && { echo "---- $f"; head -c 3000 "$f"; echo; }; done
	exit 1
}
. "$top_srcdir/tests/lib.sh"
. "$sc/common.sh"
for p in $SIP $PROXY $VTY; do
	nc -z 127.0.0.1 $p 2>/dev/null && fail "port $p is already in use by another process"
done

# kamailio as the S-CSCF: requests for a user at itself go to the AS (osmo-uigw); a request whose Route names it
# (the AS's preloaded loose route) goes on to its Request-URI; everything statefully (tm), responses by Via
cat >"$tmp/kam.cfg" <<K
#!KAMAILIO
children=1
listen=udp:127.0.0.1:$PROXY
listen=tcp:127.0.0.1:$PROXY
alias=localhost:$PROXY
log_stderror=yes
debug=2
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "pv.so"
request_route {
	if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
	if (loose_route()) { t_relay(); exit; }
	if (uri == myself) { \$du = "sip:127.0.0.1:$SIP"; }
	if (!t_relay()) { sl_reply_error(); }
	exit;
}
K
"$KAM" -c -f "$tmp/kam.cfg" >"$tmp/kamcheck.log" 2>&1 || { cat "$tmp/kamcheck.log"; fail "kamailio config"; }
"$KAM" -DD -E -f "$tmp/kam.cfg" >"$tmp/kam.log" 2>&1 &
kam_pid=$!

mkdir -p "$tmp/campaigns"
cp "$top_srcdir"/etc/campaigns/*.conf "$tmp/campaigns/"
{ gw_cfg_base ims-proxy-secret; cat <<CFG
sip
 local-ip 127.0.0.1
 local-port $SIP
 domain ims.example.net
 outbound-proxy localhost $PROXY
 trusted-peer 127.0.0.1
CFG
} >"$tmp/gw.cfg"
cd "$tmp" || exit 1
"$gw_bin" -c "$tmp/gw.cfg" -C 45493 >"$tmp/gw.log" 2>&1 &
gw_pid=$!
gw_wait_up
kill -0 $kam_pid 2>/dev/null || fail "kamailio exited at start"


# every MESSAGE the contact got must have come through kamailio: its Via first, then the gateway's, no Route left
through_proxy() { # message trace file, expected count[, the gateway's transport to the proxy]
	python3 - "$1" "$2" $PROXY $SIP "${3:-UDP}" <<'PY'
import re, sys
raw = open(sys.argv[1], 'rb').read()
reqs = re.findall(rb'(MESSAGE sip:\S+ SIP/2\.0\r?\n.*?\r?\n\r?\n)', raw, re.S)
assert len(reqs) == int(sys.argv[2]), 'expected %s MESSAGEs, got %d' % (sys.argv[2], len(reqs))
for r in reqs:
    vias = re.findall(rb'(?im)^Via:\s*(.*?)\r?$', r)
    assert len(vias) == 2, vias
    assert b'127.0.0.1:' + sys.argv[3].encode() in vias[0], 'top Via is not the proxy: %r' % vias[0]
    assert vias[1].startswith(b'SIP/2.0/' + sys.argv[5].encode() + b' 127.0.0.1:' + sys.argv[4].encode()), \
        'second Via is not the gateway over %s: %r' % (sys.argv[5], vias[1])
    assert not re.search(rb'(?im)^Route:', r), 'the proxy left its Route'
print('   %d MESSAGEs through the proxy (its Via over the gateway\'s, Route consumed)' % len(reqs))
PY
}

# 1. spam report: UE -> kamailio -> gateway, the replies gateway -> kamailio -> the UE's contact
timeout 30 sipp -sf "$sc/msg_spam_uas.xml" -i 127.0.0.1 -p 45462 -m 1 -nostdin -timeout 20s -timeout_error \
	-trace_msg -message_file "$tmp/uas.msg" -trace_logs -log_file "$tmp/uas.log" -trace_err \
	-error_file "$tmp/uas.err" >"$tmp/uas.out" 2>&1 &
uas_pid=$!
sleep 0.3
timeout 30 sipp -sf "$sc/msg_spam_uac.xml" -i 127.0.0.1 -p 45463 -m 1 -nostdin -timeout 20s -timeout_error \
	-trace_err -error_file "$tmp/uac.err" -set ueport 45462 127.0.0.1:$PROXY >"$tmp/uac.out" 2>&1 ||
	fail "MESSAGE UE scenario through the proxy"
wait $uas_pid || { uas_pid=""; fail "replies through the proxy (UAS scenario)"; }
uas_pid=""
grep -q "reply 3: Thank you. Reports of +4930123456 so far: 1." "$tmp/uas.log" || fail "final MESSAGE text"
through_proxy "$tmp/uas.msg" 3 || fail "the replies did not come through the proxy"
echo "ok: spam report over MESSAGE, UE and gateway both behind kamailio"

# 2. a pushed MESSAGE (the offer) through the proxy; the contact answers 200 and stops there
cat >"$tmp/push_uas.xml" <<'X'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="pushed MESSAGE via the proxy">
  <recv request="MESSAGE" timeout="5000"/>
  <send><![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]P[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
</scenario>
X
# a pushed MESSAGE (the offer) to a SIPp contact on 45464 that answers 200; it must come through the proxy
push_through() { # name, MSISDN, the gateway's transport to the proxy
	uas_push "$1" "$tmp/push_uas.xml" 45464 "trigger offer $2 via ims-msg to=sip:$2@127.0.0.1:45464" \
		"Triggered offer for $2 via ims-msg"
	through_proxy "$tmp/$1.msg" 1 $3 || fail "the push did not come through the proxy over $3"
}
push_through push +491720000190 UDP
echo "ok: pushed MESSAGE through kamailio"

# 3. the proxy over TCP (set at run time: it applies to the next request): a pushed MESSAGE and a pushed USSI
# session go to kamailio over one TCP connection (the gateway's Via says TCP), kamailio relays them over UDP
vty_cmd "configure terminal" "sip" "outbound-proxy localhost $PROXY tcp" "end" >"$tmp/tcp_vty.out"
grep -q "%" "$tmp/tcp_vty.out" && { cat "$tmp/tcp_vty.out"; fail "outbound-proxy ... tcp"; }
push_through tpush +491720000191 TCP
echo "ok: pushed MESSAGE through kamailio over TCP"
uas_push upush "$sc/ussi_push_uas.xml" 45465 "trigger survey +491720000192 via ussi to=sip:+491720000192@127.0.0.1:45465" \
	"Triggered survey for +491720000192 via ussi"
python3 - "$tmp/upush.msg" $PROXY $SIP <<'PY' || fail "the USSI INVITE did not come through the proxy over TCP"
import re, sys
raw = open(sys.argv[1], 'rb').read()
inv = re.search(rb'(INVITE sip:\S+ SIP/2\.0\r?\n.*?\r?\n\r?\n)', raw, re.S).group(1)
vias = re.findall(rb'(?im)^Via:\s*(.*?)\r?$', inv)
assert len(vias) == 2 and b'127.0.0.1:' + sys.argv[2].encode() in vias[0], vias
assert vias[1].startswith(b'SIP/2.0/TCP 127.0.0.1:' + sys.argv[3].encode()), vias
assert re.search(rb'(?im)^Contact:.*transport=tcp', inv), 'Contact without transport=tcp'
print('   USSI INVITE through the proxy, gateway -> kamailio over TCP')
PY
echo "ok: network-initiated USSI (survey: INVITE, two INFO rounds, BYE) through kamailio over TCP"
sed 's/^/   /' "$tmp/upush.log"

# 4. show sip: the proxy by name and address; every MESSAGE out answered (none failed)
sleep 0.5
vty_cmd "show sip" >"$tmp/show.out"
grep -q "outbound proxy localhost (127.0.0.1):$PROXY over TCP" "$tmp/show.out" ||
	{ cat "$tmp/show.out"; fail "show sip: proxy"; }
grep -Eq "msg:out +5$" "$tmp/show.out" && grep -Eq "msg:out-fail +0$" "$tmp/show.out" ||
	{ cat "$tmp/show.out"; fail "show sip: 5 MESSAGEs out, none failed"; }
echo "ok: show sip: outbound proxy localhost (127.0.0.1):$PROXY over TCP, 5 MESSAGEs out, none failed"

# 5. no proxy: a USSI push to a contact that asks for TCP (;transport=tcp) goes over a TCP connection the gateway
# opens (SIPp UE in TCP mode), the whole session on it: INVITE, ACK, INFO rounds, BYE
vty_cmd "configure terminal" "sip" "no outbound-proxy" "end" >"$tmp/noproxy_vty.out"
uas_push tcpussi "$sc/ussi_push_uas.xml" 45466 \
	"trigger survey +491720000193 via ussi to=sip:+491720000193@127.0.0.1:45466;transport=tcp" \
	"Triggered survey for +491720000193 via ussi" -t t1
python3 - "$tmp/tcpussi.msg" $SIP <<'PY' || fail "the USSI session did not run over TCP"
import re, sys
raw = open(sys.argv[1], 'rb').read()
reqs = re.findall(rb'((INVITE|ACK|INFO|BYE) sip:\S+ SIP/2\.0\r?\n.*?\r?\n\r?\n)', raw, re.S)
ours = [r for r, m in reqs if re.search(rb'(?im)^Via:\s*SIP/2\.0/\S+ 127\.0\.0\.1:' + sys.argv[2].encode(), r)]
assert {m for r, m in reqs if r in ours} >= {b'INVITE', b'ACK', b'INFO', b'BYE'}, [m for r, m in reqs]
for r in ours:
    assert re.search(rb'(?im)^Via:\s*SIP/2\.0/TCP ', r), r[:200]
print('   %d requests of the gateway in the session, every one over TCP' % len(ours))
PY
echo "ok: network-initiated USSI to a ;transport=tcp contact, the session over TCP"

gw_stop
echo "ok: clean shutdown"
exit 0
