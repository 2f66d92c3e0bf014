/**
 * `edgenet gni validate` (offline) and `edgenet gni show` (against a stub CLC
 * on 127.0.0.1:0). The command group is registered on a fresh commander
 * program so the test does not depend on other command groups.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { registerGni } from '../../../src/cli/commands/gni.ts';
import { CliExit, type CliContext } from '../../../src/cli/context.ts';
import { EdgenetError } from '../../../src/shared/errors.ts';
import { buildGni } from '../../../src/cloud-controller/gni/builder.ts';
import { serializeGni } from '../../../src/shared/gni/codec.ts';
import { syntheticSnapshot } from '../../fixtures/gni/synthetic.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/gni/${name}`, import.meta.url));

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  let code = 0;
  const ctx: CliContext = {
    env: { EDGENET_TOKEN: 'test-token' },
    out: (t) => void (out += t.endsWith('\n') ? t : `${t}\n`),
    err: (t) => void (err += t.endsWith('\n') ? t : `${t}\n`),
    signal: new AbortController().signal,
    setExitCode: (c) => void (code = c),
  };
  const program = new Command('edgenet').exitOverride().configureOutput({ writeOut: (s) => void (out += s), writeErr: (s) => void (err += s) });
  registerGni(program, ctx);
  const propagate = (c: Command) => {
    c.exitOverride();
    c.commands.forEach(propagate);
  };
  propagate(program);
  try {
    await program.parseAsync(['node', 'edgenet', ...argv]);
  } catch (e) {
    if (e instanceof CommanderError) code = 2;
    else if (e instanceof CliExit) {
      err += e.message;
      code = e.exitCode;
    } else if (e instanceof EdgenetError) {
      err += `error: ${e.code}: ${e.message}`;
      code = 1;
    } else throw e;
  }
  return { code, out, err };
}

test('validate: a valid 4.4 document exits 0 and summarises it', async () => {
  const r = await run(['gni', 'validate', fixture('euca44-example.xml')]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^valid: version 1a2b3c4d, 1 clusters, 1 instances, 1 security groups$/m);
});

test('validate: warnings are printed with their path, still exit 0 (4.0 document)', async () => {
  const r = await run(['gni', 'validate', fixture('euca40-example.xml')]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^warning: network-data\/securityGroups\/securityGroup\[@name='sg-0a0b0c0d'\]\/ingressRules\/rule\[3\]\/groupId: GNI_UNKNOWN_PEER_GROUP: /m);
});

test('validate: an invalid document exits 1 with `path: code: message` lines; --json gives the diagnostics', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgenet-gni-cli-'));
  try {
    const bad = join(dir, 'bad.xml');
    const { readFileSync } = await import('node:fs');
    writeFileSync(bad, readFileSync(fixture('euca44-example.xml'), 'utf8').replace('<privateIp>10.10.1.7</privateIp>', ''));
    const r = await run(['gni', 'validate', bad]);
    assert.equal(r.code, 1);
    assert.match(r.err, /^network-data\/instances\/instance\[@name='i-1a2b3c4d'\]\/privateIp: GNI_MISSING: /m);
    const j = await run(['gni', 'validate', bad, '--json']);
    assert.equal(j.code, 1);
    const parsed = JSON.parse(j.out) as { valid: boolean; diagnostics: { code: string; path: string }[] };
    assert.equal(parsed.valid, false);
    assert.equal(parsed.diagnostics[0]?.code, 'GNI_MISSING');
    const doctype = join(dir, 'doctype.xml');
    writeFileSync(doctype, '<!DOCTYPE x><network-data/>');
    assert.equal((await run(['gni', 'validate', doctype])).code, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('validate: usage errors exit 2 (no file argument, unreadable file)', async () => {
  assert.equal((await run(['gni', 'validate'])).code, 2);
  assert.equal((await run(['gni', 'validate', '/nonexistent/edgenet-gni.xml'])).code, 2);
});

test('show: fetches the JSON model and prints the same XML the builder serializes; --json prints the model', async () => {
  const doc = buildGni(syntheticSnapshot({ instances: 12, groups: 3, rulesPerGroup: 3, clusters: 2, nodesPerCluster: 2 }), {});
  const seen: { url?: string; auth?: string }[] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url, auth: req.headers.authorization });
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(doc));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const r = await run(['gni', 'show', '--url', url]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, serializeGni(doc));
    assert.deepEqual(seen[0], { url: '/v1/gni?format=json', auth: 'Bearer test-token' });
    const j = await run(['gni', 'show', '--url', url, '--json']);
    assert.equal(j.code, 0, j.err);
    assert.deepEqual(JSON.parse(j.out), JSON.parse(JSON.stringify(doc)));
  } finally {
    server.close();
  }
});

test('show: an unreachable CLC is a failure (exit 1), not a crash', async () => {
  const r = await run(['gni', 'show', '--url', 'http://127.0.0.1:9']);
  assert.equal(r.code, 1);
  assert.match(r.err, /CLC_UNREACHABLE/);
});
