/**
 * The pull interface `parse.ts` reads a GNI document through.
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
 * no tree is built in production (a tree of a 10,000-instance document is
 * ~100,000 objects that the young-generation GC would copy on every parse);
 * the tests' `TreeCursor` (test/helpers/gni-oracle/tree-cursor.ts) walks an
 * `XmlElement` tree, which the fast-xml-parser oracle's output is converted to.
 */

/** One element as a tree (`scanXml`; the tests' fast-xml-parser oracle). */
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
