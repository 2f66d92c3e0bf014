/**
 * The EC2 endpoint's authentication and protocol against the clients edgenet
 * did not write (/usr/bin/aws, boto3 under /usr/bin/python3) and a real CLC
 * on loopback (startCloudController with the EC2 listener on a free port, a
 * clock the test can shift so nothing sleeps): a good key works; a wrong
 * secret, an unknown key, no signature, a tampered body, an expired
 * x-amz-date and a replay of a captured AWS CLI request outside the window
 * are refused with EC2's codes; InvalidAction, UnknownParameter, 413 and the
 * rate limit as the clients report them; GET, /services/compute; HTTPS with
 * AWS_CA_BUNDLE; a taken port fails the start with LISTEN_FAILED.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { tmpdir } from 'node:os';
import { nullLogger } from '../../src/shared/logger.ts';
import { systemClock, type Clock } from '../../src/shared/clock.ts';
import { EdgenetError } from '../../src/shared/errors.ts';
import { startCloudController, type CloudControllerOptions, type RunningCloudController } from '../../src/cloud-controller/main.ts';
import { awsEc2, awsEc2Json, awsErrorCode, boto3, requireAwsClients, type Ec2Credentials } from '../helpers/aws.ts';
import { ec2Call, ec2ErrorOf, sendRaw, signEc2 } from '../helpers/sigv4-client.ts';
import { tlsFixture } from '../helpers/tls-fixture.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'edgenet-ec2-auth-'));
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
const tls = tlsFixture('edgenet-ec2-tls-');

/** The CLC's clock: real time, shifted by `offset`, or frozen at `frozen`. */
const shift = { offset: 0, frozen: undefined as number | undefined };
const clock: Clock = { now: () => shift.frozen ?? Date.now() + shift.offset, setTimeout: systemClock.setTimeout, clearTimeout: systemClock.clearTimeout };

const MAX_BODY = 16 * 1024;
const RATE_BURST = 10;
let clc: RunningCloudController;
let seq = 0;

function baseOptions(name: string): CloudControllerOptions {
  return { dbPath: path.join(dir, `${name}.db`), host: '127.0.0.1', port: 0, clcIp: '127.0.0.1', tokenFile: path.join(dir, `${name}.token`), logger: nullLogger(), clock, plugins: [] };
}

before(async () => {
  clc = await startCloudController({ ...baseOptions('clc'), ec2: { host: '127.0.0.1', port: 0, maxBodyBytes: MAX_BODY, rateLimit: 1, rateBurst: RATE_BURST } });
});

after(async () => {
  await clc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh account (each test its own key, so rate-limit buckets do not mix) and its credentials. */
async function tenant(endpoint = clc.ec2Url!): Promise<Ec2Credentials & { accountId: string }> {
  const created = await clc.state.createAccount({ name: `tenant-${++seq}` });
  return { endpoint, accessKeyId: created.accessKey.accessKeyId, secretAccessKey: created.accessKey.secretAccessKey, region: 'eucalyptus', accountId: created.account.id };
}

async function cliCode(t: Ec2Credentials, args: string[]): Promise<string | undefined> {
  const r = await awsEc2(t, args);
  assert.notEqual(r.code, 0, `aws ec2 ${args.join(' ')} should fail:\n${r.stdout}`);
  return awsErrorCode(r.stderr) ?? `(no code) ${r.stderr.trim()}`;
}

/** boto3: the ClientError's code and HTTP status, or OK. */
async function botoOutcome(t: Ec2Credentials, call: string): Promise<string> {
  const r = await boto3(t, ['try:', `    ${call}`, '    print("OK")', 'except ClientError as e:', '    print(e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])'].join('\n'));
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

function skipWithoutClients(t: TestContext): boolean {
  return !requireAwsClients(t);
}

test('a good key works: AWS CLI on /, boto3 on /services/compute, the account\'s default group', async (t) => {
  if (skipWithoutClients(t)) return;
  const a = await tenant();
  const groups = await awsEc2Json<{ SecurityGroups: { GroupName: string; OwnerId: string }[] }>(a, ['describe-security-groups']);
  assert.deepEqual(groups.SecurityGroups.map((g) => [g.GroupName, g.OwnerId]), [['default', a.accountId]]);
  const viaEuca = { ...a, endpoint: `${clc.ec2Url}/services/compute` };
  const r = await boto3(viaEuca, 'print(json.dumps([g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"]]))');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), ['default']);
  assert.equal(await botoOutcome(viaEuca, 'ec2.describe_availability_zones()'), 'OK');
});

test('wrong secret, unknown key, no signature: SignatureDoesNotMatch, AuthFailure, MissingAuthenticationToken', async (t) => {
  if (skipWithoutClients(t)) return;
  const a = await tenant();
  const wrong = { ...a, secretAccessKey: `${a.secretAccessKey.slice(0, -1)}${a.secretAccessKey.endsWith('A') ? 'B' : 'A'}` };
  assert.equal(await cliCode(wrong, ['describe-security-groups']), 'SignatureDoesNotMatch');
  assert.equal(await botoOutcome(wrong, 'ec2.describe_security_groups()'), 'SignatureDoesNotMatch 403');
  const unknown = { ...a, accessKeyId: 'AKIEAAAAAAAAAAAAAAAA' };
  assert.equal(await cliCode(unknown, ['describe-security-groups']), 'AuthFailure');
  assert.equal(await botoOutcome(unknown, 'ec2.describe_security_groups()'), 'AuthFailure 401');
  assert.equal(await cliCode(a, ['describe-security-groups', '--no-sign-request']), 'MissingAuthenticationToken');
});

test('a signed request with one byte of its body changed is refused (Node)', async () => {
  const a = await tenant();
  const signed = signEc2({ endpoint: a.endpoint, credentials: a, params: [['Action', 'DescribeSecurityGroups'], ['Version', '2016-11-15'], ['GroupName.1', 'default']] });
  const ok = await sendRaw(signed);
  assert.equal(ok.status, 200, ok.body);
  const body = Buffer.from(signed.body);
  body[body.length - 1] = 'g'.charCodeAt(0); // default -> defaulg
  const tampered = await sendRaw({ ...signed, body });
  assert.deepEqual([tampered.status, ec2ErrorOf(tampered.body)?.code], [403, 'SignatureDoesNotMatch']);
});

test('an x-amz-date outside the window: RequestExpired either way (the CLC clock shifted, no sleeping)', async (t) => {
  if (skipWithoutClients(t)) return;
  const a = await tenant();
  try {
    shift.offset = 6 * 60_000;
    assert.equal(await cliCode(a, ['describe-security-groups']), 'RequestExpired');
    shift.offset = -6 * 60_000;
    assert.equal(await botoOutcome(a, 'ec2.describe_security_groups()'), 'RequestExpired 400');
    shift.offset = 4 * 60_000;
    assert.equal((await awsEc2(a, ['describe-security-groups'])).code, 0, 'inside the window');
  } finally {
    shift.offset = 0;
  }
});

/** Runs the AWS CLI against a listener that keeps the raw request bytes and answers an EC2 error. */
async function captureCliRequest(creds: Ec2Credentials, args: string[]): Promise<Buffer> {
  let captured = Buffer.alloc(0);
  const server = net.createServer((socket) => {
    socket.on('data', (d: Buffer) => {
      captured = Buffer.concat([captured, d]);
      const end = captured.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length: *(\d+)/i.exec(captured.subarray(0, end).toString('latin1'))?.[1] ?? 0);
      if (captured.length < end + 4 + length) return;
      const body = '<Response><Errors><Error><Code>InvalidAction</Code><Message>captured</Message></Error></Errors><RequestID>capture</RequestID></Response>';
      socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: text/xml\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as net.AddressInfo).port;
    const r = await awsEc2({ ...creds, endpoint: `http://127.0.0.1:${port}` }, args);
    assert.equal(awsErrorCode(r.stderr), 'InvalidAction', r.stderr);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return captured;
}

/** Sends raw request bytes to the CLC's EC2 port; the status and the EC2 error code. */
async function replay(bytes: Buffer): Promise<{ status: number; code: string | undefined }> {
  const url = new URL(clc.ec2Url!);
  const text = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    let out = '';
    socket.on('data', (d) => {
      out += d.toString();
      const end = out.indexOf('\r\n\r\n');
      const length = Number(/content-length: *(\d+)/i.exec(out)?.[1] ?? -1);
      if (end >= 0 && length >= 0 && out.length >= end + 4 + length) {
        socket.destroy();
        resolve(out);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(out));
    socket.write(bytes);
  });
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
  return { status, code: ec2ErrorOf(text.slice(text.indexOf('<?xml')))?.code };
}

test('a request captured from the AWS CLI replays within the window and is RequestExpired outside it', async (t) => {
  if (skipWithoutClients(t)) return;
  const a = await tenant();
  const bytes = await captureCliRequest(a, ['describe-security-groups', '--group-names', 'default']);
  assert.match(bytes.toString('latin1'), /^POST \/ HTTP\/1\.1\r\n[\s\S]*authorization: AWS4-HMAC-SHA256 Credential=AKIE/i);
  assert.deepEqual(await replay(bytes), { status: 200, code: undefined });
  try {
    shift.offset = 5 * 60_000 + 30_000;
    assert.deepEqual(await replay(bytes), { status: 400, code: 'RequestExpired' });
  } finally {
    shift.offset = 0;
  }
});

test('InvalidAction and UnknownParameter as the clients report them', async (t) => {
  if (skipWithoutClients(t)) return;
  const a = await tenant();
  assert.equal(await cliCode(a, ['describe-vpcs']), 'InvalidAction');
  assert.equal(await cliCode(a, ['describe-security-groups', '--dry-run']), 'UnknownParameter');
  assert.equal(await botoOutcome(a, 'ec2.describe_security_groups(MaxResults=5)'), 'UnknownParameter 400');
});

test('a body over EC2_MAX_BODY_BYTES: 413 with an EC2 error the CLI reads', async (t) => {
  if (skipWithoutClients(t)) return;
  const a = await tenant();
  const names = Array.from({ length: 1500 }, (_, i) => `group-name-${i}`);
  assert.equal(await cliCode(a, ['describe-security-groups', '--group-names', ...names]), 'RequestEntityTooLarge');
  // Just under the limit is served (InvalidGroup.NotFound: the names do not exist).
  assert.equal(await cliCode(a, ['describe-security-groups', '--group-names', ...names.slice(0, 50)]), 'InvalidGroup.NotFound');
});

test('the per-key rate limit: RequestLimitExceeded (503) in boto3 and the CLI, other keys unaffected', async (t) => {
  if (skipWithoutClients(t)) return;
  const a = await tenant();
  const b = await tenant();
  shift.frozen = Date.now(); // no refill while the bucket is drained
  try {
    for (let i = 0; i < RATE_BURST; i++) {
      const r = await ec2Call({ endpoint: a.endpoint, credentials: a, params: [['Action', 'DescribeAvailabilityZones'], ['Version', '2016-11-15']] });
      assert.equal(r.status, 200, `request ${i + 1}: ${r.body}`);
    }
    assert.equal(await botoOutcome(a, 'ec2.describe_availability_zones()'), 'RequestLimitExceeded 503');
    assert.equal(await cliCode(a, ['describe-availability-zones']), 'RequestLimitExceeded');
    assert.equal(await botoOutcome(b, 'ec2.describe_availability_zones()'), 'OK');
    shift.frozen += 1000; // one token back (EC2_RATE_LIMIT=1)
    assert.equal(await botoOutcome(a, 'ec2.describe_availability_zones()'), 'OK');
  } finally {
    shift.frozen = undefined;
  }
});

test('GET with a query string (Node signer), and the region of the scope comes back', async () => {
  const a = await tenant();
  const r = await ec2Call({ endpoint: `${a.endpoint}/services/compute`, method: 'GET', region: 'my-region-1', credentials: a, params: [['Action', 'DescribeSecurityGroups'], ['Version', '2016-11-15'], ['Filter.1.Name', 'group-name'], ['Filter.1.Value.1', 'default']] });
  assert.equal(r.status, 200, r.body);
  assert.match(r.body, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<DescribeSecurityGroupsResponse xmlns="http:\/\/ec2\.amazonaws\.com\/doc\/2016-11-15\/"><requestId>[0-9a-f-]{36}<\/requestId>/);
  assert.match(r.body, /<groupName>default<\/groupName>/);
});

test('HTTPS (EC2_TLS_CERT/KEY): the CLI and boto3 with AWS_CA_BUNDLE set to the test CA; without it they refuse', async (t) => {
  if (skipWithoutClients(t)) return;
  const secure = await startCloudController({
    ...baseOptions('tls'),
    ec2: { host: '127.0.0.1', port: 0, tlsCertFile: path.join(tls.dir, 'clc1.crt'), tlsKeyFile: path.join(tls.dir, 'clc1.key') },
  });
  try {
    assert.match(secure.ec2Url!, /^https:\/\/127\.0\.0\.1:\d+$/);
    const created = await secure.state.createAccount({ name: 'tls-tenant' });
    const creds = { endpoint: secure.ec2Url!, accessKeyId: created.accessKey.accessKeyId, secretAccessKey: created.accessKey.secretAccessKey };
    const env = { AWS_CA_BUNDLE: path.join(tls.dir, 'ca.crt') };
    const r = await awsEc2(creds, ['describe-security-groups'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).SecurityGroups[0].GroupName, 'default');
    const b = await boto3(creds, 'print(len(ec2.describe_security_groups()["SecurityGroups"]))', { env });
    assert.deepEqual([b.code, b.stdout.trim()], [0, '1']);
    const untrusted = await awsEc2(creds, ['describe-security-groups']);
    assert.notEqual(untrusted.code, 0);
    assert.match(untrusted.stderr, /SSL|certificate/i);
    // The Node signer over HTTPS with the CA.
    const n = await ec2Call({ endpoint: creds.endpoint, credentials: creds, params: [['Action', 'DescribeAvailabilityZones'], ['Version', '2016-11-15']] }, { ca: readFileSync(path.join(tls.dir, 'ca.crt')) });
    assert.equal(n.status, 200, n.body);
  } finally {
    await secure.stop();
  }
});

test('EC2_LISTEN on a taken port: the CLC does not start (LISTEN_FAILED), and says which listener', async () => {
  const port = Number(new URL(clc.ec2Url!).port);
  await assert.rejects(
    startCloudController({ ...baseOptions('taken'), ec2: { host: '127.0.0.1', port } }),
    (err: unknown) => err instanceof EdgenetError && err.code === 'LISTEN_FAILED' && /EC2_LISTEN/.test(err.message),
  );
  // The admin API it had started is closed again: the same database opens in a new CLC.
  const again = await startCloudController({ ...baseOptions('taken'), ec2: { host: '127.0.0.1', port: 0 } });
  await again.stop();
});
