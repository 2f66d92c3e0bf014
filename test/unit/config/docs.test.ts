/**
 * docs/config.md lists every diagnostic code of codes.ts with its severity and
 * meaning: the table between the codes markers is generated from the registry
 * (UPDATE_GOLDEN=1 rewrites it) and must match it exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { CONFIG_CODES } from '../../../src/cloud-controller/config/codes.ts';

const docUrl = new URL('../../../docs/config.md', import.meta.url);
const BEGIN = '<!-- codes:begin -->';
const END = '<!-- codes:end -->';

function table(): string {
  const rows = Object.entries(CONFIG_CODES).map(([code, info]) => `| \`${code}\` | ${info.severity} | ${info.meaning.replace(/\|/g, '\\|')} |`);
  return ['| Code | Severity | Meaning |', '|---|---|---|', ...rows].join('\n');
}

test('docs/config.md holds the generated table of every diagnostic code', () => {
  const doc = readFileSync(docUrl, 'utf8');
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  assert.ok(start >= 0 && end > start, 'codes markers missing from docs/config.md');
  const current = doc.slice(start + BEGIN.length, end).trim();
  if (process.env['UPDATE_GOLDEN'] === '1') {
    writeFileSync(docUrl, `${doc.slice(0, start + BEGIN.length)}\n${table()}\n${doc.slice(end)}`);
    return;
  }
  assert.equal(current, table(), 'docs/config.md is out of date: run with UPDATE_GOLDEN=1');
  for (const code of Object.keys(CONFIG_CODES)) assert.ok(doc.includes(`\`${code}\``), `${code} is not documented`);
});

test('codes are UPPER_SNAKE_CASE and every meaning is a sentence', () => {
  for (const [code, info] of Object.entries(CONFIG_CODES)) {
    assert.match(code, /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
    assert.ok(info.meaning.endsWith('.') || info.meaning.endsWith(')'), code);
    assert.ok(info.severity === 'error' || info.severity === 'warning');
  }
});
