/**
 * Input generators for the parser fuzz tests (issue 11, Build): mutations of
 * valid examples — character flips, truncation, duplicated and removed
 * slices, inserted hostile tokens (huge numbers, deep nesting, odd unicode,
 * entity and DTD tricks) — and the run settings every fuzz file shares.
 *
 * FUZZ_RUNS / FUZZ_SEED override the fixed defaults (bench/fuzz.ts sets them
 * for long runs); a failure prints fast-check's seed and path to replay it.
 */
import fc from 'fast-check';

/** Tokens that have broken parsers before: numbers, nesting, unicode, markup. */
export const HOSTILE_TOKENS: readonly string[] = [
  '1e309', '-1e309', '99999999999999999999999999', '-0', '0x10', 'NaN', 'Infinity', '4294967296', '9007199254740993',
  '['.repeat(20_000), '{"a":'.repeat(5_000), ']'.repeat(100), '}'.repeat(100),
  '<a>'.repeat(20_000), '</a>'.repeat(100), '<a/>'.repeat(5_000),
  '\u0000', '\uD800', '\uDFFF', '\uFFFE', '\uFEFF', '\u202E', '𝔘𝔫𝔦', 'é', '\r\n', '\t',
  '&amp;', '&#0;', '&#x110000;', '&#xD800;', '&#99999999;', '&a;', '&', '&lt;', '&#x3C;!DOCTYPE',
  '<!DOCTYPE x [<!ENTITY a "b">]>', '<!ENTITY x SYSTEM "file:///etc/passwd">', '<![CDATA[', ']]>', '<!--', '-->', '<?xml version="1.0"?>',
  '"', "'", '\\', '\\u0000', '\\ud800', '__proto__', '"__proto__":{"polluted":1},', 'constructor', 'prototype',
  'xmlns:a="b"', ' a="1" a="2"', '=', '<', '>', '/>', ':',
  '0.0.0.0', '255.255.255.255', '10.0.0.0/33', '::1', 'ff:ff:ff:ff:ff:ff', 'i-+', 'sg-*', ' '.repeat(10_000), 'A'.repeat(100_000),
];

export type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly char: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'duplicate'; readonly from: number; readonly length: number; readonly to: number }
  | { readonly kind: 'remove'; readonly from: number; readonly length: number }
  | { readonly kind: 'insert'; readonly at: number; readonly token: string };

const position = fc.nat({ max: 1_000_000 });

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: position, char: fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0, max: 0xffff })) }),
  fc.record({ kind: fc.constant('truncate' as const), at: position }),
  fc.record({ kind: fc.constant('duplicate' as const), from: position, length: fc.integer({ min: 1, max: 400 }), to: position }),
  fc.record({ kind: fc.constant('remove' as const), from: position, length: fc.integer({ min: 1, max: 400 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: position, token: fc.oneof(fc.constantFrom(...HOSTILE_TOKENS), fc.string({ unit: 'binary', maxLength: 20 })) }),
);

export function applyMutation(text: string, m: Mutation): string {
  const n = text.length;
  const at = (x: number) => (n === 0 ? 0 : x % (n + 1));
  switch (m.kind) {
    case 'flip': {
      if (n === 0) return String.fromCharCode(m.char);
      const i = m.at % n;
      return text.slice(0, i) + String.fromCharCode(m.char) + text.slice(i + 1);
    }
    case 'truncate':
      return text.slice(0, at(m.at));
    case 'duplicate': {
      const from = at(m.from);
      return insertAt(text, at(m.to), text.slice(from, from + m.length));
    }
    case 'remove': {
      const from = at(m.from);
      return text.slice(0, from) + text.slice(from + m.length);
    }
    case 'insert':
      return insertAt(text, at(m.at), m.token);
  }
}

function insertAt(text: string, i: number, piece: string): string {
  return text.slice(0, i) + piece + text.slice(i);
}

/** A valid example with 1–5 mutations applied. */
export function mutated(examples: readonly string[]): fc.Arbitrary<string> {
  return fc.tuple(fc.constantFrom(...examples), fc.array(mutation, { minLength: 1, maxLength: 5 })).map(([base, ms]) => ms.reduce(applyMutation, base));
}

/** XML-shaped elements whose names and text come from the document's own vocabulary. */
export function elementMutation(examples: readonly string[]): fc.Arbitrary<string> {
  return fc.tuple(fc.constantFrom(...examples), fc.nat(), fc.nat(), fc.constantFrom('duplicate', 'remove', 'swap')).map(([base, a, b, op]) => {
    const tags = [...base.matchAll(/<([A-Za-z][\w:-]*)[^>]*>[^<]*<\/\1>/g)];
    if (tags.length === 0) return base;
    const x = tags[a % tags.length]!;
    const y = tags[b % tags.length]!;
    const start = x.index!;
    const end = start + x[0].length;
    if (op === 'duplicate') return base.slice(0, end) + x[0] + base.slice(end);
    if (op === 'remove') return base.slice(0, start) + base.slice(end);
    return base.slice(0, start) + y[0] + base.slice(end);
  });
}

export interface FuzzSettings {
  readonly numRuns: number;
  readonly seed: number;
}

/** Fixed defaults (the suite's run); FUZZ_RUNS and FUZZ_SEED override them. */
export function fuzzSettings(defaultRuns: number): FuzzSettings {
  const runs = Number(process.env.FUZZ_RUNS ?? defaultRuns);
  const seed = Number(process.env.FUZZ_SEED ?? 20_110_011);
  return { numRuns: Number.isSafeInteger(runs) && runs > 0 ? runs : defaultRuns, seed: Number.isSafeInteger(seed) ? seed : 20_110_011 };
}

/** Most milliseconds one case may take: a parser that hangs (or goes quadratic) fails. */
export const CASE_TIME_LIMIT_MS = 2_000;

/** Runs `check` on `input` and fails when it takes longer than the limit. */
export function timed<T>(input: string, check: () => T): T {
  const started = performance.now();
  const value = check();
  const ms = performance.now() - started;
  if (ms > CASE_TIME_LIMIT_MS) throw new Error(`one case took ${Math.round(ms)} ms (limit ${CASE_TIME_LIMIT_MS}) on ${input.length} characters`);
  return value;
}
