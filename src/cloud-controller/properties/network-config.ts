/**
 * The bridge between the property store and the configuration modules
 * (`cloud-controller/config/`, and `modes/validate.ts`, which checks the
 * document as its mode requires): validates `cloud.network.network_configuration`
 * text and explodes it with the defaults the other properties provide.
 *
 * Validation and explode of a large document cost tens of milliseconds, and
 * every snapshot needs the exploded form, so results are memoized on the exact
 * inputs (property text + the explode-relevant properties' text).
 */
import type { Diagnostic } from '../../shared/diagnostics.ts';
import type { ExplodedNetworkConfiguration, NetworkConfiguration } from '../config/types.ts';
import { validateNetworkConfiguration } from '../modes/validate.ts';
import { explode, explodeInputsFromProperties } from '../config/explode.ts';

export type PropertyGetter = (name: string) => string | undefined;

export type ConfigOutcome =
  | { readonly ok: true; readonly config: NetworkConfiguration; readonly exploded: ExplodedNetworkConfiguration }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

/** Names of the properties whose value changes the exploded configuration. */
export const EXPLODE_INPUT_PROPERTIES = ['cloud.vmstate.mac_prefix', 'cloud.vmstate.instance_subdomain', 'system.dns.nameserveraddress'] as const;

const cache = new Map<string, ConfigOutcome>();
const CACHE_LIMIT = 8;

export function evaluateNetworkConfiguration(text: string, get: PropertyGetter): ConfigOutcome {
  const key = JSON.stringify([text, ...EXPLODE_INPUT_PROPERTIES.map((n) => get(n) ?? null)]);
  const hit = cache.get(key);
  if (hit) return hit;
  const outcome = evaluate(text, get);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(key, outcome);
  return outcome;
}

function evaluate(text: string, get: PropertyGetter): ConfigOutcome {
  const validated = validateNetworkConfiguration(text);
  if (!validated.ok) return { ok: false, diagnostics: validated.diagnostics };
  const errors = validated.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) return { ok: false, diagnostics: validated.diagnostics };
  try {
    const exploded = explode(validated.value, explodeInputsFromProperties(get));
    return { ok: true, config: validated.value, exploded };
  } catch (err) {
    return {
      ok: false,
      diagnostics: [{ severity: 'error', code: 'EXPLODE_FAILED', path: '', message: (err as Error).message }],
    };
  }
}
