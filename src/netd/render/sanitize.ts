/**
 * sanitize: a document from an authenticated peer is still untrusted input
 * (issue 11, class 2). Between parse (which checked the document's form) and
 * render, this pure step checks its MEANING and returns the document minus
 * every entry that would be unsafe to lay down, each with a named reason:
 *
 * - instance ids `i-` + 8 or 17 hex digits, group ids `sg-` + 8 or 17 hex
 *   digits, before they become interface, chain, set or dhcpd host names
 *   (`i-+` would become the ebtables wildcard `vn_i-+`);
 * - MACs unicast (not multicast, not broadcast, not zero) and unique in the cloud;
 * - a private IP present, except in a ROUTED document (an IPv6-only ROUTED
 *   instance has none; EDGE renders every instance from its IPv4);
 * - private IPs unique, inside their cluster's subnet, and none of its
 *   network, broadcast or gateway address, nor a node's, a CC's, the CLC's
 *   or this host's own address;
 * - public IPs unicast, unique (also against private IPs), inside the
 *   document's public pool, and never a node's, a CC's, the CLC's or this
 *   host's address (the node would take that address and cut itself off);
 * - the CLC address unicast and not loopback (else left out: no metadata DNAT);
 * - every ingress rule renderable exactly (shared/gni/rule-check.ts), and in
 *   the list of its family (shared/gni/ipv6.ts `ruleDocumentPlace`);
 * - per mode (sanitize-hook.ts, MODE_SANITIZERS): a mode whose addresses
 *   mean something else replaces the private-IP-in-subnet rule with its own
 *   check of each instance and may refuse whole clusters. ROUTED
 *   (routed-sanitize.ts): addressing per cluster, routed IPv4 in the cluster's
 *   pool, IPv6 required and EUI-64 on ipv6/dual clusters, elastic addresses in
 *   the public pool; an instance failing any is left out whole;
 * - IPv6 (the `ipv6` extension, issue 14; render/ipv6-checks.ts): a cluster
 *   prefix is an aligned /64 of global unicast or ULA space (else the cluster
 *   is IPv4-only); its name servers and the CLC's IPv6 address are unicast
 *   (else left out); an instance's IPv6 address lies in its cluster's prefix
 *   and is the EUI-64 address of its MAC (else only its IPv6 is left out: it
 *   keeps IPv4); every IPv6 rule reads and is exact, like IPv4's.
 *
 * A bad entry is left out and so is whatever it collides with (two instances
 * with one MAC both go: netd cannot know which is the impostor). A left-out
 * group is also dropped from its members' lists and from rules that name it.
 * The rest of the document applies. Output lists keep document order.
 */
import type { GniExtension } from '../../shared/gni/extension.ts';
import {
  IPV6_EXTENSION, clusterIpv6, clusterIpv6Extension, configurationIpv6, formatRuleString, groupIpv6Extension, groupIpv6Rules, instanceIpv6, ruleDocumentPlace,
} from '../../shared/gni/ipv6.ts';
import type { GniCluster, GniDocument, GniInstance, GniRule, GniSecurityGroup } from '../../shared/gni/model.ts';
import type { NetdConfig } from '../config.ts';
import { checkClusterPrefix, checkInstanceAddress, unicastIpv6 } from './ipv6-checks.ts';
import { render } from './render.ts';
import { modeNameOf } from '../modes/registry.ts';
import type { NetworkModeName } from '../../shared/gni/mode.ts';
import type { ModeSanitizer } from './sanitize-hook.ts';
import { routedSanitizer, type RoutedSanitizeCode } from './routed-sanitize.ts';
import type { HostFacts, RenderResult } from './types.ts';
import { checkRule, GROUP_ID_FORM, INSTANCE_ID_FORM, type RuleRefusalCode } from '../../shared/gni/rule-check.ts';
import type { Cidr, Cidr6, Ipv4 } from '../../shared/ip.ts';
import { broadcastAddress, isRoutableUnicastIpv4, isUnicastMacAddress, cidrContains, cidrContains6, networkAddress, parseIp, parseIpv6, parseNetmask, parseRangeEntry, rangeContains } from '../../shared/ip.ts';

export type SanitizeCode =
  | RuleRefusalCode
  /** ROUTED's (routed-sanitize.ts). */
  | RoutedSanitizeCode
  /** Instance id not `i-` + 8 or 17 lower-case hex digits. */
  | 'INSTANCE_ID_FORM'
  /** Security group id not `sg-` + 8 or 17 lower-case hex digits. */
  | 'GROUP_ID_FORM'
  /** MAC is multicast, broadcast or all zeros. */
  | 'MAC_NOT_UNICAST'
  /** Two instances share a MAC (case-insensitive): both are left out. */
  | 'MAC_DUPLICATE'
  /** Private IP outside its cluster's subnet. */
  | 'PRIVATE_IP_OUTSIDE_SUBNET'
  /** Private IP is the subnet's network, broadcast or gateway address. */
  | 'PRIVATE_IP_RESERVED'
  /** Private IP is a node's, a CC's, the CLC's or this host's address. */
  | 'PRIVATE_IP_IS_HOST'
  /** Two instances share a private IP: both are left out. */
  | 'PRIVATE_IP_DUPLICATE'
  /** An instance without a private IP in a document that is not ROUTED (only an IPv6-only ROUTED instance may lack one): left out. */
  | 'INSTANCE_NO_PRIVATE_IP'
  /** Public IP is not a unicast address (0/8, loopback, link-local, multicast, reserved, broadcast). */
  | 'PUBLIC_IP_NOT_UNICAST'
  /** Public IP is a node's, a CC's, the CLC's or this host's address. */
  | 'PUBLIC_IP_IS_HOST'
  /** Public IP outside the document's public pool. */
  | 'PUBLIC_IP_OUTSIDE_POOL'
  /** A public IP held twice, or equal to another instance's private IP: every holder is left out. */
  | 'PUBLIC_IP_DUPLICATE'
  /** enabledCLCIp is not a unicast, non-loopback address: left out (no metadata DNAT). */
  | 'CLC_IP_NOT_UNICAST'
  /** A rule in the other family's list: an IPv6 CIDR (or an ICMPv6 source-group rule) in ingressRules, an IPv4 one in the ipv6 extension. */
  | 'RULE_MISPLACED'
  /** A rule string of a group's `ipv6` extension that does not parse. */
  | 'IPV6_RULE_UNREADABLE'
  /** The IPv6 clc-address is not a unicast address: left out (no IPv6 metadata DNAT to it). */
  | 'CLC_IPV6_NOT_UNICAST'
  /** A cluster's IPv6 prefix is not an aligned /64 of global unicast or ULA space: the cluster is left IPv4-only. */
  | 'CLUSTER_IPV6_PREFIX_INVALID'
  /** A cluster's IPv6 name server is not a unicast address: that server is left out. */
  | 'CLUSTER_IPV6_DNS_NOT_UNICAST'
  /** An instance's IPv6 address is outside its cluster's prefix (or the cluster has none): its IPv6 is left out, IPv4 kept. */
  | 'INSTANCE_IPV6_OUTSIDE_PREFIX'
  /** An instance's IPv6 address is not the EUI-64 address of its MAC in the prefix: its IPv6 is left out, IPv4 kept. */
  | 'INSTANCE_IPV6_NOT_EUI64';

export interface Refusal {
  readonly code: SanitizeCode;
  /**
   * What was left out: `instance i-…`, `instance i-… ipv6`, `group sg-…`,
   * `group sg-… rule 2`, `group sg-… ipv6 rule "-P 6 -p 22-22 -s ::/0"` (by its text), `cluster c ipv6`,
   * `cluster c dns-server x`, `enabledCLCIp`, `clc-address`.
   */
  readonly subject: string;
  readonly message: string;
}

export interface Sanitized {
  readonly doc: GniDocument;
  /** In document order: configuration, instances, groups. */
  readonly refusals: readonly Refusal[];
}

export interface SanitizeOptions {
  /** This host's own addresses (`a.b.c.d` or `a.b.c.d/n`): never an instance's. */
  readonly hostAddresses?: readonly string[];
}

/**
 * The modes whose instances' addresses follow other rules than EDGE's (the
 * hook architecture.md "A new network mode" names); a mode not listed is
 * checked with EDGE's rules only.
 */
const MODE_SANITIZERS: Partial<Record<NetworkModeName, (doc: GniDocument) => ModeSanitizer<SanitizeCode>>> = {
  ROUTED: routedSanitizer,
};

/** One line per refusal (warnings, logs). */
function formatRefusal(r: Refusal): string {
  return `${r.code}: ${r.subject}: ${r.message}`;
}

/** Unicast and routable enough to be a host: not 0/8, 127/8, 169.254/16, 224/4, 240/4 (shared/ip IPV4_RESERVED). */
export function isUnicastHost(ip: Ipv4): boolean {
  return isRoutableUnicastIpv4(ip);
}

/** MAC text (validated by the codec) is unicast: I/G bit clear and not all zeros (shared/ip isUnicastMacAddress). */
export function isUnicastMac(mac: string): boolean {
  return isUnicastMacAddress(mac);
}

interface Subnet { readonly cidr: Cidr; readonly gateway?: Ipv4 }

function clusterSubnet(c: GniCluster): Subnet | undefined {
  const ip = parseIp(c.subnet.subnet);
  const prefix = parseNetmask(c.subnet.netmask);
  if (ip === undefined || prefix === undefined) return undefined;
  const gateway = parseIp(c.subnet.gateway);
  return { cidr: { network: networkAddress({ network: ip, prefix }), prefix }, ...(gateway === undefined ? {} : { gateway }) };
}

/** Addresses of the cloud's own hosts, with what each is (for messages). */
function hostAddresses(doc: GniDocument, own: readonly string[]): Map<Ipv4, string> {
  const out = new Map<Ipv4, string>();
  const add = (text: string | undefined, what: string) => {
    const ip = text === undefined ? undefined : parseIp(text.split('/')[0] ?? text);
    if (ip !== undefined && !out.has(ip)) out.set(ip, what);
  };
  for (const a of own) add(a, 'an address of this host');
  add(doc.configuration.enabledClcIp, 'the CLC address');
  for (const c of doc.configuration.clusters) {
    add(c.enabledCcIp, `the CC address of ${c.name}`);
    for (const n of c.nodes) add(n.name, `node ${n.name}`);
  }
  return out;
}

/** Effective public IP (the renderer's rule: absent, empty, 0.0.0.0 or equal to the private IP means none). */
function publicOf(inst: GniInstance): string | undefined {
  const p = inst.publicIp;
  return p === undefined || p === '' || p === '0.0.0.0' || p === inst.privateIp ? undefined : p;
}

function counts(values: Iterable<string>): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

/** One instance's refusal, if any (first reason found; duplicates are checked across the cloud). */
function checkInstance(inst: GniInstance, ctx: {
  subnetOf: ReadonlyMap<string, Subnet>; anySubnet: readonly Subnet[]; hosts: ReadonlyMap<Ipv4, string>;
  pool: readonly { lo: Ipv4; hi: Ipv4 }[]; macs: ReadonlyMap<string, number>; addrs: ReadonlyMap<string, number>;
  mode: ModeSanitizer<SanitizeCode> | undefined;
}): Refusal | undefined {
  const subject = `instance ${JSON.stringify(inst.name)}`;
  const no = (code: SanitizeCode, message: string): Refusal => ({ code, subject, message });
  if (!INSTANCE_ID_FORM.test(inst.name)) return no('INSTANCE_ID_FORM', 'id is not i- and 8 or 17 lower-case hex digits: it would become an interface and chain name');
  const mac = inst.macAddress?.toLowerCase();
  if (mac !== undefined && mac !== '') {
    if (!isUnicastMac(mac)) return no('MAC_NOT_UNICAST', `MAC ${mac} is not a unicast address`);
    if ((ctx.macs.get(mac) ?? 0) > 1) return no('MAC_DUPLICATE', `MAC ${mac} is held by another instance too: both are left out`);
  }
  const privText = inst.privateIp;
  if (ctx.mode !== undefined) {
    const bad = ctx.mode.instance(inst);
    if (bad !== undefined) return bad;
  } else if (privText === undefined) return no('INSTANCE_NO_PRIVATE_IP', 'no private IP: only an IPv6-only ROUTED instance may lack one');
  const priv = privText === undefined ? undefined : parseIp(privText);
  if (privText !== undefined && priv !== undefined && ctx.mode === undefined) {
    const sub = ctx.subnetOf.get(inst.name);
    const inside = sub !== undefined ? (cidrContains(sub.cidr, priv) ? sub : undefined) : ctx.anySubnet.find((s) => cidrContains(s.cidr, priv));
    if (inside === undefined) return no('PRIVATE_IP_OUTSIDE_SUBNET', `private IP ${privText} is outside ${sub === undefined ? 'every cluster subnet' : 'its cluster subnet'}`);
    if (inside.cidr.prefix < 31 && (priv === networkAddress(inside.cidr) || priv === broadcastAddress(inside.cidr))) {
      return no('PRIVATE_IP_RESERVED', `private IP ${privText} is the subnet's network or broadcast address`);
    }
    if (priv === inside.gateway) return no('PRIVATE_IP_RESERVED', `private IP ${privText} is the subnet's gateway`);
  }
  if (privText !== undefined && priv !== undefined) {
    const host = ctx.hosts.get(priv);
    if (host !== undefined) return no('PRIVATE_IP_IS_HOST', `private IP ${privText} is ${host}`);
    if ((ctx.addrs.get(privText) ?? 0) > 1) return no('PRIVATE_IP_DUPLICATE', `private IP ${privText} is held by another instance too: every holder is left out`);
  }
  const pubText = publicOf(inst);
  const pub = pubText === undefined ? undefined : parseIp(pubText);
  if (pubText !== undefined && pub !== undefined) {
    if (!isUnicastHost(pub) || pub === 0xffffffff) return no('PUBLIC_IP_NOT_UNICAST', `public IP ${pubText} is not a unicast host address`);
    const host = ctx.hosts.get(pub);
    if (host !== undefined) return no('PUBLIC_IP_IS_HOST', `public IP ${pubText} is ${host}: the node would take it and cut itself off`);
    if (ctx.pool.length > 0 && !ctx.pool.some((r) => rangeContains(r, pub))) return no('PUBLIC_IP_OUTSIDE_POOL', `public IP ${pubText} is outside the public pool`);
    if ((ctx.addrs.get(pubText) ?? 0) > 1) return no('PUBLIC_IP_DUPLICATE', `public IP ${pubText} is held by another instance too: every holder is left out`);
  }
  return undefined;
}

/** An element with its `ipv6` extension replaced (`ext` undefined: removed). */
function withIpv6<T extends { readonly extensions?: readonly GniExtension[] }>(el: T, ext: GniExtension | undefined): T {
  const others = (el.extensions ?? []).filter((e) => e.name !== IPV6_EXTENSION);
  const list = ext === undefined || ext.properties.length === 0 ? others : [...others, ext];
  const { extensions: _old, ...rest } = el;
  return (list.length === 0 ? rest : { ...rest, extensions: list }) as T;
}

function sanitizeGroup(g: GniSecurityGroup, out: Refusal[]): GniSecurityGroup {
  const rules: GniRule[] = [];
  g.ingressRules.forEach((r, i) => {
    const bad = checkRule(r);
    if (bad !== undefined) { out.push({ code: bad.code, subject: `group ${g.name} rule ${i}`, message: bad.message }); return; }
    if (ruleDocumentPlace(r) === 'ipv6') {
      out.push({ code: 'RULE_MISPLACED', subject: `group ${g.name} rule ${i}`, message: 'an IPv6 rule (IPv6 cidr, or ICMPv6 from a group) in ingressRules, which holds IPv4 and both-family rules only' });
      return;
    }
    rules.push(r);
  });
  const clean = rules.length === g.ingressRules.length ? g : { ...g, ingressRules: rules };
  const v6 = groupIpv6Rules(g);
  if (v6.rules.length === 0 && v6.unreadable.length === 0) return clean;
  v6.unreadable.forEach((text) => {
    out.push({ code: 'IPV6_RULE_UNREADABLE', subject: `group ${g.name} ipv6 rule ${JSON.stringify(text.slice(0, 80))}`, message: 'does not parse as a rule string' });
  });
  const good: GniRule[] = [];
  v6.rules.forEach((r) => {
    const bad = checkRule(r);
    // Named by its text: unreadable strings have no place in the parsed list, so an index would be ambiguous.
    const subject = `group ${g.name} ipv6 rule ${JSON.stringify(formatRuleString(r))}`;
    if (bad !== undefined) { out.push({ code: bad.code, subject, message: bad.message }); return; }
    if (ruleDocumentPlace(r) !== 'ipv6') {
      out.push({ code: 'RULE_MISPLACED', subject, message: 'an IPv4 or both-family rule in the ipv6 extension, which holds IPv6-only rules' });
      return;
    }
    good.push(r);
  });
  if (v6.unreadable.length === 0 && good.length === v6.rules.length) return clean;
  return withIpv6(clean, groupIpv6Extension(good));
}

interface Ipv6Clean {
  /** Clusters with their IPv6 settings checked (unchanged objects where nothing was wrong). */
  readonly clusters: GniCluster[];
  /** Each instance id listed under a node, to its cluster's valid prefix. */
  readonly prefixOf: Map<string, Cidr6 | undefined>;
  readonly anyPrefix: readonly Cidr6[];
}

/** The clusters' IPv6 prefixes and name servers; a bad prefix makes its cluster IPv4-only. */
function sanitizeClustersIpv6(clusters: readonly GniCluster[], out: Refusal[]): Ipv6Clean {
  const prefixOf = new Map<string, Cidr6 | undefined>();
  const anyPrefix: Cidr6[] = [];
  const clean = clusters.map((c) => {
    const v6 = clusterIpv6(c);
    let prefix: Cidr6 | undefined;
    let result = c;
    if (v6 !== undefined) {
      const p = checkClusterPrefix(v6.prefix);
      if (!p.ok) {
        out.push({ code: 'CLUSTER_IPV6_PREFIX_INVALID', subject: `cluster ${c.name} ipv6`, message: `${p.message}: the cluster is left IPv4-only` });
        result = withIpv6(c, undefined);
      } else {
        prefix = p.prefix;
        anyPrefix.push(p.prefix);
        const dns = v6.dnsServers.filter((d) => {
          if (unicastIpv6(d) !== undefined) return true;
          out.push({ code: 'CLUSTER_IPV6_DNS_NOT_UNICAST', subject: `cluster ${c.name} dns-server ${JSON.stringify(d.slice(0, 60))}`, message: 'not a unicast IPv6 address: left out' });
          return false;
        });
        if (dns.length !== v6.dnsServers.length) result = withIpv6(c, clusterIpv6Extension({ prefix: v6.prefix, dnsServers: dns }));
      }
    }
    for (const n of c.nodes) for (const id of n.instanceIds) prefixOf.set(id, prefix);
    return result;
  });
  return { clusters: clean, prefixOf, anyPrefix };
}

/** An instance's IPv6 address, checked: undefined when fine (or absent), else the refusal (its IPv6 only). */
function checkInstanceIpv6(inst: GniInstance, v6: Ipv6Clean): Refusal | undefined {
  const text = instanceIpv6(inst);
  if (text === undefined) return undefined;
  let prefix = v6.prefixOf.get(inst.name);
  if (!v6.prefixOf.has(inst.name)) {
    // Not listed under a node: any dual-stack cluster's prefix that holds it (as IPv4 does with subnets).
    const ip = parseIpv6(text);
    prefix = ip === undefined ? undefined : v6.anyPrefix.find((p) => cidrContains6(p, ip));
  }
  const c = checkInstanceAddress(text, prefix, inst.macAddress?.toLowerCase());
  if (c.ok) return undefined;
  return {
    code: c.reason === 'outside-prefix' ? 'INSTANCE_IPV6_OUTSIDE_PREFIX' : 'INSTANCE_IPV6_NOT_EUI64',
    subject: `instance ${JSON.stringify(inst.name)} ipv6`,
    message: `${c.message}: its IPv6 is left out (IPv4 kept)`,
  };
}

export function sanitizeGni(doc: GniDocument, options: SanitizeOptions = {}): Sanitized {
  const refusals: Refusal[] = [];
  const conf = doc.configuration;
  let enabledClcIp = conf.enabledClcIp;
  const clc = enabledClcIp === undefined ? undefined : parseIp(enabledClcIp);
  if (enabledClcIp !== undefined && enabledClcIp !== '' && (clc === undefined || !isUnicastHost(clc))) {
    refusals.push({ code: 'CLC_IP_NOT_UNICAST', subject: 'enabledCLCIp', message: `${enabledClcIp} is not a unicast, non-loopback address: no metadata DNAT to it` });
    enabledClcIp = undefined;
  }
  const clcIpv6 = configurationIpv6(conf);
  const clcIpv6Bad = clcIpv6 !== undefined && unicastIpv6(clcIpv6) === undefined;
  if (clcIpv6Bad) refusals.push({ code: 'CLC_IPV6_NOT_UNICAST', subject: 'clc-address', message: `${clcIpv6} is not a unicast IPv6 address: no IPv6 metadata DNAT to it` });
  const v6 = sanitizeClustersIpv6(conf.clusters, refusals);
  const hosts = hostAddresses(doc, options.hostAddresses ?? []);
  const subnetOf = new Map<string, Subnet>();
  const anySubnet: Subnet[] = [];
  for (const c of conf.clusters) {
    const s = clusterSubnet(c);
    if (s === undefined) continue;
    anySubnet.push(s);
    for (const n of c.nodes) for (const id of n.instanceIds) subnetOf.set(id, s);
  }
  const pool = conf.publicIps.flatMap((e) => { const r = parseRangeEntry(e); return r === undefined ? [] : [r]; });
  const macs = counts(doc.instances.flatMap((i) => (i.macAddress ? [i.macAddress.toLowerCase()] : [])));
  // One address space for private and public IPs: an address held twice in any role is a collision.
  const addrs = counts(doc.instances.flatMap((i) => {
    const held = i.privateIp === undefined ? [] : [i.privateIp];
    const p = publicOf(i);
    return p === undefined ? held : [...held, p];
  }));
  const modeName = modeNameOf(doc);
  const mode = Object.hasOwn(MODE_SANITIZERS, modeName) ? MODE_SANITIZERS[modeName as NetworkModeName]?.(doc) : undefined;
  if (mode !== undefined) refusals.push(...mode.documentRefusals);

  const groupOut: Refusal[] = [];
  const goodGroups = new Set<string>();
  for (const g of doc.securityGroups) {
    if (GROUP_ID_FORM.test(g.name)) goodGroups.add(g.name);
    else groupOut.push({ code: 'GROUP_ID_FORM', subject: `group ${JSON.stringify(g.name)}`, message: 'id is not sg- and 8 or 17 lower-case hex digits: left out, and dropped from its members' });
  }
  const left = new Set<string>();
  const instances: GniInstance[] = [];
  for (const inst of doc.instances) {
    const bad = checkInstance(inst, { subnetOf, anySubnet, hosts, pool, macs, addrs, mode });
    if (bad !== undefined) { refusals.push(bad); left.add(inst.name); continue; }
    const sgs = inst.securityGroups.filter((g) => goodGroups.has(g));
    let kept = sgs.length === inst.securityGroups.length ? inst : { ...inst, securityGroups: sgs };
    const bad6 = checkInstanceIpv6(inst, v6);
    if (bad6 !== undefined) { refusals.push(bad6); kept = withIpv6(kept, undefined); }
    instances.push(kept);
  }
  refusals.push(...groupOut);
  const securityGroups = doc.securityGroups.filter((g) => goodGroups.has(g.name)).map((g) => sanitizeGroup(g, refusals));
  if (refusals.length === 0) return { doc, refusals };
  const clusters = v6.clusters.map((c) => (c.nodes.some((n) => n.instanceIds.some((id) => left.has(id)))
    ? { ...c, nodes: c.nodes.map((n) => ({ ...n, instanceIds: n.instanceIds.filter((id) => !left.has(id)) })) }
    : c));
  const { enabledClcIp: _clc, ...rest } = clcIpv6Bad ? withIpv6(conf, undefined) : conf;
  const configuration = { ...rest, clusters, ...(enabledClcIp === undefined ? {} : { enabledClcIp }) };
  return { doc: { ...doc, configuration, instances, securityGroups }, refusals };
}

/**
 * What netd lays down for a document it does not trust: the sanitized
 * document rendered, each refusal kept in the state and as a warning. One
 * function for the daemon's sync and `edgenet netd plan`, so the plan shows
 * exactly what a sync applies.
 */
export function renderUntrusted(
  doc: GniDocument,
  self: { node: string },
  config: NetdConfig,
  facts: HostFacts,
  options: SanitizeOptions = {},
): RenderResult {
  const clean = sanitizeGni(doc, options);
  const rendered = render(clean.doc, self, config, facts);
  if (!rendered.ok || clean.refusals.length === 0) return rendered;
  return { ok: true, state: { ...rendered.state, refused: clean.refusals, warnings: [...clean.refusals.map(formatRefusal), ...rendered.state.warnings] } };
}
