/**
 * render: the pure function from (GNI document, this node, netd config, host
 * facts) to the DesiredState of this host (architecture.md §4). No fs, exec,
 * clock or env: the applier reads host facts first and passes them in. The
 * document's mode picks the implementation (netd/modes/registry.ts); a mode
 * netd does not implement is refused (UNSUPPORTED_MODE).
 *
 * Failure is data: `{ok: false, code, message}` (node not in the document,
 * gateway unresolvable, ...). The caller keeps the previous state applied.
 * Every output list is sorted so equal inputs give equal states.
 */
import type { GniDocument } from '../../shared/gni/model.ts';
import { parseIp } from '../../shared/ip.ts';
import type { NetdConfig } from '../config.ts';
import { modeNameOf, netdMode } from '../modes/registry.ts';
import { RenderFailure } from './context.ts';
import type { HostFacts, RenderResult } from './types.ts';

export type { HostFacts, RenderResult } from './types.ts';

export function render(gni: GniDocument, self: { node: string }, config: NetdConfig, host: HostFacts = {}): RenderResult {
  const modeName = modeNameOf(gni);
  const mode = netdMode(modeName);
  if (mode === undefined) return { ok: false, code: 'UNSUPPORTED_MODE', message: `document ${gni.version} is in mode "${modeName}", which this netd does not implement` };
  try {
    return { ok: true, state: mode.render({ doc: gni, node: self.node, config, host }) };
  } catch (err) {
    if (err instanceof RenderFailure) return { ok: false, code: err.code, message: err.message };
    throw err;
  }
}

/**
 * Which node of the document this host is: the configured name if it is in
 * the document (a configured name that is not there gives undefined rather
 * than a guess), else the first node (in document order) whose name is one of
 * the local addresses (`a.b.c.d` or `a.b.c.d/len`).
 */
export function findSelf(gni: GniDocument, candidates: { configuredName?: string; localAddresses: readonly string[] }): string | undefined {
  const nodes = gni.configuration.clusters.flatMap((c) => c.nodes.map((n) => n.name));
  if (candidates.configuredName !== undefined && candidates.configuredName !== '') {
    return nodes.includes(candidates.configuredName) ? candidates.configuredName : undefined;
  }
  const local = new Set(candidates.localAddresses.map((a) => a.split('/')[0] ?? a).filter((a) => parseIp(a) !== undefined));
  return nodes.find((n) => local.has(n));
}
