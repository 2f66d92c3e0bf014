/**
 * `edgenet clc`: runs the cloud controller in the foreground until SIGTERM or
 * SIGINT (graceful stop: plugins, API, then the database).
 *
 * Settings come from flags, then the optional config file (`--config`, KEY=value
 * lines, see examples/clc.conf), then defaults.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliExit, type CliContext } from '../context.ts';
import { createLogger } from '../../shared/logger.ts';
import { DEFAULT_PORTS, paths } from '../../shared/paths.ts';
import { parseIp } from '../../shared/ip.ts';
import { errorMessage } from '../../shared/errors.ts';
import { runCloudController } from '../../cloud-controller/main.ts';

interface ClcFlags {
  config?: string;
  db?: string;
  listen?: string;
  clcIp?: string;
  tokenFile?: string;
  portFile?: string;
  logFormat?: string;
  logLevel?: string;
}

/** Config-file keys and the flag each stands for. */
const CONFIG_KEYS: Readonly<Record<string, keyof ClcFlags>> = {
  DB: 'db',
  LISTEN: 'listen',
  CLC_IP: 'clcIp',
  TOKEN_FILE: 'tokenFile',
  PORT_FILE: 'portFile',
  LOG_FORMAT: 'logFormat',
  LOG_LEVEL: 'logLevel',
};

/** Parses `KEY=value` lines (# comments, optional quotes); unknown keys are errors. */
export function parseClcConfig(text: string, file: string): Partial<ClcFlags> {
  const out: Partial<ClcFlags> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^([A-Z_]+)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new CliExit(2, `error: ${file}:${i + 1}: expected KEY=value, got ${JSON.stringify(raw)}`);
    const key = CONFIG_KEYS[m[1]!];
    if (!key) throw new CliExit(2, `error: ${file}:${i + 1}: unknown key ${m[1]} (known: ${Object.keys(CONFIG_KEYS).join(', ')})`);
    let value = m[2]!.trim();
    if (/^(".*"|'.*')$/.test(value)) value = value.slice(1, -1);
    out[key] = value;
  });
  return out;
}

/** `HOST:PORT`, `[v6]:PORT`, `:PORT` or `PORT`. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new CliExit(2, `error: --listen expects HOST:PORT (port 0 = any free port), got ${JSON.stringify(text)}`);
  return { host: m[1] || m[2] || '127.0.0.1', port };
}

export function registerClc(program: Command, ctx: CliContext): void {
  program
    .command('clc')
    .description('run the cloud controller: property store (SQLite), IPAM, groups, addresses, instances, admin HTTP API, plugins (GNI, broadcaster, metadata)')
    .option('--config <FILE>', 'KEY=value file (DB, LISTEN, CLC_IP, TOKEN_FILE, PORT_FILE, LOG_FORMAT, LOG_LEVEL); flags win over it')
    .option('--db <PATH>', `SQLite database file (default ${paths.clcDatabase(ctx.env)})`)
    .option('--listen <HOST:PORT>', `admin API address (default 127.0.0.1:${DEFAULT_PORTS.clcApi}; port 0 picks a free one)`)
    .option('--clc-ip <IP>', 'address nodes reach the CLC at (GNI enabledCLCIp, metadata target; default 127.0.0.1)')
    .option('--token-file <FILE>', `admin token, created (random, mode 0600) if missing (default ${paths.clcToken(ctx.env)})`)
    .option('--port-file <FILE>', 'write the bound API port here once listening (for --listen HOST:0)')
    .option('--log-format <json|text>', 'log format on stderr (default: text on a terminal, JSON lines otherwise)')
    .option('--log-level <LEVEL>', 'debug, info, warn or error (default info)')
    .addHelpText(
      'after',
      `
The CLC keeps all state in one SQLite file (WAL, synchronous=FULL: nothing
committed is lost on a crash). Admin API: http://HOST:PORT/v1/... with
"Authorization: Bearer <token>"; GET /healthz is public. The CLI finds a CLC
started with defaults on this machine without flags; otherwise use --url and
--token (or EDGENET_URL / EDGENET_TOKEN). SIGTERM or SIGINT stops it gracefully.

Examples:
  edgenet clc
  edgenet clc --db /tmp/clc.db --listen 127.0.0.1:0 --port-file /tmp/clc.port --token-file /tmp/clc.token
  edgenet clc --config /etc/edgenet/clc.conf`,
    )
    .action(async (flags: ClcFlags) => {
      let fromFile: Partial<ClcFlags> = {};
      if (flags.config) {
        let text: string;
        try {
          text = readFileSync(flags.config, 'utf8');
        } catch (err) {
          throw new CliExit(2, `error: cannot read ${flags.config}: ${errorMessage(err)}`);
        }
        fromFile = parseClcConfig(text, flags.config);
      }
      const pick = <K extends keyof ClcFlags>(k: K): ClcFlags[K] => flags[k] ?? fromFile[k];
      const listen = parseListen(pick('listen') ?? `127.0.0.1:${DEFAULT_PORTS.clcApi}`);
      const clcIp = pick('clcIp') ?? '127.0.0.1';
      if (parseIp(clcIp) === undefined) throw new CliExit(2, `error: --clc-ip expects an IPv4 address, got ${JSON.stringify(clcIp)}`);
      const format = pick('logFormat');
      if (format !== undefined && format !== 'json' && format !== 'text') throw new CliExit(2, `error: --log-format is json or text, got ${JSON.stringify(format)}`);
      const level = pick('logLevel');
      const logger = createLogger({ component: 'clc', ...(format ? { format } : {}), ...(level ? { level } : {}) }, ctx.env);

      const controller = new AbortController();
      const stop = () => controller.abort();
      ctx.signal.addEventListener('abort', stop, { once: true });
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      try {
        const portFile = pick('portFile');
        await runCloudController(
          {
            dbPath: pick('db') ?? paths.clcDatabase(ctx.env),
            host: listen.host,
            port: listen.port,
            clcIp,
            tokenFile: pick('tokenFile') ?? paths.clcToken(ctx.env),
            ...(portFile ? { portFile } : {}),
            logger,
            env: ctx.env,
          },
          controller.signal,
        );
      } finally {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        ctx.signal.removeEventListener('abort', stop);
        logger.close();
      }
    });
}
