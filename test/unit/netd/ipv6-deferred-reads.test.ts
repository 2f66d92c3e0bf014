/**
 * The kernel's IPv6 side (ip6tables-save, our IPv6 routes) is read only when
 * it can matter: on every full sync, and on an event sync when the last
 * applied state had IPv6 (status `ipv6InUse`) or the new state needs it (then
 * after render). An IPv4-only node's event syncs run no ip6tables-save (the
 * spawns cost a 10,000-instance node ~0.25 s of propagation,
 * bench/propagation.bench.ts) and leave the IPv6 routes that come with the
 * one `ip` read (HostOps.hostReads) unlooked at. Whatever is skipped, the end
 * state is the one a sync that read everything reaches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeHost, group, inst, testDualStackGniXml, testGniXml, type TestCloud } from '../../helpers/fake-host.ts';
import { syncOnce, type SyncDeps } from '../../../src/netd/sync.ts';
import { DEFAULT_NETD_CONFIG, type NetdConfig } from '../../../src/netd/config.ts';

const RUN = '/run/en';
const GNI = `${RUN}/global_network_info.xml`;
const CONFIG: NetdConfig = { ...DEFAULT_NETD_CONFIG, nodeName: 'node1', privateInterface: 'eth1', publicInterface: 'pub0' };
const PREFIX = '2001:db8:10::/64';

class CountingHost extends FakeHost {
  ip6Saves = 0;
  override async ip6tablesSave(...args: Parameters<FakeHost['ip6tablesSave']>) {
    this.ip6Saves++;
    return super.ip6tablesSave(...args);
  }
  /** ip6tables-save processes since the last call; each sync also makes exactly one `ip` read, whatever its IPv6 side. */
  reads(): number {
    const n = this.ip6Saves;
    assert.equal(this.hostReadCalls, this.syncs, 'one ip read per sync');
    this.ip6Saves = 0;
    this.hostReadCalls = 0;
    this.syncs = 0;
    return n;
  }
  syncs = 0;
}

const CLOUD: TestCloud = {
  nodes: [{ name: 'node1', instances: ['i-00000001', 'i-00000002'] }],
  instances: [inst('i-00000001', 11, ['sg-0000000a']), inst('i-00000002', 12, ['sg-0000000a'])],
  groups: [group('sg-0000000a', [{ protocol: 6, fromPort: 22, toPort: 22, cidr: '0.0.0.0/0' }])],
};

function newHost(): CountingHost {
  return new CountingHost({
    links: [{ name: 'br0', isBridge: true, mac: '02:00:00:00:00:aa' }, { name: 'eth1' }, { name: 'pub0' }],
    addresses: { br0: [{ address: '10.10.0.1', prefixlen: 24 }], pub0: [{ address: '192.0.2.5', prefixlen: 24 }] },
  });
}

let clock = 1_700_000_000_000;
const deps = (host: FakeHost): SyncDeps => ({ host, config: CONFIG, runDir: RUN, gniFile: GNI, now: () => (clock += 1), wait: async () => undefined });

async function sync(host: CountingHost, xml: string, full: boolean) {
  host.files.set(GNI, xml);
  host.syncs++;
  const out = await syncOnce(deps(host), { trigger: full ? 'periodic' : 'file', full });
  assert.equal(out.result, 'ok', out.error);
  return out;
}

const v4 = (sequence: number) => testGniXml({ ...CLOUD, sequence });
const v6 = (sequence: number) => testDualStackGniXml({ ...CLOUD, sequence }, PREFIX);

test('IPv4-only node: a full sync reads the IPv6 side, its event syncs do not; ipv6InUse is false', async () => {
  const host = newHost();
  const first = await sync(host, v4(1), true);
  assert.equal(host.reads(), 1, 'full sync: ip6tables-save');
  assert.equal(first.status.ipv6InUse, false);
  const second = await sync(host, v4(2), false);
  assert.equal(host.reads(), 0, 'event sync of an IPv4-only node: no ip6tables-save');
  assert.equal(second.status.ipv6InUse, false);
  assert.equal(second.status.appliedSequence, 2, 'the new document was applied');
  await sync(host, v4(3), true);
  assert.equal(host.reads(), 1, 'the periodic full resync reads it again');
});

test('an event sync that turns dual-stack reads the IPv6 side after render and applies it; leaving IPv6 sweeps it on the next event sync', async () => {
  const host = newHost();
  await sync(host, v4(1), true);
  await sync(host, v4(2), false);
  host.reads();
  const dual = await sync(host, v6(3), false);
  assert.equal(host.reads(), 1, 'the state needs IPv6: read after render');
  assert.equal(dual.status.ipv6InUse, true);
  const ours = () => [...host.ip6tables.filter.keys(), ...host.ip6tables.nat.keys()].filter((c) => c.startsWith('EDGENET'));
  assert.ok(ours().length > 0, 'ip6tables rules applied');
  assert.equal(host.routes6List.length, 1, 'the /64 routed on the bridge');
  const converged = await sync(host, v6(3), false);
  assert.equal(host.reads(), 1, 'IPv6 in use: every event sync reads it');
  assert.equal(converged.writes, 0, 'converged: nothing written');
  const back = await sync(host, v4(4), false);
  assert.equal(host.reads(), 1, 'the last applied state had IPv6: read, so its objects are swept');
  assert.equal(back.status.ipv6InUse, false);
  assert.deepEqual(ours(), [], 'our ip6tables chains swept');
  assert.equal(host.routes6List.length, 0, 'our route removed');
  await sync(host, v4(5), false);
  assert.equal(host.reads(), 0, 'IPv4-only again: event syncs skip the IPv6 side');
});

test('a status written before ipv6InUse existed reads the IPv6 side (unknown = in use)', async () => {
  const host = newHost();
  await sync(host, v4(1), true);
  const file = `${RUN}/netd-status.json`;
  const text = host.files.get(file);
  assert.ok(text !== undefined, `status at ${file}`);
  const { ipv6InUse: _dropped, ...old } = JSON.parse(text) as Record<string, unknown>;
  host.files.set(file, JSON.stringify(old));
  host.reads();
  await sync(host, v4(2), false);
  assert.equal(host.reads(), 1);
});

test('an IPv4-only node\'s event sync does not look at the IPv6 routes the ip read brought (as when it did not read them); the full resync sweeps a leftover', async () => {
  const host = newHost();
  await sync(host, v4(1), true);
  host.reads();
  // A route of ours left on the bridge (say by a dual-stack state whose status was lost).
  host.routes6List.push({ dst: PREFIX, dev: 'br0', proto: 77 });
  const event = await sync(host, v4(2), false);
  assert.equal(event.writes, 0, 'nothing planned about IPv6 routes on an event sync');
  assert.equal(host.reads(), 0);
  assert.deepEqual(host.routes6List.map((r) => r.dst), [PREFIX]);
  const full = await sync(host, v4(3), true);
  assert.deepEqual(full.steps.map((s) => s.name), ['route6-del']);
  assert.deepEqual(host.routes6List, [], 'swept by the full resync');
  assert.equal(host.reads(), 1);
});
