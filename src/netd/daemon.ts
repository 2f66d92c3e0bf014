/**
 * The netd daemon: one BoundedFrequencyRunner (style.md 8) coalesces every
 * trigger — file events and polls (FileWatcher), the periodic full resync
 * (EDGENET_RESYNC_INTERVAL) and retries after a failed sync — and at most
 * one sync runs at a time. A sync is FULL (every chain rewritten) at start,
 * after a failure and when the last full one is older than the resync
 * interval (KEP-3453); otherwise only what differs from the kernel is written.
 *
 * dhcpd supervision backs off: a dhcpd that keeps dying (a bad lease file,
 * a port taken by another server) is restarted after 1 s, then 2, 4, … up
 * to DHCPD_BACKOFF_MAX_MS, with one warning per restart that says how long
 * until the next; once it has stayed up for DHCPD_STABLE_MS the back-off
 * starts again from 1 s. A sync for a new document still starts it at once
 * (the configuration may have changed, which may be the fix).
 *
 * The daemon keeps only scheduling facts in memory (when the last full sync
 * ran, why the next one is wanted); what is applied is always read back from
 * the kernel and the run directory, so kill -9 at any point loses nothing.
 * stop() ends the loop and leaves the host as it is (never flushes).
 */
import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import { BoundedFrequencyRunner, type RunContext } from '../shared/runner.ts';
import type { NetdConfig } from './config.ts';
import type { HostOps } from './apply/host.ts';
import { syncOnce, type SyncOutcome, type SyncTrigger } from './apply/sync.ts';
import { dhcpdFiles, findDhcpd } from './apply/dhcpd.ts';
import { FileWatcher } from './watcher.ts';
import type { NetdMetrics } from './metrics.ts';
import { EdgenetError } from '../shared/errors.ts';
import { Heartbeat } from './heartbeat.ts';
import { statusFiles } from './status.ts';

export interface DaemonOptions {
  readonly host: HostOps;
  readonly config: NetdConfig;
  readonly runDir: string;
  readonly gniFile: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics?: NetdMetrics;
  /** chokidar events (default true); unit tests rely on the poll. */
  readonly fileEvents?: boolean;
  readonly stat?: (file: string) => Promise<string | undefined>;
  readonly wait?: (ms: number) => Promise<void>;
  readonly dhcpdStartCheckMs?: number;
  /** Called after every sync (tests, the CLI's --once). */
  readonly onSync?: (outcome: SyncOutcome) => void;
}

/** Longest wait between two restarts of a dhcpd that keeps dying. */
export const DHCPD_BACKOFF_MAX_MS = 60_000;
/** A dhcpd that has been up this long is healthy again: the back-off resets. */
export const DHCPD_STABLE_MS = 60_000;

export class NetdDaemon {
  private readonly runner: BoundedFrequencyRunner;
  private readonly watcher: FileWatcher;
  /** Liveness for the node controller (heartbeat.ts), on its own timer. */
  private readonly heartbeat: Heartbeat;
  private nextTrigger: SyncTrigger = 'start';
  private lastFullAt = -Infinity;
  private lastFailed = true; // the first sync is full
  private lastOutcome: SyncOutcome | undefined;
  private checkingDhcpd = false;
  /** Restarts of a dead dhcpd since it was last stable, and when the next one may happen. */
  private dhcpdRestarts = 0;
  private dhcpdLastRestartAt = -Infinity;
  private dhcpdNextRestartAt = -Infinity;

  constructor(private readonly opts: DaemonOptions) {
    const { config, clock } = opts;
    this.runner = new BoundedFrequencyRunner({
      name: 'netd-sync',
      clock,
      run: (ctx) => this.run(ctx),
      minIntervalMs: config.minSyncIntervalMs,
      maxIntervalMs: config.resyncIntervalSeconds * 1000,
      retryBaseMs: 1000,
      retryMaxMs: 30_000,
      onError: (err, ctx) => opts.logger.warn('sync failed; retrying with a full rewrite', { reason: ctx.reason, failures: ctx.failures + 1, error: (err as Error).message }),
    });
    this.watcher = new FileWatcher({
      file: opts.gniFile,
      pollMs: config.pollingFrequencySeconds * 1000,
      clock,
      events: opts.fileEvents ?? true,
      ...(opts.stat ? { stat: opts.stat } : {}),
      onChange: (source) => this.request(source === 'file' ? 'file' : 'poll'),
      onTick: () => void this.checkDhcpd(),
    });
    this.heartbeat = new Heartbeat({
      file: statusFiles(opts.runDir).heartbeat,
      clock,
      write: (file, content) => opts.host.mkdirp(opts.runDir).then(() => opts.host.writeFile(file, content)),
      onError: (err) => opts.logger.warn('cannot write the heartbeat file', { error: (err as Error).message }),
    });
  }

  get last(): SyncOutcome | undefined {
    return this.lastOutcome;
  }

  /** Healthy while the last sync did not fail to apply. */
  get healthy(): boolean {
    return this.lastOutcome === undefined || this.lastOutcome.result !== 'error';
  }

  async start(): Promise<void> {
    this.opts.logger.info('netd starting', { gniFile: this.opts.gniFile, runDir: this.opts.runDir, prefix: this.opts.config.prefix });
    this.heartbeat.start();
    await this.watcher.start();
    this.runner.start();
  }

  request(trigger: SyncTrigger): void {
    if (this.nextTrigger === 'start' || this.nextTrigger === 'retry') {
      // keep the stronger label until that sync has run
    } else this.nextTrigger = trigger;
    this.runner.request();
  }

  /** Resolves when no sync is running or pending. */
  idle(): Promise<void> {
    return this.runner.idle();
  }

  async stop(): Promise<void> {
    await this.watcher.stop();
    this.runner.stop();
    await this.runner.idle();
    await this.heartbeat.stop();
    this.opts.logger.info('netd stopped (host left as is)');
  }

  /** dhcpd supervision between syncs: a pid file whose process is gone means dhcpd died. */
  private async checkDhcpd(): Promise<void> {
    if (this.checkingDhcpd) return;
    this.checkingDhcpd = true;
    try {
      const files = dhcpdFiles(this.opts.runDir);
      const pidText = await this.opts.host.readFile(files.pid);
      if (pidText === undefined) return;
      const now = this.opts.clock.now();
      if ((await findDhcpd(this.opts.host, files)) !== undefined) {
        if (this.dhcpdRestarts > 0 && now - this.dhcpdLastRestartAt >= DHCPD_STABLE_MS) this.dhcpdRestarts = 0;
        return;
      }
      if (now < this.dhcpdNextRestartAt) return; // backing off; the warning below said until when
      this.dhcpdRestarts += 1;
      const backoffMs = Math.min(DHCPD_BACKOFF_MAX_MS, 1000 * 2 ** (this.dhcpdRestarts - 1));
      this.dhcpdLastRestartAt = now;
      this.dhcpdNextRestartAt = now + backoffMs;
      this.opts.logger.warn('dhcpd is not running; restarting it', {
        pidFile: files.pid,
        restarts: this.dhcpdRestarts,
        ...(this.dhcpdRestarts > 1 ? { nextRestartInMs: backoffMs, hint: `dhcpd keeps dying; see ${files.log}` } : {}),
      });
      this.request('dhcpd');
    } catch {
      // supervision is best effort; the periodic sync checks again
    } finally {
      this.checkingDhcpd = false;
    }
  }

  private async run(ctx: RunContext): Promise<void> {
    const now = this.opts.clock.now();
    const resyncMs = this.opts.config.resyncIntervalSeconds * 1000;
    const periodic = ctx.reason === 'periodic' || now - this.lastFullAt >= resyncMs;
    const full = this.lastFailed || ctx.reason === 'retry' || periodic;
    let trigger: SyncTrigger = ctx.reason === 'retry' ? 'retry' : ctx.reason === 'periodic' ? 'periodic' : this.nextTrigger;
    if (trigger === 'start' && this.lastOutcome !== undefined) trigger = 'manual';
    this.nextTrigger = 'manual';
    const outcome = await syncOnce(
      {
        host: this.opts.host,
        config: this.opts.config,
        runDir: this.opts.runDir,
        gniFile: this.opts.gniFile,
        now: () => this.opts.clock.now(),
        wait: this.opts.wait ?? (async () => undefined),
        ...(this.opts.dhcpdStartCheckMs !== undefined ? { dhcpdStartCheckMs: this.opts.dhcpdStartCheckMs } : {}),
      },
      { trigger, full },
    );
    this.lastOutcome = outcome;
    this.opts.metrics?.record(outcome, full);
    this.log(outcome, trigger, full);
    this.opts.onSync?.(outcome);
    if (outcome.result === 'error') {
      this.lastFailed = true;
      throw new EdgenetError('SYNC_FAILED', outcome.error ?? 'sync failed');
    }
    this.lastFailed = false;
    if (full && outcome.result === 'ok') this.lastFullAt = now;
  }

  private log(o: SyncOutcome, trigger: SyncTrigger, full: boolean): void {
    const base = {
      trigger,
      full,
      version: o.status.version,
      sequence: o.status.sequence,
      result: o.result,
      ms: o.durationMs,
      phases: o.phases,
      writes: o.writes,
      steps: o.steps.map((s) => `${s.description} (${s.ms}ms)`),
      ...(o.notes.length ? { notes: o.notes } : {}),
    };
    if (o.result === 'ok') this.opts.logger.info(o.writes === 0 ? 'sync: host already up to date' : 'sync applied', base);
    else if (o.result === 'error') this.opts.logger.error('sync failed', { ...base, error: o.error });
    else this.opts.logger.warn(`sync skipped: ${o.result}; host left unchanged`, { ...base, error: o.error });
  }
}
