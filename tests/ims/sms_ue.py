#!/usr/bin/env python3
"""UE side of SMS over IP (TS 24.341) against osmo-uigw: the spam report in application/vnd.3gpp.sms.

SIPp cannot carry these binary bodies (they contain NUL octets), so this small UE does it: each answer goes out
as MESSAGE with RP-DATA(SMS-SUBMIT) to the service centre's PSI and must get 202; the gateway's RP-ACK and its
RP-DATA(SMS-DELIVER) screens arrive as MESSAGEs at the UE's contact (200 each), and every SMS-DELIVER is
acknowledged with RP-ACK(DELIVER-REPORT) (202 expected). Checks the RP/TP fields and the texts.
Usage: sms_ue.py GW_PORT UE_PORT
"""
import re
import socket
import sys
import time

GW = ('127.0.0.1', int(sys.argv[1]))
UE_PORT = int(sys.argv[2])
MSISDN = '+491720000160'
SC = '+491720009999'
GSM7 = ('@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?'
        '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà')

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(('127.0.0.1', UE_PORT))
sock.settimeout(0.2)
seq = [0]


def fail(msg):
    print('FAIL: ' + msg)
    sys.exit(1)


def bcd(digits):
    if len(digits) % 2:
        digits += 'F'
    return bytes(int(digits[i + 1], 16) << 4 | int(digits[i], 16) for i in range(0, len(digits), 2))


def unbcd(b, n):
    s = ''.join('%x%x' % (x & 0xf, x >> 4) for x in b)
    return s[:n]


def pack7(text):
    septets = [GSM7.index(c) for c in text]
    out, acc, bits = bytearray(), 0, 0
    for s in septets:
        acc |= s << bits
        bits += 7
        while bits >= 8:
            out.append(acc & 0xff)
            acc >>= 8
            bits -= 8
    if bits:
        out.append(acc)
    return len(septets), bytes(out)


def unpack7(data, n):
    acc, bits, out = 0, 0, []
    for b in data:
        acc |= b << bits
        bits += 8
        while bits >= 7 and len(out) < n:
            out.append(acc & 0x7f)
            acc >>= 7
            bits -= 7
    return out


def rp_data_mo(ref, text, da='7726'):
    n, ud = pack7(text)
    tpdu = bytes([0x11, ref, len(da), 0x81]) + bcd(da) + bytes([0x00, 0x00, 0xa7, n]) + ud
    sc = bytes([0x91]) + bcd(SC[1:])
    return bytes([0x00, ref, 0x00, len(sc)]) + sc + bytes([len(tpdu)]) + tpdu


def rp_data_mo_part(ref, text, cref, total, seqn, da='7726'):
    """one part of a concatenated SMS-SUBMIT: UDH 05 00 03 cref total seq, the text after a fill bit"""
    udh = bytes([5, 0, 3, cref, total, seqn])
    septets = [0] * 7 + [GSM7.index(c) for c in text]	# 7 septets = the 6 UDH octets and one fill bit
    out, acc, bits = bytearray(), 0, 0
    for s in septets:
        acc |= s << bits
        bits += 7
        while bits >= 8:
            out.append(acc & 0xff)
            acc >>= 8
            bits -= 8
    if bits:
        out.append(acc)
    ud = udh + bytes(out[6:])
    tpdu = bytes([0x51, ref, len(da), 0x81]) + bcd(da) + bytes([0x00, 0x00, 0xa7, len(septets)]) + ud
    sc = bytes([0x91]) + bcd(SC[1:])
    return bytes([0x00, ref, 0x00, len(sc)]) + sc + bytes([len(tpdu)]) + tpdu


def message(body):
    seq[0] += 1
    hdr = ('MESSAGE sip:%s@ims.example.net SIP/2.0\r\n'
           'Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKsms%d\r\n'
           'From: <sip:%s@ims.example.net>;tag=ue%d\r\nTo: <sip:%s@ims.example.net>\r\n'
           'Call-ID: sms-ue-%d\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n'
           'P-Asserted-Identity: <sip:%s@127.0.0.1:%d>\r\n'
           'Content-Type: application/vnd.3gpp.sms\r\nContent-Length: %d\r\n\r\n'
           % (SC, UE_PORT, seq[0], MSISDN, seq[0], SC, seq[0], MSISDN, UE_PORT, len(body)))
    return hdr.encode() + body


def split(data):
    head, _, body = data.partition(b'\r\n\r\n')
    lines = head.decode('utf-8', 'replace').split('\r\n')
    return lines[0], lines[1:], body


def header(hdrs, name):
    for h in hdrs:
        k, _, v = h.partition(':')
        if k.strip().lower() == name.lower():
            return v.strip()
    return None


def respond(data, code, reason):
    _, hdrs, _ = split(data)
    out = 'SIP/2.0 %d %s\r\n' % (code, reason)
    for name in ('Via', 'From', 'To', 'Call-ID', 'CSeq'):
        v = header(hdrs, name)
        if name == 'To' and 'tag=' not in v:
            v += ';tag=ue-resp'
        out += '%s: %s\r\n' % (name, v)
    out += 'Content-Length: 0\r\n\r\n'
    sock.sendto(out.encode(), GW)


def recv(deadline):
    while time.time() < deadline:
        try:
            data, _ = sock.recvfrom(65535)
            return data
        except socket.timeout:
            pass
    return None


def send_expect(body, code):
    """send a MESSAGE, collect what the gateway sends until our response arrives; returns requests seen"""
    sock.sendto(message(body), GW)
    got, reqs = False, []
    deadline = time.time() + 5
    while not got:
        data = recv(deadline)
        if data is None:
            fail('no %d to our MESSAGE' % code)
        start, _, _ = split(data)
        if start.startswith('SIP/2.0'):
            if int(start.split()[1]) != code:
                fail('got %s, expected %d' % (start, code))
            got = True
        else:
            reqs.append(data)
    return reqs


def decode_deliver(body):
    if body[0] != 0x01:
        fail('RP-DATA MT expected, MTI %d' % body[0])
    ref = body[1]
    sc_len = body[2]
    sc = '+' + unbcd(body[4:3 + sc_len], 2 * (sc_len - 1))
    p = 3 + sc_len
    if body[p] != 0:
        fail('RP-DA must be empty')
    p += 2
    t = body[p:]
    fo = t[0]
    if fo & 0x03 != 0:
        fail('SMS-DELIVER expected')
    oal = t[1]
    oa = unbcd(t[3:3 + (oal + 1) // 2], oal)
    q = 3 + (oal + 1) // 2
    dcs = t[q + 1]
    q += 2 + 7
    udl = t[q]
    ud = t[q + 1:]
    udh = None
    if dcs == 0x08:
        if fo & 0x40:
            udh = ud[:ud[0] + 1]
            ud = ud[ud[0] + 1:udl]
        text = ud[:udl].decode('utf-16-be')
    else:
        septets = unpack7(ud, udl)
        if fo & 0x40:
            udh = ud[:ud[0] + 1]
            septets = septets[(len(udh) * 8 + 6) // 7:]
        text = ''.join(GSM7[s] for s in septets)
    return ref, sc, oa, udh, text


def step(ref, text, want, body=None):
    reqs = send_expect(body if body is not None else rp_data_mo(ref, text), 202)
    deadline = time.time() + 5
    acked, parts = False, []
    while True:
        for data in reqs:
            _, hdrs, body = split(data)
            if header(hdrs, 'Content-Type') != 'application/vnd.3gpp.sms':
                fail('unexpected request ' + split(data)[0])
            if 'g.3gpp.smsip' not in (header(hdrs, 'Accept-Contact') or ''):
                fail('no Accept-Contact with +g.3gpp.smsip')
            respond(data, 200, 'OK')
            if body[0] == 0x03:
                if body[1] != ref:
                    fail('RP-ACK for ref %d, expected %d' % (body[1], ref))
                acked = True
                continue
            mref, sc, oa, udh, txt = decode_deliver(body)
            if sc != SC or oa != '7726':
                fail('RP-OA %s / TP-OA %s' % (sc, oa))
            parts.append((udh, txt))
            # the UE's RP-ACK with an empty DELIVER-REPORT
            send_expect(bytes([0x02, mref, 0x41, 0x02, 0x00, 0x00]), 202)
            if udh is None or udh[5] == udh[4]:
                full = ''.join(t for _, t in parts)
                if not acked:
                    fail('no RP-ACK before the reply')
                if not re.search(want, full):
                    fail('reply %r does not match %r' % (full, want))
                print('   sms reply: ' + full.split('\n')[0])
                return
        reqs = []
        data = recv(deadline)
        if data is None:
            fail('no reply to %r' % text)
        reqs.append(data)


step(1, 'SPAM', r'^Number that called you\?')
step(2, '+4930777777', r'^Report \+4930777777\? Reports so far: 0\.')
step(3, '1', r'^Thank you\. Reports of \+4930777777 so far: 1\.$')

# a concatenated SMS in two parts, the second first: each part gets its RP-ACK, the dialog sees "SPAM" once
reqs = send_expect(rp_data_mo_part(4, 'AM', 0x42, 2, 2), 202)
deadline = time.time() + 1.0
acks = 0
while time.time() < deadline:
    for data in reqs:
        _, hdrs, body = split(data)
        respond(data, 200, 'OK')
        if body[0] != 0x03 or body[1] != 4:
            fail('only the RP-ACK of part 2 may come before part 1 (got MTI %d ref %d)' % (body[0], body[1]))
        acks += 1
    reqs = []
    data = recv(deadline)
    if data is not None:
        reqs.append(data)
if acks != 1:
    fail('part 2 alone: %d RP-ACKs, expected 1' % acks)
print('   sms part 2 of 2: RP-ACK, no reply yet')
step(5, None, r'^Number that called you\?', body=rp_data_mo_part(5, 'SP', 0x42, 2, 1))
print('ok')
