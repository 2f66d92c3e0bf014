/**
 * The admin HTTP API server (node:http): JSON in, JSON out, bearer-token auth,
 * and one error shape everywhere: `{error: {code, message, details?}}`
 * (INVALID_PROPERTY also carries `diagnostics` at the error's top level).
 *
 * Bodies are limited in size (a network configuration with 10,000 entries
 * fits easily); the token is compared in constant time; every request is
 * logged at debug level, failures at warn, unexpected errors at error.
 *
 * Hostile clients (issue 11 item 4, shared/http-guard.ts): the size limit
 * (declared Content-Length), the route and the token are checked from the
 * request head before any body byte is read; a refusal (401, 405, 408, 413,
 * or any answer while the body is unread) closes the connection without
 * draining the body; head, request and body-idle timeouts bound slow clients.
 */
import * as http from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../shared/logger.ts';
import { EdgenetError, UserError, errorMessage } from '../../shared/errors.ts';
import type { ApiRequest, ApiResponse } from '../contracts.ts';
import type { Router } from './router.ts';
import { applyServerTimeouts, closeGracefully, declaredLength, httpTimeouts, readBody, refuseAndClose, serverTimeoutOptions, type HttpTimeouts } from '../../shared/http-guard.ts';

export interface ApiServerOptions {
  readonly host: string;
  readonly port: number;
  readonly token: string;
  readonly router: Router;
  readonly logger: Logger;
  readonly maxBodyBytes?: number;
  /** Slow-client bounds (defaults: shared/http-guard.ts). */
  readonly timeouts?: Partial<HttpTimeouts>;
}

export interface ApiServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY = 32 * 1024 * 1024;

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } as const;

/** Refusals after which the connection is closed, never reused (issue 11 item 4). */
const CLOSING_STATUSES: ReadonlySet<number> = new Set([401, 403, 405, 408, 411, 413]);

function errorBody(err: unknown): { status: number; body: unknown } {
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
  const timeouts = httpTimeouts(options.timeouts);

  const server = http.createServer(serverTimeoutOptions(timeouts), (req, res) => {
    const started = Date.now();
    const send = (status: number, body: unknown, code?: string) => {
      const text = JSON.stringify(body);
      const fields = { method: req.method, url: req.url, status, ms: Date.now() - started };
      if (status >= 500) logger.error('api request failed', fields);
      else logger.debug('api request', fields);
      // A refusal, or any answer while the body is still unread: close without draining it.
      if (CLOSING_STATUSES.has(status) || !req.complete) {
        refuseAndClose(req, res, { status, headers: JSON_HEADERS, body: text, logger, lingerMs: timeouts.lingerMs, fields: { method: req.method, url: req.url, ...(code ? { code } : {}) } });
        return;
      }
      res.writeHead(status, { ...JSON_HEADERS, 'content-length': String(Buffer.byteLength(text)) });
      res.end(text);
    };
    handle(req)
      .then((r) => send(r.status, r.body))
      .catch((err: unknown) => {
        const { status, body } = errorBody(err);
        const code = err instanceof EdgenetError || err instanceof UserError ? err.code : undefined;
        // A coded error was thrown on purpose (DB_UNAVAILABLE while PostgreSQL restarts, DB_COMMIT_UNKNOWN): its
        // code and message say it all. A stack only for what nobody expected (a bug).
        if (status >= 500) logger.error('api handler error', { error: errorMessage(err), ...(code !== undefined ? { code } : { stack: err instanceof Error ? err.stack : undefined }) });
        send(status, body, code);
      });
  });
  applyServerTimeouts(server, timeouts);

  /**
   * Order: size (from the head), route, token — all before a byte of the body
   * is read — then the body, counted and watched for idleness.
   */
  async function handle(req: http.IncomingMessage): Promise<ApiResponse> {
    const url = new URL(req.url ?? '/', 'http://local');
    const method = (req.method ?? 'GET').toUpperCase();
    const declared = declaredLength(req, maxBody);
    if (declared === 'invalid') throw new UserError('MALFORMED_REQUEST', 'invalid Content-Length', { status: 400 });
    if (declared === 'too-large') throw new UserError('REQUEST_TOO_LARGE', `request body over ${maxBody} bytes`, { status: 413 });
    const match = router.match(method, url.pathname);
    if (match.kind === 'not-found') {
      throw new UserError('NOT_FOUND', `no route ${method} ${url.pathname}`, { status: 404 });
    }
    if (match.kind === 'method-not-allowed') {
      throw new UserError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${url.pathname} (allowed: ${match.allowed.join(', ')})`, { status: 405 });
    }
    if (!match.isPublic) {
      const header = req.headers.authorization ?? '';
      const m = /^Bearer\s+(.+)$/i.exec(header);
      if (!m || !timingSafeEqual(digest(m[1]!.trim()), tokenDigest)) {
        throw new UserError('UNAUTHORIZED', 'missing or wrong admin token (Authorization: Bearer TOKEN)', { status: 401 });
      }
    }
    const body = await readJson(req, { limit: maxBody, idleMs: timeouts.bodyIdleMs });
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
    // In-flight requests get a moment to finish; then connections are cut.
    close: () => closeGracefully(server),
  };
}

/** Reads the whole body as JSON (undefined when empty): at most `limit` bytes, no pause longer than `idleMs`. */
async function readJson(req: http.IncomingMessage, options: { limit: number; idleMs: number }): Promise<unknown> {
  const body = await readBody(req, {
    ...options,
    refuse: {
      tooLarge: () => new UserError('REQUEST_TOO_LARGE', `request body over ${options.limit} bytes`, { status: 413 }),
      idle: () => new UserError('REQUEST_TIMEOUT', `no request body data for ${options.idleMs} ms`, { status: 408 }),
      broken: (err) => new UserError('MALFORMED_REQUEST', `request body: ${errorMessage(err)}`, { status: 400 }),
    },
  });
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new UserError('MALFORMED_REQUEST', `request body is not valid JSON: ${errorMessage(err)}`);
  }
}
