/**
 * GNI extensions: how data that Eucalyptus 4.4 has no field for (what a mode
 * other than EDGE, or a feature such as IPv6, needs) travels in the document
 * without changing its 4.4 shape (docs/gni.md, "Extensions").
 *
 * On the wire an extension is one element in edgenet's own XML namespace,
 * declared on the element itself, holding named properties of string values —
 * the GNI's own `property`/`value` idiom, one namespace over:
 *
 *   <edgenet:extension xmlns:edgenet="urn:edgenet:gni:1" name="routed"><edgenet:property name="asn"><edgenet:value>64512</edgenet:value></edgenet:property></edgenet:extension>
 *
 * It may stand as the last children of `configuration`, `cluster`, `node`,
 * `instance` and `securityGroup`. eucanetd 4.4 reads the document with
 * libxml2 XPath over un-prefixed names, which never match an element in
 * another namespace, and JAXB ignores unknown elements; edgenet readers older
 * than extensions skip unknown elements. So a 4.4 reader ignores them, and a
 * document without extensions is byte for byte what it was before.
 *
 * The model (`GniExtension`) is generic: the reader and writer know nothing
 * about any extension's meaning, so a mode adds its data by producing
 * extensions on the CLC side and reading them in its netd mode, without
 * touching the codec.
 *
 * Checks (GNI_BAD_EXTENSION unless noted), split so nothing is reported twice:
 * - the reader (`readExtension`): our namespace declared on the element,
 *   exactly three levels (extension > property > value; a value holds text
 *   only, anything else inside is refused); it keeps at most one item past
 *   each count limit, so a hostile document cannot make it hold more;
 * - `checkExtensions`, run by the validator on every extensible element (so a
 *   model built in code, e.g. by the CLC, is held to the same rules): names
 *   (`EXTENSION_NAME`), uniqueness (GNI_DUPLICATE), the count and length
 *   limits, and values that would not survive a round trip (surrounding XML
 *   whitespace, which every GNI reader trims).
 */
import type { Diagnostic } from '../diagnostics.ts';
import { GniCode, error } from './codes.ts';
import type { ElementCursor } from './cursor.ts';
import { escapeAttr, escapeText } from './xml-text.ts';

/** Data a mode or feature adds to a document element; `name` says whose it is. */
export interface GniExtension {
  /** The owner: a mode's name in lower case (`routed`) or a feature (`ipv6`); `EXTENSION_NAME`. */
  readonly name: string;
  /** In document order; names unique within the extension. */
  readonly properties: readonly GniExtensionProperty[];
}

export interface GniExtensionProperty {
  readonly name: string;
  /** Texts as the XML carries them (trimmed of surrounding XML whitespace, like every GNI text). */
  readonly values: readonly string[];
}

/** An element that can carry extensions (absent or empty: none; the writer writes nothing). */
export interface Extensible {
  readonly extensions?: readonly GniExtension[];
}

export const EXTENSION_NAMESPACE = 'urn:edgenet:gni:1';
export const EXTENSION_TAG = 'edgenet:extension';
const EXTENSION_PROPERTY_TAG = 'edgenet:property';
const EXTENSION_VALUE_TAG = 'edgenet:value';
const EXTENSION_XMLNS_ATTR = 'xmlns:edgenet';

/** Extension and property names: lower-case words joined by `-`, at most 63 characters. */
const EXTENSION_NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const MAX_EXTENSION_NAME = 63;
/** Limits, far above any plausible use and low enough that a hostile document cannot make a reader keep much. */
export const MAX_EXTENSIONS_PER_ELEMENT = 16;
export const MAX_EXTENSION_PROPERTIES = 256;
const MAX_EXTENSION_VALUES = 65_536;
export const MAX_EXTENSION_VALUE_CHARS = 4096;

/** The path of an element's extension (`…/edgenet:extension[@name='routed']`). */
function extensionPath(owner: string, name: string, index: number): string {
  const step = name === '' ? `${EXTENSION_TAG}[${index + 1}]` : `${EXTENSION_TAG}[@name='${name.replace(/'/g, '&apos;')}']`;
  return `${owner}/${step}`;
}

/** The path of a property of the extension at `extension`. */
function propertyPath(extension: string, name: string, index: number): string {
  return `${extension}/${name === '' ? `${EXTENSION_PROPERTY_TAG}[${index + 1}]` : `${EXTENSION_PROPERTY_TAG}[@name='${name.replace(/'/g, '&apos;')}']`}`;
}

/** Leading or trailing XML whitespace (what readers trim from text). */
const EDGE_SPACE = /^[ \t\r\n]|[ \t\r\n]$/;

function isName(text: string): boolean {
  return text.length <= MAX_EXTENSION_NAME && EXTENSION_NAME.test(text);
}

/**
 * Every problem with `list`, the extensions of the element at `owner`:
 * names, uniqueness, limits. Pushes to `out`.
 */
export function checkExtensions(out: Diagnostic[], list: readonly GniExtension[], owner: string): void {
  if (list.length > MAX_EXTENSIONS_PER_ELEMENT) {
    out.push(error(GniCode.BadExtension, extensionPath(owner, '', MAX_EXTENSIONS_PER_ELEMENT), `more than ${MAX_EXTENSIONS_PER_ELEMENT} extensions on one element`));
  }
  const names = new Set<string>();
  list.forEach((ext, i) => {
    const path = extensionPath(owner, ext.name, i);
    if (!isName(ext.name)) out.push(error(GniCode.BadExtension, `${path}/@name`, `extension name "${ext.name}" is not lower-case words joined by "-" (at most ${MAX_EXTENSION_NAME} characters)`));
    else if (names.has(ext.name)) out.push(error(GniCode.Duplicate, path, `extension "${ext.name}" appears twice on one element`));
    names.add(ext.name);
    if (ext.properties.length > MAX_EXTENSION_PROPERTIES) {
      out.push(error(GniCode.BadExtension, path, `more than ${MAX_EXTENSION_PROPERTIES} properties in one extension`));
    }
    const props = new Set<string>();
    ext.properties.forEach((p, j) => {
      const ppath = propertyPath(path, p.name, j);
      if (!isName(p.name)) out.push(error(GniCode.BadExtension, `${ppath}/@name`, `property name "${p.name}" is not lower-case words joined by "-" (at most ${MAX_EXTENSION_NAME} characters)`));
      else if (props.has(p.name)) out.push(error(GniCode.Duplicate, ppath, `property "${p.name}" appears twice in extension "${ext.name}"`));
      props.add(p.name);
      if (p.values.length > MAX_EXTENSION_VALUES) out.push(error(GniCode.BadExtension, ppath, `more than ${MAX_EXTENSION_VALUES} values in one property`));
      const long = p.values.findIndex((v) => v.length > MAX_EXTENSION_VALUE_CHARS);
      if (long !== -1) out.push(error(GniCode.BadExtension, `${ppath}/${EXTENSION_VALUE_TAG}[${long + 1}]`, `value longer than ${MAX_EXTENSION_VALUE_CHARS} characters`));
      const padded = p.values.findIndex((v) => EDGE_SPACE.test(v));
      if (padded !== -1) out.push(error(GniCode.BadExtension, `${ppath}/${EXTENSION_VALUE_TAG}[${padded + 1}]`, 'value starts or ends with whitespace, which readers trim'));
    });
  });
}

/** The values of `property` in extension `extension` of `element`, or undefined when either is absent. */
export function extensionValues(element: Extensible, extension: string, property: string): readonly string[] | undefined {
  return element.extensions?.find((e) => e.name === extension)?.properties.find((p) => p.name === property)?.values;
}

// ---- XML ---------------------------------------------------------------------

/**
 * Reads the `edgenet:extension` element the cursor stands on (consumes it);
 * `owner` is the path of the element that carries it, `index` its position
 * among that element's extensions. Structural faults go to `diagnostics`:
 * the first of each kind per element (a hostile document cannot make the
 * list long), in a fixed order whatever the order of elements in the text
 * (the tests' fast-xml-parser oracle sees children grouped by tag): the namespace,
 * then each property's, then a stray child's.
 */
export function readExtension(cur: ElementCursor, at: { readonly owner: string; readonly index: number; readonly diagnostics: Diagnostic[] }): GniExtension {
  const name = cur.attr('name') ?? '';
  const path = extensionPath(at.owner, name, at.index);
  if (cur.attr(EXTENSION_XMLNS_ATTR) !== EXTENSION_NAMESPACE) {
    at.diagnostics.push(error(GniCode.BadExtension, path, `an extension declares ${EXTENSION_XMLNS_ATTR}="${EXTENSION_NAMESPACE}" on itself`));
  }
  const properties: GniExtensionProperty[] = [];
  let stray: Diagnostic | undefined;
  while (cur.next()) {
    if (cur.tag !== EXTENSION_PROPERTY_TAG) {
      stray ??= error(GniCode.BadExtension, `${path}/${cur.tag}`, `<${cur.tag}> inside an extension (only <${EXTENSION_PROPERTY_TAG}>)`);
      cur.skip();
    } else if (properties.length > MAX_EXTENSION_PROPERTIES) cur.skip();
    else properties.push(readProperty(cur, { path, index: properties.length, diagnostics: at.diagnostics }));
  }
  if (stray !== undefined) at.diagnostics.push(stray);
  return { name, properties };
}

function readProperty(cur: ElementCursor, at: { readonly path: string; readonly index: number; readonly diagnostics: Diagnostic[] }): GniExtensionProperty {
  const name = cur.attr('name') ?? '';
  const values: string[] = [];
  let stray: Diagnostic | undefined;
  let nested: Diagnostic | undefined;
  let position = 0;
  while (cur.next()) {
    if (cur.tag !== EXTENSION_VALUE_TAG) {
      stray ??= error(GniCode.BadExtension, `${propertyPath(at.path, name, at.index)}/${cur.tag}`, `<${cur.tag}> inside an extension property (only <${EXTENSION_VALUE_TAG}>)`);
      cur.skip();
      continue;
    }
    position++;
    const text = cur.leafText();
    if (text === undefined) nested ??= error(GniCode.BadExtension, `${propertyPath(at.path, name, at.index)}/${EXTENSION_VALUE_TAG}[${position}]`, 'an extension value holds text only, not elements');
    else if (values.length <= MAX_EXTENSION_VALUES) values.push(text);
  }
  if (nested !== undefined) at.diagnostics.push(nested);
  if (stray !== undefined) at.diagnostics.push(stray);
  return { name, values };
}

/** One extension on one line (no indentation, no newline). */
export function extensionXml(ext: GniExtension): string {
  const open = `<${EXTENSION_TAG} ${EXTENSION_XMLNS_ATTR}="${EXTENSION_NAMESPACE}" name="${escapeAttr(ext.name)}"`;
  if (ext.properties.length === 0) return `${open}/>`;
  let s = `${open}>`;
  for (const p of ext.properties) {
    if (p.values.length === 0) {
      s += `<${EXTENSION_PROPERTY_TAG} name="${escapeAttr(p.name)}"/>`;
      continue;
    }
    s += `<${EXTENSION_PROPERTY_TAG} name="${escapeAttr(p.name)}">`;
    for (const v of p.values) s += `<${EXTENSION_VALUE_TAG}>${escapeText(v)}</${EXTENSION_VALUE_TAG}>`;
    s += `</${EXTENSION_PROPERTY_TAG}>`;
  }
  return `${s}</${EXTENSION_TAG}>`;
}

/** The extensions of an element, one per line at `indent` (each line ends with a newline); '' when none. */
export function extensionLines(list: readonly GniExtension[] | undefined, indent: string): string {
  if (list === undefined) return '';
  let s = '';
  for (const ext of list) s += `${indent}${extensionXml(ext)}\n`;
  return s;
}
