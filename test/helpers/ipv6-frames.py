#!/usr/bin/python3
"""IPv6 packets for the namespace tests (test/helpers/ipv6-probe.ts drives it).

Run with the system interpreter (/usr/bin/python3, standard library only):

  ipv6-frames.py send '<json>'    frames built byte by byte (Ethernet + IPv6 +
                                  ICMPv6/UDP, checksums computed here) and sent
                                  from an AF_PACKET socket, so the source MAC and
                                  address can be anything: spoofed sources, forged
                                  neighbour and router advertisements, DHCPv6
                                  server replies.
  ipv6-frames.py ping '<json>'    ICMPv6 messages of any type from an ordinary
                                  raw ICMPv6 socket (the kernel picks the source
                                  address, routes, resolves the neighbour and
                                  fills the checksum).
  ipv6-frames.py listen '<json>'  counts what arrives (raw ICMPv6 socket, or a UDP
                                  socket on a port) carrying the run's tag, until a
                                  packet carrying the fence tag arrives: a fence
                                  sent after the probes over the same path proves
                                  the probes had their chance, so a count of 0 is a
                                  verdict, not an early look. Writes its result as
                                  JSON to `out`; writes `ready` once bound.

Every message carries the tag in its payload so stray traffic (neighbour
discovery, the real radvd) is never counted.
"""
import json
import os
import random
import select
import socket
import struct
import sys
import time

ETH_P_IPV6 = 0x86DD
# Echo identifier, new for every run: conntrack keys ICMPv6 echo flows on it, so
# a probe must never ride on an earlier run's flow (ESTABLISHED after a reply).
IDENT = random.randrange(1, 0xFFFF)


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(':'))


def ip6(addr):
    return socket.inet_pton(socket.AF_INET6, addr)


def checksum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s >> 16) + (s & 0xFFFF)
    return ~s & 0xFFFF


def l4_checksum(src, dst, nh, payload):
    pseudo = ip6(src) + ip6(dst) + struct.pack('!IxxxB', len(payload), nh)
    return checksum(pseudo + payload)


def icmp6(src, dst, typ, code, body):
    msg = struct.pack('!BBH', typ, code, 0) + body
    c = l4_checksum(src, dst, 58, msg)
    return 58, msg[:2] + struct.pack('!H', c) + msg[4:]


def tag_option(tag):
    # An ND option of an experimental type (253, RFC 4727) carrying the tag:
    # receivers ignore unknown options (RFC 4861 4.6), listeners can count it.
    units = (2 + len(tag) + 7) // 8
    return struct.pack('!BB', 253, units) + tag + b'\0' * (units * 8 - 2 - len(tag))


def body_of(f, tag):
    kind = f['kind']
    if kind == 'echo':
        # echo request (128) or any other type with the echo layout: id, seq, tag
        return icmp6(f['src'], f['dst'], f.get('type', 128), f.get('code', 0), struct.pack('!HH', IDENT, 1) + tag)
    if kind == 'na':
        flags = (0x80 if f.get('router') else 0) | (0x40 if f.get('solicited') else 0) | (0x20 if f.get('override', True) else 0)
        body = struct.pack('!B3x', flags) + ip6(f['target'])
        body += struct.pack('!BB', 2, 1) + mac_bytes(f.get('tlla', f['srcMac']))  # target link-layer address option
        body += tag_option(tag)
        return icmp6(f['src'], f['dst'], 136, 0, body)
    if kind == 'ra':
        prefix, plen = f['prefix'].split('/')
        body = struct.pack('!BBHII', 64, 0, f.get('routerLifetime', 1800), 0, 0)
        body += struct.pack('!BB', 1, 1) + mac_bytes(f['srcMac'])  # source link-layer address option
        flags = f.get('prefixFlags', 0xC0)  # on-link, autonomous
        body += struct.pack('!BBBBIII', 3, 4, int(plen), flags, 86400, 14400, 0) + ip6(prefix)
        body += tag_option(tag)
        return icmp6(f['src'], f['dst'], 134, 0, body)
    if kind == 'udp':
        # DHCPv6 Reply (7) or Advertise (2) shaped: msg-type, transaction id, then the tag
        payload = struct.pack('!B3s', f.get('msgType', 7), b'\x12\x34\x56') + tag
        udp = struct.pack('!HHHH', f['sport'], f['dport'], 8 + len(payload), 0) + payload
        c = l4_checksum(f['src'], f['dst'], 17, udp) or 0xFFFF
        return 17, udp[:6] + struct.pack('!H', c) + udp[8:]
    raise SystemExit('unknown frame kind %r' % kind)


def frame(f, tag):
    nh, l4 = body_of(f, tag)
    hop = f.get('hopLimit', 255 if f['kind'] in ('na', 'ra') else 64)
    ip = struct.pack('!IHBB', 0x60000000, len(l4), nh, hop) + ip6(f['src']) + ip6(f['dst'])
    return mac_bytes(f['dstMac']) + mac_bytes(f['srcMac']) + struct.pack('!H', ETH_P_IPV6) + ip + l4


def send(spec):
    tag = spec['tag'].encode()
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((spec['iface'], 0))
    for f in spec['frames']:
        data = frame(f, tag)
        for _ in range(f.get('count', 3)):
            s.send(data)
            time.sleep(spec.get('gapMs', 20) / 1000)
    for f in spec.get('fence', []):
        data = frame(f, b'FENCE-' + tag)
        for _ in range(f.get('count', 3)):
            s.send(data)
            time.sleep(spec.get('gapMs', 20) / 1000)
    print('sent')


def ping(spec):
    tag = spec['tag'].encode()
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    dst = spec['dst']
    for typ in spec['types']:
        for _ in range(spec.get('count', 3)):
            s.sendto(struct.pack('!BBHHH', typ, 0, 0, IDENT, 1) + tag, (dst, 0))
            time.sleep(0.02)
    if 'fenceType' in spec:
        for _ in range(3):
            s.sendto(struct.pack('!BBHHH', spec['fenceType'], 0, 0, IDENT, 1) + b'FENCE-' + tag, (dst, 0))
            time.sleep(0.02)
    print('sent')


def listen(spec):
    tag = spec['tag'].encode()
    fence = b'FENCE-' + tag
    if spec['mode'] == 'icmp6':
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    else:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(('::', spec['port']))
    socks = [s]
    if spec.get('fencePort'):
        # A second port for the fence, when everything sent to `port` may be dropped on purpose.
        f = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        f.bind(('::', spec['fencePort']))
        socks.append(f)
    with open(spec['ready'], 'w') as fh:
        fh.write('ready')
    counts = {}
    fenced = False
    deadline = time.time() + spec.get('timeoutMs', 8000) / 1000
    while time.time() < deadline and not fenced:
        r, _, _ = select.select(socks, [], [], 0.2)
        if not r:
            continue
        data, addr = r[0].recvfrom(4096)
        src = addr[0].split('%')[0]
        if fence in data:
            fenced = True
            continue
        if tag not in data:
            continue
        key = '%s %d' % (src, data[0]) if spec['mode'] == 'icmp6' else '%s %d' % (src, addr[1])
        counts[key] = counts.get(key, 0) + 1
    with open(spec['out'] + '.tmp', 'w') as fh:
        json.dump({'counts': counts, 'fenced': fenced}, fh)
    os.rename(spec['out'] + '.tmp', spec['out'])


if __name__ == '__main__':
    {'send': send, 'ping': ping, 'listen': listen}[sys.argv[1]](json.loads(sys.argv[2]))
