/**
 * Schema migrations, written once and run on both stores: SQLite (the
 * embedded default) and PostgreSQL. Each migration is a list of statements
 * run in one transaction, in order; a database newer than this code is
 * refused rather than guessed at.
 *
 * One text, two dialects: the statements are written in the SQL both accept,
 * with SQLite's type names; `forPostgres` is the one mechanical translation
 * (INTEGER → BIGINT, since every integer here may exceed 32 bits — times are
 * milliseconds —; `INTEGER PRIMARY KEY AUTOINCREMENT` → an identity column;
 * TEXT → TEXT COLLATE "C", so ORDER BY sorts by code point on PostgreSQL as on
 * SQLite whatever the database's locale). There is no second copy of the SQL.
 *
 * One migration may need a change SQLite has no statement for (it cannot drop
 * a NOT NULL constraint in place): such a migration is a `DialectMigration`,
 * a statement list per store. Its SQLite side is SQLite's documented 12-step
 * table rebuild (https://sqlite.org/lang_altertable.html#otheralter): foreign
 * keys are switched off around its transaction (PRAGMA foreign_keys is a no-op
 * inside one), because DROP TABLE with them on deletes the rows first and so
 * fires ON DELETE CASCADE on the referencing tables (instance_groups would
 * lose every membership); `PRAGMA foreign_key_check` must find nothing before
 * the transaction commits. Only that migration's SQLite side differs; every
 * other migration stays one text for both.
 *
 * Where the version lives: SQLite's `user_version`; on PostgreSQL the table
 * `edgenet_schema` (one row), updated in each migration's transaction under
 * an advisory lock, so two CLCs starting together migrate once.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { EdgenetError } from '../../shared/errors.ts';
import type { Db } from './schema.ts';
import { lockedTransaction } from './postgres.ts';

/**
 * A migration whose statements differ by store (see the header). `sqlite`
 * runs with foreign keys off, in one transaction that commits only when
 * `PRAGMA foreign_key_check` reports nothing.
 */
interface DialectMigration {
  readonly sqlite: readonly string[];
  /** Run through `forPostgres` like any other statement. */
  readonly postgres: readonly string[];
}

type Migration = readonly string[] | DialectMigration;

const MIGRATIONS: readonly Migration[] = [
  [
    `CREATE TABLE properties (name TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL)`,
    `CREATE TABLE property_history (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, at INTEGER NOT NULL,
       old_value TEXT, new_value TEXT)`,
    `CREATE INDEX property_history_name ON property_history (name, id)`,
    `CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)`,
    `CREATE TABLE clusters (name TEXT PRIMARY KEY, cc_url TEXT NOT NULL, cc_ip TEXT NOT NULL, created_at INTEGER NOT NULL)`,
    `CREATE TABLE nodes (name TEXT PRIMARY KEY, cluster TEXT NOT NULL REFERENCES clusters (name),
       nc_url TEXT NOT NULL, created_at INTEGER NOT NULL)`,
    `CREATE TABLE node_applied (node TEXT PRIMARY KEY, cluster TEXT NOT NULL, sequence INTEGER, version TEXT, at INTEGER NOT NULL)`,
    `CREATE TABLE ip_leases (ip TEXT PRIMARY KEY, ip_num INTEGER NOT NULL UNIQUE, pool TEXT NOT NULL,
       state TEXT NOT NULL CHECK (state IN ('allocated', 'held', 'reserved')), holder TEXT, note TEXT,
       created_at INTEGER NOT NULL, released_at INTEGER, release_mark INTEGER, released_seq INTEGER, hold_nodes TEXT)`,
    `CREATE INDEX ip_leases_pool ON ip_leases (pool, ip_num)`,
    `CREATE TABLE instances (id TEXT PRIMARY KEY, owner_id TEXT NOT NULL, cluster TEXT NOT NULL REFERENCES clusters (name),
       node TEXT NOT NULL REFERENCES nodes (name), mac TEXT NOT NULL UNIQUE,
       private_ip TEXT NOT NULL UNIQUE REFERENCES ip_leases (ip), created_at INTEGER NOT NULL)`,
    `CREATE TABLE security_groups (id TEXT PRIMARY KEY, owner_id TEXT NOT NULL, name TEXT NOT NULL,
       description TEXT NOT NULL, created_at INTEGER NOT NULL, UNIQUE (owner_id, name))`,
    `CREATE TABLE instance_groups (instance_id TEXT NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
       group_id TEXT NOT NULL REFERENCES security_groups (id), position INTEGER NOT NULL,
       PRIMARY KEY (instance_id, group_id))`,
    `CREATE INDEX instance_groups_group ON instance_groups (group_id)`,
    `CREATE TABLE group_rules (id INTEGER PRIMARY KEY AUTOINCREMENT,
       group_id TEXT NOT NULL REFERENCES security_groups (id) ON DELETE CASCADE, rule_key TEXT NOT NULL,
       protocol INTEGER NOT NULL, from_port INTEGER, to_port INTEGER, icmp_type INTEGER, icmp_code INTEGER,
       cidr TEXT, source_group_id TEXT, source_group_owner_id TEXT, created_at INTEGER NOT NULL,
       UNIQUE (group_id, rule_key))`,
    `CREATE TABLE public_addresses (ip TEXT PRIMARY KEY REFERENCES ip_leases (ip), owner_id TEXT NOT NULL,
       instance_id TEXT UNIQUE REFERENCES instances (id), last_node TEXT, allocated_at INTEGER NOT NULL)`,
    `INSERT INTO meta (key, value) VALUES ('broadcast_sequence', 0), ('release_mark', 0)`,
  ],
  // 2: the hold sweep runs before every allocation; without this it scanned every lease.
  [`CREATE INDEX ip_leases_state ON ip_leases (state, released_at)`],
  // 3: a public address disassociated (and later released) is absent from documents since its
  // disassociation; remember when, and the newest document built, so its hold can end on convergence.
  [
    `ALTER TABLE public_addresses ADD COLUMN disassociated_mark INTEGER`,
    `INSERT INTO meta (key, value) VALUES ('built_sequence', 0), ('built_mark', -1)`,
  ],
  // 4: the generation a node's applied sequence belongs to (db/generation.ts): a report from a
  // superseded database's timeline must not end a hold of this one. The generation itself is a
  // meta row taken by code at open (it needs the clock).
  [`ALTER TABLE node_applied ADD COLUMN generation INTEGER`],
  // 5 (issue 15): accounts and their EC2 access keys. Every owner id already used by a group, an
  // instance or a public address becomes an account named `account-<id>` (created at its oldest
  // resource's time); 000000000001, the admin CLI's default owner, is the admin account `admin`.
  // A key's secret is stored only sealed (AES-256-GCM) under the credentials key, a file outside
  // the database (`key_id`: that key's fingerprint; services/credentials.ts).
  [
    `CREATE TABLE accounts (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL)`,
    `INSERT INTO accounts (id, name, created_at) VALUES ('000000000001', 'admin', 0)`,
    `INSERT INTO accounts (id, name, created_at)
       SELECT owner_id, 'account-' || owner_id, MIN(created_at) FROM (
         SELECT owner_id, created_at FROM security_groups
         UNION ALL SELECT owner_id, created_at FROM instances
         UNION ALL SELECT owner_id, allocated_at AS created_at FROM public_addresses
       ) owners WHERE owner_id <> '000000000001' GROUP BY owner_id`,
    `CREATE TABLE access_keys (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts (id),
       secret_box TEXT NOT NULL, key_id TEXT NOT NULL, created_at INTEGER NOT NULL, last_used_at INTEGER)`,
    `CREATE INDEX access_keys_account ON access_keys (account_id)`,
  ],
  // 6 (issue 16): several CLCs on one PostgreSQL database. `leader_term` is the fence of
  // leadership (ha/): the newest term; a sequence is drawn only by the CLC leading in it.
  // `clc_terms` keeps every term (who led from when); `clc_members` the CLCs that run.
  // `data_version` counts PostgreSQL write transactions that announced changes (the snapshot
  // cache's "was anything written that I was not told of?"; SQLite has PRAGMA data_version).
  // `commit_tokens`: a PostgreSQL write whose COMMIT answer was lost finds out whether it committed.
  [
    `INSERT INTO meta (key, value) VALUES ('leader_term', 0), ('data_version', 0)`,
    `CREATE TABLE clc_terms (term INTEGER PRIMARY KEY, clc_id TEXT NOT NULL, api_url TEXT, since INTEGER NOT NULL)`,
    `CREATE TABLE clc_members (id TEXT PRIMARY KEY, api_url TEXT, host TEXT NOT NULL, pid INTEGER NOT NULL,
       started_at INTEGER NOT NULL, seen_at INTEGER NOT NULL)`,
    `CREATE TABLE commit_tokens (token TEXT PRIMARY KEY, at INTEGER NOT NULL)`,
    `CREATE INDEX commit_tokens_at ON commit_tokens (at)`,
  ],
  // 7 (issue 17): an instance of an IPv6-only ROUTED cluster has no IPv4 address, so
  // `private_ip` becomes nullable (still UNIQUE — SQL and both stores let NULLs repeat — and
  // still a lease's address); `user_data` is the instance's user data, base64 (EC2's
  // RunInstances UserData; the metadata service's user-data and the ROUTED config drive).
  // SQLite: the 12-step rebuild of `instances` (the table has no index, trigger or view of its
  // own; its UNIQUE constraints come back with the new definition). The references to it
  // (instance_groups, public_addresses) name it by name and find the new table.
  {
    sqlite: [
      `CREATE TABLE instances_v7 (id TEXT PRIMARY KEY, owner_id TEXT NOT NULL, cluster TEXT NOT NULL REFERENCES clusters (name),
         node TEXT NOT NULL REFERENCES nodes (name), mac TEXT NOT NULL UNIQUE,
         private_ip TEXT UNIQUE REFERENCES ip_leases (ip), created_at INTEGER NOT NULL, user_data TEXT)`,
      `INSERT INTO instances_v7 (id, owner_id, cluster, node, mac, private_ip, created_at)
         SELECT id, owner_id, cluster, node, mac, private_ip, created_at FROM instances`,
      `DROP TABLE instances`,
      `ALTER TABLE instances_v7 RENAME TO instances`,
    ],
    postgres: [
      `ALTER TABLE instances ALTER COLUMN private_ip DROP NOT NULL`,
      `ALTER TABLE instances ADD COLUMN user_data TEXT`,
    ],
  },
];

/** A migration's statements for PostgreSQL (already translated). */
function postgresStatements(m: Migration): readonly string[] {
  return ('postgres' in m ? m.postgres : (m as readonly string[])).map(forPostgres);
}

/** A migration statement as PostgreSQL takes it (see the header). */
export function forPostgres(statement: string): string {
  return statement
    .replace(/\bINTEGER PRIMARY KEY AUTOINCREMENT\b/g, 'BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY')
    .replace(/\bINTEGER\b/g, 'BIGINT')
    .replace(/\bTEXT\b/g, 'TEXT COLLATE "C"');
}

/** Advisory lock key of migrations (and of taking a generation at open) on PostgreSQL. */
export const MIGRATE_LOCK_KEY = 0x6564_6e01;

/**
 * Brings a PostgreSQL database to `target` (default: the newest), each
 * migration in its own transaction under MIGRATE_LOCK_KEY. Returns the
 * version before and after.
 */
export async function migratePostgres(db: Db, target: number = MIGRATIONS.length): Promise<{ from: number; to: number }> {
  let from: number | undefined;
  for (;;) {
    const done = await lockedTransaction(db, MIGRATE_LOCK_KEY, async (conn) => {
      // Under the lock: CREATE TABLE IF NOT EXISTS is not safe against a concurrent one (two CLCs
      // starting on a fresh database: "type edgenet_schema already exists").
      await sql`CREATE TABLE IF NOT EXISTS edgenet_schema (version INTEGER NOT NULL)`.execute(conn);
      const { rows } = await sql<{ version: number }>`SELECT version FROM edgenet_schema`.execute(conn);
      let current = rows.length === 0 ? 0 : Number(rows[0]!.version);
      if (rows.length === 0) await sql`INSERT INTO edgenet_schema (version) VALUES (0)`.execute(conn);
      from ??= current;
      if (current > MIGRATIONS.length) {
        throw new EdgenetError('DB_TOO_NEW', `database schema version ${current} is newer than this edgenet (${MIGRATIONS.length})`);
      }
      if (current >= Math.min(target, MIGRATIONS.length)) return current;
      for (const statement of postgresStatements(MIGRATIONS[current]!)) await sql.raw(statement).execute(conn);
      current++;
      await sql`UPDATE edgenet_schema SET version = ${current}`.execute(conn);
      return undefined;
    });
    if (done !== undefined) return { from: from ?? done, to: done };
  }
}

/** The schema version of a PostgreSQL database (0: none yet). */
export async function postgresSchemaVersion(db: Db): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT to_regclass('edgenet_schema') IS NOT NULL AS n`.execute(db);
  if (!rows[0]?.n) return 0;
  const v = await sql<{ version: number }>`SELECT version FROM edgenet_schema`.execute(db);
  return v.rows.length === 0 ? 0 : Number(v.rows[0]!.version);
}

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings a SQLite database to `target` (default: the newest; tests build older schemas with a lower one). */
export function migrate(sqlite: BetterSqlite3.Database, target: number = MIGRATIONS.length): void {
  const current = sqlite.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new EdgenetError('DB_TOO_NEW', `database schema version ${current} is newer than this edgenet (${MIGRATIONS.length})`);
  }
  for (let v = current; v < Math.min(target, MIGRATIONS.length); v++) {
    const m = MIGRATIONS[v]!;
    if ('sqlite' in m) {
      migrateRebuild(sqlite, m.sqlite, v + 1);
      continue;
    }
    const apply = sqlite.transaction(() => {
      for (const statement of m as readonly string[]) sqlite.exec(statement);
      sqlite.pragma(`user_version = ${v + 1}`);
    });
    apply.immediate();
  }
}

/**
 * A DialectMigration's SQLite side (the 12-step procedure): foreign keys off
 * for the transaction (set outside it, restored whatever happens), and the
 * transaction committed only when no reference dangles.
 */
function migrateRebuild(sqlite: BetterSqlite3.Database, statements: readonly string[], version: number): void {
  const foreignKeys = sqlite.pragma('foreign_keys', { simple: true }) as number;
  sqlite.pragma('foreign_keys = OFF');
  try {
    const apply = sqlite.transaction(() => {
      // Under the write lock: another process may have migrated since `current` was read.
      if ((sqlite.pragma('user_version', { simple: true }) as number) >= version) return;
      for (const statement of statements) sqlite.exec(statement);
      const dangling = sqlite.pragma('foreign_key_check') as readonly { table: string; rowid: number; parent: string }[];
      if (dangling.length > 0) {
        const first = dangling[0]!;
        throw new EdgenetError('INTERNAL', `migration ${version} would leave ${dangling.length} dangling reference(s) (first: ${first.table} row ${first.rowid} → ${first.parent}); rolled back`);
      }
      sqlite.pragma(`user_version = ${version}`);
    });
    apply.immediate();
  } finally {
    sqlite.pragma(`foreign_keys = ${foreignKeys ? 'ON' : 'OFF'}`);
  }
}
