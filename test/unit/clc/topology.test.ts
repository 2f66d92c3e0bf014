/**
 * Topology rules of the CLC services: what registration accepts (node names
 * are IPv4 addresses, CC/NC URLs are https://HOST:PORT/), one cluster per CC,
 * URL updates that leave instances alone, a network configuration that may not
 * drop a cluster still in use, and `associate` moving an address.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addAccount, configText, populated, rejectsCode } from './fixture.ts';
import { statusView } from '../../../src/cloud-controller/broadcast/status-view.ts';
import { formatStatus } from '../../../src/cloud-controller/broadcast/status-format.ts';

const NET = 'cloud.network.network_configuration';

test('registration: node names are IPv4 addresses; CC and NC URLs are https with host and port', async () => {
  const f = await populated();
  for (const name of ['node-1', 'n1.example.com', '10.0.0.256', '010.0.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255']) {
    await rejectsCode(f.state.registerNode({ cluster: 'C1', name, ncUrl: 'https://10.0.0.8:8775/' }), 'INVALID_NODE_NAME');
  }
  const badUrls = ['http://10.0.0.8:8775/', 'https://10.0.0.8/', 'https://10.0.0.8', 'https://:8775/', 'https://u:p@10.0.0.8:8775/', 'https://10.0.0.8:8775/?x=1', 'not a url', 'ftp://10.0.0.8:21/'];
  for (const ncUrl of badUrls) await rejectsCode(f.state.registerNode({ cluster: 'C1', name: '10.0.0.8', ncUrl }), 'INVALID_URL');
  for (const ccUrl of badUrls) await rejectsCode(f.state.registerCluster({ name: 'C3', ccUrl, ccIp: '10.0.0.26' }), 'INVALID_URL');
  // The port may be the default one, as long as it is written; a path is allowed.
  const n = await f.state.registerNode({ cluster: 'C1', name: '10.0.0.8', ncUrl: 'https://10.0.0.8:443/axis2/services/EucalyptusNC' });
  assert.equal(n.ncUrl, 'https://10.0.0.8/axis2/services/EucalyptusNC');
  assert.deepEqual((await f.state.listNodes()).map((x) => x.name), ['10.0.0.7', '10.0.0.8', '10.0.0.17']);
  await f.close();
});

test('a CC (host:port) serves one cluster: a second cluster on it is refused', async () => {
  const f = await populated();
  const e = await rejectsCode(f.state.registerCluster({ name: 'C3', ccUrl: 'https://10.0.0.6:8774/other' }), 'CC_ALREADY_IN_USE');
  assert.equal(e.status, 409);
  assert.equal(e.details?.cluster, 'C1');
  // Another port of the same host is another CC.
  await f.state.registerCluster({ name: 'C3', ccUrl: 'https://10.0.0.6:8784/' });
  assert.deepEqual((await f.state.listClusters()).map((c) => c.name), ['C1', 'C2', 'C3']);
  await f.close();
});

test('cluster update and node update change URLs without touching nodes or instances', async () => {
  const f = await populated();
  const i = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] });
  f.changes.length = 0;
  const c = await f.state.updateCluster('C1', { ccUrl: 'https://10.0.0.60:8774/' });
  assert.deepEqual([c.ccUrl, c.ccIp, c.nodes.map((x) => x.name)], ['https://10.0.0.60:8774/', '10.0.0.60', ['10.0.0.7']]);
  const n = await f.state.updateNode('10.0.0.7', { ncUrl: 'https://10.0.0.70:8775/' });
  assert.deepEqual([n.name, n.cluster, n.ncUrl, n.instances], ['10.0.0.7', 'C1', 'https://10.0.0.70:8775/', 1]);
  assert.deepEqual(f.changes, [{ kind: 'cluster', id: 'C1' }, { kind: 'node', id: '10.0.0.7' }]);
  const after = await f.state.getInstance(i.id);
  assert.deepEqual([after.node, after.privateIp, after.mac], ['10.0.0.7', i.privateIp, i.mac]);
  const snap = await f.state.snapshot();
  const c1 = snap.clusters.find((x) => x.name === 'C1')!;
  assert.deepEqual([c1.ccUrl, c1.ccIp, c1.nodes.map((x) => x.ncUrl)], ['https://10.0.0.60:8774/', '10.0.0.60', ['https://10.0.0.70:8775/']]);
  // Only the address: the URL stays.
  assert.equal((await f.state.updateCluster('C1', { ccIp: '10.0.0.61' })).ccUrl, 'https://10.0.0.60:8774/');
  await rejectsCode(f.state.updateCluster('C1', { ccUrl: 'https://10.0.0.16:8774/' }), 'CC_ALREADY_IN_USE');
  await rejectsCode(f.state.updateCluster('C1', { ccUrl: 'http://10.0.0.60:8774/' }), 'INVALID_URL');
  await rejectsCode(f.state.updateCluster('C1', {}), 'MissingParameter');
  await rejectsCode(f.state.updateCluster('C9', { ccUrl: 'https://10.0.0.90:8774/' }), 'CLUSTER_NOT_FOUND');
  await rejectsCode(f.state.updateNode('10.0.0.99', { ncUrl: 'https://10.0.0.99:8775/' }), 'NODE_NOT_FOUND');
  await rejectsCode(f.state.updateNode('10.0.0.7', { ncUrl: 'https://10.0.0.70/' }), 'INVALID_URL');
  assert.equal((await f.state.getCluster('C1')).ccIp, '10.0.0.61');
  await f.close();
});

test('a network configuration that renames or drops a cluster with nodes or instances is refused, with what depends on it', async () => {
  const f = await populated();
  const before = (await f.properties.get(NET)).value;
  const i = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] });
  const renamed = configText((c) => ({ ...c, Clusters: [{ ...c.Clusters[0]!, Name: 'C1-new' }, c.Clusters[1]] }));
  const e = await rejectsCode(f.properties.set(NET, renamed), 'CLUSTER_IN_USE');
  assert.equal(e.status, 409);
  assert.deepEqual(e.details?.dependents, [{ cluster: 'C1', nodes: ['10.0.0.7'], instances: [i.id] }]);
  assert.match(e.message, /C1 \(nodes 10\.0\.0\.7; instances i-/);
  const dropped = configText((c) => ({ ...c, Clusters: [c.Clusters[0]] }));
  assert.deepEqual((await rejectsCode(f.properties.set(NET, dropped), 'CLUSTER_IN_USE')).details?.dependents, [{ cluster: 'C2', nodes: ['10.0.0.17'], instances: [] }]);
  await rejectsCode(f.properties.reset(NET), 'CLUSTER_IN_USE');
  // Nothing changed: value and history.
  assert.equal((await f.properties.get(NET)).value, before);
  assert.equal((await f.properties.history(NET)).length, 1);
  // Once C2 has no node left, it may go.
  await f.state.deregisterNode('C2', '10.0.0.17');
  assert.equal((await f.properties.set(NET, dropped)).changed, true);
  await f.close();
});

test('associate moves an address that is associated with another instance, and replaces the instance\'s own (EC2-Classic)', async () => {
  const f = await populated();
  const i = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] });
  const j = await f.state.runInstance({ cluster: 'C2', node: '10.0.0.17', groups: ['web'] });
  const a = await f.state.allocateAddress({});
  const b = await f.state.allocateAddress({});
  await f.state.associateAddress({ ip: a.ip, instance: i.id });
  const moved = await f.state.associateAddress({ ip: a.ip, instance: j.id });
  assert.deepEqual([moved.instanceId, moved.movedFrom, moved.replaced], [j.id, i.id, undefined]);
  assert.equal((await f.state.getInstance(i.id)).publicIp, undefined);
  assert.equal((await f.state.getInstance(j.id)).publicIp, a.ip);
  const replaced = await f.state.associateAddress({ ip: b.ip, instance: j.id });
  assert.deepEqual([replaced.instanceId, replaced.movedFrom, replaced.replaced], [j.id, undefined, a.ip]);
  assert.deepEqual((await f.state.listAddresses()).map((x) => [x.ip, x.instanceId]), [[a.ip, undefined], [b.ip, j.id]]);
  // The snapshot the GNI is built from agrees: one public address per instance.
  const snap = await f.state.snapshot();
  assert.deepEqual(snap.instances.map((x) => [x.id, x.publicIp]).sort(), [[i.id, undefined], [j.id, b.ip]].sort());
  // Another account's instance still cannot take it.
  await addAccount(f, '000000000002');
  await f.state.createGroup({ name: 'theirs', owner: '000000000002' });
  const k = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['theirs'], owner: '000000000002' });
  await rejectsCode(f.state.associateAddress({ ip: b.ip, instance: k.id }), 'AuthFailure');
  assert.equal((await f.state.getInstance(j.id)).publicIp, b.ip);
  await f.close();
});

test('status: a deregistered node is not reported, even while its CC still reports it', () => {
  const now = 1_700_000_000_000;
  const view = statusView({
    now,
    current: { version: 'v5', sequence: 5, builtAt: now - 1000, bytes: 10 },
    history: new Map([[4, now - 20_000], [5, now - 1000]]),
    clusters: [
      {
        sender: { name: 'C1', ccUrl: 'https://10.0.0.6:8774/', failures: 0 },
        nodes: [{ name: '10.0.0.7', url: 'https://10.0.0.7:8775/' }],
        reports: new Map([
          ['10.0.0.7', { name: '10.0.0.7', result: 'ok', appliedSequence: 5, appliedVersion: 'v5' }],
          // Deregistered: the CC's last report still names it, stuck on an old document.
          ['10.0.0.8', { name: '10.0.0.8', result: 'ok', appliedSequence: 4, appliedVersion: 'v4' }],
        ]),
      },
    ],
  });
  assert.deepEqual(view.clusters[0]!.nodes.map((n) => n.name), ['10.0.0.7']);
  assert.equal(view.converged, true);
  assert.doesNotMatch(formatStatus(view), /10\.0\.0\.8|LAGGING/);
});
