/**
 * `instance run --mac` against a fake CLC: the MAC (with --private-ip) goes
 * to POST /v1/instances as `mac`, the instance printed with it; a refusal of
 * the CLC (MAC_IN_USE) is the command's error, exit 1; --help documents it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cliSandbox } from './cli-sandbox.ts';
import { startFakeClc } from './fake-clc.ts';

const { baseEnv, run } = cliSandbox('edgenet-cli-mac-');

const V6 = '2001:db8:50:0:d20d:aff:fe0b:c0d';
const moved = { id: 'i-00000002', ownerId: '000000000001', cluster: 'C1', node: '10.0.0.8', mac: 'd0:0d:0a:0b:0c:0d', privateIp: '10.50.0.10', groups: ['sg-1'], ipv6: V6, interface: 'vn_i-00000002', createdAt: '2024-01-01T00:00:00.000Z' };

test('instance run --mac sends the MAC; the CLC\'s MAC_IN_USE is the command\'s error; --help shows it', { timeout: 120_000 }, async () => {
  const fake = await startFakeClc({ 'POST /v1/instances': { status: 201, body: moved } });
  const taken = await startFakeClc({
    'POST /v1/instances': { status: 409, body: { error: { code: 'MAC_IN_USE', message: 'd0:0d:0a:0b:0c:0d is already the MAC of instance i-00000001', details: { instance: 'i-00000001' } } } },
  });
  try {
    const env = { ...baseEnv, EDGENET_URL: fake.url, EDGENET_TOKEN: 't' };
    const ran = await run(['instance', 'run', '--node', '10.0.0.8', '--group', 'web', '--private-ip', '10.50.0.10', '--mac', 'D0:0D:0A:0B:0C:0D'], env);
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout.trimEnd(), `INSTANCE\ti-00000002\tC1\t10.0.0.8\td0:0d:0a:0b:0c:0d\t10.50.0.10\t-\tsg-1\tvn_i-00000002\t${V6}`);
    // Sent as given: the CLC validates and canonicalizes (one rule for the API and the CLI).
    assert.deepEqual(fake.seen.at(-1)?.body, { node: '10.0.0.8', groups: ['web'], privateIp: '10.50.0.10', mac: 'D0:0D:0A:0B:0C:0D' });
    await run(['instance', 'run', '--group', 'web'], env);
    assert.deepEqual(fake.seen.at(-1)?.body, { groups: ['web'] }, 'no mac without --mac');

    const refused = await run(['instance', 'run', '--group', 'web', '--mac', 'd0:0d:0a:0b:0c:0d', '--json'], { ...env, EDGENET_URL: taken.url });
    assert.equal(refused.code, 1);
    const error = (JSON.parse(refused.stdout) as { error: { code: string; details?: unknown } }).error;
    assert.equal(error.code, 'MAC_IN_USE');
    assert.deepEqual(error.details, { instance: 'i-00000001' });

    const help = await run(['instance', 'run', '--help'], env);
    assert.equal(help.code, 0, help.stderr);
    // Wrapped to the terminal's width: compared with blanks collapsed.
    assert.match(help.stdout.replace(/\s+/g, ' '), /--mac <MAC> ask for this MAC \(unicast, in the cluster's MacPrefix; its EUI-64 is the instance's IPv6 address\)/);
  } finally {
    await fake.close();
    await taken.close();
  }
});
