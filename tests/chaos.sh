#!/bin/sh
# The short variant of contrib/chaos (issue 19): nine phases of 6 s under a mixed load on every channel (SMS over
# SMPP, SIP MESSAGE, USSD over GSUP through OsmoHLR and over MAP through osmo-stp): baseline, kill -9 and restart
# of the gateway, the SMSC, the HLR and the STP down, the disk full, a 2x and a 5x SIP burst, garbage and slow
# senders on every listener; every invariant checked after each. Root only (namespaces, a tmpfs); skips (77)
# otherwise.
srcdir=$(cd "$(dirname "$0")" && pwd)
top_builddir=${top_builddir:-$(cd "$srcdir/.." && pwd)}
top_srcdir=${top_srcdir:-$(cd "$srcdir/.." && pwd)}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
# Under AddressSanitizer (make check's build) the heap's quarantine and shadow memory add a few hundred MB that are not
# the gateway's own: the RSS bound there is 1 GiB; contrib/chaos on a plain build keeps its 512 MiB.
if ldd "$top_builddir/src/osmo-uigw/osmo-uigw" 2>/dev/null | grep -q libasan; then
	RSS_MAX_KB=${RSS_MAX_KB:-1048576}
	# the bursts' CPU cap: the sanitized gateway does about a third of the work per CPU second, 15 % of a core is
	# the plain build's 5 % (past capacity, back within 2 s of the burst)
	CAP_PCT=${CAP_PCT:-15}
	export RSS_MAX_KB CAP_PCT
fi
RATE=${RATE:-400} SIP_RATE=${SIP_RATE:-200} GSUP_RATE=${GSUP_RATE:-50} MAP_RATE=${MAP_RATE:-50} \
	exec sh "$top_srcdir/contrib/chaos" "$top_builddir" "${CHAOS_SECS:-6}"
