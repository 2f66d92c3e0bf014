/**
 * The lab's client for its own CLC admin API, reached from the host through
 * the relays (relay.ts): the one admin client (src/shared/admin-client.ts,
 * node:http with one timer over the whole request, errors as
 * `UserError(code, message, {status, details})`) with a longer timeout. When the relay accepts a
 * connection and the CLC behind it is not (yet) listening, the connection
 * closes without a byte: CLC_UNREACHABLE, which the lab's pollers retry.
 *
 * A two-CLC lab (`lab up --db postgres`) has a URL per CLC: clients get them
 * all, comma-separated (EDGENET_URL=URL1,URL2; the failover client,
 * shared/admin-client-failover.ts), the URLs of CLCs whose process runs
 * first. That order matters in the lab: the host relay accepts the
 * connection even when its CLC is dead, so to the client a write there looks
 * like one that may have arrived, which it does not repeat elsewhere.
 */
import { pidExists } from '../shared/pid.ts';
import { readFileSync } from 'node:fs';
import { createApiClient, type ApiClient } from '../shared/admin-client.ts';
import { createFailoverApiClient } from '../shared/admin-client-failover.ts';
import { EdgenetError } from '../shared/errors.ts';
import type { LabState } from './state.ts';

export type { ApiClient };

const REQUEST_TIMEOUT_MS = 120_000;

/** A client for `url`, or for several comma-separated URLs (the first that answers). */
export function labApiClient(url: string, token: string, signal?: AbortSignal): ApiClient {
  const settings = { token, timeoutMs: REQUEST_TIMEOUT_MS, ...(signal ? { signal } : {}), unreachableHint: "(the lab's cloud controller)" };
  const urls = url.split(',');
  return urls.length === 1 ? createApiClient({ url, ...settings }) : createFailoverApiClient(urls, settings);
}


/** The lab's admin API URLs, those of running CLCs first (one URL for a one-CLC lab). */
export function labApiUrls(state: LabState): string[] {
  const api = state.api;
  if (!api) return [];
  if (!api.byClc) return [...(api.urls ?? [api.url])];
  const running = (id: string) => state.processes.some((p) => p.role === 'clc' && p.clc === id && pidExists(p.pid));
  const entries = Object.entries(api.byClc);
  return [...entries.filter(([id]) => running(id)), ...entries.filter(([id]) => !running(id))].map(([, url]) => url);
}

export function labApiEnv(state: LabState): { EDGENET_URL: string; EDGENET_TOKEN: string } {
  if (!state.api) throw new EdgenetError('LAB_NOT_UP', `lab ${state.plan.name} has no admin API yet (it did not finish starting)`);
  let token: string;
  try {
    token = readFileSync(state.api.tokenFile, 'utf8').trim();
  } catch (err) {
    throw new EdgenetError('LAB_NOT_UP', `cannot read the lab's admin token ${state.api.tokenFile}: ${(err as Error).message}`, { cause: err });
  }
  return { EDGENET_URL: labApiUrls(state).join(','), EDGENET_TOKEN: token };
}

export function labApiFor(state: LabState, signal?: AbortSignal): ApiClient {
  const env = labApiEnv(state);
  return labApiClient(env.EDGENET_URL, env.EDGENET_TOKEN, signal);
}
