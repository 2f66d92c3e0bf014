/**
 * Issue 11 item 6: a BroadcastNetworkInfo without a sequence must not replace
 * the CC's document and so bypass the stale check — unless the CC is told to
 * (ACCEPT_UNSEQUENCED="Y", for a Eucalyptus CLC). Default: refused, UNSEQUENCED.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { tmpdir } from 'node:os';
import { FakeClock } from '../../../src/shared/clock.ts';
import { EdgenetError } from '../../../src/shared/errors.ts';
import { DocumentStore } from '../../../src/cluster-controller/document-store.ts';
import { resolveCcConfig } from '../../../src/cluster-controller/main.ts';
import { freshness, isRefusalCode } from '../../../src/shared/freshness.ts';

const gni = (version: string, sequence?: number) =>
  Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<network-data version="${version}"${sequence === undefined ? '' : ` sequence="${sequence}"`}></network-data>\n`);

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = mkdtempSync(path.join(tmpdir(), 'edgenet-unseq-'));
  try {
    await fn(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

test('freshness: an unsequenced document is refused only when the caller says so', () => {
  const held = { sequence: 10, version: 'a' };
  assert.deepEqual(freshness({ version: 'e' }, held), { fresh: true, verdict: 'newer' }, 'default (NC, netd): accepted');
  const refused = freshness({ version: 'e' }, held, 'held', { acceptUnsequenced: false });
  assert.equal(refused.fresh, false);
  assert.equal(!refused.fresh && refused.code, 'UNSEQUENCED');
  assert.equal(freshness({ version: 'e' }, undefined, 'held', { acceptUnsequenced: false }).fresh, false, 'even with nothing held');
  assert.equal(freshness({ version: 'e', sequence: 11 }, held, 'held', { acceptUnsequenced: false }).fresh, true, 'sequenced documents are unaffected');
  assert.ok(isRefusalCode('UNSEQUENCED'), 'the fan-out does not retry it');
});

test('CC store: by default a document without a sequence is refused (UNSEQUENCED) and the held one stays', () =>
  withDir(async (dir) => {
    const file = path.join(dir, 'network-info.json');
    const store = new DocumentStore(file, new FakeClock());
    await (await store.accept({ networkInfo: gni('v5', 5).toString('base64'), xml: gni('v5', 5) })).persisted;
    const err = await store.accept({ networkInfo: gni('evil').toString('base64'), xml: gni('evil'), version: 'evil' }).catch((e: unknown) => e);
    assert.ok(err instanceof EdgenetError && err.code === 'UNSEQUENCED', String(err));
    assert.equal(store.current?.version, 'v5');
    assert.equal((JSON.parse(await fs.readFile(file, 'utf8')) as { version: string }).version, 'v5');
  }));

test('CC store: with ACCEPT_UNSEQUENCED a Eucalyptus document replaces the held one', () =>
  withDir(async (dir) => {
    const store = new DocumentStore(path.join(dir, 'network-info.json'), new FakeClock(), { acceptUnsequenced: true });
    await (await store.accept({ networkInfo: gni('v5', 5).toString('base64'), xml: gni('v5', 5) })).persisted;
    const euca = await store.accept({ networkInfo: gni('a1b2c3d4').toString('base64'), xml: gni('a1b2c3d4') });
    assert.equal(euca.outcome, 'stored');
    assert.equal(store.current?.version, 'a1b2c3d4');
    await euca.persisted; // before withDir removes the directory (an unawaited write races the cleanup)
  }));

test('CC config: ACCEPT_UNSEQUENCED is off unless set to Y; other values are config errors', () => {
  assert.equal(resolveCcConfig({}, {}).config.acceptUnsequenced, false);
  assert.equal(resolveCcConfig({}, { EDGENET_CC_ACCEPT_UNSEQUENCED: 'Y' }).config.acceptUnsequenced, true);
  const bad = resolveCcConfig({}, { EDGENET_CC_ACCEPT_UNSEQUENCED: 'yes' });
  assert.equal(bad.config.acceptUnsequenced, false);
  assert.ok(bad.diagnostics.some((d) => d.path === 'ACCEPT_UNSEQUENCED' && d.severity === 'error'), JSON.stringify(bad.diagnostics));
});
