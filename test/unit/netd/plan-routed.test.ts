/**
 * ROUTED instance ports (plan/routed.ts) against the in-memory kernel
 * (test/helpers/fake-host.ts), through the sync's own observe + plan
 * (sync.ts planFor) and the applier: a fresh port, a converged node (empty
 * plan, zero writes), a port that does not exist yet, an instance removed,
 * an address changed, an elastic address added and removed, neighbour drift,
 * the EDGE→ROUTED and ROUTED→EDGE switches (and the two route sweeps never
 * touching each other's routes), flush. The desired states are hand-built:
 * render is tested on its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeHost } from '../../helpers/fake-host.ts';
import type { DesiredState, RoutedPort, RoutedState } from '../../../src/netd/render/types.ts';
import { planFor } from '../../../src/netd/sync.ts';
import { observeHost } from '../../../src/netd/apply/observe.ts';
import { applySteps } from '../../../src/netd/apply/apply.ts';
import { flushHost } from '../../../src/netd/flush.ts';
import { DEFAULT_NETD_CONFIG, type NetdConfig } from '../../../src/netd/config.ts';
import { netdNames } from '../../../src/netd/names.ts';
import { EDGENET_ROUTE_PROTOCOL, type Step } from '../../../src/netd/plan/steps.ts';
import { hasRoutedLeftovers, interfaceSysctl, isOurPortAddress, planRouted, portSysctls } from '../../../src/netd/plan/routed.ts';
import { planRoutes6 } from '../../../src/netd/plan/plan.ts';
import { portBatchFailures, portBatchLines } from '../../../src/netd/apply/port-batch.ts';
import { createLinuxHost } from '../../../src/netd/apply/linux-host.ts';
import type { PortOp } from '../../../src/netd/apply/host.ts';
import type { Exec } from '../../../src/shared/exec.ts';
import type { Files } from '../../../src/shared/files.ts';

const RUN = '/run/en';
const CONFIG: NetdConfig = { ...DEFAULT_NETD_CONFIG, nodeName: 'node1' };
const HOST_MAC = 'fe:ff:ff:ff:ff:ff';
const P = EDGENET_ROUTE_PROTOCOL;

function port(id: string, n: number, addresses: readonly string[]): RoutedPort {
  return { instance: id, interface: `vn_${id}`, instanceMac: `d0:0d:00:00:01:0${n}`, hostMac: HOST_MAC, addresses };
}
const A = port('i-a', 1, ['10.50.0.11', '2001:db8:50:0:d20d:ff:fe00:101']);
const B = port('i-b', 2, ['10.50.0.12', '2001:db8:50:0:d20d:ff:fe00:102']);

function empty(): DesiredState {
  const none = () => ({ chains: [], hooks: [] });
  return {
    node: 'node1', cluster: 'c1', version: 'v', sysctls: [], instances: [], ipsets: [],
    iptables: { filter: none(), nat: none() }, ip6tables: { filter: none(), nat: none() }, ebtables: { filter: none(), nat: none() },
    bridgeRoutes: [], processes: [], publicAddresses: { interface: '', addresses: [], pool: [] }, gateway: '', warnings: [],
  };
}

function routedState(ports: readonly RoutedPort[], families: { v4?: boolean; v6?: boolean } = {}): DesiredState {
  const routed: RoutedState = {
    ...(families.v4 !== false ? { gatewayIpv4: '169.254.0.1' } : {}),
    ...(families.v6 !== false ? { gatewayIpv6: 'fe80::1' } : {}),
    ports,
  };
  return { ...empty(), routed };
}

function edgeState(bridgeRoutes: readonly string[] = []): DesiredState {
  return { ...empty(), bridge: { name: 'br0', members: [] }, bridgeRoutes };
}

/** A node whose VM starter created the ports (down, their own MAC). */
function newHost(options: { ipv6?: boolean } = {}): FakeHost {
  const host = new FakeHost({ links: [{ name: 'eth0', mac: '52:54:00:00:00:01' }], ...(options.ipv6 === false ? { ipv6: false } : {}) });
  host.addPort('vn_i-a', { mac: '02:00:00:00:aa:01' });
  host.addPort('vn_i-b', { mac: '02:00:00:00:aa:02' });
  return host;
}

/** Whether observe looks at the routed side (ObservedState.routed) for an EDGE state; `full` as a full sync asks. */
async function routedObserved(host: FakeHost, full: boolean): Promise<boolean> {
  const observed = await observeHost(host, { sysctlKeys: [], publicInterface: '', runDir: RUN, routed: full });
  return observed.routed !== undefined;
}

async function plan(host: FakeHost, desired: DesiredState, full = false): Promise<{ steps: readonly Step[]; notes: readonly string[] }> {
  return planFor({ host, config: CONFIG, runDir: RUN, desired, full, configDriveDir: '/var/lib/en/config-drive' });
}

/** One sync (observe, plan, apply); returns the writes it issued and the plan's notes. */
async function sync(host: FakeHost, desired: DesiredState, full = false): Promise<{ writes: { op: string; input: string }[]; notes: readonly string[]; steps: readonly Step[] }> {
  const before = host.writes.length;
  const p = await plan(host, desired, full);
  let t = 0;
  await applySteps(p.steps, { host, runDir: RUN, now: () => (t += 1), wait: async () => undefined });
  return { writes: host.writes.slice(before), notes: p.notes, steps: p.steps };
}

const routesOf = (host: FakeHost) => [...host.routes4List, ...host.routes6List].map((r) => `${r.dst} ${r.dev} ${r.proto}`).sort();
const neighOf = (host: FakeHost) => host.neighbours.map((n) => `${n.dst} ${n.dev} ${n.lladdr}${n.permanent ? ' permanent' : ''} ${n.proto}`).sort();
const addrsOf = (host: FakeHost, link: string) => [...(host.addrs.get(link) ?? []), ...(host.addrs6.get(link) ?? [])].map((a) => `${a.address}/${a.prefixlen}`).sort();

test('a fresh port: MAC, sysctls before link-up, up, then gateways, routes and neighbours in ONE ip batch; a converged node plans nothing and writes nothing', async () => {
  const host = newHost();
  const first = await sync(host, routedState([A, B]));
  const kinds = first.steps.map((s) => s.kind);
  const a = kinds.slice(0, 7);
  assert.deepEqual(a, ['link-mac', 'sysctl-set', 'sysctl-set', 'sysctl-set', 'sysctl-set', 'sysctl-set', 'link-up'], 'per port: MAC, the sysctls (addr_gen_mode first), then up');
  assert.equal((first.steps[1] as Extract<Step, { kind: 'sysctl-set' }>).key, 'net.ipv6.conf.vn_i-a.addr_gen_mode');
  assert.deepEqual(first.writes.filter((w) => w.op === 'ip-batch-ports').length, 1, 'addresses, routes and neighbours of both ports: one process');
  assert.deepEqual(routesOf(host), [
    `10.50.0.11 vn_i-a ${P}`, `10.50.0.12 vn_i-b ${P}`, `2001:db8:50:0:d20d:ff:fe00:101 vn_i-a ${P}`, `2001:db8:50:0:d20d:ff:fe00:102 vn_i-b ${P}`,
  ]);
  assert.deepEqual(neighOf(host), [
    `10.50.0.11 vn_i-a d0:0d:00:00:01:01 permanent ${P}`, `10.50.0.12 vn_i-b d0:0d:00:00:01:02 permanent ${P}`,
    `2001:db8:50:0:d20d:ff:fe00:101 vn_i-a d0:0d:00:00:01:01 permanent ${P}`, `2001:db8:50:0:d20d:ff:fe00:102 vn_i-b d0:0d:00:00:01:02 permanent ${P}`,
  ]);
  assert.deepEqual(addrsOf(host, 'vn_i-a'), ['169.254.0.1/32', 'fe80::1/64']);
  assert.equal(host.linkMap.get('vn_i-a')?.mac, HOST_MAC);
  assert.equal(host.linkMap.get('vn_i-a')?.up, true);
  assert.equal(host.sysctls.get('net.ipv4.conf.vn_i-b.proxy_arp'), '1');
  assert.equal(host.sysctls.get('net.ipv6.conf.vn_i-b.accept_ra'), '0');

  const dump = host.dump();
  for (const full of [false, true]) {
    const again = await sync(host, routedState([A, B]), full);
    assert.deepEqual(again.steps, [], `converged (${full ? 'full' : 'event'} sync): no step`);
    assert.deepEqual(again.writes, [], 'and no write');
  }
  assert.equal(host.dump(), dump);
});

test('a port that does not exist yet: a note and nothing done; the next sync after the VM starter created it routes it', async () => {
  const host = newHost();
  const C = port('i-c', 3, ['10.50.0.13']);
  const first = await sync(host, routedState([A, C]));
  assert.ok(first.notes.some((n) => n.includes('vn_i-c') && n.includes('does not exist')), first.notes.join('; '));
  assert.ok(first.steps.every((s) => !JSON.stringify(s).includes('vn_i-c')));
  host.addPort('vn_i-c');
  const second = await sync(host, routedState([A, C]));
  assert.ok(second.steps.length > 0 && second.steps.every((s) => JSON.stringify(s).includes('vn_i-c')), 'only the new port is touched');
  assert.ok(routesOf(host).includes(`10.50.0.13 vn_i-c ${P}`));
  assert.deepEqual((await sync(host, routedState([A, C]))).writes, []);
});

test('an instance removed: its routes, neighbours and gateway addresses are withdrawn (port still there), the other port untouched; a port gone with its VM needs nothing', async () => {
  const host = newHost();
  await sync(host, routedState([A, B]));
  const r = await sync(host, routedState([A]));
  assert.deepEqual(r.steps.map((s) => s.kind).sort(), ['neigh-del', 'neigh-del', 'port-addr-del', 'port-addr-del', 'port-route-del', 'port-route-del']);
  assert.ok(r.steps.every((s) => JSON.stringify(s).includes('vn_i-b')));
  assert.deepEqual(r.writes.map((w) => w.op), ['ip-batch-ports']);
  assert.deepEqual(routesOf(host), [`10.50.0.11 vn_i-a ${P}`, `2001:db8:50:0:d20d:ff:fe00:101 vn_i-a ${P}`]);
  assert.deepEqual(addrsOf(host, 'vn_i-b'), []);
  assert.equal(neighOf(host).length, 2);

  host.removeLink('vn_i-a');
  const gone = await sync(host, routedState([]));
  assert.deepEqual(gone.steps, [], 'the kernel took its routes and neighbours with the link');
});

test('an address change, an elastic address added then removed: only that address changes', async () => {
  const host = newHost();
  await sync(host, routedState([A, B]));
  const moved = port('i-a', 1, ['10.50.0.21', '2001:db8:50:0:d20d:ff:fe00:101']);
  const r1 = await sync(host, routedState([moved, B]));
  assert.deepEqual(r1.steps.map((s) => `${s.kind} ${'address' in s ? s.address : ''}`), [
    'neigh-del 10.50.0.11', 'port-route-del 10.50.0.11', 'port-route-replace 10.50.0.21', 'neigh-replace 10.50.0.21',
  ], 'withdrawals first, then the new address');
  const elastic = port('i-a', 1, ['10.50.0.21', '10.60.0.5', '2001:db8:50:0:d20d:ff:fe00:101']);
  const r2 = await sync(host, routedState([elastic, B]));
  assert.deepEqual(r2.steps.map((s) => `${s.kind} ${'address' in s ? s.address : ''}`), ['port-route-replace 10.60.0.5', 'neigh-replace 10.60.0.5']);
  assert.ok(neighOf(host).includes(`10.60.0.5 vn_i-a d0:0d:00:00:01:01 permanent ${P}`));
  const r3 = await sync(host, routedState([moved, B]));
  assert.deepEqual(r3.steps.map((s) => `${s.kind} ${'address' in s ? s.address : ''}`), ['neigh-del 10.60.0.5', 'port-route-del 10.60.0.5']);
  assert.deepEqual((await sync(host, routedState([moved, B]))).writes, []);
});

test('neighbour drift: a changed lladdr, a non-permanent or a foreign entry for a routed address is replaced by ours', async () => {
  const host = newHost();
  await sync(host, routedState([A, B]));
  const i = host.neighbours.findIndex((n) => n.dst === '10.50.0.11');
  host.neighbours[i] = { ...host.neighbours[i]!, lladdr: 'd0:0d:00:00:09:09' };
  const j = host.neighbours.findIndex((n) => n.dst === '10.50.0.12');
  host.neighbours[j] = { ...host.neighbours[j]!, proto: 0, permanent: false };
  const r = await sync(host, routedState([A, B]));
  assert.deepEqual(r.steps.map((s) => `${s.kind} ${'address' in s ? s.address : ''}`).sort(), ['neigh-replace 10.50.0.11', 'neigh-replace 10.50.0.12']);
  assert.ok(neighOf(host).includes(`10.50.0.12 vn_i-b d0:0d:00:00:01:02 permanent ${P}`));
  assert.deepEqual((await sync(host, routedState([A, B]))).steps, []);
});

test('EDGE→ROUTED: a port still on the bridge leaves it, the kernel link-local stays, the bridge IPv6 route of ours is swept', async () => {
  const host = new FakeHost({ links: [{ name: 'br0', isBridge: true, mac: '02:00:00:00:00:aa', macPinned: true }] });
  host.addPort('vn_i-a', { up: true, master: 'br0' });
  await sync(host, edgeState(['2001:db8:10::/64']));
  assert.deepEqual(routesOf(host), [`2001:db8:10::/64 br0 ${P}`]);
  const r = await sync(host, routedState([A]));
  const kinds = r.steps.map((s) => s.kind);
  assert.equal(kinds[0], 'route6-del', 'the bridge route goes');
  assert.deepEqual(kinds.slice(1, 3), ['link-nomaster', 'link-mac']);
  assert.ok(!kinds.includes('link-up'), 'already up');
  assert.equal(host.linkMap.get('vn_i-a')?.master, undefined);
  assert.deepEqual(addrsOf(host, 'vn_i-a'), ['169.254.0.1/32', 'fe80::1/64', 'fe80::ff:fe00:aa01/64'], 'the kernel link-local (EUI-64) is not ours: kept');
  assert.deepEqual(routesOf(host), [`10.50.0.11 vn_i-a ${P}`, `2001:db8:50:0:d20d:ff:fe00:101 vn_i-a ${P}`]);
  assert.deepEqual((await sync(host, routedState([A]))).writes, []);
});

test('ROUTED→EDGE: the first event sync sweeps the ports (the gateway addresses mark them); later EDGE syncs do not look at the routed side; one ip read each', async () => {
  const host = newHost();
  host.linkMap.set('br0', { name: 'br0', up: true, isBridge: true, mac: '02:00:00:00:00:aa', macPinned: true });
  await sync(host, routedState([A, B]));
  assert.equal(await routedObserved(host, false), true, 'the gateway addresses mark the ports');
  host.hostReadCalls = 0;
  const r = await sync(host, edgeState(['2001:db8:10::/64']));
  assert.equal(host.hostReadCalls, 1, 'links, addresses, routes and neighbours: one read');
  assert.deepEqual(routesOf(host), [`2001:db8:10::/64 br0 ${P}`], 'only EDGE\'s bridge route: every routed route withdrawn');
  assert.deepEqual(neighOf(host), []);
  assert.deepEqual(addrsOf(host, 'vn_i-a'), []);
  const kinds = r.steps.map((s) => s.kind);
  assert.ok(kinds.lastIndexOf('port-addr-del') > Math.max(kinds.lastIndexOf('port-route-del'), kinds.lastIndexOf('neigh-del')), 'the gateway addresses (the mark) go last');
  const again = await sync(host, edgeState(['2001:db8:10::/64']));
  assert.deepEqual(again.writes, []);
  assert.equal(await routedObserved(host, false), false, 'no leftovers: an EDGE event sync does not look at the routed side');
  assert.equal(await routedObserved(host, true), true, 'a full sync does');
  // A route of ours on a port without the mark: only a full sync sweeps it (as when the event sync did not read routes).
  host.routes4List.push({ dst: '10.50.0.11', dev: 'vn_i-a', proto: P });
  assert.deepEqual((await sync(host, edgeState(['2001:db8:10::/64']))).writes, []);
  assert.deepEqual((await sync(host, edgeState(['2001:db8:10::/64']), true)).steps.map((s) => s.kind), ['port-route-del']);
  assert.deepEqual(routesOf(host), [`2001:db8:10::/64 br0 ${P}`]);
});

test('the two route sweeps: EDGE\'s planRoutes6 leaves routes on vn_ ports alone, the routed planner leaves the bridge\'s alone', () => {
  const observed = [{ dst: '2001:db8:10::/64', dev: 'br0' }, { dst: '2001:db8:50::1', dev: 'vn_i-a' }];
  assert.deepEqual(planRoutes6(['2001:db8:10::/64'], 'br0', observed), [], 'EDGE converged: the port route is not its business');
  assert.deepEqual(planRoutes6([], 'br0', observed), [{ kind: 'route6-del', prefix: '2001:db8:10::/64', dev: 'br0' }]);
  const links = new Map([['vn_i-a', { name: 'vn_i-a', up: true, isBridge: false, mac: HOST_MAC }]]);
  const routed = planRouted(undefined, { links, sysctls: new Map(), routes6: observed, routed: { addresses: new Map(), routes4: [], neighbours: [] } });
  assert.deepEqual(routed.steps, [{ kind: 'port-route-del', address: '2001:db8:50::1', dev: 'vn_i-a' }]);
});

test('IPv4-only ROUTED on a kernel without IPv6: no IPv6 sysctl, address or command; IPv6-only: no IPv4 sysctl or address', async () => {
  const host = newHost({ ipv6: false });
  const v4 = port('i-a', 1, ['10.50.0.11']);
  await sync(host, routedState([v4], { v6: false }));
  assert.deepEqual(host.ipv6Commands, []);
  assert.deepEqual(addrsOf(host, 'vn_i-a'), ['169.254.0.1/32']);
  assert.deepEqual([...host.sysctls.keys()].sort(), ['net.ipv4.conf.vn_i-a.forwarding', 'net.ipv4.conf.vn_i-a.proxy_arp']);
  assert.deepEqual((await sync(host, routedState([v4], { v6: false }))).writes, []);

  const host6 = newHost();
  const v6 = port('i-a', 1, ['2001:db8:50:0:d20d:ff:fe00:101']);
  await sync(host6, routedState([v6], { v4: false }));
  assert.deepEqual(addrsOf(host6, 'vn_i-a'), ['fe80::1/64']);
  assert.ok([...host6.sysctls.keys()].every((k) => k.startsWith('net.ipv6.')));
  assert.deepEqual((await sync(host6, routedState([v6], { v4: false }))).writes, []);
});

test('netd flush removes every routed route, neighbour and gateway address of ours and nothing else', async () => {
  const host = newHost();
  await sync(host, routedState([A, B]));
  host.routes4List.push({ dst: '10.99.0.1', dev: 'vn_i-a', proto: 4 });
  host.neighbours.push({ dst: '10.99.0.2', dev: 'vn_i-a', lladdr: '02:00:00:00:00:09', permanent: true, proto: 0 });
  host.addrs6.set('vn_i-a', [...(host.addrs6.get('vn_i-a') ?? []), { address: 'fe80::ff:fe00:aa01', prefixlen: 64 }]);
  let t = 0;
  await flushHost(host, { isOurs: netdNames(CONFIG.prefix).isOurs, runDir: RUN, publicInterface: '', pool: [], now: () => (t += 1), wait: async () => undefined });
  assert.deepEqual(routesOf(host), ['10.99.0.1 vn_i-a 4'], 'a route of another protocol stays');
  assert.deepEqual(neighOf(host), ['10.99.0.2 vn_i-a 02:00:00:00:00:09 permanent 0'], 'a neighbour of nobody we know stays');
  assert.deepEqual(addrsOf(host, 'vn_i-a'), ['fe80::ff:fe00:aa01/64'], 'the kernel link-local stays');
  assert.deepEqual(addrsOf(host, 'vn_i-b'), []);
});

test('ownership of port addresses: link-local gateways are ours; the kernel link-local and any other address are not', () => {
  assert.equal(isOurPortAddress({ address: '169.254.0.1', prefixlen: 32 }), true);
  assert.equal(isOurPortAddress({ address: 'fe80::1', prefixlen: 64 }), true);
  assert.equal(isOurPortAddress({ address: 'fe80::fcff:ffff:feff:ffff', prefixlen: 64 }), false, 'EUI-64 of fe:ff:ff:ff:ff:ff');
  assert.equal(isOurPortAddress({ address: '2001:db8::1', prefixlen: 64 }), false);
  assert.equal(isOurPortAddress({ address: '10.0.0.1', prefixlen: 24 }), false);
});

test('an interface name with dots: its sysctl keys use "/", and the real host reads the right /proc path', async () => {
  assert.equal(interfaceSysctl('ipv4', 'vn_i-1.2', 'proxy_arp'), 'net.ipv4.conf.vn_i-1/2.proxy_arp');
  assert.deepEqual(portSysctls({ gatewayIpv4: '169.254.0.1', ports: [] }, 'vn_x.1').map((s) => s.key), ['net.ipv4.conf.vn_x/1.proxy_arp', 'net.ipv4.conf.vn_x/1.forwarding']);
  const paths: string[] = [];
  const files = { read: async (p: string) => (paths.push(p), '1\n') } as unknown as Files;
  const linux = createLinuxHost({ exec: {} as Exec, files });
  assert.equal(await linux.readSysctl('net.ipv4.conf.vn_x/1.proxy_arp'), '1');
  assert.deepEqual(paths, ['/proc/sys/net/ipv4/conf/vn_x.1/proxy_arp']);
});

test('the port batch: one line per op; deletes of what is already gone are converged, anything else fails', () => {
  const ops: PortOp[] = [
    { op: 'route-del', address: '10.50.0.11', dev: 'vn_i-a', protocol: P },
    { op: 'neigh-del', address: '10.50.0.11', dev: 'vn_i-a' },
    { op: 'addr-add', interface: 'vn_i-a', address: 'fe80::1', prefixlen: 64 },
    { op: 'route-replace', address: '2001:db8:50::1', dev: 'vn_i-a', protocol: P },
    { op: 'neigh-replace', address: '10.50.0.12', dev: 'vn_i-a', lladdr: 'd0:0d:00:00:01:01', protocol: P },
    { op: 'addr-del', interface: 'vn_gone', address: '169.254.0.1', prefixlen: 32 },
  ];
  const lines = portBatchLines(ops);
  assert.deepEqual(lines, [
    `route del 10.50.0.11/32 dev vn_i-a proto ${P}`,
    'neigh flush to 10.50.0.11 dev vn_i-a nud permanent',
    'addr replace fe80::1/64 dev vn_i-a nodad',
    `route replace 2001:db8:50::1/128 dev vn_i-a proto ${P}`,
    `neigh replace 10.50.0.12 lladdr d0:0d:00:00:01:01 dev vn_i-a nud permanent protocol ${P}`,
    'addr del 169.254.0.1/32 dev vn_gone',
  ]);
  assert.deepEqual(portBatchFailures(ops, lines, 'RTNETLINK answers: No such process\nCommand failed -:1\nCannot find device "vn_gone"\nCommand failed -:6\n'), []);
  assert.equal(portBatchFailures(ops, lines, 'Error: Nexthop device is not up.\nCommand failed -:4\n').length, 1, 'a failed add is a failure');
  assert.equal(portBatchFailures(ops, lines, 'Cannot find device "vn_i-a"\n').length, 1, 'a command that ended the batch (neigh) is a failure');
});

test('IPv4-only ROUTED on a host with IPv6: the port gets disable_ipv6=1 (no IPv6 on it at all), a port with IPv6 keeps 0; converged writes nothing; back to dual stack turns it on again after addr_gen_mode', async () => {
  const host = newHost();
  const v4 = port('i-a', 1, ['10.50.0.11']);
  const first = await sync(host, routedState([v4, B], { v6: false }));
  assert.equal(host.sysctls.get('net.ipv6.conf.vn_i-a.disable_ipv6'), '1', 'the IPv4-only instance has no IPv6 on its port');
  assert.equal(host.sysctls.get('net.ipv6.conf.vn_i-b.disable_ipv6'), '0', 'a port whose instance has IPv6 keeps it');
  const kinds = first.steps.filter((s) => 'name' in s || s.kind === 'sysctl-set').map((s) => s.kind === 'sysctl-set' ? s.key : s.kind);
  assert.ok(kinds.indexOf('net.ipv6.conf.vn_i-a.disable_ipv6') < kinds.indexOf('link-up'), 'before the port comes up (no kernel link-local ever)');
  assert.deepEqual((await sync(host, routedState([v4, B], { v6: false }))).writes, []);

  const dual = await sync(host, routedState([A, B]));
  const keys = dual.steps.flatMap((s) => (s.kind === 'sysctl-set' && s.key.includes('vn_i-a') ? [s.key] : []));
  assert.deepEqual(keys.slice(0, 1), ['net.ipv6.conf.vn_i-a.addr_gen_mode']);
  assert.equal(keys.at(-1), 'net.ipv6.conf.vn_i-a.disable_ipv6', 'IPv6 back on only after addr_gen_mode=1');
  assert.equal(host.sysctls.get('net.ipv6.conf.vn_i-a.disable_ipv6'), '0');
});

test('EDGE bridge ports: the routed sweep removes none of their addresses (a non-EUI-64 link-local, a 169.254/16 address), and they are no leftover mark', async () => {
  const host = new FakeHost({ links: [{ name: 'br0', isBridge: true, mac: '02:00:00:00:00:aa', macPinned: true }] });
  host.addPort('vn_i-a', { up: true, master: 'br0' });
  host.addrs6.set('vn_i-a', [{ address: 'fe80::1234:5678:9abc:def0', prefixlen: 64 }]);
  host.addrs.set('vn_i-a', [{ address: '169.254.7.7', prefixlen: 16 }]);
  for (const full of [false, true]) {
    const r = await sync(host, edgeState(), full);
    assert.deepEqual(r.steps.filter((s) => s.kind === 'port-addr-del'), [], `${full ? 'full' : 'event'} sync`);
  }
  assert.deepEqual(addrsOf(host, 'vn_i-a'), ['169.254.7.7/16', 'fe80::1234:5678:9abc:def0/64']);
  const addresses = new Map([['vn_i-a', [{ address: 'fe80::1234:5678:9abc:def0', prefixlen: 64 }]]]);
  assert.equal(hasRoutedLeftovers(addresses, [{ name: 'vn_i-a', up: true, isBridge: false, master: 'br0' }]), false);
  assert.equal(hasRoutedLeftovers(addresses, [{ name: 'vn_i-a', up: true, isBridge: false }]), true, 'the same on a routed port is ours');
  // A port to be routed that is still on the bridge is swept as before (it leaves the bridge in the same plan).
  const p = planRouted(routedState([A]).routed, {
    links: new Map([['vn_i-a', { name: 'vn_i-a', up: true, isBridge: false, master: 'br0', mac: HOST_MAC }]]), sysctls: new Map(),
    routed: { addresses, routes4: [], neighbours: [] },
  });
  assert.ok(p.steps.some((s) => s.kind === 'port-addr-del' && s.address === 'fe80::1234:5678:9abc:def0'));
});
