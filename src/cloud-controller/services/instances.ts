/**
 * Instance lifecycle as networking sees it: `run` reserves an id, a MAC and a
 * private IP (and stores the instance's user data, if any); `terminate`
 * releases them.
 *
 * Invariants: id = `i-` + 8 hex; MAC = the cluster's MacPrefix followed by the
 * 4 bytes of the id (as Eucalyptus did), so MACs are unique whenever ids are,
 * and the database enforces both (UNIQUE mac, UNIQUE private_ip); an instance
 * runs only on a registered node of a registered cluster that the network
 * configuration also lists; its groups belong to its owner. On terminate the
 * private IP is held until the node converged (see ipam.ts) and an associated
 * public address is disassociated (it stays allocated to the account).
 *
 * Placement (issue 15): the cluster may be left out when the network
 * configuration lists exactly one; the node may be left out, and is then the
 * cluster's registered node running the fewest instances (ties: the lowest
 * address, a node's name being its IPv4 address); a cluster with no
 * registered node is InsufficientInstanceCapacity. Owners are resolved
 * account ids (CloudState, accounts.ts resolveOwner); with an owner given,
 * another account's instance is not found, exactly as if it did not exist.
 *
 * ROUTED (issue 17): the private IP comes from the cluster's routable Ipv4Pool
 * as in EDGE; an instance of an IPv6-only cluster (ipam.ts `clusterHasIpv4`)
 * gets none (private_ip NULL) and is addressed by its IPv6 address alone, the
 * EUI-64 of its MAC in the cluster's /64 (config/instance-ipv6.ts). Elastic
 * addresses associate with it as with any other.
 *
 * A MAC can be asked for (admin API `mac`, `instance run --mac`; not EC2's
 * RunInstances, which has no such parameter), so that an instance re-created
 * elsewhere keeps its EUI-64 IPv6 address as `--private-ip` keeps its IPv4
 * one: unicast, lower-case canonical (args.ts macArgument), inside the
 * cluster's MacPrefix like every allocated MAC (MAC_NOT_IN_PREFIX) and no
 * other instance's (MAC_IN_USE, 409; writes are serialized, store.ts, so the
 * check before the insert is the answer, UNIQUE mac the backstop). An id whose
 * derived MAC a requested one already took is skipped like a taken id.
 *
 * User data (EC2 RunInstances UserData, `instance run --user-data-file`):
 * stored base64 (args.ts `userDataArgument`: at most 16 KiB decoded), served
 * by the metadata service at `user-data` and carried in the snapshot for the
 * ROUTED config drive. `getInstance` (show, run's answer) carries it; the
 * listings leave it out (up to 16 KiB per instance, and EC2's
 * DescribeInstances does not show it either).
 */
import type { Db, Tx } from '../db/store.ts';
import { UserError } from '../../shared/errors.ts';
import type { ExplodedNetworkConfiguration } from '../config/types.ts';
import type { SnapshotInstance } from '../contracts.ts';
import { snapshotInstanceOfRow } from '../snapshot/rows.ts';
import { instanceIpv6Address, ipv6Prefixes, type ClusterIpv6Prefixes } from '../config/instance-ipv6.ts';
import { macArgument, optionalString, requireString, userDataArgument, type RandomHex } from './args.ts';
import { compareIps, parseIp } from '../../shared/ip.ts';
import { requireCluster } from './clusters.ts';
import { resolveGroup } from './groups.ts';
import { allocateAddress, bumpReleaseMark, clusterHasIpv4, clusterPool, poolsOf, releaseAddress, type AllocationStrategy } from './ipam.ts';

/** An instance as the API shows it: what the GNI builder sees, plus interface and creation time. */
export interface InstanceView extends SnapshotInstance {
  /**
   * Dual stack only: the instance's IPv6 address, the EUI-64 of its MAC in
   * its cluster's /64 (config/instance-ipv6.ts; computed, not stored).
   */
  readonly ipv6?: string;
  /** Host-side interface name of the VM's NIC (the contract with whatever starts VMs). */
  readonly interface: string;
  readonly createdAt: string;
}

export interface RunInput {
  /** Optional when the network configuration lists exactly one cluster. */
  readonly cluster?: unknown;
  /** Optional: the cluster's node with the fewest instances. */
  readonly node?: unknown;
  readonly groups?: unknown;
  /** An account id or name (default: the admin account); CloudState resolves it. */
  readonly owner?: unknown;
  readonly privateIp?: unknown;
  /** A MAC in the cluster's MacPrefix (default: the prefix + the id's 4 bytes). Admin API only. */
  readonly mac?: unknown;
  /** Base64 user data (args.ts userDataArgument). */
  readonly userData?: unknown;
}

export interface RunEnv {
  readonly cfg: ExplodedNetworkConfiguration | undefined;
  readonly strategy: AllocationStrategy;
  readonly random: () => number;
  readonly randomHex: RandomHex;
  readonly now: number;
}

export function macFor(prefix: string, id: string): string {
  const hex = id.slice(2);
  return `${prefix.toLowerCase()}:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}:${hex.slice(6, 8)}`;
}

/** `owner`: an existing account's id (CloudState resolves it). */
export async function runInstance(tx: Tx, input: RunInput & { readonly owner: string }, env: RunEnv): Promise<InstanceView> {
  const explicitCluster = optionalString(input.cluster, 'cluster')?.trim() || undefined;
  const explicitNode = optionalString(input.node, 'node')?.trim() || undefined;
  const owner = input.owner;
  const requested = optionalString(input.privateIp, 'privateIp');
  const requestedMac = macArgument(input.mac);
  const userData = userDataArgument(input.userData);
  const groupRefs = input.groups;
  if (!Array.isArray(groupRefs) || groupRefs.length === 0) throw new UserError('MissingParameter', 'at least one security group (--group) is required');

  if (!env.cfg) throw new UserError('NETWORK_NOT_CONFIGURED', 'cloud.network.network_configuration is not set: no cluster can receive instances yet', { status: 409 });
  const clusterName = explicitCluster ?? onlyCluster(env.cfg);
  await requireCluster(tx.db, clusterName);
  const configured = env.cfg.Clusters.find((c) => c.Name === clusterName);
  if (!configured) {
    throw new UserError('CLUSTER_NOT_CONFIGURED', `cluster ${clusterName} is registered but not listed in cloud.network.network_configuration`, { status: 409 });
  }
  let nodeName: string;
  if (explicitNode !== undefined) {
    nodeName = explicitNode;
    const node = await tx.db.selectFrom('nodes').select(['name', 'cluster']).where('name', '=', nodeName).executeTakeFirst();
    if (!node) throw new UserError('NODE_NOT_FOUND', `no node ${nodeName} is registered`, { status: 404 });
    if (node.cluster !== clusterName) throw new UserError('NODE_NOT_IN_CLUSTER', `node ${nodeName} belongs to cluster ${node.cluster}, not ${clusterName}`);
  } else {
    nodeName = await leastLoadedNode(tx.db, clusterName);
  }

  const groupIds: string[] = [];
  for (const ref of groupRefs) {
    const g = await resolveGroup(tx.db, ref, owner);
    if (g.owner_id !== owner) throw new UserError('InvalidGroup.NotFound', `the security group ${g.id} does not belong to account ${owner}`, { status: 404 });
    if (groupIds.includes(g.id)) throw new UserError('InvalidParameterValue', `the security group ${g.id} is listed twice`);
    groupIds.push(g.id);
  }

  if (requestedMac !== undefined) {
    const prefix = configured.MacPrefix.toLowerCase();
    if (!requestedMac.startsWith(`${prefix}:`)) {
      throw new UserError('MAC_NOT_IN_PREFIX', `${requestedMac} is not in cluster ${clusterName}'s MacPrefix ${prefix} (its instances' MACs are ${prefix}:xx:xx:xx:xx)`);
    }
    const holder = await tx.db.selectFrom('instances').select('id').where('mac', '=', requestedMac).executeTakeFirst();
    if (holder) throw new UserError('MAC_IN_USE', `${requestedMac} is already the MAC of instance ${holder.id}`, { status: 409, details: { instance: holder.id } });
  }

  let id = '';
  for (let attempt = 0; ; attempt++) {
    id = `i-${env.randomHex(4)}`;
    const candidate = id;
    const clash = await tx.db
      .selectFrom('instances')
      .select('id')
      .where((eb) => (requestedMac !== undefined ? eb('id', '=', candidate) : eb.or([eb('id', '=', candidate), eb('mac', '=', macFor(configured.MacPrefix, candidate))])))
      .executeTakeFirst();
    if (!clash) break;
    if (attempt > 16) throw new UserError('InternalError', 'could not find a free instance id', { status: 500 });
  }
  let privateIp: string | null = null;
  if (clusterHasIpv4(configured)) {
    const pool = poolsOf(env.cfg).find((p) => p.key === clusterPool(clusterName))!;
    privateIp = await allocateAddress(tx, { pool, strategy: env.strategy, random: env.random, holder: id, now: env.now, ...(requested !== undefined ? { requested } : {}) });
  } else if (requested !== undefined) {
    throw new UserError('ADDRESS_NOT_IN_POOL', `cluster ${clusterName} is IPv6-only (ROUTED without an Ipv4Pool): its instances have no private IPv4 address, so ${requested} cannot be asked for`);
  }
  const mac = requestedMac ?? macFor(configured.MacPrefix, id);
  await tx.db
    .insertInto('instances')
    .values({ id, owner_id: owner, cluster: clusterName, node: nodeName, mac, private_ip: privateIp, created_at: env.now, user_data: userData ?? null })
    .execute();
  await tx.db
    .insertInto('instance_groups')
    .values(groupIds.map((group_id, position) => ({ instance_id: id, group_id, position })))
    .execute();
  tx.changed({ kind: 'instance', id });
  return (await getInstance(tx.db, id, env.cfg))!;
}

/** The cluster when none is named: the configuration's only one. */
function onlyCluster(cfg: ExplodedNetworkConfiguration): string {
  const names = cfg.Clusters.map((c) => c.Name);
  if (names.length === 1) return names[0]!;
  throw new UserError('MissingParameter', `cluster is required: the network configuration lists ${names.length} clusters (${names.join(', ') || 'none'})`);
}

/** The cluster's registered node running the fewest instances; ties: the lowest address (a node's name is its IPv4 address). */
async function leastLoadedNode(db: Db, cluster: string): Promise<string> {
  const nodes = await db.selectFrom('nodes').select('name').where('cluster', '=', cluster).execute();
  if (nodes.length === 0) {
    throw new UserError('InsufficientInstanceCapacity', `cluster ${cluster} has no registered node to place an instance on (edgenet node register)`, { status: 409 });
  }
  const counts = await db.selectFrom('instances').select(['node', ({ fn }) => fn.countAll<number>().as('n')]).where('cluster', '=', cluster).groupBy('node').execute();
  const load = new Map(counts.map((c) => [c.node, Number(c.n)]));
  const byName = (a: string, b: string) => (parseIp(a) !== undefined && parseIp(b) !== undefined ? compareIps(a, b) : a < b ? -1 : a > b ? 1 : 0);
  const [best] = nodes.map((n) => n.name).sort((a, b) => (load.get(a) ?? 0) - (load.get(b) ?? 0) || byName(a, b));
  return best!;
}

/** `owner`: a resolved account id; given, another account's instance is not found. */
export async function terminateInstance(tx: Tx, idInput: unknown, now: number, owner?: string): Promise<InstanceView> {
  const id = requireString(idInput, 'instance id');
  const instance = await getInstance(tx.db, id);
  if (!instance || (owner !== undefined && instance.ownerId !== owner)) throw new UserError('InvalidInstanceID.NotFound', `the instance ${id} does not exist`, { status: 404 });
  if (instance.publicIp !== undefined) {
    const mark = await bumpReleaseMark(tx.db);
    await tx.db.updateTable('public_addresses').set({ instance_id: null, last_node: instance.node, disassociated_mark: mark }).where('ip', '=', instance.publicIp).execute();
    tx.changed({ kind: 'address', id: instance.publicIp });
  }
  await tx.db.deleteFrom('instance_groups').where('instance_id', '=', id).execute();
  await tx.db.deleteFrom('instances').where('id', '=', id).execute();
  if (instance.privateIp !== undefined) await releaseAddress(tx, { ip: instance.privateIp, nodes: [instance.node], now });
  tx.changed({ kind: 'instance', id });
  return instance;
}

export interface InstanceFilter {
  readonly cluster?: string;
  readonly node?: string;
  /** A resolved account id. */
  readonly owner?: string;
  /** Only these instance ids (unknown ones are left out). */
  readonly ids?: readonly string[];
}

/** `cfg`: the exploded property, for the IPv6 address of instances on dual-stack clusters. */
export async function listInstances(db: Db, filter: InstanceFilter = {}, cfg?: ExplodedNetworkConfiguration): Promise<InstanceView[]> {
  const prefixes = ipv6Prefixes(cfg);
  let q = db
    .selectFrom('instances')
    .leftJoin('public_addresses', 'public_addresses.instance_id', 'instances.id')
    .select(['instances.id', 'instances.owner_id', 'instances.cluster', 'instances.node', 'instances.mac', 'instances.private_ip', 'instances.created_at', 'public_addresses.ip as public_ip'])
    .orderBy('instances.id');
  if (filter.cluster !== undefined) q = q.where('instances.cluster', '=', filter.cluster);
  if (filter.node !== undefined) q = q.where('instances.node', '=', filter.node);
  if (filter.owner !== undefined) q = q.where('instances.owner_id', '=', filter.owner);
  if (filter.ids !== undefined) q = q.where('instances.id', 'in', filter.ids.length > 0 ? filter.ids : ['']);
  const rows = await q.execute();
  let mq = db.selectFrom('instance_groups').select(['instance_id', 'group_id']).orderBy('instance_id').orderBy('position');
  if (filter.ids !== undefined) mq = mq.where('instance_id', 'in', filter.ids.length > 0 ? filter.ids : ['']);
  const memberships = await mq.execute();
  const groupsBy = new Map<string, string[]>();
  for (const m of memberships) {
    const list = groupsBy.get(m.instance_id) ?? [];
    list.push(m.group_id);
    groupsBy.set(m.instance_id, list);
  }
  return rows.map((r) => {
    const inst = snapshotInstanceOfRow(r, groupsBy.get(r.id) ?? []);
    return { ...inst, ...ipv6Of(prefixes, inst), interface: `vn_${r.id}`, createdAt: new Date(r.created_at).toISOString() };
  });
}

/** `{ipv6}` on a dual-stack cluster, nothing otherwise (so an IPv4-only view is as before). */
function ipv6Of(prefixes: ClusterIpv6Prefixes, inst: { readonly cluster: string; readonly mac: string }): { ipv6?: string } {
  const ipv6 = instanceIpv6Address(prefixes, inst);
  return ipv6 === undefined ? {} : { ipv6 };
}

export async function getInstance(db: Db, id: string, cfg?: ExplodedNetworkConfiguration): Promise<InstanceView | undefined> {
  const row = await db
    .selectFrom('instances')
    .leftJoin('public_addresses', 'public_addresses.instance_id', 'instances.id')
    .select([
      'instances.id', 'instances.owner_id', 'instances.cluster', 'instances.node', 'instances.mac', 'instances.private_ip', 'instances.created_at', 'instances.user_data',
      'public_addresses.ip as public_ip',
    ])
    .where('instances.id', '=', id)
    .executeTakeFirst();
  if (!row) return undefined;
  const groups = await db.selectFrom('instance_groups').select('group_id').where('instance_id', '=', id).orderBy('position').execute();
  return {
    ...snapshotInstanceOfRow(row, groups.map((g) => g.group_id)),
    ...ipv6Of(ipv6Prefixes(cfg), { cluster: row.cluster, mac: row.mac }),
    interface: `vn_${row.id}`,
    createdAt: new Date(row.created_at).toISOString(),
  };
}
