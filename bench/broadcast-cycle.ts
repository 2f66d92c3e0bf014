/**
 * The broadcaster's cycle as the CLC benches time it: `snapshot()` + build +
 * encode (sequence stamp, UTF-8 Buffer, Base64), exactly as the broadcaster
 * does them, with wall and CPU time per phase; and the cloud both CLC benches
 * build (10 clusters of /16 private pools, a /18 of public addresses).
 * Shared by clc.bench.ts and clc-postgres.bench.ts so both measure the same thing.
 */
import type { CloudState } from '../src/cloud-controller/services/cloud-state.ts';
import { gniBuilder } from '../src/cloud-controller/broadcast/plugin.ts';
import { encodeBuilt } from '../src/cloud-controller/broadcast/broadcaster.ts';
import { snapshotReadInfo } from '../src/cloud-controller/snapshot/snapshot-cache.ts';

export interface CycleTiming {
  readonly snapshot: number;
  readonly build: number;
  readonly encode: number;
  readonly total: number;
  /** CPU time (user + system, all threads), which does not grow when other processes take the cores. */
  readonly cpu: number;
  readonly bytes: number;
  /** How the snapshot was read ('full' | 'incremental'). */
  readonly kind: string;
}

/** A cycle function with its own encoder (fragment caches live as long as it) and sequence counter. */
export function broadcastCycle(state: Pick<CloudState, 'snapshot'>): (options?: { full?: boolean }) => Promise<CycleTiming> {
  const build = gniBuilder();
  let sequence = 1;
  return async (options) => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const snap = await state.snapshot(options);
    const t1 = performance.now();
    const built = build(snap);
    const t2 = performance.now();
    const doc = encodeBuilt(built, sequence++, 0);
    const t3 = performance.now();
    const c = process.cpuUsage(c0);
    return { snapshot: t1 - t0, build: t2 - t1, encode: t3 - t2, total: t3 - t0, cpu: (c.user + c.system) / 1000, bytes: doc.bytes, kind: snapshotReadInfo(snap)?.kind ?? '?' };
  };
}

/** The network configuration of the CLC benches' cloud. */
export const BENCH_CLOUD_CONFIG = {
  PublicIps: ['172.16.0.1-172.16.63.254'],
  Clusters: Array.from({ length: 10 }, (_, c) => ({
    Name: `C${c}`,
    Subnet: { Name: `s${c}`, Subnet: `10.${c}.0.0`, Netmask: '255.255.0.0', Gateway: `10.${c}.0.1` },
    PrivateIps: [`10.${c}.0.10-10.${c}.255.250`],
  })),
};
