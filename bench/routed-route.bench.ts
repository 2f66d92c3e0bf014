/**
 * ROUTED route bench (issue 17): from the moment an admin API call returns to
 * the moment the route it implies is in the upstream router's kernel, p50/p99
 * over --samples samples per kind. Target: p99 under 1 s, BGP included.
 *
 *   node --import tsx bench/routed-route.bench.ts [--samples 20] [--name rb] [--keep]
 *
 * Setup: the real ROUTED lab (`lab up --mode routed`: CLC → CC → NC → netd,
 * netd's BIRD on both nodes, the lab's BIRD on the upstream router, all in
 * namespaces). Kinds, each sample on the node the CLC picks next:
 *   add      `POST /v1/instances` (dual stack) returns; the VM starter's part
 *            follows at once — the port `vn_<id>` is created in the node
 *            (`topo.addInstance`, a veth into a fresh instance namespace) —
 *            until both the /32 and the /128 are in the router's kernel
 *            (its `ip -ts monitor route`: the kernel's time of the later of the two),
 *            and, in a second row, until netd's own /32 and /128 (proto 77)
 *            are on the node as well (BIRD announces a prefix once its port
 *            is up; netd's route is what makes it reachable);
 *   elastic  `POST /v1/addresses/<ip>/associate` to an instance that runs
 *            returns, until the elastic /32 is in the router's kernel (a pure
 *            API change: the port already exists);
 *   withdraw `DELETE /v1/instances/<id>` returns (its port is removed right
 *            after, as the VM would be stopped), until neither route is in
 *            the router's kernel.
 * The kernels are watched (`ip -ts monitor route`), never polled: each time is
 * the kernel event's, and nothing but the system under test spends the CPUs.
 * Results go to stdout as
 * markdown and to bench/results/routed-route.md.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { createExec, type Process } from '../src/shared/exec.ts';
import { labUp } from '../src/lab/up.ts';
import { labDown } from '../src/lab/down.ts';
import { labApiFor } from '../src/lab/api.ts';
import { labTopology } from '../src/lab/vm.ts';
import type { InstanceView } from '../src/cloud-controller/services/instances.ts';
import { formatIpv6, parseIpv6 } from '../src/shared/ip.ts';

const { values } = parseArgs({
  options: { samples: { type: 'string', default: '20' }, name: { type: 'string', default: 'rb' }, keep: { type: 'boolean', default: false } },
});
const SAMPLES = Number(values.samples);
if (!Number.isInteger(SAMPLES) || SAMPLES < 1) throw new Error(`--samples must be a positive integer, not ${values.samples}`);
const exec = createExec();
const dir = path.join(os.tmpdir(), `edgenet-lab-bench-${values.name}`);
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const log = (line: string) => process.stderr.write(`${line}\n`);

type View = InstanceView & { ipv6?: string };
const v6 = (a: string) => formatIpv6(parseIpv6(a)!);

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the routed bench needs root (network namespaces)');
  const loadBefore = load();
  const deps = { exec, env: process.env, log: () => undefined };
  const state = await labUp({ name: values.name!, dir, mode: 'routed', convergeTimeoutMs: 120_000 }, deps);
  const api = labApiFor(state);
  const topo = labTopology(state, deps);
  const routerNs = topo.routerNs!;
  const nodes = state.plan.nodes;
  // The kernels are watched, not polled: `ip -ts monitor route` reports each route as the kernel adds or
  // deletes it, with the kernel event's time; a poller spawning `ip` every 10 ms competed for the 2 CPUs with
  // the very syncs it timed (the figures before 2026-12-05 09:00 were taken that way, bench/results/routed-route.md).
  let router: RouteMonitor | undefined;
  const nodeMonitors = new Map<string, RouteMonitor>();
  const until = (keys: readonly string[], present: boolean, what: string, monitor: RouteMonitor | undefined = router) => monitor!.until(keys, present, what, 30_000);

  const add: number[] = [];
  const reach: number[] = [];
  const elastic: number[] = [];
  const withdraw: number[] = [];
  const group = 'bench';
  try {
    router = await RouteMonitor.start(routerNs, (line) => line.includes(' proto bird'));
    for (const n of nodes) nodeMonitors.set(n.short, await RouteMonitor.start(topo.nodeNs(n.short), (line) => line.includes(' proto 77 ') && / dev vn_/.test(line)));
    await api.request('POST', '/v1/groups', { name: group, description: 'routed bench' }).catch(() => undefined);
    for (let i = 0; i < SAMPLES; i += 1) {
      const node = nodes[i % nodes.length]!;
      const t0 = Date.now();
      const v = await api.request<View>('POST', '/v1/instances', { cluster: state.plan.cluster, node: node.name, groups: [group] });
      const returned = Date.now();
      await topo.addInstance({ node: node.short, id: v.id, mac: v.mac });
      const want = [`${v.privateIp}/32`, ...(v.ipv6 ? [`${v6(v.ipv6)}/128`] : [])];
      const seen = await until(want, true, `${want.join(' and ')} in the router's kernel`);
      add.push(seen - returned);
      // BIRD announces a port's prefix once the port is up; netd's own route (proto 77) on the node is what
      // makes it reachable: when did the node have both (the later of the two is "reachable through the router").
      const onNode = await until(want, true, `netd's routes for ${v.id} on ${node.short}`, nodeMonitors.get(node.short));
      reach.push(Math.max(seen, onNode) - returned);

      // An elastic address to the running instance: the port is there already.
      const a = await api.request<{ ip: string }>('POST', '/v1/addresses', {});
      const assocReturned = await api.request('POST', `/v1/addresses/${a.ip}/associate`, { instance: v.id }).then(() => Date.now());
      const seenElastic = await until([`${a.ip}/32`], true, `elastic ${a.ip}/32 in the router's kernel`);
      elastic.push(seenElastic - assocReturned);
      await api.request('POST', `/v1/addresses/${a.ip}/disassociate`, {});
      await api.request('DELETE', `/v1/addresses/${a.ip}`);

      await api.request('DELETE', `/v1/instances/${v.id}`);
      const deleted = Date.now();
      await topo.removeInstance(v.id);
      // The kernel drops an IPv4 route with its device without a netlink event (IPv6's are reported):
      // netd's /32 would stay "present" on the node's monitor, and a later instance given the same address
      // there would count as reachable at once.
      nodeMonitors.get(node.short)?.forget(want);
      const gone = await until([...want, `${a.ip}/32`], false, `${want.join(' and ')} withdrawn`);
      withdraw.push(gone - deleted);
      log(`sample ${i + 1}/${SAMPLES} on ${node.short}, API returned at ${new Date(returned).toISOString()}: add ${add.at(-1)} ms (reachable ${reach.at(-1)} ms; API ${returned - t0} ms), elastic ${elastic.at(-1)} ms, withdraw ${withdraw.at(-1)} ms; load ${load()}`);
    }
  } finally {
    router?.stop();
    for (const m of nodeMonitors.values()) m.stop();
    if (!values.keep) await labDown({ name: values.name!, dir }, deps);
  }
  const line = (what: string, xs: number[]) => `| ${what} | ${xs.length} | ${percentile(xs, 50)} ms | ${percentile(xs, 99)} ms | ${Math.max(...xs)} ms |`;
  const text = [
    `routed route bench: ${SAMPLES} samples per kind (ROUTED lab, 2 nodes with netd's BIRD, the lab's BIRD as upstream router), ${new Date().toISOString()}`,
    `load average before: ${loadBefore}; after: ${load()}; ${os.cpus().length} CPUs; Node ${process.version}`,
    '',
    "| API call returns → router's kernel | samples | p50 | p99 | worst |",
    '|---|---|---|---|---|',
    line('instance added (port created right after): its /32 and /128 present', add),
    line("… and netd's own /32 and /128 on the node too (reachable)", reach),
    line('elastic address associated: its /32 present', elastic),
    line('instance terminated (port removed right after): its routes gone', withdraw),
    '',
  ].join('\n');
  process.stdout.write(text);
  await fs.mkdir(path.join(import.meta.dirname, 'results'), { recursive: true });
  await fs.writeFile(path.join(import.meta.dirname, 'results', 'routed-route.md'), text);
}

/**
 * A namespace's routes as its kernel reports them (`ip -ts monitor route`), the lines `keep` accepts, by
 * canonical prefix (`10.0.0.5/32`, `2001:db8::5/128`), with the time of each prefix's last change.
 */
class RouteMonitor {
  private readonly present = new Set<string>();
  private readonly changed = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  private constructor(private readonly proc: Process) {}

  static async start(ns: string, keep: (line: string) => boolean): Promise<RouteMonitor> {
    let monitor: RouteMonitor | undefined;
    const pending: string[] = [];
    const proc = exec.start(['ip', '-n', ns, '-ts', 'monitor', 'route'], { onLine: (line) => (monitor ? monitor.line(line, keep) : pending.push(line)) });
    monitor = new RouteMonitor(proc);
    // The monitor runs before the dump, so nothing falls between them.
    for (const family of ['-4', '-6'] as const) {
      const r = await exec.run(['ip', '-n', ns, '-o', family, 'route', 'show']);
      for (const l of r.stdout.split('\n')) if (l.trim() !== '') monitor.line(`[${new Date(0).toISOString().slice(0, -1)}] ${l}`, keep);
    }
    for (const l of pending) monitor.line(l, keep);
    return monitor;
  }

  private line(line: string, keep: (line: string) => boolean): void {
    const m = /^\[([0-9T:.-]+)\] (Deleted )?(?:(?:unicast|local|broadcast|blackhole|unreachable|prohibit) )?(\S+) /.exec(line);
    if (!m || !keep(line)) return;
    const at = Date.parse(m[1]!.slice(0, 23)); // the monitor's local time, to the millisecond (no offset: local, like ip's)
    const dst = m[3]!;
    const v6Dst = dst.includes(':');
    const [addr, len] = dst.includes('/') ? dst.split('/') : [dst, v6Dst ? '128' : '32'];
    const key = `${v6Dst ? v6(addr!) : addr}/${len}`;
    if (m[2]) this.present.delete(key);
    else this.present.add(key);
    this.changed.set(key, at);
    for (const w of [...this.waiters]) w();
  }

  /** When every key was last made present (or absent): the kernel's time of the latest of those changes. */
  until(keys: readonly string[], present: boolean, what: string, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!keys.every((k) => this.present.has(k) === present)) return;
        cleanup();
        resolve(Math.max(...keys.map((k) => this.changed.get(k) ?? 0)));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Takes `keys` as absent, unseen (routes the kernel removed without an event). */
  forget(keys: readonly string[]): void {
    for (const k of keys) {
      this.present.delete(k);
      this.changed.delete(k);
    }
  }

  stop(): void {
    this.proc.kill();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
