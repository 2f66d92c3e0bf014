/**
 * Hop bench: latency from "the broadcaster hands the encoded document to the
 * ClusterSender" to "the NC's shared file is renamed into place", with the
 * real CLC-side sender and transport (ClusterSender + ccTransport, in this
 * process), a real `edgenet cc` process and real `edgenet nc` processes, mutual
 * TLS with certificates from `edgenet certs`, on loopback.
 *
 *   node --import tsx bench/hop.bench.ts [--doc FILE (default bench/out/gni-10k.xml if kept, else generated: bench/lab-document.ts)] [--ncs 1] [--runs 20] [--warmup 3]
 *
 * Each run rewrites the document's root tag (new version and sequence), so
 * every run is a new document end to end. The breakdown comes from the phase
 * timings the daemons log (src/shared/soap/timing.ts): the CC's
 * "document stored; fanning out" line, its debug "node acknowledged" lines
 * and the NC's "shared file written" line carry `startedAt` (epoch ms, shared
 * clock on one host) and `phases` (ms since the previous mark). The end of a
 * run is the NC's `renamedAt` (for several NCs: the last one).
 * Results: bench/results/broadcast.md.
 */
import { promises as fs } from 'node:fs';
import { parseArgs } from 'node:util';
import { Lab, waitFor } from '../test/integration/pipeline-harness.ts';
import { systemClock } from '../src/shared/clock.ts';
import { nullLogger } from '../src/shared/logger.ts';
import { ClusterSender, type EncodedDocument } from '../src/cloud-controller/broadcast/cluster-sender.ts';
import { ccTransport } from '../src/cloud-controller/broadcast/plugin.ts';
import { nowEpochMs, type Timing } from '../src/shared/soap/timing.ts';
import { DEFAULT_LAB_DOCUMENT, labDocument } from './lab-document.ts';

const { values } = parseArgs({
  options: {
    doc: { type: 'string', default: DEFAULT_LAB_DOCUMENT },
    ncs: { type: 'string', default: '1' },
    runs: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    gap: { type: 'string', default: '400' },
  },
});
const NCS = Number(values.ncs);
const RUNS = Number(values.runs);
const WARMUP = Number(values.warmup);
const GAP_MS = Number(values.gap);

type LogLine = { message: string; sequence?: number; startedAt?: number; phases?: string; renamedAt?: number; node?: string };

/** `"auth=0.2 body=11.3"` → [['auth', 0.2], ['body', 11.3]] (Timing.log()). */
const phasesOf = (line: LogLine): [string, number][] =>
  (line.phases ?? '').split(' ').filter(Boolean).map((p) => {
    const eq = p.lastIndexOf('=');
    return [p.slice(0, eq), Number(p.slice(eq + 1))];
  });

/** Reads the JSON lines appended to a daemon's log since the last call. */
class LogTail {
  private offset = 0;
  readonly lines: LogLine[] = [];
  constructor(private readonly file: string) {}
  async poll(): Promise<void> {
    const handle = await fs.open(this.file, 'r');
    try {
      const { size } = await handle.stat();
      if (size <= this.offset) return;
      const buf = Buffer.alloc(size - this.offset);
      await handle.read(buf, 0, buf.length, this.offset);
      const text = buf.toString('utf8');
      const end = text.lastIndexOf('\n') + 1;
      this.offset += Buffer.byteLength(text.slice(0, end));
      for (const line of text.slice(0, end).split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          this.lines.push(JSON.parse(line) as LogLine);
        } catch {
          // not one of ours
        }
      }
    } finally {
      await handle.close();
    }
  }
  find(message: string, sequence: number): LogLine | undefined {
    return this.lines.find((l) => l.message === message && l.sequence === sequence);
  }
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');

const lab = new Lab();
try {
  await lab.makeCerts([
    { name: 'clc', role: 'clc' },
    { name: 'cc', role: 'cc' },
    { name: 'nc', role: 'nc' },
  ]);
  const ncs = await Promise.all(Array.from({ length: NCS }, (_, i) => lab.startNc(`nc-${i}`)));
  const cc = await lab.startCc('cc-0', { extra: ['--log-level', 'debug', '--fanout', String(Math.max(8, NCS))] });
  const ccLog = new LogTail(cc.logFile);
  const ncLogs = ncs.map((n) => new LogTail(n.logFile));
  const nodes = ncs.map((n) => ({ name: n.name, url: n.url }));

  const { text: source, source: docSource } = labDocument(values.doc!);
  const root = /<network-data\b[^>]*>/.exec(source);
  if (!root) throw new Error(`${docSource} has no <network-data> root tag`);
  const baseSeq = Math.floor(Date.now() / 1000);
  const makeDoc = (i: number): EncodedDocument => {
    const version = `hop${baseSeq}x${i}`;
    const sequence = baseSeq + i;
    const xml = source.slice(0, root.index) + `<network-data version="${version}" sequence="${sequence}">` + source.slice(root.index + root[0].length);
    const bytes = Buffer.from(xml, 'utf8');
    return { version, sequence, base64: bytes.toString('base64'), bytes: bytes.length, builtAt: Date.now() };
  };

  const clientTimings = new Map<number, Timing>();
  let lastSequence = 0;
  const transport = ccTransport({ ...process.env, EDGENET_CLC_CERTS_DIR: lab.certs, EDGENET_CLC_CERT_NAME: 'clc' }, {
    onTiming: (_cluster, timing) => clientTimings.set(lastSequence, timing),
  });
  const sender = new ClusterSender('c0', cc.url, {
    clock: systemClock,
    logger: nullLogger(),
    transport,
    settings: () => ({ timeoutMs: 10_000, retryBaseMs: 500, retryMaxMs: 30_000 }),
  });

  type Row = Record<string, number>;
  const rows: Row[] = [];
  const sample = makeDoc(0);
  console.error(`document: ${docSource} ${sample.bytes} bytes, ${sample.base64.length} Base64 chars; ${NCS} NC(s); ${WARMUP} warm-up + ${RUNS} runs`);

  for (let i = 1; i <= WARMUP + RUNS; i++) {
    const doc = makeDoc(i);
    lastSequence = doc.sequence;
    const t0 = nowEpochMs();
    sender.offer(doc, nodes, false);
    await sender.idle();
    const replyAt = nowEpochMs();
    const view = sender.view();
    if (view.delivered?.sequence !== doc.sequence) throw new Error(`run ${i}: CC did not accept: ${view.lastError}`);
    const ncLines = await waitFor(`run ${i} on every NC`, async () => {
      await Promise.all(ncLogs.map((l) => l.poll()));
      const found = ncLogs.map((l) => l.find('shared file written', doc.sequence));
      return found.every(Boolean) ? (found as LogLine[]) : undefined;
    }, 30_000, 10);
    const [ccLine, acks] = await waitFor(`run ${i} CC logs`, async () => {
      await ccLog.poll();
      const stored = ccLog.find('document stored; fanning out', doc.sequence);
      const ack = ccLog.lines.filter((l) => l.message === 'node acknowledged' && l.sequence === doc.sequence);
      return stored && ack.length === NCS ? ([stored, ack] as const) : undefined;
    }, 30_000, 10);
    if (i <= WARMUP) {
      await new Promise((r) => setTimeout(r, GAP_MS));
      continue;
    }
    const client = clientTimings.get(doc.sequence)!;
    const row: Row = {};
    for (const [k, v] of Object.entries(client.phases())) row[`clc.${k}`] = v;
    row['clc→cc request start'] = ccLine.startedAt! - t0;
    for (const [k, v] of phasesOf(ccLine)) row[`cc.${k}`] = v;
    const ack = acks[acks.length - 1]!; // the slowest node
    row['cc: first NC send start'] = Math.min(...acks.map((a) => a.startedAt!)) - t0;
    for (const [k, v] of phasesOf(ack)) row[`cc→nc.${k}`] = v;
    const nc = ncLines.reduce((a, b) => (a.renamedAt! >= b.renamedAt! ? a : b));
    row['nc request start'] = nc.startedAt! - t0;
    for (const [k, v] of phasesOf(nc)) row[`nc.${k}`] = v;
    row['CLC reply'] = replyAt - t0;
    row['END: file renamed (last NC)'] = nc.renamedAt! - t0;
    rows.push(row);
    process.stderr.write(`run ${i - WARMUP}: renamed at ${f1(row['END: file renamed (last NC)']!)} ms, CLC reply ${f1(row['CLC reply']!)} ms\n`);
    await new Promise((r) => setTimeout(r, GAP_MS));
  }
  sender.stop();
  transport.close();

  // Union of the rows' keys in mark order (a `tls` mark appears only on runs that opened a connection).
  const keys: string[] = [];
  for (const r of rows) {
    let after = -1;
    for (const k of Object.keys(r)) {
      const at = keys.indexOf(k);
      if (at === -1) keys.splice(++after, 0, k);
      else after = at;
    }
  }
  console.log(`\n${NCS} NC(s), ${RUNS} runs, document ${sample.bytes} bytes (${sample.base64.length} Base64), ms from offer() unless a phase (ms since the previous mark)\n`);
  console.log('| step | p50 | p90 |');
  console.log('|---|---:|---:|');
  for (const k of keys) {
    const xs = rows.map((r) => r[k]).filter((v): v is number => v !== undefined);
    const note = xs.length < rows.length ? ` (${xs.length} of ${rows.length} runs)` : '';
    console.log(`| ${k}${note} | ${f1(pct(xs, 50))} | ${f1(pct(xs, 90))} |`);
  }
} finally {
  await lab.cleanup();
}
