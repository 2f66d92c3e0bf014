/**
 * File checks behind `--check-config` and a daemon's start: the problems an
 * operator meets on a new host (a certificate not copied, a key left
 * readable by others, a state directory the service user cannot write),
 * each as a diagnostic whose path is the setting that points at the file.
 * Reads only; runs as whoever runs the check (run it as the service user).
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { Diagnostic } from '../diagnostics.ts';
import { errorMessage } from '../errors.ts';
import { certificateDaysLeft } from '../certificate-expiry.ts';

export const CHECK_CODES = {
  certMissing: 'TLS_CERT_MISSING',
  keyMissing: 'TLS_KEY_MISSING',
  caMissing: 'TLS_CA_MISSING',
  unreadable: 'TLS_UNREADABLE',
  keyMode: 'TLS_KEY_PERMISSIONS',
  certInvalid: 'TLS_CERT_INVALID',
  certExpired: 'TLS_CERT_EXPIRED',
  certExpiring: 'TLS_CERT_EXPIRING',
  dirMissing: 'DIR_MISSING',
  dirNotWritable: 'DIR_NOT_WRITABLE',
  fileMissing: 'FILE_MISSING',
  /** LISTEN on a wildcard where the address is advertised to other CLCs (DB on PostgreSQL). */
  listenWildcard: 'LISTEN_WILDCARD',
} as const;

type Report = (d: Diagnostic) => void;

function readable(file: string): string | undefined {
  try {
    accessSync(file, constants.R_OK);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? errorMessage(err);
  }
}

export interface TlsCheck {
  readonly dir: string;
  readonly name: string;
  /** The setting that names the directory (path of the diagnostics). */
  readonly key: string;
  /** 'error' (the daemon cannot run) or 'warning'. */
  readonly severity?: 'error' | 'warning';
  readonly now?: number;
}

/** ca.crt, NAME.crt and NAME.key: present, readable, key mode 0600, certificate valid, signed by the CA, matching the key. */
export function checkTls(check: TlsCheck, report: Report): void {
  const severity = check.severity ?? 'error';
  const ca = path.join(check.dir, 'ca.crt');
  const cert = path.join(check.dir, `${check.name}.crt`);
  const key = path.join(check.dir, `${check.name}.key`);
  const files = [
    { file: ca, code: CHECK_CODES.caMissing, what: 'CA certificate' },
    { file: cert, code: CHECK_CODES.certMissing, what: 'certificate' },
    { file: key, code: CHECK_CODES.keyMissing, what: 'private key' },
  ];
  let complete = true;
  for (const f of files) {
    const why = readable(f.file);
    if (why === undefined) continue;
    complete = false;
    const missing = why === 'ENOENT';
    report({ severity, code: missing ? f.code : CHECK_CODES.unreadable, path: check.key, message: `${f.what} ${f.file} ${missing ? 'does not exist' : `cannot be read (${why})`}; make it with "edgenet certs issue" and copy it here` });
  }
  checkKeyMode(key, check.key, severity, report);
  if (!complete) return;
  const now = check.now ?? Date.now();
  try {
    const caX = new X509Certificate(readFileSync(ca));
    const own = new X509Certificate(readFileSync(cert));
    for (const [file, x] of [[ca, caX], [cert, own]] as const) {
      const left = certificateDaysLeft(x, now);
      if (left < 0) report({ severity, code: CHECK_CODES.certExpired, path: check.key, message: `${file} expired on ${x.validTo}` });
      else if (left < 30) report({ severity: 'warning', code: CHECK_CODES.certExpiring, path: check.key, message: `${file} expires in ${Math.floor(left)} days (${x.validTo})` });
    }
    if (!own.verify(caX.publicKey)) report({ severity, code: CHECK_CODES.certInvalid, path: check.key, message: `${cert} is not signed by ${ca}` });
    if (!own.checkPrivateKey(createPrivateKey(readFileSync(key)))) report({ severity, code: CHECK_CODES.certInvalid, path: check.key, message: `${key} does not belong to ${cert}` });
  } catch (err) {
    report({ severity, code: CHECK_CODES.certInvalid, path: check.key, message: `cannot parse the certificates in ${check.dir}: ${errorMessage(err)}` });
  }
}

/** A private key must not be readable by group or others. Silent when the file cannot be stat'ed (the caller's read check reports that). */
function checkKeyMode(file: string, key: string, severity: 'error' | 'warning', report: Report): void {
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch {
    return;
  }
  if ((mode & 0o077) !== 0) report({ severity, code: CHECK_CODES.keyMode, path: key, message: `${file} is mode ${mode.toString(8)}; a key must not be readable by group or others (chmod 600, owned by the service user)` });
}

export interface CertKeyPairCheck {
  readonly cert: string;
  readonly key: string;
  /** The settings that name the files (paths of the diagnostics). */
  readonly certSetting: string;
  readonly keySetting: string;
  readonly now?: number;
}

/**
 * A PEM certificate and its key named by two settings, without a CA of ours
 * (a listener's HTTPS pair: EC2_TLS_CERT/EC2_TLS_KEY): both readable, key
 * mode 0600, the certificate parseable and within its validity (a warning
 * within 30 days of its end), the key its own.
 */
export function checkCertKeyPair(pair: CertKeyPairCheck, report: Report): void {
  const read = (file: string, setting: string, missingCode: string): Buffer | undefined => {
    try {
      return readFileSync(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      report({ severity: 'error', code: code === 'ENOENT' ? missingCode : CHECK_CODES.unreadable, path: setting, message: `${file} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? errorMessage(err)})`}` });
      return undefined;
    }
  };
  const certPem = read(pair.cert, pair.certSetting, CHECK_CODES.certMissing);
  const keyPem = read(pair.key, pair.keySetting, CHECK_CODES.keyMissing);
  if (keyPem) checkKeyMode(pair.key, pair.keySetting, 'error', report);
  if (!certPem || !keyPem) return;
  try {
    const cert = new X509Certificate(certPem);
    const left = certificateDaysLeft(cert, pair.now ?? Date.now());
    if (left < 0) report({ severity: 'error', code: CHECK_CODES.certExpired, path: pair.certSetting, message: `${pair.cert} expired on ${cert.validTo}` });
    else if (left < 30) report({ severity: 'warning', code: CHECK_CODES.certExpiring, path: pair.certSetting, message: `${pair.cert} expires in ${Math.floor(left)} days (${cert.validTo})` });
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) report({ severity: 'error', code: CHECK_CODES.certInvalid, path: pair.keySetting, message: `${pair.key} does not belong to ${pair.cert}` });
  } catch (err) {
    report({ severity: 'error', code: CHECK_CODES.certInvalid, path: pair.certSetting, message: `cannot parse ${pair.cert} / ${pair.key} as a PEM certificate and key: ${errorMessage(err)}` });
  }
}

/**
 * A directory the daemon writes: it must exist and be writable, or be
 * creatable (its nearest existing ancestor writable), which is a warning.
 */
export function checkWritableDir(dir: string, key: string, report: Report): void {
  let probe = path.resolve(dir);
  let missing = false;
  for (;;) {
    try {
      if (!statSync(probe).isDirectory()) {
        report({ severity: 'error', code: CHECK_CODES.dirMissing, path: key, message: `${probe} is not a directory` });
        return;
      }
      break;
    } catch {
      missing = true;
      const parent = path.dirname(probe);
      if (parent === probe) break;
      probe = parent;
    }
  }
  try {
    accessSync(probe, constants.W_OK);
  } catch {
    report({ severity: 'error', code: CHECK_CODES.dirNotWritable, path: key, message: missing ? `${dir} does not exist and ${probe} is not writable, so it cannot be created` : `${dir} is not writable by this user` });
    return;
  }
  if (missing) report({ severity: 'warning', code: CHECK_CODES.dirMissing, path: key, message: `${dir} does not exist yet; it will be created` });
}

/** A file the daemon needs to read or run. */
export function checkFile(file: string, key: string, report: Report, options: { executable?: boolean } = {}): void {
  try {
    accessSync(file, options.executable ? constants.X_OK : constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    report({ severity: 'error', code: CHECK_CODES.fileMissing, path: key, message: `${file} ${code === 'ENOENT' ? 'does not exist' : `is not ${options.executable ? 'executable' : 'readable'} (${code})`}` });
  }
}

/**
 * A lone certificate a daemon trusts without a CA of ours (the Eucalyptus
 * certificate behind EUCA_WSSEC_CERT): readable, PEM X.509, and within its
 * validity (expired is a warning: the signature is still checked against its key).
 */
export function checkCertificateFile(file: string, key: string, report: Report, now = Date.now()): void {
  const why = readable(file);
  if (why !== undefined) {
    report({ severity: 'error', code: why === 'ENOENT' ? CHECK_CODES.certMissing : CHECK_CODES.unreadable, path: key, message: `${file} ${why === 'ENOENT' ? 'does not exist' : `cannot be read (${why})`}` });
    return;
  }
  try {
    const x = new X509Certificate(readFileSync(file));
    if (certificateDaysLeft(x, now) < 0) report({ severity: 'warning', code: CHECK_CODES.certExpired, path: key, message: `${file} expired on ${x.validTo}` });
  } catch (err) {
    report({ severity: 'error', code: CHECK_CODES.certInvalid, path: key, message: `${file} is not a PEM X.509 certificate: ${errorMessage(err)}` });
  }
}
