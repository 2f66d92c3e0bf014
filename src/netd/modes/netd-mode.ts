/**
 * NetdMode: what a network mode implements on the node — how the desired
 * state of this host follows from the document. One implementation per name
 * in `NETWORK_MODES` (shared/gni/mode.ts), registered in `registry.ts`, which
 * is the only place netd dispatches on a mode.
 *
 * Contract: `render` is pure (no fs, exec, clock or env; host facts come in
 * as data) and deterministic (equal inputs, equal states). It signals a
 * document it cannot lay down on this host by throwing `RenderFailure` with a
 * stable code; `render()` (render/render.ts) turns that into a failed
 * RenderResult, and the caller keeps the previous state applied.
 */
import type { NetworkModeName } from '../../shared/gni/mode.ts';
import type { GniDocument } from '../../shared/gni/model.ts';
import type { NetdConfig } from '../config.ts';
import type { DesiredState, HostFacts } from '../render/types.ts';

export interface NetdModeInput {
  readonly doc: GniDocument;
  /** This host's node name, as listed in the document. */
  readonly node: string;
  readonly config: NetdConfig;
  readonly host: HostFacts;
}

export interface NetdMode {
  readonly name: NetworkModeName;
  render(input: NetdModeInput): DesiredState;
}
