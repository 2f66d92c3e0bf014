import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseListen } from '../../../src/cli/commands/clc.ts';
import { parseAssignment } from '../../../src/cli/commands/property.ts';
import { describeRule, mapLines, table } from '../../../src/cli/commands/cloud-state.ts';
import { apiClient, DEFAULT_CLC_URL } from '../../../src/cli/api-client.ts';
import { CliExit, type CliContext } from '../../../src/cli/context.ts';

test('parseListen accepts HOST:PORT, [v6]:PORT, :PORT, PORT and refuses the rest', () => {
  assert.deepEqual(parseListen('127.0.0.1:8770'), { host: '127.0.0.1', port: 8770 });
  assert.deepEqual(parseListen('0.0.0.0:0'), { host: '0.0.0.0', port: 0 });
  assert.deepEqual(parseListen('[::1]:9'), { host: '::1', port: 9 });
  assert.deepEqual(parseListen(':8000'), { host: '127.0.0.1', port: 8000 });
  assert.deepEqual(parseListen('8000'), { host: '127.0.0.1', port: 8000 });
  for (const bad of ['host', '1.2.3.4:', '1.2.3.4:70000', 'a:b']) assert.throws(() => parseListen(bad), (e: unknown) => e instanceof CliExit && e.exitCode === 2, bad);
});

test('parseAssignment: NAME=VALUE, NAME=@FILE, errors', async () => {
  assert.deepEqual(await parseAssignment('a.b=c=d'), { name: 'a.b', value: 'c=d' });
  assert.deepEqual(await parseAssignment('a.b='), { name: 'a.b', value: '' });
  const dir = mkdtempSync(path.join(tmpdir(), 'h2-cli-'));
  try {
    writeFileSync(path.join(dir, 'v.json'), '{"x": 1}\n');
    assert.deepEqual(await parseAssignment(`n=@${path.join(dir, 'v.json')}`), { name: 'n', value: '{"x": 1}\n' });
    await assert.rejects(parseAssignment(`n=@${path.join(dir, 'missing')}`), (e: unknown) => e instanceof CliExit && e.exitCode === 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await assert.rejects(parseAssignment('novalue'), (e: unknown) => e instanceof CliExit && e.exitCode === 2);
  await assert.rejects(parseAssignment('=x'), (e: unknown) => e instanceof CliExit);
});

test('ipam map lines are labelled with the first address of each line, across ranges', () => {
  const map = 'X'.repeat(3) + '.'.repeat(5);
  assert.deepEqual(mapLines(['10.0.0.1-10.0.0.3', '10.0.1.10-10.0.1.14'], map, 4), ['  10.0.0.1        XXX.', '  10.0.1.11       ....']);
});

test('rule and table rendering', () => {
  assert.equal(describeRule({ protocolName: 'tcp', fromPort: 22, toPort: 22, cidr: '0.0.0.0/0' }), 'tcp 22 from 0.0.0.0/0');
  assert.equal(describeRule({ protocolName: 'icmp', icmpType: -1, icmpCode: -1, sourceGroupId: 'sg-1', sourceGroupDeleted: true }), 'icmp -1:-1 from group sg-1 [deleted group: not broadcast]');
  assert.equal(table([['A', 'BB'], ['ccc', 'd']]), 'A    BB\nccc  d');
});

test('apiClient: flag beats env beats defaults; unreachable CLC has a clear message', async () => {
  const ctx: CliContext = { env: { EDGENET_URL: 'http://127.0.0.1:9', EDGENET_TOKEN: 't', EDGENET_STATE_DIR: '/nonexistent' }, out: () => {}, err: () => {}, signal: new AbortController().signal, setExitCode: () => {} };
  await assert.rejects(apiClient(ctx, {}).request('GET', '/v1/properties'), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'CLC_UNREACHABLE');
    assert.match(e.message, /cannot reach the cloud controller at http:\/\/127\.0\.0\.1:9 \(is `edgenet clc` running\?\)/);
    return true;
  });
  await assert.rejects(apiClient(ctx, { url: 'http://127.0.0.1:7/' }).request('GET', '/v1/properties'), /at http:\/\/127\.0\.0\.1:7 \(/);
  // Without flag or env the default is the local CLC's default port (not called: one may be running here).
  assert.equal(DEFAULT_CLC_URL, 'http://127.0.0.1:8770');
});
