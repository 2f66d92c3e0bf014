/**
 * The admin HTTP API server (node:http): JSON in, JSON out, bearer-token auth,
 * and one error shape everywhere: `{error: {code, message, details?}}`
 * (InvalidProperty also carries `diagnostics` at the error's top level).
 *
 * Bodies are limited in size (a network configuration with 10,000 entries
 * fits easily); the token is compared in constant time; every request is
 * logged at debug level, failures at warn, unexpected errors at error.
 */
import * as http from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../shared/logger.ts';
import { EdgenetError, UserError, errorMessage } from '../../shared/errors.ts';
import type { ApiRequest, ApiResponse } from '../contracts.ts';
import type { Router } from './router.ts';

export interface ApiServerOptions {
  readonly host: string;
  readonly port: number;
  readonly token: string;
  readonly router: Router;
  readonly logger: Logger;
  readonly maxBodyBytes?: number;
}

export interface ApiServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY = 32 * 1024 * 1024;

export function errorBody(err: unknown): { status: number; body: unknown } {
  if (err instanceof UserError || err instanceof EdgenetError) {
    const status = err instanceof UserError ? err.status : 500;
    const details = err.details;
    const diagnostics = details && Array.isArray(details.diagnostics) ? { diagnostics: details.diagnostics } : {};
    return { status, body: { error: { code: err.code, message: err.message, ...(details ? { details } : {}), ...diagnostics } } };
  }
  return { status: 500, body: { error: { code: 'InternalError', message: errorMessage(err) } } };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { router, logger } = options;
  const tokenDigest = digest(options.token);
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;

  const server = http.createServer((req, res) => {
    const started = Date.now();
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
      res.end(text);
      const fields = { method: req.method, url: req.url, status, ms: Date.now() - started };
      if (status >= 500) logger.error('api request failed', fields);
      else logger.debug('api request', fields);
    };
    handle(req)
      .then((r) => send(r.status, r.body))
      .catch((err: unknown) => {
        const { status, body } = errorBody(err);
        if (status >= 500) logger.error('api handler error', { error: errorMessage(err), stack: err instanceof Error ? err.stack : undefined });
        send(status, body);
      });
  });

  async function handle(req: http.IncomingMessage): Promise<ApiResponse> {
    const url = new URL(req.url ?? '/', 'http://local');
    const method = (req.method ?? 'GET').toUpperCase();
    const match = router.match(method, url.pathname);
    if (match.kind === 'not-found') {
      await drain(req);
      throw new UserError('NotFound', `no route ${method} ${url.pathname}`, { status: 404 });
    }
    if (match.kind === 'method-not-allowed') {
      await drain(req);
      throw new UserError('MethodNotAllowed', `${method} is not allowed on ${url.pathname} (allowed: ${match.allowed.join(', ')})`, { status: 405 });
    }
    if (!match.isPublic) {
      const header = req.headers.authorization ?? '';
      const m = /^Bearer\s+(.+)$/i.exec(header);
      if (!m || !timingSafeEqual(digest(m[1]!.trim()), tokenDigest)) {
        await drain(req);
        throw new UserError('Unauthorized', 'missing or wrong admin token (Authorization: Bearer TOKEN)', { status: 401 });
      }
    }
    const body = await readJson(req, maxBody);
    const apiRequest: ApiRequest = { method, path: url.pathname, params: match.params, query: url.searchParams, body, remoteAddress: req.socket.remoteAddress ?? '' };
    return match.handler(apiRequest);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    host: address.address,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // In-flight requests get a moment to finish; then connections are cut.
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      }),
  };
}

async function drain(req: http.IncomingMessage): Promise<void> {
  for await (const _ of req) {
    // discard
  }
}

async function readJson(req: http.IncomingMessage, limit: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new UserError('PayloadTooLarge', `request body over ${limit} bytes`, { status: 413 });
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UserError('MalformedRequest', `request body is not valid JSON: ${errorMessage(err)}`);
  }
}
