/**
 * The Exec seam: the module that starts processes (through execa, which
 * wraps child_process). Commands are argv arrays, never shell strings. A failed
 * command throws ExecError carrying argv, exit code and stderr. spawner.ts is
 * the same interface run through one long-lived /bin/sh (netd's daemon: a
 * fork of its large process per command blocks its event loop); it delegates
 * `start` and what it cannot do to createExec.
 *
 * Production code receives an `Exec` and never imports execa itself, so unit
 * tests pass a fake that records argv and returns canned output.
 */
import { openSync, closeSync } from 'node:fs';
import { execa } from 'execa';
import { ExecError } from './errors.ts';

export interface ExecOptions {
  /** Written to the process's standard input. */
  readonly input?: string;
  /** Kill the process after this long (default 60 s). */
  readonly timeoutMs?: number;
  /** Exit codes that count as success (default [0]). */
  readonly okExitCodes?: readonly number[];
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

export interface StartOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Where stdout/stderr go: a file path (appended) or 'ignore'. Default 'ignore'. */
  readonly logFile?: string;
  /** Keep running after the parent exits (own process group). */
  readonly detached?: boolean;
  /**
   * Each line of standard output, as it comes (a monitor: `ip -o monitor
   * link`); stdout then goes here instead of `logFile`, unbuffered (a
   * process that runs for weeks must not accumulate its output in memory).
   */
  readonly onLine?: (line: string) => void;
}

export interface Process {
  readonly pid: number;
  /** Resolves with the exit code (or undefined when killed by a signal). */
  readonly exited: Promise<{ code: number | undefined; signal: string | undefined }>;
  kill(signal?: NodeJS.Signals): void;
}

export interface Exec {
  run(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Starts a long-running process (dhcpd, daemons in the lab). */
  start(argv: readonly string[], options?: StartOptions): Process;
}

export function createExec(): Exec {
  return {
    async run(argv, options = {}) {
      const [file, ...args] = argv;
      if (!file) throw new ExecError(argv, undefined, 'empty argv');
      const result = await execa(file, args, {
        input: options.input,
        timeout: options.timeoutMs ?? 60_000,
        reject: false,
        stripFinalNewline: false,
        env: options.env,
        cwd: options.cwd,
        maxBuffer: 512 * 1024 * 1024,
      });
      const exitCode = result.exitCode;
      const ok = options.okExitCodes ?? [0];
      if (exitCode === undefined || !ok.includes(exitCode)) {
        const why = result.timedOut ? `timed out after ${options.timeoutMs ?? 60_000} ms` : String(result.stderr ?? '');
        throw new ExecError(argv, exitCode, why || String(result.message ?? ''));
      }
      return { stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? ''), exitCode };
    },

    start(argv, options = {}) {
      const [file, ...args] = argv;
      if (!file) throw new ExecError(argv, undefined, 'empty argv');
      // The log file is opened here and handed to the child as a plain fd:
      // execa's `{file}` pipes the output through this process, and those
      // pipes stay open as long as the child runs, so a detached dhcpd kept
      // netd alive after it stopped (until SIGKILL).
      const fd = options.logFile ? openSync(options.logFile, 'a') : undefined;
      const onLine = options.onLine;
      const spawn = () =>
        execa(file, args, {
          env: options.env,
          cwd: options.cwd,
          stdin: 'ignore',
          stdout: (onLine ? 'pipe' : (fd ?? 'ignore')) as 'ignore',
          stderr: (fd ?? 'ignore') as 'ignore',
          detached: options.detached ?? false,
          reject: false,
          buffer: false,
          cleanup: !(options.detached ?? false),
        });
      let child: ReturnType<typeof spawn>;
      try {
        child = spawn();
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
      if (options.detached) child.unref();
      // The stdout option's type is narrowed to 'ignore' above, which types child.stdout as never.
      const stdout = (child as unknown as { stdout: NodeJS.ReadableStream | null }).stdout;
      if (onLine && stdout) {
        let rest = '';
        stdout.setEncoding('utf8');
        stdout.on('data', (chunk: string) => {
          const parts = (rest + chunk).split('\n');
          rest = parts.pop() ?? '';
          for (const line of parts) onLine(line);
        });
      }
      const exited = child.then(
        (r) => ({ code: r.exitCode, signal: r.signal }),
        (e: { exitCode?: number; signal?: string }) => ({ code: e.exitCode, signal: e.signal }),
      );
      return {
        pid: child.pid ?? -1,
        exited,
        kill: (signal = 'SIGTERM') => {
          child.kill(signal);
        },
      };
    },
  };
}

/** Wraps an Exec so every command runs with a prefix (e.g. `ip netns exec NS`). */
export function prefixedExec(inner: Exec, prefix: readonly string[]): Exec {
  return {
    run: (argv, options) => inner.run([...prefix, ...argv], options),
    start: (argv, options) => inner.start([...prefix, ...argv], options),
  };
}
