/**
 * GNI bench: build + serialize time at 1,000 and 10,000 instances (1,000
 * groups × 10 rules, 10 clusters × 10 nodes), document size, parse and
 * header-read time, for both XML engines of parseGni. Target (architecture.md §7): build (serialize included)
 * under 200 ms at 10,000 instances.
 *
 * The builder memoizes on the identity of the snapshot's parts, so "from
 * scratch" builds a deep copy of the snapshot (copied outside the timer: no
 * memo entry applies), and the incremental columns build a snapshot that
 * differs from the previous one in one group's rules / one added instance,
 * everything else the same objects (what the snapshot cache hands over).
 *
 *   node --import tsx bench/gni.bench.ts [--runs N] [--file GNI.xml] [--parse-runs M]
 *
 * Prints a markdown table (median and best of N runs after warm-up runs);
 * paste it into bench/results/gni.md.
 *
 * Then, as netd does it (a long-running process parsing a string read from
 * the shared file): parseGni on a real document (`--file`, default the lab's
 * bench/out/gni-10k.xml, a kept lab document, when present; else the same shape generated: bench/lab-document.ts) 20 + M times in a row in a fresh
 * process (M default 60), nothing forced between runs, so GC pauses land in
 * the samples; the first 20 (JIT warm-up) apart, then median / p95 / best
 * wall time and median CPU of the M steady-state runs.
 */
import { GniEncoder } from '../src/cloud-controller/gni/encoder.ts';
import type { CloudSnapshot } from '../src/cloud-controller/contracts.ts';
import { parseGni, serializeGni, serializeGniBody } from '../src/shared/gni/codec.ts';
import { readGniHeader } from '../src/shared/gni/header.ts';
import { syntheticSnapshot } from '../test/fixtures/gni/synthetic.ts';
import { DEFAULT_LAB_DOCUMENT, labDocument } from './lab-document.ts';
import { GNI_ENGINES } from '../test/helpers/gni-oracle/fast-xml-parser-engine.ts';

const argOf = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const RUNS = Number(argOf('--runs') ?? 9);
const PARSE_RUNS = Number(argOf('--parse-runs') ?? 60);
const LAB_FILE = argOf('--file') ?? DEFAULT_LAB_DOCUMENT;
const WARMUP = 3;

/**
 * Wall time of one call. The bench machine is shared, so the headline cell
 * also reports process CPU time (user + system, all threads, so GC helpers
 * count), which does not grow when other processes take the cores.
 */
function time<T>(fn: () => T): { ms: number; value: T; cpuMs: number } {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const value = fn();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(c0);
  return { ms, value, cpuMs: (c.user + c.system) / 1000 };
}

function stats(samples: number[]): { median: number; best: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)] ?? NaN, best: s[0] ?? NaN };
}

const fmt = (ms: number) => (ms < 1 ? ms.toFixed(3) : ms.toFixed(1));

interface Row {
  instances: number;
  build: { median: number; best: number };
  encode: { median: number; best: number };
  afterRule: { median: number; best: number };
  afterRun: { median: number; best: number };
  serialize: { median: number; best: number };
  body: { median: number; best: number };
  total: { median: number; best: number };
  totalCpu: { median: number; best: number };
  bytes: number;
  parse?: { median: number; best: number };
  scan?: { median: number; best: number };
  header?: { median: number; best: number };
}

function measure(instances: number, withParse: boolean): Row {
  const snapshot = syntheticSnapshot({ instances, groups: 1000, rulesPerGroup: 10, clusters: 10, nodesPerCluster: 10 });
  const build: number[] = [];
  const enc: number[] = [];
  const ser: number[] = [];
  const body: number[] = [];
  const total: number[] = [];
  const totalCpu: number[] = [];
  const afterRule: number[] = [];
  const afterRun: number[] = [];
  let xml = '';
  // Snapshots from the store are sorted by id (the synthetic one is not).
  const encoder = new GniEncoder();
  let current: CloudSnapshot = { ...snapshot, instances: [...snapshot.instances].sort((a, b) => (a.id < b.id ? -1 : 1)) };
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const copy = structuredClone(snapshot);
    const b = time(() => encoder.build(copy));
    // What the broadcaster sends: the sequence stamped, UTF-8 bytes.
    const e = time(() => b.value.encode(i + 1));
    // The preview route's text (the body is materialized from the bytes on first use).
    const s = time(() => serializeGni({ ...b.value.doc, sequence: i + 1 }));
    // The same content as a fresh object: no cached body, the full serialization cost.
    const plain = { ...b.value.doc };
    const u = time(() => serializeGniBody(plain));
    xml = s.value;
    // Incremental: one group's rules changed (an authorize), then one instance added (a run).
    encoder.build(current);
    current = withOneRule(current, i);
    const r = time(() => encoder.build(current).encode(i + 1));
    current = withOneInstance(current, i);
    const n = time(() => encoder.build(current).encode(i + 1));
    if (i < WARMUP) continue;
    build.push(b.ms);
    enc.push(e.ms);
    ser.push(s.ms);
    body.push(u.ms);
    total.push(b.ms + e.ms);
    totalCpu.push(b.cpuMs + e.cpuMs);
    afterRule.push(r.ms);
    afterRun.push(n.ms);
  }
  const row: Row = {
    instances,
    build: stats(build),
    encode: stats(enc),
    afterRule: stats(afterRule),
    afterRun: stats(afterRun),
    serialize: stats(ser),
    body: stats(body),
    total: stats(total),
    totalCpu: stats(totalCpu),
    bytes: Buffer.byteLength(xml),
  };
  if (withParse) {
    const parse: number[] = [];
    const scan: number[] = [];
    const header: number[] = [];
    const buf = Buffer.from(xml);
    for (let i = 0; i < WARMUP + Math.max(3, Math.floor(RUNS / 2)); i++) {
      const p = time(() => parseGni(buf, { engine: GNI_ENGINES['fast-xml-parser'] }));
      if (!p.value.ok) throw new Error(`bench document did not parse: ${JSON.stringify(p.value.diagnostics.slice(0, 3))}`);
      const q = time(() => parseGni(buf, { engine: GNI_ENGINES.scan }));
      if (!q.value.ok) throw new Error('bench document did not parse with the scan engine');
      const h = time(() => {
        let last;
        for (let k = 0; k < 1000; k++) last = readGniHeader(buf);
        return last;
      });
      if (i < WARMUP) continue;
      parse.push(p.ms);
      scan.push(q.ms);
      header.push(h.ms / 1000);
    }
    row.parse = stats(parse);
    row.scan = stats(scan);
    row.header = stats(header);
  }
  return row;
}

/** `s` with one more rule in one group (a new group object, a new groups array; everything else shared). */
function withOneRule(s: CloudSnapshot, k: number): CloudSnapshot {
  const groups = [...s.groups];
  const at = (k * 37) % groups.length;
  const g = groups[at]!;
  groups[at] = { ...g, rules: [...g.rules, { protocol: 6, fromPort: 40_000 + k, toPort: 40_000 + k, cidr: '198.51.100.0/24' }] };
  return { ...s, groups };
}

/** `s` with one more instance (a copy of an existing one under a new id; everything else shared). */
function withOneInstance(s: CloudSnapshot, k: number): CloudSnapshot {
  const base = s.instances[(k * 101) % s.instances.length]!;
  const id = `i-ff${k.toString(16).padStart(6, '0')}`;
  const instances = [...s.instances];
  // Sorted by id, as snapshots are.
  let at = 0;
  while (at < instances.length && instances[at]!.id < id) at++;
  instances.splice(at, 0, { ...base, id, mac: `d0:0d:ff:${id.slice(4, 6)}:${id.slice(6, 8)}:${id.slice(8, 10)}`, privateIp: `10.250.${k >> 8}.${k & 255}` });
  return { ...s, instances };
}

const repeated = repeatedParse(LAB_FILE);
measure(1000, false); // JIT warm-up for both sizes before anything is recorded
const rows = [measure(1000, true), measure(10000, true)];
console.log(`node ${process.version}, ${process.platform}/${process.arch}, runs=${RUNS} (median / best, ms)\n`);
console.log(
  '| instances | groups × rules | build from scratch (incl. sha256) | encode (sequence + UTF-8 bytes) | build + encode (wall) | build + encode (CPU) | after one rule: build + encode | after one instance: build + encode | serializeGni({...doc, sequence}) after build | serializeGniBody, uncached | document bytes | parseGni (Buffer, fast-xml-parser) | parseGni (Buffer, engine scan) | readGniHeader |',
);
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const cell = (s: { median: number; best: number } | undefined) => (s === undefined ? '–' : `${fmt(s.median)} / ${fmt(s.best)}`);
  console.log(
    `| ${r.instances.toLocaleString('en')} | 1,000 × 10 | ${cell(r.build)} | ${cell(r.encode)} | ${cell(r.total)} | ${cell(r.totalCpu)} | ${cell(r.afterRule)} | ${cell(r.afterRun)} | ${cell(r.serialize)} | ${cell(r.body)} | ${r.bytes.toLocaleString('en')} | ${cell(r.parse)} | ${cell(r.scan)} | ${cell(r.header)} |`,
  );
}
const ten = rows[1];
if (ten !== undefined) {
  const verdict = (ms: number) => (ms < 200 ? 'within' : 'OVER');
  console.log(`\n10,000 instances build + encode from scratch: wall median ${fmt(ten.total.median)} ms (${verdict(ten.total.median)} the 200 ms target), best ${fmt(ten.total.best)} ms, CPU median ${fmt(ten.totalCpu.median)} ms`);
  console.log(`load average at the end: ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')} on ${(await import('node:os')).availableParallelism()} CPUs`);
}

/**
 * parseGni(string) back to back in one process, as netd runs it. Called before
 * anything else, so the heap and the JIT have seen only this (a node's netd
 * parses with the scan engine only); printed at the end. The first
 * COLD_RUNS are reported apart: they are what a freshly started netd sees
 * while the JIT optimizes the reader; the rest is the steady state.
 */
function repeatedParse(path: string): string[] {
  const COLD_RUNS = 20;
  const { text, source: file } = labDocument(path);
  const cold: number[] = [];
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < COLD_RUNS + PARSE_RUNS; i++) {
    const t = time(() => parseGni(text));
    if (!t.value.ok) throw new Error(`${file} did not parse: ${JSON.stringify(t.value.diagnostics.slice(0, 3))}`);
    if (i < COLD_RUNS) cold.push(t.ms);
    else {
      wall.push(t.ms);
      cpu.push(t.cpuMs);
    }
  }
  const sortedWall = [...wall].sort((a, b) => a - b);
  const p95 = sortedWall[Math.min(sortedWall.length - 1, Math.floor(sortedWall.length * 0.95))] ?? NaN;
  const w = stats(wall);
  const c = stats(cpu);
  return [
    `\nparseGni(string) of ${file} (${Buffer.byteLength(text).toLocaleString('en')} bytes) back to back in a fresh process, GC included:`,
    '| first runs (cold) median | steady runs | wall median | wall p95 | wall best | CPU median (all threads) |',
    '|---:|---:|---:|---:|---:|---:|',
    `| ${fmt(stats(cold).median)} (${COLD_RUNS}) | ${PARSE_RUNS} | ${fmt(w.median)} | ${fmt(p95)} | ${fmt(w.best)} | ${fmt(c.median)} |`,
  ];
}

for (const line of repeated) console.log(line);
