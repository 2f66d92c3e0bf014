/**
 * IPv6 addresses derived from a MAC or from another address: the modified
 * EUI-64 interface id (RFC 4291 §2.5.1 and appendix A), the link-local and
 * SLAAC addresses built from it (RFC 4862 §5.3), and the solicited-node
 * multicast group (RFC 4291 §2.7.1) a host joins for each of its addresses,
 * which neighbour discovery (and so any rule that lets it through) targets.
 */
import type { Cidr6, Ipv6 } from './ipv6.ts';

const LINK_LOCAL_PREFIX: Ipv6 = 0xfe80n << 112n; // fe80::/64
const SOLICITED_NODE_PREFIX: Ipv6 = (0xff02n << 112n) | (0x1ffn << 24n); // ff02::1:ff00:0/104
const LOW_64: Ipv6 = (1n << 64n) - 1n;

const MAC_FORM = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;

/** `hh:hh:hh:hh:hh:hh` in any case: the one MAC form every reader accepts. */
export function isMacAddress(text: string): boolean {
  return MAC_FORM.test(text);
}

/** A MAC address (isMacAddress) that is unicast: I/G bit (0x01 of the first octet) clear, not all zeros. */
export function isUnicastMacAddress(text: string): boolean {
  return isMacAddress(text) && (Number.parseInt(text.slice(0, 2), 16) & 1) === 0 && !/^(00:){5}00$/.test(text);
}

/** `hh:hh:hh:hh:hh:hh` (any case) → 48-bit value; undefined for any other text. */
function parseMac(mac: string): bigint | undefined {
  if (!isMacAddress(mac)) return undefined;
  return BigInt(`0x${mac.replaceAll(':', '')}`);
}

/**
 * Modified EUI-64 interface id of a MAC: `ff:fe` inserted between its halves
 * and the universal/local bit (0x02 of the first octet) inverted.
 */
export function eui64InterfaceId(mac: string): bigint | undefined {
  const v = parseMac(mac);
  if (v === undefined) return undefined;
  const eui = ((v >> 24n) << 40n) | (0xfffen << 24n) | (v & 0xffffffn);
  return eui ^ (0x02n << 56n);
}

/** fe80::/64 plus the MAC's interface id: the address the kernel gives the interface. */
export function linkLocalAddress(mac: string): Ipv6 | undefined {
  const id = eui64InterfaceId(mac);
  return id === undefined ? undefined : LINK_LOCAL_PREFIX | id;
}

/** SLAAC address of a MAC in a /64 (undefined for a longer prefix, which SLAAC cannot fill). */
export function slaacAddress(prefix: Cidr6, mac: string): Ipv6 | undefined {
  const id = eui64InterfaceId(mac);
  if (id === undefined || prefix.prefix > 64) return undefined;
  return (prefix.network & ~LOW_64 & ((1n << 128n) - 1n)) | id;
}

/** ff02::1:ffXX:XXXX, XX:XXXX being the address's low 24 bits. */
export function solicitedNodeAddress(address: Ipv6): Ipv6 {
  return SOLICITED_NODE_PREFIX | (address & 0xffffffn);
}
