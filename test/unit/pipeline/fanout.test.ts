/**
 * The CC's fan-out with FakeClock and a fake NC transport: bounded
 * concurrency, supersede of an in-flight older document, per-node back-off,
 * healing from status polls, and stale refusals not retried.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/shared/clock.ts';
import { nullLogger } from '../../../src/shared/logger.ts';
import { EdgenetError } from '../../../src/shared/errors.ts';
import { FanOut } from '../../../src/cluster-controller/fanout.ts';
import type { CcDocument } from '../../../src/cluster-controller/document-store.ts';
import type { BroadcastReply, NodeTarget } from '../../../src/shared/soap/messages.ts';

interface Send {
  node: string;
  sequence: number;
  at: number;
  signal: AbortSignal;
  resolve: (r: BroadcastReply) => void;
  reject: (e: Error) => void;
}

function doc(sequence: number, version = `v${sequence}`): CcDocument {
  return { version, sequence, receivedAt: new Date(sequence * 1000).toISOString(), networkInfo: Buffer.from(`<network-data version="${version}" sequence="${sequence}"/>`).toString('base64'), bytes: 40 };
}

function harness(concurrency: number, mode: (node: string) => 'ok' | 'hang' | 'fail' | 'stale' = () => 'ok') {
  const clock = new FakeClock();
  const sends: Send[] = [];
  const completes: number[] = [];
  const fanout = new FanOut({
    clock,
    logger: nullLogger(),
    concurrency,
    retryBaseMs: 100,
    retryMaxMs: 1000,
    transport: {
      broadcast(node, sent, signal) {
        const sequence = sent.sequence!;
        return new Promise((resolve, reject) => {
          sends.push({ node: node.name, sequence, at: clock.now(), signal, resolve, reject });
          signal.addEventListener('abort', () => reject(new EdgenetError('ABORTED', 'aborted')));
          const m = mode(node.name);
          if (m === 'ok') resolve({ outcome: 'written', sequence });
          else if (m === 'fail') reject(new EdgenetError('UNREACHABLE', 'connection refused'));
          else if (m === 'stale') reject(new EdgenetError('STALE_SEQUENCE', 'older'));
        });
      },
    },
    onComplete: (ms) => completes.push(ms),
  });
  return { clock, sends, fanout, completes };
}

const targets = (n: number): NodeTarget[] => Array.from({ length: n }, (_, i) => ({ name: `n${i + 1}`, url: `https://n${i + 1}/` }));

test('at most NC_FANOUT sends run at once and every node gets the document', async () => {
  const h = harness(3, () => 'hang');
  h.fanout.setDocument(doc(1), targets(10));
  await h.clock.advance(0);
  assert.equal(h.sends.length, 3);
  for (let round = 0; round < 4; round++) {
    for (const s of h.sends.filter((x) => !x.signal.aborted)) s.resolve({ outcome: 'written' });
    await h.clock.advance(0);
  }
  assert.deepEqual([...new Set(h.sends.map((s) => s.node))].sort(), targets(10).map((t) => t.name).sort());
  assert.equal(h.sends.length, 10, 'each node exactly once');
  assert.equal(h.fanout.pendingCount, 0);
  assert.equal(h.completes.length, 1);
});

test('a newer document aborts the in-flight older one for the same node and is sent next', async () => {
  const h = harness(8, () => 'hang');
  h.fanout.setDocument(doc(1), targets(2));
  await h.clock.advance(0);
  assert.deepEqual(h.sends.map((s) => s.sequence), [1, 1]);
  h.fanout.setDocument(doc(2), targets(2));
  await h.clock.advance(0);
  assert.ok(h.sends.slice(0, 2).every((s) => s.signal.aborted), 'old sends aborted');
  assert.deepEqual(h.sends.slice(2).map((s) => `${s.node}:${s.sequence}`).sort(), ['n1:2', 'n2:2']);
  const report = h.fanout.reports();
  assert.ok(report.every((r) => r.lastError === undefined), 'a superseded send is not an error');
});

test('a failing node backs off exponentially (capped) while the others are served', async () => {
  const h = harness(1, (n) => (n === 'n1' ? 'fail' : 'ok'));
  h.fanout.setDocument(doc(1), targets(3));
  await h.clock.advance(0);
  assert.deepEqual(h.sends.map((s) => s.node), ['n1', 'n2', 'n3'], 'a failure frees the only slot at once');
  await h.clock.advance(3000);
  const n1 = h.sends.filter((s) => s.node === 'n1').map((s) => s.at - h.sends[0]!.at);
  const gaps = n1.slice(1).map((t, i) => t - n1[i]!);
  assert.deepEqual(gaps.slice(0, 5), [100, 200, 400, 800, 1000]);
  const r = h.fanout.reports().find((x) => x.name === 'n1')!;
  assert.match(r.lastError ?? '', /connection refused/);
});

test('a status poll showing a failing node answering again ends its back-off', async () => {
  let mode: 'fail' | 'ok' = 'fail';
  const h = harness(4, () => mode);
  h.fanout.setDocument(doc(1), targets(1));
  await h.clock.advance(0);
  await h.clock.advance(1500); // several failures; next retry up to 1 s away
  const before = h.sends.length;
  mode = 'ok';
  h.fanout.onReport('n1', h.clock.now(), { ok: true, report: { name: 'n1', result: 'no-status' } });
  await h.clock.advance(0);
  assert.equal(h.sends.length, before + 1, 'sent right away, not after the back-off');
  assert.equal(h.fanout.pendingCount, 0);
});

test('a node that no longer holds the current document (lost file) is re-sent', async () => {
  const h = harness(4);
  h.fanout.setDocument(doc(5), targets(1));
  await h.clock.advance(10);
  assert.equal(h.sends.length, 1);
  // A poll started before the delivery says "old": ignored.
  h.fanout.onReport('n1', h.clock.now() - 1000, { ok: true, report: { name: 'n1', result: 'ok', deliveredVersion: 'v4' } });
  await h.clock.advance(0);
  assert.equal(h.sends.length, 1);
  // A later poll says the node holds nothing: re-send.
  h.fanout.onReport('n1', h.clock.now() + 1, { ok: true, report: { name: 'n1', result: 'no-status' } });
  await h.clock.advance(0);
  assert.equal(h.sends.length, 2);
  assert.equal(h.sends[1]!.sequence, 5);
});

test('a node refusing the document as stale is not retried', async () => {
  const h = harness(4, () => 'stale');
  h.fanout.setDocument(doc(3), targets(1));
  await h.clock.advance(5000);
  assert.equal(h.sends.length, 1);
  assert.match(h.fanout.reports()[0]!.lastError ?? '', /older/);
});

test('nodes removed from the list are dropped; unreachable polls are reported', async () => {
  const h = harness(4, () => 'hang');
  h.fanout.setDocument(doc(1), targets(3));
  await h.clock.advance(0);
  h.fanout.setDocument(doc(1), targets(2));
  assert.ok(h.sends.find((s) => s.node === 'n3')!.signal.aborted);
  h.fanout.onReport('n2', h.clock.now(), { ok: false, error: 'ECONNREFUSED' });
  const reports = h.fanout.reports();
  assert.deepEqual(reports.map((r) => r.name), ['n1', 'n2']);
  assert.equal(reports[1]!.result, 'unreachable');
  assert.equal(reports[1]!.lastError, 'ECONNREFUSED');
});
