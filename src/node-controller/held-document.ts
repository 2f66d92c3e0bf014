/**
 * The node controller's one piece of state: the document in the shared file.
 * Model: `{version, sequence}` read from the file's root tag (never more of
 * it) at start, then updated on every write. Invariants:
 * - a document whose sequence is below the held one is refused (STALE_SEQUENCE),
 *   and so is one with the held sequence but another version (a sequence names
 *   one document); nothing is written;
 * - a document with the held version is not written again (netd would skip it
 *   anyway, and an unchanged file saves every reader a parse);
 * - writes are atomic (temp file in the same directory, fsync, rename, 0600), so
 *   a reader sees the old or the new document, never part of one;
 * - accepts run one at a time, so check-then-write cannot interleave.
 * Documents without a sequence (Eucalyptus-shaped) are accepted when their
 * version differs; they do not lower the held sequence.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readGniHeader } from '../shared/gni/header.ts';
import { writeFileAtomic } from '../shared/files.ts';
import { EdgenetError } from '../shared/errors.ts';
import type { Clock } from '../shared/clock.ts';

export interface Held {
  readonly version?: string;
  readonly sequence?: number;
  /** ISO time of the write (file mtime after a restart). */
  readonly at?: string;
}

export type AcceptResult = { readonly outcome: 'written' | 'skipped'; readonly held: Held };

export class HeldDocument {
  private held: Held = {};
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly clock: Clock,
  ) {}

  get current(): Held {
    return this.held;
  }

  /** Reads what the shared file holds (nothing when missing or not a GNI). */
  async load(): Promise<Held> {
    await fs.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    let handle: fs.FileHandle | undefined;
    try {
      handle = await fs.open(this.file, 'r');
      const head = Buffer.alloc(1024);
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      const header = readGniHeader(head.subarray(0, bytesRead));
      const stat = await handle.stat();
      this.held = header ? { version: header.version, sequence: header.sequence, at: stat.mtime.toISOString() } : {};
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.held = {};
    } finally {
      await handle?.close();
    }
    return this.held;
  }

  /** Checks and writes `xml` (already decoded); see the invariants above. */
  accept(xml: Buffer, claimed: { version?: string; sequence?: number }): Promise<AcceptResult> {
    const run = this.queue.then(() => this.acceptNow(xml, claimed));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async acceptNow(xml: Buffer, claimed: { version?: string; sequence?: number }): Promise<AcceptResult> {
    const header = readGniHeader(xml);
    if (!header) throw new EdgenetError('NOT_A_GNI', 'networkInfo does not hold a <network-data> document');
    if (claimed.version !== undefined && header.version !== undefined && claimed.version !== header.version) {
      throw new EdgenetError('VERSION_MISMATCH', `request says version ${claimed.version}, the document says ${header.version}`);
    }
    if (claimed.sequence !== undefined && header.sequence !== undefined && claimed.sequence !== header.sequence) {
      throw new EdgenetError('SEQUENCE_MISMATCH', `request says sequence ${claimed.sequence}, the document says ${header.sequence}`);
    }
    const version = header.version ?? claimed.version;
    const sequence = header.sequence ?? claimed.sequence;
    const held = this.held;
    if (sequence !== undefined && held.sequence !== undefined) {
      if (sequence < held.sequence || (sequence === held.sequence && version !== held.version)) {
        throw new EdgenetError('STALE_SEQUENCE', `document sequence ${sequence} is older than the held ${held.sequence}; refused`);
      }
    }
    if (version !== undefined && version === held.version) {
      // Same content: keep the file; a newer sequence for the same content is remembered.
      if (sequence !== undefined && (held.sequence === undefined || sequence > held.sequence)) this.held = { ...held, sequence };
      return { outcome: 'skipped', held: this.held };
    }
    await writeFileAtomic(this.file, xml, { mode: 0o600 });
    this.held = { version, sequence: sequence ?? held.sequence, at: new Date(this.clock.now()).toISOString() };
    return { outcome: 'written', held: this.held };
  }
}
