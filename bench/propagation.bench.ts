/**
 * Propagation bench (architecture.md §7, issue 6): from the moment an admin
 * API call returns to (a) the moment the rule is in the kernel of the node it
 * concerns and (b) the first packet it admits gets through, p50/p99, at 1,000
 * and 10,000 instances with 1,000 groups. Target: p50 ≤ 0.5 s, p99 ≤ 1 s at
 * 10,000 instances, for an IPv4 and (issue 14) an IPv6 rule alike.
 *
 *   node --import tsx bench/propagation.bench.ts [--scales 1000,10000] [--samples 30] [--nodes 100] [--families ipv4,ipv6] [--ipv4-only-lab] [--out FILE]
 *
 * --ipv4-only-lab: the lab as before issue 14 (`lab up --ipv4-only`: no IPv6
 * prefix, so a document without any ipv6 extension and netd without IPv6
 * state); implies --families ipv4. Run next to the default to see what dual
 * stack costs an IPv4 change.
 *
 * --families: which rule changes are sampled (default both; `ipv4` alone on
 * an IPv4-only lab). On the dual-stack lab the samples of the two families
 * alternate (IPv4, IPv6, IPv4, ...) in the same lab and the same document, so
 * their figures are side by side under the same load: an IPv4 sample
 * authorizes `tcp <port> from <source's IPv4>/32` and waits for the iptables
 * rule; an IPv6 sample authorizes `tcp <port> from <source's IPv6>/128` (the
 * EUI-64 address the CLC computed, which the instance configured by SLAAC
 * from its node's radvd) and waits for the ip6tables rule, and its prober
 * connects to the target's IPv6 address (instance to instance on the cluster
 * /64, across the two nodes' bridges). --samples is per family.
 *
 * Setup: the real lab (src/lab: CLC → CC → NC → netd, real namespaces) with
 * its two real nodes; the rest of the cloud's nodes are registered with node
 * controllers that do not answer (nothing applies their documents — the CC
 * fans out to them and retries, as it would for nodes that are down), so the
 * CLC builds and ships the full-size document while the two real nodes apply
 * it. 1,000 groups, each with a CIDR rule and a rule naming the next group;
 * instances spread over all nodes and groups, 20 of them on each real node.
 *
 * One sample: a target instance on n1 and a source instance on n2 in groups
 * that do not admit each other; a prober in the source namespace tries a TCP
 * connection every 20 ms (100 ms timeout each) and records the first success;
 * then `authorize <target group> tcp <port> from <source>/32` is sent and:
 *   kernel = the kernel's notification of the new rule on n1, in the
 *            sample's family, stamped when received (nf_tables netlink
 *            events, the ones `xtables-monitor -e` reads, received by
 *            bench/nft-rule-events.py in n1's namespace; the rule is known by
 *            netd's comment `<group>: tcp <port> from <cidr>`) − API return.
 *            xtables-monitor 1.8.9 cannot be used for IPv6: it exits on the
 *            first ip6 rule with a protocol ("unsupported layer 4 protocol
 *            value"). Without python3, the first `iptables-save` (or
 *            `ip6tables-save`) poll that shows it (an upper bound: tens of ms
 *            per poll, and the polls' processes compete with the system under
 *            test);
 *   packet = the prober's first successful connection − API return (an
 *            upper bound by its 20 ms retry period).
 * Results go to stdout as markdown and to bench/results/propagation.md.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createExec } from '../src/shared/exec.ts';
import type { InstanceView } from '../src/cloud-controller/services/instances.ts';
import { labUp, type LabDeps } from '../src/lab/up.ts';
import { labDown } from '../src/lab/down.ts';
import { labApiFor, type ApiClient } from '../src/lab/api.ts';
import { labVmAdd, labTopology } from '../src/lab/vm.ts';
import { mapLimit, startServices, waitForServices } from '../src/lab/probe.ts';
import { waitFor } from '../src/shared/wait.ts';
import { NETWORK_CONFIGURATION } from '../src/cloud-controller/properties/registry.ts';
import { slaacAddress } from '../src/shared/ip/eui64.ts';
import { formatIpv6, parseCidr6, parseIpv6 } from '../src/shared/ip/ipv6.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const SCALES = arg('scales', '1000,10000').split(',').map(Number);
const SAMPLES = Number(arg('samples', '30'));
const NODES = Number(arg('nodes', '100'));
type Family = 'ipv4' | 'ipv6';
const IPV4_ONLY_LAB = process.argv.includes('--ipv4-only-lab');
const FAMILIES: Family[] = arg('families', IPV4_ONLY_LAB ? 'ipv4' : 'ipv4,ipv6').split(',').map((f) => {
  if (f !== 'ipv4' && f !== 'ipv6') throw new Error(`--families: ${f} is neither ipv4 nor ipv6`);
  return f;
});
const FAMILY_LABEL: Record<Family, string> = { ipv4: 'IPv4', ipv6: 'IPv6' };
const GROUPS = 1000;
const REAL_PER_NODE = 20;
const PORT_BASE = 9000;
/** --out FILE: where the run is recorded (newest first) instead of bench/results/propagation.md, e.g. for a trial run. */
const RESULTS = arg('out', new URL('./results/propagation.md', import.meta.url).pathname);

const exec = createExec();
let kernelSeenBy = 'iptables-save poll';
const name = `b${randomBytes(3).toString('hex')}`;
const dir = path.join(os.tmpdir(), `edgenet-bench-${name}`);
const deps: LabDeps = { exec, env: process.env, log: (l) => process.stderr.write(`${l}\n`) };

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function grow(api: ApiClient, plan: { cluster: string }, fakeNodes: readonly string[], realNodes: readonly string[], have: number, want: number): Promise<InstanceView[]> {
  const todo = Array.from({ length: want - have }, (_, k) => have + k);
  const made: InstanceView[] = [];
  const t0 = Date.now();
  await mapLimit(todo, 16, async (i) => {
    // The first REAL_PER_NODE*2 instances go to the real nodes, the rest round-robin over the fake ones.
    const node = i < REAL_PER_NODE * realNodes.length ? realNodes[i % realNodes.length]! : fakeNodes[i % fakeNodes.length]!;
    const view = await api.request<InstanceView>('POST', '/v1/instances', { cluster: plan.cluster, node, groups: [`g${i % GROUPS}`] });
    made.push(view);
    if (made.length % 1000 === 0) process.stderr.write(`  ${have + made.length} instances (${Math.round((Date.now() - t0) / 1000)} s)\n`);
  });
  return made;
}

async function main(): Promise<void> {
  const started = Date.now();
  const loadAtStart = os.loadavg().map((l) => l.toFixed(1)).join(' ');
  const state = await labUp({ name, dir, convergeTimeoutMs: 120_000, ...(IPV4_ONLY_LAB ? { ipv4Only: true } : {}) }, deps);
  const rows: string[] = [];
  const breakdown: string[] = [];
  try {
    const api = labApiFor(state);
    const topo = labTopology(state, deps);
    const plan = state.plan;
    // A private pool for 10,000+ instances (the lab's default pool is small).
    const config = JSON.parse(await fs.readFile(plan.paths.networkConfiguration, 'utf8')) as { Clusters: { PrivateIps: string[] }[] };
    config.Clusters[0]!.PrivateIps = ['10.111.1.0-10.111.63.255'];
    await api.request('PUT', `/v1/properties/${NETWORK_CONFIGURATION}`, { value: JSON.stringify(config) });

    const fakeNodes: string[] = [];
    for (let i = 1; i <= NODES - plan.nodes.length; i++) fakeNodes.push(`172.31.${1 + Math.floor(i / 250)}.${i % 250 || 250}`);
    process.stderr.write(`bench: ${fakeNodes.length} nodes without a node controller, ${GROUPS} groups\n`);
    await mapLimit(fakeNodes, 16, (n) => api.request('POST', `/v1/clusters/${plan.cluster}/nodes`, { name: n, ncUrl: 'https://127.0.0.1:9/' }));
    await mapLimit(Array.from({ length: GROUPS }, (_, i) => i), 16, (i) => api.request('POST', '/v1/groups', { name: `g${i}` }));
    await mapLimit(Array.from({ length: GROUPS }, (_, i) => i), 16, async (i) => {
      await api.request('POST', `/v1/groups/g${i}/authorize`, { protocol: 'tcp', port: '443', cidr: `198.51.100.${i % 250}/32` });
      await api.request('POST', `/v1/groups/g${i}/authorize`, { protocol: 'tcp', port: '5432', sourceGroup: `g${(i + 1) % GROUPS}` });
    });

    // The sample pair: target group tgt (on n1), source group src (on n2); they do not admit each other.
    await api.request('POST', '/v1/groups', { name: 'tgt' });
    await api.request('POST', '/v1/groups', { name: 'src' });
    const realNames = plan.nodes.map((n) => n.name);
    const target = await api.request<InstanceView>('POST', '/v1/instances', { cluster: plan.cluster, node: realNames[0], groups: ['tgt'] });
    const source = await api.request<InstanceView>('POST', '/v1/instances', { cluster: plan.cluster, node: realNames[1], groups: ['src'] });
    const [tgt, src] = await Promise.all([labVmAdd(state, api, { id: target.id, timeoutMs: 180_000 }, deps), labVmAdd(state, api, { id: source.id, timeoutMs: 180_000 }, deps)]);
    // Each family's addresses: IPv4 from the CLC; IPv6 the EUI-64 of the MAC in the cluster's /64, configured by SLAAC.
    const addresses: Record<Family, { target: string; source: string; sourceCidr: string }> = {
      ipv4: { target: target.privateIp!, source: source.privateIp!, sourceCidr: `${source.privateIp}/32` },
      ipv6: { target: '', source: '', sourceCidr: '' },
    };
    if (FAMILIES.includes('ipv6')) {
      const prefix = plan.ipv6?.prefix;
      if (prefix === undefined) throw new Error('--families includes ipv6, but the lab is IPv4-only (its plan has no IPv6 prefix): run the dual-stack lab, or --families ipv4');
      const t6 = eui64In(prefix, target);
      const s6 = eui64In(prefix, source);
      // The CLC's own figure, where the view shows one, must be that EUI-64 address.
      for (const [v, a] of [[target, t6], [source, s6]] as const) {
        const shown = (v as { ipv6?: string }).ipv6;
        if (shown !== undefined && parseIpv6(shown) !== parseIpv6(a)) throw new Error(`instance ${v.id}: the CLC shows IPv6 ${shown}, its EUI-64 address in ${prefix} is ${a}`);
      }
      await Promise.all([waitForSlaac(topo.netns, tgt.instance.ns, t6), waitForSlaac(topo.netns, src.instance.ns, s6)]);
      addresses.ipv6 = { target: t6, source: s6, sourceCidr: `${s6}/128` };
    }
    const ports = Array.from({ length: SAMPLES * SCALES.length * FAMILIES.length }, (_, i) => PORT_BASE + i);
    startServices(topo.netns, tgt.instance.ns, { name: 'target', tcpPorts: ports });
    await waitForServices(topo.netns, tgt.instance.ns, [ports[ports.length - 1]!], 120_000);

    // How "in the kernel" is seen: the kernel's own rule notifications (nf_tables netlink events,
    // read by bench/nft-rule-events.py in n1's namespace: xtables-monitor 1.8.9 exits on the first
    // ip6 rule with a protocol), else a poll of iptables-save / ip6tables-save (a process every
    // poll, tens of ms each). One listener per sample, so its log holds only that sample's syncs.
    const listenerScript = new URL('./nft-rule-events.py', import.meta.url).pathname;
    const hasListener = await exec.run(['/usr/bin/python3', '-c', 'import socket; socket.AF_NETLINK'], { okExitCodes: [0] }).then(() => true, () => false);
    kernelSeenBy = hasListener ? 'netlink events' : 'iptables-save poll';
    const startListener = async (port: number) => {
      if (!hasListener) return undefined;
      const file = path.join(dir, `rule-events-${port}.log`);
      await fs.writeFile(file, '');
      const proc = topo.netns.startIn(topo.nodeNs('n1'), ['/usr/bin/python3', '-u', listenerScript], { logFile: file });
      let exited = false;
      void proc.exited.then(() => (exited = true));
      await waitFor(async () => {
        if (exited) throw new Error(`the rule-event listener exited: ${await fs.readFile(file, 'utf8').catch(() => '')}`);
        return (await fs.readFile(file, 'utf8')).includes(' listening') || undefined;
      }, { timeoutMs: 30_000, intervalMs: 10, what: 'the rule-event listener' });
      return { file, proc, exited: () => exited };
    };
    let have = 0;
    let sample = 0;
    for (const scale of SCALES) {
      process.stderr.write(`bench: growing to ${scale} instances\n`);
      // Growing is setup, not measurement: broadcast rarely meanwhile, then back to the default interval.
      await api.request('PUT', '/v1/properties/cloud.network.min_broadcast_interval', { value: '10000' });
      await grow(api, plan, fakeNodes, realNames, have, scale - 2);
      await api.request('DELETE', '/v1/properties/cloud.network.min_broadcast_interval');
      const grown = Date.now();
      await api.request('POST', '/v1/groups', { name: `ready-${scale}` }); // a change, so a document is built after `grown`
      have = scale - 2;
      // Real nodes converge even though the fake ones never do: wait for n1 and n2 to have applied
      // a document built after the growth (so the first sample does not carry the growth's backlog).
      await waitFor(async () => {
        const s = await api.request<{ current?: { sequence: number; builtAt: string }; clusters: { nodes: { name: string; appliedSequence?: number }[] }[] }>('GET', '/v1/status');
        const nodes = s.clusters.flatMap((c) => c.nodes).filter((n) => realNames.includes(n.name));
        const fresh = s.current !== undefined && Date.parse(s.current.builtAt) >= grown;
        return fresh && nodes.length === realNames.length && nodes.every((n) => n.appliedSequence === s.current!.sequence);
      }, { timeoutMs: 600_000, intervalMs: 500, what: 'the real nodes to apply the full-size document' });

      const file: Record<Family, number[]> = { ipv4: [], ipv6: [] };
      const kernel: Record<Family, number[]> = { ipv4: [], ipv6: [] };
      const packet: Record<Family, number[]> = { ipv4: [], ipv6: [] };
      const pollCost: Record<Family, number[]> = { ipv4: [], ipv6: [] };
      const windows: { family: Family; from: number }[] = [];
      for (let k = 0; k < SAMPLES * FAMILIES.length; k++, sample++) {
        const family = FAMILIES[k % FAMILIES.length]!;
        const addr = addresses[family];
        const port = PORT_BASE + sample;
        const outFile = path.join(dir, `probe-${port}.txt`);
        const prober = [
          "const net = require('net'), fs = require('fs');",
          `const ip = ${JSON.stringify(addr.target)}, port = ${port}, out = ${JSON.stringify(outFile)};`,
          "fs.writeFileSync(out + '.ready', '');",
          'const attempt = () => { const s = net.connect({ host: ip, port, timeout: 100 });',
          "  s.once('connect', () => { fs.writeFileSync(out, String(Date.now())); process.exit(0); });",
          "  s.once('timeout', () => { s.destroy(); setTimeout(attempt, 20); });",
          "  s.once('error', () => { s.destroy(); setTimeout(attempt, 20); }); };",
          'attempt();',
        ].join('\n');
        const monitor = await startListener(port);
        const proc = topo.netns.startIn(src.instance.ns, [process.execPath, '-e', prober]);
        await waitFor(async () => (await fs.stat(`${outFile}.ready`).then(() => true, () => false)) || undefined, { timeoutMs: 60_000, intervalMs: 20, what: 'the prober' });
        await new Promise((r) => setTimeout(r, 300)); // the prober is now failing against the drop
        if (await fs.stat(outFile).then(() => true, () => false)) throw new Error(`${family} port ${port}: the prober got through before the rule was authorized (tgt must not admit src yet)`);

        if (monitor?.exited()) throw new Error(`the rule-event listener exited before sample ${port}; see ${monitor.file}`);
        const monitorFrom = monitor ? (await fs.stat(monitor.file)).size : 0;
        windows.push({ family, from: Date.now() });
        await api.request('POST', '/v1/groups/tgt/authorize', { protocol: 'tcp', port: String(port), cidr: addr.sourceCidr });
        const t0 = Date.now();
        // API → the NC on n1 wrote the shared file (a cheap stat poll, in parallel with the kernel poll).
        const gniFile = path.join(plan.nodes[0]!.runDir, 'global_network_info.xml');
        const fileWritten = waitFor(async () => {
          const st = await fs.stat(gniFile).catch(() => undefined);
          return st && st.mtimeMs >= t0 ? Date.now() : undefined;
        }, { timeoutMs: 60_000, intervalMs: 5, what: 'the shared file on n1' });
        // netd's comment on a CIDR rule: `<group>: tcp <port> from <cidr>` (render/filter.ts); the port is this sample's alone.
        const comment = `: tcp ${port} from `;
        const needle = `--dport ${port} `;
        const tKernel = await waitFor(async () => {
          if (monitor) {
            // The kernel's notification of the new rule (`<epoch ms> <family> <table> <chain> <comment>`): exact, no process per poll.
            if (monitor.exited()) throw new Error(`the rule-event listener exited during the ${family} sample on port ${port}; see ${monitor.file}`);
            const handle = await fs.open(monitor.file, 'r');
            try {
              const { size } = await handle.stat();
              if (size <= monitorFrom) return undefined;
              const buf = Buffer.alloc(size - monitorFrom);
              await handle.read(buf, 0, buf.length, monitorFrom);
              pollCost[family].push(0);
              for (const line of buf.toString('utf8').split('\n')) {
                const [at, fam, table] = line.split(' ', 3);
                if (fam === family && table === 'filter' && line.includes(comment)) return Math.round(Number(at));
              }
              return undefined;
            } finally {
              await handle.close();
            }
          }
          const p0 = Date.now();
          const r = await topo.netns.execIn(topo.nodeNs('n1'), [family === 'ipv6' ? 'ip6tables-save' : 'iptables-save', '-t', 'filter']);
          pollCost[family].push(Date.now() - p0);
          return r.stdout.includes(needle) ? Date.now() : undefined;
        }, { timeoutMs: 60_000, intervalMs: monitor ? 2 : 1, what: `${family} rule for port ${port} in n1's kernel` });
        const tPacket = await waitFor(async () => {
          const text = await fs.readFile(outFile, 'utf8').catch(() => '');
          return text ? Number(text) : undefined;
        }, { timeoutMs: 60_000, intervalMs: 10, what: `the first ${family} packet on port ${port}` });
        proc.kill('SIGKILL');
        monitor?.proc.kill('SIGTERM');
        const tFile = await fileWritten;
        file[family].push(tFile - t0);
        kernel[family].push(tKernel - t0);
        packet[family].push(tPacket - t0);
        process.stderr.write(`  ${scale} ${family} #${Math.floor(k / FAMILIES.length) + 1}: file ${tFile - t0} ms, kernel ${tKernel - t0} ms, first packet ${tPacket - t0} ms\n`);
      }
      // The document the samples were taken with (the last one; all within a few hundred bytes).
      const gni = await fs.stat(path.join(plan.nodes[0]!.runDir, 'global_network_info.xml'));
      const f = (v: number) => `${(v / 1000).toFixed(2)} s`;
      for (const family of FAMILIES) {
        rows.push(
          `| ${scale.toLocaleString('en')} | ${FAMILY_LABEL[family]} | ${GROUPS.toLocaleString('en')} | ${NODES} (2 real) | ${(gni.size / 1e6).toFixed(1)} MB | ${SAMPLES} | ${f(percentile(file[family], 50))} / ${f(percentile(file[family], 99))} | ${f(percentile(kernel[family], 50))} | ${f(percentile(kernel[family], 99))} | ${f(percentile(packet[family], 50))} | ${f(percentile(packet[family], 99))} | ${kernelSeenBy === 'iptables-save poll' ? `poll ${Math.round(percentile(pollCost[family], 50))} ms` : 'events'} |`,
        );
        process.stdout.write(`${rows[rows.length - 1]}\n`);
      }
      breakdown.push(...(await whereTheTimeWent(scale, plan.paths.logs, plan.nodes[0]!.runDir, windows)));
    }
  } finally {
    // EDGENET_BENCH_KEEP_LOGS=DIR keeps the daemons' logs and n1's sync events for a breakdown.
    const keep = process.env.EDGENET_BENCH_KEEP_LOGS;
    if (keep) {
      await fs.mkdir(keep, { recursive: true });
      await fs.cp(path.join(dir, 'logs'), path.join(keep, 'logs'), { recursive: true }).catch(() => undefined);
      for (const n of ['n1', 'n2']) await fs.cp(path.join(dir, 'nodes', n), path.join(keep, n), { recursive: true }).catch(() => undefined);
    }
    await labDown({ name, dir }, deps);
  }
  const load = os.loadavg().map((l) => l.toFixed(1)).join(' ');
  const table = [
    '| instances | rule | groups | nodes | GNI size | samples | API→file on node p50 / p99 | API→kernel p50 | API→kernel p99 | API→first packet p50 | API→first packet p99 | kernel seen by |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
  const title = '# Propagation: admin API → kernel → first packet';
  const md = `## Run of ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC

Command: \`node --import tsx bench/propagation.bench.ts --scales ${SCALES.join(',')} --samples ${SAMPLES} --nodes ${NODES} --families ${FAMILIES.join(',')}${IPV4_ONLY_LAB ? ' --ipv4-only-lab' : ''}\`
(${new Date().toISOString()}, ${os.cpus().length} CPUs, load average at the start ${loadAtStart}, at the end ${load}, run took ${Math.round((Date.now() - started) / 1000)} s).
Lab: ${IPV4_ONLY_LAB ? 'IPv4 only (`--ipv4-only-lab`, as before issue 14)' : 'dual stack (cluster PARTI00 with its IPv6 /64; the document carries the ipv6 extension)'}.

Targets (architecture.md §7; issue 14: the same for an IPv6 rule): API change in the kernel of the node it concerns within **p50 0.5 s, p99 1 s** at 10,000 instances / 1,000 groups / 100 nodes.

${table}

Where the time went (medians over the samples' syncs, from the daemons' own logs: the CLC's 'network document built', the NC's 'shared file written', netd's sync events on n1):

| instances | rule | CLC snapshot | CLC build + encode | NC write | netd read | netd parse | netd render | netd observe wait | netd apply | netd sync total |
|---|---|---|---|---|---|---|---|---|---|---|
${breakdown.join('\n')}

How it is measured: see the header of \`bench/propagation.bench.ts\`. The real pipeline (CLC → SOAP → CC → SOAP → NC → file → netd → iptables or ip6tables) on the lab's two real nodes; the other nodes are registered with node controllers that do not answer, so the CLC builds and the CC ships the full-size document. "kernel" is the first rule notification for the new port from the kernel of n1 in the sample's family (the nf_tables netlink notifications xtables-monitor reads, received by \`bench/nft-rule-events.py\` in n1's namespace and stamped on arrival, "events" in the last column; xtables-monitor 1.8.9 itself exits on IPv6 rules with a protocol) or, without python3, an upper bound by the iptables-save / ip6tables-save poll period ("poll N ms"); "first packet" is an upper bound by the prober's 20 ms retry period.
`;
  // Newest run first; earlier runs (each a "## Run of …" section) stay below it.
  const earlier = await fs.readFile(RESULTS, 'utf8').catch(() => '');
  const history = earlier.replace(/^# [^\n]*\n+/, '');
  await fs.writeFile(RESULTS, `${title}\n\n${md}${history.trim() === '' ? '' : `\n${history}`}`);
  process.stdout.write(`\n${md}`);
}

function median(values: readonly number[]): string {
  const v = percentile(values, 50);
  return Number.isNaN(v) ? '–' : `${Math.round(v)} ms`;
}

async function jsonLines(file: string): Promise<Record<string, unknown>[]> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  const out: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line another writer was still appending
    }
  }
  return out;
}

/**
 * One markdown row per family: the medians of each component's own timings
 * during that family's samples (a log record belongs to the sample whose
 * authorize came last before it; the families' samples alternate).
 */
async function whereTheTimeWent(scale: number, logs: string, n1RunDir: string, windows: readonly { family: Family; from: number }[]): Promise<string[]> {
  const since = windows[0]?.from ?? Date.now();
  const at = (r: Record<string, unknown>, key: string) => (typeof r[key] === 'string' ? Date.parse(r[key] as string) : NaN);
  const familyAt = (t: number): Family | undefined => {
    let f: Family | undefined;
    for (const w of windows) if (w.from <= t) f = w.family;
    return f;
  };
  const num = (r: Record<string, unknown>, key: string) => (typeof r[key] === 'number' ? (r[key] as number) : NaN);
  const built = (await jsonLines(path.join(logs, 'clc.log'))).filter((r) => r.message === 'network document built' && at(r, 'timestamp') >= since);
  const written = (await jsonLines(path.join(logs, 'nc-n1.log'))).filter((r) => r.message === 'shared file written' && at(r, 'timestamp') >= since);
  const syncs = (await jsonLines(path.join(n1RunDir, 'netd-events.jsonl'))).filter((e) => at(e, 'at') >= since && e.trigger === 'file' && num(e, 'writes') > 0);
  return FAMILIES.map((family) => {
    const mine = (rs: Record<string, unknown>[], key: string) => rs.filter((r) => familyAt(at(r, key)) === family);
    const b = mine(built, 'timestamp');
    const w = mine(written, 'timestamp');
    const s = mine(syncs, 'at');
    const phase = (name: string) => s.map((e) => num((e.phases ?? {}) as Record<string, unknown>, name)).filter((v) => !Number.isNaN(v));
    return `| ${scale.toLocaleString('en')} | ${FAMILY_LABEL[family]} | ${median(b.map((r) => num(r, 'snapshotMs')))} | ${median(b.map((r) => num(r, 'ms')))} | ${median(w.map((r) => num(r, 'ms')))} | ${median(phase('read'))} | ${median(phase('parse'))} | ${median(phase('render'))} | ${median(phase('observe'))} | ${median(phase('apply'))} | ${median(s.map((e) => num(e, 'durationMs')))} |`;
  });
}

/** The EUI-64 address of an instance's MAC in the cluster's /64 (what the CLC computes and SLAAC configures). */
function eui64In(prefix: string, view: InstanceView): string {
  const cidr = parseCidr6(prefix);
  const a = cidr && view.mac ? slaacAddress(cidr, view.mac) : undefined;
  if (a === undefined) throw new Error(`no EUI-64 address for instance ${view.id} (MAC ${view.mac}) in ${prefix}`);
  return formatIpv6(a);
}

/** Waits until the instance has configured `address` by SLAAC and finished duplicate address detection. */
async function waitForSlaac(netns: ReturnType<typeof labTopology>['netns'], ns: string, address: string): Promise<void> {
  const want = parseIpv6(address);
  await waitFor(async () => {
    const r = await netns.execIn(ns, ['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'global'], { okExitCodes: [0, 1] });
    const ready = r.stdout.split('\n').some((l) => {
      const m = /inet6 ([0-9a-f:]+)\//.exec(l);
      return m !== null && parseIpv6(m[1]!) === want && !/tentative|dadfailed/.test(l);
    });
    return ready || undefined;
  }, { timeoutMs: 60_000, intervalMs: 200, what: `SLAAC address ${address} in ${ns}` });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
