/**
 * `importGni`: writes a GniImportPlan (gni-import-plan.ts) into an empty CLC
 * database in ONE write transaction of the store (BEGIN IMMEDIATE … COMMIT).
 *
 * Why the store and not the admin API: the API has one transaction per call
 * (hundreds for a cloud), so a failure or crash half-way would leave a
 * half-imported cloud that a running CLC could already broadcast — nodes
 * would tear down the instances not yet imported. One SQLite transaction
 * (WAL, synchronous=FULL, db/store.ts) is all or nothing: a crash before
 * COMMIT leaves the database as it was (empty), after it complete. The rows
 * go through the same service functions the API uses where those exist
 * (cluster and node registration with their checks, IPAM leases), plus the
 * pinned forms an import needs: given instance and group ids, MACs and
 * addresses (ipam.pinAddress). An instance without a private IP (an
 * IPv6-only ROUTED cluster's) takes no lease and is stored with private_ip
 * NULL, as services/instances.ts runs one; user data is stored as the plan
 * checked it (the API's canonical base64).
 *
 * Only an empty database is accepted: no network property, cluster, node,
 * instance, group, address or lease. Merging into a running cloud's state
 * is not offered — ids, MACs and addresses could collide with ones already
 * broadcast.
 *
 * `dryRun`: the same transaction, rolled back at the end, so a dry run
 * checks everything a real import checks (property, constraints, pools).
 * `previewClcIp`: the document the CLC will build from the imported state,
 * built inside the transaction (so before anything is broadcast, and in a
 * dry run too) for comparing `netd plan` per node before the CLC starts.
 */
import type { Db, Store, Tx } from '../db/store.ts';
import { UserError } from '../../shared/errors.ts';
import { formatDiagnostic } from '../../shared/diagnostics.ts';
import { explodedConfiguration, getterOf, readPropertyTexts } from '../properties/service.ts';
import { NETWORK_CONFIGURATION, propertyDefinition } from '../properties/registry.ts';
import { registerCluster, registerNode } from '../services/clusters.ts';
import { clusterHasIpv4, clusterPool, pinAddress, poolsOf, PUBLIC_POOL, type Pool } from '../services/ipam.ts';
import { ruleKey } from '../services/permission.ts';
import { insertRule } from '../services/groups.ts';
import { SnapshotCache } from '../snapshot/snapshot-cache.ts';
import { buildGni } from '../gni/builder.ts';
import type { GniDocument } from '../../shared/gni/model.ts';
import { importRefusal, type GniImportAccount, type GniImportPlan } from './gni-import-plan.ts';

export interface ImportSummary {
  readonly dryRun: boolean;
  readonly propertySource: 'file' | 'document';
  readonly clusters: number;
  readonly nodes: number;
  readonly groups: number;
  readonly rules: number;
  readonly instances: number;
  readonly addresses: number;
  /** Accounts created for the document's owners (`account-<id>`); those the database had already are not listed. */
  readonly accounts: readonly GniImportAccount[];
  readonly clcIp?: string;
  readonly clcIpv6?: string;
  readonly notReconstructed: readonly string[];
  readonly warnings: readonly string[];
}

interface ImportGniOptions {
  readonly now: number;
  readonly dryRun?: boolean;
  /**
   * Also build the document the imported state gives (as the CLC builds it,
   * from a full snapshot read inside the same transaction, so a dry run has
   * one too), with this CLC address as `enabledCLCIp`.
   */
  readonly previewClcIp?: string;
}

export interface ImportResult {
  readonly summary: ImportSummary;
  /** With `previewClcIp`: the CLC's document of the imported state (no sequence). */
  readonly document?: GniDocument;
}

/** Thrown inside the transaction to roll a dry run back; never leaves importGni. */
class DryRunRollback extends Error {
  constructor(readonly result: ImportResult) {
    super('dry run');
  }
}

export async function importGni(store: Store, plan: GniImportPlan, options: ImportGniOptions): Promise<ImportResult> {
  const dryRun = options.dryRun === true;
  try {
    return await store.write(async (tx) => {
      const summary = await writePlan(tx, plan, { now: options.now, dryRun });
      const result: ImportResult = {
        summary,
        ...(options.previewClcIp !== undefined ? { document: buildGni(await new SnapshotCache(options.previewClcIp).read(tx.db, { full: true })) } : {}),
      };
      if (dryRun) throw new DryRunRollback(result);
      return result;
    });
  } catch (err) {
    if (err instanceof DryRunRollback) return err.result;
    throw err;
  }
}

/** Tables that must hold no row (meta, history and node reports do not count). */
const STATE_TABLES = ['clusters', 'nodes', 'instances', 'security_groups', 'public_addresses', 'ip_leases'] as const;

async function requireEmpty(db: Db): Promise<void> {
  const found: string[] = [];
  for (const table of STATE_TABLES) {
    const row = await db.selectFrom(table).select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    if (Number(row.n) > 0) found.push(`${row.n} ${table.replace('_', ' ')}`);
  }
  const property = await db.selectFrom('properties').select('name').where('name', '=', NETWORK_CONFIGURATION).executeTakeFirst();
  if (property) found.push(`${NETWORK_CONFIGURATION} set`);
  if (found.length > 0) {
    throw new UserError('IMPORT_DATABASE_NOT_EMPTY', `the CLC database is not empty (${found.join(', ')}): import seeds a new database only`, {
      status: 409,
      details: { found },
    });
  }
}

async function writePlan(tx: Tx, plan: GniImportPlan, env: { now: number; dryRun: boolean }): Promise<ImportSummary> {
  const { now } = env;
  await requireEmpty(tx.db);
  const warnings = [...plan.warnings];

  // The property first: pools come from it, and the clusters must be in it.
  const texts = await readPropertyTexts(tx.db);
  const next = new Map(texts).set(NETWORK_CONFIGURATION, plan.propertyText);
  const parsed = propertyDefinition(NETWORK_CONFIGURATION)!.parse(plan.propertyText, getterOf(next));
  if (!parsed.ok) {
    const lines = parsed.diagnostics.map(formatDiagnostic);
    // A rebuilt property that does not validate is a document that lacks something (propertyGaps says what, when known): the way out is the real property.
    const source =
      plan.propertySource === 'file'
        ? '--property'
        : `rebuilt from the document${plan.propertyGaps.length > 0 ? `, which cannot give it everything: ${plan.propertyGaps.join('; ')}` : ''}; pass the cloud's property with --property`;
    throw new UserError('INVALID_PROPERTY', `invalid value for ${NETWORK_CONFIGURATION} (${source}): ${lines.slice(0, 3).join('; ')}`, {
      details: { property: NETWORK_CONFIGURATION, diagnostics: parsed.diagnostics, ...(plan.propertyGaps.length > 0 ? { gaps: plan.propertyGaps } : {}) },
    });
  }
  await tx.db.insertInto('properties').values({ name: NETWORK_CONFIGURATION, value: plan.propertyText, updated_at: now }).execute();
  await tx.db.insertInto('property_history').values({ name: NETWORK_CONFIGURATION, at: now, old_value: null, new_value: plan.propertyText }).execute();
  tx.changed({ kind: 'property', name: NETWORK_CONFIGURATION });
  const cfg = explodedConfiguration(next);
  const configured = new Set(cfg?.Clusters.map((c) => c.Name) ?? []);
  const missing = plan.clusters.filter((c) => !configured.has(c.name)).map((c) => c.name);
  if (missing.length > 0) {
    throw importRefusal(missing.map((name) => ({ code: 'IMPORT_INCONSISTENT' as const, message: `cluster ${name} of the document is not in the property's Clusters` })));
  }
  const pools = new Map<string, Pool>(poolsOf(cfg).map((p) => [p.key, p]));
  // The property decides whether a cluster's instances have IPv4 (a --property may say otherwise than
  // the document): an instance must have a private IP exactly when its cluster has an IPv4 pool.
  const hasIpv4 = new Map(cfg?.Clusters.map((c) => [c.Name, clusterHasIpv4(c)]) ?? []);
  const mismatched = plan.instances.filter((i) => hasIpv4.get(i.cluster) !== (i.privateIp !== undefined));
  if (mismatched.length > 0) {
    throw importRefusal(mismatched.map((i) => ({
      code: 'IMPORT_INCONSISTENT' as const,
      message: i.privateIp === undefined
        ? `instance ${i.id} has no privateIp, but the property gives cluster ${i.cluster} IPv4 addresses (only an IPv6-only ROUTED cluster's instances have none)`
        : `instance ${i.id} has privateIp ${i.privateIp}, but the property makes cluster ${i.cluster} IPv6-only (no IPv4 pool)`,
    })));
  }

  // The owners' accounts first: every group, instance and address belongs to an existing account.
  const accounts: GniImportAccount[] = [];
  for (const a of plan.accounts) {
    if (await tx.db.selectFrom('accounts').select('id').where('id', '=', a.id).executeTakeFirst()) continue;
    const clash = await tx.db.selectFrom('accounts').select('id').where('name', '=', a.name).executeTakeFirst();
    if (clash) throw new UserError('ACCOUNT_EXISTS', `the document's owner ${a.id} needs an account named ${a.name}, but account ${clash.id} has that name; rename it first`, { status: 409 });
    await tx.db.insertInto('accounts').values({ id: a.id, name: a.name, created_at: now }).execute();
    accounts.push(a);
  }

  for (const c of plan.clusters) await registerCluster(tx, { name: c.name, ccUrl: c.ccUrl, ccIp: c.ccIp }, now);
  for (const n of plan.nodes) await registerNode(tx, { cluster: n.cluster, name: n.name, ncUrl: n.ncUrl }, now);

  let rules = 0;
  for (const g of plan.groups) {
    await tx.db.insertInto('security_groups').values({ id: g.id, owner_id: g.ownerId, name: g.name, description: g.description, created_at: now }).execute();
    tx.changed({ kind: 'group', id: g.id });
  }
  for (const g of plan.groups) {
    for (const r of g.rules) {
      await insertRule(tx, g.id, r, ruleKey(r), now);
      rules++;
    }
  }

  for (const i of plan.instances) {
    if (i.privateIp !== undefined) {
      const pool = pools.get(clusterPool(i.cluster))!;
      const { inPool } = await pinAddress(tx, { pool, ip: i.privateIp, holder: i.id, now });
      if (!inPool) warnings.push(`instance ${i.id}: private IP ${i.privateIp} is outside cluster ${i.cluster}'s PrivateIps; kept (listed by \`edgenet ipam show\` as outside the pools)`);
    }
    await tx.db
      .insertInto('instances')
      .values({ id: i.id, owner_id: i.ownerId, cluster: i.cluster, node: i.node, mac: i.mac, private_ip: i.privateIp ?? null, created_at: now, user_data: i.userData ?? null })
      .execute();
    await tx.db
      .insertInto('instance_groups')
      .values(i.groups.map((group_id, position) => ({ instance_id: i.id, group_id, position })))
      .execute();
    tx.changed({ kind: 'instance', id: i.id });
  }

  for (const a of plan.addresses) {
    const { inPool } = await pinAddress(tx, { pool: pools.get(PUBLIC_POOL)!, ip: a.ip, holder: a.ownerId, now });
    if (!inPool) warnings.push(`public IP ${a.ip} of ${a.instanceId} is outside PublicIps; kept`);
    await tx.db.insertInto('public_addresses').values({ ip: a.ip, owner_id: a.ownerId, instance_id: a.instanceId, last_node: null, allocated_at: now, disassociated_mark: null }).execute();
    tx.changed({ kind: 'address', id: a.ip });
  }

  return {
    dryRun: env.dryRun,
    propertySource: plan.propertySource,
    clusters: plan.clusters.length,
    nodes: plan.nodes.length,
    groups: plan.groups.length,
    rules,
    instances: plan.instances.length,
    addresses: plan.addresses.length,
    accounts,
    ...(plan.clcIp !== undefined ? { clcIp: plan.clcIp } : {}),
    ...(plan.clcIpv6 !== undefined ? { clcIpv6: plan.clcIpv6 } : {}),
    notReconstructed: plan.notReconstructed,
    warnings,
  };
}
