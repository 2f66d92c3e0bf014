/**
 * The CLC's day-two gauges, computed at scrape time from what it already
 * has (no extra polling):
 * - `edgenet_clc_pool_used_addresses` / `edgenet_clc_pool_total_addresses`
 *   {kind="private",cluster} per cluster and {kind="public",cluster=""}:
 *   used = allocated + held + reserved, so used == total means the next
 *   allocation fails;
 * - `edgenet_clc_node_last_applied_age_seconds{cluster,node}`: seconds since
 *   netd on that node last applied a document (the status the CLC polls);
 *   absent for a node that never reported one.
 */
import { Gauge, type Registry } from 'prom-client';
import type { PoolUsage } from '../contracts.ts';
import type { StatusView } from './status-view.ts';

export function registerCloudMetrics(registry: Registry, deps: { pools?: () => Promise<readonly PoolUsage[]>; view: () => StatusView; now: () => number }): void {
  let pending: Promise<readonly PoolUsage[]> | undefined;
  // Both pool gauges are collected in the same scrape: read the pools once.
  const pools = () => {
    pending ??= (deps.pools?.() ?? Promise.resolve([])).finally(() => {
      setImmediate(() => {
        pending = undefined;
      });
    });
    return pending;
  };
  const labels = (p: PoolUsage) => ({ kind: p.kind, cluster: p.cluster ?? '' });
  new Gauge({
    name: 'edgenet_clc_pool_used_addresses',
    help: 'Addresses of a pool that are allocated, held or reserved (kind private: per cluster; kind public: the cloud)',
    labelNames: ['kind', 'cluster'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const p of await pools().catch(() => [])) this.set(labels(p), p.size - p.free);
    },
  });
  new Gauge({
    name: 'edgenet_clc_pool_total_addresses',
    help: 'Addresses in a pool (kind private: per cluster; kind public: the cloud)',
    labelNames: ['kind', 'cluster'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const p of await pools().catch(() => [])) this.set(labels(p), p.size);
    },
  });
  new Gauge({
    name: 'edgenet_clc_node_last_applied_age_seconds',
    help: 'Per node: seconds since netd last applied a document (from the status the CLC polls)',
    labelNames: ['cluster', 'node'],
    registers: [registry],
    collect() {
      this.reset();
      const now = deps.now();
      for (const c of deps.view().clusters) {
        for (const n of c.nodes) {
          const at = n.appliedAt === undefined ? NaN : Date.parse(n.appliedAt);
          if (Number.isFinite(at)) this.set({ cluster: c.name, node: n.name }, Math.max(0, Math.round((now - at) / 100) / 10));
        }
      }
    },
  });
}
