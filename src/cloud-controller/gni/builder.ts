/**
 * `buildGni`: CloudSnapshot → GniDocument in one call, from scratch and
 * stateless — the mapper (map.ts) plus the content hash. For previews
 * (`GET /v1/gni`), tools and tests; equal snapshots give deep-equal documents,
 * so byte-identical XML and the same `version`.
 *
 * The broadcaster builds after every change and uses the incremental encoder
 * (encoder.ts) instead, which produces the same bytes from cached fragments.
 */
import type { CloudSnapshot } from '../contracts.ts';
import type { GniDocument } from '../../shared/gni/model.ts';
import { rememberGniBody, serializeGniBody } from '../../shared/gni/serialize.ts';
import { gniVersionOfBody } from '../../shared/gni/version.ts';
import { mapGni } from './map.ts';

export interface BuildGniOptions {
  /** Broadcast sequence to stamp on the document; omitted for a preview (`GET /v1/gni`). */
  readonly sequence?: number;
}

export function buildGni(snapshot: CloudSnapshot, options: BuildGniOptions = {}): GniDocument {
  const content = mapGni(snapshot);
  const body = serializeGniBody(content);
  // serializeGni of this document (with or without a sequence) reuses the body instead of writing it again.
  rememberGniBody(content, body);
  return { version: gniVersionOfBody(body), ...(options.sequence === undefined ? {} : { sequence: options.sequence }), ...content };
}
