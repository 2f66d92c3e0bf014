/**
 * The upstream router of a ROUTED lab (issue 17): namespace `P-rt` running
 * BIRD 2, one eBGP session per node over the lan. It stands for the top-of-rack
 * router a ROUTED cloud announces its instances to:
 *
 * - it accepts from a node only host routes inside the cloud's pools — a /32
 *   in the cluster's Ipv4Pool or in PublicIps (elastic addresses), a /128 in
 *   the cluster's Ipv6Prefix — and nothing else (a node announcing anything
 *   more is filtered, visible as "filtered" in `birdc show route filtered`);
 * - it offers every node exactly one route per family, the default (a static
 *   route of its own, `unreachable` inside BIRD and never in its kernel: the
 *   lab has no way out, the default only makes the nodes send everything that
 *   is not theirs to the router, which knows the other nodes' instances and
 *   the client link);
 * - it installs the learned BGP routes in its kernel (kernel protocols export
 *   `source = RTS_BGP` only) and imports nothing from the kernel;
 * - graceful restart aware (BIRD's default, written out): when a node's BIRD
 *   restarts, its routes stay as stale until the node's session comes back
 *   within the restart time it advertised, so instances stay reachable.
 *
 * One session per node and family, each over an address of its family (the
 * router's lan IPv4 and IPv6 addresses are the two peers in the property):
 * netd's BIRD carries a family only over a session of that family, so every
 * route's BGP next hop is an address of its own family (render/bird.ts).
 *
 * `renderRouterBirdConf` is pure (a unit test pins it and `bird -p` checks
 * it); the rest starts BIRD, asks it through birdc and reads its kernel.
 */
import { promises as fs } from 'node:fs';
import type { Exec } from '../shared/exec.ts';
import { EdgenetError, errorMessage } from '../shared/errors.ts';
import { formatCidr, formatCidr6, formatIpv6, normalizeRanges, parseCidr6, parseIpv6, parseRangeEntry, rangeToCidrs } from '../shared/ip.ts';
import type { LabPlan, LabRoutedPlan } from './plan.ts';
import { BIRD_BIN, BIRDC_BIN } from './daemons.ts';
import { createNetns } from './netns.ts';

/** BIRD protocol name of a node's session of one family (n1 → node_n1 for IPv4, node_n1_v6 for IPv6). */
export function routerSessionName(short: string, family: 'ipv4' | 'ipv6' = 'ipv4'): string {
  return family === 'ipv4' ? `node_${short}` : `node_${short}_v6`;
}

/** The BIRD prefix-set items covering exactly `ranges` (IPv4 text entries), each as host routes: `a.b.c.d/N{32,32}`. */
export function hostRoutesSet4(ranges: readonly string[]): string[] {
  const parsed = ranges.map((text) => {
    const r = parseRangeEntry(text);
    if (!r || r.lo > r.hi) throw new EdgenetError('LAB_BAD_SPEC', `pool entry "${text}" is not an IPv4 address range`);
    return r;
  });
  return normalizeRanges(parsed).flatMap(rangeToCidrs).map((c) => `${formatCidr(c)}{32,32}`);
}

/**
 * bird.conf of the router. Every value comes from the plan (no document):
 * sessions in node order, pools as written in the property.
 */
export function renderRouterBirdConf(plan: Pick<LabPlan, 'name'> & { readonly routed: LabRoutedPlan }): string {
  const r = plan.routed;
  const v6 = r.ipv6Prefix !== undefined;
  const set4 = hostRoutesSet4([...r.ipv4Pool, ...r.publicIps]);
  let set6: string | undefined;
  if (v6) {
    const c = parseCidr6(r.ipv6Prefix!);
    if (!c) throw new EdgenetError('LAB_BAD_SPEC', `Ipv6Prefix "${r.ipv6Prefix}" is not an IPv6 prefix`);
    set6 = `${formatCidr6(c)}{128,128}`;
  }
  const lines = [
    `# edgenet lab ${plan.name}: the upstream router (AS ${r.router.asn}), rendered by src/lab/router.ts.`,
    '# Learns the instances\' host routes from the nodes, offers them a default route, installs what it learned.',
    `router id ${r.router.lanIp};`,
    'log stderr all;',
    '',
    'protocol device { scan time 10; }',
    '',
    '# The default offered to the nodes: BIRD-only (unreachable; the kernels below export BGP routes only).',
    'protocol static default4 { ipv4; route 0.0.0.0/0 unreachable; }',
    ...(v6 ? ['protocol static default6 { ipv6; route ::/0 unreachable; }'] : []),
    '',
    '# Learned routes into the kernel; nothing from the kernel into BIRD.',
    'protocol kernel kernel4 { ipv4 { import none; export where source = RTS_BGP; }; }',
    ...(v6 ? ['protocol kernel kernel6 { ipv6 { import none; export where source = RTS_BGP; }; }'] : []),
    '',
    '# The only routes a node may announce: host routes of the pools (Ipv4Pool, PublicIps, Ipv6Prefix).',
    `define INSTANCES4 = [ ${set4.join(', ')} ];`,
    ...(set6 ? [`define INSTANCES6 = [ ${set6} ];`] : []),
    'filter from_node4 { if net ~ INSTANCES4 then accept; reject; }',
    ...(v6 ? ['filter from_node6 { if net ~ INSTANCES6 then accept; reject; }'] : []),
    'filter to_node4 { if net = 0.0.0.0/0 && source = RTS_STATIC then accept; reject; }',
    ...(v6 ? ['filter to_node6 { if net = ::/0 && source = RTS_STATIC then accept; reject; }'] : []),
    '',
    ...template('4', r.router.lanIp, r.router.asn, 'ipv4 { import filter from_node4; export filter to_node4; };'),
    ...(v6 ? template('6', r.router.lanIpv6!, r.router.asn, 'ipv6 { import filter from_node6; export filter to_node6; };') : []),
    ...r.nodes.map((n) => `protocol bgp ${routerSessionName(n.short)} from cloud_node4 { description "node ${n.short} (${n.address})"; neighbor ${n.address} as ${n.asn}; }`),
    ...(v6 ? r.nodes.map((n) => `protocol bgp ${routerSessionName(n.short, 'ipv6')} from cloud_node6 { description "node ${n.short} (${n.addressIpv6})"; neighbor ${n.addressIpv6} as ${n.asn}; }`) : []),
    '',
  ];
  if (v6 && (!r.router.lanIpv6 || r.nodes.some((n) => !n.addressIpv6))) throw new EdgenetError('LAB_BAD_SPEC', 'a dual-stack ROUTED lab needs the IPv6 lan addresses of the router and of every node');
  return lines.join('\n');
}

/** The session template of one family: the router's address of that family, its AS, graceful restart aware, quick retries. */
function template(v: '4' | '6', local: string, asn: number, channel: string): string[] {
  return [
    `template bgp cloud_node${v} {`,
    `  local ${local} as ${asn};`,
    '  # Keep a restarting node\'s routes (stale) until its session is back (RFC 4724).',
    '  graceful restart aware;',
    '  # A lab: sessions come up (and come back) within about a second.',
    '  connect delay time 1;',
    '  connect retry time 1;',
    '  error wait time 1, 5;',
    `  ${channel}`,
    '}',
    '',
  ];
}

/** Writes the router's bird.conf and checks it with `bird -p` (BIRD's own parser) before anything starts. */
export async function writeRouterConf(plan: LabPlan, exec: Exec): Promise<void> {
  const r = plan.routed;
  if (!r) throw new EdgenetError('LAB_BAD_SPEC', `lab ${plan.name} is not a ROUTED lab`);
  await fs.mkdir(r.router.dir, { recursive: true, mode: 0o700 });
  await fs.writeFile(r.router.conf, renderRouterBirdConf({ name: plan.name, routed: r }), { mode: 0o644 });
  const check = await exec.run([BIRD_BIN, '-p', '-c', r.router.conf], { okExitCodes: [0, 1], timeoutMs: 15_000 });
  if (check.exitCode !== 0) throw new EdgenetError('LAB_ROUTER_CONFIG', `bird -p refused ${r.router.conf}: ${(check.stderr || check.stdout).trim()}`);
}

/** One BGP session as the router sees it (`birdc show protocols`). */
export interface RouterSession {
  /** BIRD's protocol name (node_n1). */
  readonly name: string;
  /** The node's short name (n1). */
  readonly node: string;
  /** The session's family (its addresses' and its one channel's). */
  readonly family: 'ipv4' | 'ipv6';
  /** up / start / down ... */
  readonly state: string;
  /** Established, Active, Connect, ... (BIRD's info column). */
  readonly info: string;
  readonly established: boolean;
}

/** Parses `birdc show protocols` (the BGP rows of our sessions). */
export function parseRouterProtocols(text: string): RouterSession[] {
  const out: RouterSession[] = [];
  for (const line of text.split('\n')) {
    // Columns: name, protocol, table, state, since (a time, possibly after a date), info (the rest).
    const m = /^(node_([a-z0-9]+)(_v6)?)\s+BGP\s+\S+\s+(\S+)\s+(?:\d{4}-\d{2}-\d{2}\s+)?\d{2}:\d{2}:\d{2}(?:\.\d+)?\s*(.*)$/.exec(line.trim());
    if (!m) continue;
    const info = m[5]!.trim();
    out.push({ name: m[1]!, node: m[2]!, family: m[3] ? 'ipv6' : 'ipv4', state: m[4]!, info, established: /Established/.test(info) });
  }
  return out;
}

export interface RouterDeps {
  readonly exec: Exec;
}

/** `birdc -s <ctl> <args>` inside the router namespace; the text without birdc's banner line. */
export async function birdc(plan: LabPlan, args: readonly string[], deps: RouterDeps): Promise<string> {
  const r = plan.routed;
  if (!r) throw new EdgenetError('LAB_BAD_SPEC', `lab ${plan.name} is not a ROUTED lab`);
  const netns = createNetns(deps.exec);
  const res = await netns.execIn(`${plan.prefix}-${r.router.short}`, [BIRDC_BIN, '-s', r.router.ctl, ...args], { timeoutMs: 15_000 });
  return res.stdout.split('\n').filter((l) => !/^BIRD [\d.]+ ready\.$/.test(l)).join('\n');
}

export async function routerSessions(plan: LabPlan, deps: RouterDeps): Promise<RouterSession[]> {
  return parseRouterProtocols(await birdc(plan, ['show', 'protocols'], deps));
}

/** A route in the router's kernel, installed by BIRD (`proto bird`). */
export interface RouterRoute {
  readonly prefix: string;
  readonly via: string;
  readonly family: 'ipv4' | 'ipv6';
}

/** The router kernel's BGP-learned routes (`ip -j route show proto bird`, both families), sorted. */
export async function routerKernelRoutes(plan: LabPlan, deps: RouterDeps): Promise<RouterRoute[]> {
  const r = plan.routed;
  if (!r) throw new EdgenetError('LAB_BAD_SPEC', `lab ${plan.name} is not a ROUTED lab`);
  const netns = createNetns(deps.exec);
  const ns = `${plan.prefix}-${r.router.short}`;
  const out: RouterRoute[] = [];
  for (const family of ['ipv4', 'ipv6'] as const) {
    if (family === 'ipv6' && !r.ipv6Prefix) continue;
    const res = await netns.execIn(ns, ['ip', family === 'ipv4' ? '-4' : '-6', '-j', 'route', 'show', 'proto', 'bird'], { timeoutMs: 15_000 });
    const rows = JSON.parse(res.stdout.trim() || '[]') as { dst?: string; gateway?: string }[];
    for (const row of rows) {
      if (!row.dst) continue;
      const [addr, len] = row.dst === 'default' ? [family === 'ipv4' ? '0.0.0.0' : '::', '0'] : row.dst.split('/');
      // Canonical text (shared/ip's, what the CLC and the config drives print) so prefixes compare as strings.
      const v6 = family === 'ipv6' ? parseIpv6(addr!) : undefined;
      const text = v6 !== undefined ? formatIpv6(v6) : addr!;
      out.push({ prefix: `${text}/${len ?? (family === 'ipv4' ? 32 : 128)}`, via: row.gateway ?? '', family });
    }
  }
  return out.sort((a, b) => a.family.localeCompare(b.family) || a.prefix.localeCompare(b.prefix));
}

/** The router's view for `lab status`: its sessions, or why they could not be read. */
export async function routerStatus(plan: LabPlan, deps: RouterDeps): Promise<{ sessions: RouterSession[] } | { error: string }> {
  try {
    return { sessions: await routerSessions(plan, deps) };
  } catch (err) {
    return { error: errorMessage(err) };
  }
}
