/** The NC's held document and the CC's document store: sequence rules, skip on same version, atomic 0600 writes, durability. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, promises as fs, statSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { tmpdir } from 'node:os';
import { FakeClock } from '../../../src/shared/clock.ts';
import { EdgenetError } from '../../../src/shared/errors.ts';
import { HeldDocument } from '../../../src/node-controller/held-document.ts';
import { DocumentStore } from '../../../src/cluster-controller/document-store.ts';
import { nodeReport } from '../../../src/node-controller/netd-report.ts';

const gni = (version: string, sequence?: number, body = '') =>
  Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<network-data version="${version}"${sequence === undefined ? '' : ` sequence="${sequence}"`}>${body}</network-data>\n`);

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = mkdtempSync(path.join(tmpdir(), 'edgenet-pl-unit-'));
  try {
    await fn(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

const code = (c: string) => (err: unknown) => err instanceof EdgenetError && err.code === c;

test('NC: writes newer documents (0640, no temp files left), skips the same version, refuses older sequences', () =>
  withDir(async (dir) => {
    const file = path.join(dir, 'run', 'global_network_info.xml');
    const held = new HeldDocument(file, new FakeClock());
    assert.deepEqual(await held.load(), {});
    assert.equal((await held.accept(gni('v1', 1), { version: 'v1', sequence: 1 })).outcome, 'written');
    assert.equal(statSync(file).mode & 0o777, 0o640);
    const mtime = statSync(file).mtimeMs;
    assert.equal((await held.accept(gni('v1', 1), { sequence: 1 })).outcome, 'skipped');
    assert.equal(statSync(file).mtimeMs, mtime);
    assert.equal((await held.accept(gni('v2', 3), {})).outcome, 'written');
    await assert.rejects(held.accept(gni('v9', 2), {}), code('STALE_SEQUENCE'));
    await assert.rejects(held.accept(gni('v9', 3), {}), code('SEQUENCE_CONFLICT'), 'same sequence, other content');
    assert.equal((await fs.readFile(file, 'utf8')), gni('v2', 3).toString());
    assert.deepEqual(readdirSync(path.dirname(file)), ['global_network_info.xml']);
  }));

test('NC: refuses non-GNI payloads and request/document mismatches; accepts Eucalyptus documents without sequence', () =>
  withDir(async (dir) => {
    const file = path.join(dir, 'gni.xml');
    const held = new HeldDocument(file, new FakeClock());
    await held.load();
    await assert.rejects(held.accept(Buffer.from('<html/>'), {}), code('NOT_A_GNI'));
    await assert.rejects(held.accept(gni('v1', 1), { version: 'other' }), code('VERSION_MISMATCH'));
    await assert.rejects(held.accept(gni('v1', 1), { sequence: 2 }), code('SEQUENCE_MISMATCH'));
    assert.equal(await fs.stat(file).catch(() => undefined), undefined, 'nothing written');
    assert.equal((await held.accept(gni('v5', 5), {})).outcome, 'written');
    const euca = await held.accept(gni('abcd1234'), { version: 'abcd1234' });
    assert.equal(euca.outcome, 'written');
    assert.equal(euca.held.sequence, 5, 'a sequence-less document does not lower the held sequence');
    await assert.rejects(held.accept(gni('v4', 4), {}), code('STALE_SEQUENCE'));
  }));

test('NC: after a restart the held version/sequence come from the file header', () =>
  withDir(async (dir) => {
    const file = path.join(dir, 'gni.xml');
    await new HeldDocument(file, new FakeClock()).load().then(async () => {
      const a = new HeldDocument(file, new FakeClock());
      await a.load();
      await a.accept(gni('v7', 7, '<x/>'.repeat(1000)), {});
    });
    const b = new HeldDocument(file, new FakeClock());
    const h = await b.load();
    assert.equal(h.version, 'v7');
    assert.equal(h.sequence, 7);
    await assert.rejects(b.accept(gni('v6', 6), {}), code('STALE_SEQUENCE'));
  }));

test('NC: concurrent accepts are serialized (the newest wins, the older is refused)', () =>
  withDir(async (dir) => {
    const file = path.join(dir, 'gni.xml');
    const held = new HeldDocument(file, new FakeClock());
    await held.load();
    const results = await Promise.allSettled([held.accept(gni('v9', 9), {}), held.accept(gni('v8', 8), {})]);
    assert.equal(results[0]!.status, 'fulfilled');
    assert.equal(results[1]!.status, 'rejected');
    assert.equal(held.current.sequence, 9);
  }));

test('NC status: "no-status" without a netd status file, netd fields with one', () =>
  withDir(async (dir) => {
    const statusFile = path.join(dir, 'netd-status.json');
    const held = { version: 'v2', sequence: 2, at: '2026-01-01T00:00:00.000Z' };
    const none = await nodeReport({ node: 'n1', statusFile, held });
    assert.equal(none.result, 'no-status');
    assert.equal(none.deliveredSequence, 2);
    await fs.writeFile(statusFile, JSON.stringify({ node: 'n1', result: 'error', at: '2026-01-01T00:00:01.000Z', appliedVersion: 'v1', appliedSequence: 1, error: 'iptables-restore failed', steps: [] }));
    const r = await nodeReport({ node: 'n1', statusFile, held });
    assert.equal(r.result, 'error');
    assert.equal(r.appliedSequence, 1);
    assert.equal(r.lastError, 'iptables-restore failed');
    await fs.writeFile(statusFile, '{not json');
    assert.equal((await nodeReport({ node: 'n1', statusFile, held })).result, 'no-status');
  }));

test('CC: stores durably, reports unchanged for a re-broadcast, refuses older sequences, survives a restart', () =>
  withDir(async (dir) => {
    const file = path.join(dir, 'cc', 'network-info.json');
    const clock = new FakeClock();
    const store = new DocumentStore(file, clock);
    assert.equal(await store.load(), undefined);
    const nodes = [{ name: 'n1', url: 'https://n1:8775/' }];
    const xml = gni('v3', 3);
    const first = await store.accept({ networkInfo: xml.toString('base64'), xml, nodes });
    assert.equal(first.outcome, 'stored');
    await first.persisted;
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal((await store.accept({ networkInfo: xml.toString('base64'), xml, nodes })).outcome, 'unchanged');
    await assert.rejects(store.accept({ networkInfo: gni('v2', 2).toString('base64'), xml: gni('v2', 2) }), code('STALE_SEQUENCE'));
    // Writes are chained: after a burst the newest document is the one on disk.
    const burst = await Promise.all([4, 5, 6].map((n) => store.accept({ networkInfo: gni(`v${n}`, n).toString('base64'), xml: gni(`v${n}`, n), nodes })));
    await Promise.all(burst.map((b) => b.persisted));
    assert.equal((JSON.parse(await fs.readFile(file, 'utf8')) as { sequence: number }).sequence, 6);
    const back = await store.accept({ networkInfo: gni('v3', 3).toString('base64'), xml: gni('v3', 3), nodes }).catch((e: unknown) => e);
    assert.ok(back instanceof EdgenetError && back.code === 'STALE_SEQUENCE');
    const again = new DocumentStore(file, clock, { acceptUnsequenced: true }); // ACCEPT_UNSEQUENCED=Y: the Eucalyptus case below
    const loaded = await again.load();
    assert.equal(loaded?.sequence, 6);
    assert.deepEqual(loaded?.nodes, nodes);
    assert.equal(Buffer.from(loaded!.networkInfo, 'base64').toString(), gni('v6', 6).toString());
    // A sequence-less (Eucalyptus) request keeps the stored node list.
    const euca = await again.accept({ networkInfo: gni('abcd').toString('base64'), xml: gni('abcd') });
    assert.deepEqual(euca.doc.nodes, nodes);
    // Its write must end before the directory is removed (withDir): an unawaited write raced the cleanup (ENOTEMPTY).
    await euca.persisted;
    assert.deepEqual((JSON.parse(await fs.readFile(file, 'utf8')) as { nodes: unknown }).nodes, nodes);
  }));
