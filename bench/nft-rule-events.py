#!/usr/bin/python3
"""
Prints one line per rule the kernel's nf_tables adds, as it announces it
(netlink group NFNLGRP_NFTABLES, the notifications `xtables-monitor -e`
reads), for the propagation bench:

    <epoch ms> <ipv4|ipv6|bridge|…> <table> <chain> <rule comment>

xtables-monitor 1.8.9 cannot print an ip6 rule with a layer-4 protocol (it
exits with "unsupported layer 4 protocol value"), so the bench reads the
notifications itself: the rule's comment (iptables' `-m comment`, which the
nft backend keeps as a compat `comment` match expression; nft's own rule
comment, the user data, when there is none) says which rule it is. The timestamp is
taken when the notification is received. An overrun socket (ENOBUFS) is
reported as a line and listening goes on. Run inside the node's namespace;
stop it with SIGTERM.
"""
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NFNLGRP_NFTABLES = 7
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
SO_RCVBUFFORCE = 33
NFT_NEWRULE = (10 << 8) | 6  # NFNL_SUBSYS_NFTABLES, NFT_MSG_NEWRULE
NFTA_RULE_TABLE, NFTA_RULE_CHAIN, NFTA_RULE_EXPRESSIONS, NFTA_RULE_USERDATA = 1, 2, 4, 7
NFTA_LIST_ELEM, NFTA_EXPR_NAME, NFTA_EXPR_DATA = 1, 1, 2
NFTA_MATCH_NAME, NFTA_MATCH_INFO = 1, 3
FAMILIES = {2: 'ipv4', 10: 'ipv6', 7: 'bridge', 1: 'inet', 3: 'arp'}


def attributes(data, start, end):
    out = {}
    while start + 4 <= end:
        length, kind = struct.unpack_from('=HH', data, start)
        if length < 4:
            break
        out[kind & 0x3FFF] = data[start + 4:start + length]
        start += (length + 3) & ~3
    return out


def text(value):
    return value.split(b'\0', 1)[0].decode('utf-8', 'replace')


def elements(data):
    # A nested list: every attribute is an NFTA_LIST_ELEM.
    out, i = [], 0
    while i + 4 <= len(data):
        length, kind = struct.unpack_from('=HH', data, i)
        if length < 4:
            break
        if kind & 0x3FFF == NFTA_LIST_ELEM:
            out.append(attributes(data, i + 4, i + length))
        i += (length + 3) & ~3
    return out


def match_comment(expressions):
    # iptables-nft's `-m comment`: a compat match expression named comment, its info the text.
    for e in elements(expressions):
        if text(e.get(NFTA_EXPR_NAME, b'')) != 'match':
            continue
        m = attributes(e.get(NFTA_EXPR_DATA, b''), 0, len(e.get(NFTA_EXPR_DATA, b'')))
        if text(m.get(NFTA_MATCH_NAME, b'')) == 'comment':
            return text(m.get(NFTA_MATCH_INFO, b''))
    return ''


def comment(userdata):
    # libnftnl user data: TLVs of (type u8, length u8, value); the comment is type 0.
    i = 0
    while i + 2 <= len(userdata):
        kind, length = userdata[i], userdata[i + 1]
        if kind == 0:
            return text(userdata[i + 2:i + 2 + length])
        i += 2 + length
    return ''


def main():
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    try:
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 << 20)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 20)
    s.bind((0, 0))
    s.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, NFNLGRP_NFTABLES)
    out = sys.stdout
    out.write('%.1f listening\n' % (time.time() * 1000))
    out.flush()
    while True:
        try:
            data = s.recv(1 << 22)
        except OSError as e:
            out.write('%.1f overrun errno %d\n' % (time.time() * 1000, e.errno))
            out.flush()
            continue
        now = time.time() * 1000
        off = 0
        lines = []
        while off + 16 <= len(data):
            length, kind = struct.unpack_from('=IH', data, off)
            if length < 16:
                break
            if kind == NFT_NEWRULE and length >= 20:
                family = FAMILIES.get(data[off + 16], str(data[off + 16]))
                a = attributes(data, off + 20, off + length)
                lines.append('%.1f %s %s %s %s\n' % (now, family, text(a.get(NFTA_RULE_TABLE, b'?')), text(a.get(NFTA_RULE_CHAIN, b'?')), match_comment(a.get(NFTA_RULE_EXPRESSIONS, b'')) or comment(a.get(NFTA_RULE_USERDATA, b''))))
            off += (length + 3) & ~3
        if lines:
            out.write(''.join(lines))
            out.flush()


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        pass
