/**
 * Every fixed name netd puts into the kernel, derived from one prefix
 * (`EDGENET_PREFIX`, default `EDGENET`, 1–8 letters/digits).
 *
 * Model: `netdNames(prefix)` returns the names of the dispatch chains, the
 * shared ipsets and the functions that derive per-group and per-instance
 * names. Ownership is decided by `isOurs(name)`: a name is ours iff it starts
 * with `<prefix>-`; the appliers sweep exactly those and touch nothing else.
 *
 * Invariants (checked by the golden tests): every name starts with
 * `<prefix>-`; iptables and ebtables chain names are ≤ 28 characters, ipset
 * names ≤ 31. Ids that would make a name too long are replaced
 * by a stable hash so that the same id always gives the same name.
 */
import { createHash } from 'node:crypto';

export const IPTABLES_CHAIN_MAX = 28;
export const IPSET_NAME_MAX = 31;
/** ebtables-nft refuses 29 characters and more ("must be under 29 chars"), like iptables. */
export const EBTABLES_CHAIN_MAX = 28;

/** Every instance's host-side NIC is named `vn_<id>`; netd's per-port state (ROUTED) is owned on these links only. */
export const INSTANCE_INTERFACE_PREFIX = 'vn_';

/** Interface name of an instance's host-side NIC (the contract with whatever starts VMs). */
export function instanceInterface(instanceId: string): string {
  return `${INSTANCE_INTERFACE_PREFIX}${instanceId}`;
}

/** Linux interface names are at most 15 characters (IFNAMSIZ - 1). */
export const INTERFACE_NAME_MAX = 15;

/** Wildcard matching every instance interface (iptables/ebtables `+` suffix). */
export const INSTANCE_INTERFACE_WILDCARD = 'vn_+';

/** Mark set in nat PREROUTING on traffic that must keep its private source (Eucalyptus used 0x2a too). */
export const NO_SNAT_MARK = '0x2a';

export interface NetdNames {
  readonly prefix: string;
  /** filter: dispatch chain jumped from FORWARD. */
  readonly filterForward: string;
  /** filter: chain jumped from INPUT (instances may not reach this node's control-plane ports). */
  readonly filterInput: string;
  /** nat: chains jumped from PREROUTING, OUTPUT, POSTROUTING. */
  readonly natPre: string;
  readonly natOut: string;
  readonly natPost: string;
  /** ebtables nat: chains jumped from PREROUTING (frames from VMs) and POSTROUTING (frames to VMs). */
  readonly ebPre: string;
  readonly ebPost: string;
  /** ipset: every private network of the cloud (cluster subnets, global subnets, instance IPs). */
  readonly allPrivateSet: string;
  /** ipset: private IPs of the instances on this node. */
  readonly localSet: string;
  /** ipset: addresses of the cloud's hosts (nodes, CCs, CLC): instances may not reach their control-plane ports. */
  readonly hostsSet: string;
  /** ipset (family inet6): global IPv6 addresses of the instances on this node. */
  readonly localSet6: string;
  /** ipset (family inet6): the cloud's hosts' IPv6 addresses (the CLC's, METADATA_IPV6). */
  readonly hostsSet6: string;
  /** ip6tables filter: neighbour advertisements from instance ports, checked against their own addresses. */
  readonly ndGuard: string;
  /** ebtables filter: chain jumped from OUTPUT (router advertisements stay on instance ports). */
  readonly ebOut: string;
  /** iptables/ip6tables filter, ROUTED: the source addresses each routed instance port may send from (anti-spoofing). */
  readonly antiSpoof: string;
  /** iptables chain of a security group (ip6tables uses the same name: its own namespace). */
  groupChain(groupId: string): string;
  /** ipset of a security group's members (private and public IPs). */
  groupSet(groupId: string): string;
  /** ipset (family inet6) of a security group's members' IPv6 addresses: the group set's name plus `-6`. */
  groupSet6(groupId: string): string;
  /** ebtables chain for frames sent by an instance. */
  instanceFromChain(instanceId: string): string;
  /** ebtables chain for frames delivered to an instance. */
  instanceToChain(instanceId: string): string;
  isOurs(name: string): boolean;
}

/** Short stable digest (base-36, lower case) used when an id does not fit. */
function digest(text: string, length: number): string {
  const hex = createHash('sha256').update(text).digest('hex').slice(0, 16);
  return BigInt(`0x${hex}`).toString(36).padStart(length, '0').slice(-length);
}

/**
 * `<prefix>-<tag><id>` if it fits in `max`, else `<prefix>-<tag>h<digest>` that fits.
 * The `h` marker keeps a hashed name from ever colliding with a literal id that
 * happens to look like a digest (group ids start with `sg-`, instance ids with `i-`).
 */
function fit(prefix: string, tag: string, id: string, max: number): string {
  const plain = `${prefix}-${tag}${id}`;
  if (plain.length <= max && /^[A-Za-z0-9_.-]+$/.test(id)) return plain;
  const room = max - prefix.length - 1 - tag.length - 1;
  return `${prefix}-${tag}h${digest(id, Math.min(room, 13))}`;
}

/**
 * `fit(...)` with a fixed suffix (`-6`) kept whole: ipsets of both families
 * share one namespace, so an inet6 set is its inet twin's name plus the suffix,
 * hashed (with room for the suffix) when the two do not fit together.
 */
function fitSuffixed(prefix: string, id: string, suffix: string, max: number): string {
  const plain = `${prefix}-${id}${suffix}`;
  if (plain.length <= max && /^[A-Za-z0-9_.-]+$/.test(id)) return plain;
  return `${fit(prefix, '', `${id}${suffix}`, max - suffix.length)}${suffix}`;
}

export function netdNames(prefix: string): NetdNames {
  if (!/^[A-Za-z0-9]{1,8}$/.test(prefix)) throw new Error(`invalid name prefix ${JSON.stringify(prefix)}`);
  return {
    prefix,
    filterForward: `${prefix}-FWD`,
    filterInput: `${prefix}-IN`,
    natPre: `${prefix}-PRE`,
    natOut: `${prefix}-OUT`,
    natPost: `${prefix}-POST`,
    ebPre: `${prefix}-EB-PRE`,
    ebPost: `${prefix}-EB-POST`,
    allPrivateSet: `${prefix}-ALLPRIV`,
    localSet: `${prefix}-LOCAL`,
    hostsSet: `${prefix}-HOSTS`,
    localSet6: `${prefix}-LOCAL-6`,
    hostsSet6: `${prefix}-HOSTS-6`,
    ndGuard: `${prefix}-ND`,
    ebOut: `${prefix}-EB-OUT`,
    antiSpoof: `${prefix}-SPOOF`,
    // Group ids already start with `sg-`; a chain and a set may share a name
    // (iptables and ipset are separate namespaces), which keeps dumps readable.
    groupChain: (id) => fit(prefix, '', id, IPTABLES_CHAIN_MAX),
    groupSet: (id) => fit(prefix, '', id, IPTABLES_CHAIN_MAX),
    groupSet6: (id) => fitSuffixed(prefix, id, '-6', IPTABLES_CHAIN_MAX),
    instanceFromChain: (id) => fit(prefix, 'I-', id, EBTABLES_CHAIN_MAX),
    instanceToChain: (id) => fit(prefix, 'O-', id, EBTABLES_CHAIN_MAX),
    isOurs: (name) => name.startsWith(`${prefix}-`),
  };
}
