/**
 * The lab topology on real namespaces: L2/L3 reachability, an instance
 * namespace getting its lease from a real dhcpd through our dhclient script
 * (without touching host files), the metadata DNAT round trip that justifies
 * the control namespace's on-link VM route, and teardown leaving nothing.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs, existsSync } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { requireRoot, isRoot } from '../helpers/root.ts';
import { createExec } from '../../src/shared/exec.ts';
import type { Process } from '../../src/shared/exec.ts';
import { buildTopology, openTopology, teardownByPrefix } from '../../src/lab/topology.ts';
import type { Topology, TopologySpec, LabInstance } from '../../src/lab/topology.ts';
import { labNames } from '../../src/lab/names.ts';

const exec = createExec();
const prefix = `h7t${randomBytes(3).toString('hex')}`;
const spec: TopologySpec = {
  prefix,
  nodes: [
    { name: 'n1', mgmtIp: '172.31.0.11', publicIp: '203.0.113.11' },
    { name: 'n2', mgmtIp: '172.31.0.12', publicIp: '203.0.113.12' },
  ],
  lan: '172.31.0.0/24',
  publicNet: '203.0.113.0/24',
  vmSubnet: '10.111.0.0/16',
  client: { ip: '203.0.113.2' },
  ctl: { ip: '172.31.0.2' },
};
let topo: Topology | undefined;
const started: Process[] = [];

function dhcpdConf(hosts: readonly { mac: string; ip: string }[]): string {
  // br0 only has its management address: a shared-network with the lan subnet makes dhcpd
  // listen on br0 and hand out the VM subnet's fixed addresses there.
  return `default-lease-time 600;
max-lease-time 600;
ddns-update-style none;
authoritative;
shared-network lab {
  subnet 172.31.0.0 netmask 255.255.255.0 { }
  subnet 10.111.0.0 netmask 255.255.0.0 {
    option subnet-mask 255.255.0.0;
    option routers 10.111.0.1;
    option domain-name-servers 10.111.0.1;
    option domain-name "lab.internal";
  }
}
${hosts.map((h, i) => `host vm${i} { hardware ethernet ${h.mac}; fixed-address ${h.ip}; }`).join('\n')}
`;
}

async function startDhcpd(t: Topology, node: string, hosts: readonly { mac: string; ip: string }[]): Promise<void> {
  const dir = path.join(t.workDir, `dhcpd-${node}`);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'dhcpd.conf'), dhcpdConf(hosts));
  await fs.writeFile(path.join(dir, 'dhcpd.leases'), '');
  const p = t.netns.startIn(t.nodeNs(node), ['dhcpd', '-f', '-4', '-q', '-cf', path.join(dir, 'dhcpd.conf'), '-lf', path.join(dir, 'dhcpd.leases'), '-pf', path.join(dir, 'dhcpd.pid'), 'br0'], {
    logFile: path.join(dir, 'dhcpd.log'),
  });
  started.push(p);
}

/** Fake router as netd lays it down: ARP for the gateway from instance ports answered with br0's MAC. */
async function fakeRouter(t: Topology, node: string): Promise<void> {
  const ns = t.nodeNs(node);
  const link = await t.netns.execIn(ns, ['cat', '/sys/class/net/br0/address']);
  await t.netns.execIn(ns, ['ebtables', '-t', 'nat', '-A', 'PREROUTING', '-i', 'vn_+', '-p', 'ARP', '--arp-op', 'Request', '--arp-ip-dst', '10.111.0.1', '-j', 'arpreply', '--arpreply-mac', link.stdout.trim()]);
  await t.netns.sysctl(ns, 'net.ipv4.ip_forward', '1');
}

before(async () => {
  if (!isRoot()) return;
  topo = await buildTopology(spec, { exec });
});

after(async () => {
  for (const p of started) p.kill('SIGKILL');
  await teardownByPrefix(prefix, { exec }).catch(() => undefined);
});

test('every namespace exists and the L2 segments connect nodes, control and client', async (t) => {
  if (!requireRoot(t)) return;
  const lab = topo!;
  const names = await lab.netns.list(`${prefix}-`);
  assert.deepEqual(names.sort(), [`${prefix}-cl`, `${prefix}-ctl`, `${prefix}-lan`, `${prefix}-n1`, `${prefix}-n2`].sort());
  await lab.netns.execIn(lab.nodeNs('n1'), ['ping', '-c1', '-W2', '172.31.0.12']);
  await lab.netns.execIn(lab.ctlNs!, ['ping', '-c1', '-W2', '172.31.0.11']);
  await lab.netns.execIn(lab.clientNs!, ['ping', '-c1', '-W2', '203.0.113.12']);
  // The client is on the public L2 only: the management network is unreachable from it.
  await assert.rejects(lab.netns.execIn(lab.clientNs!, ['ping', '-c1', '-W1', '172.31.0.11']));
  // No route out of the lab anywhere: no default route in any infrastructure namespace.
  for (const ns of names) {
    const routes = await lab.netns.execIn(ns, ['ip', '-4', 'route', 'show', 'default']);
    assert.equal(routes.stdout.trim(), '', `${ns} must have no default route`);
  }
  const routes = await lab.netns.execIn(lab.nodeNs('n1'), ['ip', '-4', 'route', 'show', '10.111.0.0/16']);
  assert.match(routes.stdout, /dev br0/);
});

test('an instance gets its lease from dhcpd and its resolv.conf only inside its namespace', async (t) => {
  if (!requireRoot(t)) return;
  const lab = topo!;
  const hostResolvBefore = await fs.readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  const etcBefore = (await fs.readdir('/etc')).filter((f) => f.includes('dhclient-new'));
  await startDhcpd(lab, 'n1', [{ mac: 'd0:0d:0a:0b:0c:01', ip: '10.111.0.5' }]);
  const vm = await lab.addInstance({ node: 'n1', id: 'i-0a0b0c01', mac: 'd0:0d:0a:0b:0c:01' });
  assert.equal(vm.hostIf, 'vn_i-0a0b0c01');
  const bridged = await lab.netns.execIn(vm.nodeNs, ['bridge', '-d', 'link', 'show', 'dev', vm.hostIf]);
  assert.match(bridged.stdout, /master br0/);
  assert.match(bridged.stdout, /hairpin on/);
  const mac = await lab.netns.execIn(vm.ns, ['cat', '/sys/class/net/eth0/address']);
  assert.equal(mac.stdout.trim(), 'd0:0d:0a:0b:0c:01');

  const lease = await lab.dhcp(vm, { timeoutMs: 20_000 });
  assert.equal(lease.ip, '10.111.0.5');
  assert.equal(lease.prefixLength, 16);
  assert.deepEqual(lease.routers, ['10.111.0.1']);
  assert.deepEqual(lease.dns, ['10.111.0.1']);
  assert.equal(lease.domain, 'lab.internal');
  const addr = await lab.netns.execIn(vm.ns, ['ip', '-4', 'addr', 'show', 'dev', 'eth0']);
  assert.match(addr.stdout, /inet 10\.111\.0\.5\/16/);
  const resolv = await lab.netns.execIn(vm.ns, ['cat', '/etc/resolv.conf']);
  assert.match(resolv.stdout, /nameserver 10\.111\.0\.1/);
  assert.match(resolv.stdout, /search lab\.internal/);
  // Host files untouched.
  assert.equal(await fs.readFile('/etc/resolv.conf', 'utf8').catch(() => ''), hostResolvBefore);
  assert.deepEqual((await fs.readdir('/etc')).filter((f) => f.includes('dhclient-new')), etcBefore);
});

test('metadata DNAT round trip: instance → 169.254.169.254:80 → ctl:8773 and back through the node bridge', async (t) => {
  if (!requireRoot(t)) return;
  const lab = topo!;
  const vm: LabInstance = lab.instanceRef({ node: 'n1', id: 'i-0a0b0c01', mac: 'd0:0d:0a:0b:0c:01' });
  await fakeRouter(lab, 'n1');
  // The node reaches the instance on its private address over br0 (on-link route; the reply
  // goes to the instance's gateway, answered by the fake router).
  await lab.netns.execIn(lab.nodeNs('n1'), ['ping', '-c1', '-W2', '10.111.0.5']);
  await lab.netns.execIn(lab.nodeNs('n1'), [
    'iptables', '-t', 'nat', '-A', 'PREROUTING', '-d', '169.254.169.254/32', '-p', 'tcp', '--dport', '80', '-j', 'DNAT', '--to-destination', '172.31.0.2:8773',
  ]);
  const server = `require('http').createServer((q, s) => s.end('from ' + q.socket.remoteAddress)).listen(8773, '172.31.0.2')`;
  started.push(lab.netns.startIn(lab.ctlNs!, [process.execPath, '-e', server]));
  let body = '';
  for (let i = 0; i < 50 && !body; i++) {
    const r = await lab.netns.execIn(vm.ns, ['curl', '-s', '--max-time', '2', 'http://169.254.169.254/latest/meta-data/'], { okExitCodes: [0, 7, 28] });
    body = r.stdout;
    if (!body) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // The CLC sees the instance's private address (what the metadata service looks up).
  assert.equal(body, 'from 10.111.0.5');
});

test('removeInstance deletes the namespace and its vn_ port; teardownByPrefix works from a fresh process view', async (t) => {
  if (!requireRoot(t)) return;
  const lab = topo!;
  await lab.removeInstance('i-0a0b0c01');
  assert.equal(await lab.netns.exists(`${prefix}-i-0a0b0c01`), false);
  const links = await lab.netns.execIn(lab.nodeNs('n1'), ['ip', '-o', 'link']);
  assert.doesNotMatch(links.stdout, /vn_i-0a0b0c01/);
  assert.equal(existsSync(labNames.etcNetnsDir(`${prefix}-i-0a0b0c01`)), false);

  // A second instance with a running process, then teardown as if after a crash.
  const vm = await lab.addInstance({ node: 'n2', id: 'i-0a0b0c02', mac: 'd0:0d:0a:0b:0c:02' });
  started.push(lab.netns.startIn(vm.ns, ['sleep', '300']));
  // `ip netns exec` enters the namespace a moment after the spawn: wait (bounded) until it has.
  for (let i = 0; i < 100 && (await lab.netns.pids(vm.ns)).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  await fs.mkdir(labNames.etcNetnsDir(vm.ns), { recursive: true });
  const fresh = openTopology(spec, { exec });
  const report = await teardownByPrefix(fresh.prefix, { exec });
  assert.ok(report.namespaces.includes(vm.ns));
  assert.ok(report.killed >= 1);
  assert.deepEqual(await lab.netns.list(`${prefix}-`), []);
  assert.equal(existsSync(labNames.etcNetnsDir(vm.ns)), false);
  assert.equal(existsSync(lab.workDir), false);
  // Idempotent.
  await teardownByPrefix(prefix, { exec });
});

test('specs that would break the naming invariants are refused before anything is created', async () => {
  const base = { ...spec, prefix: 'h7bad' };
  assert.throws(() => openTopology({ ...base, prefix: 'has-dash' }, { exec }), { code: 'LAB_BAD_PREFIX' });
  assert.throws(() => openTopology({ ...base, nodes: [{ name: 'ctl', mgmtIp: '172.31.0.11', publicIp: '203.0.113.11' }] }, { exec }), { code: 'LAB_BAD_NODE' });
  assert.throws(() => openTopology({ ...base, nodes: [{ name: 'n1', mgmtIp: '10.0.0.1', publicIp: '203.0.113.11' }] }, { exec }), { code: 'LAB_BAD_SPEC' });
  assert.throws(() => openTopology(base, { exec }).instanceRef({ node: 'n1', id: 'i-0123456789abc', mac: 'd0:0d:00:00:00:01' }), { code: 'LAB_BAD_INSTANCE' });
});
