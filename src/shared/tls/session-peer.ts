/**
 * The peer certificate of a resumed TLS session, client side. On resumption
 * Node's `getPeerCertificate()` / `getPeerX509Certificate()` on a *client*
 * socket return nothing: Node reads the peer's chain, which OpenSSL does not
 * keep in a session. OpenSSL does keep the peer's leaf certificate in the
 * session itself (field `peer [3]` of its SSL_SESSION encoding), and that
 * session is ours: built locally by the full handshake that verified the
 * certificate (CA, address, and — through `peerRole` — its role); the server
 * only ever sees an opaque ticket. So the leaf read back from
 * `socket.getSession()` is exactly the certificate verified when the session was
 * made, and resumption proves the server is the one that made it.
 */
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';

interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly end: number;
}

/** One DER element at `offset`, or undefined when the bytes do not hold one. */
function readTlv(der: Buffer, offset: number): Tlv | undefined {
  if (offset + 2 > der.length) return undefined;
  const tag = der[offset]!;
  let length = der[offset + 1]!;
  let header = 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4 || offset + 2 + bytes > der.length) return undefined;
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[offset + 2 + i]!;
    header += bytes;
  }
  const end = offset + header + length;
  return end <= der.length ? { tag, start: offset + header, end } : undefined;
}

const SEQUENCE = 0x30;
/** `peer [3] EXPLICIT X509 OPTIONAL` in OpenSSL's SSL_SESSION_ASN1. */
const PEER_TAG = 0xa3;

/** The peer's leaf certificate stored in an encoded OpenSSL session, if any. */
export function peerCertificateFromSession(session: Buffer): X509Certificate | undefined {
  const outer = readTlv(session, 0);
  if (!outer || outer.tag !== SEQUENCE) return undefined;
  for (let at = outer.start; at < outer.end;) {
    const field = readTlv(session, at);
    if (!field) return undefined;
    if (field.tag === PEER_TAG) {
      try {
        return new X509Certificate(session.subarray(field.start, field.end));
      } catch {
        return undefined;
      }
    }
    at = field.end;
  }
  return undefined;
}

/**
 * The peer's certificate on `socket`: what Node reports, or on a resumed
 * session (where a client socket reports none) the one the session keeps.
 */
export function peerX509(socket: TLSSocket): X509Certificate | undefined {
  // getPeerCertificate() first: on some non-resumed TLS 1.3 client sockets
  // getPeerX509Certificate() answers undefined while the legacy object still
  // carries the raw leaf (seen in test/integration/pipeline-cc-nc.test.ts).
  const legacy = socket.getPeerCertificate();
  if (legacy?.raw && legacy.raw.length > 0) {
    try {
      return new X509Certificate(legacy.raw);
    } catch {
      // fall through to the other sources
    }
  }
  const direct = socket.getPeerX509Certificate();
  if (direct) return direct;
  if (!socket.isSessionReused()) return undefined;
  const session = socket.getSession();
  return session ? peerCertificateFromSession(session) : undefined;
}

/** The first value of attribute `key` in a Node X509Certificate subject string (one `KEY=value` per line). */
export function subjectValue(subject: string, key: string): string | undefined {
  for (const line of subject.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && line.slice(0, eq) === key) return line.slice(eq + 1);
  }
  return undefined;
}
