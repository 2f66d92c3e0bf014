/**
 * Fuzzing the property JSON validator (issue 11, Build): mutated example
 * configurations, as text and as parsed values, never crash it, never hang it,
 * never change the value handed in, and always give either `ok` with a value
 * and no error, or diagnostics with at least one error, each with a code and
 * a path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { validateNetworkConfiguration } from '../../../src/cloud-controller/modes/validate.ts';
import type { Validated } from '../../../src/shared/diagnostics.ts';
import { HOSTILE_TOKENS, fuzzSettings, mutated, timed } from './mutate.ts';

const root = path.join(import.meta.dirname, '..', '..', '..');
const examples = [
  ...readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.json')).map((f) => path.join(root, 'examples', f)),
  ...readdirSync(path.join(root, 'test', 'fixtures', 'config', 'invalid')).filter((f) => f.endsWith('.json')).map((f) => path.join(root, 'test', 'fixtures', 'config', 'invalid', f)),
].map((f) => readFileSync(f, 'utf8'));

function assertShape(result: Validated<unknown>): void {
  assert.equal(typeof result.ok, 'boolean');
  for (const d of result.diagnostics) {
    assert.match(d.code, /^[A-Z][A-Z0-9_]*$/, JSON.stringify(d));
    assert.equal(typeof d.path, 'string');
    assert.equal(typeof d.message, 'string');
  }
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (result.ok) {
    assert.notEqual(result.value, undefined);
    assert.equal(errors.length, 0, 'ok with an error diagnostic');
  } else {
    assert.ok(errors.length > 0, 'refused without an error diagnostic');
  }
}

test('config validator: mutated JSON text gives ok or coded diagnostics, in bounded time', () => {
  fc.assert(
    fc.property(fc.oneof({ weight: 4, arbitrary: mutated(examples) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) }), (text) => {
      assertShape(timed(text, () => validateNetworkConfiguration(text)));
    }),
    fuzzSettings(2500),
  );
});

/** Replace or delete what a random path through a parsed example leads to. */
const hostileValue = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.constantFrom<unknown>(1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, -0, '', 'x'.repeat(100_000), [], {}, null, true, '\u0000', '10.0.0.0/33', '__proto__'),
  // Kept under assert.deepEqual's recursion limit; deeper nesting is the next test's.
  fc.integer({ min: 1, max: 500 }).map((depth) => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = [v];
    return v;
  }),
);

const parsable = examples.filter((text) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
});

const structural = fc.tuple(fc.constantFrom(...parsable), fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), hostileValue, fc.boolean()).map(([text, steps, value, remove]) => {
  const doc = JSON.parse(text) as unknown;
  let at: unknown = doc;
  for (let i = 0; i < steps.length; i++) {
    if (at === null || typeof at !== 'object') break;
    const keys = Object.keys(at);
    if (keys.length === 0) break;
    const key = keys[steps[i]! % keys.length]!;
    const last = i === steps.length - 1 || (at as Record<string, unknown>)[key] === null || typeof (at as Record<string, unknown>)[key] !== 'object';
    if (last) {
      if (remove && !Array.isArray(at)) delete (at as Record<string, unknown>)[key];
      else (at as Record<string, unknown>)[key] = value;
      break;
    }
    at = (at as Record<string, unknown>)[key];
  }
  return doc;
});

test('config validator: structurally mutated values give ok or coded diagnostics and are never modified', () => {
  fc.assert(
    fc.property(structural, (doc) => {
      const before = structuredClone(doc);
      assertShape(timed('(a parsed value)', () => validateNetworkConfiguration(doc)));
      assert.deepEqual(doc, before, 'the validator changed its input');
    }),
    fuzzSettings(2000),
  );
});

test('config validator: every hostile token alone and inside a string value', () => {
  for (const token of HOSTILE_TOKENS) {
    assertShape(timed(token, () => validateNetworkConfiguration(token)));
    assertShape(timed(token, () => validateNetworkConfiguration(`{"Mode":"EDGE","InstanceDnsServers":[${JSON.stringify(token)}]}`)));
  }
});

test('config validator: balanced nesting 100,000 deep, as text, is refused with a diagnostic', () => {
  const depth = 100_000;
  for (const text of [`{"PublicIps":${'['.repeat(depth)}${']'.repeat(depth)}}`, `{"Clusters":[${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}]}`]) {
    const result = timed(text, () => validateNetworkConfiguration(text));
    assertShape(result);
    assert.equal(result.ok, false);
  }
});
