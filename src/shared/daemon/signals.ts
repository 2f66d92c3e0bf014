/**
 * Signal handling of every daemon, written once (clc, cc, nc, netd):
 *
 * - SIGTERM / SIGINT: log "stopping", abort `signal` (the daemon closes its
 *   listeners, timers and watchers and returns), and arm a deadline: a daemon
 *   that has not exited `stopDeadlineMs` after the signal (a handle left open
 *   somewhere) is exited by force, with the open handles in the log. A
 *   second SIGTERM/SIGINT exits at once.
 * - SIGHUP: never kills. Calls the daemon's reload (re-read the config file,
 *   apply what can be applied) or logs "SIGHUP: nothing to reload". A reload
 *   that fails is logged and the running configuration is kept.
 *
 * Before the daemon has a logger (while it reads its configuration) the same
 * lines go to stderr as JSON.
 *
 * A long command that is not a daemon (`edgenet lab up`) takes
 * `interruptSignal()` instead: SIGINT/SIGTERM only abort its signal (no log
 * line, no forced exit: the command cleans up through the signal, which may
 * take longer than a daemon's deadline).
 */
import type { Logger } from '../logger.ts';
import { errorMessage } from '../errors.ts';
import { EXIT } from './exit-codes.ts';

type Signal = 'SIGTERM' | 'SIGINT' | 'SIGHUP';

export interface SignalTarget {
  on(event: Signal, listener: () => void): unknown;
  off(event: Signal, listener: () => void): unknown;
}

export interface DaemonSignalsOptions {
  /** `clc`, `cc`, `nc`, `netd`: the component of the log lines. */
  readonly name: string;
  /** Also stop when this aborts (the CLI's own signal, in-process tests). */
  readonly parent?: AbortSignal;
  /** Default 4500 ms: systemd and the tests expect an exit within 5 s. */
  readonly stopDeadlineMs?: number;
  readonly target?: SignalTarget;
  readonly exit?: (code: number) => void;
}

/** An AbortSignal that aborts on SIGINT/SIGTERM or when `parent` aborts; `dispose` removes the handlers. */
export function interruptSignal(options: { readonly parent?: AbortSignal; readonly target?: SignalTarget } = {}): { readonly signal: AbortSignal; dispose(): void } {
  const target = options.target ?? process;
  const controller = new AbortController();
  const stop = () => controller.abort();
  options.parent?.addEventListener('abort', stop, { once: true });
  if (options.parent?.aborted) controller.abort();
  target.on('SIGINT', stop);
  target.on('SIGTERM', stop);
  return {
    signal: controller.signal,
    dispose: () => {
      target.off('SIGINT', stop);
      target.off('SIGTERM', stop);
      options.parent?.removeEventListener('abort', stop);
    },
  };
}

/** What a reload reports: the log line's message and fields. */
export type ReloadResult = { readonly message: string; readonly fields?: Record<string, unknown> };

export class DaemonSignals {
  private readonly controller = new AbortController();
  private logger: Logger | undefined;
  private reloadFn: (() => Promise<ReloadResult>) | undefined;
  private reloading: Promise<void> | undefined;
  private exitCode: number | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private readonly target: SignalTarget;
  private readonly exit: (code: number) => void;
  private readonly onStop = (sig: Signal) => () => this.stop(sig);
  private readonly handlers: Record<Signal, () => void>;
  private readonly onParent = () => this.controller.abort();

  constructor(private readonly opts: DaemonSignalsOptions) {
    this.target = opts.target ?? process;
    this.exit = opts.exit ?? ((code) => process.exit(code));
    this.handlers = { SIGTERM: this.onStop('SIGTERM'), SIGINT: this.onStop('SIGINT'), SIGHUP: () => this.hangup() };
    for (const [sig, fn] of Object.entries(this.handlers) as [Signal, () => void][]) this.target.on(sig, fn);
    opts.parent?.addEventListener('abort', this.onParent, { once: true });
    if (opts.parent?.aborted) this.controller.abort();
  }

  /** Aborts on SIGTERM/SIGINT (or the parent signal). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** From now on log through `logger`; SIGHUP calls `reload` (none: "nothing to reload"). */
  attach(logger: Logger, reload?: () => Promise<ReloadResult>): void {
    this.logger = logger;
    this.reloadFn = reload;
  }

  /** Resolves when a running reload has finished (tests). */
  async settled(): Promise<void> {
    await this.reloading;
  }

  /** The daemon has returned with `code`: a forced exit (handles left open) keeps that code. */
  finished(code: number): void {
    this.exitCode = code;
  }

  dispose(): void {
    for (const [sig, fn] of Object.entries(this.handlers) as [Signal, () => void][]) this.target.off(sig, fn);
    this.opts.parent?.removeEventListener('abort', this.onParent);
    // The deadline stays armed (unref'd): it only fires if something keeps the process alive.
  }

  private log(level: 'info' | 'warn' | 'error', message: string, fields: Record<string, unknown> = {}): void {
    if (this.logger) {
      this.logger.log(level, message, fields);
      return;
    }
    process.stderr.write(`${JSON.stringify({ level, message, component: this.opts.name, ...fields, timestamp: new Date().toISOString() })}\n`);
  }

  private stop(sig: Signal): void {
    if (this.controller.signal.aborted) {
      this.log('warn', `${sig} again while stopping; exiting now`, { signal: sig });
      this.exit(this.exitCode ?? EXIT.failure);
      return;
    }
    this.log('info', `${sig}: ${this.opts.name} stopping`, { signal: sig });
    const ms = this.opts.stopDeadlineMs ?? 4500;
    this.deadline = setTimeout(() => {
      const handles = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
      if (this.exitCode === undefined) this.log('error', `${this.opts.name} did not stop within ${ms} ms; exiting`, { handles });
      else this.log('warn', `${this.opts.name} stopped but handles stayed open; exiting`, { handles });
      this.exit(this.exitCode ?? EXIT.failure);
    }, ms);
    this.deadline.unref();
    this.controller.abort();
  }

  private hangup(): void {
    if (this.controller.signal.aborted) return;
    const reload = this.reloadFn;
    if (!reload) {
      this.log('info', 'SIGHUP: nothing to reload', { signal: 'SIGHUP' });
      return;
    }
    if (this.reloading) {
      this.log('info', 'SIGHUP: a reload is already running', { signal: 'SIGHUP' });
      return;
    }
    this.log('info', 'SIGHUP: reloading the configuration', { signal: 'SIGHUP' });
    this.reloading = reload()
      .then(
        (r) => this.log('info', r.message, { signal: 'SIGHUP', ...r.fields }),
        (err: unknown) => this.log('error', 'SIGHUP: reload failed; keeping the running configuration', { signal: 'SIGHUP', error: errorMessage(err) }),
      )
      .finally(() => {
        this.reloading = undefined;
      });
  }
}
