/**
 * The CLI for ROUTED instances (issue 17), against a fake CLC: `instance run
 * --user-data-file` sends the file's bytes base64 (binary kept), refuses a
 * file over 16 KiB or an unreadable one before anything is sent; an instance
 * without a private IP (IPv6-only) lists and shows `-` in that column and
 * terminates without a hold message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { cliSandbox } from './cli-sandbox.ts';
import { startFakeClc } from './fake-clc.ts';

const { baseEnv, dir, run } = cliSandbox('edgenet-cli-routed-');

const V6 = '2001:db8:51:0:a8bb:ff:fe00:1';
const v6only = { id: 'i-00000001', ownerId: '000000000001', cluster: 'C2', node: '10.0.1.7', mac: 'aa:bb:00:00:00:01', groups: ['sg-1'], ipv6: V6, interface: 'vn_i-00000001', createdAt: '2024-01-01T00:00:00.000Z' };

test('instance run --user-data-file, and an instance without a private IP in run, list, show and terminate', { timeout: 120_000 }, async () => {
  const fake = await startFakeClc({
    'POST /v1/instances': { status: 201, body: { ...v6only, userData: 'AAEC' } },
    'GET /v1/instances': { status: 200, body: { instances: [v6only] } },
    'GET /v1/instances/i-00000001': { status: 200, body: v6only },
    'DELETE /v1/instances/i-00000001': { status: 200, body: { terminated: v6only } },
  });
  const env = { ...baseEnv, EDGENET_URL: fake.url, EDGENET_TOKEN: 't' };
  try {
    const file = path.join(dir, 'user-data.bin');
    const bytes = Buffer.from([0x1f, 0x8b, 0x00, 0xff, 0x0a, 0x23]);
    writeFileSync(file, bytes);
    const ran = await run(['instance', 'run', '--cluster', 'C2', '--group', 'web', '--user-data-file', file], env);
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout.trimEnd(), `INSTANCE\ti-00000001\tC2\t10.0.1.7\taa:bb:00:00:00:01\t-\t-\tsg-1\tvn_i-00000001\t${V6}`);
    assert.deepEqual(fake.seen.at(-1)?.body, { cluster: 'C2', groups: ['web'], userData: bytes.toString('base64') });

    const sent = fake.seen.length;
    const big = path.join(dir, 'big');
    writeFileSync(big, Buffer.alloc(16 * 1024 + 1));
    const tooBig = await run(['instance', 'run', '--group', 'web', '--user-data-file', big, '--json'], env);
    assert.equal(tooBig.code, 2, 'a usage error');
    assert.equal((JSON.parse(tooBig.stdout) as { error: { code: string } }).error.code, 'InvalidParameterValue');
    const missing = await run(['instance', 'run', '--group', 'web', '--user-data-file', path.join(dir, 'nope'), '--json'], env);
    assert.equal(missing.code, 2);
    assert.equal((JSON.parse(missing.stdout) as { error: { code: string } }).error.code, 'FILE_UNREADABLE');
    assert.equal(fake.seen.length, sent, 'nothing was sent');
    writeFileSync(big, Buffer.alloc(16 * 1024, 0x41));
    assert.equal((await run(['instance', 'run', '--group', 'web', '--user-data-file', big], env)).code, 0, '16 KiB exactly is allowed');

    const list = await run(['instance', 'list', '--output', 'tsv'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(list.stdout.trimEnd().split('\t'), ['i-00000001', '000000000001', 'C2', '10.0.1.7', 'aa:bb:00:00:00:01', '-', '-', 'sg-1', V6]);
    const show = await run(['instance', 'show', 'i-00000001'], env);
    assert.match(show.stdout, /^INSTANCE\ti-00000001\tC2\t10\.0\.1\.7\taa:bb:00:00:00:01\t-\t/);
    const ended = await run(['instance', 'terminate', 'i-00000001'], env);
    assert.equal(ended.code, 0, ended.stderr);
    assert.equal(ended.stdout.trimEnd(), 'terminated i-00000001 (it had no private IP: IPv6-only)');
  } finally {
    await fake.close();
  }
});
