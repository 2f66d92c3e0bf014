/**
 * An admin-API client over several CLC URLs (two or more CLCs on one
 * PostgreSQL database, docs/cloud-controller.md): every CLC serves the admin
 * API, so any one that answers will do. The URLs are tried in order and the
 * first that answers is used; it is remembered for the rest of the client's
 * life (one CLI command) and tried first from then on.
 *
 * What counts as "did not answer", so that the next URL is tried:
 * - no connection (refused, unreachable, name unknown, connect timeout):
 *   the request cannot have reached that CLC;
 * - 503 DB_UNAVAILABLE: that CLC cannot reach the database and changed
 *   nothing (the store's guarantee);
 * - 503 UPSTREAM_UNAVAILABLE: a proxy in front of the CLC (the lab's relay)
 *   could not reach it, so nothing was delivered;
 * - a reset or a timeout AFTER the connection was made, for GET and HEAD
 *   only. A write cut off that way may have been applied by that CLC, so it
 *   is reported, not repeated elsewhere (a second `instance run` could make a
 *   second instance): the caller looks (`edgenet status`, the list commands)
 *   before retrying.
 * Any other HTTP answer, error or not, is that CLC's answer.
 *
 * When none answers, the error lists every URL and why (code: the one code
 * every attempt failed with, else CLC_UNREACHABLE; details.attempts).
 */
import { UserError, errorCode, errorMessage } from './errors.ts';
import { createApiClient, TransportFailure, type ApiClient, type ClientSettings } from './admin-client.ts';
import type { ErrorCode } from './error-codes.ts';

/** How long a connection attempt may take before the next URL is tried (bounded by the request timeout). */
export const FAILOVER_CONNECT_TIMEOUT_MS = 3000;

export interface Attempt {
  readonly url: string;
  readonly code: string;
  readonly message: string;
}

/** Whether `err`, from a request with `method`, means "ask the next CLC". */
export function shouldTryNext(err: unknown, method: string): boolean {
  if (!(err instanceof UserError)) return false;
  if ((err.code === 'DB_UNAVAILABLE' || err.code === 'UPSTREAM_UNAVAILABLE') && err.status === 503) return true;
  if (err.code !== 'CLC_UNREACHABLE' && err.code !== 'CLC_TIMEOUT') return false;
  const connected = err.cause instanceof TransportFailure ? err.cause.connected : true;
  return !connected || method === 'GET' || method === 'HEAD';
}

/** A client over `urls` (settings.url is ignored); one URL gives the plain client. */
export function createFailoverApiClient(urls: readonly string[], settings: Omit<ClientSettings, 'url'>): ApiClient & { current(): string } {
  if (urls.length === 0) throw new Error('createFailoverApiClient: no URL');
  const connectTimeoutMs = settings.connectTimeoutMs ?? Math.min(FAILOVER_CONNECT_TIMEOUT_MS, settings.timeoutMs);
  const clients = urls.map((url) => createApiClient({ ...settings, url, ...(urls.length > 1 ? { connectTimeoutMs } : {}) }));
  let preferred = 0;
  return {
    current: () => urls[preferred]!,
    async request<T = unknown>(method: string, p: string, body?: unknown): Promise<T> {
      if (clients.length === 1) return clients[0]!.request<T>(method, p, body);
      const order = [preferred, ...clients.keys()].filter((i, n, all) => all.indexOf(i) === n);
      const attempts: Attempt[] = [];
      for (const i of order) {
        try {
          const answer = await clients[i]!.request<T>(method, p, body);
          preferred = i;
          return answer;
        } catch (err) {
          if (settings.signal?.aborted || !shouldTryNext(err, method)) {
            // An answer (or a write that may have arrived): this CLC is the one the command talks to.
            if (!settings.signal?.aborted && err instanceof UserError && err.code !== 'CLC_UNREACHABLE' && err.code !== 'CLC_TIMEOUT') preferred = i;
            throw err;
          }
          attempts.push({ url: urls[i]!, code: errorCode(err), message: errorMessage(err) });
        }
      }
      const codes = new Set(attempts.map((a) => a.code));
      const code = (codes.size === 1 ? [...codes][0]! : 'CLC_UNREACHABLE') as ErrorCode;
      const lines = attempts.map((a) => `  ${a.url}: ${a.code}: ${a.message}`).join('\n');
      throw new UserError(code, `no cloud controller answered ${method} ${p} (tried ${attempts.length}):\n${lines}`, {
        status: code === 'DB_UNAVAILABLE' ? 503 : 502,
        details: { attempts },
      });
    },
  };
}
