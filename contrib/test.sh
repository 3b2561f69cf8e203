#!/bin/sh
# Install what is missing, build with AddressSanitizer + UndefinedBehaviorSanitizer and -Werror, and run the
# whole test suite (cmocka unit tests, VTY transcripts against the real daemon, fuzz runs).
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh contrib/deps.sh test
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
rm -rf build-test
mkdir -p build-test
cd build-test
../configure --enable-sanitize --enable-werror
make -j"$(nproc)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
rc=0
make -j"$(nproc)" check || rc=$?
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
