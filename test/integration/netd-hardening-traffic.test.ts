/**
 * Issue 11's "Done when" on real packets (root, the netd lab: two nodes, the
 * REAL daemon, real dhcpd and dhclient):
 * - an ICMP rule for one type admits only that type (group chain's
 *   `--icmp-type T`);
 * - broadcast (255.255.255.255, the subnet broadcast) and multicast (224.0.0.1)
 *   from an instance reach no instance of another group on either node, while
 *   same-group instances and those a group rule admits still receive
 *   (<P>-FWD's per-port `--physdev-out vn_<id>` jumps into the receiver's group
 *   chains, render/instance-guard.ts);
 * - DHCP and ARP keep working;
 * - an instance reaches no control-plane port (NC, CC, CLC API, metrics) on its
 *   own node (<P>-IN) or another host (<P>-FWD, dst in <P>-HOSTS), but reaches
 *   metadata through 169.254.169.254 (exempt by `! --ctorigdst`).
 * Lab: n1 runs a1, a2 (sg-a) and c1 (sg-c); n2 runs b1 (sg-a) and d1 (sg-c).
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { isRoot, requireRoot } from '../helpers/root.ts';
import { CTL_IP, canConnect, createNetdLab, instance, settle, sg, tcpServer, waitFor, type NetdLab } from '../helpers/netd-lab.ts';
import type { LabInstance } from '../../src/lab/topology.ts';
import type { Process } from '../../src/shared/exec.ts';
import type { GniRule } from '../../src/shared/gni/model.ts';

const OWNER = '000000000001';
const SG_A = 'sg-0000000a';
const SG_C = 'sg-0000000c';
const IP = { a1: '10.111.1.11', a2: '10.111.1.12', c1: '10.111.1.13', b1: '10.111.1.21', d1: '10.111.1.22' };
const MAC = { a1: 'd0:0d:00:00:02:11', a2: 'd0:0d:00:00:02:12', c1: 'd0:0d:00:00:02:13', b1: 'd0:0d:00:00:02:21', d1: 'd0:0d:00:00:02:22' };
const ID = { a1: 'i-000002a1', a2: 'i-000002a2', c1: 'i-000002c1', b1: 'i-000002b1', d1: 'i-000002d1' };
type Vm = keyof typeof IP;
const SUBNET_BROADCAST = '10.111.255.255';
/** UDP ports: BCAST_OPEN is admitted into sg-a from sg-c by a rule, BCAST_SHUT by nothing. */
const BCAST_OPEN = 5001;
const BCAST_SHUT = 5000;
/** Control-plane ports served on the hosts (CLC API, CC, NC, NC metrics) and one that is not. */
const CONTROL_PORTS = [8770, 8774, 8775, 9775];
const OPEN_PORT = 9000;

let lab: NetdLab;
const vms: Partial<Record<Vm, LabInstance>> = {};
const servers: Process[] = [];

function cloud(aRules: GniRule[]) {
  return {
    nodes: [
      { name: lab.node('n1').name, instances: [ID.a1, ID.a2, ID.c1] },
      { name: lab.node('n2').name, instances: [ID.b1, ID.d1] },
    ],
    instances: (Object.keys(IP) as Vm[]).map((v) => instance(ID[v], MAC[v], IP[v], [v.startsWith('a') || v === 'b1' ? SG_A : SG_C])),
    groups: [sg(SG_A, aRules), sg(SG_C, [])],
  };
}

const FROM_C_UDP_OPEN: GniRule = { protocol: 17, fromPort: BCAST_OPEN, toPort: BCAST_OPEN, groupId: SG_C, groupOwnerId: OWNER };

async function apply(aRules: GniRule[]): Promise<void> {
  const doc = await lab.publish(cloud(aRules));
  await lab.waitApplied(doc.version);
}

before(async () => {
  if (!isRoot()) return;
  lab = await createNetdLab();
  for (const n of lab.nodes) await lab.startNetd(n);
  await apply([FROM_C_UDP_OPEN]);
  for (const v of Object.keys(IP) as Vm[]) vms[v] = await lab.addInstance(v === 'b1' || v === 'd1' ? 'n2' : 'n1', ID[v], MAC[v]);
  // Every instance takes its lease (the DHCP test asserts on it); the broadcast tests need the /16 and its broadcast address.
  for (const v of Object.keys(IP) as Vm[]) await lab.topo.dhcp(vms[v]!, { timeoutMs: 15_000 });
  // Control-plane listeners: this node (n1), the other node (n2) and the CLC host (ctl), plus a non-control port on each.
  const log = (name: string) => path.join(lab.dir, `${name}.peers`);
  servers.push(tcpServer(lab, lab.node('n1').ns, [...CONTROL_PORTS, OPEN_PORT], 'n1', log('n1')));
  servers.push(tcpServer(lab, lab.node('n2').ns, [...CONTROL_PORTS, OPEN_PORT], 'n2', log('n2')));
  servers.push(tcpServer(lab, lab.topo.ctlNs!, [...CONTROL_PORTS, OPEN_PORT], 'ctl', log('ctl')));
  // The metadata target: the CLC's port 8773 in the control namespace.
  servers.push(lab.topo.netns.startIn(lab.topo.ctlNs!, [process.execPath, '-e', `require('node:http').createServer((q, s) => s.end('metadata:' + q.url)).listen(8773, '0.0.0.0')`]));
});

after(async () => {
  for (const s of servers) s.kill('SIGKILL');
  await lab?.close();
});

function root(t: TestContext): boolean {
  return requireRoot(t, 'netd hardening traffic');
}

/**
 * Sends 5 UDP datagrams from `from` to dst:port while every `to` listens on
 * port (bound to 0.0.0.0: broadcast, multicast and unicast all arrive there);
 * returns how many each received. Listeners signal readiness through a file.
 */
async function udpDelivery(from: Vm, dst: string, port: number, to: readonly Vm[]): Promise<Record<string, number>> {
  const tag = randomBytes(3).toString('hex');
  const file = (v: Vm, what: string) => path.join(lab.dir, `udp-${tag}-${v}.${what}`);
  const listeners = to.map((v) => lab.topo.netns.startIn(vms[v]!.ns, [
    process.execPath, '-e',
    `const fs=require('node:fs');const s=require('node:dgram').createSocket({type:'udp4',reuseAddr:true});let n=0;`
    + `s.on('message',()=>n++);s.bind(${port},'0.0.0.0',()=>fs.writeFileSync(process.argv[2],'ready'));`
    + `setTimeout(()=>{fs.writeFileSync(process.argv[1],String(n));process.exit(0)},3000)`,
    file(v, 'count'), file(v, 'ready'),
  ]));
  for (const v of to) await waitFor(`${v} listening`, async () => fs.access(file(v, 'ready')).then(() => true, () => false), 5000, 50);
  const sent = await lab.sh(vms[from]!.ns, [
    process.execPath, '-e',
    `const s=require('node:dgram').createSocket('udp4');s.bind(0,()=>{s.setBroadcast(true);let i=0;const t=setInterval(()=>{s.send('hello',${port},${JSON.stringify(dst)});if(++i===5){clearInterval(t);setTimeout(()=>s.close(),100)}},100)})`,
  ]);
  assert.equal(sent.code, 0, `sender ran: ${sent.out}`);
  for (const l of listeners) await l.exited;
  const out: Record<string, number> = {};
  for (const v of to) out[v] = Number(await fs.readFile(file(v, 'count'), 'utf8').catch(() => '-1'));
  return out;
}

/** ICMP echo (type 8) or timestamp (type 13) request from ns to ip: true when the matching reply (0 / 14) came back. */
async function icmpAnswered(from: Vm, ip: string, type: 8 | 13): Promise<boolean> {
  const script = `
import socket, struct, sys, time, os
dst, typ = sys.argv[1], int(sys.argv[2])
def csum(b):
    if len(b) % 2: b += b'\\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
ident = os.getpid() & 0xffff
body = struct.pack('!III', 0, 0, 0) if typ == 13 else b'edgenet-probe'
hdr = struct.pack('!BBHHH', typ, 0, 0, ident, 1)
pkt = struct.pack('!BBHHH', typ, 0, csum(hdr + body), ident, 1) + body
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP); s.settimeout(0.3)
want = 14 if typ == 13 else 0
end = time.time() + 2
for i in range(3):
    s.sendto(pkt, (dst, 0))
    while time.time() < end:
        try: data, addr = s.recvfrom(2048)
        except socket.timeout: break
        ihl = (data[0] & 15) * 4
        if addr[0] == dst and data[ihl] == want and struct.unpack('!H', data[ihl+4:ihl+6])[0] == ident: print('answered'); sys.exit(0)
sys.exit(1)
`;
  const r = await lab.sh(vms[from]!.ns, ['/usr/bin/python3', '-c', script, ip, String(type)], 6000);
  return r.code === 0;
}

test('DHCP: every instance got its lease from its node\'s dhcpd; ARP resolves the gateway and an instance of another group', async (t) => {
  if (!root(t)) return;
  for (const v of Object.keys(IP) as Vm[]) {
    const addr = await lab.sh(vms[v]!.ns, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
    assert.match(addr.out, new RegExp(`inet ${IP[v].replace(/\./g, '\\.')}/16`), `${v} holds the address dhcpd gave it (DHCP request through INPUT, reply from OUTPUT: not affected by the broadcast guard)`);
  }
  // Renewing is DHCP too: a second exchange after the guard is in place.
  const lease = await lab.topo.dhcp(vms.a1!, { timeoutMs: 15_000 });
  assert.equal(lease.ip, IP.a1, 'a renewed lease (broadcast DISCOVER/REQUEST and the broadcast reply) still works');
  for (const target of ['10.111.0.1', IP.c1]) {
    const r = await lab.sh(vms.a1!.ns, ['arping', '-c', '2', '-w', '3', '-i', 'eth0', target], 6000);
    assert.equal(r.code, 0, `ARP for ${target} is answered (ARP is not IPv4: the iptables guard never sees it): ${r.out}`);
  }
});

test('an ICMP rule for one type admits only that type', async (t) => {
  if (!root(t)) return;
  await apply([FROM_C_UDP_OPEN, { protocol: 1, icmpType: 8, icmpCode: -1, groupId: SG_C, groupOwnerId: OWNER }]);
  assert.ok(await settle(() => icmpAnswered('c1', IP.a1, 8), true), 'echo request (8) admitted by sg-a\'s `--icmp-type 8` rule');
  assert.equal(await settle(() => icmpAnswered('c1', IP.a1, 13), false, 2), false, 'timestamp request (13) dropped: no rule of sg-a admits type 13 (FWD drops to a local instance)');
  assert.equal(await settle(() => icmpAnswered('c1', IP.b1, 13), false, 2), false, 'the same on the other node');
  await apply([FROM_C_UDP_OPEN, { protocol: 1, icmpType: 13, icmpCode: 0, groupId: SG_C, groupOwnerId: OWNER }]);
  assert.ok(await settle(() => icmpAnswered('c1', IP.a1, 13), true), 'control: the probe works, a `--icmp-type 13/0` rule admits timestamps');
  assert.equal(await settle(() => icmpAnswered('c1', IP.a1, 8), false, 2), false, 'and now echo (8) is dropped: the rule is for type 13 only');
  await apply([FROM_C_UDP_OPEN]);
});

test('broadcast and multicast from an instance reach no other group\'s instance on either node; the same group and admitted ports still receive', async (t) => {
  if (!root(t)) return;
  for (const dst of ['255.255.255.255', SUBNET_BROADCAST, '224.0.0.1']) {
    const shut = await udpDelivery('c1', dst, BCAST_SHUT, ['a1', 'a2', 'b1', 'd1']);
    assert.deepEqual({ a1: shut.a1, a2: shut.a2, b1: shut.b1 }, { a1: 0, a2: 0, b1: 0 },
      `${dst}:${BCAST_SHUT} from c1 (sg-c) reaches no sg-a instance on n1 or n2: no sg-a rule admits it, the --physdev-out drop in FWD takes it`);
    assert.ok((shut.d1 ?? 0) > 0, `${dst}:${BCAST_SHUT} from c1 reaches d1 on n2: same group sg-c (its chain's same-group rule)`);
    const open = await udpDelivery('c1', dst, BCAST_OPEN, ['a1', 'b1']);
    assert.ok((open.a1 ?? 0) > 0 && (open.b1 ?? 0) > 0, `${dst}:${BCAST_OPEN} from c1 reaches a1 and b1: sg-a's rule admits udp ${BCAST_OPEN} from sg-c (${JSON.stringify(open)})`);
    const same = await udpDelivery('a2', dst, BCAST_SHUT, ['a1', 'b1', 'c1']);
    assert.ok((same.a1 ?? 0) > 0 && (same.b1 ?? 0) > 0, `${dst} from a2 reaches a1 and b1: same group sg-a (${JSON.stringify(same)})`);
    assert.equal(same.c1, 0, `${dst} from a2 does not reach c1: sg-c admits nothing from sg-a`);
  }
  const unicast = await udpDelivery('c1', IP.a1, BCAST_SHUT, ['a1']);
  assert.equal(unicast.a1, 0, 'unicast to the same port is blocked too (FWD: dst in LOCAL, no rule admits it)');
});

test('an instance reaches no control-plane port of its node, the other node or the CLC host, but reaches metadata', async (t) => {
  if (!root(t)) return;
  const hosts = { 'its own node n1': lab.node('n1').name, 'the other node n2': lab.node('n2').name, 'the CLC host': CTL_IP };
  for (const [what, ip] of Object.entries(hosts)) {
    assert.ok(await settle(() => canConnect(lab, vms.a1!.ns, ip, OPEN_PORT), true), `control: a1 reaches ${what} (${ip}) on ${OPEN_PORT}, not a control-plane port`);
    const chain = what === 'its own node n1' ? 'EDGENET-IN (INPUT from vn_+)' : 'EDGENET-FWD (from vn_+ to EDGENET-HOSTS)';
    for (const port of CONTROL_PORTS) {
      assert.equal(await settle(() => canConnect(lab, vms.a1!.ns, ip, port), false, 2), false, `a1 cannot connect to ${what} ${ip}:${port}: dropped by ${chain}`);
    }
  }
  assert.equal(await settle(() => canConnect(lab, vms.b1!.ns, lab.node('n1').name, 8775), false, 2), false, 'b1 on n2 cannot reach n1\'s NC port either (its node\'s FWD)');
  assert.equal(await settle(() => canConnect(lab, vms.a1!.ns, CTL_IP, 8773), false, 2), false, 'the metadata port itself is not reachable directly (8773 is in the control-plane list)');
  const r = await waitFor('metadata answer', async () => {
    const res = await lab.sh(vms.a1!.ns, ['curl', '-s', '-m', '2', 'http://169.254.169.254/latest/meta-data/'], 5000);
    return res.code === 0 && res.out.includes('metadata:') ? res.out : undefined;
  }, 10_000);
  assert.match(r, /metadata:\/latest\/meta-data\//, 'metadata through its DNAT: conntrack\'s original destination 169.254.169.254 exempts it (! --ctorigdst)');
});
