/**
 * netd's `ip` reads on a real kernel (root), in scratch namespaces
 * `edgenet_hr<pid>_*` (removed in `after`, even on failure):
 * - `HostOps.hostReads` reads, in ONE process, the links with their
 *   addresses of both families, the main-table routes of both families and
 *   the neighbour entries carrying our protocol; a route of our protocol in
 *   another table, and routes and neighbours of other protocols, are left out;
 * - the processes an event sync spawns, counted at the Exec seam (sysctl(8)
 *   is left out: the namespaced host's stand-in for /proc/sys), for an EDGE
 *   node (IPv4-only, sets created and refilled) and a ROUTED node (dual-stack,
 *   an instance added): one `ip` read each, and one `ipset restore` for the
 *   sets created and refilled together.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { isRoot, requireRoot } from '../helpers/root.ts';
import { createExec, type Exec } from '../../src/shared/exec.ts';
import { namespacedHost } from '../helpers/netns-host.ts';
import { syncOnce } from '../../src/netd/sync.ts';
import { DEFAULT_NETD_CONFIG, type NetdConfig } from '../../src/netd/config.ts';
import { serializeGni } from '../../src/shared/gni/codec.ts';
import { gniVersion } from '../../src/shared/gni/version.ts';
import type { GniDocument } from '../../src/shared/gni/model.ts';
import { BGP_EXTENSION } from '../../src/shared/gni/routed.ts';
import { group, inst, testGniXml, type TestCloud } from '../helpers/fake-host.ts';
import { ROUTED_NODE, routedDoc, type RoutedInstanceSpec } from '../helpers/routed-doc.ts';

const TAG = `edgenet_hr${process.pid}`;
const READ_NS = `${TAG}_r`;
const EDGE_NS = `${TAG}_e`;
const ROUTED_NS = `${TAG}_o`;
const exec = createExec();
let dir = '';

/** Every command run through `inner`, as argv (the `ip netns exec NS` prefix taken off). */
function counting(inner: Exec): { exec: Exec; calls: string[][] } {
  const calls: string[][] = [];
  const strip = (argv: readonly string[]) => (argv[0] === 'ip' && argv[1] === 'netns' && argv[2] === 'exec' ? argv.slice(4) : [...argv]);
  return {
    calls,
    exec: {
      run: (argv, options) => {
        calls.push(strip(argv));
        return inner.run(argv, options);
      },
      start: (argv, options) => {
        calls.push(strip(argv));
        return inner.start(argv, options);
      },
    },
  };
}

async function sh(ns: string, argv: readonly string[]): Promise<string> {
  return (await exec.run(['ip', 'netns', 'exec', ns, ...argv], { timeoutMs: 60_000 })).stdout;
}

/** Commands of a sync as `tool subcommand…` text, sysctl(8) left out (the real host reads /proc/sys). */
const spawned = (calls: readonly string[][]) => calls.filter((c) => c[0] !== 'sysctl').map((c) => c.slice(0, c[0] === 'ip' ? 5 : 2).join(' '));

before(async () => {
  if (!isRoot()) return;
  dir = await fs.mkdtemp(path.join(os.tmpdir(), `${TAG}-`));
  for (const ns of [READ_NS, EDGE_NS, ROUTED_NS]) {
    await exec.run(['ip', 'netns', 'add', ns]);
    await sh(ns, ['ip', 'link', 'set', 'lo', 'up']);
  }
});

after(async () => {
  if (!isRoot()) return;
  // The dhcpd netd started for the EDGE node: ours when its command line names our run directory.
  const pid = Number((await fs.readFile(path.join(dir, 'edge', 'netd', 'dhcpd.pid'), 'utf8').catch(() => '')).trim());
  if (pid > 0 && (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).includes(path.join(dir, 'edge'))) process.kill(pid, 'SIGTERM');
  for (const ns of [READ_NS, EDGE_NS, ROUTED_NS]) await exec.run(['ip', 'netns', 'del', ns], { okExitCodes: [0, 1] });
  if (dir !== '') await fs.rm(dir, { recursive: true, force: true });
});

test('hostReads on a real kernel: links, addresses, our routes of both families and our neighbours in one process; another table\'s route of ours and others\' routes and neighbours left out', async (t) => {
  if (!requireRoot(t, 'netd host reads integration')) return;
  const batch = [
    'link add br0 address 02:00:00:00:00:aa type bridge',
    'link add vn_i-b type veth peer name pb',
    'link set vn_i-b master br0',
    'link add vn_i-a type veth peer name pa',
    'link set br0 up', 'link set vn_i-b up', 'link set pb up', 'link set vn_i-a up', 'link set pa up',
    'addr add 10.10.0.1/24 dev br0',
    'addr add 169.254.0.1/32 dev vn_i-a',
    'addr add fe80::1/64 dev vn_i-a nodad',
    'route add 10.50.0.11/32 dev vn_i-a proto 77',
    'route add 10.50.0.12/32 dev vn_i-a',
    'route add 10.50.0.99/32 dev vn_i-a proto 77 table 100',
    'route add 2001:db8:50::11/128 dev vn_i-a proto 77',
    'route add 2001:db8:10::/64 dev br0 proto 77',
    'route add 2001:db8:99::/64 dev vn_i-a proto 77 table 100',
    'neigh replace 10.50.0.11 lladdr d0:0d:00:00:01:01 dev vn_i-a nud permanent protocol 77',
    'neigh replace 2001:db8:50::11 lladdr d0:0d:00:00:01:01 dev vn_i-a nud permanent protocol 77',
    'neigh replace 10.50.0.12 lladdr d0:0d:00:00:01:02 dev vn_i-a nud permanent',
  ];
  await exec.run(['ip', '-n', READ_NS, '-batch', '-'], { input: `${batch.join('\n')}\n`, timeoutMs: 60_000 });
  await sh(READ_NS, ['ip', 'link', 'set', 'dev', 'vn_i-b', 'type', 'bridge_slave', 'hairpin', 'on']);

  const c = counting(exec);
  const r = await namespacedHost(c.exec, READ_NS).hostReads(77);
  assert.deepEqual(c.calls, [['ip', '-j', '-d', '-batch', '-']], 'one process');
  const sorted = (list: readonly { dst: string; dev: string }[]) => list.map((x) => `${x.dst} ${x.dev}`).sort();
  assert.deepEqual(sorted(r.routes4), ['10.50.0.11 vn_i-a'], 'table 100 and the route of another protocol left out');
  assert.deepEqual(sorted(r.routes6), ['2001:db8:10::/64 br0', '2001:db8:50::11 vn_i-a']);
  assert.deepEqual(r.neighbours.map((n) => `${n.dst} ${n.dev} ${n.lladdr} ${n.permanent}`).sort(), [
    '10.50.0.11 vn_i-a d0:0d:00:00:01:01 true',
    '2001:db8:50::11 vn_i-a d0:0d:00:00:01:01 true',
  ]);
  const links = new Map(r.interfaces.links.map((l) => [l.name, l]));
  assert.deepEqual([...links.keys()].sort(), ['br0', 'lo', 'pa', 'pb', 'vn_i-a', 'vn_i-b']);
  // (macPinned comes from sysfs, which this process reads outside the namespace: not checked here.)
  assert.equal(links.get('br0')?.isBridge, true);
  assert.equal(links.get('vn_i-b')?.master, 'br0');
  assert.equal(links.get('vn_i-b')?.hairpin, true);
  assert.deepEqual(r.interfaces.addresses.get('br0')?.map((a) => `${a.address}/${a.prefixlen}`), ['10.10.0.1/24']);
  assert.deepEqual(r.interfaces.addresses.get('vn_i-a')?.map((a) => `${a.address}/${a.prefixlen}`), ['169.254.0.1/32']);
  assert.ok(r.interfaces.addresses6.get('vn_i-a')?.some((a) => a.address === 'fe80::1' && a.prefixlen === 64));
});

test('an event sync\'s processes: EDGE (IPv4-only, a set created and one refilled) and ROUTED (dual-stack, an instance added)', async (t) => {
  if (!requireRoot(t, 'netd host reads integration')) return;
  const clock = { now: () => Date.now(), wait: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) };

  // EDGE: a bridge; node1 runs one instance, so netd starts dhcpd there (stopped in `after`, by its pid file).
  await exec.run(['ip', '-n', EDGE_NS, '-batch', '-'], { input: 'link add br0 address 02:00:0a:0a:00:01 type bridge\naddr add 10.10.0.1/24 dev br0\nlink set br0 up\n', timeoutMs: 60_000 });
  const edgeDir = path.join(dir, 'edge');
  await fs.mkdir(edgeDir);
  const edgeConfig: NetdConfig = { ...DEFAULT_NETD_CONFIG, nodeName: 'node1', bridge: 'br0', privateInterface: '', publicInterface: '', runDir: edgeDir, gniFile: path.join(edgeDir, 'gni.xml') };
  const edge = counting(exec);
  const edgeDeps = { host: namespacedHost(edge.exec, EDGE_NS), config: edgeConfig, runDir: edgeDir, gniFile: edgeConfig.gniFile, ...clock };
  // Grown: a remote instance joins sg-a (its set is refilled) and sg-b, which sg-a now admits (sg-b's set is created).
  const SSH = { protocol: 6, fromPort: 22, toPort: 22, cidr: '0.0.0.0/0' };
  const cloud = (sequence: number, grown: boolean): TestCloud => ({
    nodes: [{ name: 'node1', instances: ['i-00000001'] }, { name: 'node2', instances: grown ? ['i-00000002', 'i-00000003'] : ['i-00000002'] }],
    instances: [inst('i-00000001', 11, ['sg-0000000a']), inst('i-00000002', 12, ['sg-0000000a']), ...(grown ? [inst('i-00000003', 13, ['sg-0000000a', 'sg-0000000b'])] : [])],
    groups: grown
      ? [group('sg-0000000a', [SSH, { protocol: 6, fromPort: 80, toPort: 80, groupId: 'sg-0000000b', groupOwnerId: '000000000001' }]), group('sg-0000000b')]
      : [group('sg-0000000a', [SSH])],
    sequence,
  });
  await fs.writeFile(edgeConfig.gniFile, testGniXml(cloud(1, false)));
  assert.equal((await syncOnce(edgeDeps, { trigger: 'start', full: true })).result, 'ok');
  edge.calls.length = 0;
  await fs.writeFile(edgeConfig.gniFile, testGniXml(cloud(2, true)));
  const edgeSync = await syncOnce(edgeDeps, { trigger: 'file', full: false });
  assert.equal(edgeSync.result, 'ok', edgeSync.error);
  const edgeSpawns = spawned(edge.calls);
  t.diagnostic(`EDGE event sync: ${edgeSpawns.length} processes: ${edgeSpawns.join(', ')}`);
  const ipset = edgeSync.steps.filter((s) => s.name.startsWith('ipset'));
  assert.deepEqual(ipset.map((s) => s.name), ['ipset-write'], 'sets created and refilled: one step');
  assert.match(ipset[0]!.description, /^ipset create .*EDGENET-sg-0000000b.*; refill .*EDGENET-sg-0000000a\(\+1\/-0\)/);
  assert.equal(edgeSpawns.filter((s) => s === 'ipset restore').length, 1, 'one ipset restore');
  assert.deepEqual(edgeSpawns.filter((s) => s.startsWith('ip ')), ['ip -j -d -batch -'], 'one ip read, no other ip process');
  assert.deepEqual(edgeSpawns.filter((s) => /-save$|^ipset save$/.test(s)).sort(), ['ebtables-save', 'ipset save', 'iptables-save'], 'IPv4-only since the full sync: no ip6tables-save');
  assert.match(await sh(EDGE_NS, ['ipset', 'list', '-n']), /EDGENET-sg-0000000b/);

  // ROUTED: two ports made by "the VM starter" (veths, the peers stay in the node namespace), instances added one by one.
  await exec.run(['ip', '-n', ROUTED_NS, '-batch', '-'], { input: 'link add vn_i-00000001 type veth peer name pi1\nlink add vn_i-00000002 type veth peer name pi2\nlink set pi1 up\nlink set pi2 up\n', timeoutMs: 60_000 });
  const routedDir = path.join(dir, 'routed');
  await fs.mkdir(path.join(routedDir, 'run'), { recursive: true });
  const routedConfig: NetdConfig = { ...DEFAULT_NETD_CONFIG, nodeName: ROUTED_NODE, runDir: path.join(routedDir, 'run'), gniFile: path.join(routedDir, 'gni.xml') };
  const routed = counting(exec);
  const routedDeps = { host: namespacedHost(routed.exec, ROUTED_NS), config: routedConfig, runDir: routedConfig.runDir, gniFile: routedConfig.gniFile, configDriveDir: path.join(routedDir, 'config-drive'), ...clock };
  const publish = async (sequence: number, instances: readonly RoutedInstanceSpec[]) => {
    const doc = routedDoc({ instances });
    // No BGP settings: no speaker is started (BIRD has its own tests).
    const body: Omit<GniDocument, 'version' | 'sequence'> = {
      ...doc,
      configuration: { ...doc.configuration, clusters: doc.configuration.clusters.map((c) => ({ ...c, nodes: c.nodes.map((n) => ({ ...n, extensions: (n.extensions ?? []).filter((e) => e.name !== BGP_EXTENSION) })) })) },
    };
    await fs.writeFile(routedConfig.gniFile, serializeGni({ ...body, version: gniVersion(body), sequence }));
  };
  const I1: RoutedInstanceSpec = { id: 'i-00000001', mac: 'd0:0d:00:00:01:01', ipv4: '10.50.0.11', ipv6: true };
  const I2: RoutedInstanceSpec = { id: 'i-00000002', mac: 'd0:0d:00:00:01:02', ipv4: '10.50.0.12', ipv6: true };
  await publish(1, [I1]);
  const first = await syncOnce(routedDeps, { trigger: 'start', full: true });
  assert.equal(first.result, 'ok', first.error);
  routed.calls.length = 0;
  await publish(2, [I1, I2]);
  const routedSync = await syncOnce(routedDeps, { trigger: 'file', full: false });
  assert.equal(routedSync.result, 'ok', routedSync.error);
  const routedSpawns = spawned(routed.calls);
  t.diagnostic(`ROUTED event sync: ${routedSpawns.length} processes: ${routedSpawns.join(', ')}`);
  const reads = routedSpawns.filter((s) => /-save$|^ipset save$|^ip -j/.test(s));
  assert.deepEqual(reads.sort(), ['ip -j -d -batch -', 'ip6tables-save', 'ipset save', 'iptables-save'], 'four reads: no ebtables-save (no bridge), one ip read');
  // The new port's routes are in the kernel (the sync did apply).
  assert.match(await sh(ROUTED_NS, ['ip', 'route', 'show', 'proto', '77']), /10\.50\.0\.12 dev vn_i-00000002/);
});
