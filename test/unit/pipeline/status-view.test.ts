/** The convergence view (lag arithmetic) and its text rendering for `edgenet status`; the metrics listener. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter } from 'prom-client';
import { statusView } from '../../../src/cloud-controller/broadcast/status-view.ts';
import { formatStatus } from '../../../src/cloud-controller/broadcast/status-format.ts';
import { newRegistry, startMetricsServer } from '../../../src/shared/metrics.ts';

const NOW = 1_700_000_100_000;
const sender = (name: string) => ({ name, ccUrl: `https://${name}/`, failures: 0, delivered: { version: 'v3', sequence: 3, at: NOW - 5000 } });

test('lag: sequences behind and seconds since the oldest unapplied document was built', () => {
  const history = new Map([[1, NOW - 60_000], [2, NOW - 30_000], [3, NOW - 10_000]]);
  const view = statusView({
    now: NOW,
    current: { version: 'v3', sequence: 3, builtAt: NOW - 10_000, bytes: 100 },
    history,
    clusters: [
      {
        sender: sender('a'),
        nodes: [{ name: 'n1', url: 'https://n1/' }, { name: 'n2', url: 'https://n2/' }, { name: 'n3', url: 'https://n3/' }],
        reports: new Map([
          ['n1', { name: 'n1', result: 'ok', appliedSequence: 3, appliedVersion: 'v3' }],
          ['n2', { name: 'n2', result: 'error', appliedSequence: 1, appliedVersion: 'v1', lastError: 'iptables-restore failed' }],
        ]),
      },
    ],
  });
  const [n1, n2, n3] = view.clusters[0]!.nodes;
  assert.deepEqual([n1!.converged, n1!.lagSequences, n1!.lagSeconds], [true, 0, 0]);
  assert.deepEqual([n2!.converged, n2!.lagSequences, n2!.lagSeconds], [false, 2, 30]);
  assert.deepEqual([n3!.converged, n3!.lagSequences, n3!.lagSeconds, n3!.result], [false, 3, 60, 'unknown']);
  assert.equal(view.converged, false);
  const text = formatStatus(view);
  assert.match(text, /NOT converged/);
  assert.match(text, /n1\s+-\/-\s+3\/v3\s+0\s+ok\s+converged/);
  assert.match(text, /n2 .*2 seq, 30s\s+error\s+LAGGING\s+iptables-restore failed/);
});

test('a view with every node on the current version is converged', () => {
  const view = statusView({
    now: NOW,
    current: { version: 'v3', sequence: 3, builtAt: NOW, bytes: 1 },
    history: new Map(),
    clusters: [{ sender: sender('a'), nodes: [{ name: 'n1', url: 'u' }], reports: new Map([['n1', { name: 'n1', result: 'ok', appliedVersion: 'v3', appliedSequence: 3 }]]) }],
  });
  assert.equal(view.converged, true);
  assert.match(formatStatus(view), /all nodes converged/);
});

test('a node whose NC does not answer, or behind a CC that does not, is not converged although its last report was current', () => {
  const view = statusView({
    now: NOW,
    current: { version: 'v3', sequence: 3, builtAt: NOW, bytes: 1 },
    history: new Map(),
    clusters: [
      {
        sender: sender('a'),
        nodes: [{ name: 'n1', url: 'u1' }, { name: 'n2', url: 'u2' }],
        reports: new Map([
          ['n1', { name: 'n1', result: 'ok', appliedVersion: 'v3', appliedSequence: 3 }],
          ['n2', { name: 'n2', result: 'unreachable', appliedVersion: 'v3', appliedSequence: 3, lastError: 'connect ECONNREFUSED' }],
        ]),
      },
      { sender: sender('b'), statusError: 'connect ECONNREFUSED', nodes: [{ name: 'n3', url: 'u3' }], reports: new Map([['n3', { name: 'n3', result: 'ok', appliedVersion: 'v3', appliedSequence: 3 }]]) },
    ],
  });
  const [n1, n2] = view.clusters[0]!.nodes;
  const [n3] = view.clusters[1]!.nodes;
  assert.deepEqual([n1!.converged, n2!.converged, n3!.converged], [true, false, false]);
  assert.equal(n3!.result, 'cc-unreachable');
  assert.equal(view.converged, false, '`edgenet status` exits 1');
});

test('metrics listener: /healthz reflects health(), /metrics serves the registry', async () => {
  const registry = newRegistry('test');
  new Counter({ name: 'edgenet_test_things_total', help: 'x', registers: [registry] }).inc(3);
  let ok = true;
  const server = await startMetricsServer({ host: '127.0.0.1', port: 0, registry, health: () => ({ ok, detail: 1 }) });
  try {
    const h = await fetch(`http://127.0.0.1:${server.port}/healthz`);
    assert.equal(h.status, 200);
    assert.deepEqual(await h.json(), { ok: true, detail: 1 });
    ok = false;
    assert.equal((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status, 503);
    const m = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    assert.match(m, /edgenet_test_things_total 3/);
    assert.match(m, /edgenet_test_process_resident_memory_bytes/);
    assert.equal((await fetch(`http://127.0.0.1:${server.port}/other`)).status, 404);
  } finally {
    await server.close();
  }
});
