import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, configText, populated, rejectsCode } from './fixture.ts';
import { macFor } from '../../../src/cloud-controller/services/instances.ts';

test('run: id i- + 8 hex, MAC = cluster prefix + id bytes, vn_ interface, groups in order', async () => {
  const f = await populated();
  const i = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] });
  assert.match(i.id, /^i-[0-9a-f]{8}$/);
  assert.equal(i.mac, `aa:bb:${i.id.slice(2, 4)}:${i.id.slice(4, 6)}:${i.id.slice(6, 8)}:${i.id.slice(8, 10)}`);
  assert.equal(i.interface, `vn_${i.id}`);
  assert.equal(i.ownerId, '000000000001');
  const j = await f.state.runInstance({ cluster: 'C2', node: '10.0.0.17', groups: [f.webId] });
  assert.ok(j.mac.startsWith('d0:0d:'), 'C2 has no MacPrefix: the top-level one applies');
  assert.equal(macFor('D0:0D', 'i-1a2b3c4d'), 'd0:0d:1a:2b:3c:4d');
  assert.deepEqual(f.changes.filter((c) => c.kind === 'instance').map((c) => ('id' in c ? c.id : '')), [i.id, j.id]);
  await f.close();
});

test('run: every bad argument has a stable code and changes nothing', async () => {
  const f = await populated();
  await f.state.registerCluster({ name: 'C3', ccUrl: 'https://10.0.0.26:8774/' });
  const cases: [Record<string, unknown>, string][] = [
    [{ node: '10.0.0.7', groups: ['web'] }, 'MissingParameter'],
    [{ cluster: 'C1', node: '10.0.0.7' }, 'MissingParameter'],
    [{ cluster: 'C1', node: '10.0.0.7', groups: [] }, 'MissingParameter'],
    [{ cluster: 'NOPE', node: '10.0.0.7', groups: ['web'] }, 'CLUSTER_NOT_FOUND'],
    [{ cluster: 'C3', node: '10.0.0.7', groups: ['web'] }, 'CLUSTER_NOT_CONFIGURED'],
    [{ cluster: 'C1', node: '10.9.9.9', groups: ['web'] }, 'NODE_NOT_FOUND'],
    [{ cluster: 'C1', node: '10.0.0.17', groups: ['web'] }, 'NODE_NOT_IN_CLUSTER'],
    [{ cluster: 'C1', node: '10.0.0.7', groups: ['nope'] }, 'InvalidGroup.NotFound'],
    [{ cluster: 'C1', node: '10.0.0.7', groups: ['web', 'web'] }, 'InvalidParameterValue'],
    [{ cluster: 'C1', node: '10.0.0.7', groups: ['web'], owner: 'alice' }, 'ACCOUNT_NOT_FOUND'],
    [{ cluster: 'C1', node: '10.0.0.7', groups: ['web'], owner: 'Alice Smith' }, 'InvalidParameterValue'],
    // No node named and none registered in the cluster.
    [{ cluster: 'C3', groups: ['web'] }, 'CLUSTER_NOT_CONFIGURED'],
  ];
  for (const [input, code] of cases) await rejectsCode(f.state.runInstance(input), code);
  assert.equal((await f.state.listInstances()).length, 0);
  assert.equal((await f.state.ipamShow()).pools.every((p) => p.allocated === 0), true);
  assert.equal(f.changes.length, 1, 'only the C3 registration was announced');
  await rejectsCode(f.state.terminateInstance('i-00000000'), 'InvalidInstanceID.NotFound');
  await f.close();
});

test('run without a network configuration: NETWORK_NOT_CONFIGURED', async () => {
  const f = await fixture();
  await f.state.registerCluster({ name: 'C1', ccUrl: 'https://10.0.0.6:8774/' });
  await f.state.registerNode({ cluster: 'C1', name: '10.0.0.7', ncUrl: 'https://10.0.0.7:8775/' });
  await f.state.createGroup({ name: 'web' });
  await rejectsCode(f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] }), 'NETWORK_NOT_CONFIGURED');
  await f.properties.set('cloud.network.network_configuration', configText());
  await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] });
  await f.close();
});

test('an id collision is retried; the database refuses duplicate MACs and private IPs', async () => {
  const f = await populated();
  const a = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] });
  await assert.rejects(
    f.store.db.insertInto('instances').values({ id: 'i-ffffffff', owner_id: '000000000001', cluster: 'C1', node: '10.0.0.7', mac: a.mac, private_ip: '10.1.0.11', created_at: 0 }).execute(),
    /UNIQUE|FOREIGN KEY|unique constraint|foreign key constraint/,
  );
  await assert.rejects(
    f.store.db.insertInto('ip_leases').values({ ip: a.privateIp!, ip_num: 1, pool: 'x', state: 'allocated', holder: null, note: null, created_at: 0, released_at: null, release_mark: null, released_seq: null, hold_nodes: null }).execute(),
    /UNIQUE|PRIMARY KEY|unique constraint/,
  );
  await f.close();
});

test('clusters and nodes: register, list, errors, deregister refused while in use', async () => {
  const f = await populated();
  await rejectsCode(f.state.registerCluster({ name: 'C1', ccUrl: 'https://10.0.0.6:8774/' }), 'CLUSTER_ALREADY_EXISTS');
  await rejectsCode(f.state.registerCluster({ name: 'bad name', ccUrl: 'https://10.0.0.6:8774/' }), 'InvalidParameterValue');
  await rejectsCode(f.state.registerCluster({ name: 'C9', ccUrl: 'ftp://x/' }), 'INVALID_URL');
  await rejectsCode(f.state.registerCluster({ name: 'C9', ccUrl: 'https://cc.example:8774/' }), 'InvalidParameterValue');
  const named = await f.state.registerCluster({ name: 'C9', ccUrl: 'https://cc.example:8774/', ccIp: '10.0.0.9' });
  assert.equal(named.ccIp, '10.0.0.9');
  await rejectsCode(f.state.registerNode({ cluster: 'NOPE', name: '10.0.0.50', ncUrl: 'https://10.0.0.50:8775/' }), 'CLUSTER_NOT_FOUND');
  await rejectsCode(f.state.registerNode({ cluster: 'C2', name: '10.0.0.7', ncUrl: 'https://10.0.0.7:8775/' }), 'NODE_ALREADY_EXISTS');
  await rejectsCode(f.state.registerNode({ cluster: 'C2', name: 'bad node!', ncUrl: 'https://10.0.0.7:8775/' }), 'INVALID_NODE_NAME');
  const clusters = await f.state.listClusters();
  assert.deepEqual(clusters.map((c) => [c.name, c.nodes.map((n) => n.name)]), [['C1', ['10.0.0.7']], ['C2', ['10.0.0.17']], ['C9', []]]);
  const i = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] });
  await rejectsCode(f.state.deregisterNode('C1', '10.0.0.7'), 'NODE_IN_USE');
  await rejectsCode(f.state.deregisterNode('C2', '10.0.0.7'), 'NODE_NOT_IN_CLUSTER');
  await rejectsCode(f.state.deregisterCluster('C1'), 'CLUSTER_IN_USE');
  await f.state.terminateInstance(i.id);
  await f.state.deregisterNode('C1', '10.0.0.7');
  await f.state.deregisterCluster('C1');
  await rejectsCode(f.state.deregisterCluster('C1'), 'CLUSTER_NOT_FOUND');
  const snap = await f.state.snapshot();
  assert.deepEqual(snap.clusters.map((c) => c.name), ['C2', 'C9']);
  await f.close();
});

test('snapshot: config, clcIp, clusters with nodes, instances with groups and public IPs, groups with rules', async () => {
  const f = await populated();
  await f.state.authorize('web', undefined, { protocol: 'tcp', port: '80' });
  const i = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] });
  const a = await f.state.allocateAddress({});
  await f.state.associateAddress({ ip: a.ip, instance: i.id });
  const snap = await f.state.snapshot();
  assert.equal(snap.clcIp, '10.0.0.1');
  assert.deepEqual(snap.config?.Clusters.map((c) => c.Name), ['C1', 'C2']);
  assert.deepEqual(snap.clusters.map((c) => [c.name, c.ccIp, c.nodes.map((n) => n.name)]), [['C1', '10.0.0.6', ['10.0.0.7']], ['C2', '10.0.0.16', ['10.0.0.17']]]);
  assert.deepEqual(snap.instances, [{ id: i.id, ownerId: '000000000001', cluster: 'C1', node: '10.0.0.7', mac: i.mac, privateIp: i.privateIp, publicIp: a.ip, groups: [f.webId] }]);
  assert.deepEqual(snap.groups, [{ id: f.webId, name: 'web', ownerId: '000000000001', rules: [{ protocol: 6, fromPort: 80, toPort: 80, cidr: '0.0.0.0/0' }] }]);
  assert.deepEqual(await f.state.instanceByPrivateIp(i.privateIp!), snap.instances[0]);
  assert.equal(await f.state.instanceByPrivateIp('10.1.0.99'), undefined);
  await f.close();
});

test('nextSequence is strictly increasing and durable across reopen', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const dir = mkdtempSync(path.join(tmpdir(), 'h2-seq-'));
  try {
    const file = path.join(dir, 'clc.db');
    let f = await fixture({ file });
    const seen = await Promise.all(Array.from({ length: 20 }, () => f.state.nextSequence()));
    assert.deepEqual([...seen].sort((x, y) => x - y), Array.from({ length: 20 }, (_, k) => k + 1));
    await f.close();
    f = await fixture({ file });
    assert.equal(await f.state.nextSequence(), 21);
    await f.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
