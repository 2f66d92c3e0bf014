/**
 * What the node controller reports about its node: the document it holds
 * (delivered), netd's last status from netd's status file (applied), and
 * netd's own liveness from its heartbeat file (netd-heartbeat.json next to
 * the status file): a dead, hung or stopped netd shows at once, without
 * waiting for a document change. Until netd has written a status the result
 * is `no-status`; an unreadable file is reported as such rather than hidden.
 */
import { pidExists } from '../shared/pid.ts';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { netdLiveness, ownPidNamespace, parseNetdHeartbeat, parseNetdStatus, type NetdHeartbeat, type NetdLivenessFields } from '../shared/netd-status.ts';
import type { NodeReport } from '../shared/soap/messages.ts';
import type { Held } from './held-document.ts';

export interface NodeReportOptions {
  readonly node: string;
  readonly statusFile: string;
  readonly held: Held;
  /** Default: netd-heartbeat.json next to the status file. */
  readonly heartbeatFile?: string;
  readonly now?: () => number;
  /** Whether `pid` runs (tests); default: signal 0, when netd shares our pid namespace. */
  readonly pidAlive?: (hb: NetdHeartbeat) => boolean | undefined;
}

const OWN_PID_NS = ownPidNamespace();

/** Signal 0 tells whether the pid exists, but only means netd's pid in netd's pid namespace. */
function pidAliveHere(hb: NetdHeartbeat): boolean | undefined {
  if (hb.pidNs === undefined || OWN_PID_NS === undefined || hb.pidNs !== OWN_PID_NS) return undefined;
  return pidExists(hb.pid);
}

async function netdLivenessReport(options: Pick<NodeReportOptions, 'statusFile' | 'heartbeatFile' | 'now' | 'pidAlive'>): Promise<NetdLivenessFields> {
  const file = options.heartbeatFile ?? path.join(path.dirname(options.statusFile), 'netd-heartbeat.json');
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  const heartbeat = text === undefined ? undefined : parseNetdHeartbeat(text);
  const now = (options.now ?? Date.now)();
  const pidAlive = heartbeat ? (options.pidAlive ?? pidAliveHere)(heartbeat) : undefined;
  const { liveness, ageMs } = netdLiveness({ ...(heartbeat ? { heartbeat } : {}), now, ...(pidAlive !== undefined ? { pidAlive } : {}) });
  return {
    netdLiveness: liveness,
    ...(heartbeat ? { netdPid: heartbeat.pid, netdHeartbeatAt: heartbeat.at } : {}),
    ...(ageMs !== undefined ? { netdHeartbeatAgeMs: Math.round(ageMs) } : {}),
  };
}

export async function nodeReport(options: NodeReportOptions): Promise<NodeReport> {
  const { held } = options;
  const delivered = { deliveredVersion: held.version, deliveredSequence: held.sequence, ...(held.generation === undefined ? {} : { deliveredGeneration: held.generation }), deliveredAt: held.at };
  const netd = await netdLivenessReport(options);
  let text: string;
  try {
    text = await fs.readFile(options.statusFile, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    return { name: options.node, ...delivered, ...netd, result: 'no-status', lastError: missing ? undefined : `cannot read netd status: ${(err as Error).message}` };
  }
  const status = parseNetdStatus(text);
  if (!status) return { name: options.node, ...delivered, ...netd, result: 'no-status', lastError: 'netd status file is not valid JSON status' };
  return {
    name: options.node,
    ...delivered,
    ...netd,
    result: status.result,
    appliedVersion: status.appliedVersion,
    appliedSequence: status.appliedSequence,
    ...(status.appliedGeneration === undefined ? {} : { appliedGeneration: status.appliedGeneration }),
    appliedAt: status.appliedAt,
    statusAt: status.at,
    lastError: status.error,
  };
}
