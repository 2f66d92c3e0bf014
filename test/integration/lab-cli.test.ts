/**
 * `edgenet lab up|status|exec|down` as an operator runs them (real CLI
 * processes), and `down` after a crash of `up`: no namespace, process or file
 * of the lab is left either way.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs, existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { requireRoot, isRoot } from '../helpers/root.ts';
import { createExec } from '../../src/shared/exec.ts';
import { createNetns } from '../../src/lab/netns.ts';
import { EDGENET_BIN } from '../../src/lab/daemons.ts';
import { labPrefix } from '../../src/lab/plan.ts';
import { teardownByPrefix } from '../../src/lab/topology.ts';
import { waitFor } from '../../src/shared/wait.ts';

const exec = createExec();
const netns = createNetns(exec);
const labs: { name: string; dir: string }[] = [];

function newLab(): { name: string; dir: string } {
  const name = `c${randomBytes(3).toString('hex')}`;
  const lab = { name, dir: path.join(os.tmpdir(), `edgenet-labcli-${name}`) };
  labs.push(lab);
  return lab;
}

const cli = (args: readonly string[]) => exec.run([process.execPath, EDGENET_BIN, ...args], { okExitCodes: [0, 1, 2], timeoutMs: 300_000 });

/** Processes whose command line mentions the lab directory. */
async function processesOf(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await fs.readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(dir)) pids.push(Number(entry));
  }
  return pids;
}

async function assertNothingLeft(lab: { name: string; dir: string }): Promise<void> {
  assert.deepEqual(await netns.list(`${labPrefix(lab.name)}-`), [], 'no namespace left');
  assert.equal(existsSync(lab.dir), false, 'the lab directory is gone');
  const etc = await fs.readdir('/etc/netns').catch(() => [] as string[]);
  assert.deepEqual(etc.filter((e) => e.startsWith(`${labPrefix(lab.name)}-`)), [], 'no /etc/netns entry left');
  // The host relay exits by itself within a second or two once the state file is gone.
  await waitFor(async () => (await processesOf(lab.dir)).length === 0, { timeoutMs: 10_000, what: 'every lab process to exit' });
}

after(async () => {
  if (!isRoot()) return;
  for (const lab of labs) {
    await cli(['lab', 'down', '--name', lab.name, '--dir', lab.dir]).catch(() => undefined);
    await teardownByPrefix(labPrefix(lab.name), { exec }).catch(() => undefined);
  }
});

test('lab up, status, exec and down through the CLI leave nothing behind', { timeout: 600_000 }, async (t) => {
  if (!requireRoot(t)) return;
  const lab = newLab();
  const up = await cli(['lab', 'up', '--name', lab.name, '--dir', lab.dir]);
  assert.equal(up.exitCode, 0, up.stderr);
  assert.match(up.stdout, /EDGENET_URL=http:\/\/127\.0\.0\.1:\d+/);
  assert.match(up.stdout, /EC2 endpoint \(AWS CLI, boto3\): http:\/\/127\.0\.0\.1:\d+/);

  const status = await cli(['lab', 'status', '--name', lab.name, '--dir', lab.dir, '--json']);
  assert.equal(status.exitCode, 0, status.stdout + status.stderr);
  const report = JSON.parse(status.stdout) as {
    phase: string;
    processes: { role: string; alive: boolean }[];
    namespaces: string[];
    api: { reachable: boolean; status: { converged: boolean } };
    ec2: { url: string; reachable: boolean; tenant: { name: string; credentialsFile: string } };
  };
  assert.equal(report.phase, 'up');
  assert.deepEqual(report.processes.map((p) => p.role).sort(), ['cc', 'clc', 'nc', 'nc', 'netd', 'netd', 'relay-ctl', 'relay-ctl-ec2', 'relay-host', 'relay-host-ec2']);
  assert.ok(report.processes.every((p) => p.alive));
  assert.equal(report.namespaces.length, 5);
  assert.equal(report.api.status.converged, true);
  // The EC2 endpoint answers from the host (an unsigned request gets an EC2 error document).
  assert.equal(report.ec2.reachable, true, JSON.stringify(report.ec2));
  assert.match(report.ec2.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(report.ec2.tenant.name, 'tenant');
  assert.equal(report.ec2.tenant.credentialsFile, path.join(lab.dir, 'tenant-credentials'));
  assert.equal((await fs.stat(report.ec2.tenant.credentialsFile)).mode & 0o777, 0o600);
  const text = await cli(['lab', 'status', '--name', lab.name, '--dir', lab.dir]);
  assert.match(text.stdout, /EC2 endpoint http:\/\/127\.0\.0\.1:\d+: answering; account tenant \(\d{12}\)/);

  const clusters = await cli(['lab', 'exec', '--name', lab.name, '--dir', lab.dir, '--', 'node', 'list']);
  assert.equal(clusters.exitCode, 0, clusters.stderr);
  assert.match(clusters.stdout, /172\.31\.0\.11/);
  assert.match(clusters.stdout, /172\.31\.0\.12/);
  const env = await cli(['lab', 'env', '--name', lab.name, '--dir', lab.dir]);
  assert.match(env.stdout, /^export EDGENET_URL='http:\/\/127\.0\.0\.1:\d+'\nexport EDGENET_TOKEN='[0-9a-f]+'\n$/);

  const down = await cli(['lab', 'down', '--name', lab.name, '--dir', lab.dir]);
  assert.equal(down.exitCode, 0, down.stderr);
  await assertNothingLeft(lab);
  const after = await cli(['lab', 'status', '--name', lab.name, '--dir', lab.dir]);
  assert.equal(after.exitCode, 1);
  assert.match(after.stdout, /down/);
});

test('down cleans up after `lab up` was killed half-way', { timeout: 600_000 }, async (t) => {
  if (!requireRoot(t)) return;
  const lab = newLab();
  const up = exec.start([process.execPath, EDGENET_BIN, 'lab', 'up', '--name', lab.name, '--dir', lab.dir]);
  // Kill it once daemons are being started (the state file lists processes).
  await waitFor(
    async () => {
      const text = await fs.readFile(path.join(lab.dir, 'lab.json'), 'utf8').catch(() => '');
      return text.includes('"role": "cc"') || undefined;
    },
    { timeoutMs: 240_000, intervalMs: 50, what: 'lab up to start its daemons' },
  );
  up.kill('SIGKILL');
  await up.exited;
  assert.ok((await netns.list(`${labPrefix(lab.name)}-`)).length > 0, 'the crash left namespaces behind');
  const down = await cli(['lab', 'down', '--name', lab.name, '--dir', lab.dir]);
  assert.equal(down.exitCode, 0, down.stderr);
  await assertNothingLeft(lab);
});

test('lab up refuses a lab that exists and names must be simple', { timeout: 60_000 }, async (t) => {
  if (!requireRoot(t)) return;
  const bad = await cli(['lab', 'up', '--name', 'Bad-Name', '--dir', path.join(os.tmpdir(), 'edgenet-labcli-bad')]);
  assert.equal(bad.exitCode, 1);
  assert.match(bad.stderr, /LAB_BAD_NAME/);
  const lab = newLab();
  await fs.mkdir(lab.dir, { recursive: true });
  await fs.writeFile(path.join(lab.dir, 'lab.json'), JSON.stringify({ version: 1, plan: { prefix: labPrefix(lab.name) }, processes: [] }));
  const again = await cli(['lab', 'up', '--name', lab.name, '--dir', lab.dir]);
  assert.equal(again.exitCode, 1);
  assert.match(again.stderr, /LAB_EXISTS/);
  assert.deepEqual(await netns.list(`${labPrefix(lab.name)}-`), [], 'nothing was created');
  await fs.rm(lab.dir, { recursive: true, force: true });
});
