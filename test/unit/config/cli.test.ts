/**
 * `property validate` and `property explode` through registerPropertyOffline,
 * on a commander program built here the way src/cli/main.ts builds its own
 * (exit override, usage errors → 2), with captured output.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import type { CliContext } from '../../../src/cli/context.ts';
import { registerPropertyOffline } from '../../../src/cli/commands/property-offline.ts';

const dir = mkdtempSync(join(tmpdir(), 'edgenet-h1-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const example = new URL('../../../examples/network_configuration.json', import.meta.url).pathname;
const minimal = new URL('../../../examples/network_configuration.minimal.json', import.meta.url).pathname;
const invalid = join(dir, 'invalid.json');
writeFileSync(invalid, JSON.stringify({ PublicIps: ['192.0.2.9-192.0.2.1'], Clusters: [{ Name: 'c', Subnet: { Subnet: '10.0.0.0', Netmask: '255.255.0.1', Gateway: '10.0.0.1' } }] }));
const warned = join(dir, 'warned.json');
writeFileSync(warned, JSON.stringify({ PublicIps: ['10.0.9.1'], Subnets: [{ Subnet: '10.0.0.0', Netmask: '255.255.0.0', Gateway: '10.0.0.1' }] }));

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

async function run(args: string[], stdin = ''): Promise<Run> {
  let out = '';
  let err = '';
  let exitCode = 0;
  const ctx: CliContext = {
    env: {},
    out: (t) => (out += t.endsWith('\n') ? t : `${t}\n`),
    err: (t) => (err += t.endsWith('\n') ? t : `${t}\n`),
    signal: new AbortController().signal,
    setExitCode: (c) => (exitCode = c),
  };
  const program = new Command('edgenet').exitOverride().configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) });
  const property = program.command('property');
  registerPropertyOffline(property, ctx, { readStdin: async () => stdin });
  const propagate = (cmd: Command) => {
    cmd.exitOverride();
    cmd.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) });
    cmd.commands.forEach(propagate);
  };
  propagate(program);
  try {
    await program.parseAsync(['node', 'edgenet', 'property', ...args]);
  } catch (e) {
    if (e instanceof CommanderError) return { code: e.code === 'commander.helpDisplayed' ? 0 : 2, out, err };
    throw e;
  }
  return { code: exitCode, out, err };
}

test('validate: a valid file exits 0 with a summary line', async () => {
  const r = await run(['validate', example]);
  assert.equal(r.code, 0);
  assert.match(r.out, /: valid \(0 errors, 0 warnings\)\n$/);
});

test('validate: an invalid file exits 1 with one "path: code: message" line per diagnostic, then a summary', async () => {
  const r = await run(['validate', invalid]);
  assert.equal(r.code, 1);
  const lines = r.out.trimEnd().split('\n');
  assert.equal(lines.length, 3);
  assert.match(lines[0] ?? '', /^PublicIps\[0\]: RANGE_REVERSED: /);
  assert.match(lines[1] ?? '', /^Clusters\[0\]\.Subnet\.Netmask: NETMASK_NONCONTIGUOUS: /);
  assert.match(lines[2] ?? '', /: invalid \(2 errors, 0 warnings\)$/);
});

test('validate --json prints {ok, diagnostics}', async () => {
  const bad = await run(['validate', invalid, '--json']);
  assert.equal(bad.code, 1);
  const parsed = JSON.parse(bad.out) as { ok: boolean; diagnostics: { severity: string; code: string; path: string; message: string }[] };
  assert.deepEqual(Object.keys(parsed).sort(), ['diagnostics', 'ok']);
  assert.equal(parsed.ok, false);
  assert.deepEqual(parsed.diagnostics.map((d) => [d.severity, d.code, d.path]), [
    ['error', 'RANGE_REVERSED', 'PublicIps[0]'],
    ['error', 'NETMASK_NONCONTIGUOUS', 'Clusters[0].Subnet.Netmask'],
  ]);
  const good = await run(['validate', example, '--json']);
  assert.equal(good.code, 0);
  assert.deepEqual(JSON.parse(good.out), { ok: true, diagnostics: [] });
});

test('validate: warnings are printed but the exit code stays 0', async () => {
  const r = await run(['validate', warned]);
  assert.equal(r.code, 0);
  assert.match(r.out, /^PublicIps\[0\]: PUBLIC_IN_PRIVATE_SUBNET: .*\(warning\)$/m);
  assert.match(r.out, /: valid \(0 errors, 1 warning\)/);
});

test('validate: malformed JSON exits 1 with JSON_SYNTAX at the document, with line and column', async () => {
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{\n  "PublicIps": [\n');
  const r = await run(['validate', broken]);
  assert.equal(r.code, 1);
  assert.match(r.out, /^\(document\): JSON_SYNTAX: Invalid JSON at line 3, column 1:/m);
});

test('validate: usage errors exit 2 (missing file, missing argument, unknown option)', async () => {
  const missing = await run(['validate', join(dir, 'nope.json')]);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /cannot read .*nope\.json/);
  assert.equal((await run(['validate'])).code, 2);
  assert.equal((await run(['validate', example, '--frobnicate'])).code, 2);
});

test('validate -: reads standard input', async () => {
  const r = await run(['validate', '-', '--json'], '{"PublicIps": []}');
  assert.equal(r.code, 1);
  const parsed = JSON.parse(r.out) as { diagnostics: { code: string; path: string }[] };
  assert.ok(parsed.diagnostics.some((d) => d.code === 'LIST_EMPTY' && d.path === 'PublicIps'));
});

test('explode prints the exploded document as pretty JSON', async () => {
  const r = await run(['explode', minimal]);
  assert.equal(r.code, 0);
  assert.ok(r.out.includes('\n  "Mode": "EDGE"'), 'pretty-printed');
  const doc = JSON.parse(r.out);
  assert.deepEqual(doc.Clusters[0].PrivateIps, ['10.111.0.2-10.111.255.254']);
  assert.equal(doc.InstanceDnsDomain, 'eucalyptus.internal');
  assert.equal(doc.MacPrefix, 'd0:0d');
});

test('explode options stand in for the related cloud properties', async () => {
  const r = await run(['explode', minimal, '--mac-prefix', 'D2:00', '--instance-subdomain', '.cloud', '--nameservers', '10.0.0.2,10.0.0.3']);
  assert.equal(r.code, 0);
  const doc = JSON.parse(r.out);
  assert.equal(doc.MacPrefix, 'd2:00');
  assert.equal(doc.Clusters[0].MacPrefix, 'd2:00');
  assert.equal(doc.InstanceDnsDomain, 'cloud.internal');
  assert.deepEqual(doc.InstanceDnsServers, ['10.0.0.2', '10.0.0.3']);
});

test('explode refuses invalid input with the diagnostics and exit 1', async () => {
  const r = await run(['explode', invalid]);
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  assert.match(r.err, /RANGE_REVERSED/);
  const j = await run(['explode', invalid, '--json']);
  assert.equal(j.code, 1);
  assert.equal(JSON.parse(j.out).ok, false);
});

test('explode: bad options and missing files are usage errors', async () => {
  assert.equal((await run(['explode', minimal, '--mac-prefix', 'zz'])).code, 2);
  assert.equal((await run(['explode', minimal, '--nameservers', 'dns.example'])).code, 2);
  assert.equal((await run(['explode', join(dir, 'nope.json')])).code, 2);
});
