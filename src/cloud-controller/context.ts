/**
 * The ClcContext (contracts.ts) plugins receive: a thin adapter over the
 * store, the property service, the state services and the API router.
 */
import type { ApiHandler, ChangeOrigin, ClcContext, CloudSnapshot, Leadership, NodeApplied, SnapshotInstance, StateChange } from './contracts.ts';
import type { Logger } from '../shared/logger.ts';
import type { Clock } from '../shared/clock.ts';
import type { Store } from './db/store.ts';
import type { PropertyService } from './properties/service.ts';
import type { CloudState } from './services/cloud-state.ts';
import type { Router } from './api/router.ts';

export interface ClcContextDeps {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly env: NodeJS.ProcessEnv;
  readonly dataDir: string;
  readonly store: Store;
  readonly properties: PropertyService;
  readonly state: CloudState;
  readonly router: Router;
  readonly leadership: Leadership;
}

export function createClcContext(deps: ClcContextDeps): ClcContext {
  return {
    logger: deps.logger,
    clock: deps.clock,
    env: deps.env,
    dataDir: deps.dataDir,
    snapshot: (options?: { readonly full?: boolean }): Promise<CloudSnapshot> => deps.state.snapshot(options),
    onChange: (listener: (change: StateChange, origin: ChangeOrigin) => void) => deps.store.onChange(listener),
    leadership: deps.leadership,
    getProperty: (name: string) => deps.properties.typed(name),
    nextSequence: () => deps.state.nextSequence(deps.leadership.term()),
    generation: () => deps.state.generation(),
    documentBuilt: (sequence: number, snapshot?: CloudSnapshot) => deps.state.documentBuilt(sequence, snapshot),
    nodesApplied: async (applied: readonly NodeApplied[]) => {
      const freed = await deps.state.nodesApplied(applied);
      if (freed.length > 0) deps.logger.debug('holds released after convergence', { addresses: freed.length });
    },
    route: (method: string, pattern: string, handler: ApiHandler, options?: { public?: boolean }) => deps.router.add(method, pattern, handler, options),
    instanceByPrivateIp: (ip: string): Promise<SnapshotInstance | undefined> => deps.state.instanceByPrivateIp(ip),
    ipamPools: async () => (await deps.state.ipamShow()).pools,
  };
}
