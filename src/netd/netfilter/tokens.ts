/**
 * Splitting and quoting of save/restore lines. iptables-save prints a string
 * argument bare when it has no special characters and in double quotes
 * otherwise, escaping `"`, `'` and `\` with a backslash; iptables-restore reads
 * the same form back. We always write double quotes (accepted either way).
 */

/** Splits a save line into arguments, honouring double/single quotes and backslash escapes. */
export function splitArgs(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inToken = false;
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote !== undefined) {
      if (c === '\\' && i + 1 < line.length) { cur += line[++i]; continue; }
      if (c === quote) { quote = undefined; continue; }
      cur += c;
      continue;
    }
    if (c === '"' || c === "'") { quote = c; inToken = true; continue; }
    if (c === ' ' || c === '\t') {
      if (inToken) { out.push(cur); cur = ''; inToken = false; }
      continue;
    }
    if (c === '\\' && i + 1 < line.length) { cur += line[++i]; inToken = true; continue; }
    cur += c;
    inToken = true;
  }
  if (inToken) out.push(cur);
  return out;
}

/** Double-quotes an argument for iptables-restore. */
export function quoteArg(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Characters a rule comment may carry: stays readable in iptables-save and needs no escaping. */
const COMMENT_UNSAFE = /[^A-Za-z0-9 ._:/,=()>+#@-]/g;

/** Makes a comment safe for `-m comment` (≤ 255 bytes, no quotes or backslashes). */
export function safeComment(text: string): string {
  return text.replace(COMMENT_UNSAFE, '_').slice(0, 255);
}
