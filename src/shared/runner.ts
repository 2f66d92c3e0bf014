/**
 * BoundedFrequencyRunner: one runner coalesces every trigger of a sync-like
 * function (file events, timers, retries, API changes).
 *
 * Model (after kube-proxy's runner):
 * - `request()` only marks the state dirty; it never runs the function itself.
 * - At most one run is in flight. Requests during a run cause exactly one more run.
 * - Runs start at least `minIntervalMs` apart (start to start), merging bursts.
 * - With no requests, a run is forced every `maxIntervalMs` (periodic full
 *   resync that repairs drift); such runs are flagged `periodic`.
 * - A failed run is retried after a capped exponential back-off
 *   (`retryBaseMs` doubling up to `retryMaxMs`); success resets the back-off.
 *
 * The clock is injected, so tests drive the runner with FakeClock.
 */
import type { Clock, TimerHandle } from './clock.ts';

export interface RunContext {
  /** Why this run happens: requested by an event, the periodic timer, or a retry after failure. */
  readonly reason: 'request' | 'periodic' | 'retry';
  /** Consecutive failures before this run. */
  readonly failures: number;
}

export interface RunnerOptions {
  readonly name: string;
  readonly clock: Clock;
  readonly run: (ctx: RunContext) => Promise<void>;
  readonly minIntervalMs: number;
  readonly maxIntervalMs: number;
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  /** Called with the error of a failed run (the runner itself never throws). */
  readonly onError?: (err: unknown, ctx: RunContext) => void;
}

export class BoundedFrequencyRunner {
  private readonly opts: Required<Omit<RunnerOptions, 'onError'>> & Pick<RunnerOptions, 'onError'>;
  private dirty = false;
  private running = false;
  private stopped = true;
  private failures = 0;
  private lastStart = -Infinity;
  private pendingReason: RunContext['reason'] = 'request';
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  private idleWaiters: (() => void)[] = [];

  constructor(options: RunnerOptions) {
    this.opts = { retryBaseMs: 1000, retryMaxMs: 30_000, ...options };
  }

  /** Starts the runner; the first run happens immediately. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.dirty = true;
    this.pendingReason = 'request';
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    this.clearTimer();
    this.wakeIdle();
  }

  /** Marks the state dirty; a run follows within `minIntervalMs`. */
  request(): void {
    if (this.stopped) return;
    this.dirty = true;
    if (this.pendingReason !== 'retry') this.pendingReason = 'request';
    if (!this.running) this.schedule(this.delayUntilAllowed());
  }

  get isRunning(): boolean {
    return this.running;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /**
   * Resolves when no run is in flight and none is requested (tests, shutdown).
   * Once stopped, a pending request or retry never runs, so only a run in
   * flight is waited for (a stop after a failed run used to wait forever).
   */
  idle(): Promise<void> {
    if (!this.running && (this.stopped || !this.dirty)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private delayUntilAllowed(): number {
    return Math.max(0, this.lastStart + this.opts.minIntervalMs - this.opts.clock.now());
  }

  /** Arms the timer for `delay` ms from now unless an earlier one is armed. */
  private schedule(delay: number): void {
    if (this.stopped) return;
    const at = this.opts.clock.now() + delay;
    if (this.timer && this.timerAt <= at) return;
    this.clearTimer();
    this.timerAt = at;
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      void this.fire();
    }, delay);
  }

  private clearTimer(): void {
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private async fire(): Promise<void> {
    if (this.stopped || this.running) return;
    const wait = this.delayUntilAllowed();
    if (wait > 0) {
      this.schedule(wait);
      return;
    }
    const reason: RunContext['reason'] = this.dirty ? this.pendingReason : 'periodic';
    const ctx: RunContext = { reason, failures: this.failures };
    this.dirty = false;
    this.pendingReason = 'request';
    this.running = true;
    this.lastStart = this.opts.clock.now();
    let failed = false;
    try {
      await this.opts.run(ctx);
      this.failures = 0;
    } catch (err) {
      failed = true;
      this.failures += 1;
      try {
        this.opts.onError?.(err, ctx);
      } catch {
        // A throwing error handler must not kill the runner.
      }
    } finally {
      this.running = false;
    }
    if (this.stopped) {
      this.wakeIdle();
      return;
    }
    if (failed) {
      this.dirty = true;
      this.pendingReason = 'retry';
      const backoff = Math.min(this.opts.retryMaxMs, this.opts.retryBaseMs * 2 ** (this.failures - 1));
      this.schedule(Math.max(backoff, this.delayUntilAllowed()));
    } else if (this.dirty) {
      this.schedule(this.delayUntilAllowed());
    } else {
      this.wakeIdle();
      this.schedule(this.opts.maxIntervalMs);
    }
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
