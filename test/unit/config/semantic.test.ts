/**
 * Semantic rules not covered by the corpus: warnings (which leave a document
 * valid), checks that still run on the schema-valid parts of an invalid
 * document, and boundary cases of the containment rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateNetworkConfiguration } from '../../../src/cloud-controller/modes/validate.ts';

const SUBNET = { Subnet: '10.111.0.0', Netmask: '255.255.0.0', Gateway: '10.111.0.1' };
const codes = (doc: unknown) => validateNetworkConfiguration(doc).diagnostics.map((d) => `${d.severity} ${d.code} ${d.path}`);

test('warnings are reported but keep the document valid', () => {
  const doc = {
    PublicIps: ['10.111.200.1-10.111.200.9'],
    InstanceDnsServers: ['10.0.0.2', '10.0.0.2'],
    PrivateIps: ['10.111.0.5'],
    Clusters: [{ Name: 'c', Subnet: SUBNET, PrivateIps: ['10.111.1.1-10.111.1.99'] }],
  };
  const r = validateNetworkConfiguration(doc);
  assert.ok(r.ok);
  assert.deepEqual(codes(doc).sort(), [
    'warning DNS_SERVER_DUPLICATE InstanceDnsServers[1]',
    'warning PRIVATE_IPS_UNUSED PrivateIps',
    'warning PUBLIC_IN_PRIVATE_SUBNET PublicIps[0]',
  ]);
});

test('the original Eucalyptus design example (public IPs inside the private /16) is valid with a warning', () => {
  const doc = {
    InstanceDnsDomain: 'eucalyptus.internal',
    InstanceDnsServers: ['10.111.5.28'],
    PublicIps: ['10.111.103.0-10.111.103.2', '10.111.103.6', '10.111.103.26-10.111.103.29'],
    Subnets: [],
    Clusters: [{ Name: 'PARTI00', MacPrefix: 'd0:0d', Subnet: { Name: '10.111.0.0', ...SUBNET }, PrivateIps: ['10.111.103.30', '10.111.103.36', '10.111.103.38-10.111.103.43'] }],
  };
  const r = validateNetworkConfiguration(doc);
  assert.ok(r.ok);
  assert.deepEqual(new Set(r.diagnostics.map((d) => d.code)), new Set(['PUBLIC_IN_PRIVATE_SUBNET']));
});

test('semantic checks still run beside schema errors', () => {
  const doc = {
    PublicIps: ['192.0.2.1', 'bogus', '192.0.2.1'],
    Clusters: [{ Name: 'c', Unknown: 1, Subnet: SUBNET, PrivateIps: ['10.111.0.1', 5] }],
  };
  assert.deepEqual(codes(doc).sort(), [
    'error IP_RANGE_INVALID PublicIps[1]',
    'error POOL_CONTAINS_RESERVED_ADDRESS Clusters[0].PrivateIps[0]',
    'error POOL_DUPLICATE PublicIps[2]',
    'error TYPE_MISMATCH Clusters[0].PrivateIps[1]',
    'error UNKNOWN_KEY Clusters[0].Unknown',
  ]);
});

test('a bad subnet does not cascade into pool or reference errors', () => {
  const doc = {
    PublicIps: ['192.0.2.1'],
    Subnets: [{ Name: 'a', Subnet: '10.111.0.1', Netmask: '255.255.0.0', Gateway: '10.111.0.2' }],
    Clusters: [{ Name: 'c', Subnet: { Name: 'a' }, PrivateIps: ['172.16.0.1'] }],
  };
  assert.deepEqual(codes(doc), ['error SUBNET_UNALIGNED Subnets[0].Subnet']);
});

test('a pool may span the whole host range when the gateway sits at the top', () => {
  const doc = { PublicIps: ['192.0.2.1'], Clusters: [{ Name: 'c', Subnet: { Subnet: '10.0.0.0', Netmask: '255.255.255.0', Gateway: '10.0.0.254' }, PrivateIps: ['10.0.0.1-10.0.0.253'] }] };
  assert.deepEqual(codes(doc), []);
  const withGateway = { ...doc, Clusters: [{ ...doc.Clusters[0], PrivateIps: ['10.0.0.1-10.0.0.254'] }] };
  assert.deepEqual(codes(withGateway), ['error POOL_CONTAINS_RESERVED_ADDRESS Clusters[0].PrivateIps[0]']);
});

test('top-level PrivateIps are checked against every cluster that inherits them, reported once per entry', () => {
  const doc = {
    PublicIps: ['192.0.2.1'],
    PrivateIps: ['10.111.0.5', '10.50.0.5'],
    Clusters: [
      { Name: 'a', Subnet: SUBNET },
      { Name: 'b', Subnet: { Subnet: '10.112.0.0', Netmask: '255.255.0.0', Gateway: '10.112.0.1' } },
    ],
  };
  assert.deepEqual(codes(doc).sort(), ['error PRIVATE_IP_OUTSIDE_SUBNET PrivateIps[0]', 'error PRIVATE_IP_OUTSIDE_SUBNET PrivateIps[1]']);
});

test('two clusters defaulting to the single top-level subnet share it, and both derive the whole subnet as their pool: overlapping pools', () => {
  const doc = { PublicIps: ['192.0.2.1'], Subnets: [SUBNET], Clusters: [{ Name: 'a' }, { Name: 'b' }] };
  assert.deepEqual(codes(doc), ['error CLUSTER_POOL_OVERLAP Clusters[1].PrivateIps']);
});

test('whitespace inside ranges is tolerated as Eucalyptus did', () => {
  assert.deepEqual(codes({ PublicIps: [' 192.0.2.1 - 192.0.2.9 '], Subnets: [SUBNET] }), []);
});

test('domain names: accepted and rejected forms', () => {
  const ok = ['eucalyptus.internal', 'a', 'x-1.example.com', `${'a'.repeat(63)}.internal`];
  const bad = ['.eucalyptus.internal', 'eucalyptus.internal.', 'a..b', '-a.b', 'a-.b', 'a.123', 'under_score.x', `${'abcdefg.'.repeat(32)}internal`];
  for (const d of ok) assert.deepEqual(codes({ PublicIps: ['192.0.2.1'], Subnets: [SUBNET], InstanceDnsDomain: d }), [], d);
  for (const d of bad) assert.deepEqual(codes({ PublicIps: ['192.0.2.1'], Subnets: [SUBNET], InstanceDnsDomain: d }), ['error DOMAIN_INVALID InstanceDnsDomain'], d);
});

test('a parsed value and its JSON text validate the same', () => {
  const doc = { PublicIps: ['192.0.2.9-192.0.2.1'], Subnets: [SUBNET] };
  assert.deepEqual(validateNetworkConfiguration(doc).diagnostics, validateNetworkConfiguration(JSON.stringify(doc)).diagnostics);
});

test('a list of the wrong type gets TYPE_MISMATCH only, no follow-on rule', () => {
  assert.deepEqual(codes({ PublicIps: ['192.0.2.1'], Subnets: { Subnet: '10.0.0.0' } }), ['error TYPE_MISMATCH Subnets']);
  assert.deepEqual(codes({ PublicIps: ['192.0.2.1'], Subnets: [SUBNET], Clusters: 'PARTI00' }), ['error TYPE_MISMATCH Clusters']);
  assert.deepEqual(codes(undefined), ['error TYPE_MISMATCH ']);
});

test('diagnostics come in document order: keys in their documented order, list indexes numerically', () => {
  const doc = {
    Zzz: 1,
    Clusters: [
      { Name: 'c', Subnet: SUBNET, PrivateIps: ['10.111.0.0'] },
      ...Array.from({ length: 10 }, (_, i) => ({ Name: `x${i}`, MacPrefix: 'd1:00', Subnet: { Subnet: `10.${120 + i}.0.0`, Netmask: '255.255.0.0', Gateway: `10.${120 + i}.0.1` } })),
    ],
    PublicIps: ['192.0.2.5-192.0.2.1'],
    Mode: 'X',
  };
  const paths = validateNetworkConfiguration(doc).diagnostics.map((d) => d.path);
  assert.deepEqual(paths, ['Mode', 'PublicIps[0]', 'Clusters[0].PrivateIps[0]', ...Array.from({ length: 10 }, (_, i) => `Clusters[${i + 1}].MacPrefix`), 'Zzz']);
});
