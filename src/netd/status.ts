/**
 * netd's status files in the run directory (architecture.md §3.4), read by the
 * node controller: `netd-status.json` (NetdStatus, after every sync attempt)
 * and `global_network_info.version` (the applied version alone, as eucanetd
 * 4.4 wrote it). Both are written atomically. The previous status is also
 * where a restarted netd learns the last applied version and sequence — it
 * is on disk, next to the kernel state it describes, not in netd's memory.
 */
import * as path from 'node:path';
import type { NetdStatus } from '../shared/netd-status.ts';
import { parseNetdStatus } from '../shared/netd-status.ts';

export interface StatusFiles {
  readonly status: string;
  readonly version: string;
  readonly events: string;
  /** NetdHeartbeat, rewritten every few seconds while netd runs (heartbeat.ts). */
  readonly heartbeat: string;
}

export function statusFiles(runDir: string): StatusFiles {
  return {
    status: path.join(runDir, 'netd-status.json'),
    version: path.join(runDir, 'global_network_info.version'),
    events: path.join(runDir, 'netd-events.jsonl'),
    heartbeat: path.join(runDir, 'netd-heartbeat.json'),
  };
}

interface FileIo {
  readFile(file: string): Promise<string | undefined>;
  writeFile(file: string, content: string): Promise<void>;
}

export async function readStatus(io: FileIo, files: StatusFiles): Promise<NetdStatus | undefined> {
  const text = await io.readFile(files.status).catch(() => undefined);
  return text === undefined ? undefined : parseNetdStatus(text);
}

export async function writeStatus(io: FileIo, files: StatusFiles, status: NetdStatus): Promise<void> {
  await io.writeFile(files.status, `${JSON.stringify(status, null, 2)}\n`);
  if (status.result === 'ok' && status.appliedVersion !== undefined) await io.writeFile(files.version, `${status.appliedVersion}\n`);
}

/**
 * The status `edgenet netd flush` leaves: result `flushed` and nothing applied
 * (the host has no edgenet rules), so the node shows as flushed rather than
 * converged until netd syncs again; the document last read is kept.
 */
export function flushedStatus(previous: NetdStatus | undefined, options: { node: string; now: number }): NetdStatus {
  return {
    node: previous?.node || options.node,
    ...(previous?.version !== undefined ? { version: previous.version } : {}),
    ...(previous?.sequence !== undefined ? { sequence: previous.sequence } : {}),
    ...(previous?.generation !== undefined ? { generation: previous.generation } : {}),
    result: 'flushed',
    at: new Date(options.now).toISOString(),
    error: 'every edgenet rule was flushed (edgenet netd flush); restart netd to apply the document again',
    trigger: 'flush',
    steps: [],
  };
}
