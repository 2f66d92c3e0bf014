/**
 * The CLI as scripts use it, through main() with captured streams (and the
 * real `bin/edgenet.mjs` where a process matters) against a fake admin API on
 * loopback: `--json` errors (one `{"error": {code, message}}` object on
 * stdout, exit codes unchanged), `--output table|tsv|json`, the request
 * timeout, `--config` / `--token-file`, and the EPIPE guard.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { cli, CLI, REPO } from '../clc/harness.ts';
import { cliSandbox } from './cli-sandbox.ts';
import { startFakeClc } from './fake-clc.ts';
import { createExec } from '../../../src/shared/exec.ts';

// No CLC config or token file of this machine leaks in: everything defaults under `dir`.
const { dir, baseEnv, run } = cliSandbox('edgenet-cli-');

const instance = (id: string, ip: string) => ({ id, ownerId: '000000000001', cluster: 'C1', node: '10.0.0.7', mac: 'd0:0d:00:00:00:01', privateIp: ip, groups: ['sg-1', 'sg-2'], interface: `vn_${id}`, createdAt: '2024-01-01T00:00:00.000Z' });

/** A closed port: bound then released, so nothing listens there. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const errorOf = (stdout: string): { code: string; message: string; details?: Record<string, unknown> } => {
  const parsed = JSON.parse(stdout) as { error?: { code: string; message: string; details?: Record<string, unknown> } };
  assert.ok(parsed.error, `no error object in ${stdout}`);
  return parsed.error;
};

test('--json: errors of every kind are one {"error": {code, message}} object on stdout, exit codes unchanged', { timeout: 120_000 }, async () => {
  const fake = await startFakeClc({
    'DELETE /v1/clusters/C1': { status: 409, body: { error: { code: 'CLUSTER_IN_USE', message: 'cluster C1 still has 1 instance(s)' } } },
    'DELETE /v1/clusters/C2': { status: 200, body: { deregistered: 'C2' } },
    'PUT /v1/properties/cloud.network.address_allocation': {
      status: 400,
      body: { error: { code: 'INVALID_PROPERTY', message: 'invalid value', diagnostics: [{ severity: 'error', code: 'InvalidEnumValue', path: '', message: 'no' }] } },
    },
  });
  const env = { ...baseEnv, EDGENET_URL: fake.url, EDGENET_TOKEN: 't' };
  const down = `http://127.0.0.1:${await closedPort()}`;
  try {
    const [unreachable, server, ok, usage, commander, role, rejected, text] = await Promise.all([
      cli(['status', '--json', '--url', down], env), // one real process: the object is what a script reads
      run(['cluster', 'deregister', 'C1', '--json'], env),
      run(['cluster', 'deregister', 'C2', '--json'], env),
      run(['property', 'set', 'novalue', '--json'], env),
      run(['node', 'register', 'C1', '--json'], env),
      run(['certs', 'issue', 'x', '--role', 'boss', '--dir', dir, '--json'], env),
      run(['property', 'set', 'cloud.network.address_allocation=sometimes', '--json'], env),
      run(['cluster', 'deregister', 'C1'], env),
    ]);
    assert.equal(unreachable.code, 1);
    assert.equal(errorOf(unreachable.stdout).code, 'CLC_UNREACHABLE');
    assert.equal(server.code, 1);
    assert.deepEqual(errorOf(server.stdout), { code: 'CLUSTER_IN_USE', message: 'cluster C1 still has 1 instance(s)' });
    assert.equal(server.stderr, '');
    // A write command that had no --json before prints the API's answer.
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout), { deregistered: 'C2' });
    assert.equal(usage.code, 2);
    assert.equal(errorOf(usage.stdout).code, 'INVALID_ASSIGNMENT');
    // Commander's own usage errors too (missing argument), without its text on stderr.
    assert.equal(commander.code, 2);
    assert.equal(errorOf(commander.stdout).code, 'USAGE_ERROR');
    assert.match(errorOf(commander.stdout).message, /required option '--nc <URL>' not specified/);
    assert.equal(role.code, 2);
    assert.equal(errorOf(role.stdout).code, 'INVALID_ROLE');
    assert.equal(rejected.code, 1);
    const rej = errorOf(rejected.stdout);
    assert.equal(rej.code, 'INVALID_PROPERTY');
    assert.deepEqual((rej.details?.diagnostics as { code: string }[]).map((d) => d.code), ['InvalidEnumValue']);
    // Without --json: the text form on stderr, nothing on stdout.
    assert.equal(text.code, 1);
    assert.equal(text.stdout, '');
    assert.equal(text.stderr.trim(), 'error: CLUSTER_IN_USE: cluster C1 still has 1 instance(s)');
  } finally {
    await fake.close();
  }
});

test('list commands: aligned table, --output tsv (no header, escaped cells), --output json = --json', { timeout: 120_000 }, async () => {
  const instances = [instance('i-00000001', '10.1.0.10'), instance('i-00000002', '10.1.0.11')];
  const fake = await startFakeClc({
    'GET /v1/instances': { status: 200, body: { instances } },
    'GET /v1/addresses': { status: 200, body: { addresses: [] } },
    'GET /v1/groups': { status: 200, body: { groups: [{ id: 'sg-1', ownerId: '000000000001', name: 'web', description: 'tab\there', instances: 0, rules: [] }] } },
  });
  const env = { ...baseEnv, EDGENET_URL: fake.url, EDGENET_TOKEN: 't' };
  try {
    const [tableOut, tsvOut, jsonOut, json2, emptyTsv, emptyTable, groupsTsv, bad] = await Promise.all([
      run(['instance', 'list'], env),
      run(['instance', 'list', '--output', 'tsv'], env),
      run(['instance', 'list', '--output', 'json'], env),
      run(['instance', 'list', '--json'], env),
      run(['address', 'list', '--output', 'tsv'], env),
      run(['address', 'list'], env),
      run(['group', 'list', '--output', 'tsv'], env),
      run(['instance', 'list', '--output', 'xml', '--json'], env),
    ]);
    for (const r of [tableOut, tsvOut, jsonOut, json2, emptyTsv, emptyTable, groupsTsv]) assert.equal(r.code, 0, r.stderr);
    const lines = tableOut.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /^INSTANCE\s+OWNER\s+CLUSTER\s+NODE\s+MAC\s+PRIVATE IP\s+PUBLIC IP\s+GROUPS$/);
    // Aligned: every column starts at the same offset on every line.
    assert.equal(lines[1]!.indexOf('10.1.0.10'), lines[0]!.indexOf('PRIVATE IP'));
    assert.deepEqual(tsvOut.stdout.trimEnd().split('\n').map((l) => l.split('\t')), instances.map((i) => [i.id, i.ownerId, i.cluster, i.node, i.mac, i.privateIp, '-', 'sg-1,sg-2']));
    assert.deepEqual(JSON.parse(jsonOut.stdout), instances);
    assert.equal(json2.stdout, jsonOut.stdout);
    assert.equal(emptyTsv.stdout, '');
    assert.equal(emptyTable.stdout.trim(), 'no addresses allocated');
    assert.deepEqual(groupsTsv.stdout.trimEnd().split('\t'), ['sg-1', '000000000001', 'web', '-', 'tab\\there']);
    assert.equal(bad.code, 2);
    assert.equal(errorOf(bad.stdout).code, 'INVALID_OUTPUT_FORMAT');
  } finally {
    await fake.close();
  }
});

test('timeout: a CLC that accepts the connection and never answers fails status with CLC_TIMEOUT', { timeout: 60_000 }, async () => {
  const sockets = new Set<Socket>();
  const silent = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  try {
    const [flag, envVar, text, badTimeout] = await Promise.all([
      run(['status', '--url', url, '--timeout', '1', '--json'], { ...baseEnv, EDGENET_TOKEN: 't' }),
      run(['status', '--url', url, '--json'], { ...baseEnv, EDGENET_TOKEN: 't', EDGENET_TIMEOUT: '0.5' }),
      run(['status', '--url', url, '--timeout', '1'], { ...baseEnv, EDGENET_TOKEN: 't' }),
      run(['status', '--url', url, '--timeout', 'soon'], { ...baseEnv, EDGENET_TOKEN: 't' }),
    ]);
    assert.equal(flag.code, 1);
    const e = errorOf(flag.stdout);
    assert.equal(e.code, 'CLC_TIMEOUT');
    assert.deepEqual(e.details, { timeoutSeconds: 1 });
    assert.equal(envVar.code, 1);
    assert.equal(errorOf(envVar.stdout).code, 'CLC_TIMEOUT');
    assert.equal(text.code, 1);
    assert.match(text.stderr, /^error: CLC_TIMEOUT: the cloud controller at http:\/\/127\.0\.0\.1:\d+ did not answer GET \/v1\/status within 1 s/);
    assert.equal(badTimeout.code, 2);
    assert.ok(sockets.size >= 3, 'the CLI did connect');
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
  }
});

test('--config reads LISTEN (0.0.0.0 → 127.0.0.1) and TOKEN_FILE; --token-file and the default clc.conf too', { timeout: 120_000 }, async () => {
  const view = { converged: true, clusters: [] };
  const fake = await startFakeClc({ 'GET /v1/status': { status: 200, body: view } });
  const tokenFile = path.join(dir, 'moved-token');
  writeFileSync(tokenFile, 'from-conf\n');
  const conf = path.join(dir, 'custom-clc.conf');
  writeFileSync(conf, `# the CLC's config\nDB=/var/lib/x.db\nLISTEN=0.0.0.0:${fake.port}\nTOKEN_FILE="${tokenFile}"\nCERTS_DIR=/etc/edgenet/certs\n`);
  const confDir = path.join(dir, 'etc');
  rmSync(confDir, { recursive: true, force: true });
  (await import('node:fs')).mkdirSync(confDir);
  writeFileSync(path.join(confDir, 'clc.conf'), `LISTEN=:${fake.port}\nTOKEN_FILE=${tokenFile}\n`);
  const other = path.join(dir, 'other-token');
  writeFileSync(other, 'from-flag');
  try {
    const [viaConfig, viaEnvConfig, viaDefault, viaTokenFile, missingConfig, missingToken] = await Promise.all([
      run(['status', '--config', conf, '--json'], baseEnv),
      run(['status', '--json'], { ...baseEnv, EDGENET_CLC_CONFIG: conf }),
      run(['status', '--json'], { ...baseEnv, EDGENET_CONF_DIR: confDir }),
      run(['status', '--config', conf, '--token-file', other, '--json'], baseEnv),
      run(['status', '--config', path.join(dir, 'nope.conf'), '--json'], baseEnv),
      run(['status', '--url', fake.url, '--token-file', path.join(dir, 'nope-token'), '--json'], baseEnv),
    ]);
    for (const r of [viaConfig, viaEnvConfig, viaDefault, viaTokenFile]) {
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), view);
    }
    const auths = fake.seen.map((s) => s.authorization).sort();
    assert.deepEqual(auths, ['Bearer from-conf', 'Bearer from-conf', 'Bearer from-conf', 'Bearer from-flag']);
    assert.equal(missingConfig.code, 2);
    assert.equal(errorOf(missingConfig.stdout).code, 'CONFIG_UNREADABLE');
    assert.equal(missingToken.code, 2);
    assert.equal(errorOf(missingToken.stdout).code, 'TOKEN_FILE_UNREADABLE');
  } finally {
    await fake.close();
  }
});

test('a closed stdout (| head) ends the command quietly: no EPIPE stack trace, its own exit code', { timeout: 120_000 }, async () => {
  // `head -c 0` exits at once, long before the CLI has loaded: every write meets a closed pipe.
  const example = path.join(REPO, 'examples', 'network_configuration.json');
  const script = 'node "$1" property explode "$2" 2>"$3" | head -c 0; echo "${PIPESTATUS[0]}"';
  const errFile = path.join(dir, 'epipe.err');
  const r = await createExec().run(['bash', '-c', script, 'bash', CLI, example, errFile], { cwd: REPO, env: baseEnv, timeoutMs: 110_000 });
  assert.equal((await import('node:fs')).readFileSync(errFile, 'utf8'), '');
  assert.equal(r.stdout.trim(), '0');
});
