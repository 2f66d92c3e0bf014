/**
 * The ClcContext (contracts.ts) plugins receive: a thin adapter over the
 * store, the property service, the state services and the API router.
 *
 * The leader-only steps carry this CLC's current term (ha/): drawing a
 * sequence is refused (NOT_LEADER) and documentBuilt/nodesApplied are
 * ignored unless it is the newest term in the database; a CLC that does not
 * lead at all is refused at once.
 */
import type { ApiHandler, ChangeOrigin, ClcContext, CloudSnapshot, Leadership, NodeApplied, SnapshotInstance, StateChange } from './contracts.ts';
import { EdgenetError } from '../shared/errors.ts';
import { leaderGet } from './ha/leader-api.ts';
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
  /** The admin token (shared by every CLC of the cloud): a follower's requests to the leader carry it. */
  readonly token?: string;
}

export function createClcContext(deps: ClcContextDeps): ClcContext {
  const term = (): number => {
    const t = deps.leadership.term();
    if (t === undefined) throw new EdgenetError('NOT_LEADER', `this CLC (${deps.leadership.id}) does not lead: the leader broadcasts`);
    return t;
  };
  return {
    logger: deps.logger,
    clock: deps.clock,
    env: deps.env,
    dataDir: deps.dataDir,
    snapshot: (options?: { readonly full?: boolean }): Promise<CloudSnapshot> => deps.state.snapshot(options),
    onChange: (listener: (change: StateChange, origin: ChangeOrigin) => void) => deps.store.onChange(listener),
    leadership: deps.leadership,
    getProperty: (name: string) => deps.properties.typed(name),
    nextSequence: async () => deps.state.nextSequence(term()),
    generation: () => deps.state.generation(),
    documentBuilt: async (sequence: number, snapshot?: CloudSnapshot) => {
      const t = deps.leadership.term();
      if (t !== undefined) await deps.state.documentBuilt(sequence, snapshot, t);
    },
    nodesApplied: async (applied: readonly NodeApplied[]) => {
      const t = deps.leadership.term();
      if (t === undefined) return;
      const freed = await deps.state.nodesApplied(applied, t);
      if (freed.length > 0) deps.logger.debug('holds released after convergence', { addresses: freed.length });
    },
    ...(deps.token !== undefined ? { leaderGet: (path: string, options?: { readonly timeoutMs?: number }) => leaderGet(deps.leadership, deps.token!, path, options) } : {}),
    route: (method: string, pattern: string, handler: ApiHandler, options?: { public?: boolean }) => deps.router.add(method, pattern, handler, options),
    instanceByPrivateIp: (ip: string): Promise<SnapshotInstance | undefined> => deps.state.instanceByPrivateIp(ip),
    ipamPools: async () => (await deps.state.ipamShow()).pools,
  };
}
