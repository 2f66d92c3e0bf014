/**
 * A strict, small XML reader for GNI documents: an alternative engine to
 * fast-xml-parser for `parseGni` (option `engine: 'scan'`), 3–4× faster
 * on a 10,000-instance document (bench/gni.bench.ts), because a node
 * parses the whole cloud-wide document on every change.
 *
 * It builds the same tree shape the fast-xml-parser configuration in
 * `parse.ts` builds, so one tree walk serves both engines (differential tests
 * in test/unit/gni/scan.test.ts):
 * - an element is stored under its parent as `parent[tag]: XNode[]`;
 * - attributes under `'@': [{name: value}]`, text under `'#text'`;
 * - an element with neither attributes nor child elements is its trimmed text
 *   (`''` when empty).
 *
 * Supported: XML declaration and processing instructions (skipped), comments,
 * CDATA, the five predefined entities and numeric character references,
 * single- or double-quoted attributes. Refused as malformed (with line and
 * column): mismatched or unclosed tags (a truncated document), unknown
 * entities, a bare `&` or `<`, duplicate attributes, text or a second element
 * outside the root, any `<!` declaration (the caller rejects DOCTYPE/ENTITY
 * before this runs). No namespaces processing: prefixed names are plain names.
 */

export type ScanNode = string | { [tag: string]: unknown };

export class ScanError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly col: number,
  ) {
    super(message);
    this.name = 'ScanError';
  }
}

interface Frame {
  readonly tag: string;
  readonly attrs: Record<string, string> | undefined;
  children: Record<string, ScanNode[]> | undefined;
  text: string;
}

const NAME = /[A-Za-z_:][\w.:\u00b7\u00c0-\uffff-]*/y;
const ATTR = /\s+([A-Za-z_:][\w.:\u00b7\u00c0-\uffff-]*)\s*=\s*(?:"([^"<]*)"|'([^'<]*)')/y;
const TAG_END = /\s*(\/?)>/y;
const CLOSE = /<\/([A-Za-z_:][\w.:\u00b7\u00c0-\uffff-]*)\s*>/y;
const ENTITY = /&(?:(amp|lt|gt|quot|apos)|#(\d{1,7})|#x([0-9a-fA-F]{1,6}));/y;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function position(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, col: offset - lineStart + 1 };
}

function fail(text: string, offset: number, message: string): never {
  const { line, col } = position(text, offset);
  throw new ScanError(message, line, col);
}

/** Replaces entity and character references; `offset` locates errors. */
function decode(text: string, raw: string, offset: number): string {
  let amp = raw.indexOf('&');
  if (amp === -1) return raw;
  let out = '';
  let from = 0;
  while (amp !== -1) {
    ENTITY.lastIndex = amp;
    const m = ENTITY.exec(raw);
    if (m === null) fail(text, offset + amp, 'bare "&" or unknown entity');
    let ch: string;
    if (m[1] !== undefined) ch = NAMED[m[1]] as string;
    else {
      const code = m[2] !== undefined ? Number(m[2]) : parseInt(m[3] as string, 16);
      if (code > 0x10ffff || code === 0) fail(text, offset + amp, `invalid character reference ${m[0]}`);
      ch = String.fromCodePoint(code);
    }
    out += raw.slice(from, amp) + ch;
    from = amp + m[0].length;
    amp = raw.indexOf('&', from);
  }
  return out + raw.slice(from);
}

/** XML whitespace: space, tab, CR, LF. */
function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

/** Parses `text` into `{ [rootTag]: [rootNode] }`. Throws ScanError when not well-formed. */
export function scanXml(text: string): Record<string, ScanNode[]> {
  const top: Record<string, ScanNode[]> = {};
  const stack: Frame[] = [];
  let rootSeen = false;
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const n = text.length;

  /** The trimmed, decoded text of text[from, to); '' without allocating when it is blank. */
  const textBetween = (from: number, to: number): string => {
    while (from < to && isSpace(text.charCodeAt(from))) from++;
    while (to > from && isSpace(text.charCodeAt(to - 1))) to--;
    return from === to ? '' : decode(text, text.slice(from, to), from);
  };
  const addText = (from: number, to: number) => {
    const value = textBetween(from, to);
    if (value === '') return;
    const frame = stack[stack.length - 1];
    if (frame === undefined) fail(text, from, 'text outside the root element');
    frame.text = frame.text === '' ? value : frame.text + value;
  };

  while (pos < n) {
    const lt = text.indexOf('<', pos);
    if (lt === -1) {
      addText(pos, n);
      break;
    }
    if (lt > pos) addText(pos, lt);
    const next = text.charCodeAt(lt + 1);
    if (next === 0x2f /* / */) {
      CLOSE.lastIndex = lt;
      const m = CLOSE.exec(text);
      if (m === null) fail(text, lt, 'malformed closing tag');
      const frame = stack.pop();
      if (frame === undefined || frame.tag !== m[1]) fail(text, lt, frame === undefined ? `unexpected closing tag </${m[1]}>` : `expected </${frame.tag}>, found </${m[1]}>`);
      close(frame);
      pos = CLOSE.lastIndex;
    } else if (next === 0x3f /* ? */) {
      const end = text.indexOf('?>', lt + 2);
      if (end === -1) fail(text, lt, 'unterminated processing instruction');
      pos = end + 2;
    } else if (next === 0x21 /* ! */) {
      if (text.startsWith('<!--', lt)) {
        const end = text.indexOf('-->', lt + 4);
        if (end === -1) fail(text, lt, 'unterminated comment');
        pos = end + 3;
      } else if (text.startsWith('<![CDATA[', lt)) {
        const end = text.indexOf(']]>', lt + 9);
        if (end === -1) fail(text, lt, 'unterminated CDATA section');
        const frame = stack[stack.length - 1];
        if (frame === undefined) fail(text, lt, 'CDATA outside the root element');
        const value = text.slice(lt + 9, end).trim();
        if (value !== '') frame.text += value;
        pos = end + 3;
      } else fail(text, lt, 'declarations are not allowed');
    } else {
      NAME.lastIndex = lt + 1;
      const nameMatch = NAME.exec(text);
      if (nameMatch === null) fail(text, lt, 'bare "<" or invalid tag name');
      const tag = nameMatch[0];
      let p = NAME.lastIndex;
      let attrs: Record<string, string> | undefined;
      for (;;) {
        ATTR.lastIndex = p;
        const a = ATTR.exec(text);
        if (a === null) break;
        attrs ??= {};
        const name = a[1] as string;
        if (Object.hasOwn(attrs, name)) fail(text, p, `duplicate attribute "${name}"`);
        const raw = a[2] ?? a[3] ?? '';
        attrs[name] = decode(text, raw, p);
        p = ATTR.lastIndex;
      }
      TAG_END.lastIndex = p;
      const end = TAG_END.exec(text);
      if (end === null) fail(text, p, `malformed start tag <${tag}>`);
      if (stack.length === 0) {
        if (rootSeen) fail(text, lt, 'more than one root element');
        rootSeen = true;
      }
      pos = TAG_END.lastIndex;
      if (end[1] === '/') {
        close({ tag, attrs, children: undefined, text: '' });
        continue;
      }
      // Fast path for leaf elements (`<value>x</value>`, most of a GNI): text
      // then the matching end tag, no frame pushed.
      const lt2 = text.indexOf('<', pos);
      if (lt2 !== -1 && text.charCodeAt(lt2 + 1) === 0x2f && text.charCodeAt(lt2 + 2 + tag.length) === 0x3e && text.startsWith(tag, lt2 + 2)) {
        close({ tag, attrs, children: undefined, text: textBetween(pos, lt2) });
        pos = lt2 + 3 + tag.length;
        continue;
      }
      stack.push({ tag, attrs, children: undefined, text: '' });
    }
  }
  if (stack.length > 0) fail(text, n, `unexpected end of document: <${stack[stack.length - 1]?.tag}> is not closed`);
  if (!rootSeen) fail(text, n, 'no root element');
  return top;

  function close(frame: Frame): void {
    let node: ScanNode;
    if (frame.attrs === undefined && frame.children === undefined) node = frame.text;
    else {
      const obj: { [tag: string]: unknown } = frame.children ?? {};
      if (frame.text !== '') obj['#text'] = frame.text;
      if (frame.attrs !== undefined) obj['@'] = [frame.attrs];
      node = obj;
    }
    const parent = stack[stack.length - 1];
    const into = parent === undefined ? top : (parent.children ??= {});
    const list = into[frame.tag];
    if (list === undefined) into[frame.tag] = [node];
    else list.push(node);
  }
}
