#!/bin/sh
# The 60-second variant of contrib/chaos (issue 19): six phases of 6 s under a mixed SMS + SIP load (baseline,
# kill -9 and restart of the gateway, the SMSC down, the disk full, a 2x SIP burst, garbage and slow senders on
# every listener), every invariant checked after each. Root only (namespaces, a tmpfs); skips (77) otherwise.
srcdir=$(cd "$(dirname "$0")" && pwd)
top_builddir=${top_builddir:-$(cd "$srcdir/.." && pwd)}
top_srcdir=${top_srcdir:-$(cd "$srcdir/.." && pwd)}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
RATE=${RATE:-400} SIP_RATE=${SIP_RATE:-200} exec sh "$top_srcdir/contrib/chaos" "$top_builddir" "${CHAOS_SECS:-6}"
