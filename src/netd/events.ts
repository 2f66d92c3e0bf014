/**
 * The sync event log: one JSON object per line in `<run dir>/netd-events.jsonl`,
 * bounded to the last `EVENTS_KEPT` syncs, so `edgenet netd events` (another
 * process) can show what netd did: trigger, version, each step with its
 * duration and writes, the result. Rewritten atomically on every append (the
 * file is small), so a reader never sees a torn line.
 */
import type { NetdResult } from '../shared/netd-status.ts';

export const EVENTS_KEPT = 200;

export interface SyncEventStep {
  readonly name: string;
  readonly description: string;
  readonly ms: number;
  readonly writes: number;
}

export interface SyncEvent {
  readonly at: string;
  readonly trigger: string;
  readonly full: boolean;
  readonly version?: string;
  readonly sequence?: number;
  readonly result: NetdResult;
  readonly error?: string;
  readonly durationMs: number;
  /** Where the time went (read, parse, render, observe, plan, apply), ms. */
  readonly phases?: { readonly [phase: string]: number | undefined };
  readonly writes: number;
  readonly steps: readonly SyncEventStep[];
  /** Entries left out of the document as unsafe: `CODE: subject` (render/sanitize.ts). */
  readonly refused?: readonly string[];
}

interface FileIo {
  readFile(file: string): Promise<string | undefined>;
  writeFile(file: string, content: string): Promise<void>;
}

export function parseEvents(text: string): SyncEvent[] {
  const out: SyncEvent[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const e = JSON.parse(line) as SyncEvent;
      if (typeof e === 'object' && e !== null && typeof e.at === 'string' && typeof e.result === 'string') out.push(e);
    } catch {
      // a damaged line is skipped, the rest stays readable
    }
  }
  return out;
}

export async function readEvents(io: FileIo, file: string): Promise<SyncEvent[]> {
  const text = await io.readFile(file).catch(() => undefined);
  return text === undefined ? [] : parseEvents(text);
}

export async function appendEvent(io: FileIo, file: string, event: SyncEvent, keep = EVENTS_KEPT): Promise<void> {
  const events = [...(await readEvents(io, file)), event].slice(-keep);
  await io.writeFile(file, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
}

export function formatEvent(e: SyncEvent): string {
  const head = `${e.at} ${e.trigger}${e.full ? ' (full)' : ''} version=${e.version ?? '-'} seq=${e.sequence ?? '-'} result=${e.result} ${e.durationMs}ms writes=${e.writes}`;
  const lines = [head];
  if (e.error) lines.push(`  error: ${e.error.split('\n').join('\n         ')}`);
  for (const s of e.steps) lines.push(`  ${String(s.ms).padStart(6)}ms ${s.writes ? 'W' : ' '} ${s.description}`);
  return lines.join('\n');
}
