/**
 * Polls every node controller's status operation on a fixed interval (one
 * round at a time, bounded concurrency, per-call timeout) and hands each
 * result to the fan-out, which keeps it for the CC's status operation and
 * uses it to heal nodes. Clock injected.
 */
import type { Clock, TimerHandle } from '../shared/clock.ts';
import { errorMessage } from '../shared/errors.ts';
import type { NodeReport, NodeTarget } from '../shared/soap/messages.ts';

export interface NodePollerOptions {
  readonly clock: Clock;
  readonly intervalMs: number;
  readonly concurrency: number;
  readonly targets: () => readonly NodeTarget[];
  readonly poll: (node: NodeTarget) => Promise<NodeReport>;
  readonly onResult: (name: string, startedAt: number, result: { ok: true; report: NodeReport } | { ok: false; error: string }) => void;
}

export class NodePoller {
  private timer: TimerHandle | undefined;
  private stopped = false;
  private round: Promise<void> | undefined;

  constructor(private readonly o: NodePollerOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Runs one round now (unless one is running) — e.g. right after a delivery. */
  pollNow(): Promise<void> {
    if (!this.round) {
      this.round = this.runRound().finally(() => {
        this.round = undefined;
      });
    }
    return this.round;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.o.clock.setTimeout(() => {
      void this.pollNow().finally(() => this.schedule(this.o.intervalMs));
    }, ms);
  }

  private async runRound(): Promise<void> {
    const queue = [...this.o.targets()];
    const worker = async () => {
      for (let t = queue.shift(); t && !this.stopped; t = queue.shift()) {
        const startedAt = this.o.clock.now();
        try {
          const report = await this.o.poll(t);
          this.o.onResult(t.name, startedAt, { ok: true, report });
        } catch (err) {
          this.o.onResult(t.name, startedAt, { ok: false, error: errorMessage(err) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.o.concurrency, queue.length)) }, worker));
  }
}
