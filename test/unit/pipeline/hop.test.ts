/**
 * The latency work on the CLC → CC → NC hop: envelopes built as bytes, the
 * CC's stored JSON without escaping the Base64, the body reader, the NC's
 * rename-then-fsync publication and its check of what it finds at start.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, promises as fs, statSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { envelope, bodyElement } from '../../../src/shared/soap/envelope.ts';
import { broadcastEnvelope, broadcastInner, parseBroadcast, type BroadcastRequest } from '../../../src/shared/soap/messages.ts';
import { readLimitedBody } from '../../../src/shared/soap/guard.ts';
import { Timing } from '../../../src/shared/soap/timing.ts';
import { storedBytes, DocumentStore, type CcDocument } from '../../../src/cluster-controller/document-store.ts';
import { publishSharedFile } from '../../../src/node-controller/shared-file.ts';
import { HeldDocument } from '../../../src/node-controller/held-document.ts';
import { FakeClock } from '../../../src/shared/clock.ts';
import { EdgenetError } from '../../../src/shared/errors.ts';
import { nullLogger } from '../../../src/shared/logger.ts';

const code = (c: string) => (err: unknown) => err instanceof EdgenetError && err.code === c;

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = mkdtempSync(path.join(tmpdir(), 'edgenet-pl-hop-'));
  try {
    await fn(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

const gni = (version: string, sequence: number, body = '<instances/>') =>
  Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<network-data version="${version}" sequence="${sequence}">${body}</network-data>\n`);

test('broadcastEnvelope: the same bytes as the string writer for Base64, and for text that needs escaping', () => {
  const base: BroadcastRequest = { correlationId: 'c&1', version: 'v1', sequence: 7, networkInfo: '', nodes: [{ name: 'n1', url: 'https://10.0.0.7:8775/' }] };
  const cases = [
    gni('v1', 7).toString('base64'),
    'PHg+\nPC94Pg==', // line-wrapped (whitespace is left as is)
    'a<b&c>d', // not Base64: escaped, never written raw
    'ļ<', // U+013C truncates to "<" in latin1: must take the escaping path
    'é', // non-ASCII without markup
  ];
  for (const networkInfo of cases) {
    const req = { ...base, networkInfo };
    const bytes = broadcastEnvelope('BroadcastNetworkInfo', req);
    assert.deepEqual(bytes, Buffer.from(envelope('BroadcastNetworkInfo', broadcastInner(req)), 'utf8'), JSON.stringify(networkInfo));
    assert.equal(parseBroadcast(bodyElement(bytes.toString('utf8'))).networkInfo, networkInfo);
  }
  const noNodes = broadcastEnvelope('ncBroadcastNetworkInfo', { networkInfo: 'QUFB', version: 'v', sequence: 1 });
  assert.equal(noNodes.toString(), envelope('ncBroadcastNetworkInfo', broadcastInner({ networkInfo: 'QUFB', version: 'v', sequence: 1 })));
});

test('CC stored JSON: Base64 copied as is when it decodes to its nominal length, JSON.stringify otherwise; both load back', () => {
  const xml = gni('v1', 3);
  const doc: CcDocument = { version: 'v1', sequence: 3, receivedAt: '2026-01-01T00:00:00.000Z', nodes: [{ name: 'n"1', url: 'https://x/' }], networkInfo: xml.toString('base64'), bytes: xml.length };
  assert.deepEqual(JSON.parse(storedBytes(doc, xml.length).toString()), doc);
  const wrapped = { ...doc, networkInfo: doc.networkInfo.replace(/(.{76})/g, '$1\n') };
  assert.deepEqual(JSON.parse(storedBytes(wrapped, xml.length).toString()), wrapped, 'line-wrapped Base64 is escaped');
  // storedBytes is given the decoded length of the text (the CC decoded it): characters outside the alphabet shorten it.
  const odd = { ...doc, networkInfo: `"\\${doc.networkInfo.slice(2)}` };
  assert.deepEqual(JSON.parse(storedBytes(odd, Buffer.from(odd.networkInfo, 'base64').length).toString()), odd, 'a length that does not match forces JSON.stringify');
});

test('CC store: the stored file loads after a restart and holds the Base64 exactly as received', () =>
  withDir(async (dir) => {
    const file = path.join(dir, 'network-info.json');
    const store = new DocumentStore(file, new FakeClock());
    await store.load();
    const xml = gni('v2', 5);
    const networkInfo = xml.toString('base64');
    const { outcome, persisted } = await store.accept({ networkInfo, xml, version: 'v2', sequence: 5, nodes: [{ name: 'n1', url: 'https://n1/' }] });
    assert.equal(outcome, 'stored');
    await persisted;
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const again = new DocumentStore(file, new FakeClock());
    const loaded = await again.load();
    assert.equal(loaded?.networkInfo, networkInfo);
    assert.deepEqual([loaded?.version, loaded?.sequence, loaded?.nodes], ['v2', 5, [{ name: 'n1', url: 'https://n1/' }]]);
    await assert.rejects(again.accept({ networkInfo: gni('v1', 4).toString('base64'), xml: gni('v1', 4) }), code('STALE_SEQUENCE'));
  }));

function fakeRequest(chunks: Buffer[], headers: Record<string, string>): IncomingMessage {
  return Object.assign(Readable.from(chunks, { objectMode: false }), { headers }) as unknown as IncomingMessage;
}

test('body reader: declared length (one buffer), chunked, and over the limit', async () => {
  const parts = [Buffer.from('hello '), Buffer.from('big '), Buffer.from('world')];
  const all = Buffer.concat(parts);
  assert.deepEqual(await readLimitedBody(fakeRequest(parts, { 'content-length': String(all.length) }), 1024), all);
  assert.deepEqual(await readLimitedBody(fakeRequest(parts, {}), 1024), all);
  assert.deepEqual(await readLimitedBody(fakeRequest(parts, { 'content-length': '3' }), 1024), all, 'more than declared is still read whole');
  await assert.rejects(readLimitedBody(fakeRequest(parts, {}), 10), code('REQUEST_TOO_LARGE'));
  await assert.rejects(readLimitedBody(fakeRequest(parts, { 'content-length': '11' }), 10), code('REQUEST_TOO_LARGE'));
  await assert.rejects(readLimitedBody(fakeRequest(parts, { 'content-length': 'x' }), 10), code('BAD_REQUEST'));
});

test('NC publish: content in place, mode 0600, no temp file left, marks in order; a failed rename leaves nothing', () =>
  withDir(async (dir) => {
    const file = path.join(dir, 'global_network_info.xml');
    const timing = new Timing();
    await publishSharedFile(file, gni('v1', 1), { mode: 0o600, timing });
    assert.deepEqual(await fs.readFile(file), gni('v1', 1));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(Object.keys(timing.phases()), ['write', 'renamed', 'fsync', 'dirsync'], 'visible before it is synced');
    await publishSharedFile(file, gni('v2', 2), { mode: 0o600 });
    assert.deepEqual(await fs.readFile(file), gni('v2', 2));
    assert.deepEqual(readdirSync(dir), ['global_network_info.xml']);
    const blocked = path.join(dir, 'sub');
    await fs.mkdir(path.join(blocked, 'x'), { recursive: true }); // renaming a file over a non-empty directory fails
    await assert.rejects(publishSharedFile(blocked, gni('v3', 3), { mode: 0o600 }));
    assert.deepEqual(readdirSync(dir).sort(), ['global_network_info.xml', 'sub']);
  }));

test('NC start: a torn or foreign shared file is held as nothing, a complete one is held; crash leftovers are removed', () =>
  withDir(async (dir) => {
    const file = path.join(dir, 'global_network_info.xml');
    const complete = gni('v9', 9, '<instances>' + '<instance name="i-1"/>'.repeat(2000) + '</instances>');
    const torn: Record<string, Buffer> = {
      empty: Buffer.alloc(0),
      'cut short': complete.subarray(0, 4096),
      'zeroed block': Buffer.concat([complete.subarray(0, 4096), Buffer.alloc(4096), complete.subarray(8192)]),
      'not a GNI': Buffer.from('<html></html>'),
    };
    for (const [what, content] of Object.entries(torn)) {
      await fs.writeFile(file, content);
      const warnings: string[] = [];
      const logger = nullLogger();
      logger.warn = ((m: string) => {
        warnings.push(m);
        return logger;
      }) as typeof logger.warn;
      const held = new HeldDocument(file, new FakeClock(), logger);
      assert.deepEqual(await held.load(), {}, what);
      assert.equal(warnings.length, 1, what);
      assert.equal((await held.accept(complete, {})).outcome, 'written', `${what}: the re-sent document replaces it`);
    }
    const leftover = path.join(dir, `.global_network_info.xml.123.0badcafe.tmp`);
    await fs.writeFile(leftover, 'partial');
    await fs.writeFile(path.join(dir, 'unrelated.tmp'), 'x');
    const held = new HeldDocument(file, new FakeClock());
    assert.deepEqual({ ...(await held.load()), at: undefined }, { version: 'v9', sequence: 9, at: undefined });
    assert.deepEqual(readdirSync(dir).sort(), ['global_network_info.xml', 'unrelated.tmp']);
    assert.equal((await held.accept(complete, {})).outcome, 'skipped');
    await fs.writeFile(file, '<?xml version="1.0"?>\n<network-data version="e1" sequence="2"/>\n');
    assert.equal((await new HeldDocument(file, new FakeClock()).load()).version, 'e1', 'a self-closing root is complete');
  }));

test('timing: phases in mark order, as numbers and as one log string', () => {
  const t = new Timing(1000);
  t.mark('zeta');
  t.mark('alpha');
  assert.deepEqual(Object.keys(t.phases()), ['zeta', 'alpha']);
  assert.match(t.log().phases, /^zeta=[\d.]+ alpha=[\d.]+$/);
  assert.ok(t.at('alpha')! >= t.at('zeta')!);
  assert.equal(t.at('missing'), undefined);
});
