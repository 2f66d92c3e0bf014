/** The node controller's Prometheus metrics (one registry per daemon). */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface NcMetrics {
  readonly received: Counter<'outcome'>;
  readonly faults: Counter<'code'>;
  readonly documentBytes: Gauge;
  readonly heldSequence: Gauge;
}

export function ncMetrics(registry: Registry): NcMetrics {
  return {
    received: new Counter({ name: 'edgenet_nc_documents_received_total', help: 'Documents accepted, by outcome (written, skipped)', labelNames: ['outcome'], registers: [registry] }),
    faults: new Counter({ name: 'edgenet_nc_faults_total', help: 'Requests refused with a SOAP Fault, by code', labelNames: ['code'], registers: [registry] }),
    documentBytes: new Gauge({ name: 'edgenet_nc_document_bytes', help: 'Size of the last document received (decoded XML)', registers: [registry] }),
    heldSequence: new Gauge({ name: 'edgenet_nc_held_sequence', help: 'Sequence of the document in the shared file', registers: [registry] }),
  };
}
