/**
 * The pull interface `parse.ts` reads a GNI document through, and its
 * implementation over an element tree.
 *
 * Model (StAX-like): a cursor stands on one element (the current one). Its
 * tag and attributes are readable at once. `next()` enters its next child
 * (which becomes current) and returns true; once there are no more children
 * it leaves the element (its parent becomes current) and returns false.
 * `text()`, `leafText()`, `skip()` and `hasContent()` consume the current element (and any
 * children it has left) and make its parent current. Invariant for readers:
 * every element entered is consumed exactly once, by one of those calls or by
 * `next()` returning false.
 *
 * Two implementations: `ScanCursor` (scan.ts) reads the XML text directly, so
 * no tree is built for the default engine (a tree of a 10,000-instance
 * document is ~100,000 objects that the young-generation GC would copy on
 * every parse); `TreeCursor` (here) walks an `XmlElement` tree, which is what
 * the fast-xml-parser engine's output is converted to.
 */

/** One element as a tree (fast-xml-parser output converted; `scanXml`). */
export interface XmlElement {
  readonly tag: string;
  /** Attributes as `[name, value, name, value, …]` in document order; undefined when none. */
  readonly attrs: readonly string[] | undefined;
  /** Child elements in document order; undefined when none. */
  readonly children: readonly XmlElement[] | undefined;
  /** The element's own trimmed text segments (and CDATA) concatenated; '' when none. */
  readonly text: string;
}

export interface ElementCursor {
  /** Tag of the current element. */
  readonly tag: string;
  /** An attribute of the current element. */
  attr(name: string): string | undefined;
  /** Enters the next child (true), or leaves the current element when it has no more (false). */
  next(): boolean;
  /** Consumes the current element and returns its text (its children are skipped). */
  text(): string;
  /** Consumes the current element; its text when it has no child elements, else undefined (where nesting is refused). */
  leafText(): string | undefined;
  /** Consumes the current element. */
  skip(): void;
  /** Consumes the current element; true when it had child elements or text. */
  hasContent(): boolean;
}

/** Looks a name up in a `[name, value, …]` attribute list. */
export function attrOf(attrs: readonly string[] | undefined, name: string): string | undefined {
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
