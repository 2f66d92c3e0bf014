/**
 * IP protocols: one table of numbers and names for the whole tree.
 *
 * A protocol has one number but several names, and each consumer is bound by
 * a different outside convention, so the table keeps them as separate
 * columns instead of one "name" (this is why sctp looked inconsistent before
 * the tables were merged: the GNI names it, the EC2 API and iptables argv do
 * not, and that is right for each):
 * - `names`: the standard netbase /etc/protocols names. The nft-backed
 *   iptables-save prints `-p <name>` for any number /etc/protocols names
 *   (`-p 132` comes back as `-p sctp`), so every alias must map back.
 * - `gniName`: the names of the GNI rule model (Eucalyptus's
 *   NetworkRule.Protocol: icmp, tcp, udp, sctp): read in Eucalyptus 4.0 rule
 *   strings (`-P sctp ...`) and written in rule comments ("protocol sctp").
 * - `apiName`: the names the EC2 API accepts and returns for IpProtocol
 *   (tcp, udp, icmp, icmpv6 as EC2 spells ICMPv6; every other protocol
 *   travels as its number, "132").
 * - `argvName`: the names netd writes in iptables `-p` (tcp, udp, icmp: the
 *   ones iptables resolves without /etc/protocols); every other protocol is
 *   written by number, and the echo is mapped back through `names`.
 * - `argv6Name`: the same for ip6tables: tcp, udp, and 58 as `ipv6-icmp`,
 *   the name ip6tables-save prints for it (`argvProtocolName` picks the
 *   family's column). icmp (1) has none: no IPv6 rule carries it
 *   (`rulesForFamily`), and the number is what a writer falls back to.

 * - `ports`: EC2 rules on it carry a port range (tcp, udp). A rule on any
 *   other protocol covers every port, even for sctp, which has ports.
 * - `icmpOf`: the ICMP of an address family (type/code instead of ports):
 *   1 for IPv4, 58 for IPv6.
 *
 * ICMPv6 has no `gniName` on purpose: the GNI model's names are Eucalyptus's
 * NetworkRule.Protocol (which has no ICMPv6), and the document writes
 * protocols as numbers (`<protocol>58</protocol>`, and `-P 58` in the `ipv6`
 * extension's rule strings), so 58 is spelled `58` in the GNI.
 */
import type { IpFamily } from './ip.ts';

export interface ProtocolEntry {
  readonly number: number;
  /** /etc/protocols names, the one getprotobynumber returns first. */
  readonly names: readonly string[];
  readonly gniName?: string;
  readonly apiName?: string;
  readonly argvName?: string;
  readonly argv6Name?: string;
  readonly ports?: true;
  readonly icmpOf?: IpFamily;
}

// The standard netbase /etc/protocols (IANA) names: number → names.
const ETC_PROTOCOLS: Readonly<Record<number, readonly string[]>> = {
  0: ['ip', 'hopopt'], 1: ['icmp'], 2: ['igmp'], 3: ['ggp'], 4: ['ipencap', 'ip-encap'], 5: ['st'], 6: ['tcp'], 8: ['egp'],
  9: ['igp'], 12: ['pup'], 17: ['udp'], 20: ['hmp'], 22: ['xns-idp'], 27: ['rdp'], 29: ['iso-tp4'], 33: ['dccp'], 36: ['xtp'],
  37: ['ddp'], 38: ['idpr-cmtp'], 41: ['ipv6'], 43: ['ipv6-route'], 44: ['ipv6-frag'], 45: ['idrp'], 46: ['rsvp'],
  47: ['gre'], 50: ['esp', 'ipv6-crypt'], 51: ['ah', 'ipv6-auth'], 57: ['skip'], 58: ['ipv6-icmp', 'icmpv6'],
  59: ['ipv6-nonxt'], 60: ['ipv6-opts'], 73: ['rspf'], 81: ['vmtp'], 88: ['eigrp'], 89: ['ospf', 'ospfigp'],
  93: ['ax.25'], 94: ['ipip'], 97: ['etherip'], 98: ['encap'], 103: ['pim'], 108: ['ipcomp'], 112: ['vrrp'],
  115: ['l2tp'], 124: ['isis'], 132: ['sctp'], 133: ['fc'], 135: ['mobility-header'], 136: ['udplite'],
  137: ['mpls-in-ip'], 138: ['manet'], 139: ['hip'], 140: ['shim6'], 141: ['wesp'], 142: ['rohc'], 143: ['ethernet'],
};

// The columns beyond the names (see the header for what each convention is).
const COLUMNS: Readonly<Record<number, Omit<ProtocolEntry, 'number' | 'names'>>> = {
  1: { gniName: 'icmp', apiName: 'icmp', argvName: 'icmp', icmpOf: 'ipv4' },
  6: { gniName: 'tcp', apiName: 'tcp', argvName: 'tcp', argv6Name: 'tcp', ports: true },
  17: { gniName: 'udp', apiName: 'udp', argvName: 'udp', argv6Name: 'udp', ports: true },
  58: { apiName: 'icmpv6', argv6Name: 'ipv6-icmp', icmpOf: 'ipv6' },
  132: { gniName: 'sctp' },
};

const BY_NUMBER: ReadonlyMap<number, ProtocolEntry> = new Map(
  Object.entries(ETC_PROTOCOLS).map(([num, names]) => [Number(num), { number: Number(num), names, ...COLUMNS[Number(num)] }]),
);

/** Every /etc/protocols name (lower case) → number. */
const BY_NAME: ReadonlyMap<string, number> = new Map([...BY_NUMBER.values()].flatMap((p) => p.names.map((n) => [n, p.number] as const)));

/** name → number for one column; no prototype, so `table['constructor']` is undefined like any unknown name. */
const column = (key: 'gniName' | 'apiName' | 'argvName'): Readonly<Record<string, number>> =>
  Object.assign(Object.create(null) as Record<string, number>, Object.fromEntries([...BY_NUMBER.values()].flatMap((p) => (p[key] === undefined ? [] : [[p[key], p.number]]))));

/** GNI rule-model names → numbers: icmp, tcp, udp, sctp. */
export const GNI_PROTOCOL_NUMBERS = column('gniName');
/** EC2 API names → numbers: tcp, udp, icmp, icmpv6. */
export const API_PROTOCOL_NUMBERS = column('apiName');
/** Protocols netd writes by name in iptables `-p`. */
export const ARGV_NAMED_PROTOCOLS: ReadonlySet<string> = new Set(Object.keys(column('argvName')));

export function protocolEntry(protocol: number): ProtocolEntry | undefined {
  return BY_NUMBER.get(protocol);
}

/** Number of an /etc/protocols name (any case, any alias); undefined when not listed. */
export function protocolNumber(name: string): number | undefined {
  return BY_NAME.get(name.toLowerCase());
}

/** The GNI rule model's name, or the number as text. */
export function gniProtocolName(protocol: number): string {
  return BY_NUMBER.get(protocol)?.gniName ?? String(protocol);
}

/** The EC2 API's IpProtocol text: its name, or the number as text. */
export function apiProtocolName(protocol: number): string {
  return BY_NUMBER.get(protocol)?.apiName ?? String(protocol);
}

/**
 * The `-p` word netd writes for a protocol in iptables (`ipv4`) or ip6tables
 * (`ipv6`): the family's name when it has one, else the number.
 */
export function argvProtocolName(protocol: number, family: IpFamily): string {
  const e = BY_NUMBER.get(protocol);
  return (family === 'ipv4' ? e?.argvName : e?.argv6Name) ?? String(protocol);
}

/** Whether EC2 rules on the protocol carry a port range (tcp, udp). */
export function protocolHasPorts(protocol: number): boolean {
  return BY_NUMBER.get(protocol)?.ports === true;
}

const ICMP_OF = new Map([...BY_NUMBER.values()].flatMap((p) => (p.icmpOf === undefined ? [] : [[p.icmpOf, p.number] as const])));

/** The ICMP protocol number of a family: 1 for IPv4, 58 for IPv6. */
export function icmpProtocol(family: IpFamily): number {
  return ICMP_OF.get(family) as number;
}
