/**
 * ROUTED instance ports (issue 17): DesiredState.routed vs what the kernel
 * holds on `vn_*` links → steps. Pure.
 *
 * Model: each RoutedPort whose link exists becomes a routed point-to-point
 * link: not a bridge port, the host MAC `hostMac`, per-interface sysctls
 * (IPv6: addr_gen_mode=1 so the kernel adds no link-local address of its own
 * at link-up, accept_ra=0, forwarding=1; IPv4: proxy_arp=1, forwarding=1;
 * disable_ipv6=1 on a port whose instance has no IPv6, 0 on the others:
 * portIpv6Switch),
 * up, the gateway addresses (`<gatewayIpv4>/32`, `<gatewayIpv6>/64`, the
 * latter without DAD), and per routed address a host route `proto
 * EDGENET_ROUTE_PROTOCOL` and a permanent neighbour entry (`protocol` ours
 * too) to the instance's MAC. A port whose link does not exist yet is a note:
 * whatever starts the VM creates it, and the next sync (a file event, the
 * periodic resync) finishes the job. netd never creates or deletes a port.
 *
 * Ownership (style.md 6), the same whether `routed` is present or not, so a
 * node switched back to EDGE, an instance gone and `netd flush` all sweep
 * the same things:
 *   - a route is ours when it carries our protocol and goes through a `vn_`
 *     link (routes of ours on the bridge are planRoutes6's, plan.ts; the two
 *     sweeps never see each other's routes);
 *   - a neighbour entry is ours when it carries our protocol (nothing else
 *     sets protocol 77 on a neighbour);
 *   - an address on a `vn_` link is ours when it is link-local as the
 *     gateways must be (the CLC refuses others: ROUTED_INSTANCE_GATEWAY_INVALID):
 *     IPv4 in 169.254.0.0/16, IPv6 in fe80::/10 except the kernel's own
 *     link-local (a modified EUI-64 interface id, what the kernel derives
 *     from the MAC at link-up with addr_gen_mode 0). iproute2 6.1 can
 *     neither set nor print an address protocol (IFA_PROTO), and a VM's
 *     host-side port carries no address of anyone else: in EDGE it is a
 *     bridge port. (A host whose default addr_gen_mode is 2 or 3 gives a
 *     port a link-local that is not EUI-64: that one is taken for ours and
 *     removed once; the port works without it.) Addresses are swept only on
 *     `vn_` links that are no bridge port (observed master) or are to be
 *     routed: an EDGE bridge port's addresses are never ours;
 * Per-port sysctls are left as they are when a port stops being routed
 * (like the global ones: the link goes with the VM).
 *
 * Order: per port its link changes (nomaster, MAC, sysctls before link-up,
 * up), then the address/route/neighbour changes of every port as one run of
 * steps the applier batches into one `ip -batch`: withdrawals first (a route
 * that moves to another port is deleted before it is added there), gateway
 * addresses, routes, neighbours, and our addresses no longer wanted last, so
 * a sync that fails half-way leaves an address of ours behind, which is what
 * makes the next sync read the routed side again (`hasRoutedLeftovers`).
 */
import type { ObservedAddress, ObservedLink, ObservedNeighbour, ObservedRoute6, ObservedRouted } from './observed.ts';
import type { RoutedPort, RoutedState, Sysctl } from '../render/types.ts';
import type { Step } from './steps.ts';
import { INSTANCE_INTERFACE_PREFIX } from '../names.ts';
import { IPV6_LINK_LOCAL, cidrContains, cidrContains6, formatIpv6, parseIp, parseIpv6 } from '../../shared/ip.ts';

/** Whether a link is an instance's host-side port (`vn_<id>`), where the routed planner owns what it owns. */
export function isInstancePort(name: string): boolean {
  return name.startsWith(INSTANCE_INTERFACE_PREFIX);
}

/** `a.b.c.d[/32]` → `a.b.c.d`; IPv6 `[/128]` in the kernel's spelling (RFC 5952); other text unchanged. */
export function hostAddress(text: string): string {
  const bare = text.replace(/\/(?:32|128)$/, '');
  if (!bare.includes(':')) return bare;
  const v = parseIpv6(bare);
  return v === undefined ? bare : formatIpv6(v);
}

const FE80_64 = 0xfe80n << 48n;
const LOW_64 = (1n << 64n) - 1n;
/** 169.254.0.0/16 */
const LINK_LOCAL4 = { network: (169 * 2 ** 24 + 254 * 2 ** 16) >>> 0, prefix: 16 };
/** ff:fe in the middle of an interface id: the modified EUI-64 form. */
const EUI64_MARK = 0xfffen << 24n;
const EUI64_MARK_MASK = 0xffffn << 24n;

/** fe80::/64 with a modified EUI-64 interface id: the link-local address the kernel derives from a MAC (addr_gen_mode 0). */
function isKernelLinkLocal(address: string): boolean {
  const v = parseIpv6(address);
  return v !== undefined && v >> 64n === FE80_64 && ((v & LOW_64) & EUI64_MARK_MASK) === EUI64_MARK;
}

/** An address on a `vn_` link that netd owns (module header: ownership). */
export function isOurPortAddress(a: ObservedAddress): boolean {
  if (!a.address.includes(':')) {
    const v = parseIp(a.address);
    return v !== undefined && cidrContains(LINK_LOCAL4, v);
  }
  const v = parseIpv6(a.address);
  return v !== undefined && cidrContains6(IPV6_LINK_LOCAL, v) && !isKernelLinkLocal(a.address);
}

/** A link enslaved to a bridge (an EDGE instance port): the routed planner sweeps no address there. */
export function isBridgePort(link: ObservedLink | undefined): boolean {
  return link?.master !== undefined;
}

/**
 * Whether some `vn_` link that is no bridge port still carries an address of
 * ours: the mark of a ROUTED state applied earlier (its gateway addresses are
 * removed last), so the sync reads the routed side and sweeps it even when
 * the desired state is not ROUTED. Takes the addresses of both families by
 * link, and the links (bridge ports are left out: on an EDGE node a host whose
 * addr_gen_mode is 2 or 3 gives them link-locals that look like ours).
 */
export function hasRoutedLeftovers(addresses: Iterable<[string, readonly ObservedAddress[]]>, links: readonly ObservedLink[] = []): boolean {
  const bridged = new Set(links.filter(isBridgePort).map((l) => l.name));
  for (const [link, list] of addresses) if (isInstancePort(link) && !bridged.has(link) && list.some(isOurPortAddress)) return true;
  return false;
}

/**
 * A per-interface sysctl key: sysctl(8) separates components with dots, so
 * the dots of an interface name (`vn_i-1.2`) are written as '/'
 * (linux-host.ts's path mapping swaps them back).
 */
export function interfaceSysctl(family: 'ipv4' | 'ipv6', ifname: string, name: string): string {
  return `net.${family}.conf.${ifname.replaceAll('.', '/')}.${name}`;
}

/** Whether a port's instance has an IPv6 address (a routed /128). */
function portHasIpv6(port: RoutedPort): boolean {
  return port.addresses.some((a) => a.includes(':'));
}

/**
 * `net.ipv6.conf.<port>.disable_ipv6`: 1 on a port whose instance has no IPv6,
 * 0 on one that has. With IPv6 off the port has no address of its own (the
 * kernel removes its link-local) and the kernel drops every IPv6 packet
 * arriving on it (ip6_rcv): an instance of an IPv4-only cluster reaches
 * nothing of the node over IPv6, although such a node has no ip6tables rules
 * (render/routed-filter.ts renders none for an IPv4-only cluster, so a node
 * without IPv6 runs no IPv6 command). Written only where the kernel has the
 * key (observe reads it as defined): a kernel without IPv6 has no
 * /proc/sys/net/ipv6 — and
 * nothing to disable.
 */
export function portIpv6Switch(port: RoutedPort): Sysctl {
  return { key: interfaceSysctl('ipv6', port.interface, 'disable_ipv6'), value: portHasIpv6(port) ? '0' : '1' };
}

/** The port's per-interface sysctls, in the order they are written (addr_gen_mode before the link comes up). */
export function portSysctls(state: RoutedState, ifname: string): Sysctl[] {
  const out: Sysctl[] = [];
  if (state.gatewayIpv6 !== undefined) {
    out.push(
      // 1 = none: no kernel link-local at link-up; the port's only link-local is the gateway's.
      { key: interfaceSysctl('ipv6', ifname, 'addr_gen_mode'), value: '1' },
      { key: interfaceSysctl('ipv6', ifname, 'accept_ra'), value: '0' },
      { key: interfaceSysctl('ipv6', ifname, 'forwarding'), value: '1' },
    );
  }
  if (state.gatewayIpv4 !== undefined) {
    out.push(
      // The instance may ARP for any address it thinks on-link; the node answers and routes.
      { key: interfaceSysctl('ipv4', ifname, 'proxy_arp'), value: '1' },
      { key: interfaceSysctl('ipv4', ifname, 'forwarding'), value: '1' },
    );
  }
  return out;
}

/** Every per-port sysctl key of the desired state (observe reads them; a port that does not exist reads as undefined). */
export function routedSysctlKeys(state: RoutedState | undefined): string[] {
  return state === undefined ? [] : state.ports.flatMap((p) => [portIpv6Switch(p).key, ...portSysctls(state, p.interface).map((s) => s.key)]);
}

/** The gateway addresses every port carries, as `{address, prefixlen}` in the kernel's spelling. */
function gatewayAddresses(state: RoutedState): ObservedAddress[] {
  return [
    ...(state.gatewayIpv4 !== undefined ? [{ address: hostAddress(state.gatewayIpv4), prefixlen: 32 }] : []),
    ...(state.gatewayIpv6 !== undefined ? [{ address: hostAddress(state.gatewayIpv6), prefixlen: 64 }] : []),
  ];
}

export interface RoutedObserved {
  readonly links: ReadonlyMap<string, ObservedLink>;
  readonly sysctls: ReadonlyMap<string, string | undefined>;
  /** IPv6 routes of ours (bridge and ports); absent = not read. */
  readonly routes6?: readonly ObservedRoute6[];
  /** Absent = not read: nothing routed is planned (a desired ROUTED state then gets a note). */
  readonly routed?: ObservedRouted;
}

export interface RoutedPlan {
  readonly steps: readonly Step[];
  readonly notes: readonly string[];
}

const key = (address: string, dev: string) => `${hostAddress(address)} ${dev}`;

function sameMac(a: string | undefined, b: string): boolean {
  return a !== undefined && a.toLowerCase() === b.toLowerCase();
}

/** The link steps of one existing port: off any bridge, its MAC, its sysctls, up. */
function portLinkSteps(state: RoutedState, port: RoutedPort, link: ObservedLink, sysctls: ReadonlyMap<string, string | undefined>): Step[] {
  const steps: Step[] = [];
  // A bridge port's frames are bridged, never routed (a port left from EDGE, or attached by the VM starter).
  if (link.master !== undefined) steps.push({ kind: 'link-nomaster', name: port.interface });
  if (!sameMac(link.mac, port.hostMac)) steps.push({ kind: 'link-mac', name: port.interface, mac: port.hostMac });
  for (const s of portSysctls(state, port.interface)) if (sysctls.get(s.key) !== s.value) steps.push({ kind: 'sysctl-set', key: s.key, value: s.value });
  // After addr_gen_mode (IPv6 turned on again on an up link must not get a kernel link-local), before the gateway addresses.
  const v6 = portIpv6Switch(port);
  const have = sysctls.get(v6.key);
  if (have !== undefined && have !== v6.value) steps.push({ kind: 'sysctl-set', key: v6.key, value: v6.value });
  // Routes need the link up (the kernel refuses a route through a down device and drops them at link-down).
  if (!link.up) steps.push({ kind: 'link-up', name: port.interface });
  return steps;
}

/**
 * Plans the routed ports. `desired` undefined (an EDGE state, `netd flush`):
 * only the sweep of what is ours on `vn_` links.
 */
export function planRouted(desired: RoutedState | undefined, observed: RoutedObserved): RoutedPlan {
  const notes: string[] = [];
  const routed = observed.routed;
  if (routed === undefined) {
    if (desired !== undefined && desired.ports.length > 0) notes.push('routed ports not observed: nothing planned for them');
    return { steps: [], notes };
  }
  const linkSteps: Step[] = [];
  const wantRoutes = new Set<string>();
  const wantNeighbours = new Map<string, string>();
  const wantAddresses = new Map<string, readonly ObservedAddress[]>();
  if (desired !== undefined) {
    const gateways = gatewayAddresses(desired);
    for (const port of desired.ports) {
      const link = observed.links.get(port.interface);
      if (link === undefined) {
        notes.push(`${port.interface} (instance ${port.instance}) does not exist yet: routed once the VM's port is there (next sync)`);
        continue;
      }
      linkSteps.push(...portLinkSteps(desired, port, link, observed.sysctls));
      wantAddresses.set(port.interface, gateways);
      for (const a of port.addresses) {
        wantRoutes.add(key(a, port.interface));
        wantNeighbours.set(key(a, port.interface), port.instanceMac.toLowerCase());
      }
    }
  }

  const withdraw: Step[] = [];
  const haveNeighbours = new Map<string, ObservedNeighbour>();
  for (const n of routed.neighbours) {
    const k = key(n.dst, n.dev);
    if (wantNeighbours.has(k)) haveNeighbours.set(k, n);
    else withdraw.push({ kind: 'neigh-del', address: n.dst, dev: n.dev });
  }
  const ourRoutes = [...routed.routes4, ...(observed.routes6 ?? [])].filter((r) => isInstancePort(r.dev));
  const haveRoutes = new Set<string>();
  for (const r of ourRoutes) {
    const k = key(r.dst, r.dev);
    if (wantRoutes.has(k)) haveRoutes.add(k);
    else withdraw.push({ kind: 'port-route-del', address: r.dst, dev: r.dev });
  }

  const addAddresses: Step[] = [];
  const delAddresses: Step[] = [];
  const links = new Set([...routed.addresses.keys(), ...wantAddresses.keys()]);
  for (const link of [...links].sort()) {
    if (!isInstancePort(link)) continue;
    // A bridge port that is not to be routed is EDGE's (or the VM starter's): its addresses are none of ours, whatever they look like.
    if (!wantAddresses.has(link) && isBridgePort(observed.links.get(link))) continue;
    const have = (routed.addresses.get(link) ?? []).filter(isOurPortAddress);
    const want = wantAddresses.get(link) ?? [];
    const same = (a: ObservedAddress, b: ObservedAddress) => hostAddress(a.address) === b.address && a.prefixlen === b.prefixlen;
    for (const w of want) if (!have.some((h) => same(h, w))) addAddresses.push({ kind: 'port-addr-add', interface: link, address: w.address, prefixlen: w.prefixlen });
    for (const h of have) if (!want.some((w) => same(h, w))) delAddresses.push({ kind: 'port-addr-del', interface: link, address: h.address, prefixlen: h.prefixlen });
  }

  const routes: Step[] = [];
  const neighbours: Step[] = [];
  for (const port of desired?.ports ?? []) {
    if (!observed.links.has(port.interface)) continue;
    for (const a of port.addresses) {
      const k = key(a, port.interface);
      if (!haveRoutes.has(k)) routes.push({ kind: 'port-route-replace', address: hostAddress(a), dev: port.interface });
      const n = haveNeighbours.get(k);
      if (n === undefined || !n.permanent || !sameMac(n.lladdr, port.instanceMac)) {
        neighbours.push({ kind: 'neigh-replace', address: hostAddress(a), dev: port.interface, lladdr: port.instanceMac.toLowerCase() });
      }
    }
  }
  return { steps: [...linkSteps, ...withdraw, ...addAddresses, ...routes, ...neighbours, ...delAddresses], notes };
}
