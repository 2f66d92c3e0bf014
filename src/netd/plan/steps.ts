/**
 * Plan steps: the difference between desired and observed state as a list of
 * tagged values, in the order they must run (style.md 5, 12):
 *   sysctls → the node's network (bridge, its MAC, addresses and routes moved
 *   onto it: src/netd/plan/layout.ts) → ipset create/refill (inet and inet6, one restore) →
 *   iptables per table → ip6tables per table → ebtables per table → ipset
 *   destroy → addresses → IPv6 routes on the bridge (replace ours, delete ours
 *   no longer wanted) → ROUTED instance ports (per port: off any bridge, MAC,
 *   sysctls, up; then one run of address/route/neighbour changes:
 *   src/netd/plan/routed.ts) → proxy-ARP announcements → supervised processes
 *   (dhcpd, radvd, ...: config write → start / reload / restart, or stop) → config drives
 *   (ROUTED: write / remove, src/netd/plan/config-drives.ts).
 * Sets are created before the rules that use them and destroyed after the
 * rules that used them are gone; the on-link route of an IPv6 prefix comes
 * after the ip6tables and ebtables rules that guard its traffic. Each step is applied by exactly one case of
 * the applier's exhaustive switch. The routed ports' routes and neighbour
 * entries come after the iptables/ip6tables rules that filter and guard the
 * traffic they let in.
 */
import type { Chain, ConfigDrive, Hook, IpSet, ProcessFile } from '../render/types.ts';
import type { ObservedRoute, ObservedRule } from './observed.ts';

export type NetfilterTableName = 'filter' | 'nat';

/**
 * The route protocol number (rtm_protocol, `ip route … proto 77`) that marks
 * the routes netd owns — the IPv6 prefixes on the bridge (EDGE,
 * DesiredState.bridgeRoutes) and the host routes on routed instance ports
 * (ROUTED, DesiredState.routed) — and, as NDA_PROTOCOL, the permanent
 * neighbour entries of routed ports: ours to replace and to delete when no
 * longer desired; a route or neighbour with any other protocol is never
 * touched. Unassigned in iproute2's rt_protos and FRR's range (186-199).
 */
export const EDGENET_ROUTE_PROTOCOL = 77;

/** One atomic `*-restore --noflush` transaction on one table. */
export interface TableWrite {
  readonly table: NetfilterTableName;
  /** Our chains written in full (declared, which flushes them, then every rule). */
  readonly chains: readonly Chain[];
  /** Jumps from built-in chains that are missing: inserted at position 1. */
  readonly addHooks: readonly Hook[];
  /** Jumps from built-in chains into our chains that are not desired: deleted by spec. */
  readonly removeHooks: readonly { readonly builtin: string; readonly rule: ObservedRule }[];
  /** Our chains that are not desired: flushed and deleted in the same transaction. */
  readonly deleteChains: readonly string[];
}

/** A set whose members differ from the kernel's: refilled in full (atomic swap), counts for the log. */
export interface SetRefill {
  readonly set: IpSet;
  readonly added: number;
  readonly removed: number;
}

export type Step =
  | { readonly kind: 'sysctl-set'; readonly key: string; readonly value: string }
  | { readonly kind: 'bridge-create'; readonly name: string; readonly mac?: string }
  | { readonly kind: 'link-mac'; readonly name: string; readonly mac: string }
  | { readonly kind: 'node-addr-add'; readonly interface: string; readonly address: string; readonly prefixlen: number; readonly broadcast?: string }
  | { readonly kind: 'node-addr-del'; readonly interface: string; readonly address: string; readonly prefixlen: number }
  | { readonly kind: 'route-move'; readonly route: ObservedRoute; readonly from: string; readonly to: string }
  | { readonly kind: 'link-attach'; readonly name: string; readonly bridge: string }
  | { readonly kind: 'link-up'; readonly name: string }
  | { readonly kind: 'link-hairpin'; readonly name: string }
  /**
   * One `ipset restore`: the missing sets created, then the sets whose
   * members differ refilled (never both lists empty). One process for both:
   * each set is written in full either way, and a failed line stops the rest
   * as two restores in a row would.
   */
  | { readonly kind: 'ipset-write'; readonly create: readonly IpSet[]; readonly refill: readonly SetRefill[] }
  | { readonly kind: 'iptables-write'; readonly write: TableWrite }
  | { readonly kind: 'ip6tables-write'; readonly write: TableWrite }
  | { readonly kind: 'ebtables-write'; readonly write: TableWrite }
  | { readonly kind: 'ipset-destroy'; readonly names: readonly string[] }
  | { readonly kind: 'addr-add'; readonly interface: string; readonly address: string; readonly label?: string }
  | { readonly kind: 'addr-del'; readonly interface: string; readonly address: string; readonly prefixlen: number }
  /** `ip -6 route replace <prefix> dev <dev> proto <ours>`: an IPv6 prefix on-link on the bridge. */
  | { readonly kind: 'route6-replace'; readonly prefix: string; readonly dev: string }
  /** `ip -6 route del <prefix> dev <dev> proto <ours>`: a route of ours that is no longer desired. */
  | { readonly kind: 'route6-del'; readonly prefix: string; readonly dev: string }
  /** ROUTED: `ip link set dev <name> nomaster`: a port to route must not be a bridge port (its frames would be bridged, never routed). */
  | { readonly kind: 'link-nomaster'; readonly name: string }
  /** ROUTED: a gateway address on an instance port (`169.254.0.1/32`, `fe80::1/64`: IPv6 without DAD). */
  | { readonly kind: 'port-addr-add'; readonly interface: string; readonly address: string; readonly prefixlen: number }
  /** ROUTED: an address of ours on an instance port that is no longer wanted. */
  | { readonly kind: 'port-addr-del'; readonly interface: string; readonly address: string; readonly prefixlen: number }
  /** ROUTED: `ip route replace <address>/32|/128 dev <dev> proto <ours>`: an instance address routed to its port. */
  | { readonly kind: 'port-route-replace'; readonly address: string; readonly dev: string }
  /** ROUTED: `ip route del <dst> dev <dev> proto <ours>`: a route of ours on an instance port that is no longer wanted. */
  | { readonly kind: 'port-route-del'; readonly address: string; readonly dev: string }
  /** ROUTED: `ip neigh replace <address> lladdr <mac> dev <dev> nud permanent protocol <ours>`. */
  | { readonly kind: 'neigh-replace'; readonly address: string; readonly dev: string; readonly lladdr: string }
  /** ROUTED: `ip neigh del <address> dev <dev>`: a neighbour entry of ours that is no longer wanted. */
  | { readonly kind: 'neigh-del'; readonly address: string; readonly dev: string }
  /** NC_PROXY: one gratuitous ARP per address from `interface` (its MAC), so peers learn that this node answers for it. */
  | { readonly kind: 'arp-announce'; readonly interface: string; readonly addresses: readonly string[] }
  // Supervised processes: `process` names the driver (src/netd/apply/drivers.ts), e.g. 'dhcpd'.
  | { readonly kind: 'process-write-config'; readonly process: string; readonly files: readonly ProcessFile[] }
  | { readonly kind: 'process-start'; readonly process: string; readonly interfaces: readonly string[] }
  | { readonly kind: 'process-reload'; readonly process: string; readonly pid: number; readonly signal: NodeJS.Signals }
  | { readonly kind: 'process-restart'; readonly process: string; readonly interfaces: readonly string[]; readonly pid: number }
  /** Stops it and removes its configuration files: the next start begins from fresh ones. */
  | { readonly kind: 'process-stop'; readonly process: string; readonly pid: number }
  /** ROUTED: writes the drive's files into `<drive dir>/<instance>/`, builds `<instance>.iso`, then records `hash` (plan/config-drives.ts). */
  | { readonly kind: 'config-drive-write'; readonly drive: ConfigDrive; readonly hash: string; readonly why: string }
  /** ROUTED: removes the drive (directory, ISO, hash) of an instance no longer on this node. */
  | { readonly kind: 'config-drive-remove'; readonly instance: string };

/** `default via 172.31.0.1 metric 100` */
function routeText(r: ObservedRoute): string {
  return [r.dst, ...(r.gateway ? ['via', r.gateway] : []), ...(r.metric !== undefined ? ['metric', String(r.metric)] : [])].join(' ');
}

/** A one-line description for logs and `netd events`. */
export function describeStep(step: Step): string {
  switch (step.kind) {
    case 'sysctl-set':
      return `sysctl ${step.key}=${step.value}`;
    case 'bridge-create':
      return `bridge create ${step.name}${step.mac ? ` address ${step.mac}` : ''}`;
    case 'link-mac':
      return `link ${step.name} address ${step.mac} (pinned)`;
    case 'node-addr-add':
      return `addr add ${step.address}/${step.prefixlen} dev ${step.interface} (node address)`;
    case 'node-addr-del':
      return `addr del ${step.address}/${step.prefixlen} dev ${step.interface} (node address, now on the bridge)`;
    case 'route-move':
      return `route ${routeText(step.route)} moved from ${step.from} to ${step.to}`;
    case 'link-attach':
      return `link ${step.name} master ${step.bridge}`;
    case 'link-up':
      return `link ${step.name} up`;
    case 'link-hairpin':
      return `bridge port ${step.name} hairpin on`;
    case 'ipset-write': {
      const parts: string[] = [];
      if (step.create.length) parts.push(`create ${step.create.map((s) => s.name).join(' ')}`);
      if (step.refill.length) parts.push(`refill ${step.refill.map((s) => `${s.set.name}(+${s.added}/-${s.removed})`).join(' ')}`);
      return `ipset ${parts.join('; ')}`;
    }
    case 'iptables-write':
    case 'ip6tables-write':
    case 'ebtables-write': {
      const w = step.write;
      const parts = [`${step.kind.slice(0, -'-write'.length)} ${w.table}:`];
      if (w.chains.length) parts.push(`write ${w.chains.map((c) => c.name).join(' ')}`);
      if (w.addHooks.length) parts.push(`hook ${w.addHooks.map((h) => `${h.builtin}->${h.target}`).join(' ')}`);
      if (w.removeHooks.length) parts.push(`unhook ${w.removeHooks.length}`);
      if (w.deleteChains.length) parts.push(`delete ${w.deleteChains.join(' ')}`);
      return parts.join(' ');
    }
    case 'ipset-destroy':
      return `ipset destroy ${step.names.join(' ')}`;
    case 'addr-add':
      return `addr add ${step.address}/32 dev ${step.interface}`;
    case 'addr-del':
      return `addr del ${step.address}/${step.prefixlen} dev ${step.interface}`;
    case 'route6-replace':
      return `route -6 replace ${step.prefix} dev ${step.dev} (on-link)`;
    case 'route6-del':
      return `route -6 del ${step.prefix} dev ${step.dev}`;
    case 'link-nomaster':
      return `link ${step.name} nomaster (routed port)`;
    case 'port-addr-add':
      return `addr add ${step.address}/${step.prefixlen} dev ${step.interface} (gateway)`;
    case 'port-addr-del':
      return `addr del ${step.address}/${step.prefixlen} dev ${step.interface}`;
    case 'port-route-replace':
      return `route replace ${step.address} dev ${step.dev} (routed)`;
    case 'port-route-del':
      return `route del ${step.address} dev ${step.dev}`;
    case 'neigh-replace':
      return `neigh replace ${step.address} lladdr ${step.lladdr} dev ${step.dev} permanent`;
    case 'neigh-del':
      return `neigh del ${step.address} dev ${step.dev}`;
    case 'arp-announce':
      return `announce ${step.addresses.join(' ')} on ${step.interface} (proxy ARP)`;
    case 'process-write-config':
      return `${step.process} config write`;
    case 'process-start':
      return `${step.process} start${step.interfaces.length > 0 ? ` on ${step.interfaces.join(' ')}` : ''}`;
    case 'process-reload':
      return `${step.process} reload (pid ${step.pid}, ${step.signal})`;
    case 'process-restart':
      return `${step.process} restart (pid ${step.pid})`;
    case 'process-stop':
      return `${step.process} stop (pid ${step.pid})`;
    case 'config-drive-write':
      return `config drive ${step.drive.instance} write (${step.why})`;
    case 'config-drive-remove':
      return `config drive ${step.instance} remove`;
  }
}
