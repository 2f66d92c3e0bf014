/**
 * `edgenet import gni` round trip: a Eucalyptus network-info document is
 * imported into an empty CLC (real SQLite in a temp dir), the CLC builds its
 * own document, and for every node the plan netd makes from the imported
 * document equals the one from the rebuilt document — rendered with
 * renderUntrusted (what a sync and `edgenet netd plan` run) and planned
 * against an empty fake host. Desired states are compared without version,
 * sequence and generation (the rebuilt document is a new one).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../../src/cloud-controller/db/store.ts';
import { CloudState } from '../../../src/cloud-controller/services/cloud-state.ts';
import { buildGni } from '../../../src/cloud-controller/gni/builder.ts';
import { planGniImport } from '../../../src/cloud-controller/import/gni-import-plan.ts';
import { importGni } from '../../../src/cloud-controller/import/import-gni.ts';
import { FakeClock } from '../../../src/shared/clock.ts';
import { serializeGni } from '../../../src/shared/gni/codec.ts';
import type { GniDocument } from '../../../src/shared/gni/model.ts';
import { parseNetdConfig, type NetdConfig } from '../../../src/netd/config.ts';
import { renderUntrusted } from '../../../src/netd/render/sanitize.ts';
import type { DesiredState } from '../../../src/netd/render/types.ts';
import { planFor } from '../../../src/netd/sync.ts';
import { FakeHost } from '../../helpers/fake-host.ts';
import { loadScenario } from '../../golden/netd/scenarios.ts';
import { MULTI_CLUSTER, readDoc, withDatabase } from './fixtures.ts';

const FIXTURES = new URL('../../fixtures/gni/', import.meta.url).pathname;

/** Imports `doc` into an empty database and returns the document the CLC then builds (through XML, as a node reads it). */
async function importAndRebuild(file: string, doc: GniDocument, propertyText?: string): Promise<{ rebuilt: GniDocument; warnings: readonly string[] }> {
  const store = await Store.open(file);
  try {
    const plan = planGniImport(doc, propertyText === undefined ? {} : { propertyText });
    const clcIp = doc.configuration.enabledClcIp ?? '10.0.0.1';
    const { summary, document: preview } = await importGni(store, plan, { now: 1_700_000_000_000, previewClcIp: clcIp });
    const state = new CloudState({ store, clock: new FakeClock(), clcIp });
    const snapshot = await state.snapshot({ full: true });
    // The preview (--gni-out, built inside the import's transaction) is the document the CLC builds.
    assert.deepEqual(preview, buildGni(snapshot));
    return { rebuilt: readDoc(serializeGni(buildGni(snapshot, { sequence: 1 }))), warnings: summary.warnings };
  } finally {
    await store.close();
  }
}

/**
 * The state without what names the document (version, sequence, generation) and
 * with each security-group chain's rules in one order: the CLC's builder sorts a
 * group's rules (gni/map.ts), a Eucalyptus document lists them in its database's
 * order, and netd writes them in document order. Every rule of a group chain
 * ACCEPTs (asserted here), so their order does not change what passes; this is
 * the only difference the comparison forgives besides one: rules netd refuses
 * (sanitize.ts; a CIDR with host bits, say) are listed in `refused` when the
 * imported document has them, and the import leaves them out (they were never
 * laid down), so `refused` and its warnings are compared separately
 * (assertSamePlans: every refusal of the original is a rule the import reported).
 */
function canonicalState(s: DesiredState, prefix: string): DesiredState {
  const { version: _v, sequence: _s, refused, ...rest } = s as DesiredState & { generation?: number };
  delete (rest as { generation?: number }).generation;
  // A refusal's warning line is `CODE: subject: message` (sanitize.ts).
  const refusalLines = new Set((refused ?? []).map((r) => `${r.code}: ${r.subject}: ${r.message}`));
  rest.warnings = rest.warnings.filter((w) => !refusalLines.has(w));
  const chains = s.iptables.filter.chains.map((c) => {
    if (!c.name.startsWith(`${prefix}-sg-`)) return c;
    for (const r of c.rules) assert.equal(r.target.kind, 'accept', `${c.name}: every rule of a group chain accepts`);
    return { ...c, rules: [...c.rules].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)) };
  });
  return { ...rest, version: '', iptables: { ...s.iptables, filter: { ...s.iptables.filter, chains } } } as DesiredState;
}

async function nodePlan(doc: GniDocument, node: string, config: NetdConfig): Promise<{ state: DesiredState; steps: unknown; refused: string[] }> {
  const rendered = renderUntrusted(doc, { node }, config, { bridgeMac: '02:00:0a:0a:00:01' }, { hostAddresses: [node] });
  assert.ok(rendered.ok, `render for ${node}: ${rendered.ok ? '' : rendered.message}`);
  const state = canonicalState(rendered.state, config.prefix);
  const plan = await planFor({ host: new FakeHost(), config, runDir: '/run/edgenet-test', desired: state, full: true });
  return { state, steps: plan.steps, refused: (rendered.state.refused ?? []).map((r) => r.subject) };
}

/** Every node of `original` plans the same from the original and from the rebuilt document. */
async function assertSamePlans(original: GniDocument, rebuilt: GniDocument, configText: string, importWarnings: readonly string[] = []): Promise<number> {
  const parsed = parseNetdConfig(configText);
  assert.ok(parsed.ok);
  const nodes = original.configuration.clusters.flatMap((c) => c.nodes.map((n) => n.name));
  assert.deepEqual(rebuilt.configuration.clusters.flatMap((c) => c.nodes.map((n) => n.name)).sort(), [...nodes].sort(), 'the rebuilt document has the same nodes');
  for (const node of nodes) {
    const config = { ...parsed.value, nodeName: node };
    const a = await nodePlan(original, node, config);
    const b = await nodePlan(rebuilt, node, config);
    assert.deepEqual(b.state, a.state, `desired state of node ${node}`);
    assert.deepEqual(b.steps, a.steps, `plan of node ${node} against an empty host`);
    assert.deepEqual(b.refused, [], `the rebuilt document has nothing netd refuses (node ${node})`);
    for (const subject of a.refused) {
      const group = /^group (sg-[0-9a-f]+) rule/.exec(subject)?.[1];
      assert.ok(group !== undefined && importWarnings.some((w) => w.startsWith(`${group}: a rule netd does not lay down is left out`)), `the import reported the refused ${subject}`);
    }
  }
  return nodes.length;
}

const EDGE_CONFIG = 'VNET_BRIDGE="br0"\nVNET_PRIVINTERFACE="eth1"\nVNET_PUBINTERFACE="eth0"';

// test/fixtures/gni/euca44-example.xml is the 4.4 shape of eucalyptus-edge.md §2.3a
// (a self-referencing group rule and an elastic IP).
test('round trip: the Eucalyptus 4.4 example document, property rebuilt from it', async () => {
  const doc = readDoc(readFileSync(join(FIXTURES, 'euca44-example.xml'), 'utf8'));
  await withDatabase(async (file) => {
    const { rebuilt } = await importAndRebuild(file, doc);
    assert.deepEqual(rebuilt.instances.map((i) => [i.name, i.macAddress, i.privateIp, i.publicIp]), [['i-1a2b3c4d', 'd0:0d:1a:2b:3c:4d', '10.10.1.7', '203.0.113.11']]);
    assert.deepEqual(rebuilt.securityGroups.map((g) => g.name), ['sg-0a0b0c0d']);
    assert.equal(await assertSamePlans(doc, rebuilt, EDGE_CONFIG), 1);
  });
});

// Golden scenarios (test/golden/netd) carry node identities; each names its node and netd config.
for (const name of ['group-to-group', 'elastic-ips', 'several-instances-groups', 'single-instance', 'disable-l2-isolation', 'no-instances']) {
  test(`round trip: golden scenario ${name}`, async () => {
    const scenario = loadScenario(name);
    await withDatabase(async (file) => {
      const { rebuilt, warnings } = await importAndRebuild(file, scenario.doc);
      assert.ok((await assertSamePlans(scenario.doc, rebuilt, scenario.configText, warnings)) >= 1);
    });
  });
}

test('round trip: two clusters, three nodes, elastic IPs, cross-cluster and cross-account group rules', async () => {
  const doc = readDoc(MULTI_CLUSTER);
  await withDatabase(async (file) => {
    const { rebuilt } = await importAndRebuild(file, doc);
    assert.deepEqual(
      rebuilt.instances.map((i) => `${i.name} ${i.ownerId} ${i.macAddress} ${i.privateIp} ${i.publicIp ?? '-'} ${i.securityGroups.join(',')}`),
      [
        'i-0000a001 000000000001 d0:0d:00:00:a0:01 10.111.5.10 203.0.113.11 sg-000000a1',
        'i-0000a002 000000000001 d0:0d:00:00:a0:02 10.111.5.11 - sg-000000a1,sg-000000a2',
        'i-0000a003 000000000001 d0:0d:00:00:a0:03 10.111.5.12 198.51.100.7 sg-000000a2',
        'i-0000b001 000000000002 d0:0e:00:00:b0:01 10.112.6.10 203.0.113.20 sg-000000b1',
        'i-0000b002 000000000002 d0:0e:00:00:b0:02 10.112.6.11 - sg-000000b1',
      ],
    );
    assert.deepEqual(rebuilt.securityGroups.map((g) => `${g.name} ${g.ownerId} ${g.ingressRules.length}`), ['sg-000000a1 000000000001 3', 'sg-000000a2 000000000001 2', 'sg-000000b1 000000000002 2', 'sg-000000c1 000000000003 0']);
    assert.deepEqual(rebuilt.configuration.clusters.map((c) => `${c.name} ${c.enabledCcIp} ${c.nodes.map((n) => `${n.name}:${n.instanceIds.join('+')}`).join(' ')}`), [
      'PARTI00 10.0.0.6 10.0.0.21:i-0000a001+i-0000a002 10.0.0.22:i-0000a003',
      'PARTI01 10.0.1.6 10.0.1.21:i-0000b001+i-0000b002',
    ]);
    assert.equal(rebuilt.configuration.publicGateway, '203.0.113.1');
    assert.deepEqual(rebuilt.configuration.subnets.map((x) => x.subnet), ['192.168.50.0']);
    assert.equal(await assertSamePlans(doc, rebuilt, EDGE_CONFIG), 3);
  });
});

// The operator's own property (--property): Eucalyptus's format, eucalyptus-edge.md §3.1, with
// the top-level MacPrefix and a named top-level subnet that the document cannot give back.
test('round trip with --property: the operator\'s JSON is stored as given and builds the same plans', async () => {
  const doc = readDoc(MULTI_CLUSTER);
  const property = JSON.stringify({
    Mode: 'EDGE',
    InstanceDnsDomain: 'eucalyptus.internal',
    InstanceDnsServers: ['10.0.0.2', '10.0.0.3'],
    MacPrefix: 'd0:0d',
    PublicIps: ['203.0.113.10-203.0.113.30', '198.51.100.7'],
    Subnets: [
      { Name: '192.168.50.0', Subnet: '192.168.50.0', Netmask: '255.255.255.0', Gateway: '192.168.50.1' },
      { Name: 'p0', Subnet: '10.111.0.0', Netmask: '255.255.0.0', Gateway: '10.111.0.1' },
    ],
    Clusters: [
      { Name: 'PARTI00', Subnet: { Name: 'p0' }, PrivateIps: ['10.111.5.1-10.111.5.254'] },
      { Name: 'PARTI01', MacPrefix: 'd0:0e', Subnet: { Subnet: '10.112.0.0', Netmask: '255.255.0.0', Gateway: '10.112.0.1' }, PrivateIps: ['10.112.6.1-10.112.6.254'] },
    ],
  }, null, 2);
  await withDatabase(async (file) => {
    const { rebuilt } = await importAndRebuild(file, doc, property);
    const store = await Store.open(file);
    try {
      const row = await store.read((db) => db.selectFrom('properties').select('value').where('name', '=', 'cloud.network.network_configuration').executeTakeFirstOrThrow());
      assert.equal(row.value, property);
    } finally {
      await store.close();
    }
    assert.equal(await assertSamePlans(doc, rebuilt, EDGE_CONFIG), 3);
  });
});
