/**
 * Reads the root start tag of a GNI document without parsing the document:
 * the node controller "never parses more than it must" (architecture.md §1.5),
 * and netd uses it to skip a document whose version it already applied.
 *
 * Only the first KiB is examined (the XML declaration, perhaps a comment, then
 * `<network-data version=… sequence=… generation=…>`), so the cost is independent of the
 * document size. Returns undefined when no `network-data` start tag is found
 * there; the attributes are returned only when well-formed.
 */

const HEAD_BYTES = 1024;
const ROOT = /<network-data(\s[^>]*)?\/?>/;
const ATTR = /\s([A-Za-z_][\w.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

export interface GniHeader {
  version?: string;
  sequence?: number;
  generation?: number;
}

export function readGniHeader(xml: string | Buffer): GniHeader | undefined {
  const head = typeof xml === 'string' ? xml.slice(0, HEAD_BYTES) : xml.toString('utf8', 0, Math.min(xml.length, HEAD_BYTES));
  const m = ROOT.exec(head);
  if (m === null) return undefined;
  const header: GniHeader = {};
  const attrs = m[1] ?? '';
  for (const a of attrs.matchAll(ATTR)) {
    const value = a[2] ?? a[3] ?? '';
    if (a[1] === 'version' && value !== '') header.version = value;
    else if (a[1] === 'sequence' && /^\d{1,15}$/.test(value)) header.sequence = Number(value);
    else if (a[1] === 'generation' && /^\d{1,15}$/.test(value)) header.generation = Number(value);
  }
  return header;
}
