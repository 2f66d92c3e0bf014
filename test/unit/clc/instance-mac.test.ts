/**
 * A requested instance MAC (admin API `mac`, `instance run --mac`), on the
 * test store (SQLite, or PostgreSQL under EDGENET_TEST_DB=postgres): stored
 * lower-case; refused when malformed, multicast or zero
 * (InvalidParameterValue), outside the cluster's MacPrefix
 * (MAC_NOT_IN_PREFIX) or another instance's (MAC_IN_USE, 409), each before
 * anything is written; free again once its instance is terminated; an
 * allocated MAC never takes a requested one (the id is drawn again); in
 * ROUTED the same MAC gives a re-created instance the same EUI-64 IPv6
 * address on another node.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { populated, rejectsCode, fixture } from './fixture.ts';
import { CloudState } from '../../../src/cloud-controller/services/cloud-state.ts';

test('run with a requested MAC: lower-case canonical; malformed, multicast, zero, foreign-prefix and taken MACs refused with nothing written', async () => {
  const f = await populated();
  try {
    const a = await f.state.runInstance({ cluster: 'C1', groups: ['web'], mac: ' AA:BB:0A:0B:0C:0D ' });
    assert.equal(a.mac, 'aa:bb:0a:0b:0c:0d');
    assert.equal(a.interface, `vn_${a.id}`);
    const row = await f.store.read((db) => db.selectFrom('instances').select(['mac']).where('id', '=', a.id).executeTakeFirstOrThrow());
    assert.equal(row.mac, 'aa:bb:0a:0b:0c:0d');

    const before = await f.store.read(async (db) => ({
      instances: await db.selectFrom('instances').select(['id', 'mac', 'private_ip']).orderBy('id').execute(),
      leases: await db.selectFrom('ip_leases').select(['ip', 'state']).orderBy('ip_num').execute(),
    }));
    for (const bad of ['aa:bb:0a:0b:0c', 'aa-bb-0a-0b-0c-0e', 'aabb.0a0b.0c0e', 'aa:bb:0a:0b:0c:0g', 42]) {
      await rejectsCode(f.state.runInstance({ cluster: 'C1', groups: ['web'], mac: bad }), 'InvalidParameterValue');
    }
    const multicast = await rejectsCode(f.state.runInstance({ cluster: 'C1', groups: ['web'], mac: 'ab:bb:00:00:00:01' }), 'InvalidParameterValue');
    assert.match(multicast.message, /not a unicast MAC/);
    await rejectsCode(f.state.runInstance({ cluster: 'C1', groups: ['web'], mac: '00:00:00:00:00:00' }), 'InvalidParameterValue');
    // C1's MacPrefix is aa:bb; C2 has the cloud's d0:0d.
    const foreign = await rejectsCode(f.state.runInstance({ cluster: 'C1', groups: ['web'], mac: 'd0:0d:00:00:00:01' }), 'MAC_NOT_IN_PREFIX');
    assert.match(foreign.message, /cluster C1's MacPrefix aa:bb/);
    await rejectsCode(f.state.runInstance({ cluster: 'C2', groups: ['web'], mac: 'aa:bb:00:00:00:01' }), 'MAC_NOT_IN_PREFIX');
    const taken = await rejectsCode(f.state.runInstance({ cluster: 'C1', groups: ['web'], mac: 'aa:bb:0A:0b:0c:0D', privateIp: '10.1.0.12' }), 'MAC_IN_USE');
    assert.equal(taken.status, 409);
    assert.deepEqual(taken.details, { instance: a.id });
    // Another instance's derived MAC is taken as well.
    const derived = await f.state.runInstance({ cluster: 'C2', groups: ['web'] });
    assert.match(derived.mac, /^d0:0d:/);
    await rejectsCode(f.state.runInstance({ cluster: 'C2', groups: ['web'], mac: derived.mac.toUpperCase() }), 'MAC_IN_USE');
    const after = await f.store.read(async (db) => ({
      instances: await db.selectFrom('instances').select(['id', 'mac', 'private_ip']).where('id', '!=', derived.id).orderBy('id').execute(),
      leases: await db.selectFrom('ip_leases').select(['ip', 'state']).where('ip', '!=', derived.privateIp!).orderBy('ip_num').execute(),
    }));
    assert.deepEqual(after, before, 'no refused run wrote an instance or a lease');

    // Terminated, its MAC is free at once (the MAC has no hold; its private IP does).
    await f.state.terminateInstance(a.id);
    const again = await f.state.runInstance({ cluster: 'C1', groups: ['web'], mac: 'aa:bb:0a:0b:0c:0d' });
    assert.equal(again.mac, 'aa:bb:0a:0b:0c:0d');
    assert.notEqual(again.id, a.id);
  } finally {
    await f.close();
  }
});

test('an allocated MAC never takes a requested one: the id whose derived MAC is taken is drawn again', async () => {
  const f = await populated();
  try {
    // A CloudState on the same store whose ids come from a script.
    const ids = ['01020304', '11223344', '0a0b0c0d'];
    const state = new CloudState({ store: f.store, clock: f.clock, clcIp: '10.0.0.1', random: () => 0, randomHex: () => ids.shift()! });
    const requested = await state.runInstance({ cluster: 'C1', groups: ['web'], mac: 'aa:bb:11:22:33:44' });
    assert.equal(requested.id, 'i-01020304');
    assert.equal(requested.mac, 'aa:bb:11:22:33:44');
    // i-11223344 would be aa:bb:11:22:33:44: skipped.
    const next = await state.runInstance({ cluster: 'C1', groups: ['web'] });
    assert.equal(next.id, 'i-0a0b0c0d');
    assert.equal(next.mac, 'aa:bb:0a:0b:0c:0d');
    assert.deepEqual(ids, []);
  } finally {
    await f.close();
  }
});

const ROUTED = {
  Mode: 'ROUTED',
  InstanceDnsServers: ['10.0.0.2'],
  MacPrefix: 'd0:0d',
  Bgp: { LocalAsn: 65001, Peers: [{ Address: '10.0.0.254', Asn: 65000 }, { Address: 'fd00:10::254', Asn: 65000 }] },
  Clusters: [{ Name: 'C1', Ipv4Pool: ['10.50.0.10-10.50.0.12'], Ipv6Prefix: '2001:db8:50::/64' }],
};

test('ROUTED: re-created on the other node with the same MAC, an instance has the same IPv6 address', async () => {
  const f = await fixture();
  try {
    await f.properties.set('cloud.network.network_configuration', JSON.stringify(ROUTED));
    await f.state.registerCluster({ name: 'C1', ccUrl: 'https://10.0.0.6:8774/' });
    await f.state.registerNode({ cluster: 'C1', name: '10.0.0.7', ncUrl: 'https://10.0.0.7:8775/' });
    await f.state.registerNode({ cluster: 'C1', name: '10.0.0.8', ncUrl: 'https://10.0.0.8:8775/' });
    await f.state.createGroup({ name: 'web' });
    const first = await f.state.runInstance({ node: '10.0.0.7', groups: ['web'] });
    // d0 with the universal/local bit inverted is d2; ff:fe in the middle.
    const eui = `2001:db8:50:0:d20d:${first.mac.slice(6, 8)}ff:fe${first.mac.slice(9, 11)}:${first.mac.slice(12, 14)}${first.mac.slice(15, 17)}`.replace(/:0+([0-9a-f])/g, ':$1');
    assert.equal(first.ipv6, eui);
    await f.state.terminateInstance(first.id);
    const moved = await f.state.runInstance({ node: '10.0.0.8', groups: ['web'], mac: first.mac });
    assert.equal(moved.node, '10.0.0.8');
    assert.equal(moved.mac, first.mac);
    assert.equal(moved.ipv6, first.ipv6);
    assert.notEqual(moved.id, first.id);
    await rejectsCode(f.state.runInstance({ groups: ['web'], mac: 'aa:bb:00:00:00:01' }), 'MAC_NOT_IN_PREFIX');
  } finally {
    await f.close();
  }
});
