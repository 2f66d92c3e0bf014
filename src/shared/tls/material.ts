/**
 * Mutual TLS between the pipeline's hops. Every daemon holds a key and a
 * certificate signed by the cloud's own CA (`edgenet certs`); the certificate's
 * subject OU names the holder's role (clc, cc, nc). A server demands a client
 * certificate signed by that CA *and* with the one role allowed to call it
 * (the CC accepts only `clc`, the NC only `cc`); a client checks the server's
 * certificate against the CA, the address it dialled (SAN IP/DNS) and the role
 * it expects. Files in a certs dir: `ca.crt`, `<name>.crt`, `<name>.key`.
 */
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { EdgenetError } from '../errors.ts';
import type { ErrorCode } from '../error-codes.ts';
import { peerX509, subjectValue } from './session-peer.ts';

const ROLES = ['clc', 'cc', 'nc'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export interface TlsMaterial {
  readonly key: Buffer;
  readonly cert: Buffer;
  readonly ca: Buffer;
  /** Where they came from (for logs). */
  readonly source: string;
}

/**
 * Loads `<dir>/ca.crt`, `<dir>/<name>.crt`, `<dir>/<name>.key`; refuses a key
 * readable by others. Each failure names the file: TLS_CA_MISSING,
 * TLS_CERT_MISSING, TLS_KEY_MISSING (no such file), TLS_UNREADABLE (e.g.
 * EACCES: the service user cannot read it), TLS_KEY_PERMISSIONS.
 */
export function loadTlsMaterial(dir: string, name: string): TlsMaterial {
  const keyFile = path.join(dir, `${name}.key`);
  const certFile = path.join(dir, `${name}.crt`);
  const caFile = path.join(dir, 'ca.crt');
  const read = (file: string, missingCode: ErrorCode, what: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new EdgenetError(missingCode, `${what} ${file} does not exist (make it with "edgenet certs issue" and copy it to this host)`, { cause: err, details: { file } });
      throw new EdgenetError('TLS_UNREADABLE', `${what} ${file} cannot be read: ${(err as Error).message}`, { cause: err, details: { file } });
    }
  };
  const ca = read(caFile, 'TLS_CA_MISSING', 'CA certificate');
  const cert = read(certFile, 'TLS_CERT_MISSING', 'certificate');
  const key = read(keyFile, 'TLS_KEY_MISSING', 'private key');
  const mode = statSync(keyFile).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new EdgenetError('TLS_KEY_PERMISSIONS', `${keyFile} is mode ${mode.toString(8)}; keys must not be readable by group or others (chmod 600)`, { details: { file: keyFile } });
  }
  return { key, cert, ca, source: path.join(dir, name) };
}

/**
 * Server options. `rejectUnauthorized: false` on purpose: the handshake lets an
 * unauthenticated client through only so the server can answer with a SOAP
 * Fault and log it; `peerRole` refuses every such request before the body is read.
 */
export function serverTlsOptions(m: TlsMaterial): { key: Buffer; cert: Buffer; ca: Buffer; requestCert: true; rejectUnauthorized: false; minVersion: 'TLSv1.2' } {
  return { key: m.key, cert: m.cert, ca: m.ca, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' };
}

export function clientTlsOptions(m: TlsMaterial): { key: Buffer; cert: Buffer; ca: Buffer; rejectUnauthorized: true; minVersion: 'TLSv1.2' } {
  return { key: m.key, cert: m.cert, ca: m.ca, rejectUnauthorized: true, minVersion: 'TLSv1.2' };
}

/** The verified role of the peer on `socket`, or the reason there is none. */
export function peerRole(socket: TLSSocket): { ok: true; role: Role; name: string } | { ok: false; reason: string } {
  if (!socket.authorized) {
    return { ok: false, reason: socket.authorizationError ? `client certificate not trusted: ${String(socket.authorizationError)}` : 'no client certificate' };
  }
  // Not getPeerCertificate(): on a resumed session a client socket reports no
  // peer certificate at all; peerX509 falls back to the one the session keeps.
  const cert = peerX509(socket);
  if (!cert) return { ok: false, reason: 'peer presented no certificate' };
  const ou = subjectValue(cert.subject, 'OU');
  const cn = subjectValue(cert.subject, 'CN') ?? '';
  if (!ou || !isRole(ou)) return { ok: false, reason: `certificate ${cn} carries no edgenet role` };
  return { ok: true, role: ou, name: cn };
}
