/**
 * Terms of leadership in the database (shared by both elections): taking a
 * new term (meta.leader_term + 1, a clc_terms row) and reading who leads.
 */
import type { ClcMember, ClcRole, LeaderTerm, LeadershipView } from '../contracts.ts';
import type { Store } from '../db/store.ts';

/** Takes the next term for `clcId` in one write and returns it. */
export async function takeTerm(store: Store, input: { clcId: string; now: number; apiUrl?: string }): Promise<number> {
  return store.write(async (tx) => {
    const row = await tx.db.updateTable('meta').set((eb) => ({ value: eb('value', '+', 1) })).where('key', '=', 'leader_term').returning('value').executeTakeFirstOrThrow();
    const term = Number(row.value);
    await tx.db.insertInto('clc_terms').values({ term, clc_id: input.clcId, api_url: input.apiUrl ?? null, since: input.now }).execute();
    return term;
  });
}

export async function readLeadershipView(store: Store, self: { id: string; role: ClcRole; roleSince: number; election: 'sole' | 'postgres' }): Promise<LeadershipView> {
  return store.read(async (db) => {
    const t = await db.selectFrom('clc_terms').selectAll().orderBy('term', 'desc').limit(1).executeTakeFirst();
    const members = await db.selectFrom('clc_members').selectAll().orderBy('id').execute();
    const leader: LeaderTerm | undefined = t === undefined ? undefined : { term: Number(t.term), clcId: t.clc_id, since: Number(t.since), ...(t.api_url !== null ? { apiUrl: t.api_url } : {}) };
    return {
      ...self,
      ...(leader ? { leader } : {}),
      members: members.map((m): ClcMember => ({ id: m.id, ...(m.api_url !== null ? { apiUrl: m.api_url } : {}), host: m.host, pid: Number(m.pid), startedAt: Number(m.started_at), seenAt: Number(m.seen_at) })),
    };
  });
}
