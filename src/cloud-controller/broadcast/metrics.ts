/** The broadcaster's Prometheus metrics (its own registry, served on the CLC's metrics listener). */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { BroadcastObserver } from './broadcaster.ts';
import type { StatusView } from './status-view.ts';
import type { Leadership, LeadershipView } from '../contracts.ts';

export function broadcastMetrics(registry: Registry, view: () => StatusView): BroadcastObserver {
  const sent = new Counter({ name: 'edgenet_clc_broadcasts_sent_total', help: 'Broadcasts acknowledged by a cluster controller', labelNames: ['cluster'], registers: [registry] });
  const failed = new Counter({ name: 'edgenet_clc_broadcasts_failed_total', help: 'Broadcasts that failed or timed out', labelNames: ['cluster'], registers: [registry] });
  const sendSeconds = new Histogram({ name: 'edgenet_clc_broadcast_seconds', help: 'Duration of one broadcast to a cluster controller', buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10], registers: [registry] });
  const buildSeconds = new Histogram({ name: 'edgenet_clc_document_build_seconds', help: 'Snapshot to encoded document (or to finding it unchanged)', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2], registers: [registry] });
  const bytes = new Gauge({ name: 'edgenet_clc_document_bytes', help: 'Size of the current document (XML)', registers: [registry] });
  const sequence = new Gauge({ name: 'edgenet_clc_document_sequence', help: 'Sequence of the current document', registers: [registry] });
  new Gauge({
    name: 'edgenet_clc_node_lag_sequences',
    help: 'Per node: sequences between the current document and the one netd applied',
    labelNames: ['cluster', 'node'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of view().clusters) for (const n of c.nodes) this.set({ cluster: c.name, node: n.name }, n.lagSequences);
    },
  });
  new Gauge({
    name: 'edgenet_clc_node_lag_seconds',
    help: 'Per node: seconds since the oldest document netd has not applied was built',
    labelNames: ['cluster', 'node'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of view().clusters) for (const n of c.nodes) this.set({ cluster: c.name, node: n.name }, n.lagSeconds);
    },
  });
  return {
    built(ms, doc) {
      buildSeconds.observe(ms / 1000);
      bytes.set(doc.bytes);
      sequence.set(doc.sequence);
    },
    sent(cluster, ok, ms) {
      (ok ? sent : failed).inc({ cluster });
      sendSeconds.observe(ms / 1000);
    },
  };
}

/**
 * Leadership (ha/), at scrape time: `edgenet_clc_leader` 1 on the leading CLC
 * and 0 on followers, `edgenet_clc_leader_term` the newest term in the
 * database (the leader's), `edgenet_clc_role_since_timestamp_seconds` when
 * this CLC took its current role. The view is read once per scrape.
 */
export function leadershipMetrics(registry: Registry, leadership: Leadership): void {
  let pending: Promise<LeadershipView | undefined> | undefined;
  const view = () => {
    pending ??= leadership
      .view()
      .catch(() => undefined)
      .finally(() => {
        setImmediate(() => {
          pending = undefined;
        });
      });
    return pending;
  };
  new Gauge({
    name: 'edgenet_clc_leader',
    help: '1 while this CLC leads (builds, sequences and broadcasts documents), 0 while it follows',
    registers: [registry],
    collect() {
      this.set(leadership.role() === 'leader' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'edgenet_clc_leader_term',
    help: 'The newest leadership term in the database (the current leader\'s); 0 before any CLC led',
    registers: [registry],
    async collect() {
      const v = await view();
      this.set(leadership.term() ?? v?.leader?.term ?? 0);
    },
  });
  new Gauge({
    name: 'edgenet_clc_role_since_timestamp_seconds',
    help: 'When this CLC took its current role (leader or follower), seconds since the epoch',
    registers: [registry],
    async collect() {
      const v = await view();
      if (v !== undefined) this.set(v.roleSince / 1000);
    },
  });
}
