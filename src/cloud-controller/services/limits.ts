/**
 * Per-account limits (issue 15): how many security groups an account may
 * have, how many rules one of its groups may hold (every family together),
 * how many public addresses it may have allocated. Cloud properties
 * `cloud.accounts.max_*`, read by CloudState in the transaction of the write
 * they limit, so a changed property applies from the next request and two
 * concurrent requests cannot both pass a limit one of them reaches.
 *
 * Enforced here, in the services, so the admin API and the EC2 endpoint obey
 * them alike. 0 means unlimited; the admin account is never limited (it is
 * the operator's, and existing clouds keep working as before). A limit
 * counts the account's resources, whoever asks: the admin API creating a
 * group for a tenant is limited as the tenant would be.
 */
import { UserError } from '../../shared/errors.ts';
import type { Db } from '../db/store.ts';
import { typedValue } from '../properties/service.ts';
import { ADMIN_ACCOUNT_ID } from './accounts.ts';

export interface AccountLimits {
  readonly maxSecurityGroups: number;
  readonly maxRulesPerGroup: number;
  readonly maxAddresses: number;
}

const LIMIT_PROPERTIES = {
  maxSecurityGroups: 'cloud.accounts.max_security_groups',
  maxRulesPerGroup: 'cloud.accounts.max_rules_per_group',
  maxAddresses: 'cloud.accounts.max_addresses',
} as const;

/** The limits as stored property texts give them (defaults when unset). */
export function limitsOf(texts: ReadonlyMap<string, string>): AccountLimits {
  return {
    maxSecurityGroups: typedValue(texts, LIMIT_PROPERTIES.maxSecurityGroups) as number,
    maxRulesPerGroup: typedValue(texts, LIMIT_PROPERTIES.maxRulesPerGroup) as number,
    maxAddresses: typedValue(texts, LIMIT_PROPERTIES.maxAddresses) as number,
  };
}

function limited(account: string, max: number): boolean {
  return max > 0 && account !== ADMIN_ACCOUNT_ID;
}

/** Before creating one more group for `account`. */
export async function checkGroupLimit(db: Db, account: string, limits: AccountLimits): Promise<void> {
  const max = limits.maxSecurityGroups;
  if (!limited(account, max)) return;
  const have = await countOwned(db, 'security_groups', account);
  if (have >= max) {
    throw new UserError(
      'SecurityGroupLimitExceeded',
      `account ${account} has ${have} security groups; ${LIMIT_PROPERTIES.maxSecurityGroups} is ${max} (delete a group, or raise the property)`,
    );
  }
}

/** Before a group of `account` holding `have` rules gets `adding` more. */
export function checkRuleLimit(account: string, group: string, have: number, adding: number, limits: AccountLimits): void {
  const max = limits.maxRulesPerGroup;
  if (adding === 0 || !limited(account, max)) return;
  if (have + adding > max) {
    throw new UserError(
      'RulesPerSecurityGroupLimitExceeded',
      `the security group ${group} has ${have} rules and would have ${have + adding}; ${LIMIT_PROPERTIES.maxRulesPerGroup} is ${max}`,
    );
  }
}

/** Before allocating one more public address to `account`. */
export async function checkAddressLimit(db: Db, account: string, limits: AccountLimits): Promise<void> {
  const max = limits.maxAddresses;
  if (!limited(account, max)) return;
  const have = await countOwned(db, 'public_addresses', account);
  if (have >= max) {
    throw new UserError('AddressLimitExceeded', `account ${account} has ${have} public addresses allocated; ${LIMIT_PROPERTIES.maxAddresses} is ${max} (release one, or raise the property)`);
  }
}

/** How many rows of `table` the account owns. */
async function countOwned(db: Db, table: 'security_groups' | 'public_addresses', account: string): Promise<number> {
  const row = await db.selectFrom(table).select(({ fn }) => fn.countAll<number>().as('n')).where('owner_id', '=', account).executeTakeFirstOrThrow();
  return Number(row.n);
}
