/**
 * The CLI's settings for the admin-API client (src/shared/admin-client.ts,
 * which has the transport, timeouts and error mapping): the `--url`,
 * `--token`, ... options every API command takes, resolved into
 * `ClientSettings` with hints that name the CLI's flags.
 *
 * Where and how (first match wins):
 *   URL:     --url, EDGENET_URL, LISTEN of the CLC config file (0.0.0.0 → 127.0.0.1),
 *            http://127.0.0.1:8770. --url / EDGENET_URL may list several CLCs,
 *            comma-separated: the first that answers is used for the whole
 *            command (shared/admin-client-failover.ts says what "answers" means)
 *   token:   --token, --token-file, EDGENET_TOKEN, EDGENET_TOKEN_FILE, TOKEN_FILE of
 *            the CLC config file, the default token file paths.clcToken(env)
 *   config:  --config, EDGENET_CLC_CONFIG, CONF_DIR/clc.conf when it exists
 *   timeout: --timeout SECONDS, EDGENET_TIMEOUT, 30 s
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from './context.ts';
import { usageError } from './context.ts';
import { errorMessage } from '../shared/errors.ts';
import type { ApiClient, ClientSettings } from '../shared/admin-client.ts';
import { createFailoverApiClient } from '../shared/admin-client-failover.ts';
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

const DEFAULT_TIMEOUT_SECONDS = 30;

export function addApiOptions(cmd: Command): Command {
  return cmd
    .option('--url <URL[,URL...]>', `cloud controller admin API; several CLCs comma-separated, the first that answers is used (env EDGENET_URL; default: LISTEN of the CLC config, else ${DEFAULT_CLC_URL})`)
    .option('--token <TOKEN>', 'admin token (env EDGENET_TOKEN)')
    .option('--token-file <FILE>', 'read the admin token from FILE (env EDGENET_TOKEN_FILE; default: TOKEN_FILE of the CLC config, else the default token file)')
    .option('--config <FILE>', "the CLC's config file, for LISTEN and TOKEN_FILE (env EDGENET_CLC_CONFIG; default /etc/edgenet/clc.conf when present)")
    .option('--timeout <SECONDS>', `give up on a request after SECONDS (env EDGENET_TIMEOUT; default ${DEFAULT_TIMEOUT_SECONDS})`);
}

/** Resolves flags, environment and the CLC config into client settings (usage errors exit 2). */
function resolveClientSettings(ctx: CliContext, opts: ApiOptions): ClientSettings & { urls: readonly string[]; tokenSource: string } {
  const conf = readConf(ctx, opts);
  const timeoutText = opts.timeout ?? ctx.env.EDGENET_TIMEOUT;
  let timeoutMs = DEFAULT_TIMEOUT_SECONDS * 1000;
  if (timeoutText !== undefined && timeoutText !== '') {
    const seconds = Number(timeoutText);
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 86_400) {
      throw usageError('INVALID_TIMEOUT', `--timeout / EDGENET_TIMEOUT must be a number of seconds in (0, 86400], got ${JSON.stringify(timeoutText)}`);
    }
    timeoutMs = Math.round(seconds * 1000);
  }
  let url = opts.url ?? ctx.env.EDGENET_URL;
  if (url === undefined && conf.listen !== undefined) {
    url = listenToUrl(conf.listen);
    if (url === undefined) throw usageError('CONFIG_UNUSABLE', `LISTEN=${conf.listen} in ${conf.file} names no port a client can use: pass --url`);
  }
  const urls = parseUrlList(url ?? DEFAULT_CLC_URL);
  const token = resolveToken(ctx, opts, conf);
  return {
    url: urls[0]!,
    urls,
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
    throw usageError('CONFIG_UNREADABLE', `cannot read the CLC config ${file}: ${errorMessage(err)}`);
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
      if (must) throw usageError('TOKEN_FILE_UNREADABLE', `cannot read the admin token file ${file}: ${errorMessage(err)}`);
      return undefined;
    }
  };
  if (opts.tokenFile) return { token: read(opts.tokenFile, true), source: opts.tokenFile };
  if (ctx.env.EDGENET_TOKEN) return { token: ctx.env.EDGENET_TOKEN, source: 'EDGENET_TOKEN' };
  if (ctx.env.EDGENET_TOKEN_FILE) return { token: read(ctx.env.EDGENET_TOKEN_FILE, true), source: ctx.env.EDGENET_TOKEN_FILE };
  const file = conf.tokenFile ?? paths.clcToken(ctx.env);
  return { token: read(file, false), source: file };
}

/** `URL[,URL...]`: each an http(s) URL (trailing slashes dropped); usage error INVALID_URL otherwise. */
export function parseUrlList(text: string): string[] {
  const urls = text.split(',').map((u) => u.trim().replace(/\/+$/, ''));
  for (const url of urls) {
    try {
      const u = new URL(url);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
    } catch {
      throw usageError('INVALID_URL', `--url / EDGENET_URL must be an http(s) URL or a comma-separated list of them, got ${JSON.stringify(url)}${urls.length > 1 ? ` in ${JSON.stringify(text)}` : ''}`);
    }
  }
  return urls;
}

export function apiClient(ctx: CliContext, opts: ApiOptions): ApiClient {
  const { urls, ...settings } = resolveClientSettings(ctx, opts);
  return createFailoverApiClient(urls, settings);
}
