#!/bin/sh
# MAP integration test: osmo-uigw as gsmSCF behind a real osmo-stp (SCCP over IPA), the TCAP/MAP peer built from
# asn1c at test time (build_peer.sh), and tshark decoding the capture at the end (root only): gsm_ipa -> SCCP ->
# TCAP -> GSM MAP with the opcodes, transaction ids and USSD strings of the run, no malformed message from the
# gateway. Ports 42940-42943.
srcdir=$(cd "$(dirname "$0")" && pwd)
top_builddir=${top_builddir:-$(cd "$srcdir/../.." && pwd)}
top_srcdir=${top_srcdir:-$(cd "$srcdir/../.." && pwd)}
. "$top_srcdir/tests/lib.sh"
for t in osmo-stp asn1c; do
	command -v $t >/dev/null || { echo "FAIL $t is not installed (contrib/deps.sh test installs it)"; exit 1; }
done
out="$top_builddir/tests/map/out"
sh "$srcdir/build_peer.sh" "$srcdir" "$out" || { echo "FAIL cannot build the test peer"; exit 1; }

tmp=$(mktemp -d)
cleanup() {
	[ -n "$UIGW_CAP_PID" ] && kill "$UIGW_CAP_PID" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
uigw_capture_start 'tcp port 42940' "$tmp/map.pcap"

rc=0
timeout 300 python3 "$srcdir/map_integration.py" --daemon "$UIGW_BIN" --peer "$out/map_peer" \
	--top-srcdir "$top_srcdir" --stp-cfg "$srcdir/stp.cfg" || rc=$?
[ -n "$UIGW_CAP_PID" ] || exit $rc

uigw_capture_stop
fail() {
	echo "FAIL tshark: $*"
	rc=1
}
T="tshark -r $tmp/map.pcap -d tcp.port==42940,gsm_ipa -d sccp.ssn==147,tcap -d sccp.ssn==6,tcap -d sccp.ssn==8,tcap"
# one line per TCAP message: source port, otid, dtid, opcodes, USSD strings
$T -Y tcap -T fields -E separator='|' -e tcp.srcport -e tcap.otid -e tcap.dtid -e gsm_old.localValue \
	-e gsm_map.ussd_string -e gsm_map.dialogue.destinationReference >"$tmp/tcap.txt" 2>/dev/null
n=$(wc -l <"$tmp/tcap.txt")
[ "$n" -gt 40 ] || fail "only $n TCAP messages decoded"
grep -q '|59|\*7726#|' "$tmp/tcap.txt" || fail "no processUnstructuredSS-Request *7726#"
grep -q '|60|.*Report a number' "$tmp/tcap.txt" || fail "no unstructuredSS-Request with the spam menu"
grep -q '|59|Thank you. Reports of +4930111222 so far: 1.' "$tmp/tcap.txt" || fail "no final ReturnResultLast of 59"
grep -q '|61|Network maintenance' "$tmp/tcap.txt" || fail "no unstructuredSS-Notify"
grep -q 'Здравствуйте' "$tmp/tcap.txt" || fail "no UCS-2 text decoded"
grep -q '|00:00:00:01|' "$tmp/tcap.txt" || grep -q '|00000001|' "$tmp/tcap.txt" || fail "no transaction 00000001"
# the push after `hlr-address hlr-gt`: the HLR's global title from the cs7 address book in the called address
$T -Y 'sccp.called.digits == "491720000001" && gsm_old.localValue == 61' 2>/dev/null | grep -q . ||
	fail "no unstructuredSS-Notify to the HLR's global title 491720000001"
# nothing malformed, but for the two messages the peer sends wrong on purpose
# (each seen twice: to the STP and from it): the broken Begin (otid 7) and the invoke of opcode 99 (otid 8)
mine='!(tcap.otid == 00:00:00:07 || tcap.otid == 00:00:00:08)'
bad=$($T -Y "(_ws.malformed || _ws.expert.severity == error) && $mine" 2>/dev/null | wc -l)
[ "$bad" = 0 ] || { fail "$bad malformed packets"; $T -Y "(_ws.malformed || _ws.expert.severity == error) && $mine" 2>/dev/null | head; }
# what the gateway (SSN 147) sent decodes as GSM MAP, aborts aside (a bare U-/P-Abort carries no MAP)
ours=$($T -Y "tcap && sccp.calling.ssn == 147" 2>/dev/null | wc -l)
nomap=$($T -Y "tcap && sccp.calling.ssn == 147 && !gsm_map && !tcap.abort_element" 2>/dev/null | wc -l)
[ "$ours" -gt 20 ] || fail "only $ours TCAP messages from the gateway's SSN 147"
[ "$nomap" = 0 ] || fail "$nomap TCAP messages of the gateway that do not decode as GSM MAP"
onpurpose=$($T -Y "_ws.malformed || _ws.expert.severity == error" 2>/dev/null | wc -l)
[ $rc = 0 ] && echo "ok   tshark: $n TCAP messages decoded (gsm_ipa/SCCP/TCAP/GSM MAP), opcodes 59/60/61, the USSD texts\
 of the run; all $ours of the gateway decode as GSM MAP (aborts aside); none malformed but the $onpurpose frames of the two messages broken on purpose"
exit $rc
