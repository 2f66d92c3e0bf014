/**
 * `edgenet netd adopt` in real namespaces: node n1 of the netd lab is first
 * laid down the way a Eucalyptus 4.4 eucanetd leaves it — ipsets, filter/nat/raw
 * chains and hooks, ebtables anti-spoofing, a public /32 with its DNAT/SNAT,
 * and dhcpd started the way eucanetd runs it — with two running instances
 * that got their addresses from that dhcpd. Continuous pings (a1 → a2 on the
 * bridge, the public client → a1's public address) run across the switch;
 * afterwards nothing of eucanetd remains, netd's rules and dhcpd are in place,
 * and both flows still work. The measured traffic gap is reported (test
 * diagnostic, and ADOPT_RESULT_FILE for bench/adopt.bench.ts), never asserted.
 *
 * Every eucanetd artifact below names its source: ../shared/reference/eucalyptus-edge.md
 * §1.4 (c dhcpd, d filter, e ipsets, f nat, g public IPs, h ebtables), §1.1 and §6.3.
 * Root; the lab, the eucanetd root and every process are removed in `after`, even on failure.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isRoot, requireRoot } from '../helpers/root.ts';
import { CLIENT_IP, CTL_IP, canPing, createNetdLab, instance, settle, sg, waitFor, type LabNode, type NetdLab } from '../helpers/netd-lab.ts';
import { EDGENET_BIN } from '../../src/lab/daemons.ts';
import type { LabInstance } from '../../src/lab/topology.ts';
import type { Process } from '../../src/shared/exec.ts';
import type { GniRule } from '../../src/shared/gni/model.ts';

const PUB_A1 = '203.0.113.51';
const IP = { a1: '10.111.1.11', a2: '10.111.1.12' };
const MAC = { a1: 'd0:0d:00:00:01:11', a2: 'd0:0d:00:00:01:12' };
const ID = { a1: 'i-000000a1', a2: 'i-000000a2' };
const GROUP = 'sg-000000eb';
const GATEWAY = '10.111.0.1';
const RULES: GniRule[] = [
  { protocol: 6, fromPort: 80, toPort: 80, cidr: '0.0.0.0/0' },
  { protocol: 1, icmpType: -1, icmpCode: -1, cidr: '0.0.0.0/0' },
];

let lab: NetdLab;
let n1: LabNode;
let euca: string;
let eucaConf: string;
const vms: Record<string, LabInstance> = {};
const started: Process[] = [];
const pids: number[] = [];

/** eucanetd's files under EUCALYPTUS (§1.4 c: var/run/eucalyptus/net/euca-dhcp.*). */
function eucaFile(name: string): string {
  return path.join(euca, 'var/run/eucalyptus/net', name);
}

// §1.4 e (4.4): hash:net family inet hashsize 2048 maxelem 65536; EUCA_VERSION holds
// the version as an IPv4; EUCA_ALLPRIVATE = instance IPs + VM gateway; EUCA_NCPRIVATE =
// local instance IPs; one set per group = gateway + members' private and public IPs.
function eucanetdIpsets(): string {
  const set = (name: string, members: string[]) => [`create ${name} hash:net family inet hashsize 2048 maxelem 65536`, ...members.map((m) => `add ${name} ${m}`)];
  return [
    ...set('EUCA_VERSION', ['4.4.2.0']),
    ...set('EUCA_ALLPRIVATE', [IP.a1, IP.a2, GATEWAY]),
    ...set('EUCA_NCPRIVATE', [IP.a1, IP.a2]),
    ...set(GROUP, [GATEWAY, IP.a1, IP.a2, PUB_A1]),
    '',
  ].join('\n');
}

// §1.4 d (4.4 do_edge_update_sgs), f (do_edge_update_eips, metadata), and the raw
// counters chain 4.4 added (§1.4 f, i). Chain `sg-…` is the 4.4 group chain name.
function eucanetdIptables(): string {
  return [
    '*filter',
    ':EUCA_FILTER_FWD_PREUSERHOOK - [0:0]',
    ':EUCA_FILTER_FWD - [0:0]',
    ':EUCA_FILTER_FWD_POSTUSERHOOK - [0:0]',
    ':EUCA_FILTER_FWD_DROPPED - [0:0]',
    `:${GROUP} - [0:0]`,
    '-A FORWARD -j EUCA_FILTER_FWD_PREUSERHOOK',
    '-A FORWARD -j EUCA_FILTER_FWD',
    '-A FORWARD -j EUCA_FILTER_FWD_POSTUSERHOOK',
    '-A EUCA_FILTER_FWD -m conntrack --ctstate ESTABLISHED -j ACCEPT',
    '-A EUCA_FILTER_FWD -m physdev --physdev-in vn_i+ -m set ! --match-set EUCA_NCPRIVATE dst -j ACCEPT',
    `-A EUCA_FILTER_FWD -m set --match-set ${GROUP} dst -j ${GROUP}`,
    '-A EUCA_FILTER_FWD -j EUCA_FILTER_FWD_DROPPED',
    '-A EUCA_FILTER_FWD -m set --match-set EUCA_ALLPRIVATE dst -j DROP',
    `-A EUCA_FILTER_FWD_DROPPED -d ${IP.a1}/32 -m set --match-set EUCA_ALLPRIVATE src`,
    `-A EUCA_FILTER_FWD_DROPPED -d ${IP.a2}/32 -m set --match-set EUCA_ALLPRIVATE src`,
    `-A ${GROUP} -m set --match-set ${GROUP} src -j ACCEPT`,
    `-A ${GROUP} -p tcp -m tcp --dport 80 -j ACCEPT`,
    `-A ${GROUP} -p icmp -m icmp --icmp-type any -j ACCEPT`,
    'COMMIT',
    '*nat',
    ...['PRE', 'POST', 'OUT'].flatMap((c) => [`:EUCA_NAT_${c}_PREUSERHOOK - [0:0]`, `:EUCA_NAT_${c} - [0:0]`, `:EUCA_NAT_${c}_POSTUSERHOOK - [0:0]`]),
    ...[['PREROUTING', 'PRE'], ['POSTROUTING', 'POST'], ['OUTPUT', 'OUT']].flatMap(([b, c]) => [
      `-A ${b} -j EUCA_NAT_${c}_PREUSERHOOK`,
      `-A ${b} -j EUCA_NAT_${c}`,
      `-A ${b} -j EUCA_NAT_${c}_POSTUSERHOOK`,
    ]),
    '-A EUCA_NAT_PRE -s 10.111.0.0/16 -m set --match-set EUCA_ALLPRIVATE dst -j MARK --set-xmark 0x2a/0xffffffff',
    `-A EUCA_NAT_PRE -d ${PUB_A1}/32 -j DNAT --to-destination ${IP.a1}`,
    `-A EUCA_NAT_OUT -d ${PUB_A1}/32 -j DNAT --to-destination ${IP.a1}`,
    `-A EUCA_NAT_POST -s ${IP.a1}/32 -m mark ! --mark 0x2a/0x2a -j SNAT --to-source ${PUB_A1}`,
    `-A EUCA_NAT_PRE -d 169.254.169.254/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination ${CTL_IP}:8773`,
    'COMMIT',
    '*raw',
    ':EUCA_RAW_PRE - [0:0]',
    ':EUCA_COUNTERS_IN - [0:0]',
    ':EUCA_COUNTERS_OUT - [0:0]',
    '-A PREROUTING -j EUCA_RAW_PRE',
    '-A EUCA_RAW_PRE -j EUCA_COUNTERS_IN',
    '-A EUCA_RAW_PRE -j EUCA_COUNTERS_OUT',
    `-A EUCA_COUNTERS_IN -d ${IP.a1}/32`,
    `-A EUCA_COUNTERS_OUT -s ${IP.a1}/32`,
    'COMMIT',
    '',
  ].join('\n');
}

// §1.4 h: filter EUCA_EBT_FWD (empty), nat EUCA_EBT_NAT_PRE/POST with the
// clean-traffic translation per instance tap; 4.4's global fake-router arpreply
// on vn_i+, DHCP broadcast replies from the bridge MAC (EUCA-10278) and the final
// vn_i+ DROPs (EUCA-10233).
function eucanetdEbtables(brMac: string): string {
  const pre: string[] = [`-p ARP -i vn_i+ --arp-op Request --arp-ip-dst ${GATEWAY} -j arpreply --arpreply-mac ${brMac}`];
  const post: string[] = [`-p IPv4 -o vn_i+ -s ${brMac} -d Broadcast --ip-proto udp --ip-dport 67:68 -j ACCEPT`];
  for (const k of ['a1', 'a2'] as const) {
    const ifn = `vn_${ID[k]}`;
    const mac = MAC[k];
    const ip = IP[k];
    pre.push(
      `-i ${ifn} -s ! ${mac} -j DROP`,
      `-p IPv4 -i ${ifn} -s ${mac} --ip-proto udp --ip-dport 67:68 -j ACCEPT`,
      `-p IPv4 -i ${ifn} --ip-src ! ${ip} -j DROP`,
      `-p IPv4 -i ${ifn} -j ACCEPT`,
      `-p ARP -i ${ifn} --arp-mac-src ! ${mac} -j DROP`,
      `-p ARP -i ${ifn} --arp-ip-src ! ${ip} -j DROP`,
      `-p ARP -i ${ifn} --arp-op Request -j ACCEPT`,
      `-p ARP -i ${ifn} --arp-op Reply -j ACCEPT`,
      `-p ARP -i ${ifn} -j DROP`,
      `-p 0x835 -i ${ifn} -j ACCEPT`,
    );
    post.push(
      `-p IPv4 -o ${ifn} -d ! ${mac} --ip-proto udp --ip-dport 67:68 -j DROP`,
      `-p IPv4 -o ${ifn} -j ACCEPT`,
      `-p ARP -o ${ifn} --arp-op Reply --arp-mac-dst ! ${mac} -j DROP`,
      `-p ARP -o ${ifn} --arp-ip-dst ! ${ip} -j DROP`,
      `-p ARP -o ${ifn} --arp-op Request -j ACCEPT`,
      `-p ARP -o ${ifn} --arp-op Reply -j ACCEPT`,
      `-p ARP -o ${ifn} -j DROP`,
    );
  }
  pre.push('-i vn_i+ -j DROP');
  post.push('-o vn_i+ -j DROP');
  return [
    '*filter',
    ':EUCA_EBT_FWD ACCEPT',
    '-A FORWARD -j EUCA_EBT_FWD',
    'COMMIT',
    '*nat',
    ':EUCA_EBT_NAT_PRE ACCEPT',
    ':EUCA_EBT_NAT_POST ACCEPT',
    '-A PREROUTING -j EUCA_EBT_NAT_PRE',
    '-A POSTROUTING -j EUCA_EBT_NAT_POST',
    ...pre.map((r) => `-A EUCA_EBT_NAT_PRE ${r}`),
    ...post.map((r) => `-A EUCA_EBT_NAT_POST ${r}`),
    'COMMIT',
    '',
  ].join('\n');
}

// §1.4 c (4.4 generate_dhcpd_config): lease/pid file names inside the file
// (EUCA-12914), one shared-network euca, one host node-<ip> per local instance.
// The lab's br0 carries only the node's management address (172.31.0.0/24), so
// the file also declares that network: dhcpd listens only on declared networks.
function eucanetdDhcpdConf(): string {
  return [
    '# automatically generated config file for DHCP server',
    'default-lease-time 86400;',
    'max-lease-time 86400;',
    'ddns-update-style none;',
    `lease-file-name "${eucaFile('euca-dhcp.leases')}";`,
    `pid-file-name "${eucaFile('euca-dhcp.pid')}";`,
    '',
    'shared-network euca {',
    '  subnet 10.111.0.0 netmask 255.255.0.0 {',
    '    option subnet-mask 255.255.0.0;',
    '    option broadcast-address 10.111.255.255;',
    '    option domain-name "lab.internal";',
    '    option domain-name-servers 10.111.0.2;',
    `    option routers ${GATEWAY};`,
    '  }',
    '  subnet 172.31.0.0 netmask 255.255.255.0 { }',
    '}',
    ...(['a1', 'a2'] as const).map((k) => `host node-${IP[k]} { hardware ethernet ${MAC[k]}; fixed-address ${IP[k]}; }`),
    '',
  ].join('\n');
}

async function must(ns: string, argv: string[], input?: string): Promise<string> {
  if (input !== undefined) {
    const file = path.join(lab.dir, `in-${Math.random().toString(36).slice(2)}`);
    await fs.writeFile(file, input);
    const r = await lab.sh(ns, ['sh', '-c', `${argv.join(' ')} < ${file}`]);
    await fs.rm(file, { force: true });
    if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (${r.code}): ${r.out}`);
    return r.out;
  }
  const r = await lab.sh(ns, argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (${r.code}): ${r.out}`);
  return r.out;
}

async function pidFrom(file: string): Promise<number | undefined> {
  const n = Number.parseInt((await fs.readFile(file, 'utf8').catch(() => '')).trim(), 10);
  return Number.isInteger(n) && n > 1 ? n : undefined;
}

async function alive(pid: number): Promise<boolean> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat !== undefined && !/ Z /.test(stat.slice(stat.lastIndexOf(')')));
}

/** Everything eucanetd-named that the kernel still lists in n1. */
async function eucanetdLeft(): Promise<string[]> {
  const left: string[] = [];
  const named = /(EUCA_|EU_|\bsg-[0-9a-f]{8}\b)/;
  for (const tool of ['iptables-save', 'ebtables-save']) {
    for (const l of (await must(n1.ns, [tool])).split('\n')) if (named.test(l) && !l.includes('EDGENET')) left.push(`${tool}: ${l}`);
  }
  for (const l of (await must(n1.ns, ['ipset', 'list', '-n'])).split('\n')) if (named.test(l) && !l.includes('EDGENET')) left.push(`ipset: ${l}`);
  return left;
}

function adoptCli(...extra: string[]): Promise<{ code: number; out: string }> {
  return lab.sh(n1.ns, [process.execPath, EDGENET_BIN, 'netd', 'adopt', '--config', n1.confFile, '--eucalyptus-conf', eucaConf, ...extra], 120_000);
}

before(async () => {
  if (!isRoot()) return;
  lab = await createNetdLab();
  n1 = lab.node('n1');
  euca = path.join(lab.dir, 'euca');
  await fs.mkdir(path.join(euca, 'var/run/eucalyptus/net'), { recursive: true });
  await fs.mkdir(path.join(euca, 'etc/eucalyptus'), { recursive: true });
  eucaConf = path.join(euca, 'etc/eucalyptus/eucalyptus.conf');
  // §1.6: the keys eucanetd reads (EUCALYPTUS = install root).
  await fs.writeFile(eucaConf, [`EUCALYPTUS="${euca}"`, 'VNET_MODE="EDGE"', 'VNET_BRIDGE="br0"', 'VNET_PUBINTERFACE="pub0"', 'VNET_DHCPDAEMON="/usr/sbin/dhcpd"', ''].join('\n'));
  // The document eucanetd applied is the one netd will read (the NC writes the same file).
  await lab.publish({
    nodes: [
      { name: n1.name, instances: [ID.a1, ID.a2] },
      { name: lab.node('n2').name, instances: [] },
    ],
    instances: [instance(ID.a1, MAC.a1, IP.a1, [GROUP], PUB_A1), instance(ID.a2, MAC.a2, IP.a2, [GROUP])],
    groups: [sg(GROUP, RULES)],
  });
  vms.a1 = await lab.addInstance('n1', ID.a1, MAC.a1);
  vms.a2 = await lab.addInstance('n1', ID.a2, MAC.a2);

  // eucanetd's prerequisites (§1.1 4.4 pre-flight) and state.
  await must(n1.ns, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
  await must(n1.ns, ['sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=1']);
  const brMac = (await must(n1.ns, ['cat', '/sys/class/net/br0/address'])).trim();
  await must(n1.ns, ['ipset', 'restore'], eucanetdIpsets());
  await must(n1.ns, ['iptables-restore', '--noflush'], eucanetdIptables());
  await must(n1.ns, ['ebtables-restore', '--noflush'], eucanetdEbtables(brMac));
  // §1.4 g: `ip addr add <pub>/32 dev <VNET_PUBINTERFACE>` (no label).
  await must(n1.ns, ['ip', 'addr', 'add', `${PUB_A1}/32`, 'dev', 'pub0']);
  // §1.4 c (4.4): the unit eucanetd-dhcpd@br0 runs `dhcpd -f -cf …/euca-dhcp.conf br0`.
  await fs.writeFile(eucaFile('euca-dhcp.conf'), eucanetdDhcpdConf());
  await fs.writeFile(eucaFile('euca-dhcp.leases'), '');
  started.push(lab.topo.netns.startIn(n1.ns, ['/usr/sbin/dhcpd', '-f', '-cf', eucaFile('euca-dhcp.conf'), 'br0'], { logFile: eucaFile('euca-dhcp.trace') }));
  const dhcpdPid = await waitFor('eucanetd dhcpd pid file', () => pidFrom(eucaFile('euca-dhcp.pid')));
  pids.push(dhcpdPid);
  for (const k of ['a1', 'a2'] as const) {
    const lease = await lab.topo.dhcp(vms[k]!, { timeoutMs: 15_000 });
    assert.equal(lease.ip, IP[k], `${k} leased its address from eucanetd's dhcpd`);
  }
});

after(async () => {
  for (const p of started) p.kill('SIGKILL');
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await lab?.close();
});

function root(t: TestContext): boolean {
  return requireRoot(t, 'netd adopt integration');
}

test('the eucanetd-shaped node works before adopt (the state under test is real)', async (t) => {
  if (!root(t)) return;
  assert.ok(await settle(() => canPing(lab, vms.a1!.ns, IP.a2), true), 'a1 → a2');
  assert.ok(await settle(() => canPing(lab, lab.topo.clientNs!, PUB_A1), true), 'client → public address of a1');
  assert.ok((await eucanetdLeft()).length > 20, 'eucanetd chains, rules and sets present');
});

test('a running eucanetd makes adopt refuse and change nothing', async (t) => {
  if (!root(t)) return;
  // §1.1: eucanetd writes var/run/eucalyptus/eucanetd.pid; a process whose argv[0] is …/eucanetd.
  const bin = path.join(euca, 'usr/sbin/eucanetd');
  await fs.mkdir(path.dirname(bin), { recursive: true });
  await fs.copyFile('/bin/sleep', bin);
  const fake = lab.topo.netns.startIn(n1.ns, [bin, '60']);
  started.push(fake);
  await fs.writeFile(path.join(euca, 'var/run/eucalyptus/eucanetd.pid'), `${fake.pid}\n`);
  await waitFor('fake eucanetd running', async () => (await fs.readFile(`/proc/${fake.pid}/cmdline`, 'utf8').catch(() => '')).startsWith(bin));
  const before = await eucanetdLeft();
  try {
    const r = await adoptCli('--json');
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /ADOPT_EUCANETD_RUNNING/);
    const dry = await adoptCli('--dry-run', '--json');
    assert.equal(dry.code, 1, 'a dry run says adopt would refuse');
    assert.equal((JSON.parse(dry.out) as { refusal?: { code: string } }).refusal?.code, 'ADOPT_EUCANETD_RUNNING');
    assert.deepEqual(await eucanetdLeft(), before);
  } finally {
    fake.kill('SIGKILL');
    await fake.exited;
    await fs.rm(path.join(euca, 'var/run/eucalyptus/eucanetd.pid'), { force: true });
  }
});

test('--dry-run lists what eucanetd left and changes nothing', async (t) => {
  if (!root(t)) return;
  const before = await eucanetdLeft();
  const r = await adoptCli('--dry-run', '--json');
  assert.equal(r.code, 0, r.out);
  const report = JSON.parse(r.out) as {
    eucanetd: { iptables: Record<string, { chains: string[] }>; ebtables: Record<string, { chains: string[] }>; ipsets: string[]; publicAddresses: string[]; dhcpd: { pid: number } | null };
    steps: string[];
  };
  assert.deepEqual(report.eucanetd.iptables.raw?.chains, ['EUCA_COUNTERS_IN', 'EUCA_COUNTERS_OUT', 'EUCA_RAW_PRE']);
  assert.ok(report.eucanetd.iptables.filter?.chains.includes(GROUP));
  assert.deepEqual(report.eucanetd.ebtables.nat?.chains, ['EUCA_EBT_NAT_POST', 'EUCA_EBT_NAT_PRE']);
  assert.deepEqual(report.eucanetd.ipsets, ['EUCA_ALLPRIVATE', 'EUCA_NCPRIVATE', 'EUCA_VERSION', GROUP]);
  assert.deepEqual(report.eucanetd.publicAddresses, [PUB_A1]);
  assert.equal(report.eucanetd.dhcpd?.pid, pids[0]);
  assert.ok(report.steps.some((s) => /iptables filter: .*delete .*EUCA_FILTER_FWD/.test(s)), report.steps.join('\n'));
  assert.ok(report.steps.includes(`eucanetd dhcpd stop (pid ${pids[0]})`));
  assert.deepEqual(await eucanetdLeft(), before);
});

interface PingRun {
  readonly sent: number;
  readonly received: number;
  /** Longest time between two consecutive replies overlapping the adopt run (ms). */
  readonly gapMs: number;
  /** The same outside the adopt run: the machine's own jitter at this load (ms). */
  readonly baselineGapMs: number;
}

/** `ping -D` output → replies' timestamps; the summary line → sent/received. `window`: adopt's start and end (epoch ms). */
function parsePing(text: string, window: { from: number; to: number }): PingRun {
  const times = [...text.matchAll(/^\[(\d+\.\d+)\] \d+ bytes from/gm)].map((m) => Number(m[1]) * 1000);
  let gapMs = 0;
  let baselineGapMs = 0;
  for (let i = 1; i < times.length; i++) {
    const [a, b] = [times[i - 1]!, times[i]!];
    if (b >= window.from && a <= window.to) gapMs = Math.max(gapMs, b - a);
    else baselineGapMs = Math.max(baselineGapMs, b - a);
  }
  const summary = /(\d+) packets transmitted, (\d+) received/.exec(text);
  return { sent: Number(summary?.[1] ?? 0), received: Number(summary?.[2] ?? times.length), gapMs: Math.round(gapMs), baselineGapMs: Math.round(baselineGapMs) };
}

test('adopt takes the node over while instances keep talking', async (t) => {
  if (!root(t)) return;
  const eucaDhcpd = pids[0]!;
  // 100 probes a second per flow; line-buffered so progress is visible while they run.
  const flows = [
    { name: 'a1 → a2 (bridge)', ns: vms.a1!.ns, target: IP.a2, log: path.join(lab.dir, 'ping-a1-a2.log') },
    { name: `client ${CLIENT_IP} → ${PUB_A1} (DNAT)`, ns: lab.topo.clientNs!, target: PUB_A1, log: path.join(lab.dir, 'ping-client-pub.log') },
  ];
  const pings = flows.map((f) => {
    const p = lab.topo.netns.startIn(f.ns, ['stdbuf', '-oL', 'ping', '-D', '-n', '-i', '0.01', '-W', '1', f.target], { logFile: f.log });
    started.push(p);
    return p;
  });
  const replies = async (f: (typeof flows)[number]) => ((await fs.readFile(f.log, 'utf8').catch(() => '')).match(/bytes from/g) ?? []).length;
  // Traffic flows before the switch (measured: 100 replies on every flow) ...
  for (const f of flows) await waitFor(`${f.name} flowing`, async () => (await replies(f)) >= 100, 20_000, 50);
  const from = Date.now();
  const r = await adoptCli('--json');
  const to = Date.now();
  assert.equal(r.code, 0, r.out);
  const report = JSON.parse(r.out) as { applied: { description: string; ms: number }[]; sync: { result: string; writes: number } };
  // ... and after it (another 100 replies on every flow past the count at the end of adopt).
  const at = await Promise.all(flows.map(replies));
  for (const [i, f] of flows.entries()) await waitFor(`${f.name} flowing after adopt`, async () => (await replies(f)) >= at[i]! + 100, 20_000, 50);
  for (const p of pings) p.kill('SIGINT');
  await Promise.all(pings.map((p) => p.exited));
  const runs = await Promise.all(flows.map(async (f) => ({ flow: f.name, ...parsePing(await fs.readFile(f.log, 'utf8'), { from, to }) })));

  // The sync after the switch found nothing left to do.
  assert.deepEqual(report.sync, { result: 'ok', writes: 0 });
  // Nothing of eucanetd is left, and its dhcpd is gone.
  assert.deepEqual(await eucanetdLeft(), []);
  assert.equal(await alive(eucaDhcpd), false, "eucanetd's dhcpd stopped");
  // netd's rules, public address and dhcpd are in place.
  const filter = await must(n1.ns, ['iptables-save', '-t', 'filter']);
  assert.match(filter, /^-A FORWARD .*-j EDGENET-FWD$/m);
  const nat = await must(n1.ns, ['iptables-save', '-t', 'nat']);
  assert.match(nat, new RegExp(`-d ${PUB_A1.replace(/\./g, '\\.')}/32 .*-j DNAT --to-destination ${IP.a1.replace(/\./g, '\\.')}`));
  assert.match(await must(n1.ns, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'pub0']), new RegExp(`inet ${PUB_A1.replace(/\./g, '\\.')}/32`));
  const ours = await waitFor("netd's dhcpd", () => lab.dhcpdPid(n1));
  assert.ok(await alive(ours));
  // Instances still reach each other and the public address; a fresh lease comes from netd's dhcpd.
  assert.ok(await settle(() => canPing(lab, vms.a2!.ns, IP.a1), true), 'a2 → a1 after adopt');
  assert.ok(await settle(() => canPing(lab, lab.topo.clientNs!, PUB_A1), true), 'client → public address after adopt');
  assert.equal((await lab.topo.dhcp(vms.a2!, { timeoutMs: 15_000 })).ip, IP.a2);
  for (const run of runs) assert.ok(run.received > 200, `${run.flow}: probes answered (${run.received})`);

  const figures = {
    at: new Date().toISOString(),
    load: (await fs.readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' '),
    adoptMs: to - from,
    adoptSteps: report.applied,
    flows: runs.map((x) => ({ flow: x.flow, sent: x.sent, received: x.received, lost: x.sent - x.received, gapMs: x.gapMs, baselineGapMs: x.baselineGapMs })),
  };
  t.diagnostic(
    `adopt traffic gap (adopt ran ${figures.adoptMs} ms, load ${figures.load}): ${figures.flows.map((f) => `${f.flow}: lost ${f.lost}/${f.sent}, longest gap ${f.gapMs} ms during adopt (${f.baselineGapMs} ms outside it)`).join('; ')}`,
  );
  if (process.env.ADOPT_RESULT_FILE) await fs.writeFile(process.env.ADOPT_RESULT_FILE, `${JSON.stringify(figures, null, 2)}\n`);
});
