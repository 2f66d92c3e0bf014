/**
 * Reads the CloudSnapshot (contracts.ts) the GNI builder works from, inside one
 * read transaction so it is consistent.
 *
 * Layering: snapshot/ reads db/ and the properties and maps rows with
 * rows.ts; it imports nothing from services/ (services/cloud-state.ts owns
 * the snapshot cache, so the dependency runs services → snapshot only).
 *
 * The snapshot is read in four parts — configuration, clusters with their
 * nodes, instances, groups with their rules — by the readers below, so the
 * snapshot cache (snapshot-cache.ts) can re-read only the parts a change
 * touched, and only some rows of them, with exactly the queries and row
 * mapping a full read uses: a part read here for some ids is the same value
 * as those ids' elements of the full read.
 *
 * Order: instances by id, groups by id, rules of a group by rowid, clusters
 * and nodes by name (SQLite BINARY collation; ids and names the services
 * create are ASCII, where it agrees with JavaScript's string order).
 *
 * Rules whose source group no longer exists are left out here, so nothing
 * downstream can broadcast them.
 */
import { orderedJoin } from '../db/dialect.ts';
import { sql } from 'kysely';
import type { Db } from '../db/store.ts';
import type { InstancesTable } from '../db/schema.ts';
import type { CloudSnapshot, SnapshotCluster, SnapshotGroup, SnapshotInstance, SnapshotRule } from '../contracts.ts';
import { explodedConfiguration, readPropertyTexts } from '../properties/service.ts';
import { snapshotInstanceOfRow, snapshotRuleOfRow } from './rows.ts';

export async function readSnapshot(db: Db, clcIp: string): Promise<CloudSnapshot> {
  const config = explodedConfiguration(await readPropertyTexts(db));
  const clusters = await readClusters(db);
  const instances = await readInstances(db);
  const groups = await readGroups(db);
  return { config, clcIp, clusters, instances, groups };
}

/** Registered clusters (by name) with their nodes (by name). */
export async function readClusters(db: Db): Promise<SnapshotCluster[]> {
  const clusterRows = await db.selectFrom('clusters').selectAll().orderBy('name').execute();
  const nodeRows = await db.selectFrom('nodes').selectAll().orderBy('name').execute();
  return clusterRows.map((c) => ({
    name: c.name,
    ccUrl: c.cc_url,
    ccIp: c.cc_ip,
    nodes: nodeRows.filter((n) => n.cluster === c.name).map((n) => ({ name: n.name, ncUrl: n.nc_url })),
  }));
}

/** Every instance, or only those of `ids` (absent ids are simply not returned); sorted by id. */
export async function readInstances(db: Db, ids?: readonly string[]): Promise<SnapshotInstance[]> {
  if (ids !== undefined && ids.length === 0) return [];
  const where = ids === undefined ? sql`` : sql`WHERE i.id IN (${sql.join(ids)})`;
  // One row per instance with its groups aggregated in launch order (SQLite ≥ 3.44
  // ordered aggregate): a third of the rows a separate membership query would return.
  const { rows } = await sql<Omit<InstancesTable, 'created_at'> & { public_ip: string | null; groups: string | null }>`SELECT i.id, i.owner_id, i.cluster, i.node, i.mac, i.private_ip, i.user_data, p.ip AS public_ip,
            (SELECT ${orderedJoin(db, 'g.group_id', ',', 'g.position')} FROM instance_groups g WHERE g.instance_id = i.id) AS groups
       FROM instances i LEFT JOIN public_addresses p ON p.instance_id = i.id
       ${where}
      ORDER BY i.id`.execute(db);
  return rows.map((r) => snapshotInstanceOfRow(r, r.groups ? r.groups.split(',') : []));
}

/** Ids of the instances that hold one of `ips` as their public address. */
export async function readAddressHolders(db: Db, ips: readonly string[]): Promise<string[]> {
  if (ips.length === 0) return [];
  const rows = await db.selectFrom('public_addresses').select('instance_id').where('ip', 'in', ips).where('instance_id', 'is not', null).execute();
  return rows.map((r) => r.instance_id!);
}

/**
 * Every group with its rules, or only the groups of `ids`. `existing` is the
 * set of every group id in the database (rules naming another group are kept
 * only when it exists); for a full read it is computed here.
 */
export async function readGroups(db: Db, only?: { readonly ids: readonly string[]; readonly existing: ReadonlySet<string> }): Promise<SnapshotGroup[]> {
  if (only !== undefined && only.ids.length === 0) return [];
  let groupQuery = db.selectFrom('security_groups').selectAll().orderBy('id');
  if (only !== undefined) groupQuery = groupQuery.where('id', 'in', only.ids);
  const groupRows = await groupQuery.execute();
  const existing = only?.existing ?? new Set(groupRows.map((g) => g.id));
  let ruleQuery = db
    .selectFrom('group_rules')
    .select(['group_id', 'protocol', 'from_port', 'to_port', 'icmp_type', 'icmp_code', 'cidr', 'source_group_id', 'source_group_owner_id'])
    .orderBy('group_id')
    .orderBy('id');
  if (only !== undefined) ruleQuery = ruleQuery.where('group_id', 'in', only.ids);
  const ruleRows = await ruleQuery.execute();
  const rulesOf = new Map<string, SnapshotRule[]>();
  for (const r of ruleRows) {
    if (r.source_group_id !== null && !existing.has(r.source_group_id)) continue;
    let list = rulesOf.get(r.group_id);
    if (!list) rulesOf.set(r.group_id, (list = []));
    list.push(snapshotRuleOfRow(r));
  }
  return groupRows.map((g) => ({ id: g.id, name: g.name, ownerId: g.owner_id, rules: rulesOf.get(g.id) ?? [] }));
}
