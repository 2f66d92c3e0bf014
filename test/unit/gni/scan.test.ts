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
import { GNI_ENGINES } from '../../helpers/gni-oracle/fast-xml-parser-engine.ts';

const fixtures = fileURLToPath(new URL('../../fixtures/gni/', import.meta.url));
const golden = fileURLToPath(new URL('../../golden/gni/', import.meta.url));

function both(xml: string): void {
  const a = parseGni(xml, { engine: GNI_ENGINES['fast-xml-parser'] });
  const b = parseGni(xml, { engine: GNI_ENGINES.scan });
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
  const leaf = (tag: string, text: string) => ({ tag, attrs: undefined, children: undefined, text });
  assert.deepEqual(tree, {
    tag: 'r', attrs: ['a', 'x&y', 'b', 'AB'], text: '',
    children: [leaf('v', '<raw>'), leaf('v', 't<>"\''), leaf('e', ''), leaf('w', 'spaced')],
  });
});

test('malformed input: truncation at every offset, mismatched tags, bad entities, stray text, two roots', () => {
  const xml = serializeGni(randomGniDocument(8));
  const end = xml.lastIndexOf('>') + 1;
  for (let cut = 0; cut < end; cut += 3) {
    const r = parseGni(xml.slice(0, cut), { engine: GNI_ENGINES.scan });
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

// ---- the pull reader: document order, first-wins, error precedence -----------------

const EXAMPLE = readFileSync(join(fixtures, 'euca44-example.xml'), 'utf8');

/** Moves the element starting with `open` and ending with `close` (first occurrence) to just before `before`. */
function move(xml: string, open: string, close: string, before: string): string {
  const a = xml.indexOf(open);
  const b = xml.indexOf(close, a) + close.length;
  assert.ok(a >= 0 && b > a, `no ${open}…${close}`);
  const piece = xml.slice(a, b);
  const rest = xml.slice(0, a) + xml.slice(b);
  const at = rest.indexOf(before);
  assert.ok(at >= 0, `no ${before}`);
  return rest.slice(0, at) + piece + rest.slice(at);
}

test('element order in the text changes neither the model nor the order of diagnostics', () => {
  // An invalid base (diagnostics from configuration, a VPC wrapper, an instance and a group) ...
  const base = EXAMPLE
    .replace('<value>10.0.0.5</value>', '<value>10.0.0</value>')
    .replace('<vpcs/>', '<vpcs><vpc name="v"/></vpcs>')
    .replace('<privateIp>10.10.1.7</privateIp>', '<privateIp>10.10.1.700</privateIp>')
    .replace('<fromPort>22</fromPort>', '<fromPort>x</fromPort>')
    .replace('<egressRules/>', '<egressRules><rule/></egressRules>');
  const expected = parseGni(base);
  assert.equal(expected.ok, false);
  // Reader diagnostics (VPC wrapper, instance, group) first, then the validator's, each in document-model order.
  assert.deepEqual(expected.diagnostics.map((d) => d.code), [
    GniCode.Ignored, GniCode.Ignored, GniCode.BadNumber, GniCode.BadIp, GniCode.BadIp, GniCode.Missing,
  ]);
  // ... reordered: groups before instances, configuration last, egress before ingress, children shuffled.
  let xml = move(base, '<securityGroups>\n', '</securityGroups>\n', '<instances>');
  xml = move(xml, '<configuration>', '</configuration>', '</network-data>');
  xml = move(xml, '<egressRules>', '</egressRules>', '<ingressRules>');
  xml = move(xml, '<privateIp>', '</privateIp>', '<ownerId>000000000001</ownerId>\n      <macAddress>');
  xml = move(xml, '<cidr>', '</cidr>', '<protocol>6');
  xml = move(xml, '<property name="clusters">', '</cluster>\n    </property>', '<property name="mode">');
  assert.notEqual(xml, base);
  for (const engine of ['scan', 'fast-xml-parser'] as const) assert.deepEqual(parseGni(xml, { engine: GNI_ENGINES[engine] }), expected, engine);
});

test('only the first element of a kind counts; unknown elements and attributes are skipped', () => {
  const xml = EXAMPLE
    .replace('<ownerId>000000000001</ownerId>\n      <macAddress>', '<ownerId>000000000001</ownerId><ownerId>other</ownerId><futureThing a="1"><x>y</x></futureThing>\n      <macAddress>')
    .replace('</instances>', '</instances><instances><instance name="i-ignored"/></instances>')
    .replace('<property name="mode"><value>EDGE</value></property>', '<property name="mode"><value>EDGE</value><value>MANAGED</value></property><property name="mode"><value>VPCMIDO</value></property>')
    .replace('<rule><protocol>6</protocol>', '<rule extra="1"><protocol>6</protocol><protocol>17</protocol>');
  for (const engine of ['scan', 'fast-xml-parser'] as const) {
    const r = parseGni(xml, { engine: GNI_ENGINES[engine] });
    assert.equal(r.ok, true, engine);
    if (!r.ok) continue;
    assert.equal(r.value.configuration.mode, 'EDGE');
    assert.deepEqual(r.value.instances.map((i) => [i.name, i.ownerId]), [['i-1a2b3c4d', '000000000001']]);
    assert.equal(r.value.securityGroups[0]?.ingressRules[0]?.protocol, 6);
  }
  both(xml);
});

test('text read through comments, PIs and CDATA, entities in text and attributes', () => {
  const xml = EXAMPLE
    .replace('<network-data version="1a2b3c4d">', '<!-- a & b --><network-data version="1a&#50;b3c4d">')
    .replace('<ownerId>000000000001</ownerId>', '<ownerId>0000<!-- x -->000<?pi?>00001</ownerId>')
    .replace('<privateIp>10.10.1.7</privateIp>', '<privateIp><![CDATA[10.10.1.7]]></privateIp>')
    .replace('<value>eucalyptus.internal</value>', '<value>euca&amp;lyptus.internal</value>');
  const r = parseGni(xml);
  assert.equal(r.ok, true, JSON.stringify(r.diagnostics));
  if (!r.ok) return;
  assert.equal(r.value.version, '1a2b3c4d');
  assert.equal(r.value.instances[0]?.ownerId, '000000000001');
  assert.equal(r.value.instances[0]?.privateIp, '10.10.1.7');
  assert.equal(r.value.configuration.instanceDnsDomain, 'euca&lyptus.internal');
});

test('a fault after invalid content reports only GNI_MALFORMED; a wrong root is reported only when well-formed', () => {
  const invalid = EXAMPLE.replace('<privateIp>10.10.1.7</privateIp>', '<privateIp>10.10.1.700</privateIp>');
  for (const bad of [invalid.replace('</securityGroups>', '</securityGroup>'), invalid.replace('</network-data>', ''), `${invalid}<x/>`, `${invalid}text`, invalid.replace('<egressRules/>', '<egressRules/>&bogus;')]) {
    const r = parseGni(bad);
    assert.deepEqual(r.diagnostics.map((d) => d.code), [GniCode.Malformed]);
  }
  assert.deepEqual(parseGni('<network-info><a></b></network-info>').diagnostics.map((d) => d.code), [GniCode.Malformed]);
  assert.deepEqual(parseGni('<network-info><a/></network-info>').diagnostics.map((d) => d.code), [GniCode.WrongRoot]);
});
