/**
 * `edgenet lab vm add ID` / `vm del ID`: plays the hypervisor for an instance
 * the CLC knows. `add` asks the admin API for the instance's node and MAC,
 * creates the instance namespace with `vn_<id>` in that node's bridge (the
 * contract with netd), then runs dhclient until dhcpd (laid down by netd once
 * the document with this instance is applied) hands out the address. `del`
 * removes the namespace (the veth goes with it); terminating the instance in
 * the CLC is a separate, explicit call.
 */
import type { InstanceView } from '../cloud-controller/services/instances.ts';
import { EdgenetError, errorMessage } from '../shared/errors.ts';
import { systemClock } from '../shared/clock.ts';
import type { DhcpLease } from './dhclient.ts';
import { openTopology, type LabInstance, type Topology } from './topology.ts';
import type { LabState } from './state.ts';
import type { ApiClient } from './api.ts';
import type { LabDeps } from './up.ts';

export interface VmAddOptions {
  readonly id: string;
  /** Bound on the whole attach, DHCP retries included (default 60 s). */
  readonly timeoutMs?: number;
}

export interface VmAddResult {
  readonly instance: LabInstance;
  readonly lease: DhcpLease;
  readonly view: InstanceView;
}

export function labTopology(state: LabState, deps: Pick<LabDeps, 'exec' | 'clock'>): Topology {
  return openTopology(state.plan.topology, deps);
}

export async function labVmAdd(state: LabState, api: ApiClient, options: VmAddOptions, deps: LabDeps): Promise<VmAddResult> {
  const view = await api.request<InstanceView>('GET', `/v1/instances/${encodeURIComponent(options.id)}`);
  const node = state.plan.nodes.find((n) => n.name === view.node);
  if (!node) {
    throw new EdgenetError('LAB_UNKNOWN_NODE', `instance ${view.id} runs on node ${view.node}, which is not one of lab ${state.plan.name}'s nodes (${state.plan.nodes.map((n) => n.name).join(', ')})`);
  }
  const topo = labTopology(state, deps);
  const ref = { node: node.short, id: view.id, mac: view.mac };
  const instance = (await topo.netns.exists(topo.instanceNs(view.id))) ? topo.instanceRef(ref) : await topo.addInstance(ref);
  const clock = deps.clock ?? systemClock;
  const deadline = clock.now() + (options.timeoutMs ?? 60_000);
  let lastError: unknown;
  // dhcpd learns the host entry only when netd applied the document with this instance: retry.
  while (clock.now() < deadline) {
    if (deps.signal?.aborted) break;
    try {
      const lease = await topo.dhcp(instance, { timeoutMs: Math.min(10_000, Math.max(2_000, deadline - clock.now())) });
      if (lease.ip !== view.privateIp) {
        throw new EdgenetError('LAB_DHCP_MISMATCH', `instance ${view.id} got ${lease.ip} from DHCP, but the CLC allocated ${view.privateIp}`);
      }
      return { instance, lease, view };
    } catch (err) {
      if (err instanceof EdgenetError && err.code === 'LAB_DHCP_MISMATCH') throw err;
      lastError = err;
    }
  }
  throw new EdgenetError('LAB_DHCP_FAILED', `instance ${view.id} got no DHCP lease within ${options.timeoutMs ?? 60_000} ms: ${errorMessage(lastError)}`, { cause: lastError });
}

export async function labVmDel(state: LabState, id: string, deps: Pick<LabDeps, 'exec' | 'clock'>): Promise<void> {
  const topo = labTopology(state, deps);
  await topo.removeInstance(id);
}
