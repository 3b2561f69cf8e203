#!/usr/bin/env python3
"""Print one line per SMPP PDU that tshark decodes from a capture: command_id|service_type|data_coding|
ussd_service_op. tshark's field output gives one line per frame, and a TCP segment often carries several PDUs:
its JSON output keeps each PDU as its own layer."""
import json
import subprocess
import sys

FIELDS = ('smpp.command_id', 'smpp.service_type', 'smpp.data_coding', 'smpp.ussd_service_op')


def walk(o, acc):
    if isinstance(o, dict):
        for k, v in o.items():
            if k in FIELDS and not isinstance(v, (dict, list)):
                acc.setdefault(k, v)
            else:
                walk(v, acc)
    elif isinstance(o, list):
        for x in o:
            walk(x, acc)


def main():
    pcap, port = sys.argv[1], sys.argv[2]
    out = subprocess.run(['tshark', '-r', pcap, '-d', 'tcp.port==%s,smpp' % port, '-Y', 'smpp', '-T', 'json',
                          '--no-duplicate-keys', '-J', 'smpp'], capture_output=True, text=True, timeout=120)
    for pkt in json.loads(out.stdout or '[]'):
        layers = pkt['_source']['layers'].get('smpp', [])
        for layer in layers if isinstance(layers, list) else [layers]:
            acc = {}
            walk(layer, acc)
            print('|'.join(acc.get(k, '') for k in FIELDS))


if __name__ == '__main__':
    main()
