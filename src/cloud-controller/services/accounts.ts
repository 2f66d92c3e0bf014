/**
 * Accounts (issue 15): who owns groups, addresses and instances, and whose
 * EC2 access keys sign requests.
 *
 * Invariants: an account id is 12 digits (EC2 style), drawn at random among
 * 10^12 (000000000000-000000000099 are reserved: 000000000001 is the admin),
 * so an id is in practice never reused; a name
 * is 1-63 of a-z, 0-9 and '-' (not starting or ending with '-', and never 12
 * digits, so an owner argument is unambiguously an id or a name); the admin
 * account 000000000001 `admin` always exists (migration 5) and cannot be
 * deleted; an account that still owns a group, an address or an instance
 * cannot be deleted (ACCOUNT_IN_USE); its `default` group and its access
 * keys go with it.
 *
 * Creating an account is one transaction of CloudState.createAccount: the
 * row (insertAccount), its `default` group (groups.ts ensureDefaultGroup),
 * its first access key (credentials.ts). The composition lives there because
 * groups.ts reads this module (ADMIN_ACCOUNT_ID): no import cycle.
 *
 * `resolveOwner` is the one place an owner argument (the admin API's
 * `owner`, the CLI's `--owner`) becomes an account id: an id or a name of an
 * existing account; nothing given = the admin account.
 */
import type { Db, Tx } from '../db/store.ts';
import { isUniqueViolation } from '../db/store.ts';
import { UserError } from '../../shared/errors.ts';

export const ADMIN_ACCOUNT_ID = '000000000001';
export const ADMIN_ACCOUNT_NAME = 'admin';

const ACCOUNT_ID = /^\d{12}$/;
const ACCOUNT_NAME = /^(?!\d{12}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function isAccountId(text: string): boolean {
  return ACCOUNT_ID.test(text);
}

export function isAccountName(text: string): boolean {
  return ACCOUNT_NAME.test(text);
}

export interface AccountRow {
  readonly id: string;
  readonly name: string;
  readonly created_at: number;
}

/** The account an owner argument names (id or name); undefined/''/null: the admin account. */
export async function resolveOwner(db: Db, value: unknown, field = 'owner'): Promise<string> {
  if (value === undefined || value === null || value === '') return ADMIN_ACCOUNT_ID;
  return (await resolveAccount(db, value, field)).id;
}

/** An existing account by id or name; ACCOUNT_NOT_FOUND (404) otherwise. */
export async function resolveAccount(db: Db, value: unknown, field = 'account'): Promise<AccountRow> {
  if (typeof value !== 'string' || value.trim() === '') throw new UserError('MissingParameter', `${field} is required`);
  const ref = value.trim();
  if (!isAccountId(ref) && !isAccountName(ref)) {
    throw new UserError('InvalidParameterValue', `${field} must be a 12-digit account id or an account name, got ${JSON.stringify(ref)}`);
  }
  const row = await db
    .selectFrom('accounts')
    .selectAll()
    .where(isAccountId(ref) ? 'id' : 'name', '=', ref)
    .executeTakeFirst();
  if (!row) throw new UserError('ACCOUNT_NOT_FOUND', `no account ${JSON.stringify(ref)} (edgenet account list)`, { status: 404 });
  return row;
}

/** Account ids below this are reserved (000000000001 is the admin); new ids are drawn above it. */
const FIRST_RANDOM_ID = 100;
const ID_SPACE = 1_000_000_000_000;

/** A random 12-digit id, never 000000000000-000000000099 (`random`: uniform in [0, 1)). */
export function randomAccountId(random: () => number): string {
  const n = FIRST_RANDOM_ID + Math.floor(random() * (ID_SPACE - FIRST_RANDOM_ID));
  return String(Math.min(n, ID_SPACE - 1)).padStart(12, '0');
}

/** An account with what it owns, as the admin API lists it. */
export interface AccountView {
  readonly id: string;
  readonly name: string;
  /** The admin account (000000000001): never deleted, never limited, sees every account over EC2. */
  readonly admin: boolean;
  readonly createdAt: string;
  readonly groups: number;
  readonly instances: number;
  readonly addresses: number;
  readonly accessKeys: number;
}

function accountsWithCounts(db: Db) {
  return db.selectFrom('accounts').select((eb) => [
    'accounts.id',
    'accounts.name',
    'accounts.created_at',
    eb.selectFrom('security_groups').select(eb.fn.countAll<number>().as('n')).whereRef('security_groups.owner_id', '=', 'accounts.id').as('groups'),
    eb.selectFrom('instances').select(eb.fn.countAll<number>().as('n')).whereRef('instances.owner_id', '=', 'accounts.id').as('instances'),
    eb.selectFrom('public_addresses').select(eb.fn.countAll<number>().as('n')).whereRef('public_addresses.owner_id', '=', 'accounts.id').as('addresses'),
    eb.selectFrom('access_keys').select(eb.fn.countAll<number>().as('n')).whereRef('access_keys.account_id', '=', 'accounts.id').as('access_keys'),
  ]);
}

type CountedRow = { id: string; name: string; created_at: number; groups: number | null; instances: number | null; addresses: number | null; access_keys: number | null };

function viewOf(r: CountedRow): AccountView {
  return {
    id: r.id,
    name: r.name,
    admin: r.id === ADMIN_ACCOUNT_ID,
    createdAt: new Date(r.created_at).toISOString(),
    groups: Number(r.groups ?? 0),
    instances: Number(r.instances ?? 0),
    addresses: Number(r.addresses ?? 0),
    accessKeys: Number(r.access_keys ?? 0),
  };
}

/** Every account, the admin first, then by name. */
export async function listAccounts(db: Db): Promise<AccountView[]> {
  const rows = await accountsWithCounts(db).orderBy('accounts.name').execute();
  return rows.map(viewOf).sort((a, b) => Number(b.admin) - Number(a.admin));
}

/** One account by id or name (ACCOUNT_NOT_FOUND otherwise). */
export async function getAccount(db: Db, ref: unknown): Promise<AccountView> {
  const { id } = await resolveAccount(db, ref);
  return viewOf(await accountsWithCounts(db).where('accounts.id', '=', id).executeTakeFirstOrThrow());
}

/**
 * The account row of a new account: a valid, unused name and a random id
 * (retried on the rare collision). Its default group and first access key
 * are added in the same transaction by the caller (CloudState.createAccount).
 */
export async function insertAccount(tx: Tx, input: { name?: unknown }, options: { now: number; random: () => number }): Promise<AccountRow> {
  if (typeof input.name !== 'string' || input.name.trim() === '') throw new UserError('MissingParameter', 'an account name is required');
  const name = input.name.trim();
  if (!isAccountName(name)) {
    throw new UserError(
      'InvalidParameterValue',
      `an account name is 1-63 characters of a-z, 0-9 and '-', not starting or ending with '-', and not 12 digits (those are account ids); got ${JSON.stringify(name)}`,
    );
  }
  const taken = await tx.db.selectFrom('accounts').select('id').where('name', '=', name).executeTakeFirst();
  if (taken) throw new UserError('ACCOUNT_EXISTS', `an account named ${JSON.stringify(name)} already exists (${taken.id})`, { status: 409, details: { accountId: taken.id } });
  for (let attempt = 0; ; attempt++) {
    const row: AccountRow = { id: randomAccountId(options.random), name, created_at: options.now };
    try {
      await tx.attempt(() => tx.db.insertInto('accounts').values(row).execute());
      return row;
    } catch (err) {
      if (!isUniqueViolation(err) || attempt >= 8) throw err;
    }
  }
}

/**
 * The account `ref` names, checked for deletion: not the admin account, and
 * owning no instance, no address and no group but `spareGroup` (its default
 * group, which the caller deletes with it). ACCOUNT_IN_USE with the counts
 * otherwise.
 */
export async function accountToDelete(db: Db, ref: unknown, spareGroup: string): Promise<AccountRow> {
  const account = await resolveAccount(db, ref);
  if (account.id === ADMIN_ACCOUNT_ID) {
    throw new UserError('ACCOUNT_IN_USE', `the admin account ${ADMIN_ACCOUNT_ID} (${ADMIN_ACCOUNT_NAME}) cannot be deleted`, { status: 409, details: { accountId: account.id, admin: true } });
  }
  const view = await getAccount(db, account.id);
  const spare = await db.selectFrom('security_groups').select('id').where('owner_id', '=', account.id).where('name', '=', spareGroup).executeTakeFirst();
  const groups = view.groups - (spare ? 1 : 0);
  if (groups > 0 || view.instances > 0 || view.addresses > 0) {
    const owned = [`${groups} security group(s)`, `${view.instances} instance(s)`, `${view.addresses} public address(es)`];
    throw new UserError('ACCOUNT_IN_USE', `account ${account.id} (${account.name}) still owns ${owned.join(', ')}: delete or release them first (its ${spareGroup} group goes with it)`, {
      status: 409,
      details: { accountId: account.id, groups, instances: view.instances, addresses: view.addresses },
    });
  }
  return account;
}

/** Deletes the account row and its access keys (after accountToDelete); the number of keys deleted. */
export async function deleteAccountRow(tx: Tx, account: AccountRow): Promise<number> {
  const keys = await tx.db.deleteFrom('access_keys').where('account_id', '=', account.id).executeTakeFirst();
  await tx.db.deleteFrom('accounts').where('id', '=', account.id).execute();
  return Number(keys.numDeletedRows);
}
