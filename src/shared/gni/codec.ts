/**
 * The GNI XML codec: `serializeGni` (model → text, deterministic) and
 * `parseGni` (text → validated model). netd, the node controller, the CLC
 * and the CLI all go through here; nobody else parses GNI XML.
 *
 * `parseGni` = defences + read (`parse.ts`) + semantic validation
 * (`validate.ts`). It fails when any error-severity diagnostic is found;
 * warnings travel with a successful result. A document without a `version`
 * attribute (Eucalyptus 4.0) gets the computed content hash.
 */
import type { Diagnostic, Validated } from '../diagnostics.ts';
import { hasErrors } from '../diagnostics.ts';
import { GniCode, error } from './codes.ts';
import type { GniDocument } from './model.ts';
import { parseGniXml, type GniXmlEngine } from './parse.ts';
import { validateGni } from './validate.ts';
import { gniVersion } from './version.ts';

export { serializeGni, serializeGniBody } from './serialize.ts';
export { GniCode } from './codes.ts';

/** Default size limit: well above a 10,000-instance document (~5 MB), below anything absurd. */
export const DEFAULT_MAX_GNI_BYTES = 64 * 1024 * 1024;

export interface ParseGniOptions {
  /** Reject inputs longer than this many bytes (default 64 MiB). */
  readonly maxBytes?: number;
  /**
   * XML engine (parse.ts): `scanEngine` by default, edgenet's strict GNI
   * reader, which reads the model straight from the text and is many times
   * faster on large documents than a tree-building parser
   * (bench/gni.bench.ts), which matters because netd parses the whole
   * cloud-wide document on every change. The tests pass a fast-xml-parser
   * oracle here (test/helpers/gni-oracle/) and require the same result.
   */
  readonly engine?: GniXmlEngine;
}

export function parseGni(input: string | Buffer, options: ParseGniOptions = {}): Validated<GniDocument> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_GNI_BYTES;
  // A UTF-16 code unit is at most 3 UTF-8 bytes: a string short enough cannot be over
  // the limit, and is not measured (that would be one more pass over a large document).
  const size = typeof input !== 'string' ? input.length : input.length * 3 <= maxBytes ? 0 : Buffer.byteLength(input, 'utf8');
  if (size > maxBytes) {
    return { ok: false, diagnostics: [error(GniCode.TooLarge, '', `document is ${size} bytes, the limit is ${maxBytes}`)] };
  }
  const text = typeof input === 'string' ? input : input.toString('utf8');
  const { doc, diagnostics } = parseGniXml(text, options.engine);
  if (doc === undefined) return { ok: false, diagnostics };
  const all: Diagnostic[] = [...diagnostics, ...validateGni(doc)];
  if (hasErrors(all)) return { ok: false, diagnostics: all };
  const value = doc.version === '' ? { ...doc, version: gniVersion(doc) } : doc;
  return { ok: true, value, diagnostics: all };
}
