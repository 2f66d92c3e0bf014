/**
 * ROUTED (issue 17): the config drives' part of the plan. Pure.
 *
 * A drive is up to date when the hash recorded next to its ISO equals the
 * hash of the desired drive, the ISO exists and the drive's directory holds
 * exactly the desired file names. The hash is written last, after the ISO
 * (apply/config-drive.ts), so a drive interrupted half-way (kill -9,
 * genisoimage failing) has an old or no hash and is rebuilt on the next sync;
 * a converged node plans nothing and runs no genisoimage. What someone edits
 * inside a drive's files by hand is not noticed (the drive is our output,
 * like a process's configuration file: `netd flush` or removing the
 * `<instance>.sha256` forces a rebuild).
 *
 * Drives of instances not desired (terminated, moved to another node, the
 * document no longer ROUTED) are removed: only names that are instance ids
 * are ever observed (apply/config-drive.ts), so nothing else in the directory
 * is touched.
 */
import { createHash } from 'node:crypto';
import type { ConfigDrive } from '../render/types.ts';
import type { ObservedConfigDrive } from './observed.ts';
import type { Step } from './steps.ts';

/** The content hash of a drive: its files (name, encoding, content) in order; the instance id is its name, not its content. */
export function configDriveHash(drive: ConfigDrive): string {
  const h = createHash('sha256');
  for (const f of drive.files) h.update(JSON.stringify([f.name, f.encoding ?? 'utf8', f.content])).update('\n');
  return h.digest('hex');
}

/** Why a drive must be (re)written, or undefined when it is up to date. */
function staleness(drive: ConfigDrive, hash: string, have: ObservedConfigDrive | undefined): string | undefined {
  if (have === undefined) return 'new';
  if (have.hash !== hash) return have.hash === undefined ? 'not built' : 'changed';
  if (!have.iso) return 'ISO missing';
  const names = drive.files.map((f) => f.name).sort();
  if (names.length !== have.files.length || names.some((n, i) => n !== have.files[i])) return 'files differ';
  return undefined;
}

export function planConfigDrives(desired: readonly ConfigDrive[] | undefined, observed: ReadonlyMap<string, ObservedConfigDrive> | undefined): Step[] {
  if (observed === undefined) return [];
  const steps: Step[] = [];
  const wanted = new Set<string>();
  for (const drive of desired ?? []) {
    wanted.add(drive.instance);
    const hash = configDriveHash(drive);
    const why = staleness(drive, hash, observed.get(drive.instance));
    if (why !== undefined) steps.push({ kind: 'config-drive-write', drive, hash, why });
  }
  for (const instance of [...observed.keys()].sort()) if (!wanted.has(instance)) steps.push({ kind: 'config-drive-remove', instance });
  return steps;
}
