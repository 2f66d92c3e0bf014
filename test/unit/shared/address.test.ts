import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addressBigint, addressFromBigint, addressRangeContains, addressRangeSize, addressRangesOverlap, addressRangeToCidrs,
  compareAddresses, expandPool, formatAddress, formatAddressRange, formatIpCidr, ipCidrContains, ipCidrNetwork, ipCidrRange,
  isAddressRangeReversed, isIpCidrAligned, normalizePool, parseAddress, parseAddressRange, parseIpCidr, poolContains, poolSize,
  subtractPool, type AddressRange, type IpAddress, type IpFamily,
} from '../../../src/shared/ip.ts';
import { seededRng } from '../../fixtures/gni/prng.ts';
import { sortMembers } from '../../../src/netd/netfilter/model.ts';

const addr = (text: string): IpAddress => {
  const a = parseAddress(text);
  assert.ok(a, text);
  return a;
};
const range = (text: string): AddressRange => {
  const r = parseAddressRange(text);
  assert.ok(r, text);
  return r;
};

test('parseAddress tags the family and keeps the per-family values', () => {
  assert.deepEqual(parseAddress('10.0.0.1'), { family: 'ipv4', value: 0x0a000001 });
  assert.deepEqual(parseAddress('2001:db8::1'), { family: 'ipv6', value: 0x20010db8000000000000000000000001n });
  assert.deepEqual(parseAddress('::ffff:10.0.0.1'), { family: 'ipv6', value: 0xffff0a000001n }, 'IPv4-mapped stays IPv6');
  assert.equal(parseAddress('10.0.0.1', 'ipv6'), undefined);
  assert.equal(parseAddress('::1', 'ipv4'), undefined);
  for (const bad of ['', '10.0.0', '010.0.0.1', '::1::', 'fe80::1%eth0', 'localhost']) assert.equal(parseAddress(bad), undefined, bad);
  assert.equal(formatAddress(addr('2001:DB8:0:0:0:0:0:1')), '2001:db8::1');
  assert.equal(formatAddress(addr('192.168.1.200')), '192.168.1.200');
});

test('compareAddresses: IPv4 before IPv6, then by value', () => {
  const sorted = ['::1', '10.0.0.2', '2001:db8::', '10.0.0.10', '0.0.0.0', '::', '255.255.255.255', '::ffff:0.0.0.1'].map(addr).sort(compareAddresses).map(formatAddress);
  assert.deepEqual(sorted, ['0.0.0.0', '10.0.0.2', '10.0.0.10', '255.255.255.255', '::', '::1', '::ffff:0.0.0.1', '2001:db8::']);
  assert.equal(compareAddresses(addr('::1'), addr('0:0::1')), 0);
});

test('CIDRs of both families: parse, format, alignment, network, containment across families', () => {
  assert.equal(formatIpCidr(parseIpCidr('10.1.2.3/8')!), '10.1.2.3/8');
  assert.equal(formatIpCidr(parseIpCidr('2001:0DB8::/32')!), '2001:db8::/32');
  for (const bad of ['10.0.0.0/33', '10.0.0.0/08', '::/129', '10.0.0.0', '10.0.0.0/', 'x/8']) assert.equal(parseIpCidr(bad), undefined, bad);
  assert.equal(parseIpCidr('10.0.0.0/8', 'ipv6'), undefined);
  assert.ok(isIpCidrAligned(parseIpCidr('10.0.0.0/8')!));
  assert.ok(!isIpCidrAligned(parseIpCidr('10.0.0.1/8')!));
  assert.ok(!isIpCidrAligned(parseIpCidr('2001:db8::1/64')!));
  assert.equal(formatIpCidr(ipCidrNetwork(parseIpCidr('2001:db8::1:2:3:4/64')!)), '2001:db8::/64');
  assert.equal(formatIpCidr(ipCidrNetwork(parseIpCidr('10.1.2.3/16')!)), '10.1.0.0/16');
  assert.ok(ipCidrContains(parseIpCidr('10.0.0.0/8')!, addr('10.255.0.1')));
  assert.ok(!ipCidrContains(parseIpCidr('0.0.0.0/0')!, addr('::ffff:10.0.0.1')), 'no containment across families');
  assert.ok(!ipCidrContains(parseIpCidr('::/0')!, addr('10.0.0.1')));
  assert.ok(ipCidrContains(parseIpCidr('::/0')!, addr('2001:db8::1')));
  assert.equal(formatAddressRange(ipCidrRange(parseIpCidr('2001:db8::1/126')!)), '2001:db8::-2001:db8::3');
  assert.equal(formatAddressRange(ipCidrRange(parseIpCidr('0.0.0.0/0')!)), '0.0.0.0-255.255.255.255');
});

test('ranges: parse, format, size as bigint, reversed, mixed families refused', () => {
  assert.equal(addressRangeSize(range('2001:db8::-2001:db8::ffff:ffff:ffff:ffff')), 1n << 64n);
  assert.equal(addressRangeSize(range('::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')), 1n << 128n);
  assert.equal(addressRangeSize(range(' 10.0.0.1 - 10.0.0.9 ')), 9n);
  assert.equal(formatAddressRange(range('2001:db8::1')), '2001:db8::1');
  assert.ok(isAddressRangeReversed(range('2001:db8::9-2001:db8::1')));
  assert.equal(addressRangeSize(range('2001:db8::9-2001:db8::1')), 0n);
  for (const bad of ['10.0.0.1-::1', '::1-10.0.0.1', '10.0.0.1-', '-::1', '::1-::2-::3']) assert.equal(parseAddressRange(bad), undefined, bad);
  assert.ok(!addressRangesOverlap(range('0.0.0.0-255.255.255.255'), range('::-::ffff:ffff:ffff')), 'no overlap across families');
  assert.ok(!addressRangeContains(range('0.0.0.0-255.255.255.255'), addr('::1')));
});

test('pools: normalise per family, subtract, expand with a limit', () => {
  const pool = ['2001:db8::10-2001:db8::1f', '10.0.0.5-10.0.0.9', '2001:db8::20', '10.0.0.1-10.0.0.4', '10.0.0.20', '2001:db8::8-2001:db8::c'].map(range);
  assert.deepEqual(normalizePool(pool).map(formatAddressRange), ['10.0.0.1-10.0.0.9', '10.0.0.20', '2001:db8::8-2001:db8::c', '2001:db8::10-2001:db8::20']);
  assert.equal(poolSize(pool), 9n + 1n + 5n + 17n);
  assert.ok(poolContains(pool, addr('2001:db8::1a')));
  assert.ok(!poolContains(pool, addr('2001:db8::d')));
  const left = subtractPool(pool, ['10.0.0.5', '2001:db8::10-2001:db8::1e', '10.0.0.0-10.0.0.1', '::a'].map(range));
  assert.deepEqual(left.map(formatAddressRange), ['10.0.0.2-10.0.0.4', '10.0.0.6-10.0.0.9', '10.0.0.20', '2001:db8::8-2001:db8::c', '2001:db8::1f-2001:db8::20']);
  assert.deepEqual(expandPool([range('2001:db8::ffff:fffe-2001:db8::1:0:1')]).map(formatAddress), ['2001:db8::ffff:fffe', '2001:db8::ffff:ffff', '2001:db8::1:0:0', '2001:db8::1:0:1']);
  assert.throws(() => expandPool([range('2001:db8::-2001:db8::ffff:ffff:ffff:ffff')]), RangeError);
  assert.throws(() => expandPool([range('10.0.0.0-10.0.0.9')], 9), RangeError);
  assert.equal(expandPool([range('10.0.0.0-10.0.0.9')], 10).length, 10);
});

test('rangeToCidrs covers a range exactly in both families', () => {
  assert.deepEqual(addressRangeToCidrs(range('10.0.0.1-10.0.0.10')).map(formatIpCidr), ['10.0.0.1/32', '10.0.0.2/31', '10.0.0.4/30', '10.0.0.8/31', '10.0.0.10/32']);
  assert.deepEqual(addressRangeToCidrs(range('::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).map(formatIpCidr), ['::/0']);
  assert.deepEqual(addressRangeToCidrs(range('0.0.0.0-255.255.255.255')).map(formatIpCidr), ['0.0.0.0/0']);
  assert.deepEqual(addressRangeToCidrs(range('2001:db8::1-2001:db8::ffff:ffff:ffff:ffff')).map(formatIpCidr).slice(0, 3), ['2001:db8::1/128', '2001:db8::2/127', '2001:db8::4/126']);
});

/** A random range inside a 64-address window at `base` (sometimes reversed). */
function randomRange(next: () => number, family: IpFamily, base: bigint): AddressRange {
  const a = base + BigInt(Math.floor(next() * 64));
  const b = next() < 0.7 ? a + BigInt(Math.floor(next() * 12)) : base + BigInt(Math.floor(next() * 64));
  return { lo: addressFromBigint(family, a), hi: addressFromBigint(family, b < base + 64n ? b : base + 63n) };
}

test('pool functions agree with brute-force sets on small windows of both families', () => {
  const next = seededRng(1918).next;
  const bases: [IpFamily, bigint][] = [['ipv4', 0x0a000000n], ['ipv4', 0xffffffc0n], ['ipv6', 0x20010db8n << 96n], ['ipv6', (1n << 128n) - 64n]];
  const members = (pool: readonly AddressRange[]) => {
    const out = new Set<string>();
    for (const r of pool) for (let v = addressBigint(r.lo); v <= addressBigint(r.hi); v++) out.add(`${r.lo.family}/${v}`);
    return out;
  };
  for (let round = 0; round < 300; round++) {
    const [family, base] = bases[round % bases.length]!;
    const pool = Array.from({ length: 1 + Math.floor(next() * 4) }, () => randomRange(next, family, base));
    const holes = Array.from({ length: Math.floor(next() * 4) }, () => randomRange(next, family, base));
    const want = members(pool);
    const normal = normalizePool(pool);
    assert.deepEqual(members(normal), want);
    for (let i = 1; i < normal.length; i++) assert.ok(addressBigint(normal[i]!.lo) > addressBigint(normal[i - 1]!.hi) + 1n, 'normalised ranges neither overlap nor touch');
    assert.equal(poolSize(pool), BigInt(want.size));
    const removed = members(holes);
    assert.deepEqual(members(subtractPool(pool, holes)), new Set([...want].filter((m) => !removed.has(m))));
    assert.deepEqual(expandPool(pool).map((a) => `${a.family}/${addressBigint(a)}`), [...want].sort((x, y) => (BigInt(x.split('/')[1]!) < BigInt(y.split('/')[1]!) ? -1 : 1)));
    for (const r of normal) {
      const cidrs = addressRangeToCidrs(r);
      assert.deepEqual(members(cidrs.map(ipCidrRange)), members([r]), formatAddressRange(r));
      for (const c of cidrs) assert.ok(isIpCidrAligned(c), formatIpCidr(c));
    }
    for (let v = base; v < base + 64n; v++) {
      const ip = addressFromBigint(family, v);
      assert.equal(poolContains(pool, ip), want.has(`${family}/${v}`));
      assert.equal(pool.some((r) => addressRangesOverlap(r, { lo: ip, hi: ip })), want.has(`${family}/${v}`));
    }
    const prefix = FAMILY_PREFIX[family] - Math.floor(next() * 6);
    const cidr = { address: addressFromBigint(family, base + BigInt(Math.floor(next() * 64))), prefix };
    const span = ipCidrRange(cidr);
    for (let v = base; v < base + 64n; v++) assert.equal(ipCidrContains(cidr, addressFromBigint(family, v)), addressRangeContains(span, addressFromBigint(family, v)));
  }
});

const FAMILY_PREFIX: Record<IpFamily, number> = { ipv4: 32, ipv6: 128 };

test('ipset members (netd/netfilter sortMembers) sort with the shared parsers: IPv4 numerically, then IPv6, then prefix length', () => {
  assert.deepEqual(
    sortMembers(['10.0.0.10', '2001:db8::10', '10.0.0.9/32', '10.0.0.0/8', '2001:db8::2/127', '10.0.0.9', '2001:db8::2', '::1', '10.0.0.10']),
    ['10.0.0.0/8', '10.0.0.9/32', '10.0.0.9', '10.0.0.10', '::1', '2001:db8::2/127', '2001:db8::2', '2001:db8::10'],
  );
});
