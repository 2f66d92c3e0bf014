/**
 * Structural invariants every rendered DesiredState must satisfy (style.md 3):
 * every jump target exists, every chain we declare is used (jumped to or
 * hooked), every name carries the prefix, name lengths fit the kernel limits,
 * every set a rule names is rendered with the table's family (an iptables
 * rule matches only `inet` sets, an ip6tables rule only `inet6` ones), every
 * set's members are of its family, every rule says why it exists, every rule
 * of a table has the table's family; ip6tables tables are held to the same
 * rules as iptables ones; bridge routes and instance IPv6 addresses are IPv6.
 * Reads the typed rules (target kind, set matches), never their argv words.
 * Returns the list of violations (empty = fine).
 */
import { EBTABLES_CHAIN_MAX, IPSET_NAME_MAX, IPTABLES_CHAIN_MAX } from '../../../src/netd/names.ts';
import type { IpSetFamily } from '../../../src/netd/netfilter/ipset.ts';
import type { Family, NetfilterTable } from '../../../src/netd/netfilter/rule.ts';
import { formatIpv6, linkLocalAddress, parseAddress, parseIpCidr } from '../../../src/shared/ip.ts';
import { jumpTarget, matchedSets } from '../../../src/netd/netfilter/rule.ts';
import type { DesiredState } from '../../../src/netd/render/types.ts';

const HOOKS: Record<string, readonly string[]> = {
  'iptables filter': ['INPUT', 'FORWARD', 'OUTPUT'],
  'iptables nat': ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  'ip6tables filter': ['INPUT', 'FORWARD', 'OUTPUT'],
  'ip6tables nat': ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  'ebtables filter': ['INPUT', 'FORWARD', 'OUTPUT'],
  'ebtables nat': ['PREROUTING', 'OUTPUT', 'POSTROUTING'],
};

/** The set family a table's rules may match: ipv4 → inet, ipv6 → inet6. */
const SET_FAMILY: Partial<Record<Family, IpSetFamily>> = { ipv4: 'inet', ipv6: 'inet6' };

export function checkTable(label: string, t: NetfilterTable, opts: { family: Family; prefix: string; maxName: number; sets: ReadonlyMap<string, IpSetFamily> }): string[] {
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
    if (h.family !== opts.family) problems.push(`${label}: hook ${h.builtin} is ${h.family}, the table is ${opts.family}`);
    if (!declared.has(h.target)) problems.push(`${label}: hook ${h.builtin} → ${h.target} targets an undeclared chain`);
    if (!(HOOKS[label] ?? []).includes(h.builtin)) problems.push(`${label}: hook from ${h.builtin}, not a built-in chain of this table`);
    if (h.comment === '') problems.push(`${label}: hook ${h.builtin} has no comment`);
  }
  for (const c of t.chains) {
    c.rules.forEach((r, i) => {
      const where = `${label}: ${c.name}[${i}]`;
      if (r.comment.trim() === '') problems.push(`${where} has no comment`);
      if (r.family !== opts.family) problems.push(`${where} is an ${r.family} rule in an ${opts.family} table`);
      const target = jumpTarget(r);
      if (target !== undefined) {
        used.add(target);
        if (!declared.has(target)) problems.push(`${where} jumps to ${target}, which is not declared`);
      }
      for (const set of matchedSets(r)) {
        const family = opts.sets.get(set);
        if (family === undefined) problems.push(`${where} matches set ${set}, which is not rendered`);
        else if (family !== SET_FAMILY[opts.family]) problems.push(`${where} matches ${family} set ${set} from an ${opts.family} table`);
      }
    });
  }
  for (const name of declared) if (!used.has(name)) problems.push(`${label}: chain ${name} is declared but never jumped to or hooked`);
  return problems;
}

export function checkInvariants(state: DesiredState, prefix: string): string[] {
  const problems: string[] = [];
  const sets = new Map<string, IpSetFamily>();
  for (const s of state.ipsets) {
    if (sets.has(s.name)) problems.push(`ipset ${s.name} rendered twice`);
    const family = s.family ?? 'inet';
    sets.set(s.name, family);
    const want = family === 'inet6' ? 'ipv6' : 'ipv4';
    for (const m of s.members) if (parseIpCidr(m, want) === undefined && parseAddress(m, want) === undefined) problems.push(`ipset ${s.name} (${family}) holds ${m}, not an ${want} member`);
    if (!s.name.startsWith(`${prefix}-`)) problems.push(`ipset ${s.name} lacks the prefix ${prefix}-`);
    if (s.name.length > IPSET_NAME_MAX) problems.push(`ipset ${s.name} is ${s.name.length} > ${IPSET_NAME_MAX} characters`);
    // The applier refills through `<name>-T`, which must fit too.
    if (s.name.length + 2 > IPSET_NAME_MAX) problems.push(`ipset ${s.name}: temporary name would exceed ${IPSET_NAME_MAX}`);
    const sorted = [...s.members];
    if (new Set(sorted).size !== sorted.length) problems.push(`ipset ${s.name} has duplicate members`);
  }
  const ip = { family: 'ipv4', prefix, maxName: IPTABLES_CHAIN_MAX, sets } as const;
  const bridge = { family: 'bridge', prefix, maxName: EBTABLES_CHAIN_MAX, sets } as const;
  problems.push(...checkTable('iptables filter', state.iptables.filter, ip));
  problems.push(...checkTable('iptables nat', state.iptables.nat, ip));
  const ip6 = { family: 'ipv6', prefix, maxName: IPTABLES_CHAIN_MAX, sets } as const;
  problems.push(...checkTable('ip6tables filter', state.ip6tables.filter, ip6));
  problems.push(...checkTable('ip6tables nat', state.ip6tables.nat, ip6));
  for (const r of state.bridgeRoutes) if (parseIpCidr(r, 'ipv6') === undefined) problems.push(`bridge route ${r} is not an IPv6 prefix`);
  for (const i of state.instances) if (i.ipv6 !== undefined && parseAddress(i.ipv6, 'ipv6') === undefined) problems.push(`instance ${i.id}: ipv6 ${i.ipv6} is not an IPv6 address`);
  problems.push(...checkTable('ebtables nat', state.ebtables.nat, bridge));
  if (state.ebtables.filter.chains.length > 0 || state.ebtables.filter.hooks.length > 0) {
    problems.push(...checkTable('ebtables filter', state.ebtables.filter, bridge));
  }
  const kinds = state.processes.map((p) => p.kind);
  if (kinds.join() !== [...new Set(kinds)].sort().join()) problems.push(`processes are not one per kind, sorted: ${kinds.join(' ')}`);
  const dhcpd = state.processes.find((p) => p.kind === 'dhcpd');
  const conf = dhcpd?.files.find((f) => f.name === 'dhcpd.conf')?.content;
  if (state.routed !== undefined) problems.push(...routedInvariants(state, prefix));
  else if (dhcpd === undefined || conf === undefined) problems.push('no dhcpd entry with its dhcpd.conf');
  else {
    const hostEntries = (conf.match(/^host /gm) ?? []).length;
    if (hostEntries !== state.instances.length) problems.push(`dhcpd.conf has ${hostEntries} host entries for ${state.instances.length} instances`);
    if (dhcpd.run !== state.instances.length > 0) problems.push(`dhcpd run=${dhcpd.run} with ${state.instances.length} instances`);
  }
  return problems;
}

/**
 * ROUTED (issue 17): no bridge, nothing bridged, no DHCP or router
 * advertisements; one port per local instance named after it, with host
 * prefixes (/32, /128) sorted IPv4 first; every port address is a source its
 * port may send from (<P>-SPOOF of its family) and nothing else is; one
 * config drive per local instance, sorted.
 */
function routedInvariants(state: DesiredState, prefix: string): string[] {
  const problems: string[] = [];
  const routed = state.routed!;
  if (state.bridge !== undefined) problems.push('a ROUTED state has a bridge');
  if (state.bridgeRoutes.length > 0) problems.push('a ROUTED state has bridge routes');
  if (state.ebtables.nat.chains.length + state.ebtables.filter.chains.length + state.ebtables.nat.hooks.length + state.ebtables.filter.hooks.length > 0) problems.push('a ROUTED state has ebtables rules');
  for (const kind of ['dhcpd', 'radvd']) {
    const p = state.processes.find((x) => x.kind === kind);
    if (p === undefined || p.run || p.files.length > 0) problems.push(`${kind} is not listed as must-not-run without files`);
  }
  const ids = state.instances.map((i) => i.id);
  const portIds = routed.ports.map((p) => p.instance);
  if (portIds.join() !== [...ids].sort().join()) problems.push(`ports ${portIds.join(' ')} are not the local instances ${ids.join(' ')}`);
  const names = routed.ports.map((p) => p.interface);
  if (names.join() !== [...names].sort().join()) problems.push('ports are not sorted by interface');
  const spoofSources = (t: NetfilterTable): Set<string> => {
    const out = new Set<string>();
    for (const c of t.chains) {
      if (c.name !== `${prefix}-SPOOF`) continue;
      for (const r of c.rules) {
        if (r.family === 'bridge' || r.target.kind !== 'return') continue;
        const iface = r.matches.find((m) => m.kind === 'iface');
        const addr = r.matches.find((m) => m.kind === 'addr');
        if (iface?.kind === 'iface' && addr?.kind === 'addr') out.add(`${iface.name} ${addr.cidr}`);
      }
    }
    return out;
  };
  const allowed = new Set([...spoofSources(state.iptables.filter), ...spoofSources(state.ip6tables.filter)]);
  const wanted = new Set<string>();
  for (const p of routed.ports) {
    if (p.interface !== `vn_${p.instance}`) problems.push(`port ${p.interface} is not vn_${p.instance}`);
    const v4 = p.addresses.filter((a) => !a.includes(':'));
    if (p.addresses.join() !== [...v4, ...p.addresses.filter((a) => a.includes(':'))].join()) problems.push(`port ${p.interface}: IPv4 prefixes are not first`);
    for (const a of p.addresses) {
      const host = a.includes(':') ? a.endsWith('/128') && parseIpCidr(a, 'ipv6') !== undefined : a.endsWith('/32') && parseIpCidr(a, 'ipv4') !== undefined;
      if (!host) problems.push(`port ${p.interface}: ${a} is not a host prefix`);
      wanted.add(`${p.interface} ${a}`);
      if (!allowed.has(`${p.interface} ${a}`)) problems.push(`port ${p.interface} may not send from its own address ${a}`);
    }
    // IPv6 on the link: the instance's own link-local (EUI-64 of its MAC) and :: (duplicate address detection), only on a port with IPv6.
    const ll = linkLocalAddress(p.instanceMac);
    if (p.addresses.some((a) => a.includes(':')) && ll !== undefined) {
      for (const a of [`${formatIpv6(ll)}/128`, '::/128']) {
        wanted.add(`${p.interface} ${a}`);
        if (!allowed.has(`${p.interface} ${a}`)) problems.push(`port ${p.interface} may not send from its link-local or DAD source ${a}`);
      }
    }
  }
  for (const a of allowed) if (!wanted.has(a)) problems.push(`anti-spoofing admits ${a}, which is no routed address of that port`);
  const drives = (state.configDrives ?? []).map((d) => d.instance);
  if (drives.join() !== [...ids].sort().join()) problems.push(`config drives ${drives.join(' ')} are not one per local instance`);
  return problems;
}
