/**
 * The one reader of daemon configuration files (clc.conf, cc.conf, nc.conf,
 * netd.conf), in the eucalyptus.conf style an operator knows: one
 * `KEY=value`, `KEY="value"` or `KEY='value'` per line, `#` comments, blank
 * lines, an optional leading `export`. Double-quoted values take backslash
 * escapes; a bare value ends at ` #` (a trailing comment).
 *
 * Pure (no fs): `parseConfText` returns every entry with its line and every
 * problem at once, as diagnostics whose path is `FILE:LINE` or the key.
 * What a key means is the daemon's business (settings.ts).
 */
import type { Diagnostic } from '../diagnostics.ts';

export interface ConfEntry {
  readonly key: string;
  readonly value: string;
  /** 1-based line in the file. */
  readonly line: number;
}

export interface ConfFile {
  /** The file's path ('' when there is none). */
  readonly file: string;
  /** Last value of each key (a key set twice keeps the last, with a warning). */
  readonly entries: ReadonlyMap<string, ConfEntry>;
  readonly diagnostics: readonly Diagnostic[];
}

export const CONF_CODES = {
  syntax: 'CONFIG_SYNTAX',
  duplicate: 'CONFIG_DUPLICATE_KEY',
  unreadable: 'CONFIG_UNREADABLE',
} as const;

const ASSIGNMENT = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;

/** The value of the right-hand side, or undefined when its quotes do not balance. */
export function unquote(raw: string): string | undefined {
  const v = raw.trim();
  if (v.startsWith('"')) {
    const m = /^"((?:[^"\\]|\\.)*)"\s*(#.*)?$/.exec(v);
    return m ? m[1]!.replace(/\\(.)/g, '$1') : undefined;
  }
  if (v.startsWith("'")) {
    const m = /^'([^']*)'\s*(#.*)?$/.exec(v);
    return m ? m[1]! : undefined;
  }
  const bare = v.replace(/(^|\s+)#.*$/, '').trim();
  return /["']/.test(bare) ? undefined : bare;
}

export function parseConfText(text: string, file = ''): ConfFile {
  const entries = new Map<string, ConfEntry>();
  const diagnostics: Diagnostic[] = [];
  const where = (line: number) => (file === '' ? `line ${line}` : `${file}:${line}`);
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const m = ASSIGNMENT.exec(trimmed);
    if (!m) {
      diagnostics.push({ severity: 'error', code: CONF_CODES.syntax, path: where(line), message: `expected KEY=value, got ${JSON.stringify(trimmed.slice(0, 80))}` });
      return;
    }
    const key = m[1]!;
    const value = unquote(m[2] ?? '');
    if (value === undefined) {
      diagnostics.push({ severity: 'error', code: CONF_CODES.syntax, path: key, message: `${where(line)}: unbalanced quotes` });
      return;
    }
    const before = entries.get(key);
    if (before) diagnostics.push({ severity: 'warning', code: CONF_CODES.duplicate, path: key, message: `${where(line)}: set more than once (also line ${before.line}); the last value wins` });
    entries.set(key, { key, value, line });
  });
  return { file, entries, diagnostics };
}
