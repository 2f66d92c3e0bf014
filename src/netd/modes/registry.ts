/**
 * The netd side of every network mode, by name: the only place netd
 * dispatches on a mode. The `Record` over `NetworkModeName` makes a mode
 * added to `NETWORK_MODES` (shared/gni/mode.ts) a type error here until netd
 * implements it.
 *
 * Where a node's mode comes from: the document's top-level
 * `configuration/property[@name='mode']` (absent in Eucalyptus 4.0
 * documents, which are EDGE). The whole cloud runs one mode today. A mode
 * chosen per cluster would travel as an extension of the cluster element
 * (docs/gni.md, "Extensions") and be resolved in `modeNameOf` (which would
 * then take the node); nothing else in netd would change.
 */
import { DEFAULT_NETWORK_MODE, type NetworkModeName } from '../../shared/gni/mode.ts';
import type { GniDocument } from '../../shared/gni/model.ts';
import { edgeMode } from './edge.ts';
import type { NetdMode } from './netd-mode.ts';
import { routedMode } from './routed.ts';

const NETD_MODES: Readonly<Record<NetworkModeName, NetdMode>> = {
  EDGE: edgeMode,
  ROUTED: routedMode,
};

/** The mode name that governs `doc` (not checked against the known modes). */
export function modeNameOf(doc: GniDocument): string {
  return doc.configuration.mode ?? DEFAULT_NETWORK_MODE;
}

/** The netd implementation of `name`, or undefined when netd does not know the mode. */
export function netdMode(name: string): NetdMode | undefined {
  return Object.hasOwn(NETD_MODES, name) ? NETD_MODES[name as NetworkModeName] : undefined;
}
