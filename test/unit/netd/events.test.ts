/**
 * The sync event log (bounded JSON lines another process reads), the status
 * files, and the metrics endpoint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendEvent, formatEvent, parseEvents, readEvents, type SyncEvent } from '../../../src/netd/events.ts';
import { readStatus, statusFiles, writeStatus } from '../../../src/netd/status.ts';
import { NetdMetrics, parseListen, serveMetrics } from '../../../src/netd/metrics.ts';

function memIo() {
  const files = new Map<string, string>();
  return { files, readFile: async (f: string) => files.get(f), writeFile: async (f: string, c: string) => void files.set(f, c) };
}

const EVENT: SyncEvent = {
  at: '2026-11-22T03:00:00.000Z',
  trigger: 'file',
  full: false,
  version: 'abc',
  sequence: 7,
  result: 'ok',
  durationMs: 12,
  writes: 1,
  steps: [{ name: 'iptables-write', description: 'iptables filter: write EDGENET-sg-a', ms: 5, writes: 1 }],
};

test('the event log keeps only the last N syncs and survives a damaged line', async () => {
  const io = memIo();
  for (let i = 0; i < 12; i++) await appendEvent(io, '/e', { ...EVENT, sequence: i }, 10);
  const events = await readEvents(io, '/e');
  assert.deepEqual(events.map((e) => e.sequence), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  const damaged = `${io.files.get('/e')!}{"at": broken\n`;
  assert.equal(parseEvents(damaged).length, 10);
  assert.match(formatEvent(EVENT), /file version=abc seq=7 result=ok 12ms writes=1\n\s+5ms W iptables filter: write EDGENET-sg-a/);
});

test('status: the version file is written only for an applied document', async () => {
  const io = memIo();
  const files = statusFiles('/run/x');
  await writeStatus(io, files, { node: 'n', result: 'invalid-document', at: 't', steps: [] });
  assert.equal(io.files.get(files.version), undefined);
  await writeStatus(io, files, { node: 'n', result: 'ok', at: 't', appliedVersion: 'v1', steps: [] });
  assert.equal(io.files.get(files.version), 'v1\n');
  assert.equal((await readStatus(io, files))?.appliedVersion, 'v1');
  io.files.set(files.status, '{not json');
  assert.equal(await readStatus(io, files), undefined);
});

test('metrics: /metrics exposes sync figures, /healthz follows the last result', async () => {
  const metrics = new NetdMetrics();
  let healthy = true;
  const server = await serveMetrics(metrics, '127.0.0.1:0', () => healthy);
  try {
    metrics.record(
      {
        result: 'ok',
        status: { node: 'n', result: 'ok', at: 't', steps: [] },
        steps: [],
        writes: 3,
        durationMs: 20,
        phases: {},
        notes: [],
        desired: {
          sequence: 9,
          ipsets: [{ name: 'EDGENET-sg-a', type: 'hash:ip', members: [], comment: '' }],
          iptables: { filter: { chains: [{ name: 'EDGENET-FWD', rules: [{ args: [], comment: '' }] }], hooks: [] }, nat: { chains: [], hooks: [] } },
          ebtables: { filter: { chains: [], hooks: [] }, nat: { chains: [], hooks: [] } },
        } as never,
      },
      true,
    );
    const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    assert.match(text, /edgenet_netd_sync_duration_seconds_count\{full="true"\} 1/);
    assert.match(text, /edgenet_netd_last_applied_sequence 9/);
    assert.match(text, /edgenet_netd_rules_owned\{tool="iptables",table="filter"\} 1/);
    assert.match(text, /edgenet_netd_ipsets_owned 1/);
    assert.equal((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status, 200);
    healthy = false;
    assert.equal((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status, 503);
  } finally {
    await server.close();
  }
  assert.deepEqual(parseListen(''), { host: '127.0.0.1', port: 9776 });
  assert.deepEqual(parseListen(':9999'), { host: '127.0.0.1', port: 9999 });
});
