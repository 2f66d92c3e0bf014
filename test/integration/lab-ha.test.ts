/**
 * Failover in the lab (issue 16, Done when): `edgenet lab up --db postgres`
 * runs PostgreSQL in the control namespace and two CLCs on it; changes flow;
 * `edgenet lab clc kill <leader>` (SIGKILL) and the other CLC leads within
 * 5 s of the kill; a change made right after reaches every node's applied
 * state; across the whole test no node ever applies an older
 * (generation, sequence) after a newer one, from a 20 ms poll of every
 * node's netd-status.json and from netd's own apply log (netd-events.jsonl,
 * every apply it made); metadata follows the leader (the document's
 * enabledCLCIp is the new leader's own address, and an instance reads its id
 * through 169.254.169.254); `edgenet lab clc start <killed>` brings it back as a
 * follower, and a change through it reaches every node. Real namespaces, real
 * processes, the real CLI (lab up/clc list/status/clc kill/clc start/down).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { requireRoot, isRoot } from '../helpers/root.ts';
import { postgresUnavailable } from '../helpers/postgres.ts';
import { createExec } from '../../src/shared/exec.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { EDGENET_BIN } from '../../src/lab/daemons.ts';
import { labPlan, labPrefix } from '../../src/lab/plan.ts';
import { teardownByPrefix } from '../../src/lab/topology.ts';
import { readLabState, type LabState } from '../../src/lab/state.ts';
import { labApiClient, labApiEnv, type ApiClient } from '../../src/lab/api.ts';
import { labClcStatus, type LabClcStatus } from '../../src/lab/status.ts';
import { waitFor } from '../../src/shared/wait.ts';
import type { InstanceView } from '../../src/cloud-controller/services/instances.ts';
import { labVmAdd, labTopology } from '../../src/lab/vm.ts';

const exec = createExec();
const name = `h${randomBytes(3).toString('hex')}`;
const dir = path.join(os.tmpdir(), `edgenet-labh-${name}`);
const plan = labPlan(name, dir, { ipv4Only: true, db: 'postgres' });
let state: LabState | undefined;
let skipReason: string | undefined;

const cli = (args: readonly string[]) => exec.run([process.execPath, EDGENET_BIN, ...args], { okExitCodes: Array.from({ length: 256 }, (_, i) => i), timeoutMs: 300_000 });
const lab = (args: readonly string[]) => cli(['lab', ...args, '--name', name, '--dir', dir]);

/** What a node applied, as netd records it (netd-status.json in its run dir). */
interface Applied {
  readonly generation: number;
  readonly sequence: number;
  readonly version: string;
}

const older = (a: Applied, b: Applied) => a.generation < b.generation || (a.generation === b.generation && a.sequence < b.sequence);

function readApplied(runDir: string): Applied | undefined {
  try {
    const s = JSON.parse(readFileSync(path.join(runDir, 'netd-status.json'), 'utf8')) as { appliedGeneration?: number; appliedSequence?: number; appliedVersion?: string };
    if (s.appliedSequence === undefined || s.appliedVersion === undefined) return undefined;
    return { generation: s.appliedGeneration ?? 0, sequence: s.appliedSequence, version: s.appliedVersion };
  } catch {
    return undefined; // mid-rename or not written yet
  }
}

/** Every node's applied (generation, sequence), polled every 20 ms for the whole test; a change is recorded once. */
const history = new Map<string, Applied[]>();
let poller: NodeJS.Timeout | undefined;
function startPolling(): void {
  poller = setInterval(() => {
    for (const node of plan.nodes) {
      const a = readApplied(node.runDir);
      if (!a) continue;
      const h = history.get(node.short) ?? [];
      const last = h[h.length - 1];
      if (!last || last.version !== a.version || last.sequence !== a.sequence || last.generation !== a.generation) h.push(a);
      history.set(node.short, h);
    }
  }, 20);
}

const token = () => labApiEnv(state!).EDGENET_TOKEN;
const apiOf = (id: string): ApiClient => labApiClient(state!.api!.byClc![id]!, token());

/** The node's applied document contains `needle` (its GNI file is the document netd applied when versions match). */
function nodeApplied(runDir: string, needle: string): boolean {
  const a = readApplied(runDir);
  let xml: string;
  try {
    xml = readFileSync(path.join(runDir, 'global_network_info.xml'), 'utf8');
  } catch {
    return false;
  }
  return a !== undefined && xml.includes(`version="${a.version}"`) && xml.includes(needle);
}

async function everyNodeApplies(needle: string, what: string): Promise<void> {
  await waitFor(async () => plan.nodes.every((n) => nodeApplied(n.runDir, needle)) || undefined, { timeoutMs: 60_000, intervalMs: 50, what, clock: systemClock });
}

async function runInstance(api: ApiClient): Promise<string> {
  const i = await api.request<InstanceView>('POST', '/v1/instances', { cluster: plan.cluster, node: plan.nodes[0]!.name, groups: ['ha'] });
  return i.id;
}

/** Each CLC's own view; the state file is read again each time (lab clc start records the new pid). */
const clcs = async () => labClcStatus((await readLabState(plan.stateFile))!, { timeoutMs: 3000 });

before(async () => {
  if (!isRoot()) return;
  skipReason = postgresUnavailable();
  if (skipReason) return;
  // --no-wait: the test waits for its own changes on every node (and the CLI's start-up costs seconds on a busy machine).
  const r = await lab(['up', '--db', 'postgres', '--ipv4-only', '--no-wait']);
  assert.equal(r.exitCode, 0, `lab up --db postgres failed:\n${r.stderr}`);
  state = await readLabState(plan.stateFile);
  startPolling();
});

after(async () => {
  if (poller) clearInterval(poller);
  if (!isRoot()) return;
  if (skipReason) return;
  const down = await lab(['down']).catch(() => undefined);
  await teardownByPrefix(labPrefix(name), { exec }).catch(() => undefined);
  await fs.rm(dir, { recursive: true, force: true });
  // lab down stops PostgreSQL by pg_ctl on its data directory and removes the directory with the lab's.
  if (down) assert.match(down.stderr, /and PostgreSQL/, down.stderr);
});

test('lab up --db postgres: PostgreSQL and two CLCs; kill -9 the leader, the other leads within 5 s, changes keep reaching every node, no node goes back, the killed CLC returns as follower', { timeout: 600_000 }, async (t) => {
  if (!requireRoot(t)) return;
  if (skipReason) {
    if (process.env.CI === 'true') throw new Error(`${skipReason}; CI=true makes this a failure`);
    process.stderr.write(`\n!!! SKIPPED: ${skipReason}\n`);
    t.skip(skipReason);
    return;
  }
  assert.ok(state?.api?.byClc, 'the state file lists both CLCs');
  assert.deepEqual(Object.keys(state.api.byClc).sort(), ['clc-1', 'clc-2']);
  assert.ok(state.processes.some((p) => p.role === 'postgres'), 'PostgreSQL is in the state file');
  const env = labApiEnv(state);
  assert.equal(env.EDGENET_URL.split(',').length, 2, `clients get both URLs: ${env.EDGENET_URL}`);

  // Exactly one leads; `lab clc list` and `lab status` say which.
  const first = await waitFor(async () => {
    const s = await clcs();
    return s.filter((c) => c.role === 'leader').length === 1 && s.every((c) => c.role !== undefined) ? s : undefined;
  }, { timeoutMs: 30_000, intervalMs: 100, what: 'one leader and one follower', clock: systemClock });
  const leader = first.find((c) => c.role === 'leader')!;
  const follower = first.find((c) => c.role === 'follower')!;
  const [list, status] = await Promise.all([lab(['clc', 'list']), lab(['status'])]);
  assert.equal(list.exitCode, 0, list.stderr);
  assert.match(list.stdout, new RegExp(`^${leader.id} pid \\d+ leader`, 'm'), list.stdout);
  assert.match(list.stdout, new RegExp(`^${follower.id} pid \\d+ follower`, 'm'), list.stdout);
  assert.match(status.stdout, new RegExp(`${leader.id} leads`), status.stdout);

  // Changes flow, through either CLC: a group through the follower, an instance in it through the leader.
  await apiOf(follower.id).request('POST', '/v1/groups', { name: 'ha', description: 'failover test' });
  const before = await runInstance(apiOf(leader.id));
  await everyNodeApplies(before, `${before} applied on every node (before the kill)`);

  // kill -9 the leader; the other leads within 5 s of the kill.
  const killed = await lab(['clc', 'kill', leader.id, '--json']);
  assert.equal(killed.exitCode, 0, killed.stderr);
  const k = JSON.parse(killed.stdout) as { action: string; clc: string; previousPid: number; at: string };
  assert.deepEqual([k.action, k.clc, k.previousPid], ['kill', leader.id, leader.pid]);
  const killedAt = Date.parse(k.at);
  const deadline = killedAt + 5000;
  let seen: LabClcStatus | undefined;
  const took = await waitFor(
    async () => {
      seen = (await clcs()).find((c) => c.id === follower.id);
      // roleSince is the new leader's own clock (this machine): when it took leadership, not when we looked.
      return seen?.role === 'leader' && seen.roleSince !== undefined && seen.roleSince <= deadline ? seen : undefined;
    },
    { timeoutMs: Math.max(0, deadline - Date.now()) + 500, intervalMs: 50, what: `${follower.id} to lead within 5 s of the kill (last seen ${JSON.stringify(seen)})`, clock: systemClock },
  );
  assert.ok(took.leader && took.leader.clcId === follower.id && took.leader.term > (leader.leader?.term ?? 0), `a new term, ${follower.id}'s: ${JSON.stringify(took.leader)}`);

  // A change made right after reaches every node (meanwhile the killed CLC starts again, the same command line).
  const after = await runInstance(apiOf(follower.id));
  const [started] = await Promise.all([lab(['clc', 'start', leader.id, '--json']), everyNodeApplies(after, `${after} applied on every node (after the failover)`)]);
  assert.equal(started.exitCode, 0, started.stderr);
  // Metadata moved with the leadership: the document names the new leader's CLC_IP (its own address in
  // the control namespace), and an instance reaches it through netd's DNAT of 169.254.169.254.
  const newIp = state.plan.clcs!.find((c) => c.id === follower.id)!.ip;
  await everyNodeApplies(`<property name="enabledCLCIp"><value>${newIp}</value>`, `the new leader's CLC_IP ${newIp} in every node's applied document`);
  const vm = await labVmAdd(state, apiOf(follower.id), { id: before, timeoutMs: 60_000 }, { exec, env: process.env, log: () => undefined });
  const md = await labTopology(state, { exec }).netns.execIn(vm.instance.ns, ['curl', '-s', '-m', '5', 'http://169.254.169.254/latest/meta-data/instance-id'], { okExitCodes: Array.from({ length: 256 }, (_, i) => i) });
  assert.equal(md.stdout, before, `metadata through the new leader: ${md.stderr}`);

  const back = await waitFor(async () => {
    const c = (await clcs()).find((x) => x.id === leader.id);
    return c?.role !== undefined ? c : undefined;
  }, { timeoutMs: 120_000, intervalMs: 200, what: `${leader.id} to answer again`, clock: systemClock });
  assert.equal(back.role, 'follower', `${leader.id} came back as ${back.role}`);
  assert.equal((await clcs()).find((c) => c.id === follower.id)?.role, 'leader', `${follower.id} still leads`);
  // And a change through it (a follower) still reaches every node.
  const third = await runInstance(apiOf(leader.id));
  await everyNodeApplies(third, `${third} applied on every node (through the restarted follower)`);

  // No node ever applied an older (generation, sequence) after a newer one.
  for (const node of plan.nodes) {
    const polled = history.get(node.short) ?? [];
    assert.ok(polled.length >= 3, `${node.short}: polled ${polled.length} applied documents`);
    for (let i = 1; i < polled.length; i++) assert.ok(!older(polled[i]!, polled[i - 1]!), `${node.short} went back from ${JSON.stringify(polled[i - 1])} to ${JSON.stringify(polled[i])}`);
    // netd's own log of every apply (and refusal): applied ones never go back either.
    const events = (await fs.readFile(path.join(node.runDir, 'netd-events.jsonl'), 'utf8'))
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { result: string; generation?: number; sequence?: number; version?: string });
    const applied = events.filter((e) => e.result === 'ok' && e.sequence !== undefined).map((e) => ({ generation: e.generation ?? 0, sequence: e.sequence!, version: e.version ?? '' }));
    assert.ok(applied.length >= 3, `${node.short}: netd logged ${applied.length} applies`);
    for (let i = 1; i < applied.length; i++) assert.ok(!older(applied[i]!, applied[i - 1]!), `${node.short}: netd applied ${JSON.stringify(applied[i])} after ${JSON.stringify(applied[i - 1])}`);
  }
});
