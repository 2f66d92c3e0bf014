/**
 * buildGni on synthetic clouds: valid, deterministic, version tracks content
 * only, input untouched. (Per-rule behaviour is in the golden scenarios.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGni } from '../../../src/cloud-controller/gni/builder.ts';
import type { CloudSnapshot } from '../../../src/cloud-controller/contracts.ts';
import { parseGni, serializeGni } from '../../../src/shared/gni/codec.ts';
import { eucanetd44Refusals } from '../../helpers/eucanetd44.ts';
import { validateGni } from '../../../src/shared/gni/validate.ts';
import { gniVersion } from '../../../src/shared/gni/version.ts';
import { syntheticSnapshot } from '../../fixtures/gni/synthetic.ts';
import { seededRng } from '../../fixtures/gni/prng.ts';

const small = () => syntheticSnapshot({ instances: 300, groups: 40, rulesPerGroup: 6, clusters: 3, nodesPerCluster: 4, seed: 7 });

test('a synthetic cloud builds a document that validates, round-trips and a 4.4 eucanetd accepts', () => {
  const doc = buildGni(small(), { sequence: 3 });
  assert.deepEqual(validateGni(doc).filter((d) => d.severity === 'error'), []);
  assert.deepEqual(eucanetd44Refusals(serializeGni(doc)), []);
  assert.equal(doc.instances.length, 300);
  assert.equal(doc.sequence, 3);
  const r = parseGni(serializeGni(doc));
  assert.ok(r.ok);
  assert.deepEqual(r.value, doc);
});

test('every instance sits under exactly one node of its cluster; instances and groups sorted by id', () => {
  const snap = small();
  const doc = buildGni(snap, {});
  const placed = new Map<string, string>();
  for (const c of doc.configuration.clusters) for (const n of c.nodes) for (const id of n.instanceIds) placed.set(id, `${c.name}/${n.name}`);
  for (const i of snap.instances) assert.equal(placed.get(i.id), `${i.cluster}/${i.node}`);
  const ids = doc.instances.map((i) => i.name);
  assert.deepEqual(ids, [...ids].sort());
  const groups = doc.securityGroups.map((g) => g.name);
  assert.deepEqual(groups, [...groups].sort());
});

test('equal snapshots give byte-identical XML; sequence does not change the version', () => {
  const a = buildGni(small(), { sequence: 1 });
  const b = buildGni(small(), { sequence: 2 });
  const c = buildGni(small(), {});
  assert.equal(a.version, b.version);
  assert.equal(a.version, c.version);
  assert.equal(serializeGni(a).replace(' sequence="1"', ''), serializeGni(c));
  const { version, sequence: _s, ...content } = a;
  assert.equal(gniVersion(content), version);
});

test('any networking change changes the version', () => {
  const base = small();
  const v0 = buildGni(base, {}).version;
  const first = base.instances[0];
  assert.ok(first);
  const variants: CloudSnapshot[] = [
    { ...base, clcIp: '192.0.2.251' },
    { ...base, instances: base.instances.slice(1) },
    { ...base, instances: [{ ...first, publicIp: '100.64.99.99' }, ...base.instances.slice(1)] },
    { ...base, groups: base.groups.map((g, i) => (i === 0 ? { ...g, rules: g.rules.slice(1) } : g)) },
  ];
  const versions = variants.map((s) => buildGni(s, {}).version);
  for (const v of versions) assert.notEqual(v, v0);
  assert.equal(new Set(versions).size, versions.length);
});

test('the snapshot is not mutated', () => {
  const snap = small();
  const copy = structuredClone(snap);
  buildGni(snap, { sequence: 1 });
  assert.deepEqual(snap, copy);
});

test('a rule with neither a CIDR nor a group is dropped; peer owner comes from the group itself', () => {
  const base = syntheticSnapshot({ instances: 2, groups: 2, rulesPerGroup: 0, clusters: 1, nodesPerCluster: 1 });
  const [g0, g1] = base.groups;
  assert.ok(g0 && g1);
  const snap: CloudSnapshot = {
    ...base,
    groups: [{ ...g0, rules: [{ protocol: 6, fromPort: 1, toPort: 2 }, { protocol: 6, fromPort: 3, toPort: 3, sourceGroupId: g1.id, sourceGroupOwnerId: 'stale-owner' }] }, g1],
  };
  const doc = buildGni(snap, {});
  assert.deepEqual(doc.securityGroups.find((g) => g.name === g0.id)?.ingressRules, [{ protocol: 6, fromPort: 3, toPort: 3, groupId: g1.id, groupOwnerId: g1.ownerId }]);
});

test('syntheticSnapshot is deterministic and sized as asked', () => {
  const a = syntheticSnapshot({ instances: 1000, groups: 100, rulesPerGroup: 10, clusters: 4, nodesPerCluster: 5, seed: 3 });
  const b = syntheticSnapshot({ instances: 1000, groups: 100, rulesPerGroup: 10, clusters: 4, nodesPerCluster: 5, seed: 3 });
  assert.deepEqual(a, b);
  assert.equal(a.instances.length, 1000);
  assert.equal(new Set(a.instances.map((i) => i.id)).size, 1000);
  assert.equal(new Set(a.instances.map((i) => i.privateIp)).size, 1000);
  assert.equal(new Set(a.instances.map((i) => i.mac)).size, 1000);
  assert.equal(a.groups.length, 100);
  assert.ok(a.groups.every((g) => g.rules.length === 10));
  assert.equal(a.clusters.length, 4);
  assert.ok(a.clusters.every((c) => c.nodes.length === 5));
});

test('serializing a built document (or a {...doc, sequence} copy) reuses the hashed body and equals a fresh serialization', () => {
  const doc = buildGni(small(), {});
  const fresh = structuredClone(doc);
  const copy = { ...doc, sequence: 9 };
  assert.equal(serializeGni(copy), serializeGni({ ...fresh, sequence: 9 }));
  assert.equal(serializeGni(doc), serializeGni(fresh));
  // A copy with different content objects is serialized from its own content, never from the cache.
  const changed = { ...doc, configuration: { ...doc.configuration, enabledClcIp: '192.0.2.99' } };
  assert.ok(serializeGni(changed).includes('<value>192.0.2.99</value>'));
  const fewer = { ...doc, instances: doc.instances.slice(1) };
  assert.ok(!serializeGni(fewer).includes(`instance name="${doc.instances[0]?.name}"`));
});

test('whatever the store holds (deleted groups, unknown nodes and clusters, missing IPs, no DNS servers), the document validates and a 4.4 eucanetd accepts it', () => {
  const rng = seededRng(99);
  for (let round = 0; round < 20; round++) {
    const base = syntheticSnapshot({ instances: 60, groups: 8, rulesPerGroup: 5, clusters: 2, nodesPerCluster: 2, seed: round });
    const config = base.config;
    assert.ok(config);
    const snap: CloudSnapshot = {
      ...base,
      config: rng.chance(0.2) ? { ...config, Clusters: config.Clusters.slice(1) } : rng.chance(0.2) ? { ...config, InstanceDnsServers: [] } : config,
      // A configured cluster whose CC is not registered (yet), or a registered one that lost a node.
      clusters: rng.chance(0.2) ? base.clusters.slice(1) : rng.chance(0.2) ? base.clusters.map((c) => ({ ...c, nodes: c.nodes.slice(1) })) : base.clusters,
      groups: base.groups.filter(() => !rng.chance(0.3)),
      instances: base.instances.map((i) =>
        rng.chance(0.1) ? { ...i, node: '192.0.2.254' } : rng.chance(0.05) ? { ...i, privateIp: '' } : rng.chance(0.05) ? { ...i, cluster: 'gone' } : i,
      ),
    };
    const doc = buildGni(snap, {});
    assert.deepEqual(validateGni(doc).filter((d) => d.severity === 'error'), [], `round ${round}`);
    assert.deepEqual(eucanetd44Refusals(serializeGni(doc)), [], `round ${round}`);
    const r = parseGni(serializeGni(doc));
    assert.ok(r.ok, `round ${round}`);
    assert.deepEqual(r.value, doc);
  }
});
