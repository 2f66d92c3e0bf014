/**
 * The broadcaster inside the cloud controller: turns state changes into GNI
 * documents and delivers them to every cluster controller; polls the CCs for
 * per-node convergence and reports it to IPAM.
 *
 * Model:
 * - one BoundedFrequencyRunner: every StateChange calls `request()`; runs are
 *   at least `min_broadcast_interval` ms apart (coalescing bursts) and forced
 *   every `broadcast_interval` s (periodic re-broadcast heals lost messages
 *   and restarted components);
 * - a run takes a snapshot and builds the document. Runs requested by a
 *   change read the snapshot incrementally (only what committed changes
 *   touched, snapshot/snapshot-cache.ts) and the builder re-serializes only changed
 *   fragments; periodic runs and retries ask for a full read. Unchanged content (same
 *   version) reuses the last encoded document: same version, same sequence,
 *   no new sequence drawn. New content draws `nextSequence()`, stamps it with
 *   the database's `generation()` (an epoch a restore renews, docs/gni.md),
 *   encodes once, and tells IPAM `documentBuilt(sequence, snapshot)` — the
 *   snapshot this document was built from, never an older one a reusing
 *   periodic run took, so a release is claimed by the first document without it;
 * - the run hands the document to one ClusterSender per cluster and returns:
 *   it never waits for a CC, so a dead CC delays nobody;
 * - a StatusPoller per cluster asks its CC every `statusIntervalMs` (and soon
 *   after each delivery) for per-node delivered/applied versions and feeds
 *   `nodesApplied` whenever what nodes applied changes.
 *
 * Leadership (ha/): a Broadcaster lives for one term of this CLC's
 * leadership (broadcast/plugin.ts makes a fresh one on `true` and stops it
 * on `false`); its first run then reads a full snapshot. Once stopped nothing is
 * sent any more (a run in flight offers nothing after its awaits), and a
 * NOT_LEADER from nextSequence (a newer term began) stops it quietly.
 */
import type { Clock, TimerHandle } from '../../shared/clock.ts';
import type { Logger } from '../../shared/logger.ts';
import { BoundedFrequencyRunner, type RunContext } from '../../shared/runner.ts';
import { errorCode, errorMessage } from '../../shared/errors.ts';
import type { CloudSnapshot, NodeApplied } from '../contracts.ts';
import type { NodeReport, NodeTarget, StatusReply } from '../../shared/soap/messages.ts';
import { ClusterSender, type CcTransport, type EncodedDocument, type SenderSettings } from './cluster-sender.ts';
import { statusView, type StatusView, type ClusterRecord } from './status-view.ts';

export interface BroadcastSettings extends SenderSettings {
  readonly minIntervalMs: number;
  readonly periodMs: number;
  readonly statusIntervalMs: number;
}

export interface BuiltDocument {
  readonly version: string;
  /** The XML text with `sequence` (and `generation`) stamped on the root, as text or already as UTF-8 bytes. */
  encode(sequence: number, generation?: number): string | Uint8Array;
}

/** How a snapshot was read (incremental or full), for the build log. */
export interface SnapshotDescription {
  readonly kind: 'full' | 'incremental';
  readonly reason: string;
  /** A full read found changes nobody announced (see snapshot/snapshot-cache.ts). */
  readonly drift?: boolean;
}

export interface BroadcasterDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  /** `full`: re-read everything rather than only what changed (periodic runs and retries ask for it). */
  readonly snapshot: (options: { readonly full: boolean }) => Promise<CloudSnapshot>;
  readonly describeSnapshot?: (snapshot: CloudSnapshot) => SnapshotDescription | undefined;
  readonly build: (snapshot: CloudSnapshot) => BuiltDocument;
  readonly nextSequence: () => Promise<number>;
  /** The database's generation; absent: documents carry none (tests, benches). */
  readonly generation?: () => Promise<number>;
  readonly documentBuilt: (sequence: number, snapshot: CloudSnapshot) => Promise<void>;
  readonly nodesApplied: (applied: readonly NodeApplied[]) => Promise<void>;
  /** A newer term began (NOT_LEADER): told after the broadcaster stopped (the plugin resigns leadership). */
  readonly notLeader?: (reason: string) => void;
  readonly transport: CcTransport & { status(ccUrl: string, options: { timeoutMs: number }): Promise<StatusReply> };
  readonly settings: BroadcastSettings;
  readonly observe?: BroadcastObserver;
  /** The first run reads a full snapshot (a new term of leadership starts from the database, not from a cache). */
  readonly fullFirstRun?: boolean;
}

/** Metric hooks. */
export interface BroadcastObserver {
  built?(ms: number, doc: EncodedDocument, reused: boolean): void;
  sent?(cluster: string, ok: boolean, ms: number): void;
}

interface ClusterEntry {
  sender: ClusterSender;
  nodes: readonly NodeTarget[];
  reports: Map<string, NodeReport>;
  statusAt?: number;
  statusError?: string;
  /** Code of statusError (CLC_CERTIFICATE_MISSING names the CLC, not the CC, as the culprit). */
  statusErrorCode?: string;
  polling: boolean;
  pollTimer?: TimerHandle;
}

const HISTORY = 256;

/** Stamps `sequence` (and `generation`) on a built document and encodes it for the wire (UTF-8, then Base64). */
export function encodeBuilt(built: BuiltDocument, sequence: number, builtAt: number, generation?: number): EncodedDocument {
  const encoded = built.encode(sequence, generation);
  // Bytes are used as they are (no copy); text is encoded once.
  const xml = typeof encoded === 'string' ? Buffer.from(encoded, 'utf8') : Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  return { version: built.version, sequence, ...(generation === undefined ? {} : { generation }), base64: xml.toString('base64'), bytes: xml.length, builtAt };
}

export class Broadcaster {
  private runner: BoundedFrequencyRunner;
  private settings: BroadcastSettings;
  private current: EncodedDocument | undefined;
  private readonly history = new Map<number, number>();
  private readonly clusters = new Map<string, ClusterEntry>();
  private statusTimer: TimerHandle | undefined;
  private lastApplied = '';
  private stopped = true;
  private firstRun = true;

  constructor(private readonly deps: BroadcasterDeps) {
    this.settings = deps.settings;
    this.runner = this.newRunner();
  }

  start(): void {
    this.stopped = false;
    this.runner.start();
    this.scheduleStatus(this.settings.statusIntervalMs);
  }

  stop(): void {
    this.stopped = true;
    this.runner.stop();
    for (const c of this.clusters.values()) {
      c.sender.stop();
      if (c.pollTimer) this.deps.clock.clearTimeout(c.pollTimer);
    }
    if (this.statusTimer) this.deps.clock.clearTimeout(this.statusTimer);
  }

  /** A state change happened: broadcast soon (coalesced). */
  request(): void {
    this.runner.request();
  }

  /** New intervals (property change): the runner is replaced; senders read timeouts on each send. */
  updateSettings(settings: BroadcastSettings): void {
    const intervalsChanged = settings.minIntervalMs !== this.settings.minIntervalMs || settings.periodMs !== this.settings.periodMs;
    this.settings = settings;
    if (intervalsChanged && !this.stopped) {
      this.runner.stop();
      this.runner = this.newRunner();
      this.runner.start();
    }
  }

  /** Resolves when no build is running or requested and no cluster has a send in flight or queued (tests). */
  async idle(): Promise<void> {
    await this.runner.idle();
    await Promise.all([...this.clusters.values()].map((c) => c.sender.idle()));
  }

  get document(): EncodedDocument | undefined {
    return this.current;
  }

  view(): StatusView {
    const records: ClusterRecord[] = [...this.clusters.values()].map((c) => ({
      sender: c.sender.view(),
      nodes: c.nodes,
      reports: c.reports,
      statusAt: c.statusAt,
      statusError: c.statusError,
      statusErrorCode: c.statusErrorCode,
    }));
    return statusView({ now: this.deps.clock.now(), current: this.current, history: this.history, clusters: records });
  }

  private newRunner(): BoundedFrequencyRunner {
    return new BoundedFrequencyRunner({
      name: 'broadcast',
      clock: this.deps.clock,
      minIntervalMs: this.settings.minIntervalMs,
      maxIntervalMs: this.settings.periodMs,
      retryBaseMs: this.settings.retryBaseMs,
      retryMaxMs: this.settings.retryMaxMs,
      run: (ctx) => this.cycle(ctx),
      onError: (err, ctx) => {
        if (errorCode(err) === 'NOT_LEADER') {
          // Not a failure to retry: another CLC leads now and broadcasts.
          this.deps.logger.info('this CLC no longer leads (a newer term began); the broadcaster stops', { error: errorMessage(err) });
          this.stop();
          this.deps.notLeader?.(errorMessage(err));
          return;
        }
        this.deps.logger.error('building the network document failed; will retry', { error: errorMessage(err), failures: ctx.failures + 1 });
      },
    });
  }

  private async cycle(ctx: RunContext): Promise<void> {
    const tSnap = performance.now();
    // The periodic run (and a retry after a failure) re-reads everything: it heals whatever incremental reads could miss.
    const snapshot = await this.deps.snapshot({ full: ctx.reason !== 'request' || (this.firstRun && this.deps.fullFirstRun === true) });
    this.firstRun = false;
    if (this.stopped) return;
    const snapshotMs = Math.round(performance.now() - tSnap);
    const read = this.deps.describeSnapshot?.(snapshot);
    if (read?.drift === true) this.deps.logger.warn('the full snapshot found changes no event announced; incremental reads had missed them until now', { reason: ctx.reason });
    const started = this.deps.clock.now();
    const t0 = performance.now();
    const built = this.deps.build(snapshot);
    const buildMs = performance.now() - t0;
    let doc = this.current;
    const reused = doc !== undefined && doc.version === built.version;
    if (!reused) {
      const tStore = performance.now();
      const sequence = await this.deps.nextSequence();
      const generation = await this.deps.generation?.();
      const tEncode = performance.now();
      doc = encodeBuilt(built, sequence, started, generation);
      const encodeMs = performance.now() - tEncode;
      this.current = doc;
      this.history.set(sequence, started);
      if (this.history.size > HISTORY) this.history.delete(this.history.keys().next().value!);
      await this.deps.documentBuilt(sequence, snapshot);
      const storeMs = performance.now() - tStore - encodeMs;
      this.deps.logger.info('network document built', {
        version: doc.version,
        sequence,
        ...(generation === undefined ? {} : { generation }),
        bytes: doc.bytes,
        snapshotMs,
        ...(read === undefined ? {} : { snapshot: read.kind, snapshotReason: read.reason }),
        // ms = build + encode (CPU work of this process); storeMs = drawing the sequence + recording documentBuilt (store writes).
        ms: Math.round(buildMs + encodeMs),
        buildMs: Math.round(buildMs),
        encodeMs: Math.round(encodeMs),
        storeMs: Math.round(storeMs),
        reason: ctx.reason,
      });
    }
    this.deps.observe?.built?.(performance.now() - t0, doc!, reused);
    // Stopped while drawing the sequence (leadership lost): send nothing, start no sender.
    if (this.stopped) return;
    this.syncClusters(snapshot);
    const force = ctx.reason === 'periodic';
    for (const c of this.clusters.values()) c.sender.offer(doc!, c.nodes, force);
  }

  private syncClusters(snapshot: CloudSnapshot): void {
    const seen = new Set<string>();
    for (const cl of snapshot.clusters) {
      seen.add(cl.name);
      const nodes = cl.nodes.map((n) => ({ name: n.name, url: n.ncUrl }));
      const entry = this.clusters.get(cl.name);
      if (entry) {
        entry.sender.ccUrl = cl.ccUrl;
        entry.nodes = nodes;
        continue;
      }
      const sender = new ClusterSender(cl.name, cl.ccUrl, {
        clock: this.deps.clock,
        logger: this.deps.logger,
        transport: this.deps.transport,
        settings: () => this.settings,
        onResult: (cluster, ok, ms) => {
          this.deps.observe?.sent?.(cluster, ok, ms);
          if (ok) this.pollSoon(cluster);
        },
      });
      this.clusters.set(cl.name, { sender, nodes, reports: new Map(), polling: false });
    }
    for (const [name, entry] of this.clusters) {
      if (!seen.has(name)) {
        entry.sender.stop();
        if (entry.pollTimer) this.deps.clock.clearTimeout(entry.pollTimer);
        this.clusters.delete(name);
      }
    }
  }

  private scheduleStatus(ms: number): void {
    if (this.stopped) return;
    this.statusTimer = this.deps.clock.setTimeout(() => {
      for (const name of this.clusters.keys()) void this.pollCluster(name);
      this.scheduleStatus(this.settings.statusIntervalMs);
    }, ms);
  }

  /** A delivery just succeeded: ask that CC again shortly, as the NCs receive it. */
  private pollSoon(name: string): void {
    const entry = this.clusters.get(name);
    if (!entry || entry.pollTimer || this.stopped) return;
    entry.pollTimer = this.deps.clock.setTimeout(() => {
      entry.pollTimer = undefined;
      void this.pollCluster(name);
    }, Math.min(250, this.settings.statusIntervalMs));
  }

  private async pollCluster(name: string): Promise<void> {
    const entry = this.clusters.get(name);
    if (!entry || entry.polling) return;
    entry.polling = true;
    try {
      const reply = await this.deps.transport.status(entry.sender.ccUrl, { timeoutMs: Math.min(this.settings.timeoutMs, 5000) });
      entry.statusAt = this.deps.clock.now();
      entry.statusError = undefined;
      entry.statusErrorCode = undefined;
      for (const n of reply.nodes) entry.reports.set(n.name, n);
      await this.reportApplied();
    } catch (err) {
      entry.statusError = errorMessage(err);
      entry.statusErrorCode = errorCode(err);
    } finally {
      entry.polling = false;
    }
  }

  private async reportApplied(): Promise<void> {
    const applied: NodeApplied[] = [];
    for (const [cluster, entry] of this.clusters) {
      for (const n of entry.reports.values()) {
        if (n.appliedSequence === undefined && n.appliedVersion === undefined) continue;
        applied.push({ cluster, node: n.name, appliedSequence: n.appliedSequence, ...(n.appliedGeneration === undefined ? {} : { appliedGeneration: n.appliedGeneration }), appliedVersion: n.appliedVersion });
      }
    }
    const key = JSON.stringify(applied);
    if (key === this.lastApplied) return;
    this.lastApplied = key;
    try {
      await this.deps.nodesApplied(applied);
    } catch (err) {
      this.lastApplied = '';
      this.deps.logger.warn('reporting applied versions failed', { error: errorMessage(err) });
    }
  }
}
