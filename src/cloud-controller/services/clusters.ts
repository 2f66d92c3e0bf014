/**
 * Clusters (one cluster controller each) and their nodes (named by address,
 * as in Eucalyptus). A cluster must also appear in the network configuration
 * to receive instances; registration alone only makes it known.
 *
 * Invariants: node names are unique cloud-wide and are IPv4 addresses; CC and
 * NC URLs are `https://HOST:PORT/`; one CC (host:port) serves one cluster (a
 * CC keeps one node list: two clusters on it would overwrite each other's on
 * every broadcast); a cluster or node that still hosts instances cannot be
 * deregistered. URLs change in place (`updateCluster`, `updateNode`) without
 * touching nodes or instances.
 */
import type { Db, Tx } from '../db/store.ts';
import { UserError } from '../../shared/errors.ts';
import { parseIp } from '../../shared/ip.ts';
import { nameArgument, nodeNameArgument, requireString, serviceUrlArgument } from './args.ts';

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

/** The CC's address: given, or the URL's host when that is an address. */
function ccIpOf(input: unknown, url: URL): string {
  if (input !== undefined && input !== null && input !== '') {
    const ccIp = requireString(input, 'ccIp');
    if (parseIp(ccIp) === undefined) throw new UserError('InvalidParameterValue', `ccIp must be an IPv4 address, got ${JSON.stringify(ccIp)}`);
    return ccIp;
  }
  if (parseIp(url.hostname) !== undefined) return url.hostname;
  throw new UserError('InvalidParameterValue', `the CC URL host ${JSON.stringify(url.hostname)} is not an IPv4 address: give the CC's address with --cc-ip`);
}

/** Refuses a CC endpoint (host:port) that already serves another cluster. */
async function requireFreeCc(db: Db, url: URL, except?: string): Promise<void> {
  const rows = await db.selectFrom('clusters').select(['name', 'cc_url']).execute();
  for (const r of rows) {
    if (r.name === except) continue;
    let host: string;
    try {
      host = new URL(r.cc_url).host;
    } catch {
      continue;
    }
    if (host === url.host) {
      throw new UserError('CC_ALREADY_IN_USE', `the cluster controller at ${url.host} already serves cluster ${r.name}: one CC serves one cluster`, {
        status: 409,
        details: { cluster: r.name, ccUrl: r.cc_url },
      });
    }
  }
}

export async function registerCluster(tx: Tx, input: { name?: unknown; ccUrl?: unknown; ccIp?: unknown }, now: number): Promise<ClusterView> {
  const name = nameArgument(input.name, 'cluster name');
  const url = serviceUrlArgument(input.ccUrl, 'ccUrl (--cc)');
  const ccIp = ccIpOf(input.ccIp, url);
  const existing = await tx.db.selectFrom('clusters').select('name').where('name', '=', name).executeTakeFirst();
  if (existing) throw new UserError('CLUSTER_ALREADY_EXISTS', `cluster ${name} is already registered`, { status: 409 });
  await requireFreeCc(tx.db, url);
  await tx.db.insertInto('clusters').values({ name, cc_url: url.toString(), cc_ip: ccIp, created_at: now }).execute();
  tx.changed({ kind: 'cluster', id: name });
  return (await getCluster(tx.db, name))!;
}

/** Changes the CC URL and/or address of a cluster; its nodes and instances stay as they are. */
export async function updateCluster(tx: Tx, nameInput: unknown, input: { ccUrl?: unknown; ccIp?: unknown }): Promise<ClusterView> {
  const name = requireString(nameInput, 'cluster name');
  const current = await requireCluster(tx.db, name);
  const given = (v: unknown) => v !== undefined && v !== null && v !== '';
  if (!given(input.ccUrl) && !given(input.ccIp)) throw new UserError('MissingParameter', 'give ccUrl (--cc) and/or ccIp (--cc-ip) to change');
  const url = given(input.ccUrl) ? serviceUrlArgument(input.ccUrl, 'ccUrl (--cc)') : new URL(current.cc_url);
  if (given(input.ccUrl)) await requireFreeCc(tx.db, url, name);
  const ccIp = given(input.ccIp) || given(input.ccUrl) ? ccIpOf(input.ccIp, url) : current.cc_ip;
  await tx.db.updateTable('clusters').set({ cc_url: url.toString(), cc_ip: ccIp }).where('name', '=', name).execute();
  tx.changed({ kind: 'cluster', id: name });
  return (await getCluster(tx.db, name))!;
}

export async function deregisterCluster(tx: Tx, nameInput: unknown): Promise<void> {
  const name = requireString(nameInput, 'cluster name');
  await requireCluster(tx.db, name);
  const used = await tx.db.selectFrom('instances').select(({ fn }) => fn.countAll<number>().as('n')).where('cluster', '=', name).executeTakeFirstOrThrow();
  if (Number(used.n) > 0) throw new UserError('CLUSTER_IN_USE', `cluster ${name} still has ${used.n} instance(s); terminate them first`, { status: 409 });
  await tx.db.deleteFrom('node_applied').where('cluster', '=', name).execute();
  await tx.db.deleteFrom('nodes').where('cluster', '=', name).execute();
  await tx.db.deleteFrom('clusters').where('name', '=', name).execute();
  tx.changed({ kind: 'cluster', id: name });
}

export async function registerNode(tx: Tx, input: { cluster?: unknown; name?: unknown; ncUrl?: unknown }, now: number): Promise<NodeView> {
  const cluster = requireString(input.cluster, 'cluster');
  const name = nodeNameArgument(input.name);
  const url = serviceUrlArgument(input.ncUrl, 'ncUrl (--nc)');
  await requireCluster(tx.db, cluster);
  const existing = await tx.db.selectFrom('nodes').select(['name', 'cluster']).where('name', '=', name).executeTakeFirst();
  if (existing) throw new UserError('NODE_ALREADY_EXISTS', `node ${name} is already registered (cluster ${existing.cluster})`, { status: 409 });
  await tx.db.insertInto('nodes').values({ name, cluster, nc_url: url.toString(), created_at: now }).execute();
  tx.changed({ kind: 'node', id: name });
  return { name, cluster, ncUrl: url.toString(), instances: 0 };
}

/** Changes a node's NC URL; its instances stay as they are. */
export async function updateNode(tx: Tx, nameInput: unknown, input: { ncUrl?: unknown }): Promise<NodeView> {
  const name = requireString(nameInput, 'node name');
  const url = serviceUrlArgument(input.ncUrl, 'ncUrl (--nc)');
  const node = await tx.db.selectFrom('nodes').select(['name', 'cluster']).where('name', '=', name).executeTakeFirst();
  if (!node) throw new UserError('NODE_NOT_FOUND', `no node ${name} is registered`, { status: 404 });
  await tx.db.updateTable('nodes').set({ nc_url: url.toString() }).where('name', '=', name).execute();
  tx.changed({ kind: 'node', id: name });
  return (await listNodes(tx.db, node.cluster)).find((n) => n.name === name)!;
}

export async function deregisterNode(tx: Tx, clusterInput: unknown, nameInput: unknown): Promise<void> {
  const cluster = requireString(clusterInput, 'cluster');
  const name = requireString(nameInput, 'node name');
  await requireCluster(tx.db, cluster);
  const node = await tx.db.selectFrom('nodes').selectAll().where('name', '=', name).executeTakeFirst();
  if (!node) throw new UserError('NODE_NOT_FOUND', `no node ${name} is registered`, { status: 404 });
  if (node.cluster !== cluster) throw new UserError('NODE_NOT_IN_CLUSTER', `node ${name} belongs to cluster ${node.cluster}, not ${cluster}`);
  const used = await tx.db.selectFrom('instances').select(({ fn }) => fn.countAll<number>().as('n')).where('node', '=', name).executeTakeFirstOrThrow();
  if (Number(used.n) > 0) throw new UserError('NODE_IN_USE', `node ${name} still hosts ${used.n} instance(s); terminate them first`, { status: 409 });
  await tx.db.deleteFrom('node_applied').where('node', '=', name).execute();
  await tx.db.deleteFrom('nodes').where('name', '=', name).execute();
  tx.changed({ kind: 'node', id: name });
}

export async function requireCluster(db: Db, name: string): Promise<{ name: string; cc_url: string; cc_ip: string }> {
  const row = await db.selectFrom('clusters').select(['name', 'cc_url', 'cc_ip']).where('name', '=', name).executeTakeFirst();
  if (!row) throw new UserError('CLUSTER_NOT_FOUND', `no cluster ${name} is registered (see \`edgenet cluster list\`)`, { status: 404 });
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
