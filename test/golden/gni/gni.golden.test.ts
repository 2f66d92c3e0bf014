/**
 * Golden GNI documents: each `test/golden/gni/<scenario>/snapshot.json` (a
 * CloudSnapshot; `"config": null` stands for an unset property) is built with
 * sequence 1 and compared byte for byte with `expected.xml`.
 * `UPDATE_GOLDEN=1` rewrites the expected files. Every scenario also checks
 * that the document parses back to the same model, validates without errors,
 * is accepted by a Eucalyptus 4.4 eucanetd (test/helpers/eucanetd44.ts),
 * and is independent of the snapshot's list order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CloudSnapshot } from '../../../src/cloud-controller/contracts.ts';
import { buildGni } from '../../../src/cloud-controller/gni/builder.ts';
import { parseGni, serializeGni } from '../../../src/shared/gni/codec.ts';
import type { GniDocument } from '../../../src/shared/gni/model.ts';
import { eucanetd44Refusals } from '../../helpers/eucanetd44.ts';

const here = dirname(fileURLToPath(import.meta.url));
const update = process.env.UPDATE_GOLDEN === '1';

function loadSnapshot(dir: string): CloudSnapshot {
  const raw = JSON.parse(readFileSync(join(dir, 'snapshot.json'), 'utf8')) as Record<string, unknown>;
  return { ...raw, config: raw.config ?? undefined } as CloudSnapshot;
}

/** The same snapshot with every list reversed: the document must not change. */
function shuffled(s: CloudSnapshot): CloudSnapshot {
  return {
    ...s,
    clusters: [...s.clusters].reverse().map((c) => ({ ...c, nodes: [...c.nodes].reverse() })),
    instances: [...s.instances].reverse(),
    groups: [...s.groups].reverse().map((g) => ({ ...g, rules: [...g.rules].reverse() })),
  };
}

const scenarios = readdirSync(here, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(here, d.name, 'snapshot.json')))
  .map((d) => d.name)
  .sort();

test('golden scenarios are present', () => {
  for (const name of ['one-cluster', 'two-clusters', 'group-to-group', 'elastic-ips', 'deleted-source-group', 'no-config']) {
    assert.ok(scenarios.includes(name), `missing scenario ${name}`);
  }
});

const built = new Map<string, { doc: GniDocument; xml: string }>();
function scenario(name: string): { doc: GniDocument; xml: string } {
  let entry = built.get(name);
  if (entry === undefined) {
    const doc = buildGni(loadSnapshot(join(here, name)), { sequence: 1 });
    entry = { doc, xml: serializeGni(doc) };
    built.set(name, entry);
  }
  return entry;
}

for (const name of scenarios) {
  test(`golden ${name}: byte-identical to expected.xml`, () => {
    const { xml } = scenario(name);
    const file = join(here, name, 'expected.xml');
    if (update) writeFileSync(file, xml);
    assert.ok(existsSync(file), `${file} missing: run with UPDATE_GOLDEN=1 to create it`);
    assert.equal(xml, readFileSync(file, 'utf8'));
  });

  test(`golden ${name}: parses back to the same model and validates`, () => {
    const { doc, xml } = scenario(name);
    const parsed = parseGni(xml);
    assert.ok(parsed.ok, JSON.stringify(parsed.diagnostics));
    assert.deepEqual(parsed.value, doc);
    assert.deepEqual(parsed.diagnostics.filter((d) => d.severity === 'error'), []);
  });

  test(`golden ${name}: a Eucalyptus 4.4 eucanetd accepts it (4.4 acceptance)`, () => {
    assert.deepEqual(eucanetd44Refusals(scenario(name).xml), []);
  });

  test(`golden ${name}: independent of snapshot order, equal version`, () => {
    const { doc, xml } = scenario(name);
    const again = buildGni(shuffled(loadSnapshot(join(here, name))), { sequence: 1 });
    assert.equal(serializeGni(again), xml);
    assert.equal(again.version, doc.version);
    assert.match(doc.version, /^[0-9a-f]{16}$/);
  });
}

test('one-cluster: nodes sorted, instance ids sorted per node, empty node kept', () => {
  const { doc } = scenario('one-cluster');
  const cluster = doc.configuration.clusters[0];
  assert.ok(cluster);
  assert.deepEqual(cluster.nodes, [
    { name: '10.0.0.21', instanceIds: ['i-1a2b3c4d', 'i-5e6f7a8b'] },
    { name: '10.0.0.22', instanceIds: [] },
  ]);
  assert.equal(cluster.enabledCcIp, '10.0.0.6');
  assert.equal(doc.configuration.enabledClcIp, '10.0.0.5');
  assert.deepEqual(doc.securityGroups[0]?.ingressRules, [
    { protocol: 1, icmpType: -1, icmpCode: -1, groupId: 'sg-0a0b0c0d', groupOwnerId: '000000000001' },
    { protocol: 6, fromPort: 22, toPort: 22, cidr: '0.0.0.0/0' },
  ]);
});

test('two-clusters: cluster subnets dropped from subnets, extra subnet kept, unconfigured cluster, unregistered cluster and unregistered node left out', () => {
  const { doc, xml } = scenario('two-clusters');
  assert.deepEqual(doc.configuration.subnets, [{ name: '192.168.50.0', subnet: '192.168.50.0', netmask: '255.255.255.0', gateway: '192.168.50.1' }]);
  // zone-c is configured but not registered: Eucalyptus 4.4 built clusters from the registered
  // ones (NetworkInfoBroadcasts.buildNetworkConfiguration), and a 4.4 eucanetd refuses a cluster
  // without enabledCCIp (euca_gni.c gni_cluster_validate).
  assert.deepEqual(doc.configuration.clusters.map((c) => [c.name, c.enabledCcIp]), [['zone-b', '10.0.0.7'], ['zone-a', '10.0.0.6']]);
  assert.ok(!xml.includes('zone-c'));
  assert.deepEqual(doc.instances.map((i) => i.name), ['i-aaaa0001', 'i-bbbb0001', 'i-bbbb0002']);
  assert.ok(!xml.includes('zone-unconfigured') && !xml.includes('sg-000000d1'));
  assert.deepEqual(doc.instances[1]?.securityGroups, ['sg-000000b1', 'sg-000000a1'], 'launch order kept');
});

test('group-to-group: peer groups listed without rules, unused groups absent, rules sorted and de-duplicated', () => {
  const { doc } = scenario('group-to-group');
  assert.deepEqual(doc.securityGroups.map((g) => g.name), ['sg-000000db', 'sg-00000ad1', 'sg-0000e0b0']);
  const admin = doc.securityGroups.find((g) => g.name === 'sg-00000ad1');
  assert.deepEqual(admin, { name: 'sg-00000ad1', ownerId: '000000000009', ingressRules: [] });
  const web = doc.securityGroups.find((g) => g.name === 'sg-0000e0b0');
  assert.deepEqual(web?.ingressRules, [
    { protocol: 1, icmpType: 8, icmpCode: -1, cidr: '10.0.0.0/8' },
    { protocol: 6, fromPort: 22, toPort: 22, groupId: 'sg-00000ad1', groupOwnerId: '000000000009' },
    { protocol: 6, fromPort: 80, toPort: 80, cidr: '0.0.0.0/0' },
    { protocol: 6, fromPort: 443, toPort: 443, cidr: '0.0.0.0/0' },
  ]);
  const db = doc.securityGroups.find((g) => g.name === 'sg-000000db');
  assert.deepEqual(db?.ingressRules.map((r) => r.protocol), [6, 17, 47, 132]);
});

test('elastic-ips: publicIp only where associated', () => {
  const { doc } = scenario('elastic-ips');
  assert.deepEqual(
    doc.instances.map((i) => [i.name, i.publicIp]),
    [['i-e1000001', '203.0.113.11'], ['i-e1000002', '203.0.113.40'], ['i-e1000003', undefined], ['i-e1000004', undefined]],
  );
  assert.ok(doc.instances.every((i) => i.publicIp !== undefined || !('publicIp' in i)));
});

test('deleted-source-group: rules naming the deleted group are dropped, and so is the group id on the instance', () => {
  const { doc, xml } = scenario('deleted-source-group');
  assert.ok(!xml.includes('sg-0000dead'));
  assert.ok(!xml.includes('i-de100003'), 'an instance whose only group was deleted is left out');
  assert.deepEqual(doc.instances[0]?.securityGroups, ['sg-00000a00']);
  assert.deepEqual(doc.securityGroups.find((g) => g.name === 'sg-00000a00')?.ingressRules, [{ protocol: 6, fromPort: 22, toPort: 22, cidr: '192.0.2.0/24' }]);
  assert.deepEqual(doc.securityGroups.find((g) => g.name === 'sg-00000b00')?.ingressRules, []);
});

test('no-config: EDGE mode, the CLC address, no clusters, no instances, no groups', () => {
  const { doc } = scenario('no-config');
  // The DNS domain and server Eucalyptus 4.4 sent without a property (NetworkInfoBroadcasts.groovy
  // buildNetworkConfiguration: INSTANCE_SUBDOMAIN + ".internal", nameservers falling back to
  // 127.0.0.1), which a 4.4 eucanetd requires (euca_gni.c gni_validate).
  assert.deepEqual(doc.configuration, {
    mode: 'EDGE', publicIps: [], enabledClcIp: '10.0.0.5', instanceDnsDomain: 'eucalyptus.internal', instanceDnsServers: ['127.0.0.1'], subnets: [], clusters: [],
  });
  assert.deepEqual(doc.instances, []);
  assert.deepEqual(doc.securityGroups, []);
});
