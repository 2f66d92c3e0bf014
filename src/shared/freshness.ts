/**
 * Is a received GNI document fresh? The one rule the cluster controller
 * (document-store.ts), the node controller (held-document.ts) and netd
 * (netd/sync.ts) apply, each against what it holds (or applied).
 *
 * A document is named by `(generation, sequence, version)`:
 * - `generation` is the CLC database's epoch (docs/gni.md): a new database or a
 *   restored backup takes a newer one, so its documents supersede every
 *   document of an older generation whatever their sequences; absent (an
 *   edgenet document from before generations, or Eucalyptus) counts as 0;
 * - `sequence` orders documents inside one generation; one sequence names one
 *   version;
 * - `version` is the content hash.
 * A received document without a sequence (Eucalyptus-shaped) carries no order:
 * with `acceptUnsequenced` (the CC's ACCEPT_UNSEQUENCED=Y, for a Eucalyptus
 * CLC) it is `same` when its version is the held one, else `newer`; without it
 * (the CC's default) it is refused (UNSEQUENCED), because it would replace any
 * held document and so bypass the stale check (issue 11 item 6). Callers that
 * pass no options keep the accepting rule (the NC and netd, fed by the CC).
 *
 * Pure: no I/O, no clock. Callers decide what `same` means for them (the NC
 * keeps its file, netd re-applies, the CC resumes its fan-out).
 */

export interface DocumentIds {
  readonly generation?: number;
  readonly sequence?: number;
  readonly version?: string;
}

export type Freshness =
  | { readonly fresh: true; readonly verdict: 'newer' | 'same' }
  | { readonly fresh: false; readonly code: 'STALE_GENERATION' | 'STALE_SEQUENCE' | 'SEQUENCE_CONFLICT' | 'UNSEQUENCED'; readonly message: string };

export interface FreshnessOptions {
  /** Whether a received document without a sequence may replace the held one (default true). */
  readonly acceptUnsequenced?: boolean;
}

/** `held`: what the caller holds or applied; `heldWord` names it in the message ("held", "applied"). */
export function freshness(received: DocumentIds, held: DocumentIds | undefined, heldWord = 'held', options: FreshnessOptions = {}): Freshness {
  const newer = { fresh: true, verdict: 'newer' } as const;
  const same = { fresh: true, verdict: 'same' } as const;
  if (received.sequence === undefined && options.acceptUnsequenced === false) {
    return { fresh: false, code: 'UNSEQUENCED', message: `document (version ${received.version ?? '-'}) carries no sequence, so it cannot be ordered against the ${heldWord} one; refused (a Eucalyptus CLC needs ACCEPT_UNSEQUENCED="Y" on the CC)` };
  }
  if (held === undefined || (held.sequence === undefined && held.version === undefined)) return newer;
  if (received.sequence === undefined || held.sequence === undefined) {
    return received.version !== undefined && received.version === held.version ? same : newer;
  }
  const g = received.generation ?? 0;
  const hg = held.generation ?? 0;
  const detail = `(received: generation ${g}, sequence ${received.sequence}, version ${received.version ?? '-'}; ${heldWord}: generation ${hg}, sequence ${held.sequence}, version ${held.version ?? '-'})`;
  if (g > hg) return newer;
  if (g < hg) {
    return { fresh: false, code: 'STALE_GENERATION', message: `document generation ${g} is superseded by the ${heldWord} generation ${hg} (a newer or restored CLC database); refused ${detail}` };
  }
  if (received.sequence < held.sequence) {
    return { fresh: false, code: 'STALE_SEQUENCE', message: `document sequence ${received.sequence} is older than the ${heldWord} ${held.sequence} in generation ${g}; refused ${detail}` };
  }
  if (received.sequence > held.sequence) return newer;
  if (received.version === held.version) return same;
  return {
    fresh: false,
    code: 'SEQUENCE_CONFLICT',
    message: `document sequence ${received.sequence} of generation ${g} has version ${received.version ?? '-'}, the ${heldWord} one has version ${held.version ?? '-'}: two documents with one name (a CLC database restored without \`edgenet clc restore\` or a backup mark?); refused ${detail}`,
  };
}

/** The codes a refusal carries (a SOAP fault's code): re-sending the same document cannot help. */
const REFUSAL_CODES: readonly string[] = ['STALE_GENERATION', 'STALE_SEQUENCE', 'SEQUENCE_CONFLICT', 'UNSEQUENCED'];

export function isRefusalCode(code: string | undefined): boolean {
  return code !== undefined && REFUSAL_CODES.includes(code);
}
