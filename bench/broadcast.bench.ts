/**
 * Broadcast bench: time from a broadcaster trigger (a state change in the CLC's
 * broadcaster: snapshot → build → encode → SOAP) to the shared file written on
 * every node controller, with real `edgenet cc` and `edgenet nc` processes over
 * mutual TLS on loopback, plus CPU and RSS per daemon kind.
 *
 *   node --import tsx bench/broadcast.bench.ts [--ccs 10] [--ncs-per-cc 10] [--instances 10000] [--runs 5]
 *
 * The trigger is direct (Broadcaster.request() with a synthetic 10,000-instance
 * snapshot from test/fixtures/gni/synthetic.ts) rather than an API call: loading
 * 10,000 instances through the admin API would dominate the bench; the part the
 * CLC adds before request() (one SQLite transaction) is measured in bench/clc.bench.ts.
 * Each run adds one instance, so every run is a new document (new version and sequence).
 */
import { promises as fs, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Lab, waitFor } from '../test/integration/pipeline-harness.ts';
import { syntheticSnapshot } from '../test/fixtures/gni/synthetic.ts';
import { buildGni } from '../src/cloud-controller/gni/builder.ts';
import { serializeGni } from '../src/shared/gni/codec.ts';
import { readGniHeader } from '../src/shared/gni/header.ts';
import { systemClock } from '../src/shared/clock.ts';
import { nullLogger } from '../src/shared/logger.ts';
import { Broadcaster } from '../src/cloud-controller/broadcast/broadcaster.ts';
import { ccTransport } from '../src/cloud-controller/broadcast/plugin.ts';
import type { CloudSnapshot, SnapshotInstance } from '../src/cloud-controller/contracts.ts';

const { values } = parseArgs({
  options: {
    ccs: { type: 'string', default: '10' },
    'ncs-per-cc': { type: 'string', default: '10' },
    instances: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '5' },
  },
});
const CCS = Number(values.ccs);
const PER = Number(values['ncs-per-cc']);
const INSTANCES = Number(values.instances);
const RUNS = Number(values.runs);

const TICKS = 100; // /proc clock ticks per second (USER_HZ)
function procStat(pid: number): { cpuMs: number; rssMb: number; hwmMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { cpuMs, rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

async function inBatches<T, R>(items: readonly T[], size: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

const lab = new Lab();
try {
  console.error(`starting ${CCS} CCs and ${CCS * PER} NCs …`);
  await lab.makeCerts([
    { name: 'clc', role: 'clc' },
    { name: 'cc', role: 'cc' },
    { name: 'nc', role: 'nc' },
  ]);
  const ncs = await inBatches(Array.from({ length: CCS * PER }, (_, i) => `nc-${i}`), 6, (name) => lab.startNc(name, { extra: ['--log-level', 'warn'] }));
  const ccs = await inBatches(Array.from({ length: CCS }, (_, i) => `cc-${i}`), 6, (name) => lab.startCc(name, { extra: ['--log-level', 'warn', '--fanout', String(PER)] }));

  const base = syntheticSnapshot({ instances: INSTANCES, groups: 1000, rulesPerGroup: 10, clusters: CCS, nodesPerCluster: PER });
  // Point the synthetic clusters at the lab's daemons (node names stay the synthetic addresses).
  const clusters = base.clusters.map((c, k) => ({
    ...c,
    ccUrl: ccs[k]!.url,
    nodes: c.nodes.map((n, j) => ({ ...n, ncUrl: ncs[k * PER + j]!.url })),
  }));
  const extra: SnapshotInstance[] = [];
  const snapshot = (): CloudSnapshot => ({ ...base, clusters, instances: [...base.instances, ...extra] });

  let built = 0;
  const buildMs: number[] = [];
  const transport = ccTransport({ ...process.env, EDGENET_CLC_CERTS_DIR: lab.certs, EDGENET_CLC_CERT_NAME: 'clc' });
  const ccAcked = new Map<number, number>();
  const b = new Broadcaster({
    clock: systemClock,
    logger: nullLogger(),
    snapshot: async () => snapshot(),
    build: (s) => {
      const doc = buildGni(s, {});
      return { version: doc.version, encode: (sequence) => serializeGni({ ...doc, sequence }) };
    },
    nextSequence: async () => ++built,
    documentBuilt: async () => undefined,
    nodesApplied: async () => undefined,
    transport: {
      ...transport,
      async broadcast(cluster, doc, nodes, options) {
        const r = await transport.broadcast(cluster, doc, nodes, options);
        ccAcked.set(doc.sequence, (ccAcked.get(doc.sequence) ?? 0) + 1);
        return r;
      },
    },
    settings: { minIntervalMs: 0, periodMs: 3_600_000, timeoutMs: 30_000, retryBaseMs: 500, retryMaxMs: 5000, statusIntervalMs: 3_600_000 },
    observe: { built: (ms, _doc, reused) => void (reused || buildMs.push(ms)) },
  });

  const headerOf = async (file: string) => {
    const h = await fs.open(file, 'r').catch(() => undefined);
    if (!h) return undefined;
    try {
      const buf = Buffer.alloc(512);
      const { bytesRead } = await h.read(buf, 0, 512, 0);
      return readGniHeader(buf.subarray(0, bytesRead));
    } finally {
      await h.close();
    }
  };
  const allAt = async (sequence: number) => {
    const done = new Array<number>(ncs.length).fill(0);
    await waitFor(`all NCs at ${sequence}`, async () => {
      await Promise.all(ncs.map(async (n, i) => {
        if (done[i]) return;
        if ((await headerOf(n.gniFile))?.sequence === sequence) done[i] = performance.now();
      }));
      return done.every((d) => d > 0);
    }, 120_000, 2);
    return done;
  };

  // Warm-up: the first document (connections, JIT), not measured.
  b.start();
  await allAt(1);
  // Idle CPU (status polling every second) over a quiet window, subtracted below.
  const idleStart = new Map([...ncs, ...ccs].map((d) => [d.proc.pid, procStat(d.proc.pid).cpuMs]));
  const idleT0 = performance.now();
  await new Promise((res) => setTimeout(res, 5000));
  const idleMs = performance.now() - idleT0;
  const idleRate = new Map([...ncs, ...ccs].map((d) => [d.proc.pid, (procStat(d.proc.pid).cpuMs - idleStart.get(d.proc.pid)!) / idleMs]));
  const measureT0 = performance.now();
  const cpuBefore = new Map([...ncs, ...ccs].map((d) => [d.proc.pid, procStat(d.proc.pid).cpuMs]));
  const selfCpuBefore = process.cpuUsage();

  const e2e: number[] = [];
  const firstNode: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    extra.push({ ...base.instances[0]!, id: `i-bench${String(r).padStart(3, '0')}`, privateIp: `10.1.250.${r + 1}`, mac: `d0:0d:be:0c:00:${String(r + 1).padStart(2, '0')}`, publicIp: undefined });
    const target = built + 1;
    const t0 = performance.now();
    b.request();
    const done = await allAt(target);
    e2e.push(Math.max(...done) - t0);
    firstNode.push(Math.min(...done) - t0);
    await new Promise((res) => setTimeout(res, 300));
  }
  const selfCpu = process.cpuUsage(selfCpuBefore);
  const measuredMs = performance.now() - measureT0;
  b.stop();
  transport.close();

  const bytes = b.document?.bytes ?? 0;
  const kind = (list: typeof ncs | typeof ccs) => {
    const stats = list.map((d) => {
      const total = procStat(d.proc.pid).cpuMs - cpuBefore.get(d.proc.pid)!;
      return { ...procStat(d.proc.pid), cpuDelta: Math.max(0, total - idleRate.get(d.proc.pid)! * measuredMs), idlePct: idleRate.get(d.proc.pid)! * 100 };
    });
    const avg = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
    return {
      cpuMsPerBroadcastAvg: avg(stats.map((s) => s.cpuDelta)) / RUNS,
      cpuMsPerBroadcastMax: Math.max(...stats.map((s) => s.cpuDelta)) / RUNS,
      idleCpuPctAvg: avg(stats.map((s) => s.idlePct)),
      rssMbAvg: avg(stats.map((s) => s.rssMb)),
      rssMbMax: Math.max(...stats.map((s) => s.hwmMb)),
    };
  };
  const result = {
    ccs: CCS,
    ncs: ncs.length,
    instances: INSTANCES + RUNS,
    documentBytes: bytes,
    runs: RUNS,
    e2eMs: { p50: pct(e2e, 50), max: Math.max(...e2e), all: e2e.map((x) => Math.round(x)) },
    firstNodeMs: { p50: pct(firstNode, 50) },
    buildMs: { p50: pct(buildMs.slice(1), 50) },
    broadcasterCpuMsPerBroadcast: (selfCpu.user + selfCpu.system) / 1000 / RUNS,
    broadcasterRssMb: process.memoryUsage().rss / 1024 / 1024,
    cc: kind(ccs),
    nc: kind(ncs),
    cpuSecondsPerBroadcastAllDaemons: 0,
    cpus: (await import('node:os')).cpus().length,
    load: (await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' '),
  };
  result.cpuSecondsPerBroadcastAllDaemons = (result.broadcasterCpuMsPerBroadcast + result.cc.cpuMsPerBroadcastAvg * CCS + result.nc.cpuMsPerBroadcastAvg * ncs.length) / 1000;
  console.log(JSON.stringify(result, null, 2));
} finally {
  await lab.cleanup();
}
