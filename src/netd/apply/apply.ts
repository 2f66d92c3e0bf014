/**
 * The applier: runs a plan's steps in order through HostOps, timing each and
 * counting writes (one restore call, one `ip` call or one process action is
 * one write). Netfilter steps are single restore transactions, so a failure
 * leaves the previous state of that table in the kernel; the applier stops at
 * the first failed step and throws ApplyError (carrying the tool's stderr and
 * the offending input lines) — the daemon then schedules a full retry.
 * Except: a step on an instance port (`vn_<id>`) that failed because the
 * hypervisor removed the port after observe is recorded as skipped
 * (`vanishedPort`) and the apply goes on (vanished-ports.ts).
 */
import type { Step } from '../plan/steps.ts';
import { describeStep, EDGENET_ROUTE_PROTOCOL } from '../plan/steps.ts';
import { reloadProcess, retireProcess, startProcess, stopProcess, writeProcessFiles, type SupervisorContext } from './supervisor.ts';
import { ipsetDestroyTransaction, ipsetFillTransaction, offendingLines, tableTransaction } from './transactions.ts';
import { EdgenetError, ExecError, assertNever, errorMessage } from '../../shared/errors.ts';
import { removeConfigDrive, writeConfigDrive } from './config-drive.ts';
import type { PortOp } from './host.ts';
import { instancePortOf, vanishedDescription, vanishedPorts, type VanishedPorts } from './vanished-ports.ts';

export interface StepResult {
  readonly name: string;
  readonly description: string;
  readonly ms: number;
  /** Host writes this step issued. */
  readonly writes: number;
  /** Set when the step was skipped: its instance port vanished during the sync (writes 0). */
  readonly vanishedPort?: string;
}

/** One note per instance port whose steps were skipped because it vanished during the sync (the sync's notes). */
export function vanishedPortNotes(results: readonly StepResult[]): string[] {
  const skipped = new Map<string, number>();
  for (const r of results) if (r.vanishedPort !== undefined) skipped.set(r.vanishedPort, (skipped.get(r.vanishedPort) ?? 0) + 1);
  return [...skipped].map(([port, n]) => `port ${port} vanished during the sync; skipped ${n} step${n === 1 ? '' : 's'} on it (the next sync sees it gone)`);
}

/** The host, plus what the supervised-process steps need (run directory, drivers, start check). */
export interface ApplyContext extends SupervisorContext {
  /** Monotonic-ish milliseconds for step timing. */
  readonly now: () => number;
  /**
   * Receives each newly added public address; the caller announces them
   * (gratuitous ARP) after the sync, so a node with 100 new addresses does not
   * wait for 100 process spawns. Default: announce right away.
   */
  readonly announce?: (iface: string, address: string) => void;
  /** ROUTED: netd's config drive directory (config-drive steps only). */
  readonly configDriveDir?: string;
  /**
   * Receives a drive whose ISO could not be built (its files are written):
   * the sync reports it in the status and goes on. Absent: the step fails.
   */
  readonly configDriveFailure?: (instance: string, error: EdgenetError) => void;
}

function driveDir(ctx: ApplyContext): string {
  if (ctx.configDriveDir === undefined) throw new EdgenetError('CONFIG_DRIVE_FAILED', 'no config drive directory given to the applier');
  return ctx.configDriveDir;
}

export class ApplyError extends EdgenetError {
  constructor(
    message: string,
    readonly step: Step,
    readonly results: readonly StepResult[],
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super('APPLY_FAILED', message, options);
    this.name = 'ApplyError';
  }
}

async function restore(run: (text: string) => Promise<void>, text: string, what: string): Promise<void> {
  try {
    await run(text);
  } catch (err) {
    const stderr = err instanceof ExecError ? err.stderr : errorMessage(err);
    const offending = offendingLines(text, stderr);
    throw new EdgenetError('RESTORE_FAILED', `${what} failed: ${stderr.trim().split('\n')[0] ?? ''}${offending.length ? `\n${offending.join('\n')}` : ''}`, {
      cause: err,
      details: { stderr, offending },
    });
  }
}

type AddrStep = Extract<Step, { kind: 'addr-add' | 'addr-del' }>;
type PortStep = Extract<Step, { kind: 'port-addr-add' | 'port-addr-del' | 'port-route-replace' | 'port-route-del' | 'neigh-replace' | 'neigh-del' }>;

/** A routed port's step as a HostOps.changePorts op (routes and neighbours with our protocol). */
function portOp(step: PortStep): PortOp {
  switch (step.kind) {
    case 'port-addr-add':
      return { op: 'addr-add', interface: step.interface, address: step.address, prefixlen: step.prefixlen };
    case 'port-addr-del':
      return { op: 'addr-del', interface: step.interface, address: step.address, prefixlen: step.prefixlen };
    case 'port-route-replace':
      return { op: 'route-replace', address: step.address, dev: step.dev, protocol: EDGENET_ROUTE_PROTOCOL };
    case 'port-route-del':
      return { op: 'route-del', address: step.address, dev: step.dev, protocol: EDGENET_ROUTE_PROTOCOL };
    case 'neigh-replace':
      return { op: 'neigh-replace', address: step.address, dev: step.dev, lladdr: step.lladdr, protocol: EDGENET_ROUTE_PROTOCOL };
    case 'neigh-del':
      return { op: 'neigh-del', address: step.address, dev: step.dev };
    default:
      return assertNever(step, 'port step');
  }
}

/** All address changes of a plan in one `ip -batch`, then an announcement per added address. */
async function changeAddresses(ctx: ApplyContext, steps: readonly AddrStep[]): Promise<void> {
  await ctx.host.changeAddresses(
    steps.map((s) =>
      s.kind === 'addr-add'
        ? { op: 'add' as const, interface: s.interface, address: s.address, ...(s.label ? { label: s.label } : {}) }
        : { op: 'del' as const, interface: s.interface, address: s.address, prefixlen: s.prefixlen },
    ),
  );
  const announce = ctx.announce ?? ((iface: string, address: string) => ctx.host.gratuitousArp(iface, address));
  for (const s of steps) if (s.kind === 'addr-add') announce(s.interface, s.address);
}

/** Runs one step; returns the number of writes. */
async function runStep(step: Step, ctx: ApplyContext): Promise<number> {
  const { host } = ctx;
  switch (step.kind) {
    case 'sysctl-set':
      try {
        await host.writeSysctl(step.key, step.value);
      } catch (err) {
        // An instance port's key exists as long as the port: loading a module (a process spawn) would not bring it back.
        if (instancePortOf(step) !== undefined) throw err;
        // net.bridge.* appears only once br_netfilter is loaded.
        await host.loadModule('br_netfilter');
        await host.writeSysctl(step.key, step.value);
      }
      return 1;
    case 'bridge-create':
      await host.createBridge(step.name, step.mac);
      return 1;
    case 'link-mac':
      await host.setMac(step.name, step.mac);
      return 1;
    case 'node-addr-add':
      await host.changeAddresses([
        { op: 'add', interface: step.interface, address: step.address, prefixlen: step.prefixlen, ...(step.broadcast ? { broadcast: step.broadcast } : {}) },
      ]);
      return 1;
    case 'node-addr-del':
      await host.changeAddresses([{ op: 'del', interface: step.interface, address: step.address, prefixlen: step.prefixlen }]);
      return 1;
    case 'route-move':
      await host.moveRoute(step.route, step.from, step.to);
      return 1;
    case 'link-attach':
      await host.setMaster(step.name, step.bridge);
      return 1;
    case 'link-up':
      await host.setUp(step.name);
      return 1;
    case 'link-hairpin':
      await host.setHairpin(step.name);
      return 1;
    case 'ipset-write':
      // New sets first, then the refills: one restore input, one process.
      await restore((t) => host.ipsetRestore(t), ipsetFillTransaction([...step.create, ...step.refill.map((s) => s.set)]), 'ipset restore');
      return 1;
    case 'iptables-write':
      await restore((t) => host.iptablesRestore(t), tableTransaction('iptables', step.write), `iptables-restore ${step.write.table}`);
      return 1;
    case 'ip6tables-write':
      await restore((t) => host.ip6tablesRestore(t), tableTransaction('ip6tables', step.write), `ip6tables-restore ${step.write.table}`);
      return 1;
    case 'ebtables-write':
      await restore((t) => host.ebtablesRestore(t), tableTransaction('ebtables', step.write), `ebtables-restore ${step.write.table}`);
      return 1;
    case 'ipset-destroy':
      await restore((t) => host.ipsetRestore(t), ipsetDestroyTransaction(step.names), 'ipset restore (destroy)');
      return 1;
    case 'addr-add':
    case 'addr-del':
      await changeAddresses(ctx, [step]);
      return 1;
    case 'route6-replace':
      await host.replaceRoute6(step.prefix, step.dev, EDGENET_ROUTE_PROTOCOL);
      return 1;
    case 'route6-del':
      await host.deleteRoute6(step.prefix, step.dev, EDGENET_ROUTE_PROTOCOL);
      return 1;
    case 'link-nomaster':
      await host.setNoMaster(step.name);
      return 1;
    case 'port-addr-add':
    case 'port-addr-del':
    case 'port-route-replace':
    case 'port-route-del':
    case 'neigh-replace':
    case 'neigh-del':
      await host.changePorts([portOp(step)]);
      return 1;
    case 'arp-announce': {
      // Best effort and in the background, like the announcement of a new public /32.
      const announce = ctx.announce ?? ((iface: string, address: string) => host.gratuitousArp(iface, address));
      for (const a of step.addresses) announce(step.interface, a);
      return 1;
    }
    case 'process-write-config':
      await writeProcessFiles(ctx, step.process, step.files);
      return 1;
    case 'process-start':
      await startProcess(ctx, step.process, step.interfaces);
      return 1;
    case 'process-reload':
      await reloadProcess(ctx, step.process, step.pid, step.signal);
      return 1;
    case 'process-restart':
      await stopProcess(ctx, step.process, step.pid);
      await startProcess(ctx, step.process, step.interfaces);
      return 1;
    case 'process-stop':
      await retireProcess(ctx, step.process, step.pid);
      return 1;
    case 'config-drive-write': {
      const failure = await writeConfigDrive(host, driveDir(ctx), step.drive, step.hash);
      if (failure !== undefined) {
        if (ctx.configDriveFailure === undefined) throw failure;
        ctx.configDriveFailure(step.drive.instance, failure);
      }
      return 1;
    }
    case 'config-drive-remove':
      await removeConfigDrive(host, driveDir(ctx), step.instance);
      return 1;
    default:
      return assertNever(step, 'plan step');
  }
}

type TableStep = Extract<Step, { kind: 'iptables-write' | 'ip6tables-write' | 'ebtables-write' }>;

function isTable(s: Step | undefined): s is TableStep {
  return s !== undefined && (s.kind === 'iptables-write' || s.kind === 'ip6tables-write' || s.kind === 'ebtables-write');
}

function isAddr(s: Step | undefined): s is AddrStep {
  return s !== undefined && (s.kind === 'addr-add' || s.kind === 'addr-del');
}

const PORT_KINDS: ReadonlySet<Step['kind']> = new Set(['port-addr-add', 'port-addr-del', 'port-route-replace', 'port-route-del', 'neigh-replace', 'neigh-del']);

function isPort(s: Step | undefined): s is PortStep {
  return s !== undefined && PORT_KINDS.has(s.kind);
}

function skippedResult(name: string, port: string, what: string, ms: number): StepResult {
  return { name, description: vanishedDescription(port, what), ms, writes: 0, vanishedPort: port };
}

/**
 * One run of routed port steps as one `ip -batch`, its result appended to
 * `results`. Ops on a port already found gone are skipped up front; when the
 * batch fails and some of its ports are gone now, their ops are skipped and
 * the rest runs once more (every op is idempotent: replace, flush, a delete
 * of what is gone is no failure). A failure with every port there, or of the
 * second run, throws ApplyError as any failed step.
 */
async function applyPortBatch(batch: readonly PortStep[], ctx: ApplyContext, vanished: VanishedPorts, results: StepResult[], started: number): Promise<void> {
  /** The steps whose port is not `gone`; the others are recorded as skipped, one result per port. */
  const skip = (list: readonly PortStep[], gone: (port: string) => boolean): PortStep[] => {
    const skipped = new Map<string, PortStep[]>();
    const kept: PortStep[] = [];
    for (const s of list) {
      const port = instancePortOf(s);
      if (port !== undefined && gone(port)) skipped.set(port, [...(skipped.get(port) ?? []), s]);
      else kept.push(s);
    }
    for (const [port, theirs] of skipped) results.push(skippedResult('routed-ports', port, theirs.map(describeStep).join('; '), ctx.now() - started));
    return kept;
  };
  let live = skip(batch, (port) => vanished.gone(port));
  if (live.length === 0) return;
  try {
    try {
      await ctx.host.changePorts(live.map(portOp));
    } catch (err) {
      const now = await vanished.check(new Set(live.map(instancePortOf).filter((p) => p !== undefined)));
      if (now.size === 0) throw err;
      live = skip(live, (port) => now.has(port));
      if (live.length === 0) return;
      await ctx.host.changePorts(live.map(portOp));
    }
  } catch (err) {
    results.push({ name: 'routed-ports', description: `routed ports: ${live.map(describeStep).join('; ')}`, ms: ctx.now() - started, writes: 0 });
    throw new ApplyError(`routed ports: ${errorMessage(err)}`, live[0]!, results, { cause: err });
  }
  results.push({ name: 'routed-ports', description: `routed ports: ${live.map(describeStep).join('; ')}`, ms: ctx.now() - started, writes: 1 });
}

export async function applySteps(steps: readonly Step[], ctx: ApplyContext): Promise<StepResult[]> {
  const results: StepResult[] = [];
  const vanished = vanishedPorts(ctx.host);
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    const started = ctx.now();
    if (isTable(step) && isTable(steps[i + 1])) {
      // iptables, ip6tables and ebtables filter/nat are independent kernel tables:
      // their transactions run side by side (each is still atomic on its own).
      const group: TableStep[] = [];
      while (isTable(steps[i])) group.push(steps[i++] as TableStep);
      i -= 1;
      const settled = await Promise.allSettled(
        group.map(async (g) => {
          const t0 = ctx.now();
          await runStep(g, ctx);
          return ctx.now() - t0;
        }),
      );
      let failed: { step: TableStep; err: unknown } | undefined;
      settled.forEach((r, k) => {
        const g = group[k]!;
        if (r.status === 'fulfilled') results.push({ name: g.kind, description: describeStep(g), ms: r.value, writes: 1 });
        else {
          results.push({ name: g.kind, description: describeStep(g), ms: ctx.now() - started, writes: 0 });
          failed ??= { step: g, err: r.reason };
        }
      });
      if (failed) {
        const err = failed.err;
        const code = err instanceof EdgenetError ? err.code : 'INTERNAL';
        throw new ApplyError(`${describeStep(failed.step)}: ${code}: ${errorMessage(err)}`, failed.step, results, {
          cause: err,
          ...(err instanceof EdgenetError && err.details ? { details: err.details } : {}),
        });
      }
      continue;
    }
    if (isAddr(step)) {
      // Consecutive address steps (the planner emits them together) are one write.
      const batch: AddrStep[] = [];
      while (isAddr(steps[i])) batch.push(steps[i++] as AddrStep);
      i -= 1;
      const description = batch.map(describeStep).join('; ');
      try {
        await changeAddresses(ctx, batch);
      } catch (err) {
        results.push({ name: 'addresses', description, ms: ctx.now() - started, writes: 0 });
        throw new ApplyError(`addresses: ${errorMessage(err)}`, step, results, { cause: err });
      }
      results.push({ name: 'addresses', description, ms: ctx.now() - started, writes: 1 });
      continue;
    }
    if (isPort(step) && isPort(steps[i + 1])) {
      // The routed ports' addresses, routes and neighbours of a plan (planned as one run) are one `ip -batch`: one write.
      const batch: PortStep[] = [];
      while (isPort(steps[i])) batch.push(steps[i++] as PortStep);
      i -= 1;
      await applyPortBatch(batch, ctx, vanished, results, started);
      continue;
    }
    const port = instancePortOf(step);
    if (port !== undefined && vanished.gone(port)) {
      results.push(skippedResult(step.kind, port, describeStep(step), ctx.now() - started));
      continue;
    }
    try {
      const writes = await runStep(step, ctx);
      results.push({ name: step.kind, description: describeStep(step), ms: ctx.now() - started, writes });
    } catch (err) {
      if (port !== undefined && (await vanished.check([port])).has(port)) {
        results.push(skippedResult(step.kind, port, describeStep(step), ctx.now() - started));
        continue;
      }
      results.push({ name: step.kind, description: describeStep(step), ms: ctx.now() - started, writes: 0 });
      const code = err instanceof EdgenetError ? err.code : 'INTERNAL';
      throw new ApplyError(`${describeStep(step)}: ${code}: ${errorMessage(err)}`, step, results, {
        cause: err,
        ...(err instanceof EdgenetError && err.details ? { details: err.details } : {}),
      });
    }
  }
  return results;
}
