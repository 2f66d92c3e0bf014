/**
 * A small, strict XML reader for SOAP envelopes: elements, attributes, text,
 * CDATA, comments and the XML declaration — nothing else. Any `<!` markup
 * other than comments and CDATA (DOCTYPE, ENTITY, ELEMENT, ATTLIST …) is
 * refused, and only the five predefined entities plus character references
 * are decoded, so entity expansion (billion laughs) and external entities
 * (XXE) cannot happen.
 *
 * Why not a general parser: the payload is one huge Base64 text node (the GNI,
 * megabytes). Scanning from `<` to `<` with indexOf keeps that text a single
 * slice, so a 5 MB envelope parses in a few milliseconds; general parsers walk
 * it character by character on every hop.
 *
 * Names are matched by local name (the prefix is kept in `qname`): SOAP 1.1
 * and 1.2 envelopes and any namespace prefixes a client picks are accepted.
 */
import { EdgenetError } from '../errors.ts';

export interface XmlElement {
  /** Local name (prefix stripped). */
  readonly name: string;
  readonly qname: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  /** Concatenated, entity-decoded character data directly inside this element. */
  text: string;
}

class XmlError extends EdgenetError {}

const MAX_DEPTH = 64;
const NAME = /^[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?$/;

export function parseXml(source: string): XmlElement {
  let i = source.charCodeAt(0) === 0xfeff ? 1 : 0;
  const n = source.length;
  const stack: { el: XmlElement; parts: string[] }[] = [];
  let root: XmlElement | undefined;

  const fail = (message: string): never => {
    throw new XmlError('MALFORMED_XML', `${message} (at offset ${i})`);
  };

  while (i < n) {
    const lt = source.indexOf('<', i);
    const end = lt === -1 ? n : lt;
    if (end > i) {
      const raw = source.slice(i, end);
      const top = stack[stack.length - 1];
      if (top) top.parts.push(raw.includes('&') ? decodeEntities(raw) : raw);
      else if (raw.trim() !== '') fail('text outside the root element');
    }
    if (lt === -1) break;
    i = lt;
    if (source.startsWith('<?', lt)) {
      const close = source.indexOf('?>', lt + 2);
      if (close === -1) fail('unterminated processing instruction');
      i = close + 2;
      continue;
    }
    if (source.startsWith('<!--', lt)) {
      const close = source.indexOf('-->', lt + 4);
      if (close === -1) fail('unterminated comment');
      i = close + 3;
      continue;
    }
    if (source.startsWith('<![CDATA[', lt)) {
      const close = source.indexOf(']]>', lt + 9);
      if (close === -1) fail('unterminated CDATA section');
      const top = stack[stack.length - 1];
      if (!top) fail('CDATA outside the root element');
      top!.parts.push(source.slice(lt + 9, close));
      i = close + 3;
      continue;
    }
    if (source.startsWith('<!', lt)) {
      throw new XmlError('XML_DTD_FORBIDDEN', 'document type declarations and entity definitions are not accepted');
    }
    if (source.charCodeAt(lt + 1) === 0x2f /* / */) {
      const close = source.indexOf('>', lt + 2);
      if (close === -1) fail('unterminated end tag');
      const qname = source.slice(lt + 2, close).trim();
      const top = stack.pop();
      if (!top || top.el.qname !== qname) fail(`unexpected end tag </${qname}>`);
      top!.el.text = top!.parts.length === 1 ? top!.parts[0]! : top!.parts.join('');
      i = close + 1;
      continue;
    }
    // Start tag: name, attributes, then `>` or `/>`; quoted values may hold `>`.
    let j = lt + 1;
    while (j < n && !isSpace(source.charCodeAt(j)) && source[j] !== '>' && source[j] !== '/') j++;
    const qname = source.slice(lt + 1, j);
    if (!NAME.test(qname)) fail(`bad element name "${qname.slice(0, 40)}"`);
    const attrs: Record<string, string> = {};
    let selfClosing = false;
    for (;;) {
      while (j < n && isSpace(source.charCodeAt(j))) j++;
      if (j >= n) fail('unterminated start tag');
      if (source[j] === '>') {
        j++;
        break;
      }
      if (source[j] === '/' && source[j + 1] === '>') {
        selfClosing = true;
        j += 2;
        break;
      }
      const eq = source.indexOf('=', j);
      if (eq === -1) fail('attribute without value');
      const attrName = source.slice(j, eq).trim();
      if (!NAME.test(attrName)) fail(`bad attribute name "${attrName.slice(0, 40)}"`);
      let q = eq + 1;
      while (q < n && isSpace(source.charCodeAt(q))) q++;
      const quote = source[q];
      if (quote !== '"' && quote !== "'") fail('attribute value not quoted');
      const close = source.indexOf(quote!, q + 1);
      if (close === -1) fail('unterminated attribute value');
      const raw = source.slice(q + 1, close);
      if (raw.includes('<')) fail('"<" in attribute value');
      if (Object.hasOwn(attrs, attrName)) fail(`duplicate attribute ${attrName}`);
      attrs[attrName] = raw.includes('&') ? decodeEntities(raw) : raw;
      j = close + 1;
    }
    const colon = qname.indexOf(':');
    const el: XmlElement = { name: colon === -1 ? qname : qname.slice(colon + 1), qname, attrs, children: [], text: '' };
    const parent = stack[stack.length - 1];
    if (parent) parent.el.children.push(el);
    else if (root) fail('more than one root element');
    else root = el;
    if (!selfClosing) {
      if (stack.length >= MAX_DEPTH) fail('elements nested too deeply');
      stack.push({ el, parts: [] });
    }
    i = j;
  }
  if (stack.length > 0) fail(`unclosed element <${stack[stack.length - 1]!.el.qname}>`);
  if (!root) fail('no root element');
  return root!;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(raw: string): string {
  return raw.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[A-Za-z]{1,8});|&/g, (m, ref: string | undefined) => {
    if (ref === undefined) throw new XmlError('MALFORMED_XML', 'bare "&" in text');
    const known = PREDEFINED[ref];
    if (known !== undefined) return known;
    const code = ref.startsWith('#x') ? Number.parseInt(ref.slice(2), 16) : ref.startsWith('#') ? Number.parseInt(ref.slice(1), 10) : NaN;
    if (!Number.isInteger(code) || code <= 0 || code > 0x10ffff) {
      throw new XmlError('MALFORMED_XML', `undefined entity ${m}`);
    }
    return String.fromCodePoint(code);
  });
}

/** First child with this local name. */
export function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}

export function childrenNamed(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name);
}

/** Text of the first child with this local name, trimmed; undefined when absent. */
export function childText(el: XmlElement, name: string): string | undefined {
  const c = child(el, name);
  return c === undefined ? undefined : c.text.trim();
}

const ESCAPES: Readonly<Record<string, string>> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' };

export function escapeXml(text: string): string {
  return /[<>&"']/.test(text) ? text.replace(/[<>&"']/g, (c) => ESCAPES[c]!) : text;
}
