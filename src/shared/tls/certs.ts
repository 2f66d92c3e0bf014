/**
 * `edgenet certs`: a private CA for one cloud and the certificates of its
 * daemons. Keys are P-256, made with Node's crypto and written mode 0600 before
 * any tool sees them (no window with loose permissions); certificates are made
 * by the `openssl` CLI through the Exec seam (Node cannot sign certificates).
 * Directories are mode 0700. Subject: O=edgenet, OU=<role>, CN=<name>; SANs
 * carry the IPs / DNS names peers dial; extendedKeyUsage allows both server and
 * client auth because the CC is a server to the CLC and a client of its NCs.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Exec } from '../exec.ts';
import { writeFileAtomic } from '../files.ts';
import { isIPv4 } from 'node:net';
import { UserError } from '../errors.ts';
import type { Role } from './material.ts';

export interface IssueOptions {
  readonly dir: string;
  readonly name: string;
  readonly role: Role;
  readonly ips: readonly string[];
  readonly dnsNames: readonly string[];
  readonly days?: number;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const DNS = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

async function secureDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.chmod(dir, 0o700);
}

async function newKey(file: string): Promise<void> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  await writeFileAtomic(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
}

/** Creates `ca.key` + `ca.crt` in `dir`; refuses to overwrite an existing CA. */
export async function initCa(exec: Exec, dir: string, options: { days?: number } = {}): Promise<{ caCert: string }> {
  await secureDir(dir);
  const keyFile = path.join(dir, 'ca.key');
  const certFile = path.join(dir, 'ca.crt');
  if (await exists(keyFile) || await exists(certFile)) {
    throw new UserError('CA_EXISTS', `${dir} already holds a CA (ca.key / ca.crt); remove them first to make a new one`);
  }
  await newKey(keyFile);
  await exec.run([
    'openssl', 'req', '-x509', '-new', '-key', keyFile, '-out', certFile, '-sha256',
    '-days', String(options.days ?? 3650),
    '-subj', `/O=edgenet/OU=ca/CN=edgenet-ca-${randomBytes(4).toString('hex')}`,
    '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await fs.chmod(certFile, 0o644);
  return { caCert: certFile };
}

/** Creates `<name>.key` + `<name>.crt` signed by the CA in `dir`. */
export async function issueCert(exec: Exec, options: IssueOptions): Promise<{ key: string; cert: string }> {
  const { dir, name, role } = options;
  if (!NAME.test(name) || name === 'ca') throw new UserError('BAD_CERT_NAME', `certificate name "${name}" must be 1-63 of [A-Za-z0-9._-] and not "ca"`);
  for (const ip of options.ips) if (!isIPv4(ip)) throw new UserError('BAD_IP', `--ip ${ip} is not an IPv4 address`);
  for (const d of options.dnsNames) if (!DNS.test(d)) throw new UserError('BAD_DNS_NAME', `--dns ${d} is not a DNS name`);
  const caKey = path.join(dir, 'ca.key');
  const caCert = path.join(dir, 'ca.crt');
  if (!(await exists(caKey)) || !(await exists(caCert))) throw new UserError('NO_CA', `no CA in ${dir}; run "edgenet certs init --dir ${dir}" first`);
  await secureDir(dir);
  const keyFile = path.join(dir, `${name}.key`);
  const certFile = path.join(dir, `${name}.crt`);
  const tmp = path.join(dir, `.${name}.${randomBytes(4).toString('hex')}`);
  const sans = [...options.ips.map((ip) => `IP:${ip}`), ...options.dnsNames.map((d) => `DNS:${d}`)];
  const ext = [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth,clientAuth',
    ...(sans.length ? [`subjectAltName=${sans.join(',')}`] : []),
  ].join('\n');
  try {
    await newKey(`${tmp}.key`);
    await writeFileAtomic(`${tmp}.ext`, `${ext}\n`, { mode: 0o600 });
    await exec.run(['openssl', 'req', '-new', '-key', `${tmp}.key`, '-out', `${tmp}.csr`, '-subj', `/O=edgenet/OU=${role}/CN=${name}`]);
    await exec.run([
      'openssl', 'x509', '-req', '-in', `${tmp}.csr`, '-CA', caCert, '-CAkey', caKey,
      '-set_serial', `0x${randomBytes(16).toString('hex').replace(/^[89a-f]/, '1')}`,
      '-days', String(options.days ?? 825), '-sha256', '-extfile', `${tmp}.ext`, '-out', `${tmp}.crt`,
    ]);
    await fs.chmod(`${tmp}.crt`, 0o644);
    await fs.rename(`${tmp}.key`, keyFile);
    await fs.rename(`${tmp}.crt`, certFile);
  } finally {
    for (const suffix of ['.key', '.ext', '.csr', '.crt']) await fs.rm(`${tmp}${suffix}`, { force: true });
  }
  return { key: keyFile, cert: certFile };
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}
