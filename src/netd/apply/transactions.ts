/**
 * Restore transactions for one plan step, built with the shared writers
 * (src/netd/netfilter/) plus the hook lines only the applier knows about:
 * missing jumps from built-in chains are inserted at position 1, stale ones
 * are deleted by spec, both in the same transaction as the chain writes and
 * before any `-X`, so a failed restore leaves the table exactly as it was.
 */
import type { Hook, IpSet, SavedRule } from '../netfilter/index.ts';
import {
  ebtablesArgsLine, ebtablesRestoreText, ebtablesRuleLine, hookRule, ip6tablesRestoreText, ipsetRestoreText, iptablesArgsLine, iptablesRestoreText, iptablesRuleLine,
} from '../netfilter/index.ts';
import type { TableWrite } from '../plan/steps.ts';

/** The restore tool a transaction is for: iptables and ip6tables share the line syntax, ebtables has its own. */
type Flavor = 'iptables' | 'ip6tables' | 'ebtables';

/** `-A <builtin> …` → `-I <builtin> 1 …` or `-D <builtin> …`. */
function line(op: '-I' | '-D', builtin: string, text: string): string {
  const rest = text.slice(`-A ${builtin} `.length);
  return op === '-I' ? `-I ${builtin} 1 ${rest}` : `-D ${builtin} ${rest}`;
}

function hookLines(flavor: Flavor, write: TableWrite): string[] {
  const out: string[] = [];
  // Stale hooks are deleted by the spec the kernel listed (words, comment included).
  const savedLine = (builtin: string, r: SavedRule) => (flavor === 'ebtables' ? ebtablesArgsLine(builtin, r) : iptablesArgsLine(builtin, r));
  for (const h of write.removeHooks) out.push(line('-D', h.builtin, savedLine(h.builtin, h.rule)));
  // Inserting at 1 in reverse keeps the desired relative order of several hooks.
  const adds: Hook[] = [...write.addHooks].reverse();
  for (const h of adds) {
    const rule = hookRule(h);
    out.push(line('-I', h.builtin, flavor === 'ebtables' ? ebtablesRuleLine(h.builtin, rule) : iptablesRuleLine(h.builtin, rule)));
  }
  return out;
}

function splice(text: string, extra: readonly string[]): string {
  if (extra.length === 0) return text;
  const lines = text.split('\n');
  let at = lines.findIndex((l) => l.startsWith('-X '));
  if (at < 0) at = lines.lastIndexOf('COMMIT');
  lines.splice(at, 0, ...extra);
  return lines.join('\n');
}

export function tableTransaction(flavor: Flavor, write: TableWrite): string {
  const table = { chains: write.chains, hooks: [] };
  const opts = { chains: write.chains.map((c) => c.name), deleteChains: write.deleteChains };
  const body =
    flavor === 'iptables'
      ? iptablesRestoreText(write.table, table, opts)
      : flavor === 'ip6tables'
        ? ip6tablesRestoreText(write.table, table, opts)
        : ebtablesRestoreText(write.table, table, opts);
  return splice(body, hookLines(flavor, write));
}

export function ipsetFillTransaction(sets: readonly IpSet[]): string {
  return ipsetRestoreText(sets);
}

export function ipsetDestroyTransaction(names: readonly string[]): string {
  return ipsetRestoreText([], { destroy: names });
}

/** The input lines a restore tool complained about (its stderr names a line number), with one line of context. */
export function offendingLines(input: string, stderr: string): string[] {
  const m = /line:?\s*(\d+)/i.exec(stderr);
  if (!m) return [];
  const n = Number(m[1]);
  const lines = input.split('\n');
  const out: string[] = [];
  for (let i = Math.max(1, n - 1); i <= Math.min(lines.length, n + 1); i++) out.push(`${i === n ? '>' : ' '}${i}: ${lines[i - 1]}`);
  return out;
}
