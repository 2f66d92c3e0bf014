/**
 * BIRD as a ROUTED node's BGP speaker on a real kernel (issue 17): netd's
 * supervisor runs the bird that render/bird.ts asks for, and an upstream
 * router (its own BIRD, configured here: import all, kernel export of BGP
 * routes, a default route and one more prefix offered) learns exactly the
 * node's instance prefixes:
 *
 *   - the upstream's kernel gets exactly the announced /32s and /128 (with
 *     the communities); the node's kernel gets only the default routes, and
 *     netd's own host routes (`proto 77`) stay as they were throughout;
 *   - a withdrawn prefix leaves the upstream and a new one arrives after a
 *     SIGHUP reload into the same process, without resetting the sessions;
 *   - kill -9 of the node's bird: the upstream keeps the routes (graceful
 *     restart) while the supervisor starts bird again, and the new session
 *     replaces them;
 *   - run:false stops bird: the upstream withdraws at once, the node's BGP
 *     default routes go, netd's routes stay.
 *
 * The figures (session up, reload to route, restart) are printed as
 * diagnostics for docs/architecture.md.
 *
 * Topology: `<p>-n` (node: dn0 172.31.9.2/24 + fd00:319::2/64, ports vn_a,
 * vn_b, vn_c whose peers sit in `<p>-i`), `<p>-u` (upstream: up0 .1 / ::1).
 * netd's HostOps runs every command inside `<p>-n`. Both birds, the
 * namespaces and the directories are removed in `after`, whatever failed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot, requireRoot } from '../helpers/root.ts';
import { createExec, prefixedExec } from '../../src/shared/exec.ts';
import { createFiles } from '../../src/shared/files.ts';
import { waitFor } from '../../src/shared/wait.ts';
import { DEFAULT_NETD_CONFIG } from '../../src/netd/config.ts';
import { renderBird } from '../../src/netd/render/bird.ts';
import type { SupervisedProcess } from '../../src/netd/render/types.ts';
import { createLinuxHost } from '../../src/netd/apply/linux-host.ts';
import { applySteps, type ApplyContext } from '../../src/netd/apply/apply.ts';
import { processLayout } from '../../src/netd/apply/process-driver.ts';
import { birdControlSocket, birdDriver } from '../../src/netd/apply/bird.ts';
import { findProcess, observeProcesses } from '../../src/netd/apply/supervisor.ts';
import { planProcesses } from '../../src/netd/plan/processes.ts';
import { describeStep } from '../../src/netd/plan/steps.ts';
import { sleep, systemClock } from '../../src/shared/clock.ts';

const P = `enrt-bird-${randomBytes(2).toString('hex')}`;
const NODE_NS = `${P}-n`;
const UP_NS = `${P}-u`;
const INST_NS = `${P}-i`;
const NODE = '172.31.9.2';
const UPSTREAM = { v4: '172.31.9.1', v6: 'fd00:319::1' };
const NETD_PROTO = '77';
const A = { interface: 'vn_a', addresses: ['10.50.0.11/32', '2001:db8:50::11/128'] };
const B = { interface: 'vn_b', addresses: ['10.50.0.12/32'] };
const C = { interface: 'vn_c', addresses: ['10.50.0.13/32'] };
const BIRD = '/usr/sbin/bird';

const exec = createExec();
let runDir = '';
let upDir = '';
let upPid: number | undefined;
let ctx: ApplyContext;
const layout = () => processLayout(runDir, 'bird');
const figures: string[] = [];

async function sh(argv: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await exec.run(argv, { timeoutMs: 20_000 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { exitCode?: number; message: string };
    return { code: e.exitCode ?? -1, out: e.message };
  }
}
async function must(argv: string[]): Promise<string> {
  const r = await sh(argv);
  assert.equal(r.code, 0, `${argv.join(' ')}: ${r.out}`);
  return r.out;
}

/** The routes of one family in a namespace's main table: `dst proto` pairs, sorted. */
async function routes(ns: string, family: '-4' | '-6'): Promise<{ dst: string; protocol: string }[]> {
  const list = JSON.parse(await must(['ip', '-n', ns, '-j', family, 'route', 'show'])) as { dst: string; protocol?: string }[];
  return list.map((r) => ({ dst: r.dst, protocol: r.protocol ?? '' })).sort((x, y) => x.dst.localeCompare(y.dst));
}
/** What the upstream's kernel learned over BGP (BIRD installs with `proto bird`), both families. */
async function upstreamLearned(): Promise<string[]> {
  const all = [...(await routes(UP_NS, '-4')), ...(await routes(UP_NS, '-6'))];
  return all.filter((r) => r.protocol === 'bird').map((r) => r.dst).sort();
}
const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
/** The kernel's spelling of a host prefix: `ip -j route` prints host routes without their length. */
const kernelDst = (prefix: string) => prefix.replace(/\/(32|128)$/, '');

/** The upstream's session with the node per family: `[state, since]` from `birdc show protocols`. */
async function upstreamSessions(): Promise<Map<string, string>> {
  const out = await must(['birdc', '-s', join(upDir, 'bird.ctl'), 'show', 'protocols']);
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'n4' || f[0] === 'n6') m.set(f[0], `${f[3]} ${f[4]} ${f[5] ?? ''}`);
  }
  return m;
}

/**
 * The upstream's `ip monitor route` log, and a marker in it: a throwaway
 * route added and deleted in the upstream, retried until its deletion is in
 * the log. Once a marker is there the monitor was listening before it, and
 * (the monitor prints events in order) everything the kernel did before the
 * marker is in the log too.
 */
const MONITOR_LOG = () => join(upDir, 'monitor.log');
const monitorLog = () => (existsSync(MONITOR_LOG()) ? readFileSync(MONITOR_LOG(), 'utf8') : '');
const markerDeleted = (address: string) => new RegExp(`^\\[[^\\]]+\\] Deleted ${address.replaceAll('.', '\\.')} `, 'm');
async function monitorMarker(address: string, what: string): Promise<void> {
  await waitFor(async () => {
    if (markerDeleted(address).test(monitorLog())) return true;
    await must(['ip', '-n', UP_NS, 'route', 'add', `${address}/32`, 'dev', 'up0']);
    await must(['ip', '-n', UP_NS, 'route', 'del', `${address}/32`, 'dev', 'up0']);
    return false;
  }, { timeoutMs: 5_000, intervalMs: 20, what });
}
const MARKER_START = '192.0.2.101';
const MARKER_END = '192.0.2.102';

function entry(ports: readonly { interface: string; addresses: readonly string[] }[], run = true): SupervisedProcess {
  const warnings: string[] = [];
  const p = renderBird({
    node: NODE, cluster: 'c1', addressing: 'dual',
    bgp: { localAs: '65001', peers: [`${UPSTREAM.v4} 65000`, `${UPSTREAM.v6} 65000`], communities: ['65001:100'], password: 's3cret' },
    ports,
  }, warnings);
  assert.deepEqual(warnings, []);
  return run ? p : { ...p, run: false };
}

async function sync(e: SupervisedProcess): Promise<string[]> {
  const observed = await observeProcesses(ctx.host, { runDir, desired: [e] });
  const steps = planProcesses([e], observed);
  await applySteps(steps, ctx);
  return steps.map(describeStep);
}
const birdPid = () => findProcess(ctx.host, birdDriver, layout());

/** The upstream router: everything BGP gives it into its kernel; offers a default route and one more prefix (the node takes only the default). */
const UPSTREAM_CONF = `router id ${UPSTREAM.v4};
log stderr all;
protocol device { }
protocol kernel k4 { ipv4 { import none; export where source = RTS_BGP; }; }
protocol kernel k6 { ipv6 { import none; export where source = RTS_BGP; }; }
protocol static offer4 { ipv4; route 0.0.0.0/0 unreachable; route 198.51.100.0/24 unreachable; }
protocol static offer6 { ipv6; route ::/0 unreachable; route 2001:db8:ffff::/48 unreachable; }
protocol bgp n4 { local ${UPSTREAM.v4} as 65000; neighbor ${NODE} as 65001; password "s3cret"; connect delay time 1; connect retry time 1; error wait time 1, 4;
  ipv4 { import all; export where source = RTS_STATIC; }; }
protocol bgp n6 { local ${UPSTREAM.v6} as 65000; neighbor fd00:319::2 as 65001; password "s3cret"; connect delay time 1; connect retry time 1; error wait time 1, 4;
  ipv6 { import all; export where source = RTS_STATIC; }; }
`;

/** netd's host routes as C2's planner installs them (`dev vn_<id> proto 77`): BIRD must never touch them. */
const NETD_ROUTES = [...A.addresses.map((a) => [a, A.interface]), ...B.addresses.map((a) => [a, B.interface]), ...C.addresses.map((a) => [a, C.interface])];
async function netdRoutes(): Promise<string[]> {
  const all = [...(await routes(NODE_NS, '-4')), ...(await routes(NODE_NS, '-6'))];
  return all.filter((r) => r.protocol === NETD_PROTO).map((r) => r.dst).sort();
}
const NETD_ROUTES_KERNEL = NETD_ROUTES.map(([a]) => kernelDst(a!)).sort();

before(async () => {
  if (!isRoot() || !existsSync(BIRD)) return;
  runDir = mkdtempSync(join(tmpdir(), 'en-bird-'));
  upDir = mkdtempSync(join(tmpdir(), 'en-bird-up-'));
  for (const ns of [NODE_NS, UP_NS, INST_NS]) {
    await must(['ip', 'netns', 'add', ns]);
    await must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
  await must(['ip', '-n', NODE_NS, 'link', 'add', 'dn0', 'type', 'veth', 'peer', 'name', 'up0', 'netns', UP_NS]);
  await must(['ip', '-n', NODE_NS, 'addr', 'add', `${NODE}/24`, 'dev', 'dn0']);
  await must(['ip', '-n', NODE_NS, 'addr', 'add', 'fd00:319::2/64', 'dev', 'dn0', 'nodad']);
  await must(['ip', '-n', UP_NS, 'addr', 'add', `${UPSTREAM.v4}/24`, 'dev', 'up0']);
  await must(['ip', '-n', UP_NS, 'addr', 'add', `${UPSTREAM.v6}/64`, 'dev', 'up0', 'nodad']);
  await must(['ip', '-n', NODE_NS, 'link', 'set', 'dn0', 'up']);
  await must(['ip', '-n', UP_NS, 'link', 'set', 'up0', 'up']);
  for (const [i, port] of [A, B, C].entries()) {
    await must(['ip', '-n', NODE_NS, 'link', 'add', port.interface, 'type', 'veth', 'peer', 'name', `eth${i}`, 'netns', INST_NS]);
    await must(['ip', '-n', INST_NS, 'link', 'set', `eth${i}`, 'up']);
    await must(['ip', '-n', NODE_NS, 'link', 'set', port.interface, 'up']);
  }
  for (const [prefix, dev] of NETD_ROUTES) await must(['ip', '-n', NODE_NS, ...(prefix!.includes(':') ? ['-6'] : []), 'route', 'add', prefix!, 'dev', dev!, 'proto', NETD_PROTO]);
  writeFileSync(join(upDir, 'bird.conf'), UPSTREAM_CONF);
  await must([BIRD, '-p', '-c', join(upDir, 'bird.conf')]);
  // `ip netns exec` execs bird: the pid is bird's.
  upPid = exec.start(['ip', 'netns', 'exec', UP_NS, BIRD, '-f', '-c', join(upDir, 'bird.conf'), '-s', join(upDir, 'bird.ctl'), '-P', join(upDir, 'bird.pid')], { detached: true, logFile: join(upDir, 'bird.log') }).pid;
  const host = createLinuxHost({ exec: prefixedExec(exec, ['ip', 'netns', 'exec', NODE_NS]), files: createFiles() });
  ctx = { host, runDir, config: DEFAULT_NETD_CONFIG, now: () => systemClock.now(), wait: (ms) => sleep(systemClock, ms), startCheckMs: 300 };
});

after(async () => {
  if (!isRoot()) return;
  // Our birds only: the node's through our pid file and argv, the upstream's by the pid we started.
  const pid = ctx === undefined ? undefined : await birdPid().catch(() => undefined);
  if (pid !== undefined) process.kill(pid, 'SIGKILL');
  if (upPid !== undefined) {
    try { process.kill(upPid, 'SIGKILL'); } catch { /* gone */ }
  }
  for (const ns of [INST_NS, NODE_NS, UP_NS]) await sh(['ip', 'netns', 'del', ns]);
  for (const dir of [runDir, upDir]) if (dir !== '') rmSync(dir, { recursive: true, force: true });
  if (figures.length > 0) console.log(`# bird figures: ${figures.join('; ')}`);
});

test('bird from the rendered state: exact announcements, default-only import, reload in place, graceful restart over kill -9, stop withdraws', { timeout: 60_000 }, async (t) => {
  if (!requireRoot(t, 'netd bird integration')) return;
  if (!existsSync(BIRD)) return t.skip('bird2 is not installed');

  // 1. Start: written, checked (bird -p), started; the upstream learns exactly A's and B's prefixes.
  const t0 = performance.now();
  assert.deepEqual(await sync(entry([A, B])), ['bird config write', 'bird start']);
  const pid = await birdPid();
  assert.ok(pid !== undefined, 'bird runs and is recognised as ours');
  // The MD5 password is in it: root's only (bird runs as root and reads it).
  assert.equal(statSync(layout().file('bird.conf')).mode & 0o777, 0o600, 'bird.conf is 0600');
  const want1 = [...A.addresses, ...B.addresses].map(kernelDst).sort();
  await waitFor(async () => same(await upstreamLearned(), want1), { timeoutMs: 15_000, intervalMs: 20, what: `upstream kernel routes ${want1.join(' ')}` });
  figures.push(`cold start to routes in the upstream's kernel ${Math.round(performance.now() - t0)} ms`);
  const community = await must(['birdc', '-s', join(upDir, 'bird.ctl'), 'show', 'route', 'all', '10.50.0.11/32']);
  assert.match(community, /BGP\.community: \(65001,100\)/);
  // The node's kernel: only the default routes from BGP (198.51.100.0/24 and 2001:db8:ffff::/48 were offered too).
  await waitFor(async () => {
    const bird = [...(await routes(NODE_NS, '-4')), ...(await routes(NODE_NS, '-6'))].filter((r) => r.protocol === 'bird').map((r) => r.dst);
    return same(bird.sort(), ['default', 'default']);
  }, { timeoutMs: 10_000, intervalMs: 20, what: 'the default routes (and nothing else) from BGP in the node\'s kernel' });
  assert.deepEqual(await netdRoutes(), NETD_ROUTES_KERNEL, 'netd\'s routes untouched');
  const sessions = await upstreamSessions();
  assert.match(sessions.get('n4') ?? '', /^up .* Established$/);
  assert.match(sessions.get('n6') ?? '', /^up .* Established$/);

  // 2. Reload: B withdrawn, C added; same pid, sessions not reset.
  let t1 = performance.now();
  assert.deepEqual(await sync(entry([A])), ['bird config write', `bird reload (pid ${pid}, SIGHUP)`]);
  const want2 = A.addresses.map(kernelDst).sort();
  await waitFor(async () => same(await upstreamLearned(), want2), { timeoutMs: 5_000, intervalMs: 10, what: 'B withdrawn at the upstream' });
  const withdrawMs = performance.now() - t1;
  t1 = performance.now();
  assert.deepEqual(await sync(entry([A, C])), ['bird config write', `bird reload (pid ${pid}, SIGHUP)`]);
  const want3 = [...A.addresses, ...C.addresses].map(kernelDst).sort();
  await waitFor(async () => same(await upstreamLearned(), want3), { timeoutMs: 5_000, intervalMs: 10, what: 'C announced at the upstream' });
  const addMs = performance.now() - t1;
  figures.push(`reload (write, bird -p, SIGHUP) to route withdrawn ${Math.round(withdrawMs)} ms, announced ${Math.round(addMs)} ms`);
  assert.ok(addMs < 1_000, `a new prefix reaches the upstream's kernel within 1 s of the reload (${Math.round(addMs)} ms)`);
  assert.equal(await birdPid(), pid, 'reloaded in place');
  assert.deepEqual(await upstreamSessions(), sessions, 'sessions not reset by the reload (same state and since)');
  assert.deepEqual(await sync(entry([A, C])), [], 'unchanged: nothing planned (found again from pid file and argv)');

  // 3. kill -9: the upstream keeps the routes while the supervisor starts bird again.
  const monitor = exec.start(['ip', '-n', UP_NS, '-ts', 'monitor', 'route'], { logFile: MONITOR_LOG() });
  try {
    await monitorMarker(MARKER_START, 'the upstream\'s route monitor listening (start marker in its log)');
    process.kill(pid, 'SIGKILL');
    await waitFor(async () => (await birdPid()) === undefined, { timeoutMs: 5_000, intervalMs: 10, what: 'bird gone' });
    await waitFor(async () => /Connect|Active|Idle/.test((await upstreamSessions()).get('n4') ?? ''), { timeoutMs: 5_000, intervalMs: 20, what: 'the upstream saw the session drop' });
    // Down for a while (a netd sync away): the upstream still routes to the node.
    for (let i = 0; i < 10; i++) {
      assert.deepEqual(await upstreamLearned(), want3, 'routes kept as stale while bird is down (graceful restart)');
      await sleep(systemClock, 50);
    }
    const t2 = performance.now();
    assert.deepEqual(await sync(entry([A, C])), ['bird start'], 'the configuration is still on disk: only a start');
    const pid2 = await birdPid();
    assert.ok(pid2 !== undefined && pid2 !== pid);
    await waitFor(async () => [...(await upstreamSessions()).values()].every((s) => /Established/.test(s)), { timeoutMs: 15_000, intervalMs: 20, what: 'sessions back' });
    figures.push(`restart after kill -9 to sessions re-established ${Math.round(performance.now() - t2)} ms`);
    await waitFor(async () => same(await upstreamLearned(), want3), { timeoutMs: 5_000, intervalMs: 20, what: 'the upstream routes A and C over the new sessions' });
    // Everything the upstream's kernel did up to here is in the log before this marker.
    await monitorMarker(MARKER_END, 'the route monitor still recording after the restart (end marker in its log)');
  } finally {
    monitor.kill('SIGTERM');
  }
  // The log covers the whole window (both markers), so an empty list of events below means none happened, not a deaf monitor.
  const log = monitorLog();
  assert.ok(markerDeleted(MARKER_START).test(log) && markerDeleted(MARKER_END).test(log), `the monitor recorded from before the kill to after the restart:\n${log}`);
  const window = log.slice(log.search(markerDeleted(MARKER_START)), log.search(markerDeleted(MARKER_END)));
  // Any delete of an announced prefix at the upstream was a replace (deleted and added again), never a withdrawal.
  const events = window.split('\n').filter((l) => /10\.50\.0\.1[13]|2001:db8:50::11/.test(l));
  // `[2026-12-05T06:12:49.762103] Deleted 2001:db8:50::11 via …`: the gap from each delete to the add of the same prefix.
  const at = (l: string) => Date.parse(`${/^\[([^\]]+)\]/.exec(l)?.[1] ?? ''}Z`);
  const dst = (l: string) => /^\[[^\]]+\] (?:Deleted )?(\S+)/.exec(l)?.[1];
  const gaps = events.flatMap((l, i) => {
    if (!/\] Deleted /.test(l)) return [];
    const back = events.slice(i + 1).find((m) => !/\] Deleted /.test(m) && dst(m) === dst(l));
    return [back === undefined ? Infinity : at(back) - at(l)];
  });
  figures.push(`upstream route events during kill -9 and restart: ${events.length}, longest absence ${gaps.length === 0 ? 0 : Math.max(...gaps)} ms`);
  assert.ok(gaps.every((g) => g < 250), `every delete at the upstream is a replace, re-added within 250 ms (a withdrawal would last until the new session, ~0.7 s): ${events.join(' | ')}`);
  assert.deepEqual(await netdRoutes(), NETD_ROUTES_KERNEL, 'netd\'s routes untouched by the restart');

  // 4. Must not run: stopped; the upstream withdraws at once, the node's BGP defaults go, netd's routes stay.
  const t3 = performance.now();
  assert.deepEqual((await sync(entry([A, C], false))).length, 1);
  assert.equal(await birdPid(), undefined);
  await waitFor(async () => (await upstreamLearned()).length === 0, { timeoutMs: 5_000, intervalMs: 10, what: 'all withdrawn at the upstream' });
  figures.push(`stop to all withdrawn ${Math.round(performance.now() - t3)} ms`);
  assert.deepEqual([...(await routes(NODE_NS, '-4')), ...(await routes(NODE_NS, '-6'))].filter((r) => r.protocol === 'bird'), []);
  assert.deepEqual(await netdRoutes(), NETD_ROUTES_KERNEL);
  assert.equal(existsSync(layout().file('bird.conf')), false, 'its configuration is removed');
  assert.equal(existsSync(birdControlSocket(layout())), false, 'bird removed its control socket');
});
