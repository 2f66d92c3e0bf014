/**
 * ROUTED port events (port-watcher.ts) with FakeClock and the in-memory
 * host's link monitor: a burst of `vn_*` events is one request after the
 * debounce, a MAC-only change and other links ask for nothing, a deletion
 * does, a monitor that dies is restarted with back-off (and asks for a
 * catch-up sync), stop ends it; and in the daemon: a ROUTED document starts
 * the monitor, a port event runs a sync with trigger 'link', an EDGE
 * document stops it (an EDGE node runs none). No real time: every wait is
 * FakeClock.advance.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { FakeClock } from '../../../src/shared/clock.ts';
import { nullLogger, type Logger } from '../../../src/shared/logger.ts';
import { PortWatcher, parseLinkLine } from '../../../src/netd/port-watcher.ts';
import { NetdDaemon } from '../../../src/netd/daemon.ts';
import { DEFAULT_NETD_CONFIG, type NetdConfig } from '../../../src/netd/config.ts';
import type { SyncOutcome } from '../../../src/netd/sync.ts';
import { serializeGni } from '../../../src/shared/gni/codec.ts';
import { FakeHost, group, inst, testGniXml } from '../../helpers/fake-host.ts';
import { ROUTED_NODE, routedDoc } from '../../helpers/routed-doc.ts';

// Lines as `ip -o monitor link` prints them (a veth pair created, its MAC pinned, up, down, deleted).
const line = (idx: number, name: string, flags: string, state: string, mac = 'ae:ea:f0:0e:a7:c3', deleted = false) =>
  `${deleted ? 'Deleted ' : ''}${idx}: ${name}@eth0x: <${flags}> mtu 1500 qdisc noqueue state ${state} group default \\    link/ether ${mac} brd ff:ff:ff:ff:ff:ff`;
const PORT = 'vn_i-0000000a';

function watcher() {
  const host = new FakeHost();
  const clock = new FakeClock();
  const warnings: string[] = [];
  const logger = { warn: (m: string) => warnings.push(m), info: () => undefined, debug: () => undefined, error: () => undefined } as unknown as Logger;
  const requests: number[] = [];
  const w = new PortWatcher({ host, clock, logger, onPortChange: () => requests.push(clock.now() - t0), debounceMs: 75 });
  const t0 = clock.now();
  return { host, clock, w, requests, warnings, t0 };
}

test('parseLinkLine: name without the peer, deletion, and what is compared', () => {
  assert.deepEqual(parseLinkLine(line(3, PORT, 'BROADCAST,MULTICAST,UP,LOWER_UP', 'UP')), { name: PORT, deleted: false, signature: '3 <BROADCAST,MULTICAST,UP,LOWER_UP> UP' });
  assert.equal(parseLinkLine(line(3, PORT, 'BROADCAST,MULTICAST', 'DOWN', undefined, true))?.deleted, true);
  assert.equal(parseLinkLine('2: eth0x@vn_i-0000000a: <BROADCAST> mtu 1500 state DOWN')?.name, 'eth0x');
  assert.equal(parseLinkLine('    link/ether 02:00:00:00:00:01'), undefined);
});

test('a burst of port events is one request after the debounce; a MAC change and other links ask for nothing; up/down and deletion do', async () => {
  const { host, clock, w, requests } = watcher();
  w.enable(true);
  assert.equal(host.linkMonitors.filter((m) => m.live).length, 1);
  await clock.advance(75);
  assert.deepEqual(requests, [75], 'one catch-up request when the monitor starts');

  // A VM start: create, MAC pin, up, carrier — within a few ms.
  host.emitLink(line(3, PORT, 'BROADCAST,MULTICAST,M-DOWN', 'DOWN'));
  await clock.advance(5);
  host.emitLink(line(3, PORT, 'BROADCAST,MULTICAST,M-DOWN', 'DOWN', 'fe:ff:ff:ff:ff:ff'));
  host.emitLink(line(3, PORT, 'BROADCAST,MULTICAST,UP,LOWER_UP', 'UP', 'fe:ff:ff:ff:ff:ff'));
  await clock.advance(69);
  assert.deepEqual(requests, [75], 'not before the debounce');
  await clock.advance(1);
  assert.deepEqual(requests, [75, 150], 'one request, 75 ms after the first event of the burst (at 75)');

  // netd pins the MAC again (same flags, same state): nothing; the peer and other links: nothing.
  host.emitLink(line(3, PORT, 'BROADCAST,MULTICAST,UP,LOWER_UP', 'UP', '02:00:00:00:00:01'));
  host.emitLink(line(2, 'eth0x', 'BROADCAST,MULTICAST,UP,LOWER_UP', 'UP'));
  host.emitLink(line(4, 'br0', 'BROADCAST,MULTICAST', 'DOWN'));
  await clock.advance(500);
  assert.equal(requests.length, 2);

  // Down, then up again: each is a request (the kernel dropped the IPv6 gateway and routes on down).
  host.emitLink(line(3, PORT, 'BROADCAST,MULTICAST', 'DOWN'));
  await clock.advance(100);
  host.emitLink(line(3, PORT, 'BROADCAST,MULTICAST,UP,LOWER_UP', 'UP'));
  await clock.advance(100);
  assert.equal(requests.length, 4);
  // Deleted; a new port with the same name (a restarted VM) has another ifindex.
  host.emitLink(line(3, PORT, 'BROADCAST,MULTICAST', 'DOWN', undefined, true));
  await clock.advance(100);
  host.emitLink(line(9, PORT, 'BROADCAST,MULTICAST,UP,LOWER_UP', 'UP'));
  await clock.advance(100);
  assert.equal(requests.length, 6);

  w.stop();
  assert.equal(host.linkMonitors.filter((m) => m.live).length, 0, 'stop ends the monitor');
  host.emitLink(line(9, PORT, 'BROADCAST,MULTICAST', 'DOWN'));
  await clock.advance(1000);
  assert.equal(requests.length, 6);
  assert.equal(clock.timerCount, 0, 'no timer left');
});

test('a monitor that dies is restarted with back-off, each restart asks for a catch-up sync; disabling stops restarts', async () => {
  const { host, clock, w, requests, warnings } = watcher();
  w.enable(true);
  await clock.advance(75);
  host.endLinkMonitor();
  await clock.advance(0);
  assert.equal(w.running, false);
  assert.equal(warnings.length, 1);
  await clock.advance(999);
  assert.equal(host.linkMonitors.length, 1, 'not before 1 s');
  await clock.advance(1);
  assert.equal(host.linkMonitors.length, 2);
  assert.equal(w.running, true);
  await clock.advance(75);
  assert.equal(requests.length, 2, 'the restart asked for a sync (events while it was down are lost)');
  host.endLinkMonitor();
  await clock.advance(1999);
  assert.equal(host.linkMonitors.length, 2, 'the second restart waits 2 s');
  await clock.advance(1);
  assert.equal(host.linkMonitors.length, 3);
  host.endLinkMonitor();
  await clock.advance(0);
  w.enable(false);
  await clock.advance(60_000);
  assert.equal(host.linkMonitors.length, 3, 'disabled: no restart');
  assert.equal(clock.timerCount, 0);
});

// ---- in the daemon -------------------------------------------------------

const CONFIG: NetdConfig = { ...DEFAULT_NETD_CONFIG, nodeName: ROUTED_NODE, pollingFrequencySeconds: 1, resyncIntervalSeconds: 60, minSyncIntervalMs: 100 };
const GNI = '/run/en/global_network_info.xml';

test('the daemon: a ROUTED document starts the monitor, a port event runs a sync with trigger link, an EDGE document stops it', async () => {
  const host = new FakeHost({ links: [{ name: 'br0', isBridge: true, mac: '02:00:00:00:00:aa' }, { name: 'eth0' }], addresses: { br0: [{ address: ROUTED_NODE, prefixlen: 24 }] } });
  const clock = new FakeClock();
  const syncs: SyncOutcome[] = [];
  const daemon = new NetdDaemon({
    host, config: { ...CONFIG, privateInterface: 'eth0', publicInterface: 'eth0' }, runDir: '/run/en', gniFile: GNI, clock, logger: nullLogger(), fileEvents: false,
    stat: async (f) => {
      const t = host.files.get(f);
      return t === undefined ? undefined : createHash('sha1').update(t).digest('hex');
    },
    onSync: (o) => syncs.push(o),
  });
  await host.writeFile(GNI, serializeGni({ ...routedDoc({ instances: [{ id: 'i-0000000a', mac: 'd0:0d:00:00:00:0a', ipv4: '10.50.0.11', ipv6: true }] }), sequence: 1 }));
  await daemon.start();
  await clock.advance(0);
  await daemon.idle();
  assert.equal(syncs[0]?.result, 'ok', syncs[0]?.error);
  assert.ok(syncs[0]?.desired?.routed, 'the node renders ROUTED');
  assert.equal(daemon.watchingPorts, true);
  // The catch-up sync after the monitor started, then quiet.
  await clock.advance(300);
  await daemon.idle();
  const before = syncs.length;
  host.emitLink(line(3, PORT, 'BROADCAST,MULTICAST,UP,LOWER_UP', 'UP'));
  await clock.advance(200);
  await daemon.idle();
  assert.equal(syncs.length, before + 1);
  assert.equal(syncs.at(-1)?.status.trigger, 'link');

  // The node becomes EDGE: no monitor.
  await host.writeFile(GNI, testGniXml({
    nodes: [{ name: ROUTED_NODE, instances: ['i-0000000b'] }], instances: [inst('i-0000000b', 11, ['sg-0000000a'])],
    groups: [group('sg-0000000a', [])], sequence: 2,
  }));
  await clock.advance(1500);
  await daemon.idle();
  assert.ok(syncs.at(-1)?.desired && syncs.at(-1)?.desired?.routed === undefined, `an EDGE sync ran (${syncs.at(-1)?.error ?? ''})`);
  assert.equal(daemon.watchingPorts, false);
  assert.equal(host.linkMonitors.filter((m) => m.live).length, 0);
  await daemon.stop();
});

test('the daemon: an EDGE node starts no monitor', async () => {
  const host = new FakeHost({ links: [{ name: 'br0', isBridge: true, mac: '02:00:00:00:00:aa' }, { name: 'eth1' }, { name: 'pub0' }], addresses: { br0: [{ address: '10.10.0.1', prefixlen: 24 }] } });
  const clock = new FakeClock();
  const syncs: SyncOutcome[] = [];
  const daemon = new NetdDaemon({
    host, config: { ...CONFIG, nodeName: 'node1', privateInterface: 'eth1', publicInterface: 'pub0' }, runDir: '/run/en', gniFile: GNI, clock, logger: nullLogger(), fileEvents: false,
    stat: async () => 'same', onSync: (o) => syncs.push(o),
  });
  await host.writeFile(GNI, testGniXml({ nodes: [{ name: 'node1', instances: ['i-0000000b'] }], instances: [inst('i-0000000b', 11, ['sg-0000000a'])], groups: [group('sg-0000000a', [])], sequence: 1 }));
  await daemon.start();
  await clock.advance(0);
  await daemon.idle();
  assert.equal(syncs[0]?.result, 'ok', syncs[0]?.error);
  assert.equal(host.linkMonitors.length, 0);
  await daemon.stop();
});
