/**
 * Reads the CloudSnapshot (contracts.ts) the GNI builder works from, inside one
 * read transaction so it is consistent.
 *
 * Rules whose source group no longer exists are left out here, so nothing
 * downstream can broadcast them.
 */
import type { Db } from './db/store.ts';
import type { CloudSnapshot, SnapshotCluster, SnapshotGroup, SnapshotInstance, SnapshotRule } from './contracts.ts';
import { explodedConfiguration, readPropertyTexts } from './properties/service.ts';
import { storedRuleOfRow } from './services/groups.ts';

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

  const instanceRows = await db
    .selectFrom('instances')
    .leftJoin('public_addresses', 'public_addresses.instance_id', 'instances.id')
    .select(['instances.id', 'instances.owner_id', 'instances.cluster', 'instances.node', 'instances.mac', 'instances.private_ip', 'public_addresses.ip as public_ip'])
    .orderBy('instances.id')
    .execute();
  const memberships = await db.selectFrom('instance_groups').select(['instance_id', 'group_id']).orderBy('instance_id').orderBy('position').execute();
  const groupsOf = new Map<string, string[]>();
  for (const m of memberships) {
    let list = groupsOf.get(m.instance_id);
    if (!list) groupsOf.set(m.instance_id, (list = []));
    list.push(m.group_id);
  }
  const instances: SnapshotInstance[] = instanceRows.map((r) => ({
    id: r.id,
    ownerId: r.owner_id,
    cluster: r.cluster,
    node: r.node,
    mac: r.mac,
    privateIp: r.private_ip,
    ...(r.public_ip ? { publicIp: r.public_ip } : {}),
    groups: groupsOf.get(r.id) ?? [],
  }));

  const groupRows = await db.selectFrom('security_groups').selectAll().orderBy('id').execute();
  const existing = new Set(groupRows.map((g) => g.id));
  const ruleRows = await db.selectFrom('group_rules').selectAll().orderBy('group_id').orderBy('id').execute();
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

