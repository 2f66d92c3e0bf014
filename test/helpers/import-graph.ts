/**
 * Reads the import graph of src/ for the architecture test
 * (test/helpers/architecture.ts checks it; this module only collects facts).
 *
 * A small lexer (comments, strings, template literals with nested `${}`,
 * regular expressions) turns each file into tokens, so an `import` inside a
 * string or a comment is not an edge; loading the TypeScript compiler to
 * parse 200 files would cost the test most of its time budget. An edge is any
 * module reference: `import`, `import type`, `export … from`, a dynamic
 * `import('…')` and `typeof import('…')`. Each edge says whether it is
 * type-only: under `verbatimModuleSyntax` only `import type` / `export type`
 * vanish at run time; `import { type X }` still loads the module, so it counts
 * as a runtime edge.
 *
 * The reader also records the ambient effects that make code impure without
 * any import (reading the environment, the clock, randomness), so the checker
 * can keep render/ and plan/ pure. Paths are relative to src/ with `/`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import * as path from 'node:path';

export type ImportKind = 'import' | 'export from' | 'dynamic import' | 'type import';

export interface ImportEdge {
  /** As written in the source. */
  readonly specifier: string;
  /**
   * For a relative specifier, the file it names, relative to src/ ('netd/plan/plan.ts',
   * '../schemas/x.json'); for a package or a Node builtin, the module id ('node:fs',
   * 'execa'); undefined for a dynamic import whose argument is not a string literal.
   */
  readonly target: string | undefined;
  readonly relative: boolean;
  readonly kind: ImportKind;
  /** Erased at compile time: loads nothing at run time. */
  readonly typeOnly: boolean;
  readonly line: number;
}

/** Effects without an import: the environment, the clock, randomness. */
export type AmbientName = 'process.env' | 'Date.now' | 'new Date()' | 'Math.random' | 'performance.now' | 'process.hrtime';

export interface AmbientUse {
  readonly name: AmbientName;
  readonly line: number;
}

export interface SourceFacts {
  /** Relative to src/, e.g. 'netd/render/render.ts'. */
  readonly path: string;
  readonly imports: readonly ImportEdge[];
  readonly ambient: readonly AmbientUse[];
}

export type ImportGraph = readonly SourceFacts[];

const AMBIENT_MEMBERS: ReadonlySet<string> = new Set<AmbientName>(['process.env', 'Date.now', 'Math.random', 'performance.now', 'process.hrtime']);

/** The graph of every .ts file under `srcDir`, sorted by path. */
export function readImportGraph(srcDir: string): ImportGraph {
  return listTs(srcDir)
    .map((rel) => sourceFacts(rel, readFileSync(path.join(srcDir, rel), 'utf8')))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The facts of one file (`rel` relative to src/); pure, so tests can feed it text. */
export function sourceFacts(rel: string, text: string): SourceFacts {
  const toks = tokenize(text);
  const imports: ImportEdge[] = [];
  const ambient: AmbientUse[] = [];
  const is = (t: Token | undefined, kind: Token['kind'], value?: string) => t !== undefined && t.kind === kind && (value === undefined || t.text === value);
  const edge = (specifier: string | undefined, kind: ImportKind, typeOnly: boolean, line: number) => {
    const relative = specifier !== undefined && specifier.startsWith('.');
    imports.push({ specifier: specifier ?? '<computed>', target: specifier === undefined ? undefined : resolveSpecifier(rel, specifier), relative, kind, typeOnly, line });
  };

  for (let k = 0; k < toks.length; k++) {
    const t = toks[k]!;
    if (t.kind !== 'id' || is(toks[k - 1], 'punct', '.')) continue;
    const next = toks[k + 1];
    if (t.text === 'import') {
      if (is(next, 'punct', '(')) {
        // import('x'): a dynamic import, or a type: `typeof import('x')`, `import('x').Name`
        // (a promise's member is called, `import('x').then(…)`; a type's member is not).
        const arg = toks[k + 2];
        const literal = is(arg, 'str') && (is(toks[k + 3], 'punct', ')') || is(toks[k + 3], 'punct', ','));
        const member = literal && is(toks[k + 3], 'punct', ')') && is(toks[k + 4], 'punct', '.') && is(toks[k + 5], 'id') && !is(toks[k + 6], 'punct', '(');
        const typeOnly = is(toks[k - 1], 'id', 'typeof') || member;
        edge(literal ? arg!.text : undefined, typeOnly ? 'type import' : 'dynamic import', typeOnly, t.line);
      } else if (is(next, 'str')) {
        edge(next!.text, 'import', false, t.line);
      } else if (is(next, 'id') || is(next, 'punct', '{') || is(next, 'punct', '*')) {
        let m = k + 1;
        let typeOnly = false;
        // `import type X from` is type-only; `import type from 'x'` imports a default named `type`.
        if (is(toks[m], 'id', 'type') && !is(toks[m + 1], 'id', 'from') && !is(toks[m + 1], 'punct', ',') && !is(toks[m + 1], 'punct', '=')) {
          typeOnly = true;
          m++;
        }
        const from = clauseEnd(toks, m);
        if (from !== undefined) edge(toks[from + 1]!.text, 'import', typeOnly, t.line);
      }
    } else if (t.text === 'export') {
      let m = k + 1;
      let typeOnly = false;
      if (is(toks[m], 'id', 'type') && (is(toks[m + 1], 'punct', '{') || is(toks[m + 1], 'punct', '*'))) {
        typeOnly = true;
        m++;
      }
      if (!is(toks[m], 'punct', '{') && !is(toks[m], 'punct', '*')) continue;
      const from = clauseEnd(toks, m);
      if (from !== undefined) edge(toks[from + 1]!.text, 'export from', typeOnly, t.line);
    } else if (is(next, 'punct', '.') && is(toks[k + 2], 'id')) {
      const name = `${t.text}.${toks[k + 2]!.text}`;
      if (AMBIENT_MEMBERS.has(name)) ambient.push({ name: name as AmbientName, line: t.line });
    } else if (t.text === 'new' && is(next, 'id', 'Date') && (!is(toks[k + 2], 'punct', '(') || is(toks[k + 3], 'punct', ')'))) {
      ambient.push({ name: 'new Date()', line: t.line });
    }
  }
  return { path: rel, imports, ambient };
}

/** Index of `from` followed by a string that ends an import/export clause starting at `m`, if any. */
function clauseEnd(toks: readonly Token[], m: number): number | undefined {
  let depth = 0;
  for (let i = m; i < toks.length && i < m + 2000; i++) {
    const x = toks[i]!;
    if (x.kind === 'punct') {
      if (x.text === '{') depth++;
      else if (x.text === '}' && --depth < 0) return undefined;
      else if (depth === 0 && (x.text === ';' || x.text === '=' || x.text === '(')) return undefined;
    } else if (depth === 0 && x.kind === 'id' && x.text === 'from' && toks[i + 1]?.kind === 'str') {
      return i;
    } else if (depth === 0 && x.kind === 'str') {
      return undefined;
    }
  }
  return undefined;
}

interface Token {
  readonly kind: 'id' | 'str' | 'num' | 'punct' | 'tpl' | 'regex';
  /** Identifier, punctuation character, or a string literal's raw content. */
  readonly text: string;
  readonly line: number;
}

/** After these a `/` starts a regular expression, not a division. */
const REGEX_AFTER_WORDS: ReadonlySet<string> = new Set(['return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'new', 'delete', 'void', 'throw', 'instanceof', 'yield', 'await']);

/**
 * JavaScript/TypeScript tokens, enough to find module references: comments
 * are dropped, strings, templates (with their `${}` expressions tokenized)
 * and regular expressions are single tokens.
 */
function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  let depth = 0;
  const templateDepths: number[] = [];
  const n = src.length;
  const countLines = (from: number, to: number) => {
    for (let j = src.indexOf('\n', from); j >= 0 && j < to; j = src.indexOf('\n', j + 1)) line++;
  };
  const regexAllowed = () => {
    const p = out[out.length - 1];
    if (!p) return true;
    if (p.kind === 'punct') return p.text !== ')' && p.text !== ']';
    if (p.kind === 'id') return REGEX_AFTER_WORDS.has(p.text);
    return false;
  };
  // Scans template text from i (just after ` or }) to the closing ` or the next ${.
  const template = () => {
    const startLine = line;
    const start = i;
    while (i < n) {
      const c = src[i]!;
      if (c === '\\') i += 2;
      else if (c === '`') {
        countLines(start, i);
        i++;
        out.push({ kind: 'tpl', text: '', line: startLine });
        return;
      } else if (c === '$' && src[i + 1] === '{') {
        countLines(start, i);
        i += 2;
        out.push({ kind: 'tpl', text: '', line: startLine });
        templateDepths.push(depth);
        depth++;
        return;
      } else i++;
    }
    countLines(start, n);
  };

  while (i < n) {
    const c = src[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      SPACE.lastIndex = i;
      SPACE.test(src);
      i = SPACE.lastIndex;
    } else if (c === '/' && src[i + 1] === '/') {
      const end = src.indexOf('\n', i);
      i = end < 0 ? n : end;
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      countLines(i, stop);
      i = stop;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && src[j] !== c && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
      out.push({ kind: 'str', text: src.slice(i + 1, j), line });
      i = j + 1;
    } else if (c === '`') {
      i++;
      template();
    } else if (c === '}' && templateDepths.length && templateDepths[templateDepths.length - 1] === depth - 1) {
      templateDepths.pop();
      depth--;
      i++;
      template();
    } else if (isIdentifierStart(src.charCodeAt(i))) {
      WORD.lastIndex = i;
      WORD.test(src);
      out.push({ kind: 'id', text: src.slice(i, WORD.lastIndex), line });
      i = WORD.lastIndex;
    } else if (c >= '0' && c <= '9') {
      let j = i + 1;
      while (j < n && (isIdentifierPart(src.charCodeAt(j)) || src[j] === '.')) j++;
      out.push({ kind: 'num', text: src.slice(i, j), line });
      i = j;
    } else if (c === '/' && regexAllowed()) {
      let j = i + 1;
      let inClass = false;
      while (j < n && src[j] !== '\n' && (inClass || src[j] !== '/')) {
        if (src[j] === '\\') j++;
        else if (src[j] === '[') inClass = true;
        else if (src[j] === ']') inClass = false;
        j++;
      }
      if (j >= n || src[j] === '\n') {
        // Not a regular expression after all: a lone slash.
        out.push({ kind: 'punct', text: '/', line });
        i++;
      } else {
        j++;
        while (j < n && isIdentifierPart(src.charCodeAt(j))) j++;
        out.push({ kind: 'regex', text: '', line });
        i = j;
      }
    } else if (c === '.' && src[i + 1] === '.' && src[i + 2] === '.') {
      // A spread is not a member access: `...process.env` reads the environment.
      out.push({ kind: 'punct', text: '...', line });
      i += 3;
    } else {
      if (c === '{') depth++;
      else if (c === '}') depth--;
      out.push({ kind: 'punct', text: c, line });
      i++;
    }
  }
  return out;
}

function resolveSpecifier(from: string, specifier: string): string {
  if (specifier.startsWith('.')) return path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  // `fs` and `node:fs` are the same module; the rules speak of `node:fs`.
  if (!specifier.startsWith('node:') && isBuiltin(specifier)) return `node:${specifier}`;
  return specifier;
}

function listTs(root: string, dir = ''): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory()) return listTs(root, rel);
    return e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [rel] : [];
  });
}

// Sticky scanners: native regular expressions skip runs much faster than a character loop.
const SPACE = /[ \t\r]+/y;
const WORD = /[\w$\u0080-\uffff]+/y;

function isIdentifierStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 36 || c >= 128;
}

function isIdentifierPart(c: number): boolean {
  return isIdentifierStart(c) || (c >= 48 && c <= 57);
}
