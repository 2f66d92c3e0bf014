/**
 * Whose resources an EC2 caller reaches (issue 15, "Scoping"): a tenant
 * passes its own account as the owner of every service call, so another
 * account's group, address or instance is not found, exactly as if it did not
 * exist; the admin account passes none, so its describes list every account
 * and its ids reach any account (names still resolve in its own account: the
 * services resolve a name without an owner in the admin account).
 */
import type { Ec2Caller } from '../contract.ts';

/** The owner to pass to a service lookup or list: the tenant's account; undefined for the admin. */
export function ownerScope(caller: Ec2Caller): string | undefined {
  return caller.admin ? undefined : caller.accountId;
}
