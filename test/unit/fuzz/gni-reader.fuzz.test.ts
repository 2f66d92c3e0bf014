/**
 * Fuzzing the GNI reader (issue 11, Build): mutated Eucalyptus and edgenet
 * documents, as text and as bytes, never crash parseGni, never hang it, and
 * never give half a result: either `ok` with a model and no error, or no
 * model and at least one error diagnostic with a GNI code and a path. Both XML
 * engines are held to this.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { parseGni, serializeGni } from '../../../src/shared/gni/codec.ts';
import { randomGniDocument } from '../../fixtures/gni/random-doc.ts';
import { HOSTILE_TOKENS, elementMutation, fuzzSettings, mutated, timed } from './mutate.ts';
import { GNI_ENGINES } from '../../helpers/gni-oracle/fast-xml-parser-engine.ts';

const fixtures = path.join(import.meta.dirname, '..', '..', 'fixtures', 'gni');
const examples = [
  readFileSync(path.join(fixtures, 'euca40-example.xml'), 'utf8'),
  readFileSync(path.join(fixtures, 'euca44-example.xml'), 'utf8'),
  ...[1, 2, 3].map((seed) => serializeGni(randomGniDocument(seed))),
];

function check(input: string | Buffer, engine: keyof typeof GNI_ENGINES): void {
  const result = timed(typeof input === 'string' ? input : input.toString('latin1'), () => parseGni(input, { engine: GNI_ENGINES[engine] }));
  assert.equal(typeof result.ok, 'boolean');
  for (const d of result.diagnostics) {
    assert.match(d.code, /^[A-Z][A-Z0-9_]*$/, JSON.stringify(d));
    assert.equal(typeof d.path, 'string');
  }
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (result.ok) {
    assert.equal(errors.length, 0);
    assert.ok(Array.isArray(result.value.instances) && Array.isArray(result.value.securityGroups), 'a model with its lists');
    assert.equal(typeof result.value.version, 'string');
  } else {
    assert.ok(errors.length > 0, 'refused without an error diagnostic');
    assert.equal((result as { value?: unknown }).value, undefined, 'a refusal carries no model');
  }
}

test('GNI reader: examples parse (the baseline the mutations start from)', () => {
  for (const text of examples) assert.equal(parseGni(text).ok, true);
});

test('GNI reader: mutated documents give a model or diagnostics, never a crash (scan engine)', () => {
  fc.assert(
    fc.property(fc.oneof({ weight: 3, arbitrary: mutated(examples) }, { weight: 2, arbitrary: elementMutation(examples) }), (text) => check(text, 'scan')),
    fuzzSettings(2500),
  );
});

test('GNI reader: mutated bytes (invalid UTF-8 included) and the fast-xml-parser engine', () => {
  fc.assert(
    fc.property(mutated(examples), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), (text, flips) => {
      const bytes = Buffer.from(text, 'utf8');
      for (const [at, value] of flips) if (bytes.length > 0) bytes[at % bytes.length] = value;
      check(bytes, 'scan');
      check(text, 'fast-xml-parser');
    }),
    fuzzSettings(800),
  );
});

test('GNI reader: every hostile token at the start, inside the root and inside an element', () => {
  const base = examples[1]!;
  const rootEnd = base.indexOf('>', base.indexOf('<network-data')) + 1;
  const firstText = base.indexOf('</', rootEnd);
  for (const token of HOSTILE_TOKENS) {
    for (const text of [token + base, base.slice(0, rootEnd) + token + base.slice(rootEnd), base.slice(0, firstText) + token + base.slice(firstText)]) check(text, 'scan');
  }
});
