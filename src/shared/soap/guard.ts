/**
 * The request guard in front of the SOAP parser. It refuses, before any XML is
 * parsed: bodies over the size limit (by Content-Length up front, and while
 * streaming for chunked bodies, so an oversized request never fills memory),
 * bodies that are not UTF-8 text, and XML that carries a DOCTYPE or entity
 * definitions (the parser refuses those too; checking here gives a distinct,
 * early error and covers the decoded GNI documents as well).
 */
import type { IncomingMessage } from 'node:http';
import { EdgenetError } from '../errors.ts';
import type { ErrorCode } from '../error-codes.ts';
import type { Timing } from './timing.ts';
import { watchBodyIdle } from '../http-guard.ts';

export const DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024;

/** A request refused by the guard or the parser; becomes a SOAP Fault. */
export class SoapRequestError extends EdgenetError {
  /** `Client` (the sender's fault) or `Server`. */
  readonly faultCode: 'Client' | 'Server';
  readonly httpStatus: number;

  constructor(code: ErrorCode, message: string, options: { faultCode?: 'Client' | 'Server'; httpStatus?: number; cause?: unknown } = {}) {
    super(code, message, { cause: options.cause });
    this.name = 'SoapRequestError';
    this.faultCode = options.faultCode ?? 'Client';
    this.httpStatus = options.httpStatus ?? 500;
  }
}

/**
 * Reads the whole body, refusing more than `maxBytes` (HTTP 413 Fault) and a
 * pause longer than `idleMs` between chunks (HTTP 408 Fault). With a
 * Content-Length the body is copied chunk by chunk into one buffer of that
 * size as it arrives (no final concatenation of megabytes after the last
 * chunk). On a refusal the request is paused, never drained: the caller
 * answers and closes the connection (shared/http-guard.ts).
 */
export function readLimitedBody(req: IncomingMessage, maxBytes: number, options: { idleMs?: number } = {}): Promise<Buffer> {
  const declared = req.headers['content-length'];
  let into: Buffer | undefined;
  if (declared !== undefined) {
    const length = Number(declared);
    if (!/^\d{1,16}$/.test(declared) || !Number.isSafeInteger(length)) {
      return Promise.reject(new SoapRequestError('BAD_REQUEST', 'invalid Content-Length', { httpStatus: 400 }));
    }
    if (length > maxBytes) return Promise.reject(tooLarge(maxBytes));
    into = Buffer.allocUnsafe(length);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (err: SoapRequestError) => {
      if (done) return;
      done = true;
      stopIdle();
      chunks.length = 0;
      req.pause();
      reject(err);
    };
    const stopIdle = options.idleMs === undefined ? () => {} : watchBodyIdle(req, options.idleMs, () => fail(new SoapRequestError('REQUEST_TIMEOUT', `no request body data for ${options.idleMs} ms`, { httpStatus: 408 })));
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      if (size + chunk.length > maxBytes) return fail(tooLarge(maxBytes));
      if (into && size + chunk.length <= into.length) chunk.copy(into, size);
      else {
        // More than declared (the HTTP parser does not deliver that; kept correct anyway).
        if (into) chunks.push(into.subarray(0, size));
        into = undefined;
        chunks.push(chunk);
      }
      size += chunk.length;
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      stopIdle();
      if (into) resolve(size === into.length ? into : into.subarray(0, size));
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on('error', (err) => fail(new SoapRequestError('BAD_REQUEST', `request body: ${err.message}`, { httpStatus: 400, cause: err })));
  });
}

export function tooLarge(maxBytes: number): SoapRequestError {
  return new SoapRequestError('REQUEST_TOO_LARGE', `request body exceeds ${maxBytes} bytes`, { httpStatus: 413 });
}

const DTD_KEYWORDS = /^(?:DOCTYPE|ENTITY|ELEMENT|ATTLIST)/i;

/**
 * Throws XML_DTD_FORBIDDEN when `xml` declares a document type or entities.
 * Works on bytes too (the decoded GNI): `indexOf('<!')` is a fast byte search,
 * and only its few hits (comments, CDATA) are looked at.
 */
export function refuseDtd(xml: string | Buffer, what: string): void {
  for (let at = xml.indexOf('<!'); at !== -1; at = xml.indexOf('<!', at + 2)) {
    const next = typeof xml === 'string' ? xml.slice(at + 2, at + 9) : xml.toString('latin1', at + 2, at + 9);
    if (DTD_KEYWORDS.test(next)) {
      throw new SoapRequestError('XML_DTD_FORBIDDEN', `${what}: document type declarations and entity definitions are not accepted`);
    }
  }
}

const BASE64 = /^[A-Za-z0-9+/\r\n\t ]*={0,2}[\r\n\t ]*$/;
const BASE64_CHARS = /[^A-Za-z0-9+/=]/;

/**
 * Decodes strict Base64 (whitespace allowed, as line-wrapped encoders emit it).
 * Fast path for unwrapped multi-megabyte payloads: Node's decoder skips
 * characters outside the alphabet, so a decoded length that matches the text
 * length proves every character decoded; the url-safe `-`/`_` it also accepts
 * and padding in the middle are ruled out separately. Anything else (wrapped
 * lines, odd lengths) goes through the full regex.
 */
export function decodeBase64Strict(text: string, what: string): Buffer {
  if (text.length % 4 === 0) {
    const decoded = Buffer.from(text, 'base64');
    const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
    if (decoded.length === (text.length / 4) * 3 - pad && !text.includes('-') && !text.includes('_') && !BASE64_CHARS.test(text.slice(-4))) return decoded;
  }
  if (!BASE64.test(text)) throw new SoapRequestError('BAD_BASE64', `${what} is not valid Base64`);
  return Buffer.from(text, 'base64');
}

/**
 * The `networkInfo` field of a broadcast (CC and NC alike): strict Base64 to
 * bytes, then no DOCTYPE/ENTITY in the GNI inside; marks `decode` and
 * `dtdGni` on the request's timing.
 */
export function decodeNetworkInfo(networkInfo: string, timing: Timing): Buffer {
  const xml = decodeBase64Strict(networkInfo, 'networkInfo');
  timing.mark('decode');
  refuseDtd(xml, 'networkInfo');
  timing.mark('dtdGni');
  return xml;
}
