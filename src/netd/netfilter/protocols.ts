/**
 * IP protocol names as iptables-save prints them. The nft-backed iptables
 * prints `-p <name>` for every number /etc/protocols names (e.g. `-p 132` comes
 * back as `-p sctp`), so the echo depends on the host's /etc/protocols. The
 * writer (ip-rule-args.ts) writes tcp/udp/icmp by name and every other protocol by number; the
 * parser maps names back to numbers so both sides compare equal on any host.
 */
import type { IpFamily } from './rule.ts';
import { argvProtocolName, protocolNumber } from '../../shared/protocols.ts';

/**
 * `-p` value in the writer's canonical form: tcp/udp by name, the family's
 * ICMP by the writer's name (`icmp` for ipv4, `ipv6-icmp` for ipv6: what
 * ip6tables-save prints for 58), everything else by number.
 */
export function canonicalProtocol(value: string, family: IpFamily = 'ipv4'): string {
  const neg = value.startsWith('!');
  const v = neg ? value.slice(1) : value;
  const lower = v.toLowerCase();
  const num = /^\d+$/.test(lower) ? Number(lower) : protocolNumber(lower);
  if (num === undefined) return value;
  return `${neg ? '!' : ''}${argvProtocolName(num, family)}`;
}
