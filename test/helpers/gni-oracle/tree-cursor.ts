/**
 * `ElementCursor` (src/shared/gni/cursor.ts) over an `XmlElement` tree, for
 * the fast-xml-parser oracle (fast-xml-parser-engine.ts): production reads
 * the text with `ScanCursor` (scan.ts) and never builds a tree. Invariant,
 * as for every cursor: each element entered is consumed exactly once (text,
 * skip, hasContent, or next() returning false).
 */
import type { ElementCursor, XmlElement } from '../../../src/shared/gni/cursor.ts';

/** Looks a name up in a `[name, value, …]` attribute list. */
function attrOf(attrs: readonly string[] | undefined, name: string): string | undefined {
  if (attrs !== undefined) for (let i = 0; i < attrs.length; i += 2) if (attrs[i] === name) return attrs[i + 1];
  return undefined;
}

interface TreeFrame {
  readonly el: XmlElement;
  index: number;
}

export class TreeCursor implements ElementCursor {
  private readonly stack: TreeFrame[];

  constructor(root: XmlElement) {
    this.stack = [{ el: root, index: 0 }];
  }

  private get top(): TreeFrame {
    const top = this.stack[this.stack.length - 1];
    if (top === undefined) throw new Error('TreeCursor: the root element is already consumed');
    return top;
  }

  get tag(): string {
    return this.top.el.tag;
  }

  attr(name: string): string | undefined {
    return attrOf(this.top.el.attrs, name);
  }

  next(): boolean {
    const top = this.top;
    const child = top.el.children?.[top.index];
    if (child === undefined) {
      this.stack.pop();
      return false;
    }
    top.index++;
    this.stack.push({ el: child, index: 0 });
    return true;
  }

  text(): string {
    const { el } = this.top;
    this.stack.pop();
    return el.text;
  }

  leafText(): string | undefined {
    const { el } = this.top;
    this.stack.pop();
    return el.children === undefined ? el.text : undefined;
  }

  skip(): void {
    if (this.stack.pop() === undefined) throw new Error('TreeCursor: the root element is already consumed');
  }

  hasContent(): boolean {
    const { el } = this.top;
    this.stack.pop();
    return el.children !== undefined || el.text !== '';
  }
}
