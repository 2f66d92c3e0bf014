/**
 * An Exec whose `run` goes through one long-lived `/bin/sh` coprocess instead
 * of a fork+exec of this Node process per command.
 *
 * Why: netd is a ~170 MB Node process; libuv's fork+exec of it blocks the event
 * loop 7–12 ms per command on a quiet 2-CPU machine (more under load), and
 * six spawns in parallel take 60–90 ms. A sync issues 6–11 commands on the
 * path from the document to the kernel. The shell is ~2 MB: it forks cheaply, and
 * this process only writes a line to a pipe (bench/exec.bench.ts has figures).
 *
 * Model: the shell reads one line per command from its stdin:
 *
 *   jobs >/dev/null; { '/usr/sbin/ip' '-j' … 2>'D/T.err' >'D/T.out' <'D/T.in' & echo "P T $!"; wait $!; echo "X T $?"; } &
 *
 * and writes back `P <id> <pid>` (the command's pid, for the timeout's kill)
 * and `X <id> <exit status>`. Each command's standard input (the `input`
 * option, else /dev/null), output and error are files in a private directory
 * given by the caller (0700, swept of our leftovers when the spawner starts);
 * they are read back when the command exits and then unlinked, so output is
 * byte-exact and a 100 MB dump never passes through a pipe buffer.
 *
 * Invariants:
 * - No shell text is built from unquoted input: every word, argv and paths,
 *   is single-quoted (' → '\''); a word with a NUL byte is refused. argv[0]
 *   is resolved to an absolute path here (PATH search as execvp does) so the
 *   shell never takes it for a builtin, function or keyword (`echo`, `exec`,
 *   `eval` would otherwise run inside the shell).
 * - One `write` per command line: lines never interleave.
 * - No zombies, no growing job table: dash (Debian's /bin/sh) reaps finished
 *   background jobs only when a builtin asks (it keeps a zombie and a job-table
 *   entry per command otherwise: 20,000 commands left 20,000 zombies). So each
 *   line starts with `jobs >/dev/null` (reaps and frees every finished job) and
 *   a lone `wait` is sent whenever the last command in flight has reported
 *   (all jobs are then exiting; nothing stays behind while netd is idle).
 * - Commands in flight when the shell dies fail with an ExecError and are not
 *   re-run (not every write is idempotent); the next `run` starts a new shell.
 * - The shell has its own process group, and ends when its stdin does (close(),
 *   or this process's exit, even by SIGKILL): a signal to netd's group stops
 *   netd, not the commands netd is still waiting for.
 * - The pid a timeout signals is the command's own, reported by the shell; the
 *   shell (not this process) reaps it, so between its exit and our reading of
 *   its `X` line the pid could in theory be reused by another process and be
 *   signalled instead: a window of milliseconds, only for a command that times
 *   out at that very moment (createExec has none: Node reaps its own children).
 * - The directory's parent must not let another user rename it: in production
 *   it is `/run/edgenet/exec`, and `/run/edgenet` is sticky (3770), so the NC's
 *   user cannot move it aside and plant its own.
 * - Errors are createExec's: the same ExecError fields and texts (execa's
 *   message where createExec uses it), except that a command killed by a
 *   signal other than our timeout reports exit 128+N (the shell's `$?`;
 *   createExec reports no exit code), and a command reading standard input
 *   without `input` sees end-of-file (/dev/null) where execa leaves a pipe open.
 *
 * Falls back to the plain exec for the whole spawner when the shell cannot be
 * started (missing, or the directory is not writable), and for single calls
 * with `env` or `cwd` (the shell's environment and directory are fixed when it
 * starts; honouring them per call would need `cd`/`env` in the line, i.e.
 * shell state or an extra process; nothing on netd's latency path sets them).
 * `start` (long-running daemons) is always the plain exec's. Commands see the
 * environment and directory this process had when the shell started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { ExecError, errorMessage } from './errors.ts';
import { createExec, type Exec, type ExecOptions, type ExecResult, type Process, type StartOptions } from './exec.ts';

/** What the spawner tells its owner (netd logs these). */
export type SpawnerEvent =
  | { readonly kind: 'started'; readonly pid: number }
  /** The shell could not be started: every later command uses the plain exec. Reported once. */
  | { readonly kind: 'fallback'; readonly reason: string }
  /** The shell died unexpectedly; `failed` commands in flight were failed (not re-run). */
  | { readonly kind: 'died'; readonly pid: number; readonly how: string; readonly failed: number; readonly stderr: string };

export interface SpawnerOptions {
  /** Private directory for the commands' stdin/stdout/stderr files (created 0700; our leftovers swept at start). */
  readonly dir: string;
  /** The plain exec: `start`, calls with env/cwd, and the fallback (default createExec()). */
  readonly plain?: Exec;
  readonly onEvent?: (event: SpawnerEvent) => void;
  /** The shell (default /bin/sh; tests pass a missing one). */
  readonly shell?: string;
  /** SIGTERM → SIGKILL after a timeout (default 5 s, execa's forceKillAfterDelay). */
  readonly killGraceMs?: number;
}

/** 'shell' until the shell could not be started ('plain'), 'closed' after close(). */
export type SpawnerMode = 'shell' | 'plain' | 'closed';

export interface SpawnerExec extends Exec {
  readonly mode: SpawnerMode;
  /** The shell's pid while one runs (tests, diagnostics). */
  readonly shellPid: number | undefined;
  /** Ends the shell (end of its stdin) after the commands in flight report; later runs use the plain exec. */
  close(): Promise<void>;
}

export function createSpawnerExec(options: SpawnerOptions): SpawnerExec {
  return new ShellSpawner(options);
}

const DEFAULT_TIMEOUT_MS = 60_000;
/** A shell that dies this many times in a row before running any command is given up on. */
const MAX_FAILED_STARTS = 3;
/** Our files in the directory: `<pid>-<n>.in|out|err`. */
const OUR_FILE = /^\d+-\d+\.(in|out|err)$/;

/** A POSIX shell word that stands for exactly `word`. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

interface Pending {
  readonly id: string;
  readonly argv: readonly string[];
  readonly files: { readonly in?: string; readonly out: string; readonly err: string };
  readonly okExitCodes: readonly number[];
  readonly timeoutMs: number;
  pid?: number;
  timedOut: boolean;
  timer: NodeJS.Timeout;
  killTimer?: NodeJS.Timeout;
  readonly resolve: (r: ExecResult) => void;
  readonly reject: (e: unknown) => void;
}

interface Shell {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly pending: Map<string, Pending>;
  /** The last few KB the shell itself wrote on stderr (redirection errors). */
  stderrTail: string;
  /** Told the shell to end (close): its exit is expected. */
  ending: boolean;
  /** The shell answered at least once (a P or X line). */
  answered: boolean;
  /** The shell's stdout reached its end: every job of this shell is gone. */
  readonly drained: Promise<void>;
}

class ShellSpawner implements SpawnerExec {
  private readonly plain: Exec;
  private readonly shellPath: string;
  private readonly killGraceMs: number;
  private shell: Shell | undefined;
  private starting: Promise<Shell | undefined> | undefined;
  private state: SpawnerMode = 'shell';
  private swept = false;
  /** The directory was prepared and no command has since found it missing. */
  private dirReady = false;
  private failedStarts = 0;
  private seq = 0;

  constructor(private readonly opts: SpawnerOptions) {
    this.plain = opts.plain ?? createExec();
    this.shellPath = opts.shell ?? '/bin/sh';
    this.killGraceMs = opts.killGraceMs ?? 5_000;
  }

  get mode(): SpawnerMode {
    return this.state;
  }

  get shellPid(): number | undefined {
    return this.shell?.pid;
  }

  start(argv: readonly string[], options?: StartOptions): Process {
    return this.plain.start(argv, options);
  }

  async run(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const [file, ...args] = argv;
    if (!file) throw new ExecError(argv, undefined, 'empty argv');
    if (this.state !== 'shell' || options.env !== undefined || options.cwd !== undefined) return this.plain.run(argv, options);
    if (argv.some((w) => w.includes('\0'))) throw new ExecError(argv, undefined, 'an argument contains a NUL byte (a process argument cannot carry one)');
    const resolved = resolveExecutable(file);
    if (!resolved.ok) {
      // What createExec reports: execa's text for the spawn error.
      throw new ExecError(argv, undefined, execaMessage(argv, `Command failed with ${resolved.code}`, { original: `spawn ${file} ${resolved.code}` }));
    }
    const shell = this.shell ?? (await this.ensureShell());
    if (!shell) return this.plain.run(argv, options);
    return this.runIn(shell, argv, [resolved.path, ...args], options);
  }

  private async runIn(shell: Shell, argv: readonly string[], words: readonly string[], options: ExecOptions): Promise<ExecResult> {
    const id = `${process.pid}-${++this.seq}`;
    const base = path.join(this.opts.dir, id);
    const files = { ...(options.input !== undefined ? { in: `${base}.in` } : {}), out: `${base}.out`, err: `${base}.err` };
    // The directory can vanish under a running daemon (its run directory removed by hand): made again
    // before the next command, so one bad moment does not fail every later sync.
    if (!this.dirReady) await this.prepareDir().catch(() => undefined);
    if (files.in !== undefined) {
      // 'wx': a file that is already there (or a planted symlink) is an error, never followed.
      await fsp.writeFile(files.in, options.input ?? '', { mode: 0o600, flag: 'wx' }).catch((err: unknown) => {
        this.dirReady = false;
        throw new ExecError(argv, undefined, `cannot write the command's input in ${this.opts.dir}: ${errorMessage(err)}`, { cause: err });
      });
    }
    if (shell !== this.shell || shell.ending) {
      // The shell died (or close() began) while the input was written: start over on the current one.
      await unlinkAll(files);
      return this.run(argv, options);
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const line =
      `jobs >/dev/null; { ${words.map(shellQuote).join(' ')} 2>${shellQuote(files.err)} >${shellQuote(files.out)} <${files.in !== undefined ? shellQuote(files.in) : '/dev/null'}` +
      ` & echo "P ${id} $!"; wait $!; echo "X ${id} $?"; } &\n`;
    return new Promise<ExecResult>((resolve, reject) => {
      const p: Pending = {
        id,
        argv,
        files,
        okExitCodes: options.okExitCodes ?? [0],
        timeoutMs,
        timedOut: false,
        timer: setTimeout(() => this.timeOut(shell, p), timeoutMs),
        resolve,
        reject,
      };
      shell.pending.set(id, p);
      holdWhileBusy(shell);
      shell.child.stdin?.write(line);
    });
  }

  private timeOut(shell: Shell, p: Pending): void {
    p.timedOut = true;
    if (p.pid !== undefined) return this.kill(p);
    // Killed when its P line arrives; a shell that never started it (stuck,
    // or gone without us seeing it yet) must not leave the caller waiting.
    // The entry stays in `pending`: a command the shell starts late is still
    // killed (its P line) and its files removed (its X line).
    p.killTimer = setTimeout(() => {
      if (p.pid !== undefined || !shell.pending.has(p.id)) return;
      p.reject(new ExecError(p.argv, undefined, `timed out after ${p.timeoutMs} ms`));
    }, this.killGraceMs);
  }

  private kill(p: Pending): void {
    signal(p.pid, 'SIGTERM');
    p.killTimer = setTimeout(() => signal(p.pid, 'SIGKILL'), this.killGraceMs);
  }

  private ensureShell(): Promise<Shell | undefined> {
    this.starting ??= this.startShell().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async startShell(): Promise<Shell | undefined> {
    try {
      fs.accessSync(this.shellPath, fs.constants.X_OK);
      await this.prepareDir();
    } catch (err) {
      this.giveUp(errorMessage(err));
      return undefined;
    }
    if (this.state !== 'shell') return undefined;
    // Its own process group: a signal to netd's group (Ctrl-C, `timeout`, a group kill) stops netd, which
    // then ends the shell through its stdin (close(), or the pipe's end when netd exits), instead of
    // killing the shell under the commands netd still waits for.
    const child = spawn(this.shellPath, [], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    if (child.pid === undefined) {
      // The spawn failed; the 'error' event says why on the next tick.
      const why = await new Promise<string>((resolve) => child.once('error', (e) => resolve(errorMessage(e))));
      this.giveUp(`${this.shellPath}: ${why}`);
      return undefined;
    }
    let drained: () => void = () => undefined;
    const shell: Shell = {
      child,
      pid: child.pid,
      pending: new Map(),
      stderrTail: '',
      ending: false,
      answered: false,
      drained: new Promise<void>((resolve) => {
        drained = resolve;
      }),
    };
    // An idle shell must not keep this process alive; its stdout is referenced
    // while commands are in flight (holdWhileBusy), so their reports arrive.
    child.unref();
    for (const s of [child.stdin, child.stdout, child.stderr]) asHandle(s)?.unref();
    child.stdin?.on('error', () => undefined); // EPIPE after the shell died: its 'exit' handles that.
    let rest = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) this.onLine(shell, l);
    });
    child.stdout?.on('close', () => {
      this.failAll(shell, 'its output ended');
      drained();
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      shell.stderrTail = (shell.stderrTail + chunk).slice(-4096);
    });
    child.on('exit', (code, sig) => this.onExit(shell, code, sig));
    this.shell = shell;
    this.opts.onEvent?.({ kind: 'started', pid: shell.pid });
    return shell;
  }

  /** The private directory: 0700, ours, and swept of our files once per spawner. */
  private async prepareDir(): Promise<void> {
    const dir = this.opts.dir;
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    const st = await fsp.lstat(dir);
    if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
    if (typeof process.getuid === 'function' && st.uid !== process.getuid()) throw new Error(`${dir} is not owned by uid ${process.getuid()}`);
    await fsp.chmod(dir, 0o700);
    if (!this.swept) {
      // Files of commands in flight when an earlier netd was killed.
      for (const name of await fsp.readdir(dir)) if (OUR_FILE.test(name)) await fsp.rm(path.join(dir, name), { force: true });
      this.swept = true;
    }
    const probe = path.join(dir, `${process.pid}-0.in`);
    await fsp.writeFile(probe, '', { mode: 0o600 });
    await fsp.unlink(probe);
    this.dirReady = true;
  }

  private giveUp(reason: string): void {
    if (this.state !== 'shell') return;
    this.state = 'plain';
    this.opts.onEvent?.({ kind: 'fallback', reason });
  }

  private onLine(shell: Shell, line: string): void {
    const m = /^([PX]) (\S+) (\d+)$/.exec(line);
    if (!m) return;
    shell.answered = true;
    const p = shell.pending.get(m[2] ?? '');
    if (!p) return;
    const n = Number(m[3]);
    if (m[1] === 'P') {
      p.pid = n;
      if (p.timedOut) this.kill(p);
      return;
    }
    shell.pending.delete(p.id);
    holdWhileBusy(shell);
    clearTimeout(p.timer);
    clearTimeout(p.killTimer);
    // Every job of this shell has reported: reap them all now, not at the next command.
    if (shell.pending.size === 0 && !shell.ending && this.shell === shell) shell.child.stdin?.write('wait\n');
    void this.finish(shell, p, n);
  }

  private async finish(shell: Shell, p: Pending, status: number): Promise<void> {
    const read = (f: string) => fsp.readFile(f, 'utf8');
    const [out, err] = await Promise.allSettled([read(p.files.out), read(p.files.err)]);
    await unlinkAll(p.files);
    if (p.timedOut) return p.reject(new ExecError(p.argv, undefined, `timed out after ${p.timeoutMs} ms`));
    if (out.status === 'rejected' || err.status === 'rejected') {
      this.dirReady = false;
      const why = [out, err].map((r) => (r.status === 'rejected' ? errorMessage(r.reason) : '')).filter(Boolean).join('; ');
      const said = shell.stderrTail.trim().split('\n').slice(-2).join('; ');
      return p.reject(new ExecError(p.argv, status, `the command's output could not be read back (${why})${said ? `; the shell said: ${said}` : ''}`));
    }
    const stdout = out.value;
    const stderr = err.value;
    if (!p.okExitCodes.includes(status)) {
      // createExec: the command's stderr, else execa's message (which carries stdout).
      return p.reject(new ExecError(p.argv, status, stderr || execaMessage(p.argv, `Command failed with exit code ${status}`, { stdout })));
    }
    p.resolve({ stdout, stderr, exitCode: status });
  }

  private onExit(shell: Shell, code: number | null, sig: NodeJS.Signals | null): void {
    if (this.shell === shell) this.shell = undefined;
    if (shell.ending) return; // close(): the jobs in flight still report on stdout.
    if (!shell.answered) {
      this.failedStarts += 1;
      if (this.failedStarts >= MAX_FAILED_STARTS) this.giveUp(`${this.shellPath} exited ${MAX_FAILED_STARTS} times before running a command (last: ${sig ?? `code ${code}`}): ${shell.stderrTail.trim()}`);
    } else {
      this.failedStarts = 0;
    }
    const failed = this.failAll(shell, `exited (${sig ?? `code ${code}`})`);
    this.opts.onEvent?.({ kind: 'died', pid: shell.pid, how: sig ?? `code ${code}`, failed, stderr: shell.stderrTail });
  }

  /** Fails every command still in flight on `shell`; stops those that started. Returns how many. */
  private failAll(shell: Shell, why: string): number {
    const all = [...shell.pending.values()];
    shell.pending.clear();
    for (const p of all) {
      clearTimeout(p.timer);
      clearTimeout(p.killTimer);
      signal(p.pid, 'SIGTERM');
      void unlinkAll(p.files);
      p.reject(
        new ExecError(p.argv, undefined, `the shell running commands (${this.shellPath}, pid ${shell.pid}) ${why} while this command was in flight; it was stopped if it had started and is not re-run (it may have partly run)`),
      );
    }
    holdWhileBusy(shell);
    return all.length;
  }

  async close(): Promise<void> {
    this.state = 'closed';
    const shell = this.shell;
    this.shell = undefined;
    if (!shell) return;
    shell.ending = true;
    // The end of stdout (every job gone) must arrive even if nothing else keeps this process alive.
    asHandle(shell.child.stdout)?.ref();
    shell.child.stdin?.end();
    await shell.drained;
  }
}

/** A child's stdio stream as the pipe handle it is (ref/unref). */
function asHandle(stream: unknown): { ref(): void; unref(): void } | undefined {
  const h = stream as { ref?: () => void; unref?: () => void } | null | undefined;
  return h && typeof h.ref === 'function' && typeof h.unref === 'function' ? (h as { ref(): void; unref(): void }) : undefined;
}

function holdWhileBusy(shell: Shell): void {
  if (shell.ending) return;
  const out = asHandle(shell.child.stdout);
  if (shell.pending.size > 0) out?.ref();
  else out?.unref();
}

function signal(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, sig);
  } catch {
    // ESRCH: it has exited already.
  }
}

async function unlinkAll(files: Pending['files']): Promise<void> {
  await Promise.all([files.in, files.out, files.err].map((f) => (f === undefined ? undefined : fsp.unlink(f).catch(() => undefined))));
}

type Resolved = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly code: 'ENOENT' | 'EACCES' };

/**
 * argv[0] as execvp (libuv's spawn) finds it: a name with a slash as is
 * (relative to this process's directory), else the first executable regular
 * file of that name in PATH; ENOENT when there is none, EACCES when only
 * non-executable ones (or directories) exist.
 */
export function resolveExecutable(file: string, envPath = process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'): Resolved {
  const candidates = file.includes('/') ? [path.resolve(file)] : envPath.split(':').map((d) => path.resolve(d || '.', file));
  let denied = false;
  for (const c of candidates) {
    let st: fs.Stats;
    try {
      st = fs.statSync(c);
    } catch {
      continue;
    }
    if (st.isFile() && isExecutable(c)) return { ok: true, path: c };
    denied = true;
  }
  return { ok: false, code: denied ? 'EACCES' : 'ENOENT' };
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// ---- execa 9's error message, which createExec passes on when stderr is empty ----
// (node_modules/execa/lib/return/message.js, lib/arguments/escape.js; the
// unit test compares both for the same failing commands, so an execa upgrade
// that changes them shows up there.)

const SPECIAL_CHAR = /\p{Separator}|\p{Other}/gu;
const COMMON_ESCAPES: Readonly<Record<string, string>> = { ' ': ' ', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeControl(s: string): string {
  return s.replace(SPECIAL_CHAR, (c) => {
    const common = COMMON_ESCAPES[c];
    if (common !== undefined) return common;
    const cp = c.codePointAt(0) ?? 0;
    return cp <= 0xffff ? `\\u${cp.toString(16).padStart(4, '0')}` : `\\U${cp.toString(16)}`;
  });
}

function escapeLines(s: string): string {
  return stripVTControlCharacters(s).split('\n').map(escapeControl).join('\n');
}

function stripFinalNewline(s: string): string {
  return s.endsWith('\n') ? s.slice(0, s.endsWith('\r\n') ? -2 : -1) : s;
}

function execaQuote(s: string): string {
  return /^[\w./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
}

/** execa's `error.message`: "<prefix>: <escaped command>[\n<original>]", then stderr, then stdout. */
function execaMessage(argv: readonly string[], prefix: string, parts: { original?: string; stdout?: string; stderr?: string }): string {
  const command = argv.map((a) => execaQuote(escapeControl(a))).join(' ');
  const original = parts.original === undefined ? '' : escapeLines(parts.original);
  const short = `${prefix}: ${command}${original ? `\n${original}` : ''}`;
  return [short, parts.stderr ?? '', parts.stdout ?? '']
    .map((part) => escapeLines(stripFinalNewline(part)))
    .filter(Boolean)
    .join('\n\n');
}
