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
import { IPV6_IPV4_MAPPED, IPV6_LINK_LOCAL, IPV6_MULTICAST, cidrContains6, formatIp, formatIpv6, isRoutableUnicastIpv4, parseIp, parseIpv6 } from '../ip.ts';

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

// ---- the one check of a node's BGP values (netd before bird.conf; the CLC may use it on what it wrote) ----

/** Why a node's `bgp` extension was refused, one code per kind of value. */
export type NodeBgpProblemCode =
  /** local-as absent, or not a decimal ASN 1..4294967295. */
  | 'BGP_LOCAL_AS_INVALID'
  /** router-id not a non-zero dotted quad, or absent while the node's name is no IPv4 address. */
  | 'BGP_ROUTER_ID_INVALID'
  /** A peer that is not `ADDRESS ASN` with a unicast address a session can name (not link-local, loopback, multicast, ...). */
  | 'BGP_PEER_INVALID'
  /** The same peer address twice (one session per neighbour). */
  | 'BGP_PEER_DUPLICATE'
  /** A community that is not `ASN:VALUE`, both parts 0..65535. */
  | 'BGP_COMMUNITY_INVALID'
  /** A password isBgpPassword refuses (quotes, backslash, control characters, over 80 characters). */
  | 'BGP_PASSWORD_INVALID';

export interface NodeBgpProblem {
  readonly code: NodeBgpProblemCode;
  readonly message: string;
}

/** A node's BGP settings as checked: every value canonical, the router id resolved. */
export interface CheckedNodeBgp extends NodeBgp {
  readonly routerId: string;
}

export type NodeBgpCheck = { readonly ok: true; readonly value: CheckedNodeBgp } | { readonly ok: false; readonly problems: readonly NodeBgpProblem[] };

/** Decimal ASN text (no sign, no leading zero, no exponent) → number, else undefined. */
function asnOf(text: string): number | undefined {
  if (!/^[1-9]\d{0,9}$/.test(text)) return undefined;
  const n = Number(text);
  return isBgpAsn(n) ? n : undefined;
}

/** The canonical text and family of an address that can name a BGP neighbour without an interface, else undefined. */
function peerAddress(text: string): { readonly text: string; readonly family: 'ipv4' | 'ipv6' } | undefined {
  const v4 = parseIp(text);
  if (v4 !== undefined) {
    // No neighbour lives in this network, loopback, link-local, multicast, 240/4 or broadcast (shared/ip IPV4_RESERVED).
    return !isRoutableUnicastIpv4(v4) ? undefined : { text: formatIp(v4), family: 'ipv4' };
  }
  const v6 = parseIpv6(text);
  // Link-local needs an interface (`fe80::1%eth0`) the document does not name; IPv4-mapped is an IPv4 peer written oddly.
  if (v6 === undefined || v6 <= 1n || [IPV6_MULTICAST, IPV6_LINK_LOCAL, IPV6_IPV4_MAPPED].some((c) => cidrContains6(c, v6))) return undefined;
  return { text: formatIpv6(v6), family: 'ipv6' };
}

/**
 * The one strict check of a node's BGP values as a document says them, for
 * netd before anything reaches bird.conf (the CLC's property checks apply the
 * same predicates earlier, with paths). Returns every problem. Every value in
 * `value` is canonical text or a number that was parsed, so a renderer may
 * write it into a daemon's configuration verbatim: a peer `1.2.3.4; protocol
 * …` or a password with a quote never gets through.
 *
 * The router id is the document's, else the node's name when that is an IPv4
 * address (the CLC's default), else a problem: BGP needs one and BIRD would
 * otherwise take an interface address, which may change under it.
 */
export function checkNodeBgp(text: NodeBgpText, nodeName: string): NodeBgpCheck {
  const problems: NodeBgpProblem[] = [];
  const localAs = text.localAs === undefined ? undefined : asnOf(text.localAs);
  if (localAs === undefined) {
    problems.push({ code: 'BGP_LOCAL_AS_INVALID', message: text.localAs === undefined ? 'local-as is missing' : `local-as ${JSON.stringify(text.localAs)} is not an AS number 1-4294967295` });
  }

  const idText = text.routerId ?? nodeName;
  const id = parseIp(idText);
  if (id === undefined || id === 0) {
    problems.push({
      code: 'BGP_ROUTER_ID_INVALID',
      message: text.routerId !== undefined
        ? `router-id ${JSON.stringify(text.routerId)} is not a non-zero IPv4 address`
        : `no router-id, and the node's name ${JSON.stringify(nodeName)} is not an IPv4 address to take as one`,
    });
  }

  const peers: BgpPeer[] = [];
  const seen = new Set<string>();
  for (const p of text.peers) {
    const m = /^(\S+) (\S+)$/.exec(p);
    const address = m ? peerAddress(m[1]!) : undefined;
    const as = m ? asnOf(m[2]!) : undefined;
    if (address === undefined || as === undefined) {
      problems.push({ code: 'BGP_PEER_INVALID', message: `peer ${JSON.stringify(p)} is not "ADDRESS ASN" with a unicast, non-link-local address and an AS number 1-4294967295` });
      continue;
    }
    if (seen.has(address.text)) {
      problems.push({ code: 'BGP_PEER_DUPLICATE', message: `peer ${address.text} is listed twice` });
      continue;
    }
    seen.add(address.text);
    peers.push({ address: address.text, as });
  }

  const communities: string[] = [];
  for (const c of text.communities) {
    const canonical = canonicalBgpCommunity(c);
    if (canonical === undefined) problems.push({ code: 'BGP_COMMUNITY_INVALID', message: `community ${JSON.stringify(c)} is not ASN:VALUE with both parts 0-65535` });
    else if (!communities.includes(canonical)) communities.push(canonical);
  }

  if (text.password !== undefined && !isBgpPassword(text.password)) {
    // The value itself is never echoed: it is a secret, and it may be hostile text.
    problems.push({ code: 'BGP_PASSWORD_INVALID', message: `password (${text.password.length} characters) is not 1-80 printable ASCII characters without " or \\ and without a space at either end` });
  }

  if (problems.length > 0 || localAs === undefined || id === undefined) return { ok: false, problems };
  return {
    ok: true,
    value: {
      localAs,
      routerId: formatIp(id),
      peers,
      communities,
      ...(text.password === undefined ? {} : { password: text.password }),
    },
  };
}
