/**
 * Family-tagged addresses and CIDRs: one type for IPv4 and IPv6, so code that
 * must handle both (the GNI, rules, pools) switches on `family` once instead
 * of guessing from text.
 *
 * Model: `IpAddress` is `{family: 'ipv4', value: number}` or `{family: 'ipv6',
 * value: bigint}`. The family names are the rule model's
 * (src/netd/netfilter/rule.ts), so an address and a rule compare families
 * directly; the values are the ones `ipv4.ts` and `ipv6.ts` work on, so a hot
 * path can drop to the per-family functions without converting. Text is
 * read by family-specific parsers (no guessing beyond "a ':' means IPv6"),
 * and an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) stays IPv6: mapping
 * between the families is a policy, not parsing. Order: every IPv4 address
 * sorts before every IPv6 address, then by value.
 */
import { assertNever } from '../errors.ts';
import { cidrContains, formatIp, parseIp, prefixToMask } from './ipv4.ts';
import { cidrContains6, formatIpv6, parseIpv6, prefixToMask6 } from './ipv6.ts';

export type IpFamily = 'ipv4' | 'ipv6';

export type IpAddress =
  | { readonly family: 'ipv4'; readonly value: number }
  | { readonly family: 'ipv6'; readonly value: bigint };

/** An address with a prefix length; `address` need not be aligned (see `isIpCidrAligned`). */
export interface IpCidr {
  readonly address: IpAddress;
  readonly prefix: number;
}

export const FAMILY_BITS: Readonly<Record<IpFamily, 32 | 128>> = { ipv4: 32, ipv6: 128 };

/** Parses either family; `family` restricts it to one. */
export function parseAddress(text: string, family?: IpFamily): IpAddress | undefined {
  if (text.includes(':')) {
    if (family === 'ipv4') return undefined;
    const v6 = parseIpv6(text);
    return v6 === undefined ? undefined : { family: 'ipv6', value: v6 };
  }
  if (family === 'ipv6') return undefined;
  const v4 = parseIp(text);
  return v4 === undefined ? undefined : { family: 'ipv4', value: v4 };
}

export function formatAddress(a: IpAddress): string {
  switch (a.family) {
    case 'ipv4': return formatIp(a.value);
    case 'ipv6': return formatIpv6(a.value);
    default: return assertNever(a);
  }
}

/** The value as a bigint (for arithmetic written once for both families). */
export function addressBigint(a: IpAddress): bigint {
  return a.family === 'ipv4' ? BigInt(a.value) : a.value;
}

/** The address of `family` with the given value (the caller keeps it in range). */
export function addressFromBigint(family: IpFamily, value: bigint): IpAddress {
  return family === 'ipv4' ? { family: 'ipv4', value: Number(value) } : { family: 'ipv6', value };
}

/** IPv4 before IPv6, then by value; 0 only for the same address. */
export function compareAddresses(a: IpAddress, b: IpAddress): number {
  if (a.family !== b.family) return a.family === 'ipv4' ? -1 : 1;
  if (a.value === b.value) return 0;
  return a.value < b.value ? -1 : 1;
}

const PREFIX_TEXT = /^(?:12[0-8]|1[01]\d|[1-9]?\d)$/;

/** Parses "address/n" of either family (n within the family's width, no leading zeros). */
export function parseIpCidr(text: string, family?: IpFamily): IpCidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const address = parseAddress(text.slice(0, slash), family);
  const prefixText = text.slice(slash + 1);
  if (address === undefined || !PREFIX_TEXT.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  return prefix > FAMILY_BITS[address.family] ? undefined : { address, prefix };
}

export function formatIpCidr(cidr: IpCidr): string {
  return `${formatAddress(cidr.address)}/${cidr.prefix}`;
}

/** The network mask of the CIDR's family, as a bigint. */
function maskOf(cidr: IpCidr): bigint {
  return cidr.address.family === 'ipv4' ? BigInt(prefixToMask(cidr.prefix)) : prefixToMask6(cidr.prefix);
}

/** No host bits set (what the kernel holds exactly as written). */
export function isIpCidrAligned(cidr: IpCidr): boolean {
  const v = addressBigint(cidr.address);
  return (v & maskOf(cidr)) === v;
}

/** The CIDR with its host bits cleared. */
export function ipCidrNetwork(cidr: IpCidr): IpCidr {
  return { address: addressFromBigint(cidr.address.family, addressBigint(cidr.address) & maskOf(cidr)), prefix: cidr.prefix };
}

/** Whether `ip` is inside the CIDR; an address of the other family never is. */
export function ipCidrContains(cidr: IpCidr, ip: IpAddress): boolean {
  const a = cidr.address;
  if (a.family === 'ipv4') return ip.family === 'ipv4' && cidrContains({ network: a.value, prefix: cidr.prefix }, ip.value);
  return ip.family === 'ipv6' && cidrContains6({ network: a.value, prefix: cidr.prefix }, ip.value);
}
