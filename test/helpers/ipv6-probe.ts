/**
 * IPv6 for the namespace tests (test/integration/netd-ipv6-traffic.test.ts,
 * test/e2e/ipv6.test.ts): dual-stack GNI documents built with the writers of
 * src/shared/gni/ipv6.ts, the lab's IPv6 addressing (what the preamble of
 * issue 14 fixes for `edgenet lab`, applied idempotently so it works whether
 * or not the topology already does it), and packet probes that can fail:
 *
 * - `delivery(...)`: a listener in the receiving namespace counts tagged
 *   packets until a fence (an admitted packet sent after the probes over the
 *   same path) arrives, so "0 received" is a verdict, not an early look;
 * - frames crafted byte by byte (ipv6-frames.py, AF_PACKET) for spoofed
 *   sources, forged neighbour / router advertisements and DHCPv6 replies.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Netns } from '../../src/lab/netns.ts';
import type { GniDocument, GniRule, GniSecurityGroup } from '../../src/shared/gni/model.ts';
import {
  clusterIpv6Extension,
  configurationIpv6Extension,
  groupIpv6Extension,
  instanceIpv6Extension,
  ruleDocumentPlace,
} from '../../src/shared/gni/ipv6.ts';
import { gniVersion } from '../../src/shared/gni/version.ts';
import { formatIpv6, parseCidr6 } from '../../src/shared/ip/ipv6.ts';
import { linkLocalAddress, slaacAddress } from '../../src/shared/ip/eui64.ts';
import { waitFor } from '../../src/shared/wait.ts';

export const FRAMES_PY = path.join(import.meta.dirname, 'ipv6-frames.py');
export const PYTHON = '/usr/bin/python3';

/** The lab's IPv6 plan (preamble of issue 14, "Lab"). */
export const LAB6 = {
  prefix: '2001:db8:10::/64',
  mgmtPrefix: 'fd00:172:31::/64',
  ctl: 'fd00:172:31::2',
  nodeMgmt: ['fd00:172:31::11', 'fd00:172:31::12'],
  publicPrefix: '2001:db8:ffff::/64',
  client: '2001:db8:ffff::2',
  nodePublic: ['2001:db8:ffff::11', '2001:db8:ffff::12'],
  dns: ['fd00:172:31::53'],
} as const;

/** The instance's global address: the EUI-64 of its MAC in the cluster's /64. */
export function v6Of(mac: string, prefix: string = LAB6.prefix): string {
  const cidr = parseCidr6(prefix);
  const v = cidr === undefined ? undefined : slaacAddress(cidr, mac);
  if (v === undefined) throw new Error(`no SLAAC address for ${mac} in ${prefix}`);
  return formatIpv6(v);
}

export function linkLocalOf(mac: string): string {
  const v = linkLocalAddress(mac);
  if (v === undefined) throw new Error(`bad MAC ${mac}`);
  return formatIpv6(v);
}

/** A group whose rules are split between `ingressRules` and the `ipv6` extension as the CLC splits them. */
export function sgDual(id: string, rules: readonly GniRule[] = [], ownerId = '000000000001'): GniSecurityGroup {
  const v4 = rules.filter((r) => ruleDocumentPlace(r) === 'ingressRules');
  const ext = groupIpv6Extension(rules.filter((r) => ruleDocumentPlace(r) === 'ipv6'));
  return { name: id, ownerId, ingressRules: v4, ...(ext ? { extensions: [ext] } : {}) };
}

/**
 * The document made dual-stack: every cluster gets the prefix and name
 * servers, every instance with a MAC its EUI-64 address, the configuration
 * the CLC's IPv6 address when given; version recomputed.
 */
export function withIpv6(doc: GniDocument, v6: { prefix?: string; dnsServers?: readonly string[]; clcAddress?: string } = {}): GniDocument {
  const prefix = v6.prefix ?? LAB6.prefix;
  const conf = doc.configuration;
  const body: Omit<GniDocument, 'version' | 'sequence' | 'generation'> = {
    configuration: {
      ...conf,
      ...(v6.clcAddress ? { extensions: [...(conf.extensions ?? []), configurationIpv6Extension(v6.clcAddress)] } : {}),
      clusters: conf.clusters.map((c) => ({ ...c, extensions: [...(c.extensions ?? []), clusterIpv6Extension({ prefix, dnsServers: v6.dnsServers ?? LAB6.dns })] })),
    },
    instances: doc.instances.map((i) => (i.macAddress ? { ...i, extensions: [...(i.extensions ?? []), instanceIpv6Extension(v6Of(i.macAddress, prefix))] } : i)),
    securityGroups: doc.securityGroups,
  };
  return { ...body, version: gniVersion(body), ...(doc.sequence === undefined ? {} : { sequence: doc.sequence }) };
}

/**
 * The lab's IPv6 addressing on a topology built by src/lab/topology.ts
 * (idempotent: `replace`): management /64 on the nodes' br0 and ctl, the
 * public /64 on the nodes' pub0 and the client, the client's route to the
 * cluster /64 via the nodes (ECMP, or one node), ctl's on-link route for the
 * cluster /64.
 */
export async function addLabIpv6(
  netns: Netns,
  /** nodeNs in lab order (n1, n2); an empty list leaves the nodes alone. */
  t: { nodeNs: readonly string[]; ctlNs?: string; clientNs?: string },
  options: { clientVia?: 'ecmp' | number } = {},
): Promise<void> {
  const run = async (ns: string, argv: string[]) => {
    const r = await netns.execIn(ns, argv, { okExitCodes: Array.from({ length: 256 }, (_, i) => i) });
    if (r.exitCode !== 0) throw new Error(`${argv.join(' ')} in ${ns}: ${r.stderr}`);
  };
  for (const [i, ns] of t.nodeNs.entries()) {
    await run(ns, ['ip', '-6', 'addr', 'replace', `${LAB6.nodeMgmt[i]}/64`, 'dev', 'br0', 'nodad']);
    await run(ns, ['ip', '-6', 'addr', 'replace', `${LAB6.nodePublic[i]}/64`, 'dev', 'pub0', 'nodad']);
  }
  if (t.ctlNs) {
    await run(t.ctlNs, ['ip', '-6', 'addr', 'replace', `${LAB6.ctl}/64`, 'dev', 'eth0', 'nodad']);
    await run(t.ctlNs, ['ip', '-6', 'route', 'replace', LAB6.prefix, 'dev', 'eth0']);
  }
  if (t.clientNs) {
    await run(t.clientNs, ['ip', '-6', 'addr', 'replace', `${LAB6.client}/64`, 'dev', 'eth0', 'nodad']);
    const via = options.clientVia ?? 'ecmp';
    const hops = via === 'ecmp' ? LAB6.nodePublic.flatMap((hop) => ['nexthop', 'via', hop, 'dev', 'eth0']) : ['via', LAB6.nodePublic[via]!, 'dev', 'eth0'];
    // `replace` does not turn an IPv6 multipath route into a single path (nor back): delete every path, then add.
    for (let i = 0; i < 8; i++) {
      const r = await netns.execIn(t.clientNs, ['ip', '-6', 'route', 'del', LAB6.prefix], { okExitCodes: Array.from({ length: 256 }, (_, k) => k) });
      if (r.exitCode !== 0) break;
    }
    await run(t.clientNs, ['ip', '-6', 'route', 'add', LAB6.prefix, ...hops]);
  }
}

// ---------------------------------------------------------------------------
// Packets

export interface Frame {
  readonly kind: 'echo' | 'na' | 'ra' | 'udp';
  readonly srcMac: string;
  readonly dstMac: string;
  readonly src: string;
  readonly dst: string;
  readonly count?: number;
  /** echo: ICMPv6 type (default 128). */
  readonly type?: number;
  /** na: the address advertised; tlla: the MAC claimed for it (default srcMac). */
  readonly target?: string;
  readonly tlla?: string;
  readonly override?: boolean;
  readonly solicited?: boolean;
  /** ra: the prefix advertised (a /64). */
  readonly prefix?: string;
  readonly routerLifetime?: number;
  /** ra: the prefix option's flags (default 0xc0: on-link, autonomous; 0 makes an RA that changes nothing). */
  readonly prefixFlags?: number;
  /** udp */
  readonly sport?: number;
  readonly dport?: number;
}

export interface Delivery {
  /** `<source address> <icmp type>` (icmp6) or `<source address> <source port>` (udp) → packets received. */
  readonly counts: Readonly<Record<string, number>>;
  /** The fence arrived: everything sent before it had its chance. */
  readonly fenced: boolean;
}

function run(netns: Netns, ns: string, argv: string[], timeoutMs = 15_000) {
  return netns.execIn(ns, argv, { timeoutMs, okExitCodes: Array.from({ length: 256 }, (_, i) => i) });
}

/** Sends crafted frames (then the fence frames, tagged as the fence) out of `iface` in `ns`. */
export async function sendFrames(netns: Netns, ns: string, spec: { iface?: string; tag: string; frames: readonly Frame[]; fence?: readonly Frame[] }): Promise<void> {
  const r = await run(netns, ns, [PYTHON, FRAMES_PY, 'send', JSON.stringify({ iface: spec.iface ?? 'eth0', tag: spec.tag, frames: spec.frames, fence: spec.fence ?? [] })]);
  if (r.exitCode !== 0) throw new Error(`sending frames in ${ns} failed: ${r.stderr}`);
}

/** ICMPv6 messages of the given types from an ordinary raw socket (the kernel's source, route and neighbour). */
export async function sendIcmp6(netns: Netns, ns: string, spec: { dst: string; tag: string; types: readonly number[]; fenceType?: number; count?: number }): Promise<void> {
  const r = await run(netns, ns, [PYTHON, FRAMES_PY, 'ping', JSON.stringify(spec)]);
  if (r.exitCode !== 0) throw new Error(`sending ICMPv6 in ${ns} failed: ${r.stderr}`);
}

/**
 * Starts a listener in `ns` (raw ICMPv6, or UDP on `port`), runs `send(tag)`,
 * and returns what the listener counted once the fence arrived (or its
 * timeout passed: `fenced` false, which callers must treat as "no verdict").
 */
export async function delivery(
  netns: Netns,
  /** udp: `port` counted; `fencePort` (optional) a second port the fence may use instead. */
  o: { ns: string; dir: string; mode: 'icmp6' | 'udp'; port?: number; fencePort?: number; timeoutMs?: number },
  send: (tag: string) => Promise<void>,
): Promise<Delivery> {
  const tag = `e6${randomBytes(4).toString('hex')}`;
  const ready = path.join(o.dir, `${tag}.ready`);
  const out = path.join(o.dir, `${tag}.json`);
  const listener = netns.startIn(o.ns, [PYTHON, FRAMES_PY, 'listen', JSON.stringify({ tag, mode: o.mode, port: o.port, fencePort: o.fencePort, ready, out, timeoutMs: o.timeoutMs ?? 8000 })]);
  try {
    await waitFor(async () => fs.access(ready).then(() => true, () => false), { what: `listener in ${o.ns}`, timeoutMs: 10_000, intervalMs: 25 });
    await send(tag);
    await listener.exited;
    const result = JSON.parse(await fs.readFile(out, 'utf8')) as Delivery;
    return result;
  } finally {
    listener.kill('SIGKILL');
    await fs.rm(ready, { force: true });
    await fs.rm(out, { force: true });
  }
}

/** Sum of the counts whose key starts with `src ` (and, when given, ends with ` <what>`). */
export function received(d: Delivery, src: string, what?: number): number {
  return Object.entries(d.counts)
    .filter(([k]) => k.startsWith(`${src} `) && (what === undefined || k.endsWith(` ${what}`)))
    .reduce((n, [, c]) => n + c, 0);
}

/** One line of /proc/net/snmp6 in a namespace (e.g. Icmp6OutRouterAdvertisements). */
export async function snmp6(netns: Netns, ns: string, key: string): Promise<number> {
  const r = await run(netns, ns, ['cat', '/proc/net/snmp6']);
  const m = new RegExp(`^${key}\\s+(\\d+)$`, 'm').exec(r.stdout);
  return m ? Number(m[1]) : NaN;
}

/** Global (non-link-local) IPv6 addresses on a device, `addr/len`; tentative ones (DAD running) only when asked. */
export async function globalAddresses(netns: Netns, ns: string, dev = 'eth0', includeTentative = false): Promise<string[]> {
  const r = await run(netns, ns, ['ip', '-6', '-j', 'addr', 'show', 'dev', dev, 'scope', 'global']);
  if (r.exitCode !== 0) return [];
  const parsed = JSON.parse(r.stdout || '[]') as { addr_info?: { local?: string; prefixlen: number; tentative?: boolean; dadfailed?: boolean }[] }[];
  return parsed.flatMap((l) => l.addr_info ?? []).filter((a) => a.local !== undefined && (includeTentative || (!a.tentative && !a.dadfailed))).map((a) => `${a.local}/${a.prefixlen}`);
}

/** IPv6 default routes (`via` gateways) in a namespace. */
export async function defaultRoutes6(netns: Netns, ns: string): Promise<{ gateway: string; dev: string; protocol?: string }[]> {
  const r = await run(netns, ns, ['ip', '-6', '-j', 'route', 'show', 'default']);
  if (r.exitCode !== 0) return [];
  const parsed = JSON.parse(r.stdout || '[]') as { gateway?: string; dev?: string; protocol?: string; nexthops?: { gateway: string; dev: string }[] }[];
  return parsed.flatMap((x) => (x.nexthops ? x.nexthops.map((h) => ({ gateway: h.gateway, dev: h.dev, protocol: x.protocol })) : [{ gateway: x.gateway ?? '', dev: x.dev ?? '', protocol: x.protocol }]));
}

/** The link-layer address a namespace holds for a neighbour (undefined when it has no entry). */
export async function neighbourMac(netns: Netns, ns: string, address: string, dev = 'eth0'): Promise<string | undefined> {
  const r = await run(netns, ns, ['ip', '-6', '-j', 'neigh', 'show', address, 'dev', dev]);
  const parsed = JSON.parse(r.stdout || '[]') as { lladdr?: string }[];
  return parsed[0]?.lladdr;
}

/** The MAC of a link in a namespace. */
export async function linkMac(netns: Netns, ns: string, dev: string): Promise<string> {
  const r = await run(netns, ns, ['ip', '-j', 'link', 'show', 'dev', dev]);
  const mac = (JSON.parse(r.stdout || '[]') as { address?: string }[])[0]?.address;
  if (!mac) throw new Error(`no MAC for ${dev} in ${ns}: ${r.stderr}`);
  return mac;
}

/** A TCP server on `::` (both families) answering `hello from <name>` on each port. */
export function tcpServer6(netns: Netns, ns: string, ports: readonly number[], name: string) {
  const script = `process.on('uncaughtException', () => {}); const net = require('node:net');
for (const p of ${JSON.stringify(ports)}) net.createServer((s) => { s.on('error', () => {}); s.end('hello from ${name}\\n'); }).listen({ port: p, host: '::', ipv6Only: false });`;
  return netns.startIn(ns, [process.execPath, '-e', script]);
}

/** True when a TCP connection from ns to ip:port (either family: the literal decides) is accepted within `seconds`. */
export async function tcpConnects(netns: Netns, ns: string, ip: string, port: number, seconds = 1): Promise<boolean> {
  const r = await run(netns, ns, ['nc', '-z', '-n', '-w', String(seconds), ip, String(port)], (seconds + 4) * 1000);
  return r.exitCode === 0;
}

export async function pings6(netns: Netns, ns: string, ip: string, seconds = 1): Promise<boolean> {
  const r = await run(netns, ns, ['ping', '-6', '-n', '-c', '1', '-W', String(seconds), ip], (seconds + 4) * 1000);
  return r.exitCode === 0;
}

/**
 * `want` true: tries with growing timeouts (1..4 s: neighbour discovery and a
 * loaded machine); `want` false: two attempts, and one success is a leak.
 * Returns the last result.
 */
export async function expect6(probe: (seconds: number) => Promise<boolean>, want: boolean): Promise<boolean> {
  const attempts = want ? 4 : 2;
  let last = !want;
  for (let i = 0; i < attempts; i++) {
    last = await probe(i + 1);
    if (last === want) return last;
  }
  return last;
}
