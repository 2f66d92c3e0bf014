/**
 * The lab's L2/L3 topology in network namespaces (architecture.md §6).
 *
 * STABLE API (netd's integration tests build their namespaces with it, through
 * test/helpers/netd-lab.ts; do not break):
 *   const topo = await buildTopology(spec, {exec})      // creates everything, or nothing on failure
 *   topo.nodes / topo.nodeNs(name) / topo.lanNs / topo.clientNs / topo.ctlNs / topo.netns
 *   const vm = await topo.addInstance({node: 'n1', id: 'i-0a0b0c0d', mac: 'd0:0d:0a:0b:0c:0d'})
 *   const lease = await topo.dhcp(vm, {timeoutMs})        // runs dhclient in the instance namespace
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
import { cidrContains, formatCidr, networkAddress, parseCidr, parseIp } from '../shared/ip.ts';
import type { Cidr } from '../shared/ip.ts';
import type { Netns } from './netns.ts';
import { createNetns } from './netns.ts';
import {
  GUEST_IF,
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

export interface TopologyNodeSpec {
  readonly name: string;
  /** On br0; inside `lan`. */
  readonly mgmtIp: string;
  /** On pub0; inside `publicNet`. */
  readonly publicIp: string;
  /**
   * Optional second address on br0 inside `vmSubnet` (outside the instance
   * pool). ISC dhcpd serves only on an interface with an address in a subnet
   * it declares, and Eucalyptus nodes had their bridge IP in the cluster
   * subnet (NC_ROUTER_IP=AUTO relies on it); without it netd's dhcpd needs a
   * declaration for the management subnet.
   */
  readonly vmIp?: string;
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
  readonly client?: { readonly ip: string };
  readonly ctl?: { readonly ip: string };
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
  readonly nodes: readonly TopologyNode[];
  nodeNs(name: string): string;
  node(name: string): TopologyNode;
  instanceNs(id: string): string;
  addInstance(options: AddInstanceOptions): Promise<LabInstance>;
  /** The LabInstance value for an instance namespace created earlier (possibly by another process). */
  instanceRef(options: AddInstanceOptions): LabInstance;
  dhcp(instance: LabInstance, options?: DhcpOptions): Promise<DhcpLease>;
  removeInstance(instance: LabInstance | string): Promise<void>;
  teardown(): Promise<void>;
}

interface Networks {
  readonly lan: Cidr;
  readonly pub: Cidr;
  readonly vm: Cidr;
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
    inside(`node ${node.name} publicIp`, node.publicIp, pub, spec.publicNet);
    if (node.vmIp !== undefined) inside(`node ${node.name} vmIp`, node.vmIp, vm, spec.vmSubnet);
  }
  if (spec.ctl) inside('ctl ip', spec.ctl.ip, lan, spec.lan);
  if (spec.client) inside('client ip', spec.client.ip, pub, spec.publicNet);
  return { lan, pub, vm };
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
    await netns.addBridge(lanNs, LAN_BRIDGE);
    await netns.addBridge(lanNs, PUB_BRIDGE);
    // The lab's L2 switches must not filter: they stand for physical switches.
    await netns.sysctl(lanNs, 'net.bridge.bridge-nf-call-iptables', '0').catch(() => undefined);

    await Promise.all(topo.nodes.map((node) => buildNode(netns, lanNs, node, nets)));
    if (spec.ctl && topo.ctlNs) {
      await buildStub(netns, { lanNs, ns: topo.ctlNs, bridge: LAN_BRIDGE, peer: labNames.lanPeerCtl(), ip: spec.ctl.ip, net: nets.lan });
      await netns.addRoute(topo.ctlNs, { dst: formatCidr({ network: networkAddress(nets.vm), prefix: nets.vm.prefix }), dev: GUEST_IF });
    }
    if (spec.client && topo.clientNs) {
      await buildStub(netns, { lanNs, ns: topo.clientNs, bridge: PUB_BRIDGE, peer: labNames.lanPeerClient(), ip: spec.client.ip, net: nets.pub });
    }
    return topo;
  } catch (err) {
    await teardownByPrefix(spec.prefix, deps, { workDir: topo.workDir }).catch(() => undefined);
    throw new EdgenetError('LAB_BUILD_FAILED', `building lab ${spec.prefix} failed: ${errorMessage(err)}`, { cause: err });
  }
}

async function buildNode(netns: Netns, lanNs: string, node: TopologyNode, nets: Networks): Promise<void> {
  const ns = node.ns;
  await netns.add(ns);
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
  await netns.addAddress(ns, NODE_PUB_IF, `${node.publicIp}/${nets.pub.prefix}`);
  if (node.vmIp) await netns.addAddress(ns, NODE_BRIDGE, `${node.vmIp}/${nets.vm.prefix}`);
  // Instances are on-link behind br0 (the node routes for them: fake-router gateway).
  await netns.addRoute(ns, { dst: formatCidr({ network: networkAddress(nets.vm), prefix: nets.vm.prefix }), dev: NODE_BRIDGE });
}

async function buildStub(
  netns: Netns,
  o: { lanNs: string; ns: string; bridge: string; peer: string; ip: string; net: Cidr },
): Promise<void> {
  await netns.add(o.ns);
  await netns.addVeth({ ns: o.ns, name: GUEST_IF, peerNs: o.lanNs, peerName: o.peer });
  await netns.setMaster(o.lanNs, o.peer, o.bridge);
  await netns.linkUp(o.lanNs, o.peer);
  await netns.linkUp(o.ns, GUEST_IF);
  await netns.addAddress(o.ns, GUEST_IF, `${o.ip}/${o.net.prefix}`);
}

/** The Topology object for a spec, without creating anything (for a lab built by another process). */
export function openTopology(spec: TopologySpec, deps: TopologyDeps): Topology {
  validateSpec(spec);
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
    return {
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
    nodes,
    nodeNs: (name) => node(name).ns,
    node,
    instanceNs: (id) => labNames.instanceNs(prefix, id),
    instanceRef,

    async addInstance(o) {
      const inst = instanceRef(o);
      await netns.add(inst.ns);
      try {
        // Host end first in the node (vn_<id>), guest end created straight into the instance namespace.
        await netns.addVeth({ ns: inst.nodeNs, name: inst.hostIf, peerNs: inst.ns, peerName: inst.guestIf, peerMac: inst.mac });
        await netns.setMaster(inst.nodeNs, inst.hostIf, NODE_BRIDGE);
        // Hairpin: a VM reaches its own public IP (DNAT sends the packet back out the port it came in).
        await netns.setHairpin(inst.nodeNs, inst.hostIf, true);
        await netns.linkUp(inst.nodeNs, inst.hostIf);
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

    async removeInstance(instance) {
      const inst = typeof instance === 'string' ? { id: instance, ns: labNames.instanceNs(prefix, instance) } : instance;
      await netns.killAll(inst.ns, { graceMs: 1000 });
      // Deleting the namespace destroys the veth pair, so vn_<id> leaves the node's bridge too.
      await netns.delete(inst.ns);
      await fs.rm(labNames.etcNetnsDir(inst.ns), { recursive: true, force: true });
      await fs.rm(path.join(workDir, 'dhclient', inst.id), { recursive: true, force: true });
    },

    async teardown() {
      await teardownByPrefix(prefix, deps, { workDir });
    },
  };
  return topo;
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
