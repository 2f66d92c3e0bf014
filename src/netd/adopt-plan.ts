/**
 * The plan of `edgenet netd adopt`: one netd sync against the current
 * document, planned as if eucanetd's names were ours, plus the few things a
 * sync never does (eucanetd's chains in other iptables tables, its dhcpd).
 * Pure: no file, process or clock.
 *
 * Why this order leaves no window without filtering (docs/migration.md,
 * "Taking over a node"):
 * - per netfilter table ONE restore transaction: our chains written in full,
 *   our hooks inserted at position 1, eucanetd's hooks deleted, eucanetd's
 *   chains flushed and deleted — the kernel switches from eucanetd's rules to
 *   ours in one commit, so every packet meets one complete rule set;
 * - our ipsets are created before that (the rules use them) and eucanetd's
 *   destroyed after it (its rules used them); its raw-table counter chains go
 *   after the filter/nat switch and before the set destroy;
 * - public /32s still wanted stay on the interface throughout; only ones no
 *   instance holds are removed;
 * - eucanetd's dhcpd is stopped right before ours starts (both want port 67);
 *   instances keep their leases (86400 s) across the gap.
 *
 * Refusals change nothing: eucanetd still running (it would put its rules
 * back within a second, §1.3), or admin rules in eucanetd's user-hook chains
 * that were not explicitly given up.
 */
import type { DesiredState } from './render/types.ts';
import type { ObservedState } from './plan/observed.ts';
import type { Step } from './plan/steps.ts';
import { describeStep } from './plan/steps.ts';
import { planSync } from './plan/plan.ts';
import { iptablesArgsLine } from './netfilter/index.ts';
import type { EucanetdFootprint, EucanetdTable } from './eucanetd-footprint.ts';
import { isEucanetdName } from './eucanetd-footprint.ts';
import type { ErrorCode } from '../shared/error-codes.ts';

export type AdoptStep =
  /** A step of the sync (applied by the sync's applier). */
  | { readonly kind: 'sync'; readonly step: Step }
  /** eucanetd's chains in an iptables table netd does not manage (raw: its counters), removed in one restore. */
  | { readonly kind: 'iptables-remove'; readonly table: string; readonly chains: readonly string[]; readonly text: string }
  /** eucanetd's dhcpd, identified by its pid file and argv. */
  | { readonly kind: 'eucanetd-dhcpd-stop'; readonly pid: number };

export interface AdoptPlan {
  readonly steps: readonly AdoptStep[];
  readonly notes: readonly string[];
}

export type AdoptVerdict =
  | { readonly ok: true; readonly plan: AdoptPlan }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string; readonly plan: AdoptPlan };

export interface AdoptPlanOptions {
  /** netd's own ownership test (netdNames(prefix).isOurs). */
  readonly isOurs: (name: string) => boolean;
  readonly addressLabel?: string;
  readonly bridgeMac?: string;
  /** Drop admin rules found in eucanetd's user-hook chains. */
  readonly discardUserRules: boolean;
}

/** Tables the sync writes itself; eucanetd's chains elsewhere get an `iptables-remove`. */
const SYNC_TABLES = new Set(['filter', 'nat']);

/** Restore text removing eucanetd's hooks and chains from one table (hooks by the spec the kernel listed). */
export function removalText(table: string, t: EucanetdTable): string {
  const lines = [`*${table}`];
  for (const c of t.chains) lines.push(`:${c} - [0:0]`);
  for (const h of t.hooks) lines.push(`-D ${iptablesArgsLine(h.builtin, h.rule).slice('-A '.length)}`);
  for (const c of t.chains) lines.push(`-X ${c}`);
  lines.push('COMMIT', '');
  return lines.join('\n');
}

export function describeAdoptStep(s: AdoptStep): string {
  switch (s.kind) {
    case 'sync':
      return describeStep(s.step);
    case 'iptables-remove':
      return `iptables ${s.table}: delete ${s.chains.join(' ')} (eucanetd)`;
    case 'eucanetd-dhcpd-stop':
      return `eucanetd dhcpd stop (pid ${s.pid})`;
  }
}

const isProcessStep = (s: Step) => s.kind.startsWith('process-');
const isTableStep = (s: Step) => s.kind === 'iptables-write' || s.kind === 'ip6tables-write' || s.kind === 'ebtables-write';

export function planAdopt(desired: DesiredState, observed: ObservedState, footprint: EucanetdFootprint, options: AdoptPlanOptions): AdoptVerdict {
  const isOurs = (name: string) => options.isOurs(name) || isEucanetdName(name);
  const sync = planSync(desired, observed, {
    full: true,
    isOurs,
    ...(options.addressLabel !== undefined ? { addressLabel: options.addressLabel } : {}),
    ...(options.bridgeMac !== undefined ? { bridgeMac: options.bridgeMac } : {}),
  });
  const syncSteps = [...sync.steps];

  // eucanetd's /32s outside the document's pool (addresses it DNATed that left the
  // pool are never cleaned by eucanetd itself, §1.4 g): removed unless wanted.
  const pubIf = desired.publicAddresses.interface;
  const wanted = new Set(desired.publicAddresses.addresses.map((a) => a.replace(/\/32$/, '')));
  const planned = new Set(syncSteps.flatMap((s) => (s.kind === 'addr-del' ? [s.address] : [])));
  const extraDel: Step[] = [];
  if (pubIf !== '') {
    for (const a of observed.publicAddresses) {
      if (a.prefixlen === 32 && footprint.publicAddresses.includes(a.address) && !wanted.has(a.address) && !planned.has(a.address)) {
        extraDel.push({ kind: 'addr-del', interface: pubIf, address: a.address, prefixlen: 32 });
      }
    }
  }

  const removals: AdoptStep[] = [];
  for (const [table, t] of footprint.iptables) {
    if (!SYNC_TABLES.has(table)) removals.push({ kind: 'iptables-remove', table, chains: t.chains, text: removalText(table, t) });
  }

  // Assemble: sync steps up to and including the table switch, other tables'
  // removals, the rest of the sync (set destroy, addresses, our process
  // config), eucanetd's extra /32s, eucanetd's dhcpd stop, then our starts.
  const steps: AdoptStep[] = [];
  const lastTable = syncSteps.reduce((at, s, i) => (isTableStep(s) ? i : at), -1);
  // eucanetd's dhcpd stops right before ours starts (after our config is written): the shortest DHCP gap.
  const firstStart = syncSteps.findIndex((s) => s.kind === 'process-start' || s.kind === 'process-restart');
  const firstProcess = syncSteps.findIndex(isProcessStep);
  const processAt = firstStart >= 0 ? firstStart : firstProcess >= 0 ? firstProcess : syncSteps.length;
  let removalsPlaced = false;
  const placeRemovals = () => {
    if (!removalsPlaced) steps.push(...removals);
    removalsPlaced = true;
  };
  syncSteps.forEach((s, i) => {
    if (i === processAt) {
      placeRemovals();
      steps.push(...extraDel.map((step) => ({ kind: 'sync' as const, step })));
      if (footprint.dhcpd) steps.push({ kind: 'eucanetd-dhcpd-stop', pid: footprint.dhcpd.pid });
    }
    if (i > lastTable) placeRemovals();
    steps.push({ kind: 'sync', step: s });
  });
  if (processAt === syncSteps.length) {
    placeRemovals();
    steps.push(...extraDel.map((step) => ({ kind: 'sync' as const, step })));
    if (footprint.dhcpd) steps.push({ kind: 'eucanetd-dhcpd-stop', pid: footprint.dhcpd.pid });
  }
  // eucanetd writes ebtables filter and nat only (§1.4 h); anything in another table is reported, not touched.
  const otherEb = [...footprint.ebtables].filter(([t]) => !SYNC_TABLES.has(t)).map(([t, v]) => `ebtables ${t}: ${v.chains.join(' ')} left in place (adopt manages filter and nat)`);
  const plan: AdoptPlan = { steps, notes: [...sync.notes, ...otherEb] };

  if (footprint.eucanetd) {
    return { ok: false, code: 'ADOPT_EUCANETD_RUNNING', message: `eucanetd is running (pid ${footprint.eucanetd.pid}): stop and disable it first, or it puts its rules back`, plan };
  }
  if (footprint.userRules.length > 0 && !options.discardUserRules) {
    return {
      ok: false,
      code: 'ADOPT_USER_RULES',
      message: `eucanetd's user-hook chains hold ${footprint.userRules.length} admin rule(s) adopt would delete (move them, or pass --discard-user-rules):\n${footprint.userRules.map((r) => `  ${r}`).join('\n')}`,
      plan,
    };
  }
  return { ok: true, plan };
}
