/**
 * The planner: (DesiredState, ObservedState) → ordered steps. Pure: no file,
 * process or clock. An unchanged host yields an empty plan, so a sync with
 * nothing to do issues no write at all; one instance added yields only the
 * chains and sets it touches (plus the dispatch chains that list it).
 *
 * `full` (start, after a failure, periodic resync) plans exactly like any other
 * sync: netd keeps no cache to distrust (KEP-3453's reason for forced
 * rewrites), every sync reads the whole kernel, and chains are compared by the
 * content hash each rule carries. So the periodic resync of a converged node
 * writes nothing and repairs exactly what someone else changed.
 *
 * Ownership (style.md 6): only names for which `isOurs` holds are ever
 * written, flushed or deleted; a hook is ours when its target is; a /32 on
 * the public interface is ours when it lies in the document's public pool or
 * carries our address label; an IPv6 route is ours when it carries our route
 * protocol (EDGENET_ROUTE_PROTOCOL) — on the bridge planRoutes6's, on `vn_`
 * instance ports the routed planner's (routed.ts, which also owns our
 * neighbour entries and the ports' gateway addresses).
 *
 * ip6tables is planned exactly like iptables (same fingerprints, one
 * transaction per table, only changed chains); its desired tables are empty on
 * an IPv4-only cluster, which sweeps our chains and hooks from an earlier
 * dual-stack document and writes nothing when there are none.
 */
import type { Chain, DesiredState, Hook, IpSet, NetfilterTable } from '../render/types.ts';
import type { ObservedRoute6, ObservedRule, ObservedState, ObservedTable } from './observed.ts';
import type { NetfilterTableName, SetRefill, Step, TableWrite } from './steps.ts';
import { commentHash, ebtablesKey, observedHash, ruleTarget, tagChain, tagHook } from './fingerprint.ts';
import { hookRule } from '../netfilter/rule.ts';
import { ruleArgs } from '../netfilter/rule-args.ts';
import { planNodeNetwork } from './layout.ts';
import { planProcesses } from './processes.ts';
import { planConfigDrives } from './config-drives.ts';
import { isInstancePort, planRouted } from './routed.ts';
import { formatCidr6, parseCidr6, parseIp, parseRangeEntry, rangeContains, type IpRange } from '../../shared/ip.ts';
import { ipsetFamily } from '../netfilter/ipset.ts';
import { canonicalIpv6Member } from '../netfilter/ipv6-text.ts';

export interface PlanOptions {
  /** Rewrite every desired chain (start, after a failure, periodic resync). */
  readonly full: boolean;
  readonly isOurs: (name: string) => boolean;
  /** Label put on the public /32s we add (≤ 15 chars, `<if>:<x>`), when it fits. */
  readonly addressLabel?: string;
  /** EDGENET_BRIDGE_MAC ('' or absent: pin the MAC the bridge has). */
  readonly bridgeMac?: string;
}

export interface Plan {
  readonly steps: readonly Step[];
  /** Things the plan could not do and why (missing private interface, ...). */
  readonly notes: readonly string[];
}

type Flavor = 'iptables' | 'ebtables';

function sameChain(flavor: Flavor, desired: Chain, observed: readonly ObservedRule[]): boolean {
  if (desired.rules.length !== observed.length) return false;
  for (let i = 0; i < observed.length; i++) {
    const d = desired.rules[i]!;
    const o = observed[i]!;
    if (flavor === 'iptables') {
      const h = observedHash(o);
      if (h === undefined || h !== commentHash(d.comment)) return false;
    } else if (ebtablesKey(ruleArgs(d)) !== ebtablesKey(o.args)) {
      return false;
    }
  }
  return true;
}

function hookMatches(flavor: Flavor, hook: Hook, rule: ObservedRule): boolean {
  if (ruleTarget(rule.args) !== hook.target) return false;
  if (flavor === 'iptables') return observedHash(rule) === commentHash(hook.comment);
  return ebtablesKey(rule.args) === ebtablesKey(ruleArgs(hookRule(hook)));
}

/** Plans one table; undefined when nothing needs writing. */
export function planTable(
  flavor: Flavor,
  tableName: NetfilterTableName,
  desiredIn: NetfilterTable,
  observed: ObservedTable,
  options: { full: boolean; isOurs: (name: string) => boolean; builtins: ReadonlySet<string> },
): TableWrite | undefined {
  const chains = flavor === 'iptables' ? desiredIn.chains.map(tagChain) : desiredIn.chains;
  const hooks = flavor === 'iptables' ? desiredIn.hooks.map(tagHook) : desiredIn.hooks;
  const desiredNames = new Set(chains.map((c) => c.name));

  const write: Chain[] = [];
  for (const c of chains) {
    const have = observed.chains.get(c.name);
    // A full sync verifies every chain against the kernel like any other sync: a
    // converged node writes nothing (the hashes make the comparison exact).
    if (have === undefined || !sameChain(flavor, c, have)) write.push(c);
  }

  const deleteChains: string[] = [];
  for (const name of observed.chains.keys()) {
    if (!options.builtins.has(name) && options.isOurs(name) && !desiredNames.has(name)) deleteChains.push(name);
  }
  deleteChains.sort();

  const addHooks: Hook[] = [];
  const removeHooks: { builtin: string; rule: ObservedRule }[] = [];
  const claimed = new Set<ObservedRule>();
  for (const h of hooks) {
    const rules = observed.chains.get(h.builtin) ?? [];
    const found = rules.find((r) => !claimed.has(r) && hookMatches(flavor, h, r));
    if (found) claimed.add(found);
    else addHooks.push(h);
  }
  for (const [builtin, rules] of observed.chains) {
    if (!options.builtins.has(builtin)) continue;
    for (const r of rules) {
      const target = ruleTarget(r.args);
      if (target !== undefined && options.isOurs(target) && !claimed.has(r)) removeHooks.push({ builtin, rule: r });
    }
  }

  if (write.length === 0 && addHooks.length === 0 && removeHooks.length === 0 && deleteChains.length === 0) return undefined;
  return { table: tableName, chains: write, addHooks, removeHooks, deleteChains };
}

export const IPTABLES_BUILTINS: Readonly<Record<NetfilterTableName, ReadonlySet<string>>> = {
  filter: new Set(['INPUT', 'FORWARD', 'OUTPUT']),
  nat: new Set(['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING']),
};

/** ip6tables has the same built-in chains per table as iptables. */
export const IP6TABLES_BUILTINS: Readonly<Record<NetfilterTableName, ReadonlySet<string>>> = IPTABLES_BUILTINS;

export const EBTABLES_BUILTINS: Readonly<Record<NetfilterTableName, ReadonlySet<string>>> = {
  filter: new Set(['INPUT', 'FORWARD', 'OUTPUT']),
  nat: new Set(['PREROUTING', 'OUTPUT', 'POSTROUTING']),
};

/**
 * `a.b.c.d/32` and `a.b.c.d` are the same ipset member; an IPv6 member is
 * compared in the kernel's spelling (RFC 5952, host bits cleared, /128 bare),
 * so a renderer's `2001:db8:10::d20d:ff:fe00:b` and the listed
 * `2001:db8:10:0:d20d:ff:fe00:b` are the same member.
 */
function canonicalMember(m: string): string {
  if (!m.includes(':')) return m.endsWith('/32') ? m.slice(0, -3) : m;
  return canonicalIpv6Member(m) ?? m;
}

function planSets(desired: readonly IpSet[], observed: ObservedState, isOurs: (n: string) => boolean, notes: string[]) {
  const create: IpSet[] = [];
  const refill: SetRefill[] = [];
  const destroy: string[] = [];
  const wanted = new Set(desired.map((s) => s.name));
  for (const s of desired) {
    const have = observed.ipsets.get(s.name);
    if (!have) {
      create.push(s);
      continue;
    }
    if ((have.family ?? 'inet') !== ipsetFamily(s)) {
      // A set's family is fixed at creation and names are per family (names.ts),
      // so only someone else's set can be here: refilling it would fail on every member.
      notes.push(`ipset ${s.name} exists with family ${have.family ?? 'inet'}, wanted ${ipsetFamily(s)}: left alone (remove it, e.g. edgenet netd flush)`);
      continue;
    }
    const want = new Set(s.members.map(canonicalMember));
    const cur = new Set(have.members.map(canonicalMember));
    const added = [...want].filter((m) => !cur.has(m)).length;
    const removed = [...cur].filter((m) => !want.has(m)).length;
    if (added || removed) refill.push({ set: s, added, removed });
  }
  for (const name of observed.ipsets.keys()) if (isOurs(name) && !wanted.has(name)) destroy.push(name);
  destroy.sort();
  return { create, refill, destroy };
}

function inPool(address: string, pool: readonly IpRange[]): boolean {
  const ip = parseIp(address);
  return ip !== undefined && pool.some((r) => rangeContains(r, ip));
}

/** Addresses an `arpreply` rule of the kernel's ebtables nat table answers for (`--arp-ip-dst X ... -j arpreply`). */
function proxiedAddresses(nat: ObservedTable): Set<string> {
  const out = new Set<string>();
  for (const rules of nat.chains.values()) {
    for (const r of rules) {
      const at = r.args.indexOf('--arp-ip-dst');
      const j = r.args.indexOf('-j');
      if (at >= 0 && r.args[at - 1] !== '!' && j >= 0 && r.args[j + 1] === 'arpreply') out.add((r.args[at + 1] ?? '').replace(/\/32$/, ''));
    }
  }
  return out;
}

/** `2001:DB8:10:0::/64` → `2001:db8:10::/64` (what `ip` prints); text that does not parse stays as it is. */
function canonicalPrefix6(text: string): string {
  const c = parseCidr6(text);
  return c === undefined ? text : formatCidr6(c);
}

/**
 * The bridge's IPv6 on-link routes: each desired prefix that is not routed by
 * us on the bridge is replaced (the kernel swaps a route with the same key in
 * one step), each route of ours that is not desired (another prefix, or the
 * bridge was renamed) is deleted. Routes of any other protocol are not in
 * `observed` and are never touched.
 */
export function planRoutes6(prefixes: readonly string[], bridge: string, observedAll: readonly ObservedRoute6[]): Step[] {
  const steps: Step[] = [];
  const want = new Set(prefixes.map(canonicalPrefix6));
  // Routes of ours on instance ports are the routed planner's (routed.ts): left to it, whatever the mode.
  const observed = observedAll.filter((r) => !isInstancePort(r.dev));
  const have = new Set(observed.filter((r) => r.dev === bridge).map((r) => canonicalPrefix6(r.dst)));
  for (const r of observed) {
    if (r.dev !== bridge || !want.has(canonicalPrefix6(r.dst))) steps.push({ kind: 'route6-del', prefix: r.dst, dev: r.dev });
  }
  for (const p of [...want].sort()) if (!have.has(p)) steps.push({ kind: 'route6-replace', prefix: p, dev: bridge });
  return steps;
}

export function planSync(desired: DesiredState, observed: ObservedState, options: PlanOptions): Plan {
  const steps: Step[] = [];
  const notes: string[] = [];
  const { isOurs } = options;

  for (const s of desired.sysctls) {
    if (observed.sysctls.get(s.key) !== s.value) steps.push({ kind: 'sysctl-set', key: s.key, value: s.value });
  }

  // The node's network: bridge, its pinned MAC, the private interface as its port
  // (its addresses and routes moved onto the bridge). A refused layout is a note
  // here; the sync refuses it before rendering (src/netd/sync.ts). ROUTED has no bridge.
  const bridge = desired.bridge;
  if (bridge !== undefined) {
    const net = planNodeNetwork({
      bridge: bridge.name,
      privateInterface: bridge.members[0] ?? '',
      mac: options.bridgeMac ?? '',
      links: observed.links,
      addresses: (name) => observed.interfaceAddresses?.get(name) ?? [],
      privateRoutes: observed.privateRoutes ?? [],
    });
    steps.push(...net.steps);
    notes.push(...net.notes, ...(net.problem !== undefined ? [net.problem] : []));
    // Hairpin on the instance's bridge port lets it reach its own public IP (EUCA-13202).
    for (const inst of desired.instances) {
      const link = observed.links.get(inst.interface);
      if (link && link.master === bridge.name && link.hairpin === false) steps.push({ kind: 'link-hairpin', name: inst.interface });
    }
  }

  const sets = planSets(desired.ipsets, observed, isOurs, notes);
  if (sets.create.length || sets.refill.length) steps.push({ kind: 'ipset-write', create: sets.create, refill: sets.refill });

  // ip6tables goes the same planner as iptables (fingerprints, hooks, our-prefix sweep): another kernel table set, planned after it.
  const ipFamilies = [
    { kind: 'iptables-write', desired: desired.iptables, observed: observed.iptables, builtins: IPTABLES_BUILTINS },
    { kind: 'ip6tables-write', desired: desired.ip6tables, observed: observed.ip6tables, builtins: IP6TABLES_BUILTINS },
  ] as const;
  for (const family of ipFamilies) {
    for (const table of ['filter', 'nat'] as const) {
      const w = planTable('iptables', table, family.desired[table], family.observed[table], {
        full: options.full,
        isOurs,
        builtins: family.builtins[table],
      });
      if (w) steps.push({ kind: family.kind, write: w });
    }
  }
  for (const table of ['filter', 'nat'] as const) {
    const w = planTable('ebtables', table, desired.ebtables[table], observed.ebtables[table], {
      full: options.full,
      isOurs,
      builtins: EBTABLES_BUILTINS[table],
    });
    if (w) steps.push({ kind: 'ebtables-write', write: w });
  }
  if (sets.destroy.length) steps.push({ kind: 'ipset-destroy', names: sets.destroy });

  // Public /32s: add the missing ones, remove ours that are not wanted.
  const pubIf = desired.publicAddresses.interface;
  if (pubIf !== '') {
    const pool = desired.publicAddresses.pool.map(parseRangeEntry).filter((r): r is IpRange => r !== undefined);
    const want = new Set(desired.publicAddresses.addresses.map(canonicalMember));
    const have32 = observed.publicAddresses.filter((a) => a.prefixlen === 32);
    const haveSet = new Set(have32.map((a) => a.address));
    for (const a of observed.publicAddresses) {
      if (a.prefixlen !== 32 || want.has(a.address)) continue;
      const labelled = options.addressLabel !== undefined && a.label === options.addressLabel;
      if (labelled || inPool(a.address, pool)) steps.push({ kind: 'addr-del', interface: pubIf, address: a.address, prefixlen: a.prefixlen });
    }
    for (const a of [...want].sort()) {
      if (!haveSet.has(a)) steps.push({ kind: 'addr-add', interface: pubIf, address: a, ...(options.addressLabel ? { label: options.addressLabel } : {}) });
    }
  }

  // Without a bridge (ROUTED) no bridge route is wanted: ours left by an earlier EDGE state are swept.
  steps.push(...planRoutes6(bridge !== undefined ? desired.bridgeRoutes : [], bridge?.name ?? '', observed.routes6 ?? []));

  // ROUTED instance ports; with no `routed` (EDGE) only the sweep of what an earlier ROUTED state left on vn_ links.
  const routed = planRouted(desired.routed, observed);
  steps.push(...routed.steps);
  notes.push(...routed.notes);

  // NC_PROXY: announce an address once its proxy rule is written (Eucalyptus 4.4
  // update_host_arp: announce-arp when the arpreply rule was not there yet).
  if (desired.proxyArp !== undefined) {
    const answered = proxiedAddresses(observed.ebtables.nat);
    const fresh = desired.proxyArp.addresses.filter((a) => !answered.has(a));
    if (fresh.length > 0) steps.push({ kind: 'arp-announce', interface: desired.proxyArp.interface, addresses: fresh });
  }

  // Supervised processes last: dhcpd answers for an instance once its rules are in place.
  steps.push(...planProcesses(desired.processes, observed.processes));

  // ROUTED config drives: files on disk for a hypervisor, independent of the kernel state above.
  steps.push(...planConfigDrives(desired.configDrives, observed.configDrives));

  return { steps, notes };
}
