/**
 * The cluster controller's SOAP operations (wsdl/cluster-controller.wsdl):
 * - `BroadcastNetworkInfo`: decode and check the document (Base64, no
 *   DOCTYPE/ENTITY, a GNI root tag, sequence not older than held), start the
 *   fan-out, answer once the document is stored durably — the CLC never waits
 *   for node controllers. Node list: the request's `nodes` (edgenet CLC), else the
 *   one stored with the last document, else the config file's NODES.
 * - `DescribeNetworkStatus`: the held document and, per node, delivered and
 *   applied versions from the latest polls.
 */
import type { OperationHandler } from '../shared/soap/server.ts';
import { decodeNetworkInfo } from '../shared/soap/guard.ts';
import { envelope } from '../shared/soap/envelope.ts';
import { broadcastReplyInner, parseBroadcast, statusReplyInner, type NodeTarget } from '../shared/soap/messages.ts';
import type { Logger } from '../shared/logger.ts';
import type { DocumentStore } from './document-store.ts';
import type { FanOut } from './fanout.ts';
import type { CcMetrics } from './metrics.ts';

export interface CcServiceOptions {
  readonly store: DocumentStore;
  readonly fanout: FanOut;
  readonly configNodes: readonly NodeTarget[];
  readonly logger: Logger;
  readonly metrics: CcMetrics;
}

export function ccOperations(o: CcServiceOptions): Record<string, OperationHandler> {
  return {
    BroadcastNetworkInfo: async (el, peer, timing) => {
      const req = parseBroadcast(el);
      timing.mark('fields');
      const xml = decodeNetworkInfo(req.networkInfo, timing);
      const { outcome, doc, persisted } = await o.store.accept({ networkInfo: req.networkInfo, xml, version: req.version, sequence: req.sequence, generation: req.generation, nodes: req.nodes });
      timing.mark('accept');
      const targets = doc.nodes ?? o.configNodes;
      o.fanout.setDocument(doc, targets); // delivery starts while the document is written to disk
      timing.mark('fanout');
      await persisted; // the CLC hears "stored" only once a restart would re-send it
      timing.mark('persisted');
      o.metrics.received.inc({ outcome });
      o.metrics.documentBytes.set(doc.bytes);
      o.logger.info(outcome === 'stored' ? 'document stored; fanning out' : 'document unchanged; resuming fan-out', {
        version: doc.version,
        sequence: doc.sequence,
        generation: doc.generation,
        bytes: doc.bytes,
        nodes: targets.length,
        from: peer.name,
        shape: req.nodes ? 'edgenet' : 'eucalyptus',
        ...timing.log(),
      });
      return envelope('BroadcastNetworkInfoResponse', broadcastReplyInner(req, { outcome, version: doc.version, sequence: doc.sequence, generation: doc.generation }));
    },
    DescribeNetworkStatus: async () => {
      const doc = o.store.current;
      return envelope('DescribeNetworkStatusResponse', statusReplyInner({
        version: doc?.version,
        sequence: doc?.sequence,
        generation: doc?.generation,
        receivedAt: doc?.receivedAt,
        nodes: o.fanout.reports(),
      }));
    },
  };
}
