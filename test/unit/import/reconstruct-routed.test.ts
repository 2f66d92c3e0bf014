/**
 * `edgenet import gni` of a ROUTED document (issue 17) without `--property`:
 * the property rebuilt from the document (import/reconstruct-routed.ts) is a
 * valid ROUTED property (the real validator), and exploding it again gives
 * the configuration the document carries — gateways, pools, prefixes, name
 * servers and every node's merged BGP settings — so the CLC builds the same
 * document from it. Documents are built by the real builder from properties
 * (the example's and others), with the same explode inputs both ways.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateNetworkConfiguration } from '../../../src/cloud-controller/modes/validate.ts';
import { DEFAULT_EXPLODE_INPUTS, explode } from '../../../src/cloud-controller/config/explode.ts';
import type { NetworkConfiguration } from '../../../src/cloud-controller/config/types.ts';
import type { CloudSnapshot, SnapshotInstance } from '../../../src/cloud-controller/contracts.ts';
import { buildGni } from '../../../src/cloud-controller/gni/builder.ts';
import { reconstructProperty } from '../../../src/cloud-controller/import/reconstruct-property.ts';
import { planGniImport } from '../../../src/cloud-controller/import/gni-import-plan.ts';
import { importGni } from '../../../src/cloud-controller/import/import-gni.ts';
import { Store } from '../../../src/cloud-controller/db/store.ts';
import { CloudState } from '../../../src/cloud-controller/services/cloud-state.ts';
import { FakeClock } from '../../../src/shared/clock.ts';
import { EdgenetError } from '../../../src/shared/errors.ts';
import { parseGni, serializeGni } from '../../../src/shared/gni/codec.ts';
import type { GniConfiguration, GniDocument } from '../../../src/shared/gni/model.ts';
import { nodeBgpText } from '../../../src/shared/gni/routed.ts';
import { runCli, sandboxEnv } from '../cli/cli-sandbox.ts';
import { readDoc, withDatabase } from './fixtures.ts';

const EXAMPLE = readFileSync(new URL('../../../examples/network_configuration.routed.json', import.meta.url), 'utf8');

type Registered = Readonly<Record<string, readonly string[]>>;

/** The example's clusters, all registered: c1 dual (two nodes with overrides, `node-c` without and not IPv4-named), c2 IPv6-only, c3 IPv4-only. */
const EXAMPLE_NODES: Registered = { c1: ['172.31.0.11', '172.31.0.12', 'node-c'], c2: ['172.31.1.11'], c3: ['172.31.2.11'] };

function valid(property: unknown): NetworkConfiguration {
  const v = validateNetworkConfiguration(property);
  assert.ok(v.ok, JSON.stringify(v.diagnostics));
  assert.deepEqual(v.diagnostics, [], 'no warning either');
  return v.value;
}

function snapshotOf(property: NetworkConfiguration, registered: Registered, instances: readonly SnapshotInstance[] = []): CloudSnapshot {
  return {
    config: explode(property, DEFAULT_EXPLODE_INPUTS),
    clcIp: '10.0.0.1',
    clusters: Object.entries(registered).map(([name, nodes], i) => ({
      name,
      ccUrl: `https://10.0.${i}.6:8774/`,
      ccIp: `10.0.${i}.6`,
      nodes: nodes.map((n) => ({ name: n, ncUrl: `https://${n}:8775/` })),
    })),
    instances,
    groups: [{ id: 'sg-00000001', name: 'default', ownerId: '000000000001', rules: [] }],
  };
}

/** The document the CLC broadcasts for `property` with these clusters and nodes registered, as a reader (the import) reads it. */
function documentOf(property: NetworkConfiguration, registered: Registered, instances: readonly SnapshotInstance[] = []): GniDocument {
  return readDoc(serializeGni(buildGni(snapshotOf(property, registered, instances), { sequence: 1 })));
}

/** Rebuild, validate, explode again and build: the configuration the document carried, node BGP included. */
function assertRoundTrip(doc: GniDocument, registered: Registered): NetworkConfiguration {
  const rebuilt = reconstructProperty(doc.configuration);
  assert.deepEqual(rebuilt.gaps, []);
  const property = valid(JSON.parse(JSON.stringify(rebuilt.value)));
  const again = documentOf(property, registered);
  assert.deepEqual(again.configuration, doc.configuration);
  assert.deepEqual(nodeSettings(again.configuration), nodeSettings(doc.configuration));
  return rebuilt.value;
}

/** Every node's `bgp` extension as written (the settings netd gives BIRD). */
function nodeSettings(conf: GniConfiguration) {
  return conf.clusters.flatMap((c) => c.nodes.map((n) => [c.name, n.name, nodeBgpText(n)]));
}

test('the example: a valid ROUTED property whose explode gives the document\'s configuration, with the example\'s own layering', () => {
  const doc = documentOf(valid(EXAMPLE), EXAMPLE_NODES);
  assert.ok(nodeSettings(doc.configuration).every(([, , bgp]) => bgp !== undefined), 'every node carries its settings');
  const value = assertRoundTrip(doc, EXAMPLE_NODES);
  assert.equal(value.Mode, 'ROUTED');
  assert.deepEqual(value.InstanceGateway, { Ipv4: '169.254.0.1', Ipv6: 'fe80::1' });
  // The IPv6 name server travelled on the IPv6 clusters' prefix and is back where the property takes it.
  assert.deepEqual(value.InstanceDnsServers, ['198.51.100.53', '2001:db8:ffff::53']);
  assert.deepEqual(value.PublicIps, ['10.60.0.1-10.60.0.9']);
  for (const key of ['Subnets', 'PrivateIps', 'PublicGateway'] as const) assert.ok(!(key in value), `no ${key} in ROUTED`);
  // Cloud → cluster → node compactly: here exactly the example's layering.
  assert.deepEqual(value.Bgp, JSON.parse(EXAMPLE).Bgp);
  assert.deepEqual(value.Clusters, [
    {
      Name: 'c1',
      MacPrefix: 'd0:0d',
      Ipv4Pool: ['10.50.0.10-10.50.0.200', '10.50.1.0-10.50.1.15'],
      Ipv6Prefix: '2001:db8:50::/64',
      Nodes: [
        { Name: '172.31.0.11', Bgp: { RouterId: '172.31.0.11', LocalAsn: 65011 } },
        { Name: '172.31.0.12', Bgp: { Peers: [{ Address: '172.31.0.254', Asn: 65000 }, { Address: '2001:db8:31::254', Asn: 65000 }] } },
      ],
    },
    { Name: 'c2', MacPrefix: 'd0:0d', Ipv6Prefix: '2001:db8:51::/64', Bgp: { LocalAsn: 65002, Communities: [] } },
    { Name: 'c3', MacPrefix: 'd0:0d', Ipv4Pool: ['10.52.0.0-10.52.0.255'], Bgp: { Peers: [{ Address: '172.31.2.1', Asn: 65000 }] } },
  ]);
});

test('lost: what a ROUTED document cannot give back, without EDGE\'s items', () => {
  const { lost, gaps } = reconstructProperty(documentOf(valid(EXAMPLE), EXAMPLE_NODES).configuration);
  assert.deepEqual(gaps, []);
  const text = lost.join('\n');
  assert.match(text, /Bgp layering/);
  assert.match(text, /Clusters\[\]\.Nodes/);
  assert.match(text, /MacPrefix \(top level\)/);
  assert.doesNotMatch(text, /PrivateIps \(top level\)|Subnets a cluster used/);
  // An IPv6 cluster carries the IPv6 name servers, so they are not lost here.
  assert.doesNotMatch(text, /IPv6 name servers/);
});

/**
 * No cloud Bgp: two clusters with their own; in `a` the first node (by name)
 * has its own router id, peers, communities and password, and `b` has a node
 * that cannot be listed (no RouterId, a name that is not IPv4).
 */
const LAYERED: NetworkConfiguration = {
  Mode: 'ROUTED',
  InstanceDnsServers: ['2001:db8:ffff::53'],
  PublicIps: ['10.61.0.1-10.61.0.6'],
  InstanceGateway: { Ipv4: '169.254.1.1', Ipv6: 'fe80::a' },
  Clusters: [
    {
      Name: 'a',
      MacPrefix: 'd0:0e',
      Ipv4Pool: ['10.70.0.0/25'],
      Bgp: { LocalAsn: 65010, Peers: [{ Address: '172.30.0.1', Asn: 65000 }], Password: 'apw' },
      Nodes: [{ Name: '10.0.0.1', Bgp: { RouterId: '10.9.9.1', Peers: [{ Address: '172.30.0.2', Asn: 65000 }, { Address: '172.30.0.3', Asn: 65100 }], Communities: ['65010:1', '65010:2'], Password: 'npw' } }],
    },
    {
      Name: 'b',
      Ipv6Prefix: 'fd00:71::/64',
      Bgp: { LocalAsn: 65020, Peers: [{ Address: 'fd00:30::1', Asn: 65000 }, { Address: '172.30.1.1', Asn: 65000 }], Communities: ['65020:7'] },
      Nodes: [{ Name: '10.0.1.2', Bgp: { RouterId: '10.9.9.2' } }],
    },
  ],
};
const LAYERED_NODES: Registered = { a: ['10.0.0.1', '10.0.0.2', '10.0.0.3'], b: ['10.0.1.2', 'hv-b1'] };

test('a node with its own peers, communities, password and RouterId; the others are not listed; no cloud Bgp in the original', () => {
  const doc = documentOf(valid(LAYERED), LAYERED_NODES);
  const value = assertRoundTrip(doc, LAYERED_NODES);
  // A tie between the clusters: the cloud takes the first's values; `a`'s password is its own (`b`'s nodes have none).
  assert.deepEqual(value.Bgp, { LocalAsn: 65010, Peers: [{ Address: '172.30.0.1', Asn: 65000 }] });
  assert.deepEqual(value.InstanceGateway, { Ipv4: '169.254.1.1', Ipv6: 'fe80::a' });
  assert.deepEqual(value.InstanceDnsServers, ['127.0.0.1', '2001:db8:ffff::53'], 'the document\'s IPv4 fallback, then the IPv6 server from cluster b');
  const [a, b] = value.Clusters!;
  assert.deepEqual(a, {
    Name: 'a',
    MacPrefix: 'd0:0e',
    Ipv4Pool: ['10.70.0.0-10.70.0.127'],
    Bgp: { Password: 'apw' },
    // The first node differs; the two that do not are not listed.
    Nodes: [{ Name: '10.0.0.1', Bgp: { RouterId: '10.9.9.1', Peers: [{ Address: '172.30.0.2', Asn: 65000 }, { Address: '172.30.0.3', Asn: 65100 }], Communities: ['65010:1', '65010:2'], Password: 'npw' } }],
  });
  assert.deepEqual(b, {
    Name: 'b',
    MacPrefix: 'd0:0d',
    Ipv6Prefix: 'fd00:71::/64',
    Bgp: { LocalAsn: 65020, Peers: [{ Address: 'fd00:30::1', Asn: 65000 }, { Address: '172.30.1.1', Asn: 65000 }], Communities: ['65020:7'] },
    Nodes: [{ Name: '10.0.1.2', Bgp: { RouterId: '10.9.9.2' } }],
  });
});

test('a cluster\'s settings are its nodes\' most common ones, unless a node that cannot be listed fixes them', () => {
  // Cluster `a` of LAYERED with the cluster's settings given per node on two of three IPv4-named nodes: the majority wins.
  const majority: NetworkConfiguration = {
    ...LAYERED,
    Clusters: [{ ...LAYERED.Clusters![0]!, Bgp: { LocalAsn: 65010, Peers: [{ Address: '172.30.0.1', Asn: 65000 }] }, Nodes: [{ Name: '10.0.0.1', Bgp: { LocalAsn: 65011 } }] }],
  };
  const three: Registered = { a: ['10.0.0.1', '10.0.0.2', '10.0.0.3'] };
  const v1 = assertRoundTrip(documentOf(valid(majority), three), three);
  assert.deepEqual(v1.Clusters![0]!.Nodes, [{ Name: '10.0.0.1', Bgp: { LocalAsn: 65011 } }]);
  // A node named by host name without a RouterId cannot be listed, so it carries the cluster's settings exactly:
  // it decides them although the two IPv4-named nodes share an override (they are listed).
  const pinned: NetworkConfiguration = {
    ...LAYERED,
    Clusters: [{ ...LAYERED.Clusters![0]!, Bgp: { LocalAsn: 65010, Peers: [{ Address: '172.30.0.1', Asn: 65000 }] }, Nodes: [{ Name: '10.0.0.1', Bgp: { LocalAsn: 65011 } }, { Name: '10.0.0.2', Bgp: { LocalAsn: 65011 } }] }],
  };
  const withHost: Registered = { a: ['10.0.0.1', '10.0.0.2', 'hv-a3'] };
  const v2 = assertRoundTrip(documentOf(valid(pinned), withHost), withHost);
  assert.deepEqual(v2.Bgp?.LocalAsn, 65010);
  assert.deepEqual(v2.Clusters![0]!.Nodes, [
    { Name: '10.0.0.1', Bgp: { LocalAsn: 65011 } },
    { Name: '10.0.0.2', Bgp: { LocalAsn: 65011 } },
  ]);
});

test('a node whose settings no layering gives back (no password where its cluster has one) is named in lost', () => {
  const doc = documentOf(valid(EXAMPLE), EXAMPLE_NODES);
  // A document no valid property gives: node-c (which cannot be listed) fixes c1's password, 172.31.0.12 has none.
  const c1 = doc.configuration.clusters[0]!;
  const stripped = c1.nodes.map((n) =>
    n.name !== '172.31.0.12' ? n : { ...n, extensions: n.extensions?.map((e) => (e.name !== 'bgp' ? e : { ...e, properties: e.properties.filter((p) => p.name !== 'password') })) },
  );
  assert.equal(nodeBgpText(stripped[1]!)?.password, undefined);
  const conf = { ...doc.configuration, clusters: [{ ...c1, nodes: stripped }, ...doc.configuration.clusters.slice(1)] };
  const { lost } = reconstructProperty(conf);
  assert.deepEqual(lost.filter((l) => l.startsWith('node ')), [
    "node 172.31.0.12 of cluster c1: its BGP settings do not come back exactly: it has no password and its cluster's settings have one (no level can unset a password)",
  ]);
});

test('no IPv6 cluster: the IPv6 name servers are said lost (the document never carried them)', () => {
  const v4only: NetworkConfiguration = { ...LAYERED, InstanceDnsServers: ['198.51.100.53'], Clusters: [LAYERED.Clusters![0]!] };
  const nodes: Registered = { a: ['10.0.0.1', '10.0.0.2'] };
  assertRoundTrip(documentOf(valid(v4only), nodes), nodes);
  assert.match(reconstructProperty(documentOf(valid(v4only), nodes).configuration).lost.join('\n'), /IPv6 name servers/);
});

test('a document with no node: no BGP to rebuild, said as a gap; the import refuses it with INVALID_PROPERTY naming why and --property', async () => {
  const noNodes: Registered = { c1: [], c2: [], c3: [] };
  const doc = documentOf(valid(EXAMPLE), noNodes);
  const rebuilt = reconstructProperty(doc.configuration);
  assert.equal(rebuilt.gaps.length, 1);
  assert.match(rebuilt.gaps[0]!, /^Bgp: the document has no node/);
  assert.ok(rebuilt.lost.includes(rebuilt.gaps[0]!));
  assert.equal(rebuilt.value.Bgp, undefined);
  const v = validateNetworkConfiguration(JSON.parse(JSON.stringify(rebuilt.value)));
  assert.equal(v.ok, false);
  assert.deepEqual([...new Set(v.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code))], ['ROUTED_BGP_MISSING']);

  await withDatabase(async (location) => {
    const store = await Store.open(location);
    try {
      const plan = planGniImport(doc, {});
      assert.deepEqual(plan.propertyGaps, rebuilt.gaps);
      await assert.rejects(importGni(store, plan, { now: 1_700_000_000_000 }), (err) => {
        assert.ok(err instanceof EdgenetError);
        assert.equal(err.code, 'INVALID_PROPERTY');
        assert.match(err.message, /rebuilt from the document, which cannot give it everything: Bgp: the document has no node/);
        assert.match(err.message, /--property/);
        assert.match(err.message, /ROUTED_BGP_MISSING/);
        return true;
      });
    } finally {
      await store.close();
    }
  });
});

test('EDGE documents are rebuilt as before, with no gap', () => {
  const xml = readFileSync(new URL('../../golden/gni/dual-stack/expected.xml', import.meta.url), 'utf8');
  const parsed = parseGni(xml);
  assert.ok(parsed.ok);
  const rebuilt = reconstructProperty(parsed.value.configuration);
  assert.equal(rebuilt.value.Mode, 'EDGE');
  assert.deepEqual(rebuilt.gaps, []);
  assert.match(rebuilt.lost.join('\n'), /PrivateIps \(top level\)/);
});

/** The example's clusters as a CLC registers them (nodes by IPv4 address); c1's third node has the cluster's settings. */
const CLC_NODES: Registered = { c1: ['172.31.0.11', '172.31.0.12', '172.31.0.13'], c2: ['172.31.1.11'], c3: ['172.31.2.11'] };

/** Instances on the dual (with an elastic address) and the IPv4-only cluster. */
const INSTANCES: readonly SnapshotInstance[] = [
  { id: 'i-0a0b0c0d', ownerId: '000000000001', cluster: 'c1', node: '172.31.0.11', mac: 'd0:0d:0a:0b:0c:0d', privateIp: '10.50.0.10', publicIp: '10.60.0.3', groups: ['sg-00000001'] },
  { id: 'i-0a0b0c0e', ownerId: '000000000001', cluster: 'c3', node: '172.31.2.11', mac: 'd0:0d:0a:0b:0c:0e', privateIp: '10.52.0.7', groups: ['sg-00000001'] },
];
const stripVersion = (xml: string) => xml.replace(/ version="[0-9a-f]{16}"/, '');

test('CLI: `edgenet import gni` of a ROUTED document without --property; the CLC then builds the same document', async () => {
  const xml = serializeGni(buildGni(snapshotOf(valid(EXAMPLE), CLC_NODES, INSTANCES), { sequence: 1 }));
  await withDatabase(async (location, dir) => {
    const file = join(dir, 'routed-gni.xml');
    writeFileSync(file, xml);
    const r = await runCli(['import', 'gni', file, '--db', location, '--json'], sandboxEnv(dir));
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const summary = JSON.parse(r.stdout);
    assert.deepEqual([summary.propertySource, summary.clusters, summary.nodes, summary.instances, summary.addresses], ['document', 3, 5, 2, 1]);
    const store = await Store.open(location);
    try {
      const state = new CloudState({ store, clock: new FakeClock(), clcIp: '10.0.0.1' });
      const rebuilt = serializeGni(buildGni(await state.snapshot({ full: true }), { sequence: 1 }));
      assert.equal(stripVersion(rebuilt), stripVersion(xml));
    } finally {
      await store.close();
    }
  });
});
