import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_NETD_CONFIG, NETD_CONFIG_CODES, parseNetdConfig } from '../../../src/netd/config.ts';

test('empty file gives the defaults', () => {
  const r = parseNetdConfig('');
  assert.ok(r.ok);
  assert.deepEqual(r.value, DEFAULT_NETD_CONFIG);
  assert.equal(r.value.bridge, 'br0');
  assert.equal(r.value.prefix, 'EDGENET');
  assert.equal(r.value.metadataPort, 8773);
  assert.equal(r.value.ncRouter, true);
  assert.equal(r.value.disableL2Isolation, false);
  assert.equal(r.value.pollingFrequencySeconds, 1);
  assert.equal(r.value.resyncIntervalSeconds, 60);
  assert.equal(r.value.minSyncIntervalMs, 100);
  assert.equal(r.value.dhcpDaemon, '/usr/sbin/dhcpd');
});

test('eucalyptus.conf style: comments, blank lines, quotes optional, export, trailing comments', () => {
  const r = parseNetdConfig([
    '# eucanetd settings',
    '',
    'VNET_BRIDGE="br1"',
    "VNET_PUBINTERFACE='eth0'",
    'VNET_PRIVINTERFACE=eth1   # the private NIC',
    'export POLLING_FREQUENCY=5',
    'DISABLE_L2_ISOLATION="y"',
    'NC_ROUTER="N"',
    'NC_ROUTER_IP="auto"',
    'METADATA_IP="10.0.0.9"',
    'METADATA_PORT=8080',
    'METADATA_USE_VM_PRIVATE=Y',
    'EDGENET_NODE_NAME="10.0.0.21"',
    'EDGENET_RUN_DIR=/tmp/run',
    'EDGENET_PREFIX=EN1',
    'EDGENET_RESYNC_INTERVAL=30',
    'EDGENET_MIN_SYNC_INTERVAL=250',
    'EDGENET_GNI_FILE=/tmp/run/gni.xml',
    'EDGENET_METRICS_LISTEN=127.0.0.1:9776',
    'EDGENET_BRIDGE_MAC=02:AA:00:00:00:01',
  ].join('\n'));
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  assert.deepEqual(r.diagnostics, []);
  const c = r.value;
  assert.equal(c.bridge, 'br1');
  assert.equal(c.publicInterface, 'eth0');
  assert.equal(c.privateInterface, 'eth1');
  assert.equal(c.pollingFrequencySeconds, 5);
  assert.equal(c.disableL2Isolation, true);
  assert.equal(c.ncRouter, false);
  assert.equal(c.ncRouterIp, 'AUTO');
  assert.equal(c.metadataIp, '10.0.0.9');
  assert.equal(c.metadataPort, 8080);
  assert.equal(c.metadataUseVmPrivate, true);
  assert.equal(c.nodeName, '10.0.0.21');
  assert.equal(c.runDir, '/tmp/run');
  assert.equal(c.prefix, 'EN1');
  assert.equal(c.resyncIntervalSeconds, 30);
  assert.equal(c.minSyncIntervalMs, 250);
  assert.equal(c.gniFile, '/tmp/run/gni.xml');
  assert.equal(c.metricsListen, '127.0.0.1:9776');
  assert.equal(c.bridgeMac, '02:aa:00:00:00:01');
});

test('unknown keys are warnings, not errors', () => {
  const r = parseNetdConfig('EUCALYPTUS="/"\nVNET_MODE="EDGE"\nVNET_BRIDGE=br0');
  assert.ok(r.ok);
  assert.deepEqual(r.diagnostics.map((d) => [d.severity, d.code, d.path]), [
    ['warning', NETD_CONFIG_CODES.unknownKey, 'EUCALYPTUS'],
    ['warning', NETD_CONFIG_CODES.unknownKey, 'VNET_MODE'],
  ]);
});

test('every bad value is reported with its key as the path', () => {
  const r = parseNetdConfig([
    'EDGENET_PREFIX="TOO-LONG-PREFIX"',
    'NC_ROUTER_IP="10.0.0"',
    'POLLING_FREQUENCY=0',
    'DISABLE_L2_ISOLATION=maybe',
    'METADATA_PORT=70000',
    'VNET_BRIDGE="a-very-long-bridge-name"',
    'EDGENET_RUN_DIR=relative/dir',
    'EDGENET_BRIDGE_MAC=02:aa',
    'this is not an assignment',
    'METADATA_IP="unterminated',
  ].join('\n'));
  assert.equal(r.ok, false);
  const byPath = (a: readonly string[], b: readonly string[]) => a[1]!.localeCompare(b[1]!);
  assert.deepEqual(r.diagnostics.map((d) => [d.code, d.path]).sort(byPath), [
    [NETD_CONFIG_CODES.badValue, 'EDGENET_PREFIX'],
    [NETD_CONFIG_CODES.badValue, 'NC_ROUTER_IP'],
    [NETD_CONFIG_CODES.badValue, 'POLLING_FREQUENCY'],
    [NETD_CONFIG_CODES.badValue, 'DISABLE_L2_ISOLATION'],
    [NETD_CONFIG_CODES.badValue, 'METADATA_PORT'],
    [NETD_CONFIG_CODES.badValue, 'VNET_BRIDGE'],
    [NETD_CONFIG_CODES.badValue, 'EDGENET_RUN_DIR'],
    [NETD_CONFIG_CODES.badValue, 'EDGENET_BRIDGE_MAC'],
    [NETD_CONFIG_CODES.syntax, 'line 9'],
    [NETD_CONFIG_CODES.syntax, 'METADATA_IP'],
  ].sort(byPath));
});

test('a key set twice warns and the last value wins', () => {
  const r = parseNetdConfig('VNET_BRIDGE=br1\nVNET_BRIDGE=br2');
  assert.ok(r.ok);
  assert.equal(r.value.bridge, 'br2');
  assert.deepEqual(r.diagnostics.map((d) => [d.code, d.path]), [[NETD_CONFIG_CODES.duplicateKey, 'VNET_BRIDGE']]);
});

test('NC_ROUTER_IP accepts empty, an address, or AUTO', () => {
  for (const [text, want] of [['""', ''], ['"10.10.0.254"', '10.10.0.254'], ['AUTO', 'AUTO']] as const) {
    const r = parseNetdConfig(`NC_ROUTER_IP=${text}`);
    assert.ok(r.ok);
    assert.equal(r.value.ncRouterIp, want);
  }
});

test('the example netd.conf parses without diagnostics', async () => {
  const { readFile } = await import('node:fs/promises');
  const r = parseNetdConfig(await readFile(new URL('../../../examples/netd.conf', import.meta.url), 'utf8'));
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  assert.deepEqual(r.diagnostics, []);
});

test('the environment (EDGENET_NETD_<KEY>) wins over the file; sources are reported', async () => {
  const { resolveNetdConfig } = await import('../../../src/netd/config.ts');
  const { parseConfText } = await import('../../../src/shared/config/conf-file.ts');
  const r = resolveNetdConfig({
    conf: parseConfText('VNET_BRIDGE=br1\nEDGENET_PREFIX=FILE\nPOLLING_FREQUENCY=3\n', '/etc/edgenet/netd.conf'),
    env: { EDGENET_NETD_VNET_BRIDGE: 'br9', EDGENET_NETD_PREFIX: 'ENV', EDGENET_LOG_LEVEL: 'debug', EDGENET_NETD_TYPO: 'x' },
  });
  assert.equal(r.config.bridge, 'br9');
  assert.equal(r.config.prefix, 'ENV');
  assert.equal(r.config.pollingFrequencySeconds, 3);
  assert.equal(r.config.logLevel, 'debug');
  const origin = Object.fromEntries(r.effective.map((e) => [e.key, [e.source, e.origin]]));
  assert.deepEqual(origin.VNET_BRIDGE, ['env', 'EDGENET_NETD_VNET_BRIDGE']);
  assert.deepEqual(origin.EDGENET_PREFIX, ['env', 'EDGENET_NETD_PREFIX']);
  assert.deepEqual(origin.POLLING_FREQUENCY, ['file', '/etc/edgenet/netd.conf:3']);
  assert.deepEqual(origin.EDGENET_LOG_LEVEL, ['env', 'EDGENET_LOG_LEVEL']);
  assert.deepEqual(origin.NC_ROUTER, ['default', 'default']);
  assert.deepEqual(r.diagnostics.map((d) => [d.severity, d.code, d.path]), [['warning', NETD_CONFIG_CODES.unknownKey, 'EDGENET_NETD_TYPO']]);
});

test('EDGENET_SPAWNER: the command shell is on by default; EDGENET_NETD_SPAWNER=0 turns it off; a bad value is an error', async () => {
  const { resolveNetdConfig } = await import('../../../src/netd/config.ts');
  const { parseConfText } = await import('../../../src/shared/config/conf-file.ts');
  assert.equal(DEFAULT_NETD_CONFIG.spawner, true);
  const off = resolveNetdConfig({ conf: parseConfText('EDGENET_SPAWNER=Y\n', 'netd.conf'), env: { EDGENET_NETD_SPAWNER: '0' } });
  assert.equal(off.config.spawner, false);
  assert.deepEqual(off.diagnostics, []);
  const bad = parseNetdConfig('EDGENET_SPAWNER=maybe\n');
  assert.ok(!bad.ok);
  assert.deepEqual(bad.diagnostics.map((d) => [d.code, d.path]), [[NETD_CONFIG_CODES.badValue, 'EDGENET_SPAWNER']]);
});
