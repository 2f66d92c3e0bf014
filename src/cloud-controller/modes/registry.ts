/**
 * The CLC's network modes by name: the one place the cloud controller
 * dispatches on a mode. Typed over NETWORK_MODES (src/shared/gni/mode.ts), so
 * a name added there without a CLC implementation here fails the typecheck.
 */
import { DEFAULT_NETWORK_MODE, isNetworkMode, NETWORK_MODES, type NetworkModeName } from '../../shared/gni/mode.ts';
import type { ClcNetworkMode } from './mode.ts';
import { EDGE_MODE } from './edge.ts';
import { ROUTED_MODE } from './routed.ts';

const CLC_MODES: { readonly [Name in NetworkModeName]: ClcNetworkMode<Name> } = {
  EDGE: EDGE_MODE,
  ROUTED: ROUTED_MODE,
};

/** Every mode, in NETWORK_MODES order. */
export const CLC_MODE_LIST: readonly ClcNetworkMode[] = NETWORK_MODES.map((name) => CLC_MODES[name]);

export function clcMode(name: NetworkModeName): ClcNetworkMode {
  return CLC_MODES[name];
}

/**
 * The mode a property document declares with `Mode`, or the default mode
 * when it declares none. `known: false` when `Mode` is present but names no
 * mode (or is not a string): the schema reports that (MODE_UNSUPPORTED,
 * TYPE_MISMATCH) and the rest of the document is checked as the default
 * mode's, so one pass still reports every other problem.
 */
export function declaredMode(doc: unknown): { readonly mode: ClcNetworkMode; readonly known: boolean } {
  const value = typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? (doc as Record<string, unknown>)['Mode'] : undefined;
  if (value === undefined) return { mode: CLC_MODES[DEFAULT_NETWORK_MODE], known: true };
  if (typeof value === 'string' && isNetworkMode(value)) return { mode: CLC_MODES[value], known: true };
  return { mode: CLC_MODES[DEFAULT_NETWORK_MODE], known: false };
}
