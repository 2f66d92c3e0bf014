/**
 * On one lab, as an operator drives it (real CLI processes):
 * - `edgenet lab kill|stop|start|restart <daemon> [--node N]` (issue 18 item 11);
 * - a killed netd shows in `edgenet status` at once — without any document
 *   change — with what to do, and status exits 1 (item 4);
 * - Debian's cloud-init EC2 metadata crawler, run inside an instance namespace
 *   against the real metadata service through netd's DNAT of
 *   169.254.169.254, reads the instance's id, hostnames and addresses (item 6).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs, existsSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { requireRoot, isRoot } from '../helpers/root.ts';
import { createExec } from '../../src/shared/exec.ts';
import { EDGENET_BIN } from '../../src/lab/daemons.ts';
import { labPrefix } from '../../src/lab/plan.ts';
import { teardownByPrefix } from '../../src/lab/topology.ts';
import { waitFor } from '../../src/shared/wait.ts';
import type { StatusView } from '../../src/cloud-controller/broadcast/status-view.ts';

const exec = createExec();
const name = `d${randomBytes(3).toString('hex')}`;
const dir = path.join(os.tmpdir(), `edgenet-labd-${name}`);
const N1 = '172.31.0.11';
let up = false;

const cli = (args: readonly string[]) => exec.run([process.execPath, EDGENET_BIN, ...args], { okExitCodes: Array.from({ length: 256 }, (_, i) => i), timeoutMs: 300_000 });
const lab = (args: readonly string[]) => cli(['lab', ...args, '--name', name, '--dir', dir]);
const inLab = (args: readonly string[]) => cli(['lab', 'exec', '--name', name, '--dir', dir, '--', ...args]);

async function status(): Promise<{ code: number; view: StatusView; text: string }> {
  const json = await inLab(['status', '--json']);
  const text = await inLab(['status']);
  return { code: json.exitCode, view: JSON.parse(json.stdout) as StatusView, text: text.stdout };
}

const nodeView = (view: StatusView, node: string) => view.clusters.flatMap((c) => c.nodes).find((n) => n.name === node);
/** Running (a killed daemon may linger as a zombie until init reaps it: its cmdline is empty). */
const pidAlive = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`).length > 0;
  } catch {
    return false;
  }
};

before(async () => {
  if (!isRoot()) return;
  const r = await lab(['up']);
  assert.equal(r.exitCode, 0, r.stderr);
  up = true;
});

after(async () => {
  if (!isRoot()) return;
  await lab(['down']).catch(() => undefined);
  await teardownByPrefix(labPrefix(name), { exec }).catch(() => undefined);
  await fs.rm(dir, { recursive: true, force: true });
});

test('lab kill netd: status shows netd-dead on that node at once, with no document change; lab start brings it back', { timeout: 300_000 }, async (t) => {
  if (!requireRoot(t) || !up) return;
  const before = await status();
  assert.equal(before.code, 0, before.text);
  assert.equal(nodeView(before.view, N1)?.netd, 'ok');
  const sequence = before.view.current!.sequence;

  const killed = await lab(['kill', 'netd', '--node', 'n1', '--json']);
  assert.equal(killed.exitCode, 0, killed.stderr);
  const k = JSON.parse(killed.stdout) as { action: string; daemon: string; node: string; previousPid: number };
  assert.deepEqual([k.action, k.daemon, k.node], ['kill', 'netd', 'n1']);
  assert.equal(pidAlive(k.previousPid), false, 'the netd process is gone');

  const dead = await waitFor(
    async () => {
      const s = await status();
      return nodeView(s.view, N1)?.netd === 'netd-dead' ? s : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 250, what: 'status to show netd dead on n1' },
  );
  assert.equal(dead.view.current!.sequence, sequence, 'no document was built meanwhile');
  assert.equal(dead.code, 1, 'status exits non-zero');
  assert.equal(nodeView(dead.view, N1)!.converged, false);
  assert.equal(nodeView(dead.view, '172.31.0.12')!.netd, 'ok', 'the other node is unaffected');
  assert.match(dead.text, new RegExp(`netd not running on node ${N1.replaceAll('.', '\\.')}.*: systemctl start edgenet-netd`));
  const labStatus = JSON.parse((await lab(['status', '--json'])).stdout) as { processes: { role: string; node?: string }[] };
  assert.equal(labStatus.processes.some((p) => p.role === 'netd' && p.node === 'n1'), false, 'lab status no longer lists it');

  const started = await lab(['start', 'netd', '--node', 'n1', '--json']);
  assert.equal(started.exitCode, 0, started.stderr);
  const s = JSON.parse(started.stdout) as { pid: number };
  assert.ok(pidAlive(s.pid));
  const again = await lab(['start', 'netd', '--node', 'n1']);
  assert.equal(again.exitCode, 1);
  assert.match(again.stderr, /LAB_DAEMON_RUNNING/);
  await waitFor(async () => ((await status()).code === 0 ? true : undefined), { timeoutMs: 60_000, intervalMs: 250, what: 'the cloud to converge again' });
});

test('lab restart cc, stop/start nc: new pids, the cloud converges again; bad arguments are refused', { timeout: 300_000 }, async (t) => {
  if (!requireRoot(t) || !up) return;
  const restarted = await lab(['restart', 'cc', '--json']);
  assert.equal(restarted.exitCode, 0, restarted.stderr);
  const r = JSON.parse(restarted.stdout) as { previousPid: number; pid: number };
  assert.notEqual(r.pid, r.previousPid);
  assert.equal(pidAlive(r.previousPid), false);
  assert.ok(pidAlive(r.pid));

  const stopped = await lab(['stop', 'nc', '--node', 'n2']);
  assert.equal(stopped.exitCode, 0, stopped.stderr);
  assert.match(stopped.stdout, /stopped nc on n2 \(was pid \d+\)/);
  const unreachable = await waitFor(
    async () => {
      const s = await status();
      return nodeView(s.view, '172.31.0.12')?.result === 'unreachable' ? s : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 250, what: 'n2 to show unreachable' },
  );
  assert.equal(unreachable.code, 1);
  assert.equal((await lab(['start', 'nc', '--node', 'n2'])).exitCode, 0);
  await waitFor(async () => ((await status()).code === 0 ? true : undefined), { timeoutMs: 60_000, intervalMs: 250, what: 'the cloud to converge again' });

  for (const [args, code] of [[['kill', 'nc'], /LAB_NODE_REQUIRED/], [['kill', 'cc', '--node', 'n1'], /LAB_NODE_UNEXPECTED/], [['kill', 'bogus'], /LAB_UNKNOWN_DAEMON/], [['kill', 'netd', '--node', 'n9'], /LAB_UNKNOWN_NODE/]] as const) {
    const bad = await lab(args);
    assert.equal(bad.exitCode, 1, args.join(' '));
    assert.match(bad.stderr, code, args.join(' '));
  }
});

interface Crawled {
  readonly md: Record<string, unknown>;
  /** cloud-init's crawl of dynamic/instance-identity/: the document, parsed. */
  readonly identity: { document?: Record<string, unknown> };
  readonly userdata: string;
}

/** Runs in the instance namespace: cloud-init's own EC2 crawler, through 169.254.169.254. */
const CRAWLER = `
import json
from cloudinit.sources.helpers import ec2
md = ec2.get_instance_metadata(api_version='latest', metadata_address='http://169.254.169.254', timeout=5, retries=3)
ident = ec2.get_instance_identity(api_version='latest', metadata_address='http://169.254.169.254', timeout=5, retries=3)
ud = ec2.get_instance_userdata(api_version='latest', metadata_address='http://169.254.169.254', timeout=5, retries=3)
print(json.dumps({'md': md, 'identity': ident, 'userdata': ud.decode() if isinstance(ud, bytes) else ud}))
`;

test("cloud-init's EC2 crawler in an instance reads its id, hostnames and addresses from the metadata service", { timeout: 300_000 }, async (t) => {
  if (!requireRoot(t) || !up) return;
  if (!existsSync('/usr/lib/python3/dist-packages/cloudinit/sources/helpers/ec2.py')) {
    assert.notEqual(process.env.CI, 'true', 'cloud-init is not installed (scripts/setup.sh installs it)');
    t.skip('cloud-init is not installed (run scripts/setup.sh as root)');
    return;
  }
  assert.equal((await inLab(['group', 'create', 'ci'])).exitCode, 0);
  const run = await inLab(['instance', 'run', '--cluster', 'PARTI00', '--node', N1, '--group', 'ci', '--json']);
  assert.equal(run.exitCode, 0, run.stderr);
  const vm = JSON.parse(run.stdout) as { id: string; mac: string; privateIp: string };
  const alloc = await inLab(['address', 'allocate', '--json']);
  assert.equal(alloc.exitCode, 0, alloc.stderr);
  const publicIp = (JSON.parse(alloc.stdout) as { ip: string }).ip;
  assert.equal((await inLab(['address', 'associate', publicIp, vm.id])).exitCode, 0);
  const add = await lab(['vm', 'add', vm.id]);
  assert.equal(add.exitCode, 0, add.stderr);

  let last = '';
  const out: Crawled = await waitFor(
    async (): Promise<Crawled | undefined> => {
      // Lab options before `--`: everything after it is the command.
      const r = await cli(['lab', 'sh', '--name', name, '--dir', dir, vm.id, '--', '/usr/bin/python3', '-c', CRAWLER]);
      last = `exit ${r.exitCode}: ${r.stdout.slice(-300)} ${r.stderr.slice(-500)}`;
      if (r.exitCode !== 0) return undefined;
      const parsed = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Crawled;
      // The public address is applied by netd after the association: wait for it too.
      return parsed.md['public-ipv4'] === publicIp ? parsed : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 1000, what: 'the crawler to read the metadata' },
  ).catch((err: unknown) => assert.fail(`${(err as Error).message}; last attempt: ${last}`));
  const dashed = (ip: string) => ip.replaceAll('.', '-');
  assert.equal(out.md['instance-id'], vm.id);
  assert.equal(out.md['local-ipv4'], vm.privateIp);
  assert.equal(out.md['public-ipv4'], publicIp);
  assert.equal(out.md.mac, vm.mac);
  assert.equal(out.md.hostname, `euca-${dashed(vm.privateIp)}.eucalyptus.internal`);
  assert.equal(out.md['local-hostname'], out.md.hostname);
  assert.equal(out.md['public-hostname'], `euca-${dashed(publicIp)}.eucalyptus.localhost`);
  assert.equal(out.md['security-groups'], 'ci');
  const macs = (out.md.network as { interfaces: { macs: Record<string, Record<string, unknown>> } }).interfaces.macs;
  assert.deepEqual(Object.keys(macs), [vm.mac]);
  assert.deepEqual([macs[vm.mac]!['local-ipv4s'], macs[vm.mac]!['public-ipv4s'], macs[vm.mac]!['device-number']], [vm.privateIp, publicIp, '0']);
  const doc = out.identity.document ?? {};
  assert.deepEqual([doc.instanceId, doc.privateIp, doc.availabilityZone], [vm.id, vm.privateIp, 'PARTI00']);
  assert.equal(out.userdata, '', 'no user-data (404) reads as empty');
});
