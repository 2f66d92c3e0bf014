/**
 * The `cloud.network.network_configuration` property (Eucalyptus EDGE format,
 * PascalCase keys) as typed data, before and after defaults are applied
 * ("explode", eucalyptus-edge.md §3.4). `Mode` names one of NETWORK_MODES
 * (src/shared/gni/mode.ts); which keys each mode defines is
 * src/cloud-controller/modes/.
 *
 * ROUTED (issue 17) adds its own keys (InstanceGateway, Bgp; a cluster's
 * Ipv4Pool, Ipv6Prefix, Bgp, Nodes) and refuses EDGE's (Subnets, PrivateIps,
 * PublicGateway; a cluster's Subnet, PrivateIps), and EDGE refuses ROUTED's
 * (modes/validate.ts). Its exploded form keeps EDGE's shape — a cluster's
 * `Subnet` is the instance-side link, its `PrivateIps` the routable IPv4 pool
 * — and hangs what only ROUTED has off the optional `Routed` fields.
 */
import type { NetworkModeName } from '../../shared/gni/mode.ts';
import type { RoutedAddressing } from '../../shared/gni/routed.ts';

export interface SubnetConfig {
  readonly Name?: string;
  readonly Subnet?: string;
  readonly Netmask?: string;
  readonly Gateway?: string;
  /** Dual stack: the subnet's IPv6 /64 ("2001:db8:10::/64"); a cluster referring to the subnet by Name inherits it. */
  readonly Ipv6Prefix?: string;
  /** IPv6 name servers announced with the prefix (router advertisement RDNSS); needs Ipv6Prefix. */
  readonly Ipv6DnsServers?: readonly string[];
}

export interface ClusterConfig {
  readonly Name: string;
  readonly MacPrefix?: string;
  /** EDGE: inline subnet, or `{Name}` referring to a top-level subnet. */
  readonly Subnet?: SubnetConfig;
  /** EDGE: absent: the top-level list (or the whole subnet); `[]`: the whole subnet. */
  readonly PrivateIps?: readonly string[];
  /** ROUTED: the cluster's routable IPv4 addresses (addresses, `lo-hi` ranges or CIDRs). */
  readonly Ipv4Pool?: readonly string[];
  /** ROUTED: the cluster's routable IPv6 /64 (an instance's address is the EUI-64 of its MAC in it). */
  readonly Ipv6Prefix?: string;
  /** ROUTED: overrides the cloud's Bgp key by key. */
  readonly Bgp?: BgpConfig;
  /** ROUTED: per-node BGP overrides, by the node's registered name. */
  readonly Nodes?: readonly RoutedNodeConfig[];
}

/** ROUTED: BGP settings at the cloud, cluster or node level; each key overrides the level above it as a whole (a list is replaced, not merged). */
export interface BgpConfig {
  readonly LocalAsn?: number;
  /** Node level only: the node's BGP router id (IPv4 text). */
  readonly RouterId?: string;
  readonly Peers?: readonly BgpPeerConfig[];
  /** Standard communities `ASN:VALUE` attached to every announced route. */
  readonly Communities?: readonly string[];
  /** TCP MD5 password for every peer. */
  readonly Password?: string;
}

export interface BgpPeerConfig {
  /** IPv4 or IPv6 address of the neighbour. */
  readonly Address: string;
  readonly Asn: number;
}

export interface RoutedNodeConfig {
  /** The node's registered name (its address, as in `edgenet node register`). */
  readonly Name: string;
  readonly Bgp?: BgpConfig;
}

/** ROUTED: the gateway addresses instances route through (their node's routed port holds them). */
export interface InstanceGatewayConfig {
  readonly Ipv4?: string;
  readonly Ipv6?: string;
}

export interface NetworkConfiguration {
  readonly Mode?: NetworkModeName;
  readonly InstanceDnsDomain?: string;
  readonly InstanceDnsServers?: readonly string[];
  readonly MacPrefix?: string;
  readonly PublicIps?: readonly string[];
  /** Eucalyptus 4.1.1+; carried into the document as `publicGateway`. */
  readonly PublicGateway?: string;
  readonly PrivateIps?: readonly string[];
  readonly Subnets?: readonly SubnetConfig[];
  readonly Clusters?: readonly ClusterConfig[];
  /** ROUTED: defaults 169.254.0.1 and fe80::1. */
  readonly InstanceGateway?: InstanceGatewayConfig;
  /** ROUTED: the cloud-wide BGP defaults. */
  readonly Bgp?: BgpConfig;
}

export interface ExplodedSubnet {
  readonly Name: string;
  readonly Subnet: string;
  readonly Netmask: string;
  readonly Gateway: string;
  /** Present only on a dual-stack subnet: its /64 in RFC 5952 text (`2001:db8:10::/64`). */
  readonly Ipv6Prefix?: string;
  /** Present only with Ipv6Prefix: its name servers in RFC 5952 text, order kept (may be empty). */
  readonly Ipv6DnsServers?: readonly string[];
}

export interface ExplodedCluster {
  readonly Name: string;
  readonly MacPrefix: string;
  /**
   * EDGE: the cluster's subnet. ROUTED: the instance-side link
   * (`routed` 169.254.0.0/255.255.0.0 via the IPv4 gateway), with the
   * cluster's /64 as Ipv6Prefix and the IPv6 name servers when it has one.
   */
  readonly Subnet: ExplodedSubnet;
  /**
   * EDGE: the private pool (never empty). ROUTED: the routable IPv4 pool as
   * canonical ranges — EMPTY for an IPv6-only cluster, meaning "no IPv4"
   * (never "the whole subnet").
   */
  readonly PrivateIps: readonly string[];
  /** Present exactly on a cluster of a ROUTED property. */
  readonly Routed?: ExplodedRoutedCluster;
}

export interface ExplodedRoutedCluster {
  /** ipv4: Ipv4Pool only; ipv6: Ipv6Prefix only; dual: both. */
  readonly Addressing: RoutedAddressing;
  /** The cloud's Bgp overridden by the cluster's, key by key (every node's settings without a node override). */
  readonly Bgp: ExplodedBgp;
  /** The nodes the property names, in its order: the cluster's settings overridden by the node's. */
  readonly Nodes: readonly { readonly Name: string; readonly Bgp: ExplodedBgp }[];
}

/** Merged BGP settings; canonical text (peer addresses RFC 5952, communities without leading zeros). */
export interface ExplodedBgp {
  readonly LocalAsn: number;
  /** Only from a node's own settings. */
  readonly RouterId?: string;
  readonly Peers: readonly BgpPeerConfig[];
  readonly Communities: readonly string[];
  readonly Password?: string;
}

/** Every default filled in; what the CLC's IPAM and GNI builder work from. */
export interface ExplodedNetworkConfiguration {
  /** The declared mode, else the default one. */
  readonly Mode: NetworkModeName;
  readonly InstanceDnsDomain: string;
  readonly InstanceDnsServers: readonly string[];
  readonly MacPrefix: string;
  readonly PublicIps: readonly string[];
  /** Absent unless the document sets it. */
  readonly PublicGateway?: string;
  /** All top-level subnets as configured (the GNI builder drops those a cluster uses); always empty in ROUTED. */
  readonly Subnets: readonly ExplodedSubnet[];
  readonly Clusters: readonly ExplodedCluster[];
  /** Present exactly on a ROUTED property. */
  readonly Routed?: ExplodedRouted;
}

export interface ExplodedRouted {
  /** Canonical text; defaults 169.254.0.1 and fe80::1 (shared/gni/routed.ts). */
  readonly GatewayIpv4: string;
  readonly GatewayIpv6: string;
}

/** The other properties explode reads (eucalyptus-edge.md §3.4). */
export interface ExplodeInputs {
  /** `cloud.vmstate.mac_prefix`, default `d0:0d`. */
  readonly macPrefix: string;
  /** `cloud.vmstate.instance_subdomain`, default `.eucalyptus` (domain becomes `eucalyptus.internal`). */
  readonly instanceSubdomain: string;
  /** `system.dns.nameserveraddress` as a list (a lone 127.0.0.1 is ignored). */
  readonly nameservers: readonly string[];
  /**
   * Clusters (partitions) registered with the cloud. Those the document does not
   * list get an entry from the top-level defaults when there is a single
   * top-level subnet (Eucalyptus: "every registered cluster gets an entry").
   */
  readonly registeredClusters?: readonly string[];
}
