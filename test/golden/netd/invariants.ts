/**
 * Structural invariants every rendered DesiredState must satisfy (style.md 3):
 * every jump target exists, every chain we declare is used (jumped to or
 * hooked), every name carries the prefix, name lengths fit the kernel limits,
 * every set a rule names is rendered, every rule says why it exists.
 * Returns the list of violations (empty = fine).
 */
import { EBTABLES_CHAIN_MAX, IPSET_NAME_MAX, IPTABLES_CHAIN_MAX } from '../../../src/netd/names.ts';
import type { DesiredState, NetfilterTable } from '../../../src/netd/render/types.ts';

const TERMINAL_TARGETS = new Set(['ACCEPT', 'DROP', 'RETURN', 'REJECT', 'MARK', 'DNAT', 'SNAT', 'MASQUERADE', 'LOG', 'CONTINUE', 'arpreply']);
const HOOKS: Record<string, readonly string[]> = {
  'iptables filter': ['INPUT', 'FORWARD', 'OUTPUT'],
  'iptables nat': ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  'ebtables filter': ['INPUT', 'FORWARD', 'OUTPUT'],
  'ebtables nat': ['PREROUTING', 'OUTPUT', 'POSTROUTING'],
};

function checkTable(label: string, t: NetfilterTable, opts: { prefix: string; maxName: number; sets: Set<string> }): string[] {
  const problems: string[] = [];
  const declared = new Set<string>();
  for (const c of t.chains) {
    if (declared.has(c.name)) problems.push(`${label}: chain ${c.name} declared twice`);
    declared.add(c.name);
    if (!c.name.startsWith(`${opts.prefix}-`)) problems.push(`${label}: chain ${c.name} lacks the prefix ${opts.prefix}-`);
    if (c.name.length > opts.maxName) problems.push(`${label}: chain ${c.name} is ${c.name.length} > ${opts.maxName} characters`);
  }
  const used = new Set<string>();
  for (const h of t.hooks) {
    used.add(h.target);
    if (!declared.has(h.target)) problems.push(`${label}: hook ${h.builtin} → ${h.target} targets an undeclared chain`);
    if (!(HOOKS[label] ?? []).includes(h.builtin)) problems.push(`${label}: hook from ${h.builtin}, not a built-in chain of this table`);
    if (h.comment === '') problems.push(`${label}: hook ${h.builtin} has no comment`);
  }
  for (const c of t.chains) {
    c.rules.forEach((r, i) => {
      const where = `${label}: ${c.name}[${i}]`;
      if (r.comment.trim() === '') problems.push(`${where} has no comment`);
      const j = r.args.lastIndexOf('-j');
      if (j < 0 || j + 1 >= r.args.length) { problems.push(`${where} has no target`); return; }
      const target = r.args[j + 1] as string;
      if (!TERMINAL_TARGETS.has(target)) {
        used.add(target);
        if (!declared.has(target)) problems.push(`${where} jumps to ${target}, which is not declared`);
      }
      r.args.forEach((a, k) => {
        if (a === '--match-set') {
          const set = r.args[k + 1] ?? '';
          if (!opts.sets.has(set)) problems.push(`${where} matches set ${set}, which is not rendered`);
        }
      });
    });
  }
  for (const name of declared) if (!used.has(name)) problems.push(`${label}: chain ${name} is declared but never jumped to or hooked`);
  return problems;
}

export function checkInvariants(state: DesiredState, prefix: string): string[] {
  const problems: string[] = [];
  const sets = new Set<string>();
  for (const s of state.ipsets) {
    if (sets.has(s.name)) problems.push(`ipset ${s.name} rendered twice`);
    sets.add(s.name);
    if (!s.name.startsWith(`${prefix}-`)) problems.push(`ipset ${s.name} lacks the prefix ${prefix}-`);
    if (s.name.length > IPSET_NAME_MAX) problems.push(`ipset ${s.name} is ${s.name.length} > ${IPSET_NAME_MAX} characters`);
    // The applier refills through `<name>-T`, which must fit too.
    if (s.name.length + 2 > IPSET_NAME_MAX) problems.push(`ipset ${s.name}: temporary name would exceed ${IPSET_NAME_MAX}`);
    const sorted = [...s.members];
    if (new Set(sorted).size !== sorted.length) problems.push(`ipset ${s.name} has duplicate members`);
  }
  problems.push(...checkTable('iptables filter', state.iptables.filter, { prefix, maxName: IPTABLES_CHAIN_MAX, sets }));
  problems.push(...checkTable('iptables nat', state.iptables.nat, { prefix, maxName: IPTABLES_CHAIN_MAX, sets }));
  problems.push(...checkTable('ebtables nat', state.ebtables.nat, { prefix, maxName: EBTABLES_CHAIN_MAX, sets }));
  if (state.ebtables.filter.chains.length > 0 || state.ebtables.filter.hooks.length > 0) {
    problems.push(...checkTable('ebtables filter', state.ebtables.filter, { prefix, maxName: EBTABLES_CHAIN_MAX, sets }));
  }
  const kinds = state.processes.map((p) => p.kind);
  if (kinds.join() !== [...new Set(kinds)].sort().join()) problems.push(`processes are not one per kind, sorted: ${kinds.join(' ')}`);
  const dhcpd = state.processes.find((p) => p.kind === 'dhcpd');
  const conf = dhcpd?.files.find((f) => f.name === 'dhcpd.conf')?.content;
  if (dhcpd === undefined || conf === undefined) problems.push('no dhcpd entry with its dhcpd.conf');
  else {
    const hostEntries = (conf.match(/^host /gm) ?? []).length;
    if (hostEntries !== state.instances.length) problems.push(`dhcpd.conf has ${hostEntries} host entries for ${state.instances.length} instances`);
    if (dhcpd.run !== state.instances.length > 0) problems.push(`dhcpd run=${dhcpd.run} with ${state.instances.length} instances`);
  }
  return problems;
}
