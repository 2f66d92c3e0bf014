/**
 * netd in real network namespaces: what instances can and cannot do once the
 * REAL daemon has applied a document (DHCP, security groups, public IPs,
 * metadata, anti-spoofing). Root; the lab is built once for the file and torn
 * down in `after`, even on failure. Tests run in order and each publishes the
 * full document it needs.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isRoot, requireRoot } from '../helpers/root.ts';
import {
  CLIENT_IP,
  CTL_IP,
  DNS,
  DOMAIN,
  canConnect,
  canPing,
  createNetdLab,
  instance,
  settle,
  sg,
  tcpServer,
  waitFor,
  type NetdLab,
} from '../helpers/netd-lab.ts';
import type { LabInstance } from '../../src/lab/topology.ts';
import type { Process } from '../../src/shared/exec.ts';
import type { GniRule } from '../../src/shared/gni/model.ts';

const OWNER = '000000000001';
const PUB_A1 = '203.0.113.51';
const IP = { a1: '10.111.1.11', a2: '10.111.1.12', c1: '10.111.1.13', b1: '10.111.1.21' };
const MAC = { a1: 'd0:0d:00:00:01:11', a2: 'd0:0d:00:00:01:12', c1: 'd0:0d:00:00:01:13', b1: 'd0:0d:00:00:01:21', x1: 'd0:0d:00:00:01:99' };
const WEB_RULES: GniRule[] = [
  { protocol: 6, fromPort: 80, toPort: 80, cidr: '0.0.0.0/0' },
  { protocol: 1, icmpType: -1, icmpCode: -1, cidr: '0.0.0.0/0' },
];

let lab: NetdLab;
const vms: Record<string, LabInstance> = {};
const servers: Process[] = [];

function cloud(opts: { db?: GniRule[]; a1Public?: boolean; withC1?: boolean } = {}) {
  const withC1 = opts.withC1 ?? true;
  return {
    nodes: [
      { name: lab.node('n1').name, instances: ['i-000000a1', 'i-000000a2', ...(withC1 ? ['i-000000c1'] : [])] },
      { name: lab.node('n2').name, instances: ['i-000000b1'] },
    ],
    instances: [
      instance('i-000000a1', MAC.a1, IP.a1, ['sg-000000eb'], opts.a1Public === false ? undefined : PUB_A1),
      instance('i-000000a2', MAC.a2, IP.a2, ['sg-000000eb']),
      instance('i-000000b1', MAC.b1, IP.b1, ['sg-000000eb']),
      ...(withC1 ? [instance('i-000000c1', MAC.c1, IP.c1, ['sg-000000db'])] : []),
    ],
    groups: [sg('sg-000000eb', WEB_RULES), ...(withC1 ? [sg('sg-000000db', opts.db ?? [])] : [])],
  };
}

async function apply(opts: Parameters<typeof cloud>[0] = {}): Promise<string> {
  const doc = await lab.publish(cloud(opts));
  await lab.waitApplied(doc.version);
  return doc.version;
}

before(async () => {
  if (!isRoot()) return;
  lab = await createNetdLab();
  for (const n of lab.nodes) await lab.startNetd(n);
  await apply();
  vms.a1 = await lab.addInstance('n1', 'i-000000a1', MAC.a1);
  vms.a2 = await lab.addInstance('n1', 'i-000000a2', MAC.a2);
  vms.c1 = await lab.addInstance('n1', 'i-000000c1', MAC.c1);
  vms.b1 = await lab.addInstance('n2', 'i-000000b1', MAC.b1);
  // A resync puts hairpin on the new vn_ ports; the next poll is at most 1 s away.
  const logDir = lab.dir;
  for (const [name, vm] of Object.entries(vms)) servers.push(tcpServer(lab, vm.ns, [80, 5432, 7999, 8000, 8001, 8002, 8003], name, path.join(logDir, `${name}.peers`)));
  servers.push(tcpServer(lab, lab.topo.clientNs!, [9000], 'client', path.join(logDir, 'client.peers')));
  // The metadata target: the CLC's port 8773 in the control namespace.
  servers.push(
    lab.topo.netns.startIn(lab.topo.ctlNs!, [
      process.execPath,
      '-e',
      `require('node:http').createServer((q, s) => s.end('metadata:' + q.url)).listen(8773, '0.0.0.0')`,
    ]),
  );
});

after(async () => {
  for (const s of servers) s.kill('SIGKILL');
  await lab?.close();
});

function root(t: TestContext): boolean {
  return requireRoot(t, 'netd traffic integration');
}

test('an instance gets its IP, router, DNS and domain from dhcpd', async (t) => {
  if (!root(t)) return;
  for (const [name, vm] of Object.entries(vms)) {
    const lease = await lab.topo.dhcp(vm, { timeoutMs: 15_000 });
    assert.equal(lease.ip, IP[name as keyof typeof IP], name);
    assert.deepEqual(lease.routers, ['10.111.0.1']);
    assert.deepEqual(lease.dns, [DNS]);
    assert.equal(lease.domain, DOMAIN);
    assert.equal(lease.prefixLength, 16);
  }
});

test('same group: instances reach each other on one node and across nodes', async (t) => {
  if (!root(t)) return;
  assert.ok(await settle(() => canPing(lab, vms.a1!.ns, IP.a2), true), 'a1 → a2 (same node)');
  assert.ok(await settle(() => canPing(lab, vms.a1!.ns, IP.b1), true), 'a1 → b1 (across nodes)');
  assert.ok(await settle(() => canPing(lab, vms.b1!.ns, IP.a2), true), 'b1 → a2 (across nodes)');
  assert.ok(await settle(() => canConnect(lab, vms.b1!.ns, IP.a1, 5432), true), 'same group: every port');
});

test('different groups: blocked until a rule admits them by source group or by CIDR', async (t) => {
  if (!root(t)) return;
  await apply({ db: [] });
  assert.equal(await settle(() => canConnect(lab, vms.a1!.ns, IP.c1, 5432), false), false, 'no rule: blocked');
  assert.equal(await settle(() => canPing(lab, vms.a1!.ns, IP.c1), false), false);
  await apply({ db: [{ protocol: 6, fromPort: 5432, toPort: 5432, groupId: 'sg-000000eb', groupOwnerId: OWNER }] });
  assert.ok(await settle(() => canConnect(lab, vms.a1!.ns, IP.c1, 5432), true), 'admitted by source group');
  assert.ok(await settle(() => canConnect(lab, vms.b1!.ns, IP.c1, 5432), true), 'source group member on the other node');
  await apply({ db: [{ protocol: 6, fromPort: 5432, toPort: 5432, cidr: `${IP.b1}/32` }] });
  assert.ok(await settle(() => canConnect(lab, vms.b1!.ns, IP.c1, 5432), true), 'admitted by CIDR');
  assert.equal(await settle(() => canConnect(lab, vms.a1!.ns, IP.c1, 5432), false), false, 'outside the CIDR: blocked');
});

test('a tcp port range opens exactly those ports and its revoke closes them', async (t) => {
  if (!root(t)) return;
  await apply({ db: [{ protocol: 6, fromPort: 8000, toPort: 8002, cidr: '10.111.0.0/16' }] });
  for (const port of [8000, 8001, 8002]) assert.ok(await settle(() => canConnect(lab, vms.a1!.ns, IP.c1, port), true), `port ${port} open`);
  for (const port of [7999, 8003, 5432]) assert.equal(await settle(() => canConnect(lab, vms.a1!.ns, IP.c1, port), false), false, `port ${port} closed`);
  await apply({ db: [] });
  for (const port of [8000, 8002]) assert.equal(await settle(() => canConnect(lab, vms.a1!.ns, IP.c1, port), false), false, `port ${port} closed after revoke`);
});

test('icmp rules: echo admitted by type, refused without the rule', async (t) => {
  if (!root(t)) return;
  await apply({ db: [{ protocol: 1, icmpType: 8, icmpCode: -1, groupId: 'sg-000000eb', groupOwnerId: OWNER }] });
  assert.ok(await settle(() => canPing(lab, vms.a1!.ns, IP.c1), true), 'echo request admitted');
  assert.equal(await settle(() => canConnect(lab, vms.a1!.ns, IP.c1, 5432), false), false, 'tcp still closed');
  await apply({ db: [{ protocol: 1, icmpType: 0, icmpCode: -1, groupId: 'sg-000000eb', groupOwnerId: OWNER }] });
  assert.equal(await settle(() => canPing(lab, vms.a1!.ns, IP.c1), false), false, 'echo-reply rule does not admit echo requests');
});

test('public IP: reachable from the client, carried by outgoing traffic, not used between instances, reachable from itself', async (t) => {
  if (!root(t)) return;
  await apply();
  const n1 = lab.node('n1');
  const addrs = await lab.sh(n1.ns, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'pub0']);
  assert.match(addrs.out, new RegExp(`${PUB_A1.replace(/\./g, '\\.')}/32`));
  assert.ok(await settle(() => canConnect(lab, lab.topo.clientNs!, PUB_A1, 80), true), 'client → public IP');
  assert.equal(await settle(() => canConnect(lab, lab.topo.clientNs!, PUB_A1, 5432), false), false, 'only admitted ports');
  // Outgoing: the client sees the public IP as source.
  assert.ok(await settle(() => canConnect(lab, vms.a1!.ns, CLIENT_IP, 9000), true), 'a1 → client');
  const clientPeers = await waitFor('client log', async () => fs.readFile(path.join(lab.dir, 'client.peers'), 'utf8'), 3000);
  assert.match(clientPeers, new RegExp(`${PUB_A1.replace(/\./g, '\\.')} 9000`));
  assert.doesNotMatch(clientPeers, /10\.111\./);
  // Instance to instance: private source kept.
  await fs.rm(path.join(lab.dir, 'b1.peers'), { force: true });
  assert.ok(await settle(() => canConnect(lab, vms.a1!.ns, IP.b1, 80), true));
  assert.match(await waitFor('b1 log', async () => fs.readFile(path.join(lab.dir, 'b1.peers'), 'utf8'), 3000), new RegExp(`${IP.a1.replace(/\./g, '\\.')} 80`));
  // Hairpin: an instance reaches its own public IP.
  assert.ok(await settle(() => canConnect(lab, vms.a1!.ns, PUB_A1, 80), true), 'a1 → its own public IP');
});

test('after disassociation the public IP is unreachable and its /32 is gone', async (t) => {
  if (!root(t)) return;
  await apply({ a1Public: false });
  const addrs = await lab.sh(lab.node('n1').ns, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'pub0']);
  assert.doesNotMatch(addrs.out, new RegExp(PUB_A1.replace(/\./g, '\\.')));
  await lab.sh(lab.topo.clientNs!, ['ip', 'neigh', 'flush', 'all']);
  assert.equal(await settle(() => canConnect(lab, lab.topo.clientNs!, PUB_A1, 80), false), false);
  await apply();
});

test('metadata requests reach the target', async (t) => {
  if (!root(t)) return;
  const r = await waitFor('metadata answer', async () => {
    const res = await lab.sh(vms.a1!.ns, ['curl', '-s', '-m', '2', 'http://169.254.169.254/latest/meta-data/'], 5000);
    return res.code === 0 && res.out.includes('metadata:') ? res.out : undefined;
  }, 10_000);
  assert.match(r, /metadata:\/latest\/meta-data\//);
  void CTL_IP;
});

test('a spoofed MAC and a spoofed source IP are dropped', async (t) => {
  if (!root(t)) return;
  const ns = vms.a1!.ns;
  assert.ok(await settle(() => canPing(lab, ns, IP.a2), true), 'baseline');
  // Spoofed source IP (an address that is not the instance's).
  await lab.sh(ns, ['ip', 'addr', 'add', '10.111.1.99/16', 'dev', 'eth0']);
  try {
    const spoofed = await lab.sh(ns, ['ping', '-n', '-c', '2', '-W', '1', '-I', '10.111.1.99', IP.a2], 6000);
    assert.notEqual(spoofed.code, 0, 'spoofed source IP dropped');
  } finally {
    await lab.sh(ns, ['ip', 'addr', 'del', '10.111.1.99/16', 'dev', 'eth0']);
  }
  // Spoofed MAC.
  await lab.sh(ns, ['ip', 'link', 'set', 'dev', 'eth0', 'address', 'd0:0d:00:00:01:77']);
  try {
    assert.equal(await settle(() => canPing(lab, ns, IP.a2), false, 2), false, 'spoofed MAC dropped');
  } finally {
    await lab.sh(ns, ['ip', 'link', 'set', 'dev', 'eth0', 'address', MAC.a1]);
  }
  assert.ok(await settle(() => canPing(lab, ns, IP.a2), true), 'back to normal with the real MAC');
});

test('a spoofed ARP reply is dropped', async (t) => {
  if (!root(t)) return;
  // ARP from an instance must carry its own MAC and IP as sender. a1 sends ARP
  // requests to c1 claiming to be a2 (a classic cache-poisoning frame): the
  // kernel counts them on a1's `--arp-ip-src !` drop rule and c1 keeps a2's MAC.
  const victim = vms.c1!.ns;
  const n1 = lab.node('n1').ns;
  const dropped = async () => {
    const r = await lab.sh(n1, ['ebtables', '-t', 'nat', '-L', 'EDGENET-I-i-000000a1', '--Lc']);
    const line = r.out.split('\n').find((l) => l.includes('--arp-ip-src !'));
    return Number(/pcnt = (\d+)/.exec(line ?? '')?.[1] ?? NaN);
  };
  const before = await dropped();
  assert.ok(Number.isFinite(before), 'the anti-spoofing rule exists');
  await lab.sh(victim, ['ip', 'neigh', 'replace', IP.a2, 'lladdr', MAC.a2, 'dev', 'eth0', 'nud', 'stale']);
  // (Habets arping: -i interface, -S claimed source IP, -U unsolicited with source = target.)
  const req = await lab.sh(vms.a1!.ns, ['arping', '-c', '2', '-w', '2', '-i', 'eth0', '-S', IP.a2, IP.c1], 5000);
  const grat = await lab.sh(vms.a1!.ns, ['arping', '-U', '-c', '2', '-w', '2', '-i', 'eth0', IP.a2], 5000);
  assert.doesNotMatch(req.out + grat.out, /usage|invalid option|Weird/i, 'arping ran');
  const afterCount = await dropped();
  assert.ok(afterCount >= before + 2, `the spoofed frames were dropped at the instance port (${before} → ${afterCount}): ${req.out} ${grat.out}`);
  const neigh = await lab.sh(victim, ['ip', 'neigh', 'show', IP.a2, 'dev', 'eth0']);
  assert.match(neigh.out, new RegExp(MAC.a2), 'the victim still maps a2 to a2');
  assert.doesNotMatch(neigh.out, new RegExp(MAC.a1));
});

/** Sends UDP from `sport` to 255.255.255.255:68 in `fromNs` while `toNs` listens on 68; returns datagrams received. */
async function udpBroadcast(fromNs: string, toNs: string, sport: number): Promise<number> {
  const listener = lab.topo.netns.startIn(toNs, [
    process.execPath,
    '-e',
    `const s=require('node:dgram').createSocket({type:'udp4',reuseAddr:true});let n=0;s.on('message',()=>n++);s.bind(68,()=>{});setTimeout(()=>{process.stdout.write(String(n));require('node:fs').writeFileSync(process.argv[1],String(n));process.exit(0)},2500)`,
    path.join(lab.dir, `udp-${sport}.count`),
  ]);
  await new Promise((r) => setTimeout(r, 400));
  await lab.sh(fromNs, [
    process.execPath,
    '-e',
    `const s=require('node:dgram').createSocket('udp4');s.bind(${sport},()=>{s.setBroadcast(true);let i=0;const t=setInterval(()=>{s.send('OFFER',68,'255.255.255.255');if(++i===5){clearInterval(t);setTimeout(()=>s.close(),100)}},100)})`,
  ]);
  await listener.exited;
  return Number(await fs.readFile(path.join(lab.dir, `udp-${sport}.count`), 'utf8').catch(() => '0'));
}

test('a rogue DHCP server on an instance is silenced', async (t) => {
  if (!root(t)) return;
  assert.equal(await udpBroadcast(vms.a1!.ns, vms.a2!.ns, 67), 0, 'server-port broadcast from an instance dropped');
  assert.ok((await udpBroadcast(vms.a1!.ns, vms.a2!.ns, 1067)) > 0, 'control: the same broadcast from another port arrives');
});

test('IPv6 (router advertisements included) from an instance is dropped', async (t) => {
  if (!root(t)) return;
  // Every non-IPv4/ARP frame is dropped both ways: an all-nodes ICMPv6 echo gets no answer,
  // and so would an RA (same ethertype, same multicast destination).
  const own = await lab.sh(vms.a1!.ns, ['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'link']);
  const ownLl = /inet6 (fe80::[0-9a-f:]+)\//.exec(own.out)?.[1];
  assert.ok(ownLl, 'the instance has an IPv6 link-local address (so IPv6 is really being sent)');
  const peerLl = /inet6 (fe80::[0-9a-f:]+)\//.exec((await lab.sh(vms.a2!.ns, ['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'link'])).out)?.[1];
  assert.ok(peerLl);
  const r = await lab.sh(vms.a1!.ns, ['ping', '-6', '-n', '-c', '2', '-W', '1', 'ff02::1%eth0'], 6000);
  const responders = new Set([...r.out.matchAll(/bytes from (fe80::[0-9a-f:]+)/g)].map((m) => m[1]));
  responders.delete(ownLl);
  assert.deepEqual([...responders], [], `no neighbour answered: ${r.out}`);
  const direct = await lab.sh(vms.a1!.ns, ['ping', '-6', '-n', '-c', '1', '-W', '1', `${peerLl}%eth0`], 5000);
  assert.notEqual(direct.code, 0, 'unicast IPv6 to a neighbour is dropped too');
});

test('an instance whose rules do not exist yet has no network', async (t) => {
  if (!root(t)) return;
  const x1 = await lab.addInstance('n1', 'x1', MAC.x1);
  try {
    await lab.sh(x1.ns, ['ip', 'link', 'set', 'eth0', 'up']);
    await lab.sh(x1.ns, ['ip', 'addr', 'add', '10.111.1.99/16', 'dev', 'eth0']);
    assert.equal(await settle(() => canPing(lab, x1.ns, IP.a2), false, 2), false, 'unknown instance cannot reach a neighbour');
    assert.equal(await settle(() => canPing(lab, vms.a2!.ns, '10.111.1.99'), false, 2), false, 'nobody reaches it');
    await assert.rejects(lab.topo.dhcp(x1, { timeoutMs: 4000 }), /LAB_DHCP_FAILED|no DHCP lease/);
  } finally {
    await lab.topo.removeInstance(x1);
  }
});
