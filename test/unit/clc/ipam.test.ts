import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGni } from '../../../src/cloud-controller/gni/builder.ts';
import { DEFAULT_NETD_CONFIG } from '../../../src/netd/config.ts';
import { render } from '../../../src/netd/render/render.ts';
import type { GniDocument } from '../../../src/shared/gni/model.ts';
import { configText, populated, rejectsCode } from './fixture.ts';

const C1_POOL = ['10.1.0.10', '10.1.0.11', '10.1.0.12', '10.1.0.13', '10.1.0.14'];
/** The fixture's registered nodes (C1 and C2), sorted: every one of them holds a released address. */
const ALL_NODES = ['10.0.0.17', '10.0.0.7'];
const holdsOf = (view: { holds: readonly { ip: string; nodes: readonly string[] }[] }) => view.holds.map((h) => [h.ip, [...h.nodes].sort()]);

async function runMany(f: Awaited<ReturnType<typeof populated>>, n: number, cluster = 'C1', node = '10.0.0.7') {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await f.state.runInstance({ cluster, node, groups: ['web'] }));
  return out;
}

test('first-free hands out the lowest free address, then exhaustion is a clear error that changes nothing', async () => {
  const f = await populated();
  const instances = await runMany(f, 5);
  assert.deepEqual(instances.map((i) => i.privateIp), C1_POOL);
  const err = await rejectsCode(f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] }), 'ADDRESS_POOL_EXHAUSTED');
  assert.match(err.message, /cluster C1/);
  assert.equal(err.status, 409);
  assert.equal((await f.state.listInstances()).length, 5);
  await f.close();
});

test('random allocation spreads over the pool, never repeats, and also exhausts cleanly', async () => {
  const f = await populated({ strategy: 'random', seed: 7 });
  const instances = await runMany(f, 5);
  const ips = instances.map((i) => i.privateIp);
  assert.equal(new Set(ips).size, 5);
  assert.deepEqual([...ips].sort(), C1_POOL);
  assert.notDeepEqual(ips, C1_POOL, 'random order differs from first-free for this seed');
  await rejectsCode(f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] }), 'ADDRESS_POOL_EXHAUSTED');
  await f.close();
});

for (const strategy of ['first-free', 'random'] as const) {
  test(`${strategy}: a released address is held, not reused, until every node applied a document without it`, async () => {
    const f = await populated({ strategy, seed: 3 });
    const all = await runMany(f, 5);
    const victim = all[2]!;
    await f.state.terminateInstance(victim.id);
    // Held: the pool is still exhausted.
    await rejectsCode(f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] }), 'ADDRESS_POOL_EXHAUSTED');
    await rejectsCode(f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'], privateIp: victim.privateIp }), 'ADDRESS_HELD');
    let view = await f.state.ipamShow('C1');
    assert.equal(view.pools[0]!.held, 1);
    // Every registered node, not only the one that ran it (its groups' ipsets are on every node).
    assert.deepEqual(holdsOf(view), [[victim.privateIp, ALL_NODES]]);

    // A document built from a snapshot taken after the release omits it.
    await f.state.snapshot();
    const seq = await f.state.nextSequence();
    await f.state.documentBuilt(seq);
    // The instance's node reports an older document: still held.
    await f.state.nodesApplied([{ cluster: 'C1', node: '10.0.0.7', appliedSequence: seq - 1 }]);
    await rejectsCode(f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] }), 'ADDRESS_POOL_EXHAUSTED');
    // The instance's node applied the document, the other node has not: still held.
    await f.state.nodesApplied([{ cluster: 'C1', node: '10.0.0.7', appliedSequence: seq }, { cluster: 'C2', node: '10.0.0.17', appliedSequence: seq - 1 }]);
    await rejectsCode(f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] }), 'ADDRESS_POOL_EXHAUSTED');
    await rejectsCode(f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'], privateIp: victim.privateIp }), 'ADDRESS_HELD');
    assert.equal((await f.state.ipamShow('C1')).pools[0]!.held, 1);
    // Every node applied it: free again, and the next allocation takes exactly it.
    await f.state.nodesApplied([{ cluster: 'C2', node: '10.0.0.17', appliedSequence: seq }]);
    view = await f.state.ipamShow('C1');
    assert.equal(view.pools[0]!.held, 0);
    const again = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] });
    assert.equal(again.privateIp, victim.privateIp);
    await f.close();
  });

  test(`${strategy}: a hold ends after address_hold_timeout without convergence reports`, async () => {
    const f = await populated({ strategy, seed: 5 });
    await f.properties.set('cloud.network.address_hold_timeout', '60');
    const all = await runMany(f, 5);
    await f.state.terminateInstance(all[0]!.id);
    await f.clock.advance(59_000);
    await rejectsCode(f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] }), 'ADDRESS_POOL_EXHAUSTED');
    await f.clock.advance(1_000);
    const again = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] });
    assert.equal(again.privateIp, all[0]!.privateIp);
    await f.close();
  });
}

test('a document built from a snapshot older than the release does not end the hold', async () => {
  const f = await populated();
  const [a] = await runMany(f, 1);
  await f.state.snapshot(); // snapshot still contains the instance
  await f.state.terminateInstance(a!.id);
  const seq = await f.state.nextSequence();
  await f.state.documentBuilt(seq);
  await f.state.nodesApplied([{ cluster: 'C1', node: '10.0.0.7', appliedSequence: seq }, { cluster: 'C2', node: '10.0.0.17', appliedSequence: seq }]);
  let view = await f.state.ipamShow('C1');
  assert.equal(view.holds.length, 1, 'the document every node applied still had the address');
  await f.state.snapshot();
  const seq2 = await f.state.nextSequence();
  await f.state.documentBuilt(seq2);
  await f.state.nodesApplied([{ cluster: 'C1', node: '10.0.0.7', appliedSequence: seq2 }, { cluster: 'C2', node: '10.0.0.17', appliedSequence: seq2 }]);
  view = await f.state.ipamShow('C1');
  assert.equal(view.holds.length, 0);
  await f.close();
});

test('a hold whose node was deregistered counts as converged', async () => {
  const f = await populated();
  await f.state.registerNode({ cluster: 'C1', name: '10.0.0.8', ncUrl: 'https://10.0.0.8:8775/' });
  const i = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.8', groups: ['web'] });
  await f.state.terminateInstance(i.id);
  assert.deepEqual(holdsOf(await f.state.ipamShow('C1')), [[i.privateIp, ['10.0.0.17', '10.0.0.7', '10.0.0.8']]]);
  await f.state.snapshot();
  const seq = await f.state.nextSequence();
  await f.state.documentBuilt(seq);
  // The two other nodes applied the document; 10.0.0.8 never reports: held.
  const others = [{ cluster: 'C1', node: '10.0.0.7', appliedSequence: seq }, { cluster: 'C2', node: '10.0.0.17', appliedSequence: seq }];
  await f.state.nodesApplied(others);
  assert.equal((await f.state.ipamShow('C1')).holds.length, 1, 'a registered node that has not applied keeps the hold');
  // Deregistered: it no longer counts; the next status poll ends the hold.
  await f.state.deregisterNode('C1', '10.0.0.8');
  assert.deepEqual(await f.state.nodesApplied(others), [i.privateIp]);
  assert.equal((await f.state.ipamShow('C1')).holds.length, 0);
  await f.close();
});

test('a hold whose node was deregistered before the document was built ends when the other nodes applied it', async () => {
  const f = await populated();
  await f.state.registerNode({ cluster: 'C1', name: '10.0.0.8', ncUrl: 'https://10.0.0.8:8775/' });
  const i = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.8', groups: ['web'] });
  await f.state.terminateInstance(i.id);
  await f.state.deregisterNode('C1', '10.0.0.8');
  await f.state.snapshot();
  const seq = await f.state.nextSequence();
  await f.state.documentBuilt(seq);
  assert.equal((await f.state.ipamShow('C1')).holds.length, 1, 'the remaining nodes have not applied it yet');
  await f.state.nodesApplied([{ cluster: 'C1', node: '10.0.0.7', appliedSequence: seq }, { cluster: 'C2', node: '10.0.0.17', appliedSequence: seq }]);
  assert.equal((await f.state.ipamShow('C1')).holds.length, 0);
  await f.close();
});

/** The members of `group`'s ipset on `node` as netd renders them from `doc`. */
function ipsetOnNode(doc: GniDocument, node: string, group: string): readonly string[] {
  const r = render(doc, { node }, DEFAULT_NETD_CONFIG, { bridgeMac: '02:00:00:00:00:01' });
  assert.ok(r.ok, r.ok ? '' : `${r.code}: ${r.message}`);
  const set = r.state.ipsets.find((s) => s.name.endsWith(`-${group}`));
  assert.ok(set, `${node} has an ipset for ${group}`);
  return set.members;
}

test('a released private address stays held while another node (which holds it in a group\'s ipset) has not applied the document without it', async () => {
  const f = await populated();
  // a runs on 10.0.0.7 (C1); b, in the same group, on 10.0.0.17 (C2).
  const a = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] });
  await f.state.runInstance({ cluster: 'C2', node: '10.0.0.17', groups: ['web'] });
  // The reason: 10.0.0.17 has a's address in web's ipset although a never ran there,
  // so until it applies a document without a, whoever gets the address next has a's access there.
  const before = buildGni(await f.state.snapshot(), { sequence: 1 });
  assert.ok(ipsetOnNode(before, '10.0.0.17', f.webId).includes(a.privateIp!));

  await f.state.terminateInstance(a.id);
  const snap = await f.state.snapshot();
  const seq = await f.state.nextSequence();
  const after = buildGni(snap, { sequence: seq });
  await f.state.documentBuilt(seq, snap);
  assert.ok(!ipsetOnNode(after, '10.0.0.17', f.webId).includes(a.privateIp!), 'the new document drops it from the ipset');

  // a's own node applied it; 10.0.0.17 still runs the previous document: held.
  await f.state.nodesApplied([{ cluster: 'C1', node: '10.0.0.7', appliedSequence: seq }, { cluster: 'C2', node: '10.0.0.17', appliedSequence: seq - 1 }]);
  const view = await f.state.ipamShow('C1');
  assert.deepEqual(holdsOf(view), [[a.privateIp, ALL_NODES]]);
  await rejectsCode(f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'], privateIp: a.privateIp }), 'ADDRESS_HELD');
  // 10.0.0.17 applied it: free, and handed out again.
  assert.deepEqual(await f.state.nodesApplied([{ cluster: 'C2', node: '10.0.0.17', appliedSequence: seq }]), [a.privateIp]);
  const again = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'], privateIp: a.privateIp });
  assert.equal(again.privateIp, a.privateIp);
  await f.close();
});

test('explicit requests: inside the pool, outside it, malformed, taken', async () => {
  const f = await populated();
  const a = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'], privateIp: '10.1.0.13' });
  assert.equal(a.privateIp, '10.1.0.13');
  await rejectsCode(f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'], privateIp: '10.1.0.13' }), 'ADDRESS_IN_USE');
  await rejectsCode(f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'], privateIp: '10.1.0.99' }), 'ADDRESS_NOT_IN_POOL');
  await rejectsCode(f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'], privateIp: '10.2.0.10' }), 'ADDRESS_NOT_IN_POOL');
  await rejectsCode(f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'], privateIp: '10.1.0' }), 'InvalidParameterValue');
  // First-free skips the explicitly taken address.
  const next = await runMany(f, 4);
  assert.deepEqual(next.map((i) => i.privateIp), ['10.1.0.10', '10.1.0.11', '10.1.0.12', '10.1.0.14']);
  await f.close();
});

test('external reservations are never handed out and can be removed', async () => {
  const f = await populated();
  await f.state.addReservation({ ip: '10.1.0.10', note: 'router' });
  await f.state.addReservation({ ip: '192.0.2.10' });
  await rejectsCode(f.state.addReservation({ ip: '10.1.0.10' }), 'ADDRESS_ALREADY_RESERVED');
  await rejectsCode(f.state.addReservation({ ip: '10.9.9.9' }), 'ADDRESS_NOT_IN_POOL');
  await rejectsCode(f.state.addReservation({ ip: 'nope' }), 'InvalidParameterValue');
  await rejectsCode(f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'], privateIp: '10.1.0.10' }), 'ADDRESS_RESERVED');
  const first = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] });
  assert.equal(first.privateIp, '10.1.0.11');
  await rejectsCode(f.state.addReservation({ ip: '10.1.0.11' }), 'ADDRESS_IN_USE');
  const addr = await f.state.allocateAddress({});
  assert.equal(addr.ip, '192.0.2.11');
  const view = await f.state.ipamShow();
  assert.deepEqual(view.reservations.map((r) => r.ip), ['10.1.0.10', '192.0.2.10']);
  assert.equal(view.pools.find((p) => p.pool === 'cluster:C1')!.map, 'rX...');
  assert.equal(view.pools.find((p) => p.pool === 'public')!.map, 'rX.');
  await rejectsCode(f.state.removeReservation('10.1.0.12'), 'RESERVATION_NOT_FOUND');
  await f.state.removeReservation('10.1.0.10');
  const again = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] });
  assert.equal(again.privateIp, '10.1.0.10');
  await f.close();
});

test('ipam show: compact map with X . r h and counts per pool', async () => {
  const f = await populated();
  const [a, b] = await runMany(f, 2);
  await f.state.addReservation({ ip: '10.1.0.14' });
  await f.state.terminateInstance(a!.id);
  const view = await f.state.ipamShow('C1');
  assert.equal(view.pools.length, 1);
  const pool = view.pools[0]!;
  assert.deepEqual(pool.ranges, ['10.1.0.10-10.1.0.14']);
  assert.equal(pool.map, 'hX..r');
  assert.deepEqual([pool.size, pool.allocated, pool.held, pool.reserved, pool.free], [5, 1, 1, 1, 2]);
  assert.ok(b);
  await rejectsCode(f.state.ipamShow('NOPE'), 'CLUSTER_NOT_CONFIGURED');
  await f.close();
});

test('a property change that shrinks a pool keeps allocated addresses and reports them', async () => {
  const f = await populated();
  const all = await runMany(f, 3); // .10 .11 .12
  await f.properties.set(
    'cloud.network.network_configuration',
    configText((c) => {
      c.Clusters[0]!.PrivateIps = ['10.1.0.11-10.1.0.20'];
      return c;
    }),
  );
  const instances = await f.state.listInstances();
  assert.deepEqual(instances.map((i) => i.privateIp).sort(), ['10.1.0.10', '10.1.0.11', '10.1.0.12']);
  const outside = await f.state.outsidePools();
  assert.deepEqual(outside.map((o) => [o.ip, o.state, o.holder]), [['10.1.0.10', 'allocated', all[0]!.id]]);
  const view = await f.state.ipamShow('C1');
  assert.deepEqual(view.outsidePools.map((o) => o.ip), ['10.1.0.10']);
  assert.equal(view.pools[0]!.map, 'XX........');
  // New allocations only come from the new pool.
  const next = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] });
  assert.equal(next.privateIp, '10.1.0.13');
  // Terminating the stranded instance frees its address for good once converged.
  await f.state.terminateInstance(all[0]!.id);
  assert.equal((await f.state.outsidePools())[0]?.state, 'held');
  await f.close();
});

test('the public pool: allocation, exhaustion, release held until every node converged', async () => {
  const f = await populated();
  const i = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] });
  const a = await f.state.allocateAddress({});
  const b = await f.state.allocateAddress({});
  const c = await f.state.allocateAddress({});
  assert.deepEqual([a.ip, b.ip, c.ip], ['192.0.2.10', '192.0.2.11', '192.0.2.12']);
  await rejectsCode(f.state.allocateAddress({}), 'ADDRESS_POOL_EXHAUSTED');
  // Never associated: released immediately.
  await f.state.releaseAddress({ ip: c.ip });
  assert.equal((await f.state.allocateAddress({})).ip, c.ip);
  // Associated then released: held for every node (a member's public address is in its groups' ipsets everywhere).
  await f.state.associateAddress({ ip: a.ip, instance: i.id });
  await f.state.releaseAddress({ ip: a.ip });
  const view = await f.state.ipamShow();
  assert.deepEqual(holdsOf(view), [[a.ip, ALL_NODES]]);
  await rejectsCode(f.state.allocateAddress({ ip: a.ip }), 'ADDRESS_HELD');
  await f.state.snapshot();
  const seq = await f.state.nextSequence();
  await f.state.documentBuilt(seq);
  // The node it was on applied the document; the other has not: still held.
  await f.state.nodesApplied([{ cluster: 'C1', node: '10.0.0.7', appliedSequence: seq }]);
  await rejectsCode(f.state.allocateAddress({ ip: a.ip }), 'ADDRESS_HELD');
  await f.state.nodesApplied([{ cluster: 'C2', node: '10.0.0.17', appliedSequence: seq }]);
  assert.equal((await f.state.allocateAddress({ ip: a.ip })).ip, a.ip);
  await f.close();
});
