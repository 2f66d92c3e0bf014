/**
 * IPAM: private pools per cluster and the public pool, all derived from the
 * exploded network configuration, plus the lease table (ideas from Ganeti's
 * network design: a pool is ranges + a reservation map + external reservations).
 *
 * Model: an address is free unless `ip_leases` holds a row for it, in one of
 * three states — `allocated` (an instance's private IP or an account's public
 * IP), `reserved` (external reservation: never handed out) or `held` (released
 * but maybe still laid down on a node). The lease table's primary key is the
 * lock: two allocations of one address cannot both commit.
 *
 * Holds: a release records every registered node (an instance's addresses sit
 * in its groups' ipsets on every node, not only where it ran) and a release
 * mark (a counter). When a GNI document is built from a snapshot whose mark
 * covers the release, the hold learns that document's sequence; the address
 * becomes free once every one of those nodes has applied a sequence ≥ it (a
 * deregistered node counts as converged), or when `address_hold_timeout`
 * seconds have passed — whichever comes first.
 *
 * IPv6 (dual stack) has no pool: an instance's address is the EUI-64 of its
 * MAC in its cluster's /64, computed (config/instance-ipv6.ts), so nothing is
 * leased or held; `ipamShow` lists the /64s and the addresses (`ipv6`).
 *
 * ROUTED (issue 17): a cluster's private pool is its routable Ipv4Pool (the
 * exploded PrivateIps), allocated exactly like EDGE's. An IPv6-only cluster
 * has no IPv4 pool at all (`clusterHasIpv4`): its instances get no IPv4
 * address (instances.private_ip NULL), only the EUI-64 IPv6 one.
 *
 * Pools change with the property: an allocated address that a pool no longer
 * covers stays allocated (never moved) and is reported by `outsidePools`.
 */
import type { Db, Tx } from '../db/store.ts';
import type { ExplodedCluster, ExplodedNetworkConfiguration } from '../config/types.ts';
import type { NodeApplied } from '../contracts.ts';
import type { LeaseState } from '../db/schema.ts';
import { sql } from 'kysely';
import { UserError } from '../../shared/errors.ts';
import { formatIp, formatRange, normalizeRanges, parseIp, parseRangeEntry, rangeContains, rangeSize, type IpRange } from '../../shared/ip.ts';
import { ipArgument, optionalString } from './args.ts';
import { instanceIpv6Address, ipv6Prefixes } from '../config/instance-ipv6.ts';

export const PUBLIC_POOL = 'public';
export const clusterPool = (cluster: string) => `cluster:${cluster}`;

export type AllocationStrategy = 'first-free' | 'random';

export interface Pool {
  /** `public` or `cluster:<name>`. */
  readonly key: string;
  readonly kind: 'public' | 'private';
  readonly cluster?: string;
  readonly ranges: readonly IpRange[];
}

/**
 * Whether the cluster's instances get an IPv4 address: every EDGE cluster, and
 * a ROUTED one unless its addressing is IPv6-only (no Ipv4Pool; its exploded
 * PrivateIps is then empty, meaning "no IPv4", not "the whole subnet").
 */
export function clusterHasIpv4(c: ExplodedCluster): boolean {
  return c.Routed === undefined || c.Routed.Addressing !== 'ipv6';
}

/** The public pool and one private pool per cluster with IPv4 (an IPv6-only ROUTED cluster has none). */
export function poolsOf(cfg: ExplodedNetworkConfiguration | undefined): Pool[] {
  if (!cfg) return [];
  const toRanges = (entries: readonly string[]) => normalizeRanges(entries.map(parseRangeEntry).filter((r): r is IpRange => r !== undefined && r.lo <= r.hi));
  return [
    { key: PUBLIC_POOL, kind: 'public', ranges: toRanges(cfg.PublicIps) },
    ...cfg.Clusters.filter(clusterHasIpv4).map((c) => ({ key: clusterPool(c.Name), kind: 'private' as const, cluster: c.Name, ranges: toRanges(c.PrivateIps) })),
  ];
}

export function poolContaining(pools: readonly Pool[], ip: number): Pool | undefined {
  return pools.find((p) => p.ranges.some((r) => rangeContains(r, ip)));
}

/** Frees holds older than the timeout; returns how many. */
export async function expireHolds(db: Db, now: number, timeoutSeconds: number): Promise<number> {
  const result = await db
    .deleteFrom('ip_leases')
    .where('state', '=', 'held')
    .where('released_at', '<=', now - timeoutSeconds * 1000)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export interface AllocateRequest {
  readonly pool: Pool;
  readonly strategy: AllocationStrategy;
  readonly random: () => number;
  /** A specific address asked for. */
  readonly requested?: string;
  readonly holder: string;
  readonly now: number;
}

/** Picks a free address of the pool (or checks the requested one) and leases it. */
export async function allocateAddress(tx: Tx, req: AllocateRequest): Promise<string> {
  const { pool } = req;
  let ip: number | undefined;
  if (req.requested !== undefined) {
    const wanted = parseIp(req.requested);
    if (wanted === undefined) throw new UserError('InvalidParameterValue', `${JSON.stringify(req.requested)} is not an IPv4 address`);
    if (!pool.ranges.some((r) => rangeContains(r, wanted))) {
      throw new UserError('ADDRESS_NOT_IN_POOL', `${req.requested} is not in the ${describePool(pool)} (${pool.ranges.map(formatRange).join(', ') || 'empty'})`);
    }
    const existing = await tx.db.selectFrom('ip_leases').select('state').where('ip_num', '=', wanted).executeTakeFirst();
    if (existing) throw leaseConflict(req.requested, existing.state);
    ip = wanted;
  } else {
    ip = req.strategy === 'random' ? await pickRandom(tx.db, pool.ranges, req.random) : await pickFirstFree(tx.db, pool.ranges);
    if (ip === undefined) {
      const taken = await takenIn(tx.db, pool);
      const counts = { allocated: 0, held: 0, reserved: 0 };
      for (const [n, st] of taken) if (pool.ranges.some((r) => rangeContains(r, n))) counts[st]++;
      const size = pool.ranges.reduce((n, r) => n + rangeSize(r), 0);
      throw new UserError(
        'ADDRESS_POOL_EXHAUSTED',
        `no free address in the ${describePool(pool)}: ${size} addresses, ${counts.allocated} allocated, ${counts.held} held (released, waiting for nodes to converge), ${counts.reserved} reserved`,
        { status: 409, details: { pool: pool.key, size, ...counts } },
      );
    }
  }
  const text = formatIp(ip);
  await tx.db
    .insertInto('ip_leases')
    .values({ ip: text, ip_num: ip, pool: pool.key, state: 'allocated', holder: req.holder, note: null, created_at: req.now, released_at: null, release_mark: null, released_seq: null, hold_nodes: null })
    .execute();
  tx.changed({ kind: 'ipam', id: text });
  return text;
}

/** An address given from outside (an import): leased to `holder` in `pool` as it is, no search. */
export interface PinRequest {
  readonly pool: Pool;
  readonly ip: string;
  readonly holder: string;
  readonly now: number;
}

/**
 * Leases exactly `req.ip` (`edgenet import gni` keeps a running cloud's
 * addresses). Unlike `allocateAddress` an address outside the pool's ranges is
 * accepted: it is then one the pool no longer covers, the state a property
 * change can also leave (never moved, listed by `outsidePools`), and the
 * caller reports it. An address already leased is refused as in an allocation.
 * Returns whether the pool covers the address.
 */
export async function pinAddress(tx: Tx, req: PinRequest): Promise<{ readonly inPool: boolean }> {
  const ip = parseIp(req.ip);
  if (ip === undefined) throw new UserError('InvalidParameterValue', `${JSON.stringify(req.ip)} is not an IPv4 address`);
  const existing = await tx.db.selectFrom('ip_leases').select('state').where('ip_num', '=', ip).executeTakeFirst();
  if (existing) throw leaseConflict(req.ip, existing.state);
  const text = formatIp(ip);
  await tx.db
    .insertInto('ip_leases')
    .values({ ip: text, ip_num: ip, pool: req.pool.key, state: 'allocated', holder: req.holder, note: null, created_at: req.now, released_at: null, release_mark: null, released_seq: null, hold_nodes: null })
    .execute();
  tx.changed({ kind: 'ipam', id: text });
  return { inPool: req.pool.ranges.some((r) => rangeContains(r, ip)) };
}

function describePool(pool: Pool): string {
  return pool.kind === 'public' ? 'public pool' : `private pool of cluster ${pool.cluster}`;
}

function leaseConflict(ip: string, state: LeaseState): UserError {
  switch (state) {
    case 'allocated':
      return new UserError('ADDRESS_IN_USE', `${ip} is already allocated`, { status: 409 });
    case 'held':
      return new UserError('ADDRESS_HELD', `${ip} was released recently and is held until every registered node has applied a document without it`, { status: 409 });
    case 'reserved':
      return new UserError('ADDRESS_RESERVED', `${ip} is externally reserved`, { status: 409 });
  }
}

async function takenIn(db: Db, pool: Pool): Promise<Map<number, LeaseState>> {
  const taken = new Map<number, LeaseState>();
  if (pool.ranges.length === 0) return taken;
  const lo = pool.ranges[0]!.lo;
  const hi = pool.ranges[pool.ranges.length - 1]!.hi;
  const rows = await db.selectFrom('ip_leases').select(['ip_num', 'state']).where('ip_num', '>=', lo).where('ip_num', '<=', hi).execute();
  for (const r of rows) taken.set(r.ip_num, r.state);
  return taken;
}

/**
 * Lowest free address in [lo, hi]: `lo` itself, or the first lease in the
 * range whose successor is not leased. The database walks its ip_num index,
 * so the cost does not grow with rows materialized in JavaScript.
 */
async function firstFreeIn(db: Db, lo: number, hi: number): Promise<number | undefined> {
  const { rows } = await sql<{ candidate: number }>`
    SELECT candidate FROM (
      SELECT CAST(${lo} AS BIGINT) AS candidate WHERE NOT EXISTS (SELECT 1 FROM ip_leases WHERE ip_num = ${lo})
      UNION ALL
      SELECT l.ip_num + 1 AS candidate FROM ip_leases l
       WHERE l.ip_num >= ${lo} AND l.ip_num < ${hi}
         AND NOT EXISTS (SELECT 1 FROM ip_leases m WHERE m.ip_num = l.ip_num + 1)
    ) AS free ORDER BY candidate LIMIT 1`.execute(db);
  return rows[0]?.candidate;
}

async function pickFirstFree(db: Db, ranges: readonly IpRange[]): Promise<number | undefined> {
  for (const r of ranges) {
    const ip = await firstFreeIn(db, r.lo, r.hi);
    if (ip !== undefined) return ip;
  }
  return undefined;
}

async function isLeased(db: Db, ip: number): Promise<boolean> {
  return (await db.selectFrom('ip_leases').select('ip_num').where('ip_num', '=', ip).executeTakeFirst()) !== undefined;
}

/** Uniform random probes, then the first free address after a random point (wrapping), so a free address is always found if one exists. */
async function pickRandom(db: Db, ranges: readonly IpRange[], random: () => number): Promise<number | undefined> {
  const size = ranges.reduce((n, r) => n + rangeSize(r), 0);
  if (size === 0) return undefined;
  const at = (offset: number): { ip: number; range: number } => {
    for (let i = 0; i < ranges.length; i++) {
      const n = rangeSize(ranges[i]!);
      if (offset < n) return { ip: ranges[i]!.lo + offset, range: i };
      offset -= n;
    }
    throw new RangeError('offset outside pool');
  };
  for (let probe = 0; probe < 16; probe++) {
    const { ip } = at(Math.floor(random() * size));
    if (!(await isLeased(db, ip))) return ip;
  }
  const start = at(Math.floor(random() * size));
  const first = ranges[start.range]!;
  const after = await firstFreeIn(db, start.ip, first.hi);
  if (after !== undefined) return after;
  for (let k = 1; k <= ranges.length; k++) {
    const r = ranges[(start.range + k) % ranges.length]!;
    const hi = k === ranges.length ? start.ip - 1 : r.hi;
    if (hi < r.lo) continue;
    const ip = await firstFreeIn(db, r.lo, hi);
    if (ip !== undefined) return ip;
  }
  return undefined;
}

/** Advances the release counter: every later snapshot sees the change that caused it. */
export async function bumpReleaseMark(db: Db): Promise<number> {
  const row = await db
    .updateTable('meta')
    .set((eb) => ({ value: eb('value', '+', 1) }))
    .where('key', '=', 'release_mark')
    .returning('value')
    .executeTakeFirstOrThrow();
  return row.value;
}

/**
 * Ends an allocation: held until every registered node converged (a member's
 * addresses are in its groups' ipsets on every node, not only on the node that
 * ran it: a node still holding the old member would give the address's next
 * owner that member's access), or freed at once when `nodes` is empty (no
 * document ever carried it). `absentSinceMark` says the address already left the documents
 * earlier (a public address disassociated before its release): a document
 * built since then already counts, so the hold may end as soon as the nodes
 * applied it.
 */
export async function releaseAddress(
  tx: Tx,
  { ip, nodes, now, absentSinceMark }: { readonly ip: string; readonly nodes: readonly string[]; readonly now: number; readonly absentSinceMark?: number | undefined },
): Promise<void> {
  const registered = nodes.length === 0 ? [] : (await tx.db.selectFrom('nodes').select('name').execute()).map((r) => r.name);
  const distinct = [...new Set([...nodes, ...registered])];
  if (distinct.length === 0) {
    await tx.db.deleteFrom('ip_leases').where('ip', '=', ip).execute();
  } else {
    const mark = absentSinceMark ?? (await bumpReleaseMark(tx.db));
    const built = await tx.db.selectFrom('meta').select(['key', 'value']).where('key', 'in', ['built_sequence', 'built_mark']).execute();
    const builtSeq = built.find((b) => b.key === 'built_sequence')?.value ?? 0;
    const builtMark = built.find((b) => b.key === 'built_mark')?.value ?? -1;
    await tx.db
      .updateTable('ip_leases')
      .set({
        state: 'held',
        holder: null,
        released_at: now,
        release_mark: mark,
        released_seq: absentSinceMark !== undefined && absentSinceMark <= builtMark ? builtSeq : null,
        hold_nodes: JSON.stringify(distinct),
      })
      .where('ip', '=', ip)
      .execute();
    if (absentSinceMark !== undefined) await freeConvergedHolds(tx.db);
  }
  tx.changed({ kind: 'ipam', id: ip });
}

export async function currentReleaseMark(db: Db): Promise<number> {
  const row = await db.selectFrom('meta').select('value').where('key', '=', 'release_mark').executeTakeFirstOrThrow();
  return row.value;
}

/** The document `sequence` was built from a snapshot at release mark `mark`: holds released up to it are absent from it. */
export async function markDocumentBuilt(db: Db, sequence: number, mark: number): Promise<void> {
  const last = await db.selectFrom('meta').select('value').where('key', '=', 'built_mark').executeTakeFirst();
  if (last === undefined || mark >= last.value) {
    await db.updateTable('meta').set({ value: sequence }).where('key', '=', 'built_sequence').execute();
    await db.updateTable('meta').set({ value: mark }).where('key', '=', 'built_mark').execute();
  }
  await db
    .updateTable('ip_leases')
    .set({ released_seq: sequence })
    .where('state', '=', 'held')
    .where('released_seq', 'is', null)
    .where('release_mark', '<=', mark)
    .execute();
}

/**
 * Records what nodes applied and frees every hold all of whose nodes have converged. Returns freed addresses.
 * Reports of another generation than this database's are ignored: after a restore, nodes still report
 * sequences of the superseded database's timeline (possibly higher than ours) until they apply our first
 * document. A report without a generation (a netd from before generations) is taken as ours, as before.
 */
export async function recordNodesApplied(db: Db, applied: readonly NodeApplied[], options: { now: number; generation: number }): Promise<string[]> {
  for (const a of applied) {
    if (a.appliedSequence !== undefined && a.appliedGeneration !== undefined && a.appliedGeneration !== options.generation) continue;
    const previous = await db.selectFrom('node_applied').select(['sequence', 'generation']).where('node', '=', a.node).executeTakeFirst();
    // Never move a node's applied sequence backwards (late or reordered reports) within a generation.
    const before = previous?.generation === options.generation ? previous.sequence : null;
    const seq = a.appliedSequence === undefined ? (before ?? null) : Math.max(a.appliedSequence, before ?? -Infinity);
    const row = { cluster: a.cluster, sequence: seq, generation: options.generation, version: a.appliedVersion ?? null, at: options.now };
    if (previous) await db.updateTable('node_applied').set(row).where('node', '=', a.node).execute();
    else await db.insertInto('node_applied').values({ node: a.node, ...row }).execute();
  }
  return freeConvergedHolds(db);
}

export async function freeConvergedHolds(db: Db): Promise<string[]> {
  const holds = await db.selectFrom('ip_leases').select(['ip', 'released_seq', 'hold_nodes']).where('state', '=', 'held').where('released_seq', 'is not', null).execute();
  if (holds.length === 0) return [];
  const nodes = await db.selectFrom('nodes').select('name').execute();
  const registered = new Set(nodes.map((n) => n.name));
  const appliedRows = await db.selectFrom('node_applied').select(['node', 'sequence']).execute();
  const appliedBy = new Map(appliedRows.map((r) => [r.node, r.sequence]));
  const freed: string[] = [];
  for (const h of holds) {
    const holders = JSON.parse(h.hold_nodes ?? '[]') as string[];
    const converged = holders.every((n) => !registered.has(n) || (appliedBy.get(n) ?? -1) >= h.released_seq!);
    if (converged) freed.push(h.ip);
  }
  for (let i = 0; i < freed.length; i += 500) {
    await db.deleteFrom('ip_leases').where('state', '=', 'held').where('ip', 'in', freed.slice(i, i + 500)).execute();
  }
  return freed;
}

export async function addReservation(tx: Tx, input: { ip?: unknown; note?: unknown }, pools: readonly Pool[], now: number): Promise<void> {
  const ip = ipArgument(input.ip, 'ip');
  const note = optionalString(input.note, 'note') ?? null;
  const num = parseIp(ip)!;
  const pool = poolContaining(pools, num);
  if (!pool) throw new UserError('ADDRESS_NOT_IN_POOL', `${ip} is in no pool of the network configuration`);
  const existing = await tx.db.selectFrom('ip_leases').select('state').where('ip', '=', ip).executeTakeFirst();
  if (existing) {
    if (existing.state === 'reserved') throw new UserError('ADDRESS_ALREADY_RESERVED', `${ip} is already reserved`, { status: 409 });
    throw leaseConflict(ip, existing.state);
  }
  await tx.db
    .insertInto('ip_leases')
    .values({ ip, ip_num: num, pool: pool.key, state: 'reserved', holder: null, note, created_at: now, released_at: null, release_mark: null, released_seq: null, hold_nodes: null })
    .execute();
  tx.changed({ kind: 'ipam', id: ip });
}

export async function removeReservation(tx: Tx, ipInput: unknown): Promise<void> {
  const ip = ipArgument(ipInput, 'ip');
  const existing = await tx.db.selectFrom('ip_leases').select('state').where('ip', '=', ip).executeTakeFirst();
  if (!existing || existing.state !== 'reserved') throw new UserError('RESERVATION_NOT_FOUND', `${ip} is not reserved`, { status: 404 });
  await tx.db.deleteFrom('ip_leases').where('ip', '=', ip).execute();
  tx.changed({ kind: 'ipam', id: ip });
}

export interface LeaseView {
  readonly ip: string;
  readonly pool: string;
  readonly state: LeaseState;
  readonly holder?: string;
  readonly note?: string;
}

/** Allocated, held or reserved addresses that no pool of the current configuration covers. */
export async function outsidePools(db: Db, cfg: ExplodedNetworkConfiguration | undefined): Promise<LeaseView[]> {
  const pools = poolsOf(cfg);
  const rows = await db.selectFrom('ip_leases').selectAll().orderBy('ip_num').execute();
  return rows
    .filter((r) => {
      const pool = pools.find((p) => p.key === r.pool);
      return !pool || !pool.ranges.some((range) => rangeContains(range, r.ip_num));
    })
    .map(leaseView);
}

function leaseView(r: { ip: string; pool: string; state: LeaseState; holder: string | null; note: string | null }): LeaseView {
  return { ip: r.ip, pool: r.pool, state: r.state, ...(r.holder ? { holder: r.holder } : {}), ...(r.note ? { note: r.note } : {}) };
}

export interface PoolView {
  readonly pool: string;
  readonly kind: 'public' | 'private';
  readonly cluster?: string;
  readonly ranges: readonly string[];
  readonly size: number;
  readonly free: number;
  readonly allocated: number;
  readonly held: number;
  readonly reserved: number;
  /** One character per address in range order: X allocated, . free, r reserved, h held (omitted past 65,536 addresses). */
  readonly map?: string;
}

export interface HoldView {
  readonly ip: string;
  readonly pool: string;
  readonly releasedAt: string;
  readonly expiresAt: string;
  readonly nodes: readonly string[];
  readonly documentSequence?: number;
}

/**
 * A dual-stack cluster's IPv6 side: no pool (nothing is allocated or held),
 * the /64 and each instance's address, the EUI-64 of its MAC in it
 * (config/instance-ipv6.ts).
 */
export interface Ipv6ClusterView {
  readonly cluster: string;
  readonly prefix: string;
  readonly dnsServers: readonly string[];
  readonly instances: readonly { readonly id: string; readonly mac: string; readonly ipv6: string }[];
}

export interface IpamView {
  readonly strategy: AllocationStrategy;
  readonly pools: readonly PoolView[];
  readonly holds: readonly HoldView[];
  readonly reservations: readonly LeaseView[];
  readonly outsidePools: readonly LeaseView[];
  /** Only when some cluster in scope is dual-stack (an IPv4-only view is as before). */
  readonly ipv6?: readonly Ipv6ClusterView[];
}

const MAP_LIMIT = 65_536;

export async function ipamShow(
  db: Db,
  options: { cfg: ExplodedNetworkConfiguration | undefined; cluster?: string; strategy: AllocationStrategy; holdTimeoutSeconds: number },
): Promise<IpamView> {
  let pools = poolsOf(options.cfg);
  if (options.cluster !== undefined) {
    // An IPv6-only ROUTED cluster has no pool but is configured: its view is its IPv6 side only.
    if (!(options.cfg?.Clusters ?? []).some((c) => c.Name === options.cluster)) {
      throw new UserError('CLUSTER_NOT_CONFIGURED', `cluster ${options.cluster} is not in cloud.network.network_configuration`, { status: 404 });
    }
    pools = pools.filter((p) => p.cluster === options.cluster);
  }
  const poolViews: PoolView[] = [];
  for (const pool of pools) {
    const taken = await takenIn(db, pool);
    const size = pool.ranges.reduce((n, r) => n + rangeSize(r), 0);
    const counts = { allocated: 0, held: 0, reserved: 0 };
    for (const [ip, state] of taken) if (pool.ranges.some((r) => rangeContains(r, ip))) counts[state]++;
    let map = '';
    if (size <= MAP_LIMIT) {
      const chars: string[] = [];
      for (const r of pool.ranges) {
        for (let ip = r.lo; ip <= r.hi; ip++) {
          const state = taken.get(ip);
          chars.push(state === 'allocated' ? 'X' : state === 'held' ? 'h' : state === 'reserved' ? 'r' : '.');
        }
      }
      map = chars.join('');
    }
    poolViews.push({
      pool: pool.key,
      kind: pool.kind,
      ...(pool.cluster !== undefined ? { cluster: pool.cluster } : {}),
      ranges: pool.ranges.map(formatRange),
      size,
      free: size - counts.allocated - counts.held - counts.reserved,
      ...counts,
      ...(size <= MAP_LIMIT ? { map } : {}),
    });
  }
  // By key, not by the pools listed: an IPv6-only cluster's leases from when it had IPv4 are still its.
  const inScope = (pool: string) => options.cluster === undefined || pool === clusterPool(options.cluster);
  const holds = (await db.selectFrom('ip_leases').selectAll().where('state', '=', 'held').orderBy('ip_num').execute())
    .filter((r) => inScope(r.pool))
    .map((r) => ({
      ip: r.ip,
      pool: r.pool,
      releasedAt: new Date(r.released_at!).toISOString(),
      expiresAt: new Date(r.released_at! + options.holdTimeoutSeconds * 1000).toISOString(),
      nodes: JSON.parse(r.hold_nodes ?? '[]') as string[],
      ...(r.released_seq !== null ? { documentSequence: r.released_seq } : {}),
    }));
  const reservations = (await db.selectFrom('ip_leases').selectAll().where('state', '=', 'reserved').orderBy('ip_num').execute()).filter((r) => inScope(r.pool)).map(leaseView);
  const outside = (await outsidePools(db, options.cfg)).filter((l) => inScope(l.pool));
  const ipv6 = await ipv6Views(db, options.cfg, options.cluster);
  return { strategy: options.strategy, pools: poolViews, holds, reservations, outsidePools: outside, ...(ipv6.length > 0 ? { ipv6 } : {}) };
}

/** The dual-stack clusters in scope (property order), each with its instances' IPv6 addresses (by id). */
async function ipv6Views(db: Db, cfg: ExplodedNetworkConfiguration | undefined, cluster: string | undefined): Promise<Ipv6ClusterView[]> {
  const prefixes = ipv6Prefixes(cfg);
  const clusters = (cfg?.Clusters ?? []).filter((c) => prefixes.has(c.Name) && (cluster === undefined || c.Name === cluster));
  if (clusters.length === 0) return [];
  const rows = await db
    .selectFrom('instances')
    .select(['id', 'cluster', 'mac'])
    .where('cluster', 'in', clusters.map((c) => c.Name))
    .orderBy('id')
    .execute();
  return clusters.map((c) => ({
    cluster: c.Name,
    prefix: c.Subnet.Ipv6Prefix!,
    dnsServers: [...(c.Subnet.Ipv6DnsServers ?? [])],
    instances: rows.filter((r) => r.cluster === c.Name).flatMap((r) => {
      const ipv6 = instanceIpv6Address(prefixes, r);
      return ipv6 === undefined ? [] : [{ id: r.id, mac: r.mac, ipv6 }];
    }),
  }));
}
