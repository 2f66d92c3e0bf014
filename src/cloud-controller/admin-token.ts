/**
 * The admin token file of the CLC (TOKEN_FILE): read when present, created
 * (random, 64 hex characters, mode 0600, O_EXCL) when missing.
 *
 * Like OpenSSH with private keys (issue 11 item 6), a token file that group or
 * others may read is refused (TOKEN_FILE_PERMISSIONS): whoever can read it is
 * the admin. A token the admin wrote that is shorter than 32 characters is
 * accepted (it is theirs to choose) but warned about at every start
 * (TOKEN_SHORT): the API has no rate limit, so a short token can be guessed.
 * The file rules (no symbolic link, a regular file, the mode checked on the
 * opened file, creation that never overwrites) are secret-file.ts's, shared
 * with the credentials key (credentials-key.ts).
 */
import { randomBytes } from 'node:crypto';
import { EdgenetError } from '../shared/errors.ts';
import { createSecretFile, readSecretFile, type SecretFileKind } from './secret-file.ts';

/** Shorter admin-chosen tokens are warned about (generated ones have 64). */
export const MIN_TOKEN_LENGTH = 32;

export interface TokenWarnings {
  warn(message: string, fields?: Record<string, unknown>): unknown;
}

const TOKEN_FILE: SecretFileKind = {
  what: 'the admin token file',
  secret: 'the admin token',
  setting: 'TOKEN_FILE',
  codes: { symlink: 'TOKEN_FILE_SYMLINK', notRegular: 'TOKEN_FILE_NOT_REGULAR', permissions: 'TOKEN_FILE_PERMISSIONS' },
};

export function ensureToken(file: string, logger?: TokenWarnings): string {
  const existing = readTokenFile(file);
  if (existing !== undefined) return checked(existing, file, logger);
  const token = randomBytes(32).toString('hex');
  // O_EXCL semantics (secret-file.ts): two CLCs starting at once must not overwrite each other's token.
  if (createSecretFile(file, `${token}\n`)) return token;
  return checked(readTokenFile(file) ?? '', file, logger);
}

/** The trimmed content, or undefined when there is no such file; refuses a file group/others may read (secret-file.ts). */
function readTokenFile(file: string): string | undefined {
  return readSecretFile(file, TOKEN_FILE)?.toString('utf8').trim();
}

function checked(token: string, file: string, logger: TokenWarnings | undefined): string {
  if (token === '') throw new EdgenetError('TOKEN_EMPTY', `the admin token file ${file} is empty`, { details: { file } });
  if (token.length < MIN_TOKEN_LENGTH) {
    logger?.warn(`WARNING: the admin token in ${file} is only ${token.length} characters; use at least ${MIN_TOKEN_LENGTH} (or delete the file and let the CLC make a random one)`, { code: 'TOKEN_SHORT', file, length: token.length });
  }
  return token;
}
