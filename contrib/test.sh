#!/bin/sh
# Install what is missing, build with AddressSanitizer + UndefinedBehaviorSanitizer and -Werror, and run the
# whole test suite (layer check, cmocka unit tests, VTY transcripts against the real daemon, integration tests
# against real peers, fuzz runs, the manual's VTY reference), then make distcheck.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh contrib/deps.sh test
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
rm -rf build-test
mkdir -p build-test
cd build-test
# the user manual as HTML: make check proves its VTY reference lists every command of the binary (the PDF needs
# TeX; contrib/deb-test builds it in the package)
../configure --enable-sanitize --enable-werror --enable-manuals=html
make -j"$(nproc)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# the node-smpp SMSC of the SMPP tests, while the network is there (pinned by tests/smpp/package-lock.json)
if [ ! -f ../tests/smpp/node_modules/smpp/package.json ] && command -v npm >/dev/null; then
	(cd ../tests/smpp && timeout 300 npm ci --no-audit --no-fund >/dev/null 2>&1) || echo "note: npm ci failed"
fi
rc=0
# The integration tests bind fixed ports on 127.0.0.1: as root they run in a private network namespace with only
# loopback up, so that no other run on the machine (another checkout, CI) can collide with them.
# After the suite, make distcheck: the tarball has every file, builds in a tree of its own (-Werror) and passes
# the unit tests, the layer check and the VTY transcripts there (the integration tests ran above).
netns=""
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null && unshare -n true 2>/dev/null; then
	echo "running the test suite in a private network namespace"
	netns="unshare -n"
fi
# Inside the namespace the kernel picks the local ports of outgoing connections from 50000-60999 only, so that
# a test's client socket can never hold one of the fixed ports (4xxxx) that another test is about to listen on.
nsup='ip link set lo up 2>/dev/null; echo "50000 60999" >/proc/sys/net/ipv4/ip_local_port_range 2>/dev/null;'
[ -n "$netns" ] || nsup=''
$netns sh -c "$nsup"' make -j"$(nproc)" check' || rc=$?
dist_rc=0
$netns sh -c "$nsup"' make -j"$(nproc)" distcheck >distcheck.log 2>&1' || dist_rc=$?
if [ "$dist_rc" != 0 ]; then
	echo "==== make distcheck failed"
	tail -n 60 distcheck.log
	rc=1
else
	echo "make distcheck: $(grep -c '^PASS:' distcheck.log) passed in the tarball's own tree"
fi
# show the logs of what failed, then one closing line
for f in $(find tests -name '*.log' ! -name test-suite.log); do
	case "$(sed -n 's/^:test-result: //p' "${f%.log}.trs" 2>/dev/null)" in
	FAIL|ERROR) echo "==== $f"; tail -n 60 "$f" ;;
	esac
done
pass=$(grep -h '^:test-result: PASS' tests/*.trs tests/*/*.trs 2>/dev/null | wc -l)
fail=$(grep -hE '^:test-result: (FAIL|ERROR|XPASS)' tests/*.trs tests/*/*.trs 2>/dev/null | wc -l)
skip=$(grep -h '^:test-result: SKIP' tests/*.trs tests/*/*.trs 2>/dev/null | wc -l)
echo "tests: $pass passed, $fail failed, $skip skipped"
[ "$rc" = 0 ] && [ "$fail" = 0 ]
