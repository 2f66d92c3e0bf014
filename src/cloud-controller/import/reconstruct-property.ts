/**
 * The network property of a cloud rebuilt from its network-info document,
 * for `edgenet import gni` without `--property`. Pure.
 *
 * A document carries the property *exploded* (eucalyptus-edge.md §3.4: every
 * default filled in, per cluster), so what comes back is an equivalent
 * property, not the operator's text: each cluster gets its subnet inline, its
 * MacPrefix and its PrivateIps written out; the top-level subnets the document
 * still lists (those no cluster uses) stay top-level. Exploding the result
 * gives the document's configuration again, which is all the GNI builder and
 * IPAM read.
 *
 * What the document cannot give back (listed in `lost`, so the import can say
 * so): the top-level MacPrefix and PrivateIps (only their per-cluster results
 * travel), which subnet of `Subnets` a cluster named (it becomes inline), the
 * top-level subnets a cluster used (Eucalyptus and edgenet drop them from the
 * document), whether InstanceDnsDomain/InstanceDnsServers were written or
 * defaulted from other properties. `PublicGateway` travels as the document's
 * `publicGateway` and comes back; so do a dual-stack cluster's Ipv6Prefix and
 * Ipv6DnsServers (its `ipv6` extension), on its inline subnet.
 *
 * A ROUTED document (`mode` ROUTED) has its own keys and its own losses:
 * reconstruct-routed.ts.
 */
import type { GniConfiguration, GniSubnet } from '../../shared/gni/model.ts';
import { DEFAULT_NETWORK_MODE, isNetworkMode } from '../../shared/gni/mode.ts';
import { clusterIpv6 } from '../../shared/gni/ipv6.ts';
import { assertNever } from '../../shared/errors.ts';
import type { NetworkConfiguration, SubnetConfig } from '../config/types.ts';
import { reconstructRoutedProperty } from './reconstruct-routed.ts';

interface ReconstructedProperty {
  readonly value: NetworkConfiguration;
  /** Property fields the document cannot give back, each with why. */
  readonly lost: readonly string[];
  /** What the property needs and the document does not carry (also in `lost`): the value will not validate. Only ROUTED has any (BGP without a node). */
  readonly gaps: readonly string[];
}

/** Fields no EDGE document carries, whatever its content. */
const ALWAYS_LOST: readonly string[] = [
  'MacPrefix (top level): only each cluster\'s resulting prefix travels; written per cluster',
  'PrivateIps (top level): only each cluster\'s resulting pool travels; written per cluster',
  'Subnets a cluster used, and which one it named: a cluster\'s subnet is written inline',
  'whether InstanceDnsDomain and InstanceDnsServers were set or defaulted (cloud.vmstate.instance_subdomain, system.dns.nameserveraddress): written as the document gives them',
];

export function reconstructProperty(conf: GniConfiguration): ReconstructedProperty {
  const mode = conf.mode !== undefined && isNetworkMode(conf.mode) ? conf.mode : DEFAULT_NETWORK_MODE;
  switch (mode) {
    case 'EDGE':
      return reconstructEdgeProperty(conf);
    case 'ROUTED':
      return reconstructRoutedProperty(conf);
    default:
      return assertNever(mode);
  }
}

function reconstructEdgeProperty(conf: GniConfiguration): ReconstructedProperty {
  const value: NetworkConfiguration = {
    Mode: 'EDGE',
    ...(conf.instanceDnsDomain !== undefined ? { InstanceDnsDomain: conf.instanceDnsDomain } : {}),
    InstanceDnsServers: [...conf.instanceDnsServers],
    PublicIps: [...conf.publicIps],
    ...(conf.publicGateway !== undefined ? { PublicGateway: conf.publicGateway } : {}),
    ...(conf.subnets.length > 0 ? { Subnets: conf.subnets.map(subnetConfig) } : {}),
    Clusters: conf.clusters.map((c) => ({
      Name: c.name,
      MacPrefix: c.macPrefix,
      Subnet: { ...subnetConfig(c.subnet), ...ipv6Keys(clusterIpv6(c)) },
      PrivateIps: [...c.privateIps],
    })),
  };
  return { value, lost: ALWAYS_LOST, gaps: [] };
}

/** A dual-stack cluster's `ipv6` extension (docs/gni.md) as the subnet's Ipv6Prefix and Ipv6DnsServers. */
function ipv6Keys(v6: ReturnType<typeof clusterIpv6>): Pick<SubnetConfig, 'Ipv6Prefix' | 'Ipv6DnsServers'> {
  if (v6 === undefined) return {};
  return { Ipv6Prefix: v6.prefix, ...(v6.dnsServers.length > 0 ? { Ipv6DnsServers: [...v6.dnsServers] } : {}) };
}

function subnetConfig(s: GniSubnet): SubnetConfig {
  return { Name: s.name, Subnet: s.subnet, Netmask: s.netmask, Gateway: s.gateway };
}
