/**
 * The dual-stack lab topology on real namespaces (issue 14): IPv6 addressing
 * and routes of every infrastructure namespace, an instance getting its
 * EUI-64 address, default router and DNS from a router advertisement (a
 * hand-run radvd standing in for netd's, as the IPv4 test hand-runs dhcpd),
 * rdnssd writing only the instance's own resolv.conf, the IPv6 metadata DNAT
 * round trip that justifies the control namespace's on-link route for the
 * cluster /64, the client reaching an instance's global address through
 * either node (the ECMP route), and removal stopping rdnssd by its pid.
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
import { instanceDnsFiles } from '../../src/lab/instance-dns.ts';
import { formatIpv6, parseCidr6, slaacAddress } from '../../src/shared/ip.ts';
import { waitFor } from '../../src/shared/wait.ts';

const exec = createExec();
const prefix = `h6v${randomBytes(3).toString('hex')}`;
const VM_PREFIX = '2001:db8:10::/64';
const spec: TopologySpec = {
  prefix,
  nodes: [
    { name: 'n1', mgmtIp: '172.31.0.11', publicIp: '203.0.113.11', mgmtIpv6: 'fd00:172:31::11', publicIpv6: '2001:db8:ffff::11' },
    { name: 'n2', mgmtIp: '172.31.0.12', publicIp: '203.0.113.12', mgmtIpv6: 'fd00:172:31::12', publicIpv6: '2001:db8:ffff::12' },
  ],
  lan: '172.31.0.0/24',
  publicNet: '203.0.113.0/24',
  vmSubnet: '10.111.0.0/16',
  client: { ip: '203.0.113.2', ipv6: '2001:db8:ffff::2' },
  ctl: { ip: '172.31.0.2', ipv6: 'fd00:172:31::2' },
  ipv6: { lan: 'fd00:172:31::/64', publicNet: '2001:db8:ffff::/64', vmPrefix: VM_PREFIX },
};
const MAC = 'd0:0d:0a:0b:0c:61';
const GLOBAL = formatIpv6(slaacAddress(parseCidr6(VM_PREFIX)!, MAC)!);
let topo: Topology | undefined;
let vm: LabInstance | undefined;
const started: Process[] = [];

/** netd's part on a dual-stack node, by hand: forwarding, the /64 on-link on br0, RAs kept off priv0, radvd on br0 with RDNSS. */
async function routerNode(t: Topology, node: string, mac: string): Promise<void> {
  const ns = t.nodeNs(node);
  await t.netns.sysctl(ns, 'net.ipv6.conf.all.forwarding', '1');
  // Pinned before radvd starts: the RA's source must not change as ports join (platform notes).
  await t.netns.execIn(ns, ['ip', 'link', 'set', 'br0', 'address', mac]);
  await t.netns.addRoute(ns, { dst: VM_PREFIX, dev: 'br0' });
  // As netd does: RAs never leave through the physical port (else n2's reach n1's instances too).
  await t.netns.execIn(ns, ['ebtables', '-A', 'OUTPUT', '-o', '!', 'vn_+', '-p', 'IPv6', '--ip6-proto', 'ipv6-icmp', '--ip6-icmp-type', 'router-advertisement', '-j', 'DROP']);
  const dir = path.join(t.workDir, `radvd-${node}`);
  await fs.mkdir(dir, { recursive: true });
  const conf = path.join(dir, 'radvd.conf');
  await fs.writeFile(conf, `interface br0 {
  AdvSendAdvert on; MinRtrAdvInterval 3; MaxRtrAdvInterval 10;
  prefix ${VM_PREFIX} { AdvOnLink on; AdvAutonomous on; };
  RDNSS 2001:db8:10::53 { };
};
`);
  started.push(t.netns.startIn(ns, ['radvd', '-n', '-C', conf, '-p', path.join(dir, 'radvd.pid'), '-m', 'logfile', '-l', path.join(dir, 'radvd.log')]));
}

before(async () => {
  if (!isRoot()) return;
  topo = await buildTopology(spec, { exec });
});

after(async () => {
  for (const p of started) p.kill('SIGKILL');
  await teardownByPrefix(prefix, { exec }).catch(() => undefined);
});

test('dual-stack infrastructure: IPv6 addresses, the ctl on-link route, the client ECMP route, no way out', async (t) => {
  if (!requireRoot(t)) return;
  const lab = topo!;
  const addr = async (ns: string, dev: string) => (await lab.netns.execIn(ns, ['ip', '-6', 'addr', 'show', 'dev', dev, 'scope', 'global'])).stdout;
  assert.match(await addr(lab.nodeNs('n1'), 'br0'), /inet6 fd00:172:31::11\/64/);
  assert.match(await addr(lab.nodeNs('n2'), 'pub0'), /inet6 2001:db8:ffff::12\/64/);
  assert.match(await addr(lab.ctlNs!, 'eth0'), /inet6 fd00:172:31::2\/64/);
  assert.match(await addr(lab.clientNs!, 'eth0'), /inet6 2001:db8:ffff::2\/64/);
  // No DAD on infrastructure: the addresses are usable at once (never "tentative").
  assert.doesNotMatch(await addr(lab.nodeNs('n1'), 'br0'), /tentative/);
  const ctlRoute = await lab.netns.execIn(lab.ctlNs!, ['ip', '-6', 'route', 'show', VM_PREFIX]);
  assert.match(ctlRoute.stdout, /^2001:db8:10::\/64 dev eth0/m);
  const clRoute = await lab.netns.execIn(lab.clientNs!, ['ip', '-6', 'route', 'show', VM_PREFIX]);
  assert.match(clRoute.stdout, /nexthop via 2001:db8:ffff::11 dev eth0/);
  assert.match(clRoute.stdout, /nexthop via 2001:db8:ffff::12 dev eth0/);
  // The cluster /64 is netd's to route on the nodes, not the lab's.
  assert.equal((await lab.netns.execIn(lab.nodeNs('n1'), ['ip', '-6', 'route', 'show', VM_PREFIX])).stdout.trim(), '');
  for (const ns of await lab.netns.list(`${prefix}-`)) {
    assert.equal((await lab.netns.execIn(ns, ['ip', '-6', 'route', 'show', 'default'])).stdout.trim(), '', `${ns} must have no IPv6 default route`);
    const dad = await lab.netns.execIn(ns, ['sysctl', '-n', 'net.ipv6.conf.default.accept_dad', 'net.ipv6.conf.default.accept_ra']);
    assert.deepEqual(dad.stdout.trim().split('\n'), ['0', '0'], `${ns}: infrastructure sysctls`);
  }
  await lab.netns.execIn(lab.ctlNs!, ['ping', '-6', '-c1', '-W2', 'fd00:172:31::12']);
  await lab.netns.execIn(lab.clientNs!, ['ping', '-6', '-c1', '-W2', '2001:db8:ffff::11']);
  // The client is on the public L2 only.
  await assert.rejects(lab.netns.execIn(lab.clientNs!, ['ping', '-6', '-c1', '-W1', 'fd00:172:31::11']));
});

test('an instance gets its EUI-64 address, default router and DNS from the RA; rdnssd writes only its own resolv.conf', async (t) => {
  if (!requireRoot(t)) return;
  const lab = topo!;
  const hostResolvBefore = await fs.readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  await routerNode(lab, 'n1', '02:00:ac:1f:00:0b');
  await routerNode(lab, 'n2', '02:00:ac:1f:00:0c');
  vm = await lab.addInstance({ node: 'n1', id: 'i-0a0b0c61', mac: MAC });
  const tempaddr = await lab.netns.execIn(vm.ns, ['sysctl', '-n', 'net.ipv6.conf.eth0.use_tempaddr', 'net.ipv6.conf.eth0.addr_gen_mode']);
  assert.deepEqual(tempaddr.stdout.trim().split('\n'), ['0', '0']);
  const v6 = await lab.slaac(vm, { expected: GLOBAL, timeoutMs: 20_000 });
  assert.equal(v6.address, GLOBAL);
  assert.equal(v6.prefixLength, 64);
  assert.equal(v6.routers.length, 1);
  assert.match(v6.routers[0]!, /^fe80::/);
  // rdnssd may write its file a moment after the address settles: wait for it, bounded.
  const files = instanceDnsFiles(lab.workDir, vm);
  await waitFor(async () => (await fs.readFile(files.ipv6, 'utf8').catch(() => '')).includes('2001:db8:10::53'), { timeoutMs: 15_000, what: 'rdnssd to write the RDNSS server' });
  const resolv = await waitFor(async () => {
    const r = await lab.netns.execIn(vm!.ns, ['cat', '/etc/resolv.conf']);
    return r.stdout.includes('nameserver 2001:db8:10::53') ? r.stdout : undefined;
  }, { timeoutMs: 10_000, what: "the RDNSS server in the instance's resolv.conf" });
  assert.match(resolv, /nameserver 2001:db8:10::53/);
  // dhclient's IPv4 fragment joins through the same merge script (as its -sf script runs it).
  await fs.writeFile(files.ipv4, 'nameserver 10.111.0.1\n');
  await exec.run(['sh', files.merge]);
  const both = await lab.netns.execIn(vm.ns, ['cat', '/etc/resolv.conf']);
  assert.deepEqual(both.stdout.split('\n').filter((l) => l.startsWith('nameserver')), ['nameserver 10.111.0.1', 'nameserver 2001:db8:10::53']);
  assert.deepEqual(await fs.readdir(path.dirname(files.resolvConf)), ['resolv.conf'], 'nothing else in /etc/netns/<ns>/ for ip netns exec to bind');
  assert.equal(await fs.readFile('/etc/resolv.conf', 'utf8').catch(() => ''), hostResolvBefore, "the host's resolv.conf is untouched");
  // No privacy address next to the EUI-64 one.
  assert.deepEqual((await lab.ipv6Addresses(vm)).map((a) => a.address), [GLOBAL]);
});

test('a wrong expectation fails with LAB_SLAAC_FAILED naming what the instance has', async (t) => {
  if (!requireRoot(t)) return;
  await assert.rejects(topo!.slaac(vm!, { expected: '2001:db8:10::1', timeoutMs: 500 }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'LAB_SLAAC_FAILED');
    assert.ok(err.message.includes(GLOBAL), err.message);
    return true;
  });
});

test('IPv6 metadata DNAT round trip: instance → [fd00:ec2::254]:80 → [ctl]:8773 and back through the node bridge', async (t) => {
  if (!requireRoot(t)) return;
  const lab = topo!;
  const n1 = lab.nodeNs('n1');
  await lab.netns.sysctl(n1, 'net.bridge.bridge-nf-call-ip6tables', '1');
  await lab.netns.execIn(n1, ['ip6tables', '-t', 'nat', '-A', 'PREROUTING', '-d', 'fd00:ec2::254/128', '-p', 'tcp', '--dport', '80', '-j', 'DNAT', '--to-destination', '[fd00:172:31::2]:8773']);
  const server = `require('http').createServer((q, s) => s.end('from ' + q.socket.remoteAddress)).listen(8773, 'fd00:172:31::2')`;
  started.push(lab.netns.startIn(lab.ctlNs!, [process.execPath, '-e', server]));
  const body = await waitFor(async () => {
    const r = await lab.netns.execIn(vm!.ns, ['curl', '-g', '-s', '--max-time', '2', 'http://[fd00:ec2::254]/latest/meta-data/'], { okExitCodes: [0, 7, 28] });
    return r.stdout || undefined;
  }, { timeoutMs: 20_000, intervalMs: 100, what: 'the metadata answer over IPv6' });
  // The CLC sees the instance's global address (no SNAT in IPv6): what the metadata service looks up.
  assert.equal(body, `from ${GLOBAL}`);
});

test("the client reaches the instance's global address through either node (ECMP), and the instance answers", async (t) => {
  if (!requireRoot(t)) return;
  const lab = topo!;
  // Through each nexthop on its own, so both paths are proven, not whichever the hash picks.
  for (const via of ['2001:db8:ffff::11', '2001:db8:ffff::12']) {
    await lab.netns.execIn(lab.clientNs!, ['ip', '-6', 'route', 'replace', `${GLOBAL}/128`, 'via', via, 'dev', 'eth0']);
    await waitFor(async () => (await lab.netns.execIn(lab.clientNs!, ['ping', '-6', '-c1', '-W1', GLOBAL], { okExitCodes: [0, 1] })).exitCode === 0, {
      timeoutMs: 15_000, intervalMs: 100, what: `ping ${GLOBAL} via ${via}`,
    });
  }
  await lab.netns.execIn(lab.clientNs!, ['ip', '-6', 'route', 'del', `${GLOBAL}/128`]);
  await lab.netns.execIn(lab.clientNs!, ['ping', '-6', '-c1', '-W2', GLOBAL]);
});

test('removeInstance stops rdnssd by its pid and removes its files', async (t) => {
  if (!requireRoot(t)) return;
  const lab = topo!;
  const files = instanceDnsFiles(lab.workDir, vm!);
  const pid = Number((await fs.readFile(files.rdnssdPid, 'utf8')).trim());
  assert.ok(existsSync(`/proc/${pid}`), 'rdnssd runs');
  await lab.removeInstance(vm!);
  assert.equal(existsSync(`/proc/${pid}/cmdline`) && (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8')).includes('rdnssd'), false);
  assert.equal(existsSync(files.dir), false);
  assert.equal(await lab.netns.exists(vm!.ns), false);
});

test('dual-stack specs that do not hold together are refused before anything is created', () => {
  const base = { ...spec, prefix: 'h6bad' };
  assert.throws(() => openTopology({ ...base, ipv6: { ...spec.ipv6!, vmPrefix: '2001:db8:10::/56' } }, { exec }), { code: 'LAB_BAD_SPEC' });
  assert.throws(() => openTopology({ ...base, nodes: [{ ...spec.nodes[0]!, mgmtIpv6: '2001:db8:ffff::11' }] }, { exec }), { code: 'LAB_BAD_SPEC' });
  assert.throws(() => openTopology({ ...base, nodes: [{ name: 'n1', mgmtIp: '172.31.0.11', publicIp: '203.0.113.11' }] }, { exec }), { code: 'LAB_BAD_SPEC' });
  const { ipv6: _unused, ...v4only } = base;
  assert.throws(() => openTopology(v4only, { exec }), /no ipv6 networks/);
});
