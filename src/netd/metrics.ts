/**
 * netd's Prometheus metrics (prom-client, own registry — never the global
 * one) and the plain-HTTP endpoint on EDGENET_METRICS_LISTEN (default
 * 127.0.0.1:9776): `/metrics` and `/healthz`. Names follow kube-proxy/Felix
 * (peers.md §4): sync duration histogram, failures by result, rules and sets
 * owned, last applied sequence, writes per sync.
 */
import * as http from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SyncOutcome } from './apply/sync.ts';
import { DEFAULT_PORTS } from '../shared/paths.ts';

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
      if (d.sequence !== undefined) this.lastSequence.set(d.sequence);
      this.lastSuccess.set(Date.now() / 1000);
    }
  }
}

export function parseListen(listen: string): { host: string; port: number } {
  if (listen === '') return { host: '127.0.0.1', port: DEFAULT_PORTS.netdMetrics };
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i) || '127.0.0.1', port: Number(listen.slice(i + 1)) };
}

/** Starts the endpoint; resolves with the bound address and a close function. */
export async function serveMetrics(
  metrics: NetdMetrics,
  listen: string,
  healthy: () => boolean,
): Promise<{ port: number; close: () => Promise<void> }> {
  const { host, port } = parseListen(listen);
  const server = http.createServer((req, res) => {
    if (req.url === '/metrics') {
      metrics.registry
        .metrics()
        .then((text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(text);
        })
        .catch(() => {
          res.writeHead(500);
          res.end();
        });
    } else if (req.url === '/healthz') {
      const ok = healthy();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(ok ? 'ok\n' : 'unhealthy\n');
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
