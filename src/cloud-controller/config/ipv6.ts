/**
 * The IPv6 keys of a subnet (`Ipv6Prefix`, `Ipv6DnsServers`, issue 14), each
 * checked on its own; semantic.ts relates them across subnets and clusters.
 *
 * What a prefix must be, and why:
 * - exactly a /64 (IPV6_PREFIX_LENGTH): an instance's address is the EUI-64
 *   of its MAC in the prefix, learnt by SLAAC, and SLAAC fills exactly the
 *   low 64 bits (RFC 4862 §5.5.3, RFC 4291 §2.5.1);
 * - aligned (IPV6_PREFIX_UNALIGNED): no bits set past the 64th;
 * - global unicast 2000::/3 or unique local fc00::/7 (IPV6_PREFIX_RESERVED):
 *   a routed or site-local /64; everything else is special — link-local
 *   fe80::/10 (every link has it already), multicast ff00::/8, ::/64 (the
 *   unspecified, loopback, IPv4-compatible and IPv4-mapped addresses), the
 *   NAT64, discard and other IANA ranges outside both blocks — and so is
 *   fd00:ec2::/64, the prefix of EC2's metadata address fd00:ec2::254 that
 *   netd intercepts on every bridge.
 * A name server must be a unicast address instances can reach from any node
 * (IPV6_DNS_SERVER_RESERVED): not ::, ::1, multicast, link-local (each node's
 * bridge is its own link) or IPv4-mapped. Syntax (RFC 4291 text) and the count
 * (at most 3) are the schema's; a value that does not parse is skipped here.
 */
import type { Diagnostic } from '../../shared/diagnostics.ts';
import { joinPath } from '../../shared/diagnostics.ts';
import type { Cidr6, Ipv6 } from '../../shared/ip.ts';
import { IPV6_IPV4_MAPPED, IPV6_LINK_LOCAL, IPV6_MULTICAST, cidrContains6, formatCidr6, formatIpv6, isAligned6, isInstancePrefixSpace, parseCidr6, parseIpv6, prefixToMask6 } from '../../shared/ip.ts';
import { IPV6_METADATA_ADDRESS, IPV6_METADATA_PREFIX } from '../../shared/gni/ipv6.ts';
import { diag } from './codes.ts';

/** The only prefix length a subnet's Ipv6Prefix may have (SLAAC with EUI-64 interface ids). */
const IPV6_SUBNET_PREFIX = 64;

/** The /64 of EC2's IPv6 metadata address (`fd00:ec2::254`). */
const METADATA_PREFIX = parseCidr6(IPV6_METADATA_PREFIX) as Cidr6;

/** Why a prefix's range is not for instances, or undefined for global unicast and ULA. */
function reservedPrefixReason(p: Cidr6): string | undefined {
  if (cidrContains6(METADATA_PREFIX, p.network)) return `the metadata prefix ${formatCidr6(METADATA_PREFIX)} (instances reach ${IPV6_METADATA_ADDRESS} there)`;
  if (isInstancePrefixSpace(p.network)) return undefined;
  if (cidrContains6(IPV6_LINK_LOCAL, p.network)) return 'link-local (fe80::/10)';
  if (cidrContains6(IPV6_MULTICAST, p.network)) return 'multicast (ff00::/8)';
  if (p.network >> 64n === 0n) return 'the ::/64 of the unspecified, loopback and IPv4-mapped addresses';
  return 'neither global unicast (2000::/3) nor unique local (fc00::/7)';
}

/**
 * Why an address cannot be a unicast address other hosts reach (an instance's
 * name server, the CLC's CLC_IPV6), or undefined.
 */
export function reservedServerReason(a: Ipv6): string | undefined {
  if (a === 0n) return 'the unspecified address';
  if (a === 1n) return 'the loopback address';
  if (cidrContains6(IPV6_MULTICAST, a)) return 'a multicast address';
  if (cidrContains6(IPV6_LINK_LOCAL, a)) return "link-local (each node's bridge is its own link)";
  if (cidrContains6(IPV6_IPV4_MAPPED, a)) return 'IPv4-mapped (list IPv4 name servers in InstanceDnsServers)';
  return undefined;
}

/** What a subnet object says about IPv6, after its own checks. */
export interface SubnetIpv6 {
  /** Ipv6Prefix is present (whatever its value). */
  readonly declared: boolean;
  /** The prefix, when it parses and passed every check (else undefined). */
  readonly prefix: Cidr6 | undefined;
}

const textOf = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Checks the IPv6 keys of one subnet object at `path` (a top-level subnet or a cluster's inline one). */
export function checkSubnetIpv6(s: Readonly<Record<string, unknown>>, path: string, out: Diagnostic[]): SubnetIpv6 {
  const declared = s['Ipv6Prefix'] !== undefined;
  const prefix = checkPrefix(textOf(s['Ipv6Prefix']), joinPath(path, 'Ipv6Prefix'), out);
  const servers = s['Ipv6DnsServers'];
  if (Array.isArray(servers)) {
    if (!declared && servers.length > 0) {
      out.push(diag('IPV6_DNS_WITHOUT_PREFIX', joinPath(path, 'Ipv6DnsServers'), 'Ipv6DnsServers needs an Ipv6Prefix on the same subnet: the servers are announced with the prefix'));
    }
    checkServers(servers, joinPath(path, 'Ipv6DnsServers'), out);
  }
  return { declared, prefix };
}

function checkPrefix(text: string | undefined, path: string, out: Diagnostic[]): Cidr6 | undefined {
  if (text === undefined) return undefined;
  const p = parseCidr6(text);
  if (p === undefined) return undefined; // the schema reported it
  if (p.prefix !== IPV6_SUBNET_PREFIX) {
    out.push(
      diag(
        'IPV6_PREFIX_LENGTH',
        path,
        `Cannot use ${text}: a subnet's IPv6 prefix must be exactly a /64, because instances form their address by SLAAC from the 64-bit EUI-64 interface id of their MAC`,
      ),
    );
    return undefined;
  }
  if (!isAligned6(p)) {
    const aligned = { network: p.network & prefixToMask6(p.prefix), prefix: p.prefix };
    out.push(diag('IPV6_PREFIX_UNALIGNED', path, `${text} has bits set past its /64; did you mean ${formatCidr6(aligned)}?`));
    return undefined;
  }
  const reason = reservedPrefixReason(p);
  if (reason !== undefined) {
    out.push(diag('IPV6_PREFIX_RESERVED', path, `Cannot use ${formatCidr6(p)}: it is ${reason}; use a global unicast (2000::/3) or unique local (fc00::/7) /64`));
    return undefined;
  }
  return p;
}

function checkServers(list: readonly unknown[], path: string, out: Diagnostic[]): void {
  const seen = new Map<Ipv6, number>();
  list.forEach((v, i) => {
    const a = parseIpv6(textOf(v) ?? '');
    if (a === undefined) return; // the schema reported it
    const at = joinPath(path, i);
    const reason = reservedServerReason(a);
    if (reason !== undefined) out.push(diag('IPV6_DNS_SERVER_RESERVED', at, `Cannot use ${formatIpv6(a)} as a name server for instances: it is ${reason}`));
    const first = seen.get(a);
    if (first !== undefined) out.push(diag('IPV6_DNS_SERVER_DUPLICATE', at, `Name server ${formatIpv6(a)} is listed twice (also ${joinPath(path, first)})`));
    else seen.set(a, i);
  });
}
