/**
 * Clusters (one cluster controller each) and their nodes (named by address,
 * as in Eucalyptus). A cluster must also appear in the network configuration
 * to receive instances; registration alone only makes it known.
 *
 * Invariants: node names are unique cloud-wide; a cluster or node that still
 * hosts instances cannot be deregistered.
 */
import type { Db, Tx } from '../db/store.ts';
import { UserError } from '../../shared/errors.ts';
import { parseIp } from '../../shared/ip.ts';
import { nameArgument, requireString, urlArgument } from './args.ts';

export interface ClusterView {
  readonly name: string;
  readonly ccUrl: string;
  readonly ccIp: string;
  readonly nodes: readonly NodeView[];
  readonly createdAt: string;
}

export interface NodeView {
  readonly name: string;
  readonly cluster: string;
  readonly ncUrl: string;
  readonly instances: number;
  readonly applied?: { readonly sequence?: number; readonly version?: string; readonly at: string };
}

const HOST = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export async function registerCluster(tx: Tx, input: { name?: unknown; ccUrl?: unknown; ccIp?: unknown }, now: number): Promise<ClusterView> {
  const name = nameArgument(input.name, 'cluster name');
  const url = urlArgument(input.ccUrl, 'ccUrl (--cc)');
  let ccIp: string;
  if (input.ccIp !== undefined && input.ccIp !== null && input.ccIp !== '') {
    ccIp = requireString(input.ccIp, 'ccIp');
    if (parseIp(ccIp) === undefined) throw new UserError('InvalidParameterValue', `ccIp must be an IPv4 address, got ${JSON.stringify(ccIp)}`);
  } else if (parseIp(url.hostname) !== undefined) {
    ccIp = url.hostname;
  } else {
    throw new UserError('InvalidParameterValue', `the CC URL host ${JSON.stringify(url.hostname)} is not an IPv4 address: give the CC's address with --cc-ip`);
  }
  const existing = await tx.db.selectFrom('clusters').select('name').where('name', '=', name).executeTakeFirst();
  if (existing) throw new UserError('ClusterAlreadyExists', `cluster ${name} is already registered`, { status: 409 });
  await tx.db.insertInto('clusters').values({ name, cc_url: url.toString(), cc_ip: ccIp, created_at: now }).execute();
  tx.changed({ kind: 'cluster', id: name });
  return (await getCluster(tx.db, name))!;
}

export async function deregisterCluster(tx: Tx, nameInput: unknown): Promise<void> {
  const name = requireString(nameInput, 'cluster name');
  await requireCluster(tx.db, name);
  const used = await tx.db.selectFrom('instances').select(({ fn }) => fn.countAll<number>().as('n')).where('cluster', '=', name).executeTakeFirstOrThrow();
  if (Number(used.n) > 0) throw new UserError('ClusterInUse', `cluster ${name} still has ${used.n} instance(s); terminate them first`, { status: 409 });
  await tx.db.deleteFrom('node_applied').where('cluster', '=', name).execute();
  await tx.db.deleteFrom('nodes').where('cluster', '=', name).execute();
  await tx.db.deleteFrom('clusters').where('name', '=', name).execute();
  tx.changed({ kind: 'cluster', id: name });
}

export async function registerNode(tx: Tx, input: { cluster?: unknown; name?: unknown; ncUrl?: unknown }, now: number): Promise<NodeView> {
  const cluster = requireString(input.cluster, 'cluster');
  const name = requireString(input.name, 'node name');
  if (parseIp(name) === undefined && !HOST.test(name)) {
    throw new UserError('InvalidParameterValue', `a node is named by its address (IPv4 or host name), got ${JSON.stringify(name)}`);
  }
  const url = urlArgument(input.ncUrl, 'ncUrl (--nc)');
  await requireCluster(tx.db, cluster);
  const existing = await tx.db.selectFrom('nodes').select(['name', 'cluster']).where('name', '=', name).executeTakeFirst();
  if (existing) throw new UserError('NodeAlreadyExists', `node ${name} is already registered (cluster ${existing.cluster})`, { status: 409 });
  await tx.db.insertInto('nodes').values({ name, cluster, nc_url: url.toString(), created_at: now }).execute();
  tx.changed({ kind: 'node', id: name });
  return { name, cluster, ncUrl: url.toString(), instances: 0 };
}

export async function deregisterNode(tx: Tx, clusterInput: unknown, nameInput: unknown): Promise<void> {
  const cluster = requireString(clusterInput, 'cluster');
  const name = requireString(nameInput, 'node name');
  await requireCluster(tx.db, cluster);
  const node = await tx.db.selectFrom('nodes').selectAll().where('name', '=', name).executeTakeFirst();
  if (!node) throw new UserError('NodeNotFound', `no node ${name} is registered`, { status: 404 });
  if (node.cluster !== cluster) throw new UserError('NodeNotInCluster', `node ${name} belongs to cluster ${node.cluster}, not ${cluster}`);
  const used = await tx.db.selectFrom('instances').select(({ fn }) => fn.countAll<number>().as('n')).where('node', '=', name).executeTakeFirstOrThrow();
  if (Number(used.n) > 0) throw new UserError('NodeInUse', `node ${name} still hosts ${used.n} instance(s); terminate them first`, { status: 409 });
  await tx.db.deleteFrom('node_applied').where('node', '=', name).execute();
  await tx.db.deleteFrom('nodes').where('name', '=', name).execute();
  tx.changed({ kind: 'node', id: name });
}

export async function requireCluster(db: Db, name: string): Promise<{ name: string; cc_url: string; cc_ip: string }> {
  const row = await db.selectFrom('clusters').select(['name', 'cc_url', 'cc_ip']).where('name', '=', name).executeTakeFirst();
  if (!row) throw new UserError('ClusterNotFound', `no cluster ${name} is registered (see \`edgenet cluster list\`)`, { status: 404 });
  return row;
}

export async function listNodes(db: Db, cluster?: string): Promise<NodeView[]> {
  let q = db.selectFrom('nodes').selectAll().orderBy('cluster').orderBy('name');
  if (cluster !== undefined) q = q.where('cluster', '=', cluster);
  const nodes = await q.execute();
  const counts = await db.selectFrom('instances').select(['node', ({ fn }) => fn.countAll<number>().as('n')]).groupBy('node').execute();
  const countBy = new Map(counts.map((c) => [c.node, Number(c.n)]));
  const applied = await db.selectFrom('node_applied').selectAll().execute();
  const appliedBy = new Map(applied.map((a) => [a.node, a]));
  return nodes.map((n) => {
    const a = appliedBy.get(n.name);
    return {
      name: n.name,
      cluster: n.cluster,
      ncUrl: n.nc_url,
      instances: countBy.get(n.name) ?? 0,
      ...(a ? { applied: { ...(a.sequence !== null ? { sequence: a.sequence } : {}), ...(a.version !== null ? { version: a.version } : {}), at: new Date(a.at).toISOString() } } : {}),
    };
  });
}

export async function listClusters(db: Db): Promise<ClusterView[]> {
  const rows = await db.selectFrom('clusters').selectAll().orderBy('name').execute();
  const nodes = await listNodes(db);
  return rows.map((r) => ({
    name: r.name,
    ccUrl: r.cc_url,
    ccIp: r.cc_ip,
    nodes: nodes.filter((n) => n.cluster === r.name),
    createdAt: new Date(r.created_at).toISOString(),
  }));
}

export async function getCluster(db: Db, name: string): Promise<ClusterView | undefined> {
  return (await listClusters(db)).find((c) => c.name === name);
}
