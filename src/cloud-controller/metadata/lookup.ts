/**
 * Who is asking? Maps a request's source address to the instance the metadata
 * service answers for.
 *
 * Model: the private address is authoritative (`ctx.instanceByPrivateIp`,
 * an indexed store read). When netd SNATs metadata traffic to the instance's
 * public address (METADATA_USE_VM_PRIVATE=N, the eucanetd default) the source
 * is the public address instead, so a public-address index is kept as a
 * fallback. Group names and the public index come from one snapshot, cached
 * and dropped on every committed state change (`ctx.onChange`), so a lookup
 * costs a store read plus a map lookup, not a snapshot per request.
 */
import type { ClcContext, SnapshotInstance } from '../contracts.ts';
import type { MetadataInstance } from './answer.ts';
import { eucaHostname, hostnameDomains, type HostnameDomains } from './hostnames.ts';

interface Index {
  readonly groupNames: ReadonlyMap<string, string>;
  readonly byPublicIp: ReadonlyMap<string, SnapshotInstance>;
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

/** `::ffff:10.0.0.5` (IPv4-mapped, from a dual-stack socket) → `10.0.0.5`. */
function normalizeSourceIp(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

export function createMetadataLookup(ctx: Pick<ClcContext, 'instanceByPrivateIp' | 'snapshot' | 'onChange' | 'getProperty'>): MetadataLookup {
  let index: Promise<Index> | undefined;
  const unsubscribe = ctx.onChange(() => {
    index = undefined;
  });
  const getIndex = (): Promise<Index> => {
    if (!index) {
      const building = Promise.all([ctx.snapshot(), propertyText(ctx, 'cloud.vmstate.instance_subdomain'), propertyText(ctx, 'system.dns.dnsdomain')]).then(([snap, instanceSubdomain, dnsDomain]) => ({
        groupNames: new Map(snap.groups.map((g) => [g.id, g.name])),
        byPublicIp: new Map(snap.instances.filter((i) => i.publicIp).map((i) => [i.publicIp as string, i])),
        domains: hostnameDomains({
          ...(snap.config?.InstanceDnsDomain ? { instanceDnsDomain: snap.config.InstanceDnsDomain } : {}),
          ...(instanceSubdomain ? { instanceSubdomain } : {}),
          ...(dnsDomain ? { dnsDomain } : {}),
        }),
      }));
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
      const ip = normalizeSourceIp(sourceIp);
      if (!ip) return undefined;
      const byPrivate = await ctx.instanceByPrivateIp(ip);
      const idx = await getIndex();
      const instance = byPrivate ?? idx.byPublicIp.get(ip);
      if (!instance) return undefined;
      return {
        id: instance.id,
        privateIp: instance.privateIp,
        ...(instance.publicIp ? { publicIp: instance.publicIp } : {}),
        mac: instance.mac,
        securityGroupNames: instance.groups.map((id) => idx.groupNames.get(id) ?? id),
        securityGroupIds: [...instance.groups],
        cluster: instance.cluster,
        ownerId: instance.ownerId,
        localHostname: eucaHostname(instance.privateIp, idx.domains.privateDomain),
        ...(instance.publicIp ? { publicHostname: eucaHostname(instance.publicIp, idx.domains.publicDomain) } : {}),
      };
    },
    close() {
      unsubscribe();
    },
  };
}
