/**
 * netd sync cost on a node with 250 local instances and 200 security groups,
 * in scratch network namespaces (prefix h6b…, removed at the end):
 *   - full sync on an empty host (read file, parse, render, observe, plan,
 *     ipset + iptables + ebtables transactions, addresses, dhcpd, status)
 *     next to the raw `ipset restore` + `iptables-restore` + `ebtables-restore`
 *     of the same rules (target: within 1.5×);
 *   - full resync of a converged host (the periodic resync: target zero writes);
 *   - re-applying an unchanged document (target: zero writes);
 *   - adding one instance (what is written, and how long it takes);
 *   - parse + render of the node's document, in process.
 * Run as root: node --import tsx bench/netd-sync.bench.ts  (writes bench/results/netd-sync.md)
 *
 * Options:
 *   --dual-stack  every instance also has its IPv6 address (issue 14): the
 *                 cluster carries the /64 2001:db8:10::/64, each instance the
 *                 EUI-64 of its MAC in it (`slaacAddress`), each group two
 *                 IPv6-only rules (a TCP port range from an IPv6 /48, ICMPv6
 *                 echo request from 2001:db8::/32) next to its three IPv4
 *                 ones, and its source-group rule applies to both families;
 *                 the configuration carries the CLC's IPv6 address (metadata
 *                 DNAT). The raw baseline then also runs `ip6tables-restore`
 *                 of the rendered ip6tables filter and nat text, and the
 *                 `ipset restore` holds the inet6 sets. Writes
 *                 bench/results/netd-sync-dual-stack.md.
 *   --runs N      full-sync runs (default 5).
 *   --out FILE    where the results go instead.
 *   --render-only only the in-process parse + render, printed (no root needed).
 *
 * Like netd in production, the measuring process runs INSIDE the node's
 * namespace (the outer process creates it and re-executes itself there with
 * --inner), so neither netd's tools nor the raw tools pay `ip netns exec`.
 * Between runs everything is flushed (`flushHost`) so every full sync starts
 * from an empty host.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createExec } from '../src/shared/exec.ts';
import { flushHost } from '../src/netd/flush.ts';
import { netdNames } from '../src/netd/names.ts';
import { createFiles } from '../src/shared/files.ts';
import { createLinuxHost } from '../src/netd/apply/linux-host.ts';
import { syncOnce, type SyncOutcome } from '../src/netd/sync.ts';
import { DEFAULT_NETD_CONFIG, type NetdConfig } from '../src/netd/config.ts';
import { parseGni, serializeGni } from '../src/shared/gni/codec.ts';
import { render } from '../src/netd/render/render.ts';
import { ebtablesRestoreText, ipsetRestoreText, iptablesRestoreText } from '../src/netd/netfilter/index.ts';
import { testGni } from '../test/helpers/fake-host.ts';
import { ip6tablesRestoreText } from '../src/netd/netfilter/iptables.ts';
import type { GniDocument, GniInstance, GniRule, GniSecurityGroup } from '../src/shared/gni/model.ts';
import { gniVersion } from '../src/shared/gni/version.ts';
import { ICMPV6_PROTOCOL, clusterIpv6Extension, configurationIpv6Extension, groupIpv6Extension, instanceIpv6Extension } from '../src/shared/gni/ipv6.ts';
import { slaacAddress } from '../src/shared/ip/eui64.ts';
import { formatIpv6, parseCidr6 } from '../src/shared/ip/ipv6.ts';
import type { DesiredState } from '../src/netd/render/types.ts';

const option = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const DUAL_STACK = process.argv.includes('--dual-stack');
const LOCAL = 250;
const REMOTE = 750;
const GROUPS = 200;
const PUBLIC = 100;
const RUNS = Number(option('runs') ?? '5');
const OUT = option('out') ?? new URL(DUAL_STACK ? './results/netd-sync-dual-stack.md' : './results/netd-sync.md', import.meta.url).pathname;
/** The dual-stack cluster's /64, its IPv6 name server and the CLC's IPv6 address (as in the lab). */
const PREFIX6 = '2001:db8:10::/64';
const DNS6 = '2001:db8:53::53';
const CLC6 = 'fd00:172:31::2';
const exec = createExec();
const prefix = `h6b${randomBytes(3).toString('hex')}`;
const made: string[] = [];

function ip(n: number): string {
  return `10.200.${(n >> 8) & 255}.${n & 255}`;
}
function mac(n: number): string {
  return `d0:0d:00:${((n >> 16) & 255).toString(16).padStart(2, '0')}:${((n >> 8) & 255).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`;
}

function cloud(localCount: number, sequence: number) {
  const instances: GniInstance[] = [];
  for (let i = 0; i < LOCAL + 1 + REMOTE; i++) {
    const groups = [`sg-${(i % GROUPS).toString(16).padStart(8, '0')}`, `sg-${((i * 7 + 3) % GROUPS).toString(16).padStart(8, '0')}`];
    const pub = i < PUBLIC ? `198.18.${1 + (i >> 8)}.${i & 255}` : undefined;
    instances.push({ name: `i-${i.toString(16).padStart(8, '0')}`, ownerId: '000000000001', macAddress: mac(i + 16), privateIp: ip(i + 16), ...(pub ? { publicIp: pub } : {}), securityGroups: [...new Set(groups)] });
  }
  const local = instances.slice(0, localCount).map((x) => x.name);
  const other = instances.slice(LOCAL + 1).map((x) => x.name);
  const groups: GniSecurityGroup[] = Array.from({ length: GROUPS }, (_, g) => ({
    name: `sg-${g.toString(16).padStart(8, '0')}`,
    ownerId: '000000000001',
    ingressRules: [
      { protocol: 6, fromPort: 1000 + g, toPort: 1100 + g, cidr: `172.16.${g}.0/24` },
      { protocol: 6, fromPort: 22, toPort: 22, groupId: `sg-${((g + 1) % GROUPS).toString(16).padStart(8, '0')}`, groupOwnerId: '000000000001' },
      { protocol: 1, icmpType: 8, icmpCode: -1, cidr: '10.0.0.0/8' },
    ],
  }));
  const used = new Set([...local, ...other]);
  const doc = testGni({
    subnet: { subnet: '10.200.0.0', netmask: '255.255.0.0', gateway: '10.200.0.1' },
    nodes: [{ name: 'bench-node', instances: local }, { name: 'other-node', instances: other }],
    instances: instances.filter((x) => used.has(x.name)),
    groups,
    publicIps: ['198.18.1.0-198.18.2.255'],
    privateIps: ['10.200.0.10-10.200.250.250'],
    clcIp: '10.200.0.2',
    sequence,
  });
  return DUAL_STACK ? dualStack(doc) : doc;
}

/** Each group's IPv6-only rules (the `ipv6` extension): as many as its IPv4 CIDR rules, plus its source-group rule in both families. */
function ipv6Rules(g: number): GniRule[] {
  return [
    { protocol: 6, fromPort: 1000 + g, toPort: 1100 + g, cidr: `2001:db8:${(0x1000 + g).toString(16)}::/48` },
    { protocol: ICMPV6_PROTOCOL, icmpType: 128, icmpCode: -1, cidr: '2001:db8::/32' },
  ];
}

/** The same cloud, dual stack: written with the CLC's writers (src/shared/gni/ipv6.ts), addresses by EUI-64 as the CLC computes them. */
function dualStack(doc: GniDocument): GniDocument {
  const prefix = parseCidr6(PREFIX6)!;
  const v6 = (mac: string) => {
    const a = slaacAddress(prefix, mac);
    if (a === undefined) throw new Error(`no EUI-64 address for ${mac}`);
    return formatIpv6(a);
  };
  const body = {
    configuration: {
      ...doc.configuration,
      extensions: [configurationIpv6Extension(CLC6)],
      clusters: doc.configuration.clusters.map((c) => ({ ...c, extensions: [clusterIpv6Extension({ prefix: PREFIX6, dnsServers: [DNS6] })] })),
    },
    instances: doc.instances.map((i) => ({ ...i, extensions: [instanceIpv6Extension(v6(i.macAddress ?? ''))] })),
    securityGroups: doc.securityGroups.map((g, k) => ({ ...g, extensions: [groupIpv6Extension(ipv6Rules(k))!] })),
  };
  return { ...body, version: gniVersion(body), ...(doc.sequence === undefined ? {} : { sequence: doc.sequence }) };
}

async function sh(ns: string, argv: string[], input?: string): Promise<void> {
  await exec.run(['ip', 'netns', 'exec', ns, ...argv], input === undefined ? {} : { input });
}

/** Inside the namespace: run a tool directly. */
async function tool(argv: string[], input?: string): Promise<void> {
  await exec.run(argv, input === undefined ? {} : { input });
}

async function makeNode(ns: string): Promise<void> {
  await exec.run(['ip', 'netns', 'add', ns]);
  made.push(ns);
  // Dual stack: the bridge's MAC pinned before ports join (the RA source the instances learn stays fixed).
  await sh(ns, ['ip', 'link', 'add', 'br0', ...(DUAL_STACK ? ['address', '02:00:00:00:00:01'] : []), 'type', 'bridge']);
  await sh(ns, ['ip', 'link', 'set', 'br0', 'up']);
  await sh(ns, ['ip', 'addr', 'add', '10.200.255.254/32', 'dev', 'br0']);
  await sh(ns, ['ip', 'link', 'add', 'priv0', 'type', 'veth', 'peer', 'name', 'priv0p']);
  await sh(ns, ['ip', 'link', 'add', 'pub0', 'type', 'veth', 'peer', 'name', 'pub0p']);
  await sh(ns, ['ip', 'link', 'set', 'pub0', 'up']);
  await sh(ns, ['ip', 'addr', 'add', '198.18.0.1/16', 'dev', 'pub0']);
}

/** Kills what netd started under `dir` and is still running (dhcpd, radvd: by their pid files, only if the process's command line names `dir`), then removes the namespace. */
async function removeNode(ns: string, dir: string): Promise<void> {
  const pidFiles = ((await fs.readdir(dir, { recursive: true }).catch(() => [])) as string[]).filter((f) => f.endsWith('.pid'));
  for (const f of pidFiles) {
    const pid = Number.parseInt((await fs.readFile(path.join(dir, f), 'utf8').catch(() => '')).trim(), 10);
    if (!Number.isInteger(pid) || pid <= 1) continue;
    const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!cmdline.includes(dir)) continue; // gone, or the pid now belongs to someone else
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await exec.run(['ip', 'netns', 'del', ns]).catch(() => undefined);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function outer(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root (network namespaces)');
  const ns = `${prefix}-bench`;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
  try {
    await makeNode(ns);
    const passOn = [...(DUAL_STACK ? ['--dual-stack'] : []), '--runs', String(RUNS), '--out', OUT];
    const r = await exec.run(['ip', 'netns', 'exec', ns, process.execPath, '--import', 'tsx', new URL(import.meta.url).pathname, ...passOn, '--inner', dir], { timeoutMs: 900_000 });
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
  } finally {
    await removeNode(ns, dir);
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Parse + render of the node's document in process, 5 times (the last state is returned). */
function parseRender(config: NetdConfig, docText: string): { times: number[]; parse: number[]; state: DesiredState } {
  const times: number[] = [];
  const parse: number[] = [];
  let state: DesiredState | undefined;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const doc = parseGni(docText);
    if (!doc.ok) throw new Error('bench document invalid');
    parse.push(performance.now() - t0);
    const r = render(doc.value, { node: 'bench-node' }, config, { bridgeMac: '02:00:00:00:00:01', bridgeAddresses: ['10.200.255.254/32'] });
    if (!r.ok) throw new Error(r.message);
    state = r.state;
    times.push(performance.now() - t0);
  }
  return { times, parse, state: state! };
}

/** --render-only: the in-process part alone (no root, no namespace), to profile parse and render. */
function renderOnly(): void {
  const config: NetdConfig = { ...DEFAULT_NETD_CONFIG, nodeName: 'bench-node', privateInterface: 'priv0', publicInterface: 'pub0', runDir: os.tmpdir() };
  const docText = serializeGni(cloud(LOCAL, 1));
  const { times, parse } = parseRender(config, docText);
  process.stdout.write(`${DUAL_STACK ? 'dual stack' : 'IPv4'}: document ${(docText.length / 1e6).toFixed(2)} MB; parse ${parse.map((t) => t.toFixed(0)).join(', ')} ms; parse + render ${times.map((t) => t.toFixed(0)).join(', ')} ms; load ${os.loadavg()[0]!.toFixed(1)}\n`);
}

async function inner(dir: string): Promise<void> {
  const config: NetdConfig = { ...DEFAULT_NETD_CONFIG, nodeName: 'bench-node', privateInterface: 'priv0', publicInterface: 'pub0', runDir: dir };
  const docText = serializeGni(cloud(LOCAL, 1));
  const docPlusOne = serializeGni(cloud(LOCAL + 1, 2));

  const host = createLinuxHost({ exec, files: createFiles() });
  /** Back to an empty host: our chains, hooks, sets, addresses and dhcpd gone, priv0 out of the bridge. */
  const reset = async (runDir: string) => {
    await flushHost(host, {
      isOurs: netdNames('EDGENET').isOurs,
      runDir,
      publicInterface: 'pub0',
      pool: ['198.18.1.0-198.18.2.255'],
      now: () => Date.now(),
      wait: (ms) => new Promise((r) => setTimeout(r, ms)),
    });
    await tool(['ip', 'link', 'set', 'priv0', 'nomaster']);
  };

  const { times: pr, state: d } = parseRender(config, docText);
  const count = (t: { readonly chains: readonly { readonly rules: readonly unknown[] }[] } | undefined) => (t ? t.chains.reduce((n, c) => n + c.rules.length, 0) : 0);
  const v6set = (s: { readonly family?: string }) => s.family === 'inet6';
  const ip6 = d.ip6tables;
  const shape = {
    ipsets: d.ipsets.length,
    setMembers: d.ipsets.reduce((n, s) => n + s.members.length, 0),
    inet6Sets: d.ipsets.filter(v6set).length,
    inet6Members: d.ipsets.filter(v6set).reduce((n, s) => n + s.members.length, 0),
    iptFilterRules: count(d.iptables.filter),
    iptNatRules: count(d.iptables.nat),
    ip6FilterRules: count(ip6?.filter),
    ip6NatRules: count(ip6?.nat),
    ebtRules: count(d.ebtables.nat) + count(d.ebtables.filter),
    publicIps: d.publicAddresses.addresses.length,
    instancesWithIpv6: d.instances.filter((i) => i.ipv6 !== undefined).length,
    bridgeRoutes: d.bridgeRoutes ?? [],
    processes: d.processes.filter((p) => p.run).map((p) => p.kind),
  };
  if (DUAL_STACK && (shape.ip6FilterRules === 0 || shape.inet6Sets === 0 || shape.instancesWithIpv6 === 0)) {
    throw new Error(`the dual-stack document renders no IPv6 state (ip6tables filter rules ${shape.ip6FilterRules}, inet6 sets ${shape.inet6Sets}, local instances with an IPv6 address ${shape.instancesWithIpv6}): netd's IPv6 render is not in yet`);
  }

  /** What of ours is still in the kernel (a full sync must start from an empty host, or it measures a partial one). */
  const leftovers = async (): Promise<string[]> => {
    const out: string[] = [];
    const read = async (argv: string[]) => (await exec.run(argv, { okExitCodes: [0, 1, 2] })).stdout;
    if ((await read(['ipset', 'list', '-n'])).split('\n').some((l) => l.startsWith('EDGENET'))) out.push('ipsets');
    for (const [save, table] of [['iptables-save', 'filter'], ['iptables-save', 'nat'], ['ip6tables-save', 'filter'], ['ip6tables-save', 'nat'], ['ebtables-save', 'filter'], ['ebtables-save', 'nat']] as const) {
      if ((await read([save, '-t', table])).includes('EDGENET')) out.push(`${save} -t ${table}`);
    }
    return out;
  };
  const resetEmpty = async (runDir: string) => {
    await reset(runDir);
    const left = await leftovers();
    if (left.length) throw new Error(`netd flush left edgenet state behind (${left.join(', ')}): a full sync would not start from an empty host`);
  };

  // netd: full sync on an empty host, then resync, unchanged, +1 instance.
  const full: number[] = [];
  const fullNetfilter: number[] = [];
  const resync: number[] = [];
  const resyncWrites: number[] = [];
  const unchangedMs: number[] = [];
  const unchangedWrites: number[] = [];
  let plusOne: SyncOutcome | undefined;
  let fullOutcome: SyncOutcome | undefined;
  // Raw restores and netd runs alternate, so machine noise hits both alike.
  const raw: number[] = [];
  const sets = ipsetRestoreText(d.ipsets);
  const filter = iptablesRestoreText('filter', d.iptables.filter);
  const nat = iptablesRestoreText('nat', d.iptables.nat);
  const filter6 = ip6 && ip6.filter.chains.length ? ip6tablesRestoreText('filter', ip6.filter) : undefined;
  const nat6 = ip6 && ip6.nat.chains.length ? ip6tablesRestoreText('nat', ip6.nat) : undefined;
  const ebn = ebtablesRestoreText('nat', d.ebtables.nat);
  const ebf = d.ebtables.filter.chains.length ? ebtablesRestoreText('filter', d.ebtables.filter) : undefined;
  const rawProcesses = 3 + (filter6 ? 1 : 0) + (nat6 ? 1 : 0) + (ebf ? 2 : 1);
  const rawTools = ['`ipset restore`', '`iptables-restore` ×2', ...(filter6 ? [`\`ip6tables-restore\` ×${nat6 ? 2 : 1}`] : []), `\`ebtables-restore\` ×${ebf ? 2 : 1}`];
  for (let run = 0; run < RUNS; run++) {
    await resetEmpty(path.join(dir, 'none'));
    {
      const t0 = performance.now();
      await tool(['ipset', 'restore'], sets);
      await tool(['iptables-restore', '-w', '5', '--noflush'], filter);
      await tool(['iptables-restore', '-w', '5', '--noflush'], nat);
      if (filter6) await tool(['ip6tables-restore', '-w', '5', '--noflush'], filter6);
      if (nat6) await tool(['ip6tables-restore', '-w', '5', '--noflush'], nat6);
      await tool(['ebtables-restore', '--noflush'], ebn);
      if (ebf) await tool(['ebtables-restore', '--noflush'], ebf);
      raw.push(performance.now() - t0);
    }
    await resetEmpty(path.join(dir, 'none'));
    const runDir = path.join(dir, `run${run}`);
    await fs.mkdir(runDir, { recursive: true });
    const gniFile = path.join(runDir, 'global_network_info.xml');
    await fs.writeFile(gniFile, docText);
    const deps = { host, config: { ...config, runDir }, runDir, gniFile, now: () => performance.now(), wait: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) };
    const f = await syncOnce(deps, { trigger: 'start', full: true });
    if (f.result !== 'ok') throw new Error(`full sync failed: ${f.error}`);
    full.push(f.durationMs);
    fullNetfilter.push(f.steps.filter((s) => /^(ipset|ip6?tables|ebtables)/.test(s.name)).reduce((n, s) => n + s.ms, 0));
    fullOutcome = f;
    if (run === 0 && filter6) {
      // The full sync put the IPv6 rules in the kernel (not only reported them).
      const saved = (await exec.run(['ip6tables-save', '-t', 'filter'])).stdout.split('\n').filter((l) => l.startsWith('-A EDGENET')).length;
      if (saved < shape.ip6FilterRules) throw new Error(`after the full sync ip6tables-save shows ${saved} rules in our chains, the render has ${shape.ip6FilterRules}`);
    }
    const r = await syncOnce(deps, { trigger: 'periodic', full: true });
    resync.push(r.durationMs);
    resyncWrites.push(r.writes);
    const u = await syncOnce(deps, { trigger: 'file', full: false });
    unchangedMs.push(u.durationMs);
    unchangedWrites.push(u.writes);
    await fs.writeFile(gniFile, docPlusOne);
    plusOne = await syncOnce(deps, { trigger: 'file', full: false });
    await resetEmpty(runDir);
  }

  const rawMs = median(raw);
  const fullMs = median(full);
  const zero = (ws: number[]) => `${Math.max(...ws)} writes${ws.every((w) => w === 0) ? '' : ` (per run ${ws.join(', ')}: **missed**, target 0)`}`;
  const command = `node --import tsx bench/netd-sync.bench.ts${DUAL_STACK ? ' --dual-stack' : ''}${RUNS === 5 ? '' : ` --runs ${RUNS}`}`;
  const lines = [
    DUAL_STACK ? '# netd sync benchmark, dual stack (IPv4 + IPv6)' : '# netd sync benchmark',
    '',
    `Command: \`${command}\` (root; measured inside one scratch namespace, flushed between runs). Date: ${new Date().toISOString()}, host: ${os.cpus()[0]?.model ?? '?'} × ${os.cpus().length}, kernel ${os.release()}, iptables/ebtables nft backend.`,
    '',
    `Node: ${LOCAL} local instances (${PUBLIC} with a public IP), ${GROUPS} security groups, ${REMOTE} remote instances in the same groups.`,
    ...(DUAL_STACK
      ? [
          `Dual stack: the cluster's /64 ${PREFIX6}, every instance's EUI-64 address in it (${shape.instancesWithIpv6} local), per group 3 IPv4 rules and 3 IPv6 rules (a TCP range from an IPv6 /48, ICMPv6 echo request from 2001:db8::/32, and the group's source-group rule, which applies to both families); the CLC's IPv6 address ${CLC6} (metadata DNAT).`,
        ]
      : []),
    `Desired state: ${shape.ipsets} ipsets (${shape.setMembers} members${DUAL_STACK ? `; of them ${shape.inet6Sets} inet6 sets, ${shape.inet6Members} members` : ''}), ${shape.iptFilterRules} filter rules, ${shape.iptNatRules} nat rules, ${DUAL_STACK ? `${shape.ip6FilterRules} ip6tables filter rules, ${shape.ip6NatRules} ip6tables nat rules, ` : ''}${shape.ebtRules} ebtables rules, ${shape.publicIps} public /32s${DUAL_STACK ? `; bridge routes ${shape.bridgeRoutes.join(', ') || 'none'}; processes ${shape.processes.join(', ')}` : ''}.`,
    '',
    `Median of ${RUNS} runs, raw and netd runs alternating (ms). Load average during the run: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} (a shared machine: absolute figures are noisy, the ratio less so).`,
    `Per-run full/raw ratios: ${full.map((f, i) => (f / raw[i]!).toFixed(2)).join(', ')}.`,
    '',
    '| what | ms |',
    '|---|---|',
    `| raw ${rawTools.join(' + ')} of the same rules | ${rawMs.toFixed(0)} |`,
    `| netd full sync on an empty host (everything: file, parse, render, observe, plan, restores, addresses, ${DUAL_STACK ? 'bridge route, dhcpd, radvd' : 'dhcpd'}, status) | ${fullMs.toFixed(0)} |`,
    `| ... the ipset/iptables/${DUAL_STACK ? 'ip6tables/' : ''}ebtables transactions in it, summed (they run side by side) | ${median(fullNetfilter).toFixed(0)} |`,
    `| **ratio full sync / raw** | **${(fullMs / rawMs).toFixed(2)}×** (target ≤ 1.5×) |`,
    `| netd full (periodic) resync of a converged host | ${median(resync).toFixed(0)} ms, ${zero(resyncWrites)} |`,
    `| re-applying the unchanged document | ${median(unchangedMs).toFixed(0)} ms, ${zero(unchangedWrites)} |`,
    `| adding one instance | ${plusOne!.durationMs.toFixed(0)} ms, ${plusOne!.writes} writes |`,
    `| parse + render of the node's document (in process) | ${median(pr).toFixed(0)} |`,
    '',
    '## Reading',
    '',
    `- The raw baseline is only the ${rawProcesses} restore processes (${rawTools.join(', ')}); the netd full sync also reads and parses the document, renders (in process, the`,
    '  "parse + render" line), reads the kernel (the save processes and one `ip -j -d -batch` of addresses, routes and neighbours, started in parallel with the parse), attaches the',
    `  private interface, adds the public /32s (one \`ip -batch\`), ${DUAL_STACK ? 'routes the /64 on the bridge, sets the IPv6 sysctls, starts dhcpd and radvd' : 'starts dhcpd'} and writes status and event files. The`,
    '  table transactions run side by side (independent kernel tables).',
    '- The step list below shows the restores themselves cost about what the raw ones do; the gap is CPU in this process (parse +',
    '  render) and the extra process spawns, both of which grow with machine load. This machine is shared by several test suites',
    '  (load average above), so every figure here is inflated and the per-run ratio moves a lot; on a quiet machine the fixed costs',
    '  shrink relative to the restores.',
    '- The periodic resync and the re-apply of an unchanged document are checked in every run (the figure is the largest count of',
    '  writes over the runs); adding one instance writes the sets that gain the member, the instance\'s ebtables chains plus the',
    `  dispatch chains, and dhcpd's file (restart)${DUAL_STACK ? '; on dual stack also its inet6 sets and its IPv6 anti-spoofing' : ''}.`,
    '- Between runs the bench flushes the host with `netd flush` and checks that no ipset, iptables, ip6tables or ebtables object',
    '  of ours is left, so every full sync starts from an empty host.',
    '',
    'Steps of the full sync (last run):',
    '',
    ...fullOutcome!.steps.map((s) => `- ${s.ms.toFixed(1)} ms: ${s.description.slice(0, 160)}${s.description.length > 160 ? '…' : ''}`),
    '',
    'What adding one instance wrote (last run):',
    '',
    ...plusOne!.steps.map((s) => `- ${s.ms.toFixed(1)} ms: ${s.description}`),
    '',
  ];
  const out = lines.join('\n');
  process.stdout.write(out);
  await fs.writeFile(OUT, out);
}

const innerAt = process.argv.indexOf('--inner');
(innerAt >= 0 ? inner(process.argv[innerAt + 1]!) : process.argv.includes('--render-only') ? Promise.resolve(renderOnly()) : outer())
  .catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const ns of made) await exec.run(['ip', 'netns', 'del', ns]).catch(() => undefined);
  });
