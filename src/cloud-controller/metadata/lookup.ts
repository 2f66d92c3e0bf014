/**
 * Who is asking? Maps a request's source address to the instance the metadata
 * service answers for.
 *
 * Model: the private address is authoritative (`ctx.instanceByPrivateIp`,
 * an indexed store read). When netd SNATs metadata traffic to the instance's
 * public address (METADATA_USE_VM_PRIVATE=N, the eucanetd default) the source
 * is the public address instead, so a public-address index is kept as a
 * fallback. A request from an IPv6 source (metadata over IPv6, netd's DNAT
 * of [fd00:ec2::254]:80 to [CLC_IPV6]) is looked up by the instances' IPv6
 * addresses, the EUI-64 of their MAC in their cluster's /64
 * (config/instance-ipv6.ts); an IPv4-mapped source (`::ffff:a.b.c.d`, a
 * dual-stack socket) is its IPv4 address. An instance of an IPv6-only ROUTED
 * cluster has no private address: it is found by its IPv6 address only (its
 * cluster's /64 is in the exploded configuration as a dual-stack one's is).
 * The instance's user data comes with it (the store read and the snapshot
 * both carry it).
 * Group names and the public and IPv6 indexes come from one snapshot, cached
 * and dropped on every committed state change (`ctx.onChange`), so a lookup
 * costs a store read plus a map lookup, not a snapshot per request.
 */
import type { ClcContext, SnapshotInstance } from '../contracts.ts';
import { formatCidr6, formatIp, formatIpv6, parseIpv6 } from '../../shared/ip.ts';
import { instanceIpv6Address, ipv6Prefixes, type ClusterIpv6Prefixes } from '../config/instance-ipv6.ts';
import type { MetadataInstance } from './answer.ts';
import { eucaHostname, hostnameDomains, type HostnameDomains } from './hostnames.ts';

interface Index {
  readonly groupNames: ReadonlyMap<string, string>;
  readonly byPublicIp: ReadonlyMap<string, SnapshotInstance>;
  /** Dual-stack instances by their IPv6 address (RFC 5952 text). */
  readonly byIpv6: ReadonlyMap<string, SnapshotInstance>;
  readonly prefixes: ClusterIpv6Prefixes;
  readonly domains: HostnameDomains;
}

/** A property's value, or undefined when it is unset or unknown to this CLC. */
async function propertyText(ctx: Pick<ClcContext, 'getProperty'>, name: string): Promise<string | undefined> {
  try {
    const v = await ctx.getProperty(name);
    return typeof v === 'string' && v !== '' ? v : undefined;
  } catch {
    return undefined;
  }
}

export interface MetadataLookup {
  lookup(sourceIp: string): Promise<MetadataInstance | undefined>;
  close(): void;
}

/** The bits above the low 32 of an IPv4-mapped address (::ffff:0:0/96). */
const IPV4_MAPPED_HIGH = 0xffffn;

/**
 * The source as the indexes spell it: an IPv4 address as it is (and an
 * IPv4-mapped one from a dual-stack socket, `::ffff:10.0.0.5`, as
 * `10.0.0.5`); an IPv6 address in RFC 5952 text without a zone id;
 * undefined for nothing usable.
 */
export function normalizeSourceIp(address: string | undefined): { readonly family: 'ipv4' | 'ipv6'; readonly ip: string } | undefined {
  if (!address) return undefined;
  if (!address.includes(':')) return { family: 'ipv4', ip: address };
  const v = parseIpv6(address.replace(/%.*$/, ''));
  if (v === undefined) return undefined;
  if (v >> 32n === IPV4_MAPPED_HIGH) return { family: 'ipv4', ip: formatIp(Number(v & 0xffffffffn)) };
  return { family: 'ipv6', ip: formatIpv6(v) };
}

export function createMetadataLookup(ctx: Pick<ClcContext, 'instanceByPrivateIp' | 'snapshot' | 'onChange' | 'getProperty'>): MetadataLookup {
  let index: Promise<Index> | undefined;
  const unsubscribe = ctx.onChange(() => {
    index = undefined;
  });
  const getIndex = (): Promise<Index> => {
    if (!index) {
      const building = Promise.all([ctx.snapshot(), propertyText(ctx, 'cloud.vmstate.instance_subdomain'), propertyText(ctx, 'system.dns.dnsdomain')]).then(([snap, instanceSubdomain, dnsDomain]) => {
        const prefixes = ipv6Prefixes(snap.config);
        const byIpv6 = new Map<string, SnapshotInstance>();
        if (prefixes.size > 0) {
          for (const i of snap.instances) {
            const v6 = instanceIpv6Address(prefixes, i);
            if (v6 !== undefined) byIpv6.set(v6, i);
          }
        }
        return {
          groupNames: new Map(snap.groups.map((g) => [g.id, g.name])),
          byPublicIp: new Map(snap.instances.filter((i) => i.publicIp).map((i) => [i.publicIp as string, i])),
          byIpv6,
          prefixes,
          domains: hostnameDomains({
            ...(snap.config?.InstanceDnsDomain ? { instanceDnsDomain: snap.config.InstanceDnsDomain } : {}),
            ...(instanceSubdomain ? { instanceSubdomain } : {}),
            ...(dnsDomain ? { dnsDomain } : {}),
          }),
        };
      });
      // A failed build must not be cached.
      building.catch(() => {
        if (index === building) index = undefined;
      });
      index = building;
    }
    return index;
  };

  return {
    async lookup(sourceIp) {
      const source = normalizeSourceIp(sourceIp);
      if (!source) return undefined;
      const byPrivate = source.family === 'ipv4' ? await ctx.instanceByPrivateIp(source.ip) : undefined;
      const idx = await getIndex();
      const instance = byPrivate ?? (source.family === 'ipv4' ? idx.byPublicIp.get(source.ip) : idx.byIpv6.get(source.ip));
      if (!instance) return undefined;
      const ipv6 = instanceIpv6Address(idx.prefixes, instance);
      const ipv6Prefix = idx.prefixes.get(instance.cluster);
      // IPv6-only: EC2's resource-based name, since there is no address to spell.
      const localHostname = instance.privateIp !== undefined ? eucaHostname(instance.privateIp, idx.domains.privateDomain) : `${instance.id}.${idx.domains.privateDomain}`;
      return {
        id: instance.id,
        ...(instance.privateIp !== undefined ? { privateIp: instance.privateIp } : {}),
        ...(instance.publicIp ? { publicIp: instance.publicIp } : {}),
        mac: instance.mac,
        securityGroupNames: instance.groups.map((id) => idx.groupNames.get(id) ?? id),
        securityGroupIds: [...instance.groups],
        cluster: instance.cluster,
        ownerId: instance.ownerId,
        localHostname,
        ...(instance.publicIp ? { publicHostname: eucaHostname(instance.publicIp, idx.domains.publicDomain) } : {}),
        ...(ipv6 !== undefined && ipv6Prefix !== undefined ? { ipv6, ipv6Prefix: formatCidr6(ipv6Prefix) } : {}),
        ...(instance.userData !== undefined ? { userData: instance.userData } : {}),
      };
    },
    close() {
      unsubscribe();
    },
  };
}
