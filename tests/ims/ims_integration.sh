#!/bin/sh
# IMS channels end to end: the real osmo-uigw against SIPp (sip-tester) on 127.0.0.1.
#  - spam report over SIP MESSAGE text/plain (UE sends, a SIPp UAS at the asserted URI checks the four replies)
#  - message/cpim with an IMDN request: delivery notification, then the screen in CPIM
#  - the spam report over SMS over IP (application/vnd.3gpp.sms)
#  - the survey over USSI: INVITE (SDP + ussd+xml), 200/ACK, a 469 for an INFO without Info-Package, three INFO
#    rounds, the final text in the BYE
#  - USSI to an unknown service code: error-code in the BYE
#  - a MESSAGE from an untrusted source (127.0.0.2): 403
#  - a network-initiated MESSAGE dialog (VTY trigger via ims-msg), answered by the UE
#  - a network-initiated USSI session (VTY trigger via ussi): INVITE with the first question, INFO, BYE
#  - triggers with a parameter (crs content=...) over ims-msg and ussi: the question shows it, the answer is
#    stored with it; a trigger without `via` takes IMS only for a subscriber seen there (third-party REGISTER)
#  - own transactions: an unanswered MESSAGE retransmitted (timer E); responses to the Via's address, a
#    retransmitted request answered again from the completed transaction; a retransmitted 2xx to our INVITE
#    ACKed again
#  - tshark (root): the capture decodes (methods, Info-Package, xml.cdata, RP/TPDU), no malformed packets
#  - show sip / show feedback on the VTY, then a clean SIGTERM shutdown with an empty talloc report
#  - roaming = deny over MESSAGE and USSI (P-Visited-Network-ID); charging records: one per dialog in the table
#    and in the CSV files, with the roaming flag, the visited network and the zero rating as they happened
# Ports: SIP 45060, VTY 45290, CTRL 45291, SIPp 45068, 45070-45077 and 45079, Python SMS UE 45078, Python UEs
# 45064-45067. Exits 77 only if sipp is not installed.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
sc="$top_srcdir/tests/ims"
gw_bin="$top_builddir/src/osmo-uigw/osmo-uigw"	# tests/lib.sh: $UIGW_BIN
SIP=45060
VTY=45290
CTRL=45291

if ! command -v sipp >/dev/null 2>&1; then
	echo "sipp (Debian package sip-tester) is not installed: skipped"
	exit 77
fi

tmp=$(mktemp -d /tmp/uigw-ims.XXXXXX)
gw_pid=""
uas_pid=""
cleanup() {
	[ -n "$uas_pid" ] && kill "$uas_pid" 2>/dev/null
	[ -n "$tsh_pid" ] && kill "$tsh_pid" 2>/dev/null
	[ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	echo "---- daemon log (tail)"
	tail -n 40 "$tmp/gw.log" 2>/dev/null
	[ -s "$tmp/vty.out" ] && { echo "---- VTY"; cat "$tmp/vty.out"; }
	for f in "$tmp"/*.err; do [ -s "$f" ] && { echo "---- $f"; head -c 3000 "$f"; echo; }; done
	exit 1
}
. "$top_srcdir/tests/lib.sh"
. "$sc/common.sh"

# the shipped campaigns plus tests/data/ims/longtext.conf (a screen longer than one MESSAGE over UDP) and
# homeonly.conf (roaming = "deny")
mkdir -p "$tmp/campaigns"
cp "$top_srcdir"/etc/campaigns/*.conf "$top_srcdir/tests/data/ims/longtext.conf" \
	"$top_srcdir/tests/data/ims/homeonly.conf" "$tmp/campaigns/"
{ gw_cfg_base ims-test-secret; cat <<CFG
sip
 local-ip 127.0.0.1
 local-port $SIP
 domain ims.example.net
 trusted-peer 127.0.0.1
CFG
} >"$tmp/gw.cfg"

cd "$tmp" || exit 1
nc -z 127.0.0.1 $VTY 2>/dev/null && fail "port $VTY is already in use by another process"
"$gw_bin" -c "$tmp/gw.cfg" -C $CTRL >"$tmp/gw.log" 2>&1 &
gw_pid=$!
gw_wait_up
sleep 0.2
kill -0 $gw_pid 2>/dev/null || fail "the daemon exited at start"

# tshark (root only) records every SIP packet of the scenarios for a decode check at the end
uigw_capture_start 'udp portrange 45060-45079' "$tmp/sip.pcap"
tsh_pid=$UIGW_CAP_PID

start=$(date +%s)
sipp_run() {
	# name, scenario, local ip, local port, extra args...
	n=$1; s=$2; ip=$3; p=$4; shift 4
	timeout 30 sipp -sf "$sc/$s" -i "$ip" -p "$p" -m 1 -nostdin -timeout 20s -timeout_error \
		-trace_logs -log_file "$tmp/$n.log" -trace_err -error_file "$tmp/$n.err" "$@" \
		127.0.0.1:$SIP >"$tmp/$n.out" 2>&1
}

# 1. spam report over MESSAGE: the UE's contact (UAS) first, then the UE
timeout 30 sipp -sf "$sc/msg_spam_uas.xml" -i 127.0.0.1 -p 45071 -m 1 -nostdin -timeout 20s -timeout_error \
	-trace_logs -log_file "$tmp/uas.log" -trace_err -error_file "$tmp/uas.err" >"$tmp/uas.out" 2>&1 &
uas_pid=$!
sleep 0.3
sipp_run uac msg_spam_uac.xml 127.0.0.1 45070 -set ueport 45071 || fail "MESSAGE UE scenario"
wait $uas_pid || { uas_pid=""; fail "MESSAGE replies (UAS scenario)"; }
uas_pid=""
grep -q "reply 3: Thank you. Reports of +4930123456 so far: 1." "$tmp/uas.log" || fail "final MESSAGE text"
echo "ok: spam report over MESSAGE text/plain"
sed 's/^/   /' "$tmp/uas.log"

# 1b. message/cpim with an IMDN request: 202, the delivery notification, the screen in CPIM
timeout 30 sipp -sf "$sc/msg_cpim_uas.xml" -i 127.0.0.1 -p 45076 -m 1 -nostdin -timeout 20s -timeout_error \
	-trace_logs -log_file "$tmp/cpimuas.log" -trace_err -error_file "$tmp/cpimuas.err" >"$tmp/cpimuas.out" 2>&1 &
uas_pid=$!
sleep 0.3
sipp_run cpim msg_cpim_uac.xml 127.0.0.1 45077 -set ueport 45076 || fail "CPIM UE scenario"
wait $uas_pid || { uas_pid=""; fail "CPIM: IMDN and screen (UAS scenario)"; }
uas_pid=""
echo "ok: MESSAGE message/cpim with IMDN positive-delivery"
sed 's/^/   /' "$tmp/cpimuas.log"

# 1c. SMS over IP: RP-DATA(SMS-SUBMIT) in, RP-ACK and RP-DATA(SMS-DELIVER) out (a Python UE: binary bodies)
timeout 60 python3 "$sc/sms_ue.py" $SIP 45078 >"$tmp/sms.log" 2>&1 || { cat "$tmp/sms.log"; fail "SMS over IP"; }
echo "ok: spam report over application/vnd.3gpp.sms (RP-DATA/SMS-SUBMIT, RP-ACK, RP-DATA/SMS-DELIVER), and a concatenated SMS-SUBMIT in two parts (RP-ACK each, one input)"
grep "sms reply" "$tmp/sms.log"

# 2. the survey over USSI
sipp_run ussi ussi_survey_uac.xml 127.0.0.1 45072 || fail "USSI survey scenario"
grep -q "final: Thank you! Answers so far: 1, average satisfaction 4.0 of 5." "$tmp/ussi.log" || fail "USSI final text"
echo "ok: survey over USSI (469, three INFO rounds, BYE with the final text)"
sed 's/^/   /' "$tmp/ussi.log"

# 3. unknown service code
sipp_run unk ussi_unknown_uac.xml 127.0.0.1 45072 || fail "USSI unknown code scenario"
grep -q "final: <error-code>3</error-code>" "$tmp/unk.log" || fail "error-code in the BYE"
echo "ok: USSI unknown code -> error-code 3 in the BYE"

# 4. untrusted source
sipp_run untrusted untrusted_uac.xml 127.0.0.2 45073 || fail "untrusted source not refused with 403"
echo "ok: MESSAGE from an untrusted source -> 403"

# 5. network-initiated MESSAGE dialog: VTY push of the offer, the UE answers "2"
timeout 30 sipp -sf "$sc/msg_push_uas.xml" -i 127.0.0.1 -p 45074 -m 1 -nostdin -timeout 20s -timeout_error \
	-trace_logs -log_file "$tmp/push.log" -trace_err -error_file "$tmp/push.err" >"$tmp/push.out" 2>&1 &
uas_pid=$!
sleep 0.3
vty_cmd "trigger offer +491720000140 via ims-msg to=sip:+491720000140@127.0.0.1:45074" >"$tmp/push_vty.out"
grep -q "Triggered offer for +491720000140 via ims-msg" "$tmp/push_vty.out" || { cat "$tmp/push_vty.out"; fail "trigger via ims-msg"; }
sleep 0.3
sipp_run pushans msg_push_answer_uac.xml 127.0.0.1 45075 -set ueport 45074 -set sub +491720000140 -set answer 2 ||
	fail "answer to the push"
wait $uas_pid || { uas_pid=""; fail "push UAS scenario"; }
uas_pid=""
echo "ok: network-initiated MESSAGE (VTY push of the offer), answered over MESSAGE"
sed 's/^/   /' "$tmp/push.log"

# 5a. network-initiated USSI: VTY push of the survey; INVITE with the first question, INFO rounds, BYE
uas_push upush "$sc/ussi_push_uas.xml" 45079 "trigger survey +491720000170 via ussi to=sip:+491720000170@127.0.0.1:45079" \
	"Triggered survey for +491720000170 via ussi"
echo "ok: network-initiated USSI (VTY push of the survey: INVITE, two INFO rounds, BYE)"
sed 's/^/   /' "$tmp/upush.log"

# 5b. triggers with a parameter: the CRS reaction over MESSAGE (content=video-ims) and over USSI
# (content=video-ussi); each question shows its video, each answer is stored with it (checked in show feedback)
timeout 30 sipp -sf "$sc/msg_param_uas.xml" -i 127.0.0.1 -p 45063 -m 1 -nostdin -timeout 20s -timeout_error \
	-trace_logs -log_file "$tmp/param.log" -trace_err -error_file "$tmp/param.err" >"$tmp/param.out" 2>&1 &
uas_pid=$!
sleep 0.3
vty_cmd "trigger crs +491720000141 via ims-msg content=video-ims to=sip:+491720000141@127.0.0.1:45063" \
	>"$tmp/param_vty.out"
grep -q "Triggered crs for +491720000141 via ims-msg" "$tmp/param_vty.out" || { cat "$tmp/param_vty.out"; fail "trigger crs via ims-msg"; }
sleep 0.3
sipp_run paramans msg_push_answer_uac.xml 127.0.0.1 45062 -set ueport 45063 -set sub +491720000141 -set answer 1 ||
	fail "answer to the triggered reaction"
wait $uas_pid || { uas_pid=""; cat "$tmp/param.out"; fail "trigger crs via ims-msg: UE scenario"; }
uas_pid=""
uas_push uparam "$sc/ussi_param_uas.xml" 45061 \
	"trigger crs +491720000171 via ussi content=video-ussi to=sip:+491720000171@127.0.0.1:45061" \
	"Triggered crs for +491720000171 via ussi"
echo "ok: triggers with a parameter over ims-msg and ussi (question and answer carry the video id)"
sed 's/^/   /' "$tmp/param.log" "$tmp/uparam.log"

# 5c. STOP over MESSAGE: confirmed once recorded; every push to the subscriber is refused, on IMS and on the
# channels that could reach them otherwise (one list); START over MESSAGE: confirmed, the next push goes out
msg_round() { # UE scenario, subscriber, code, text, the reply expected
	timeout 30 sipp -sf "$sc/msg_kw_uas.xml" -i 127.0.0.1 -p 45071 -m 1 -nostdin -timeout 20s -timeout_error \
		-trace_logs -log_file "$tmp/kw.log" -trace_err -error_file "$tmp/kw.err" >"$tmp/kw.out" 2>&1 &
	uas_pid=$!
	sleep 0.3
	sipp_run kwuac "$1" 127.0.0.1 45070 -set ueport 45071 -set sub "$2" -set code "$3" -set kw "$4" ||
		fail "MESSAGE $4 to $3"
	wait $uas_pid || { uas_pid=""; cat "$tmp/kw.out"; fail "no reply to $4 over MESSAGE"; }
	uas_pid=""
	grep -q "got: $5" "$tmp/kw.log" || { cat "$tmp/kw.log"; fail "reply to $4: $5 expected"; }
	sed 's/^/   /' "$tmp/kw.log"
}
kw_round() { # keyword, the confirmation expected
	msg_round msg_kw_uac.xml +491720000143 7726 "$@"
}
kw_round STOP "You are unsubscribed"
vty_cmd "trigger offer +491720000143 via ims-msg to=sip:+491720000143@127.0.0.1:45071" \
	"trigger offer +491720000143 via ussi to=sip:+491720000143@127.0.0.1:45071" \
	"show subscriber +491720000143" >"$tmp/kw_vty.out"
[ "$(grep -c 'Refused: opted_out' "$tmp/kw_vty.out")" = 2 ] || { cat "$tmp/kw_vty.out"; fail "pushes after STOP over MESSAGE"; }
grep -q "interactions: opted out" "$tmp/kw_vty.out" || { cat "$tmp/kw_vty.out"; fail "show subscriber after STOP"; }
kw_round "start." "You are subscribed again"
timeout 30 sipp -sf "$sc/msg_kw_uas.xml" -i 127.0.0.1 -p 45071 -m 1 -nostdin -timeout 20s -timeout_error \
	-trace_logs -log_file "$tmp/kwpush.log" -trace_err -error_file "$tmp/kwpush.err" >"$tmp/kwpush.out" 2>&1 &
uas_pid=$!
sleep 0.3
vty_cmd "trigger offer +491720000143 via ims-msg to=sip:+491720000143@127.0.0.1:45071" >"$tmp/kw_vty2.out"
grep -q "Triggered offer for +491720000143 via ims-msg" "$tmp/kw_vty2.out" || { cat "$tmp/kw_vty2.out"; fail "push after START"; }
wait $uas_pid || { uas_pid=""; fail "the push after START did not arrive"; }
uas_pid=""
echo "ok: STOP and START over MESSAGE, confirmed; pushes refused on ims-msg and ussi in between, sent after"

# 5d. roaming: a campaign with roaming = "deny" refuses a MESSAGE that carries P-Visited-Network-ID (the
# unavailable text, refusal roaming) and serves one from a subscriber at home
msg_round msg_roam_uac.xml +491720000144 7740 HI "This service is not available."
grep -q "refused: roaming" "$tmp/gw.log" || fail "refusal roaming not logged"
msg_round msg_kw_uac.xml +491720000145 7740 HI "Welcome home."
echo "ok: roaming = deny: a roaming subscriber (P-Visited-Network-ID) refused, one at home served"
# the same over USSI: a session from abroad gets the unavailable text in the BYE, one from home the campaign
sipp_run roamussi ussi_roam_uac.xml 127.0.0.1 45072 -set sub +491720000146 -set code 7740 \
	-set vhdr 'P-Visited-Network-ID: "vpmn.example.org"' || fail "USSI from a roaming subscriber"
grep -q "final: This service is not available." "$tmp/roamussi.log" || { cat "$tmp/roamussi.log"; fail "USSI roaming refusal"; }
sipp_run homeussi ussi_roam_uac.xml 127.0.0.1 45072 -set sub +491720000147 -set code 7740 \
	-set vhdr 'P-Access-Network-Info: 3GPP-E-UTRAN-FDD' || fail "USSI from a subscriber at home"
grep -q "final: Welcome home." "$tmp/homeussi.log" || { cat "$tmp/homeussi.log"; fail "USSI at home"; }
echo "ok: roaming = deny over USSI: the session from abroad refused (BYE with the unavailable text), the one at home served"

# 5b'. a trigger without via: IMS only for a subscriber the S-CSCF registered with a third-party REGISTER
vty_cmd "trigger crs +491720000142 content=video-auto" >"$tmp/auto1.out"
grep -q "Refused: unreachable" "$tmp/auto1.out" || { cat "$tmp/auto1.out"; fail "trigger without via, subscriber unknown on IMS"; }
python3 - "$SIP" <<'PY' || fail "third-party REGISTER"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', 45060 + 100))
s.settimeout(5)
req = ('REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:45160;branch=z9hG4bKreg1\r\n'
       'From: <sip:scscf@ims.example.net>;tag=r1\r\nTo: <sip:+491720000142@ims.example.net>\r\n'
       'Call-ID: reg1@127.0.0.1\r\nCSeq: 1 REGISTER\r\nMax-Forwards: 70\r\nExpires: 600\r\n'
       'Contact: <sip:scscf@127.0.0.1:45160>\r\nContent-Length: 0\r\n\r\n')
s.sendto(req.encode(), ('127.0.0.1', int(sys.argv[1])))
d, _ = s.recvfrom(65536)
assert d.startswith(b'SIP/2.0 200'), d[:60]
print('   third-party REGISTER answered 200')
PY
vty_cmd "trigger crs +491720000142 content=video-auto" >"$tmp/auto2.out"
grep -q "Triggered crs for +491720000142 via ussi" "$tmp/auto2.out" || { cat "$tmp/auto2.out"; fail "trigger without via after REGISTER"; }
echo "ok: trigger without via: unreachable before, ussi after the third-party REGISTER"

# 5c. a screen of 1237 bytes (UTF-8) pushed over MESSAGE: split into two requests of <= 1300 bytes each
uas_push long "$sc/msg_long_uas.xml" 45068 "trigger longtext +491720000180 via ims-msg to=sip:+491720000180@127.0.0.1:45068" \
	"Triggered longtext for +491720000180 via ims-msg"
python3 - "$tmp/long.msg" "$top_srcdir/tests/data/ims/longtext.conf" <<'PY' || fail "long text: parts"
import re, sys
raw = open(sys.argv[1], 'rb').read()
want = re.search(rb'en = "(LONGSTART.*LONGEND)"', open(sys.argv[2], 'rb').read()).group(1)
reqs = re.findall(rb'(MESSAGE sip:\S+ SIP/2\.0\r\n.*?\r\n\r\n)', raw, re.S)
assert len(reqs) == 2, 'expected 2 MESSAGEs, got %d' % len(reqs)
text = b''
for hdr in reqs:
    n = int(re.search(rb'Content-Length: *(\d+)', hdr).group(1))
    body = raw[raw.index(hdr) + len(hdr):][:n]
    assert len(hdr) + n <= 1300, 'request of %d bytes' % (len(hdr) + n)
    body.decode('utf-8')  # no part is cut inside a character
    text += body
assert text == want, 'reassembled text differs'
print('   long text: 2 MESSAGEs, each <= 1300 bytes, valid UTF-8, reassembled equal')
PY
echo "ok: long screen over MESSAGE split on UTF-8 boundaries into requests of <= 1300 bytes"

# 5d. the same screen to a contact that asks for TCP: one MESSAGE over a TCP connection the gateway opens
uas_push longtcp "$sc/msg_long_tcp_uas.xml" 45069 \
	"trigger longtext +491720000181 via ims-msg to=sip:+491720000181@127.0.0.1:45069;transport=tcp" \
	"Triggered longtext for +491720000181 via ims-msg" -t t1
python3 - "$tmp/longtcp.msg" "$top_srcdir/tests/data/ims/longtext.conf" <<'PY' || fail "long text over TCP: body"
import re, sys
raw = open(sys.argv[1], 'rb').read()
want = re.search(rb'en = "(LONGSTART.*LONGEND)"', open(sys.argv[2], 'rb').read()).group(1)
reqs = re.findall(rb'(MESSAGE sip:\S+ SIP/2\.0\r\n.*?\r\n\r\n)', raw, re.S)
assert len(reqs) == 1, 'expected 1 MESSAGE, got %d' % len(reqs)
n = int(re.search(rb'Content-Length: *(\d+)', reqs[0]).group(1))
body = raw[raw.index(reqs[0]) + len(reqs[0]):][:n]
assert body == want, 'text differs'
assert len(reqs[0]) + n > 1300, 'the request should exceed the UDP limit'
print('   long text over TCP: 1 MESSAGE of %d bytes' % (len(reqs[0]) + n))
PY
echo "ok: long screen to a ;transport=tcp contact in one MESSAGE over TCP"

# 5e. the gateway's own non-INVITE client transaction over UDP (timer E): a contact that ignores the first
# MESSAGE gets the same request again after T1 (0.5 s), and nothing more once it answered the retransmission
python3 - 45067 >"$tmp/retrans.out" 2>&1 <<'PY' &
import re, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', int(sys.argv[1])))
s.settimeout(6)
def recv():
    d, a = s.recvfrom(65536)
    return d, a, time.time()
try:
    d1, a1, t1 = recv()
    d2, a2, t2 = recv()
except socket.timeout:
    sys.exit('no MESSAGE or no retransmission')
hdr = lambda d, h: re.search(rb'(?im)^' + h + rb':\s*(.*?)\r$', d).group(1)
assert d1.startswith(b'MESSAGE '), d1[:40]
assert d1 == d2, 'the retransmission differs from the request'
assert 0.35 <= t2 - t1 <= 1.2, 'retransmitted after %.2f s, not T1' % (t2 - t1)
resp = b'SIP/2.0 200 OK\r\nVia: ' + hdr(d2, b'Via') + b'\r\nFrom: ' + hdr(d2, b'From') + b'\r\nTo: ' + \
    hdr(d2, b'To') + b';tag=rt1\r\nCall-ID: ' + hdr(d2, b'Call-ID') + b'\r\nCSeq: ' + hdr(d2, b'CSeq') + \
    b'\r\nContent-Length: 0\r\n\r\n'
s.sendto(resp, a2)
s.settimeout(2.5)
try:
    d3, _, t3 = recv()
    sys.exit('request sent again after its 200 (%.2f s later)' % (t3 - t2))
except socket.timeout:
    pass
print('   MESSAGE retransmitted after %.2f s, ended by the 200' % (t2 - t1))
PY
rt_pid=$!
sleep 0.3
vty_cmd "trigger callquality +491720000182 via ims-msg to=sip:+491720000182@127.0.0.1:45067" >"$tmp/rt_vty.out"
grep -q "Triggered callquality for +491720000182 via ims-msg" "$tmp/rt_vty.out" || { cat "$tmp/rt_vty.out"; fail "trigger (retransmission)"; }
wait $rt_pid || { cat "$tmp/retrans.out"; fail "MESSAGE retransmission (timer E)"; }
cat "$tmp/retrans.out"
echo "ok: unanswered MESSAGE retransmitted after T1, no more after the 200"

# 5f. the gateway's own non-INVITE server transaction over UDP: the response goes where the top Via says
# (RFC 3261 18.2.2: the sent-by port without rport, the source port with it, RFC 3581), and a retransmitted
# request gets the same response again from the completed transaction, without being handled twice
python3 - $SIP 45066 45065 >"$tmp/nist.out" 2>&1 <<'PY' || { cat "$tmp/nist.out"; fail "own NIST (Via, Completed)"; }
import socket, sys
gw, pa, pb = ('127.0.0.1', int(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3])
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(('127.0.0.1', pa)); a.settimeout(2)
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.bind(('127.0.0.1', pb)); b.settimeout(2)
def req(via, branch):
    return ('MESSAGE sip:7726@ims.example.net SIP/2.0\r\n'
            'Via: SIP/2.0/UDP ' + via + ';branch=z9hG4bK' + branch + '\r\n'
            'Max-Forwards: 70\r\nFrom: <sip:+491720000183@ims.example.net>;tag=n1\r\n'
            'To: <sip:7726@ims.example.net>\r\nCall-ID: nist-' + branch + '\r\nCSeq: 1 MESSAGE\r\n'
            'P-Asserted-Identity: <sip:+491720000183@ims.example.net>\r\n'
            'Content-Type: application/x-unknown\r\nContent-Length: 4\r\n\r\nSPAM').encode()
def none_on(s):
    s.settimeout(0.3)
    try:
        d = s.recv(65536)
        sys.exit('unexpected: ' + d[:60].decode())
    except socket.timeout:
        pass
    s.settimeout(2)
r = req('127.0.0.1:%d' % pb, 'nist1')
a.sendto(r, gw)
r1 = b.recv(65536)
assert r1.startswith(b'SIP/2.0 415 '), r1[:40]
none_on(a)
a.sendto(r, gw)      # the retransmission: the same response, byte for byte, to the same place
r2 = b.recv(65536)
assert r1 == r2, 'the retransmission got a different response'
none_on(a)
a.sendto(req('127.0.0.1:%d;rport' % pb, 'nist2'), gw)
r3 = a.recv(65536)   # rport: back to the source port
assert r3.startswith(b'SIP/2.0 415 ') and b'rport=%d' % pa in r3, r3[:200]
none_on(b)
# an untrusted source: 403, and its retransmission is refused anew (counted again), not kept
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('127.0.0.2', pa)); u.settimeout(2)
r = req('127.0.0.2:%d;rport' % pa, 'nist3')
for _ in range(2):
    u.sendto(r, gw)
    assert u.recv(65536).startswith(b'SIP/2.0 403 ')
print('   415 to the sent-by port, the same 415 for the retransmission, with rport to the source port;'
      ' 403 twice to an untrusted source')
PY
cat "$tmp/nist.out"
echo "ok: own NIST: the response follows the Via; a retransmitted request is answered from Completed"

# 5g. network-initiated USSI to a UE whose 200 OK is retransmitted (as if the ACK were lost): the gateway's ICT
# ended with the first 200, and every copy of it gets the same ACK again (RFC 3261 13.2.2.4); the UE then ends
# the session with BYE (200)
python3 - 45064 >"$tmp/reack.out" 2>&1 <<'PY' &
import re, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', int(sys.argv[1])))
s.settimeout(5)
def recv(start):
    while True:
        d, a = s.recvfrom(65536)
        if d.startswith(start):
            return d, a
hdr = lambda d, h: re.search(rb'(?im)^' + h + rb':\s*(.*?)\r$', d).group(1)
try:
    inv, gw = recv(b'INVITE ')
    assert b'UnstructuredSS-Request' in inv or b'ussd-string' in inv, inv[-300:]
    ok = (b'SIP/2.0 200 OK\r\nVia: ' + hdr(inv, b'Via') + b'\r\nFrom: ' + hdr(inv, b'From') + b'\r\nTo: ' +
          hdr(inv, b'To') + b';tag=ue1\r\nCall-ID: ' + hdr(inv, b'Call-ID') + b'\r\nCSeq: ' + hdr(inv, b'CSeq') +
          b'\r\nContact: <sip:+491720000184@127.0.0.1:' + sys.argv[1].encode() + b'>\r\n'
          b'Recv-Info: g.3gpp.ussd\r\nContent-Length: 0\r\n\r\n')
    s.sendto(ok, gw)
    ack1, _ = recv(b'ACK ')
    s.sendto(ok, gw)          # the 200 again
    ack2, _ = recv(b'ACK ')
    assert ack1 == ack2, 'the second ACK differs from the first'
    bye = (b'BYE ' + hdr(inv, b'Contact').strip(b'<>') + b' SIP/2.0\r\n'
           b'Via: SIP/2.0/UDP 127.0.0.1:' + sys.argv[1].encode() + b';branch=z9hG4bKreack1\r\n'
           b'From: ' + hdr(inv, b'To') + b';tag=ue1\r\nTo: ' + hdr(inv, b'From') + b'\r\nCall-ID: ' +
           hdr(inv, b'Call-ID') + b'\r\nCSeq: 1 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n')
    s.sendto(bye, gw)
    r, _ = recv(b'SIP/2.0 ')
    assert r.startswith(b'SIP/2.0 200'), r[:40]
except socket.timeout:
    sys.exit('timeout: INVITE, ACK, ACK again or the 200 to the BYE missing')
print('   the retransmitted 200 got the same ACK again; BYE answered 200')
PY
ra_pid=$!
sleep 0.3
vty_cmd "trigger survey +491720000184 via ussi to=sip:+491720000184@127.0.0.1:45064" >"$tmp/ra_vty.out"
grep -q "Triggered survey for +491720000184 via ussi" "$tmp/ra_vty.out" || { cat "$tmp/ra_vty.out"; fail "trigger via ussi (re-ACK)"; }
wait $ra_pid || { cat "$tmp/reack.out"; fail "ACK again for a retransmitted 2xx"; }
cat "$tmp/reack.out"
echo "ok: network-initiated USSI: a retransmitted 200 OK gets the ACK again"
echo "scenarios took $(( $(date +%s) - start )) s"

# 5b. tshark decodes the capture: methods, Info-Package, ussd-data, RP / TPDU fields, nothing malformed
if [ -n "$tsh_pid" ]; then
	uigw_capture_stop
	tsh_pid=""
	tshark -r "$tmp/sip.pcap" -d udp.port==$SIP,sip -T fields -e sip.Method -e sip.Info-Package -e xml.cdata \
		-e gsm_a.rp.msg_type -e gsm_sms.sms_text -E separator='|' >"$tmp/decoded.txt" 2>/dev/null
	for m in MESSAGE INVITE ACK INFO BYE; do
		grep -q "^$m|" "$tmp/decoded.txt" || fail "tshark: no $m"
	done
	grep -q "^INFO|g.3gpp.ussd|en,How do you usually contact us?" "$tmp/decoded.txt" || fail "tshark: menu INFO"
	grep -q "^BYE||en,Thank you! Answers so far" "$tmp/decoded.txt" || fail "tshark: BYE with the final text"
	grep -q "^BYE||.*,3||$" "$tmp/decoded.txt" || fail "tshark: BYE with error-code 3"
	grep -q "^MESSAGE|||0x00|SPAM$" "$tmp/decoded.txt" || fail "tshark: RP-DATA MO with SMS-SUBMIT 'SPAM'"
	grep -q "^MESSAGE|||0x03|$" "$tmp/decoded.txt" || fail "tshark: RP-ACK"
	grep -q "^MESSAGE|||0x01|Number that called you?$" "$tmp/decoded.txt" || fail "tshark: RP-DATA MT (SMS-DELIVER)"
	grep -q "^MESSAGE|||0x02|$" "$tmp/decoded.txt" || fail "tshark: RP-ACK with DELIVER-REPORT"
	bad=$(tshark -r "$tmp/sip.pcap" -d udp.port==$SIP,sip -Y _ws.malformed 2>/dev/null | wc -l)
	[ "$bad" = 0 ] || fail "tshark: $bad malformed packets"
	echo "ok: tshark decodes methods, Info-Package, ussd-data, RP/TPDU fields; no malformed packets"
fi

# 6. the VTY
vty_out=$(vty_cmd "show sip" "subscriber +491720000130 dial *7730*2*5*1#" "show feedback survey" \
	"show feedback spam")
echo "$vty_out" >"$tmp/vty.out"
# 9 MESSAGEs fed to dialogs, plus the concatenated SMS over IP once (its first part alone feeds nothing), plus
# the two keywords STOP and START, and the two MESSAGEs to the home-only campaign
echo "$vty_out" | grep -q "msg:in *14" || fail "show sip: msg:in 14 expected"
echo "$vty_out" | grep -q "Transactions: ICT [0-9]*, IST [0-9]*, NICT [0-9]*, NIST [0-9]*" ||
	fail "show sip: live transactions expected"
echo "$vty_out" | grep -Eq "retransmissions answered from them: [1-9]" ||
	fail "show sip: the retransmitted request (5f) should count as answered from Completed"
echo "$vty_out" | grep -q "ussi:bad-info-package *1" || fail "show sip: one 469 expected"
echo "$vty_out" | grep -q "rx:untrusted *3" ||
	fail "show sip: three untrusted requests expected (4, and 5f's twice: a 403 is not kept)"
echo "$vty_out" | grep -q "USSI sessions: 0" || fail "show sip: no USSI session should be left"
echo "$vty_out" | grep -Eq "^ +ussi +app +1" || fail "show feedback survey: the USSI answer is missing"
# cross-channel: the same question, answered through the test drive and through USSI, counts both channels
echo "$vty_out" | sed -n '/Question contact:/,/Question/p' >"$tmp/contact.txt"
grep -Eq "^ +ussi +app +1" "$tmp/contact.txt" && grep -Eq "^ +vty +web +1" "$tmp/contact.txt" ||
	fail "show feedback survey: question contact should count the vty and the ussi answer"
echo "ok: show sip counters; show feedback: question contact answered over vty and ussi"

# 7. clean shutdown
gw_stop
echo "ok: clean shutdown"

# 8. the reactions of the two triggers with a parameter are stored for exactly their videos and channels
python3 - "$tmp/uigw.db" <<'PY' || fail "stored reactions of the triggers"
import sqlite3, sys
rows = set(sqlite3.connect(sys.argv[1]).execute(
    "SELECT content, reaction, channel FROM reaction WHERE campaign = 'crs'").fetchall())
want = {('video-ims', 'like', 'ims-msg'), ('video-ussi', 'subscribe', 'ussi')}
assert want <= rows, 'reaction rows %r' % rows
print('   reaction rows: %s' % sorted(rows))
PY
echo "ok: the triggers' parameters are stored with the reactions (video-ims over ims-msg, video-ussi over ussi)"

# 9. charging: one record per dialog in the table and once in the CSV files (handed over at the shutdown), with
# what happened: the roaming USSI session refused with its visited network, the home one served, the spam report
# over MESSAGE zero-rated (the shipped spam campaign: class free) with its MT messages; no raw number in the store
python3 - "$tmp/uigw.db" "$tmp/cdr" "$top_srcdir/tests" <<'PY' || fail "charging records"
import csv, glob, os, sqlite3, sys
sys.path.insert(0, sys.argv[3])
import uigwtest
db = sqlite3.connect(sys.argv[1])
db.row_factory = sqlite3.Row
# the charging records' own database beside the main one (store_cdr_db.c)
db.execute("ATTACH DATABASE ? AS charging", (sys.argv[1][:-3] + '-cdr.db',))
dialogs = db.execute("SELECT count(*) FROM dialog").fetchone()[0]
cdrs = db.execute("SELECT count(*) FROM cdr").fetchone()[0]
missing = db.execute("SELECT count(*) FROM dialog d WHERE NOT EXISTS (SELECT 1 FROM cdr c WHERE c.dialog = d.id)").fetchone()[0]
assert dialogs > 10 and cdrs == dialogs and missing == 0, 'dialogs %d, records %d, without one %d' % (dialogs, cdrs, missing)
files = sorted(glob.glob(os.path.join(sys.argv[2], 'osmo-uigw-cdr-*')))
assert files and all(f.endswith('.csv') for f in files), 'CSV files %r' % files
seen = {}
for f in files:
    assert os.stat(f).st_mode & 0o777 == 0o600, '%s: mode %o' % (f, os.stat(f).st_mode)
    for rec in csv.DictReader(open(f, newline='')):
        seen[int(rec['record'])] = seen.get(int(rec['record']), 0) + 1
        last = rec
assert sorted(seen) == [r[0] for r in db.execute("SELECT id FROM cdr ORDER BY id")] and set(seen.values()) == {1}, \
    'the CSV files do not hold each record once: %r' % seen
roam = db.execute("SELECT * FROM cdr WHERE campaign = 'homeonly' AND channel = 'ussi' AND roaming = 1").fetchall()
assert len(roam) == 1 and roam[0]['visited'] == 'vpmn.example.org' and roam[0]['refusal'] == 'roaming' \
    and roam[0]['outcome'] == 'rejected' and roam[0]['screens'] == 1, [dict(r) for r in roam]
home = db.execute("SELECT * FROM cdr WHERE campaign = 'homeonly' AND channel = 'ussi' AND roaming = 0").fetchall()
assert len(home) == 1 and home[0]['refusal'] is None and home[0]['outcome'] == 'completed', [dict(r) for r in home]
msg = db.execute("SELECT * FROM cdr WHERE campaign = 'homeonly' AND channel = 'ims-msg' AND roaming = 1").fetchall()
assert len(msg) == 1 and msg[0]['visited'] == 'Visited Network Number 1' and msg[0]['mt_messages'] == 1, [dict(r) for r in msg]
spam = db.execute("SELECT * FROM cdr WHERE campaign = 'spam' AND channel = 'ims-msg' AND outcome = 'completed'").fetchall()
assert spam and all(r['zero_rated'] == 1 and r['charge_class'] == 'free' and r['mt_messages'] >= 2 for r in spam), \
    [dict(r) for r in spam]
other = db.execute("SELECT count(*) FROM cdr WHERE campaign <> 'spam' AND (zero_rated <> 0 OR charge_class <> 'standard')").fetchone()[0]
assert other == 0, '%d records of other campaigns zero-rated' % other
found = uigwtest.numbers_in_store(sys.argv[1], '49172000')
assert not found, 'subscriber numbers stored in %r' % found
# the daemon's umask: both databases (and what SQLite keeps beside them) only for its user
for f in glob.glob(sys.argv[1] + '*') + glob.glob(sys.argv[1][:-3] + '-cdr.db*'):
    assert os.stat(f).st_mode & 0o777 == 0o600, '%s: mode %o' % (f, os.stat(f).st_mode)
assert os.path.exists(sys.argv[1][:-3] + '-cdr.db'), 'no charging database'
print('   %d dialogs, %d records, %d in %d CSV files; roaming USSI: visited %s, refusal %s; spam over MESSAGE: %d records zero-rated'
      % (dialogs, cdrs, len(seen), len(files), roam[0]['visited'], roam[0]['refusal'], len(spam)))
PY
echo "ok: charging records: one per dialog in the table and once in the CSV files, roaming and zero rating as they happened"
exit 0
