/**
 * Fan-out of the cluster controller's document to its node controllers.
 *
 * Model: one NodeState per node controller; the current document; at most
 * `concurrency` sends in flight (Eucalyptus's NC_FANOUT, default 8 here).
 * Invariants:
 * - at most one send per node at a time; a newer document aborts the in-flight
 *   send of an older one to that node (supersede) and is sent next;
 * - a node is pending until it acknowledged the current document;
 * - a failed send is retried after a capped exponential back-off per node, so a
 *   dead node never holds a slot the live ones need for long;
 * - a status poll that finds a failing node answering again ends its back-off,
 *   and one that finds a node holding another document (its file was lost,
 *   say) makes it pending again: the CC heals nodes without the CLC.
 * The clock is injected (retry timers); sends and polls go through NcTransport.
 */
import type { Clock, TimerHandle } from '../shared/clock.ts';
import { netdLivenessFields } from '../shared/netd-status.ts';
import type { Logger } from '../shared/logger.ts';
import { EdgenetError, errorMessage } from '../shared/errors.ts';
import { isRefusalCode } from '../shared/freshness.ts';
import { type BroadcastReply, type NodeReport, type NodeTarget } from '../shared/soap/messages.ts';
import type { CcDocument } from './document-store.ts';

export interface NcTransport {
  /** Sends `doc` (its Base64 forwarded as received; the transport encodes the envelope once per document). */
  broadcast(node: NodeTarget, doc: CcDocument, signal: AbortSignal): Promise<BroadcastReply>;
}

export interface FanOutOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly transport: NcTransport;
  readonly concurrency: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly onSent?: (node: string, ok: boolean, ms: number) => void;
  /** Time from a new document to every node having acknowledged it. */
  readonly onComplete?: (ms: number, doc: CcDocument) => void;
}

interface NodeState {
  target: NodeTarget;
  /** Key of the document the node acknowledged, with what it said it holds. */
  delivered?: { key: string; version?: string; sequence?: number; at: string };
  pending: boolean;
  failures: number;
  nextAttemptAt: number;
  lastError?: string;
  inFlight?: { doc: CcDocument; controller: AbortController };
  report?: NodeReport;
  pollError?: string;
  polledAt?: string;
}

function keyOf(doc: CcDocument): string {
  return `${doc.version ?? ''}#${doc.sequence ?? ''}#${doc.receivedAt}`;
}

export class FanOut {
  private doc: CcDocument | undefined;
  private readonly nodes = new Map<string, NodeState>();
  private active = 0;
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  private stopped = false;
  private docSetAt = 0;
  private completeReported = true;

  constructor(private readonly o: FanOutOptions) {}

  /** Installs the current document and node list; starts sends to every node that lacks it. */
  setDocument(doc: CcDocument, targets: readonly NodeTarget[]): void {
    if (doc !== this.doc) {
      this.doc = doc;
      this.docSetAt = this.o.clock.now();
      this.completeReported = false;
    }
    const names = new Set(targets.map((t) => t.name));
    for (const [name, st] of this.nodes) {
      if (!names.has(name)) {
        st.inFlight?.controller.abort();
        this.nodes.delete(name);
      }
    }
    for (const t of targets) {
      const st = this.nodes.get(t.name);
      if (!st) {
        this.nodes.set(t.name, { target: t, pending: false, failures: 0, nextAttemptAt: 0 });
      } else if (st.target.url !== t.url) {
        st.inFlight?.controller.abort();
        Object.assign(st, { target: t, delivered: undefined, failures: 0, nextAttemptAt: 0 });
      }
    }
    for (const st of this.nodes.values()) this.markIfBehind(st);
    this.pump();
  }

  get targets(): NodeTarget[] {
    return [...this.nodes.values()].map((s) => s.target);
  }

  /** Result of a status poll of one node (`startedAt`: when the poll was sent). */
  onReport(name: string, startedAt: number, result: { ok: true; report: NodeReport } | { ok: false; error: string }): void {
    const st = this.nodes.get(name);
    if (!st) return;
    st.polledAt = new Date(this.o.clock.now()).toISOString();
    if (!result.ok) {
      st.pollError = result.error;
      return;
    }
    st.pollError = undefined;
    st.report = result.report;
    const doc = this.doc;
    if (st.failures > 0 && st.nextAttemptAt > this.o.clock.now()) st.nextAttemptAt = 0; // it answers again
    if (doc && !st.inFlight && st.delivered?.key === keyOf(doc) && doc.version !== undefined && result.report.deliveredVersion !== doc.version) {
      const deliveredAt = Date.parse(st.delivered.at);
      if (startedAt > deliveredAt) {
        this.o.logger.warn('node no longer holds the current document; re-sending', { node: name, holds: result.report.deliveredVersion, current: doc.version });
        st.delivered = undefined;
      }
    }
    this.markIfBehind(st);
    this.pump();
  }

  /** Per-node view for the status operation. */
  reports(): NodeReport[] {
    return [...this.nodes.values()].map((st) => {
      const r = st.report;
      const lastError = st.lastError ?? st.pollError ?? r?.lastError;
      return {
        name: st.target.name,
        url: st.target.url,
        deliveredVersion: r?.deliveredVersion ?? st.delivered?.version,
        deliveredSequence: r?.deliveredSequence ?? st.delivered?.sequence,
        deliveredAt: r?.deliveredAt ?? st.delivered?.at,
        result: st.pollError !== undefined ? 'unreachable' : (r?.result ?? 'unknown'),
        appliedVersion: r?.appliedVersion,
        appliedSequence: r?.appliedSequence,
        appliedAt: r?.appliedAt,
        statusAt: r?.statusAt,
        lastError,
        polledAt: st.polledAt,
        // netd's liveness as the NC last saw it; nothing when the NC itself does not answer.
        ...netdLivenessFields(st.pollError === undefined ? r : undefined),
      };
    });
  }

  /** Nodes still waiting for the current document. */
  get pendingCount(): number {
    let n = 0;
    for (const st of this.nodes.values()) if (st.pending || st.inFlight) n++;
    return n;
  }

  stop(): void {
    this.stopped = true;
    for (const st of this.nodes.values()) st.inFlight?.controller.abort();
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private markIfBehind(st: NodeState): void {
    const doc = this.doc;
    if (!doc) return;
    if (st.inFlight) {
      if (st.inFlight.doc !== doc) st.inFlight.controller.abort(); // superseded; re-marked when it settles
      return;
    }
    st.pending = st.delivered?.key !== keyOf(doc);
  }

  private pump(): void {
    if (this.stopped || !this.doc) return;
    const now = this.o.clock.now();
    let nextRetry = Infinity;
    for (const st of this.nodes.values()) {
      if (this.active >= this.o.concurrency) break;
      if (!st.pending || st.inFlight) continue;
      if (st.nextAttemptAt > now) {
        nextRetry = Math.min(nextRetry, st.nextAttemptAt);
        continue;
      }
      this.send(st);
    }
    if (nextRetry < Infinity) this.armTimer(nextRetry);
    this.checkComplete();
  }

  private armTimer(at: number): void {
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.pump();
    }, at - this.o.clock.now());
  }

  private send(st: NodeState): void {
    const doc = this.doc!;
    const controller = new AbortController();
    st.pending = false;
    st.inFlight = { doc, controller };
    this.active++;
    const started = this.o.clock.now();
    this.o.transport.broadcast(st.target, doc, controller.signal).then(
      (reply) => {
        st.delivered = {
          key: keyOf(doc),
          version: reply.version ?? doc.version,
          sequence: reply.sequence ?? doc.sequence,
          at: new Date(this.o.clock.now()).toISOString(),
        };
        st.failures = 0;
        st.lastError = undefined;
        this.o.onSent?.(st.target.name, true, this.o.clock.now() - started);
      },
      (err: unknown) => {
        if (controller.signal.aborted) return; // superseded or node removed: not a failure
        this.o.onSent?.(st.target.name, false, this.o.clock.now() - started);
        if (err instanceof EdgenetError && isRefusalCode(err.code)) {
          // The node holds a newer document than this CC: re-sending ours cannot help.
          st.delivered = { key: keyOf(doc), at: new Date(this.o.clock.now()).toISOString() };
          st.lastError = errorMessage(err);
          this.o.logger.warn('node refused our document as stale', { node: st.target.name, sequence: doc.sequence, generation: doc.generation, error: st.lastError });
          return;
        }
        st.failures += 1;
        st.lastError = errorMessage(err);
        const backoff = Math.min(this.o.retryMaxMs, this.o.retryBaseMs * 2 ** (st.failures - 1));
        st.nextAttemptAt = this.o.clock.now() + backoff;
        this.o.logger.warn('send to node failed; will retry', { node: st.target.name, url: st.target.url, failures: st.failures, retryInMs: backoff, error: st.lastError });
      },
    ).finally(() => {
      this.active--;
      st.inFlight = undefined;
      if (this.nodes.get(st.target.name) === st) this.markIfBehind(st);
      this.pump();
    });
  }

  private checkComplete(): void {
    if (this.completeReported || !this.doc) return;
    for (const st of this.nodes.values()) if (st.pending || st.inFlight || st.delivered?.key !== keyOf(this.doc)) return;
    this.completeReported = true;
    this.o.onComplete?.(this.o.clock.now() - this.docSetAt, this.doc);
  }
}
