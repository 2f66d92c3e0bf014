import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addAccount, populated, rejectsCode } from './fixture.ts';

test('create: sg- id, unique names per owner, the same name in another account is fine', async () => {
  const f = await populated();
  const db = await f.state.createGroup({ name: 'db', description: 'databases' });
  assert.match(db.id, /^sg-[0-9a-f]{8}$/);
  assert.equal(db.ownerId, '000000000001');
  await rejectsCode(f.state.createGroup({ name: 'db' }), 'InvalidGroup.Duplicate');
  await addAccount(f, '000000000002');
  const other = await f.state.createGroup({ name: 'db', owner: '000000000002' });
  assert.notEqual(other.id, db.id);
  await rejectsCode(f.state.createGroup({ name: '' }), 'MissingParameter');
  await rejectsCode(f.state.createGroup({ name: 'sg-12345678' }), 'InvalidParameterValue');
  // An owner is an existing account's id or name; a group is only created for one.
  await rejectsCode(f.state.createGroup({ name: 'x', owner: '12' }), 'ACCOUNT_NOT_FOUND');
  await rejectsCode(f.state.createGroup({ name: 'x', owner: '000000000003' }), 'ACCOUNT_NOT_FOUND');
  await rejectsCode(f.state.createGroup({ name: 'x', owner: 'not valid' }), 'InvalidParameterValue');
  assert.equal((await f.state.createGroup({ name: 'x', owner: 'account-000000000002' })).ownerId, '000000000002', 'by name');
  // Resolution by id or by name within an owner.
  assert.equal((await f.state.getGroup('db')).id, db.id);
  assert.equal((await f.state.getGroup('db', '000000000002')).id, other.id);
  assert.equal((await f.state.getGroup(other.id)).id, other.id);
  await rejectsCode(f.state.getGroup(other.id, '000000000001'), 'InvalidGroup.NotFound');
  await rejectsCode(f.state.getGroup('nope'), 'InvalidGroup.NotFound');
  await f.close();
});

test('authorize/revoke with euca-authorize semantics and EC2 error codes', async () => {
  const f = await populated();
  const ok = await f.state.authorize('web', undefined, { protocol: 'tcp', port: '22' });
  assert.equal(ok.changed, true);
  assert.deepEqual(ok.group.rules.map((r) => [r.protocol, r.fromPort, r.toPort, r.cidr]), [[6, 22, 22, '0.0.0.0/0']]);
  // Identical rule: a no-op, nothing announced.
  f.changes.length = 0;
  const same = await f.state.authorize('web', undefined, { protocol: '6', fromPort: 22, toPort: 22, cidr: '0.0.0.0/0' });
  assert.equal(same.changed, false);
  assert.equal(f.changes.length, 0);

  await f.state.authorize('web', undefined, { protocol: 'udp', port: '1000-2000', cidr: '10.0.0.0/8' });
  await f.state.authorize('web', undefined, { protocol: 'tcp', port: '-1', cidr: '192.0.2.0/24' });
  await f.state.authorize('web', undefined, { protocol: 'icmp', icmp: '8:0' });
  await f.state.authorize('web', undefined, { protocol: 'icmp', icmp: '-1:-1', cidr: '10.0.0.0/8' });
  const g = await f.state.getGroup('web');
  assert.deepEqual(
    g.rules.map((r) => [r.protocolName, r.fromPort ?? r.icmpType, r.toPort ?? r.icmpCode, r.cidr]),
    [
      ['tcp', 22, 22, '0.0.0.0/0'],
      ['udp', 1000, 2000, '10.0.0.0/8'],
      ['tcp', 0, 65535, '192.0.2.0/24'],
      ['icmp', 8, 0, '0.0.0.0/0'],
      ['icmp', -1, -1, '10.0.0.0/8'],
    ],
  );

  const bad: [Record<string, unknown>, string][] = [
    [{ protocol: 'tcp' }, 'InvalidPermission.Malformed'],
    [{ protocol: 'tcp', port: 'ssh' }, 'InvalidPermission.Malformed'],
    [{ protocol: 'tcp', port: '70000' }, 'InvalidParameterValue'],
    [{ protocol: 'tcp', port: '90-80' }, 'InvalidParameterValue'],
    [{ protocol: 'udp', port: '53', icmp: '8:0' }, 'InvalidPermission.Malformed'],
    [{ protocol: 'icmp', port: '22' }, 'InvalidPermission.Malformed'],
    [{ protocol: 'icmp' }, 'InvalidPermission.Malformed'],
    [{ protocol: 'icmp', icmp: 'echo' }, 'InvalidPermission.Malformed'],
    [{ protocol: 'icmp', icmp: '300:0' }, 'InvalidParameterValue'],
    [{ protocol: 'icmp', icmp: '-1:3' }, 'InvalidParameterValue'],
    [{ protocol: 'gre' }, 'InvalidParameterValue'],
    [{ protocol: '47' }, 'InvalidParameterValue'],
    [{ protocol: '-1' }, 'InvalidParameterValue'],
    [{ protocol: 'tcp', port: '22', cidr: '10.0.0.0/33' }, 'InvalidParameterValue'],
    [{ protocol: 'tcp', port: '22', cidr: '10.0.0.5/24' }, 'InvalidParameterValue'],
    [{ protocol: 'tcp', port: '22', cidr: 'everywhere' }, 'InvalidParameterValue'],
    [{ protocol: 'tcp', port: '22', cidr: '10.0.0.0/8', sourceGroup: 'web' }, 'InvalidPermission.Malformed'],
    [{ protocol: 'tcp', port: '22', sourceAccount: '000000000001' }, 'InvalidPermission.Malformed'],
    [{ protocol: 'tcp', port: '22', sourceGroup: 'missing' }, 'InvalidGroup.NotFound'],
    [{ permissions: [{ protocol: 'tcp', port: '80' }, { protocol: 'tcp', port: '80' }] }, 'InvalidPermission.Duplicate'],
  ];
  const before = (await f.state.getGroup('web')).rules.length;
  for (const [permission, code] of bad) await rejectsCode(f.state.authorize('web', undefined, permission), code);
  await rejectsCode(f.state.authorize('nope', undefined, { protocol: 'tcp', port: '22' }), 'InvalidGroup.NotFound');
  assert.equal((await f.state.getGroup('web')).rules.length, before, 'rejected permissions changed nothing');

  await f.state.revoke('web', undefined, { protocol: 'tcp', port: '22' });
  await rejectsCode(f.state.revoke('web', undefined, { protocol: 'tcp', port: '22' }), 'InvalidPermission.NotFound');
  assert.equal((await f.state.getGroup('web')).rules.length, before - 1);
  await f.close();
});

test('additional protocols come from cloud.network.ec2_classic_additional_protocols_allowed', async () => {
  const f = await populated();
  await rejectsCode(f.state.authorize('web', undefined, { protocol: '47' }), 'InvalidParameterValue');
  await f.properties.set('cloud.network.ec2_classic_additional_protocols_allowed', '47,50');
  const r = await f.state.authorize('web', undefined, { protocol: '47', cidr: '10.0.0.0/8' });
  assert.deepEqual(r.group.rules.map((x) => [x.protocol, x.fromPort, x.cidr]), [[47, undefined, '10.0.0.0/8']]);
  await rejectsCode(f.state.authorize('web', undefined, { protocol: '50', port: '1' }), 'InvalidPermission.Malformed');
  await f.close();
});

test('group-to-group rules, delete in use refused, deleted source groups are not in the snapshot', async () => {
  const f = await populated();
  const db = await f.state.createGroup({ name: 'db' });
  await addAccount(f, '000000000002');
  const other = await f.state.createGroup({ name: 'peer', owner: '000000000002' });
  // -o GROUP without ports: every port (EC2-Classic).
  await f.state.authorize('db', undefined, { sourceGroup: 'web' });
  await f.state.authorize('db', undefined, { protocol: 'tcp', port: '5432', sourceGroup: 'peer', sourceAccount: '000000000002' });
  await f.state.authorize('db', undefined, { protocol: 'tcp', port: '5433', sourceGroup: other.id });
  let g = await f.state.getGroup(db.id);
  assert.deepEqual(
    g.rules.map((r) => [r.fromPort, r.toPort, r.sourceGroupId, r.sourceGroupOwnerId]),
    [
      [0, 65535, f.webId, '000000000001'],
      [5432, 5432, other.id, '000000000002'],
      [5433, 5433, other.id, '000000000002'],
    ],
  );
  const i = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web', 'db'] });
  assert.deepEqual(i.groups, [f.webId, db.id]);
  await rejectsCode(f.state.deleteGroup('web'), 'InvalidGroup.InUse');
  await f.state.terminateInstance(i.id);
  await f.state.deleteGroup('web');
  g = await f.state.getGroup(db.id);
  assert.equal(g.rules[0]!.sourceGroupDeleted, true, 'kept and marked');
  const snap = await f.state.snapshot();
  const snapDb = snap.groups.find((x) => x.id === db.id)!;
  assert.deepEqual(snapDb.rules.map((r) => r.sourceGroupId), [other.id, other.id], 'the rule naming the deleted group is left out');
  assert.equal(snap.groups.some((x) => x.id === f.webId), false);
  // A rule naming a deleted group can still be revoked by id.
  await f.state.revoke(db.id, undefined, { sourceGroup: f.webId });
  assert.equal((await f.state.getGroup(db.id)).rules.length, 2);
  await f.close();
});

test('instances may only use groups of their owner', async () => {
  const f = await populated();
  await addAccount(f, '000000000002');
  const foreign = await f.state.createGroup({ name: 'foreign', owner: '000000000002' });
  await rejectsCode(f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: [foreign.id] }), 'InvalidGroup.NotFound');
  await rejectsCode(f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['foreign'] }), 'InvalidGroup.NotFound');
  const mine = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['foreign'], owner: '000000000002' });
  assert.deepEqual(mine.groups, [foreign.id]);
  await f.close();
});
