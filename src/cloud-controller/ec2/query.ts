/**
 * EC2 Query parameters: decoding a form body or a query string into ordered
 * (name, value) pairs, and matching names against what an action declares.
 *
 * Decoding is `application/x-www-form-urlencoded` as the clients write it:
 * `&`-separated `name=value`, `+` is a space, `%XX` UTF-8 escapes. Bytes that
 * are not valid UTF-8 after unescaping, or a broken `%` escape, are refused
 * (MalformedQueryString): a value is never silently altered. The same pairs
 * feed the signature's canonical query (GET) and the action, so what is
 * signed is what is acted on.
 *
 * Declared names (contract.ts `Ec2Action.params`) are exact names or
 * patterns in which a dot-separated segment `N` stands for a 1-based index
 * without leading zeros (`IpPermissions.N.IpRanges.N.CidrIp`). Names are
 * case-sensitive, as EC2's.
 */

export type ParamPair = readonly [name: string, value: string];

export type DecodeResult = { readonly ok: true; readonly pairs: readonly ParamPair[] } | { readonly ok: false; readonly message: string };

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function unescape(part: string): string | undefined {
  const text = part.replace(/\+/g, ' ');
  if (!text.includes('%')) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; ) {
    const c = text.charCodeAt(i);
    if (c === 0x25) {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 3;
    } else {
      const cp = text.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      bytes.push(...Buffer.from(ch, 'utf8'));
      i += ch.length;
    }
  }
  try {
    return UTF8.decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}

/**
 * A form body or query string (without `?`) as pairs, in order. Empty
 * segments (`a=1&&b=2`) are skipped; a segment without `=` is a name with an
 * empty value.
 */
export function decodeForm(text: string): DecodeResult {
  const pairs: ParamPair[] = [];
  for (const segment of text.split('&')) {
    if (segment === '') continue;
    const eq = segment.indexOf('=');
    const rawName = eq < 0 ? segment : segment.slice(0, eq);
    const rawValue = eq < 0 ? '' : segment.slice(eq + 1);
    const name = unescape(rawName);
    const value = unescape(rawValue);
    if (name === undefined || value === undefined) {
      return { ok: false, message: `parameter ${JSON.stringify(segment.slice(0, 60))} has a broken %-escape or is not UTF-8` };
    }
    pairs.push([name, value]);
  }
  return { ok: true, pairs };
}

/** One compiled set of declared names. */
export class ParamMatcher {
  private readonly exact: ReadonlySet<string>;
  private readonly patterns: readonly RegExp[];

  constructor(declared: readonly string[]) {
    const exact = new Set<string>();
    const patterns: RegExp[] = [];
    for (const name of declared) {
      const segments = name.split('.');
      if (!segments.includes('N')) {
        exact.add(name);
        continue;
      }
      const body = segments.map((s) => (s === 'N' ? '[1-9][0-9]{0,5}' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('\\.');
      patterns.push(new RegExp(`^${body}$`));
    }
    this.exact = exact;
    this.patterns = patterns;
  }

  matches(name: string): boolean {
    return this.exact.has(name) || this.patterns.some((p) => p.test(name));
  }
}

const compiled = new WeakMap<readonly string[], ParamMatcher>();

/** The matcher of a declared list, compiled once per list. */
export function matcherFor(declared: readonly string[]): ParamMatcher {
  let m = compiled.get(declared);
  if (!m) {
    m = new ParamMatcher(declared);
    compiled.set(declared, m);
  }
  return m;
}
