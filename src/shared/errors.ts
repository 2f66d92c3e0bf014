/**
 * The few error classes edgenet throws. Each carries a stable `code` (callers and
 * tests switch on codes, never on wording) and chains the underlying error as
 * `cause`. Daemon loops catch at the top, log `code` + message + context, back
 * off, and keep running. Codes come from one registry (error-codes.ts).
 */
import type { ErrorCode } from './error-codes.ts';

export class EdgenetError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EdgenetError';
    this.code = code;
    this.details = options.details;
  }
}

/** A request that cannot be honoured as asked (bad argument, unknown object, conflict). */
export class UserError extends EdgenetError {
  /** HTTP status the admin API answers with. */
  readonly status: number;

  constructor(code: ErrorCode, message: string, options: { status?: number; cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(code, message, options);
    this.name = 'UserError';
    this.status = options.status ?? 400;
  }
}

/** A host command failed: carries argv, exit code and stderr so logs explain themselves. */
export class ExecError extends EdgenetError {
  readonly argv: readonly string[];
  readonly exitCode: number | undefined;
  readonly stderr: string;

  constructor(argv: readonly string[], exitCode: number | undefined, stderr: string, options: { cause?: unknown } = {}) {
    const shown = argv.join(' ');
    super('EXEC_FAILED', `command failed (exit ${exitCode ?? 'signal'}): ${shown}${stderr ? `: ${stderr.trim().slice(0, 2000)}` : ''}`, options);
    this.name = 'ExecError';
    this.argv = argv;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function errorCode(err: unknown): ErrorCode {
  return err instanceof EdgenetError ? err.code : 'INTERNAL';
}

export function assertNever(value: never, what = 'value'): never {
  throw new EdgenetError('INTERNAL', `unexpected ${what}: ${JSON.stringify(value)}`);
}
