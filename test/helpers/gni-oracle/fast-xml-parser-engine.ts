/**
 * A second, independent XML engine for `parseGni`, kept as a test oracle:
 * fast-xml-parser's validator for well-formedness, then its parser, its tree
 * converted to `XmlElement`s and read by the same readers as production
 * (`readDocument` in src/shared/gni/parse.ts). The differential tests
 * (test/unit/gni/scan.test.ts, reject.test.ts, nesting.test.ts, the GNI
 * fuzz test) and bench/gni.bench.ts hold the production `scan` engine to it.
 * Production never loads fast-xml-parser (a devDependency).
 *
 *   parseGni(text, { engine: GNI_ENGINES['fast-xml-parser'] })
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { Diagnostic } from '../../../src/shared/diagnostics.ts';
import { GniCode, error } from '../../../src/shared/gni/codes.ts';
import type { XmlElement } from '../../../src/shared/gni/cursor.ts';
import { readDocument, scanEngine, wrongRoot, type GniXmlEngine, type ReadResult } from '../../../src/shared/gni/parse.ts';
import { TreeCursor } from './tree-cursor.ts';

/** Both engines by name, for tests that run every document through each. */
export const GNI_ENGINES: Readonly<Record<'scan' | 'fast-xml-parser', GniXmlEngine>> = {
  scan: scanEngine,
  'fast-xml-parser': fastXmlParserEngine,
};

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  attributesGroupName: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  // Every element is an array: repeated and single children look the same.
  isArray: () => true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  htmlEntities: true,
});

export function fastXmlParserEngine(text: string, diagnostics: Diagnostic[]): ReadResult {
  // The parser is lenient (a truncated document parses); its validator is not.
  const wellFormed = XMLValidator.validate(text);
  if (wellFormed !== true) {
    const e = wellFormed.err;
    return { ok: false, diagnostic: error(GniCode.Malformed, '', `line ${e.line}, column ${e.col}: ${e.msg}`) };
  }
  let tree: Record<string, unknown>;
  try {
    tree = parser.parse(text) as Record<string, unknown>;
  } catch (err) {
    return { ok: false, diagnostic: error(GniCode.Malformed, '', err instanceof Error ? err.message : String(err)) };
  }
  const roots = Object.keys(tree).filter((k) => k !== '#text');
  const rootList = tree['network-data'];
  if (roots.length !== 1 || !Array.isArray(rootList) || rootList.length !== 1) return wrongRoot(roots);
  return { ok: true, doc: readDocument(new TreeCursor(fromFxp('network-data', rootList[0])), diagnostics) };
}

/** The fast-xml-parser tree (its configuration above) as the scanner's element tree. */
function fromFxp(tag: string, node: unknown): XmlElement {
  if (typeof node === 'string') return { tag, attrs: undefined, children: undefined, text: node };
  let attrs: string[] | undefined;
  let children: XmlElement[] | undefined;
  let text = '';
  if (typeof node === 'object' && node !== null) {
    for (const [key, v] of Object.entries(node)) {
      if (key === '@') {
        const group: unknown = Array.isArray(v) ? v[0] : undefined;
        if (typeof group === 'object' && group !== null) attrs = Object.entries(group).flatMap(([name, value]) => [name, String(value)]);
      } else if (key === '#text') {
        text = Array.isArray(v) ? String(v[0] ?? '') : typeof v === 'string' ? v : '';
      } else if (Array.isArray(v)) {
        for (const item of v) (children ??= []).push(fromFxp(key, item));
      }
    }
  }
  return { tag, attrs, children, text };
}
