/**
 * The security group actions at handler level (issue 15), on a real
 * in-memory CloudState: what each action stores is what the admin API's
 * view of the same group shows, both permission forms, ICMP and protocol
 * numbers, source groups (own, another account's by UserId + GroupName, a
 * foreign id refused), filters, isolation between two tenants, and EC2's
 * errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { items, MIXED_PERMISSIONS, plain, withFixture, type Ec2Fixture } from './actions-harness.ts';
import { rejectsCode } from '../clc/fixture.ts';
import type { Ec2Caller } from '../../../src/cloud-controller/ec2/contract.ts';

async function create(f: Ec2Fixture, caller: Ec2Caller, name: string): Promise<string> {
  const r = await f.call(caller, 'CreateSecurityGroup', { GroupName: name, GroupDescription: `${name} servers` });
  assert.equal(r.return, true);
  assert.match(String(r.groupId), /^sg-[0-9a-f]{8}$/);
  return String(r.groupId);
}

/** The admin API's rules of a group, as comparable text. */
async function adminRules(f: Ec2Fixture, id: string): Promise<string[]> {
  const g = await f.state.getGroup(id);
  return g.rules.map((r) => `${r.protocolName} ${r.fromPort ?? r.icmpType ?? ''}-${r.toPort ?? r.icmpCode ?? ''} ${r.cidr ?? `${r.sourceGroupOwnerId}/${r.sourceGroupId}`}`).sort();
}

async function describe(f: Ec2Fixture, caller: Ec2Caller, params: Record<string, string> = {}) {
  return items((await f.call(caller, 'DescribeSecurityGroups', params)).securityGroupInfo);
}

test('CreateSecurityGroup makes the group the admin API shows, owned by the caller; GroupDescription is required', () =>
  withFixture(async (f) => {
    const id = await create(f, f.a, 'web');
    const g = await f.state.getGroup(id);
    assert.deepEqual([g.ownerId, g.name, g.description, g.rules.length], [f.a.accountId, 'web', 'web servers', 0]);
    // The same name in another account is another group.
    const other = await create(f, f.b, 'web');
    assert.notEqual(other, id);
    await rejectsCode(f.call(f.a, 'CreateSecurityGroup', { GroupName: 'x' }), 'MissingParameter');
    await rejectsCode(f.call(f.a, 'CreateSecurityGroup', { GroupName: 'web', GroupDescription: 'again' }), 'InvalidGroup.Duplicate');
    await rejectsCode(f.call(f.a, 'CreateSecurityGroup', { GroupName: 'sg-12345678', GroupDescription: 'looks like an id' }), 'InvalidParameterValue');
  }));

test('DescribeSecurityGroups: a tenant sees its own groups only, in EC2 shape; the admin sees every account', () =>
  withFixture(async (f) => {
    const webA = await create(f, f.a, 'web');
    const listA = await describe(f, f.a);
    assert.deepEqual(listA.map((g) => [g.groupName, g.ownerId]), [['default', f.a.accountId], ['web', f.a.accountId]]);
    const def = listA.find((g) => g.groupName === 'default')!;
    // EC2-Classic's default group: every tcp and udp port and every icmp type from the group itself.
    const self = [{ userId: f.a.accountId, groupId: f.a.defaultGroupId, groupName: 'default' }];
    assert.deepEqual(plain(def), {
      ownerId: f.a.accountId,
      groupId: f.a.defaultGroupId,
      groupName: 'default',
      groupDescription: 'default group',
      ipPermissions: [
        { ipProtocol: 'tcp', fromPort: 0, toPort: 65535, groups: self, ipRanges: [], ipv6Ranges: [], prefixListIds: [] },
        { ipProtocol: 'udp', fromPort: 0, toPort: 65535, groups: self, ipRanges: [], ipv6Ranges: [], prefixListIds: [] },
        { ipProtocol: 'icmp', fromPort: -1, toPort: -1, groups: self, ipRanges: [], ipv6Ranges: [], prefixListIds: [] },
      ],
      ipPermissionsEgress: [],
    });
    const all = await describe(f, f.admin);
    const ids = new Set(all.map((g) => g.groupId));
    for (const id of [webA, f.a.defaultGroupId, f.b.defaultGroupId, f.webId]) assert.ok(ids.has(id), id);
    // Names resolve in the caller's own account; ids of other accounts are not found for a tenant.
    assert.deepEqual((await describe(f, f.a, { 'GroupName.1': 'web' })).map((g) => g.groupId), [webA]);
    assert.deepEqual((await describe(f, f.admin, { 'GroupName.1': 'web' })).map((g) => g.groupId), [f.webId]);
    assert.deepEqual((await describe(f, f.admin, { 'GroupId.1': webA })).map((g) => g.ownerId), [f.a.accountId]);
    await rejectsCode(f.call(f.b, 'DescribeSecurityGroups', { 'GroupId.1': webA }), 'InvalidGroup.NotFound');
    await rejectsCode(f.call(f.b, 'DescribeSecurityGroups', { 'GroupName.1': 'web' }), 'InvalidGroup.NotFound');
    await rejectsCode(f.call(f.a, 'DescribeSecurityGroups', { 'GroupId.1': 'web' }), 'InvalidGroupId.Malformed');
    // Ids and names together, each group once.
    const both = await describe(f, f.a, { 'GroupId.1': webA, 'GroupName.1': 'web', 'GroupName.2': 'default' });
    assert.deepEqual(both.map((g) => g.groupName).sort(), ['default', 'web']);
  }));

test('AuthorizeSecurityGroupIngress, IpPermissions form: each source of each entry is one rule, as the admin API stores it', () =>
  withFixture(async (f) => {
    const web = await create(f, f.a, 'web');
    const r = await f.call(f.a, 'AuthorizeSecurityGroupIngress', {
      GroupId: web,
      ...MIXED_PERMISSIONS,
    });
    assert.deepEqual(r, { return: true });
    assert.deepEqual(await adminRules(f, web), [
      'icmp 8-0 0.0.0.0/0',
      'icmpv6 -1--1 ::/0',
      'tcp 22-22 10.0.0.0/8',
      'tcp 22-22 192.168.0.0/16',
      'tcp 22-22 2001:db8::/32',
      `udp 1000-2000 ${f.a.accountId}/${f.a.defaultGroupId}`,
    ]);
    const [g] = await describe(f, f.a, { 'GroupId.1': web });
    assert.deepEqual(plain(g!.ipPermissions), [
      { ipProtocol: 'tcp', fromPort: 22, toPort: 22, groups: [], ipRanges: [{ cidrIp: '10.0.0.0/8' }, { cidrIp: '192.168.0.0/16' }], ipv6Ranges: [{ cidrIpv6: '2001:db8::/32' }], prefixListIds: [] },
      { ipProtocol: 'icmp', fromPort: 8, toPort: 0, groups: [], ipRanges: [{ cidrIp: '0.0.0.0/0' }], ipv6Ranges: [], prefixListIds: [] },
      { ipProtocol: 'icmpv6', fromPort: -1, toPort: -1, groups: [], ipRanges: [], ipv6Ranges: [{ cidrIpv6: '::/0' }], prefixListIds: [] },
      {
        ipProtocol: 'udp',
        fromPort: 1000,
        toPort: 2000,
        groups: [{ userId: f.a.accountId, groupId: f.a.defaultGroupId, groupName: 'default' }],
        ipRanges: [],
        ipv6Ranges: [],
        prefixListIds: [],
      },
    ]);
    // Revoking in the same form removes exactly the rules named.
    await f.call(f.a, 'RevokeSecurityGroupIngress', {
      GroupName: 'web',
      'IpPermissions.1.IpProtocol': 'tcp',
      'IpPermissions.1.FromPort': 22,
      'IpPermissions.1.ToPort': 22,
      'IpPermissions.1.IpRanges.1.CidrIp': '192.168.0.0/16',
      'IpPermissions.1.Ipv6Ranges.1.CidrIpv6': '2001:db8:0::/32',
    });
    assert.deepEqual((await adminRules(f, web)).filter((t) => t.startsWith('tcp')), ['tcp 22-22 10.0.0.0/8']);
  }));

test('the legacy flat form authorizes and revokes one rule; a source group alone is tcp, udp and icmp from it (EC2-Classic)', () =>
  withFixture(async (f) => {
    const web = await create(f, f.a, 'web');
    await f.call(f.a, 'AuthorizeSecurityGroupIngress', { GroupName: 'web', IpProtocol: 'tcp', FromPort: 80, ToPort: 80, CidrIp: '0.0.0.0/0' });
    await f.call(f.a, 'AuthorizeSecurityGroupIngress', { GroupId: web, IpProtocol: 'icmp', FromPort: 3, ToPort: 4, CidrIp: '10.0.0.0/8' });
    assert.deepEqual(await adminRules(f, web), ['icmp 3-4 10.0.0.0/8', 'tcp 80-80 0.0.0.0/0']);
    // Authorizing a rule that is there is InvalidPermission.Duplicate (as EC2) and changes nothing; revoking one that is not is NotFound.
    await rejectsCode(f.call(f.a, 'AuthorizeSecurityGroupIngress', { GroupName: 'web', IpProtocol: 'tcp', FromPort: 80, ToPort: 80, CidrIp: '0.0.0.0/0' }), 'InvalidPermission.Duplicate');
    assert.equal((await adminRules(f, web)).length, 2);
    await f.call(f.a, 'RevokeSecurityGroupIngress', { GroupName: 'web', IpProtocol: 'tcp', FromPort: 80, ToPort: 80, CidrIp: '0.0.0.0/0' });
    await rejectsCode(f.call(f.a, 'RevokeSecurityGroupIngress', { GroupName: 'web', IpProtocol: 'tcp', FromPort: 80, ToPort: 80, CidrIp: '0.0.0.0/0' }), 'InvalidPermission.NotFound');
    assert.deepEqual(await adminRules(f, web), ['icmp 3-4 10.0.0.0/8']);

    await f.call(f.a, 'AuthorizeSecurityGroupIngress', { GroupName: 'web', SourceSecurityGroupName: 'default', SourceSecurityGroupOwnerId: f.a.accountId });
    const self = `${f.a.accountId}/${f.a.defaultGroupId}`;
    assert.deepEqual(await adminRules(f, web), ['icmp -1--1 ' + self, 'icmp 3-4 10.0.0.0/8', `tcp 0-65535 ${self}`, `udp 0-65535 ${self}`]);
    // A flat source-group permission with a protocol and no ports is every port of it (the services' default).
    await f.call(f.a, 'RevokeSecurityGroupIngress', { GroupName: 'web', IpProtocol: 'udp', SourceSecurityGroupName: 'default' });
    assert.ok(!(await adminRules(f, web)).includes(`udp 0-65535 ${self}`));
    // Without IpProtocol, a CIDR alone is not a permission.
    await rejectsCode(f.call(f.a, 'AuthorizeSecurityGroupIngress', { GroupName: 'web', CidrIp: '10.0.0.0/8' }), 'MissingParameter');
  }));

test('protocols: numbers as the additional-protocols property allows, names in any case, -1 refused as EC2-Classic does', () =>
  withFixture(async (f) => {
    const web = await create(f, f.a, 'web');
    const sctp = { GroupId: web, 'IpPermissions.1.IpProtocol': '132', 'IpPermissions.1.IpRanges.1.CidrIp': '10.0.0.0/8' };
    await rejectsCode(f.call(f.a, 'AuthorizeSecurityGroupIngress', sctp), 'InvalidParameterValue');
    await f.properties.set('cloud.network.ec2_classic_additional_protocols_allowed', '132');
    await f.call(f.a, 'AuthorizeSecurityGroupIngress', sctp);
    await f.call(f.a, 'AuthorizeSecurityGroupIngress', { GroupId: web, IpProtocol: 'UDP', FromPort: 53, ToPort: 53, CidrIp: '10.0.0.0/8' });
    await f.call(f.a, 'AuthorizeSecurityGroupIngress', { GroupId: web, IpProtocol: '6', FromPort: 443, ToPort: 443, CidrIp: '10.0.0.0/8' });
    const [g] = await describe(f, f.a, { 'GroupId.1': web });
    assert.deepEqual(
      items(g!.ipPermissions).map((p) => [p.ipProtocol, p.fromPort, p.toPort]),
      [['132', undefined, undefined], ['udp', 53, 53], ['tcp', 443, 443]],
    );
    await rejectsCode(f.call(f.a, 'AuthorizeSecurityGroupIngress', { GroupId: web, IpProtocol: '-1', CidrIp: '10.0.0.0/8' }), 'InvalidParameterValue');
    await rejectsCode(f.call(f.a, 'AuthorizeSecurityGroupIngress', { GroupId: web, IpProtocol: 'tcp', FromPort: 'x', ToPort: 1, CidrIp: '10.0.0.0/8' }), 'InvalidParameterValue');
    await rejectsCode(f.call(f.a, 'AuthorizeSecurityGroupIngress', { GroupId: web, IpProtocol: 'tcp', FromPort: 1, ToPort: 70000, CidrIp: '10.0.0.0/8' }), 'InvalidParameterValue');
    await rejectsCode(f.call(f.a, 'AuthorizeSecurityGroupIngress', { GroupId: web, IpProtocol: 'icmp', FromPort: 8, ToPort: 0, CidrIp: '::/0' }), 'InvalidPermission.Malformed');
    await rejectsCode(f.call(f.a, 'AuthorizeSecurityGroupIngress', { GroupId: web, 'IpPermissions.1.FromPort': 1 }), 'MissingParameter');
    const twice = { GroupId: web, 'IpPermissions.1.IpProtocol': 'tcp', 'IpPermissions.1.FromPort': 1, 'IpPermissions.1.ToPort': 1 };
    await rejectsCode(
      f.call(f.a, 'AuthorizeSecurityGroupIngress', { ...twice, 'IpPermissions.1.IpRanges.1.CidrIp': '10.0.0.0/8', 'IpPermissions.1.IpRanges.2.CidrIp': '10.0.0.0/8' }),
      'InvalidPermission.Duplicate',
    );
    // A rule the group already has: EC2 refuses it and adds nothing of the request (the admin API would add the rest).
    const before = items((await describe(f, f.a, { 'GroupId.1': web }))[0]!.ipPermissions).length;
    await rejectsCode(
      f.call(f.a, 'AuthorizeSecurityGroupIngress', { ...twice, 'IpPermissions.1.IpRanges.1.CidrIp': '192.0.2.0/24', 'IpPermissions.1.IpRanges.2.CidrIp': '10.0.0.0/8', GroupId: web, 'IpPermissions.1.ToPort': 1 }).then(() =>
        f.call(f.a, 'AuthorizeSecurityGroupIngress', { ...twice, 'IpPermissions.1.IpRanges.1.CidrIp': '198.51.100.0/24', 'IpPermissions.1.IpRanges.2.CidrIp': '10.0.0.0/8' }),
      ),
      'InvalidPermission.Duplicate',
    );
    const after = (await describe(f, f.a, { 'GroupId.1': web }))[0]!;
    assert.equal(items(after.ipPermissions).length, before + 1, 'the first request added tcp 1 (one item); the refused one added nothing');
    assert.ok(!JSON.stringify(after).includes('198.51.100.0/24'), 'nothing of the refused request was added');
  }));

test('the request forms and group references exclude each other', () =>
  withFixture(async (f) => {
    const web = await create(f, f.a, 'web');
    await rejectsCode(
      f.call(f.a, 'AuthorizeSecurityGroupIngress', { GroupId: web, IpProtocol: 'tcp', FromPort: 1, ToPort: 1, 'IpPermissions.1.IpProtocol': 'tcp', 'IpPermissions.1.FromPort': 1, 'IpPermissions.1.ToPort': 1 }),
      'InvalidParameterCombination',
    );
    await rejectsCode(f.call(f.a, 'AuthorizeSecurityGroupIngress', { GroupId: web, GroupName: 'web', IpProtocol: 'tcp', FromPort: 1, ToPort: 1 }), 'InvalidParameterCombination');
    await rejectsCode(f.call(f.a, 'AuthorizeSecurityGroupIngress', { IpProtocol: 'tcp', FromPort: 1, ToPort: 1 }), 'MissingParameter');
    await rejectsCode(f.call(f.a, 'AuthorizeSecurityGroupIngress', { GroupId: web }), 'MissingParameter');
    await rejectsCode(f.call(f.a, 'AuthorizeSecurityGroupIngress', { GroupId: 'web', IpProtocol: 'tcp', FromPort: 1, ToPort: 1 }), 'InvalidGroupId.Malformed');
    assert.deepEqual(await adminRules(f, web), []);
  }));

test('source groups across accounts: by UserId + GroupName only; a foreign id is not found', () =>
  withFixture(async (f) => {
    const webA = await create(f, f.a, 'web');
    const dbB = await create(f, f.b, 'db');
    const perm = (pair: Record<string, string>) => ({
      GroupId: webA,
      'IpPermissions.1.IpProtocol': 'tcp',
      'IpPermissions.1.FromPort': 5432,
      'IpPermissions.1.ToPort': 5432,
      ...Object.fromEntries(Object.entries(pair).map(([k, v]) => [`IpPermissions.1.Groups.1.${k}`, v])),
    });
    // By name alone, the name is looked up in A's own account.
    await rejectsCode(f.call(f.a, 'AuthorizeSecurityGroupIngress', perm({ GroupName: 'db' })), 'InvalidGroup.NotFound');
    // B's group by id: refused without B's UserId (A cannot reach other accounts' ids).
    await rejectsCode(f.call(f.a, 'AuthorizeSecurityGroupIngress', perm({ GroupId: dbB })), 'InvalidGroup.NotFound');
    // EC2-Classic: another account's group by its owner's UserId and the group's name.
    await f.call(f.a, 'AuthorizeSecurityGroupIngress', perm({ UserId: f.b.accountId, GroupName: 'db' }));
    assert.deepEqual(await adminRules(f, webA), [`tcp 5432-5432 ${f.b.accountId}/${dbB}`]);
    const [g] = await describe(f, f.a, { 'GroupId.1': webA });
    assert.deepEqual(plain(items(g!.ipPermissions)[0]!.groups), [{ userId: f.b.accountId, groupId: dbB, groupName: 'db' }]);
    // ... and the flat form's SourceSecurityGroupOwnerId.
    await f.call(f.a, 'AuthorizeSecurityGroupIngress', { GroupId: webA, IpProtocol: 'udp', FromPort: 1, ToPort: 2, SourceSecurityGroupName: 'db', SourceSecurityGroupOwnerId: f.b.accountId });
    assert.equal((await adminRules(f, webA)).length, 2);
    await f.call(f.a, 'RevokeSecurityGroupIngress', perm({ UserId: f.b.accountId, GroupName: 'db' }));
    assert.equal((await adminRules(f, webA)).length, 1);
    // An unknown UserId names no group.
    await rejectsCode(f.call(f.a, 'AuthorizeSecurityGroupIngress', perm({ UserId: '999999999999', GroupName: 'db' })), 'InvalidGroup.NotFound');
    // The admin's ids reach any account.
    await f.call(f.admin, 'AuthorizeSecurityGroupIngress', perm({ GroupId: dbB }));
    assert.ok((await adminRules(f, webA)).includes(`tcp 5432-5432 ${f.b.accountId}/${dbB}`));
  }));

test('isolation: B can neither change nor delete A\'s groups, by id or by name', () =>
  withFixture(async (f) => {
    const webA = await create(f, f.a, 'web');
    const rule = { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIp: '0.0.0.0/0' };
    await rejectsCode(f.call(f.b, 'AuthorizeSecurityGroupIngress', { GroupId: webA, ...rule }), 'InvalidGroup.NotFound');
    await rejectsCode(f.call(f.b, 'AuthorizeSecurityGroupIngress', { GroupName: 'web', ...rule }), 'InvalidGroup.NotFound');
    await f.call(f.a, 'AuthorizeSecurityGroupIngress', { GroupId: webA, ...rule });
    await rejectsCode(f.call(f.b, 'RevokeSecurityGroupIngress', { GroupId: webA, ...rule }), 'InvalidGroup.NotFound');
    await rejectsCode(f.call(f.b, 'DeleteSecurityGroup', { GroupId: webA }), 'InvalidGroup.NotFound');
    await rejectsCode(f.call(f.b, 'DeleteSecurityGroup', { GroupName: 'web' }), 'InvalidGroup.NotFound');
    assert.deepEqual(await adminRules(f, webA), ['tcp 22-22 0.0.0.0/0']);
    assert.ok((await describe(f, f.b)).every((g) => g.ownerId === f.b.accountId));
  }));

test('DeleteSecurityGroup by name or id; `default` is CannotDelete over EC2', () =>
  withFixture(async (f) => {
    const one = await create(f, f.a, 'one');
    await create(f, f.a, 'two');
    assert.deepEqual(await f.call(f.a, 'DeleteSecurityGroup', { GroupId: one }), { return: true });
    await f.call(f.a, 'DeleteSecurityGroup', { GroupName: 'two' });
    assert.deepEqual((await f.state.listGroups(f.a.accountId)).map((g) => g.name), ['default']);
    await rejectsCode(f.call(f.a, 'DeleteSecurityGroup', { GroupName: 'default' }), 'CannotDelete');
    await rejectsCode(f.call(f.a, 'DeleteSecurityGroup', { GroupId: f.a.defaultGroupId }), 'CannotDelete');
    await rejectsCode(f.call(f.a, 'DeleteSecurityGroup', { GroupId: one }), 'InvalidGroup.NotFound');
    await rejectsCode(f.call(f.a, 'DeleteSecurityGroup', {}), 'MissingParameter');
  }));

test('DescribeSecurityGroups filters: AND across filters, OR across values, wildcards, unknown names refused', () =>
  withFixture(async (f) => {
    const web = await create(f, f.a, 'web');
    const db = await create(f, f.a, 'db');
    await f.call(f.a, 'AuthorizeSecurityGroupIngress', { GroupId: web, IpProtocol: 'tcp', FromPort: 80, ToPort: 80, CidrIp: '10.1.0.0/16' });
    await f.call(f.a, 'AuthorizeSecurityGroupIngress', { GroupId: db, IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, SourceSecurityGroupName: 'web' });
    const names = async (params: Record<string, string>) => (await describe(f, f.a, params)).map((g) => g.groupName).sort();
    assert.deepEqual(await names({ 'Filter.1.Name': 'group-name', 'Filter.1.Value.1': 'w*' }), ['web']);
    assert.deepEqual(await names({ 'Filter.1.Name': 'group-name', 'Filter.1.Value.1': 'w?b', 'Filter.1.Value.2': 'db' }), ['db', 'web']);
    assert.deepEqual(await names({ 'Filter.1.Name': 'ip-permission.cidr', 'Filter.1.Value.1': '10.1.*' }), ['web']);
    assert.deepEqual(await names({ 'Filter.1.Name': 'ip-permission.group-name', 'Filter.1.Value.1': 'web' }), ['db']);
    assert.deepEqual(await names({ 'Filter.1.Name': 'ip-permission.group-id', 'Filter.1.Value.1': f.a.defaultGroupId }), ['default']);
    assert.deepEqual(await names({ 'Filter.1.Name': 'ip-permission.user-id', 'Filter.1.Value.1': f.a.accountId }), ['db', 'default']);
    assert.deepEqual(await names({ 'Filter.1.Name': 'ip-permission.from-port', 'Filter.1.Value.1': '5432' }), ['db']);
    assert.deepEqual(await names({ 'Filter.1.Name': 'ip-permission.protocol', 'Filter.1.Value.1': 'icmp' }), ['default']);
    assert.deepEqual(await names({ 'Filter.1.Name': 'description', 'Filter.1.Value.1': '* servers' }), ['db', 'web']);
    assert.deepEqual(await names({ 'Filter.1.Name': 'group-id', 'Filter.1.Value.1': db }), ['db']);
    assert.deepEqual(await names({ 'Filter.1.Name': 'owner-id', 'Filter.1.Value.1': f.b.accountId }), []);
    // Two filters: both must match.
    assert.deepEqual(
      await names({ 'Filter.1.Name': 'ip-permission.protocol', 'Filter.1.Value.1': 'tcp', 'Filter.2.Name': 'group-name', 'Filter.2.Value.1': 'd*' }),
      ['db', 'default'],
    );
    assert.deepEqual(
      await names({ 'Filter.1.Name': 'ip-permission.to-port', 'Filter.1.Value.1': '80', 'Filter.2.Name': 'group-name', 'Filter.2.Value.1': 'd*' }),
      [],
    );
    const err = await rejectsCode(f.call(f.a, 'DescribeSecurityGroups', { 'Filter.1.Name': 'vpc-id', 'Filter.1.Value.1': 'vpc-1' }), 'InvalidParameterValue');
    assert.match(err.message, /The filter 'vpc-id' is invalid/);
  }));
