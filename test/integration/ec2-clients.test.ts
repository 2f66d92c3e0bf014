/**
 * The issue's EC2 flow with clients edgenet did not write (issue 15):
 * Debian's /usr/bin/aws and boto3 under /usr/bin/python3 against a real
 * cloud controller on loopback (this process; the admin side through the
 * `edgenet` CLI). A tenant creates a group, authorizes and revokes rules in
 * both request forms (the AWS CLI sends `IpPermissions.N`, boto3's
 * `authorize_security_group_ingress(GroupName=…, IpProtocol=…, CidrIp=…)`
 * the flat legacy form), allocates, associates, disassociates and releases
 * an address, describes its instances, runs and terminates one where the
 * cloud allows it; after each step the clients' answer is compared with what
 * the admin CLI shows. Isolation: a second tenant can neither see, change nor
 * reference the first's groups, addresses or instances (each a NotFound),
 * except a source-group rule naming the first's group by UserId + GroupName.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { startCloudController, type RunningCloudController } from '../../src/cloud-controller/main.ts';
import { nullLogger } from '../../src/shared/logger.ts';
import { cliSandbox } from '../unit/cli/cli-sandbox.ts';
import { awsEc2, awsEc2Json, awsErrorCode, boto3, requireAwsClients, type Ec2Credentials } from '../helpers/aws.ts';
import { CONFIG } from '../unit/clc/fixture.ts';

const sandbox = cliSandbox('edgenet-ec2-clients-');
let clc: RunningCloudController;
let adminEnv: Record<string, string>;
const tenant: Record<'a' | 'b', { id: string; creds: Ec2Credentials }> = {} as never;

/** `edgenet …` as the admin; the parsed --json answer. */
async function admin<T = any>(...args: string[]): Promise<T> {
  const r = await sandbox.run([...args, '--json'], adminEnv);
  assert.equal(r.code, 0, `edgenet ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Runs a boto3 snippet; its last printed line parsed as JSON. */
async function py<T = any>(creds: Ec2Credentials, snippet: string): Promise<T> {
  const r = await boto3(creds, snippet);
  assert.equal(r.code, 0, `boto3 failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as T;
}

/** A boto3 call expected to fail: its ClientError code. */
async function pyError(creds: Ec2Credentials, call: string): Promise<string> {
  return (await py<{ code: string }>(creds, `try:\n    ${call}\n    print(json.dumps({"code": None}))\nexcept ClientError as e:\n    print(json.dumps({"code": e.response["Error"]["Code"]}))`)).code;
}

/** An AWS CLI call expected to fail: its EC2 error code. */
async function awsError(creds: Ec2Credentials, args: string[]): Promise<string | undefined> {
  const r = await awsEc2(creds, args);
  assert.notEqual(r.code, 0, `aws ec2 ${args.join(' ')} succeeded: ${r.stdout}`);
  return awsErrorCode(r.stderr);
}

/** Rules as comparable text, from the EC2 answer (IpPermissions) … */
function ec2Rules(group: any): string[] {
  return group.IpPermissions.flatMap((p: any) => {
    const head = `${p.IpProtocol} ${p.FromPort ?? ''}:${p.ToPort ?? ''}`;
    return [
      ...p.IpRanges.map((r: any) => `${head} ${r.CidrIp}`),
      ...p.Ipv6Ranges.map((r: any) => `${head} ${r.CidrIpv6}`),
      ...p.UserIdGroupPairs.map((g: any) => `${head} ${g.UserId}/${g.GroupId}`),
    ];
  }).sort();
}

/** … and from the admin CLI's group (`edgenet group show --json`). */
function adminRules(group: any): string[] {
  return group.rules
    .map((r: any) => `${r.protocolName} ${r.fromPort ?? r.icmpType ?? ''}:${r.toPort ?? r.icmpCode ?? ''} ${r.cidr ?? `${r.sourceGroupOwnerId}/${r.sourceGroupId}`}`)
    .sort();
}

before(async () => {
  clc = await startCloudController({
    dbPath: path.join(sandbox.dir, 'clc.db'),
    host: '127.0.0.1',
    port: 0,
    clcIp: '10.0.0.1',
    tokenFile: path.join(sandbox.dir, 'token'),
    logger: nullLogger(),
    plugins: [],
    ec2: { host: '127.0.0.1', port: 0 },
  });
  adminEnv = { ...sandbox.baseEnv, EDGENET_URL: clc.url, EDGENET_TOKEN: clc.token };
  await clc.properties.set('cloud.network.network_configuration', JSON.stringify(CONFIG));
  await admin('cluster', 'register', 'C1', '--cc', 'https://10.0.0.6:8774/');
  await admin('cluster', 'register', 'C2', '--cc', 'https://10.0.0.16:8774/');
  await admin('node', 'register', 'C1', '10.0.0.7', '--nc', 'https://10.0.0.7:8775/');
  await admin('node', 'register', 'C2', '10.0.0.17', '--nc', 'https://10.0.0.17:8775/');
  for (const [key, name] of [['a', 'tenant-a'], ['b', 'tenant-b']] as const) {
    const made = await admin('account', 'create', name);
    tenant[key] = { id: made.account.id, creds: { endpoint: clc.ec2Url!, accessKeyId: made.accessKey.accessKeyId, secretAccessKey: made.accessKey.secretAccessKey, region: 'edge-1' } };
  }
});
after(() => clc?.stop());

test('a tenant manages a group with the AWS CLI and boto3, in both request forms; the admin CLI shows the same rules', async (t) => {
  if (!requireAwsClients(t)) return;
  const { creds, id: a } = tenant.a;
  const created = await awsEc2Json<{ GroupId: string }>(creds, ['create-security-group', '--group-name', 'web', '--description', 'web servers']);
  assert.match(created.GroupId, /^sg-[0-9a-f]{8}$/);
  const shown = await admin('group', 'show', created.GroupId);
  assert.deepEqual([shown.ownerId, shown.name, shown.description], [a, 'web', 'web servers']);

  // The AWS CLI: IpPermissions.N (CIDRs of both families, ICMP type/code, a source group of the account).
  await awsEc2Json(creds, [
    'authorize-security-group-ingress',
    '--group-id',
    created.GroupId,
    '--ip-permissions',
    'IpProtocol=tcp,FromPort=22,ToPort=22,IpRanges=[{CidrIp=10.0.0.0/8},{CidrIp=192.168.0.0/16}],Ipv6Ranges=[{CidrIpv6=2001:db8::/32}]',
    'IpProtocol=icmp,FromPort=8,ToPort=0,IpRanges=[{CidrIp=0.0.0.0/0}]',
    'IpProtocol=tcp,FromPort=8080,ToPort=8090,UserIdGroupPairs=[{GroupName=default}]',
  ]);
  // boto3's legacy flat form.
  await py(creds, 'print(json.dumps(ec2.authorize_security_group_ingress(GroupName="web", IpProtocol="udp", FromPort=53, ToPort=53, CidrIp="10.1.0.0/16")["Return"]))');
  // A rule the group already has, in either form: InvalidPermission.Duplicate, as EC2.
  assert.equal(await awsError(creds, ['authorize-security-group-ingress', '--group-id', created.GroupId, '--protocol', 'tcp', '--port', '22', '--cidr', '10.0.0.0/8']), 'InvalidPermission.Duplicate');
  assert.equal(await pyError(creds, 'ec2.authorize_security_group_ingress(GroupName="web", IpProtocol="udp", FromPort=53, ToPort=53, CidrIp="10.1.0.0/16")'), 'InvalidPermission.Duplicate');
  const viaCli = (await awsEc2Json<any>(creds, ['describe-security-groups', '--group-ids', created.GroupId])).SecurityGroups[0];
  const viaBoto = (await py(creds, 'print(json.dumps(ec2.describe_security_groups(GroupNames=["web"])["SecurityGroups"]))'))[0];
  const viaAdmin = await admin('group', 'show', 'web', '--owner', 'tenant-a');
  const defaultId = (await admin('group', 'show', 'default', '--owner', 'tenant-a')).id;
  assert.deepEqual(ec2Rules(viaCli), adminRules(viaAdmin));
  assert.deepEqual(ec2Rules(viaBoto), adminRules(viaAdmin));
  assert.deepEqual(adminRules(viaAdmin), [
    'icmp 8:0 0.0.0.0/0',
    `tcp 22:22 10.0.0.0/8`,
    `tcp 22:22 192.168.0.0/16`,
    `tcp 22:22 2001:db8::/32`,
    `tcp 8080:8090 ${a}/${defaultId}`,
    'udp 53:53 10.1.0.0/16',
  ]);
  assert.deepEqual([viaCli.OwnerId, viaCli.GroupName, viaCli.Description, viaCli.IpPermissionsEgress], [a, 'web', 'web servers', []]);

  // Revoke: the CLI's shorthand (--protocol/--port/--cidr) and boto3's flat form.
  await awsEc2Json(creds, ['revoke-security-group-ingress', '--group-name', 'web', '--protocol', 'tcp', '--port', '22', '--cidr', '192.168.0.0/16']);
  await py(creds, 'print(json.dumps(ec2.revoke_security_group_ingress(GroupName="web", IpProtocol="udp", FromPort=53, ToPort=53, CidrIp="10.1.0.0/16")["Return"]))');
  const after = await admin('group', 'show', created.GroupId);
  assert.deepEqual(adminRules(after), ['icmp 8:0 0.0.0.0/0', 'tcp 22:22 10.0.0.0/8', 'tcp 22:22 2001:db8::/32', `tcp 8080:8090 ${a}/${defaultId}`]);
  assert.deepEqual(ec2Rules((await awsEc2Json<any>(creds, ['describe-security-groups', '--group-names', 'web'])).SecurityGroups[0]), adminRules(after));

  // Filters, and EC2's errors as the clients report them.
  const filtered = await awsEc2Json<any>(creds, ['describe-security-groups', '--filters', 'Name=ip-permission.cidr,Values=10.*', 'Name=group-name,Values=w*']);
  assert.deepEqual(filtered.SecurityGroups.map((g: any) => g.GroupName), ['web']);
  assert.equal(await awsError(creds, ['revoke-security-group-ingress', '--group-name', 'web', '--protocol', 'tcp', '--port', '22', '--cidr', '192.168.0.0/16']), 'InvalidPermission.NotFound');
  assert.equal(await awsError(creds, ['delete-security-group', '--group-name', 'default']), 'CannotDelete');
  assert.equal(await pyError(creds, 'ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": ["vpc-1"]}])'), 'InvalidParameterValue');
  assert.equal(await pyError(creds, 'ec2.create_security_group(GroupName="web", Description="again")'), 'InvalidGroup.Duplicate');
});

test('a tenant allocates, associates, disassociates and releases an address and describes its instances; the admin CLI agrees', async (t) => {
  if (!requireAwsClients(t)) return;
  const { creds, id: a } = tenant.a;
  const inst = await admin('instance', 'run', '--owner', 'tenant-a', '--cluster', 'C1', '--group', 'default');
  const alloc = await awsEc2Json<any>(creds, ['allocate-address', '--domain', 'standard']);
  assert.equal(alloc.Domain, 'standard');
  assert.deepEqual((await admin('address', 'list', '--owner', 'tenant-a')).map((x: any) => x.ip), [alloc.PublicIp]);

  const assoc = await awsEc2Json<any>(creds, ['associate-address', '--instance-id', inst.id, '--public-ip', alloc.PublicIp]);
  assert.match(assoc.AssociationId, /^eipassoc-/);
  const shown = await admin('instance', 'show', inst.id);
  assert.equal(shown.publicIp, alloc.PublicIp);
  const described = await awsEc2Json<any>(creds, ['describe-instances']);
  assert.equal(described.Reservations.length, 1);
  const i = described.Reservations[0].Instances[0];
  assert.deepEqual(
    [i.InstanceId, i.PrivateIpAddress, i.PublicIpAddress, i.Placement.AvailabilityZone, i.State.Name, i.NetworkInterfaces[0].MacAddress, i.SecurityGroups.map((g: any) => g.GroupName)],
    [shown.id, shown.privateIp, shown.publicIp, shown.cluster, 'running', shown.mac, ['default']],
  );
  assert.equal(described.Reservations[0].OwnerId, a);
  const addresses = await py(creds, 'print(json.dumps(ec2.describe_addresses()["Addresses"]))');
  assert.deepEqual(addresses, [{ InstanceId: inst.id, PublicIp: alloc.PublicIp, AllocationId: alloc.AllocationId, AssociationId: assoc.AssociationId, Domain: 'standard' }]);
  const byFilter = await py(creds, `print(json.dumps([r["Instances"][0]["InstanceId"] for r in ec2.describe_instances(Filters=[{"Name": "ip-address", "Values": ["${alloc.PublicIp}"]}])["Reservations"]]))`);
  assert.deepEqual(byFilter, [inst.id]);

  await py(creds, `print(json.dumps(ec2.disassociate_address(AssociationId="${assoc.AssociationId}")["ResponseMetadata"]["HTTPStatusCode"]))`);
  assert.equal((await admin('instance', 'show', inst.id)).publicIp, undefined);
  await awsEc2Json(creds, ['release-address', '--allocation-id', alloc.AllocationId]);
  assert.deepEqual(await admin('address', 'list', '--owner', 'tenant-a'), []);
  assert.equal(await awsError(creds, ['release-address', '--public-ip', alloc.PublicIp]), 'InvalidAddress.NotFound');
  const zones = await awsEc2Json<any>(creds, ['describe-availability-zones']);
  assert.deepEqual(zones.AvailabilityZones.map((z: any) => [z.ZoneName, z.State, z.RegionName]), [['C1', 'available', 'edge-1'], ['C2', 'available', 'edge-1']]);
  await admin('instance', 'terminate', inst.id);
});

test('RunInstances and TerminateInstances only where cloud.ec2.run_instances is true', async (t) => {
  if (!requireAwsClients(t)) return;
  const { creds, id: a } = tenant.a;
  assert.equal(await awsError(creds, ['run-instances', '--image-id', 'emi-00000001', '--placement', 'AvailabilityZone=C2']), 'UnsupportedOperation');
  await admin('property', 'set', 'cloud.ec2.run_instances=true');
  try {
    const run = await awsEc2Json<any>(creds, ['run-instances', '--image-id', 'emi-00000001', '--placement', 'AvailabilityZone=C2', '--count', '2']);
    assert.equal(run.Instances.length, 2);
    for (const i of run.Instances) {
      const shown = await admin('instance', 'show', i.InstanceId);
      assert.deepEqual([shown.ownerId, shown.cluster, shown.privateIp, i.State.Code], [a, 'C2', i.PrivateIpAddress, 16]);
    }
    const ended = await py(creds, `print(json.dumps(ec2.terminate_instances(InstanceIds=${JSON.stringify(run.Instances.map((i: any) => i.InstanceId))})["TerminatingInstances"]))`);
    assert.deepEqual(ended.map((e: any) => [e.CurrentState.Name, e.PreviousState.Name]), [['terminated', 'running'], ['terminated', 'running']]);
    assert.deepEqual(await admin('instance', 'list', '--owner', 'tenant-a'), []);
  } finally {
    await admin('property', 'set', 'cloud.ec2.run_instances=false');
  }
});

test('isolation: tenant B can neither see, change nor reference A\'s groups, addresses and instances, except by UserId + GroupName', async (t) => {
  if (!requireAwsClients(t)) return;
  const { creds: credsA, id: a } = tenant.a;
  const { creds: credsB, id: b } = tenant.b;
  const dbA = (await awsEc2Json<any>(credsA, ['create-security-group', '--group-name', 'db', '--description', 'db'])).GroupId;
  const inst = await admin('instance', 'run', '--owner', 'tenant-a', '--cluster', 'C1', '--group', 'default');
  const ipA = (await awsEc2Json<any>(credsA, ['allocate-address'])).PublicIp;
  const ipB = (await py(credsB, 'print(json.dumps(ec2.allocate_address(Domain="standard")["PublicIp"]))')) as string;

  // See.
  const groupsB = (await awsEc2Json<any>(credsB, ['describe-security-groups'])).SecurityGroups;
  assert.ok(groupsB.length > 0 && groupsB.every((g: any) => g.OwnerId === b), JSON.stringify(groupsB));
  assert.equal(await awsError(credsB, ['describe-security-groups', '--group-ids', dbA]), 'InvalidGroup.NotFound');
  assert.equal(await awsError(credsB, ['describe-security-groups', '--group-names', 'db']), 'InvalidGroup.NotFound');
  assert.deepEqual((await awsEc2Json<any>(credsB, ['describe-addresses'])).Addresses.map((x: any) => x.PublicIp), [ipB]);
  assert.equal(await awsError(credsB, ['describe-addresses', '--public-ips', ipA]), 'InvalidAddress.NotFound');
  assert.deepEqual((await awsEc2Json<any>(credsB, ['describe-instances'])).Reservations, []);
  assert.equal(await awsError(credsB, ['describe-instances', '--instance-ids', inst.id]), 'InvalidInstanceID.NotFound');

  // Change.
  assert.equal(await awsError(credsB, ['authorize-security-group-ingress', '--group-id', dbA, '--protocol', 'tcp', '--port', '5432', '--cidr', '0.0.0.0/0']), 'InvalidGroup.NotFound');
  assert.equal(await pyError(credsB, `ec2.revoke_security_group_ingress(GroupId="${dbA}", IpProtocol="tcp", FromPort=1, ToPort=1, CidrIp="0.0.0.0/0")`), 'InvalidGroup.NotFound');
  assert.equal(await awsError(credsB, ['delete-security-group', '--group-id', dbA]), 'InvalidGroup.NotFound');
  assert.equal(await awsError(credsB, ['release-address', '--public-ip', ipA]), 'InvalidAddress.NotFound');
  assert.equal(await awsError(credsB, ['associate-address', '--instance-id', inst.id, '--public-ip', ipB]), 'InvalidInstanceID.NotFound');
  assert.equal(await pyError(credsB, `ec2.disassociate_address(PublicIp="${ipA}")`), 'InvalidAddress.NotFound');

  // Reference: A's group by id is not found for B; by A's UserId + the group's name it is EC2-Classic's cross-account rule.
  const webB = (await awsEc2Json<any>(credsB, ['create-security-group', '--group-name', 'app', '--description', 'app'])).GroupId;
  assert.equal(
    await awsError(credsB, ['authorize-security-group-ingress', '--group-id', webB, '--ip-permissions', `IpProtocol=tcp,FromPort=5432,ToPort=5432,UserIdGroupPairs=[{GroupId=${dbA}}]`]),
    'InvalidGroup.NotFound',
  );
  await awsEc2Json(credsB, ['authorize-security-group-ingress', '--group-id', webB, '--ip-permissions', `IpProtocol=tcp,FromPort=5432,ToPort=5432,UserIdGroupPairs=[{UserId=${a},GroupName=db}]`]);
  await py(credsB, `print(json.dumps(ec2.authorize_security_group_ingress(GroupId="${webB}", SourceSecurityGroupName="db", SourceSecurityGroupOwnerId="${a}", IpProtocol="udp", FromPort=1, ToPort=2)["Return"]))`);
  const appB = (await awsEc2Json<any>(credsB, ['describe-security-groups', '--group-ids', webB])).SecurityGroups[0];
  assert.deepEqual(ec2Rules(appB), [`tcp 5432:5432 ${a}/${dbA}`, `udp 1:2 ${a}/${dbA}`]);
  assert.deepEqual(adminRules(await admin('group', 'show', webB)), ec2Rules(appB));

  // Nothing of A's changed.
  assert.deepEqual(adminRules(await admin('group', 'show', dbA)), []);
  assert.deepEqual((await admin('address', 'list', '--owner', 'tenant-a')).map((x: any) => x.ip), [ipA]);
  assert.equal((await admin('instance', 'show', inst.id)).publicIp, undefined);
});
