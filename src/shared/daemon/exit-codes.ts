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
import { EdgenetError } from '../errors.ts';
import { ConfigError } from '../config/config-error.ts';
import type { ErrorCode } from '../error-codes.ts';

export const EXIT = { ok: 0, failure: 1, config: 2 } as const;

// ConfigError lives with the readers that throw it; re-exported for the daemons' entry points.
export { ConfigError } from '../config/config-error.ts';

/** Codes of errors at start that mean "fix the configuration", not "retry". */
const CONFIG_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'TLS_KEY_PERMISSIONS', 'TLS_CERT_MISSING', 'TLS_KEY_MISSING', 'TLS_CA_MISSING', 'TLS_UNREADABLE', 'CONFIG_UNREADABLE', 'CONFIG_BAD_VALUE', 'CONFIG_INVALID',
  // The CLC's secret files (admin token, credentials key; secret-file.ts): fixed by a chmod or a restored file, not by a restart.
  'TOKEN_FILE_PERMISSIONS', 'TOKEN_FILE_SYMLINK', 'TOKEN_FILE_NOT_REGULAR', 'TOKEN_EMPTY',
  'CREDENTIALS_KEY_PERMISSIONS', 'CREDENTIALS_KEY_SYMLINK', 'CREDENTIALS_KEY_NOT_REGULAR', 'CREDENTIALS_KEY_INVALID',
]);

export function isConfigError(err: unknown): boolean {
  return err instanceof ConfigError || (err instanceof EdgenetError && CONFIG_CODES.has(err.code));
}
