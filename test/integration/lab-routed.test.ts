/**
 * ROUTED end to end (issue 17), on one `lab up --mode routed` for the whole
 * file: the real pipeline (CLC → CC → NC → netd), BIRD on both nodes (netd's)
 * and on the upstream router (the lab's), instances configured from their
 * config drives.
 *
 * - the router learns each instance's /32 and /128 from the node it runs on,
 *   and nothing else; the nodes' only routes out are the defaults learned
 *   from the router;
 * - the client (behind the router) reaches instances by their routed
 *   addresses only where a group admits it, per family; instances on two
 *   nodes reach each other through the router; metadata answers in both
 *   families;
 * - a source an instance does not own is dropped (IPv4 and IPv6), with a
 *   control packet from its own address proving the path;
 * - a netd restart never withdraws a route (the router's kernel is sampled
 *   all along);
 * - terminating an instance withdraws its routes; re-created on the other
 *   node with the same addresses — the same IPv4 address (`privateIp`) and
 *   the same MAC (`mac`), so the same IPv6 address, the EUI-64 of the MAC —
 *   the router learns the same /32 and /128 from the new node only (the old
 *   routes from the old node are gone), and it is reachable there from the
 *   client in both families;
 * - IPv4-only and IPv6-only clusters (the property changed in place, after
 *   the dual-stack instances are gone): an instance of each gets only its
 *   family's address, route and reachability;
 * - after `netd flush` nothing of ours is left on the node.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { requireRoot, isRoot } from '../helpers/root.ts';
import { createExec } from '../../src/shared/exec.ts';
import { waitFor } from '../../src/shared/wait.ts';
import { labUp, waitForConvergedAfter } from '../../src/lab/up.ts';
import { labDown } from '../../src/lab/down.ts';
import { labApiFor, type ApiClient } from '../../src/lab/api.ts';
import { labVmAdd, labVmDel, labTopology } from '../../src/lab/vm.ts';
import { labPrefix, labRoutedNetworkConfiguration } from '../../src/lab/plan.ts';
import { teardownByPrefix, type Topology } from '../../src/lab/topology.ts';
import { readLabState, type LabState } from '../../src/lab/state.ts';
import { routerKernelRoutes, routerSessions, type RouterRoute } from '../../src/lab/router.ts';
import { labDaemonAction } from '../../src/lab/daemon-control.ts';
import { EDGENET_BIN } from '../../src/lab/daemons.ts';
import { mapLimit, probeExpecting, startServices, waitForServices } from '../../src/lab/probe.ts';
import type { InstanceView } from '../../src/cloud-controller/services/instances.ts';
import type { Service } from '../../src/lab/matrix.ts';
import { formatIpv6, parseIpv6 } from '../../src/shared/ip.ts';

const exec = createExec();
const name = `rt${randomBytes(3).toString('hex')}`;
const dir = path.join(os.tmpdir(), `edgenet-labrt-${name}`);
const log = (line: string) => process.env.EDGENET_TEST_VERBOSE && console.error(line);
const deps = { exec, env: process.env, log };
let state: LabState | undefined;
let api: ApiClient;
let topo: Topology;

type View = InstanceView & { ipv6?: string };
const v6text = (a: string) => formatIpv6(parseIpv6(a)!);
const hostRoutes = (v: View) => [...(v.privateIp ? [`${v.privateIp}/32`] : []), ...(v.ipv6 ? [`${v6text(v.ipv6)}/128`] : [])];
const nodeByShort = (s: string) => state!.plan.nodes.find((n) => n.short === s)!;

/** The router's learned routes as `prefix → node short name` (via the node's lan address of that family). */
async function learned(): Promise<Map<string, string>> {
  const routes = await routerKernelRoutes(state!.plan, deps);
  const by = (r: RouterRoute) => state!.plan.nodes.find((n) => (r.family === 'ipv4' ? n.mgmtIp === r.via : n.mgmtIpv6 !== undefined && v6text(n.mgmtIpv6) === v6text(r.via)))?.short ?? `?${r.via}`;
  return new Map(routes.map((r) => [r.prefix, by(r)]));
}

/** Waits until the router's learned routes are exactly `want` (prefix → node). */
async function routerLearns(want: ReadonlyMap<string, string>, what: string): Promise<void> {
  let seen = new Map<string, string>();
  try {
    await waitFor(async () => {
      seen = await learned();
      return seen.size === want.size && [...want].every(([p, n]) => seen.get(p) === n) ? true : undefined;
    }, { timeoutMs: 20_000, intervalMs: 100, what });
  } catch (err) {
    assert.deepEqual(Object.fromEntries(seen), Object.fromEntries(want), `${what}: ${(err as Error).message}`);
  }
}

async function run(node: string, groups: string[], extra: Record<string, unknown> = {}): Promise<View> {
  return api.request<View>('POST', '/v1/instances', { cluster: state!.plan.cluster, node: nodeByShort(node).name, groups, ...extra });
}

async function attach(v: View): Promise<void> {
  const r = await labVmAdd(state!, api, { id: v.id, timeoutMs: 60_000 }, deps);
  startServices(topo.netns, r.instance.ns, { name: v.id, tcpPorts: [80, 5432] });
  await waitForServices(topo.netns, r.instance.ns, [80, 5432]);
}

async function terminate(v: View): Promise<void> {
  const at = Date.now();
  await api.request('DELETE', `/v1/instances/${v.id}`);
  await labVmDel(state!, v.id, deps);
  await waitForConvergedAfter(api, at, { timeoutMs: 30_000 });
}

const TCP = (port: number): Service => ({ proto: 'tcp', port });

before(async () => {
  if (!isRoot()) return;
  state = await labUp({ name, dir, mode: 'routed', convergeTimeoutMs: 120_000 }, deps);
  api = labApiFor(state);
  topo = labTopology(state, deps);
});

after(async () => {
  if (!isRoot()) return;
  await labDown({ name, dir }, deps).catch(() => undefined);
  await teardownByPrefix(labPrefix(name), { exec }).catch(() => undefined);
  await fs.rm(dir, { recursive: true, force: true });
});

let web: View; // on n1, group web
let db: View; // on n2, group db

test('ROUTED lab: the router peers with both nodes per family; the nodes route out only by the defaults they learned', { timeout: 60_000 }, async (t) => {
  if (!requireRoot(t) || !state) return;
  const sessions = await routerSessions(state.plan, deps);
  assert.deepEqual(sessions.map((s) => `${s.node}/${s.family}/${s.established}`).sort(), ['n1/ipv4/true', 'n1/ipv6/true', 'n2/ipv4/true', 'n2/ipv6/true']);
  for (const n of state.plan.nodes) {
    const v4 = (await topo.netns.execIn(topo.nodeNs(n.short), ['ip', '-4', 'route', 'show', 'default'])).stdout;
    const v6 = (await topo.netns.execIn(topo.nodeNs(n.short), ['ip', '-6', 'route', 'show', 'default'])).stdout;
    assert.match(v4, /^default via 172\.31\.0\.1 dev priv0 proto bird/m, `${n.short}: ${v4}`);
    assert.match(v6, /^default via fd00:172:31::1 dev priv0 proto bird/m, `${n.short}: ${v6}`);
    // No bridge on a ROUTED node.
    assert.equal((await topo.netns.execIn(topo.nodeNs(n.short), ['ip', '-o', 'link', 'show', 'type', 'bridge'])).stdout.trim(), '');
  }
  // Nothing learned yet: no instance.
  await routerLearns(new Map(), 'no instance, no route');
  // The router has no way out: no default route in its kernel.
  assert.equal((await topo.netns.execIn(topo.routerNs!, ['ip', 'route', 'show', 'default'])).stdout.trim(), '');
});

test('the router learns each instance\'s /32 and /128 from its node and nothing else; instances configure themselves from their drives', { timeout: 90_000 }, async (t) => {
  if (!requireRoot(t) || !state) return;
  await api.request('POST', '/v1/groups', { name: 'web', description: 'web' });
  await api.request('POST', '/v1/groups', { name: 'db', description: 'db' });
  // IPv4 only from anywhere to web:80 (the IPv6 client is refused: per family); db:5432 from group web (both families).
  await api.request('POST', '/v1/groups/web/authorize', { protocol: 'tcp', port: '80', cidr: '0.0.0.0/0' });
  await api.request('POST', '/v1/groups/db/authorize', { protocol: 'tcp', port: '5432', sourceGroup: 'web' });
  web = await run('n1', ['web']);
  db = await run('n2', ['db']);
  assert.ok(web.privateIp && web.ipv6 && db.privateIp && db.ipv6, 'dual-stack instances have both addresses');
  await Promise.all([attach(web), attach(db)]);
  const want = new Map([...hostRoutes(web).map((p) => [p, 'n1'] as const), ...hostRoutes(db).map((p) => [p, 'n2'] as const)]);
  await routerLearns(want, 'the instances\' host routes from their nodes');
  // BIRD's own table agrees, and no route from a node was filtered (nodes announce nothing else).
  const filtered = (await topo.netns.execIn(topo.routerNs!, ['birdc', '-s', state.plan.routed!.router.ctl, 'show', 'route', 'filtered'])).stdout;
  assert.doesNotMatch(filtered, /\/\d+\s+unicast/, filtered);
  // The instance holds exactly its drive's addresses, routes via the gateways.
  const ns = topo.instanceNs(web.id);
  const addrs = (await topo.netns.execIn(ns, ['ip', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'global'])).stdout;
  assert.match(addrs, new RegExp(`inet ${web.privateIp!.replaceAll('.', '\\.')}/32 `));
  assert.match(addrs, new RegExp(`inet6 ${v6text(web.ipv6!)}/128 `));
  assert.match((await topo.netns.execIn(ns, ['ip', '-4', 'route', 'show', 'default'])).stdout, /default via 169\.254\.0\.1 dev eth0 onlink/);
  assert.match((await topo.netns.execIn(ns, ['ip', '-6', 'route', 'show', 'default'])).stdout, /default via fe80::1 dev eth0/);
  // Metadata in both families (instance → node DNAT → CLC, the reply back through the router).
  const meta4 = await topo.netns.execIn(ns, ['curl', '-s', '-m', '5', 'http://169.254.169.254/latest/meta-data/instance-id']);
  assert.equal(meta4.stdout.trim(), web.id);
  const meta6 = await topo.netns.execIn(ns, ['curl', '-g', '-s', '-m', '5', 'http://[fd00:ec2::254]/latest/meta-data/ipv6']);
  assert.equal(v6text(meta6.stdout.trim()), v6text(web.ipv6!));
});

test('the client reaches instances only where a group admits it, per family; instances on two nodes reach each other through the router', { timeout: 90_000 }, async (t) => {
  if (!requireRoot(t) || !state || !web) return;
  const cl = topo.clientNs!;
  const cases: { from: string; label: string; ip: string; service: Service; expected: 'allowed' | 'blocked' }[] = [
    { from: cl, label: 'client → web:80 IPv4 (0.0.0.0/0)', ip: web.privateIp!, service: TCP(80), expected: 'allowed' },
    { from: cl, label: 'client → web:80 IPv6 (no ::/0 rule)', ip: web.ipv6!, service: TCP(80), expected: 'blocked' },
    { from: cl, label: 'client → db:5432 IPv4', ip: db.privateIp!, service: TCP(5432), expected: 'blocked' },
    { from: cl, label: 'client → db:5432 IPv6', ip: db.ipv6!, service: TCP(5432), expected: 'blocked' },
    { from: topo.instanceNs(web.id), label: 'web (n1) → db (n2):5432 IPv4 (group web)', ip: db.privateIp!, service: TCP(5432), expected: 'allowed' },
    { from: topo.instanceNs(web.id), label: 'web (n1) → db (n2):5432 IPv6 (group web)', ip: db.ipv6!, service: TCP(5432), expected: 'allowed' },
    { from: topo.instanceNs(db.id), label: 'db (n2) → web (n1):80 IPv4', ip: web.privateIp!, service: TCP(80), expected: 'allowed' },
    { from: topo.instanceNs(db.id), label: 'db (n2) → web (n1):80 IPv6', ip: web.ipv6!, service: TCP(80), expected: 'blocked' },
  ];
  const seen = await mapLimit(cases, 8, (c) => probeExpecting(topo.netns, { from: c.from, ip: c.ip, service: c.service }, c.expected));
  assert.deepEqual(cases.map((c, i) => `${c.label}: ${seen[i]}`), cases.map((c) => `${c.label}: ${c.expected}`));
  // Between nodes, through the router: n1 has no route of its own to db, only the default learned from the router.
  for (const ip of [db.privateIp!, db.ipv6!]) {
    const got = (await topo.netns.execIn(topo.nodeNs('n1'), ['ip', 'route', 'get', ip])).stdout;
    assert.match(got, /via (172\.31\.0\.1|fd00:172:31::1) dev priv0/, got);
  }
});

/** Counts UDP datagrams per source at `listen` in `ns` until the fence (sent last from the legitimate source) arrives. */
async function spoofDelivery(o: { fromNs: string; spoofed: string; legit: string; to: string; port: number }): Promise<Record<string, number>> {
  const listener = `import json, socket, sys
fam = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM); s.bind((sys.argv[1], int(sys.argv[2]))); s.settimeout(10)
n = {}
try:
    while True:
        data, addr = s.recvfrom(100)
        n[addr[0]] = n.get(addr[0], 0) + 1
        if data == b'fence': break
except socket.timeout: pass
print(json.dumps(n))`;
  const sender = `import socket, sys
fam = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET
def send(src, data):
    s = socket.socket(fam, socket.SOCK_DGRAM); s.bind((src, 0)); s.sendto(data, (sys.argv[3], int(sys.argv[4]))); s.close()
for _ in range(3): send(sys.argv[1], b'spoofed')
send(sys.argv[2], b'fence')`;
  const heard = topo.netns.execIn(topo.clientNs!, ['/usr/bin/python3', '-c', listener, o.to, String(o.port)], { timeoutMs: 20_000 });
  await waitFor(async () => (await topo.netns.execIn(topo.clientNs!, ['ss', '-Hlun', 'sport', `= :${o.port}`])).stdout.trim() !== '' || undefined, { timeoutMs: 5000, intervalMs: 50, what: 'the UDP listener' });
  await topo.netns.execIn(o.fromNs, ['/usr/bin/python3', '-c', sender, o.spoofed, o.legit, o.to, String(o.port)], { timeoutMs: 10_000 });
  return JSON.parse((await heard).stdout.trim()) as Record<string, number>;
}

test('a source the instance does not own is dropped (IPv4 and IPv6); its own address passes (control)', { timeout: 60_000 }, async (t) => {
  if (!requireRoot(t) || !state || !web) return;
  const ns = topo.instanceNs(web.id);
  // A foreign address inside the pool / the /64, added by the "guest" itself.
  await topo.netns.execIn(ns, ['ip', 'addr', 'add', '10.50.0.99/32', 'dev', 'eth0']);
  await topo.netns.execIn(ns, ['ip', 'addr', 'add', '2001:db8:50::99/128', 'dev', 'eth0', 'nodad']);
  // The drops are netd's anti-spoofing (not, say, reverse-path filtering): its DROP counters on n1 grow by the spoofed packets.
  const drops = async (tool: string) => {
    const text = (await topo.netns.execIn(topo.nodeNs('n1'), [tool, '-t', 'filter', '-L', 'EDGENET-SPOOF', '-v', '-x', '-n'])).stdout;
    return text.split('\n').filter((l) => /\sDROP\s/.test(l)).reduce((sum, l) => sum + Number(l.trim().split(/\s+/)[0]), 0);
  };
  const before4 = await drops('iptables');
  const before6 = await drops('ip6tables');
  try {
    const v4 = await spoofDelivery({ fromNs: ns, spoofed: '10.50.0.99', legit: web.privateIp!, to: state.plan.clientIp, port: 7001 });
    assert.deepEqual(v4, { [web.privateIp!]: 1 }, 'IPv4: only the fence from the own address arrives');
    const v6 = await spoofDelivery({ fromNs: ns, spoofed: '2001:db8:50::99', legit: v6text(web.ipv6!), to: state.plan.ipv6!.clientIp, port: 7002 });
    assert.deepEqual(Object.fromEntries(Object.entries(v6).map(([k, n]) => [v6text(k), n])), { [v6text(web.ipv6!)]: 1 }, 'IPv6: only the fence from the own address arrives');
    assert.ok((await drops('iptables')) - before4 >= 3, 'iptables EDGENET-SPOOF dropped the spoofed IPv4 packets');
    assert.ok((await drops('ip6tables')) - before6 >= 3, 'ip6tables EDGENET-SPOOF dropped the spoofed IPv6 packets');
  } finally {
    await topo.netns.execIn(ns, ['ip', 'addr', 'del', '10.50.0.99/32', 'dev', 'eth0']).catch(() => undefined);
    await topo.netns.execIn(ns, ['ip', 'addr', 'del', '2001:db8:50::99/128', 'dev', 'eth0']).catch(() => undefined);
  }
});

test('a netd restart does not withdraw a route (the router\'s kernel sampled throughout)', { timeout: 60_000 }, async (t) => {
  if (!requireRoot(t) || !state || !web) return;
  const want = hostRoutes(web);
  let sampling = true;
  let samples = 0;
  const missing: string[] = [];
  const sampler = (async () => {
    while (sampling) {
      const now = await learned();
      samples++;
      for (const p of want) if (now.get(p) !== 'n1') missing.push(`${p} at sample ${samples}`);
    }
  })();
  const r = await labDaemonAction(state, { action: 'restart', role: 'netd', node: 'n1' }, { exec });
  state = (await readLabState(state.plan.stateFile))!;
  // Until the new netd has synced (it adopts the running BIRD): a status written after the restart.
  const restartedAt = Date.parse(r.at);
  await waitFor(async () => {
    const text = await fs.readFile(path.join(nodeByShort('n1').runDir, 'netd-status.json'), 'utf8').catch(() => '');
    const s = text ? (JSON.parse(text) as { at?: string; result?: string }) : undefined;
    return Date.parse(s?.at ?? '') > restartedAt && s?.result === 'ok' ? true : undefined;
  }, { timeoutMs: 30_000, intervalMs: 100, what: 'the restarted netd to sync' });
  sampling = false;
  await sampler;
  assert.ok(samples > 5, `sampled ${samples} times`);
  assert.deepEqual(missing, [], 'no route of web was ever missing from the router');
  assert.ok(r.pid !== undefined && r.pid !== r.previousPid);
});

test('terminating withdraws the routes; re-created on the other node with the same IPv4 address and MAC (so the same IPv6 address) it is reachable there in both families and the old routes are gone', { timeout: 90_000 }, async (t) => {
  if (!requireRoot(t) || !state || !web) return;
  const old = web;
  const n1 = nodeByShort('n1');
  const n2 = nodeByShort('n2');
  await terminate(old);
  await routerLearns(new Map(hostRoutes(db).map((p) => [p, 'n2'] as const)), 'web\'s routes withdrawn');
  // The client may reach web:80 over IPv6 too from now on (so both families can be probed on the new node).
  await api.request('POST', '/v1/groups/web/authorize', { protocol: 'tcp', port: '80', cidr: `${state.plan.ipv6!.clientIp}/128` });
  // Same IPv4 address and MAC, on n2 now (the IPv4 release is held until every node applied a document without it: converged above).
  web = await run('n2', ['web'], { privateIp: old.privateIp, mac: old.mac });
  assert.notEqual(web.id, old.id);
  assert.equal(web.node, n2.name);
  assert.equal(web.privateIp, old.privateIp);
  assert.equal(web.mac, old.mac);
  assert.equal(v6text(web.ipv6!), v6text(old.ipv6!), 'the same MAC, the same EUI-64 address');
  assert.deepEqual(hostRoutes(web), hostRoutes(old));
  await attach(web);
  await routerLearns(new Map([...hostRoutes(db), ...hostRoutes(web)].map((p) => [p, 'n2'] as const)), 'web\'s /32 and /128 from n2');
  // In the router's kernel each of web's prefixes is one route, via n2's address of its family; none via n1.
  const routes = await routerKernelRoutes(state.plan, deps);
  for (const prefix of hostRoutes(web)) {
    const vias = routes.filter((r) => r.prefix === prefix).map((r) => (r.family === 'ipv4' ? r.via : v6text(r.via)));
    assert.deepEqual(vias, [prefix.includes(':') ? v6text(n2.mgmtIpv6!) : n2.mgmtIp], prefix);
  }
  const viaN1 = new Set([n1.mgmtIp, ...(n1.mgmtIpv6 ? [v6text(n1.mgmtIpv6)] : [])]);
  assert.deepEqual(routes.filter((r) => viaN1.has(r.family === 'ipv4' ? r.via : v6text(r.via))), [], 'n1 announces nothing');
  // Reachable on n2 from the client in both families (through the router), and the group still filters.
  const cl = topo.clientNs!;
  assert.equal(await probeExpecting(topo.netns, { from: cl, ip: web.privateIp!, service: TCP(80) }, 'allowed'), 'allowed', 'IPv4 tcp/80');
  assert.equal(await probeExpecting(topo.netns, { from: cl, ip: web.ipv6!, service: TCP(80) }, 'allowed'), 'allowed', 'IPv6 tcp/80');
  assert.equal(await probeExpecting(topo.netns, { from: cl, ip: web.privateIp!, service: { proto: 'icmp' } }, 'blocked'), 'blocked', 'IPv4 icmp (no rule)');
  assert.equal(await probeExpecting(topo.netns, { from: cl, ip: web.ipv6!, service: TCP(5432) }, 'blocked'), 'blocked', 'IPv6 tcp/5432 (no rule)');
  // The instance configured itself from its drive on n2 with the same addresses.
  const addrs = (await topo.netns.execIn(topo.instanceNs(web.id), ['ip', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'global'])).stdout;
  assert.match(addrs, new RegExp(`inet ${web.privateIp!.replaceAll('.', '\\.')}/32 `));
  assert.match(addrs, new RegExp(`inet6 ${v6text(web.ipv6!)}/128 `));
});

async function switchAddressing(addressing: 'ipv4' | 'ipv6'): Promise<void> {
  const config = labRoutedNetworkConfiguration(state!.plan) as { Clusters: Record<string, unknown>[] };
  const cluster = config.Clusters[0]!;
  if (addressing === 'ipv4') delete cluster.Ipv6Prefix;
  else delete cluster.Ipv4Pool;
  const at = Date.now();
  await api.request('PUT', '/v1/properties/cloud.network.network_configuration', { value: JSON.stringify(config) });
  await waitForConvergedAfter(api, at, { timeoutMs: 30_000 });
}

test('IPv4-only and IPv6-only clusters: each instance gets only its family (address, route, reachability)', { timeout: 120_000 }, async (t) => {
  if (!requireRoot(t) || !state || !web) return;
  await terminate(web);
  await terminate(db);
  await routerLearns(new Map(), 'every route withdrawn');
  await api.request('POST', '/v1/groups/web/authorize', { protocol: 'icmp', icmp: '-1:-1', cidr: '0.0.0.0/0' });
  await api.request('POST', '/v1/groups/web/authorize', { protocol: 'icmpv6', icmp: '128:-1', cidr: '::/0' });

  await switchAddressing('ipv4');
  const v4 = await run('n1', ['web']);
  assert.ok(v4.privateIp && !v4.ipv6, JSON.stringify(v4));
  await attach(v4);
  await routerLearns(new Map([[`${v4.privateIp}/32`, 'n1']]), 'the IPv4-only instance: a /32 only');
  assert.equal(await probeExpecting(topo.netns, { from: topo.clientNs!, ip: v4.privateIp!, service: { proto: 'icmp' } }, 'allowed'), 'allowed');
  const ns4 = topo.instanceNs(v4.id);
  assert.doesNotMatch((await topo.netns.execIn(ns4, ['ip', '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'global'])).stdout, /inet6/);
  assert.equal((await topo.netns.execIn(ns4, ['ip', '-6', 'route', 'show', 'default'])).stdout.trim(), '');
  await terminate(v4);
  await routerLearns(new Map(), 'the IPv4-only instance withdrawn');

  await switchAddressing('ipv6');
  const v6 = await run('n2', ['web']);
  assert.ok(!v6.privateIp && v6.ipv6, JSON.stringify(v6));
  await attach(v6);
  await routerLearns(new Map([[`${v6text(v6.ipv6!)}/128`, 'n2']]), 'the IPv6-only instance: a /128 only');
  assert.equal(await probeExpecting(topo.netns, { from: topo.clientNs!, ip: v6.ipv6!, service: { proto: 'icmp' } }, 'allowed'), 'allowed');
  const ns6 = topo.instanceNs(v6.id);
  assert.doesNotMatch((await topo.netns.execIn(ns6, ['ip', '-4', 'addr', 'show', 'dev', 'eth0'])).stdout, /inet /);
  assert.equal((await topo.netns.execIn(ns6, ['ip', '-4', 'route', 'show', 'default'])).stdout.trim(), '');
  const meta6 = await topo.netns.execIn(ns6, ['curl', '-g', '-s', '-m', '5', 'http://[fd00:ec2::254]/latest/meta-data/instance-id']);
  assert.equal(meta6.stdout.trim(), v6.id);
});

test('after netd flush nothing of ours is left on the node', { timeout: 60_000 }, async (t) => {
  if (!requireRoot(t) || !state) return;
  // n2 holds the IPv6-only instance: routes, neighbours, addresses on its port, chains, sets, BIRD, a drive.
  const node = nodeByShort('n2');
  const ns = topo.nodeNs('n2');
  await labDaemonAction(state, { action: 'stop', role: 'netd', node: 'n2' }, { exec });
  state = (await readLabState(state.plan.stateFile))!;
  const env = { ...process.env, EDGENET_STATE_DIR: node.stateDir!, EDGENET_RUN_DIR: node.runDir };
  const flushed = await exec.run(['ip', 'netns', 'exec', ns, process.execPath, EDGENET_BIN, 'netd', 'flush', '--config', node.netdConfFile, '--config-drives'], { env, timeoutMs: 60_000 });
  assert.match(flushed.stdout, /./);
  const sh = async (argv: string[]) => (await topo.netns.execIn(ns, argv)).stdout;
  assert.doesNotMatch(await sh(['iptables-save']), /EDGENET/);
  assert.doesNotMatch(await sh(['ip6tables-save']), /EDGENET/);
  assert.doesNotMatch(await sh(['ipset', 'list', '-n']), /EDGENET/);
  assert.equal((await sh(['ip', '-4', 'route', 'show', 'proto', '77'])).trim(), '');
  assert.equal((await sh(['ip', '-6', 'route', 'show', 'proto', '77'])).trim(), '');
  assert.doesNotMatch(await sh(['ip', 'neigh', 'show', 'nud', 'permanent']), /./);
  assert.doesNotMatch(await sh(['ip', '-6', 'neigh', 'show', 'nud', 'permanent']), /./);
  // BIRD is gone from the node (its default routes with it), and no address of ours stays on the port.
  assert.equal((await sh(['ip', 'route', 'show', 'proto', 'bird'])).trim(), '');
  const pids = (await exec.run(['ip', 'netns', 'pids', ns])).stdout.split(/\s+/).filter(Boolean);
  for (const pid of pids) assert.doesNotMatch(await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => ''), /^\/usr\/sbin\/bird|\bbird\0/);
  for (const line of (await sh(['ip', '-o', 'addr', 'show'])).split('\n').filter((l) => /vn_/.test(l))) assert.match(line, /inet6 fe80::/, `an address of ours on a port: ${line}`);
  assert.deepEqual(await fs.readdir(path.join(node.stateDir!, 'config-drive')).catch(() => []), []);
  // The router sees the node go: n2's sessions are down, its routes withdrawn.
  await routerLearns(new Map(), 'n2 announces nothing after the flush');
});
