/**
 * GNI bench: build + serialize time at 1,000 and 10,000 instances (1,000
 * groups × 10 rules, 10 clusters × 10 nodes), document size, parse and
 * header-read time, for both XML engines of parseGni. Target (architecture.md §7): build (serialize included)
 * under 200 ms at 10,000 instances.
 *
 *   node --import tsx bench/gni.bench.ts [--runs N]
 *
 * Prints a markdown table (median and best of N runs after warm-up runs);
 * paste it into bench/results/gni.md.
 */
import { buildGni } from '../src/cloud-controller/gni/builder.ts';
import { parseGni, serializeGni, serializeGniBody } from '../src/shared/gni/codec.ts';
import { readGniHeader } from '../src/shared/gni/header.ts';
import { syntheticSnapshot } from '../test/fixtures/gni/synthetic.ts';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 9;
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
  const ser: number[] = [];
  const body: number[] = [];
  const total: number[] = [];
  const totalCpu: number[] = [];
  let xml = '';
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const b = time(() => buildGni(snapshot, {}));
    // As the broadcaster does: a copy carrying the sequence, sharing the content objects.
    const s = time(() => serializeGni({ ...b.value, sequence: i + 1 }));
    // The same content as a fresh object: no cached body, the full serialization cost.
    const copy = { ...b.value };
    const u = time(() => serializeGniBody(copy));
    xml = s.value;
    if (i < WARMUP) continue;
    build.push(b.ms);
    ser.push(s.ms);
    body.push(u.ms);
    total.push(b.ms + s.ms);
    totalCpu.push(b.cpuMs + s.cpuMs);
  }
  const row: Row = { instances, build: stats(build), serialize: stats(ser), body: stats(body), total: stats(total), totalCpu: stats(totalCpu), bytes: Buffer.byteLength(xml) };
  if (withParse) {
    const parse: number[] = [];
    const scan: number[] = [];
    const header: number[] = [];
    const buf = Buffer.from(xml);
    for (let i = 0; i < WARMUP + Math.max(3, Math.floor(RUNS / 2)); i++) {
      const p = time(() => parseGni(buf));
      if (!p.value.ok) throw new Error(`bench document did not parse: ${JSON.stringify(p.value.diagnostics.slice(0, 3))}`);
      const q = time(() => parseGni(buf, { engine: 'scan' }));
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

measure(1000, false); // JIT warm-up for both sizes before anything is recorded
const rows = [measure(1000, true), measure(10000, true)];
console.log(`node ${process.version}, ${process.platform}/${process.arch}, runs=${RUNS} (median / best, ms)\n`);
console.log('| instances | groups × rules | buildGni (incl. body serialize + sha256) | serializeGni({...doc, sequence}) after build | build + serialize (wall) | build + serialize (CPU) | serializeGniBody, uncached | document bytes | parseGni (Buffer, fast-xml-parser) | parseGni (Buffer, engine scan) | readGniHeader |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const cell = (s: { median: number; best: number } | undefined) => (s === undefined ? '–' : `${fmt(s.median)} / ${fmt(s.best)}`);
  console.log(`| ${r.instances.toLocaleString('en')} | 1,000 × 10 | ${cell(r.build)} | ${cell(r.serialize)} | ${cell(r.total)} | ${cell(r.totalCpu)} | ${cell(r.body)} | ${r.bytes.toLocaleString('en')} | ${cell(r.parse)} | ${cell(r.scan)} | ${cell(r.header)} |`);
}
const ten = rows[1];
if (ten !== undefined) {
  const verdict = (ms: number) => (ms < 200 ? 'within' : 'OVER');
  console.log(`\n10,000 instances build + serialize: wall median ${fmt(ten.total.median)} ms (${verdict(ten.total.median)} the 200 ms target), best ${fmt(ten.total.best)} ms, CPU median ${fmt(ten.totalCpu.median)} ms`);
  console.log(`load average at the end: ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')} on ${(await import('node:os')).availableParallelism()} CPUs`);
}
