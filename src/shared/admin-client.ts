/**
 * The one client for the cloud controller's admin API (JSON over HTTP(S)).
 * The CLI resolves its settings from flags, environment and the CLC config
 * (src/cli/api-client.ts); the lab, benches and tests pass them directly
 * (src/lab/api.ts, test/integration/pipeline-harness.ts). Only the CLC's own
 * unit tests speak raw HTTP to it, because they check the wire (status codes,
 * error bodies) that this client turns into errors.
 *
 * Transport: node:http(s) with `agent: false` and one timer over the whole
 * request (connect, headers, body). A CLC that accepts the connection and
 * never answers fails the request with CLC_TIMEOUT after the timeout; a
 * connection refused or closed without a byte is CLC_UNREACHABLE; a request
 * cut short by `signal` is ABORTED. Both failures carry a TransportFailure
 * cause saying whether the TCP connection had been made (the failover
 * client, admin-client-failover.ts, asks another CLC only when the request
 * cannot have arrived, or when it is a GET). Server errors come back as
 * `UserError(code, message, {status, details})` with the body's `details`
 * (and `diagnostics`) kept; a 401 without a token says how to pass one.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { UserError, errorMessage } from './errors.ts';
import { isErrorCode } from './error-codes.ts';

export interface ApiClient {
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
}

export interface ClientSettings {
  readonly url: string;
  readonly token?: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Appended to CLC_UNREACHABLE messages (what to check). */
  readonly unreachableHint?: string;
  /** Appended to CLC_TIMEOUT messages (how to wait longer). */
  readonly timeoutHint?: string;
  /** Said in the Unauthorized message when no token was found. */
  readonly tokenHint?: string;
  /**
   * Give up connecting after this long (CLC_UNREACHABLE, details.connected
   * false), within `timeoutMs`; default: only `timeoutMs` applies. The
   * failover client (admin-client-failover.ts) sets it so a dead host does
   * not cost the whole timeout before the next URL is tried.
   */
  readonly connectTimeoutMs?: number;
}

interface RawAnswer {
  readonly status: number;
  readonly text: string;
}

export function createApiClient(settings: ClientSettings): ApiClient {
  const base = settings.url.replace(/\/+$/, '');
  const hint = (h: string | undefined) => (h ? ` ${h}` : '');
  return {
    async request<T = unknown>(method: string, p: string, body?: unknown): Promise<T> {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers: Record<string, string | number> = { accept: 'application/json' };
      if (settings.token) headers.authorization = `Bearer ${settings.token}`;
      if (payload !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(payload);
      }
      let answer: RawAnswer;
      // Whether the TCP connection was made: before it, the request cannot have reached the CLC.
      const progress = { connected: false };
      try {
        answer = await send(new URL(`${base}${p}`), { method, headers, payload, timeoutMs: settings.timeoutMs, connectTimeoutMs: settings.connectTimeoutMs, signal: settings.signal, progress });
      } catch (err) {
        if (err instanceof ConnectTimeoutError) {
          throw new UserError('CLC_UNREACHABLE', `cannot reach the cloud controller at ${base}${hint(settings.unreachableHint)}: no connection within ${err.ms / 1000} s`, {
            cause: new TransportFailure(err.message, false),
          });
        }
        if (err instanceof TimeoutError) {
          throw new UserError('CLC_TIMEOUT', `the cloud controller at ${base} did not answer ${method} ${p} within ${settings.timeoutMs / 1000} s${hint(settings.timeoutHint)}`, {
            details: { timeoutSeconds: settings.timeoutMs / 1000 },
            cause: new TransportFailure('timeout', progress.connected),
          });
        }
        if (settings.signal?.aborted) throw new UserError('ABORTED', `${method} ${p} was interrupted`, { cause: err });
        throw new UserError('CLC_UNREACHABLE', `cannot reach the cloud controller at ${base}${hint(settings.unreachableHint)}: ${errorMessage(err)}`, {
          cause: new TransportFailure(errorMessage(err), progress.connected, err),
        });
      }
      let parsed: unknown;
      try {
        parsed = answer.text === '' ? undefined : JSON.parse(answer.text);
      } catch {
        throw new UserError('BAD_RESPONSE', `the cloud controller at ${base} answered ${answer.status} with non-JSON: ${answer.text.slice(0, 200)}`);
      }
      if (answer.status < 200 || answer.status >= 300) {
        const error = (parsed as { error?: { code?: string; message?: string; details?: Record<string, unknown>; diagnostics?: unknown } } | undefined)?.error;
        if (answer.status === 401 && !settings.token) {
          throw new UserError('UNAUTHORIZED', settings.tokenHint ?? 'no admin token', { status: 401 });
        }
        // A code this client does not know (a newer CLC) stays visible as details.peerCode.
        const peerCode = error?.code;
        const code = isErrorCode(peerCode) ? peerCode : 'HTTP_ERROR';
        const details = {
          ...(error?.details ?? {}),
          ...(error?.diagnostics !== undefined ? { diagnostics: error.diagnostics } : {}),
          ...(code === 'HTTP_ERROR' ? { status: answer.status, ...(peerCode !== undefined ? { peerCode } : {}) } : {}),
        };
        throw new UserError(code, error?.message ?? `${method} ${p} failed with HTTP ${answer.status}`, {
          status: answer.status,
          ...(Object.keys(details).length > 0 ? { details } : {}),
        });
      }
      return parsed as T;
    },
  };
}

/**
 * The cause of CLC_UNREACHABLE and CLC_TIMEOUT: whether the TCP connection
 * had been made. Without a connection the request cannot have reached the
 * CLC, so another CLC may be asked (admin-client-failover.ts).
 */
export class TransportFailure extends Error {
  constructor(
    message: string,
    readonly connected: boolean,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'TransportFailure';
  }
}

class TimeoutError extends Error {}
class ConnectTimeoutError extends Error {
  constructor(readonly ms: number) {
    super(`no connection within ${ms} ms`);
  }
}

function send(
  url: URL,
  o: {
    method: string;
    headers: Record<string, string | number>;
    payload: string | undefined;
    timeoutMs: number;
    connectTimeoutMs: number | undefined;
    signal: AbortSignal | undefined;
    progress: { connected: boolean };
  },
): Promise<RawAnswer> {
  return new Promise<RawAnswer>((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (connectTimer !== undefined) clearTimeout(connectTimer);
      fn();
    };
    const req = mod.request(url, { method: o.method, headers: o.headers, agent: false, ...(o.signal ? { signal: o.signal } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => finish(() => reject(err)));
      res.on('end', () => finish(() => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') })));
    });
    // One limit for the whole exchange: an idle-socket timeout would let a slow trickle run forever.
    const timer = setTimeout(() => {
      finish(() => reject(new TimeoutError()));
      req.destroy();
    }, o.timeoutMs);
    const connectTimer =
      o.connectTimeoutMs !== undefined && o.connectTimeoutMs < o.timeoutMs
        ? setTimeout(() => {
            if (o.progress.connected) return;
            finish(() => reject(new ConnectTimeoutError(o.connectTimeoutMs!)));
            req.destroy();
          }, o.connectTimeoutMs)
        : undefined;
    req.on('socket', (socket) => {
      if (!socket.connecting) o.progress.connected = true;
      else socket.once('connect', () => (o.progress.connected = true));
    });
    req.on('error', (err) => finish(() => reject(err)));
    req.end(o.payload);
  });
}
