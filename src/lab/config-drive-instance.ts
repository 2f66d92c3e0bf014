/**
 * A ROUTED lab instance configuring itself from its config drive (issue 17):
 * the lab acts as cloud-init's network stage. netd writes
 * `<node state dir>/config-drive/<instance>/network-config` (cloud-init
 * network config version 2, JSON text; netd/render/config-drive.ts); the lab
 * waits for it, reads it, and applies exactly what it says inside the
 * instance's namespace — no DHCP, no router advertisement:
 *
 *   ethernets.<name>.match.macaddress   which NIC: the instance's eth0 must carry that MAC
 *   addresses                           `ip addr replace` each (host prefixes: /32, /128)
 *   routes {to, via?, on-link?, scope?, metric?}
 *                                       `ip route replace` each (`0.0.0.0/0`, `::/0` → default;
 *                                       `on-link` → onlink: the IPv4 gateway is in no subnet of the instance)
 *   nameservers {addresses, search}     the namespace's resolv.conf (/etc/netns/<ns>/resolv.conf)
 *
 * Anything else in the file (another NIC, a key this reader does not know) is
 * refused by name rather than silently skipped: what the lab applies is what
 * a guest would. `parseNetworkConfig` is pure (unit-tested against netd's own
 * renderer); `applyNetworkConfig` runs `ip` in the namespace and waits (bounded)
 * until IPv6 duplicate address detection has passed.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { EdgenetError, errorMessage } from '../shared/errors.ts';
import { parseAddress, parseIpCidr } from '../shared/ip.ts';
import type { Clock } from '../shared/clock.ts';
import { systemClock } from '../shared/clock.ts';
import { waitFor } from '../shared/wait.ts';
import type { Netns } from './netns.ts';
import type { LabInstance } from './topology.ts';
import { labNames } from './names.ts';

export interface DriveRoute {
  /** `default` for 0.0.0.0/0 and ::/0, else the CIDR as written. */
  readonly to: string;
  readonly family: 'ipv4' | 'ipv6';
  readonly via?: string;
  readonly onLink: boolean;
  readonly scopeLink: boolean;
  readonly metric?: number;
}

export interface DriveNetwork {
  /** The NIC's key in `ethernets` (what `set-name` would call it). */
  readonly name: string;
  readonly mac?: string;
  /** CIDRs as written (/32, /128). */
  readonly addresses: readonly string[];
  readonly routes: readonly DriveRoute[];
  readonly nameservers: readonly string[];
  readonly search: readonly string[];
}

const bad = (msg: string) => new EdgenetError('LAB_CONFIG_DRIVE_FAILED', `network-config: ${msg}`);
const ETHERNET_KEYS = new Set(['match', 'set-name', 'addresses', 'routes', 'nameservers', 'dhcp4', 'dhcp6']);
const ROUTE_KEYS = new Set(['to', 'via', 'on-link', 'scope', 'metric']);

function strings(value: unknown, what: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw bad(`${what} must be a list of strings`);
  return value as string[];
}

/**
 * The NIC of the instance with MAC `mac` in a network-config v2 text (JSON).
 * Refuses a version other than 2, no or several matching NICs, DHCP turned on
 * (a ROUTED instance has none), and keys this applier does not implement.
 */
export function parseNetworkConfig(text: string, mac: string): DriveNetwork {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw bad(`not JSON: ${errorMessage(err)}`);
  }
  const root = doc as { version?: unknown; ethernets?: unknown; network?: unknown };
  // cloud-init also accepts the whole thing under a top-level `network:` key.
  const cfg = (root && typeof root === 'object' && root.network && typeof root.network === 'object' ? root.network : root) as { version?: unknown; ethernets?: unknown };
  if (!cfg || typeof cfg !== 'object' || cfg.version !== 2) throw bad('version must be 2');
  if (!cfg.ethernets || typeof cfg.ethernets !== 'object') throw bad('no ethernets');
  const wanted = mac.toLowerCase();
  const entries = Object.entries(cfg.ethernets as Record<string, Record<string, unknown>>);
  const matching = entries.filter(([, e]) => {
    const m = (e?.match as { macaddress?: unknown } | undefined)?.macaddress;
    return typeof m === 'string' ? m.toLowerCase() === wanted : entries.length === 1;
  });
  if (matching.length !== 1) throw bad(`${matching.length} ethernets match MAC ${wanted} (of ${entries.map(([k]) => k).join(', ') || 'none'})`);
  const [name, e] = matching[0]!;
  for (const key of Object.keys(e)) if (!ETHERNET_KEYS.has(key)) throw bad(`ethernets.${name}.${key} is not implemented by the lab`);
  if (e.dhcp4 === true || e.dhcp6 === true) throw bad(`ethernets.${name} asks for DHCP: a ROUTED instance has none`);
  const addresses = strings(e.addresses, `ethernets.${name}.addresses`);
  for (const a of addresses) if (!parseIpCidr(a)) throw bad(`address ${JSON.stringify(a)} is not a CIDR`);
  const routes: DriveRoute[] = [];
  const rawRoutes = e.routes === undefined ? [] : e.routes;
  if (!Array.isArray(rawRoutes)) throw bad(`ethernets.${name}.routes must be a list`);
  for (const r of rawRoutes as Record<string, unknown>[]) {
    for (const key of Object.keys(r)) if (!ROUTE_KEYS.has(key)) throw bad(`route key ${key} is not implemented by the lab`);
    const to = typeof r.to === 'string' ? r.to : undefined;
    const cidr = to === undefined ? undefined : to === 'default' ? undefined : parseIpCidr(to);
    if (to === undefined || (to !== 'default' && !cidr)) throw bad(`route to ${JSON.stringify(r.to)} is not a CIDR`);
    const via = typeof r.via === 'string' ? r.via : undefined;
    const viaAddr = via === undefined ? undefined : parseAddress(via);
    if (via !== undefined && !viaAddr) throw bad(`route via ${JSON.stringify(via)} is not an address`);
    const family = cidr?.address.family ?? viaAddr?.family;
    if (!family) throw bad('a default route without via');
    const isDefault = to === 'default' || (cidr !== undefined && cidr.prefix === 0);
    routes.push({
      to: isDefault ? 'default' : to,
      family,
      ...(via !== undefined ? { via } : {}),
      onLink: r['on-link'] === true,
      scopeLink: r.scope === 'link',
      ...(typeof r.metric === 'number' ? { metric: r.metric } : {}),
    });
  }
  const ns = (e.nameservers ?? {}) as { addresses?: unknown; search?: unknown };
  return {
    name,
    ...(typeof (e.match as { macaddress?: unknown } | undefined)?.macaddress === 'string' ? { mac: wanted } : {}),
    addresses,
    routes,
    nameservers: strings(ns.addresses, 'nameservers.addresses'),
    search: strings(ns.search, 'nameservers.search'),
  };
}

/** resolv.conf text for the drive's name servers (empty when it names none). */
export function resolvConfText(net: DriveNetwork): string {
  return [...(net.search.length > 0 ? [`search ${net.search.join(' ')}`] : []), ...net.nameservers.map((s) => `nameserver ${s}`)].map((l) => `${l}\n`).join('');
}

/** `ip route replace` argv for one route on `dev`. */
export function routeArgv(route: DriveRoute, dev: string): string[] {
  return [
    'ip', route.family === 'ipv4' ? '-4' : '-6', 'route', 'replace', route.to,
    ...(route.via !== undefined ? ['via', route.via] : []),
    'dev', dev,
    ...(route.onLink ? ['onlink'] : []),
    ...(route.scopeLink && route.via === undefined ? ['scope', 'link'] : []),
    ...(route.metric !== undefined ? ['metric', String(route.metric)] : []),
  ];
}

export interface ConfigDriveApplyDeps {
  readonly netns: Netns;
  readonly clock?: Clock;
  readonly signal?: AbortSignal;
}

/**
 * Applies the drive's network inside the instance's namespace: addresses on
 * the NIC whose MAC the drive matched, then routes (the gateways must be
 * reachable first: the IPv4 one is on-link, the IPv6 one link-local), then
 * resolv.conf. Returns once every IPv6 address passed DAD (bounded).
 */
export async function applyNetworkConfig(instance: LabInstance, net: DriveNetwork, deps: ConfigDriveApplyDeps, options: { timeoutMs?: number } = {}): Promise<void> {
  const { netns } = deps;
  if (net.mac !== undefined && net.mac !== instance.mac.toLowerCase()) throw bad(`the drive is for MAC ${net.mac}, ${instance.id}'s NIC has ${instance.mac}`);
  const dev = instance.guestIf;
  for (const a of net.addresses) await netns.execIn(instance.ns, ['ip', 'addr', 'replace', a, 'dev', dev], { timeoutMs: 15_000 });
  // A /128 is usable once DAD passed; routes via fe80::1 need the link-local address settled too.
  const v6 = net.addresses.some((a) => parseIpCidr(a)?.address.family === 'ipv6') || net.routes.some((r) => r.family === 'ipv6');
  if (v6) {
    await waitFor(
      async () => {
        const r = await netns.execIn(instance.ns, ['ip', '-6', 'addr', 'show', 'dev', dev], { timeoutMs: 15_000 });
        if (/dadfailed/.test(r.stdout)) throw bad(`an IPv6 address of ${instance.id} failed duplicate address detection: ${r.stdout.trim()}`);
        return /tentative/.test(r.stdout) ? undefined : true;
      },
      { timeoutMs: options.timeoutMs ?? 10_000, intervalMs: 100, what: `IPv6 duplicate address detection in ${instance.ns}`, clock: deps.clock ?? systemClock, ...(deps.signal ? { signal: deps.signal } : {}) },
    );
  }
  for (const route of net.routes) await netns.execIn(instance.ns, routeArgv(route, dev), { timeoutMs: 15_000 });
  const resolv = path.join(labNames.etcNetnsDir(instance.ns), 'resolv.conf');
  await fs.mkdir(path.dirname(resolv), { recursive: true });
  await fs.writeFile(resolv, resolvConfText(net));
}

/** Waits (bounded) for netd to write the drive's network-config and returns its text. */
export async function waitForNetworkConfig(file: string, options: { timeoutMs: number; clock?: Clock; signal?: AbortSignal }): Promise<string> {
  try {
    return await waitFor(async () => {
      const text = await fs.readFile(file, 'utf8').catch(() => '');
      return text.trim() === '' ? undefined : text;
    }, { timeoutMs: options.timeoutMs, intervalMs: 100, what: file, clock: options.clock ?? systemClock, ...(options.signal ? { signal: options.signal } : {}) });
  } catch (err) {
    throw new EdgenetError('LAB_CONFIG_DRIVE_FAILED', `no config drive at ${file} within ${options.timeoutMs} ms: has netd on the instance's node applied a document with it? (${errorMessage(err)})`, { cause: err });
  }
}
