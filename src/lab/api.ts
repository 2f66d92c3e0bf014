/**
 * The lab's client for its own CLC admin API, reached from the host through
 * the relays (relay.ts). Same interface and error shape as the CLI's client
 * (src/cli/api-client.ts: `UserError(code, message, {status, details})`), but
 * on node:http with a per-request timeout: when the relay accepts a
 * connection and the CLC behind it is not (yet) listening, the connection
 * closes without a byte, and undici's fetch has been seen to leave its promise
 * pending forever with no handle keeping the process alive. A bounded
 * node:http request always settles.
 */
import * as http from 'node:http';
import { readFileSync } from 'node:fs';
import type { ApiClient } from '../cli/api-client.ts';
import { EdgenetError, UserError, errorMessage } from '../shared/errors.ts';
import type { LabState } from './state.ts';

export type { ApiClient };

const REQUEST_TIMEOUT_MS = 120_000;

export function labApiClient(url: string, token: string, signal?: AbortSignal): ApiClient {
  const base = new URL(url);
  return {
    request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      return new Promise<T>((resolve, reject) => {
        const req = http.request(
          {
            host: base.hostname,
            port: base.port,
            path,
            method,
            agent: false,
            timeout: REQUEST_TIMEOUT_MS,
            ...(signal ? { signal } : {}),
            headers: {
              accept: 'application/json',
              authorization: `Bearer ${token}`,
              ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('error', reject);
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              let parsed: unknown;
              try {
                parsed = text === '' ? undefined : JSON.parse(text);
              } catch {
                reject(new UserError('BadResponse', `the cloud controller at ${url} answered ${res.statusCode} with non-JSON: ${text.slice(0, 200)}`));
                return;
              }
              const status = res.statusCode ?? 0;
              if (status >= 200 && status < 300) {
                resolve(parsed as T);
                return;
              }
              const error = (parsed as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined)?.error;
              reject(new UserError(error?.code ?? `HTTP${status}`, error?.message ?? `${method} ${path} failed with HTTP ${status}`, { status, ...(error?.details ? { details: error.details } : {}) }));
            });
          },
        );
        req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
        req.on('error', (err) => reject(new UserError('ClcUnreachable', `cannot reach the lab's cloud controller at ${url}: ${errorMessage(err)}`, { cause: err })));
        req.end(payload);
      });
    },
  };
}

export function labApiEnv(state: LabState): { EDGENET_URL: string; EDGENET_TOKEN: string } {
  if (!state.api) throw new EdgenetError('LAB_NOT_UP', `lab ${state.plan.name} has no admin API yet (it did not finish starting)`);
  let token: string;
  try {
    token = readFileSync(state.api.tokenFile, 'utf8').trim();
  } catch (err) {
    throw new EdgenetError('LAB_NOT_UP', `cannot read the lab's admin token ${state.api.tokenFile}: ${(err as Error).message}`, { cause: err });
  }
  return { EDGENET_URL: state.api.url, EDGENET_TOKEN: token };
}

export function labApiFor(state: LabState, signal?: AbortSignal): ApiClient {
  const env = labApiEnv(state);
  return labApiClient(env.EDGENET_URL, env.EDGENET_TOKEN, signal);
}
