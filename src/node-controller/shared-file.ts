/**
 * Publishing the shared file (`global_network_info.xml`) for netd: visible
 * first, durable before acknowledged.
 *
 * Order: write the whole document to a temp file in the same directory (one
 * write, mode 0600) → rename it over the shared file → fsync the file → fsync
 * the directory → return (and only then does the NC acknowledge the CC).
 *
 * Why rename before fsync. netd reads the file through the page cache, and the
 * rename happens only after every byte was written to the temp file, so a
 * reader sees the old document or the whole new one, never part of one — the
 * fsync adds nothing for readers; it only matters for power loss. Moving it
 * after the rename takes it (27–139 ms under load in the lab) off the path
 * from the CC's request to netd seeing the file, while the reply still waits
 * for it:
 * - NC killed (kill -9, crash) at any point: the page cache survives; the file
 *   holds the old or the whole new document; the CC, which got no reply,
 *   re-sends; HeldDocument.load() fsyncs what it finds before acknowledging
 *   anything from it.
 * - Power lost after the rename, before the fsyncs finished: nothing was
 *   acknowledged. The disk may hold the old document, the new one, or (on
 *   filesystems that commit the rename before the data) a torn one — empty,
 *   cut short or with zeroed blocks. A torn file fails netd's full parse, so
 *   netd changes nothing (style point 7); HeldDocument.load() checks the whole
 *   file (no NUL byte, ends with `</network-data>`) and holds nothing for a
 *   torn one, so the CC's status poll sees the node without the current
 *   document and re-sends it (as does the CLC's periodic re-broadcast), and the
 *   next write replaces the torn file. With the default RUN_DIR on tmpfs
 *   (/run) the file does not survive a power loss at all, and the same
 *   re-send fills it.
 * - A failed fsync after the rename: the file is visible but the NC answers
 *   with a Fault, keeps its held version, and rewrites on the CC's retry.
 */
import { promises as fs, constants as fsConstants } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Timing } from '../shared/soap/timing.ts';
import { fsyncDir } from '../shared/files.ts';

/** Temp files of `file` (ours, left by a crash): `.<basename>.<pid>.<hex>.tmp`. */
export function isTempOf(file: string, name: string): boolean {
  const base = path.basename(file);
  return name.startsWith(`.${base}.`) && /^\.\S+\.\d+\.[0-9a-f]{8}\.tmp$/.test(name);
}

export async function publishSharedFile(file: string, content: Buffer, options: { mode: number; timing?: Timing }): Promise<void> {
  const { mode, timing } = options;
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await fs.open(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, mode);
  let renamed = false;
  try {
    await handle.chmod(mode); // the umask may have narrowed it; never wider than `mode`
    // One write call for the whole buffer (FileHandle.writeFile writes in 512 KiB pieces).
    for (let at = 0; at < content.length; ) {
      const { bytesWritten } = await handle.write(content, at, content.length - at, at);
      at += bytesWritten;
    }
    timing?.mark('write');
    await fs.rename(tmp, file);
    renamed = true;
    timing?.mark('renamed');
    await handle.sync();
    timing?.mark('fsync');
  } catch (err) {
    await handle.close().catch(() => undefined);
    if (!renamed) await fs.rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  await fsyncDir(dir);
  timing?.mark('dirsync');
}

/** fsyncs a file that is already in place (HeldDocument.load: what a crashed NC left may not be on disk yet). */
export async function syncFileAndDir(file: string): Promise<void> {
  const handle = await fs.open(file, fsConstants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fsyncDir(path.dirname(file));
}
