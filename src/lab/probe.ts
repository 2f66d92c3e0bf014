/**
 * Packets, not rules: the servers and probes the demo and the e2e tests use
 * to see what the kernel really lets through.
 *
 * `startServices` runs one Node process inside an instance namespace that
 * answers HTTP on port 80 ("hello from <name> <id>") and accepts TCP on every
 * other given port (writes "<name>\n" and closes). `probe` tries one
 * connection (nc -z) or one echo request (ping) from a namespace with a short
 * deadline: "allowed" means the destination answered, "blocked" that nothing
 * came back in time (netd drops, it does not reject). An IPv6 target (an
 * address with ':') is probed with `ping -6` / `nc -6` (ICMPv6 echo, TCP or
 * UDP over IPv6); the servers listen on both families (Node's `::` socket).
 */
import type { Process } from '../shared/exec.ts';
import type { Netns } from './netns.ts';
import type { Service } from './matrix.ts';

export function startServices(netns: Netns, ns: string, options: { name: string; tcpPorts: readonly number[]; logFile?: string }): Process {
  const ports = JSON.stringify([...new Set([80, ...options.tcpPorts])]);
  const name = JSON.stringify(options.name);
  const script = [
    "const net = require('net'), http = require('http');",
    `const name = ${name}, ports = ${ports};`,
    // `nc -z` resets connections: a socket error must not kill the server.
    "process.on('uncaughtException', (e) => console.error('ignored', e && e.code));",
    "for (const p of ports) {",
    "  if (p === 80) http.createServer((q, s) => s.end('hello from ' + name + '\\n')).on('clientError', (e, sock) => sock.destroy()).listen(80);",
    "  else net.createServer((s) => { s.on('error', () => {}); s.end(name + '\\n'); }).listen(p);",
    "}",
  ].join('\n');
  return netns.startIn(ns, [process.execPath, '-e', script], options.logFile ? { logFile: options.logFile } : {});
}

/** Waits (bounded) until every port answers from inside the instance's own namespace. */
export async function waitForServices(netns: Netns, ns: string, tcpPorts: readonly number[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const port of new Set([80, ...tcpPorts])) {
    for (;;) {
      const r = await netns.execIn(ns, ['nc', '-z', '-n', '-w', '1', '127.0.0.1', String(port)], { okExitCodes: [0, 1] });
      if (r.exitCode === 0) break;
      if (Date.now() > deadline) throw new Error(`the test services in ${ns} do not listen on port ${port}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export type ProbeResult = 'allowed' | 'blocked';

export interface ProbeTarget {
  /** Namespace the probe runs in. */
  readonly from: string;
  readonly ip: string;
  readonly service: Service;
}

/** One attempt from `from` to `ip`; bounded by `timeoutSeconds` (default 1). */
async function probe(netns: Netns, target: ProbeTarget, timeoutSeconds = 1): Promise<ProbeResult> {
  const { from: fromNs, ip, service } = target;
  const family = ip.includes(':') ? '-6' : '-4';
  const argv =
    service.proto === 'icmp'
      ? ['ping', family, '-n', '-q', '-c', '1', '-W', String(timeoutSeconds), ip]
      : service.proto === 'tcp'
        ? ['nc', family, '-z', '-n', '-w', String(timeoutSeconds), ip, String(service.port)]
        : ['nc', family, '-z', '-u', '-n', '-w', String(timeoutSeconds), ip, String(service.port)];
  const r = await netns.execIn(fromNs, argv, { okExitCodes: [0, 1, 2], timeoutMs: (timeoutSeconds + 5) * 1000 });
  return r.exitCode === 0 ? 'allowed' : 'blocked';
}

/**
 * Probes until the result equals `expected` or the attempts run out (timeouts
 * 1, 2, 3, 4 s), so a first-packet ARP delay or a loaded machine does not count
 * as a verdict; returns the last result. A leak (blocked expected) shows up as
 * soon as one attempt gets through.
 */
export async function probeExpecting(netns: Netns, target: ProbeTarget, expected: ProbeResult): Promise<ProbeResult> {
  const attempts = expected === 'allowed' ? 4 : 2;
  let last: ProbeResult = 'blocked';
  for (let i = 0; i < attempts; i++) {
    last = await probe(netns, target, i + 1);
    if (last === expected) return last;
  }
  return last;
}

/** An HTTP GET from inside a namespace (curl; `-g` so `http://[2001:db8::1]/` is an address, not a glob), body or undefined when nothing answered. */
export async function httpGet(netns: Netns, fromNs: string, url: string, timeoutSeconds = 2): Promise<{ status: number; body: string } | undefined> {
  const r = await netns.execIn(fromNs, ['curl', '-g', '-s', '-m', String(timeoutSeconds), '-w', '\\n%{http_code}', url], { okExitCodes: [0, 7, 28, 52, 56], timeoutMs: (timeoutSeconds + 5) * 1000 });
  if (r.exitCode !== 0) return undefined;
  const cut = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(cut + 1)), body: r.stdout.slice(0, cut) };
}
