/**
 * Reads and writes cloud properties with their history.
 *
 * Invariants: a value is validated (against the current values of the other
 * properties) inside the same BEGIN IMMEDIATE transaction that stores it, so
 * two concurrent sets cannot both validate against a stale state; an invalid
 * value changes nothing — neither the value nor the history; setting the value
 * a property already has is a no-op (no history row, no change event); a new
 * network configuration (or its reset) may not drop a cluster the old one
 * listed while that cluster still has registered nodes or instances
 * (`ClusterInUse`, with the list of what depends on it): its nodes would find
 * themselves in no document. Deregister them first, or keep the cluster.
 */
import type { Db, Store } from '../db/store.ts';
import { clusterDependents } from './cluster-dependents.ts';
import type { Clock } from '../../shared/clock.ts';
import { UserError } from '../../shared/errors.ts';
import { formatDiagnostic } from '../../shared/diagnostics.ts';
import type { ExplodedNetworkConfiguration } from '../config/types.ts';
import { NETWORK_CONFIGURATION, propertyDefinition, propertyDefinitions, type PropertyDefinition, type PropertyType } from './registry.ts';
import { evaluateNetworkConfiguration, type PropertyGetter } from './network-config.ts';

export interface PropertyView {
  readonly name: string;
  readonly type: PropertyType;
  readonly description: string;
  /** Current text value; undefined when unset. */
  readonly value: string | undefined;
  readonly defaultValue: string | undefined;
  readonly isDefault: boolean;
  readonly updatedAt?: string;
}

export interface PropertyHistoryEntry {
  readonly at: string;
  readonly oldValue: string | undefined;
  readonly newValue: string | undefined;
}

export interface SetResult {
  readonly property: PropertyView;
  readonly changed: boolean;
}

/** Stored values (text) of every property, read inside the caller's transaction. */
export async function readPropertyTexts(db: Db): Promise<Map<string, string>> {
  const rows = await db.selectFrom('properties').select(['name', 'value']).execute();
  return new Map(rows.map((r) => [r.name, r.value]));
}

/** Getter over stored texts falling back to defaults. */
export function getterOf(texts: ReadonlyMap<string, string>): PropertyGetter {
  return (name) => texts.get(name) ?? propertyDefinition(name)?.defaultText;
}

/** Typed value of one property from stored texts (stored values were validated when set). */
export function typedValue(texts: ReadonlyMap<string, string>, name: string): unknown {
  const def = requireDefinition(name);
  const get = getterOf(texts);
  const text = get(name);
  if (text === undefined) return undefined;
  const parsed = def.parse(text, get);
  return parsed.ok ? parsed.value : undefined;
}

/** The exploded network configuration, or undefined when the property is unset (or no longer explodes). */
export function explodedConfiguration(texts: ReadonlyMap<string, string>): ExplodedNetworkConfiguration | undefined {
  const text = texts.get(NETWORK_CONFIGURATION);
  if (text === undefined) return undefined;
  const outcome = evaluateNetworkConfiguration(text, getterOf(texts));
  return outcome.ok ? outcome.exploded : undefined;
}

function requireDefinition(name: string): PropertyDefinition {
  const def = propertyDefinition(name);
  if (!def) throw new UserError('UNKNOWN_PROPERTY', `no property named ${JSON.stringify(name)} (see \`edgenet property list\`)`, { status: 404 });
  return def;
}

export class PropertyService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async list(): Promise<PropertyView[]> {
    return this.store.read(async (db) => {
      const rows = await db.selectFrom('properties').selectAll().execute();
      const byName = new Map(rows.map((r) => [r.name, r]));
      return propertyDefinitions().map((def) => view(def, byName.get(def.name)));
    });
  }

  async get(name: string): Promise<PropertyView> {
    const def = requireDefinition(name);
    return this.store.read(async (db) => view(def, await db.selectFrom('properties').selectAll().where('name', '=', name).executeTakeFirst()));
  }

  async typed(name: string): Promise<unknown> {
    requireDefinition(name);
    return this.store.read(async (db) => typedValue(await readPropertyTexts(db), name));
  }

  async history(name: string): Promise<PropertyHistoryEntry[]> {
    requireDefinition(name);
    return this.store.read(async (db) => {
      const rows = await db.selectFrom('property_history').selectAll().where('name', '=', name).orderBy('id').execute();
      return rows.map((r) => ({ at: new Date(r.at).toISOString(), oldValue: r.old_value ?? undefined, newValue: r.new_value ?? undefined }));
    });
  }

  /** Validates and stores `text`; throws INVALID_PROPERTY (with every diagnostic) and changes nothing when invalid. */
  async set(name: string, text: string): Promise<SetResult> {
    const def = requireDefinition(name);
    if (typeof text !== 'string') throw new UserError('InvalidParameterValue', 'a property value must be a string');
    return this.store.write(async (tx) => {
      const texts = await readPropertyTexts(tx.db);
      const next = new Map(texts).set(name, text);
      const parsed = def.parse(text, getterOf(next));
      if (!parsed.ok) {
        const lines = parsed.diagnostics.map(formatDiagnostic);
        throw new UserError('INVALID_PROPERTY', `invalid value for ${name}: ${lines.slice(0, 3).join('; ')}${lines.length > 3 ? ` (+${lines.length - 3} more)` : ''}`, {
          details: { property: name, diagnostics: parsed.diagnostics },
        });
      }
      // A change of an explode input must keep the network configuration valid.
      if (name !== NETWORK_CONFIGURATION && texts.has(NETWORK_CONFIGURATION)) {
        const outcome = evaluateNetworkConfiguration(texts.get(NETWORK_CONFIGURATION)!, getterOf(next));
        if (!outcome.ok) {
          throw new UserError('INVALID_PROPERTY', `${name}=${text} would make ${NETWORK_CONFIGURATION} invalid`, {
            details: { property: name, diagnostics: outcome.diagnostics },
          });
        }
      }
      const old = texts.get(name);
      const now = this.clock.now();
      if (old === text) {
        return { property: view(def, { value: text, updated_at: now }), changed: false };
      }
      if (name === NETWORK_CONFIGURATION) await refuseDroppedClusters(tx.db, texts, next);
      await tx.db
        .insertInto('properties')
        .values({ name, value: text, updated_at: now })
        .onConflict((oc) => oc.column('name').doUpdateSet({ value: text, updated_at: now }))
        .execute();
      await tx.db.insertInto('property_history').values({ name, at: now, old_value: old ?? null, new_value: text }).execute();
      tx.changed({ kind: 'property', name });
      return { property: view(def, { value: text, updated_at: now }), changed: true };
    });
  }

  /** Back to the default (removes the stored value); recorded in the history. */
  async reset(name: string): Promise<SetResult> {
    const def = requireDefinition(name);
    return this.store.write(async (tx) => {
      const texts = await readPropertyTexts(tx.db);
      const old = texts.get(name);
      if (old === undefined) return { property: view(def, undefined), changed: false };
      if (name === NETWORK_CONFIGURATION) {
        const next = new Map(texts);
        next.delete(name);
        await refuseDroppedClusters(tx.db, texts, next);
      }
      if (name !== NETWORK_CONFIGURATION && texts.has(NETWORK_CONFIGURATION)) {
        const next = new Map(texts);
        next.delete(name);
        const outcome = evaluateNetworkConfiguration(texts.get(NETWORK_CONFIGURATION)!, getterOf(next));
        if (!outcome.ok) {
          throw new UserError('INVALID_PROPERTY', `resetting ${name} would make ${NETWORK_CONFIGURATION} invalid`, {
            details: { property: name, diagnostics: outcome.diagnostics },
          });
        }
      }
      await tx.db.deleteFrom('properties').where('name', '=', name).execute();
      await tx.db.insertInto('property_history').values({ name, at: this.clock.now(), old_value: old, new_value: null }).execute();
      tx.changed({ kind: 'property', name });
      return { property: view(def, undefined), changed: true };
    });
  }
}

function clusterNames(texts: ReadonlyMap<string, string>): Set<string> {
  return new Set((explodedConfiguration(texts)?.Clusters ?? []).map((c) => c.Name));
}

/** Refuses a configuration change that drops a cluster that still has nodes or instances. */
async function refuseDroppedClusters(db: Db, before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): Promise<void> {
  const kept = clusterNames(after);
  const dropped = [...clusterNames(before)].filter((c) => !kept.has(c));
  if (dropped.length === 0) return;
  const dependents = await clusterDependents(db, dropped);
  if (dependents.length === 0) return;
  const what = dependents.map((d) => `${d.cluster} (${[d.nodes.length > 0 ? `nodes ${d.nodes.join(', ')}` : '', d.instances.length > 0 ? `instances ${d.instances.join(', ')}` : ''].filter(Boolean).join('; ')})`);
  throw new UserError(
    'CLUSTER_IN_USE',
    `${NETWORK_CONFIGURATION} would drop cluster${dependents.length > 1 ? 's' : ''} still in use: ${what.join(', ')}; terminate the instances and deregister the nodes first, or keep the cluster's name`,
    { status: 409, details: { property: NETWORK_CONFIGURATION, dependents } },
  );
}

function view(def: PropertyDefinition, row: { value: string; updated_at: number } | undefined): PropertyView {
  return {
    name: def.name,
    type: def.type,
    description: def.description,
    value: row?.value ?? def.defaultText,
    defaultValue: def.defaultText,
    isDefault: row === undefined,
    ...(row ? { updatedAt: new Date(row.updated_at).toISOString() } : {}),
  };
}
