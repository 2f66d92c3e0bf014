/**
 * The broadcaster asks for incremental snapshots on requested runs and for a
 * full read on periodic runs and retries (the safety net of the snapshot
 * cache), and logs which kind of read each built document came from.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/shared/clock.ts';
import { nullLogger, type Logger } from '../../../src/shared/logger.ts';
import { Broadcaster, encodeBuilt } from '../../../src/cloud-controller/broadcast/broadcaster.ts';
import type { CloudSnapshot } from '../../../src/cloud-controller/contracts.ts';

test('requested runs read incrementally; periodic runs and retries read everything; the log says which', async () => {
  const clock = new FakeClock();
  const asked: boolean[] = [];
  const logged: Record<string, unknown>[] = [];
  const logger: Logger = Object.assign(Object.create(nullLogger()) as Logger, {
    info: (message: string, meta?: Record<string, unknown>) => {
      if (message === 'network document built') logged.push(meta ?? {});
    },
  });
  let version = 0;
  let failNext = false;
  const kinds = new WeakMap<CloudSnapshot, { kind: 'full' | 'incremental'; reason: string }>();
  const b = new Broadcaster({
    clock,
    logger,
    snapshot: async ({ full }) => {
      asked.push(full);
      if (failNext) {
        failNext = false;
        throw new Error('store busy');
      }
      const s: CloudSnapshot = { config: undefined, clcIp: '192.0.2.1', clusters: [], instances: [], groups: [] };
      kinds.set(s, { kind: full ? 'full' : 'incremental', reason: full ? 'requested' : 'rules of 1 group(s)' });
      return s;
    },
    describeSnapshot: (s) => kinds.get(s),
    build: () => {
      const v = `v${++version}`;
      return { version: v, encode: (sequence) => Buffer.from(`<network-data version="${v}" sequence="${sequence}"/>`) };
    },
    nextSequence: async () => version,
    documentBuilt: async () => {},
    nodesApplied: async () => {},
    transport: {
      broadcast: async () => ({ outcome: 'stored' }),
      status: async () => ({ nodes: [] }),
    },
    settings: { minIntervalMs: 100, periodMs: 10_000, timeoutMs: 1000, retryBaseMs: 500, retryMaxMs: 1000, statusIntervalMs: 60_000 },
  });
  b.start();
  await clock.advance(0);
  b.request();
  await clock.advance(200);
  await clock.advance(10_000);
  failNext = true;
  b.request();
  await clock.advance(200);
  await clock.advance(600);
  b.stop();

  // start (a request), request, periodic, failed request, its retry.
  assert.deepEqual(asked, [false, false, true, false, true]);
  assert.deepEqual(
    logged.map((m) => [m.reason, m.snapshot]),
    [
      ['request', 'incremental'],
      ['request', 'incremental'],
      ['periodic', 'full'],
      ['retry', 'full'],
    ],
  );
  for (const m of logged) for (const key of ['snapshotMs', 'ms', 'buildMs', 'encodeMs', 'storeMs']) assert.equal(typeof m[key], 'number', key);
  assert.equal(b.document?.version, `v${version}`);
});

test('encodeBuilt takes text or bytes and gives the same wire document', () => {
  const text = '<?xml version="1.0"?>\n<network-data version="abc" sequence="4">é</network-data>\n';
  const fromText = encodeBuilt({ version: 'abc', encode: () => text }, 4, 9);
  const bytes = Buffer.from(`xx${text}`).subarray(2);
  const fromBytes = encodeBuilt({ version: 'abc', encode: () => bytes }, 4, 9);
  assert.deepEqual(fromBytes, fromText);
  assert.equal(Buffer.from(fromText.base64, 'base64').toString('utf8'), text);
  assert.equal(fromText.bytes, Buffer.byteLength(text));
});
