/**
 * The supervisor of netd's daemons (dhcpd, ...), the same for every kind;
 * the per-kind details come from its driver (process-driver.ts, registry in
 * drivers.ts). No private memory: a process's configuration, pid and log live
 * in the run directory, and a running process is found again (after a netd
 * restart or kill -9) through its pid file and /proc/<pid>/cmdline, checked by
 * the driver, so a recycled pid is never adopted.
 */
import { DEFAULT_NETD_CONFIG, type NetdConfig } from '../config.ts';
import type { ProcessFile, SupervisedProcess } from '../render/types.ts';
import type { ObservedProcess } from '../plan/observed.ts';
import { EdgenetError } from '../../shared/errors.ts';
import type { HostOps } from './host.ts';
import { PROCESS_DRIVERS, type DriverRegistry } from './drivers.ts';
import { processLayout, type ProcessDriver, type ProcessLayout } from './process-driver.ts';

export interface SupervisorContext {
  readonly host: HostOps;
  /** netd's run directory: every process keeps its files in `<runDir>/netd/`. */
  readonly runDir: string;
  /** Default: PROCESS_DRIVERS. */
  readonly drivers?: DriverRegistry;
  /** Drivers take their binaries from it (VNET_DHCPDAEMON). Default: DEFAULT_NETD_CONFIG. */
  readonly config?: NetdConfig;
  /** Waits (stop, start check). Unit tests pass a no-op. */
  readonly wait: (ms: number) => Promise<void>;
  /** How long after a start to check the process is still alive (0 or absent: no check). */
  readonly startCheckMs?: number;
}

/** Why a process exited right after start, as carried in the ApplyError's details. */
export interface ProcessFailure {
  readonly kind: string;
  readonly reason: string;
  readonly log: string;
}

function driverFor(drivers: DriverRegistry, kind: string): ProcessDriver {
  const d = drivers.get(kind);
  if (d === undefined) throw new EdgenetError('PROCESS_DRIVER_MISSING', `no driver for supervised process kind ${kind} (src/netd/apply/drivers.ts)`);
  return d;
}

function resolve(ctx: SupervisorContext, kind: string): { driver: ProcessDriver; layout: ProcessLayout } {
  return { driver: driverFor(ctx.drivers ?? PROCESS_DRIVERS, kind), layout: processLayout(ctx.runDir, kind) };
}

/** Pid of our live process of this kind, or undefined. */
export async function findProcess(host: HostOps, driver: ProcessDriver, layout: ProcessLayout): Promise<number | undefined> {
  const text = await host.readFile(layout.pid);
  const pid = text === undefined ? NaN : Number.parseInt(text.trim(), 10);
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  const argv = await host.processArgv(pid);
  return argv !== undefined && driver.owns(argv, layout) ? pid : undefined;
}

/**
 * Every kind with a driver, as the host has it: its live pid and the content
 * of its configuration files (the driver's, plus any the desired entry names).
 */
export async function observeProcesses(
  host: HostOps,
  options: { readonly runDir: string; readonly drivers?: DriverRegistry; readonly desired?: readonly SupervisedProcess[] },
): Promise<Map<string, ObservedProcess>> {
  const drivers = options.drivers ?? PROCESS_DRIVERS;
  const entries = await Promise.all(
    [...drivers.values()].map(async (driver): Promise<[string, ObservedProcess]> => {
      const layout = processLayout(options.runDir, driver.kind);
      const desired = options.desired?.find((p) => p.kind === driver.kind)?.files ?? [];
      const names = [...new Set([...driver.configFiles, ...desired.map((f) => f.name)])];
      // Modes only of the files that want one (one stat each, no process).
      const withMode = desired.filter((f) => f.mode !== undefined).map((f) => f.name);
      const [contents, pid, fileModes] = await Promise.all([
        Promise.all(names.map((n) => host.readFile(layout.file(n)))),
        findProcess(host, driver, layout),
        Promise.all(withMode.map((n) => host.fileMode(layout.file(n)))),
      ]);
      const files = new Map<string, string>();
      names.forEach((n, i) => {
        const c = contents[i];
        if (c !== undefined) files.set(n, c);
      });
      const modes = new Map<string, number>();
      withMode.forEach((n, i) => {
        const m = fileModes[i];
        if (m !== undefined) modes.set(n, m);
      });
      return [driver.kind, { files, ...(modes.size > 0 ? { modes } : {}), ...(pid !== undefined ? { pid } : {}) }];
    }),
  );
  return new Map(entries);
}

export async function writeProcessFiles(ctx: SupervisorContext, kind: string, files: readonly ProcessFile[]): Promise<void> {
  const { layout } = resolve(ctx, kind);
  await ctx.host.mkdirp(layout.dir);
  for (const f of files) await ctx.host.writeFile(layout.file(f.name), f.content, f.mode);
}

/**
 * The driver's own check of its written configuration (`radvd -c`), if it has
 * one. A refusal removes the refused files, so the next sync writes and checks
 * them again (and reports again) instead of finding them unchanged.
 */
async function checkConfig(ctx: SupervisorContext, kind: string, driver: ProcessDriver, layout: ProcessLayout): Promise<void> {
  if (driver.checkArgv === undefined) return;
  const argv = driver.checkArgv({ config: ctx.config ?? DEFAULT_NETD_CONFIG, layout });
  const verdict = await ctx.host.runCheck(argv);
  if (verdict.ok) return;
  for (const name of driver.configFiles) await ctx.host.removeFile(layout.file(name));
  const reason = driver.failureReason?.(verdict.output) ?? (verdict.output.trim() || 'no output');
  throw new EdgenetError('PROCESS_CONFIG_REFUSED', `${kind}: ${argv.join(' ')} refused the configuration: ${reason}`);
}

export async function startProcess(ctx: SupervisorContext, kind: string, interfaces: readonly string[]): Promise<void> {
  const { host } = ctx;
  const { driver, layout } = resolve(ctx, kind);
  await host.mkdirp(layout.dir);
  await checkConfig(ctx, kind, driver, layout);
  await driver.prepare?.(host, layout);
  const pid = await host.startDaemon(driver.argv({ config: ctx.config ?? DEFAULT_NETD_CONFIG, layout, interfaces }), layout.log);
  // The daemon writes the same pid itself; writing it now closes the window before it does.
  await host.writeFile(layout.pid, `${pid}\n`);
  const check = ctx.startCheckMs ?? 0;
  if (check > 0) {
    await ctx.wait(check);
    if ((await findProcess(host, driver, layout)) === undefined) {
      const log = (await host.readFile(layout.log)) ?? '';
      const reason = driver.failureReason?.(log) ?? 'its log gives no reason';
      const failure: ProcessFailure = { kind, reason, log: layout.log };
      throw new EdgenetError(driver.diedCode, `${kind} exited right after start: ${reason} (${layout.log})`, { details: { processFailure: failure } });
    }
  }
}

/** SIGTERM, up to 3 s for it to go, then SIGKILL; the pid file goes with it. */
export async function stopProcess(ctx: SupervisorContext, kind: string, pid: number): Promise<void> {
  const { layout } = resolve(ctx, kind);
  await ctx.host.kill(pid, 'SIGTERM');
  for (let i = 0; i < 30; i++) {
    if ((await ctx.host.processArgv(pid)) === undefined) break;
    await ctx.wait(100);
  }
  if ((await ctx.host.processArgv(pid)) !== undefined) await ctx.host.kill(pid, 'SIGKILL');
  await ctx.host.removeFile(layout.pid);
}

/** Stopped for good: its configuration files go too, so the next start begins from fresh ones. */
export async function retireProcess(ctx: SupervisorContext, kind: string, pid: number): Promise<void> {
  const { driver, layout } = resolve(ctx, kind);
  await stopProcess(ctx, kind, pid);
  for (const name of driver.configFiles) await ctx.host.removeFile(layout.file(name));
}

/** A signal reload (the process keeps its pid); the driver's check runs first, since a daemon may exit on a configuration it cannot read. */
export async function reloadProcess(ctx: SupervisorContext, kind: string, pid: number, signal: NodeJS.Signals): Promise<void> {
  const { driver, layout } = resolve(ctx, kind);
  await checkConfig(ctx, kind, driver, layout);
  await ctx.host.kill(pid, signal);
}
