/**
 * The memoizing GNI builder against from-scratch builds: random changes to a
 * synthetic cloud that keep the identity of everything unchanged (as the
 * snapshot cache does), including changes the store never produces (a group
 * removed while instances and other groups' rules still name it, unsorted
 * arrays, a node deregistered under its instances). After every change the
 * incremental text must be byte-identical to a build of a deep copy (no memo
 * entry can apply) and to the plain serializer, with the same version.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGni } from '../../../src/cloud-controller/gni/builder.ts';
import { GniEncoder } from '../../../src/cloud-controller/gni/encoder.ts';
import { serializeGni, serializeGniBody } from '../../../src/shared/gni/codec.ts';
import { serializeWithBody } from '../../../src/shared/gni/serialize.ts';
import type { CloudSnapshot, SnapshotGroup, SnapshotInstance } from '../../../src/cloud-controller/contracts.ts';
import { syntheticSnapshot } from '../../fixtures/gni/synthetic.ts';
import { seededRng } from '../../fixtures/gni/prng.ts';
import { eucanetd44Refusals } from '../../helpers/eucanetd44.ts';

/** One encoder for the whole file: its caches carry over from build to build, as the broadcaster's do. */
const encoder = new GniEncoder();

function assertSameAsScratch(s: CloudSnapshot, step: string): void {
  const incremental = encoder.build(s);
  const text = incremental.encode(3).toString('utf8');
  const scratch = buildGni(structuredClone(s), { sequence: 3 });
  assert.equal(text, serializeGni(scratch), step);
  assert.equal(incremental.doc.version, scratch.version, step);
  const copy = structuredClone({ configuration: scratch.configuration, instances: scratch.instances, securityGroups: scratch.securityGroups });
  assert.equal(text, serializeWithBody({ version: scratch.version, sequence: 3 }, serializeGniBody(copy)), step);
  // The model the preview route serves is the same too, and so is its text.
  const preview = buildGni(s);
  assert.deepStrictEqual({ ...preview, sequence: 3 }, scratch, step);
  assert.equal(serializeGni({ ...preview, sequence: 3 }), text, step);
  assert.deepEqual(eucanetd44Refusals(text), [], `${step}: a 4.4 eucanetd would refuse the document`);
}

test('incremental build = from-scratch build after random identity-preserving changes', () => {
  const rng = seededRng(42);
  let s = syntheticSnapshot({ instances: 300, groups: 24, rulesPerGroup: 6, clusters: 3, nodesPerCluster: 3 });
  const removedGroups: SnapshotGroup[] = [];
  let extra = 0;
  assertSameAsScratch(s, 'start');
  const changes: Record<string, () => CloudSnapshot> = {
    instanceEdit() {
      const list = [...s.instances];
      const k = rng.int(0, list.length - 1);
      const old = list[k]!;
      const groups = [...s.groups.map((g) => g.id), 'sg-deadbeef'];
      const edit = rng.int(0, 3);
      const next: SnapshotInstance =
        edit === 0
          ? { ...old, publicIp: `100.64.200.${rng.int(1, 250)}` }
          : edit === 1
            ? { ...old, node: rng.pick(['172.16.0.1', '172.16.9.9']) }
            : edit === 2
              ? { ...old, groups: [rng.pick(groups), rng.pick(groups)] }
              : { id: old.id, ownerId: old.ownerId, cluster: old.cluster, node: old.node, mac: old.mac, privateIp: old.privateIp, groups: old.groups };
      list[k] = next;
      return { ...s, instances: list };
    },
    instanceAdd() {
      const k = rng.int(0, s.instances.length - 1);
      const base = s.instances[k]!;
      const id = `i-f${String(++extra).padStart(7, '0')}`;
      const list = [...s.instances];
      list.splice(rng.int(0, list.length), 0, { ...base, id, mac: `d0:0d:ff:00:00:${(extra % 256).toString(16).padStart(2, '0')}`, privateIp: `10.9.0.${extra % 250}` });
      return { ...s, instances: list };
    },
    instanceRemove() {
      const list = [...s.instances];
      list.splice(rng.int(0, list.length - 1), 1);
      return { ...s, instances: list };
    },
    shuffle() {
      const list = [...s.instances];
      for (let i = list.length - 1; i > 0; i--) {
        const j = rng.int(0, i);
        [list[i], list[j]] = [list[j]!, list[i]!];
      }
      return { ...s, instances: list };
    },
    sortInstances() {
      return { ...s, instances: [...s.instances].sort((a, b) => (a.id < b.id ? -1 : 1)) };
    },
    groupRules() {
      const list = [...s.groups];
      const k = rng.int(0, list.length - 1);
      const g = list[k]!;
      const peer = rng.pick([...list.map((x) => x.id), 'sg-00000bad']);
      list[k] = { ...g, rules: [...g.rules.slice(1), { protocol: 6, fromPort: rng.int(1, 9), toPort: 9, sourceGroupId: peer, sourceGroupOwnerId: '000000000009' }] };
      return { ...s, groups: list };
    },
    groupRemove() {
      // Instances and other groups' rules may still name it: the builder must drop those references.
      const list = [...s.groups];
      const [g] = list.splice(rng.int(0, list.length - 1), 1);
      if (g !== undefined) removedGroups.push(g);
      return { ...s, groups: list };
    },
    groupRestore() {
      const g = removedGroups.pop();
      if (g === undefined) return s;
      return { ...s, groups: [...s.groups, g] };
    },
    config() {
      if (s.config === undefined) return s;
      return { ...s, config: { ...s.config, InstanceDnsServers: rng.chance(0.2) ? [] : [`192.0.2.${rng.int(50, 60)}`] } };
    },
    clusters() {
      const list = s.clusters.map((c, i) => (i === 0 ? { ...c, nodes: c.nodes.slice(0, rng.int(1, 3)), ccIp: rng.pick(['192.0.2.1', '192.0.2.2']) } : c));
      return { ...s, clusters: list };
    },
    clcIp() {
      return { ...s, clcIp: rng.pick(['192.0.2.250', '192.0.2.251']) };
    },
    nothing() {
      return s;
    },
  };
  const names = Object.keys(changes);
  for (let step = 0; step < 150; step++) {
    const name = rng.pick(names);
    s = changes[name]!();
    assertSameAsScratch(s, `step ${step} (${name})`);
  }
});

test('unset configuration and empty clouds build the same incrementally', () => {
  const s = syntheticSnapshot({ instances: 5, groups: 2, rulesPerGroup: 2, clusters: 1, nodesPerCluster: 1 });
  assertSameAsScratch({ ...s, config: undefined }, 'no config');
  assertSameAsScratch({ ...s, instances: [] }, 'no instances');
  assertSameAsScratch({ ...s, instances: [], groups: [] }, 'nothing');
  assertSameAsScratch(s, 'back');
});
