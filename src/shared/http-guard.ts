/**
 * What every edgenet HTTP(S) listener does about hostile clients (issue 11
 * item 4): the admin API, the CC and NC SOAP servers, the metadata service and
 * the metrics/health listeners all use it.
 *
 * Model:
 * - Slow clients are bounded by time: `headersTimeout` (the request head must
 *   arrive within it), `requestTimeout` (the whole request, body included),
 *   a per-request body-idle timeout in the body readers (no byte for that long
 *   → 408), and `keepAliveTimeout` between requests. Node answers an expired
 *   head or request with 408 and closes the socket itself.
 * - A refusal (401, 403, 405, 408, 413, 400 before the body was read) is
 *   answered with `Connection: close`, reading stops, and the socket is
 *   destroyed shortly after (`refuseAndClose`). The body is never drained:
 *   Node's default after a response is to read and discard the rest of the
 *   request so the connection can be reused, which let a client without
 *   credentials push gigabytes at us. Destroying a socket with unread data
 *   makes the kernel send RST, so the sender's next write fails.
 * - Size limits are checked before authentication: a declared Content-Length
 *   over the limit is refused from the head alone, and the body readers count
 *   streamed bytes.
 *
 * Every refusal that closes is logged once the socket is gone, with the bytes
 * read from it (`bytesRead`): how much a refused client got us to read.
 */
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from './logger.ts';

export interface HttpTimeouts {
  /** The request head (line + headers) must be complete within this. */
  readonly headersMs: number;
  /** The whole request, body included. */
  readonly requestMs: number;
  /** Longest pause between two body chunks. */
  readonly bodyIdleMs: number;
  /** Idle time allowed between two requests on one connection. */
  readonly keepAliveMs: number;
  /** After a refusal, how long the half-closed, unread socket stays before it is destroyed. */
  readonly lingerMs: number;
}

const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = {
  headersMs: 10_000,
  // A 64 MiB SOAP broadcast over a slow management link still fits.
  requestMs: 300_000,
  bodyIdleMs: 30_000,
  keepAliveMs: 65_000,
  lingerMs: 1_000,
};

/** The most body bytes a refused request may get us to read (the issue's bound, and the tests'). */
export const REFUSED_BODY_READ_LIMIT = 64 * 1024;

/** Options for `http.createServer` / `https.createServer` that bound slow clients. */
export function serverTimeoutOptions(t: HttpTimeouts): { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number; maxHeaderSize: number } {
  return {
    headersTimeout: t.headersMs,
    requestTimeout: Math.max(t.requestMs, t.headersMs),
    // Node checks the two timeouts above on this interval (default 30 s).
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(t.headersMs / 4))),
    // Our requests carry a handful of short headers.
    maxHeaderSize: 16 * 1024,
  };
}

/** The settings that are properties, not constructor options. */
export function applyServerTimeouts(server: Server, t: HttpTimeouts): void {
  server.keepAliveTimeout = t.keepAliveMs;
  server.headersTimeout = t.headersMs;
  server.requestTimeout = Math.max(t.requestMs, t.headersMs);
}

/** Merges partial overrides (tests use short ones) over the defaults. */
export function httpTimeouts(overrides: Partial<HttpTimeouts> | undefined): HttpTimeouts {
  return { ...DEFAULT_HTTP_TIMEOUTS, ...(overrides ?? {}) };
}

/** Does the request announce a body (a non-zero Content-Length, or any Transfer-Encoding)? */
export function announcesBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '0';
}

/**
 * The declared Content-Length checked against `maxBytes`: `ok`, `too-large`,
 * or `invalid` (not a non-negative integer). Absent is `ok` (chunked bodies
 * are counted while they stream).
 */
export function declaredLength(req: IncomingMessage, maxBytes: number): 'ok' | 'too-large' | 'invalid' {
  const declared = req.headers['content-length'];
  if (declared === undefined) return 'ok';
  if (!/^\d{1,16}$/.test(declared)) return 'invalid';
  return Number(declared) > maxBytes ? 'too-large' : 'ok';
}

export interface RefusalOptions {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Logged with the bytes read once the socket is closed (info level). */
  readonly logger?: Logger;
  readonly fields?: Readonly<Record<string, unknown>>;
  /** How long the half-closed socket stays before it is destroyed (default `DEFAULT_HTTP_TIMEOUTS.lingerMs`). */
  readonly lingerMs?: number;
}

/**
 * Answers and closes, without reading another byte of the request:
 * 1. reading stops (the socket is paused: unread bytes stay in the kernel and
 *    TCP flow control stops the sender);
 * 2. the answer is written straight to the socket with `Connection: close`,
 *    followed by our FIN — not through `res.end()`, because after a response
 *    Node resumes the request to discard the rest of its body;
 * 3. after `lingerMs` the socket is destroyed. Destroying at once would send
 *    RST while the client still writes, and a client's kernel that receives
 *    RST may discard the answer it has not read yet: the client would see
 *    "connection reset" instead of the reason (a CLC with the wrong
 *    certificate should read FORBIDDEN_ROLE). The linger costs no reads.
 */
export function refuseAndClose(req: IncomingMessage, res: ServerResponse, options: RefusalOptions): void {
  const socket = req.socket;
  req.pause();
  socket.pause();
  if (options.logger) {
    const logger = options.logger;
    socket.once('close', () => logger.info('connection closed after refusal', { status: options.status, peer: socket.remoteAddress, bytesRead: socket.bytesRead, ...(options.fields ?? {}) }));
  }
  if (res.headersSent || socket.destroyed) {
    socket.destroy();
    return;
  }
  const body = Buffer.from(options.body, 'utf8');
  let head = `HTTP/1.1 ${options.status} ${STATUS_CODES[options.status] ?? 'Refused'}\r\n`;
  for (const [name, value] of Object.entries(options.headers)) {
    if (!/^(connection|content-length|transfer-encoding)$/i.test(name)) head += `${name}: ${value.replace(/[\r\n]/g, ' ')}\r\n`;
  }
  head += `date: ${new Date().toUTCString()}\r\nconnection: close\r\ncontent-length: ${body.length}\r\n\r\n`;
  // The response object is abandoned: mark it so nothing else writes a second answer.
  res.shouldKeepAlive = false;
  (res as { _header?: string })._header = head;
  // Not unref'd: a paused socket is no active handle, and a server closing
  // must wait for the linger to end rather than exit under it.
  const linger = setTimeout(() => socket.destroy(), options.lingerMs ?? DEFAULT_HTTP_TIMEOUTS.lingerMs);
  socket.once('close', () => clearTimeout(linger));
  socket.end(Buffer.concat([Buffer.from(head, 'latin1'), body]));
}

/**
 * Calls `onIdle` when no body chunk arrived for `ms` (armed now, re-armed on
 * every chunk). Returns the function that disarms it.
 */
export function watchBodyIdle(req: IncomingMessage, ms: number, onIdle: () => void): () => void {
  let timer = setTimeout(onIdle, ms);
  const rearm = () => {
    clearTimeout(timer);
    timer = setTimeout(onIdle, ms);
  };
  req.on('data', rearm);
  return () => {
    clearTimeout(timer);
    req.off('data', rearm);
  };
}

/** How a body reader's caller words its refusals (each listener has its own error shape). */
export interface BodyRefusals {
  /** More than the limit arrived. */
  readonly tooLarge: () => Error;
  /** No body data for the idle time. */
  readonly idle: () => Error;
  /** The request stream failed. */
  readonly broken: (err: Error) => Error;
}

/**
 * Reads the whole body: at most `limit` bytes, no pause longer than `idleMs`
 * between chunks (the admin API's and the EC2 endpoint's reader; the SOAP
 * guard has its own, which copies into one buffer of the declared size). On
 * a refusal the request is paused, never drained: the caller answers with
 * `refuseAndClose`.
 */
export function readBody(req: IncomingMessage, options: { readonly limit: number; readonly idleMs: number; readonly refuse: BodyRefusals }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: Error | undefined) => {
      if (done) return;
      done = true;
      stopIdle();
      if (err) {
        req.pause();
        reject(err);
      } else resolve(Buffer.concat(chunks, size));
    };
    const stopIdle = watchBodyIdle(req, options.idleMs, () => finish(options.refuse.idle()));
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > options.limit) return finish(options.refuse.tooLarge());
      chunks.push(chunk);
    });
    req.on('error', (err) => finish(options.refuse.broken(err)));
    req.on('end', () => finish(undefined));
  });
}

/**
 * Closes a listener: no new connections, idle keep-alive connections closed
 * now, in-flight requests given `graceMs` to finish before every connection
 * is cut. Resolves when the server has closed.
 */
export function closeGracefully(server: Pick<Server, 'close' | 'closeIdleConnections' | 'closeAllConnections'>, graceMs = 2000): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), graceMs).unref();
  });
}
