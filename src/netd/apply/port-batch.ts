/**
 * The `ip -force -batch` text for routed instance ports' changes
 * (HostOps.changePorts) and the reading of its stderr. Pure, so the tolerance
 * rules are unit-tested without a kernel.
 *
 * iproute2 quirks this deals with (6.1):
 *   - `ip neigh del` exits the whole batch on failure (ipneigh_modify calls
 *     exit), so a neighbour entry that is already gone would abort every
 *     later line: entries are removed with `neigh flush to ADDR dev DEV nud
 *     permanent proto P`, which succeeds with nothing to flush;
 *   - with -force the other commands go on after a failure and each failure
 *     is reported as its message followed by `Command failed -:N` (N = line);
 *   - a delete of something already gone (route: "No such process",
 *     address: "Address not found" / "Cannot assign requested address", a
 *     port that vanished with its VM: "Cannot find device") is the converged
 *     result, not a failure; an add that fails is.
 */
import type { PortOp } from './host.ts';

/** `a.b.c.d` → `a.b.c.d/32`, IPv6 → `/128`; a prefix already written is kept. */
function hostPrefix(address: string): string {
  if (address.includes('/')) return address;
  return `${address}/${address.includes(':') ? 128 : 32}`;
}

/** One batch line per op, in order. */
export function portBatchLines(ops: readonly PortOp[]): string[] {
  return ops.map((o) => {
    switch (o.op) {
      case 'addr-add':
        // IPv6 without DAD: the gateway is ours by design on a point-to-point port, and DAD would keep it unusable (tentative) for a second.
        return `addr replace ${o.address}/${o.prefixlen} dev ${o.interface}${o.address.includes(':') ? ' nodad' : ''}`;
      case 'addr-del':
        return `addr del ${o.address}/${o.prefixlen} dev ${o.interface}`;
      case 'route-replace':
        return `route replace ${hostPrefix(o.address)} dev ${o.dev} proto ${o.protocol}`;
      case 'route-del':
        return `route del ${hostPrefix(o.address)} dev ${o.dev} proto ${o.protocol}`;
      case 'neigh-replace':
        return `neigh replace ${o.address} lladdr ${o.lladdr} dev ${o.dev} nud permanent protocol ${o.protocol}`;
      case 'neigh-del':
        return `neigh flush to ${o.address} dev ${o.dev} nud permanent`;
    }
  });
}

const GONE_DEVICE = /Cannot find device/;

/** Whether a failed delete found its object already gone (with its port, or alone): the result wanted. */
function alreadyGone(op: PortOp, message: string): boolean {
  switch (op.op) {
    case 'route-del':
      return /No such process/.test(message) || GONE_DEVICE.test(message);
    case 'addr-del':
      return /[Aa]ddress not found|Cannot assign requested address/.test(message) || GONE_DEVICE.test(message);
    case 'neigh-del':
      return GONE_DEVICE.test(message);
    default:
      return false;
  }
}

/**
 * The failures in a batch's stderr that are real (not a converged outcome),
 * each as `line N (text): message`; a message not followed by `Command
 * failed` (a command that exited the batch) is always real.
 */
export function portBatchFailures(ops: readonly PortOp[], lines: readonly string[], stderr: string): string[] {
  const failures: string[] = [];
  let message: string[] = [];
  for (const raw of stderr.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const m = /^Command failed -:(\d+)$/.exec(line);
    if (m === null) {
      message.push(line);
      continue;
    }
    const n = Number(m[1]);
    const op = ops[n - 1];
    const text = message.join(' ');
    message = [];
    if (op === undefined || !alreadyGone(op, text)) failures.push(`line ${n} (${lines[n - 1] ?? '?'}): ${text}`);
  }
  if (message.length > 0) failures.push(message.join(' '));
  return failures;
}
