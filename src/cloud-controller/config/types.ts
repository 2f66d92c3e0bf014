/**
 * The `cloud.network.network_configuration` property (Eucalyptus EDGE format,
 * PascalCase keys) as typed data, before and after defaults are applied
 * ("explode", eucalyptus-edge.md §3.4). `Mode` names one of NETWORK_MODES
 * (src/shared/gni/mode.ts); which keys each mode defines is
 * src/cloud-controller/modes/.
 */
import type { NetworkModeName } from '../../shared/gni/mode.ts';

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
  /** Inline subnet, or `{Name}` referring to a top-level subnet. */
  readonly Subnet?: SubnetConfig;
  /** Absent: the top-level list (or the whole subnet); `[]`: the whole subnet. */
  readonly PrivateIps?: readonly string[];
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
  readonly Subnet: ExplodedSubnet;
  readonly PrivateIps: readonly string[];
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
  /** All top-level subnets as configured (the GNI builder drops those a cluster uses). */
  readonly Subnets: readonly ExplodedSubnet[];
  readonly Clusters: readonly ExplodedCluster[];
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
