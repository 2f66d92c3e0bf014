/**
 * The CLI's IPv6 display (issue 14), against a fake CLC: `instance list` adds
 * a last IPV6 column only when some listed instance is dual-stack (an
 * IPv4-only list keeps its columns), `instance show` prints one instance with
 * its address, `ipam show` prints each dual-stack cluster's /64 and addresses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cliSandbox } from './cli-sandbox.ts';
import { startFakeClc } from './fake-clc.ts';

const { baseEnv, run } = cliSandbox('edgenet-cli-v6-');

const V6 = '2001:db8:10:0:d20d:ff:fe00:1';
const instance = (id: string, ip: string, ipv6?: string) => ({
  id, ownerId: '000000000001', cluster: 'C1', node: '10.0.0.7', mac: 'd0:0d:00:00:00:01', privateIp: ip, groups: ['sg-1'], ...(ipv6 ? { ipv6 } : {}), interface: `vn_${id}`, createdAt: '2024-01-01T00:00:00.000Z',
});

test('instance list/show and ipam show with and without IPv6', { timeout: 120_000 }, async () => {
  const dual = [instance('i-00000001', '10.1.0.10', V6), instance('i-00000002', '10.2.0.10')];
  const plain = [instance('i-00000003', '10.1.0.11')];
  const pool = { pool: 'cluster:C1', kind: 'private', cluster: 'C1', ranges: ['10.1.0.10-10.1.0.11'], size: 2, free: 1, allocated: 1, held: 0, reserved: 0, map: 'X.' };
  const ipam = { strategy: 'first-free', pools: [pool], holds: [], reservations: [], outsidePools: [], ipv6: [{ cluster: 'C1', prefix: '2001:db8:10::/64', dnsServers: ['2001:db8::53'], instances: [{ id: 'i-00000001', mac: 'd0:0d:00:00:00:01', ipv6: V6 }] }] };
  const fake = await startFakeClc({
    'GET /v1/instances': { status: 200, body: { instances: dual } },
    'GET /v1/instances/i-00000001': { status: 200, body: dual[0] },
    'GET /v1/ipam': { status: 200, body: ipam },
  });
  const fakePlain = await startFakeClc({
    'GET /v1/instances': { status: 200, body: { instances: plain } },
    'GET /v1/ipam': { status: 200, body: { ...ipam, ipv6: undefined } },
  });
  const env = { ...baseEnv, EDGENET_URL: fake.url, EDGENET_TOKEN: 't' };
  const envPlain = { ...baseEnv, EDGENET_URL: fakePlain.url, EDGENET_TOKEN: 't' };
  try {
    const table = await run(['instance', 'list'], env);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /GROUPS\s+IPV6$/);
    assert.ok(lines[1]!.endsWith(V6));
    assert.ok(lines[2]!.endsWith('-'));
    const tsv = await run(['instance', 'list', '--output', 'tsv'], env);
    assert.deepEqual(tsv.stdout.trimEnd().split('\n').map((l) => l.split('\t').slice(8)), [[V6], ['-']]);
    assert.deepEqual(JSON.parse((await run(['instance', 'list', '--json'], env)).stdout)[0].ipv6, V6);
    const plainTable = await run(['instance', 'list'], envPlain);
    assert.match(plainTable.stdout.split('\n')[0]!, /GROUPS$/);
    assert.equal((await run(['instance', 'list', '--output', 'tsv'], envPlain)).stdout.trimEnd().split('\t').length, 8);
    const show = await run(['instance', 'show', 'i-00000001'], env);
    assert.equal(show.code, 0, show.stderr);
    assert.equal(show.stdout.trimEnd(), `INSTANCE\ti-00000001\tC1\t10.0.0.7\td0:0d:00:00:00:01\t10.1.0.10\t-\tsg-1\tvn_i-00000001\t${V6}`);
    const ipamOut = await run(['ipam', 'show'], env);
    assert.equal(ipamOut.code, 0, ipamOut.stderr);
    assert.match(ipamOut.stdout, /ipv6 cluster:C1 {2}prefix 2001:db8:10::\/64 {2}dns 2001:db8::53/);
    assert.match(ipamOut.stdout, new RegExp(` {2}${V6} {2}i-00000001 {2}d0:0d:00:00:00:01`));
    assert.ok(!(await run(['ipam', 'show'], envPlain)).stdout.includes('ipv6'));
  } finally {
    await fake.close();
    await fakePlain.close();
  }
});
