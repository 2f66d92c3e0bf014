/**
 * The state services as one object: each public method is one serialized
 * write transaction (or one consistent read) that reads the properties it
 * depends on inside the same transaction. The HTTP API and ClcContext call
 * this; tests call it directly against an in-memory store.
 *
 * It also keeps the in-memory link between snapshots and broadcast sequences
 * that IPAM holds need (see ipam.ts): each snapshot remembers the release mark
 * it was read at, and `documentBuilt(sequence, snapshot)` ties the sequence to
 * exactly the snapshot the document was built from. (Without the snapshot —
 * tests, older callers — a sequence is tied to the lowest mark of the
 * snapshots taken since the previous sequence, never newer than the one used;
 * but a periodic run that reused the document took a snapshot and drew no
 * sequence, so that fallback could tie the next document to a mark before a
 * release and hold the address until an unrelated change: issue 18 item 2.)
 *
 * Owners (issue 15): every method taking an owner resolves it with
 * accounts.ts `resolveOwner` inside its transaction (an id or a name of an
 * existing account, else ACCOUNT_NOT_FOUND) and hands the services the id.
 * Creating (a group, an address, an instance) without an owner is for the
 * admin account; finding or listing without one reaches every account (a
 * name still resolves in the admin account). The EC2 endpoint passes the
 * caller's account, so another account's resource is `…NotFound`. Limits
 * (limits.ts) are read with the other settings in the write's transaction.
 *
 * Several CLCs on one PostgreSQL database (issue 16): each has its own
 * CloudState. Its in-memory caches (opened SigV4 secrets, accounts known to
 * have their default group, the snapshot cache) are cleared by the other
 * CLCs' changes too (`remote` origin: deleting an access key or an account
 * records a change for exactly that). The leader-only steps (nextSequence,
 * documentBuilt, nodesApplied) take the caller's term and act only while it
 * is the newest term in the database. The EC2 request rate limit
 * (ec2/server.ts) is kept in memory, so it is per CLC process: behind a load
 * balancer over N CLCs an access key may send up to N times the limit.
 */
import type { Db, Store, Tx } from '../db/store.ts';
import type { Clock } from '../../shared/clock.ts';
import type { CloudSnapshot, NodeApplied, SnapshotInstance, StateChange } from '../contracts.ts';
import type { ExplodedNetworkConfiguration } from '../config/types.ts';
import { explodedConfiguration, readPropertyTexts, typedValue } from '../properties/service.ts';
import { SnapshotCache, type SnapshotReadOptions } from '../snapshot/snapshot-cache.ts';
import * as clusters from './clusters.ts';
import * as instances from './instances.ts';
import * as groups from './groups.ts';
import * as addresses from './addresses.ts';
import * as ipam from './ipam.ts';
import * as accounts from './accounts.ts';
import * as credentials from './credentials.ts';
import type { RandomHex } from './args.ts';
import { resolveOwner } from './accounts.ts';
import { limitsOf, type AccountLimits } from './limits.ts';
import { EdgenetError, UserError } from '../../shared/errors.ts';
import { randomBytes } from 'node:crypto';

export interface CloudStateOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly clcIp: string;
  /** CLC_IPV6 (none: undefined); carried on snapshots as clcIpv6. */
  readonly clcIpv6?: string;
  readonly random?: () => number;
  readonly randomHex?: RandomHex;
  /**
   * The credentials key (credentials-key.ts) that seals EC2 secrets. Absent
   * (tests, an in-memory store): a random key that lives as long as this
   * object, so keys made here do not open after a restart.
   */
  readonly credentialsKey?: Buffer;
}

/** A key's last use is written at most this often (the write is off the request path). */
const KEY_USE_INTERVAL_MS = 60_000;

interface Settings {
  readonly cfg: ExplodedNetworkConfiguration | undefined;
  readonly strategy: ipam.AllocationStrategy;
  readonly holdTimeout: number;
  readonly additionalProtocols: readonly number[];
  readonly limits: AccountLimits;
}

/** An owner argument as a filter: nothing = every account; else the account it names (ACCOUNT_NOT_FOUND when none). */
async function ownerFilter(db: Db, value: unknown): Promise<string | undefined> {
  return value === undefined || value === null || value === '' ? undefined : resolveOwner(db, value);
}

export class CloudState {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly randomHex: RandomHex;
  readonly clcIp: string;
  private lastSnapshotMark: number | undefined;
  private pendingMinMark: number | undefined;
  private readonly sequenceMarks = new Map<number, number>();
  /** Release mark each snapshot was read at (the snapshot objects are fresh per read). */
  private readonly snapshotMarks = new WeakMap<CloudSnapshot, number>();
  /** Incremental snapshots: re-reads only what committed changes touched (snapshot/snapshot-cache.ts). */
  private readonly snapshots: SnapshotCache;
  private readonly sealer: credentials.Sealer;
  /** Opened secrets by access key id (SigV4 needs one per request); cleared after every key deletion. */
  private readonly secrets = new Map<string, { readonly accountId: string; readonly secret: string }>();
  /** Bumped with every clearing, so a lookup that raced a deletion does not cache what it read. */
  private secretsGeneration = 0;
  /** When each key's use was last written (KEY_USE_INTERVAL_MS). */
  private readonly keyUseWritten = new Map<string, number>();
  /** Accounts known to have their `default` group (ensureDefaultGroup skips the read); forgotten when one is deleted. */
  private readonly defaultGroupKnown = new Set<string>();

  constructor(options: CloudStateOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.clcIp = options.clcIp;
    this.random = options.random ?? Math.random;
    this.randomHex = options.randomHex ?? defaultRandomHex;
    this.snapshots = new SnapshotCache(this.clcIp, options.clcIpv6, () => this.store.announcedThrough());
    this.sealer = credentials.sealer(options.credentialsKey ?? randomBytes(32));
    // Lives as long as the store: the listener only marks parts of the cached snapshot stale,
    // and drops what another CLC's change made stale in this one's caches.
    this.store.onChange((change, origin) => {
      this.snapshots.changed(change);
      if (origin === 'remote') this.remoteChange(change);
    });
  }

  private async settings(tx: Tx): Promise<Settings> {
    const texts = await readPropertyTexts(tx.db);
    return {
      cfg: explodedConfiguration(texts),
      strategy: typedValue(texts, 'cloud.network.address_allocation') as ipam.AllocationStrategy,
      holdTimeout: typedValue(texts, 'cloud.network.address_hold_timeout') as number,
      additionalProtocols: typedValue(texts, 'cloud.network.ec2_classic_additional_protocols_allowed') as number[],
      limits: limitsOf(texts),
    };
  }

  private write<T>(fn: (tx: Tx, s: Settings, now: number) => Promise<T>): Promise<T> {
    return this.store.write(async (tx) => {
      const s = await this.settings(tx);
      const now = this.clock.now();
      return fn(tx, s, now);
    });
  }

  // Clusters and nodes.
  registerCluster(input: { name?: unknown; ccUrl?: unknown; ccIp?: unknown }) {
    return this.write((tx, _s, now) => clusters.registerCluster(tx, input, now));
  }
  updateCluster(name: unknown, input: { ccUrl?: unknown; ccIp?: unknown }) {
    return this.write((tx) => clusters.updateCluster(tx, name, input));
  }
  deregisterCluster(name: unknown) {
    return this.write((tx) => clusters.deregisterCluster(tx, name));
  }
  listClusters() {
    return this.store.read((db) => clusters.listClusters(db));
  }
  async getCluster(name: string) {
    const c = await this.store.read((db) => clusters.getCluster(db, name));
    if (!c) throw new UserError('CLUSTER_NOT_FOUND', `no cluster ${name} is registered`, { status: 404 });
    return c;
  }
  registerNode(input: { cluster?: unknown; name?: unknown; ncUrl?: unknown }) {
    return this.write((tx, _s, now) => clusters.registerNode(tx, input, now));
  }
  updateNode(name: unknown, input: { ncUrl?: unknown }) {
    return this.write((tx) => clusters.updateNode(tx, name, input));
  }
  deregisterNode(cluster: unknown, node: unknown) {
    return this.write((tx) => clusters.deregisterNode(tx, cluster, node));
  }
  listNodes(cluster?: string) {
    return this.store.read(async (db) => {
      if (cluster !== undefined) await clusters.requireCluster(db, cluster);
      return clusters.listNodes(db, cluster);
    });
  }

  /** Whether the EC2 endpoint serves RunInstances and TerminateInstances (cloud.ec2.run_instances). */
  ec2RunInstancesEnabled(): Promise<boolean> {
    return this.store.read(async (db) => typedValue(await readPropertyTexts(db), 'cloud.ec2.run_instances') === true);
  }

  // Instances.
  /** `node` optional (the cluster's least loaded node), `cluster` optional when one is configured; `owner` an account id or name. */
  runInstance(input: instances.RunInput) {
    return this.write(async (tx, s, now) => {
      const owner = await resolveOwner(tx.db, input.owner);
      await ipam.expireHolds(tx.db, now, s.holdTimeout);
      return instances.runInstance(tx, { ...input, owner }, { cfg: s.cfg, strategy: s.strategy, random: this.random, randomHex: this.randomHex, now });
    });
  }
  /** `owner` given: another account's instance is InvalidInstanceID.NotFound. */
  terminateInstance(id: unknown, owner?: unknown) {
    return this.write(async (tx, _s, now) => instances.terminateInstance(tx, id, now, await ownerFilter(tx.db, owner)));
  }
  listInstances(filter: { cluster?: string; node?: string; owner?: unknown; ids?: readonly string[] } = {}) {
    return this.store.read(async (db) => {
      const owner = await ownerFilter(db, filter.owner);
      const { owner: _given, ...rest } = filter;
      return instances.listInstances(db, { ...rest, ...(owner !== undefined ? { owner } : {}) }, explodedConfiguration(await readPropertyTexts(db)));
    });
  }
  /** `owner` given: another account's instance is InvalidInstanceID.NotFound. */
  async getInstance(id: string, owner?: unknown) {
    const i = await this.store.read(async (db) => {
      const scope = await ownerFilter(db, owner);
      const view = await instances.getInstance(db, id, explodedConfiguration(await readPropertyTexts(db)));
      return view && (scope === undefined || view.ownerId === scope) ? view : undefined;
    });
    if (!i) throw new UserError('InvalidInstanceID.NotFound', `the instance ${id} does not exist`, { status: 404 });
    return i;
  }

  // IPAM.
  ipamShow(cluster?: string) {
    return this.write(async (tx, s, now) => {
      await ipam.expireHolds(tx.db, now, s.holdTimeout);
      return ipam.ipamShow(tx.db, { cfg: s.cfg, strategy: s.strategy, holdTimeoutSeconds: s.holdTimeout, ...(cluster !== undefined ? { cluster } : {}) });
    });
  }
  addReservation(input: { ip?: unknown; note?: unknown }) {
    return this.write((tx, s, now) => ipam.addReservation(tx, input, ipam.poolsOf(s.cfg), now));
  }
  removeReservation(ip: unknown) {
    return this.write((tx) => ipam.removeReservation(tx, ip));
  }
  outsidePools() {
    return this.store.read(async (db) => ipam.outsidePools(db, explodedConfiguration(await readPropertyTexts(db))));
  }
  /** Frees holds past the time-out (also done before every allocation). */
  expireHolds() {
    return this.write((tx, s, now) => ipam.expireHolds(tx.db, now, s.holdTimeout));
  }

  // Security groups.
  createGroup(input: { name?: unknown; owner?: unknown; description?: unknown }) {
    return this.write(async (tx, s, now) => {
      const owner = await resolveOwner(tx.db, input.owner);
      return groups.createGroup(tx, { ...input, owner }, { now, randomHex: this.randomHex, limits: s.limits });
    });
  }
  /** `protectDefault` (the EC2 path): a group named `default` is CannotDelete. The admin API may delete it. */
  async deleteGroup(ref: unknown, owner?: unknown, options: groups.DeleteGroupOptions = {}) {
    const deleted = await this.write(async (tx) => groups.deleteGroup(tx, ref, await ownerFilter(tx.db, owner), options));
    if (deleted.name === groups.DEFAULT_GROUP_NAME) this.defaultGroupKnown.delete(deleted.owner_id);
    return deleted;
  }
  /** `ids`: only these groups (unknown ones are left out). */
  listGroups(owner?: unknown, ids?: readonly string[]) {
    return this.store.read(async (db) => groups.listGroups(db, await ownerFilter(db, owner), ids));
  }
  getGroup(ref: unknown, owner?: unknown) {
    return this.store.read(async (db) => (await groups.getGroupById(db, (await groups.resolveGroup(db, ref, await ownerFilter(db, owner))).id))!);
  }
  /** `sourceScope`, `refuseExisting`: the EC2 path's caller account and duplicate rule (groups.ts RuleRequest). */
  authorize(ref: unknown, owner: unknown, body: unknown, options: { sourceScope?: string; refuseExisting?: boolean } = {}) {
    return this.write(async (tx, s, now) =>
      groups.authorize(tx, { ref, owner: await ownerFilter(tx.db, owner), body, additionalProtocols: s.additionalProtocols, ...options, now, limits: s.limits }),
    );
  }
  revoke(ref: unknown, owner: unknown, body: unknown, options: { sourceScope?: string } = {}) {
    return this.write(async (tx, s) => groups.revoke(tx, { ref, owner: await ownerFilter(tx.db, owner), body, additionalProtocols: s.additionalProtocols, ...options }));
  }
  /**
   * Creates the account's `default` group when it has none (groups.ts
   * ensureDefaultGroup): the EC2 endpoint calls it on an account's requests,
   * so the admin account and migrated accounts get theirs on first use. A
   * write only when the group is missing (checked with a read; remembered).
   */
  async ensureDefaultGroup(accountId: string): Promise<void> {
    if (this.defaultGroupKnown.has(accountId)) return;
    const present = await this.store.read((db) => groups.defaultGroupOf(db, accountId));
    if (present === undefined) {
      await this.write(async (tx, _s, now) => groups.ensureDefaultGroup(tx, await resolveOwner(tx.db, accountId), now, this.randomHex));
    }
    this.defaultGroupKnown.add(accountId);
  }

  // Public addresses.
  allocateAddress(input: { owner?: unknown; ip?: unknown }) {
    return this.write(async (tx, s, now) => {
      const owner = await resolveOwner(tx.db, input.owner);
      await ipam.expireHolds(tx.db, now, s.holdTimeout);
      return addresses.allocatePublicAddress(tx, { ...input, owner }, { cfg: s.cfg, strategy: s.strategy, random: this.random, now, limits: s.limits });
    });
  }
  /** `owner` given: another account's address or instance is not found. */
  associateAddress(input: { ip?: unknown; instance?: unknown; owner?: unknown }) {
    return this.write(async (tx) => addresses.associateAddress(tx, { ...input, owner: await ownerFilter(tx.db, input.owner) }));
  }
  disassociateAddress(input: { ip?: unknown; owner?: unknown }) {
    return this.write(async (tx) => addresses.disassociateAddress(tx, { ...input, owner: await ownerFilter(tx.db, input.owner) }));
  }
  releaseAddress(input: { ip?: unknown; owner?: unknown }) {
    return this.write(async (tx, _s, now) => addresses.releasePublicAddress(tx, { ...input, owner: await ownerFilter(tx.db, input.owner) }, now));
  }
  listAddresses(owner?: unknown) {
    return this.store.read(async (db) => addresses.listAddresses(db, await ownerFilter(db, owner)));
  }

  // Accounts and access keys.
  /** A new account, its `default` group and its first access key, in one transaction (the secret is in the answer only). */
  createAccount(input: { name?: unknown }) {
    return this.write(async (tx, _s, now) => {
      const row = await accounts.insertAccount(tx, input, { now, random: this.random });
      const defaultGroup = await groups.ensureDefaultGroup(tx, row.id, now, this.randomHex);
      const accessKey = await credentials.createAccessKey(tx, row, { sealer: this.sealer, now });
      return { account: await accounts.getAccount(tx.db, row.id), defaultGroupId: defaultGroup.id, accessKey };
    });
  }
  listAccounts() {
    return this.store.read((db) => accounts.listAccounts(db));
  }
  /** One account (id or name) with its keys (never their secrets). */
  getAccount(ref: unknown) {
    return this.store.read(async (db) => {
      const account = await accounts.getAccount(db, ref);
      return { ...account, keys: await credentials.listAccessKeys(db, this.sealer.keyId, account.id) };
    });
  }
  /** Refused for the admin account and while it owns anything but its `default` group (ACCOUNT_IN_USE); its keys go with it. */
  async deleteAccount(ref: unknown) {
    const result = await this.write(async (tx) => {
      const row = await accounts.accountToDelete(tx.db, ref, groups.DEFAULT_GROUP_NAME);
      const account = await accounts.getAccount(tx.db, row.id);
      const defaultGroup = await groups.defaultGroupOf(tx.db, row.id);
      if (defaultGroup !== undefined) await groups.deleteGroup(tx, defaultGroup, row.id);
      const accessKeysDeleted = await accounts.deleteAccountRow(tx, row);
      tx.changed({ kind: 'account', id: row.id });
      return { deleted: account, accessKeysDeleted, ...(defaultGroup !== undefined ? { defaultGroupDeleted: defaultGroup } : {}) };
    });
    this.forgetSecrets();
    return result;
  }
  createAccessKey(accountRef: unknown) {
    return this.write(async (tx, _s, now) => credentials.createAccessKey(tx, await accounts.resolveAccount(tx.db, accountRef), { sealer: this.sealer, now }));
  }
  /** Every key, or one account's (id or name). */
  listAccessKeys(accountRef?: unknown) {
    return this.store.read(async (db) => {
      const account = accountRef === undefined || accountRef === null || accountRef === '' ? undefined : await accounts.resolveAccount(db, accountRef);
      return credentials.listAccessKeys(db, this.sealer.keyId, account?.id);
    });
  }
  async deleteAccessKey(accessKeyId: unknown) {
    const deleted = await this.write(async (tx) => {
      const key = await credentials.deleteAccessKey(tx, accessKeyId, this.sealer.keyId);
      tx.changed({ kind: 'access-key', id: String(accessKeyId).trim() });
      return key;
    });
    this.forgetSecrets();
    return deleted;
  }
  /**
   * The account and secret of an access key, for SigV4 verification (once
   * per request: cached in memory after the first read). Undefined for an
   * unknown key and for one sealed under another credentials key
   * (CREDENTIALS_KEY_UNAVAILABLE): the request fails with AuthFailure.
   */
  async accessKeySecret(accessKeyId: string): Promise<{ accountId: string; secret: string } | undefined> {
    const cached = this.secrets.get(accessKeyId);
    if (cached !== undefined) return cached;
    const generation = this.secretsGeneration;
    const row = await this.store.read((db) => credentials.sealedKey(db, accessKeyId));
    if (row === undefined || row.keyId !== this.sealer.keyId) return undefined;
    const secret = credentials.openSecret(this.sealer.key, accessKeyId, row.secretBox);
    if (secret === undefined) return undefined;
    const value = { accountId: row.accountId, secret };
    if (generation === this.secretsGeneration) this.secrets.set(accessKeyId, value);
    return value;
  }
  /**
   * A request signed with this key was verified: its `last_used_at` is
   * written at most once a minute per key, in a write of its own that the
   * request does not wait for (a failure to record it costs nothing).
   */
  accessKeyUsed(accessKeyId: string): void {
    const now = this.clock.now();
    const last = this.keyUseWritten.get(accessKeyId);
    if (last !== undefined && now - last < KEY_USE_INTERVAL_MS) return;
    this.keyUseWritten.set(accessKeyId, now);
    this.store.write((tx) => credentials.recordKeyUse(tx, accessKeyId, now)).catch(() => undefined);
  }
  /** The credentials key's fingerprint and the stored keys it cannot open (sealed under another key: the start-up check). */
  credentialsStatus() {
    return this.store.read(async (db) => ({ keyId: this.sealer.keyId, ...(await credentials.keysSealedElsewhere(db, this.sealer.keyId)) }));
  }
  /** Another CLC committed `change`: forget what it may have made stale (secrets of deleted keys, default groups). */
  private remoteChange(change: StateChange): void {
    const kind = change.kind;
    if (kind === 'access-key' || kind === 'account' || kind === 'resync') this.forgetSecrets();
    if (kind === 'group' || kind === 'account' || kind === 'resync') this.defaultGroupKnown.clear();
  }
  private forgetSecrets(): void {
    this.secrets.clear();
    this.keyUseWritten.clear();
    this.secretsGeneration++;
  }

  // For the GNI builder and the broadcaster.
  async snapshot(options: SnapshotReadOptions = {}): Promise<CloudSnapshot> {
    const { snapshot, mark } = await this.store.read(async (db) => ({ snapshot: await this.snapshots.read(db, options), mark: await ipam.currentReleaseMark(db) }));
    this.lastSnapshotMark = mark;
    this.snapshotMarks.set(snapshot, mark);
    this.pendingMinMark = this.pendingMinMark === undefined ? mark : Math.min(this.pendingMinMark, mark);
    return snapshot;
  }

  /**
   * Draws the next broadcast sequence. `term` (the leader's, ha/): drawn only
   * while it is the newest term in the database, else NOT_LEADER — a deposed
   * leader cannot stamp a document newer than its successor's. Undefined:
   * unfenced (tests and tools without leadership).
   */
  async nextSequence(term?: number): Promise<number> {
    const row = await this.store.write(async (tx) => {
      if (!(await termIsCurrent(tx.db, term))) {
        throw new EdgenetError('NOT_LEADER', `this CLC led in term ${term}, but a newer term has begun: the new leader broadcasts`);
      }
      return tx.db
        .updateTable('meta')
        .set((eb) => ({ value: eb('value', '+', 1) }))
        .where('key', '=', 'broadcast_sequence')
        .returning('value')
        .executeTakeFirstOrThrow();
    });
    const mark = this.pendingMinMark ?? this.lastSnapshotMark;
    if (mark !== undefined) this.sequenceMarks.set(row.value, mark);
    this.pendingMinMark = undefined;
    // Bound memory: documents older than the last few hundred never report back usefully.
    if (this.sequenceMarks.size > 1000) this.sequenceMarks.delete(this.sequenceMarks.keys().next().value as number);
    return row.value;
  }

  /** The database's generation, stamped on documents with their sequence (db/generation.ts). */
  async generation(): Promise<number> {
    return this.store.generation();
  }

  /**
   * The document `sequence` was built from `snapshot` (a value this object
   * returned). `term`: recorded only while it is the newest term (a deposed
   * leader's report is ignored); undefined: unfenced (tests).
   */
  async documentBuilt(sequence: number, snapshot?: CloudSnapshot, term?: number): Promise<void> {
    const mark = (snapshot === undefined ? undefined : this.snapshotMarks.get(snapshot)) ?? this.sequenceMarks.get(sequence);
    // Unknown sequence (no snapshot taken before it): claim nothing, holds stay.
    if (mark === undefined) return;
    await this.store.write(async (tx) => {
      if (!(await termIsCurrent(tx.db, term))) return;
      await ipam.markDocumentBuilt(tx.db, sequence, mark);
      await ipam.freeConvergedHolds(tx.db);
    });
  }

  /** What nodes applied (the leader's CC polls); `term` fences it as documentBuilt's. Returns the addresses whose holds ended. */
  async nodesApplied(applied: readonly NodeApplied[], term?: number): Promise<string[]> {
    return this.store.write(async (tx) => ((await termIsCurrent(tx.db, term)) ? ipam.recordNodesApplied(tx.db, applied, { now: this.clock.now(), generation: this.store.generation() }) : []));
  }

  async instanceByPrivateIp(ip: string): Promise<SnapshotInstance | undefined> {
    return this.store.read(async (db) => {
      const row = await db.selectFrom('instances').select('id').where('private_ip', '=', ip).executeTakeFirst();
      if (!row) return undefined;
      const view = await instances.getInstance(db, row.id);
      if (!view) return undefined;
      return {
        id: view.id,
        ownerId: view.ownerId,
        cluster: view.cluster,
        node: view.node,
        mac: view.mac,
        ...(view.privateIp !== undefined ? { privateIp: view.privateIp } : {}),
        ...(view.publicIp !== undefined ? { publicIp: view.publicIp } : {}),
        groups: view.groups,
        ...(view.userData !== undefined ? { userData: view.userData } : {}),
      };
    });
  }
}

/** Whether `term` is the newest term in the database (undefined: no fence). */
async function termIsCurrent(db: Db, term: number | undefined): Promise<boolean> {
  if (term === undefined) return true;
  const current = await db.selectFrom('meta').select('value').where('key', '=', 'leader_term').executeTakeFirst();
  return current !== undefined && Number(current.value) === term;
}

function defaultRandomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}
