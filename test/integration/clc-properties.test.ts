/**
 * The real `edgenet clc` process over HTTP: an invalid set leaves value and
 * history untouched, concurrent sets never interleave, a restart (graceful or
 * kill -9) keeps every property.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, startClc, tempDir } from '../unit/clc/harness.ts';
import { configText } from '../unit/clc/fixture.ts';

const NC = 'cloud.network.network_configuration';

test('invalid set over HTTP changes neither value nor history', async () => {
  const { dir, cleanup } = tempDir();
  const clc = await startClc(dir);
  try {
    assert.equal((await api(clc, 'PUT', `/v1/properties/${NC}`, { value: configText() })).status, 200);
    const before = await api(clc, 'GET', `/v1/properties/${NC}`);
    const historyBefore = await api(clc, 'GET', `/v1/properties/${NC}/history`);
    const bad = await api(clc, 'PUT', `/v1/properties/${NC}`, { value: configText((c) => ({ ...c, PublicIps: ['10.1.0.10'] })) });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'INVALID_PROPERTY');
    assert.ok(bad.body.error.diagnostics.length > 0);
    const malformed = await api(clc, 'PUT', `/v1/properties/${NC}`, { value: '{"Clusters": [}' });
    assert.equal(malformed.status, 400);
    const badInt = await api(clc, 'PUT', '/v1/properties/cloud.network.broadcast_interval', { value: 'often' });
    assert.equal(badInt.body.error.code, 'INVALID_PROPERTY');
    assert.deepEqual(await api(clc, 'GET', `/v1/properties/${NC}`), before);
    assert.deepEqual(await api(clc, 'GET', `/v1/properties/${NC}/history`), historyBefore);
    assert.equal((await api(clc, 'GET', '/v1/properties/cloud.network.broadcast_interval/history')).body.history.length, 0);
  } finally {
    await clc.stop();
    cleanup();
  }
});

test('concurrent sets never interleave: history is one unbroken chain', async () => {
  const { dir, cleanup } = tempDir();
  const clc = await startClc(dir);
  try {
    const values = Array.from({ length: 100 }, (_, i) => String(1000 + i));
    const results = await Promise.all(
      values.flatMap((v, i) => [
        api(clc, 'PUT', '/v1/properties/cloud.network.address_hold_timeout', { value: v }),
        // Interleave invalid sets and sets of another property.
        api(clc, 'PUT', '/v1/properties/cloud.network.address_hold_timeout', { value: `bad${i}` }),
        api(clc, 'PUT', '/v1/properties/cloud.network.min_broadcast_interval', { value: String(i) }),
      ]),
    );
    assert.equal(results.filter((r) => r.status === 200).length, 200);
    assert.equal(results.filter((r) => r.status === 400).length, 100);
    const { body } = await api(clc, 'GET', '/v1/properties/cloud.network.address_hold_timeout/history');
    assert.equal(body.history.length, 100);
    assert.equal(body.history[0].oldValue, undefined);
    for (let i = 1; i < body.history.length; i++) assert.equal(body.history[i].oldValue, body.history[i - 1].newValue);
    assert.deepEqual([...body.history.map((h: { newValue: string }) => h.newValue)].sort(), values);
    const current = await api(clc, 'GET', '/v1/properties/cloud.network.address_hold_timeout');
    assert.equal(current.body.value, body.history.at(-1).newValue);
  } finally {
    await clc.stop();
    cleanup();
  }
});

test('a restart keeps every property (graceful stop and kill -9)', async () => {
  const { dir, cleanup } = tempDir();
  let clc = await startClc(dir);
  try {
    const values: Record<string, string> = {
      [NC]: configText(),
      'cloud.vmstate.mac_prefix': 'd0:0e',
      'cloud.vmstate.instance_subdomain': '.cloud',
      'system.dns.nameserveraddress': '10.0.0.2,10.0.0.3',
      'cloud.network.ec2_classic_additional_protocols_allowed': '47',
      'cloud.network.address_allocation': 'random',
      'cloud.network.address_hold_timeout': '30',
      'cloud.network.min_broadcast_interval': '500',
      'cloud.network.broadcast_interval': '60',
      'cloud.network.broadcast_timeout': '5',
    };
    for (const [name, value] of Object.entries(values)) assert.equal((await api(clc, 'PUT', `/v1/properties/${name}`, { value })).status, 200, name);
    const before = (await api(clc, 'GET', '/v1/properties')).body;
    const exit = await clc.stop('SIGTERM');
    assert.equal(exit.code, 0, 'graceful stop exits 0');
    clc = await startClc(dir);
    assert.deepEqual((await api(clc, 'GET', '/v1/properties')).body, before);
    // A crash right after an acknowledged set loses nothing (WAL + synchronous=FULL).
    assert.equal((await api(clc, 'PUT', '/v1/properties/cloud.network.broadcast_timeout', { value: '7' })).status, 200);
    await clc.stop('SIGKILL');
    clc = await startClc(dir);
    assert.equal((await api(clc, 'GET', '/v1/properties/cloud.network.broadcast_timeout')).body.value, '7');
    for (const [name, value] of Object.entries(values)) {
      if (name === 'cloud.network.broadcast_timeout') continue;
      assert.equal((await api(clc, 'GET', `/v1/properties/${name}`)).body.value, value, name);
    }
    assert.equal((await api(clc, 'GET', '/v1/properties/cloud.network.broadcast_timeout/history')).body.history.length, 2);
  } finally {
    await clc.stop();
    cleanup();
  }
});
