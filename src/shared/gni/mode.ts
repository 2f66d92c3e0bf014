/**
 * The network modes edgenet knows: the one list every layer (the CLC's
 * property, the GNI validator, netd's renderer) takes mode names from, so a
 * new mode is one more entry here plus its implementations (the CLC's
 * `src/cloud-controller/modes/`, netd's `src/netd/modes/`), never a literal
 * spread over files.
 *
 * A mode name travels in the GNI as `configuration/property[@name='mode']`
 * (Eucalyptus 4.4's own field; 4.0 documents omit it and are EDGE).
 */

export const NETWORK_MODES = ['EDGE', 'ROUTED'] as const;

export type NetworkModeName = (typeof NETWORK_MODES)[number];

/** The mode of a document that does not name one (Eucalyptus 4.0 documents are EDGE by definition). */
export const DEFAULT_NETWORK_MODE: NetworkModeName = 'EDGE';

export function isNetworkMode(text: string): text is NetworkModeName {
  return (NETWORK_MODES as readonly string[]).includes(text);
}
