/**
 * Contracts between the parts of the cloud controller process:
 * - the store/services (state: clusters, nodes, instances, groups, addresses, IPAM),
 * - the GNI builder (pure: CloudSnapshot → GniDocument),
 * - plugins that run inside the CLC process: the broadcaster + convergence
 *   tracker, and the metadata service.
 *
 * `src/cloud-controller/main.ts` composes them: it opens the store, builds a
 * ClcContext and starts every plugin listed in `plugins.ts`.
 */
import type { Logger } from '../shared/logger.ts';
import type { Clock } from '../shared/clock.ts';
import type { ExplodedNetworkConfiguration } from './config/types.ts';

/** Everything the GNI builder needs, read in one consistent transaction. */
export interface CloudSnapshot {
  /** Exploded `cloud.network.network_configuration`; undefined when the property is unset. */
  readonly config: ExplodedNetworkConfiguration | undefined;
  /** Address of the CLC as nodes reach it (GNI `enabledCLCIp`, metadata DNAT target). */
  readonly clcIp: string;
  /** The CLC's IPv6 address (clc.conf CLC_IPV6; GNI configuration `ipv6` `clc-address`, metadata over IPv6); absent when none. */
  readonly clcIpv6?: string;
  readonly clusters: readonly SnapshotCluster[];
  readonly instances: readonly SnapshotInstance[];
  readonly groups: readonly SnapshotGroup[];
}

export interface SnapshotCluster {
  readonly name: string;
  /** SOAP endpoint of the cluster controller, e.g. https://10.0.0.6:8774/ */
  readonly ccUrl: string;
  /** Address of the CC host (GNI `enabledCCIp`). */
  readonly ccIp: string;
  readonly nodes: readonly SnapshotNode[];
}

export interface SnapshotNode {
  /** The node's registered address: its name in the GNI. */
  readonly name: string;
  readonly ncUrl: string;
}

export interface SnapshotInstance {
  readonly id: string;
  readonly ownerId: string;
  readonly cluster: string;
  readonly node: string;
  readonly mac: string;
  /** Absent only for an instance of an IPv6-only ROUTED cluster, which has no IPv4 address (its address is its IPv6, config/instance-ipv6.ts). */
  readonly privateIp?: string;
  /** Undefined when none is associated. */
  readonly publicIp?: string;
  /** Group ids in launch order. */
  readonly groups: readonly string[];
  /** The instance's user data, base64 (at most 16 KiB decoded); absent when it has none. */
  readonly userData?: string;
}

export interface SnapshotGroup {
  readonly id: string;
  readonly name: string;
  readonly ownerId: string;
  readonly rules: readonly SnapshotRule[];
}

/** One stored ingress permission with exactly one source. */
export interface SnapshotRule {
  /** IANA protocol number. */
  readonly protocol: number;
  readonly fromPort?: number;
  readonly toPort?: number;
  readonly icmpType?: number;
  readonly icmpCode?: number;
  readonly cidr?: string;
  /** Source group id (may name a deleted group: the builder then drops the rule). */
  readonly sourceGroupId?: string;
  readonly sourceGroupOwnerId?: string;
}

/**
 * What kind of committed change happened. The networking kinds request a
 * broadcast; `account` and `access-key` change no document (they only end
 * caches: SigV4 secrets, default groups). `resync` is not a change but a
 * gap: changes may have been committed by another CLC that this one did not
 * hear of (its notification connection was lost): re-read everything.
 */
export type StateChange =
  | { readonly kind: 'property'; readonly name: string }
  | { readonly kind: 'cluster' | 'node' | 'instance' | 'group' | 'rule' | 'address' | 'ipam'; readonly id?: string }
  | { readonly kind: 'account' | 'access-key'; readonly id?: string }
  | { readonly kind: 'resync' };

/** Where a change was committed: by this process, or by another CLC on the same database (PostgreSQL). */
export type ChangeOrigin = 'local' | 'remote';

export interface ApiRequest {
  readonly method: string;
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly body: unknown;
  readonly remoteAddress: string;
}

export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
}

export type ApiHandler = (req: ApiRequest) => Promise<ApiResponse>;

/** Convergence reported by the broadcast pipeline, per node. */
export interface NodeApplied {
  readonly cluster: string;
  readonly node: string;
  readonly appliedSequence?: number;
  /** Generation of the applied document (absent: a netd from before generations; taken as the CLC's). */
  readonly appliedGeneration?: number;
  readonly appliedVersion?: string;
}

export interface ClcContext {
  readonly logger: Logger;
  readonly clock: Clock;
  readonly env: NodeJS.ProcessEnv;
  /** Directory of the CLC's database and files. */
  readonly dataDir: string;
  /**
   * Consistent read of all networking state. Incremental by default (only what
   * committed changes touched is re-read, see snapshot/snapshot-cache.ts); `full`
   * re-reads everything (periodic broadcast, retries).
   */
  snapshot(options?: { readonly full?: boolean }): Promise<CloudSnapshot>;
  /** Subscribes to committed state changes (this CLC's and, on PostgreSQL, the other CLCs'); returns an unsubscribe function. */
  onChange(listener: (change: StateChange, origin: ChangeOrigin) => void): () => void;
  /** Which CLC leads (builds, sequences and broadcasts documents) and this CLC's role (ha/leadership.ts). */
  readonly leadership: Leadership;
  /**
   * GET `path` on the leading CLC's admin API with the shared admin token
   * (a follower's /v1/status shows the leader's convergence view);
   * LEADER_UNREACHABLE (503) when no leader is known or it does not answer
   * within `timeoutMs` (ha/leader-api.ts).
   */
  leaderGet?(path: string, options?: { readonly timeoutMs?: number }): Promise<ApiResponse>;
  /** Current typed value of a property (its default when unset). */
  getProperty(name: string): Promise<unknown>;
  /** Durable, strictly increasing broadcast sequence (survives restarts). */
  nextSequence(): Promise<number>;
  /** The database's generation (db/generation.ts), stamped on every document with its sequence. */
  generation(): Promise<number>;
  /**
   * Tells IPAM that the document with `sequence` was built: addresses released
   * before it are absent from it. IPAM ends a hold once every node registered at
   * the release and not deregistered since reports an applied sequence ≥ that
   * document's (the address is in group ipsets on every node).
   */
  documentBuilt(sequence: number, snapshot?: CloudSnapshot): Promise<void>;
  nodesApplied(applied: readonly NodeApplied[]): Promise<void>;
  /** Registers an admin API route (token-authenticated unless `public`). Path params as `:name`. */
  route(method: string, pattern: string, handler: ApiHandler, options?: { public?: boolean }): void;
  /** Instance lookup by private IP (metadata service). */
  instanceByPrivateIp(ip: string): Promise<SnapshotInstance | undefined>;
  /** Every address pool with its size and free count (the pool-usage metrics). */
  ipamPools?(): Promise<readonly PoolUsage[]>;
}

/** One address pool's usage: `public`, or a cluster's private pool. */
export interface PoolUsage {
  readonly kind: 'public' | 'private';
  readonly cluster?: string;
  readonly size: number;
  readonly free: number;
}

export interface ClcPlugin {
  readonly name: string;
  start(ctx: ClcContext): Promise<void>;
  stop(): Promise<void>;
}

/** A CLC's part in the cloud: the leader builds, sequences and broadcasts documents; followers serve everything else. */
export type ClcRole = 'leader' | 'follower';

/** One term of leadership (table clc_terms): who led, from when. */
export interface LeaderTerm {
  readonly term: number;
  readonly clcId: string;
  /** ms since the epoch. */
  readonly since: number;
  /** The leader's admin API URL as it advertised it (followers proxy /v1/status there). */
  readonly apiUrl?: string;
}

/** A CLC that announced itself (table clc_members), with when it was last seen. */
export interface ClcMember {
  readonly id: string;
  readonly apiUrl?: string;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: number;
  readonly seenAt: number;
}

export interface LeadershipView {
  /** This CLC's id (clc.conf CLC_ID). */
  readonly id: string;
  readonly role: ClcRole;
  /** When this CLC took its current role (ms). */
  readonly roleSince: number;
  /** `sole`: SQLite, one CLC, always the leader; `postgres`: elected through the database. */
  readonly election: 'sole' | 'postgres';
  /** The newest term in the database (undefined before any CLC led). */
  readonly leader?: LeaderTerm;
  readonly members: readonly ClcMember[];
}

/**
 * Leadership (ha/): exactly one CLC on a database leads. The term is the
 * fence: CloudState.nextSequence(term) draws a sequence only while `term` is
 * the newest term in the database, so a deposed leader cannot stamp a
 * document newer than its successor's.
 */
export interface Leadership {
  readonly id: string;
  role(): ClcRole;
  /** The term this CLC leads in; undefined when it is not the leader. */
  term(): number | undefined;
  view(): Promise<LeadershipView>;
  /**
   * `true` after this CLC became leader (its term recorded), `false` as soon
   * as it may no longer be (before anything else happens). Returns an
   * unsubscribe function.
   */
  onRoleChange(listener: (leading: boolean) => void): () => void;
  /**
   * A leader-only step was refused because a newer term began although this
   * CLC still holds leadership (it should not happen; two CLCs on one SQLite
   * file would do it): step down and compete again, so the cloud does not
   * stay without a broadcasting leader. Absent: nothing to resign (SQLite).
   */
  resign?(reason: string): void;
}
