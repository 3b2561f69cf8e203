# Shell functions every integration test shares (sourced, POSIX sh): where things are, the daemon's logging
# header, waiting for a port, the VTY, a tshark capture, the node-smpp SMSC. Each function is bounded in time.
# Callers set top_srcdir (and top_builddir, default top_srcdir) first; make check passes both.

: "${top_srcdir:?set top_srcdir before sourcing tests/lib.sh}"
: "${top_builddir:=$top_srcdir}"
UIGW_BIN="$top_builddir/src/osmo-uigw/osmo-uigw"

# The logging part of a test daemon's configuration (VTY syntax): stderr, categories and levels printed.
# Arguments: extra "logging level CAT LEVEL" pairs, e.g. uigw_log_cfg gsup debug dlg info
uigw_log_cfg() {
	printf 'log stderr\n logging filter all 1\n logging color 0\n logging print category 1\n'
	printf ' logging print level 1\n logging level set-all notice\n'
	while [ $# -ge 2 ]; do
		printf ' logging level %s %s\n' "$1" "$2"
		shift 2
	done
}

# uigw_wait_port PORT [PID]: wait (at most 10 s) until 127.0.0.1:PORT accepts connections; with PID, fail at
# once if that process is gone. Returns 1 on time-out or exit.
uigw_wait_port() {
	_i=0
	until nc -z 127.0.0.1 "$1" 2>/dev/null; do
		_i=$((_i + 1))
		[ $_i -gt 100 ] && return 1
		if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then
			return 1
		fi
		sleep 0.1
	done
	return 0
}

# uigw_vty PORT COMMAND...: "enable", then each command on the VTY at PORT, waiting for the prompt after each;
# prints the session without telnet bytes and CRs.
uigw_vty() {
	_port=$1
	shift
	timeout 20 python3 - "$_port" "$@" <<'PY'
import socket, sys, time
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=5)
out = b''
def until_prompt():
    global out
    buf = b''
    deadline = time.time() + 10
    while not buf.rstrip().endswith((b'>', b'#')) and time.time() < deadline:
        buf += s.recv(65536)
    out += buf
until_prompt()
for c in ['enable'] + sys.argv[2:]:
    s.sendall(c.encode() + b'\n')
    until_prompt()
sys.stdout.write(out.decode('utf-8', 'replace').replace('\r', ''))
PY
}

# uigw_capture_start FILTER FILE: as root with tshark, record loopback traffic matching the capture FILTER to
# FILE; sets UIGW_CAP_PID (empty when no capture runs, with a note). uigw_capture_stop ends it cleanly.
UIGW_CAP_PID=""
uigw_capture_start() {
	UIGW_CAP_PID=""
	if ! command -v tshark >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
		echo "note: no tshark or not root: no capture check"
		return 0
	fi
	tshark -i lo -f "$1" -w "$2" -q >"$2.log" 2>&1 &
	UIGW_CAP_PID=$!
	_i=0
	until grep -q "Capturing on" "$2.log" 2>/dev/null; do
		_i=$((_i + 1))
		[ $_i -gt 100 ] && break
		sleep 0.1
	done
}
uigw_capture_stop() {
	[ -n "$UIGW_CAP_PID" ] || return 0
	sleep 0.5
	kill -INT "$UIGW_CAP_PID" 2>/dev/null
	_i=0
	while kill -0 "$UIGW_CAP_PID" 2>/dev/null; do
		_i=$((_i + 1))
		[ $_i -gt 50 ] && { kill -9 "$UIGW_CAP_PID" 2>/dev/null; break; }
		sleep 0.1
	done
	wait "$UIGW_CAP_PID" 2>/dev/null
	UIGW_CAP_PID=""
}

# uigw_need_node_smpp DIR: node, npm and npm smpp@0.5.1 in DIR/node_modules (installed from DIR's
# package-lock.json on first use), else exit 77 (skip) with the reason.
uigw_need_node_smpp() {
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		echo "node/npm not installed (contrib/deps.sh test installs them): skipping"
		exit 77
	fi
	# two tests of one `make -j check` may both need it: one installs, the other waits (flock, util-linux)
	if [ ! -f "$1/node_modules/smpp/package.json" ]; then
		if ! (cd "$1" && flock "$1/.npm-install.lock" sh -c \
			'[ -f node_modules/smpp/package.json ] || timeout 300 npm ci --no-audit --no-fund >/dev/null 2>&1'); then
			echo "cannot install npm smpp@0.5.1: skipping"
			exit 77
		fi
	fi
}
