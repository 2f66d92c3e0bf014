/**
 * Security groups and their ingress rules (EC2-Classic semantics).
 *
 * Invariants: ids are `sg-` + 8 hex; names are unique per owner account and
 * never look like an id, so a reference is resolved unambiguously (id first,
 * else name within the owner); a group some instance uses cannot be deleted
 * (also enforced by a foreign key); a rule is stored once per group (UNIQUE
 * canonical key): authorizing an identical rule is a no-op, the same rule
 * twice in one request is `InvalidPermission.Duplicate`, revoking a rule that
 * does not exist is `InvalidPermission.NotFound`; keys hold CIDRs in one
 * spelling per prefix (RFC 5952 for IPv6: permission.ts), so
 * `2001:DB8:0::/32` and `2001:db8::/32` are one rule. Rules of other groups that
 * name a deleted group stay stored (so they can be listed and revoked) but are
 * left out of snapshots, so they are never broadcast.
 *
 * Accounts (issue 15): an owner here is an existing account's id, resolved by
 * CloudState (accounts.ts resolveOwner). With an owner given, a group of
 * another account is not found, exactly as if it did not exist; without one
 * (the admin API, the admin account over EC2) an id reaches any account's
 * group and a name resolves in the admin account. A source group named by id
 * in a tenant's request (`sourceScope`) must be the tenant's own or belong to
 * the `UserId` given; another account's group is reachable only by
 * `UserId` + `GroupName` (EC2-Classic). Each account has a `default` group
 * (ensureDefaultGroup); the EC2 path may not delete it (CannotDelete), the
 * admin API may. Limits on groups and rules: limits.ts.
 */
import type { Db, Tx } from '../db/store.ts';
import { UserError } from '../../shared/errors.ts';
import { optionalString, requireString, type RandomHex } from './args.ts';
import { ADMIN_ACCOUNT_ID } from './accounts.ts';
import { checkGroupLimit, checkRuleLimit, type AccountLimits } from './limits.ts';
import { parsePermission, protocolName, ruleKey, type ParsedPermission, type PermissionInput } from './permission.ts';
import { isUniqueViolation } from '../db/store.ts';
import type { SnapshotRule } from '../contracts.ts';

export interface RuleView extends SnapshotRule {
  readonly protocolName: string;
  readonly sourceGroupName?: string;
  /** The source group no longer exists: the rule is kept but not broadcast. */
  readonly sourceGroupDeleted?: boolean;
}

export interface GroupView {
  readonly id: string;
  readonly name: string;
  readonly ownerId: string;
  readonly description: string;
  readonly createdAt: string;
  readonly instances: number;
  readonly rules: readonly RuleView[];
}

const GROUP_ID = /^sg-[0-9a-f]{8}$/;

export interface GroupRow {
  id: string;
  owner_id: string;
  name: string;
  description: string;
  created_at: number;
}

export const DEFAULT_GROUP_NAME = 'default';
export const DEFAULT_GROUP_DESCRIPTION = 'default group';

export function isGroupId(text: string): boolean {
  return GROUP_ID.test(text);
}

/**
 * Resolves a group by id (any account's, or only `owner`'s when given) or by
 * name within `owner` (the admin account when not given). `owner` is a
 * resolved account id.
 */
export async function resolveGroup(db: Db, refInput: unknown, owner?: string): Promise<GroupRow> {
  const ref = requireString(refInput, 'group');
  const explicitOwner = owner === '' ? undefined : owner;
  let row: GroupRow | undefined;
  if (GROUP_ID.test(ref)) {
    row = await db.selectFrom('security_groups').selectAll().where('id', '=', ref).executeTakeFirst();
    if (row && explicitOwner !== undefined && row.owner_id !== explicitOwner) row = undefined;
  } else {
    row = await db.selectFrom('security_groups').selectAll().where('owner_id', '=', explicitOwner ?? ADMIN_ACCOUNT_ID).where('name', '=', ref).executeTakeFirst();
  }
  if (!row) {
    throw new UserError('InvalidGroup.NotFound', `the security group ${JSON.stringify(ref)} does not exist${explicitOwner ? ` for account ${explicitOwner}` : ''}`, { status: 404 });
  }
  return row;
}

/** `owner`: an existing account's id (CloudState resolves it). */
export async function createGroup(
  tx: Tx,
  input: { name?: unknown; owner: string; description?: unknown },
  env: { readonly now: number; readonly randomHex: RandomHex; readonly limits: AccountLimits },
): Promise<GroupView> {
  const name = requireString(input.name, 'group name');
  if (name.length > 255 || !/^[\x20-\x7e]+$/.test(name)) throw new UserError('InvalidParameterValue', 'a group name is 1-255 printable ASCII characters');
  if (/^sg-/i.test(name)) throw new UserError('InvalidParameterValue', 'a group name may not start with "sg-" (reserved for group ids)');
  const owner = input.owner;
  const description = optionalString(input.description, 'description') ?? '';
  if (description.length > 255 || !/^[\x20-\x7e]*$/.test(description)) throw new UserError('InvalidParameterValue', 'a description is at most 255 printable ASCII characters');
  const existing = await tx.db.selectFrom('security_groups').select('id').where('owner_id', '=', owner).where('name', '=', name).executeTakeFirst();
  if (existing) throw new UserError('InvalidGroup.Duplicate', `the security group ${JSON.stringify(name)} already exists for account ${owner} (${existing.id})`, { status: 409 });
  await checkGroupLimit(tx.db, owner, env.limits);
  const id = await insertGroup(tx, { owner, name, description, now: env.now, randomHex: env.randomHex });
  return (await getGroupById(tx.db, id))!;
}

async function insertGroup(tx: Tx, g: { owner: string; name: string; description: string; now: number; randomHex: RandomHex }): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const id = `sg-${g.randomHex(4)}`;
    try {
      await tx.attempt(() => tx.db.insertInto('security_groups').values({ id, owner_id: g.owner, name: g.name, description: g.description, created_at: g.now }).execute());
      tx.changed({ kind: 'group', id });
      return id;
    } catch (err) {
      if (!isUniqueViolation(err) || attempt >= 8) throw err;
    }
  }
}

/** The id of the account's `default` group, if it has one. */
export async function defaultGroupOf(db: Db, accountId: string): Promise<string | undefined> {
  return (await db.selectFrom('security_groups').select('id').where('owner_id', '=', accountId).where('name', '=', DEFAULT_GROUP_NAME).executeTakeFirst())?.id;
}

/**
 * The account's `default` group as EC2-Classic had it (description `default
 * group`; tcp 0-65535, udp 0-65535 and icmp -1:-1 from the group itself),
 * created when the account has no group of that name. Idempotent; not
 * limited (an account always has its default group). `accountId` must be an
 * existing account. Returns the group's id and whether it was created now.
 */
export async function ensureDefaultGroup(tx: Tx, accountId: string, now: number, randomHex: RandomHex): Promise<{ id: string; created: boolean }> {
  const existing = await defaultGroupOf(tx.db, accountId);
  if (existing !== undefined) return { id: existing, created: false };
  const id = await insertGroup(tx, { owner: accountId, name: DEFAULT_GROUP_NAME, description: DEFAULT_GROUP_DESCRIPTION, now, randomHex });
  const self = { sourceGroupId: id, sourceGroupOwnerId: accountId };
  const rules: StoredRule[] = [
    { protocol: 6, fromPort: 0, toPort: 65535, ...self },
    { protocol: 17, fromPort: 0, toPort: 65535, ...self },
    { protocol: 1, icmpType: -1, icmpCode: -1, ...self },
  ];
  for (const rule of rules) await insertRule(tx, id, rule, ruleKey(rule), now);
  tx.changed({ kind: 'rule', id });
  return { id, created: true };
}

export interface DeleteGroupOptions {
  /**
   * Refuse a group named `default` (CannotDelete), as EC2 does: the EC2
   * endpoint sets it. The admin API does not, so an operator can still
   * remove an account's default group (it comes back on the account's next
   * EC2 request: ensureDefaultGroup).
   */
  readonly protectDefault?: boolean;
}

export async function deleteGroup(tx: Tx, ref: unknown, owner?: string, options: DeleteGroupOptions = {}): Promise<GroupRow> {
  const group = await resolveGroup(tx.db, ref, owner);
  if (options.protectDefault === true && group.name === DEFAULT_GROUP_NAME) {
    throw new UserError('CannotDelete', `the security group ${group.id} is account ${group.owner_id}'s default group and cannot be deleted`);
  }
  const used = await tx.db.selectFrom('instance_groups').select('instance_id').where('group_id', '=', group.id).limit(5).execute();
  if (used.length > 0) {
    throw new UserError('InvalidGroup.InUse', `the security group ${group.id} (${group.name}) is used by instance(s) ${used.map((u) => u.instance_id).join(', ')}${used.length === 5 ? ', ...' : ''}`, {
      status: 409,
    });
  }
  await tx.db.deleteFrom('group_rules').where('group_id', '=', group.id).execute();
  await tx.db.deleteFrom('security_groups').where('id', '=', group.id).execute();
  tx.changed({ kind: 'group', id: group.id });
  return group;
}

export interface RuleChange {
  readonly group: GroupView;
  /** False when every permission was already there (authorize) — nothing was written. */
  readonly changed: boolean;
  readonly added?: readonly RuleView[];
  readonly removed?: readonly RuleView[];
}

/** The permissions of a request: `{permissions: [...]}` or a single permission object. */
function permissionsOf(body: unknown): PermissionInput[] {
  if (body === null || typeof body !== 'object') throw new UserError('InvalidPermission.Malformed', 'the request needs a permission');
  const list = (body as { permissions?: unknown }).permissions;
  if (list === undefined) return [body as PermissionInput];
  if (!Array.isArray(list) || list.length === 0) throw new UserError('InvalidPermission.Malformed', 'permissions must be a non-empty list');
  return list as PermissionInput[];
}

/** A stored permission is exactly what the snapshot carries (contracts.ts). */
type StoredRule = SnapshotRule;

/**
 * The account a source group is looked up in: the rule's explicit source
 * account (UserId) when given; else, for a name, the target group's owner;
 * else, for an id, the caller's account when it is scoped (`sourceScope`), any
 * account otherwise (the admin API).
 */
function sourceLookupOwner(p: ParsedPermission, target: GroupRow, sourceScope: string | undefined): string | undefined {
  if (p.sourceAccount !== undefined) return p.sourceAccount;
  return GROUP_ID.test(p.sourceGroup!) ? sourceScope : target.owner_id;
}

async function toStoredRule(db: Db, p: ParsedPermission, target: GroupRow, options: { forRevoke: boolean; sourceScope: string | undefined }): Promise<StoredRule> {
  const base: StoredRule = {
    protocol: p.protocol,
    ...(p.fromPort !== undefined ? { fromPort: p.fromPort, toPort: p.toPort! } : {}),
    ...(p.icmpType !== undefined ? { icmpType: p.icmpType, icmpCode: p.icmpCode! } : {}),
  };
  if (p.sourceGroup === undefined) return { ...base, cidr: p.cidr! };
  const owner = p.sourceAccount ?? target.owner_id;
  const forRevoke = options.forRevoke;
  try {
    const source = await resolveGroup(db, p.sourceGroup, sourceLookupOwner(p, target, options.sourceScope));
    return { ...base, sourceGroupId: source.id, sourceGroupOwnerId: source.owner_id };
  } catch (err) {
    // A rule naming a since-deleted group can still be revoked by the group's id.
    if (forRevoke && GROUP_ID.test(p.sourceGroup)) return { ...base, sourceGroupId: p.sourceGroup, sourceGroupOwnerId: owner };
    throw err;
  }
}

/** A rule change as the API asked for it: the group (by name or id, and owner), the request body, and the allowed protocol numbers. */
export interface RuleRequest {
  readonly ref: unknown;
  /** The resolved account the group (by id or name) must belong to; undefined: any account by id, the admin account by name. */
  readonly owner: string | undefined;
  readonly body: unknown;
  /** Protocol numbers allowed beyond tcp/udp/icmp (cloud.network.ec2_classic_additional_protocols_allowed). */
  readonly additionalProtocols: readonly number[];
  /**
   * The caller's account when the caller is a tenant (the EC2 endpoint): a
   * source group named by id must be that account's or the rule's explicit
   * source account's (UserId), else InvalidGroup.NotFound. Unset (the admin
   * API): an id reaches any account's group.
   */
  readonly sourceScope?: string;
  /**
   * Authorize only: a rule the group already has is InvalidPermission.Duplicate
   * (EC2's answer; the EC2 endpoint sets it). Unset (the admin API): such a
   * rule is a no-op and the others are added.
   */
  readonly refuseExisting?: boolean;
}

export async function authorize(
  tx: Tx,
  { ref, owner, body, additionalProtocols, sourceScope, refuseExisting, now, limits }: RuleRequest & { readonly now: number; readonly limits: AccountLimits },
): Promise<RuleChange> {
  const group = await resolveGroup(tx.db, ref, owner);
  const rules = await storedRulesOf(tx.db, { body, group, additional: additionalProtocols, forRevoke: false, sourceScope });
  const existing = new Set((await tx.db.selectFrom('group_rules').select('rule_key').where('group_id', '=', group.id).execute()).map((r) => r.rule_key));
  const already = refuseExisting ? rules.find(({ key }) => existing.has(key)) : undefined;
  if (already) throw new UserError('InvalidPermission.Duplicate', `the security group ${group.id} already has the rule ${describeRule(already.rule)}`);
  const fresh = rules.filter(({ key }) => !existing.has(key));
  checkRuleLimit(group.owner_id, group.id, existing.size, fresh.length, limits);
  const added: StoredRule[] = [];
  for (const { rule, key } of fresh) {
    await insertRule(tx, group.id, rule, key, now);
    added.push(rule);
  }
  if (added.length > 0) tx.changed({ kind: 'rule', id: group.id });
  const names = await groupNames(tx.db, added.flatMap((r) => (r.sourceGroupId ? [r.sourceGroupId] : [])));
  return { group: (await getGroupById(tx.db, group.id))!, changed: added.length > 0, added: added.map((r) => ruleView(r, names)) };
}

/** Stores one rule of a group under its key (permission.ts ruleKey); the caller marks the change. Also `edgenet import gni`'s. */
export async function insertRule(tx: Tx, groupId: string, rule: StoredRule, key: string, now: number): Promise<void> {
  await tx.db
    .insertInto('group_rules')
    .values({
      group_id: groupId,
      rule_key: key,
      protocol: rule.protocol,
      from_port: rule.fromPort ?? null,
      to_port: rule.toPort ?? null,
      icmp_type: rule.icmpType ?? null,
      icmp_code: rule.icmpCode ?? null,
      cidr: rule.cidr ?? null,
      source_group_id: rule.sourceGroupId ?? null,
      source_group_owner_id: rule.sourceGroupOwnerId ?? null,
      created_at: now,
    })
    .execute();
}

export async function revoke(tx: Tx, { ref, owner, body, additionalProtocols, sourceScope }: RuleRequest): Promise<RuleChange> {
  const group = await resolveGroup(tx.db, ref, owner);
  // Revoking must be possible even after the additional-protocols list shrank: accept any protocol number here.
  const everyProtocol = Array.from({ length: 256 }, (_, i) => i);
  const rules = await storedRulesOf(tx.db, { body, group, additional: [...additionalProtocols, ...everyProtocol], forRevoke: true, sourceScope });
  const removed: StoredRule[] = [];
  for (const { rule, key, legacyKey } of rules) {
    let result = await tx.db.deleteFrom('group_rules').where('group_id', '=', group.id).where('rule_key', '=', key).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0 && legacyKey !== undefined) {
      result = await tx.db.deleteFrom('group_rules').where('group_id', '=', group.id).where('rule_key', '=', legacyKey).executeTakeFirst();
    }
    if (Number(result.numDeletedRows) === 0) {
      throw new UserError('InvalidPermission.NotFound', `the security group ${group.id} has no rule ${describeRule(rule)}`, { status: 404 });
    }
    removed.push(rule);
  }
  tx.changed({ kind: 'rule', id: group.id });
  const names = await groupNames(tx.db, removed.flatMap((r) => (r.sourceGroupId ? [r.sourceGroupId] : [])));
  return { group: (await getGroupById(tx.db, group.id))!, changed: true, removed: removed.map((r) => ruleView(r, names)) };
}

async function storedRulesOf(
  db: Db,
  {
    body,
    group,
    additional,
    forRevoke,
    sourceScope,
  }: { readonly body: unknown; readonly group: GroupRow; readonly additional: readonly number[]; readonly forRevoke: boolean; readonly sourceScope: string | undefined },
): Promise<{ rule: StoredRule; key: string; legacyKey?: string }[]> {
  const out: { rule: StoredRule; key: string; legacyKey?: string }[] = [];
  const seen = new Set<string>();
  for (const input of permissionsOf(body)) {
    const rule = await toStoredRule(db, parsePermission(input, additional, { revoke: forRevoke }), group, { forRevoke, sourceScope });
    const key = ruleKey(rule);
    if (seen.has(key)) throw new UserError('InvalidPermission.Duplicate', `the permission ${describeRule(rule)} appears twice in the request`);
    seen.add(key);
    out.push({ rule, key, ...(forRevoke ? legacyIcmpv6Key(input, rule) : {}) });
  }
  return out;
}

/**
 * Before IPv6, protocol 58 was a plain protocol number, so a source-group
 * rule on it was stored without type/code; a revoke without -t names it too
 * (tried when the -1:-1 rule it parses to is not there).
 */
function legacyIcmpv6Key(input: PermissionInput, rule: StoredRule): { legacyKey?: string } {
  const untyped = input.icmp === undefined && input.icmpType === undefined && input.icmpCode === undefined;
  if (rule.protocol !== 58 || rule.sourceGroupId === undefined || !untyped) return {};
  const { icmpType: _t, icmpCode: _c, ...plain } = rule;
  return { legacyKey: ruleKey(plain) };
}

function describeRule(rule: StoredRule): string {
  const ports = rule.fromPort !== undefined ? ` ports ${rule.fromPort}-${rule.toPort}` : rule.icmpType !== undefined ? ` type ${rule.icmpType}:${rule.icmpCode}` : '';
  const source = rule.cidr !== undefined ? ` from ${rule.cidr}` : ` from group ${rule.sourceGroupId}`;
  return `${protocolName(rule.protocol)}${ports}${source}`;
}

async function groupNames(db: Db, ids?: readonly string[]): Promise<Map<string, string>> {
  let q = db.selectFrom('security_groups').select(['id', 'name']);
  if (ids !== undefined) q = q.where('id', 'in', ids.length > 0 ? ids : ['']);
  const rows = await q.execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}

function ruleView(rule: StoredRule, names: ReadonlyMap<string, string>): RuleView {
  return ruleViewOf(
    rule.protocol,
    rule.fromPort,
    rule.toPort,
    rule.icmpType,
    rule.icmpCode,
    rule.cidr,
    rule.sourceGroupId,
    rule.sourceGroupOwnerId,
    rule.sourceGroupId !== undefined ? names.get(rule.sourceGroupId) : undefined,
  );
}

/**
 * A rule as the API shows it. Keys in this order, each only when set:
 * protocol, protocolName, fromPort + toPort, icmpType + icmpCode, cidr,
 * sourceGroupId, sourceGroupOwnerId (when not empty), then sourceGroupName, or
 * sourceGroupDeleted when the source group no longer exists. Built by
 * assignment, not by spreading partial objects: listGroups makes one per
 * stored rule (thousands for a describe) and every rule of one kind then
 * shares one object shape.
 */
function ruleViewOf(
  protocol: number,
  fromPort: number | null | undefined,
  toPort: number | null | undefined,
  icmpType: number | null | undefined,
  icmpCode: number | null | undefined,
  cidr: string | null | undefined,
  sourceGroupId: string | null | undefined,
  sourceGroupOwnerId: string | null | undefined,
  sourceName: string | null | undefined,
): RuleView {
  const view: { -readonly [K in keyof RuleView]: RuleView[K] } = { protocol, protocolName: protocolName(protocol) };
  if (fromPort !== undefined && fromPort !== null) {
    view.fromPort = fromPort;
    view.toPort = toPort!;
  }
  if (icmpType !== undefined && icmpType !== null) {
    view.icmpType = icmpType;
    view.icmpCode = icmpCode!;
  }
  if (cidr !== undefined && cidr !== null) view.cidr = cidr;
  if (sourceGroupId !== undefined && sourceGroupId !== null) {
    view.sourceGroupId = sourceGroupId;
    if (sourceGroupOwnerId) view.sourceGroupOwnerId = sourceGroupOwnerId;
    if (sourceName !== undefined && sourceName !== null) view.sourceGroupName = sourceName;
    else view.sourceGroupDeleted = true;
  }
  return view;
}

/**
 * `owner`: a resolved account id (undefined: every account). Three reads: the
 * groups; their rules, each with its source group's name (a left join: none
 * when that group was deleted), in stored order; their instance counts. The
 * rules and counts are selected by the groups' own conditions (a subquery),
 * not by a list of the ids read first.
 */
export async function listGroups(db: Db, owner?: string, ids?: readonly string[]): Promise<GroupView[]> {
  const idList = ids === undefined ? undefined : ids.length > 0 ? ids : [''];
  let q = db.selectFrom('security_groups').selectAll().orderBy('owner_id').orderBy('name');
  if (owner !== undefined) q = q.where('owner_id', '=', owner);
  if (idList !== undefined) q = q.where('id', 'in', idList);
  const groups = await q.execute();
  let wanted = db.selectFrom('security_groups').select('id');
  if (owner !== undefined) wanted = wanted.where('owner_id', '=', owner);
  if (idList !== undefined) wanted = wanted.where('id', 'in', idList);
  const filtered = owner !== undefined || idList !== undefined;
  let rq = db
    .selectFrom('group_rules as r')
    .leftJoin('security_groups as s', 's.id', 'r.source_group_id')
    .select(['r.group_id', 'r.protocol', 'r.from_port', 'r.to_port', 'r.icmp_type', 'r.icmp_code', 'r.cidr', 'r.source_group_id', 'r.source_group_owner_id', 's.name as source_name'])
    .orderBy('r.id');
  if (filtered) rq = rq.where('r.group_id', 'in', wanted);
  const rules = await rq.execute();
  let cq = db.selectFrom('instance_groups').select(['group_id', ({ fn }) => fn.countAll<number>().as('n')]).groupBy('group_id');
  if (filtered) cq = cq.where('group_id', 'in', wanted);
  const counts = await cq.execute();
  const countBy = new Map(counts.map((c) => [c.group_id, Number(c.n)]));
  const rulesBy = new Map<string, RuleView[]>();
  for (const r of rules) {
    let list = rulesBy.get(r.group_id);
    if (!list) rulesBy.set(r.group_id, (list = []));
    list.push(ruleViewOf(r.protocol, r.from_port, r.to_port, r.icmp_type, r.icmp_code, r.cidr, r.source_group_id, r.source_group_owner_id, r.source_name));
  }
  return groups.map((g) => ({
    id: g.id,
    name: g.name,
    ownerId: g.owner_id,
    description: g.description,
    createdAt: new Date(g.created_at).toISOString(),
    instances: countBy.get(g.id) ?? 0,
    rules: rulesBy.get(g.id) ?? [],
  }));
}

export async function getGroupById(db: Db, id: string): Promise<GroupView | undefined> {
  return (await listGroups(db, undefined, [id]))[0];
}
