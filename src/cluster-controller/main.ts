/**
 * `edgenet cc`: the cluster controller daemon. Serves the cluster-controller
 * SOAP interface over mutual TLS (only the `clc` role may call it), keeps the
 * latest document durably, fans it out to its node controllers (client role
 * `cc`, servers must be `nc`), polls their status, and serves /healthz and
 * /metrics on loopback. It never routes instance traffic.
 * Settings: flag > EDGENET_CC_<KEY> > config file (KEY=value, see
 * examples/cc.conf) > default (shared/config/settings.ts).
 * On start it re-sends the stored document; SIGTERM closes the listeners and
 * aborts in-flight sends; SIGHUP applies a new LOG_LEVEL and names the keys
 * that need a restart (shared/daemon/reload.ts).
 */
import * as path from 'node:path';
import { isIPv4 } from 'node:net';
import { Command } from 'commander';
import { Settings, ok, bad } from '../shared/config/settings.ts';
import { loadConfFile, LOG_ALIASES, LOG_FORMATS, LOG_LEVELS, type LogFormatSetting } from '../shared/config/load.ts';
import { checkCertificateFile, checkTls, checkWritableDir } from '../shared/config/checks.ts';
import type { Diagnostic } from '../shared/diagnostics.ts';
import { runDaemonCommand, type DaemonProgram, type Resolved } from '../shared/daemon/run.ts';
import { serviceProgram } from '../shared/daemon/service.ts';
import { DEFAULT_PORTS, stateDir, paths } from '../shared/paths.ts';
import type { Logger } from '../shared/logger.ts';
import { systemClock, type Clock } from '../shared/clock.ts';
import { UserError, errorMessage } from '../shared/errors.ts';
import { loadTlsMaterial } from '../shared/tls/material.ts';
import { startSoapServer } from '../shared/soap/server.ts';
import { WSSEC_CONFIG_KEYS, readWsSecListenerConfig, startWsSecListener, type WsSecListenerConfig } from '../shared/soap/wssec-listener.ts';
import { SoapClient } from '../shared/soap/client.ts';
import { DEFAULT_MAX_REQUEST_BYTES } from '../shared/soap/guard.ts';
import { readWsdl } from '../shared/soap/wsdl.ts';
import { Timing } from '../shared/soap/timing.ts';
import { NC_ACTIONS, broadcastEnvelope, parseBroadcastReply, parseStatusReply, type NodeTarget } from '../shared/soap/messages.ts';
import { newRegistry, startMetricsServer } from '../shared/metrics.ts';
import { registerDaemonMetrics } from '../shared/daemon-metrics.ts';
import { DocumentStore, type CcDocument } from './document-store.ts';
import { FanOut } from './fanout.ts';
import { NodePoller } from './node-poller.ts';
import { ccOperations } from './service.ts';
import { ccMetrics } from './metrics.ts';

const CC_CONFIG_KEYS = [
  'LISTEN', 'METRICS_LISTEN', 'CERTS_DIR', 'CERT_NAME', 'STATE_DIR', 'NODES', 'NC_PORT', 'NC_FANOUT', 'NC_TIMEOUT',
  'NC_RETRY_BASE_MS', 'NC_RETRY_MAX', 'NC_STATUS_INTERVAL_MS', 'MAX_REQUEST_BYTES', 'LOG_LEVEL', 'LOG_FORMAT',
  'ACCEPT_UNSEQUENCED',
  ...WSSEC_CONFIG_KEYS,
] as const;

export interface CcConfig {
  readonly listen: { host: string; port: number };
  readonly metricsListen: { host: string; port: number } | undefined;
  readonly certsDir: string;
  readonly certName: string;
  readonly stateDir: string;
  /** Fallback node list for Eucalyptus-shaped broadcasts (which carry none). */
  readonly nodes: readonly NodeTarget[];
  readonly fanout: number;
  readonly ncTimeoutMs: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly statusIntervalMs: number;
  readonly maxRequestBytes: number;
  readonly logLevel: string;
  readonly logFormat: LogFormatSetting;
  /** The opt-in Eucalyptus listener (EUCA_WSSEC_LISTEN + EUCA_WSSEC_CERT); undefined: off (the default). */
  readonly eucalyptus?: WsSecListenerConfig | undefined;
  /** ACCEPT_UNSEQUENCED="Y": accept broadcasts without a sequence (a Eucalyptus CLC); default off (issue 11). */
  readonly acceptUnsequenced?: boolean;
}

export interface CcFlags {
  config?: string;
  listen?: string;
  metricsListen?: string;
  certs?: string;
  certName?: string;
  stateDir?: string;
  nodes?: string;
  fanout?: string;
  logLevel?: string;
  logFormat?: string;
  checkConfig?: boolean;
  json?: boolean;
}

export function ccOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'config file of KEY=value lines (see examples/cc.conf)')
    .option('--listen <host:port>', `SOAP listener (LISTEN, default 0.0.0.0:${DEFAULT_PORTS.cc})`)
    .option('--metrics-listen <host:port>', `plain-HTTP /healthz and /metrics (METRICS_LISTEN, default 127.0.0.1:${DEFAULT_PORTS.ccMetrics}; "off" disables)`)
    .option('--certs <dir>', 'directory with ca.crt, <name>.crt, <name>.key (CERTS_DIR)')
    .option('--cert-name <name>', 'certificate name in the certs dir (CERT_NAME, default cc)')
    .option('--state-dir <dir>', 'where the latest document is kept (STATE_DIR)')
    .option('--nodes <list>', 'fallback node controllers: "IP ..." or "name=https://host:port/ ..." (NODES)')
    .option('--fanout <n>', 'concurrent sends to node controllers (NC_FANOUT, default 8)')
    .option('--log-level <level>', 'debug|info|warn|error (LOG_LEVEL)')
    .option('--log-format <format>', 'auto|json|text (LOG_FORMAT; auto = text on a terminal, JSON lines otherwise)')
    .option('--check-config', 'print the effective configuration (each value with its source) and its problems, then exit 0 (fine) or 2')
    .option('--json', 'with --check-config: JSON output');
}

export function parseNodes(raw: string, ncPort: number): NodeTarget[] {
  return raw.split(/[\s,]+/).filter(Boolean).map((item) => {
    const eq = item.indexOf('=');
    if (eq > 0) {
      const url = item.slice(eq + 1);
      if (!/^https:\/\/[^\s/]+\/?/.test(url)) throw new UserError('CONFIG_BAD_VALUE', `NODES: ${item}: expected name=https://host:port/`);
      return { name: item.slice(0, eq), url };
    }
    if (!isIPv4(item)) throw new UserError('CONFIG_BAD_VALUE', `NODES: ${item} is not an IPv4 address or name=url`);
    return { name: item, url: `https://${item}:${ncPort}/` };
  });
}

/** flag > EDGENET_CC_<KEY> > config file > default, every problem collected (see shared/config/settings.ts). */
export function resolveCcConfig(flags: CcFlags, env: NodeJS.ProcessEnv): Resolved<CcConfig> {
  const s = new Settings({
    daemon: 'cc',
    conf: loadConfFile(flags.config),
    env,
    aliases: LOG_ALIASES,
    flags: {
      LISTEN: flags.listen,
      METRICS_LISTEN: flags.metricsListen,
      CERTS_DIR: flags.certs,
      CERT_NAME: flags.certName,
      STATE_DIR: flags.stateDir,
      NODES: flags.nodes,
      NC_FANOUT: flags.fanout,
      LOG_LEVEL: flags.logLevel,
      LOG_FORMAT: flags.logFormat,
    },
    flagNames: { CERTS_DIR: '--certs', NC_FANOUT: '--fanout' },
  });
  const listen = s.listen('LISTEN', `0.0.0.0:${DEFAULT_PORTS.cc}`, '0.0.0.0');
  const metricsListen = s.listenOrOff('METRICS_LISTEN', `127.0.0.1:${DEFAULT_PORTS.ccMetrics}`);
  const certsDir = s.str('CERTS_DIR', paths.certsDir(env));
  const certName = s.str('CERT_NAME', 'cc');
  const ccStateDir = s.str('STATE_DIR', path.join(stateDir(env), 'cc'));
  const ncPort = s.int('NC_PORT', DEFAULT_PORTS.nc, { min: 1, max: 65535 });
  const nodes = s.value('NODES', '', (raw) => {
    try {
      return ok(parseNodes(raw, ncPort));
    } catch (err) {
      return bad(errorMessage(err));
    }
  });
  const config: CcConfig = {
    listen,
    metricsListen,
    certsDir,
    certName,
    stateDir: ccStateDir,
    nodes,
    fanout: s.int('NC_FANOUT', 8, { min: 1, max: 256 }),
    ncTimeoutMs: s.int('NC_TIMEOUT', 10, { min: 1, max: 600 }) * 1000,
    retryBaseMs: s.int('NC_RETRY_BASE_MS', 500, { min: 10, max: 60_000 }),
    retryMaxMs: s.int('NC_RETRY_MAX', 30, { min: 1, max: 3600 }) * 1000,
    statusIntervalMs: s.int('NC_STATUS_INTERVAL_MS', 1000, { min: 100, max: 600_000 }),
    maxRequestBytes: s.int('MAX_REQUEST_BYTES', DEFAULT_MAX_REQUEST_BYTES, { min: 1024, max: 1024 * 1024 * 1024 }),
    logLevel: s.oneOf('LOG_LEVEL', 'info', LOG_LEVELS),
    logFormat: s.oneOf('LOG_FORMAT', 'auto', LOG_FORMATS),
    eucalyptus: readWsSecListenerConfig(s),
    acceptUnsequenced: s.oneOf('ACCEPT_UNSEQUENCED', 'N', ['Y', 'N'] as const) === 'Y',
  };
  s.warnUnknown(CC_CONFIG_KEYS);
  return { config, effective: s.effective, diagnostics: s.diagnostics };
}

/** What --check-config verifies on disk: the certificates and the state directory. */
export function checkCcConfig(config: CcConfig): Diagnostic[] {
  const out: Diagnostic[] = [];
  checkTls({ dir: config.certsDir, name: config.certName, key: 'CERTS_DIR' }, (d) => out.push(d));
  checkWritableDir(config.stateDir, 'STATE_DIR', (d) => out.push(d));
  if (config.eucalyptus) checkCertificateFile(config.eucalyptus.certFile, 'EUCA_WSSEC_CERT', (d) => out.push(d));
  return out;
}

export interface RunningCc {
  readonly port: number;
  readonly metricsPort: number | undefined;
  /** The Eucalyptus WS-Security listener's port, when enabled. */
  readonly eucalyptusPort: number | undefined;
  stop(): Promise<void>;
}

export async function startCc(config: CcConfig, deps: { logger: Logger; clock?: Clock }): Promise<RunningCc> {
  const { logger } = deps;
  const clock = deps.clock ?? systemClock;
  const tls = loadTlsMaterial(config.certsDir, config.certName);
  const store = new DocumentStore(path.join(config.stateDir, 'network-info.json'), clock, { acceptUnsequenced: config.acceptUnsequenced ?? false });
  const stored = await store.load();
  const client = new SoapClient({ tls, expectRole: 'nc', maxSockets: 2 });
  const registry = newRegistry('cc');
  registerDaemonMetrics(registry, 'cc', () => [{ dir: config.certsDir, name: config.certName }]);
  let fanout: FanOut | undefined;
  const metrics = ccMetrics(registry, () => ({ sequence: store.current?.sequence, nodes: fanout?.reports() ?? [] }));
  // The fan-out sends one envelope to every node: encode it once per document,
  // as bytes, with the Base64 exactly as the CLC sent it (never decoded and re-encoded).
  let encoded: { doc: CcDocument; payload: Buffer } | undefined;
  const payloadFor = (doc: CcDocument) => {
    if (encoded?.doc !== doc) {
      encoded = { doc, payload: broadcastEnvelope('ncBroadcastNetworkInfo', { networkInfo: doc.networkInfo, version: doc.version, sequence: doc.sequence, generation: doc.generation }) };
    }
    return encoded.payload;
  };
  fanout = new FanOut({
    clock,
    logger,
    concurrency: config.fanout,
    retryBaseMs: config.retryBaseMs,
    retryMaxMs: config.retryMaxMs,
    transport: {
      broadcast: async (node, doc, signal) => {
        const timing = new Timing();
        const reply = parseBroadcastReply(
          await client.call({ url: node.url, operation: 'ncBroadcastNetworkInfo', action: NC_ACTIONS.broadcast, inner: '', payload: payloadFor(doc), timeoutMs: config.ncTimeoutMs, signal, timing }),
        );
        logger.debug('node acknowledged', { node: node.name, outcome: reply.outcome, sequence: reply.sequence, ...timing.log() });
        return reply;
      },
    },
    onSent: (_node, ok, ms) => {
      metrics.ncSends.inc({ result: ok ? 'ok' : 'failed' });
      metrics.ncSendSeconds.observe(ms / 1000);
    },
    onComplete: (ms, doc) => {
      metrics.fanoutSeconds.observe(ms / 1000);
      logger.info('every node acknowledged the document', { version: doc.version, sequence: doc.sequence, ms });
    },
  });
  const f = fanout;
  const poller = new NodePoller({
    clock,
    intervalMs: config.statusIntervalMs,
    concurrency: config.fanout,
    targets: () => f.targets,
    poll: async (node) => {
      const reply = parseStatusReply(await client.call({ url: node.url, operation: 'ncDescribeNetworkStatus', action: NC_ACTIONS.status, inner: '', timeoutMs: Math.min(config.ncTimeoutMs, 5000) }));
      const report = reply.nodes[0];
      if (!report) throw new Error('empty status reply');
      return report;
    },
    onResult: (name, startedAt, result) => f.onReport(name, startedAt, result),
  });
  if (stored) {
    f.setDocument(stored, stored.nodes ?? config.nodes); // re-send after a restart
    metrics.documentBytes.set(stored.bytes);
  }
  const operations = ccOperations({ store, fanout: f, configNodes: config.nodes, logger, metrics });
  const wsdl = readWsdl('cluster-controller');
  const onFault = (code: string) => metrics.faults.inc({ code });
  const soap = await startSoapServer({ tls, allowedRole: 'clc', maxRequestBytes: config.maxRequestBytes, wsdl, operations, logger, onFault }, config.listen);
  // A Eucalyptus CLC only broadcasts: the status operation stays on the mTLS port.
  const euca = config.eucalyptus
    ? await startWsSecListener({ config: config.eucalyptus, clock, peerRole: 'clc', maxRequestBytes: config.maxRequestBytes, wsdl, operations: { BroadcastNetworkInfo: operations.BroadcastNetworkInfo! }, logger, onFault }).catch(async (err: unknown) => {
        await soap.close();
        throw err;
      })
    : undefined;
  poller.start();
  const metricsServer = config.metricsListen
    ? await startMetricsServer({
        ...config.metricsListen,
        registry,
        component: 'cc',
        health: () => ({
          ok: true,
          soapPort: soap.port,
          eucalyptusPort: euca?.port,
          documentVersion: store.current?.version,
          sequence: store.current?.sequence,
          nodes: f.targets.length,
          pending: f.pendingCount,
        }),
      })
    : undefined;
  logger.info('cluster controller listening', {
    port: soap.port,
    host: config.listen.host,
    metricsPort: metricsServer?.port,
    eucalyptusPort: euca?.port,
    stored: stored ? { version: stored.version, sequence: stored.sequence } : undefined,
    fanout: config.fanout,
    certificate: tls.source,
  });
  return {
    port: soap.port,
    metricsPort: metricsServer?.port,
    eucalyptusPort: euca?.port,
    async stop() {
      poller.stop();
      f.stop();
      await Promise.all([soap.close(), euca?.close(), metricsServer?.close()]);
      client.close();
    },
  };
}

/** The cc daemon for runDaemonCommand (signals, --check-config, exit codes). */
export function ccProgram(flags: CcFlags, env: NodeJS.ProcessEnv): DaemonProgram<CcConfig> {
  return serviceProgram({ name: 'cc', env, resolve: () => resolveCcConfig(flags, env), check: checkCcConfig, start: startCc });
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<number> {
  const cmd = ccOptions(new Command('cc')).exitOverride();
  cmd.parse(['node', 'cc', ...argv]);
  const flags = cmd.opts<CcFlags>();
  return runDaemonCommand(ccProgram(flags, env), { parent: signal, out: (t) => process.stdout.write(`${t}\n`), err: (t) => process.stderr.write(`${t}\n`), checkConfig: flags.checkConfig ?? false, json: flags.json ?? false });
}
