/**
 * ObservedState: what the live host has, as data, restricted to what netd may
 * own or must check. Produced by `observeHost` (src/netd/apply/observe.ts) from
 * `iptables-save`, `ebtables-save`, `ipset save`, `ip -j addr/link`,
 * /proc/sys and the dhcpd pid file; consumed by the pure planner.
 *
 * Nothing here is remembered between syncs (style.md 7): every sync observes
 * the kernel again, so a kill -9 at any point loses nothing.
 */

/** One rule as the kernel lists it. */
export interface ObservedRule {
  /** Arguments after `-A <chain>`, without the `-m comment --comment X` match. */
  readonly args: readonly string[];
  /** The comment text ('' when none; ebtables keeps none in the kernel). */
  readonly comment: string;
}

export interface ObservedTable {
  /** Every chain of the table (built-in and user), in kernel order of rules. */
  readonly chains: ReadonlyMap<string, readonly ObservedRule[]>;
}

export interface ObservedIpSet {
  readonly type: string;
  readonly members: readonly string[];
}

export interface ObservedAddress {
  /** `a.b.c.d` */
  readonly address: string;
  readonly prefixlen: number;
  readonly label?: string;
}

export interface ObservedLink {
  readonly name: string;
  readonly up: boolean;
  readonly master?: string;
  readonly isBridge: boolean;
  readonly mac?: string;
  /** Bridge port hairpin mode, when the link is a bridge port. */
  readonly hairpin?: boolean;
}

export interface ObservedDhcpd {
  /** Content of our dhcpd.conf in the run dir (undefined when absent). */
  readonly config?: string;
  /** Pid of a live dhcpd started by us (pid file + /proc/<pid>/cmdline check). */
  readonly pid?: number;
}

export interface ObservedState {
  readonly iptables: { readonly filter: ObservedTable; readonly nat: ObservedTable };
  readonly ebtables: { readonly filter: ObservedTable; readonly nat: ObservedTable };
  /** Every set in the kernel (the planner only touches ours). */
  readonly ipsets: ReadonlyMap<string, ObservedIpSet>;
  /** IPv4 addresses of the public interface (empty when it has none or does not exist). */
  readonly publicAddresses: readonly ObservedAddress[];
  readonly links: ReadonlyMap<string, ObservedLink>;
  /** Current value of each sysctl netd cares about (undefined when the key does not exist). */
  readonly sysctls: ReadonlyMap<string, string | undefined>;
  readonly dhcpd: ObservedDhcpd;
}

export const EMPTY_TABLE: ObservedTable = { chains: new Map() };
