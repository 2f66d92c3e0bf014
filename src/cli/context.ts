/**
 * What every CLI command receives: the environment, output streams and an
 * abort signal. Commands write results to `out` (stdout) and problems to `err`
 * (stderr), and report failure by throwing CliExit or UserError; they never
 * call process.exit themselves, so main() stays testable.
 */
import type { Command } from 'commander';

export interface CliContext {
  readonly env: NodeJS.ProcessEnv;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly signal: AbortSignal;
  /** Sets the exit code the process ends with (0 ok, 1 failure or invalid input, 2 usage). */
  setExitCode(code: number): void;
}

/** Thrown by a command to end with a given exit code after printing its own message. */
export class CliExit extends Error {
  constructor(readonly exitCode: number, message = '') {
    super(message);
    this.name = 'CliExit';
  }
}

export type Registrar = (program: Command, ctx: CliContext) => void;
