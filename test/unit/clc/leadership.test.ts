/**
 * Leadership (src/cloud-controller/ha/): SQLite's sole leader, and the
 * PostgreSQL election on a real throwaway server — exactly one of two CLCs
 * leads; a leader whose lock connection is terminated says `false` before
 * the other says `true`, the other leads within 5 s in a higher term, and the
 * old term can no longer draw a sequence; a clean stop releases the lock at
 * once. Needs root for PostgreSQL: skipped loudly otherwise, a failure
 * under CI=true.
 */
import { waitFor as poll } from '../../../src/shared/wait.ts';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { Store } from '../../../src/cloud-controller/db/store.ts';
import { startLeadership } from '../../../src/cloud-controller/ha/leadership.ts';
import { PostgresLeadership, LEADER_LOCK_KEY } from '../../../src/cloud-controller/ha/postgres-election.ts';
import { Members } from '../../../src/cloud-controller/ha/members.ts';
import { takeTerm } from '../../../src/cloud-controller/ha/terms.ts';
import { CloudState } from '../../../src/cloud-controller/services/cloud-state.ts';
import { systemClock } from '../../../src/shared/clock.ts';
import { nullLogger } from '../../../src/shared/logger.ts';
import { UserError, errorCode } from '../../../src/shared/errors.ts';
import { formatLeadership, formatStatus } from '../../../src/cloud-controller/broadcast/status-format.ts';
import { toEc2Error } from '../../../src/cloud-controller/ec2/errors.ts';
import { requirePostgres, sharedPostgres } from '../../helpers/postgres.ts';

const logger = nullLogger();

/** Waits for `pred` (polled every 20 ms) with a deadline; the deadline is the bound under test, not a speed claim. */
async function waitFor(what: string, pred: () => boolean | Promise<boolean>, deadlineMs = 5000): Promise<void> {
  await poll(pred, { what, timeoutMs: deadlineMs, intervalMs: 20 });
}

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

test('SQLite: the sole CLC leads from start (a term of its own), is announced in clc_members, and leaves it on stop', async () => {
  const store = await Store.open(':memory:');
  cleanups.push(() => store.close());
  const first = await startLeadership(store, { id: 'solo', apiUrl: 'http://127.0.0.1:1', location: ':memory:', logger, clock: systemClock });
  assert.equal(first.role(), 'leader');
  assert.equal(first.term(), 1);
  const told: boolean[] = [];
  first.onRoleChange((l) => told.push(l));
  await waitFor('told true', () => told.length > 0);
  assert.deepEqual(told, [true]);
  const v = await first.view();
  assert.equal(v.election, 'sole');
  assert.deepEqual({ clcId: v.leader?.clcId, term: v.leader?.term, apiUrl: v.leader?.apiUrl }, { clcId: 'solo', term: 1, apiUrl: 'http://127.0.0.1:1' });
  assert.deepEqual(v.members.map((m) => [m.id, m.pid]), [['solo', process.pid]]);
  await first.stop();
  assert.deepEqual((await first.view()).members, []);
  // A restart takes the next term: sequences of the old one are refused.
  const second = await startLeadership(store, { id: 'solo', location: ':memory:', logger, clock: systemClock });
  assert.equal(second.term(), 2);
  const state = new CloudState({ store, clock: systemClock, clcIp: '127.0.0.1' });
  await assert.rejects(state.nextSequence(1), (err) => errorCode(err) === 'NOT_LEADER');
  assert.equal(typeof (await state.nextSequence(2)), 'number');
  await second.stop();
});

test('PostgreSQL: two CLCs, one leads; its lock connection killed, it steps down before the other leads (within 5 s, higher term); the old term is fenced; a clean stop releases at once', async (t) => {
  if (!requirePostgres(t)) return;
  const server = await sharedPostgres();
  const url = await server.createDatabase();
  const storeA = await Store.open(url);
  const storeB = await Store.open(url);
  const admin = new pg.Client({ connectionString: server.url() });
  await admin.connect();
  const events: string[] = [];
  const make = (id: string, store: Store) => {
    const l = new PostgresLeadership(id, store, { url, apiUrl: `http://${id}.invalid:1`, logger, clock: systemClock });
    l.onRoleChange((leading) => events.push(`${id}:${leading}`));
    return l;
  };
  const a = make('clc-a', storeA);
  const b = make('clc-b', storeB);
  cleanups.push(async () => {
    await a.stop();
    await b.stop();
    await admin.end();
    await storeA.close();
    await storeB.close();
  });
  await a.start();
  await b.start();
  // Exactly one leads (a started first and finds the lock free).
  assert.deepEqual([a.role(), b.role()], ['leader', 'follower']);
  assert.equal(b.term(), undefined);
  const oldTerm = a.term()!;
  assert.ok(oldTerm >= 1);
  const viewB = await b.view();
  assert.deepEqual({ election: viewB.election, role: viewB.role, leader: viewB.leader?.clcId, term: viewB.leader?.term }, { election: 'postgres', role: 'follower', leader: 'clc-a', term: oldTerm });
  await waitFor('a told true', () => events.includes('clc-a:true'));

  // The server ends the leader's lock session (as it does for a dead or partitioned leader).
  const pid = await a.backendPid();
  assert.ok(pid !== undefined);
  const lockHolder = async () => (await admin.query<{ pid: number }>(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = $1 AND granted`, [LEADER_LOCK_KEY])).rows.map((r) => r.pid);
  assert.deepEqual(await lockHolder(), [pid]);
  await admin.query('SELECT pg_terminate_backend($1)', [pid]);
  await waitFor('b leads', () => b.role() === 'leader');
  assert.equal(a.role(), 'follower');
  assert.ok(events.indexOf('clc-a:false') >= 0 && events.indexOf('clc-a:false') < events.indexOf('clc-b:true'), `a must step down before b leads: ${events.join(' ')}`);
  const newTerm = b.term()!;
  assert.ok(newTerm > oldTerm, `term ${newTerm} after ${oldTerm}`);
  assert.equal((await a.view()).leader?.clcId, 'clc-b');

  // The fence: the deposed term draws no sequence, and its convergence reports are ignored.
  const stateA = new CloudState({ store: storeA, clock: systemClock, clcIp: '127.0.0.1' });
  await assert.rejects(stateA.nextSequence(oldTerm), (err) => errorCode(err) === 'NOT_LEADER');
  assert.deepEqual(await stateA.nodesApplied([{ cluster: 'c', node: '10.0.0.1', appliedSequence: 1 }], oldTerm), []);
  const stateB = new CloudState({ store: storeB, clock: systemClock, clcIp: '127.0.0.1' });
  const seq = await stateB.nextSequence(newTerm);
  assert.ok(seq >= 1);

  // Clean stop: the lock is gone with b's session the moment stop() resolves; a then leads.
  const bPid = await b.backendPid();
  await b.stop();
  assert.ok(!(await lockHolder()).includes(bPid!), 'b still holds the leader lock after stop()');
  assert.equal(events.at(-1), 'clc-b:false');
  await waitFor('a leads again', () => a.role() === 'leader');
  assert.ok(a.term()! > newTerm);
});

test('PostgreSQL: a term is taken only while the given session holds the leader lock (a lock session that ended cannot record a term newer than the next leader\'s)', async (t) => {
  if (!requirePostgres(t)) return;
  const server = await sharedPostgres();
  const url = await server.createDatabase();
  const store = await Store.open(url);
  const holder = new pg.Client({ connectionString: url });
  await holder.connect();
  cleanups.push(async () => {
    await holder.end();
    await store.close();
  });
  const term = () => store.read(async (db) => Number((await db.selectFrom('meta').select('value').where('key', '=', 'leader_term').executeTakeFirstOrThrow()).value));
  const pid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  const before = await term();
  await assert.rejects(takeTerm(store, { clcId: 'x', now: 1, leaderLock: { key: LEADER_LOCK_KEY, pid } }), (err) => errorCode(err) === 'NOT_LEADER');
  assert.equal(await term(), before, 'a refused term must write nothing');
  await holder.query('SELECT pg_advisory_lock($1)', [LEADER_LOCK_KEY]);
  assert.equal(await takeTerm(store, { clcId: 'x', now: 1, leaderLock: { key: LEADER_LOCK_KEY, pid } }), before + 1);
  // Another backend's pid: refused although the lock is held (by someone else).
  await assert.rejects(takeTerm(store, { clcId: 'y', now: 1, leaderLock: { key: LEADER_LOCK_KEY, pid: pid + 1 } }), (err) => errorCode(err) === 'NOT_LEADER');
  assert.equal(await term(), before + 1);
});

test('PostgreSQL: a leader whose term was overtaken (NOT_LEADER while it holds the lock) resigns: it steps down, gives the lock up, and the cloud has a leader in a newer term again', async (t) => {
  if (!requirePostgres(t)) return;
  const server = await sharedPostgres();
  const url = await server.createDatabase();
  const store = await Store.open(url);
  const events: string[] = [];
  const a = new PostgresLeadership('clc-a', store, { url, apiUrl: 'http://clc-a.invalid:1', logger, clock: systemClock });
  a.onRoleChange((leading) => events.push(`clc-a:${leading}`));
  cleanups.push(async () => {
    await a.stop();
    await store.close();
  });
  await a.start();
  await waitFor('a leads', () => a.role() === 'leader');
  const term = a.term()!;
  // A newer term appears behind the leader's back (as two CLCs on one database with a broken election would make).
  await store.write((tx) => tx.db.updateTable('meta').set({ value: term + 1 }).where('key', '=', 'leader_term').execute());
  const state = new CloudState({ store, clock: systemClock, clcIp: '127.0.0.1' });
  await assert.rejects(state.nextSequence(term), (err) => errorCode(err) === 'NOT_LEADER');
  a.resign('NOT_LEADER from nextSequence');
  assert.equal(a.role(), 'follower');
  assert.equal(events.at(-1), 'clc-a:false');
  await waitFor('a leads again', () => a.role() === 'leader', 10_000);
  assert.ok(a.term()! > term + 1, `term ${a.term()} after the overtaking ${term + 1}`);
  assert.ok((await state.nextSequence(a.term())) >= 1);
});

test('PostgreSQL: clc_members rows are upserted while running and removed on a clean stop', async (t) => {
  if (!requirePostgres(t)) return;
  const server = await sharedPostgres();
  const url = await server.createDatabase();
  const store = await Store.open(url);
  cleanups.push(() => store.close());
  const m1 = new Members(store, { id: 'clc-1', apiUrl: 'http://10.0.0.1:8770', logger, clock: systemClock, announceMs: 50 });
  const m2 = new Members(store, { id: 'clc-2', logger, clock: systemClock, announceMs: 50 });
  await m1.start();
  await m2.start();
  const rows = async () => store.read((db) => db.selectFrom('clc_members').selectAll().orderBy('id').execute());
  const first = await rows();
  assert.deepEqual(first.map((r) => [r.id, r.api_url, r.pid]), [['clc-1', 'http://10.0.0.1:8770', process.pid], ['clc-2', null, process.pid]]);
  const seen = first[0]!.seen_at;
  await waitFor('clc-1 seen again', async () => (await rows())[0]!.seen_at > seen);
  await m1.stop();
  assert.deepEqual((await rows()).map((r) => r.id), ['clc-2']);
  await m2.stop();
  assert.deepEqual(await rows(), []);
});

test('edgenet status text: who leads since when in which term, and the followers; an EC2 request meeting DB_UNAVAILABLE is ServiceUnavailable 503', () => {
  const since = Date.UTC(2025, 0, 2, 3, 4, 5);
  const member = (id: string) => ({ id, host: 'h', pid: 1, startedAt: since, seenAt: since });
  const view = { id: 'clc-b', role: 'follower' as const, roleSince: since, election: 'postgres' as const, leader: { term: 7, clcId: 'clc-a', since }, members: [member('clc-a'), member('clc-b'), member('clc-c')] };
  assert.equal(formatLeadership(view), 'cloud controller: clc-a leads since 2025-01-02T03:04:05.000Z (term 7); followers: clc-b, clc-c; answered by follower clc-b');
  assert.equal(formatLeadership({ ...view, id: 'clc-a', role: 'leader', members: [member('clc-a')] }), 'cloud controller: clc-a leads since 2025-01-02T03:04:05.000Z (term 7); followers: none');
  // A member that stopped announcing itself (killed) is marked once `now` is given.
  assert.equal(formatLeadership({ ...view, members: [member('clc-a'), member('clc-b'), { ...member('clc-c'), seenAt: since - 9000 }] }, since + 1000), 'cloud controller: clc-a leads since 2025-01-02T03:04:05.000Z (term 7); followers: clc-b, clc-c (not seen for 10 s); answered by follower clc-b');
  const { leader: _none, ...noLeader } = view;
  assert.match(formatLeadership(noLeader), /^cloud controller: no CLC leads yet/);
  assert.match(formatStatus({ converged: false, clusters: [], clc: view }), /^cloud controller: clc-a leads/);
  const answer = toEc2Error(new UserError('DB_UNAVAILABLE', 'the database is unavailable', { status: 503 }), 'RunInstances');
  assert.deepEqual({ status: answer.status, code: answer.code, unexpected: answer.unexpected }, { status: 503, code: 'ServiceUnavailable', unexpected: false });
});
