/**
 * The lab's EC2 side (issue 15): the CLC's EC2 Query endpoint reached from
 * the host, RunInstances switched on, and one tenant account whose key the
 * AWS CLI and boto3 can use at once.
 *
 * - The CLC listens for EC2 on its namespace's loopback (`EC2_LISTEN`
 *   127.0.0.1:8788, daemons.ts); a relay pair (relay.ts) brings it to the
 *   host's 127.0.0.1:<free port>, recorded in the state file as `ec2.url`.
 *   The relays copy bytes, so the `Host` header the client signed is the one
 *   the CLC verifies.
 * - `cloud.ec2.run_instances=true`: RunInstances creates instance records
 *   (edgenet is not a compute service; the lab then plays the hypervisor with
 *   `lab vm add <id>`).
 * - The account `tenant` (POST /v1/accounts, which also makes its `default`
 *   group), its access key written once as an AWS shared credentials file in
 *   the lab directory (mode 0600, created exclusively): the only copy of the
 *   secret outside the CLC's sealed store.
 * - `tenantAws` runs Debian's AWS CLI as that tenant (the demo's EC2 part).
 */
import { promises as fs } from 'node:fs';
import type { Exec, ExecResult } from '../shared/exec.ts';
import * as http from 'node:http';
import { EdgenetError, errorMessage } from '../shared/errors.ts';
import { LAB_TENANT_ACCOUNT, type LabPlan } from './plan.ts';
import type { ApiClient } from './api.ts';
import type { LabEc2, LabState } from './state.ts';

/** The cloud property that lets the EC2 endpoint create and terminate instance records. */
const RUN_INSTANCES_PROPERTY = 'cloud.ec2.run_instances';

/** What `POST /v1/accounts` answers: the account and its first key (the secret shown this once). */
interface CreatedAccount {
  readonly account: { readonly id: string; readonly name: string };
  readonly accessKey: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** An AWS shared credentials file (profile `default`) with a header saying what it is for. */
export function tenantCredentialsText(o: { lab: string; accountId: string; accountName: string; url: string; region: string; file: string; accessKeyId: string; secretAccessKey: string }): string {
  return [
    `# edgenet lab ${o.lab}: EC2 access key of account ${o.accountName} (${o.accountId}); the secret is shown nowhere else.`,
    `# AWS_SHARED_CREDENTIALS_FILE=${o.file} aws ec2 describe-security-groups --endpoint-url ${o.url} --region ${o.region}`,
    '[default]',
    `aws_access_key_id = ${o.accessKeyId}`,
    `aws_secret_access_key = ${o.secretAccessKey}`,
    '',
  ].join('\n');
}

/**
 * After the admin API answers: switches RunInstances on, creates the tenant
 * and writes its credentials file. `url` is the host relay's EC2 address.
 */
export async function labEc2Setup(plan: LabPlan, api: ApiClient, url: string): Promise<LabEc2> {
  await api.request('PUT', `/v1/properties/${RUN_INSTANCES_PROPERTY}`, { value: 'true' });
  const created = await api.request<CreatedAccount>('POST', '/v1/accounts', { name: LAB_TENANT_ACCOUNT });
  const { account, accessKey } = created;
  if (!account?.id || !accessKey?.accessKeyId || !accessKey.secretAccessKey) {
    throw new EdgenetError('LAB_EC2_SETUP_FAILED', `POST /v1/accounts answered without an account id and access key: ${JSON.stringify(Object.keys(created ?? {}))}`);
  }
  const file = plan.paths.tenantCredentials;
  const text = tenantCredentialsText({ lab: plan.name, accountId: account.id, accountName: account.name, url, region: plan.ec2Region, file, accessKeyId: accessKey.accessKeyId, secretAccessKey: accessKey.secretAccessKey });
  await fs.writeFile(file, text, { mode: 0o600, flag: 'wx' });
  return { url, region: plan.ec2Region, tenant: { accountId: account.id, name: account.name, accessKeyId: accessKey.accessKeyId, credentialsFile: file } };
}

/** The lines `lab up` prints about the EC2 endpoint (ready to paste). */
export function ec2UsageLines(state: LabState): string[] {
  const ec2 = state.ec2;
  if (!ec2) return [];
  const lines = [`EC2 endpoint (AWS CLI, boto3): ${ec2.url} (any region name; ${RUN_INSTANCES_PROPERTY}=true)`];
  if (ec2.tenant) {
    lines.push(
      `  account ${ec2.tenant.name} (${ec2.tenant.accountId}), key ${ec2.tenant.accessKeyId}, credentials in ${ec2.tenant.credentialsFile}:`,
      `  AWS_SHARED_CREDENTIALS_FILE=${ec2.tenant.credentialsFile} aws ec2 describe-security-groups --endpoint-url ${ec2.url} --region ${ec2.region}`,
      `  (RunInstances makes the record; attach it with: edgenet lab vm add --name ${state.plan.name} <instance-id>)`,
    );
  }
  return lines;
}

/**
 * Whether something EC2-shaped answers at `url`: an unsigned GET must come
 * back as an EC2 error document (MissingAuthenticationToken), never a 2xx.
 */
export function probeEc2Endpoint(url: string, timeoutMs = 3_000): Promise<{ reachable: boolean; error?: string }> {
  return new Promise((resolve) => {
    const req = http.get(`${url}/?Action=DescribeRegions&Version=2016-11-15`, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 4096) body += chunk;
      });
      res.on('end', () => {
        const code = /<Code>([^<]+)<\/Code>/.exec(body)?.[1];
        resolve(code ? { reachable: true } : { reachable: false, error: `HTTP ${res.statusCode ?? '?'} without an EC2 error document` });
      });
      res.on('error', (err) => resolve({ reachable: false, error: errorMessage(err) }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ reachable: false, error: errorMessage(err) }));
  });
}

/** Debian's AWS CLI (awscli), called by path: other copies may come first in PATH. */
export const AWS_CLI = '/usr/bin/aws';

/**
 * Runs `/usr/bin/aws ec2 <args>` as the lab tenant against the lab's
 * endpoint, JSON output. `env -i`: nothing of the caller's AWS_* variables
 * or ~/.aws applies (an AWS_ACCESS_KEY_ID or AWS_PROFILE there would win over
 * the credentials file); HOME is the lab directory, so whatever the CLI might
 * cache goes with `lab down`.
 */
export function tenantAws(state: LabState, exec: Exec, args: readonly string[]): Promise<ExecResult> {
  const ec2 = state.ec2;
  if (!ec2?.tenant) throw new EdgenetError('LAB_NOT_UP', `lab ${state.plan.name} has no EC2 tenant (made before issue 15?)`);
  const env = [
    'PATH=/usr/sbin:/usr/bin:/sbin:/bin',
    `HOME=${state.plan.dir}`,
    'LANG=C.UTF-8',
    'AWS_CONFIG_FILE=/dev/null',
    `AWS_SHARED_CREDENTIALS_FILE=${ec2.tenant.credentialsFile}`,
    'AWS_EC2_METADATA_DISABLED=true',
    'AWS_PAGER=',
    'AWS_MAX_ATTEMPTS=1',
  ];
  const argv = ['env', '-i', ...env, AWS_CLI, 'ec2', ...args, '--endpoint-url', ec2.url, '--region', ec2.region, '--output', 'json'];
  return exec.run(argv, { okExitCodes: Array.from({ length: 256 }, (_, i) => i), timeoutMs: 60_000 });
}
