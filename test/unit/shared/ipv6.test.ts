import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cidrContains6, eui64InterfaceId, formatCidr6, formatIpv6, ipv6Groups, isAligned6, linkLocalAddress, parseCidr6,
  parseIpv6, prefixToMask6, slaacAddress, solicitedNodeAddress, IPV6_MAX,
} from '../../../src/shared/ip.ts';
import { seededRng } from '../../fixtures/gni/prng.ts';

const seeded = (seed: number) => seededRng(seed).next;

const canon = (text: string) => {
  const v = parseIpv6(text);
  return v === undefined ? undefined : formatIpv6(v);
};

test('RFC 5952 §4 canonical text: lowercase, no leading zeros, longest zero run, leftmost on a tie, no single-group ::', () => {
  const cases: [string, string][] = [
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // §4.2.3 tie: the first run
    ['2001:0db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // §4.1 leading zeros
    ['2001:db8::0:1', '2001:db8::1'], // §4.2.1 shorten as much as possible
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
    ['2001:db8:0000:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // §4.2.2 one zero group is not compressed
    ['2001:db8::1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // §4.2.3 the longest run
    ['2001:db8:0:0:1:0:0:0', '2001:db8:0:0:1::'],
    ['2001:DB8::AAAA:0:0:1', '2001:db8::aaaa:0:0:1'], // §4.3 lowercase
    ['1:0:0:2:0:0:3:4', '1::2:0:0:3:4'],
    ['0:0:1:0:0:0:0:1', '0:0:1::1'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'], // :: may stand for one group in input, never in output
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'], // §5 IPv4-mapped in mixed notation
    ['::FFFF:c000:0201', '::ffff:192.0.2.1'],
    ['::ffff:0:0', '::ffff:0.0.0.0'],
  ];
  for (const [input, expected] of cases) assert.equal(canon(input), expected, input);
});

test('RFC 4291 §2.2 text forms', () => {
  const cases: [string, string][] = [
    ['2001:DB8:0:0:8:800:200C:417A', '2001:db8::8:800:200c:417a'],
    ['FF01:0:0:0:0:0:0:101', 'ff01::101'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['2001:0DB8:0000:0000:0008:0800:200C:417A', '2001:db8::8:800:200c:417a'],
    ['FF01::101', 'ff01::101'],
    ['::', '::'],
    ['1::', '1::'],
    ['0:0:0:0:0:0:13.1.68.3', '::d01:4403'], // deprecated IPv4-compatible: hex on output (see ipv6.ts)
    ['::13.1.68.3', '::d01:4403'],
    ['0:0:0:0:0:FFFF:129.144.52.38', '::ffff:129.144.52.38'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
    ['ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
  ];
  for (const [input, expected] of cases) assert.equal(canon(input), expected, input);
  assert.equal(parseIpv6('::1'), 1n);
  assert.equal(parseIpv6('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), IPV6_MAX);
  assert.equal(parseIpv6('2001:db8::1'), 0x20010db8000000000000000000000001n);
});

test('malformed IPv6 text is refused', () => {
  const bad = [
    '', ':', ':::', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1::2::3', '::1::', '12345::', '00000::1', '1:2:3:4:5:6:7:00000',
    'g::1', ':1::2', '1::2:', '1:2:3:4:5:6:7:8::', '::1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:', ':1:2:3:4:5:6:7:8',
    'fe80::1%eth0', ' ::1', '::1 ', '::ffff:1.2.3', '::ffff:01.2.3.4', '::ffff:256.1.1.1', '::1.2.3.4.5', '::1.2.3.4:5',
    '1:2:3:4:5:6:7:1.2.3.4', '1.2.3.4', '::ffff:1.2.3.4/32', '[::1]', '1:2:3:4:5:6:7:8:1.2.3.4', '::0x1', '1:-1::',
    'ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.2555',
  ];
  for (const text of bad) assert.equal(parseIpv6(text), undefined, text);
});

/** Random 128-bit values with many zero groups, so compression paths are exercised. */
function randomIpv6(next: () => number): bigint {
  let v = 0n;
  for (let i = 0; i < 8; i++) {
    const r = next();
    const group = r < 0.45 ? 0 : r < 0.55 ? 0xffff : Math.floor(next() * 0x10000);
    v = (v << 16n) | BigInt(group);
  }
  return v;
}

test('parse(format(x)) === x on random values, and the text matches the WHATWG URL serializer (an independent RFC 5952 writer)', () => {
  const next = seeded(5952);
  for (let i = 0; i < 5000; i++) {
    const v = randomIpv6(next);
    const text = formatIpv6(v);
    assert.equal(parseIpv6(text), v, text);
    assert.equal(parseIpv6(text.toUpperCase()), v, text);
    const groups = ipv6Groups(v);
    assert.equal(parseIpv6(groups.map((g) => g.toString(16).padStart(4, '0')).join(':')), v, 'full form');
    // URL writes ::ffff:a.b.c.d in hex; everything else must agree character for character.
    if (!text.startsWith('::ffff:') || !text.includes('.')) assert.equal(`[${text}]`, new URL(`http://[${text}]/`).hostname, text);
  }
});

test('prefixes: parse, format, alignment, containment agree with brute force on small prefixes', () => {
  assert.deepEqual(parseCidr6('2001:db8::/32'), { network: 0x20010db8n << 96n, prefix: 32 });
  assert.equal(formatCidr6(parseCidr6('2001:DB8:0::/48')!), '2001:db8::/48');
  for (const bad of ['2001:db8::', '2001:db8::/129', '2001:db8::/01', '2001:db8::/', '/64', '2001:db8::/-1', '2001:db8::/6 4']) assert.equal(parseCidr6(bad), undefined, bad);
  assert.ok(isAligned6(parseCidr6('2001:db8::/64')!));
  assert.ok(!isAligned6(parseCidr6('2001:db8::1/64')!));
  assert.ok(isAligned6(parseCidr6('::/0')!));
  assert.equal(prefixToMask6(0), 0n);
  assert.equal(prefixToMask6(128), IPV6_MAX);
  assert.equal(formatIpv6(prefixToMask6(64)), 'ffff:ffff:ffff:ffff::');
  assert.ok(cidrContains6(parseCidr6('::/0')!, IPV6_MAX));
  const next = seeded(4291);
  for (let i = 0; i < 200; i++) {
    const base = randomIpv6(next) & ~0xffn & IPV6_MAX;
    const prefix = 120 + Math.floor(next() * 9);
    const network = base | BigInt(Math.floor(next() * 256));
    const cidr = { network, prefix };
    const size = 1n << BigInt(128 - prefix);
    const lo = network - (network % size);
    for (let x = base; x < base + 256n; x++) assert.equal(cidrContains6(cidr, x), x >= lo && x < lo + size, `${formatCidr6(cidr)} ∋ ${formatIpv6(x)}`);
    assert.equal(isAligned6(cidr), network === lo);
  }
});

test('modified EUI-64, link-local, SLAAC and solicited-node addresses', () => {
  // The kernel's own link-local for eth0 (MAC 02:fc:00:00:00:01) on the project machine.
  assert.equal(formatIpv6(linkLocalAddress('02:fc:00:00:00:01')!), 'fe80::fc:ff:fe00:1');
  // RFC 4291 appendix A: the universal/local bit is inverted.
  assert.equal(eui64InterfaceId('34:56:78:9A:BC:DE'), 0x365678fffe9abcden);
  assert.equal(formatIpv6(linkLocalAddress('00:1b:21:3c:4d:5e')!), 'fe80::21b:21ff:fe3c:4d5e');
  assert.equal(formatIpv6(slaacAddress(parseCidr6('2001:db8:1:2::/64')!, 'd0:0d:00:00:00:2a')!), '2001:db8:1:2:d20d:ff:fe00:2a');
  assert.equal(slaacAddress(parseCidr6('2001:db8:1:2::/80')!, 'd0:0d:00:00:00:2a'), undefined);
  for (const bad of ['', '00:1b:21:3c:4d', '00-1b-21-3c-4d-5e', '001b.213c.4d5e', '00:1b:21:3c:4d:5g', '0:1b:21:3c:4d:5e']) assert.equal(eui64InterfaceId(bad), undefined, bad);
  assert.equal(formatIpv6(solicitedNodeAddress(parseIpv6('2001:db8::abcd:1234:5678')!)), 'ff02::1:ff34:5678');
  assert.equal(formatIpv6(solicitedNodeAddress(parseIpv6('fe80::fc:ff:fe00:1')!)), 'ff02::1:ff00:1');
});
