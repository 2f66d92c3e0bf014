/**
 * The Files seam and atomic writes. A reader of any file we write sees either
 * the old or the new content, never a partial one: write a temp file in the
 * same directory, fsync it, rename it over the target, fsync the directory.
 */
import { promises as fs, constants as fsConstants } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

export interface WriteOptions {
  /** File mode (default 0o600: our files carry cloud topology). */
  readonly mode?: number;
}

export interface Files {
  read(file: string): Promise<string | undefined>;
  readBytes(file: string): Promise<Buffer | undefined>;
  writeAtomic(file: string, content: string | Buffer, options?: WriteOptions): Promise<void>;
  /** Writes only when the content differs; returns true when it wrote. */
  writeIfChanged(file: string, content: string | Buffer, options?: WriteOptions): Promise<boolean>;
  remove(file: string): Promise<void>;
  exists(file: string): Promise<boolean>;
  mkdirp(dir: string, mode?: number): Promise<void>;
}

export async function writeFileAtomic(file: string, content: string | Buffer, options: WriteOptions = {}): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const mode = options.mode ?? 0o600;
  const handle = await fs.open(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, mode);
  try {
    await handle.writeFile(content);
    await handle.chmod(mode);
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
}

/** fsync of a directory (makes a rename in it durable); filesystems that refuse it are tolerated. */
export async function fsyncDir(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, fsConstants.O_RDONLY);
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  } finally {
    await handle?.close();
  }
}

async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export function createFiles(): Files {
  return {
    async read(file) {
      const b = await readIfExists(file);
      return b?.toString('utf8');
    },
    readBytes: readIfExists,
    writeAtomic: writeFileAtomic,
    async writeIfChanged(file, content, options) {
      const current = await readIfExists(file);
      const next = typeof content === 'string' ? Buffer.from(content) : content;
      if (current && current.equals(next)) return false;
      await writeFileAtomic(file, next, options);
      return true;
    },
    async remove(file) {
      await fs.rm(file, { force: true });
    },
    async exists(file) {
      try {
        await fs.access(file);
        return true;
      } catch {
        return false;
      }
    },
    async mkdirp(dir, mode = 0o700) {
      await fs.mkdir(dir, { recursive: true, mode });
    },
  };
}
