/**
 * DesiredState: everything netd wants on this host, as data. Produced by the pure
 * `render(gni, self, config)` (src/netd/render/), consumed by the planner and
 * the appliers (src/netd/apply/). Nothing here touches the host.
 *
 * Rules are data first: a Rule is typed (family, matches, target) with a
 * comment that says why it exists; the model and its writers live in
 * src/netd/netfilter/ (rule.ts), which turn these values into
 * `iptables-restore`, `ip6tables-restore`, `ebtables-restore` and `ipset
 * restore` text.
 *
 * Ownership: every chain, set and hook target here carries the configured name
 * prefix (default `EDGENET`); the appliers sweep anything with the prefix that
 * is not in the desired state and never touch anything else.
 */

import type { BridgeRule, IpRule, NetfilterTable } from '../netfilter/rule.ts';
import type { IpSet } from '../netfilter/ipset.ts';

export type { BridgeHook, BridgeRule, Chain, Hook, IpHook, IpRule, NetfilterTable, Rule } from '../netfilter/rule.ts';
export type { IpSet, IpSetFamily } from '../netfilter/ipset.ts';

export interface Sysctl {
  readonly key: string;
  readonly value: string;
}

export interface LocalInstance {
  readonly id: string;
  /** Host side of the VM NIC: `vn_<id>` (the contract with whatever starts VMs). */
  readonly interface: string;
  readonly mac: string;
  /** EDGE: its private IP. ROUTED: its routed IPv4 address, '' for an instance of an IPv6-only cluster (it has none). */
  readonly privateIp: string;
  /** EDGE: its public IP (DNAT/SNAT). ROUTED: its elastic IPv4 address, one more routed /32. */
  readonly publicIp?: string;
  /** Its global IPv6 address (EUI-64 of `mac` in the cluster's prefix) on a dual-stack cluster; absent on an IPv4-only one. */
  readonly ipv6?: string;
  readonly securityGroups: readonly string[];
}

/**
 * ROUTED (issue 17): one local instance's port `vn_<id>` as a routed
 * point-to-point link. The planner makes the kernel hold exactly this:
 * host-side MAC `hostMac`; the gateway addresses of RoutedState on the port;
 * per address in `addresses` a host route `dev <interface> proto
 * EDGENET_ROUTE_PROTOCOL` and a permanent neighbour entry to `instanceMac`;
 * proxy_arp=1 and the port's per-interface sysctls. Routes and permanent
 * neighbours of ours on `vn_` ports that are not here are removed.
 */
export interface RoutedPort {
  readonly instance: string;
  /** `vn_<id>`; created by whatever starts the VM, never by netd. */
  readonly interface: string;
  /** The instance's MAC (the neighbour entries' lladdr). */
  readonly instanceMac: string;
  /** The host side's MAC (shared/gni/routed.ts ROUTED_PORT_MAC). */
  readonly hostMac: string;
  /** Routed host prefixes, sorted: its IPv4 `/32` (when it has one), an elastic IPv4 `/32`, its IPv6 `/128` (when it has one). */
  readonly addresses: readonly string[];
}

export interface RoutedState {
  /** On every port as `/32` (absent when the cluster has no IPv4). */
  readonly gatewayIpv4?: string;
  /** On every port as `/64` (absent when the cluster has no IPv6). */
  readonly gatewayIpv6?: string;
  /** Sorted by interface. */
  readonly ports: readonly RoutedPort[];
}

/**
 * ROUTED (issue 17): a NoCloud config drive (cloud-init) for one local
 * instance: its files as data (`meta-data`, `network-config` (version 2),
 * `user-data` when the document carries some). apply/ writes them into
 * `<state dir>/config-drive/<instance>/` and builds `<instance>.iso`
 * (volume label `cidata`) next to it; drives of instances no longer here
 * are removed.
 */
export interface ConfigDrive {
  readonly instance: string;
  /** Sorted by name (render/config-drive.ts). */
  readonly files: readonly DriveFile[];
}

/**
 * A config drive file. User data may be bytes that are not UTF-8 text
 * (gzip'd, which cloud-init accepts): such content travels as base64 and
 * apply/ writes the decoded bytes, so a drive holds exactly what the user gave.
 */
export interface DriveFile {
  readonly name: string;
  readonly content: string;
  /** 'base64': `content` is base64 of the file's bytes; absent: the file is `content` as UTF-8. */
  readonly encoding?: 'base64';
}

/** A file a supervised process reads, as data: where it lives is decided by apply/ (the run directory), not by render. */
export interface ProcessFile {
  /** File name inside the process's directory, e.g. `dhcpd.conf`. */
  readonly name: string;
  readonly content: string;
  /**
   * Permission bits (default 0o644: dhcpd.conf and radvd.conf hold nothing
   * secret). A file carrying a secret (bird.conf: the BGP MD5 password) says
   * 0o600; the supervisor also corrects the mode of an unchanged file that
   * has another one (a file written before this field existed).
   */
  readonly mode?: number;
}

/** What a running process needs when one of its files changed. */
export type ReloadPolicy =
  /** Stop and start again (ISC dhcpd re-reads nothing on a signal). */
  | { readonly kind: 'restart' }
  /** Send a signal; the process re-reads its files and keeps its pid. */
  | { readonly kind: 'signal'; readonly signal: NodeJS.Signals };

/**
 * A daemon netd supervises on this host (dhcpd today): its files as data,
 * whether it must run, where it listens and how it takes a change. The
 * per-kind details (argv, pid file, log reading) are the driver's, in the
 * registry of src/netd/apply/drivers.ts; everything else is generic.
 */
export interface SupervisedProcess {
  /** Driver name in the registry, e.g. `dhcpd`. */
  readonly kind: string;
  /** false: must not run (stopped if running, its files removed). */
  readonly run: boolean;
  /** Interfaces it serves (dhcpd: the bridge). */
  readonly interfaces: readonly string[];
  /** Its configuration, written before it starts; a change triggers `reload`. */
  readonly files: readonly ProcessFile[];
  readonly reload: ReloadPolicy;
  /** What the entry amounts to, for people (`netd plan`): `3 hosts`, `0 hosts: dhcpd must not run`. */
  readonly summary: string;
}

export interface DesiredState {
  readonly node: string;
  readonly cluster: string;
  readonly version: string;
  readonly sequence?: number;
  /** EDGE: the instances' bridge. Absent in ROUTED (no shared L2): the planner then creates, changes and removes no bridge. */
  readonly bridge?: { readonly name: string; readonly members: readonly string[] };
  readonly sysctls: readonly Sysctl[];
  readonly instances: readonly LocalInstance[];
  /** Created before the iptables/ip6tables rules that use them, destroyed after; `family: 'inet6'` sets are matched by ip6tables rules only. */
  readonly ipsets: readonly IpSet[];
  readonly iptables: { readonly filter: NetfilterTable<IpRule>; readonly nat: NetfilterTable<IpRule> };
  /**
   * ipv6 rules, always present: empty tables (no chains, no hooks) for an
   * IPv4-only cluster, in which case the planner only sweeps ip6tables chains
   * and hooks of ours that are still in the kernel.
   */
  readonly ip6tables: { readonly filter: NetfilterTable<IpRule>; readonly nat: NetfilterTable<IpRule> };
  /**
   * IPv6 prefixes routed on-link on the bridge (`ip -6 route replace <prefix>
   * dev <bridge> proto <ours>`); empty for an IPv4-only cluster. Routes with our
   * protocol number that are not here are removed; other routes are never touched.
   */
  readonly bridgeRoutes: readonly string[];
  readonly ebtables: { readonly filter: NetfilterTable<BridgeRule>; readonly nat: NetfilterTable<BridgeRule> };
  /** Supervised daemons, sorted by kind (one per kind). */
  readonly processes: readonly SupervisedProcess[];
  /** Public addresses (as /32) that must be on the public interface; others from the pool are removed. */
  readonly publicAddresses: {
    readonly interface: string;
    readonly addresses: readonly string[];
    /** The document's public pool as configured (addresses or `lo-hi` ranges), so that an address released from this node (found on the interface, in the pool, not in `addresses`) is removed, while the host's own addresses outside it are left alone (plan.ts: an address is ours when it carries our label or lies in the pool). */
    readonly pool: readonly string[];
  };
  /**
   * NC_PROXY=Y only: the instance addresses this node answers ARP for on the
   * bridge. The planner announces each (gratuitous ARP from the bridge) when
   * its proxy rule is not in the kernel yet, as eucanetd's announce-arp did.
   */
  readonly proxyArp?: { readonly interface: string; readonly addresses: readonly string[] };
  /** The default gateway handed to VMs (dhcpd `routers`), '' if none. */
  readonly gateway: string;
  /** ROUTED only (issue 17): the routed instance ports; absent in EDGE. */
  readonly routed?: RoutedState;
  /** ROUTED only (issue 17): one config drive per local instance, sorted by instance; absent in EDGE. */
  readonly configDrives?: readonly ConfigDrive[];
  /** Things render skipped and why (e.g. an instance without a MAC); never fatal. */
  readonly warnings: readonly string[];
  /** Entries of the document sanitize left out, each with its named reason (render/sanitize.ts); absent when none. */
  readonly refused?: readonly { readonly code: string; readonly subject: string; readonly message: string }[];
}

/** Facts the applier reads from the host before rendering (render itself stays pure). */
export interface HostFacts {
  /** MAC of VNET_BRIDGE: the fake router answers ARP for the gateway with it. */
  readonly bridgeMac?: string;
  /** Addresses on VNET_BRIDGE as `a.b.c.d/len` (or bare): NC_ROUTER_IP=AUTO picks the one inside the cluster subnet. */
  readonly bridgeAddresses?: readonly string[];
}

export type RenderErrorCode =
  /** This node is not listed under any cluster of the document. */
  | 'NOT_IN_DOCUMENT'
  /** The cluster's subnet, netmask or gateway does not parse. */
  | 'BAD_CLUSTER_SUBNET'
  /** NC_ROUTER=Y with empty NC_ROUTER_IP needs the bridge MAC (HostFacts.bridgeMac or EDGENET_BRIDGE_MAC). */
  | 'BRIDGE_MAC_UNKNOWN'
  /** NC_ROUTER_IP=AUTO and no bridge address lies inside the cluster subnet. */
  | 'NO_BRIDGE_ADDRESS_IN_SUBNET'
  /** Two local instances claim the same private IP or MAC. */
  | 'CONFLICTING_INSTANCES'
  /** The document's mode is not one netd implements (netd/modes/registry.ts). */
  | 'UNSUPPORTED_MODE'
  /** ROUTED: this node's cluster has no valid `routed` addressing, or it disagrees with the cluster's IPv4 pool and IPv6 prefix (render/routed-checks.ts). */
  | 'ROUTED_CLUSTER_INVALID'
  /** ROUTED: the instance-side gateways are not a unicast IPv4 and a link-local (fe80::/10) IPv6 address. */
  | 'ROUTED_GATEWAY_INVALID'
  /** ROUTED: this node's `bgp` settings fail shared/gni/routed.ts checkNodeBgp (render/bird.ts): nothing of them may reach bird.conf. */
  | 'ROUTED_BGP_INVALID';

export type RenderResult =
  | { readonly ok: true; readonly state: DesiredState }
  | { readonly ok: false; readonly code: RenderErrorCode; readonly message: string };
