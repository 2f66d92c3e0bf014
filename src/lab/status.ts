/**
 * `edgenet lab status`: what of the lab exists and runs, read from the state
 * file and the kernel (namespaces by prefix, process liveness by pid), plus
 * the cloud's convergence view when the admin API answers, and the EC2
 * endpoint (whether it answers as EC2 does, the tenant's credentials file).
 */
import { pidExists } from '../shared/pid.ts';
import type { StatusView } from '../cloud-controller/broadcast/status-view.ts';
import type { ClcRole, LeaderTerm } from '../cloud-controller/contracts.ts';
import { errorMessage } from '../shared/errors.ts';
import { createNetns } from './netns.ts';
import { labNames } from './names.ts';
import { defaultLabDir, labPlan } from './plan.ts';
import { readLabState, type LabEc2, type LabProcess, type LabState } from './state.ts';
import { labApiClient, labApiEnv, labApiFor } from './api.ts';
import type { LabDeps } from './up.ts';
import { probeEc2Endpoint } from './ec2.ts';
import { routerStatus, type RouterSession } from './router.ts';

export interface LabStatusReport {
  readonly name: string;
  readonly dir: string;
  readonly prefix: string;
  readonly phase: 'down' | 'starting' | 'up';
  readonly namespaces: readonly string[];
  readonly processes: readonly (LabProcess & { readonly alive: boolean })[];
  readonly api?: { readonly url: string; readonly reachable: boolean; readonly error?: string; readonly status?: StatusView };
  /** The EC2 endpoint from the host (`reachable`: it answered an unsigned request with an EC2 error). */
  readonly ec2?: LabEc2 & { readonly reachable: boolean; readonly error?: string };
  /** A ROUTED lab: the upstream router's BGP sessions with the nodes (birdc show protocols), or why they could not be read. */
  readonly router?: { readonly ns: string; readonly asn: number; readonly sessions?: readonly RouterSession[]; readonly error?: string };
  /** A two-CLC lab (`--db postgres`): each CLC, asked through its own relay, and which one leads. */
  readonly clcs?: readonly LabClcStatus[];
}

/** One CLC of a two-CLC lab as `lab status` and `lab clc list` show it. */
export interface LabClcStatus {
  readonly id: string;
  readonly url: string;
  readonly pid?: number;
  readonly alive: boolean;
  /** Its own answer (GET /v1/status `clc`); absent when it did not answer. */
  readonly role?: ClcRole;
  /** When it took that role (ms). */
  readonly roleSince?: number;
  /** The newest term it knows of: who leads, since when. */
  readonly leader?: LeaderTerm;
  readonly error?: string;
}


export async function labStatus(options: { name: string; dir?: string }, deps: Pick<LabDeps, 'exec' | 'env'>): Promise<LabStatusReport> {
  const plan = labPlan(options.name, options.dir ?? defaultLabDir(options.name, deps.env));
  const state = await readLabState(plan.stateFile);
  const namespaces = await createNetns(deps.exec).list(labNames.nsPrefix(plan.prefix));
  const base = { name: plan.name, dir: plan.dir, prefix: plan.prefix, namespaces };
  if (!state) return { ...base, phase: 'down', processes: [] };
  const processes = state.processes.map((p) => ({ ...p, alive: pidExists(p.pid) }));
  const rt = state.plan.routed;
  const router = rt && processes.some((p) => p.role === 'router' && p.alive)
    ? { router: { ns: labNames.routerNs(plan.prefix), asn: rt.router.asn, ...(await routerStatus(state.plan, deps)) } }
    : rt ? { router: { ns: labNames.routerNs(plan.prefix), asn: rt.router.asn, error: "the router's BIRD is not running" } } : {};
  if (!state.api) return { ...base, phase: state.phase, processes, ...router };
  const ec2 = state.ec2 ? { ec2: { ...state.ec2, ...(await probeEc2Endpoint(state.ec2.url)) } } : {};
  const clcs = state.api.byClc ? { clcs: await labClcStatus(state) } : {};
  try {
    const status = await labApiFor(state).request<StatusView>('GET', '/v1/status');
    return { ...base, phase: state.phase, processes, api: { url: state.api.url, reachable: true, status }, ...ec2, ...clcs, ...router };
  } catch (err) {
    return { ...base, phase: state.phase, processes, api: { url: state.api.url, reachable: false, error: errorMessage(err) }, ...ec2, ...clcs, ...router };
  }
}

/**
 * Each CLC of a two-CLC lab, asked directly (its own relay, not the failover
 * list): its role from its own `GET /v1/status` (`clc`, the leadership view).
 * A follower whose leader does not answer (the moments after the leader
 * died) answers 503 LEADER_UNREACHABLE: shown as the error, no role.
 */
export async function labClcStatus(state: LabState, options: { timeoutMs?: number } = {}): Promise<LabClcStatus[]> {
  const byClc = state.api?.byClc ?? {};
  const token = labApiEnv(state).EDGENET_TOKEN;
  return Promise.all(
    Object.entries(byClc).map(async ([id, url]): Promise<LabClcStatus> => {
      const entry = state.processes.find((p) => p.role === 'clc' && p.clc === id);
      const base = { id, url, ...(entry ? { pid: entry.pid } : {}), alive: entry ? pidExists(entry.pid) : false };
      if (!base.alive) return base;
      try {
        const status = await labApiClient(url, token, AbortSignal.timeout(options.timeoutMs ?? 5000)).request<StatusView>('GET', '/v1/status');
        const v = status.clc;
        return { ...base, ...(v ? { role: v.role, roleSince: v.roleSince, ...(v.leader ? { leader: v.leader } : {}) } : {}) };
      } catch (err) {
        return { ...base, error: errorMessage(err) };
      }
    }),
  );
}
