/**
 * The cloud controller's tables as Kysely types. The SQL that creates them is in
 * migrations.ts; this file only mirrors it for the query builder.
 *
 * Invariants the database itself enforces (not only code):
 * - `ip_leases.ip` is the primary key: one row per address that is allocated,
 *   held (released, waiting for convergence) or externally reserved. Private
 *   and public pools never overlap (config validation), so one table covers both.
 * - `instances.mac` and `instances.private_ip` are UNIQUE (private_ip is NULL,
 *   and may be for many, only on IPv6-only ROUTED clusters); `public_addresses.ip`
 *   is the primary key and `public_addresses.instance_id` is UNIQUE.
 * - Foreign keys: an instance's group memberships reference existing groups, so
 *   a group in use cannot be deleted even by a buggy caller.
 */
import type { Generated, Kysely } from 'kysely';

export type LeaseState = 'allocated' | 'held' | 'reserved';

export interface PropertiesTable {
  name: string;
  value: string;
  updated_at: number;
}

export interface PropertyHistoryTable {
  id: Generated<number>;
  name: string;
  at: number;
  old_value: string | null;
  new_value: string | null;
}

export interface MetaTable {
  key: string;
  value: number;
}

export interface ClustersTable {
  name: string;
  cc_url: string;
  cc_ip: string;
  created_at: number;
}

export interface NodesTable {
  name: string;
  cluster: string;
  nc_url: string;
  created_at: number;
}

export interface NodeAppliedTable {
  node: string;
  cluster: string;
  sequence: number | null;
  version: string | null;
  /** Generation of the document `sequence` belongs to (null: reported without one). */
  generation: Generated<number | null>;
  at: number;
}

export interface InstancesTable {
  id: string;
  owner_id: string;
  cluster: string;
  node: string;
  mac: string;
  /** Null only for an instance of an IPv6-only ROUTED cluster (migration 7): it has no IPv4 address. */
  private_ip: string | null;
  created_at: number;
  /** The instance's user data, base64 (at most 16 KiB decoded); null when it has none. */
  user_data: string | null;
}

export interface InstanceGroupsTable {
  instance_id: string;
  group_id: string;
  position: number;
}

export interface SecurityGroupsTable {
  id: string;
  owner_id: string;
  name: string;
  description: string;
  created_at: number;
}

export interface GroupRulesTable {
  id: Generated<number>;
  group_id: string;
  /** Canonical text of the permission: identical rules have identical keys (UNIQUE per group). */
  rule_key: string;
  protocol: number;
  from_port: number | null;
  to_port: number | null;
  icmp_type: number | null;
  icmp_code: number | null;
  cidr: string | null;
  source_group_id: string | null;
  source_group_owner_id: string | null;
  created_at: number;
}

export interface IpLeasesTable {
  ip: string;
  ip_num: number;
  /** `public` or `cluster:<name>`: the pool the address was taken from. */
  pool: string;
  state: LeaseState;
  /** Instance id (private), owner account (public) or a free-text reason (reserved). */
  holder: string | null;
  note: string | null;
  created_at: number;
  released_at: number | null;
  /** Value of the release counter when the hold began (orders releases against snapshots). */
  release_mark: number | null;
  /** Sequence of the first document built without the address. */
  released_seq: number | null;
  /** JSON array of node names that had the address and must converge before reuse. */
  hold_nodes: string | null;
}

export interface PublicAddressesTable {
  ip: string;
  owner_id: string;
  instance_id: string | null;
  /** Node the address was last associated on (it may still be laid down there). */
  last_node: string | null;
  allocated_at: number;
  /** Release-mark counter value when it was last disassociated (documents built after it lack the address). */
  disassociated_mark: Generated<number | null>;
}

/** An account (issue 15): 12-digit id as EC2; name unique; the admin account is 000000000001 `admin`. */
export interface AccountsTable {
  id: string;
  name: string;
  created_at: number;
}

/** An EC2 access key of an account. The secret is never stored in the clear (services/credentials.ts). */
export interface AccessKeysTable {
  /** The access key id (20 characters, `AKIE` + 16 of A-Z2-7). */
  id: string;
  account_id: string;
  /** base64(nonce 12 | ciphertext | tag 16): AES-256-GCM of the secret under the credentials key, AAD = the access key id. */
  secret_box: string;
  /** Fingerprint of the credentials key that sealed it (first 16 hex of its SHA-256). */
  key_id: string;
  created_at: number;
  last_used_at: number | null;
}

/** One term of leadership (ha/): a row per election won; the newest is the leader. */
export interface ClcTermsTable {
  term: number;
  clc_id: string;
  api_url: string | null;
  since: number;
}

/** A CLC on this database, refreshed while it runs (ha/members.ts); `edgenet status` lists them. */
export interface ClcMembersTable {
  id: string;
  api_url: string | null;
  host: string;
  pid: number;
  started_at: number;
  seen_at: number;
}

/** A write's commit token (PostgreSQL): lets a write whose COMMIT answer was lost learn whether it committed. */
export interface CommitTokensTable {
  token: string;
  at: number;
}

export interface Database {
  properties: PropertiesTable;
  property_history: PropertyHistoryTable;
  meta: MetaTable;
  clusters: ClustersTable;
  nodes: NodesTable;
  node_applied: NodeAppliedTable;
  instances: InstancesTable;
  instance_groups: InstanceGroupsTable;
  security_groups: SecurityGroupsTable;
  group_rules: GroupRulesTable;
  ip_leases: IpLeasesTable;
  public_addresses: PublicAddressesTable;
  accounts: AccountsTable;
  access_keys: AccessKeysTable;
  clc_terms: ClcTermsTable;
  clc_members: ClcMembersTable;
  commit_tokens: CommitTokensTable;
}

/** The query builder over these tables (a whole store, or one transaction's connection). */
export type Db = Kysely<Database>;
