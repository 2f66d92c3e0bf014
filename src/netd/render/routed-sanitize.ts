/**
 * sanitize's ROUTED hook (issue 17; render/sanitize-hook.ts): what an
 * instance's addresses must be in a ROUTED document, with named refusals,
 * never widening. The values themselves are checked by routed-checks.ts (the
 * render context re-checks with the same functions):
 *
 * - a cluster whose `routed` addressing is missing, unknown
 *   (ROUTED_ADDRESSING_INVALID) or disagrees with its pool and prefix
 *   (ROUTED_ADDRESSING_MISMATCH) is refused with every instance listed under
 *   it (a node of that cluster then fails to render: routed-context.ts), and
 *   so is one whose IPv4 pool reaches into reserved space (shared/ip
 *   IPV4_RESERVED: 169.254/16, multicast, ...) or holds a BGP peer's address
 *   (ROUTED_CLUSTER_POOL_RESERVED);
 * - an instance of an ipv4 or dual cluster without IPv4
 *   (ROUTED_IPV4_MISSING), of an ipv6-only cluster with IPv4
 *   (ROUTED_IPV4_UNEXPECTED), with an IPv4 outside its cluster's pool
 *   (ROUTED_IPV4_OUTSIDE_POOL) or equal to the instance gateway
 *   (PRIVATE_IP_RESERVED), of an ipv6 or dual cluster without IPv6
 *   (ROUTED_IPV6_MISSING) or with one that is not the EUI-64 of its MAC in
 *   the prefix (INSTANCE_IPV6_OUTSIDE_PREFIX, INSTANCE_IPV6_NOT_EUI64), or
 *   with an elastic address outside the public pool (PUBLIC_IP_OUTSIDE_POOL,
 *   also when the pool is empty: every elastic address is announced over
 *   BGP), or with a routed or elastic IPv4 in reserved space or any address
 *   equal to a BGP peer's (ROUTED_ADDRESS_RESERVED) is left out whole. EDGE keeps the IPv4 half of an instance with a bad
 *   IPv6 address; ROUTED does not: its config drive and routes would describe
 *   an instance that half works.
 *
 * An instance listed under no node (a member of a group elsewhere) passes
 * when some valid cluster accepts its addresses.
 */
import type { GniDocument, GniInstance } from '../../shared/gni/model.ts';
import type { IpRange } from '../../shared/ip.ts';
import type { ModeRefusal, ModeSanitizer } from './sanitize-hook.ts';
import { bgpPeerAddresses, checkRoutedCluster, checkRoutedGateways, checkRoutedInstance, publicPool, type RoutedCluster, type RoutedInstanceReason } from './routed-checks.ts';

export type RoutedSanitizeCode =
  /** A cluster's `routed` addressing is absent or not ipv4, ipv6 or dual: the cluster's instances are left out. */
  | 'ROUTED_ADDRESSING_INVALID'
  /** A cluster's addressing disagrees with what it carries (IPv4 pool ↔ ipv4, valid IPv6 prefix ↔ ipv6): its instances are left out. */
  | 'ROUTED_ADDRESSING_MISMATCH'
  /** A cluster's IPv4 pool reaches into 0/8, 127/8, 169.254/16, 224/4 or 240/4, or holds a BGP peer's address: its instances are left out. */
  | 'ROUTED_CLUSTER_POOL_RESERVED'
  /** An instance's routed or elastic IPv4 is in 0/8, 127/8, 169.254/16, 224/4 or 240/4, or one of its addresses is a BGP peer's: left out. */
  | 'ROUTED_ADDRESS_RESERVED'
  /** An instance of an ipv4 or dual cluster has no IPv4 address: left out. */
  | 'ROUTED_IPV4_MISSING'
  /** An instance of an ipv6-only cluster has an IPv4 address: left out. */
  | 'ROUTED_IPV4_UNEXPECTED'
  /** An instance's IPv4 address is outside its cluster's routable pool: left out. */
  | 'ROUTED_IPV4_OUTSIDE_POOL'
  /** An instance of an ipv6 or dual cluster has no IPv6 address: left out. */
  | 'ROUTED_IPV6_MISSING'
  /** (EDGE's codes, same meaning) IPv4 = the instance gateway; IPv6 outside the prefix / not EUI-64; elastic address outside the public pool. */
  | 'PRIVATE_IP_RESERVED' | 'INSTANCE_IPV6_OUTSIDE_PREFIX' | 'INSTANCE_IPV6_NOT_EUI64' | 'PUBLIC_IP_OUTSIDE_POOL';

const CODE_OF: Readonly<Record<RoutedInstanceReason, RoutedSanitizeCode>> = {
  'ipv4-missing': 'ROUTED_IPV4_MISSING',
  'ipv4-unexpected': 'ROUTED_IPV4_UNEXPECTED',
  'ipv4-outside-pool': 'ROUTED_IPV4_OUTSIDE_POOL',
  'ipv4-is-gateway': 'PRIVATE_IP_RESERVED',
  'address-reserved': 'ROUTED_ADDRESS_RESERVED',
  'ipv6-missing': 'ROUTED_IPV6_MISSING',
  'ipv6-outside-prefix': 'INSTANCE_IPV6_OUTSIDE_PREFIX',
  'ipv6-not-eui64': 'INSTANCE_IPV6_NOT_EUI64',
  'elastic-outside-pool': 'PUBLIC_IP_OUTSIDE_POOL',
};

type Placed = { readonly kind: 'valid'; readonly cluster: RoutedCluster } | { readonly kind: 'refused'; readonly refusal: ModeRefusal<RoutedSanitizeCode> };

export function routedSanitizer(doc: GniDocument): ModeSanitizer<RoutedSanitizeCode> {
  const documentRefusals: ModeRefusal<RoutedSanitizeCode>[] = [];
  const placeOf = new Map<string, Placed>();
  const valid: RoutedCluster[] = [];
  const peers = bgpPeerAddresses(doc);
  for (const c of doc.configuration.clusters) {
    const check = checkRoutedCluster(c, peers);
    let placed: Placed;
    if (check.ok) {
      valid.push(check.cluster);
      placed = { kind: 'valid', cluster: check.cluster };
    } else {
      const code = check.reason === 'addressing-invalid' ? 'ROUTED_ADDRESSING_INVALID' : check.reason === 'pool-reserved' ? 'ROUTED_CLUSTER_POOL_RESERVED' : 'ROUTED_ADDRESSING_MISMATCH';
      documentRefusals.push({ code, subject: `cluster ${c.name} routed`, message: `${check.message}: every instance of the cluster is left out` });
      placed = { kind: 'refused', refusal: { code, subject: '', message: `its cluster ${c.name} is refused (${check.message})` } };
    }
    for (const n of c.nodes) for (const id of n.instanceIds) if (!placeOf.has(id)) placeOf.set(id, placed);
  }
  const gateways = checkRoutedGateways(doc.configuration);
  const ctx: { publicPool: readonly IpRange[]; gatewayIpv4?: string; peers: ReadonlySet<string> } = {
    publicPool: publicPool(doc.configuration), peers,
    ...(gateways.ok ? { gatewayIpv4: gateways.ipv4 } : {}),
  };
  return {
    documentRefusals,
    instance(inst: GniInstance) {
      const subject = `instance ${JSON.stringify(inst.name)}`;
      const placed = placeOf.get(inst.name);
      if (placed?.kind === 'refused') return { ...placed.refusal, subject };
      const candidates = placed === undefined ? valid : [placed.cluster];
      let first: ModeRefusal<RoutedSanitizeCode> | undefined;
      for (const cluster of candidates) {
        const c = checkRoutedInstance(inst, cluster, ctx);
        if (c.ok) return undefined;
        first ??= { code: CODE_OF[c.reason], subject, message: `${c.message}: left out` };
      }
      return first ?? { code: 'ROUTED_IPV4_OUTSIDE_POOL', subject, message: 'listed under no node, and the document has no valid ROUTED cluster: left out' };
    },
  };
}
