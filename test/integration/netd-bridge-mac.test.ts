/**
 * Issue 18 item 5: the node's bridge MAC is pinned by netd, so attaching (and
 * removing) instance ports never changes it. A Linux bridge whose MAC was never
 * set takes its lowest port MAC; the lab's br0 is created that way and carries
 * the node's address, so without the pin a port with a lower MAC moves the
 * node's address to a new MAC and every peer's ARP entry for it goes stale.
 *
 * In a netd lab (REAL netd in the node namespace): 20 instance ports (veth,
 * host end vn_<id> in br0) with random locally administered MACs, most of them
 * lower than the bridge's, are attached one by one; after each, the bridge MAC
 * is unchanged and the control namespace on the lan still reaches the node's
 * address at once through the neighbour entry it already had, which names the
 * pinned MAC. Half of the ports are then removed, with the same checks.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { isRoot, requireRoot } from '../helpers/root.ts';
import { createNetdLab, type NetdLab } from '../helpers/netd-lab.ts';
import type { LabInstance } from '../../src/lab/topology.ts';

let lab: NetdLab;

before(async () => {
  if (!isRoot()) return;
  lab = await createNetdLab();
  await lab.startNetd(lab.node('n1'));
});

after(async () => {
  await lab?.close();
});

function randomMac(): string {
  // 02:00:… is locally administered unicast and lower than almost any MAC the kernel picks for a veth.
  return ['02', '00', ...[...randomBytes(4)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

test('attaching and removing 20 instance ports never changes the bridge MAC; the lan keeps reaching the node without stale ARP', async (t) => {
  if (!requireRoot(t, 'netd bridge MAC integration')) return;
  const n1 = lab.node('n1');
  const ctl = lab.topo.ctlNs!;
  const doc = await lab.publish({ nodes: [{ name: n1.name, instances: [] }, { name: lab.node('n2').name, instances: [] }], instances: [], groups: [] });
  await lab.waitApplied(doc.version, [n1]);

  const brMac = async () => JSON.parse((await lab.sh(n1.ns, ['ip', '-j', 'link', 'show', 'dev', 'br0'])).out)[0].address as string;
  const pinned = await brMac();
  assert.equal((await lab.sh(n1.ns, ['cat', '/sys/class/net/br0/addr_assign_type'])).out.trim(), '3', 'netd set the MAC explicitly');

  // The lan learns the node's MAC once; it must stay right without a new ARP exchange.
  assert.equal((await lab.sh(ctl, ['ping', '-n', '-c', '1', '-W', '2', n1.name])).code, 0);
  const neigh = async () => /lladdr (\S+)/.exec((await lab.sh(ctl, ['ip', 'neigh', 'show', n1.name])).out)?.[1];
  assert.equal(await neigh(), pinned);

  const check = async (what: string) => {
    assert.equal(await brMac(), pinned, `bridge MAC after ${what}`);
    // One ping, 1 s: a stale entry (the old MAC) would lose it and leave the entry wrong.
    const ping = await lab.sh(ctl, ['ping', '-n', '-c', '1', '-W', '1', n1.name]);
    assert.equal(ping.code, 0, `the node answers at once after ${what}: ${ping.out}`);
    assert.equal(await neigh(), pinned, `the lan's neighbour entry after ${what}`);
  };

  const ports: LabInstance[] = [];
  let lower = 0;
  for (let i = 0; i < 20; i++) {
    // The bridge adopts a PORT's MAC, i.e. the host end's: give it a random low one, as a hypervisor's tap would have.
    const portMac = randomMac();
    if (portMac < pinned) lower += 1;
    const inst = await lab.addInstance('n1', `m${i}-${randomBytes(2).toString('hex')}`, randomMac());
    await lab.sh(n1.ns, ['ip', 'link', 'set', 'dev', inst.hostIf, 'address', portMac]);
    ports.push(inst);
    await check(`attaching port ${i + 1} (${inst.hostIf})`);
  }
  assert.ok(lower >= 10, `most ports have a MAC lower than the bridge's, so an unpinned bridge would have changed (${lower})`);
  for (const inst of ports.slice(0, 10)) {
    await lab.topo.removeInstance(inst);
    await check(`removing ${inst.hostIf}`);
  }
});
