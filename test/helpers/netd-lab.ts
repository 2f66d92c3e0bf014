/**
 * Harness for netd's integration tests: a lab (the lab's src/lab/topology.ts) with
 * two nodes, a control namespace (metadata target) and a client on the public
 * side; the REAL daemon (`node bin/edgenet.mjs netd --config …`) runs inside
 * each node namespace and reads the shared file the test writes; real dhcpd
 * and dhclient. Everything is named `h6<random>` and torn down in `close()`.
 *
 * Used by test/integration/netd-*.test.ts (topology.ts builds the namespaces; this adds netd).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createExec, type Process } from '../../src/shared/exec.ts';
import { writeFileAtomic } from '../../src/shared/files.ts';
import { waitFor as pollUntil } from '../../src/shared/wait.ts';
import { buildTopology, teardownByPrefix, type LabInstance, type Topology } from '../../src/lab/topology.ts';
import { EDGENET_BIN } from '../../src/lab/daemons.ts';
import { parseNetdStatus, type NetdStatus } from '../../src/shared/netd-status.ts';
import { testGni, type TestCloud } from './fake-host.ts';
import { serializeGni } from '../../src/shared/gni/codec.ts';
import type { GniDocument, GniInstance, GniSecurityGroup } from '../../src/shared/gni/model.ts';
import { parseEvents, type SyncEvent } from '../../src/netd/events.ts';

export const VM_SUBNET = { subnet: '10.111.0.0', netmask: '255.255.0.0', gateway: '10.111.0.1' };
export const LAN = '172.31.0.0/24';
export const PUBLIC_NET = '203.0.113.0/24';
export const CTL_IP = '172.31.0.2';
export const CLIENT_IP = '203.0.113.100';
export const PUBLIC_POOL = '203.0.113.50-203.0.113.80';
export const DNS = '10.111.0.2';
export const DOMAIN = 'lab.internal';

export interface LabNode {
  readonly short: string;
  /** The node's name in the document (its management IP on br0). */
  readonly name: string;
  readonly ns: string;
  readonly runDir: string;
  readonly confFile: string;
  readonly log: string;
  netd?: Process;
}

export interface NetdLab {
  readonly topo: Topology;
  readonly prefix: string;
  readonly dir: string;
  readonly nodes: readonly LabNode[];
  node(short: string): LabNode;
  /** Runs argv in a namespace; never throws on a non-zero exit. */
  sh(ns: string, argv: readonly string[], timeoutMs?: number): Promise<{ code: number; out: string }>;
  startNetd(node: LabNode): Promise<void>;
  stopNetd(node: LabNode, signal?: NodeJS.Signals): Promise<void>;
  /** The lab's document for `cloud` (the lab's subnet, public pool, CLC, DNS, domain and private range) with the next sequence; nothing written. */
  document(cloud: Omit<TestCloud, 'sequence'>): GniDocument;
  /** Writes lab.document(cloud) to every node's shared file; returns it. */
  publish(cloud: Omit<TestCloud, 'sequence'>): Promise<GniDocument>;
  /** Writes raw text to every node's shared file. */
  publishText(text: string, nodes?: readonly LabNode[]): Promise<void>;
  waitApplied(version: string, nodes?: readonly LabNode[], timeoutMs?: number): Promise<void>;
  status(node: LabNode): Promise<NetdStatus | undefined>;
  events(node: LabNode): Promise<SyncEvent[]>;
  /** A sorted dump of what netd owns in a node namespace (rules without counters, sets, public /32s). */
  dump(node: LabNode): Promise<string>;
  addInstance(short: string, id: string, mac: string): Promise<LabInstance>;
  /** Waits until every node's status reports having processed this document sequence (any result). */
  waitSequence(sequence: number, nodes?: readonly LabNode[], timeoutMs?: number): Promise<void>;
  /** Pid of the node's live dhcpd (pid file + /proc check), if any. */
  dhcpdPid(node: LabNode): Promise<number | undefined>;
  close(): Promise<void>;
}

const exec = createExec();

export function instance(id: string, mac: string, privateIp: string, groups: readonly string[], publicIp?: string): GniInstance {
  return { name: id, ownerId: '000000000001', macAddress: mac, privateIp, ...(publicIp ? { publicIp } : {}), securityGroups: [...groups] };
}

export function sg(id: string, rules: GniSecurityGroup['ingressRules'] = []): GniSecurityGroup {
  return { name: id, ownerId: '000000000001', ingressRules: [...rules] };
}

/** Positional shorthand for the shared poller (src/shared/wait.ts). */
export function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 15_000, everyMs = 200): Promise<T> {
  return pollUntil(probe, { what, timeoutMs, intervalMs: everyMs });
}

function netdConf(node: { name: string; runDir: string }, resyncSeconds: number): string {
  return [
    'VNET_BRIDGE="br0"',
    'VNET_PUBINTERFACE="pub0"',
    'VNET_PRIVINTERFACE="priv0"',
    'VNET_DHCPDAEMON="/usr/sbin/dhcpd"',
    'POLLING_FREQUENCY="1"',
    'NC_ROUTER="Y"',
    'METADATA_USE_VM_PRIVATE="Y"',
    `EDGENET_NODE_NAME="${node.name}"`,
    `EDGENET_RUN_DIR="${node.runDir}"`,
    'EDGENET_METRICS_LISTEN="127.0.0.1:0"',
    `EDGENET_RESYNC_INTERVAL="${resyncSeconds}"`,
    '',
  ].join('\n');
}

export async function createNetdLab(options: { resyncSeconds?: number } = {}): Promise<NetdLab> {
  const prefix = `h6${randomBytes(3).toString('hex')}`;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
  const specNodes = [
    { name: 'n1', mgmtIp: '172.31.0.11', publicIp: '203.0.113.11' },
    { name: 'n2', mgmtIp: '172.31.0.12', publicIp: '203.0.113.12' },
  ];
  let topo: Topology;
  try {
    topo = await buildTopology(
      { prefix, nodes: specNodes, lan: LAN, publicNet: PUBLIC_NET, vmSubnet: '10.111.0.0/16', client: { ip: CLIENT_IP }, ctl: { ip: CTL_IP }, workDir: path.join(dir, 'lab') },
      { exec },
    );
  } catch (err) {
    await fs.rm(dir, { recursive: true, force: true });
    throw err;
  }
  const netns = topo.netns;
  const nodes: LabNode[] = [];
  for (const n of specNodes) {
    const runDir = path.join(dir, n.name);
    await fs.mkdir(runDir, { recursive: true });
    const node: LabNode = { short: n.name, name: n.mgmtIp, ns: topo.nodeNs(n.name), runDir, confFile: path.join(runDir, 'netd.conf'), log: path.join(runDir, 'netd.log') };
    await fs.writeFile(node.confFile, netdConf(node, options.resyncSeconds ?? 3600));
    // br0 carries only the node's management address (outside the VM subnet):
    // netd's dhcpd.conf declares that network too, so dhcpd still serves the VMs.
    nodes.push(node);
  }
  let sequence = 1;

  const sh: NetdLab['sh'] = async (ns, argv, timeoutMs = 10_000) => {
    try {
      const r = await exec.run(['ip', 'netns', 'exec', ns, ...argv], { timeoutMs, okExitCodes: Array.from({ length: 256 }, (_, i) => i) });
      return { code: r.exitCode, out: r.stdout + r.stderr };
    } catch (err) {
      return { code: -1, out: String(err) };
    }
  };

  const lab: NetdLab = {
    topo,
    prefix,
    dir,
    nodes,
    node: (short) => {
      const n = nodes.find((x) => x.short === short);
      if (!n) throw new Error(`no node ${short}`);
      return n;
    },
    sh,
    async startNetd(node) {
      node.netd = netns.startIn(node.ns, [process.execPath, EDGENET_BIN, 'netd', '--config', node.confFile], {
        logFile: node.log,
        env: { ...(process.env as Record<string, string>), EDGENET_LOG_FORMAT: 'json', EDGENET_RUN_DIR: node.runDir },
      });
    },
    async stopNetd(node, signal = 'SIGTERM') {
      const p = node.netd;
      if (!p) return;
      node.netd = undefined;
      // `ip netns exec` execs the command, so the pid is the daemon itself.
      p.kill(signal);
      await Promise.race([p.exited, new Promise((r) => setTimeout(r, 5000))]);
    },
    document(cloud) {
      return testGni({
        subnet: VM_SUBNET,
        publicIps: [PUBLIC_POOL],
        clcIp: CTL_IP,
        dnsServers: [DNS],
        domain: DOMAIN,
        privateIps: ['10.111.1.10-10.111.1.250'],
        ...cloud,
        sequence: sequence++,
      });
    },
    async publish(cloud) {
      const doc = lab.document(cloud);
      await lab.publishText(serializeGni(doc));
      return doc;
    },
    async publishText(text, which = nodes) {
      for (const n of which) await writeFileAtomic(path.join(n.runDir, 'global_network_info.xml'), text);
    },
    async status(node) {
      const text = await fs.readFile(path.join(node.runDir, 'netd-status.json'), 'utf8').catch(() => undefined);
      return text === undefined ? undefined : parseNetdStatus(text);
    },
    async events(node) {
      const text = await fs.readFile(path.join(node.runDir, 'netd-events.jsonl'), 'utf8').catch(() => '');
      return parseEvents(text);
    },
    async waitApplied(version, which = nodes, timeoutMs = 45_000) {
      for (const n of which) {
        await waitFor(
          `${n.short} to apply ${version}`,
          async () => {
            const s = await lab.status(n);
            return s?.result === 'ok' && s.appliedVersion === version ? s : undefined;
          },
          timeoutMs,
        ).catch(async (err) => {
          const s = await lab.status(n);
          const log = await fs.readFile(n.log, 'utf8').catch(() => '');
          throw new Error(`${String(err)}\nstatus: ${JSON.stringify(s)}\nlog tail:\n${log.split('\n').slice(-8).join('\n')}`);
        });
      }
    },
    async dump(node) {
      // Chains are grouped and sorted by name (kernel listing order depends on creation
      // history); rules keep their order inside a chain; counters and dates are dropped.
      const chains = new Map<string, string[]>();
      const add = (key: string, line: string) => chains.set(key, [...(chains.get(key) ?? []), line]);
      for (const tool of ['iptables', 'ebtables'] as const) {
        for (const t of ['filter', 'nat']) {
          const r = await sh(node.ns, [`${tool}-save`, '-t', t]);
          for (const l of r.out.split('\n')) {
            if (l === '' || l.startsWith('#') || l === 'COMMIT' || l.startsWith('*')) continue;
            const decl = /^:(\S+)/.exec(l);
            const rule = /^-A (\S+) /.exec(l);
            const chain = decl?.[1] ?? rule?.[1] ?? '?';
            add(`${tool} ${t} ${chain}`, l.replace(/\[\d+:\d+\]/g, '').trim());
          }
        }
      }
      const sets = await sh(node.ns, ['ipset', 'save']);
      for (const l of sets.out.split('\n')) {
        if (l.trim() === '') continue;
        const name = l.split(' ')[1] ?? '?';
        add(`ipset ${name}`, l.replace(/ initval 0x[0-9a-f]+/, '').replace(/ bucketsize \d+/, ''));
      }
      const addrs = await sh(node.ns, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'pub0']);
      for (const m of addrs.out.matchAll(/inet (\S+)/g)) add('addr pub0', m[1] ?? '');
      const conf = await fs.readFile(path.join(node.runDir, 'netd', 'dhcpd.conf'), 'utf8').catch(() => 'none');
      add('dhcpd.conf', conf);
      const out: string[] = [];
      for (const key of [...chains.keys()].sort()) {
        const lines = chains.get(key)!;
        // ipset members and addresses are sets: sort them too.
        out.push(key, ...(key.startsWith('ipset') || key.startsWith('addr') ? lines.sort() : lines).map((l) => `  ${l}`));
      }
      return out.join('\n');
    },
    async waitSequence(sequence, which = nodes, timeoutMs = 45_000) {
      for (const n of which) {
        await waitFor(`${n.short} to process sequence ${sequence}`, async () => {
          const s = await lab.status(n);
          return s?.sequence === sequence ? s : undefined;
        }, timeoutMs).catch(async (err) => {
          const s = await lab.status(n);
          const log = await fs.readFile(n.log, 'utf8').catch(() => '');
          throw new Error(`${String(err)}\nstatus: ${JSON.stringify(s)}\nlog tail:\n${log.split('\n').slice(-12).join('\n')}`);
        });
      }
    },
    async dhcpdPid(node) {
      const text = await fs.readFile(path.join(node.runDir, 'netd', 'dhcpd.pid'), 'utf8').catch(() => '');
      const pid = Number.parseInt(text.trim(), 10);
      if (!Number.isInteger(pid)) return undefined;
      const cmd = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      return cmd.includes('dhcpd') ? pid : undefined;
    },
    async addInstance(short, id, mac) {
      return topo.addInstance({ node: short, id, mac });
    },
    async close() {
      for (const n of nodes) await lab.stopNetd(n).catch(() => undefined);
      await teardownByPrefix(prefix, { exec }, { workDir: path.join(dir, 'lab') }).catch(() => undefined);
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
  return lab;
}

/** Starts a TCP server in a namespace answering every connection with `hello from <name>` and logging the peer. */
export function tcpServer(lab: NetdLab, ns: string, ports: readonly number[], name: string, logFile: string): Process {
  const script = `
const net = require('node:net'); const fs = require('node:fs');
for (const p of ${JSON.stringify(ports)}) net.createServer((s) => { s.on('error', () => {}); fs.appendFileSync(${JSON.stringify(logFile)}, s.remoteAddress + ' ' + p + '\\n'); s.end('hello from ${name}\\n'); }).listen(p, '0.0.0.0');
`;
  return lab.topo.netns.startIn(ns, [process.execPath, '-e', script], {});
}

/** True when a TCP connection from ns to ip:port is accepted within 1.5 s. */
export async function canConnect(lab: NetdLab, ns: string, ip: string, port: number): Promise<boolean> {
  const r = await lab.sh(ns, ['nc', '-z', '-w', '1', ip, String(port)], 5000);
  return r.code === 0;
}

export async function canPing(lab: NetdLab, ns: string, ip: string): Promise<boolean> {
  const r = await lab.sh(ns, ['ping', '-n', '-c', '1', '-W', '1', ip], 5000);
  return r.code === 0;
}

/** Retries a reachability probe a few times (ARP and conntrack settle), expecting `want`. */
export async function settle(probe: () => Promise<boolean>, want: boolean, tries = 4): Promise<boolean> {
  let last = !want;
  for (let i = 0; i < tries; i++) {
    last = await probe();
    if (last === want) return last;
  }
  return last;
}

// ---------------------------------------------------------------------------
// One node and its upstream, for the node-network layouts (docs/netd.md "The
// node's network"): namespace `<p>-node` with `eth1`, veth to `<p>-peer`
// (`p0`, 192.168.77.1/24, plus 10.99.0.1 on lo: reached only through the
// node's default route). netd runs `--once` in the node namespace.

export const NODE_IP = '192.168.77.11';
export const UPSTREAM_IP = '192.168.77.1';
/** Only reachable from the node through its default route. */
export const FAR_IP = '10.99.0.1';

export type NodeShape =
  /** layout a: br0 with the node's address, eth1 its port, default route via br0 */
  | 'bridge-with-address'
  /** layout b's starting point: eth1 carries the address and the default route, no br0 */
  | 'address-on-eth1'
  /** eth1 without address, no br0 */
  | 'bare';

export interface NodeHost {
  readonly prefix: string;
  readonly nodeNs: string;
  readonly peerNs: string;
  readonly runDir: string;
  readonly confFile: string;
  sh(ns: string, argv: readonly string[], timeoutMs?: number): Promise<{ code: number; out: string }>;
  /** Writes netd.conf: the base keys plus `extra` (a key set to undefined is left out). */
  writeConf(extra: Record<string, string | undefined>): Promise<void>;
  /** Publishes a document with this node and one local instance (so dhcpd runs). */
  publish(): Promise<GniDocument>;
  /** `edgenet netd --once` in the node namespace. */
  runOnce(): Promise<{ code: number; out: string }>;
  status(): Promise<NetdStatus | undefined>;
  events(): Promise<SyncEvent[]>;
  /** `ip -j` of a link in the node namespace (undefined when missing). */
  link(name: string): Promise<{ address?: string; master?: string; linkinfo?: { info_kind?: string } } | undefined>;
  addresses(dev: string): Promise<string[]>;
  routes(dev: string): Promise<string[]>;
  /** sysfs addr_assign_type of a link in the node (3 = set explicitly, i.e. pinned). */
  macAssignType(dev: string): Promise<string>;
  close(): Promise<void>;
}

export async function createNodeHost(shape: NodeShape): Promise<NodeHost> {
  const prefix = `h2${randomBytes(3).toString('hex')}`;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
  const nodeNs = `${prefix}-node`;
  const peerNs = `${prefix}-peer`;
  const runDir = path.join(dir, 'run');
  const confFile = path.join(dir, 'netd.conf');
  const sh: NodeHost['sh'] = async (ns, argv, timeoutMs = 10_000) => {
    try {
      const r = await exec.run(['ip', 'netns', 'exec', ns, ...argv], { timeoutMs, okExitCodes: Array.from({ length: 256 }, (_, i) => i) });
      return { code: r.exitCode, out: r.stdout + r.stderr };
    } catch (err) {
      return { code: -1, out: String(err) };
    }
  };
  const must = async (ns: string, argv: readonly string[]) => {
    const r = await sh(ns, argv);
    if (r.code !== 0) throw new Error(`${argv.join(' ')} in ${ns}: ${r.out}`);
  };
  const close = async () => {
    // Kills what runs in the namespaces (netd's dhcpd) and deletes them.
    await teardownByPrefix(prefix, { exec }, { workDir: path.join(dir, 'lab') }).catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    await fs.mkdir(runDir, { recursive: true });
    for (const ns of [nodeNs, peerNs]) await exec.run(['ip', 'netns', 'add', ns]);
    await exec.run(['ip', '-n', nodeNs, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'p0', 'netns', peerNs]);
    await must(peerNs, ['ip', 'addr', 'add', `${UPSTREAM_IP}/24`, 'dev', 'p0']);
    await must(peerNs, ['ip', 'addr', 'add', `${FAR_IP}/32`, 'dev', 'lo']);
    for (const [ns, dev] of [[peerNs, 'p0'], [peerNs, 'lo'], [nodeNs, 'eth1'], [nodeNs, 'lo']] as const) await must(ns, ['ip', 'link', 'set', dev, 'up']);
    if (shape === 'bridge-with-address') {
      await must(nodeNs, ['ip', 'link', 'add', 'br0', 'type', 'bridge']);
      await must(nodeNs, ['ip', 'link', 'set', 'eth1', 'master', 'br0']);
      await must(nodeNs, ['ip', 'link', 'set', 'br0', 'up']);
    }
    if (shape !== 'bare') {
      const dev = shape === 'bridge-with-address' ? 'br0' : 'eth1';
      await must(nodeNs, ['ip', 'addr', 'add', `${NODE_IP}/24`, 'brd', '+', 'dev', dev]);
      await must(nodeNs, ['ip', 'route', 'add', 'default', 'via', UPSTREAM_IP, 'dev', dev, 'proto', 'static']);
    }
  } catch (err) {
    await close();
    throw err;
  }
  const host: NodeHost = {
    prefix,
    nodeNs,
    peerNs,
    runDir,
    confFile,
    sh,
    async writeConf(extra) {
      const keys: Record<string, string | undefined> = {
        VNET_BRIDGE: 'br0',
        VNET_PRIVINTERFACE: 'eth1',
        VNET_PUBINTERFACE: '',
        VNET_DHCPDAEMON: '/usr/sbin/dhcpd',
        NC_ROUTER: 'Y',
        EDGENET_NODE_NAME: NODE_IP,
        EDGENET_RUN_DIR: runDir,
        EDGENET_METRICS_LISTEN: '127.0.0.1:0',
        ...extra,
      };
      const lines = Object.entries(keys).flatMap(([k, v]) => (v === undefined ? [] : [`${k}="${v}"`]));
      await fs.writeFile(confFile, `${lines.join('\n')}\n`);
    },
    async publish() {
      const doc = testGni({
        subnet: VM_SUBNET,
        publicIps: [PUBLIC_POOL],
        privateIps: ['10.111.1.10-10.111.1.250'],
        // Eucalyptus-form ids: netd refuses any other (render/sanitize.ts).
        nodes: [{ name: NODE_IP, instances: ['i-00000001'] }],
        instances: [instance('i-00000001', 'd0:0d:00:00:01:01', '10.111.1.10', ['sg-0000000a'])],
        groups: [sg('sg-0000000a')],
        sequence: Date.now(),
      });
      await writeFileAtomic(path.join(runDir, 'global_network_info.xml'), serializeGni(doc));
      return doc;
    },
    async runOnce() {
      return sh(nodeNs, [process.execPath, EDGENET_BIN, 'netd', '--config', confFile, '--once'], 60_000);
    },
    async status() {
      const text = await fs.readFile(path.join(runDir, 'netd-status.json'), 'utf8').catch(() => undefined);
      return text === undefined ? undefined : parseNetdStatus(text);
    },
    async events() {
      return parseEvents(await fs.readFile(path.join(runDir, 'netd-events.jsonl'), 'utf8').catch(() => ''));
    },
    async link(name) {
      const r = await sh(nodeNs, ['ip', '-j', '-d', 'link', 'show', 'dev', name]);
      if (r.code !== 0) return undefined;
      return (JSON.parse(r.out) as { address?: string; master?: string; linkinfo?: { info_kind?: string } }[])[0];
    },
    async addresses(dev) {
      const r = await sh(nodeNs, ['ip', '-4', '-o', 'addr', 'show', 'dev', dev]);
      return [...r.out.matchAll(/inet (\S+)/g)].map((m) => m[1] ?? '');
    },
    async routes(dev) {
      const r = await sh(nodeNs, ['ip', '-4', 'route', 'show', 'dev', dev]);
      return r.out.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    },
    async macAssignType(dev) {
      return (await sh(nodeNs, ['cat', `/sys/class/net/${dev}/addr_assign_type`])).out.trim();
    },
    close,
  };
  await host.writeConf({});
  return host;
}
