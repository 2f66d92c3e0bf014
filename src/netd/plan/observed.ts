/**
 * ObservedState: what the live host has, as data, restricted to what netd may
 * own or must check. Produced by `observeHost` (src/netd/apply/observe.ts) from
 * `iptables-save`, `ip6tables-save`, `ebtables-save`, `ipset save`, one
 * `ip -j -d -batch` of `addr show`, `route show table all proto <ours>` and
 * `neigh show proto <ours>` (HostOps.hostReads), the private interface's
 * routes, /proc/sys and the supervised processes' pid and configuration files;
 * consumed by the pure planner.
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
  /** `inet6` when created with `family inet6`; absent or `inet` otherwise. */
  readonly family?: 'inet' | 'inet6';
  readonly members: readonly string[];
}

export interface ObservedAddress {
  /** `a.b.c.d` */
  readonly address: string;
  readonly prefixlen: number;
  readonly label?: string;
  /** Broadcast address when the kernel lists one (kept when the address moves to the bridge). */
  readonly broadcast?: string;
}

/** One IPv4 route of the main table through an interface, as `ip -j route show dev X` lists it. */
export interface ObservedRoute {
  /** `default` or `a.b.c.d[/n]`. */
  readonly dst: string;
  readonly gateway?: string;
  /** `kernel` for the prefix routes of an address (they follow the address), `boot`, `static`, `dhcp`, … */
  readonly protocol?: string;
  readonly scope?: string;
  readonly metric?: number;
  readonly prefsrc?: string;
  /** Route type when not unicast (`blackhole`, `local`, …): never moved. */
  readonly type?: string;
  readonly onlink?: boolean;
}

export interface ObservedLink {
  readonly name: string;
  readonly up: boolean;
  readonly master?: string;
  readonly isBridge: boolean;
  readonly mac?: string;
  /**
   * Bridges only: true when the MAC was set explicitly (sysfs addr_assign_type 3),
   * so the kernel never replaces it with a port's MAC; undefined when unknown.
   */
  readonly macPinned?: boolean;
  /** Bridge port hairpin mode, when the link is a bridge port. */
  readonly hairpin?: boolean;
}

/** A supervised process (dhcpd, ...) as the run directory and /proc show it. */
export interface ObservedProcess {
  /** Content of its configuration files in the run dir, by file name (absent = no such file). */
  readonly files: ReadonlyMap<string, string>;
  /** Permission bits of the files whose desired entry carries a `mode` (absent = not read, or no such file). */
  readonly modes?: ReadonlyMap<string, number>;
  /** Pid of a live process of this kind started by us (pid file + /proc/<pid>/cmdline check). */
  readonly pid?: number;
}

/** A route of ours (main table, protocol ours): a prefix on-link on a device (IPv6 on the bridge, either family on a routed port). */
export interface ObservedRoute6 {
  /** `2001:db8:10::/64` as `ip` prints it. */
  readonly dst: string;
  readonly dev: string;
}

/** A neighbour entry carrying our protocol (`ip -j neigh show proto <ours>`), either family. */
export interface ObservedNeighbour {
  /** `10.50.0.11` or `2001:db8:50::11`, as `ip` prints it. */
  readonly dst: string;
  readonly dev: string;
  readonly lladdr?: string;
  /** NUD_PERMANENT (`nud permanent`): the kernel never ages or re-resolves it. */
  readonly permanent: boolean;
}

/**
 * ROUTED (issue 17): what netd may own on instance ports (`vn_*`), read only
 * when it matters (observe.ts `routedReadNeeded`). IPv6 routes of ours on the
 * ports are in `routes6` with the bridge's (one read serves both planners).
 */
export interface ObservedRouted {
  /** Addresses of both families on every `vn_` link, by link (`a.b.c.d` or IPv6 text in `address`). */
  readonly addresses: ReadonlyMap<string, readonly ObservedAddress[]>;
  /** IPv4 main-table routes carrying our route protocol, any device. */
  readonly routes4: readonly ObservedRoute6[];
  /** Neighbour entries carrying our protocol, any device, both families. */
  readonly neighbours: readonly ObservedNeighbour[];
}

/**
 * ROUTED (issue 17): one instance's config drive as netd's drive directory
 * holds it (apply/config-drive.ts observeConfigDrives).
 */
export interface ObservedConfigDrive {
  /** The content hash the ISO was last built from (`<instance>.sha256`, written after the ISO); absent: none. */
  readonly hash?: string;
  /** `<instance>.iso` exists. */
  readonly iso: boolean;
  /** File names in `<instance>/`, sorted. */
  readonly files: readonly string[];
}

export interface ObservedState {
  readonly iptables: { readonly filter: ObservedTable; readonly nat: ObservedTable };
  readonly ip6tables: { readonly filter: ObservedTable; readonly nat: ObservedTable };
  readonly ebtables: { readonly filter: ObservedTable; readonly nat: ObservedTable };
  /** Every set in the kernel (the planner only touches ours). */
  readonly ipsets: ReadonlyMap<string, ObservedIpSet>;
  /** IPv4 addresses of the public interface (empty when it has none or does not exist). */
  readonly publicAddresses: readonly ObservedAddress[];
  readonly links: ReadonlyMap<string, ObservedLink>;
  /** Current value of each sysctl netd cares about (undefined when the key does not exist). */
  readonly sysctls: ReadonlyMap<string, string | undefined>;
  /** Every supervised process kind netd has a driver for, by kind (dhcpd, ...). */
  readonly processes: ReadonlyMap<string, ObservedProcess>;
  /** IPv4 addresses of the bridge and of the private interface (the node's network; absent = not read). */
  readonly interfaceAddresses?: ReadonlyMap<string, readonly ObservedAddress[]>;
  /** Main-table routes through VNET_PRIVINTERFACE (moved onto the bridge with its addresses). */
  readonly privateRoutes?: readonly ObservedRoute[];
  /** IPv6 routes carrying our route protocol (bridgeRoutes and routed ports' /128s written by an earlier sync); absent = not read. */
  readonly routes6?: readonly ObservedRoute6[];
  /** Config drives in netd's drive directory, by instance (ours: named by an instance id); absent = not read (none planned). */
  readonly configDrives?: ReadonlyMap<string, ObservedConfigDrive>;
  /** ROUTED instance ports' addresses, IPv4 routes and neighbours of ours; absent = not read (nothing routed is then planned). */
  readonly routed?: ObservedRouted;
}
