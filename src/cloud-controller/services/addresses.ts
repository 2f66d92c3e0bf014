/**
 * Public (elastic) addresses: allocated to an account from the public pool,
 * associated with one of that account's instances, disassociated, released.
 *
 * Invariants: an address is associated with at most one instance and an
 * instance has at most one public address (UNIQUE instance_id); an account
 * only touches its own addresses and instances; a released address is held
 * (ipam.ts) until the node it was last laid down on has converged.
 *
 * Associate moves, as EC2-Classic and Eucalyptus do: an address associated
 * with another instance is disassociated from it first, and an instance that
 * already has another address loses that one (it stays allocated to the
 * account). Each implicit disassociation is recorded like an explicit one.
 *
 * Accounts (issue 15): owners are resolved account ids (CloudState resolves
 * them with accounts.ts resolveOwner). With an owner given, another
 * account's address or instance is not found, exactly as if it did not
 * exist; without one (the admin API) any address is reached. The number of
 * addresses an account may hold: limits.ts (cloud.accounts.max_addresses).
 */
import type { Db, Tx } from '../db/store.ts';
import { UserError } from '../../shared/errors.ts';
import type { ExplodedNetworkConfiguration } from '../config/types.ts';
import { ipArgument, optionalString, requireString } from './args.ts';
import { checkAddressLimit, type AccountLimits } from './limits.ts';
import { allocateAddress, bumpReleaseMark, poolsOf, PUBLIC_POOL, releaseAddress, type AllocationStrategy } from './ipam.ts';

export interface AddressView {
  readonly ip: string;
  readonly ownerId: string;
  readonly instanceId?: string;
  readonly allocatedAt: string;
}

/** What `associate` did: the address, plus the instance it moved from and the address the instance had before. */
export interface AssociateResult extends AddressView {
  readonly movedFrom?: string;
  readonly replaced?: string;
}

export async function allocatePublicAddress(
  tx: Tx,
  input: { owner: string; ip?: unknown },
  env: { cfg: ExplodedNetworkConfiguration | undefined; strategy: AllocationStrategy; random: () => number; now: number; limits: AccountLimits },
): Promise<AddressView> {
  const owner = input.owner;
  const requested = optionalString(input.ip, 'ip');
  if (!env.cfg) throw new UserError('NETWORK_NOT_CONFIGURED', 'cloud.network.network_configuration is not set: there is no public pool yet', { status: 409 });
  await checkAddressLimit(tx.db, owner, env.limits);
  const pool = poolsOf(env.cfg).find((p) => p.key === PUBLIC_POOL)!;
  const ip = await allocateAddress(tx, { pool, strategy: env.strategy, random: env.random, holder: owner, now: env.now, ...(requested !== undefined ? { requested } : {}) });
  await tx.db.insertInto('public_addresses').values({ ip, owner_id: owner, instance_id: null, last_node: null, allocated_at: env.now, disassociated_mark: null }).execute();
  tx.changed({ kind: 'address', id: ip });
  return { ip, ownerId: owner, allocatedAt: new Date(env.now).toISOString() };
}

async function requireAddress(db: Db, ip: string, owner: string | undefined) {
  const row = await db.selectFrom('public_addresses').selectAll().where('ip', '=', ip).executeTakeFirst();
  if (!row || (owner !== undefined && row.owner_id !== owner)) {
    throw new UserError('InvalidAddress.NotFound', `the address ${ip} is not allocated${owner !== undefined ? ` to account ${owner}` : ''}`, { status: 404 });
  }
  return row;
}

/** `owner`: a resolved account id, or undefined (any account). */
export async function associateAddress(tx: Tx, input: { ip?: unknown; instance?: unknown; owner?: string }): Promise<AssociateResult> {
  const ip = ipArgument(input.ip, 'ip');
  const instanceId = requireString(input.instance, 'instance');
  const address = await requireAddress(tx.db, ip, input.owner);
  const instance = await tx.db.selectFrom('instances').select(['id', 'owner_id', 'node']).where('id', '=', instanceId).executeTakeFirst();
  // Scoped: another account's instance is not found, as if it did not exist.
  if (!instance || (input.owner !== undefined && instance.owner_id !== input.owner)) {
    throw new UserError('InvalidInstanceID.NotFound', `the instance ${instanceId} does not exist`, { status: 404 });
  }
  if (instance.owner_id !== address.owner_id) {
    throw new UserError('AuthFailure', `the address ${ip} belongs to account ${address.owner_id} but the instance ${instanceId} to account ${instance.owner_id}`, { status: 403 });
  }
  if (address.instance_id === instanceId) return view({ ...address });
  const movedFrom = address.instance_id ?? undefined;
  if (movedFrom !== undefined) await detach(tx, ip, movedFrom);
  const other = await tx.db.selectFrom('public_addresses').select('ip').where('instance_id', '=', instanceId).executeTakeFirst();
  if (other) await detach(tx, other.ip, instanceId);
  await tx.db.updateTable('public_addresses').set({ instance_id: instanceId }).where('ip', '=', ip).execute();
  tx.changed({ kind: 'address', id: ip });
  return { ...view({ ...address, instance_id: instanceId }), ...(movedFrom !== undefined ? { movedFrom } : {}), ...(other ? { replaced: other.ip } : {}) };
}

/** Disassociates `ip` from `instanceId`, remembering the node it was laid down on (for a later release's hold). */
async function detach(tx: Tx, ip: string, instanceId: string): Promise<void> {
  const instance = await tx.db.selectFrom('instances').select('node').where('id', '=', instanceId).executeTakeFirstOrThrow();
  const mark = await bumpReleaseMark(tx.db);
  await tx.db.updateTable('public_addresses').set({ instance_id: null, last_node: instance.node, disassociated_mark: mark }).where('ip', '=', ip).execute();
  tx.changed({ kind: 'address', id: ip });
}

export async function disassociateAddress(tx: Tx, input: { ip?: unknown; owner?: string }): Promise<AddressView> {
  const ip = ipArgument(input.ip, 'ip');
  const address = await requireAddress(tx.db, ip, input.owner);
  if (address.instance_id === null) throw new UserError('InvalidAssociation.NotFound', `the address ${ip} is not associated with an instance`, { status: 404 });
  await detach(tx, ip, address.instance_id);
  return view({ ...address, instance_id: null });
}

/** Gives the address back to the pool (disassociating it first); held until every registered node converged (ipam.releaseAddress). */
export async function releasePublicAddress(tx: Tx, input: { ip?: unknown; owner?: string }, now: number): Promise<AddressView> {
  const ip = ipArgument(input.ip, 'ip');
  const address = await requireAddress(tx.db, ip, input.owner);
  let lastNode = address.last_node;
  let absentSince: number | undefined = address.disassociated_mark ?? undefined;
  if (address.instance_id !== null) {
    const instance = await tx.db.selectFrom('instances').select('node').where('id', '=', address.instance_id).executeTakeFirstOrThrow();
    lastNode = instance.node;
    absentSince = undefined;
  }
  await tx.db.deleteFrom('public_addresses').where('ip', '=', ip).execute();
  await releaseAddress(tx, { ip, nodes: lastNode === null ? [] : [lastNode], now, absentSinceMark: lastNode === null ? undefined : absentSince });
  tx.changed({ kind: 'address', id: ip });
  return view(address);
}

/** `owner`: a resolved account id (undefined: every account). */
export async function listAddresses(db: Db, owner?: string): Promise<AddressView[]> {
  let q = db.selectFrom('public_addresses').selectAll().orderBy('ip');
  if (owner !== undefined) q = q.where('owner_id', '=', owner);
  const rows = await q.execute();
  return rows.map(view);
}

function view(r: { ip: string; owner_id: string; instance_id: string | null; allocated_at: number }): AddressView {
  return { ip: r.ip, ownerId: r.owner_id, ...(r.instance_id !== null ? { instanceId: r.instance_id } : {}), allocatedAt: new Date(r.allocated_at).toISOString() };
}
