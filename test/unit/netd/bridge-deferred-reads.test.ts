/**
 * The bridge's side of the kernel (ebtables-save, the private interface's
 * routes) is read only when it can matter: on every full sync, and on an
 * event sync when the last applied state had a bridge (status `bridgeInUse`)
 * or the new state has one (then after render). A ROUTED node's event syncs
 * run neither process: two spawns on the way from the document to BIRD's
 * reload (bench/routed-route.bench.ts). Whatever is skipped, the end state is
 * the one a sync that read everything reaches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeHost, group, inst, testGniXml, type TestCloud } from '../../helpers/fake-host.ts';
import { ROUTED_NODE, routedDoc } from '../../helpers/routed-doc.ts';
import { serializeGni } from '../../../src/shared/gni/codec.ts';
import { syncOnce, type SyncDeps } from '../../../src/netd/sync.ts';
import { DEFAULT_NETD_CONFIG, type NetdConfig } from '../../../src/netd/config.ts';

const RUN = '/run/en';
const GNI = `${RUN}/global_network_info.xml`;
const CONFIG: NetdConfig = { ...DEFAULT_NETD_CONFIG, nodeName: ROUTED_NODE, privateInterface: 'eth1', publicInterface: 'pub0' };

class CountingHost extends FakeHost {
  ebSaves = 0;
  privateRouteReads = 0;
  override async ebtablesSave(...args: Parameters<FakeHost['ebtablesSave']>) {
    this.ebSaves++;
    return super.ebtablesSave(...args);
  }
  override async routes(...args: Parameters<FakeHost['routes']>) {
    if (args[0] === 'eth1') this.privateRouteReads++;
    return super.routes(...args);
  }
  reads(): { eb: number; routes: number } {
    const n = { eb: this.ebSaves, routes: this.privateRouteReads };
    this.ebSaves = 0;
    this.privateRouteReads = 0;
    return n;
  }
}

const EDGE_CLOUD: TestCloud = {
  nodes: [{ name: ROUTED_NODE, instances: ['i-00000001'] }],
  instances: [inst('i-00000001', 11, ['sg-0000000a'], '198.51.100.11')],
  groups: [group('sg-0000000a', [{ protocol: 6, fromPort: 22, toPort: 22, cidr: '0.0.0.0/0' }])],
};
const edge = (sequence: number) => testGniXml({ ...EDGE_CLOUD, sequence });
const routed = (sequence: number, elastic?: string) => {
  const d = routedDoc({ instances: [{ id: 'i-a0000001', mac: 'd0:0d:a0:00:00:01', ipv4: '10.50.0.11', ipv6: true, ...(elastic ? { elastic } : {}) }] });
  return serializeGni({ ...d, version: `v-routed-${sequence}`, sequence });
};

function newHost(): CountingHost {
  return new CountingHost({
    links: [{ name: 'br0', isBridge: true, mac: '02:00:00:00:00:aa' }, { name: 'eth1' }, { name: 'pub0' }, { name: 'vn_i-a0000001', up: true }],
    addresses: { br0: [{ address: '10.10.0.1', prefixlen: 24 }], pub0: [{ address: '192.0.2.5', prefixlen: 24 }] },
  });
}

let clock = 1_700_000_000_000;
const deps = (host: FakeHost): SyncDeps => ({ host, config: CONFIG, runDir: RUN, gniFile: GNI, now: () => (clock += 1), wait: async () => undefined, startCheckMs: 0 });

async function sync(host: CountingHost, xml: string, full: boolean) {
  host.files.set(GNI, xml);
  const out = await syncOnce(deps(host), { trigger: full ? 'periodic' : 'file', full });
  assert.equal(out.result, 'ok', out.error);
  return out;
}

const ourEbtables = (host: FakeHost) => [...host.ebtables.filter.keys(), ...host.ebtables.nat.keys()].filter((c) => c.startsWith('EDGENET'));

test('ROUTED node: a full sync reads the bridge side, its event syncs do not; bridgeInUse is false', async () => {
  const host = newHost();
  const first = await sync(host, routed(1), true);
  assert.deepEqual(host.reads(), { eb: 1, routes: 1 }, 'full sync: ebtables-save and the private routes');
  assert.equal(first.status.bridgeInUse, false);
  const second = await sync(host, routed(2, '10.60.0.3'), false);
  assert.deepEqual(host.reads(), { eb: 0, routes: 0 }, 'event sync of a ROUTED node: no bridge read');
  assert.equal(second.status.bridgeInUse, false);
  assert.equal(second.status.appliedSequence, 2, 'the new document was applied');
  assert.ok(second.writes > 0, 'the elastic address was applied');
  await sync(host, routed(3, '10.60.0.3'), true);
  assert.deepEqual(host.reads(), { eb: 1, routes: 1 }, 'the periodic full resync reads it again');
});

test('EDGE → ROUTED → EDGE by event syncs: each end state is the one of a sync that read everything', async () => {
  const host = newHost();
  const edgeFirst = await sync(host, edge(1), true);
  assert.equal(edgeFirst.status.bridgeInUse, true);
  assert.ok(ourEbtables(host).length > 0, 'EDGE wrote ebtables chains');
  host.reads();
  // The last applied state had a bridge: read, so EDGE's ebtables chains are swept.
  const toRouted = await sync(host, routed(2), false);
  assert.deepEqual(host.reads(), { eb: 1, routes: 1 });
  assert.equal(toRouted.status.bridgeInUse, false);
  assert.deepEqual(ourEbtables(host), [], 'our ebtables chains swept');
  await sync(host, routed(3, '10.60.0.3'), false);
  assert.deepEqual(host.reads(), { eb: 0, routes: 0 });
  // The new state has a bridge: the reads are made after render, and EDGE is laid down whole.
  const back = await sync(host, edge(4), false);
  assert.deepEqual(host.reads(), { eb: 1, routes: 1 }, 'the state has a bridge: read after render');
  assert.equal(back.status.bridgeInUse, true);
  assert.ok(ourEbtables(host).length > 0, 'EDGE wrote its ebtables chains again');
  const converged = await sync(host, edge(4), false);
  assert.equal(converged.writes, 0, 'converged: nothing written');
  assert.deepEqual(host.reads(), { eb: 1, routes: 1 }, 'bridge in use: every event sync reads it');
});

test('a status written before bridgeInUse existed reads the bridge side (unknown = in use)', async () => {
  const host = newHost();
  await sync(host, routed(1), true);
  const file = `${RUN}/netd-status.json`;
  const text = host.files.get(file);
  assert.ok(text !== undefined, `status at ${file}`);
  const { bridgeInUse: _dropped, ...old } = JSON.parse(text) as Record<string, unknown>;
  host.files.set(file, JSON.stringify(old));
  host.reads();
  await sync(host, routed(2), false);
  assert.deepEqual(host.reads(), { eb: 1, routes: 1 });
});
