/**
 * The lab's client for its own CLC admin API, reached from the host through
 * the relays (relay.ts): the one admin client (src/shared/admin-client.ts,
 * node:http with one timer over the whole request, errors as
 * `UserError(code, message, {status, details})`) with a longer timeout. When the relay accepts a
 * connection and the CLC behind it is not (yet) listening, the connection
 * closes without a byte: CLC_UNREACHABLE, which the lab's pollers retry.
 */
import { readFileSync } from 'node:fs';
import { createApiClient, type ApiClient } from '../shared/admin-client.ts';
import { EdgenetError } from '../shared/errors.ts';
import type { LabState } from './state.ts';

export type { ApiClient };

const REQUEST_TIMEOUT_MS = 120_000;

export function labApiClient(url: string, token: string, signal?: AbortSignal): ApiClient {
  return createApiClient({ url, token, timeoutMs: REQUEST_TIMEOUT_MS, ...(signal ? { signal } : {}), unreachableHint: "(the lab's cloud controller)" });
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
