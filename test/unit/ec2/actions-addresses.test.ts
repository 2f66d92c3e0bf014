/**
 * The address actions at handler level (issue 15): allocate, associate,
 * disassociate and release by PublicIp and by the derived allocation and
 * association ids, what the admin API shows after each, DescribeAddresses
 * with its filters, isolation between tenants, and an exhausted pool.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { items, plain, withFixture, type Ec2Fixture } from './actions-harness.ts';
import { rejectsCode } from '../clc/fixture.ts';
import type { Ec2Caller } from '../../../src/cloud-controller/ec2/contract.ts';
import { toEc2Error } from '../../../src/cloud-controller/ec2/errors.ts';

async function allocate(f: Ec2Fixture, caller: Ec2Caller): Promise<{ ip: string; allocationId: string }> {
  const r = await f.call(caller, 'AllocateAddress', { Domain: 'standard' });
  assert.equal(r.domain, 'standard');
  return { ip: String(r.publicIp), allocationId: String(r.allocationId) };
}

/** An instance of `owner` made through the admin API's call. */
async function instanceOf(f: Ec2Fixture, owner: string, group: string): Promise<string> {
  return (await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: [group], owner })).id;
}

test('AllocateAddress gives the caller an address of the pool, with an allocation id derived from it', () =>
  withFixture(async (f) => {
    const { ip, allocationId } = await allocate(f, f.a);
    assert.match(ip, /^192\.0\.2\.1[0-2]$/);
    const hex = ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join('');
    assert.equal(allocationId, `eipalloc-${hex}`);
    assert.deepEqual((await f.state.listAddresses()).map((a) => [a.ip, a.ownerId]), [[ip, f.a.accountId]]);
    await rejectsCode(f.call(f.a, 'AllocateAddress', { Domain: 'vpc' }), 'InvalidParameterValue');
    // A chosen address (EC2's Address), as the admin API's `ip`.
    const chosen = await f.call(f.b, 'AllocateAddress', { Address: '192.0.2.12' });
    assert.equal(chosen.publicIp, '192.0.2.12');
  }));

test('the account limit and an exhausted pool: both AddressLimitExceeded over EC2', () =>
  withFixture(async (f) => {
    await f.properties.set('cloud.accounts.max_addresses', '1');
    await allocate(f, f.a);
    await rejectsCode(f.call(f.a, 'AllocateAddress'), 'AddressLimitExceeded');
    await f.properties.set('cloud.accounts.max_addresses', '0');
    await allocate(f, f.b);
    await allocate(f, f.b);
    const err = await rejectsCode(f.call(f.a, 'AllocateAddress'), 'ADDRESS_POOL_EXHAUSTED');
    assert.equal(toEc2Error(err, 'AllocateAddress').code, 'AddressLimitExceeded');
  }));

test('associate, describe, disassociate and release: by PublicIp and by ids, each step as the admin API shows it', () =>
  withFixture(async (f) => {
    const i1 = await instanceOf(f, f.a.accountId, 'default');
    const i2 = await instanceOf(f, f.a.accountId, 'default');
    const { ip, allocationId } = await allocate(f, f.a);
    const assoc = await f.call(f.a, 'AssociateAddress', { InstanceId: i1, AllocationId: allocationId });
    assert.equal(assoc.return, true);
    assert.match(String(assoc.associationId), new RegExp(`^eipassoc-${allocationId.slice(9)}${i1.slice(2)}$`));
    assert.equal((await f.state.getInstance(i1)).publicIp, ip);
    const described = items((await f.call(f.a, 'DescribeAddresses')).addressesSet);
    assert.deepEqual(plain(described), [{ publicIp: ip, allocationId, domain: 'standard', instanceId: i1, associationId: assoc.associationId }]);

    // Classic moves an associated address; the old association id then names nothing.
    const moved = await f.call(f.a, 'AssociateAddress', { InstanceId: i2, PublicIp: ip, AllowReassociation: 'true' });
    assert.equal((await f.state.getInstance(i2)).publicIp, ip);
    assert.equal((await f.state.getInstance(i1)).publicIp, undefined);
    await rejectsCode(f.call(f.a, 'DisassociateAddress', { AssociationId: String(assoc.associationId) }), 'InvalidAssociationID.NotFound');
    await rejectsCode(f.call(f.a, 'DisassociateAddress', { AssociationId: 'eipassoc-nothex' }), 'InvalidAssociationID.NotFound');
    await f.call(f.a, 'DisassociateAddress', { AssociationId: String(moved.associationId) });
    assert.equal((await f.state.getInstance(i2)).publicIp, undefined);
    await rejectsCode(f.call(f.a, 'DisassociateAddress', { PublicIp: ip }), 'InvalidAssociation.NotFound');

    await f.call(f.a, 'AssociateAddress', { InstanceId: i1, PublicIp: ip });
    await f.call(f.a, 'DisassociateAddress', { PublicIp: ip });
    assert.equal((await f.state.getInstance(i1)).publicIp, undefined);

    assert.deepEqual(await f.call(f.a, 'ReleaseAddress', { AllocationId: allocationId }), { return: true });
    assert.deepEqual(await f.state.listAddresses(), []);
    await rejectsCode(f.call(f.a, 'ReleaseAddress', { AllocationId: allocationId }), 'InvalidAllocationID.NotFound');
    await rejectsCode(f.call(f.a, 'ReleaseAddress', { PublicIp: ip }), 'InvalidAddress.NotFound');
    await rejectsCode(f.call(f.a, 'ReleaseAddress', { PublicIp: ip, AllocationId: allocationId }), 'InvalidParameterCombination');
    await rejectsCode(f.call(f.a, 'ReleaseAddress', {}), 'MissingParameter');
    await rejectsCode(f.call(f.a, 'AssociateAddress', { InstanceId: 'web', PublicIp: ip }), 'InvalidInstanceID.Malformed');
  }));

test('DescribeAddresses: PublicIp.N, AllocationId.N and filters; names not found are refused', () =>
  withFixture(async (f) => {
    const i1 = await instanceOf(f, f.a.accountId, 'default');
    const one = await allocate(f, f.a);
    const two = await allocate(f, f.a);
    await f.call(f.a, 'AssociateAddress', { InstanceId: i1, PublicIp: two.ip });
    const ips = async (params: Record<string, string>) => items((await f.call(f.a, 'DescribeAddresses', params)).addressesSet).map((a) => a.publicIp);
    assert.deepEqual(await ips({ 'PublicIp.1': one.ip }), [one.ip]);
    assert.deepEqual(await ips({ 'AllocationId.1': two.allocationId, 'PublicIp.1': one.ip }), [one.ip, two.ip]);
    assert.deepEqual(await ips({ 'Filter.1.Name': 'instance-id', 'Filter.1.Value.1': i1 }), [two.ip]);
    assert.deepEqual(await ips({ 'Filter.1.Name': 'public-ip', 'Filter.1.Value.1': '192.0.2.*' }), [one.ip, two.ip].sort());
    assert.deepEqual(await ips({ 'Filter.1.Name': 'allocation-id', 'Filter.1.Value.1': one.allocationId }), [one.ip]);
    assert.deepEqual(await ips({ 'Filter.1.Name': 'domain', 'Filter.1.Value.1': 'vpc' }), []);
    assert.equal((await ips({ 'Filter.1.Name': 'association-id', 'Filter.1.Value.1': 'eipassoc-*' })).length, 1);
    await rejectsCode(f.call(f.a, 'DescribeAddresses', { 'PublicIp.1': '192.0.2.99' }), 'InvalidAddress.NotFound');
    await rejectsCode(f.call(f.a, 'DescribeAddresses', { 'AllocationId.1': 'eipalloc-00000000' }), 'InvalidAllocationID.NotFound');
    await rejectsCode(f.call(f.a, 'DescribeAddresses', { 'Filter.1.Name': 'tag:Name', 'Filter.1.Value.1': 'x' }), 'InvalidParameterValue');
  }));

test('isolation: B sees none of A\'s addresses and can neither move, disassociate nor release them, nor use A\'s instance', () =>
  withFixture(async (f) => {
    const iA = await instanceOf(f, f.a.accountId, 'default');
    const iB = await instanceOf(f, f.b.accountId, 'default');
    const a = await allocate(f, f.a);
    const b = await allocate(f, f.b);
    await f.call(f.a, 'AssociateAddress', { InstanceId: iA, PublicIp: a.ip });
    assert.deepEqual(items((await f.call(f.b, 'DescribeAddresses')).addressesSet).map((x) => x.publicIp), [b.ip]);
    await rejectsCode(f.call(f.b, 'DescribeAddresses', { 'PublicIp.1': a.ip }), 'InvalidAddress.NotFound');
    await rejectsCode(f.call(f.b, 'DescribeAddresses', { 'AllocationId.1': a.allocationId }), 'InvalidAllocationID.NotFound');
    await rejectsCode(f.call(f.b, 'AssociateAddress', { InstanceId: iB, PublicIp: a.ip }), 'InvalidAddress.NotFound');
    await rejectsCode(f.call(f.b, 'AssociateAddress', { InstanceId: iA, PublicIp: b.ip }), 'InvalidInstanceID.NotFound');
    await rejectsCode(f.call(f.b, 'DisassociateAddress', { PublicIp: a.ip }), 'InvalidAddress.NotFound');
    await rejectsCode(f.call(f.b, 'DisassociateAddress', { AssociationId: `eipassoc-${a.allocationId.slice(9)}${iA.slice(2)}` }), 'InvalidAssociationID.NotFound');
    await rejectsCode(f.call(f.b, 'ReleaseAddress', { PublicIp: a.ip }), 'InvalidAddress.NotFound');
    await rejectsCode(f.call(f.b, 'ReleaseAddress', { AllocationId: a.allocationId }), 'InvalidAllocationID.NotFound');
    assert.equal((await f.state.getInstance(iA)).publicIp, a.ip);
    // The admin account reaches every account's addresses.
    assert.deepEqual(items((await f.call(f.admin, 'DescribeAddresses')).addressesSet).map((x) => x.publicIp), [a.ip, b.ip].sort());
    await f.call(f.admin, 'DisassociateAddress', { PublicIp: a.ip });
    assert.equal((await f.state.getInstance(iA)).publicIp, undefined);
  }));
