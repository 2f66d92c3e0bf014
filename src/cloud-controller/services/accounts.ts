/**
 * Accounts (issue 15): who owns groups, addresses and instances, and whose
 * EC2 access keys sign requests.
 *
 * Invariants: an account id is 12 digits (EC2 style) and never reused; a name
 * is 1-63 of a-z, 0-9 and '-' (not starting or ending with '-', and never 12
 * digits, so an owner argument is unambiguously an id or a name); the admin
 * account 000000000001 `admin` always exists (migration 5) and cannot be
 * deleted; an account that still owns a group, an address or an instance
 * cannot be deleted (ACCOUNT_IN_USE).
 *
 * `resolveOwner` is the one place an owner argument (the admin API's
 * `owner`, the CLI's `--owner`) becomes an account id: an id or a name of an
 * existing account; nothing given = the admin account.
 */
import type { Db } from '../db/store.ts';
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
