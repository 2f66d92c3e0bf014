import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, configText, rejectsCode } from './fixture.ts';
import { propertyDefinitions } from '../../../src/cloud-controller/properties/registry.ts';

test('every required property is registered with its default', async () => {
  const f = await fixture();
  const list = await f.properties.list();
  const byName = new Map(list.map((p) => [p.name, p]));
  const expected: Record<string, string | undefined> = {
    'cloud.network.network_configuration': undefined,
    'cloud.vmstate.mac_prefix': 'd0:0d',
    'cloud.vmstate.instance_subdomain': '.eucalyptus',
    'system.dns.nameserveraddress': '127.0.0.1',
    'cloud.network.ec2_classic_additional_protocols_allowed': '',
    'cloud.network.address_allocation': 'first-free',
    'cloud.network.address_hold_timeout': '300',
    'cloud.network.min_broadcast_interval': '200',
    'cloud.network.broadcast_interval': '15',
    'cloud.network.broadcast_timeout': '10',
    'cloud.accounts.max_security_groups': '500',
    'cloud.accounts.max_rules_per_group': '100',
    'cloud.accounts.max_addresses': '5',
    'cloud.ec2.run_instances': 'false',
  };
  for (const [name, value] of Object.entries(expected)) {
    const p = byName.get(name);
    assert.ok(p, name);
    assert.equal(p.value, value, name);
    assert.equal(p.isDefault, true);
  }
  assert.equal(list.length, propertyDefinitions().length);
  await f.close();
});

test('typed values: integers, lists, enums, unset json', async () => {
  const f = await fixture();
  assert.equal(await f.properties.typed('cloud.network.address_hold_timeout'), 300);
  assert.deepEqual(await f.properties.typed('cloud.network.ec2_classic_additional_protocols_allowed'), []);
  await f.properties.set('cloud.network.ec2_classic_additional_protocols_allowed', '50, 47,47');
  assert.deepEqual(await f.properties.typed('cloud.network.ec2_classic_additional_protocols_allowed'), [47, 50]);
  assert.deepEqual(await f.properties.typed('system.dns.nameserveraddress'), ['127.0.0.1']);
  assert.equal(await f.properties.typed('cloud.network.address_allocation'), 'first-free');
  assert.equal(await f.properties.typed('cloud.network.network_configuration'), undefined);
  await f.properties.set('cloud.network.network_configuration', configText());
  const cfg = (await f.properties.typed('cloud.network.network_configuration')) as { Clusters: { Name: string }[] };
  assert.deepEqual(cfg.Clusters.map((c) => c.Name), ['C1', 'C2']);
  await f.close();
});

test('set records history (when, old, new); identical value is a no-op; reset goes back to default', async () => {
  const f = await fixture();
  await f.properties.set('cloud.network.address_hold_timeout', '60');
  await f.clock.advance(1000);
  await f.properties.set('cloud.network.address_hold_timeout', '90');
  const again = await f.properties.set('cloud.network.address_hold_timeout', '90');
  assert.equal(again.changed, false);
  await f.properties.reset('cloud.network.address_hold_timeout');
  const history = await f.properties.history('cloud.network.address_hold_timeout');
  assert.deepEqual(
    history.map((h) => [h.oldValue, h.newValue]),
    [
      [undefined, '60'],
      ['60', '90'],
      ['90', undefined],
    ],
  );
  assert.ok(Date.parse(history[0]!.at) < Date.parse(history[1]!.at));
  assert.equal((await f.properties.get('cloud.network.address_hold_timeout')).value, '300');
  assert.deepEqual(
    f.changes.filter((c) => c.kind === 'property').length,
    3,
    'three committed changes, the no-op announces nothing',
  );
  await f.close();
});

test('own validation per property with stable codes', async () => {
  const f = await fixture();
  const cases: [string, string, string][] = [
    ['cloud.vmstate.mac_prefix', 'd0:0d:00', 'InvalidMacPrefix'],
    ['cloud.vmstate.mac_prefix', 'zz:00', 'InvalidMacPrefix'],
    ['cloud.vmstate.instance_subdomain', 'bad domain', 'InvalidDomain'],
    ['system.dns.nameserveraddress', '10.0.0.1,10.0.0', 'InvalidIpList'],
    ['cloud.network.ec2_classic_additional_protocols_allowed', '47,gre', 'InvalidProtocolList'],
    ['cloud.network.ec2_classic_additional_protocols_allowed', '300', 'InvalidProtocolList'],
    ['cloud.network.address_allocation', 'last-free', 'InvalidEnumValue'],
    ['cloud.network.address_hold_timeout', '-1', 'OutOfRange'],
    ['cloud.network.address_hold_timeout', '1.5', 'NotAnInteger'],
    ['cloud.network.min_broadcast_interval', 'soon', 'NotAnInteger'],
    ['cloud.network.broadcast_interval', '0', 'OutOfRange'],
    ['cloud.network.broadcast_timeout', '', 'NotAnInteger'],
  ];
  for (const [name, value, code] of cases) {
    const err = await rejectsCode(f.properties.set(name, value), 'INVALID_PROPERTY');
    const diagnostics = err.details?.diagnostics as { code: string }[];
    assert.equal(diagnostics[0]?.code, code, `${name}=${value}`);
  }
  await rejectsCode(f.properties.set('no.such.property', 'x'), 'UNKNOWN_PROPERTY');
  await rejectsCode(f.properties.history('no.such.property'), 'UNKNOWN_PROPERTY');
  assert.equal(f.changes.length, 0);
  for (const p of await f.properties.list()) assert.equal(p.isDefault, true, p.name);
  await f.close();
});

test('an invalid network configuration changes nothing: value, history and events untouched', async () => {
  const f = await fixture();
  await f.properties.set('cloud.network.network_configuration', configText());
  const before = await f.properties.get('cloud.network.network_configuration');
  const historyBefore = await f.properties.history('cloud.network.network_configuration');
  f.changes.length = 0;
  const err = await rejectsCode(
    f.properties.set(
      'cloud.network.network_configuration',
      configText((c) => ({ ...c, PublicIps: ['192.0.2.20-192.0.2.10'], Clusters: [c.Clusters[0], { ...c.Clusters[0] }] })),
    ),
    'INVALID_PROPERTY',
  );
  const diagnostics = err.details?.diagnostics as { code: string; path: string }[];
  assert.ok(diagnostics.length >= 2, 'every problem is reported');
  assert.ok(diagnostics.some((d) => d.path.startsWith('PublicIps[0]')));
  await rejectsCode(f.properties.set('cloud.network.network_configuration', '{"PublicIps": ['), 'INVALID_PROPERTY');
  assert.deepEqual(await f.properties.get('cloud.network.network_configuration'), before);
  assert.deepEqual(await f.properties.history('cloud.network.network_configuration'), historyBefore);
  assert.equal(f.changes.length, 0);
  await f.close();
});

test('changing an explode input is refused when it would break the stored configuration', async () => {
  const f = await fixture();
  // No MacPrefix anywhere: explode takes cloud.vmstate.mac_prefix, which itself must stay valid.
  await f.properties.set('cloud.network.network_configuration', configText());
  await rejectsCode(f.properties.set('cloud.vmstate.mac_prefix', 'xx'), 'INVALID_PROPERTY');
  const ok = await f.properties.set('cloud.vmstate.mac_prefix', 'd0:0e');
  assert.equal(ok.changed, true);
  await f.close();
});

test('concurrent sets are serialized: history is a clean chain', async () => {
  const f = await fixture();
  const values = Array.from({ length: 50 }, (_, i) => String(100 + i));
  await Promise.all(values.map((v) => f.properties.set('cloud.network.address_hold_timeout', v)));
  const history = await f.properties.history('cloud.network.address_hold_timeout');
  assert.equal(history.length, 50);
  for (let i = 1; i < history.length; i++) assert.equal(history[i]!.oldValue, history[i - 1]!.newValue);
  assert.equal((await f.properties.get('cloud.network.address_hold_timeout')).value, history.at(-1)!.newValue);
  await f.close();
});
