/**
 * The IPv6 keys of the property (issue 14): Ipv6Prefix and Ipv6DnsServers on
 * top-level and inline subnets. Each rule is shown failing in
 * test/fixtures/config/invalid/ (corpus.test.ts); here each is shown passing
 * where it should, plus the warnings, inheritance by Name in explode, the
 * schema's IPv6 pattern agreeing with the parser, and that a property without
 * IPv6 keys explodes exactly as before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { validateNetworkConfiguration } from '../../../src/cloud-controller/modes/validate.ts';
import { DEFAULT_EXPLODE_INPUTS, explode } from '../../../src/cloud-controller/config/explode.ts';
import { parseCidr6, parseIpv6, formatIpv6 } from '../../../src/shared/ip.ts';
import schema from '../../../schemas/network_configuration.schema.json' with { type: 'json' };
import type { NetworkConfiguration } from '../../../src/cloud-controller/config/types.ts';

const SUB = { Subnet: '10.111.0.0', Netmask: '255.255.0.0', Gateway: '10.111.0.1' };
const SUB2 = { Subnet: '10.112.0.0', Netmask: '255.255.0.0', Gateway: '10.112.0.1' };
const diags = (doc: unknown) => validateNetworkConfiguration(doc).diagnostics.map((d) => `${d.severity} ${d.code} ${d.path}`);
const cluster = (Name: string, Subnet: object, extra: object = {}) => ({ Name, Subnet, ...extra });

function ex(doc: NetworkConfiguration, registeredClusters?: string[]) {
  const v = validateNetworkConfiguration(doc);
  assert.ok(v.ok, JSON.stringify(v.diagnostics));
  return explode(v.value, { ...DEFAULT_EXPLODE_INPUTS, ...(registeredClusters ? { registeredClusters } : {}) });
}

test('global unicast and unique local /64s with name servers are valid, without any diagnostic', () => {
  for (const prefix of ['2001:db8:10::/64', '2a01:4f8:1:2::/64', 'fd12:3456:789a:1::/64', 'FC00:0:0:1::/64', '3fff:ffff:ffff:ffff::/64']) {
    const doc = { PublicIps: ['192.0.2.1'], Clusters: [cluster('PARTI00', { ...SUB, Ipv6Prefix: prefix, Ipv6DnsServers: ['2001:db8::53', 'fd00::53', '64:ff9b::a00:2'] })] };
    assert.deepEqual(diags(doc), [], prefix);
  }
});

test('a property without IPv6 keys explodes without any IPv6 key (exactly as before)', () => {
  const e = ex({ PublicIps: ['192.0.2.1'], Subnets: [{ Name: 'r', ...SUB }], Clusters: [cluster('PARTI00', { Name: 'r' })] });
  assert.deepEqual(e.Subnets[0], { Name: 'r', ...SUB });
  assert.deepEqual(e.Clusters[0]?.Subnet, { Name: 'r', ...SUB });
  assert.ok(!JSON.stringify(e).includes('Ipv6'));
});

test('explode: inline keys in canonical text; a reference by Name and the single-subnet default inherit them', () => {
  const inline = ex({ PublicIps: ['192.0.2.1'], Clusters: [cluster('A', { ...SUB, Ipv6Prefix: '2001:DB8:0010:0::/64', Ipv6DnsServers: ['2001:db8:0::0053'] })] });
  assert.equal(inline.Clusters[0]?.Subnet.Ipv6Prefix, '2001:db8:10::/64');
  assert.deepEqual(inline.Clusters[0]?.Subnet.Ipv6DnsServers, ['2001:db8::53']);
  const top = { Name: 'rack', ...SUB, Ipv6Prefix: '2001:db8:10::/64', Ipv6DnsServers: ['2001:db8::53'] };
  const named = ex({ PublicIps: ['192.0.2.1'], Subnets: [top, { Name: 'other', ...SUB2 }], Clusters: [cluster('A', { Name: 'rack' }), cluster('B', { Name: 'other' })] });
  assert.equal(named.Clusters[0]?.Subnet.Ipv6Prefix, '2001:db8:10::/64');
  assert.deepEqual(named.Clusters[0]?.Subnet.Ipv6DnsServers, ['2001:db8::53']);
  assert.equal(named.Clusters[1]?.Subnet.Ipv6Prefix, undefined);
  const single = ex({ PublicIps: ['192.0.2.1'], Subnets: [top], Clusters: [{ Name: 'A' }] }, ['A', 'LATE']);
  assert.deepEqual(single.Clusters.map((c) => c.Subnet.Ipv6Prefix), ['2001:db8:10::/64', '2001:db8:10::/64']);
  const noServers = ex({ PublicIps: ['192.0.2.1'], Clusters: [cluster('A', { ...SUB, Ipv6Prefix: '2001:db8:10::/64' })] });
  assert.deepEqual(noServers.Clusters[0]?.Subnet.Ipv6DnsServers, []);
});

test('clusters may share a /64 when they share one flat IPv4 subnet (named or inline), as for IPv4', () => {
  const named = {
    PublicIps: ['192.0.2.1'],
    Subnets: [{ Name: 'rack', ...SUB, Ipv6Prefix: '2001:db8:10::/64' }],
    Clusters: [cluster('A', { Name: 'rack' }, { PrivateIps: ['10.111.1.1-10.111.1.9'] }), cluster('B', { Name: 'rack' }, { PrivateIps: ['10.111.2.1-10.111.2.9'] })],
  };
  assert.deepEqual(diags(named), []);
  const inline = {
    PublicIps: ['192.0.2.1'],
    Clusters: [
      cluster('A', { ...SUB, Ipv6Prefix: '2001:db8:10::/64' }, { PrivateIps: ['10.111.1.1-10.111.1.9'] }),
      cluster('B', { ...SUB, Ipv6Prefix: '2001:db8:0010::/64' }, { PrivateIps: ['10.111.2.1-10.111.2.9'] }),
    ],
  };
  assert.deepEqual(diags(inline), []);
  // Different /64s on different IPv4 subnets: fine.
  assert.deepEqual(diags({ PublicIps: ['192.0.2.1'], Clusters: [cluster('A', { ...SUB, Ipv6Prefix: '2001:db8:10::/64' }), cluster('B', { ...SUB2, Ipv6Prefix: '2001:db8:11::/64' })] }), []);
});

test('warnings: clusters on one flat subnet with different IPv6 settings; a name server listed twice', () => {
  const doc = {
    PublicIps: ['192.0.2.1'],
    Clusters: [
      cluster('A', { ...SUB, Ipv6Prefix: '2001:db8:10::/64', Ipv6DnsServers: ['2001:db8::53', '2001:DB8::0053'] }, { PrivateIps: ['10.111.1.1-10.111.1.9'] }),
      cluster('B', { ...SUB, Ipv6Prefix: '2001:db8:11::/64' }, { PrivateIps: ['10.111.2.1-10.111.2.9'] }),
      cluster('C', { ...SUB }, { PrivateIps: ['10.111.3.1-10.111.3.9'] }),
    ],
  };
  const r = validateNetworkConfiguration(doc);
  assert.ok(r.ok);
  assert.deepEqual(diags(doc).sort(), [
    'warning CLUSTER_IPV6_MISMATCH Clusters[1].Subnet',
    'warning CLUSTER_IPV6_MISMATCH Clusters[2].Subnet',
    'warning IPV6_DNS_SERVER_DUPLICATE Clusters[0].Subnet.Ipv6DnsServers[1]',
  ]);
});

test('a cluster whose prefix failed its own check adds no overlap or mismatch noise', () => {
  const doc = {
    PublicIps: ['192.0.2.1'],
    Clusters: [cluster('A', { ...SUB, Ipv6Prefix: '2001:db8:10::/48' }, { PrivateIps: ['10.111.1.1-10.111.1.9'] }), cluster('B', { ...SUB, Ipv6Prefix: '2001:db8:10::/64' }, { PrivateIps: ['10.111.2.1-10.111.2.9'] })],
  };
  assert.deepEqual(diags(doc), ['error IPV6_PREFIX_LENGTH Clusters[0].Subnet.Ipv6Prefix']);
});

test('exactly 3 name servers pass, an empty list passes without a prefix', () => {
  assert.deepEqual(diags({ PublicIps: ['192.0.2.1'], Clusters: [cluster('A', { ...SUB, Ipv6Prefix: '2001:db8:10::/64', Ipv6DnsServers: ['2001:db8::1', '2001:db8::2', '2001:db8::3'] })] }), []);
  assert.deepEqual(diags({ PublicIps: ['192.0.2.1'], Clusters: [cluster('A', { ...SUB, Ipv6DnsServers: [] })] }), []);
});

test('the metadata /64 is refused but a neighbouring ULA /64 is accepted', () => {
  const at = (p: string) => diags({ PublicIps: ['192.0.2.1'], Clusters: [cluster('A', { ...SUB, Ipv6Prefix: p })] });
  assert.deepEqual(at('fd00:ec2::/64'), ['error IPV6_PREFIX_RESERVED Clusters[0].Subnet.Ipv6Prefix']);
  assert.deepEqual(at('fd00:ec2:0:1::/64'), []);
});

// ---- the schema's pattern is the parser (no value is accepted by one and refused by the other)

const v6Pattern = new RegExp(schema.$defs.ipv6.pattern, 'u');
const prefixPattern = new RegExp(schema.$defs.ipv6Prefix.pattern, 'u');
const schemaAccepts = (text: string) => v6Pattern.test(text) && text.length <= schema.$defs.ipv6.maxLength;

test('schema ipv6 pattern and parseIpv6 agree on fixed cases', () => {
  const cases = ['::', '::1', '1::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '1:2:3:4:5:6:7::8', '1::2::3', ':1::', '1:::2', '::ffff:10.0.0.1', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '::01.2.3.4', '12345::', 'fe80::1%eth0', '', ':', '1:2:3:4:5:6:7', 'g::', ' ::1', '::1.2.3'];
  for (const c of cases) assert.equal(schemaAccepts(c), parseIpv6(c) !== undefined, c);
});

test('schema ipv6 pattern and parseIpv6 agree on random text (fast-check, fixed seed)', () => {
  const token = fc.constantFrom('0', '1', 'a', 'F', 'ff', '0db8', '12345', ':', ':', '::', '.', '1.2.3.4', '255', '256', '01', 'g', '%');
  fc.assert(
    fc.property(fc.array(token, { maxLength: 14 }), (parts) => {
      const text = parts.join('');
      assert.equal(schemaAccepts(text), parseIpv6(text) !== undefined, text);
    }),
    { seed: 1414, numRuns: 20000 },
  );
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.integer({ min: 0, max: 130 }), (v, len) => {
      const addr = formatIpv6(v);
      assert.ok(schemaAccepts(addr), addr);
      const text = `${addr}/${len}`;
      assert.equal(prefixPattern.test(text), parseCidr6(text) !== undefined, text);
    }),
    { seed: 1415, numRuns: 5000 },
  );
});
