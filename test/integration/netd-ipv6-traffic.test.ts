/**
 * Issue 14's "Done when" on real packets: IPv6 dual stack in network
 * namespaces, the REAL netd (one per node) applying dual-stack documents, the
 * real radvd it supervises, real SLAAC in the instances (root).
 *
 * Lab (test/helpers/netd-lab.ts + the IPv6 plan of test/helpers/ipv6-probe.ts):
 * n1 runs a1, a2 (sg-a) and c1 (sg-c); n2 runs b1 (sg-a) and d1 (sg-c). The
 * cluster's /64 is 2001:db8:10::/64; an instance's address is the EUI-64 of
 * its MAC there (v6Of). The client sits on the public /64 2001:db8:ffff::/64
 * and routes the cluster /64 via the nodes' pub0.
 *
 * Negative verdicts are never "nothing seen after a sleep": a listener in the
 * receiver counts tagged packets until a fence (an admitted packet sent after
 * the probes over the same path) arrives (helpers/ipv6-probe.ts `delivery`).
 * Crafted frames (helpers/ipv6-frames.py) carry spoofed sources, forged
 * neighbour and router advertisements and DHCPv6 server replies; each forged
 * case has a control showing the same frame shape does its harm when it is
 * legitimate, so a drop is a drop and not a malformed probe.
 *
 * Tests run in order and each publishes the full document it needs.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isRoot, requireRoot } from '../helpers/root.ts';
import { createNetdLab, instance, waitFor, type LabNode, type NetdLab } from '../helpers/netd-lab.ts';
import {
  LAB6,
  addLabIpv6,
  tcpConnects,
  defaultRoutes6,
  delivery,
  expect6,
  globalAddresses,
  linkLocalOf,
  linkMac,
  neighbourMac,
  pings6,
  received,
  sendFrames,
  sendIcmp6,
  sgDual,
  snmp6,
  tcpServer6,
  v6Of,
  withIpv6,
  type Frame,
} from '../helpers/ipv6-probe.ts';
import { serializeGni } from '../../src/shared/gni/codec.ts';
import type { GniDocument, GniRule } from '../../src/shared/gni/model.ts';
import type { LabInstance } from '../../src/lab/topology.ts';
import type { Process } from '../../src/shared/exec.ts';

const OWNER = '000000000001';
const SG_A = 'sg-0000006a';
const SG_C = 'sg-0000006c';
const SG_X = 'sg-0000006e';
const ID = { a1: 'i-000006a1', a2: 'i-000006a2', c1: 'i-000006c1', b1: 'i-000006b1', d1: 'i-000006d1', x1: 'i-000006e1' };
const IP = { a1: '10.111.1.11', a2: '10.111.1.12', c1: '10.111.1.13', b1: '10.111.1.21', d1: '10.111.1.22', x1: '10.111.1.31' };
const MAC = { a1: 'd0:0d:00:00:06:11', a2: 'd0:0d:00:00:06:12', c1: 'd0:0d:00:00:06:13', b1: 'd0:0d:00:00:06:21', d1: 'd0:0d:00:00:06:22', x1: 'd0:0d:00:00:06:31' };
type Vm = 'a1' | 'a2' | 'c1' | 'b1' | 'd1';
const VMS: readonly Vm[] = ['a1', 'a2', 'c1', 'b1', 'd1'];
const NODE_OF: Record<Vm, 'n1' | 'n2'> = { a1: 'n1', a2: 'n1', c1: 'n1', b1: 'n2', d1: 'n2' };
const GROUP_OF: Record<Vm, string> = { a1: SG_A, a2: SG_A, b1: SG_A, c1: SG_C, d1: SG_C };
const V6 = Object.fromEntries(Object.entries(MAC).map(([k, m]) => [k, v6Of(m)])) as Record<keyof typeof MAC, string>;
const LL = Object.fromEntries(Object.entries(MAC).map(([k, m]) => [k, linkLocalOf(m)])) as Record<keyof typeof MAC, string>;
const ALL_NODES_MAC = '33:33:00:00:00:01';
const ROGUE_PREFIX = '2001:db8:66::/64';
const ROGUE_RADVD_PREFIX = '2001:db8:77::/64';
const CLIENT_PORT = 9000;

let lab: NetdLab;
const vms: Partial<Record<Vm, LabInstance>> = {};
const servers: Process[] = [];
/** br0's MAC per node (netd pins it: the source MAC of its RAs). */
const brMac: Record<string, string> = {};
/**
 * br0's link-local address per node: the router address instances learn. Not
 * always the EUI-64 of the pinned MAC: the kernel made it from the MAC br0 had
 * when it came up, before netd pinned one.
 */
const brLinkLocal: Record<string, string> = {};
interface Spec {
  readonly a?: readonly GniRule[];
  readonly c?: readonly GniRule[];
  /** x1 on n1 in sg-x (the removal test). */
  readonly x1?: boolean;
  /** false: the same cloud as an IPv4-only document. */
  readonly ipv6?: boolean;
}

function cloudDoc(spec: Spec): GniDocument {
  const withX = spec.x1 === true;
  const base = lab.document({
    nodes: [
      { name: lab.node('n1').name, instances: [ID.a1, ID.a2, ID.c1, ...(withX ? [ID.x1] : [])] },
      { name: lab.node('n2').name, instances: [ID.b1, ID.d1] },
    ],
    instances: [
      ...VMS.map((v) => instance(ID[v], MAC[v], IP[v], [GROUP_OF[v]])),
      ...(withX ? [instance(ID.x1, MAC.x1, IP.x1, [SG_X])] : []),
    ],
    groups: [
      sgDual(SG_A, spec.a ?? []),
      sgDual(SG_C, spec.c ?? []),
      // sg-x admits ssh from the client's /64 and from sg-a: it has IPv6 rules, an IPv6 set and chain of its own.
      ...(withX ? [sgDual(SG_X, [{ protocol: 6, fromPort: 22, toPort: 22, cidr: '2001:db8:ffff::/64' }, { protocol: 58, icmpType: 128, icmpCode: -1, groupId: SG_A, groupOwnerId: OWNER }])] : []),
    ],
  });
  return spec.ipv6 === false ? base : withIpv6(base, { clcAddress: LAB6.ctl });
}

async function apply(spec: Spec = {}): Promise<GniDocument> {
  const doc = cloudDoc(spec);
  await lab.publishText(serializeGni(doc));
  await lab.waitApplied(doc.version);
  return doc;
}

const netns = () => lab.topo.netns;
const nsOf = (v: Vm) => vms[v]!.ns;
const routerOf = (v: Vm) => brLinkLocal[NODE_OF[v]]!;

before(async () => {
  if (!isRoot()) return;
  lab = await createNetdLab();
  await addLabIpv6(lab.topo.netns, { nodeNs: lab.nodes.map((n) => n.ns), ctlNs: lab.topo.ctlNs, clientNs: lab.topo.clientNs });
  for (const n of lab.nodes) await lab.startNetd(n);
  await apply();
  for (const n of lab.nodes) {
    brMac[n.short] = await linkMac(lab.topo.netns, n.ns, 'br0');
    const ll = /inet6 (fe80::[0-9a-f:]+)\/64/.exec((await lab.sh(n.ns, ['ip', '-6', 'addr', 'show', 'dev', 'br0', 'scope', 'link'])).out)?.[1];
    assert.ok(ll, `${n.short}: br0 has a link-local address`);
    brLinkLocal[n.short] = ll;
  }
  for (const v of VMS) vms[v] = await lab.addInstance(NODE_OF[v], ID[v], MAC[v]);
  for (const v of VMS) servers.push(tcpServer6(lab.topo.netns, nsOf(v), [22, 80, 5432, 8000, 8001, 8002], v));
  // Dual stack: every instance also takes its IPv4 lease (the IPv4-rule exactness checks use it).
  for (const v of VMS) await lab.topo.dhcp(vms[v]!, { timeoutMs: 15_000 });
});

after(async () => {
  for (const s of servers) s.kill('SIGKILL');
  await lab?.close();
});

function root(t: TestContext): boolean {
  return requireRoot(t, 'netd IPv6 traffic integration');
}

/** netd's kernel state in a node namespace that is IPv6 or may name an instance (rules without counters). */
async function v6Dump(node: LabNode): Promise<string> {
  const out: string[] = [];
  for (const [label, argv] of [
    ['ip6tables', ['ip6tables-save', '-t', 'filter']],
    ['ip6tables', ['ip6tables-save', '-t', 'nat']],
    ['ebtables', ['ebtables-save', '-t', 'filter']],
    ['ebtables', ['ebtables-save', '-t', 'nat']],
    ['ipset', ['ipset', 'save']],
    ['route6', ['ip', '-6', 'route', 'show']],
  ] as const) {
    const r = await lab.sh(node.ns, argv);
    out.push(...r.out.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => `${label} ${l.replace(/\[\d+:\d+\]/g, '')}`));
  }
  return out.join('\n');
}

/** Pids of the radvd daemons in a node namespace (not their privilege-separation helpers, which are radvd's children). */
async function radvdPids(node: LabNode): Promise<number[]> {
  const isRadvd = async (pid: number) => (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0')[0]?.endsWith('radvd') === true;
  const out: number[] = [];
  for (const pid of await lab.topo.netns.pids(node.ns)) {
    if (!(await isRadvd(pid))) continue;
    const ppid = Number(/^PPid:\s+(\d+)/m.exec(await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''))?.[1] ?? NaN);
    if (!(await isRadvd(ppid))) out.push(pid);
  }
  return out;
}

/** Waits until the node's radvd has sent `n` more router advertisements (its namespace's ICMPv6 counter). */
async function radvdSends(node: LabNode, n: number): Promise<void> {
  const start = await snmp6(netns(), node.ns, 'Icmp6OutRouterAdvertisements');
  assert.ok(Number.isFinite(start), 'snmp6 counter readable');
  await waitFor(`${node.short}'s radvd to send ${n} RAs`, async () => (await snmp6(netns(), node.ns, 'Icmp6OutRouterAdvertisements')) >= start + n, 35_000, 250);
}

/** An echo from `from`'s real global address to `to`: the fence of crafted-frame tests (same group: admitted). */
function fenceEcho(from: Vm, to: Vm): Frame {
  return { kind: 'echo', srcMac: MAC[from], dstMac: MAC[to], src: V6[from], dst: V6[to] };
}

test('a dual-stack instance gets its IPv6 address (the EUI-64 the CLC computed), its node as default router and DNS, automatically', async (t) => {
  if (!root(t)) return;
  for (const v of VMS) {
    const want = `${V6[v]}/64`;
    await waitFor(`${v} to configure ${want} by SLAAC`, async () => (await globalAddresses(netns(), nsOf(v))).includes(want), 40_000, 250);
    assert.deepEqual(await globalAddresses(netns(), nsOf(v), 'eth0', true), [want], `${v}: exactly one global address, v6Of(prefix, mac)`);
    const ra = await lab.sh(nsOf(v), ['rdisc6', '-1', '-r', '3', '-w', '2000', 'eth0'], 15_000);
    assert.equal(ra.code, 0, `${v}: rdisc6 got an RA: ${ra.out}`);
    assert.match(ra.out, /Prefix\s*:\s*2001:db8:10::\/64/, `${v}: the cluster /64 is advertised`);
    assert.match(ra.out, /Autonomous address conf\.\s*:\s*Yes/);
    assert.match(ra.out, /Stateful address conf\.\s*:\s*No/, 'M flag off: SLAAC, no DHCPv6 addresses');
    assert.match(ra.out, new RegExp(`Recursive DNS server\\s*:\\s*${LAB6.dns[0]}`, 'i'), `${v}: DNS by RDNSS`);
    assert.match(ra.out, new RegExp(`from ${routerOf(v)}`, 'i'), `${v}: advertised by its own node's bridge`);
  }
  // RAs do not leak onto the lan: after both radvds sent two more, every
  // instance still has exactly one default router, its own node.
  await Promise.all(lab.nodes.map((n) => radvdSends(n, 2)));
  for (const v of VMS) {
    const routes = await defaultRoutes6(netns(), nsOf(v));
    assert.deepEqual(routes.map((r) => `${r.gateway} ${r.dev}`), [`${routerOf(v)} eth0`], `${v}: one default route, via its node (${NODE_OF[v]})`);
  }
});

test('same group: IPv6 flows on one node and across nodes', async (t) => {
  if (!root(t)) return;
  await apply();
  assert.ok(await expect6((s) => pings6(netns(), nsOf('a1'), V6.a2, s), true), 'a1 → a2 ping -6 (same node)');
  assert.ok(await expect6((s) => tcpConnects(netns(), nsOf('a1'), V6.a2, 5432, s), true), 'a1 → a2 tcp 5432 (same group: every port)');
  assert.ok(await expect6((s) => pings6(netns(), nsOf('a1'), V6.b1, s), true), 'a1 → b1 ping -6 (across nodes)');
  assert.ok(await expect6((s) => tcpConnects(netns(), nsOf('b1'), V6.a1, 8001, s), true), 'b1 → a1 tcp 8001 (across nodes)');
  assert.ok(await expect6((s) => tcpConnects(netns(), nsOf('c1'), V6.d1, 22, s), true), 'c1 → d1 (sg-c, across nodes)');
});

test('different groups: IPv6 is dropped until a rule admits it, by source group or IPv6 CIDR; an IPv4 rule admits no IPv6', async (t) => {
  if (!root(t)) return;
  await apply({ c: [] });
  assert.equal(await expect6((s) => tcpConnects(netns(), nsOf('a1'), V6.c1, 5432, s), false), false, 'no rule: a1 → c1 tcp dropped');
  assert.equal(await expect6((s) => pings6(netns(), nsOf('a1'), V6.c1, s), false), false, 'no rule: a1 → c1 ping -6 dropped');
  assert.equal(await expect6((s) => tcpConnects(netns(), nsOf('b1'), V6.d1, 5432, s), false), false, 'no rule: b1 → d1 (n2) dropped');

  // A source-group rule applies to both families (rulesForFamily).
  await apply({ c: [{ protocol: 6, fromPort: 5432, toPort: 5432, groupId: SG_A, groupOwnerId: OWNER }] });
  assert.ok(await expect6((s) => tcpConnects(netns(), nsOf('a1'), V6.c1, 5432, s), true), 'sg-a member a1 → c1 tcp 5432 over IPv6');
  assert.ok(await expect6((s) => tcpConnects(netns(), nsOf('b1'), V6.c1, 5432, s), true), 'sg-a member on the other node → c1');
  assert.ok(await expect6((s) => tcpConnects(netns(), nsOf('a2'), V6.d1, 5432, s), true), 'sg-a member → d1 on the other node');
  assert.equal(await expect6((s) => tcpConnects(netns(), nsOf('a1'), V6.c1, 22, s), false), false, 'another port stays dropped');
  assert.equal(await expect6((s) => pings6(netns(), nsOf('a1'), V6.c1, s), false), false, 'ICMPv6 stays dropped (tcp rule)');

  // An IPv4 CIDR rule admits IPv4 only.
  await apply({ c: [{ protocol: 6, fromPort: 5432, toPort: 5432, cidr: '0.0.0.0/0' }] });
  assert.ok(await expect6((s) => tcpConnects(netns(), nsOf('a1'), IP.c1, 5432, s), true), 'control: IPv4 a1 → c1 admitted by 0.0.0.0/0');
  assert.equal(await expect6((s) => tcpConnects(netns(), nsOf('a1'), V6.c1, 5432, s), false), false, 'IPv6 a1 → c1 not admitted by an IPv4 CIDR');

  // IPv6 CIDR rules: exactly the sources and ports they name.
  await apply({ c: [{ protocol: 6, fromPort: 5432, toPort: 5432, cidr: `${V6.b1}/128` }] });
  assert.ok(await expect6((s) => tcpConnects(netns(), nsOf('b1'), V6.c1, 5432, s), true), 'b1 inside the /128 → c1');
  assert.equal(await expect6((s) => tcpConnects(netns(), nsOf('a1'), V6.c1, 5432, s), false), false, 'a1 outside the /128 → c1 dropped');
  assert.equal(await expect6((s) => tcpConnects(netns(), nsOf('b1'), IP.c1, 5432, s), false), false, 'the IPv6 rule admits no IPv4');
  await apply({ c: [{ protocol: 6, fromPort: 8000, toPort: 8001, cidr: '2001:db8:10::/64' }] });
  for (const port of [8000, 8001]) assert.ok(await expect6((s) => tcpConnects(netns(), nsOf('a1'), V6.c1, port, s), true), `port ${port} in the range`);
  for (const port of [8002, 5432]) assert.equal(await expect6((s) => tcpConnects(netns(), nsOf('a1'), V6.c1, port, s), false), false, `port ${port} outside the range`);
  await apply({ c: [] });
  assert.equal(await expect6((s) => tcpConnects(netns(), nsOf('a1'), V6.c1, 8000, s), false), false, 'revoked: dropped again');
});

test('an ICMPv6 rule for one type admits only that type', async (t) => {
  if (!root(t)) return;
  const probe = (from: Vm, to: Vm, fenceType: number) =>
    delivery(netns(), { ns: nsOf(to), dir: lab.dir, mode: 'icmp6' }, (tag) => sendIcmp6(netns(), nsOf(from), { dst: V6[to], tag, types: [128, 139], fenceType }));
  await apply({ c: [{ protocol: 58, icmpType: 128, icmpCode: -1, groupId: SG_A, groupOwnerId: OWNER }] });
  assert.ok(await expect6((s) => pings6(netns(), nsOf('a1'), V6.c1, s), true), 'ping -6 a1 → c1 admitted by the echo-request rule');
  for (const [from, to] of [['a1', 'c1'], ['b1', 'c1'], ['a2', 'd1']] as const) {
    const d = await probe(from, to, 128);
    assert.ok(d.fenced, `${from} → ${to}: the fence (echo request) arrived`);
    assert.ok(received(d, V6[from], 128) > 0, `${from} → ${to}: echo requests (128) received (${JSON.stringify(d.counts)})`);
    assert.equal(received(d, V6[from], 139), 0, `${from} → ${to}: node information queries (139) dropped: the rule names type 128 only (${JSON.stringify(d.counts)})`);
  }
  await apply({ c: [{ protocol: 58, icmpType: 139, icmpCode: -1, groupId: SG_A, groupOwnerId: OWNER }] });
  const d = await probe('a1', 'c1', 139);
  assert.ok(d.fenced, 'the fence (a type 139 query) arrived: a rule for 139 admits it');
  assert.ok(received(d, V6.a1, 139) > 0, `type 139 admitted now (${JSON.stringify(d.counts)})`);
  assert.equal(received(d, V6.a1, 128), 0, `echo request (128) dropped now (${JSON.stringify(d.counts)})`);
  assert.equal(await expect6((s) => pings6(netns(), nsOf('a1'), V6.c1, s), false), false, 'ping -6 dropped now');
  await apply({ c: [] });
});

/**
 * The anti-spoofing tests open sg-a's ingress to every ICMPv6 message and to
 * udp 546-1546 from anywhere (link-local and foreign sources included: group sets
 * hold the members' global addresses only), so a forged frame that arrives
 * nowhere was stopped by the sender's port, not by the receiver's groups.
 */
const OPEN_V6: GniRule[] = [
  { protocol: 58, icmpType: -1, icmpCode: -1, cidr: '::/0' },
  { protocol: 17, fromPort: 546, toPort: 1546, cidr: '::/0' },
];

test('a spoofed IPv6 source (or MAC) from an instance is dropped on its port', async (t) => {
  if (!root(t)) return;
  await apply({ a: OPEN_V6 });
  for (const to of ['a2', 'b1'] as const) {
    const spoofed: Frame[] = [
      { kind: 'echo', srcMac: MAC.a1, dstMac: MAC[to], src: '2001:db8:10::99', dst: V6[to] },
      { kind: 'echo', srcMac: MAC.a1, dstMac: MAC[to], src: V6.c1, dst: V6[to] },
      { kind: 'echo', srcMac: MAC.a1, dstMac: MAC[to], src: to === 'b1' ? V6.a2 : V6.b1, dst: V6[to] },
      { kind: 'echo', srcMac: MAC.a1, dstMac: MAC[to], src: 'fe80::99', dst: LL[to] },
      { kind: 'echo', srcMac: MAC.a1, dstMac: MAC[to], src: '2001:db8:ffff::2', dst: V6[to] },
      // its own address from another MAC
      { kind: 'echo', srcMac: 'd0:0d:00:00:06:77', dstMac: MAC[to], src: V6.a1, dst: V6[to] },
    ];
    const d = await delivery(netns(), { ns: nsOf(to), dir: lab.dir, mode: 'icmp6' }, (tag) =>
      sendFrames(netns(), nsOf('a1'), { tag, frames: spoofed, fence: [fenceEcho('a1', to)] }),
    );
    assert.ok(d.fenced, `a1 → ${to}: the fence from a1's own address and MAC arrived (same group: admitted)`);
    assert.deepEqual(d.counts, {}, `a1 → ${to}: no spoofed frame arrived (${JSON.stringify(d.counts)})`);
  }
  // Control: the same crafted echo from a1's real global and link-local sources is received.
  const ok = await delivery(netns(), { ns: nsOf('a2'), dir: lab.dir, mode: 'icmp6' }, (tag) =>
    sendFrames(netns(), nsOf('a1'), {
      tag,
      frames: [fenceEcho('a1', 'a2'), { kind: 'echo', srcMac: MAC.a1, dstMac: MAC.a2, src: LL.a1, dst: LL.a2 }],
      fence: [fenceEcho('a1', 'a2')],
    }),
  );
  assert.ok(received(ok, V6.a1, 128) > 0 && received(ok, LL.a1, 128) > 0, `control: a1's own global and link-local sources pass (${JSON.stringify(ok.counts)})`);
});

test('a forged neighbour advertisement from an instance is dropped and does not overwrite the victim\'s entry', async (t) => {
  if (!root(t)) return;
  await apply({ a: OPEN_V6 });
  for (const victim of ['a2', 'b1'] as const) {
    // The victim knows c1 (another instance) at c1's MAC; a1 claims c1's address.
    const set = await lab.sh(nsOf(victim), ['ip', '-6', 'neigh', 'replace', V6.c1, 'lladdr', MAC.c1, 'dev', 'eth0', 'nud', 'stale']);
    assert.equal(set.code, 0, set.out);
    const forged: Frame[] = [
      { kind: 'na', srcMac: MAC.a1, dstMac: MAC[victim], src: LL.a1, dst: V6[victim], target: V6.c1, tlla: MAC.a1, override: true },
      { kind: 'na', srcMac: MAC.a1, dstMac: ALL_NODES_MAC, src: LL.a1, dst: 'ff02::1', target: V6.c1, tlla: MAC.a1, override: true },
      { kind: 'na', srcMac: MAC.a1, dstMac: MAC[victim], src: V6.a1, dst: V6[victim], target: V6.c1, tlla: MAC.a1, override: true, solicited: true },
    ];
    const d = await delivery(netns(), { ns: nsOf(victim), dir: lab.dir, mode: 'icmp6' }, (tag) =>
      sendFrames(netns(), nsOf('a1'), { tag, frames: forged, fence: [fenceEcho('a1', victim)] }),
    );
    assert.ok(d.fenced, `${victim}: the fence arrived`);
    assert.deepEqual(d.counts, {}, `${victim}: no forged advertisement arrived (${JSON.stringify(d.counts)})`);
    assert.equal(await neighbourMac(netns(), nsOf(victim), V6.c1), MAC.c1, `${victim} still maps c1's address to c1's MAC`);
  }
  // Control: the same frame for a1's own address is delivered and does overwrite a (bogus) entry.
  await lab.sh(nsOf('a2'), ['ip', '-6', 'neigh', 'replace', V6.a1, 'lladdr', '02:00:00:00:06:99', 'dev', 'eth0', 'nud', 'stale']);
  const ok = await delivery(netns(), { ns: nsOf('a2'), dir: lab.dir, mode: 'icmp6' }, (tag) =>
    sendFrames(netns(), nsOf('a1'), {
      tag,
      frames: [{ kind: 'na', srcMac: MAC.a1, dstMac: MAC.a2, src: LL.a1, dst: V6.a2, target: V6.a1, tlla: MAC.a1, override: true }],
      fence: [fenceEcho('a1', 'a2')],
    }),
  );
  assert.ok(received(ok, LL.a1, 136) > 0, `control: an advertisement for a1's own address arrives (${JSON.stringify(ok.counts)})`);
  assert.equal(await neighbourMac(netns(), nsOf('a2'), V6.a1), MAC.a1, 'control: and updates the entry (the frame shape works)');
});

test('a rogue router advertisement from an instance is dropped: no address from its prefix, no second default route', async (t) => {
  if (!root(t)) return;
  await apply({ a: OPEN_V6 });
  const rogue = (srcMac: string, src: string): Frame => ({ kind: 'ra', srcMac, dstMac: ALL_NODES_MAC, src, dst: 'ff02::1', prefix: ROGUE_PREFIX });
  for (const victim of ['a2', 'b1'] as const) {
    const d = await delivery(netns(), { ns: nsOf(victim), dir: lab.dir, mode: 'icmp6' }, (tag) =>
      sendFrames(netns(), nsOf('a1'), {
        tag,
        // from a1 itself (multicast and unicast), and from a1 posing as its node's router (br0's MAC and link-local)
        frames: [rogue(MAC.a1, LL.a1), rogue(brMac.n1!, brLinkLocal.n1!), { ...rogue(MAC.a1, LL.a1), dstMac: MAC[victim], dst: LL[victim] }],
        fence: [fenceEcho('a1', victim)],
      }),
    );
    assert.ok(d.fenced, `${victim}: the fence arrived`);
    assert.deepEqual(d.counts, {}, `${victim}: no rogue RA arrived (${JSON.stringify(d.counts)})`);
    const addrs = await globalAddresses(netns(), nsOf(victim), 'eth0', true);
    assert.deepEqual(addrs, [`${V6[victim]}/64`], `${victim}: no address from ${ROGUE_PREFIX}`);
    assert.deepEqual((await defaultRoutes6(netns(), nsOf(victim))).map((r) => r.gateway), [routerOf(victim)], `${victim}: one default route, its node`);
  }
  // Control: a harmless RA of the same shape (router lifetime 0, prefix neither on-link nor
  // autonomous, another link-local) from the node's own bridge reaches the instance.
  const ctl = await delivery(netns(), { ns: nsOf('a2'), dir: lab.dir, mode: 'icmp6' }, (tag) =>
    sendFrames(netns(), lab.node('n1').ns, {
      iface: 'br0',
      tag,
      frames: [{ kind: 'ra', srcMac: brMac.n1!, dstMac: ALL_NODES_MAC, src: 'fe80::6:99', dst: 'ff02::1', prefix: ROGUE_PREFIX, routerLifetime: 0, prefixFlags: 0 }],
      fence: [{ kind: 'echo', srcMac: brMac.n1!, dstMac: MAC.a2, src: brLinkLocal.n1!, dst: LL.a2 }],
    }),
  );
  assert.ok(received(ctl, 'fe80::6:99', 134) > 0, `control: an RA from the node's bridge MAC reaches a2 (${JSON.stringify(ctl.counts)})`);

  // A real radvd inside a1 advertising its own prefix.
  const conf = path.join(lab.dir, 'rogue-radvd.conf');
  await fs.writeFile(conf, `interface eth0 { AdvSendAdvert on; MinRtrAdvInterval 3; MaxRtrAdvInterval 4; prefix ${ROGUE_RADVD_PREFIX} { AdvOnLink on; AdvAutonomous on; }; RDNSS 2001:db8:77::53 { }; };\n`);
  const before = await snmp6(netns(), nsOf('a1'), 'Icmp6OutRouterAdvertisements');
  const radvd = netns().startIn(nsOf('a1'), ['radvd', '-C', conf, '-p', path.join(lab.dir, 'rogue-radvd.pid'), '-n', '-m', 'stderr'], { logFile: path.join(lab.dir, 'rogue-radvd.log') });
  try {
    await waitFor('the rogue radvd to send 3 RAs', async () => (await snmp6(netns(), nsOf('a1'), 'Icmp6OutRouterAdvertisements')) >= before + 3, 30_000, 250);
    for (const victim of ['a2', 'b1'] as const) {
      // A fence after the third rogue RA: everything before it had its chance.
      const d = await delivery(netns(), { ns: nsOf(victim), dir: lab.dir, mode: 'icmp6' }, (tag) => sendFrames(netns(), nsOf('a1'), { tag, frames: [], fence: [fenceEcho('a1', victim)] }));
      assert.ok(d.fenced, `${victim}: fence arrived`);
      assert.deepEqual(await globalAddresses(netns(), nsOf(victim), 'eth0', true), [`${V6[victim]}/64`], `${victim}: nothing from the rogue radvd's ${ROGUE_RADVD_PREFIX}`);
      assert.deepEqual((await defaultRoutes6(netns(), nsOf(victim))).map((r) => r.gateway), [routerOf(victim)], `${victim}: no second default route`);
      const ns6 = await lab.sh(nsOf(victim), ['ip', '-6', 'route', 'show']);
      assert.doesNotMatch(ns6.out, /2001:db8:77::/, `${victim}: no route to the rogue prefix`);
    }
    // Control: the RAs were real. a1's own kernel hears its radvd (multicast loop)
    // and configured the rogue prefix: the only place it exists.
    assert.ok((await globalAddresses(netns(), nsOf('a1'), 'eth0', true)).includes(`${v6Of(MAC.a1, ROGUE_RADVD_PREFIX)}/64`), 'control: a1 itself took the rogue prefix from its own radvd');
  } finally {
    radvd.kill('SIGKILL');
    await radvd.exited;
    // a1 would otherwise pick the rogue address as source for later tests (and be dropped as spoofing, rightly).
    await lab.sh(nsOf('a1'), ['ip', '-6', 'addr', 'flush', 'dev', 'eth0', 'to', ROGUE_RADVD_PREFIX]);
    await lab.sh(nsOf('a1'), ['ip', '-6', 'route', 'del', ROGUE_RADVD_PREFIX, 'dev', 'eth0']);
  }
});

test('rogue DHCPv6 server messages from an instance are dropped', async (t) => {
  if (!root(t)) return;
  await apply({ a: OPEN_V6 });
  for (const victim of ['a2', 'b1'] as const) {
    const udp = (over: Partial<Frame>): Frame => ({ kind: 'udp', srcMac: MAC.a1, dstMac: MAC[victim], src: LL.a1, dst: LL[victim], sport: 547, dport: 546, ...over });
    // The victim listens on the DHCPv6 client port 546 and, for the fence, on 1546.
    const d = await delivery(netns(), { ns: nsOf(victim), dir: lab.dir, mode: 'udp', port: 546, fencePort: 1546 }, (tag) =>
      sendFrames(netns(), nsOf('a1'), {
        tag,
        frames: [
          // what a DHCPv6 server sends a client: link-local to link-local, 547 → 546
          udp({}),
          udp({ src: V6.a1, dst: V6[victim] }),
          udp({ dstMac: ALL_NODES_MAC, dst: 'ff02::1' }),
          // from the server port to any port, and to the client port from any port
          udp({ src: V6.a1, dst: V6[victim], dport: 1546 }),
          udp({ sport: 1547 }),
        ],
        // The fence: neither the server port nor the client port.
        fence: [udp({ sport: 1547, dport: 1546 })],
      }),
    );
    assert.ok(d.fenced, `${victim}: the fence (udp 1547 → 1546) arrived: sg-a admits the path`);
    assert.deepEqual(d.counts, {}, `${victim}: nothing from port 547 or to port 546 arrived (${JSON.stringify(d.counts)})`);
  }
});

test('the public client reaches an instance\'s global IPv6 address only when a rule admits it; no NAT on the way out', async (t) => {
  if (!root(t)) return;
  const client = lab.topo.clientNs!;
  const reach = (v: Vm, port: number, want: boolean) => expect6((s) => tcpConnects(netns(), client, V6[v], port, s), want);
  try {
    // Each path in turn (the client routes the /64 via n1, then via n2): the
    // instance on the other node is reached over the lan either way.
    for (const via of [0, 1] as const) {
      await addLabIpv6(netns(), { nodeNs: [], clientNs: client }, { clientVia: via });
      const label = `via ${lab.nodes[via]!.short}`;
      await apply({ a: [] });
      assert.equal(await reach('a1', 80, false), false, `${label}: no rule: client → a1 dropped`);
      await apply({ a: [{ protocol: 6, fromPort: 80, toPort: 80, cidr: '0.0.0.0/0' }] });
      assert.equal(await reach('a1', 80, false), false, `${label}: an IPv4 0.0.0.0/0 rule admits no IPv6`);
      await apply({ a: [{ protocol: 6, fromPort: 80, toPort: 80, cidr: '::/0' }] });
      assert.ok(await reach('a1', 80, true), `${label}: ::/0 → client reaches a1 (n1)`);
      assert.ok(await reach('b1', 80, true), `${label}: ::/0 → client reaches b1 (n2)`);
      assert.equal(await reach('a1', 5432, false), false, `${label}: only the admitted port`);
      assert.equal(await reach('c1', 80, false), false, `${label}: c1 (sg-c) is not opened by sg-a's rule`);
      await apply({ a: [{ protocol: 6, fromPort: 80, toPort: 80, cidr: '2001:db8:ffff::/64' }] });
      assert.ok(await reach('b1', 80, true), `${label}: the client's /64 admitted`);
      await apply({ a: [{ protocol: 6, fromPort: 80, toPort: 80, cidr: '2001:db8:ffff::99/128' }] });
      assert.equal(await reach('b1', 80, false), false, `${label}: another /128 does not admit the client`);
    }
  } finally {
    await addLabIpv6(netns(), { nodeNs: [], clientNs: client }, { clientVia: 'ecmp' });
  }
  // Outgoing: the client sees the instance's own global address (no NAT for IPv6).
  const peers = path.join(lab.dir, 'client6.peers');
  const server = netns().startIn(client, [
    process.execPath,
    '-e',
    `process.on('uncaughtException', () => {}); require('node:net').createServer((s) => { s.on('error', () => {}); require('node:fs').appendFileSync(${JSON.stringify(peers)}, s.remoteAddress + '\\n'); s.end('ok\\n'); }).listen(${CLIENT_PORT}, '::')`,
  ]);
  try {
    await waitFor('the client\'s server to listen', async () => (await lab.sh(client, ['nc', '-z', '-n', '-w', '1', '::1', String(CLIENT_PORT)])).code === 0, 10_000, 100);
    for (const v of ['a1', 'b1'] as const) {
      if (await expect6((s) => tcpConnects(netns(), nsOf(v), LAB6.client, CLIENT_PORT, s), true)) continue;
      const diag = [
        await lab.sh(nsOf(v), ['ip', '-6', 'route']),
        await lab.sh(nsOf(v), ['ip', '-6', 'neigh']),
        await lab.sh(nsOf(v), ['ip', '-6', 'addr']),
        await lab.sh(lab.topo.clientNs!, ['ip', '-6', 'route']),
        await lab.sh(lab.topo.clientNs!, ['ip', '-6', 'neigh']),
        await lab.sh(lab.node('n1').ns, ['ip', '-6', 'neigh']),
        await lab.sh(lab.node('n1').ns, ['sysctl', 'net.ipv6.conf.all.forwarding']),
        await lab.sh(lab.node('n1').ns, ['conntrack', '-L', '-f', 'ipv6']),
      ].map((r) => r.out).join('\n---\n');
      assert.fail(`${v} → the client over IPv6 failed:\n${diag}`);
    }
    const seen = await waitFor('client peers', async () => {
      const text = await fs.readFile(peers, 'utf8').catch(() => '');
      return text.includes(V6.a1) && text.includes(V6.b1) ? text : undefined;
    }, 5000);
    assert.doesNotMatch(seen, /2001:db8:ffff::1[12]/, 'never a node address: no NAT');
  } finally {
    server.kill('SIGKILL');
  }
});

test('metadata over IPv6: [fd00:ec2::254] reaches the CLC\'s IPv6 address', async (t) => {
  if (!root(t)) return;
  await apply();
  const ctl = lab.topo.ctlNs!;
  const server = netns().startIn(ctl, [
    process.execPath,
    '-e',
    `require('node:http').createServer((q, s) => s.end('metadata6:' + q.url + ' from ' + q.socket.remoteAddress)).listen(8773, '::')`,
  ]);
  try {
    const body = await waitFor('metadata over IPv6', async () => {
      const r = await lab.sh(nsOf('b1'), ['curl', '-g', '-s', '-m', '2', 'http://[fd00:ec2::254]/latest/meta-data/'], 6000);
      return r.code === 0 && r.out.includes('metadata6:') ? r.out : undefined;
    }, 15_000, 500);
    assert.match(body, /metadata6:\/latest\/meta-data\//);
    assert.ok(body.includes(V6.b1), `the CLC sees the instance's own address: ${body}`);
  } finally {
    server.kill('SIGKILL');
  }
});

test('an instance whose rules do not exist yet has no IPv6 network', async (t) => {
  if (!root(t)) return;
  await apply({ a: OPEN_V6 });
  const n1 = lab.node('n1');
  const y1 = await lab.addInstance('n1', 'i-000006f1', 'd0:0d:00:00:06:41');
  try {
    // Its link came up (router solicitation sent); radvd advertises twice more.
    await radvdSends(n1, 2);
    assert.deepEqual(await globalAddresses(netns(), y1.ns, 'eth0', true), [], 'no address from the cluster prefix: RAs do not reach an unknown port');
    assert.deepEqual(await defaultRoutes6(netns(), y1.ns), [], 'no default route');
    const d = await delivery(netns(), { ns: nsOf('a2'), dir: lab.dir, mode: 'icmp6' }, async (tag) => {
      await sendFrames(netns(), y1.ns, { tag, frames: [{ kind: 'echo', srcMac: y1.mac, dstMac: MAC.a2, src: linkLocalOf(y1.mac), dst: LL.a2 }] });
      await sendFrames(netns(), nsOf('a1'), { tag, frames: [], fence: [fenceEcho('a1', 'a2')] });
    });
    assert.ok(d.fenced);
    assert.deepEqual(d.counts, {}, `nothing from the unknown port reached a2 (${JSON.stringify(d.counts)})`);
  } finally {
    await lab.topo.removeInstance(y1);
  }
});

test('removing an instance removes every IPv6 object of it', async (t) => {
  if (!root(t)) return;
  const n1 = lab.node('n1');
  await apply({ x1: true });
  const x1 = await lab.addInstance('n1', ID.x1, MAC.x1);
  const names = [ID.x1, SG_X, V6.x1, LL.x1];
  try {
    await waitFor('x1 to configure its address', async () => (await globalAddresses(netns(), x1.ns)).includes(`${V6.x1}/64`), 40_000, 250);
    assert.ok(await expect6((s) => pings6(netns(), nsOf('a1'), V6.x1, s), true), 'x1 is live: sg-a reaches it by the ICMPv6 rule');
    const live = await v6Dump(n1);
    for (const name of [ID.x1, SG_X, V6.x1]) assert.ok(live.includes(name), `while x1 runs, n1's IPv6 state mentions ${name}:\n${live}`);
    assert.ok(live.split('\n').some((l) => l.startsWith('ipset add') && l.includes(V6.x1)), `x1's address is a member of an inet6 set:\n${live}`);
  } finally {
    await lab.topo.removeInstance(x1);
  }
  await apply({ x1: false });
  for (const node of lab.nodes) {
    const left = await v6Dump(node);
    for (const name of names) {
      const lines = left.split('\n').filter((l) => l.includes(name));
      assert.deepEqual(lines, [], `${node.short}: nothing mentions ${name} after x1 left`);
    }
    assert.ok(!left.toLowerCase().includes(MAC.x1), `${node.short}: nothing mentions x1's MAC`);
  }
  assert.ok(await expect6((s) => pings6(netns(), nsOf('a1'), V6.a2, s), true), 'the others are untouched');
});

test('back to IPv4 only: radvd stops and every IPv6 object of netd goes; IPv4 keeps working', async (t) => {
  if (!root(t)) return;
  await apply();
  for (const n of lab.nodes) assert.equal((await radvdPids(n)).length, 1, `${n.short}: one radvd on a dual-stack cluster`);
  await apply({ ipv6: false });
  for (const n of lab.nodes) {
    await waitFor(`${n.short}'s radvd to stop`, async () => (await radvdPids(n)).length === 0, 15_000);
    const dump = await v6Dump(n);
    const ours = dump.split('\n').filter((l) => l.startsWith('ip6tables') && /EDGENET/.test(l));
    assert.deepEqual(ours, [], `${n.short}: no ip6tables chain or rule of netd`);
    const sets = dump.split('\n').filter((l) => l.startsWith('ipset create') && l.includes('family inet6'));
    assert.deepEqual(sets, [], `${n.short}: no inet6 set`);
    assert.doesNotMatch(dump, /^route6 2001:db8:10::\/64 dev br0/m, `${n.short}: the /64 is no longer routed on the bridge`);
  }
  assert.ok(await expect6((s) => tcpConnects(netns(), nsOf('a1'), IP.b1, 22, s), true), 'IPv4 between instances still flows');
});
