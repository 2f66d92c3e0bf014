/**
 * Reads the live host into an ObservedState with the shared save parsers
 * (src/netd/netfilter/). Reading never changes anything.
 *
 * Every `ip` read is one process (`HostOps.hostReads`: links, addresses of
 * both families, our routes of both families, our neighbours); what a sync
 * does not need of it is simply not looked at.
 *
 * IPv6: a host whose kernel has no IPv6 (`HostOps.ipv6Available()` false,
 * e.g. booted with ipv6.disable=1) has no ip6tables tables and no IPv6 routes
 * to read, and `ip6tables-save` would fail there: the IPv6 side is then
 * observed as empty without running it (the `ip` read has no family option
 * and simply lists IPv4 there), so an IPv4-only document syncs exactly as
 * before IPv6 existed. A document that needs IPv6
 * on such a host is refused before observe (sync.ts, IPV6_UNAVAILABLE). The
 * probe runs once per sync: the caller passes its answer (`EarlyReads.ipv6`).
 */
import type { ObservedAddress, ObservedIpSet, ObservedLink, ObservedRoute, ObservedRoute6, ObservedRouted, ObservedRule, ObservedState, ObservedTable } from '../plan/observed.ts';
import { hasRoutedLeftovers, isInstancePort } from '../plan/routed.ts';
import { parseEbtablesSave, parseIpsetSave, parseIptablesSave, savedIpsetFamily } from '../netfilter/index.ts';
import { EDGENET_ROUTE_PROTOCOL } from '../plan/steps.ts';
import type { SavedTables } from '../netfilter/index.ts';
import type { HostOps, HostReads, ObservedInterfaces, TableName } from './host.ts';
import { observeProcesses } from './supervisor.ts';
import type { DriverRegistry } from './drivers.ts';
import type { SupervisedProcess } from '../render/types.ts';

/** Reads already started by the caller (overlapped with parsing and rendering). */
export interface EarlyReads {
  /** `HostOps.ipv6Available()`, probed once per sync; every IPv6 read below waits for it. */
  readonly ipv6?: Promise<boolean>;
  readonly netfilter?: Promise<ObservedNetfilter>;
  /** The one `ip` read (`HostOps.hostReads`): links, their addresses, our routes and neighbours. */
  readonly ip?: Promise<HostReads>;
  /** Routes through VNET_PRIVINTERFACE (when it is set and is not the bridge). */
  readonly privateRoutes?: Promise<ObservedRoute[]>;
  /** IPv6 routes of ours as the caller decided to see them (`observeRoutes6`); default: `ip`'s, none on a kernel without IPv6. */
  readonly routes6?: Promise<ObservedRoute6[]>;
}

export interface ObserveOptions {
  readonly early?: EarlyReads;
  readonly sysctlKeys: readonly string[];
  /** Public interface whose addresses matter ('' = none). */
  readonly publicInterface: string;
  /** netd's run directory, where the supervised processes keep their files. */
  readonly runDir: string;
  /** Supervised-process drivers (default PROCESS_DRIVERS): every kind is observed, so one no longer desired is stopped. */
  readonly drivers?: DriverRegistry;
  /** The desired processes: their files are read back to see what changed. */
  readonly processes?: readonly SupervisedProcess[];
  /** VNET_BRIDGE and VNET_PRIVINTERFACE: their addresses (and the latter's routes) are the node's network. */
  readonly bridge?: string;
  readonly privateInterface?: string;
  /**
   * Read the routed ports' side (ObservedState.routed): the desired state is
   * ROUTED, or the sync is full. Without it the side is read only when a
   * `vn_` link still carries an address of ours (routedReadNeeded).
   */
  readonly routed?: boolean;
}

/** Routes through the private interface, read only when they may have to move onto the bridge. */
export function readPrivateRoutes(host: HostOps, bridge: string, privateInterface: string): Promise<ObservedRoute[]> {
  return privateInterface === '' || privateInterface === bridge ? Promise.resolve([]) : host.routes(privateInterface);
}

function toTable(saved: SavedTables, table: TableName): ObservedTable {
  const t = saved.get(table);
  const chains = new Map<string, readonly ObservedRule[]>();
  if (t) for (const [name, c] of t.chains) chains.set(name, c.rules);
  return { chains };
}

export type ObservedNetfilter = Pick<ObservedState, 'iptables' | 'ip6tables' | 'ebtables' | 'ipsets'>;

/**
 * `ebtables: false` leaves ebtables unread (an event sync of a node whose last
 * applied state had no bridge: syncOnce skips `ebtables-save` then, and
 * withEbtables completes the read for a state that turns out to have one);
 * its tables then read as empty.
 */
export async function observeNetfilter(host: HostOps, ipv6?: boolean | Promise<boolean>, options: { readonly ebtables?: boolean } = {}): Promise<ObservedNetfilter> {
  // Four processes, not seven: each save lists every table (a table that does
  // not exist yet is simply absent, which reads as no chains). ip6tables is
  // read on an IPv4-only node too (its chains of ours are swept from there),
  // but not on a kernel without IPv6, where it has no tables and fails: empty.
  const ip6Save = Promise.resolve(ipv6 ?? host.ipv6Available()).then((available) => (available ? host.ip6tablesSave() : ''));
  const ebSave = options.ebtables === false ? Promise.resolve('') : host.ebtablesSave();
  const [ipAll, ip6All, ebAll, sets] = await Promise.all([host.iptablesSave(), ip6Save, ebSave, host.ipsetSave()]);
  const ip = parseIptablesSave(ipAll);
  const ip6 = parseIptablesSave(ip6All, 'ipv6');
  const eb = parseEbtablesSave(ebAll);
  const ipsets = new Map<string, ObservedIpSet>();
  for (const [name, s] of parseIpsetSave(sets)) ipsets.set(name, { type: s.type, family: savedIpsetFamily(s), members: s.members });
  return {
    iptables: { filter: toTable(ip, 'filter'), nat: toTable(ip, 'nat') },
    ip6tables: { filter: toTable(ip6, 'filter'), nat: toTable(ip6, 'nat') },
    ebtables: { filter: toTable(eb, 'filter'), nat: toTable(eb, 'nat') },
    ipsets,
  };
}

/**
 * `nf` read without its IPv6 side (an event sync of a node whose last applied
 * state had no IPv6: syncOnce skips `ip6tables-save` then) completed with it,
 * for a desired state that turns out to need IPv6.
 */
export async function withIp6tables(host: HostOps, nf: Promise<ObservedNetfilter>, ipv6: boolean | Promise<boolean>): Promise<ObservedNetfilter> {
  const [base, text] = await Promise.all([nf, Promise.resolve(ipv6).then((available) => (available ? host.ip6tablesSave() : ''))]);
  const ip6 = parseIptablesSave(text, 'ipv6');
  return { ...base, ip6tables: { filter: toTable(ip6, 'filter'), nat: toTable(ip6, 'nat') } };
}

/** `nf` read without ebtables (observeNetfilter's `ebtables: false`) completed with it, for a desired state that turns out to have a bridge. */
export async function withEbtables(host: HostOps, nf: Promise<ObservedNetfilter>): Promise<ObservedNetfilter> {
  const [base, text] = await Promise.all([nf, host.ebtablesSave()]);
  const eb = parseEbtablesSave(text);
  return { ...base, ebtables: { filter: toTable(eb, 'filter'), nat: toTable(eb, 'nat') } };
}

/** Addresses of both families on every `vn_` link, by link (the routed planner's view of the ports). */
function portAddresses(interfaces: ObservedInterfaces): Map<string, readonly ObservedAddress[]> {
  const out = new Map<string, readonly ObservedAddress[]>();
  for (const [name, list] of interfaces.addresses) if (isInstancePort(name)) out.set(name, [...list, ...(interfaces.addresses6.get(name) ?? [])]);
  for (const [name, list] of interfaces.addresses6) if (isInstancePort(name) && !out.has(name)) out.set(name, list);
  return out;
}

/**
 * Whether the routed side is observed: always for a ROUTED desired state or
 * a full sync; otherwise only when a `vn_` link still carries an address of
 * ours — the gateway addresses a ROUTED state put there and that the routed
 * planner removes last, so an EDGE node that never was ROUTED plans nothing
 * about routed ports, and one switched back from ROUTED sweeps its routes
 * and neighbours at the first sync. (The routes and neighbours themselves
 * come with every `ip` read, `HostOps.hostReads`: no process of their own.)
 */
function routedReadNeeded(wanted: boolean, interfaces: ObservedInterfaces): boolean {
  return wanted || hasRoutedLeftovers(portAddresses(interfaces), interfaces.links);
}

/** The routed ports' side of the host, from the `ip` read. */
export function observeRouted(reads: HostReads): ObservedRouted {
  return { addresses: portAddresses(reads.interfaces), routes4: reads.routes4, neighbours: reads.neighbours };
}

/** IPv6 routes carrying our route protocol (what an earlier sync put on the bridge), from the `ip` read; none when `ipv6` is false (no IPv6 on this kernel, or the caller leaves the IPv6 side unread). */
export async function observeRoutes6(reads: Promise<HostReads>, ipv6: boolean | Promise<boolean>): Promise<ObservedRoute6[]> {
  const [r, available] = await Promise.all([reads, ipv6]);
  return available ? r.routes6 : [];
}

export async function observeHost(host: HostOps, options: ObserveOptions): Promise<ObservedState> {
  const bridge = options.bridge ?? '';
  const priv = options.privateInterface ?? '';
  // At most one IPv6 probe for the whole observe (none when the caller's early reads made it).
  let probe = options.early?.ipv6;
  const ipv6 = (): Promise<boolean> => (probe ??= host.ipv6Available());
  // Read on every host, one process: the links, the public interface's, the bridge's, the private
  // interface's and the routed ports' addresses, and our routes and neighbours.
  const ip = options.early?.ip ?? host.hostReads(EDGENET_ROUTE_PROTOCOL);
  const [netfilter, reads, processes, privateRoutes, routes6] = await Promise.all([
    options.early?.netfilter ?? observeNetfilter(host, ipv6()),
    ip,
    observeProcesses(host, { runDir: options.runDir, ...(options.drivers ? { drivers: options.drivers } : {}), ...(options.processes ? { desired: options.processes } : {}) }),
    options.early?.privateRoutes ?? readPrivateRoutes(host, bridge, priv),
    options.early?.routes6 ?? observeRoutes6(ip, ipv6()),
  ]);
  const interfaces = reads.interfaces;
  const routed = routedReadNeeded(options.routed === true, interfaces) ? observeRouted(reads) : undefined;
  const interfaceAddresses = new Map<string, readonly ObservedAddress[]>();
  for (const name of [bridge, priv]) {
    const list = interfaces.addresses.get(name);
    if (name !== '' && list !== undefined) interfaceAddresses.set(name, list);
  }
  const sysctls = new Map<string, string | undefined>();
  for (const key of options.sysctlKeys) sysctls.set(key, await host.readSysctl(key));
  const linkMap = new Map<string, ObservedLink>();
  for (const l of interfaces.links) linkMap.set(l.name, l);
  return {
    ...netfilter,
    // IPv4 addresses, [] when the interface does not exist.
    publicAddresses: options.publicInterface === '' ? [] : [...(interfaces.addresses.get(options.publicInterface) ?? [])],
    links: linkMap,
    sysctls,
    processes,
    routes6,
    ...(bridge !== '' ? { interfaceAddresses, privateRoutes } : {}),
    ...(routed !== undefined ? { routed } : {}),
  };
}
