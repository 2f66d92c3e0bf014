/**
 * The EC2 endpoint's clc.conf keys (src/cloud-controller/ec2-settings.ts)
 * through the CLC's settings: defaults, `off`, every bad value with its
 * code and key, and the TLS pair's file checks for --check-config.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { tmpdir } from 'node:os';
import { resolveClcConfig } from '../../../src/cloud-controller/main.ts';
import { checkEc2Files, ec2EndpointOptions } from '../../../src/cloud-controller/ec2-settings.ts';
import { tlsFixture } from '../../helpers/tls-fixture.ts';

const tls = tlsFixture('edgenet-ec2-conf-');
const env = (extra: Record<string, string>) => ({ EDGENET_STATE_DIR: '/nonexistent-state', EDGENET_CONF_DIR: '/nonexistent-conf', ...extra });

test('defaults: 127.0.0.1:8788, plain HTTP, 300 s, 1 MiB, 50/s, burst 200', () => {
  const r = resolveClcConfig({}, env({}));
  assert.deepEqual(r.config.ec2, { listen: { host: '127.0.0.1', port: 8788 }, tlsCert: undefined, tlsKey: undefined, clockSkewSeconds: 300, maxBodyBytes: 1048576, rateLimit: 50, rateBurst: 200 });
  assert.deepEqual(r.diagnostics.filter((d) => d.path.startsWith('EC2')), []);
  assert.deepEqual(ec2EndpointOptions(r.config.ec2), { host: '127.0.0.1', port: 8788, clockSkewSeconds: 300, maxBodyBytes: 1048576, rateLimit: 50, rateBurst: 200 });
  assert.ok(r.effective.some((e) => e.key === 'EC2_LISTEN' && e.source === 'default'));
});

test('off, :PORT (loopback), [v6]:PORT, the file and the environment', () => {
  assert.equal(ec2EndpointOptions(resolveClcConfig({}, env({ EDGENET_CLC_EC2_LISTEN: 'off' })).config.ec2), undefined);
  assert.deepEqual(resolveClcConfig({}, env({ EDGENET_CLC_EC2_LISTEN: ':9999' })).config.ec2.listen, { host: '127.0.0.1', port: 9999 });
  assert.deepEqual(resolveClcConfig({}, env({ EDGENET_CLC_EC2_LISTEN: '[::1]:0' })).config.ec2.listen, { host: '::1', port: 0 });
  const dir = mkdtempSync(path.join(tmpdir(), 'edgenet-ec2-conf-file-'));
  try {
    const conf = path.join(dir, 'clc.conf');
    writeFileSync(conf, 'EC2_LISTEN="0.0.0.0:8788"\nEC2_RATE_LIMIT=0\nEC2_CLOCK_SKEW_SECONDS=900\n');
    const r = resolveClcConfig({ config: conf }, env({}));
    assert.deepEqual([r.config.ec2.listen, r.config.ec2.rateLimit, r.config.ec2.clockSkewSeconds], [{ host: '0.0.0.0', port: 8788 }, 0, 900]);
    assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad values: each reported with its code and key', () => {
  const r = resolveClcConfig(
    {},
    env({
      EDGENET_CLC_EC2_LISTEN: 'nowhere',
      EDGENET_CLC_EC2_TLS_CERT: '/etc/edgenet/ec2.crt',
      EDGENET_CLC_EC2_CLOCK_SKEW_SECONDS: '0',
      EDGENET_CLC_EC2_MAX_BODY_BYTES: '10',
      EDGENET_CLC_EC2_RATE_LIMIT: '-1',
      EDGENET_CLC_EC2_RATE_BURST: 'many',
    }),
  );
  const got = r.diagnostics.filter((d) => d.severity === 'error').map((d) => [d.code, d.path]);
  assert.deepEqual(got.sort(), [
    ['CONFIG_BAD_VALUE', 'EC2_CLOCK_SKEW_SECONDS'],
    ['CONFIG_BAD_VALUE', 'EC2_MAX_BODY_BYTES'],
    ['CONFIG_BAD_VALUE', 'EC2_RATE_BURST'],
    ['CONFIG_BAD_VALUE', 'EC2_RATE_LIMIT'],
    ['CONFIG_BAD_VALUE', 'EC2_TLS_KEY'],
    ['EC2_BAD_LISTEN', 'EC2_LISTEN'],
  ]);
  assert.match(r.diagnostics.find((d) => d.code === 'EC2_BAD_LISTEN')!.message, /"nowhere" \(from EDGENET_CLC_EC2_LISTEN\)/);
  const relative = resolveClcConfig({}, env({ EDGENET_CLC_EC2_TLS_CERT: 'ec2.crt', EDGENET_CLC_EC2_TLS_KEY: 'ec2.key' }));
  assert.deepEqual(relative.diagnostics.filter((d) => d.severity === 'error').map((d) => d.path).sort(), ['EC2_TLS_CERT', 'EC2_TLS_KEY']);
});

test('the TLS pair for --check-config: good, missing, key readable by others, key of another certificate', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'edgenet-ec2-tls-check-'));
  try {
    const settings = (cert: string, key: string) => ({ ...resolveClcConfig({}, env({})).config.ec2, tlsCert: cert, tlsKey: key });
    const cert = path.join(tls.dir, 'clc1.crt');
    const key = path.join(tls.dir, 'clc1.key');
    assert.deepEqual(checkEc2Files(settings(cert, key)), []);
    const codes = (c: string, k: string) => checkEc2Files(settings(c, k)).map((d) => [d.code, d.path]);
    assert.deepEqual(codes(path.join(dir, 'none.crt'), path.join(dir, 'none.key')), [['TLS_CERT_MISSING', 'EC2_TLS_CERT'], ['TLS_KEY_MISSING', 'EC2_TLS_KEY']]);
    const open = path.join(dir, 'open.key');
    copyFileSync(key, open);
    chmodSync(open, 0o644);
    assert.deepEqual(codes(cert, open), [['TLS_KEY_PERMISSIONS', 'EC2_TLS_KEY']]);
    assert.deepEqual(codes(cert, path.join(tls.dir, 'cc1.key')), [['TLS_CERT_INVALID', 'EC2_TLS_KEY']]);
    // Off: nothing is checked.
    assert.deepEqual(checkEc2Files({ ...settings(path.join(dir, 'none.crt'), open), listen: undefined }), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
