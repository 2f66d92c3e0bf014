/**
 * Exit codes of every edgenet daemon (clc, cc, nc, netd), in every mode
 * (running, --once, --check-config):
 *
 *   0  stopped on request (SIGTERM/SIGINT), --once applied, configuration fine
 *   1  runtime failure: a listener that cannot bind, --once that did not apply,
 *      a stop that overran its deadline
 *   2  usage or configuration error: bad flag, unreadable config file, a bad
 *      value, a missing or unreadable certificate or key. systemd units set
 *      RestartPreventExitStatus=2 so a broken configuration is not restarted
 *      in a loop.
 */
import type { Diagnostic } from '../diagnostics.ts';
import { formatDiagnostic } from '../diagnostics.ts';
import { EdgenetError } from '../errors.ts';
import type { ErrorCode } from '../error-codes.ts';

export const EXIT = { ok: 0, failure: 1, config: 2 } as const;

/** A configuration that cannot be run: the daemon exits 2. Carries every problem. */
export class ConfigError extends EdgenetError {
  readonly diagnostics: readonly Diagnostic[];

  constructor(message: string, diagnostics: readonly Diagnostic[] = [], options: { cause?: unknown; code?: ErrorCode } = {}) {
    super(options.code ?? 'CONFIG_INVALID', diagnostics.length ? `${message}\n${diagnostics.filter((d) => d.severity === 'error').map((d) => `  ${formatDiagnostic(d)}`).join('\n')}` : message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = 'ConfigError';
    this.diagnostics = diagnostics;
  }
}

/** Codes of errors at start that mean "fix the configuration", not "retry". */
const CONFIG_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['TLS_KEY_PERMISSIONS', 'TLS_CERT_MISSING', 'TLS_KEY_MISSING', 'TLS_CA_MISSING', 'TLS_UNREADABLE', 'CONFIG_UNREADABLE', 'CONFIG_BAD_VALUE', 'CONFIG_INVALID']);

export function isConfigError(err: unknown): boolean {
  return err instanceof ConfigError || (err instanceof EdgenetError && CONFIG_CODES.has(err.code));
}
