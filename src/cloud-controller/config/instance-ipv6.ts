/**
 * An instance's IPv6 address (issue 14): the modified EUI-64 of its MAC in its
 * cluster's /64 (`slaacAddress`, shared/ip/eui64.ts), exactly the address
 * the guest forms by SLAAC from the router advertisement of its node. The
 * one place the CLC computes it: the GNI mapper (the document's instance
 * `ipv6` extension), the services (`instance list`, `ipam show`) and the
 * metadata service (`meta-data/ipv6`, lookup by IPv6 source) all call this.
 *
 * Why EUI-64 and not a pool: the address follows from the MAC the CLC already
 * allocated, so there is nothing to allocate, store, hold after terminate or
 * migrate; it is unique because MACs are (one cloud-wide id per instance),
 * and guests get it with plain SLAAC, no DHCPv6 server (Neutron's `slaac`
 * address mode does the same). Computed, never stored: a change of the
 * cluster's prefix moves every address with it on the next document.
 *
 * Pure. `ipv6Prefixes` parses each cluster's prefix once; callers that map
 * many instances call it once and pass the map.
 */
import type { Cidr6 } from '../../shared/ip.ts';
import { formatIpv6, parseCidr6, slaacAddress } from '../../shared/ip.ts';
import type { ExplodedNetworkConfiguration } from './types.ts';

/** Cluster name → its IPv6 /64, for the dual-stack clusters of the configuration. */
export type ClusterIpv6Prefixes = ReadonlyMap<string, Cidr6>;

export function ipv6Prefixes(config: ExplodedNetworkConfiguration | undefined): ClusterIpv6Prefixes {
  const out = new Map<string, Cidr6>();
  for (const c of config?.Clusters ?? []) {
    const prefix = c.Subnet.Ipv6Prefix === undefined ? undefined : parseCidr6(c.Subnet.Ipv6Prefix);
    if (prefix !== undefined) out.set(c.Name, prefix);
  }
  return out;
}

/** The instance's IPv6 address (RFC 5952 text), or undefined on an IPv4-only cluster (or a MAC that is not one). */
export function instanceIpv6Address(prefixes: ClusterIpv6Prefixes, instance: { readonly cluster: string; readonly mac: string }): string | undefined {
  const prefix = prefixes.get(instance.cluster);
  if (prefix === undefined) return undefined;
  const address = slaacAddress(prefix, instance.mac);
  return address === undefined ? undefined : formatIpv6(address);
}
