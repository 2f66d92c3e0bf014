/**
 * Delivery of documents to one cluster controller.
 *
 * Model: at most one broadcast in flight; at most one queued (`pending`) — a
 * newer offer replaces the queued one (supersede), and the in-flight send is
 * left to finish or time out (bounded by `broadcast_timeout`). A failed send
 * is retried with capped exponential back-off (the latest document, not
 * necessarily the one that failed). Each cluster has its own sender, so a
 * dead CC only ever delays itself. Clock injected; transport injected.
 */
import type { Clock, TimerHandle } from '../../shared/clock.ts';
import type { Logger } from '../../shared/logger.ts';
import { errorCode, errorMessage } from '../../shared/errors.ts';
import type { BroadcastReply, NodeTarget } from '../../shared/soap/messages.ts';

export interface EncodedDocument {
  readonly version: string;
  readonly sequence: number;
  /** The CLC database's generation stamped with the sequence (db/generation.ts). */
  readonly generation?: number;
  /** The GNI XML, Base64. */
  readonly base64: string;
  /** Decoded size. */
  readonly bytes: number;
  /** Clock time the document was built. */
  readonly builtAt: number;
}

export interface CcTransport {
  broadcast(cluster: { name: string; ccUrl: string }, doc: EncodedDocument, nodes: readonly NodeTarget[], options: { timeoutMs: number; signal: AbortSignal }): Promise<BroadcastReply>;
}

export interface SenderSettings {
  readonly timeoutMs: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
}

export interface SenderDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly transport: CcTransport;
  readonly settings: () => SenderSettings;
  readonly onResult?: (cluster: string, ok: boolean, ms: number, doc: EncodedDocument) => void;
}

export interface SenderView {
  readonly name: string;
  readonly ccUrl: string;
  readonly delivered?: { version: string; sequence: number; at: number };
  readonly sending?: number;
  readonly queued?: number;
  readonly failures: number;
  readonly lastError?: string;
  readonly lastErrorCode?: string;
  readonly lastAttemptAt?: number;
  readonly nextAttemptAt?: number;
}

function nodesKey(nodes: readonly NodeTarget[]): string {
  return nodes.map((n) => `${n.name}=${n.url}`).join(' ');
}

export class ClusterSender {
  private inFlight: { doc: EncodedDocument; nodes: string; controller: AbortController } | undefined;
  private pending: { doc: EncodedDocument; nodes: readonly NodeTarget[] } | undefined;
  private delivered: { doc: EncodedDocument; nodes: string; at: number } | undefined;
  private failures = 0;
  private nextAttemptAt = 0;
  private lastError: string | undefined;
  private lastErrorCode: string | undefined;
  private lastAttemptAt: number | undefined;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly name: string,
    public ccUrl: string,
    private readonly deps: SenderDeps,
  ) {}

  /**
   * Offers a document. Skipped when it is already delivered (same sequence and
   * node list) unless `force` (the periodic re-broadcast), or already in flight.
   */
  offer(doc: EncodedDocument, nodes: readonly NodeTarget[], force: boolean): void {
    if (this.stopped) return;
    const key = nodesKey(nodes);
    if (this.inFlight && this.inFlight.doc.sequence === doc.sequence && this.inFlight.nodes === key) {
      this.pending = undefined; // what is in flight is the newest
      return;
    }
    if (!force && !this.inFlight && this.delivered && this.delivered.doc.sequence === doc.sequence && this.delivered.nodes === key) return;
    if (this.pending && this.pending.doc.sequence > doc.sequence) return; // never let an older offer replace a newer one
    this.pending = { doc, nodes };
    this.pump();
  }

  view(): SenderView {
    return {
      name: this.name,
      ccUrl: this.ccUrl,
      delivered: this.delivered ? { version: this.delivered.doc.version, sequence: this.delivered.doc.sequence, at: this.delivered.at } : undefined,
      sending: this.inFlight?.doc.sequence,
      queued: this.pending?.doc.sequence,
      failures: this.failures,
      lastError: this.lastError,
      lastErrorCode: this.lastErrorCode,
      lastAttemptAt: this.lastAttemptAt,
      nextAttemptAt: this.failures > 0 ? this.nextAttemptAt : undefined,
    };
  }

  get busy(): boolean {
    return this.inFlight !== undefined;
  }

  /** Resolves when nothing is in flight or queued (tests). */
  idle(): Promise<void> {
    if (!this.inFlight && !this.pending) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    this.pending = undefined;
    this.inFlight?.controller.abort();
    if (this.timer) this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.wake();
  }

  private pump(): void {
    if (this.stopped || this.inFlight || !this.pending) {
      if (!this.inFlight && !this.pending) this.wake();
      return;
    }
    const now = this.deps.clock.now();
    if (now < this.nextAttemptAt) {
      if (!this.timer) {
        this.timer = this.deps.clock.setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, this.nextAttemptAt - now);
      }
      return;
    }
    const { doc, nodes } = this.pending;
    this.pending = undefined;
    const controller = new AbortController();
    this.inFlight = { doc, nodes: nodesKey(nodes), controller };
    this.lastAttemptAt = now;
    const settings = this.deps.settings();
    this.deps.transport.broadcast({ name: this.name, ccUrl: this.ccUrl }, doc, nodes, { timeoutMs: settings.timeoutMs, signal: controller.signal }).then(
      () => {
        const at = this.deps.clock.now();
        this.delivered = { doc, nodes: nodesKey(nodes), at };
        this.failures = 0;
        this.nextAttemptAt = 0;
        this.lastError = undefined;
        this.lastErrorCode = undefined;
        this.deps.onResult?.(this.name, true, at - now, doc);
      },
      (err: unknown) => {
        if (this.stopped) return;
        const at = this.deps.clock.now();
        this.failures += 1;
        this.lastError = errorMessage(err);
        this.lastErrorCode = errorCode(err);
        const backoff = Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** (this.failures - 1));
        this.nextAttemptAt = at + backoff;
        if (!this.pending) this.pending = { doc, nodes }; // retry unless something newer is queued
        this.deps.logger.warn('broadcast to cluster controller failed; will retry', {
          cluster: this.name,
          url: this.ccUrl,
          sequence: doc.sequence,
          generation: doc.generation,
          failures: this.failures,
          retryInMs: backoff,
          code: this.lastErrorCode,
          error: this.lastError,
        });
        this.deps.onResult?.(this.name, false, at - now, doc);
      },
    ).finally(() => {
      this.inFlight = undefined;
      this.pump();
    });
  }

  private wake(): void {
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }
}
