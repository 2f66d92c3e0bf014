/**
 * SIGHUP for the daemons whose listeners and peers cannot change under them
 * (clc, cc, nc): re-read flags, environment and config file; refuse a file
 * with errors (the running configuration stays); apply LOG_LEVEL at once;
 * name every other changed key as needing a restart. Certificates need no
 * SIGHUP where they are loaded lazily (the CLC's client certificate); the
 * listeners' certificates are read at start.
 */
import type { Logger } from '../logger.ts';
import { hasErrors } from '../diagnostics.ts';
import type { EffectiveSetting } from '../config/settings.ts';
import { ConfigError } from './exit-codes.ts';
import type { Resolved } from './run.ts';
import type { ReloadResult } from './signals.ts';

/** Keys whose value differs between two effective configurations. */
export function changedKeys(before: readonly EffectiveSetting[], after: readonly EffectiveSetting[]): string[] {
  const old = new Map(before.map((s) => [s.key, s.value]));
  const keys = new Set([...before.map((s) => s.key), ...after.map((s) => s.key)]);
  const now = new Map(after.map((s) => [s.key, s.value]));
  return [...keys].filter((k) => old.get(k) !== now.get(k)).sort();
}

export function logLevelReload<C extends { readonly logLevel: string }>(options: {
  readonly logger: Logger;
  /** What the daemon started with. */
  readonly started: readonly EffectiveSetting[];
  readonly resolve: () => Resolved<C>;
}): () => Promise<ReloadResult> {
  let level: string | undefined;
  return async () => {
    const next = options.resolve();
    if (hasErrors(next.diagnostics)) throw new ConfigError('the new configuration has errors', next.diagnostics);
    const changed = changedKeys(options.started, next.effective);
    const applied: string[] = [];
    if (next.config.logLevel !== (level ?? options.logger.level)) {
      options.logger.level = next.config.logLevel;
      level = next.config.logLevel;
      applied.push('LOG_LEVEL');
    }
    const needRestart = changed.filter((k) => k !== 'LOG_LEVEL');
    if (applied.length === 0 && needRestart.length === 0) return { message: 'SIGHUP: nothing to reload (configuration unchanged)' };
    return { message: 'SIGHUP: configuration reloaded', fields: { applied, ...(needRestart.length ? { needRestart } : {}) } };
  };
}
