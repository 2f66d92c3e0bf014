/**
 * The netd daemon: one BoundedFrequencyRunner (style.md 8) coalesces every
 * trigger — file events and polls (FileWatcher), the periodic full resync
 * (EDGENET_RESYNC_INTERVAL) and retries after a failed sync — and at most
 * one sync runs at a time. A sync is FULL (every chain rewritten) at start,
 * after a failure and when the last full one is older than the resync
 * interval (KEP-3453); otherwise only what differs from the kernel is written.
 *
 * Supervised processes (dhcpd, ...; every kind in the driver registry) are
 * checked on every poll tick: one whose pid file is there but whose process
 * is gone died, and a sync (trigger: its kind) starts it again. That backs
 * off per kind: a process that keeps dying (a bad lease file, a port taken by
 * another server) is restarted after 1 s, then 2, 4, … up to
 * PROCESS_BACKOFF_MAX_MS, with one warning per restart that says how long
 * until the next; once it has stayed up for PROCESS_STABLE_MS the back-off
 * starts again from 1 s. A sync for a new document still starts it at once
 * (the configuration may have changed, which may be the fix).
 *
 * On a node whose last rendered state is ROUTED, a PortWatcher
 * (port-watcher.ts: one `ip -o monitor link`) asks for a sync (trigger
 * 'link') within ~75 ms of a `vn_*` port appearing, going up or down, or
 * disappearing: a routed port gets its gateways, routes and neighbours from
 * a sync, not from the periodic resync a minute later. An EDGE node runs no
 * monitor.
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
import { syncOnce, type SyncOutcome, type SyncTrigger } from './sync.ts';
import { PROCESS_DRIVERS, type DriverRegistry } from './apply/drivers.ts';
import { processLayout, type ProcessDriver } from './apply/process-driver.ts';
import { findProcess } from './apply/supervisor.ts';
import { FileWatcher } from './watcher.ts';
import type { NetdMetrics } from './metrics.ts';
import { EdgenetError } from '../shared/errors.ts';
import { Heartbeat } from './heartbeat.ts';
import { statusFiles } from './status.ts';
import { PortWatcher } from './port-watcher.ts';

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
  /** How long after starting a supervised process to check it is still alive (0 or absent: no check). */
  readonly startCheckMs?: number;
  /** Supervised-process drivers (default PROCESS_DRIVERS). */
  readonly drivers?: DriverRegistry;
  /** ROUTED config drives' directory (default `paths.configDrives()`). */
  readonly configDriveDir?: string;
  /** Called after every sync (tests, the CLI's --once). */
  readonly onSync?: (outcome: SyncOutcome) => void;
  /** ROUTED port events' debounce (default port-watcher.ts PORT_EVENT_DEBOUNCE_MS). */
  readonly portEventDebounceMs?: number;
  /** How the host's commands run, for the startup log line (main.ts: `shell …` or `plain …`). */
  readonly execMode?: string;
}

/** Longest wait between two restarts of a supervised process that keeps dying. */
const PROCESS_BACKOFF_MAX_MS = 60_000;
/** A process that has been up this long is healthy again: its back-off resets. */
const PROCESS_STABLE_MS = 60_000;

/** Restarts of one kind's dead process since it was last stable, and when the next one may happen. */
interface Backoff {
  restarts: number;
  lastRestartAt: number;
  nextRestartAt: number;
}

export class NetdDaemon {
  private readonly runner: BoundedFrequencyRunner;
  private readonly watcher: FileWatcher;
  /** Liveness for the node controller (heartbeat.ts), on its own timer. */
  private readonly heartbeat: Heartbeat;
  /** ROUTED only: instance port events ask for a sync. */
  private readonly ports: PortWatcher;
  private nextTrigger: SyncTrigger = 'start';
  private lastFullAt = -Infinity;
  private lastFailed = true; // the first sync is full
  private lastOutcome: SyncOutcome | undefined;
  private checkingProcesses = false;
  private readonly backoff = new Map<string, Backoff>();

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
      onTick: () => void this.checkProcesses(),
    });
    this.ports = new PortWatcher({
      host: opts.host,
      clock,
      logger: opts.logger,
      onPortChange: () => this.request('link'),
      ...(opts.portEventDebounceMs !== undefined ? { debounceMs: opts.portEventDebounceMs } : {}),
    });
    this.heartbeat = new Heartbeat({
      file: statusFiles(opts.runDir).heartbeat,
      clock,
      write: (file, content) => opts.host.mkdirp(opts.runDir).then(() => opts.host.writeFile(file, content)),
      onError: (err) => opts.logger.warn('cannot write the heartbeat file', { error: (err as Error).message }),
    });
  }

  /** Whether the ROUTED port monitor runs (tests, status). */
  get watchingPorts(): boolean {
    return this.ports.running;
  }

  get last(): SyncOutcome | undefined {
    return this.lastOutcome;
  }

  /** Healthy while the last sync did not fail to apply. */
  get healthy(): boolean {
    return this.lastOutcome === undefined || this.lastOutcome.result !== 'error';
  }

  async start(): Promise<void> {
    this.opts.logger.info('netd starting', {
      gniFile: this.opts.gniFile,
      runDir: this.opts.runDir,
      prefix: this.opts.config.prefix,
      ...(this.opts.execMode !== undefined ? { exec: this.opts.execMode } : {}),
    });
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
    // After the last sync: it could have enabled the watcher again.
    this.ports.stop();
    await this.heartbeat.stop();
    this.opts.logger.info('netd stopped (host left as is)');
  }

  /** Supervision between syncs: a pid file whose process is gone means that process died. */
  private async checkProcesses(): Promise<void> {
    if (this.checkingProcesses) return;
    this.checkingProcesses = true;
    try {
      for (const driver of (this.opts.drivers ?? PROCESS_DRIVERS).values()) await this.checkProcess(driver);
    } finally {
      this.checkingProcesses = false;
    }
  }

  private async checkProcess(driver: ProcessDriver): Promise<void> {
    const { kind } = driver;
    try {
      const layout = processLayout(this.opts.runDir, kind);
      const pidText = await this.opts.host.readFile(layout.pid);
      if (pidText === undefined) return;
      const now = this.opts.clock.now();
      const b = this.backoff.get(kind) ?? { restarts: 0, lastRestartAt: -Infinity, nextRestartAt: -Infinity };
      this.backoff.set(kind, b);
      if ((await findProcess(this.opts.host, driver, layout)) !== undefined) {
        if (b.restarts > 0 && now - b.lastRestartAt >= PROCESS_STABLE_MS) b.restarts = 0;
        return;
      }
      if (now < b.nextRestartAt) return; // backing off; the warning below said until when
      b.restarts += 1;
      const backoffMs = Math.min(PROCESS_BACKOFF_MAX_MS, 1000 * 2 ** (b.restarts - 1));
      b.lastRestartAt = now;
      b.nextRestartAt = now + backoffMs;
      this.opts.logger.warn(`${kind} is not running; restarting it`, {
        pidFile: layout.pid,
        restarts: b.restarts,
        ...(b.restarts > 1 ? { nextRestartInMs: backoffMs, hint: `${kind} keeps dying; see ${layout.log}` } : {}),
      });
      this.request(kind);
    } catch {
      // supervision is best effort; the periodic sync checks again
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
        ...(this.opts.startCheckMs !== undefined ? { startCheckMs: this.opts.startCheckMs } : {}),
        ...(this.opts.drivers !== undefined ? { drivers: this.opts.drivers } : {}),
        ...(this.opts.configDriveDir !== undefined ? { configDriveDir: this.opts.configDriveDir } : {}),
      },
      { trigger, full },
    );
    this.lastOutcome = outcome;
    // Rendered: the mode is known (a refused or unreadable document leaves the watcher as it was).
    if (outcome.desired !== undefined) this.ports.enable(outcome.desired.routed !== undefined);
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
