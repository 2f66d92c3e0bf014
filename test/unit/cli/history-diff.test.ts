/** `property history` in text form shows what changed: short values as `old -> new`, long ones as a unified diff. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatHistoryEntry } from '../../../src/cli/commands/property.ts';
import { prettyForDiff, unifiedDiff } from '../../../src/cli/text-diff.ts';
import { configText } from '../clc/fixture.ts';

test('a network-configuration change deep inside the document is visible', () => {
  // Compact JSON, as euctl users paste it: both sides share a long prefix.
  const oldValue = JSON.stringify(JSON.parse(configText()));
  const newValue = JSON.stringify(JSON.parse(configText((c) => ({ ...c, Clusters: [c.Clusters[0], { ...c.Clusters[1]!, PrivateIps: ['10.2.0.10-10.2.0.20'] }] }))));
  const lines = formatHistoryEntry({ at: '2024-01-01T00:00:00.000Z', oldValue, newValue });
  assert.equal(lines[0], '2024-01-01T00:00:00.000Z');
  const removed = lines.filter((l) => l.startsWith('  -') && !l.startsWith('  ---'));
  const added = lines.filter((l) => l.startsWith('  +') && !l.startsWith('  +++'));
  assert.deepEqual(removed.map((l) => l.slice(3).trim()), ['"10.2.0.10-10.2.0.12"']);
  assert.deepEqual(added.map((l) => l.slice(3).trim()), ['"10.2.0.10-10.2.0.20"']);
  assert.ok(lines.some((l) => /^ {2}@@ -\d+,\d+ \+\d+,\d+ @@$/.test(l)), lines.join('\n'));
});

test('short values stay on one line; unset sides and reformatting are named', () => {
  assert.deepEqual(formatHistoryEntry({ at: 'T', oldValue: undefined, newValue: '45' }), ['T  (unset) -> 45']);
  assert.deepEqual(formatHistoryEntry({ at: 'T', oldValue: '{"a":1}', newValue: '{\n  "a": 1\n}' }), ['T  (reformatted, same value)']);
  const set = formatHistoryEntry({ at: 'T', oldValue: undefined, newValue: '{"a":1,"b":[1,2]}'.padEnd(70, ' ') });
  assert.equal(set[1], '  --- (unset)');
  assert.ok(set.includes('  +  "a": 1,'));
});

test('unifiedDiff: hunks with context, line numbers, nothing for equal texts', () => {
  const a = 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n';
  const b = 'a\nb\nC\nd\ne\nf\ng\nh\ni\nj\nk\n';
  assert.deepEqual(unifiedDiff(a, b, { context: 1 }), ['--- old', '+++ new', '@@ -2,3 +2,3 @@', ' b', '-c', '+C', ' d', '@@ -10,1 +10,2 @@', ' j', '+k']);
  assert.deepEqual(unifiedDiff(a, a), []);
  assert.equal(prettyForDiff('[1]'), '[\n  1\n]\n');
  assert.equal(prettyForDiff('plain'), 'plain\n');
});
