/**
 * Watches the shared file two ways, because a missed event must not matter:
 * chokidar on its directory (the NC replaces the file by rename, so we watch
 * the directory and filter by name) and a poll every POLLING_FREQUENCY that
 * compares (inode, size, mtime). Either only calls `onChange`, which marks
 * the runner dirty; the sync itself always re-reads the file.
 *
 * The poll tick also calls `onTick`, which the daemon uses to check that
 * dhcpd is alive between syncs.
 *
 * An event refreshes the poll's remembered signature before it reports, so
 * a change reported by the event is not reported again by the next poll
 * (that second sync parsed the whole 3.4 MB document of a 10,000-instance
 * cloud for nothing, on the same cores as the next change). The stat comes
 * before the report, and the sync reads the file after the report, so the
 * sync sees at least what was stat'ed; a file replaced after the stat
 * differs at the next poll and is reported even if its event is lost.
 */
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import chokidar from 'chokidar';
import type { Clock, TimerHandle } from '../shared/clock.ts';

export interface WatcherOptions {
  readonly file: string;
  readonly pollMs: number;
  readonly clock: Clock;
  readonly onChange: (source: 'file' | 'poll') => void;
  readonly onTick?: () => void;
  /** Use chokidar (default true); unit tests drive the poll only. */
  readonly events?: boolean;
  /** Stat seam (tests). Returns a signature string or undefined when the file is missing. */
  readonly stat?: (file: string) => Promise<string | undefined>;
}

async function statSignature(file: string): Promise<string | undefined> {
  try {
    const s = await fs.stat(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return undefined;
  }
}

export class FileWatcher {
  private timer: TimerHandle | undefined;
  private last: string | undefined;
  private stopped = true;
  private closeEvents: (() => Promise<void>) | undefined;

  constructor(private readonly opts: WatcherOptions) {}

  async start(): Promise<void> {
    this.stopped = false;
    this.last = await (this.opts.stat ?? statSignature)(this.opts.file);
    if (this.opts.events ?? true) {
      const dir = path.dirname(this.opts.file);
      const base = path.basename(this.opts.file);
      const w = chokidar.watch(dir, { depth: 0, ignoreInitial: true, atomic: false });
      const on = (p: string) => {
        if (path.basename(p) !== base) return;
        void this.remember().then(() => this.opts.onChange('file'));
      };
      w.on('add', on).on('change', on).on('unlink', on).on('error', () => undefined);
      this.closeEvents = () => w.close();
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.opts.clock.setTimeout(() => void this.poll(), this.opts.pollMs);
  }

  /** Records the file's current signature as seen (before an event reports it). */
  private async remember(): Promise<void> {
    this.last = await (this.opts.stat ?? statSignature)(this.opts.file);
  }

  private async poll(): Promise<void> {
    if (this.stopped) return;
    const sig = await (this.opts.stat ?? statSignature)(this.opts.file);
    if (sig !== this.last) {
      this.last = sig;
      this.opts.onChange('poll');
    }
    this.opts.onTick?.();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
    await this.closeEvents?.();
  }
}
