/**
 * netd's heartbeat: `<run dir>/netd-heartbeat.json` (NetdHeartbeat) rewritten
 * every NETD_HEARTBEAT_INTERVAL_MS on its own timer, independent of syncs, so
 * the node controller sees a dead netd (pid gone, or no beat for long) or a
 * hung one (no beat) without waiting for a document change. The run dir is a
 * tmpfs (/run): a small atomic write every 2 s is cheap. stop() writes a last
 * beat with `stoppedAt` (an orderly stop is not a crash).
 */
import type { Clock, TimerHandle } from '../shared/clock.ts';
import { NETD_HEARTBEAT_INTERVAL_MS, ownPidNamespace, type NetdHeartbeat } from '../shared/netd-status.ts';

export interface HeartbeatOptions {
  readonly file: string;
  readonly clock: Clock;
  readonly write: (file: string, content: string) => Promise<void>;
  readonly intervalMs?: number;
  readonly pid?: number;
  /** Called when a write fails (the next beat tries again). */
  readonly onError?: (err: unknown) => void;
}

export class Heartbeat {
  private timer: TimerHandle | undefined;
  private running = false;
  private readonly startedAt: string;
  private readonly intervalMs: number;
  private readonly pidNs = ownPidNamespace();
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly o: HeartbeatOptions) {
    this.startedAt = new Date(o.clock.now()).toISOString();
    this.intervalMs = o.intervalMs ?? NETD_HEARTBEAT_INTERVAL_MS;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.beat();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.writing;
    await this.write(new Date(this.o.clock.now()).toISOString()).catch((err: unknown) => this.o.onError?.(err));
  }

  private beat(): void {
    if (!this.running) return;
    this.writing = this.write().catch((err: unknown) => this.o.onError?.(err));
    this.timer = this.o.clock.setTimeout(() => this.beat(), this.intervalMs);
  }

  private write(stoppedAt?: string): Promise<void> {
    const hb: NetdHeartbeat = {
      pid: this.o.pid ?? process.pid,
      ...(this.pidNs ? { pidNs: this.pidNs } : {}),
      startedAt: this.startedAt,
      at: new Date(this.o.clock.now()).toISOString(),
      intervalMs: this.intervalMs,
      ...(stoppedAt ? { stoppedAt } : {}),
    };
    return this.o.write(this.o.file, `${JSON.stringify(hb)}\n`);
  }
}
