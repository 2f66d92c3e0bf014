/**
 * The node controller's one piece of state: the document in the shared file.
 * Model: `{version, sequence, generation}` read from the file's root tag (never
 * more of it) at start, then updated on every write. Invariants:
 * - freshness is shared/freshness.ts: a document of an older generation, or of
 *   the held generation with a lower sequence, or with the held sequence but
 *   another version (a sequence names one document), is refused with a code
 *   and a message naming both sides; nothing is written;
 * - a document with the held version and generation is not written again
 *   (netd would skip it anyway, and an unchanged file saves every reader a
 *   parse); one of a newer generation is written even with the held version, so
 *   netd applies and reports the new generation (a CLC restore is rare);
 * - writes are atomic (temp file in the same directory, rename, 0600), so a
 *   reader sees the old or the new document, never part of one, and durable
 *   (fsync of file and directory) before the accept resolves — the rename comes
 *   first so netd sees the document without waiting for the disk; see
 *   shared-file.ts for the crash and power-loss reasoning;
 * - at start, a torn or foreign file is held as nothing (the CC re-sends);
 * - accepts run one at a time, so check-then-write cannot interleave.
 * Documents without a sequence (Eucalyptus-shaped) are accepted when their
 * version differs; they do not lower the held sequence.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readGniHeader } from '../shared/gni/header.ts';
import { publishSharedFile, syncFileAndDir, isTempOf } from './shared-file.ts';
import { nullLogger, type Logger } from '../shared/logger.ts';
import type { Timing } from '../shared/soap/timing.ts';
import { EdgenetError } from '../shared/errors.ts';
import { freshness } from '../shared/freshness.ts';
import type { Clock } from '../shared/clock.ts';

/** The end of a complete document: the root's end tag, then only whitespace. */
const CLOSED = /(?:<\/network-data\s*>|<network-data\b[^<>]*\/>)\s*$/;

export interface Held {
  readonly version?: string;
  readonly sequence?: number;
  readonly generation?: number;
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
    private readonly logger: Logger = nullLogger(),
  ) {}

  get current(): Held {
    return this.held;
  }

  /**
   * Reads what the shared file holds: nothing when it is missing, not a GNI,
   * or torn (see shared-file.ts: a power loss between rename and fsync can
   * leave it empty, cut short or with zeroed blocks) — holding nothing makes
   * the CC re-send. A complete file is fsynced before anything is acknowledged
   * from it (a killed NC may have renamed it without syncing). Temp files a
   * crash left behind are removed.
   */
  async load(): Promise<Held> {
    const dir = path.dirname(this.file);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    for (const name of await fs.readdir(dir)) {
      if (isTempOf(this.file, name)) await fs.rm(path.join(dir, name), { force: true });
    }
    let content: Buffer;
    let mtime: Date;
    try {
      content = await fs.readFile(this.file);
      mtime = (await fs.stat(this.file)).mtime;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.held = {};
      return this.held;
    }
    const header = readGniHeader(content);
    const problem = !header ? 'no <network-data> root tag' : content.indexOf(0) !== -1 ? 'NUL bytes (zeroed blocks)' : !CLOSED.test(content.toString('latin1', Math.max(0, content.length - 64))) ? 'does not end with </network-data>' : undefined;
    if (problem !== undefined) {
      this.logger.warn('shared file is incomplete or not a GNI; holding nothing until the CC re-sends', { file: this.file, bytes: content.length, problem });
      this.held = {};
      return this.held;
    }
    await syncFileAndDir(this.file);
    this.held = { version: header!.version, sequence: header!.sequence, ...(header!.generation === undefined ? {} : { generation: header!.generation }), at: mtime.toISOString() };
    return this.held;
  }

  /** Checks and writes `xml` (already decoded); see the invariants above. */
  accept(xml: Buffer, claimed: { version?: string; sequence?: number; generation?: number }, timing?: Timing): Promise<AcceptResult> {
    const run = this.queue.then(() => this.acceptNow(xml, claimed, timing));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async acceptNow(xml: Buffer, claimed: { version?: string; sequence?: number; generation?: number }, timing?: Timing): Promise<AcceptResult> {
    const header = readGniHeader(xml);
    if (!header) throw new EdgenetError('NOT_A_GNI', 'networkInfo does not hold a <network-data> document');
    if (claimed.version !== undefined && header.version !== undefined && claimed.version !== header.version) {
      throw new EdgenetError('VERSION_MISMATCH', `request says version ${claimed.version}, the document says ${header.version}`);
    }
    if (claimed.sequence !== undefined && header.sequence !== undefined && claimed.sequence !== header.sequence) {
      throw new EdgenetError('SEQUENCE_MISMATCH', `request says sequence ${claimed.sequence}, the document says ${header.sequence}`);
    }
    if (claimed.generation !== undefined && header.generation !== undefined && claimed.generation !== header.generation) {
      throw new EdgenetError('GENERATION_MISMATCH', `request says generation ${claimed.generation}, the document says ${header.generation}`);
    }
    const version = header.version ?? claimed.version;
    const sequence = header.sequence ?? claimed.sequence;
    const generation = header.generation ?? claimed.generation;
    const held = this.held;
    const verdict = freshness({ version, sequence, generation }, held);
    if (!verdict.fresh) throw new EdgenetError(verdict.code, verdict.message);
    if (version !== undefined && version === held.version && (generation ?? 0) === (held.generation ?? 0)) {
      // Same content: keep the file; a newer sequence for the same content is remembered.
      if (sequence !== undefined && (held.sequence === undefined || sequence > held.sequence)) this.held = { ...held, sequence };
      return { outcome: 'skipped', held: this.held };
    }
    await publishSharedFile(this.file, xml, { mode: 0o640, timing });
    const heldGeneration = sequence === undefined ? held.generation : generation;
    this.held = { version, sequence: sequence ?? held.sequence, ...(heldGeneration === undefined ? {} : { generation: heldGeneration }), at: new Date(this.clock.now()).toISOString() };
    return { outcome: 'written', held: this.held };
  }
}
