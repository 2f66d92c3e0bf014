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
}

function specFor(state: LabState, sel: DaemonSelector, deps: Pick<LabDeps, 'exec'>): DaemonSpec {
  const topo = openTopology(state.plan.topology, deps);
  const ctlNs = topo.ctlNs!;
  switch (sel.role) {
    case 'clc':
      return clcSpec(state.plan, ctlNs);
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

const matches = (p: LabProcess, sel: DaemonSelector) => p.role === sel.role && (sel.node === undefined || p.node === sel.node);

/** Stops the daemon (SIGKILL by default: a crash) and waits until it is gone. */
export async function labStopDaemon(state: LabState, sel: DaemonSelector, options: { signal?: NodeJS.Signals } = {}): Promise<LabState> {
  const entry = state.processes.find((p) => matches(p, sel));
  if (!entry) throw new EdgenetError('LAB_UNKNOWN_DAEMON', `lab ${state.plan.name} has no ${sel.role}${sel.node ? ` on ${sel.node}` : ''}`);
  // The pid must still be our daemon (pids are reused).
  if (await processMatches(entry.pid, [entry.argv[1] ?? 'edgenet', entry.argv[2] ?? ''])) {
    process.kill(entry.pid, options.signal ?? 'SIGKILL');
    await waitFor(async () => !(await processMatches(entry.pid, [entry.argv[1] ?? 'edgenet'])), { timeoutMs: 10_000, intervalMs: 50, what: `${sel.role} pid ${entry.pid} to exit`, clock: systemClock });
  }
  const next: LabState = { ...state, processes: state.processes.filter((p) => p !== entry) };
  await writeLabState(next);
  return next;
}

/** Starts the daemon again with the plan's command line. */
export async function labStartDaemon(state: LabState, sel: DaemonSelector, deps: Pick<LabDeps, 'exec'>): Promise<LabState> {
  if (state.processes.some((p) => matches(p, sel))) throw new EdgenetError('LAB_DAEMON_RUNNING', `${sel.role}${sel.node ? ` on ${sel.node}` : ''} is already running`);
  const { entry } = await startDaemon(specFor(state, sel, deps), deps.exec);
  const next: LabState = { ...state, processes: [...state.processes, entry] };
  await writeLabState(next);
  return next;
}
