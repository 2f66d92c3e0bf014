/**
 * The rules of the CLC's secret files (the admin token, admin-token.ts; the
 * credentials key, credentials-key.ts), in one place.
 *
 * Reading: the path must not be a symbolic link (O_NOFOLLOW: whoever may
 * swap a link would choose the secret), must be a regular file, and group
 * and others must not be able to read it (like OpenSSH with private keys:
 * whoever reads it is the admin, or can open every stored EC2 secret). The
 * mode is checked on the opened file (fstat), not the path, so a swap between
 * the check and the read cannot slip a different file in.
 *
 * Creating: the content goes to a private temporary file in the same
 * directory (mode 0600, O_EXCL | O_NOFOLLOW), is fsynced, and is linked to
 * the final name, which fails if the name exists: two CLCs starting at once
 * never overwrite each other's secret, and a crash never leaves a half
 * written one under the final name.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { EdgenetError } from '../shared/errors.ts';
import type { ErrorCode } from '../shared/error-codes.ts';

/** How one kind of secret file is named in messages, and its refusal codes. */
export interface SecretFileKind {
  /** `the admin token file` */
  readonly what: string;
  /** `the admin token` (what group or others could read) */
  readonly secret: string;
  /** The setting that names the file: `TOKEN_FILE`. */
  readonly setting: string;
  readonly codes: {
    readonly symlink: ErrorCode;
    readonly notRegular: ErrorCode;
    readonly permissions: ErrorCode;
  };
}

/** The file's bytes, or undefined when there is no such file; refuses a link, a non-file and a mode group/others may read. */
export function readSecretFile(file: string, kind: SecretFileKind): Buffer | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new EdgenetError(kind.codes.symlink, `${kind.what} ${file} is a symbolic link; point ${kind.setting} at the file itself`, { details: { file } });
    throw err;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new EdgenetError(kind.codes.notRegular, `${kind.what} ${file} is not a regular file`, { details: { file } });
    const mode = st.mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new EdgenetError(kind.codes.permissions, `${kind.what} ${file} is mode ${mode.toString(8).padStart(4, '0')}: group or others can read ${kind.secret}; refused (chmod 600 ${file})`, {
        details: { file, mode },
      });
    }
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Writes `content` as a new secret file (mode 0600; its directory created
 * mode 0700 if missing). False when the file already exists (then nothing
 * was written: read the one that is there).
 */
export function createSecretFile(file: string, content: string | Buffer): boolean {
  const dir = path.dirname(path.resolve(file));
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = fs.openSync(temp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
  try {
    try {
      // The umask cannot widen 0600, but make the mode explicit anyway.
      fs.fchmodSync(fd, 0o600);
      fs.writeFileSync(fd, content);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    try {
      fs.linkSync(temp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
    syncDir(dir);
    return true;
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

/** Makes the new directory entry durable; some filesystems refuse to open a directory, which only costs durability. */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, fs.constants.O_RDONLY);
    fs.fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
