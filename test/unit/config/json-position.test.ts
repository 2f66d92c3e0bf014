/** Malformed JSON → one JSON_SYNTAX diagnostic at path "" whose message gives line and column. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { locateSyntaxError, offsetToPosition, parseJson } from '../../../src/cloud-controller/config/json-position.ts';
import { validateNetworkConfiguration } from '../../../src/cloud-controller/modes/validate.ts';

const cases: [string, string, number, number][] = [
  ['trailing comma', '{\n  "PublicIps": ["192.0.2.1"],\n}', 3, 1],
  ['missing comma', '{\n  "PublicIps": ["192.0.2.1"]\n  "Subnets": []\n}', 3, 3],
  ['truncated', '{\n  "PublicIps": [\n    "192.0.2.1"', 3, 16],
  ['empty', '', 1, 1],
  ['bare word', 'abc', 1, 1],
  ['text after the document', '{}\n  x', 2, 3],
  ['line break in a string', '{"a": "x\ny"}', 1, 9],
  ['unterminated string', '{"a": "xy', 1, 7],
  ['bad escape', '{"a": "\\q"}', 1, 8],
  ['missing colon', '{"a" 1}', 1, 6],
  ['leading zero number', '{"a": 01}', 1, 8],
];

for (const [name, text, line, column] of cases) {
  test(`${name}: line ${line}, column ${column}`, () => {
    const parsed = parseJson(text);
    assert.equal(parsed.ok, false);
    if (parsed.ok) return;
    assert.equal(parsed.diagnostic.code, 'JSON_SYNTAX');
    assert.equal(parsed.diagnostic.path, '');
    assert.match(parsed.diagnostic.message, new RegExp(`line ${line}, column ${column}:`));
  });
}

test('the scanner accepts everything JSON.parse accepts', () => {
  for (const text of ['{}', '[]', '0', '-1.5e+3', '"\\u00e9\\n"', 'null', ' {"a": [1, {"b": true}, false, null, "x"]} ', '\t\r\n[]']) {
    assert.doesNotThrow(() => JSON.parse(text));
    assert.equal(locateSyntaxError(text), undefined, text);
  }
});

test('a byte-order mark is tolerated', () => {
  const parsed = parseJson('\ufeff{"PublicIps": ["192.0.2.1"]}');
  assert.ok(parsed.ok);
});

test('offsetToPosition counts lines from 1 and columns from 1', () => {
  assert.deepEqual(offsetToPosition('ab\ncd', 0), { line: 1, column: 1 });
  assert.deepEqual(offsetToPosition('ab\ncd', 4), { line: 2, column: 2 });
  assert.deepEqual(offsetToPosition('ab\r\ncd', 4), { line: 2, column: 1 });
});

test('validateNetworkConfiguration on malformed text returns only JSON_SYNTAX', () => {
  const r = validateNetworkConfiguration('{"PublicIps": [');
  assert.equal(r.ok, false);
  assert.deepEqual(r.diagnostics.map((d) => [d.code, d.path]), [['JSON_SYNTAX', '']]);
});
