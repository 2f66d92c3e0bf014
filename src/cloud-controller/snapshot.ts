/**
 * Reads the CloudSnapshot (contracts.ts) the GNI builder works from, inside one
 * read transaction so it is consistent.
 *
 * Rules whose source group no longer exists are left out here, so nothing
 * downstream can broadcast them.
 */
import { sql } from 'kysely';
import type { Db } from './db/store.ts';
import type { CloudSnapshot, SnapshotCluster, SnapshotGroup, SnapshotInstance, SnapshotRule } from './contracts.ts';
import { explodedConfiguration, readPropertyTexts } from './properties/service.ts';
import { storedRuleOfRow } from './services/groups.ts';
import { snapshotInstanceOfRow } from './services/instances.ts';

export async function readSnapshot(db: Db, clcIp: string): Promise<CloudSnapshot> {
  const texts = await readPropertyTexts(db);
  const config = explodedConfiguration(texts);

  const clusterRows = await db.selectFrom('clusters').selectAll().orderBy('name').execute();
  const nodeRows = await db.selectFrom('nodes').selectAll().orderBy('name').execute();
  const clusters: SnapshotCluster[] = clusterRows.map((c) => ({
    name: c.name,
    ccUrl: c.cc_url,
    ccIp: c.cc_ip,
    nodes: nodeRows.filter((n) => n.cluster === c.name).map((n) => ({ name: n.name, ncUrl: n.nc_url })),
  }));

  // One row per instance with its groups aggregated in launch order (SQLite ≥ 3.44
  // ordered aggregate): a third of the rows a separate membership query would return.
  const { rows: instanceRows } = await sql<{
    id: string;
    owner_id: string;
    cluster: string;
    node: string;
    mac: string;
    private_ip: string;
    public_ip: string | null;
    groups: string | null;
  }>`SELECT i.id, i.owner_id, i.cluster, i.node, i.mac, i.private_ip, p.ip AS public_ip,
            (SELECT group_concat(g.group_id, ',' ORDER BY g.position) FROM instance_groups g WHERE g.instance_id = i.id) AS groups
       FROM instances i LEFT JOIN public_addresses p ON p.instance_id = i.id
      ORDER BY i.id`.execute(db);
  const instances: SnapshotInstance[] = instanceRows.map((r) => snapshotInstanceOfRow(r, r.groups ? r.groups.split(',') : []));

  const groupRows = await db.selectFrom('security_groups').selectAll().orderBy('id').execute();
  const existing = new Set(groupRows.map((g) => g.id));
  const ruleRows = await db
    .selectFrom('group_rules')
    .select(['group_id', 'protocol', 'from_port', 'to_port', 'icmp_type', 'icmp_code', 'cidr', 'source_group_id', 'source_group_owner_id'])
    .orderBy('group_id')
    .orderBy('id')
    .execute();
  const rulesOf = new Map<string, SnapshotRule[]>();
  for (const r of ruleRows) {
    if (r.source_group_id !== null && !existing.has(r.source_group_id)) continue;
    let list = rulesOf.get(r.group_id);
    if (!list) rulesOf.set(r.group_id, (list = []));
    list.push(storedRuleOfRow(r));
  }
  const groups: SnapshotGroup[] = groupRows.map((g) => ({ id: g.id, name: g.name, ownerId: g.owner_id, rules: rulesOf.get(g.id) ?? [] }));

  return { config, clcIp, clusters, instances, groups };
}

