/**
 * Effective settings of a daemon, each with where it came from. One rule for
 * every daemon (clc, cc, nc, netd):
 *
 *   flag  >  environment  >  config file  >  default
 *
 * The environment name of a key is `EDGENET_<DAEMON>_<KEY>`, a leading
 * `EDGENET_` of the key dropped (cc's LISTEN is EDGENET_CC_LISTEN, netd's
 * VNET_BRIDGE is EDGENET_NETD_VNET_BRIDGE, netd's EDGENET_PREFIX is
 * EDGENET_NETD_PREFIX). A key may also accept older or cloud-wide names
 * after that one (`aliases`: EDGENET_LOG_LEVEL for every daemon's LOG_LEVEL).
 * EDGENET_STATE_DIR, EDGENET_RUN_DIR and EDGENET_CONF_DIR move the defaults.
 *
 * A value that does not parse is not thrown: it becomes an error diagnostic
 * (path = the key, message naming the source) and the default is used, so
 * `--check-config` can list every problem at once; the daemon refuses to
 * start (exit 2) while any error is left.
 */
import type { Diagnostic } from '../diagnostics.ts';
import type { ConfFile } from './conf-file.ts';

export type DaemonName = 'clc' | 'cc' | 'nc' | 'netd';
export type SettingSource = 'flag' | 'env' | 'file' | 'default';

export interface EffectiveSetting {
  readonly key: string;
  /** The daemon-specific environment name of the key. */
  readonly env: string;
  /** The raw text of the value in effect ('' = unset/empty). */
  readonly value: string;
  readonly source: SettingSource;
  /** `--listen`, `EDGENET_CC_LISTEN`, `/etc/edgenet/cc.conf:4` or `default`. */
  readonly origin: string;
}

export const SETTINGS_CODES = {
  badValue: 'CONFIG_BAD_VALUE',
  unknownKey: 'CONFIG_UNKNOWN_KEY',
} as const;

export function envName(daemon: DaemonName, key: string): string {
  return `EDGENET_${daemon.toUpperCase()}_${key.replace(/^EDGENET_/, '')}`;
}

export interface SettingsInput {
  readonly daemon: DaemonName;
  readonly conf: ConfFile;
  /** Flag values by KEY (undefined = flag not given). */
  readonly flags?: Readonly<Record<string, string | undefined>>;
  /** Flag spelling by KEY, for the origin (`--listen`). */
  readonly flagNames?: Readonly<Record<string, string>>;
  readonly env: NodeJS.ProcessEnv;
  /** Further environment names a key accepts, after EDGENET_<DAEMON>_<KEY>. */
  readonly aliases?: Readonly<Record<string, readonly string[]>>;
}

/** A parse result: the value, or why the text is not one. */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

export const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
export const bad = (problem: string): Parsed<never> => ({ ok: false, problem });

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** `HOST:PORT`, `[v6]:PORT`, `:PORT` (host `defaultHost`) or `PORT`; port 0 = any free port. */
export function parseHostPort(text: string, defaultHost = '127.0.0.1'): Parsed<HostPort> {
  const m = /^(?:\[([^\]]+)\]|([^:\s]*)):(\d{1,5})$/.exec(text) ?? /^()()(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) return bad('expected HOST:PORT, [IPv6]:PORT, :PORT or PORT (port 0 = any free port)');
  return ok({ host: m[1] || m[2] || defaultHost, port });
}

export class Settings {
  private readonly seen = new Map<string, EffectiveSetting>();
  private readonly problems: Diagnostic[] = [];

  constructor(private readonly input: SettingsInput) {
    this.problems.push(...input.conf.diagnostics);
  }

  get daemon(): DaemonName {
    return this.input.daemon;
  }

  /** Every setting read so far, in the order the daemon read them. */
  get effective(): readonly EffectiveSetting[] {
    return [...this.seen.values()];
  }

  get diagnostics(): readonly Diagnostic[] {
    return this.problems;
  }

  /** Adds a problem found outside the reader (a missing certificate, a cross-key check). */
  report(d: Diagnostic): void {
    this.problems.push(d);
  }

  /** The winning raw text of `key` and its origin, or the default. */
  private lookup(key: string, fallback: string): EffectiveSetting {
    const env = envName(this.input.daemon, key);
    const flag = this.input.flags?.[key];
    if (flag !== undefined) return { key, env, value: flag, source: 'flag', origin: this.input.flagNames?.[key] ?? `--${key.toLowerCase().replace(/_/g, '-')}` };
    for (const name of [env, ...(this.input.aliases?.[key] ?? [])]) {
      const v = this.input.env[name];
      if (v !== undefined) return { key, env, value: v, source: 'env', origin: name };
    }
    const entry = this.input.conf.entries.get(key);
    if (entry) return { key, env, value: entry.value, source: 'file', origin: `${this.input.conf.file}:${entry.line}` };
    return { key, env, value: fallback, source: 'default', origin: 'default' };
  }

  /**
   * The core accessor: the value of `key` parsed by `parse`. An empty value
   * means "the default". A value that does not parse is reported and the
   * default is used.
   */
  value<T>(key: string, fallback: string, parse: (raw: string) => Parsed<T>): T {
    let found = this.lookup(key, fallback);
    if (found.value === '' && found.source !== 'default') found = { ...found, value: fallback };
    this.seen.set(key, found);
    const parsed = parse(found.value);
    if (parsed.ok) return parsed.value;
    this.problems.push({ severity: 'error', code: SETTINGS_CODES.badValue, path: key, message: `${JSON.stringify(found.value)} (from ${found.origin}): ${parsed.problem}` });
    const def = parse(fallback);
    if (def.ok) return def.value;
    throw new Error(`default of ${key} does not parse: ${def.problem}`);
  }

  str(key: string, fallback: string): string {
    return this.value(key, fallback, ok);
  }

  /** An optional text: '' (or unset) is undefined. */
  optional(key: string): string | undefined {
    const v = this.value(key, '', ok);
    return v === '' ? undefined : v;
  }

  int(key: string, fallback: number, range: { min: number; max: number }): number {
    return this.value(key, String(fallback), (raw) => {
      const n = Number(raw);
      return /^-?\d+$/.test(raw) && n >= range.min && n <= range.max ? ok(n) : bad(`expected an integer from ${range.min} to ${range.max}`);
    });
  }

  oneOf<T extends string>(key: string, fallback: T, values: readonly T[]): T {
    return this.value(key, fallback, (raw) => ((values as readonly string[]).includes(raw) ? ok(raw as T) : bad(`expected one of ${values.join(', ')}`)));
  }

  absolutePath(key: string, fallback: string): string {
    return this.value(key, fallback, (raw) => (raw.startsWith('/') || raw === fallback ? ok(raw) : bad('expected an absolute path')));
  }

  listen(key: string, fallback: string, defaultHost = '127.0.0.1'): HostPort {
    return this.value(key, fallback, (raw) => parseHostPort(raw, defaultHost));
  }

  /** A listener that `off` disables. */
  listenOrOff(key: string, fallback: string): HostPort | undefined {
    return this.value<HostPort | undefined>(key, fallback, (raw) => (raw === 'off' ? ok(undefined) : parseHostPort(raw)));
  }

  /**
   * Config-file keys and EDGENET_<DAEMON>_* variables this daemon does not
   * know: warnings (a shared eucalyptus.conf carries many; a typo shows up
   * here and in --check-config), or errors for a file that is only ever
   * edgenet's (`fileSeverity: 'error'`, clc.conf).
   */
  warnUnknown(known: readonly string[], options: { fileSeverity?: 'error' | 'warning' } = {}): void {
    const envKnown = new Set(known.map((k) => envName(this.input.daemon, k)));
    for (const [key, entry] of this.input.conf.entries) {
      if (!known.includes(key)) this.problems.push({ severity: options.fileSeverity ?? 'warning', code: SETTINGS_CODES.unknownKey, path: key, message: `${this.input.conf.file}:${entry.line}: not a ${this.input.daemon} setting (ignored)` });
    }
    const prefix = `EDGENET_${this.input.daemon.toUpperCase()}_`;
    for (const name of Object.keys(this.input.env)) {
      if (name.startsWith(prefix) && !envKnown.has(name)) this.problems.push({ severity: 'warning', code: SETTINGS_CODES.unknownKey, path: name, message: `environment variable not used by ${this.input.daemon} (ignored)` });
    }
  }
}
