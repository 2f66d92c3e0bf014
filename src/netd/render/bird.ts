/**
 * bird.conf for a ROUTED node (issue 17): BIRD 2 is the node's BGP speaker.
 * It announces exactly the local instances' routed host prefixes (the /32s
 * and /128s of DesiredState.routed.ports) to the node's peers and takes only
 * default routes (0.0.0.0/0, ::/0) from them into the kernel. The result is
 * one entry of DesiredState.processes; its driver (argv, pid file, control
 * socket, `bird -p` check, log) is src/netd/apply/bird.ts.
 *
 * The model, and why:
 * - One `protocol static` per family holds the announced prefixes, each
 *   `via "vn_<id>"`: a device route, which BIRD treats as reachable only while
 *   that interface exists and is up. So a prefix is announced exactly while
 *   its port exists — the same condition under which netd's kernel route
 *   (`dev vn_<id> proto 77`) can exist — and an instance whose VM has not
 *   created its port yet is not announced into a black hole.
 * - The export filter of every session accepts only routes of that static
 *   protocol of the session's family with a host length, and adds the
 *   communities. It names no prefix on purpose: the static protocol is the
 *   list, and a constant filter means an instance coming or going changes
 *   only the static protocol, which BIRD re-announces at once on reconfigure
 *   (measured 55–165 ms to the upstream's kernel). A changed export filter
 *   makes BIRD 2.0.12 reload the channel (route refresh), and that sends
 *   only about 3 s later (measured 3.1 s, every time) — over the bench's 1 s.
 * - One `protocol bgp` per peer address, carrying the family of that address
 *   (an IPv4 peer the ipv4 unicast channel, an IPv6 peer the ipv6 one), and
 *   only for the families the node speaks: the cluster's addressing, and
 *   IPv4 too while a local port holds an IPv4 prefix (an elastic address on
 *   an IPv6-only cluster, see birdFamilies). Not one session with
 *   both channels: a route's BGP next hop must be an address of its own
 *   family, which a session over the other family does not provide (BIRD
 *   would need `next hop address` or extended next hop, both per-site
 *   knowledge); a dual-stack upstream is two peers in the document, and each
 *   family's session fails and recovers on its own. The protocol is named
 *   after the address, so reordering or removing a peer in the document never
 *   restarts the sessions of the others (BIRD matches protocols by name).
 * - Kernel protocols export only BGP-learned default routes and import
 *   nothing (no `learn`): BIRD never removes, replaces or re-announces the
 *   routes netd installs (`proto 77`, which BIRD sees as alien and ignores);
 *   its defaults go in with BIRD's own protocol number and metric 32, beside
 *   any other default route of the host.
 * - `graceful restart on`: if BIRD dies (kill -9, a crash), the TCP session
 *   ends without a NOTIFICATION and the peers keep its routes as stale for
 *   GRACEFUL_RESTART_TIME while netd's supervisor starts it again; the new
 *   BIRD announces the same routes and the stale ones are replaced without a
 *   withdrawal. A deliberate stop (run:false, netd flush) is SIGTERM: BIRD
 *   sends a Cease and the peers withdraw at once. Not `bird -R` (recovery
 *   mode): with it BIRD holds every announcement until each peer sent its
 *   End-of-RIB or `graceful restart wait` ran out, measured 5–7 s on every
 *   cold start.
 *
 * Trust: every value written comes from `checkNodeBgp` (canonical numbers and
 * addresses; a password of printable ASCII without `"` or `\`), prefixes are
 * parsed and re-formatted here, and interface names must be plain
 * (INTERFACE_NAME). A document that fails the check throws RenderFailure
 * ROUTED_BGP_INVALID: netd keeps what it applied last (the running BIRD keeps
 * its sessions and its last checked configuration) rather than withdrawing
 * every route of the node over a bad document. A node without a `bgp`
 * extension: BIRD must not run, with a warning.
 *
 * Deterministic: equal inputs give byte-identical text, so the supervisor
 * writes and reloads (SIGHUP, same pid, sessions kept) only on a change.
 */
import { checkNodeBgp, type NodeBgpText, type RoutedAddressing } from '../../shared/gni/routed.ts';
import { formatIp, formatIpv6, parseIp, parseIpv6 } from '../../shared/ip.ts';
import { RenderFailure } from './context.ts';
import type { SupervisedProcess } from './types.ts';

/** The process kind of BIRD in DesiredState.processes and the driver registry. */
export const BIRD_KIND = 'bird';
/** Its one configuration file. */
export const BIRD_CONF = 'bird.conf';

/**
 * Session timing. `connect delay time` 1 s is the first connect after a
 * (re)start (BIRD's default is 5 s; it treats 0 as 1 anyway), `connect retry
 * time` the retry while the peer does not answer (default 120 s: a node
 * booted before its router would wait two minutes), `error wait time` the
 * pause after a session error before the protocol restarts (default 60–300 s,
 * doubling: one flap of the upstream would silence the node for a minute).
 * Hold 30 s / keepalive 10 s: a peer that vanishes without closing TCP is
 * noticed in 30 s instead of 240 s.
 */
const CONNECT_DELAY_TIME = 1;
const CONNECT_RETRY_TIME = 1;
const ERROR_WAIT_TIME = '1, 16';
const HOLD_TIME = 30;
const KEEPALIVE_TIME = 10;
/**
 * How long the peers keep this node's routes as stale after its BIRD died
 * without a goodbye (what it advertises in its graceful-restart capability;
 * BIRD's default is 120 s). netd's supervisor starts a dead BIRD again at its
 * next sync (EDGENET_RESYNC_INTERVAL at the latest, 60 s by default), and a
 * new session takes about 1 s: 120 s covers that with margin. It is also how
 * long a peer keeps routing to a node that is gone for good, after the hold
 * time: an instance's routes outlive a dead hypervisor by at most
 * HOLD_TIME + GRACEFUL_RESTART_TIME.
 */
const GRACEFUL_RESTART_TIME = 120;

/** Interface names BIRD gets between quotes: what netd names ports (`vn_<id>`), nothing that could end the string. */
const INTERFACE_NAME = /^[A-Za-z0-9_.-]{1,15}$/;

/** What modes/routed.ts hands the speaker's renderer (its RoutedBgpInput, plus the ports). */
export interface BirdInput {
  /** This node's name (the router id when the document gives none and it is an IPv4 address). */
  readonly node: string;
  /** Its cluster, for the file's header only. */
  readonly cluster?: string;
  /** The node's `bgp` extension as written (`nodeBgpText(node)`); undefined when it has none. */
  readonly bgp: NodeBgpText | undefined;
  readonly addressing: RoutedAddressing;
  /** The local instances' routed ports (DesiredState.routed.ports): each prefix is announced via its port. */
  readonly ports: readonly { readonly interface: string; readonly addresses: readonly string[] }[];
}

interface HostRoute {
  readonly prefix: string;
  readonly interface: string;
}

/** `10.50.0.11/32` or bare `10.50.0.11` (and the /128 likewise) → canonical host prefix and family; anything else undefined. */
function hostPrefix(text: string): { readonly family: 'ipv4' | 'ipv6'; readonly prefix: string } | undefined {
  const [addr = '', len, extra] = text.split('/');
  if (extra !== undefined) return undefined;
  const v4 = parseIp(addr);
  if (v4 !== undefined) return len === undefined || len === '32' ? { family: 'ipv4', prefix: `${formatIp(v4)}/32` } : undefined;
  const v6 = parseIpv6(addr);
  if (v6 !== undefined) return len === undefined || len === '128' ? { family: 'ipv6', prefix: `${formatIpv6(v6)}/128` } : undefined;
  return undefined;
}

/** A BIRD symbol from an address: `peer4_172_31_0_1`, `peer6_2001_db8__1`. */
function peerProtocolName(family: 'ipv4' | 'ipv6', address: string): string {
  return `edgenet_peer${family === 'ipv4' ? '4' : '6'}_${address.replace(/[.:]/g, '_')}`;
}

/** A name for the header comment: as is when plain, else JSON-quoted (a newline in a document's name must not end the comment). */
function commentText(name: string): string {
  return /^[A-Za-z0-9_.:-]+$/.test(name) ? name : JSON.stringify(name);
}

/**
 * The families BIRD speaks: the cluster's addressing, plus IPv4 whenever a
 * local port carries an IPv4 host prefix. On an IPv6-only cluster that is an
 * elastic address (the instance has no routed IPv4 of its own, so any /32 on
 * its port is its publicIp): without the IPv4 static protocol and sessions
 * it would be routed on the node and never announced. The IPv4 sessions come
 * up when the first elastic address on the node is associated and go (with a
 * Cease, so the peers withdraw) when the last is released.
 */
function birdFamilies(addressing: RoutedAddressing, ports: BirdInput['ports']): readonly ('ipv4' | 'ipv6')[] {
  const elasticV4 = ports.some((p) => INTERFACE_NAME.test(p.interface) && p.addresses.some((a) => hostPrefix(a)?.family === 'ipv4'));
  return (['ipv4', 'ipv6'] as const).filter((f) => addressing === 'dual' || addressing === f || (f === 'ipv4' && elasticV4));
}

function notRunning(summary: string): SupervisedProcess {
  return { kind: BIRD_KIND, run: false, interfaces: [], files: [], reload: { kind: 'signal', signal: 'SIGHUP' }, summary };
}

/** bird's entry of DesiredState.processes; what it leaves out goes to `warnings` (render's). Throws RenderFailure ROUTED_BGP_INVALID. */
export function renderBird(input: BirdInput, warnings: string[]): SupervisedProcess {
  if (input.bgp === undefined) {
    warnings.push(`node ${input.node} has no bgp settings in the document: BIRD does not run and no route of this node is announced`);
    return notRunning('no bgp settings for this node: bird must not run');
  }
  const checked = checkNodeBgp(input.bgp, input.node);
  if (!checked.ok) {
    throw new RenderFailure('ROUTED_BGP_INVALID', `the bgp settings of node ${input.node} are refused: ${checked.problems.map((p) => `${p.code}: ${p.message}`).join('; ')}`);
  }
  const bgp = checked.value;
  const families = birdFamilies(input.addressing, input.ports);

  const routes = new Map<'ipv4' | 'ipv6', HostRoute[]>(families.map((f) => [f, []]));
  for (const port of input.ports) {
    if (!INTERFACE_NAME.test(port.interface)) {
      warnings.push(`port ${JSON.stringify(port.interface)} is not an interface name BIRD can be given: its addresses are not announced`);
      continue;
    }
    for (const a of port.addresses) {
      const h = hostPrefix(a);
      const list = h === undefined ? undefined : routes.get(h.family);
      if (h === undefined || list === undefined) {
        warnings.push(`${JSON.stringify(a)} on ${port.interface} is not a host prefix of the cluster's addressing (${input.addressing}): not announced`);
        continue;
      }
      list.push({ prefix: h.prefix, interface: port.interface });
    }
  }
  // The same prefix twice (two ports claiming it) is announced via the first port only; BIRD refuses duplicate static routes.
  for (const [family, list] of routes) {
    const seen = new Map<string, string>();
    const unique: HostRoute[] = [];
    for (const r of list) {
      const first = seen.get(r.prefix);
      if (first !== undefined) {
        warnings.push(`${r.prefix} is on both ${first} and ${r.interface}: announced via ${first} only`);
        continue;
      }
      seen.set(r.prefix, r.interface);
      unique.push(r);
    }
    routes.set(family, unique.sort((x, y) => (x.prefix < y.prefix ? -1 : x.prefix > y.prefix ? 1 : 0)));
  }

  const peers = bgp.peers.filter((p) => {
    const family = p.address.includes(':') ? 'ipv6' : 'ipv4';
    if (families.includes(family)) return true;
    warnings.push(`BGP peer ${p.address} is ${family} but the cluster's addressing is ${input.addressing}: no session with it`);
    return false;
  });
  if (peers.length === 0) {
    warnings.push(`node ${input.node} has no BGP peer for the cluster's addressing (${input.addressing}): BIRD does not run and no route of this node is announced`);
    return notRunning(`no BGP peer for ${input.addressing} addressing: bird must not run`);
  }
  // BIRD carries a family only over a session of that family: a family without a peer is announced nowhere.
  for (const family of families) {
    const count = routes.get(family)?.length ?? 0;
    if (count > 0 && !peers.some((p) => (p.address.includes(':') ? 'ipv6' : 'ipv4') === family)) {
      warnings.push(`node ${input.node} has no ${family} BGP peer: its ${count} ${family} prefix${count === 1 ? '' : 'es'} ${count === 1 ? 'is' : 'are'} not announced`);
    }
  }

  const communities = bgp.communities.map((c) => `bgp_community.add((${c.replace(':', ',')}));`);
  const lines = [
    `# Generated by edgenet netd for node ${commentText(input.node)}${input.cluster === undefined ? '' : ` (cluster ${commentText(input.cluster)})`}. Do not edit: rewritten on every change.`,
    `router id ${bgp.routerId};`,
    // stderr: the supervisor appends it to <run dir>/netd/bird.log (no syslog).
    'log stderr all;',
    '',
    // Interfaces for the static device routes (and BGP's own).
    'protocol device edgenet_device {',
    '}',
  ];
  for (const family of families) {
    const v = family === 'ipv4' ? '4' : '6';
    const hostLen = family === 'ipv4' ? 32 : 128;
    const defaultNet = family === 'ipv4' ? '0.0.0.0/0' : '::/0';
    const netType = family === 'ipv4' ? 'NET_IP4' : 'NET_IP6';
    lines.push(
      '',
      `# The local instances' ${family} host routes: announced while their port exists and is up.`,
      `protocol static edgenet_routes${v} {`,
      `  ${family};`,
      ...(routes.get(family) ?? []).map((r) => `  route ${r.prefix} via "${r.interface}";`),
      '}',
      '',
      `# Only BGP's default route goes into the kernel; no kernel route is learned, so netd's routes are never touched.`,
      `protocol kernel edgenet_kernel${v} {`,
      `  ${family} {`,
      '    import none;',
      `    export where source = RTS_BGP && net = ${defaultNet};`,
      '  };',
      '}',
      '',
      `filter edgenet_import${v} {`,
      `  if net = ${defaultNet} then accept;`,
      '  reject;',
      '}',
      '',
      `filter edgenet_export${v} {`,
      `  if proto = "edgenet_routes${v}" && net.type = ${netType} && net.len = ${hostLen} then {`,
      ...communities.map((c) => `    ${c}`),
      '    accept;',
      '  }',
      '  reject;',
      '}',
    );
    for (const peer of peers.filter((p) => (p.address.includes(':') ? 'ipv6' : 'ipv4') === family)) {
      lines.push(
        '',
        `protocol bgp ${peerProtocolName(family, peer.address)} {`,
        `  local as ${bgp.localAs};`,
        `  neighbor ${peer.address} as ${peer.as};`,
        ...(bgp.password === undefined ? [] : [`  password "${bgp.password}";`]),
        `  connect delay time ${CONNECT_DELAY_TIME};`,
        `  connect retry time ${CONNECT_RETRY_TIME};`,
        `  error wait time ${ERROR_WAIT_TIME};`,
        `  hold time ${HOLD_TIME};`,
        `  keepalive time ${KEEPALIVE_TIME};`,
        '  graceful restart on;',
        `  graceful restart time ${GRACEFUL_RESTART_TIME};`,
        `  ${family} {`,
        `    import filter edgenet_import${v};`,
        `    export filter edgenet_export${v};`,
        // Our own address as next hop for eBGP and iBGP alike: the device routes have no gateway to pass on.
        '    next hop self;',
        '  };',
        '}',
      );
    }
  }
  lines.push('');

  const announced = families.reduce((n, f) => n + (routes.get(f)?.length ?? 0), 0);
  return {
    kind: BIRD_KIND,
    run: true,
    interfaces: [],
    // 0600: the peers' MD5 password is in it. bird runs as root here (apply/bird.ts starts `bird -f` without -u), so it still reads it.
    files: [{ name: BIRD_CONF, content: lines.join('\n'), mode: 0o600 }],
    // BIRD reconfigures on SIGHUP like `birdc configure`: changed static
    // routes are re-announced, unchanged sessions stay up (only a changed
    // session option, such as a peer's AS or the password, restarts that session).
    reload: { kind: 'signal', signal: 'SIGHUP' },
    summary: `${announced} prefix${announced === 1 ? '' : 'es'} to ${peers.length} peer${peers.length === 1 ? '' : 's'}`,
  };
}
