/**
 * The HTTPS SOAP endpoint shared by the cluster and node controllers.
 *
 * Order of checks for a POST (each failure is a SOAP Fault, logged, and no
 * handler runs, so nothing changes):
 *   1. peer authentication — a client certificate from our CA with the one
 *      allowed role (before the body is read);
 *   2. size — Content-Length, then streamed bytes, against `maxRequestBytes`;
 *   3. DOCTYPE / ENTITY markup anywhere in the body;
 *   4. strict XML + SOAP envelope shape; the Body's element picks the operation.
 * `GET ?wsdl` returns the service's WSDL (public: it is the contract, not data).
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { isAscii } from 'node:buffer';
import type { Logger } from '../logger.ts';
import { EdgenetError, errorMessage } from '../errors.ts';
import { type TlsMaterial, type Role, serverTlsOptions, peerRole } from '../tls/material.ts';
import { readLimitedBody, refuseDtd, SoapRequestError } from './guard.ts';
import { bodyElement, faultEnvelope } from './envelope.ts';
import type { XmlElement } from './xml.ts';
import { Timing } from './timing.ts';

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
  /** WSDL text; `EDGENET_SERVICE_URL` in it is replaced by the URL the client used. */
  readonly wsdl: string;
  readonly operations: Readonly<Record<string, OperationHandler>>;
  readonly logger: Logger;
  /** Called with the code of every Fault sent (metrics). */
  readonly onFault?: (code: string) => void;
}

export interface RunningServer {
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

export async function startSoapServer(options: SoapServerOptions, listen: { host: string; port: number }): Promise<RunningServer> {
  const server: Server = createServer(serverTlsOptions(options.tls), (req, res) => {
    void handle(options, req, res);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('tlsClientError', (err) => options.logger.debug('TLS handshake failed', { error: err.message }));
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

async function handle(options: SoapServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const address = req.socket.remoteAddress ?? '?';
  const url = req.url ?? '/';
  if (req.method === 'GET' && /\?wsdl$/i.test(url)) {
    const location = `https://${req.headers.host ?? 'localhost'}/`;
    res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' });
    res.end(options.wsdl.replaceAll('EDGENET_SERVICE_URL', location));
    return;
  }
  if (req.method !== 'POST') {
    req.resume();
    res.writeHead(405, { allow: 'POST, GET', 'content-type': 'text/plain' });
    res.end('POST a SOAP envelope, or GET ?wsdl\n');
    return;
  }
  let operation = '?';
  const timing = new Timing();
  try {
    const who = peerRole(req.socket as TLSSocket);
    if (!who.ok) throw new SoapRequestError('UNAUTHENTICATED', who.reason, { httpStatus: 403 });
    if (who.role !== options.allowedRole) {
      throw new SoapRequestError('FORBIDDEN_ROLE', `certificate ${who.name} has role ${who.role}; only ${options.allowedRole} may call this service`, { httpStatus: 403 });
    }
    timing.mark('auth');
    const body = await readLimitedBody(req, options.maxRequestBytes);
    timing.mark('body');
    // Base64 payloads are ASCII: latin1 decoding is a straight copy, utf8 only when needed.
    const text = isAscii(body) ? body.toString('latin1') : body.toString('utf8');
    timing.mark('text');
    refuseDtd(text, 'request');
    timing.mark('dtd');
    const element = bodyElement(text);
    timing.mark('parse');
    operation = element.name;
    const handler = Object.hasOwn(options.operations, operation) ? options.operations[operation] : undefined;
    if (!handler) throw new SoapRequestError('UNKNOWN_OPERATION', `unknown operation ${operation}`);
    const reply = await handler(element, { name: who.name, role: who.role, address }, timing);
    res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' });
    res.end(reply);
  } catch (err) {
    const code = err instanceof EdgenetError ? err.code : 'INTERNAL';
    const faultCode = err instanceof SoapRequestError ? err.faultCode : err instanceof EdgenetError ? 'Client' : 'Server';
    const status = err instanceof SoapRequestError ? err.httpStatus : 500;
    options.logger.warn('request refused', { operation, peer: address, code, error: errorMessage(err) });
    options.onFault?.(code);
    if (!req.readableEnded) req.resume();
    if (!res.headersSent) {
      res.writeHead(status, { 'content-type': 'text/xml; charset=utf-8', ...(status === 413 ? { connection: 'close' } : {}) });
    }
    res.end(faultEnvelope(faultCode, code, errorMessage(err)));
  }
}
