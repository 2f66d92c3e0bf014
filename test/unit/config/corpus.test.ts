/**
 * The invalid-document corpus (test/fixtures/config/invalid/, expectations in
 * invalid-manifest.json): each document is rejected with at least the expected
 * {code, path} pairs, and together the corpus violates every error rule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { validateNetworkConfiguration } from '../../../src/cloud-controller/modes/validate.ts';
import { CONFIG_CODES } from '../../../src/cloud-controller/config/codes.ts';

const dir = new URL('../../fixtures/config/invalid/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('../../fixtures/config/invalid-manifest.json', import.meta.url), 'utf8')) as Record<
  string,
  { why: string; expect: { code: string; path: string }[] }
>;

test('the corpus has at least 40 documents and the manifest covers exactly the files present', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  assert.ok(files.length >= 40, `only ${files.length} invalid documents`);
  assert.deepEqual(Object.keys(manifest).sort(), files);
});

for (const [file, entry] of Object.entries(manifest)) {
  test(`invalid/${file} is rejected with ${entry.expect.map((e) => `${e.code}@${e.path || '""'}`).join(', ')}`, () => {
    const result = validateNetworkConfiguration(readFileSync(new URL(file, dir), 'utf8'));
    assert.equal(result.ok, false);
    const got = result.diagnostics.map((d) => `${d.code} at ${JSON.stringify(d.path)}`);
    for (const e of entry.expect) {
      assert.ok(got.includes(`${e.code} at ${JSON.stringify(e.path)}`), `missing ${e.code} at ${JSON.stringify(e.path)}; got:\n  ${got.join('\n  ')}`);
    }
    for (const d of result.diagnostics) {
      assert.ok(d.code in CONFIG_CODES, `unregistered code ${d.code}`);
      assert.equal(d.severity, CONFIG_CODES[d.code]?.severity);
      assert.notEqual(d.code, 'SCHEMA_VIOLATION', `unmapped schema error: ${d.message}`);
      assert.ok(d.message.length > 0);
    }
  });
}

test('every error code except the SCHEMA_VIOLATION fallback is exercised by the corpus', () => {
  const exercised = new Set(Object.values(manifest).flatMap((e) => e.expect.map((x) => x.code)));
  const errorCodes = Object.entries(CONFIG_CODES)
    .filter(([code, info]) => info.severity === 'error' && code !== 'SCHEMA_VIOLATION')
    .map(([code]) => code);
  const missing = errorCodes.filter((c) => !exercised.has(c));
  assert.deepEqual(missing, []);
});

test('one document with many different problems reports all of them, schema and semantic alike', () => {
  const doc = {
    PublicIps: ['192.0.2.9-192.0.2.1', '10.111.0.20', '192.0.2.50', '192.0.2.50'],
    InstanceDnsDomain: '.bad',
    InstanceDnsServers: ['0.0.0.0', 'x'],
    MacPrefix: 'zz:00',
    Surprise: true,
    Subnets: [{ Name: 'r', Subnet: '10.200.0.0', Netmask: '255.255.0.0', Gateway: '10.200.0.1', Extra: 1 }],
    Clusters: [
      { Name: 'A', Subnet: { Subnet: '10.111.0.0', Netmask: '255.0.255.0', Gateway: '10.111.0.1' } },
      { Name: 'A', Subnet: { Subnet: '10.112.0.0', Netmask: '255.255.0.0', Gateway: '10.113.0.1' }, PrivateIps: ['10.112.0.0-10.112.0.9'] },
      { Name: 'C', Subnet: { Subnet: '10.111.0.0', Netmask: '255.255.0.0', Gateway: '10.111.0.1' }, PrivateIps: ['10.111.0.10-10.111.0.30', '10.111.0.29'] },
      { Name: 'D', Subnet: { Name: 'nope' } },
      { Name: 'E', MacPrefix: 'd1:00', Subnet: { Subnet: '10.111.128.0', Netmask: '255.255.128.0', Gateway: '10.111.128.1' } },
      { Subnet: { Name: 'r' }, Vlan: 3 },
    ],
  };
  const result = validateNetworkConfiguration(doc);
  assert.equal(result.ok, false);
  const got = new Set(result.diagnostics.map((d) => `${d.code} ${d.path}`));
  const expected = [
    'RANGE_REVERSED PublicIps[0]',
    'PUBLIC_PRIVATE_OVERLAP PublicIps[1]',
    'POOL_DUPLICATE PublicIps[3]',
    'DOMAIN_INVALID InstanceDnsDomain',
    'DNS_SERVER_INVALID InstanceDnsServers[0]',
    'IP_INVALID InstanceDnsServers[1]',
    'MAC_PREFIX_INVALID MacPrefix',
    'UNKNOWN_KEY Surprise',
    'UNKNOWN_KEY Subnets[0].Extra',
    'NETMASK_NONCONTIGUOUS Clusters[0].Subnet.Netmask',
    'CLUSTER_NAME_DUPLICATE Clusters[1].Name',
    'GATEWAY_OUTSIDE_SUBNET Clusters[1].Subnet.Gateway',
    'POOL_CONTAINS_RESERVED_ADDRESS Clusters[1].PrivateIps[0]',
    'POOL_OVERLAP Clusters[2].PrivateIps[1]',
    'SUBNET_REF_UNRESOLVED Clusters[3].Subnet.Name',
    'MAC_PREFIX_MULTICAST Clusters[4].MacPrefix',
    'CLUSTER_SUBNET_OVERLAP Clusters[4].Subnet',
    'REQUIRED Clusters[5].Name',
    'UNKNOWN_KEY Clusters[5].Vlan',
  ];
  const missing = expected.filter((e) => !got.has(e));
  assert.deepEqual(missing, [], `got:\n${[...got].join('\n')}`);
  // Each problem once: no (code, path) pair is reported twice.
  assert.equal(got.size, result.diagnostics.length);
});
