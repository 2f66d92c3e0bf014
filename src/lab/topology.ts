/**
 * The lab's L2/L3 topology in network namespaces (architecture.md §6).
 *
 * STABLE API (netd's integration tests build their namespaces with it, through
 * test/helpers/netd-lab.ts; do not break):
 *   const topo = await buildTopology(spec, {exec})      // creates everything, or nothing on failure
 *   topo.nodes / topo.nodeNs(name) / topo.lanNs / topo.clientNs / topo.ctlNs / topo.netns
 *   const vm = await topo.addInstance({node: 'n1', id: 'i-0a0b0c0d', mac: 'd0:0d:0a:0b:0c:0d'})
 *   const lease = await topo.dhcp(vm, {timeoutMs})        // runs dhclient in the instance namespace
 *   const v6 = await topo.slaac(vm, {expected, timeoutMs}) // dual-stack: waits for the SLAAC address
 *   await topo.removeInstance(vm) · await topo.teardown()
 *   await teardownByPrefix(prefix, {exec})               // also after a crash (= Topology.teardownByPrefix)
 *   openTopology(spec, deps)                             // the same object for a lab built by another process
 *
 * Model (prefix P; every name comes from names.ts):
 *
 *   P-lan:  bridge `lan` (private/management L2) and bridge `pub` (public L2)
 *   P-<n>:  br0 (up, mgmt IP = the node's name in the GNI, optional vmIp, on-link route for the VM subnet)
 *           priv0 ∈ br0  ── veth ──  l-<n> ∈ lan
 *           pub0 (public IP)  ── veth ──  p-<n> ∈ pub
 *           vn_<id> ∈ br0 (hairpin) ── veth ── eth0 in P-<id>  (one per instance)
 *   P-ctl:  eth0 (ctl IP; on-link route for the VM subnet) ── veth ── l-ctl ∈ lan
 *   P-cl:   eth0 (client IP) ── veth ── p-cl ∈ pub
 *
 * Why the control namespace has an on-link route for the VM subnet: netd DNATs
 * an instance's 169.254.169.254:80 to the CLC's metadata port in the node
 * namespace (routed path: the instance's gateway is the node's br0 through the
 * fake-router arpreply). The CLC sees the instance's private source and
 * answers it directly on the lan L2; the reply enters the instance's node on
 * priv0 and is *bridged* to vn_<id>, where br_netfilter runs it through the
 * node's conntrack, which un-NATs it (source back to 169.254.169.254:80).
 * Test: test/integration/lab-topology.test.ts ("metadata DNAT round trip").
 *
 * IPv6 (spec.ipv6, dual-stack labs; absent = exactly the IPv4 topology):
 *
 *   P-<n>:  br0 + mgmt IPv6 (lan /64), pub0 + public IPv6; no route for the cluster /64
 *           (netd routes it on-link on br0 and runs radvd there: that is netd's job, not the lab's)
 *   P-ctl:  eth0 + ctl IPv6 (lan /64); on-link route for the cluster /64
 *   P-cl:   eth0 + client IPv6 (public /64); the cluster /64 via every node's pub0 (ECMP nexthops),
 *           as an upstream router would route it to the nodes (docs/lab.md)
 *   P-<id>: kernel defaults of a fresh namespace (accept_ra=1, autoconf=1, addr_gen_mode=0 = EUI-64,
 *           use_tempaddr=0, all set explicitly): its global address comes by SLAAC from its node's
 *           radvd; rdnssd (instance-dns.ts) turns RDNSS into its resolv.conf.
 *   A new namespace starts at the kernel's IPv6 defaults (devconf_inherit_init_net=0): the
 *   infrastructure namespaces (lan, nodes, ctl, client) get accept_dad=0 (static addresses are
 *   usable at once instead of after ~1 s of DAD) and accept_ra=0 (they are configured by hand,
 *   never by an advertisement) before any interface is created; instances keep DAD.
 *
 * The on-link route for the cluster /64 in ctl is the IPv6 counterpart of the
 * metadata trick above: netd DNATs an instance's [fd00:ec2::254]:80 to the
 * CLC's [CLC_IPV6]:8773 (no SNAT in IPv6); the CLC answers the instance's
 * global address directly on the lan L2 (neighbour discovery reaches the
 * instance through priv0 and br0), and the reply is bridged to vn_<id> where
 * the node's conntrack (bridge-nf-call-ip6tables) un-NATs it.
 * Test: test/integration/lab-ipv6.test.ts.
 *
 * ROUTED (spec.routed, issue 17; docs/lab.md "ROUTED"): no shared L2 towards
 * instances and no public L2:
 *
 *   P-lan:  bridge `lan` only (management + BGP peering)
 *   P-<n>:  priv0 (mgmt IP, mgmt IPv6) ── veth ── l-<n> ∈ lan; no br0, no pub0
 *           vn_<id> (in no bridge; addr_gen_mode=1 before link-up) ── veth ── eth0 in P-<id>
 *           Its default routes are learned over BGP from the router (netd's BIRD imports only
 *           default routes): the lab gives a node no static route.
 *   P-rt:   eth0 (router lan IP) ── veth ── l-rt ∈ lan; cl0 ── veth ── eth0 in P-cl
 *           forwarding on; no default route (nothing leaves the lab); BIRD (router.ts) learns
 *           the instances' /32 and /128 from the nodes
 *   P-ctl:  eth0 on lan; default routes via the router (static): metadata replies to an
 *           instance's routed address go ctl → router → the instance's node, where conntrack
 *           un-NATs them
 *   P-cl:   eth0 (client IP) on its own link to the router; default routes via the router
 *   P-<id>: accept_ra=0, autoconf=0: addresses, routes and DNS come from its config drive
 *           (config-drive-instance.ts), nothing from the network
 * Redirects are off in every infrastructure namespace (the router sends none, nobody accepts
 * one): traffic between nodes' instances takes the routed path through the router.
 *
 * Invariants: nothing is connected to the machine's real interfaces and no
 * namespace has a route out of the lab; every namespace, /etc/netns entry and
 * temp file carries the prefix, so teardownByPrefix removes exactly the lab.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Exec } from '../shared/exec.ts';
import type { Clock } from '../shared/clock.ts';
import { systemClock } from '../shared/clock.ts';
import { EdgenetError, ExecError, errorMessage } from '../shared/errors.ts';
import { cidrContains, cidrContains6, formatCidr, formatCidr6, formatIpv6, networkAddress, parseCidr, parseCidr6, parseIp, parseIpv6 } from '../shared/ip.ts';
import type { Cidr, Cidr6 } from '../shared/ip.ts';
import { waitFor } from '../shared/wait.ts';
import type { Netns } from './netns.ts';
import { createNetns } from './netns.ts';
import {
  GUEST_IF,
  ROUTER_CLIENT_IF,
  LAN_BRIDGE,
  NODE_BRIDGE,
  NODE_PRIV_IF,
  NODE_PUB_IF,
  PUB_BRIDGE,
  assertInstanceId,
  assertNodeName,
  assertPrefix,
  labNames,
} from './names.ts';
import type { DhcpLease, DhclientFiles } from './dhclient.ts';
import { dhclientConf, dhclientScript, parseLeaseInfo } from './dhclient.ts';
import { instanceDnsFiles, parseNameservers, prepareInstanceDns, startRdnssd, stopRdnssd } from './instance-dns.ts';

export interface TopologyNodeSpec {
  readonly name: string;
  /** On br0 (on priv0 in a ROUTED topology); inside `lan`. */
  readonly mgmtIp: string;
  /** On pub0; inside `publicNet`. Required unless the topology is ROUTED (whose nodes have no public interface). */
  readonly publicIp?: string;
  /**
   * Optional second address on br0 inside `vmSubnet` (outside the instance
   * pool). ISC dhcpd serves only on an interface with an address in a subnet
   * it declares, and Eucalyptus nodes had their bridge IP in the cluster
   * subnet (NC_ROUTER_IP=AUTO relies on it); without it netd's dhcpd needs a
   * declaration for the management subnet.
   */
  readonly vmIp?: string;
  /** On br0, inside `ipv6.lan` (dual-stack topologies: required). */
  readonly mgmtIpv6?: string;
  /** On pub0, inside `ipv6.publicNet` (dual-stack EDGE topologies: required; ROUTED: absent). */
  readonly publicIpv6?: string;
}

/** A ROUTED topology's upstream router (the client link is `publicNet`, the router's side of it `clientLinkIp`). */
export interface TopologyRoutedSpec {
  readonly router: {
    /** On its lan leg, inside `lan`: every node's BGP peer, the control namespace's gateway. */
    readonly ip: string;
    readonly ipv6?: string;
    /** On its client leg, inside `publicNet`: the client's gateway. */
    readonly clientLinkIp: string;
    readonly clientLinkIpv6?: string;
  };
}

/** The IPv6 half of a dual-stack topology. */
export interface TopologyIpv6Spec {
  /** Management /64 on the lan L2, e.g. fd00:172:31::/64. */
  readonly lan: string;
  /** Public /64, e.g. 2001:db8:ffff::/64. */
  readonly publicNet: string;
  /** The cluster's /64, e.g. 2001:db8:10::/64 (SLAAC by netd's radvd; on-link in ctl; routed via the nodes by the client). */
  readonly vmPrefix: string;
}

export interface TopologySpec {
  /** Unique per lab, no dash (e.g. `h6ab12`). */
  readonly prefix: string;
  readonly nodes: readonly TopologyNodeSpec[];
  /** Private/management network CIDR, e.g. 172.31.0.0/24. */
  readonly lan: string;
  /** Public network CIDR, e.g. 203.0.113.0/24. */
  readonly publicNet: string;
  /** The cloud's VM subnet, e.g. 10.111.0.0/16 (on-link on every br0 and on the ctl interface). */
  readonly vmSubnet: string;
  readonly client?: { readonly ip: string; readonly ipv6?: string };
  readonly ctl?: { readonly ip: string; readonly ipv6?: string };
  /** Dual stack (absent: IPv4 only, exactly as before issue 14). */
  readonly ipv6?: TopologyIpv6Spec;
  /** ROUTED (issue 17): an upstream router, nodes without bridge or public interface, instances in no bridge. */
  readonly routed?: TopologyRoutedSpec;
  /** Temp files (dhclient). Default: <tmpdir>/edgenet-lab-<prefix>. */
  readonly workDir?: string;
}

export interface TopologyDeps {
  readonly exec: Exec;
  readonly clock?: Clock;
}

export interface TopologyNode extends TopologyNodeSpec {
  readonly ns: string;
  readonly bridge: string;
  readonly privIf: string;
  readonly pubIf: string;
}

export interface LabInstance {
  readonly id: string;
  readonly node: string;
  /** The instance's namespace. */
  readonly ns: string;
  /** The node namespace holding the host end. */
  readonly nodeNs: string;
  readonly mac: string;
  /** `vn_<id>` in the node's br0. */
  readonly hostIf: string;
  /** `eth0` in the instance namespace. */
  readonly guestIf: string;
}

export interface AddInstanceOptions {
  readonly node: string;
  readonly id: string;
  readonly mac: string;
  /** Namespace name override (default P-<id>); must still start with P-. */
  readonly ns?: string;
  /** Run rdnssd in the instance (default: when the topology is dual-stack). */
  readonly rdnssd?: boolean;
}

export interface SlaacOptions {
  /** The address the instance must get (the CLC's: the EUI-64 of its MAC in the cluster /64). */
  readonly expected: string;
  /** Bound on the wait (default 30 s). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface SlaacResult {
  /** The global address, as the kernel shows it. */
  readonly address: string;
  readonly prefixLength: number;
  /** Default routers learned from router advertisements (link-local addresses). */
  readonly routers: readonly string[];
  /** IPv6 name servers rdnssd learned from RDNSS (empty when the advertisement carries none). */
  readonly dns: readonly string[];
}

export interface DhcpOptions {
  /** Bound on the whole dhclient run (default 20 s). */
  readonly timeoutMs?: number;
}

export interface Topology {
  readonly spec: TopologySpec;
  readonly prefix: string;
  readonly netns: Netns;
  readonly workDir: string;
  readonly lanNs: string;
  readonly clientNs: string | undefined;
  readonly ctlNs: string | undefined;
  /** ROUTED topologies: the upstream router's namespace. */
  readonly routerNs: string | undefined;
  readonly nodes: readonly TopologyNode[];
  nodeNs(name: string): string;
  node(name: string): TopologyNode;
  instanceNs(id: string): string;
  addInstance(options: AddInstanceOptions): Promise<LabInstance>;
  /** The LabInstance value for an instance namespace created earlier (possibly by another process). */
  instanceRef(options: AddInstanceOptions): LabInstance;
  dhcp(instance: LabInstance, options?: DhcpOptions): Promise<DhcpLease>;
  /**
   * Waits (bounded) until the instance's eth0 carries `expected` as a global
   * address that passed duplicate address detection (SLAAC from the node's
   * router advertisement); LAB_SLAAC_FAILED otherwise, saying what it has.
   */
  slaac(instance: LabInstance, options: SlaacOptions): Promise<SlaacResult>;
  /** The instance's global IPv6 addresses (and whether each is still tentative), read from the kernel. */
  ipv6Addresses(instance: LabInstance): Promise<readonly { address: string; prefixLength: number; tentative: boolean; dadFailed: boolean }[]>;
  removeInstance(instance: LabInstance | string): Promise<void>;
  teardown(): Promise<void>;
}

interface Networks {
  readonly lan: Cidr;
  readonly pub: Cidr;
  readonly vm: Cidr;
  readonly v6?: { readonly lan: Cidr6; readonly pub: Cidr6; readonly vm: Cidr6 };
}

function validateSpec(spec: TopologySpec): Networks {
  assertPrefix(spec.prefix);
  const bad = (msg: string) => new EdgenetError('LAB_BAD_SPEC', msg);
  const lan = parseCidr(spec.lan);
  const pub = parseCidr(spec.publicNet);
  const vm = parseCidr(spec.vmSubnet);
  if (!lan) throw bad(`lan "${spec.lan}" is not a CIDR`);
  if (!pub) throw bad(`publicNet "${spec.publicNet}" is not a CIDR`);
  if (!vm) throw bad(`vmSubnet "${spec.vmSubnet}" is not a CIDR`);
  if (spec.nodes.length === 0) throw bad('at least one node is needed');
  const seen = new Set<string>();
  const inside = (what: string, ip: string, net: Cidr, netText: string) => {
    const value = parseIp(ip);
    if (value === undefined || !cidrContains(net, value)) throw bad(`${what} ${ip} is not inside ${netText}`);
    if (seen.has(ip)) throw bad(`${what} ${ip} is used twice`);
    seen.add(ip);
  };
  const names = new Set<string>();
  for (const node of spec.nodes) {
    assertNodeName(node.name);
    if (names.has(node.name)) throw bad(`node ${node.name} is listed twice`);
    names.add(node.name);
    inside(`node ${node.name} mgmtIp`, node.mgmtIp, lan, spec.lan);
    if (spec.routed) {
      if (node.publicIp !== undefined || node.publicIpv6 !== undefined) throw bad(`node ${node.name}: a ROUTED node has no public interface (publicIp given)`);
    } else {
      if (node.publicIp === undefined) throw bad(`node ${node.name} has no publicIp`);
      inside(`node ${node.name} publicIp`, node.publicIp, pub, spec.publicNet);
    }
    if (node.vmIp !== undefined) inside(`node ${node.name} vmIp`, node.vmIp, vm, spec.vmSubnet);
  }
  if (spec.ctl) inside('ctl ip', spec.ctl.ip, lan, spec.lan);
  if (spec.client) inside('client ip', spec.client.ip, pub, spec.publicNet);
  if (spec.routed) {
    inside('router ip', spec.routed.router.ip, lan, spec.lan);
    inside('router clientLinkIp', spec.routed.router.clientLinkIp, pub, spec.publicNet);
  }
  return { lan, pub, vm, ...validateIpv6(spec, bad) };
}

function validateIpv6(spec: TopologySpec, bad: (msg: string) => EdgenetError): Pick<Networks, 'v6'> {
  const v6 = spec.ipv6;
  if (!v6) {
    const stray = [...spec.nodes.flatMap((n) => [n.mgmtIpv6, n.publicIpv6]), spec.ctl?.ipv6, spec.client?.ipv6, spec.routed?.router.ipv6, spec.routed?.router.clientLinkIpv6].find((a) => a !== undefined);
    if (stray !== undefined) throw bad(`IPv6 address ${stray} given, but the spec has no ipv6 networks`);
    return {};
  }
  const net = (what: string, text: string, exactly64: boolean): Cidr6 => {
    const c = parseCidr6(text);
    if (!c) throw bad(`ipv6.${what} "${text}" is not an IPv6 CIDR`);
    if (exactly64 && c.prefix !== 64) throw bad(`ipv6.${what} "${text}" must be a /64 (SLAAC fills a 64-bit interface id)`);
    return c;
  };
  const nets = { lan: net('lan', v6.lan, false), pub: net('publicNet', v6.publicNet, false), vm: net('vmPrefix', v6.vmPrefix, true) };
  const seen = new Set<bigint>();
  const inside = (what: string, ip: string | undefined, c: Cidr6, text: string) => {
    const value = ip === undefined ? undefined : parseIpv6(ip);
    if (value === undefined || !cidrContains6(c, value)) throw bad(`${what} ${ip ?? '(missing)'} is not inside ${text}`);
    if (seen.has(value)) throw bad(`${what} ${ip} is used twice`);
    seen.add(value);
  };
  for (const node of spec.nodes) {
    inside(`node ${node.name} mgmtIpv6`, node.mgmtIpv6, nets.lan, v6.lan);
    if (!spec.routed) inside(`node ${node.name} publicIpv6`, node.publicIpv6, nets.pub, v6.publicNet);
  }
  if (spec.ctl?.ipv6 !== undefined) inside('ctl ipv6', spec.ctl.ipv6, nets.lan, v6.lan);
  if (spec.client?.ipv6 !== undefined) inside('client ipv6', spec.client.ipv6, nets.pub, v6.publicNet);
  if (spec.routed) {
    inside('router ipv6', spec.routed.router.ipv6, nets.lan, v6.lan);
    inside('router clientLinkIpv6', spec.routed.router.clientLinkIpv6, nets.pub, v6.publicNet);
  }
  return { v6: nets };
}

/**
 * Before any interface exists in an infrastructure namespace: static IPv6
 * addresses usable at once (no DAD) and no autoconfiguration from
 * advertisements (`default` is what new interfaces copy, `all` what the
 * kernel also consults for accept_dad).
 */
async function infraIpv6Sysctls(netns: Netns, ns: string): Promise<void> {
  for (const scope of ['all', 'default']) {
    await netns.sysctl(ns, `net.ipv6.conf.${scope}.accept_dad`, '0');
    await netns.sysctl(ns, `net.ipv6.conf.${scope}.accept_ra`, '0');
  }
}

/** Creates the whole topology; on any failure removes what it made and rethrows. */
export async function buildTopology(spec: TopologySpec, deps: TopologyDeps): Promise<Topology> {
  const nets = validateSpec(spec);
  const topo = openTopology(spec, deps);
  const netns = topo.netns;
  const existing = await netns.list(labNames.nsPrefix(spec.prefix));
  if (existing.length > 0) {
    throw new EdgenetError('LAB_EXISTS', `namespaces with prefix ${spec.prefix}- already exist (${existing.join(', ')}); tear them down first`);
  }
  try {
    await fs.mkdir(topo.workDir, { recursive: true, mode: 0o700 });
    const lanNs = topo.lanNs;
    await netns.add(lanNs);
    if (nets.v6) await infraIpv6Sysctls(netns, lanNs);
    await netns.addBridge(lanNs, LAN_BRIDGE);
    // The lab's L2 switches must not filter: they stand for physical switches.
    await netns.sysctl(lanNs, 'net.bridge.bridge-nf-call-iptables', '0').catch(() => undefined);
    if (spec.routed) {
      await buildRouted(netns, topo, spec, spec.routed, nets);
      return topo;
    }
    await netns.addBridge(lanNs, PUB_BRIDGE);

    await Promise.all(topo.nodes.map((node) => buildNode(netns, lanNs, node, nets)));
    if (spec.ctl && topo.ctlNs) {
      const v6 = nets.v6 && spec.ctl.ipv6 !== undefined ? { ip: spec.ctl.ipv6, net: nets.v6.lan } : undefined;
      await buildStub(netns, { lanNs, ns: topo.ctlNs, bridge: LAN_BRIDGE, peer: labNames.lanPeerCtl(), ip: spec.ctl.ip, net: nets.lan, ...(v6 ? { v6 } : {}) });
      await netns.addRoute(topo.ctlNs, { dst: formatCidr({ network: networkAddress(nets.vm), prefix: nets.vm.prefix }), dev: GUEST_IF });
      // The IPv6 metadata reply goes straight to the instance on the lan L2 (header).
      if (nets.v6) await netns.addRoute(topo.ctlNs, { dst: formatCidr6(nets.v6.vm), dev: GUEST_IF });
    }
    if (spec.client && topo.clientNs) {
      const v6 = nets.v6 && spec.client.ipv6 !== undefined ? { ip: spec.client.ipv6, net: nets.v6.pub } : undefined;
      await buildStub(netns, { lanNs, ns: topo.clientNs, bridge: PUB_BRIDGE, peer: labNames.lanPeerClient(), ip: spec.client.ip, net: nets.pub, ...(v6 ? { v6 } : {}) });
      if (v6 && nets.v6) {
        // The upstream router's view: the cluster /64 lives behind the nodes (any of them forwards
        // onto the cluster's L2). One multipath route, a nexthop per node's pub0.
        await netns.addRoute(topo.clientNs, { dst: formatCidr6(nets.v6.vm), nexthops: topo.nodes.map((n) => ({ via: n.publicIpv6!, dev: GUEST_IF })) });
      }
    }
    return topo;
  } catch (err) {
    await teardownByPrefix(spec.prefix, deps, { workDir: topo.workDir }).catch(() => undefined);
    throw new EdgenetError('LAB_BUILD_FAILED', `building lab ${spec.prefix} failed: ${errorMessage(err)}`, { cause: err });
  }
}

/** Redirects off (see the header): the router sends none, the others take none, in both families. */
async function noRedirects(netns: Netns, ns: string, ipv6: boolean, router: boolean): Promise<void> {
  for (const scope of ['all', 'default']) {
    await netns.sysctl(ns, `net.ipv4.conf.${scope}.${router ? 'send_redirects' : 'accept_redirects'}`, '0');
    if (ipv6) await netns.sysctl(ns, `net.ipv6.conf.${scope}.accept_redirects`, '0');
  }
}

/** The ROUTED topology (header): lan, nodes without bridge, the router, ctl and client behind their static routes. */
async function buildRouted(netns: Netns, topo: Topology, spec: TopologySpec, routed: TopologyRoutedSpec, nets: Networks): Promise<void> {
  const lanNs = topo.lanNs;
  const v6 = nets.v6;
  const uplink = async (ns: string, dev: string, peer: string, ip: string, ipv6: string | undefined) => {
    await netns.add(ns);
    if (v6) await infraIpv6Sysctls(netns, ns);
    await noRedirects(netns, ns, v6 !== undefined, ns === topo.routerNs);
    await netns.addVeth({ ns, name: dev, peerNs: lanNs, peerName: peer });
    await netns.setMaster(lanNs, peer, LAN_BRIDGE);
    await netns.linkUp(lanNs, peer);
    await netns.linkUp(ns, dev);
    await netns.addAddress(ns, dev, `${ip}/${nets.lan.prefix}`);
    if (v6 && ipv6 !== undefined) await netns.addAddress(ns, dev, `${ipv6}/${v6.lan.prefix}`);
  };
  await Promise.all(topo.nodes.map((node) => uplink(node.ns, NODE_PRIV_IF, labNames.lanPeerPriv(node.name), node.mgmtIp, node.mgmtIpv6)));

  const rt = topo.routerNs!;
  const r = routed.router;
  await uplink(rt, GUEST_IF, labNames.lanPeerRouter(), r.ip, r.ipv6);
  await netns.sysctl(rt, 'net.ipv4.ip_forward', '1');
  if (v6) await netns.sysctl(rt, 'net.ipv6.conf.all.forwarding', '1');

  if (spec.ctl && topo.ctlNs) {
    await uplink(topo.ctlNs, GUEST_IF, labNames.lanPeerCtl(), spec.ctl.ip, spec.ctl.ipv6);
    await netns.addRoute(topo.ctlNs, { dst: 'default', via: r.ip, dev: GUEST_IF });
    if (v6 && r.ipv6) await netns.addRoute(topo.ctlNs, { dst: '::/0', via: r.ipv6, dev: GUEST_IF });
  }
  if (spec.client && topo.clientNs) {
    const cl = topo.clientNs;
    await netns.add(cl);
    if (v6) await infraIpv6Sysctls(netns, cl);
    await noRedirects(netns, cl, v6 !== undefined, false);
    // Its own link to the router, no switch: the client reaches the cloud only through the router.
    await netns.addVeth({ ns: rt, name: ROUTER_CLIENT_IF, peerNs: cl, peerName: GUEST_IF });
    await netns.linkUp(rt, ROUTER_CLIENT_IF);
    await netns.linkUp(cl, GUEST_IF);
    await netns.addAddress(rt, ROUTER_CLIENT_IF, `${r.clientLinkIp}/${nets.pub.prefix}`);
    await netns.addAddress(cl, GUEST_IF, `${spec.client.ip}/${nets.pub.prefix}`);
    await netns.addRoute(cl, { dst: 'default', via: r.clientLinkIp, dev: GUEST_IF });
    if (v6 && r.clientLinkIpv6 && spec.client.ipv6) {
      await netns.addAddress(rt, ROUTER_CLIENT_IF, `${r.clientLinkIpv6}/${v6.pub.prefix}`);
      await netns.addAddress(cl, GUEST_IF, `${spec.client.ipv6}/${v6.pub.prefix}`);
      await netns.addRoute(cl, { dst: '::/0', via: r.clientLinkIpv6, dev: GUEST_IF });
    }
  }
}

async function buildNode(netns: Netns, lanNs: string, node: TopologyNode, nets: Networks): Promise<void> {
  const ns = node.ns;
  await netns.add(ns);
  if (nets.v6) await infraIpv6Sysctls(netns, ns);
  await netns.addBridge(ns, NODE_BRIDGE);
  await netns.addVeth({ ns, name: NODE_PRIV_IF, peerNs: lanNs, peerName: labNames.lanPeerPriv(node.name) });
  await netns.addVeth({ ns, name: NODE_PUB_IF, peerNs: lanNs, peerName: labNames.lanPeerPub(node.name) });
  await netns.setMaster(ns, NODE_PRIV_IF, NODE_BRIDGE);
  await netns.setMaster(lanNs, labNames.lanPeerPriv(node.name), LAN_BRIDGE);
  await netns.setMaster(lanNs, labNames.lanPeerPub(node.name), PUB_BRIDGE);
  for (const [n, dev] of [[ns, NODE_PRIV_IF], [ns, NODE_PUB_IF], [lanNs, labNames.lanPeerPriv(node.name)], [lanNs, labNames.lanPeerPub(node.name)]] as const) {
    await netns.linkUp(n, dev);
  }
  await netns.addAddress(ns, NODE_BRIDGE, `${node.mgmtIp}/${nets.lan.prefix}`);
  await netns.addAddress(ns, NODE_PUB_IF, `${node.publicIp!}/${nets.pub.prefix}`);
  if (node.vmIp) await netns.addAddress(ns, NODE_BRIDGE, `${node.vmIp}/${nets.vm.prefix}`);
  // Instances are on-link behind br0 (the node routes for them: fake-router gateway).
  await netns.addRoute(ns, { dst: formatCidr({ network: networkAddress(nets.vm), prefix: nets.vm.prefix }), dev: NODE_BRIDGE });
  if (nets.v6 && node.mgmtIpv6 && node.publicIpv6) {
    // No route for the cluster /64 here: netd routes it on br0 (tagged as its own) on a dual-stack cluster.
    await netns.addAddress(ns, NODE_BRIDGE, `${node.mgmtIpv6}/${nets.v6.lan.prefix}`);
    await netns.addAddress(ns, NODE_PUB_IF, `${node.publicIpv6}/${nets.v6.pub.prefix}`);
  }
}

async function buildStub(
  netns: Netns,
  o: { lanNs: string; ns: string; bridge: string; peer: string; ip: string; net: Cidr; v6?: { ip: string; net: Cidr6 } },
): Promise<void> {
  await netns.add(o.ns);
  if (o.v6) await infraIpv6Sysctls(netns, o.ns);
  await netns.addVeth({ ns: o.ns, name: GUEST_IF, peerNs: o.lanNs, peerName: o.peer });
  await netns.setMaster(o.lanNs, o.peer, o.bridge);
  await netns.linkUp(o.lanNs, o.peer);
  await netns.linkUp(o.ns, GUEST_IF);
  await netns.addAddress(o.ns, GUEST_IF, `${o.ip}/${o.net.prefix}`);
  if (o.v6) await netns.addAddress(o.ns, GUEST_IF, `${o.v6.ip}/${o.v6.net.prefix}`);
}

/** The Topology object for a spec, without creating anything (for a lab built by another process). */
export function openTopology(spec: TopologySpec, deps: TopologyDeps): Topology {
  const nets = validateSpec(spec);
  const clock = deps.clock ?? systemClock;
  const prefix = spec.prefix;
  const netns = createNetns(deps.exec, deps.clock ?? systemClock);
  const workDir = spec.workDir ?? labNames.defaultWorkDir(prefix);
  const nodes: TopologyNode[] = spec.nodes.map((n) => ({
    ...n,
    ns: labNames.nodeNs(prefix, n.name),
    bridge: NODE_BRIDGE,
    privIf: NODE_PRIV_IF,
    pubIf: NODE_PUB_IF,
  }));
  const node = (name: string): TopologyNode => {
    const found = nodes.find((n) => n.name === name);
    if (!found) throw new EdgenetError('LAB_UNKNOWN_NODE', `lab ${prefix} has no node ${name} (nodes: ${nodes.map((n) => n.name).join(', ')})`);
    return found;
  };
  const instanceRef = (o: AddInstanceOptions): LabInstance => {
    assertInstanceId(o.id);
    const ns = o.ns ?? labNames.instanceNs(prefix, o.id);
    if (!ns.startsWith(labNames.nsPrefix(prefix))) throw new EdgenetError('LAB_BAD_NSNAME', `instance namespace ${ns} must start with ${prefix}-`);
    return { id: o.id, node: o.node, ns, nodeNs: node(o.node).ns, mac: o.mac, hostIf: labNames.instanceHostIf(o.id), guestIf: GUEST_IF };
  };
  const dhcpFiles = (instance: LabInstance): DhclientFiles => {
    const dir = path.join(workDir, 'dhclient', instance.id);
    const dns = instanceDnsFiles(workDir, instance);
    return {
      resolvIpv4: dns.ipv4,
      mergeResolv: dns.merge,
      dir,
      conf: path.join(dir, 'dhclient.conf'),
      script: path.join(dir, 'dhclient-script'),
      leases: path.join(dir, 'dhclient.leases'),
      pid: path.join(dir, 'dhclient.pid'),
      info: path.join(dir, 'lease.env'),
      log: path.join(dir, 'dhclient.log'),
      resolvConf: path.join(labNames.etcNetnsDir(instance.ns), 'resolv.conf'),
    };
  };

  const topo: Topology = {
    spec,
    prefix,
    netns,
    workDir,
    lanNs: labNames.lanNs(prefix),
    clientNs: spec.client ? labNames.clientNs(prefix) : undefined,
    ctlNs: spec.ctl ? labNames.ctlNs(prefix) : undefined,
    routerNs: spec.routed ? labNames.routerNs(prefix) : undefined,
    nodes,
    nodeNs: (name) => node(name).ns,
    node,
    instanceNs: (id) => labNames.instanceNs(prefix, id),
    instanceRef,

    async addInstance(o) {
      const inst = instanceRef(o);
      await netns.add(inst.ns);
      try {
        if (spec.routed) {
          await attachRouted(netns, inst, nets.v6 !== undefined);
          return inst;
        }
        if (nets.v6) {
          // What a guest must do for edgenet's anti-spoofing (docs/lab.md): EUI-64 interface ids
          // (addr_gen_mode 0), no privacy addresses. These are a fresh namespace's defaults; set
          // anyway so the instance does not depend on them. `default` before the veth exists.
          for (const [key, value] of [['addr_gen_mode', '0'], ['use_tempaddr', '0'], ['accept_ra', '1'], ['autoconf', '1']] as const) {
            await netns.sysctl(inst.ns, `net.ipv6.conf.default.${key}`, value);
          }
          await netns.sysctl(inst.ns, 'net.ipv6.conf.all.use_tempaddr', '0');
        }
        // Host end first in the node (vn_<id>), guest end created straight into the instance namespace.
        await netns.addVeth({ ns: inst.nodeNs, name: inst.hostIf, peerNs: inst.ns, peerName: inst.guestIf, peerMac: inst.mac });
        await netns.setMaster(inst.nodeNs, inst.hostIf, NODE_BRIDGE);
        // Hairpin: a VM reaches its own public IP (DNAT sends the packet back out the port it came in).
        await netns.setHairpin(inst.nodeNs, inst.hostIf, true);
        await netns.linkUp(inst.nodeNs, inst.hostIf);
        if (nets.v6) await netns.sysctl(inst.ns, `net.ipv6.conf.${inst.guestIf}.use_tempaddr`, '0');
        // rdnssd before the link comes up: the answer to the kernel's first router solicitation
        // carries the RDNSS option, and rdnssd only sees advertisements that arrive while it runs.
        if (o.rdnssd ?? (nets.v6 !== undefined)) await startRdnssd(netns, inst.ns, instanceDnsFiles(workDir, inst), { clock });
        await netns.linkUp(inst.ns, inst.guestIf);
      } catch (err) {
        await netns.delete(inst.ns).catch(() => undefined);
        throw err;
      }
      return inst;
    },

    async dhcp(instance, options = {}) {
      const timeoutMs = options.timeoutMs ?? 20_000;
      const files = dhcpFiles(instance);
      await fs.mkdir(files.dir, { recursive: true, mode: 0o700 });
      await prepareInstanceDns(instanceDnsFiles(workDir, instance));
      await fs.mkdir(path.dirname(files.resolvConf), { recursive: true });
      await fs.writeFile(files.resolvConf, '', { flag: 'a' });
      await fs.rm(files.info, { force: true });
      await fs.writeFile(files.conf, dhclientConf(Math.max(1, Math.floor(timeoutMs / 1000) - 1)));
      await fs.writeFile(files.script, dhclientScript(files), { mode: 0o700 });
      const argv = ['dhclient', '-1', '-v', '-cf', files.conf, '-sf', files.script, '-lf', files.leases, '-pf', files.pid, instance.guestIf];
      let failure: unknown;
      try {
        // -1: one attempt; once bound dhclient daemonizes (closing stdio) and keeps the lease;
        // teardown kills it with everything else in the namespace.
        const result = await netns.execIn(instance.ns, argv, { timeoutMs: timeoutMs + 2000, okExitCodes: [0, 1, 2] });
        await fs.appendFile(files.log, result.stdout + result.stderr);
        if (result.exitCode !== 0) failure = new Error(`dhclient exited ${result.exitCode}: ${result.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      } catch (err) {
        failure = err;
      }
      const info = await fs.readFile(files.info, 'utf8').catch(() => '');
      const lease = parseLeaseInfo(info);
      if (!lease) {
        // A dhclient still trying must not outlive the failed attempt.
        await netns.killAll(instance.ns, { graceMs: 500 }).catch(() => undefined);
        throw new EdgenetError('LAB_DHCP_FAILED', `no DHCP lease for ${instance.id} in ${instance.ns}: ${failure ? errorMessage(failure) : 'no lease recorded'}`, { cause: failure });
      }
      return lease;
    },

    async ipv6Addresses(instance) {
      const r = await netns.execIn(instance.ns, ['ip', '-6', '-j', 'addr', 'show', 'dev', instance.guestIf, 'scope', 'global'], { timeoutMs: 15_000 });
      return parseGlobalIpv6(r.stdout);
    },

    async slaac(instance, options) {
      const expected = parseIpv6(options.expected);
      if (expected === undefined) throw new EdgenetError('LAB_BAD_SPEC', `expected IPv6 address "${options.expected}" is not an IPv6 address`);
      const timeoutMs = options.timeoutMs ?? 30_000;
      let seen: Awaited<ReturnType<Topology['ipv6Addresses']>> = [];
      try {
        const found = await waitFor(
          async () => {
            seen = await topo.ipv6Addresses(instance);
            const mine = seen.find((a) => parseIpv6(a.address) === expected);
            if (mine?.dadFailed) throw new EdgenetError('LAB_SLAAC_FAILED', `${options.expected} failed duplicate address detection in ${instance.ns}`);
            return mine && !mine.tentative ? mine : undefined;
          },
          { timeoutMs, intervalMs: 100, what: `${options.expected} on ${instance.ns}`, clock, ...(options.signal ? { signal: options.signal } : {}) },
        );
        const routes = await netns.execIn(instance.ns, ['ip', '-6', '-j', 'route', 'show', 'default'], { timeoutMs: 15_000 });
        const routers = (JSON.parse(routes.stdout || '[]') as { gateway?: string }[]).flatMap((r) => (r.gateway ? [r.gateway] : []));
        const dns = parseNameservers(await fs.readFile(instanceDnsFiles(workDir, instance).ipv6, 'utf8').catch(() => ''));
        return { address: formatIpv6(expected), prefixLength: found.prefixLength, routers, dns };
      } catch (err) {
        if (err instanceof EdgenetError && err.code === 'LAB_SLAAC_FAILED') throw err;
        const has = seen.length === 0 ? 'no global IPv6 address' : seen.map((a) => `${a.address}${a.tentative ? ' (tentative)' : ''}`).join(', ');
        throw new EdgenetError('LAB_SLAAC_FAILED', `${instance.id} did not get ${options.expected} by SLAAC within ${timeoutMs} ms (it has ${has}); is netd's radvd advertising ${spec.ipv6?.vmPrefix ?? 'the cluster prefix'} on ${instance.node}'s bridge?`, { cause: err });
      }
    },

    async removeInstance(instance) {
      const inst = typeof instance === 'string' ? { id: instance, ns: labNames.instanceNs(prefix, instance) } : instance;
      // rdnssd by its recorded pid first; then whatever else runs in the namespace (dhclient, probes).
      await stopRdnssd(instanceDnsFiles(workDir, inst), { clock });
      await netns.killAll(inst.ns, { graceMs: 1000 });
      // The veth first, from the instance's end (deleting one end deletes both, at once): a deleted
      // namespace's links are destroyed later by the kernel's cleanup worker, so `vn_<id>` would
      // linger in the node for a moment under load (a hypervisor removes its tap when the VM stops).
      if (await netns.exists(inst.ns)) await netns.execIn(inst.ns, ['ip', 'link', 'del', GUEST_IF], { okExitCodes: [0, 1] });
      await netns.delete(inst.ns);
      await fs.rm(labNames.etcNetnsDir(inst.ns), { recursive: true, force: true });
      await fs.rm(path.join(workDir, 'dhclient', inst.id), { recursive: true, force: true });
      await fs.rm(instanceDnsFiles(workDir, inst).dir, { recursive: true, force: true });
    },

    async teardown() {
      await teardownByPrefix(prefix, deps, { workDir });
    },
  };
  return topo;
}

/**
 * A ROUTED instance's port: the veth in no bridge (netd makes `vn_<id>` a
 * routed point-to-point link). addr_gen_mode=1 on the host end before it
 * comes up, so the kernel never gives it an address of its own (netd puts
 * fe80::1/64 there). The instance learns nothing from the network (no RA, no
 * DHCP): its config drive says everything (config-drive-instance.ts).
 */
async function attachRouted(netns: Netns, inst: LabInstance, ipv6: boolean): Promise<void> {
  if (ipv6) {
    for (const [key, value] of [['accept_ra', '0'], ['autoconf', '0'], ['use_tempaddr', '0']] as const) {
      await netns.sysctl(inst.ns, `net.ipv6.conf.default.${key}`, value);
      await netns.sysctl(inst.ns, `net.ipv6.conf.all.${key}`, value);
    }
  }
  await netns.addVeth({ ns: inst.nodeNs, name: inst.hostIf, peerNs: inst.ns, peerName: inst.guestIf, peerMac: inst.mac });
  if (ipv6) await netns.sysctl(inst.nodeNs, `net.ipv6.conf.${inst.hostIf}.addr_gen_mode`, '1');
  await netns.linkUp(inst.nodeNs, inst.hostIf);
  await netns.linkUp(inst.ns, inst.guestIf);
}

/** `ip -6 -j addr show` → the global addresses with their DAD state. */
export function parseGlobalIpv6(json: string): { address: string; prefixLength: number; tentative: boolean; dadFailed: boolean }[] {
  const links = JSON.parse(json.trim() || '[]') as { addr_info?: { family?: string; local?: string; prefixlen?: number; scope?: string; tentative?: boolean; dadfailed?: boolean }[] }[];
  return links.flatMap((l) =>
    (l.addr_info ?? [])
      .filter((a) => a.family === 'inet6' && a.scope === 'global' && typeof a.local === 'string')
      .map((a) => ({ address: a.local!, prefixLength: a.prefixlen ?? 0, tentative: a.tentative === true, dadFailed: a.dadfailed === true })),
  );
}

export interface TeardownReport {
  readonly namespaces: readonly string[];
  readonly killed: number;
}

/**
 * Removes every namespace `P-*` (after killing every process in them), every
 * /etc/netns/P-* entry and the work directory. Needs nothing but the prefix,
 * so it works after a crash. Safe to call twice.
 */
export async function teardownByPrefix(prefix: string, deps: TopologyDeps, options: { workDir?: string } = {}): Promise<TeardownReport> {
  assertPrefix(prefix);
  const netns = createNetns(deps.exec, deps.clock ?? systemClock);
  const nsPrefix = labNames.nsPrefix(prefix);
  const namespaces = await netns.list(nsPrefix);
  let killed = 0;
  // Processes first, in every namespace, so none of them reacts to interfaces vanishing.
  await Promise.all(
    namespaces.map(async (ns) => {
      const pids = await netns.pids(ns);
      killed += pids.length; // not `killed += await …`: that reads `killed` before the await
      await netns.killAll(ns, { graceMs: 2000 });
    }),
  );
  const errors: string[] = [];
  for (const ns of namespaces) {
    try {
      await netns.delete(ns);
    } catch (err) {
      errors.push(err instanceof ExecError ? err.message : errorMessage(err));
    }
  }
  const etc = await fs.readdir('/etc/netns').catch(() => [] as string[]);
  for (const entry of etc) {
    if (entry.startsWith(nsPrefix)) await fs.rm(path.join('/etc/netns', entry), { recursive: true, force: true });
  }
  await fs.rm(options.workDir ?? labNames.defaultWorkDir(prefix), { recursive: true, force: true });
  if (errors.length > 0) throw new EdgenetError('LAB_TEARDOWN_FAILED', `teardown of ${prefix}: ${errors.join('; ')}`);
  return { namespaces, killed };
}

/** Static-style access: `Topology.build(spec, deps)`, `Topology.open(...)`, `Topology.teardownByPrefix(prefix, deps)`. */
export const Topology = { build: buildTopology, open: openTopology, teardownByPrefix } as const;
