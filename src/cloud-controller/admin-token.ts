/**
 * The admin token file of the CLC (TOKEN_FILE): read when present, created
 * (random, 64 hex characters, mode 0600, O_EXCL) when missing.
 *
 * Like OpenSSH with private keys (issue 11 item 6), a token file that group or
 * others may read is refused (TOKEN_FILE_PERMISSIONS): whoever can read it is
 * the admin. A token the admin wrote that is shorter than 32 characters is
 * accepted (it is theirs to choose) but warned about at every start
 * (TOKEN_SHORT): the API has no rate limit, so a short token can be guessed.
 * The mode is checked on the opened file (fstat), not the path, so a swap
 * between the check and the read cannot slip a different file in.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { EdgenetError } from '../shared/errors.ts';

/** Shorter admin-chosen tokens are warned about (generated ones have 64). */
export const MIN_TOKEN_LENGTH = 32;

export interface TokenWarnings {
  warn(message: string, fields?: Record<string, unknown>): unknown;
}

export function ensureToken(file: string, logger?: TokenWarnings): string {
  const existing = readTokenFile(file);
  if (existing !== undefined) return checked(existing, file, logger);
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('hex');
  try {
    // O_EXCL: two CLCs starting at once must not overwrite each other's token.
    fs.writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
    return token;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return checked(readTokenFile(file) ?? '', file, logger);
}

/** The trimmed content, or undefined when there is no such file; refuses a file group/others may read. */
function readTokenFile(file: string): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new EdgenetError('TOKEN_FILE_SYMLINK', `the admin token file ${file} is a symbolic link; point TOKEN_FILE at the file itself`, { details: { file } });
    throw err;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new EdgenetError('TOKEN_FILE_NOT_REGULAR', `the admin token file ${file} is not a regular file`, { details: { file } });
    const mode = st.mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new EdgenetError('TOKEN_FILE_PERMISSIONS', `the admin token file ${file} is mode ${mode.toString(8).padStart(4, '0')}: group or others can read the admin token; refused (chmod 600 ${file})`, { details: { file, mode } });
    }
    return fs.readFileSync(fd, 'utf8').trim();
  } finally {
    fs.closeSync(fd);
  }
}

function checked(token: string, file: string, logger: TokenWarnings | undefined): string {
  if (token === '') throw new EdgenetError('TOKEN_EMPTY', `the admin token file ${file} is empty`, { details: { file } });
  if (token.length < MIN_TOKEN_LENGTH) {
    logger?.warn(`WARNING: the admin token in ${file} is only ${token.length} characters; use at least ${MIN_TOKEN_LENGTH} (or delete the file and let the CLC make a random one)`, { code: 'TOKEN_SHORT', file, length: token.length });
  }
  return token;
}
