/**
 * The instance and zone actions at handler level (issue 15): DescribeInstances
 * in EC2's shape with what the admin API shows (addresses, MAC, IPv6 on a
 * dual-stack cluster, groups, placement), its filters and isolation;
 * RunInstances and TerminateInstances behind cloud.ec2.run_instances;
 * DescribeAvailabilityZones.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { items, plain, withFixture, type Ec2Fixture } from './actions-harness.ts';
import { configText, rejectsCode, type CONFIG } from '../clc/fixture.ts';
import { toEc2Error } from '../../../src/cloud-controller/ec2/errors.ts';

const reservations = async (f: Ec2Fixture, caller: Ec2Fixture['a'] | Ec2Fixture['admin'], params: Record<string, string> = {}) =>
  items((await f.call(caller, 'DescribeInstances', params)).reservationSet);
const instanceIds = async (f: Ec2Fixture, caller: Ec2Fixture['a'] | Ec2Fixture['admin'], params: Record<string, string> = {}) =>
  (await reservations(f, caller, params)).flatMap((r) => items(r.instancesSet).map((i) => i.instanceId)).sort();

test('DescribeInstances shows what the admin API shows, in EC2 shape: addresses, MAC, IPv6, groups, placement', () =>
  withFixture(async (f) => {
    const prefix = '2001:db8:1::/64';
    await f.properties.set(
      'cloud.network.network_configuration',
      configText((c: typeof CONFIG) => ({ ...c, Clusters: c.Clusters.map((cl) => (cl.Name === 'C1' ? { ...cl, Subnet: { ...cl.Subnet, Ipv6Prefix: prefix } } : cl)) })),
    );
    const web = String((await f.call(f.a, 'CreateSecurityGroup', { GroupName: 'web', GroupDescription: 'w' })).groupId);
    const made = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['default', 'web'], owner: f.a.accountId });
    const ip = String((await f.call(f.a, 'AllocateAddress')).publicIp);
    await f.call(f.a, 'AssociateAddress', { InstanceId: made.id, PublicIp: ip });
    const view = await f.state.getInstance(made.id);
    assert.ok(view.ipv6 !== undefined, 'the dual-stack cluster gives the instance an IPv6 address');
    const [r] = await reservations(f, f.a);
    const groupSet = [
      { groupId: f.a.defaultGroupId, groupName: 'default' },
      { groupId: web, groupName: 'web' },
    ];
    assert.deepEqual(plain(r), {
      reservationId: `r-${made.id.slice(2)}`,
      ownerId: f.a.accountId,
      groupSet,
      instancesSet: [
        {
          instanceId: made.id,
          instanceState: { code: 16, name: 'running' },
          launchTime: view.createdAt,
          placement: { availabilityZone: 'C1', hostId: '10.0.0.7', tenancy: 'default' },
          privateIpAddress: view.privateIp,
          ipAddress: ip,
          groupSet,
          networkInterfaceSet: [
            {
              status: 'in-use',
              ownerId: f.a.accountId,
              macAddress: view.mac,
              privateIpAddress: view.privateIp,
              association: { publicIp: ip, ipOwnerId: f.a.accountId },
              groupSet,
              ipv6AddressesSet: [{ ipv6Address: view.ipv6 }],
            },
          ],
          ipv6Address: view.ipv6,
        },
      ],
    });
  }));

test('DescribeInstances: ids, filters, and each tenant sees only its own instances', () =>
  withFixture(async (f) => {
    const a1 = (await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['default'], owner: f.a.accountId })).id;
    const a2 = (await f.state.runInstance({ cluster: 'C2', node: '10.0.0.17', groups: ['default'], owner: f.a.accountId })).id;
    const b1 = (await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['default'], owner: f.b.accountId })).id;
    assert.deepEqual(await instanceIds(f, f.a), [a1, a2].sort());
    assert.deepEqual(await instanceIds(f, f.b), [b1]);
    assert.deepEqual(await instanceIds(f, f.admin), [a1, a2, b1].sort());
    assert.deepEqual(await instanceIds(f, f.a, { 'InstanceId.1': a2 }), [a2]);
    await rejectsCode(f.call(f.a, 'DescribeInstances', { 'InstanceId.1': b1 }), 'InvalidInstanceID.NotFound');
    await rejectsCode(f.call(f.a, 'DescribeInstances', { 'InstanceId.1': 'i-zz' }), 'InvalidInstanceID.Malformed');
    const a1View = await f.state.getInstance(a1);
    const filter = (name: string, value: string) => instanceIds(f, f.a, { 'Filter.1.Name': name, 'Filter.1.Value.1': value });
    assert.deepEqual(await filter('availability-zone', 'C2'), [a2]);
    assert.deepEqual(await filter('private-ip-address', a1View.privateIp!), [a1]);
    assert.deepEqual(await filter('network-interface.mac-address', a1View.mac), [a1]);
    assert.deepEqual(await filter('group-name', 'default'), [a1, a2].sort());
    assert.deepEqual(await filter('instance.group-id', f.a.defaultGroupId), [a1, a2].sort());
    assert.deepEqual(await filter('instance-state-name', 'running'), [a1, a2].sort());
    assert.deepEqual(await filter('instance-state-name', 'stopped'), []);
    assert.deepEqual(await filter('host-id', '10.0.0.17'), [a2]);
    assert.deepEqual(await filter('ip-address', '*'), []);
    await rejectsCode(f.call(f.a, 'DescribeInstances', { 'Filter.1.Name': 'image-id', 'Filter.1.Value.1': 'x' }), 'InvalidParameterValue');
  }));

test('RunInstances and TerminateInstances are UnsupportedOperation until cloud.ec2.run_instances is true', () =>
  withFixture(async (f) => {
    await rejectsCode(f.call(f.a, 'RunInstances', { ImageId: 'emi-1', MinCount: 1, MaxCount: 1, 'Placement.AvailabilityZone': 'C1' }), 'UnsupportedOperation');
    const i = (await f.state.runInstance({ cluster: 'C1', groups: ['default'], owner: f.a.accountId })).id;
    await rejectsCode(f.call(f.a, 'TerminateInstances', { 'InstanceId.1': i }), 'UnsupportedOperation');
    assert.equal((await f.state.listInstances()).length, 1);
  }));

test('RunInstances makes MinCount..MaxCount instances as `instance run` does; TerminateInstances ends them', () =>
  withFixture(async (f) => {
    await f.properties.set('cloud.ec2.run_instances', 'true');
    // Two clusters are configured: the zone is needed (the services say so).
    await rejectsCode(f.call(f.a, 'RunInstances', { ImageId: 'emi-1', MinCount: 1, MaxCount: 1 }), 'MissingParameter');
    const one = await f.call(f.a, 'RunInstances', { ImageId: 'emi-1', MinCount: 1, MaxCount: 1, 'Placement.AvailabilityZone': 'C2' });
    const [made] = items(one.instancesSet);
    const view = await f.state.getInstance(String(made!.instanceId));
    assert.deepEqual([view.ownerId, view.cluster, view.node, view.groups], [f.a.accountId, 'C2', '10.0.0.17', [f.a.defaultGroupId]]);
    assert.equal(one.ownerId, f.a.accountId);
    assert.deepEqual(plain(made!.instanceState), { code: 16, name: 'running' });
    // Named groups, a chosen address and a chosen node.
    await f.call(f.a, 'CreateSecurityGroup', { GroupName: 'web', GroupDescription: 'w' });
    const chosen = await f.call(f.a, 'RunInstances', {
      ImageId: 'emi-1',
      MinCount: 1,
      MaxCount: 1,
      'Placement.AvailabilityZone': 'C1',
      'Placement.HostId': '10.0.0.7',
      'SecurityGroup.1': 'web',
      'SecurityGroupId.1': f.a.defaultGroupId,
      PrivateIpAddress: '10.1.0.13',
    });
    const c = await f.state.getInstance(String(items(chosen.instancesSet)[0]!.instanceId));
    assert.equal(c.privateIp, '10.1.0.13');
    assert.equal(c.groups.length, 2);
    // C2 has three addresses and one is taken: MaxCount 5 makes two.
    const many = await f.call(f.a, 'RunInstances', { ImageId: 'emi-1', MinCount: 1, MaxCount: 5, 'Placement.AvailabilityZone': 'C2' });
    assert.equal(items(many.instancesSet).length, 2);
    const full = await rejectsCode(f.call(f.a, 'RunInstances', { ImageId: 'emi-1', MinCount: 1, MaxCount: 1, 'Placement.AvailabilityZone': 'C2' }), 'ADDRESS_POOL_EXHAUSTED');
    assert.equal(toEc2Error(full, 'RunInstances').code, 'InsufficientInstanceCapacity');
    // Others' groups are not found; parameters are checked as EC2 checks them.
    await rejectsCode(f.call(f.b, 'RunInstances', { ImageId: 'emi-1', MinCount: 1, MaxCount: 1, 'Placement.AvailabilityZone': 'C1', 'SecurityGroupId.1': f.a.defaultGroupId }), 'InvalidGroup.NotFound');
    await rejectsCode(f.call(f.a, 'RunInstances', { MinCount: 1, MaxCount: 1 }), 'MissingParameter');
    await rejectsCode(f.call(f.a, 'RunInstances', { ImageId: 'emi-1', MinCount: 2, MaxCount: 1 }), 'InvalidParameterValue');
    await rejectsCode(f.call(f.a, 'RunInstances', { ImageId: 'emi-1', MinCount: 1, MaxCount: 21 }), 'InvalidParameterValue');
    await rejectsCode(f.call(f.a, 'RunInstances', { ImageId: 'emi-1', MinCount: 1, MaxCount: 2, PrivateIpAddress: '10.1.0.12' }), 'InvalidParameterCombination');

    // TerminateInstances: all ids checked first; another tenant's id is not found and nothing is terminated.
    const mine = (await f.state.listInstances({ owner: f.a.accountId })).map((i) => i.id);
    const theirs = (await f.state.runInstance({ cluster: 'C1', groups: ['default'], owner: f.b.accountId })).id;
    await rejectsCode(f.call(f.a, 'TerminateInstances', { 'InstanceId.1': mine[0]!, 'InstanceId.2': theirs }), 'InvalidInstanceID.NotFound');
    assert.equal((await f.state.listInstances()).length, mine.length + 1);
    const ended = await f.call(f.a, 'TerminateInstances', Object.fromEntries(mine.map((id, n) => [`InstanceId.${n + 1}`, id])));
    assert.deepEqual(plain(items(ended.instancesSet)[0]), { instanceId: mine[0], currentState: { code: 48, name: 'terminated' }, previousState: { code: 16, name: 'running' } });
    assert.deepEqual((await f.state.listInstances()).map((i) => i.id), [theirs]);
    await rejectsCode(f.call(f.a, 'TerminateInstances', {}), 'MissingParameter');

    // C1 cannot take five more: MinCount 5 makes none and leaves none (those made are terminated again;
    // their addresses are held until the nodes converge, as after any terminate).
    await rejectsCode(f.call(f.a, 'RunInstances', { ImageId: 'emi-1', MinCount: 5, MaxCount: 5, 'Placement.AvailabilityZone': 'C1' }), 'ADDRESS_POOL_EXHAUSTED');
    assert.deepEqual((await f.state.listInstances()).map((i) => i.id), [theirs]);
  }));

test('DescribeAvailabilityZones: the registered clusters, available, in the signed region', () =>
  withFixture(async (f) => {
    const zones = items((await f.call(f.a, 'DescribeAvailabilityZones')).availabilityZoneInfo);
    assert.deepEqual(plain(zones), [
      { zoneName: 'C1', zoneState: 'available', regionName: 'eucalyptus', messageSet: [] },
      { zoneName: 'C2', zoneState: 'available', regionName: 'eucalyptus', messageSet: [] },
    ]);
    assert.deepEqual(items((await f.call(f.a, 'DescribeAvailabilityZones', { 'ZoneName.1': 'C2' })).availabilityZoneInfo).map((z) => z.zoneName), ['C2']);
    assert.deepEqual(
      items((await f.call(f.a, 'DescribeAvailabilityZones', { 'Filter.1.Name': 'zone-name', 'Filter.1.Value.1': '*1' })).availabilityZoneInfo).map((z) => z.zoneName),
      ['C1'],
    );
    await rejectsCode(f.call(f.a, 'DescribeAvailabilityZones', { 'ZoneName.1': 'C9' }), 'InvalidParameterValue');
  }));

test('RunInstances UserData: base64, 16 KiB, stored with every instance made; InvalidParameterValue (EC2 wording) before anything is made', () =>
  withFixture(async (f) => {
    await f.properties.set('cloud.ec2.run_instances', 'true');
    const data = Buffer.from('#!/bin/sh\necho hello\n');
    const made = await f.call(f.a, 'RunInstances', { ImageId: 'emi-1', MinCount: 2, MaxCount: 2, 'Placement.AvailabilityZone': 'C1', UserData: data.toString('base64') });
    const ids = items(made.instancesSet).map((i) => String(i.instanceId));
    assert.equal(ids.length, 2);
    for (const id of ids) assert.equal((await f.state.getInstance(id)).userData, data.toString('base64'));
    assert.ok(!JSON.stringify(plain(made)).includes(data.toString('base64')), 'the answer does not echo it (EC2 does not)');
    const invalid = await rejectsCode(f.call(f.a, 'RunInstances', { ImageId: 'emi-1', MinCount: 1, MaxCount: 1, 'Placement.AvailabilityZone': 'C1', UserData: '%%%' }), 'InvalidParameterValue');
    assert.equal(invalid.message, 'Invalid BASE64 encoding of user data.');
    const tooBig = Buffer.alloc(16 * 1024 + 1, 0x41).toString('base64');
    const big = await rejectsCode(f.call(f.a, 'RunInstances', { ImageId: 'emi-1', MinCount: 1, MaxCount: 1, 'Placement.AvailabilityZone': 'C1', UserData: tooBig }), 'InvalidParameterValue');
    assert.match(big.message, /User data is limited to 16384 bytes/);
    assert.equal(toEc2Error(big, 'RunInstances').code, 'InvalidParameterValue');
    assert.equal((await f.state.listInstances()).length, 2, 'a refused run made nothing');
  }));

test('DescribeInstances: an IPv6-only ROUTED instance has no privateIpAddress (element left out), its ipv6Address; filters by private IP do not match it', () =>
  withFixture(async (f) => {
    await f.properties.set(
      'cloud.network.network_configuration',
      JSON.stringify({
        Mode: 'ROUTED',
        InstanceDnsServers: ['10.0.0.2'],
        PublicIps: ['192.0.2.10-192.0.2.12'],
        Bgp: { LocalAsn: 65001, Peers: [{ Address: '10.0.0.254', Asn: 65000 }, { Address: 'fd00:10::254', Asn: 65000 }] },
        Clusters: [{ Name: 'C1', Ipv6Prefix: '2001:db8:51::/64' }, { Name: 'C2', Ipv4Pool: ['10.2.0.10-10.2.0.12'], Ipv6Prefix: '2001:db8:52::/64' }],
      }),
    );
    const v6 = await f.state.runInstance({ cluster: 'C1', groups: ['default'], owner: f.a.accountId });
    const dual = await f.state.runInstance({ cluster: 'C2', groups: ['default'], owner: f.a.accountId });
    assert.equal(v6.privateIp, undefined);
    const [r] = await reservations(f, f.a, { 'InstanceId.1': v6.id });
    const item = items(r!.instancesSet)[0]!;
    const shown = plain(item) as Record<string, unknown>;
    assert.ok(!('privateIpAddress' in shown), JSON.stringify(shown));
    assert.equal(shown.ipv6Address, v6.ipv6);
    const nic = (shown.networkInterfaceSet as Record<string, unknown>[])[0]!;
    assert.ok(!('privateIpAddress' in nic));
    assert.deepEqual(nic.ipv6AddressesSet, [{ ipv6Address: v6.ipv6 }]);
    assert.deepEqual(await instanceIds(f, f.a, { 'Filter.1.Name': 'private-ip-address', 'Filter.1.Value.1': '*' }), [dual.id]);
    assert.deepEqual(await instanceIds(f, f.a, { 'Filter.1.Name': 'ipv6-address', 'Filter.1.Value.1': v6.ipv6! }), [v6.id]);
  }));
