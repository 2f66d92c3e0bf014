/**
 * ConfigError: a configuration that cannot be run (the daemon exits 2). It
 * carries every problem found, so one start reports them all.
 *
 * It lives with the configuration readers that throw it; shared/daemon (which
 * maps it to exit code 2) builds on shared/config, never the other way round.
 */
import type { Diagnostic } from '../diagnostics.ts';
import { formatDiagnostic } from '../diagnostics.ts';
import { EdgenetError } from '../errors.ts';
import type { ErrorCode } from '../error-codes.ts';

export class ConfigError extends EdgenetError {
  readonly diagnostics: readonly Diagnostic[];

  constructor(message: string, diagnostics: readonly Diagnostic[] = [], options: { cause?: unknown; code?: ErrorCode } = {}) {
    super(options.code ?? 'CONFIG_INVALID', diagnostics.length ? `${message}\n${diagnostics.filter((d) => d.severity === 'error').map((d) => `  ${formatDiagnostic(d)}`).join('\n')}` : message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = 'ConfigError';
    this.diagnostics = diagnostics;
  }
}
