#!/bin/sh
# External applications (CON/END) behind short codes over USSD (SMPP), USSI (SIPp) and SMS (SMPP): node-smpp as
# the SMSC (tests/smpp), Debian's sip-tester as the UE, the application in Python (standard library).
srcdir=$(cd "$(dirname "$0")" && pwd)
top_builddir=${top_builddir:-$(cd "$srcdir/../.." && pwd)}
top_srcdir=${top_srcdir:-$(cd "$srcdir/../.." && pwd)}
. "$top_srcdir/tests/lib.sh"
uigw_need_node_smpp "$top_srcdir/tests/smpp"
command -v sipp >/dev/null || { echo "FAIL: sipp missing (contrib/deps.sh test: package sip-tester)"; exit 1; }
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
exec timeout 300 "$PY" "$srcdir/extapp_integration.py" --daemon "$UIGW_BIN" --top-srcdir "$top_srcdir"
