#!/bin/sh
# osmo-uigw --vty-ref-xml: the standard Osmocom VTY reference is well-formed XML and holds every node and the
# commands operators look up (the trigger path, the channel nodes, the timers).
set -eu
top_builddir=${top_builddir:-$(cd "$(dirname "$0")/.." && pwd)}
bin="$top_builddir/src/osmo-uigw/osmo-uigw"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" --vty-ref-xml >"$tmp/ref.xml"
"$bin" --vty-ref-xml --vty-ref-mode expert >"$tmp/ref-expert.xml"
if "$bin" --vty-ref-xml --vty-ref-mode bogus >/dev/null 2>&1; then
	echo "FAIL: --vty-ref-mode bogus accepted"; exit 1
fi
python3 - "$tmp/ref.xml" "$tmp/ref-expert.xml" <<'PY'
import sys
import xml.etree.ElementTree as ET
ns = '{urn:osmocom:xml:libosmocore:vty:doc:1.0}'
for path in sys.argv[1:]:
    root = ET.parse(path).getroot()
    nodes = {n.get('id') for n in root.iter(ns + 'node')}
    cmds = {c.get('id') for c in root.iter(ns + 'command')}
    for want in ('config-uigw', 'config-store', 'config-gsup', 'config-smpp', 'config-smpp-smsc', 'config-sip'):
        assert want in nodes, '%s: node %s missing (%s)' % (path, want, sorted(nodes))
    for want in ('trigger NAME MSISDN [.ARGS]', 'show channels', 'show channel (map|gsup|smpp-ussd|smpp-sms|ims-msg|ussi|vty|api)',
                 'subscriber MSISDN dial CODE', 'reload campaigns'):
        assert want in cmds, '%s: command %r missing' % (path, want)
    print('%s: %d nodes, %d commands' % (path.rsplit('/', 1)[1], len(nodes), len(cmds)))
PY
echo "vty_ref: 3 passed, 0 failed"
