/**
 * Terms of leadership in the database (shared by both elections): taking a
 * new term (meta.leader_term + 1, a clc_terms row) and reading who leads.
 */
import { sql } from 'kysely';
import type { ClcMember, ClcRole, LeaderTerm, LeadershipView } from '../contracts.ts';
import type { Store } from '../db/store.ts';
import { EdgenetError } from '../../shared/errors.ts';

/**
 * Takes the next term for `clcId` in one write and returns it.
 *
 * `leaderLock` (PostgreSQL): the term is taken only while the backend `pid`
 * (the election's dedicated connection) still holds the session advisory
 * lock `key`, checked in the same write (under the write lock); else
 * NOT_LEADER and nothing is written. Without the check a CLC whose lock
 * session ended while its term write waited (idle_session_timeout, a
 * partition) could record its term AFTER the new leader's: the newest term
 * would be a CLC that does not lead, and the real leader's sequences would be
 * refused (NOT_LEADER) until it lost the lock — no broadcasts meanwhile.
 */
export async function takeTerm(store: Store, input: { clcId: string; now: number; apiUrl?: string; leaderLock?: { readonly key: number; readonly pid: number } }): Promise<number> {
  return store.write(async (tx) => {
    const lock = input.leaderLock;
    if (lock !== undefined) {
      const { rows } = await sql<{ held: number }>`SELECT 1 AS held FROM pg_locks
         WHERE locktype = 'advisory' AND objsubid = 1 AND granted AND pid = ${lock.pid}
           AND (classid::int8 << 32) + objid::int8 = ${lock.key}`.execute(tx.db);
      if (rows.length === 0) throw new EdgenetError('NOT_LEADER', `${input.clcId} no longer holds the leader lock (its lock session ended); no term taken`);
    }
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
