/**
 * Stopping and starting one lab daemon (the e2e tests restart a node's netd
 * while changes happen; an operator can do the same by hand). The daemon's
 * command line comes from the plan (daemons.ts), so a restarted daemon is the
 * same as the one `up` started; the state file is updated either way.
 */
import { EdgenetError } from '../shared/errors.ts';
import { systemClock } from '../shared/clock.ts';
import { openTopology } from './topology.ts';
import { ccSpec, clcSpec, ncSpec, netdSpec, type DaemonSpec } from './daemons.ts';
import { writeLabState, type LabProcess, type LabRole, type LabState } from './state.ts';
import { startDaemon, type LabDeps } from './up.ts';
import { processMatches } from './down.ts';
import { waitFor } from '../shared/wait.ts';

export interface DaemonSelector {
  readonly role: Extract<LabRole, 'clc' | 'cc' | 'nc' | 'netd'>;
  /** Lab-local node (n1, n2) for nc and netd. */
  readonly node?: string;
  /** CLC_ID (clc-1, clc-2) of a two-CLC lab's CLC (`lab up --db postgres`): required there. */
  readonly clc?: string;
}

function specFor(state: LabState, sel: DaemonSelector, deps: Pick<LabDeps, 'exec'>): DaemonSpec {
  const topo = openTopology(state.plan.topology, deps);
  const ctlNs = topo.ctlNs!;
  switch (sel.role) {
    case 'clc':
      return clcSpec(state.plan, ctlNs, state.plan.clcs?.find((c) => c.id === sel.clc));
    case 'cc':
      return ccSpec(state.plan, ctlNs);
    case 'nc':
    case 'netd': {
      const node = state.plan.nodes.find((n) => n.short === sel.node);
      if (!node) throw new EdgenetError('LAB_UNKNOWN_NODE', `lab ${state.plan.name} has no node ${sel.node ?? '(none given)'}`);
      return sel.role === 'nc' ? ncSpec(state.plan, node, topo.nodeNs(node.short)) : netdSpec(state.plan, node, topo.nodeNs(node.short));
    }
  }
}

const matches = (p: LabProcess, sel: DaemonSelector) => p.role === sel.role && (sel.node === undefined || p.node === sel.node) && (sel.clc === undefined || p.clc === sel.clc);

const label = (sel: DaemonSelector) => sel.clc ?? `${sel.role}${sel.node ? ` on ${sel.node}` : ''}`;
const needles = (entry: LabProcess) => [entry.argv[1] ?? 'edgenet', entry.argv[2] ?? ''];

/** True when the state's entry for `sel` is a live process that is still our daemon (pids are reused). */
export async function labDaemonAlive(state: LabState, sel: DaemonSelector): Promise<{ entry?: LabProcess; alive: boolean }> {
  checkSelector(state, sel);
  const entry = state.processes.find((p) => matches(p, sel));
  return { ...(entry ? { entry } : {}), alive: entry ? await processMatches(entry.pid, needles(entry)) : false };
}

function checkSelector(state: LabState, sel: DaemonSelector): void {
  const clcs = state.plan.clcs?.map((c) => c.id);
  if (sel.role === 'clc' && clcs && (sel.clc === undefined || !clcs.includes(sel.clc))) {
    throw new EdgenetError('LAB_UNKNOWN_CLC', `lab ${state.plan.name} runs ${clcs.join(' and ')}${sel.clc ? `, not ${sel.clc}` : ''}: name one (edgenet lab clc kill|start ${clcs.join('|')})`);
  }
  if (sel.role === 'clc' && !clcs && sel.clc !== undefined) {
    throw new EdgenetError('LAB_UNKNOWN_CLC', `lab ${state.plan.name} runs one CLC (SQLite): no ${sel.clc}; it is "clc"`);
  }
  if ((sel.role === 'nc' || sel.role === 'netd') && !state.plan.nodes.some((n) => n.short === sel.node)) {
    const known = state.plan.nodes.map((n) => n.short).join(', ');
    throw new EdgenetError('LAB_UNKNOWN_NODE', `lab ${state.plan.name} has no node ${sel.node ?? '(none given: --node)'}; nodes: ${known}`);
  }
}

/**
 * Stops the daemon and waits until it is gone: SIGKILL by default (a crash);
 * with SIGTERM (an orderly stop) it escalates to SIGKILL after `graceMs`.
 * A daemon that already died is only removed from the state file.
 */
export async function labStopDaemon(state: LabState, sel: DaemonSelector, options: { signal?: NodeJS.Signals; graceMs?: number } = {}): Promise<LabState> {
  checkSelector(state, sel);
  const { entry, alive } = await labDaemonAlive(state, sel);
  if (!entry) throw new EdgenetError('LAB_DAEMON_NOT_RUNNING', `${label(sel)} is not running in lab ${state.plan.name}`);
  if (alive) {
    const gone = async () => !(await processMatches(entry.pid, needles(entry)));
    const signal = options.signal ?? 'SIGKILL';
    process.kill(entry.pid, signal);
    try {
      await waitFor(gone, { timeoutMs: signal === 'SIGKILL' ? 10_000 : (options.graceMs ?? 10_000), intervalMs: 50, what: `${sel.role} pid ${entry.pid} to exit`, clock: systemClock });
    } catch (err) {
      if (signal === 'SIGKILL') throw err;
      process.kill(entry.pid, 'SIGKILL');
      await waitFor(gone, { timeoutMs: 10_000, intervalMs: 50, what: `${sel.role} pid ${entry.pid} to exit after SIGKILL`, clock: systemClock });
    }
  }
  const next: LabState = { ...state, processes: state.processes.filter((p) => p !== entry) };
  await writeLabState(next);
  return next;
}

/** Starts the daemon again with the plan's command line (a dead entry for it is replaced). */
export async function labStartDaemon(state: LabState, sel: DaemonSelector, deps: Pick<LabDeps, 'exec'>): Promise<LabState> {
  checkSelector(state, sel);
  const { entry, alive } = await labDaemonAlive(state, sel);
  if (alive) throw new EdgenetError('LAB_DAEMON_RUNNING', `${label(sel)} is already running (pid ${entry!.pid})`);
  const started = await startDaemon(specFor(state, sel, deps), deps.exec);
  const next: LabState = { ...state, processes: [...state.processes.filter((p) => p !== entry), started.entry] };
  await writeLabState(next);
  return next;
}
