/**
 * The HTTPS SOAP endpoint shared by the cluster and node controllers.
 *
 * Two kinds of listener share this code (a `Gate`): the HTTPS listener with
 * mutual TLS (edgenet's own peers), and the opt-in plain-HTTP listener for
 * Eucalyptus peers whose requests carry a WS-Security X.509 signature
 * (`startWsSecSoapServer`, wssec.ts). The same size and time limits apply to both.
 *
 * Order of checks for a POST (each failure is a SOAP Fault, logged, and no
 * handler runs, so nothing changes):
 *   1. size — a declared Content-Length over `maxRequestBytes` (from the head);
 *   2. peer authentication, mTLS — a client certificate from our CA with the
 *      one allowed role (before a byte of the body is read);
 *   3. the body, counted against `maxRequestBytes` and watched for idleness;
 *   4. DOCTYPE / ENTITY markup anywhere in the body;
 *   5. strict XML + SOAP envelope shape; the Body's element picks the operation;
 *   6. WS-Security listener: the signature, certificate, timestamp and replay
 *      checks (wssec.ts), and the operation is read from the signed Body.
 * `GET ?wsdl` returns the service's WSDL (public: it is the contract, not data);
 * its service URL is the address the connection was accepted on, never the
 * client's Host header.
 *
 * Hostile clients (issue 11 item 4, shared/http-guard.ts): a refusal before or
 * while the body is read (403, 405, 408, 413, 400) is answered with
 * `Connection: close` and the socket is destroyed: the body is never drained.
 * Head, request and body-idle timeouts bound slow clients.
 */
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { isAscii } from 'node:buffer';
import type { Logger } from '../logger.ts';
import { EdgenetError, assertNever, errorMessage } from '../errors.ts';
import { type TlsMaterial, type Role, serverTlsOptions, peerRole } from '../tls/material.ts';
import { readLimitedBody, refuseDtd, SoapRequestError, tooLarge } from './guard.ts';
import { bodyElement, faultEnvelope } from './envelope.ts';
import { escapeXml, type XmlElement } from './xml.ts';
import { announcesBody, applyServerTimeouts, declaredLength, httpTimeouts, refuseAndClose, serverTimeoutOptions, type HttpTimeouts } from '../http-guard.ts';
import { Timing } from './timing.ts';
import type { WsSecVerifier } from './wssec.ts';

export interface Peer {
  readonly name: string;
  readonly role: Role;
  readonly address: string;
}

/**
 * Returns the response envelope; throws EdgenetError (→ Client Fault with its
 * code) or anything else (→ Server Fault). `timing` already holds the guard's
 * phases (auth, body, text, dtd, parse); handlers add theirs and may log it.
 */
export type OperationHandler = (request: XmlElement, peer: Peer, timing: Timing) => Promise<string>;

export interface SoapServerOptions {
  readonly tls: TlsMaterial;
  readonly allowedRole: Role;
  readonly maxRequestBytes: number;
  /** WSDL text; `EDGENET_SERVICE_URL` in it is replaced by the address the connection was accepted on. */
  readonly wsdl: string;
  readonly operations: Readonly<Record<string, OperationHandler>>;
  readonly logger: Logger;
  /** Called with the code of every Fault sent (metrics). */
  readonly onFault?: (code: string) => void;
  /** Slow-client bounds (defaults: shared/http-guard.ts). */
  readonly timeouts?: Partial<HttpTimeouts>;
}

/** Who may call a listener, and how that is proven. */
type Gate =
  | { readonly kind: 'mtls'; readonly allowedRole: Role }
  /** Plain HTTP; every request signed with the key of the certificate `verifier` trusts, whose holder plays `role`. */
  | { readonly kind: 'wssec'; readonly verifier: WsSecVerifier; readonly role: Role };

export interface WsSecServerOptions extends Omit<SoapServerOptions, 'tls' | 'allowedRole'> {
  readonly verifier: WsSecVerifier;
  /** The edgenet role the Eucalyptus peer stands in for (the CLC for a CC, the CC for an NC). */
  readonly peerRole: Role;
}

export interface RunningServer {
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

export async function startSoapServer(options: SoapServerOptions, listen: { host: string; port: number }): Promise<RunningServer> {
  const timeouts = httpTimeouts(options.timeouts);
  const gate: Gate = { kind: 'mtls', allowedRole: options.allowedRole };
  const server: Server = createHttpsServer({ ...serverTlsOptions(options.tls), ...serverTimeoutOptions(timeouts) }, (req, res) => {
    void handle(options, gate, timeouts, req, res);
  });
  server.on('tlsClientError', (err: Error) => options.logger.debug('TLS handshake failed', { error: err.message }));
  return listenOn(server, timeouts, listen);
}

/**
 * The Eucalyptus listener (opt-in: EUCA_WSSEC_LISTEN): plain HTTP, separate
 * from the mTLS port, each request proven by its WS-Security signature.
 */
export async function startWsSecSoapServer(options: WsSecServerOptions, listen: { host: string; port: number }): Promise<RunningServer> {
  const timeouts = httpTimeouts(options.timeouts);
  const gate: Gate = { kind: 'wssec', verifier: options.verifier, role: options.peerRole };
  const server: Server = createHttpServer(serverTimeoutOptions(timeouts), (req, res) => {
    void handle(options, gate, timeouts, req, res);
  });
  return listenOn(server, timeouts, listen);
}

async function listenOn(server: Server, timeouts: HttpTimeouts, listen: { host: string; port: number }): Promise<RunningServer> {
  applyServerTimeouts(server, timeouts);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    host: listen.host,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * The service URL written into the WSDL: the address and port this connection
 * was accepted on. Never the client's `Host` header, which would put
 * client-chosen text into the document.
 */
function serviceUrl(socket: { localAddress?: string | undefined; localPort?: number | undefined }, scheme: 'https' | 'http'): string {
  const address = socket.localAddress ?? '127.0.0.1';
  const host = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${socket.localPort ?? 0}/`;
}

const TEXT = { 'content-type': 'text/plain; charset=utf-8' } as const;
const XML = { 'content-type': 'text/xml; charset=utf-8' } as const;

type HandlerOptions = Pick<SoapServerOptions, 'maxRequestBytes' | 'wsdl' | 'operations' | 'logger' | 'onFault'>;

async function handle(options: HandlerOptions, gate: Gate, timeouts: HttpTimeouts, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const address = req.socket.remoteAddress ?? '?';
  const url = req.url ?? '/';
  const refuse = (status: number, headers: Record<string, string>, body: string, code: string) => {
    options.onFault?.(code);
    refuseAndClose(req, res, { status, headers, body, logger: options.logger, lingerMs: timeouts.lingerMs, fields: { code } });
  };
  if (req.method === 'GET' && /\?wsdl$/i.test(url)) {
    if (announcesBody(req)) return refuse(400, TEXT, 'GET ?wsdl takes no body\n', 'BAD_REQUEST');
    res.writeHead(200, XML);
    res.end(options.wsdl.replaceAll('EDGENET_SERVICE_URL', escapeXml(serviceUrl(req.socket, gate.kind === 'mtls' ? 'https' : 'http'))));
    return;
  }
  if (req.method !== 'POST') {
    return refuse(405, { allow: 'POST, GET', ...TEXT }, 'POST a SOAP envelope, or GET ?wsdl\n', 'METHOD_NOT_ALLOWED');
  }
  let operation = '?';
  const timing = new Timing();
  try {
    // Everything up to the body read is decided from the request head alone.
    if (declaredLength(req, options.maxRequestBytes) === 'too-large') throw tooLarge(options.maxRequestBytes);
    let who = admitHead(gate, req);
    timing.mark('auth');
    const body = await readLimitedBody(req, options.maxRequestBytes, { idleMs: timeouts.bodyIdleMs });
    timing.mark('body');
    // Base64 payloads are ASCII: latin1 decoding is a straight copy, utf8 only when needed.
    const text = isAscii(body) ? body.toString('latin1') : body.toString('utf8');
    timing.mark('text');
    refuseDtd(text, 'request');
    timing.mark('dtd');
    let element = bodyElement(text);
    timing.mark('parse');
    if (gate.kind === 'wssec') {
      const verified = gate.verifier.verify(text);
      element = verified.operation;
      who = { name: verified.signer, role: gate.role };
      timing.mark('wssec');
    }
    operation = element.name;
    const handler = Object.hasOwn(options.operations, operation) ? options.operations[operation] : undefined;
    if (!handler) throw new SoapRequestError('UNKNOWN_OPERATION', `unknown operation ${operation}`);
    const reply = await handler(element, { name: who.name, role: who.role, address }, timing);
    res.writeHead(200, XML);
    res.end(reply);
  } catch (err) {
    const code = err instanceof EdgenetError ? err.code : 'INTERNAL';
    const faultCode = err instanceof SoapRequestError ? err.faultCode : err instanceof EdgenetError ? 'Client' : 'Server';
    const status = err instanceof SoapRequestError ? err.httpStatus : 500;
    options.logger.warn('request refused', { operation, peer: address, code, error: errorMessage(err) });
    const fault = faultEnvelope(faultCode, code, errorMessage(err));
    // Refused before or while reading the body: answer and close, never drain it.
    if (!req.complete || status === 403 || status === 408 || status === 413) return refuse(status, XML, fault, code);
    options.onFault?.(code);
    if (!res.headersSent) res.writeHead(status, XML);
    res.end(fault);
  }
}

/**
 * What the request head proves. mTLS: the client certificate's name and role,
 * checked before a byte of the body is read. WS-Security: nothing yet (the
 * signature is in the body); the name is filled in once it verifies.
 */
function admitHead(gate: Gate, req: IncomingMessage): { name: string; role: Role } {
  switch (gate.kind) {
    case 'mtls': {
      const who = peerRole(req.socket as TLSSocket);
      if (!who.ok) throw new SoapRequestError('UNAUTHENTICATED', who.reason, { httpStatus: 403 });
      if (who.role !== gate.allowedRole) {
        throw new SoapRequestError('FORBIDDEN_ROLE', `certificate ${who.name} has role ${who.role}; only ${gate.allowedRole} may call this service`, { httpStatus: 403 });
      }
      return { name: who.name, role: who.role };
    }
    case 'wssec':
      return { name: '(unverified)', role: gate.role };
    default:
      return assertNever(gate);
  }
}
