/**
 * The lab's client for its own CLC admin API, reached from the host through
 * the relays (relay.ts). It reuses the CLI's client (src/cli/api-client.ts),
 * so errors look the same as for `edgenet ...` commands.
 */
import { readFileSync } from 'node:fs';
import { apiClient, type ApiClient } from '../cli/api-client.ts';
import type { CliContext } from '../cli/context.ts';
import { EdgenetError } from '../shared/errors.ts';
import type { LabState } from './state.ts';

export type { ApiClient };

export function labApiClient(url: string, token: string, signal?: AbortSignal): ApiClient {
  const ctx: CliContext = {
    env: {},
    out: () => undefined,
    err: () => undefined,
    signal: signal ?? new AbortController().signal,
    setExitCode: () => undefined,
  };
  return apiClient(ctx, { url, token });
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
