/**
 * netd's entry point: `main(argv, env, signal)` (style.md 15) and
 * `netdProgram` for the shared daemon lifecycle (shared/daemon/run.ts).
 * Reads the KEY="value" configuration (environment EDGENET_NETD_<KEY> wins
 * over the file), wires the real seams (Exec, Files, system clock, logger),
 * starts the metrics endpoint and the daemon, and runs until the signal
 * aborts. It never flushes on exit: the host keeps its state and dhcpd keeps
 * serving (it runs detached, with no pipe to netd) until the next netd adopts
 * it through its pid file.
 *
 * SIGHUP re-reads the configuration: a file with errors is logged and the
 * running configuration kept; otherwise the changed keys are logged and the
 * daemon restarts its loop with the new configuration (a full resync); the
 * metrics endpoint moves if EDGENET_METRICS_LISTEN changed.
 *
 * argv: `--config FILE` (default <conf dir>/netd.conf), `--once` (one full
 * sync, then exit 0 if it applied, 1 otherwise), `--check-config [--json]`.
 * Exit codes: 0, 1 runtime failure, 2 configuration (shared/daemon/exit-codes.ts).
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { createExec, type Exec } from '../shared/exec.ts';
import { createSpawnerExec, type SpawnerExec } from '../shared/spawner.ts';
import { createFiles } from '../shared/files.ts';
import { systemClock } from '../shared/clock.ts';
import { createLogger, type Logger } from '../shared/logger.ts';
import type { Diagnostic } from '../shared/diagnostics.ts';
import { hasErrors } from '../shared/diagnostics.ts';
import { errorMessage } from '../shared/errors.ts';
import { paths, runDir as defaultRunDir } from '../shared/paths.ts';
import { loadConfFile } from '../shared/config/load.ts';
import { checkFile, checkWritableDir } from '../shared/config/checks.ts';
import { ConfigError, EXIT } from '../shared/daemon/exit-codes.ts';
import { runDaemonCommand, untilAborted, type DaemonProgram, type Resolved } from '../shared/daemon/run.ts';
import { changedKeys } from '../shared/daemon/reload.ts';
import type { EffectiveSetting } from '../shared/config/settings.ts';
import { resolveNetdConfig, type NetdConfig } from './config.ts';
import { createLinuxHost } from './apply/linux-host.ts';
import type { HostOps } from './apply/host.ts';
import { NetdDaemon } from './daemon.ts';
import { NetdMetrics, serveMetrics } from './metrics.ts';

export interface NetdSetup {
  readonly config: NetdConfig;
  readonly runDir: string;
  readonly gniFile: string;
  /** ROUTED config drives' directory (`<state dir>/config-drive`, EDGENET_STATE_DIR moves it). */
  readonly configDriveDir?: string;
}

/** File + environment → setup, with every diagnostic (never throws for bad values). */
function resolveNetdSetup(configFile: string, env: NodeJS.ProcessEnv): Resolved<NetdSetup> {
  const r = resolveNetdConfig({ conf: loadConfFile(configFile), env });
  const runDir = r.config.runDir || defaultRunDir(env);
  const gniFile = r.config.gniFile || path.join(runDir, 'global_network_info.xml');
  return { config: { config: r.config, runDir, gniFile, configDriveDir: paths.configDrives(env) }, effective: r.effective, diagnostics: r.diagnostics };
}

/** Reads and validates the config file; throws a ConfigError with every diagnostic on error. */
export async function loadNetdSetup(configFile: string, env: NodeJS.ProcessEnv): Promise<NetdSetup> {
  const r = resolveNetdSetup(configFile, env);
  if (hasErrors(r.diagnostics)) throw new ConfigError(`invalid netd config ${configFile}:`, r.diagnostics);
  return r.config;
}

/** What --check-config verifies on disk: dhcpd, the run directory, the shared file's directory. */
function checkNetdSetup(setup: NetdSetup): Diagnostic[] {
  const out: Diagnostic[] = [];
  checkFile(setup.config.dhcpDaemon, 'VNET_DHCPDAEMON', (d) => out.push(d), { executable: true });
  checkWritableDir(setup.runDir, 'EDGENET_RUN_DIR', (d) => out.push(d));
  if (path.dirname(setup.gniFile) !== setup.runDir) checkWritableDir(path.dirname(setup.gniFile), 'EDGENET_GNI_FILE', (d) => out.push(d));
  return out;
}

export function realHost(exec: Exec = createExec()): HostOps {
  return createLinuxHost({ exec, files: createFiles() });
}

/**
 * The daemon's Exec: commands through one /bin/sh coprocess (spawner.ts: a
 * fork of netd's large process blocks its event loop for each command), its
 * files in `<runDir>/exec`; EDGENET_SPAWNER=N keeps the plain fork+exec. Only
 * `netd run` uses it: one-shot commands (--once, flush, status, plan) run a
 * handful of commands and exit.
 */
function daemonExec(setup: NetdSetup, logger: Logger): { exec: Exec; spawner?: SpawnerExec; mode: () => string } {
  if (!setup.config.spawner) return { exec: createExec(), mode: () => 'plain (EDGENET_SPAWNER=N)' };
  const dir = path.join(setup.runDir, 'exec');
  const spawner = createSpawnerExec({
    dir,
    onEvent: (e) => {
      if (e.kind === 'started') logger.debug('command shell started', { pid: e.pid, dir });
      else if (e.kind === 'fallback') logger.warn('command shell unavailable; running commands by plain fork+exec', { reason: e.reason });
      else logger.warn('command shell died; the commands in flight failed and are not re-run', { pid: e.pid, how: e.how, failed: e.failed, stderr: e.stderr.trim() });
    },
  });
  return { exec: spawner, spawner, mode: () => (spawner.mode === 'shell' ? `shell /bin/sh (${dir})` : spawner.mode) };
}

const realWait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function newDaemon(setup: NetdSetup, deps: { host: HostOps; logger: Logger; metrics: NetdMetrics; onSync?: (ok: boolean) => void; execMode?: string }): NetdDaemon {
  return new NetdDaemon({
    host: deps.host,
    config: setup.config,
    runDir: setup.runDir,
    gniFile: setup.gniFile,
    ...(setup.configDriveDir !== undefined ? { configDriveDir: setup.configDriveDir } : {}),
    clock: systemClock,
    logger: deps.logger,
    metrics: deps.metrics,
    wait: realWait,
    startCheckMs: 300,
    onSync: (o) => deps.onSync?.(o.result === 'ok'),
    ...(deps.execMode !== undefined ? { execMode: deps.execMode } : {}),
  });
}

export interface NetdFlags {
  readonly config?: string;
  readonly once?: boolean;
}

function netdProgram(flags: NetdFlags, env: NodeJS.ProcessEnv): DaemonProgram<NetdSetup> {
  const configFile = flags.config ?? paths.netdConf(env);
  return {
    name: 'netd',
    resolve: () => resolveNetdSetup(configFile, env),
    check: checkNetdSetup,
    logger: (setup) => createLogger({ component: 'netd', level: setup.config.logLevel, ...(setup.config.logFormat === 'auto' ? {} : { format: setup.config.logFormat }) }, env),
    run: (setup, deps) => (flags.once ? runOnce(setup, deps) : runDaemon(setup, { ...deps, configFile, env })),
  };
}

/** One full sync, then exit: 0 when it applied, 1 otherwise (also when stopped first). */
async function runOnce(setup: NetdSetup, { logger, signals }: Parameters<DaemonProgram<NetdSetup>['run']>[1]): Promise<number> {
  let applied = false;
  let synced: () => void = () => undefined;
  const first = new Promise<void>((resolve) => {
    synced = resolve;
  });
  const daemon = newDaemon(setup, {
    host: realHost(),
    logger,
    metrics: new NetdMetrics(),
    onSync: (ok) => {
      applied = ok;
      synced();
    },
  });
  await daemon.start();
  await Promise.race([first, untilAborted(signals.signal)]);
  await daemon.stop();
  return applied ? EXIT.ok : EXIT.failure;
}

async function runDaemon(
  initial: NetdSetup,
  deps: Parameters<DaemonProgram<NetdSetup>['run']>[1] & { configFile: string; env: NodeJS.ProcessEnv },
): Promise<number> {
  const { logger, signals } = deps;
  // Chosen once, at start (the run directory and EDGENET_SPAWNER of a SIGHUP do not move or switch it).
  const commands = daemonExec(initial, logger);
  const host = realHost(commands.exec);
  const metrics = new NetdMetrics();
  let setup = initial;
  let effective: readonly EffectiveSetting[] = deps.effective;
  let daemon = newDaemon(setup, { host, logger, metrics, execMode: commands.mode() });
  let server: { port: number; close: () => Promise<void> } | undefined;
  const listen = async () => {
    try {
      server = await serveMetrics(metrics, setup.config.metricsListen, () => daemon.healthy);
      logger.info('metrics endpoint listening', { port: server.port });
    } catch (err) {
      // A busy port must not keep the node from being configured.
      server = undefined;
      logger.warn('metrics endpoint not started', { error: errorMessage(err) });
    }
  };
  await listen();

  signals.attach(logger, async () => {
    const next = resolveNetdSetup(deps.configFile, deps.env);
    if (hasErrors(next.diagnostics)) throw new ConfigError(`invalid netd config ${deps.configFile}:`, next.diagnostics);
    const changed = changedKeys(effective, next.effective);
    const pathsChanged = next.config.runDir !== setup.runDir || next.config.gniFile !== setup.gniFile;
    await daemon.stop();
    const old = setup;
    setup = next.config;
    effective = next.effective;
    logger.level = setup.config.logLevel;
    daemon = newDaemon(setup, { host, logger, metrics, execMode: commands.mode() });
    if (old.config.metricsListen !== setup.config.metricsListen) {
      await server?.close();
      await listen();
    }
    await daemon.start();
    return {
      message: changed.length ? 'SIGHUP: configuration reloaded; full resync' : 'SIGHUP: configuration unchanged; full resync',
      fields: { changed, ...(pathsChanged ? { runDir: setup.runDir, gniFile: setup.gniFile } : {}) },
    };
  });

  await daemon.start();
  await untilAborted(signals.signal);
  await signals.settled().catch(() => undefined);
  await daemon.stop();
  // After the last sync: ends the shell (its stdin) once the commands in flight report.
  await commands.spawner?.close();
  await server?.close();
  return EXIT.ok;
}

/** `netd [--config FILE] [--once] [--check-config [--json]]`: the exit code. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<number> {
  let values: { config?: string; once?: boolean; 'check-config'?: boolean; json?: boolean };
  try {
    values = parseArgs({ args: [...argv], options: { config: { type: 'string' }, once: { type: 'boolean' }, 'check-config': { type: 'boolean' }, json: { type: 'boolean' } }, strict: true }).values;
  } catch (err) {
    process.stderr.write(`error: netd: ${errorMessage(err)}\n`);
    return EXIT.config;
  }
  return runDaemonCommand(netdProgram({ ...(values.config ? { config: values.config } : {}), once: values.once ?? false }, env), {
    parent: signal,
    out: (t) => process.stdout.write(`${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
    checkConfig: values['check-config'] ?? false,
    json: values.json ?? false,
  });
}
