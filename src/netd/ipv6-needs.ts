/**
 * Which parts of a desired state need the kernel's IPv6 stack, and the refusal
 * when the host has none (`HostOps.ipv6Available()` false: a kernel booted
 * with ipv6.disable=1 has no ip6tables tables, no IPv6 routes, no
 * /proc/sys/net/ipv6, and radvd cannot open its socket).
 *
 * An IPv4-only document needs nothing here (empty ip6tables tables, no inet6
 * set, no bridge route, radvd not running): it syncs on such a host exactly
 * as before IPv6 existed, observe reading the IPv6 side as empty. A
 * dual-stack one is refused whole, like a render failure: nothing on the host
 * changes, IPv4 included, because half a dual-stack cluster applied would
 * look healthy in `netd status` while its instances silently lack IPv6
 * connectivity and anti-spoofing rules.
 */
import type { DesiredState } from './render/types.ts';
import type { ErrorCode } from '../shared/error-codes.ts';
import { RADVD_KIND } from './render/radvd.ts';

/** What of `desired` needs IPv6 in the kernel, for people; [] for an IPv4-only state. */
export function ipv6Needs(desired: DesiredState): string[] {
  const needs: string[] = [];
  const tables = (['filter', 'nat'] as const).filter((t) => desired.ip6tables[t].chains.length > 0 || desired.ip6tables[t].hooks.length > 0);
  if (tables.length > 0) needs.push(`ip6tables ${tables.join(' and ')} rules`);
  const sets = desired.ipsets.filter((s) => s.family === 'inet6').length;
  if (sets > 0) needs.push(`${sets} inet6 ipset${sets === 1 ? '' : 's'}`);
  for (const prefix of desired.bridgeRoutes) needs.push(`the route ${prefix} on ${desired.bridge?.name ?? 'the bridge'}`);
  const sysctls = desired.sysctls.filter((s) => s.key.startsWith('net.ipv6.')).map((s) => s.key);
  if (sysctls.length > 0) needs.push(`sysctl ${sysctls.join(', ')}`);
  if (desired.processes.some((p) => p.kind === RADVD_KIND && p.run)) needs.push('radvd');
  // ROUTED: the IPv6 gateway and /128 routes on the instance ports (plan/routed.ts writes net.ipv6.conf.<port>.* too).
  if (desired.routed?.gatewayIpv6 !== undefined && desired.routed.ports.length > 0) needs.push(`the IPv6 gateway ${desired.routed.gatewayIpv6} on routed ports`);
  return needs;
}

/** The refusal of a sync whose desired state needs IPv6 on a host without it; undefined when there is nothing to refuse. */
export function ipv6Refusal(desired: DesiredState, ipv6Available: boolean): { readonly code: Extract<ErrorCode, 'IPV6_UNAVAILABLE'>; readonly message: string } | undefined {
  if (ipv6Available) return undefined;
  const needs = ipv6Needs(desired);
  if (needs.length === 0) return undefined;
  return {
    code: 'IPV6_UNAVAILABLE',
    message:
      `cluster ${desired.cluster} is dual-stack (it needs ${needs.join(', ')}) but this node's kernel has no IPv6 ` +
      '(no /proc/net/if_inet6: booted with ipv6.disable=1?): enable IPv6 on the node (remove ipv6.disable=1 from the kernel command line and reboot) ' +
      "or remove the cluster's Ipv6Prefix from the network configuration; nothing was changed on this node (IPv4 included)",
  };
}
