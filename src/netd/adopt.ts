/**
 * `edgenet netd adopt`: takes a node over from eucanetd. Reads eucanetd's
 * footprint (eucanetd-footprint.ts) and the host, plans one netd sync that
 * also removes eucanetd's artifacts (adopt-plan.ts: the order and why it
 * leaves no window without filtering), applies it through the sync's applier,
 * then runs an ordinary sync that must find nothing to do and records the
 * status file the node controller reads.
 *
 * Nothing changes when the document is missing or cannot be rendered (taking
 * eucanetd's rules away without laying ours down would open the node), when
 * eucanetd still runs, or when admin rules sit in its user-hook chains
 * (unless discarded explicitly). `dryRun` reports the footprint and the steps
 * and changes nothing.
 */
import type { HostOps } from './apply/host.ts';
import { netdNames } from './names.ts';
import { addressLabel, desiredFromFile, syncOnce, type SyncDeps, type SyncOutcome } from './sync.ts';
import { observeHost } from './apply/observe.ts';
import { applySteps, type StepResult } from './apply/apply.ts';
import { PROCESS_DRIVERS } from './apply/drivers.ts';
import { parseEbtablesSave, parseIpsetSave, parseIptablesSave } from './netfilter/index.ts';
import type { Step } from './plan/steps.ts';
import { describeAdoptStep, planAdopt, type AdoptStep } from './adopt-plan.ts';
import { eucanetdPaths, findFootprint, isEucanetdDhcpd, type EucanetdFootprint, type LiveProcess } from './eucanetd-footprint.ts';
import { EdgenetError, ExecError, errorMessage } from '../shared/errors.ts';

/** What a sync needs, plus where eucanetd keeps its pid files. */
export interface AdoptDeps extends SyncDeps {
  /** eucalyptus.conf's EUCALYPTUS: where eucanetd keeps its pid files ('/' by default). */
  readonly eucalyptusRoot: string;
}

export interface AdoptRequest {
  readonly dryRun: boolean;
  readonly discardUserRules: boolean;
}

export interface AdoptReport {
  readonly footprint: EucanetdFootprint;
  /** Every step, in order (what --dry-run prints). */
  readonly steps: readonly string[];
  readonly notes: readonly string[];
  /** Steps applied with their duration (absent on a dry run). */
  readonly applied?: readonly StepResult[];
  /** Why adopt would refuse (dry run only; a real run throws instead). */
  readonly refusal?: { readonly code: string; readonly message: string };
  /** The sync run after the switch (absent on a dry run). */
  readonly sync?: Pick<SyncOutcome, 'result' | 'writes' | 'error'>;
}

/** How long eucanetd's dhcpd gets to exit on SIGTERM before SIGKILL. */
const DHCPD_STOP_MS = 5000;

async function liveProcess(host: HostOps, pidFile: string): Promise<LiveProcess | undefined> {
  const text = await host.readFile(pidFile).catch(() => undefined);
  const pid = Number.parseInt(text?.trim() ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  const argv = await host.processArgv(pid);
  return argv === undefined ? undefined : { pid, argv };
}

async function stopDhcpd(deps: AdoptDeps, pid: number): Promise<void> {
  const paths = eucanetdPaths(deps.eucalyptusRoot);
  // Re-check right before the signal: the pid must still be eucanetd's dhcpd.
  const still = async () => {
    const argv = await deps.host.processArgv(pid);
    return argv !== undefined && isEucanetdDhcpd(argv, paths);
  };
  if (!(await still())) return;
  await deps.host.kill(pid, 'SIGTERM');
  for (let waited = 0; waited < DHCPD_STOP_MS; waited += 50) {
    if (!(await still())) return;
    await deps.wait(50);
  }
  await deps.host.kill(pid, 'SIGKILL');
  for (let waited = 0; waited < 2000; waited += 50) {
    if (!(await still())) return;
    await deps.wait(50);
  }
  throw new EdgenetError('ADOPT_DHCPD_STUCK', `eucanetd's dhcpd (pid ${pid}) did not exit after SIGKILL`);
}

async function applyAdopt(deps: AdoptDeps, steps: readonly AdoptStep[]): Promise<StepResult[]> {
  const results: StepResult[] = [];
  const ctx = {
    host: deps.host,
    runDir: deps.runDir,
    drivers: deps.drivers ?? PROCESS_DRIVERS,
    config: deps.config,
    now: deps.now,
    wait: deps.wait,
    ...(deps.startCheckMs !== undefined ? { startCheckMs: deps.startCheckMs } : {}),
  };
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    if (s.kind === 'sync') {
      // Consecutive sync steps go to the sync's applier together (it batches
      // address changes), except the table transactions: the applier runs
      // those side by side, and with eucanetd's chains being deleted an
      // ebtables-nft restore failed at COMMIT (empty error) in one run out of
      // five when another table committed at the same moment. One at a time,
      // each still atomic; between two of them every table holds a complete
      // rule set (eucanetd's or ours).
      const run: Step[] = [];
      while (steps[i]?.kind === 'sync') run.push((steps[i++] as Extract<AdoptStep, { kind: 'sync' }>).step);
      i -= 1;
      let chunk: Step[] = [];
      for (const step of run) {
        if (step.kind === 'iptables-write' || step.kind === 'ip6tables-write' || step.kind === 'ebtables-write') {
          if (chunk.length > 0) results.push(...(await applySteps(chunk, ctx)));
          chunk = [];
          results.push(...(await applySteps([step], ctx)));
        } else chunk.push(step);
      }
      if (chunk.length > 0) results.push(...(await applySteps(chunk, ctx)));
      continue;
    }
    const t0 = deps.now();
    if (s.kind === 'iptables-remove') {
      try {
        await deps.host.iptablesRestore(s.text);
      } catch (err) {
        const stderr = err instanceof ExecError ? err.stderr : errorMessage(err);
        throw new EdgenetError('RESTORE_FAILED', `iptables-restore ${s.table} (eucanetd's chains) failed: ${stderr.trim()}`, { cause: err });
      }
    } else {
      await stopDhcpd(deps, s.pid);
    }
    results.push({ name: s.kind, description: describeAdoptStep(s), ms: deps.now() - t0, writes: 1 });
  }
  return results;
}

export async function adoptNode(deps: AdoptDeps, request: AdoptRequest): Promise<AdoptReport> {
  const { host, config } = deps;
  const d = await desiredFromFile(deps);
  if (!d.ok) throw new EdgenetError('ADOPT_NO_DOCUMENT', `cannot take the node over without a usable document (${d.result}): ${d.error}`);
  const paths = eucanetdPaths(deps.eucalyptusRoot);
  const drivers = deps.drivers ?? PROCESS_DRIVERS;
  const [observed, ipAll, ebAll, sets, dhcpd, eucanetd] = await Promise.all([
    observeHost(host, {
      sysctlKeys: d.state.sysctls.map((s) => s.key),
      publicInterface: d.state.publicAddresses.interface,
      runDir: deps.runDir,
      drivers,
      processes: d.state.processes,
      bridge: config.bridge,
      privateInterface: config.privateInterface,
    }),
    host.iptablesSave(),
    host.ebtablesSave(),
    host.ipsetSave(),
    liveProcess(host, paths.dhcpdPid),
    liveProcess(host, paths.eucanetdPid),
  ]);
  const footprint = findFootprint({
    iptables: parseIptablesSave(ipAll),
    ebtables: parseEbtablesSave(ebAll),
    ipsets: [...parseIpsetSave(sets).keys()],
    paths,
    ...(dhcpd ? { dhcpd } : {}),
    ...(eucanetd ? { eucanetd } : {}),
  });
  const label = addressLabel(d.state.publicAddresses.interface);
  const verdict = planAdopt(d.state, observed, footprint, {
    isOurs: netdNames(config.prefix).isOurs,
    ...(label ? { addressLabel: label } : {}),
    bridgeMac: config.bridgeMac,
    discardUserRules: request.discardUserRules,
  });
  const report = { footprint, steps: verdict.plan.steps.map(describeAdoptStep), notes: [...verdict.plan.notes] };
  if (request.dryRun) return verdict.ok ? report : { ...report, refusal: { code: verdict.code, message: verdict.message } };
  if (!verdict.ok) throw new EdgenetError(verdict.code, verdict.message);
  const applied = await applyAdopt(deps, verdict.plan.steps);
  const sync = await syncOnce(deps, { trigger: 'adopt', full: true });
  return { ...report, applied, sync: { result: sync.result, writes: sync.writes, ...(sync.error !== undefined ? { error: sync.error } : {}) } };
}
