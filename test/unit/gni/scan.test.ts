/**
 * The `scan` engine against fast-xml-parser: same documents, same diagnostics
 * for valid input; both refuse malformed input with GNI_MALFORMED.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { GniCode, parseGni, serializeGni } from '../../../src/shared/gni/codec.ts';
import { ScanError, scanXml } from '../../../src/shared/gni/scan.ts';
import { randomGniDocument } from '../../fixtures/gni/random-doc.ts';

const fixtures = fileURLToPath(new URL('../../fixtures/gni/', import.meta.url));
const golden = fileURLToPath(new URL('../../golden/gni/', import.meta.url));

function both(xml: string): void {
  const a = parseGni(xml, { engine: 'fast-xml-parser' });
  const b = parseGni(xml, { engine: 'scan' });
  assert.deepEqual(b, a);
}

test('same result as fast-xml-parser: fixtures, goldens, 100 random documents', () => {
  for (const f of ['euca44-example.xml', 'euca40-example.xml']) both(readFileSync(join(fixtures, f), 'utf8'));
  for (const d of readdirSync(golden)) {
    const file = join(golden, d, 'expected.xml');
    if (existsSync(file)) both(readFileSync(file, 'utf8'));
  }
  for (let seed = 1; seed <= 100; seed++) both(serializeGni(randomGniDocument(seed)));
});

test('same result for invalid-but-well-formed documents (validation diagnostics)', () => {
  const xml = readFileSync(join(fixtures, 'euca44-example.xml'), 'utf8');
  for (const [from, to] of [
    ['<value>EDGE</value>', '<value>MANAGED</value>'],
    ['<privateIp>10.10.1.7</privateIp>', ''],
    ['<fromPort>22</fromPort>', '<fromPort>x</fromPort>'],
    ['<vpcs/>', '<vpcs><vpc name="v"/></vpcs>'],
  ] as const) {
    both(xml.replace(from, to));
  }
});

test('XML features: comments, PIs, CDATA, character references, single quotes, BOM, text trimming', () => {
  const tree = scanXml("\ufeff<?xml version='1.0'?><!-- c --><r a='x&amp;y' b=\"&#65;&#x42;\"><v> <![CDATA[<raw>]]> </v><v>t&lt;&gt;&quot;&apos;</v><e/><w>  spaced  </w></r>\n<!-- after -->\n");
  assert.deepEqual(tree, { r: [{ '@': [{ a: 'x&y', b: 'AB' }], v: ['<raw>', 't<>"\''], e: [''], w: ['spaced'] }] });
});

test('malformed input: truncation at every offset, mismatched tags, bad entities, stray text, two roots', () => {
  const xml = serializeGni(randomGniDocument(8));
  const end = xml.lastIndexOf('>') + 1;
  for (let cut = 0; cut < end; cut += 3) {
    const r = parseGni(xml.slice(0, cut), { engine: 'scan' });
    assert.equal(r.ok, false, `cut ${cut}`);
    assert.equal(r.diagnostics[0]?.code, GniCode.Malformed, `cut ${cut}`);
  }
  for (const bad of ['<a><b></a></b>', '<a>x & y</a>', '<a>&nbsp;</a>', '<a/>text', '<a/><b/>', '<a b="1" b="2"/>', '<a b=1/>', '< a/>', '<a><!ELEMENT x></a>', '<a>&#0;</a>', '']) {
    assert.throws(() => scanXml(bad), ScanError, bad);
  }
});

test('errors carry line and column', () => {
  try {
    scanXml('<a>\n  <b>\n  </c>\n</a>');
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof ScanError);
    assert.deepEqual([err.line, err.col], [3, 3]);
  }
});
