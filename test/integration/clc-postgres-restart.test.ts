/**
 * PostgreSQL restarting under a burst of writes (issue 16): a real
 * `edgenet clc` on a throwaway server keeps receiving writes (security groups
 * with unique names, instance runs each asking for its own private IP, so
 * every attempt can be found in the database or not) from 8 concurrent
 * clients while the test stops the server (fast, then immediate = crash of
 * the server process) and starts it again, and restarts it (pg_ctl restart).
 *
 * Afterwards: every write answered 2xx is in the database; every failed one
 * was answered with a clear error — 503 DB_UNAVAILABLE, and then it is NOT
 * in the database, or DB_COMMIT_UNKNOWN (the outcome could not be learnt;
 * either way is accepted for it) — never a 500 of anything else; the same
 * CLC process, never restarted, answers writes again once the server is back.
 *
 * A restart can also cut the one moment that matters most, the COMMIT: a
 * proxy between the store and the server drops the connection exactly
 * there, once after PostgreSQL committed (the answer is lost: the store must
 * learn from its commit token that the write is done) and once before (the
 * store must report DB_UNAVAILABLE, and nothing is there).
 */
import { waitFor as poll } from '../../src/shared/wait.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import pg from 'pg';
import { Store } from '../../src/cloud-controller/db/store.ts';
import type { StateChange } from '../../src/cloud-controller/contracts.ts';
import { api, startClc, tempDir, type ClcProcess } from '../unit/clc/harness.ts';
import { requirePostgres, startPostgres, type PgServer } from '../helpers/postgres.ts';
import { formatIp, parseIp } from '../../src/shared/ip.ts';

const CONFIG = {
  InstanceDnsServers: ['10.0.0.2'],
  MacPrefix: 'd0:0e',
  PublicIps: ['192.0.2.10-192.0.2.20'],
  Clusters: [{ Name: 'P1', Subnet: { Name: 'p1', Subnet: '10.62.0.0', Netmask: '255.255.0.0', Gateway: '10.62.0.1' }, PrivateIps: ['10.62.0.10-10.62.255.250'] }],
};
const WRITERS = 8;
/** Successful writes to see between disturbances (and after the last one: the CLC serves again). */
const SUCCESSES_BETWEEN = 24;

interface Attempt {
  readonly kind: 'group' | 'run';
  /** The group's name, or the private IP the run asked for: how the attempt is found in the database. */
  readonly key: string;
  readonly status: number;
  readonly code?: string;
  readonly body: unknown;
  readonly instanceId?: string;
}

async function until(what: string, condition: () => boolean, deadlineMs = 60_000): Promise<void> {
  await poll(condition, { what, timeoutMs: deadlineMs, intervalMs: 20 });
}

test('PostgreSQL stopped, crashed and restarted during a burst of writes: acknowledged writes are there, failed ones are reported and absent, the CLC serves again', { timeout: 300_000 }, async (t) => {
  if (!requirePostgres(t)) return;
  const { dir, cleanup } = tempDir('edgenet-pgrs-');
  let server: PgServer | undefined;
  let clc: ClcProcess | undefined;
  let stopWriters = false;
  let writers: Promise<void>[] = [];
  try {
    // synchronous_commit on: a COMMIT answered is in the OS, so it survives the server's crash (stop -m immediate).
    server = await startPostgres({ durability: 'crash' });
    const url = await server.createDatabase('clc');
    clc = await startClc(dir, ['--db', url, '--credentials-key-file', path.join(dir, 'credentials.key'), '--metrics-listen', 'off']);
    const c = clc;
    assert.equal((await api(c, 'PUT', '/v1/properties/cloud.network.network_configuration', { value: JSON.stringify(CONFIG) })).status, 200);
    assert.equal((await api(c, 'POST', '/v1/clusters', { name: 'P1', ccUrl: 'https://127.0.0.1:9/', ccIp: '127.0.0.1' })).status, 201);
    assert.equal((await api(c, 'POST', '/v1/clusters/P1/nodes', { name: '10.0.0.11', ncUrl: 'https://10.0.0.11:8775/' })).status, 201);
    assert.equal((await api(c, 'POST', '/v1/groups', { name: 'g' })).status, 201);

    const attempts: Attempt[] = [];
    let counter = 0;
    const firstIp = parseIp('10.62.0.10')!;
    const writer = async (w: number) => {
      for (let i = 0; !stopWriters; i++) {
        const k = counter++;
        const kind = (i + w) % 2 === 0 ? 'group' : 'run';
        const key = kind === 'group' ? `burst-${k}` : formatIp(firstIp + k);
        // A transport failure (the CLC died, or closed the connection) is an answer too: status 0, and the test fails on it.
        const r = await (kind === 'group' ? api(c, 'POST', '/v1/groups', { name: key }) : api(c, 'POST', '/v1/instances', { cluster: 'P1', groups: ['g'], privateIp: key })).catch((err: Error) => ({
          status: 0,
          body: { error: { code: 'NO_ANSWER', message: `${err.message}: ${String((err.cause as Error | undefined)?.message)}` } },
        }));
        const code = (r.body as { error?: { code?: string } })?.error?.code;
        attempts.push({ kind, key, status: r.status, body: r.body, ...(code ? { code } : {}), ...(kind === 'run' && r.status === 201 ? { instanceId: (r.body as { id: string }).id } : {}) });
        // While the server is down the answers come at once: do not spin.
        if (r.status >= 300) await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    const successes = () => attempts.filter((a) => a.status < 300).length;
    const unavailable = () => attempts.filter((a) => a.code === 'DB_UNAVAILABLE').length;
    writers = Array.from({ length: WRITERS }, (_, w) => writer(w));

    const disturbances: Array<() => Promise<void>> = [
      // Fast shutdown (sessions terminated, in-flight transactions rolled back), down for a while, back.
      async () => {
        server!.stopServer('fast');
        const failed = unavailable();
        await until('writes refused while the server is down', () => unavailable() >= failed + 2 * WRITERS, 20_000).catch(() => undefined);
        server!.startServer();
      },
      // pg_ctl restart: down for a moment only.
      async () => server!.restart(),
      // Immediate shutdown: the server processes quit without a checkpoint (crash recovery at start).
      async () => {
        server!.stopServer('immediate');
        const failed = unavailable();
        await until('writes refused while the server is down', () => unavailable() >= failed + 2 * WRITERS, 20_000).catch(() => undefined);
        server!.startServer();
      },
    ];
    for (const disturb of disturbances) {
      const before = successes();
      await until(`${SUCCESSES_BETWEEN} acknowledged writes`, () => successes() >= before + SUCCESSES_BETWEEN);
      await disturb();
    }
    const after = successes();
    await until('acknowledged writes after the last restart (the CLC serves again)', () => successes() >= after + SUCCESSES_BETWEEN);
    stopWriters = true;
    await Promise.all(writers);

    // Every answer is a success or a clear database error.
    const clear = new Set(['DB_UNAVAILABLE', 'DB_COMMIT_UNKNOWN']);
    for (const a of attempts) {
      if (a.status === 201) continue;
      assert.ok(a.code !== undefined && clear.has(a.code), `${a.kind} ${a.key}: ${a.status} ${JSON.stringify(a.body)}`);
      if (a.code === 'DB_UNAVAILABLE') assert.equal(a.status, 503, `${a.kind} ${a.key}: ${JSON.stringify(a.body)}`);
    }
    assert.ok(unavailable() > 0, 'some writes were refused while the server was down (the test disturbed the burst)');

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    let groups: Set<string>;
    let instances: Map<string, string>;
    try {
      groups = new Set((await client.query<{ name: string }>("SELECT name FROM security_groups WHERE name LIKE 'burst-%'")).rows.map((r) => r.name));
      instances = new Map((await client.query<{ private_ip: string; id: string }>('SELECT private_ip, id FROM instances')).rows.map((r) => [r.private_ip, r.id]));
    } finally {
      await client.end();
    }
    let unknown = 0;
    for (const a of attempts) {
      const there = a.kind === 'group' ? groups.has(a.key) : instances.has(a.key);
      if (a.status === 201) {
        assert.ok(there, `${a.kind} ${a.key} was acknowledged but is not in the database`);
        if (a.kind === 'run') assert.equal(instances.get(a.key), a.instanceId);
      } else if (a.code === 'DB_UNAVAILABLE') {
        assert.equal(there, false, `${a.kind} ${a.key} was refused (DB_UNAVAILABLE) but is in the database`);
      } else unknown++;
    }
    // Nothing in the database that no attempt made (beyond the ones whose outcome was unknown).
    const made = attempts.filter((a) => a.status === 201);
    assert.ok(groups.size + instances.size - made.length <= unknown, `${groups.size + instances.size - made.length} rows beyond the acknowledged writes, ${unknown} unknown outcomes`);
    t.diagnostic(`${attempts.length} writes: ${made.length} acknowledged, ${unavailable()} DB_UNAVAILABLE, ${unknown} DB_COMMIT_UNKNOWN`);

    // The CLC logged no unexpected failure (a stack trace) and is still the same process.
    const log = fs.readFileSync(c.logFile, 'utf8');
    assert.deepEqual(log.split('\n').filter((l) => l.includes('"stack"')), [], 'no stack trace in the CLC log');
    assert.deepEqual(await c.stop(), { code: 0, signal: undefined }, `${c.logFile}: a clean stop`);
    clc = undefined;
  } catch (err) {
    if (clc) (err as Error).message += `\n--- CLC log (tail) ---\n${fs.readFileSync(clc.logFile, 'utf8').slice(-6000)}`;
    throw err;
  } finally {
    stopWriters = true;
    await Promise.allSettled(writers);
    await clc?.stop('SIGKILL');
    server?.stop();
    cleanup();
  }
});

/**
 * A TCP proxy in front of the server that, when armed, drops the connection
 * at a COMMIT: `before` when the client sends it (PostgreSQL never sees it),
 * `after` when PostgreSQL answers it (it committed; the answer never arrives),
 * `late`: the client's side at once, and the COMMIT reaches PostgreSQL only
 * 300 ms later (a connection lost while the server was still committing, a
 * slow WAL flush: the client asks before the outcome is decided).
 */
interface CommitCutter {
  readonly port: number;
  arm(when: 'before' | 'after' | 'late'): void;
  /** How many connections were cut. */
  readonly cuts: number;
  close(): Promise<void>;
}

/** Splits a PostgreSQL protocol stream into messages (the client's first message, the startup packet, has no type byte). */
function messages(untypedFirst: boolean, onMessage: (type: number | undefined, payload: Buffer, raw: Buffer) => boolean): (chunk: Buffer) => Buffer[] {
  let pending = Buffer.alloc(0);
  let first = untypedFirst;
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      const head = first ? 0 : 1;
      if (pending.length < head + 4) break;
      const size = head + pending.readInt32BE(head);
      if (pending.length < size) break;
      const raw = pending.subarray(0, size);
      pending = pending.subarray(size);
      const type = first ? undefined : raw[0];
      first = false;
      if (!onMessage(type, raw.subarray(head + 4), raw)) return [];
      out.push(raw);
    }
    return out;
  };
}

async function startCommitCutter(targetPort: number): Promise<CommitCutter> {
  let armed: 'before' | 'after' | 'late' | undefined;
  let cuts = 0;
  const sockets = new Set<net.Socket>();
  const isCommit = (payload: Buffer, text: string) => payload.toString('utf8').replace(/\0+$/, '').trim().toUpperCase() === text;
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    const cut = () => {
      armed = undefined;
      cuts++;
      client.destroy();
      upstream.destroy();
      return false;
    };
    // A late COMMIT: the client's side is gone, the server's stays open until PostgreSQL answered it.
    let late = false;
    // 'Q' = simple query (Kysely's `commit` has no parameters); 'C' = CommandComplete.
    const fromClient = messages(true, (type, payload, raw) => {
      if (armed === undefined || armed === 'after' || type !== 0x51 || !isCommit(payload, 'COMMIT')) return true;
      if (armed === 'before') return cut();
      armed = undefined;
      cuts++;
      late = true;
      client.destroy();
      const commit = Buffer.from(raw);
      setTimeout(() => upstream.write(commit), 300);
      return false;
    });
    const fromServer = messages(false, (type, payload) => {
      if (late && type === 0x43) upstream.destroy();
      if (late) return false;
      return armed === 'after' && type === 0x43 && isCommit(payload, 'COMMIT') ? cut() : true;
    });
    client.on('data', (chunk: Buffer) => {
      for (const m of fromClient(chunk)) upstream.write(m);
    });
    upstream.on('data', (chunk: Buffer) => {
      for (const m of fromServer(chunk)) client.write(m);
    });
    client.on('close', () => {
      if (!late) upstream.destroy();
    });
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    arm: (when) => (armed = when),
    get cuts() {
      return cuts;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

test('a COMMIT cut off by the connection: done when PostgreSQL committed (commit token), DB_UNAVAILABLE and absent when it did not', { timeout: 120_000 }, async (t) => {
  if (!requirePostgres(t)) return;
  let server: PgServer | undefined;
  let cutter: CommitCutter | undefined;
  let store: Store | undefined;
  try {
    server = await startPostgres();
    const direct = await server.createDatabase('tokens');
    cutter = await startCommitCutter(server.port);
    store = await Store.open(direct.replace(`:${server.port}/`, `:${cutter.port}/`), { listen: false });
    const announced: StateChange[] = [];
    store.onChange((c) => announced.push(c));
    const s = store;
    const setProperty = (name: string) =>
      s.write(async (tx) => {
        await tx.db.insertInto('properties').values({ name, value: 'x', updated_at: 1 }).execute();
        tx.changed({ kind: 'property', name });
        return `wrote ${name}`;
      });
    const inDatabase = async (name: string) => {
      const client = new pg.Client({ connectionString: direct });
      await client.connect();
      try {
        return (await client.query('SELECT 1 FROM properties WHERE name = $1', [name])).rowCount === 1;
      } finally {
        await client.end();
      }
    };

    // The answer to a COMMIT that happened is lost: the write is reported done, and announced.
    cutter.arm('after');
    assert.equal(await setProperty('test.after'), 'wrote test.after');
    assert.equal(cutter.cuts, 1, 'the proxy cut the COMMIT answer');
    assert.equal(await inDatabase('test.after'), true);
    assert.deepEqual(announced, [{ kind: 'property', name: 'test.after' }]);

    // The COMMIT never reached PostgreSQL: DB_UNAVAILABLE (503), nothing there, nothing announced.
    cutter.arm('before');
    await assert.rejects(setProperty('test.before'), (err: { code?: string; status?: number }) => err.code === 'DB_UNAVAILABLE' && err.status === 503);
    assert.equal(cutter.cuts, 2, 'the proxy cut the COMMIT');
    assert.equal(await inDatabase('test.before'), false);
    assert.equal(announced.length, 1);

    // The connection is lost while PostgreSQL has yet to commit (the COMMIT arrives 300 ms later): the store must
    // not answer before the outcome is decided — it waits for that transaction to end, then finds its token.
    cutter.arm('late');
    assert.equal(await setProperty('test.late'), 'wrote test.late');
    assert.equal(cutter.cuts, 3, 'the proxy cut the client off before the COMMIT reached the server');
    assert.equal(await inDatabase('test.late'), true);
    assert.deepEqual(announced, [{ kind: 'property', name: 'test.after' }, { kind: 'property', name: 'test.late' }]);

    // The store goes on (the pool replaced the cut connections).
    assert.equal(await setProperty('test.later'), 'wrote test.later');
    assert.equal(await inDatabase('test.later'), true);
  } finally {
    await store?.close();
    await cutter?.close();
    server?.stop();
  }
});
