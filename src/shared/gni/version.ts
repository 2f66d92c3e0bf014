/**
 * The document `version`: a content hash. sha256 over the canonical body
 * (`serializeGniBody`, which never includes `version` or `sequence`), first 16
 * lowercase hex characters. Equal state ⇒ equal version, so a re-broadcast of
 * unchanged state costs a node nothing (architecture.md §5). Eucalyptus used
 * an 8-hex fingerprint of entity versions instead; readers treat the value as
 * an opaque string either way.
 */
import { createHash } from 'node:crypto';
import type { GniDocument } from './model.ts';
import { serializeGniBody } from './serialize.ts';

const GNI_VERSION_LENGTH = 16;

export function gniVersion(doc: Omit<GniDocument, 'version' | 'sequence' | 'generation'>): string {
  return gniVersionOfBody(serializeGniBody(doc));
}

/** The version of a body given as consecutive UTF-8 chunks (the same hash as of their concatenation, without building it). */
export function gniVersionOfChunks(chunks: readonly Uint8Array[]): string {
  const hash = createHash('sha256');
  for (const c of chunks) hash.update(c);
  return hash.digest('hex').slice(0, GNI_VERSION_LENGTH);
}

/** The version of an already serialized body (saves a second serialization). */
export function gniVersionOfBody(body: string): string {
  return createHash('sha256').update(body).digest('hex').slice(0, GNI_VERSION_LENGTH);
}
