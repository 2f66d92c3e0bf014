/**
 * What every CLI command receives: the environment, output streams and an
 * abort signal. Commands write results to `out` (stdout) and problems to `err`
 * (stderr), and report failure by throwing CliExit or UserError; they never
 * call process.exit themselves, so main() stays testable.
 *
 * Errors under `--json` (main.ts renders them): stdout carries one object
 * `{"error": {"code", "message", "details"?}}`; the exit code is the same as
 * without `--json` (1 failure, 2 usage).
 */
import type { Command } from 'commander';
import type { ErrorCode } from '../shared/error-codes.ts';

export interface CliContext {
  readonly env: NodeJS.ProcessEnv;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly signal: AbortSignal;
  /** Sets the exit code the process ends with (0 ok, 1 failure or invalid input, 2 usage). */
  setExitCode(code: number): void;
}

/**
 * Thrown by a command to end with a given exit code. `message` is the text
 * printed on stderr (may be empty when the command already printed its own);
 * `code` and `details` feed the JSON error object under `--json`.
 */
export class CliExit extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    readonly exitCode: number,
    message = '',
    options: { code?: ErrorCode; details?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.name = 'CliExit';
    this.code = options.code ?? (exitCode === 2 ? 'USAGE_ERROR' : 'FAILED');
    this.details = options.details;
  }
}

/** A usage error (exit 2) with a stable code. */
export function usageError(code: ErrorCode, message: string, details?: Record<string, unknown>): CliExit {
  return new CliExit(2, `error: ${message}`, { code, ...(details ? { details } : {}) });
}

export type Registrar = (program: Command, ctx: CliContext) => void;

/**
 * Runs another `edgenet` command in this process (same output, same abort
 * signal) and returns its exit code. main.ts hands it to the commands that
 * need it, which cannot import main.ts: it imports them.
 */
export type RunCli = (argv: readonly string[], env: NodeJS.ProcessEnv) => Promise<number>;
