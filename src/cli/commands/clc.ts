/**
 * `edgenet clc`: runs the cloud controller in the foreground (shared daemon
 * lifecycle: SIGTERM/SIGINT stop it gracefully — plugins, API, then the
 * database —, SIGHUP applies a new LOG_LEVEL).
 *
 * Settings: flags > EDGENET_CLC_<KEY> > the config file (`--config`, KEY=value
 * lines, see examples/clc.conf) > defaults; `--check-config` prints them with
 * their sources and problems (src/cloud-controller/main.ts resolveClcConfig).
 */
import type { Command } from 'commander';
import { CliExit, type CliContext } from '../context.ts';
import { DEFAULT_PORTS, paths } from '../../shared/paths.ts';
import { parseHostPort } from '../../shared/config/settings.ts';
import { runDaemonCommand } from '../../shared/daemon/run.ts';
import { clcProgram, credentialsKeyBeside, type ClcFlags } from '../../cloud-controller/main.ts';
import { daemonIo } from './pipeline.ts';

/** `HOST:PORT`, `[v6]:PORT`, `:PORT` or `PORT`. */
export function parseListen(text: string): { host: string; port: number } {
  const parsed = parseHostPort(text);
  if (!parsed.ok) throw new CliExit(2, `error: --listen expects HOST:PORT (port 0 = any free port), got ${JSON.stringify(text)}`);
  return parsed.value;
}

export function registerClc(program: Command, ctx: CliContext): void {
  program
    .command('clc')
    .description('run the cloud controller: property store (SQLite), IPAM, groups, addresses, instances, admin HTTP API, plugins (GNI, broadcaster, metadata)')
    .option('--config <FILE>', 'KEY=value file (see examples/clc.conf); flags and EDGENET_CLC_<KEY> win over it')
    .option('--db <PATH|URL>', `SQLite database file, or postgres://USER@HOST/DATABASE for several CLCs on one PostgreSQL database (DB, default ${paths.clcDatabase(ctx.env)})`)
    .option('--id <ID>', "this CLC's id among the CLCs of one PostgreSQL database (CLC_ID: 1-64 letters, digits, . _ - :; default the hostname)")
    .option('--listen <HOST:PORT>', `admin API address (LISTEN, default 127.0.0.1:${DEFAULT_PORTS.clcApi}; port 0 picks a free one)`)
    .option('--clc-ip <IP>', 'address nodes reach the CLC at (CLC_IP: GNI enabledCLCIp, metadata target; default 127.0.0.1)')
    .option('--clc-ipv6 <IP>', "the CLC's IPv6 address nodes reach (CLC_IPV6: GNI configuration ipv6 clc-address, target of metadata over IPv6; default none)")
    .option('--token-file <FILE>', `admin token, created (random, mode 0600) if missing (TOKEN_FILE, default ${paths.clcToken(ctx.env)})`)
    .option('--credentials-key-file <FILE>', `key sealing the EC2 secret access keys in the database, created (random, mode 0600) if missing; back it up apart from the database (CREDENTIALS_KEY_FILE, default: credentials.key next to the database, ${credentialsKeyBeside(paths.clcDatabase(ctx.env))})`)
    .option('--port-file <FILE>', 'write the bound API port here once listening (PORT_FILE, for --listen HOST:0)')
    .option('--certs <DIR>', `the CLC's client certificate for calling CCs: ca.crt, <name>.crt, <name>.key (CERTS_DIR, default ${paths.certsDir(ctx.env)})`)
    .option('--cert-name <NAME>', 'certificate name in the certs dir (CERT_NAME, default clc)')
    .option('--metrics-listen <HOST:PORT>', `plain-HTTP /healthz and /metrics (METRICS_LISTEN, default 127.0.0.1:${DEFAULT_PORTS.clcMetrics}; "off" disables)`)
    .option('--log-format <auto|json|text>', 'log format on stderr (LOG_FORMAT; auto = text on a terminal, JSON lines otherwise)')
    .option('--log-level <LEVEL>', 'debug, info, warn or error (LOG_LEVEL, default info)')
    .option('--check-config', 'print the effective configuration (each value with its source) and its problems, then exit 0 (fine) or 2')
    .option('--json', 'with --check-config: JSON output')
    .addHelpText(
      'after',
      `
The CLC keeps all state in one SQLite file (WAL, synchronous=FULL: nothing
committed is lost on a crash), or with DB=postgres://... in one PostgreSQL
database shared by two or more CLCs: one leads and broadcasts, the others
serve the API and take over within 5 s (docs/cloud-controller.md, "Running on
PostgreSQL"). Subcommands: backup, restore, migrate (edgenet clc migrate --help). Admin API: http://HOST:PORT/v1/... with
"Authorization: Bearer <token>"; GET /healthz is public. The CLI finds a CLC
started with defaults on this machine without flags; otherwise use --url and
--token (or EDGENET_URL / EDGENET_TOKEN).

Signals: SIGTERM or SIGINT stops it gracefully (exit 0); SIGHUP re-reads the
configuration and applies LOG_LEVEL (other changes need a restart).
Exit codes: 0 stopped, 1 runtime failure, 2 usage or configuration error.

Examples:
  edgenet clc
  edgenet clc --db /tmp/clc.db --listen 127.0.0.1:0 --port-file /tmp/clc.port --token-file /tmp/clc.token
  edgenet clc --config /etc/edgenet/clc.conf
  edgenet clc --config /etc/edgenet/clc.conf --check-config`,
    )
    .action(async (flags: ClcFlags) => {
      ctx.setExitCode(await runDaemonCommand(clcProgram(flags, ctx.env), daemonIo(ctx, flags)));
    });
}
