/**
 * ROUTED (issue 17): pure L3 to every instance — a /32 and a /128 per
 * instance routed to its node and announced over BGP; no shared L2, no NAT,
 * no DHCP (instances configure themselves from a config drive).
 *
 * Property keys and checks: docs/config.md "ROUTED"; the checks are
 * config/routed-semantic.ts, explode is config/routed.ts (a cluster's 4.4
 * `subnet` is the instance-side link, its `privateIps` the routable IPv4
 * pool, empty on an IPv6-only cluster).
 *
 * Document: the mapped base model plus, written with shared/gni/routed.ts,
 * - configuration `routed` {gateway-ipv4, gateway-ipv6};
 * - each ROUTED cluster's `routed` {addressing};
 * - each registered node of such a cluster its `bgp` extension: the cloud's
 *   Bgp overridden by the cluster's, then by the node's own entry in the
 *   property's Nodes (router-id only from there: without one, netd uses the
 *   node's name when that is an IPv4 address);
 * - an instance's `routed` {user-data} when the snapshot's instance carries
 *   user data.
 * The security groups section is never touched, and the instances section
 * only when some instance has user data, so the incremental encoder keeps
 * their cached bytes; the configuration (one element per cluster and node)
 * is written anew on every build.
 */
import type { ExplodedBgp, ExplodedCluster, ExplodedNetworkConfiguration } from '../config/types.ts';
import type { SnapshotInstance } from '../contracts.ts';
import { routedDiagnostics } from '../config/routed-semantic.ts';
import type { Extensible, GniCluster, GniExtension, GniInstance } from '../../shared/gni/model.ts';
import { clusterRoutedExtension, configurationRoutedExtension, instanceRoutedExtension, nodeBgpExtension, type NodeBgp } from '../../shared/gni/routed.ts';
import type { ClcNetworkMode, GniContent, ModeDocumentContext } from './mode.ts';

export const ROUTED_MODE: ClcNetworkMode<'ROUTED'> = {
  name: 'ROUTED',
  keys: ['InstanceDnsDomain', 'InstanceDnsServers', 'MacPrefix', 'PublicIps', 'InstanceGateway', 'Bgp', 'Clusters'],
  clusterKeys: ['Name', 'MacPrefix', 'Ipv4Pool', 'Ipv6Prefix', 'Bgp', 'Nodes'],
  checks: routedDiagnostics,
  extendDocument: routedDocument,
};

function routedDocument(base: GniContent, { snapshot }: ModeDocumentContext): GniContent {
  const config = snapshot.config;
  // The property is unset (the default mode's document) or not ROUTED's: nothing to add.
  if (config?.Routed === undefined) return base;
  const configuration = {
    ...withExtension(base.configuration, configurationRoutedExtension({ ipv4: config.Routed.GatewayIpv4, ipv6: config.Routed.GatewayIpv6 })),
    clusters: routedClusters(base.configuration.clusters, config),
  };
  return { configuration, instances: withUserData(base.instances, snapshot.instances), securityGroups: base.securityGroups };
}

function routedClusters(clusters: readonly GniCluster[], config: ExplodedNetworkConfiguration): GniCluster[] {
  const byName = new Map<string, ExplodedCluster>(config.Clusters.map((c) => [c.Name, c]));
  return clusters.map((gc) => {
    const routed = byName.get(gc.name)?.Routed;
    if (routed === undefined) return gc;
    const overrides = new Map(routed.Nodes.map((n) => [n.Name, n.Bgp]));
    return {
      ...withExtension(gc, clusterRoutedExtension(routed.Addressing)),
      nodes: gc.nodes.map((n) => withExtension(n, nodeBgpExtension(nodeBgp(overrides.get(n.name) ?? routed.Bgp)))),
    };
  });
}

function nodeBgp(b: ExplodedBgp): NodeBgp {
  return {
    localAs: b.LocalAsn,
    ...(b.RouterId === undefined ? {} : { routerId: b.RouterId }),
    peers: b.Peers.map((p) => ({ address: p.Address, as: p.Asn })),
    communities: b.Communities,
    ...(b.Password === undefined ? {} : { password: b.Password }),
  };
}

/** The same list when no instance has user data (the encoder then keeps the section's bytes). */
function withUserData(instances: readonly GniInstance[], snapshot: readonly SnapshotInstance[]): readonly GniInstance[] {
  const userData = new Map<string, string>();
  for (const i of snapshot) {
    const data = userDataOf(i);
    if (data !== undefined && data !== '') userData.set(i.id, data);
  }
  if (userData.size === 0) return instances;
  return instances.map((i) => {
    const data = userData.get(i.name);
    if (data === undefined) return i;
    const hit = extendedInstances.get(i);
    if (hit?.data === data) return hit.out;
    const out = withExtension(i, instanceRoutedExtension(data)!);
    extendedInstances.set(i, { data, out });
    return out;
  });
}

/**
 * An instance with user data, per base instance object: the encoder hands
 * the same base object for an unchanged instance on every build, so the
 * extended one keeps its identity too (what a per-instance fragment cache
 * keys on) and is not rebuilt.
 */
const extendedInstances = new WeakMap<GniInstance, { readonly data: string; readonly out: GniInstance }>();

/**
 * The instance's user data (base64), read structurally: the snapshot's
 * instance type gains `userData` with the services' side of issue 17, and
 * this reads it whether or not the field is declared yet.
 */
function userDataOf(i: SnapshotInstance): string | undefined {
  if (!('userData' in i)) return undefined;
  const data: unknown = i.userData;
  return typeof data === 'string' ? data : undefined;
}

/** `element` with `ext` after its existing extensions (an `ipv6` one stays first). */
function withExtension<T extends Extensible>(element: T, ext: GniExtension): T {
  return { ...element, extensions: [...(element.extensions ?? []), ext] };
}
