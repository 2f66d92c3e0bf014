/**
 * The CLI under test, in this process: a scratch directory that every
 * EDGENET_* default points at (no CLC config or token file of this machine
 * leaks in; removed after the file's tests) and main() with captured
 * stdout/stderr. Shared by the CLI tests that drive a fake admin API, and
 * (runCli, sandboxEnv) by the tests that run the CLI in a directory of their own.
 */
import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { main } from '../../../src/cli/main.ts';

export interface CliRun { readonly code: number; readonly stdout: string; readonly stderr: string }

export interface CliSandbox {
  /** The scratch directory (state, conf and run directories all point here). */
  readonly dir: string;
  /** EDGENET_STATE_DIR/CONF_DIR/RUN_DIR = dir, and PATH. */
  readonly baseEnv: Record<string, string>;
  /** main() in this process with captured stdout/stderr. */
  run(args: readonly string[], env: Record<string, string>): Promise<CliRun>;
}

/** EDGENET_STATE_DIR/CONF_DIR/RUN_DIR = `dir`, and PATH. */
export function sandboxEnv(dir: string): Record<string, string> {
  return { EDGENET_STATE_DIR: dir, EDGENET_CONF_DIR: dir, EDGENET_RUN_DIR: dir, PATH: process.env.PATH ?? '/usr/bin:/bin' };
}

/** main() in this process with captured stdout/stderr. */
export async function runCli(args: readonly string[], env: Record<string, string>): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const sink = (add: (s: string) => void) => new Writable({ write: (chunk, _enc, cb) => (add(String(chunk)), cb()) });
  const code = await main(args, env, undefined, { stdout: sink((t) => (stdout += t)), stderr: sink((t) => (stderr += t)) });
  return { code, stdout, stderr };
}

/** A sandbox whose directory (`<tmp>/<prefix>XXXXXX`) is removed after the calling file's tests. */
export function cliSandbox(prefix: string): CliSandbox {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, baseEnv: sandboxEnv(dir), run: runCli };
}
