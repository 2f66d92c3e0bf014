/**
 * The lab state file (`<lab dir>/lab.json`): what `lab up` started, so that
 * `down`, `status` and `vm` work from another process and after a crash.
 * Written atomically after every step of `up` (a crash mid-way still leaves a
 * file that `down` can use); `down` needs only the name even without it
 * (namespaces are found by prefix, see topology.ts teardownByPrefix).
 */
import { promises as fs } from 'node:fs';
import { writeFileAtomic } from '../shared/files.ts';
import { EdgenetError } from '../shared/errors.ts';
import type { LabPlan } from './plan.ts';

export type LabRole = 'clc' | 'cc' | 'nc' | 'netd' | 'relay-ctl' | 'relay-host' | 'relay-ctl-ec2' | 'relay-host-ec2' | 'postgres' | 'router';

export interface LabProcess {
  readonly role: LabRole;
  /** Lab-local node name (n1, n2) for nc/netd. */
  readonly node?: string;
  /** CLC_ID (clc-1, clc-2) of a two-CLC lab's CLCs and their relays. */
  readonly clc?: string;
  /** Namespace the process runs in; undefined = the host's (relay-host only). */
  readonly ns?: string;
  readonly pid: number;
  readonly argv: readonly string[];
  readonly log: string;
}

export interface LabState {
  readonly version: 1;
  readonly plan: LabPlan;
  readonly createdAt: string;
  readonly phase: 'starting' | 'up';
  readonly processes: readonly LabProcess[];
  /**
   * Admin API as reachable from the host (through the relays). `url` is the
   * first CLC's; a two-CLC lab lists every CLC's in `urls` (clients try them
   * in order: EDGENET_URL=URL1,URL2) and `byClc` by CLC_ID.
   */
  readonly api?: { readonly url: string; readonly tokenFile: string; readonly urls?: readonly string[]; readonly byClc?: Readonly<Record<string, string>> };
  /** The EC2 Query endpoint as reachable from the host (through its relays), and the lab tenant's key. */
  readonly ec2?: LabEc2;
}

export interface LabEc2 {
  readonly url: string;
  /** The region the lab suggests (any name works with SigV4 here). */
  readonly region: string;
  /** The account `lab up` made for EC2 clients; absent when it could not be made. */
  readonly tenant?: {
    readonly accountId: string;
    readonly name: string;
    readonly accessKeyId: string;
    /** AWS shared credentials file (profile `default`), mode 0600. The secret is only there. */
    readonly credentialsFile: string;
  };
}

export async function writeLabState(state: LabState): Promise<void> {
  await writeFileAtomic(state.plan.stateFile, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

export async function readLabState(file: string): Promise<LabState | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const value = JSON.parse(text) as LabState;
    if (value.version !== 1 || typeof value.plan?.prefix !== 'string') throw new Error('unknown shape');
    return value;
  } catch (err) {
    throw new EdgenetError('LAB_BAD_STATE', `${file} is not a lab state file: ${(err as Error).message}`, { cause: err });
  }
}

export async function requireLabState(file: string, name: string): Promise<LabState> {
  const state = await readLabState(file);
  if (!state) throw new EdgenetError('LAB_NOT_UP', `no lab "${name}" is up (no ${file}); start one with \`edgenet lab up --name ${name}\``);
  return state;
}
