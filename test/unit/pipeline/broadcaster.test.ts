/**
 * The CLC broadcaster with FakeClock and a fake CC transport: coalescing,
 * reuse of unchanged documents, one broadcast in flight per cluster,
 * supersede of queued documents, capped exponential back-off, a dead CC not
 * delaying the others, periodic re-broadcast, and convergence reporting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../../src/shared/clock.ts';
import { nullLogger } from '../../../src/shared/logger.ts';
import { EdgenetError } from '../../../src/shared/errors.ts';
import { Broadcaster, type BroadcastSettings } from '../../../src/cloud-controller/broadcast/broadcaster.ts';
import type { EncodedDocument } from '../../../src/cloud-controller/broadcast/cluster-sender.ts';
import type { CloudSnapshot, NodeApplied } from '../../../src/cloud-controller/contracts.ts';
import type { BroadcastReply, NodeReport, NodeTarget, StatusReply } from '../../../src/shared/soap/messages.ts';

interface Call {
  cluster: string;
  at: number;
  sequence: number;
  version: string;
  nodes: readonly NodeTarget[];
  resolve: (r: BroadcastReply) => void;
  reject: (e: Error) => void;
}

const SETTINGS: BroadcastSettings = { minIntervalMs: 200, periodMs: 15_000, timeoutMs: 10_000, retryBaseMs: 500, retryMaxMs: 4000, statusIntervalMs: 1000 };

function harness(options: { auto?: Record<string, 'ok' | 'fail' | 'hang'>; settings?: Partial<BroadcastSettings> } = {}) {
  const clock = new FakeClock();
  const state = { version: 'v1', clusters: ['a', 'b'] };
  let seq = 0;
  let builds = 0;
  let snapshots = 0;
  const calls: Call[] = [];
  const built: number[] = [];
  const applied: (readonly NodeApplied[])[] = [];
  const statusReplies = new Map<string, NodeReport[]>();
  const auto = options.auto ?? {};
  const snapshot = async (): Promise<CloudSnapshot> => {
    snapshots++;
    return {
      config: undefined,
      clcIp: '192.0.2.1',
      clusters: state.clusters.map((name) => ({ name, ccUrl: `https://cc-${name}/`, ccIp: '192.0.2.2', nodes: [{ name: `${name}-n1`, ncUrl: `https://${name}-n1/` }] })),
      instances: [],
      groups: [],
    };
  };
  const b = new Broadcaster({
    clock,
    logger: nullLogger(),
    snapshot,
    build: () => {
      builds++;
      const version = state.version;
      return { version, encode: (s) => `<network-data version="${version}" sequence="${s}"/>` };
    },
    nextSequence: async () => ++seq,
    documentBuilt: async (s) => {
      built.push(s);
    },
    nodesApplied: async (list) => {
      applied.push(list);
    },
    transport: {
      broadcast(cluster, doc: EncodedDocument, nodes) {
        return new Promise<BroadcastReply>((resolve, reject) => {
          calls.push({ cluster: cluster.name, at: clock.now(), sequence: doc.sequence, version: doc.version, nodes, resolve, reject });
          const mode = auto[cluster.name] ?? 'ok';
          if (mode === 'ok') resolve({ outcome: 'stored', version: doc.version, sequence: doc.sequence });
          else if (mode === 'fail') reject(new Error('connection refused'));
        });
      },
      async status(ccUrl): Promise<StatusReply> {
        const name = /cc-(\w+)/.exec(ccUrl)![1]!;
        if (auto[name] === 'fail' || auto[name] === 'hang') throw new Error('unreachable');
        return { nodes: statusReplies.get(name) ?? [] };
      },
    },
    settings: { ...SETTINGS, ...options.settings },
  });
  return { b, clock, state, calls, built, applied, statusReplies, counts: () => ({ builds, snapshots, seq }) };
}

const of = (calls: Call[], cluster: string) => calls.filter((c) => c.cluster === cluster);

test('a burst of changes is coalesced into one build per min interval; unchanged content reuses the document', async () => {
  const h = harness();
  h.b.start();
  await h.clock.advance(0);
  assert.equal(h.counts().builds, 1);
  assert.deepEqual(h.built, [1]);
  for (let i = 0; i < 10; i++) {
    h.b.request();
    await h.clock.advance(10);
  }
  await h.clock.advance(200);
  assert.equal(h.counts().builds, 2, 'ten requests in 100 ms: one more build');
  assert.deepEqual(h.built, [1], 'same content: no new sequence');
  assert.deepEqual(of(h.calls, 'a').map((c) => c.sequence), [1], 'already delivered: not re-sent on a request');
  h.state.version = 'v2';
  h.b.request();
  await h.clock.advance(200);
  assert.deepEqual(h.built, [1, 2]);
  assert.deepEqual(of(h.calls, 'a').map((c) => c.sequence), [1, 2]);
  assert.deepEqual(of(h.calls, 'b').map((c) => c.sequence), [1, 2]);
  assert.deepEqual(of(h.calls, 'a')[1]!.nodes, [{ name: 'a-n1', url: 'https://a-n1/' }], 'node list travels with the document');
  h.b.stop();
});

test('one broadcast in flight per cluster; a newer document supersedes a queued one', async () => {
  const h = harness({ auto: { a: 'hang' } });
  h.b.start();
  await h.clock.advance(0);
  for (const v of ['v2', 'v3', 'v4']) {
    h.state.version = v;
    h.b.request();
    await h.clock.advance(250);
  }
  assert.deepEqual(of(h.calls, 'a').map((c) => c.sequence), [1], 'nothing else starts while seq 1 is in flight');
  assert.deepEqual(of(h.calls, 'b').map((c) => c.sequence), [1, 2, 3, 4], 'the other cluster gets every document at once');
  of(h.calls, 'a')[0]!.resolve({ outcome: 'stored' });
  await h.clock.advance(0);
  assert.deepEqual(of(h.calls, 'a').map((c) => c.sequence), [1, 4], 'seq 2 and 3 were superseded while queued');
  h.b.stop();
});

test('a failing cluster is retried with capped exponential back-off and never delays the others', async () => {
  const h = harness({ auto: { a: 'fail' } });
  h.b.start();
  await h.clock.advance(0);
  await h.clock.advance(12_000);
  const times = of(h.calls, 'a').map((c) => c.at - of(h.calls, 'a')[0]!.at);
  assert.deepEqual(times.slice(0, 6), [0, 500, 1500, 3500, 7500, 11500]);
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  assert.deepEqual(gaps.slice(0, 5), [500, 1000, 2000, 4000, 4000], 'doubling from 500 ms, capped at 4 s');
  // Meanwhile b got every new document immediately.
  h.state.version = 'v2';
  const requestedAt = h.clock.now();
  h.b.request();
  await h.clock.advance(200);
  assert.equal(of(h.calls, 'b').at(-1)!.sequence, 2);
  assert.ok(of(h.calls, 'b').at(-1)!.at - requestedAt <= SETTINGS.minIntervalMs, 'b is not held back by a');
  const view = h.b.view();
  const a = view.clusters.find((c) => c.name === 'a')!;
  assert.ok(a.failures >= 5);
  assert.match(a.lastError ?? '', /connection refused/);
  h.b.stop();
});

test('a retry after failure sends the latest document, and success resets the back-off', async () => {
  const auto: Record<string, 'ok' | 'fail' | 'hang'> = { a: 'fail' };
  const h = harness({ auto });
  h.b.start();
  await h.clock.advance(0); // seq 1 fails
  h.state.version = 'v2';
  h.b.request();
  await h.clock.advance(200); // seq 2 queued behind the back-off
  auto.a = 'ok';
  await h.clock.advance(400);
  assert.deepEqual(of(h.calls, 'a').map((c) => c.sequence), [1, 2]);
  assert.equal(h.b.view().clusters.find((c) => c.name === 'a')!.failures, 0);
  h.state.version = 'v3';
  h.b.request();
  await h.clock.advance(200);
  assert.equal(of(h.calls, 'a').at(-1)!.sequence, 3, 'no back-off after a success');
  h.b.stop();
});

test('the periodic re-broadcast re-sends the unchanged document to every cluster', async () => {
  const h = harness();
  h.b.start();
  await h.clock.advance(0);
  assert.equal(of(h.calls, 'a').length, 1);
  await h.clock.advance(15_000);
  assert.deepEqual(of(h.calls, 'a').map((c) => c.sequence), [1, 1]);
  assert.deepEqual(h.built, [1]);
  h.b.stop();
});

test('clusters that disappear from the snapshot stop being sent to', async () => {
  const h = harness();
  h.b.start();
  await h.clock.advance(0);
  h.state.clusters = ['a'];
  h.state.version = 'v2';
  h.b.request();
  await h.clock.advance(200);
  assert.deepEqual(of(h.calls, 'b').map((c) => c.sequence), [1]);
  assert.deepEqual(h.b.view().clusters.map((c) => c.name), ['a']);
  h.b.stop();
});

test('status polls feed nodesApplied and the view shows convergence and lag', async () => {
  const h = harness();
  h.b.start();
  await h.clock.advance(0);
  h.statusReplies.set('a', [{ name: 'a-n1', result: 'ok', deliveredSequence: 1, deliveredVersion: 'v1', appliedSequence: 1, appliedVersion: 'v1' }]);
  h.statusReplies.set('b', [{ name: 'b-n1', result: 'no-status', deliveredSequence: 1, deliveredVersion: 'v1' }]);
  await h.clock.advance(1000);
  assert.deepEqual(h.applied.at(-1), [{ cluster: 'a', node: 'a-n1', appliedSequence: 1, appliedVersion: 'v1' }]);
  let view = h.b.view();
  assert.equal(view.converged, false);
  const nodeA = view.clusters.find((c) => c.name === 'a')!.nodes[0]!;
  assert.equal(nodeA.converged, true);
  assert.equal(nodeA.lagSequences, 0);
  const nodeB = view.clusters.find((c) => c.name === 'b')!.nodes[0]!;
  assert.equal(nodeB.converged, false);
  assert.equal(nodeB.lagSequences, 1);
  assert.ok(nodeB.lagSeconds >= 1);
  // The cloud moves on; a's node applies it, b's node stays behind (down).
  h.state.version = 'v2';
  h.b.request();
  await h.clock.advance(200);
  h.statusReplies.set('a', [{ name: 'a-n1', result: 'ok', appliedSequence: 2, appliedVersion: 'v2' }]);
  await h.clock.advance(3000);
  view = h.b.view();
  assert.equal(view.current?.sequence, 2);
  assert.equal(view.clusters.find((c) => c.name === 'a')!.nodes[0]!.converged, true);
  assert.equal(view.clusters.find((c) => c.name === 'b')!.nodes[0]!.lagSequences, 2);
  const callsBefore = h.applied.length;
  await h.clock.advance(3000);
  assert.equal(h.applied.length, callsBefore, 'nodesApplied is called only when something changed');
  h.b.stop();
});

test('an unreachable CC shows its nodes as cc-unreachable with the error', async () => {
  const h = harness({ auto: { b: 'fail' } });
  h.b.start();
  await h.clock.advance(1000);
  const c = h.b.view().clusters.find((x) => x.name === 'b')!;
  assert.match(c.statusError ?? '', /unreachable/);
  assert.equal(c.nodes[0]!.result, 'cc-unreachable');
  assert.equal(c.nodes[0]!.converged, false);
  h.b.stop();
});

test('a failed build is retried and does not stop the broadcaster', async () => {
  const h = harness();
  let fail = true;
  const orig = h.state;
  const b = new Broadcaster({
    clock: h.clock,
    logger: nullLogger(),
    snapshot: async () => {
      if (fail) throw new Error('database locked');
      return { config: undefined, clcIp: '192.0.2.1', clusters: [], instances: [], groups: [] };
    },
    build: () => ({ version: orig.version, encode: (s) => `<network-data version="${orig.version}" sequence="${s}"/>` }),
    nextSequence: async () => 7,
    documentBuilt: async () => undefined,
    nodesApplied: async () => undefined,
    transport: { broadcast: async () => ({ outcome: 'stored' }), status: async () => ({ nodes: [] }) },
    settings: SETTINGS,
  });
  b.start();
  await h.clock.advance(0);
  assert.equal(b.document as unknown, undefined);
  fail = false;
  await h.clock.advance(1000);
  assert.equal((b.document as { sequence?: number } | undefined)?.sequence, 7);
  b.stop();
});

test('NOT_LEADER from drawing a sequence stops the broadcaster (no send, no retry) and tells the plugin to resign', async () => {
  const clock = new FakeClock();
  const resigned: string[] = [];
  let draws = 0;
  let sends = 0;
  const b = new Broadcaster({
    clock,
    logger: nullLogger(),
    snapshot: async () => ({ config: undefined, clcIp: '192.0.2.1', clusters: [{ name: 'a', ccUrl: 'https://cc-a/', ccIp: '192.0.2.2', nodes: [] }], instances: [], groups: [] }),
    build: () => ({ version: 'v1', encode: (s) => `<network-data version="v1" sequence="${s}"/>` }),
    nextSequence: async () => {
      draws++;
      throw new EdgenetError('NOT_LEADER', 'term 3 has begun');
    },
    documentBuilt: async () => undefined,
    nodesApplied: async () => undefined,
    notLeader: (reason) => resigned.push(reason),
    transport: {
      broadcast: async () => {
        sends++;
        return { outcome: 'stored' };
      },
      status: async () => ({ nodes: [] }),
    },
    settings: SETTINGS,
  });
  b.start();
  await clock.advance(0);
  await clock.advance(60_000);
  assert.equal(draws, 1, 'no retry after NOT_LEADER');
  assert.equal(sends, 0);
  assert.deepEqual(resigned, ['term 3 has begun']);
  b.stop();
});
