/** Text rendering of the convergence view for `edgenet status`. */
import type { StatusView } from './status-view.ts';

function cell(v: string | number | undefined): string {
  return v === undefined || v === '' ? '-' : String(v);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

export function formatStatus(view: StatusView): string {
  const out: string[] = [];
  const cur = view.current;
  out.push(cur ? `current document: sequence ${cur.sequence}, version ${cur.version}, ${cur.bytes} bytes, built ${cur.builtAt}` : 'current document: none built yet');
  out.push(view.converged ? 'all nodes converged' : 'NOT converged');
  for (const c of view.clusters) {
    out.push('');
    const cc = c.deliveredSequence !== undefined ? `delivered seq ${c.deliveredSequence}` : 'nothing delivered';
    const err = c.lastError ? `  last error: ${c.lastError}` : c.statusError ? `  status error: ${c.statusError}` : '';
    out.push(`cluster ${c.name}  (cc ${c.ccUrl}, ${cc}${c.failures ? `, ${c.failures} failures` : ''})${err}`);
    const rows = [['NODE', 'DELIVERED', 'APPLIED', 'LAG', 'RESULT', 'STATE', 'LAST ERROR']];
    for (const n of c.nodes) {
      rows.push([
        n.name,
        `${cell(n.deliveredSequence)}/${cell(n.deliveredVersion)}`,
        `${cell(n.appliedSequence)}/${cell(n.appliedVersion)}`,
        n.converged ? '0' : `${n.lagSequences} seq, ${n.lagSeconds}s`,
        n.result,
        n.converged ? 'converged' : 'LAGGING',
        cell(n.lastError),
      ]);
    }
    out.push(rows.length > 1 ? table(rows) : '  (no nodes)');
  }
  return out.join('\n');
}
