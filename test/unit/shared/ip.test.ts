import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseIp, formatIp, parseNetmask, parseCidr, isAligned, parseRangeEntry, isReversed, normalizeRanges,
  subtractAddresses, rangeToCidrs, formatCidr, hostRange, totalSize, rangesOverlap,
} from '../../../src/shared/ip.ts';

test('parseIp accepts dotted quads and rejects everything else', () => {
  assert.equal(parseIp('10.111.0.1'), 0x0a6f0001);
  assert.equal(parseIp('255.255.255.255'), 0xffffffff);
  assert.equal(formatIp(parseIp('192.168.1.200')!), '192.168.1.200');
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', ' 1.2.3.4', '1.2.3.-1', 'a.b.c.d']) {
    assert.equal(parseIp(bad), undefined, bad);
  }
});

test('netmasks must be contiguous', () => {
  assert.equal(parseNetmask('255.255.0.0'), 16);
  assert.equal(parseNetmask('255.255.255.255'), 32);
  assert.equal(parseNetmask('0.0.0.0'), 0);
  assert.equal(parseNetmask('255.255.0.1'), undefined);
  assert.equal(parseNetmask('255.0.255.0'), undefined);
});

test('CIDR alignment and host range', () => {
  assert.ok(isAligned(parseCidr('10.111.0.0/16')!));
  assert.ok(!isAligned(parseCidr('10.111.0.1/16')!));
  const hr = hostRange(parseCidr('10.111.0.0/16')!)!;
  assert.equal(formatIp(hr.lo), '10.111.0.1');
  assert.equal(formatIp(hr.hi), '10.111.255.254');
});

test('range entries: single, range, whitespace, reversed, malformed', () => {
  assert.deepEqual(parseRangeEntry('1.2.3.4'), { lo: parseIp('1.2.3.4'), hi: parseIp('1.2.3.4') });
  const r = parseRangeEntry(' 10.0.0.1 - 10.0.0.9 ')!;
  assert.equal(totalSize([r]), 9);
  assert.ok(isReversed(parseRangeEntry('10.0.0.9-10.0.0.1')!));
  assert.equal(parseRangeEntry('10.0.0.1-'), undefined);
  assert.equal(parseRangeEntry('10.0.0.1-10.0.0.2-10.0.0.3'), undefined);
});

test('normalize, subtract, overlap', () => {
  const a = parseRangeEntry('10.0.0.1-10.0.0.10')!;
  const b = parseRangeEntry('10.0.0.11-10.0.0.20')!;
  assert.equal(normalizeRanges([b, a]).length, 1);
  assert.ok(!rangesOverlap(a, b));
  const split = subtractAddresses([a], [parseIp('10.0.0.5')!]);
  assert.equal(split.length, 2);
  assert.equal(totalSize(split), 9);
});

test('rangeToCidrs covers a range exactly', () => {
  const cidrs = rangeToCidrs(parseRangeEntry('10.0.0.1-10.0.0.10')!).map(formatCidr);
  assert.deepEqual(cidrs, ['10.0.0.1/32', '10.0.0.2/31', '10.0.0.4/30', '10.0.0.8/31', '10.0.0.10/32']);
  assert.deepEqual(rangeToCidrs({ lo: 0, hi: 0xffffffff }).map(formatCidr), ['0.0.0.0/0']);
});

test('IPV4_RESERVED: one list for every reader (ROUTED pool and peers, sanitize, netd ROUTED checks)', async () => {
  const { ipv4Reserved, ipv4RangeReserved, isRoutableUnicastIpv4, parseIp: p } = await import('../../../src/shared/ip.ts');
  for (const [ip, reserved] of [
    ['0.0.0.0', true], ['0.255.255.255', true], ['1.0.0.0', false], ['126.255.255.255', false], ['127.0.0.1', true],
    ['169.253.255.255', false], ['169.254.0.1', true], ['169.254.169.254', true], ['169.255.0.0', false],
    ['223.255.255.255', false], ['224.0.0.0', true], ['239.255.255.250', true], ['240.0.0.1', true], ['255.255.255.255', true], ['10.50.0.10', false],
  ] as const) {
    assert.equal(ipv4Reserved(p(ip)!) !== undefined, reserved, ip);
    assert.equal(isRoutableUnicastIpv4(p(ip)!), !reserved, ip);
  }
  assert.match(ipv4RangeReserved({ lo: p('169.253.255.0')!, hi: p('169.254.0.0')! })!, /169\.254\.0\.0\/16/);
  assert.equal(ipv4RangeReserved({ lo: p('10.0.0.0')!, hi: p('10.255.255.255')! }), undefined);
});

test('MAC forms: one predicate for every reader (config drive, ROUTED render, sanitize)', async () => {
  const { isMacAddress, isUnicastMacAddress } = await import('../../../src/shared/ip.ts');
  for (const [mac, form, unicast] of [
    ['d0:0d:00:00:00:01', true, true], ['D0:0D:00:00:00:01', true, true], ['01:00:5e:00:00:01', true, false], ['00:00:00:00:00:00', true, false],
    ['ff:ff:ff:ff:ff:ff', true, false], ['d0:0d:00:00:00', false, false], ['d0-0d-00-00-00-01', false, false], ['', false, false],
  ] as const) {
    assert.equal(isMacAddress(mac), form, mac);
    assert.equal(isUnicastMacAddress(mac), unicast, mac);
  }
});
