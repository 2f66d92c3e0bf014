/**
 * One sync: file → parse → find self → render → observe → plan → apply →
 * status. Everything is derived from the shared file and the live kernel
 * (style.md 7); the only thing read from our own past is the status file's
 * applied generation/sequence/version, against which shared/freshness.ts
 * refuses an older document.
 *
 * Outcomes (NetdResult): a missing/truncated/malformed/invalid document,
 * a document that does not list this node, one older than the applied one,
 * or a dual-stack one on a node whose kernel has no IPv6 (IPV6_UNAVAILABLE,
 * ipv6-needs.ts) change NOTHING on the host; a failed step leaves every
 * earlier transaction applied and the failed one rolled back by the kernel,
 * and is reported as `error` (the daemon then retries with a full rewrite).
 */
import type { NetdConfig } from './config.ts';
import { netdNames } from './names.ts';
import { findSelf } from './render/render.ts';
import { renderUntrusted } from './render/sanitize.ts';
import type { DesiredState, HostFacts } from './render/types.ts';
import { parseGni } from '../shared/gni/codec.ts';
import { formatDiagnostic } from '../shared/diagnostics.ts';
import type { NetdConfigDrive, NetdResult, NetdStatus } from '../shared/netd-status.ts';
import { paths } from '../shared/paths.ts';
import { configDriveLayout, isConfigDriveInstance, observeConfigDrives } from './apply/config-drive.ts';
import { EdgenetError, errorMessage } from '../shared/errors.ts';
import { freshness } from '../shared/freshness.ts';
import { planSync, type Plan } from './plan/plan.ts';
import type { HostOps } from './apply/host.ts';
import { observeHost, observeNetfilter, observeRoutes6, readPrivateRoutes, withEbtables, withIp6tables, type EarlyReads, type ObservedNetfilter } from './apply/observe.ts';
import { routedSysctlKeys } from './plan/routed.ts';
import { EDGENET_ROUTE_PROTOCOL } from './plan/steps.ts';
import { planNodeNetwork, type NodeNetwork } from './plan/layout.ts';
import { ApplyError, applySteps, vanishedPortNotes, type StepResult } from './apply/apply.ts';
import { PROCESS_DRIVERS, type DriverRegistry } from './apply/drivers.ts';
import type { ProcessFailure } from './apply/supervisor.ts';
import { readStatus, statusFiles, writeStatus } from './status.ts';
import { ipv6Needs, ipv6Refusal } from './ipv6-needs.ts';
import { appendEvent, type SyncEvent } from './events.ts';

export interface SyncDeps {
  readonly host: HostOps;
  readonly config: NetdConfig;
  readonly runDir: string;
  readonly gniFile: string;
  /** Wall-clock milliseconds (status timestamps and step timings). */
  readonly now: () => number;
  readonly wait: (ms: number) => Promise<void>;
  /** How long after starting a supervised process to check it is still alive (0 or absent: no check). */
  readonly startCheckMs?: number;
  /** Supervised-process drivers (default PROCESS_DRIVERS; tests add their own). */
  readonly drivers?: DriverRegistry;
  /** ROUTED config drives' directory (default `paths.configDrives()`: `<state dir>/config-drive`). */
  readonly configDriveDir?: string;
}

/** Where one sync's time went, in ms (events and logs; the operator's first question when a sync is slow). */
export type SyncPhases = {
  read?: number;
  parse?: number;
  /** find self + host facts + render */
  render?: number;
  /** kernel reads still outstanding after render (they start before parsing) */
  observe?: number;
  plan?: number;
  apply?: number;
};

/**
 * What asked for a sync. A supervised process found dead between syncs asks
 * under its own kind (`dhcpd`), so the kinds are open-ended.
 */
// `string & {}` keeps the named triggers visible to the compiler while admitting any kind.
/** Why a sync ran; 'link': a ROUTED instance port appeared, went up or down, or disappeared (port-watcher.ts). */
export type SyncTrigger = 'start' | 'file' | 'poll' | 'periodic' | 'retry' | 'manual' | 'link' | (string & {});

export interface SyncOutcome {
  readonly result: NetdResult;
  readonly status: NetdStatus;
  readonly steps: readonly StepResult[];
  readonly writes: number;
  readonly durationMs: number;
  readonly phases: SyncPhases;
  readonly notes: readonly string[];
  /** The desired state when render succeeded (metrics count rules and sets from it). */
  readonly desired?: DesiredState;
  readonly error?: string;
}

/** The status field a driver reports its process's start failure in (`dhcpdFailure`); none when it has no such field. */
function failureField(failure: ProcessFailure | undefined, drivers: DriverRegistry): Partial<NetdStatus> {
  const field = failure === undefined ? undefined : drivers.get(failure.kind)?.statusField;
  return failure === undefined || field === undefined ? {} : { [field]: { reason: failure.reason, log: failure.log } };
}

/** Label for the public /32s we add: `<if>:en` when it fits in IFNAMSIZ-1. */
export function addressLabel(publicInterface: string): string | undefined {
  const label = `${publicInterface}:en`;
  return publicInterface !== '' && label.length <= 15 ? label : undefined;
}

/**
 * Render's host facts: the bridge as it will be once this sync's node-network
 * steps ran (its pinned MAC, its addresses plus those moved from
 * VNET_PRIVINTERFACE), so a bridge netd is about to create never makes render
 * fail for want of a MAC. Also returns the layout, refused or not.
 */
async function hostFacts(host: HostOps, config: NetdConfig, early: EarlyReads = {}): Promise<{ facts: HostFacts; network: NodeNetwork }> {
  const [{ interfaces }, privateRoutes] = await Promise.all([
    early.ip ?? host.hostReads(EDGENET_ROUTE_PROTOCOL),
    early.privateRoutes ?? readPrivateRoutes(host, config.bridge, config.privateInterface),
  ]);
  const links = new Map(interfaces.links.map((l) => [l.name, l] as const));
  const network = planNodeNetwork({
    bridge: config.bridge,
    privateInterface: config.privateInterface,
    mac: config.bridgeMac,
    links,
    addresses: (name) => interfaces.addresses.get(name) ?? [],
    privateRoutes,
  });
  return { facts: { ...(network.mac !== '' ? { bridgeMac: network.mac } : {}), bridgeAddresses: [...network.addresses] }, network };
}

/** Every local IPv4 address (findSelf by address): from the sync's `ip` read when it made one, no process of its own. */
async function localAddresses(host: HostOps, early: EarlyReads): Promise<string[]> {
  if (early.ip === undefined) return host.allAddresses();
  return [...(await early.ip).interfaces.addresses.values()].flatMap((list) => list.map((a) => a.address));
}

/** Parses the file and renders the desired state; never touches the host except to read facts. */
export async function desiredFromFile(
  deps: Pick<SyncDeps, 'host' | 'config' | 'gniFile'>,
  early: EarlyReads = {},
  phases: SyncPhases = {},
): Promise<{ ok: true; state: DesiredState; generation?: number } | { ok: false; result: NetdResult; error: string; version?: string; sequence?: number; generation?: number }> {
  const { host, config } = deps;
  let t = performance.now();
  const lap = (name: keyof SyncPhases) => {
    const now = performance.now();
    phases[name] = Math.round(now - t);
    t = now;
  };
  const text = await host.readFile(deps.gniFile);
  lap('read');
  if (text === undefined) return { ok: false, result: 'invalid-document', error: `shared file ${deps.gniFile} does not exist` };
  const parsed = parseGni(text);
  lap('parse');
  if (!parsed.ok) {
    const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
    return { ok: false, result: 'invalid-document', error: errors.slice(0, 5).map(formatDiagnostic).join('; ') || 'invalid document' };
  }
  const gni = parsed.value;
  const ids = { version: gni.version, ...(gni.sequence === undefined ? {} : { sequence: gni.sequence }), ...(gni.generation === undefined ? {} : { generation: gni.generation }) };
  const node = findSelf(gni, { configuredName: config.nodeName, localAddresses: config.nodeName === '' ? await localAddresses(host, early) : [] });
  if (node === undefined) {
    const how = config.nodeName === '' ? 'no node of the document is a local address' : `node ${config.nodeName} is not in the document`;
    return { ok: false, result: 'not-in-document', error: how, ...ids };
  }
  const { facts, network } = await hostFacts(host, config, early);
  // Untrusted meaning (issue 11): bad entries are left out and reported, the rest renders.
  const rendered = renderUntrusted(gni, { node }, config, facts, { hostAddresses: [...(facts.bridgeAddresses ?? []), ...(config.nodeName === '' ? [] : [config.nodeName])] });
  lap('render');
  // The node's network layout (bridge, VNET_PRIVINTERFACE) matters only to a state with a bridge: a
  // ROUTED node has none, so a missing br0 is no refusal there. EDGE is refused as before, whatever render said.
  if (network.problem !== undefined && (!rendered.ok || rendered.state.bridge !== undefined)) {
    return { ok: false, result: 'error', error: `NODE_NETWORK_UNSUPPORTED: ${network.problem}`, ...ids };
  }
  if (!rendered.ok) return { ok: false, result: 'error', error: `${rendered.code}: ${rendered.message}`, ...ids };
  // A dual-stack state on a kernel without IPv6 is refused whole, before anything is observed or applied.
  const refusal = ipv6Refusal(rendered.state, await (early.ipv6 ?? host.ipv6Available()));
  if (refusal !== undefined) return { ok: false, result: 'error', error: `${refusal.code}: ${refusal.message}`, ...ids };
  return { ok: true, state: rendered.state, ...(gni.generation === undefined ? {} : { generation: gni.generation }) };
}

export interface PlanForOptions {
  readonly host: HostOps;
  readonly config: NetdConfig;
  readonly runDir: string;
  readonly desired: DesiredState;
  readonly full: boolean;
  /** Kernel reads already started (syncOnce overlaps them with parsing). */
  readonly early?: EarlyReads;
  /** Receives the observe and plan timings. */
  readonly phases?: SyncPhases;
  readonly drivers?: DriverRegistry;
  /** ROUTED config drives' directory (default `paths.configDrives()`). */
  readonly configDriveDir?: string;
}

/**
 * Observes the host and plans the steps from it to `desired` (changes
 * nothing). Throws IPV6_UNAVAILABLE for a dual-stack state on a kernel without
 * IPv6 (a sync refuses it earlier, in desiredFromFile; `netd plan` gets here).
 */
export async function planFor(options: PlanForOptions): Promise<Plan> {
  const { host, config, desired } = options;
  const phases = options.phases ?? {};
  const t0 = performance.now();
  const ipv6 = options.early?.ipv6 ?? host.ipv6Available();
  const refusal = ipv6Refusal(desired, await ipv6);
  if (refusal !== undefined) throw new EdgenetError(refusal.code, refusal.message);
  // The drive directory is read on every sync, whatever the mode: an EDGE document after a ROUTED one sweeps the drives left.
  const drives = observeConfigDrives(host, options.configDriveDir ?? paths.configDrives());
  drives.catch(() => undefined);
  const observedHost = await observeHost(host, {
    early: { ...options.early, ipv6 },
    sysctlKeys: [...desired.sysctls.map((s) => s.key), ...routedSysctlKeys(desired.routed)],
    publicInterface: desired.publicAddresses.interface,
    runDir: options.runDir,
    drivers: options.drivers ?? PROCESS_DRIVERS,
    processes: desired.processes,
    bridge: config.bridge,
    privateInterface: config.privateInterface,
    // A full sync reads the routed side on every node, so leftovers that lost their mark (observe.ts) are swept too.
    routed: desired.routed !== undefined || options.full,
  });
  const observed = { ...observedHost, configDrives: await drives };
  const t1 = performance.now();
  phases.observe = Math.round(t1 - t0);
  const label = addressLabel(desired.publicAddresses.interface);
  const plan = planSync(desired, observed, { full: options.full, isOurs: netdNames(config.prefix).isOurs, bridgeMac: config.bridgeMac, ...(label ? { addressLabel: label } : {}) });
  phases.plan = Math.round(performance.now() - t1);
  return plan;
}

/**
 * Gratuitous ARP for new public addresses, after the sync and off its clock:
 * one best-effort process per address, yielding between spawns.
 */
function announceInBackground(host: HostOps, list: readonly { iface: string; address: string }[]): void {
  if (list.length === 0) return;
  void (async () => {
    for (const a of list) {
      host.gratuitousArp(a.iface, a.address);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  })();
}

export async function syncOnce(deps: SyncDeps, request: { trigger: SyncTrigger; full: boolean }): Promise<SyncOutcome> {
  const { host, config } = deps;
  const started = deps.now();
  const files = statusFiles(deps.runDir);
  await host.mkdirp(deps.runDir);
  const previous = await readStatus(host, files);
  const applied = {
    ...(previous?.appliedVersion !== undefined ? { appliedVersion: previous.appliedVersion } : {}),
    ...(previous?.appliedSequence !== undefined ? { appliedSequence: previous.appliedSequence } : {}),
    ...(previous?.appliedGeneration !== undefined ? { appliedGeneration: previous.appliedGeneration } : {}),
    ...(previous?.appliedAt !== undefined ? { appliedAt: previous.appliedAt } : {}),
  };
  const nodeName = config.nodeName;

  let result: NetdResult = 'ok';
  let error: string | undefined;
  let processFailure: ProcessFailure | undefined;
  let steps: StepResult[] = [];
  let notes: readonly string[] = [];
  let ids: { version?: string; sequence?: number; generation?: number } = {};
  let desired: DesiredState | undefined;
  let appliedNow = false;
  const announcements: { iface: string; address: string }[] = [];
  const phases: SyncPhases = {};
  const driveDir = deps.configDriveDir ?? paths.configDrives();
  const driveFailures = new Map<string, string>();

  // Kernel reads are slow process spawns; start them now so they overlap with
  // parsing and rendering (CPU in this process). Their result is used only if
  // the document turns out to be applicable; they never change anything.
  // Five processes in all: iptables-save, ip6tables-save, ebtables-save, ipset
  // save, and one `ip -batch` of the links with their addresses, netd's routes
  // of both families and its neighbour entries (HostOps.hostReads); four on a
  // kernel without IPv6, where ip6tables-save is not run and the IPv6 routes
  // are taken as none (one probe, no process, answers whether it has IPv6:
  // observe.ts). Plus the private interface's routes when the bridge side is
  // read; less when the IPv6 or the bridge side is deferred, below.
  const ipv6 = host.ipv6Available();
  // The IPv6 side (ip6tables-save, and our IPv6 routes from the `ip` read: one
  // process, which with the routes' own cost a 10,000-instance IPv4-only node
  // ~0.25 s of propagation in bench/propagation.bench.ts) is read early only
  // when the last applied state had IPv6 or the sync is full (the first, a
  // retry, the periodic resync, which sweep any IPv6 leftovers); a state that
  // turns out to need IPv6 reads ip6tables after render (below) and takes its
  // routes from the same `ip` read.
  const readIpv6Early = request.full || previous?.ipv6InUse !== false;
  const ipv6Early = readIpv6Early ? ipv6 : Promise.resolve(false);
  // The bridge's side (ebtables-save, the private interface's routes: two
  // processes, on a loaded 2-CPU machine ~0.1–0.2 s of the way from the
  // document to BIRD's reload in bench/routed-route.bench.ts) likewise: read
  // early only when the last applied state had a bridge or the sync is full.
  // A ROUTED state has none; one that turns out to have a bridge (a switch
  // back to EDGE) reads them after render (below). Neither feeds render: the
  // private routes only plan route moves onto the bridge.
  const readBridgeEarly = request.full || previous?.bridgeInUse !== false;
  // The routed ports' routes and neighbours come with it whatever the mode (observe.ts routedReadNeeded decides whether they are looked at).
  const ip = host.hostReads(EDGENET_ROUTE_PROTOCOL);
  const early: EarlyReads = {
    ip,
    privateRoutes: readBridgeEarly ? readPrivateRoutes(host, config.bridge, config.privateInterface) : Promise.resolve([]),
    ipv6,
    netfilter: observeNetfilter(host, ipv6Early, { ebtables: readBridgeEarly }),
    routes6: observeRoutes6(ip, ipv6Early),
  };
  for (const p of [early.ipv6, early.netfilter, early.routes6, early.ip, early.privateRoutes]) p?.catch(() => undefined);

  try {
    const d = await desiredFromFile(deps, early, phases);
    if (!d.ok) {
      result = d.result;
      error = d.error;
      ids = { ...(d.version !== undefined ? { version: d.version } : {}), ...(d.sequence !== undefined ? { sequence: d.sequence } : {}), ...(d.generation !== undefined ? { generation: d.generation } : {}) };
    } else {
      desired = d.state;
      ids = { version: d.state.version, ...(d.state.sequence !== undefined ? { sequence: d.state.sequence } : {}), ...(d.generation !== undefined ? { generation: d.generation } : {}) };
      const verdict = freshness(ids, { version: applied.appliedVersion, sequence: applied.appliedSequence, generation: applied.appliedGeneration }, 'applied');
      if (!verdict.fresh) {
        result = 'stale-document';
        error = verdict.message;
      } else {
        const drivers = deps.drivers ?? PROCESS_DRIVERS;
        const ipv6Reads =
          !readIpv6Early && ipv6Needs(d.state).length > 0
            ? { ...early, netfilter: withIp6tables(host, early.netfilter as Promise<ObservedNetfilter>, ipv6), routes6: observeRoutes6(ip, ipv6) }
            : early;
        const reads =
          !readBridgeEarly && d.state.bridge !== undefined
            ? {
                ...ipv6Reads,
                netfilter: withEbtables(host, ipv6Reads.netfilter as Promise<ObservedNetfilter>),
                privateRoutes: readPrivateRoutes(host, config.bridge, config.privateInterface),
              }
            : ipv6Reads;
        const plan = await planFor({ host, config, runDir: deps.runDir, desired: d.state, full: request.full, early: reads, phases, drivers, configDriveDir: driveDir });
        const tApply = performance.now();
        notes = [...plan.notes, ...d.state.warnings];
        steps = await applySteps(plan.steps, {
          host,
          runDir: deps.runDir,
          drivers,
          config,
          now: deps.now,
          wait: deps.wait,
          ...(deps.startCheckMs !== undefined ? { startCheckMs: deps.startCheckMs } : {}),
          announce: (iface, address) => announcements.push({ iface, address }),
          configDriveDir: driveDir,
          configDriveFailure: (instance, err) => driveFailures.set(instance, `${err.code}: ${err.message}`),
        });
        phases.apply = Math.round(performance.now() - tApply);
        appliedNow = true;
      }
    }
  } catch (err) {
    result = 'error';
    error = errorMessage(err);
    if (err instanceof ApplyError) {
      steps = [...err.results];
      processFailure = err.details?.processFailure as ProcessFailure | undefined;
    }
  }
  // An instance port the hypervisor removed during the sync: its steps were skipped, the rest applied.
  notes = [...notes, ...vanishedPortNotes(steps)];

  const at = new Date(deps.now()).toISOString();
  const node = desired?.node ?? (nodeName || previous?.node || '');
  const status: NetdStatus = {
    node,
    ...ids,
    ...(appliedNow
      ? { appliedVersion: ids.version, ...(ids.sequence !== undefined ? { appliedSequence: ids.sequence } : {}), ...(ids.generation !== undefined ? { appliedGeneration: ids.generation } : {}), appliedAt: at }
      : applied),
    result,
    at,
    ...(error !== undefined ? { error } : {}),
    trigger: request.trigger,
    steps: steps.map((s) => ({ name: s.description, ms: s.ms, wrote: s.writes > 0 })),
    ...failureField(processFailure, deps.drivers ?? PROCESS_DRIVERS),
    ...(desired?.refused !== undefined ? { refused: desired.refused } : {}),
    ...ipv6InUseField(appliedNow, desired, previous?.ipv6InUse),
    ...bridgeInUseField(appliedNow, desired, previous?.bridgeInUse),
    ...configDrivesField(appliedNow, desired, driveDir, driveFailures, previous?.configDrives),
  };
  const writes = steps.reduce((n, s) => n + s.writes, 0);
  const durationMs = deps.now() - started;
  await writeStatus(host, files, status);
  const event: SyncEvent = {
    at,
    trigger: request.trigger,
    full: request.full,
    ...ids,
    result,
    ...(error !== undefined ? { error } : {}),
    durationMs,
    phases,
    writes,
    steps: steps.map((s) => ({ name: s.name, description: s.description, ms: s.ms, writes: s.writes })),
    ...(desired?.refused !== undefined ? { refused: desired.refused.map((r) => `${r.code}: ${r.subject}`) } : {}),
  };
  await appendEvent(host, files.events, event);
  announceInBackground(host, announcements);
  return { result, status, steps, writes, durationMs, phases, notes, ...(desired ? { desired } : {}), ...(error !== undefined ? { error } : {}) };
}

/** The status's ipv6InUse: what the applied state needs, else what the previous status said (a failed or refused sync changes nothing). */
function ipv6InUseField(appliedNow: boolean, desired: DesiredState | undefined, previous: boolean | undefined): { ipv6InUse?: boolean } {
  if (appliedNow && desired !== undefined) return { ipv6InUse: ipv6Needs(desired).length > 0 };
  return previous === undefined ? {} : { ipv6InUse: previous };
}

/** The status's bridgeInUse: whether the applied state has a bridge, else what the previous status said. */
function bridgeInUseField(appliedNow: boolean, desired: DesiredState | undefined, previous: boolean | undefined): { bridgeInUse?: boolean } {
  if (appliedNow && desired !== undefined) return { bridgeInUse: desired.bridge !== undefined };
  return previous === undefined ? {} : { bridgeInUse: previous };
}

/**
 * The status's configDrives: where each local instance's drive is (directory,
 * ISO) and whether its ISO failed, once a state is applied; else what the
 * previous status said (a failed or refused sync changes nothing on disk that
 * it reports). Absent when the state has no drives (EDGE).
 */
function configDrivesField(
  appliedNow: boolean,
  desired: DesiredState | undefined,
  dir: string,
  failures: ReadonlyMap<string, string>,
  previous: readonly NetdConfigDrive[] | undefined,
): { configDrives?: readonly NetdConfigDrive[] } {
  if (!appliedNow || desired === undefined) return previous === undefined ? {} : { configDrives: previous };
  const drives = desired.configDrives ?? [];
  if (drives.length === 0) return {};
  return {
    configDrives: drives.flatMap((d) => {
      // Render only names drives after checked instance ids; a name that is not one never became a path (the step failed).
      if (!isConfigDriveInstance(d.instance)) return [];
      const layout = configDriveLayout(dir, d.instance);
      const error = failures.get(d.instance);
      return [{ instance: d.instance, directory: layout.directory, ...(error === undefined ? { iso: layout.iso } : { error }) }];
    }),
  };
}
