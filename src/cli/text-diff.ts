/**
 * A unified diff of two texts, line by line (`property history` shows what a
 * change did). Common leading and trailing lines are cut first; the rest is
 * an LCS diff when small enough, else shown as all removed then all added
 * (still correct, only less minimal). Pure.
 */

type Op = { readonly kind: ' ' | '-' | '+'; readonly line: string };

const MAX_CELLS = 4_000_000;

function middleOps(a: readonly string[], b: readonly string[]): Op[] {
  if (a.length * b.length > MAX_CELLS) return [...a.map((line): Op => ({ kind: '-', line })), ...b.map((line): Op => ({ kind: '+', line }))];
  // lcs[i][j] = LCS length of a[i..] and b[j..], in one flat array.
  const w = b.length + 1;
  const lcs = new Uint32Array((a.length + 1) * w);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i * w + j] = a[i] === b[j] ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ kind: ' ', line: a[i]! });
      i++;
      j++;
    } else if (i < a.length && (j === b.length || lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!)) {
      // Removals before additions, as diff(1) prints them.
      ops.push({ kind: '-', line: a[i++]! });
    } else {
      ops.push({ kind: '+', line: b[j++]! });
    }
  }
  return ops;
}

function lineOps(a: readonly string[], b: readonly string[]): Op[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let end = 0;
  while (end < a.length - start && end < b.length - start && a[a.length - 1 - end] === b[b.length - 1 - end]) end++;
  return [
    ...a.slice(0, start).map((line): Op => ({ kind: ' ', line })),
    ...middleOps(a.slice(start, a.length - end), b.slice(start, b.length - end)),
    ...a.slice(a.length - end).map((line): Op => ({ kind: ' ', line })),
  ];
}

const splitLines = (text: string): string[] => (text === '' ? [] : text.replace(/\n$/, '').split('\n'));

/** Hunks with `context` lines around each change; empty when the texts are equal. */
export function unifiedDiff(oldText: string, newText: string, options: { oldLabel?: string; newLabel?: string; context?: number } = {}): string[] {
  const context = options.context ?? 3;
  const ops = lineOps(splitLines(oldText), splitLines(newText));
  const changed = ops.map((o, k) => (o.kind !== ' ' ? k : -1)).filter((k) => k >= 0);
  if (changed.length === 0) return [];
  const out = [`--- ${options.oldLabel ?? 'old'}`, `+++ ${options.newLabel ?? 'new'}`];
  // Old/new line numbers before each op.
  const oldNo: number[] = [];
  const newNo: number[] = [];
  let o = 1;
  let n = 1;
  for (const op of ops) {
    oldNo.push(o);
    newNo.push(n);
    if (op.kind !== '+') o++;
    if (op.kind !== '-') n++;
  }
  let k = 0;
  while (k < changed.length) {
    const from = Math.max(0, changed[k]! - context);
    let to = Math.min(ops.length, changed[k]! + context + 1);
    while (k + 1 < changed.length && changed[k + 1]! - context <= to) to = Math.min(ops.length, changed[++k]! + context + 1);
    k++;
    const slice = ops.slice(from, to);
    const oldCount = slice.filter((x) => x.kind !== '+').length;
    const newCount = slice.filter((x) => x.kind !== '-').length;
    const oldStart = oldCount === 0 ? oldNo[from]! - 1 : oldNo[from]!;
    const newStart = newCount === 0 ? newNo[from]! - 1 : newNo[from]!;
    out.push(`@@ -${oldStart},${oldCount} +${newStart},${newCount} @@`);
    for (const x of slice) out.push(`${x.kind}${x.line}`);
  }
  return out;
}

/** JSON values pretty-printed (2 spaces) so a diff shows the member that changed; other text as is. */
export function prettyForDiff(value: string | undefined): string {
  if (value === undefined) return '';
  const t = value.trim();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return `${JSON.stringify(JSON.parse(t), null, 2)}\n`;
    } catch {
      // Not JSON after all: show it as stored.
    }
  }
  return value.endsWith('\n') || value === '' ? value : `${value}\n`;
}
