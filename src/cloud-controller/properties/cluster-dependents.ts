/**
 * What still depends on a cluster: its registered nodes and its instances.
 * The property service asks before a network configuration drops a cluster.
 */
import type { Db } from '../db/store.ts';

export interface ClusterDependents {
  readonly cluster: string;
  readonly nodes: readonly string[];
  readonly instances: readonly string[];
}

/** Only clusters with at least one node or instance, in the order given. */
export async function clusterDependents(db: Db, clusters: readonly string[]): Promise<ClusterDependents[]> {
  if (clusters.length === 0) return [];
  const nodes = await db.selectFrom('nodes').select(['name', 'cluster']).where('cluster', 'in', clusters).orderBy('name').execute();
  const instances = await db.selectFrom('instances').select(['id', 'cluster']).where('cluster', 'in', clusters).orderBy('id').execute();
  return clusters
    .map((cluster) => ({
      cluster,
      nodes: nodes.filter((n) => n.cluster === cluster).map((n) => n.name),
      instances: instances.filter((i) => i.cluster === cluster).map((i) => i.id),
    }))
    .filter((d) => d.nodes.length > 0 || d.instances.length > 0);
}
