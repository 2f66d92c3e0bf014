/**
 * The node's network with the REAL netd (`--once`) in a namespace pair (node +
 * upstream): each supported layout (docs/netd.md "The node's network"), the
 * move of the node's address and default route onto the bridge while another
 * namespace keeps pinging it, a move interrupted half-way, the refused layout
 * and its message, and a dying dhcpd reported with the line of its own log.
 * Root; each test builds and tears down its own namespaces.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { requireRoot } from '../helpers/root.ts';
import { createNodeHost, waitFor, FAR_IP, NODE_IP, UPSTREAM_IP, type NodeHost, type NodeShape } from '../helpers/netd-lab.ts';
import { createExec } from '../../src/shared/exec.ts';
import { nodeReport } from '../../src/node-controller/netd-report.ts';

const exec = createExec();

async function withNode(t: TestContext, shape: NodeShape, body: (h: NodeHost) => Promise<void>): Promise<void> {
  if (!requireRoot(t, 'netd node-network integration')) return;
  const h = await createNodeHost(shape);
  try {
    await body(h);
  } finally {
    await h.close();
  }
}

async function assertConverged(h: NodeHost): Promise<void> {
  const s = await h.status();
  assert.equal(s?.result, 'ok', `status: ${JSON.stringify(s)}`);
  assert.equal(await h.macAssignType('br0'), '3', 'the bridge MAC is pinned (set explicitly)');
  assert.deepEqual(await h.addresses('br0'), [`${NODE_IP}/24`]);
  assert.equal((await h.link('eth1'))?.master, 'br0');
  assert.match((await h.routes('br0')).join('\n'), new RegExp(`default via ${UPSTREAM_IP.replace(/\./g, '\\.')}`));
  assert.equal((await h.sh(h.nodeNs, ['ping', '-n', '-c', '1', '-W', '2', FAR_IP])).code, 0, 'the default route works');
  const pid = Number((await fs.readFile(path.join(h.runDir, 'netd', 'dhcpd.pid'), 'utf8').catch(() => '')).trim());
  assert.ok(pid > 1 && (await fs.stat(`/proc/${pid}`).then(() => true, () => false)), 'dhcpd serves on br0');
  // Once converged, another sync writes nothing.
  const again = await h.runOnce();
  assert.equal(again.code, 0, again.out);
  const last = (await h.events()).at(-1);
  assert.equal(last?.writes, 0, `second sync: ${last?.steps.map((s) => s.description).join('; ')}`);
}

test('layout a: br0 carries the address, eth1 is its port (VNET_PRIVINTERFACE=eth1, =br0 or empty)', async (t) => {
  for (const priv of ['eth1', 'br0', '']) {
    await withNode(t, 'bridge-with-address', async (h) => {
      await h.writeConf({ VNET_PRIVINTERFACE: priv });
      const macBefore = (await h.link('br0'))?.address;
      await h.publish();
      const r = await h.runOnce();
      assert.equal(r.code, 0, `VNET_PRIVINTERFACE=${priv}: ${r.out}\n${JSON.stringify(await h.status())}`);
      assert.equal((await h.link('br0'))?.address, macBefore, 'pinned at the MAC netd first saw');
      assert.deepEqual(await h.addresses('eth1'), []);
      await assertConverged(h);
    });
  }
});

test('layout b: netd creates br0 and moves the address and default route onto it; a peer pinging throughout loses nothing', async (t) => {
  await withNode(t, 'address-on-eth1', async (h) => {
    const ethMac = (await h.link('eth1'))?.address;
    await h.publish();
    // 10 ms pings for 8 s from the upstream namespace, across the whole sync.
    const ping = exec.run(['ip', 'netns', 'exec', h.peerNs, 'ping', '-n', '-q', '-i', '0.01', '-w', '8', NODE_IP], { timeoutMs: 20_000, okExitCodes: [0, 1] });
    await new Promise((r) => setTimeout(r, 500)); // let the first pings (and ARP) go through before netd starts
    const r = await h.runOnce();
    const p = await ping;
    assert.equal(r.code, 0, `${r.out}\n${JSON.stringify(await h.status())}`);
    const m = /(\d+) packets transmitted, (\d+) received/.exec(p.stdout);
    assert.ok(m, p.stdout);
    const [sent, received] = [Number(m[1]), Number(m[2])];
    assert.ok(sent > 200, `enough pings to cover the move (${sent})`);
    assert.ok(sent - received <= 1, `pings lost during the move: ${sent - received} of ${sent}`);
    assert.equal((await h.link('br0'))?.address, ethMac, 'the bridge took the port MAC: peers\' ARP entries stay right');
    assert.deepEqual(await h.addresses('eth1'), [], 'the port keeps no address');
    assert.deepEqual(await h.routes('eth1'), [], 'nor routes');
    const steps = (await h.events()).at(-1)?.steps.map((s) => s.name) ?? [];
    assert.deepEqual(
      steps.filter((s) => ['bridge-create', 'node-addr-add', 'link-attach', 'route-move', 'node-addr-del'].includes(s)),
      ['bridge-create', 'node-addr-add', 'link-attach', 'route-move', 'node-addr-del'],
    );
    await assertConverged(h);
  });
});

test('layout b interrupted half-way (bridge made, address on both, port enslaved, route not moved) converges', async (t) => {
  await withNode(t, 'address-on-eth1', async (h) => {
    const ethMac = (await h.link('eth1'))?.address ?? '';
    for (const argv of [
      ['ip', 'link', 'add', 'br0', 'type', 'bridge'],
      ['ip', 'link', 'set', 'br0', 'up'],
      ['ip', 'addr', 'add', `${NODE_IP}/24`, 'dev', 'br0'],
      ['ip', 'link', 'set', 'eth1', 'master', 'br0'],
    ]) assert.equal((await h.sh(h.nodeNs, argv)).code, 0, argv.join(' '));
    await h.publish();
    const r = await h.runOnce();
    assert.equal(r.code, 0, `${r.out}\n${JSON.stringify(await h.status())}`);
    assert.deepEqual(await h.addresses('eth1'), []);
    assert.equal((await h.link('br0'))?.address, ethMac, 'a bridge that took the port MAC keeps it, now pinned');
    await assertConverged(h);
  });
});

test('refused: no bridge and no VNET_PRIVINTERFACE: the error says what to do and nothing is touched', async (t) => {
  await withNode(t, 'address-on-eth1', async (h) => {
    await h.writeConf({ VNET_PRIVINTERFACE: undefined });
    await h.publish();
    const r = await h.runOnce();
    assert.equal(r.code, 1, r.out);
    const s = await h.status();
    assert.equal(s?.result, 'error');
    assert.match(s?.error ?? '', /^NODE_NETWORK_UNSUPPORTED: VNET_BRIDGE=br0 does not exist and VNET_PRIVINTERFACE is not set: either create br0 with the node's address on it .*\(layout a.*set VNET_PRIVINTERFACE to the interface that carries the node's address/);
    assert.doesNotMatch(s?.error ?? '', /BRIDGE_MAC_UNKNOWN/);
    assert.equal(await h.link('br0'), undefined, 'no bridge created');
    assert.deepEqual(await h.addresses('eth1'), [`${NODE_IP}/24`]);
    assert.equal((await h.sh(h.nodeNs, ['iptables-save'])).out.includes('EDGENET'), false, 'no rules laid down');
  });
});

test('a dhcpd that dies is reported with the line of its own log that says why, up to the node report', async (t) => {
  await withNode(t, 'bridge-with-address', async (h) => {
    // Another program holds port 67 (no SO_REUSEADDR): dhcpd exits at start.
    // It runs in the test's namespace, so the teardown ends it.
    exec.start(['ip', 'netns', 'exec', h.nodeNs, process.execPath, '-e', "require('node:dgram').createSocket('udp4').bind(67, '0.0.0.0')"]);
    await waitFor('port 67 taken', async () => (await h.sh(h.nodeNs, ['ss', '-Hulnp', 'sport', '=', ':67'])).out.includes(':67'), 10_000);
    await h.publish();
    const r = await h.runOnce();
    assert.equal(r.code, 1, r.out);
    const s = await h.status();
    assert.equal(s?.result, 'error');
    assert.match(s?.dhcpdFailure?.reason ?? '', /Address already in use/, JSON.stringify(s));
    assert.equal(s?.dhcpdFailure?.log, path.join(h.runDir, 'netd', 'dhcpd.log'));
    for (const text of [s?.error ?? '', (await h.events()).at(-1)?.error ?? '', r.out]) {
      assert.ok(text.includes(s!.dhcpdFailure!.reason), `carries the reason: ${text}`);
      assert.doesNotMatch(text, /web page|submitting bugs/);
    }
    const report = await nodeReport({ node: NODE_IP, statusFile: path.join(h.runDir, 'netd-status.json'), held: { version: 'v', sequence: 1, at: new Date().toISOString() } as never });
    assert.ok(report.lastError?.includes(s!.dhcpdFailure!.reason), `the NC reports it: ${report.lastError}`);
  });
});
