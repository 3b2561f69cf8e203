#!/bin/sh
# SMPP integration test against node-smpp (npm smpp@0.5.1, installed from package-lock.json into
# tests/smpp/node_modules on first use), with a tshark check of the captured PDUs at the end (root only). Skips (77) only when node/npm are missing or the package cannot be fetched.
srcdir=$(cd "$(dirname "$0")" && pwd)
top_builddir=${top_builddir:-$(cd "$srcdir/../.." && pwd)}
top_srcdir=${top_srcdir:-$(cd "$srcdir/../.." && pwd)}
. "$top_srcdir/tests/lib.sh"
uigw_need_node_smpp "$srcdir"

# tshark (root only) records the SMPP traffic of the run (ports 42930-42933) for a decode check at the end:
# an independent decoder must see no malformed PDU from the gateway and the service_type, data_coding and
# ussd_service_op values the test produced
tmp=$(mktemp -d)
cleanup() {
	[ -n "$UIGW_CAP_PID" ] && kill "$UIGW_CAP_PID" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
uigw_capture_start 'tcp portrange 42930-42933' "$tmp/smpp.pcap"

rc=0
timeout 300 python3 "$srcdir/smpp_integration.py" --daemon "$UIGW_BIN" \
	--top-srcdir "$top_srcdir" --srcdir "$srcdir" || rc=$?
[ -n "$UIGW_CAP_PID" ] || exit $rc

uigw_capture_stop
fail() {
	echo "FAIL tshark: $*"
	rc=1
}
T="tshark -r $tmp/smpp.pcap -d tcp.port==42930,smpp"
# one line per PDU: command_id|service_type|data_coding|ussd_service_op ("(Default)": empty service_type)
python3 "$srcdir/smpp_tshark.py" "$tmp/smpp.pcap" 42930 >"$tmp/decoded.txt"
n=$(wc -l <"$tmp/decoded.txt")
[ "$n" -gt 100 ] || fail "only $n SMPP PDUs decoded"
# command ids: 0x04 submit_sm, 0x05 deliver_sm, 0x09 bind_transceiver, 0x80000000 generic_nack
grep -q '^0x00000009|' "$tmp/decoded.txt" || fail "no bind_transceiver"
grep -q '^0x00000004|(Default)|0x00|$' "$tmp/decoded.txt" || fail "no submit_sm with data_coding 0x00 (SMS, GSM 7-bit)"
ucs2=$(grep -c '^0x00000004|(Default)|0x08|$' "$tmp/decoded.txt")
[ "$ucs2" -ge 3 ] || fail "the long UCS-2 reply: $ucs2 submit_sm with data_coding 0x08, not 3"
grep -q '^0x00000004|USSD|0x00|2$' "$tmp/decoded.txt" || fail "no submit_sm USSD with ussd_service_op 2 (USSR)"
grep -q '^0x00000004|USSD|0x00|17$' "$tmp/decoded.txt" || fail "no submit_sm USSD with ussd_service_op 17"
grep -q '^0x00000004|USSD|0x00|3$' "$tmp/decoded.txt" || fail "no submit_sm USSD with ussd_service_op 3 (USSN)"
grep -q '^0x00000005|USSD|0x00|1$' "$tmp/decoded.txt" || fail "no deliver_sm USSD with ussd_service_op 1 (PSSR)"
grep -q '^0x80000000|' "$tmp/decoded.txt" || fail "no generic_nack"
# nothing the gateway sent is malformed; from the SMSC only the PDUs the test writes broken on purpose
bad=$($T -Y '(_ws.malformed || _ws.expert.severity == error) && tcp.dstport == 42930' 2>/dev/null | wc -l)
[ "$bad" = 0 ] || fail "$bad malformed packets from the gateway"
smsc_bad=$($T -Y '(_ws.malformed || _ws.expert.severity == error) && tcp.srcport == 42930' 2>/dev/null | wc -l)
[ "$smsc_bad" -le 2 ] || fail "$smsc_bad malformed packets from the SMSC (2 are sent broken on purpose)"
[ $rc = 0 ] && echo "ok   tshark: $n SMPP PDUs decoded; submit_sm data_coding 0x00 and 0x08 ($ucs2), USSD ops 1/2/3/17;\
 no malformed PDU from the gateway ($smsc_bad broken on purpose by the SMSC)"
exit $rc
