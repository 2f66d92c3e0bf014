/**
 * A strict, small XML reader for GNI documents: the default engine of
 * `parseGni` (`engine: 'scan'`), because a node parses the whole cloud-wide
 * document on every change (bench/gni.bench.ts).
 *
 * Model: `ScanCursor` is a pull reader (the `ElementCursor` of cursor.ts)
 * over the text: `parse.ts` reads the document element by element and builds
 * the GniDocument directly, with no tree in between (the tree of a
 * 10,000-instance document is ~100,000 objects the young-generation GC would
 * copy on every parse). `scanXml` builds an `XmlElement` tree through the same
 * cursor, for tools and tests. An element's text is its trimmed text segments
 * concatenated (`''` when none), CDATA included. Well-formedness is checked in
 * the same single pass, in document order, so the first error reported is the
 * first one in the text, whatever the reader does with the elements.
 *
 * Supported: XML declaration and processing instructions (skipped), comments,
 * CDATA, the five predefined entities and numeric character references,
 * single- or double-quoted attributes. Refused as malformed (with line and
 * column): mismatched or unclosed tags (a truncated document), unknown
 * entities, a bare `&` or `<`, duplicate attributes, text or a second element
 * outside the root, any `<!` declaration (the caller rejects DOCTYPE/ENTITY
 * before this runs). No namespaces processing: prefixed names are plain names.
 *
 * Speed (why it looks like this): one left-to-right pass with `indexOf` and
 * `charCodeAt`, no regex per token; one `indexOf('<')` per start tag serves
 * both the "no `<` inside a start tag or attribute value" check and the leaf
 * fast path (`<value>x</value>`, most of a GNI); end tags are compared in
 * place, without slicing their name; the next `&` is found once and reused, so
 * text without references is sliced, never decoded; element names come from a
 * fixed table of GNI names and attributes go to one shared buffer, so an
 * element allocates nothing but its text. The token grammar is the
 * one the earlier regex reader accepted (names `[A-Za-z_:][\w.:\u00b7\u00c0-\uffff-]*`,
 * JavaScript `\s` between attributes, XML whitespace trimmed from text).
 */

import type { ElementCursor, XmlElement } from './cursor.ts';

export type { ElementCursor, XmlElement } from './cursor.ts';

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

/** A GNI nests 7 deep at most; anything near this is hostile. */
export const MAX_DEPTH = 64;

function fail(text: string, offset: number, message: string): never {
  const { line, col } = position(text, offset);
  throw new ScanError(message, line, col);
}

/** Replaces entity and character references in `raw` (= text from `offset`); the rare path. */
function decode(text: string, raw: string, offset: number): string {
  let amp = raw.indexOf('&');
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

/** XML whitespace (trimmed from text): space, tab, CR, LF. */
function isXmlSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

/** JavaScript `\s` (what separates attributes), by code unit. */
function isJsSpace(c: number): boolean {
  if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) return true;
  if (c < 0xa0) return false;
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/** `[A-Za-z_:]` */
function isNameStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a;
}

/** `[\w.:\u00b7\u00c0-\uffff-]` */
function isNameChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x3a) || c === 0x5f || c === 0x2e || c === 0x2d || c === 0xb7 || c >= 0xc0;
}

/**
 * The element names of a GNI document. A start tag with one of them gets the
 * constant (internalized) string rather than a new slice: no allocation per
 * element, and the readers' `switch (tag)` compares pointers. A fixed table:
 * other names are sliced as usual, and nothing is added at run time.
 */
const GNI_TAGS = [
  'network-data', 'configuration', 'property', 'value', 'cluster', 'subnet', 'node', 'instanceIds',
  'instances', 'instance', 'ownerId', 'macAddress', 'publicIp', 'privateIp', 'networkInterfaces', 'vpc',
  'securityGroups', 'securityGroup', 'ingressRules', 'egressRules', 'rules', 'rule', 'protocol', 'fromPort',
  'toPort', 'icmpType', 'icmpCode', 'cidr', 'groupId', 'groupOwnerId', 'vpcs', 'dhcpOptionSets', 'internetGateways',
  'edgenet:extension', 'edgenet:property', 'edgenet:value',
];
const TAG_SLOTS = 256;
const tagSlot = (len: number, first: number, last: number): number => (len * 31 + first * 7 + last) & (TAG_SLOTS - 1);
const TAG_TABLE: string[][] = Array.from({ length: TAG_SLOTS }, () => []);
for (const tag of GNI_TAGS) TAG_TABLE[tagSlot(tag.length, tag.charCodeAt(0), tag.charCodeAt(tag.length - 1))]?.push(tag);

/** The GNI_TAGS constant equal to text[from, to), if any. */
function knownTag(text: string, from: number, to: number): string | undefined {
  const len = to - from;
  const bucket = TAG_TABLE[tagSlot(len, text.charCodeAt(from), text.charCodeAt(to - 1))] as string[];
  for (let i = 0; i < bucket.length; i++) {
    const tag = bucket[i] as string;
    if (tag.length === len && text.startsWith(tag, from)) return tag;
  }
  return undefined;
}

/**
 * Parses `text` into an element tree (tools and tests; `parse.ts` reads
 * through the cursor and builds no tree). Throws ScanError when not well-formed.
 */
export function scanXml(text: string): XmlElement {
  const cur = new ScanCursor(text);
  const root = build(cur);
  cur.finish();
  return root;
}

function build(cur: ScanCursor): XmlElement {
  const { tag } = cur;
  const attrs = cur.attrs;
  let children: XmlElement[] | undefined;
  while (cur.next()) (children ??= []).push(build(cur));
  return { tag, attrs, children, text: cur.lastText };
}

/**
 * An ElementCursor over XML text: construction reads up to and including the
 * root start tag (the root is then current); after the root is consumed,
 * `finish()` checks what follows it. Every method throws ScanError at the
 * first thing that is not well-formed, so a reader sees an error exactly
 * where a full scan would have, and no later.
 */
export class ScanCursor implements ElementCursor {
  private readonly n: number;
  /** Open elements, innermost last; `attrStarts`/`texts` run parallel. */
  private readonly tags: string[] = [];
  /**
   * Attributes of the open elements, `name, value` pairs one element after
   * the other (no array per element); an element's pairs start at its
   * `attrStarts` entry, and the current element's run to the end.
   */
  private readonly attrBuf: string[] = [];
  private readonly attrStarts: number[] = [];
  private readonly texts: string[] = [];
  /** The current element's content and end tag are already read (self-closing, or a leaf read in one go). */
  private done = false;
  private rootSeen = false;
  private pos: number;
  /** The next '<' at or after `pos` when known (-2: not known; -1: none). */
  private lt = -2;
  /**
   * The first `&` at or after the last text/attribute looked at (-1: none
   * left). Lookups come in document order, so the whole document costs one
   * `indexOf` pass however many values there are.
   */
  private amp: number;
  /** Text of the element most recently consumed. */
  lastText = '';

  constructor(private readonly src: string) {
    this.n = src.length;
    this.amp = src.indexOf('&');
    this.pos = src.charCodeAt(0) === 0xfeff ? 1 : 0;
    if (!this.advance()) fail(src, this.n, 'no root element');
  }

  get tag(): string {
    const tag = this.tags[this.tags.length - 1];
    if (tag === undefined) throw new Error('ScanCursor: the root element is already consumed');
    return tag;
  }

  /** Attributes of the current element as `[name, value, …]`. */
  get attrs(): string[] | undefined {
    const start = this.attrStarts[this.attrStarts.length - 1] ?? this.attrBuf.length;
    return start === this.attrBuf.length ? undefined : this.attrBuf.slice(start);
  }

  attr(name: string): string | undefined {
    const buf = this.attrBuf;
    for (let i = this.attrStarts[this.attrStarts.length - 1] ?? buf.length; i < buf.length; i += 2) if (buf[i] === name) return buf[i + 1];
    return undefined;
  }

  next(): boolean {
    if (this.done) {
      this.pop();
      return false;
    }
    return this.advance();
  }

  text(): string {
    while (this.next()) this.skip();
    return this.lastText;
  }

  leafText(): string | undefined {
    let children = false;
    while (this.next()) {
      children = true;
      this.skip();
    }
    return children ? undefined : this.lastText;
  }

  skip(): void {
    while (this.next()) this.skip();
  }

  hasContent(): boolean {
    let children = false;
    while (this.next()) {
      children = true;
      this.skip();
    }
    return children || this.lastText !== '';
  }

  /** After the root is consumed: only comments, PIs and whitespace may follow. */
  finish(): void {
    if (this.tags.length > 0) throw new Error('ScanCursor.finish: the root element is not consumed');
    if (this.advance()) fail(this.src, this.n, 'more than one root element'); // not reached: advance() fails first
  }

  private pop(): void {
    this.tags.pop();
    const start = this.attrStarts.pop() ?? 0;
    if (this.attrBuf.length !== start) this.attrBuf.length = start; // setting length is a runtime call: only when needed
    this.lastText = this.texts.pop() ?? '';
    this.done = false;
  }

  /**
   * Reads on inside the current element (or outside the root when none is
   * open) up to the next start tag (entered: true) or the end tag of the
   * current element (left: false; false also at the end of a well-formed
   * document once the root was consumed).
   */
  private advance(): boolean {
    const { src: text, n } = this;
    for (;;) {
      const pos = this.pos;
      let lt = this.lt;
      if (lt === -2 || (lt !== -1 && lt < pos)) lt = text.indexOf('<', pos);
      if (lt === -1) {
        this.addText(pos, n);
        this.pos = n;
        this.lt = -1;
        const open = this.tags[this.tags.length - 1];
        if (open !== undefined) fail(text, n, `unexpected end of document: <${open}> is not closed`);
        return false;
      }
      if (lt > pos) this.addText(pos, lt);
      const next = text.charCodeAt(lt + 1);
      if (next === 0x2f /* / */) {
        this.endTag(lt);
        return false;
      }
      if (next === 0x3f /* ? */) {
        const end = text.indexOf('?>', lt + 2);
        if (end === -1) fail(text, lt, 'unterminated processing instruction');
        this.pos = end + 2;
      } else if (next === 0x21 /* ! */) {
        this.pos = this.bang(lt);
      } else {
        this.startTag(lt);
        return true;
      }
    }
  }

  /** Reads the start tag at `lt` (and, for a leaf, its text and end tag) and makes it the current element. */
  private startTag(lt: number): void {
    const { src: text, n } = this;
    // `limit`: the next '<', which nothing in a start tag may contain.
    const limitAt = text.indexOf('<', lt + 1);
    const limit = limitAt === -1 ? n : limitAt;
    let p = lt + 1;
    if (!isNameStart(text.charCodeAt(p))) fail(text, lt, 'bare "<" or invalid tag name');
    p++;
    while (isNameChar(text.charCodeAt(p))) p++;
    const tag = knownTag(text, lt + 1, p) ?? text.slice(lt + 1, p);
    const buf = this.attrBuf;
    const attrStart = buf.length;
    // Attributes: \s+ name \s* = \s* ("…" | '…'); anything else ends the list.
    for (;;) {
      let q = p;
      while (isJsSpace(text.charCodeAt(q))) q++;
      if (q === p || !isNameStart(text.charCodeAt(q))) break;
      const nameStart = q;
      q++;
      while (isNameChar(text.charCodeAt(q))) q++;
      const nameEnd = q;
      while (isJsSpace(text.charCodeAt(q))) q++;
      if (text.charCodeAt(q) !== 0x3d /* = */) break;
      q++;
      while (isJsSpace(text.charCodeAt(q))) q++;
      const quote = text.charCodeAt(q);
      if (quote !== 0x22 && quote !== 0x27) break;
      const close = text.indexOf(quote === 0x22 ? '"' : "'", q + 1);
      if (close === -1 || close > limit) break; // unterminated, or a '<' inside the value
      const name = text.slice(nameStart, nameEnd);
      for (let i = attrStart; i < buf.length; i += 2) if (buf[i] === name) fail(text, p, `duplicate attribute "${name}"`);
      buf.push(name, this.value(q + 1, close));
      p = close + 1;
    }
    let q = p;
    while (isJsSpace(text.charCodeAt(q))) q++;
    const selfClosing = text.charCodeAt(q) === 0x2f;
    if (selfClosing) q++;
    if (text.charCodeAt(q) !== 0x3e /* > */) fail(text, p, `malformed start tag <${tag}>`);
    if (this.tags.length === 0) {
      if (this.rootSeen) fail(text, lt, 'more than one root element');
      this.rootSeen = true;
    }
    // Readers walk elements recursively (skip, build): unbounded nesting would
    // overflow the stack (a RangeError, not a diagnostic; found by fuzzing).
    if (this.tags.length >= MAX_DEPTH) fail(text, lt, `elements nested more than ${MAX_DEPTH} deep`);
    this.tags.push(tag);
    this.attrStarts.push(attrStart);
    this.pos = q + 1;
    this.lt = limitAt;
    if (selfClosing) {
      this.texts.push('');
      this.done = true;
      return;
    }
    // Leaf fast path: text, then the matching end tag at `limit`.
    const len = tag.length;
    if (limit < n && text.charCodeAt(limit + 1) === 0x2f && text.charCodeAt(limit + 2 + len) === 0x3e && text.startsWith(tag, limit + 2)) {
      this.texts.push(this.textBetween(this.pos, limit));
      this.pos = limit + 3 + len;
      this.done = true;
      return;
    }
    this.texts.push('');
    this.done = false;
  }

  /** `</name \s*>` at `lt`, matched against the current element, which it closes. */
  private endTag(lt: number): void {
    const { src: text, tags } = this;
    let p = lt + 2;
    if (!isNameStart(text.charCodeAt(p))) fail(text, lt, 'malformed closing tag');
    p++;
    while (isNameChar(text.charCodeAt(p))) p++;
    const nameEnd = p;
    while (isJsSpace(text.charCodeAt(p))) p++;
    if (text.charCodeAt(p) !== 0x3e) fail(text, lt, 'malformed closing tag');
    const open = tags[tags.length - 1];
    if (open === undefined || open.length !== nameEnd - lt - 2 || !text.startsWith(open, lt + 2)) {
      const name = text.slice(lt + 2, nameEnd);
      fail(text, lt, open === undefined ? `unexpected closing tag </${name}>` : `expected </${open}>, found </${name}>`);
    }
    this.pos = p + 1;
    this.pop();
  }

  /** `<!--…-->`, `<![CDATA[…]]>`, or a refused declaration; returns the position after it. */
  private bang(lt: number): number {
    const { src: text, texts } = this;
    if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt + 4);
      if (end === -1) fail(text, lt, 'unterminated comment');
      return end + 3;
    }
    if (text.startsWith('<![CDATA[', lt)) {
      const end = text.indexOf(']]>', lt + 9);
      if (end === -1) fail(text, lt, 'unterminated CDATA section');
      if (texts.length === 0) fail(text, lt, 'CDATA outside the root element');
      const value = text.slice(lt + 9, end).trim();
      if (value !== '') texts[texts.length - 1] += value;
      return end + 3;
    }
    return fail(text, lt, 'declarations are not allowed');
  }

  /** Adds the text in [from, to) to the current element; only whitespace may stand outside the root. */
  private addText(from: number, to: number): void {
    const value = this.textBetween(from, to);
    if (value === '') return;
    const { texts } = this;
    if (texts.length === 0) fail(this.src, from, 'text outside the root element');
    const last = texts.length - 1;
    texts[last] = texts[last] === '' ? value : texts[last] + value;
  }

  /** The trimmed, decoded text of text[from, to); '' without allocating when it is blank. */
  private textBetween(from: number, to: number): string {
    const { src: text } = this;
    while (from < to && isXmlSpace(text.charCodeAt(from))) from++;
    while (to > from && isXmlSpace(text.charCodeAt(to - 1))) to--;
    return from === to ? '' : this.value(from, to);
  }

  /** text[from, to) with references decoded (sliced as is when it holds no `&`). */
  private value(from: number, to: number): string {
    let amp = this.amp;
    if (amp !== -1 && amp < from) amp = this.amp = this.src.indexOf('&', from);
    const raw = this.src.slice(from, to);
    return amp === -1 || amp >= to ? raw : decode(this.src, raw, from);
  }
}
