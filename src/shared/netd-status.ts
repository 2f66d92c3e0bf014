/**
 * netd's status file (JSON, written atomically by netd after every sync attempt,
 * read by the node controller and returned up the pipeline). Path:
 * `paths.netdStatus()` (<run dir>/netd-status.json). The applied version alone
 * is also written to `global_network_info.version`, as eucanetd 4.4 did.
 */
import { readlinkSync } from 'node:fs';

export type NetdResult =
  /** The document was applied; `appliedVersion/Sequence` equal `version/sequence`. */
  | 'ok'
  /** Applying failed; the host keeps the last good state as far as the kernel allowed; retried. */
  | 'error'
  /** The shared file is missing, truncated, malformed or invalid; nothing was changed. */
  | 'invalid-document'
  /** The document does not list this node; nothing was changed. */
  | 'not-in-document'
  /** The document is older (generation, then sequence; shared/freshness.ts) than the one applied; ignored. */
  | 'stale-document'
  /** `edgenet netd flush` removed every rule; nothing is applied until netd syncs again. */
  | 'flushed';

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
  readonly generation?: number;
  /** Version/sequence/generation of the last document fully applied on this host. */
  readonly appliedVersion?: string;
  readonly appliedSequence?: number;
  readonly appliedGeneration?: number;
  readonly result: NetdResult;
  /** ISO time of this sync attempt. */
  readonly at: string;
  /** ISO time of the last successful apply. */
  readonly appliedAt?: string;
  readonly error?: string;
  readonly trigger?: string;
  readonly steps: readonly NetdStepTiming[];
  /**
   * Set when this sync's dhcpd exited right after start: the line of dhcpd's own
   * log that says why (not ISC's closing boilerplate) and where that log is.
   */
  readonly dhcpdFailure?: { readonly reason: string; readonly log: string };
  /** The same for radvd (dual-stack clusters): the line of radvd's log that says why it exited, and where that log is. */
  readonly radvdFailure?: { readonly reason: string; readonly log: string };
  /** The same for bird (the BGP speaker of a ROUTED node): the line of its log that says why it exited, and where that log is. */
  readonly birdFailure?: { readonly reason: string; readonly log: string };
  /**
   * The last applied desired state had IPv6 objects (ipv6Needs). An event
   * sync reads the kernel's IPv6 side (ip6tables-save, our IPv6 routes) only
   * then or when the new state needs it; a full sync (the first, a retry, the
   * periodic resync) always reads it, so leftovers are swept there.
   */
  readonly ipv6InUse?: boolean;
  /**
   * The last applied desired state had a bridge (EDGE; a ROUTED state has
   * none). An event sync reads the bridge's side of the kernel
   * (ebtables-save, the private interface's routes) only then or when the
   * new state has one; a full sync always reads it. Two processes fewer on
   * every event sync of a ROUTED node, where each costs tens of ms (a spawn
   * blocks netd until the child has exec'd) on the way to BIRD's reload.
   */
  readonly bridgeInUse?: boolean;
  /** Entries of the document netd left out as unsafe (src/netd/render/sanitize.ts), each with its named reason code. */
  readonly refused?: readonly { readonly code: string; readonly subject: string; readonly message: string }[];
  /** ROUTED: the config drive of every local instance, sorted by instance (what a hypervisor integration attaches). */
  readonly configDrives?: readonly NetdConfigDrive[];
}

/** One local instance's config drive (src/netd/apply/config-drive.ts). */
export interface NetdConfigDrive {
  readonly instance: string;
  /** `<state dir>/config-drive/<instance>/`: meta-data, network-config, user-data (when given). */
  readonly directory: string;
  /** `<state dir>/config-drive/<instance>.iso` (volume label cidata); absent when it could not be built for the current content. */
  readonly iso?: string;
  /** `CONFIG_DRIVE_FAILED: …` when the ISO could not be built (the directory is written). */
  readonly error?: string;
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

/**
 * netd's heartbeat (`<run dir>/netd-heartbeat.json`, src/netd/heartbeat.ts):
 * rewritten every `intervalMs` while netd runs, whatever it is doing, so the
 * node controller can tell a dead or hung netd from one with nothing to do.
 * `stoppedAt` is set by an orderly stop. `pidNs` (the target of
 * /proc/self/ns/pid) lets a reader in the same pid namespace check the pid.
 */
export interface NetdHeartbeat {
  readonly pid: number;
  readonly pidNs?: string;
  readonly startedAt: string;
  readonly at: string;
  readonly intervalMs: number;
  readonly stoppedAt?: string;
}

export const NETD_HEARTBEAT_INTERVAL_MS = 2000;

export function parseNetdHeartbeat(text: string): NetdHeartbeat | undefined {
  try {
    const v = JSON.parse(text) as NetdHeartbeat;
    if (typeof v !== 'object' || v === null || !Number.isInteger(v.pid) || typeof v.at !== 'string' || !Number.isFinite(Date.parse(v.at)) || !(v.intervalMs > 0)) return undefined;
    return v;
  } catch {
    return undefined;
  }
}

/**
 * What the node controller says about netd itself:
 * - `running`: heartbeat fresh (and, when checkable, its pid alive);
 * - `stale`: the process is there (or cannot be checked) but has not beaten
 *   for a while: hung, or its run directory is not writable;
 * - `dead`: its pid is gone, or no heartbeat for a long time;
 * - `stopped`: stopped in an orderly way (SIGTERM, `systemctl stop`);
 * - `never-started`: no heartbeat file at all.
 */
export type NetdLiveness = 'running' | 'stale' | 'dead' | 'stopped' | 'never-started';

/** Heartbeat older than this is `stale`; older than the dead limit is `dead`. */
function netdLivenessLimits(intervalMs: number): { staleMs: number; deadMs: number } {
  return { staleMs: Math.max(15_000, 5 * intervalMs), deadMs: Math.max(60_000, 20 * intervalMs) };
}

/** Pure: liveness from the heartbeat, the reader's clock and (when checkable) whether the pid is alive. */
export function netdLiveness(input: { heartbeat?: NetdHeartbeat; now: number; pidAlive?: boolean }): { liveness: NetdLiveness; ageMs?: number } {
  const hb = input.heartbeat;
  if (!hb) return { liveness: 'never-started' };
  const ageMs = Math.max(0, input.now - Date.parse(hb.at));
  if (hb.stoppedAt !== undefined) return { liveness: 'stopped', ageMs };
  if (input.pidAlive === false) return { liveness: 'dead', ageMs };
  const { staleMs, deadMs } = netdLivenessLimits(hb.intervalMs);
  if (ageMs >= deadMs && input.pidAlive !== true) return { liveness: 'dead', ageMs };
  return { liveness: ageMs >= staleMs ? 'stale' : 'running', ageMs };
}

/** The liveness fields of a node report (NC → CC → CLC). */
export interface NetdLivenessFields {
  readonly netdLiveness?: NetdLiveness;
  readonly netdPid?: number;
  readonly netdHeartbeatAt?: string;
  /** Age of the heartbeat when the NC answered (its own clock: no skew between hosts). */
  readonly netdHeartbeatAgeMs?: number;
}

export function netdLivenessFields(r: NetdLivenessFields | undefined): NetdLivenessFields {
  if (!r) return {};
  return {
    ...(r.netdLiveness !== undefined ? { netdLiveness: r.netdLiveness } : {}),
    ...(r.netdPid !== undefined ? { netdPid: r.netdPid } : {}),
    ...(r.netdHeartbeatAt !== undefined ? { netdHeartbeatAt: r.netdHeartbeatAt } : {}),
    ...(r.netdHeartbeatAgeMs !== undefined ? { netdHeartbeatAgeMs: r.netdHeartbeatAgeMs } : {}),
  };
}

/** This process's pid namespace (`pid:[4026531836]`), or undefined off Linux. */
export function ownPidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}
