/**
 * The convergence view served at `GET /v1/status` and printed by
 * `edgenet status`: per cluster, what its CC acknowledged; per node, what its
 * NC holds (delivered) and what netd applied, with the lag behind the current
 * document. Pure: built from the broadcaster's records and the clock time.
 *
 * Lag: `lagSequences` = current sequence − applied sequence (0 when the applied
 * version is the current one); `lagSeconds` = time since the oldest document
 * the node has not applied was built. A node whose NC or CC does not answer
 * keeps its last known applied values, so it shows as lagging once the cloud
 * moves on. Only registered nodes are shown: a CC's report of a node that was
 * deregistered (its NC still answers, or the report is an old one) is left
 * out, so it neither lingers as LAGGING nor keeps `converged` false.
 *
 * `clc` (issue 16): which CLC leads, since when, in which term, and the CLCs
 * that run; the CLC that answered puts its own view there. Only the leader
 * has the convergence part: a follower answers with the leader's (proxied,
 * broadcast/plugin.ts) and its own `clc`.
 */
import type { NodeReport } from '../../shared/soap/messages.ts';
import type { LeadershipView } from '../contracts.ts';
import type { SenderView } from './cluster-sender.ts';
import { netdBlocksConvergence, netdHealth, type NetdHealthView } from './netd-health.ts';

export interface NodeStatusView extends NetdHealthView {
  readonly name: string;
  readonly url?: string;
  readonly deliveredVersion?: string;
  readonly deliveredSequence?: number;
  readonly deliveredAt?: string;
  readonly appliedVersion?: string;
  readonly appliedSequence?: number;
  readonly appliedAt?: string;
  readonly result: string;
  readonly lastError?: string;
  readonly polledAt?: string;
  readonly converged: boolean;
  readonly lagSequences: number;
  readonly lagSeconds: number;
}

export interface ClusterStatusView {
  readonly name: string;
  readonly ccUrl: string;
  readonly deliveredVersion?: string;
  readonly deliveredSequence?: number;
  readonly deliveredAt?: string;
  readonly sending?: number;
  readonly queued?: number;
  readonly failures: number;
  readonly lastError?: string;
  readonly statusAt?: string;
  readonly statusError?: string;
  readonly nodes: readonly NodeStatusView[];
}

export interface StatusView {
  readonly current?: { version: string; sequence: number; builtAt: string; bytes: number };
  readonly converged: boolean;
  readonly clusters: readonly ClusterStatusView[];
  /** Leadership as seen by the CLC that answered (absent from CLCs before issue 16). */
  readonly clc?: LeadershipView;
}

export interface ClusterRecord {
  readonly sender: SenderView;
  /** Nodes the CLC knows for this cluster (registration). */
  readonly nodes: readonly { name: string; url: string }[];
  readonly reports: ReadonlyMap<string, NodeReport>;
  readonly statusAt?: number;
  readonly statusError?: string;
  /** The error's code: CLC_CERTIFICATE_MISSING blames the CLC itself, anything else the CC. */
  readonly statusErrorCode?: string;
}

/**
 * A node's `result` when the CLC could not load its own client certificate
 * (error code CLC_CERTIFICATE_MISSING): no CC was even dialled.
 */
const CLC_CERTIFICATE_MISSING_RESULT = 'clc-certificate-missing';

export function statusView(input: {
  now: number;
  current?: { version: string; sequence: number; builtAt: number; bytes: number };
  /** sequence → build time of recent documents. */
  history: ReadonlyMap<number, number>;
  clusters: readonly ClusterRecord[];
}): StatusView {
  const { now, current } = input;
  const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
  const lagSince = (appliedSequence: number | undefined): number => {
    let oldest = current?.builtAt ?? now;
    for (const [seq, at] of input.history) if ((appliedSequence === undefined || seq > appliedSequence) && at < oldest) oldest = at;
    return Math.max(0, (now - oldest) / 1000);
  };
  const clusters = input.clusters.map((c): ClusterStatusView => {
    const names = [...new Set(c.nodes.map((n) => n.name))].sort();
    const urls = new Map(c.nodes.map((n) => [n.name, n.url]));
    const nodes = names.map((name): NodeStatusView => {
      const r = c.reports.get(name);
      const ccDown = c.statusError !== undefined;
      const clcCert = c.statusErrorCode === 'CLC_CERTIFICATE_MISSING';
      // A dead, hung or flushed netd is not converged, whatever it applied (netd-health.ts).
      const health = netdHealth(name, ccDown ? undefined : r);
      // What cannot be asked cannot be claimed: a CC or NC that does not answer
      // leaves the last report stale, so the node does not count as converged.
      const reachable = !ccDown && r?.result !== 'unreachable';
      const converged = reachable && current !== undefined && r?.appliedVersion === current.version && !netdBlocksConvergence(health);
      const lagSequences = converged || !current ? 0 : Math.max(0, current.sequence - (r?.appliedSequence ?? 0));
      return {
        name,
        url: urls.get(name),
        deliveredVersion: r?.deliveredVersion,
        deliveredSequence: r?.deliveredSequence,
        deliveredAt: r?.deliveredAt,
        appliedVersion: r?.appliedVersion,
        appliedSequence: r?.appliedSequence,
        appliedAt: r?.appliedAt,
        result: ccDown ? (clcCert ? CLC_CERTIFICATE_MISSING_RESULT : 'cc-unreachable') : (r?.result ?? 'unknown'),
        lastError: ccDown ? (clcCert ? `cloud controller: ${c.statusError}` : `cluster controller: ${c.statusError}`) : r?.lastError,
        polledAt: r?.polledAt,
        ...health,
        converged,
        lagSequences,
        lagSeconds: converged || !current ? 0 : Math.round(lagSince(r?.appliedSequence) * 10) / 10,
      };
    });
    return {
      name: c.sender.name,
      ccUrl: c.sender.ccUrl,
      deliveredVersion: c.sender.delivered?.version,
      deliveredSequence: c.sender.delivered?.sequence,
      deliveredAt: iso(c.sender.delivered?.at),
      sending: c.sender.sending,
      queued: c.sender.queued,
      failures: c.sender.failures,
      lastError: c.sender.lastError,
      statusAt: iso(c.statusAt),
      statusError: c.statusError,
      nodes,
    };
  });
  return {
    current: current ? { version: current.version, sequence: current.sequence, builtAt: new Date(current.builtAt).toISOString(), bytes: current.bytes } : undefined,
    converged: current !== undefined && clusters.every((c) => c.nodes.every((n) => n.converged)),
    clusters,
  };
}
