/**
 * Turns what a command threw into output and an exit code, in text or JSON.
 *
 * JSON shape (stdout, one line): `{"error": {"code": "…", "message": "…",
 * "details": {…}?}}`. `message` never carries the `error: CODE:` prefix of the
 * text form. Text form (stderr): the diagnostics of an invalid input one
 * `path: code: message` line each, then `error: CODE: message`.
 */
import type { CommanderError } from 'commander';
import { CliExit } from './context.ts';
import { EdgenetError, errorMessage } from '../shared/errors.ts';
import { formatDiagnostic, type Diagnostic } from '../shared/diagnostics.ts';
import type { ErrorCode } from '../shared/error-codes.ts';

export interface JsonError {
  readonly error: { readonly code: ErrorCode; readonly message: string; readonly details?: Record<string, unknown> };
}

export interface Rendered {
  readonly exitCode: number;
  readonly stderr: readonly string[];
  readonly stdout?: string;
}

export function jsonError(code: ErrorCode, message: string, details?: Record<string, unknown>): JsonError {
  return { error: { code, message, ...(details !== undefined && Object.keys(details).length > 0 ? { details } : {}) } };
}

/** The text form's `error: ` (and `CODE: `) prefix is not part of the JSON message. */
const stripPrefix = (m: string, code?: string) => {
  const t = m.replace(/^error:\s*/, '');
  return code !== undefined && t.startsWith(`${code}: `) ? t.slice(code.length + 2) : t;
};

export function renderError(err: unknown, json: boolean): Rendered {
  if (err instanceof CliExit) {
    if (json) {
      // A command that already printed its JSON result (e.g. a rejected `property set`) throws an empty CliExit.
      if (err.message === '' && err.details === undefined && err.code === 'FAILED') return { exitCode: err.exitCode, stderr: [] };
      return { exitCode: err.exitCode, stderr: [], stdout: JSON.stringify(jsonError(err.code, stripPrefix(err.message, err.code) || `exit ${err.exitCode}`, err.details)) };
    }
    return { exitCode: err.exitCode, stderr: err.message ? [err.message] : [] };
  }
  if (err instanceof EdgenetError) {
    const details = { ...(err.details ?? {}) };
    if (json) return { exitCode: 1, stderr: [], stdout: JSON.stringify(jsonError(err.code, err.message, details)) };
    const diagnostics = Array.isArray(details.diagnostics) ? (details.diagnostics as Diagnostic[]) : [];
    return { exitCode: 1, stderr: [...diagnostics.map(formatDiagnostic), `error: ${err.code}: ${err.message}`] };
  }
  if (json) return { exitCode: 1, stderr: [], stdout: JSON.stringify(jsonError('INTERNAL', errorMessage(err))) };
  return { exitCode: 1, stderr: [`error: ${errorMessage(err)}`] };
}

/** Commander's usage errors as a JSON error (exit 2). */
export function usageFromCommander(err: CommanderError, usageText: string): JsonError {
  const first = usageText.split('\n').find((l) => l.trim() !== '') ?? err.message;
  return jsonError('USAGE_ERROR', stripPrefix(first.trim()), { commander: err.code });
}
