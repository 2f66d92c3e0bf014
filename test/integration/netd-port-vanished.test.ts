/**
 * An instance port that vanishes between netd's observe and its apply, on a
 * real kernel (root). A node namespace gets two veth ports `vn_*` (the
 * kernel has no dummy type here; their peers stay in the namespace, up) and
 * a ROUTED desired state for both; planFor observes them through the real
 * HostOps in that namespace (test/helpers/netns-host.ts: tools through `ip
 * netns exec`, sysctls through sysctl(8) there). Then:
 * - one port is deleted before the plan is applied: applySteps does not
 *   throw; the deleted port's steps (its MAC, sysctls, up, its share of the
 *   routed `ip -batch`) are skipped, and the remaining port holds the host
 *   MAC, its sysctls, its gateway addresses, its /32 and /128 routes with
 *   our protocol and its permanent neighbour entries — read back from the
 *   kernel;
 * - one port is deleted right before the routed batch (its link steps
 *   applied): the real `ip -batch` fails on it ("Cannot find device"), its
 *   ops are dropped and the batch runs once more: the other port's routes
 *   and neighbours are in the kernel.
 * Namespaces `edgenet_pv_<pid>_*` and the scratch directory are removed in
 * `after`, even on failure.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { requireRoot } from '../helpers/root.ts';
import { createExec } from '../../src/shared/exec.ts';
import { namespacedHost } from '../helpers/netns-host.ts';
import type { HostOps } from '../../src/netd/apply/host.ts';
import { applySteps, vanishedPortNotes, type StepResult } from '../../src/netd/apply/apply.ts';
import { planFor } from '../../src/netd/sync.ts';
import { DEFAULT_NETD_CONFIG } from '../../src/netd/config.ts';
import type { DesiredState, RoutedPort } from '../../src/netd/render/types.ts';
import type { Step } from '../../src/netd/plan/steps.ts';

const TAG = `edgenet_pv_${process.pid}`;
const exec = createExec();
const namespaces: string[] = [];
let dir = '';

const HOST_MAC = 'fe:ff:ff:ff:ff:ff';
const A: RoutedPort = { instance: 'i-pva', interface: 'vn_i-pva', instanceMac: 'd0:0d:00:00:0a:01', hostMac: HOST_MAC, addresses: ['10.50.0.11', '2001:db8:50::a1'] };
const B: RoutedPort = { instance: 'i-pvb', interface: 'vn_i-pvb', instanceMac: 'd0:0d:00:00:0a:02', hostMac: HOST_MAC, addresses: ['10.50.0.12', '2001:db8:50::a2'] };

function desired(): DesiredState {
  const none = () => ({ chains: [], hooks: [] });
  return {
    node: 'node1', cluster: 'c1', version: 'v', sysctls: [], instances: [], ipsets: [],
    iptables: { filter: none(), nat: none() }, ip6tables: { filter: none(), nat: none() }, ebtables: { filter: none(), nat: none() },
    bridgeRoutes: [], processes: [], publicAddresses: { interface: '', addresses: [], pool: [] }, gateway: '', warnings: [],
    routed: { gatewayIpv4: '169.254.0.1', gatewayIpv6: 'fe80::1', ports: [A, B] },
  };
}

async function ip(ns: string, args: readonly string[]): Promise<string> {
  return (await exec.run(['ip', '-n', ns, ...args], { timeoutMs: 30_000 })).stdout;
}

/** A node namespace with both ports, as the VM starter leaves them: down, their own MAC; the peers up in the same namespace. */
async function node(name: string): Promise<{ ns: string; host: HostOps }> {
  const ns = `${TAG}_${name}`;
  namespaces.push(ns);
  await exec.run(['ip', 'netns', 'add', ns]);
  await ip(ns, ['link', 'set', 'lo', 'up']);
  for (const [p, peer] of [[A.interface, 'pv-peer-a'], [B.interface, 'pv-peer-b']] as const) {
    await ip(ns, ['link', 'add', p, 'type', 'veth', 'peer', 'name', peer]);
    await ip(ns, ['link', 'set', peer, 'up']);
  }
  return { ns, host: namespacedHost(exec, ns) };
}

async function plan(host: HostOps): Promise<readonly Step[]> {
  const p = await planFor({ host, config: { ...DEFAULT_NETD_CONFIG, nodeName: 'node1' }, runDir: path.join(dir, 'run'), desired: desired(), full: false, configDriveDir: path.join(dir, 'config-drive') });
  return p.steps;
}

async function apply(host: HostOps, steps: readonly Step[]): Promise<StepResult[]> {
  return applySteps(steps, { host, runDir: path.join(dir, 'run'), now: () => Date.now(), wait: (ms) => new Promise<void>((r) => setTimeout(r, ms)) });
}

interface JRoute { dst: string; dev: string }
interface JNeigh { dst: string; dev: string; lladdr?: string; state?: string[] }
async function ours(ns: string): Promise<{ routes: string[]; neighbours: string[] }> {
  const routes = [
    ...(JSON.parse((await ip(ns, ['-j', 'route', 'show', 'proto', '77'])) || '[]') as JRoute[]),
    ...(JSON.parse((await ip(ns, ['-j', '-6', 'route', 'show', 'proto', '77'])) || '[]') as JRoute[]),
  ].map((r) => `${r.dst} ${r.dev}`).sort();
  const neighbours = (JSON.parse((await ip(ns, ['-j', 'neigh', 'show', 'proto', '77'])) || '[]') as JNeigh[])
    .map((n) => `${n.dst} ${n.dev} ${n.lladdr} ${(n.state ?? []).join(',')}`).sort();
  return { routes, neighbours };
}

/** What the remaining port A must hold once its steps are applied. */
async function assertPortA(ns: string): Promise<void> {
  const link = (JSON.parse(await ip(ns, ['-j', 'link', 'show', 'dev', A.interface])) as { address: string; flags: string[] }[])[0]!;
  assert.equal(link.address, HOST_MAC);
  assert.ok(link.flags.includes('UP'), link.flags.join(','));
  const sysctls = await exec.run(['ip', 'netns', 'exec', ns, 'sysctl', '-n',
    `net.ipv6.conf.${A.interface}.addr_gen_mode`, `net.ipv6.conf.${A.interface}.accept_ra`, `net.ipv6.conf.${A.interface}.forwarding`,
    `net.ipv4.conf.${A.interface}.proxy_arp`, `net.ipv4.conf.${A.interface}.forwarding`]);
  assert.deepEqual(sysctls.stdout.trim().split('\n'), ['1', '0', '1', '1', '1']);
  const addrs = (JSON.parse(await ip(ns, ['-j', 'addr', 'show', 'dev', A.interface])) as { addr_info?: { local: string; prefixlen: number }[] }[])[0]?.addr_info ?? [];
  assert.deepEqual(addrs.map((a) => `${a.local}/${a.prefixlen}`).sort(), ['169.254.0.1/32', 'fe80::1/64']);
  assert.deepEqual(await ours(ns), {
    routes: ['10.50.0.11 vn_i-pva', '2001:db8:50::a1 vn_i-pva'],
    neighbours: ['10.50.0.11 vn_i-pva d0:0d:00:00:0a:01 PERMANENT', '2001:db8:50::a1 vn_i-pva d0:0d:00:00:0a:01 PERMANENT'],
  });
}

after(async () => {
  for (const ns of namespaces) await exec.run(['ip', 'netns', 'del', ns], { okExitCodes: [0, 1] });
  if (dir !== '') await fs.rm(dir, { recursive: true, force: true });
});

test('a port deleted between observe and apply: its steps are skipped, the other port is routed, no throw', async (t) => {
  if (!requireRoot(t, 'netd vanished port integration')) return;
  dir ||= await fs.mkdtemp(path.join(os.tmpdir(), `${TAG}-`));
  const { ns, host } = await node('a');
  const steps = await plan(host);
  const onB = steps.filter((s) => JSON.stringify(s).includes(B.interface));
  assert.ok(onB.some((s) => s.kind === 'sysctl-set') && onB.some((s) => s.kind === 'link-mac') && onB.some((s) => s.kind === 'port-route-replace'), 'B was planned in full');

  await ip(ns, ['link', 'del', B.interface]); // its VM stopped: the hypervisor removed the port
  const results = await apply(host, steps);

  const skipped = results.filter((r) => r.vanishedPort !== undefined);
  assert.ok(skipped.length > 0 && skipped.every((r) => r.vanishedPort === B.interface && r.writes === 0 && r.description.startsWith(`port ${B.interface} vanished during the sync; skipped: `)), JSON.stringify(skipped));
  assert.ok(skipped.some((r) => r.name === 'sysctl-set') && skipped.some((r) => r.name === 'link-mac') && skipped.some((r) => r.name === 'routed-ports'));
  assert.ok(results.filter((r) => r.vanishedPort === undefined).every((r) => !r.description.includes(B.interface)), 'nothing applied on B');
  assert.deepEqual(vanishedPortNotes(results), [`port ${B.interface} vanished during the sync; skipped ${skipped.length} steps on it (the next sync sees it gone)`]);
  await assertPortA(ns);
});

test('a port deleted right before the routed batch: the real ip -batch fails on it, runs again without it, the other port is routed', async (t) => {
  if (!requireRoot(t, 'netd vanished port integration')) return;
  dir ||= await fs.mkdtemp(path.join(os.tmpdir(), `${TAG}-`));
  const { ns, host: real } = await node('b');
  const steps = await plan(real);
  const batches: number[] = [];
  const host: HostOps = {
    ...real,
    async changePorts(ops) {
      if (batches.length === 0) await ip(ns, ['link', 'del', B.interface]);
      batches.push(ops.length);
      return real.changePorts(ops);
    },
  };
  const results = await apply(host, steps);
  assert.equal(batches.length, 2, 'the batch, then once more without B');
  assert.ok(batches[1]! < batches[0]!, `${batches.join(' → ')} ops`);
  assert.deepEqual(results.filter((r) => r.vanishedPort !== undefined).map((r) => [r.name, r.vanishedPort]), [['routed-ports', B.interface]]);
  assert.ok(results.some((r) => r.name === 'link-up' && r.description.includes(B.interface) && r.writes === 1), 'B\'s link steps ran while it was there');
  assert.equal(results.at(-1)?.name, 'routed-ports');
  assert.equal(results.at(-1)?.writes, 1);
  await assertPortA(ns);
});
