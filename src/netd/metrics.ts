/**
 * netd's Prometheus metrics (prom-client, own registry — never the global
 * one) and the plain-HTTP endpoint on EDGENET_METRICS_LISTEN (default
 * 127.0.0.1:9776): `/metrics` and `/healthz` (JSON, as every daemon's).
 * Besides its own: edgenet_build_info and edgenet_netd_last_applied_age_seconds. Names follow kube-proxy/Felix
 * (peers.md §4): sync duration histogram, failures by result, rules and sets
 * owned, last applied sequence, writes per sync.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SyncOutcome } from './sync.ts';
import { DEFAULT_PORTS } from '../shared/paths.ts';
import { startMetricsServer } from '../shared/metrics.ts';
import { registerDaemonMetrics } from '../shared/daemon-metrics.ts';

export class NetdMetrics {
  readonly registry = new Registry();
  private readonly duration = new Histogram({
    name: 'edgenet_netd_sync_duration_seconds',
    help: 'Duration of a netd sync (read, plan, apply, status)',
    labelNames: ['full'],
    buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly syncs = new Counter({ name: 'edgenet_netd_syncs_total', help: 'Syncs by result', labelNames: ['result'], registers: [this.registry] });
  private readonly failures = new Counter({ name: 'edgenet_netd_sync_failures_total', help: 'Syncs that failed to apply (result error)', registers: [this.registry] });
  private readonly writes = new Histogram({
    name: 'edgenet_netd_sync_writes',
    help: 'Host writes (restore transactions, ip calls, process actions) per sync',
    buckets: [0, 1, 2, 4, 8, 16, 32, 64],
    registers: [this.registry],
  });
  private readonly rules = new Gauge({ name: 'edgenet_netd_rules_owned', help: 'Rules in chains netd owns', labelNames: ['tool', 'table'], registers: [this.registry] });
  private readonly chains = new Gauge({ name: 'edgenet_netd_chains_owned', help: 'Chains netd owns', labelNames: ['tool', 'table'], registers: [this.registry] });
  private readonly sets = new Gauge({ name: 'edgenet_netd_ipsets_owned', help: 'ipsets netd owns', registers: [this.registry] });
  private readonly lastSequence = new Gauge({ name: 'edgenet_netd_last_applied_sequence', help: 'Sequence of the last applied document', registers: [this.registry] });
  private readonly lastSuccess = new Gauge({ name: 'edgenet_netd_last_success_timestamp_seconds', help: 'Time of the last successful sync', registers: [this.registry] });
  private readonly refused = new Gauge({
    name: 'edgenet_netd_refused_entries',
    help: 'Entries of the applied document left out as unsafe, by reason code (render/sanitize.ts)',
    labelNames: ['code'],
    registers: [this.registry],
  });
  private lastAppliedAt: number | undefined;

  constructor(private readonly now: () => number = Date.now) {
    registerDaemonMetrics(this.registry, 'netd');
    const self = this;
    new Gauge({
      name: 'edgenet_netd_last_applied_age_seconds',
      help: 'Seconds since netd last applied the shared document successfully (absent before the first)',
      registers: [this.registry],
      collect() {
        this.reset();
        const age = self.lastAppliedAgeSeconds();
        if (age !== undefined) this.set(age);
      },
    });
  }

  /** Seconds since the last successful sync, undefined before the first. */
  lastAppliedAgeSeconds(): number | undefined {
    return this.lastAppliedAt === undefined ? undefined : Math.max(0, Math.round((this.now() - this.lastAppliedAt) / 100) / 10);
  }

  record(outcome: SyncOutcome, full: boolean): void {
    this.duration.observe({ full: String(full) }, outcome.durationMs / 1000);
    this.syncs.inc({ result: outcome.result });
    if (outcome.result === 'error') this.failures.inc();
    this.writes.observe(outcome.writes);
    if (outcome.result === 'ok' && outcome.desired) {
      const d = outcome.desired;
      for (const tool of ['iptables', 'ebtables'] as const) {
        for (const table of ['filter', 'nat'] as const) {
          const t = d[tool][table];
          this.rules.set({ tool, table }, t.chains.reduce((n, c) => n + c.rules.length, 0) + t.hooks.length);
          this.chains.set({ tool, table }, t.chains.length);
        }
      }
      this.sets.set(d.ipsets.length);
      this.refused.reset();
      for (const r of d.refused ?? []) this.refused.inc({ code: r.code });
      if (d.sequence !== undefined) this.lastSequence.set(d.sequence);
      this.lastAppliedAt = this.now();
      this.lastSuccess.set(this.lastAppliedAt / 1000);
    }
  }
}

export function parseListen(listen: string): { host: string; port: number } {
  if (listen === '') return { host: '127.0.0.1', port: DEFAULT_PORTS.netdMetrics };
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i) || '127.0.0.1', port: Number(listen.slice(i + 1)) };
}

/**
 * Starts the endpoint (the shared one: JSON /healthz with {status, version,
 * component, healthy, lastAppliedAgeSeconds}; 503 while the last sync failed);
 * resolves with the bound port and a close that also ends keep-alive connections.
 */
export async function serveMetrics(
  metrics: NetdMetrics,
  listen: string,
  healthy: () => boolean,
): Promise<{ port: number; close: () => Promise<void> }> {
  const { host, port } = parseListen(listen);
  return startMetricsServer({
    host,
    port,
    registry: metrics.registry,
    component: 'netd',
    health: () => ({ ok: healthy(), lastAppliedAgeSeconds: metrics.lastAppliedAgeSeconds() }),
  });
}
