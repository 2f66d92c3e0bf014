/**
 * The running build: the version from package.json and, when cheaply known,
 * the git commit — from a BUILD_COMMIT file the installer writes next to
 * package.json, else from the checkout's .git (HEAD, a loose ref or
 * packed-refs; no process is started). Read once.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BuildInfo {
  readonly version: string;
  readonly commit?: string;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let cached: BuildInfo | undefined;

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function gitCommit(root: string): string | undefined {
  const fromFile = read(path.join(root, 'BUILD_COMMIT'));
  if (fromFile && /^[0-9a-f]{7,40}$/.test(fromFile)) return fromFile;
  const head = read(path.join(root, '.git', 'HEAD'));
  if (!head) return undefined;
  if (/^[0-9a-f]{40}$/.test(head)) return head;
  const ref = /^ref: (\S+)$/.exec(head)?.[1];
  if (!ref) return undefined;
  const loose = read(path.join(root, '.git', ref));
  if (loose && /^[0-9a-f]{40}$/.test(loose)) return loose;
  const packed = read(path.join(root, '.git', 'packed-refs'));
  const line = packed?.split('\n').find((l) => l.endsWith(` ${ref}`));
  return line?.split(' ')[0];
}

export function buildInfo(): BuildInfo {
  if (cached) return cached;
  let version = '0.0.0';
  try {
    version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version?: string }).version ?? version;
  } catch {
    // keep the placeholder: a build without package.json is not ours to guess
  }
  const commit = gitCommit(ROOT);
  cached = { version, ...(commit ? { commit: commit.slice(0, 12) } : {}) };
  return cached;
}
