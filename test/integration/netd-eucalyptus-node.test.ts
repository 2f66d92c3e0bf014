/**
 * A Eucalyptus node's configuration with the REAL netd in the two-node lab
 * (test/helpers/netd-lab.ts: br0 with the LAN port priv0, pub0 on the public
 * net, a control host on the LAN with an on-link route to the VM subnet):
 *   1. the install guide's node configuration, VNET_PRIVINTERFACE="br0" and
 *      VNET_BRIDGE="br0" (Eucalyptus 4.x install guide; eucalyptus-edge.md
 *      §6.3): every rule is written, instances get DHCP and reach each other
 *      across nodes;
 *   2. NC_PROXY="Y" on both nodes (eucalyptus-edge.md §1.4 f/g; eucanetd 4.4
 *      net/eucanetd_edge.c do_edge_update_l2, update_host_arp,
 *      do_edge_update_eips): a peer on the private network that ARPs for an
 *      instance gets the NODE's bridge MAC and reaches the instance through
 *      the node; an instance's ARP is answered with its node's MAC; the
 *      public address stays reachable from the public side; an instance
 *      without a public address leaves MASQUERADEd to the node's address.
 * Root; the lab is built once for the file and torn down in `after`.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isRoot, requireRoot } from '../helpers/root.ts';
import { CLIENT_IP, DNS, canConnect, canPing, createNetdLab, instance, settle, sg, tcpServer, waitFor, type NetdLab } from '../helpers/netd-lab.ts';
import type { LabInstance } from '../../src/lab/topology.ts';
import type { Process } from '../../src/shared/exec.ts';

const PUB_A1 = '203.0.113.51';
const IP = { a1: '10.111.1.11', a2: '10.111.1.12', b1: '10.111.1.21' };
const MAC = { a1: 'd0:0d:00:00:02:11', a2: 'd0:0d:00:00:02:12', b1: 'd0:0d:00:00:02:21' };
const OPEN = [
  { protocol: 6, fromPort: 1, toPort: 65535, cidr: '0.0.0.0/0' },
  { protocol: 1, icmpType: -1, icmpCode: -1, cidr: '0.0.0.0/0' },
];

let lab: NetdLab;
const vms: Record<string, LabInstance> = {};
const servers: Process[] = [];

function cloud() {
  return {
    nodes: [
      { name: lab.node('n1').name, instances: ['i-000000a1', 'i-000000a2'] },
      { name: lab.node('n2').name, instances: ['i-000000b1'] },
    ],
    instances: [
      instance('i-000000a1', MAC.a1, IP.a1, ['sg-000000ee'], PUB_A1),
      instance('i-000000a2', MAC.a2, IP.a2, ['sg-000000ee']),
      instance('i-000000b1', MAC.b1, IP.b1, ['sg-000000ee']),
    ],
    groups: [sg('sg-000000ee', OPEN)],
  };
}

/** Rewrites every node's netd.conf (VNET_PRIVINTERFACE as the guide sets it, plus `extra`) and restarts netd. */
async function configure(extra: string): Promise<void> {
  for (const n of lab.nodes) {
    await lab.stopNetd(n);
    const text = (await fs.readFile(n.confFile, 'utf8')).replace(/^VNET_PRIVINTERFACE=.*$/m, 'VNET_PRIVINTERFACE="br0"').replace(/^NC_PROXY=.*\n/m, '');
    await fs.writeFile(n.confFile, `${text}${extra}`);
    await lab.startNetd(n);
  }
  // The document's version does not change with the configuration: wait for this sequence, applied.
  const doc = await lab.publish(cloud());
  await lab.waitSequence(doc.sequence as number);
  await lab.waitApplied(doc.version);
}

async function macOf(ns: string, ifname: string): Promise<string> {
  const r = await lab.sh(ns, ['ip', '-j', 'link', 'show', 'dev', ifname]);
  return ((JSON.parse(r.out) as { address: string }[])[0]?.address ?? '').toLowerCase();
}

async function neighbour(ns: string, ip: string): Promise<string | undefined> {
  const r = await lab.sh(ns, ['ip', '-j', 'neigh', 'show', ip]);
  const entry = (JSON.parse(r.out || '[]') as { lladdr?: string }[])[0];
  return entry?.lladdr?.toLowerCase();
}

before(async () => {
  if (!isRoot()) return;
  lab = await createNetdLab();
  await configure('');
  vms.a1 = await lab.addInstance('n1', 'i-000000a1', MAC.a1);
  vms.a2 = await lab.addInstance('n1', 'i-000000a2', MAC.a2);
  vms.b1 = await lab.addInstance('n2', 'i-000000b1', MAC.b1);
  servers.push(tcpServer(lab, lab.topo.clientNs!, [9000], 'client', path.join(lab.dir, 'client.peers')));
  servers.push(tcpServer(lab, vms.a1.ns, [80], 'a1', path.join(lab.dir, 'a1.peers')));
});

after(async () => {
  for (const s of servers) s.kill('SIGKILL');
  await lab?.close();
});

function root(t: TestContext): boolean {
  return requireRoot(t, 'netd Eucalyptus node configuration integration');
}

test('the install guide node configuration: rules written, DHCP served, instances reach each other', async (t) => {
  if (!root(t)) return;
  for (const n of lab.nodes) {
    const s = await lab.status(n);
    assert.equal(s?.result, 'ok', `${n.short}: ${JSON.stringify(s)}`);
    const dump = await lab.dump(n);
    assert.match(dump, /ebtables nat EDGENET-I-i-000000/, `${n.short}: instance chains written`);
    assert.match(dump, /iptables filter EDGENET-FWD/, `${n.short}: filter chains written`);
    // priv0 is left where it is: a port of br0, never touched.
    assert.equal((JSON.parse((await lab.sh(n.ns, ['ip', '-j', 'link', 'show', 'dev', 'priv0'])).out) as { master?: string }[])[0]?.master, 'br0');
  }
  for (const [name, vm] of Object.entries(vms)) {
    const lease = await lab.topo.dhcp(vm, { timeoutMs: 15_000 });
    assert.equal(lease.ip, IP[name as keyof typeof IP], name);
    assert.deepEqual(lease.dns, [DNS]);
  }
  assert.ok(await settle(() => canPing(lab, vms.a1!.ns, IP.b1), true), 'a1 → b1 across nodes');
});

test('NC_PROXY=Y: the node answers ARP for its instances and routes their traffic; public and masqueraded traffic work', async (t) => {
  if (!root(t)) return;
  await configure('NC_PROXY="Y"\n');
  const n1 = lab.node('n1');
  const n1Mac = await macOf(n1.ns, 'br0');
  const n2Mac = await macOf(lab.node('n2').ns, 'br0');
  // Rules: the arpreply for a1's address and the MASQUERADE (eucanetd 4.4 shapes).
  const eb = await lab.sh(n1.ns, ['ebtables-save', '-t', 'nat']);
  assert.match(eb.out, new RegExp(`--arp-ip-dst ${IP.a1.replace(/\./g, '\\.')} -j arpreply --arpreply-mac ${n1Mac}`, 'i'));
  const nat = await lab.sh(n1.ns, ['iptables-save', '-t', 'nat']);
  assert.match(nat.out, /-s 10\.111\.0\.0\/16 -m mark ! --mark 0x2a .*-j MASQUERADE/);
  // The announcement of each new address ran as a step of the sync.
  const events = await lab.events(n1);
  assert.ok(events.some((e) => e.steps.some((s) => /^announce .*10\.111\.1\.11.* on br0 \(proxy ARP\)$/.test(s.description))), 'announce step');

  // A peer on the private network (the control host, on-link route to the VM subnet).
  const ctl = lab.topo.ctlNs!;
  await lab.sh(ctl, ['ip', 'neigh', 'flush', 'all']);
  assert.ok(await settle(() => canPing(lab, ctl, IP.a1), true), 'control host → a1 through proxy ARP');
  assert.equal(await neighbour(ctl, IP.a1), n1Mac, 'a1 is answered for by n1 (bridge MAC), not by the instance');
  assert.notEqual(await neighbour(ctl, IP.a1), MAC.a1);

  // An instance's ARP is answered with its node's MAC: all its traffic goes through the node.
  await lab.sh(vms.a1!.ns, ['ip', 'neigh', 'flush', 'all']);
  assert.ok(await settle(() => canPing(lab, vms.a1!.ns, IP.b1), true), 'a1 → b1 across nodes, routed by both nodes');
  assert.equal(await neighbour(vms.a1!.ns, IP.b1), n1Mac);
  assert.notEqual(n1Mac, n2Mac);

  // The public address from the public side (its /32 stays on pub0, as in eucanetd 4.4).
  assert.ok(await settle(() => canConnect(lab, lab.topo.clientNs!, PUB_A1, 80), true), 'client → public IP of a1');
  // a2 has no public address: MASQUERADE to n1's public-side address.
  await fs.rm(path.join(lab.dir, 'client.peers'), { force: true });
  assert.ok(await settle(() => canConnect(lab, vms.a2!.ns, CLIENT_IP, 9000), true), 'a2 → client');
  const peers = await waitFor('client log', async () => fs.readFile(path.join(lab.dir, 'client.peers'), 'utf8').catch(() => undefined), 3000);
  assert.match(peers, /^203\.0\.113\.11 9000$/m, `masqueraded to n1's pub0 address: ${peers}`);
});
