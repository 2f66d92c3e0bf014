/**
 * The per-mode part of sanitize (render/sanitize.ts; architecture.md "A new
 * network mode"). EDGE's rules are sanitize's own; a mode whose documents mean
 * something else by an instance's addresses plugs a `ModeSanitizer` into
 * sanitize's table, keyed by mode name. Everything else sanitize checks (ids,
 * MACs, host addresses, duplicates, the public pool, rules, groups) stays
 * EDGE's and applies to every mode.
 *
 * Its own file so that a mode's sanitizer (routed-sanitize.ts) and sanitize.ts
 * import it without importing each other.
 */
import type { GniInstance } from '../../shared/gni/model.ts';

export interface ModeRefusal<C extends string = string> {
  readonly code: C;
  /** `instance "i-…"`, `cluster c routed`: what was left out. */
  readonly subject: string;
  readonly message: string;
}

export interface ModeSanitizer<C extends string = string> {
  /** Refusals that name no single instance (a whole cluster), in document order. */
  readonly documentRefusals: readonly ModeRefusal<C>[];
  /**
   * An instance's addresses by the mode's rules, in place of EDGE's "private
   * IP inside the cluster subnet, not its network, broadcast or gateway
   * address"; undefined when they are fine. Its refusal leaves the instance
   * out whole (and off its node and every group set).
   */
  instance(inst: GniInstance): ModeRefusal<C> | undefined;
}
