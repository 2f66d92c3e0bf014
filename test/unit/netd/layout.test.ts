/**
 * The node's network (src/netd/plan/layout.ts): each supported layout, the
 * refusals and their messages, the order of the move (connectivity), the
 * pinned bridge MAC, and crash safety: the move interrupted after any step
 * and planned again from the host converges to the same host.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planNodeNetwork, type NodeNetworkInput } from '../../../src/netd/plan/layout.ts';
import type { ObservedAddress, ObservedLink, ObservedRoute } from '../../../src/netd/plan/observed.ts';
import { applySteps } from '../../../src/netd/apply/apply.ts';
import { FakeHost } from '../../helpers/fake-host.ts';

const ETH_MAC = '52:54:00:aa:bb:cc';
const NODE_ADDR: ObservedAddress = { address: '192.168.50.11', prefixlen: 24, broadcast: '192.168.50.255' };
const DEFAULT: ObservedRoute = { dst: 'default', gateway: '192.168.50.1', protocol: 'static' };
const KERNEL: ObservedRoute = { dst: '192.168.50.0/24', protocol: 'kernel', scope: 'link', prefsrc: '192.168.50.11' };

function input(over: {
  links: ObservedLink[];
  addresses?: Record<string, ObservedAddress[]>;
  routes?: ObservedRoute[];
  priv?: string;
  mac?: string;
}): NodeNetworkInput {
  return {
    bridge: 'br0',
    privateInterface: over.priv ?? 'eth1',
    mac: over.mac ?? '',
    links: new Map(over.links.map((l) => [l.name, l])),
    addresses: (n) => over.addresses?.[n] ?? [],
    privateRoutes: over.routes ?? [],
  };
}

const bridge = (o: Partial<ObservedLink> = {}): ObservedLink => ({ name: 'br0', up: true, isBridge: true, mac: '02:11:22:33:44:55', macPinned: true, ...o });
const eth1 = (o: Partial<ObservedLink> = {}): ObservedLink => ({ name: 'eth1', up: true, isBridge: false, mac: ETH_MAC, ...o });

test('layout a: the bridge carries the address and the port is in it: nothing to do', () => {
  const n = planNodeNetwork(input({ links: [bridge(), eth1({ master: 'br0' })], addresses: { br0: [NODE_ADDR] } }));
  assert.equal(n.problem, undefined);
  assert.equal(n.layout, 'bridge-carries-address');
  assert.deepEqual(n.steps, []);
  assert.deepEqual(n.addresses, ['192.168.50.11/24']);
  assert.equal(n.mac, '02:11:22:33:44:55');
});

test('layout a: VNET_PRIVINTERFACE equal to the bridge, or another bridge, is accepted and never enslaved', () => {
  for (const [priv, links] of [
    ['br0', [bridge()]],
    ['br1', [bridge(), { name: 'br1', up: true, isBridge: true, mac: '02:00:00:00:00:09' }]],
    ['', [bridge()]],
  ] as const) {
    const n = planNodeNetwork(input({ priv, links: [...links], addresses: { br0: [NODE_ADDR] } }));
    assert.equal(n.problem, undefined, priv);
    assert.deepEqual(n.steps, [], `VNET_PRIVINTERFACE=${priv}`);
  }
});

test('layout a: a physical interface without addresses is attached to the bridge', () => {
  const n = planNodeNetwork(input({ links: [bridge(), eth1({ up: false })], addresses: { br0: [NODE_ADDR] } }));
  assert.deepEqual(n.steps.map((s) => s.kind), ['link-attach', 'link-up']);
});

test('layout b: a new bridge takes the port MAC; addresses and routes move in an order that keeps the node reachable', () => {
  const n = planNodeNetwork(input({ links: [eth1()], addresses: { eth1: [NODE_ADDR] }, routes: [KERNEL, DEFAULT] }));
  assert.equal(n.problem, undefined);
  assert.equal(n.layout, 'move-to-bridge');
  assert.deepEqual(
    n.steps.map((s) => s.kind),
    ['bridge-create', 'link-up', 'node-addr-add', 'link-attach', 'route-move', 'node-addr-del'],
  );
  assert.deepEqual(n.steps[0], { kind: 'bridge-create', name: 'br0', mac: ETH_MAC });
  assert.deepEqual(n.steps[2], { kind: 'node-addr-add', interface: 'br0', address: '192.168.50.11', prefixlen: 24, broadcast: '192.168.50.255' });
  assert.deepEqual(n.steps[4], { kind: 'route-move', route: DEFAULT, from: 'eth1', to: 'br0' }, 'the prefix route follows its address; only the others move');
  // Render sees the bridge as it will be: no BRIDGE_MAC_UNKNOWN before the bridge exists.
  assert.equal(n.mac, ETH_MAC);
  assert.deepEqual(n.addresses, ['192.168.50.11/24']);
});

test('layout b over a bridge an older netd made (port enslaved, address left on it): the address moves', () => {
  const n = planNodeNetwork(input({ links: [bridge({ macPinned: false, mac: ETH_MAC }), eth1({ master: 'br0' })], addresses: { eth1: [NODE_ADDR] }, routes: [DEFAULT] }));
  assert.deepEqual(n.steps.map((s) => s.kind), ['link-mac', 'node-addr-add', 'route-move', 'node-addr-del']);
});

test('refused layouts say what to do and touch nothing', () => {
  const cases: [NodeNetworkInput, RegExp][] = [
    [input({ priv: '', links: [eth1()] }), /VNET_BRIDGE=br0 does not exist and VNET_PRIVINTERFACE is not set: either create br0 .*layout a.*set VNET_PRIVINTERFACE/],
    [input({ priv: 'br0', links: [eth1()] }), /VNET_PRIVINTERFACE names the bridge itself/],
    [input({ priv: 'eth9', links: [bridge()], addresses: { br0: [NODE_ADDR] } }), /VNET_PRIVINTERFACE=eth9 does not exist on this host: set it to/],
    [input({ links: [bridge(), { name: 'br7', up: true, isBridge: true }, eth1({ master: 'br7' })], addresses: { br0: [NODE_ADDR] } }), /eth1 is a port of bridge br7, not of VNET_BRIDGE=br0: set VNET_BRIDGE="br7"/],
    [input({ links: [{ name: 'br0', up: true, isBridge: false }, eth1()] }), /exists but is not a bridge/],
  ];
  for (const [i, re] of cases) {
    const n = planNodeNetwork(i);
    assert.equal(n.layout, 'refused');
    assert.match(n.problem ?? '', re);
    assert.match(n.problem ?? '', /docs\/netd\.md/);
    assert.deepEqual(n.steps, []);
  }
  const bare = planNodeNetwork(input({ links: [bridge(), eth1({ master: 'br0' })] }));
  assert.match(bare.problem ?? '', /neither br0 nor eth1 has an IPv4 address.*put the node's address on br0 \(layout a\)/);
});

test('the bridge MAC is pinned: EDGENET_BRIDGE_MAC wins, else the MAC the bridge has when first seen unpinned', () => {
  const unpinned = planNodeNetwork(input({ links: [bridge({ macPinned: false }), eth1({ master: 'br0' })], addresses: { br0: [NODE_ADDR] } }));
  assert.deepEqual(unpinned.steps, [{ kind: 'link-mac', name: 'br0', mac: '02:11:22:33:44:55' }]);
  const configured = planNodeNetwork(input({ mac: '02:aa:aa:aa:aa:aa', links: [bridge(), eth1({ master: 'br0' })], addresses: { br0: [NODE_ADDR] } }));
  assert.deepEqual(configured.steps, [{ kind: 'link-mac', name: 'br0', mac: '02:aa:aa:aa:aa:aa' }]);
  assert.equal(configured.mac, '02:aa:aa:aa:aa:aa');
  const created = planNodeNetwork(input({ mac: '02:aa:aa:aa:aa:aa', links: [eth1()], addresses: { eth1: [NODE_ADDR] } }));
  assert.deepEqual(created.steps[0], { kind: 'bridge-create', name: 'br0', mac: '02:aa:aa:aa:aa:aa' });
});

function fakeNode(): FakeHost {
  return new FakeHost({ links: [eth1()], addresses: { eth1: [NODE_ADDR] }, routes: { eth1: [KERNEL, DEFAULT] } });
}

async function plan(host: FakeHost) {
  const [{ interfaces }, routes] = await Promise.all([host.hostReads(77), host.routes('eth1')]);
  return planNodeNetwork({
    bridge: 'br0',
    privateInterface: 'eth1',
    mac: '',
    links: new Map(interfaces.links.map((l) => [l.name, l])),
    addresses: (n) => interfaces.addresses.get(n) ?? [],
    privateRoutes: routes,
  });
}

function snapshot(host: FakeHost): string {
  return JSON.stringify({
    links: [...host.linkMap.values()].sort((a, b) => a.name.localeCompare(b.name)),
    addrs: [...host.addrs.entries()].filter(([, v]) => v.length > 0).sort(),
    routes: [...host.routeMap.entries()]
      .map(([k, v]): [string, ObservedRoute[]] => [k, v.filter((r) => r.protocol !== 'kernel')])
      .filter(([, v]) => v.length > 0)
      .sort(),
  });
}

test('the move interrupted after any step converges when planned again (a netd killed mid-move)', async () => {
  const ctx = (host: FakeHost) => ({ host, runDir: '/run/x', now: () => 0, wait: async () => undefined });
  const reference = fakeNode();
  const full = await plan(reference);
  await applySteps(full.steps, ctx(reference));
  const converged = snapshot(reference);
  assert.deepEqual((await plan(reference)).steps, [], 'converged: nothing left to do');
  assert.match(converged, /"br0".*"192\.168\.50\.11"/);
  for (let k = 0; k < full.steps.length; k++) {
    const host = fakeNode();
    await applySteps(full.steps.slice(0, k), ctx(host));
    const again = await plan(host);
    assert.equal(again.problem, undefined, `after ${k} steps`);
    assert.equal(again.mac, ETH_MAC, `after ${k} steps render sees the same MAC`);
    assert.deepEqual(again.addresses, ['192.168.50.11/24'], `after ${k} steps render sees the same addresses`);
    await applySteps(again.steps, ctx(host));
    assert.equal(snapshot(host), converged, `interrupted after ${k} step(s)`);
  }
});
