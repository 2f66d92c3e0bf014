/**
 * The DaemonProgram of a daemon that is one long-lived service (cc, nc): start
 * it, apply LOG_LEVEL on SIGHUP, stop it on SIGTERM. Written once so the two
 * controllers cannot drift apart in how they start, reload and stop.
 */
import type { Diagnostic } from '../diagnostics.ts';
import type { DaemonName } from '../config/settings.ts';
import type { LogFormatSetting } from '../config/load.ts';
import { createLogger, type Logger } from '../logger.ts';
import { logLevelReload } from './reload.ts';
import { untilAborted, type DaemonProgram, type Resolved } from './run.ts';

export interface ServiceProgramOptions<C extends { readonly logLevel: string; readonly logFormat: LogFormatSetting }> {
  readonly name: DaemonName;
  readonly env: NodeJS.ProcessEnv;
  readonly resolve: () => Resolved<C>;
  readonly check: (config: C) => readonly Diagnostic[];
  readonly start: (config: C, deps: { logger: Logger }) => Promise<{ stop(): Promise<void> }>;
}

export function serviceProgram<C extends { readonly logLevel: string; readonly logFormat: LogFormatSetting }>(options: ServiceProgramOptions<C>): DaemonProgram<C> {
  const { name, env, resolve, check, start } = options;
  return {
    name,
    resolve,
    check,
    logger: (config) => createLogger({ component: name, level: config.logLevel, ...(config.logFormat === 'auto' ? {} : { format: config.logFormat }) }, env),
    async run(config, { logger, signals, effective }) {
      signals.attach(logger, logLevelReload({ logger, started: effective, resolve }));
      const service = await start(config, { logger });
      await untilAborted(signals.signal);
      await service.stop();
      return 0;
    },
  };
}
