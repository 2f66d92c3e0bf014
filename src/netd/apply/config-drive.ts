/**
 * ROUTED (issue 17): config drives on disk. netd's drive directory
 * (`paths.configDrives()`: `<state dir>/config-drive/`) holds per local
 * instance
 *   <instance>/            meta-data, network-config, user-data (when given)
 *   <instance>.iso         the same files, ISO 9660 + Joliet + Rock Ridge, volume label `cidata`
 *   <instance>.sha256      the content hash the ISO was built from (written last)
 * The directory is what a hypervisor integration (or the lab, which reads
 * `network-config` to configure an instance namespace) uses; the ISO is what
 * a VM gets attached as its NoCloud seed. Both paths are in netd's status.
 *
 * Writing a drive: its files atomically (Files seam), a stale file (user-data
 * no longer given) removed, then the ISO built under a temporary name and
 * renamed over the old one (HostOps.buildIso: a VM holding the old ISO open
 * keeps reading the old inode), then the hash. The files and the ISO are
 * 0600 (DRIVE_FILE_MODE: user-data may hold secrets). A genisoimage failure leaves
 * the directory written and the old ISO in place, reports CONFIG_DRIVE_FAILED
 * for that instance in the status and does not fail the sync (the network
 * of every instance matters more than one ISO); no hash is written, so the
 * next sync tries again.
 *
 * Paths: only names that are instance ids (`i-` + 8 or 17 hex digits) are
 * ever joined into a path or observed, whatever the document says; anything
 * else in the directory is not ours and is left alone.
 */
import * as path from 'node:path';
import type { ConfigDrive } from '../render/types.ts';
import { CONFIG_DRIVE_LABEL } from '../render/config-drive.ts';
import type { ObservedConfigDrive } from '../plan/observed.ts';
import type { HostOps } from './host.ts';
import { EdgenetError, errorMessage } from '../../shared/errors.ts';

/**
 * An instance id as sanitize admits one (shared/gni/rule-check.ts
 * INSTANCE_ID_FORM, which apply/ may not import): no `/`, no `.`, so never
 * a path of its own nor the name of another drive's ISO or hash.
 */
const INSTANCE_ID = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

export function isConfigDriveInstance(name: string): boolean {
  return INSTANCE_ID.test(name);
}

export interface ConfigDriveLayout {
  readonly directory: string;
  readonly iso: string;
  readonly hash: string;
}

/** Where an instance's drive lives; throws for a name that is not an instance id (never joined into a path). */
export function configDriveLayout(dir: string, instance: string): ConfigDriveLayout {
  if (!INSTANCE_ID.test(instance)) throw new EdgenetError('CONFIG_DRIVE_FAILED', `${JSON.stringify(instance)} is not an instance id: no config drive path is made from it`);
  return { directory: path.join(dir, instance), iso: path.join(dir, `${instance}.iso`), hash: path.join(dir, `${instance}.sha256`) };
}

/**
 * A drive's files and its ISO are 0600 (root's): user-data may carry secrets
 * (keys, passwords, tokens of the instance's owner), and nothing but the
 * hypervisor has to read them. A hypervisor that runs as root reads them as
 * they are; libvirt (qemu as its own user) chowns an attached image to that
 * user itself (dynamic_ownership, its default). The hash file holds no
 * secret and stays 0644.
 */
const DRIVE_FILE_MODE = 0o600;

/** Drive file names inside an instance's directory: the NoCloud names render writes, nothing with a path in it. */
const DRIVE_FILE = /^[a-z][a-z-]{0,31}$/;

/**
 * The drives in `dir`, by instance: every instance id that has a directory,
 * an ISO or a hash there (so a half-written drive is seen, and swept or
 * finished). A missing directory is no drives.
 */
export async function observeConfigDrives(host: HostOps, dir: string): Promise<Map<string, ObservedConfigDrive>> {
  const names = await host.listDir(dir);
  const ids = new Set<string>();
  for (const n of names) {
    const id = n.replace(/\.(iso|sha256|iso\.tmp)$/, '');
    if (INSTANCE_ID.test(id)) ids.add(id);
  }
  const present = new Set(names);
  const out = new Map<string, ObservedConfigDrive>();
  for (const id of [...ids].sort()) {
    const layout = configDriveLayout(dir, id);
    const [hash, files] = await Promise.all([
      present.has(`${id}.sha256`) ? host.readFile(layout.hash) : Promise.resolve(undefined),
      present.has(id) ? host.listDir(layout.directory) : Promise.resolve([]),
    ]);
    out.set(id, { ...(hash?.trim() ? { hash: hash.trim() } : {}), iso: present.has(`${id}.iso`), files: files.filter((f) => DRIVE_FILE.test(f)).sort() });
  }
  return out;
}

/** Writes a drive's files and builds its ISO. Returns the ISO failure (the files are written) or undefined. */
export async function writeConfigDrive(host: HostOps, dir: string, drive: ConfigDrive, hash: string): Promise<EdgenetError | undefined> {
  const layout = configDriveLayout(dir, drive.instance);
  for (const f of drive.files) {
    if (!DRIVE_FILE.test(f.name)) throw new EdgenetError('CONFIG_DRIVE_FAILED', `${drive.instance}: ${JSON.stringify(f.name)} is not a config drive file name`);
  }
  await host.mkdirp(layout.directory);
  for (const f of drive.files) {
    await host.writeFile(path.join(layout.directory, f.name), f.encoding === 'base64' ? Buffer.from(f.content, 'base64') : f.content, DRIVE_FILE_MODE);
  }
  const wanted = new Set(drive.files.map((f) => f.name));
  for (const f of await host.listDir(layout.directory)) {
    if (DRIVE_FILE.test(f) && !wanted.has(f)) await host.removeFile(path.join(layout.directory, f));
  }
  try {
    await host.buildIso(layout.iso, CONFIG_DRIVE_LABEL, drive.files.map((f) => path.join(layout.directory, f.name)));
  } catch (err) {
    // The hash is not written: the next sync builds again.
    return new EdgenetError('CONFIG_DRIVE_FAILED', `${drive.instance}: building ${layout.iso} failed: ${errorMessage(err)}`, { cause: err });
  }
  await host.writeFile(layout.hash, `${hash}\n`);
  return undefined;
}

/** Removes an instance's drive: hash first (a half-removed drive is rebuilt, never taken as current), then ISO and directory. */
export async function removeConfigDrive(host: HostOps, dir: string, instance: string): Promise<void> {
  const layout = configDriveLayout(dir, instance);
  await host.removeFile(layout.hash);
  await host.removeFile(`${layout.iso}.tmp`);
  await host.removeFile(layout.iso);
  await host.removeTree(layout.directory);
}
