/**
 * The hostile document corpus (test/fixtures/hostile/*.xml, issue 11 class 2)
 * against a real kernel and the REAL daemon (test/helpers/netd-lab.ts): each
 * document is either refused whole by the codec with its named GNI code (the
 * host keeps the previous state) or sanitized with exactly the refusals it
 * names (status `refused`, the event's `refused`), and then the node's
 * netfilter/ipset/address/dhcpd state equals a clean run of the base document
 * minus those entries. After every document the node still reaches the CLC.
 * Root; one lab, torn down in `after`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isRoot, requireRoot } from '../helpers/root.ts';
import { createNetdLab, waitFor, CTL_IP, type NetdLab } from '../helpers/netd-lab.ts';
import { serializeGni } from '../../src/shared/gni/codec.ts';
import { CASES, baseCloud, caseCloud, cloudDocument, expectedCloud, NODE1 } from '../fixtures/hostile/corpus.ts';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/hostile');
let lab: NetdLab;
let sequence = 100;

before(async () => {
  if (!isRoot()) return;
  lab = await createNetdLab();
  assert.equal(lab.node('n1').name, NODE1, 'the corpus is written for this lab');
  await lab.startNetd(lab.node('n1'));
});

after(async () => {
  await lab?.close();
});

/** Publishes text with a fresh sequence to n1 and waits until netd processed it. */
async function publish(text: string) {
  const n1 = lab.node('n1');
  const seq = ++sequence;
  const seen = (await lab.events(n1)).length;
  await lab.publishText(text.replace(/(<network-data[^>]*?) sequence="\d+"/, `$1 sequence="${seq}"`), [n1]);
  // A document the codec refuses has no sequence to wait for: wait for the sync's event.
  await waitFor(`n1 to process sequence ${seq}`, async () => (await lab.events(n1)).length > seen, 45_000);
  return (await lab.status(n1))!;
}

const goodDumps = new Map<string, string>();
/** The dump of a clean run of this document (cached by content). */
async function cleanDump(xml: string): Promise<string> {
  const key = xml.replace(/ version="[^"]*"/, '');
  const cached = goodDumps.get(key);
  if (cached !== undefined) return cached;
  const s = await publish(xml);
  assert.equal(s.result, 'ok', `clean document applies: ${s.error}`);
  assert.equal(s.refused, undefined, 'a clean document has nothing refused');
  const d = await lab.dump(lab.node('n1'));
  goodDumps.set(key, d);
  return d;
}

async function reachesClc(): Promise<boolean> {
  const r = await lab.sh(lab.node('n1').ns, ['ping', '-c', '1', '-W', '1', CTL_IP], 5000);
  return r.code === 0;
}

test('every hostile document is refused or sanitized with its named reason; the host holds exactly the rest', async (t) => {
  if (!requireRoot(t, 'hostile corpus')) return;
  const n1 = lab.node('n1');
  const baseXml = serializeGni(cloudDocument(baseCloud(), 1));
  const base = await cleanDump(baseXml);
  assert.ok(await reachesClc(), 'the lab node reaches the CLC to begin with');
  for (const k of CASES) {
    const text = readFileSync(path.join(dir, `${k.name}.xml`), 'utf8');
    if ('invalid' in k.expect) {
      await cleanDump(baseXml);
      const before = await lab.dump(n1);
      const s = await publish(text);
      assert.equal(s.result, 'invalid-document', `${k.name}: refused whole`);
      assert.match(s.error ?? '', new RegExp(k.expect.invalid), `${k.name}: names ${k.expect.invalid}`);
      assert.equal(await lab.dump(n1), before, `${k.name}: nothing changed`);
      continue;
    }
    const s = await publish(text);
    assert.equal(s.result, 'ok', `${k.name}: the rest applies (${s.error})`);
    assert.deepEqual((s.refused ?? []).map((r) => [r.code, r.subject]), k.expect.refused.map((e) => [...e]), `${k.name}: status names the refusals`);
    const event = await waitFor(`${k.name} event`, async () => (await lab.events(n1)).find((e) => e.sequence === sequence));
    assert.deepEqual(event.refused, k.expect.refused.map(([code, subject]) => `${code}: ${subject}`), `${k.name}: the event names them`);
    const got = await lab.dump(n1);
    const want = expectedCloud(caseCloud(k), k.expect.refused);
    if (want.clcIp === '') {
      // No valid document lacks enabledCLCIp: the base state minus the metadata DNAT to the CLC
      // and minus the CLC in the cloud hosts set (render/instance-guard.ts).
      const notClc = (l: string) => !l.includes(`DNAT --to-destination ${CTL_IP}:`) && !l.includes(`add EDGENET-HOSTS ${CTL_IP}`);
      assert.equal(got, base.split('\n').filter(notClc).join('\n'), `${k.name}: base minus metadata DNAT and CLC host`);
    } else {
      assert.equal(got, await cleanDump(serializeGni(cloudDocument(want, 1))), `${k.name}: host equals the document minus the refused entries`);
    }
    assert.doesNotMatch(got, /vn_\+ -j EDGENET|vn_i-\+|i-\*|sg-\+|host i-1 /, `${k.name}: no hostile name reached the kernel`);
    if (k.name.startsWith('public-ip') || k.name.startsWith('private-ip')) assert.ok(await reachesClc(), `${k.name}: the node still reaches the CLC`);
  }
});
