/**
 * netd's sync mechanics in real network namespaces, with the REAL daemon:
 * convergence from any order, zero writes on an unchanged document, bad
 * documents changing nothing, drift repaired by the periodic resync, dhcpd
 * supervision, kill -9 in the middle of a sync, ownership (others' rules
 * untouched, nothing left behind), SIGTERM without flush, and `netd flush`.
 * Root; one lab for the file, torn down in `after`.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { isRoot, requireRoot } from '../helpers/root.ts';
import { createNetdLab, instance, sg, waitFor, type NetdLab } from '../helpers/netd-lab.ts';
import type { TestCloud } from '../helpers/fake-host.ts';
import { createExec } from '../../src/shared/exec.ts';
import { EDGENET_BIN } from '../../src/lab/daemons.ts';

const RESYNC_SECONDS = 3;
let lab: NetdLab;
let sequence = 0;

function mac(n: number): string {
  return `d0:0d:00:00:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`;
}

/** States of the cloud the tests move between (node n1 carries the local instances). */
function states(): Record<string, Omit<TestCloud, 'sequence'>> {
  const n1 = lab.node('n1').name;
  const n2 = lab.node('n2').name;
  const big = Array.from({ length: 40 }, (_, i) => instance(`i-${(0x100 + i).toString(16).padStart(8, '0')}`, mac(0x200 + i), `10.111.2.${10 + i}`, [`sg-0000009${i % 8}`], i < 10 ? `203.0.113.${60 + i}` : undefined));
  return {
    empty: { nodes: [{ name: n1, instances: [] }, { name: n2, instances: [] }], instances: [], groups: [] },
    web: {
      nodes: [{ name: n1, instances: ['i-000000a1', 'i-000000a2'] }, { name: n2, instances: ['i-000000b1'] }],
      instances: [instance('i-000000a1', mac(0x111), '10.111.1.11', ['sg-000000eb'], '203.0.113.51'), instance('i-000000a2', mac(0x112), '10.111.1.12', ['sg-000000eb']), instance('i-000000b1', mac(0x121), '10.111.1.21', ['sg-000000eb'])],
      groups: [sg('sg-000000eb', [{ protocol: 6, fromPort: 80, toPort: 80, cidr: '0.0.0.0/0' }])],
    },
    db: {
      nodes: [{ name: n1, instances: ['i-000000a1', 'i-000000c1'] }, { name: n2, instances: ['i-000000b1'] }],
      instances: [instance('i-000000a1', mac(0x111), '10.111.1.11', ['sg-000000eb']), instance('i-000000c1', mac(0x113), '10.111.1.13', ['sg-000000db'], '203.0.113.53'), instance('i-000000b1', mac(0x121), '10.111.1.21', ['sg-000000eb'])],
      groups: [sg('sg-000000eb'), sg('sg-000000db', [{ protocol: 6, fromPort: 5432, toPort: 5432, groupId: 'sg-000000eb', groupOwnerId: '000000000001' }, { protocol: 1, icmpType: 8, icmpCode: -1, cidr: '10.0.0.0/8' }])],
    },
    big: {
      nodes: [{ name: n1, instances: big.map((b) => b.name) }, { name: n2, instances: [] }],
      instances: big,
      groups: Array.from({ length: 8 }, (_, g) => sg(`sg-0000009${g}`, [{ protocol: 6, fromPort: 1000 + g, toPort: 2000 + g, groupId: `sg-0000009${(g + 1) % 8}`, groupOwnerId: '000000000001' }])),
    },
  };
}

async function applyState(name: string, nodes = lab.nodes): Promise<number> {
  const doc = await lab.publish(states()[name]!);
  sequence = doc.sequence!;
  await lab.waitSequence(sequence, nodes);
  for (const n of nodes) {
    const s = await lab.status(n);
    assert.equal(s?.result, 'ok', `${n.short} applying ${name}: ${s?.error}`);
  }
  return sequence;
}

/** Software that is not ours, in n1: it must survive everything netd does. */
async function addForeignRules(): Promise<void> {
  const ns = lab.node('n1').ns;
  const run = (argv: string[]) => lab.sh(ns, argv);
  await run(['ipset', 'create', 'other-set', 'hash:ip']);
  await run(['ipset', 'add', 'other-set', '192.0.2.9']);
  await run(['iptables', '-N', 'OTHER-FW']);
  await run(['iptables', '-A', 'OTHER-FW', '-s', '192.0.2.9/32', '-j', 'DROP']);
  await run(['iptables', '-A', 'FORWARD', '-j', 'OTHER-FW']);
  await run(['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-s', '192.0.2.0/24', '-j', 'MASQUERADE']);
  await run(['ebtables', '-t', 'filter', '-N', 'OTHER-EB']);
  await run(['ebtables', '-t', 'filter', '-A', 'FORWARD', '-j', 'OTHER-EB']);
  await run(['ip', 'addr', 'add', '203.0.113.200/32', 'dev', 'pub0']);
}

async function foreignDump(): Promise<string> {
  const dump = await lab.dump(lab.node('n1'));
  return dump
    .split('\n')
    .filter((l) => /OTHER|other-set|MASQUERADE|203\.0\.113\.200/.test(l))
    .join('\n');
}

before(async () => {
  if (!isRoot()) return;
  lab = await createNetdLab({ resyncSeconds: RESYNC_SECONDS });
  await addForeignRules();
  for (const n of lab.nodes) await lab.startNetd(n);
});

after(async () => {
  await lab?.close();
});

function root(t: TestContext): boolean {
  return requireRoot(t, 'netd sync integration');
}

const expected = new Map<string, string>();
let foreign = '';

test('states applied in random order converge to the same dump; re-applying the same document writes nothing', async (t) => {
  if (!root(t)) return;
  foreign = await foreignDump();
  assert.match(foreign, /OTHER-FW/);
  const n1 = lab.node('n1');
  for (const name of ['web', 'db', 'big', 'empty']) {
    await applyState(name);
    expected.set(name, await lab.dump(n1));
  }
  assert.equal(new Set(expected.values()).size, 4, 'the states differ');
  const order = ['db', 'web', 'big', 'db', 'empty', 'big', 'web', 'web', 'empty', 'db'];
  let incremental = 0;
  for (const name of order) {
    await applyState(name);
    assert.equal(await lab.dump(n1), expected.get(name), `after ${name}`);
    // The same document again (new sequence, same content): the sync writes nothing.
    await applyState(name);
    const last = await waitFor('the event of this sync', async () => (await lab.events(n1)).find((e) => e.sequence === sequence), 5000);
        assert.equal(last.result, 'ok');
    // Full (periodic resync, every 3 s here) or not, an unchanged host gets no write.
    if (!last.full) incremental += 1;
    assert.equal(last.writes, 0, `${name} re-applied (full: ${last.full}): ${last.steps.map((s) => s.description).join('; ')}`);
    assert.equal(await foreignDump(), foreign, 'other software untouched');
  }
  assert.ok(incremental >= 3, `enough re-applies were incremental syncs to mean something (${incremental})`);
});

test('the periodic full resync of a converged node writes nothing, and its event says so (issue 10 item 9)', async (t) => {
  if (!root(t)) return;
  await applyState('big');
  const n1 = lab.node('n1');
  const since = Date.now();
  // Two periodic resyncs after convergence (every RESYNC_SECONDS), with no document change.
  const periodic = await waitFor('two periodic resyncs', async () => {
    const list = (await lab.events(n1)).filter((e) => e.trigger === 'periodic' && Date.parse(e.at) > since);
    return list.length >= 2 ? list : undefined;
  }, (RESYNC_SECONDS * 2 + 10) * 1000, 250);
  for (const e of periodic) {
    assert.equal(e.full, true);
    assert.equal(e.result, 'ok');
    assert.equal(e.writes, 0, `periodic resync wrote: ${e.steps.map((s) => s.description).join('; ')}`);
    assert.deepEqual(e.steps.filter((s) => s.writes > 0), []);
  }
});

test('a terminated instance and an unused group leave nothing behind', async (t) => {
  if (!root(t)) return;
  await applyState('db');
  await applyState('web');
  const n1 = lab.node('n1');
  const dump = await lab.dump(n1);
  assert.doesNotMatch(dump, /i-000000c1|sg-000000db|203\.0\.113\.53/);
  assert.equal(dump, expected.get('web'));
  assert.equal(await foreignDump(), foreign);
});

test('a truncated, malformed or DOCTYPE document changes nothing on the host and is reported', async (t) => {
  if (!root(t)) return;
  await applyState('db');
  const n1 = lab.node('n1');
  const good = await lab.dump(n1);
  const before = await lab.status(n1);
  const { serializeGni } = await import('../../src/shared/gni/codec.ts');
  const { testGni } = await import('../helpers/fake-host.ts');
  const text = serializeGni(testGni({ ...states().web!, sequence: sequence + 100 }));
  const bad = [
    text.slice(0, Math.floor(text.length * 0.6)),
    '<network-data version="1"><configuration><property name="mode"><value>EDGE',
    text.replace('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>', '<?xml version="1.0"?><!DOCTYPE n [<!ENTITY x "y">]>'),
  ];
  for (const b of bad) {
    await lab.publishText(b, [n1]);
    await waitFor('invalid-document status', async () => (await lab.status(n1))?.result === 'invalid-document', 10_000);
    assert.equal(await lab.dump(n1), good);
    const s = await lab.status(n1);
    assert.equal(s?.appliedVersion, before?.appliedVersion, 'last good state stays applied');
  }
  await applyState('db');
});

test('chains flushed and hooks deleted by someone else are restored by the next resync', async (t) => {
  if (!root(t)) return;
  await applyState('db');
  const n1 = lab.node('n1');
  const good = await lab.dump(n1);
  await lab.sh(n1.ns, ['iptables', '-F', 'EDGENET-FWD']);
  await lab.sh(n1.ns, ['iptables', '-t', 'nat', '-D', 'PREROUTING', '1']);
  await lab.sh(n1.ns, ['ebtables', '-t', 'nat', '-F', 'EDGENET-EB-PRE']);
  await lab.sh(n1.ns, ['ipset', 'flush', 'EDGENET-sg-000000db']);
  assert.notEqual(await lab.dump(n1), good);
  // The document did not change: only the periodic resync can repair this.
  await waitFor('resync to repair the drift', async () => (await lab.dump(n1)) === good, (RESYNC_SECONDS + 6) * 1000, 500);
  assert.equal(await foreignDump(), foreign);
});

test('a killed dhcpd comes back', async (t) => {
  if (!root(t)) return;
  await applyState('db');
  const n1 = lab.node('n1');
  const pid = await waitFor('dhcpd running', () => lab.dhcpdPid(n1), 10_000);
  process.kill(pid, 'SIGKILL');
  const again = await waitFor('dhcpd restarted', async () => {
    const p = await lab.dhcpdPid(n1);
    return p !== undefined && p !== pid ? p : undefined;
  }, 10_000);
  assert.notEqual(again, pid);
});

test('kill -9 in the middle of a sync, then a restart, converges', async (t) => {
  if (!root(t)) return;
  const n1 = lab.node('n1');
  for (const [i, delay] of [20, 60, 120, 250].entries()) {
    await applyState(i % 2 === 0 ? 'empty' : 'web', [n1]);
    await lab.publish(states().big!);
    await new Promise((r) => setTimeout(r, delay));
    await lab.stopNetd(n1, 'SIGKILL');
    await lab.startNetd(n1);
    await applyState('big', [n1]);
    assert.equal(await lab.dump(n1), expected.get('big'), `killed after ${delay} ms`);
  }
  assert.equal(await foreignDump(), foreign);
});

test('SIGTERM stops netd without flushing; `netd flush` then removes every edgenet artifact and nothing else', async (t) => {
  if (!root(t)) return;
  await applyState('db');
  const n1 = lab.node('n1');
  const good = await lab.dump(n1);
  const dhcpd = await waitFor('dhcpd running', () => lab.dhcpdPid(n1), 10_000);
  await lab.stopNetd(n1, 'SIGTERM');
  assert.equal(await lab.dump(n1), good, 'nothing flushed on exit');
  assert.equal(await lab.dhcpdPid(n1), dhcpd, 'dhcpd keeps serving');
  const r = await createExec().run(['ip', 'netns', 'exec', n1.ns, process.execPath, EDGENET_BIN, 'netd', 'flush', '--config', n1.confFile], {
    env: { ...(process.env as Record<string, string>), EDGENET_RUN_DIR: n1.runDir },
    timeoutMs: 30_000,
  });
  assert.match(r.stdout, /ipset destroy/);
  const dump = await lab.dump(n1);
  assert.doesNotMatch(dump, /EDGENET|203\.0\.113\.5\d\/32/);
  assert.equal(await lab.dhcpdPid(n1), undefined, 'our dhcpd stopped');
  assert.equal(await foreignDump(), foreign, 'other software untouched');
  void path;
});
