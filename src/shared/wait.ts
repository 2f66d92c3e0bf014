/**
 * Bounded polling: every wait in the lab, the tests and the benchmarks is
 * "poll until the condition holds or the deadline passes", never a fixed sleep.
 */
import type { Clock } from './clock.ts';
import { sleep, systemClock } from './clock.ts';
import { EdgenetError, errorMessage } from './errors.ts';

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** Says what was awaited, for the timeout error. */
  readonly what: string;
  readonly clock?: Clock;
  readonly signal?: AbortSignal;
}

/**
 * Calls `probe` until it returns a value other than undefined/false and
 * returns that value. A probe that throws counts as "not yet"; its last error
 * is reported on timeout.
 */
export async function waitFor<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, options: WaitOptions): Promise<T> {
  const clock = options.clock ?? systemClock;
  const deadline = clock.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (options.signal?.aborted) throw new EdgenetError('ABORTED', `aborted while waiting for ${options.what}`);
    if (clock.now() >= deadline) {
      throw new EdgenetError('TIMEOUT', `timed out after ${options.timeoutMs} ms waiting for ${options.what}${lastError ? `: ${errorMessage(lastError)}` : ''}`, { cause: lastError });
    }
    await sleep(clock, options.intervalMs ?? 100, options.signal);
  }
}
