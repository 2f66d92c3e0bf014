/** The cluster controller's Prometheus metrics (one registry per daemon). */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { NodeReport } from '../shared/soap/messages.ts';

export interface CcMetrics {
  readonly received: Counter<'outcome'>;
  readonly faults: Counter<'code'>;
  readonly documentBytes: Gauge;
  readonly ncSends: Counter<'result'>;
  readonly ncSendSeconds: Histogram;
  readonly fanoutSeconds: Histogram;
}

export function ccMetrics(registry: Registry, view: () => { sequence?: number; nodes: readonly NodeReport[] }): CcMetrics {
  const lag = new Gauge({
    name: 'edgenet_cc_node_lag_sequences',
    help: 'Per node: current document sequence minus the sequence netd applied (no applied sequence: the current sequence)',
    labelNames: ['node'],
    registers: [registry],
    collect() {
      this.reset();
      const v = view();
      if (v.sequence === undefined) return;
      for (const n of v.nodes) this.set({ node: n.name }, Math.max(0, v.sequence - (n.appliedSequence ?? 0)));
    },
  });
  void lag;
  return {
    received: new Counter({ name: 'edgenet_cc_broadcasts_received_total', help: 'Broadcasts accepted from the CLC, by outcome (stored, unchanged)', labelNames: ['outcome'], registers: [registry] }),
    faults: new Counter({ name: 'edgenet_cc_faults_total', help: 'Requests refused with a SOAP Fault, by code', labelNames: ['code'], registers: [registry] }),
    documentBytes: new Gauge({ name: 'edgenet_cc_document_bytes', help: 'Size of the held document (decoded XML)', registers: [registry] }),
    ncSends: new Counter({ name: 'edgenet_cc_nc_sends_total', help: 'Documents sent to node controllers, by result (ok, failed)', labelNames: ['result'], registers: [registry] }),
    ncSendSeconds: new Histogram({ name: 'edgenet_cc_nc_send_seconds', help: 'Duration of one send to a node controller', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10], registers: [registry] }),
    fanoutSeconds: new Histogram({ name: 'edgenet_cc_fanout_seconds', help: 'From a new document to every node controller acknowledging it', buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 30], registers: [registry] }),
  };
}
