/**
 * `edgenet lab stop|kill|start|restart <daemon> [--node N]`: one daemon of a
 * running lab, for operators and tests (which used to call restart.ts
 * directly). `stop` is orderly (SIGTERM, SIGKILL after 10 s), `kill` is a
 * crash (SIGKILL), `start` runs the plan's command line again, `restart` is
 * stop + start. The state file is updated, so `lab status` and `lab down`
 * see the new pid.
 */
import { UserError } from '../shared/errors.ts';
import type { LabState } from './state.ts';
import type { LabDeps } from './up.ts';
import { labDaemonAlive, labStartDaemon, labStopDaemon, type DaemonSelector } from './restart.ts';

export type LabDaemonActionName = 'stop' | 'kill' | 'start' | 'restart';

export const LAB_DAEMON_ACTIONS: readonly { name: LabDaemonActionName; description: string }[] = [
  { name: 'stop', description: 'stop (SIGTERM, then SIGKILL after 10 s)' },
  { name: 'kill', description: 'kill (SIGKILL: a crash)' },
  { name: 'start', description: 'start again (the same command line as `lab up`)' },
  { name: 'restart', description: 'stop (SIGTERM) and start' },
];

const DAEMONS = ['clc', 'cc', 'nc', 'netd'] as const;

/** `daemon` + `--node` from the command line; refuses unknown daemons and a node where none applies. */
export function parseDaemonSelector(daemon: string, node: string | undefined): DaemonSelector {
  if (!(DAEMONS as readonly string[]).includes(daemon)) throw new UserError('LAB_UNKNOWN_DAEMON', `unknown daemon "${daemon}"; one of ${DAEMONS.join(', ')}`);
  const role = daemon as DaemonSelector['role'];
  const perNode = role === 'nc' || role === 'netd';
  if (perNode && !node) throw new UserError('LAB_NODE_REQUIRED', `${role} runs on every node: name one with --node (n1, n2, …)`);
  if (!perNode && node) throw new UserError('LAB_NODE_UNEXPECTED', `${role} runs once per lab: --node does not apply`);
  return { role, ...(node ? { node } : {}) };
}

export interface LabDaemonActionResult {
  readonly lab: string;
  readonly action: LabDaemonActionName;
  readonly daemon: DaemonSelector['role'];
  readonly node?: string;
  /** The CLC (clc-1, clc-2) of a two-CLC lab. */
  readonly clc?: string;
  /** Pid before the action, when the daemon was running. */
  readonly previousPid?: number;
  /** Pid after it (start, restart). */
  readonly pid?: number;
  /** When the signal went (stop, kill, restart) or the process was started (start), ISO with ms: failover is timed from here. */
  readonly at: string;
  readonly summary: string;
}

export async function labDaemonAction(state: LabState, request: DaemonSelector & { action: LabDaemonActionName }, deps: Pick<LabDeps, 'exec'>): Promise<LabDaemonActionResult> {
  const sel: DaemonSelector = { role: request.role, ...(request.node ? { node: request.node } : {}), ...(request.clc ? { clc: request.clc } : {}) };
  const what = sel.clc ?? `${sel.role}${sel.node ? ` on ${sel.node}` : ''}`;
  const before = await labDaemonAlive(state, sel);
  const previousPid = before.alive ? before.entry?.pid : undefined;
  let next = state;
  const at = new Date().toISOString();
  if (request.action !== 'start' && (request.action !== 'restart' || before.entry)) {
    next = await labStopDaemon(next, sel, { signal: request.action === 'kill' ? 'SIGKILL' : 'SIGTERM' });
  }
  if (request.action === 'start' || request.action === 'restart') next = await labStartDaemon(next, sel, deps);
  const pid = request.action === 'start' || request.action === 'restart' ? next.processes.find((p) => p.role === sel.role && p.node === sel.node && p.clc === sel.clc)?.pid : undefined;
  const verb = { stop: 'stopped', kill: 'killed', start: 'started', restart: 'restarted' }[request.action];
  const summary = `lab ${state.plan.name}: ${verb} ${what}${previousPid !== undefined && request.action !== 'start' ? ` (was pid ${previousPid})` : ''}${pid !== undefined ? `, now pid ${pid}` : ''}`;
  return { lab: state.plan.name, action: request.action, daemon: sel.role, ...(sel.node ? { node: sel.node } : {}), ...(sel.clc ? { clc: sel.clc } : {}), ...(previousPid !== undefined ? { previousPid } : {}), ...(pid !== undefined ? { pid } : {}), at, summary };
}
