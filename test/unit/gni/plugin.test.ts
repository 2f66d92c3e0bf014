/** The GNI admin routes, driven through a fake ClcContext. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiHandler, ApiRequest, ClcContext, CloudSnapshot } from '../../../src/cloud-controller/contracts.ts';
import { gniPlugin } from '../../../src/cloud-controller/gni/plugin.ts';
import { buildGni } from '../../../src/cloud-controller/gni/builder.ts';
import { parseGni, serializeGni } from '../../../src/shared/gni/codec.ts';
import { UserError } from '../../../src/shared/errors.ts';
import { syntheticSnapshot } from '../../fixtures/gni/synthetic.ts';

async function started(snapshot: CloudSnapshot): Promise<{ routes: Map<string, ApiHandler>; sequences: number }> {
  const routes = new Map<string, ApiHandler>();
  let sequences = 0;
  const ctx = {
    snapshot: async () => snapshot,
    route: (method: string, pattern: string, handler: ApiHandler) => routes.set(`${method} ${pattern}`, handler),
    nextSequence: async () => ++sequences,
  } as unknown as ClcContext;
  await gniPlugin().start(ctx);
  return { routes, get sequences() { return sequences; } };
}

const request = (query = ''): ApiRequest => ({ method: 'GET', path: '/v1/gni', params: {}, query: new URLSearchParams(query), body: undefined, remoteAddress: '127.0.0.1' });

test('GET /v1/gni returns the current document as XML, without drawing a sequence', async () => {
  const snap = syntheticSnapshot({ instances: 20, groups: 3, rulesPerGroup: 2, clusters: 1, nodesPerCluster: 2 });
  const env = await started(snap);
  const handler = env.routes.get('GET /v1/gni');
  assert.ok(handler, 'route registered');
  const res = await handler(request());
  assert.equal(res.status, 200);
  assert.equal(typeof res.body, 'string');
  assert.equal(res.body, serializeGni(buildGni(snap, {})));
  const parsed = parseGni(res.body as string);
  assert.ok(parsed.ok);
  assert.equal(parsed.value.sequence, undefined);
  assert.equal(env.sequences, 0);
});

test('GET /v1/gni?format=json returns the model', async () => {
  const snap = syntheticSnapshot({ instances: 5, groups: 2, rulesPerGroup: 1, clusters: 1, nodesPerCluster: 1 });
  const { routes } = await started(snap);
  const res = await routes.get('GET /v1/gni')!(request('format=json'));
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, buildGni(snap, {}));
});

test('an unknown format is a 400 user error', async () => {
  const { routes } = await started(syntheticSnapshot({ instances: 1, groups: 1, rulesPerGroup: 0, clusters: 1, nodesPerCluster: 1 }));
  await assert.rejects(routes.get('GET /v1/gni')!(request('format=yaml')), (err: unknown) => err instanceof UserError && err.status === 400);
});
