/**
 * `edgenet lab vm add ID` / `vm del ID`: plays the hypervisor for an instance
 * the CLC knows. `add` asks the admin API for the instance's node and MAC,
 * creates the instance namespace with `vn_<id>` in that node's bridge (the
 * contract with netd), then runs dhclient until dhcpd (laid down by netd once
 * the document with this instance is applied) hands out the address. On a
 * dual-stack lab it then waits (bounded) for the instance's global IPv6
 * address, which the kernel configures by SLAAC from its node's radvd (also
 * laid down by netd): the CLC's address for it (the EUI-64 of its MAC in the
 * cluster's /64). `del`
 * removes the namespace (the veth goes with it); terminating the instance in
 * the CLC is a separate, explicit call.
 *
 * ROUTED labs (issue 17): `vn_<id>` joins no bridge, and instead of dhclient
 * the lab waits for the instance's config drive (netd writes it on the
 * instance's node once the document with it is applied) and applies its
 * network-config inside the namespace (config-drive-instance.ts), checking
 * that it carries the addresses the CLC allocated.
 */
import type { InstanceView } from '../cloud-controller/services/instances.ts';
import { EdgenetError, errorMessage } from '../shared/errors.ts';
import { sleep, systemClock } from '../shared/clock.ts';
import { formatIpv6, parseCidr6, slaacAddress } from '../shared/ip.ts';
import type { DhcpLease } from './dhclient.ts';
import * as path from 'node:path';
import { labConfigDriveDir } from './plan.ts';
import { applyNetworkConfig, parseNetworkConfig, waitForNetworkConfig, type DriveNetwork } from './config-drive-instance.ts';
import { openTopology, type LabInstance, type Topology } from './topology.ts';
import type { LabState } from './state.ts';
import type { ApiClient } from './api.ts';
import type { LabDeps } from './up.ts';

export interface VmAddOptions {
  readonly id: string;
  /** Bound on the whole attach, DHCP retries and the SLAAC wait included (default 60 s). */
  readonly timeoutMs?: number;
  /**
   * Dual-stack labs: 'require' (default) fails with LAB_SLAAC_FAILED when the
   * IPv6 address does not come; 'try' returns the reason in `ipv6.error`
   * (the demo shows it in its IPv6 column).
   */
  readonly ipv6?: 'require' | 'try';
}

export interface VmIpv6Result {
  /** The CLC's address for the instance (the EUI-64 of its MAC in the cluster /64). */
  readonly expected: string;
  /** Set once the instance holds `expected` (DAD passed). */
  readonly address?: string;
  readonly prefixLength?: number;
  /** Default routers from the RA (the node's bridge, link-local). */
  readonly routers: readonly string[];
  /** Name servers from RDNSS (empty when the cluster has no Ipv6DnsServers). */
  readonly dns: readonly string[];
  /** Why there is no address (only with `ipv6: 'try'`). */
  readonly error?: string;
}

/** ROUTED labs: what the instance applied from its config drive. */
export interface VmDriveResult {
  /** The network-config file netd wrote. */
  readonly file: string;
  readonly network: DriveNetwork;
}

export interface VmAddResult {
  readonly instance: LabInstance;
  /** EDGE labs: the DHCP lease (absent in a ROUTED lab: no DHCP). */
  readonly lease?: DhcpLease;
  /** ROUTED labs: the config drive the instance configured itself from. */
  readonly drive?: VmDriveResult;
  readonly view: InstanceView;
  /** Absent on an IPv4-only lab. */
  readonly ipv6?: VmIpv6Result;
}

/**
 * The instance's IPv6 address as the CLC knows it: the API's (when it shows
 * one) or computed the way the CLC computes it.
 */
function expectedIpv6(state: LabState, view: InstanceView): string | undefined {
  if (!state.plan.ipv6) return undefined;
  const shown = (view as InstanceView & { ipv6?: string }).ipv6;
  if (typeof shown === 'string' && shown !== '') return shown;
  const prefix = parseCidr6(state.plan.ipv6.prefix);
  const address = prefix ? slaacAddress(prefix, view.mac) : undefined;
  return address === undefined ? undefined : formatIpv6(address);
}

export function labTopology(state: LabState, deps: Pick<LabDeps, 'exec' | 'clock'>): Topology {
  return openTopology(state.plan.topology, deps);
}

export async function labVmAdd(state: LabState, api: ApiClient, options: VmAddOptions, deps: LabDeps): Promise<VmAddResult> {
  const view = await api.request<InstanceView>('GET', `/v1/instances/${encodeURIComponent(options.id)}`);
  const node = state.plan.nodes.find((n) => n.name === view.node);
  if (!node) {
    throw new EdgenetError('LAB_UNKNOWN_NODE', `instance ${view.id} runs on node ${view.node}, which is not one of lab ${state.plan.name}'s nodes (${state.plan.nodes.map((n) => n.name).join(', ')})`);
  }
  const topo = labTopology(state, deps);
  const ref = { node: node.short, id: view.id, mac: view.mac };
  const instance = (await topo.netns.exists(topo.instanceNs(view.id))) ? topo.instanceRef(ref) : await topo.addInstance(ref);
  if (state.plan.routed) {
    // netd's port watcher (src/netd/port-watcher.ts) syncs when the port appears, as on a real hypervisor.
    return { ...(await configureFromDrive(state, view, instance, options.timeoutMs ?? 60_000, deps)), view };
  }
  const clock = deps.clock ?? systemClock;
  const deadline = clock.now() + (options.timeoutMs ?? 60_000);
  let lastError: unknown;
  // dhcpd learns the host entry only when netd applied the document with this instance: retry.
  while (clock.now() < deadline) {
    if (deps.signal?.aborted) break;
    try {
      const lease = await topo.dhcp(instance, { timeoutMs: Math.min(10_000, Math.max(2_000, deadline - clock.now())) });
      if (lease.ip !== view.privateIp) {
        throw new EdgenetError('LAB_DHCP_MISMATCH', `instance ${view.id} got ${lease.ip} from DHCP, but the CLC allocated ${view.privateIp}`);
      }
      const expected = expectedIpv6(state, view);
      if (expected === undefined) return { instance, lease, view };
      try {
        const v6 = await topo.slaac(instance, { expected, timeoutMs: Math.max(5_000, deadline - clock.now()), ...(deps.signal ? { signal: deps.signal } : {}) });
        return { instance, lease, view, ipv6: { expected, address: v6.address, prefixLength: v6.prefixLength, routers: v6.routers, dns: v6.dns } };
      } catch (err) {
        if (options.ipv6 !== 'try') throw err;
        return { instance, lease, view, ipv6: { expected, routers: [], dns: [], error: errorMessage(err) } };
      }
    } catch (err) {
      if (err instanceof EdgenetError && err.code === 'LAB_DHCP_MISMATCH') throw err;
      lastError = err;
    }
  }
  throw new EdgenetError('LAB_DHCP_FAILED', `instance ${view.id} got no DHCP lease within ${options.timeoutMs ?? 60_000} ms: ${errorMessage(lastError)}`, { cause: lastError });
}

/**
 * ROUTED: waits for the drive, checks it names the CLC's addresses for the
 * instance (its routed IPv4, its IPv6, its elastic address), applies it.
 */
async function configureFromDrive(state: LabState, view: InstanceView, instance: LabInstance, timeoutMs: number, deps: LabDeps): Promise<Omit<VmAddResult, 'view'>> {
  const node = state.plan.nodes.find((n) => n.short === instance.node)!;
  const file = path.join(labConfigDriveDir(node, view.id), 'network-config');
  const clock = deps.clock ?? systemClock;
  const deadline = clock.now() + timeoutMs;
  const v6 = (view as InstanceView & { ipv6?: string }).ipv6;
  const wanted = [
    ...(view.privateIp ? [`${view.privateIp}/32`] : []),
    ...(view.publicIp ? [`${view.publicIp}/32`] : []),
    ...(typeof v6 === 'string' && v6 !== '' ? [`${formatIpv6(parseCidr6(`${v6}/128`)!.network)}/128`] : []),
  ];
  // The drive may still be the one of an older document (an elastic address just associated): wait for the CLC's view.
  let network: DriveNetwork | undefined;
  let lastText = '';
  try {
    network = await waitForAddresses();
  } catch (err) {
    throw new EdgenetError('LAB_CONFIG_DRIVE_FAILED', `${view.id}: the config drive ${file} does not carry ${wanted.join(', ')} (it has ${lastText ? parseNetworkConfig(lastText, view.mac).addresses.join(', ') || 'no address' : 'nothing'}): ${errorMessage(err)}`, { cause: err });
  }
  await applyNetworkConfig(instance, network, { netns: labTopology(state, deps).netns, ...(deps.clock ? { clock: deps.clock } : {}), ...(deps.signal ? { signal: deps.signal } : {}) });
  const ipv6 = network.addresses.find((a) => a.includes(':'));
  const ipv6Result = state.plan.ipv6 && typeof v6 === 'string' && v6 !== '' ? { ipv6: { expected: v6, ...(ipv6 ? { address: ipv6.split('/')[0]!, prefixLength: 128 } : {}), routers: network.routes.filter((r) => r.family === 'ipv6' && r.via).map((r) => r.via!), dns: network.nameservers.filter((s) => s.includes(':')) } } : {};
  return { instance, drive: { file, network }, ...ipv6Result };

  async function waitForAddresses(): Promise<DriveNetwork> {
    for (;;) {
      const remaining = deadline - clock.now();
      lastText = await waitForNetworkConfig(file, { timeoutMs: Math.max(1, remaining), clock, ...(deps.signal ? { signal: deps.signal } : {}) });
      const net = parseNetworkConfig(lastText, view.mac);
      const canon = net.addresses.map((a) => (a.includes(':') ? `${formatIpv6(parseCidr6(a)!.network)}/128` : a));
      if (wanted.every((w) => canon.includes(w))) return net;
      if (clock.now() >= deadline) throw new Error('timed out');
      await sleep(clock, 100);
    }
  }
}

/**
 * ROUTED: applies the instance's config drive again (after a change such as
 * an elastic address: what a guest does when its drive changes) and removes
 * global addresses the drive no longer names.
 */
export async function labVmReconfigure(state: LabState, api: ApiClient, id: string, deps: LabDeps, timeoutMs = 30_000): Promise<VmAddResult> {
  const view = await api.request<InstanceView>('GET', `/v1/instances/${encodeURIComponent(id)}`);
  const node = state.plan.nodes.find((n) => n.name === view.node);
  if (!node) throw new EdgenetError('LAB_UNKNOWN_NODE', `instance ${view.id} runs on node ${view.node}, not one of lab ${state.plan.name}'s`);
  const topo = labTopology(state, deps);
  const instance = topo.instanceRef({ node: node.short, id: view.id, mac: view.mac });
  const r = await configureFromDrive(state, view, instance, timeoutMs, deps);
  const keep = new Set(r.drive!.network.addresses.map((a) => a.split('/')[0]!));
  const shown = await topo.netns.execIn(instance.ns, ['ip', '-j', 'addr', 'show', 'dev', instance.guestIf, 'scope', 'global'], { timeoutMs: 15_000 });
  const links = JSON.parse(shown.stdout.trim() || '[]') as { addr_info?: { local?: string; prefixlen?: number }[] }[];
  for (const a of links.flatMap((l) => l.addr_info ?? [])) {
    if (a.local && !keep.has(a.local) && !keep.has(formatIpv6(parseCidr6(`${a.local}/128`)?.network ?? 0n))) {
      await topo.netns.execIn(instance.ns, ['ip', 'addr', 'del', `${a.local}/${a.prefixlen}`, 'dev', instance.guestIf], { timeoutMs: 15_000 });
    }
  }
  return { ...r, view };
}

export async function labVmDel(state: LabState, id: string, deps: Pick<LabDeps, 'exec' | 'clock'>): Promise<void> {
  const topo = labTopology(state, deps);
  await topo.removeInstance(id);
}
