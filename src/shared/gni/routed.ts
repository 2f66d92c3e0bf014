/**
 * ROUTED mode in the GNI document (issue 17): the `routed` and `bgp`
 * extensions, the one place that knows their property names. A ROUTED
 * document keeps the 4.4 shape (so the codec, validator and encoder do not
 * change) and adds:
 *
 *   configuration  routed { gateway-ipv4: the instance-side IPv4 gateway (169.254.0.1),
 *                           gateway-ipv6: the instance-side IPv6 gateway (fe80::1) }
 *   cluster        routed { addressing: ipv4 | ipv6 | dual }
 *   node           bgp    { local-as, router-id (optional), peers ("ADDRESS ASN", one value each),
 *                           communities ("ASN:VALUE", 0..n), password (optional, one value) }
 *   instance       routed { user-data: base64 of the instance's user data (optional), in
 *                           values of at most MAX_EXTENSION_VALUE_CHARS characters (EC2 allows
 *                           16 KiB of user data, 21,848 base64 characters; one value holds 4096);
 *                           the reader joins them }
 *
 * What stays in the 4.4 fields, read by the same code as EDGE:
 * - an instance's routed IPv4 address is `privateIp` (absent on an IPv6-only
 *   cluster), its routed IPv6 address the `ipv6` extension's `address`
 *   (shared/gni/ipv6.ts: the EUI-64 of its MAC in the cluster's /64), an
 *   elastic address its `publicIp` (one more routed /32, never NAT);
 * - a cluster's routable IPv4 pool is `privateIps`, its IPv6 /64 the `ipv6`
 *   extension's `prefix`; its `subnet` is the instance-side link
 *   (169.254.0.0/16, gateway = gateway-ipv4), so a 4.4-shaped reader finds
 *   the values it requires.
 *
 * Readers return what the document says (strings); `checkNodeBgp` is the one
 * check of BGP values (the CLC before it writes them, netd before it renders
 * them into a speaker's configuration — a hostile document must never reach
 * bird.conf unchecked).
 */
import type { GniExtension } from './extension.ts';
import { MAX_EXTENSION_VALUE_CHARS, extensionValues } from './extension.ts';
import type { GniCluster, GniConfiguration, GniInstance, GniNode } from './model.ts';

export const ROUTED_EXTENSION = 'routed';
export const BGP_EXTENSION = 'bgp';

/** Instance-side gateway defaults (the CloudStack routed-VM proposal's). */
export const DEFAULT_ROUTED_GATEWAY_IPV4 = '169.254.0.1';
export const DEFAULT_ROUTED_GATEWAY_IPV6 = 'fe80::1';
/** The MAC every host-side routed port carries (the instance's gateway MAC is the same on every node). */
export const ROUTED_PORT_MAC = 'fe:ff:ff:ff:ff:ff';
/** The instance-side link a ROUTED cluster's 4.4 `subnet` element names. */
export const ROUTED_LINK_SUBNET = { subnet: '169.254.0.0', netmask: '255.255.0.0' } as const;

export type RoutedAddressing = 'ipv4' | 'ipv6' | 'dual';
export const ROUTED_ADDRESSING: readonly RoutedAddressing[] = ['ipv4', 'ipv6', 'dual'];

const P = {
  gatewayIpv4: 'gateway-ipv4',
  gatewayIpv6: 'gateway-ipv6',
  addressing: 'addressing',
  localAs: 'local-as',
  routerId: 'router-id',
  peers: 'peers',
  communities: 'communities',
  password: 'password',
  userData: 'user-data',
} as const;

export interface RoutedGateways {
  readonly ipv4: string;
  readonly ipv6: string;
}

export interface BgpPeer {
  readonly address: string;
  readonly as: number;
}

/** A node's BGP settings as the CLC writes them (values already checked by the CLC). */
export interface NodeBgp {
  readonly localAs: number;
  /** Absent: the node's own name when that is an IPv4 address. */
  readonly routerId?: string;
  readonly peers: readonly BgpPeer[];
  /** `ASN:VALUE` standard communities (each part 0..65535), attached to every announced route. */
  readonly communities: readonly string[];
  /** TCP MD5 password for every peer of this node. */
  readonly password?: string;
}

/** A node's BGP settings as a document says them (strings; `checkNodeBgp` turns them into NodeBgp). */
export interface NodeBgpText {
  readonly localAs?: string;
  readonly routerId?: string;
  readonly peers: readonly string[];
  readonly communities: readonly string[];
  readonly password?: string;
}

function extension(name: string, properties: readonly { name: string; values: readonly string[] }[]): GniExtension {
  return { name, properties: properties.filter((p) => p.values.length > 0).map((p) => ({ name: p.name, values: [...p.values] })) };
}

// ---- writers (the CLC) ----

export function configurationRoutedExtension(g: RoutedGateways): GniExtension {
  return extension(ROUTED_EXTENSION, [
    { name: P.gatewayIpv4, values: [g.ipv4] },
    { name: P.gatewayIpv6, values: [g.ipv6] },
  ]);
}

export function clusterRoutedExtension(addressing: RoutedAddressing): GniExtension {
  return extension(ROUTED_EXTENSION, [{ name: P.addressing, values: [addressing] }]);
}

export function nodeBgpExtension(bgp: NodeBgp): GniExtension {
  return extension(BGP_EXTENSION, [
    { name: P.localAs, values: [String(bgp.localAs)] },
    { name: P.routerId, values: bgp.routerId === undefined ? [] : [bgp.routerId] },
    { name: P.peers, values: bgp.peers.map((p) => `${p.address} ${p.as}`) },
    { name: P.communities, values: bgp.communities },
    { name: P.password, values: bgp.password === undefined ? [] : [bgp.password] },
  ]);
}

/**
 * Undefined when the instance has no user data (no extension is written).
 * Split into values of MAX_EXTENSION_VALUE_CHARS (a multiple of 4, so each
 * chunk is whole base64 quanta) to stay within one value's limit.
 */
export function instanceRoutedExtension(userDataBase64: string | undefined): GniExtension | undefined {
  if (userDataBase64 === undefined || userDataBase64 === '') return undefined;
  const chunks: string[] = [];
  for (let at = 0; at < userDataBase64.length; at += MAX_EXTENSION_VALUE_CHARS) chunks.push(userDataBase64.slice(at, at + MAX_EXTENSION_VALUE_CHARS));
  return extension(ROUTED_EXTENSION, [{ name: P.userData, values: chunks }]);
}

// ---- readers (netd, import, tests) ----

/** The gateways the document names, defaults for those it does not. */
export function configurationRouted(conf: GniConfiguration): RoutedGateways {
  return {
    ipv4: extensionValues(conf, ROUTED_EXTENSION, P.gatewayIpv4)?.[0] ?? DEFAULT_ROUTED_GATEWAY_IPV4,
    ipv6: extensionValues(conf, ROUTED_EXTENSION, P.gatewayIpv6)?.[0] ?? DEFAULT_ROUTED_GATEWAY_IPV6,
  };
}

/** The cluster's addressing as written (netd checks it is one of ROUTED_ADDRESSING), undefined when absent. */
export function clusterRoutedAddressing(cluster: GniCluster): string | undefined {
  return extensionValues(cluster, ROUTED_EXTENSION, P.addressing)?.[0];
}

/** The node's BGP settings as written, undefined when the node has no `bgp` extension. */
export function nodeBgpText(node: GniNode): NodeBgpText | undefined {
  if (!node.extensions?.some((e) => e.name === BGP_EXTENSION)) return undefined;
  const one = (p: string): string | undefined => extensionValues(node, BGP_EXTENSION, p)?.[0];
  return {
    ...(one(P.localAs) === undefined ? {} : { localAs: one(P.localAs)! }),
    ...(one(P.routerId) === undefined ? {} : { routerId: one(P.routerId)! }),
    peers: extensionValues(node, BGP_EXTENSION, P.peers) ?? [],
    communities: extensionValues(node, BGP_EXTENSION, P.communities) ?? [],
    ...(one(P.password) === undefined ? {} : { password: one(P.password)! }),
  };
}

/** The instance's user data (base64 as written, its values joined), undefined when none. */
export function instanceUserData(instance: GniInstance): string | undefined {
  const values = extensionValues(instance, ROUTED_EXTENSION, P.userData);
  return values === undefined || values.length === 0 ? undefined : values.join('');
}

// ---- BGP values (one definition for the CLC's property checks and netd's document checks) ----

/** A 4-byte autonomous system number other than 0: 1..4294967295. */
export function isBgpAsn(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 0xffffffff;
}

/** A standard community `ASN:VALUE`, both parts 0..65535, in canonical text (no leading zeros); undefined otherwise. */
export function canonicalBgpCommunity(text: string): string | undefined {
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a <= 0xffff && b <= 0xffff ? `${a}:${b}` : undefined;
}

/**
 * A TCP MD5 password a BGP daemon's configuration can hold between double
 * quotes: 1..80 printable ASCII characters (Linux's TCP_MD5SIG_MAXKEYLEN),
 * no `"` or `\`, and no space at either end (a document value is trimmed,
 * so it would not arrive as written).
 */
export function isBgpPassword(text: string): boolean {
  return /^[\x21\x23-\x5b\x5d-\x7e](?:[\x20\x21\x23-\x5b\x5d-\x7e]{0,78}[\x21\x23-\x5b\x5d-\x7e])?$/.test(text);
}
