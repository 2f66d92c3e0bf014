/**
 * The metadata HTTP listener (node:http, plain text, GET/HEAD only). Every
 * request is answered by its source address: an address that is no known
 * instance gets 404 before the path is even looked at, so nothing about the
 * cloud leaks to other hosts.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../shared/logger.ts';
import { errorMessage } from '../../shared/errors.ts';
import { answerMetadata } from './answer.ts';
import type { MetadataLookup } from './lookup.ts';

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
}

function send(res: http.ServerResponse, status: number, body: string, head: boolean, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(head ? undefined : body);
}

export function startMetadataServer(options: MetadataServerOptions): Promise<MetadataServer> {
  const { lookup, logger } = options;
  const server = http.createServer((req, res) => {
    const method = (req.method ?? 'GET').toUpperCase();
    const source = req.socket.remoteAddress ?? '';
    // Bodies are never read: drop whatever a client sent.
    req.resume();
    if (method !== 'GET' && method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      send(res, 405, 'Method Not Allowed\n', false);
      return;
    }
    const path = new URL(req.url ?? '/', 'http://metadata').pathname;
    lookup
      .lookup(source)
      .then((instance) => {
        if (!instance) {
          logger.debug('metadata request from unknown source', { source, path });
          send(res, 404, 'Not Found\n', method === 'HEAD');
          return;
        }
        const answer = answerMetadata(path, instance);
        logger.debug('metadata request', { source, instance: instance.id, path, status: answer.status });
        send(res, answer.status, answer.body, method === 'HEAD', answer.contentType);
      })
      .catch((err: unknown) => {
        logger.error('metadata lookup failed', { source, path, error: errorMessage(err) });
        send(res, 500, 'Internal Error\n', method === 'HEAD');
      });
  });
  server.keepAliveTimeout = 5_000;
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
