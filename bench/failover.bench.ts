/**
 * Failover bench (issue 16): in a lab on PostgreSQL (`lab up --db postgres`:
 * PostgreSQL in the control namespace, clc-1 and clc-2 on it), N times:
 * kill -9 the leading CLC, then time
 *   elected  = the other CLC's own roleSince (when it became leader, from
 *              its /v1/status leadership block) − the kill;
 *   first    = the first document of the new leader applied on a node − the
 *              kill: netd's own appliedAt (netd-status.json) of the first
 *              (generation, sequence) above what every node had applied at
 *              the kill, seen by polling each node's file every 20 ms;
 *   all      = the same on the last node.
 * Before each kill every node has applied the current document (nothing in
 * flight from the old leader, so "above what was applied" can only be the new
 * leader's). The killed CLC is started again (same command line) and must
 * answer as follower before the next round. Timestamps are all this
 * machine's clock. Prints median and worst, and the load average before and
 * after.
 *
 *   node --import tsx bench/failover.bench.ts [--runs 10] [--name fo] [--keep]
 *
 * Root; needs PostgreSQL (Debian's postgresql package). --keep leaves the lab up.
 */
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { createExec } from '../src/shared/exec.ts';
import { systemClock } from '../src/shared/clock.ts';
import { waitFor } from '../src/shared/wait.ts';
import { labPlan } from '../src/lab/plan.ts';
import { labUp } from '../src/lab/up.ts';
import { labDown } from '../src/lab/down.ts';
import { readLabState } from '../src/lab/state.ts';
import { labClcStatus } from '../src/lab/status.ts';
import { labDaemonAction } from '../src/lab/daemon-control.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' }, name: { type: 'string', default: 'fo' }, keep: { type: 'boolean', default: false } } });
const runs = Number(values.runs);
const exec = createExec();
const dir = path.join(os.tmpdir(), `edgenet-lab-bench-${values.name}`);
const plan = labPlan(values.name!, dir, { ipv4Only: true, db: 'postgres' });
const log = (line: string) => process.stderr.write(`${line}\n`);

interface Applied {
  readonly generation: number;
  readonly sequence: number;
  readonly at: number;
}

function applied(runDir: string): Applied | undefined {
  try {
    const s = JSON.parse(readFileSync(path.join(runDir, 'netd-status.json'), 'utf8')) as { appliedGeneration?: number; appliedSequence?: number; appliedAt?: string };
    return s.appliedSequence === undefined || s.appliedAt === undefined ? undefined : { generation: s.appliedGeneration ?? 0, sequence: s.appliedSequence, at: Date.parse(s.appliedAt) };
  } catch {
    return undefined;
  }
}
const newer = (a: Applied, b: { generation: number; sequence: number }) => a.generation > b.generation || (a.generation === b.generation && a.sequence > b.sequence);

const clcs = async () => labClcStatus((await readLabState(plan.stateFile))!, { timeoutMs: 3000 });
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the failover bench needs root (the lab)');
  const loadBefore = load();
  log(`lab ${plan.name}: up --db postgres (${dir}); load ${loadBefore}`);
  const upStart = Date.now();
  await labUp({ name: plan.name, dir, db: 'postgres', ipv4Only: true }, { exec, env: process.env, log });
  log(`lab up in ${((Date.now() - upStart) / 1000).toFixed(1)} s`);
  const rows: { killed: string; elected: number; first: number; all: number; restart: number }[] = [];
  try {
    for (let run = 1; run <= runs; run++) {
      // One leader, one follower, every node on the current document.
      const view = await waitFor(async () => {
        const s = await clcs();
        return s.filter((c) => c.role === 'leader').length === 1 && s.filter((c) => c.role === 'follower').length === 1 ? s : undefined;
      }, { timeoutMs: 120_000, intervalMs: 100, what: 'one leader and one follower', clock: systemClock });
      const leader = view.find((c) => c.role === 'leader')!;
      const follower = view.find((c) => c.role === 'follower')!;
      const base = await waitFor(async () => {
        const a = plan.nodes.map((n) => applied(n.runDir));
        if (a.some((x) => x === undefined)) return undefined;
        const top = a.reduce((m, x) => (newer(x!, m!) ? x : m))!;
        // Settled: every node on the same document, and it stays so for 300 ms.
        if (!a.every((x) => x!.sequence === top.sequence && x!.generation === top.generation)) return undefined;
        await new Promise((r) => setTimeout(r, 300));
        const again = plan.nodes.map((n) => applied(n.runDir));
        return again.every((x) => x && x.sequence === top.sequence && x.generation === top.generation) ? top : undefined;
      }, { timeoutMs: 60_000, intervalMs: 50, what: 'every node on the same document', clock: systemClock });

      const state = (await readLabState(plan.stateFile))!;
      const k = await labDaemonAction(state, { action: 'kill', role: 'clc', clc: leader.id }, { exec });
      const killedAt = Date.parse(k.at);
      const firsts = new Map<string, number>();
      await waitFor(async () => {
        for (const n of plan.nodes) {
          const a = applied(n.runDir);
          if (a && !firsts.has(n.short) && newer(a, base)) firsts.set(n.short, a.at);
        }
        return firsts.size === plan.nodes.length || undefined;
      }, { timeoutMs: 60_000, intervalMs: 20, what: "the new leader's first document on every node", clock: systemClock });
      const elected = await waitFor(async () => {
        const c = (await clcs()).find((x) => x.id === follower.id);
        return c?.role === 'leader' && c.roleSince !== undefined ? c.roleSince : undefined;
      }, { timeoutMs: 30_000, intervalMs: 50, what: `${follower.id} to lead`, clock: systemClock });
      const times = [...firsts.values()];
      const restartStart = Date.now();
      await labDaemonAction((await readLabState(plan.stateFile))!, { action: 'start', role: 'clc', clc: leader.id }, { exec });
      await waitFor(async () => ((await clcs()).find((x) => x.id === leader.id)?.role === 'follower' ? true : undefined), { timeoutMs: 180_000, intervalMs: 200, what: `${leader.id} back as follower`, clock: systemClock });
      const row = { killed: leader.id, elected: elected - killedAt, first: Math.min(...times) - killedAt, all: Math.max(...times) - killedAt, restart: Date.now() - restartStart };
      rows.push(row);
      log(`run ${run}: killed ${row.killed}; ${follower.id} led after ${row.elected} ms; first node applied its document after ${row.first} ms, every node after ${row.all} ms (killed CLC back as follower in ${(row.restart / 1000).toFixed(1)} s); load ${load()}`);
    }
  } finally {
    if (!values.keep) await labDown({ name: plan.name, dir }, { exec, env: process.env, log });
  }
  const col = (k: 'elected' | 'first' | 'all') => rows.map((r) => r[k]);
  const line = (what: string, xs: number[]) => `| ${what} | ${median(xs)} ms | ${Math.max(...xs)} ms | ${Math.min(...xs)} ms |`;
  process.stdout.write(
    [
      `failover bench: ${rows.length} kills of the leading CLC (lab on PostgreSQL, 2 CLCs, 2 nodes), ${new Date().toISOString()}`,
      `load average before: ${loadBefore}; after: ${load()}; ${os.cpus().length} CPUs; Node ${process.version}`,
      '',
      '| kill → | median | worst | best |',
      '|---|---|---|---|',
      line('the other CLC leads (its roleSince)', col('elected')),
      line("the new leader's first document applied on a node (netd appliedAt)", col('first')),
      line('… on every node', col('all')),
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
