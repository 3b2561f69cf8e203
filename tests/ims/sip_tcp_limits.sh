#!/bin/sh
# The SIP TCP listener's bounds (connections in total and per peer, idle timeout, slow senders, message size, peers
# that never read) against the real daemon; see sip_tcp_limits.py. Debian's python3, standard library only.
srcdir=$(cd "$(dirname "$0")" && pwd)
top_builddir=${top_builddir:-$(cd "$srcdir/../.." && pwd)}
top_srcdir=${top_srcdir:-$(cd "$srcdir/../.." && pwd)}
. "$top_srcdir/tests/lib.sh"
exec timeout 240 python3 "$srcdir/sip_tcp_limits.py" --daemon "$UIGW_BIN" --top-srcdir "$top_srcdir"
