/**
 * The 10,000-instance document the parse and hop benches time: the lab's own
 * shared file when one was kept (the propagation bench with
 * `EDGENET_BENCH_KEEP_LOGS=DIR` leaves it at DIR/n1/run/global_network_info.xml,
 * and n1's netd config at DIR/n1/netd.conf), else the same shape generated
 * here — 10,000 instances, 1,000 groups × 2 rules, one cluster of 100 nodes —
 * through the CLC's builder and the shared codec, so a fresh clone can run
 * every bench.
 */
import { existsSync, readFileSync } from 'node:fs';
import { buildGni } from '../src/cloud-controller/gni/builder.ts';
import { serializeGni } from '../src/shared/gni/codec.ts';
import { syntheticSnapshot } from '../test/fixtures/gni/synthetic.ts';

/** Where a kept lab document is looked for when no path is given (bench/out/ is ignored by git). */
export const DEFAULT_LAB_DOCUMENT = new URL('./out/gni-10k.xml', import.meta.url).pathname;

export function labDocument(file: string = DEFAULT_LAB_DOCUMENT): { text: string; source: string } {
  if (existsSync(file)) return { text: readFileSync(file, 'utf8'), source: file };
  const doc = buildGni(syntheticSnapshot({ instances: 10_000, groups: 1_000, rulesPerGroup: 2, clusters: 1, nodesPerCluster: 100 }));
  return { text: serializeGni({ ...doc, sequence: 1 }), source: `generated (no ${file}): 10,000 instances, 1,000 groups × 2 rules, 100 nodes` };
}
