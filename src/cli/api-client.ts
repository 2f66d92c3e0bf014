/**
 * The one client for the cloud controller's admin API: the CLI's commands and
 * the lab (src/lab/api.ts) both use it.
 *
 * Transport: node:http(s) with `agent: false` and one timer over the whole
 * request (connect, headers, body). A CLC that accepts the connection and
 * never answers fails the request with `ClcTimeout` after the timeout; a
 * connection refused or closed without a byte is `ClcUnreachable`. Server
 * errors come back as `UserError(code, message)` with the body's `details`
 * (and `diagnostics`) kept.
 *
 * Where and how (the CLI, first match wins):
 *   URL:     --url, EDGENET_URL, LISTEN of the CLC config file (0.0.0.0 → 127.0.0.1),
 *            http://127.0.0.1:8770
 *   token:   --token, --token-file, EDGENET_TOKEN, EDGENET_TOKEN_FILE, TOKEN_FILE of
 *            the CLC config file, the default token file paths.clcToken(env)
 *   config:  --config, EDGENET_CLC_CONFIG, CONF_DIR/clc.conf when it exists
 *   timeout: --timeout SECONDS, EDGENET_TIMEOUT, 30 s
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as http from 'node:http';
import * as https from 'node:https';
import type { Command } from 'commander';
import type { CliContext } from './context.ts';
import { usageError } from './context.ts';
import { UserError, errorMessage } from '../shared/errors.ts';
import { confDir, paths } from '../shared/paths.ts';
import { DEFAULT_CLC_URL, listenToUrl, parseClcConfForCli, type ClcConfForCli } from './clc-conf.ts';

export { DEFAULT_CLC_URL };

export interface ApiOptions {
  url?: string;
  token?: string;
  tokenFile?: string;
  config?: string;
  timeout?: string;
}

export interface ApiClient {
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
}

export const DEFAULT_TIMEOUT_SECONDS = 30;

export function addApiOptions(cmd: Command): Command {
  return cmd
    .option('--url <URL>', `cloud controller admin API (env EDGENET_URL; default: LISTEN of the CLC config, else ${DEFAULT_CLC_URL})`)
    .option('--token <TOKEN>', 'admin token (env EDGENET_TOKEN)')
    .option('--token-file <FILE>', 'read the admin token from FILE (env EDGENET_TOKEN_FILE; default: TOKEN_FILE of the CLC config, else the default token file)')
    .option('--config <FILE>', "the CLC's config file, for LISTEN and TOKEN_FILE (env EDGENET_CLC_CONFIG; default /etc/edgenet/clc.conf when present)")
    .option('--timeout <SECONDS>', `give up on a request after SECONDS (env EDGENET_TIMEOUT; default ${DEFAULT_TIMEOUT_SECONDS})`);
}

export interface ClientSettings {
  readonly url: string;
  readonly token?: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Appended to ClcUnreachable messages (what to check). */
  readonly unreachableHint?: string;
  /** Appended to ClcTimeout messages (how to wait longer). */
  readonly timeoutHint?: string;
  /** Said in the Unauthorized message when no token was found. */
  readonly tokenHint?: string;
}

/** Resolves flags, environment and the CLC config into client settings (usage errors exit 2). */
export function resolveClientSettings(ctx: CliContext, opts: ApiOptions): ClientSettings & { tokenSource: string } {
  const conf = readConf(ctx, opts);
  const timeoutText = opts.timeout ?? ctx.env.EDGENET_TIMEOUT;
  let timeoutMs = DEFAULT_TIMEOUT_SECONDS * 1000;
  if (timeoutText !== undefined && timeoutText !== '') {
    const seconds = Number(timeoutText);
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 86_400) {
      throw usageError('InvalidTimeout', `--timeout / EDGENET_TIMEOUT must be a number of seconds in (0, 86400], got ${JSON.stringify(timeoutText)}`);
    }
    timeoutMs = Math.round(seconds * 1000);
  }
  let url = opts.url ?? ctx.env.EDGENET_URL;
  if (url === undefined && conf.listen !== undefined) {
    url = listenToUrl(conf.listen);
    if (url === undefined) throw usageError('ConfigUnusable', `LISTEN=${conf.listen} in ${conf.file} names no port a client can use: pass --url`);
  }
  url = (url ?? DEFAULT_CLC_URL).replace(/\/+$/, '');
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw usageError('InvalidUrl', `--url / EDGENET_URL must be an http(s) URL, got ${JSON.stringify(url)}`);
  }
  const token = resolveToken(ctx, opts, conf);
  return {
    url,
    ...(token.token !== undefined ? { token: token.token } : {}),
    tokenSource: token.source,
    timeoutMs,
    signal: ctx.signal,
    unreachableHint: '(is `edgenet clc` running?)',
    timeoutHint: '(--timeout / EDGENET_TIMEOUT set the limit)',
    tokenHint: `no admin token: pass --token or --token-file, set EDGENET_TOKEN, or make ${token.source} readable`,
  };
}

function readConf(ctx: CliContext, opts: ApiOptions): ClcConfForCli & { file?: string } {
  const explicit = opts.config ?? ctx.env.EDGENET_CLC_CONFIG;
  const file = explicit ?? path.join(confDir(ctx.env), 'clc.conf');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    // The default file is optional; one named explicitly must be readable.
    if (explicit === undefined) return {};
    throw usageError('ConfigUnreadable', `cannot read the CLC config ${file}: ${errorMessage(err)}`);
  }
  const conf = parseClcConfForCli(text);
  // A relative TOKEN_FILE is relative to the directory the CLC runs in; we can only guess the config's.
  const tokenFile = conf.tokenFile !== undefined && !path.isAbsolute(conf.tokenFile) ? path.resolve(path.dirname(file), conf.tokenFile) : conf.tokenFile;
  return { ...conf, ...(tokenFile !== undefined ? { tokenFile } : {}), file };
}

function resolveToken(ctx: CliContext, opts: ApiOptions, conf: ClcConfForCli & { file?: string }): { token?: string; source: string } {
  if (opts.token) return { token: opts.token, source: '--token' };
  const read = (file: string, must: boolean): string | undefined => {
    try {
      return fs.readFileSync(file, 'utf8').trim() || undefined;
    } catch (err) {
      if (must) throw usageError('TokenFileUnreadable', `cannot read the admin token file ${file}: ${errorMessage(err)}`);
      return undefined;
    }
  };
  if (opts.tokenFile) return { token: read(opts.tokenFile, true), source: opts.tokenFile };
  if (ctx.env.EDGENET_TOKEN) return { token: ctx.env.EDGENET_TOKEN, source: 'EDGENET_TOKEN' };
  if (ctx.env.EDGENET_TOKEN_FILE) return { token: read(ctx.env.EDGENET_TOKEN_FILE, true), source: ctx.env.EDGENET_TOKEN_FILE };
  const file = conf.tokenFile ?? paths.clcToken(ctx.env);
  return { token: read(file, false), source: file };
}

export function apiClient(ctx: CliContext, opts: ApiOptions): ApiClient {
  return createApiClient(resolveClientSettings(ctx, opts));
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
      try {
        answer = await send(new URL(`${base}${p}`), { method, headers, payload, timeoutMs: settings.timeoutMs, signal: settings.signal });
      } catch (err) {
        if (err instanceof TimeoutError) {
          throw new UserError('ClcTimeout', `the cloud controller at ${base} did not answer ${method} ${p} within ${settings.timeoutMs / 1000} s${hint(settings.timeoutHint)}`, {
            details: { timeoutSeconds: settings.timeoutMs / 1000 },
          });
        }
        if (settings.signal?.aborted) throw new UserError('Aborted', `${method} ${p} was interrupted`, { cause: err });
        throw new UserError('ClcUnreachable', `cannot reach the cloud controller at ${base}${hint(settings.unreachableHint)}: ${errorMessage(err)}`, { cause: err });
      }
      let parsed: unknown;
      try {
        parsed = answer.text === '' ? undefined : JSON.parse(answer.text);
      } catch {
        throw new UserError('BadResponse', `the cloud controller at ${base} answered ${answer.status} with non-JSON: ${answer.text.slice(0, 200)}`);
      }
      if (answer.status < 200 || answer.status >= 300) {
        const error = (parsed as { error?: { code?: string; message?: string; details?: Record<string, unknown>; diagnostics?: unknown } } | undefined)?.error;
        if (answer.status === 401 && !settings.token) {
          throw new UserError('Unauthorized', settings.tokenHint ?? 'no admin token', { status: 401 });
        }
        const details = { ...(error?.details ?? {}), ...(error?.diagnostics !== undefined ? { diagnostics: error.diagnostics } : {}) };
        throw new UserError(error?.code ?? `HTTP${answer.status}`, error?.message ?? `${method} ${p} failed with HTTP ${answer.status}`, {
          status: answer.status,
          ...(Object.keys(details).length > 0 ? { details } : {}),
        });
      }
      return parsed as T;
    },
  };
}

class TimeoutError extends Error {}

function send(
  url: URL,
  o: { method: string; headers: Record<string, string | number>; payload: string | undefined; timeoutMs: number; signal: AbortSignal | undefined },
): Promise<RawAnswer> {
  return new Promise<RawAnswer>((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
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
    req.on('error', (err) => finish(() => reject(err)));
    req.end(o.payload);
  });
}
