/**
 * The freshness rule (src/shared/freshness.ts) as a table: every row is a
 * received document against a held one, with the verdict and, for a refusal,
 * the code and the facts the message must name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshness, isRefusalCode, type DocumentIds } from '../../../src/shared/freshness.ts';

const G1 = 1_700_000_000_000;
const G2 = 1_700_000_500_000;

const ROWS: readonly { name: string; received: DocumentIds; held: DocumentIds | undefined; verdict: 'newer' | 'same' | 'STALE_GENERATION' | 'STALE_SEQUENCE' | 'SEQUENCE_CONFLICT'; names?: readonly string[] }[] = [
  { name: 'nothing held', received: { generation: G1, sequence: 1, version: 'a' }, held: undefined, verdict: 'newer' },
  { name: 'empty held', received: { generation: G1, sequence: 1, version: 'a' }, held: {}, verdict: 'newer' },
  { name: 'higher sequence, same generation', received: { generation: G1, sequence: 11, version: 'b' }, held: { generation: G1, sequence: 10, version: 'a' }, verdict: 'newer' },
  { name: 'higher sequence, same content', received: { generation: G1, sequence: 11, version: 'a' }, held: { generation: G1, sequence: 10, version: 'a' }, verdict: 'newer' },
  { name: 'same document', received: { generation: G1, sequence: 10, version: 'a' }, held: { generation: G1, sequence: 10, version: 'a' }, verdict: 'same' },
  { name: 'lower sequence', received: { generation: G1, sequence: 9, version: 'b' }, held: { generation: G1, sequence: 10, version: 'a' }, verdict: 'STALE_SEQUENCE', names: ['sequence 9', '10', `generation ${G1}`] },
  { name: 'same sequence, other version', received: { generation: G1, sequence: 10, version: 'b' }, held: { generation: G1, sequence: 10, version: 'a' }, verdict: 'SEQUENCE_CONFLICT', names: ['version b', 'version a', 'sequence 10'] },
  { name: 'restored CLC: newer generation, lower sequence', received: { generation: G2, sequence: 4, version: 'b' }, held: { generation: G1, sequence: 10, version: 'a' }, verdict: 'newer' },
  { name: 'restored CLC: newer generation, equal sequence and version', received: { generation: G2, sequence: 10, version: 'a' }, held: { generation: G1, sequence: 10, version: 'a' }, verdict: 'newer' },
  { name: 'superseded CLC: older generation, higher sequence', received: { generation: G1, sequence: 21, version: 'c' }, held: { generation: G2, sequence: 11, version: 'b' }, verdict: 'STALE_GENERATION', names: [`generation ${G1}`, `generation ${G2}`, 'sequence 21', 'sequence 11', 'version c', 'version b'] },
  { name: 'document without generation after one with', received: { sequence: 50, version: 'c' }, held: { generation: G1, sequence: 10, version: 'a' }, verdict: 'STALE_GENERATION', names: ['generation 0', `generation ${G1}`] },
  { name: 'first generation after pre-generation documents', received: { generation: G1, sequence: 3, version: 'b' }, held: { sequence: 10, version: 'a' }, verdict: 'newer' },
  { name: 'Eucalyptus document (no sequence), other version', received: { version: 'e' }, held: { generation: G1, sequence: 10, version: 'a' }, verdict: 'newer' },
  { name: 'Eucalyptus document (no sequence), same version', received: { version: 'a' }, held: { generation: G1, sequence: 10, version: 'a' }, verdict: 'same' },
  { name: 'held Eucalyptus document (no sequence)', received: { generation: G1, sequence: 1, version: 'b' }, held: { version: 'e' }, verdict: 'newer' },
];

for (const row of ROWS) {
  test(`freshness: ${row.name} → ${row.verdict}`, () => {
    const f = freshness(row.received, row.held);
    if (row.verdict === 'newer' || row.verdict === 'same') {
      assert.deepEqual(f, { fresh: true, verdict: row.verdict });
      return;
    }
    assert.equal(f.fresh, false);
    if (f.fresh) return;
    assert.equal(f.code, row.verdict);
    assert.ok(isRefusalCode(f.code));
    for (const fact of row.names ?? []) assert.ok(f.message.includes(fact), `message names ${fact}: ${f.message}`);
  });
}

test('freshness: the held side is named as the caller says (netd: "applied")', () => {
  const f = freshness({ generation: 1, sequence: 1, version: 'a' }, { generation: 2, sequence: 1, version: 'a' }, 'applied');
  assert.ok(!f.fresh && /applied generation 2/.test(f.message), JSON.stringify(f));
});
