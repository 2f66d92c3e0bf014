/**
 * Accounts in the state services (issue 15): an owner argument is resolved
 * to an existing account (id or name; nothing = the admin account); with an
 * owner given, another account's group, address or instance is `…NotFound`
 * exactly as one that does not exist; a tenant's rule names another
 * account's group only by UserId + GroupName (`sourceScope`); each account
 * has its `default` group (ensureDefaultGroup), which the EC2 path may not
 * delete; an instance may be placed without a node (the cluster's least
 * loaded one) and without a cluster when one is configured.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addAccount, configText, fixture, populated, rejectsCode } from './fixture.ts';
import { ensureDefaultGroup } from '../../../src/cloud-controller/services/groups.ts';

const A = '000000000002';
const B = '000000000003';

/** Accounts A (`alpha`) and B (`bravo`), each with a group `app` and an instance in it, and one public address. */
async function twoTenants() {
  const f = await populated();
  await addAccount(f, A, 'alpha');
  await addAccount(f, B, 'bravo');
  const groupA = await f.state.createGroup({ name: 'app', owner: 'alpha' });
  const groupB = await f.state.createGroup({ name: 'app', owner: B });
  const instA = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['app'], owner: 'alpha' });
  const instB = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['app'], owner: 'bravo' });
  const addrA = await f.state.allocateAddress({ owner: A });
  const addrB = await f.state.allocateAddress({ owner: 'bravo' });
  return { f, groupA, groupB, instA, instB, addrA, addrB };
}

test('owners: an id or a name of an existing account; nothing is the admin account; unknown ones are ACCOUNT_NOT_FOUND', async () => {
  const { f, groupA, instA, addrA } = await twoTenants();
  assert.deepEqual([groupA.ownerId, instA.ownerId, addrA.ownerId], [A, A, A], 'the name alpha resolved to its id');
  assert.equal((await f.state.createGroup({ name: 'mine' })).ownerId, '000000000001');
  assert.equal((await f.state.createGroup({ name: 'mine2', owner: 'admin' })).ownerId, '000000000001');
  // Nothing is created for an account that does not exist.
  const before = { groups: (await f.state.listGroups()).length, instances: (await f.state.listInstances()).length, addresses: (await f.state.listAddresses()).length };
  await rejectsCode(f.state.createGroup({ name: 'x', owner: 'charlie' }), 'ACCOUNT_NOT_FOUND');
  await rejectsCode(f.state.createGroup({ name: 'x', owner: '000000000099' }), 'ACCOUNT_NOT_FOUND');
  await rejectsCode(f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'], owner: 'charlie' }), 'ACCOUNT_NOT_FOUND');
  await rejectsCode(f.state.allocateAddress({ owner: 'charlie' }), 'ACCOUNT_NOT_FOUND');
  assert.deepEqual(before, { groups: (await f.state.listGroups()).length, instances: (await f.state.listInstances()).length, addresses: (await f.state.listAddresses()).length });
  // Listing for an account that does not exist is an error, not an empty list.
  await rejectsCode(f.state.listGroups('charlie'), 'ACCOUNT_NOT_FOUND');
  await rejectsCode(f.state.listAddresses('charlie'), 'ACCOUNT_NOT_FOUND');
  await rejectsCode(f.state.listInstances({ owner: 'charlie' }), 'ACCOUNT_NOT_FOUND');
  await rejectsCode(f.state.getGroup('app', 'charlie'), 'ACCOUNT_NOT_FOUND');
  // Listing by name or id gives the same.
  assert.deepEqual((await f.state.listGroups('alpha')).map((g) => g.id), [groupA.id]);
  assert.deepEqual((await f.state.listGroups(A)).map((g) => g.id), [groupA.id]);
  assert.deepEqual((await f.state.listInstances({ owner: 'alpha' })).map((i) => i.id), [instA.id]);
  assert.deepEqual((await f.state.listAddresses('alpha')).map((a) => a.ip), [addrA.ip]);
  await f.close();
});

test('scoped to an owner, another account\'s group, instance or address is NotFound, as one that does not exist', async () => {
  const { f, groupA, groupB, instA, instB, addrA, addrB } = await twoTenants();
  // Groups: by id and by name.
  await rejectsCode(f.state.getGroup(groupA.id, B), 'InvalidGroup.NotFound');
  assert.equal((await f.state.getGroup('app', B)).id, groupB.id, 'a name resolves in the caller\'s account');
  await rejectsCode(f.state.deleteGroup(groupA.id, B), 'InvalidGroup.NotFound');
  await rejectsCode(f.state.authorize(groupA.id, B, { protocol: 'tcp', port: '22' }), 'InvalidGroup.NotFound');
  await f.state.authorize(groupA.id, A, { protocol: 'tcp', port: '22' });
  await rejectsCode(f.state.revoke(groupA.id, B, { protocol: 'tcp', port: '22' }), 'InvalidGroup.NotFound');
  assert.equal((await f.state.getGroup(groupA.id)).rules.length, 1, 'A\'s rule is still there');
  assert.deepEqual((await f.state.listGroups(B, [groupA.id, groupB.id])).map((g) => g.id), [groupB.id]);
  // Instances.
  await rejectsCode(f.state.getInstance(instA.id, B), 'InvalidInstanceID.NotFound');
  assert.equal((await f.state.getInstance(instA.id, 'alpha')).id, instA.id);
  await rejectsCode(f.state.terminateInstance(instA.id, B), 'InvalidInstanceID.NotFound');
  assert.equal((await f.state.getInstance(instA.id)).id, instA.id, 'not terminated');
  assert.deepEqual((await f.state.listInstances({ owner: B, ids: [instA.id, instB.id] })).map((i) => i.id), [instB.id]);
  assert.deepEqual((await f.state.listInstances({ ids: [instA.id, 'i-00000000'] })).map((i) => i.id), [instA.id], 'unscoped: ids of any account');
  // Addresses: another account's address, or another account's instance, is NotFound (never "not yours").
  await rejectsCode(f.state.associateAddress({ ip: addrA.ip, instance: instB.id, owner: B }), 'InvalidAddress.NotFound');
  await rejectsCode(f.state.associateAddress({ ip: addrB.ip, instance: instA.id, owner: B }), 'InvalidInstanceID.NotFound');
  await f.state.associateAddress({ ip: addrA.ip, instance: instA.id, owner: A });
  await rejectsCode(f.state.disassociateAddress({ ip: addrA.ip, owner: B }), 'InvalidAddress.NotFound');
  await rejectsCode(f.state.releaseAddress({ ip: addrA.ip, owner: B }), 'InvalidAddress.NotFound');
  assert.equal((await f.state.getInstance(instA.id)).publicIp, addrA.ip, 'still associated');
  // The admin API (no owner) still reaches any account and says why a mixed pair is refused.
  await rejectsCode(f.state.associateAddress({ ip: addrB.ip, instance: instA.id }), 'AuthFailure');
  await f.state.terminateInstance(instB.id);
  await f.close();
});

test('sourceScope: a tenant names another account\'s source group only by UserId + GroupName (or an id with that UserId)', async () => {
  const { f, groupA, groupB } = await twoTenants();
  const scoped = { sourceScope: B };
  // By id, without the owning account: as if it did not exist.
  await rejectsCode(f.state.authorize(groupB.id, B, { protocol: 'tcp', port: '80', sourceGroup: groupA.id }, scoped), 'InvalidGroup.NotFound');
  // By name alone: resolved in the target group's account (B's own `app`).
  const own = await f.state.authorize(groupB.id, B, { protocol: 'tcp', port: '81', sourceGroup: 'app' }, scoped);
  assert.equal(own.added![0]!.sourceGroupId, groupB.id);
  // By UserId + GroupName, and by UserId + its id: allowed (EC2-Classic).
  const byName = await f.state.authorize(groupB.id, B, { protocol: 'tcp', port: '82', sourceGroup: 'app', sourceAccount: A }, scoped);
  assert.deepEqual([byName.added![0]!.sourceGroupId, byName.added![0]!.sourceGroupOwnerId], [groupA.id, A]);
  const byId = await f.state.authorize(groupB.id, B, { protocol: 'tcp', port: '83', sourceGroup: groupA.id, sourceAccount: A }, scoped);
  assert.equal(byId.added![0]!.sourceGroupId, groupA.id);
  // An id with a UserId it does not belong to: not found.
  await rejectsCode(f.state.authorize(groupB.id, B, { protocol: 'tcp', port: '84', sourceGroup: groupA.id, sourceAccount: B }, scoped), 'InvalidGroup.NotFound');
  // Its own group by id is fine.
  await f.state.authorize(groupB.id, B, { protocol: 'tcp', port: '85', sourceGroup: groupB.id }, scoped);
  // Revoke by the other account's id without UserId: the rule is the caller's, so it can be revoked.
  await f.state.revoke(groupB.id, B, { protocol: 'tcp', port: '83', sourceGroup: groupA.id }, scoped);
  // Unscoped (the admin API): an id reaches any account's group.
  const admin = await f.state.authorize(groupB.id, undefined, { protocol: 'tcp', port: '86', sourceGroup: groupA.id });
  assert.equal(admin.added![0]!.sourceGroupOwnerId, A);
  assert.deepEqual(
    (await f.state.getGroup(groupB.id)).rules.map((r) => r.fromPort),
    [81, 82, 85, 86],
  );
  await f.close();
});

test('ensureDefaultGroup: the EC2-Classic default group, made once per account; CannotDelete on the EC2 path only', async () => {
  const f = await populated();
  await addAccount(f, A, 'alpha');
  f.changes.length = 0;
  await f.state.ensureDefaultGroup(A);
  const [def] = await f.state.listGroups(A);
  assert.ok(def);
  assert.deepEqual([def.name, def.description, def.ownerId], ['default', 'default group', A]);
  assert.deepEqual(
    def.rules.map((r) => [r.protocol, r.fromPort, r.toPort, r.icmpType, r.icmpCode, r.sourceGroupId, r.sourceGroupOwnerId]),
    [
      [6, 0, 65535, undefined, undefined, def.id, A],
      [17, 0, 65535, undefined, undefined, def.id, A],
      [1, undefined, undefined, -1, -1, def.id, A],
    ],
  );
  assert.ok(f.changes.length > 0, 'announced');
  // Idempotent: no write the second time, in this process or a fresh one.
  f.changes.length = 0;
  await f.state.ensureDefaultGroup(A);
  const again = await f.store.write((tx) => ensureDefaultGroup(tx, A, 0, () => 'deadbeef'));
  assert.deepEqual(again, { id: def.id, created: false });
  assert.equal(f.changes.length, 0);
  assert.equal((await f.state.listGroups(A)).length, 1);
  // Unknown account: refused, nothing made.
  await rejectsCode(f.state.ensureDefaultGroup('000000000099'), 'ACCOUNT_NOT_FOUND');
  // EC2 path: CannotDelete; the admin API may delete it, and the next EC2 request brings it back.
  await rejectsCode(f.state.deleteGroup('default', A, { protectDefault: true }), 'CannotDelete');
  await rejectsCode(f.state.deleteGroup(def.id, A, { protectDefault: true }), 'CannotDelete');
  await f.state.deleteGroup(def.id);
  assert.equal((await f.state.listGroups(A)).length, 0);
  await f.state.ensureDefaultGroup(A);
  assert.deepEqual((await f.state.listGroups(A)).map((g) => g.name), ['default']);
  // Another group is deleted as before on the EC2 path.
  await f.state.createGroup({ name: 'tmp', owner: A });
  await f.state.deleteGroup('tmp', A, { protectDefault: true });
  await f.close();
});

test('placement: no node = the cluster\'s node with the fewest instances (ties: lowest address); no cluster = the only configured one', async () => {
  const f = await populated();
  await f.state.registerNode({ cluster: 'C1', name: '10.0.0.10', ncUrl: 'https://10.0.0.10:8775/' });
  await f.state.registerNode({ cluster: 'C1', name: '10.0.0.8', ncUrl: 'https://10.0.0.8:8775/' });
  const placed: string[] = [];
  for (let n = 0; n < 4; n++) placed.push((await f.state.runInstance({ cluster: 'C1', groups: ['web'] })).node);
  // 10.0.0.8 before 10.0.0.10: by address, not by text.
  assert.deepEqual(placed, ['10.0.0.7', '10.0.0.8', '10.0.0.10', '10.0.0.7']);
  // Load counts every instance on the node, however it was placed; other clusters' nodes never qualify.
  const c2 = await f.state.runInstance({ cluster: 'C2', groups: ['web'] });
  assert.equal(c2.node, '10.0.0.17');
  // Two clusters configured: the cluster must be named.
  await rejectsCode(f.state.runInstance({ groups: ['web'] }), 'MissingParameter');
  // A configured cluster with no registered node.
  await f.state.terminateInstance(c2.id);
  await f.state.deregisterNode('C2', '10.0.0.17');
  const before = (await f.state.listInstances()).length;
  await rejectsCode(f.state.runInstance({ cluster: 'C2', groups: ['web'] }), 'InsufficientInstanceCapacity');
  assert.equal((await f.state.listInstances()).length, before);
  await f.close();

  const one = await fixture();
  await one.properties.set('cloud.network.network_configuration', configText((c) => ({ ...c, Clusters: [c.Clusters[0]] })));
  await one.state.registerCluster({ name: 'C1', ccUrl: 'https://10.0.0.6:8774/' });
  await one.state.registerNode({ cluster: 'C1', name: '10.0.0.7', ncUrl: 'https://10.0.0.7:8775/' });
  await one.state.createGroup({ name: 'web' });
  const i = await one.state.runInstance({ groups: ['web'] });
  assert.deepEqual([i.cluster, i.node], ['C1', '10.0.0.7']);
  await one.close();
});

test('cloud.ec2.run_instances: false unless set, read on every call', async () => {
  const f = await fixture();
  assert.equal(await f.state.ec2RunInstancesEnabled(), false);
  await f.properties.set('cloud.ec2.run_instances', 'true');
  assert.equal(await f.state.ec2RunInstancesEnabled(), true);
  await rejectsCode(f.properties.set('cloud.ec2.run_instances', 'yes'), 'INVALID_PROPERTY');
  await f.properties.set('cloud.ec2.run_instances', 'false');
  assert.equal(await f.state.ec2RunInstancesEnabled(), false);
  await f.close();
});
