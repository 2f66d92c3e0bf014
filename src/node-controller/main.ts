/**
 * `edgenet nc`: the node controller daemon. It serves the node-controller
 * SOAP interface over mutual TLS (only the `cc` role may call it), writes the
 * shared file for netd, and reports netd's status; plus a loopback listener for
 * /healthz and /metrics. Settings: flag > config file (KEY=value) > default.
 * SIGTERM (the abort signal) closes both listeners; the shared file stays.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostname } from 'node:os';
import { Command } from 'commander';
import { ConfReader, loadConf } from '../cluster-controller/conf-file.ts';
import { DEFAULT_PORTS, paths } from '../shared/paths.ts';
import { createLogger, type Logger } from '../shared/logger.ts';
import { systemClock, type Clock } from '../shared/clock.ts';
import { loadTlsMaterial } from '../shared/tls/material.ts';
import { startSoapServer } from '../shared/soap/server.ts';
import { DEFAULT_MAX_REQUEST_BYTES } from '../shared/soap/guard.ts';
import { newRegistry, startMetricsServer } from '../shared/metrics.ts';
import { HeldDocument } from './held-document.ts';
import { ncOperations } from './service.ts';
import { ncMetrics } from './metrics.ts';

export const NC_CONFIG_KEYS = [
  'LISTEN', 'METRICS_LISTEN', 'CERTS_DIR', 'CERT_NAME', 'RUN_DIR', 'GNI_FILE', 'NETD_STATUS_FILE',
  'NODE_NAME', 'MAX_REQUEST_BYTES', 'LOG_LEVEL',
] as const;

export interface NcConfig {
  readonly listen: { host: string; port: number };
  /** Undefined: no metrics listener (METRICS_LISTEN=off). */
  readonly metricsListen: { host: string; port: number } | undefined;
  readonly certsDir: string;
  readonly certName: string;
  readonly gniFile: string;
  readonly statusFile: string;
  readonly nodeName: string;
  readonly maxRequestBytes: number;
  readonly logLevel: string;
}

export interface NcFlags {
  config?: string;
  listen?: string;
  metricsListen?: string;
  certs?: string;
  certName?: string;
  runDir?: string;
  gniFile?: string;
  statusFile?: string;
  nodeName?: string;
  maxRequestBytes?: string;
  logLevel?: string;
}

/** Declares the daemon's flags on `cmd` (shared by `edgenet nc` and main()). */
export function ncOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'config file of KEY=value lines (see examples/nc.conf)')
    .option('--listen <host:port>', `SOAP listener (LISTEN, default 0.0.0.0:${DEFAULT_PORTS.nc})`)
    .option('--metrics-listen <host:port>', `plain-HTTP /healthz and /metrics (METRICS_LISTEN, default 127.0.0.1:${DEFAULT_PORTS.ncMetrics}; "off" disables)`)
    .option('--certs <dir>', 'directory with ca.crt, <name>.crt, <name>.key (CERTS_DIR)')
    .option('--cert-name <name>', 'certificate name in the certs dir (CERT_NAME, default nc)')
    .option('--run-dir <dir>', 'where the shared file and netd status live (RUN_DIR)')
    .option('--gni-file <file>', 'shared file path (GNI_FILE, default RUN_DIR/global_network_info.xml)')
    .option('--status-file <file>', "netd's status file (NETD_STATUS_FILE, default RUN_DIR/netd-status.json)")
    .option('--node-name <name>', 'this node as named in the GNI (NODE_NAME, default the hostname)')
    .option('--max-request-bytes <n>', 'largest request accepted (MAX_REQUEST_BYTES, default 64 MiB)')
    .option('--log-level <level>', 'debug|info|warn|error (LOG_LEVEL)');
}

export function resolveNcConfig(flags: NcFlags, env: NodeJS.ProcessEnv): { config: NcConfig; unknownKeys: string[] } {
  const r = new ConfReader(loadConf(flags.config), {
    LISTEN: flags.listen,
    METRICS_LISTEN: flags.metricsListen,
    CERTS_DIR: flags.certs,
    CERT_NAME: flags.certName,
    RUN_DIR: flags.runDir,
    GNI_FILE: flags.gniFile,
    NETD_STATUS_FILE: flags.statusFile,
    NODE_NAME: flags.nodeName,
    MAX_REQUEST_BYTES: flags.maxRequestBytes,
    LOG_LEVEL: flags.logLevel,
  });
  const run = r.optional('RUN_DIR');
  const metrics = r.str('METRICS_LISTEN', `127.0.0.1:${DEFAULT_PORTS.ncMetrics}`);
  return {
    config: {
      listen: r.listen('LISTEN', `0.0.0.0:${DEFAULT_PORTS.nc}`),
      metricsListen: metrics === 'off' ? undefined : r.listen('METRICS_LISTEN', metrics),
      certsDir: r.str('CERTS_DIR', paths.certsDir(env)),
      certName: r.str('CERT_NAME', 'nc'),
      gniFile: r.str('GNI_FILE', run ? path.join(run, 'global_network_info.xml') : paths.gniFile(env)),
      statusFile: r.str('NETD_STATUS_FILE', run ? path.join(run, 'netd-status.json') : paths.netdStatus(env)),
      nodeName: r.str('NODE_NAME', hostname()),
      maxRequestBytes: r.int('MAX_REQUEST_BYTES', DEFAULT_MAX_REQUEST_BYTES, { min: 1024, max: 1024 * 1024 * 1024 }),
      logLevel: r.str('LOG_LEVEL', env.EDGENET_LOG_LEVEL ?? 'info'),
    },
    unknownKeys: r.unknownKeys(NC_CONFIG_KEYS),
  };
}

export interface RunningNc {
  readonly port: number;
  readonly metricsPort: number | undefined;
  stop(): Promise<void>;
}

export async function startNc(config: NcConfig, deps: { logger: Logger; clock?: Clock }): Promise<RunningNc> {
  const { logger } = deps;
  const tls = loadTlsMaterial(config.certsDir, config.certName);
  const held = new HeldDocument(config.gniFile, deps.clock ?? systemClock, logger);
  const initial = await held.load();
  const registry = newRegistry('nc');
  const metrics = ncMetrics(registry);
  if (initial.sequence !== undefined) metrics.heldSequence.set(initial.sequence);
  const soap = await startSoapServer(
    {
      tls,
      allowedRole: 'cc',
      maxRequestBytes: config.maxRequestBytes,
      wsdl: readFileSync(wsdlPath('node-controller.wsdl'), 'utf8'),
      operations: ncOperations({ node: config.nodeName, held, statusFile: config.statusFile, logger, metrics }),
      logger,
      onFault: (code) => metrics.faults.inc({ code }),
    },
    config.listen,
  );
  const metricsServer = config.metricsListen
    ? await startMetricsServer({
        ...config.metricsListen,
        registry,
        health: () => ({ ok: true, component: 'nc', node: config.nodeName, soapPort: soap.port, held: held.current }),
      })
    : undefined;
  logger.info('node controller listening', {
    port: soap.port,
    host: config.listen.host,
    metricsPort: metricsServer?.port,
    gniFile: config.gniFile,
    held: initial,
    certificate: tls.source,
  });
  return {
    port: soap.port,
    metricsPort: metricsServer?.port,
    async stop() {
      await Promise.all([soap.close(), metricsServer?.close()]);
    },
  };
}

export function wsdlPath(file: string): string {
  return fileURLToPath(new URL(`../../wsdl/${file}`, import.meta.url));
}

/** Runs until `signal` aborts. Returns the exit code. */
export async function runNc(flags: NcFlags, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<number> {
  const { config, unknownKeys } = resolveNcConfig(flags, env);
  const logger = createLogger({ component: 'nc', level: config.logLevel }, env);
  if (unknownKeys.length) logger.warn('unknown config keys ignored', { keys: unknownKeys });
  const nc = await startNc(config, { logger });
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  logger.info('stopping');
  await nc.stop();
  return 0;
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<number> {
  const cmd = ncOptions(new Command('nc')).exitOverride();
  cmd.parse(['node', 'nc', ...argv]);
  return runNc(cmd.opts<NcFlags>(), env, signal);
}

