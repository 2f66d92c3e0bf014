/**
 * `edgenet netd flush`: removes every edgenet artifact from the host and
 * nothing else — our iptables, ip6tables and ebtables chains and the hooks
 * into them (one transaction per table), our ipsets of both families (after
 * the rules that used them), our IPv6 routes (those with our route protocol:
 * the bridge's on-link prefixes), what a ROUTED state put on `vn_` instance
 * ports (host routes and permanent neighbour entries with our protocol, the
 * gateway addresses: plan/routed.ts with no desired ports), our public /32s
 * (addresses carrying our label, plus addresses of the document's public pool
 * when the shared file is readable) and every supervised process of ours
 * (dhcpd, ...: stopped, its configuration removed). The bridge and sysctls are
 * left alone: other software may depend on them, and so are the instance
 * ports themselves, their MAC and per-port sysctls (the VM starter's links). On a kernel without IPv6
 * (ipv6.disable=1) there is nothing IPv6 to remove and the IPv6 tools fail:
 * the IPv6 side is skipped (observe.ts reads it as empty).
 *
 * ROUTED config drives: the drives of instances the document still places on
 * this node are kept. A drive is the boot-time configuration of a VM that may
 * have it attached: a running VM keeps reading an ISO unlinked under it, but
 * its next reboot or re-attach would find nothing and cloud-init would come
 * up without its network (and a flush is often followed by netd starting
 * again, which would rebuild the same drive anyway). Drives of instances no
 * longer here are removed (a sync does the same); when the document does not
 * say which instances are here (unreadable, node not in it), every drive is
 * kept. `--config-drives` removes them all (uninstall).
 *
 * Built from the same planner as a sync, against an empty desired table.
 */
import type { NetfilterTable } from './render/types.ts';
import { EBTABLES_BUILTINS, IP6TABLES_BUILTINS, IPTABLES_BUILTINS, planTable } from './plan/plan.ts';
import { EDGENET_ROUTE_PROTOCOL, type Step } from './plan/steps.ts';
import { parseIp, parseRangeEntry, rangeContains, type IpRange } from '../shared/ip.ts';
import type { HostOps } from './apply/host.ts';
import { observeNetfilter, observeRouted, observeRoutes6 } from './apply/observe.ts';
import { isInstancePort, planRouted } from './plan/routed.ts';
import { applySteps, type StepResult } from './apply/apply.ts';
import { PROCESS_DRIVERS, type DriverRegistry } from './apply/drivers.ts';
import { observeProcesses } from './apply/supervisor.ts';
import { observeConfigDrives } from './apply/config-drive.ts';

export interface FlushOptions {
  readonly isOurs: (name: string) => boolean;
  readonly runDir: string;
  readonly publicInterface: string;
  /** Our address label (`<if>:en`), if any. */
  readonly addressLabel?: string;
  /** The document's public pool, when known. */
  readonly pool: readonly string[];
  readonly now: () => number;
  readonly wait: (ms: number) => Promise<void>;
  /** Supervised-process drivers (default PROCESS_DRIVERS). */
  readonly drivers?: DriverRegistry;
  /** ROUTED config drives' directory; absent: drives are not looked at. */
  readonly configDriveDir?: string;
  /** Instances whose drive stays (those the document places on this node), or 'all' when that is not known. Default 'all'. */
  readonly keepConfigDrives?: ReadonlySet<string> | 'all';
}

const EMPTY: NetfilterTable = { chains: [], hooks: [] };

async function planFlush(host: HostOps, options: FlushOptions): Promise<Step[]> {
  const steps: Step[] = [];
  const ipv6 = host.ipv6Available();
  const ip = host.hostReads(EDGENET_ROUTE_PROTOCOL);
  const [nf, routes6, reads] = await Promise.all([observeNetfilter(host, ipv6), observeRoutes6(ip, ipv6), ip]);
  const interfaces = reads.interfaces;
  for (const table of ['filter', 'nat'] as const) {
    const w = planTable('iptables', table, EMPTY, nf.iptables[table], { full: false, isOurs: options.isOurs, builtins: IPTABLES_BUILTINS[table] });
    if (w) steps.push({ kind: 'iptables-write', write: w });
  }
  for (const table of ['filter', 'nat'] as const) {
    const w = planTable('iptables', table, EMPTY, nf.ip6tables[table], { full: false, isOurs: options.isOurs, builtins: IP6TABLES_BUILTINS[table] });
    if (w) steps.push({ kind: 'ip6tables-write', write: w });
  }
  for (const table of ['filter', 'nat'] as const) {
    const w = planTable('ebtables', table, EMPTY, nf.ebtables[table], { full: false, isOurs: options.isOurs, builtins: EBTABLES_BUILTINS[table] });
    if (w) steps.push({ kind: 'ebtables-write', write: w });
  }
  const sets = [...nf.ipsets.keys()].filter(options.isOurs).sort();
  if (sets.length) steps.push({ kind: 'ipset-destroy', names: sets });
  // Routes of ours on instance ports go with the routed ports' sweep below.
  for (const r of routes6) if (!isInstancePort(r.dev)) steps.push({ kind: 'route6-del', prefix: r.dst, dev: r.dev });
  const routed = observeRouted(reads);
  const links = new Map(interfaces.links.map((l) => [l.name, l] as const));
  steps.push(...planRouted(undefined, { links, sysctls: new Map(), routes6, routed }).steps);
  if (options.publicInterface !== '') {
    const pool = options.pool.map(parseRangeEntry).filter((r): r is IpRange => r !== undefined);
    for (const a of interfaces.addresses.get(options.publicInterface) ?? []) {
      if (a.prefixlen !== 32) continue;
      const ip = parseIp(a.address);
      const ours = (options.addressLabel !== undefined && a.label === options.addressLabel) || (ip !== undefined && pool.some((r) => rangeContains(r, ip)));
      if (ours) steps.push({ kind: 'addr-del', interface: options.publicInterface, address: a.address, prefixlen: 32 });
    }
  }
  const processes = await observeProcesses(host, { runDir: options.runDir, drivers: options.drivers ?? PROCESS_DRIVERS });
  for (const [kind, p] of [...processes].sort(([a], [b]) => a.localeCompare(b))) {
    if (p.pid !== undefined) steps.push({ kind: 'process-stop', process: kind, pid: p.pid });
  }
  const keep = options.keepConfigDrives ?? 'all';
  if (options.configDriveDir !== undefined && keep !== 'all') {
    for (const instance of (await observeConfigDrives(host, options.configDriveDir)).keys()) {
      if (!keep.has(instance)) steps.push({ kind: 'config-drive-remove', instance });
    }
  }
  return steps;
}

export async function flushHost(host: HostOps, options: FlushOptions): Promise<StepResult[]> {
  const steps = await planFlush(host, options);
  return applySteps(steps, {
    host,
    runDir: options.runDir,
    drivers: options.drivers ?? PROCESS_DRIVERS,
    now: options.now,
    wait: options.wait,
    ...(options.configDriveDir !== undefined ? { configDriveDir: options.configDriveDir } : {}),
  });
}
