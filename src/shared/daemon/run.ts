/**
 * The one way a daemon command runs (`edgenet clc|cc|nc|netd`): signals
 * first (so a SIGTERM while reading the configuration is honoured), then the
 * configuration with every problem at once, then the daemon until SIGTERM.
 * `--check-config` prints the effective configuration and its problems and
 * exits 0 (fine) or 2 (errors) without starting anything. Exit codes are
 * those of exit-codes.ts in every mode; the last log line of a run is
 * "<daemon> stopped".
 */
import type { Logger } from '../logger.ts';
import type { Diagnostic } from '../diagnostics.ts';
import { formatDiagnostic, hasErrors } from '../diagnostics.ts';
import { errorCode, errorMessage } from '../errors.ts';
import { configReport, formatConfigReport } from '../config/report.ts';
import type { DaemonName, EffectiveSetting } from '../config/settings.ts';
import { DaemonSignals } from './signals.ts';
import { EXIT, isConfigError } from './exit-codes.ts';

export interface Resolved<C> {
  readonly config: C;
  readonly effective: readonly EffectiveSetting[];
  readonly diagnostics: readonly Diagnostic[];
}

export interface DaemonProgram<C> {
  readonly name: DaemonName;
  /** Reads flags, environment and file. Throws ConfigError only when the file cannot be read. */
  resolve(): Resolved<C>;
  /** File checks (certificates, directories) for --check-config. */
  check(config: C): readonly Diagnostic[];
  /** Checks that need the network (the CLC's PostgreSQL server), for --check-config after `check`. */
  checkOnline?(config: C): Promise<readonly Diagnostic[]>;
  logger(config: C): Logger;
  /** Runs until `signals.signal` aborts; returns the exit code. Calls signals.attach(logger, reload). */
  run(config: C, deps: { logger: Logger; signals: DaemonSignals; effective: readonly EffectiveSetting[] }): Promise<number>;
}

export interface DaemonCommandIo {
  readonly parent?: AbortSignal;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly checkConfig?: boolean;
  readonly json?: boolean;
}

export async function runDaemonCommand<C>(program: DaemonProgram<C>, io: DaemonCommandIo): Promise<number> {
  const signals = new DaemonSignals({ name: program.name, ...(io.parent ? { parent: io.parent } : {}) });
  try {
    let resolved: Resolved<C>;
    try {
      resolved = program.resolve();
    } catch (err) {
      if (!isConfigError(err)) throw err;
      if (io.json && io.checkConfig) io.out(JSON.stringify({ daemon: program.name, ok: false, settings: [], problems: [{ severity: 'error', code: errorCode(err), key: '', message: errorMessage(err) }] }, null, 2));
      else io.err(`error: ${program.name}: ${errorCode(err)}: ${errorMessage(err)}`);
      return EXIT.config;
    }
    if (io.checkConfig) {
      const all = [...resolved.diagnostics, ...program.check(resolved.config), ...((await program.checkOnline?.(resolved.config)) ?? [])];
      const report = configReport(program.name, resolved.effective, all);
      io.out(io.json ? JSON.stringify(report, null, 2) : formatConfigReport(report));
      return report.ok ? EXIT.ok : EXIT.config;
    }
    if (hasErrors(resolved.diagnostics)) {
      io.err(`error: ${program.name}: invalid configuration (see "edgenet ${program.name} --check-config"):`);
      for (const d of resolved.diagnostics.filter((x) => x.severity === 'error')) io.err(`  ${formatDiagnostic(d)}`);
      return EXIT.config;
    }
    const logger = program.logger(resolved.config);
    signals.attach(logger);
    for (const d of resolved.diagnostics) logger.warn(`configuration: ${d.message}`, { key: d.path, code: d.code });
    let code: number;
    try {
      code = await program.run(resolved.config, { logger, signals, effective: resolved.effective });
    } catch (err) {
      code = isConfigError(err) ? EXIT.config : EXIT.failure;
      logger.error(`${program.name} cannot run: ${errorMessage(err)}`, { code: errorCode(err), exitCode: code });
    }
    signals.finished(code);
    logger.info(`${program.name} stopped`, { exitCode: code });
    return code;
  } finally {
    signals.dispose();
  }
}

/** Resolves when `signal` aborts (at once when it already has). */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
