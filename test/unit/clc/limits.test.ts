/**
 * Per-account limits (issue 15; services/limits.ts): groups per account,
 * rules per group (every family together), public addresses per account.
 * Cloud properties read in the write's own transaction, so a change applies
 * on the next request; 0 = unlimited; the admin account is never limited; a
 * refused request writes nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addAccount, populated, rejectsCode } from './fixture.ts';

const T = '000000000002';

test('cloud.accounts.max_security_groups: the account\'s groups, default group included; admin unlimited', async () => {
  const f = await populated();
  await addAccount(f, T, 'tenant');
  await f.properties.set('cloud.accounts.max_security_groups', '2');
  await f.state.ensureDefaultGroup(T);
  await f.state.createGroup({ name: 'one', owner: T });
  const err = await rejectsCode(f.state.createGroup({ name: 'two', owner: 'tenant' }), 'SecurityGroupLimitExceeded');
  assert.match(err.message, /cloud\.accounts\.max_security_groups is 2/);
  assert.deepEqual((await f.state.listGroups(T)).map((g) => g.name), ['default', 'one'], 'nothing written');
  // The admin account (already holding `web`) is never limited.
  for (const name of ['a1', 'a2', 'a3']) await f.state.createGroup({ name });
  // A changed property applies on the next request.
  await f.properties.set('cloud.accounts.max_security_groups', '3');
  await f.state.createGroup({ name: 'two', owner: T });
  await rejectsCode(f.state.createGroup({ name: 'three', owner: T }), 'SecurityGroupLimitExceeded');
  await f.properties.set('cloud.accounts.max_security_groups', '0');
  await f.state.createGroup({ name: 'three', owner: T });
  // A deleted group frees its place.
  await f.properties.set('cloud.accounts.max_security_groups', '4');
  await rejectsCode(f.state.createGroup({ name: 'four', owner: T }), 'SecurityGroupLimitExceeded');
  await f.state.deleteGroup('three', T);
  await f.state.createGroup({ name: 'four', owner: T });
  // The default group is made even at the limit: an account always has it.
  await f.state.deleteGroup('default', T);
  await f.state.createGroup({ name: 'five', owner: T });
  await f.state.ensureDefaultGroup(T);
  assert.equal((await f.state.listGroups(T)).length, 5);
  await f.close();
});

test('cloud.accounts.max_rules_per_group: IPv4 and IPv6 rules together, all or nothing, whoever asks; admin groups unlimited', async () => {
  const f = await populated();
  await addAccount(f, T);
  await f.properties.set('cloud.accounts.max_rules_per_group', '3');
  const g = await f.state.createGroup({ name: 'app', owner: T });
  await f.state.authorize(g.id, T, { permissions: [{ protocol: 'tcp', port: '22' }, { protocol: 'tcp', port: '80', cidr: '::/0' }] });
  // Two new rules where one is free: refused, neither written.
  const err = await rejectsCode(f.state.authorize(g.id, T, { permissions: [{ protocol: 'tcp', port: '443' }, { protocol: 'icmpv6', icmp: '128:-1' }] }), 'RulesPerSecurityGroupLimitExceeded');
  assert.match(err.message, /cloud\.accounts\.max_rules_per_group is 3/);
  assert.equal((await f.state.getGroup(g.id)).rules.length, 2);
  // Rules already there do not count again.
  await f.state.authorize(g.id, T, { permissions: [{ protocol: 'tcp', port: '22' }, { protocol: 'tcp', port: '443' }] });
  assert.equal((await f.state.getGroup(g.id)).rules.length, 3);
  await f.state.authorize(g.id, T, { protocol: 'tcp', port: '22' });
  // The admin API acting on the tenant's group is limited as the tenant is; an IPv6 rule counts.
  await rejectsCode(f.state.authorize(g.id, undefined, { protocol: 'icmpv6', icmp: '128:-1' }), 'RulesPerSecurityGroupLimitExceeded');
  // Revoking frees a place.
  await f.state.revoke(g.id, T, { protocol: 'tcp', port: '443' });
  await f.state.authorize(g.id, T, { protocol: 'icmpv6', icmp: '128:-1' });
  // A changed property applies on the next request; 0 = unlimited.
  await f.properties.set('cloud.accounts.max_rules_per_group', '4');
  await f.state.authorize(g.id, T, { protocol: 'udp', port: '53' });
  await rejectsCode(f.state.authorize(g.id, T, { protocol: 'udp', port: '54' }), 'RulesPerSecurityGroupLimitExceeded');
  await f.properties.set('cloud.accounts.max_rules_per_group', '0');
  await f.state.authorize(g.id, T, { protocol: 'udp', port: '54' });
  assert.equal((await f.state.getGroup(g.id)).rules.length, 5);
  // The admin account's groups are never limited.
  await f.properties.set('cloud.accounts.max_rules_per_group', '1');
  await f.state.authorize('web', undefined, { permissions: [{ protocol: 'tcp', port: '1' }, { protocol: 'tcp', port: '2' }, { protocol: 'tcp', port: '3' }] });
  assert.equal((await f.state.getGroup('web')).rules.length, 3);
  await f.close();
});

test('cloud.accounts.max_addresses: allocated addresses per account; release frees a place; admin unlimited', async () => {
  const f = await populated();
  await addAccount(f, T);
  await f.properties.set('cloud.accounts.max_addresses', '1');
  const a = await f.state.allocateAddress({ owner: T });
  const err = await rejectsCode(f.state.allocateAddress({ owner: T }), 'AddressLimitExceeded');
  assert.match(err.message, /cloud\.accounts\.max_addresses is 1/);
  assert.deepEqual((await f.state.listAddresses(T)).map((x) => x.ip), [a.ip], 'nothing written');
  // Admin: two more while the tenant is at its limit.
  await f.state.allocateAddress({});
  await f.state.allocateAddress({});
  await f.state.releaseAddress({ ip: a.ip, owner: T });
  // Released (never associated, so not held): the place and the address are free again.
  assert.equal((await f.state.allocateAddress({ owner: T })).ip, a.ip);
  // An exhausted pool is the pool's refusal, not the limit's (the EC2 side maps both to AddressLimitExceeded).
  await f.properties.set('cloud.accounts.max_addresses', '0');
  await rejectsCode(f.state.allocateAddress({ owner: T }), 'ADDRESS_POOL_EXHAUSTED');
  await f.close();

  const g = await populated();
  await addAccount(g, T);
  assert.equal(await g.properties.typed('cloud.accounts.max_addresses'), 5, 'default');
  await g.properties.set('cloud.accounts.max_addresses', '2');
  await g.state.allocateAddress({ owner: T });
  await g.state.allocateAddress({ owner: T });
  await rejectsCode(g.state.allocateAddress({ owner: T }), 'AddressLimitExceeded');
  await g.properties.set('cloud.accounts.max_addresses', '3');
  await g.state.allocateAddress({ owner: T });
  await g.close();
});

test('limit properties: non-negative integers', async () => {
  const f = await populated();
  for (const name of ['cloud.accounts.max_security_groups', 'cloud.accounts.max_rules_per_group', 'cloud.accounts.max_addresses']) {
    await rejectsCode(f.properties.set(name, '-1'), 'INVALID_PROPERTY');
    await rejectsCode(f.properties.set(name, 'many'), 'INVALID_PROPERTY');
    await f.properties.set(name, '0');
  }
  await f.close();
});
