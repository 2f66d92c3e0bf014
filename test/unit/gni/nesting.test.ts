/**
 * Regression (found by test/unit/fuzz/gni-reader.fuzz.test.ts): 20,000 nested
 * unknown elements overflowed the stack of the scan reader (RangeError out of
 * parseGni) instead of giving a diagnostic. Nesting is now limited.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGni } from '../../../src/shared/gni/codec.ts';
import { MAX_DEPTH, scanXml } from '../../../src/shared/gni/scan.ts';
import { GNI_ENGINES } from '../../helpers/gni-oracle/fast-xml-parser-engine.ts';

const nested = (depth: number, tag = 'a') => `<network-data version="x">${`<${tag}>`.repeat(depth)}${`</${tag}>`.repeat(depth)}</network-data>`;

test('GNI: nesting far past the limit is GNI_MALFORMED with the reason, from both engines', () => {
  for (const engine of ['scan', 'fast-xml-parser'] as const) {
    const result = parseGni(nested(20_000), { engine: GNI_ENGINES[engine] });
    assert.equal(result.ok, false, engine);
    assert.deepEqual(result.diagnostics.map((d) => [d.code, d.severity]), [['GNI_MALFORMED', 'error']], engine);
  }
  assert.match(parseGni(nested(20_000)).diagnostics[0]!.message, new RegExp(`nested more than ${MAX_DEPTH} deep`));
  assert.throws(() => scanXml(nested(MAX_DEPTH)), /nested more than/);
});

test('GNI: nesting just under the limit is still read', () => {
  assert.doesNotThrow(() => scanXml(nested(MAX_DEPTH - 2)));
});
