/**
 * The CLC's side of a network mode: what one mode (EDGE, ROUTED) decides in the
 * cloud controller, written once per mode and dispatched only through
 * registry.ts.
 *
 * A mode decides:
 * - how the property selects it: `Mode` = its name (a NETWORK_MODES entry,
 *   src/shared/gni/mode.ts; a document without `Mode` is the default mode);
 * - which top-level and cluster keys it defines and how they are checked beyond
 *   shape and syntax (the JSON Schema, schemas/network_configuration.schema.json,
 *   declares the union of every mode's keys, and the few rules that differ by
 *   mode in an if/then/else on `Mode`; test/unit/clc/modes.test.ts keeps
 *   schema and registry in agreement). Diagnostics use the one code
 *   registry, config/codes.ts;
 * - what the CLC adds to the GNI for it: a pure hook that receives the mapped
 *   base model (the Eucalyptus 4.4 shape, gni/map.ts) and returns it, with
 *   extension elements when the mode has any. EDGE adds nothing; ROUTED adds
 *   its `routed` and `bgp` extensions (shared/gni/routed.ts).
 *
 * netd's side of a mode (rendering a node's desired state from the document)
 * is src/netd/modes/.
 */
import type { Diagnostic } from '../../shared/diagnostics.ts';
import type { NetworkModeName } from '../../shared/gni/mode.ts';
import type { GniDocument } from '../../shared/gni/model.ts';
import type { CloudSnapshot } from '../contracts.ts';

/** A document's content: what the builder maps and `version` hashes (no version, sequence or generation). */
export type GniContent = Pick<GniDocument, 'configuration' | 'instances' | 'securityGroups'>;

/** What the document hook may consult besides the base model. */
export interface ModeDocumentContext {
  readonly snapshot: CloudSnapshot;
}

export interface ClcNetworkMode<Name extends NetworkModeName = NetworkModeName> {
  /** The property's `Mode` value that selects this mode; also the GNI's `mode`. */
  readonly name: Name;
  /** Top-level property keys this mode defines besides `Mode`, in documented order (modes may share keys). */
  readonly keys: readonly string[];
  /**
   * Keys of a `Clusters` entry this mode defines, in documented order. The
   * schema's cluster admits every mode's; validate.ts refuses, as for the
   * top level, a key that only another mode defines.
   */
  readonly clusterKeys: readonly string[];
  /**
   * Checks of the mode's keys that the schema cannot express (relations,
   * ranges, overlaps): every problem, each with a config/codes.ts code. The
   * document may be schema-invalid in places; values that do not parse are
   * skipped (the schema pass reported them). Pure.
   */
  checks(doc: Readonly<Record<string, unknown>>): Diagnostic[];
  /**
   * The document for this mode from the mapped base model. Pure. Returning a
   * section object unchanged (the same `configuration`, `instances` or
   * `securityGroups` object) lets the incremental encoder keep that section's
   * cached bytes; a replaced section is serialized anew on every build.
   */
  extendDocument(base: GniContent, context: ModeDocumentContext): GniContent;
}
