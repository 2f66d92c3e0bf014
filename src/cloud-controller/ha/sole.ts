/**
 * Leadership on SQLite: one CLC per database file, always the leader. It
 * still takes a term at start (meta.leader_term, a clc_terms row), so the
 * sequence fence (CloudState.nextSequence) and `edgenet status` work the
 * same on both stores.
 */
import type { ClcRole, Leadership, LeadershipView } from '../contracts.ts';
import type { Store } from '../db/store.ts';
import { takeTerm, readLeadershipView } from './terms.ts';

export class SoleLeadership implements Leadership {
  private currentTerm: number | undefined;
  private roleSince = 0;

  constructor(
    readonly id: string,
    private readonly store: Store,
    private readonly options: { readonly apiUrl?: string; readonly now: () => number },
  ) {}

  async start(): Promise<void> {
    this.roleSince = this.options.now();
    this.currentTerm = await takeTerm(this.store, { clcId: this.id, now: this.roleSince, ...(this.options.apiUrl !== undefined ? { apiUrl: this.options.apiUrl } : {}) });
  }

  async stop(): Promise<void> {
    this.currentTerm = undefined;
  }

  role(): ClcRole {
    return 'leader';
  }

  term(): number | undefined {
    return this.currentTerm;
  }

  view(): Promise<LeadershipView> {
    return readLeadershipView(this.store, { id: this.id, role: 'leader', roleSince: this.roleSince, election: 'sole' });
  }

  onRoleChange(listener: (leading: boolean) => void): () => void {
    // Leads from start to stop: told once, right away when already started.
    if (this.currentTerm !== undefined) queueMicrotask(() => listener(true));
    return () => undefined;
  }
}
