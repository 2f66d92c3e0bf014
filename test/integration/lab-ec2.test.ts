/**
 * End to end through the EC2 Query endpoint (issue 15), driven only by the
 * AWS CLI (/usr/bin/aws, test/helpers/aws.ts), with real packets in a lab.
 *
 * The one admin step is creating the tenant's account (POST /v1/accounts,
 * what `edgenet account create` calls). Everything else the tenant does with
 * `aws ec2`: create a group, run an instance, authorize and revoke
 * a tcp port from the lab client, allocate / associate / disassociate /
 * release a public address, describe and terminate the instance. After each
 * change the test waits until a document built after it is applied on every
 * node (waitForConvergedAfter: edgenet status), then probes from the client
 * namespace with real TCP connections.
 *
 * RunInstances only creates the instance's record (cloud.ec2.run_instances,
 * which `lab up` sets): edgenet is not a compute service. The lab plays the
 * hypervisor with its vm add function (`edgenet lab vm add <id>`: a
 * namespace on the node the CLC chose, DHCP and SLAAC from netd's dhcpd and
 * radvd) and vm del. What the tenant sees is compared with what the admin
 * sees through `edgenet instance show --json` (the admin CLI).
 *
 * Time (about 2 minutes): one lab, independent checks run side by side,
 * library calls instead of CLI processes where the CLI is not the subject.
 *
 * The client (203.0.113.2, 2001:db8:ffff::2) reaches an instance two ways:
 * its global IPv6 address (public IPv6 has no NAT; the lab is dual stack) and
 * a public IPv4 address once one is associated. The rule's two ranges admit
 * it on both.
 *
 * Cleanup: `lab down` and a teardown by prefix in after(), whatever failed
 * (the test servers run inside the instance namespace: killed by pid, and
 * with the namespace anyway).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { requireRoot, isRoot } from '../helpers/root.ts';
import { awsEc2, awsEc2Json, awsErrorCode, requireAwsClients, type Ec2Credentials } from '../helpers/aws.ts';
import { createExec, type Process } from '../../src/shared/exec.ts';
import { EDGENET_BIN } from '../../src/lab/daemons.ts';
import { labPrefix } from '../../src/lab/plan.ts';
import { teardownByPrefix } from '../../src/lab/topology.ts';
import { labUp, waitForConvergedAfter, type LabDeps } from '../../src/lab/up.ts';
import { labDown } from '../../src/lab/down.ts';
import { labApiEnv, labApiFor } from '../../src/lab/api.ts';
import { labTopology, labVmAdd, labVmDel } from '../../src/lab/vm.ts';
import { probeExpecting, startServices, waitForServices, type ProbeResult } from '../../src/lab/probe.ts';

const exec = createExec();
const name = `x${randomBytes(3).toString('hex')}`;
const dir = path.join(os.tmpdir(), `edgenet-labec2-${name}`);
const deps: LabDeps = { exec, env: process.env, log: (l) => process.stderr.write(`# ${l}\n`) };
const PORT = 8080;
const servers: Process[] = [];
let labStarted = false;

after(async () => {
  if (!isRoot() || !labStarted) return;
  for (const p of servers) p.kill('SIGKILL');
  await labDown({ name, dir }, deps).catch((err: unknown) => deps.log(`lab down: ${String(err)}`));
  await teardownByPrefix(labPrefix(name), { exec }).catch(() => undefined);
  await fs.rm(dir, { recursive: true, force: true });
});

interface Ec2Instance {
  InstanceId: string;
  PrivateIpAddress?: string;
  PublicIpAddress?: string;
  MacAddress?: string;
  NetworkInterfaces?: { MacAddress?: string; PrivateIpAddress?: string }[];
  SecurityGroups?: { GroupId: string; GroupName: string }[];
  Placement?: { AvailabilityZone?: string };
  State?: { Name?: string };
}

interface AdminInstance {
  id: string;
  ownerId: string;
  mac: string;
  privateIp: string;
  publicIp?: string;
  groups: string[];
  cluster: string;
}

test('a tenant drives groups, an instance and a public address with the AWS CLI; the nodes apply every change (real packets)', { timeout: 300_000 }, async (t) => {
  if (!requireRoot(t) || !requireAwsClients(t)) return;
  const started = Date.now();
  const mark = (what: string) => deps.log(`${((Date.now() - started) / 1000).toFixed(1)} s: ${what}`);

  labStarted = true;
  const state = await labUp({ name, dir }, deps);
  assert.ok(state.ec2, 'the state file records the EC2 endpoint');
  const plan = state.plan;
  assert.ok(plan.ipv6, 'the default lab is dual stack');
  const api = labApiFor(state);
  const topo = labTopology(state, { exec });
  const clientNs = topo.clientNs!;
  mark('lab up');

  // The one admin step: an account for the tenant, with its first access key.
  const account = await api.request<{ account: { id: string; name: string }; accessKey: { accessKeyId: string; secretAccessKey: string } }>('POST', '/v1/accounts', { name: 'e2e' });
  const creds: Ec2Credentials = { endpoint: state.ec2.url, accessKeyId: account.accessKey.accessKeyId, secretAccessKey: account.accessKey.secretAccessKey, region: plan.ec2Region };
  const aws = <T = Record<string, unknown>>(...args: string[]) => awsEc2Json<T>(creds, args);
  /** The admin CLI against the lab's CLC (`edgenet … --json`). */
  const admin = async <T>(...args: string[]): Promise<T> => {
    const r = await exec.run([process.execPath, EDGENET_BIN, ...args, '--json'], { env: labApiEnv(state), okExitCodes: Array.from({ length: 256 }, (_, i) => i), timeoutMs: 120_000 });
    assert.equal(r.exitCode, 0, `edgenet ${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };
  /** Runs one tenant change, then waits until a document built after it is applied on every node. */
  const changed = async <T>(call: () => Promise<T>): Promise<T> => {
    const since = Date.now();
    const result = await call();
    await waitForConvergedAfter(api, since, { timeoutMs: 90_000 });
    return result;
  };
  const tcp = { proto: 'tcp' as const, port: PORT };
  const reach = async (ip: string, expected: ProbeResult, what: string) => {
    assert.equal(await probeExpecting(topo.netns, { from: clientNs, ip, service: tcp }, expected), expected, `client → ${ip}:${PORT} ${what}`);
  };
  const describe = async (id: string) => (await aws<{ Reservations: { Instances: Ec2Instance[] }[] }>('describe-instances', '--instance-ids', id)).Reservations.flatMap((r) => r.Instances);

  // The group, and an instance in it: RunInstances makes the record, the lab attaches the namespace.
  const group = await aws<{ GroupId: string }>('create-security-group', '--group-name', 'web', '--description', 'lab e2e web');
  assert.match(group.GroupId, /^sg-[0-9a-f]{8}$/);
  const run = await aws<{ Instances: Ec2Instance[] }>('run-instances', '--image-id', 'emi-00000000', '--count', '1', '--security-group-ids', group.GroupId);
  assert.equal(run.Instances.length, 1);
  const id = run.Instances[0]!.InstanceId;
  assert.match(id, /^i-[0-9a-f]{8}$/);
  const vm = await labVmAdd(state, api, { id, timeoutMs: 90_000 }, deps);
  assert.equal(vm.lease?.ip, run.Instances[0]!.PrivateIpAddress, 'DHCP hands out the address RunInstances answered');
  const ipv6 = vm.ipv6?.address;
  assert.ok(ipv6, 'the instance got its global IPv6 address');
  servers.push(startServices(topo.netns, vm.instance.ns, { name: 'web1', tcpPorts: [PORT] }));
  await waitForServices(topo.netns, vm.instance.ns, [PORT]);
  mark(`instance ${id} attached on ${vm.view.node}`);

  // No rule admits the client yet (over IPv6: it has no public IPv4 address yet).
  await reach(ipv6, 'blocked', 'before any rule');

  // tcp 8080 from the client's IPv4 and IPv6 addresses, in the IpPermissions form.
  const permission = JSON.stringify([{ IpProtocol: 'tcp', FromPort: PORT, ToPort: PORT, IpRanges: [{ CidrIp: `${plan.clientIp}/32` }], Ipv6Ranges: [{ CidrIpv6: `${plan.ipv6.clientIp}/128` }] }]);
  await changed(() => aws('authorize-security-group-ingress', '--group-id', group.GroupId, '--ip-permissions', permission));
  await reach(ipv6, 'allowed', 'after authorize-security-group-ingress');
  mark('authorized: the client reaches the instance');

  await changed(() => aws('revoke-security-group-ingress', '--group-id', group.GroupId, '--ip-permissions', permission));
  await reach(ipv6, 'blocked', 'after revoke-security-group-ingress');
  mark('revoked: it does not');

  // The rule again, and a public IPv4 address.
  await aws('authorize-security-group-ingress', '--group-id', group.GroupId, '--ip-permissions', permission);
  const address = await aws<{ PublicIp: string }>('allocate-address');
  assert.ok(plan.publicPool.includes(address.PublicIp), `${address.PublicIp} is from the lab's public pool`);
  await changed(() => aws('associate-address', '--instance-id', id, '--public-ip', address.PublicIp));
  // Side by side: packets to the public address; what the tenant and the admin are shown.
  const [, described, shown] = await Promise.all([reach(address.PublicIp, 'allowed', 'after associate-address'), describe(id), admin<AdminInstance>('instance', 'show', id)]);
  mark(`associated ${address.PublicIp}: the client reaches it`);

  // describe-instances shows what `edgenet instance show` shows.
  assert.equal(described.length, 1);
  const d = described[0]!;
  assert.equal(shown.ownerId, account.account.id);
  assert.equal(d.InstanceId, shown.id);
  assert.equal(d.PrivateIpAddress, shown.privateIp);
  assert.equal(d.PublicIpAddress, shown.publicIp);
  assert.equal(shown.publicIp, address.PublicIp);
  assert.equal(d.MacAddress ?? d.NetworkInterfaces?.[0]?.MacAddress, shown.mac);
  assert.equal(shown.mac, vm.instance.mac);
  assert.deepEqual(d.SecurityGroups?.map((g) => g.GroupId), shown.groups);
  assert.deepEqual(d.SecurityGroups?.map((g) => g.GroupName), ['web']);
  assert.equal(d.Placement?.AvailabilityZone, shown.cluster);

  await changed(() => aws('disassociate-address', '--public-ip', address.PublicIp));
  const [, , afterDisassociate] = await Promise.all([
    reach(address.PublicIp, 'blocked', 'after disassociate-address (the rule still admits the client)'),
    reach(ipv6, 'allowed', 'over IPv6 meanwhile (the instance and the rule are there)'),
    describe(id),
  ]);
  assert.equal(afterDisassociate[0]?.PublicIpAddress, undefined, 'no public address after disassociate-address');
  await aws('release-address', '--public-ip', address.PublicIp);
  mark('disassociated: the public address no longer reaches it; released');

  // Terminate: the record goes (terminate-instances), the lab removes the namespace.
  const [addresses, terminated] = await Promise.all([aws<{ Addresses: unknown[] }>('describe-addresses'), aws<{ TerminatingInstances: { InstanceId: string }[] }>('terminate-instances', '--instance-ids', id)]);
  assert.deepEqual(addresses.Addresses, [], 'the tenant holds no address after release-address');
  assert.deepEqual(terminated.TerminatingInstances.map((i) => i.InstanceId), [id]);
  const [gone] = await Promise.all([awsEc2(creds, ['describe-instances', '--instance-ids', id]), labVmDel(state, id, { exec })]);
  assert.notEqual(gone.code, 0, 'the terminated instance is no longer described');
  assert.equal(awsErrorCode(gone.stderr), 'InvalidInstanceID.NotFound');
  mark('terminated');
});
