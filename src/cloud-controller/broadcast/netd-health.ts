/**
 * netd's own health in the status view (pure): the liveness its node
 * controller reported (heartbeat, shared/netd-status.ts) and a flushed host,
 * turned into what `edgenet status` shows per node and what the operator
 * should do. A node whose netd is not running, is hung or was flushed is not
 * converged, whatever it applied before: its rules may be gone or no longer
 * follow the cloud.
 */
import type { NodeReport } from '../../shared/soap/messages.ts';

export type NetdHealth = 'ok' | 'netd-dead' | 'netd-stale' | 'netd-stopped' | 'netd-never-started' | 'flushed' | 'unknown';

export interface NetdHealthView {
  readonly netd: NetdHealth;
  /** Seconds since netd's last heartbeat, as its NC measured it. */
  readonly netdHeartbeatAgeSeconds?: number;
  readonly netdPid?: number;
  /** What to do about it (undefined when healthy). */
  readonly hint?: string;
}

export function netdHealth(node: string, r: NodeReport | undefined): NetdHealthView {
  const age = r?.netdHeartbeatAgeMs !== undefined ? Math.round(r.netdHeartbeatAgeMs / 100) / 10 : undefined;
  const base = { ...(age !== undefined ? { netdHeartbeatAgeSeconds: age } : {}), ...(r?.netdPid !== undefined ? { netdPid: r.netdPid } : {}) };
  const start = `systemctl start edgenet-netd`;
  switch (r?.netdLiveness) {
    case 'dead':
      return { ...base, netd: 'netd-dead', hint: `netd not running on node ${node}${age !== undefined ? ` (last heartbeat ${age}s ago)` : ''}: ${start}` };
    case 'stopped':
      return { ...base, netd: 'netd-stopped', hint: `netd was stopped on node ${node}${r?.result === 'flushed' ? ' and the node flushed (no edgenet rules)' : ''}: ${start}` };
    case 'never-started':
      return { ...base, netd: 'netd-never-started', hint: `netd has never run on node ${node}: ${start}` };
    case 'stale':
      return { ...base, netd: 'netd-stale', hint: `netd on node ${node} has not written its heartbeat for ${age ?? '?'}s (hung, or its run directory is not writable): see journalctl -u edgenet-netd, then systemctl restart edgenet-netd` };
    default:
      break;
  }
  if (r?.result === 'flushed') return { ...base, netd: 'flushed', hint: `node ${node} was flushed (edgenet netd flush): systemctl restart edgenet-netd to apply the document again` };
  return { ...base, netd: r?.netdLiveness === 'running' ? 'ok' : 'unknown' };
}

/** True when netd's health keeps the node from counting as converged. */
export function netdBlocksConvergence(h: NetdHealthView): boolean {
  return h.netd !== 'ok' && h.netd !== 'unknown';
}
