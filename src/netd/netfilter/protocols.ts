/**
 * IP protocol names as iptables-save prints them. The nft-backed iptables
 * prints `-p <name>` for every number /etc/protocols names (e.g. `-p 132` comes
 * back as `-p sctp`), so the echo depends on the host's /etc/protocols. The
 * renderer writes tcp/udp/icmp by name and every other protocol by number; the
 * parser maps names back to numbers so both sides compare equal on any host.
 */

// The standard netbase /etc/protocols (IANA) names: number → name.
const NAMES: Readonly<Record<number, readonly string[]>> = {
  0: ['ip', 'hopopt'], 1: ['icmp'], 2: ['igmp'], 3: ['ggp'], 4: ['ipencap', 'ip-encap'], 5: ['st'], 6: ['tcp'], 8: ['egp'],
  9: ['igp'], 12: ['pup'], 17: ['udp'], 20: ['hmp'], 22: ['xns-idp'], 27: ['rdp'], 29: ['iso-tp4'], 33: ['dccp'], 36: ['xtp'],
  37: ['ddp'], 38: ['idpr-cmtp'], 41: ['ipv6'], 43: ['ipv6-route'], 44: ['ipv6-frag'], 45: ['idrp'], 46: ['rsvp'],
  47: ['gre'], 50: ['esp', 'ipv6-crypt'], 51: ['ah', 'ipv6-auth'], 57: ['skip'], 58: ['ipv6-icmp', 'icmpv6'],
  59: ['ipv6-nonxt'], 60: ['ipv6-opts'], 73: ['rspf'], 81: ['vmtp'], 88: ['eigrp'], 89: ['ospf', 'ospfigp'],
  93: ['ax.25'], 94: ['ipip'], 97: ['etherip'], 98: ['encap'], 103: ['pim'], 108: ['ipcomp'], 112: ['vrrp'],
  115: ['l2tp'], 124: ['isis'], 132: ['sctp'], 133: ['fc'], 135: ['mobility-header'], 136: ['udplite'],
  137: ['mpls-in-ip'], 138: ['manet'], 139: ['hip'], 140: ['shim6'], 141: ['wesp'], 142: ['rohc'], 143: ['ethernet'],
};

const BY_NAME = new Map<string, number>();
for (const [num, names] of Object.entries(NAMES)) for (const n of names) BY_NAME.set(n, Number(num));

/** Protocols the renderer writes by name (iptables knows them without /etc/protocols). */
export const NAMED_PROTOCOLS: ReadonlySet<string> = new Set(['tcp', 'udp', 'icmp']);

/** `-p` value in the renderer's canonical form: tcp/udp/icmp by name, everything else by number. */
export function canonicalProtocol(value: string): string {
  const neg = value.startsWith('!');
  const v = neg ? value.slice(1) : value;
  const lower = v.toLowerCase();
  if (NAMED_PROTOCOLS.has(lower)) return value.toLowerCase();
  const num = /^\d+$/.test(lower) ? Number(lower) : BY_NAME.get(lower);
  if (num === undefined) return value;
  if (num === 6) return neg ? '!tcp' : 'tcp';
  if (num === 17) return neg ? '!udp' : 'udp';
  if (num === 1) return neg ? '!icmp' : 'icmp';
  return `${neg ? '!' : ''}${num}`;
}
