/**
 * Two real `edgenet clc` processes on one PostgreSQL database (issue 16):
 * several hundred instance runs and public address allocations, split over
 * both CLCs' admin APIs and fired concurrently (16 in flight per CLC), never
 * hand out a private IP, MAC, instance id or public IP twice; the pools run
 * out cleanly (exactly pool-size allocations succeed, every other one is a
 * 409 ADDRESS_POOL_EXHAUSTED, never a 500); and the database afterwards holds
 * exactly what the successful answers said.
 *
 * The throwaway server comes from test/helpers/postgres.ts (needs root; a
 * loud skip without it, a failure under CI=true). Both CLCs share one token
 * file and one credentials key file, as operators share them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import pg from 'pg';
import { api, startClc, tempDir, type ApiResult, type ClcProcess } from '../unit/clc/harness.ts';
import { requirePostgres, startPostgres, type PgServer } from '../helpers/postgres.ts';

const PRIVATE_POOL = 120; // 10.61.0.10 - 10.61.0.129
const PUBLIC_POOL = 60; // 192.0.2.10 - 192.0.2.69
const RUNS = 200;
const ALLOCATIONS = 100;
const IN_FLIGHT = 16;

const CONFIG = {
  InstanceDnsServers: ['10.0.0.2'],
  MacPrefix: 'd0:0d',
  PublicIps: ['192.0.2.10-192.0.2.69'],
  Clusters: [{ Name: 'P1', Subnet: { Name: 'p1', Subnet: '10.61.0.0', Netmask: '255.255.0.0', Gateway: '10.61.0.1' }, PrivateIps: ['10.61.0.10-10.61.0.129'] }],
};
const NODES = ['10.0.0.11', '10.0.0.12', '10.0.0.13'];

interface Instance {
  id: string;
  mac: string;
  privateIp: string;
  node: string;
}
type Job = { kind: 'run' } | { kind: 'allocate' };
interface Outcome {
  readonly job: Job;
  readonly clc: string;
  readonly result: ApiResult;
}

/** Runs `jobs` against `clc` with at most `limit` requests in flight. */
async function drive(clc: ClcProcess, name: string, jobs: readonly Job[], limit: number): Promise<Outcome[]> {
  const out: Outcome[] = [];
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      const result = job.kind === 'run' ? await api(clc, 'POST', '/v1/instances', { cluster: 'P1', groups: ['g'] }) : await api(clc, 'POST', '/v1/addresses', {});
      out.push({ job, clc: name, result });
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return out;
}

function unique(values: readonly string[], what: string): void {
  const seen = new Set<string>();
  for (const v of values) {
    assert.equal(seen.has(v), false, `${what} ${v} handed out twice`);
    seen.add(v);
  }
}

test('two CLCs on one PostgreSQL: concurrent runs and allocations never collide, pools run out cleanly', { timeout: 300_000 }, async (t) => {
  if (!requirePostgres(t)) return;
  const { dir, cleanup } = tempDir('edgenet-pgcc-');
  let server: PgServer | undefined;
  const clcs: ClcProcess[] = [];
  try {
    server = await startPostgres();
    const url = await server.createDatabase('clc');
    const args = ['--db', url, '--credentials-key-file', path.join(dir, 'credentials.key'), '--metrics-listen', 'off'];
    const a = await startClc(dir, [...args, '--id', 'clc-a'], 'clc-a');
    clcs.push(a);
    const b = await startClc(dir, [...args, '--id', 'clc-b'], 'clc-b');
    clcs.push(b);
    assert.equal(b.token, a.token, 'both CLCs read the one token file');

    // Setup through both: each sees what the other wrote (one database).
    assert.equal((await api(a, 'PUT', '/v1/properties/cloud.network.network_configuration', { value: JSON.stringify(CONFIG) })).status, 200);
    assert.equal((await api(b, 'POST', '/v1/clusters', { name: 'P1', ccUrl: 'https://127.0.0.1:9/', ccIp: '127.0.0.1' })).status, 201);
    for (const [i, n] of NODES.entries()) assert.equal((await api(i % 2 ? a : b, 'POST', '/v1/clusters/P1/nodes', { name: n, ncUrl: `https://${n}:8775/` })).status, 201);
    assert.equal((await api(a, 'POST', '/v1/groups', { name: 'g' })).status, 201);

    // Interleaved runs and allocations, split half and half over the two CLCs.
    const jobs: Job[] = [];
    for (let i = 0; i < Math.max(RUNS, ALLOCATIONS); i++) {
      if (i < RUNS) jobs.push({ kind: 'run' });
      if (i < ALLOCATIONS) jobs.push({ kind: 'allocate' });
    }
    const forA = jobs.filter((_, i) => i % 4 < 2);
    const forB = jobs.filter((_, i) => i % 4 >= 2);
    const outcomes = (await Promise.all([drive(a, 'a', forA, IN_FLIGHT), drive(b, 'b', forB, IN_FLIGHT)])).flat();
    assert.equal(outcomes.length, RUNS + ALLOCATIONS);

    // Every answer is a success or a clean "pool exhausted": no 500, no other error.
    for (const o of outcomes) {
      if (o.result.status === 201) continue;
      assert.equal(o.result.status, 409, `${o.job.kind} via CLC ${o.clc}: ${JSON.stringify(o.result.body)}`);
      assert.equal(o.result.body?.error?.code, 'ADDRESS_POOL_EXHAUSTED', `${o.job.kind} via CLC ${o.clc}: ${JSON.stringify(o.result.body)}`);
    }
    const instances = outcomes.filter((o) => o.job.kind === 'run' && o.result.status === 201).map((o) => o.result.body as Instance);
    const addresses = outcomes.filter((o) => o.job.kind === 'allocate' && o.result.status === 201).map((o) => (o.result.body as { ip: string }).ip);
    assert.equal(instances.length, PRIVATE_POOL, 'exactly the private pool size of runs succeed');
    assert.equal(addresses.length, PUBLIC_POOL, 'exactly the public pool size of allocations succeed');
    // Both CLCs handed out addresses (the load really was split).
    for (const name of ['a', 'b']) {
      assert.ok(outcomes.some((o) => o.clc === name && o.job.kind === 'run' && o.result.status === 201), `CLC ${name} ran instances`);
      assert.ok(outcomes.some((o) => o.clc === name && o.job.kind === 'allocate' && o.result.status === 201), `CLC ${name} allocated addresses`);
    }
    unique(instances.map((i) => i.id), 'instance id');
    unique(instances.map((i) => i.mac), 'MAC');
    unique(instances.map((i) => i.privateIp), 'private IP');
    unique(addresses, 'public IP');
    unique([...instances.map((i) => i.privateIp), ...addresses], 'address');

    // The database agrees with the answers, row for row.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const rows = (await client.query<{ id: string; mac: string; private_ip: string }>('SELECT id, mac, private_ip FROM instances ORDER BY id')).rows;
      assert.deepEqual(
        rows.map((r) => ({ id: r.id, mac: r.mac, privateIp: r.private_ip })),
        instances.map((i) => ({ id: i.id, mac: i.mac, privateIp: i.privateIp })).sort((x, y) => (x.id < y.id ? -1 : 1)),
      );
      const publics = (await client.query<{ ip: string }>('SELECT ip FROM public_addresses')).rows.map((r) => r.ip).sort();
      assert.deepEqual(publics, [...addresses].sort());
      const leases = (await client.query<{ ip: string; pool: string; state: string; holder: string }>('SELECT ip, pool, state, holder FROM ip_leases')).rows;
      assert.equal(leases.length, PRIVATE_POOL + PUBLIC_POOL);
      for (const l of leases) assert.equal(l.state, 'allocated', `${l.ip}`);
      const byIp = new Map(leases.map((l) => [l.ip, l]));
      for (const i of instances) assert.deepEqual([byIp.get(i.privateIp)?.pool, byIp.get(i.privateIp)?.holder], ['cluster:P1', i.id]);
      for (const ip of addresses) assert.equal(byIp.get(ip)?.pool, 'public');
      const groups = (await client.query<{ n: string }>('SELECT count(*) AS n FROM instance_groups')).rows[0]!.n;
      assert.equal(Number(groups), PRIVATE_POOL);
    } finally {
      await client.end();
    }

    // And each CLC's API lists the same state.
    for (const clc of [a, b]) {
      const listed = (await api<{ instances: Instance[] }>(clc, 'GET', '/v1/instances')).body.instances;
      assert.deepEqual(listed.map((i) => i.id).sort(), instances.map((i) => i.id).sort());
      const ipam = (await api(clc, 'GET', '/v1/ipam?cluster=P1')).body;
      assert.equal(ipam.pools[0].allocated, PRIVATE_POOL);
    }
    for (const clc of clcs.splice(0)) assert.deepEqual(await clc.stop(), { code: 0, signal: undefined }, `${clc.logFile}: a clean stop`);
  } finally {
    for (const clc of clcs) await clc.stop('SIGKILL');
    server?.stop();
    cleanup();
  }
});
