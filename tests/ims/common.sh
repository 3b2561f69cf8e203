# Shell functions shared by the IMS tests (sourced, after tests/lib.sh): the daemon's configuration, the VTY,
# its start and clean stop. They use $VTY, $gw_pid, $tmp and the caller's fail().

# the configuration up to node sip: logging, the VTY on $VTY, campaigns in $tmp/campaigns, the store, no GSUP
gw_cfg_base() { # pseudonym secret
	uigw_log_cfg
	cat <<CFG
line vty
 bind 127.0.0.1 $VTY
uigw
 campaigns-dir $tmp/campaigns
 pseudonym-secret $1
store
 path $tmp/uigw.db
 cdr-directory $tmp/cdr
gsup
 disable
CFG
}

# run VTY commands (after "enable") and print the session
vty_cmd() {
	uigw_vty "$VTY" "$@"
}

# wait until the daemon ($gw_pid) listens on its VTY
gw_wait_up() {
	uigw_wait_port "$VTY" "$gw_pid" || fail "the daemon did not open its VTY (or exited at start)"
}

# SIGTERM, at most 10 s to exit 0 after a clean shutdown
gw_stop() {
	kill -TERM $gw_pid
	i=0
	while kill -0 $gw_pid 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 100 ] && fail "no shutdown within 10 s"
		sleep 0.1
	done
	wait $gw_pid
	rc=$?
	gw_pid=""
	[ $rc = 0 ] || fail "daemon exit code $rc"
	grep -q "shut down cleanly" "$tmp/gw.log" || fail "no clean shutdown"
}

# a network-initiated dialog to a SIPp UE: start the UE's scenario (in the background, $uas_pid), run the VTY
# push, which must answer "$5", and wait for the scenario to pass. Its messages go to $tmp/NAME.msg, its
# <log> lines to $tmp/NAME.log.
uas_push() { # name, scenario file, UE port, VTY command, expected VTY answer, extra SIPp arguments...
	n=$1 f=$2 p=$3 cmd=$4 want=$5
	shift 5
	timeout 30 sipp -sf "$f" -i 127.0.0.1 -p "$p" -m 1 -nostdin -timeout 20s -timeout_error \
		-trace_msg -message_file "$tmp/$n.msg" -trace_logs -log_file "$tmp/$n.log" -trace_err \
		-error_file "$tmp/$n.err" "$@" >"$tmp/$n.out" 2>&1 &
	uas_pid=$!
	sleep 0.3
	vty_cmd "$cmd" >"$tmp/${n}_vty.out"
	grep -q "$want" "$tmp/${n}_vty.out" || { cat "$tmp/${n}_vty.out"; fail "$n: $cmd"; }
	wait $uas_pid || { uas_pid=""; cat "$tmp/$n.out"; fail "$n: the UE's scenario $(basename "$f")"; }
	uas_pid=""
}

