/** Text rendering of the convergence view for `edgenet status`. */
import type { LeadershipView } from '../contracts.ts';
import type { StatusView } from './status-view.ts';

function cell(v: string | number | undefined): string {
  return v === undefined || v === '' ? '-' : String(v);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/** netd's liveness: `ok 1.2s` (heartbeat age), `DEAD 40s`, `-` when the NC does not report it. */
function netdCell(n: StatusView['clusters'][number]['nodes'][number]): string {
  const age = n.netdHeartbeatAgeSeconds !== undefined ? ` ${n.netdHeartbeatAgeSeconds}s` : '';
  switch (n.netd) {
    case 'ok':
      return `ok${age}`;
    case 'unknown':
    case undefined:
      return '-';
    case 'flushed':
      return `flushed${age}`;
    default:
      return `${n.netd.replace(/^netd-/, '').toUpperCase()}${age}`;
  }
}

/**
 * `cloud controller: clc-a leads since <ISO> (term 3); followers: clc-b` —
 * followers are the announced CLCs other than the leader (clc_members).
 */
/** A member not seen for this long (3 announcements, ha/members.ts) is shown as such: it may be down. */
const MEMBER_STALE_MS = 6000;

/** `now` (ms): members not seen for MEMBER_STALE_MS are marked "not seen for N s" (omitted: no marks). */
export function formatLeadership(clc: LeadershipView, now?: number): string {
  const leader = clc.leader;
  const stale = (seenAt: number) => (now !== undefined && now - seenAt > MEMBER_STALE_MS ? ` (not seen for ${Math.round((now - seenAt) / 1000)} s)` : '');
  const followers = clc.members.filter((m) => m.id !== leader?.clcId).map((m) => `${m.id}${stale(m.seenAt)}`);
  const head = leader ? `cloud controller: ${leader.clcId} leads since ${new Date(leader.since).toISOString()} (term ${leader.term})` : 'cloud controller: no CLC leads yet';
  const answered = clc.role === 'follower' ? `; answered by follower ${clc.id}` : '';
  return `${head}; followers: ${followers.length > 0 ? followers.join(', ') : 'none'}${answered}`;
}

/** `now`: for the members' "not seen for" marks (formatLeadership). */
export function formatStatus(view: StatusView, now?: number): string {
  const out: string[] = [];
  if (view.clc) out.push(formatLeadership(view.clc, now));
  const cur = view.current;
  out.push(cur ? `current document: sequence ${cur.sequence}, version ${cur.version}, ${cur.bytes} bytes, built ${cur.builtAt}` : 'current document: none built yet');
  out.push(view.converged ? 'all nodes converged' : 'NOT converged');
  for (const c of view.clusters) {
    out.push('');
    const cc = c.deliveredSequence !== undefined ? `delivered seq ${c.deliveredSequence}` : 'nothing delivered';
    const err = c.lastError ? `  last error: ${c.lastError}` : c.statusError ? `  status error: ${c.statusError}` : '';
    out.push(`cluster ${c.name}  (cc ${c.ccUrl}, ${cc}${c.failures ? `, ${c.failures} failures` : ''})${err}`);
    // NETD (its liveness) only when some node controller reports it (older NCs do not).
    const showNetd = c.nodes.some((n) => n.netd !== undefined && n.netd !== 'unknown');
    const rows = [['NODE', 'DELIVERED', 'APPLIED', 'LAG', 'RESULT', ...(showNetd ? ['NETD'] : []), 'STATE', 'LAST ERROR']];
    for (const n of c.nodes) {
      rows.push([
        n.name,
        `${cell(n.deliveredSequence)}/${cell(n.deliveredVersion)}`,
        `${cell(n.appliedSequence)}/${cell(n.appliedVersion)}`,
        n.converged ? '0' : `${n.lagSequences} seq, ${n.lagSeconds}s`,
        n.result,
        ...(showNetd ? [netdCell(n)] : []),
        n.converged ? 'converged' : n.netd !== 'ok' && n.netd !== 'unknown' && n.netd !== undefined ? n.netd.toUpperCase() : 'LAGGING',
        cell(n.lastError),
      ]);
    }
    out.push(rows.length > 1 ? table(rows) : '  (no nodes)');
    for (const n of c.nodes) if (n.hint) out.push(`  ! ${n.hint}`);
  }
  return out.join('\n');
}
