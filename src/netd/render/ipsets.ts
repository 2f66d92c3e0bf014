/**
 * ipsets: `<P>-ALLPRIV` (every private network of the cloud: cluster
 * subnets, the document's top-level subnets, and any instance private IP
 * outside them), `<P>-LOCAL` (private IPs of this node's instances) and one
 * set per security group that a local instance uses or that a local group's
 * rules name as a source: members' private and public IPs, cloud-wide.
 * Members are in kernel form (`a.b.c.d` for a host, `a.b.c.d/n` for a
 * network) and sorted, so they compare equal with `ipset save`.
 *
 * A dual-stack cluster adds inet6 sets (ip6tables matches them):
 * `<P>-LOCAL-6` (global IPv6 addresses of this node's instances),
 * `<P>-HOSTS-6` (instance-guard.ts) and `<P>-<group>-6` per group that a local
 * instance uses or that a local group's IPv6 rules name as a source: members'
 * IPv6 addresses, cloud-wide. No ALLPRIV: IPv6 has no NAT to exempt from.
 */
import { instanceIpv6 } from '../../shared/gni/ipv6.ts';
import type { Cidr } from '../../shared/ip.ts';
import { cidrContains, formatCidr, formatIpv6, networkAddress, parseIp, parseIpv6, parseNetmask } from '../../shared/ip.ts';
import { sortMembers } from '../netfilter/model.ts';
import type { RenderContext } from './context.ts';
import { publicIpOf } from './context.ts';
import { localGroups, referencedGroups } from './filter.ts';
import { hostsSet, hostsSet6 } from './instance-guard.ts';
import type { IpSet } from './types.ts';

function subnetCidr(subnet: string, netmask: string): Cidr | undefined {
  const ip = parseIp(subnet);
  const prefix = parseNetmask(netmask);
  if (ip === undefined || prefix === undefined || prefix === 0) return undefined;
  return { network: networkAddress({ network: ip, prefix }), prefix };
}

function member(c: Cidr): string {
  const text = formatCidr(c);
  return c.prefix === 32 ? text.slice(0, -3) : text;
}

const sorted = sortMembers;

/** `nets.some(…)` without a closure per call (it runs per instance of the cloud). */
function inAny(nets: readonly Cidr[], ip: number): boolean {
  for (const n of nets) if (cidrContains(n, ip)) return true;
  return false;
}

/**
 * One pass over the cloud's instances: private IPs outside `nets` (for
 * ALLPRIV), and the members of each group in `groups` (an instance listing a
 * group twice counts once).
 */
function scanInstances(ctx: RenderContext, nets: readonly Cidr[], groups: ReadonlySet<string>): { outside: string[]; members: Map<string, string[]> } {
  const outside: string[] = [];
  const members = new Map<string, string[]>();
  for (const g of groups) members.set(g, []);
  for (const inst of ctx.doc.instances) {
    // No private IP: an IPv6-only ROUTED instance (its group membership is its public IP and the ipv6 sets).
    const priv = inst.privateIp;
    const ip = priv === undefined ? undefined : parseIp(priv);
    if (priv !== undefined && ip !== undefined && ip !== 0 && !inAny(nets, ip)) outside.push(priv);
    const sgs = inst.securityGroups;
    for (let k = 0; k < sgs.length; k++) {
      const list = members.get(sgs[k] as string);
      if (list === undefined || sgs.indexOf(sgs[k] as string) < k) continue;
      if (priv !== undefined && ip !== undefined && priv !== '0.0.0.0') list.push(priv);
      const pub = publicIpOf(inst);
      if (pub !== undefined) list.push(pub);
    }
  }
  return { outside, members };
}

const byName = (a: IpSet, b: IpSet): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The inet6 sets of a dual-stack cluster (none for an IPv4-only one). */
function ipsets6(ctx: RenderContext): IpSet[] {
  if (ctx.ipv6 === undefined) return [];
  const { names } = ctx;
  const groups = localGroups(ctx);
  const setGroups = new Set([...groups, ...referencedGroups(ctx, groups, 'ipv6')]);
  const members = new Map<string, string[]>([...setGroups].map((g) => [g, []]));
  for (const inst of ctx.doc.instances) {
    const text = instanceIpv6(inst);
    const ip = text === undefined ? undefined : parseIpv6(text);
    if (ip === undefined) continue;
    for (const g of new Set(inst.securityGroups)) members.get(g)?.push(formatIpv6(ip));
  }
  const groupSets: IpSet[] = [...setGroups].map((g) => ({
    name: names.groupSet6(g), type: 'hash:ip', family: 'inet6', members: sorted(members.get(g) ?? []), comment: `members of ${g} (IPv6 addresses)`,
  }));
  groupSets.sort(byName);
  return [
    {
      name: names.localSet6, type: 'hash:ip', family: 'inet6', members: sorted(ctx.locals.flatMap((i) => (i.ipv6 === undefined ? [] : [i.ipv6]))),
      comment: 'IPv6 addresses of the instances on this node',
    },
    hostsSet6(ctx),
    ...groupSets,
  ];
}

export function renderIpsets(ctx: RenderContext): IpSet[] {
  const { names, doc } = ctx;
  const nets: Cidr[] = [];
  for (const c of doc.configuration.clusters) {
    const n = subnetCidr(c.subnet.subnet, c.subnet.netmask);
    if (n !== undefined) nets.push(n);
  }
  for (const s of doc.configuration.subnets) {
    const n = subnetCidr(s.subnet, s.netmask);
    if (n !== undefined) nets.push(n);
  }
  const groups = localGroups(ctx);
  const setGroups = [...new Set([...groups, ...referencedGroups(ctx, groups)])];
  const { outside, members } = scanInstances(ctx, nets, new Set(setGroups));
  const allPriv = [...nets.map(member), ...outside];
  const groupSets: IpSet[] = setGroups.map((g) => ({
    name: names.groupSet(g), type: 'hash:ip', members: sorted(members.get(g) ?? []), comment: `members of ${g} (private and public IPs)`,
  }));
  groupSets.sort(byName);
  return [
    { name: names.allPrivateSet, type: 'hash:net', members: sorted(allPriv), comment: 'private networks of the cloud: reached without SNAT' },
    { name: names.localSet, type: 'hash:ip', members: sorted(ctx.locals.map((i) => i.privateIp)), comment: 'private IPs of the instances on this node' },
    hostsSet(ctx),
    ...groupSets,
    ...ipsets6(ctx),
  ];
}
