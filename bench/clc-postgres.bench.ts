/**
 * The CLC's store on PostgreSQL next to SQLite, in one run (issue 16): the
 * same cloud as bench/clc.bench.ts (10 clusters, 100 nodes, 1,000 groups of
 * `rulesPerGroup` rules, a third of them group-to-group, instances in two
 * groups each) is built on each store through the calls the HTTP API makes
 * (CloudState / PropertyService, no HTTP), and measured:
 *
 * - `instance run` latency (CloudState.runInstance: one write transaction —
 *   settings read, hold expiry, node/group checks, id + MAC + private IP,
 *   the instance rows; on PostgreSQL also the write lock, data_version,
 *   NOTIFY and the commit token), each run timed alone, one after another:
 *   p50 / p99 / max of `runs` on the empty cloud and again at `instances`;
 * - filling up to `instances` in parallel batches of 500 (throughput);
 * - the broadcaster's cycle at `instances`: snapshot + GNI build + encode,
 *   a full read (the periodic one; every table read again), and the
 *   incremental one after one authorize and after one instance run (what a
 *   change costs), medians of 15 after 5 warm-up.
 *
 * Durability is the same on both, production-like: SQLite WAL with
 * synchronous=FULL (an fsync per commit); PostgreSQL 15 as Debian ships it
 * plus fsync=on, synchronous_commit=on, full_page_writes=on (a WAL flush per
 * commit), a throwaway cluster on the same disk reached over TCP loopback
 * (test/helpers/postgres.ts, durability 'full'; needs root).
 *
 *   node --import tsx bench/clc-postgres.bench.ts [instances=10000] [rulesPerGroup=10] [runs=500] [--only sqlite|postgres]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Store } from '../src/cloud-controller/db/store.ts';
import { PropertyService } from '../src/cloud-controller/properties/service.ts';
import { CloudState } from '../src/cloud-controller/services/cloud-state.ts';
import { BENCH_CLOUD_CONFIG, broadcastCycle } from './broadcast-cycle.ts';
import { systemClock } from '../src/shared/clock.ts';
import { postgresUnavailable, startPostgres, type PgServer } from '../test/helpers/postgres.ts';

const positional = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--only');
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const INSTANCES = Number(positional[0] ?? 10_000);
const RULES = Number(positional[1] ?? 10);
const RUNS = Number(positional[2] ?? 500);
const GROUPS = 1_000;
const NODES = 100;
const BATCH = 500;

const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();
const quantile = (xs: readonly number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const median = (xs: readonly number[]) => quantile(xs, 0.5);
const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);

interface Figures {
  setupGroups: number;
  setupRules: number;
  runEmpty: number[];
  fillMs: number;
  fillCount: number;
  runFull: number[];
  cycles: Record<'full' | 'authorize' | 'run', { snapshot: number; build: number; encode: number; total: number; cpu: number; bytes: number; kind: string }>;
}

async function measure(store: Store): Promise<Figures> {
  const properties = new PropertyService(store, systemClock);
  const state = new CloudState({ store, clock: systemClock, clcIp: '10.0.0.1' });
  const config = BENCH_CLOUD_CONFIG;
  await properties.set('cloud.network.network_configuration', JSON.stringify(config));
  for (let c = 0; c < 10; c++) await state.registerCluster({ name: `C${c}`, ccUrl: `https://10.254.${c}.1:8774/` });
  for (let n = 0; n < NODES; n++) await state.registerNode({ cluster: `C${n % 10}`, name: `10.253.${Math.floor(n / 250)}.${(n % 250) + 1}`, ncUrl: `https://10.253.0.${n + 1}:8775/` });

  let t = performance.now();
  const groupIds: string[] = [];
  for (let g = 0; g < GROUPS; g++) groupIds.push((await state.createGroup({ name: `g${g}` })).id);
  const setupGroups = performance.now() - t;
  t = performance.now();
  for (let g = 0; g < GROUPS; g++) {
    const permissions = Array.from({ length: RULES }, (_, r) =>
      r % 3 === 0 ? { protocol: 'tcp', port: String(1000 + r), sourceGroup: groupIds[(g + r) % GROUPS] } : { protocol: r % 2 ? 'udp' : 'tcp', port: String(2000 + r), cidr: `192.168.${r}.0/24` },
    );
    await state.authorize(groupIds[g], undefined, { permissions });
  }
  const setupRules = performance.now() - t;

  const node = (i: number) => `10.253.${Math.floor((i % NODES) / 250)}.${((i % NODES) % 250) + 1}`;
  const run = (i: number) => state.runInstance({ cluster: `C${(i % NODES) % 10}`, node: node(i), groups: [groupIds[i % GROUPS]!, groupIds[(i + 1) % GROUPS]!] });
  const timedRuns = async (from: number, count: number) => {
    const out: number[] = [];
    for (let i = from; i < from + count; i++) {
      const t0 = performance.now();
      await run(i);
      out.push(performance.now() - t0);
    }
    return out;
  };

  const runEmpty = await timedRuns(0, RUNS);
  t = performance.now();
  let made = RUNS;
  for (; made < INSTANCES; made += BATCH) await Promise.all(Array.from({ length: Math.min(BATCH, INSTANCES - made) }, (_, k) => run(made + k)));
  made = Math.max(made, INSTANCES);
  const fillMs = performance.now() - t;
  const fillCount = Math.max(0, INSTANCES - RUNS);
  const runFull = await timedRuns(made, RUNS);
  made += RUNS;

  // The broadcaster's cycle, as bench/clc.bench.ts times it.
  const cycle = broadcastCycle(state);
  const series = async (change: () => Promise<unknown>, options?: { full?: boolean }) => {
    const rows: Awaited<ReturnType<typeof cycle>>[] = [];
    for (let k = 0; k < 20; k++) {
      await change();
      const r = await cycle(options);
      if (k >= 5) rows.push(r);
    }
    const m = (key: 'snapshot' | 'build' | 'encode' | 'total' | 'cpu') => median(rows.map((r) => r[key]));
    const kinds = [...new Set(rows.map((r) => r.kind))].join('/');
    return { snapshot: m('snapshot'), build: m('build'), encode: m('encode'), total: m('total'), cpu: m('cpu'), bytes: rows[0]!.bytes, kind: kinds };
  };
  await cycle({ full: true });
  let port = 30_000;
  const authorize = () => state.authorize(groupIds[port % groupIds.length], undefined, { protocol: 'tcp', port: String(port++), cidr: '198.51.100.0/24' });
  const cycles = {
    full: await series(authorize, { full: true }),
    authorize: await series(authorize),
    run: await series(() => run(made++)),
  };
  return { setupGroups, setupRules, runEmpty, fillMs, fillCount, runFull, cycles };
}

function table(results: ReadonlyArray<[string, Figures]>): string {
  const rows: string[] = [];
  const row = (label: string, cell: (f: Figures) => string) => rows.push(`| ${label} | ${results.map(([, f]) => cell(f)).join(' | ')} |`);
  rows.push(`| | ${results.map(([name]) => name).join(' | ')} |`);
  rows.push(`|---|${results.map(() => '---').join('|')}|`);
  const lat = (xs: number[]) => `p50 **${f2(median(xs))}** / p99 ${f2(quantile(xs, 0.99))} / max ${f1(Math.max(...xs))} ms`;
  row(`\`instance run\`, empty cloud (${RUNS} runs, one at a time)`, (f) => lat(f.runEmpty));
  row(`\`instance run\` at ${INSTANCES.toLocaleString('en')} instances (${RUNS} runs)`, (f) => lat(f.runFull));
  row(`fill: ${Math.max(0, INSTANCES - RUNS).toLocaleString('en')} runs in parallel batches of ${BATCH}`, (f) => `${(f.fillMs / 1000).toFixed(1)} s (${f2(f.fillMs / Math.max(1, f.fillCount))} ms each)`);
  row(`setup: ${GROUPS} groups / ${GROUPS} authorizes of ${RULES} rules (one at a time)`, (f) => `${f2(f.setupGroups / GROUPS)} / ${f2(f.setupRules / GROUPS)} ms each`);
  const cyc = (k: 'full' | 'authorize' | 'run') => (f: Figures) => {
    const c = f.cycles[k];
    return `snapshot ${f1(c.snapshot)} + build ${f1(c.build)} + encode ${f1(c.encode)} = **${f1(c.total)} ms**, CPU ${f1(c.cpu)} ms (${c.kind})`;
  };
  row(`full snapshot + build + encode at ${INSTANCES.toLocaleString('en')} (periodic)`, cyc('full'));
  row('incremental, after one authorize', cyc('authorize'));
  row('incremental, after one instance run', cyc('run'));
  row('document', (f) => `${(f.cycles.full.bytes / 1e6).toFixed(2)} MB`);
  return rows.join('\n');
}

const results: Array<[string, Figures]> = [];
const loads: string[] = [`start: ${uptime()}`];
const started = new Date().toISOString();
let server: PgServer | undefined;
const dir = mkdtempSync(path.join(tmpdir(), 'edgenet-bench-pg-'));
try {
  /** One store's figures, then the load after it. */
  const measureOn = async (label: string, after: string, location: string) => {
    const store = await Store.open(location);
    try {
      console.error(`${label}…`);
      results.push([label, await measure(store)]);
    } finally {
      await store.close();
    }
    loads.push(`after ${after}: ${uptime()}`);
  };
  if (only !== 'postgres') await measureOn('SQLite (WAL, synchronous=FULL)', 'SQLite', path.join(dir, 'clc.db'));
  if (only !== 'sqlite') {
    const why = postgresUnavailable();
    if (why !== undefined) throw new Error(`PostgreSQL part not run: ${why}`);
    server = await startPostgres({ durability: 'full' });
    await measureOn('PostgreSQL (fsync=on, synchronous_commit=on, loopback TCP)', 'PostgreSQL', await server.createDatabase('bench'));
  }
} finally {
  server?.stop();
  rmSync(dir, { recursive: true, force: true });
}
console.log(`## ${started} — \`node --import tsx bench/clc-postgres.bench.ts ${process.argv.slice(2).join(' ')}\`\n`);
console.log(`${INSTANCES.toLocaleString('en')} instances, ${GROUPS} groups × ${RULES} rules, ${NODES} nodes in 10 clusters; Node ${process.version}.\n`);
console.log(table(results));
console.log(`\nLoad (uptime):\n${loads.map((l) => `- ${l}`).join('\n')}`);
