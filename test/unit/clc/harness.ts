/**
 * Starts the real `edgenet clc` process for integration tests (through the
 * Exec seam) on 127.0.0.1 with a free port announced by --port-file, in a
 * private temp directory (database, token, logs), with the metadata listener
 * off so parallel test runs never fight over port 8773.
 */
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createExec, type Process } from '../../../src/shared/exec.ts';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CLI = path.join(REPO, 'bin', 'edgenet.mjs');
const exec = createExec();

export interface ClcProcess {
  readonly url: string;
  readonly token: string;
  readonly proc: Process;
  readonly logFile: string;
  /** SIGTERM (default) or SIGKILL; resolves with the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | undefined; signal: string | undefined }>;
}

/** A private temp dir; removed by cleanup(), and at process exit in case a test failed before its finally. */
export function tempDir(prefix = 'h2-clc-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', cleanup);
  return { dir, cleanup };
}

export function testEnv(dir: string): Record<string, string> {
  return { EDGENET_STATE_DIR: dir, EDGENET_RUN_DIR: dir, EDGENET_CONF_DIR: dir, EDGENET_METADATA_LISTEN: 'off', EDGENET_CLC_EC2_LISTEN: 'off', EDGENET_LOG_FORMAT: 'json' };
}

/** `name`: its port and log files (`NAME.port`, `NAME.log`), so several CLCs can share one dir (and token file). */
export async function startClc(dir: string, extraArgs: readonly string[] = [], name = 'clc'): Promise<ClcProcess> {
  const portFile = path.join(dir, `${name}.port`);
  rmSync(portFile, { force: true });
  const logFile = path.join(dir, `${name}.log`);
  const proc = exec.start(
    [process.execPath, CLI, 'clc', '--db', path.join(dir, 'clc.db'), '--listen', '127.0.0.1:0', '--port-file', portFile, '--token-file', path.join(dir, 'token'), ...extraArgs],
    { env: testEnv(dir), logFile, cwd: REPO },
  );
  let exited = false;
  void proc.exited.then(() => (exited = true));
  const deadline = Date.now() + 30_000;
  while (!existsSync(portFile)) {
    if (exited) throw new Error(`edgenet clc exited early:\n${safeRead(logFile)}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`edgenet clc did not announce its port within 30 s:\n${safeRead(logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const port = Number(readFileSync(portFile, 'utf8'));
  const token = readFileSync(path.join(dir, 'token'), 'utf8').trim();
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    token,
    proc,
    logFile,
    async stop(signal = 'SIGTERM') {
      proc.kill(signal);
      return proc.exited;
    },
  };
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '(no log)';
  }
}

export interface ApiResult<T = any> {
  readonly status: number;
  readonly body: T;
}

export async function api<T = any>(clc: { url: string; token: string }, method: string, p: string, body?: unknown): Promise<ApiResult<T>> {
  const res = await fetch(`${clc.url}${p}`, {
    method,
    headers: { authorization: `Bearer ${clc.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** Runs the CLI; never throws on a non-zero exit (returns it). */
export async function cli(args: readonly string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await exec.run([process.execPath, CLI, ...args], { env, cwd: REPO, okExitCodes: [0, 1, 2], timeoutMs: 60_000 });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}
