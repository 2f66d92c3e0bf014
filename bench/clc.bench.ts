/**
 * Cloud controller store benchmarks: instance run throughput against a
 * file database (WAL, synchronous=FULL) sequentially and in parallel, IPAM
 * allocation cost as the pool fills, and snapshot() at 10,000 instances with
 * 1,000 groups of 10 rules (second argument: rules per group), and the
 * broadcaster's change → encoded document path (snapshot + build + encode)
 * after one authorize and after one instance run, incremental vs full.
 *
 *   node --import tsx bench/clc.bench.ts [instances=10000] [rulesPerGroup=10]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Store } from '../src/cloud-controller/db/store.ts';
import { PropertyService } from '../src/cloud-controller/properties/service.ts';
import { CloudState } from '../src/cloud-controller/services/cloud-state.ts';
import { systemClock } from '../src/shared/clock.ts';
import { BENCH_CLOUD_CONFIG, broadcastCycle } from './broadcast-cycle.ts';
import { readSnapshot } from '../src/cloud-controller/snapshot/read-snapshot.ts';
import { buildGni } from '../src/cloud-controller/gni/builder.ts';
import { serializeGni } from '../src/shared/gni/codec.ts';

const INSTANCES = Number(process.argv[2] ?? 10_000);
const GROUPS = 1_000;
const RULES = Number(process.argv[3] ?? 10);
const NODES = 100;

const dir = mkdtempSync(path.join(tmpdir(), 'h2-bench-'));
const store = await Store.open(path.join(dir, 'clc.db'));
const properties = new PropertyService(store, systemClock);
const state = new CloudState({ store, clock: systemClock, clcIp: '10.0.0.1' });

const ms = (t: number) => `${(performance.now() - t).toFixed(0)} ms`;
const lines: string[] = [];
const report = (text: string) => {
  lines.push(text);
  console.log(text);
};

try {
  const config = BENCH_CLOUD_CONFIG;
  let t = performance.now();
  await properties.set('cloud.network.network_configuration', JSON.stringify(config));
  report(`set network_configuration (10 clusters): ${ms(t)}`);
  for (let c = 0; c < 10; c++) await state.registerCluster({ name: `C${c}`, ccUrl: `https://10.254.${c}.1:8774/` });
  for (let n = 0; n < NODES; n++) await state.registerNode({ cluster: `C${n % 10}`, name: `10.253.${Math.floor(n / 250)}.${(n % 250) + 1}`, ncUrl: `https://10.253.0.${n + 1}:8775/` });

  t = performance.now();
  const groupIds: string[] = [];
  for (let g = 0; g < GROUPS; g++) groupIds.push((await state.createGroup({ name: `g${g}` })).id);
  report(`create ${GROUPS} groups (sequential, one transaction each): ${ms(t)}`);
  t = performance.now();
  for (let g = 0; g < GROUPS; g++) {
    const permissions = Array.from({ length: RULES }, (_, r) =>
      r % 3 === 0 ? { protocol: 'tcp', port: String(1000 + r), sourceGroup: groupIds[(g + r) % GROUPS] } : { protocol: r % 2 ? 'udp' : 'tcp', port: String(2000 + r), cidr: `192.168.${r}.0/24` },
    );
    await state.authorize(groupIds[g], undefined, { permissions });
  }
  report(`authorize ${GROUPS * RULES} rules (${GROUPS} requests of ${RULES}): ${ms(t)}`);

  const node = (i: number) => `10.253.${Math.floor((i % NODES) / 250)}.${((i % NODES) % 250) + 1}`;
  const run = (i: number) => state.runInstance({ cluster: `C${i % NODES % 10}`, node: node(i), groups: [groupIds[i % GROUPS]!, groupIds[(i + 1) % GROUPS]!] });

  const firstSeq = 1_000;
  t = performance.now();
  for (let i = 0; i < firstSeq; i++) await run(i);
  const seqMs = performance.now() - t;
  report(`run ${firstSeq} instances sequentially (file DB, synchronous=FULL): ${seqMs.toFixed(0)} ms (${(seqMs / firstSeq).toFixed(2)} ms each)`);
  t = performance.now();
  const batch = 500;
  for (let done = firstSeq; done < INSTANCES; done += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, INSTANCES - done) }, (_, k) => run(done + k)));
  }
  const parMs = performance.now() - t;
  report(`run ${INSTANCES - firstSeq} more in parallel batches of ${batch}: ${parMs.toFixed(0)} ms (${(parMs / (INSTANCES - firstSeq)).toFixed(2)} ms each)`);
  t = performance.now();
  for (let i = 0; i < 200; i++) await run(INSTANCES + i);
  report(`run 200 more at ${INSTANCES} instances: ${((performance.now() - t) / 200).toFixed(2)} ms each`);

  for (let k = 0; k < 3; k++) {
    t = performance.now();
    const snap = await state.snapshot();
    report(`snapshot() #${k + 1}: ${ms(t)} (${snap.instances.length} instances, ${snap.groups.length} groups, ${snap.groups.reduce((n, g) => n + g.rules.length, 0)} rules)`);
  }
  await changeToDocument(report, run, groupIds);

  t = performance.now();
  const ipam = await state.ipamShow();
  report(`ipam show (all pools, ${ipam.pools.reduce((n, p) => n + p.size, 0)} addresses): ${ms(t)}`);
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

/**
 * What a broadcast cycle costs after one API change: `snapshot()` + build +
 * encode (sequence stamp, UTF-8 Buffer, Base64), exactly as the broadcaster's
 * cycle does them, median of 15 changes each (after warm-up).
 */
async function changeToDocument(report: (t: string) => void, run: (i: number) => Promise<unknown>, groupIds: string[]): Promise<void> {
  const cycle = broadcastCycle(state);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const measure = async (label: string, change: (k: number) => Promise<unknown>, options?: { full?: boolean }) => {
    const rows: Awaited<ReturnType<typeof cycle>>[] = [];
    for (let k = 0; k < 20; k++) {
      await change(k);
      const r = await cycle(options);
      if (k >= 5) rows.push(r);
    }
    const f = (key: 'snapshot' | 'build' | 'encode' | 'total' | 'cpu') => median(rows.map((r) => r[key])).toFixed(1);
    report(`${label}: snapshot ${f('snapshot')} + build ${f('build')} + encode ${f('encode')} = ${f('total')} ms median, CPU ${f('cpu')} ms (${rows.length} runs, ${rows[0]!.bytes} bytes)`);
  };
  await cycle({ full: true });
  let port = 30_000;
  const authorize = () => state.authorize(groupIds[port % groupIds.length], undefined, { protocol: 'tcp', port: String(port++), cidr: '198.51.100.0/24' });
  let extra = 1_000_000;
  await measure('after one authorize: snapshot + build + encode', authorize);
  await measure('after one instance run: snapshot + build + encode', () => run(extra++));
  await measure('periodic (full read): snapshot + build + encode', authorize, { full: true });
  // What every cycle did before the snapshot cache and the memoizing builder: a full read into new
  // objects (no memo entry applies), a full build, the text stamped, encoded, Base64.
  const scratch: number[] = [];
  const scratchCpu: number[] = [];
  for (let k = 0; k < 12; k++) {
    await authorize();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const snap = await store.read((db) => readSnapshot(db, '10.0.0.1'));
    const doc = buildGni(snap, {});
    const xml = Buffer.from(serializeGni({ ...doc, sequence: 1000 + k }), 'utf8');
    xml.toString('base64');
    const c = process.cpuUsage(c0);
    if (k < 2) continue;
    scratch.push(performance.now() - t0);
    scratchCpu.push((c.user + c.system) / 1000);
  }
  report(`from scratch (the path before; after one authorize): ${median(scratch).toFixed(1)} ms median, CPU ${median(scratchCpu).toFixed(1)} ms (${scratch.length} runs)`);
}
