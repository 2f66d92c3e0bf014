/**
 * The metadata HTTP listener (node:http, plain text, GET/HEAD only). Every
 * request is answered by its source address: an address that is no known
 * instance gets 404 before the path is even looked at, so nothing about the
 * cloud leaks to other hosts. A request with a body or another method is
 * refused and its connection closed; head and request timeouts bound slow
 * clients (shared/http-guard.ts).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../shared/logger.ts';
import { errorMessage } from '../../shared/errors.ts';
import { answerMetadata } from './answer.ts';
import type { MetadataLookup } from './lookup.ts';
import { announcesBody, applyServerTimeouts, httpTimeouts, refuseAndClose, serverTimeoutOptions, type HttpTimeouts } from '../../shared/http-guard.ts';

export interface MetadataServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface MetadataServerOptions {
  readonly host: string;
  readonly port: number;
  readonly lookup: MetadataLookup;
  readonly logger: Logger;
  /** Slow-client bounds (defaults: shared/http-guard.ts; keep-alive 5 s). */
  readonly timeouts?: Partial<HttpTimeouts>;
}

const TEXT = { 'content-type': 'text/plain; charset=utf-8' } as const;

/** An answer: `head` sends the headers of a GET without its body. */
interface Reply {
  readonly status: number;
  readonly body: string | Buffer;
  readonly head: boolean;
  readonly contentType?: string | undefined;
}

function send(res: http.ServerResponse, { status, body, head, contentType = 'text/plain; charset=utf-8' }: Reply): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(head ? undefined : body);
}

export function startMetadataServer(options: MetadataServerOptions): Promise<MetadataServer> {
  const { lookup, logger } = options;
  const timeouts = httpTimeouts({ keepAliveMs: 5_000, ...(options.timeouts ?? {}) });
  const server = http.createServer(serverTimeoutOptions(timeouts), (req, res) => {
    const method = (req.method ?? 'GET').toUpperCase();
    const source = req.socket.remoteAddress ?? '';
    // Bodies are never read, and never drained: a request that announces one
    // is answered and its connection closed (shared/http-guard.ts).
    if (method !== 'GET' && method !== 'HEAD') {
      refuseAndClose(req, res, { status: 405, headers: { allow: 'GET, HEAD', ...TEXT }, body: 'Method Not Allowed\n', logger, lingerMs: timeouts.lingerMs, fields: { source } });
      return;
    }
    if (announcesBody(req)) {
      refuseAndClose(req, res, { status: 400, headers: TEXT, body: 'Bad Request: metadata requests take no body\n', logger, lingerMs: timeouts.lingerMs, fields: { source } });
      return;
    }
    const path = new URL(req.url ?? '/', 'http://metadata').pathname;
    lookup
      .lookup(source)
      .then((instance) => {
        if (!instance) {
          logger.debug('metadata request from unknown source', { source, path });
          send(res, { status: 404, body: 'Not Found\n', head: method === 'HEAD' });
          return;
        }
        const answer = answerMetadata(path, instance);
        logger.debug('metadata request', { source, instance: instance.id, path, status: answer.status });
        send(res, { status: answer.status, body: answer.body, head: method === 'HEAD', contentType: answer.contentType });
      })
      .catch((err: unknown) => {
        logger.error('metadata lookup failed', { source, path, error: errorMessage(err) });
        send(res, { status: 500, body: 'Internal Error\n', head: method === 'HEAD' });
      });
  });
  applyServerTimeouts(server, timeouts);
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      server.on('error', (err) => logger.error('metadata server error', { error: errorMessage(err) }));
      const address = server.address() as AddressInfo;
      resolve({
        host: address.address,
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
