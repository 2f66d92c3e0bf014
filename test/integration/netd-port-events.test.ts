/**
 * ROUTED port events on a real kernel (root): the REAL netd daemon loop
 * (daemon.ts NetdDaemon, the real HostOps with every tool run in the node
 * namespace, sysctls through sysctl(8) there as netd-routed-apply.test.ts
 * does) with a ROUTED document naming an instance whose port does not exist
 * yet, and a periodic resync far away (10 min), so only a port event can
 * explain a prompt sync:
 * - the daemon runs its link monitor (port-watcher.ts) for the ROUTED node;
 * - the VM starter creates `vn_<id>` (down, its own MAC): within ~1 s (the
 *   75 ms debounce plus one sync, which takes 0.4-1.2 s here) the
 *   port is up with the host MAC, the gateways 169.254.0.1/32 + fe80::1/64,
 *   and the /32 + /128 routes of proto 77 (a sync with trigger 'link');
 * - the port blips down and up (the kernel drops the IPv6 gateway and the
 *   routes): they are back within ~1 s;
 * - the port is deleted: a link sync runs and succeeds (nothing of ours is
 *   left to break on), and a re-created port (a restarted VM) is routed again;
 * - stop() ends the monitor process (none left in the namespace).
 * Namespaces `enrt-pe<pid>-*` and the state directory are removed in `after`,
 * even on failure; the document has no BGP settings (no speaker).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { isRoot, requireRoot } from '../helpers/root.ts';
import { createExec } from '../../src/shared/exec.ts';
import { createSpawnerExec, type SpawnerExec } from '../../src/shared/spawner.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { nullLogger } from '../../src/shared/logger.ts';
import { waitFor } from '../../src/shared/wait.ts';
import { namespacedHost } from '../helpers/netns-host.ts';
import type { HostOps } from '../../src/netd/apply/host.ts';
import { NetdDaemon } from '../../src/netd/daemon.ts';
import type { SyncOutcome } from '../../src/netd/sync.ts';
import { DEFAULT_NETD_CONFIG } from '../../src/netd/config.ts';
import { serializeGni } from '../../src/shared/gni/codec.ts';
import { gniVersion } from '../../src/shared/gni/version.ts';
import type { GniDocument } from '../../src/shared/gni/model.ts';
import { BGP_EXTENSION } from '../../src/shared/gni/routed.ts';
import { ROUTED_NODE, eui64, routedDoc } from '../helpers/routed-doc.ts';

const TAG = `enrt-pe${process.pid}`;
const NODE_NS = `${TAG}-n`;
const VM_NS = `${TAG}-i`;
const I1 = { id: 'i-0000000a', mac: 'd0:0d:00:00:00:0a', ipv4: '10.50.0.11' };
const PORT = `vn_${I1.id}`;
const V6 = eui64(I1.mac);
const exec = createExec();
/** The daemon runs its commands as `netd run` does: through the spawner's shell. */
let spawner: SpawnerExec | undefined;
let dir = '';
let daemon: NetdDaemon | undefined;
const syncs: SyncOutcome[] = [];
/** When each sync started (its report time less its duration), by index in `syncs`. */
const startedAt: number[] = [];

async function sh(ns: string, argv: readonly string[], ok: number[] = [0]): Promise<{ code: number; out: string }> {
  const r = await exec.run(['ip', 'netns', 'exec', ns, ...argv], { okExitCodes: ok, timeoutMs: 30_000 });
  return { code: r.exitCode, out: `${r.stdout}${r.stderr}` };
}
const json = async <T>(argv: readonly string[]): Promise<T> => JSON.parse((await sh(NODE_NS, argv)).out || '[]') as T;

/** The port as netd leaves it: up, host MAC, both gateways, both routes of ours. */
async function routed(): Promise<boolean> {
  const link = (await json<{ flags?: string[]; address?: string }[]>(['ip', '-j', 'link', 'show', 'dev', PORT]).catch(() => []))[0];
  if (!link?.flags?.includes('UP') || link.address !== 'fe:ff:ff:ff:ff:ff') return false;
  const addrs = (await json<{ addr_info?: { local: string; prefixlen: number }[] }[]>(['ip', '-j', 'addr', 'show', 'dev', PORT]))[0]?.addr_info?.map((a) => `${a.local}/${a.prefixlen}`).sort() ?? [];
  const routes = [...(await json<{ dst: string }[]>(['ip', '-j', 'route', 'show', 'proto', '77', 'dev', PORT])), ...(await json<{ dst: string }[]>(['ip', '-j', '-6', 'route', 'show', 'proto', '77', 'dev', PORT]))].map((r) => r.dst).sort();
  return JSON.stringify(addrs) === JSON.stringify(['169.254.0.1/32', 'fe80::1/64']) && JSON.stringify(routes) === JSON.stringify([I1.ipv4, V6].sort());
}

/** Waits for the port to be routed; returns how long it took from `since`. */
async function routedWithin(since: number, what: string): Promise<number> {
  await waitFor(() => routed(), { timeoutMs: 10_000, intervalMs: 20, what });
  return Date.now() - since;
}

/**
 * How long after `since` the first link-triggered sync from index `from` on
 * started: the watcher's latency (debounce, runner), which does not depend
 * on how long a sync takes on a loaded machine (0.4-1.7 s here).
 */
function linkSyncDelay(from: number, since: number): number {
  const i = syncs.findIndex((s, k) => k >= from && s.status.trigger === 'link');
  assert.ok(i >= 0, 'a sync the port event triggered');
  return startedAt[i]! - since;
}

before(async () => {
  if (!isRoot()) return;
  dir = await fs.mkdtemp(path.join(os.tmpdir(), `${TAG}-`));
  await fs.mkdir(path.join(dir, 'run'));
  for (const ns of [NODE_NS, VM_NS]) {
    await exec.run(['ip', 'netns', 'add', ns]);
    await sh(ns, ['ip', 'link', 'set', 'lo', 'up']);
  }
  const doc = routedDoc({ instances: [{ id: I1.id, mac: I1.mac, ipv4: I1.ipv4, ipv6: true }] });
  const body: Omit<GniDocument, 'version' | 'sequence'> = {
    ...doc,
    configuration: {
      ...doc.configuration,
      clusters: doc.configuration.clusters.map((c) => ({ ...c, nodes: c.nodes.map((n) => ({ ...n, extensions: (n.extensions ?? []).filter((e) => e.name !== BGP_EXTENSION) })) })),
    },
  };
  await fs.writeFile(path.join(dir, 'gni.xml'), serializeGni({ ...body, version: gniVersion(body), sequence: 1 }));
});

after(async () => {
  if (!isRoot()) return;
  await daemon?.stop();
  await spawner?.close();
  for (const ns of [NODE_NS, VM_NS]) await exec.run(['ip', 'netns', 'del', ns], { okExitCodes: [0, 1] });
  if (dir !== '') await fs.rm(dir, { recursive: true, force: true });
});

/** Creates the port as a VM starter does: a veth whose VM side is up in the VM namespace; the node side is left down. */
async function createPort(): Promise<void> {
  await exec.run(['ip', '-n', NODE_NS, 'link', 'add', PORT, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', VM_NS]);
  await sh(VM_NS, ['ip', 'link', 'set', 'eth0', 'up']);
}

test('ROUTED port events: a new port is routed within ~1 s, a down/up blip is repaired, a deleted port breaks nothing, a re-created one is routed again; stop ends the monitor', { timeout: 45_000 }, async (t) => {
  if (!requireRoot(t, 'netd ROUTED port events integration')) return;
  const config = { ...DEFAULT_NETD_CONFIG, nodeName: ROUTED_NODE, runDir: path.join(dir, 'run'), gniFile: path.join(dir, 'gni.xml'), resyncIntervalSeconds: 600 };
  spawner = createSpawnerExec({ dir: path.join(config.runDir, 'exec') });
  const host: HostOps = namespacedHost(spawner, NODE_NS);
  daemon = new NetdDaemon({
    host, config, runDir: config.runDir, gniFile: config.gniFile, configDriveDir: path.join(dir, 'config-drive'),
    clock: systemClock, logger: nullLogger(), fileEvents: false, wait: (ms) => new Promise((r) => setTimeout(r, ms)),
    onSync: (o) => {
      syncs.push(o);
      startedAt.push(Date.now() - o.durationMs);
    },
  });
  await daemon.start();
  await waitFor(() => syncs.length > 0, { timeoutMs: 20_000, intervalMs: 20, what: 'the first sync' });
  assert.equal(syncs[0]!.result, 'ok', syncs[0]!.error);
  assert.ok(spawner.mode === 'shell' && spawner.shellPid !== undefined, 'the sync ran its commands through the shell');
  assert.ok(syncs[0]!.desired?.routed, 'a ROUTED state');
  assert.equal(daemon.watchingPorts, true, 'the ROUTED node runs its link monitor');
  await daemon.idle();
  const monitorPids = async () => {
    const pids = (await exec.run(['ip', 'netns', 'pids', NODE_NS])).stdout.split('\n').filter(Boolean);
    const argvs = await Promise.all(pids.map((p) => fs.readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '')));
    return pids.filter((_, i) => /monitor\0link/.test(argvs[i]!));
  };
  await waitFor(async () => (await monitorPids()).length === 1, { timeoutMs: 5_000, intervalMs: 20, what: 'one ip monitor process in the node namespace' });

  // 1. The VM starter creates the port: routed within ~1 s, by a link sync.
  const figures: string[] = [];
  let t0 = Date.now();
  let n = syncs.length;
  await createPort();
  const first = await routedWithin(t0, 'the new port routed');
  figures.push(`new port routed in ${first} ms`);
  await daemon.idle(); // the kernel is seen routed before that sync has reported
  assert.ok(syncs.slice(n).some((s) => s.status.trigger === 'link' && s.result === 'ok'), 'by a sync the port event triggered');
  // The watcher's share: 75 ms of debounce and the runner (the resync is 10 min away).
  const delay = linkSyncDelay(n, t0);
  figures.push(`link sync started ${delay} ms after the port was created`);
  assert.ok(delay < 1_000, `the link sync started ${delay} ms after the port appeared`);

  // 2. A down/up blip: the kernel dropped the IPv6 gateway and the routes; they are back.
  await daemon.idle();
  t0 = Date.now();
  n = syncs.length;
  await sh(NODE_NS, ['ip', 'link', 'set', PORT, 'down']);
  await sh(NODE_NS, ['ip', 'link', 'set', PORT, 'up']);
  const v6gone = (await json<{ addr_info?: { local: string }[] }[]>(['ip', '-j', '-6', 'addr', 'show', 'dev', PORT]))[0]?.addr_info?.some((a) => a.local === 'fe80::1') !== true;
  const blip = await routedWithin(t0, 'the port routed again after down/up');
  figures.push(`down/up repaired in ${blip} ms (IPv6 gateway dropped by the kernel: ${v6gone})`);
  await daemon.idle();
  assert.ok(linkSyncDelay(n, t0) < 1_000, 'the down/up started a link sync at once');

  // 3. The port is deleted (the VM stopped): a link sync runs and succeeds.
  await daemon.idle();
  n = syncs.length;
  await exec.run(['ip', '-n', NODE_NS, 'link', 'del', PORT]);
  await waitFor(() => syncs.slice(n).find((s) => s.status.trigger === 'link'), { timeoutMs: 5_000, intervalMs: 20, what: 'a link sync after the deletion' });
  await daemon.idle();
  assert.ok(syncs.slice(n).every((s) => s.result === 'ok'), syncs.slice(n).map((s) => s.error).join('; '));
  assert.equal(daemon.healthy, true);
  assert.deepEqual(await json(['ip', '-j', 'route', 'show', 'proto', '77']), [], 'no IPv4 route of ours left');

  // 4. The VM restarts: a new port with the same name is routed again.
  t0 = Date.now();
  await createPort();
  figures.push(`re-created port routed in ${await routedWithin(t0, 'the re-created port routed')} ms`);

  // 5. Quiet: no sync keeps asking for another (netd's own changes to the port ask at most once more).
  await daemon.idle();
  n = syncs.length;
  await waitFor(async () => {
    const before = syncs.length;
    await daemon!.idle();
    return syncs.length === before ? true : undefined;
  }, { timeoutMs: 5_000, intervalMs: 300, what: 'no more syncs' });
  assert.ok(syncs.length - n <= 1, `${syncs.length - n} syncs without a change`);

  // 6. stop(): the monitor process is gone.
  await daemon.stop();
  daemon = undefined;
  await waitFor(async () => (await monitorPids()).length === 0, { timeoutMs: 5_000, intervalMs: 20, what: 'the ip monitor process ends with the daemon' });
  t.diagnostic(figures.join('; '));
  t.diagnostic(`syncs: ${syncs.map((s) => `${s.status.trigger} ${s.durationMs} ms, ${s.writes} writes`).join('; ')}`);
});
