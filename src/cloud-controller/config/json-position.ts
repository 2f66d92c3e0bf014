/**
 * JSON text → value, or a JSON_SYNTAX diagnostic that says where the text
 * breaks as line and column.
 *
 * Model: `JSON.parse` does the parsing (fast, exact). Its error messages vary
 * between V8 versions and some carry no position at all ("Unexpected end of
 * JSON input", "Unexpected token 'a', "abc" is not valid JSON"), so on failure
 * a small strict scanner re-reads the text only to find the first offending
 * offset and say what was expected there. The scanner never produces values;
 * JSON.parse stays the single source of what a valid document means.
 * Lines and columns are 1-based; columns count UTF-16 code units.
 */
import type { Diagnostic } from '../../shared/diagnostics.ts';
import { diag } from './codes.ts';

export type ParsedJson = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly diagnostic: Diagnostic };

export interface TextPosition {
  readonly line: number;
  readonly column: number;
}

export function parseJson(text: string): ParsedJson {
  // A UTF-8 byte-order mark is legal at the start of a file but not in JSON.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch (err) {
    const fault = locateSyntaxError(body) ?? { offset: body.length, message: err instanceof Error ? err.message : String(err) };
    const { line, column } = offsetToPosition(body, fault.offset);
    return { ok: false, diagnostic: diag('JSON_SYNTAX', '', `Invalid JSON at line ${line}, column ${column}: ${fault.message}`) };
  }
}

export function offsetToPosition(text: string, offset: number): TextPosition {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line += 1;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

interface SyntaxFault {
  readonly offset: number;
  readonly message: string;
}

class Fault extends Error {
  constructor(readonly offset: number, readonly detail: string) {
    super(detail);
  }
}

/** Nesting deeper than this is reported rather than risking the scanner's own stack. */
const MAX_DEPTH = 2000;

/** Returns where and why `text` is not JSON, or undefined if the scanner finds nothing wrong. */
export function locateSyntaxError(text: string): SyntaxFault | undefined {
  try {
    const scanner = new Scanner(text);
    scanner.document();
    return undefined;
  } catch (err) {
    if (err instanceof Fault) return { offset: err.offset, message: err.detail };
    throw err;
  }
}

class Scanner {
  private i = 0;
  constructor(private readonly s: string) {}

  document(): void {
    this.ws();
    if (this.i >= this.s.length) throw new Fault(this.i, 'the document is empty');
    this.value(0);
    this.ws();
    if (this.i < this.s.length) throw new Fault(this.i, `unexpected ${this.describe()} after the end of the document`);
  }

  private value(depth: number): void {
    if (depth > MAX_DEPTH) throw new Fault(this.i, `nesting deeper than ${MAX_DEPTH} levels`);
    const c = this.s[this.i];
    if (c === undefined) throw new Fault(this.i, 'unexpected end of document: expected a value');
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    for (const word of ['true', 'false', 'null']) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return;
      }
    }
    throw new Fault(this.i, `unexpected ${this.describe()}: expected a value`);
  }

  private object(depth: number): void {
    this.i++; // '{'
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') throw new Fault(this.i, `unexpected ${this.describe()}: expected a double-quoted property name`);
      this.string();
      this.ws();
      if (this.s[this.i] !== ':') throw new Fault(this.i, `unexpected ${this.describe()}: expected ':' after a property name`);
      this.i++;
      this.ws();
      this.value(depth + 1);
      this.ws();
      const c = this.s[this.i];
      if (c === '}') {
        this.i++;
        return;
      }
      if (c !== ',') throw new Fault(this.i, `unexpected ${this.describe()}: expected ',' or '}' after a property value`);
      this.i++;
    }
  }

  private array(depth: number): void {
    this.i++; // '['
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return;
    }
    for (;;) {
      this.ws();
      this.value(depth + 1);
      this.ws();
      const c = this.s[this.i];
      if (c === ']') {
        this.i++;
        return;
      }
      if (c !== ',') throw new Fault(this.i, `unexpected ${this.describe()}: expected ',' or ']' after a list element`);
      this.i++;
    }
  }

  private string(): void {
    const start = this.i;
    this.i++; // opening quote
    for (;;) {
      const code = this.s.charCodeAt(this.i);
      if (Number.isNaN(code)) throw new Fault(start, 'unterminated string');
      if (code === 0x22) {
        this.i++;
        return;
      }
      if (code < 0x20) throw new Fault(this.i, 'control character (such as a line break) inside a string');
      if (code === 0x5c) {
        const e = this.s[this.i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(this.s.slice(this.i + 2, this.i + 6))) throw new Fault(this.i, 'bad \\u escape: expected four hexadecimal digits');
          this.i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) throw new Fault(this.i, 'bad escape sequence in a string');
        this.i += 2;
        continue;
      }
      this.i++;
    }
  }

  private number(): void {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (!m || m[0] === '-') throw new Fault(this.i, 'malformed number');
    this.i += m[0].length;
  }

  private ws(): void {
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.i++;
    }
  }

  private describe(): string {
    const c = this.s[this.i];
    if (c === undefined) return 'end of document';
    return `character ${JSON.stringify(c)}`;
  }
}
