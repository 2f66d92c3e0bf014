/**
 * The CLI's client for the cloud controller's admin API (used by every command
 * group that talks to a running CLC).
 *
 * Resolution of where and how: `--url`/`--token` flags, then the environment
 * (`EDGENET_URL`, `EDGENET_TOKEN`), then the defaults a CLC started with
 * defaults on this machine uses (`http://127.0.0.1:8770` and the token file
 * `paths.clcToken(env)`). Server errors come back as `UserError(code, message)`
 * with the body's `details` (and `diagnostics`) kept.
 */
import * as fs from 'node:fs';
import type { Command } from 'commander';
import type { CliContext } from './context.ts';
import { UserError, errorMessage } from '../shared/errors.ts';
import { DEFAULT_PORTS, paths } from '../shared/paths.ts';

export interface ApiOptions {
  url?: string;
  token?: string;
}

export interface ApiClient {
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
}

export const DEFAULT_CLC_URL = `http://127.0.0.1:${DEFAULT_PORTS.clcApi}`;

export function addApiOptions(cmd: Command): Command {
  return cmd
    .option('--url <URL>', `cloud controller admin API (env EDGENET_URL, default ${DEFAULT_CLC_URL})`)
    .option('--token <TOKEN>', 'admin token (env EDGENET_TOKEN, default: read from the CLC token file)');
}

function resolveToken(ctx: CliContext, opts: ApiOptions): string | undefined {
  if (opts.token) return opts.token;
  if (ctx.env.EDGENET_TOKEN) return ctx.env.EDGENET_TOKEN;
  const file = paths.clcToken(ctx.env);
  try {
    return fs.readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export function apiClient(ctx: CliContext, opts: ApiOptions): ApiClient {
  const base = (opts.url ?? ctx.env.EDGENET_URL ?? DEFAULT_CLC_URL).replace(/\/+$/, '');
  const token = resolveToken(ctx, opts);
  return {
    async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      let res: Response;
      try {
        res = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal: ctx.signal });
      } catch (err) {
        throw new UserError('ClcUnreachable', `cannot reach the cloud controller at ${base} (is \`edgenet clc\` running?): ${errorMessage((err as Error).cause ?? err)}`, {
          cause: err,
        });
      }
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        throw new UserError('BadResponse', `the cloud controller at ${base} answered ${res.status} with non-JSON: ${text.slice(0, 200)}`);
      }
      if (!res.ok) {
        const error = (parsed as { error?: { code?: string; message?: string; details?: Record<string, unknown>; diagnostics?: unknown } } | undefined)?.error;
        if (res.status === 401 && !token) {
          throw new UserError('Unauthorized', `no admin token: pass --token, set EDGENET_TOKEN, or make ${paths.clcToken(ctx.env)} readable`, { status: 401 });
        }
        const details = { ...(error?.details ?? {}), ...(error?.diagnostics !== undefined ? { diagnostics: error.diagnostics } : {}) };
        throw new UserError(error?.code ?? `HTTP${res.status}`, error?.message ?? `${method} ${path} failed with HTTP ${res.status}`, {
          status: res.status,
          ...(Object.keys(details).length > 0 ? { details } : {}),
        });
      }
      return parsed as T;
    },
  };
}
