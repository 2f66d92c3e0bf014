/**
 * The EC2 clients edgenet did not write, as Debian packages them (issue 15):
 * /usr/bin/aws (awscli 2.9.x) and boto3 under /usr/bin/python3. Called by
 * absolute path, because other copies may come first in PATH, with an
 * environment that reads no config or credentials file of this machine and
 * never reaches the EC2 metadata service.
 *
 * `requireAwsClients(t)` is the guard: when the packages are missing the test
 * says so loudly and skips; under CI=true that is a failure (scripts/setup.sh
 * installs them).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import type { TestContext } from 'node:test';

export const AWS_CLI = '/usr/bin/aws';
export const PYTHON3 = '/usr/bin/python3';

export interface Ec2Credentials {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Any name: it becomes the credential scope. */
  readonly region?: string;
}

export interface ClientResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let emptyDir: string | undefined;
/** A directory with no AWS config in it (created once per process, removed at exit). */
function noConfigDir(): string {
  if (emptyDir === undefined) {
    emptyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgenet-aws-'));
    const dir = emptyDir;
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return emptyDir;
}

export function awsEnv(creds: Ec2Credentials): NodeJS.ProcessEnv {
  const dir = noConfigDir();
  return {
    PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: dir,
    LANG: 'C.UTF-8',
    AWS_CONFIG_FILE: path.join(dir, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'none'),
    AWS_ACCESS_KEY_ID: creds.accessKeyId,
    AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
    AWS_DEFAULT_REGION: creds.region ?? 'eucalyptus',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    AWS_RETRY_MODE: 'standard',
    AWS_MAX_ATTEMPTS: '1',
  };
}

function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof (err as NodeJS.ErrnoException).code === 'string') return reject(err);
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** `/usr/bin/aws ec2 <args> --endpoint-url … --output json`; `env` adds variables (AWS_CA_BUNDLE for a test CA). */
export function awsEc2(creds: Ec2Credentials, args: readonly string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ClientResult> {
  return run(AWS_CLI, ['ec2', ...args, '--endpoint-url', creds.endpoint, '--output', 'json'], { ...awsEnv(creds), ...(options.env ?? {}) }, options.timeoutMs ?? 60_000);
}

/** Runs `/usr/bin/aws ec2 …` and parses its JSON output; throws with the CLI's stderr when it fails. */
export async function awsEc2Json<T = Record<string, unknown>>(creds: Ec2Credentials, args: readonly string[]): Promise<T> {
  const r = await awsEc2(creds, args);
  if (r.code !== 0) throw new Error(`aws ec2 ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return (r.stdout.trim() === '' ? {} : JSON.parse(r.stdout)) as T;
}

/**
 * Runs a Python snippet with `ec2` bound to a boto3 EC2 client for `creds`
 * and `ClientError` imported; the snippet prints its result (JSON, say).
 */
export function boto3(creds: Ec2Credentials, snippet: string, options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ClientResult> {
  const program = [
    'import json, sys, boto3',
    'from botocore.exceptions import ClientError',
    'from botocore.config import Config',
    `ec2 = boto3.client("ec2", endpoint_url=${JSON.stringify(creds.endpoint)}, region_name=${JSON.stringify(creds.region ?? 'eucalyptus')}, config=Config(retries={"max_attempts": 1, "mode": "standard"}))`,
    snippet,
  ].join('\n');
  return run(PYTHON3, ['-c', program], { ...awsEnv(creds), ...(options.env ?? {}) }, options.timeoutMs ?? 60_000);
}

/** The EC2 error code in an AWS CLI failure (`An error occurred (InvalidGroup.NotFound) when …`). */
export function awsErrorCode(stderr: string): string | undefined {
  return /An error occurred \(([^)]+)\)/.exec(stderr)?.[1];
}

export function awsClientsInstalled(): boolean {
  try {
    fs.accessSync(AWS_CLI, fs.constants.X_OK);
    fs.accessSync(PYTHON3, fs.constants.X_OK);
  } catch {
    return false;
  }
  return ['/usr/lib/python3/dist-packages/boto3', '/usr/lib/python3/dist-packages/botocore'].every((d) => fs.existsSync(d));
}

/** True when the AWS CLI and boto3 are installed; otherwise skips loudly (a failure under CI=true). */
export function requireAwsClients(t: TestContext): boolean {
  if (awsClientsInstalled()) return true;
  const msg = `${AWS_CLI} or boto3 for ${PYTHON3} is missing (Debian packages awscli, python3-boto3; scripts/setup.sh installs them): the EC2 client test was NOT run`;
  if (process.env.CI === 'true') throw new Error(`${msg}; CI=true makes this a failure`);
  process.stderr.write(`\n!!! SKIPPED: ${msg}\n`);
  t.skip(msg);
  return false;
}
