/**
 * What the node controller reports about its node: the document it holds
 * (delivered) and netd's last status from netd's status file (applied). Until
 * netd has written a status the result is `no-status`; an unreadable file is
 * reported as such rather than hidden.
 */
import { promises as fs } from 'node:fs';
import { parseNetdStatus } from '../shared/netd-status.ts';
import type { NodeReport } from '../shared/soap/messages.ts';
import type { Held } from './held-document.ts';

export async function nodeReport(options: { node: string; statusFile: string; held: Held }): Promise<NodeReport> {
  const { held } = options;
  const delivered = { deliveredVersion: held.version, deliveredSequence: held.sequence, deliveredAt: held.at };
  let text: string;
  try {
    text = await fs.readFile(options.statusFile, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    return { name: options.node, ...delivered, result: 'no-status', lastError: missing ? undefined : `cannot read netd status: ${(err as Error).message}` };
  }
  const status = parseNetdStatus(text);
  if (!status) return { name: options.node, ...delivered, result: 'no-status', lastError: 'netd status file is not valid JSON status' };
  return {
    name: options.node,
    ...delivered,
    result: status.result,
    appliedVersion: status.appliedVersion,
    appliedSequence: status.appliedSequence,
    appliedAt: status.appliedAt,
    statusAt: status.at,
    lastError: status.error,
  };
}
