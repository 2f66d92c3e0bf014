/**
 * ROUTED instance ports on a real kernel (root): netd's sync (sync.ts
 * syncOnce, the real HostOps with every tool run in the node namespace, and
 * the sysctls read and written there by sysctl(8): this process is not in
 * that namespace, so /proc/sys would be the host's) applies a ROUTED
 * document rendered by netd itself, with two instances on this node joined
 * to it by veths `vn_<id>` (the kernel has no dummy type here), whose
 * instance sides are configured by hand as platform-notes §4 shows (what a
 * config drive says). Then:
 * - the node holds per port the host MAC, the gateway addresses, the /32 and
 *   /128 routes with our protocol and permanent neighbour entries;
 * - an instance pings both gateways (169.254.0.1, fe80::1) and the other
 *   instance in both families, routed through the node, while the group
 *   admits ICMP; a group without ICMP drops it;
 * - a second sync of the same document writes nothing;
 * - spoofed sources from an instance are dropped by EDGENET-SPOOF (counted):
 *   the other local instance's address and its elastic address, other
 *   addresses of 169.254.0.0/16 (169.254.0.2, 169.254.169.254; the gateway's
 *   169.254.0.1 is the node's own, a martian the kernel drops before
 *   netfilter), and IPv6 link-locals other than its own (fe80::1, the other
 *   instance's);
 * - an instance removed from the document: its port loses its routes,
 *   neighbours and gateway addresses (the other port keeps them);
 * - the cluster made IPv4-only with a fresh instance I3: its port (and I1's)
 *   gets disable_ipv6=1 and no IPv6 address, and I3 cannot open a TCP
 *   connection to a listener on the node over IPv6 link-local, while it can
 *   over IPv4 (the reviewer's tcp/8773 over the port's kernel link-local);
 * - `netd flush` (flush.ts) leaves no route, neighbour, address, chain or set of ours.
 * Namespaces `enrt-ra<pid>-*`, the listener (by PID), the state directory and the config drives are
 * removed in `after`, even on failure. The document carries no BGP settings,
 * so no BGP speaker is started (BIRD has its own tests).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { isRoot, requireRoot } from '../helpers/root.ts';
import { createExec } from '../../src/shared/exec.ts';
import { createSpawnerExec, type SpawnerExec } from '../../src/shared/spawner.ts';
import { waitFor } from '../../src/shared/wait.ts';
import { namespacedHost } from '../helpers/netns-host.ts';
import type { HostOps } from '../../src/netd/apply/host.ts';
import { syncOnce as netdSync } from '../../src/netd/sync.ts';
import { flushHost } from '../../src/netd/flush.ts';
import { DEFAULT_NETD_CONFIG, type NetdConfig } from '../../src/netd/config.ts';
import { netdNames } from '../../src/netd/names.ts';
import { serializeGni } from '../../src/shared/gni/codec.ts';
import { gniVersion } from '../../src/shared/gni/version.ts';
import type { GniDocument, GniSecurityGroup } from '../../src/shared/gni/model.ts';
import { BGP_EXTENSION } from '../../src/shared/gni/routed.ts';
import { groupIpv6Extension } from '../../src/shared/gni/ipv6.ts';
import { ROUTED_NODE, WEB_GROUP, eui64, routedDoc, type RoutedInstanceSpec } from '../helpers/routed-doc.ts';

const TAG = `enrt-ra${process.pid}`;
const NODE_NS = `${TAG}-n`;
const exec = createExec();
/** netd's side runs its commands as the daemon does: through the spawner's shell. */
let spawner: SpawnerExec | undefined;
let dir = '';
let sequence = 10;
let host: HostOps;
let config: NetdConfig;

// In different groups: members of one group always reach each other (EDGE's group semantics).
const I1 = { id: 'i-00000001', mac: 'd0:0d:00:00:01:01', ipv4: '10.50.0.11', ns: `${TAG}-i1`, group: WEB_GROUP.name };
const I2 = { id: 'i-00000002', mac: 'd0:0d:00:00:01:02', ipv4: '10.50.0.12', ns: `${TAG}-i2`, group: 'sg-0000000b', elastic: '10.60.0.3' as string | undefined };
/** Added in step 5, on the cluster made IPv4-only. */
const I3 = { id: 'i-00000003', mac: 'd0:0d:00:00:01:03', ipv4: '10.50.0.13', ns: `${TAG}-i3`, group: WEB_GROUP.name, elastic: undefined as string | undefined };
let listener: { pid: number; kill(): void } | undefined;

/** I2's group: ICMP (both families) from anywhere, or nothing. */
function groupB(icmp: boolean): GniSecurityGroup {
  return {
    name: I2.group, ownerId: '000000000001',
    ingressRules: icmp ? [{ protocol: 1, icmpType: -1, icmpCode: -1, cidr: '0.0.0.0/0' }] : [],
    ...(icmp ? { extensions: [groupIpv6Extension([{ protocol: 58, icmpType: -1, icmpCode: -1, cidr: '::/0' }])!] } : {}),
  };
}
const V6 = { [I1.id]: eui64(I1.mac), [I2.id]: eui64(I2.mac) };
const port = (id: string) => `vn_${id}`;

async function sh(ns: string, argv: readonly string[], ok: number[] = [0]): Promise<{ code: number; out: string }> {
  const r = await exec.run(['ip', 'netns', 'exec', ns, ...argv], { okExitCodes: ok, timeoutMs: 60_000 });
  return { code: r.exitCode, out: `${r.stdout}${r.stderr}` };
}
const json = async <T>(ns: string, argv: readonly string[]): Promise<T> => JSON.parse((await sh(ns, argv)).out || '[]') as T;

/** The document: these instances on the node, no BGP settings (no speaker); I2's group admits ICMP or not. */
async function publish(instances: readonly { id: string; mac: string; ipv4: string; group: string; elastic?: string | undefined }[], icmpToI2 = true, addressing: 'dual' | 'ipv4' = 'dual'): Promise<void> {
  const specs: RoutedInstanceSpec[] = instances.map((i) => ({
    id: i.id, mac: i.mac, ipv4: i.ipv4, ipv6: addressing === 'dual', groups: [i.group], ...(i.elastic === undefined ? {} : { elastic: i.elastic }),
  }));
  const doc = routedDoc({ instances: specs, addressing });
  const body: Omit<GniDocument, 'version' | 'sequence'> = {
    ...doc,
    configuration: {
      ...doc.configuration,
      clusters: doc.configuration.clusters.map((c) => ({ ...c, nodes: c.nodes.map((n) => ({ ...n, extensions: (n.extensions ?? []).filter((e) => e.name !== BGP_EXTENSION) })) })),
    },
    securityGroups: [WEB_GROUP, groupB(icmpToI2)],
  };
  sequence += 1;
  await fs.writeFile(path.join(dir, 'gni.xml'), serializeGni({ ...body, version: gniVersion(body), sequence }));
}

/** One sync of the published document (event syncs after the first, as the daemon does); returns the writes it issued. */
async function syncOnce(full = false): Promise<number> {
  const deps = { host, config, runDir: path.join(dir, 'run'), gniFile: path.join(dir, 'gni.xml'), configDriveDir: path.join(dir, 'config-drive'), now: () => Date.now(), wait: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) };
  const out = await netdSync(deps, { trigger: full ? 'start' : 'file', full });
  assert.equal(out.result, 'ok', out.error);
  return out.writes;
}

/** Packets dropped so far by the last rule of EDGENET-SPOOF (the DROP of a forged source). */
async function spoofDrops(family: 4 | 6): Promise<number> {
  const out = (await sh(NODE_NS, [family === 4 ? 'iptables' : 'ip6tables', '-w', '-nvxL', 'EDGENET-SPOOF'])).out.trim().split('\n');
  const last = out.at(-1)!.trim().split(/\s+/);
  assert.equal(last[2], 'DROP', out.join('\n'));
  return Number(last[0]);
}

/** One UDP datagram from `ns`, bound to `source` (an address of the namespace), to `target` port 9. */
async function sendUdp(ns: string, source: string, target: string): Promise<void> {
  const script = "const s=require('dgram').createSocket(process.argv[1]);s.bind({address:process.argv[2]},()=>s.send('x',9,process.argv[3],(e)=>{s.close();process.exit(e?1:0)}))";
  await sh(ns, [process.execPath, '-e', script, source.includes(':') ? 'udp6' : 'udp4', source, target]);
}

/**
 * I1 sends from `source` (put on one of its links for the moment, as a forging
 * guest would) to `target`: the datagram must be counted as a drop of
 * EDGENET-SPOOF (awaited, not slept for).
 */
async function assertSpoofDropped(source: string, target: string): Promise<void> {
  const v6 = source.includes(':');
  const dev = v6 ? 'eth0' : 'lo';
  await sh(I1.ns, ['ip', 'addr', 'add', `${source}/${v6 ? 128 : 32}`, 'dev', dev, ...(v6 ? ['nodad'] : [])]);
  try {
    const before = await spoofDrops(v6 ? 6 : 4);
    await sendUdp(I1.ns, v6 ? `${source}%eth0` : source, target);
    await waitFor(async () => (await spoofDrops(v6 ? 6 : 4)) > before, { timeoutMs: 5_000, intervalMs: 50, what: `a datagram from ${source} counted by EDGENET-SPOOF` });
  } finally {
    await sh(I1.ns, ['ip', 'addr', 'del', `${source}/${v6 ? 128 : 32}`, 'dev', dev], [0, 1, 2]);
  }
}

/** A TCP connection from `ns` to `host`:`port`: true when it opens within 3 s. */
async function connects(ns: string, host: string, port: number): Promise<boolean> {
  const script = "const s=require('net').connect({host:process.argv[1],port:Number(process.argv[2]),timeout:3000});s.on('connect',()=>process.exit(0));s.on('timeout',()=>process.exit(3));s.on('error',()=>process.exit(4))";
  return (await sh(ns, [process.execPath, '-e', script, host, String(port)], [0, 3, 4])).code === 0;
}

const ping = async (ns: string, target: string) => (await sh(ns, ['ping', '-n', '-c', '1', '-W', '1', target], [0, 1, 2])).code === 0;
const pings = (ns: string, target: string) => waitFor(() => ping(ns, target), { timeoutMs: 5_000, intervalMs: 100, what: `${ns} pings ${target}` });

interface JRoute { dst: string; dev: string }
interface JNeigh { dst: string; dev: string; lladdr?: string; state?: string[] }
const ourRoutes = async () => [...(await json<JRoute[]>(NODE_NS, ['ip', '-j', 'route', 'show', 'proto', '77'])), ...(await json<JRoute[]>(NODE_NS, ['ip', '-j', '-6', 'route', 'show', 'proto', '77']))].map((r) => `${r.dst} ${r.dev}`).sort();
const ourNeighbours = async () => (await json<JNeigh[]>(NODE_NS, ['ip', '-j', 'neigh', 'show', 'proto', '77'])).map((n) => `${n.dst} ${n.dev} ${n.lladdr} ${(n.state ?? []).join(',')}`).sort();
const portAddresses = async (dev: string) =>
  (await json<{ addr_info?: { local: string; prefixlen: number }[] }[]>(NODE_NS, ['ip', '-j', 'addr', 'show', 'dev', dev]))[0]?.addr_info?.map((a) => `${a.local}/${a.prefixlen}`).sort() ?? [];

before(async () => {
  if (!isRoot()) return;
  dir = await fs.mkdtemp(path.join(os.tmpdir(), `${TAG}-`));
  await fs.mkdir(path.join(dir, 'run'));
  config = { ...DEFAULT_NETD_CONFIG, nodeName: ROUTED_NODE, runDir: path.join(dir, 'run'), gniFile: path.join(dir, 'gni.xml') };
  spawner = createSpawnerExec({ dir: path.join(config.runDir, 'exec') });
  host = namespacedHost(spawner, NODE_NS);
  for (const ns of [NODE_NS, I1.ns, I2.ns, I3.ns]) {
    await exec.run(['ip', 'netns', 'add', ns]);
    await sh(ns, ['ip', 'link', 'set', 'lo', 'up']);
  }
  for (const i of [I1, I2, I3]) {
    // What the VM starter does: the port exists (down, its own MAC); netd does the rest.
    await exec.run(['ip', '-n', NODE_NS, 'link', 'add', port(i.id), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', i.ns]);
    // What the instance does from its config drive (platform-notes §4).
    const cmds = [
      ['sysctl', '-qw', 'net.ipv6.conf.eth0.accept_dad=0'],
      ['ip', 'link', 'set', 'eth0', 'address', i.mac],
      ['ip', 'link', 'set', 'eth0', 'up'],
      ['ip', 'addr', 'add', `${i.ipv4}/32`, 'dev', 'eth0'],
      ['ip', 'route', 'add', '169.254.0.1/32', 'dev', 'eth0', 'scope', 'link'],
      ['ip', 'route', 'add', 'default', 'via', '169.254.0.1', 'dev', 'eth0', 'onlink'],
      // I3 is an instance of the IPv4-only cluster (step 5): its drive says nothing of IPv6 (its eth0 keeps its own link-local).
      ...(V6[i.id] === undefined ? [] : [
        ['ip', 'addr', 'add', `${V6[i.id]}/128`, 'dev', 'eth0', 'nodad'],
        ['ip', '-6', 'route', 'add', 'default', 'via', 'fe80::1', 'dev', 'eth0'],
      ]),
    ];
    for (const c of cmds) await sh(i.ns, c);
  }
});

after(async () => {
  if (!isRoot()) return;
  listener?.kill();
  await spawner?.close();
  for (const ns of [NODE_NS, I1.ns, I2.ns, I3.ns]) await exec.run(['ip', 'netns', 'del', ns], { okExitCodes: [0, 1] });
  if (dir !== '') await fs.rm(dir, { recursive: true, force: true });
});

test('ROUTED ports on a real kernel: routes, neighbours, gateways; instances reach the gateways and each other through the node when the group admits it; converged re-sync writes nothing; removal withdraws; flush leaves nothing', async (t) => {
  if (!requireRoot(t, 'netd ROUTED apply integration')) return;

  // 1. Both instances on this node (the first sync of a daemon is a full one).
  await publish([I1, I2]);
  assert.ok((await syncOnce(true)) > 0);
  assert.ok(spawner?.mode === 'shell' && spawner.shellPid !== undefined, "netd's commands ran through the spawner's shell");
  assert.deepEqual(await ourRoutes(), [
    `${I1.ipv4} ${port(I1.id)}`, `${I2.ipv4} ${port(I2.id)}`, `${I2.elastic} ${port(I2.id)}`, `${V6[I1.id]} ${port(I1.id)}`, `${V6[I2.id]} ${port(I2.id)}`,
  ].sort());
  assert.deepEqual(await ourNeighbours(), [
    `${I1.ipv4} ${port(I1.id)} ${I1.mac} PERMANENT`, `${I2.ipv4} ${port(I2.id)} ${I2.mac} PERMANENT`, `${I2.elastic} ${port(I2.id)} ${I2.mac} PERMANENT`,
    `${V6[I1.id]} ${port(I1.id)} ${I1.mac} PERMANENT`, `${V6[I2.id]} ${port(I2.id)} ${I2.mac} PERMANENT`,
  ].sort());
  for (const i of [I1, I2]) {
    assert.deepEqual(await portAddresses(port(i.id)), ['169.254.0.1/32', 'fe80::1/64'], 'addr_gen_mode=1 before link-up: no kernel link-local');
    const link = (await json<{ address: string; flags: string[] }[]>(NODE_NS, ['ip', '-j', 'link', 'show', 'dev', port(i.id)]))[0]!;
    assert.equal(link.address, 'fe:ff:ff:ff:ff:ff');
    assert.ok(link.flags.includes('UP'));
    const sysctls = (await sh(NODE_NS, ['sysctl', '-n', `net.ipv4.conf.${port(i.id)}.proxy_arp`, `net.ipv6.conf.${port(i.id)}.addr_gen_mode`, `net.ipv6.conf.${port(i.id)}.forwarding`])).out;
    assert.deepEqual(sysctls.trim().split('\n'), ['1', '1', '1']);
  }
  await pings(I1.ns, '169.254.0.1');
  await pings(I1.ns, 'fe80::1%eth0');
  await pings(I1.ns, I2.ipv4);
  await pings(I1.ns, V6[I2.id]!);
  await pings(I2.ns, I1.ipv4);

  // 2. Converged: the same document again writes nothing (an event sync and a full one).
  assert.equal(await syncOnce(), 0, 'a converged node: zero writes');
  assert.equal(await syncOnce(true), 0, 'a converged node, full sync: zero writes');

  // 2b. Forged sources from I1 are dropped: the other local instance's address and its elastic
  // address, the gateway's address, IPv6 link-locals other than its own (the gateway's, I2's).
  await assertSpoofDropped(I2.ipv4, '169.254.0.1');
  await assertSpoofDropped(I2.elastic!, '169.254.0.1');
  // Other addresses of the instance-side link (the metadata address among them). The gateway's own
  // 169.254.0.1 never reaches netfilter: the node's routing drops a source that is one of its own
  // addresses (a martian, fib_validate_source) before FORWARD or INPUT.
  await assertSpoofDropped('169.254.0.2', '169.254.0.1');
  await assertSpoofDropped('169.254.169.254', I2.ipv4);
  await assertSpoofDropped('fe80::1', 'ff02::1%eth0');
  await assertSpoofDropped(eui64(I2.mac, 'fe80::/64'), 'ff02::1%eth0');
  await pings(I1.ns, I2.ipv4);
  await pings(I1.ns, 'fe80::1%eth0');

  // 3. I2's group stops admitting ICMP: I1 to I2 is dropped in both families.
  await publish([I1, I2], false);
  await syncOnce();
  assert.equal(await ping(I1.ns, I2.ipv4), false, 'no ICMP admitted (IPv4)');
  assert.equal(await ping(I1.ns, V6[I2.id]!), false, 'no ICMP admitted (IPv6)');

  // 4. I2 leaves the node: its port loses everything of ours, I1's keeps it.
  await publish([I1]);
  await syncOnce();
  assert.deepEqual(await ourRoutes(), [`${I1.ipv4} ${port(I1.id)}`, `${V6[I1.id]} ${port(I1.id)}`].sort());
  assert.deepEqual((await ourNeighbours()).map((n) => n.split(' ')[1]), [port(I1.id), port(I1.id)]);
  assert.deepEqual(await portAddresses(port(I2.id)), []);
  assert.deepEqual(await portAddresses(port(I1.id)), ['169.254.0.1/32', 'fe80::1/64']);
  await pings(I1.ns, '169.254.0.1');
  assert.equal(await ping(I1.ns, I2.ipv4), false, 'no route to the removed instance');

  // 5. The cluster becomes IPv4-only, a fresh instance I3 arrives: no IPv6 on the ports, none reaches the node over IPv6.
  await publish([I1, I3], true, 'ipv4');
  await syncOnce(true);
  for (const i of [I1, I3]) {
    assert.equal((await sh(NODE_NS, ['sysctl', '-n', `net.ipv6.conf.${port(i.id)}.disable_ipv6`])).out.trim(), '1', `${i.id}: IPv6 off on its port`);
    assert.deepEqual(await portAddresses(port(i.id)), ['169.254.0.1/32'], `${i.id}: no IPv6 address (no kernel link-local) on its port`);
  }
  listener = exec.start(['ip', 'netns', 'exec', NODE_NS, process.execPath, '-e', "require('net').createServer((c)=>c.end()).listen(7777,'::')"]);
  await waitFor(async () => (await sh(NODE_NS, ['ss', '-Hltn', 'sport = :7777'])).out.includes('7777'), { timeoutMs: 5_000, intervalMs: 50, what: 'the node listener' });
  await waitFor(() => connects(I3.ns, '169.254.0.1', 7777), { timeoutMs: 5_000, intervalMs: 100, what: 'I3 reaches the node over IPv4' });
  // The port's would-be kernel link-local (EUI-64 of fe:ff:ff:ff:ff:ff) and the dual-stack gateway.
  for (const target of ['fe80::fcff:ffff:feff:ffff%eth0', 'fe80::1%eth0']) {
    assert.equal(await connects(I3.ns, target, 7777), false, `I3 reaches nothing of the node over IPv6 (${target})`);
  }
  assert.equal(await syncOnce(), 0, 'converged');
  listener.kill();

  // 6. netd flush: nothing of ours left.
  await flushHost(host, { isOurs: netdNames(config.prefix).isOurs, runDir: path.join(dir, 'run'), publicInterface: '', pool: [], now: () => Date.now(), wait: async () => undefined });
  assert.deepEqual(await ourRoutes(), []);
  assert.deepEqual(await ourNeighbours(), []);
  for (const i of [I1, I2, I3]) assert.deepEqual(await portAddresses(port(i.id)), []);
  const saves = `${(await sh(NODE_NS, ['iptables-save'])).out}${(await sh(NODE_NS, ['ip6tables-save'])).out}${(await sh(NODE_NS, ['ipset', 'save'])).out}`;
  assert.doesNotMatch(saves, /EDGENET/);
});
