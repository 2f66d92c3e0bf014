/**
 * EC2 access keys of accounts (issue 15): making them, sealing their secrets,
 * listing and deleting them.
 *
 * Model: an access key id is `AKIE` + 16 characters of A-Z2-7 (80 random
 * bits; `E` for edgenet, so it is never mistaken for an AWS `AKIA` key); a
 * secret is 40 characters (base64 of 30 random bytes), shown once, when the
 * key is created. An account has at most MAX_ACCESS_KEYS keys (2, as IAM),
 * so a secret can be rotated without a moment with none.
 *
 * Storage: SigV4 verification computes an HMAC with the secret, so the
 * server needs the secret itself and cannot keep a hash. The secret is sealed
 * with AES-256-GCM under the credentials key (credentials-key.ts, a file
 * outside the database): a random 12-byte nonce, the access key id as
 * additional authenticated data (a sealed secret moved onto another key's
 * row does not open), stored as base64(nonce | ciphertext | tag) in
 * `access_keys.secret_box`, with `key_id` = the first 16 hex characters of
 * the SHA-256 of the credentials key. A database without the key file
 * yields no secret; a key sealed under another credentials key is
 * "unavailable" (listed, never usable: AuthFailure) until that key file is
 * back.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { Db, Tx } from '../db/store.ts';
import { isUniqueViolation } from '../db/store.ts';
import { UserError } from '../../shared/errors.ts';

/** At most this many access keys per account (as IAM). */
export const MAX_ACCESS_KEYS = 2;

const ACCESS_KEY_ID = /^AKIE[A-Z2-7]{16}$/;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export function isAccessKeyId(text: string): boolean {
  return ACCESS_KEY_ID.test(text);
}

/** `AKIE` + the 80 bits of 10 random bytes in RFC 4648 base32 (16 characters). */
export function newAccessKeyId(random: (bytes: number) => Buffer = randomBytes): string {
  const bytes = random(10);
  let bits = 0;
  let value = 0;
  let out = 'AKIE';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out;
}

/** 40 characters: base64 of 30 random bytes (240 bits). */
export function newSecretAccessKey(random: (bytes: number) => Buffer = randomBytes): string {
  return random(30).toString('base64');
}

/** The credentials key's fingerprint stored with every secret it sealed: first 16 hex of its SHA-256. */
export function credentialsKeyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/** base64(nonce | AES-256-GCM(secret) | tag), the access key id as additional data. */
export function sealSecret(key: Buffer, accessKeyId: string, secret: string, nonce: Buffer = randomBytes(NONCE_BYTES)): string {
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(accessKeyId, 'utf8'));
  const ct = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return Buffer.concat([nonce, ct, cipher.getAuthTag()]).toString('base64');
}

/** The secret `box` seals for `accessKeyId` under `key`; undefined when it does not open (another key, another id, tampered). */
export function openSecret(key: Buffer, accessKeyId: string, box: string): string | undefined {
  const bytes = Buffer.from(box, 'base64');
  if (bytes.length < NONCE_BYTES + TAG_BYTES + 1) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, NONCE_BYTES));
    decipher.setAAD(Buffer.from(accessKeyId, 'utf8'));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    return Buffer.concat([decipher.update(bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

/** What the sealing needs: the credentials key and its fingerprint. */
export interface Sealer {
  readonly key: Buffer;
  readonly keyId: string;
}

export function sealer(key: Buffer): Sealer {
  return { key, keyId: credentialsKeyId(key) };
}

/** An access key as listed: never its secret. */
export interface AccessKeyView {
  readonly accessKeyId: string;
  readonly accountId: string;
  readonly accountName: string;
  readonly createdAt: string;
  /** Minute precision: the last time a request was signed with it (undefined: never). */
  readonly lastUsedAt?: string;
  /** `unavailable`: sealed under another credentials key (CREDENTIALS_KEY_UNAVAILABLE); requests signed with it fail. */
  readonly status: 'active' | 'unavailable';
}

/** A new access key: the only time its secret is shown. */
export interface NewAccessKey extends AccessKeyView {
  readonly secretAccessKey: string;
}

interface KeyRow {
  id: string;
  account_id: string;
  key_id: string;
  created_at: number;
  last_used_at: number | null;
  account_name: string;
}

function viewOf(row: KeyRow, keyId: string): AccessKeyView {
  return {
    accessKeyId: row.id,
    accountId: row.account_id,
    accountName: row.account_name,
    createdAt: new Date(row.created_at).toISOString(),
    ...(row.last_used_at !== null ? { lastUsedAt: new Date(row.last_used_at).toISOString() } : {}),
    status: row.key_id === keyId ? 'active' : 'unavailable',
  };
}

function keyRows(db: Db) {
  return db
    .selectFrom('access_keys')
    .innerJoin('accounts', 'accounts.id', 'access_keys.account_id')
    .select(['access_keys.id', 'access_keys.account_id', 'access_keys.key_id', 'access_keys.created_at', 'access_keys.last_used_at', 'accounts.name as account_name']);
}

export interface CreateKeyOptions {
  readonly sealer: Sealer;
  readonly now: number;
  readonly random?: (bytes: number) => Buffer;
}

/** A new key for an existing account (resolved by the caller: accounts.ts); ACCESS_KEY_LIMIT when it has MAX_ACCESS_KEYS already. */
export async function createAccessKey(tx: Tx, account: { id: string; name: string }, options: CreateKeyOptions): Promise<NewAccessKey> {
  const count = await tx.db.selectFrom('access_keys').select(({ fn }) => fn.countAll<number>().as('n')).where('account_id', '=', account.id).executeTakeFirstOrThrow();
  if (Number(count.n) >= MAX_ACCESS_KEYS) {
    throw new UserError('ACCESS_KEY_LIMIT', `account ${account.id} (${account.name}) already has ${MAX_ACCESS_KEYS} access keys, the most it may have; delete one first (edgenet account key delete AKID)`, {
      status: 409,
      details: { accountId: account.id, limit: MAX_ACCESS_KEYS },
    });
  }
  const random = options.random ?? randomBytes;
  const secretAccessKey = newSecretAccessKey(random);
  for (let attempt = 0; ; attempt++) {
    const id = newAccessKeyId(random);
    try {
      await tx.attempt(() =>
        tx.db
          .insertInto('access_keys')
          .values({ id, account_id: account.id, secret_box: sealSecret(options.sealer.key, id, secretAccessKey), key_id: options.sealer.keyId, created_at: options.now, last_used_at: null })
          .execute(),
      );
      return { ...viewOf({ id, account_id: account.id, account_name: account.name, key_id: options.sealer.keyId, created_at: options.now, last_used_at: null }, options.sealer.keyId), secretAccessKey };
    } catch (err) {
      if (!isUniqueViolation(err) || attempt >= 8) throw err;
    }
  }
}

/** Every key (of one account, by id, when given), by account name, then age. */
export async function listAccessKeys(db: Db, keyId: string, accountId?: string): Promise<AccessKeyView[]> {
  let q = keyRows(db);
  if (accountId !== undefined) q = q.where('access_keys.account_id', '=', accountId);
  const rows = await q.orderBy('accounts.name').orderBy('access_keys.created_at').orderBy('access_keys.id').execute();
  return rows.map((r) => viewOf(r, keyId));
}

export async function deleteAccessKey(tx: Tx, accessKeyId: unknown, keyId: string): Promise<AccessKeyView> {
  if (typeof accessKeyId !== 'string' || accessKeyId.trim() === '') throw new UserError('MissingParameter', 'an access key id is required');
  const id = accessKeyId.trim();
  const row = await keyRows(tx.db).where('access_keys.id', '=', id).executeTakeFirst();
  if (!row) throw new UserError('ACCESS_KEY_NOT_FOUND', `no access key ${JSON.stringify(id)} (edgenet account key list)`, { status: 404 });
  await tx.db.deleteFrom('access_keys').where('id', '=', id).execute();
  return viewOf(row, keyId);
}

/** The stored row SigV4 verification needs: owner and sealed secret (undefined: no such key). */
export async function sealedKey(db: Db, accessKeyId: string): Promise<{ accountId: string; secretBox: string; keyId: string } | undefined> {
  if (!isAccessKeyId(accessKeyId)) return undefined;
  const row = await db.selectFrom('access_keys').select(['account_id', 'secret_box', 'key_id']).where('id', '=', accessKeyId).executeTakeFirst();
  return row === undefined ? undefined : { accountId: row.account_id, secretBox: row.secret_box, keyId: row.key_id };
}

/** Keys sealed under another credentials key than `keyId`, by that key's fingerprint (for the start-up check). */
export async function keysSealedElsewhere(db: Db, keyId: string): Promise<{ count: number; keyIds: string[] }> {
  const rows = await db.selectFrom('access_keys').select(['key_id', ({ fn }) => fn.countAll<number>().as('n')]).where('key_id', '<>', keyId).groupBy('key_id').orderBy('key_id').execute();
  return { count: rows.reduce((sum, r) => sum + Number(r.n), 0), keyIds: rows.map((r) => r.key_id) };
}

/** Records a key's use (minute precision is enough: callers record at most once a minute per key). */
export async function recordKeyUse(tx: Tx, accessKeyId: string, now: number): Promise<void> {
  await tx.db.updateTable('access_keys').set({ last_used_at: now }).where('id', '=', accessKeyId).execute();
}
