/**
 * SnapshotCache: keeps the last CloudSnapshot's parts and re-reads only what
 * committed changes touched, so a broadcast after one `authorize` reads one
 * group, not the whole cloud (readSnapshot costs 50–100 ms at 10,000 instances).
 *
 * Model:
 * - parts: configuration (from the property texts), clusters with nodes,
 *   instances (sorted by id), groups with rules (sorted by id);
 * - `changed(change)` is the store's change listener: it runs synchronously
 *   after COMMIT and only records what is now stale (instance ids, public
 *   addresses, groups whose rules changed, "every group" on create/delete);
 * - `read(db)` runs inside the caller's read transaction: properties and
 *   clusters/nodes are small and always re-read (so property, cluster and
 *   node changes need no bookkeeping); instances and groups are re-read only
 *   for the recorded ids and patched into copies of the cached arrays;
 * - full read (then reconciled, see below) when: no cache yet, the caller
 *   asks (`full`: the periodic broadcast and retries), a write committed
 *   that was not announced here (SQLite: another connection committed since
 *   the last read — `PRAGMA data_version` changes only then, e.g. `edgenet
 *   property set --offline`; PostgreSQL: meta.data_version is ahead of the
 *   store's announcedThrough(), see below), a change without an
 *   id, too many ids, a non-ASCII id, a group named by a rule change that is
 *   gone, or the previous read failed. Any doubt → full read;
 * - unchanged parts, and unchanged instances/groups inside a changed part,
 *   keep their object identity (also across full reads, which reuse equal
 *   cached objects): the GNI builder memoizes on identity.
 *
 * Invariant: `read` returns a snapshot deep-equal to `readSnapshot()` in the
 * same transaction (test/unit/clc/snapshot-cache.test.ts checks it after
 * every step of random API sequences), provided every write of this process
 * goes through `Store.write` with its change events (the services' contract).
 * A write around it is invisible until the next full read, which repairs it
 * and flags `drift` so the broadcaster can warn.
 *
 * Why a change committed before the read's transaction is always seen:
 * Store.write announces changes after COMMIT, but only after it has released
 * the connection, so our read transaction can begin before the listener ran.
 * Everything between that COMMIT and the announcement is microtasks
 * (better-sqlite3 is synchronous), so `read` first yields one macrotask while
 * holding the connection (no write can start meanwhile): every write that
 * committed before our BEGIN has then been announced. A write committing
 * after our transaction is announced after we took the dirty set, so it stays
 * dirty for the next read.
 *
 * PostgreSQL (several CLCs, a pool): a commit is announced only when its
 * answer has come back (and another CLC's only when its notification
 * arrives), so the yield proves nothing there. Instead every write that
 * announces changes bumps meta.data_version, and the store knows the version
 * through which everything has been announced (`announcedThrough`, read
 * together with the dirty set, synchronously). The read's first statement
 * reads meta.data_version and fixes the transaction's snapshot: if the
 * snapshot holds a write not yet announced, the version is ahead and the
 * read is a full one. Without `announcedThrough` (a one-shot reader) any
 * version change since the last read means a full read.
 *
 * Reads of one cache run one at a time (the store's SQLite connection
 * serializes them anyway; PostgreSQL runs reads concurrently on its pool):
 * two interleaved reads would each patch the same cached parts.
 */
import type { Db } from '../db/store.ts';
import { dataVersion as readDataVersion } from '../db/dialect.ts';
import type { CloudSnapshot, SnapshotCluster, SnapshotGroup, SnapshotInstance, SnapshotRule, StateChange } from '../contracts.ts';
import type { ExplodedNetworkConfiguration } from '../config/types.ts';
import { explodedConfiguration, readPropertyTexts } from '../properties/service.ts';
import { NETWORK_CONFIGURATION } from '../properties/registry.ts';
import { EXPLODE_INPUT_PROPERTIES } from '../properties/network-config.ts';
import { readAddressHolders, readClusters, readGroups, readInstances } from './read-snapshot.ts';
import { assertNever } from '../../shared/errors.ts';

export interface SnapshotReadOptions {
  /** Re-read everything (periodic broadcast, retry after a failure). */
  readonly full?: boolean;
}

/** How the last snapshot was obtained (for logs and metrics). */
export interface SnapshotReadInfo {
  readonly kind: 'full' | 'incremental';
  /** Why a full read happened, or what an incremental one re-read. */
  readonly reason: string;
  /** Instances re-read (`all` on a full read). */
  readonly instances: number | 'all';
  /** Groups re-read (`all` when every group was). */
  readonly groups: number | 'all';
  /**
   * A requested full read found instances or groups changed although no
   * change was announced and no other connection wrote: something wrote
   * around `Store.write`, or the bookkeeping missed a change. The full read
   * repaired it; the broadcaster logs a warning.
   */
  readonly drift?: boolean;
}

/** Past this many changed ids a full read of the part is cheaper than patching. */
const MAX_PATCH_IDS = 256;
const ASCII = /^[\x20-\x7e]*$/;

interface Dirty {
  /** A reason to read everything, or undefined. */
  all: string | undefined;
  readonly instances: Set<string>;
  readonly addresses: Set<string>;
  allGroups: boolean;
  readonly ruleGroups: Set<string>;
}

interface Parts {
  readonly dataVersion: number;
  /** Texts the exploded configuration depends on, joined (the config is re-exploded only when they change). */
  readonly configKey: string;
  readonly config: ExplodedNetworkConfiguration | undefined;
  readonly clusters: readonly SnapshotCluster[];
  readonly instances: readonly SnapshotInstance[];
  readonly groups: readonly SnapshotGroup[];
}

function clean(): Dirty {
  return { all: undefined, instances: new Set(), addresses: new Set(), allGroups: false, ruleGroups: new Set() };
}

const infoOf = new WeakMap<CloudSnapshot, SnapshotReadInfo>();

/** How `snapshot` was read, when it came from a SnapshotCache. */
export function snapshotReadInfo(snapshot: CloudSnapshot): SnapshotReadInfo | undefined {
  return infoOf.get(snapshot);
}

export class SnapshotCache {
  private parts: Parts | undefined;
  private dirty: Dirty = clean();
  /** The read in progress (reads run one at a time; see the header). */
  private reading: Promise<unknown> = Promise.resolve();

  /**
   * `clcIpv6`: CLC_IPV6, carried on every snapshot when set (absent otherwise, so IPv4-only snapshots are as before).
   * `announcedThrough`: the store's (PostgreSQL) — every write with a data version up to it has been announced here.
   */
  constructor(
    private readonly clcIp: string,
    private readonly clcIpv6?: string,
    private readonly announcedThrough: () => number | undefined = () => undefined,
  ) {}

  /**
   * The store's change listener: records what is stale; never reads. Bounded:
   * once more ids are stale than a patch would re-read (a follower CLC hears
   * every change and reads only when it leads), it records "read everything".
   */
  changed(change: StateChange): void {
    this.record(change);
    const d = this.dirty;
    if (d.instances.size + d.addresses.size > MAX_PATCH_IDS) {
      d.all ??= `${d.instances.size + d.addresses.size} instance and address changes`;
    }
    if (d.all !== undefined) {
      d.instances.clear();
      d.addresses.clear();
    }
    if (d.ruleGroups.size > MAX_PATCH_IDS || (d.all !== undefined && d.ruleGroups.size > 0)) {
      d.allGroups = true;
      d.ruleGroups.clear();
    }
  }

  private record(change: StateChange): void {
    const d = this.dirty;
    switch (change.kind) {
      case 'property':
      case 'cluster':
      case 'node':
      case 'ipam':
        // Properties, clusters and nodes are re-read on every read; IPAM leases and reservations are not in the snapshot.
        return;
      case 'instance':
        if (change.id === undefined) d.all ??= 'instance change without id';
        else d.instances.add(change.id);
        return;
      case 'address':
        if (change.id === undefined) d.all ??= 'address change without id';
        else d.addresses.add(change.id);
        return;
      case 'group':
        // Creating or deleting a group changes which rules of other groups survive (source must exist).
        d.allGroups = true;
        return;
      case 'rule':
        if (change.id === undefined) d.allGroups = true;
        else d.ruleGroups.add(change.id);
        return;
      case 'account':
      case 'access-key':
        // Not in the snapshot.
        return;
      case 'resync':
        d.all ??= 'changes may have been missed (resync)';
        return;
      default:
        assertNever(change);
    }
  }

  /** Forgets everything: the next read is a full one. */
  invalidate(): void {
    this.parts = undefined;
  }

  /** The snapshot as of the caller's read transaction (see the module header). */
  read(db: Db, options: SnapshotReadOptions = {}): Promise<CloudSnapshot> {
    const run = this.reading.then(
      () => this.readNow(db, options),
      () => this.readNow(db, options),
    );
    this.reading = run.catch(() => undefined);
    return run;
  }

  private async readNow(db: Db, options: SnapshotReadOptions): Promise<CloudSnapshot> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const dirty = this.dirty;
    this.dirty = clean();
    // Taken with the dirty set: the changes it holds are exactly those of the writes announced by now.
    const announced = this.announcedThrough();
    try {
      return await this.readParts(db, dirty, options, announced);
    } catch (err) {
      // What was read may be half-applied: start over.
      this.parts = undefined;
      throw err;
    }
  }

  private async readParts(db: Db, dirty: Dirty, options: SnapshotReadOptions, announced: number | undefined): Promise<CloudSnapshot> {
    // First statement of the transaction: it also fixes the transaction's read snapshot.
    const dataVersion = await readDataVersion(db);
    const old = this.parts;
    // SQLite: data_version moves only for other connections' commits. PostgreSQL: the database's count of
    // announcing writes is ahead of what was announced here when the dirty set was taken (a commit whose
    // announcement — local, or another CLC's notification — is still on its way); without a watermark,
    // any write since the last read.
    const unannounced = announced !== undefined ? dataVersion > announced : old !== undefined && dataVersion !== old.dataVersion;
    const fullReason =
      old === undefined ? 'no cache' : options.full === true ? 'requested' : unannounced ? 'written by another connection' : dirty.all;

    const texts = await readPropertyTexts(db);
    const configKey = JSON.stringify([NETWORK_CONFIGURATION, ...EXPLODE_INPUT_PROPERTIES].map((n) => texts.get(n) ?? null));
    const config = old !== undefined && old.configKey === configKey ? old.config : explodedConfiguration(texts);
    const freshClusters = await readClusters(db);
    const clusters = old !== undefined && sameList(old.clusters, freshClusters, sameCluster) ? old.clusters : freshClusters;

    let instances: readonly SnapshotInstance[];
    let groups: readonly SnapshotGroup[];
    let info: SnapshotReadInfo;
    if (fullReason !== undefined || old === undefined) {
      instances = reconcile({ cached: old?.instances, fresh: await readInstances(db), same: sameInstance });
      groups = reconcile({ cached: old?.groups, fresh: await readGroups(db), same: sameGroup });
      const announced = dirty.all !== undefined || dirty.allGroups || dirty.instances.size + dirty.addresses.size + dirty.ruleGroups.size > 0;
      const drift = fullReason === 'requested' && !announced && old !== undefined && (instances !== old.instances || groups !== old.groups);
      info = { kind: 'full', reason: fullReason ?? 'no cache', instances: 'all', groups: 'all', ...(drift ? { drift } : {}) };
    } else {
      const inst = await this.patchInstances(db, old.instances, dirty);
      const grp = await this.patchGroups(db, old.groups, dirty);
      instances = inst.instances;
      groups = grp.groups;
      const full = inst.reread === 'all' && grp.reread === 'all';
      info = { kind: full ? 'full' : 'incremental', reason: [inst.reason, grp.reason].filter((r) => r !== '').join('; ') || 'nothing changed', instances: inst.reread, groups: grp.reread };
    }

    this.parts = { dataVersion, configKey, config, clusters, instances, groups };
    const snapshot: CloudSnapshot = { config, clcIp: this.clcIp, ...(this.clcIpv6 === undefined ? {} : { clcIpv6: this.clcIpv6 }), clusters, instances, groups };
    infoOf.set(snapshot, info);
    return snapshot;
  }

  private async patchInstances(db: Db, cached: readonly SnapshotInstance[], dirty: Dirty): Promise<{ instances: readonly SnapshotInstance[]; reread: number | 'all'; reason: string }> {
    const ids = new Set(dirty.instances);
    if (dirty.addresses.size > 0) {
      // An address change moves a public IP between instances: its previous holder (as cached) and its holder now.
      const ips = [...dirty.addresses];
      const wanted = new Set(ips);
      for (const i of cached) if (i.publicIp !== undefined && wanted.has(i.publicIp)) ids.add(i.id);
      for (const id of await readAddressHolders(db, ips)) ids.add(id);
    }
    if (ids.size === 0) return { instances: cached, reread: 0, reason: '' };
    const list = [...ids];
    if (list.length > MAX_PATCH_IDS || !list.every((id) => ASCII.test(id))) {
      return { instances: reconcile({ cached, fresh: await readInstances(db), same: sameInstance }), reread: 'all', reason: `${list.length} instances changed` };
    }
    const fresh = await readInstances(db, list);
    return { instances: patchSorted({ cached, ids: list, fresh, same: sameInstance }), reread: list.length, reason: `${list.length} instance(s)` };
  }

  private async patchGroups(db: Db, cached: readonly SnapshotGroup[], dirty: Dirty): Promise<{ groups: readonly SnapshotGroup[]; reread: number | 'all'; reason: string }> {
    if (dirty.allGroups) return { groups: reconcile({ cached, fresh: await readGroups(db), same: sameGroup }), reread: 'all', reason: 'groups created or deleted' };
    if (dirty.ruleGroups.size === 0) return { groups: cached, reread: 0, reason: '' };
    const ids = [...dirty.ruleGroups];
    // No group was created or deleted (that would have set allGroups), so the cached ids are every group there is.
    const existing = new Set(cached.map((g) => g.id));
    if (ids.length > MAX_PATCH_IDS || !ids.every((id) => existing.has(id) && ASCII.test(id))) {
      return { groups: reconcile({ cached, fresh: await readGroups(db), same: sameGroup }), reread: 'all', reason: `rules of ${ids.length} group(s) changed` };
    }
    const fresh = await readGroups(db, { ids, existing });
    // A group gone from the database without a group change means the bookkeeping missed something.
    if (fresh.length !== ids.length) return { groups: reconcile({ cached, fresh: await readGroups(db), same: sameGroup }), reread: 'all', reason: 'a changed group is gone' };
    return { groups: patchSorted({ cached, ids, fresh, same: sameGroup }), reread: ids.length, reason: `rules of ${ids.length} group(s)` };
  }
}

/** A cached part, the rows just read, and when two elements are equal. */
interface PatchInput<T> {
  readonly cached: readonly T[];
  readonly fresh: readonly T[];
  readonly same: (a: T, b: T) => boolean;
}

/**
 * `cached` (sorted by id) with the elements of `ids` replaced by `fresh`
 * (sorted by id; an id missing from `fresh` was deleted). Equal elements
 * keep the cached object; when nothing differs the cached array is returned.
 */
function patchSorted<T extends { readonly id: string }>({ cached, ids, fresh, same }: PatchInput<T> & { readonly ids: readonly string[] }): readonly T[] {
  const out = cached.slice();
  let changed = false;
  const freshById = new Map(fresh.map((f) => [f.id, f]));
  for (const id of ids) {
    const at = lowerBound(out, id);
    const present = at < out.length && out[at]!.id === id;
    const next = freshById.get(id);
    if (next === undefined) {
      if (present) {
        out.splice(at, 1);
        changed = true;
      }
    } else if (!present) {
      out.splice(at, 0, next);
      changed = true;
    } else if (!same(out[at]!, next)) {
      out[at] = next;
      changed = true;
    }
  }
  return changed ? out : cached;
}

function lowerBound<T extends { readonly id: string }>(list: readonly T[], id: string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** `fresh` with every element equal to the cached one at the same key replaced by the cached object (the cached array itself when all are). */
function reconcile<T extends { readonly id: string }>({ cached, fresh, same }: Omit<PatchInput<T>, 'cached'> & { readonly cached: readonly T[] | undefined }): readonly T[] {
  if (cached === undefined) return fresh;
  const byId = new Map(cached.map((c) => [c.id, c]));
  let allSame = cached.length === fresh.length;
  const out = fresh.map((f, i) => {
    const c = byId.get(f.id);
    if (c !== undefined && same(c, f)) {
      if (cached[i] !== c) allSame = false;
      return c;
    }
    allSame = false;
    return f;
  });
  return allSame ? cached : out;
}

function sameList<T>(a: readonly T[], b: readonly T[], same: (x: T, y: T) => boolean): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!same(a[i]!, b[i]!)) return false;
  return true;
}

function sameCluster(a: SnapshotCluster, b: SnapshotCluster): boolean {
  return a.name === b.name && a.ccUrl === b.ccUrl && a.ccIp === b.ccIp && sameList(a.nodes, b.nodes, (x, y) => x.name === y.name && x.ncUrl === y.ncUrl);
}

function sameInstance(a: SnapshotInstance, b: SnapshotInstance): boolean {
  return (
    a.id === b.id &&
    a.ownerId === b.ownerId &&
    a.cluster === b.cluster &&
    a.node === b.node &&
    a.mac === b.mac &&
    a.privateIp === b.privateIp &&
    a.publicIp === b.publicIp &&
    a.userData === b.userData &&
    sameList(a.groups, b.groups, (x, y) => x === y)
  );
}

function sameRule(a: SnapshotRule, b: SnapshotRule): boolean {
  return (
    a.protocol === b.protocol &&
    a.fromPort === b.fromPort &&
    a.toPort === b.toPort &&
    a.icmpType === b.icmpType &&
    a.icmpCode === b.icmpCode &&
    a.cidr === b.cidr &&
    a.sourceGroupId === b.sourceGroupId &&
    a.sourceGroupOwnerId === b.sourceGroupOwnerId
  );
}

function sameGroup(a: SnapshotGroup, b: SnapshotGroup): boolean {
  return a.id === b.id && a.name === b.name && a.ownerId === b.ownerId && sameList(a.rules, b.rules, sameRule);
}
