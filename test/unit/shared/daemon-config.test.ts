/**
 * The one daemon config reader, the settings precedence, --check-config, the
 * signal helper and the metrics every daemon exposes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { EventEmitter } from 'node:events';
import { Registry } from 'prom-client';
import { parseConfText, CONF_CODES } from '../../../src/shared/config/conf-file.ts';
import { Settings, SETTINGS_CODES, envName, parseHostPort } from '../../../src/shared/config/settings.ts';
import { checkTls, CHECK_CODES } from '../../../src/shared/config/checks.ts';
import { runDaemonCommand } from '../../../src/shared/daemon/run.ts';
import { DaemonSignals } from '../../../src/shared/daemon/signals.ts';
import { ccProgram } from '../../../src/cluster-controller/main.ts';
import { resolveClcConfig } from '../../../src/cloud-controller/main.ts';
import { registerDaemonMetrics } from '../../../src/shared/daemon-metrics.ts';
import { registerCloudMetrics } from '../../../src/cloud-controller/broadcast/cloud-metrics.ts';
import { initCa, issueCert } from '../../../src/shared/tls/certs.ts';
import { createExec } from '../../../src/shared/exec.ts';
import { nullLogger } from '../../../src/shared/logger.ts';
import type { StatusView } from '../../../src/cloud-controller/broadcast/status-view.ts';

test('conf file: quotes, escapes, export, trailing comments; every syntax error with its line; duplicates warn', () => {
  const c = parseConfText('# c\n\nA=1\nexport B="x \\"y\\" # not a comment"\nC=\'lit $x\'  # c\nD=bare value # c\nE=\nnot a line\nF="open\nA=2\n', 'f.conf');
  assert.deepEqual(Object.fromEntries([...c.entries].map(([k, e]) => [k, [e.value, e.line]])), {
    A: ['2', 10], B: ['x "y" # not a comment', 4], C: ['lit $x', 5], D: ['bare value', 6], E: ['', 7],
  });
  assert.deepEqual(c.diagnostics.map((d) => [d.severity, d.code, d.path]), [
    ['error', CONF_CODES.syntax, 'f.conf:8'],
    ['error', CONF_CODES.syntax, 'F'],
    ['warning', CONF_CODES.duplicate, 'A'],
  ]);
});

test('settings: flag > EDGENET_<DAEMON>_<KEY> > alias > file > default, each with its origin; bad values and unknown keys reported', () => {
  const s = new Settings({
    daemon: 'cc',
    conf: parseConfText('LISTEN=0.0.0.0:1\nNC_FANOUT=4\nNC_TIMEOUT=5\nLOG_LEVEL=warn\nTYPO=1\n', '/etc/edgenet/cc.conf'),
    env: { EDGENET_CC_NC_FANOUT: '6', EDGENET_LOG_LEVEL: 'debug', EDGENET_CC_NOPE: 'x', EDGENET_CC_NC_TIMEOUT: 'soon' },
    flags: { LISTEN: '127.0.0.1:9' },
    aliases: { LOG_LEVEL: ['EDGENET_LOG_LEVEL'] },
  });
  assert.deepEqual(s.listen('LISTEN', '0.0.0.0:8774'), { host: '127.0.0.1', port: 9 });
  assert.equal(s.int('NC_FANOUT', 8, { min: 1, max: 256 }), 6);
  assert.equal(s.str('LOG_LEVEL', 'info'), 'debug');
  assert.equal(s.int('NC_TIMEOUT', 10, { min: 1, max: 600 }), 10, 'a bad value falls back to the default');
  assert.equal(s.str('CERT_NAME', 'cc'), 'cc');
  s.warnUnknown(['LISTEN', 'NC_FANOUT', 'NC_TIMEOUT', 'LOG_LEVEL', 'CERT_NAME']);
  assert.deepEqual(s.effective.map((e) => [e.key, e.source, e.origin]), [
    ['LISTEN', 'flag', '--listen'],
    ['NC_FANOUT', 'env', 'EDGENET_CC_NC_FANOUT'],
    ['LOG_LEVEL', 'env', 'EDGENET_LOG_LEVEL'],
    ['NC_TIMEOUT', 'env', 'EDGENET_CC_NC_TIMEOUT'],
    ['CERT_NAME', 'default', 'default'],
  ]);
  assert.deepEqual(s.diagnostics.map((d) => [d.severity, d.code, d.path]), [
    ['error', SETTINGS_CODES.badValue, 'NC_TIMEOUT'],
    ['warning', SETTINGS_CODES.unknownKey, 'TYPO'],
    ['warning', SETTINGS_CODES.unknownKey, 'EDGENET_CC_NOPE'],
  ]);
  assert.match(s.diagnostics[0]!.message, /from EDGENET_CC_NC_TIMEOUT/);
  assert.equal(envName('netd', 'EDGENET_PREFIX'), 'EDGENET_NETD_PREFIX');
  assert.equal(envName('netd', 'VNET_BRIDGE'), 'EDGENET_NETD_VNET_BRIDGE');
  assert.deepEqual(parseHostPort('[::1]:9'), { ok: true, value: { host: '::1', port: 9 } });
  assert.equal(parseHostPort('1.2.3.4:70000').ok, false);
});

test('clc.conf takes CERTS_DIR and CERT_NAME (and every other key) from the file and the environment', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'h1cfg-'));
  try {
    const conf = path.join(dir, 'clc.conf');
    writeFileSync(conf, 'CERTS_DIR=/srv/certs\nCERT_NAME=clc1\nMETADATA_LISTEN=off\n');
    const r = resolveClcConfig({ config: conf }, { EDGENET_CLC_STATUS_INTERVAL_MS: '250' });
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.config.certsDir, '/srv/certs');
    assert.equal(r.config.certName, 'clc1');
    assert.equal(r.config.metadataListen, 'off');
    assert.equal(r.config.statusIntervalMs, 250);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('checkTls and --check-config: missing certificate, loose key mode; exit 0 when fine, 2 when not, JSON with sources', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'h1chk-'));
  try {
    const certs = path.join(dir, 'certs');
    await initCa(createExec(), certs);
    await issueCert(createExec(), { dir: certs, name: 'cc', role: 'cc', ips: ['127.0.0.1'], dnsNames: [] });
    const problems = () => {
      const out: { code: string }[] = [];
      checkTls({ dir: certs, name: 'cc', key: 'CERTS_DIR' }, (d) => out.push(d));
      return out.map((d) => d.code);
    };
    assert.deepEqual(problems(), []);
    let printed = '';
    const io = { out: (t: string) => (printed += t), err: (t: string) => (printed += t), checkConfig: true, json: true };
    const flags = { certs, stateDir: path.join(dir, 'state'), listen: '127.0.0.1:0' };
    assert.equal(await runDaemonCommand(ccProgram(flags, {}), io), 0);
    const report = JSON.parse(printed) as { ok: boolean; settings: { key: string; source: string; origin: string }[] };
    assert.equal(report.ok, true);
    assert.deepEqual(report.settings.find((s) => s.key === 'CERTS_DIR'), { key: 'CERTS_DIR', env: 'EDGENET_CC_CERTS_DIR', value: certs, source: 'flag', origin: '--certs' });
    chmodSync(path.join(certs, 'cc.key'), 0o644);
    assert.deepEqual(problems(), [CHECK_CODES.keyMode]);
    unlinkSync(path.join(certs, 'cc.crt'));
    assert.deepEqual(problems(), [CHECK_CODES.certMissing, CHECK_CODES.keyMode]);
    printed = '';
    assert.equal(await runDaemonCommand(ccProgram(flags, {}), { ...io, json: false }), 2);
    assert.match(printed, new RegExp(`TLS_CERT_MISSING: certificate ${path.join(certs, 'cc.crt').replace(/\./g, '\\.')} does not exist`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('signals: SIGHUP calls the reload (or says there is nothing to reload) and never stops; SIGTERM aborts and arms the deadline', async () => {
  const target = new EventEmitter();
  const exits: number[] = [];
  const s = new DaemonSignals({ name: 'x', target: target as never, exit: (c) => exits.push(c), stopDeadlineMs: 20 });
  const lines: string[] = [];
  const logger = nullLogger();
  logger.log = ((level: string, message: string) => {
    lines.push(`${level} ${message}`);
    return logger;
  }) as never;
  s.attach(logger);
  target.emit('SIGHUP');
  let reloads = 0;
  s.attach(logger, async () => {
    reloads++;
    return { message: 'reloaded' };
  });
  target.emit('SIGHUP');
  await s.settled();
  assert.equal(reloads, 1);
  assert.equal(s.signal.aborted, false);
  s.attach(logger, async () => {
    throw new Error('bad file');
  });
  target.emit('SIGHUP');
  await s.settled();
  assert.equal(s.signal.aborted, false);
  target.emit('SIGTERM');
  assert.equal(s.signal.aborted, true);
  s.finished(0);
  await new Promise((r) => setTimeout(r, 60)); // the 20 ms deadline itself is what is tested
  s.dispose();
  assert.deepEqual(exits, [0], 'the deadline exits with the code the daemon returned');
  assert.deepEqual(lines.slice(0, 5), ['info SIGHUP: nothing to reload', 'info SIGHUP: reloading the configuration', 'info reloaded', 'info SIGHUP: reloading the configuration', 'error SIGHUP: reload failed; keeping the running configuration']);
  assert.ok(lines.includes('info SIGTERM: x stopping'));
  assert.equal(target.listenerCount('SIGHUP'), 0, 'dispose removes the handlers');
});

test('metrics: build info and certificate expiry on every daemon; CLC pool usage and node applied age', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'h1met-'));
  try {
    await initCa(createExec(), dir);
    await issueCert(createExec(), { dir, name: 'nc', role: 'nc', ips: [], dnsNames: [], days: 10 });
    const registry = new Registry();
    registerDaemonMetrics(registry, 'nc', () => [{ dir, name: 'nc' }]);
    const now = Date.parse('2030-01-01T00:01:00Z');
    const view: StatusView = { converged: true, clusters: [{ name: 'c1', ccUrl: 'https://cc/', failures: 0, nodes: [{ name: '10.0.0.5', appliedAt: '2030-01-01T00:00:30Z', result: 'ok', converged: true, lagSequences: 0, lagSeconds: 0 } as never] }] };
    registerCloudMetrics(registry, { pools: async () => [{ kind: 'private', cluster: 'c1', size: 10, free: 3 }, { kind: 'public', size: 5, free: 5 }], view: () => view, now: () => now });
    const text = await registry.metrics();
    assert.match(text, /^edgenet_build_info\{component="nc",version="\d+\.\d+\.\d+[^"]*",commit="[0-9a-f]*",node="v\d+[^"]*"\} 1$/m);
    const days = Number(/^edgenet_certificate_expiry_days\{component="nc",certificate="nc",file="[^"]+nc\.crt"\} (\S+)$/m.exec(text)?.[1]);
    assert.ok(days > 9 && days <= 10, `nc certificate: ${days} days`);
    assert.match(text, /^edgenet_certificate_expiry_days\{component="nc",certificate="ca",file="[^"]+ca\.crt"\} \d+/m);
    assert.match(text, /^edgenet_clc_pool_used_addresses\{kind="private",cluster="c1"\} 7$/m);
    assert.match(text, /^edgenet_clc_pool_total_addresses\{kind="private",cluster="c1"\} 10$/m);
    assert.match(text, /^edgenet_clc_pool_used_addresses\{kind="public",cluster=""\} 0$/m);
    assert.match(text, /^edgenet_clc_node_last_applied_age_seconds\{cluster="c1",node="10\.0\.0\.5"\} 30$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a CLC without its client certificate is named as the culprit, not the healthy CC', async () => {
  const { clcClientTls } = await import('../../../src/cloud-controller/broadcast/plugin.ts');
  const { statusView } = await import('../../../src/cloud-controller/broadcast/status-view.ts');
  const { errorCode, errorMessage } = await import('../../../src/shared/errors.ts');
  let err: unknown;
  try {
    clcClientTls({ EDGENET_CLC_CERTS_DIR: '/nonexistent/h1', EDGENET_CLC_CERT_NAME: 'clc' });
  } catch (e) {
    err = e;
  }
  assert.equal(errorCode(err), 'CLC_CERTIFICATE_MISSING');
  assert.match(errorMessage(err), /\/nonexistent\/h1\/ca\.crt does not exist/);
  const sender = { name: 'c1', ccUrl: 'https://10.0.0.2:8774/', failures: 1 } as never;
  const view = statusView({ now: 0, history: new Map(), clusters: [{ sender, nodes: [{ name: '10.0.0.5', url: 'https://10.0.0.5:8775/' }], reports: new Map(), statusError: errorMessage(err), statusErrorCode: errorCode(err) }] });
  assert.equal(view.clusters[0]!.nodes[0]!.result, 'clc-certificate-missing');
  assert.match(view.clusters[0]!.nodes[0]!.lastError ?? '', /^cloud controller: /);
  const ccDown = statusView({ now: 0, history: new Map(), clusters: [{ sender, nodes: [{ name: '10.0.0.5', url: 'https://10.0.0.5:8775/' }], reports: new Map(), statusError: 'ECONNREFUSED', statusErrorCode: 'INTERNAL' }] });
  assert.equal(ccDown.clusters[0]!.nodes[0]!.result, 'cc-unreachable');
});
