/**
 * The credentials key of the CLC (CREDENTIALS_KEY_FILE, default
 * `<state>/clc/credentials.key`): 32 random bytes that seal every EC2 secret
 * access key stored in the database (AES-256-GCM, services/credentials.ts).
 * Read when present, created when missing.
 *
 * Why a file outside the database: SigV4 verification needs the secret itself
 * (an HMAC key), so it cannot be stored hashed; sealed under a key kept
 * elsewhere, a copy of the database (a backup, a stolen disk image of the
 * database alone) reveals no secret. The file has the admin token's rules
 * (secret-file.ts): no symbolic link, a regular file, refused when group or
 * others may read it, created mode 0600 without ever overwriting one.
 *
 * Format: the key as 64 hex characters and a newline (like the admin token:
 * it can be printed, copied and restored by hand). `edgenet clc-backup` does
 * not copy it; operators back it up apart from the database, as OpenStack
 * Keystone's credential keys (docs/cloud-controller.md).
 */
import { randomBytes } from 'node:crypto';
import { EdgenetError } from '../shared/errors.ts';
import { createSecretFile, readSecretFile, type SecretFileKind } from './secret-file.ts';

const CREDENTIALS_KEY_BYTES = 32;

const KEY_FILE: SecretFileKind = {
  what: 'the credentials key file',
  secret: 'the key that opens every stored EC2 secret',
  setting: 'CREDENTIALS_KEY_FILE',
  codes: { symlink: 'CREDENTIALS_KEY_SYMLINK', notRegular: 'CREDENTIALS_KEY_NOT_REGULAR', permissions: 'CREDENTIALS_KEY_PERMISSIONS' },
};

export interface CredentialsKey {
  readonly key: Buffer;
  /** True when this call made the file (first start, or the file was lost). */
  readonly created: boolean;
}

/** The key in `file`, creating the file with a random key when there is none. */
export function ensureCredentialsKey(file: string): CredentialsKey {
  const existing = readCredentialsKey(file);
  if (existing !== undefined) return { key: existing, created: false };
  const key = randomBytes(CREDENTIALS_KEY_BYTES);
  if (createSecretFile(file, `${key.toString('hex')}\n`)) return { key, created: true };
  // Another CLC made it between our read and our create: use theirs.
  const theirs = readCredentialsKey(file);
  if (theirs === undefined) throw new EdgenetError('CREDENTIALS_KEY_UNAVAILABLE', `the credentials key file ${file} vanished while it was being created`, { details: { file } });
  return { key: theirs, created: false };
}

/** The key in `file`, undefined when there is no such file; refuses a bad mode, a link, a non-file and content that is not a key. */
export function readCredentialsKey(file: string): Buffer | undefined {
  const bytes = readSecretFile(file, KEY_FILE);
  if (bytes === undefined) return undefined;
  const text = bytes.toString('latin1').trim();
  if (!/^[0-9a-fA-F]{64}$/.test(text)) {
    throw new EdgenetError(
      'CREDENTIALS_KEY_INVALID',
      `the credentials key file ${file} does not hold a key (expected 64 hex characters, found ${bytes.length} bytes); restore it from its backup, or move it away to make a new key (the stored EC2 secrets then stop working)`,
      { details: { file } },
    );
  }
  return Buffer.from(text, 'hex');
}
