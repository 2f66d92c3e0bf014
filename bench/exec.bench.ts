/**
 * Exec bench: the plain exec (execa: a fork+exec of this process per command)
 * against the spawner (src/shared/spawner.ts: one line to a long-lived
 * /bin/sh) from a process inflated to netd's size (~170 MB RSS), for the
 * commands of a netd sync.
 *
 *   node --import tsx bench/exec.bench.ts [--runs 40] [--rss-mb 170]
 *
 * Per exec and command: sequential latency (one command at a time: `run`
 * called → resolved), 6 in parallel (netd's parallel kernel reads: the wall
 * time of the batch), and how long each command blocks this process's event
 * loop (a separate pass: a setImmediate chain turns while the commands run
 * one at a time; per command the longest gap between two turns). With
 * `node --expose-gc` a full GC runs before each pass, so the 170 MB heap's
 * collections do not land in one exec's figures. `iptables-save` needs root;
 * without it the row is skipped. Results go to stdout as markdown and to
 * bench/results/exec.md.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { createExec, type Exec } from '../src/shared/exec.ts';
import { createSpawnerExec } from '../src/shared/spawner.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '40' }, 'rss-mb': { type: 'string', default: '170' } } });
const RUNS = Number(values.runs);
const RSS_MB = Number(values['rss-mb']);
if (!Number.isInteger(RUNS) || RUNS < 2) throw new Error(`--runs must be an integer ≥ 2, not ${values.runs}`);
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const log = (line: string) => process.stderr.write(`${line}\n`);

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
const ms = (x: number) => x.toFixed(1);

/** Grows this process to about `mb` MB resident, netd's shape: a JS heap of small objects and some buffers. */
function inflate(mb: number): unknown[] {
  const keep: unknown[] = [];
  const rss = () => process.memoryUsage().rss / 2 ** 20;
  // Half as JS objects (the parsed document and rendered state of netd), half as buffers (file contents).
  while (rss() < mb / 2) keep.push(Array.from({ length: 10_000 }, (_, i) => ({ i, name: `vn_i-${i.toString(16)}`, rules: [i, i + 1] })));
  while (rss() < mb) keep.push(Buffer.alloc(4 * 2 ** 20, 1));
  return keep;
}

/** The longest event-loop gap while `work` runs: a setImmediate chain records the time between its turns. */
async function longestGap(work: () => Promise<unknown>): Promise<number> {
  let longest = 0;
  let running = true;
  let last = performance.now();
  const turn = () => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    if (running) setImmediate(turn);
  };
  setImmediate(turn);
  await work();
  running = false;
  return longest;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

interface Row {
  readonly exec: string;
  readonly command: string;
  readonly seq: number[];
  readonly par: number[];
  /** Per command, the longest event-loop gap while it ran. */
  readonly blocked: number[];
}

async function measure(name: string, exec: Exec, argv: readonly string[]): Promise<Row> {
  await exec.run(argv); // warm: the shell started, the binary in the page cache
  gc();
  const seq: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await exec.run(argv);
    seq.push(performance.now() - t0);
  }
  gc();
  const blocked: number[] = [];
  for (let i = 0; i < RUNS; i++) blocked.push(await longestGap(() => exec.run(argv)));
  gc();
  const par: number[] = [];
  for (let i = 0; i < Math.max(5, Math.round(RUNS / 4)); i++) {
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 6 }, () => exec.run(argv)));
    par.push(performance.now() - t0);
  }
  return { exec: name, command: argv.join(' '), seq, par, blocked };
}

async function main(): Promise<void> {
  const ballast = inflate(RSS_MB);
  const rss = Math.round(process.memoryUsage().rss / 2 ** 20);
  const loadBefore = load();
  log(`inflated to ${rss} MB RSS (${ballast.length} pieces); load ${loadBefore}`);
  const commands: string[][] = [['ip', '-j', '-d', 'addr', 'show'], ...(process.getuid?.() === 0 ? [['iptables-save']] : []), ['/usr/bin/true']];
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'edgenet-exec-bench-'));
  const plain = createExec();
  const spawner = createSpawnerExec({ dir: path.join(dir, 'exec') });
  const rows: Row[] = [];
  try {
    for (const argv of commands) {
      // Alternate, so a change in the machine's load hits both alike.
      for (const [name, exec] of [['plain (execa)', plain], ['spawner (/bin/sh)', spawner]] as const) {
        const row = await measure(name, exec, argv);
        rows.push(row);
        log(`${row.exec} ${row.command}: seq p50 ${ms(percentile(row.seq, 50))} ms, 6-par p50 ${ms(percentile(row.par, 50))} ms, loop blocked p50 ${ms(percentile(row.blocked, 50))} ms; load ${load()}`);
      }
    }
  } finally {
    await spawner.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
  const text = [
    `exec bench: ${RUNS} sequential runs and ${Math.max(5, Math.round(RUNS / 4))} batches of 6 per exec and command, from a process of ${rss} MB RSS, ${new Date().toISOString()}`,
    `load average before: ${loadBefore}; after: ${load()}; ${os.cpus().length} CPUs; Node ${process.version}; GC before each pass: ${(globalThis as { gc?: unknown }).gc ? 'yes' : 'no (run with --expose-gc)'}`,
    '',
    `| command | exec | sequential p50 / p95 | 6 in parallel p50 / p95 (batch) | event loop blocked per command p50 / p95 / max |`,
    '|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| \`${r.command}\` | ${r.exec} | ${ms(percentile(r.seq, 50))} / ${ms(percentile(r.seq, 95))} ms | ${ms(percentile(r.par, 50))} / ${ms(percentile(r.par, 95))} ms | ${ms(percentile(r.blocked, 50))} / ${ms(percentile(r.blocked, 95))} / ${ms(Math.max(...r.blocked))} ms |`,
    ),
    '',
  ].join('\n');
  process.stdout.write(text);
  await fs.mkdir(path.join(import.meta.dirname, 'results'), { recursive: true });
  await fs.writeFile(path.join(import.meta.dirname, 'results', 'exec.md'), text);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
