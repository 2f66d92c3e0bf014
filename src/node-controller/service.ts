/**
 * The node controller's SOAP operations (wsdl/node-controller.wsdl):
 * - `ncBroadcastNetworkInfo`: decode the Base64 GNI, refuse DOCTYPE/ENTITY
 *   markup in it, hand it to HeldDocument (sequence check + atomic write).
 * - `ncDescribeNetworkStatus`: the held document and netd's last status.
 */
import type { OperationHandler } from '../shared/soap/server.ts';
import { decodeNetworkInfo } from '../shared/soap/guard.ts';
import { envelope } from '../shared/soap/envelope.ts';
import { broadcastReplyInner, parseBroadcast, statusReplyInner } from '../shared/soap/messages.ts';
import type { Logger } from '../shared/logger.ts';
import type { HeldDocument } from './held-document.ts';
import { nodeReport } from './netd-report.ts';
import type { NcMetrics } from './metrics.ts';

export interface NcServiceOptions {
  readonly node: string;
  readonly held: HeldDocument;
  readonly statusFile: string;
  readonly logger: Logger;
  readonly metrics: NcMetrics;
}

export function ncOperations(o: NcServiceOptions): Record<string, OperationHandler> {
  return {
    ncBroadcastNetworkInfo: async (el, peer, timing) => {
      const req = parseBroadcast(el);
      timing.mark('fields');
      const xml = decodeNetworkInfo(req.networkInfo, timing);
      const started = performance.now();
      const result = await o.held.accept(xml, { version: req.version, sequence: req.sequence, generation: req.generation }, timing);
      o.metrics.received.inc({ outcome: result.outcome });
      o.metrics.documentBytes.set(xml.length);
      if (result.held.sequence !== undefined) o.metrics.heldSequence.set(result.held.sequence);
      o.logger.info(result.outcome === 'written' ? 'shared file written' : 'document unchanged, not rewritten', {
        version: result.held.version,
        sequence: result.held.sequence,
        generation: result.held.generation,
        bytes: xml.length,
        from: peer.name,
        ms: Math.round(performance.now() - started),
        ...timing.log(),
        renamedAt: timing.at('renamed'),
      });
      return envelope('ncBroadcastNetworkInfoResponse', broadcastReplyInner(req, { outcome: result.outcome, ...result.held }));
    },
    ncDescribeNetworkStatus: async () => {
      const report = await nodeReport({ node: o.node, statusFile: o.statusFile, held: o.held.current });
      return envelope('ncDescribeNetworkStatusResponse', statusReplyInner({ nodes: [report] }));
    },
  };
}
