/**
 * netd's status file (JSON, written atomically by netd after every sync attempt,
 * read by the node controller and returned up the pipeline). Path:
 * `paths.netdStatus()` (<run dir>/netd-status.json). The applied version alone
 * is also written to `global_network_info.version`, as eucanetd 4.4 did.
 */

export type NetdResult =
  /** The document was applied; `appliedVersion/Sequence` equal `version/sequence`. */
  | 'ok'
  /** Applying failed; the host keeps the last good state as far as the kernel allowed; retried. */
  | 'error'
  /** The shared file is missing, truncated, malformed or invalid; nothing was changed. */
  | 'invalid-document'
  /** The document does not list this node; nothing was changed. */
  | 'not-in-document'
  /** The document is older (by sequence) than the one applied; ignored. */
  | 'stale-document';

export interface NetdStepTiming {
  readonly name: string;
  readonly ms: number;
  readonly wrote: boolean;
}

export interface NetdStatus {
  readonly node: string;
  /** Version/sequence of the document last read from the shared file (may be undefined if unreadable). */
  readonly version?: string;
  readonly sequence?: number;
  /** Version/sequence of the last document fully applied on this host. */
  readonly appliedVersion?: string;
  readonly appliedSequence?: number;
  readonly result: NetdResult;
  /** ISO time of this sync attempt. */
  readonly at: string;
  /** ISO time of the last successful apply. */
  readonly appliedAt?: string;
  readonly error?: string;
  readonly trigger?: string;
  readonly steps: readonly NetdStepTiming[];
}

export function parseNetdStatus(text: string): NetdStatus | undefined {
  try {
    const value = JSON.parse(text) as NetdStatus;
    if (typeof value !== 'object' || value === null || typeof value.result !== 'string' || typeof value.at !== 'string') return undefined;
    return value;
  } catch {
    return undefined;
  }
}
