/**
 * EC2 response bodies (issue 15): an `XmlObject` (contract.ts) written as the
 * EC2 Query protocol's XML, and the error document.
 *
 * Shape: an object's keys are elements in insertion order; an array is the
 * `<item>` children of its key's element (EC2's list shape; an array inside an
 * array puts its items straight into the outer `<item>`); strings, numbers and
 * booleans are text; undefined is left out.
 *
 * Invariant: the output is well-formed XML 1.0 for ANY string a value holds.
 * `&`, `<`, `>` are escaped; a carriage return is written `&#13;` (a parser
 * would otherwise turn it into a newline); characters XML 1.0 cannot carry
 * even as a reference (C0 controls other than tab, newline and CR, lone
 * surrogates, U+FFFE, U+FFFF) become U+FFFD. Element names come from code,
 * not from requests; one that is not an XML name is a programming error and
 * throws.
 */
import { EC2_XML_NAMESPACE, type XmlObject, type XmlValue } from './contract.ts';

const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
// Everything XML 1.0's Char production excludes (with the u flag a lone surrogate is one code point).
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

// Plain text needs no work: no markup character and nothing outside tab, newline and U+0020-U+D7FF, U+E000-U+FFFD
// (astral characters, as surrogate pairs, take the full path).
const PLAIN = /^[\t\n\u0020-\u0025\u0027-\u003B\u003D\u003F-\uD7FF\uE000-\uFFFD]*$/;

/** Text content: escaped, every character one XML 1.0 allows. */
export function xmlText(value: string): string {
  if (PLAIN.test(value)) return value;
  return value
    .replace(NOT_XML_CHAR, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r/g, '&#13;');
}

function scalar(value: string | number | boolean): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`XML value ${value} is not a finite number`);
    return String(value);
  }
  return typeof value === 'boolean' ? (value ? 'true' : 'false') : xmlText(value);
}

/** Open and close tags by element name, made once (names come from code: a few dozen); a name is checked when first seen. */
const tags = new Map<string, { readonly open: string; readonly close: string }>([['item', { open: '<item>', close: '</item>' }]]);

function tagsOf(name: string): { readonly open: string; readonly close: string } {
  let t = tags.get(name);
  if (t === undefined) {
    if (!NAME.test(name)) throw new Error(`${JSON.stringify(name)} is not an XML element name`);
    t = { open: `<${name}>`, close: `</${name}>` };
    if (tags.size < 10_000) tags.set(name, t);
  }
  return t;
}

/*
 * The text is built by appending to one accumulator string, left to right
 * (`out + piece`), never by joining pieces built apart: V8 keeps such a
 * string as a chain it flattens cheaply once, when the answer is encoded,
 * and no intermediate string per element is made. (An array of pieces and
 * join() is slower for the tens of thousands of pieces of a large describe.)
 */
function element(out: string, name: string, value: XmlValue): string {
  if (value === undefined) return out;
  const t = tagsOf(name);
  return content(out + t.open, value) + t.close;
}

function content(out: string, value: Exclude<XmlValue, undefined>): string {
  if (typeof value === 'string') return out + xmlText(value);
  if (typeof value !== 'object') return out + scalar(value);
  if (Array.isArray(value)) {
    for (const item of value as readonly XmlValue[]) {
      if (item === undefined) continue;
      out = Array.isArray(item) ? content(out, item) : element(out, 'item', item);
    }
  } else {
    const object = value as XmlObject;
    for (const k in object) out = element(out, k, object[k]);
  }
  return out;
}

/** `<{Action}Response xmlns="…2016-11-15/"><requestId>…</requestId>…fields…</{Action}Response>`. */
export function successXml(action: string, requestId: string, result: XmlObject): string {
  const root = `${action}Response`;
  if (!NAME.test(root)) throw new Error(`${JSON.stringify(action)} is not an action name`);
  let out = element(`${DECLARATION}<${root} xmlns="${EC2_XML_NAMESPACE}">`, 'requestId', requestId);
  for (const k in result) {
    if (k !== 'requestId') out = element(out, k, result[k]);
  }
  return `${out}</${root}>`;
}

/** `<Response><Errors><Error><Code>…</Code><Message>…</Message></Error></Errors><RequestID>…</RequestID></Response>`. */
export function errorXml(code: string, message: string, requestId: string): string {
  return `${DECLARATION}<Response><Errors><Error><Code>${xmlText(code)}</Code><Message>${xmlText(message)}</Message></Error></Errors><RequestID>${xmlText(requestId)}</RequestID></Response>`;
}
