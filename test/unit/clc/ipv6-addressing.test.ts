/**
 * Addressing on a dual-stack cluster (issue 14): an instance's IPv6 address
 * is the modified EUI-64 of its MAC in its cluster's /64, computed (never
 * stored) and shown by run, list, get and `ipam show`; IPv4-only clusters
 * and clouds show nothing of it; a property change moves the addresses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { populated, configText, CONFIG } from './fixture.ts';

/** The EUI-64 address written out by hand: ff:fe in the middle, the universal/local bit (0x02) flipped. */
function eui64(prefix64: string, mac: string): string {
  const b = mac.split(':').map((x) => parseInt(x, 16));
  const id = [(b[0]! ^ 0x02) << 8 | b[1]!, b[2]! << 8 | 0xff, 0xfe << 8 | b[3]!, b[4]! << 8 | b[5]!];
  return `${prefix64}:${id.map((g) => g.toString(16)).join(':')}`;
}

const dualStack = (prefix = '2001:db8:c1::/64') =>
  configText((c: typeof CONFIG) => ({ ...c, Clusters: c.Clusters.map((cl) => (cl.Name === 'C1' ? { ...cl, Subnet: { ...cl.Subnet, Ipv6Prefix: prefix, Ipv6DnsServers: ['2001:db8::53'] } } : cl)) }));

test('run, list and get show the EUI-64 address on a dual-stack cluster and nothing on an IPv4-only one', async () => {
  const f = await populated();
  await f.properties.set('cloud.network.network_configuration', dualStack());
  const a = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] });
  const b = await f.state.runInstance({ cluster: 'C2', node: '10.0.0.17', groups: ['web'] });
  const expected = eui64('2001:db8:c1:0', a.mac);
  assert.equal(a.ipv6, expected);
  assert.ok(!('ipv6' in b));
  assert.deepEqual((await f.state.listInstances()).map((i) => [i.id, i.ipv6]).sort(), [[a.id, expected], [b.id, undefined]].sort());
  assert.equal((await f.state.getInstance(a.id)).ipv6, expected);
  // Nothing stored: the instances table has no IPv6 column, the leases only IPv4 addresses.
  const leases = await f.store.db.selectFrom('ip_leases').select('ip').execute();
  assert.ok(leases.every((l) => !l.ip.includes(':')));
  await f.close();
});

test('ipam show: the /64, its name servers and each instance address; only for dual-stack clusters in scope', async () => {
  const f = await populated();
  await f.properties.set('cloud.network.network_configuration', dualStack());
  const a = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] });
  await f.state.runInstance({ cluster: 'C2', node: '10.0.0.17', groups: ['web'] });
  const view = await f.state.ipamShow();
  assert.deepEqual(view.ipv6, [{ cluster: 'C1', prefix: '2001:db8:c1::/64', dnsServers: ['2001:db8::53'], instances: [{ id: a.id, mac: a.mac, ipv6: eui64('2001:db8:c1:0', a.mac) }] }]);
  assert.equal((await f.state.ipamShow('C1')).ipv6?.length, 1);
  assert.ok(!('ipv6' in (await f.state.ipamShow('C2'))));
  await f.close();
});

test('an IPv4-only cloud shows no ipv6 key anywhere; a property change moves or removes the addresses', async () => {
  const f = await populated();
  const a = await f.state.runInstance({ cluster: 'C1', node: '10.0.0.7', groups: ['web'] });
  assert.ok(!('ipv6' in a));
  assert.ok(!JSON.stringify(await f.state.listInstances()).includes('ipv6'));
  assert.ok(!('ipv6' in (await f.state.ipamShow())));
  await f.properties.set('cloud.network.network_configuration', dualStack('fd00:c1::/64'));
  assert.equal((await f.state.getInstance(a.id)).ipv6, eui64('fd00:c1:', a.mac));
  await f.properties.set('cloud.network.network_configuration', configText());
  assert.ok(!('ipv6' in (await f.state.getInstance(a.id))));
  await f.close();
});
