/**
 * `edgenet lab status`: what of the lab exists and runs, read from the state
 * file and the kernel (namespaces by prefix, process liveness by pid), plus
 * the cloud's convergence view when the admin API answers, and the EC2
 * endpoint (whether it answers as EC2 does, the tenant's credentials file).
 */
import type { StatusView } from '../cloud-controller/broadcast/status-view.ts';
import { errorMessage } from '../shared/errors.ts';
import { createNetns } from './netns.ts';
import { labNames } from './names.ts';
import { defaultLabDir, labPlan } from './plan.ts';
import { readLabState, type LabEc2, type LabProcess } from './state.ts';
import { labApiFor } from './api.ts';
import type { LabDeps } from './up.ts';
import { probeEc2Endpoint } from './ec2.ts';

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
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function labStatus(options: { name: string; dir?: string }, deps: Pick<LabDeps, 'exec' | 'env'>): Promise<LabStatusReport> {
  const plan = labPlan(options.name, options.dir ?? defaultLabDir(options.name, deps.env));
  const state = await readLabState(plan.stateFile);
  const namespaces = await createNetns(deps.exec).list(labNames.nsPrefix(plan.prefix));
  const base = { name: plan.name, dir: plan.dir, prefix: plan.prefix, namespaces };
  if (!state) return { ...base, phase: 'down', processes: [] };
  const processes = state.processes.map((p) => ({ ...p, alive: alive(p.pid) }));
  if (!state.api) return { ...base, phase: state.phase, processes };
  const ec2 = state.ec2 ? { ec2: { ...state.ec2, ...(await probeEc2Endpoint(state.ec2.url)) } } : {};
  try {
    const status = await labApiFor(state).request<StatusView>('GET', '/v1/status');
    return { ...base, phase: state.phase, processes, api: { url: state.api.url, reachable: true, status }, ...ec2 };
  } catch (err) {
    return { ...base, phase: state.phase, processes, api: { url: state.api.url, reachable: false, error: errorMessage(err) }, ...ec2 };
  }
}
