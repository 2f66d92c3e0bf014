/**
 * The cloud controller process: opens the store, starts the admin API and
 * the EC2 Query endpoint (ec2/server.ts, when `ec2` is given), then
 * starts every plugin of `defaultPlugins()` (GNI routes, broadcaster,
 * metadata service) with a ClcContext; stops them in reverse order, then the
 * EC2 endpoint, the API, then the store.
 *
 * Leadership (ha/leadership.ts) starts once the API listens (its URL is
 * what this CLC advertises to the others) and before the plugins (the
 * broadcaster runs only while this CLC leads); it stops after the plugins
 * and before the store (a clean stop hands leadership over at once).
 *
 * `startCloudController` returns a handle (tests and embedding);
 * `runCloudController(options, signal)` runs until the signal aborts;
 * `clcProgram` is `edgenet clc`: settings (flag > EDGENET_CLC_<KEY> > clc.conf
 * > default), --check-config, SIGHUP (LOG_LEVEL), exit codes.
 */
import * as path from 'node:path';
import { ensureToken } from './admin-token.ts';
import { ensureCredentialsKey, readCredentialsKey } from './credentials-key.ts';
import type { ClcContext, ClcPlugin } from './contracts.ts';
import type { Logger } from '../shared/logger.ts';
import { systemClock, type Clock, type TimerHandle } from '../shared/clock.ts';
import { EdgenetError, errorMessage } from '../shared/errors.ts';
import { writeFileAtomic } from '../shared/files.ts';
import { Store } from './db/store.ts';
import { checkPostgresUrl, dataDirOf, redactLocation, storeKindOf } from './db/location.ts';
import { probePostgres } from './db/probe.ts';
import { PropertyService } from './properties/service.ts';
import { CloudState } from './services/cloud-state.ts';
import { Router } from './api/router.ts';
import { startApiServer } from './api/server.ts';
import { registerCoreRoutes } from './api/routes.ts';
import { startEc2Server, type Ec2Server } from './ec2/server.ts';
import { EC2_CONFIG_KEYS, checkEc2Files, ec2EndpointOptions, loadEc2Tls, readEc2Settings, type Ec2EndpointOptions, type Ec2Settings } from './ec2-settings.ts';
import { createClcContext } from './context.ts';
import { startLeadership, type RunningLeadership } from './ha/leadership.ts';
import * as os from 'node:os';
import { defaultPlugins } from './plugins.ts';
import { createLogger } from '../shared/logger.ts';
import { DEFAULT_PORTS, paths } from '../shared/paths.ts';
import { formatIpv6, parseIp, parseIpv6 } from '../shared/ip.ts';
import { reservedServerReason } from './config/ipv6.ts';
import type { Diagnostic } from '../shared/diagnostics.ts';
import { Settings, bad, ok, parseHostPort, type HostPort, type Parsed } from '../shared/config/settings.ts';
import { loadConfFile, LOG_ALIASES, LOG_FORMATS, LOG_LEVELS, type LogFormatSetting } from '../shared/config/load.ts';
import { CHECK_CODES, checkTls, checkWritableDir } from '../shared/config/checks.ts';
import type { DaemonProgram, Resolved } from '../shared/daemon/run.ts';
import { logLevelReload } from '../shared/daemon/reload.ts';

export interface CloudControllerOptions {
  /** SQLite file (`:memory:` for tests). */
  readonly dbPath: string;
  readonly host: string;
  /** 0 picks a free port (see `portFile`). */
  readonly port: number;
  /** Address of the CLC as nodes reach it (GNI enabledCLCIp). */
  readonly clcIp: string;
  /** The CLC's IPv6 address (CLC_IPV6; GNI configuration `ipv6` `clc-address`, metadata over IPv6); undefined: none. */
  readonly clcIpv6?: string;
  /** Admin token file: read if present, created (random, mode 0600) if missing. */
  readonly tokenFile: string;
  /** This CLC's id among the CLCs of one database (clc.conf CLC_ID; default the hostname). */
  readonly clcId?: string;
  /**
   * The credentials key file sealing EC2 secrets (credentials-key.ts): read
   * if present, created (random, mode 0600) if missing. Default:
   * `credentials.key` next to the database (next to the token file for `:memory:`).
   */
  readonly credentialsKeyFile?: string;
  /** Written (atomically) with the bound port once the API listens. */
  readonly portFile?: string;
  /** The EC2 Query endpoint (ec2/; clc.conf EC2_*); absent: not started. */
  readonly ec2?: Ec2EndpointOptions;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly env?: NodeJS.ProcessEnv;
  /** Defaults to defaultPlugins(). */
  readonly plugins?: readonly ClcPlugin[];
  readonly random?: () => number;
  readonly randomHex?: (bytes: number) => string;
}

export interface RunningCloudController {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  /** The EC2 Query endpoint's URL (`http(s)://host:port`); undefined when it is off. */
  readonly ec2Url: string | undefined;
  readonly context: ClcContext;
  readonly state: CloudState;
  readonly properties: PropertyService;
  readonly store: Store;
  stop(): Promise<void>;
}

/** Interval of the sweep that frees holds past `address_hold_timeout` (also swept before every allocation). */
const HOLD_SWEEP_MS = 30_000;

/** The admin token file's rules (mode, length) live in admin-token.ts. */
export { ensureToken };

export async function startCloudController(options: CloudControllerOptions): Promise<RunningCloudController> {
  const { logger } = options;
  const clock = options.clock ?? systemClock;
  const env = options.env ?? process.env;
  const token = ensureToken(options.tokenFile, logger);
  const dataDir = dataDirOf(options.dbPath, path.dirname(path.resolve(options.tokenFile)));
  const credentialsKeyFile = options.credentialsKeyFile ?? path.join(dataDir, 'credentials.key');
  const credentialsKey = ensureCredentialsKey(credentialsKeyFile);
  if (credentialsKey.created) logger.info('credentials key created: back it up apart from the database (edgenet clc-backup does not copy it)', { file: credentialsKeyFile });
  // The logger: PostgreSQL's lost pool connections and change-feed interruptions are reported through it.
  const store = await Store.open(options.dbPath, { logger: logger.child({ component: 'store' }) });
  const properties = new PropertyService(store, clock);
  const state = new CloudState({
    store,
    clock,
    clcIp: options.clcIp,
    credentialsKey: credentialsKey.key,
    ...(options.clcIpv6 ? { clcIpv6: options.clcIpv6 } : {}),
    ...(options.random ? { random: options.random } : {}),
    ...(options.randomHex ? { randomHex: options.randomHex } : {}),
  });
  // Keys sealed under another credentials key (the file was lost, replaced, or the database came from
  // another CLC) cannot be opened: said once, loudly; the CLC serves everything else and those keys fail with AuthFailure.
  const credentials = await state.credentialsStatus().catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  if (credentials.count > 0) {
    logger.error(
      `CREDENTIALS_KEY_UNAVAILABLE: ${credentials.count} EC2 access key(s) in the database were sealed under another credentials key than ${credentialsKeyFile} (key id ${credentials.keyId}); requests signed with them fail with AuthFailure until that file is restored from its backup (or delete the keys and create new ones: edgenet account key list)`,
      { code: 'CREDENTIALS_KEY_UNAVAILABLE', file: credentialsKeyFile, keys: credentials.count, keyId: credentials.keyId, sealedUnder: credentials.keyIds },
    );
  }
  const router = new Router();
  const startedAt = clock.now();
  registerCoreRoutes(router, { properties, state, startedAt, now: () => clock.now() });

  let server;
  try {
    server = await startApiServer({ host: options.host, port: options.port, token, router, logger });
  } catch (err) {
    await store.close();
    throw new EdgenetError('LISTEN_FAILED', `cannot listen on ${options.host}:${options.port}: ${errorMessage(err)}`, { cause: err });
  }
  // The EC2 endpoint: after the API (it serves the same CloudState), stopped before the store.
  let ec2: Ec2Server | undefined;
  if (options.ec2) {
    const o = options.ec2;
    try {
      const tls = o.tlsCertFile !== undefined && o.tlsKeyFile !== undefined ? loadEc2Tls(o.tlsCertFile, o.tlsKeyFile) : undefined;
      ec2 = await startEc2Server({
        host: o.host,
        port: o.port,
        ...(tls ? { tls } : {}),
        state,
        logger,
        now: () => clock.now(),
        ...(o.actions ? { actions: o.actions } : {}),
        ...(o.clockSkewSeconds !== undefined ? { clockSkewSeconds: o.clockSkewSeconds } : {}),
        ...(o.maxBodyBytes !== undefined ? { maxBodyBytes: o.maxBodyBytes } : {}),
        ...(o.rateLimit !== undefined ? { rateLimit: o.rateLimit } : {}),
        ...(o.rateBurst !== undefined ? { rateBurst: o.rateBurst } : {}),
        ...(o.timeouts ? { timeouts: o.timeouts } : {}),
      });
    } catch (err) {
      await server.close();
      await store.close();
      if (err instanceof EdgenetError) throw err;
      throw new EdgenetError('LISTEN_FAILED', `EC2 endpoint (EC2_LISTEN): cannot listen on ${o.host}:${o.port}: ${errorMessage(err)}`, { cause: err });
    }
  }
  const hostForUrl = server.host.includes(':') ? `[${server.host}]` : server.host;
  const url = `http://${hostForUrl}:${server.port}`;
  let leadership: RunningLeadership;
  try {
    leadership = await startLeadership(store, { id: options.clcId ?? os.hostname(), apiUrl: url, location: options.dbPath, logger: logger.child({ component: 'leadership' }), clock });
  } catch (err) {
    if (ec2) await ec2.close();
    await server.close();
    await store.close();
    throw err;
  }
  const context = createClcContext({ logger, clock, env, dataDir, store, properties, state, router, leadership, token });

  const started: ClcPlugin[] = [];
  let sweep: TimerHandle | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (sweep) clock.clearTimeout(sweep);
    for (const plugin of [...started].reverse()) {
      try {
        await plugin.stop();
      } catch (err) {
        logger.error('plugin stop failed', { plugin: plugin.name, error: errorMessage(err) });
      }
    }
    await leadership.stop();
    if (ec2) await ec2.close();
    await server.close();
    await store.close();
    logger.info('cloud controller stopped');
  };

  try {
    for (const plugin of options.plugins ?? defaultPlugins()) {
      await plugin.start(context);
      started.push(plugin);
      logger.debug('plugin started', { plugin: plugin.name });
    }
  } catch (err) {
    logger.error('plugin start failed', { error: errorMessage(err) });
    await stop();
    throw err;
  }

  const scheduleSweep = () => {
    sweep = clock.setTimeout(() => {
      state
        .expireHolds()
        .catch((err: unknown) => logger.warn('hold sweep failed', { error: errorMessage(err) }))
        .finally(() => {
          if (!stopped) scheduleSweep();
        });
    }, HOLD_SWEEP_MS);
  };
  scheduleSweep();

  if (options.portFile) await writeFileAtomic(options.portFile, `${server.port}\n`, { mode: 0o644 });
  logger.info('cloud controller listening', { url, clcId: leadership.id, role: leadership.role(), ...(leadership.term() !== undefined ? { term: leadership.term() } : {}), ...(ec2 ? { ec2Url: ec2.url } : { ec2: 'off' }), db: redactLocation(options.dbPath), clcIp: options.clcIp, ...(options.clcIpv6 ? { clcIpv6: options.clcIpv6 } : {}), tokenFile: options.tokenFile, plugins: started.map((p) => p.name), generation: store.generation(), ...(store.generationTaken ? { generationTaken: store.generationTaken } : {}) });
  return { url, port: server.port, token, ec2Url: ec2?.url, context, state, properties, store, stop };
}

/** Runs the cloud controller until `signal` aborts, then stops gracefully. */
async function runCloudController(options: CloudControllerOptions, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  const running = await startCloudController(options);
  // The signal may have fired while starting: then stop right away.
  if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  options.logger.info('stopping cloud controller');
  await running.stop();
}

// ---------------------------------------------------------------------------
// `edgenet clc` as a daemon: settings, checks, run (shared/daemon/run.ts).

const CLC_CONFIG_KEYS = [
  'DB', 'CLC_ID', 'LISTEN', 'CLC_IP', 'CLC_IPV6', 'TOKEN_FILE', 'CREDENTIALS_KEY_FILE', 'PORT_FILE', 'CERTS_DIR', 'CERT_NAME', 'METRICS_LISTEN', 'METADATA_LISTEN',
  'STATUS_INTERVAL_MS', 'LOG_LEVEL', 'LOG_FORMAT', ...EC2_CONFIG_KEYS,
] as const;

export interface ClcFlags {
  config?: string;
  db?: string;
  id?: string;
  listen?: string;
  clcIp?: string;
  clcIpv6?: string;
  tokenFile?: string;
  credentialsKeyFile?: string;
  portFile?: string;
  certs?: string;
  certName?: string;
  metricsListen?: string;
  logFormat?: string;
  logLevel?: string;
  checkConfig?: boolean;
  json?: boolean;
}

export interface ClcConfig {
  readonly db: string;
  /** CLC_ID: this CLC's id among the CLCs of one database (leadership, clc_members, `edgenet status`). */
  readonly clcId: string;
  readonly listen: HostPort;
  readonly clcIp: string;
  /** CLC_IPV6: the CLC's IPv6 address as nodes reach it (empty default: none, no metadata over IPv6). */
  readonly clcIpv6: string | undefined;
  readonly tokenFile: string;
  /** CREDENTIALS_KEY_FILE: the key sealing EC2 secrets (credentials-key.ts). */
  readonly credentialsKeyFile: string;
  readonly portFile: string | undefined;
  /** The CLC's client certificate for calling CCs: CERTS_DIR/CERT_NAME.{crt,key} + ca.crt. */
  readonly certsDir: string;
  readonly certName: string;
  /** Raw `host:port` or `off` (the broadcaster's /healthz and /metrics). */
  readonly metricsListen: string;
  /** Raw `host:port`, `:port` or `off` (the metadata service). */
  readonly metadataListen: string;
  readonly statusIntervalMs: number;
  /** EC2_*: the EC2 Query endpoint (ec2/config.ts). */
  readonly ec2: Ec2Settings;
  readonly logLevel: string;
  readonly logFormat: LogFormatSetting;
}

/** flag > EDGENET_CLC_<KEY> > config file > default, every problem collected. */
export function resolveClcConfig(flags: ClcFlags, env: NodeJS.ProcessEnv): Resolved<ClcConfig> {
  const s = new Settings({
    daemon: 'clc',
    conf: loadConfFile(flags.config),
    env,
    aliases: { ...LOG_ALIASES, METADATA_LISTEN: ['EDGENET_METADATA_LISTEN'], STATUS_INTERVAL_MS: ['EDGENET_STATUS_INTERVAL_MS'] },
    flags: {
      DB: flags.db,
      CLC_ID: flags.id,
      LISTEN: flags.listen,
      CLC_IP: flags.clcIp,
      CLC_IPV6: flags.clcIpv6,
      TOKEN_FILE: flags.tokenFile,
      CREDENTIALS_KEY_FILE: flags.credentialsKeyFile,
      PORT_FILE: flags.portFile,
      CERTS_DIR: flags.certs,
      CERT_NAME: flags.certName,
      METRICS_LISTEN: flags.metricsListen,
      LOG_LEVEL: flags.logLevel,
      LOG_FORMAT: flags.logFormat,
    },
    flagNames: { CERTS_DIR: '--certs', CLC_ID: '--id' },
  });
  const listenOrOff = (raw: string, defaultHost: string) => (raw === 'off' ? ok(raw) : parseHostPort(raw, defaultHost).ok ? ok(raw) : bad('expected HOST:PORT, :PORT or off'));
  const db = s.str('DB', paths.clcDatabase(env));
  const config: ClcConfig = {
    db,
    clcId: s.value('CLC_ID', os.hostname(), (raw) => (CLC_ID_PATTERN.test(raw) ? ok(raw) : bad('expected 1-64 letters, digits, ".", "_", "-" or ":"'))),
    listen: s.listen('LISTEN', `127.0.0.1:${DEFAULT_PORTS.clcApi}`),
    clcIp: s.value('CLC_IP', '127.0.0.1', (raw) => (parseIp(raw) === undefined ? bad('expected an IPv4 address') : ok(raw))),
    clcIpv6: emptyAsUndefined(s.value('CLC_IPV6', '', checkClcIpv6)),
    tokenFile: s.str('TOKEN_FILE', paths.clcToken(env)),
    // Next to the database it seals secrets of (the default DB gives /var/lib/edgenet/clc/credentials.key):
    // a CLC run with another --db never reads or creates a key in the machine's default place.
    credentialsKeyFile: s.str('CREDENTIALS_KEY_FILE', credentialsKeyBeside(db, env)),
    portFile: s.optional('PORT_FILE'),
    certsDir: s.str('CERTS_DIR', paths.certsDir(env)),
    certName: s.str('CERT_NAME', 'clc'),
    metricsListen: s.value('METRICS_LISTEN', `127.0.0.1:${DEFAULT_PORTS.clcMetrics}`, (raw) => listenOrOff(raw, '127.0.0.1')),
    metadataListen: s.value('METADATA_LISTEN', `0.0.0.0:${DEFAULT_PORTS.metadata}`, (raw) => listenOrOff(raw, '0.0.0.0')),
    statusIntervalMs: s.int('STATUS_INTERVAL_MS', 1000, { min: 50, max: 600_000 }),
    ec2: readEc2Settings(s),
    logLevel: s.oneOf('LOG_LEVEL', 'info', LOG_LEVELS),
    logFormat: s.oneOf('LOG_FORMAT', 'auto', LOG_FORMATS),
  };
  // clc.conf is edgenet's own file (no eucalyptus.conf to share): a key the CLC does not know is a typo.
  s.warnUnknown(CLC_CONFIG_KEYS, { fileSeverity: 'error' });
  // A password in DB (postgres://user:password@...) is never printed (--check-config, logs).
  return { config, effective: s.effective.map((e) => (e.key === 'DB' ? { ...e, value: redactLocation(e.value) } : e)), diagnostics: s.diagnostics };
}

/** CLC_ID: what the CLCs of one database call each other (a hostname fits). */
const CLC_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

/** CLC_IPV6: empty (none), or a unicast IPv6 address nodes can reach, written canonically (RFC 5952). */
function checkClcIpv6(raw: string): Parsed<string> {
  if (raw === '') return ok('');
  const v = parseIpv6(raw);
  if (v === undefined) return bad('expected an IPv6 address (RFC 4291 text, no zone id) or nothing');
  const reason = reservedServerReason(v);
  return reason === undefined ? ok(formatIpv6(v)) : bad(`expected a unicast IPv6 address the nodes reach, not ${reason}`);
}

const emptyAsUndefined = (v: string): string | undefined => (v === '' ? undefined : v);

/** The client certificate's problems (the CLC runs without it, but cannot reach any CC). */
function checkClcCertificate(config: ClcConfig): Diagnostic[] {
  const out: Diagnostic[] = [];
  checkTls({ dir: config.certsDir, name: config.certName, key: 'CERTS_DIR' }, (d) => out.push(d));
  return out;
}

function checkClcConfig(config: ClcConfig): Diagnostic[] {
  const out = checkClcCertificate(config);
  if (storeKindOf(config.db) === 'postgres') {
    const problem = checkPostgresUrl(config.db);
    if (problem !== undefined) out.push({ severity: 'error', code: 'DB_URL_INVALID', path: 'DB', message: `${redactLocation(config.db)}: ${problem}` });
    // The leader advertises its API URL from LISTEN (clc_terms): a wildcard names no address the other CLCs can reach.
    if (['0.0.0.0', '::', ''].includes(config.listen.host)) {
      out.push({
        severity: 'warning',
        code: CHECK_CODES.listenWildcard,
        path: 'LISTEN',
        message: `LISTEN=${config.listen.host || '*'}:${config.listen.port} with DB on PostgreSQL: the leader advertises this address to the other CLCs, which cannot reach a wildcard; their /v1/status (edgenet status through a follower) answers LEADER_UNREACHABLE. Listen on the address the other CLCs reach`,
      });
    }
  } else if (config.db !== ':memory:') checkWritableDir(path.dirname(path.resolve(config.db)), 'DB', (d) => out.push(d));
  checkWritableDir(path.dirname(path.resolve(config.tokenFile)), 'TOKEN_FILE', (d) => out.push(d));
  checkCredentialsKeyFile(config.credentialsKeyFile, (d) => out.push(d));
  out.push(...checkEc2Files(config.ec2));
  return out;
}

/**
 * DB=postgres://... (a valid URL; checkClcConfig refuses the others): a
 * server that does not answer now is a warning, not an error — it may just
 * start after the CLC's check.
 */
async function checkPostgresReachable(config: ClcConfig): Promise<Diagnostic[]> {
  const url = config.db;
  if (storeKindOf(url) !== 'postgres' || checkPostgresUrl(url) !== undefined) return [];
  const why = await probePostgres(url);
  if (why === undefined) return [];
  return [{ severity: 'warning', code: 'DB_UNAVAILABLE', path: 'DB', message: `${redactLocation(url)} does not answer now (${why}); the CLC cannot open the database until it answers` }];
}

/** The credentials key file: refused as the CLC would refuse it at start; missing = made at the first start (a warning). */
function checkCredentialsKeyFile(file: string, report: (d: Diagnostic) => void): void {
  let key: Buffer | undefined;
  try {
    key = readCredentialsKey(file);
  } catch (err) {
    report({ severity: 'error', code: err instanceof EdgenetError ? err.code : 'CREDENTIALS_KEY_UNAVAILABLE', path: 'CREDENTIALS_KEY_FILE', message: errorMessage(err) });
    return;
  }
  if (key !== undefined) return;
  checkWritableDir(path.dirname(path.resolve(file)), 'CREDENTIALS_KEY_FILE', report);
  report({
    severity: 'warning',
    code: CHECK_CODES.fileMissing,
    path: 'CREDENTIALS_KEY_FILE',
    message: `${file} does not exist yet; the CLC creates a new credentials key there at start (EC2 access keys already in the database would not open: restore the file from its backup first)`,
  });
}

/**
 * The environment the CLC's plugins read their settings from (the
 * broadcaster: EDGENET_CLC_CERTS_DIR, EDGENET_CLC_CERT_NAME,
 * EDGENET_CLC_METRICS_LISTEN, EDGENET_STATUS_INTERVAL_MS; metadata:
 * EDGENET_METADATA_LISTEN, EDGENET_CLC_CLC_IPV6), filled from the resolved configuration so the
 * config file reaches them too.
 */
function clcPluginEnv(config: ClcConfig, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...env,
    EDGENET_CLC_CERTS_DIR: config.certsDir,
    EDGENET_CLC_CERT_NAME: config.certName,
    EDGENET_CLC_METRICS_LISTEN: config.metricsListen,
    EDGENET_METADATA_LISTEN: config.metadataListen,
    ...(config.clcIpv6 !== undefined ? { EDGENET_CLC_CLC_IPV6: config.clcIpv6 } : {}),
    EDGENET_STATUS_INTERVAL_MS: String(config.statusIntervalMs),
  };
}

export function clcProgram(flags: ClcFlags, env: NodeJS.ProcessEnv): DaemonProgram<ClcConfig> {
  return {
    name: 'clc',
    resolve: () => resolveClcConfig(flags, env),
    check: checkClcConfig,
    checkOnline: checkPostgresReachable,
    logger: (config) => createLogger({ component: 'clc', level: config.logLevel, ...(config.logFormat === 'auto' ? {} : { format: config.logFormat }) }, env),
    async run(config, { logger, signals, effective }) {
      signals.attach(logger, logLevelReload({ logger, started: effective, resolve: () => resolveClcConfig(flags, env) }));
      // Said loudly at start; the CLC still serves its API and metadata and
      // picks the certificate up once it is there (the broadcaster retries).
      for (const d of checkClcCertificate(config).filter((x) => x.severity === 'error')) {
        logger.error('client certificate for calling cluster controllers is unusable; every broadcast fails with CLC_CERTIFICATE_MISSING until it is fixed', { code: d.code, problem: d.message });
      }
      const ec2 = ec2EndpointOptions(config.ec2);
      await runCloudController(
        {
          dbPath: config.db,
          clcId: config.clcId,
          host: config.listen.host,
          port: config.listen.port,
          clcIp: config.clcIp,
          ...(config.clcIpv6 !== undefined ? { clcIpv6: config.clcIpv6 } : {}),
          tokenFile: config.tokenFile,
          credentialsKeyFile: config.credentialsKeyFile,
          ...(ec2 ? { ec2 } : {}),
          ...(config.portFile ? { portFile: config.portFile } : {}),
          logger,
          env: clcPluginEnv(config, env),
        },
        signals.signal,
      );
      return 0;
    },
  };
}

/** CREDENTIALS_KEY_FILE's default: `credentials.key` in the database's directory. */
export function credentialsKeyBeside(db: string, env: NodeJS.ProcessEnv = process.env): string {
  // PostgreSQL (and :memory:): in the CLC's data directory, the default database's.
  return path.join(dataDirOf(db, path.dirname(paths.clcDatabase(env))), 'credentials.key');
}
