import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addAccount, populated, rejectsCode } from './fixture.ts';

test('allocate, associate, disassociate, release, list', async () => {
  const f = await populated();
  const i = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] });
  const a = await f.state.allocateAddress({});
  assert.equal(a.ownerId, '000000000001');
  const assoc = await f.state.associateAddress({ ip: a.ip, instance: i.id });
  assert.equal(assoc.instanceId, i.id);
  assert.equal((await f.state.getInstance(i.id)).publicIp, a.ip);
  // Re-associating the same pair is a no-op.
  await f.state.associateAddress({ ip: a.ip, instance: i.id });
  const b = await f.state.allocateAddress({});
  const j = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] });
  const dis = await f.state.disassociateAddress({ ip: a.ip });
  assert.equal(dis.instanceId, undefined);
  await rejectsCode(f.state.disassociateAddress({ ip: a.ip }), 'InvalidAssociation.NotFound');
  await f.state.associateAddress({ ip: a.ip, instance: j.id });
  assert.deepEqual((await f.state.listAddresses()).map((x) => [x.ip, x.instanceId]), [[a.ip, j.id], [b.ip, undefined]]);
  // Release of an associated address disassociates it first.
  await f.state.releaseAddress({ ip: a.ip });
  assert.equal((await f.state.getInstance(j.id)).publicIp, undefined);
  assert.deepEqual((await f.state.listAddresses()).map((x) => x.ip), [b.ip]);
  await rejectsCode(f.state.releaseAddress({ ip: a.ip }), 'InvalidAddress.NotFound');
  await f.close();
});

test('ownership, unknown objects and malformed arguments are refused without changes', async () => {
  const f = await populated();
  const i = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] });
  await addAccount(f, '000000000002');
  const theirs = await f.state.allocateAddress({ owner: '000000000002' });
  await rejectsCode(f.state.associateAddress({ ip: theirs.ip, instance: i.id }), 'AuthFailure');
  await rejectsCode(f.state.associateAddress({ ip: theirs.ip, instance: i.id, owner: '000000000001' }), 'InvalidAddress.NotFound');
  await rejectsCode(f.state.associateAddress({ ip: '192.0.2.99', instance: i.id }), 'InvalidAddress.NotFound');
  await rejectsCode(f.state.associateAddress({ ip: 'x.y', instance: i.id }), 'InvalidParameterValue');
  const mine = await f.state.allocateAddress({});
  await rejectsCode(f.state.associateAddress({ ip: mine.ip, instance: 'i-00000000' }), 'InvalidInstanceID.NotFound');
  await rejectsCode(f.state.releaseAddress({ ip: theirs.ip, owner: '000000000001' }), 'InvalidAddress.NotFound');
  // An owner is an existing account's id or name (accounts.ts resolveOwner).
  await rejectsCode(f.state.allocateAddress({ owner: 'bob' }), 'ACCOUNT_NOT_FOUND');
  await rejectsCode(f.state.allocateAddress({ owner: '000000000003' }), 'ACCOUNT_NOT_FOUND');
  await rejectsCode(f.state.allocateAddress({ owner: 'Bob!' }), 'InvalidParameterValue');
  await rejectsCode(f.state.allocateAddress({ ip: '10.1.0.10' }), 'ADDRESS_NOT_IN_POOL');
  assert.deepEqual((await f.state.listAddresses()).map((x) => [x.ip, x.instanceId]), [[theirs.ip, undefined], [mine.ip, undefined]]);
  assert.deepEqual((await f.state.listAddresses('000000000002')).map((x) => x.ip), [theirs.ip]);
  await f.close();
});

test('terminating an instance disassociates its public address (the account keeps it)', async () => {
  const f = await populated();
  const i = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] });
  const a = await f.state.allocateAddress({});
  await f.state.associateAddress({ ip: a.ip, instance: i.id });
  await f.state.terminateInstance(i.id);
  assert.deepEqual(await f.state.listAddresses(), [{ ip: a.ip, ownerId: '000000000001', allocatedAt: a.allocatedAt }]);
  // Released later: held, like the private address, for every registered node (both were in web's ipset on every node).
  await f.state.releaseAddress({ ip: a.ip });
  const view = await f.state.ipamShow();
  const allNodes = ['10.0.0.17', '10.0.0.7'];
  assert.deepEqual(view.holds.map((h) => [h.ip, [...h.nodes].sort()]).sort(), [[a.ip, allNodes], [i.privateIp, allNodes]].sort());
  await f.close();
});

test('a public address released after its disassociation reached every node is free at once; before that it is held', async () => {
  const f = await populated();
  const i = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] });
  const a = await f.state.allocateAddress({});
  const b = await f.state.allocateAddress({});
  const c = await f.state.allocateAddress({});
  for (const x of [a, c]) {
    await f.state.associateAddress({ ip: x.ip, instance: i.id });
    await f.state.disassociateAddress({ ip: x.ip });
  }
  // Released before any document without it was built: held.
  await f.state.associateAddress({ ip: b.ip, instance: i.id });
  await f.state.disassociateAddress({ ip: b.ip });
  await f.state.releaseAddress({ ip: b.ip });
  let view = await f.state.ipamShow();
  assert.deepEqual(view.holds.map((h) => [h.ip, h.documentSequence]), [[b.ip, undefined]]);
  // A document built after every disassociation, applied by the instance's node only.
  await f.state.snapshot();
  const seq = await f.state.nextSequence();
  await f.state.documentBuilt(seq);
  await f.state.nodesApplied([{ cluster: 'C1', node: '10.0.0.7', appliedSequence: seq }]);
  view = await f.state.ipamShow();
  assert.deepEqual(view.holds.map((h) => [h.ip, h.documentSequence]), [[b.ip, seq]], 'b waits for 10.0.0.17 too');
  // c is released now: that document is already its hold's, but 10.0.0.17 has not applied it: held.
  await f.state.releaseAddress({ ip: c.ip });
  view = await f.state.ipamShow();
  assert.deepEqual(view.holds.map((h) => [h.ip, h.documentSequence]), [[b.ip, seq], [c.ip, seq]]);
  await rejectsCode(f.state.allocateAddress({ ip: c.ip }), 'ADDRESS_HELD');
  // The other node applied it: both free.
  assert.deepEqual((await f.state.nodesApplied([{ cluster: 'C2', node: '10.0.0.17', appliedSequence: seq }])).sort(), [b.ip, c.ip].sort());
  view = await f.state.ipamShow();
  assert.equal(view.holds.length, 0, 'b and c converged');
  // a is released now: every node already applied a document without it, so it is free immediately.
  await f.state.releaseAddress({ ip: a.ip });
  view = await f.state.ipamShow();
  assert.equal(view.holds.length, 0);
  assert.equal((await f.state.allocateAddress({ ip: a.ip })).ip, a.ip);
  await f.close();
});
