#!/bin/sh
# Build every libFuzzer target with clang (ASan + UBSan) and run each for a short, bounded time on its seed
# corpus. A crash, a sanitizer report or a timeout fails the test. FUZZ_SECONDS sets the time per target;
# FUZZ_RUNS a number of executions instead (contrib/fuzz-long), FUZZ_TARGETS="tcap map" a subset, FUZZ_FLAGS more
# libFuzzer flags (contrib/fuzz-long: -detect_leaks=0).
set -e
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
# 10 s each in make check: twelve targets one after the other hold one of CI's two cores for their whole run, and
# at 20 s each (~5 min) the rest of the suite waited on them; the long runs are contrib/fuzz-long's (10 M each)
secs=${FUZZ_SECONDS:-10}
out="$top_builddir/tests/fuzz/out"
mkdir -p "$out"
CC_FUZZ=${CC_FUZZ:-clang}
if ! command -v "$CC_FUZZ" >/dev/null; then
	echo "no $CC_FUZZ: cannot build the fuzz targets" >&2
	exit 1
fi
# the leak suppressions of the targets name functions: without a symbolizer they match nothing (contrib/deps.sh
# installs llvm for it)
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ]; then
	for s in llvm-symbolizer /usr/lib/llvm-14/bin/llvm-symbolizer; do
		if command -v "$s" >/dev/null; then
			ASAN_SYMBOLIZER_PATH=$(command -v "$s")
			break
		fi
	done
	[ -n "${ASAN_SYMBOLIZER_PATH:-}" ] || { echo "no llvm-symbolizer: install llvm (contrib/deps.sh test)" >&2; exit 1; }
	export ASAN_SYMBOLIZER_PATH
fi
PKGS="libosmocore libosmogsm libosmovty sqlite3 libconfig nettle libsmpp34"
PKGS="$PKGS libosip2 expat libmicrohttpd jansson libcurl libpq"
CFLAGS="-g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I$top_srcdir/include -I$top_builddir $(pkg-config --cflags $PKGS)"
LIBS="$(pkg-config --libs $PKGS) -pthread"
S="$top_srcdir/src"

# the HTTP API's handlers run over a whole gateway without channels: every layer up to api, the channels left out
API_SRCS=$(cd "$S" && ls common/*.c codec/*.c store/*.c render/*.c core/*.c api/*.c | tr '\n' ' ')
# target name and the sources it needs
targets="
campaign:common/channel.c common/logging.c core/campaign_names.c core/campaign_tmpl.c core/campaign_cfg.c core/campaign_load.c core/campaign_nodes.c core/campaign_set.c store/store_names.c
render:common/channel.c common/logging.c codec/charset.c render/render.c
charset:codec/charset.c
smpp:codec/smpp_codec.c
gsup:codec/charset.c codec/ber.c codec/map.c codec/ss_codec.c
tcap:codec/charset.c codec/ber.c codec/map.c codec/ss_codec.c codec/tcap.c
map:codec/charset.c codec/ber.c codec/map.c codec/ss_codec.c
sip:common/number.c common/logging.c codec/charset.c codec/sip_msg.c codec/ussi_xml.c codec/ims_sms.c
ussi:codec/ussi_xml.c
concat:common/logging.c codec/sms_concat.c
extapp:core/extapp_parse.c
api:$API_SRCS
"

pass=0
fail=0
echo "$targets" | while IFS=: read -r name srcs; do
	[ -n "$name" ] || continue
	if [ -n "${FUZZ_TARGETS:-}" ]; then
		case " $FUZZ_TARGETS " in *" $name "*) ;; *) continue ;; esac
	fi
	[ -f "$top_srcdir/tests/fuzz/fuzz_$name.c" ] || { echo "missing fuzz_$name.c"; exit 1; }
	files=""
	for s in $srcs; do files="$files $S/$s"; done
	# render: no comparison tracing. Its input holds no magic values to solve (four small counts, then free text) and
	# the tracing of the renderer's counting loops took 70 % of its time (perf, 2026-12-04): 3x the executions.
	extra=""
	[ "$name" = render ] && extra="-fno-sanitize-coverage=trace-cmp"
	# shellcheck disable=SC2086
	$CC_FUZZ $CFLAGS $extra $files "$top_srcdir/tests/fuzz/fuzz_$name.c" -o "$out/fuzz_$name" $LIBS
	work="$out/corpus_$name"
	rm -rf "$work"
	mkdir -p "$work"
	[ -d "$top_srcdir/tests/fuzz/corpus/$name" ] && cp "$top_srcdir/tests/fuzz/corpus/$name"/* "$work"/ 2>/dev/null || true
	limit="-max_total_time=$secs"
	[ -n "${FUZZ_RUNS:-}" ] && limit="-runs=$FUZZ_RUNS"
	echo "fuzz_$name: $limit"
	# shellcheck disable=SC2086
	if ASAN_OPTIONS=detect_leaks=1 "$out/fuzz_$name" "$limit" -timeout=10 -rss_limit_mb=2048 ${FUZZ_FLAGS:-} \
		-print_final_stats=1 -artifact_prefix="$out/crash_$name-" "$work" >"$out/fuzz_$name.log" 2>&1; then
		echo "fuzz_$name: ok ($(grep -a 'stat::number_of_executed_units' "$out/fuzz_$name.log" | awk '{print $2}') runs)"
		# FUZZ_MERGE (contrib/fuzz-long): the inputs of this run that add coverage join the corpus in the tree
		if [ -n "${FUZZ_MERGE:-}" ]; then
			keep="$top_srcdir/tests/fuzz/corpus/$name"
			mkdir -p "$keep"
			ASAN_OPTIONS=detect_leaks=0 "$out/fuzz_$name" -merge=1 -detect_leaks=0 "$keep" "$work" \
				>"$out/merge_$name.log" 2>&1 || echo "fuzz_$name: merge failed (see $out/merge_$name.log)"
			echo "fuzz_$name: corpus in the tree: $(ls "$keep" | wc -l) inputs"
		fi
	else
		echo "fuzz_$name: FAILED"
		tail -n 40 "$out/fuzz_$name.log"
		exit 1
	fi
done
