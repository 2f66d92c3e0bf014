/**
 * Daemon configuration files in the eucalyptus.conf style an operator knows:
 * one `KEY=value` or `KEY="value"` per line, `#` comments, optional `export`.
 * Used by `edgenet cc` and `edgenet nc`. A syntax error names file and line;
 * a key the daemon does not know is reported back (the daemon logs a warning,
 * so a shared eucalyptus.conf still works).
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../shared/errors.ts';

export type ConfValues = Readonly<Record<string, string>>;

export function parseConf(text: string, file: string): ConfValues {
  const values: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Z][A-Z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new UserError('CONFIG_SYNTAX', `${file}:${index + 1}: expected KEY=value`);
    let value = m[2]!;
    const quoted = /^"((?:[^"\\]|\\.)*)"\s*(#.*)?$/.exec(value) ?? /^'([^']*)'\s*(#.*)?$/.exec(value);
    if (quoted) value = quoted[1]!.replace(/\\(.)/g, '$1');
    else if (/["']/.test(value)) throw new UserError('CONFIG_SYNTAX', `${file}:${index + 1}: unbalanced quotes`);
    else value = value.replace(/\s+#.*$/, '').trim();
    values[m[1]!] = value;
  });
  return values;
}

export function loadConf(file: string | undefined): ConfValues {
  if (file === undefined) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError('CONFIG_READ', `cannot read config ${file}: ${(err as Error).message}`, { cause: err });
  }
  return parseConf(text, file);
}

/** Typed access to flag > config file > default, with errors naming the key. */
export class ConfReader {
  constructor(
    private readonly conf: ConfValues,
    private readonly flags: Readonly<Record<string, string | undefined>>,
  ) {}

  unknownKeys(known: readonly string[]): string[] {
    return Object.keys(this.conf).filter((k) => !known.includes(k));
  }

  str(key: string, fallback: string): string {
    const v = this.flags[key] ?? this.conf[key];
    return v === undefined || v === '' ? fallback : v;
  }

  optional(key: string): string | undefined {
    const v = this.flags[key] ?? this.conf[key];
    return v === undefined || v === '' ? undefined : v;
  }

  int(key: string, fallback: number, range: { min: number; max: number }): number {
    const raw = this.optional(key);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < range.min || n > range.max) {
      throw new UserError('CONFIG_VALUE', `${key}=${raw}: expected an integer from ${range.min} to ${range.max}`);
    }
    return n;
  }

  /** `HOST:PORT` (port 0 = any free port). */
  listen(key: string, fallback: string): { host: string; port: number } {
    const raw = this.str(key, fallback);
    const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(raw);
    const port = m ? Number(m[2]) : NaN;
    if (!m || port > 65535) throw new UserError('CONFIG_VALUE', `${key}=${raw}: expected HOST:PORT`);
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
  }
}
