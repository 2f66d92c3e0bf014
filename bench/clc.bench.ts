/**
 * Cloud controller store benchmarks (H2): instance run throughput against a
 * file database (WAL, synchronous=FULL) sequentially and in parallel, IPAM
 * allocation cost as the pool fills, and snapshot() at 10,000 instances with
 * 1,000 groups of 10 rules.
 *
 *   node --import tsx bench/clc.bench.ts [instances=10000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Store } from '../src/cloud-controller/db/store.ts';
import { PropertyService } from '../src/cloud-controller/properties/service.ts';
import { CloudState } from '../src/cloud-controller/services/cloud-state.ts';
import { systemClock } from '../src/shared/clock.ts';

const INSTANCES = Number(process.argv[2] ?? 10_000);
const GROUPS = 1_000;
const RULES = 10;
const NODES = 100;

const dir = mkdtempSync(path.join(tmpdir(), 'h2-bench-'));
const store = Store.open(path.join(dir, 'clc.db'));
const properties = new PropertyService(store, systemClock);
const state = new CloudState({ store, clock: systemClock, clcIp: '10.0.0.1' });

const ms = (t: number) => `${(performance.now() - t).toFixed(0)} ms`;
const lines: string[] = [];
const report = (text: string) => {
  lines.push(text);
  console.log(text);
};

try {
  const config = {
    PublicIps: ['172.16.0.1-172.16.63.254'],
    Clusters: Array.from({ length: 10 }, (_, c) => ({
      Name: `C${c}`,
      Subnet: { Name: `s${c}`, Subnet: `10.${c}.0.0`, Netmask: '255.255.0.0', Gateway: `10.${c}.0.1` },
      PrivateIps: [`10.${c}.0.10-10.${c}.255.250`],
    })),
  };
  let t = performance.now();
  await properties.set('cloud.network.network_configuration', JSON.stringify(config));
  report(`set network_configuration (10 clusters): ${ms(t)}`);
  for (let c = 0; c < 10; c++) await state.registerCluster({ name: `C${c}`, ccUrl: `http://10.254.${c}.1:8774/` });
  for (let n = 0; n < NODES; n++) await state.registerNode({ cluster: `C${n % 10}`, name: `10.253.${Math.floor(n / 250)}.${(n % 250) + 1}`, ncUrl: `http://10.253.0.${n + 1}:8775/` });

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
  t = performance.now();
  const ipam = await state.ipamShow();
  report(`ipam show (all pools, ${ipam.pools.reduce((n, p) => n + p.size, 0)} addresses): ${ms(t)}`);
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
