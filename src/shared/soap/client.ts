/**
 * The SOAP client of the pipeline's hops (CLC → CC, CC → NC): one keep-alive
 * HTTPS agent per client presenting our certificate, verifying the server's
 * against our CA and the address dialled, and insisting on the server's role.
 * A call has a deadline and an abort signal (a newer document supersedes an
 * in-flight older one by aborting it). Faults come back as SoapFault.
 */
import { Agent, request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { type TlsMaterial, type Role, clientTlsOptions, peerRole } from '../tls/material.ts';
import { responseElement, envelope } from './envelope.ts';
import type { XmlElement } from './xml.ts';
import { EdgenetError } from '../errors.ts';
import type { Timing } from './timing.ts';

export interface CallOptions {
  readonly url: string;
  readonly operation: string;
  /** SOAPAction header, e.g. `EucalyptusCC#BroadcastNetworkInfo`. */
  readonly action: string;
  /** XML of the operation element's children. */
  readonly inner: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** The complete envelope, when the caller sends the same one many times (fan-out). */
  readonly payload?: Buffer;
  /** Marks envelope, socket, tls (new connections only), sent (all bytes handed to the socket), response (headers), end. */
  readonly timing?: Timing;
}

export class SoapClient {
  private readonly agent: Agent;

  constructor(private readonly options: { tls: TlsMaterial; expectRole: Role; maxSockets?: number; maxResponseBytes?: number }) {
    this.agent = new Agent({ ...clientTlsOptions(options.tls), keepAlive: true, maxSockets: options.maxSockets ?? 16 });
  }

  async call(call: CallOptions): Promise<XmlElement> {
    const payload = call.payload ?? envelope(call.operation, call.inner);
    const timing = call.timing;
    timing?.mark('envelope');
    const signals = [AbortSignal.timeout(call.timeoutMs), ...(call.signal ? [call.signal] : [])];
    const signal = AbortSignal.any(signals);
    const limit = this.options.maxResponseBytes ?? 16 * 1024 * 1024;
    const text = await new Promise<string>((resolve, reject) => {
      const req = request(
        call.url,
        {
          method: 'POST',
          agent: this.agent,
          signal,
          headers: {
            'content-type': 'text/xml; charset=utf-8',
            'content-length': Buffer.byteLength(payload),
            soapaction: `"${call.action}"`,
          },
        },
        (res) => {
          timing?.mark('response');
          const who = peerRole(res.socket as TLSSocket);
          if (!who.ok || who.role !== this.options.expectRole) {
            res.destroy();
            reject(new EdgenetError('PEER_ROLE', `server at ${call.url} is not a ${this.options.expectRole}: ${who.ok ? `role ${who.role}` : who.reason}`));
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > limit) res.destroy(new EdgenetError('RESPONSE_TOO_LARGE', `response from ${call.url} exceeds ${limit} bytes`));
            else chunks.push(c);
          });
          res.on('end', () => {
            timing?.mark('end');
            resolve(Buffer.concat(chunks).toString('utf8'));
          });
          res.on('error', reject);
        },
      );
      req.on('error', (err) => {
        if (signal.aborted) {
          const why = call.signal?.aborted ? 'ABORTED' : 'TIMEOUT';
          reject(new EdgenetError(why, why === 'TIMEOUT' ? `${call.operation} to ${call.url} timed out after ${call.timeoutMs} ms` : `${call.operation} to ${call.url} aborted`, { cause: err }));
        } else {
          reject(new EdgenetError('UNREACHABLE', `${call.operation} to ${call.url}: ${err.message}`, { cause: err }));
        }
      });
      if (timing) {
        req.once('socket', (socket) => {
          timing.mark('socket');
          // A new connection (no idle keep-alive socket): its handshake shows as a `tls` mark.
          if (!req.reusedSocket) socket.once('secureConnect', () => timing.mark('tls'));
        });
        req.once('finish', () => timing.mark('sent'));
      }
      req.end(payload);
    });
    return responseElement(text);
  }

  close(): void {
    this.agent.destroy();
  }
}
