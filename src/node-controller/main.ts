/**
 * `edgenet nc`: the node controller daemon. It serves the node-controller
 * SOAP interface over mutual TLS (only the `cc` role may call it), writes the
 * shared file for netd, and reports netd's status; plus a loopback listener for
 * /healthz and /metrics. Settings: flag > EDGENET_NC_<KEY> > config file
 * (KEY=value) > default. SIGTERM (the abort signal) closes both listeners;
 * the shared file stays. SIGHUP applies a new LOG_LEVEL (shared/daemon/reload.ts).
 */
import * as path from 'node:path';
import { hostname } from 'node:os';
import { Command } from 'commander';
import { Settings } from '../shared/config/settings.ts';
import { loadConfFile, LOG_ALIASES, LOG_FORMATS, LOG_LEVELS, type LogFormatSetting } from '../shared/config/load.ts';
import { checkCertificateFile, checkTls, checkWritableDir } from '../shared/config/checks.ts';
import type { Diagnostic } from '../shared/diagnostics.ts';
import { runDaemonCommand, type DaemonProgram, type Resolved } from '../shared/daemon/run.ts';
import { serviceProgram } from '../shared/daemon/service.ts';
import { DEFAULT_PORTS, paths, runDir } from '../shared/paths.ts';
import type { Logger } from '../shared/logger.ts';
import { systemClock, type Clock } from '../shared/clock.ts';
import { loadTlsMaterial } from '../shared/tls/material.ts';
import { startSoapServer } from '../shared/soap/server.ts';
import { WSSEC_CONFIG_KEYS, readWsSecListenerConfig, startWsSecListener, type WsSecListenerConfig } from '../shared/soap/wssec-listener.ts';
import { DEFAULT_MAX_REQUEST_BYTES } from '../shared/soap/guard.ts';
import { readWsdl } from '../shared/soap/wsdl.ts';
import { newRegistry, startMetricsServer } from '../shared/metrics.ts';
import { registerDaemonMetrics } from '../shared/daemon-metrics.ts';
import { HeldDocument } from './held-document.ts';
import { ncOperations } from './service.ts';
import { ncMetrics } from './metrics.ts';

const NC_CONFIG_KEYS = [
  'LISTEN', 'METRICS_LISTEN', 'CERTS_DIR', 'CERT_NAME', 'RUN_DIR', 'GNI_FILE', 'NETD_STATUS_FILE',
  'NODE_NAME', 'MAX_REQUEST_BYTES', 'LOG_LEVEL', 'LOG_FORMAT',
  ...WSSEC_CONFIG_KEYS,
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
  readonly logFormat: LogFormatSetting;
  /** The opt-in Eucalyptus listener (EUCA_WSSEC_LISTEN + EUCA_WSSEC_CERT); undefined: off (the default). */
  readonly eucalyptus?: WsSecListenerConfig | undefined;
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
  logFormat?: string;
  checkConfig?: boolean;
  json?: boolean;
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
    .option('--log-level <level>', 'debug|info|warn|error (LOG_LEVEL)')
    .option('--log-format <format>', 'auto|json|text (LOG_FORMAT; auto = text on a terminal, JSON lines otherwise)')
    .option('--check-config', 'print the effective configuration (each value with its source) and its problems, then exit 0 (fine) or 2')
    .option('--json', 'with --check-config: JSON output');
}

/** flag > EDGENET_NC_<KEY> > config file > default, every problem collected (see shared/config/settings.ts). */
export function resolveNcConfig(flags: NcFlags, env: NodeJS.ProcessEnv): Resolved<NcConfig> {
  const s = new Settings({
    daemon: 'nc',
    conf: loadConfFile(flags.config),
    env,
    aliases: LOG_ALIASES,
    flags: {
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
      LOG_FORMAT: flags.logFormat,
    },
    flagNames: { CERTS_DIR: '--certs', NETD_STATUS_FILE: '--status-file' },
  });
  const listen = s.listen('LISTEN', `0.0.0.0:${DEFAULT_PORTS.nc}`, '0.0.0.0');
  const metricsListen = s.listenOrOff('METRICS_LISTEN', `127.0.0.1:${DEFAULT_PORTS.ncMetrics}`);
  const certsDir = s.str('CERTS_DIR', paths.certsDir(env));
  const certName = s.str('CERT_NAME', 'nc');
  const run = s.str('RUN_DIR', runDir(env));
  const config: NcConfig = {
    listen,
    metricsListen,
    certsDir,
    certName,
    gniFile: s.str('GNI_FILE', path.join(run, 'global_network_info.xml')),
    statusFile: s.str('NETD_STATUS_FILE', path.join(run, 'netd-status.json')),
    nodeName: s.str('NODE_NAME', hostname()),
    maxRequestBytes: s.int('MAX_REQUEST_BYTES', DEFAULT_MAX_REQUEST_BYTES, { min: 1024, max: 1024 * 1024 * 1024 }),
    logLevel: s.oneOf('LOG_LEVEL', 'info', LOG_LEVELS),
    logFormat: s.oneOf('LOG_FORMAT', 'auto', LOG_FORMATS),
    eucalyptus: readWsSecListenerConfig(s),
  };
  s.warnUnknown(NC_CONFIG_KEYS);
  return { config, effective: s.effective, diagnostics: s.diagnostics };
}

/** What --check-config verifies on disk: the certificates and the directory of the shared file. */
function checkNcConfig(config: NcConfig): Diagnostic[] {
  const out: Diagnostic[] = [];
  checkTls({ dir: config.certsDir, name: config.certName, key: 'CERTS_DIR' }, (d) => out.push(d));
  checkWritableDir(path.dirname(config.gniFile), 'GNI_FILE', (d) => out.push(d));
  if (config.eucalyptus) checkCertificateFile(config.eucalyptus.certFile, 'EUCA_WSSEC_CERT', (d) => out.push(d));
  return out;
}

export interface RunningNc {
  readonly port: number;
  readonly metricsPort: number | undefined;
  /** The Eucalyptus WS-Security listener's port, when enabled. */
  readonly eucalyptusPort: number | undefined;
  stop(): Promise<void>;
}

export async function startNc(config: NcConfig, deps: { logger: Logger; clock?: Clock }): Promise<RunningNc> {
  const { logger } = deps;
  const tls = loadTlsMaterial(config.certsDir, config.certName);
  const held = new HeldDocument(config.gniFile, deps.clock ?? systemClock, logger);
  const initial = await held.load();
  const registry = newRegistry('nc');
  registerDaemonMetrics(registry, 'nc', () => [{ dir: config.certsDir, name: config.certName }]);
  const metrics = ncMetrics(registry);
  if (initial.sequence !== undefined) metrics.heldSequence.set(initial.sequence);
  const operations = ncOperations({ node: config.nodeName, held, statusFile: config.statusFile, logger, metrics });
  const wsdl = readWsdl('node-controller');
  const onFault = (code: string) => metrics.faults.inc({ code });
  const soap = await startSoapServer({ tls, allowedRole: 'cc', maxRequestBytes: config.maxRequestBytes, wsdl, operations, logger, onFault }, config.listen);
  // A Eucalyptus CC only broadcasts: the status operation stays on the mTLS port.
  const euca = config.eucalyptus
    ? await startWsSecListener({ config: config.eucalyptus, clock: deps.clock ?? systemClock, peerRole: 'cc', maxRequestBytes: config.maxRequestBytes, wsdl, operations: { ncBroadcastNetworkInfo: operations.ncBroadcastNetworkInfo! }, logger, onFault }).catch(async (err: unknown) => {
        await soap.close();
        throw err;
      })
    : undefined;
  const metricsServer = config.metricsListen
    ? await startMetricsServer({
        ...config.metricsListen,
        registry,
        component: 'nc',
        health: () => ({ ok: true, node: config.nodeName, soapPort: soap.port, eucalyptusPort: euca?.port, held: held.current }),
      })
    : undefined;
  logger.info('node controller listening', {
    port: soap.port,
    host: config.listen.host,
    metricsPort: metricsServer?.port,
    eucalyptusPort: euca?.port,
    gniFile: config.gniFile,
    held: initial,
    certificate: tls.source,
  });
  return {
    port: soap.port,
    metricsPort: metricsServer?.port,
    eucalyptusPort: euca?.port,
    async stop() {
      await Promise.all([soap.close(), euca?.close(), metricsServer?.close()]);
    },
  };
}

/** The nc daemon for runDaemonCommand (signals, --check-config, exit codes). */
export function ncProgram(flags: NcFlags, env: NodeJS.ProcessEnv): DaemonProgram<NcConfig> {
  return serviceProgram({ name: 'nc', env, resolve: () => resolveNcConfig(flags, env), check: checkNcConfig, start: startNc });
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<number> {
  const cmd = ncOptions(new Command('nc')).exitOverride();
  cmd.parse(['node', 'nc', ...argv]);
  const flags = cmd.opts<NcFlags>();
  return runDaemonCommand(ncProgram(flags, env), { parent: signal, out: (t) => process.stdout.write(`${t}\n`), err: (t) => process.stderr.write(`${t}\n`), checkConfig: flags.checkConfig ?? false, json: flags.json ?? false });
}
