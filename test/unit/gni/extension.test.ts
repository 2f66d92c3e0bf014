/**
 * GNI extensions (src/shared/gni/extension.ts, docs/gni.md "Extensions"):
 * they round-trip through the writer and both readers on every element that
 * carries them, a document without them is unchanged, cutting them out of
 * the text gives the plain EDGE document (what a 4.4 reader sees), and
 * malformed ones are refused with GNI_BAD_EXTENSION (both engines agree on
 * the first error and its path).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GniCode, parseGni, serializeGni } from '../../../src/shared/gni/codec.ts';
import { EXTENSION_NAMESPACE, MAX_EXTENSION_PROPERTIES, MAX_EXTENSION_VALUE_CHARS, MAX_EXTENSIONS_PER_ELEMENT, extensionValues, extensionXml } from '../../../src/shared/gni/extension.ts';
import type { GniDocument, GniExtension } from '../../../src/shared/gni/model.ts';
import { validateGni } from '../../../src/shared/gni/validate.ts';
import { gniVersion } from '../../../src/shared/gni/version.ts';
import type { Diagnostic } from '../../../src/shared/diagnostics.ts';
import { randomGniDocument } from '../../fixtures/gni/random-doc.ts';
import { GNI_ENGINES } from '../../helpers/gni-oracle/fast-xml-parser-engine.ts';

const ENGINES = ['scan', 'fast-xml-parser'] as const;

const ROUTED: GniExtension = {
  name: 'routed',
  properties: [
    { name: 'asn', values: ['64512'] },
    { name: 'peers', values: ['10.0.0.1', '10.0.0.2'] },
    { name: 'escaped', values: ['a&b<c>d"e\'f', 'inner  spaces\tand\ttabs', ''] },
    { name: 'none', values: [] },
  ],
};
const IPV6: GniExtension = { name: 'ipv6', properties: [{ name: 'addresses', values: ['2001:db8::5/128'] }] };
const EMPTY: GniExtension = { name: 'empty-one', properties: [] };

/** A valid document with clusters, nodes, instances and groups (seed chosen for that). */
function base(): GniDocument {
  for (let seed = 1; ; seed++) {
    const d = randomGniDocument(seed);
    const c = d.configuration.clusters;
    if (c.length > 0 && (c[0]?.nodes.length ?? 0) > 0 && d.instances.length > 0 && d.securityGroups.length > 0 && parseGni(serializeGni(d)).ok) return d;
  }
}

/** `d` with extensions on the configuration, the first cluster, its first node, the first instance and the first group. */
function withExtensions(d: GniDocument, exts: { config?: GniExtension[]; cluster?: GniExtension[]; node?: GniExtension[]; instance?: GniExtension[]; group?: GniExtension[] }): GniDocument {
  const [c0, ...cs] = d.configuration.clusters as [GniDocument['configuration']['clusters'][number], ...GniDocument['configuration']['clusters']];
  const [n0, ...ns] = c0.nodes as [typeof c0.nodes[number], ...typeof c0.nodes];
  const [i0, ...is] = d.instances as [GniDocument['instances'][number], ...GniDocument['instances']];
  const [g0, ...gs] = d.securityGroups as [GniDocument['securityGroups'][number], ...GniDocument['securityGroups']];
  const put = <T extends object>(o: T, list: GniExtension[] | undefined): T => (list === undefined ? o : { ...o, extensions: list });
  return {
    ...d,
    configuration: put({ ...d.configuration, clusters: [put({ ...c0, nodes: [put(n0, exts.node), ...ns] }, exts.cluster), ...cs] }, exts.config),
    instances: [put(i0, exts.instance), ...is],
    securityGroups: [put(g0, exts.group), ...gs],
  };
}

const ALL = { config: [ROUTED, IPV6], cluster: [ROUTED], node: [IPV6, EMPTY], instance: [IPV6], group: [ROUTED, EMPTY] };

test('extensions on every extensible element round-trip through the writer and both readers, byte for byte', () => {
  const doc = withExtensions(base(), ALL);
  const xml = serializeGni(doc);
  for (const engine of ENGINES) {
    const r = parseGni(xml, { engine: GNI_ENGINES[engine] });
    assert.ok(r.ok, `${engine}: ${JSON.stringify(r.diagnostics)}`);
    assert.deepEqual(r.value, doc, engine);
    assert.equal(serializeGni(r.value), xml, engine);
  }
  assert.deepEqual(extensionValues(doc.configuration, 'routed', 'peers'), ['10.0.0.1', '10.0.0.2']);
  assert.equal(extensionValues(doc.configuration, 'routed', 'absent'), undefined);
  assert.equal(extensionValues(doc.instances[1] ?? {}, 'ipv6', 'addresses'), undefined);
});

test('where extensions are written: last children, one per line, inline in a node line, our namespace on each', () => {
  const xml = serializeGni(withExtensions(base(), { config: [IPV6], node: [IPV6], instance: [IPV6], group: [IPV6], cluster: [IPV6] }));
  const line = extensionXml(IPV6);
  assert.equal(line, `<edgenet:extension xmlns:edgenet="${EXTENSION_NAMESPACE}" name="ipv6"><edgenet:property name="addresses"><edgenet:value>2001:db8::5/128</edgenet:value></edgenet:property></edgenet:extension>`);
  assert.ok(xml.includes(`    ${line}\n  </configuration>\n`), 'configuration: after clusters');
  assert.ok(xml.includes(`        ${line}\n      </cluster>\n`), 'cluster: after nodes');
  assert.match(xml, new RegExp(`</instanceIds>${line.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}</node>\\n`), 'node: inline');
  assert.ok(xml.includes(`</securityGroups>\n      ${line}\n    </instance>\n`), 'instance: after securityGroups');
  assert.ok(xml.includes(`      <egressRules/>\n      ${line}\n    </securityGroup>\n`), 'group: after egressRules');
  assert.equal(extensionXml(EMPTY), `<edgenet:extension xmlns:edgenet="${EXTENSION_NAMESPACE}" name="empty-one"/>`);
});

test('a 4.4 reader sees the EDGE document: cutting every extension out of the text gives the document without them', () => {
  const plain = base();
  const xml = serializeGni(withExtensions(plain, ALL));
  const cut = xml.replace(/ *<edgenet:extension [^>]*?(?:\/>|>.*?<\/edgenet:extension>)\n?/g, '');
  // The version attribute hashes the body, extensions included; everything else is the same bytes.
  assert.equal(cut.replace(/version="[^"]*"/, ''), serializeGni(plain).replace(/version="[^"]*"/, ''));
  assert.notEqual(gniVersion(withExtensions(plain, ALL)), gniVersion(plain), 'an extension changed is a new document for every node');
});

test('no extensions, or empty lists, write the document exactly as before', () => {
  const plain = base();
  const none = withExtensions(plain, { config: [], cluster: [], node: [], instance: [], group: [] });
  assert.equal(serializeGni(none), serializeGni(plain));
  const r = parseGni(serializeGni(plain));
  assert.ok(r.ok);
  for (const inst of r.value.instances) assert.equal('extensions' in inst, false, 'a document without extensions reads without the field');
  assert.equal('extensions' in r.value.configuration, false);
});

// ---- refusals -----------------------------------------------------------------

/** The first error of `xml`; both engines must agree on its code and path. */
function firstError(xml: string): Diagnostic {
  const found = ENGINES.map((engine) => {
    const r = parseGni(xml, { engine: GNI_ENGINES[engine] });
    assert.equal(r.ok, false, `document should be rejected (engine ${engine})`);
    const d = r.diagnostics.find((x) => x.severity === 'error');
    assert.ok(d);
    return d;
  });
  const [a, b] = found as [Diagnostic, Diagnostic];
  assert.deepEqual({ code: b.code, path: b.path }, { code: a.code, path: a.path }, 'engines disagree');
  return a;
}

/** A document with one instance extension whose XML is `ext` (written verbatim). */
function instanceWith(ext: string): { xml: string; path: string } {
  const plain = base();
  const marker = extensionXml({ name: 'marker', properties: [] });
  const xml = serializeGni(withExtensions(plain, { instance: [{ name: 'marker', properties: [] }] })).replace(marker, ext);
  const first = plain.instances[0]!;
  const name = first.name === '' ? 'instance[1]' : `instance[@name='${first.name.replace(/'/g, '&apos;')}']`;
  return { xml, path: `network-data/instances/${name}` };
}

const NS = `xmlns:edgenet="${EXTENSION_NAMESPACE}"`;

test('refused: an extension without our namespace declared on it, or with another one', () => {
  for (const attrs of ['name="x"', 'xmlns:edgenet="urn:other" name="x"']) {
    const { xml, path } = instanceWith(`<edgenet:extension ${attrs}/>`);
    assert.deepEqual(pick(firstError(xml)), { code: GniCode.BadExtension, path: `${path}/edgenet:extension[@name='x']` });
  }
});

test('refused: anything but properties in an extension, anything but values in a property, elements inside a value', () => {
  const cases: [string, string][] = [
    [`<edgenet:extension ${NS} name="x"><edgenet:value>1</edgenet:value></edgenet:extension>`, "edgenet:extension[@name='x']/edgenet:value"],
    [`<edgenet:extension ${NS} name="x"><property name="p"/></edgenet:extension>`, "edgenet:extension[@name='x']/property"],
    [`<edgenet:extension ${NS} name="x"><edgenet:property name="p"><value>1</value></edgenet:property></edgenet:extension>`, "edgenet:extension[@name='x']/edgenet:property[@name='p']/value"],
    [`<edgenet:extension ${NS} name="x"><edgenet:property name="p"><edgenet:value>1</edgenet:value><edgenet:value><edgenet:value>2</edgenet:value></edgenet:value></edgenet:property></edgenet:extension>`, "edgenet:extension[@name='x']/edgenet:property[@name='p']/edgenet:value[2]"],
    [`<edgenet:extension ${NS} name="x"><edgenet:property name="p"><edgenet:value><a><b><c/></b></a></edgenet:value></edgenet:property></edgenet:extension>`, "edgenet:extension[@name='x']/edgenet:property[@name='p']/edgenet:value[1]"],
  ];
  for (const [ext, rest] of cases) {
    const { xml, path } = instanceWith(ext);
    assert.deepEqual(pick(firstError(xml)), { code: GniCode.BadExtension, path: `${path}/${rest}` }, ext);
  }
});

test('refused: bad or duplicate names', () => {
  const cases: [string, string, string][] = [
    [`<edgenet:extension ${NS} name="Routed"/>`, GniCode.BadExtension, "edgenet:extension[@name='Routed']/@name"],
    [`<edgenet:extension ${NS}/>`, GniCode.BadExtension, 'edgenet:extension[1]/@name'],
    [`<edgenet:extension ${NS} name="${'a'.repeat(64)}"/>`, GniCode.BadExtension, `edgenet:extension[@name='${'a'.repeat(64)}']/@name`],
    [`<edgenet:extension ${NS} name="x"/><edgenet:extension ${NS} name="x"/>`, GniCode.Duplicate, "edgenet:extension[@name='x']"],
    [`<edgenet:extension ${NS} name="x"><edgenet:property name="p_q"/></edgenet:extension>`, GniCode.BadExtension, "edgenet:extension[@name='x']/edgenet:property[@name='p_q']/@name"],
    [`<edgenet:extension ${NS} name="x"><edgenet:property name="p"/><edgenet:property name="p"/></edgenet:extension>`, GniCode.Duplicate, "edgenet:extension[@name='x']/edgenet:property[@name='p']"],
  ];
  for (const [ext, code, rest] of cases) {
    const { xml, path } = instanceWith(ext);
    assert.deepEqual(pick(firstError(xml)), { code, path: `${path}/${rest}` }, ext);
  }
});

test('refused: past the limits (extensions per element, properties, value length); the reader keeps no more than one past a count limit', () => {
  const many = Array.from({ length: MAX_EXTENSIONS_PER_ELEMENT + 5 }, (_, i) => `<edgenet:extension ${NS} name="e${i}"/>`).join('');
  const a = instanceWith(many);
  assert.deepEqual(pick(firstError(a.xml)), { code: GniCode.BadExtension, path: `${a.path}/edgenet:extension[${MAX_EXTENSIONS_PER_ELEMENT + 1}]` });
  for (const engine of ENGINES) {
    const r = parseGni(a.xml.replace(/<edgenet:extension [^>]*name="e1\d"\/>/g, ''), { engine: GNI_ENGINES[engine] });
    assert.ok(r.ok, 'at most the limit is accepted');
  }

  const props = Array.from({ length: MAX_EXTENSION_PROPERTIES + 10 }, (_, i) => `<edgenet:property name="p${i}"/>`).join('');
  const b = instanceWith(`<edgenet:extension ${NS} name="x">${props}</edgenet:extension>`);
  assert.deepEqual(pick(firstError(b.xml)), { code: GniCode.BadExtension, path: `${b.path}/edgenet:extension[@name='x']` });
  const read = parseGni(b.xml);
  assert.equal(read.ok, false);

  const c = instanceWith(`<edgenet:extension ${NS} name="x"><edgenet:property name="p"><edgenet:value>ok</edgenet:value><edgenet:value>${'v'.repeat(MAX_EXTENSION_VALUE_CHARS + 1)}</edgenet:value></edgenet:property></edgenet:extension>`);
  assert.deepEqual(pick(firstError(c.xml)), { code: GniCode.BadExtension, path: `${c.path}/edgenet:extension[@name='x']/edgenet:property[@name='p']/edgenet:value[2]` });
});

test('the validator holds a model built in code to the same rules (names, padding that readers would trim)', () => {
  const doc = withExtensions(base(), { config: [{ name: 'x', properties: [{ name: 'p', values: ['fine', ' padded'] }] }], instance: [{ name: 'Bad', properties: [] }] });
  const errors = validateGni(doc).filter((d) => d.severity === 'error').map(pick);
  assert.deepEqual(errors.map((e) => e.code), [GniCode.BadExtension, GniCode.BadExtension]);
  assert.ok(errors.some((e) => e.path === "network-data/configuration/edgenet:extension[@name='x']/edgenet:property[@name='p']/edgenet:value[2]"));
  assert.ok(errors.some((e) => e.path.endsWith("/edgenet:extension[@name='Bad']/@name")));
});

test('extensions in other namespaces or places are unknown elements, ignored like any other', () => {
  const { xml } = instanceWith(`<other:extension xmlns:other="urn:x" name="x"><whatever/></other:extension>`);
  for (const engine of ENGINES) {
    const r = parseGni(xml, { engine: GNI_ENGINES[engine] });
    assert.ok(r.ok, engine);
    assert.equal('extensions' in (r.value.instances[0] ?? {}), false);
  }
});

function pick(d: Diagnostic): { code: string; path: string } {
  return { code: d.code, path: d.path };
}
