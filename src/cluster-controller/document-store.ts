/**
 * The cluster controller's latest document, kept durably so a restarted CC
 * re-sends it to its nodes without waiting for the CLC.
 *
 * Model: one JSON file `<STATE_DIR>/network-info.json` holding
 * `{version, sequence, generation, receivedAt, nodes?, networkInfo}` where
 * networkInfo is the Base64 exactly as received (forwarded unchanged, never
 * re-encoded). Invariants: a document that is not fresh against the held one
 * (shared/freshness.ts: older generation, older sequence, or the held sequence
 * with another version) is refused with that rule's code and message, and
 * nothing changes; the file is replaced atomically, writes
 * are chained so the newest document is the one left on disk, and the CLC's
 * request is answered only once its document is on disk (`persisted`) — the
 * fan-out may start before that, so the disk write is off the delivery path;
 * the CC reads only the GNI root tag (version, sequence, generation), never the whole document.
 *
 * Cost on the delivery path: the write is started on the next turn of the event
 * loop (after the fan-out has handed its first envelope to a socket) and the
 * file's bytes are assembled without JSON-escaping the megabytes of Base64 —
 * text that decoded to exactly len/4·3 − padding bytes holds only Base64
 * alphabet characters, none of which JSON escapes — so the CC's main thread
 * spends about a millisecond on it instead of a JSON.stringify of the whole text.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readGniHeader } from '../shared/gni/header.ts';
import { writeFileAtomic } from '../shared/files.ts';
import { EdgenetError } from '../shared/errors.ts';
import { freshness } from '../shared/freshness.ts';
import type { Clock } from '../shared/clock.ts';
import type { NodeTarget } from '../shared/soap/messages.ts';

export interface CcDocument {
  readonly version?: string;
  readonly sequence?: number;
  readonly generation?: number;
  readonly receivedAt: string;
  /** Node list sent with the document (edgenet CLC); undefined for Eucalyptus-shaped requests. */
  readonly nodes?: readonly NodeTarget[];
  /** Base64 GNI. */
  readonly networkInfo: string;
  /** Decoded size in bytes. */
  readonly bytes: number;
}

export type StoreOutcome = 'stored' | 'unchanged';

export class DocumentStore {
  private doc: CcDocument | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly clock: Clock,
    /** ACCEPT_UNSEQUENCED: documents without a sequence replace the held one (Eucalyptus CLCs); off by default. */
    private readonly options: { readonly acceptUnsequenced?: boolean } = {},
  ) {}

  get current(): CcDocument | undefined {
    return this.doc;
  }

  async load(): Promise<CcDocument | undefined> {
    await fs.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const value = JSON.parse(text) as CcDocument;
      if (typeof value.networkInfo !== 'string') throw new Error('no networkInfo');
      this.doc = value;
    } catch (err) {
      throw new EdgenetError('STATE_CORRUPT', `${this.file} is not a stored document (${(err as Error).message}); move it away to start empty`, { cause: err });
    }
    return this.doc;
  }

  /** Checks and stores a received document; `xml` is the decoded networkInfo (only its root tag is read). */
  accept(input: { networkInfo: string; xml: Buffer; version?: string; sequence?: number; generation?: number; nodes?: readonly NodeTarget[] }): Promise<{ outcome: StoreOutcome; doc: CcDocument; persisted: Promise<void> }> {
    const run = this.queue.then(() => this.acceptNow(input));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async acceptNow(input: { networkInfo: string; xml: Buffer; version?: string; sequence?: number; generation?: number; nodes?: readonly NodeTarget[] }): Promise<{ outcome: StoreOutcome; doc: CcDocument; persisted: Promise<void> }> {
    const header = readGniHeader(input.xml);
    if (!header) throw new EdgenetError('NOT_A_GNI', 'networkInfo does not hold a <network-data> document');
    if (input.version !== undefined && header.version !== undefined && input.version !== header.version) {
      throw new EdgenetError('VERSION_MISMATCH', `request says version ${input.version}, the document says ${header.version}`);
    }
    if (input.sequence !== undefined && header.sequence !== undefined && input.sequence !== header.sequence) {
      throw new EdgenetError('SEQUENCE_MISMATCH', `request says sequence ${input.sequence}, the document says ${header.sequence}`);
    }
    if (input.generation !== undefined && header.generation !== undefined && input.generation !== header.generation) {
      throw new EdgenetError('GENERATION_MISMATCH', `request says generation ${input.generation}, the document says ${header.generation}`);
    }
    const version = header.version ?? input.version;
    const sequence = header.sequence ?? input.sequence;
    const generation = header.generation ?? input.generation;
    const held = this.doc;
    const verdict = freshness({ version, sequence, generation }, held, 'held', { acceptUnsequenced: this.options.acceptUnsequenced ?? false });
    if (!verdict.fresh) throw new EdgenetError(verdict.code, verdict.message);
    const nodes = input.nodes ?? held?.nodes;
    if (held && version !== undefined && version === held.version && sequence === held.sequence && generation === held.generation && sameNodes(nodes, held.nodes)) {
      return { outcome: 'unchanged', doc: held, persisted: this.writes };
    }
    const doc: CcDocument = {
      version,
      sequence,
      ...(generation === undefined ? {} : { generation }),
      receivedAt: new Date(this.clock.now()).toISOString(),
      nodes,
      networkInfo: input.networkInfo,
      bytes: input.xml.length,
    };
    this.doc = doc;
    const persisted = this.writes.then(nextTurn).then(() => writeFileAtomic(this.file, storedBytes(doc, input.xml.length), { mode: 0o600 }));
    this.writes = persisted.catch(() => undefined);
    return { outcome: 'stored', doc, persisted };
  }
}

/** Yields to the event loop once (setImmediate runs after pending I/O callbacks and nextTicks: the fan-out's socket writes go first). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * The file's JSON, `networkInfo` last. When the Base64 is unwrapped and decoded
 * to exactly its nominal length, every character is in the Base64 alphabet, so
 * it is copied into the JSON string as is; anything else goes through JSON.stringify.
 */
export function storedBytes(doc: CcDocument, decodedLength: number): Buffer {
  const info = doc.networkInfo;
  const pad = info.endsWith('==') ? 2 : info.endsWith('=') ? 1 : 0;
  if (info.length % 4 !== 0 || decodedLength !== (info.length / 4) * 3 - pad) return Buffer.from(JSON.stringify(doc), 'utf8');
  const { networkInfo: _, ...meta } = doc;
  const head = `${JSON.stringify(meta).slice(0, -1)},"networkInfo":"`;
  const headLength = Buffer.byteLength(head);
  const out = Buffer.allocUnsafe(headLength + info.length + 2);
  out.write(head, 0, 'utf8');
  out.write(info, headLength, 'latin1');
  out.write('"}', headLength + info.length, 'latin1');
  return out;
}

function sameNodes(a: readonly NodeTarget[] | undefined, b: readonly NodeTarget[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  return a.every((n, i) => n.name === b[i]!.name && n.url === b[i]!.url);
}
